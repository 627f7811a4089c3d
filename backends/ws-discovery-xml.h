/* WS-Discovery and WSD device metadata as pure functions: build Probe,
 * Resolve and the WS-Transfer Get; decode Hello, Bye, ProbeMatches,
 * ResolveMatches and the metadata GetResponse. Read with scand/base/xml.h
 * (no network, no DTD, no entity expansion, size cap); elements matched by
 * namespace and local name, a namespace's http:// and https:// spellings
 * alike. Unit-tested in tests/unit/test-ws-discovery.c, fuzzed by
 * tests/fuzz/fuzz-ws-discovery.c. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  SCAND_WSDD_HELLO,
  SCAND_WSDD_BYE,
  SCAND_WSDD_PROBE_MATCH,
  SCAND_WSDD_RESOLVE_MATCH,
} ScandWsddKind;

/* One endpoint a WS-Discovery message speaks of. Text is sanitised (valid
 * UTF-8, no control characters, bounded). */
typedef struct {
  ScandWsddKind kind;
  char *endpoint;         /* EndpointReference/Address ("urn:uuid:…") */
  char *uuid;             /* the endpoint's UUID, lower case, or NULL when it is not one */
  char *types;            /* Types as sent, or NULL */
  gboolean scanner;       /* Types name a ScanDeviceType */
  gboolean printer;       /* Types name a PrintDeviceType (an MFP may host a scanner anyway) */
  GStrv xaddrs;           /* http(s) URLs of the device's metadata, IPv6 link-local ones with their zone; never NULL */
  guint metadata_version; /* 0 when absent */
  guint64 instance_id;    /* AppSequence InstanceId (changes on reboot); 0 when absent */
  guint64 message_number; /* AppSequence MessageNumber; 0 when absent */
  char *message_id;       /* wsa:MessageID, or NULL */
  char *relates_to;       /* wsa:RelatesTo, or NULL */
  char *interface;        /* the interface it arrived on, or NULL */
} ScandWsddMessage;

void scand_wsdd_message_free(ScandWsddMessage *msg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandWsddMessage, scand_wsdd_message_free)

#define WSDD_NS_DISCOVERY "http://schemas.xmlsoap.org/ws/2005/04/discovery"
#define WSDD_NS_DEVPROF "http://schemas.xmlsoap.org/ws/2006/02/devprof"
#define WSDD_NS_MEX "http://schemas.xmlsoap.org/ws/2004/09/mex"
#define WSDD_NS_TRANSFER "http://schemas.xmlsoap.org/ws/2004/09/transfer"
#define WSDD_TO_DISCOVERY "urn:schemas-xmlsoap-org:ws:2005:04:discovery"

/* A Probe for devices ("wsdp:Device": what Windows, sane-airscan and wsdd
 * ask; every WSD device answers it). message_id "urn:uuid:…". Newly allocated. */
char *wsdd_probe_build(const char *message_id);
/* A Resolve of endpoint ("urn:uuid:…"). Newly allocated. */
char *wsdd_resolve_build(const char *endpoint, const char *message_id);
/* A WS-Transfer Get of endpoint's metadata. Newly allocated. */
char *wsdd_get_build(const char *endpoint, const char *message_id);

/* Decodes a datagram: Hello, Bye, ProbeMatches (one message per match) or
 * ResolveMatches. ifname (may be NULL) is where it arrived: link-local IPv6
 * XAddrs get it as their zone, and each message its interface. Fails
 * (SCAND_ERROR_INVAL, one line) for anything else, and for a message without
 * an endpoint address. Returns a newly allocated array of ScandWsddMessage. */
GPtrArray *wsdd_message_decode(const char *data, gsize len, const char *ifname, GError **error);

/* What a device's metadata (GetResponse) says. */
typedef struct {
  char *friendly_name;
  char *manufacturer;
  char *model;
  char *serial;
  GPtrArray *scan_urls; /* char*: hosted ScannerServiceType addresses (http/https, zone added) */
} WsddMetadata;

void wsdd_metadata_clear(WsddMetadata *md);

/* Decodes a GetResponse (mex:Metadata). ifname as above. */
gboolean wsdd_metadata_decode(const char *data, gsize len, const char *ifname, WsddMetadata *out, GError **error);

/* An XAddr or service address made usable: an absolute http or https URL
 * with a host, at most 1024 bytes, without control characters or spaces; a
 * link-local IPv6 host without a zone gets "%25ifname" (when ifname is
 * given). NULL when unusable. Newly allocated. */
char *wsdd_url_usable(const char *url, const char *ifname);

G_END_DECLS
