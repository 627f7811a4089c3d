/* "ADDRESS:PORT" as the configuration writes where a listener listens. */
#include "scand/base/listen-address.h"
#include "scand/base/error.h"

#include <gio/gio.h>
#include <string.h>

gboolean scand_listen_address_parse(const char *text, char **address, guint *port, GError **error) {
  *address = NULL;
  *port = 0;
  if (!text || !*text) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "empty (expected ADDRESS:PORT, e.g. 127.0.0.1:8091)");
    return FALSE;
  }
  const char *colon = strrchr(text, ':');
  if (!colon) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "no port (expected ADDRESS:PORT, e.g. 127.0.0.1:8091)");
    return FALSE;
  }
  g_autofree char *host = g_strndup(text, (gsize) (colon - text));
  const char *digits = colon + 1;
  char *end = NULL;
  guint64 p = *digits && g_ascii_isdigit(*digits) ? g_ascii_strtoull(digits, &end, 10) : 0;
  if (!end || *end || p == 0 || p > 65535) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "the port is not a number from 1 to 65535");
    return FALSE;
  }
  gsize hl = strlen(host);
  if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
    memmove(host, host + 1, hl - 2);
    host[hl - 2] = '\0';
    if (!strchr(host, ':')) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "[%s] is not an IPv6 address", host);
      return FALSE;
    }
  } else if (strchr(host, ':')) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "an IPv6 address goes in brackets: [ADDRESS]:PORT");
    return FALSE;
  }
  if (*host) {
    g_autoptr(GInetAddress) a = g_inet_address_new_from_string(host);
    if (!a) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "\"%s\" is not an IP address (names are not resolved here)",
                  host);
      return FALSE;
    }
  }
  *address = g_steal_pointer(&host);
  *port = (guint) p;
  return TRUE;
}

gboolean scand_listen_address_is_loopback(const char *address) {
  if (!address || !*address)
    return FALSE;
  g_autoptr(GInetAddress) a = g_inet_address_new_from_string(address);
  return a && g_inet_address_get_is_loopback(a);
}
