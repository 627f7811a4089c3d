/* Attachments out of received mail: which parts are taken, which are not and
 * why, the headers, and decoding to disk with the completeness check. The
 * messages are the fuzz corpus (tests/fuzz/corpus/fuzz-mime-attachments). */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "scand/base/fs.h"
#include "scand/core/mail-attachments.h"

static char *corpus(const char *name) {
  return g_build_filename(g_getenv("SCAND_SRCDIR"), "tests", "fuzz", "corpus", "fuzz-mime-attachments", name, NULL);
}

static ScandReceivedMail *open_corpus(const char *name) {
  g_autofree char *path = corpus(name);
  g_autoptr(GError) error = NULL;
  ScandReceivedMail *mail = scand_received_mail_open(path, &error);
  g_assert_no_error(error);
  return mail;
}

/* name of the message, the attachments taken ("name:kind" joined by ','),
 * and a text every skipped part's reason list must contain (or NULL: none). */
static const struct {
  const char *message;
  const char *taken;
  const char *skipped;
} rows[] = {
  { "one-pdf.eml", "scan0001.pdf:pdf", NULL },
  { "three-images.eml", "p1.jpg:jpg,p2.png:png,p3.tif:tif", NULL },
  { "octet-stream-pdf.eml", "SCAN_0042.PDF:pdf", NULL },
  { "exe-as-pdf.eml", "", "invoice.pdf: an executable (by its content)" },
  { "pdf-named-exe.eml", "", "invoice.pdf.exe: an executable (by its name)" },
  { "png-declared-pdf.eml", "", "scan.pdf: declared a PDF but the content is not one" },
  { "no-attachment.eml", "", NULL },
  { "html-inline-logo.eml", "doc.pdf:pdf", "an inline image without a name" },
  { "qp-pdf.eml", "qp.pdf:pdf", NULL },
  { "forwarded.eml", "", "a forwarded message" },
  { "nested-deep.eml", "", "nested too deeply" },
  { "single-part-pdf.eml", "x.pdf:pdf", NULL },
};

static void test_which_parts(void) {
  for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
    g_autoptr(ScandReceivedMail) mail = open_corpus(rows[i].message);
    GPtrArray *atts = scand_received_mail_get_attachments(mail);
    g_autoptr(GString) taken = g_string_new(NULL);
    for (guint k = 0; k < atts->len; k++) {
      const ScandAttachment *a = atts->pdata[k];
      g_string_append_printf(taken, "%s%s:%s", k ? "," : "", a->filename, scand_attachment_kind_extension(a->kind));
    }
    if (strcmp(taken->str, rows[i].taken) != 0)
      g_error("%s: took \"%s\", expected \"%s\"", rows[i].message, taken->str, rows[i].taken);
    GPtrArray *skipped = scand_received_mail_get_skipped(mail);
    g_autofree char *reasons = NULL;
    g_ptr_array_add(skipped, NULL);
    reasons = g_strjoinv("; ", (char **) skipped->pdata);
    g_ptr_array_remove_index(skipped, skipped->len - 1);
    if (rows[i].skipped ? !strstr(reasons, rows[i].skipped) : skipped->len != 0)
      g_error("%s: skipped \"%s\", expected \"%s\"", rows[i].message, reasons, rows[i].skipped);
  }
}

static void test_headers(void) {
  g_autoptr(ScandReceivedMail) mail = open_corpus("utf8-names.eml");
  g_assert_cmpstr(scand_received_mail_get_subject(mail), ==,
                  "\xc3\x9c"
                  "bersicht Scan");
  g_assert_cmpstr(scand_received_mail_get_from_address(mail), ==, "scan@copier.example");
  g_assert_cmpstr(scand_received_mail_get_from_name(mail), ==, "scanner@mfp (B\xc3\xbcro)");
  GPtrArray *atts = scand_received_mail_get_attachments(mail);
  g_assert_cmpuint(atts->len, ==, 1);
  /* the name as sent; whoever uses it as a file name sanitises it */
  g_assert_cmpstr(((ScandAttachment *) atts->pdata[0])->filename, ==,
                  "\xc3\x9c"
                  "bersicht 2026/03.pdf");
  g_autoptr(ScandReceivedMail) pdf = open_corpus("one-pdf.eml");
  g_assert_cmpstr(scand_received_mail_get_message_id(pdf), ==, "one-pdf@copier.example");
  g_assert_cmpstr(scand_received_mail_get_from_name(pdf), ==, "Scanner");
  g_autoptr(ScandReceivedMail) control = open_corpus("headers-only.eml");
  const char *subject = scand_received_mail_get_subject(control);
  for (const char *p = subject; p && *p; p++)
    g_assert_true((guchar) *p >= 0x20 && *p != 0x7f);
}

static void test_save(void) {
  g_autofree char *dir = g_dir_make_tmp("test-mail-XXXXXX", NULL);
  g_autoptr(ScandReceivedMail) mail = open_corpus("three-images.eml");
  GPtrArray *atts = scand_received_mail_get_attachments(mail);
  for (guint i = 0; i < atts->len; i++) {
    const ScandAttachment *a = atts->pdata[i];
    g_autofree char *dest = g_strdup_printf("%s/%u.%s", dir, i, scand_attachment_kind_extension(a->kind));
    g_autoptr(GError) error = NULL;
    g_assert_true(scand_received_mail_save_attachment(mail, a, dest, 0, &error));
    g_assert_no_error(error);
    g_autofree char *bytes = NULL;
    gsize len = 0;
    g_assert_true(g_file_get_contents(dest, &bytes, &len, NULL));
    g_assert_true(scand_attachment_magic_matches(a->kind, (const guchar *) bytes, len));
  }
  /* a PDF cut in half and a JPEG without its end: refused, nothing left */
  const char *const cut[] = { "truncated-pdf.eml", "truncated-jpeg.eml" };
  for (guint i = 0; i < G_N_ELEMENTS(cut); i++) {
    g_autoptr(ScandReceivedMail) m = open_corpus(cut[i]);
    GPtrArray *a = scand_received_mail_get_attachments(m);
    g_assert_cmpuint(a->len, ==, 1);
    g_autofree char *dest = g_build_filename(dir, "cut", NULL);
    g_autoptr(GError) error = NULL;
    g_assert_false(scand_received_mail_save_attachment(m, a->pdata[0], dest, 0, &error));
    g_assert_nonnull(strstr(error->message, "cut short"));
    g_assert_false(g_file_test(dest, G_FILE_TEST_EXISTS));
  }
  /* larger than allowed */
  g_autoptr(ScandReceivedMail) big = open_corpus("one-pdf.eml");
  g_autofree char *dest = g_build_filename(dir, "big.pdf", NULL);
  g_autoptr(GError) error = NULL;
  g_assert_false(
      scand_received_mail_save_attachment(big, scand_received_mail_get_attachments(big)->pdata[0], dest, 10, &error));
  g_assert_false(g_file_test(dest, G_FILE_TEST_EXISTS));
  scand_fs_remove_tree(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/mail-attachments/which-parts", test_which_parts);
  g_test_add_func("/mail-attachments/headers", test_headers);
  g_test_add_func("/mail-attachments/save", test_save);
  return g_test_run();
}
