#include "scand/base/log.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

/* Whether stderr is the journal stream systemd connected ($JOURNAL_STREAM
 * is "DEVICE:INODE" of it; a child that inherited the variable but not the
 * stream writes lines). Decided once. */
static gboolean to_journal(void) {
  static gsize once;
  static gboolean journal;
  if (g_once_init_enter(&once)) {
    const char *stream = g_getenv("JOURNAL_STREAM");
    struct stat st;
    unsigned long long dev, ino;
    journal = stream && sscanf(stream, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 &&
              (unsigned long long) st.st_dev == dev && (unsigned long long) st.st_ino == ino;
    g_once_init_leave(&once, 1);
  }
  return journal;
}

/* text as one printable line, newly allocated: messages carry what peers
 * sent (a device's error text, a mail's subject, a Graph error), so bytes
 * that are not UTF-8 become U+FFFD and control characters (line breaks,
 * terminal escapes) become spaces. */
static char *line_clean(const char *text) {
  char *line = g_utf8_make_valid(text, -1);
  for (char *c = line; *c; c++)
    if ((guchar) *c < 0x20 || *c == 0x7f)
      *c = ' ';
  return line;
}

/* "NAME=value" made one clean line, newly allocated. */
static char *field(const char *name, const char *value) {
  g_autofree char *clean = line_clean(value);
  return g_strdup_printf("%s=%s", name, clean);
}

static void journal_send(const ScandLogFields *fields, const char *msg) {
  char *items[7];
  guint n = 0;
  items[n++] = field("MESSAGE", msg);
  items[n++] = g_strdup("PRIORITY=6");
  items[n++] = g_strdup("SYSLOG_IDENTIFIER=scand");
  if (fields) {
    const char *names[] = { "JOB", "DEVICE", "OUTPUT", "RULE" };
    const char *values[] = { fields->job, fields->device, fields->output, fields->rule };
    for (guint i = 0; i < G_N_ELEMENTS(names); i++)
      if (values[i] && *values[i] && n < G_N_ELEMENTS(items))
        items[n++] = field(names[i], values[i]);
  }
  struct iovec iov[G_N_ELEMENTS(items)];
  for (guint i = 0; i < n; i++)
    iov[i] = (struct iovec){ .iov_base = items[i], .iov_len = strlen(items[i]) };
  /* journald gone (restarting): the line still reaches stderr. */
  if (sd_journal_sendv(iov, (int) n) < 0)
    fprintf(stderr, "scand: %s\n", msg);
  for (guint i = 0; i < n; i++)
    g_free(items[i]);
}

G_GNUC_PRINTF(2, 0) static void log_va(const ScandLogFields *fields, const char *fmt, va_list ap) {
  g_autofree char *raw = g_strdup_vprintf(fmt, ap);
  g_autofree char *msg = line_clean(raw);
  if (to_journal())
    journal_send(fields, msg);
  else
    fprintf(stderr, "scand: %s\n", msg);
}

void scand_log(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  log_va(NULL, fmt, ap);
  va_end(ap);
}

void scand_log_fields(const ScandLogFields *fields, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  log_va(fields, fmt, ap);
  va_end(ap);
}

char *scand_log_output_of(const char *message) {
  if (!message || !g_str_has_prefix(message, "output "))
    return NULL;
  const char *name = message + strlen("output ");
  gsize n = strcspn(name, " :");
  return n && (name[n] == ':' || g_str_has_prefix(name + n, " (")) ? g_strndup(name, n) : NULL;
}
