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
  g_free(mail->reply_to);
  g_free(mail->reply_to_name);
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

gboolean scand_mail_address_is_plain(const char *addr) {
  static const char atext[] = "!#$%&'*+-/=?^_`{|}~.";
  const char *at = addr ? strrchr(addr, '@') : NULL;
  if (!at || at == addr || !at[1] || strlen(addr) > 254 || addr[0] == '.' || at[-1] == '.')
    return FALSE;
  for (const char *p = addr; p < at; p++)
    if (!g_ascii_isalnum(*p) && !strchr(atext, *p))
      return FALSE;
  for (const char *p = at + 1; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '.' && *p != '-')
      return FALSE;
  return at[1] != '.' && !strstr(addr, "..");
}

char *scand_mail_clean_display_name(const char *name) {
  if (!name || !g_utf8_validate(name, -1, NULL))
    return NULL;
  GString *s = g_string_new(NULL);
  guint chars = 0;
  for (const char *p = name; *p && chars < 64; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    const char *put = NULL;
    if (c == '@')
      put = " at ";
    else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == '"' || c == '\\' || c == '<' || c == '>' ||
             g_unichar_isspace(c))
      put = " ";
    if (put) {
      for (const char *q = put; *q; q++)
        if (*q != ' ' || (s->len && s->str[s->len - 1] != ' '))
          g_string_append_c(s, *q);
    } else {
      g_string_append_unichar(s, c);
    }
    chars++;
  }
  while (s->len && s->str[s->len - 1] == ' ')
    g_string_truncate(s, s->len - 1);
  return s->len ? g_string_free(s, FALSE) : (g_string_free(s, TRUE), NULL);
}

/* The recipients: the envelope's for a job from mail when the output asks
 * (envelope-to = true), else the output's `to`. */
static GStrv mail_recipients(ScandDelivery *d, gboolean from_mail, GError **error) {
  gboolean envelope = FALSE;
  const char *flag = scand_delivery_get_config(d, "envelope-to");
  if (flag && !scand_config_parse_bool(flag, &envelope)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "envelope-to \"%s\" is not true or false", flag);
    return NULL;
  }
  if (!envelope || !from_mail)
    return scand_config_split_list(scand_delivery_get_config(d, "to"));
  g_auto(GStrv) rcpts = scand_config_split_list(scand_delivery_get_fact(d, "mail-to"));
  for (guint i = 0; rcpts[i]; i++)
    if (!scand_mail_address_is_plain(rcpts[i])) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "envelope recipient \"%s\" is not a plain address", rcpts[i]);
      return NULL;
    }
  return g_steal_pointer(&rcpts);
}

/* A job from mail: its original sender as the Reply-To. */
static void mail_reply_to(ScandDelivery *d, ScandMail *m) {
  const char *header = scand_delivery_get_fact(d, "mail-from-header");
  const char *envelope = scand_delivery_get_fact(d, "mail-from");
  if (scand_mail_address_is_plain(header)) {
    m->reply_to = g_strdup(header);
    m->reply_to_name = scand_mail_clean_display_name(scand_delivery_get_fact(d, "mail-from-name"));
  } else if (scand_mail_address_is_plain(envelope)) {
    m->reply_to = g_strdup(envelope);
  }
}

ScandMail *scand_mail_load(ScandDelivery *d, const char *from_key, gint64 default_max_size, GError **error) {
  g_autoptr(ScandMail) m = g_new0(ScandMail, 1);
  m->output = g_strdup(scand_delivery_get_output_name(d));
  m->from = config_dup(d, from_key);
  gboolean from_mail = g_strcmp0(scand_delivery_get_fact(d, "source-kind"), "mail") == 0;
  m->to = mail_recipients(d, from_mail, error);
  if (!m->to)
    return NULL;
  if (!m->from || !m->to[0]) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s and to are required", from_key);
    return NULL;
  }
  if (from_mail)
    mail_reply_to(d, m);
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
  gboolean envelope = FALSE;
  scand_config_get_bool(config, "output", name, "envelope-to", FALSE, &envelope, NULL);
  if (!envelope && !scand_config_get(config, "output", name, "to"))
    scand_config_add_problem(problems, config, "output", name, NULL, "to is required (or envelope-to = true)");
}
