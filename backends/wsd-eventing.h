/* WS-Scan walk-up over WS-Eventing as pure functions: build Subscribe (to
 * ScanAvailableEvent, with the destinations to list on the panel), Renew and
 * Unsubscribe; decode their replies; decode what a device pushes to the
 * subscriber (ScanAvailableEvent, SubscriptionEnd).
 *
 * Message shapes follow the WS-Scan schema (Microsoft's "WSD Scan Service"
 * documentation: ScanDestinations, DestinationResponses, ScanAvailableEvent)
 * and WS-Eventing 2004/08 (SubscriptionManager, Expires, SubscriptionEnd).
 * Documents are read with scand/base/xml.h (no network, no DTD, no entity
 * expansion); elements are matched by namespace and local name, and both
 * scan namespaces devices use (…/2006/01/… and …/2006/08/…, http or https)
 * are the same. Device text is kept only sanitised (valid UTF-8, no control
 * characters, bounded). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define WSD_EV_NS_SOAP "http://www.w3.org/2003/05/soap-envelope"
#define WSD_EV_NS_WSA "http://schemas.xmlsoap.org/ws/2004/08/addressing"
#define WSD_EV_NS_WSE "http://schemas.xmlsoap.org/ws/2004/08/eventing"
#define WSD_EV_NS_SCAN "http://schemas.microsoft.com/windows/2006/08/wdp/scan"
#define WSD_EV_ACTION_SCAN_AVAILABLE WSD_EV_NS_SCAN "/ScanAvailableEvent"

/* One destination to list on the panel. */
typedef struct {
  const char *display_name; /* ClientDisplayName: what the person sees */
  const char *context;      /* ClientContext: comes back in the event */
} WsdEvDestination;

typedef struct {
  const char *to;         /* the scan service's URL (wsa:To) */
  const char *message_id; /* "urn:uuid:…"; NULL: a random one */
  const char *notify_to;  /* where events go (wse:NotifyTo, and wse:EndTo for SubscriptionEnd) */
  guint expires_s;        /* lifetime asked for; 0: none asked */
  const WsdEvDestination *destinations;
  guint n_destinations;
} WsdEvSubscribe;

/* The Subscribe envelope. Text is escaped. Newly allocated. */
char *wsd_ev_subscribe_build(const WsdEvSubscribe *args);

/* Renew (expires_s 0: no Expires asked) and Unsubscribe of subscription
 * identifier at its manager's address. Newly allocated. */
char *wsd_ev_renew_build(const char *manager, const char *identifier, guint expires_s, const char *message_id);
char *wsd_ev_unsubscribe_build(const char *manager, const char *identifier, const char *message_id);

/* A SOAP fault, when a reply is one. */
typedef struct {
  char *code;    /* "Sender", "Receiver" (prefix dropped), or NULL */
  char *subcode; /* "InvalidMessage", "UnableToRenew" (prefix dropped), or NULL */
  char *reason;  /* first Reason/Text, or NULL */
} WsdEvFault;

typedef struct {
  char *context; /* ClientContext, as we sent it */
  char *token;   /* DestinationToken: CreateScanJob must carry it */
} WsdEvDestinationResponse;

typedef struct {
  gboolean is_fault;
  WsdEvFault fault;
  char *relates_to;  /* wsa:RelatesTo, or NULL */
  char *manager;     /* SubscriptionManager/Address (Subscribe), or NULL */
  char *identifier;  /* SubscriptionManager/ReferenceParameters/Identifier (Subscribe), or NULL */
  gint64 expires_s;  /* Expires as seconds from now (a duration, or a time); -1 when absent */
  GArray *responses; /* WsdEvDestinationResponse (Subscribe), never NULL after a decode */
} WsdEvReply;

void wsd_ev_reply_clear(WsdEvReply *reply);

typedef enum {
  WSD_EV_REPLY_SUBSCRIBE,
  WSD_EV_REPLY_RENEW,
  WSD_EV_REPLY_UNSUBSCRIBE,
} WsdEvReplyKind;

/* Decodes the reply to a Subscribe, Renew or Unsubscribe: TRUE for the
 * response (its fields filled; a SubscribeResponse must name its manager's
 * address, the subscription identifier and a token for each destination —
 * else it fails) or a SOAP fault (is_fault). FALSE with SCAND_ERROR_INVAL and
 * one line for anything else. now_real (g_get_real_time µs) turns an Expires
 * given as a time into seconds. out is cleared first. */
gboolean wsd_ev_reply_decode(WsdEvReplyKind kind, const char *data, gsize len, gint64 now_real, WsdEvReply *out,
                             GError **error);

typedef enum {
  WSD_EV_SCAN_AVAILABLE, /* a person picked a destination and pressed Start */
  WSD_EV_SUBSCRIPTION_END,
} WsdEvKind;

/* What a device pushed. */
typedef struct {
  WsdEvKind kind;
  char *identifier;      /* the subscription it is about (header or SubscriptionManager), or NULL */
  char *message_id;      /* wsa:MessageID, or NULL */
  char *context;         /* ScanAvailableEvent: ClientContext */
  char *scan_identifier; /* ScanAvailableEvent: ScanIdentifier, for CreateScanJob */
  char *status;          /* SubscriptionEnd: "DeliveryFailure", "SourceShuttingDown", … (prefix dropped) */
  char *reason;          /* SubscriptionEnd: Reason text, or NULL */
} WsdEvNotification;

void wsd_ev_notification_clear(WsdEvNotification *n);

/* Decodes a pushed message. FALSE with SCAND_ERROR_INVAL and one line when it
 * is malformed, not SOAP, another event (ScannerStatusSummaryEvent, …) or
 * lacks what its kind needs (ClientContext, ScanIdentifier). out is cleared
 * first. */
gboolean wsd_ev_notification_decode(const char *data, gsize len, WsdEvNotification *out, GError **error);

/* Seconds of an xs:duration ("PT1H", "P0Y0M0DT30H0M0S", "PT90.5S"), or -1
 * when malformed or absurd (years count 365 days, months 30). */
gint64 wsd_ev_duration_parse(const char *text);

G_END_DECLS
