/* The types a configuration key can have: the vocabulary of every schema
 * (scand/base/config-schema.h, the output drivers' keys, the facts' rule
 * keys). */
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

G_END_DECLS
