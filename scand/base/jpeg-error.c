/* The one libjpeg error handler (jpeg-error.h). */
#include "scand/base/jpeg-error.h"

#include <string.h>

/* libjpeg's fatal errors: keep the message and unwind to the caller's setjmp. */
static void jpeg_error_exit(j_common_ptr cinfo) {
  ScandJpegError *e = (ScandJpegError *) cinfo->err;
  cinfo->err->format_message(cinfo, e->msg);
  longjmp(e->jmp, 1);
}

/* Counts warnings and keeps the first one's text. */
static void jpeg_emit_message(j_common_ptr cinfo, int level) {
  ScandJpegError *e = (ScandJpegError *) cinfo->err;
  if (level < 0) {
    if (e->pub.num_warnings == 0)
      cinfo->err->format_message(cinfo, e->msg);
    e->pub.num_warnings++;
  }
}

/* Silences libjpeg's own printing. */
static void jpeg_output_nothing(j_common_ptr cinfo) {
}

struct jpeg_error_mgr *scand_jpeg_error_init(ScandJpegError *e, gboolean keep_warnings) {
  memset(e, 0, sizeof *e);
  jpeg_std_error(&e->pub);
  e->pub.error_exit = jpeg_error_exit;
  if (keep_warnings)
    e->pub.emit_message = jpeg_emit_message;
  e->pub.output_message = jpeg_output_nothing;
  return &e->pub;
}
