#include "scand/base/panel-names.h"
#include "scand/base/config.h"

#include <string.h>

#define PANEL_NAME_MAX 64 /* longest name shown on a panel */

void scand_panel_name_free(ScandPanelName *n) {
  if (!n)
    return;
  g_free(n->name);
  g_free(n->profile);
  g_free(n);
}

gboolean scand_panel_names_parse(const char *value, GPtrArray **out, char **problem) {
  *out = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func((GDestroyNotify) scand_panel_name_free);
  g_auto(GStrv) items = scand_config_split_list(value);
  for (guint i = 0; items[i]; i++) {
    const char *colon = strrchr(items[i], ':');
    g_autofree char *name = g_strstrip(colon ? g_strndup(items[i], colon - items[i]) : g_strdup(items[i]));
    g_autofree char *profile = colon ? g_strstrip(g_strdup(colon + 1)) : NULL;
    const char *bad = NULL;
    if (!*name)
      bad = "has no name before the colon";
    else if (profile && !*profile)
      bad = "has no profile after the colon";
    else if (!g_utf8_validate(name, -1, NULL))
      bad = "is not valid UTF-8";
    else if (g_utf8_strlen(name, -1) > PANEL_NAME_MAX)
      bad = "is longer than 64 characters";
    for (const char *p = name; !bad && *p; p++)
      if ((guchar) *p < 0x20 || *p == 0x7f || *p == '\t')
        bad = "contains a control character";
    for (guint j = 0; !bad && j < names->len; j++)
      if (strcmp(((ScandPanelName *) names->pdata[j])->name, name) == 0)
        bad = "repeats a name given before";
    if (bad) {
      /* The item as text fit for one line of a message. */
      g_autofree char *shown = g_utf8_make_valid(items[i], MIN(strlen(items[i]), 80));
      for (char *p = shown; *p; p++)
        if ((guchar) *p < 0x20 || *p == 0x7f)
          *p = '?';
      *problem = g_strdup_printf("item %u \"%s\" %s (expected NAME[:PROFILE], e.g. \"Finance:letter, Anna:photo\")",
                                 i + 1, shown, bad);
      return FALSE;
    }
    ScandPanelName *n = g_new0(ScandPanelName, 1);
    n->name = g_steal_pointer(&name);
    n->profile = g_steal_pointer(&profile);
    g_ptr_array_add(names, n);
  }
  if (names->len == 0) {
    *problem = g_strdup("names no destination (expected NAME[:PROFILE], e.g. \"Finance:letter, Anna:photo\")");
    return FALSE;
  }
  *out = g_steal_pointer(&names);
  return TRUE;
}
