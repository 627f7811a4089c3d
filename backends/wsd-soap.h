/* WS-Scan (WSD scanning) as pure functions: build a SOAP request, decode a
 * SOAP reply. No sockets here; backends/wsd.c sends what this builds.
 *
 * The operations are rows of one table (wsd_ops[], like sane-airscan's
 * proto_handler): each row names the action and has a pure build and a pure
 * decode function. A new operation (WS-Eventing's Subscribe, Renew, …) is one
 * more row and one more WsdOp.
 *
 * Replies are parsed with scand/base/xml.h (no network, no DTD, no entity
 * expansion, size cap); elements are matched by namespace and local name,
 * never by prefix, and a namespace's http:// and https:// spellings are the
 * same (devices use both). A SOAP fault is a decoded reply like any other
 * (WsdReply.fault), whatever the HTTP status it came with: some devices send
 * faults with 200. Device text is kept only sanitised (valid UTF-8, no control
 * characters, bounded), so it may be printed as it is. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>
#include "backends/backend.h"
#include "scand/base/page.h"

G_BEGIN_DECLS

#define WSD_NS_SOAP "http://www.w3.org/2003/05/soap-envelope"
#define WSD_NS_SOAP11 "http://schemas.xmlsoap.org/soap/envelope/"
#define WSD_NS_WSA "http://schemas.xmlsoap.org/ws/2004/08/addressing"
#define WSD_NS_SCAN "http://schemas.microsoft.com/windows/2006/08/wdp/scan"
#define WSD_NS_EVENTING "http://schemas.xmlsoap.org/ws/2004/08/eventing"
#define WSD_NS_XOP "http://www.w3.org/2004/08/xop/include"
#define WSD_ADDR_ANONYMOUS WSD_NS_WSA "/role/anonymous"

/* The operations of the table. */
typedef enum {
  WSD_OP_GET_SCANNER_ELEMENTS,
  WSD_OP_VALIDATE_SCAN_TICKET,
  WSD_OP_CREATE_SCAN_JOB,
  WSD_OP_RETRIEVE_IMAGE,
  WSD_OP_CANCEL_JOB,
  WSD_OP_GET_JOB_ELEMENTS,
  WSD_OP_COUNT,
} WsdOp;

/* ---- capabilities (ScannerConfiguration) ---------------------------------- */

typedef enum {
  WSD_INPUT_PLATEN,
  WSD_INPUT_ADF_FRONT,
  WSD_INPUT_ADF_BACK,
  WSD_INPUT_COUNT,
} WsdInput;

/* ColorProcessing values scand can use, as bits. */
typedef enum {
  WSD_COLOR_BW1 = 1 << 0,   /* BlackAndWhite1 */
  WSD_COLOR_GRAY8 = 1 << 1, /* Grayscale8 */
  WSD_COLOR_RGB24 = 1 << 2, /* RGB24 */
} WsdColor;

/* Format values scand can use, as bits. */
typedef enum {
  WSD_FORMAT_JFIF = 1 << 0,
  WSD_FORMAT_EXIF = 1 << 1,
  WSD_FORMAT_PDF_A = 1 << 2,
  WSD_FORMAT_PNG = 1 << 3,
} WsdFormat;

/* One input (platen, ADF front, ADF back). Sizes in 1/1000 inch, width the
 * shorter side (sizes a device swapped are swapped back). */
typedef struct {
  gboolean present;
  int min_width, min_height, max_width, max_height;
  guint colors;        /* WsdColor bits */
  GArray *resolutions; /* int dpi offered for both width and height, sorted, unique */
} WsdInputCaps;

typedef struct {
  guint formats;       /* WsdFormat bits */
  char *formats_shown; /* every FormatValue as sent, for messages ("tiff-single-g4, dib") */
  WsdInputCaps inputs[WSD_INPUT_COUNT];
  gboolean duplex; /* ADFSupportsDuplex true, or an ADFBack described */
} WsdCaps;

void wsd_caps_free(WsdCaps *caps);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(WsdCaps, wsd_caps_free)

/* ---- status ----------------------------------------------------------------- */

typedef enum {
  WSD_SCANNER_UNKNOWN,
  WSD_SCANNER_IDLE,
  WSD_SCANNER_PROCESSING,
  WSD_SCANNER_STOPPED,
} WsdScannerState;

typedef struct {
  WsdScannerState state;
  char *state_word;   /* as sent, or NULL */
  GPtrArray *reasons; /* char*: ScannerStateReasons and the names of ActiveConditions, never NULL once decoded */
} WsdStatus;

void wsd_status_clear(WsdStatus *status);

/* What the reasons of a status mean for a scan: NULL when nothing stops it,
 * else a short static text ("paper jam in the document feeder") and in *code
 * SCAND_ERROR_JAMMED, _COVER_OPEN, _BUSY or _IO. *transient is TRUE for
 * reasons that pass by themselves (Calibrating, LampWarming). */
const char *wsd_status_problem(const WsdStatus *status, int *code, gboolean *transient);

/* ---- the ticket ---------------------------------------------------------------- */

/* What a CreateScanJob asks for. Region in 1/1000 inch. */
typedef struct {
  WsdInput input;   /* WSD_INPUT_PLATEN or WSD_INPUT_ADF_FRONT */
  gboolean duplex;  /* InputSource ADFDuplex */
  WsdFormat format; /* one bit */
  WsdColor color;   /* one bit */
  int resolution;
  int x, y, width, height;
  int images_to_transfer; /* 1 for the platen; 0 = "until the feeder is empty" */
} WsdTicket;

/* Picks the ticket for settings from what caps offers: the source asked for
 * (duplex only with a duplex feeder), the colour mode asked for or the
 * nearest richer one, the nearest resolution (300 dpi for 0; at most
 * max_resolution when > 0), JPEG (jfif, exif) or else PDF/A or PNG, the region
 * clamped to the input's area. images_all is ImagesToTransfer for "the whole
 * feeder" (0, or what a quirk asks for). Fails with SCAND_ERROR_UNSUPPORTED and
 * a sentence when the device cannot do what was asked. effective (may be
 * NULL) gets what will be used. */
gboolean wsd_ticket_choose(const WsdCaps *caps, const ScandScanSettings *settings, int max_resolution, int images_all,
                           WsdTicket *ticket, ScandScanSettings *effective, GError **error);

/* The page format of a ticket's Format. */
ScandPageFormat wsd_format_page_format(WsdFormat format);
/* "jfif", "RGB24", "Platen"/"ADF"/"ADFDuplex": the words of the protocol. */
const char *wsd_format_name(WsdFormat format);
const char *wsd_color_name(WsdColor color);
const char *wsd_ticket_source_name(const WsdTicket *ticket);

/* ---- requests ---------------------------------------------------------------- */

/* Everything a request may carry; each operation reads its own fields. */
typedef struct {
  const char *to;         /* the service's URL (wsa:To); an IPv6 zone is left out */
  const char *message_id; /* "urn:uuid:…"; NULL: a random one */
  /* GetScannerElements / GetJobElements: local names ("ScannerStatus") */
  const char *const *elements;
  const WsdTicket *ticket; /* CreateScanJob, ValidateScanTicket */
  const char *job_name;    /* CreateScanJob: JobName (NULL: "scand") */
  int job_id;              /* RetrieveImage, CancelJob, GetJobElements */
  const char *job_token;   /* RetrieveImage */
  /* CreateScanJob started from the device's panel (walk-up): from the
   * ScanAvailableEvent and the subscription. NULL for an ordinary scan. */
  const char *scan_identifier;
  const char *destination_token;
} WsdRequestArgs;

/* The SOAP envelope of op with args. Newly allocated. */
char *wsd_request_build(WsdOp op, const WsdRequestArgs *args);

/* The operation's name ("CreateScanJob") and its wsa:Action URI. */
const char *wsd_op_name(WsdOp op);
const char *wsd_op_action(WsdOp op);

/* ---- replies ----------------------------------------------------------------- */

/* A SOAP fault. */
typedef struct {
  char *code;    /* "Sender", "Receiver" (prefix dropped), or NULL */
  char *subcode; /* "ClientErrorNoImagesAvailable" (prefix dropped), or NULL */
  char *reason;  /* the first Reason/Text, or NULL */
} WsdFault;

/* The image information of one side. */
typedef struct {
  int pixels_per_line, lines, bytes_per_line; /* 0 when not given */
} WsdImageInfo;

/* JobStatus of GetJobElements. */
typedef struct {
  int job_id;
  char *state;         /* "Aborted", "Completed", … or NULL */
  GPtrArray *reasons;  /* char*, never NULL once decoded */
  int scans_completed; /* -1 when not given */
} WsdJobStatus;

/* A decoded reply. Fields belong to the operation that was asked; the rest
 * stay zero. */
typedef struct {
  char *relates_to; /* wsa:RelatesTo, or NULL */
  gboolean is_fault;
  WsdFault fault;
  /* GetScannerElements */
  WsdCaps *caps;      /* ScannerConfiguration, when asked and valid */
  char *scanner_name; /* ScannerDescription/ScannerName, or NULL */
  char *scanner_info;
  char *scanner_location;
  gboolean have_status;
  WsdStatus status;
  /* CreateScanJob */
  int job_id;
  char *job_token;
  WsdImageInfo front, back;
  /* RetrieveImage: the Content-ID the image part must have ("image@host", no
   * "cid:" and no angle brackets), or NULL when the reply named none */
  char *image_cid;
  /* GetJobElements */
  gboolean have_job_status;
  WsdJobStatus job_status;
  /* ValidateScanTicket */
  gboolean ticket_valid;
} WsdReply;

void wsd_reply_clear(WsdReply *reply);

/* Decodes len bytes of a reply to op. TRUE for a well-formed reply: either
 * the operation's response (its fields filled) or a fault (is_fault). FALSE
 * with SCAND_ERROR_INVAL and one line for anything else (malformed XML, not
 * SOAP, the response of another operation, a required element missing or
 * out of range). out is cleared first; clear it with wsd_reply_clear(). */
gboolean wsd_reply_decode(WsdOp op, const char *data, gsize len, WsdReply *out, GError **error);

/* Decodes only a ScannerConfiguration element's worth of a
 * GetScannerElementsResponse (for tests and the fuzzer): as above. */
gboolean wsd_caps_decode(const char *data, gsize len, WsdCaps **out, GError **error);

/* TRUE when n is the element ns:name (ns NULL: in any namespace or none).
 * A namespace's http:// and https:// spellings are the same, and the scan
 * namespace of the 2006/01 drafts is WSD_NS_SCAN. For ws-discovery-xml.c too. */
gboolean wsd_xml_is(const xmlNode *n, const char *ns, const char *name);
/* The first child element ns:name of n (n may be NULL), or NULL. */
xmlNode *wsd_xml_child(const xmlNode *n, const char *ns, const char *name);

/* A one-line description of a fault for messages: "ServerErrorNotAcceptingJobs
 * (the scanner cannot accept jobs now)". Newly allocated. */
char *wsd_fault_describe(const WsdFault *fault);

G_END_DECLS
