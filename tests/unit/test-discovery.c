/* Discovery as pure functions: TXT records (including hostile ones), eSCL URI
 * building with IPv6 scopes, merging entries of one device, CUPS probe
 * candidates. */
#include "backends/discovery-private.h"
#include "scand/base/error.h"

#include <curl/curl.h>
#include <string.h>

static void parse(const char *const *txt, ScandTxtInfo *info) {
  scand_discovery_txt_parse(txt, info);
}

/* The URL libcurl (the eSCL backend's parser) sees in an escl: URI: its host
 * and path must be what we meant. */
static void assert_curl_parts(const char *escl_uri, const char *host, const char *path) {
  g_assert_true(g_str_has_prefix(escl_uri, "escl:"));
  CURLU *u = curl_url();
  g_assert_cmpint(curl_url_set(u, CURLUPART_URL, escl_uri + 5, 0), ==, CURLUE_OK);
  char *h = NULL, *p = NULL, *q = NULL, *f = NULL, *user = NULL;
  g_assert_cmpint(curl_url_get(u, CURLUPART_HOST, &h, 0), ==, CURLUE_OK);
  g_assert_cmpint(curl_url_get(u, CURLUPART_PATH, &p, 0), ==, CURLUE_OK);
  g_assert_cmpstr(h, ==, host);
  g_assert_cmpstr(p, ==, path);
  g_assert_cmpint(curl_url_get(u, CURLUPART_QUERY, &q, 0), ==, CURLUE_NO_QUERY);
  g_assert_cmpint(curl_url_get(u, CURLUPART_FRAGMENT, &f, 0), ==, CURLUE_NO_FRAGMENT);
  g_assert_cmpint(curl_url_get(u, CURLUPART_USER, &user, 0), ==, CURLUE_NO_USER);
  curl_free(h);
  curl_free(p);
  curl_url_cleanup(u);
}

static void test_txt_typical(void) {
  const char *txt[] = { "txtvers=1",
                        "rs=eSCL",
                        "ty=HP LaserJet MFP M426fdn",
                        "note=2nd floor",
                        "UUID=urn:uuid:564E4333-4230-3636-3730-3C2AF4A1E4B1",
                        "is=platen,adf",
                        "cs=color,grayscale,binary",
                        "duplex=T",
                        "pdl=application/pdf,image/jpeg",
                        "representation=/images/printer.png",
                        NULL };
  ScandTxtInfo info;
  parse(txt, &info);
  g_assert_cmpstr(info.rs_path, ==, "/eSCL");
  g_assert_null(info.rs_problem);
  g_assert_cmpstr(info.ty, ==, "HP LaserJet MFP M426fdn");
  g_assert_cmpstr(info.note, ==, "2nd floor");
  g_assert_cmpstr(info.uuid, ==, "564e4333-4230-3636-3730-3c2af4a1e4b1");
  g_assert_cmpstr(info.pdl, ==, "application/pdf,image/jpeg");
  g_assert_cmpuint(info.sources, ==, SCAND_DISCOVERY_PLATEN | SCAND_DISCOVERY_FEEDER | SCAND_DISCOVERY_DUPLEX);
  g_assert_cmpuint(info.modes, ==, SCAND_DISCOVERY_COLOR | SCAND_DISCOVERY_GRAY | SCAND_DISCOVERY_LINEART);
  g_autofree char *s = scand_discovery_sources_to_string(info.sources);
  g_autofree char *m = scand_discovery_modes_to_string(info.modes);
  g_assert_cmpstr(s, ==, "platen, feeder, duplex");
  g_assert_cmpstr(m, ==, "color, gray, lineart");
  scand_txt_info_clear(&info);
}

static void test_txt_defaults(void) {
  ScandTxtInfo info;
  const char *none[] = { NULL };
  parse(none, &info);
  g_assert_cmpstr(info.rs_path, ==, "/eSCL"); /* absent rs = eSCL */
  g_assert_null(info.ty);
  g_assert_null(info.uuid);
  g_assert_cmpuint(info.sources, ==, 0);
  g_assert_cmpuint(info.modes, ==, 0);
  scand_txt_info_clear(&info);
  parse(NULL, &info);
  g_assert_cmpstr(info.rs_path, ==, "/eSCL");
  scand_txt_info_clear(&info);

  const char *empty_rs[] = { "rs=", "duplex=F", "is= Platen , ,ADF,camera", "cs=RGB", NULL };
  parse(empty_rs, &info);
  g_assert_cmpstr(info.rs_path, ==, ""); /* the device's root */
  g_assert_cmpuint(info.sources, ==, SCAND_DISCOVERY_PLATEN | SCAND_DISCOVERY_FEEDER);
  g_assert_cmpuint(info.modes, ==, SCAND_DISCOVERY_COLOR);
  scand_txt_info_clear(&info);

  /* RFC 6763 6.4: the first occurrence of a key counts; keys ignore case. */
  const char *dup[] = { "RS=/scan//eSCL/", "rs=evil", "Ty=First", "ty=Second", "flag", "=x", NULL };
  parse(dup, &info);
  g_assert_cmpstr(info.rs_path, ==, "/scan/eSCL");
  g_assert_cmpstr(info.ty, ==, "First");
  scand_txt_info_clear(&info);
}

static void test_txt_hostile(void) {
  ScandTxtInfo info;
  /* Path tricks are refused, not guessed around. */
  const char *bad_rs[] = { "../../etc", "eSCL/..", "./eSCL", "e\x01SCL", "eSCL\n", "\xff\xfe", NULL };
  for (guint i = 0; bad_rs[i]; i++) {
    g_autofree char *entry = g_strconcat("rs=", bad_rs[i], NULL);
    const char *txt[] = { entry, NULL };
    parse(txt, &info);
    g_assert_null(info.rs_path);
    g_assert_nonnull(info.rs_problem);
    g_assert_true(g_utf8_validate(info.rs_problem, -1, NULL));
    scand_txt_info_clear(&info);
  }
  g_autofree char *long_rs = g_strnfill(300, 'a');
  g_autoptr(GError) error = NULL;
  g_assert_null(scand_discovery_rs_to_path(long_rs, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);

  /* Characters that would change the URI's meaning are encoded, so host,
   * user, query and fragment stay ours. */
  struct {
    const char *rs, *path;
  } enc[] = {
    { "eSCL?x=1#frag", "/eSCL%3Fx%3D1%23frag" },
    { "a b@evil.example:80", "/a%20b%40evil.example%3A80" },
    { "%2e%2e/x", "/%252e%252e/x" },
    { "\\..\\x", "/%5C..%5Cx" },
    { "sc\xc3\xa4n", "/sc%C3%A4n" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(enc); i++) {
    g_autofree char *entry = g_strconcat("rs=", enc[i].rs, NULL);
    const char *txt[] = { entry, NULL };
    parse(txt, &info);
    g_assert_cmpstr(info.rs_path, ==, enc[i].path);
    g_autofree char *uri = scand_discovery_uri_build(FALSE, "192.168.1.20", NULL, 8080, info.rs_path, NULL);
    g_assert_nonnull(uri);
    g_assert_null(strpbrk(uri + strlen("escl:http://"), "?#@ \\"));
    assert_curl_parts(uri, "192.168.1.20", enc[i].path);
    scand_txt_info_clear(&info);
  }

  /* Text fields become printable single lines; bad UUIDs are dropped. */
  const char *txt[] = { "ty=Evil\x1b[2J\x1b]0;pwned\x07 MFP\nsecond line",
                        "note=\xff\xfe"
                        "floor",
                        "uuid=../../x",
                        "is="
                        "\x01,,,,platen,,,",
                        "cs=\xff",
                        "duplex=\x7f",
                        NULL };
  parse(txt, &info);
  g_assert_nonnull(info.ty);
  g_assert_null(strchr(info.ty, '\x1b'));
  g_assert_null(strchr(info.ty, '\n'));
  g_assert_null(strchr(info.ty, '\x07'));
  g_assert_true(g_str_has_prefix(info.ty, "Evil?[2J?]0;pwned? MFP?second line"));
  g_assert_true(g_utf8_validate(info.note, -1, NULL));
  g_assert_null(info.uuid);
  g_assert_cmpuint(info.sources, ==, SCAND_DISCOVERY_PLATEN);
  g_assert_cmpuint(info.modes, ==, 0);
  scand_txt_info_clear(&info);

  g_autofree char *huge = g_strnfill(100000, 'X');
  g_autofree char *huge_ty = g_strconcat("ty=", huge, NULL);
  const char *big[] = { huge_ty, NULL };
  parse(big, &info);
  g_assert_cmpuint(strlen(info.ty), <=, 255);
  scand_txt_info_clear(&info);
  scand_txt_info_clear(NULL);
}

static void test_uuid(void) {
  struct {
    const char *in, *out;
  } cases[] = {
    { "urn:uuid:564E4333-4230-3636-3730-3C2AF4A1E4B1", "564e4333-4230-3636-3730-3c2af4a1e4b1" },
    { "{564e4333-4230-3636-3730-3c2af4a1e4b1}", "564e4333-4230-3636-3730-3c2af4a1e4b1" },
    { "564e433342303636373 03c2af4a1e4b1", NULL },
    { "564e4333-4230-3636-3730", NULL },
    { "", NULL },
    { "urn:uuid:", NULL },
    { "zz4e4333-4230-3636-3730-3c2af4a1e4b1", NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *u = scand_discovery_uuid_normalize(cases[i].in);
    g_assert_cmpstr(u, ==, cases[i].out);
  }
  g_assert_null(scand_discovery_uuid_normalize(NULL));
}

static void test_uri_build(void) {
  struct {
    gboolean tls;
    const char *address, *ifname;
    guint port;
    const char *rs, *uri, *curl_host;
  } ok[] = {
    { FALSE, "192.168.1.20", NULL, 8080, "/eSCL", "escl:http://192.168.1.20:8080/eSCL", "192.168.1.20" },
    { TRUE, "192.168.1.20", "eth0", 443, "/eSCL", "escl:https://192.168.1.20:443/eSCL", "192.168.1.20" },
    { FALSE, "2001:DB8::1", "eth0", 80, "/eSCL", "escl:http://[2001:db8::1]:80/eSCL", "[2001:db8::1]" },
    { FALSE, "fe80::1", "eth0", 8080, "/eSCL", "escl:http://[fe80::1%25eth0]:8080/eSCL", "[fe80::1]" },
    { TRUE, "fe80::a:b", "wlp2s0", 443, "", "escl:https://[fe80::a:b%25wlp2s0]:443/", "[fe80::a:b]" },
    { FALSE, "::1", NULL, 631, "/eSCL", "escl:http://[::1]:631/eSCL", "[::1]" },
    { FALSE, "Printer-3.local", NULL, 80, "/eSCL", "escl:http://printer-3.local:80/eSCL", "printer-3.local" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(ok); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree char *uri =
        scand_discovery_uri_build(ok[i].tls, ok[i].address, ok[i].ifname, ok[i].port, ok[i].rs, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(uri, ==, ok[i].uri);
    assert_curl_parts(uri, ok[i].curl_host, *ok[i].rs ? ok[i].rs : "/");
  }
  /* The zone survives libcurl's parsing. */
  CURLU *u = curl_url();
  g_assert_cmpint(curl_url_set(u, CURLUPART_URL, "http://[fe80::1%25eth0]:8080/eSCL", 0), ==, CURLUE_OK);
  char *zone = NULL;
  g_assert_cmpint(curl_url_get(u, CURLUPART_ZONEID, &zone, 0), ==, CURLUE_OK);
  g_assert_cmpstr(zone, ==, "eth0");
  curl_free(zone);
  curl_url_cleanup(u);

  struct {
    const char *address, *ifname;
    guint port;
    const char *rs;
  } bad[] = {
    { "fe80::1", NULL, 80, "/eSCL" },        /* link-local needs its interface */
    { "fe80::1", "eth0/../x", 80, "/eSCL" }, /* hostile interface name */
    { "fe80::1", "averyveryverylongname0", 80, "/eSCL" },
    { "192.168.1.20", NULL, 0, "/eSCL" },
    { "192.168.1.20", NULL, 70000, "/eSCL" },
    { "evil.example/x?", NULL, 80, "/eSCL" },
    { "user@host", NULL, 80, "/eSCL" },
    { "", NULL, 80, "/eSCL" },
    { NULL, NULL, 80, "/eSCL" },
    { "192.168.1.20", NULL, 80, NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree char *uri =
        scand_discovery_uri_build(FALSE, bad[i].address, bad[i].ifname, bad[i].port, bad[i].rs, &error);
    g_assert_null(uri);
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  }
}

static ScandDiscoveredDevice *dnssd_dev(const char *name, const char *host, const char *uuid, const char *uri,
                                        guint sources, guint modes) {
  ScandDiscoveredDevice *d = scand_discovered_device_new();
  d->name = g_strdup(name);
  d->host = g_strdup(host);
  d->uuid = g_strdup(uuid);
  d->sources = sources;
  d->modes = modes;
  scand_discovered_device_add_uri(d, uri);
  scand_discovered_device_add_origin(d, "dns-sd");
  return d;
}

static void test_merge(void) {
  g_autoptr(GPtrArray) devs = g_ptr_array_new_with_free_func((GDestroyNotify) scand_discovered_device_free);
  const char *u1 = "564e4333-4230-3636-3730-3c2af4a1e4b1", *u2 = "11111111-2222-3333-4444-555555555555";
  /* One MFP seen four ways (http/https over IPv4/IPv6), plus sane-airscan. */
  g_ptr_array_add(devs, dnssd_dev("Office MFP", "mfp.local", u1, "escl:http://192.168.1.20:80/eSCL",
                                  SCAND_DISCOVERY_PLATEN, SCAND_DISCOVERY_COLOR));
  g_ptr_array_add(devs, scand_discovery_from_sane("airscan:e0:Office MFP", "HP", "LaserJet"));
  g_ptr_array_add(devs, dnssd_dev("Office MFP", "mfp.local", u1, "escl:https://192.168.1.20:443/eSCL",
                                  SCAND_DISCOVERY_FEEDER, SCAND_DISCOVERY_GRAY));
  g_ptr_array_add(devs, dnssd_dev("Office MFP", "mfp.local", u1, "escl:http://[fe80::1%25eth0]:80/eSCL", 0, 0));
  g_ptr_array_add(devs, dnssd_dev("Office MFP", "mfp.local", u1, "escl:http://[2001:db8::20]:80/eSCL", 0, 0));
  g_ptr_array_add(devs, dnssd_dev("Office MFP", "mfp.local", u1, "escl:http://192.168.1.20:80/eSCL", 0, 0));
  /* A print server with two scanners: same host, different UUIDs: two devices. */
  g_ptr_array_add(devs, dnssd_dev("Scan A", "server.local", u2, "escl:http://192.168.1.30:80/a", 0, 0));
  g_ptr_array_add(devs, dnssd_dev("Scan B", "server.local", "22222222-2222-3333-4444-555555555555",
                                  "escl:http://192.168.1.30:80/b", 0, 0));
  /* A CUPS printer without UUID on the same host as Scan A joins it. */
  ScandDiscoveredDevice *cups = scand_discovered_device_new();
  cups->name = g_strdup("queue_a");
  cups->host = g_strdup("SERVER.local.");
  scand_discovered_device_add_uri(cups, "escl:http://server.local:80/eSCL");
  scand_discovered_device_add_origin(cups, "cups:queue_a");
  g_ptr_array_add(devs, cups);
  /* A local SANE device stays alone. */
  g_ptr_array_add(devs, scand_discovery_from_sane("test:0", "Noname", "frontend-tester"));

  scand_discovery_merge(devs);
  g_assert_cmpuint(devs->len, ==, 4);
  ScandDiscoveredDevice *mfp = devs->pdata[0];
  g_assert_cmpstr(mfp->name, ==, "Office MFP");
  g_assert_cmpstr(mfp->uuid, ==, u1);
  g_assert_cmpuint(mfp->uris->len, ==, 5);
  g_assert_cmpstr(mfp->uris->pdata[0], ==, "escl:https://192.168.1.20:443/eSCL");
  g_assert_cmpstr(mfp->uris->pdata[1], ==, "escl:http://192.168.1.20:80/eSCL");
  g_assert_cmpstr(mfp->uris->pdata[2], ==, "escl:http://[2001:db8::20]:80/eSCL");
  g_assert_cmpstr(mfp->uris->pdata[3], ==, "escl:http://[fe80::1%25eth0]:80/eSCL");
  g_assert_cmpstr(mfp->uris->pdata[4], ==, "sane:airscan:e0:Office MFP");
  g_assert_cmpstr(mfp->model, ==, "HP LaserJet");
  g_assert_cmpuint(mfp->sources, ==, SCAND_DISCOVERY_PLATEN | SCAND_DISCOVERY_FEEDER);
  g_assert_cmpuint(mfp->modes, ==, SCAND_DISCOVERY_COLOR | SCAND_DISCOVERY_GRAY);
  g_assert_cmpuint(mfp->origins->len, ==, 2);

  ScandDiscoveredDevice *a = devs->pdata[1], *b = devs->pdata[2], *t = devs->pdata[3];
  g_assert_cmpstr(a->name, ==, "Scan A");
  g_assert_cmpuint(a->uris->len, ==, 2);
  g_assert_cmpstr(a->uris->pdata[1], ==, "escl:http://server.local:80/eSCL");
  g_assert_cmpstr(b->name, ==, "Scan B");
  g_assert_cmpuint(b->uris->len, ==, 1);
  g_assert_cmpstr(t->name, ==, "test:0");
  g_assert_cmpstr(t->uris->pdata[0], ==, "sane:test:0");

  /* Transitive: B (no uuid) joins A by host, then C by the uuid A has. */
  g_autoptr(GPtrArray) t2 = g_ptr_array_new_with_free_func((GDestroyNotify) scand_discovered_device_free);
  g_ptr_array_add(t2, dnssd_dev("X", "h1", NULL, "escl:http://10.0.0.1:80/eSCL", 0, 0));
  g_ptr_array_add(t2, dnssd_dev("Y", "h2", u2, "escl:http://10.0.0.2:80/eSCL", 0, 0));
  g_ptr_array_add(t2, dnssd_dev("X", "h1", u2, "escl:https://10.0.0.1:443/eSCL", 0, 0));
  scand_discovery_merge(t2);
  g_assert_cmpuint(t2->len, ==, 1);
  g_assert_cmpuint(((ScandDiscoveredDevice *) t2->pdata[0])->uris->len, ==, 3);
  scand_discovered_device_free(NULL);
}

static void test_apply_caps(void) {
  EsclCaps caps = { 0 };
  caps.make_and_model = (char *) "Sim\x1b MFP";
  caps.uuid = (char *) "urn:uuid:11111111-2222-3333-4444-555555555555";
  caps.inputs[ESCL_INPUT_PLATEN].present = TRUE;
  caps.inputs[ESCL_INPUT_PLATEN].color_modes = ESCL_COLOR_RGB24 | ESCL_COLOR_GRAY8;
  caps.inputs[ESCL_INPUT_ADF_DUPLEX].present = TRUE;
  caps.inputs[ESCL_INPUT_ADF_DUPLEX].color_modes = ESCL_COLOR_BW1;
  caps.inputs[ESCL_INPUT_ADF_SIMPLEX].color_modes = ESCL_COLOR_RGB48; /* not present: ignored */
  g_autoptr(ScandDiscoveredDevice) d = scand_discovered_device_new();
  scand_discovery_apply_caps(d, &caps);
  g_assert_cmpuint(d->sources, ==, SCAND_DISCOVERY_PLATEN | SCAND_DISCOVERY_FEEDER | SCAND_DISCOVERY_DUPLEX);
  g_assert_cmpuint(d->modes, ==, SCAND_DISCOVERY_COLOR | SCAND_DISCOVERY_GRAY | SCAND_DISCOVERY_LINEART);
  g_assert_cmpstr(d->model, ==, "Sim? MFP");
  g_assert_cmpstr(d->uuid, ==, "11111111-2222-3333-4444-555555555555");
}

static void test_sane_names(void) {
  g_autoptr(ScandDiscoveredDevice) a = scand_discovery_from_sane("airscan:w1:Brother MFC", "Brother", "MFC-L2710DW");
  g_assert_cmpstr(a->name, ==, "Brother MFC");
  g_assert_cmpstr(a->model, ==, "Brother MFC-L2710DW");
  g_assert_cmpstr(a->uris->pdata[0], ==, "sane:airscan:w1:Brother MFC");
  g_assert_cmpstr(a->origins->pdata[0], ==, "sane-airscan");
  g_autoptr(ScandDiscoveredDevice) b = scand_discovery_from_sane("test:1", NULL, "frontend-tester");
  g_assert_cmpstr(b->name, ==, "test:1");
  g_assert_cmpstr(b->model, ==, "frontend-tester");
  g_assert_cmpstr(b->origins->pdata[0], ==, "sane");
}

/* A WSD scanner seen by WS-Discovery merges with its eSCL side by UUID, and
 * with the entry sane-airscan makes of it (named by its model). */
static void test_wsd_merge(void) {
  g_autoptr(GPtrArray) devs = g_ptr_array_new_with_free_func((GDestroyNotify) scand_discovered_device_free);
  ScandDiscoveredDevice *w = scand_discovered_device_new();
  w->name = g_strdup("2nd floor");
  w->model = g_strdup("Brother MFC-L2710DW");
  w->uuid = g_strdup("4509a320-00a0-008f-00b6-002507510eca");
  w->host = g_strdup("10.0.0.7");
  scand_discovered_device_add_uri(w, "wsd:http://10.0.0.7:5358/WSDScanner");
  scand_discovered_device_add_origin(w, "ws-discovery");
  ScandDiscoveredDevice *e = scand_discovered_device_new();
  e->name = g_strdup("Brother MFC-L2710DW");
  e->uuid = g_strdup("4509a320-00a0-008f-00b6-002507510eca");
  scand_discovered_device_add_uri(e, "escl:http://10.0.0.7:80/eSCL");
  scand_discovered_device_add_origin(e, "dns-sd");
  g_ptr_array_add(devs, w);
  g_ptr_array_add(devs, e);
  g_ptr_array_add(devs, scand_discovery_from_sane("airscan:w0:Brother MFC-L2710DW", NULL, NULL));
  g_ptr_array_add(devs, scand_discovery_from_sane("airscan:w1:Other", NULL, NULL));
  scand_discovery_merge(devs);
  g_assert_cmpuint(devs->len, ==, 2);
  ScandDiscoveredDevice *m = devs->pdata[0];
  g_assert_cmpstr(m->name, ==, "Brother MFC-L2710DW"); /* the DNS-SD name wins */
  g_assert_cmpuint(m->uris->len, ==, 3);
  g_assert_cmpstr(m->uris->pdata[0], ==, "escl:http://10.0.0.7:80/eSCL"); /* eSCL before WSD */
  g_assert_cmpstr(m->uris->pdata[1], ==, "wsd:http://10.0.0.7:5358/WSDScanner");
  g_assert_cmpstr(m->uris->pdata[2], ==, "sane:airscan:w0:Brother MFC-L2710DW");
}

static void test_cups_candidates(void) {
  struct {
    const char *uri;
    const char *want[4];
  } cases[] = {
    { "ipp://10.0.0.5:631/ipp/print",
      { "http://10.0.0.5:631/eSCL", "http://10.0.0.5:80/eSCL", "https://10.0.0.5:443/eSCL" } },
    { "ipps://mfp.local/ipp/print",
      { "https://mfp.local:631/eSCL", "http://mfp.local:80/eSCL", "https://mfp.local:443/eSCL" } },
    { "http://127.0.0.1:60000/ipp/print",
      { "http://127.0.0.1:60000/eSCL", "http://127.0.0.1:80/eSCL", "https://127.0.0.1:443/eSCL" } },
    { "https://mfp/ipp", { "https://mfp:443/eSCL", "http://mfp:80/eSCL" } },
    { "socket://10.0.0.6:9100", { "http://10.0.0.6:80/eSCL", "https://10.0.0.6:443/eSCL" } },
    { "ipp://[2001:db8::5]:631/ipp/print",
      { "http://[2001:db8::5]:631/eSCL", "http://[2001:db8::5]:80/eSCL", "https://[2001:db8::5]:443/eSCL" } },
    { "usb://HP/LaserJet?serial=1", { NULL } },
    { "dnssd://HP%20LaserJet._ipp._tcp.local/?uuid=1", { NULL } },
    { "file:///dev/null", { NULL } },
    /* Credentials in a device URI are not copied into probes. */
    { "ipp://user:secret@x/", { "http://x:631/eSCL", "http://x:80/eSCL", "https://x:443/eSCL" } },
    { "ipp://x%2fy/", { NULL } },
    { "not a uri", { NULL } },
    { "", { NULL } },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_auto(GStrv) got = scand_discovery_cups_candidates(cases[i].uri);
    g_assert_nonnull(got);
    g_assert_cmpstrv(got, cases[i].want);
  }
  g_auto(GStrv) none = scand_discovery_cups_candidates(NULL);
  g_assert_cmpuint(g_strv_length(none), ==, 0);
}

static void test_cups_uuid(void) {
  struct {
    const char *uri, *uuid;
  } cases[] = {
    { "dnssd://HP%20LaserJet%20MFP._ipp._tcp.local/?uuid=564E4333-4230-3636-3730-3C2AF4A1E4B1",
      "564e4333-4230-3636-3730-3c2af4a1e4b1" },
    { "dnssd://X._ipps._tcp.local/cups?snmp=false&UUID=urn%3Auuid%3A11111111-2222-3333-4444-555555555555",
      "11111111-2222-3333-4444-555555555555" },
    { "dnssd://X._ipp._tcp.local/?uuid=not-a-uuid", NULL },
    { "dnssd://X._ipp._tcp.local/?uuid=%00%01", NULL },
    { "dnssd://X._ipp._tcp.local/", NULL },
    { "ipp://10.0.0.5/?uuid=564e4333-4230-3636-3730-3c2af4a1e4b1", NULL },
    { NULL, NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *u = scand_discovery_cups_uuid(cases[i].uri);
    g_assert_cmpstr(u, ==, cases[i].uuid);
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/discovery/txt/typical", test_txt_typical);
  g_test_add_func("/discovery/txt/defaults", test_txt_defaults);
  g_test_add_func("/discovery/txt/hostile", test_txt_hostile);
  g_test_add_func("/discovery/uuid", test_uuid);
  g_test_add_func("/discovery/uri-build", test_uri_build);
  g_test_add_func("/discovery/merge", test_merge);
  g_test_add_func("/discovery/apply-caps", test_apply_caps);
  g_test_add_func("/discovery/sane-names", test_sane_names);
  g_test_add_func("/discovery/wsd-merge", test_wsd_merge);
  g_test_add_func("/discovery/cups-candidates", test_cups_candidates);
  g_test_add_func("/discovery/cups-uuid", test_cups_uuid);
  return g_test_run();
}
