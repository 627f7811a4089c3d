/* The HTTP client of one network scanner (eSCL, WSD, their walk-up panels):
 * named by its device URI in messages, http and https only, its certificate
 * pinned by the scanner's tls-pin, and `scand trust DEVICE` named when a
 * certificate is refused. */
#pragma once

#include "backends/backend.h"
#include "scand/base/http.h"

G_BEGIN_DECLS

/* How messages and logs name a network scanner: "scheme:url" without the
 * password its URL may carry, valid UTF-8, at most 300 bytes of url. Newly
 * allocated. */
char *scand_device_label(const char *scheme, const char *url);

/* A client for device ("escl:https://…"); limits gives the timeouts and caps
 * (its label, protocols, tls_pin and trust_hint are ignored), options the
 * pin (may be NULL). Free with scand_http_free(). */
ScandHttp *scand_device_http_new(const char *device, const ScandOpenOptions *options, const ScandHttpOptions *limits,
                                 GError **error);

/* Status polls, every few seconds per scanner, keep their client between
 * polls: a client kept keeps libcurl's handle, its connection and the
 * handle's own internal state (a fresh one costs a socketpair, four fcntl
 * and two close per request besides its allocations). key names the device
 * and every option the client was made with. scand_device_http_reuse()
 * takes a kept client out (NULL if none); scand_device_http_keep() gives it
 * back, taken, or frees it when SCAND_DEVICE_HTTP_KEPT are kept already
 * (each holds two descriptors: a fleet of hundreds makes its clients anew). */
#define SCAND_DEVICE_HTTP_KEPT 32
ScandHttp *scand_device_http_reuse(const char *key);
void scand_device_http_keep(const char *key, ScandHttp *http);

G_END_DECLS
