/* The `panel =` key of a [scanner]: the destinations a device lists on its
 * panel for walk-up scanning, each "NAME[:PROFILE]" ("Finance:letter, Anna"). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  char *name;
  char *profile; /* NULL = the scanner's profile */
} ScandPanelName;

void scand_panel_name_free(ScandPanelName *n);

/* Parses a `panel =` value into ScandPanelName*; FALSE with a one-line
 * problem naming the item on an empty, overlong (over 64 characters),
 * duplicate or control-character name, or an empty profile. */
gboolean scand_panel_names_parse(const char *value, GPtrArray **out, char **problem);

G_END_DECLS
