/* The vocabulary of the configuration file: which section kinds exist, and
 * the keys each takes with their types (data, one row a key). Output types add
 * their own keys (outputs/output.h), and `scand config check`
 * (scand/core/config-check.h) puts the two together. */
#pragma once

#include <glib.h>
#include "scand/base/config-key.h"

G_BEGIN_DECLS

typedef struct {
  const char *kind;
  const ScandConfigKey *keys; /* {NULL}-terminated */
  gboolean named;             /* "[kind NAME]" rather than "[kind]" */
  const char *required;       /* keys that must be set, "a|b", or NULL */
} ScandConfigKind;

/* The section kinds, in the order the documentation lists them; *n_kinds
 * gets their number. Static. */
const ScandConfigKind *scand_config_kinds(guint *n_kinds);

/* A kind by name, or NULL. The "output" kind lists only "type", whose values
 * (the output types) the driver table knows: see scand_config_schema(). */
const ScandConfigKind *scand_config_kind_find(const char *kind);

/* Finds key in a {NULL}-terminated schema, or NULL. */
const ScandConfigKey *scand_config_schema_find(const ScandConfigKey *schema, const char *key);

G_END_DECLS
