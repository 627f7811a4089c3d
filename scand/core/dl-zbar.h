/* ZBar, loaded for the first barcode read. sym_<function> has the type
 * of the library's own prototype; call dl_zbar_load() before any. */
#pragma once

#include <zbar.h>

#include "scand/base/dl.h"

G_BEGIN_DECLS

/* Loads libzbar.so.0 once; FALSE with a one-line error when it cannot. */
gboolean dl_zbar_load(GError **error);

SCAND_DL_DECLARE(zbar_get_symbol_name);
SCAND_DL_DECLARE(zbar_image_create);
SCAND_DL_DECLARE(zbar_image_destroy);
SCAND_DL_DECLARE(zbar_image_first_symbol);
SCAND_DL_DECLARE(zbar_image_free_data);
SCAND_DL_DECLARE(zbar_image_scanner_create);
SCAND_DL_DECLARE(zbar_image_scanner_destroy);
SCAND_DL_DECLARE(zbar_image_scanner_set_config);
SCAND_DL_DECLARE(zbar_image_set_data);
SCAND_DL_DECLARE(zbar_image_set_format);
SCAND_DL_DECLARE(zbar_image_set_size);
SCAND_DL_DECLARE(zbar_scan_image);
SCAND_DL_DECLARE(zbar_symbol_get_data);
SCAND_DL_DECLARE(zbar_symbol_get_type);
SCAND_DL_DECLARE(zbar_symbol_next);

G_END_DECLS
