/* The one libjpeg error handler: libjpeg's fatal errors keep their message and
 * unwind to the caller's setjmp(), and nothing is printed (a library must not
 * write to stderr). Used by image decoding, PDF encoding and page analysis. */
#pragma once

#include <glib.h>

#include <setjmp.h>
#include <stdio.h>

#include <jpeglib.h>

G_BEGIN_DECLS

typedef struct {
  struct jpeg_error_mgr pub;
  jmp_buf jmp;               /* setjmp() it before the first libjpeg call */
  char msg[JMSG_LENGTH_MAX]; /* the fatal error, or with keep_warnings the first warning */
} ScandJpegError;

/* Fills e and returns the manager to put in cinfo.err. With keep_warnings,
 * warnings are counted in e->pub.num_warnings and the first one's text kept
 * in e->msg (a warning while reading a header means a damaged file). */
struct jpeg_error_mgr *scand_jpeg_error_init(ScandJpegError *e, gboolean keep_warnings);

G_END_DECLS
