/* The vocabulary of the configuration file: which section kinds exist, and
 * the keys each takes with their types (data, one row a key). Output types add
 * their own keys (outputs/output.h), and `scand config check`
 * (scand/core/config-check.h) puts the two together. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  SCAND_KEY_STRING,
  SCAND_KEY_BOOL,
  SCAND_KEY_INT,         /* min..max */
  SCAND_KEY_DURATION,    /* "90", "5s", "30m", "2h", "1d" */
  SCAND_KEY_ENUM,        /* one of values, "a|b|c" */
  SCAND_KEY_PATH,        /* absolute path */
  SCAND_KEY_SECRET_FILE, /* a file that must not be readable by group/others */
  SCAND_KEY_FILE,        /* a readable file (certificates, CA bundles) */
  SCAND_KEY_OUTPUT,      /* name of an [output] section */
  SCAND_KEY_OUTPUT_LIST, /* comma/semicolon separated [output] names */
  SCAND_KEY_PROFILE,     /* name of a [profile] section */
  SCAND_KEY_TEMPLATE,    /* a file-name template (rules/template.h) */
  SCAND_KEY_DEVICE,      /* a device URI: sane:…, escl:… or wsd:… */
  SCAND_KEY_URL,         /* an absolute URL */
  SCAND_KEY_LIST,        /* free list of strings */
  SCAND_KEY_SIZE,        /* bytes: "1048576", "512k", "25M", "1G" */
  SCAND_KEY_DAYS,        /* days of the week: "mon-fri", "sat,sun" (base/schedule.h) */
  SCAND_KEY_HOURS,       /* times of day: "08:00-18:00" (base/schedule.h) */
} ScandKeyType;

typedef struct {
  const char *name;
  ScandKeyType type;
  const char *values; /* SCAND_KEY_ENUM: "a|b|c" */
  gint64 min, max;    /* SCAND_KEY_INT */
} ScandConfigKey;

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
