/* The SANE backend against SANE's real `test` backend (SANE_CONFIG_DIR points
 * at data/sane, whose dll.conf loads only `test`: devices test:0 and test:1). */
#include "backends/backend.h"
#include "backends/sane-private.h"
#include "scand/base/error.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

/* ---- an in-memory page sink ------------------------------------------------- */

typedef struct {
  ScandPageHeader header;
  GByteArray *data;
} TestPage;

typedef struct {
  ScandPageSink sink;
  GPtrArray *pages; /* TestPage*, completed pages */
  TestPage *current;
  guint begins, ends, aborts, writes;
  /* For the cancel test: signalled at the first write. */
  GMutex lock;
  GCond cond;
  gboolean written;
  gboolean fail_writes; /* write() fails like a full disk */
} TestSink;

static void test_page_free(TestPage *page) {
  g_byte_array_unref(page->data);
  g_free(page);
}

static gboolean test_sink_begin(ScandPageSink *sink, const ScandPageHeader *header, GError **error) {
  TestSink *t = (TestSink *) sink;
  g_assert_null(t->current);
  t->begins++;
  t->current = g_new0(TestPage, 1);
  t->current->header = *header;
  t->current->data = g_byte_array_new();
  return TRUE;
}

static gboolean test_sink_write(ScandPageSink *sink, const void *data, gsize len, GError **error) {
  TestSink *t = (TestSink *) sink;
  g_assert_nonnull(t->current);
  if (t->fail_writes) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE, "spool: no space left on device");
    return FALSE;
  }
  g_byte_array_append(t->current->data, data, len);
  g_mutex_lock(&t->lock);
  t->writes++;
  t->written = TRUE;
  g_cond_broadcast(&t->cond);
  g_mutex_unlock(&t->lock);
  return TRUE;
}

static gboolean test_sink_end(ScandPageSink *sink, GError **error) {
  TestSink *t = (TestSink *) sink;
  g_assert_nonnull(t->current);
  t->ends++;
  g_ptr_array_add(t->pages, t->current);
  t->current = NULL;
  return TRUE;
}

static void test_sink_abort(ScandPageSink *sink) {
  TestSink *t = (TestSink *) sink;
  g_assert_nonnull(t->current);
  t->aborts++;
  test_page_free(t->current);
  t->current = NULL;
}

static void test_sink_init(TestSink *t) {
  memset(t, 0, sizeof(*t));
  t->sink.begin = test_sink_begin;
  t->sink.write = test_sink_write;
  t->sink.end = test_sink_end;
  t->sink.abort = test_sink_abort;
  t->pages = g_ptr_array_new_with_free_func((GDestroyNotify) test_page_free);
  g_mutex_init(&t->lock);
  g_cond_init(&t->cond);
}

static void test_sink_clear(TestSink *t) {
  g_assert_null(t->current);
  g_ptr_array_unref(t->pages);
  g_mutex_clear(&t->lock);
  g_cond_clear(&t->cond);
}

static TestPage *test_sink_page(TestSink *t, guint i) {
  g_assert_cmpuint(i, <, t->pages->len);
  return t->pages->pdata[i];
}

static char *page_checksum(TestPage *page) {
  return g_compute_checksum_for_data(G_CHECKSUM_SHA256, page->data->data, page->data->len);
}

/* Bytes a raw page of this header must have. */
static gsize page_expected_bytes(const ScandPageHeader *h, int height) {
  switch (h->format) {
    case SCAND_PAGE_BW1:
      return (gsize) (h->width + 7) / 8 * height;
    case SCAND_PAGE_GRAY8:
      return (gsize) h->width * height;
    case SCAND_PAGE_RGB24:
      return (gsize) h->width * 3 * height;
    default:
      g_assert_not_reached();
  }
}

/* ---- helpers ------------------------------------------------------------------ */

static ScandScanSettings base_settings(void) {
  ScandScanSettings s = {
    .source = SCAND_SOURCE_FLATBED,
    .mode = SCAND_MODE_GRAY,
    .resolution = 50,
    .width = 40,
    .height = 30,
  };
  return s;
}

/* Opens uri, starts a job with settings and reads pages into sink until the
 * job ends. Returns FALSE with error set when opening, starting or a page
 * fails; *pages counts the pages read. */
static gboolean run_job(const char *uri, const ScandScanSettings *settings, ScandScanSettings *effective,
                        TestSink *sink, GError **error) {
  g_autoptr(ScandScanner) scanner = scand_scanner_open(uri, NULL, error);
  if (!scanner)
    return FALSE;
  if (!scand_scanner_start(scanner, settings, effective, error))
    return FALSE;
  for (guint guard = 0; guard < 100; guard++) {
    gboolean got = FALSE;
    if (!scand_scanner_read_page(scanner, &sink->sink, &got, error))
      return FALSE;
    if (!got) {
      /* The end is stable. */
      g_assert_true(scand_scanner_read_page(scanner, &sink->sink, &got, NULL));
      g_assert_false(got);
      return TRUE;
    }
  }
  g_assert_not_reached();
}

static void assert_pages_complete(TestSink *sink) {
  for (guint i = 0; i < sink->pages->len; i++) {
    TestPage *page = test_sink_page(sink, i);
    g_assert_cmpint(page->header.height, >, 0);
    g_assert_cmpuint(page->data->len, ==, page_expected_bytes(&page->header, page->header.height));
  }
}

/* ---- tests -------------------------------------------------------------------- */

static void test_list(void) {
  g_autoptr(GPtrArray) devices = scand_backend_list_devices();
  gboolean seen0 = FALSE, seen1 = FALSE;
  for (guint i = 0; i < devices->len; i++) {
    ScandDeviceInfo *info = devices->pdata[i];
    if (g_str_equal(info->uri, "sane:test:0")) {
      seen0 = TRUE;
      g_assert_cmpstr(info->name, ==, "test:0");
      g_assert_cmpstr(info->vendor, ==, "Noname");
      g_assert_cmpstr(info->model, ==, "frontend-tester");
      g_assert_cmpstr(info->type, ==, "virtual device");
    }
    if (g_str_equal(info->uri, "sane:test:1"))
      seen1 = TRUE;
  }
  g_assert_true(seen0);
  g_assert_true(seen1);
}

/* list and open overlap: listing while a device is open must not sane_exit()
 * under it, and two devices can be open together. */
static void test_refcount(void) {
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandScanner) a = scand_scanner_open("sane:test:0", NULL, &error);
  g_assert_no_error(error);
  g_autoptr(ScandScanner) b = scand_scanner_open("sane:test:1", NULL, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(scand_scanner_get_name(a), ==, "test:0");
  g_assert_cmpstr(scand_scanner_get_uri(b), ==, "sane:test:1");
  g_autoptr(GPtrArray) devices = scand_backend_list_devices();
  g_assert_cmpuint(devices->len, >=, 2);

  ScandScanSettings settings = base_settings();
  TestSink sink;
  test_sink_init(&sink);
  g_assert_true(scand_scanner_start(a, &settings, NULL, &error));
  g_assert_no_error(error);
  gboolean got = FALSE;
  g_assert_true(scand_scanner_read_page(a, &sink.sink, &got, &error));
  g_assert_no_error(error);
  g_assert_true(got);
  g_clear_pointer(&b, scand_scanner_close);
  g_assert_true(scand_scanner_start(a, &settings, NULL, &error));
  g_assert_true(scand_scanner_read_page(a, &sink.sink, &got, &error));
  g_assert_no_error(error);
  g_assert_true(got);
  g_assert_cmpuint(sink.pages->len, ==, 2);
  test_sink_clear(&sink);
}

static void test_feeder_ten(void) {
  g_autoptr(GError) error = NULL;
  ScandScanSettings settings = base_settings(), effective;
  settings.source = SCAND_SOURCE_FEEDER;
  TestSink sink;
  test_sink_init(&sink);
  g_assert_true(run_job("sane:test:0", &settings, &effective, &sink, &error));
  g_assert_no_error(error);
  g_assert_cmpint(effective.source, ==, SCAND_SOURCE_FEEDER);
  g_assert_cmpuint(effective.max_pages, ==, 0);
  g_assert_cmpuint(sink.pages->len, ==, 10);
  g_assert_cmpuint(sink.begins, ==, 10);
  g_assert_cmpuint(sink.aborts, ==, 0);
  assert_pages_complete(&sink);
  test_sink_clear(&sink);
}

static void test_feeder_max_pages(void) {
  g_autoptr(GError) error = NULL;
  ScandScanSettings settings = base_settings(), effective;
  settings.source = SCAND_SOURCE_FEEDER;
  settings.max_pages = 3;
  TestSink sink;
  test_sink_init(&sink);
  g_assert_true(run_job("sane:test:0", &settings, &effective, &sink, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(effective.max_pages, ==, 3);
  g_assert_cmpuint(sink.pages->len, ==, 3);
  test_sink_clear(&sink);
}

/* The test backend's feeder is empty at its 11th sane_start(): a job that
 * starts then gets NO_DOCS, not an empty success. */
static void test_feeder_empty_at_start(void) {
  g_autoptr(GError) error = NULL;
  ScandScanSettings settings = base_settings();
  settings.source = SCAND_SOURCE_FEEDER;
  settings.max_pages = 10;
  TestSink sink;
  test_sink_init(&sink);
  g_autoptr(ScandScanner) scanner = scand_scanner_open("sane:test:1", NULL, &error);
  g_assert_no_error(error);
  g_assert_true(scand_scanner_start(scanner, &settings, NULL, &error));
  gboolean got = TRUE;
  while (scand_scanner_read_page(scanner, &sink.sink, &got, &error) && got)
    ;
  g_assert_no_error(error);
  g_assert_cmpuint(sink.pages->len, ==, 10);
  g_assert_false(scand_scanner_start(scanner, &settings, NULL, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_NO_DOCS);
  g_assert_nonnull(strstr(error->message, "test:1"));
  g_assert_nonnull(strstr(error->message, "feeder is empty"));
  test_sink_clear(&sink);
}

static void test_flatbed_one(void) {
  g_autoptr(GError) error = NULL;
  ScandScanSettings settings = base_settings(), effective;
  settings.max_pages = 5;
  TestSink sink;
  test_sink_init(&sink);
  g_assert_true(run_job("sane:test:0", &settings, &effective, &sink, &error));
  g_assert_no_error(error);
  g_assert_cmpint(effective.source, ==, SCAND_SOURCE_FLATBED);
  g_assert_cmpuint(effective.max_pages, ==, 1);
  g_assert_cmpuint(sink.pages->len, ==, 1);
  test_sink_clear(&sink);
}

/* Scans one flatbed page with extra options; returns it (sink keeps it). */
static TestPage *scan_one(TestSink *sink, ScandScanSettings *settings, ScandScanSettings *effective) {
  g_autoptr(GError) error = NULL;
  ScandScanSettings dummy;
  g_assert_true(run_job("sane:test:0", settings, effective ? effective : &dummy, sink, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(sink->pages->len, ==, 1);
  return test_sink_page(sink, 0);
}

static void test_gray_white(void) {
  const char *extra[] = { "test-picture=Solid white", NULL };
  ScandScanSettings settings = base_settings(), effective;
  settings.extra_options = (GStrv) extra;
  TestSink sink;
  test_sink_init(&sink);
  TestPage *page = scan_one(&sink, &settings, &effective);
  g_assert_cmpint(effective.mode, ==, SCAND_MODE_GRAY);
  g_assert_cmpint(page->header.format, ==, SCAND_PAGE_GRAY8);
  /* 40 mm x 30 mm at 50 dpi */
  g_assert_cmpint(page->header.width, ==, 78);
  g_assert_cmpint(page->header.height, ==, 59);
  g_assert_cmpint(page->header.xres, ==, 50);
  g_assert_cmpuint(page->data->len, ==, 78 * 59);
  for (guint i = 0; i < page->data->len; i++)
    g_assert_cmpuint(page->data->data[i], ==, 255);
  test_sink_clear(&sink);
}

static void test_color(void) {
  const char *extra[] = { "test-picture=Color pattern", NULL };
  ScandScanSettings settings = base_settings(), effective;
  settings.mode = SCAND_MODE_COLOR;
  settings.extra_options = (GStrv) extra;
  TestSink sink;
  test_sink_init(&sink);
  TestPage *page = scan_one(&sink, &settings, &effective);
  g_assert_cmpint(effective.mode, ==, SCAND_MODE_COLOR);
  g_assert_cmpint(page->header.format, ==, SCAND_PAGE_RGB24);
  g_assert_cmpuint(page->data->len, ==, (gsize) page->header.width * page->header.height * 3);
  /* A colour pattern has pixels whose channels differ. */
  gboolean colourful = FALSE;
  for (guint i = 0; i + 2 < page->data->len && !colourful; i += 3)
    colourful = page->data->data[i] != page->data->data[i + 1] || page->data->data[i + 1] != page->data->data[i + 2];
  g_assert_true(colourful);
  test_sink_clear(&sink);
}

static void test_lineart_black(void) {
  const char *extra[] = { "test-picture=Solid black", NULL };
  ScandScanSettings settings = base_settings(), effective;
  settings.mode = SCAND_MODE_LINEART;
  settings.extra_options = (GStrv) extra;
  TestSink sink;
  test_sink_init(&sink);
  TestPage *page = scan_one(&sink, &settings, &effective);
  g_assert_cmpint(effective.mode, ==, SCAND_MODE_LINEART);
  g_assert_cmpint(page->header.format, ==, SCAND_PAGE_BW1);
  int w = page->header.width, h = page->header.height;
  g_assert_cmpint(w, ==, 78);
  g_assert_cmpuint(page->data->len, ==, (gsize) (w + 7) / 8 * h);
  int row = (w + 7) / 8;
  for (int y = 0; y < h; y++)
    for (int x = 0; x < w; x++)
      g_assert_true(page->data->data[y * row + x / 8] & (0x80 >> (x % 8)));
  test_sink_clear(&sink);

  /* Lineart after lineart: a later gray job gets 8 bits again. */
  settings.mode = SCAND_MODE_GRAY;
  settings.extra_options = NULL;
  test_sink_init(&sink);
  page = scan_one(&sink, &settings, &effective);
  g_assert_cmpint(page->header.format, ==, SCAND_PAGE_GRAY8);
  test_sink_clear(&sink);
}

/* 16-bit samples keep their high byte (SANE sends host byte order). The test
 * backend's 16-bit gray "Color pattern" has rows whose samples are
 * 0x0010, 0x0110, 0x0210, ...: right means 0, 1, 2, ...; the wrong byte gives
 * 0x10 everywhere, which the backend's invert-endianess option demonstrates. */
static void test_depth16(void) {
  const char *extra16[] = { "test-picture=Color pattern", "depth=16", NULL };
  const char *extra16x[] = { "test-picture=Color pattern", "depth=16", "invert-endianess=yes", NULL };
  const char *const *extras[] = { extra16, extra16x };
  for (guint k = 0; k < 2; k++) {
    ScandScanSettings settings = base_settings();
    settings.extra_options = (GStrv) extras[k];
    TestSink sink;
    test_sink_init(&sink);
    TestPage *page = scan_one(&sink, &settings, NULL);
    g_assert_cmpint(page->header.format, ==, SCAND_PAGE_GRAY8);
    g_assert_cmpint(page->header.width, ==, 78);
    g_assert_cmpuint(page->data->len, ==, 78 * 59);
    const guint8 *row = page->data->data + 20 * 78 + 4;
    for (guint x = 0; x < 8; x++)
      g_assert_cmpuint(row[x], ==, k == 0 ? x : 0x10);
    test_sink_clear(&sink);
  }
  /* Colour at 16 bits: full-size RGB24 page, white stays 255. */
  const char *white[] = { "test-picture=Solid white", "depth=16", NULL };
  ScandScanSettings settings = base_settings();
  settings.mode = SCAND_MODE_COLOR;
  settings.extra_options = (GStrv) white;
  TestSink sink;
  test_sink_init(&sink);
  TestPage *page = scan_one(&sink, &settings, NULL);
  g_assert_cmpint(page->header.format, ==, SCAND_PAGE_RGB24);
  g_assert_cmpuint(page->data->len, ==, 78 * 59 * 3);
  for (guint i = 0; i < page->data->len; i++)
    g_assert_cmpuint(page->data->data[i], ==, 255);
  test_sink_clear(&sink);
}

/* Three-pass frames interleave into exactly the single-pass RGB page,
 * whatever order the passes come in. */
static void test_three_pass(void) {
  const char *single[] = { "test-picture=Color pattern", NULL };
  const char *rgb[] = { "test-picture=Color pattern", "three-pass=yes", NULL };
  const char *gbr[] = { "test-picture=Color pattern", "three-pass=yes", "three-pass-order=GBR", NULL };
  const char *const *extras[] = { single, rgb, gbr };
  g_autofree char *sums[3] = { NULL, NULL, NULL };
  for (guint k = 0; k < 3; k++) {
    ScandScanSettings settings = base_settings();
    settings.mode = SCAND_MODE_COLOR;
    settings.extra_options = (GStrv) extras[k];
    TestSink sink;
    test_sink_init(&sink);
    TestPage *page = scan_one(&sink, &settings, NULL);
    g_assert_cmpint(page->header.format, ==, SCAND_PAGE_RGB24);
    g_assert_cmpint(page->header.width, ==, 78);
    g_assert_cmpint(page->header.height, ==, 59);
    g_assert_cmpuint(page->data->len, ==, 78 * 59 * 3);
    sums[k] = page_checksum(page);
    test_sink_clear(&sink);
  }
  g_assert_cmpstr(sums[0], ==, sums[1]);
  g_assert_cmpstr(sums[0], ==, sums[2]);
}

/* A hand scanner does not know the height: header -1, the bytes say it. The
 * test backend fixes its width at 110 mm and sends 170 mm. */
static void test_hand_scanner(void) {
  const char *extra[] = { "hand-scanner=yes", "test-picture=Solid white", NULL };
  ScandScanSettings settings = base_settings();
  settings.extra_options = (GStrv) extra;
  TestSink sink;
  test_sink_init(&sink);
  TestPage *page = scan_one(&sink, &settings, NULL);
  g_assert_cmpint(page->header.height, ==, -1);
  int w = page->header.width;
  g_assert_cmpint(w, ==, (int) (50 * 110 / 25.4));
  g_assert_cmpuint(page->data->len % w, ==, 0);
  g_assert_cmpint((int) (page->data->len / w), ==, (int) (50 * 170 / 25.4));
  test_sink_clear(&sink);

  /* Unknown height and three passes together: the same page as one pass. */
  const char *one[] = { "hand-scanner=yes", "test-picture=Color pattern", NULL };
  const char *three[] = { "hand-scanner=yes", "test-picture=Color pattern", "three-pass=yes", "three-pass-order=BRG",
                          NULL };
  const char *const *extras[] = { one, three };
  g_autofree char *sums[2] = { NULL, NULL };
  for (guint k = 0; k < 2; k++) {
    settings.mode = SCAND_MODE_COLOR;
    settings.extra_options = (GStrv) extras[k];
    test_sink_init(&sink);
    page = scan_one(&sink, &settings, NULL);
    g_assert_cmpint(page->header.format, ==, SCAND_PAGE_RGB24);
    g_assert_cmpuint(page->data->len, ==, (gsize) page->header.width * 3 * (int) (50 * 170 / 25.4));
    sums[k] = page_checksum(page);
    test_sink_clear(&sink);
  }
  g_assert_cmpstr(sums[0], ==, sums[1]);
}

/* Frontend-torture options of the test backend change nothing in the page. */
static void test_torture_options(void) {
  const char *plain[] = { "test-picture=Grid", NULL };
  const char *limit[] = { "test-picture=Grid", "read-limit=yes", "read-limit-size=7", NULL };
  const char *fuzzy[] = { "test-picture=Grid", "fuzzy-parameters=yes", NULL };
  const char *const *extras[] = { plain, limit, fuzzy };
  g_autofree char *sums[3] = { NULL, NULL, NULL };
  for (guint k = 0; k < 3; k++) {
    ScandScanSettings settings = base_settings();
    settings.extra_options = (GStrv) extras[k];
    TestSink sink;
    test_sink_init(&sink);
    TestPage *page = scan_one(&sink, &settings, NULL);
    g_assert_cmpint(page->header.width, ==, 78);
    g_assert_cmpint(page->header.height, ==, 59);
    sums[k] = page_checksum(page);
    test_sink_clear(&sink);
  }
  g_assert_cmpstr(sums[0], ==, sums[1]);
  g_assert_cmpstr(sums[0], ==, sums[2]);

  /* ppl-loss: fewer pixels than the bytes per line hold. */
  for (ScandColorMode mode = SCAND_MODE_COLOR; mode <= SCAND_MODE_LINEART; mode++) {
    const char *loss[] = { "test-picture=Solid white", "ppl-loss=5", NULL };
    ScandScanSettings settings = base_settings();
    settings.mode = mode;
    settings.extra_options = (GStrv) loss;
    TestSink sink;
    test_sink_init(&sink);
    TestPage *page = scan_one(&sink, &settings, NULL);
    g_assert_cmpint(page->header.width, ==, 78 - 5);
    g_assert_cmpuint(page->data->len, ==, page_expected_bytes(&page->header, page->header.height));
    test_sink_clear(&sink);
  }
}

static void test_resolution(void) {
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandScanner) scanner = scand_scanner_open("sane:test:0", NULL, &error);
  g_assert_no_error(error);
  ScandScanSettings settings = base_settings(), effective;
  settings.resolution = 5000; /* above the 1200 dpi maximum */
  /* Small enough that the test backend's reader thread finishes before the
   * next start cancels this job: it cancels its reader asynchronously, and a
   * reader stuck writing into a full pipe dies inside strerror() holding a
   * libc lock. */
  settings.width = 5;
  settings.height = 5;
  g_assert_true(scand_scanner_start(scanner, &settings, &effective, &error));
  g_assert_no_error(error);
  g_assert_cmpint(effective.resolution, ==, 1200);
  /* The device default (the test backend's is not even in its own range)
   * becomes a valid resolution. */
  settings.resolution = 0;
  g_assert_true(scand_scanner_start(scanner, &settings, &effective, &error));
  g_assert_cmpint(effective.resolution, >=, 1);
  g_assert_cmpint(effective.resolution, <=, 1200);
  settings.resolution = 75;
  g_assert_true(scand_scanner_start(scanner, &settings, &effective, &error));
  g_assert_cmpint(effective.resolution, ==, 75);
  TestSink sink;
  test_sink_init(&sink);
  gboolean got = FALSE;
  g_assert_true(scand_scanner_read_page(scanner, &sink.sink, &got, &error));
  g_assert_no_error(error);
  g_assert_true(got);
  g_assert_cmpint(test_sink_page(&sink, 0)->header.xres, ==, 75);
  g_assert_cmpint(test_sink_page(&sink, 0)->header.width, ==, (int) (75 * 5 / 25.4));
  test_sink_clear(&sink);
}

static void test_constrain_word(void) {
  SANE_Word list[] = { 4, 75, 150, 300, 600 };
  SANE_Option_Descriptor d = { .type = SANE_TYPE_INT, .constraint_type = SANE_CONSTRAINT_WORD_LIST };
  d.constraint.word_list = list;
  g_assert_cmpint(scand_sane_constrain_word(&d, 200), ==, 150);
  g_assert_cmpint(scand_sane_constrain_word(&d, 225), ==, 300); /* tie: the larger */
  g_assert_cmpint(scand_sane_constrain_word(&d, 1), ==, 75);
  g_assert_cmpint(scand_sane_constrain_word(&d, 9999), ==, 600);
  g_assert_false(scand_sane_word_is_valid(&d, 200));
  SANE_Range range = { .min = SANE_FIX(50), .max = SANE_FIX(1200), .quant = SANE_FIX(25) };
  SANE_Option_Descriptor f = { .type = SANE_TYPE_FIXED, .constraint_type = SANE_CONSTRAINT_RANGE };
  f.constraint.range = &range;
  g_assert_cmpint(scand_sane_constrain_word(&f, SANE_FIX(310)), ==, SANE_FIX(300));
  g_assert_cmpint(scand_sane_constrain_word(&f, SANE_FIX(10)), ==, SANE_FIX(50));
  g_assert_cmpint(scand_sane_constrain_word(&f, SANE_FIX(5000)), ==, SANE_FIX(1200));
  g_assert_cmpint(scand_sane_source_kind("ADF Duplex"), ==, SCAND_SANE_SOURCE_ADF_DUPLEX);
  g_assert_cmpint(scand_sane_source_kind("Automatic Document Feeder"), ==, SCAND_SANE_SOURCE_ADF);
  g_assert_cmpint(scand_sane_source_kind("ADF Back"), ==, SCAND_SANE_SOURCE_ADF_BACK);
  g_assert_cmpint(scand_sane_source_kind("Platen"), ==, SCAND_SANE_SOURCE_FLATBED);
  g_assert_cmpint(scand_sane_source_kind("Transparency Adapter"), ==, SCAND_SANE_SOURCE_OTHER);
  g_assert_cmpint(scand_sane_mode_kind("Black & White"), ==, SCAND_SANE_MODE_LINEART);
  g_assert_cmpint(scand_sane_mode_kind("Binary"), ==, SCAND_SANE_MODE_LINEART);
  g_assert_cmpint(scand_sane_mode_kind("True Gray"), ==, SCAND_SANE_MODE_GRAY);
  g_assert_cmpint(scand_sane_mode_kind("24bit Color"), ==, SCAND_SANE_MODE_COLOR);
  g_assert_cmpint(scand_sane_mode_kind("Color Lineart"), ==, SCAND_SANE_MODE_OTHER);
  g_assert_cmpint(scand_sane_mode_kind("Halftone"), ==, SCAND_SANE_MODE_HALFTONE);
}

static void test_line_format_rejects_bad_parameters(void) {
  g_autoptr(GError) error = NULL;
  ScandSaneLineFormat fmt;
  SANE_Parameters p = { .format = SANE_FRAME_RGB,
                        .last_frame = SANE_TRUE,
                        .bytes_per_line = 10,
                        .pixels_per_line = 10,
                        .lines = 5,
                        .depth = 8 };
  g_assert_false(scand_sane_line_format_init(&fmt, &p, "dev", &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_FAILED);
  g_assert_nonnull(strstr(error->message, "dev"));
  g_clear_error(&error);
  p.bytes_per_line = 30;
  p.depth = 4;
  g_assert_false(scand_sane_line_format_init(&fmt, &p, "dev", &error));
  g_clear_error(&error);
  p.depth = 8;
  p.format = (SANE_Frame) 42;
  g_assert_false(scand_sane_line_format_init(&fmt, &p, "dev", &error));
  g_clear_error(&error);
  /* 16-bit in host order keeps the high byte; 1-bit padding is cleared. */
  p.format = SANE_FRAME_GRAY;
  p.depth = 16;
  p.pixels_per_line = 2;
  p.bytes_per_line = 4;
  g_assert_true(scand_sane_line_format_init(&fmt, &p, "dev", &error));
  guint16 in16[2] = { 0x12ff, 0xab00 };
  guint8 out[4];
  scand_sane_line_convert(&fmt, (const guint8 *) in16, out);
  g_assert_cmpuint(out[0], ==, 0x12);
  g_assert_cmpuint(out[1], ==, 0xab);
  p.depth = 1;
  p.pixels_per_line = 3;
  p.bytes_per_line = 2;
  g_assert_true(scand_sane_line_format_init(&fmt, &p, "dev", &error));
  g_assert_cmpint(fmt.page_format, ==, SCAND_PAGE_BW1);
  guint8 in1[2] = { 0xff, 0xff };
  scand_sane_line_convert(&fmt, in1, out);
  g_assert_cmpuint(fmt.out_bytes, ==, 1);
  g_assert_cmpuint(out[0], ==, 0xe0);
}

static void test_area(void) {
  ScandScanSettings settings = base_settings(), effective;
  settings.resolution = 100;
  settings.x = 10;
  settings.y = 20;
  settings.width = 50;
  settings.height = 30;
  TestSink sink;
  test_sink_init(&sink);
  TestPage *page = scan_one(&sink, &settings, &effective);
  g_assert_cmpfloat_with_epsilon(effective.x, 10, 0.01);
  g_assert_cmpfloat_with_epsilon(effective.y, 20, 0.01);
  g_assert_cmpfloat_with_epsilon(effective.width, 50, 0.01);
  g_assert_cmpfloat_with_epsilon(effective.height, 30, 0.01);
  g_assert_cmpint(abs(page->header.width - (int) lround(50 / 25.4 * 100)), <=, 1);
  g_assert_cmpint(abs(page->header.height - (int) lround(30 / 25.4 * 100)), <=, 1);
  test_sink_clear(&sink);

  /* Width 0 = up to the end of the area (200 mm on the test backend). */
  settings = base_settings();
  settings.width = 0;
  settings.height = 10;
  test_sink_init(&sink);
  page = scan_one(&sink, &settings, &effective);
  g_assert_cmpfloat_with_epsilon(effective.width, 200, 0.01);
  g_assert_cmpint(abs(page->header.width - (int) lround(200 / 25.4 * 50)), <=, 1);
  test_sink_clear(&sink);
}

typedef struct {
  const char *status;
  ScandSource source;
  ScandErrorCode code;
  const char *words; /* expected in the message besides the device */
} InjectCase;

static void test_injected_errors(void) {
  static const InjectCase cases[] = {
    { "SANE_STATUS_JAMMED", SCAND_SOURCE_FEEDER, SCAND_ERROR_JAMMED, "re-feed from page 1" },
    { "SANE_STATUS_COVER_OPEN", SCAND_SOURCE_FLATBED, SCAND_ERROR_COVER_OPEN, "cover" },
    { "SANE_STATUS_IO_ERROR", SCAND_SOURCE_FLATBED, SCAND_ERROR_IO, "I/O" },
    { "SANE_STATUS_DEVICE_BUSY", SCAND_SOURCE_FLATBED, SCAND_ERROR_BUSY, "busy" },
    { "SANE_STATUS_CANCELLED", SCAND_SOURCE_FLATBED, SCAND_ERROR_CANCELLED, "cancelled" },
    { "SANE_STATUS_NO_DOCS", SCAND_SOURCE_FEEDER, SCAND_ERROR_NO_DOCS, "feeder is empty — load paper" },
    { "SANE_STATUS_ACCESS_DENIED", SCAND_SOURCE_FLATBED, SCAND_ERROR_DENIED, "denied" },
    { "SANE_STATUS_NO_MEM", SCAND_SOURCE_FLATBED, SCAND_ERROR_FAILED, "page 1" },
    { "SANE_STATUS_INVAL", SCAND_SOURCE_FLATBED, SCAND_ERROR_FAILED, "page 1" },
    { "SANE_STATUS_UNSUPPORTED", SCAND_SOURCE_FLATBED, SCAND_ERROR_FAILED, "page 1" },
    { "SANE_STATUS_EOF", SCAND_SOURCE_FLATBED, SCAND_ERROR_FAILED, "without sending image data" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree char *opt = g_strdup_printf("read-return-value=%s", cases[i].status);
    const char *extra[] = { opt, NULL };
    ScandScanSettings settings = base_settings();
    settings.source = cases[i].source;
    settings.extra_options = (GStrv) extra;
    TestSink sink;
    test_sink_init(&sink);
    g_assert_false(run_job("sane:test:0", &settings, NULL, &sink, &error));
    g_test_message("%s -> %s", cases[i].status, error ? error->message : "(none)");
    g_assert_error(error, SCAND_ERROR, (gint) cases[i].code);
    g_assert_nonnull(strstr(error->message, "test:0"));
    g_assert_nonnull(strstr(error->message, cases[i].words));
    g_assert_null(strchr(error->message, '\n'));
    /* The broken page was begun and aborted, never ended. */
    g_assert_cmpuint(sink.begins, ==, 1);
    g_assert_cmpuint(sink.aborts, ==, 1);
    g_assert_cmpuint(sink.ends, ==, 0);
    test_sink_clear(&sink);
  }
}

static void test_duplex_unsupported(void) {
  g_autoptr(GError) error = NULL;
  ScandScanSettings settings = base_settings();
  settings.source = SCAND_SOURCE_FEEDER;
  settings.duplex = TRUE;
  TestSink sink;
  test_sink_init(&sink);
  g_assert_false(run_job("sane:test:0", &settings, NULL, &sink, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED);
  g_assert_nonnull(strstr(error->message, "test:0"));
  g_assert_cmpuint(sink.begins, ==, 0);
  test_sink_clear(&sink);
}

static void test_bad_extra_options(void) {
  static const struct {
    const char *option;
    const char *words;
  } cases[] = {
    { "no-such-option=1", "no-such-option" },
    { "depth=abc", "depth" },
    { "hand-scanner=maybe", "hand-scanner" },
    { "test-picture=Nope", "Solid black" },
    { "read-limit-size=100", "inactive" },
    { "=5", "no name" },
    { "depth", "needs a value" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    const char *extra[] = { cases[i].option, NULL };
    ScandScanSettings settings = base_settings();
    settings.extra_options = (GStrv) extra;
    TestSink sink;
    test_sink_init(&sink);
    g_assert_false(run_job("sane:test:0", &settings, NULL, &sink, &error));
    g_test_message("%s -> %s", cases[i].option, error->message);
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
    g_assert_nonnull(strstr(error->message, "test:0"));
    g_assert_nonnull(strstr(error->message, cases[i].words));
    test_sink_clear(&sink);
  }
}

static void test_open_missing(void) {
  const char *uris[] = { "sane:test:9", "sane:nosuchbackend:0", "sane:nosuchdevice" };
  for (guint i = 0; i < G_N_ELEMENTS(uris); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ScandScanner) scanner = scand_scanner_open(uris[i], NULL, &error);
    g_assert_null(scanner);
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(error->message, uris[i] + 5));
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandScanner) scanner = scand_scanner_open("sane:", NULL, &error);
  g_assert_null(scanner);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
}

typedef struct {
  ScandScanner *scanner;
  TestSink *sink;
} CancelData;

static gpointer cancel_thread(gpointer data) {
  CancelData *c = data;
  g_mutex_lock(&c->sink->lock);
  while (!c->sink->written)
    g_cond_wait(&c->sink->cond, &c->sink->lock);
  g_mutex_unlock(&c->sink->lock);
  scand_scanner_cancel(c->scanner);
  return NULL;
}

/* cancel() from another thread stops a slow page in the middle. */
static void test_cancel(void) {
  g_autoptr(GError) error = NULL;
  const char *extra[] = { "read-delay=yes", "read-delay-duration=100000", NULL };
  ScandScanSettings settings = base_settings();
  settings.source = SCAND_SOURCE_FEEDER;
  settings.resolution = 300;
  settings.width = 0;
  settings.height = 0; /* 200 x 200 mm at 300 dpi: minutes of delayed reads */
  settings.extra_options = (GStrv) extra;
  TestSink sink;
  test_sink_init(&sink);
  g_autoptr(ScandScanner) scanner = scand_scanner_open("sane:test:0", NULL, &error);
  g_assert_no_error(error);
  g_assert_true(scand_scanner_start(scanner, &settings, NULL, &error));
  g_assert_no_error(error);
  CancelData c = { scanner, &sink };
  GThread *thread = g_thread_new("cancel", cancel_thread, &c);
  gboolean got = TRUE;
  g_assert_false(scand_scanner_read_page(scanner, &sink.sink, &got, &error));
  g_thread_join(thread);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_CANCELLED);
  g_assert_nonnull(strstr(error->message, "test:0"));
  g_assert_false(got);
  g_assert_cmpuint(sink.aborts, ==, 1);
  g_assert_cmpuint(sink.ends, ==, 0);
  g_assert_cmpuint(sink.writes, >=, 1);
  /* The job is over; the scanner works for the next one. */
  g_assert_true(scand_scanner_read_page(scanner, &sink.sink, &got, NULL));
  g_assert_false(got);
  g_clear_error(&error);
  ScandScanSettings next = base_settings();
  g_assert_true(scand_scanner_start(scanner, &next, NULL, &error));
  g_assert_no_error(error);
  g_assert_true(scand_scanner_read_page(scanner, &sink.sink, &got, &error));
  g_assert_no_error(error);
  g_assert_true(got);
  test_sink_clear(&sink);
}

/* A sink that fails ends the job with the sink's own error; the page is
 * aborted and the device is free for the next job. */
static void test_sink_failure(void) {
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandScanner) scanner = scand_scanner_open("sane:test:0", NULL, &error);
  g_assert_no_error(error);
  ScandScanSettings settings = base_settings();
  settings.source = SCAND_SOURCE_FEEDER;
  TestSink sink;
  test_sink_init(&sink);
  sink.fail_writes = TRUE;
  g_assert_true(scand_scanner_start(scanner, &settings, NULL, &error));
  gboolean got = TRUE;
  g_assert_false(scand_scanner_read_page(scanner, &sink.sink, &got, &error));
  g_assert_error(error, G_IO_ERROR, G_IO_ERROR_NO_SPACE);
  g_assert_false(got);
  g_assert_cmpuint(sink.aborts, ==, 1);
  g_assert_cmpuint(sink.ends, ==, 0);
  g_clear_error(&error);
  g_assert_true(scand_scanner_read_page(scanner, &sink.sink, &got, &error));
  g_assert_false(got);
  sink.fail_writes = FALSE;
  settings.source = SCAND_SOURCE_FLATBED;
  g_assert_true(scand_scanner_start(scanner, &settings, NULL, &error));
  g_assert_true(scand_scanner_read_page(scanner, &sink.sink, &got, &error));
  g_assert_no_error(error);
  g_assert_true(got);
  test_sink_clear(&sink);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/sane/list", test_list);
  g_test_add_func("/sane/refcount", test_refcount);
  g_test_add_func("/sane/feeder-ten", test_feeder_ten);
  g_test_add_func("/sane/feeder-max-pages", test_feeder_max_pages);
  g_test_add_func("/sane/feeder-empty-at-start", test_feeder_empty_at_start);
  g_test_add_func("/sane/flatbed-one", test_flatbed_one);
  g_test_add_func("/sane/gray-white", test_gray_white);
  g_test_add_func("/sane/color", test_color);
  g_test_add_func("/sane/lineart-black", test_lineart_black);
  g_test_add_func("/sane/depth16", test_depth16);
  g_test_add_func("/sane/three-pass", test_three_pass);
  g_test_add_func("/sane/hand-scanner", test_hand_scanner);
  g_test_add_func("/sane/torture-options", test_torture_options);
  g_test_add_func("/sane/resolution", test_resolution);
  g_test_add_func("/sane/constrain-word", test_constrain_word);
  g_test_add_func("/sane/line-format", test_line_format_rejects_bad_parameters);
  g_test_add_func("/sane/area", test_area);
  g_test_add_func("/sane/injected-errors", test_injected_errors);
  g_test_add_func("/sane/duplex-unsupported", test_duplex_unsupported);
  g_test_add_func("/sane/bad-extra-options", test_bad_extra_options);
  g_test_add_func("/sane/open-missing", test_open_missing);
  g_test_add_func("/sane/sink-failure", test_sink_failure);
  g_test_add_func("/sane/cancel", test_cancel);
  return g_test_run();
}
