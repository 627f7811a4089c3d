/* The daemon's endpoint for pushed device events, over real sockets on
 * loopback: a device posts to its own route and its handler gets the body
 * (202); everything else is refused — another path (404), another method
 * (405), no Content-Length (411), an oversized body (413, unread), a refused
 * message (400), another device's route (403), a peer that is no known
 * device (connection closed before a byte is read), a removed route; idle
 * connections beyond a cap. */
#include "scand/base/error.h"
#include "scand/service/panel-listener.h"

#include <string.h>

typedef struct {
  guint calls;
  char *last;
  gboolean refuse;
} Sink;

static gboolean on_message(GBytes *body, gpointer user_data, GError **error) {
  Sink *s = user_data;
  s->calls++;
  g_free(s->last);
  s->last = g_strndup(g_bytes_get_data(body, NULL), g_bytes_get_size(body));
  if (s->refuse) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "not for us");
    return FALSE;
  }
  return TRUE;
}

typedef struct {
  char *from; /* local address to connect from */
  guint port;
  char *request;
  char *reply; /* what came back before the connection closed */
  gboolean done;
} Exchange;

/* In a thread: connect from ex->from, send the request, read until EOF. */
static gpointer exchange_thread(gpointer data) {
  Exchange *ex = data;
  g_autoptr(GSocket) s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) from = g_inet_address_new_from_string(ex->from);
  g_autoptr(GSocketAddress) bind_to = g_inet_socket_address_new(from, 0);
  g_autoptr(GInetAddress) lo = g_inet_address_new_from_string("127.0.0.1");
  g_autoptr(GSocketAddress) to = g_inet_socket_address_new(lo, (guint16) ex->port);
  GString *got = g_string_new(NULL);
  g_socket_set_timeout(s, 10);
  if (g_socket_bind(s, bind_to, FALSE, NULL) && g_socket_connect(s, to, NULL, NULL)) {
    g_socket_send(s, ex->request, strlen(ex->request), NULL, NULL);
    char buf[4096];
    gssize n;
    while ((n = g_socket_receive(s, buf, sizeof buf, NULL, NULL)) > 0)
      g_string_append_len(got, buf, n);
  }
  ex->reply = g_string_free(got, FALSE);
  g_atomic_int_set(&ex->done, TRUE);
  return NULL;
}

/* Sends request from address from and returns what came back (the main
 * context runs the listener meanwhile). */
static char *send_from(ScandPanelListener *l, const char *from, const char *request) {
  Exchange ex = { .from = g_strdup(from), .port = scand_panel_listener_get_port(l), .request = g_strdup(request) };
  GThread *t = g_thread_new("client", exchange_thread, &ex);
  gint64 until = g_get_monotonic_time() + 15 * G_USEC_PER_SEC;
  while (!g_atomic_int_get(&ex.done) && g_get_monotonic_time() < until)
    if (!g_main_context_iteration(NULL, FALSE))
      g_usleep(1000);
  g_thread_join(t);
  g_free(ex.from);
  g_free(ex.request);
  return ex.reply;
}

static char *post(const char *path, const char *body) {
  return g_strdup_printf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/soap+xml\r\n"
                         "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                         path, strlen(body), body);
}

static void assert_status(const char *reply, const char *status) {
  if (!g_str_has_prefix(reply, status))
    g_error("expected \"%s\", got \"%.80s\"", status, reply);
}

static void test_routes(void) {
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandPanelListener) l = scand_panel_listener_new("127.0.0.1", 0, &error);
  g_assert_no_error(error);
  Sink device = { 0 }, other = { 0 };
  g_autofree char *url = scand_panel_listener_add(l, "127.0.0.1", on_message, &device, &error);
  g_assert_no_error(error);
  g_autofree char *prefix = g_strdup_printf("http://127.0.0.1:%u/scand/panel/", scand_panel_listener_get_port(l));
  g_assert_true(g_str_has_prefix(url, prefix));
  g_assert_cmpuint(strlen(url) - strlen(prefix), ==, 32);
  /* A second device elsewhere gets a route of its own. */
  g_autofree char *other_url = scand_panel_listener_add(l, "127.0.0.2", on_message, &other, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(url, !=, other_url);
  const char *path = strstr(url, "/scand/");
  const char *other_path = strstr(other_url, "/scand/");

  g_autofree char *req = post(path, "<event/>");
  g_autofree char *ok = send_from(l, "127.0.0.1", req);
  assert_status(ok, "HTTP/1.1 202");
  g_assert_cmpuint(device.calls, ==, 1);
  g_assert_cmpstr(device.last, ==, "<event/>");

  g_autofree char *req404 = post("/scand/panel/0000", "<event/>");
  g_autofree char *r404 = send_from(l, "127.0.0.1", req404);
  assert_status(r404, "HTTP/1.1 404");

  g_autofree char *req403 = post(other_path, "<event/>");
  g_autofree char *r403 = send_from(l, "127.0.0.1", req403);
  assert_status(r403, "HTTP/1.1 403");
  g_assert_cmpuint(other.calls, ==, 0);

  g_autofree char *get = g_strdup_printf("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path);
  g_autofree char *r405 = send_from(l, "127.0.0.1", get);
  assert_status(r405, "HTTP/1.1 405");

  g_autofree char *chunked = g_strdup_printf("POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                                             "Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
                                             path);
  g_autofree char *r411 = send_from(l, "127.0.0.1", chunked);
  assert_status(r411, "HTTP/1.1 411");

  /* Announced as too large: refused on the headers, the body never read. */
  g_autofree char *huge = g_strdup_printf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n"
                                          "Connection: close\r\n\r\nxx",
                                          path);
  g_autofree char *r413 = send_from(l, "127.0.0.1", huge);
  assert_status(r413, "HTTP/1.1 413");
  g_assert_cmpuint(device.calls, ==, 1);

  device.refuse = TRUE;
  g_autofree char *r400 = send_from(l, "127.0.0.1", req);
  assert_status(r400, "HTTP/1.1 400");
  g_assert_cmpuint(device.calls, ==, 2);
  device.refuse = FALSE;

  /* 127.0.0.3 is no device of ours: closed without an answer. */
  g_autofree char *stranger = send_from(l, "127.0.0.3", req);
  g_assert_cmpstr(stranger, ==, "");
  g_assert_cmpuint(device.calls, ==, 2);

  /* From its own address, the other device may post to its route. */
  g_autofree char *req_other = post(other_path, "<other/>");
  g_autofree char *r_other = send_from(l, "127.0.0.2", req_other);
  assert_status(r_other, "HTTP/1.1 202");
  g_assert_cmpstr(other.last, ==, "<other/>");

  scand_panel_listener_remove(l, url);
  g_autofree char *gone = send_from(l, "127.0.0.1", req);
  g_assert_cmpstr(gone, ==, "");
  g_assert_cmpuint(device.calls, ==, 2);
  g_free(device.last);
  g_free(other.last);
}

static void test_bad_setup(void) {
  g_autoptr(GError) error = NULL;
  g_assert_null(scand_panel_listener_new("not-an-address", 0, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  g_clear_error(&error);
  g_autoptr(ScandPanelListener) l = scand_panel_listener_new("127.0.0.1", 0, &error);
  g_assert_no_error(error);
  /* The same port again: taken. */
  g_autoptr(ScandPanelListener) again = scand_panel_listener_new("127.0.0.1", scand_panel_listener_get_port(l), &error);
  g_assert_null(again);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_IO);
}

/* Runs the main context (the listener) for ms milliseconds. */
static void spin(guint ms) {
  gint64 until = g_get_monotonic_time() + (gint64) ms * 1000;
  while (g_get_monotonic_time() < until)
    if (!g_main_context_iteration(NULL, FALSE))
      g_usleep(1000);
}

/* A device that opens connections and says nothing: the listener holds 32
 * (CONNECTIONS_MAX in panel-listener.c), closes the next one unread, and
 * serves posts again once one of the idle ones is gone. */
static void test_connection_cap(void) {
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandPanelListener) l = scand_panel_listener_new("127.0.0.1", 0, &error);
  g_assert_no_error(error);
  Sink device = { 0 };
  g_autofree char *url = scand_panel_listener_add(l, "127.0.0.1", on_message, &device, &error);
  g_assert_no_error(error);
  g_autofree char *req = post(strstr(url, "/scand/"), "<event/>");
  g_autoptr(GInetAddress) lo = g_inet_address_new_from_string("127.0.0.1");
  g_autoptr(GSocketAddress) to = g_inet_socket_address_new(lo, (guint16) scand_panel_listener_get_port(l));
  g_autoptr(GPtrArray) idle = g_ptr_array_new_with_free_func(g_object_unref);
  for (guint i = 0; i < 32; i++) {
    GSocket *s = g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
    g_assert_no_error(error);
    g_assert_true(g_socket_connect(s, to, NULL, &error));
    g_assert_no_error(error);
    g_ptr_array_add(idle, s);
    spin(20); /* accepted before the listen backlog fills */
  }
  spin(500);
  g_autofree char *refused = send_from(l, "127.0.0.1", req);
  g_assert_cmpstr(refused, ==, "");
  g_assert_cmpuint(device.calls, ==, 0);

  g_socket_close(idle->pdata[0], NULL);
  g_ptr_array_remove_index(idle, 0);
  spin(500);
  g_autofree char *served = send_from(l, "127.0.0.1", req);
  assert_status(served, "HTTP/1.1 202");
  g_assert_cmpuint(device.calls, ==, 1);
  g_ptr_array_set_size(idle, 0);
  spin(200);
  g_free(device.last);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/panel-listener/routes", test_routes);
  g_test_add_func("/panel-listener/bad-setup", test_bad_setup);
  g_test_add_func("/panel-listener/connection-cap", test_connection_cap);
  return g_test_run();
}
