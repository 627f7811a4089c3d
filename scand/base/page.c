#include "scand/base/page.h"
#include "scand/base/error.h"
#include "scand/base/fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Raw pages get a PNM header whose size fields are padded to a fixed width, so
 * that an unknown height can be filled in after the data without moving it
 * (netpbm allows any amount of whitespace between header fields). */
#define PNM_FIELD_WIDTH 10

struct ScandPageWriter {
  char *dir;
  char *tmp_path;
  guint index;
  ScandPageHeader header;
  int fd;
  guint64 data_bytes;
  gsize header_len;
};

const char *scand_page_format_extension(ScandPageFormat format) {
  switch (format) {
    case SCAND_PAGE_JPEG:
      return "jpg";
    case SCAND_PAGE_PNG:
      return "png";
    case SCAND_PAGE_PDF:
      return "pdf";
    case SCAND_PAGE_BW1:
    case SCAND_PAGE_GRAY8:
    case SCAND_PAGE_RGB24:
      return "pnm";
  }
  return "bin";
}

static gboolean page_format_is_raw(ScandPageFormat format) {
  return format == SCAND_PAGE_BW1 || format == SCAND_PAGE_GRAY8 || format == SCAND_PAGE_RGB24;
}

static guint64 page_row_bytes(const ScandPageHeader *h) {
  switch (h->format) {
    case SCAND_PAGE_BW1:
      return ((guint64) h->width + 7) / 8;
    case SCAND_PAGE_GRAY8:
      return (guint64) h->width;
    case SCAND_PAGE_RGB24:
      return (guint64) h->width * 3;
    default:
      return 0;
  }
}

static char *pnm_header(const ScandPageHeader *h, int height) {
  const char *magic = h->format == SCAND_PAGE_BW1 ? "P4" : h->format == SCAND_PAGE_GRAY8 ? "P5" : "P6";
  const char *maxval = h->format == SCAND_PAGE_BW1 ? "" : "255\n";
  return g_strdup_printf("%s\n# scand %d %d dpi\n%*d %*d\n%s", magic, h->xres, h->yres, PNM_FIELD_WIDTH, h->width,
                         PNM_FIELD_WIDTH, height < 0 ? 0 : height, maxval);
}

static gboolean write_all(int fd, const void *data, gsize len, const char *path, GError **error) {
  int errsv = scand_fs_write_all(fd, data, len);
  return errsv ? scand_fs_error_errno(error, errsv, "cannot write %s", path) : TRUE;
}

ScandPageWriter *scand_page_writer_new(const char *dir, guint index, const ScandPageHeader *header, GError **error) {
  if (page_format_is_raw(header->format) && (header->width <= 0 || header->width > 1000000)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "page %u: invalid width %d for a raw page", index,
                header->width);
    return NULL;
  }
  g_autoptr(ScandPageWriter) w = g_new0(ScandPageWriter, 1);
  w->fd = -1;
  w->dir = g_strdup(dir);
  w->index = index;
  w->header = *header;
  w->tmp_path = g_strdup_printf("%s/.page-%04u.%s.part", dir, index, scand_page_format_extension(header->format));
  w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (w->fd < 0) {
    scand_fs_error_errno(error, errno, "cannot create %s", w->tmp_path);
    return NULL;
  }
  if (page_format_is_raw(header->format)) {
    g_autofree char *hdr = pnm_header(header, header->height);
    w->header_len = strlen(hdr);
    if (!write_all(w->fd, hdr, w->header_len, w->tmp_path, error))
      return NULL;
  }
  return g_steal_pointer(&w);
}

gboolean scand_page_writer_write(ScandPageWriter *w, const void *data, gsize len, GError **error) {
  if (!write_all(w->fd, data, len, w->tmp_path, error))
    return FALSE;
  w->data_bytes += len;
  return TRUE;
}

gboolean scand_page_writer_commit(ScandPageWriter *w, char **path, GError **error) {
  const ScandPageHeader *h = &w->header;
  if (w->data_bytes == 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "page %u: the scanner sent no image data", w->index);
    return FALSE;
  }
  if (page_format_is_raw(h->format)) {
    guint64 row = page_row_bytes(h);
    guint64 rows = w->data_bytes / row;
    if (h->height >= 0 && rows != (guint64) h->height) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO,
                  "page %u: expected %d lines of image data, got %" G_GUINT64_FORMAT, w->index, h->height, rows);
      return FALSE;
    }
    if (rows == 0 || rows > G_MAXINT) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "page %u: incomplete image data (%" G_GUINT64_FORMAT " bytes)",
                  w->index, w->data_bytes);
      return FALSE;
    }
    if (w->data_bytes % row != 0 && ftruncate(w->fd, (off_t) (w->header_len + rows * row)) < 0)
      return scand_fs_error_errno(error, errno, "cannot truncate %s", w->tmp_path);
    if (h->height < 0) {
      g_autofree char *hdr = pnm_header(h, (int) rows);
      g_assert(strlen(hdr) == w->header_len);
      if (pwrite(w->fd, hdr, w->header_len, 0) != (ssize_t) w->header_len)
        return scand_fs_error_errno(error, errno, "cannot write %s", w->tmp_path);
    }
  }
  if (fsync(w->fd) < 0)
    return scand_fs_error_errno(error, errno, "cannot fsync %s", w->tmp_path);
  if (close(w->fd) < 0) {
    w->fd = -1;
    return scand_fs_error_errno(error, errno, "cannot close %s", w->tmp_path);
  }
  w->fd = -1;
  g_autofree char *final = g_strdup_printf("%s/page-%04u.%s", w->dir, w->index, scand_page_format_extension(h->format));
  if (rename(w->tmp_path, final) < 0)
    return scand_fs_error_errno(error, errno, "cannot rename %s", w->tmp_path);
  g_clear_pointer(&w->tmp_path, g_free);
  if (!scand_fs_fsync_dir(w->dir, error))
    return FALSE;
  if (path)
    *path = g_steal_pointer(&final);
  return TRUE;
}

void scand_page_writer_free(ScandPageWriter *w) {
  if (!w)
    return;
  if (w->fd >= 0)
    close(w->fd);
  if (w->tmp_path)
    unlink(w->tmp_path);
  g_free(w->tmp_path);
  g_free(w->dir);
  g_free(w);
}

static int page_number(const char *name) {
  unsigned n;
  char ext[8];
  if (sscanf(name, "page-%4u.%7s", &n, ext) != 2 || n == 0)
    return -1;
  if (strcmp(ext, "jpg") != 0 && strcmp(ext, "png") != 0 && strcmp(ext, "pnm") != 0 && strcmp(ext, "pdf") != 0)
    return -1;
  return (int) n;
}

static int compare_page_paths(gconstpointer a, gconstpointer b) {
  g_autofree char *na = g_path_get_basename(*(char *const *) a);
  g_autofree char *nb = g_path_get_basename(*(char *const *) b);
  return page_number(na) - page_number(nb);
}

GPtrArray *scand_page_list(const char *dir, GError **error) {
  g_autoptr(GDir) d = g_dir_open(dir, 0, error);
  if (!d)
    return NULL;
  GPtrArray *pages = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while ((name = g_dir_read_name(d)))
    if (page_number(name) > 0)
      g_ptr_array_add(pages, g_build_filename(dir, name, NULL));
  g_ptr_array_sort(pages, compare_page_paths);
  return pages;
}
