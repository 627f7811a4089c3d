/* scand's WS-Discovery on its own, for tests (one JSON object per line):
 *   wsdd-tool probe [--all] [--timeout MS] [IFACE…]   the devices found
 *   wsdd-tool monitor --seconds S [IFACE…]            each Hello and Bye heard
 * Notes (interfaces that cannot be used, devices without metadata) go to
 * stderr, one line each. */
#include "backends/ws-discovery.h"

#include <json-glib/json-glib.h>
#include <stdio.h>
#include <string.h>

static void add_str(JsonBuilder *b, const char *key, const char *value) {
  json_builder_set_member_name(b, key);
  if (value)
    json_builder_add_string_value(b, value);
  else
    json_builder_add_null_value(b);
}

static void add_list(JsonBuilder *b, const char *key, char **items, guint n) {
  json_builder_set_member_name(b, key);
  json_builder_begin_array(b);
  for (guint i = 0; i < n; i++)
    json_builder_add_string_value(b, items[i]);
  json_builder_end_array(b);
}

static void print_line(JsonBuilder *b) {
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, root);
  g_autofree char *text = json_generator_to_data(gen, NULL);
  printf("%s\n", text);
  fflush(stdout);
}

static void print_notes(GPtrArray *notes) {
  for (guint i = 0; notes && i < notes->len; i++)
    fprintf(stderr, "note: %s\n", (const char *) notes->pdata[i]);
}

static int probe(gboolean all, guint timeout_ms, char **ifaces) {
  ScandWsddProbeOptions o = { .interfaces = (const char *const *) ifaces, .timeout_ms = timeout_ms, .everything = all };
  g_autoptr(GPtrArray) notes = NULL;
  g_autoptr(GPtrArray) devices = scand_wsdd_probe(&o, &notes);
  print_notes(notes);
  for (guint i = 0; i < devices->len; i++) {
    ScandWsddDevice *d = devices->pdata[i];
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    add_str(b, "endpoint", d->endpoint);
    add_str(b, "uuid", d->uuid);
    add_str(b, "name", d->friendly_name);
    add_str(b, "manufacturer", d->manufacturer);
    add_str(b, "model", d->model);
    add_str(b, "types", d->types);
    add_str(b, "interface", d->interface);
    json_builder_set_member_name(b, "resolved");
    json_builder_add_boolean_value(b, d->resolved);
    add_list(b, "xaddrs", (char **) d->xaddrs->pdata, d->xaddrs->len);
    add_list(b, "scan_urls", (char **) d->scan_urls->pdata, d->scan_urls->len);
    json_builder_end_object(b);
    print_line(b);
  }
  return 0;
}

static void on_message(const ScandWsddMessage *m, gpointer user) {
  static const char *const kinds[] = { "Hello", "Bye", "ProbeMatch", "ResolveMatch" };
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  add_str(b, "kind", kinds[m->kind]);
  add_str(b, "endpoint", m->endpoint);
  add_str(b, "uuid", m->uuid);
  add_str(b, "interface", m->interface);
  json_builder_set_member_name(b, "instance_id");
  json_builder_add_int_value(b, (gint64) m->instance_id);
  json_builder_set_member_name(b, "scanner");
  json_builder_add_boolean_value(b, m->scanner);
  add_list(b, "xaddrs", m->xaddrs, g_strv_length(m->xaddrs));
  json_builder_end_object(b);
  print_line(b);
  (void) user;
}

static gboolean quit(gpointer loop) {
  g_main_loop_quit(loop);
  return G_SOURCE_REMOVE;
}

static int monitor(guint seconds, char **ifaces) {
  g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
  g_autoptr(GPtrArray) notes = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandWsddMonitor) m =
      scand_wsdd_monitor_new((const char *const *) ifaces, on_message, NULL, &notes, &error);
  print_notes(notes);
  if (!m) {
    fprintf(stderr, "wsdd-tool: %s\n", error->message);
    return 1;
  }
  fprintf(stderr, "listening\n");
  g_timeout_add_seconds(seconds, quit, loop);
  g_main_loop_run(loop);
  return 0;
}

int main(int argc, char **argv) {
  gboolean all = FALSE;
  int timeout_ms = 2000, seconds = 10;
  GOptionEntry entries[] = {
    { "all", 0, 0, G_OPTION_ARG_NONE, &all, "probe: every endpoint, not only scanners", NULL },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout_ms, "probe: milliseconds", "MS" },
    { "seconds", 0, 0, G_OPTION_ARG_INT, &seconds, "monitor: how long to listen", "S" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("probe|monitor [IFACE…]");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc < 2 || timeout_ms <= 0 || seconds <= 0) {
    fprintf(stderr, "usage: wsdd-tool probe|monitor [--all] [--timeout MS] [--seconds S] [IFACE…]\n");
    return 2;
  }
  char **ifaces = argc > 2 ? argv + 2 : NULL;
  if (strcmp(argv[1], "probe") == 0)
    return probe(all, (guint) timeout_ms, ifaces);
  if (strcmp(argv[1], "monitor") == 0)
    return monitor((guint) seconds, ifaces);
  fprintf(stderr, "wsdd-tool: unknown command %s\n", argv[1]);
  return 2;
}
