/* qpdf's C API, loaded when a PDF is first read, checked or merged. sym_<function> has the type
 * of the library's own prototype; call dl_qpdf_load() before any. */
#pragma once

#include <qpdf/qpdf-c.h>

#include "scand/base/dl.h"

G_BEGIN_DECLS

/* Loads libqpdf.so.29 once; FALSE with a one-line error when it cannot. */
gboolean dl_qpdf_load(GError **error);

SCAND_DL_DECLARE(qpdf_add_page);
SCAND_DL_DECLARE(qpdf_cleanup);
SCAND_DL_DECLARE(qpdf_empty_pdf);
SCAND_DL_DECLARE(qpdf_get_error);
SCAND_DL_DECLARE(qpdf_get_error_code);
SCAND_DL_DECLARE(qpdf_get_error_file_position);
SCAND_DL_DECLARE(qpdf_get_error_filename);
SCAND_DL_DECLARE(qpdf_get_error_full_text);
SCAND_DL_DECLARE(qpdf_get_error_message_detail);
SCAND_DL_DECLARE(qpdf_get_num_pages);
SCAND_DL_DECLARE(qpdf_get_page_n);
SCAND_DL_DECLARE(qpdf_get_pdf_version);
SCAND_DL_DECLARE(qpdf_get_root);
SCAND_DL_DECLARE(qpdf_has_error);
SCAND_DL_DECLARE(qpdf_init);
SCAND_DL_DECLARE(qpdf_init_write);
SCAND_DL_DECLARE(qpdf_is_encrypted);
SCAND_DL_DECLARE(qpdf_oh_begin_dict_key_iter);
SCAND_DL_DECLARE(qpdf_oh_dict_more_keys);
SCAND_DL_DECLARE(qpdf_oh_dict_next_key);
SCAND_DL_DECLARE(qpdf_oh_get_array_item);
SCAND_DL_DECLARE(qpdf_oh_get_array_n_items);
SCAND_DL_DECLARE(qpdf_oh_get_dict);
SCAND_DL_DECLARE(qpdf_oh_get_generation);
SCAND_DL_DECLARE(qpdf_oh_get_int_value);
SCAND_DL_DECLARE(qpdf_oh_get_key);
SCAND_DL_DECLARE(qpdf_oh_get_numeric_value);
SCAND_DL_DECLARE(qpdf_oh_get_object_id);
SCAND_DL_DECLARE(qpdf_oh_get_stream_data);
SCAND_DL_DECLARE(qpdf_oh_has_key);
SCAND_DL_DECLARE(qpdf_oh_is_array);
SCAND_DL_DECLARE(qpdf_oh_is_dictionary);
SCAND_DL_DECLARE(qpdf_oh_is_indirect);
SCAND_DL_DECLARE(qpdf_oh_is_initialized);
SCAND_DL_DECLARE(qpdf_oh_is_integer);
SCAND_DL_DECLARE(qpdf_oh_is_name_and_equals);
SCAND_DL_DECLARE(qpdf_oh_is_stream);
SCAND_DL_DECLARE(qpdf_oh_release);
SCAND_DL_DECLARE(qpdf_read);
SCAND_DL_DECLARE(qpdf_set_attempt_recovery);
SCAND_DL_DECLARE(qpdf_set_logger);
SCAND_DL_DECLARE(qpdf_set_minimum_pdf_version);
SCAND_DL_DECLARE(qpdf_set_stream_data_mode);
SCAND_DL_DECLARE(qpdf_set_suppress_warnings);
SCAND_DL_DECLARE(qpdf_silence_errors);
SCAND_DL_DECLARE(qpdf_write);
SCAND_DL_DECLARE(qpdflogger_cleanup);
SCAND_DL_DECLARE(qpdflogger_create);
SCAND_DL_DECLARE(qpdflogger_set_error);
SCAND_DL_DECLARE(qpdflogger_set_info);
SCAND_DL_DECLARE(qpdflogger_set_warn);

G_END_DECLS
