/* The mail of a scan, shared by the smtp and graph-mail outputs (see mail.h). */
#include "outputs/mail.h"
#include "outputs/m365-auth.h"
#include "outputs/output-private.h"
#include "scand/base/error.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

void scand_mail_free(ScandMail *mail) {
  if (!mail)
    return;
  g_free(mail->output);
  g_free(mail->from);
  g_strfreev(mail->to);
  g_free(mail->subject);
  g_free(mail->body);
  g_free(mail->file);
  g_free(mail->attachment_name);
  g_free(mail);
}

/* A copy of a config value: the accessor's string lives only until its next call. */
static char *config_dup(ScandDelivery *d, const char *key) {
  return g_strdup(scand_delivery_get_config(d, key));
}

ScandMail *scand_mail_load(ScandDelivery *d, const char *from_key, gint64 default_max_size, GError **error) {
  g_autoptr(ScandMail) m = g_new0(ScandMail, 1);
  m->output = g_strdup(scand_delivery_get_output_name(d));
  m->from = config_dup(d, from_key);
  m->to = scand_config_split_list(scand_delivery_get_config(d, "to"));
  if (!m->from || !m->to[0]) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s and to are required", from_key);
    return NULL;
  }
  m->max_size = default_max_size;
  g_autofree char *max = config_dup(d, "max-size");
  if (max && !scand_config_parse_size(max, &m->max_size)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "max-size \"%s\" is not a size", max);
    return NULL;
  }
  m->file = g_strdup(scand_delivery_get_file(d));
  struct stat st;
  if (stat(m->file, &st) < 0) {
    int errsv = errno;
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "cannot read %s: %s", m->file, g_strerror(errsv));
    return NULL;
  }
  m->size = (guint64) st.st_size;
  g_autofree char *subject = config_dup(d, "subject");
  g_autofree char *body = config_dup(d, "body");
  m->subject = scand_delivery_expand_text(d, subject ? subject : SCAND_MAIL_DEFAULT_SUBJECT);
  m->body = scand_delivery_expand_text(d, body ? body : SCAND_MAIL_DEFAULT_BODY);
  m->attachment_name = g_path_get_basename(scand_delivery_get_name(d));
  return g_steal_pointer(&m);
}

void scand_mail_check(ScandConfig *config, const char *name, const char *from_key, GPtrArray *problems) {
  if (!scand_config_get(config, "output", name, from_key))
    scand_config_add_problem(problems, config, "output", name, NULL, "%s is required", from_key);
  if (!scand_config_get(config, "output", name, "to"))
    scand_config_add_problem(problems, config, "output", name, NULL, "to is required");
}
