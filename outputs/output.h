/* Destinations behind one interface: deliver(file, metadata) → done | retry | failed.
 *
 * A delivery is one job's PDF going to one configured output. Drivers must be
 * idempotent: a delivery may be attempted again after a crash at any instant,
 * so a driver records what it is about to do with scand_delivery_set_state()
 * (durable before it returns) and, on the next attempt, reads it back to finish
 * or undo the earlier attempt instead of writing a second copy. */
#pragma once

#include <glib.h>
#include "scand/base/config.h"

G_BEGIN_DECLS

typedef enum {
  SCAND_DELIVERY_DONE,
  SCAND_DELIVERY_RETRY,  /* temporary: network down, server busy, no medium */
  SCAND_DELIVERY_FAILED, /* permanent until someone acts: auth, permissions, too large */
} ScandDeliveryResult;

typedef struct ScandDelivery ScandDelivery;

/* The PDF to deliver (in the spool; read it, never move it). */
const char *scand_delivery_get_file(ScandDelivery *d);
/* The relative file name the rule's template produced, e.g. "2026-11-28/office-0042.pdf".
 * Safe: no "..", not absolute, no control characters. */
const char *scand_delivery_get_name(ScandDelivery *d);
const char *scand_delivery_get_job_id(ScandDelivery *d);
/* Name of the [output] section (or "--to" for an ad-hoc one). */
const char *scand_delivery_get_output_name(ScandDelivery *d);
/* A key of the output's configuration (NULL when unset). */
const char *scand_delivery_get_config(ScandDelivery *d, const char *key);
/* Reads a *-file secret of the output's configuration (see scand_config_read_secret). */
char *scand_delivery_read_secret(ScandDelivery *d, const char *key, GError **error);
/* A job fact by its key in the facts table (scand/base/facts.c): "device",
 * "profile", "pages", "created", … NULL when unset. */
const char *scand_delivery_get_fact(ScandDelivery *d, const char *key);
/* A mail subject or body: tmpl with the job's facts expanded by the one
 * template engine ({device}, {pages}, {name}, {date}, …; see
 * rules/template.h). Newly allocated. */
char *scand_delivery_expand_text(ScandDelivery *d, const char *tmpl);

/* Per-delivery state that survives crashes. set_state() returns only once the
 * value is durable; value NULL removes the key. */
const char *scand_delivery_get_state(ScandDelivery *d, const char *key);
gboolean scand_delivery_set_state(ScandDelivery *d, const char *key, const char *value, GError **error);

/* Like set_state, but kept in memory until the job's next save: for facts that
 * a crash may lose because the next attempt finds them again (e.g. "delivered",
 * the final path, shown to the user). */
void scand_delivery_note_state(ScandDelivery *d, const char *key, const char *value);
/* Whether the job's outcome is group-committed (scand_job_defer_durability()):
 * a driver that finds its own attempt may then leave what a retry needs to
 * find it in place until its settle hook runs, instead of saving a record. */
gboolean scand_delivery_is_deferred(ScandDelivery *d);

/* Seconds the driver asks to wait before the next attempt (Retry-After); 0 = default backoff. */
void scand_delivery_set_retry_after(ScandDelivery *d, gint64 seconds);

typedef struct {
  const char *type;           /* the value of "type =" */
  const ScandConfigKey *keys; /* keys besides "type", terminated by {NULL} */
  /* Extra validation for `scand config check` (may be NULL); appends one-line
   * messages to problems. */
  void (*check)(ScandConfig *config, const char *name, GPtrArray *problems);
  /* Delivers. On RETRY and FAILED sets error to one line that names the
   * destination and the cause. */
  ScandDeliveryResult (*deliver)(ScandDelivery *d, GError **error);
  /* A retry after a crash finds what an earlier attempt delivered (a target
   * recorded durably before the file got its name): its "done" may become
   * durable with the next group commit (scand_job_defer_durability()) instead
   * of at once, with no risk of a second copy. */
  gboolean finds_own_attempt;
  /* After a deferred delivery's outcome became durable (may be NULL): removes
   * what deliver left for a retry to find it by. Best effort. */
  void (*settle)(ScandDelivery *d);
} ScandOutputDriver;

/* The driver for a type, or NULL. */
const ScandOutputDriver *scand_output_driver_find(const char *type);
/* Resolves a destination as written on a command line or in a rule into an
 * output name and a snapshot of its configuration (newly allocated table of
 * key → value): an [output] name from config (may be NULL); "smb://…"
 * (type smb, url); "usb:LABEL" (type usb, label); "print:QUEUE" (type print,
 * queue); anything else is a directory (type folder, created when missing). */
GHashTable *scand_output_resolve(ScandConfig *config, const char *to, char **output_name, GError **error);

/* All drivers, NULL-terminated. */
const ScandOutputDriver *const *scand_output_drivers(void);

G_END_DECLS
