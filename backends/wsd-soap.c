/* WS-Scan requests and replies (see wsd-soap.h): the table of operations
 * first, then the builders, then the decoders, then the ticket choice. */
#include "backends/wsd-soap.h"
#include "scand/base/error.h"
#include "scand/base/xml.h"

#include <math.h>
#include <string.h>

#define WSD_SHOWN_MAX 200       /* device text kept for messages */
#define WSD_TOKEN_MAX 1024      /* JobToken, Content-ID */
#define WSD_SIZE_MAX 200000     /* 200 inches in 1/1000 inch */
#define WSD_RESOLUTION_MAX 9600 /* dpi */
#define WSD_LIST_MAX 64         /* reasons, resolutions, formats kept */

/* ---- the table ------------------------------------------------------------- */

typedef struct {
  const char *name;     /* "CreateScanJob": the action is WSD_NS_SCAN "/" name */
  const char *request;  /* the body element of the request */
  const char *response; /* the body element of the reply */
  void (*build)(GString *body, const WsdRequestArgs *args);
  gboolean (*decode)(const xmlNode *response, WsdReply *out, GError **error);
} WsdOpRow;

static void build_get_scanner_elements(GString *b, const WsdRequestArgs *a);
static void build_validate_scan_ticket(GString *b, const WsdRequestArgs *a);
static void build_create_scan_job(GString *b, const WsdRequestArgs *a);
static void build_retrieve_image(GString *b, const WsdRequestArgs *a);
static void build_cancel_job(GString *b, const WsdRequestArgs *a);
static void build_get_job_elements(GString *b, const WsdRequestArgs *a);
static gboolean decode_scanner_elements(const xmlNode *r, WsdReply *out, GError **error);
static gboolean decode_validate_scan_ticket(const xmlNode *r, WsdReply *out, GError **error);
static gboolean decode_create_scan_job(const xmlNode *r, WsdReply *out, GError **error);
static gboolean decode_retrieve_image(const xmlNode *r, WsdReply *out, GError **error);
static gboolean decode_cancel_job(const xmlNode *r, WsdReply *out, GError **error);
static gboolean decode_job_elements(const xmlNode *r, WsdReply *out, GError **error);

static const WsdOpRow wsd_ops[WSD_OP_COUNT] = {
  [WSD_OP_GET_SCANNER_ELEMENTS] = { "GetScannerElements", "GetScannerElementsRequest", "GetScannerElementsResponse",
                                    build_get_scanner_elements, decode_scanner_elements },
  [WSD_OP_VALIDATE_SCAN_TICKET] = { "ValidateScanTicket", "ValidateScanTicketRequest", "ValidateScanTicketResponse",
                                    build_validate_scan_ticket, decode_validate_scan_ticket },
  [WSD_OP_CREATE_SCAN_JOB] = { "CreateScanJob", "CreateScanJobRequest", "CreateScanJobResponse", build_create_scan_job,
                               decode_create_scan_job },
  [WSD_OP_RETRIEVE_IMAGE] = { "RetrieveImage", "RetrieveImageRequest", "RetrieveImageResponse", build_retrieve_image,
                              decode_retrieve_image },
  [WSD_OP_CANCEL_JOB] = { "CancelJob", "CancelJobRequest", "CancelJobResponse", build_cancel_job, decode_cancel_job },
  [WSD_OP_GET_JOB_ELEMENTS] = { "GetJobElements", "GetJobElementsRequest", "GetJobElementsResponse",
                                build_get_job_elements, decode_job_elements },
};

const char *wsd_op_name(WsdOp op) {
  return op < WSD_OP_COUNT ? wsd_ops[op].name : "?";
}

const char *wsd_op_action(WsdOp op) {
  static const char *const actions[WSD_OP_COUNT] = {
    [WSD_OP_GET_SCANNER_ELEMENTS] = WSD_NS_SCAN "/GetScannerElements",
    [WSD_OP_VALIDATE_SCAN_TICKET] = WSD_NS_SCAN "/ValidateScanTicket",
    [WSD_OP_CREATE_SCAN_JOB] = WSD_NS_SCAN "/CreateScanJob",
    [WSD_OP_RETRIEVE_IMAGE] = WSD_NS_SCAN "/RetrieveImage",
    [WSD_OP_CANCEL_JOB] = WSD_NS_SCAN "/CancelJob",
    [WSD_OP_GET_JOB_ELEMENTS] = WSD_NS_SCAN "/GetJobElements",
  };
  return op < WSD_OP_COUNT ? actions[op] : "?";
}

/* ---- words ------------------------------------------------------------------ */

const char *wsd_format_name(WsdFormat format) {
  switch (format) {
    case WSD_FORMAT_EXIF:
      return "exif";
    case WSD_FORMAT_PDF_A:
      return "pdf-a";
    case WSD_FORMAT_PNG:
      return "png";
    case WSD_FORMAT_JFIF:
    default:
      return "jfif";
  }
}

ScandPageFormat wsd_format_page_format(WsdFormat format) {
  return format == WSD_FORMAT_PDF_A ? SCAND_PAGE_PDF : format == WSD_FORMAT_PNG ? SCAND_PAGE_PNG : SCAND_PAGE_JPEG;
}

const char *wsd_color_name(WsdColor color) {
  return color == WSD_COLOR_BW1 ? "BlackAndWhite1" : color == WSD_COLOR_GRAY8 ? "Grayscale8" : "RGB24";
}

const char *wsd_ticket_source_name(const WsdTicket *t) {
  return t->input == WSD_INPUT_PLATEN ? "Platen" : t->duplex ? "ADFDuplex" : "ADF";
}

/* ---- building ------------------------------------------------------------------ */

/* Appends <name>text</name>, text escaped. */
static void add_text(GString *b, const char *name, const char *text) {
  g_autofree char *esc = g_markup_escape_text(text ? text : "", -1);
  g_string_append_printf(b, "<%s>%s</%s>", name, esc, name);
}

static void add_int(GString *b, const char *name, int v) {
  g_string_append_printf(b, "<%s>%d</%s>", name, v, name);
}

/* The URL without an IPv6 zone ("%25eth0"): the device does not know our
 * interface names. Newly allocated. */
static char *url_without_zone(const char *url) {
  const char *zone = url ? strstr(url, "%25") : NULL;
  const char *close = zone ? strchr(zone, ']') : NULL;
  if (!zone || !close)
    return g_strdup(url ? url : "");
  GString *s = g_string_new_len(url, zone - url);
  g_string_append(s, close);
  return g_string_free(s, FALSE);
}

char *wsd_request_build(WsdOp op, const WsdRequestArgs *args) {
  g_return_val_if_fail(op < WSD_OP_COUNT, NULL);
  GString *b = g_string_new("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                            "<soap:Envelope xmlns:soap=\"" WSD_NS_SOAP "\" xmlns:wsa=\"" WSD_NS_WSA
                            "\" xmlns:wscn=\"" WSD_NS_SCAN "\"><soap:Header>");
  g_autofree char *to = url_without_zone(args->to);
  g_autofree char *uuid = g_uuid_string_random();
  g_autofree char *random_id = g_strconcat("urn:uuid:", uuid, NULL);
  add_text(b, "wsa:To", to);
  add_text(b, "wsa:Action", wsd_op_action(op));
  add_text(b, "wsa:MessageID", args->message_id ? args->message_id : random_id);
  g_string_append(b, "<wsa:ReplyTo><wsa:Address>" WSD_ADDR_ANONYMOUS "</wsa:Address></wsa:ReplyTo>");
  g_string_append_printf(b, "</soap:Header><soap:Body><wscn:%s>", wsd_ops[op].request);
  wsd_ops[op].build(b, args);
  g_string_append_printf(b, "</wscn:%s></soap:Body></soap:Envelope>", wsd_ops[op].request);
  return g_string_free(b, FALSE);
}

static void add_element_names(GString *b, const char *const *names) {
  g_string_append(b, "<wscn:RequestedElements>");
  for (guint i = 0; names && names[i]; i++) {
    g_autofree char *qname = g_strconcat("wscn:", names[i], NULL);
    add_text(b, "wscn:Name", qname);
  }
  g_string_append(b, "</wscn:RequestedElements>");
}

static void build_get_scanner_elements(GString *b, const WsdRequestArgs *a) {
  add_element_names(b, a->elements);
}

static void build_get_job_elements(GString *b, const WsdRequestArgs *a) {
  add_int(b, "wscn:JobId", a->job_id);
  add_element_names(b, a->elements);
}

/* One side's parameters: region, colour, resolution (schema order). */
static void add_side(GString *b, const char *side, const WsdTicket *t) {
  g_string_append_printf(b, "<wscn:%s><wscn:ScanRegion>", side);
  add_int(b, "wscn:ScanRegionXOffset", t->x);
  add_int(b, "wscn:ScanRegionYOffset", t->y);
  add_int(b, "wscn:ScanRegionWidth", t->width);
  add_int(b, "wscn:ScanRegionHeight", t->height);
  g_string_append(b, "</wscn:ScanRegion>");
  add_text(b, "wscn:ColorProcessing", wsd_color_name(t->color));
  g_string_append(b, "<wscn:Resolution>");
  add_int(b, "wscn:Width", t->resolution);
  add_int(b, "wscn:Height", t->resolution);
  g_string_append_printf(b, "</wscn:Resolution></wscn:%s>", side);
}

/* A ScanTicket. JobInformation is optional in the schema, but the Canon
 * TR7500 refuses a ticket without it (InvalidArgs), so it is always sent. */
static void add_ticket(GString *b, const WsdTicket *t, const char *job_name) {
  g_string_append(b, "<wscn:ScanTicket><wscn:JobDescription>");
  add_text(b, "wscn:JobName", job_name ? job_name : "scand");
  add_text(b, "wscn:JobOriginatingUserName", "scand");
  add_text(b, "wscn:JobInformation", "scand");
  g_string_append(b, "</wscn:JobDescription><wscn:DocumentParameters>");
  add_text(b, "wscn:Format", wsd_format_name(t->format));
  add_int(b, "wscn:ImagesToTransfer", t->images_to_transfer);
  add_text(b, "wscn:InputSource", wsd_ticket_source_name(t));
  g_string_append(b, "<wscn:InputSize><wscn:InputMediaSize>");
  add_int(b, "wscn:Width", t->width);
  add_int(b, "wscn:Height", t->height);
  g_string_append(b, "</wscn:InputMediaSize></wscn:InputSize><wscn:MediaSides>");
  add_side(b, "MediaFront", t);
  if (t->duplex)
    add_side(b, "MediaBack", t);
  g_string_append(b, "</wscn:MediaSides></wscn:DocumentParameters></wscn:ScanTicket>");
}

static void build_validate_scan_ticket(GString *b, const WsdRequestArgs *a) {
  add_ticket(b, a->ticket, a->job_name);
}

static void build_create_scan_job(GString *b, const WsdRequestArgs *a) {
  if (a->scan_identifier)
    add_text(b, "wscn:ScanIdentifier", a->scan_identifier);
  if (a->destination_token)
    add_text(b, "wscn:DestinationToken", a->destination_token);
  add_ticket(b, a->ticket, a->job_name);
}

static void build_retrieve_image(GString *b, const WsdRequestArgs *a) {
  g_string_append(b, "<wscn:DocumentDescription><wscn:DocumentName>IMAGE000.JPG</wscn:DocumentName>"
                     "</wscn:DocumentDescription>");
  add_int(b, "wscn:JobId", a->job_id);
  add_text(b, "wscn:JobToken", a->job_token);
}

static void build_cancel_job(GString *b, const WsdRequestArgs *a) {
  add_int(b, "wscn:JobId", a->job_id);
}

/* ---- reading helpers ------------------------------------------------------------ */

/* TRUE when href is ns, spelled with http:// or https:// (devices use both);
 * the scan namespace of the 2006/01 drafts, which some devices still send, is
 * the scan namespace. */
static gboolean ns_equal(const char *href, const char *ns) {
  if (!href)
    return FALSE;
  const char *h = g_str_has_prefix(href, "https://") ? href + 8 : g_str_has_prefix(href, "http://") ? href + 7 : href;
  const char *n = g_str_has_prefix(ns, "http://") ? ns + 7 : ns;
  if (strcmp(h, n) == 0)
    return TRUE;
  return strcmp(ns, WSD_NS_SCAN) == 0 && strcmp(h, "schemas.microsoft.com/windows/2006/01/wdp/scan") == 0;
}

gboolean wsd_xml_is(const xmlNode *n, const char *ns, const char *name) {
  if (!n || n->type != XML_ELEMENT_NODE || strcmp((const char *) n->name, name) != 0)
    return FALSE;
  return !ns || (n->ns && ns_equal((const char *) n->ns->href, ns));
}

xmlNode *wsd_xml_child(const xmlNode *n, const char *ns, const char *name) {
  for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
    if (wsd_xml_is(c, ns, name))
      return c;
  return NULL;
}

/* Follows a path of local names in the scan namespace ("A", "B", NULL). */
static xmlNode *scan_path(const xmlNode *n, ...) {
  va_list ap;
  va_start(ap, n);
  const xmlNode *cur = n;
  for (const char *name = va_arg(ap, const char *); cur && name; name = va_arg(ap, const char *))
    cur = wsd_xml_child(cur, WSD_NS_SCAN, name);
  va_end(ap);
  return (xmlNode *) cur;
}

/* The element's text made printable (NULL for a missing element or empty
 * text). Newly allocated. */
static char *shown_text(const xmlNode *n) {
  if (!n)
    return NULL;
  g_autofree char *t = scand_xml_text(n);
  return *t ? scand_xml_shown(t, WSD_SHOWN_MAX) : NULL;
}

/* The local part of a QName ("wscn:InvalidArgs" → "InvalidArgs"). */
static const char *qname_local(const char *q) {
  const char *colon = q ? strrchr(q, ':') : NULL;
  return colon ? colon + 1 : q;
}

/* Reads an integer element in [min, max]. what names it in messages. */
static gboolean int_of(const xmlNode *n, const char *what, int min, int max, int *out, GError **error) {
  if (!n) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s missing", what);
    return FALSE;
  }
  g_autofree char *t = scand_xml_text(n);
  gint64 v = 0;
  if (!g_ascii_string_to_signed(t, 10, min, max, &v, NULL)) {
    g_autofree char *shown = scand_xml_shown(t, 40);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s \"%s\" is not a number in %d..%d", what, shown, min, max);
    return FALSE;
  }
  *out = (int) v;
  return TRUE;
}

/* An optional integer: *out stays unchanged when n is missing or bad. */
static void int_opt(const xmlNode *n, int min, int max, int *out) {
  int v;
  if (n && int_of(n, "", min, max, &v, NULL))
    *out = v;
}

static gboolean bool_of(const xmlNode *n) {
  g_autofree char *t = n ? scand_xml_text(n) : NULL;
  return t && (strcmp(t, "1") == 0 || g_ascii_strcasecmp(t, "true") == 0);
}

/* ---- capabilities -------------------------------------------------------------- */

static void input_clear(WsdInputCaps *in) {
  if (in->resolutions)
    g_array_unref(in->resolutions);
  memset(in, 0, sizeof *in);
}

void wsd_caps_free(WsdCaps *caps) {
  if (!caps)
    return;
  for (guint i = 0; i < WSD_INPUT_COUNT; i++)
    input_clear(&caps->inputs[i]);
  g_free(caps->formats_shown);
  g_free(caps);
}

static int int_cmp(gconstpointer a, gconstpointer b) {
  int x = *(const int *) a, y = *(const int *) b;
  return (x > y) - (x < y);
}

/* The values of the children named item (e.g. Widths/Width) as sorted
 * unique ints; bad values are skipped. */
static GArray *int_list(const xmlNode *list, const char *item) {
  GArray *a = g_array_new(FALSE, FALSE, sizeof(int));
  for (xmlNode *c = list ? list->children : NULL; c && a->len < WSD_LIST_MAX; c = c->next) {
    int v;
    if (wsd_xml_is(c, WSD_NS_SCAN, item) && int_of(c, item, 1, WSD_RESOLUTION_MAX, &v, NULL))
      g_array_append_val(a, v);
  }
  g_array_sort(a, int_cmp);
  for (guint i = 1; i < a->len;)
    if (g_array_index(a, int, i) == g_array_index(a, int, i - 1))
      g_array_remove_index(a, i);
    else
      i++;
  return a;
}

/* Resolutions offered for width and height alike. */
static GArray *resolutions_of(const xmlNode *res) {
  g_autoptr(GArray) w = int_list(wsd_xml_child(res, WSD_NS_SCAN, "Widths"), "Width");
  g_autoptr(GArray) h = int_list(wsd_xml_child(res, WSD_NS_SCAN, "Heights"), "Height");
  GArray *both = g_array_new(FALSE, FALSE, sizeof(int));
  for (guint i = 0; i < w->len; i++)
    for (guint k = 0; k < h->len; k++)
      if (g_array_index(w, int, i) == g_array_index(h, int, k))
        g_array_append_val(both, g_array_index(w, int, i));
  return both;
}

static guint color_bits(const xmlNode *colors) {
  guint bits = 0;
  for (xmlNode *c = colors ? colors->children : NULL; c; c = c->next) {
    if (!wsd_xml_is(c, WSD_NS_SCAN, "ColorEntry"))
      continue;
    g_autofree char *t = scand_xml_text(c);
    if (strcmp(t, "BlackAndWhite1") == 0)
      bits |= WSD_COLOR_BW1;
    else if (strcmp(t, "Grayscale8") == 0)
      bits |= WSD_COLOR_GRAY8;
    else if (strcmp(t, "RGB24") == 0)
      bits |= WSD_COLOR_RGB24;
  }
  return bits;
}

/* Reads Platen, ADFFront or ADFBack; prefix is "Platen" or "ADF". An input
 * that cannot be used stays !present, with why in *problem. */
static void decode_input(const xmlNode *n, const char *prefix, WsdInputCaps *in, char **problem) {
  g_autofree char *res_name = g_strconcat(prefix, "Resolutions", NULL);
  g_autofree char *color_name = g_strconcat(prefix, "Color", NULL);
  g_autofree char *min_name = g_strconcat(prefix, "MinimumSize", NULL);
  g_autofree char *max_name = g_strconcat(prefix, "MaximumSize", NULL);
  in->resolutions = resolutions_of(wsd_xml_child(n, WSD_NS_SCAN, res_name));
  in->colors = color_bits(wsd_xml_child(n, WSD_NS_SCAN, color_name));
  const xmlNode *max = wsd_xml_child(n, WSD_NS_SCAN, max_name);
  const xmlNode *min = wsd_xml_child(n, WSD_NS_SCAN, min_name);
  g_autoptr(GError) e = NULL;
  if (!int_of(wsd_xml_child(max, WSD_NS_SCAN, "Width"), "maximum width", 1, WSD_SIZE_MAX, &in->max_width, &e) ||
      !int_of(wsd_xml_child(max, WSD_NS_SCAN, "Height"), "maximum height", 1, WSD_SIZE_MAX, &in->max_height, &e)) {
    *problem = g_strdup(e->message);
    return;
  }
  int_opt(wsd_xml_child(min, WSD_NS_SCAN, "Width"), 0, WSD_SIZE_MAX, &in->min_width);
  int_opt(wsd_xml_child(min, WSD_NS_SCAN, "Height"), 0, WSD_SIZE_MAX, &in->min_height);
  /* Some devices (Kyocera ECOSYS M2040dn) send width and height swapped;
   * no scanner's area is wider than long. */
  if (in->max_width > in->max_height) {
    int t = in->max_width;
    in->max_width = in->max_height;
    in->max_height = t;
    t = in->min_width;
    in->min_width = in->min_height;
    in->min_height = t;
  }
  in->min_width = MIN(in->min_width, in->max_width);
  in->min_height = MIN(in->min_height, in->max_height);
  if (in->resolutions->len == 0)
    *problem = g_strdup("no resolution offered for both width and height");
  else if (in->colors == 0)
    *problem = g_strdup("none of BlackAndWhite1, Grayscale8, RGB24 offered");
  else
    in->present = TRUE;
}

static void decode_formats(const xmlNode *settings, WsdCaps *caps) {
  GString *shown = g_string_new(NULL);
  const xmlNode *list = wsd_xml_child(settings, WSD_NS_SCAN, "FormatsSupported");
  guint n = 0;
  for (xmlNode *c = list ? list->children : NULL; c && n < WSD_LIST_MAX; c = c->next) {
    if (!wsd_xml_is(c, WSD_NS_SCAN, "FormatValue"))
      continue;
    n++;
    g_autofree char *t = scand_xml_text(c);
    g_autofree char *s = scand_xml_shown(t, 40);
    g_string_append_printf(shown, "%s%s", shown->len ? ", " : "", s);
    if (strcmp(t, "jfif") == 0)
      caps->formats |= WSD_FORMAT_JFIF;
    else if (strcmp(t, "exif") == 0)
      caps->formats |= WSD_FORMAT_EXIF;
    else if (strcmp(t, "pdf-a") == 0)
      caps->formats |= WSD_FORMAT_PDF_A;
    else if (strcmp(t, "png") == 0)
      caps->formats |= WSD_FORMAT_PNG;
  }
  caps->formats_shown = g_string_free(shown, FALSE);
}

/* A ScannerConfiguration element into a new WsdCaps. */
static WsdCaps *decode_configuration(const xmlNode *conf, GError **error) {
  g_autoptr(WsdCaps) caps = g_new0(WsdCaps, 1);
  decode_formats(wsd_xml_child(conf, WSD_NS_SCAN, "DeviceSettings"), caps);
  g_autofree char *p_platen = NULL, *p_front = NULL, *p_back = NULL;
  const xmlNode *platen = wsd_xml_child(conf, WSD_NS_SCAN, "Platen");
  const xmlNode *adf = wsd_xml_child(conf, WSD_NS_SCAN, "ADF");
  const xmlNode *front = wsd_xml_child(adf, WSD_NS_SCAN, "ADFFront");
  const xmlNode *back = wsd_xml_child(adf, WSD_NS_SCAN, "ADFBack");
  if (platen)
    decode_input(platen, "Platen", &caps->inputs[WSD_INPUT_PLATEN], &p_platen);
  if (front)
    decode_input(front, "ADF", &caps->inputs[WSD_INPUT_ADF_FRONT], &p_front);
  if (back)
    decode_input(back, "ADF", &caps->inputs[WSD_INPUT_ADF_BACK], &p_back);
  /* The Brother MFC-9340CDW says ADFSupportsDuplex 0 yet describes ADFBack
   * and scans both sides: a described back side counts. */
  caps->duplex =
      caps->inputs[WSD_INPUT_ADF_FRONT].present &&
      (bool_of(wsd_xml_child(adf, WSD_NS_SCAN, "ADFSupportsDuplex")) || caps->inputs[WSD_INPUT_ADF_BACK].present);
  if (!caps->inputs[WSD_INPUT_PLATEN].present && !caps->inputs[WSD_INPUT_ADF_FRONT].present) {
    g_autoptr(GString) why = g_string_new(NULL);
    if (p_platen)
      g_string_append_printf(why, "platen: %s", p_platen);
    if (p_front)
      g_string_append_printf(why, "%sfeeder: %s", why->len ? "; " : "", p_front);
    if (!why->len)
      g_string_append(why, "neither is described");
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "ScannerConfiguration: no usable platen or feeder (%s)",
                why->str);
    return NULL;
  }
  return g_steal_pointer(&caps);
}

/* ---- status ---------------------------------------------------------------------- */

void wsd_status_clear(WsdStatus *status) {
  if (!status)
    return;
  g_free(status->state_word);
  if (status->reasons)
    g_ptr_array_unref(status->reasons);
  memset(status, 0, sizeof *status);
}

static void add_reason(GPtrArray *reasons, const xmlNode *n) {
  g_autofree char *t = shown_text(n);
  if (!t || strcmp(t, "None") == 0 || reasons->len >= WSD_LIST_MAX)
    return;
  for (guint i = 0; i < reasons->len; i++)
    if (strcmp(reasons->pdata[i], t) == 0)
      return;
  g_ptr_array_add(reasons, g_steal_pointer(&t));
}

static void decode_status(const xmlNode *st, WsdStatus *out) {
  out->reasons = g_ptr_array_new_with_free_func(g_free);
  out->state_word = shown_text(wsd_xml_child(st, WSD_NS_SCAN, "ScannerState"));
  const char *w = out->state_word ? out->state_word : "";
  out->state = strcmp(w, "Idle") == 0         ? WSD_SCANNER_IDLE
               : strcmp(w, "Processing") == 0 ? WSD_SCANNER_PROCESSING
               : strcmp(w, "Stopped") == 0    ? WSD_SCANNER_STOPPED
                                              : WSD_SCANNER_UNKNOWN;
  const xmlNode *reasons = wsd_xml_child(st, WSD_NS_SCAN, "ScannerStateReasons");
  for (xmlNode *c = reasons ? reasons->children : NULL; c; c = c->next)
    if (wsd_xml_is(c, WSD_NS_SCAN, "ScannerStateReason"))
      add_reason(out->reasons, c);
  const xmlNode *active = wsd_xml_child(st, WSD_NS_SCAN, "ActiveConditions");
  for (xmlNode *c = active ? active->children : NULL; c; c = c->next)
    if (wsd_xml_is(c, WSD_NS_SCAN, "DeviceCondition"))
      add_reason(out->reasons, wsd_xml_child(c, WSD_NS_SCAN, "Name"));
}

/* What each ScannerStateReason (and DeviceCondition name) means for a scan;
 * the first that matches in table order wins. */
static const struct {
  const char *reason;
  const char *problem;
  int code;
  gboolean transient;
} reason_table[] = {
  { "MediaJam", "paper jam in the document feeder", SCAND_ERROR_JAMMED, FALSE },
  { "MultipleFeedError", "several sheets were fed at once (paper jam)", SCAND_ERROR_JAMMED, FALSE },
  { "CoverOpen", "the cover is open", SCAND_ERROR_COVER_OPEN, FALSE },
  { "InterlockOpen", "a door or interlock is open", SCAND_ERROR_COVER_OPEN, FALSE },
  { "InputTrayEmpty", "the document feeder is empty", SCAND_ERROR_NO_DOCS, FALSE },
  { "LampError", "the scanner lamp failed", SCAND_ERROR_IO, FALSE },
  { "InternalStorageFull", "the scanner's memory is full", SCAND_ERROR_IO, FALSE },
  { "AttentionRequired", "the scanner needs attention at its panel", SCAND_ERROR_BUSY, FALSE },
  { "Calibrating", "the scanner is calibrating", SCAND_ERROR_BUSY, TRUE },
  { "LampWarming", "the scanner lamp is warming up", SCAND_ERROR_BUSY, TRUE },
};

const char *wsd_status_problem(const WsdStatus *status, int *code, gboolean *transient) {
  *transient = FALSE;
  for (guint k = 0; k < G_N_ELEMENTS(reason_table); k++)
    for (guint i = 0; status->reasons && i < status->reasons->len; i++)
      if (strcmp(status->reasons->pdata[i], reason_table[k].reason) == 0) {
        *code = reason_table[k].code;
        *transient = reason_table[k].transient;
        return reason_table[k].problem;
      }
  return NULL;
}

/* ---- replies -------------------------------------------------------------------- */

static void fault_clear(WsdFault *f) {
  g_free(f->code);
  g_free(f->subcode);
  g_free(f->reason);
  memset(f, 0, sizeof *f);
}

static void job_status_clear(WsdJobStatus *j) {
  g_free(j->state);
  if (j->reasons)
    g_ptr_array_unref(j->reasons);
  memset(j, 0, sizeof *j);
}

void wsd_reply_clear(WsdReply *r) {
  if (!r)
    return;
  g_free(r->relates_to);
  fault_clear(&r->fault);
  wsd_caps_free(r->caps);
  g_free(r->scanner_name);
  g_free(r->scanner_info);
  g_free(r->scanner_location);
  wsd_status_clear(&r->status);
  g_free(r->job_token);
  g_free(r->image_cid);
  job_status_clear(&r->job_status);
  memset(r, 0, sizeof *r);
}

/* A QName's local part, made printable. Newly allocated or NULL. */
static char *local_of(const xmlNode *n) {
  g_autofree char *t = n ? scand_xml_text(n) : NULL;
  return t && *t ? scand_xml_shown(qname_local(t), WSD_SHOWN_MAX) : NULL;
}

/* SOAP 1.2 (Code/Value, Code/Subcode/Value, Reason/Text) or SOAP 1.1
 * (faultcode, faultstring). The innermost Subcode is the most specific. */
static void decode_fault(const xmlNode *f, gboolean soap12, WsdFault *out) {
  if (!soap12) {
    out->code = local_of(wsd_xml_child(f, NULL, "faultcode"));
    out->reason = shown_text(wsd_xml_child(f, NULL, "faultstring"));
    return;
  }
  const xmlNode *code = wsd_xml_child(f, WSD_NS_SOAP, "Code");
  out->code = local_of(wsd_xml_child(code, WSD_NS_SOAP, "Value"));
  const xmlNode *sub = wsd_xml_child(code, WSD_NS_SOAP, "Subcode");
  for (guint depth = 0; sub && depth < 8; depth++) {
    g_free(out->subcode);
    out->subcode = local_of(wsd_xml_child(sub, WSD_NS_SOAP, "Value"));
    sub = wsd_xml_child(sub, WSD_NS_SOAP, "Subcode");
  }
  out->reason = shown_text(wsd_xml_child(wsd_xml_child(f, WSD_NS_SOAP, "Reason"), WSD_NS_SOAP, "Text"));
}

char *wsd_fault_describe(const WsdFault *f) {
  const char *what = f->subcode ? f->subcode : f->code ? f->code : "SOAP fault";
  if (f->reason && g_strcmp0(f->reason, what) != 0)
    return g_strdup_printf("%s (%s)", what, f->reason);
  return g_strdup(what);
}

/* The first element child of n. */
static xmlNode *first_element(const xmlNode *n) {
  for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
    if (c->type == XML_ELEMENT_NODE)
      return c;
  return NULL;
}

/* Finds Body's element in a SOAP 1.2 or 1.1 envelope; sets *soap12. */
static xmlNode *envelope_body(xmlDoc *doc, const char *what, gboolean *soap12, xmlNode **header, GError **error) {
  xmlNode *root = xmlDocGetRootElement(doc);
  *soap12 = wsd_xml_is(root, WSD_NS_SOAP, "Envelope");
  const char *ns = *soap12 ? WSD_NS_SOAP : WSD_NS_SOAP11;
  if (!*soap12 && !wsd_xml_is(root, WSD_NS_SOAP11, "Envelope")) {
    /* scand_xml_root() words what was found instead. */
    scand_xml_root(doc, WSD_NS_SOAP, "Envelope", what, error);
    if (error && !*error)
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: not a SOAP envelope", what);
    return NULL;
  }
  *header = wsd_xml_child(root, ns, "Header");
  xmlNode *body = first_element(wsd_xml_child(root, ns, "Body"));
  if (!body)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: SOAP envelope without a body element", what);
  return body;
}

gboolean wsd_reply_decode(WsdOp op, const char *data, gsize len, WsdReply *out, GError **error) {
  g_return_val_if_fail(op < WSD_OP_COUNT, FALSE);
  memset(out, 0, sizeof *out);
  const WsdOpRow *row = &wsd_ops[op];
  g_autofree char *what = g_strdup_printf("reply to %s", row->name);
  g_autoptr(xmlDoc) doc = scand_xml_parse(data, len, what, error);
  if (!doc)
    return FALSE;
  gboolean soap12;
  xmlNode *header = NULL;
  xmlNode *body = envelope_body(doc, what, &soap12, &header, error);
  if (!body)
    return FALSE;
  out->relates_to = shown_text(wsd_xml_child(header, WSD_NS_WSA, "RelatesTo"));
  if (wsd_xml_is(body, soap12 ? WSD_NS_SOAP : WSD_NS_SOAP11, "Fault")) {
    out->is_fault = TRUE;
    decode_fault(body, soap12, &out->fault);
    return TRUE;
  }
  if (!wsd_xml_is(body, WSD_NS_SCAN, row->response)) {
    g_autofree char *name = scand_xml_shown((const char *) body->name, 60);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: body is <%s>, expected %s", what, name, row->response);
    wsd_reply_clear(out);
    return FALSE;
  }
  g_autoptr(GError) local = NULL;
  if (!row->decode(body, out, &local)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: %s", what, local->message);
    wsd_reply_clear(out);
    return FALSE;
  }
  return TRUE;
}

/* ElementData children of a ScannerElements/JobElements list, Valid ones. */
static gboolean element_data_valid(const xmlNode *d) {
  g_autofree char *valid = (char *) xmlGetProp(d, (const xmlChar *) "Valid");
  return !valid || (strcmp(valid, "false") != 0 && strcmp(valid, "0") != 0);
}

static gboolean decode_scanner_elements(const xmlNode *r, WsdReply *out, GError **error) {
  const xmlNode *list = scan_path(r, "ScannerElements", NULL);
  if (!list) {
    g_set_error_literal(error, SCAND_ERROR, SCAND_ERROR_INVAL, "ScannerElements missing");
    return FALSE;
  }
  for (xmlNode *d = list->children; d; d = d->next) {
    if (!wsd_xml_is(d, WSD_NS_SCAN, "ElementData") || !element_data_valid(d))
      continue;
    const xmlNode *conf = wsd_xml_child(d, WSD_NS_SCAN, "ScannerConfiguration");
    const xmlNode *desc = wsd_xml_child(d, WSD_NS_SCAN, "ScannerDescription");
    const xmlNode *st = wsd_xml_child(d, WSD_NS_SCAN, "ScannerStatus");
    if (conf && !out->caps && !(out->caps = decode_configuration(conf, error)))
      return FALSE;
    if (desc && !out->scanner_name) {
      out->scanner_name = shown_text(wsd_xml_child(desc, WSD_NS_SCAN, "ScannerName"));
      out->scanner_info = shown_text(wsd_xml_child(desc, WSD_NS_SCAN, "ScannerInfo"));
      out->scanner_location = shown_text(wsd_xml_child(desc, WSD_NS_SCAN, "ScannerLocation"));
    }
    if (st && !out->have_status) {
      decode_status(st, &out->status);
      out->have_status = TRUE;
    }
  }
  return TRUE;
}

static gboolean decode_validate_scan_ticket(const xmlNode *r, WsdReply *out, GError **error) {
  const xmlNode *v = scan_path(r, "ValidationInfo", "ValidTicket", NULL);
  if (!v) {
    g_set_error_literal(error, SCAND_ERROR, SCAND_ERROR_INVAL, "ValidationInfo/ValidTicket missing");
    return FALSE;
  }
  out->ticket_valid = bool_of(v);
  return TRUE;
}

/* A token the device wants back as it is: valid UTF-8, no control
 * characters, not empty, bounded. Newly allocated or NULL. */
static char *token_of(const xmlNode *n, const char *what, GError **error) {
  g_autofree char *t = n ? scand_xml_text(n) : NULL;
  gboolean ok = t && *t && strlen(t) <= WSD_TOKEN_MAX && g_utf8_validate(t, -1, NULL);
  for (const char *p = t; ok && *p; p++)
    ok = (guchar) *p >= 0x20 && *p != 0x7f;
  if (!ok) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s %s", what, n ? "unusable" : "missing");
    return NULL;
  }
  return g_steal_pointer(&t);
}

static void decode_image_info(const xmlNode *n, WsdImageInfo *info) {
  int_opt(wsd_xml_child(n, WSD_NS_SCAN, "PixelsPerLine"), 1, G_MAXINT, &info->pixels_per_line);
  int_opt(wsd_xml_child(n, WSD_NS_SCAN, "NumberOfLines"), 1, G_MAXINT, &info->lines);
  int_opt(wsd_xml_child(n, WSD_NS_SCAN, "BytesPerLine"), 1, G_MAXINT, &info->bytes_per_line);
}

static gboolean decode_create_scan_job(const xmlNode *r, WsdReply *out, GError **error) {
  if (!int_of(wsd_xml_child(r, WSD_NS_SCAN, "JobId"), "JobId", 1, G_MAXINT, &out->job_id, error))
    return FALSE;
  if (!(out->job_token = token_of(wsd_xml_child(r, WSD_NS_SCAN, "JobToken"), "JobToken", error)))
    return FALSE;
  decode_image_info(scan_path(r, "ImageInformation", "MediaFrontImageInfo", NULL), &out->front);
  decode_image_info(scan_path(r, "ImageInformation", "MediaBackImageInfo", NULL), &out->back);
  return TRUE;
}

static gboolean decode_retrieve_image(const xmlNode *r, WsdReply *out, GError **error) {
  const xmlNode *data = wsd_xml_child(r, WSD_NS_SCAN, "ScanData");
  if (!data) {
    g_set_error_literal(error, SCAND_ERROR, SCAND_ERROR_INVAL, "ScanData missing");
    return FALSE;
  }
  const xmlNode *inc = wsd_xml_child(data, WSD_NS_XOP, "Include");
  if (!inc)
    return TRUE; /* no reference: the one attachment is the image */
  g_autofree char *href = (char *) xmlGetProp(inc, (const xmlChar *) "href");
  if (!href || g_ascii_strncasecmp(href, "cid:", 4) != 0) {
    g_set_error_literal(error, SCAND_ERROR, SCAND_ERROR_INVAL, "xop:Include without a cid: href");
    return FALSE;
  }
  /* RFC 2392: a cid URL is the Content-ID, percent-encoded. */
  g_autofree char *cid = g_uri_unescape_string(href + 4, NULL);
  if (!cid || !*cid || strlen(cid) > WSD_TOKEN_MAX) {
    g_set_error_literal(error, SCAND_ERROR, SCAND_ERROR_INVAL, "xop:Include href unusable");
    return FALSE;
  }
  out->image_cid = g_steal_pointer(&cid);
  return TRUE;
}

static gboolean decode_cancel_job(const xmlNode *r, WsdReply *out, GError **error) {
  (void) r, (void) out, (void) error; /* an empty CancelJobResponse says it all */
  return TRUE;
}

static gboolean decode_job_elements(const xmlNode *r, WsdReply *out, GError **error) {
  const xmlNode *list = scan_path(r, "JobElements", NULL);
  if (!list) {
    g_set_error_literal(error, SCAND_ERROR, SCAND_ERROR_INVAL, "JobElements missing");
    return FALSE;
  }
  for (xmlNode *d = list->children; d && !out->have_job_status; d = d->next) {
    const xmlNode *js = wsd_xml_is(d, WSD_NS_SCAN, "ElementData") && element_data_valid(d)
                            ? wsd_xml_child(d, WSD_NS_SCAN, "JobStatus")
                            : NULL;
    if (!js)
      continue;
    WsdJobStatus *j = &out->job_status;
    j->reasons = g_ptr_array_new_with_free_func(g_free);
    j->scans_completed = -1;
    int_opt(wsd_xml_child(js, WSD_NS_SCAN, "JobId"), 1, G_MAXINT, &j->job_id);
    j->state = shown_text(wsd_xml_child(js, WSD_NS_SCAN, "JobState"));
    const xmlNode *reasons = wsd_xml_child(js, WSD_NS_SCAN, "JobStateReasons");
    for (xmlNode *c = reasons ? reasons->children : NULL; c; c = c->next)
      if (wsd_xml_is(c, WSD_NS_SCAN, "JobStateReason"))
        add_reason(j->reasons, c);
    int_opt(wsd_xml_child(js, WSD_NS_SCAN, "ScansCompleted"), 0, G_MAXINT, &j->scans_completed);
    out->have_job_status = TRUE;
  }
  return TRUE;
}

gboolean wsd_caps_decode(const char *data, gsize len, WsdCaps **out, GError **error) {
  *out = NULL;
  WsdReply r;
  if (!wsd_reply_decode(WSD_OP_GET_SCANNER_ELEMENTS, data, len, &r, error))
    return FALSE;
  if (r.is_fault || !r.caps) {
    g_autofree char *f = r.is_fault ? wsd_fault_describe(&r.fault) : NULL;
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "GetScannerElements: %s%s",
                f ? "fault " : "no valid ScannerConfiguration in the reply", f ? f : "");
    wsd_reply_clear(&r);
    return FALSE;
  }
  *out = g_steal_pointer(&r.caps);
  wsd_reply_clear(&r);
  return TRUE;
}

/* ---- choosing the ticket ------------------------------------------------------------ */

static int mm_to_1000(double mm) {
  return (int) lround(mm * 1000.0 / 25.4);
}

static double from_1000(int v) {
  return v * 25.4 / 1000.0;
}

/* The offered resolution nearest to want (ties: the higher), at most cap
 * when cap > 0 (then the lowest offered if all are above). */
static int nearest_resolution(const GArray *res, int want, int cap) {
  int best = 0;
  long best_dist = G_MAXLONG;
  for (guint i = 0; res && i < res->len; i++) {
    int r = g_array_index(res, int, i);
    if (cap > 0 && r > cap)
      continue;
    long d = labs((long) r - want);
    if (d < best_dist || (d == best_dist && r > best)) {
      best = r;
      best_dist = d;
    }
  }
  if (!best && res && res->len)
    best = g_array_index(res, int, 0);
  return best;
}

/* What the chosen input offers; for duplex, what both sides offer. Fills
 * colors and res (a new array). */
static void offered(const WsdCaps *caps, WsdInput input, gboolean duplex, guint *colors, GArray **res) {
  const WsdInputCaps *in = &caps->inputs[input];
  const WsdInputCaps *back = &caps->inputs[WSD_INPUT_ADF_BACK];
  *colors = in->colors;
  *res = g_array_new(FALSE, FALSE, sizeof(int));
  gboolean both = duplex && back->present;
  if (both)
    *colors &= back->colors;
  for (guint i = 0; i < in->resolutions->len; i++) {
    int r = g_array_index(in->resolutions, int, i);
    gboolean ok = !both;
    for (guint k = 0; both && k < back->resolutions->len && !ok; k++)
      ok = g_array_index(back->resolutions, int, k) == r;
    if (ok)
      g_array_append_val(*res, r);
  }
}

/* Source and duplex for settings; FALSE with a sentence when impossible. */
static gboolean choose_input(const WsdCaps *caps, const ScandScanSettings *settings, WsdTicket *t, GError **error) {
  gboolean platen = caps->inputs[WSD_INPUT_PLATEN].present, feeder = caps->inputs[WSD_INPUT_ADF_FRONT].present;
  ScandSource source = settings->source;
  if (source == SCAND_SOURCE_AUTO)
    source = platen ? SCAND_SOURCE_FLATBED : SCAND_SOURCE_FEEDER;
  if (source == SCAND_SOURCE_FLATBED) {
    if (!platen) {
      g_set_error_literal(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED,
                          "the scanner has no flatbed (platen), only a feeder");
      return FALSE;
    }
    if (settings->duplex) {
      g_set_error_literal(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED,
                          "duplex needs the document feeder; the flatbed scans one side");
      return FALSE;
    }
    t->input = WSD_INPUT_PLATEN;
    return TRUE;
  }
  if (!feeder) {
    g_set_error_literal(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "the scanner has no usable document feeder");
    return FALSE;
  }
  if (settings->duplex && !caps->duplex) {
    g_set_error_literal(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED,
                        "the scanner's feeder cannot scan both sides (simplex only)");
    return FALSE;
  }
  t->input = WSD_INPUT_ADF_FRONT;
  t->duplex = settings->duplex;
  return TRUE;
}

/* The colour asked for, else the nearest richer one. */
static WsdColor choose_color(ScandColorMode mode, guint colors) {
  static const WsdColor want_color[] = { WSD_COLOR_RGB24, WSD_COLOR_GRAY8, WSD_COLOR_BW1 };
  static const WsdColor want_gray[] = { WSD_COLOR_GRAY8, WSD_COLOR_RGB24, WSD_COLOR_BW1 };
  static const WsdColor want_bw[] = { WSD_COLOR_BW1, WSD_COLOR_GRAY8, WSD_COLOR_RGB24 };
  const WsdColor *order = mode == SCAND_MODE_GRAY ? want_gray : mode == SCAND_MODE_LINEART ? want_bw : want_color;
  for (guint i = 0; i < 3; i++)
    if (colors & order[i])
      return order[i];
  return 0;
}

/* One axis of the region (offset, length) in 1/1000 inch, clamped. */
static void clamp_axis(double off_mm, double len_mm, int min, int max, int *off, int *len) {
  *off = CLAMP(mm_to_1000(off_mm), 0, max - 1);
  *len = len_mm > 0 ? mm_to_1000(len_mm) : 0;
  if (*len <= 0 || *off + *len > max)
    *len = max - *off;
  *len = MAX(*len, MIN(min, max - *off));
}

gboolean wsd_ticket_choose(const WsdCaps *caps, const ScandScanSettings *settings, int max_resolution, int images_all,
                           WsdTicket *t, ScandScanSettings *effective, GError **error) {
  memset(t, 0, sizeof *t);
  if (!choose_input(caps, settings, t, error))
    return FALSE;
  const char *where = t->input == WSD_INPUT_PLATEN ? "flatbed" : t->duplex ? "duplex feeder" : "feeder";
  guint colors;
  g_autoptr(GArray) res = NULL;
  offered(caps, t->input, t->duplex, &colors, &res);
  if (!(t->color = choose_color(settings->mode, colors))) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED,
                "the scanner offers no RGB24, Grayscale8 or BlackAndWhite1 mode on the %s", where);
    return FALSE;
  }
  if (!(t->resolution =
            nearest_resolution(res, settings->resolution > 0 ? settings->resolution : 300, max_resolution))) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "the scanner offers no resolution on the %s", where);
    return FALSE;
  }
  static const WsdFormat formats[] = { WSD_FORMAT_JFIF, WSD_FORMAT_EXIF, WSD_FORMAT_PDF_A, WSD_FORMAT_PNG };
  for (guint i = 0; i < G_N_ELEMENTS(formats) && !t->format; i++)
    if (caps->formats & formats[i])
      t->format = formats[i];
  if (!t->format) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED,
                "the scanner offers none of jfif, exif, pdf-a and png (it offers: %s)",
                caps->formats_shown && *caps->formats_shown ? caps->formats_shown : "nothing");
    return FALSE;
  }
  const WsdInputCaps *in = &caps->inputs[t->input];
  clamp_axis(settings->x, settings->width, in->min_width, in->max_width, &t->x, &t->width);
  clamp_axis(settings->y, settings->height, in->min_height, in->max_height, &t->y, &t->height);
  t->images_to_transfer = t->input == WSD_INPUT_PLATEN ? 1 : images_all;
  if (effective) {
    *effective = *settings;
    effective->source = t->input == WSD_INPUT_PLATEN ? SCAND_SOURCE_FLATBED : SCAND_SOURCE_FEEDER;
    effective->duplex = t->duplex;
    effective->mode = t->color == WSD_COLOR_RGB24   ? SCAND_MODE_COLOR
                      : t->color == WSD_COLOR_GRAY8 ? SCAND_MODE_GRAY
                                                    : SCAND_MODE_LINEART;
    effective->resolution = t->resolution;
    effective->x = from_1000(t->x);
    effective->y = from_1000(t->y);
    effective->width = from_1000(t->width);
    effective->height = from_1000(t->height);
    if (t->input == WSD_INPUT_PLATEN)
      effective->max_pages = 1;
  }
  return TRUE;
}
