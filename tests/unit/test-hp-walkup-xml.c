/* HP walk-up messages as pure functions, against documents shaped like the
 * ones real devices send (WalkupScanToComp on a LaserJet, WalkupScan on an
 * OfficeJet 6500; node-hp-scan-to's recorded exchanges): destination lists
 * and single destinations with the panel's choice, event tables with
 * relative and absolute resource URIs, the WalkupScanToComp event, ETags,
 * and hostile input (DTDs, wrong roots, truncation). */
#include "backends/hp-walkup-xml.h"
#include "scand/base/error.h"

#include <string.h>

#define NS_WUS "http://www.hp.com/schemas/imaging/con/ledm/walkupscan/2010/09/28"
#define NS_WUS_OLD "http://www.hp.com/schemas/imaging/con/rest/walkupscan/2009/09/21"
#define NS_DD "http://www.hp.com/schemas/imaging/con/dictionaries/1.0/"
#define NS_DD3 "http://www.hp.com/schemas/imaging/con/dictionaries/2009/04/06"
#define NS_EV "http://www.hp.com/schemas/imaging/con/ledm/events/2007/09/16"

static const char comp_list[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!---->\n"
    "<wus:WalkupScanToCompDestinations xmlns:wus=\"" NS_WUS "\" xmlns:dd=\"" NS_DD "\" xmlns:dd3=\"" NS_DD3 "\">\n"
    "  <wus:WalkupScanToCompDestination>\n"
    "    <dd:ResourceURI>/WalkupScanToComp/WalkupScanToCompDestinations/4ad05d8e-20e8-4b8c</dd:ResourceURI>\n"
    "    <dd:Name>8d170beb5887</dd:Name>\n"
    "    <dd3:Hostname>8d170beb5887</dd3:Hostname>\n"
    "    <wus:LinkType>Network</wus:LinkType>\n"
    "  </wus:WalkupScanToCompDestination>\n"
    "  <wus:WalkupScanToCompDestination>\n"
    "    <dd:Name>no resource uri: skipped</dd:Name>\n"
    "  </wus:WalkupScanToCompDestination>\n"
    "  <wus:WalkupScanToCompDestination>\n"
    "    <dd:ResourceURI>/WalkupScanToComp/WalkupScanToCompDestinations/second</dd:ResourceURI>\n"
    "    <dd:Name>Finance &amp; Co</dd:Name>\n"
    "    <dd3:Hostname>pc</dd3:Hostname>\n"
    "  </wus:WalkupScanToCompDestination>\n"
    "</wus:WalkupScanToCompDestinations>\n";

static const char comp_one_chosen[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<wus:WalkupScanToCompDestination xmlns:dd=\"" NS_DD "\" xmlns:dd3=\"" NS_DD3
    "\" xmlns:scantype=\"http://www.hp.com/schemas/imaging/con/ledm/scantype/2008/03/17\" xmlns:wus=\"" NS_WUS "\">\n"
    "  <dd:ResourceURI>/WalkupScanToComp/WalkupScanToCompDestinations/1c881fde</dd:ResourceURI>\n"
    "  <dd:Name>FIXE</dd:Name>\n"
    "  <dd3:Hostname>FIXE</dd3:Hostname>\n"
    "  <wus:LinkType>Network</wus:LinkType>\n"
    "  <wus:WalkupScanToCompSettings>\n"
    "    <scantype:ScanSettings><dd:ScanPlexMode>Duplex</dd:ScanPlexMode></scantype:ScanSettings>\n"
    "    <wus:Shortcut>SaveDocument1</wus:Shortcut>\n"
    "  </wus:WalkupScanToCompSettings>\n"
    "</wus:WalkupScanToCompDestination>\n";

/* The old generation answers a GET of one destination with a list of one. */
static const char legacy_one_chosen[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<wus:WalkupScanDestinations xmlns:dd=\"" NS_DD "\" xmlns:dd3=\"" NS_DD3
    "\" xmlns:scantype=\"http://www.hp.com/schemas/imaging/con/ledm/scantype/2008/03/17\" xmlns:wus=\"" NS_WUS_OLD
    "\">\n"
    "\t<wus:WalkupScanDestination>\n"
    "\t\t<dd:ResourceURI>http://192.168.1.7:8080/WalkupScan/WalkupScanDestinations/1cb3125d</dd:ResourceURI>\n"
    "\t\t<dd:Name>LAPTOP-BSHRTBV8</dd:Name>\n"
    "\t\t<dd3:Hostname>LAPTOP-BSHRTBV8</dd3:Hostname>\n"
    "\t\t<wus:LinkType>Network</wus:LinkType>\n"
    "\t\t<wus:WalkupScanSettings>\n"
    "\t\t\t<scantype:ScanSettings><dd:ScanPlexMode>Simplex</dd:ScanPlexMode></scantype:ScanSettings>\n"
    "\t\t\t<wus:Shortcut>SavePDF</wus:Shortcut>\n"
    "\t\t</wus:WalkupScanSettings>\n"
    "\t</wus:WalkupScanDestination>\n"
    "</wus:WalkupScanDestinations>\n";

static const char comp_table[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<!-- THIS DATA SUBJECT TO DISCLAIMER(S) INCLUDED WITH THE PRODUCT OF ORIGIN. -->\n"
    "<ev:EventTable xmlns:ev=\"" NS_EV "\" xmlns:dd=\"" NS_DD "\">\n"
    "  <dd:Version><dd:Revision>SVN.3295</dd:Revision></dd:Version>\n"
    "  <ev:Event><dd:UnqualifiedEventCategory>DeviceCapabilitiesChanged</dd:UnqualifiedEventCategory>"
    "<dd:AgingStamp>1-16</dd:AgingStamp></ev:Event>\n"
    "  <ev:Event><dd:UnqualifiedEventCategory>AlertTableChanged</dd:UnqualifiedEventCategory>"
    "<dd:AgingStamp>10-123</dd:AgingStamp><ev:Payload><dd:ResourceURI>/DevMgmt/ProductStatusDyn.xml"
    "</dd:ResourceURI><dd:ResourceType>ledm:hpLedmProductStatusDyn</dd:ResourceType></ev:Payload></ev:Event>\n"
    "  <ev:Event><dd:UnqualifiedEventCategory>ScanEvent</dd:UnqualifiedEventCategory>"
    "<dd:AgingStamp>10-457</dd:AgingStamp>\n"
    "    <ev:Payload><dd:ResourceURI>/WalkupScanToComp/WalkupScanToCompDestinations/ab60a563</dd:ResourceURI>"
    "<dd:ResourceType>wus:WalkupScanToCompDestination</dd:ResourceType></ev:Payload>\n"
    "    <ev:Payload><dd:ResourceURI>/WalkupScanToComp/WalkupScanToCompEvent</dd:ResourceURI>"
    "<dd:ResourceType>wus:WalkupScanToCompEvent</dd:ResourceType></ev:Payload>\n"
    "  </ev:Event>\n"
    "  <ev:Event><dd:AgingStamp>10-458</dd:AgingStamp></ev:Event>\n"
    "</ev:EventTable>\n";

static const char legacy_table[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ev:EventTable xmlns:ev=\"" NS_EV "\" xmlns:dd=\"" NS_DD "\">\n"
    "  <ev:Event><dd:UnqualifiedEventCategory>PowerUpEvent</dd:UnqualifiedEventCategory>"
    "<dd:AgingStamp>163-1</dd:AgingStamp></ev:Event>\n"
    "  <ev:Event><dd:UnqualifiedEventCategory>ScanEvent</dd:UnqualifiedEventCategory>"
    "<dd:AgingStamp>164-12</dd:AgingStamp><ev:Payload>"
    "<dd:ResourceURI>http://192.168.1.7:8080/WalkupScan/WalkupScanDestinations/1cb3125d</dd:ResourceURI>"
    "<dd:ResourceType>hpCnxWalkupScanDestinations</dd:ResourceType></ev:Payload></ev:Event>\n"
    "</ev:EventTable>\n";

static void test_destinations_list(void) {
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(hp_walkup_destinations_decode(comp_list, strlen(comp_list), &list, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(list->len, ==, 2);
  HpWalkupDestination *a = list->pdata[0], *b = list->pdata[1];
  g_assert_cmpstr(a->uri, ==, "/WalkupScanToComp/WalkupScanToCompDestinations/4ad05d8e-20e8-4b8c");
  g_assert_cmpstr(a->name, ==, "8d170beb5887");
  g_assert_cmpstr(a->hostname, ==, "8d170beb5887");
  g_assert_null(a->shortcut);
  g_assert_cmpint(a->duplex, ==, -1);
  g_assert_cmpstr(b->name, ==, "Finance & Co");
}

static void test_destination_chosen(void) {
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(hp_walkup_destinations_decode(comp_one_chosen, strlen(comp_one_chosen), &list, &error));
  g_assert_cmpuint(list->len, ==, 1);
  HpWalkupDestination *d = list->pdata[0];
  g_assert_cmpstr(d->name, ==, "FIXE");
  g_assert_cmpstr(d->shortcut, ==, "SaveDocument1");
  g_assert_cmpint(d->duplex, ==, 1);
  g_clear_pointer(&list, g_ptr_array_unref);
  g_assert_true(hp_walkup_destinations_decode(legacy_one_chosen, strlen(legacy_one_chosen), &list, &error));
  g_assert_cmpuint(list->len, ==, 1);
  d = list->pdata[0];
  g_assert_cmpstr(d->uri, ==, "http://192.168.1.7:8080/WalkupScan/WalkupScanDestinations/1cb3125d");
  g_assert_cmpstr(d->shortcut, ==, "SavePDF");
  g_assert_cmpint(d->duplex, ==, 0);
}

static void test_event_tables(void) {
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(hp_event_table_decode(comp_table, strlen(comp_table), &events, &error));
  g_assert_no_error(error);
  /* The last event has no category: dropped. */
  g_assert_cmpuint(events->len, ==, 3);
  HpEvent *scan = events->pdata[2];
  g_assert_cmpstr(scan->category, ==, "ScanEvent");
  g_assert_cmpstr(scan->aging_stamp, ==, "10-457");
  g_assert_cmpstr(scan->destination_uri, ==, "/WalkupScanToComp/WalkupScanToCompDestinations/ab60a563");
  g_assert_cmpstr(scan->comp_event_uri, ==, "/WalkupScanToComp/WalkupScanToCompEvent");
  HpEvent *alert = events->pdata[1];
  g_assert_null(alert->destination_uri);
  g_assert_null(alert->comp_event_uri);
  g_clear_pointer(&events, g_ptr_array_unref);

  g_assert_true(hp_event_table_decode(legacy_table, strlen(legacy_table), &events, &error));
  g_assert_cmpuint(events->len, ==, 2);
  HpEvent *old = events->pdata[1];
  g_assert_cmpstr(old->destination_uri, ==, "http://192.168.1.7:8080/WalkupScan/WalkupScanDestinations/1cb3125d");
  g_assert_null(old->comp_event_uri);
  /* The event's absolute URI names the destination the list gave as a path. */
  g_assert_true(hp_walkup_uri_same(old->destination_uri, "/WalkupScan/WalkupScanDestinations/1cb3125d"));
  g_assert_false(hp_walkup_uri_same(old->destination_uri, "/WalkupScan/WalkupScanDestinations/1cb3125"));
}

static void test_comp_event(void) {
  static const struct {
    const char *word;
    HpCompEvent event;
  } rows[] = {
    { "HostSelected", HP_COMP_EVENT_HOST_SELECTED },
    { "ScanRequested", HP_COMP_EVENT_SCAN_REQUESTED },
    { "ScanNewPageRequested", HP_COMP_EVENT_SCAN_NEW_PAGE_REQUESTED },
    { "ScanPagesComplete", HP_COMP_EVENT_SCAN_PAGES_COMPLETE },
    { "SomethingNew", HP_COMP_EVENT_OTHER },
  };
  for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
    g_autofree char *xml = g_strdup_printf("<?xml version=\"1.0\"?><wus:WalkupScanToCompEvent xmlns:wus=\"" NS_WUS
                                           "\"><wus:WalkupScanToCompEventType> %s </wus:WalkupScanToCompEventType>"
                                           "</wus:WalkupScanToCompEvent>",
                                           rows[i].word);
    HpCompEvent ev;
    g_autofree char *word = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_true(hp_comp_event_decode(xml, strlen(xml), &ev, &word, &error));
    g_assert_cmpint(ev, ==, rows[i].event);
    g_assert_cmpstr(word, ==, rows[i].word);
  }
}

static void test_build(void) {
  for (guint i = 0; hp_walkup_apis[i].name; i++) {
    const HpWalkupApi *api = &hp_walkup_apis[i];
    g_assert_nonnull(api->reason);
    g_autofree char *xml = hp_walkup_destination_build(api, "Finance <&> \"Co\"", "pc-1");
    g_assert_nonnull(strstr(xml, api->ns));
    g_assert_nonnull(strstr(xml, "Finance &lt;&amp;&gt; &quot;Co&quot;"));
    /* What we send decodes as a destination of the same name. */
    g_autofree char *with_uri = g_strdup(xml);
    char *at = strstr(with_uri, "<LinkType>");
    g_assert_nonnull(at);
    g_autofree char *doc = g_strdup_printf("%.*s<ResourceURI xmlns=\"" NS_DD "\">/x/1</ResourceURI>%s",
                                           (int) (at - with_uri), with_uri, at);
    g_autoptr(GPtrArray) list = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_true(hp_walkup_destinations_decode(doc, strlen(doc), &list, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(list->len, ==, 1);
    g_assert_cmpstr(((HpWalkupDestination *) list->pdata[0])->name, ==, "Finance <&> \"Co\"");
    g_assert_cmpstr(((HpWalkupDestination *) list->pdata[0])->hostname, ==, "pc-1");
  }
}

static void test_uri_and_etag(void) {
  static const struct {
    const char *in, *out;
  } paths[] = {
    { "/a/b", "/a/b" },
    { "http://h:8080/a/b?x=1", "/a/b" },
    { "https://[::1]:443/a/b/", "/a/b" },
    { "http://h", NULL },
    { "relative/x", NULL },
    { "", NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS(paths); i++) {
    g_autofree char *p = hp_walkup_uri_path(paths[i].in);
    g_assert_cmpstr(p, ==, paths[i].out);
  }
  static const struct {
    const char *in, *out;
  } etags[] = {
    { "\"164-11\"", "164-11" }, { " W/\"1-2\" ", "1-2" }, { "164-11", "164-11" },
    { "\"\"", NULL },           { "\"a b\"", NULL },      { "\"a\x01\"", NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS(etags); i++) {
    g_autofree char *e = hp_etag_parse(etags[i].in);
    g_assert_cmpstr(e, ==, etags[i].out);
  }
  g_assert_null(hp_etag_parse(NULL));
}

static void test_hostile(void) {
  static const char *const docs[] = {
    "",
    "<",
    "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaa\">]><ev:EventTable xmlns:ev=\"" NS_EV "\"/>",
    "<EventTable/>",
    "<ev:EventTable xmlns:ev=\"http://example.com/not-hp\"/>",
    "<ev:EventTable xmlns:ev=\"" NS_EV "\"><ev:Event>",
  };
  for (guint i = 0; i < G_N_ELEMENTS(docs); i++) {
    g_autoptr(GPtrArray) out = NULL;
    g_autoptr(GError) error = NULL;
    g_assert_false(hp_event_table_decode(docs[i], strlen(docs[i]), &out, &error));
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
    g_assert_null(strchr(error->message, '\n'));
    g_assert_null(out);
    g_clear_error(&error);
    g_assert_false(hp_walkup_destinations_decode(docs[i], strlen(docs[i]), &out, &error));
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  }
  /* An empty table is a table. */
  static const char empty[] = "<ev:EventTable xmlns:ev=\"" NS_EV "\"/>";
  g_autoptr(GPtrArray) events = NULL;
  g_assert_true(hp_event_table_decode(empty, strlen(empty), &events, NULL));
  g_assert_cmpuint(events->len, ==, 0);
  /* A comp event without its type is an error, not "other". */
  static const char untyped[] = "<wus:WalkupScanToCompEvent xmlns:wus=\"" NS_WUS "\"/>";
  HpCompEvent ev;
  g_autoptr(GError) error = NULL;
  g_assert_false(hp_comp_event_decode(untyped, strlen(untyped), &ev, NULL, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/hp-walkup/destinations/list", test_destinations_list);
  g_test_add_func("/hp-walkup/destinations/chosen-settings", test_destination_chosen);
  g_test_add_func("/hp-walkup/event-table", test_event_tables);
  g_test_add_func("/hp-walkup/comp-event", test_comp_event);
  g_test_add_func("/hp-walkup/build-round-trip", test_build);
  g_test_add_func("/hp-walkup/uri-and-etag", test_uri_and_etag);
  g_test_add_func("/hp-walkup/hostile", test_hostile);
  return g_test_run();
}
