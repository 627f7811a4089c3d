/* A scanner's state for the people looking at it (button, D-Bus, web). */
#include "scand/service/device-state.h"
#include "backends/backend.h"
#include "scand/base/error.h"

const char *scand_device_state_read(const char *uri, char **detail) {
  const char *state = "ready";
  g_autofree char *words = NULL;
  g_autoptr(GError) error = NULL;
  if (scand_device_abilities(uri) & SCAND_DEVICE_CAN_STATUS) {
    ScandDeviceStatus status;
    if (!scand_device_get_status(uri, NULL, &status, &error)) {
      state = "offline";
      words = g_strdup(error->message);
    } else {
      if (status.state == SCAND_DEVICE_DOWN)
        state = "offline";
      else if (status.state == SCAND_DEVICE_PROCESSING)
        state = "busy";
      else if (status.feeder == SCAND_FEEDER_LOADED)
        state = "paper-in-feeder";
      else if (status.state == SCAND_DEVICE_STOPPED || status.feeder == SCAND_FEEDER_PROBLEM)
        state = "problem";
      words = g_strdup_printf("%s, feeder %s", scand_device_state_to_string(status.state), status.feeder_word);
    }
  } else {
    g_autoptr(ScandScanner) scanner = scand_scanner_open(uri, NULL, &error);
    if (!scanner) {
      state = g_error_matches(error, SCAND_ERROR, SCAND_ERROR_BUSY) ? "busy" : "offline";
      words = g_strdup(error->message);
    }
  }
  if (detail)
    *detail = g_steal_pointer(&words);
  return state;
}
