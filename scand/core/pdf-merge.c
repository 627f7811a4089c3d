/* PDF page merging with libqpdf's C API.
 *
 * qpdf copies pages across documents lazily: the source documents must stay
 * open until the output is written, because stream data is read at write
 * time. qpdf is tolerant of damage (it reconstructs broken xref tables), so
 * the only input refused up front is a file without a PDF header. */
#include "scand/core/pdf-merge.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <qpdf/qpdf-c.h>

#include "scand/base/error.h"
#include "scand/base/fs.h"
#include "scand/core/dl-qpdf.h"

/* qpdf looks for the header within the first 1024 bytes, and so do we. */
#define PDF_HEADER_WINDOW 1024

typedef struct {
  const char *path; /* borrowed from the caller */
  qpdf_data qpdf;   /* NULL until opened */
  gboolean strict;  /* no reconstruction of a broken cross-reference table */
  guint n_pages;
} MergeInput;

/* Returns a qpdf handle that never writes to stdout/stderr: library code
 * reports through GError only. Free with qpdf_cleanup(). */
static qpdf_data quiet_qpdf_new(void) {
  qpdf_data q = sym_qpdf_init();
  sym_qpdf_silence_errors(q);
  sym_qpdf_set_suppress_warnings(q, QPDF_TRUE);
  qpdflogger_handle log = sym_qpdflogger_create();
  sym_qpdflogger_set_info(log, qpdf_log_dest_discard, NULL, NULL);
  sym_qpdflogger_set_warn(log, qpdf_log_dest_discard, NULL, NULL);
  sym_qpdflogger_set_error(log, qpdf_log_dest_discard, NULL, NULL);
  /* The qpdf handle keeps its own reference to the logger. */
  sym_qpdf_set_logger(q, log);
  sym_qpdflogger_cleanup(&log);
  return q;
}

/* Takes qpdf's pending error (qpdf_get_error clears it) and returns it as
 * one line (caller frees); stores its code and, if where is not NULL, the file
 * qpdf was reading (caller frees; NULL if none). */
static char *qpdf_take_error(qpdf_data q, enum qpdf_error_code_e *code, char **where) {
  if (where)
    *where = NULL;
  qpdf_error e = sym_qpdf_get_error(q);
  if (!e) {
    if (code)
      *code = qpdf_e_internal;
    return g_strdup("unknown qpdf error");
  }
  if (code)
    *code = sym_qpdf_get_error_code(q, e);
  const char *file = sym_qpdf_get_error_filename(q, e);
  if (where && file && *file)
    *where = g_strdup(file);
  const char *detail = sym_qpdf_get_error_message_detail(q, e);
  unsigned long long offset = sym_qpdf_get_error_file_position(q, e);
  char *line = detail && *detail ? (offset ? g_strdup_printf("%s (at offset %llu)", detail, offset) : g_strdup(detail))
                                 : g_strdup(sym_qpdf_get_error_full_text(q, e));
  g_strdelimit(line, "\r\n\t", ' ');
  /* qpdf may quote a long stretch of the damaged input. */
  if (strlen(line) > 240)
    strcpy(line + 237, "...");
  return line;
}

/* Checks that path is a readable file with a PDF header in its first 1024
 * bytes. */
static gboolean check_pdf_header(const char *path, GError **error) {
  int fd = g_open(path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0) {
    int errsv = errno;
    g_set_error(error, SCAND_ERROR, errsv == ENOENT ? SCAND_ERROR_NOT_FOUND : SCAND_ERROR_IO, "%s: %s", path,
                g_strerror(errsv));
    return FALSE;
  }
  char buf[PDF_HEADER_WINDOW];
  gsize len = 0;
  while (len < sizeof buf) {
    ssize_t n = read(fd, buf + len, sizeof buf - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int errsv = errno;
      close(fd);
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: %s", path, g_strerror(errsv));
      return FALSE;
    }
    if (n == 0)
      break;
    len += (gsize) n;
  }
  close(fd);
  if (!memmem(buf, len, "%PDF-", 5)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: not a PDF", path);
    return FALSE;
  }
  return TRUE;
}

/* Nodes of one page tree walked at most before qpdf builds its page list. */
#define PAGE_TREE_NODE_BUDGET (4 * SCAND_PDF_MERGE_MAX_PAGES)
/* qpdf 11 walks the page tree recursively and overflows the stack somewhere
 * past 10000 levels; real trees are balanced and a few levels deep. */
#define PAGE_TREE_MAX_DEPTH 256

typedef struct {
  qpdf_oh oh;
  guint depth;
} TreeNode;

/* A hash key for an indirect object: its number and generation. */
static gpointer object_key(qpdf_data q, qpdf_oh oh) {
  return GSIZE_TO_POINTER(((gsize) (guint) sym_qpdf_oh_get_object_id(q, oh) << 16) ^
                          (guint) sym_qpdf_oh_get_generation(q, oh));
}

/* qpdf's page list costs kilobytes per page, and a few bytes of "3 0 R"
 * repeated in /Kids make a page each, so a 1 MB file can ask for 150000
 * pages and a gigabyte; and a deep enough tree crashes qpdf. This walk
 * counts the leaves of the page tree (an upper bound of qpdf's count) and
 * measures its depth, within a fixed budget, before qpdf sees it. */
static gboolean page_tree_check_size(MergeInput *in, GError **error) {
  qpdf_data q = in->qpdf;
  g_autoptr(GHashTable) seen = g_hash_table_new(g_direct_hash, g_direct_equal);
  g_autoptr(GArray) stack = g_array_new(FALSE, FALSE, sizeof(TreeNode));
  qpdf_oh root = sym_qpdf_get_root(q);
  TreeNode top = { sym_qpdf_oh_get_key(q, root, "/Pages"), 0 };
  sym_qpdf_oh_release(q, root);
  g_array_append_val(stack, top);
  guint leaves = 0, nodes = 0;
  gboolean ok = TRUE, too_deep = FALSE;

  while (stack->len > 0) {
    TreeNode node = g_array_index(stack, TreeNode, stack->len - 1);
    qpdf_oh oh = node.oh;
    g_array_set_size(stack, stack->len - 1);
    nodes++;
    if (!sym_qpdf_oh_is_dictionary(q, oh) || !sym_qpdf_oh_has_key(q, oh, "/Kids")) {
      leaves++;
    } else if (sym_qpdf_oh_is_indirect(q, oh) && !g_hash_table_add(seen, object_key(q, oh))) {
      /* A loop or a shared subtree: qpdf's own walk reports it. */
    } else if (node.depth >= PAGE_TREE_MAX_DEPTH) {
      ok = FALSE;
      too_deep = TRUE;
    } else {
      qpdf_oh kids = sym_qpdf_oh_get_key(q, oh, "/Kids");
      int n = sym_qpdf_oh_is_array(q, kids) ? sym_qpdf_oh_get_array_n_items(q, kids) : 0;
      for (int i = 0; i < n && ok; i++) {
        if (nodes + stack->len >= PAGE_TREE_NODE_BUDGET)
          ok = FALSE;
        else {
          TreeNode kid = { sym_qpdf_oh_get_array_item(q, kids, i), node.depth + 1 };
          g_array_append_val(stack, kid);
        }
      }
      sym_qpdf_oh_release(q, kids);
    }
    sym_qpdf_oh_release(q, oh);
    if (leaves > SCAND_PDF_MERGE_MAX_PAGES)
      ok = FALSE;
    if (!ok)
      break;
  }
  for (guint i = 0; i < stack->len; i++)
    sym_qpdf_oh_release(q, g_array_index(stack, TreeNode, i).oh);
  /* Damage met here is met again, and reported, by qpdf's page count. */
  if (sym_qpdf_has_error(q))
    g_free(qpdf_take_error(q, NULL, NULL));
  if (too_deep)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: page tree deeper than %u levels", in->path,
                PAGE_TREE_MAX_DEPTH);
  else if (!ok)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: more than %u pages, the most scand handles", in->path,
                SCAND_PDF_MERGE_MAX_PAGES);
  return ok;
}

/* Opens in->path with qpdf and counts its pages; refuses encrypted files. */
static gboolean merge_input_open(MergeInput *in, GError **error) {
  if (!check_pdf_header(in->path, error) || !dl_qpdf_load(error))
    return FALSE;
  in->qpdf = quiet_qpdf_new();
  if (in->strict)
    sym_qpdf_set_attempt_recovery(in->qpdf, QPDF_FALSE);
  if (sym_qpdf_read(in->qpdf, in->path, "") & QPDF_ERRORS) {
    enum qpdf_error_code_e code;
    g_autofree char *why = qpdf_take_error(in->qpdf, &code, NULL);
    if (code == qpdf_e_password) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_DENIED, "%s is encrypted", in->path);
      return FALSE;
    }
    g_set_error(error, SCAND_ERROR, code == qpdf_e_system ? SCAND_ERROR_IO : SCAND_ERROR_INVAL, "%s: damaged PDF: %s",
                in->path, why);
    return FALSE;
  }
  /* An empty user password opens files that only restrict permissions. */
  if (sym_qpdf_is_encrypted(in->qpdf)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_DENIED, "%s is encrypted", in->path);
    return FALSE;
  }
  if (!page_tree_check_size(in, error))
    return FALSE;
  int n = sym_qpdf_get_num_pages(in->qpdf);
  if (n < 0 || sym_qpdf_has_error(in->qpdf)) {
    g_autofree char *why = qpdf_take_error(in->qpdf, NULL, NULL);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: damaged page tree: %s", in->path, why);
    return FALSE;
  }
  in->n_pages = (guint) n;
  return TRUE;
}

/* Closes the input's file; safe on one never opened. */
static void merge_input_close(MergeInput *in) {
  if (in->qpdf)
    sym_qpdf_cleanup(&in->qpdf);
}

/* "1.4" < "1.10": compares PDF versions numerically. */
static gboolean pdf_version_less(const char *a, const char *b) {
  unsigned amaj = 0, amin = 0, bmaj = 0, bmin = 0;
  if (sscanf(a, "%u.%u", &amaj, &amin) != 2)
    return FALSE;
  if (sscanf(b, "%u.%u", &bmaj, &bmin) != 2)
    return TRUE;
  return amaj < bmaj || (amaj == bmaj && amin < bmin);
}

/* Creates an empty temporary file beside output, readable by others like every
 * scanned document; returns its path (caller frees) or NULL. */
static char *make_temp_beside(const char *output, GError **error) {
  g_autofree char *dir = g_path_get_dirname(output);
  g_autofree char *base = g_path_get_basename(output);
  char *tmp = g_strdup_printf("%s/.%s.XXXXXX", dir, base);
  int fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0644);
  if (fd < 0) {
    int errsv = errno;
    g_set_error(error, SCAND_ERROR, errsv == ENOENT ? SCAND_ERROR_NOT_FOUND : SCAND_ERROR_IO,
                "%s: cannot create a temporary file: %s", output, g_strerror(errsv));
    g_free(tmp);
    return NULL;
  }
  /* mkstemp makes 0600; a scanned document is meant to be read by others. */
  fchmod(fd, 0644);
  close(fd);
  return tmp;
}

/* Builds the output document in a qpdf handle from opened inputs and writes it
 * to tmp. */
static gboolean write_merged(MergeInput *ins, const ScandPdfPageRef *order, guint n_pages, const char *output,
                             const char *tmp, GError **error) {
  if (!dl_qpdf_load(error))
    return FALSE;
  qpdf_data out = quiet_qpdf_new();
  gboolean ok = FALSE;
  /* qpdf's strings live only until the next call on the same handle. */
  g_autofree char *min_version = g_strdup("1.3");

  if (sym_qpdf_empty_pdf(out) & QPDF_ERRORS) {
    g_autofree char *why = qpdf_take_error(out, NULL, NULL);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "%s: %s", output, why);
    goto done;
  }
  for (guint i = 0; i < n_pages; i++) {
    MergeInput *in = &ins[order[i].input];
    qpdf_oh page = sym_qpdf_get_page_n(in->qpdf, order[i].page);
    if (sym_qpdf_has_error(in->qpdf) || !sym_qpdf_oh_is_initialized(in->qpdf, page)) {
      g_autofree char *why = qpdf_take_error(in->qpdf, NULL, NULL);
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: page %u: %s", in->path, order[i].page + 1, why);
      goto done;
    }
    if (sym_qpdf_add_page(out, in->qpdf, page, QPDF_FALSE) & QPDF_ERRORS) {
      g_autofree char *why = qpdf_take_error(out, NULL, NULL);
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: cannot copy page %u: %s", in->path, order[i].page + 1,
                  why);
      goto done;
    }
    const char *v = sym_qpdf_get_pdf_version(in->qpdf);
    if (v && pdf_version_less(min_version, v)) {
      g_free(min_version);
      min_version = g_strdup(v);
    }
  }

  if (sym_qpdf_init_write(out, tmp) & QPDF_ERRORS) {
    g_autofree char *why = qpdf_take_error(out, NULL, NULL);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: %s", output, why);
    goto done;
  }
  /* Copy streams as they are: re-compressing scanned images costs time and
   * gains nothing. */
  sym_qpdf_set_stream_data_mode(out, qpdf_s_preserve);
  /* Copied objects may use features of the inputs' versions. */
  sym_qpdf_set_minimum_pdf_version(out, min_version);
  if (sym_qpdf_write(out) & QPDF_ERRORS) {
    g_autofree char *where = NULL;
    g_autofree char *why = qpdf_take_error(out, NULL, &where);
    /* Stream data of the inputs is read now, so the culprit may be an input. */
    const char *culprit = output;
    for (guint i = 0; i < n_pages && where && *where; i++)
      if (g_strcmp0(ins[order[i].input].path, where) == 0)
        culprit = ins[order[i].input].path;
    g_set_error(error, SCAND_ERROR, culprit == output ? SCAND_ERROR_IO : SCAND_ERROR_INVAL, "%s: %s", culprit, why);
    goto done;
  }
  ok = TRUE;
done:
  sym_qpdf_cleanup(&out);
  return ok;
}

/* Opens every input the order uses, checks every reference, writes the output
 * to a temporary file and commits it. */
gboolean scand_pdf_merge(const char *const *inputs, const ScandPdfPageRef *order, guint n_pages, const char *output,
                         GError **error) {
  g_return_val_if_fail(inputs != NULL, FALSE);
  g_return_val_if_fail(output != NULL, FALSE);
  g_return_val_if_fail(order != NULL || n_pages == 0, FALSE);

  if (n_pages == 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: a PDF needs at least one page", output);
    return FALSE;
  }
  if (n_pages > SCAND_PDF_MERGE_MAX_PAGES) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: %u pages are more than the limit of %u", output, n_pages,
                SCAND_PDF_MERGE_MAX_PAGES);
    return FALSE;
  }
  guint n_inputs = 0;
  while (inputs[n_inputs])
    n_inputs++;
  for (guint i = 0; i < n_pages; i++) {
    if (order[i].input >= n_inputs) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                  "%s: output page %u refers to input %u, but there are only %u inputs", output, i + 1,
                  order[i].input + 1, n_inputs);
      return FALSE;
    }
  }

  MergeInput *ins = g_new0(MergeInput, n_inputs);
  for (guint i = 0; i < n_inputs; i++)
    ins[i].path = inputs[i];
  gboolean ok = FALSE;
  g_autofree char *tmp = NULL;

  for (guint i = 0; i < n_pages; i++) {
    MergeInput *in = &ins[order[i].input];
    if (!in->qpdf && !merge_input_open(in, error))
      goto done;
    if (order[i].page >= in->n_pages) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: page %u does not exist (it has %u page%s)", in->path,
                  order[i].page + 1, in->n_pages, in->n_pages == 1 ? "" : "s");
      goto done;
    }
  }

  tmp = make_temp_beside(output, error);
  if (!tmp)
    goto done;
  if (!write_merged(ins, order, n_pages, output, tmp, error))
    goto done;
  /* The inputs are no longer needed once the output is written. */
  for (guint i = 0; i < n_inputs; i++)
    merge_input_close(&ins[i]);
  if (!scand_fs_commit(tmp, output, error))
    goto done;
  g_clear_pointer(&tmp, g_free);
  ok = TRUE;
done:
  if (tmp)
    g_unlink(tmp);
  for (guint i = 0; i < n_inputs; i++)
    merge_input_close(&ins[i]);
  g_free(ins);
  return ok;
}

/* Opens path only to count its pages. */
gboolean scand_pdf_count_pages(const char *path, guint *pages, GError **error) {
  g_return_val_if_fail(path != NULL, FALSE);
  g_return_val_if_fail(pages != NULL, FALSE);
  MergeInput in = { .path = path };
  gboolean ok = merge_input_open(&in, error);
  if (ok)
    *pages = in.n_pages;
  merge_input_close(&in);
  return ok;
}

gboolean scand_pdf_check_readable(const char *path, gboolean repair, guint *pages, GError **error) {
  MergeInput in = { .path = path, .strict = !repair };
  gboolean ok = merge_input_open(&in, error);
  if (ok && pages)
    *pages = in.n_pages;
  merge_input_close(&in);
  return ok;
}

/* Counts both files, then merges f1, bN, f2, bN-1, ... */
gboolean scand_pdf_collate_double_sided(const char *fronts, const char *backs, const char *output, GError **error) {
  g_return_val_if_fail(fronts != NULL && backs != NULL && output != NULL, FALSE);
  guint n_fronts = 0, n_backs = 0;
  if (!scand_pdf_count_pages(fronts, &n_fronts, error) || !scand_pdf_count_pages(backs, &n_backs, error))
    return FALSE;
  if (n_fronts != n_backs) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "%s has %u front page%s but %s has %u back page%s; both passes must have the same count", fronts,
                n_fronts, n_fronts == 1 ? "" : "s", backs, n_backs, n_backs == 1 ? "" : "s");
    return FALSE;
  }
  if (n_fronts > SCAND_PDF_MERGE_MAX_PAGES / 2) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: %u sheets are more than the limit of %u", output, n_fronts,
                SCAND_PDF_MERGE_MAX_PAGES / 2);
    return FALSE;
  }
  const char *const inputs[] = { fronts, backs, NULL };
  g_autofree ScandPdfPageRef *order = g_new(ScandPdfPageRef, 2 * (gsize) n_fronts + 1);
  for (guint i = 0; i < n_fronts; i++) {
    order[2 * i] = (ScandPdfPageRef){ .input = 0, .page = i };
    order[2 * i + 1] = (ScandPdfPageRef){ .input = 1, .page = n_fronts - 1 - i };
  }
  return scand_pdf_merge(inputs, order, 2 * n_fronts, output, error);
}

/* Counts every input, then merges all their pages in order. */
gboolean scand_pdf_concatenate(const char *const *inputs, const char *output, GError **error) {
  g_return_val_if_fail(inputs != NULL && output != NULL, FALSE);
  g_autoptr(GArray) order = g_array_new(FALSE, FALSE, sizeof(ScandPdfPageRef));
  for (guint i = 0; inputs[i]; i++) {
    guint n = 0;
    if (!scand_pdf_count_pages(inputs[i], &n, error))
      return FALSE;
    if (n > SCAND_PDF_MERGE_MAX_PAGES - order->len) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: more than %u pages in all", output,
                  SCAND_PDF_MERGE_MAX_PAGES);
      return FALSE;
    }
    for (guint p = 0; p < n; p++) {
      ScandPdfPageRef ref = { .input = i, .page = p };
      g_array_append_val(order, ref);
    }
  }
  return scand_pdf_merge(inputs, (const ScandPdfPageRef *) (void *) order->data, order->len, output, error);
}
