/* A scanner's state in the words the scan button, D-Bus and the web page
 * share: "ready", "paper-in-feeder", "busy", "offline" or "problem". */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Reads the state of the device at uri now: from its backend's status where
 * it reports one, else by opening the device (and closing it at once): busy
 * when another program holds it. Blocks (network, USB): call it off the main
 * thread. *detail (may be NULL) gets the device's own words, newly allocated.
 * Returns a static string. */
const char *scand_device_state_read(const char *uri, char **detail);

G_END_DECLS
