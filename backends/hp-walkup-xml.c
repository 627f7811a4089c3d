#include "backends/hp-walkup-xml.h"
#include "scand/base/error.h"
#include "scand/base/xml.h"

#include <string.h>

/* Event tables and destination lists of real devices are a few kilobytes. */
#define HP_XML_MAX (1024 * 1024)
#define HP_TEXT_MAX 1024  /* longest element text kept */
#define HP_ITEMS_MAX 1024 /* destinations or events kept from one document */
#define HP_NS_PREFIX "http://www.hp.com/schemas/imaging/con/"

const HpWalkupApi hp_walkup_apis[] = {
  {
      .name = "WalkupScanToComp",
      .caps_path = "/WalkupScanToComp/WalkupScanToCompCaps",
      .destinations_path = "/WalkupScanToComp/WalkupScanToCompDestinations",
      .ns = "http://www.hp.com/schemas/imaging/con/ledm/walkupscan/2010/09/28",
      .root = "WalkupScanToCompDestination",
      .event_path = "/WalkupScanToComp/WalkupScanToCompEvent",
      .reason = "LaserJet and OfficeJet Pro firmware since about 2011; answers 400 to a destination in the 2009 schema",
  },
  {
      .name = "WalkupScan",
      .caps_path = "/WalkupScan/WalkupScanDestinations",
      .destinations_path = "/WalkupScan/WalkupScanDestinations",
      .ns = "http://www.hp.com/schemas/imaging/con/rest/walkupscan/2009/09/21",
      .root = "WalkupScanDestination",
      .event_path = NULL,
      .reason = "older OfficeJet (e.g. 6500 E710): no WalkupScanToCompCaps (404), destinations in the 2009 schema",
  },
  { .name = NULL },
};

/* ---- small XML helpers ---------------------------------------------------- */

/* TRUE when n is an element of one of HP's imaging namespaces with this local
 * name (the generations use several namespaces for the same element). */
static gboolean node_is(const xmlNode *n, const char *name) {
  return scand_xml_is(n, NULL, name) && n->ns && n->ns->href &&
         g_str_has_prefix((const char *) n->ns->href, HP_NS_PREFIX);
}

/* The element's text fit for logs: valid UTF-8 without control characters,
 * at most HP_TEXT_MAX bytes. Newly allocated. */
static char *node_text(const xmlNode *n) {
  g_autofree char *raw = scand_xml_text(n);
  return scand_xml_shown(raw, HP_TEXT_MAX);
}

/* The text of the first child element named name, or NULL. Newly allocated. */
static char *child_text(const xmlNode *parent, const char *name) {
  for (const xmlNode *c = parent->children; c; c = c->next)
    if (node_is(c, name))
      return node_text(c);
  return NULL;
}

static const xmlNode *child(const xmlNode *parent, const char *name) {
  for (const xmlNode *c = parent->children; c; c = c->next)
    if (node_is(c, name))
      return c;
  return NULL;
}

static xmlDoc *parse_doc(const char *xml, gsize len, const char *what, GError **error) {
  if (len > HP_XML_MAX) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: document too large (%" G_GSIZE_FORMAT " bytes)", what, len);
    return NULL;
  }
  return scand_xml_parse(xml, len, what, error);
}

static void root_error(GError **error, const xmlNode *root, const char *what, const char *expected) {
  g_autofree char *name = scand_xml_shown(root ? (const char *) root->name : "(none)", 60);
  g_autofree char *href =
      scand_xml_shown(root && root->ns && root->ns->href ? (const char *) root->ns->href : "(none)", 100);
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: root element is <%s> in namespace %s, expected HP %s", what,
              name, href, expected);
}

/* ---- destinations ------------------------------------------------------- */

static char *escape(const char *text) {
  return g_markup_escape_text(text ? text : "", -1);
}

char *hp_walkup_destination_build(const HpWalkupApi *api, const char *name, const char *hostname) {
  g_autofree char *n = escape(name);
  g_autofree char *h = escape(hostname);
  return g_strdup_printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<%s xmlns=\"%s\">\n"
                         "  <Hostname xmlns=\"http://www.hp.com/schemas/imaging/con/dictionaries/2009/04/06\">%s"
                         "</Hostname>\n"
                         "  <Name xmlns=\"http://www.hp.com/schemas/imaging/con/dictionaries/1.0/\">%s</Name>\n"
                         "  <LinkType>Network</LinkType>\n"
                         "</%s>\n",
                         api->root, api->ns, h, n, api->root);
}

void hp_walkup_destination_free(HpWalkupDestination *d) {
  if (!d)
    return;
  g_free(d->uri);
  g_free(d->name);
  g_free(d->hostname);
  g_free(d->shortcut);
  g_free(d);
}

/* The settings element of either generation: WalkupScanToCompSettings or
 * WalkupScanSettings. */
static const xmlNode *settings_of(const xmlNode *dest) {
  const xmlNode *s = child(dest, "WalkupScanToCompSettings");
  return s ? s : child(dest, "WalkupScanSettings");
}

static HpWalkupDestination *decode_destination(const xmlNode *n) {
  g_autofree char *uri = child_text(n, "ResourceURI");
  if (!uri || !*uri)
    return NULL;
  HpWalkupDestination *d = g_new0(HpWalkupDestination, 1);
  d->uri = g_steal_pointer(&uri);
  d->name = child_text(n, "Name");
  d->hostname = child_text(n, "Hostname");
  d->duplex = -1;
  const xmlNode *settings = settings_of(n);
  if (settings) {
    d->shortcut = child_text(settings, "Shortcut");
    if (d->shortcut && !*d->shortcut)
      g_clear_pointer(&d->shortcut, g_free);
    const xmlNode *scan = child(settings, "ScanSettings");
    g_autofree char *plex = scan ? child_text(scan, "ScanPlexMode") : NULL;
    if (plex && g_ascii_strcasecmp(plex, "Duplex") == 0)
      d->duplex = 1;
    else if (plex && g_ascii_strcasecmp(plex, "Simplex") == 0)
      d->duplex = 0;
  }
  return d;
}

static gboolean is_destination(const xmlNode *n) {
  return node_is(n, "WalkupScanToCompDestination") || node_is(n, "WalkupScanDestination");
}

gboolean hp_walkup_destinations_decode(const char *xml, gsize len, GPtrArray **out, GError **error) {
  *out = NULL;
  g_autoptr(xmlDoc) doc = parse_doc(xml, len, "walk-up destinations", error);
  if (!doc)
    return FALSE;
  const xmlNode *root = xmlDocGetRootElement(doc);
  GPtrArray *list = g_ptr_array_new_with_free_func((GDestroyNotify) hp_walkup_destination_free);
  if (root && is_destination(root)) {
    HpWalkupDestination *d = decode_destination(root);
    if (d)
      g_ptr_array_add(list, d);
  } else if (root && (node_is(root, "WalkupScanToCompDestinations") || node_is(root, "WalkupScanDestinations"))) {
    for (const xmlNode *c = root->children; c && list->len < HP_ITEMS_MAX; c = c->next) {
      if (!is_destination(c))
        continue;
      HpWalkupDestination *d = decode_destination(c);
      if (d)
        g_ptr_array_add(list, d);
    }
  } else {
    root_error(error, root, "walk-up destinations", "WalkupScanToCompDestinations");
    g_ptr_array_unref(list);
    return FALSE;
  }
  *out = list;
  return TRUE;
}

/* ---- events --------------------------------------------------------------- */

void hp_event_free(HpEvent *e) {
  if (!e)
    return;
  g_free(e->category);
  g_free(e->aging_stamp);
  g_free(e->destination_uri);
  g_free(e->comp_event_uri);
  g_free(e);
}

/* Files one payload (ResourceURI + ResourceType) of an event. The type names
 * what the URI is: "wus:WalkupScanToCompDestination", "hpCnxWalkupScanDestinations",
 * "wus:WalkupScanToCompEvent". */
static void decode_payload(const xmlNode *p, HpEvent *e) {
  g_autofree char *uri = child_text(p, "ResourceURI");
  g_autofree char *type = child_text(p, "ResourceType");
  if (!uri || !*uri || !type)
    return;
  if (strstr(type, "CompEvent") && !e->comp_event_uri)
    e->comp_event_uri = g_steal_pointer(&uri);
  else if (strstr(type, "Destination") && !e->destination_uri)
    e->destination_uri = g_steal_pointer(&uri);
}

gboolean hp_event_table_decode(const char *xml, gsize len, GPtrArray **out, GError **error) {
  *out = NULL;
  g_autoptr(xmlDoc) doc = parse_doc(xml, len, "event table", error);
  if (!doc)
    return FALSE;
  const xmlNode *root = xmlDocGetRootElement(doc);
  if (!root || !node_is(root, "EventTable")) {
    root_error(error, root, "event table", "EventTable");
    return FALSE;
  }
  GPtrArray *events = g_ptr_array_new_with_free_func((GDestroyNotify) hp_event_free);
  for (const xmlNode *c = root->children; c && events->len < HP_ITEMS_MAX; c = c->next) {
    if (!node_is(c, "Event"))
      continue;
    HpEvent *e = g_new0(HpEvent, 1);
    e->category = child_text(c, "UnqualifiedEventCategory");
    e->aging_stamp = child_text(c, "AgingStamp");
    for (const xmlNode *p = c->children; p; p = p->next)
      if (node_is(p, "Payload"))
        decode_payload(p, e);
    if (!e->category) {
      hp_event_free(e);
      continue;
    }
    g_ptr_array_add(events, e);
  }
  *out = events;
  return TRUE;
}

static const struct {
  const char *word;
  HpCompEvent event;
} comp_events[] = {
  { "HostSelected", HP_COMP_EVENT_HOST_SELECTED },
  { "ScanRequested", HP_COMP_EVENT_SCAN_REQUESTED },
  { "ScanNewPageRequested", HP_COMP_EVENT_SCAN_NEW_PAGE_REQUESTED },
  { "ScanPagesComplete", HP_COMP_EVENT_SCAN_PAGES_COMPLETE },
};

gboolean hp_comp_event_decode(const char *xml, gsize len, HpCompEvent *out, char **word, GError **error) {
  *out = HP_COMP_EVENT_OTHER;
  if (word)
    *word = NULL;
  g_autoptr(xmlDoc) doc = parse_doc(xml, len, "walk-up event", error);
  if (!doc)
    return FALSE;
  const xmlNode *root = xmlDocGetRootElement(doc);
  if (!root || !node_is(root, "WalkupScanToCompEvent")) {
    root_error(error, root, "walk-up event", "WalkupScanToCompEvent");
    return FALSE;
  }
  g_autofree char *type = child_text(root, "WalkupScanToCompEventType");
  if (!type || !*type) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "walk-up event: no WalkupScanToCompEventType");
    return FALSE;
  }
  for (guint i = 0; i < G_N_ELEMENTS(comp_events); i++)
    if (strcmp(type, comp_events[i].word) == 0)
      *out = comp_events[i].event;
  if (word)
    *word = g_steal_pointer(&type);
  return TRUE;
}

/* ---- URIs and ETags ------------------------------------------------------- */

char *hp_walkup_uri_path(const char *uri) {
  if (!uri)
    return NULL;
  const char *p = uri;
  const char *scheme_end = strstr(uri, "://");
  if (scheme_end && scheme_end < uri + strcspn(uri, "/?#")) {
    p = scheme_end + 3;
    p += strcspn(p, "/?#");
  }
  gsize n = strcspn(p, "?#");
  if (n == 0 || p[0] != '/')
    return NULL;
  while (n > 1 && p[n - 1] == '/')
    n--;
  return g_strndup(p, n);
}

gboolean hp_walkup_uri_same(const char *a, const char *b) {
  g_autofree char *pa = hp_walkup_uri_path(a);
  g_autofree char *pb = hp_walkup_uri_path(b);
  return pa && pb && strcmp(pa, pb) == 0;
}

char *hp_etag_parse(const char *header) {
  if (!header)
    return NULL;
  g_autofree char *v = g_strstrip(g_strdup(header));
  const char *p = v;
  if (g_str_has_prefix(p, "W/"))
    p += 2;
  gsize n = strlen(p);
  if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
    p++;
    n -= 2;
  }
  if (n == 0 || n > 200)
    return NULL;
  for (gsize i = 0; i < n; i++)
    if ((guchar) p[i] < 0x21 || (guchar) p[i] > 0x7e || p[i] == '"')
      return NULL;
  return g_strndup(p, n);
}
