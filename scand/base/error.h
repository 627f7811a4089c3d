/* Error domain shared by every scand module. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SCAND_ERROR (scand_error_quark())
GQuark scand_error_quark(void);

/* Codes say what a person (or the delivery queue) should do next. */
typedef enum {
  SCAND_ERROR_FAILED,      /* generic, permanent */
  SCAND_ERROR_INVAL,       /* bad input: config, template, file, reply */
  SCAND_ERROR_NOT_FOUND,   /* device, output, job, file missing */
  SCAND_ERROR_BUSY,        /* device or job in use by someone else */
  SCAND_ERROR_IO,          /* local or device I/O failure */
  SCAND_ERROR_JAMMED,      /* paper jam in the feeder */
  SCAND_ERROR_COVER_OPEN,  /* cover or ADF hatch open */
  SCAND_ERROR_NO_DOCS,     /* feeder empty */
  SCAND_ERROR_CANCELLED,   /* cancelled by the user or SIGTERM */
  SCAND_ERROR_UNSUPPORTED, /* device cannot do what was asked */
  SCAND_ERROR_DENIED,      /* permission / authentication refused */
  SCAND_ERROR_RETRY,       /* temporary: try again later */
  SCAND_ERROR_CORRUPT,     /* state that cannot be understood: keep it aside for a person, never guess */
} ScandErrorCode;

G_END_DECLS
