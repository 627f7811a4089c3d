#include "backends/wsd-eventing.h"
#include "scand/base/error.h"
#include "scand/base/xml.h"

#include <string.h>

#define EV_MAX_DOC (256 * 1024) /* events and eventing replies are a few KiB */
#define EV_TEXT_MAX 1024        /* longest device text kept */
#define EV_DESTINATIONS_MAX 64  /* DestinationResponses kept */
#define EV_MAX_SECONDS (366LL * 24 * 3600)

/* ---- namespaces ---------------------------------------------------------------- */

typedef enum {
  NS_SOAP,
  NS_WSA,
  NS_WSE,
  NS_SCAN
} Ns;

/* The spellings devices use for each namespace (http and https alike). */
static gboolean ns_matches(const char *href, Ns ns) {
  if (!href)
    return FALSE;
  if (g_str_has_prefix(href, "https://"))
    href += 8;
  else if (g_str_has_prefix(href, "http://"))
    href += 7;
  else
    return FALSE;
  switch (ns) {
    case NS_SOAP:
      return strcmp(href, "www.w3.org/2003/05/soap-envelope") == 0 ||
             strcmp(href, "schemas.xmlsoap.org/soap/envelope/") == 0;
    case NS_WSA:
      return strcmp(href, "schemas.xmlsoap.org/ws/2004/08/addressing") == 0;
    case NS_WSE:
      return strcmp(href, "schemas.xmlsoap.org/ws/2004/08/eventing") == 0;
    case NS_SCAN:
      return strcmp(href, "schemas.microsoft.com/windows/2006/08/wdp/scan") == 0 ||
             strcmp(href, "schemas.microsoft.com/windows/2006/01/wdp/scan") == 0;
  }
  return FALSE;
}

static gboolean is(const xmlNode *n, Ns ns, const char *name) {
  return n && scand_xml_is(n, NULL, name) && n->ns && ns_matches((const char *) n->ns->href, ns);
}

static const xmlNode *child(const xmlNode *parent, Ns ns, const char *name) {
  for (const xmlNode *c = parent ? parent->children : NULL; c; c = c->next)
    if (is(c, ns, name))
      return c;
  return NULL;
}

/* Device text fit for logs and for sending back. Newly allocated, NULL when
 * the element is absent. */
static char *text_of(const xmlNode *n) {
  if (!n)
    return NULL;
  g_autofree char *raw = scand_xml_text(n);
  return scand_xml_shown(raw, EV_TEXT_MAX);
}

/* "wscn:InvalidArgs" → "InvalidArgs". */
static char *unprefixed(char *qname) {
  if (!qname)
    return NULL;
  char *colon = strrchr(qname, ':');
  if (colon) {
    char *local = g_strdup(colon + 1);
    g_free(qname);
    return local;
  }
  return qname;
}

/* ---- building ------------------------------------------------------------------- */

static char *esc(const char *text) {
  return g_markup_escape_text(text ? text : "", -1);
}

static char *message_id_or_new(const char *given) {
  if (given)
    return g_strdup(given);
  g_autofree char *uuid = g_uuid_string_random();
  return g_strdup_printf("urn:uuid:%s", uuid);
}

/* The envelope around body, with the addressing headers of action; extra
 * headers (already XML) go after them. */
static char *envelope(const char *to, const char *action, const char *message_id, const char *extra_headers,
                      const char *body) {
  g_autofree char *t = esc(to);
  g_autofree char *id = message_id_or_new(message_id);
  g_autofree char *i = esc(id);
  return g_strdup_printf("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                         "<soap:Envelope xmlns:soap=\"" WSD_EV_NS_SOAP "\" xmlns:wsa=\"" WSD_EV_NS_WSA
                         "\" xmlns:wse=\"" WSD_EV_NS_WSE "\" xmlns:wscn=\"" WSD_EV_NS_SCAN "\">\n"
                         "<soap:Header>\n"
                         "<wsa:To>%s</wsa:To>\n"
                         "<wsa:Action>%s</wsa:Action>\n"
                         "<wsa:MessageID>%s</wsa:MessageID>\n"
                         "<wsa:ReplyTo><wsa:Address>" WSD_EV_NS_WSA "/role/anonymous</wsa:Address></wsa:ReplyTo>\n"
                         "%s"
                         "</soap:Header>\n"
                         "<soap:Body>\n%s</soap:Body>\n"
                         "</soap:Envelope>\n",
                         t, action, i, extra_headers ? extra_headers : "", body);
}

char *wsd_ev_subscribe_build(const WsdEvSubscribe *args) {
  g_autofree char *notify = esc(args->notify_to);
  GString *body = g_string_new("<wse:Subscribe>\n");
  g_string_append_printf(body, "<wse:EndTo><wsa:Address>%s</wsa:Address></wse:EndTo>\n", notify);
  g_string_append_printf(body,
                         "<wse:Delivery Mode=\"" WSD_EV_NS_WSE "/DeliveryModes/Push\">"
                         "<wse:NotifyTo><wsa:Address>%s</wsa:Address></wse:NotifyTo></wse:Delivery>\n",
                         notify);
  if (args->expires_s)
    g_string_append_printf(body, "<wse:Expires>PT%uS</wse:Expires>\n", args->expires_s);
  g_string_append(
      body, "<wse:Filter Dialect=\"http://schemas.xmlsoap.org/ws/2006/02/devprof/Action\">" WSD_EV_ACTION_SCAN_AVAILABLE
            "</wse:Filter>\n<wscn:ScanDestinations>\n");
  for (guint i = 0; i < args->n_destinations; i++) {
    g_autofree char *name = esc(args->destinations[i].display_name);
    g_autofree char *context = esc(args->destinations[i].context);
    g_string_append_printf(body,
                           "<wscn:ScanDestination><wscn:ClientDisplayName>%s</wscn:ClientDisplayName>"
                           "<wscn:ClientContext>%s</wscn:ClientContext></wscn:ScanDestination>\n",
                           name, context);
  }
  g_string_append(body, "</wscn:ScanDestinations>\n</wse:Subscribe>\n");
  g_autofree char *b = g_string_free(body, FALSE);
  return envelope(args->to, WSD_EV_NS_WSE "/Subscribe", args->message_id, NULL, b);
}

/* The subscription identifier as a header (a reference parameter of the
 * SubscriptionManager endpoint, echoed as WS-Addressing asks). */
static char *identifier_header(const char *identifier) {
  g_autofree char *id = esc(identifier);
  return g_strdup_printf("<wse:Identifier>%s</wse:Identifier>\n", id);
}

char *wsd_ev_renew_build(const char *manager, const char *identifier, guint expires_s, const char *message_id) {
  g_autofree char *header = identifier_header(identifier);
  g_autofree char *body = expires_s
                              ? g_strdup_printf("<wse:Renew><wse:Expires>PT%uS</wse:Expires></wse:Renew>\n", expires_s)
                              : g_strdup("<wse:Renew/>\n");
  return envelope(manager, WSD_EV_NS_WSE "/Renew", message_id, header, body);
}

char *wsd_ev_unsubscribe_build(const char *manager, const char *identifier, const char *message_id) {
  g_autofree char *header = identifier_header(identifier);
  return envelope(manager, WSD_EV_NS_WSE "/Unsubscribe", message_id, header, "<wse:Unsubscribe/>\n");
}

/* ---- durations and times ----------------------------------------------------------- */

gint64 wsd_ev_duration_parse(const char *text) {
  if (!text)
    return -1;
  const char *p = text;
  while (g_ascii_isspace(*p))
    p++;
  if (*p++ != 'P')
    return -1;
  gboolean in_time = FALSE, any = FALSE;
  double total = 0;
  while (*p && !g_ascii_isspace(*p)) {
    if (*p == 'T') {
      if (in_time)
        return -1;
      in_time = TRUE;
      p++;
      continue;
    }
    char *end = NULL;
    double v = g_ascii_strtod(p, &end);
    if (end == p || v < 0 || v > 1e9 || !*end)
      return -1;
    double unit;
    switch (*end) {
      case 'Y':
        unit = in_time ? -1 : 365 * 86400.0;
        break;
      case 'M':
        unit = in_time ? 60 : 30 * 86400.0;
        break;
      case 'D':
        unit = in_time ? -1 : 86400;
        break;
      case 'H':
        unit = in_time ? 3600 : -1;
        break;
      case 'S':
        unit = in_time ? 1 : -1;
        break;
      default:
        unit = -1;
    }
    if (unit < 0)
      return -1;
    total += v * unit;
    any = TRUE;
    p = end + 1;
  }
  while (g_ascii_isspace(*p))
    p++;
  if (!any || *p || total > EV_MAX_SECONDS)
    return -1;
  return (gint64) total;
}

/* Expires: a duration, or an xs:dateTime taken relative to now_real. */
static gint64 expires_seconds(const char *text, gint64 now_real) {
  if (!text)
    return -1;
  gint64 d = wsd_ev_duration_parse(text);
  if (d >= 0)
    return d;
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
  g_autoptr(GDateTime) when = g_date_time_new_from_iso8601(text, utc);
  if (!when)
    return -1;
  gint64 s = g_date_time_to_unix(when) - now_real / G_USEC_PER_SEC;
  return CLAMP(s, 0, EV_MAX_SECONDS);
}

/* ---- replies ----------------------------------------------------------------------- */

static void response_clear(gpointer p) {
  WsdEvDestinationResponse *r = p;
  g_free(r->context);
  g_free(r->token);
}

void wsd_ev_reply_clear(WsdEvReply *reply) {
  if (!reply)
    return;
  g_free(reply->fault.code);
  g_free(reply->fault.subcode);
  g_free(reply->fault.reason);
  g_free(reply->relates_to);
  g_free(reply->manager);
  g_free(reply->identifier);
  if (reply->responses)
    g_array_unref(reply->responses);
  memset(reply, 0, sizeof *reply);
  reply->expires_s = -1;
}

/* The Envelope's Header and Body, after the usual checks. */
static gboolean envelope_parts(xmlDoc *doc, const char *what, const xmlNode **header, const xmlNode **body,
                               GError **error) {
  const xmlNode *root = xmlDocGetRootElement(doc);
  if (!is(root, NS_SOAP, "Envelope")) {
    g_autofree char *name = scand_xml_shown(root ? (const char *) root->name : "(none)", 60);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: root element is <%s>, expected a SOAP Envelope", what,
                name);
    return FALSE;
  }
  *header = child(root, NS_SOAP, "Header");
  *body = child(root, NS_SOAP, "Body");
  if (!*body) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: SOAP Envelope without a Body", what);
    return FALSE;
  }
  return TRUE;
}

static void decode_fault(const xmlNode *fault, WsdEvFault *out) {
  const xmlNode *code = child(fault, NS_SOAP, "Code");
  out->code = unprefixed(text_of(child(code, NS_SOAP, "Value")));
  out->subcode = unprefixed(text_of(child(child(code, NS_SOAP, "Subcode"), NS_SOAP, "Value")));
  out->reason = text_of(child(child(fault, NS_SOAP, "Reason"), NS_SOAP, "Text"));
  /* SOAP 1.1 */
  if (!out->code)
    out->code = unprefixed(text_of(child(fault, NS_SOAP, "faultcode")));
  if (!out->code) {
    for (const xmlNode *c = fault->children; c; c = c->next)
      if (scand_xml_is(c, NULL, "faultcode") && !out->code) /* the first of several */
        out->code = unprefixed(text_of(c));
      else if (scand_xml_is(c, NULL, "faultstring") && !out->reason)
        out->reason = text_of(c);
  }
}

/* SubscriptionManager: its Address and ReferenceParameters/Identifier. */
static void decode_manager(const xmlNode *manager, char **address, char **identifier) {
  *address = text_of(child(manager, NS_WSA, "Address"));
  const xmlNode *refs = child(manager, NS_WSA, "ReferenceParameters");
  *identifier = text_of(child(refs, NS_WSE, "Identifier"));
  if (!*identifier) /* WS-Addressing 2003/03 style: a ReferenceProperties element */
    *identifier = text_of(child(child(manager, NS_WSA, "ReferenceProperties"), NS_WSE, "Identifier"));
}

static gboolean decode_subscribe(const xmlNode *resp, WsdEvReply *out, GError **error) {
  decode_manager(child(resp, NS_WSE, "SubscriptionManager"), &out->manager, &out->identifier);
  if (!out->manager || !*out->manager || !out->identifier || !*out->identifier) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "SubscribeResponse: no SubscriptionManager address or subscription Identifier");
    return FALSE;
  }
  const xmlNode *list = child(resp, NS_SCAN, "DestinationResponses");
  for (const xmlNode *c = list ? list->children : NULL; c && out->responses->len < EV_DESTINATIONS_MAX; c = c->next) {
    if (!is(c, NS_SCAN, "DestinationResponse"))
      continue;
    WsdEvDestinationResponse r = { text_of(child(c, NS_SCAN, "ClientContext")),
                                   text_of(child(c, NS_SCAN, "DestinationToken")) };
    if (!r.context || !r.token) {
      response_clear(&r);
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                  "SubscribeResponse: a DestinationResponse without ClientContext or DestinationToken");
      return FALSE;
    }
    g_array_append_val(out->responses, r);
  }
  if (out->responses->len == 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "SubscribeResponse: no DestinationResponses (the device did not take the panel destinations)");
    return FALSE;
  }
  return TRUE;
}

gboolean wsd_ev_reply_decode(WsdEvReplyKind kind, const char *data, gsize len, gint64 now_real, WsdEvReply *out,
                             GError **error) {
  static const char *const names[] = { "SubscribeResponse", "RenewResponse", "UnsubscribeResponse" };
  memset(out, 0, sizeof *out);
  out->expires_s = -1;
  out->responses = g_array_new(FALSE, TRUE, sizeof(WsdEvDestinationResponse));
  g_array_set_clear_func(out->responses, response_clear);
  const char *what = names[kind];
  if (len > EV_MAX_DOC) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: reply too large (%" G_GSIZE_FORMAT " bytes)", what, len);
    return FALSE;
  }
  g_autoptr(xmlDoc) doc = scand_xml_parse(data, len, what, error);
  const xmlNode *header = NULL, *body = NULL;
  if (!doc || !envelope_parts(doc, what, &header, &body, error))
    return FALSE;
  out->relates_to = text_of(child(header, NS_WSA, "RelatesTo"));
  const xmlNode *fault = child(body, NS_SOAP, "Fault");
  if (fault) {
    out->is_fault = TRUE;
    decode_fault(fault, &out->fault);
    return TRUE;
  }
  const xmlNode *resp = child(body, NS_WSE, what);
  if (!resp) {
    /* UnsubscribeResponse has no body element on some devices: the action says it. */
    if (kind == WSD_EV_REPLY_UNSUBSCRIBE)
      return TRUE;
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: the Body holds no %s", what, what);
    return FALSE;
  }
  g_autofree char *expires = text_of(child(resp, NS_WSE, "Expires"));
  out->expires_s = expires_seconds(expires, now_real);
  if (expires && out->expires_s < 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: Expires \"%s\" is neither a duration nor a time", what,
                expires);
    return FALSE;
  }
  return kind == WSD_EV_REPLY_SUBSCRIBE ? decode_subscribe(resp, out, error) : TRUE;
}

/* ---- notifications ------------------------------------------------------------------- */

void wsd_ev_notification_clear(WsdEvNotification *n) {
  if (!n)
    return;
  g_free(n->identifier);
  g_free(n->message_id);
  g_free(n->context);
  g_free(n->scan_identifier);
  g_free(n->status);
  g_free(n->reason);
  memset(n, 0, sizeof *n);
}

gboolean wsd_ev_notification_decode(const char *data, gsize len, WsdEvNotification *out, GError **error) {
  memset(out, 0, sizeof *out);
  if (len > EV_MAX_DOC) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "event: too large (%" G_GSIZE_FORMAT " bytes)", len);
    return FALSE;
  }
  g_autoptr(xmlDoc) doc = scand_xml_parse(data, len, "event", error);
  const xmlNode *header = NULL, *body = NULL;
  if (!doc || !envelope_parts(doc, "event", &header, &body, error))
    return FALSE;
  out->message_id = text_of(child(header, NS_WSA, "MessageID"));
  out->identifier = text_of(child(header, NS_WSE, "Identifier"));
  const xmlNode *ev = child(body, NS_SCAN, "ScanAvailableEvent");
  if (ev) {
    out->kind = WSD_EV_SCAN_AVAILABLE;
    out->context = text_of(child(ev, NS_SCAN, "ClientContext"));
    out->scan_identifier = text_of(child(ev, NS_SCAN, "ScanIdentifier"));
    if (!out->context || !*out->context || !out->scan_identifier || !*out->scan_identifier) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "ScanAvailableEvent without ClientContext or ScanIdentifier");
      wsd_ev_notification_clear(out);
      return FALSE;
    }
    return TRUE;
  }
  const xmlNode *end = child(body, NS_WSE, "SubscriptionEnd");
  if (end) {
    out->kind = WSD_EV_SUBSCRIPTION_END;
    g_autofree char *manager = NULL, *identifier = NULL;
    decode_manager(child(end, NS_WSE, "SubscriptionManager"), &manager, &identifier);
    if (identifier) {
      g_free(out->identifier);
      out->identifier = g_steal_pointer(&identifier);
    }
    out->status = unprefixed(text_of(child(end, NS_WSE, "Status")));
    out->reason = text_of(child(end, NS_WSE, "Reason"));
    return TRUE;
  }
  const xmlNode *first = body->children;
  while (first && first->type != XML_ELEMENT_NODE)
    first = first->next;
  g_autofree char *name = scand_xml_shown(first ? (const char *) first->name : "(empty)", 60);
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "event: %s is not an event scand subscribes to", name);
  wsd_ev_notification_clear(out);
  return FALSE;
}
