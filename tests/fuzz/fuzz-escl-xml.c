/* Fuzzes the eSCL document decoders (ScannerCapabilities, ScannerStatus) and
 * what is derived from them: the ScanSettings choice and builder, and the
 * Location resolver. Any input must give a result or a one-line error. */
#include "backends/escl-xml.h"

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
  EsclCaps *caps = NULL;
  GError *error = NULL;
  if (escl_caps_decode(xml, size, &caps, &error)) {
    static const ScandScanSettings profiles[] = {
      { .source = SCAND_SOURCE_AUTO },
      { .source = SCAND_SOURCE_FLATBED,
        .mode = SCAND_MODE_LINEART,
        .resolution = 1200,
        .x = 5,
        .y = 5,
        .width = 500,
        .height = 500 },
      { .source = SCAND_SOURCE_FEEDER, .duplex = TRUE, .mode = SCAND_MODE_GRAY, .resolution = 150 },
      { .source = SCAND_SOURCE_FEEDER, .mode = SCAND_MODE_COLOR, .resolution = 0, .x = -10, .width = 1e6 },
    };
    for (guint i = 0; i < G_N_ELEMENTS(profiles); i++) {
      EsclScanRequest req;
      ScandScanSettings effective;
      if (escl_scan_request_choose(caps, &profiles[i], i == 1 ? 600 : 0, &req, &effective, &error)) {
        g_assert_cmpint(req.resolution, >, 0);
        g_free(escl_scan_settings_build(&req));
      } else {
        check_error(error);
        g_clear_error(&error);
      }
      escl_scan_request_clear(&req);
    }
    escl_caps_free(caps);
  } else {
    check_error(error);
    g_clear_error(&error);
  }

  ScandEsclStatus status;
  if (escl_status_decode(xml, size, &status, &error)) {
    g_assert_nonnull(status.jobs);
    escl_status_find_job(&status, "/eSCL/ScanJobs/1");
    scand_escl_status_clear(&status);
  } else {
    check_error(error);
    g_clear_error(&error);
  }

  /* The same bytes as a Location header (up to the first NUL). */
  char *location = g_strndup(xml, MIN(size, 4096));
  char *url = escl_location_resolve("http://[::1]:8080/eSCL", location, &error);
  if (url) {
    g_assert_true(g_str_has_prefix(url, "http://[::1]:8080/"));
    g_free(url);
  } else {
    check_error(error);
    g_clear_error(&error);
  }
  g_free(location);
  return 0;
}
