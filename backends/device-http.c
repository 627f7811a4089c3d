/* The HTTP client of one network scanner (device-http.h). */
#include "backends/device-http.h"

#include <string.h>

char *scand_device_label(const char *scheme, const char *url) {
  g_autofree char *redacted = scand_http_url_without_password(url);
  const char *label = redacted ? redacted : url;
  g_autofree char *shown = g_utf8_make_valid(label, MIN(strlen(label), 300));
  return g_strdup_printf("%s:%s", scheme, shown);
}

ScandHttp *scand_device_http_new(const char *device, const ScandOpenOptions *options, const ScandHttpOptions *limits,
                                 GError **error) {
  g_autofree char *trust = g_strdup_printf("scand trust %s", device);
  ScandHttpOptions http_options = *limits;
  http_options.label = device;
  http_options.protocols = "http,https";
  http_options.tls_pin = options ? options->tls_pin : NULL;
  http_options.trust_hint = trust;
  return scand_http_new(&http_options, error);
}

G_LOCK_DEFINE_STATIC(kept);
static GHashTable *kept; /* key → ScandHttp*, not in use */

ScandHttp *scand_device_http_reuse(const char *key) {
  G_LOCK(kept);
  ScandHttp *http = NULL;
  gpointer stolen_key = NULL;
  /* Taken out: in use by one poll at a time. */
  if (kept && g_hash_table_steal_extended(kept, key, &stolen_key, (gpointer *) &http))
    g_free(stolen_key);
  G_UNLOCK(kept);
  return http;
}

void scand_device_http_keep(const char *key, ScandHttp *http) {
  G_LOCK(kept);
  if (!kept)
    kept = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) scand_http_free);
  if (g_hash_table_size(kept) < SCAND_DEVICE_HTTP_KEPT && !g_hash_table_contains(kept, key)) {
    g_hash_table_insert(kept, g_strdup(key), http);
    http = NULL;
  }
  G_UNLOCK(kept);
  scand_http_free(http);
}
