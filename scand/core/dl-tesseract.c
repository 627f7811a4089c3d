#include "scand/core/dl-tesseract.h"

SCAND_DL_DEFINE(TessBaseAPIClear);
SCAND_DL_DEFINE(TessBaseAPICreate);
SCAND_DL_DEFINE(TessBaseAPIDelete);
SCAND_DL_DEFINE(TessBaseAPIDetectOrientationScript);
SCAND_DL_DEFINE(TessBaseAPIEnd);
SCAND_DL_DEFINE(TessBaseAPIGetIterator);
SCAND_DL_DEFINE(TessBaseAPIInit3);
SCAND_DL_DEFINE(TessBaseAPIRecognize);
SCAND_DL_DEFINE(TessBaseAPISetImage2);
SCAND_DL_DEFINE(TessBaseAPISetPageSegMode);
SCAND_DL_DEFINE(TessBaseAPISetSourceResolution);
SCAND_DL_DEFINE(TessBaseAPISetVariable);
SCAND_DL_DEFINE(TessDeleteText);
SCAND_DL_DEFINE(TessMonitorCreate);
SCAND_DL_DEFINE(TessMonitorDelete);
SCAND_DL_DEFINE(TessMonitorSetCancelFunc);
SCAND_DL_DEFINE(TessMonitorSetCancelThis);
SCAND_DL_DEFINE(TessPageIteratorBaseline);
SCAND_DL_DEFINE(TessPageIteratorBoundingBox);
SCAND_DL_DEFINE(TessPageIteratorIsAtBeginningOf);
SCAND_DL_DEFINE(TessResultIteratorDelete);
SCAND_DL_DEFINE(TessResultIteratorGetPageIterator);
SCAND_DL_DEFINE(TessResultIteratorGetUTF8Text);
SCAND_DL_DEFINE(TessResultIteratorNext);

static const ScandDlSymbol symbols[] = {
  SCAND_DL_SYMBOL(TessBaseAPIClear),
  SCAND_DL_SYMBOL(TessBaseAPICreate),
  SCAND_DL_SYMBOL(TessBaseAPIDelete),
  SCAND_DL_SYMBOL(TessBaseAPIDetectOrientationScript),
  SCAND_DL_SYMBOL(TessBaseAPIEnd),
  SCAND_DL_SYMBOL(TessBaseAPIGetIterator),
  SCAND_DL_SYMBOL(TessBaseAPIInit3),
  SCAND_DL_SYMBOL(TessBaseAPIRecognize),
  SCAND_DL_SYMBOL(TessBaseAPISetImage2),
  SCAND_DL_SYMBOL(TessBaseAPISetPageSegMode),
  SCAND_DL_SYMBOL(TessBaseAPISetSourceResolution),
  SCAND_DL_SYMBOL(TessBaseAPISetVariable),
  SCAND_DL_SYMBOL(TessDeleteText),
  SCAND_DL_SYMBOL(TessMonitorCreate),
  SCAND_DL_SYMBOL(TessMonitorDelete),
  SCAND_DL_SYMBOL(TessMonitorSetCancelFunc),
  SCAND_DL_SYMBOL(TessMonitorSetCancelThis),
  SCAND_DL_SYMBOL(TessPageIteratorBaseline),
  SCAND_DL_SYMBOL(TessPageIteratorBoundingBox),
  SCAND_DL_SYMBOL(TessPageIteratorIsAtBeginningOf),
  SCAND_DL_SYMBOL(TessResultIteratorDelete),
  SCAND_DL_SYMBOL(TessResultIteratorGetPageIterator),
  SCAND_DL_SYMBOL(TessResultIteratorGetUTF8Text),
  SCAND_DL_SYMBOL(TessResultIteratorNext),
  { NULL, NULL },
};

static ScandDlLibrary library = { .soname = "libtesseract.so.5", .purpose = "OCR", .symbols = symbols };

gboolean dl_tesseract_load(GError **error) {
  return scand_dl_load(&library, error);
}
