/* The service's log: one line per event on stderr, which journald (or the
 * terminal) keeps. Library code does not log; it returns a GError. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Writes "scand: MESSAGE" and a newline to stderr in one write; line breaks
 * inside the message become spaces so that text from devices and servers
 * cannot forge log lines. Never pass a secret. Any thread. */
void scand_log(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

G_END_DECLS
