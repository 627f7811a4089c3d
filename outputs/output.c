#include "outputs/output-private.h"

#include "scand/base/error.h"
#include "scand/base/http.h"

#include <string.h>

/* The output table: one line per output type. */
static const ScandOutputDriver *const drivers[] = {
  &scand_output_folder, &scand_output_smb,        &scand_output_usb,        &scand_output_print,
  &scand_output_smtp,   &scand_output_graph_mail, &scand_output_m365_drive, NULL,
};

const ScandOutputDriver *scand_output_driver_find(const char *type) {
  if (!type)
    return NULL;
  for (guint i = 0; drivers[i]; i++)
    if (strcmp(drivers[i]->type, type) == 0)
      return drivers[i];
  return NULL;
}

const ScandOutputDriver *const *scand_output_drivers(void) {
  return drivers;
}

static GHashTable *new_table(void) {
  return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

/* Ad-hoc destinations on the command line, by prefix. */
static const struct {
  const char *prefix;
  const char *type;
  const char *key;
  gboolean keep_prefix;
} adhoc_outputs[] = {
  { "smb://", "smb", "url", TRUE },
  { "usb:", "usb", "label", FALSE },
  { "print:", "print", "queue", FALSE },
};

/* TRUE when driver declares key (or it is "type"). */
static gboolean driver_has_key(const ScandOutputDriver *driver, const char *key) {
  if (strcmp(key, "type") == 0)
    return TRUE;
  for (guint i = 0; driver && driver->keys && driver->keys[i].name; i++)
    if (strcmp(driver->keys[i].name, key) == 0)
      return TRUE;
  return FALSE;
}

/* Adds key = value to a snapshot that the job keeps in the spool: only keys
 * the driver declares (a stray "password = …" stays in the config file), and
 * never the password of a URL (the driver then refuses the URL's user). */
static void snapshot_add(GHashTable *table, const ScandOutputDriver *driver, const char *key, const char *value) {
  if (!value || !driver_has_key(driver, key))
    return;
  char *redacted = scand_http_url_without_password(value);
  g_hash_table_insert(table, g_strdup(key), redacted ? redacted : g_strdup(value));
}

GHashTable *scand_output_resolve(ScandConfig *config, const char *to, char **output_name, GError **error) {
  g_autoptr(GHashTable) table = new_table();
  if (config && scand_config_has_section(config, "output", to)) {
    const ScandOutputDriver *driver = scand_output_driver_find(scand_config_get(config, "output", to, "type"));
    g_auto(GStrv) keys = scand_config_list_keys(config, "output", to);
    for (guint i = 0; keys && keys[i]; i++)
      snapshot_add(table, driver, keys[i], scand_config_get(config, "output", to, keys[i]));
    *output_name = g_strdup(to);
    return g_steal_pointer(&table);
  }
  for (guint i = 0; i < G_N_ELEMENTS(adhoc_outputs); i++) {
    if (!g_str_has_prefix(to, adhoc_outputs[i].prefix))
      continue;
    const char *value = adhoc_outputs[i].keep_prefix ? to : to + strlen(adhoc_outputs[i].prefix);
    if (!scand_output_driver_find(adhoc_outputs[i].type)) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "--to %s: this scand has no %s output", to,
                  adhoc_outputs[i].type);
      return NULL;
    }
    g_hash_table_insert(table, g_strdup("type"), g_strdup(adhoc_outputs[i].type));
    snapshot_add(table, scand_output_driver_find(adhoc_outputs[i].type), adhoc_outputs[i].key, value);
    /* The name is written to the spool too. */
    char *shown = scand_http_url_without_password(to);
    *output_name = shown ? shown : g_strdup(to);
    return g_steal_pointer(&table);
  }
  if (strstr(to, "://")) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "--to %s: not an output name, a known URL or a directory", to);
    return NULL;
  }
  g_autofree char *abs = g_canonicalize_filename(to, NULL);
  g_hash_table_insert(table, g_strdup("type"), g_strdup("folder"));
  g_hash_table_insert(table, g_strdup("path"), g_strdup(abs));
  g_hash_table_insert(table, g_strdup("create"), g_strdup("true"));
  *output_name = g_strdup(to);
  return g_steal_pointer(&table);
}
