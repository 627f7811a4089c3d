/* The SANE backend's pure helpers: how option values, constraints, statuses and
 * frames from SANE backends map onto scand's settings and pages. Kept apart from
 * sane.c so unit tests can check them without a device. */
#pragma once

#include <glib.h>
#include <sane/sane.h>

#include "backends/backend.h"
#include "scand/base/page.h"

G_BEGIN_DECLS

/* What a value of a SANE "source" option means. SANE backends spell the same
 * thing many ways ("Flatbed", "FlatBed", "Platen", "ADF", "ADF Front",
 * "Automatic Document Feeder", "ADF Duplex", "Duplex", ...). */
typedef enum {
  SCAND_SANE_SOURCE_OTHER, /* transparency unit, film, unknown */
  SCAND_SANE_SOURCE_FLATBED,
  SCAND_SANE_SOURCE_ADF,        /* feeder, front side */
  SCAND_SANE_SOURCE_ADF_BACK,   /* feeder, back side only: never picked */
  SCAND_SANE_SOURCE_ADF_DUPLEX, /* feeder, both sides */
} ScandSaneSourceKind;

ScandSaneSourceKind scand_sane_source_kind(const char *value);

/* What a value of a SANE "mode" option means ("Color", "Colour", "24bit Color",
 * "Gray", "Grayscale", "True Gray", "Lineart", "Binary", "Black & White",
 * "Halftone", ...). */
typedef enum {
  SCAND_SANE_MODE_OTHER,
  SCAND_SANE_MODE_COLOR,
  SCAND_SANE_MODE_GRAY,
  SCAND_SANE_MODE_LINEART,  /* thresholded 1-bit */
  SCAND_SANE_MODE_HALFTONE, /* dithered 1-bit: only when no lineart exists */
} ScandSaneModeKind;

ScandSaneModeKind scand_sane_mode_kind(const char *value);

/* The value a constrained word option (SANE_TYPE_INT or SANE_TYPE_FIXED) takes
 * that is nearest to want: clamped and quantised for a range, the closest entry
 * (ties go to the larger) of a word list, want itself otherwise. */
SANE_Word scand_sane_constrain_word(const SANE_Option_Descriptor *desc, SANE_Word want);

/* Whether value satisfies the option's word constraint. */
gboolean scand_sane_word_is_valid(const SANE_Option_Descriptor *desc, SANE_Word value);

/* The scand error code for a SANE status. */
int scand_sane_status_to_error_code(SANE_Status status);

/* How one SANE frame's lines become page bytes. */
typedef struct {
  SANE_Frame format;
  int depth;       /* 1, 8 or 16 */
  int pixels;      /* pixels per line */
  gsize in_bytes;  /* bytes_per_line as the device sends them */
  gsize out_bytes; /* bytes per converted line */
  ScandPageFormat page_format;
} ScandSaneLineFormat;

/* Checks SANE parameters and describes their lines. Frames of a three-pass
 * scan (RED/GREEN/BLUE) convert to one 8-bit sample per pixel; they are
 * interleaved by the caller. Returns FALSE with SCAND_ERROR_FAILED for
 * parameters no frame can have (what names the device in the message). */
gboolean scand_sane_line_format_init(ScandSaneLineFormat *fmt, const SANE_Parameters *params, const char *what,
                                     GError **error);

/* Converts one line of fmt->in_bytes bytes into fmt->out_bytes bytes: 16-bit
 * samples (host byte order, as SANE sends them) keep their high byte; padding
 * bits of 1-bit rows are cleared; bytes past the pixels (a device that reports
 * fewer pixels than its bytes per line hold) are dropped. */
void scand_sane_line_convert(const ScandSaneLineFormat *fmt, const guint8 *in, guint8 *out);

G_END_DECLS
