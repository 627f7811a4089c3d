/* WSD (WS-Scan) extras beyond the generic backend interface: the scanner's
 * live state, for `scand status` and the daemon. Devices are named
 * "wsd:http[s]://HOST[:PORT]/PATH", the URL of the device's scanner service
 * (what WS-Discovery's metadata calls the hosted ScannerServiceType). */
#pragma once

#include <glib.h>
#include "backends/backend.h"

G_BEGIN_DECLS

typedef struct {
  ScandDeviceState state; /* IDLE, PROCESSING, STOPPED or UNKNOWN */
  char *state_word;       /* ScannerState as sent, or NULL */
  GPtrArray *reasons;     /* char*: ScannerStateReasons and active conditions, never NULL after success */
  char *problem;          /* what the reasons mean for a scan ("paper jam in the document feeder"), or NULL */
  char *name;             /* ScannerName, or NULL */
} ScandWsdStatus;

/* Frees what status holds and zeroes it. Accepts NULL. */
void scand_wsd_status_clear(ScandWsdStatus *status);

/* Asks the device (uri "wsd:http[s]://…" or "http[s]://…") for its
 * ScannerDescription and ScannerStatus. options may be NULL. Clear out with
 * scand_wsd_status_clear(). */
gboolean scand_wsd_get_status(const char *uri, const ScandOpenOptions *options, ScandWsdStatus *out, GError **error);

G_END_DECLS
