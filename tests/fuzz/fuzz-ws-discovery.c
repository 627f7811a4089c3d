/* Fuzzes the WS-Discovery decoders: the bytes as a datagram (Hello, Bye,
 * ProbeMatches, ResolveMatches) and as a device's metadata. Any input gives
 * a result or a one-line error; every URL kept is http(s) and printable. */
#include "backends/ws-discovery-xml.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_url(const char *url) {
  g_assert_true(g_str_has_prefix(url, "http://") || g_str_has_prefix(url, "https://") ||
                g_ascii_strncasecmp(url, "http", 4) == 0);
  for (const char *p = url; *p; p++)
    g_assert_true((guchar) *p > 0x20 && *p != 0x7f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  GError *error = NULL;
  GPtrArray *msgs = wsdd_message_decode((const char *) data, size, "eth0", &error);
  if (msgs) {
    g_assert_cmpuint(msgs->len, >, 0);
    for (guint i = 0; i < msgs->len; i++) {
      ScandWsddMessage *m = msgs->pdata[i];
      g_assert_nonnull(m->endpoint);
      for (guint k = 0; m->xaddrs[k]; k++)
        check_url(m->xaddrs[k]);
    }
    g_ptr_array_unref(msgs);
  } else {
    g_assert_null(strchr(error->message, '\n'));
    g_clear_error(&error);
  }
  WsddMetadata md;
  if (wsdd_metadata_decode((const char *) data, size, "eth0", &md, &error)) {
    for (guint i = 0; i < md.scan_urls->len; i++)
      check_url(md.scan_urls->pdata[i]);
    wsdd_metadata_clear(&md);
  } else {
    g_assert_null(strchr(error->message, '\n'));
    g_clear_error(&error);
  }
  return 0;
}
