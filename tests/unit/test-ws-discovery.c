/* WS-Discovery as pure functions (backends/ws-discovery-xml.h): messages
 * shaped like real devices' and Debian's wsdd's (tests/unit/data/ws-discovery)
 * decoded, requests read back, URLs made usable, the conversion into a
 * `scand list` entry, and malformed messages refused with one line. */
#include "backends/discovery-private.h"
#include "backends/ws-discovery-xml.h"
#include "scand/base/error.h"

#include <string.h>

static char *load(const char *name, gsize *len) {
  g_autofree char *path =
      g_build_filename(g_getenv("SCAND_SRCDIR"), "tests", "unit", "data", "ws-discovery", name, NULL);
  char *data = NULL;
  g_assert_true(g_file_get_contents(path, &data, len, NULL));
  return data;
}

static GPtrArray *decode_file(const char *name, const char *ifname) {
  gsize len;
  g_autofree char *xml = load(name, &len);
  g_autoptr(GError) error = NULL;
  GPtrArray *msgs = wsdd_message_decode(xml, len, ifname, &error);
  g_assert_no_error(error);
  return msgs;
}

/* wsdd's ProbeMatch: a computer, no XAddrs (a Resolve is needed). */
static void test_probe_match_without_xaddrs(void) {
  g_autoptr(GPtrArray) msgs = decode_file("probe-matches-wsdd.xml", "wsd0");
  g_assert_cmpuint(msgs->len, ==, 1);
  ScandWsddMessage *m = msgs->pdata[0];
  g_assert_cmpint(m->kind, ==, SCAND_WSDD_PROBE_MATCH);
  g_assert_cmpstr(m->endpoint, ==, "urn:uuid:11111111-2222-4333-8444-555555555555");
  g_assert_cmpstr(m->uuid, ==, "11111111-2222-4333-8444-555555555555");
  g_assert_false(m->scanner);
  g_assert_false(m->printer);
  g_assert_cmpuint(g_strv_length(m->xaddrs), ==, 0);
  g_assert_cmpstr(m->relates_to, ==, "urn:uuid:aaaaaaaa-0000-4000-8000-000000000001");
  g_assert_cmpuint(m->instance_id, ==, 1733350535);
  g_assert_cmpuint(m->message_number, ==, 3);
  g_assert_cmpuint(m->metadata_version, ==, 1);
  g_assert_cmpstr(m->interface, ==, "wsd0");
}

/* An MFP's Hello: braced upper-case UUID, both types, usable XAddrs only,
 * the link-local one with its zone. */
static void test_hello_mfp(void) {
  g_autoptr(GPtrArray) msgs = decode_file("hello-mfp.xml", "eth1");
  ScandWsddMessage *m = msgs->pdata[0];
  g_assert_cmpint(m->kind, ==, SCAND_WSDD_HELLO);
  g_assert_cmpstr(m->uuid, ==, "4509a320-00a0-008f-00b6-002507510eca");
  g_assert_true(m->scanner);
  g_assert_true(m->printer);
  g_assert_cmpuint(g_strv_length(m->xaddrs), ==, 2);
  g_assert_cmpstr(m->xaddrs[0], ==, "http://192.168.1.102:5358/WSDDevice");
  g_assert_cmpstr(m->xaddrs[1], ==, "http://[fe80::225:7ff:fe51:eca%25eth1]:5358/WSDDevice");
  g_assert_cmpuint(m->instance_id, ==, 42);
  g_assert_cmpuint(m->metadata_version, ==, 7);
}

static void test_metadata_mfp(void) {
  gsize len;
  g_autofree char *xml = load("metadata-mfp.xml", &len);
  WsddMetadata md;
  g_autoptr(GError) error = NULL;
  g_assert_true(wsdd_metadata_decode(xml, len, "eth1", &md, &error));
  g_assert_cmpstr(md.friendly_name, ==, "Office MFP (2nd floor)");
  g_assert_cmpstr(md.manufacturer, ==, "Brother");
  g_assert_cmpstr(md.model, ==, "MFC-L2710DW series");
  g_assert_cmpstr(md.serial, ==, "E74512K0N123456");
  g_assert_cmpuint(md.scan_urls->len, ==, 2); /* the printer service is not a scanner */
  g_assert_cmpstr(md.scan_urls->pdata[0], ==, "http://192.168.1.102:5358/WSDScanner");
  g_assert_cmpstr(md.scan_urls->pdata[1], ==, "https://[fe80::225:7ff:fe51:eca%25eth1]:5359/WSDScanner");

  /* As a `scand list` entry. */
  ScandWsddDevice d = {
    .endpoint = "urn:uuid:4509a320-00a0-008f-00b6-002507510eca",
    .uuid = "4509a320-00a0-008f-00b6-002507510eca",
    .friendly_name = md.friendly_name,
    .manufacturer = md.manufacturer,
    .model = md.model,
    .scan_urls = md.scan_urls,
  };
  g_autoptr(ScandDiscoveredDevice) dev = scand_discovery_from_wsdd(&d);
  g_assert_cmpstr(dev->name, ==, "Office MFP (2nd floor)");
  g_assert_cmpstr(dev->model, ==, "Brother MFC-L2710DW series");
  g_assert_cmpstr(dev->uuid, ==, "4509a320-00a0-008f-00b6-002507510eca");
  g_assert_cmpstr(dev->host, ==, "192.168.1.102");
  g_assert_cmpuint(dev->uris->len, ==, 2);
  g_assert_cmpstr(dev->uris->pdata[0], ==, "wsd:http://192.168.1.102:5358/WSDScanner");
  g_assert_cmpstr(dev->origins->pdata[0], ==, "ws-discovery");
  wsdd_metadata_clear(&md);
}

static void test_requests(void) {
  g_autofree char *probe = wsdd_probe_build("urn:uuid:p1");
  g_assert_nonnull(strstr(probe, "<wsd:Types>wsdp:Device</wsd:Types>"));
  g_assert_nonnull(strstr(probe, "<wsa:MessageID>urn:uuid:p1</wsa:MessageID>"));
  g_assert_nonnull(strstr(probe, "<wsa:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</wsa:To>"));
  g_autofree char *resolve = wsdd_resolve_build("urn:uuid:a&b", "urn:uuid:r1");
  g_assert_nonnull(strstr(resolve, "<wsa:Address>urn:uuid:a&amp;b</wsa:Address>"));
  g_assert_nonnull(strstr(resolve, "/discovery/Resolve</wsa:Action>"));
  g_autofree char *get = wsdd_get_build("urn:uuid:dev", "urn:uuid:g1");
  g_assert_nonnull(strstr(get, "<wsa:To>urn:uuid:dev</wsa:To>"));
  g_assert_nonnull(strstr(get, "/transfer/Get</wsa:Action>"));
  g_assert_nonnull(strstr(get, "role/anonymous"));
}

static void test_url_usable(void) {
  static const struct {
    const char *url, *ifname, *want;
  } cases[] = {
    { "http://10.0.0.2:80/x", "eth0", "http://10.0.0.2:80/x" },
    { "https://mfp.local/x", NULL, "https://mfp.local/x" },
    { "http://[fe80::1]:5358/d", "eth0", "http://[fe80::1%25eth0]:5358/d" },
    { "http://[fe80::1%25eth9]:5358/d", "eth0", "http://[fe80::1%25eth9]:5358/d" },
    { "http://[2001:db8::1]/d", "eth0", "http://[2001:db8::1]/d" },
    { "http://[fe80::1]/d", "bad/name", "http://[fe80::1]/d" },
    { "ftp://10.0.0.2/x", NULL, NULL },
    { "http:///x", NULL, NULL },
    { "http://a b/x", NULL, NULL },
    { "http://host/\x01", NULL, NULL },
    { "/relative", NULL, NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *got = wsdd_url_usable(cases[i].url, cases[i].ifname);
    if (g_strcmp0(got, cases[i].want) != 0)
      g_error("case %u: got %s, expected %s", i, got ? got : "NULL", cases[i].want ? cases[i].want : "NULL");
  }
}

static void test_refusals(void) {
  static const char *const cases[][2] = {
    { "", "empty" },
    { "<x/>", "not a SOAP envelope" },
    { "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"><s:Body><x/></s:Body></s:Envelope>",
      "not a message scand reads" },
    { "<s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "
      "xmlns:d=\"http://schemas.xmlsoap.org/ws/2005/04/discovery\"><s:Body><d:Hello/></s:Body></s:Envelope>",
      "no endpoint address" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(GPtrArray) msgs = wsdd_message_decode(cases[i][0], strlen(cases[i][0]), NULL, &error);
    g_assert_null(msgs);
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
    if (!strstr(error->message, cases[i][1]))
      g_error("case %u: \"%s\" lacks \"%s\"", i, error->message, cases[i][1]);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/ws-discovery/probe-match-without-xaddrs", test_probe_match_without_xaddrs);
  g_test_add_func("/ws-discovery/hello-mfp", test_hello_mfp);
  g_test_add_func("/ws-discovery/metadata-mfp", test_metadata_mfp);
  g_test_add_func("/ws-discovery/requests", test_requests);
  g_test_add_func("/ws-discovery/url-usable", test_url_usable);
  g_test_add_func("/ws-discovery/refusals", test_refusals);
  return g_test_run();
}
