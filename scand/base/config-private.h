/* Configuration internals shared with the tests: where the default files live. */
#pragma once

#include "scand/base/config.h"

G_BEGIN_DECLS

/* The system directory; the user's is g_get_user_config_dir()/scand. */
#define SCAND_CONFIG_SYSTEM_DIR "/etc/scand"

/* Largest configuration file or secret scand reads (bytes). */
#define SCAND_CONFIG_MAX_FILE (1024 * 1024)

/* Loads DIR/scand.conf then DIR/conf.d/ *.conf for one directory; a missing
 * directory or file is not an error. Caller frees. */
ScandConfig *scand_config_load_dir(const char *dir, GError **error);

/* The default-location logic of scand_config_load(NULL) with the two candidate
 * directories given: $SCAND_CONFIG_DIR, else user_dir when it holds scand.conf
 * or conf.d, else system_dir. Caller frees. */
ScandConfig *scand_config_load_default(const char *user_dir, const char *system_dir, GError **error);

/* Where an inline "  # comment" starts in the value text [value, end): the
 * '#' after a blank, or NULL when there is none. The one rule for both the
 * parser (which drops the comment) and the editor (which keeps it). */
const char *scand_config_value_comment(const char *value, const char *end);

G_END_DECLS
