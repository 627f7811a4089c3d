/* A job's facts: where it came from, how it is made, what became of it.
 *
 * Typed fields, and one table (scand_facts_table()) that names each one: the
 * key it is stored under in job.ini (only scand/core/job.c reads and writes
 * that file), the [rule] key that matches it, the template field that
 * expands it. Rules (rules/rules.c), templates (rules/template.c) and the
 * configuration's [rule] schema reach facts through that table, so adding a
 * fact is one field here and one row in facts.c.
 *
 * A ScandJobFacts is a view: its strings are borrowed, from a job (valid as
 * long as the job) or from whoever fills one in to route a request. */
#pragma once

#include <glib.h>
#include "scand/base/config-key.h"

G_BEGIN_DECLS

typedef struct {
  /* where it came from */
  const char *source_kind;       /* "scan", "watch", "file", "mail" */
  const char *trigger;           /* "cli", "dbus", "feeder", "button", "panel", "watch", "deliver" */
  const char *device;            /* the device URI */
  const char *device_name;       /* a short name for the device (or the watched folder): {device} */
  const char *profile;           /* the [profile] used */
  const char *panel;             /* the walk-up destination a person picked on the device's panel */
  const char *watch;             /* the [watch] a watched file came from */
  const char *path;              /* that file's path inside the watched folder */
  const char *source_file;       /* the file taken in (watched folder, scand deliver) */
  const char *source_file_backs; /* the second pass of a collated pair */
  const char *source_id;         /* a watched file's identity, for exactly-once */
  const char *sender;            /* inbound mail: the sender */
  const char *recipient;         /* inbound mail: the recipient the job is for */
  const char *intake;            /* inbound mail: the [intake] that received it */
  const char *mail_from;         /* inbound mail: the envelope sender ("" for <>) */
  const char *mail_to;           /* inbound mail: its envelope recipients ("a@x, b@y"); one while routing */
  const char *subject;           /* inbound mail: the Subject */
  const char *attachment;        /* inbound mail: the attachment's name without its extension */
  const char *attachment_file;   /* inbound mail: the attachment's name as sent */
  const char *mail_from_header;  /* inbound mail: the From header's address */
  const char *mail_from_name;    /* inbound mail: the From header's display name */
  const char *message_id;        /* inbound mail: its Message-ID */
  const char *client_ip;         /* inbound mail: the SMTP client's address */
  const char *auth_user;         /* inbound mail: the [account] it logged in as */
  const char *queue_id;          /* inbound mail: the message in the intake's spool */
  const char *barcode;           /* page processing: the document's barcode (data) */
  const char *blanks;            /* page processing: its blank pages, "2,5" */
  /* how it is made */
  const char *source; /* the scan source: "flatbed", "feeder", "auto" */
  const char *mode;   /* "color", "gray", "lineart", "auto" */
  gboolean duplex;
  guint resolution; /* dpi; 0 = the device's default */
  guint jpeg_quality;
  gboolean lossless;
  gboolean pdfa;
  const char *title;
  /* naming and routing */
  const char *template; /* the file-name template */
  const char *rule;     /* the [rule] that routed it */
  guint seq;            /* the spool's sequence number: {seq} */
  /* what became of it */
  guint pages;
  const char *name;        /* the relative file name the template made */
  const char *interrupted; /* why the scan stopped early, when it did */
  /* identity: set by the job itself */
  const char *job;     /* the job id: {job} */
  const char *created; /* ISO 8601 time the job was made */
  GDateTime *time;     /* the same, local; NULL = now (rules: days, hours; templates: {date}, {time}) */
} ScandJobFacts;

typedef enum {
  SCAND_FACT_TEXT,  /* const char * */
  SCAND_FACT_COUNT, /* guint */
  SCAND_FACT_FLAG,  /* gboolean */
} ScandFactType;

/* Where a template field may be used. */
typedef enum {
  SCAND_FACT_IN_NAMES = 1 << 0, /* file names (made one safe path component) */
  SCAND_FACT_IN_TEXT = 1 << 1,  /* mail subjects and bodies */
} ScandFactUse;

typedef struct {
  const char *key; /* in job.ini */
  ScandFactType type;
  gsize offset;             /* of the field in ScandJobFacts */
  const char *what;         /* in messages: "watched folder" */
  const char *rule_key;     /* the [rule] key that matches it (glob), or NULL */
  ScandKeyType rule_type;   /* what `scand config check` takes for that key (default: text) */
  const char *rule_values;  /* with SCAND_KEY_ENUM: its values ("scan|watch") */
  const char *field;        /* the template field {field} that expands it, or NULL */
  guint use;                /* ScandFactUse of the field */
  const char *text_default; /* in subjects and bodies when unset */
  const char *name_default; /* in file names when unset (NULL: "unknown") */
  gboolean fixed;           /* set by the job when it is made, never after */
  gboolean caseless;        /* rules match it without regard to case (mail addresses) */
} ScandFact;

/* The table, in the order rules explain themselves and templates list their
 * fields; *n gets its length. Static. */
const ScandFact *scand_facts_table(guint *n);

/* The row of a job.ini key, of a [rule] key, of a template field; NULL when
 * there is none. */
const ScandFact *scand_facts_find(const char *key);
const ScandFact *scand_facts_find_rule_key(const char *rule_key);
const ScandFact *scand_facts_find_field(const char *field);

/* Typed access to the field of a row. */
const char *scand_fact_get_text(const ScandJobFacts *facts, const ScandFact *fact);
guint scand_fact_get_count(const ScandJobFacts *facts, const ScandFact *fact);
gboolean scand_fact_get_flag(const ScandJobFacts *facts, const ScandFact *fact);
void scand_fact_set_text(ScandJobFacts *facts, const ScandFact *fact, const char *value);
void scand_fact_set_count(ScandJobFacts *facts, const ScandFact *fact, guint value);
void scand_fact_set_flag(ScandJobFacts *facts, const ScandFact *fact, gboolean value);

/* The value as text (a count in decimal, a flag "true"), or NULL when unset
 * (an empty text, a zero count, a false flag). Newly allocated. */
char *scand_fact_format(const ScandJobFacts *facts, const ScandFact *fact);

G_END_DECLS
