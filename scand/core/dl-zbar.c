#include "scand/core/dl-zbar.h"

SCAND_DL_DEFINE(zbar_get_symbol_name);
SCAND_DL_DEFINE(zbar_image_create);
SCAND_DL_DEFINE(zbar_image_destroy);
SCAND_DL_DEFINE(zbar_image_first_symbol);
SCAND_DL_DEFINE(zbar_image_free_data);
SCAND_DL_DEFINE(zbar_image_scanner_create);
SCAND_DL_DEFINE(zbar_image_scanner_destroy);
SCAND_DL_DEFINE(zbar_image_scanner_set_config);
SCAND_DL_DEFINE(zbar_image_set_data);
SCAND_DL_DEFINE(zbar_image_set_format);
SCAND_DL_DEFINE(zbar_image_set_size);
SCAND_DL_DEFINE(zbar_scan_image);
SCAND_DL_DEFINE(zbar_symbol_get_data);
SCAND_DL_DEFINE(zbar_symbol_get_type);
SCAND_DL_DEFINE(zbar_symbol_next);

static const ScandDlSymbol symbols[] = {
  SCAND_DL_SYMBOL(zbar_get_symbol_name),       SCAND_DL_SYMBOL(zbar_image_create),
  SCAND_DL_SYMBOL(zbar_image_destroy),         SCAND_DL_SYMBOL(zbar_image_first_symbol),
  SCAND_DL_SYMBOL(zbar_image_free_data),       SCAND_DL_SYMBOL(zbar_image_scanner_create),
  SCAND_DL_SYMBOL(zbar_image_scanner_destroy), SCAND_DL_SYMBOL(zbar_image_scanner_set_config),
  SCAND_DL_SYMBOL(zbar_image_set_data),        SCAND_DL_SYMBOL(zbar_image_set_format),
  SCAND_DL_SYMBOL(zbar_image_set_size),        SCAND_DL_SYMBOL(zbar_scan_image),
  SCAND_DL_SYMBOL(zbar_symbol_get_data),       SCAND_DL_SYMBOL(zbar_symbol_get_type),
  SCAND_DL_SYMBOL(zbar_symbol_next),           { NULL, NULL },
};

static ScandDlLibrary library = { .soname = "libzbar.so.0", .purpose = "barcode reading", .symbols = symbols };

gboolean dl_zbar_load(GError **error) {
  return scand_dl_load(&library, error);
}
