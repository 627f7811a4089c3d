/* The configured scanners as the web page shows them: each one's state and
 * the profiles to scan with. States are read in a thread (a device may take
 * seconds to answer) at most every READ_EVERY_S while someone looks, and
 * the page is told by an event when one changes. */
#include "scand/service/web-private.h"
#include "scand/service/device-state.h"

#include <string.h>

#define READ_EVERY_S 10

typedef struct {
  char *state, *detail;
} State;

/* Shared with the reading thread; web is NULL once the web is gone. */
typedef struct {
  ScandWeb *web;
} Owner;

struct WebScanners {
  GHashTable *states; /* uri → State* */
  Owner *owner;       /* g_rc_box */
  gboolean reading;
  gint64 read_at; /* monotonic, of the last read started */
};

static void state_free(State *s) {
  g_free(s->state);
  g_free(s->detail);
  g_free(s);
}

WebScanners *web_scanners_new(ScandWeb *web) {
  WebScanners *w = g_new0(WebScanners, 1);
  w->states = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) state_free);
  w->owner = g_rc_box_new0(Owner);
  w->owner->web = web;
  return w;
}

void web_scanners_free(WebScanners *w) {
  if (!w)
    return;
  w->owner->web = NULL;
  g_rc_box_release(w->owner);
  g_hash_table_unref(w->states);
  g_free(w);
}

static void read_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable) {
  GStrv uris = data;
  GHashTable *states = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) state_free);
  for (guint i = 0; uris[i]; i++) {
    State *s = g_new0(State, 1);
    s->state = g_strdup(scand_device_state_read(uris[i], &s->detail));
    g_hash_table_insert(states, g_strdup(uris[i]), s);
  }
  g_task_return_pointer(task, states, (GDestroyNotify) g_hash_table_unref);
}

static gboolean same_state(State *a, State *b) {
  return a && b && g_strcmp0(a->state, b->state) == 0 && g_strcmp0(a->detail, b->detail) == 0;
}

static void read_done(GObject *source, GAsyncResult *result, gpointer data) {
  Owner *owner = data;
  g_autoptr(GHashTable) states = g_task_propagate_pointer(G_TASK(result), NULL);
  ScandWeb *web = owner->web;
  g_rc_box_release(owner);
  if (!web || !states)
    return;
  WebScanners *w = web->scanners;
  w->reading = FALSE;
  gboolean changed = g_hash_table_size(states) != g_hash_table_size(w->states);
  GHashTableIter it;
  gpointer key, value;
  g_hash_table_iter_init(&it, states);
  while (g_hash_table_iter_next(&it, &key, &value)) {
    changed = changed || !same_state(value, g_hash_table_lookup(w->states, key));
    g_hash_table_iter_steal(&it);
    g_hash_table_insert(w->states, key, value);
  }
  if (changed)
    web_events_broadcast(web, "scanners", web_empty_object());
}

static void read_start(ScandWeb *web, GStrv uris) {
  WebScanners *w = web->scanners;
  w->reading = TRUE;
  w->read_at = g_get_monotonic_time();
  g_autoptr(GTask) task = g_task_new(NULL, NULL, read_done, g_rc_box_acquire(w->owner));
  g_task_set_task_data(task, g_strdupv(uris), (GDestroyNotify) g_strfreev);
  g_task_run_in_thread(task, read_thread);
}

static void profile_json(JsonBuilder *b, const char *name, gboolean is_default) {
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "name");
  json_builder_add_string_value(b, name);
  json_builder_set_member_name(b, "default");
  json_builder_add_boolean_value(b, is_default);
  json_builder_end_object(b);
}

static void scanner_json(ScandWeb *web, JsonBuilder *b, ScandConfig *config, const char *name, GStrv profiles) {
  const char *uri = scand_config_get(config, "scanner", name, "device");
  const char *label = scand_config_get(config, "scanner", name, "name");
  const char *def = scand_config_get(config, "scanner", name, "profile");
  State *s = uri ? g_hash_table_lookup(web->scanners->states, uri) : NULL;
  gboolean busy = uri && web->host.device_busy(web->host.user_data, uri);
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "name");
  json_builder_add_string_value(b, name);
  json_builder_set_member_name(b, "label");
  json_builder_add_string_value(b, label ? label : name);
  json_builder_set_member_name(b, "state");
  json_builder_add_string_value(b, busy ? "busy" : s ? s->state : "unknown");
  json_builder_set_member_name(b, "detail");
  json_builder_add_string_value(b, busy ? "scanning" : s && s->detail ? s->detail : "");
  /* The scanner's own profile first, then every other. */
  json_builder_set_member_name(b, "profiles");
  json_builder_begin_array(b);
  if (def && g_strv_contains((const char *const *) profiles, def))
    profile_json(b, def, TRUE);
  for (guint i = 0; profiles[i]; i++)
    if (g_strcmp0(profiles[i], def) != 0)
      profile_json(b, profiles[i], FALSE);
  if (!profiles[0])
    profile_json(b, "", TRUE); /* no profiles configured: one button with the defaults */
  json_builder_end_array(b);
  json_builder_end_object(b);
}

JsonNode *web_scanners_list(ScandWeb *web) {
  g_autoptr(ScandConfig) config = web->host.get_config(web->host.user_data);
  g_auto(GStrv) scanners = scand_config_list_sections(config, "scanner");
  g_auto(GStrv) profiles = scand_config_list_sections(config, "profile");
  g_autoptr(GStrvBuilder) uris = g_strv_builder_new();
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "scanners");
  json_builder_begin_array(b);
  for (guint i = 0; scanners && scanners[i]; i++) {
    scanner_json(web, b, config, scanners[i], profiles);
    const char *uri = scand_config_get(config, "scanner", scanners[i], "device");
    /* A device the daemon scans from now is busy: it is not opened under the scan. */
    if (uri && !web->host.device_busy(web->host.user_data, uri))
      g_strv_builder_add(uris, uri);
  }
  json_builder_end_array(b);
  json_builder_end_object(b);
  g_auto(GStrv) to_read = g_strv_builder_end(uris);
  WebScanners *w = web->scanners;
  if (to_read[0] && !w->reading && (!w->read_at || g_get_monotonic_time() - w->read_at > READ_EVERY_S * G_USEC_PER_SEC))
    read_start(web, to_read);
  return json_builder_get_root(b);
}
