/* Fuzzes what the web page reads from outside: the first byte picks the
 * parser, the rest is its input. 0: an accounts file (checked, looked up,
 * a user set in it: the result checks again and holds that hash); 1: a JSON
 * request body (strings come out short and without control characters);
 * 2: a [web] listen value (a port 1..65535 and an IP address or nothing).
 * Never a crash. */
#include <gio/gio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scand/base/listen-address.h"
#include "scand/service/web-accounts.h"
#include "scand/service/web-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HASH "$y$j9T$wD02gAKIFKZydzAMgFLQg1$hgscBvXHkTMO839ajb1DRdLsvzvBLFv/O62a6xDee09"

static void require(gboolean ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "fuzz-web-input: %s\n", what);
    abort();
  }
}

static void accounts(const char *text, gsize len) {
  g_autoptr(GError) error = NULL;
  gboolean ok = scand_web_accounts_check(text, len, &error);
  require(ok || (error && !strchr(error->message, '\n')), "a refusal without a one-line reason");
  g_autoptr(GError) lookup_error = NULL;
  g_autofree char *found = scand_web_accounts_lookup(text, len, "anna", &lookup_error);
  require(!found || ok, "a lookup in a file that does not check");
  require(!found || g_str_has_prefix(found, "$y$") || g_str_has_prefix(found, "$argon2id$"), "a weak hash found");
  g_autoptr(GError) set_error = NULL;
  g_autofree char *updated = scand_web_accounts_set(text, len, "fuzz", HASH, &set_error);
  require(!ok || updated, "setting a user in a good file failed");
  if (updated) {
    require(scand_web_accounts_check(updated, strlen(updated), NULL), "the updated file does not check");
    g_autofree char *again = scand_web_accounts_lookup(updated, strlen(updated), "fuzz", NULL);
    require(again && strcmp(again, HASH) == 0, "the user set is not in the updated file");
  }
}

static void body(const char *text, gsize len) {
  const char *const names[] = { "user", "password", "scanner", NULL };
  char *values[3];
  g_autoptr(GError) error = NULL;
  if (!web_json_strings(text, len, names, values, &error)) {
    require(error != NULL, "no values and no error");
    return;
  }
  for (guint i = 0; i < 3; i++) {
    for (const char *c = values[i]; c && *c; c++)
      require((guchar) *c >= 0x20 && *c != 0x7f, "a control character in a value");
    require(!values[i] || (strlen(values[i]) <= 1024 && g_utf8_validate(values[i], -1, NULL)), "a long value");
    g_free(values[i]);
  }
}

static void listen_value(const char *text) {
  g_autofree char *address = NULL;
  guint port = 0;
  g_autoptr(GError) error = NULL;
  if (!scand_listen_address_parse(text, &address, &port, &error)) {
    require(error && !address, "a refusal without a reason");
    return;
  }
  require(port >= 1 && port <= 65535, "a port out of range");
  g_autoptr(GInetAddress) a = *address ? g_inet_address_new_from_string(address) : NULL;
  require(!*address || a != NULL, "an address that is not one");
  scand_listen_address_is_loopback(address);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size == 0)
    return 0;
  const char *rest = (const char *) data + 1;
  gsize len = size - 1;
  switch (data[0] % 3) {
    case 0:
      accounts(rest, len);
      break;
    case 1:
      body(rest, len);
      break;
    default: {
      g_autofree char *text = g_strndup(rest, len);
      listen_value(text);
    }
  }
  return 0;
}
