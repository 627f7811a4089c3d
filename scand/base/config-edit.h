/* Changing a configuration file the way a person would: one line edited or
 * added, every other byte (comments, spacing, order, line endings) kept.
 * For commands that write settings (`scand trust`). */
#pragma once

#include <glib.h>
#include "scand/base/config.h"

G_BEGIN_DECLS

/* Sets keys[i] = values[i] in the section [kind name] of the files config was
 * read from. A key the section has is changed on the line that holds it now
 * (its spelling, indentation and "# note" kept); a key it lacks is added after
 * the section's last line in the file of its header, spaced like its
 * neighbour; a section config lacks is appended to new_file (NULL: the first
 * file config read). The file is replaced atomically where a symbolic link
 * points (the link stays a link), keeping its mode and owner. Values must be
 * one line of printable text. Returns the path of the file edited (newly
 * allocated), or NULL with error. */
char *scand_config_edit_set(ScandConfig *config, const char *kind, const char *name, const char *const *keys,
                            const char *const *values, const char *new_file, GError **error);

G_END_DECLS
