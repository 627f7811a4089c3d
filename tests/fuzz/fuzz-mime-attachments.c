/* Fuzzes attachment extraction from a received mail (GMime over the bytes as
 * a file, as the spool holds them). Invariants: every attachment taken is
 * saved with the magic of its kind and passes the completeness check, or
 * fails with an error and leaves nothing behind; every part not taken says
 * why; header values are valid UTF-8 without control characters. */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "scand/core/mail-attachments.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(gboolean ok, const char *what, const char *text) {
  if (!ok) {
    fprintf(stderr, "fuzz-mime-attachments: %s: \"%s\"\n", what, text ? text : "(null)");
    abort();
  }
}

static void require_clean(const char *text) {
  if (!text)
    return;
  require(g_utf8_validate(text, -1, NULL), "header value not UTF-8", text);
  for (const char *p = text; *p; p++)
    require((guchar) *p >= 0x20 && *p != 0x7f, "control character in a header value", text);
}

static const char *scratch(void) {
  static char *dir;
  if (!dir)
    dir = g_dir_make_tmp("fuzz-mime-XXXXXX", NULL);
  return dir;
}

static void check_saved(ScandReceivedMail *mail, const ScandAttachment *a, guint i) {
  g_autofree char *dest = g_strdup_printf("%s/att-%u.%s", scratch(), i, scand_attachment_kind_extension(a->kind));
  g_autoptr(GError) error = NULL;
  gboolean ok = scand_received_mail_save_attachment(mail, a, dest, 64 * 1024 * 1024, &error);
  require(ok == (error == NULL), "save and error disagree", dest);
  g_autofree char *tmp = g_strdup_printf("%s.part", dest);
  require(!g_file_test(tmp, G_FILE_TEST_EXISTS), "temporary file left behind", tmp);
  if (!ok) {
    require(!g_file_test(dest, G_FILE_TEST_EXISTS), "failed save left a file", dest);
    return;
  }
  g_autofree char *bytes = NULL;
  gsize len = 0;
  require(g_file_get_contents(dest, &bytes, &len, NULL), "saved file unreadable", dest);
  require(scand_attachment_magic_matches(a->kind, (const guchar *) bytes, len), "saved file has the wrong magic", dest);
  g_unlink(dest);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  int fd = memfd_create("mail", MFD_CLOEXEC);
  require(fd >= 0, "memfd_create", NULL);
  require(size == 0 || write(fd, data, size) == (ssize_t) size, "write", NULL);
  lseek(fd, 0, SEEK_SET);
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandReceivedMail) mail = scand_received_mail_open_fd(fd, &error);
  require((mail == NULL) == (error != NULL), "open and error disagree", NULL);
  if (!mail)
    return 0;
  require_clean(scand_received_mail_get_subject(mail));
  require_clean(scand_received_mail_get_from_address(mail));
  require_clean(scand_received_mail_get_from_name(mail));
  require_clean(scand_received_mail_get_message_id(mail));
  GPtrArray *atts = scand_received_mail_get_attachments(mail);
  for (guint i = 0; i < atts->len && i < 8; i++) {
    const ScandAttachment *a = atts->pdata[i];
    require(a->mime_type && *a->mime_type, "attachment without a type", NULL);
    require_clean(a->filename);
    require(i == 0 || a->part > ((const ScandAttachment *) atts->pdata[i - 1])->part, "parts out of order", NULL);
    check_saved(mail, a, i);
  }
  GPtrArray *skipped = scand_received_mail_get_skipped(mail);
  for (guint i = 0; i < skipped->len; i++) {
    require(strstr(skipped->pdata[i], ": ") != NULL, "skipped part without a reason", skipped->pdata[i]);
    require_clean(skipped->pdata[i]);
  }
  return 0;
}
