/* auto-scan = button: a press is a button that reads pressed now and did not
 * at the last poll; it starts the button's profile. */
#include "scand/service/autoscan-private.h"
#include "backends/backend.h"

#include <string.h>

void scand_buttons_poll(ScandAutoscanEntry *entry, ScandAutoscanPoll *poll) {
  ScandOpenOptions options = { .tls_pin = entry->tls_pin };
  g_autoptr(GError) error = NULL;
  poll->pressed = g_ptr_array_new_with_free_func(g_free);
  poll->ok = scand_device_read_buttons(entry->uri, &options, poll->pressed, &error);
  if (!poll->ok)
    poll->error = g_strdup(error->message);
}

/* The profile a button starts: "buttons = scan=letter;email=photo" on the
 * scanner, else the scanner's own profile. NULL if the button is not mapped
 * while others are. */
static char *button_profile(ScandConfig *config, const char *section, const char *button, gboolean *mapped) {
  const char *map = scand_config_get(config, "scanner", section, "buttons");
  *mapped = TRUE;
  if (!map)
    return g_strdup(scand_config_get(config, "scanner", section, "profile"));
  g_auto(GStrv) entries = g_strsplit_set(map, ";,", -1);
  for (guint i = 0; entries[i]; i++) {
    g_auto(GStrv) kv = g_strsplit(g_strstrip(entries[i]), "=", 2);
    if (kv[0] && kv[1] && strcmp(g_strstrip(kv[0]), button) == 0)
      return g_strdup(g_strstrip(kv[1]));
  }
  *mapped = FALSE;
  return NULL;
}

void scand_buttons_decide(ScandAutoscanEntry *entry, ScandAutoscanPoll *poll) {
  if (!poll->ok) {
    /* Busy (someone else is scanning) is not a change of the buttons. */
    g_autofree char *line = g_strdup_printf("buttons: %s", poll->error);
    scand_autoscan_note(entry, poll->error, line);
    return;
  }
  scand_autoscan_note(entry, NULL, NULL);
  g_ptr_array_add(poll->pressed, NULL);
  GStrv now = (GStrv) g_ptr_array_free(g_steal_pointer(&poll->pressed), FALSE);
  for (guint i = 0; now[i]; i++) {
    if (entry->pressed && g_strv_contains((const char *const *) entry->pressed, now[i]))
      continue;
    if (!scand_autoscan_can_start(entry))
      continue;
    gboolean mapped;
    g_autofree char *profile = button_profile(entry->config, entry->section, now[i], &mapped);
    if (!mapped) {
      scand_autoscan_log(entry, "button %s pressed, but no profile is mapped to it", now[i]);
      continue;
    }
    scand_autoscan_log(entry, "button %s pressed", now[i]);
    g_autofree char *what = g_strdup_printf("button %s", now[i]);
    scand_autoscan_start(entry, "button", profile, NULL, what);
  }
  g_strfreev(entry->pressed);
  entry->pressed = now;
}
