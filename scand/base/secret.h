/* Secret files: passwords and keys live in files of their own that only the
 * owner may read, never in the configuration, the spool or a log.
 *
 * A secret is named by a value as written after a "*-file =" key: an absolute
 * path, or a credential name looked up in $CREDENTIALS_DIRECTORY (systemd
 * LoadCredential=). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Largest secret scand reads (bytes). */
#define SCAND_SECRET_MAX (64 * 1024)

/* What is wrong with the secret named by value as it is on disk now (missing,
 * not a regular file, readable or writable by group or others), or NULL when
 * it can be read safely. Newly allocated one-line message; never contains the
 * secret. */
char *scand_secret_problem(const char *value);

/* Reads the secret named by value: the file must exist, be a regular file and
 * not be readable or writable by group or others. One trailing newline is
 * stripped. The message of an error names the file, never its content
 * (SCAND_ERROR_NOT_FOUND when missing, SCAND_ERROR_DENIED otherwise, SCAND_ERROR_INVAL
 * for a name that is neither a path nor a credential name). Caller frees (and
 * should clear it first). */
char *scand_secret_read(const char *value, GError **error);

G_END_DECLS
