/* The folder output, and its atomic never-overwrite write for other outputs
 * that end in a local directory (USB). */
#pragma once

#include "outputs/output.h"

G_BEGIN_DECLS

/* Delivers d's file as scand_delivery_get_name(d) below dir/subdir (subdir
 * may be NULL): written under a hidden temporary name, fsynced, renamed into
 * place without replacing anything ("scan.pdf" taken → "scan-2.pdf", …),
 * directory fsynced. The file always lands beneath dir: a name that would
 * climb out is refused, and nothing below dir is followed if it is a symbolic
 * link (FAILED, saying which). Missing directories below dir are created; dir
 * itself must exist unless create is TRUE. Safe to call again after a crash
 * at any point: it finishes or redoes the earlier attempt and never leaves
 * two copies. Sets "delivered" in the delivery state to the final path. The
 * file's mode is the output's "mode" (default 0640), never wider than the
 * job's source file had ("source-mode", a watched file's). */
ScandDeliveryResult scand_folder_deliver_to(ScandDelivery *d, const char *dir, const char *subdir, gboolean create,
                                            GError **error);

/* The "mode" key of outputs that write files (folder, usb): an octal file
 * mode up to 0777. Appends a problem for `scand config check` when it is not
 * one. */
void scand_folder_check_mode(ScandConfig *config, const char *name, GPtrArray *problems);

/* The folder output's settle hook (ScandOutputDriver). */
void scand_folder_settle(ScandDelivery *d);

G_END_DECLS
