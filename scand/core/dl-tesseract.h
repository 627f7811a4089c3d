/* Tesseract's C API, loaded for the first OCR or orientation check. sym_<function> has the type
 * of the library's own prototype; call dl_tesseract_load() before any. */
#pragma once

#include <tesseract/capi.h>

#include "scand/base/dl.h"

G_BEGIN_DECLS

/* Loads libtesseract.so.5 once; FALSE with a one-line error when it cannot. */
gboolean dl_tesseract_load(GError **error);

SCAND_DL_DECLARE(TessBaseAPIClear);
SCAND_DL_DECLARE(TessBaseAPICreate);
SCAND_DL_DECLARE(TessBaseAPIDelete);
SCAND_DL_DECLARE(TessBaseAPIDetectOrientationScript);
SCAND_DL_DECLARE(TessBaseAPIEnd);
SCAND_DL_DECLARE(TessBaseAPIGetIterator);
SCAND_DL_DECLARE(TessBaseAPIInit3);
SCAND_DL_DECLARE(TessBaseAPIRecognize);
SCAND_DL_DECLARE(TessBaseAPISetImage2);
SCAND_DL_DECLARE(TessBaseAPISetPageSegMode);
SCAND_DL_DECLARE(TessBaseAPISetSourceResolution);
SCAND_DL_DECLARE(TessBaseAPISetVariable);
SCAND_DL_DECLARE(TessDeleteText);
SCAND_DL_DECLARE(TessMonitorCreate);
SCAND_DL_DECLARE(TessMonitorDelete);
SCAND_DL_DECLARE(TessMonitorSetCancelFunc);
SCAND_DL_DECLARE(TessMonitorSetCancelThis);
SCAND_DL_DECLARE(TessPageIteratorBaseline);
SCAND_DL_DECLARE(TessPageIteratorBoundingBox);
SCAND_DL_DECLARE(TessPageIteratorIsAtBeginningOf);
SCAND_DL_DECLARE(TessResultIteratorDelete);
SCAND_DL_DECLARE(TessResultIteratorGetPageIterator);
SCAND_DL_DECLARE(TessResultIteratorGetUTF8Text);
SCAND_DL_DECLARE(TessResultIteratorNext);

G_END_DECLS
