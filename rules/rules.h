/* Routing: which outputs get a job, under which name.
 *
 * "[rule NAME]" sections are tried in file order; the first whose match keys
 * all hold decides. Without a matching rule the built-in default applies
 * (a folder: ~/Scans if it exists, else ./scans). */
#pragma once

#include <glib.h>
#include "scand/base/config.h"
#include "scand/base/facts.h"

G_BEGIN_DECLS

typedef struct {
  char *rule;    /* section name, or "(default)" */
  GStrv deliver; /* output names */
  char *name_template;
  char *fallback;           /* output name or NULL */
  gint64 fallback_after;    /* seconds; 0 = never by time */
  gint64 fallback_attempts; /* failed attempts before the fallback; 0 = never by count */
  char *after;              /* watched files: "delete" or "move:/dir", NULL = the watch's own */
} ScandRoute;

/* The largest pages-min / pages-max (as the config schema has it). */
#define SCAND_RULES_PAGES_MAX 1000000

#define SCAND_DEFAULT_NAME_TEMPLATE "scan-{date:%Y-%m-%d}-{time:%H%M%S}.pdf"

/* Finds the route for facts; newly allocated. Fails only on a config error. */
ScandRoute *scand_rules_route(ScandConfig *config, const ScandJobFacts *facts, GError **error);
/* Like scand_rules_route(), and appends to lines one line per rule tried:
 * "[rule a]: no — device: device \"sane:test:0\" does not match \"escl:*\"",
 * then the one that matched (or the default). */
ScandRoute *scand_rules_explain(ScandConfig *config, const ScandJobFacts *facts, GPtrArray *lines, GError **error);

/* Whether key is a rule's match key (for the config schema). */
gboolean scand_rules_is_match_key(const char *key);

void scand_route_free(ScandRoute *route);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandRoute, scand_route_free)

G_END_DECLS
