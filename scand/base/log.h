/* The service's log: one line per event on stderr, which the terminal keeps;
 * under systemd (stderr is the journal stream named by $JOURNAL_STREAM) each
 * event goes to journald directly, with structured fields a fleet can search
 * (JOB=, DEVICE=, OUTPUT=, RULE=) beside MESSAGE=. Library code does not
 * log; it returns a GError. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What an event is about; any field may be NULL. Values are names (a job
 * id, a [scanner]/[output]/[rule] section), never secrets. */
typedef struct {
  const char *job;
  const char *device;
  const char *output;
  const char *rule;
} ScandLogFields;

/* Writes "scand: MESSAGE" and a newline to stderr in one write; line breaks
 * inside the message become spaces so that text from devices and servers
 * cannot forge log lines. Never pass a secret. Any thread. */
void scand_log(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

/* The same, with fields: journald gets them as JOB=, DEVICE=, OUTPUT=,
 * RULE=; the plain line is unchanged (the message names them already).
 * fields may be NULL. */
void scand_log_fields(const ScandLogFields *fields, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* "output NAME: …" or "output NAME (…)…" (the outputs' own message shapes):
 * NAME, newly allocated;
 * NULL for any other message. */
char *scand_log_output_of(const char *message);

G_END_DECLS
