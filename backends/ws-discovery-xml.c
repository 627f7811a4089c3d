/* WS-Discovery messages and WSD metadata (see ws-discovery-xml.h). */
#include "backends/ws-discovery-xml.h"
#include "backends/wsd-soap.h"
#include "scand/base/error.h"
#include "scand/base/xml.h"

#include <gio/gio.h>
#include <net/if.h>
#include <string.h>

#define WSDD_SHOWN_MAX 255
#define WSDD_URL_MAX 1024
#define WSDD_MATCHES_MAX 64
#define WSDD_XADDRS_MAX 16

/* ---- building ---------------------------------------------------------------- */

/* A SOAP envelope with To, Action, MessageID (and ReplyTo anonymous for
 * requests over HTTP) around body. Newly allocated. */
static char *envelope(const char *to, const char *action, const char *message_id, gboolean reply_to, const char *body) {
  g_autofree char *to_esc = g_markup_escape_text(to, -1);
  g_autofree char *id_esc = g_markup_escape_text(message_id, -1);
  return g_strdup_printf(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<soap:Envelope xmlns:soap=\"" WSD_NS_SOAP "\" xmlns:wsa=\"" WSD_NS_WSA "\" xmlns:wsd=\"" WSDD_NS_DISCOVERY
      "\" xmlns:wsdp=\"" WSDD_NS_DEVPROF "\"><soap:Header><wsa:To>%s</wsa:To><wsa:Action>%s</wsa:Action>"
      "<wsa:MessageID>%s</wsa:MessageID>%s</soap:Header><soap:Body>%s</soap:Body></soap:Envelope>",
      to_esc, action, id_esc,
      reply_to ? "<wsa:ReplyTo><wsa:Address>" WSD_ADDR_ANONYMOUS "</wsa:Address></wsa:ReplyTo>" : "", body);
}

char *wsdd_probe_build(const char *message_id) {
  /* Debian's wsdd answers only this exact Types text, "wsdp:Device". */
  return envelope(WSDD_TO_DISCOVERY, WSDD_NS_DISCOVERY "/Probe", message_id, FALSE,
                  "<wsd:Probe><wsd:Types>wsdp:Device</wsd:Types></wsd:Probe>");
}

char *wsdd_resolve_build(const char *endpoint, const char *message_id) {
  g_autofree char *esc = g_markup_escape_text(endpoint, -1);
  g_autofree char *body = g_strdup_printf(
      "<wsd:Resolve><wsa:EndpointReference><wsa:Address>%s</wsa:Address></wsa:EndpointReference></wsd:Resolve>", esc);
  return envelope(WSDD_TO_DISCOVERY, WSDD_NS_DISCOVERY "/Resolve", message_id, FALSE, body);
}

char *wsdd_get_build(const char *endpoint, const char *message_id) {
  return envelope(endpoint, WSDD_NS_TRANSFER "/Get", message_id, TRUE, "");
}

/* ---- helpers ------------------------------------------------------------------ */

/* The element's text made printable, or NULL when empty or missing. */
static char *shown_text(const xmlNode *n) {
  if (!n)
    return NULL;
  g_autofree char *t = scand_xml_text(n);
  return *t ? scand_xml_shown(t, WSDD_SHOWN_MAX) : NULL;
}

/* "urn:uuid:ABC…" / "uuid:…" / "{…}" → "abc…", or NULL. Newly allocated. */
static char *uuid_of(const char *endpoint) {
  if (!endpoint)
    return NULL;
  const char *p = endpoint;
  if (g_ascii_strncasecmp(p, "urn:uuid:", 9) == 0)
    p += 9;
  else if (g_ascii_strncasecmp(p, "uuid:", 5) == 0)
    p += 5;
  g_autofree char *u = g_strdup(p);
  gsize n = strlen(u);
  if (n >= 2 && u[0] == '{' && u[n - 1] == '}') {
    memmove(u, u + 1, n - 2);
    u[n - 2] = '\0';
  }
  return g_uuid_string_is_valid(u) ? g_ascii_strdown(u, -1) : NULL;
}

static gboolean ifname_ok(const char *ifname) {
  gsize len = ifname ? strlen(ifname) : 0;
  if (len == 0 || len >= IF_NAMESIZE)
    return FALSE;
  for (const char *p = ifname; *p; p++)
    if (!g_ascii_isalnum(*p) && !strchr("-_.", *p))
      return FALSE;
  return TRUE;
}

char *wsdd_url_usable(const char *url, const char *ifname) {
  if (!url || strlen(url) > WSDD_URL_MAX)
    return NULL;
  for (const char *p = url; *p; p++)
    if ((guchar) *p <= 0x20 || *p == 0x7f)
      return NULL;
  g_autoptr(GUri) u = g_uri_parse(url, G_URI_FLAGS_NON_DNS | G_URI_FLAGS_ENCODED, NULL);
  const char *scheme = u ? g_uri_get_scheme(u) : NULL;
  const char *host = u ? g_uri_get_host(u) : NULL;
  if (!host || !*host || (g_ascii_strcasecmp(scheme, "http") != 0 && g_ascii_strcasecmp(scheme, "https") != 0))
    return NULL;
  g_autoptr(GInetAddress) inet = strchr(host, '%') ? NULL : g_inet_address_new_from_string(host);
  if (!inet || g_inet_address_get_family(inet) != G_SOCKET_FAMILY_IPV6 || !g_inet_address_get_is_link_local(inet) ||
      !ifname_ok(ifname))
    return g_strdup(url);
  /* A link-local address means nothing without the interface it is on. */
  const char *close = strchr(url, ']');
  if (!close)
    return g_strdup(url);
  return g_strdup_printf("%.*s%%25%s%s", (int) (close - url), url, ifname, close);
}

/* ---- messages ------------------------------------------------------------------ */

void scand_wsdd_message_free(ScandWsddMessage *m) {
  if (!m)
    return;
  g_free(m->endpoint);
  g_free(m->uuid);
  g_free(m->types);
  g_strfreev(m->xaddrs);
  g_free(m->message_id);
  g_free(m->relates_to);
  g_free(m->interface);
  g_free(m);
}

/* TRUE when a Types list names a type with this local name. */
static gboolean types_name(const char *types, const char *local) {
  g_auto(GStrv) words = g_strsplit_set(types ? types : "", " \t\r\n", -1);
  for (guint i = 0; words[i]; i++) {
    const char *colon = strrchr(words[i], ':');
    if (strcmp(colon ? colon + 1 : words[i], local) == 0)
      return TRUE;
  }
  return FALSE;
}

/* The usable URLs of an XAddrs list. */
static GStrv xaddrs_of(const char *text, const char *ifname) {
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  g_auto(GStrv) words = g_strsplit_set(text ? text : "", " \t\r\n", -1);
  guint n = 0;
  for (guint i = 0; words[i] && n < WSDD_XADDRS_MAX; i++) {
    g_autofree char *url = *words[i] ? wsdd_url_usable(words[i], ifname) : NULL;
    if (url) {
      g_strv_builder_add(b, url);
      n++;
    }
  }
  return g_strv_builder_end(b);
}

/* One Hello, Bye, ProbeMatch or ResolveMatch element. */
static ScandWsddMessage *endpoint_message(ScandWsddKind kind, const xmlNode *n, const char *ifname) {
  const xmlNode *addr = wsd_xml_child(wsd_xml_child(n, WSD_NS_WSA, "EndpointReference"), WSD_NS_WSA, "Address");
  g_autofree char *endpoint = shown_text(addr);
  if (!endpoint)
    return NULL;
  ScandWsddMessage *m = g_new0(ScandWsddMessage, 1);
  m->kind = kind;
  m->endpoint = g_steal_pointer(&endpoint);
  m->uuid = uuid_of(m->endpoint);
  m->types = shown_text(wsd_xml_child(n, WSDD_NS_DISCOVERY, "Types"));
  m->scanner = types_name(m->types, "ScanDeviceType");
  m->printer = types_name(m->types, "PrintDeviceType");
  const xmlNode *xn = wsd_xml_child(n, WSDD_NS_DISCOVERY, "XAddrs");
  g_autofree char *xaddrs = xn ? scand_xml_text(xn) : NULL;
  m->xaddrs = xaddrs_of(xaddrs, ifname);
  g_autofree char *version = shown_text(wsd_xml_child(n, WSDD_NS_DISCOVERY, "MetadataVersion"));
  guint64 v = 0;
  if (version && g_ascii_string_to_unsigned(version, 10, 0, G_MAXUINT, &v, NULL))
    m->metadata_version = (guint) v;
  m->interface = ifname ? g_strdup(ifname) : NULL;
  return m;
}

/* The SOAP envelope's header and body element; NULL with an error when it is
 * not one. */
static xmlNode *envelope_parts(xmlDoc *doc, const char *what, xmlNode **header, GError **error) {
  xmlNode *root = xmlDocGetRootElement(doc);
  const char *ns = wsd_xml_is(root, WSD_NS_SOAP, "Envelope")     ? WSD_NS_SOAP
                   : wsd_xml_is(root, WSD_NS_SOAP11, "Envelope") ? WSD_NS_SOAP11
                                                                 : NULL;
  if (!ns) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: not a SOAP envelope", what);
    return NULL;
  }
  *header = wsd_xml_child(root, ns, "Header");
  for (xmlNode *c = wsd_xml_child(root, ns, "Body"), *e = c ? c->children : NULL; e; e = e->next)
    if (e->type == XML_ELEMENT_NODE)
      return e;
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: SOAP envelope without a body element", what);
  return NULL;
}

static guint64 attr_u64(const xmlNode *n, const char *name) {
  g_autofree char *v = n ? (char *) xmlGetProp(n, (const xmlChar *) name) : NULL;
  guint64 x = 0;
  if (v)
    g_ascii_string_to_unsigned(v, 10, 0, G_MAXUINT64, &x, NULL);
  return x;
}

GPtrArray *wsdd_message_decode(const char *data, gsize len, const char *ifname, GError **error) {
  g_autoptr(xmlDoc) doc = scand_xml_parse(data, len, "WS-Discovery message", error);
  if (!doc)
    return NULL;
  xmlNode *header = NULL;
  xmlNode *body = envelope_parts(doc, "WS-Discovery message", &header, error);
  if (!body)
    return NULL;
  const xmlNode *seq = wsd_xml_child(header, WSDD_NS_DISCOVERY, "AppSequence");
  g_autofree char *message_id = shown_text(wsd_xml_child(header, WSD_NS_WSA, "MessageID"));
  g_autofree char *relates_to = shown_text(wsd_xml_child(header, WSD_NS_WSA, "RelatesTo"));
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func((GDestroyNotify) scand_wsdd_message_free);
  ScandWsddKind kind;
  const char *item = NULL; /* the element inside a Matches list */
  if (wsd_xml_is(body, WSDD_NS_DISCOVERY, "Hello"))
    kind = SCAND_WSDD_HELLO;
  else if (wsd_xml_is(body, WSDD_NS_DISCOVERY, "Bye"))
    kind = SCAND_WSDD_BYE;
  else if (wsd_xml_is(body, WSDD_NS_DISCOVERY, "ProbeMatches"))
    kind = SCAND_WSDD_PROBE_MATCH, item = "ProbeMatch";
  else if (wsd_xml_is(body, WSDD_NS_DISCOVERY, "ResolveMatches"))
    kind = SCAND_WSDD_RESOLVE_MATCH, item = "ResolveMatch";
  else {
    g_autofree char *name = scand_xml_shown((const char *) body->name, 60);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "WS-Discovery message: <%s> is not a message scand reads", name);
    return NULL;
  }
  for (xmlNode *c = item ? body->children : body; c && out->len < WSDD_MATCHES_MAX; c = item ? c->next : NULL) {
    if (item && !wsd_xml_is(c, WSDD_NS_DISCOVERY, item))
      continue;
    ScandWsddMessage *m = endpoint_message(kind, c, ifname);
    if (!m)
      continue;
    m->message_id = g_strdup(message_id);
    m->relates_to = g_strdup(relates_to);
    m->instance_id = attr_u64(seq, "InstanceId");
    m->message_number = attr_u64(seq, "MessageNumber");
    g_ptr_array_add(out, m);
  }
  if (out->len == 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "WS-Discovery message: no endpoint address in it");
    return NULL;
  }
  return g_steal_pointer(&out);
}

/* ---- metadata ------------------------------------------------------------------ */

void wsdd_metadata_clear(WsddMetadata *md) {
  if (!md)
    return;
  g_free(md->friendly_name);
  g_free(md->manufacturer);
  g_free(md->model);
  g_free(md->serial);
  if (md->scan_urls)
    g_ptr_array_unref(md->scan_urls);
  memset(md, 0, sizeof *md);
}

static void take_first(char **slot, const xmlNode *n) {
  if (!*slot)
    *slot = shown_text(n);
}

/* A Hosted service: its addresses, when its Types say ScannerServiceType. */
static void hosted(const xmlNode *h, const char *ifname, WsddMetadata *md) {
  g_autofree char *types = shown_text(wsd_xml_child(h, WSDD_NS_DEVPROF, "Types"));
  if (!types_name(types, "ScannerServiceType"))
    return;
  for (xmlNode *e = h->children; e && md->scan_urls->len < WSDD_XADDRS_MAX; e = e->next) {
    if (!wsd_xml_is(e, WSD_NS_WSA, "EndpointReference"))
      continue;
    const xmlNode *a = wsd_xml_child(e, WSD_NS_WSA, "Address");
    g_autofree char *text = a ? scand_xml_text(a) : NULL;
    g_autofree char *url = text ? wsdd_url_usable(text, ifname) : NULL;
    gboolean seen = FALSE;
    for (guint i = 0; url && i < md->scan_urls->len && !seen; i++)
      seen = strcmp(md->scan_urls->pdata[i], url) == 0;
    if (url && !seen)
      g_ptr_array_add(md->scan_urls, g_steal_pointer(&url));
  }
}

gboolean wsdd_metadata_decode(const char *data, gsize len, const char *ifname, WsddMetadata *out, GError **error) {
  memset(out, 0, sizeof *out);
  g_autoptr(xmlDoc) doc = scand_xml_parse(data, len, "device metadata", error);
  if (!doc)
    return FALSE;
  xmlNode *header = NULL;
  xmlNode *body = envelope_parts(doc, "device metadata", &header, error);
  if (!body)
    return FALSE;
  if (!wsd_xml_is(body, WSDD_NS_MEX, "Metadata")) {
    g_autofree char *name = scand_xml_shown((const char *) body->name, 60);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "device metadata: body is <%s>, expected Metadata", name);
    return FALSE;
  }
  out->scan_urls = g_ptr_array_new_with_free_func(g_free);
  for (xmlNode *s = body->children; s; s = s->next) {
    if (!wsd_xml_is(s, WSDD_NS_MEX, "MetadataSection"))
      continue;
    const xmlNode *dev = wsd_xml_child(s, WSDD_NS_DEVPROF, "ThisDevice");
    const xmlNode *model = wsd_xml_child(s, WSDD_NS_DEVPROF, "ThisModel");
    const xmlNode *rel = wsd_xml_child(s, WSDD_NS_DEVPROF, "Relationship");
    take_first(&out->friendly_name, wsd_xml_child(dev, WSDD_NS_DEVPROF, "FriendlyName"));
    take_first(&out->serial, wsd_xml_child(dev, WSDD_NS_DEVPROF, "SerialNumber"));
    take_first(&out->manufacturer, wsd_xml_child(model, WSDD_NS_DEVPROF, "Manufacturer"));
    take_first(&out->model, wsd_xml_child(model, WSDD_NS_DEVPROF, "ModelName"));
    for (xmlNode *h = rel ? rel->children : NULL; h; h = h->next)
      if (wsd_xml_is(h, WSDD_NS_DEVPROF, "Hosted"))
        hosted(h, ifname, out);
  }
  return TRUE;
}
