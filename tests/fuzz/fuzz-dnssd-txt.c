/* Fuzzes discovery's pure parts with hostile DNS-SD data: input lines are
 * "ADDRESS", "IFNAME", then TXT entries. Whatever a TXT record says, the
 * strings we keep are printable UTF-8 lines, and an eSCL URI built from it
 * keeps our scheme, host and port: no query, fragment, user info or white
 * space sneaks in through rs. Merging the result with itself is stable. Never
 * a crash. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/discovery-private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(gboolean ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "fuzz-dnssd-txt: %s\n", what);
    abort();
  }
}

static void printable(const char *s) {
  if (!s)
    return;
  require(g_utf8_validate(s, -1, NULL), "text field is not UTF-8");
  for (const char *p = s; *p; p = g_utf8_next_char(p))
    require(!g_unichar_iscntrl(g_utf8_get_char(p)), "control character in a text field");
  require(strlen(s) <= 255, "text field too long");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  g_autofree char *text = g_strndup((const char *) data, size);
  g_auto(GStrv) lines = g_strsplit(text, "\n", 64);
  guint n = g_strv_length(lines);
  const char *address = n > 0 ? lines[0] : "192.0.2.1";
  const char *ifname = n > 1 ? lines[1] : NULL;
  const char *const *txt = n > 2 ? (const char *const *) lines + 2 : NULL;

  ScandTxtInfo info;
  scand_discovery_txt_parse(txt, &info);
  printable(info.ty);
  printable(info.note);
  printable(info.pdl);
  printable(info.rs_problem);
  require((info.rs_path == NULL) != (info.rs_problem == NULL), "rs neither usable nor refused");
  if (info.uuid) {
    g_autofree char *again = scand_discovery_uuid_normalize(info.uuid);
    require(again && strcmp(again, info.uuid) == 0, "uuid not normalised");
  }

  const char *addrs[] = { address, "192.0.2.1", "fe80::1" };
  for (guint a = 0; a < G_N_ELEMENTS(addrs); a++) {
    g_autoptr(GError) error = NULL;
    g_autofree char *uri = scand_discovery_uri_build(a & 1, addrs[a], ifname, 8080, info.rs_path, &error);
    require((uri == NULL) == (error != NULL), "neither URI nor error");
    if (!uri)
      continue;
    const char *rest = strstr(uri, "://");
    require(rest != NULL, "no scheme");
    require(strpbrk(rest + 3, "?#@ \t\r\n\\") == NULL, "URI has a query, fragment, user info or space");
    g_autoptr(GUri) u = g_uri_parse(uri + 5, G_URI_FLAGS_ENCODED | G_URI_FLAGS_NON_DNS, NULL);
    require(u != NULL, "URI does not parse");
    require(g_uri_get_port(u) == 8080, "port changed");
    require(g_uri_get_query(u) == NULL && g_uri_get_userinfo(u) == NULL, "query or userinfo");
  }

  g_autoptr(GPtrArray) devs = g_ptr_array_new_with_free_func((GDestroyNotify) scand_discovered_device_free);
  for (guint i = 0; i < 3; i++) {
    ScandDiscoveredDevice *d = scand_discovered_device_new();
    d->name = g_strdup(info.ty);
    d->uuid = i == 2 ? NULL : g_strdup(info.uuid);
    d->host = scand_discovery_sanitize(address, 255);
    d->sources = info.sources;
    d->modes = info.modes;
    g_autofree char *uri = g_strdup_printf("escl:http://192.0.2.%u:80/eSCL", i);
    scand_discovered_device_add_uri(d, uri);
    scand_discovered_device_add_origin(d, "dns-sd");
    g_ptr_array_add(devs, d);
  }
  scand_discovery_merge(devs);
  guint len = devs->len;
  scand_discovery_merge(devs);
  require(devs->len == len && len >= 1, "merge not stable");

  g_auto(GStrv) cands = scand_discovery_cups_candidates(address);
  for (guint i = 0; cands[i]; i++)
    require(strpbrk(cands[i], "?#@ ") == NULL, "CUPS candidate carries junk");
  g_free(scand_discovery_cups_uuid(address));
  scand_txt_info_clear(&info);
  return 0;
}
