/* Discovery as pure functions (unit-tested in tests/unit/test-discovery.c):
 * DNS-SD TXT records → capabilities, eSCL URIs from resolved services, and
 * merging the entries of one physical device. */
#pragma once

#include <glib.h>
#include "backends/discovery.h"
#include "backends/escl-xml.h"
#include "backends/ws-discovery.h"

G_BEGIN_DECLS

/* What the TXT record of a _uscan/_uscans service says. Strings are newly
 * allocated, valid UTF-8 without control characters (safe to print). */
typedef struct {
  char *rs_path;    /* "/eSCL" (encoded, validated), "" for the root; NULL when rs was unusable */
  char *rs_problem; /* why rs was unusable, or NULL */
  char *ty;
  char *uuid; /* normalised, see scand_discovery_uuid_normalize() */
  char *note;
  char *pdl;
  guint sources;
  guint modes;
} ScandTxtInfo;

void scand_txt_info_clear(ScandTxtInfo *info);

/* Parses TXT entries ("key=value", NULL-terminated; keys are case-insensitive,
 * the first occurrence of a key wins as RFC 6763 says). Never fails: an
 * unusable rs leaves rs_path NULL and sets rs_problem. */
void scand_discovery_txt_parse(const char *const *entries, ScandTxtInfo *out);

/* The URI path for a TXT rs value (NULL = absent = "eSCL"): "/seg/seg" with
 * each segment percent-encoded, "" for an empty rs. Refuses "." and ".."
 * segments, control characters and values over 255 bytes. Newly allocated. */
char *scand_discovery_rs_to_path(const char *rs, GError **error);

/* "escl:http[s]://ADDRESS:PORT" + rs_path for a resolved service. address is
 * an IPv4 or IPv6 literal (or a DNS name); an IPv6 link-local address gets
 * the zone "%25IFNAME" when ifname is given. Newly allocated. */
char *scand_discovery_uri_build(gboolean tls, const char *address, const char *ifname, guint port, const char *rs_path,
                                GError **error);

/* "urn:uuid:ABC-…" / "{ABC-…}" / "abc-…" → "abc-…"; NULL when it is not a UUID
 * (hex digits and dashes, 32 hex digits). Newly allocated. */
char *scand_discovery_uuid_normalize(const char *uuid);

/* A copy of text fit for one line on a terminal: valid UTF-8, control
 * characters replaced by '?', at most max_len bytes. NULL for NULL or "". */
char *scand_discovery_sanitize(const char *text, gsize max_len);

/* Adds uri / origin to dev unless already there (takes copies). */
void scand_discovered_device_add_uri(ScandDiscoveredDevice *dev, const char *uri);
void scand_discovered_device_add_origin(ScandDiscoveredDevice *dev, const char *origin);

/* ORs what caps says into dev (sources, modes) and fills model/uuid if unset. */
void scand_discovery_apply_caps(ScandDiscoveredDevice *dev, const EsclCaps *caps);

/* Merges the entries of one physical device in place: same UUID; else same
 * host when one of them has no UUID; else a sane-airscan entry and a DNS-SD
 * entry with the same name. Merged fields: first non-NULL wins, URIs and
 * origins are united (escl:https, then escl:http, then others), capabilities
 * ORed. Then sorts by name. */
void scand_discovery_merge(GPtrArray *devices);

/* A device for one SANE device name ("test:0", "airscan:e0:Sim MFP"). */
ScandDiscoveredDevice *scand_discovery_from_sane(const char *sane_name, const char *vendor, const char *model);

/* A device for a scanner WS-Discovery found: its scanner services as
 * "wsd:URL" URIs, name, model, UUID, host. */
ScandDiscoveredDevice *scand_discovery_from_wsdd(const ScandWsddDevice *wsdd);

/* The eSCL base URLs worth probing for a CUPS queue's device or printer URI
 * ("ipp://host:631/ipp/print" → "http://host:631/eSCL", "http://host/eSCL").
 * Newly allocated NULL-terminated array; empty for URIs without a network host. */
GStrv scand_discovery_cups_candidates(const char *uri);

/* The device UUID in a CUPS "dnssd://NAME._ipp._tcp.local/?uuid=…" device
 * URI (normalised), or NULL. Newly allocated. */
char *scand_discovery_cups_uuid(const char *uri);

G_END_DECLS
