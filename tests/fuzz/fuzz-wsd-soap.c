/* Fuzzes the WS-Scan reply decoders (every operation's reply, faults) and
 * what is derived from them: the ticket choice and the CreateScanJob built
 * from it. Any input must give a result or a one-line error. */
#include "backends/wsd-soap.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(GError *error) {
  g_assert_nonnull(error);
  g_assert_null(strchr(error->message, '\n'));
}

/* Device text is kept printable: no control characters. */
static void check_shown(const char *s) {
  for (const char *p = s; p && *p; p++)
    g_assert_true((guchar) *p >= 0x20 && *p != 0x7f);
}

static void use_caps(const WsdCaps *caps) {
  static const ScandScanSettings profiles[] = {
    { .source = SCAND_SOURCE_AUTO },
    { .source = SCAND_SOURCE_FLATBED, .mode = SCAND_MODE_LINEART, .resolution = 1200, .x = 5, .width = 500 },
    { .source = SCAND_SOURCE_FEEDER, .duplex = TRUE, .mode = SCAND_MODE_GRAY, .resolution = 150 },
    { .source = SCAND_SOURCE_FEEDER, .mode = SCAND_MODE_COLOR, .x = -10, .width = 1e9, .height = -5 },
  };
  for (guint i = 0; i < G_N_ELEMENTS(profiles); i++) {
    WsdTicket t;
    GError *error = NULL;
    if (!wsd_ticket_choose(caps, &profiles[i], i == 1 ? 600 : 0, 0, &t, NULL, &error)) {
      check_error(error);
      g_clear_error(&error);
      continue;
    }
    const WsdInputCaps *in = &caps->inputs[t.input];
    g_assert_true(in->present);
    g_assert_cmpint(t.resolution, >, 0);
    g_assert_cmpint(t.x, >=, 0);
    g_assert_cmpint(t.x + t.width, <=, in->max_width);
    g_assert_cmpint(t.y + t.height, <=, in->max_height);
    WsdRequestArgs args = { .to = "http://[fe80::1%25eth0]:1/s", .ticket = &t };
    g_free(wsd_request_build(WSD_OP_CREATE_SCAN_JOB, &args));
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  for (WsdOp op = 0; op < WSD_OP_COUNT; op++) {
    WsdReply r;
    GError *error = NULL;
    if (!wsd_reply_decode(op, (const char *) data, size, &r, &error)) {
      check_error(error);
      g_clear_error(&error);
      continue;
    }
    if (r.is_fault) {
      check_shown(r.fault.subcode);
      check_shown(r.fault.reason);
      g_free(wsd_fault_describe(&r.fault));
    }
    check_shown(r.scanner_name);
    if (r.caps)
      use_caps(r.caps);
    if (r.have_status) {
      int code;
      gboolean transient;
      wsd_status_problem(&r.status, &code, &transient);
    }
    if (op == WSD_OP_CREATE_SCAN_JOB && !r.is_fault) {
      g_assert_cmpint(r.job_id, >, 0);
      g_assert_nonnull(r.job_token);
    }
    wsd_reply_clear(&r);
  }
  return 0;
}
