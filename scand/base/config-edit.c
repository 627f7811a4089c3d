/* In-place edits of configuration files: the loaded config says where each
 * section and key sits (file and line); the edit changes that one line. */
#include "scand/base/config-edit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "scand/base/config-private.h"
#include "scand/base/error.h"
#include "scand/base/fs.h"

/* A file as lines that keep their own line endings. */
typedef struct {
  char *path; /* as config names it */
  GPtrArray *lines;
} TextFile;

static void text_file_free(TextFile *t) {
  if (!t)
    return;
  g_free(t->path);
  g_ptr_array_unref(t->lines);
  g_free(t);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(TextFile, text_file_free)

static TextFile *text_file_read(const char *path, gboolean may_be_missing, GError **error) {
  g_autofree char *data = NULL;
  gsize len = 0;
  g_autoptr(GError) local = NULL;
  if (!g_file_get_contents(path, &data, &len, &local)) {
    if (!may_be_missing || !g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT)) {
      g_propagate_error(error, g_steal_pointer(&local));
      return NULL;
    }
  }
  TextFile *t = g_new0(TextFile, 1);
  t->path = g_strdup(path);
  t->lines = g_ptr_array_new_with_free_func(g_free);
  for (gsize at = 0; data && at < len;) {
    const char *nl = memchr(data + at, '\n', len - at);
    gsize end = nl ? (gsize) (nl - data) + 1 : len;
    g_ptr_array_add(t->lines, g_strndup(data + at, end - at));
    at = end;
  }
  return t;
}

/* The line ending of line ("\r\n", "\n" or "" at the end of the file). */
static const char *line_ending(const char *line) {
  gsize n = strlen(line);
  if (n >= 2 && line[n - 2] == '\r' && line[n - 1] == '\n')
    return "\r\n";
  return n >= 1 && line[n - 1] == '\n' ? "\n" : "";
}

/* The file's own line ending: that of its first line, else "\n". */
static const char *file_ending(TextFile *t) {
  const char *e = t->lines->len ? line_ending(t->lines->pdata[0]) : "";
  return *e ? e : "\n";
}

/* Makes sure the last line ends, so that a line can follow it. */
static void text_file_end_last_line(TextFile *t) {
  if (t->lines->len == 0)
    return;
  char **last = (char **) &t->lines->pdata[t->lines->len - 1];
  if (!*line_ending(*last)) {
    char *ended = g_strconcat(*last, file_ending(t), NULL);
    g_free(*last);
    *last = ended;
  }
}

/* "key = value" spaced like model ("key=value" stays tight), indented like it. */
static char *key_line_like(const char *model, const char *key, const char *value, const char *ending) {
  gsize indent = model ? strspn(model, " \t") : 0;
  const char *eq = model ? strchr(model, '=') : NULL;
  gboolean tight = eq && eq > model && eq[-1] != ' ' && eq[-1] != '\t' && eq[1] != ' ' && eq[1] != '\t';
  return g_strdup_printf("%.*s%s%s%s%s", (int) indent, model ? model : "", key, tight ? "=" : " = ", value, ending);
}

/* line with its value replaced: the text up to and after '=' (blanks), and a
 * "  # note" after the value, stay as they were. */
static char *key_line_replace(const char *line, const char *value) {
  const char *ending = line_ending(line);
  gsize body = strlen(line) - strlen(ending);
  const char *eq = memchr(line, '=', body);
  if (!eq)
    return NULL;
  const char *v = eq + 1;
  while (*v == ' ' || *v == '\t')
    v++;
  const char *note = scand_config_value_comment(v, line + body);
  while (note && note > v && (note[-1] == ' ' || note[-1] == '\t'))
    note--;
  const char *tail = note ? note : line + body;
  return g_strdup_printf("%.*s%s%.*s%s", (int) (v - line), line, value, (int) (line + body - tail), tail, ending);
}

/* "file:line" → file and 1-based line. */
static gboolean where_split(const char *where, char **file, guint *line) {
  const char *colon = where ? strrchr(where, ':') : NULL;
  guint64 n = 0;
  if (!colon || !g_ascii_string_to_unsigned(colon + 1, 10, 1, G_MAXUINT, &n, NULL))
    return FALSE;
  *file = g_strndup(where, (gsize) (colon - where));
  *line = (guint) n;
  return TRUE;
}

/* Writes t where its path leads (through links), atomically, keeping mode and owner. */
static gboolean text_file_write(TextFile *t, GError **error) {
  g_autofree char *real = realpath(t->path, NULL);
  const char *target = real ? real : t->path;
  struct stat st;
  gboolean existed = stat(target, &st) == 0;
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < t->lines->len; i++)
    g_string_append(s, t->lines->pdata[i]);
  g_autofree char *dir = g_path_get_dirname(target);
  gboolean ok = scand_fs_mkdir_p(dir, 0755, error) &&
                scand_fs_write_atomic(target, s->str, s->len, existed ? st.st_mode & 07777 : 0644, error);
  g_string_free(s, TRUE);
  if (ok && existed && (st.st_uid != geteuid() || st.st_gid != getegid()) && chown(target, st.st_uid, st.st_gid) < 0)
    return scand_fs_error_errno(error, errno, "cannot give %s back to its owner", target);
  return ok;
}

static gboolean value_printable(const char *value) {
  for (const char *p = value; *p; p++)
    if ((guchar) *p < 0x20 || *p == 0x7f)
      return FALSE;
  return g_utf8_validate(value, -1, NULL);
}

/* The section's last line in file: its header or the last of its keys there. */
static guint section_last_line(ScandConfig *config, const char *kind, const char *name, const char *file,
                               guint header) {
  guint last = header;
  g_auto(GStrv) keys = scand_config_list_keys(config, kind, name);
  for (guint i = 0; keys && keys[i]; i++) {
    g_autofree char *where = scand_config_where(config, kind, name, keys[i]);
    g_autofree char *kfile = NULL;
    guint line = 0;
    if (where_split(where, &kfile, &line) && strcmp(kfile, file) == 0 && line > last)
      last = line;
  }
  return last;
}

/* Appends [kind name] with every key to t. */
static void section_append(TextFile *t, const char *kind, const char *name, const char *const *keys,
                           const char *const *values) {
  const char *ending = file_ending(t);
  text_file_end_last_line(t);
  if (t->lines->len > 0)
    g_ptr_array_add(t->lines, g_strdup(ending));
  g_ptr_array_add(t->lines, g_strdup_printf("[%s%s%s]%s", kind, name ? " " : "", name ? name : "", ending));
  for (guint i = 0; keys[i]; i++)
    g_ptr_array_add(t->lines, g_strdup_printf("%s = %s%s", keys[i], values[i], ending));
}

/* The file at path among files (read on first use). */
static TextFile *files_get(GPtrArray *files, const char *path, GError **error) {
  for (guint i = 0; i < files->len; i++)
    if (strcmp(((TextFile *) files->pdata[i])->path, path) == 0)
      return files->pdata[i];
  TextFile *t = text_file_read(path, FALSE, error);
  if (t)
    g_ptr_array_add(files, t);
  return t;
}

/* Changes the line that holds key (in whichever file sets it last) to value.
 * *found is FALSE when no file sets it. */
static gboolean key_replace(GPtrArray *files, ScandConfig *config, const char *kind, const char *name, const char *key,
                            const char *value, gboolean *found, GError **error) {
  g_autofree char *where = scand_config_where(config, kind, name, key);
  g_autofree char *kfile = NULL;
  guint line = 0;
  *found = where_split(where, &kfile, &line);
  if (!*found)
    return TRUE;
  TextFile *t = files_get(files, kfile, error);
  if (!t)
    return FALSE;
  char *replaced = line <= t->lines->len ? key_line_replace(t->lines->pdata[line - 1], value) : NULL;
  if (!replaced) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: line %u does not hold %s (changed meanwhile?)", kfile, line,
                key);
    return FALSE;
  }
  g_free(t->lines->pdata[line - 1]);
  t->lines->pdata[line - 1] = replaced;
  return TRUE;
}

/* Adds key = value as a line after line after of t (its section's last). */
static gboolean key_insert(TextFile *t, guint header, guint after, const char *key, const char *value, GError **error) {
  if (after < 1 || after > t->lines->len) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s changed while it was being edited", t->path);
    return FALSE;
  }
  if (after == t->lines->len)
    text_file_end_last_line(t);
  const char *model = after > header ? t->lines->pdata[after - 1] : NULL;
  const char *ending = line_ending(t->lines->pdata[after - 1]);
  g_ptr_array_insert(t->lines, (gint) after, key_line_like(model, key, value, *ending ? ending : file_ending(t)));
  return TRUE;
}

char *scand_config_edit_set(ScandConfig *config, const char *kind, const char *name, const char *const *keys,
                            const char *const *values, const char *new_file, GError **error) {
  for (guint i = 0; keys[i]; i++)
    if (!values[i] || !value_printable(values[i])) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "the value of %s is not one line of text", keys[i]);
      return NULL;
    }
  g_autofree char *where = scand_config_where(config, kind, name, NULL);
  if (!where) {
    const char *const *names = scand_config_get_files(config);
    const char *path = new_file ? new_file : names && names[0] ? names[0] : NULL;
    if (!path) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "no configuration file to add [%s %s] to", kind, name);
      return NULL;
    }
    g_autoptr(TextFile) t = text_file_read(path, TRUE, error);
    if (!t)
      return NULL;
    section_append(t, kind, name, keys, values);
    return text_file_write(t, error) ? g_strdup(path) : NULL;
  }
  g_autofree char *file = NULL;
  guint header = 0;
  if (!where_split(where, &file, &header)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "[%s %s] comes from no file", kind, name);
    return NULL;
  }
  /* Lines are changed first, then added after the section's last line in
   * its header's file, so that no line number moves before it is used. */
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func((GDestroyNotify) text_file_free);
  g_autoptr(GPtrArray) missing = g_ptr_array_new();
  for (guint i = 0; keys[i]; i++) {
    gboolean found = FALSE;
    if (!key_replace(files, config, kind, name, keys[i], values[i], &found, error))
      return NULL;
    if (!found)
      g_ptr_array_add(missing, GUINT_TO_POINTER(i));
  }
  if (missing->len > 0) {
    TextFile *t = files_get(files, file, error);
    if (!t)
      return NULL;
    guint after = section_last_line(config, kind, name, file, header);
    for (guint m = 0; m < missing->len; m++) {
      guint i = GPOINTER_TO_UINT(missing->pdata[m]);
      if (!key_insert(t, header, after + m, keys[i], values[i], error))
        return NULL;
    }
  }
  for (guint i = 0; i < files->len; i++)
    if (!text_file_write(files->pdata[i], error))
      return NULL;
  return g_strdup(files->len ? ((TextFile *) files->pdata[0])->path : file);
}
