/* Pages: the unit a scanner hands out and the spool keeps.
 *
 * A page is stored as one file in a job directory, named page-NNNN.<ext>:
 *   .jpg  JPEG exactly as the device sent it (embedded into the PDF untouched)
 *   .png  PNG as the device sent it
 *   .pdf  a PDF page as the device sent it (devices that offer nothing else)
 *   .pnm  raw frames: P4 (1-bit, 1 = black), P5 (8-bit gray), P6 (24-bit RGB)
 * A page file appears under its final name only when complete (written under a
 * temporary name, fsynced, renamed, directory fsynced). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  SCAND_PAGE_JPEG,
  SCAND_PAGE_PNG,
  SCAND_PAGE_BW1, /* 1 bit per pixel, rows padded to bytes, 1 = black */
  SCAND_PAGE_GRAY8,
  SCAND_PAGE_RGB24,
  SCAND_PAGE_PDF, /* a one-page (or more) PDF: merged by pages, never re-encoded */
} ScandPageFormat;

/* What a backend tells the sink before the bytes of a page. For encoded
 * formats (JPEG/PNG) width/height may be 0 (unknown). For raw formats width is
 * required and height may be -1 when the device does not know it in advance
 * (hand scanners): the sink then derives it from the byte count. */
typedef struct {
  ScandPageFormat format;
  int width;
  int height;
  int xres; /* dpi */
  int yres;
} ScandPageHeader;

/* Where a backend puts the pages it reads. The job provides one that writes
 * into the spool; tests provide in-memory ones. Each call returns FALSE with
 * error set on failure; after begin() the backend calls either end() or abort(). */
typedef struct ScandPageSink ScandPageSink;
struct ScandPageSink {
  gboolean (*begin)(ScandPageSink *sink, const ScandPageHeader *header, GError **error);
  gboolean (*write)(ScandPageSink *sink, const void *data, gsize len, GError **error);
  gboolean (*end)(ScandPageSink *sink, GError **error);
  void (*abort)(ScandPageSink *sink);
};

/* Writes one page file into a directory, durably. */
typedef struct ScandPageWriter ScandPageWriter;

/* Starts page number index (1-based) in dir; nothing is visible until commit. */
ScandPageWriter *scand_page_writer_new(const char *dir, guint index, const ScandPageHeader *header, GError **error);
gboolean scand_page_writer_write(ScandPageWriter *w, const void *data, gsize len, GError **error);
/* Completes the file (fixes the raw height if it was unknown), fsyncs, renames to
 * page-NNNN.<ext>, fsyncs dir. Returns the final path in *path (caller frees). */
gboolean scand_page_writer_commit(ScandPageWriter *w, char **path, GError **error);
/* Frees; an uncommitted page's temporary file is removed. Accepts NULL. */
void scand_page_writer_free(ScandPageWriter *w);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandPageWriter, scand_page_writer_free)

/* File extension (without dot) for a format. */
const char *scand_page_format_extension(ScandPageFormat format);

/* Lists committed page files of a job directory in page order (newly allocated
 * array of newly allocated paths). Temporary files are ignored. */
GPtrArray *scand_page_list(const char *dir, GError **error);

G_END_DECLS
