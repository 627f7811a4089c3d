#include "backends/escl-xml.h"
#include "scand/base/error.h"
#include "scand/base/xml.h"

#include <libxml/tree.h>
#include <math.h>
#include <string.h>

/* ---- small XML helpers -------------------------------------------------- */

static char *shown(const char *text, gsize max) {
  return scand_xml_shown(text, max);
}

/* TRUE when n is an element of one of the two eSCL namespaces with this local
 * name. Prefixes are never looked at. */
static gboolean node_is(const xmlNode *n, const char *name) {
  return scand_xml_is(n, ESCL_NS_SCAN, name) || scand_xml_is(n, ESCL_NS_PWG, name);
}

/* The element's text, never expanding entities. Newly allocated, trimmed. */
static char *node_text(const xmlNode *n) {
  return scand_xml_text(n);
}

/* Reads an integer child value in [min, max]. */
static gboolean node_int(const xmlNode *n, gint64 min, gint64 max, int *out, GError **error) {
  g_autofree char *text = node_text(n);
  gint64 v = 0;
  g_autoptr(GError) local = NULL;
  if (!g_ascii_string_to_signed(text, 10, min, max, &v, &local)) {
    g_autofree char *value = shown(text, 40);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "%s value \"%s\" is not a number in %" G_GINT64_FORMAT "..%" G_GINT64_FORMAT, (const char *) n->name,
                value, min, max);
    return FALSE;
  }
  *out = (int) v;
  return TRUE;
}

/* Parses a document safely (scand/base/xml.h) and checks that its root is
 * the eSCL element root_name. */
static xmlDoc *parse_doc(const char *xml, gsize len, const char *root_name, GError **error) {
  g_autoptr(xmlDoc) doc = scand_xml_parse(xml, len, root_name, error);
  if (!doc)
    return NULL;
  xmlNode *root = xmlDocGetRootElement(doc);
  if (!root || !node_is(root, root_name)) {
    g_autofree char *prefix = shown(root && root->ns && root->ns->prefix ? (const char *) root->ns->prefix : "", 40);
    g_autofree char *name = shown(root ? (const char *) root->name : "(none)", 60);
    g_autofree char *href = shown(root && root->ns && root->ns->href ? (const char *) root->ns->href : "(none)", 100);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: root element is <%s%s%s> in namespace %s, expected eSCL %s",
                root_name, prefix, *prefix ? ":" : "", name, href, root_name);
    return NULL;
  }
  return g_steal_pointer(&doc);
}

/* ---- names -------------------------------------------------------------- */

static const struct {
  EsclColorMode mode;
  const char *name;
} color_modes[] = {
  { ESCL_COLOR_BW1, "BlackAndWhite1" }, { ESCL_COLOR_GRAY8, "Grayscale8" }, { ESCL_COLOR_GRAY16, "Grayscale16" },
  { ESCL_COLOR_RGB24, "RGB24" },        { ESCL_COLOR_RGB48, "RGB48" },
};

const char *escl_color_mode_name(EsclColorMode mode) {
  for (guint i = 0; i < G_N_ELEMENTS(color_modes); i++)
    if (color_modes[i].mode == mode)
      return color_modes[i].name;
  return "RGB24";
}

const char *escl_format_mime(EsclFormat format) {
  switch (format) {
    case ESCL_FORMAT_JPEG:
      return "image/jpeg";
    case ESCL_FORMAT_PNG:
      return "image/png";
    case ESCL_FORMAT_PDF:
      return "application/pdf";
    default:
      return "application/octet-stream";
  }
}

const char *escl_input_name(EsclInput input) {
  switch (input) {
    case ESCL_INPUT_PLATEN:
      return "platen";
    case ESCL_INPUT_ADF_SIMPLEX:
      return "feeder";
    case ESCL_INPUT_ADF_DUPLEX:
      return "feeder (duplex)";
    default:
      return "?";
  }
}

static EsclFormat format_from_mime(const char *mime) {
  if (g_ascii_strcasecmp(mime, "image/jpeg") == 0 || g_ascii_strcasecmp(mime, "image/jpg") == 0)
    return ESCL_FORMAT_JPEG;
  if (g_ascii_strcasecmp(mime, "image/png") == 0)
    return ESCL_FORMAT_PNG;
  if (g_ascii_strcasecmp(mime, "application/pdf") == 0)
    return ESCL_FORMAT_PDF;
  return ESCL_FORMAT_OTHER;
}

static const char *const adf_words[] = {
  [SCAND_ESCL_ADF_UNKNOWN] = NULL,
  [SCAND_ESCL_ADF_PROCESSING] = "ScannerAdfProcessing",
  [SCAND_ESCL_ADF_EMPTY] = "ScannerAdfEmpty",
  [SCAND_ESCL_ADF_JAM] = "ScannerAdfJam",
  [SCAND_ESCL_ADF_LOADED] = "ScannerAdfLoaded",
  [SCAND_ESCL_ADF_MISPICK] = "ScannerAdfMispick",
  [SCAND_ESCL_ADF_HATCH_OPEN] = "ScannerAdfHatchOpen",
  [SCAND_ESCL_ADF_DUPLEX_PAGE_TOO_SHORT] = "ScannerAdfDuplexPageTooShort",
  [SCAND_ESCL_ADF_DUPLEX_PAGE_TOO_LONG] = "ScannerAdfDuplexPageTooLong",
  [SCAND_ESCL_ADF_MULTIPICK_DETECTED] = "ScannerAdfMultipickDetected",
  [SCAND_ESCL_ADF_INPUT_TRAY_FAILED] = "ScannerAdfInputTrayFailed",
  [SCAND_ESCL_ADF_INPUT_TRAY_OVERLOADED] = "ScannerAdfInputTrayOverloaded",
  [SCAND_ESCL_ADF_OTHER] = NULL,
};

ScandEsclAdfState escl_adf_state_from_string(const char *s) {
  if (!s || !*s)
    return SCAND_ESCL_ADF_UNKNOWN;
  for (guint i = 0; i < G_N_ELEMENTS(adf_words); i++)
    if (adf_words[i] && g_ascii_strcasecmp(s, adf_words[i]) == 0)
      return (ScandEsclAdfState) i;
  return SCAND_ESCL_ADF_OTHER;
}

const char *scand_escl_adf_state_to_string(ScandEsclAdfState state) {
  static const char *const names[] = {
    [SCAND_ESCL_ADF_UNKNOWN] = "unknown",
    [SCAND_ESCL_ADF_PROCESSING] = "processing",
    [SCAND_ESCL_ADF_EMPTY] = "empty",
    [SCAND_ESCL_ADF_JAM] = "jammed",
    [SCAND_ESCL_ADF_LOADED] = "loaded",
    [SCAND_ESCL_ADF_MISPICK] = "mispick",
    [SCAND_ESCL_ADF_HATCH_OPEN] = "hatch open",
    [SCAND_ESCL_ADF_DUPLEX_PAGE_TOO_SHORT] = "duplex page too short",
    [SCAND_ESCL_ADF_DUPLEX_PAGE_TOO_LONG] = "duplex page too long",
    [SCAND_ESCL_ADF_MULTIPICK_DETECTED] = "multiple sheets picked",
    [SCAND_ESCL_ADF_INPUT_TRAY_FAILED] = "input tray failed",
    [SCAND_ESCL_ADF_INPUT_TRAY_OVERLOADED] = "input tray overloaded",
    [SCAND_ESCL_ADF_OTHER] = "other",
  };
  return (guint) state < G_N_ELEMENTS(names) ? names[state] : "?";
}

const char *scand_escl_adf_state_problem(ScandEsclAdfState state, int *code) {
  switch (state) {
    case SCAND_ESCL_ADF_EMPTY:
      *code = SCAND_ERROR_NO_DOCS;
      return "the feeder is empty";
    case SCAND_ESCL_ADF_JAM:
      *code = SCAND_ERROR_JAMMED;
      return "paper jam in the feeder";
    case SCAND_ESCL_ADF_MISPICK:
      *code = SCAND_ERROR_JAMMED;
      return "the feeder failed to pick a sheet (mispick)";
    case SCAND_ESCL_ADF_MULTIPICK_DETECTED:
      *code = SCAND_ERROR_JAMMED;
      return "the feeder picked several sheets at once";
    case SCAND_ESCL_ADF_DUPLEX_PAGE_TOO_SHORT:
      *code = SCAND_ERROR_JAMMED;
      return "a sheet is too short for duplex scanning";
    case SCAND_ESCL_ADF_DUPLEX_PAGE_TOO_LONG:
      *code = SCAND_ERROR_JAMMED;
      return "a sheet is too long for duplex scanning";
    case SCAND_ESCL_ADF_HATCH_OPEN:
      *code = SCAND_ERROR_COVER_OPEN;
      return "the feeder hatch is open";
    case SCAND_ESCL_ADF_INPUT_TRAY_FAILED:
      *code = SCAND_ERROR_IO;
      return "the feeder input tray failed";
    case SCAND_ESCL_ADF_INPUT_TRAY_OVERLOADED:
      *code = SCAND_ERROR_IO;
      return "the feeder input tray is overloaded";
    default:
      return NULL;
  }
}

void escl_status_to_device_status(const ScandEsclStatus *in, ScandDeviceStatus *out) {
  int code = 0;
  const char *problem = scand_escl_adf_state_problem(in->adf_state, &code);
  *out = (ScandDeviceStatus){
    .state = in->state,
    .feeder_word = scand_escl_adf_state_to_string(in->adf_state),
  };
  switch (in->adf_state) {
    case SCAND_ESCL_ADF_EMPTY:
      out->feeder = SCAND_FEEDER_EMPTY;
      break;
    case SCAND_ESCL_ADF_LOADED:
      out->feeder = SCAND_FEEDER_LOADED;
      break;
    case SCAND_ESCL_ADF_PROCESSING:
      out->feeder = SCAND_FEEDER_FEEDING;
      break;
    default:
      out->feeder = problem ? SCAND_FEEDER_PROBLEM : SCAND_FEEDER_UNKNOWN;
      out->problem = problem;
      out->problem_code = problem ? code : 0;
      break;
  }
}

ScandDeviceState escl_device_state_from_string(const char *s) {
  if (!s)
    return SCAND_DEVICE_UNKNOWN;
  if (g_ascii_strcasecmp(s, "Idle") == 0)
    return SCAND_DEVICE_IDLE;
  if (g_ascii_strcasecmp(s, "Processing") == 0 || g_ascii_strcasecmp(s, "Testing") == 0)
    return SCAND_DEVICE_PROCESSING;
  if (g_ascii_strcasecmp(s, "Stopped") == 0)
    return SCAND_DEVICE_STOPPED;
  if (g_ascii_strcasecmp(s, "Down") == 0)
    return SCAND_DEVICE_DOWN;
  return SCAND_DEVICE_UNKNOWN;
}

/* ---- capabilities ------------------------------------------------------- */

static void input_caps_clear(EsclInputCaps *in) {
  if (in->resolutions)
    g_array_unref(in->resolutions);
  if (in->intents)
    g_ptr_array_unref(in->intents);
  memset(in, 0, sizeof *in);
}

void escl_caps_free(EsclCaps *caps) {
  if (!caps)
    return;
  g_free(caps->version);
  g_free(caps->make_and_model);
  g_free(caps->serial);
  g_free(caps->uuid);
  for (guint i = 0; i < ESCL_INPUT_COUNT; i++)
    input_caps_clear(&caps->inputs[i]);
  g_free(caps);
}

static void add_resolution(EsclInputCaps *in, int dpi) {
  for (guint i = 0; i < in->resolutions->len; i++)
    if (g_array_index(in->resolutions, int, i) == dpi)
      return;
  g_array_append_val(in->resolutions, dpi);
}

static int cmp_int(gconstpointer a, gconstpointer b) {
  return *(const int *) a - *(const int *) b;
}

#define MAX_DIM 100000 /* 1/300 in: over 8 m */
#define MAX_DPI 100000

/* Walks the subtree of an input's capabilities, collecting what matters
 * wherever the device nests it (SettingProfiles differ between vendors). */
static gboolean walk_input(const xmlNode *n, EsclInputCaps *in, GError **error) {
  for (const xmlNode *c = n->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    if (node_is(c, "ColorMode")) {
      g_autofree char *t = node_text(c);
      for (guint i = 0; i < G_N_ELEMENTS(color_modes); i++)
        if (strcmp(t, color_modes[i].name) == 0)
          in->color_modes |= color_modes[i].mode;
    } else if (node_is(c, "DocumentFormat") || node_is(c, "DocumentFormatExt")) {
      g_autofree char *t = node_text(c);
      in->formats |= format_from_mime(t);
      if (node_is(c, "DocumentFormatExt"))
        in->format_ext = TRUE;
    } else if (node_is(c, "DiscreteResolution")) {
      int x = 0;
      gboolean have = FALSE;
      for (const xmlNode *r = c->children; r; r = r->next)
        if (node_is(r, "XResolution")) {
          if (!node_int(r, 1, MAX_DPI, &x, error))
            return FALSE;
          have = TRUE;
        }
      if (have)
        add_resolution(in, x);
    } else if (node_is(c, "XResolutionRange")) {
      int min = 0, max = 0, step = 1;
      for (const xmlNode *r = c->children; r; r = r->next) {
        if (node_is(r, "Min") && !node_int(r, 1, MAX_DPI, &min, error))
          return FALSE;
        if (node_is(r, "Max") && !node_int(r, 1, MAX_DPI, &max, error))
          return FALSE;
        if (node_is(r, "Step") && !node_int(r, 0, MAX_DPI, &step, error))
          return FALSE;
      }
      if (max >= min && max > 0) {
        in->res_min = in->res_max ? MIN(in->res_min, min) : min;
        in->res_max = MAX(in->res_max, max);
        in->res_step = step > 0 ? step : 1;
      }
    } else if (node_is(c, "Intent")) {
      char *t = node_text(c);
      if (*t && in->intents->len < 64)
        g_ptr_array_add(in->intents, t);
      else
        g_free(t);
    } else if (node_is(c, "YResolutionRange") || node_is(c, "ColorSpaces") || node_is(c, "CcdChannels") ||
               node_is(c, "BinaryRenderings")) {
      /* nothing we use */
    } else {
      if (!walk_input(c, in, error))
        return FALSE;
    }
  }
  return TRUE;
}

static gboolean decode_input(const xmlNode *n, EsclInputCaps *in, GError **error) {
  in->present = TRUE;
  in->resolutions = g_array_new(FALSE, FALSE, sizeof(int));
  in->intents = g_ptr_array_new_with_free_func(g_free);
  for (const xmlNode *c = n->children; c; c = c->next) {
    int *dim = node_is(c, "MinWidth")    ? &in->min_width
               : node_is(c, "MaxWidth")  ? &in->max_width
               : node_is(c, "MinHeight") ? &in->min_height
               : node_is(c, "MaxHeight") ? &in->max_height
                                         : NULL;
    if (dim && !node_int(c, 0, MAX_DIM, dim, error))
      return FALSE;
  }
  if (!walk_input(n, in, error))
    return FALSE;
  g_array_sort(in->resolutions, cmp_int);
  return TRUE;
}

static void copy_input(const EsclInputCaps *from, EsclInputCaps *to) {
  *to = *from;
  to->resolutions = g_array_copy(from->resolutions);
  to->intents = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < from->intents->len; i++)
    g_ptr_array_add(to->intents, g_strdup(g_ptr_array_index(from->intents, i)));
}

gboolean escl_caps_decode(const char *xml, gsize len, EsclCaps **out, GError **error) {
  g_autoptr(xmlDoc) doc = parse_doc(xml, len, "ScannerCapabilities", error);
  if (!doc)
    return FALSE;
  g_autoptr(EsclCaps) caps = g_new0(EsclCaps, 1);
  gboolean duplex_option = FALSE;
  g_autoptr(GError) local = NULL;
  const xmlNode *root = xmlDocGetRootElement(doc);

  for (const xmlNode *c = root->children; c && !local; c = c->next) {
    if (node_is(c, "Version")) {
      g_free(caps->version);
      caps->version = node_text(c);
    } else if (node_is(c, "MakeAndModel")) {
      g_free(caps->make_and_model);
      caps->make_and_model = node_text(c);
    } else if (node_is(c, "SerialNumber")) {
      g_free(caps->serial);
      caps->serial = node_text(c);
    } else if (node_is(c, "UUID")) {
      g_free(caps->uuid);
      caps->uuid = node_text(c);
    } else if (node_is(c, "Platen")) {
      for (const xmlNode *p = c->children; p && !local; p = p->next)
        if (node_is(p, "PlatenInputCaps") && !caps->inputs[ESCL_INPUT_PLATEN].present)
          decode_input(p, &caps->inputs[ESCL_INPUT_PLATEN], &local);
    } else if (node_is(c, "Adf")) {
      for (const xmlNode *a = c->children; a && !local; a = a->next) {
        if (node_is(a, "AdfSimplexInputCaps") && !caps->inputs[ESCL_INPUT_ADF_SIMPLEX].present)
          decode_input(a, &caps->inputs[ESCL_INPUT_ADF_SIMPLEX], &local);
        else if (node_is(a, "AdfDuplexInputCaps") && !caps->inputs[ESCL_INPUT_ADF_DUPLEX].present)
          decode_input(a, &caps->inputs[ESCL_INPUT_ADF_DUPLEX], &local);
        else if (node_is(a, "FeederCapacity"))
          node_int(a, 0, 100000, &caps->feeder_capacity, &local);
        else if (node_is(a, "AdfOptions")) {
          for (const xmlNode *o = a->children; o; o = o->next)
            if (node_is(o, "AdfOption")) {
              g_autofree char *t = node_text(o);
              if (strcmp(t, "Duplex") == 0)
                duplex_option = TRUE;
              else if (strcmp(t, "DetectPaperLoaded") == 0)
                caps->adf_detect_paper = TRUE;
            }
        }
      }
    }
  }
  g_clear_pointer(&doc, xmlFreeDoc);
  if (local) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "ScannerCapabilities: %s", local->message);
    return FALSE;
  }
  /* Many devices describe duplex only as an AdfOption and reuse the simplex
   * capabilities for it. */
  if (duplex_option && caps->inputs[ESCL_INPUT_ADF_SIMPLEX].present && !caps->inputs[ESCL_INPUT_ADF_DUPLEX].present)
    copy_input(&caps->inputs[ESCL_INPUT_ADF_SIMPLEX], &caps->inputs[ESCL_INPUT_ADF_DUPLEX]);
  if (!caps->inputs[ESCL_INPUT_PLATEN].present && !caps->inputs[ESCL_INPUT_ADF_SIMPLEX].present &&
      !caps->inputs[ESCL_INPUT_ADF_DUPLEX].present) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "ScannerCapabilities: no Platen or Adf input source");
    return FALSE;
  }
  *out = g_steal_pointer(&caps);
  return TRUE;
}

/* ---- status ------------------------------------------------------------- */

static void job_clear(gpointer p) {
  ScandEsclJob *job = p;
  g_free(job->uri);
  g_free(job->uuid);
  g_free(job->state);
  g_free(job->reason);
}

void scand_escl_status_clear(ScandEsclStatus *status) {
  if (!status)
    return;
  g_free(status->adf_state_word);
  if (status->jobs)
    g_array_unref(status->jobs);
  memset(status, 0, sizeof *status);
  status->state = SCAND_DEVICE_UNKNOWN;
}

static gboolean decode_job(const xmlNode *n, ScandEsclJob *job, GError **error) {
  job->images_completed = job->images_to_transfer = job->age = -1;
  for (const xmlNode *c = n->children; c; c = c->next) {
    if (node_is(c, "JobUri")) {
      g_free(job->uri);
      job->uri = node_text(c);
    } else if (node_is(c, "JobUuid")) {
      g_free(job->uuid);
      job->uuid = node_text(c);
    } else if (node_is(c, "JobState")) {
      g_free(job->state);
      job->state = node_text(c);
    } else if (node_is(c, "JobStateReasons")) {
      for (const xmlNode *r = c->children; r; r = r->next)
        if (node_is(r, "JobStateReason") && !job->reason)
          job->reason = node_text(r);
    } else if (node_is(c, "ImagesCompleted")) {
      if (!node_int(c, 0, G_MAXINT, &job->images_completed, error))
        return FALSE;
    } else if (node_is(c, "ImagesToTransfer")) {
      if (!node_int(c, 0, G_MAXINT, &job->images_to_transfer, error))
        return FALSE;
    } else if (node_is(c, "Age")) {
      if (!node_int(c, 0, G_MAXINT, &job->age, error))
        return FALSE;
    }
  }
  return TRUE;
}

gboolean escl_status_decode(const char *xml, gsize len, ScandEsclStatus *out, GError **error) {
  memset(out, 0, sizeof *out);
  out->state = SCAND_DEVICE_UNKNOWN;
  g_autoptr(xmlDoc) doc = parse_doc(xml, len, "ScannerStatus", error);
  if (!doc)
    return FALSE;
  ScandEsclStatus st = { .state = SCAND_DEVICE_UNKNOWN };
  st.jobs = g_array_new(FALSE, TRUE, sizeof(ScandEsclJob));
  g_array_set_clear_func(st.jobs, job_clear);
  g_autoptr(GError) local = NULL;
  gboolean have_state = FALSE;
  const xmlNode *root = xmlDocGetRootElement(doc);
  for (const xmlNode *c = root->children; c && !local; c = c->next) {
    if (node_is(c, "State")) {
      g_autofree char *t = node_text(c);
      st.state = escl_device_state_from_string(t);
      have_state = TRUE;
    } else if (node_is(c, "AdfState")) {
      g_free(st.adf_state_word);
      st.adf_state_word = node_text(c);
      st.adf_state = escl_adf_state_from_string(st.adf_state_word);
    } else if (node_is(c, "Jobs")) {
      for (const xmlNode *j = c->children; j && !local; j = j->next)
        if (node_is(j, "JobInfo") && st.jobs->len < 1000) {
          ScandEsclJob job = { 0 };
          g_array_append_val(st.jobs, job);
          decode_job(j, &g_array_index(st.jobs, ScandEsclJob, st.jobs->len - 1), &local);
        }
    }
  }
  g_clear_pointer(&doc, xmlFreeDoc);
  if (!local && !have_state)
    g_set_error(&local, SCAND_ERROR, SCAND_ERROR_INVAL, "no pwg:State element");
  if (local) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "ScannerStatus: %s", local->message);
    scand_escl_status_clear(&st);
    return FALSE;
  }
  *out = st;
  return TRUE;
}

/* Last path segment, ignoring a trailing slash. */
static const char *last_segment(const char *path, gsize *len) {
  gsize n = strlen(path);
  while (n > 0 && path[n - 1] == '/')
    n--;
  gsize start = n;
  while (start > 0 && path[start - 1] != '/')
    start--;
  *len = n - start;
  return path + start;
}

const ScandEsclJob *escl_status_find_job(const ScandEsclStatus *status, const char *job_path) {
  if (!status->jobs || !job_path)
    return NULL;
  gsize want_len;
  const char *want = last_segment(job_path, &want_len);
  if (want_len == 0)
    return NULL;
  for (guint i = 0; i < status->jobs->len; i++) {
    const ScandEsclJob *job = &g_array_index(status->jobs, ScandEsclJob, i);
    if (!job->uri)
      continue;
    gsize len;
    const char *seg = last_segment(job->uri, &len);
    if (len == want_len && memcmp(seg, want, len) == 0)
      return job;
  }
  return NULL;
}

/* ---- ScanSettings ------------------------------------------------------- */

void escl_scan_request_clear(EsclScanRequest *req) {
  g_free(req->version);
  memset(req, 0, sizeof *req);
}

int escl_input_nearest_resolution(const EsclInputCaps *in, int want, int cap) {
  int best = 0;
  long best_dist = G_MAXLONG;
  /* Candidates: every discrete value and the range snapped to its step. */
  for (guint i = 0; in->resolutions && i < in->resolutions->len; i++) {
    int r = g_array_index(in->resolutions, int, i);
    if (cap > 0 && r > cap)
      continue;
    long d = labs((long) r - want);
    if (d < best_dist || (d == best_dist && r > best)) {
      best = r;
      best_dist = d;
    }
  }
  if (in->res_max > 0) {
    int max = cap > 0 ? MIN(in->res_max, cap) : in->res_max;
    if (max >= in->res_min) {
      int step = in->res_step > 0 ? in->res_step : 1;
      int r = CLAMP(want, in->res_min, max);
      r = in->res_min + ((r - in->res_min) + step / 2) / step * step;
      while (r > max)
        r -= step;
      long d = labs((long) r - want);
      if (d < best_dist) {
        best = r;
        best_dist = d;
      }
    }
  }
  if (best == 0 && cap > 0) /* everything is above the cap: take the smallest */
    return escl_input_nearest_resolution(in, 0, 0);
  return best;
}

static int mm_to_300(double mm) {
  return (int) lround(mm * 300.0 / 25.4);
}

static double from_300(int v) {
  return v * 25.4 / 300.0;
}

/* The input source: the one asked for, the duplex feeder for duplex. */
static gboolean choose_input(const EsclCaps *caps, const ScandScanSettings *settings, EsclScanRequest *req,
                             GError **error) {
  const EsclInputCaps *platen = &caps->inputs[ESCL_INPUT_PLATEN];
  const EsclInputCaps *simplex = &caps->inputs[ESCL_INPUT_ADF_SIMPLEX];
  const EsclInputCaps *duplex = &caps->inputs[ESCL_INPUT_ADF_DUPLEX];
  ScandSource source = settings->source;
  if (source == SCAND_SOURCE_AUTO)
    source = platen->present ? SCAND_SOURCE_FLATBED : SCAND_SOURCE_FEEDER;
  if (source == SCAND_SOURCE_FLATBED) {
    if (!platen->present) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "the scanner has no flatbed (platen), only a feeder");
      return FALSE;
    }
    req->input = ESCL_INPUT_PLATEN;
    return TRUE;
  }
  if (!simplex->present && !duplex->present) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "the scanner has no document feeder");
    return FALSE;
  }
  if (settings->duplex && !duplex->present) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED,
                "the scanner's feeder cannot scan both sides (simplex only)");
    return FALSE;
  }
  req->input = settings->duplex || !simplex->present ? ESCL_INPUT_ADF_DUPLEX : ESCL_INPUT_ADF_SIMPLEX;
  return TRUE;
}

/* Colour mode: the one asked for, else the nearest richer one. */
static gboolean choose_color_mode(const EsclInputCaps *in, ScandColorMode mode, EsclScanRequest *req, GError **error) {
  static const EsclColorMode want_color[] = { ESCL_COLOR_RGB24, ESCL_COLOR_GRAY8, ESCL_COLOR_BW1 };
  static const EsclColorMode want_gray[] = { ESCL_COLOR_GRAY8, ESCL_COLOR_RGB24, ESCL_COLOR_BW1 };
  static const EsclColorMode want_bw[] = { ESCL_COLOR_BW1, ESCL_COLOR_GRAY8, ESCL_COLOR_RGB24 };
  const EsclColorMode *order = mode == SCAND_MODE_GRAY ? want_gray : mode == SCAND_MODE_LINEART ? want_bw : want_color;
  for (guint i = 0; i < 3 && !req->color_mode; i++)
    if (in->color_modes & order[i])
      req->color_mode = order[i];
  if (req->color_mode)
    return TRUE;
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED,
              "the scanner offers no 8-bit colour, grey or black-and-white mode on the %s",
              escl_input_name(req->input));
  return FALSE;
}

/* The page format: JPEG, else PNG, else PDF (merged by pages into the
 * document, scand/core/pdf-merge.h, never re-encoded). */
static gboolean choose_format(const EsclInputCaps *in, EsclScanRequest *req, GError **error) {
  if (in->formats & ESCL_FORMAT_JPEG)
    req->format = ESCL_FORMAT_JPEG;
  else if (in->formats & ESCL_FORMAT_PNG)
    req->format = ESCL_FORMAT_PNG;
  else if (in->formats & ESCL_FORMAT_PDF)
    req->format = ESCL_FORMAT_PDF;
  else {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED,
                "the scanner offers none of image/jpeg, image/png and application/pdf");
    return FALSE;
  }
  req->format_ext = in->format_ext;
  return TRUE;
}

/* Region in 1/300 inch, clamped to the input's area. */
static void choose_region(const EsclInputCaps *in, const ScandScanSettings *settings, EsclScanRequest *req) {
  int max_w = in->max_width, max_h = in->max_height;
  req->x = MAX(0, mm_to_300(settings->x));
  req->y = MAX(0, mm_to_300(settings->y));
  req->width = settings->width > 0 ? mm_to_300(settings->width) : 0;
  req->height = settings->height > 0 ? mm_to_300(settings->height) : 0;
  if (max_w > 0) {
    req->x = MIN(req->x, max_w - 1);
    if (req->width <= 0 || req->x + req->width > max_w)
      req->width = max_w - req->x;
    req->width = MAX(req->width, MIN(in->min_width, max_w - req->x));
  }
  if (max_h > 0) {
    req->y = MIN(req->y, max_h - 1);
    if (req->height <= 0 || req->y + req->height > max_h)
      req->height = max_h - req->y;
    req->height = MAX(req->height, MIN(in->min_height, max_h - req->y));
  }
}

/* What the request will really do, in the generic terms of settings. */
static void fill_effective(const EsclScanRequest *req, const ScandScanSettings *settings,
                           ScandScanSettings *effective) {
  *effective = *settings;
  effective->source = req->input == ESCL_INPUT_PLATEN ? SCAND_SOURCE_FLATBED : SCAND_SOURCE_FEEDER;
  effective->duplex = req->input == ESCL_INPUT_ADF_DUPLEX;
  effective->mode = req->color_mode == ESCL_COLOR_RGB24   ? SCAND_MODE_COLOR
                    : req->color_mode == ESCL_COLOR_GRAY8 ? SCAND_MODE_GRAY
                                                          : SCAND_MODE_LINEART;
  effective->resolution = req->resolution;
  effective->x = from_300(req->x);
  effective->y = from_300(req->y);
  effective->width = req->width > 0 ? from_300(req->width) : settings->width;
  effective->height = req->height > 0 ? from_300(req->height) : settings->height;
  if (req->input == ESCL_INPUT_PLATEN)
    effective->max_pages = 1;
}

gboolean escl_scan_request_choose(const EsclCaps *caps, const ScandScanSettings *settings, int max_resolution,
                                  EsclScanRequest *req, ScandScanSettings *effective, GError **error) {
  memset(req, 0, sizeof *req);
  if (!choose_input(caps, settings, req, error))
    return FALSE;
  const EsclInputCaps *in = &caps->inputs[req->input];
  if (!choose_color_mode(in, settings->mode, req, error))
    return FALSE;
  req->resolution =
      escl_input_nearest_resolution(in, settings->resolution > 0 ? settings->resolution : 300, max_resolution);
  if (req->resolution <= 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "the scanner advertises no resolution for the %s",
                escl_input_name(req->input));
    return FALSE;
  }
  if (!choose_format(in, req, error))
    return FALSE;
  choose_region(in, settings, req);
  for (guint i = 0; in->intents && i < in->intents->len; i++)
    if (strcmp(g_ptr_array_index(in->intents, i), "Document") == 0)
      req->intent = "Document";
  req->version = g_strdup(caps->version && *caps->version ? caps->version : "2.0");
  if (effective)
    fill_effective(req, settings, effective);
  return TRUE;
}

char *escl_scan_settings_build(const EsclScanRequest *req) {
  GString *s = g_string_new(NULL);
  g_string_append(s, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<scan:ScanSettings xmlns:scan=\"" ESCL_NS_SCAN "\" xmlns:pwg=\"" ESCL_NS_PWG "\">\n");
  g_autofree char *version = g_markup_escape_text(req->version ? req->version : "2.0", -1);
  g_string_append_printf(s, "  <pwg:Version>%s</pwg:Version>\n", version);
  if (req->intent)
    g_string_append_printf(s, "  <scan:Intent>%s</scan:Intent>\n", req->intent);
  if (req->width > 0 && req->height > 0)
    g_string_append_printf(s,
                           "  <pwg:ScanRegions>\n"
                           "    <pwg:ScanRegion>\n"
                           "      <pwg:ContentRegionUnits>escl:ThreeHundredthsOfInches</pwg:ContentRegionUnits>\n"
                           "      <pwg:XOffset>%d</pwg:XOffset>\n"
                           "      <pwg:YOffset>%d</pwg:YOffset>\n"
                           "      <pwg:Width>%d</pwg:Width>\n"
                           "      <pwg:Height>%d</pwg:Height>\n"
                           "    </pwg:ScanRegion>\n"
                           "  </pwg:ScanRegions>\n",
                           req->x, req->y, req->width, req->height);
  g_string_append_printf(s, "  <pwg:InputSource>%s</pwg:InputSource>\n",
                         req->input == ESCL_INPUT_PLATEN ? "Platen" : "Feeder");
  if (req->input != ESCL_INPUT_PLATEN)
    g_string_append_printf(s, "  <scan:Duplex>%s</scan:Duplex>\n",
                           req->input == ESCL_INPUT_ADF_DUPLEX ? "true" : "false");
  g_string_append_printf(s, "  <scan:ColorMode>%s</scan:ColorMode>\n", escl_color_mode_name(req->color_mode));
  g_string_append_printf(s, "  <scan:XResolution>%d</scan:XResolution>\n  <scan:YResolution>%d</scan:YResolution>\n",
                         req->resolution, req->resolution);
  g_string_append_printf(s, "  <pwg:DocumentFormat>%s</pwg:DocumentFormat>\n", escl_format_mime(req->format));
  if (req->format_ext)
    g_string_append_printf(s, "  <scan:DocumentFormatExt>%s</scan:DocumentFormatExt>\n", escl_format_mime(req->format));
  g_string_append(s, "</scan:ScanSettings>\n");
  return g_string_free(s, FALSE);
}

/* ---- Location ----------------------------------------------------------- */

/* Length of "scheme://authority" at the start of url, or 0. */
static gsize origin_length(const char *url) {
  const char *sep = strstr(url, "://");
  if (!sep)
    return 0;
  const char *p = sep + 3;
  const char *slash = strchr(p, '/');
  return slash ? (gsize) (slash - url) : strlen(url);
}

char *escl_location_resolve(const char *base_url, const char *location, GError **error) {
  g_autofree char *loc = g_strstrip(g_strdup(location ? location : ""));
  gsize base_origin = origin_length(base_url);
  if (!*loc || base_origin == 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "ScanJobs reply has %s Location header",
                *loc ? "an unusable" : "no");
    return NULL;
  }
  /* Cut query and fragment: a job is a path. */
  loc[strcspn(loc, "?#")] = '\0';
  g_autofree char *path = NULL;
  if (strstr(loc, "://")) {
    /* Whatever authority the device wrote (another interface's address, an
     * unbracketed IPv6 literal) is dropped: we keep talking to the host we
     * reached. The authority holds no '/', so the path starts at the first one. */
    gsize o = origin_length(loc);
    if (!loc[o]) {
      g_autofree char *text = shown(loc, 100);
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "ScanJobs reply Location \"%s\" has no path", text);
      return NULL;
    }
    path = g_strdup(loc + o);
  } else if (loc[0] == '/') {
    path = g_strdup(loc);
  } else {
    const char *base_path = base_url + base_origin;
    gsize n = strlen(base_path);
    while (n > 0 && base_path[n - 1] == '/')
      n--;
    path = g_strdup_printf("%.*s/%s", (int) n, base_path, loc);
  }
  gsize n = strlen(path);
  while (n > 1 && path[n - 1] == '/')
    path[--n] = '\0';
  gboolean control = FALSE;
  for (const char *p = path; *p; p++)
    control |= (guchar) *p <= 0x20 || *p == 0x7f;
  if (strcmp(path, "/") == 0 || control) {
    g_autofree char *text = shown(loc, 100);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "ScanJobs reply Location \"%s\" names no job", text);
    return NULL;
  }
  return g_strdup_printf("%.*s%s", (int) base_origin, base_url, path);
}
