/* Finding scanners: DNS-SD (_uscan._tcp / _uscans._tcp through avahi),
 * WS-Discovery (WSD scanners, backends/ws-discovery.h), SANE's own device list
 * and CUPS printers that also answer eSCL, merged into one entry per physical
 * device (same UUID, else same host). Used by `scand list`. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What a device can do, as bits. */
typedef enum {
  SCAND_DISCOVERY_PLATEN = 1 << 0,
  SCAND_DISCOVERY_FEEDER = 1 << 1,
  SCAND_DISCOVERY_DUPLEX = 1 << 2,
} ScandDiscoverySources;

typedef enum {
  SCAND_DISCOVERY_COLOR = 1 << 0,
  SCAND_DISCOVERY_GRAY = 1 << 1,
  SCAND_DISCOVERY_LINEART = 1 << 2,
} ScandDiscoveryModes;

/* One physical device. */
typedef struct {
  char *name;         /* DNS-SD instance name, CUPS queue or SANE name */
  char *model;        /* "HP LaserJet MFP M426fdn", or NULL */
  char *uuid;         /* lower case, without "urn:uuid:", or NULL */
  char *host;         /* DNS-SD host name or address, or NULL (local SANE) */
  char *note;         /* DNS-SD "note" (location), or NULL */
  char *pdl;          /* DNS-SD "pdl" (document formats), or NULL */
  GPtrArray *uris;    /* char*, unique: escl:https, escl:http, wsd:https, wsd:http, then sane: */
  GPtrArray *origins; /* char*, unique: "dns-sd", "ws-discovery", "sane", "cups:QUEUE" */
  guint sources;      /* ScandDiscoverySources */
  guint modes;        /* ScandDiscoveryModes */
} ScandDiscoveredDevice;

ScandDiscoveredDevice *scand_discovered_device_new(void);
/* Frees the device. Accepts NULL. */
void scand_discovered_device_free(ScandDiscoveredDevice *dev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandDiscoveredDevice, scand_discovered_device_free)

typedef struct {
  guint browse_ms;     /* DNS-SD browse and WS-Discovery probe time; 0 = default (2000) */
  gboolean no_network; /* SANE only: no DNS-SD, no WS-Discovery, no CUPS, no probes */
  guint probe_ms;      /* per eSCL capabilities request; 0 = default (1500) */
  /* WS-Discovery multicasts on these interfaces; NULL or empty: every
   * multicast interface but loopback */
  const char *const *interfaces;
} ScandDiscoveryOptions;

/* Looks for devices; blocks for at most about browse_ms + probe_ms (the
 * capability probes of all devices and CUPS queues run at the same time).
 * Never fails as a whole: a source that cannot be asked
 * (no avahi-daemon, no cupsd) adds a one-line note to *warnings (newly
 * allocated array of char*, may be NULL to ignore). options may be NULL.
 * Returns a newly allocated array of ScandDiscoveredDevice, sorted by name. */
GPtrArray *scand_discovery_run(const ScandDiscoveryOptions *options, GPtrArray **warnings);

/* "platen, feeder, duplex" / "color, gray, lineart" (static strings joined
 * into a newly allocated one; "" when nothing is known). */
char *scand_discovery_sources_to_string(guint sources);
char *scand_discovery_modes_to_string(guint modes);

G_END_DECLS
