/* Where monitoring reads scand's numbers (scand/base/metrics.h):
 *
 *  - [scand] metrics-listen = 127.0.0.1:9464 serves GET /metrics as
 *    Prometheus text. Off by default. Only loopback peers and the
 *    addresses in metrics-allow (addresses or networks, "192.0.2.7,
 *    10.1.0.0/16") are served; any other connection is closed before a byte
 *    is read. Listening on an address other than loopback without
 *    metrics-allow is refused (nobody could scrape it but this computer, and
 *    that is a mistake worth telling). At most 16 connections are open at
 *    once, each closed after 10 s without traffic or 30 s in all; a request
 *    other than GET/HEAD of /metrics, or one with a body, is answered and
 *    closed without reading further.
 *  - [scand] metrics-textfile = /var/lib/prometheus/node-exporter/scand.prom
 *    is rewritten (temporary file, rename) every 15 s for node-exporter's
 *    textfile collector.
 *
 * Runs in the main context. */
#pragma once

#include "scand/base/config.h"
#include "scand/core/spool.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct ScandMetricsEndpoint ScandMetricsEndpoint;

/* Starts what config's [scand] metrics-* keys ask for; NULL without error
 * when they ask for nothing. spool (borrowed, must outlive the endpoint)
 * gives the queue gauges. */
ScandMetricsEndpoint *scand_metrics_endpoint_new(ScandConfig *config, ScandSpool *spool, GError **error);
/* Stops listening and writing. Accepts NULL. */
void scand_metrics_endpoint_free(ScandMetricsEndpoint *endpoint);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandMetricsEndpoint, scand_metrics_endpoint_free)

/* The port listened on (0: not listening). */
guint scand_metrics_endpoint_get_port(ScandMetricsEndpoint *endpoint);

/* Parses "ADDRESS:PORT" or "[IPv6]:PORT" (an IP address, not a name; port 0:
 * one the system picks, logged at start). */
gboolean scand_metrics_parse_listen(const char *value, GInetAddress **address, guint *port, GError **error);

G_END_DECLS
