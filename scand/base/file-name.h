/* File names that come from outside (a dropped file, an attachment) made
 * safe to show and to deliver anywhere: a local disk, an SMB share, a vfat
 * stick, a mail. Pure functions of their arguments. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The longest name scand delivers: NAME_MAX (255 bytes) less room for a
 * "-9999" that tells two files of the same name apart. */
#define SCAND_FILE_NAME_MAX 240

/* name made safe: valid UTF-8 (each invalid byte becomes "_"); control
 * characters (C0, DEL, C1), the separators "/" and "\", the characters
 * Windows shares refuse (: * ? " < > |) and "%" become "_"; no leading "."
 * (hidden) and no trailing dot or space (dropped by Windows shares); at most
 * max_bytes bytes, cut on a character boundary before the extension, which is
 * kept (when it is at most 16 bytes); never empty ("file"). Newly
 * allocated. */
char *scand_file_name_sanitize(const char *name, gsize max_bytes);

/* name (a valid name) with suffix put before its extension, the stem cut on a
 * character boundary so that the result is at most max_bytes bytes:
 * ("scan.pdf", "-2") -> "scan-2.pdf". Works on raw bytes too. Newly
 * allocated. */
char *scand_file_name_with_suffix(const char *name, const char *suffix, gsize max_bytes);

/* name for a log line or an error message: control characters and bytes that
 * are not UTF-8 written as \xNN, a backslash as \\. Newly allocated. */
char *scand_file_name_printable(const char *name);

G_END_DECLS
