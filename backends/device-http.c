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
