/* eSCL protocol as pure functions: capabilities and status decoding against
 * documents shaped like real devices' (tests/unit/data/escl), ScanSettings,
 * Location repair, fingerprints, quirk lookup. */
#include "backends/escl-private.h"
#include "scand/base/http.h"
#include "backends/escl-xml.h"
#include "backends/escl.h"
#include "scand/base/error.h"

#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <string.h>

static char *load(const char *name, gsize *len) {
  const char *src = g_getenv("SCAND_SRCDIR");
  g_assert_nonnull(src);
  g_autofree char *path = g_build_filename(src, "tests", "unit", "data", "escl", name, NULL);
  char *data = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(g_file_get_contents(path, &data, len, &error));
  g_assert_no_error(error);
  return data;
}

static EsclCaps *caps_from_file(const char *name) {
  gsize len;
  g_autofree char *xml = load(name, &len);
  EsclCaps *caps = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(escl_caps_decode(xml, len, &caps, &error));
  g_assert_no_error(error);
  return caps;
}

static int res_at(const EsclInputCaps *in, guint i) {
  return g_array_index(in->resolutions, int, i);
}

static void test_caps_hp_default_namespace(void) {
  g_autoptr(EsclCaps) caps = caps_from_file("hp-m426-caps.xml");
  g_assert_cmpstr(caps->make_and_model, ==, "HP LaserJet MFP M426fdn");
  g_assert_cmpstr(caps->version, ==, "2.63");
  g_assert_cmpstr(caps->uuid, ==, "564e4333-4b34-3831-3033-a0481cfd2a35");
  g_assert_cmpstr(caps->serial, ==, "PHBLM48213");
  const EsclInputCaps *p = &caps->inputs[ESCL_INPUT_PLATEN];
  g_assert_true(p->present);
  g_assert_cmpint(p->max_width, ==, 2550);
  g_assert_cmpint(p->max_height, ==, 3508);
  g_assert_cmpint(p->min_width, ==, 8);
  g_assert_cmpuint(p->color_modes, ==, ESCL_COLOR_BW1 | ESCL_COLOR_GRAY8 | ESCL_COLOR_RGB24);
  g_assert_cmpuint(p->formats, ==, ESCL_FORMAT_JPEG | ESCL_FORMAT_PDF | ESCL_FORMAT_OTHER);
  g_assert_true(p->format_ext);
  g_assert_cmpuint(p->resolutions->len, ==, 8);
  g_assert_cmpint(res_at(p, 0), ==, 75);
  g_assert_cmpint(res_at(p, 7), ==, 1200);
  g_assert_cmpint(p->res_max, ==, 0);
  g_assert_cmpuint(p->intents->len, ==, 4);
  g_assert_cmpstr(g_ptr_array_index(p->intents, 0), ==, "Document");
  const EsclInputCaps *s = &caps->inputs[ESCL_INPUT_ADF_SIMPLEX];
  const EsclInputCaps *d = &caps->inputs[ESCL_INPUT_ADF_DUPLEX];
  g_assert_true(s->present);
  g_assert_true(d->present);
  g_assert_cmpint(s->max_height, ==, 4200);
  g_assert_cmpint(d->max_height, ==, 3600);
  g_assert_cmpuint(s->resolutions->len, ==, 3);
  g_assert_cmpuint(d->resolutions->len, ==, 2);
  g_assert_cmpuint(d->formats, ==, ESCL_FORMAT_JPEG);
  g_assert_cmpint(caps->feeder_capacity, ==, 50);
  g_assert_true(caps->adf_detect_paper);
}

static void test_caps_brother_duplex_option(void) {
  g_autoptr(EsclCaps) caps = caps_from_file("brother-mfc-l2750dw-caps.xml");
  g_assert_cmpstr(caps->make_and_model, ==, "Brother MFC-L2750DW series");
  g_assert_cmpstr(caps->version, ==, "2.62");
  /* Duplex only as AdfOption: the simplex capabilities apply. */
  const EsclInputCaps *d = &caps->inputs[ESCL_INPUT_ADF_DUPLEX];
  g_assert_true(d->present);
  g_assert_cmpuint(d->resolutions->len, ==, 3);
  g_assert_cmpint(res_at(d, 2), ==, 300);
  g_assert_cmpuint(caps->inputs[ESCL_INPUT_PLATEN].resolutions->len, ==, 5);
  g_assert_true(caps->inputs[ESCL_INPUT_PLATEN].format_ext);
  g_assert_false(caps->inputs[ESCL_INPUT_ADF_SIMPLEX].format_ext);
}

static void test_caps_canon_other_prefixes(void) {
  g_autoptr(EsclCaps) caps = caps_from_file("canon-ir2625-caps.xml");
  g_assert_cmpstr(caps->make_and_model, ==, "Canon iR2625/2630");
  const EsclInputCaps *p = &caps->inputs[ESCL_INPUT_PLATEN];
  g_assert_cmpint(p->max_width, ==, 3507);
  g_assert_cmpuint(p->resolutions->len, ==, 4);
  g_assert_cmpuint(p->color_modes, ==, ESCL_COLOR_GRAY8 | ESCL_COLOR_RGB24);
  g_assert_true(caps->inputs[ESCL_INPUT_ADF_DUPLEX].present);
  /* The quirk table caps this model at 600 dpi. */
  EsclQuirks q;
  escl_quirks_lookup(NULL, caps->make_and_model, &q);
  g_assert_cmpint(q.max_resolution, ==, 600);
  g_assert_cmpint(escl_input_nearest_resolution(p, 1200, q.max_resolution), ==, 600);
  escl_quirks_clear(&q);
}

static void test_caps_epson_ranges(void) {
  g_autoptr(EsclCaps) caps = caps_from_file("epson-et4850-caps.xml");
  g_assert_cmpstr(caps->version, ==, "2.0");
  const EsclInputCaps *p = &caps->inputs[ESCL_INPUT_PLATEN];
  g_assert_cmpuint(p->resolutions->len, ==, 0);
  g_assert_cmpint(p->res_min, ==, 75);
  g_assert_cmpint(p->res_max, ==, 1200);
  g_assert_cmpint(p->res_step, ==, 25);
  g_assert_cmpint(escl_input_nearest_resolution(p, 310, 0), ==, 300);
  g_assert_cmpint(escl_input_nearest_resolution(p, 320, 0), ==, 325);
  g_assert_cmpint(escl_input_nearest_resolution(p, 5000, 0), ==, 1200);
  g_assert_cmpint(escl_input_nearest_resolution(p, 10, 0), ==, 75);
  g_assert_true(caps->inputs[ESCL_INPUT_ADF_SIMPLEX].present);
  g_assert_false(caps->inputs[ESCL_INPUT_ADF_DUPLEX].present);
  g_assert_cmpuint(caps->inputs[ESCL_INPUT_ADF_SIMPLEX].formats, ==, ESCL_FORMAT_PNG | ESCL_FORMAT_PDF);
}

static void test_status_decode(void) {
  gsize len;
  g_autofree char *hp = load("hp-m426-status.xml", &len);
  ScandEsclStatus st;
  g_autoptr(GError) error = NULL;
  g_assert_true(escl_status_decode(hp, len, &st, &error));
  g_assert_cmpint(st.state, ==, SCAND_DEVICE_PROCESSING);
  g_assert_cmpint(st.adf_state, ==, SCAND_ESCL_ADF_LOADED);
  g_assert_cmpuint(st.jobs->len, ==, 2);
  const ScandEsclJob *j =
      escl_status_find_job(&st, "http://10.0.0.2/eSCL/ScanJobs/13e2f0a2-1d5c-4a5a-8f1c-0d0e1b0c2b77/");
  g_assert_nonnull(j);
  g_assert_cmpstr(j->state, ==, "Processing");
  g_assert_cmpstr(j->reason, ==, "JobScanning");
  g_assert_cmpint(j->images_completed, ==, 2);
  g_assert_cmpint(j->images_to_transfer, ==, 1);
  g_assert_cmpint(j->age, ==, 12);
  g_assert_null(escl_status_find_job(&st, "/eSCL/ScanJobs/nope"));
  scand_escl_status_clear(&st);

  g_autofree char *brother = load("brother-mfc-l2750dw-status.xml", &len);
  g_assert_true(escl_status_decode(brother, len, &st, &error));
  g_assert_cmpint(st.state, ==, SCAND_DEVICE_STOPPED);
  g_assert_cmpint(st.adf_state, ==, SCAND_ESCL_ADF_JAM);
  j = escl_status_find_job(&st, "/eSCL/ScanJobs/1001");
  g_assert_nonnull(j);
  g_assert_cmpint(j->images_to_transfer, ==, -1);
  int code = -1;
  g_assert_nonnull(scand_escl_adf_state_problem(st.adf_state, &code));
  g_assert_cmpint(code, ==, SCAND_ERROR_JAMMED);
  scand_escl_status_clear(&st);

  g_autofree char *canon = load("canon-idle-status.xml", &len);
  g_assert_true(scand_escl_status_decode(canon, len, &st, &error));
  g_assert_cmpint(st.state, ==, SCAND_DEVICE_IDLE);
  g_assert_cmpint(st.adf_state, ==, SCAND_ESCL_ADF_UNKNOWN);
  g_assert_cmpuint(st.jobs->len, ==, 0);
  scand_escl_status_clear(&st);
}

static void test_adf_states(void) {
  static const struct {
    const char *word;
    ScandEsclAdfState state;
    int code; /* -1 = no problem */
  } cases[] = {
    { "ScannerAdfLoaded", SCAND_ESCL_ADF_LOADED, -1 },
    { "ScannerAdfEmpty", SCAND_ESCL_ADF_EMPTY, SCAND_ERROR_NO_DOCS },
    { "ScannerAdfJam", SCAND_ESCL_ADF_JAM, SCAND_ERROR_JAMMED },
    { "ScannerAdfMispick", SCAND_ESCL_ADF_MISPICK, SCAND_ERROR_JAMMED },
    { "ScannerAdfHatchOpen", SCAND_ESCL_ADF_HATCH_OPEN, SCAND_ERROR_COVER_OPEN },
    { "ScannerAdfDuplexPageTooShort", SCAND_ESCL_ADF_DUPLEX_PAGE_TOO_SHORT, SCAND_ERROR_JAMMED },
    { "ScannerAdfDuplexPageTooLong", SCAND_ESCL_ADF_DUPLEX_PAGE_TOO_LONG, SCAND_ERROR_JAMMED },
    { "ScannerAdfMultipickDetected", SCAND_ESCL_ADF_MULTIPICK_DETECTED, SCAND_ERROR_JAMMED },
    { "ScannerAdfInputTrayFailed", SCAND_ESCL_ADF_INPUT_TRAY_FAILED, SCAND_ERROR_IO },
    { "ScannerAdfInputTrayOverloaded", SCAND_ESCL_ADF_INPUT_TRAY_OVERLOADED, SCAND_ERROR_IO },
    { "ScannerAdfProcessing", SCAND_ESCL_ADF_PROCESSING, -1 },
    { "ScannerAdfSomethingNew", SCAND_ESCL_ADF_OTHER, -1 },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *xml =
        g_strdup_printf("<scan:ScannerStatus xmlns:scan='" ESCL_NS_SCAN "' xmlns:pwg='" ESCL_NS_PWG "'>"
                        "<pwg:Version>2.63</pwg:Version><pwg:State>Idle</pwg:State><scan:AdfState>%s</scan:AdfState></"
                        "scan:ScannerStatus>",
                        cases[i].word);
    ScandEsclStatus st;
    g_autoptr(GError) error = NULL;
    g_assert_true(escl_status_decode(xml, strlen(xml), &st, &error));
    g_assert_cmpint(st.adf_state, ==, cases[i].state);
    g_assert_cmpstr(st.adf_state_word, ==, cases[i].word);
    int code = -1;
    const char *problem = scand_escl_adf_state_problem(st.adf_state, &code);
    g_assert_cmpint(code, ==, cases[i].code);
    g_assert_true((problem != NULL) == (cases[i].code != -1));
    scand_escl_status_clear(&st);
  }
}

static void expect_bad_caps(const char *xml, gsize len, const char *fragment) {
  EsclCaps *caps = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_false(escl_caps_decode(xml, len, &caps, &error));
  g_assert_null(caps);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  g_assert_null(strchr(error->message, '\n'));
  if (!strstr(error->message, fragment))
    g_error("message \"%s\" lacks \"%s\"", error->message, fragment);
}

static void test_malformed(void) {
  gsize len;
  g_autofree char *hp = load("hp-m426-caps.xml", &len);
  expect_bad_caps(hp, len / 2, "malformed XML");
  expect_bad_caps("", 0, "empty");
  expect_bad_caps("not xml at all", 14, "malformed");
  const char *wrong_ns =
      "<scan:ScannerCapabilities xmlns:scan='http://example.com/not-escl'><scan:Platen/></scan:ScannerCapabilities>";
  expect_bad_caps(wrong_ns, strlen(wrong_ns), "namespace http://example.com/not-escl");
  const char *no_ns = "<ScannerCapabilities><Platen/></ScannerCapabilities>";
  expect_bad_caps(no_ns, strlen(no_ns), "expected eSCL");
  const char *status_root = "<scan:ScannerStatus xmlns:scan='" ESCL_NS_SCAN "'/>";
  expect_bad_caps(status_root, strlen(status_root), "<scan:ScannerStatus>");
  const char *huge = "<scan:ScannerCapabilities xmlns:scan='" ESCL_NS_SCAN "'><scan:Platen><scan:PlatenInputCaps>"
                     "<scan:MaxWidth>99999999999999999999999</scan:MaxWidth></scan:PlatenInputCaps></scan:Platen></"
                     "scan:ScannerCapabilities>";
  expect_bad_caps(huge, strlen(huge), "MaxWidth value \"99999999999999999999999\"");
  const char *negative =
      "<scan:ScannerCapabilities xmlns:scan='" ESCL_NS_SCAN "'><scan:Platen><scan:PlatenInputCaps>"
      "<scan:SettingProfiles><scan:SettingProfile><scan:SupportedResolutions><scan:DiscreteResolutions>"
      "<scan:DiscreteResolution><scan:XResolution>-300</scan:XResolution></scan:DiscreteResolution>"
      "</scan:DiscreteResolutions></scan:SupportedResolutions></scan:SettingProfile></scan:SettingProfiles>"
      "</scan:PlatenInputCaps></scan:Platen></scan:ScannerCapabilities>";
  expect_bad_caps(negative, strlen(negative), "XResolution value \"-300\"");
  const char *laughs = "<?xml version='1.0'?><!DOCTYPE lolz [<!ENTITY lol 'lol'>"
                       "<!ENTITY lol2 '&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;'>"
                       "<!ENTITY lol3 '&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;'>"
                       "<!ENTITY lol4 '&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;'>"
                       "<!ENTITY lol5 '&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;'>"
                       "<!ENTITY lol6 '&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;'>"
                       "<!ENTITY lol7 '&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;'>"
                       "<!ENTITY lol8 '&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;'>"
                       "<!ENTITY lol9 '&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;'>]>"
                       "<scan:ScannerCapabilities xmlns:scan='" ESCL_NS_SCAN
                       "'><scan:UUID>&lol9;</scan:UUID></scan:ScannerCapabilities>";
  /* libxml2 may already stop it as an entity loop; either way it is refused */
  expect_bad_caps(laughs, strlen(laughs), "ScannerCapabilities: ");
  const char *external =
      "<?xml version='1.0'?><!DOCTYPE x [<!ENTITY e SYSTEM 'file:///etc/passwd'>]>"
      "<scan:ScannerCapabilities xmlns:scan='" ESCL_NS_SCAN "'><scan:UUID>&e;</scan:UUID></scan:ScannerCapabilities>";
  expect_bad_caps(external, strlen(external), "DTD");
  const char *no_source =
      "<scan:ScannerCapabilities xmlns:scan='" ESCL_NS_SCAN "'><scan:UUID>x</scan:UUID></scan:ScannerCapabilities>";
  expect_bad_caps(no_source, strlen(no_source), "no Platen or Adf");

  ScandEsclStatus st;
  g_autoptr(GError) error = NULL;
  const char *no_state = "<scan:ScannerStatus xmlns:scan='" ESCL_NS_SCAN "'/>";
  g_assert_false(escl_status_decode(no_state, strlen(no_state), &st, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  g_assert_nonnull(strstr(error->message, "ScannerStatus"));
  g_clear_error(&error);
  g_assert_false(escl_status_decode("<a", 2, &st, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  scand_escl_status_clear(&st);
}

/* Reads one element's text from a built ScanSettings document by namespace. */
static char *xpath_text(xmlDoc *doc, const char *expr) {
  xmlXPathContext *ctx = xmlXPathNewContext(doc);
  xmlXPathRegisterNs(ctx, BAD_CAST "s", BAD_CAST ESCL_NS_SCAN);
  xmlXPathRegisterNs(ctx, BAD_CAST "p", BAD_CAST ESCL_NS_PWG);
  xmlXPathObject *obj = xmlXPathEvalExpression(BAD_CAST expr, ctx);
  char *result = NULL;
  if (obj && obj->nodesetval && obj->nodesetval->nodeNr == 1) {
    xmlChar *t = xmlNodeGetContent(obj->nodesetval->nodeTab[0]);
    result = g_strdup((const char *) t);
    xmlFree(t);
  }
  xmlXPathFreeObject(obj);
  xmlXPathFreeContext(ctx);
  return result;
}

#define assert_xpath(doc, expr, want)                                                                                  \
  G_STMT_START {                                                                                                       \
    g_autofree char *got_ = xpath_text(doc, expr);                                                                     \
    g_assert_cmpstr(got_, ==, want);                                                                                   \
  }                                                                                                                    \
  G_STMT_END

static void test_scan_settings(void) {
  g_autoptr(EsclCaps) caps = caps_from_file("hp-m426-caps.xml");
  /* A4 duplex grey at 250 dpi from the feeder, offset 10 mm. */
  ScandScanSettings want = { .source = SCAND_SOURCE_FEEDER,
                             .duplex = TRUE,
                             .mode = SCAND_MODE_GRAY,
                             .resolution = 250,
                             .x = 10,
                             .y = 0,
                             .width = 210,
                             .height = 297 };
  EsclScanRequest req;
  ScandScanSettings eff;
  g_autoptr(GError) error = NULL;
  g_assert_true(escl_scan_request_choose(caps, &want, 0, &req, &eff, &error));
  g_assert_no_error(error);
  g_assert_cmpint(req.input, ==, ESCL_INPUT_ADF_DUPLEX);
  g_assert_cmpint(req.resolution, ==, 300); /* duplex offers 150/300; 250 is nearer 300 */
  g_assert_cmpint(req.format, ==, ESCL_FORMAT_JPEG);
  g_assert_cmpint(req.x, ==, 118);
  g_assert_cmpint(req.width, ==, 2432);
  g_assert_cmpint(req.height, ==, 3508);
  g_assert_cmpint(eff.resolution, ==, 300);
  g_assert_true(eff.duplex);
  g_assert_cmpint(eff.mode, ==, SCAND_MODE_GRAY);
  g_autofree char *xml = escl_scan_settings_build(&req);
  xmlDoc *doc = xmlReadMemory(xml, (int) strlen(xml), NULL, NULL, XML_PARSE_NONET);
  g_assert_nonnull(doc);
  assert_xpath(doc, "/s:ScanSettings/p:Version", "2.63");
  assert_xpath(doc, "/s:ScanSettings/p:InputSource", "Feeder");
  assert_xpath(doc, "/s:ScanSettings/s:Duplex", "true");
  assert_xpath(doc, "/s:ScanSettings/s:ColorMode", "Grayscale8");
  assert_xpath(doc, "/s:ScanSettings/s:XResolution", "300");
  assert_xpath(doc, "/s:ScanSettings/s:YResolution", "300");
  assert_xpath(doc, "/s:ScanSettings/p:DocumentFormat", "image/jpeg");
  assert_xpath(doc, "/s:ScanSettings/s:DocumentFormatExt", "image/jpeg");
  assert_xpath(doc, "/s:ScanSettings/s:Intent", NULL); /* the duplex input names no intents */
  assert_xpath(doc, "/s:ScanSettings/p:ScanRegions/p:ScanRegion/p:ContentRegionUnits", "escl:ThreeHundredthsOfInches");
  assert_xpath(doc, "/s:ScanSettings/p:ScanRegions/p:ScanRegion/p:XOffset", "118");
  assert_xpath(doc, "/s:ScanSettings/p:ScanRegions/p:ScanRegion/p:Width", "2432"); /* clamped: 2550 - 118 */
  assert_xpath(doc, "/s:ScanSettings/p:ScanRegions/p:ScanRegion/p:Height", "3508");
  xmlFreeDoc(doc);
  escl_scan_request_clear(&req);

  /* Whole platen, colour, default resolution; no DocumentFormatExt on Canon. */
  g_autoptr(EsclCaps) canon = caps_from_file("canon-ir2625-caps.xml");
  ScandScanSettings platen = { .source = SCAND_SOURCE_FLATBED, .mode = SCAND_MODE_LINEART };
  g_assert_true(escl_scan_request_choose(canon, &platen, 600, &req, &eff, &error));
  g_assert_cmpint(req.color_mode, ==, ESCL_COLOR_GRAY8); /* no BlackAndWhite1: nearest is grey */
  g_assert_cmpint(req.resolution, ==, 300);
  g_assert_cmpint(req.width, ==, 3507);
  g_assert_cmpint(eff.max_pages, ==, 1);
  g_free(xml);
  xml = escl_scan_settings_build(&req);
  g_assert_null(strstr(xml, "DocumentFormatExt"));
  g_assert_null(strstr(xml, "Duplex"));
  g_assert_nonnull(strstr(xml, "<pwg:InputSource>Platen</pwg:InputSource>"));
  g_assert_null(strstr(xml, "Intent"));
  escl_scan_request_clear(&req);

  /* Epson feeder: PNG (no JPEG there), range resolution. */
  g_autoptr(EsclCaps) epson = caps_from_file("epson-et4850-caps.xml");
  ScandScanSettings feeder = { .source = SCAND_SOURCE_FEEDER, .resolution = 333 };
  g_assert_true(escl_scan_request_choose(epson, &feeder, 0, &req, &eff, &error));
  g_assert_cmpint(req.format, ==, ESCL_FORMAT_PNG);
  g_assert_cmpint(req.resolution, ==, 325);
  escl_scan_request_clear(&req);
  /* Duplex on a simplex feeder is refused. */
  feeder.duplex = TRUE;
  g_assert_false(escl_scan_request_choose(epson, &feeder, 0, &req, &eff, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED);
  g_clear_error(&error);
  escl_scan_request_clear(&req);
}

/* A device that offers only PDF pages gets asked for PDF (merged by pages). */
static void test_pdf_only_chosen(void) {
  const char *xml =
      "<scan:ScannerCapabilities xmlns:scan='" ESCL_NS_SCAN "' xmlns:pwg='" ESCL_NS_PWG "'>"
      "<scan:Platen><scan:PlatenInputCaps><scan:MaxWidth>2550</scan:MaxWidth><scan:MaxHeight>3508</scan:MaxHeight>"
      "<scan:SettingProfiles><scan:SettingProfile><scan:ColorModes><scan:ColorMode>RGB24</scan:ColorMode></"
      "scan:ColorModes>"
      "<scan:DocumentFormats><pwg:DocumentFormat>application/pdf</pwg:DocumentFormat></scan:DocumentFormats>"
      "<scan:SupportedResolutions><scan:DiscreteResolutions><scan:DiscreteResolution><scan:XResolution>300</"
      "scan:XResolution>"
      "</scan:DiscreteResolution></scan:DiscreteResolutions></scan:SupportedResolutions></scan:SettingProfile></"
      "scan:SettingProfiles>"
      "</scan:PlatenInputCaps></scan:Platen></scan:ScannerCapabilities>";
  g_autoptr(EsclCaps) caps = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(escl_caps_decode(xml, strlen(xml), &caps, &error));
  ScandScanSettings want = { 0 };
  EsclScanRequest req;
  g_assert_true(escl_scan_request_choose(caps, &want, 0, &req, NULL, &error));
  g_assert_no_error(error);
  g_assert_cmpint(req.format, ==, ESCL_FORMAT_PDF);
  escl_scan_request_clear(&req);
  escl_scan_request_clear(&req);
  /* no feeder */
  g_clear_error(&error);
  want.source = SCAND_SOURCE_FEEDER;
  g_assert_false(escl_scan_request_choose(caps, &want, 0, &req, NULL, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED);
  escl_scan_request_clear(&req);
}

static void test_location(void) {
  static const struct {
    const char *base, *location, *want;
  } cases[] = {
    { "http://10.0.0.5:8080/eSCL", "http://10.0.0.5:8080/eSCL/ScanJobs/42", "http://10.0.0.5:8080/eSCL/ScanJobs/42" },
    { "http://10.0.0.5:8080/eSCL", "/eSCL/ScanJobs/42/", "http://10.0.0.5:8080/eSCL/ScanJobs/42" },
    { "http://10.0.0.5:8080/eSCL", "ScanJobs/42", "http://10.0.0.5:8080/eSCL/ScanJobs/42" },
    { "http://10.0.0.5/eSCL/", "ScanJobs/42", "http://10.0.0.5/eSCL/ScanJobs/42" },
    /* another interface's address: keep our host */
    { "http://10.0.0.5:8080/eSCL", "http://192.168.7.1:80/eSCL/ScanJobs/42", "http://10.0.0.5:8080/eSCL/ScanJobs/42" },
    /* unbracketed IPv6 as some firmware writes it */
    { "http://[::1]:8080/eSCL", "http://::1:8080/eSCL/ScanJobs/abc", "http://[::1]:8080/eSCL/ScanJobs/abc" },
    { "http://[fe80::1%25eth0]:80/eSCL", "http://fe80::1:80/eSCL/ScanJobs/7",
      "http://[fe80::1%25eth0]:80/eSCL/ScanJobs/7" },
    { "https://mfp.example/eSCL", "  https://mfp.example/eSCL/ScanJobs/9?x=1  ",
      "https://mfp.example/eSCL/ScanJobs/9" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autoptr(GError) error = NULL;
    g_autofree char *got = escl_location_resolve(cases[i].base, cases[i].location, &error);
    g_assert_no_error(error);
    g_assert_cmpstr(got, ==, cases[i].want);
  }
  const char *bad[] = { NULL, "", "   ", "http://10.0.0.5:8080", "/" };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_assert_null(escl_location_resolve("http://10.0.0.5/eSCL", bad[i], &error));
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  }
}

static void test_fingerprint(void) {
  guint8 digest[32];
  for (guint i = 0; i < 32; i++)
    digest[i] = (guint8) (i * 17 + 10);
  g_autofree char *fp = scand_http_fingerprint_format(digest);
  g_assert_cmpuint(strlen(fp), ==, 7 + 32 * 3 - 1);
  g_assert_true(g_str_has_prefix(fp, "sha256:0A:1B:2C:"));
  guint8 back[32];
  g_autoptr(GError) error = NULL;
  g_assert_true(scand_http_pin_parse(fp, back, &error));
  g_assert_cmpmem(back, 32, digest, 32);
  /* lower case, no colons, as `openssl x509 -fingerprint` prints with sed */
  g_autofree char *lower = g_ascii_strdown(fp, -1);
  g_autofree char *plain = g_strdup(lower + 7);
  g_strdelimit(plain, ":", ' ');
  g_autofree char *compact = NULL;
  {
    GString *s = g_string_new("SHA256:");
    for (const char *p = plain; *p; p++)
      if (*p != ' ')
        g_string_append_c(s, *p);
    compact = g_string_free(s, FALSE);
  }
  memset(back, 0, sizeof back);
  g_assert_true(scand_http_pin_parse(lower, back, &error));
  g_assert_cmpmem(back, 32, digest, 32);
  g_assert_true(scand_http_pin_parse(compact, back, &error));
  g_assert_cmpmem(back, 32, digest, 32);
  const char *bad[] = { "", "sha256:", "sha256:AB:CD", "md5:AB", "sha256:ZZ" };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_assert_false(scand_http_pin_parse(bad[i], back, &error));
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
    g_clear_error(&error);
  }
  g_autofree char *too_long = g_strconcat(fp, ":00", NULL);
  g_assert_false(scand_http_pin_parse(too_long, back, &error));
  g_clear_error(&error);
}

static void test_quirks(void) {
  EsclQuirks q;
  escl_quirks_lookup("HP_Compact_Server", NULL, &q);
  g_assert_cmpstr(q.host_override, ==, "localhost");
  g_autofree char *h1 = escl_quirks_host_header(&q, "10.0.0.5", 8080, FALSE);
  g_assert_cmpstr(h1, ==, "localhost");
  escl_quirks_clear(&q);

  escl_quirks_lookup("EPSON_Linux UPnP/1.0 Epson UPnP SDK/1.0", NULL, &q);
  g_assert_true(q.host_with_port);
  g_autofree char *h2 = escl_quirks_host_header(&q, "10.0.0.5", 0, FALSE);
  g_assert_cmpstr(h2, ==, "10.0.0.5:80");
  g_autofree char *h3 = escl_quirks_host_header(&q, "[::1]", 0, TRUE);
  g_assert_cmpstr(h3, ==, "[::1]:443");
  escl_quirks_clear(&q);

  escl_quirks_lookup("debut/1.30", "Brother MFC-L2710DW series", &q);
  g_assert_cmpuint(q.first_page_delay_ms, >, 0);
  g_assert_cmpuint(q.early_404_window_ms, >, q.first_page_delay_ms);
  g_assert_cmpstr(q.names, ==, "Brother");
  escl_quirks_clear(&q);

  escl_quirks_lookup("Xerox_MFP", "Xerox B215 MFP", &q);
  g_assert_true(q.retry_404_410);
  escl_quirks_clear(&q);

  escl_quirks_lookup("nginx", "Some Other MFP", &q);
  g_assert_null(q.host_override);
  g_assert_false(q.host_with_port);
  g_assert_false(q.retry_404_410);
  g_assert_cmpint(q.max_resolution, ==, 0);
  g_autofree char *h4 = escl_quirks_host_header(&q, "10.0.0.5", 0, FALSE);
  g_assert_null(h4);
  escl_quirks_clear(&q);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/escl-xml/caps/hp-default-namespace", test_caps_hp_default_namespace);
  g_test_add_func("/escl-xml/caps/brother-duplex-option", test_caps_brother_duplex_option);
  g_test_add_func("/escl-xml/caps/canon-other-prefixes", test_caps_canon_other_prefixes);
  g_test_add_func("/escl-xml/caps/epson-ranges", test_caps_epson_ranges);
  g_test_add_func("/escl-xml/status/decode", test_status_decode);
  g_test_add_func("/escl-xml/status/adf-states", test_adf_states);
  g_test_add_func("/escl-xml/malformed", test_malformed);
  g_test_add_func("/escl-xml/scan-settings", test_scan_settings);
  g_test_add_func("/escl-xml/pdf-only-chosen", test_pdf_only_chosen);
  g_test_add_func("/escl-xml/location", test_location);
  g_test_add_func("/escl-xml/fingerprint", test_fingerprint);
  g_test_add_func("/escl-xml/quirks", test_quirks);
  return g_test_run();
}
