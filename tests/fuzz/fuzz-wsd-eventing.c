/* Fuzzes what a WSD device sends a walk-up subscriber: the replies to
 * Subscribe, Renew and Unsubscribe, pushed events (ScanAvailableEvent,
 * SubscriptionEnd) and Expires durations. Any input gives a result or a
 * one-line error; a decoded SubscribeResponse always has its manager,
 * identifier and a token per destination. */
#include "backends/wsd-eventing.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(GError *error) {
  g_assert_nonnull(error);
  g_assert_nonnull(error->message);
  g_assert_null(strchr(error->message, '\n'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *xml = (const char *) data;
  GError *error = NULL;
  for (int kind = WSD_EV_REPLY_SUBSCRIBE; kind <= WSD_EV_REPLY_UNSUBSCRIBE; kind++) {
    WsdEvReply r;
    if (wsd_ev_reply_decode(kind, xml, size, 1700000000LL * G_USEC_PER_SEC, &r, &error)) {
      if (kind == WSD_EV_REPLY_SUBSCRIBE && !r.is_fault) {
        g_assert_true(r.manager && *r.manager && r.identifier && *r.identifier);
        g_assert_cmpuint(r.responses->len, >, 0);
        for (guint i = 0; i < r.responses->len; i++)
          g_assert_nonnull(g_array_index(r.responses, WsdEvDestinationResponse, i).token);
      }
      g_assert_true(r.expires_s >= -1);
    } else {
      check_error(error);
      g_clear_error(&error);
    }
    wsd_ev_reply_clear(&r);
  }
  WsdEvNotification n;
  if (wsd_ev_notification_decode(xml, size, &n, &error)) {
    if (n.kind == WSD_EV_SCAN_AVAILABLE)
      g_assert_true(n.context && *n.context && n.scan_identifier && *n.scan_identifier);
    wsd_ev_notification_clear(&n);
  } else {
    check_error(error);
    g_clear_error(&error);
  }
  char *text = g_strndup(xml, MIN(size, 256));
  g_assert_true(wsd_ev_duration_parse(text) >= -1);
  g_free(text);
  return 0;
}
