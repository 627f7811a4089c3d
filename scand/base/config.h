/* Configuration: INI key files (GKeyFile) with sections "[kind name]".
 *
 * Kinds: scanner, profile, watch, output, rule, intake, account. Files: --config FILE, else the
 * user's ~/.config/scand/scand.conf + conf.d/ *.conf, else the system's
 * /etc/scand/scand.conf + conf.d/ *.conf (SCAND_CONFIG_DIR overrides the
 * directory). No file at all is valid: built-in defaults apply. Every value
 * remembers the file and line it came from so that errors can name them.
 * GKeyFile syntax, plus: "value   # note" drops the note (a '#' after a blank),
 * and a section repeated in a later file overrides it key by key. The nameless
 * section ([scand]) has name NULL (or "" — both are accepted). */
#pragma once

#include <glib.h>
#include "scand/base/config-schema.h"

G_BEGIN_DECLS

typedef struct ScandConfig ScandConfig;

/* Loads path (and nothing else) or, with path NULL, the default locations.
 * Syntax errors fail with "file:line: message". A missing default location is
 * not an error: the result is an empty config. Caller frees. */
ScandConfig *scand_config_load(const char *path, GError **error);
/* Loads from memory; name is used in messages (tests, fuzzing). */
ScandConfig *scand_config_load_data(const char *data, gsize len, const char *name, GError **error);
/* An empty config (built-in defaults only). */
ScandConfig *scand_config_new_empty(void);
/* Configs are reference-counted (the daemon's workers keep the one they
 * started with across a reload): ref adds one, free drops one and frees the
 * config with the last. free accepts NULL. */
ScandConfig *scand_config_ref(ScandConfig *config);
void scand_config_free(ScandConfig *config);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandConfig, scand_config_free)

/* The files that were read, in order (owned by config). */
const char *const *scand_config_get_files(ScandConfig *config);

/* Names of the sections of a kind, in file order ("output" → {"share", "desk"}).
 * Newly allocated. */
GStrv scand_config_list_sections(ScandConfig *config, const char *kind);
gboolean scand_config_has_section(ScandConfig *config, const char *kind, const char *name);
/* Calls func for every section in file order, whatever its kind (also kinds
 * scand does not know, for `scand config check`); name is NULL for a
 * nameless section. */
typedef void (*ScandConfigSectionFunc)(ScandConfig *config, const char *kind, const char *name, gpointer user_data);
void scand_config_foreach_section(ScandConfig *config, ScandConfigSectionFunc func, gpointer user_data);

/* Raw access; group is "kind name". Returns NULL when unset. Owned by config. */
const char *scand_config_get(ScandConfig *config, const char *kind, const char *name, const char *key);
/* Keys set in a section, in file order (newly allocated). */
GStrv scand_config_list_keys(ScandConfig *config, const char *kind, const char *name);
/* "file:line" of a key (or of the section header with key NULL); newly allocated. */
char *scand_config_where(ScandConfig *config, const char *kind, const char *name, const char *key);

/* Typed getters: the default when unset; FALSE with a "file:line: …" error when
 * set but malformed. get_int also refuses a number outside the range the
 * kind's schema gives the key (scand/base/config-schema.h). */
gboolean scand_config_get_bool(ScandConfig *config, const char *kind, const char *name, const char *key, gboolean def,
                               gboolean *out, GError **error);
gboolean scand_config_get_int(ScandConfig *config, const char *kind, const char *name, const char *key, gint64 def,
                              gint64 *out, GError **error);
gboolean scand_config_get_duration(ScandConfig *config, const char *kind, const char *name, const char *key,
                                   gint64 def_seconds, gint64 *seconds, GError **error);
gboolean scand_config_get_size(ScandConfig *config, const char *kind, const char *name, const char *key, gint64 def,
                               gint64 *bytes, GError **error);

/* Splits a list value ("a, b; c") at commas and semicolons, trimming blanks
 * and dropping empty items. Newly allocated; never NULL. */
GStrv scand_config_split_list(const char *text);

/* Parses "90", "5s", "30m", "2h", "1d" into seconds. */
gboolean scand_config_parse_duration(const char *text, gint64 *seconds);
/* Parses a size "35M", "3MB", "512k", "1048576" (K/M/G are powers of 1024)
 * into bytes; FALSE when malformed. */
gboolean scand_config_parse_size(const char *text, gint64 *bytes);
/* Parses true/yes/on/1 and false/no/off/0 (any case). */
gboolean scand_config_parse_bool(const char *text, gboolean *out);
/* The range an INT key accepts: its min..max, or any number when both are 0
 * (or k is NULL). */
void scand_config_key_range(const ScandConfigKey *k, gint64 *min, gint64 *max);

/* Reads the secret named by key (a *-file key) of a section: the file must
 * exist and not be readable or writable by group or others; a relative name is
 * looked up in $CREDENTIALS_DIRECTORY (systemd credentials); see
 * scand/base/secret.h. One trailing newline is stripped. The value is never logged; caller frees (and should
 * clear it). */
char *scand_config_read_secret(ScandConfig *config, const char *kind, const char *name, const char *key,
                               GError **error);

/* Appends one line "file:line: [kind name] key: <message>" to problems (key
 * NULL: the section itself); for output drivers' check(). Never put a secret
 * value into the message. */
void scand_config_add_problem(GPtrArray *problems, ScandConfig *config, const char *kind, const char *name,
                              const char *key, const char *fmt, ...) G_GNUC_PRINTF(6, 7);

/* Records a warning: something that works but is risky (a password in clear
 * on the network). `config check` prints it and still passes. Never put a
 * secret value into the message. */
void scand_config_add_warning(ScandConfig *config, const char *kind, const char *name, const char *key, const char *fmt,
                              ...) G_GNUC_PRINTF(5, 6);
/* The warnings recorded so far (by checks), one line each
 * "file:line: [kind name] key: warning: …". Owned by config. */
const GPtrArray *scand_config_get_warnings(ScandConfig *config);

G_END_DECLS
