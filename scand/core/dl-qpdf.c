#include "scand/core/dl-qpdf.h"

SCAND_DL_DEFINE(qpdf_add_page);
SCAND_DL_DEFINE(qpdf_cleanup);
SCAND_DL_DEFINE(qpdf_empty_pdf);
SCAND_DL_DEFINE(qpdf_get_error);
SCAND_DL_DEFINE(qpdf_get_error_code);
SCAND_DL_DEFINE(qpdf_get_error_file_position);
SCAND_DL_DEFINE(qpdf_get_error_filename);
SCAND_DL_DEFINE(qpdf_get_error_full_text);
SCAND_DL_DEFINE(qpdf_get_error_message_detail);
SCAND_DL_DEFINE(qpdf_get_num_pages);
SCAND_DL_DEFINE(qpdf_get_page_n);
SCAND_DL_DEFINE(qpdf_get_pdf_version);
SCAND_DL_DEFINE(qpdf_get_root);
SCAND_DL_DEFINE(qpdf_has_error);
SCAND_DL_DEFINE(qpdf_init);
SCAND_DL_DEFINE(qpdf_init_write);
SCAND_DL_DEFINE(qpdf_is_encrypted);
SCAND_DL_DEFINE(qpdf_oh_begin_dict_key_iter);
SCAND_DL_DEFINE(qpdf_oh_dict_more_keys);
SCAND_DL_DEFINE(qpdf_oh_dict_next_key);
SCAND_DL_DEFINE(qpdf_oh_get_array_item);
SCAND_DL_DEFINE(qpdf_oh_get_array_n_items);
SCAND_DL_DEFINE(qpdf_oh_get_dict);
SCAND_DL_DEFINE(qpdf_oh_get_generation);
SCAND_DL_DEFINE(qpdf_oh_get_int_value);
SCAND_DL_DEFINE(qpdf_oh_get_key);
SCAND_DL_DEFINE(qpdf_oh_get_numeric_value);
SCAND_DL_DEFINE(qpdf_oh_get_object_id);
SCAND_DL_DEFINE(qpdf_oh_get_stream_data);
SCAND_DL_DEFINE(qpdf_oh_has_key);
SCAND_DL_DEFINE(qpdf_oh_is_array);
SCAND_DL_DEFINE(qpdf_oh_is_dictionary);
SCAND_DL_DEFINE(qpdf_oh_is_indirect);
SCAND_DL_DEFINE(qpdf_oh_is_initialized);
SCAND_DL_DEFINE(qpdf_oh_is_integer);
SCAND_DL_DEFINE(qpdf_oh_is_name_and_equals);
SCAND_DL_DEFINE(qpdf_oh_is_stream);
SCAND_DL_DEFINE(qpdf_oh_release);
SCAND_DL_DEFINE(qpdf_read);
SCAND_DL_DEFINE(qpdf_set_attempt_recovery);
SCAND_DL_DEFINE(qpdf_set_logger);
SCAND_DL_DEFINE(qpdf_set_minimum_pdf_version);
SCAND_DL_DEFINE(qpdf_set_stream_data_mode);
SCAND_DL_DEFINE(qpdf_set_suppress_warnings);
SCAND_DL_DEFINE(qpdf_silence_errors);
SCAND_DL_DEFINE(qpdf_write);
SCAND_DL_DEFINE(qpdflogger_cleanup);
SCAND_DL_DEFINE(qpdflogger_create);
SCAND_DL_DEFINE(qpdflogger_set_error);
SCAND_DL_DEFINE(qpdflogger_set_info);
SCAND_DL_DEFINE(qpdflogger_set_warn);

static const ScandDlSymbol symbols[] = {
  SCAND_DL_SYMBOL(qpdf_add_page),
  SCAND_DL_SYMBOL(qpdf_cleanup),
  SCAND_DL_SYMBOL(qpdf_empty_pdf),
  SCAND_DL_SYMBOL(qpdf_get_error),
  SCAND_DL_SYMBOL(qpdf_get_error_code),
  SCAND_DL_SYMBOL(qpdf_get_error_file_position),
  SCAND_DL_SYMBOL(qpdf_get_error_filename),
  SCAND_DL_SYMBOL(qpdf_get_error_full_text),
  SCAND_DL_SYMBOL(qpdf_get_error_message_detail),
  SCAND_DL_SYMBOL(qpdf_get_num_pages),
  SCAND_DL_SYMBOL(qpdf_get_page_n),
  SCAND_DL_SYMBOL(qpdf_get_pdf_version),
  SCAND_DL_SYMBOL(qpdf_get_root),
  SCAND_DL_SYMBOL(qpdf_has_error),
  SCAND_DL_SYMBOL(qpdf_init),
  SCAND_DL_SYMBOL(qpdf_init_write),
  SCAND_DL_SYMBOL(qpdf_is_encrypted),
  SCAND_DL_SYMBOL(qpdf_oh_begin_dict_key_iter),
  SCAND_DL_SYMBOL(qpdf_oh_dict_more_keys),
  SCAND_DL_SYMBOL(qpdf_oh_dict_next_key),
  SCAND_DL_SYMBOL(qpdf_oh_get_array_item),
  SCAND_DL_SYMBOL(qpdf_oh_get_array_n_items),
  SCAND_DL_SYMBOL(qpdf_oh_get_dict),
  SCAND_DL_SYMBOL(qpdf_oh_get_generation),
  SCAND_DL_SYMBOL(qpdf_oh_get_int_value),
  SCAND_DL_SYMBOL(qpdf_oh_get_key),
  SCAND_DL_SYMBOL(qpdf_oh_get_numeric_value),
  SCAND_DL_SYMBOL(qpdf_oh_get_object_id),
  SCAND_DL_SYMBOL(qpdf_oh_get_stream_data),
  SCAND_DL_SYMBOL(qpdf_oh_has_key),
  SCAND_DL_SYMBOL(qpdf_oh_is_array),
  SCAND_DL_SYMBOL(qpdf_oh_is_dictionary),
  SCAND_DL_SYMBOL(qpdf_oh_is_indirect),
  SCAND_DL_SYMBOL(qpdf_oh_is_initialized),
  SCAND_DL_SYMBOL(qpdf_oh_is_integer),
  SCAND_DL_SYMBOL(qpdf_oh_is_name_and_equals),
  SCAND_DL_SYMBOL(qpdf_oh_is_stream),
  SCAND_DL_SYMBOL(qpdf_oh_release),
  SCAND_DL_SYMBOL(qpdf_read),
  SCAND_DL_SYMBOL(qpdf_set_attempt_recovery),
  SCAND_DL_SYMBOL(qpdf_set_logger),
  SCAND_DL_SYMBOL(qpdf_set_minimum_pdf_version),
  SCAND_DL_SYMBOL(qpdf_set_stream_data_mode),
  SCAND_DL_SYMBOL(qpdf_set_suppress_warnings),
  SCAND_DL_SYMBOL(qpdf_silence_errors),
  SCAND_DL_SYMBOL(qpdf_write),
  SCAND_DL_SYMBOL(qpdflogger_cleanup),
  SCAND_DL_SYMBOL(qpdflogger_create),
  SCAND_DL_SYMBOL(qpdflogger_set_error),
  SCAND_DL_SYMBOL(qpdflogger_set_info),
  SCAND_DL_SYMBOL(qpdflogger_set_warn),
  { NULL, NULL },
};

static ScandDlLibrary library = { .soname = "libqpdf.so.29",
                                  .purpose = "reading and merging PDF files",
                                  .symbols = symbols };

gboolean dl_qpdf_load(GError **error) {
  return scand_dl_load(&library, error);
}
