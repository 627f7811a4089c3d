/* scand list: configured scanners, then one line per physical device found
 * by DNS-SD, WS-Discovery, SANE and CUPS (see backends/discovery.h). */
#include "backends/discovery.h"
#include "scand/cli/cli.h"
#include "scand/base/error.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* Adds "key": [strings] to builder from a comma-separated list. */
static void json_add_list(JsonBuilder *b, const char *key, const char *csv) {
  json_builder_set_member_name(b, key);
  json_builder_begin_array(b);
  g_auto(GStrv) words = g_strsplit(csv, ", ", -1);
  for (guint i = 0; words[i]; i++)
    if (*words[i])
      json_builder_add_string_value(b, words[i]);
  json_builder_end_array(b);
}

static void json_add_opt_string(JsonBuilder *b, const char *key, const char *value) {
  json_builder_set_member_name(b, key);
  if (value)
    json_builder_add_string_value(b, value);
  else
    json_builder_add_null_value(b);
}

/* The whole listing as a JSON document. Newly allocated. */
static char *list_to_json(ScandConfig *config, GStrv scanners, GPtrArray *devices, GPtrArray *warnings) {
  g_autoptr(JsonBuilder) b = json_builder_new();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "configured");
  json_builder_begin_array(b);
  for (guint i = 0; scanners && scanners[i]; i++) {
    json_builder_begin_object(b);
    json_add_opt_string(b, "section", scanners[i]);
    json_add_opt_string(b, "device", scand_config_get(config, "scanner", scanners[i], "device"));
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "devices");
  json_builder_begin_array(b);
  for (guint i = 0; i < devices->len; i++) {
    ScandDiscoveredDevice *d = devices->pdata[i];
    json_builder_begin_object(b);
    json_add_opt_string(b, "name", d->name);
    json_add_opt_string(b, "model", d->model);
    json_add_opt_string(b, "uuid", d->uuid);
    json_add_opt_string(b, "host", d->host);
    json_add_opt_string(b, "note", d->note);
    json_add_opt_string(b, "pdl", d->pdl);
    json_builder_set_member_name(b, "uris");
    json_builder_begin_array(b);
    for (guint k = 0; k < d->uris->len; k++)
      json_builder_add_string_value(b, d->uris->pdata[k]);
    json_builder_end_array(b);
    json_builder_set_member_name(b, "found_by");
    json_builder_begin_array(b);
    for (guint k = 0; k < d->origins->len; k++)
      json_builder_add_string_value(b, d->origins->pdata[k]);
    json_builder_end_array(b);
    g_autofree char *sources = scand_discovery_sources_to_string(d->sources);
    g_autofree char *modes = scand_discovery_modes_to_string(d->modes);
    json_add_list(b, "sources", sources);
    json_add_list(b, "color_modes", modes);
    json_builder_end_object(b);
  }
  json_builder_end_array(b);
  json_builder_set_member_name(b, "warnings");
  json_builder_begin_array(b);
  for (guint i = 0; warnings && i < warnings->len; i++)
    json_builder_add_string_value(b, warnings->pdata[i]);
  json_builder_end_array(b);
  json_builder_end_object(b);
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_pretty(gen, TRUE);
  json_generator_set_root(gen, root);
  return json_generator_to_data(gen, NULL);
}

/* One line: NAME (MODEL)  URI…  [sources | modes]. */
static void print_device(const ScandDiscoveredDevice *d) {
  GString *line = g_string_new(d->name ? d->name : "?");
  if (d->model && g_strcmp0(d->model, d->name) != 0)
    g_string_append_printf(line, " (%s)", d->model);
  for (guint k = 0; k < d->uris->len; k++)
    g_string_append_printf(line, "  %s", (const char *) d->uris->pdata[k]);
  g_autofree char *sources = scand_discovery_sources_to_string(d->sources);
  g_autofree char *modes = scand_discovery_modes_to_string(d->modes);
  if (*sources || *modes)
    g_string_append_printf(line, "  [%s%s%s]", sources, *sources && *modes ? " | " : "", modes);
  if (d->note)
    g_string_append_printf(line, "  at %s", d->note);
  printf("%s\n", line->str);
  g_string_free(line, TRUE);
}

int scand_cli_list(int argc, char **argv) {
  char *config_path = NULL;
  double timeout = 2.0;
  gboolean no_network = FALSE, json = FALSE;
  char **interfaces = NULL;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file", "FILE" },
    { "timeout", 't', 0, G_OPTION_ARG_DOUBLE, &timeout, "Seconds to browse the network (default 2)", "SECONDS" },
    { "no-network", 0, 0, G_OPTION_ARG_NONE, &no_network, "Only SANE devices and the configuration", NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print JSON for programs", NULL },
    { "interface", 'i', 0, G_OPTION_ARG_STRING_ARRAY, &interfaces,
      "Network interface for WS-Discovery (repeatable; default: [scand] discovery-interfaces, else every one)",
      "IFACE" },
    { NULL },
  };
  int status;
  if (!scand_cli_parse("list", NULL,
                       "Lists the scanners scand can reach: configured ones first, then one line per device found "
                       "on the network (DNS-SD, WS-Discovery, CUPS printers that scan) or by SANE.",
                       entries, &argc, &argv, &status))
    return status;
  G_GNUC_UNUSED g_autofree char *config_path_owned = config_path;
  G_GNUC_UNUSED g_auto(GStrv) interfaces_owned = interfaces;
  if (!isfinite(timeout) || timeout <= 0 || timeout > 600) {
    scand_cli_error("list", "--timeout %g: expected seconds between 0 and 600", timeout);
    return SCAND_EXIT_USAGE;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandConfig) config = scand_config_load(config_path, &error);
  if (!config) {
    scand_cli_error("list", "%s", error->message);
    return SCAND_EXIT_FAILED;
  }
  g_auto(GStrv) scanners = scand_config_list_sections(config, "scanner");
  g_auto(GStrv) configured_interfaces =
      scand_config_split_list(scand_config_get(config, "scand", NULL, "discovery-interfaces"));
  ScandDiscoveryOptions options = {
    .browse_ms = (guint) MAX(1, timeout * 1000),
    .no_network = no_network,
    .interfaces = (const char *const *) (interfaces && interfaces[0] ? interfaces : configured_interfaces),
  };
  g_autoptr(GPtrArray) warnings = NULL;
  g_autoptr(GPtrArray) devices = scand_discovery_run(&options, &warnings);
  if (json) {
    g_autofree char *text = list_to_json(config, scanners, devices, warnings);
    printf("%s\n", text);
  } else {
    for (guint i = 0; scanners && scanners[i]; i++)
      printf("%-28s %s  (configured as [scanner %s])\n",
             scand_config_get(config, "scanner", scanners[i], "device")
                 ? scand_config_get(config, "scanner", scanners[i], "device")
                 : "(no device)",
             scanners[i], scanners[i]);
    for (guint i = 0; i < devices->len; i++)
      print_device(devices->pdata[i]);
    for (guint i = 0; warnings && i < warnings->len; i++)
      fprintf(stderr, "scand list: note: %s\n", (const char *) warnings->pdata[i]);
  }
  if (devices->len == 0 && (!scanners || !scanners[0])) {
    scand_cli_error("list", "no scanner found (check the cable or network, or SANE_CONFIG_DIR)");
    return SCAND_EXIT_FAILED;
  }
  return SCAND_EXIT_OK;
}
