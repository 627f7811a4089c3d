/* WS-Scan as pure functions (backends/wsd-soap.h): replies shaped like real
 * devices' (tests/unit/data/wsd) decoded, requests built and read back with
 * XPath, the ticket chosen from capabilities, and malformed replies refused
 * with one line. */
#include "backends/wsd-soap.h"
#include "scand/base/error.h"

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <string.h>

static char *load(const char *name, gsize *len) {
  g_autofree char *path = g_build_filename(g_getenv("SCAND_SRCDIR"), "tests", "unit", "data", "wsd", name, NULL);
  char *data = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(g_file_get_contents(path, &data, len, &error));
  g_assert_no_error(error);
  return data;
}

/* Decodes a data file as a reply to op; asserts it is well-formed. */
static void decode_file(WsdOp op, const char *name, WsdReply *r) {
  gsize len;
  g_autofree char *xml = load(name, &len);
  g_autoptr(GError) error = NULL;
  g_assert_true(wsd_reply_decode(op, xml, len, r, &error));
  g_assert_no_error(error);
}

static int res_at(const WsdInputCaps *in, guint i) {
  return g_array_index(in->resolutions, int, i);
}

static void test_scanner_elements_full(void) {
  WsdReply r;
  decode_file(WSD_OP_GET_SCANNER_ELEMENTS, "scanner-elements-full.xml", &r);
  g_assert_false(r.is_fault);
  g_assert_cmpstr(r.relates_to, ==, "urn:uuid:0a1b2c3d-0000-4000-8000-000000000001");
  g_assert_cmpstr(r.scanner_name, ==, "Office MFP 4250");
  g_assert_cmpstr(r.scanner_info, ==, "2nd floor, next to the kitchen");
  g_assert_cmpstr(r.scanner_location, ==, "Building A");
  g_assert_nonnull(r.caps);
  g_assert_cmpuint(r.caps->formats, ==, WSD_FORMAT_JFIF | WSD_FORMAT_PDF_A);
  g_assert_cmpstr(r.caps->formats_shown, ==, "jfif, tiff-single-g4, pdf-a");
  const WsdInputCaps *p = &r.caps->inputs[WSD_INPUT_PLATEN];
  g_assert_true(p->present);
  /* Widths ∩ Heights, sorted: 1200 is offered for widths only. */
  g_assert_cmpuint(p->resolutions->len, ==, 4);
  g_assert_cmpint(res_at(p, 0), ==, 100);
  g_assert_cmpint(res_at(p, 3), ==, 600);
  g_assert_cmpuint(p->colors, ==, WSD_COLOR_BW1 | WSD_COLOR_GRAY8 | WSD_COLOR_RGB24);
  g_assert_cmpint(p->max_width, ==, 8500);
  g_assert_cmpint(p->max_height, ==, 11690);
  g_assert_cmpint(p->min_width, ==, 10);
  const WsdInputCaps *f = &r.caps->inputs[WSD_INPUT_ADF_FRONT];
  g_assert_true(f->present);
  g_assert_cmpuint(f->colors, ==, WSD_COLOR_GRAY8 | WSD_COLOR_RGB24);
  g_assert_cmpint(f->max_height, ==, 14000);
  g_assert_false(r.caps->inputs[WSD_INPUT_ADF_BACK].present);
  g_assert_true(r.caps->duplex);
  g_assert_true(r.have_status);
  g_assert_cmpint(r.status.state, ==, WSD_SCANNER_IDLE);
  g_assert_cmpuint(r.status.reasons->len, ==, 0); /* "None" is no reason */
  wsd_reply_clear(&r);
}

/* https:// namespaces, other prefixes, swapped sizes, an ADFBack while
 * ADFSupportsDuplex says 0 (the Brother MFC-9340CDW and Kyocera cases). */
static void test_scanner_elements_kyocera(void) {
  WsdReply r;
  decode_file(WSD_OP_GET_SCANNER_ELEMENTS, "scanner-elements-kyocera.xml", &r);
  g_assert_nonnull(r.caps);
  g_assert_cmpuint(r.caps->formats, ==, WSD_FORMAT_EXIF | WSD_FORMAT_PNG);
  const WsdInputCaps *p = &r.caps->inputs[WSD_INPUT_PLATEN];
  g_assert_cmpint(p->max_width, ==, 8500);
  g_assert_cmpint(p->max_height, ==, 11690);
  g_assert_cmpint(p->min_width, ==, 500);
  g_assert_cmpint(p->min_height, ==, 1000);
  g_assert_true(r.caps->inputs[WSD_INPUT_ADF_BACK].present);
  g_assert_true(r.caps->duplex);
  g_assert_false(r.have_status);
  wsd_reply_clear(&r);
}

static void test_fault_soap12(void) {
  WsdReply r;
  decode_file(WSD_OP_RETRIEVE_IMAGE, "fault-no-images.xml", &r);
  g_assert_true(r.is_fault);
  g_assert_cmpstr(r.fault.code, ==, "Sender");
  g_assert_cmpstr(r.fault.subcode, ==, "ClientErrorNoImagesAvailable");
  g_assert_cmpstr(r.fault.reason, ==, "The server has no images available to acquire.");
  g_autofree char *shown = wsd_fault_describe(&r.fault);
  g_assert_cmpstr(shown, ==, "ClientErrorNoImagesAvailable (The server has no images available to acquire.)");
  wsd_reply_clear(&r);
}

static void test_fault_soap11(void) {
  WsdReply r;
  decode_file(WSD_OP_CREATE_SCAN_JOB, "fault-soap11.xml", &r);
  g_assert_true(r.is_fault);
  g_assert_cmpstr(r.fault.code, ==, "Server");
  g_assert_null(r.fault.subcode);
  g_assert_cmpstr(r.fault.reason, ==, "ServerErrorNotAcceptingJobs");
  wsd_reply_clear(&r);
}

static void test_create_scan_job_response(void) {
  WsdReply r;
  decode_file(WSD_OP_CREATE_SCAN_JOB, "create-scan-job-response.xml", &r);
  g_assert_false(r.is_fault);
  g_assert_cmpint(r.job_id, ==, 42);
  g_assert_cmpstr(r.job_token, ==, "tok-42-&x");
  g_assert_cmpint(r.front.pixels_per_line, ==, 2550);
  g_assert_cmpint(r.front.lines, ==, 3300);
  g_assert_cmpint(r.back.lines, ==, 0);
  wsd_reply_clear(&r);
}

/* The 2006/01 scan namespace of the drafts, and https:// spellings, are the
 * scan namespace. */
static void test_namespace_spellings(void) {
  static const char *const spellings[] = {
    "http://schemas.microsoft.com/windows/2006/01/wdp/scan",
    "https://schemas.microsoft.com/windows/2006/08/wdp/scan",
  };
  for (guint i = 0; i < G_N_ELEMENTS(spellings); i++) {
    g_autofree char *xml = g_strdup_printf("<s:Envelope xmlns:s=\"https://www.w3.org/2003/05/soap-envelope\" "
                                           "xmlns:w=\"%s\"><s:Body><w:CreateScanJobResponse><w:JobId>5</w:JobId>"
                                           "<w:JobToken>t</w:JobToken></w:CreateScanJobResponse></s:Body></s:Envelope>",
                                           spellings[i]);
    WsdReply r;
    g_autoptr(GError) error = NULL;
    g_assert_true(wsd_reply_decode(WSD_OP_CREATE_SCAN_JOB, xml, strlen(xml), &r, &error));
    g_assert_cmpint(r.job_id, ==, 5);
    wsd_reply_clear(&r);
  }
}

static void test_retrieve_image_cid(void) {
  WsdReply r;
  decode_file(WSD_OP_RETRIEVE_IMAGE, "retrieve-image-root.xml", &r);
  g_assert_cmpstr(r.image_cid, ==, "id<image>@mfp.example");
  wsd_reply_clear(&r);
}

static void test_job_elements_and_status_problem(void) {
  WsdReply r;
  decode_file(WSD_OP_GET_JOB_ELEMENTS, "job-elements-jam.xml", &r);
  g_assert_true(r.have_job_status);
  g_assert_cmpint(r.job_status.job_id, ==, 42);
  g_assert_cmpstr(r.job_status.state, ==, "Aborted");
  g_assert_cmpuint(r.job_status.reasons->len, ==, 1);
  g_assert_cmpstr(r.job_status.reasons->pdata[0], ==, "ScannerStopped");
  g_assert_cmpint(r.job_status.scans_completed, ==, 2);
  wsd_reply_clear(&r);

  decode_file(WSD_OP_GET_SCANNER_ELEMENTS, "status-jam.xml", &r);
  g_assert_true(r.have_status);
  g_assert_cmpint(r.status.state, ==, WSD_SCANNER_STOPPED);
  int code = 0;
  gboolean transient = TRUE;
  /* MediaJam (a DeviceCondition) outranks AttentionRequired. */
  g_assert_cmpstr(wsd_status_problem(&r.status, &code, &transient), ==, "paper jam in the document feeder");
  g_assert_cmpint(code, ==, SCAND_ERROR_JAMMED);
  g_assert_false(transient);
  wsd_reply_clear(&r);
}

/* Replies that must be refused, each with the words its message must carry. */
static void test_malformed_replies(void) {
  static const struct {
    WsdOp op;
    const char *xml;
    const char *words;
  } cases[] = {
    { WSD_OP_CREATE_SCAN_JOB, "", "empty" },
    { WSD_OP_CREATE_SCAN_JOB, "<a>", "malformed" },
    { WSD_OP_CREATE_SCAN_JOB, "<x:Envelope xmlns:x=\"urn:other\"><x:Body/></x:Envelope>", "Envelope" },
    { WSD_OP_CREATE_SCAN_JOB, "<s:Envelope xmlns:s=\"" WSD_NS_SOAP "\"><s:Body/></s:Envelope>", "without a body" },
    { WSD_OP_CREATE_SCAN_JOB,
      "<s:Envelope xmlns:s=\"" WSD_NS_SOAP "\" xmlns:w=\"" WSD_NS_SCAN
      "\"><s:Body><w:CancelJobResponse/></s:Body></s:Envelope>",
      "expected CreateScanJobResponse" },
    { WSD_OP_CREATE_SCAN_JOB,
      "<s:Envelope xmlns:s=\"" WSD_NS_SOAP "\" xmlns:w=\"" WSD_NS_SCAN
      "\"><s:Body><w:CreateScanJobResponse><w:JobId>0</w:JobId><w:JobToken>t</w:JobToken>"
      "</w:CreateScanJobResponse></s:Body></s:Envelope>",
      "JobId \"0\" is not a number" },
    { WSD_OP_CREATE_SCAN_JOB,
      "<s:Envelope xmlns:s=\"" WSD_NS_SOAP "\" xmlns:w=\"" WSD_NS_SCAN
      "\"><s:Body><w:CreateScanJobResponse><w:JobId>3</w:JobId></w:CreateScanJobResponse></s:Body></s:Envelope>",
      "JobToken missing" },
    { WSD_OP_RETRIEVE_IMAGE,
      "<s:Envelope xmlns:s=\"" WSD_NS_SOAP "\" xmlns:w=\"" WSD_NS_SCAN "\" xmlns:x=\"" WSD_NS_XOP
      "\"><s:Body><w:RetrieveImageResponse><w:ScanData><x:Include href=\"http://evil/\"/></w:ScanData>"
      "</w:RetrieveImageResponse></s:Body></s:Envelope>",
      "cid:" },
    { WSD_OP_GET_SCANNER_ELEMENTS,
      "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><s:Envelope xmlns:s=\"" WSD_NS_SOAP "\"><s:Body/></s:Envelope>", "DTD" },
    { WSD_OP_GET_SCANNER_ELEMENTS,
      "<s:Envelope xmlns:s=\"" WSD_NS_SOAP "\" xmlns:w=\"" WSD_NS_SCAN
      "\"><s:Body><w:GetScannerElementsResponse><w:ScannerElements><w:ElementData><w:ScannerConfiguration>"
      "<w:Platen><w:PlatenColor><w:ColorEntry>RGB24</w:ColorEntry></w:PlatenColor></w:Platen>"
      "</w:ScannerConfiguration></w:ElementData></w:ScannerElements></w:GetScannerElementsResponse>"
      "</s:Body></s:Envelope>",
      "no usable platen or feeder (platen: maximum width missing)" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    WsdReply r;
    g_autoptr(GError) error = NULL;
    g_assert_false(wsd_reply_decode(cases[i].op, cases[i].xml, strlen(cases[i].xml), &r, &error));
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
    if (!strstr(error->message, cases[i].words))
      g_error("case %u: \"%s\" lacks \"%s\"", i, error->message, cases[i].words);
    g_assert_null(strchr(error->message, '\n'));
  }
}

/* ---- requests ------------------------------------------------------------------ */

/* The text at an XPath in a built request (prefixes s, a, w). Newly allocated. */
static char *xpath_text(const char *xml, const char *expr) {
  xmlDoc *doc = xmlReadMemory(xml, (int) strlen(xml), NULL, NULL, XML_PARSE_NONET);
  g_assert_nonnull(doc);
  xmlXPathContext *ctx = xmlXPathNewContext(doc);
  xmlXPathRegisterNs(ctx, (const xmlChar *) "s", (const xmlChar *) WSD_NS_SOAP);
  xmlXPathRegisterNs(ctx, (const xmlChar *) "a", (const xmlChar *) WSD_NS_WSA);
  xmlXPathRegisterNs(ctx, (const xmlChar *) "w", (const xmlChar *) WSD_NS_SCAN);
  xmlXPathObject *o = xmlXPathEvalExpression((const xmlChar *) expr, ctx);
  char *text = NULL;
  if (o && o->nodesetval && o->nodesetval->nodeNr > 0) {
    xmlChar *c = xmlNodeGetContent(o->nodesetval->nodeTab[0]);
    text = g_strdup((const char *) c);
    xmlFree(c);
  }
  xmlXPathFreeObject(o);
  xmlXPathFreeContext(ctx);
  xmlFreeDoc(doc);
  return text;
}

static void assert_xpath(const char *xml, const char *expr, const char *want) {
  g_autofree char *got = xpath_text(xml, expr);
  if (g_strcmp0(got, want) != 0)
    g_error("%s: got \"%s\", expected \"%s\" in %s", expr, got ? got : "(none)", want ? want : "(none)", xml);
}

static void test_build_create_scan_job(void) {
  WsdTicket t = {
    .input = WSD_INPUT_ADF_FRONT,
    .duplex = TRUE,
    .format = WSD_FORMAT_JFIF,
    .color = WSD_COLOR_GRAY8,
    .resolution = 300,
    .width = 8500,
    .height = 11000,
    .images_to_transfer = 0,
  };
  WsdRequestArgs a = {
    .to = "http://[fe80::1%25eth0]:5358/wsd/scan",
    .message_id = "urn:uuid:1",
    .ticket = &t,
    .job_name = "a<b",
    .scan_identifier = "scan-7",
    .destination_token = "dest&1",
  };
  g_autofree char *xml = wsd_request_build(WSD_OP_CREATE_SCAN_JOB, &a);
  assert_xpath(xml, "/s:Envelope/s:Header/a:To", "http://[fe80::1]:5358/wsd/scan");
  assert_xpath(xml, "/s:Envelope/s:Header/a:Action", WSD_NS_SCAN "/CreateScanJob");
  assert_xpath(xml, "/s:Envelope/s:Header/a:MessageID", "urn:uuid:1");
  assert_xpath(xml, "/s:Envelope/s:Header/a:ReplyTo/a:Address", WSD_ADDR_ANONYMOUS);
  const char *req = "/s:Envelope/s:Body/w:CreateScanJobRequest";
  g_autofree char *p = g_strdup_printf("%s/w:ScanTicket/w:DocumentParameters", req);
  g_autofree char *x1 = g_strdup_printf("%s/w:ScanIdentifier", req);
  g_autofree char *x2 = g_strdup_printf("%s/w:DestinationToken", req);
  g_autofree char *x3 = g_strdup_printf("%s/w:ScanTicket/w:JobDescription/w:JobName", req);
  g_autofree char *x4 = g_strdup_printf("%s/w:ScanTicket/w:JobDescription/w:JobInformation", req);
  g_autofree char *x5 = g_strdup_printf("%s/w:Format", p);
  g_autofree char *x6 = g_strdup_printf("%s/w:ImagesToTransfer", p);
  g_autofree char *x7 = g_strdup_printf("%s/w:InputSource", p);
  g_autofree char *x8 = g_strdup_printf("%s/w:MediaSides/w:MediaFront/w:ColorProcessing", p);
  g_autofree char *x9 = g_strdup_printf("%s/w:MediaSides/w:MediaBack/w:Resolution/w:Height", p);
  g_autofree char *x10 = g_strdup_printf("%s/w:MediaSides/w:MediaFront/w:ScanRegion/w:ScanRegionHeight", p);
  assert_xpath(xml, x1, "scan-7");
  assert_xpath(xml, x2, "dest&1");
  assert_xpath(xml, x3, "a<b");
  assert_xpath(xml, x4, "scand");
  assert_xpath(xml, x5, "jfif");
  assert_xpath(xml, x6, "0");
  assert_xpath(xml, x7, "ADFDuplex");
  assert_xpath(xml, x8, "Grayscale8");
  assert_xpath(xml, x9, "300");
  assert_xpath(xml, x10, "11000");
}

static void test_build_others(void) {
  static const char *const names[] = { "ScannerConfiguration", "ScannerStatus", NULL };
  WsdRequestArgs a = { .to = "http://mfp/scan", .elements = names, .job_id = 9, .job_token = "t9" };
  g_autofree char *get = wsd_request_build(WSD_OP_GET_SCANNER_ELEMENTS, &a);
  assert_xpath(get, "/s:Envelope/s:Body/w:GetScannerElementsRequest/w:RequestedElements/w:Name[2]",
               "wscn:ScannerStatus");
  g_autofree char *mid = xpath_text(get, "/s:Envelope/s:Header/a:MessageID");
  g_assert_true(g_str_has_prefix(mid, "urn:uuid:"));
  g_autofree char *ret = wsd_request_build(WSD_OP_RETRIEVE_IMAGE, &a);
  assert_xpath(ret, "/s:Envelope/s:Body/w:RetrieveImageRequest/w:JobId", "9");
  assert_xpath(ret, "/s:Envelope/s:Body/w:RetrieveImageRequest/w:JobToken", "t9");
  g_autofree char *cancel = wsd_request_build(WSD_OP_CANCEL_JOB, &a);
  assert_xpath(cancel, "/s:Envelope/s:Body/w:CancelJobRequest/w:JobId", "9");
  static const char *const job[] = { "JobStatus", NULL };
  a.elements = job;
  g_autofree char *je = wsd_request_build(WSD_OP_GET_JOB_ELEMENTS, &a);
  assert_xpath(je, "/s:Envelope/s:Body/w:GetJobElementsRequest/w:RequestedElements/w:Name", "wscn:JobStatus");
  assert_xpath(je, "/s:Envelope/s:Header/a:Action", WSD_NS_SCAN "/GetJobElements");
}

/* ---- ticket -------------------------------------------------------------------- */

static WsdCaps *full_caps(void) {
  gsize len;
  g_autofree char *xml = load("scanner-elements-full.xml", &len);
  WsdCaps *caps = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(wsd_caps_decode(xml, len, &caps, &error));
  return caps;
}

static void test_ticket_choose(void) {
  g_autoptr(WsdCaps) caps = full_caps();
  ScandScanSettings s = {
    .source = SCAND_SOURCE_FEEDER, .duplex = TRUE, .mode = SCAND_MODE_LINEART, .resolution = 250
  };
  WsdTicket t;
  ScandScanSettings eff;
  g_autoptr(GError) error = NULL;
  g_assert_true(wsd_ticket_choose(caps, &s, 0, 0, &t, &eff, &error));
  g_assert_cmpint(t.input, ==, WSD_INPUT_ADF_FRONT);
  g_assert_true(t.duplex);
  g_assert_cmpint(t.color, ==, WSD_COLOR_GRAY8); /* the feeder has no BW1: the nearest richer */
  g_assert_cmpint(t.resolution, ==, 300);        /* 200 and 300 are as near; the higher wins */
  g_assert_cmpint(t.format, ==, WSD_FORMAT_JFIF);
  g_assert_cmpint(t.width, ==, 8500);
  g_assert_cmpint(t.height, ==, 14000);
  g_assert_cmpint(t.images_to_transfer, ==, 0);
  g_assert_cmpint(eff.mode, ==, SCAND_MODE_GRAY);
  g_assert_cmpint(eff.resolution, ==, 300);

  /* Flatbed, a region in mm, a resolution cap from a quirk. */
  ScandScanSettings f = { .source = SCAND_SOURCE_FLATBED,
                          .mode = SCAND_MODE_COLOR,
                          .resolution = 1200,
                          .x = 25.4,
                          .y = 0,
                          .width = 100,
                          .height = 500 };
  g_assert_true(wsd_ticket_choose(caps, &f, 300, 100, &t, &eff, &error));
  g_assert_cmpint(t.input, ==, WSD_INPUT_PLATEN);
  g_assert_cmpint(t.resolution, ==, 300);
  g_assert_cmpint(t.x, ==, 1000);
  g_assert_cmpint(t.width, ==, 3937);
  g_assert_cmpint(t.height, ==, 11690); /* clamped to the platen */
  g_assert_cmpint(t.images_to_transfer, ==, 1);
  g_assert_cmpint(eff.max_pages, ==, 1);
  g_assert_cmpint(t.color, ==, WSD_COLOR_RGB24);
}

static void test_ticket_refusals(void) {
  g_autoptr(WsdCaps) caps = full_caps();
  WsdTicket t;
  g_autoptr(GError) error = NULL;
  ScandScanSettings dup_flatbed = { .source = SCAND_SOURCE_FLATBED, .duplex = TRUE };
  g_assert_false(wsd_ticket_choose(caps, &dup_flatbed, 0, 0, &t, NULL, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED);
  g_clear_error(&error);
  caps->duplex = FALSE;
  ScandScanSettings dup = { .source = SCAND_SOURCE_FEEDER, .duplex = TRUE };
  g_assert_false(wsd_ticket_choose(caps, &dup, 0, 0, &t, NULL, &error));
  g_assert_nonnull(strstr(error->message, "simplex only"));
  g_clear_error(&error);
  caps->formats = 0;
  ScandScanSettings plain = { 0 };
  g_assert_false(wsd_ticket_choose(caps, &plain, 0, 0, &t, NULL, &error));
  g_assert_nonnull(strstr(error->message, "it offers: jfif, tiff-single-g4, pdf-a"));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/wsd-soap/scanner-elements/full", test_scanner_elements_full);
  g_test_add_func("/wsd-soap/scanner-elements/kyocera-https-swapped", test_scanner_elements_kyocera);
  g_test_add_func("/wsd-soap/fault/soap12", test_fault_soap12);
  g_test_add_func("/wsd-soap/fault/soap11", test_fault_soap11);
  g_test_add_func("/wsd-soap/create-scan-job/response", test_create_scan_job_response);
  g_test_add_func("/wsd-soap/retrieve-image/cid", test_retrieve_image_cid);
  g_test_add_func("/wsd-soap/namespace-spellings", test_namespace_spellings);
  g_test_add_func("/wsd-soap/job-elements/jam", test_job_elements_and_status_problem);
  g_test_add_func("/wsd-soap/malformed", test_malformed_replies);
  g_test_add_func("/wsd-soap/build/create-scan-job", test_build_create_scan_job);
  g_test_add_func("/wsd-soap/build/others", test_build_others);
  g_test_add_func("/wsd-soap/ticket/choose", test_ticket_choose);
  g_test_add_func("/wsd-soap/ticket/refusals", test_ticket_refusals);
  return g_test_run();
}
