/* What an output implements: one ScandOutputDriver per file, one line in the
 * table in outputs/output.c. */
#pragma once

#include "outputs/output.h"

G_BEGIN_DECLS

extern const ScandOutputDriver scand_output_folder;
extern const ScandOutputDriver scand_output_smb;
extern const ScandOutputDriver scand_output_usb, scand_output_print;
extern const ScandOutputDriver scand_output_smtp;
extern const ScandOutputDriver scand_output_graph_mail, scand_output_m365_drive;

G_END_DECLS
