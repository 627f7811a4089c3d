/* Fuzzes the check that keeps credentials out of URLs (config check, the
 * spool's output snapshots, messages): any bytes as a URL. Whatever
 * scand_http_url_without_password() returns has user info, carries no
 * password any more and is shorter than the input; a URL without user info
 * is never changed. Never a crash. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scand/base/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(gboolean ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "fuzz-url-userinfo: %s\n", what);
    abort();
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  g_autofree char *text = g_strndup((const char *) data, size);
  gboolean has = scand_http_url_has_userinfo(text);
  g_autofree char *bare = scand_http_url_without_password(text);
  if (!has) {
    require(bare == NULL, "a password removed from a URL without user info");
    return 0;
  }
  if (!bare)
    return 0; /* a user name without a password: nothing to remove */
  require(strlen(bare) < strlen(text), "nothing was removed");
  require(scand_http_url_has_userinfo(bare), "the user name went too");
  g_autofree char *again = scand_http_url_without_password(bare);
  require(again == NULL, "a password is left");
  /* Exactly one span (":password") was cut out: the rest is unchanged. */
  size_t n = strlen(text), m = strlen(bare), pre = 0, post = 0;
  while (pre < m && text[pre] == bare[pre])
    pre++;
  while (post < m - pre && text[n - 1 - post] == bare[m - 1 - post])
    post++;
  require(pre + post == m, "more than the password changed");
  require(text[pre] == ':', "the cut does not start at the password's colon");
  return 0;
}
