/* SANE extras beyond the generic backend interface. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Opens the device (uri "sane:NAME"), reads its hardware buttons — active
 * read-only bool options (SANE_CAP_HARD_SELECT), as backends expose scan /
 * email / copy buttons — appends the names of those that read TRUE to pressed
 * (newly allocated strings), and closes the device again, so that between two
 * polls any other program (and scand's own scans) can use it. */
gboolean scand_sane_read_buttons(const char *uri, GPtrArray *pressed, GError **error);

G_END_DECLS
