/* WS-Discovery (SOAP over UDP multicast, port 3702; IPv4 239.255.255.250 and
 * IPv6 ff02::c) for WSD scanners: a probe that finds the scanners on the
 * chosen interfaces (Probe → ProbeMatches, Resolve → ResolveMatches for
 * endpoints that do not say their address, then each device's metadata over
 * WS-Transfer Get for its scanner service's URL), and a monitor that hears
 * the Hello and Bye devices multicast when they come and go (a rebooted
 * device says Hello with a new AppSequence instance), for the daemon.
 *
 * Multicast goes only to the interfaces named (or, when none are, to every
 * interface that is up, can multicast and is not loopback), never routed
 * beyond the link (hop limit 1). Everything a device sends is read with
 * ws-discovery-xml.c's pure decoders, whose ScandWsddMessage the monitor
 * hands on. */
#pragma once

#include <glib.h>
#include "backends/ws-discovery-xml.h"

G_BEGIN_DECLS

#define SCAND_WSDD_PORT 3702
#define SCAND_WSDD_GROUP4 "239.255.255.250"
#define SCAND_WSDD_GROUP6 "ff02::c"

/* One device found by a probe. */
typedef struct {
  char *endpoint;       /* "urn:uuid:…" */
  char *uuid;           /* lower case, or NULL */
  char *friendly_name;  /* ThisDevice/FriendlyName, or NULL */
  char *manufacturer;   /* ThisModel/Manufacturer, or NULL */
  char *model;          /* ThisModel/ModelName, or NULL */
  char *types;          /* the Types of its match */
  GPtrArray *xaddrs;    /* char*: where its metadata was asked for */
  GPtrArray *scan_urls; /* char*: http(s) URLs of its hosted scanner services (ScannerServiceType) */
  char *interface;      /* the interface it answered on */
  gboolean resolved;    /* its address came from a ResolveMatch (the ProbeMatch had none) */
} ScandWsddDevice;

void scand_wsdd_device_free(ScandWsddDevice *dev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandWsddDevice, scand_wsdd_device_free)

typedef struct {
  const char *const *interfaces; /* names; NULL or empty: every multicast interface but loopback */
  guint timeout_ms;              /* the whole probe, metadata included; 0: 2000 */
  gboolean everything;           /* every endpoint that answers, not only scanners (tests) */
} ScandWsddProbeOptions;

/* Probes over IPv4 and IPv6 on the interfaces and returns the devices found
 * (newly allocated array of ScandWsddDevice, sorted by endpoint): scanners
 * with at least one scanner service URL, or with everything every endpoint.
 * Never fails as a whole: an interface or device that cannot be used adds a
 * one-line note to *warnings (newly allocated, may be NULL to ignore). */
GPtrArray *scand_wsdd_probe(const ScandWsddProbeOptions *options, GPtrArray **warnings);

/* ---- hearing Hello and Bye (the daemon) ------------------------------------------ */

typedef struct ScandWsddMonitor ScandWsddMonitor;

/* Called on the monitor's main context for every Hello and Bye heard (each
 * message once, however often it was repeated). msg is owned by the monitor. */
typedef void (*ScandWsddFunc)(const ScandWsddMessage *msg, gpointer user);

/* Listens on UDP 3702 on the interfaces (NULL or empty: as the probe) of the
 * thread-default main context. Fails (SCAND_ERROR_IO, one line) when no
 * interface can be joined; interfaces that cannot are noted in *warnings
 * (may be NULL). Free with scand_wsdd_monitor_free(). */
ScandWsddMonitor *scand_wsdd_monitor_new(const char *const *interfaces, ScandWsddFunc func, gpointer user,
                                         GPtrArray **warnings, GError **error);
/* Stops listening. Accepts NULL. */
void scand_wsdd_monitor_free(ScandWsddMonitor *monitor);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandWsddMonitor, scand_wsdd_monitor_free)

G_END_DECLS
