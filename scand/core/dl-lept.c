#include "scand/core/dl-lept.h"

SCAND_DL_DEFINE(boxCreate);
SCAND_DL_DEFINE(boxDestroy);
SCAND_DL_DEFINE(composeRGBPixel);
SCAND_DL_DEFINE(extractRGBValues);
SCAND_DL_DEFINE(pixBackgroundNormSimple);
SCAND_DL_DEFINE(pixClipRectangle);
SCAND_DL_DEFINE(pixClone);
SCAND_DL_DEFINE(pixColorFraction);
SCAND_DL_DEFINE(pixConvertRGBToLuminance);
SCAND_DL_DEFINE(pixConvertTo8);
SCAND_DL_DEFINE(pixCountPixels);
SCAND_DL_DEFINE(pixCreate);
SCAND_DL_DEFINE(pixDestroy);
SCAND_DL_DEFINE(pixFindSkew);
SCAND_DL_DEFINE(pixGetData);
SCAND_DL_DEFINE(pixGetDepth);
SCAND_DL_DEFINE(pixGetHeight);
SCAND_DL_DEFINE(pixGetPixel);
SCAND_DL_DEFINE(pixGetWidth);
SCAND_DL_DEFINE(pixGetWpl);
SCAND_DL_DEFINE(pixOpenBrick);
SCAND_DL_DEFINE(pixRotate);
SCAND_DL_DEFINE(pixRotateOrth);
SCAND_DL_DEFINE(pixSelectBySize);
SCAND_DL_DEFINE(pixSetResolution);
SCAND_DL_DEFINE(pixSubtract);
SCAND_DL_DEFINE(pixThresholdToBinary);

static const ScandDlSymbol symbols[] = {
  SCAND_DL_SYMBOL(boxCreate),
  SCAND_DL_SYMBOL(boxDestroy),
  SCAND_DL_SYMBOL(composeRGBPixel),
  SCAND_DL_SYMBOL(extractRGBValues),
  SCAND_DL_SYMBOL(pixBackgroundNormSimple),
  SCAND_DL_SYMBOL(pixClipRectangle),
  SCAND_DL_SYMBOL(pixClone),
  SCAND_DL_SYMBOL(pixColorFraction),
  SCAND_DL_SYMBOL(pixConvertRGBToLuminance),
  SCAND_DL_SYMBOL(pixConvertTo8),
  SCAND_DL_SYMBOL(pixCountPixels),
  SCAND_DL_SYMBOL(pixCreate),
  SCAND_DL_SYMBOL(pixDestroy),
  SCAND_DL_SYMBOL(pixFindSkew),
  SCAND_DL_SYMBOL(pixGetData),
  SCAND_DL_SYMBOL(pixGetDepth),
  SCAND_DL_SYMBOL(pixGetHeight),
  SCAND_DL_SYMBOL(pixGetPixel),
  SCAND_DL_SYMBOL(pixGetWidth),
  SCAND_DL_SYMBOL(pixGetWpl),
  SCAND_DL_SYMBOL(pixOpenBrick),
  SCAND_DL_SYMBOL(pixRotate),
  SCAND_DL_SYMBOL(pixRotateOrth),
  SCAND_DL_SYMBOL(pixSelectBySize),
  SCAND_DL_SYMBOL(pixSetResolution),
  SCAND_DL_SYMBOL(pixSubtract),
  SCAND_DL_SYMBOL(pixThresholdToBinary),
  { NULL, NULL },
};

static ScandDlLibrary library = { .soname = "liblept.so.5", .purpose = "page processing", .symbols = symbols };

gboolean dl_lept_load(GError **error) {
  return scand_dl_load(&library, error);
}
