/* Scanners reached through SANE (libsane and its dll meta-backend).
 *
 * Choices where SANE backends differ:
 *  - source: the "source" string option, matched by meaning (see
 *    scand_sane_source_kind()); duplex is a source value containing "Duplex" or
 *    a "duplex"/"adf-mode" option (bool, or string list with a Duplex entry).
 *    Without a "source" option a device is taken to be a flatbed.
 *  - mode: the "mode" string option matched by meaning; lineart prefers a real
 *    1-bit mode, then Gray with "depth" = 1 (SANE's test backend), then
 *    Halftone, and otherwise scans Gray and reports mode gray as effective.
 *  - depth: set to 8 for colour and gray when the device offers it, so a
 *    previous lineart job's depth 1 does not stick; "depth=16" as an extra
 *    option still works and is converted to 8 bits.
 *  - resolution: "resolution" (INT or FIXED), else "x-resolution" and
 *    "y-resolution"; the nearest allowed value; a device default outside the
 *    device's own constraint is replaced by the allowed value nearest 300 dpi.
 *  - geometry: tl-x/tl-y/br-x/br-y in mm or pixels, clamped to their ranges;
 *    width/height 0 mean up to the end of the range.
 *  - a frame that ends early is padded with white lines; extra lines are
 *    dropped; a page without any image data is an error.
 *  - RGB frames of depth 1: a set bit means full intensity (only GRAY 1-bit
 *    means black, as in PBM).
 *  - SANE_STATUS_NO_DOCS from sane_start or before the first byte of a page ends
 *    a feeder job normally once a page was delivered.
 */
#include "backends/backend-private.h"
#include "backends/sane-private.h"
#include "scand/base/error.h"

#include <sane/saneopts.h>
#include <math.h>
#include <string.h>

#define READ_BUFFER_SIZE (64 * 1024)
#define WRITE_BATCH_SIZE (64 * 1024)
/* A line longer than this is a broken device, not a scan. */
#define MAX_LINE_BYTES (64 * 1024 * 1024)
/* The resolution picked when the device's own default is not a valid value. */
#define FALLBACK_RESOLUTION 300

typedef struct {
  ScandScanner base;
  SANE_Handle handle;
  char *device; /* SANE device name, for messages */

  /* The current job. */
  gboolean in_job;
  gboolean feeder;
  guint max_pages;  /* 0 = until the feeder is empty */
  guint pages;      /* pages delivered in this job */
  gboolean started; /* sane_start() already done for the next page */
  int xres, yres;
  gint cancel_requested; /* atomic: set by cancel() from any thread */

  guint quirks;      /* SANE_QUIRK_* of this device */
  gint frame_open;   /* atomic: sane_start() done, EOF not yet read */
  gint64 started_at; /* monotonic time of the last sane_start() */
} SaneScanner;

/* ---- device quirks ------------------------------------------------------------ */

enum {
  /* The reader thread of sanei_thread is cancelled asynchronously: a
   * sane_cancel() within moments of sane_start() can kill it inside malloc()
   * and leave the allocator locked (seen as a hang with AddressSanitizer).
   * Give it time to get going first. */
  SANE_QUIRK_SETTLE_BEFORE_CANCEL = 1 << 0,
};

#define SETTLE_BEFORE_CANCEL_US (100 * 1000)

/* Keyed by the SANE backend, the part of the device name before ':'. */
static const struct {
  const char *backend;
  guint quirks;
} sane_quirks[] = {
  /* SANE's "test" backend (Noname frontend-tester), see above. */
  { "test", SANE_QUIRK_SETTLE_BEFORE_CANCEL },
};

/* SANE_QUIRK_* flags for a device name. */
static guint sane_quirks_for(const char *device) {
  const char *colon = strchr(device, ':');
  size_t n = colon ? (size_t) (colon - device) : strlen(device);
  for (guint i = 0; i < G_N_ELEMENTS(sane_quirks); i++)
    if (strlen(sane_quirks[i].backend) == n && strncmp(device, sane_quirks[i].backend, n) == 0)
      return sane_quirks[i].quirks;
  return 0;
}

/* sane_start() that remembers a frame is open. */
static SANE_Status device_start(SaneScanner *s) {
  SANE_Status status = sane_start(s->handle);
  if (status == SANE_STATUS_GOOD) {
    s->started_at = g_get_monotonic_time();
    g_atomic_int_set(&s->frame_open, 1);
  }
  return status;
}

/* sane_cancel(), honouring SANE_QUIRK_SETTLE_BEFORE_CANCEL. Any thread. */
static void device_cancel(SaneScanner *s) {
  if ((s->quirks & SANE_QUIRK_SETTLE_BEFORE_CANCEL) && g_atomic_int_get(&s->frame_open)) {
    gint64 left = s->started_at + SETTLE_BEFORE_CANCEL_US - g_get_monotonic_time();
    if (left > 0)
      g_usleep((gulong) left);
  }
  sane_cancel(s->handle);
}

/* ---- library reference count ---------------------------------------------- */

/* libsane is one global state, initialised on first use and never exited:
 * sane_exit() dlclose()s the backends, and a backend that cancelled its
 * reader thread asynchronously (sanei_thread does, e.g. the `test` backend
 * after an error) can leave the loader's lock held, so dlclose() in a
 * long-running daemon would wait forever. Calls that touch the dll backend's
 * device lists (get_devices, open, close) are serialised. */
G_LOCK_DEFINE_STATIC(sane_lib);
static guint sane_users;
static gboolean sane_initialised;

/* Takes a reference on libsane; call with sane_lib held. */
static gboolean sane_lib_ref_locked(GError **error) {
  if (!sane_initialised) {
    SANE_Int version = 0;
    SANE_Status status = sane_init(&version, NULL);
    if (status != SANE_STATUS_GOOD) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "cannot initialise SANE: %s", sane_strstatus(status));
      return FALSE;
    }
    sane_initialised = TRUE;
  }
  sane_users++;
  return TRUE;
}

/* Drops a reference on libsane; call with sane_lib held. */
static void sane_lib_unref_locked(void) {
  g_return_if_fail(sane_users > 0);
  sane_users--;
}

/* ---- pure helpers ----------------------------------------------------------- */

/* Substring test on an already lower-cased value. */
static gboolean contains_word(const char *lower, const char *needle) {
  return strstr(lower, needle) != NULL;
}

ScandSaneSourceKind scand_sane_source_kind(const char *value) {
  if (!value)
    return SCAND_SANE_SOURCE_OTHER;
  g_autofree char *v = g_ascii_strdown(value, -1);
  if (contains_word(v, "duplex"))
    return SCAND_SANE_SOURCE_ADF_DUPLEX;
  if (contains_word(v, "flatbed") || contains_word(v, "platen") || g_str_equal(v, "normal"))
    return SCAND_SANE_SOURCE_FLATBED;
  gboolean adf = contains_word(v, "adf") || contains_word(v, "feeder") || contains_word(v, "document") ||
                 contains_word(v, "automatic");
  if (adf && (contains_word(v, "back") || contains_word(v, "rear")))
    return SCAND_SANE_SOURCE_ADF_BACK;
  if (adf)
    return SCAND_SANE_SOURCE_ADF;
  return SCAND_SANE_SOURCE_OTHER;
}

ScandSaneModeKind scand_sane_mode_kind(const char *value) {
  if (!value)
    return SCAND_SANE_MODE_OTHER;
  g_autofree char *v = g_ascii_strdown(value, -1);
  gboolean color = contains_word(v, "color") || contains_word(v, "colour") || contains_word(v, "rgb");
  gboolean lineart = contains_word(v, "lineart") || contains_word(v, "line art") || contains_word(v, "binary") ||
                     contains_word(v, "black & white") || contains_word(v, "black and white") ||
                     contains_word(v, "black&white") || g_str_equal(v, "bw") || g_str_equal(v, "b/w");
  gboolean halftone = contains_word(v, "halftone") || contains_word(v, "dither");
  /* "Color Lineart" / "Color Halftone" are 3-bit colour modes: neither. */
  if (color && (lineart || halftone))
    return SCAND_SANE_MODE_OTHER;
  if (lineart)
    return SCAND_SANE_MODE_LINEART;
  if (halftone)
    return SCAND_SANE_MODE_HALFTONE;
  if (color)
    return SCAND_SANE_MODE_COLOR;
  if (contains_word(v, "gray") || contains_word(v, "grey"))
    return SCAND_SANE_MODE_GRAY;
  return SCAND_SANE_MODE_OTHER;
}

SANE_Word scand_sane_constrain_word(const SANE_Option_Descriptor *desc, SANE_Word want) {
  if (desc->constraint_type == SANE_CONSTRAINT_RANGE && desc->constraint.range) {
    const SANE_Range *r = desc->constraint.range;
    gint64 v = CLAMP((gint64) want, (gint64) r->min, (gint64) r->max);
    if (r->quant > 0) {
      gint64 steps = (v - r->min + r->quant / 2) / r->quant;
      v = r->min + steps * r->quant;
      if (v > r->max)
        v -= r->quant;
    }
    return (SANE_Word) v;
  }
  if (desc->constraint_type == SANE_CONSTRAINT_WORD_LIST && desc->constraint.word_list &&
      desc->constraint.word_list[0] > 0) {
    const SANE_Word *list = desc->constraint.word_list;
    SANE_Word best = list[1];
    for (SANE_Word i = 2; i <= list[0]; i++) {
      gint64 d = llabs((gint64) list[i] - want), db = llabs((gint64) best - want);
      if (d < db || (d == db && list[i] > best))
        best = list[i];
    }
    return best;
  }
  return want;
}

gboolean scand_sane_word_is_valid(const SANE_Option_Descriptor *desc, SANE_Word value) {
  if (desc->constraint_type == SANE_CONSTRAINT_RANGE && desc->constraint.range)
    return value >= desc->constraint.range->min && value <= desc->constraint.range->max;
  if (desc->constraint_type == SANE_CONSTRAINT_WORD_LIST && desc->constraint.word_list) {
    for (SANE_Word i = 1; i <= desc->constraint.word_list[0]; i++)
      if (desc->constraint.word_list[i] == value)
        return TRUE;
    return FALSE;
  }
  return TRUE;
}

int scand_sane_status_to_error_code(SANE_Status status) {
  switch (status) {
    case SANE_STATUS_DEVICE_BUSY:
      return SCAND_ERROR_BUSY;
    case SANE_STATUS_ACCESS_DENIED:
      return SCAND_ERROR_DENIED;
    case SANE_STATUS_JAMMED:
      return SCAND_ERROR_JAMMED;
    case SANE_STATUS_COVER_OPEN:
      return SCAND_ERROR_COVER_OPEN;
    case SANE_STATUS_NO_DOCS:
      return SCAND_ERROR_NO_DOCS;
    case SANE_STATUS_IO_ERROR:
      return SCAND_ERROR_IO;
    case SANE_STATUS_CANCELLED:
      return SCAND_ERROR_CANCELLED;
    case SANE_STATUS_UNSUPPORTED:
      return SCAND_ERROR_UNSUPPORTED;
    case SANE_STATUS_INVAL:
      return SCAND_ERROR_INVAL;
    default:
      return SCAND_ERROR_FAILED;
  }
}

gboolean scand_sane_line_format_init(ScandSaneLineFormat *fmt, const SANE_Parameters *p, const char *what,
                                     GError **error) {
  memset(fmt, 0, sizeof(*fmt));
  int channels;
  switch (p->format) {
    case SANE_FRAME_GRAY:
      channels = 1;
      fmt->page_format = p->depth == 1 ? SCAND_PAGE_BW1 : SCAND_PAGE_GRAY8;
      break;
    case SANE_FRAME_RGB:
      channels = 3;
      fmt->page_format = SCAND_PAGE_RGB24;
      break;
    case SANE_FRAME_RED:
    case SANE_FRAME_GREEN:
    case SANE_FRAME_BLUE:
      channels = 1;
      fmt->page_format = SCAND_PAGE_RGB24;
      break;
    default:
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "%s sent an image in an unknown frame format (%d)", what,
                  (int) p->format);
      return FALSE;
  }
  if (p->depth != 1 && p->depth != 8 && p->depth != 16) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "%s sent an image with unsupported depth %d", what, p->depth);
    return FALSE;
  }
  if (p->pixels_per_line <= 0 || p->bytes_per_line <= 0 || p->bytes_per_line > MAX_LINE_BYTES ||
      p->pixels_per_line > MAX_LINE_BYTES) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED,
                "%s reported impossible image parameters (%d pixels, %d bytes per line)", what, p->pixels_per_line,
                p->bytes_per_line);
    return FALSE;
  }
  gsize samples = (gsize) p->pixels_per_line * channels;
  gsize need = p->depth == 1 ? (samples + 7) / 8 : samples * (gsize) (p->depth / 8);
  if ((gsize) p->bytes_per_line < need) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED,
                "%s reported %d bytes per line, too few for %d pixels of depth %d", what, p->bytes_per_line,
                p->pixels_per_line, p->depth);
    return FALSE;
  }
  fmt->format = p->format;
  fmt->depth = p->depth;
  fmt->pixels = p->pixels_per_line;
  fmt->in_bytes = p->bytes_per_line;
  fmt->out_bytes = fmt->page_format == SCAND_PAGE_BW1 ? ((gsize) fmt->pixels + 7) / 8 : samples;
  return TRUE;
}

void scand_sane_line_convert(const ScandSaneLineFormat *fmt, const guint8 *in, guint8 *out) {
  if (fmt->page_format == SCAND_PAGE_BW1) {
    memcpy(out, in, fmt->out_bytes);
    int tail = fmt->pixels % 8;
    if (tail)
      out[fmt->out_bytes - 1] &= (guint8) (0xff << (8 - tail));
    return;
  }
  gsize samples = fmt->out_bytes;
  switch (fmt->depth) {
    case 1:
      /* Only colour frames get here: a set bit is full intensity. */
      for (gsize i = 0; i < samples; i++)
        out[i] = (in[i / 8] >> (7 - i % 8)) & 1 ? 0xff : 0x00;
      break;
    case 8:
      memcpy(out, in, samples);
      break;
    case 16:
      for (gsize i = 0; i < samples; i++) {
        guint16 v;
        memcpy(&v, in + 2 * i, sizeof(v));
        out[i] = (guint8) (v >> 8);
      }
      break;
    default:
      g_assert_not_reached();
  }
}

/* ---- options ---------------------------------------------------------------- */

/* Finds an option by name; returns its index or -1, with *desc set. */
static SANE_Int option_find(SaneScanner *s, const char *name, const SANE_Option_Descriptor **desc) {
  SANE_Int count = 0;
  if (sane_control_option(s->handle, 0, SANE_ACTION_GET_VALUE, &count, NULL) != SANE_STATUS_GOOD)
    return -1;
  for (SANE_Int i = 1; i < count; i++) {
    const SANE_Option_Descriptor *d = sane_get_option_descriptor(s->handle, i);
    if (d && d->name && g_str_equal(d->name, name)) {
      *desc = d;
      return i;
    }
  }
  return -1;
}

/* Whether an option can be set right now. */
static gboolean option_usable(const SANE_Option_Descriptor *d) {
  return SANE_OPTION_IS_ACTIVE(d->cap) && SANE_OPTION_IS_SETTABLE(d->cap);
}

/* Finds an option that exists and can be set now; -1 otherwise. */
static SANE_Int option_find_usable(SaneScanner *s, const char *name, const SANE_Option_Descriptor **desc) {
  SANE_Int i = option_find(s, name, desc);
  return i >= 0 && option_usable(*desc) ? i : -1;
}

/* Reads a word option (first element of an array). */
static gboolean option_get_word(SaneScanner *s, SANE_Int i, const SANE_Option_Descriptor *d, SANE_Word *out) {
  gsize n = MAX((gsize) d->size / sizeof(SANE_Word), 1);
  g_autofree SANE_Word *buf = g_new0(SANE_Word, n);
  if (sane_control_option(s->handle, i, SANE_ACTION_GET_VALUE, buf, NULL) != SANE_STATUS_GOOD)
    return FALSE;
  *out = buf[0];
  return TRUE;
}

/* Reads a string option; returns a newly allocated string or NULL. */
static char *option_get_string(SaneScanner *s, SANE_Int i, const SANE_Option_Descriptor *d) {
  g_autofree char *buf = g_malloc0((gsize) MAX(d->size, 1) + 1);
  if (sane_control_option(s->handle, i, SANE_ACTION_GET_VALUE, buf, NULL) != SANE_STATUS_GOOD)
    return NULL;
  return g_steal_pointer(&buf);
}

/* Sets every element of a word option to w. */
static SANE_Status option_set_word(SaneScanner *s, SANE_Int i, const SANE_Option_Descriptor *d, SANE_Word w) {
  gsize n = MAX((gsize) d->size / sizeof(SANE_Word), 1);
  g_autofree SANE_Word *buf = g_new(SANE_Word, n);
  for (gsize k = 0; k < n; k++)
    buf[k] = w;
  return sane_control_option(s->handle, i, SANE_ACTION_SET_VALUE, buf, NULL);
}

/* Sets a string option (truncated to the option's size). */
static SANE_Status option_set_string(SaneScanner *s, SANE_Int i, const SANE_Option_Descriptor *d, const char *v) {
  g_autofree char *buf = g_malloc0((gsize) MAX(d->size, 1) + 1);
  g_strlcpy(buf, v, (gsize) MAX(d->size, 1));
  return sane_control_option(s->handle, i, SANE_ACTION_SET_VALUE, buf, NULL);
}

/* The allowed values of a string-list option, or NULL. Owned by the backend. */
static const SANE_String_Const *option_string_list(const SANE_Option_Descriptor *d) {
  if (d->type == SANE_TYPE_STRING && d->constraint_type == SANE_CONSTRAINT_STRING_LIST)
    return d->constraint.string_list;
  return NULL;
}

/* A boolean option from yes/no, true/false, on/off or 1/0. FALSE with error
 * when value is none of them; else *status is the backend's answer. */
static gboolean option_set_bool(SaneScanner *s, SANE_Int i, const SANE_Option_Descriptor *d, const char *name,
                                const char *value, SANE_Status *status, GError **error) {
  SANE_Word b;
  if (!g_ascii_strcasecmp(value, "yes") || !g_ascii_strcasecmp(value, "true") || !g_ascii_strcasecmp(value, "on") ||
      g_str_equal(value, "1"))
    b = SANE_TRUE;
  else if (!g_ascii_strcasecmp(value, "no") || !g_ascii_strcasecmp(value, "false") ||
           !g_ascii_strcasecmp(value, "off") || g_str_equal(value, "0"))
    b = SANE_FALSE;
  else {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "option \"%s\" of %s takes yes or no, not \"%s\"", name,
                s->device, value);
    return FALSE;
  }
  *status = option_set_word(s, i, d, b);
  return TRUE;
}

/* An integer or fixed-point option (one number, or one per element) from
 * comma-separated numbers. */
static gboolean option_set_numbers(SaneScanner *s, SANE_Int i, const SANE_Option_Descriptor *d, const char *name,
                                   const char *value, SANE_Status *status, GError **error) {
  gsize n = MAX((gsize) d->size / sizeof(SANE_Word), 1);
  g_auto(GStrv) parts = g_strsplit(value, ",", -1);
  guint np = g_strv_length(parts);
  if (np != 1 && np != n) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "option \"%s\" of %s takes 1 or %" G_GSIZE_FORMAT " numbers, not %u", name, s->device, n, np);
    return FALSE;
  }
  g_autofree SANE_Word *buf = g_new(SANE_Word, n);
  for (gsize k = 0; k < n; k++) {
    const char *part = g_strstrip(parts[np == 1 ? 0 : k]);
    if (d->type == SANE_TYPE_INT) {
      gint64 v;
      if (!g_ascii_string_to_signed(part, 10, G_MININT32, G_MAXINT32, &v, NULL)) {
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "option \"%s\" of %s takes a whole number, not \"%s\"", name,
                    s->device, part);
        return FALSE;
      }
      buf[k] = (SANE_Word) v;
    } else {
      char *end = NULL;
      double v = g_ascii_strtod(part, &end);
      if (!*part || !end || *end || !isfinite(v) || v <= -32768.0 || v >= 32768.0) {
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                    "option \"%s\" of %s takes a number between -32768 and 32767, not \"%s\"", name, s->device, part);
        return FALSE;
      }
      buf[k] = SANE_FIX(v);
    }
  }
  *status = sane_control_option(s->handle, i, SANE_ACTION_SET_VALUE, buf, NULL);
  return TRUE;
}

/* A string option; one with a list of allowed values takes them in any case. */
static gboolean option_set_text(SaneScanner *s, SANE_Int i, const SANE_Option_Descriptor *d, const char *name,
                                const char *value, SANE_Status *status, GError **error) {
  const char *use = value;
  const SANE_String_Const *list = option_string_list(d);
  if (list) {
    use = NULL;
    for (guint k = 0; list[k]; k++)
      if (!g_ascii_strcasecmp(list[k], value)) {
        use = list[k];
        break;
      }
    if (!use) {
      g_autoptr(GString) allowed = g_string_new(NULL);
      for (guint k = 0; list[k]; k++)
        g_string_append_printf(allowed, "%s\"%s\"", k ? ", " : "", list[k]);
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "option \"%s\" of %s takes one of %s, not \"%s\"", name,
                  s->device, allowed->str, value);
      return FALSE;
    }
  }
  if ((gsize) d->size <= strlen(use)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "value for option \"%s\" of %s is too long (at most %d bytes)",
                name, s->device, d->size - 1);
    return FALSE;
  }
  *status = option_set_string(s, i, d, use);
  return TRUE;
}

/* Sets a named option to a value given as text, typed by the descriptor. */
static gboolean option_set_from_text(SaneScanner *s, const char *name, const char *value, GError **error) {
  const SANE_Option_Descriptor *d = NULL;
  SANE_Int i = option_find(s, name, &d);
  if (i < 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s has no option \"%s\"", s->device, name);
    return FALSE;
  }
  if (!SANE_OPTION_IS_SETTABLE(d->cap)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "option \"%s\" of %s cannot be set", name, s->device);
    return FALSE;
  }
  if (!SANE_OPTION_IS_ACTIVE(d->cap)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "option \"%s\" of %s is inactive with the other settings", name,
                s->device);
    return FALSE;
  }
  if (d->type != SANE_TYPE_BUTTON && !value) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "option \"%s\" of %s needs a value (name=value)", name,
                s->device);
    return FALSE;
  }

  SANE_Status status;
  switch (d->type) {
    case SANE_TYPE_BOOL:
      if (!option_set_bool(s, i, d, name, value, &status, error))
        return FALSE;
      break;
    case SANE_TYPE_INT:
    case SANE_TYPE_FIXED:
      if (!option_set_numbers(s, i, d, name, value, &status, error))
        return FALSE;
      break;
    case SANE_TYPE_STRING:
      if (!option_set_text(s, i, d, name, value, &status, error))
        return FALSE;
      break;
    case SANE_TYPE_BUTTON:
      status = sane_control_option(s->handle, i, SANE_ACTION_SET_VALUE, NULL, NULL);
      break;
    default:
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "option \"%s\" of %s cannot be set from text", name,
                  s->device);
      return FALSE;
  }
  if (status != SANE_STATUS_GOOD) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s refused option \"%s\" = \"%s\": %s", s->device, name,
                value ? value : "", sane_strstatus(status));
    return FALSE;
  }
  return TRUE;
}

/* ---- errors ----------------------------------------------------------------- */

/* Sets error for a SANE status met while working on page (1-based; 0 = while
 * setting up). */
static void set_status_error(GError **error, SaneScanner *s, SANE_Status status, guint page) {
  int code = scand_sane_status_to_error_code(status);
  switch (status) {
    case SANE_STATUS_JAMMED:
      g_set_error(error, SCAND_ERROR, code,
                  "paper jam in the document feeder of %s — clear it and re-feed from page %u", s->device,
                  MAX(page, 1));
      return;
    case SANE_STATUS_COVER_OPEN:
      g_set_error(error, SCAND_ERROR, code, "the cover of %s is open — close it and scan again", s->device);
      return;
    case SANE_STATUS_NO_DOCS:
      g_set_error(error, SCAND_ERROR, code, "%s: feeder is empty — load paper", s->device);
      return;
    case SANE_STATUS_DEVICE_BUSY:
      g_set_error(error, SCAND_ERROR, code, "%s is busy (in use by another program or job)", s->device);
      return;
    case SANE_STATUS_CANCELLED:
      g_set_error(error, SCAND_ERROR, code, "scan on %s was cancelled", s->device);
      return;
    case SANE_STATUS_IO_ERROR:
      if (page)
        g_set_error(error, SCAND_ERROR, code, "I/O error talking to %s while reading page %u", s->device, page);
      else
        g_set_error(error, SCAND_ERROR, code, "I/O error talking to %s", s->device);
      return;
    case SANE_STATUS_ACCESS_DENIED:
      g_set_error(error, SCAND_ERROR, code, "access to %s was denied", s->device);
      return;
    default:
      break;
  }
  /* Everything else is FAILED: INVAL or UNSUPPORTED in the middle of a page
   * says nothing about the caller's input. */
  if (page)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "%s failed while reading page %u: %s", s->device, page,
                sane_strstatus(status));
  else
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "%s failed to start scanning: %s", s->device,
                sane_strstatus(status));
}

/* ---- list / open / close ---------------------------------------------------- */

/* Appends a newly allocated ScandDeviceInfo per SANE device to devices. */
static gboolean sane_backend_list(GPtrArray *devices, GError **error) {
  G_LOCK(sane_lib);
  if (!sane_lib_ref_locked(error)) {
    G_UNLOCK(sane_lib);
    return FALSE;
  }
  const SANE_Device **list = NULL;
  SANE_Status status = sane_get_devices(&list, SANE_FALSE);
  if (status == SANE_STATUS_GOOD && list) {
    for (guint i = 0; list[i]; i++) {
      const SANE_Device *d = list[i];
      if (!d->name || !*d->name)
        continue;
      ScandDeviceInfo *info = g_new0(ScandDeviceInfo, 1);
      info->uri = g_strconcat("sane:", d->name, NULL);
      info->name = g_strdup(d->name);
      info->vendor = g_strdup(d->vendor ? d->vendor : "");
      info->model = g_strdup(d->model ? d->model : "");
      info->type = g_strdup(d->type ? d->type : "");
      g_ptr_array_add(devices, info);
    }
  }
  sane_lib_unref_locked();
  G_UNLOCK(sane_lib);
  if (status != SANE_STATUS_GOOD) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "cannot list SANE devices: %s", sane_strstatus(status));
    return FALSE;
  }
  return TRUE;
}

/* ---- pristine options --------------------------------------------------------- */

/* libsane stays initialised (see above), so a backend keeps the option values
 * one job set for the next job that opens the device. The values a device had
 * when this process first opened it are kept and put back at every later open,
 * so that one profile's extra options never leak into another's job. */
typedef struct {
  char *name;
  GBytes *value;
} SavedOption;

static void saved_option_free(SavedOption *o) {
  g_free(o->name);
  g_bytes_unref(o->value);
  g_free(o);
}

G_LOCK_DEFINE_STATIC(pristine);
static GHashTable *pristine; /* device → GPtrArray of SavedOption */

static gboolean option_restorable(const SANE_Option_Descriptor *d) {
  return d && d->name && *d->name && d->type != SANE_TYPE_BUTTON && d->type != SANE_TYPE_GROUP && d->size > 0 &&
         SANE_OPTION_IS_SETTABLE(d->cap) && SANE_OPTION_IS_ACTIVE(d->cap);
}

static void options_snapshot_or_restore(SANE_Handle handle, const char *device) {
  G_LOCK(pristine);
  if (!pristine)
    pristine = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify) g_ptr_array_unref);
  GPtrArray *saved = g_hash_table_lookup(pristine, device);
  if (!saved) {
    saved = g_ptr_array_new_with_free_func((GDestroyNotify) saved_option_free);
    for (SANE_Int i = 1;; i++) {
      const SANE_Option_Descriptor *d = sane_get_option_descriptor(handle, i);
      if (!d)
        break;
      if (!option_restorable(d))
        continue;
      g_autofree void *buf = g_malloc0((gsize) d->size + 1);
      if (sane_control_option(handle, i, SANE_ACTION_GET_VALUE, buf, NULL) != SANE_STATUS_GOOD)
        continue;
      SavedOption *o = g_new0(SavedOption, 1);
      o->name = g_strdup(d->name);
      o->value = g_bytes_new(buf, (gsize) d->size + 1);
      g_ptr_array_add(saved, o);
    }
    g_hash_table_insert(pristine, g_strdup(device), saved);
  } else {
    for (guint k = 0; k < saved->len; k++) {
      SavedOption *o = saved->pdata[k];
      for (SANE_Int i = 1;; i++) {
        const SANE_Option_Descriptor *d = sane_get_option_descriptor(handle, i);
        if (!d)
          break;
        if (!d->name || strcmp(d->name, o->name) != 0)
          continue;
        if (option_restorable(d) && (gsize) d->size + 1 == g_bytes_get_size(o->value)) {
          g_autofree void *buf = g_memdup2(g_bytes_get_data(o->value, NULL), g_bytes_get_size(o->value));
          SANE_Int info = 0;
          sane_control_option(handle, i, SANE_ACTION_SET_VALUE, buf, &info);
        }
        break;
      }
    }
  }
  G_UNLOCK(pristine);
}

/* Opens the SANE device named rest; the caller owns the scanner (close()). */
static ScandScanner *sane_backend_open(const char *rest, const ScandOpenOptions *options, GError **error) {
  if (!rest || !*rest) {
    /* sane_open("") would open the first device found: never what was meant. */
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "device \"sane:\": empty SANE device name");
    return NULL;
  }
  G_LOCK(sane_lib);
  if (!sane_lib_ref_locked(error)) {
    G_UNLOCK(sane_lib);
    return NULL;
  }
  SANE_Handle handle = NULL;
  SANE_Status status = sane_open(rest, &handle);
  if (status != SANE_STATUS_GOOD) {
    sane_lib_unref_locked();
    G_UNLOCK(sane_lib);
    switch (status) {
      case SANE_STATUS_DEVICE_BUSY:
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_BUSY, "SANE device %s is busy (in use by another program)", rest);
        break;
      case SANE_STATUS_ACCESS_DENIED:
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_DENIED, "access to SANE device %s was denied", rest);
        break;
      case SANE_STATUS_IO_ERROR:
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "cannot open SANE device %s: %s", rest, sane_strstatus(status));
        break;
      case SANE_STATUS_NO_MEM:
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "cannot open SANE device %s: %s", rest,
                    sane_strstatus(status));
        break;
      default:
        /* The dll backend answers INVAL for a name no backend knows. */
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND, "no SANE device %s (%s)", rest, sane_strstatus(status));
        break;
    }
    return NULL;
  }
  G_UNLOCK(sane_lib);
  options_snapshot_or_restore(handle, rest);

  SaneScanner *s = g_new0(SaneScanner, 1);
  s->handle = handle;
  s->device = g_strdup(rest);
  s->quirks = sane_quirks_for(rest);
  return &s->base;
}

/* Ends any job, closes the device and frees the backend part. */
static void sane_backend_close(ScandScanner *scanner) {
  SaneScanner *s = (SaneScanner *) scanner;
  if (s->in_job)
    device_cancel(s);
  G_LOCK(sane_lib);
  sane_close(s->handle);
  sane_lib_unref_locked();
  G_UNLOCK(sane_lib);
  g_free(s->device);
  g_free(s);
}

/* Stops the current job; read_page() then fails with SCAND_ERROR_CANCELLED.
 * Safe from any thread while the scanner is open. */
static void sane_backend_cancel(ScandScanner *scanner) {
  SaneScanner *s = (SaneScanner *) scanner;
  g_atomic_int_set(&s->cancel_requested, 1);
  /* SANE allows sane_cancel() while another thread sits in sane_read(); it
   * makes that read return (CANCELLED or EOF). */
  device_cancel(s);
}

/* ---- start ------------------------------------------------------------------ */

/* Picks an entry of a string list; returns NULL if none fits. */
static const char *pick_source(const SANE_String_Const *list, ScandSaneSourceKind kind) {
  static const char *const preferred_adf[] = { "ADF", "ADF Front", "Automatic Document Feeder", NULL };
  static const char *const preferred_flatbed[] = { "Flatbed", "FlatBed", "Platen", NULL };
  const char *const *preferred = kind == SCAND_SANE_SOURCE_FLATBED ? preferred_flatbed
                                 : kind == SCAND_SANE_SOURCE_ADF   ? preferred_adf
                                                                   : NULL;
  for (guint p = 0; preferred && preferred[p]; p++)
    for (guint k = 0; list[k]; k++)
      if (!g_ascii_strcasecmp(list[k], preferred[p]))
        return list[k];
  for (guint k = 0; list[k]; k++)
    if (scand_sane_source_kind(list[k]) == kind)
      return list[k];
  return NULL;
}

/* Sets the "duplex"/"adf-mode" style switch some backends have; returns FALSE
 * if the device has none that can say what was asked. */
static gboolean set_duplex_switch(SaneScanner *s, gboolean duplex, GError **error) {
  static const char *const names[] = { "duplex", "adf-mode", "adf_mode", NULL };
  for (guint n = 0; names[n]; n++) {
    const SANE_Option_Descriptor *d = NULL;
    SANE_Int i = option_find_usable(s, names[n], &d);
    if (i < 0)
      continue;
    SANE_Status status = SANE_STATUS_UNSUPPORTED;
    if (d->type == SANE_TYPE_BOOL) {
      status = option_set_word(s, i, d, duplex ? SANE_TRUE : SANE_FALSE);
    } else if (option_string_list(d)) {
      const SANE_String_Const *list = option_string_list(d);
      const char *pick = NULL;
      for (guint k = 0; list[k] && !pick; k++) {
        g_autofree char *lower = g_ascii_strdown(list[k], -1);
        gboolean is_duplex = strstr(lower, "duplex") != NULL;
        if (duplex ? is_duplex : (!is_duplex && (strstr(lower, "simplex") || strstr(lower, "single"))))
          pick = list[k];
      }
      if (pick)
        status = option_set_string(s, i, d, pick);
    }
    if (status == SANE_STATUS_GOOD)
      return TRUE;
    if (duplex) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "%s refused duplex (option \"%s\"): %s", s->device,
                  names[n], sane_strstatus(status));
      return FALSE;
    }
  }
  if (duplex) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "%s cannot scan both sides (no duplex feeder)", s->device);
    return FALSE;
  }
  return TRUE;
}

/* A device without a (settable) source option: flatbed only, or one whose
 * single source (index i, -1 when none) cannot change. Refuses a source it
 * does not have. */
static gboolean apply_fixed_source(SaneScanner *s, SANE_Int i, const SANE_Option_Descriptor *d, ScandSource want,
                                   gboolean duplex, ScandScanSettings *effective, GError **error) {
  if (i >= 0 && d->type == SANE_TYPE_STRING) {
    g_autofree char *cur = option_get_string(s, i, d);
    s->feeder = scand_sane_source_kind(cur) >= SCAND_SANE_SOURCE_ADF;
  } else {
    s->feeder = FALSE;
  }
  if (want == SCAND_SOURCE_FEEDER && !s->feeder) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "%s has no document feeder", s->device);
    return FALSE;
  }
  if (want == SCAND_SOURCE_FLATBED && s->feeder) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "%s has no flatbed", s->device);
    return FALSE;
  }
  if (!set_duplex_switch(s, duplex, error))
    return FALSE;
  effective->source = s->feeder ? SCAND_SOURCE_FEEDER : SCAND_SOURCE_FLATBED;
  effective->duplex = duplex;
  return TRUE;
}

/* *pick: the entry of the source list for want (duplex: a duplex feeder
 * entry if there is one, *duplex_by_source then TRUE); NULL for auto (the
 * device's choice stays). FALSE with error when the device has no such
 * source. */
static gboolean pick_listed_source(SaneScanner *s, const SANE_String_Const *list, ScandSource want, gboolean duplex,
                                   const char **pick_out, gboolean *duplex_by_source, GError **error) {
  const char *pick = NULL;
  switch (want) {
    case SCAND_SOURCE_FLATBED:
      pick = pick_source(list, SCAND_SANE_SOURCE_FLATBED);
      if (!pick) {
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "%s has no flatbed", s->device);
        return FALSE;
      }
      break;
    case SCAND_SOURCE_FEEDER:
      if (duplex) {
        pick = pick_source(list, SCAND_SANE_SOURCE_ADF_DUPLEX);
        *duplex_by_source = pick != NULL;
      }
      if (!pick)
        pick = pick_source(list, SCAND_SANE_SOURCE_ADF);
      if (!pick) {
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "%s has no document feeder", s->device);
        return FALSE;
      }
      break;
    case SCAND_SOURCE_AUTO:
    default:
      break;
  }
  *pick_out = pick;
  return TRUE;
}

/* Selects source and duplex; sets s->feeder and the effective values. */
static gboolean apply_source(SaneScanner *s, const ScandScanSettings *settings, ScandScanSettings *effective,
                             GError **error) {
  const SANE_Option_Descriptor *d = NULL;
  SANE_Int i = option_find_usable(s, SANE_NAME_SCAN_SOURCE, &d);
  const SANE_String_Const *list = i >= 0 ? option_string_list(d) : NULL;
  ScandSource want = settings->source;
  gboolean duplex = settings->duplex;

  if (duplex && want == SCAND_SOURCE_FLATBED) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "duplex needs the document feeder, not the flatbed of %s",
                s->device);
    return FALSE;
  }
  if (duplex)
    want = SCAND_SOURCE_FEEDER;

  if (!list)
    return apply_fixed_source(s, i, d, want, duplex, effective, error);

  const char *pick = NULL;
  gboolean duplex_by_source = FALSE;
  if (!pick_listed_source(s, list, want, duplex, &pick, &duplex_by_source, error))
    return FALSE;
  if (pick) {
    SANE_Status status = option_set_string(s, i, d, pick);
    if (status != SANE_STATUS_GOOD) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "%s refused source \"%s\": %s", s->device, pick,
                  sane_strstatus(status));
      return FALSE;
    }
  }
  /* Re-find: setting the source may change which options exist. */
  i = option_find(s, SANE_NAME_SCAN_SOURCE, &d);
  g_autofree char *current = i >= 0 ? option_get_string(s, i, d) : NULL;
  ScandSaneSourceKind kind = scand_sane_source_kind(current);
  s->feeder = kind >= SCAND_SANE_SOURCE_ADF;
  if (duplex_by_source) {
    /* A separate duplex switch, if any, must not contradict the source. */
    g_autoptr(GError) ignored = NULL;
    set_duplex_switch(s, TRUE, &ignored);
  } else if (!set_duplex_switch(s, duplex, error)) {
    return FALSE;
  }
  effective->source = s->feeder ? SCAND_SOURCE_FEEDER : SCAND_SOURCE_FLATBED;
  effective->duplex = duplex || kind == SCAND_SANE_SOURCE_ADF_DUPLEX;
  return TRUE;
}

/* Sets "depth" to value if the device offers it; returns whether it did. */
static gboolean set_depth(SaneScanner *s, SANE_Word value) {
  const SANE_Option_Descriptor *d = NULL;
  SANE_Int i = option_find_usable(s, SANE_NAME_BIT_DEPTH, &d);
  if (i < 0 || d->type != SANE_TYPE_INT || !scand_sane_word_is_valid(d, value))
    return FALSE;
  return option_set_word(s, i, d, value) == SANE_STATUS_GOOD;
}

/* Picks the mode entry of a kind, preferring SANE's well-known spelling. */
static const char *pick_mode(const SANE_String_Const *list, ScandSaneModeKind kind, const char *canonical) {
  for (guint k = 0; list[k]; k++)
    if (!g_ascii_strcasecmp(list[k], canonical))
      return list[k];
  for (guint k = 0; list[k]; k++)
    if (scand_sane_mode_kind(list[k]) == kind)
      return list[k];
  return NULL;
}

/* Selects the colour mode (and depth); see the notes at the top. */
static gboolean apply_mode(SaneScanner *s, ScandColorMode mode, GError **error) {
  if (mode == SCAND_MODE_AUTO)
    return TRUE;
  const SANE_Option_Descriptor *d = NULL;
  SANE_Int i = option_find_usable(s, SANE_NAME_SCAN_MODE, &d);
  const SANE_String_Const *list = i >= 0 ? option_string_list(d) : NULL;
  if (!list) {
    /* No mode option: whatever the device does is what we get (reported as
     * effective from the parameters). */
    return TRUE;
  }
  const char *pick = NULL;
  SANE_Word depth = 8;
  switch (mode) {
    case SCAND_MODE_COLOR:
      pick = pick_mode(list, SCAND_SANE_MODE_COLOR, SANE_VALUE_SCAN_MODE_COLOR);
      break;
    case SCAND_MODE_GRAY:
      pick = pick_mode(list, SCAND_SANE_MODE_GRAY, SANE_VALUE_SCAN_MODE_GRAY);
      break;
    case SCAND_MODE_LINEART:
      pick = pick_mode(list, SCAND_SANE_MODE_LINEART, SANE_VALUE_SCAN_MODE_LINEART);
      depth = 0;
      if (!pick) {
        /* SANE's test backend and some others: Gray at depth 1. Tried before
       * Halftone because a dithered page is not what lineart means. */
        const char *gray = pick_mode(list, SCAND_SANE_MODE_GRAY, SANE_VALUE_SCAN_MODE_GRAY);
        if (gray && option_set_string(s, i, d, gray) == SANE_STATUS_GOOD && set_depth(s, 1))
          return TRUE;
        pick = pick_mode(list, SCAND_SANE_MODE_HALFTONE, SANE_VALUE_SCAN_MODE_HALFTONE);
      }
      if (!pick) {
        /* Gray, reported as effective gray: the caller can threshold it. */
        pick = pick_mode(list, SCAND_SANE_MODE_GRAY, SANE_VALUE_SCAN_MODE_GRAY);
        depth = 8;
      }
      break;
    default:
      return TRUE;
  }
  if (!pick) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "%s cannot scan in %s", s->device,
                scand_color_mode_to_string(mode));
    return FALSE;
  }
  SANE_Status status = option_set_string(s, i, d, pick);
  if (status != SANE_STATUS_GOOD) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "%s refused mode \"%s\": %s", s->device, pick,
                sane_strstatus(status));
    return FALSE;
  }
  if (depth)
    set_depth(s, depth);
  return TRUE;
}

/* Sets one resolution option to the value nearest dpi (or fixes an invalid
 * default when dpi is 0); returns the effective dpi or 0. */
static int set_resolution_option(SaneScanner *s, const char *name, int dpi, GError **error) {
  const SANE_Option_Descriptor *d = NULL;
  SANE_Int i = option_find_usable(s, name, &d);
  if (i < 0 || (d->type != SANE_TYPE_INT && d->type != SANE_TYPE_FIXED))
    return 0;
  gboolean fixed = d->type == SANE_TYPE_FIXED;
  SANE_Word current = 0;
  if (!option_get_word(s, i, d, &current))
    return 0;
  SANE_Word want;
  /* SANE_FIX() overflows past 32767; no scanner gets near that. */
  dpi = MIN(dpi, 32767);
  if (dpi > 0)
    want = scand_sane_constrain_word(d, fixed ? SANE_FIX(dpi) : dpi);
  else if (!scand_sane_word_is_valid(d, current) || current <= 0)
    want = scand_sane_constrain_word(d, fixed ? SANE_FIX(FALLBACK_RESOLUTION) : FALLBACK_RESOLUTION);
  else
    want = current;
  if (want != current) {
    SANE_Status status = option_set_word(s, i, d, want);
    if (status != SANE_STATUS_GOOD) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_UNSUPPORTED, "%s refused resolution %g dpi: %s", s->device,
                  fixed ? SANE_UNFIX(want) : (double) want, sane_strstatus(status));
      return -1;
    }
    if (!option_get_word(s, i, d, &current))
      return 0;
  }
  return fixed ? (int) lround(SANE_UNFIX(current)) : current;
}

/* Sets the resolution nearest dpi (0 = keep the device's, if valid); sets
 * s->xres/yres. */
static gboolean apply_resolution(SaneScanner *s, int dpi, GError **error) {
  int x = set_resolution_option(s, SANE_NAME_SCAN_RESOLUTION, dpi, error);
  if (x < 0)
    return FALSE;
  if (x > 0) {
    s->xres = s->yres = x;
    return TRUE;
  }
  x = set_resolution_option(s, SANE_NAME_SCAN_X_RESOLUTION, dpi, error);
  if (x < 0)
    return FALSE;
  int y = set_resolution_option(s, SANE_NAME_SCAN_Y_RESOLUTION, dpi, error);
  if (y < 0)
    return FALSE;
  s->xres = x;
  s->yres = y > 0 ? y : x;
  return TRUE;
}

/* Reads the effective resolution without changing it. */
static void read_resolution(SaneScanner *s) {
  static const char *const names[] = { SANE_NAME_SCAN_RESOLUTION, SANE_NAME_SCAN_X_RESOLUTION,
                                       SANE_NAME_SCAN_Y_RESOLUTION };
  int values[3] = { 0, 0, 0 };
  for (guint n = 0; n < 3; n++) {
    const SANE_Option_Descriptor *d = NULL;
    SANE_Int i = option_find(s, names[n], &d);
    SANE_Word w;
    if (i >= 0 && SANE_OPTION_IS_ACTIVE(d->cap) && option_get_word(s, i, d, &w))
      values[n] = d->type == SANE_TYPE_FIXED ? (int) lround(SANE_UNFIX(w)) : w;
  }
  if (values[0] > 0) {
    s->xres = s->yres = values[0];
  } else if (values[1] > 0) {
    s->xres = values[1];
    s->yres = values[2] > 0 ? values[2] : values[1];
  }
}

/* One geometry option, its value and limits in mm. */
typedef struct {
  SANE_Int index;
  const SANE_Option_Descriptor *desc;
  double min, max;
} GeometryOption;

/* Geometry value in mm (pixel units converted at dpi). */
static double geometry_to_mm(const SANE_Option_Descriptor *d, SANE_Word w, int dpi) {
  double v = d->type == SANE_TYPE_FIXED ? SANE_UNFIX(w) : (double) w;
  if (d->unit == SANE_UNIT_PIXEL && dpi > 0)
    v = v * 25.4 / dpi;
  return v;
}

/* The allowed geometry value nearest mm. */
static SANE_Word geometry_from_mm(const SANE_Option_Descriptor *d, double mm, int dpi) {
  double v = mm;
  if (d->unit == SANE_UNIT_PIXEL && dpi > 0)
    v = mm / 25.4 * dpi;
  /* Keep the conversion defined; the range clamps it below anyway. */
  v = CLAMP(v, -32767.0, d->type == SANE_TYPE_FIXED ? 32767.0 : (double) G_MAXINT32);
  SANE_Word w = d->type == SANE_TYPE_FIXED ? SANE_FIX(v) : (SANE_Word) lround(v);
  return scand_sane_constrain_word(d, w);
}

/* Finds a usable, range-constrained geometry option and its limits in mm. */
static gboolean geometry_lookup(SaneScanner *s, const char *name, int dpi, GeometryOption *g) {
  g->index = option_find_usable(s, name, &g->desc);
  /* Without a range the size of the bed is unknown: leave such an area alone. */
  if (g->index < 0 || (g->desc->type != SANE_TYPE_INT && g->desc->type != SANE_TYPE_FIXED) ||
      g->desc->constraint_type != SANE_CONSTRAINT_RANGE || !g->desc->constraint.range)
    return FALSE;
  g->min = geometry_to_mm(g->desc, g->desc->constraint.range->min, dpi);
  g->max = geometry_to_mm(g->desc, g->desc->constraint.range->max, dpi);
  return TRUE;
}

/* Sets a geometry option to the allowed value nearest mm. */
static gboolean geometry_set(SaneScanner *s, GeometryOption *g, double mm, int dpi, GError **error) {
  SANE_Word w = geometry_from_mm(g->desc, mm, dpi);
  SANE_Status status = option_set_word(s, g->index, g->desc, w);
  if (status != SANE_STATUS_GOOD) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s refused %s = %.1f mm: %s", s->device, g->desc->name, mm,
                sane_strstatus(status));
    return FALSE;
  }
  return TRUE;
}

/* Sets the scan area; a device without area options (e.g. a hand scanner)
 * is left alone. */
static gboolean apply_area(SaneScanner *s, const ScandScanSettings *settings, GError **error) {
  GeometryOption tlx, tly, brx, bry;
  int dpi = s->xres;
  if (!geometry_lookup(s, SANE_NAME_SCAN_TL_X, dpi, &tlx) || !geometry_lookup(s, SANE_NAME_SCAN_TL_Y, dpi, &tly) ||
      !geometry_lookup(s, SANE_NAME_SCAN_BR_X, dpi, &brx) || !geometry_lookup(s, SANE_NAME_SCAN_BR_Y, dpi, &bry))
    return TRUE;
  if (settings->x < 0 || settings->y < 0 || settings->width < 0 || settings->height < 0 ||
      !isfinite(settings->x + settings->y + settings->width + settings->height)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "scan area for %s has a negative or invalid size", s->device);
    return FALSE;
  }
  double x0 = CLAMP(tlx.min + settings->x, tlx.min, tlx.max);
  double y0 = CLAMP(tly.min + settings->y, tly.min, tly.max);
  double x1 = settings->width > 0 ? MIN(x0 + settings->width, brx.max) : brx.max;
  double y1 = settings->height > 0 ? MIN(y0 + settings->height, bry.max) : bry.max;
  /* Backends that keep tl < br refuse a tl beyond the current br: start from
   * the smallest top-left, then set the bottom-right, then the top-left. */
  if (!geometry_set(s, &tlx, tlx.min, dpi, error) || !geometry_set(s, &tly, tly.min, dpi, error) ||
      !geometry_set(s, &brx, x1, dpi, error) || !geometry_set(s, &bry, y1, dpi, error) ||
      !geometry_set(s, &tlx, x0, dpi, error) || !geometry_set(s, &tly, y0, dpi, error))
    return FALSE;
  return TRUE;
}

/* Reads the effective area back, relative to the top-left of the ranges. */
static void read_area(SaneScanner *s, ScandScanSettings *effective) {
  const char *const names[] = { SANE_NAME_SCAN_TL_X, SANE_NAME_SCAN_TL_Y, SANE_NAME_SCAN_BR_X, SANE_NAME_SCAN_BR_Y };
  double v[4], origin[4];
  for (guint n = 0; n < 4; n++) {
    GeometryOption g;
    SANE_Word w;
    if (!geometry_lookup(s, names[n], s->xres, &g) || !option_get_word(s, g.index, g.desc, &w))
      return;
    v[n] = geometry_to_mm(g.desc, w, s->xres);
    origin[n] = g.min;
  }
  effective->x = v[0] - origin[0];
  effective->y = v[1] - origin[1];
  effective->width = v[2] - v[0];
  effective->height = v[3] - v[1];
}

/* Applies "name=value" device options in order. */
static gboolean apply_extra_options(SaneScanner *s, GStrv extra, GError **error) {
  for (guint n = 0; extra && extra[n]; n++) {
    const char *eq = strchr(extra[n], '=');
    g_autofree char *name = g_strstrip(eq ? g_strndup(extra[n], eq - extra[n]) : g_strdup(extra[n]));
    g_autofree char *value = eq ? g_strstrip(g_strdup(eq + 1)) : NULL;
    if (!*name) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "extra option \"%s\" for %s has no name", extra[n], s->device);
      return FALSE;
    }
    if (!option_set_from_text(s, name, value, error))
      return FALSE;
  }
  return TRUE;
}

/* The mode the device will deliver, from its parameters. */
static ScandColorMode mode_from_parameters(SaneScanner *s) {
  SANE_Parameters p;
  if (sane_get_parameters(s->handle, &p) != SANE_STATUS_GOOD)
    return SCAND_MODE_AUTO;
  if (p.format == SANE_FRAME_GRAY)
    return p.depth == 1 ? SCAND_MODE_LINEART : SCAND_MODE_GRAY;
  if (p.format == SANE_FRAME_RGB || p.format == SANE_FRAME_RED || p.format == SANE_FRAME_GREEN ||
      p.format == SANE_FRAME_BLUE)
    return SCAND_MODE_COLOR;
  return SCAND_MODE_AUTO;
}

/* Applies settings (source, mode, resolution, area, extra options, in that
 * order, so extra options win), fills *effective and starts the first page. */
static gboolean sane_backend_start(ScandScanner *scanner, const ScandScanSettings *requested,
                                   ScandScanSettings *effective, GError **error) {
  SaneScanner *s = (SaneScanner *) scanner;
  /* effective may be the very struct the settings came in. */
  const ScandScanSettings copy = *requested, *settings = &copy;
  if (s->in_job) {
    device_cancel(s);
    s->in_job = FALSE;
  }
  g_atomic_int_set(&s->cancel_requested, 0);
  s->pages = 0;
  s->started = FALSE;
  s->xres = s->yres = 0;
  memset(effective, 0, sizeof(*effective));

  if (!apply_source(s, settings, effective, error) || !apply_mode(s, settings->mode, error) ||
      !apply_resolution(s, settings->resolution, error) || !apply_area(s, settings, error) ||
      !apply_extra_options(s, settings->extra_options, error))
    return FALSE;

  /* Extra options may have changed any of these: report what is set now. */
  read_resolution(s);
  read_area(s, effective);
  {
    const SANE_Option_Descriptor *d = NULL;
    SANE_Int i = option_find(s, SANE_NAME_SCAN_SOURCE, &d);
    if (i >= 0 && d->type == SANE_TYPE_STRING && SANE_OPTION_IS_ACTIVE(d->cap)) {
      g_autofree char *cur = option_get_string(s, i, d);
      ScandSaneSourceKind kind = scand_sane_source_kind(cur);
      s->feeder = kind >= SCAND_SANE_SOURCE_ADF;
      effective->source = s->feeder ? SCAND_SOURCE_FEEDER : SCAND_SOURCE_FLATBED;
      if (kind == SCAND_SANE_SOURCE_ADF_DUPLEX)
        effective->duplex = TRUE;
    }
  }
  effective->mode = mode_from_parameters(s);
  effective->resolution = s->xres;
  s->max_pages = s->feeder ? settings->max_pages : 1;
  effective->max_pages = s->max_pages;
  /* Borrowed pointers would make ownership of *effective unclear. */
  effective->extra_options = NULL;

  SANE_Status status = device_start(s);
  if (status != SANE_STATUS_GOOD) {
    sane_cancel(s->handle);
    set_status_error(error, s, status, 0);
    return FALSE;
  }
  s->in_job = TRUE;
  s->started = TRUE;
  return TRUE;
}

/* ---- reading ---------------------------------------------------------------- */

/* Where converted lines of one page go: straight to the sink, or (three-pass)
 * into one plane per colour. */
typedef struct {
  ScandPageSink *sink;
  GByteArray *batch;     /* converted lines not yet written */
  GByteArray *planes[3]; /* three-pass: one 8-bit plane per colour */
} PageOut;

/* Frees the buffers (not the sink). */
static void page_out_clear(PageOut *out) {
  if (out->batch)
    g_byte_array_unref(out->batch);
  for (guint c = 0; c < 3; c++)
    if (out->planes[c])
      g_byte_array_unref(out->planes[c]);
}

/* Writes the batched lines to the sink. */
static gboolean page_out_flush(PageOut *out, GError **error) {
  if (out->batch->len == 0)
    return TRUE;
  gboolean ok = out->sink->write(out->sink, out->batch->data, out->batch->len, error);
  g_byte_array_set_size(out->batch, 0);
  return ok;
}

/* Reads one frame until EOF. Lines go to plane (three-pass) or the batch.
 * Returns the number of lines kept, or -1 with error set. */
static int read_frame(SaneScanner *s, const ScandSaneLineFormat *fmt, int expected_lines, PageOut *out,
                      GByteArray *plane, guint page, GError **error) {
  g_autofree guint8 *buf = g_malloc(READ_BUFFER_SIZE);
  g_autofree guint8 *line = g_malloc(fmt->in_bytes);
  g_autofree guint8 *conv = g_malloc(fmt->out_bytes);
  gsize filled = 0;
  int lines = 0;
  gboolean any_data = FALSE;

  for (;;) {
    SANE_Int len = 0;
    SANE_Status status = sane_read(s->handle, buf, READ_BUFFER_SIZE, &len);
    if (g_atomic_int_get(&s->cancel_requested))
      status = SANE_STATUS_CANCELLED;
    if (status == SANE_STATUS_EOF) {
      g_atomic_int_set(&s->frame_open, 0);
      break;
    }
    if (status != SANE_STATUS_GOOD) {
      /* NO_DOCS before any byte of a later feeder page is the feeder running
       * out, reported late by some backends. */
      if (status == SANE_STATUS_NO_DOCS && !any_data && page > 1 && s->feeder)
        return -2;
      set_status_error(error, s, status, page);
      return -1;
    }
    if (len < 0 || len > READ_BUFFER_SIZE) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "%s returned an impossible read length %d on page %u",
                  s->device, len, page);
      return -1;
    }
    if (len > 0)
      any_data = TRUE;
    const guint8 *p = buf;
    gsize left = (gsize) len;
    while (left > 0) {
      gsize n = MIN(left, fmt->in_bytes - filled);
      memcpy(line + filled, p, n);
      filled += n;
      p += n;
      left -= n;
      if (filled < fmt->in_bytes)
        break;
      filled = 0;
      /* Lines beyond what was announced are dropped: the header is written. */
      if (expected_lines >= 0 && lines >= expected_lines)
        continue;
      scand_sane_line_convert(fmt, line, conv);
      lines++;
      if (plane)
        g_byte_array_append(plane, conv, fmt->out_bytes);
      else
        g_byte_array_append(out->batch, conv, fmt->out_bytes);
    }
    /* Stream: what one sane_read() brought goes to the sink right away. */
    if (!plane && !page_out_flush(out, error))
      return -1;
  }
  if (!any_data) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "%s ended page %u without sending image data", s->device, page);
    return -1;
  }
  /* A frame shorter than announced is padded with white so the page keeps
   * the size its header promised. */
  if (expected_lines >= 0 && lines < expected_lines) {
    guint8 white = fmt->page_format == SCAND_PAGE_BW1 ? 0x00 : 0xff;
    memset(conv, white, fmt->out_bytes);
    for (; lines < expected_lines; lines++) {
      if (plane) {
        g_byte_array_append(plane, conv, fmt->out_bytes);
      } else {
        g_byte_array_append(out->batch, conv, fmt->out_bytes);
        if (out->batch->len >= WRITE_BATCH_SIZE && !page_out_flush(out, error))
          return -1;
      }
    }
  }
  return lines;
}

/* RGB channel index of a three-pass frame. */
static int frame_channel(SANE_Frame f) {
  return f == SANE_FRAME_RED ? 0 : f == SANE_FRAME_GREEN ? 1 : 2;
}

/* A three-pass page (red, green and blue frames, fmt and p those of the
 * first): reads the frames that follow the first sane_start() into planes
 * and writes the page interleaved to out. FALSE with error (a frame lost,
 * doubled or of another format). */
static gboolean read_three_pass(SaneScanner *s, ScandSaneLineFormat fmt, SANE_Parameters p, PageOut *out, guint page,
                                GError **error) {
  gboolean seen[3] = { FALSE, FALSE, FALSE };
  int plane_lines = -1;
  for (guint frame = 0;; frame++) {
    if (frame > 0) {
      SANE_Status status = device_start(s);
      if (status == SANE_STATUS_GOOD)
        status = sane_get_parameters(s->handle, &p);
      if (status != SANE_STATUS_GOOD) {
        set_status_error(error, s, status, page);
        return FALSE;
      }
      ScandSaneLineFormat next;
      if (!scand_sane_line_format_init(&next, &p, s->device, error))
        return FALSE;
      if (next.page_format != SCAND_PAGE_RGB24 || next.format == SANE_FRAME_RGB || next.pixels != fmt.pixels) {
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED,
                    "%s changed the image format between the colour passes of page %u", s->device, page);
        return FALSE;
      }
      fmt = next;
    }
    int c = frame_channel(fmt.format);
    if (seen[c] || frame >= 3) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "%s sent the same colour twice on page %u", s->device, page);
      return FALSE;
    }
    seen[c] = TRUE;
    out->planes[c] = g_byte_array_new();
    int lines = read_frame(s, &fmt, p.lines >= 0 ? p.lines : -1, out, out->planes[c], page, error);
    if (lines < 0) {
      if (lines == -2)
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "%s ran out of paper between colour passes of page %u",
                    s->device, page);
      return FALSE;
    }
    plane_lines = plane_lines < 0 ? lines : MIN(plane_lines, lines);
    if (p.last_frame)
      break;
  }
  if (!seen[0] || !seen[1] || !seen[2]) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "%s ended page %u before sending all three colours", s->device,
                page);
    return FALSE;
  }
  gsize w = (gsize) fmt.pixels;
  for (int y = 0; y < plane_lines; y++) {
    for (gsize x = 0; x < w; x++) {
      guint8 rgb[3];
      for (guint c = 0; c < 3; c++)
        rgb[c] = out->planes[c]->data[(gsize) y * w + x];
      g_byte_array_append(out->batch, rgb, 3);
    }
    if (out->batch->len >= WRITE_BATCH_SIZE && !page_out_flush(out, error))
      return FALSE;
  }
  return page_out_flush(out, error);
}

/* Reads the page whose sane_start() succeeded into the sink. Returns 1 for a
 * page, 0 when the feeder turned out to be empty (the sink was aborted), -1 on
 * error (the sink was aborted if it had begun). */
static int read_one_page(SaneScanner *s, ScandPageSink *sink, GError **error) {
  guint page = s->pages + 1;
  SANE_Parameters p;
  SANE_Status status = sane_get_parameters(s->handle, &p);
  if (status != SANE_STATUS_GOOD) {
    set_status_error(error, s, status, page);
    return -1;
  }
  ScandSaneLineFormat fmt;
  if (!scand_sane_line_format_init(&fmt, &p, s->device, error))
    return -1;
  gboolean three_pass = p.format == SANE_FRAME_RED || p.format == SANE_FRAME_GREEN || p.format == SANE_FRAME_BLUE;

  ScandPageHeader header = {
    .format = fmt.page_format,
    .width = fmt.pixels,
    .height = p.lines >= 0 ? p.lines : -1,
    .xres = s->xres,
    .yres = s->yres,
  };
  PageOut out = { .sink = sink, .batch = g_byte_array_sized_new(WRITE_BATCH_SIZE + fmt.out_bytes) };
  if (!sink->begin(sink, &header, error)) {
    page_out_clear(&out);
    return -1;
  }

  int result = -1;
  if (!three_pass) {
    int lines = read_frame(s, &fmt, header.height, &out, NULL, page, error);
    if (lines == -2) {
      sink->abort(sink);
      page_out_clear(&out);
      return 0;
    }
    if (lines < 0 || !page_out_flush(&out, error))
      goto fail;
  } else if (!read_three_pass(s, fmt, p, &out, page, error)) {
    goto fail;
  }
  if (!sink->end(sink, error)) {
    page_out_clear(&out);
    return -1;
  }
  result = 1;
  page_out_clear(&out);
  return result;

fail:
  sink->abort(sink);
  page_out_clear(&out);
  return -1;
}

/* Ends the job on the device. */
static void job_finish(SaneScanner *s) {
  device_cancel(s);
  g_atomic_int_set(&s->frame_open, 0);
  s->in_job = FALSE;
  s->started = FALSE;
}

/* Streams the next page into sink, or reports the end of the job. */
static gboolean sane_backend_read_page(ScandScanner *scanner, ScandPageSink *sink, gboolean *got_page, GError **error) {
  SaneScanner *s = (SaneScanner *) scanner;
  *got_page = FALSE;
  if (!s->in_job)
    return TRUE;
  if (g_atomic_int_get(&s->cancel_requested)) {
    job_finish(s);
    set_status_error(error, s, SANE_STATUS_CANCELLED, s->pages + 1);
    return FALSE;
  }
  if ((s->max_pages > 0 && s->pages >= s->max_pages) || (!s->feeder && s->pages >= 1)) {
    job_finish(s);
    return TRUE;
  }
  if (!s->started) {
    SANE_Status status = device_start(s);
    if (g_atomic_int_get(&s->cancel_requested))
      status = SANE_STATUS_CANCELLED;
    if (status == SANE_STATUS_NO_DOCS && s->pages > 0) {
      job_finish(s);
      return TRUE;
    }
    if (status != SANE_STATUS_GOOD) {
      job_finish(s);
      set_status_error(error, s, status, s->pages + 1);
      return FALSE;
    }
  }
  s->started = FALSE;
  int r = read_one_page(s, sink, error);
  if (r < 0) {
    job_finish(s);
    return FALSE;
  }
  if (r == 0) {
    job_finish(s);
    return TRUE;
  }
  s->pages++;
  *got_page = TRUE;
  /* Done after this page: tell the device now rather than on the next call. */
  if (!s->feeder || (s->max_pages > 0 && s->pages >= s->max_pages))
    job_finish(s);
  return TRUE;
}

/* The buttons entry: hardware buttons are active read-only bool options
 * (SANE_CAP_HARD_SELECT), as backends expose scan / email / copy buttons.
 * The device is opened for the read and closed again, so that between two
 * polls any other program (and scand's own scans) can use it. */
static gboolean sane_backend_buttons(const char *rest, const ScandOpenOptions *options, GPtrArray *pressed,
                                     GError **error) {
  ScandScanner *scanner = sane_backend_open(rest, options, error);
  if (!scanner)
    return FALSE;
  SaneScanner *s = (SaneScanner *) scanner;
  for (SANE_Int i = 1;; i++) {
    const SANE_Option_Descriptor *d = sane_get_option_descriptor(s->handle, i);
    if (!d)
      break;
    if (d->type != SANE_TYPE_BOOL || !d->name || !(d->cap & SANE_CAP_HARD_SELECT) || !SANE_OPTION_IS_ACTIVE(d->cap))
      continue;
    SANE_Word value = SANE_FALSE;
    if (sane_control_option(s->handle, i, SANE_ACTION_GET_VALUE, &value, NULL) == SANE_STATUS_GOOD && value)
      g_ptr_array_add(pressed, g_strdup(d->name));
  }
  sane_backend_close(scanner);
  return TRUE;
}

const ScandBackendDriver scand_backend_sane = {
  .scheme = "sane",
  .list = sane_backend_list,
  .open = sane_backend_open,
  .start = sane_backend_start,
  .read_page = sane_backend_read_page,
  .cancel = sane_backend_cancel,
  .close = sane_backend_close,
  .buttons = sane_backend_buttons,
};
