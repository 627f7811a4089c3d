#include "scand/core/file-check.h"
#include "scand/base/error.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads a file through one buffer with pread, so that walking a JPEG's
 * entropy-coded data byte by byte costs no system call per byte. */
typedef struct {
  int fd;
  guint64 size;
  guint64 buf_off;
  gsize buf_len;
  int io_errno; /* a read failed (not: the file ended) */
  guint8 buf[65536];
} Reader;

/* Copies n bytes at off into out; FALSE when they are not all in the file. */
static gboolean rd(Reader *r, guint64 off, void *out, gsize n) {
  if (n > sizeof r->buf || off > r->size || r->size - off < n)
    return FALSE;
  if (off < r->buf_off || off + n > r->buf_off + r->buf_len) {
    ssize_t got;
    do
      got = pread(r->fd, r->buf, sizeof r->buf, (off_t) off);
    while (got < 0 && errno == EINTR);
    if (got < 0) {
      r->io_errno = errno;
      return FALSE;
    }
    r->buf_off = off;
    r->buf_len = (gsize) got;
    if (r->buf_len < n)
      return FALSE;
  }
  memcpy(out, r->buf + (off - r->buf_off), n);
  return TRUE;
}

static guint32 be16(const guint8 *p) {
  return (guint32) p[0] << 8 | p[1];
}

static guint32 be32(const guint8 *p) {
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

static gboolean incomplete(Reader *r, GError **error, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static gboolean incomplete(Reader *r, GError **error, const char *fmt, ...) {
  if (r->io_errno) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "cannot read: %s", g_strerror(r->io_errno));
    return FALSE;
  }
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *what = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "incomplete or damaged: %s", what);
  return FALSE;
}

ScandFileType scand_file_type_sniff(const guint8 *h, gsize len) {
  static const guint8 png[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  if (len >= 5 && memcmp(h, "%PDF-", 5) == 0)
    return SCAND_FILE_PDF;
  if (len >= 3 && h[0] == 0xff && h[1] == 0xd8 && h[2] == 0xff)
    return SCAND_FILE_JPEG;
  if (len >= 8 && memcmp(h, png, 8) == 0)
    return SCAND_FILE_PNG;
  if (len >= 4 && (memcmp(h, "II*\0", 4) == 0 || memcmp(h, "MM\0*", 4) == 0 || memcmp(h, "II+\0", 4) == 0 ||
                   memcmp(h, "MM\0+", 4) == 0))
    return SCAND_FILE_TIFF;
  if (len >= 3 && h[0] == 'P' && h[1] >= '4' && h[1] <= '6' && g_ascii_isspace(h[2]))
    return SCAND_FILE_PNM;
  return SCAND_FILE_UNKNOWN;
}

const char *scand_file_type_to_string(ScandFileType type) {
  static const char *const names[] = { "unknown", "pdf", "jpeg", "png", "tiff", "pnm" };
  return type < G_N_ELEMENTS(names) ? names[type] : "unknown";
}

/* --- PDF: the end of the file --- */

/* The last occurrence of needle in hay[0..len). */
static const guint8 *find_last(const guint8 *hay, gsize len, const char *needle) {
  gsize n = strlen(needle);
  for (gsize i = len >= n ? len - n + 1 : 0; i-- > 0;)
    if (memcmp(hay + i, needle, n) == 0)
      return hay + i;
  return NULL;
}

/* "%%EOF" in the last KiB (writers may add a line end or a little padding),
 * "startxref N" before it, and at N either "xref" or "<num> <gen> obj" (a
 * cross-reference stream). */
static gboolean check_pdf_tail(Reader *r, GError **error) {
  guint8 tail[1024 + 1] = { 0 };
  gsize n = (gsize) MIN(r->size, (guint64) 1024);
  if (!rd(r, r->size - n, tail, n))
    return incomplete(r, error, "PDF cannot be read");
  const guint8 *eof = find_last(tail, n, "%%EOF");
  if (!eof)
    return incomplete(r, error, "PDF has no %%%%EOF at its end (the writer has not finished)");
  const guint8 *sx = find_last(tail, (gsize) (eof - tail), "startxref");
  if (!sx)
    return incomplete(r, error, "PDF has no startxref before its %%%%EOF");
  char *end = NULL;
  guint64 at = g_ascii_strtoull((const char *) sx + strlen("startxref"), &end, 10);
  if (end == (const char *) sx + strlen("startxref") || at >= r->size)
    return incomplete(r, error, "PDF's startxref points outside the file");
  char head[32] = { 0 };
  if (!rd(r, at, head, MIN(sizeof head - 1, (gsize) (r->size - at))) && r->io_errno)
    return incomplete(r, error, "PDF cannot be read");
  guint64 num, gen;
  char word[4] = { 0 };
  if (strncmp(head, "xref", 4) == 0)
    return TRUE;
  if (sscanf(head, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %3s", &num, &gen, word) == 3 &&
      strcmp(word, "obj") == 0)
    return TRUE;
  return incomplete(r, error, "PDF's startxref does not point at a cross-reference table");
}

/* --- JPEG --- */

/* Skips entropy-coded data from *pos to the next marker that is not a
 * restart marker (FFD0..FFD7) or a stuffed FF00; *pos is left on its FF. */
static gboolean jpeg_skip_scan(Reader *r, guint64 *pos) {
  guint8 b, m;
  for (guint64 p = *pos; rd(r, p, &b, 1); p++) {
    if (b != 0xff)
      continue;
    if (!rd(r, p + 1, &m, 1))
      return FALSE;
    if (m == 0x00 || (m >= 0xd0 && m <= 0xd7) || m == 0xff)
      continue;
    *pos = p;
    return TRUE;
  }
  return FALSE;
}

static gboolean check_jpeg(Reader *r, GError **error) {
  guint64 pos = 2;
  for (guint segments = 0; segments < 100000; segments++) {
    guint8 b[4];
    if (!rd(r, pos, b, 2) || b[0] != 0xff)
      return incomplete(r, error, "JPEG ends before its end-of-image marker");
    if (b[1] == 0xff) { /* fill byte */
      pos++;
      continue;
    }
    if (b[1] == 0xd9)
      return TRUE;
    if ((b[1] >= 0xd0 && b[1] <= 0xd7) || b[1] == 0x01) {
      pos += 2;
      continue;
    }
    if (!rd(r, pos + 2, b + 2, 2) || be16(b + 2) < 2 || r->size - pos < 2 + (guint64) be16(b + 2))
      return incomplete(r, error, "JPEG segment FF%02X at %" G_GUINT64_FORMAT " is cut off", b[1], pos);
    pos += 2 + be16(b + 2);
    if (b[1] == 0xda && !jpeg_skip_scan(r, &pos))
      return incomplete(r, error, "JPEG image data is cut off (no end-of-image marker)");
  }
  return incomplete(r, error, "JPEG has too many segments");
}

/* --- PNG --- */

static gboolean check_png(Reader *r, GError **error) {
  guint64 pos = 8;
  for (guint chunks = 0; chunks < 1000000; chunks++) {
    guint8 h[8];
    if (!rd(r, pos, h, 8))
      return incomplete(r, error, "PNG ends before its IEND chunk");
    guint64 len = be32(h);
    if (len > G_MAXINT32 || r->size - pos < 12 + len) {
      gboolean letters =
          g_ascii_isalpha(h[4]) && g_ascii_isalpha(h[5]) && g_ascii_isalpha(h[6]) && g_ascii_isalpha(h[7]);
      g_autofree char *type = letters ? g_strndup((const char *) h + 4, 4) : g_strdup_printf("0x%08x", be32(h + 4));
      return incomplete(r, error, "PNG chunk %s at %" G_GUINT64_FORMAT " is cut off", type, pos);
    }
    if (memcmp(h + 4, "IEND", 4) == 0)
      return TRUE;
    pos += 12 + len;
  }
  return incomplete(r, error, "PNG has too many chunks");
}

/* --- TIFF --- */

typedef struct {
  Reader *r;
  gboolean big_endian;
  gboolean bigtiff; /* 8-byte offsets and counts */
} Tiff;

static gboolean tiff_uint(Tiff *t, guint64 off, gsize n, guint64 *out) {
  guint8 b[8];
  if (!rd(t->r, off, b, n))
    return FALSE;
  *out = 0;
  for (gsize i = 0; i < n; i++)
    *out |= (guint64) b[t->big_endian ? i : n - 1 - i] << (8 * (n - 1 - i));
  return TRUE;
}

static gsize tiff_type_size(guint64 type) {
  static const guint8 sizes[] = { 0, 1, 1, 2, 4, 8, 1, 1, 2, 4, 8, 4, 8, 4, 0, 0, 8, 8, 8 };
  return type < G_N_ELEMENTS(sizes) ? sizes[type] : 0;
}

/* The number of values of an IFD entry. */
static gboolean tiff_count(Tiff *t, guint64 entry, guint64 *count) {
  return tiff_uint(t, entry + 4, t->bigtiff ? 8 : 4, count);
}

/* Value i of an entry's array (SHORT, LONG or LONG8), which must be inside
 * the file. */
static gboolean tiff_value(Tiff *t, guint64 entry, guint64 i, guint64 *out) {
  guint64 type, count, at;
  gsize word = t->bigtiff ? 8 : 4;
  if (!tiff_uint(t, entry + 2, 2, &type) || !tiff_count(t, entry, &count) || i >= count)
    return FALSE;
  gsize size = tiff_type_size(type);
  if (size != 2 && size != 4 && size != 8)
    return FALSE;
  at = entry + 4 + word;
  if (count > word / size && !tiff_uint(t, at, word, &at))
    return FALSE;
  if (at > t->r->size)
    return FALSE;
  return tiff_uint(t, at + i * size, size, out);
}

/* Whether an entry's values, where they are not in the entry itself, lie
 * inside the file. */
static gboolean tiff_entry_inside(Tiff *t, guint64 entry) {
  guint64 type, count, at;
  gsize word = t->bigtiff ? 8 : 4;
  if (!tiff_uint(t, entry + 2, 2, &type) || !tiff_count(t, entry, &count))
    return FALSE;
  gsize size = tiff_type_size(type);
  if (size == 0 || count <= word / size)
    return TRUE;
  return tiff_uint(t, entry + 4 + word, word, &at) && at <= t->r->size && count <= (t->r->size - at) / size;
}

/* The strips (or tiles) of one IFD: offsets[i] + counts[i] inside the file. */
static gboolean tiff_check_data(Tiff *t, guint64 offsets, guint64 counts, GError **error) {
  guint64 n;
  if (!tiff_count(t, offsets, &n) || n == 0 || n > (1u << 24))
    return incomplete(t->r, error, "TIFF strip table is cut off");
  for (guint64 i = 0; i < n; i++) {
    guint64 off, len;
    if (!tiff_value(t, offsets, i, &off) || !tiff_value(t, counts, i, &len))
      return incomplete(t->r, error, "TIFF strip table is cut off");
    if (off > t->r->size || t->r->size - off < len)
      return incomplete(t->r, error, "TIFF strip %" G_GUINT64_FORMAT " lies outside the file", i);
  }
  return TRUE;
}

/* One IFD at off: its entries inside the file, its data inside the file;
 * *next gets the offset of the next IFD (0 at the end). */
static gboolean tiff_check_ifd(Tiff *t, guint64 off, guint64 *next, GError **error) {
  gsize word = t->bigtiff ? 8 : 4, entry_size = t->bigtiff ? 20 : 12, count_size = t->bigtiff ? 8 : 2;
  guint64 n;
  if (!tiff_uint(t, off, count_size, &n) || n > 65535 || !tiff_uint(t, off + count_size + n * entry_size, word, next))
    return incomplete(t->r, error, "TIFF directory at %" G_GUINT64_FORMAT " is cut off", off);
  guint64 offsets = 0, counts = 0;
  for (guint64 i = 0; i < n; i++) {
    guint64 entry = off + count_size + i * entry_size, tag;
    if (!tiff_uint(t, entry, 2, &tag))
      return incomplete(t->r, error, "TIFF directory at %" G_GUINT64_FORMAT " is cut off", off);
    if (!tiff_entry_inside(t, entry))
      return incomplete(t->r, error, "TIFF tag %" G_GUINT64_FORMAT " points outside the file", tag);
    if (tag == 273 || tag == 324)
      offsets = entry;
    else if (tag == 279 || tag == 325)
      counts = entry;
  }
  if (!offsets || !counts)
    return incomplete(t->r, error, "TIFF directory at %" G_GUINT64_FORMAT " has no image data", off);
  return tiff_check_data(t, offsets, counts, error);
}

static gboolean check_tiff(Reader *r, GError **error) {
  guint8 h[4];
  rd(r, 0, h, 4);
  Tiff t = { .r = r, .big_endian = h[0] == 'M', .bigtiff = h[2] == '+' || h[3] == '+' };
  guint64 off;
  if (!tiff_uint(&t, t.bigtiff ? 8 : 4, t.bigtiff ? 8 : 4, &off))
    return incomplete(r, error, "TIFF header is cut off");
  g_autoptr(GHashTable) seen = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
  for (guint ifds = 0; off != 0; ifds++) {
    if (ifds >= 10000 || g_hash_table_contains(seen, &off))
      return incomplete(r, error, "TIFF directories loop");
    g_hash_table_add(seen, g_memdup2(&off, sizeof off));
    if (!tiff_check_ifd(&t, off, &off, error))
      return FALSE;
  }
  return g_hash_table_size(seen) ? TRUE : incomplete(r, error, "TIFF has no image directory");
}

/* --- PNM --- */

/* Reads a decimal number after whitespace and #-comments; *pos moves past it. */
static gboolean pnm_number(Reader *r, guint64 *pos, guint64 *value) {
  guint8 c;
  for (;;) {
    if (!rd(r, *pos, &c, 1))
      return FALSE;
    if (c == '#') {
      while (rd(r, *pos, &c, 1) && c != '\n')
        (*pos)++;
    } else if (!g_ascii_isspace(c)) {
      break;
    }
    (*pos)++;
  }
  *value = 0;
  guint digits = 0;
  for (; rd(r, *pos, &c, 1) && g_ascii_isdigit(c) && digits < 10; (*pos)++, digits++)
    *value = *value * 10 + (guint64) (c - '0');
  return digits > 0 && digits < 10;
}

static gboolean check_pnm(Reader *r, GError **error) {
  guint8 kind;
  rd(r, 1, &kind, 1);
  guint64 pos = 2, w, h, maxval = 1;
  if (!pnm_number(r, &pos, &w) || !pnm_number(r, &pos, &h) || (kind != '4' && !pnm_number(r, &pos, &maxval)))
    return incomplete(r, error, "PNM header is cut off");
  if (w == 0 || h == 0 || maxval == 0 || maxval > 65535)
    return incomplete(r, error, "PNM header is malformed");
  guint64 row = kind == '4' ? (w + 7) / 8 : w * (kind == '6' ? 3 : 1) * (maxval > 255 ? 2 : 1);
  guint64 need = pos + 1 + row * h;
  if (r->size < need)
    return incomplete(r, error, "PNM raster has %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " bytes",
                      r->size > pos + 1 ? r->size - pos - 1 : 0, row * h);
  return TRUE;
}

gboolean scand_file_check_complete(int fd, ScandFileType *type, GError **error) {
  struct stat st;
  if (fstat(fd, &st) < 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "cannot read: %s", g_strerror(errno));
    return FALSE;
  }
  g_autofree Reader *r = g_new0(Reader, 1);
  r->fd = fd;
  r->size = (guint64) st.st_size;
  guint8 head[8] = { 0 };
  rd(r, 0, head, MIN(sizeof head, (gsize) r->size));
  ScandFileType t = scand_file_type_sniff(head, (gsize) MIN(sizeof head, r->size));
  if (type)
    *type = t;
  switch (t) {
    case SCAND_FILE_PDF:
      return check_pdf_tail(r, error);
    case SCAND_FILE_JPEG:
      return check_jpeg(r, error);
    case SCAND_FILE_PNG:
      return check_png(r, error);
    case SCAND_FILE_TIFF:
      return check_tiff(r, error);
    case SCAND_FILE_PNM:
      return check_pnm(r, error);
    case SCAND_FILE_UNKNOWN:
      break;
  }
  if (r->io_errno)
    return incomplete(r, error, "cannot read");
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED,
              r->size ? "not a PDF, JPEG, PNG, TIFF or binary PNM file" : "the file is empty");
  return FALSE;
}
