/* WS-Scan walk-up over WS-Eventing as pure functions: the Subscribe we send
 * (ScanAvailableEvent filter, ScanDestinations, NotifyTo/EndTo, Expires),
 * Renew/Unsubscribe with the identifier header; SubscribeResponse (manager,
 * identifier, expiry as a duration or a time, a token per destination),
 * Renew replies and faults; the events a device pushes (ScanAvailableEvent
 * in both scan namespaces, SubscriptionEnd) and what is refused. */
#include "backends/wsd-eventing.h"
#include "scand/base/error.h"
#include "scand/base/xml.h"

#include <string.h>

#define ENV_OPEN(scan_ns)                                                                                              \
  "<?xml version=\"1.0\"?><s:Envelope xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\" "                            \
  "xmlns:a=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\" "                                                      \
  "xmlns:e=\"http://schemas.xmlsoap.org/ws/2004/08/eventing\" xmlns:sc=\"" scan_ns "\">"
#define SCAN08 "http://schemas.microsoft.com/windows/2006/08/wdp/scan"
#define SCAN01 "https://schemas.microsoft.com/windows/2006/01/wdp/scan"

static void test_subscribe_build(void) {
  WsdEvDestination dests[] = { { "Finance & Co", "scand-1:0" }, { "Anna <2>", "scand-1:1" } };
  WsdEvSubscribe args = {
    .to = "http://10.0.0.5:5357/wsd/scan",
    .message_id = "urn:uuid:m1",
    .notify_to = "http://10.0.0.2:4711/scand/panel/tok",
    .expires_s = 3600,
    .destinations = dests,
    .n_destinations = 2,
  };
  g_autofree char *xml = wsd_ev_subscribe_build(&args);
  g_autoptr(GError) error = NULL;
  G_GNUC_UNUSED g_autoptr(xmlDoc) doc = scand_xml_parse(xml, strlen(xml), "Subscribe", &error);
  g_assert_no_error(error);
  g_assert_nonnull(strstr(xml, "<wsa:Action>http://schemas.xmlsoap.org/ws/2004/08/eventing/Subscribe</wsa:Action>"));
  g_assert_nonnull(strstr(xml, "<wsa:To>http://10.0.0.5:5357/wsd/scan</wsa:To>"));
  g_assert_nonnull(strstr(xml, "<wsa:MessageID>urn:uuid:m1</wsa:MessageID>"));
  g_assert_nonnull(strstr(xml, "<wse:NotifyTo><wsa:Address>http://10.0.0.2:4711/scand/panel/tok</wsa:Address>"));
  g_assert_nonnull(strstr(xml, "<wse:EndTo><wsa:Address>http://10.0.0.2:4711/scand/panel/tok</wsa:Address>"));
  g_assert_nonnull(strstr(xml, "<wse:Expires>PT3600S</wse:Expires>"));
  g_assert_nonnull(
      strstr(xml, ">http://schemas.microsoft.com/windows/2006/08/wdp/scan/ScanAvailableEvent</wse:Filter>"));
  g_assert_nonnull(strstr(xml, "<wscn:ClientDisplayName>Finance &amp; Co</wscn:ClientDisplayName>"
                               "<wscn:ClientContext>scand-1:0</wscn:ClientContext>"));
  g_assert_nonnull(strstr(xml, "<wscn:ClientDisplayName>Anna &lt;2&gt;</wscn:ClientDisplayName>"));
  /* No Expires asked: none sent; a random message id. */
  args.expires_s = 0;
  args.message_id = NULL;
  g_autofree char *plain = wsd_ev_subscribe_build(&args);
  g_assert_null(strstr(plain, "Expires"));
  g_assert_nonnull(strstr(plain, "<wsa:MessageID>urn:uuid:"));

  g_autofree char *renew = wsd_ev_renew_build("http://10.0.0.5:5357/sub", "urn:uuid:s<1>", 600, "urn:uuid:m2");
  g_assert_nonnull(strstr(renew, "/eventing/Renew</wsa:Action>"));
  g_assert_nonnull(strstr(renew, "<wsa:To>http://10.0.0.5:5357/sub</wsa:To>"));
  g_assert_nonnull(strstr(renew, "<wse:Identifier>urn:uuid:s&lt;1&gt;</wse:Identifier>"));
  g_assert_nonnull(strstr(renew, "<wse:Renew><wse:Expires>PT600S</wse:Expires></wse:Renew>"));
  g_autofree char *unsub = wsd_ev_unsubscribe_build("http://10.0.0.5:5357/sub", "urn:uuid:s1", NULL);
  g_assert_nonnull(strstr(unsub, "/eventing/Unsubscribe</wsa:Action>"));
  g_assert_nonnull(strstr(unsub, "<wse:Unsubscribe/>"));
  g_assert_nonnull(strstr(unsub, "<wse:Identifier>urn:uuid:s1</wse:Identifier>"));
}

static const char subscribe_response[] =
    ENV_OPEN(SCAN08) "<s:Header><a:Action>http://schemas.xmlsoap.org/ws/2004/08/eventing/SubscribeResponse"
                     "</a:Action><a:RelatesTo>urn:uuid:m1</a:RelatesTo></s:Header><s:Body><e:SubscribeResponse>"
                     "<e:SubscriptionManager><a:Address>http://10.0.0.5:5357/wsd/scan</a:Address>"
                     "<a:ReferenceParameters><e:Identifier>urn:uuid:sub-1</e:Identifier></a:ReferenceParameters>"
                     "</e:SubscriptionManager><e:Expires>P0Y0M0DT1H0M0S</e:Expires>"
                     "<sc:DestinationResponses>"
                     "<sc:DestinationResponse><sc:ClientContext>scand-1:0</sc:ClientContext>"
                     "<sc:DestinationToken>Client3478</sc:DestinationToken></sc:DestinationResponse>"
                     "<sc:DestinationResponse><sc:ClientContext>scand-1:1</sc:ClientContext>"
                     "<sc:DestinationToken>Client3479</sc:DestinationToken></sc:DestinationResponse>"
                     "</sc:DestinationResponses></e:SubscribeResponse></s:Body></s:Envelope>";

static void test_subscribe_response(void) {
  WsdEvReply r;
  g_autoptr(GError) error = NULL;
  g_assert_true(
      wsd_ev_reply_decode(WSD_EV_REPLY_SUBSCRIBE, subscribe_response, strlen(subscribe_response), 0, &r, &error));
  g_assert_no_error(error);
  g_assert_false(r.is_fault);
  g_assert_cmpstr(r.relates_to, ==, "urn:uuid:m1");
  g_assert_cmpstr(r.manager, ==, "http://10.0.0.5:5357/wsd/scan");
  g_assert_cmpstr(r.identifier, ==, "urn:uuid:sub-1");
  g_assert_cmpint(r.expires_s, ==, 3600);
  g_assert_cmpuint(r.responses->len, ==, 2);
  WsdEvDestinationResponse *d = &g_array_index(r.responses, WsdEvDestinationResponse, 1);
  g_assert_cmpstr(d->context, ==, "scand-1:1");
  g_assert_cmpstr(d->token, ==, "Client3479");
  wsd_ev_reply_clear(&r);

  /* A response that names no tokens took no destination: an error. */
  g_autofree char *no_tokens = g_strdup(subscribe_response);
  char *at = strstr(no_tokens, "<sc:DestinationResponses>");
  strcpy(at, "</e:SubscribeResponse></s:Body></s:Envelope>");
  g_assert_false(wsd_ev_reply_decode(WSD_EV_REPLY_SUBSCRIBE, no_tokens, strlen(no_tokens), 0, &r, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  g_assert_nonnull(strstr(error->message, "DestinationResponses"));
  wsd_ev_reply_clear(&r);
}

static void test_renew_and_faults(void) {
  /* Expires as a time: seconds from now_real. */
  static const char renew[] = ENV_OPEN(SCAN08) "<s:Body><e:RenewResponse><e:Expires>2030-01-01T01:00:00Z</e:Expires>"
                                               "</e:RenewResponse></s:Body></s:Envelope>";
  g_autoptr(GDateTime) now = g_date_time_new_utc(2030, 1, 1, 0, 0, 0);
  gint64 now_real = g_date_time_to_unix(now) * G_USEC_PER_SEC;
  WsdEvReply r;
  g_autoptr(GError) error = NULL;
  g_assert_true(wsd_ev_reply_decode(WSD_EV_REPLY_RENEW, renew, strlen(renew), now_real, &r, &error));
  g_assert_cmpint(r.expires_s, ==, 3600);
  wsd_ev_reply_clear(&r);

  static const char fault[] =
      ENV_OPEN(SCAN08) "<s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>"
                       "e:UnableToRenew</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang=\"en\">"
                       "no such subscription</s:Text></s:Reason></s:Fault></s:Body></s:Envelope>";
  g_assert_true(wsd_ev_reply_decode(WSD_EV_REPLY_RENEW, fault, strlen(fault), 0, &r, &error));
  g_assert_true(r.is_fault);
  g_assert_cmpstr(r.fault.code, ==, "Sender");
  g_assert_cmpstr(r.fault.subcode, ==, "UnableToRenew");
  g_assert_cmpstr(r.fault.reason, ==, "no such subscription");
  wsd_ev_reply_clear(&r);

  /* SOAP 1.1, two faultcodes (found by fuzz-wsd-eventing: the first was leaked): the first counts. */
  static const char fault11[] = "<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><s:Fault>"
                                "<faultcode>s:Client</faultcode><faultcode>s:Server</faultcode>"
                                "<faultstring>first</faultstring><faultstring>second</faultstring>"
                                "</s:Fault></s:Body></s:Envelope>";
  g_assert_true(wsd_ev_reply_decode(WSD_EV_REPLY_RENEW, fault11, strlen(fault11), 0, &r, &error));
  g_assert_true(r.is_fault);
  g_assert_cmpstr(r.fault.code, ==, "Client");
  g_assert_cmpstr(r.fault.reason, ==, "first");
  wsd_ev_reply_clear(&r);

  static const char unsub[] = ENV_OPEN(SCAN08) "<s:Body/></s:Envelope>";
  g_assert_true(wsd_ev_reply_decode(WSD_EV_REPLY_UNSUBSCRIBE, unsub, strlen(unsub), 0, &r, &error));
  wsd_ev_reply_clear(&r);
  g_assert_false(wsd_ev_reply_decode(WSD_EV_REPLY_RENEW, unsub, strlen(unsub), 0, &r, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  wsd_ev_reply_clear(&r);
  g_clear_error(&error);

  static const char bad_expiry[] = ENV_OPEN(SCAN08) "<s:Body><e:RenewResponse><e:Expires>soon</e:Expires>"
                                                    "</e:RenewResponse></s:Body></s:Envelope>";
  g_assert_false(wsd_ev_reply_decode(WSD_EV_REPLY_RENEW, bad_expiry, strlen(bad_expiry), 0, &r, &error));
  g_assert_nonnull(strstr(error->message, "\"soon\""));
  wsd_ev_reply_clear(&r);
}

static void test_notifications(void) {
  static const char *const events[] = {
    ENV_OPEN(SCAN08) "<s:Header><a:Action>" SCAN08 "/ScanAvailableEvent</a:Action><a:MessageID>urn:uuid:e1"
                     "</a:MessageID><e:Identifier>urn:uuid:sub-1</e:Identifier></s:Header><s:Body>"
                     "<sc:ScanAvailableEvent><sc:ClientContext>scand-1:0</sc:ClientContext>"
                     "<sc:ScanIdentifier>scan-42</sc:ScanIdentifier></sc:ScanAvailableEvent></s:Body></s:Envelope>",
    /* The 2006/01 namespace of Microsoft's examples, https, no identifier header. */
    ENV_OPEN(SCAN01) "<s:Body><sc:ScanAvailableEvent><sc:ClientContext> scand-1:0 </sc:ClientContext>"
                     "<sc:ScanIdentifier>scan-42</sc:ScanIdentifier></sc:ScanAvailableEvent></s:Body></s:Envelope>",
  };
  for (guint i = 0; i < G_N_ELEMENTS(events); i++) {
    WsdEvNotification n;
    g_autoptr(GError) error = NULL;
    g_assert_true(wsd_ev_notification_decode(events[i], strlen(events[i]), &n, &error));
    g_assert_no_error(error);
    g_assert_cmpint(n.kind, ==, WSD_EV_SCAN_AVAILABLE);
    g_assert_cmpstr(n.context, ==, "scand-1:0");
    g_assert_cmpstr(n.scan_identifier, ==, "scan-42");
    g_assert_cmpstr(n.identifier, ==, i == 0 ? "urn:uuid:sub-1" : NULL);
    wsd_ev_notification_clear(&n);
  }
  static const char end[] = ENV_OPEN(SCAN08) "<s:Body><e:SubscriptionEnd><e:SubscriptionManager><a:Address>http://x/"
                                             "</a:Address><a:ReferenceParameters><e:Identifier>urn:uuid:sub-1"
                                             "</e:Identifier></a:ReferenceParameters></e:SubscriptionManager>"
                                             "<e:Status>e:SourceShuttingDown</e:Status><e:Reason>reboot</e:Reason>"
                                             "</e:SubscriptionEnd></s:Body></s:Envelope>";
  WsdEvNotification n;
  g_autoptr(GError) error = NULL;
  g_assert_true(wsd_ev_notification_decode(end, strlen(end), &n, &error));
  g_assert_cmpint(n.kind, ==, WSD_EV_SUBSCRIPTION_END);
  g_assert_cmpstr(n.identifier, ==, "urn:uuid:sub-1");
  g_assert_cmpstr(n.status, ==, "SourceShuttingDown");
  g_assert_cmpstr(n.reason, ==, "reboot");
  wsd_ev_notification_clear(&n);
}

static void test_refused(void) {
  static const char *const docs[] = {
    "",
    "not xml",
    "<?xml version=\"1.0\"?><!DOCTYPE s [<!ENTITY x \"y\">]><s:Envelope "
    "xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\"/>",
    "<Envelope/>",
    ENV_OPEN(SCAN08) "</s:Envelope>",
    ENV_OPEN(SCAN08) "<s:Body><sc:ScannerStatusSummaryEvent/></s:Body></s:Envelope>",
    ENV_OPEN(SCAN08) "<s:Body><sc:ScanAvailableEvent><sc:ClientContext>c</sc:ClientContext>"
                     "</sc:ScanAvailableEvent></s:Body></s:Envelope>",
    ENV_OPEN("http://example.com/other") "<s:Body><sc:ScanAvailableEvent><sc:ClientContext>c</sc:ClientContext>"
                                         "<sc:ScanIdentifier>i</sc:ScanIdentifier></sc:ScanAvailableEvent></s:Body>"
                                         "</s:Envelope>",
  };
  for (guint i = 0; i < G_N_ELEMENTS(docs); i++) {
    WsdEvNotification n;
    g_autoptr(GError) error = NULL;
    g_assert_false(wsd_ev_notification_decode(docs[i], strlen(docs[i]), &n, &error));
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
    g_assert_null(strchr(error->message, '\n'));
    g_assert_null(n.context);
  }
}

static void test_durations(void) {
  static const struct {
    const char *text;
    gint64 seconds;
  } rows[] = {
    { "PT1H", 3600 },
    { "P0Y0M0DT30H0M0S", 108000 },
    { "PT90.5S", 90 },
    { "P1D", 86400 },
    { " PT5M ", 300 },
    { "P1M", 30 * 86400 },
    { "PT", -1 },
    { "P", -1 },
    { "T1H", -1 },
    { "PT1D", -1 },
    { "P1H", -1 },
    { "PT-5S", -1 },
    { "P9999999999Y", -1 },
    { "PT1H2", -1 },
    { "", -1 },
    { "PT1HT1M", -1 },
  };
  for (guint i = 0; i < G_N_ELEMENTS(rows); i++)
    if (wsd_ev_duration_parse(rows[i].text) != rows[i].seconds)
      g_error("\"%s\": got %" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT, rows[i].text,
              wsd_ev_duration_parse(rows[i].text), rows[i].seconds);
  g_assert_cmpint(wsd_ev_duration_parse(NULL), ==, -1);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/wsd-eventing/subscribe-renew-unsubscribe-build", test_subscribe_build);
  g_test_add_func("/wsd-eventing/subscribe-response", test_subscribe_response);
  g_test_add_func("/wsd-eventing/renew-and-faults", test_renew_and_faults);
  g_test_add_func("/wsd-eventing/notifications", test_notifications);
  g_test_add_func("/wsd-eventing/refused", test_refused);
  g_test_add_func("/wsd-eventing/durations", test_durations);
  return g_test_run();
}
