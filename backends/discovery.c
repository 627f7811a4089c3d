/* Finding scanners: pure parts (TXT, URIs, merging) first, then the sources
 * that talk to the world (avahi, SANE, CUPS, eSCL capability probes). */
#include "backends/discovery-private.h"
#include "backends/backend.h"
#include "scand/base/error.h"
#include "scand/base/http.h"

#include <avahi-client/client.h>
#include <avahi-client/lookup.h>
#include <avahi-common/error.h>
#include <avahi-common/simple-watch.h>
#include <cups/cups.h>
#include <gio/gio.h>
#include <net/if.h>
#include <string.h>

#define DISCOVERY_DEFAULT_BROWSE_MS 2000
#define DISCOVERY_DEFAULT_PROBE_MS 1500
/* Capabilities documents are a few kB; a device sending more is broken. */
#define DISCOVERY_MAX_CAPS_BYTES (1024 * 1024)
#define TXT_MAX_TEXT 255

/* ---- devices ------------------------------------------------------------- */

ScandDiscoveredDevice *scand_discovered_device_new(void) {
  ScandDiscoveredDevice *dev = g_new0(ScandDiscoveredDevice, 1);
  dev->uris = g_ptr_array_new_with_free_func(g_free);
  dev->origins = g_ptr_array_new_with_free_func(g_free);
  return dev;
}

void scand_discovered_device_free(ScandDiscoveredDevice *dev) {
  if (!dev)
    return;
  g_free(dev->name);
  g_free(dev->model);
  g_free(dev->uuid);
  g_free(dev->host);
  g_free(dev->note);
  g_free(dev->pdl);
  g_ptr_array_unref(dev->uris);
  g_ptr_array_unref(dev->origins);
  g_free(dev);
}

static gboolean strv_array_has(GPtrArray *a, const char *s) {
  for (guint i = 0; i < a->len; i++)
    if (strcmp(a->pdata[i], s) == 0)
      return TRUE;
  return FALSE;
}

void scand_discovered_device_add_uri(ScandDiscoveredDevice *dev, const char *uri) {
  if (uri && *uri && !strv_array_has(dev->uris, uri))
    g_ptr_array_add(dev->uris, g_strdup(uri));
}

void scand_discovered_device_add_origin(ScandDiscoveredDevice *dev, const char *origin) {
  if (origin && *origin && !strv_array_has(dev->origins, origin))
    g_ptr_array_add(dev->origins, g_strdup(origin));
}

/* Joins the names of the bits set in bits (a static table). Newly allocated. */
static char *bits_to_string(guint bits, const char *const *names, guint n) {
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < n; i++)
    if (bits & (1u << i))
      g_string_append_printf(s, "%s%s", s->len ? ", " : "", names[i]);
  return g_string_free(s, FALSE);
}

char *scand_discovery_sources_to_string(guint sources) {
  static const char *const names[] = { "platen", "feeder", "duplex" };
  return bits_to_string(sources, names, G_N_ELEMENTS(names));
}

char *scand_discovery_modes_to_string(guint modes) {
  static const char *const names[] = { "color", "gray", "lineart" };
  return bits_to_string(modes, names, G_N_ELEMENTS(names));
}

/* ---- TXT records --------------------------------------------------------- */

char *scand_discovery_sanitize(const char *text, gsize max_len) {
  if (!text || !*text)
    return NULL;
  g_autofree char *valid = g_utf8_make_valid(text, -1);
  GString *out = g_string_new(NULL);
  for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
    gunichar c = g_utf8_get_char(p);
    gsize clen = g_utf8_next_char(p) - p;
    if (out->len + clen > max_len)
      break;
    if (g_unichar_iscntrl(c) || c == 0x2028 || c == 0x2029)
      g_string_append_c(out, '?');
    else
      g_string_append_len(out, p, clen);
  }
  if (out->len == 0) {
    g_string_free(out, TRUE);
    return NULL;
  }
  return g_string_free(out, FALSE);
}

char *scand_discovery_uuid_normalize(const char *uuid) {
  if (!uuid)
    return NULL;
  if (g_ascii_strncasecmp(uuid, "urn:uuid:", 9) == 0)
    uuid += 9;
  gsize len = strlen(uuid);
  if (len >= 2 && uuid[0] == '{' && uuid[len - 1] == '}') {
    uuid++;
    len -= 2;
  }
  if (len == 0 || len > 64)
    return NULL;
  guint hex = 0;
  for (gsize i = 0; i < len; i++) {
    if (g_ascii_isxdigit(uuid[i]))
      hex++;
    else if (uuid[i] != '-')
      return NULL;
  }
  if (hex != 32)
    return NULL;
  return g_ascii_strdown(uuid, len);
}

char *scand_discovery_rs_to_path(const char *rs, GError **error) {
  if (!rs)
    rs = "eSCL";
  if (strlen(rs) > TXT_MAX_TEXT) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "rs is longer than %d bytes", TXT_MAX_TEXT);
    return NULL;
  }
  if (!g_utf8_validate(rs, -1, NULL)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "rs is not UTF-8");
    return NULL;
  }
  for (const char *p = rs; *p; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "rs contains a control character");
      return NULL;
    }
  g_auto(GStrv) segs = g_strsplit(rs, "/", -1);
  GString *path = g_string_new(NULL);
  for (guint i = 0; segs[i]; i++) {
    if (!*segs[i])
      continue; /* leading, trailing or doubled slashes */
    if (strcmp(segs[i], ".") == 0 || strcmp(segs[i], "..") == 0) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "rs contains a \"%s\" segment", segs[i]);
      g_string_free(path, TRUE);
      return NULL;
    }
    /* Everything but unreserved characters is encoded, so '?', '#', '@', '%'
     * and '\' cannot change what the URI means. */
    g_autofree char *enc = g_uri_escape_string(segs[i], NULL, FALSE);
    g_string_append_c(path, '/');
    g_string_append(path, enc);
  }
  return g_string_free(path, FALSE);
}

void scand_txt_info_clear(ScandTxtInfo *info) {
  if (!info)
    return;
  g_free(info->rs_path);
  g_free(info->rs_problem);
  g_free(info->ty);
  g_free(info->uuid);
  g_free(info->note);
  g_free(info->pdl);
  memset(info, 0, sizeof *info);
}

/* Calls fn on each comma-separated, trimmed, non-empty word of list. */
static guint words_to_bits(const char *list, guint (*fn)(const char *word)) {
  guint bits = 0;
  g_auto(GStrv) words = g_strsplit(list, ",", 32);
  for (guint i = 0; words[i]; i++) {
    g_strstrip(words[i]);
    if (*words[i])
      bits |= fn(words[i]);
  }
  return bits;
}

static guint source_word(const char *w) {
  if (g_ascii_strcasecmp(w, "platen") == 0 || g_ascii_strcasecmp(w, "flatbed") == 0)
    return SCAND_DISCOVERY_PLATEN;
  if (g_ascii_strcasecmp(w, "adf") == 0 || g_ascii_strcasecmp(w, "feeder") == 0)
    return SCAND_DISCOVERY_FEEDER;
  return 0;
}

static guint mode_word(const char *w) {
  if (g_ascii_strcasecmp(w, "color") == 0 || g_ascii_strcasecmp(w, "rgb") == 0)
    return SCAND_DISCOVERY_COLOR;
  if (g_ascii_strcasecmp(w, "grayscale") == 0 || g_ascii_strcasecmp(w, "gray") == 0)
    return SCAND_DISCOVERY_GRAY;
  if (g_ascii_strcasecmp(w, "binary") == 0 || g_ascii_strcasecmp(w, "bw") == 0 ||
      g_ascii_strcasecmp(w, "blackandwhite") == 0)
    return SCAND_DISCOVERY_LINEART;
  return 0;
}

void scand_discovery_txt_parse(const char *const *entries, ScandTxtInfo *out) {
  memset(out, 0, sizeof *out);
  const char *rs = NULL, *is = NULL, *cs = NULL, *duplex = NULL;
  gboolean have_rs = FALSE, have_ty = FALSE, have_uuid = FALSE, have_note = FALSE, have_pdl = FALSE;
  for (guint i = 0; entries && entries[i]; i++) {
    const char *e = entries[i];
    const char *eq = strchr(e, '=');
    if (!eq || eq == e)
      continue; /* a boolean attribute or an empty key: nothing we use */
    gsize klen = eq - e;
    const char *v = eq + 1;
#define KEY(k) (klen == strlen(k) && g_ascii_strncasecmp(e, k, klen) == 0)
    if (KEY("rs") && !have_rs) {
      have_rs = TRUE;
      rs = v;
    } else if (KEY("ty") && !have_ty) {
      have_ty = TRUE;
      out->ty = scand_discovery_sanitize(v, TXT_MAX_TEXT);
    } else if (KEY("uuid") && !have_uuid) {
      have_uuid = TRUE;
      out->uuid = scand_discovery_uuid_normalize(v);
    } else if (KEY("note") && !have_note) {
      have_note = TRUE;
      out->note = scand_discovery_sanitize(v, TXT_MAX_TEXT);
    } else if (KEY("pdl") && !have_pdl) {
      have_pdl = TRUE;
      out->pdl = scand_discovery_sanitize(v, TXT_MAX_TEXT);
    } else if (KEY("is") && !is) {
      is = v;
    } else if (KEY("cs") && !cs) {
      cs = v;
    } else if (KEY("duplex") && !duplex) {
      duplex = v;
    }
#undef KEY
  }
  g_autoptr(GError) error = NULL;
  out->rs_path = scand_discovery_rs_to_path(rs, &error);
  if (!out->rs_path)
    out->rs_problem = scand_discovery_sanitize(error->message, TXT_MAX_TEXT);
  if (is)
    out->sources |= words_to_bits(is, source_word);
  if (duplex && (g_ascii_strcasecmp(duplex, "T") == 0 || g_ascii_strcasecmp(duplex, "true") == 0))
    out->sources |= SCAND_DISCOVERY_DUPLEX;
  if (cs)
    out->modes |= words_to_bits(cs, mode_word);
}

/* ---- URIs ---------------------------------------------------------------- */

static gboolean ifname_ok(const char *ifname) {
  gsize len = strlen(ifname);
  if (len == 0 || len >= IFNAMSIZ)
    return FALSE;
  for (const char *p = ifname; *p; p++)
    if (!g_ascii_isalnum(*p) && !strchr("-_.", *p))
      return FALSE;
  return TRUE;
}

static gboolean dns_name_ok(const char *name) {
  gsize len = strlen(name);
  if (len == 0 || len > 253)
    return FALSE;
  for (const char *p = name; *p; p++)
    if (!g_ascii_isalnum(*p) && *p != '-' && *p != '.')
      return FALSE;
  return TRUE;
}

char *scand_discovery_uri_build(gboolean tls, const char *address, const char *ifname, guint port, const char *rs_path,
                                GError **error) {
  if (!address || !*address) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "no address");
    return NULL;
  }
  if (port == 0 || port > 65535) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "port %u out of range", port);
    return NULL;
  }
  if (!rs_path) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "no resource path");
    return NULL;
  }
  g_autofree char *authority = NULL;
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string(address);
  if (inet && g_inet_address_get_family(inet) == G_SOCKET_FAMILY_IPV6) {
    g_autofree char *canon = g_inet_address_to_string(inet);
    if (g_inet_address_get_is_link_local(inet)) {
      if (!ifname || !ifname_ok(ifname)) {
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "IPv6 link-local address %s needs a valid interface name",
                    canon);
        return NULL;
      }
      authority = g_strdup_printf("[%s%%25%s]", canon, ifname);
    } else {
      authority = g_strdup_printf("[%s]", canon);
    }
  } else if (inet) {
    authority = g_inet_address_to_string(inet);
  } else if (dns_name_ok(address)) {
    authority = g_ascii_strdown(address, -1);
  } else {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "not an address or host name");
    return NULL;
  }
  return g_strdup_printf("escl:%s://%s:%u%s%s", tls ? "https" : "http", authority, port, rs_path, *rs_path ? "" : "/");
}

/* ---- merging ------------------------------------------------------------- */

static gboolean has_origin(const ScandDiscoveredDevice *d, const char *origin) {
  return strv_array_has(d->origins, origin);
}

static gboolean host_equal(const char *a, const char *b) {
  if (!a || !b)
    return FALSE;
  gsize la = strlen(a), lb = strlen(b);
  if (la && a[la - 1] == '.')
    la--;
  if (lb && b[lb - 1] == '.')
    lb--;
  return la == lb && la > 0 && g_ascii_strncasecmp(a, b, la) == 0;
}

static gboolean same_device(const ScandDiscoveredDevice *a, const ScandDiscoveredDevice *b) {
  if (a->uuid && b->uuid)
    return strcmp(a->uuid, b->uuid) == 0;
  if (host_equal(a->host, b->host))
    return TRUE;
  if (a->name && b->name && strcmp(a->name, b->name) == 0 &&
      ((has_origin(a, "sane-airscan") && has_origin(b, "dns-sd")) ||
       (has_origin(b, "sane-airscan") && has_origin(a, "dns-sd"))))
    return TRUE;
  /* sane-airscan names a WSD device it found by its model. */
  const ScandDiscoveredDevice *sa = has_origin(a, "sane-airscan") ? a : has_origin(b, "sane-airscan") ? b : NULL;
  const ScandDiscoveredDevice *ws = sa == a ? b : a;
  if (sa && has_origin(ws, "ws-discovery") && sa->name &&
      (g_strcmp0(sa->name, ws->model) == 0 || g_strcmp0(sa->name, ws->name) == 0))
    return TRUE;
  return FALSE;
}

static void take_if_unset(char **dst, char **src) {
  if (!*dst) {
    *dst = *src;
    *src = NULL;
  }
}

static void merge_into(ScandDiscoveredDevice *dst, ScandDiscoveredDevice *src) {
  /* A DNS-SD instance name says more than a SANE device name. */
  if (has_origin(src, "dns-sd") && !has_origin(dst, "dns-sd") && src->name) {
    g_free(dst->name);
    dst->name = g_steal_pointer(&src->name);
  }
  take_if_unset(&dst->name, &src->name);
  take_if_unset(&dst->model, &src->model);
  take_if_unset(&dst->uuid, &src->uuid);
  take_if_unset(&dst->host, &src->host);
  take_if_unset(&dst->note, &src->note);
  take_if_unset(&dst->pdl, &src->pdl);
  for (guint i = 0; i < src->uris->len; i++)
    scand_discovered_device_add_uri(dst, src->uris->pdata[i]);
  for (guint i = 0; i < src->origins->len; i++)
    scand_discovered_device_add_origin(dst, src->origins->pdata[i]);
  dst->sources |= src->sources;
  dst->modes |= src->modes;
}

/* eSCL before WSD before anything else, https before http; within one
 * scheme IPv4 and names, then IPv6, then link-local IPv6 (only valid on one
 * interface). */
static int uri_rank(const char *uri) {
  static const char *const schemes[] = { "escl:https:", "escl:http:", "wsd:https:", "wsd:http:" };
  int scheme = G_N_ELEMENTS(schemes);
  for (guint i = 0; i < G_N_ELEMENTS(schemes) && scheme == G_N_ELEMENTS(schemes); i++)
    if (g_str_has_prefix(uri, schemes[i]))
      scheme = (int) i;
  const char *authority = strstr(uri, "://");
  int family = 0;
  if (authority && g_ascii_strncasecmp(authority + 3, "[fe80", 5) == 0)
    family = 2;
  else if (authority && authority[3] == '[')
    family = 1;
  return scheme * 3 + family;
}

/* Stable sort of uris by rank (insertion: the arrays are tiny). */
static void sort_uris(GPtrArray *uris) {
  for (guint i = 1; i < uris->len; i++) {
    gpointer cur = uris->pdata[i];
    guint j = i;
    while (j > 0 && uri_rank(uris->pdata[j - 1]) > uri_rank(cur)) {
      uris->pdata[j] = uris->pdata[j - 1];
      j--;
    }
    uris->pdata[j] = cur;
  }
}

static int device_cmp(gconstpointer pa, gconstpointer pb) {
  const ScandDiscoveredDevice *a = *(ScandDiscoveredDevice *const *) pa;
  const ScandDiscoveredDevice *b = *(ScandDiscoveredDevice *const *) pb;
  int c = g_strcmp0(a->name, b->name);
  if (c == 0 && a->uris->len && b->uris->len)
    c = strcmp(a->uris->pdata[0], b->uris->pdata[0]);
  return c;
}

void scand_discovery_merge(GPtrArray *devices) {
  gboolean changed = TRUE;
  /* Repeat until stable: merging A and B can give A the UUID that matches C. */
  while (changed) {
    changed = FALSE;
    for (guint i = 0; i < devices->len; i++)
      for (guint j = i + 1; j < devices->len;) {
        if (same_device(devices->pdata[i], devices->pdata[j])) {
          merge_into(devices->pdata[i], devices->pdata[j]);
          g_ptr_array_remove_index(devices, j);
          changed = TRUE;
        } else {
          j++;
        }
      }
  }
  for (guint i = 0; i < devices->len; i++)
    sort_uris(((ScandDiscoveredDevice *) devices->pdata[i])->uris);
  g_ptr_array_sort(devices, device_cmp);
}

void scand_discovery_apply_caps(ScandDiscoveredDevice *dev, const EsclCaps *caps) {
  guint colors = 0;
  for (int i = 0; i < ESCL_INPUT_COUNT; i++)
    if (caps->inputs[i].present)
      colors |= caps->inputs[i].color_modes;
  if (caps->inputs[ESCL_INPUT_PLATEN].present)
    dev->sources |= SCAND_DISCOVERY_PLATEN;
  if (caps->inputs[ESCL_INPUT_ADF_SIMPLEX].present)
    dev->sources |= SCAND_DISCOVERY_FEEDER;
  if (caps->inputs[ESCL_INPUT_ADF_DUPLEX].present)
    dev->sources |= SCAND_DISCOVERY_FEEDER | SCAND_DISCOVERY_DUPLEX;
  if (colors & (ESCL_COLOR_RGB24 | ESCL_COLOR_RGB48))
    dev->modes |= SCAND_DISCOVERY_COLOR;
  if (colors & (ESCL_COLOR_GRAY8 | ESCL_COLOR_GRAY16))
    dev->modes |= SCAND_DISCOVERY_GRAY;
  if (colors & ESCL_COLOR_BW1)
    dev->modes |= SCAND_DISCOVERY_LINEART;
  if (!dev->model)
    dev->model = scand_discovery_sanitize(caps->make_and_model, TXT_MAX_TEXT);
  if (!dev->uuid)
    dev->uuid = scand_discovery_uuid_normalize(caps->uuid);
}

ScandDiscoveredDevice *scand_discovery_from_wsdd(const ScandWsddDevice *w) {
  ScandDiscoveredDevice *dev = scand_discovered_device_new();
  for (guint i = 0; i < w->scan_urls->len; i++) {
    g_autofree char *uri = g_strconcat("wsd:", (const char *) w->scan_urls->pdata[i], NULL);
    scand_discovered_device_add_uri(dev, uri);
    g_autoptr(GUri) u =
        dev->host ? NULL : g_uri_parse(w->scan_urls->pdata[i], G_URI_FLAGS_NON_DNS | G_URI_FLAGS_ENCODED, NULL);
    const char *host = u ? g_uri_get_host(u) : NULL;
    if (host && *host)
      dev->host = scand_discovery_sanitize(host, strcspn(host, "%"));
  }
  g_autofree char *vm = NULL;
  if (w->manufacturer && w->model && !g_str_has_prefix(w->model, w->manufacturer))
    vm = g_strdup_printf("%s %s", w->manufacturer, w->model);
  else
    vm = g_strdup(w->model ? w->model : w->manufacturer);
  dev->model = scand_discovery_sanitize(vm, TXT_MAX_TEXT);
  dev->name = scand_discovery_sanitize(w->friendly_name ? w->friendly_name : vm ? vm : w->endpoint, TXT_MAX_TEXT);
  dev->uuid = scand_discovery_uuid_normalize(w->uuid);
  scand_discovered_device_add_origin(dev, "ws-discovery");
  return dev;
}

ScandDiscoveredDevice *scand_discovery_from_sane(const char *sane_name, const char *vendor, const char *model) {
  ScandDiscoveredDevice *dev = scand_discovered_device_new();
  g_autofree char *uri = g_strconcat("sane:", sane_name, NULL);
  scand_discovered_device_add_uri(dev, uri);
  /* sane-airscan names its devices "airscan:<e|w><n>:<DNS-SD instance name>". */
  if (g_str_has_prefix(sane_name, "airscan:")) {
    const char *rest = sane_name + 8;
    const char *colon = strchr(rest, ':');
    dev->name = scand_discovery_sanitize(colon ? colon + 1 : rest, TXT_MAX_TEXT);
    scand_discovered_device_add_origin(dev, "sane-airscan");
  } else {
    dev->name = scand_discovery_sanitize(sane_name, TXT_MAX_TEXT);
    scand_discovered_device_add_origin(dev, "sane");
  }
  g_autofree char *vm = NULL;
  if (vendor && *vendor && model && *model && !g_str_has_prefix(model, vendor))
    vm = g_strdup_printf("%s %s", vendor, model);
  else
    vm = g_strdup(model && *model ? model : vendor);
  dev->model = scand_discovery_sanitize(vm, TXT_MAX_TEXT);
  return dev;
}

GStrv scand_discovery_cups_candidates(const char *uri) {
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  g_autoptr(GUri) u = uri ? g_uri_parse(uri, G_URI_FLAGS_NON_DNS | G_URI_FLAGS_ENCODED, NULL) : NULL;
  const char *scheme = u ? g_uri_get_scheme(u) : NULL;
  const char *host = u ? g_uri_get_host(u) : NULL;
  if (!scheme || !host || !*host || host[0] == '/')
    return g_strv_builder_end(b);
  g_autofree char *authority = NULL;
  if (strchr(host, ':')) {
    /* IPv6: GLib hands back the zone as written ("%25eth0"), keep it so. */
    g_autoptr(GInetAddress) inet = NULL;
    g_autofree char *bare = g_strndup(host, strcspn(host, "%"));
    inet = g_inet_address_new_from_string(bare);
    if (!inet)
      return g_strv_builder_end(b);
    authority = g_strdup_printf("[%s]", host);
  } else if (dns_name_ok(host)) {
    authority = g_strdup(host);
  } else {
    return g_strv_builder_end(b);
  }
  int port = g_uri_get_port(u);
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
  gboolean ipp = g_ascii_strcasecmp(scheme, "ipp") == 0, ipps = g_ascii_strcasecmp(scheme, "ipps") == 0;
  gboolean http = g_ascii_strcasecmp(scheme, "http") == 0, https = g_ascii_strcasecmp(scheme, "https") == 0;
  if (ipp || ipps || http || https) {
    gboolean tls = ipps || https;
    int p = port > 0 ? port : (ipp || ipps) ? 631 : tls ? 443 : 80;
    g_ptr_array_add(out, g_strdup_printf("%s://%s:%d/eSCL", tls ? "https" : "http", authority, p));
  } else if (g_ascii_strcasecmp(scheme, "socket") != 0 && g_ascii_strcasecmp(scheme, "lpd") != 0) {
    return g_strv_builder_end(b); /* usb:, dnssd:, file: … */
  }
  /* Most network MFPs serve eSCL on the web server's ports. */
  char *usual[] = {
    g_strdup_printf("http://%s:80/eSCL", authority),
    g_strdup_printf("https://%s:443/eSCL", authority),
  };
  for (guint i = 0; i < G_N_ELEMENTS(usual); i++) {
    if (!strv_array_has(out, usual[i]))
      g_ptr_array_add(out, g_steal_pointer(&usual[i]));
    g_free(usual[i]);
  }
  for (guint i = 0; i < out->len; i++)
    g_strv_builder_add(b, out->pdata[i]);
  return g_strv_builder_end(b);
}

char *scand_discovery_cups_uuid(const char *uri) {
  if (!uri || g_ascii_strncasecmp(uri, "dnssd://", 8) != 0)
    return NULL;
  const char *q = strchr(uri, '?');
  if (!q)
    return NULL;
  g_auto(GStrv) params = g_strsplit(q + 1, "&", 32);
  for (guint i = 0; params[i]; i++)
    if (g_ascii_strncasecmp(params[i], "uuid=", 5) == 0) {
      g_autofree char *value = g_uri_unescape_string(params[i] + 5, NULL);
      return scand_discovery_uuid_normalize(value);
    }
  return NULL;
}

/* ---- eSCL capability probe ----------------------------------------------- */

/* GETs ScannerCapabilities under each of the n base URLs ("http[s]://…/eSCL",
 * an "escl:" prefix is skipped) at the same time, for at most timeout_ms in
 * all, and decodes the answers. The certificate of an https device is not
 * checked: the document only feeds the listing; nothing is sent, nothing
 * scanned. Returns a newly allocated array of n EsclCaps* (NULL where there
 * was no usable answer); free with free_caps_array(). */
static EsclCaps **probe_caps_many(const char *const *base_urls, guint n, guint timeout_ms) {
  EsclCaps **out = g_new0(EsclCaps *, n + 1);
  if (n == 0)
    return out;
  ScandHttp **clients = g_new0(ScandHttp *, n);
  ScandHttpRequest *requests = g_new0(ScandHttpRequest, n);
  ScandHttpReply **replies = g_new0(ScandHttpReply *, n);
  GError **errors = g_new0(GError *, n);
  g_autoptr(GPtrArray) urls = g_ptr_array_new_with_free_func(g_free);
  ScandHttpOptions options = {
    .connect_timeout_ms = timeout_ms,
    .timeout_ms = timeout_ms,
    .max_reply = DISCOVERY_MAX_CAPS_BYTES,
    .tls_unverified = TRUE, /* a listing only, see above */
  };
  for (guint i = 0; i < n; i++) {
    const char *base_url = base_urls[i];
    if (g_str_has_prefix(base_url, "escl:"))
      base_url += 5;
    gsize len = strlen(base_url);
    while (len > 0 && base_url[len - 1] == '/')
      len--;
    g_ptr_array_add(urls, g_strdup_printf("%.*s/ScannerCapabilities", (int) len, base_url));
    requests[i].url = urls->pdata[i];
    clients[i] = scand_http_new(&options, NULL);
  }
  scand_http_perform_many(clients, requests, n, replies, errors);
  for (guint i = 0; i < n; i++) {
    /* Only transfers that ended well count: a timeout can leave half a body. */
    if (replies[i] && replies[i]->status == 200 &&
        !escl_caps_decode((const char *) replies[i]->body->data, replies[i]->body->len, &out[i], NULL))
      out[i] = NULL;
    scand_http_reply_free(replies[i]);
    g_clear_error(&errors[i]);
    scand_http_free(clients[i]);
  }
  g_free(errors);
  g_free(replies);
  g_free(requests);
  g_free(clients);
  return out;
}

static void free_caps_array(EsclCaps **caps, guint n) {
  for (guint i = 0; caps && i < n; i++)
    escl_caps_free(caps[i]);
  g_free(caps);
}

/* ---- DNS-SD (avahi) ------------------------------------------------------ */

typedef struct {
  AvahiSimplePoll *poll;
  AvahiClient *client;
  guint browsers;
  guint browsers_done;
  guint resolving;
  GPtrArray *devices;
  GPtrArray *warnings;
} Browse;

static void warn(GPtrArray *warnings, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void warn(GPtrArray *warnings, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  if (warnings && !strv_array_has(warnings, msg))
    g_ptr_array_add(warnings, msg);
  else
    g_free(msg);
}

/* TXT entries as C strings; entries holding a NUL byte are dropped (no key we
 * use may contain one, and a C string would silently cut it). */
static GStrv txt_to_strv(AvahiStringList *txt) {
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  for (AvahiStringList *l = txt; l; l = avahi_string_list_get_next(l)) {
    const char *text = (const char *) avahi_string_list_get_text(l);
    gsize size = avahi_string_list_get_size(l);
    if (memchr(text, 0, size))
      continue;
    g_autofree char *entry = g_strndup(text, size);
    g_strv_builder_add(b, entry);
  }
  return g_strv_builder_end(b);
}

/* Turns one resolved service into a device (dropped, with a note, when no
 * usable URI can be built from it) and frees the resolver. */
static void on_resolved(AvahiServiceResolver *r, AvahiIfIndex interface, AvahiProtocol protocol,
                        AvahiResolverEvent event, const char *name, const char *type, const char *domain,
                        const char *host_name, const AvahiAddress *address, uint16_t port, AvahiStringList *txt,
                        AvahiLookupResultFlags flags, void *user_data) {
  Browse *br = user_data;
  br->resolving--;
  if (event != AVAHI_RESOLVER_FOUND) {
    g_autofree char *safe = scand_discovery_sanitize(name, TXT_MAX_TEXT);
    warn(br->warnings, "DNS-SD: cannot resolve \"%s\" (%s)", safe ? safe : "?",
         avahi_strerror(avahi_client_errno(br->client)));
    avahi_service_resolver_free(r);
    return;
  }
  gboolean tls = strcmp(type, "_uscans._tcp") == 0;
  char addr[AVAHI_ADDRESS_STR_MAX];
  avahi_address_snprint(addr, sizeof addr, address);
  char ifname_buf[IF_NAMESIZE] = "";
  const char *ifname = NULL;
  if (address->proto == AVAHI_PROTO_INET6 && interface > 0 && if_indextoname((unsigned) interface, ifname_buf))
    ifname = ifname_buf;
  g_auto(GStrv) entries = txt_to_strv(txt);
  ScandTxtInfo info;
  scand_discovery_txt_parse((const char *const *) entries, &info);
  g_autoptr(ScandDiscoveredDevice) dev = scand_discovered_device_new();
  dev->name = scand_discovery_sanitize(name, TXT_MAX_TEXT);
  dev->host = scand_discovery_sanitize(host_name, TXT_MAX_TEXT);
  dev->model = g_steal_pointer(&info.ty);
  dev->uuid = g_steal_pointer(&info.uuid);
  dev->note = g_steal_pointer(&info.note);
  dev->pdl = g_steal_pointer(&info.pdl);
  dev->sources = info.sources;
  dev->modes = info.modes;
  scand_discovered_device_add_origin(dev, "dns-sd");
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = NULL;
  if (!info.rs_path)
    warn(br->warnings, "DNS-SD: \"%s\" (%s): unusable rs: %s", dev->name ? dev->name : "?", type, info.rs_problem);
  else if (!(uri = scand_discovery_uri_build(tls, addr, ifname, port, info.rs_path, &error)))
    warn(br->warnings, "DNS-SD: \"%s\" (%s): %s", dev->name ? dev->name : "?", type, error->message);
  scand_txt_info_clear(&info);
  /* A service we cannot build a URI for is not worth a line of its own. */
  if (uri) {
    scand_discovered_device_add_uri(dev, uri);
    g_ptr_array_add(br->devices, g_steal_pointer(&dev));
  }
  avahi_service_resolver_free(r);
  (void) protocol, (void) domain, (void) flags;
}

/* Starts a resolver for each new service; counts browsers that are done. */
static void on_browse(AvahiServiceBrowser *b, AvahiIfIndex interface, AvahiProtocol protocol, AvahiBrowserEvent event,
                      const char *name, const char *type, const char *domain, AvahiLookupResultFlags flags,
                      void *user_data) {
  Browse *br = user_data;
  switch (event) {
    case AVAHI_BROWSER_NEW:
      /* Resolve over the protocol it was seen on: an IPv6 sighting gives an
     * IPv6 address, so a dual-stack device ends up with both. */
      if (avahi_service_resolver_new(br->client, interface, protocol, name, type, domain, protocol, 0, on_resolved, br))
        br->resolving++;
      else {
        g_autofree char *safe = scand_discovery_sanitize(name, TXT_MAX_TEXT);
        warn(br->warnings, "DNS-SD: cannot resolve \"%s\" (%s)", safe ? safe : "?",
             avahi_strerror(avahi_client_errno(br->client)));
      }
      break;
    case AVAHI_BROWSER_FAILURE:
      warn(br->warnings, "DNS-SD: browsing %s failed (%s)", type ? type : "services",
           avahi_strerror(avahi_client_errno(br->client)));
      br->browsers_done++;
      break;
    case AVAHI_BROWSER_ALL_FOR_NOW:
      br->browsers_done++;
      break;
    case AVAHI_BROWSER_REMOVE:
    case AVAHI_BROWSER_CACHE_EXHAUSTED:
      break;
  }
  (void) b, (void) flags;
}

/* Nothing to do: a daemon going away mid-browse just ends with what we have. */
static void on_client(AvahiClient *c, AvahiClientState state, void *user_data) {
  (void) c, (void) state, (void) user_data;
}

/* Browses _uscan._tcp and _uscans._tcp for browse_ms (less when avahi says it
 * has everything and every resolve is done), adding devices to br->devices. */
static void dnssd_browse(Browse *br, guint browse_ms) {
  br->poll = avahi_simple_poll_new();
  if (!br->poll)
    return;
  int err = 0;
  br->client = avahi_client_new(avahi_simple_poll_get(br->poll), 0, on_client, br, &err);
  if (!br->client) {
    warn(br->warnings, "DNS-SD: cannot ask avahi-daemon (%s); network scanners not browsed", avahi_strerror(err));
    goto out;
  }
  static const char *const types[] = { "_uscan._tcp", "_uscans._tcp" };
  AvahiServiceBrowser *browsers[G_N_ELEMENTS(types)] = { NULL };
  for (guint i = 0; i < G_N_ELEMENTS(types); i++) {
    browsers[i] =
        avahi_service_browser_new(br->client, AVAHI_IF_UNSPEC, AVAHI_PROTO_UNSPEC, types[i], NULL, 0, on_browse, br);
    if (browsers[i])
      br->browsers++;
    else
      warn(br->warnings, "DNS-SD: cannot browse %s (%s)", types[i], avahi_strerror(avahi_client_errno(br->client)));
  }
  gint64 deadline = g_get_monotonic_time() + (gint64) browse_ms * 1000;
  while (br->browsers > 0) {
    if (br->browsers_done >= br->browsers && br->resolving == 0)
      break;
    gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
    if (left_ms <= 0)
      break;
    if (avahi_simple_poll_iterate(br->poll, (int) MIN(left_ms, 100)) != 0)
      break;
  }
  for (guint i = 0; i < G_N_ELEMENTS(types); i++)
    if (browsers[i])
      avahi_service_browser_free(browsers[i]);
out:
  /* Freeing the client frees resolvers still running. */
  if (br->client)
    avahi_client_free(br->client);
  avahi_simple_poll_free(br->poll);
  br->client = NULL;
  br->poll = NULL;
}

/* ---- SANE and CUPS ------------------------------------------------------- */

static void sane_add(GPtrArray *devices) {
  g_autoptr(GPtrArray) list = scand_backend_list_devices();
  for (guint i = 0; i < list->len; i++) {
    ScandDeviceInfo *d = list->pdata[i];
    if (!d->uri)
      continue;
    if (g_str_has_prefix(d->uri, "sane:")) {
      g_ptr_array_add(devices, scand_discovery_from_sane(d->uri + 5, d->vendor, d->model));
    } else {
      ScandDiscoveredDevice *dev = scand_discovered_device_new();
      dev->name = scand_discovery_sanitize(d->name ? d->name : d->uri, TXT_MAX_TEXT);
      dev->model = scand_discovery_sanitize(d->model, TXT_MAX_TEXT);
      scand_discovered_device_add_uri(dev, d->uri);
      scand_discovered_device_add_origin(dev, "backend");
      g_ptr_array_add(devices, dev);
    }
  }
}

/* One CUPS queue worth asking about. */
typedef struct {
  char *name;
  GStrv candidates;  /* eSCL base URLs to probe, in order of preference */
  guint first_probe; /* index of candidates[0] in the probe list */
} CupsQueue;

static void cups_queue_free(CupsQueue *q) {
  g_free(q->name);
  g_strfreev(q->candidates);
  g_free(q);
}

/* The CUPS queues with something to probe, and (as devices without URIs,
 * merged away later) the UUIDs that DNS-SD device URIs carry. */
static GPtrArray *cups_queues(GPtrArray *devices, GPtrArray *warnings) {
  GPtrArray *queues = g_ptr_array_new_with_free_func((GDestroyNotify) cups_queue_free);
  cups_dest_t *dests = NULL;
  int n = cupsGetDests2(CUPS_HTTP_DEFAULT, &dests);
  if (n <= 0) {
    /* No scheduler is an ordinary setup, not worth a note. */
    ipp_status_t st = cupsLastError();
    if (st > IPP_STATUS_OK_EVENTS_COMPLETE && st != IPP_STATUS_ERROR_SERVICE_UNAVAILABLE &&
        st != IPP_STATUS_ERROR_NOT_FOUND)
      warn(warnings, "CUPS: cannot list printers (%s)", cupsLastErrorString());
    cupsFreeDests(n, dests);
    return queues;
  }
  for (int i = 0; i < n; i++) {
    const char *device_uri = cupsGetOption("device-uri", dests[i].num_options, dests[i].options);
    /* printer-uri-supported names the CUPS server, not the device, unless the
     * queue is remote and we see no device URI. */
    const char *uri =
        device_uri ? device_uri : cupsGetOption("printer-uri-supported", dests[i].num_options, dests[i].options);
    g_autofree char *uuid = scand_discovery_cups_uuid(uri);
    if (uuid) {
      ScandDiscoveredDevice *dev = scand_discovered_device_new();
      dev->uuid = g_steal_pointer(&uuid);
      g_autofree char *origin = g_strdup_printf("cups:%s", dests[i].name);
      scand_discovered_device_add_origin(dev, origin);
      g_ptr_array_add(devices, dev);
    }
    GStrv cands = scand_discovery_cups_candidates(uri);
    if (!cands[0]) {
      g_strfreev(cands);
      continue;
    }
    CupsQueue *q = g_new0(CupsQueue, 1);
    q->name = scand_discovery_sanitize(dests[i].name, TXT_MAX_TEXT);
    q->candidates = cands;
    g_ptr_array_add(queues, q);
  }
  cupsFreeDests(n, dests);
  return queues;
}

/* Asks every DNS-SD device for its capabilities (for what TXT records do not
 * say and for the UUID to merge by) and every CUPS queue's host whether it
 * speaks eSCL, all at once. */
static void probe_network(GPtrArray *devices, guint probe_ms, GPtrArray *warnings) {
  g_autoptr(GPtrArray) queues = cups_queues(devices, warnings);
  g_autoptr(GPtrArray) urls = g_ptr_array_new();
  /* Every eSCL URI of a DNS-SD device is tried (a link-local or IPv6 one may
   * not be reachable); the first answer in URI order counts. */
  g_autoptr(GArray) owners = g_array_new(FALSE, FALSE, sizeof(guint)); /* device index per enrich URL */
  for (guint i = 0; i < devices->len; i++) {
    ScandDiscoveredDevice *dev = devices->pdata[i];
    if (!has_origin(dev, "dns-sd"))
      continue;
    for (guint k = 0; k < dev->uris->len; k++)
      if (g_str_has_prefix(dev->uris->pdata[k], "escl:")) {
        g_ptr_array_add(urls, dev->uris->pdata[k]);
        g_array_append_val(owners, i);
      }
  }
  guint n_enrich = urls->len;
  for (guint i = 0; i < queues->len; i++) {
    CupsQueue *q = queues->pdata[i];
    q->first_probe = urls->len;
    for (guint c = 0; q->candidates[c]; c++)
      g_ptr_array_add(urls, q->candidates[c]);
  }
  EsclCaps **caps = probe_caps_many((const char *const *) urls->pdata, urls->len, probe_ms);
  guint last_owner = G_MAXUINT;
  for (guint k = 0; k < n_enrich; k++) {
    guint owner = g_array_index(owners, guint, k);
    if (caps[k] && owner != last_owner) {
      scand_discovery_apply_caps(devices->pdata[owner], caps[k]);
      last_owner = owner;
    }
  }
  for (guint i = 0; i < queues->len; i++) {
    CupsQueue *q = queues->pdata[i];
    for (guint c = 0; q->candidates[c]; c++) {
      EsclCaps *cc = caps[q->first_probe + c];
      if (!cc)
        continue;
      ScandDiscoveredDevice *dev = scand_discovered_device_new();
      dev->name = g_strdup(q->name);
      g_autoptr(GUri) u = g_uri_parse(q->candidates[c], G_URI_FLAGS_NON_DNS | G_URI_FLAGS_ENCODED, NULL);
      dev->host = u ? g_strdup(g_uri_get_host(u)) : NULL;
      g_autofree char *uri = g_strconcat("escl:", q->candidates[c], NULL);
      scand_discovered_device_add_uri(dev, uri);
      g_autofree char *origin = g_strdup_printf("cups:%s", q->name ? q->name : "?");
      scand_discovered_device_add_origin(dev, origin);
      scand_discovery_apply_caps(dev, cc);
      g_ptr_array_add(devices, dev);
      break;
    }
  }
  free_caps_array(caps, urls->len);
}

/* ---- WS-Discovery ------------------------------------------------------------ */

typedef struct {
  ScandWsddProbeOptions options;
  GPtrArray *found;
  GPtrArray *notes;
} WsddRun;

/* Runs in its own thread while avahi browses. */
static gpointer wsdd_run(gpointer data) {
  WsddRun *r = data;
  r->found = scand_wsdd_probe(&r->options, &r->notes);
  return NULL;
}

/* Adds the WSD scanners a finished run found, and its notes. */
static void wsdd_add(WsddRun *r, GPtrArray *devices, GPtrArray *notes) {
  for (guint i = 0; r->found && i < r->found->len; i++)
    g_ptr_array_add(devices, scand_discovery_from_wsdd(r->found->pdata[i]));
  for (guint i = 0; r->notes && i < r->notes->len; i++)
    warn(notes, "%s", (const char *) r->notes->pdata[i]);
  g_clear_pointer(&r->found, g_ptr_array_unref);
  g_clear_pointer(&r->notes, g_ptr_array_unref);
}

GPtrArray *scand_discovery_run(const ScandDiscoveryOptions *options, GPtrArray **warnings) {
  ScandDiscoveryOptions defaults = { 0 };
  if (!options)
    options = &defaults;
  guint browse_ms = options->browse_ms ? options->browse_ms : DISCOVERY_DEFAULT_BROWSE_MS;
  guint probe_ms = options->probe_ms ? options->probe_ms : DISCOVERY_DEFAULT_PROBE_MS;
  GPtrArray *devices = g_ptr_array_new_with_free_func((GDestroyNotify) scand_discovered_device_free);
  g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
  if (!options->no_network) {
    WsddRun wr = { .options = { .interfaces = options->interfaces, .timeout_ms = browse_ms } };
    GThread *wsdd = g_thread_new("scand-wsdd", wsdd_run, &wr);
    Browse br = { .devices = devices, .warnings = notes };
    dnssd_browse(&br, browse_ms);
    g_thread_join(wsdd);
    wsdd_add(&wr, devices, notes);
    scand_discovery_merge(devices);
    probe_network(devices, probe_ms, notes);
  }
  sane_add(devices);
  scand_discovery_merge(devices);
  /* Entries that only carried a UUID to merge by and found no partner. */
  for (guint i = 0; i < devices->len;) {
    if (((ScandDiscoveredDevice *) devices->pdata[i])->uris->len == 0)
      g_ptr_array_remove_index(devices, i);
    else
      i++;
  }
  if (warnings)
    *warnings = g_steal_pointer(&notes);
  return devices;
}
