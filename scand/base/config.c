/* Configuration: GKeyFile decides what is valid INI syntax; a scan of our own
 * over the same text remembers the file and line of every section and key,
 * which GKeyFile forgets, so that every message can point at its line. */
#include "scand/base/config-private.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scand/base/config-schema.h"
#include "scand/base/error.h"
#include "scand/base/fs.h"
#include "scand/base/secret.h"

typedef struct {
  char *key;
  char *value;
  guint file; /* index into config->files */
  guint line;
} ScandConfigEntry;

typedef struct {
  char *kind;
  char *name;         /* NULL for a nameless section ([scand]) */
  guint file, line;   /* where the section first appeared */
  GPtrArray *entries; /* ScandConfigEntry, in order of first appearance */
  GHashTable *by_key; /* key → ScandConfigEntry (borrowed) */
} ScandConfigSection;

struct ScandConfig {
  gint ref_count;
  GPtrArray *files;    /* char *, NULL-terminated */
  GPtrArray *sections; /* ScandConfigSection, in order of first appearance */
  GHashTable *by_id;   /* "kind\nname" → ScandConfigSection (borrowed) */
  GPtrArray *warnings; /* char *, from checks */
  GMutex lock;         /* guards warnings */
};

/* ---- the config object ---- */

static void entry_free(ScandConfigEntry *e) {
  g_free(e->key);
  g_free(e->value);
  g_free(e);
}

static void section_free(ScandConfigSection *s) {
  g_free(s->kind);
  g_free(s->name);
  g_hash_table_unref(s->by_key);
  g_ptr_array_unref(s->entries);
  g_free(s);
}

static char *section_id(const char *kind, const char *name) {
  return g_strdup_printf("%s\n%s", kind, name ? name : "");
}

/* An empty config; caller frees. */
ScandConfig *scand_config_new_empty(void) {
  ScandConfig *config = g_new0(ScandConfig, 1);
  config->ref_count = 1;
  g_mutex_init(&config->lock);
  config->files = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(config->files, NULL);
  config->sections = g_ptr_array_new_with_free_func((GDestroyNotify) section_free);
  config->by_id = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  return config;
}

ScandConfig *scand_config_ref(ScandConfig *config) {
  g_atomic_int_inc(&config->ref_count);
  return config;
}

void scand_config_free(ScandConfig *config) {
  if (!config || !g_atomic_int_dec_and_test(&config->ref_count))
    return;
  g_hash_table_unref(config->by_id);
  g_ptr_array_unref(config->sections);
  g_ptr_array_unref(config->files);
  if (config->warnings)
    g_ptr_array_unref(config->warnings);
  g_mutex_clear(&config->lock);
  g_free(config);
}

static guint config_add_file(ScandConfig *config, const char *name) {
  /* Keep the array NULL-terminated for scand_config_get_files(). */
  guint index = config->files->len - 1;
  config->files->pdata[index] = g_strdup(name);
  g_ptr_array_add(config->files, NULL);
  return index;
}

const char *const *scand_config_get_files(ScandConfig *config) {
  return (const char *const *) config->files->pdata;
}

static ScandConfigSection *section_lookup(ScandConfig *config, const char *kind, const char *name) {
  if (!config || !kind)
    return NULL;
  g_autofree char *id = section_id(kind, name && *name ? name : NULL);
  return g_hash_table_lookup(config->by_id, id);
}

static ScandConfigSection *section_get(ScandConfig *config, const char *kind, const char *name, guint file,
                                       guint line) {
  ScandConfigSection *s = section_lookup(config, kind, name);
  if (s)
    return s;
  s = g_new0(ScandConfigSection, 1);
  s->kind = g_strdup(kind);
  s->name = name && *name ? g_strdup(name) : NULL;
  s->file = file;
  s->line = line;
  s->entries = g_ptr_array_new_with_free_func((GDestroyNotify) entry_free);
  s->by_key = g_hash_table_new(g_str_hash, g_str_equal);
  g_ptr_array_add(config->sections, s);
  g_hash_table_insert(config->by_id, section_id(kind, s->name), s);
  return s;
}

/* Later files override earlier ones key by key; a key keeps its first place. */
static void section_set(ScandConfigSection *s, const char *key, char *value, guint file, guint line) {
  ScandConfigEntry *e = g_hash_table_lookup(s->by_key, key);
  if (!e) {
    e = g_new0(ScandConfigEntry, 1);
    e->key = g_strdup(key);
    g_ptr_array_add(s->entries, e);
    g_hash_table_insert(s->by_key, e->key, e);
  }
  g_free(e->value);
  e->value = value;
  e->file = file;
  e->line = line;
}

static ScandConfigEntry *entry_lookup(ScandConfig *config, const char *kind, const char *name, const char *key) {
  ScandConfigSection *s = section_lookup(config, kind, name);
  return s && key ? g_hash_table_lookup(s->by_key, key) : NULL;
}

GStrv scand_config_list_sections(ScandConfig *config, const char *kind) {
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  for (guint i = 0; config && i < config->sections->len; i++) {
    ScandConfigSection *s = config->sections->pdata[i];
    if (g_strcmp0(s->kind, kind) == 0)
      g_strv_builder_add(b, s->name ? s->name : "");
  }
  return g_strv_builder_end(b);
}

void scand_config_foreach_section(ScandConfig *config, ScandConfigSectionFunc func, gpointer user_data) {
  for (guint i = 0; config && i < config->sections->len; i++) {
    ScandConfigSection *s = config->sections->pdata[i];
    func(config, s->kind, s->name, user_data);
  }
}

gboolean scand_config_has_section(ScandConfig *config, const char *kind, const char *name) {
  return section_lookup(config, kind, name) != NULL;
}

const char *scand_config_get(ScandConfig *config, const char *kind, const char *name, const char *key) {
  ScandConfigEntry *e = entry_lookup(config, kind, name, key);
  return e ? e->value : NULL;
}

GStrv scand_config_list_keys(ScandConfig *config, const char *kind, const char *name) {
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  ScandConfigSection *s = section_lookup(config, kind, name);
  for (guint i = 0; s && i < s->entries->len; i++)
    g_strv_builder_add(b, ((ScandConfigEntry *) s->entries->pdata[i])->key);
  return g_strv_builder_end(b);
}

char *scand_config_where(ScandConfig *config, const char *kind, const char *name, const char *key) {
  ScandConfigSection *s = section_lookup(config, kind, name);
  if (!s)
    return NULL;
  if (!key)
    return g_strdup_printf("%s:%u", (char *) config->files->pdata[s->file], s->line);
  ScandConfigEntry *e = g_hash_table_lookup(s->by_key, key);
  if (!e)
    return NULL;
  return g_strdup_printf("%s:%u", (char *) config->files->pdata[e->file], e->line);
}

/* "[kind name]" or "[kind]"; newly allocated. */
static char *section_label(const char *kind, const char *name) {
  return name && *name ? g_strdup_printf("[%s %s]", kind, name) : g_strdup_printf("[%s]", kind);
}

/* "file:line: [kind name] key: " for messages; newly allocated. */
static char *where_prefix(ScandConfig *config, const char *kind, const char *name, const char *key) {
  g_autofree char *where = scand_config_where(config, kind, name, key);
  if (!where)
    where = scand_config_where(config, kind, name, NULL);
  g_autofree char *label = section_label(kind, name);
  return g_strdup_printf("%s: %s%s%s: ", where ? where : "(built-in)", label, key ? " " : "", key ? key : "");
}

void scand_config_add_problem(GPtrArray *problems, ScandConfig *config, const char *kind, const char *name,
                              const char *key, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *message = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_autofree char *prefix = where_prefix(config, kind, name, key);
  g_ptr_array_add(problems, g_strconcat(prefix, message, NULL));
}

void scand_config_add_warning(ScandConfig *config, const char *kind, const char *name, const char *key, const char *fmt,
                              ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *message = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_autofree char *prefix = where_prefix(config, kind, name, key);
  g_mutex_lock(&config->lock);
  if (!config->warnings)
    config->warnings = g_ptr_array_new_with_free_func(g_free);
  g_ptr_array_add(config->warnings, g_strconcat(prefix, "warning: ", message, NULL));
  g_mutex_unlock(&config->lock);
}

const GPtrArray *scand_config_get_warnings(ScandConfig *config) {
  g_mutex_lock(&config->lock);
  if (!config->warnings)
    config->warnings = g_ptr_array_new_with_free_func(g_free);
  g_mutex_unlock(&config->lock);
  return config->warnings;
}

static gboolean G_GNUC_PRINTF(6, 7) set_key_error(GError **error, ScandConfig *config, const char *kind,
                                                  const char *name, const char *key, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *message = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_autofree char *prefix = where_prefix(config, kind, name, key);
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s%s", prefix, message);
  return FALSE;
}

/* ---- parsing ---- */

typedef enum {
  LINE_BLANK,
  LINE_GROUP,
  LINE_KEY
} LineKind;

/* Classifies one line (without its newline) the way GKeyFile does; on
 * LINE_GROUP *a is the group name, on LINE_KEY *a is the key and *b the raw
 * value (both newly allocated). Returns -1 for a line GKeyFile would refuse. */
static int line_classify(const char *line, gsize len, char **a, char **b) {
  const char *p = line, *end = line + len;
  if (end > p && end[-1] == '\n')
    end--;
  if (end > p && end[-1] == '\r')
    end--;
  while (p < end && g_ascii_isspace(*p))
    p++;
  if (p == end || *p == '#')
    return LINE_BLANK;
  if (*p == '[') {
    const char *close = memchr(p, ']', end - p);
    if (!close)
      return -1;
    for (const char *q = close + 1; q < end; q++)
      if (*q != ' ' && *q != '\t')
        return -1;
    *a = g_strndup(p + 1, close - p - 1);
    return LINE_GROUP;
  }
  const char *eq = memchr(p, '=', end - p);
  if (!eq || eq == p)
    return -1;
  const char *key_end = eq;
  while (key_end > p && (key_end[-1] == ' ' || key_end[-1] == '\t'))
    key_end--;
  const char *v = eq + 1;
  while (v < end && (*v == ' ' || *v == '\t'))
    v++;
  *a = g_strndup(p, key_end - p);
  *b = g_strndup(v, end - v);
  return LINE_KEY;
}

/* Splits "kind name" into its parts; name NULL when absent. */
static void group_split(const char *group, char **kind, char **name) {
  g_autofree char *copy = g_strstrip(g_strdup(group));
  char *space = copy + strcspn(copy, " \t");
  if (*space) {
    *space = '\0';
    char *rest = g_strstrip(space + 1);
    *name = *rest ? g_strdup(rest) : NULL;
  } else {
    *name = NULL;
  }
  *kind = g_strdup(copy);
}

/* Drops an inline "  # comment" and trailing blanks: the documented examples
 * use them, while GKeyFile would keep them in the value. */
static void value_strip_comment(char *raw) {
  char *comment = (char *) scand_config_value_comment(raw, raw + strlen(raw));
  if (comment)
    *comment = '\0';
  g_strchomp(raw);
}

const char *scand_config_value_comment(const char *value, const char *end) {
  for (const char *p = value; p < end && *p; p++)
    if (*p == '#' && p > value && (p[-1] == ' ' || p[-1] == '\t'))
      return p;
  return NULL;
}

/* GKeyFile's own escapes (\s \n \t \r \\); NULL when malformed. */
static char *value_unescape(const char *raw) {
  if (!strchr(raw, '\\'))
    return g_strdup(raw);
  g_autoptr(GKeyFile) kf = g_key_file_new();
  g_key_file_set_value(kf, "v", "v", raw);
  g_autoptr(GError) error = NULL;
  g_autofree char *value = g_key_file_get_string(kf, "v", "v", &error);
  /* GKeyFile hands back the raw text along with the error; refuse it. */
  return error ? NULL : g_steal_pointer(&value);
}

static gboolean data_load_prefix(const char *data, gsize len, GError **error) {
  g_autoptr(GKeyFile) kf = g_key_file_new();
  return g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, error);
}

/* Finds the first line GKeyFile refuses by loading ever longer prefixes
 * (bisection: a prefix fails once it holds the bad line). */
static guint data_find_bad_line(const char *data, gsize len, GArray *ends, char **message) {
  guint lo = 1, hi = ends->len;
  while (lo < hi) {
    guint mid = lo + (hi - lo) / 2;
    if (data_load_prefix(data, g_array_index(ends, gsize, mid - 1), NULL))
      lo = mid + 1;
    else
      hi = mid;
  }
  g_autoptr(GError) error = NULL;
  if (data_load_prefix(data, g_array_index(ends, gsize, lo - 1), &error))
    *message = g_strdup("cannot parse this line");
  else
    *message = g_strdup(error->message);
  return lo;
}

static gboolean G_GNUC_PRINTF(4, 5) set_line_error(GError **error, const char *name, guint line, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *message = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s:%u: %s", name, line, message);
  return FALSE;
}

/* Whether a [section] line comes before line (1-based). */
static gboolean has_group_before(const char *data, GArray *ends, guint line) {
  for (guint i = 0; i + 1 < line; i++) {
    gsize start = i ? g_array_index(ends, gsize, i - 1) : 0;
    g_autofree char *a = NULL, *b = NULL;
    if (line_classify(data + start, g_array_index(ends, gsize, i) - start, &a, &b) == LINE_GROUP)
      return TRUE;
  }
  return FALSE;
}

/* Parses one file's text into config. */
static gboolean config_parse(ScandConfig *config, const char *data, gsize len, const char *name, GError **error) {
  if (len > SCAND_CONFIG_MAX_FILE) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: file too large (over %d bytes)", name,
                SCAND_CONFIG_MAX_FILE);
    return FALSE;
  }
  /* Editors on Windows start files with a byte-order mark. */
  if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0) {
    data += 3;
    len -= 3;
  }

  /* Line ends, and the bytes GKeyFile would pass over silently. */
  g_autoptr(GArray) ends = g_array_new(FALSE, FALSE, sizeof(gsize));
  for (gsize start = 0; start < len;) {
    const char *nl = memchr(data + start, '\n', len - start);
    gsize end = nl ? (gsize) (nl - data) + 1 : len;
    guint line = ends->len + 1;
    if (memchr(data + start, '\0', end - start))
      return set_line_error(error, name, line, "contains a NUL byte (not a text file)");
    if (!g_utf8_validate(data + start, end - start, NULL))
      return set_line_error(error, name, line, "not valid UTF-8 text");
    g_array_append_val(ends, end);
    start = end;
  }

  g_autoptr(GError) local = NULL;
  if (!data_load_prefix(data, len, &local)) {
    g_autofree char *message = NULL;
    guint line = ends->len ? data_find_bad_line(data, len, ends, &message) : 1;
    gsize start = line > 1 ? g_array_index(ends, gsize, line - 2) : 0;
    gsize end = ends->len ? g_array_index(ends, gsize, line - 1) : len;
    g_autofree char *a = NULL, *b = NULL;
    int kind = line_classify(data + start, end - start, &a, &b);
    if (kind == LINE_KEY && !has_group_before(data, ends, line))
      return set_line_error(error, name, line, "\"%s\" comes before the first [section]", a);
    if (kind == LINE_GROUP || (kind == -1 && data[start + strspn(data + start, " \t")] == '['))
      return set_line_error(error, name, line, "malformed section header (expected [kind name])");
    if (kind == -1)
      return set_line_error(error, name, line, "expected \"key = value\", a [section] or a # comment");
    return set_line_error(error, name, line, "%s", message ? message : local->message);
  }

  guint file = config_add_file(config, name);
  ScandConfigSection *section = NULL;
  for (guint i = 0; i < ends->len; i++) {
    gsize start = i ? g_array_index(ends, gsize, i - 1) : 0;
    gsize end = g_array_index(ends, gsize, i);
    g_autofree char *a = NULL, *b = NULL;
    switch (line_classify(data + start, end - start, &a, &b)) {
      case LINE_GROUP: {
        g_autofree char *kind = NULL, *sname = NULL;
        group_split(a, &kind, &sname);
        section = section_get(config, kind, sname, file, i + 1);
        break;
      }
      case LINE_KEY: {
        if (!section) /* GKeyFile refuses this already */
          return set_line_error(error, name, i + 1, "\"%s\" comes before the first [section]", a);
        value_strip_comment(b);
        char *value = value_unescape(b);
        if (!value) {
          g_autofree char *label = section_label(section->kind, section->name);
          return set_line_error(error, name, i + 1, "%s %s: invalid escape sequence (write \\\\ for a backslash)",
                                label, a);
        }
        section_set(section, a, value, file, i + 1);
        break;
      }
      default:
        break;
    }
  }
  return TRUE;
}

ScandConfig *scand_config_load_data(const char *data, gsize len, const char *name, GError **error) {
  g_autoptr(ScandConfig) config = scand_config_new_empty();
  if (!config_parse(config, data, len, name ? name : "(data)", error))
    return NULL;
  return g_steal_pointer(&config);
}

static gboolean config_parse_file(ScandConfig *config, const char *path, GError **error) {
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!scand_fs_read_limited(path, SCAND_CONFIG_MAX_FILE, &data, &len, NULL, error))
    return FALSE;
  return config_parse(config, data, len, path, error);
}

static gint compare_names(gconstpointer a, gconstpointer b) {
  return strcmp(*(char *const *) a, *(char *const *) b);
}

static gboolean config_parse_dir(ScandConfig *config, const char *dir, GError **error) {
  g_autofree char *main_file = g_build_filename(dir, "scand.conf", NULL);
  if (g_file_test(main_file, G_FILE_TEST_EXISTS) && !config_parse_file(config, main_file, error))
    return FALSE;

  g_autofree char *confd = g_build_filename(dir, "conf.d", NULL);
  g_autoptr(GDir) d = g_dir_open(confd, 0, NULL);
  if (!d)
    return TRUE;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
  const char *n;
  while ((n = g_dir_read_name(d)))
    if (n[0] != '.' && g_str_has_suffix(n, ".conf"))
      g_ptr_array_add(names, g_strdup(n));
  g_ptr_array_sort(names, compare_names);
  for (guint i = 0; i < names->len; i++) {
    g_autofree char *path = g_build_filename(confd, (char *) names->pdata[i], NULL);
    /* A directory or dangling link named *.conf is not a config file. */
    if (!g_file_test(path, G_FILE_TEST_IS_REGULAR))
      continue;
    if (!config_parse_file(config, path, error))
      return FALSE;
  }
  return TRUE;
}

ScandConfig *scand_config_load_dir(const char *dir, GError **error) {
  g_autoptr(ScandConfig) config = scand_config_new_empty();
  if (!config_parse_dir(config, dir, error))
    return NULL;
  return g_steal_pointer(&config);
}

ScandConfig *scand_config_load_default(const char *user_dir, const char *system_dir, GError **error) {
  const char *env = g_getenv("SCAND_CONFIG_DIR");
  if (env && *env)
    return scand_config_load_dir(env, error);
  if (user_dir) {
    g_autofree char *main_file = g_build_filename(user_dir, "scand.conf", NULL);
    g_autofree char *confd = g_build_filename(user_dir, "conf.d", NULL);
    if (g_file_test(main_file, G_FILE_TEST_EXISTS) || g_file_test(confd, G_FILE_TEST_IS_DIR))
      return scand_config_load_dir(user_dir, error);
  }
  return scand_config_load_dir(system_dir, error);
}

ScandConfig *scand_config_load(const char *path, GError **error) {
  if (path) {
    g_autoptr(ScandConfig) config = scand_config_new_empty();
    if (!config_parse_file(config, path, error))
      return NULL;
    return g_steal_pointer(&config);
  }
  g_autofree char *user_dir = g_build_filename(g_get_user_config_dir(), "scand", NULL);
  return scand_config_load_default(user_dir, SCAND_CONFIG_SYSTEM_DIR, error);
}

/* ---- values ---- */

gboolean scand_config_parse_size(const char *text, gint64 *bytes) {
  if (!text || !g_ascii_isdigit(*text))
    return FALSE;
  char *end = NULL;
  guint64 v = g_ascii_strtoull(text, &end, 10);
  gint shift = 0;
  if (*end == 'k' || *end == 'K')
    shift = 10;
  else if (*end == 'm' || *end == 'M')
    shift = 20;
  else if (*end == 'g' || *end == 'G')
    shift = 30;
  if (shift) {
    end++;
    if (*end == 'B' || *end == 'b')
      end++;
  } else if (*end == 'B' || *end == 'b') {
    end++;
  }
  if (*end || v > ((guint64) G_MAXINT64 >> shift))
    return FALSE;
  *bytes = (gint64) (v << shift);
  return TRUE;
}

gboolean scand_config_parse_duration(const char *text, gint64 *seconds) {
  if (!text || !g_ascii_isdigit(*text))
    return FALSE;
  gint64 value = 0;
  const char *p = text;
  for (; g_ascii_isdigit(*p); p++) {
    if (value > (G_MAXINT64 - 9) / 10)
      return FALSE;
    value = value * 10 + (*p - '0');
  }
  gint64 unit = 1;
  switch (*p) {
    case '\0':
      break;
    case 's':
      unit = 1;
      p++;
      break;
    case 'm':
      unit = 60;
      p++;
      break;
    case 'h':
      unit = 3600;
      p++;
      break;
    case 'd':
      unit = 86400;
      p++;
      break;
    default:
      return FALSE;
  }
  if (*p || value > G_MAXINT64 / unit)
    return FALSE;
  if (seconds)
    *seconds = value * unit;
  return TRUE;
}

gboolean scand_config_parse_bool(const char *text, gboolean *out) {
  static const char *const yes[] = { "true", "yes", "on", "1" };
  static const char *const no[] = { "false", "no", "off", "0" };
  for (guint i = 0; i < G_N_ELEMENTS(yes); i++) {
    if (g_ascii_strcasecmp(text, yes[i]) == 0) {
      *out = TRUE;
      return TRUE;
    }
    if (g_ascii_strcasecmp(text, no[i]) == 0) {
      *out = FALSE;
      return TRUE;
    }
  }
  return FALSE;
}

void scand_config_key_range(const ScandConfigKey *k, gint64 *min, gint64 *max) {
  if (k && (k->min || k->max)) {
    *min = k->min;
    *max = k->max;
  } else {
    *min = G_MININT64;
    *max = G_MAXINT64;
  }
}

static gboolean parse_int(const char *text, gint64 *out) {
  return g_ascii_string_to_signed(text, 10, G_MININT64, G_MAXINT64, out, NULL);
}

/* The schema row of a key of a section kind (an output driver's own keys are
 * not known here: drivers read their values through the delivery). */
static const ScandConfigKey *key_schema(const char *kind, const char *key) {
  const ScandConfigKind *k = scand_config_kind_find(kind);
  return k ? scand_config_schema_find(k->keys, key) : NULL;
}

gboolean scand_config_get_bool(ScandConfig *config, const char *kind, const char *name, const char *key, gboolean def,
                               gboolean *out, GError **error) {
  const char *value = scand_config_get(config, kind, name, key);
  if (!value) {
    *out = def;
    return TRUE;
  }
  if (!scand_config_parse_bool(value, out))
    return set_key_error(error, config, kind, name, key, "\"%s\" is not true or false", value);
  return TRUE;
}

gboolean scand_config_get_int(ScandConfig *config, const char *kind, const char *name, const char *key, gint64 def,
                              gint64 *out, GError **error) {
  const char *value = scand_config_get(config, kind, name, key);
  if (!value) {
    *out = def;
    return TRUE;
  }
  gint64 min, max, v;
  scand_config_key_range(key_schema(kind, key), &min, &max);
  if (!parse_int(value, &v))
    return set_key_error(error, config, kind, name, key, "\"%s\" is not a whole number", value);
  if (v < min || v > max)
    return set_key_error(error, config, kind, name, key,
                         "%" G_GINT64_FORMAT " is out of range (%" G_GINT64_FORMAT "..%" G_GINT64_FORMAT ")", v, min,
                         max);
  *out = v;
  return TRUE;
}

gboolean scand_config_get_duration(ScandConfig *config, const char *kind, const char *name, const char *key,
                                   gint64 def_seconds, gint64 *seconds, GError **error) {
  const char *value = scand_config_get(config, kind, name, key);
  if (!value) {
    *seconds = def_seconds;
    return TRUE;
  }
  if (!scand_config_parse_duration(value, seconds))
    return set_key_error(
        error, config, kind, name, key,
        "\"%s\" is not a duration (expected seconds, or a number with s, m, h or d: 90, 30s, 5m, 2h, 1d)", value);
  return TRUE;
}

gboolean scand_config_get_size(ScandConfig *config, const char *kind, const char *name, const char *key, gint64 def,
                               gint64 *bytes, GError **error) {
  const char *value = scand_config_get(config, kind, name, key);
  if (!value) {
    *bytes = def;
    return TRUE;
  }
  if (!scand_config_parse_size(value, bytes))
    return set_key_error(error, config, kind, name, key,
                         "\"%s\" is not a size (expected bytes, or a number with K, M or G: 1048576, 512K, 200M)",
                         value);
  return TRUE;
}

char *scand_config_read_secret(ScandConfig *config, const char *kind, const char *name, const char *key,
                               GError **error) {
  const char *value = scand_config_get(config, kind, name, key);
  if (!value) {
    g_autofree char *label = section_label(kind, name);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND, "%s %s: not set", label, key);
    return NULL;
  }
  g_autoptr(GError) local = NULL;
  char *secret = scand_secret_read(value, &local);
  if (!secret) {
    g_autofree char *prefix = where_prefix(config, kind, name, key);
    g_set_error(error, SCAND_ERROR, local->code, "%s%s", prefix, local->message);
    return NULL;
  }
  return secret;
}

GStrv scand_config_split_list(const char *text) {
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  g_auto(GStrv) parts = g_strsplit_set(text ? text : "", ",;", -1);
  for (guint i = 0; parts[i]; i++) {
    g_strstrip(parts[i]);
    if (*parts[i])
      g_strv_builder_add(b, parts[i]);
  }
  return g_strv_builder_end(b);
}
