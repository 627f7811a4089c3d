/* Leptonica, loaded when the first page is processed. sym_<function> has the type
 * of the library's own prototype; call dl_lept_load() before any. */
#pragma once

#include <leptonica/allheaders.h>

#include "scand/base/dl.h"

G_BEGIN_DECLS

/* Loads liblept.so.5 once; FALSE with a one-line error when it cannot. */
gboolean dl_lept_load(GError **error);

SCAND_DL_DECLARE(boxCreate);
SCAND_DL_DECLARE(boxDestroy);
SCAND_DL_DECLARE(composeRGBPixel);
SCAND_DL_DECLARE(extractRGBValues);
SCAND_DL_DECLARE(pixBackgroundNormSimple);
SCAND_DL_DECLARE(pixClipRectangle);
SCAND_DL_DECLARE(pixClone);
SCAND_DL_DECLARE(pixColorFraction);
SCAND_DL_DECLARE(pixConvertRGBToLuminance);
SCAND_DL_DECLARE(pixConvertTo8);
SCAND_DL_DECLARE(pixCountPixels);
SCAND_DL_DECLARE(pixCreate);
SCAND_DL_DECLARE(pixDestroy);
SCAND_DL_DECLARE(pixFindSkew);
SCAND_DL_DECLARE(pixGetData);
SCAND_DL_DECLARE(pixGetDepth);
SCAND_DL_DECLARE(pixGetHeight);
SCAND_DL_DECLARE(pixGetPixel);
SCAND_DL_DECLARE(pixGetWidth);
SCAND_DL_DECLARE(pixGetWpl);
SCAND_DL_DECLARE(pixOpenBrick);
SCAND_DL_DECLARE(pixRotate);
SCAND_DL_DECLARE(pixRotateOrth);
SCAND_DL_DECLARE(pixSelectBySize);
SCAND_DL_DECLARE(pixSetResolution);
SCAND_DL_DECLARE(pixSubtract);
SCAND_DL_DECLARE(pixThresholdToBinary);

G_END_DECLS
