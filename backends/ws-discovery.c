/* WS-Discovery over the network (see ws-discovery.h): the interfaces, the
 * probe (UDP multicast, then the devices' metadata over HTTP) and the monitor
 * of Hello and Bye. Messages are built and read by ws-discovery-xml.c. */
#include "backends/ws-discovery.h"
#include "backends/ws-discovery-xml.h"
#include "scand/base/error.h"
#include "scand/base/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib-unix.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define WSDD_DEFAULT_TIMEOUT_MS 2000
#define WSDD_DATAGRAM_MAX 65536
#define WSDD_REPEAT_MS 150 /* the second copy of a multicast Probe (SOAP-over-UDP repeats) */
#define WSDD_SEEN_MAX 256  /* MessageIDs remembered to drop repeated copies */
#define WSDD_METADATA_MAX (256 * 1024)

/* ---- interfaces ------------------------------------------------------------------ */

typedef struct {
  char *name;
  guint index;
  gboolean has_v4;
  struct in_addr v4;
  gboolean has_v6; /* a link-local IPv6 address */
  struct in6_addr v6;
} Iface;

static void iface_free(Iface *i) {
  g_free(i->name);
  g_free(i);
}

static gboolean wanted(const char *const *names, const char *name) {
  for (guint i = 0; names && names[i]; i++)
    if (strcmp(names[i], name) == 0)
      return TRUE;
  return FALSE;
}

/* The interfaces to use: those named (each must exist and multicast), or
 * every one that is up, multicasts and is not loopback. */
static GPtrArray *interfaces_pick(const char *const *names, GPtrArray *warnings) {
  GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify) iface_free);
  gboolean named = names && names[0];
  struct ifaddrs *list = NULL;
  if (getifaddrs(&list) != 0) {
    if (warnings)
      g_ptr_array_add(warnings, g_strdup_printf("WS-Discovery: cannot list interfaces: %s", g_strerror(errno)));
    return out;
  }
  for (struct ifaddrs *a = list; a; a = a->ifa_next) {
    if (!a->ifa_name || !a->ifa_addr || !(a->ifa_flags & IFF_UP) || !(a->ifa_flags & IFF_MULTICAST))
      continue;
    if (named ? !wanted(names, a->ifa_name) : (a->ifa_flags & IFF_LOOPBACK) != 0)
      continue;
    Iface *f = NULL;
    for (guint i = 0; i < out->len && !f; i++)
      if (strcmp(((Iface *) out->pdata[i])->name, a->ifa_name) == 0)
        f = out->pdata[i];
    if (!f) {
      f = g_new0(Iface, 1);
      f->name = g_strdup(a->ifa_name);
      f->index = if_nametoindex(a->ifa_name);
      g_ptr_array_add(out, f);
    }
    if (a->ifa_addr->sa_family == AF_INET && !f->has_v4) {
      f->v4 = ((struct sockaddr_in *) a->ifa_addr)->sin_addr;
      f->has_v4 = TRUE;
    } else if (a->ifa_addr->sa_family == AF_INET6 && !f->has_v6) {
      const struct in6_addr *v6 = &((struct sockaddr_in6 *) a->ifa_addr)->sin6_addr;
      if (IN6_IS_ADDR_LINKLOCAL(v6)) {
        f->v6 = *v6;
        f->has_v6 = TRUE;
      }
    }
  }
  freeifaddrs(list);
  for (guint i = 0; named && warnings && names[i]; i++) {
    gboolean found = FALSE;
    for (guint k = 0; k < out->len && !found; k++)
      found = strcmp(((Iface *) out->pdata[k])->name, names[i]) == 0;
    if (!found)
      g_ptr_array_add(warnings,
                      g_strdup_printf("WS-Discovery: interface %s is not there, not up or cannot multicast", names[i]));
  }
  return out;
}

/* ---- sockets ------------------------------------------------------------------------ */

/* A socket for sending to the group on one interface, bound to its address
 * (port 0: replies come back to it). -1 with *why set on failure. */
static int send_socket(const Iface *f, int family, const char **why) {
  int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *why = "socket";
    return -1;
  }
  int one = 1, hops = 1;
  gboolean ok;
  if (family == AF_INET) {
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr = f->v4 };
    struct ip_mreqn mreq = { .imr_address = f->v4, .imr_ifindex = (int) f->index };
    ok = bind(fd, (struct sockaddr *) &sa, sizeof sa) == 0 &&
         setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq) == 0 &&
         setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &hops, sizeof hops) == 0;
  } else {
    struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_addr = f->v6, .sin6_scope_id = f->index };
    ok = setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == 0 &&
         bind(fd, (struct sockaddr *) &sa, sizeof sa) == 0 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &f->index, sizeof f->index) == 0 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof hops) == 0;
  }
  if (!ok) {
    *why = g_strerror(errno);
    close(fd);
    return -1;
  }
  return fd;
}

static void group_address(int family, guint index, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  if (family == AF_INET) {
    struct sockaddr_in *sa = (struct sockaddr_in *) ss;
    sa->sin_family = AF_INET;
    sa->sin_port = htons(SCAND_WSDD_PORT);
    inet_pton(AF_INET, SCAND_WSDD_GROUP4, &sa->sin_addr);
    *len = sizeof *sa;
  } else {
    struct sockaddr_in6 *sa = (struct sockaddr_in6 *) ss;
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(SCAND_WSDD_PORT);
    sa->sin6_scope_id = index;
    inet_pton(AF_INET6, SCAND_WSDD_GROUP6, &sa->sin6_addr);
    *len = sizeof *sa;
  }
}

static char *new_message_id(void) {
  g_autofree char *u = g_uuid_string_random();
  return g_strconcat("urn:uuid:", u, NULL);
}

/* Remembers id; TRUE when it was seen before (a repeated copy). */
static gboolean seen_before(GQueue *seen, const char *id) {
  if (!id)
    return FALSE;
  for (GList *l = seen->head; l; l = l->next)
    if (strcmp(l->data, id) == 0)
      return TRUE;
  g_queue_push_tail(seen, g_strdup(id));
  if (seen->length > WSDD_SEEN_MAX)
    g_free(g_queue_pop_head(seen));
  return FALSE;
}

/* ---- probing ---------------------------------------------------------------------- */

typedef struct {
  int fd;
  int family;
  const Iface *iface;
  char *probe_id;
  gboolean send_failed;
} ProbeSock;

/* One endpoint that answered. */
typedef struct {
  ScandWsddMessage *match; /* its first ProbeMatch, ResolveMatch or Hello */
  GPtrArray *xaddrs;       /* char*, unique */
  ProbeSock *sock;         /* where it answered */
  gboolean resolve_sent;
  gboolean resolved;
} Found;

typedef struct {
  GPtrArray *socks; /* ProbeSock* */
  GPtrArray *found; /* Found* */
  GHashTable *ours; /* MessageIDs of our Probes and Resolves */
  GQueue seen;
  GPtrArray *notes;
} Probe;

static void probe_sock_free(ProbeSock *p) {
  if (p->fd >= 0)
    close(p->fd);
  g_free(p->probe_id);
  g_free(p);
}

static void found_free(Found *f) {
  scand_wsdd_message_free(f->match);
  g_ptr_array_unref(f->xaddrs);
  g_free(f);
}

/* Multicasts text on the socket's interface; a failure is noted once per
 * socket. */
static void send_group(Probe *p, ProbeSock *s, const char *text) {
  struct sockaddr_storage ss;
  socklen_t len;
  group_address(s->family, s->iface->index, &ss, &len);
  if (sendto(s->fd, text, strlen(text), 0, (struct sockaddr *) &ss, len) < 0 && !s->send_failed) {
    s->send_failed = TRUE;
    g_ptr_array_add(p->notes, g_strdup_printf("WS-Discovery: cannot send on %s over IPv%d: %s", s->iface->name,
                                              s->family == AF_INET ? 4 : 6, g_strerror(errno)));
  }
}

static void open_sockets(Probe *p, GPtrArray *ifaces) {
  for (guint i = 0; i < ifaces->len; i++) {
    const Iface *f = ifaces->pdata[i];
    for (int k = 0; k < 2; k++) {
      int family = k == 0 ? AF_INET : AF_INET6;
      if (family == AF_INET ? !f->has_v4 : !f->has_v6)
        continue;
      const char *why = NULL;
      int fd = send_socket(f, family, &why);
      if (fd < 0) {
        g_ptr_array_add(p->notes, g_strdup_printf("WS-Discovery: cannot probe on %s over IPv%d: %s", f->name,
                                                  family == AF_INET ? 4 : 6, why));
        continue;
      }
      ProbeSock *s = g_new0(ProbeSock, 1);
      s->fd = fd;
      s->family = family;
      s->iface = f;
      s->probe_id = new_message_id();
      g_hash_table_add(p->ours, g_strdup(s->probe_id));
      g_ptr_array_add(p->socks, s);
    }
  }
}

static void send_probes(Probe *p) {
  for (guint i = 0; i < p->socks->len; i++) {
    ProbeSock *s = p->socks->pdata[i];
    g_autofree char *probe = wsdd_probe_build(s->probe_id);
    send_group(p, s, probe);
  }
}

static Found *found_get(Probe *p, ScandWsddMessage *m, ProbeSock *s) {
  for (guint i = 0; i < p->found->len; i++) {
    Found *f = p->found->pdata[i];
    if (strcmp(f->match->endpoint, m->endpoint) == 0)
      return f;
  }
  Found *f = g_new0(Found, 1);
  f->match = m;
  f->xaddrs = g_ptr_array_new_with_free_func(g_free);
  f->sock = s;
  g_ptr_array_add(p->found, f);
  return f;
}

/* One datagram that arrived on s: matches of our probes and resolves, and
 * Hellos, are kept; an endpoint without an address is resolved. */
static void take_datagram(Probe *p, ProbeSock *s, const char *data, gsize len) {
  g_autoptr(GPtrArray) msgs = wsdd_message_decode(data, len, s->iface->name, NULL);
  if (!msgs || seen_before(&p->seen, ((ScandWsddMessage *) msgs->pdata[0])->message_id))
    return;
  for (guint i = 0; i < msgs->len; i++) {
    ScandWsddMessage *m = msgs->pdata[i];
    gboolean ours = m->relates_to && g_hash_table_contains(p->ours, m->relates_to);
    if (m->kind == SCAND_WSDD_BYE || (m->kind != SCAND_WSDD_HELLO && !ours))
      continue;
    msgs->pdata[i] = NULL; /* taken below or freed here */
    Found *f = found_get(p, m, s);
    for (guint k = 0; m->xaddrs[k]; k++)
      if (!g_ptr_array_find_with_equal_func(f->xaddrs, m->xaddrs[k], g_str_equal, NULL))
        g_ptr_array_add(f->xaddrs, g_strdup(m->xaddrs[k]));
    f->resolved |= m->kind == SCAND_WSDD_RESOLVE_MATCH && m->xaddrs[0];
    if (f->match != m)
      scand_wsdd_message_free(m);
    if (f->xaddrs->len == 0 && !f->resolve_sent) {
      g_autofree char *id = new_message_id();
      g_autofree char *resolve = wsdd_resolve_build(f->match->endpoint, id);
      g_hash_table_add(p->ours, g_steal_pointer(&id));
      send_group(p, f->sock, resolve);
      f->resolve_sent = TRUE;
    }
  }
}

/* Reads every datagram waiting on s. */
static void drain(Probe *p, ProbeSock *s) {
  g_autofree char *buf = g_malloc(WSDD_DATAGRAM_MAX);
  for (;;) {
    ssize_t n = recv(s->fd, buf, WSDD_DATAGRAM_MAX, 0);
    if (n <= 0)
      return;
    take_datagram(p, s, buf, (gsize) n);
  }
}

/* Sends the probes (twice) and listens until deadline (monotonic µs). */
static void probe_udp(Probe *p, gint64 deadline) {
  send_probes(p);
  gint64 repeat = g_get_monotonic_time() + WSDD_REPEAT_MS * 1000;
  g_autofree struct pollfd *fds = g_new0(struct pollfd, p->socks->len + 1);
  for (;;) {
    gint64 now = g_get_monotonic_time();
    if (now >= deadline || p->socks->len == 0)
      return;
    if (repeat && now >= repeat) {
      send_probes(p);
      repeat = 0;
    }
    gint64 until = repeat ? MIN(repeat, deadline) : deadline;
    for (guint i = 0; i < p->socks->len; i++)
      fds[i] = (struct pollfd){ .fd = ((ProbeSock *) p->socks->pdata[i])->fd, .events = POLLIN };
    int n = poll(fds, p->socks->len, (int) MAX(1, (until - now + 999) / 1000));
    for (guint i = 0; n > 0 && i < p->socks->len; i++)
      if (fds[i].revents & POLLIN)
        drain(p, p->socks->pdata[i]);
  }
}

/* ---- metadata ------------------------------------------------------------------------ */

void scand_wsdd_device_free(ScandWsddDevice *d) {
  if (!d)
    return;
  g_free(d->endpoint);
  g_free(d->uuid);
  g_free(d->friendly_name);
  g_free(d->manufacturer);
  g_free(d->model);
  g_free(d->types);
  g_ptr_array_unref(d->xaddrs);
  g_ptr_array_unref(d->scan_urls);
  g_free(d->interface);
  g_free(d);
}

static ScandWsddDevice *device_from(const Found *f, WsddMetadata *md) {
  ScandWsddDevice *d = g_new0(ScandWsddDevice, 1);
  d->endpoint = g_strdup(f->match->endpoint);
  d->uuid = g_strdup(f->match->uuid);
  d->types = g_strdup(f->match->types);
  d->xaddrs = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < f->xaddrs->len; i++)
    g_ptr_array_add(d->xaddrs, g_strdup(f->xaddrs->pdata[i]));
  d->interface = g_strdup(f->sock->iface->name);
  d->resolved = f->resolved;
  d->friendly_name = g_steal_pointer(&md->friendly_name);
  d->manufacturer = g_steal_pointer(&md->manufacturer);
  d->model = g_steal_pointer(&md->model);
  d->scan_urls = md->scan_urls ? g_steal_pointer(&md->scan_urls) : g_ptr_array_new_with_free_func(g_free);
  return d;
}

/* One metadata request: endpoint f asked at one of its addresses. */
typedef struct {
  Found *f;
  char *url;
  char *body;
  ScandHttp *http;
} Ask;

static void ask_free(Ask *a) {
  g_free(a->url);
  g_free(a->body);
  scand_http_free(a->http);
  g_free(a);
}

static const char *const get_headers[] = { "Content-Type: application/soap+xml; charset=utf-8", "User-Agent: WSDAPI",
                                           NULL };

/* The requests: every address of every endpoint worth asking. */
static GPtrArray *metadata_asks(Probe *p, gboolean everything, guint timeout_ms) {
  GPtrArray *asks = g_ptr_array_new_with_free_func((GDestroyNotify) ask_free);
  for (guint i = 0; i < p->found->len; i++) {
    Found *f = p->found->pdata[i];
    if (!everything && !f->match->scanner && !f->match->printer)
      continue;
    for (guint k = 0; k < f->xaddrs->len && k < 4; k++) {
      Ask *a = g_new0(Ask, 1);
      a->f = f;
      a->url = g_strdup(f->xaddrs->pdata[k]);
      g_autofree char *id = new_message_id();
      a->body = wsdd_get_build(f->match->endpoint, id);
      g_autofree char *label = g_strdup_printf("WS-Discovery metadata of %s", f->match->endpoint);
      /* A listing only: nothing of value is sent or fetched, so an https
       * device's certificate is not checked here (scans check it). */
      ScandHttpOptions o = {
        .label = label,
        .connect_timeout_ms = timeout_ms,
        .timeout_ms = timeout_ms,
        .stall_s = 5,
        .max_reply = WSDD_METADATA_MAX,
        .tls_unverified = TRUE,
      };
      a->http = scand_http_new(&o, NULL);
      if (a->http)
        g_ptr_array_add(asks, a);
      else
        ask_free(a);
    }
  }
  return asks;
}

/* Asks every device for its metadata at once; devices with a scanner
 * service (or every one, with everything) go to out. */
static void fetch_metadata(Probe *p, gboolean everything, guint timeout_ms, GPtrArray *out) {
  g_autoptr(GPtrArray) asks = metadata_asks(p, everything, timeout_ms);
  guint n = asks->len;
  g_autofree ScandHttp **clients = g_new0(ScandHttp *, n + 1);
  g_autofree ScandHttpRequest *reqs = g_new0(ScandHttpRequest, n + 1);
  g_autofree ScandHttpReply **replies = g_new0(ScandHttpReply *, n + 1);
  g_autofree GError **errors = g_new0(GError *, n + 1);
  for (guint i = 0; i < n; i++) {
    Ask *a = asks->pdata[i];
    clients[i] = a->http;
    reqs[i] = (ScandHttpRequest){
      .method = "POST", .url = a->url, .headers = get_headers, .body = a->body, .body_len = strlen(a->body)
    };
  }
  if (n)
    scand_http_perform_many(clients, reqs, n, replies, errors);
  for (guint i = 0; i < p->found->len; i++) {
    Found *f = p->found->pdata[i];
    WsddMetadata md = { 0 };
    gboolean have = FALSE;
    g_autofree char *why = NULL;
    for (guint k = 0; k < n && !have; k++) {
      Ask *a = asks->pdata[k];
      g_autoptr(GError) e = NULL;
      if (a->f != f)
        continue;
      if (replies[k] && replies[k]->status == 200 &&
          wsdd_metadata_decode((const char *) replies[k]->body->data, replies[k]->body->len, f->sock->iface->name, &md,
                               &e))
        have = TRUE;
      else if (!why)
        why = g_strdup_printf("%s: %s", a->url,
                              e           ? e->message
                              : errors[k] ? errors[k]->message
                                          : "no metadata in the reply");
    }
    if (!have && why && (f->match->scanner || everything))
      g_ptr_array_add(p->notes, g_strdup_printf("WS-Discovery: %s: %s", f->match->endpoint, why));
    if (everything || (have && md.scan_urls->len > 0))
      g_ptr_array_add(out, device_from(f, &md));
    wsdd_metadata_clear(&md);
  }
  for (guint i = 0; i < n; i++) {
    scand_http_reply_free(replies[i]);
    g_clear_error(&errors[i]);
  }
}

static int device_cmp(gconstpointer a, gconstpointer b) {
  return g_strcmp0((*(ScandWsddDevice *const *) a)->endpoint, (*(ScandWsddDevice *const *) b)->endpoint);
}

GPtrArray *scand_wsdd_probe(const ScandWsddProbeOptions *options, GPtrArray **warnings) {
  ScandWsddProbeOptions defaults = { 0 };
  if (!options)
    options = &defaults;
  guint timeout_ms = options->timeout_ms ? options->timeout_ms : WSDD_DEFAULT_TIMEOUT_MS;
  gint64 start = g_get_monotonic_time();
  Probe p = {
    .socks = g_ptr_array_new_with_free_func((GDestroyNotify) probe_sock_free),
    .found = g_ptr_array_new_with_free_func((GDestroyNotify) found_free),
    .ours = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
    .notes = g_ptr_array_new_with_free_func(g_free),
  };
  g_queue_init(&p.seen);
  g_autoptr(GPtrArray) ifaces = interfaces_pick(options->interfaces, p.notes);
  open_sockets(&p, ifaces);
  probe_udp(&p, start + (gint64) timeout_ms * 500);
  GPtrArray *devices = g_ptr_array_new_with_free_func((GDestroyNotify) scand_wsdd_device_free);
  gint64 left_ms = (start + (gint64) timeout_ms * 1000 - g_get_monotonic_time()) / 1000;
  fetch_metadata(&p, options->everything, (guint) MAX(left_ms, 200), devices);
  g_ptr_array_sort(devices, device_cmp);
  g_queue_clear_full(&p.seen, g_free);
  g_hash_table_unref(p.ours);
  g_ptr_array_unref(p.found);
  g_ptr_array_unref(p.socks);
  if (warnings)
    *warnings = g_steal_pointer(&p.notes);
  else
    g_ptr_array_unref(p.notes);
  return devices;
}

/* ---- the monitor --------------------------------------------------------------------- */

struct ScandWsddMonitor {
  ScandWsddFunc func;
  gpointer user;
  GPtrArray *ifaces; /* Iface* */
  int fd4, fd6;
  GSource *src4, *src6;
  GQueue seen;
};

/* A socket on UDP 3702 joined to the group on every interface of m (of
 * family); -1 when none could be joined. */
static int listen_socket(ScandWsddMonitor *m, int family, GPtrArray *notes) {
  int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return -1;
  int one = 1, zero = 0;
  struct sockaddr_storage ss = { 0 };
  socklen_t len;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET) {
    struct sockaddr_in *sa = (struct sockaddr_in *) &ss;
    sa->sin_family = AF_INET;
    sa->sin_port = htons(SCAND_WSDD_PORT);
    len = sizeof *sa;
    /* Only the groups joined here, on the interfaces joined here. */
    setsockopt(fd, IPPROTO_IP, IP_MULTICAST_ALL, &zero, sizeof zero);
    setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
  } else {
    struct sockaddr_in6 *sa = (struct sockaddr_in6 *) &ss;
    sa->sin6_family = AF_INET6;
    sa->sin6_port = htons(SCAND_WSDD_PORT);
    len = sizeof *sa;
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_ALL, &zero, sizeof zero);
    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
  }
  if (bind(fd, (struct sockaddr *) &ss, len) != 0) {
    g_ptr_array_add(notes, g_strdup_printf("WS-Discovery: cannot listen on UDP %d over IPv%d: %s", SCAND_WSDD_PORT,
                                           family == AF_INET ? 4 : 6, g_strerror(errno)));
    close(fd);
    return -1;
  }
  guint joined = 0;
  for (guint i = 0; i < m->ifaces->len; i++) {
    const Iface *f = m->ifaces->pdata[i];
    int rc = -1;
    if (family == AF_INET && f->has_v4) {
      struct ip_mreqn mreq = { .imr_address = f->v4, .imr_ifindex = (int) f->index };
      inet_pton(AF_INET, SCAND_WSDD_GROUP4, &mreq.imr_multiaddr);
      rc = setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq);
    } else if (family == AF_INET6 && f->has_v6) {
      struct ipv6_mreq mreq = { .ipv6mr_interface = f->index };
      inet_pton(AF_INET6, SCAND_WSDD_GROUP6, &mreq.ipv6mr_multiaddr);
      rc = setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq, sizeof mreq);
    } else {
      continue;
    }
    if (rc == 0)
      joined++;
    else
      g_ptr_array_add(notes, g_strdup_printf("WS-Discovery: cannot join the IPv%d group on %s: %s",
                                             family == AF_INET ? 4 : 6, f->name, g_strerror(errno)));
  }
  if (joined == 0) {
    close(fd);
    return -1;
  }
  return fd;
}

/* The interface a datagram arrived on, from its IP_PKTINFO/IPV6_PKTINFO. */
static const Iface *arrival(ScandWsddMonitor *m, struct msghdr *mh) {
  guint index = 0;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
      index = (guint) ((struct in_pktinfo *) CMSG_DATA(c))->ipi_ifindex;
    else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO)
      index = ((struct in6_pktinfo *) CMSG_DATA(c))->ipi6_ifindex;
  }
  for (guint i = 0; i < m->ifaces->len; i++)
    if (((Iface *) m->ifaces->pdata[i])->index == index)
      return m->ifaces->pdata[i];
  return NULL;
}

static gboolean on_readable(int fd, GIOCondition cond, gpointer user) {
  ScandWsddMonitor *m = user;
  g_autofree char *buf = g_malloc(WSDD_DATAGRAM_MAX);
  char control[256];
  for (guint rounds = 0; rounds < 64; rounds++) {
    struct iovec iov = { .iov_base = buf, .iov_len = WSDD_DATAGRAM_MAX };
    struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
    ssize_t n = recvmsg(fd, &mh, 0);
    if (n <= 0)
      break;
    const Iface *f = arrival(m, &mh);
    if (!f)
      continue; /* not one of ours */
    g_autoptr(GPtrArray) msgs = wsdd_message_decode(buf, (gsize) n, f->name, NULL);
    if (!msgs || seen_before(&m->seen, ((ScandWsddMessage *) msgs->pdata[0])->message_id))
      continue;
    for (guint i = 0; i < msgs->len; i++) {
      const ScandWsddMessage *msg = msgs->pdata[i];
      if (msg->kind == SCAND_WSDD_HELLO || msg->kind == SCAND_WSDD_BYE)
        m->func(msg, m->user);
    }
  }
  (void) cond;
  return G_SOURCE_CONTINUE;
}

static GSource *watch(ScandWsddMonitor *m, int fd) {
  GSource *src = g_unix_fd_source_new(fd, G_IO_IN);
  g_source_set_callback(src, G_SOURCE_FUNC(on_readable), m, NULL);
  g_source_attach(src, g_main_context_get_thread_default());
  return src;
}

ScandWsddMonitor *scand_wsdd_monitor_new(const char *const *interfaces, ScandWsddFunc func, gpointer user,
                                         GPtrArray **warnings, GError **error) {
  g_autoptr(GPtrArray) notes = g_ptr_array_new_with_free_func(g_free);
  ScandWsddMonitor *m = g_new0(ScandWsddMonitor, 1);
  m->fd4 = m->fd6 = -1;
  m->func = func;
  m->user = user;
  m->ifaces = interfaces_pick(interfaces, notes);
  g_queue_init(&m->seen);
  m->fd4 = listen_socket(m, AF_INET, notes);
  m->fd6 = listen_socket(m, AF_INET6, notes);
  if (m->fd4 < 0 && m->fd6 < 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO,
                "WS-Discovery: cannot listen for Hello and Bye on any interface%s%s", notes->len ? ": " : "",
                notes->len ? (const char *) notes->pdata[0] : "");
    scand_wsdd_monitor_free(m);
    return NULL;
  }
  if (m->fd4 >= 0)
    m->src4 = watch(m, m->fd4);
  if (m->fd6 >= 0)
    m->src6 = watch(m, m->fd6);
  if (warnings)
    *warnings = g_steal_pointer(&notes);
  return m;
}

void scand_wsdd_monitor_free(ScandWsddMonitor *m) {
  if (!m)
    return;
  GSource *sources[] = { m->src4, m->src6 };
  for (guint i = 0; i < G_N_ELEMENTS(sources); i++)
    if (sources[i]) {
      g_source_destroy(sources[i]);
      g_source_unref(sources[i]);
    }
  if (m->fd4 >= 0)
    close(m->fd4);
  if (m->fd6 >= 0)
    close(m->fd6);
  g_ptr_array_unref(m->ifaces);
  g_queue_clear_full(&m->seen, g_free);
  g_free(m);
}
