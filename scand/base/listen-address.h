/* Where a listener of the daemon listens, as the configuration writes it:
 * "127.0.0.1:8091", "[::1]:8091", "0.0.0.0:8091" or ":8091" (every address). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Parses text. FALSE with SCAND_ERROR_INVAL saying what is wrong; else
 * *address is newly allocated ("" for every address) and *port set. Names
 * are not resolved: an address is an IP address. Pure. */
gboolean scand_listen_address_parse(const char *text, char **address, guint *port, GError **error);

/* Whether address (as parsed) can be reached only from this computer:
 * 127.0.0.0/8 or ::1. */
gboolean scand_listen_address_is_loopback(const char *address);

G_END_DECLS
