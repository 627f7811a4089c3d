/* The streaming MTOM reader (backends/wsd-mtom.h): the shapes devices send,
 * fed in pieces of every size, must give the root part and the image bytes
 * exactly; broken replies are refused with one line. */
#include "backends/wsd-mtom.h"
#include "scand/base/error.h"

#include <string.h>

typedef struct {
  GByteArray *image;
  char *content_type;
  guint begins;
  gboolean fail_write; /* the sink refuses the bytes */
} Collect;

static gboolean collect_begin(const char *content_type, gpointer user, GError **error) {
  Collect *c = user;
  c->begins++;
  g_free(c->content_type);
  c->content_type = g_strdup(content_type);
  return TRUE;
}

static gboolean collect_write(const void *data, gsize len, gpointer user, GError **error) {
  Collect *c = user;
  if (c->fail_write) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "disk full");
    return FALSE;
  }
  g_byte_array_append(c->image, data, (guint) len);
  return TRUE;
}

static const WsdMtomSink collect_sink = { collect_begin, collect_write };

#define CT "multipart/related; type=\"application/xop+xml\"; boundary=\"uuid:b-1\"; start=\"<root@x>\""
#define ROOT "<soap:Envelope>root</soap:Envelope>"

/* An image of n bytes whose content includes near-delimiters and CRLFs. */
static GByteArray *image_bytes(gsize n) {
  GByteArray *a = g_byte_array_new();
  static const char pattern[] = "\xff\xd8\r\n--uuid:b-\r\n-\x00\x01 --uuid:b\xff\xd9";
  for (gsize i = 0; i < n; i++)
    g_byte_array_append(a, (const guint8 *) &pattern[i % (sizeof pattern - 1)], 1);
  return a;
}

/* The usual shape: root first, CRLF before every delimiter. */
static GByteArray *message(const char *root_headers, const GByteArray *img, const char *img_headers, const char *sep) {
  GByteArray *m = g_byte_array_new();
  g_autofree char *head = g_strdup_printf("preamble\r\n--uuid:b-1\r\n%s\r\n%s%s--uuid:b-1  \r\n%s\r\n", root_headers,
                                          ROOT, sep, img_headers);
  g_byte_array_append(m, (const guint8 *) head, (guint) strlen(head));
  g_byte_array_append(m, img->data, img->len);
  g_autofree char *tail = g_strdup_printf("%s--uuid:b-1--\r\nepilogue", sep);
  g_byte_array_append(m, (const guint8 *) tail, (guint) strlen(tail));
  return m;
}

/* Parses msg fed in pieces of piece bytes; asserts success and contents. */
static void parse_ok(const char *ct, const GByteArray *msg, gsize piece, const GByteArray *want_img,
                     const char *want_root, const char *want_id) {
  Collect c = { .image = g_byte_array_new() };
  g_autoptr(GError) error = NULL;
  g_autoptr(WsdMtom) m = wsd_mtom_new(ct, &collect_sink, &c, &error);
  g_assert_no_error(error);
  for (gsize off = 0; off < msg->len; off += piece)
    if (!wsd_mtom_feed(m, msg->data + off, MIN(piece, msg->len - off), &error))
      g_error("piece %" G_GSIZE_FORMAT " at %" G_GSIZE_FORMAT ": %s", piece, off, error->message);
  if (!wsd_mtom_finish(m, &error))
    g_error("piece %" G_GSIZE_FORMAT ": %s", piece, error->message);
  const GByteArray *root = wsd_mtom_root(m);
  g_assert_cmpmem(root->data, root->len, want_root, strlen(want_root));
  g_assert_cmpmem(c.image->data, c.image->len, want_img->data, want_img->len);
  g_assert_cmpuint(wsd_mtom_image_bytes(m), ==, want_img->len);
  g_assert_cmpstr(wsd_mtom_image_id(m), ==, want_id);
  g_assert_cmpuint(c.begins, ==, 1);
  g_assert_cmpstr(c.content_type, ==, "application/binary");
  g_byte_array_unref(c.image);
  g_free(c.content_type);
}

static const gsize pieces[] = { 1, 2, 3, 7, 11, 13, 64, 4096, 1 << 20 };

static void test_usual_shape(void) {
  g_autoptr(GByteArray) img = image_bytes(10000);
  g_autoptr(GByteArray) msg = message(
      "Content-Type: application/xop+xml; charset=UTF-8\r\nContent-ID: <root@x>\r\n", img,
      "Content-Type: application/binary\r\nContent-Transfer-Encoding: binary\r\nContent-ID: <image@x>\r\n", "\r\n");
  for (guint i = 0; i < G_N_ELEMENTS(pieces); i++)
    parse_ok(CT, msg, pieces[i], img, ROOT, "image@x");
}

/* Some devices put no CRLF before the delimiter; LF-only line ends. */
static void test_no_crlf_and_lf_only(void) {
  g_autoptr(GByteArray) img = image_bytes(777);
  g_autoptr(GByteArray) msg =
      message("Content-ID:<root@x>\r\n", img, "content-type: application/binary\r\ncontent-id: <image@x>\r\n", "");
  for (guint i = 0; i < G_N_ELEMENTS(pieces); i++)
    parse_ok(CT, msg, pieces[i], img, ROOT, "image@x");
  g_autoptr(GByteArray) lf = g_byte_array_new();
  g_autofree char *text = g_strdup_printf("--uuid:b-1\nContent-ID: <root@x>\n\n%s\n--uuid:b-1\n"
                                          "Content-Type: application/binary\nContent-ID: <i>\n\n",
                                          ROOT);
  g_byte_array_append(lf, (const guint8 *) text, (guint) strlen(text));
  g_byte_array_append(lf, img->data, img->len);
  g_byte_array_append(lf, (const guint8 *) "\n--uuid:b-1--\n", 14);
  for (guint i = 0; i < G_N_ELEMENTS(pieces); i++)
    parse_ok(CT, lf, pieces[i], img, ROOT, "i");
}

static void test_base64_image_first_folded(void) {
  g_autoptr(GByteArray) img = image_bytes(5000);
  g_autofree char *b64 = g_base64_encode(img->data, img->len);
  /* Base64 broken into lines, image part first, root found through start. */
  GString *wrapped = g_string_new(NULL);
  for (gsize i = 0, n = strlen(b64); i < n; i += 76)
    g_string_append_printf(wrapped, "%.76s\r\n", b64 + i);
  g_autofree char *text = g_strdup_printf(
      "--uuid:b-1\r\nContent-Type: application/binary\r\nContent-Transfer-Encoding:\r\n base64\r\n"
      "Content-ID: <img>\r\n\r\n%s\r\n--uuid:b-1\r\nContent-ID:\r\n\t<root@x>\r\n\r\n%s\r\n--uuid:b-1--",
      wrapped->str, ROOT);
  g_string_free(wrapped, TRUE);
  g_autoptr(GByteArray) msg = g_byte_array_new();
  g_byte_array_append(msg, (const guint8 *) text, (guint) strlen(text));
  for (guint i = 0; i < G_N_ELEMENTS(pieces); i++)
    parse_ok(CT, msg, pieces[i], img, ROOT, "img");
}

/* Without a start parameter the first part is the root; a third part is
 * skipped. */
static void test_no_start_parameter(void) {
  g_autoptr(GByteArray) img = image_bytes(300);
  g_autoptr(GByteArray) msg = g_byte_array_new();
  g_autofree char *head = g_strdup_printf("--uuid:b-1\r\n\r\n%s\r\n--uuid:b-1\r\nContent-Type: application/binary\r\n"
                                          "Content-ID: <a>\r\n\r\n",
                                          ROOT);
  g_byte_array_append(msg, (const guint8 *) head, (guint) strlen(head));
  g_byte_array_append(msg, img->data, img->len);
  const char *tail = "\r\n--uuid:b-1\r\nContent-ID: <b>\r\n\r\nextra\r\n--uuid:b-1--\r\n";
  g_byte_array_append(msg, (const guint8 *) tail, (guint) strlen(tail));
  for (guint i = 0; i < G_N_ELEMENTS(pieces); i++)
    parse_ok("Multipart/Related; boundary=uuid:b-1", msg, pieces[i], img, ROOT, "a");
}

/* Broken replies: each refused at new(), feed() or finish() with these words. */
static void test_refusals(void) {
  static const struct {
    const char *ct;
    const char *body;
    const char *words;
  } cases[] = {
    { "application/soap+xml", "", "not multipart" },
    { "multipart/related; type=x", "", "boundary" },
    { "multipart/related; boundary=\"\"", "", "boundary" },
    { CT, "--uuid:b-1\r\nContent-ID: <root@x>\r\n\r\n" ROOT "\r\n--uuid:b-1\r\n\r\nimg",
      "before its closing boundary" },
    { CT, "--uuid:b-1\r\nContent-ID: <root@x>\r\n\r\n" ROOT "\r\n--uuid:b-1--", "without an image part" },
    { CT, "--uuid:b-1\r\nContent-ID: <other>\r\n\r\nx\r\n--uuid:b-1--", "without a SOAP root part" },
    { CT, "--uuid:b-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nx\r\n--uuid:b-1--", "quoted-printable" },
    { CT, "--uuid:b-1garbage\r\n\r\n", "text after a boundary" },
    { CT, "", "before its closing boundary" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    Collect c = { .image = g_byte_array_new() };
    g_autoptr(GError) error = NULL;
    g_autoptr(WsdMtom) m = wsd_mtom_new(cases[i].ct, &collect_sink, &c, &error);
    if (m && wsd_mtom_feed(m, cases[i].body, strlen(cases[i].body), &error))
      g_assert_false(wsd_mtom_finish(m, &error));
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
    if (!strstr(error->message, cases[i].words))
      g_error("case %u: \"%s\" lacks \"%s\"", i, error->message, cases[i].words);
    g_byte_array_unref(c.image);
    g_free(c.content_type);
  }
}

/* Headers and root part that never end are cut off at their caps; a sink
 * error ends the parse with that error. */
static void test_caps_and_sink_error(void) {
  Collect c = { .image = g_byte_array_new() };
  g_autoptr(GError) error = NULL;
  g_autoptr(WsdMtom) h = wsd_mtom_new(CT, &collect_sink, &c, &error);
  g_assert_true(wsd_mtom_feed(h, "--uuid:b-1\r\n", 12, &error));
  g_autofree char *junk = g_strnfill(4096, 'h');
  gboolean ok = TRUE;
  for (guint i = 0; i < 8 && ok; i++)
    ok = wsd_mtom_feed(h, junk, strlen(junk), &error);
  g_assert_false(ok);
  g_assert_nonnull(strstr(error->message, "headers over"));
  g_clear_error(&error);

  g_autoptr(WsdMtom) r = wsd_mtom_new(CT, &collect_sink, &c, &error);
  const char *start = "--uuid:b-1\r\nContent-ID: <root@x>\r\n\r\n";
  g_assert_true(wsd_mtom_feed(r, start, strlen(start), &error));
  ok = TRUE;
  for (guint i = 0; i < 400 && ok; i++)
    ok = wsd_mtom_feed(r, junk, strlen(junk), &error);
  g_assert_false(ok);
  g_assert_nonnull(strstr(error->message, "root part over"));
  g_clear_error(&error);

  c.fail_write = TRUE;
  g_autoptr(WsdMtom) s = wsd_mtom_new(CT, &collect_sink, &c, &error);
  g_autofree char *text =
      g_strdup_printf("--uuid:b-1\r\nContent-ID: <root@x>\r\n\r\n%s\r\n--uuid:b-1\r\n\r\n%s", ROOT, junk);
  g_assert_false(wsd_mtom_feed(s, text, strlen(text), &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_IO);
  g_byte_array_unref(c.image);
  g_free(c.content_type);
}

static void test_mime_param(void) {
  static const struct {
    const char *value, *name, *want;
  } cases[] = {
    { CT, "boundary", "uuid:b-1" },
    { CT, "START", "<root@x>" },
    { CT, "type", "application/xop+xml" },
    { "multipart/related;boundary=abc;start=x", "boundary", "abc" },
    { "multipart/related; a=\"q\\\"uote;d\"; b = c ", "a", "q\"uote;d" },
    { "multipart/related; a=\"q\\\"uote;d\"; b = c ", "b", "c" },
    { "multipart/related; boundary", "boundary", NULL },
    { "multipart/related", "boundary", NULL },
    { "multipart/related; xboundary=1", "boundary", NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *got = wsd_mime_param(cases[i].value, cases[i].name);
    if (g_strcmp0(got, cases[i].want) != 0)
      g_error("case %u: got %s, expected %s", i, got ? got : "NULL", cases[i].want ? cases[i].want : "NULL");
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/wsd-mtom/usual-shape", test_usual_shape);
  g_test_add_func("/wsd-mtom/no-crlf-and-lf-only", test_no_crlf_and_lf_only);
  g_test_add_func("/wsd-mtom/base64-image-first-folded", test_base64_image_first_folded);
  g_test_add_func("/wsd-mtom/no-start-parameter", test_no_start_parameter);
  g_test_add_func("/wsd-mtom/refusals", test_refusals);
  g_test_add_func("/wsd-mtom/caps-and-sink-error", test_caps_and_sink_error);
  g_test_add_func("/wsd-mtom/mime-param", test_mime_param);
  return g_test_run();
}
