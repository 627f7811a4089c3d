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

#include "outputs/output.h"
#include "rules/template.h"
#include "scand/base/error.h"
#include "scand/base/schedule.h"

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
};

/* ---- schema: data, one row a key ---- */

/* clang-format off */
#define KEY(n, t) { .name = n, .type = t }
#define ENUM(n, v) { .name = n, .type = SCAND_KEY_ENUM, .values = v }
#define INT(n, lo, hi) { .name = n, .type = SCAND_KEY_INT, .min = lo, .max = hi }
/* clang-format on */

static const ScandConfigKey schema_scand[] = {
  KEY("spool", SCAND_KEY_PATH),
  ENUM("log-level", "error|warning|info|debug"),
  KEY("retry-min", SCAND_KEY_DURATION),     /* first wait before retrying a destination */
  KEY("retry-max", SCAND_KEY_DURATION),     /* longest wait between attempts */
  KEY("retry-max-age", SCAND_KEY_DURATION), /* give up on a destination after retrying this long */
  { NULL },
};

static const ScandConfigKey schema_scanner[] = {
  KEY("device", SCAND_KEY_DEVICE),
  KEY("name", SCAND_KEY_STRING),
  KEY("profile", SCAND_KEY_PROFILE),
  ENUM("auto-scan", "off|feeder|button"),
  KEY("tls-pin", SCAND_KEY_STRING),
  KEY("sane-options", SCAND_KEY_LIST),
  KEY("poll-interval", SCAND_KEY_DURATION),
  KEY("settle", SCAND_KEY_DURATION),   /* paper must sit this long before an auto-scan */
  KEY("cooldown", SCAND_KEY_DURATION), /* no auto-scan this long after one */
  KEY("buttons", SCAND_KEY_LIST),      /* auto-scan = button: "scan=letter;email=photo" */
  { NULL },
};

static const ScandConfigKey schema_profile[] = {
  ENUM("source", "auto|flatbed|feeder"),
  KEY("duplex", SCAND_KEY_BOOL),
  ENUM("mode", "auto|color|gray|lineart"),
  INT("resolution", 25, 4800),
  INT("pages", 0, 10000),
  INT("area-x", 0, 2000),
  INT("area-y", 0, 2000),
  INT("area-width", 0, 2000),
  INT("area-height", 0, 2000),
  INT("jpeg-quality", 1, 100),
  KEY("lossless", SCAND_KEY_BOOL),
  KEY("pdfa", SCAND_KEY_BOOL),
  KEY("title", SCAND_KEY_STRING),
  { NULL },
};

static const ScandConfigKey schema_watch[] = {
  KEY("path", SCAND_KEY_PATH),
  KEY("stable-for", SCAND_KEY_DURATION),
  KEY("after", SCAND_KEY_STRING),
  KEY("recursive", SCAND_KEY_BOOL),
  KEY("profile", SCAND_KEY_PROFILE),
  ENUM("collate", "none|double-sided"),       /* pair a simplex feeder's two passes */
  KEY("collate-wait", SCAND_KEY_DURATION),    /* how long the first pass waits for the second */
  KEY("incomplete-wait", SCAND_KEY_DURATION), /* how long an incomplete file waits before .scand-error */
  KEY("poll-interval", SCAND_KEY_DURATION),   /* rescans: the safety net, and all there is on NFS/CIFS */
  { NULL },
};

static const ScandConfigKey schema_rule[] = {
  /* match keys */
  KEY("device", SCAND_KEY_STRING),
  KEY("profile", SCAND_KEY_PROFILE),
  ENUM("source", "scan|watch|mail|file"),
  KEY("trigger", SCAND_KEY_STRING),
  INT("pages-min", 0, 1000000),
  INT("pages-max", 0, 1000000),
  KEY("watch", SCAND_KEY_STRING),
  KEY("path", SCAND_KEY_STRING),
  KEY("sender", SCAND_KEY_STRING),
  KEY("recipient", SCAND_KEY_STRING),
  KEY("days", SCAND_KEY_DAYS),
  KEY("hours", SCAND_KEY_HOURS),
  /* actions */
  KEY("deliver", SCAND_KEY_OUTPUT_LIST),
  KEY("name", SCAND_KEY_TEMPLATE),
  KEY("fallback", SCAND_KEY_OUTPUT),
  KEY("fallback-after", SCAND_KEY_DURATION),
  INT("fallback-attempts", 0, 1000),
  KEY("after", SCAND_KEY_STRING), /* watched files: delete | move:/dir (overrides the watch) */
  { NULL },
};

/* [output NAME] has "type" plus the keys of its driver; the enum of types is
 * the driver table, so it is built once at run time. */
static ScandConfigKey schema_output[] = {
  ENUM("type", NULL),
  { NULL },
};

typedef struct {
  const char *kind;
  const ScandConfigKey *schema;
  gboolean named;       /* "[kind NAME]" rather than "[kind]" */
  const char *required; /* keys that must be set, "a|b" */
} ScandConfigKind;

static const ScandConfigKind kinds[] = {
  { "scand", schema_scand, FALSE, NULL },    { "scanner", schema_scanner, TRUE, "device" },
  { "profile", schema_profile, TRUE, NULL }, { "watch", schema_watch, TRUE, "path" },
  { "output", schema_output, TRUE, "type" }, { "rule", schema_rule, TRUE, "deliver" },
};

static const ScandConfigKind *kind_find(const char *kind) {
  for (guint i = 0; i < G_N_ELEMENTS(kinds); i++)
    if (g_strcmp0(kinds[i].kind, kind) == 0)
      return &kinds[i];
  return NULL;
}

static void schema_output_init(void) {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    const ScandOutputDriver *const *drivers = scand_output_drivers();
    GString *values = g_string_new(NULL);
    for (guint i = 0; drivers && drivers[i]; i++)
      g_string_append_printf(values, "%s%s", values->len ? "|" : "", drivers[i]->type);
    /* Lives as long as the process, like the driver table it describes. */
    schema_output[0].values = g_string_free(values, FALSE);
    g_once_init_leave(&once, 1);
  }
}

/* The schema of a kind (static, {NULL}-terminated), or NULL for an unknown kind. */
const ScandConfigKey *scand_config_schema(const char *kind) {
  const ScandConfigKind *k = kind_find(kind);
  if (!k)
    return NULL;
  if (k->schema == schema_output)
    schema_output_init();
  return k->schema;
}

const ScandConfigKey *scand_config_schema_find(const ScandConfigKey *schema, const char *key) {
  for (guint i = 0; schema && schema[i].name; i++)
    if (strcmp(schema[i].name, key) == 0)
      return &schema[i];
  return NULL;
}

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
  for (char *p = raw; *p; p++)
    if (*p == '#' && p > raw && (p[-1] == ' ' || p[-1] == '\t')) {
      *p = '\0';
      break;
    }
  g_strchomp(raw);
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

/* Reads a whole regular file of at most max bytes; *data is NUL-terminated.
 * With st_out, reports the fstat of the very file read. */
static gboolean read_file_limited(const char *path, gsize max, char **data, gsize *len, struct stat *st_out,
                                  GError **error) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) {
    int errsv = errno;
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv), "%s: %s", path, g_strerror(errsv));
    return FALSE;
  }
  struct stat st;
  if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE, "%s: not a regular file", path);
    return FALSE;
  }
  if ((guint64) st.st_size > max) {
    close(fd);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: file too large (over %" G_GSIZE_FORMAT " bytes)", path, max);
    return FALSE;
  }
  gsize cap = (gsize) st.st_size + 1, used = 0;
  char *buf = g_malloc(cap + 1);
  for (;;) {
    if (used == cap) {
      if (cap > max) {
        explicit_bzero(buf, cap);
        g_free(buf);
        close(fd);
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s: file too large", path);
        return FALSE;
      }
      buf = g_realloc(buf, cap * 2 + 1);
      cap *= 2;
    }
    ssize_t n = read(fd, buf + used, cap - used);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int errsv = errno;
      explicit_bzero(buf, cap);
      g_free(buf);
      close(fd);
      g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errsv), "%s: %s", path, g_strerror(errsv));
      return FALSE;
    }
    if (n == 0)
      break;
    used += n;
  }
  close(fd);
  buf[used] = '\0';
  *data = buf;
  *len = used;
  if (st_out)
    *st_out = st;
  return TRUE;
}

static gboolean config_parse_file(ScandConfig *config, const char *path, GError **error) {
  g_autofree char *data = NULL;
  gsize len = 0;
  if (!read_file_limited(path, SCAND_CONFIG_MAX_FILE, &data, &len, NULL, error))
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

static gboolean parse_bool(const char *text, gboolean *out) {
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

/* Bounds of an INT key; both 0 means "any number". */
static void int_bounds(const ScandConfigKey *k, gint64 *min, gint64 *max) {
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

/* The schema row of a key of a section (output keys come from the driver). */
static const ScandConfigKey *key_schema(ScandConfig *config, const char *kind, const char *name, const char *key) {
  const ScandConfigKey *k = scand_config_schema_find(scand_config_schema(kind), key);
  if (k || g_strcmp0(kind, "output") != 0)
    return k;
  const ScandOutputDriver *driver = scand_output_driver_find(scand_config_get(config, kind, name, "type"));
  return driver ? scand_config_schema_find(driver->keys, key) : NULL;
}

gboolean scand_config_get_bool(ScandConfig *config, const char *kind, const char *name, const char *key, gboolean def,
                               gboolean *out, GError **error) {
  const char *value = scand_config_get(config, kind, name, key);
  if (!value) {
    *out = def;
    return TRUE;
  }
  if (!parse_bool(value, out))
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
  int_bounds(key_schema(config, kind, name, key), &min, &max);
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

/* "readable by group and others, writable by group"; NULL when private. */
static char *mode_exposure(mode_t mode) {
  static const char *const who[] = { NULL, "others", "group", "group and others" };
  guint readers = (mode & S_IRGRP ? 2 : 0) | (mode & S_IROTH ? 1 : 0);
  guint writers = (mode & S_IWGRP ? 2 : 0) | (mode & S_IWOTH ? 1 : 0);
  if (!readers && !writers)
    return NULL;
  if (readers == writers)
    return g_strdup_printf("readable and writable by %s", who[readers]);
  if (readers && writers)
    return g_strdup_printf("readable by %s and writable by %s", who[readers], who[writers]);
  return readers ? g_strdup_printf("readable by %s", who[readers]) : g_strdup_printf("writable by %s", who[writers]);
}

/* The path of a secret: absolute as written, else in $CREDENTIALS_DIRECTORY. */
static char *secret_path(const char *value, char **problem) {
  if (g_path_is_absolute(value))
    return g_strdup(value);
  const char *dir = g_getenv("CREDENTIALS_DIRECTORY");
  if (!dir || !*dir) {
    *problem = g_strdup_printf("\"%s\" is a relative name but $CREDENTIALS_DIRECTORY is not set "
                               "(give an absolute path, or pass it with systemd LoadCredential=)",
                               value);
    return NULL;
  }
  if (strchr(value, '/') || strcmp(value, "..") == 0 || strcmp(value, ".") == 0 || !*value) {
    *problem = g_strdup_printf("\"%s\" is not a credential name", value);
    return NULL;
  }
  return g_build_filename(dir, value, NULL);
}

/* Problem with a secret file's stat, or NULL. */
static char *secret_stat_problem(const char *path, const struct stat *st) {
  if (!S_ISREG(st->st_mode))
    return g_strdup_printf("secret file %s is not a regular file", path);
  g_autofree char *exposure = mode_exposure(st->st_mode);
  if (exposure)
    return g_strdup_printf("secret file %s is %s (mode %04o): run chmod go-rwx %s", path, exposure,
                           (unsigned) (st->st_mode & 07777), path);
  return NULL;
}

char *scand_config_read_secret(ScandConfig *config, const char *kind, const char *name, const char *key,
                               GError **error) {
  const char *value = scand_config_get(config, kind, name, key);
  if (!value) {
    g_autofree char *label = section_label(kind, name);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND, "%s %s: not set", label, key);
    return NULL;
  }
  g_autofree char *problem = NULL;
  g_autofree char *path = secret_path(value, &problem);
  if (!path) {
    set_key_error(error, config, kind, name, key, "%s", problem);
    return NULL;
  }
  char *data = NULL;
  gsize len = 0;
  struct stat st;
  g_autoptr(GError) local = NULL;
  if (!read_file_limited(path, SCAND_CONFIG_MAX_SECRET, &data, &len, &st, &local)) {
    g_autofree char *prefix = where_prefix(config, kind, name, key);
    g_set_error(error, SCAND_ERROR,
                g_error_matches(local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ? SCAND_ERROR_NOT_FOUND : SCAND_ERROR_DENIED,
                "%ssecret file %s", prefix, local->message);
    return NULL;
  }
  problem = secret_stat_problem(path, &st);
  if (problem) {
    explicit_bzero(data, len);
    g_free(data);
    g_autofree char *prefix = where_prefix(config, kind, name, key);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_DENIED, "%s%s", prefix, problem);
    return NULL;
  }
  if (len > 0 && data[len - 1] == '\n') {
    data[--len] = '\0';
    if (len > 0 && data[len - 1] == '\r')
      data[--len] = '\0';
  }
  return data;
}

/* ---- check ---- */

guint scand_config_edit_distance(const char *a, const char *b, guint cap) {
  gsize la = strlen(a), lb = strlen(b);
  if ((la > lb ? la - lb : lb - la) > cap)
    return cap + 1;
  g_autofree guint *row = g_new(guint, lb + 1);
  for (gsize j = 0; j <= lb; j++)
    row[j] = j;
  for (gsize i = 1; i <= la; i++) {
    guint diag = row[0], best;
    row[0] = best = i;
    for (gsize j = 1; j <= lb; j++) {
      guint up = row[j];
      guint v = MIN(MIN(row[j] + 1, row[j - 1] + 1), diag + (a[i - 1] != b[j - 1]));
      row[j] = v;
      diag = up;
      best = MIN(best, v);
    }
    if (best > cap)
      return cap + 1;
  }
  return MIN(row[lb], cap + 1);
}

/* The candidate closest to word when it is a likely typo, else NULL. */
static const char *nearest(const char *word, const char *const *candidates) {
  const char *best = NULL;
  guint cap = strlen(word) <= 4 ? 1 : 2, best_d = cap + 1;
  for (guint i = 0; candidates && candidates[i]; i++) {
    guint d = scand_config_edit_distance(word, candidates[i], cap);
    if (d < best_d) {
      best_d = d;
      best = candidates[i];
    }
  }
  return best;
}

/* A value fit for a message: at most 60 characters, control characters as '?'. */
static char *printable(const char *value) {
  GString *s = g_string_new(NULL);
  glong n = 0;
  for (const char *p = value; *p && n < 60; p = g_utf8_next_char(p), n++) {
    gunichar c = g_utf8_get_char(p);
    if (g_unichar_iscntrl(c))
      g_string_append_c(s, '?');
    else
      g_string_append_len(s, p, g_utf8_next_char(p) - p);
  }
  if (g_utf8_strlen(value, -1) > 60)
    g_string_append(s, "…");
  return g_string_free(s, FALSE);
}

static char *quote(const char *value) {
  g_autofree char *p = printable(value);
  return g_strdup_printf("\"%s\"", p);
}

static char *expected_form(const ScandConfigKey *k) {
  gint64 min, max;
  switch (k->type) {
    case SCAND_KEY_BOOL:
      return g_strdup("true or false");
    case SCAND_KEY_INT:
      int_bounds(k, &min, &max);
      if (min == G_MININT64)
        return g_strdup("a whole number");
      return g_strdup_printf("a whole number from %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT, min, max);
    case SCAND_KEY_DURATION:
      return g_strdup("a duration such as 90, 30s, 5m, 2h or 1d");
    case SCAND_KEY_ENUM:
      return g_strdup_printf("one of %s", k->values ? k->values : "(none)");
    case SCAND_KEY_PATH:
      return g_strdup("an absolute path");
    case SCAND_KEY_SECRET_FILE:
      return g_strdup("an absolute path or a credential name");
    case SCAND_KEY_FILE:
      return g_strdup("a readable file");
    case SCAND_KEY_OUTPUT:
      return g_strdup("the name of an [output] section");
    case SCAND_KEY_OUTPUT_LIST:
      return g_strdup("[output] names separated by commas");
    case SCAND_KEY_PROFILE:
      return g_strdup("the name of a [profile] section");
    case SCAND_KEY_TEMPLATE:
      return g_strdup("a file-name template");
    case SCAND_KEY_DEVICE:
      return g_strdup("a device URI: sane:NAME or escl:http[s]://HOST[:PORT]/eSCL");
    case SCAND_KEY_URL:
      return g_strdup("an absolute URL such as smb://host/share");
    case SCAND_KEY_DAYS:
      return g_strdup("days like mon-fri or sat,sun");
    case SCAND_KEY_HOURS:
      return g_strdup("times of day like 08:00-18:00");
    case SCAND_KEY_STRING:
    case SCAND_KEY_LIST:
    default:
      return g_strdup("text");
  }
}

static gboolean has_control(const char *value) {
  for (const char *p = value; *p; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      return TRUE;
  return FALSE;
}

static gboolean device_valid(const char *value) {
  if (g_str_has_prefix(value, "sane:"))
    return value[5] != '\0' && !has_control(value);
  if (!g_str_has_prefix(value, "escl:"))
    return FALSE;
  const char *url = value + 5;
  if (!g_str_has_prefix(url, "http://") && !g_str_has_prefix(url, "https://"))
    return FALSE;
  g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
  return uri && g_uri_get_host(uri) && *g_uri_get_host(uri);
}

static gboolean url_valid(const char *value) {
  g_autoptr(GUri) uri = g_uri_parse(value, G_URI_FLAGS_NONE, NULL);
  return uri != NULL && !has_control(value);
}

/* Splits an output list ("a, b; c") into trimmed non-empty names; newly allocated. */
static GStrv output_list_split(const char *value) {
  g_auto(GStrv) parts = g_strsplit_set(value, ",;", -1);
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  for (guint i = 0; parts[i]; i++) {
    g_strstrip(parts[i]);
    if (*parts[i])
      g_strv_builder_add(b, parts[i]);
  }
  return g_strv_builder_end(b);
}

static void check_reference(GPtrArray *problems, ScandConfig *config, const ScandConfigSection *s, const char *key,
                            const char *target_kind, const char *target) {
  if (scand_config_has_section(config, target_kind, target))
    return;
  g_auto(GStrv) names = scand_config_list_sections(config, target_kind);
  const char *guess = nearest(target, (const char *const *) names);
  g_autofree char *q = printable(target);
  if (guess)
    scand_config_add_problem(problems, config, s->kind, s->name, key, "no [%s %s] section (did you mean \"%s\"?)",
                             target_kind, q, guess);
  else
    scand_config_add_problem(problems, config, s->kind, s->name, key, "no [%s %s] section", target_kind, q);
}

static void check_secret_file(GPtrArray *problems, ScandConfig *config, const ScandConfigSection *s, const char *key,
                              const char *value) {
  g_autofree char *problem = NULL;
  g_autofree char *path = secret_path(value, &problem);
  if (path) {
    struct stat st;
    if (stat(path, &st) < 0)
      problem = g_strdup_printf("secret file %s: %s", path, g_strerror(errno));
    else
      problem = secret_stat_problem(path, &st);
  }
  if (problem)
    scand_config_add_problem(problems, config, s->kind, s->name, key, "%s", problem);
}

/* Checks one value against its schema row. */
static void check_value(GPtrArray *problems, ScandConfig *config, const ScandConfigSection *s,
                        const ScandConfigEntry *e, const ScandConfigKey *k) {
  const char *v = e->value;
  gboolean ok = TRUE;
  gboolean b;
  gint64 n, min, max;
  g_autofree char *q = quote(v);
  g_autofree char *expected = expected_form(k);

  if (!*v && k->type != SCAND_KEY_STRING && k->type != SCAND_KEY_LIST) {
    scand_config_add_problem(problems, config, s->kind, s->name, e->key, "empty value (expected %s)", expected);
    return;
  }
  switch (k->type) {
    case SCAND_KEY_BOOL:
      ok = parse_bool(v, &b);
      break;
    case SCAND_KEY_INT:
      if (!parse_int(v, &n)) {
        ok = FALSE;
        break;
      }
      int_bounds(k, &min, &max);
      if (n < min || n > max) {
        scand_config_add_problem(problems, config, s->kind, s->name, e->key,
                                 "%" G_GINT64_FORMAT " is out of range (expected %s)", n, expected);
        return;
      }
      break;
    case SCAND_KEY_DURATION:
      ok = scand_config_parse_duration(v, &n);
      break;
    case SCAND_KEY_ENUM: {
      g_auto(GStrv) values = g_strsplit(k->values ? k->values : "", "|", -1);
      if (g_strv_contains((const char *const *) values, v))
        break;
      const char *guess = nearest(v, (const char *const *) values);
      if (guess)
        scand_config_add_problem(problems, config, s->kind, s->name, e->key, "%s is not %s (did you mean \"%s\"?)", q,
                                 expected, guess);
      else
        scand_config_add_problem(problems, config, s->kind, s->name, e->key, "%s is not %s", q, expected);
      return;
    }
    case SCAND_KEY_PATH:
      ok = g_path_is_absolute(v) && !has_control(v);
      break;
    case SCAND_KEY_SECRET_FILE:
      check_secret_file(problems, config, s, e->key, v);
      return;
    case SCAND_KEY_FILE: {
      struct stat st;
      if (stat(v, &st) < 0 || access(v, R_OK) < 0) {
        int errsv = errno;
        scand_config_add_problem(problems, config, s->kind, s->name, e->key, "cannot read %s: %s", v,
                                 g_strerror(errsv));
      } else if (!S_ISREG(st.st_mode)) {
        scand_config_add_problem(problems, config, s->kind, s->name, e->key, "%s is not a regular file", v);
      }
      return;
    }
    case SCAND_KEY_OUTPUT:
      check_reference(problems, config, s, e->key, "output", v);
      return;
    case SCAND_KEY_OUTPUT_LIST: {
      g_auto(GStrv) names = output_list_split(v);
      if (!names[0]) {
        scand_config_add_problem(problems, config, s->kind, s->name, e->key, "no output named (expected %s)", expected);
        return;
      }
      for (guint i = 0; names[i]; i++)
        check_reference(problems, config, s, e->key, "output", names[i]);
      return;
    }
    case SCAND_KEY_PROFILE:
      check_reference(problems, config, s, e->key, "profile", v);
      return;
    case SCAND_KEY_TEMPLATE: {
      g_autoptr(GError) error = NULL;
      if (!scand_template_check(v, &error))
        scand_config_add_problem(problems, config, s->kind, s->name, e->key, "unsafe or malformed template: %s",
                                 error->message);
      return;
    }
    case SCAND_KEY_DEVICE:
      ok = device_valid(v);
      break;
    case SCAND_KEY_URL:
      ok = url_valid(v);
      break;
    case SCAND_KEY_DAYS:
    case SCAND_KEY_HOURS: {
      g_autoptr(GError) error = NULL;
      guint8 days;
      ScandScheduleMinutes minutes;
      if (k->type == SCAND_KEY_DAYS ? !scand_schedule_parse_days(v, &days, &error)
                                    : !scand_schedule_parse_hours(v, &minutes, &error))
        scand_config_add_problem(problems, config, s->kind, s->name, e->key, "%s", error->message);
      return;
    }
    case SCAND_KEY_STRING:
    case SCAND_KEY_LIST:
    default:
      break;
  }
  if (!ok)
    scand_config_add_problem(problems, config, s->kind, s->name, e->key, "%s is not %s", q, expected);
}

/* ---- checks that go beyond a type: data, one row a key ---- */

static char *check_tls_pin(ScandConfig *config, const char *v) {
  static const char form[] = "expected sha256: and 32 hex bytes separated by colons, as written by `scand trust`";
  if (!g_str_has_prefix(v, "sha256:"))
    return g_strdup_printf("not a certificate pin (%s)", form);
  g_auto(GStrv) bytes = g_strsplit(v + 7, ":", -1);
  guint n = g_strv_length(bytes);
  for (guint i = 0; i < n; i++)
    if (strlen(bytes[i]) != 2 || !g_ascii_isxdigit(bytes[i][0]) || !g_ascii_isxdigit(bytes[i][1]))
      return g_strdup_printf("byte %u is not two hex digits (%s)", i + 1, form);
  if (n != 32)
    return g_strdup_printf("has %u bytes, not 32 (%s)", n, form);
  return NULL;
}

static char *check_sane_options(ScandConfig *config, const char *v) {
  g_auto(GStrv) items = g_strsplit(v, ";", -1);
  for (guint i = 0; items[i]; i++) {
    char *item = g_strstrip(items[i]);
    if (!*item)
      continue;
    const char *eq = strchr(item, '=');
    if (!eq || eq == item)
      return g_strdup_printf("item %u is not name=value (expected \"name=value;name=value\")", i + 1);
  }
  return NULL;
}

static char *check_after(ScandConfig *config, const char *v) {
  if (strcmp(v, "delete") == 0)
    return NULL;
  if (g_str_has_prefix(v, "move:")) {
    if (g_path_is_absolute(v + 5) && !has_control(v))
      return NULL;
    return g_strdup("move: needs an absolute path (expected move:/srv/scans/done)");
  }
  return g_strdup("expected delete or move:/absolute/path");
}

/* "scan=letter;email=photo": each item names a button and an existing [profile]. */
static char *check_buttons(ScandConfig *config, const char *v) {
  static const char form[] = "expected button=profile items separated by ; such as scan=letter;email=photo";
  g_auto(GStrv) items = g_strsplit_set(v, ";,", -1);
  for (guint i = 0; items[i]; i++) {
    char *item = g_strstrip(items[i]);
    const char *eq = strchr(item, '=');
    if (!*item)
      return g_strdup_printf("item %u is empty (%s)", i + 1, form);
    g_autofree char *button = eq ? g_strstrip(g_strndup(item, (gsize) (eq - item))) : NULL;
    g_autofree char *profile = eq ? g_strstrip(g_strdup(eq + 1)) : NULL;
    if (!eq || !*button || !*profile)
      return g_strdup_printf("item %u is not button=profile (%s)", i + 1, form);
    if (!scand_config_has_section(config, "profile", profile)) {
      g_autofree char *q = printable(profile);
      return g_strdup_printf("button %s: no [profile %s] section", button, q);
    }
  }
  return NULL;
}

static const struct {
  const char *kind, *key;
  char *(*check)(ScandConfig *config, const char *value);
} value_checks[] = {
  { "scanner", "tls-pin", check_tls_pin }, { "scanner", "sane-options", check_sane_options },
  { "scanner", "buttons", check_buttons }, { "watch", "after", check_after },
  { "rule", "after", check_after },
};

static void check_special(GPtrArray *problems, ScandConfig *config, const ScandConfigSection *s,
                          const ScandConfigEntry *e) {
  for (guint i = 0; i < G_N_ELEMENTS(value_checks); i++) {
    if (strcmp(value_checks[i].kind, s->kind) != 0 || strcmp(value_checks[i].key, e->key) != 0)
      continue;
    g_autofree char *problem = value_checks[i].check(config, e->value);
    if (problem)
      scand_config_add_problem(problems, config, s->kind, s->name, e->key, "%s", problem);
  }
}

static void check_rule(GPtrArray *problems, ScandConfig *config, const ScandConfigSection *s) {
  gint64 lo, hi;
  if (scand_config_get_int(config, "rule", s->name, "pages-min", 0, &lo, NULL) &&
      scand_config_get_int(config, "rule", s->name, "pages-max", G_MAXINT64, &hi, NULL) && lo > hi)
    scand_config_add_problem(problems, config, s->kind, s->name, "pages-max",
                             "%" G_GINT64_FORMAT " is below pages-min %" G_GINT64_FORMAT ": the rule never matches", hi,
                             lo);
}

/* Names of a schema's keys (plus extra), NULL-terminated; the strings are borrowed. */
static GPtrArray *schema_names(const ScandConfigKey *schema, const ScandConfigKey *extra) {
  GPtrArray *names = g_ptr_array_new();
  for (guint i = 0; schema && schema[i].name; i++)
    g_ptr_array_add(names, (gpointer) schema[i].name);
  for (guint i = 0; extra && extra[i].name; i++)
    g_ptr_array_add(names, (gpointer) extra[i].name);
  g_ptr_array_add(names, NULL);
  return names;
}

static void check_section(GPtrArray *problems, ScandConfig *config, const ScandConfigSection *s) {
  const ScandConfigKind *kind = kind_find(s->kind);
  if (!kind) {
    const char *names[G_N_ELEMENTS(kinds) + 1] = { NULL };
    GString *known = g_string_new(NULL);
    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++) {
      names[i] = kinds[i].kind;
      g_string_append_printf(known, "%s%s", i ? ", " : "", kinds[i].kind);
    }
    const char *guess = nearest(s->kind, names);
    g_autofree char *q = quote(s->kind);
    g_autofree char *list = g_string_free(known, FALSE);
    if (guess)
      scand_config_add_problem(problems, config, s->kind, s->name, NULL,
                               "unknown section kind %s (did you mean [%s%s%s]?)", q, guess, s->name ? " " : "",
                               s->name ? s->name : "");
    else
      scand_config_add_problem(problems, config, s->kind, s->name, NULL, "unknown section kind %s (known: %s)", q,
                               list);
    return;
  }
  if (kind->named && !s->name)
    scand_config_add_problem(problems, config, s->kind, s->name, NULL, "needs a name: [%s NAME]", s->kind);
  if (!kind->named && s->name)
    scand_config_add_problem(problems, config, s->kind, s->name, NULL, "takes no name: write [%s]", s->kind);

  const ScandConfigKey *schema = scand_config_schema(s->kind);
  const ScandOutputDriver *driver = NULL;
  gboolean keys_known = TRUE;
  if (kind->schema == schema_output) {
    const char *type = scand_config_get(config, s->kind, s->name, "type");
    driver = scand_output_driver_find(type);
    if (type && !driver) {
      g_auto(GStrv) types = g_strsplit(schema_output[0].values, "|", -1);
      const char *guess = nearest(type, (const char *const *) types);
      g_autofree char *q = quote(type);
      if (guess)
        scand_config_add_problem(problems, config, s->kind, s->name, "type",
                                 "unknown output type %s (did you mean \"%s\"?)", q, guess);
      else
        scand_config_add_problem(problems, config, s->kind, s->name, "type", "unknown output type %s (known: %s)", q,
                                 schema_output[0].values);
    }
    /* Without a driver nobody knows which keys belong. */
    keys_known = driver != NULL;
  }

  g_autoptr(GPtrArray) names = schema_names(schema, driver ? driver->keys : NULL);
  for (guint i = 0; i < s->entries->len; i++) {
    const ScandConfigEntry *e = s->entries->pdata[i];
    const ScandConfigKey *k = scand_config_schema_find(schema, e->key);
    if (!k && driver)
      k = scand_config_schema_find(driver->keys, e->key);
    if (k == &schema_output[0])
      continue; /* "type" was checked above */
    if (!k) {
      if (!keys_known)
        continue;
      const char *guess = nearest(e->key, (const char *const *) names->pdata);
      if (guess)
        scand_config_add_problem(problems, config, s->kind, s->name, e->key, "unknown key (did you mean \"%s\"?)",
                                 guess);
      else
        scand_config_add_problem(problems, config, s->kind, s->name, e->key, "unknown key");
      continue;
    }
    check_value(problems, config, s, e, k);
    check_special(problems, config, s, e);
  }

  if (kind->required) {
    g_auto(GStrv) required = g_strsplit(kind->required, "|", -1);
    for (guint i = 0; required[i]; i++) {
      if (g_hash_table_contains(s->by_key, required[i]))
        continue;
      const ScandConfigKey *k = scand_config_schema_find(schema, required[i]);
      g_autofree char *expected = expected_form(k);
      scand_config_add_problem(problems, config, s->kind, s->name, required[i], "missing (required: %s)", expected);
    }
  }
  if (strcmp(s->kind, "rule") == 0)
    check_rule(problems, config, s);
  /* Drivers print the name; a nameless [output] was reported above. */
  if (driver && driver->check && s->name)
    driver->check(config, s->name, problems);
}

GPtrArray *scand_config_check(ScandConfig *config) {
  GPtrArray *problems = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; config && i < config->sections->len; i++)
    check_section(problems, config, config->sections->pdata[i]);
  return problems;
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
