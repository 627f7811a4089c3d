#include "scand/service/panel-state.h"
#include "backends/panel.h"
#include "scand/base/error.h"
#include "scand/base/fs.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The state is one small key file: [scand] client-id, then one
 * [scanner NAME] group per panel with parallel lists names/handles/expires. */
#define STATE_FILE "panel.ini"
#define STATE_MAX (256 * 1024)

/* Panels of several scanners save from their own threads. */
static GMutex state_lock;

static char *state_path(const char *spool_dir) {
  return g_build_filename(spool_dir, STATE_FILE, NULL);
}

/* Reads the state; an unreadable or corrupt file reads as empty (it only
 * speeds up the next start, it never holds a page). */
static GKeyFile *state_load(const char *spool_dir) {
  GKeyFile *kf = g_key_file_new();
  g_autofree char *path = state_path(spool_dir);
  g_autofree char *data = NULL;
  gsize len = 0;
  /* Only a small regular file of our own: a link elsewhere, a FIFO or a huge
   * file left there by mistake is never followed, waited on or read in. */
  int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  struct stat st;
  if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size < STATE_MAX) {
    data = g_malloc(st.st_size + 1);
    ssize_t n = read(fd, data, st.st_size);
    len = n > 0 ? (gsize) n : 0;
    g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, NULL);
  }
  if (fd >= 0)
    close(fd);
  return kf;
}

static gboolean state_store(const char *spool_dir, GKeyFile *kf, GError **error) {
  g_autofree char *path = state_path(spool_dir);
  gsize len = 0;
  g_autofree char *data = g_key_file_to_data(kf, &len, NULL);
  return scand_fs_write_atomic(path, data, len, 0600, error);
}

static gboolean client_id_valid(const char *id) {
  if (!id || strlen(id) != 22 || !g_str_has_prefix(id, "scand-"))
    return FALSE;
  for (const char *p = id + 6; *p; p++)
    if (!g_ascii_isxdigit(*p))
      return FALSE;
  return TRUE;
}

char *scand_panel_state_client_id(const char *spool_dir, GError **error) {
  g_mutex_lock(&state_lock);
  g_autoptr(GKeyFile) kf = state_load(spool_dir);
  char *id = g_key_file_get_string(kf, "scand", "client-id", NULL);
  if (!client_id_valid(id)) {
    g_free(id);
    id = g_strdup_printf("scand-%08x%08x", g_random_int(), g_random_int());
    g_key_file_set_string(kf, "scand", "client-id", id);
    if (!state_store(spool_dir, kf, error))
      g_clear_pointer(&id, g_free);
  }
  g_mutex_unlock(&state_lock);
  return id;
}

static char *group_of(const char *section) {
  return g_strdup_printf("scanner %s", section);
}

GStrv scand_panel_state_previous(const char *spool_dir, const char *section, const char *device) {
  g_mutex_lock(&state_lock);
  g_autoptr(GKeyFile) kf = state_load(spool_dir);
  g_mutex_unlock(&state_lock);
  g_autofree char *group = group_of(section);
  g_autofree char *recorded = g_key_file_get_string(kf, group, "device", NULL);
  g_autoptr(GStrvBuilder) b = g_strv_builder_new();
  if (g_strcmp0(recorded, device) == 0) {
    gsize n_names = 0, n_handles = 0;
    g_auto(GStrv) names = g_key_file_get_string_list(kf, group, "names", &n_names, NULL);
    g_auto(GStrv) handles = g_key_file_get_string_list(kf, group, "handles", &n_handles, NULL);
    for (gsize i = 0; i < MIN(n_names, n_handles); i++) {
      if (strchr(names[i], '\t') || !*handles[i])
        continue;
      g_autofree char *entry = g_strdup_printf("%s\t%s", names[i], handles[i]);
      g_strv_builder_add(b, entry);
    }
  }
  return g_strv_builder_end(b);
}

gboolean scand_panel_state_save(const char *spool_dir, const char *section, const char *device,
                                GPtrArray *registrations, GError **error) {
  g_mutex_lock(&state_lock);
  g_autoptr(GKeyFile) kf = state_load(spool_dir);
  g_autofree char *group = group_of(section);
  g_key_file_remove_group(kf, group, NULL);
  if (registrations && registrations->len) {
    guint n = registrations->len;
    g_autofree const char **names = g_new0(const char *, n + 1);
    g_autofree const char **handles = g_new0(const char *, n + 1);
    g_autofree gint64 *expires = g_new0(gint64, n);
    for (guint i = 0; i < n; i++) {
      ScandPanelRegistration *r = registrations->pdata[i];
      names[i] = r->name;
      handles[i] = r->handle ? r->handle : "";
      expires[i] = r->expires;
    }
    g_key_file_set_string(kf, group, "device", device);
    g_key_file_set_string_list(kf, group, "names", names, n);
    g_key_file_set_string_list(kf, group, "handles", handles, n);
    g_autoptr(GString) ex = g_string_new(NULL);
    for (guint i = 0; i < n; i++)
      g_string_append_printf(ex, "%" G_GINT64_FORMAT ";", expires[i]);
    g_key_file_set_string(kf, group, "expires", ex->str);
    g_key_file_set_int64(kf, group, "updated", g_get_real_time());
  }
  gboolean ok = state_store(spool_dir, kf, error);
  g_mutex_unlock(&state_lock);
  return ok;
}

void scand_panel_record_free(ScandPanelRecord *r) {
  if (!r)
    return;
  g_free(r->section);
  g_free(r->device);
  g_free(r->name);
  g_free(r->handle);
  g_free(r);
}

static void add_records(GKeyFile *kf, const char *group, const char *uri, GPtrArray *out) {
  g_autofree char *device = g_key_file_get_string(kf, group, "device", NULL);
  if (!device || (uri && strcmp(device, uri) != 0))
    return;
  gsize n_names = 0, n_handles = 0;
  g_auto(GStrv) names = g_key_file_get_string_list(kf, group, "names", &n_names, NULL);
  g_auto(GStrv) handles = g_key_file_get_string_list(kf, group, "handles", &n_handles, NULL);
  g_autofree char *ex = g_key_file_get_string(kf, group, "expires", NULL);
  g_auto(GStrv) expires = g_strsplit(ex ? ex : "", ";", -1);
  gint64 updated = g_key_file_get_int64(kf, group, "updated", NULL);
  for (gsize i = 0; i < MIN(n_names, n_handles); i++) {
    ScandPanelRecord *r = g_new0(ScandPanelRecord, 1);
    r->section = g_strdup(group + strlen("scanner "));
    r->device = g_strdup(device);
    r->name = g_strdup(names[i]);
    r->handle = g_strdup(handles[i]);
    if (i < g_strv_length(expires))
      r->expires = g_ascii_strtoll(expires[i], NULL, 10);
    r->updated = updated;
    g_ptr_array_add(out, r);
  }
}

/* "52 min", "3 h 10 min", "40 s". Newly allocated. */
static char *span(gint64 seconds) {
  if (seconds < 120)
    return g_strdup_printf("%" G_GINT64_FORMAT " s", seconds);
  if (seconds < 3 * 3600)
    return g_strdup_printf("%" G_GINT64_FORMAT " min", seconds / 60);
  return g_strdup_printf("%" G_GINT64_FORMAT " h %" G_GINT64_FORMAT " min", seconds / 3600, seconds / 60 % 60);
}

static void describe_record(GString *out, const ScandPanelRecord *r, gint64 now_real) {
  g_autofree char *when = NULL;
  if (r->expires <= 0) {
    when = g_strdup("registered (the device keeps it until the daemon removes it)");
  } else if (r->expires > now_real) {
    g_autoptr(GDateTime) at = g_date_time_new_from_unix_local(r->expires / G_USEC_PER_SEC);
    g_autofree char *clock = g_date_time_format(at, "%H:%M:%S");
    g_autofree char *left = span((r->expires - now_real) / G_USEC_PER_SEC);
    when = g_strdup_printf("subscribed, expires in %s (at %s) unless the daemon renews it", left, clock);
  } else {
    g_autofree char *ago = span((now_real - r->expires) / G_USEC_PER_SEC);
    when = g_strdup_printf("expired %s ago (the daemon that subscribed is not renewing it)", ago);
  }
  g_string_append_printf(out, "\"%s\" of [scanner %s]: %s\n", r->name, r->section, when);
}

char *scand_panel_state_describe(const char *spool_dir, const char *uri, gint64 now_real) {
  g_autoptr(GPtrArray) records = scand_panel_state_records(spool_dir, uri);
  if (records->len == 0)
    return NULL;
  GString *out = g_string_new(NULL);
  for (guint i = 0; i < records->len; i++)
    describe_record(out, records->pdata[i], now_real);
  return g_string_free(out, FALSE);
}

GPtrArray *scand_panel_state_records(const char *spool_dir, const char *uri) {
  GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify) scand_panel_record_free);
  g_mutex_lock(&state_lock);
  g_autoptr(GKeyFile) kf = state_load(spool_dir);
  g_mutex_unlock(&state_lock);
  g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);
  for (guint i = 0; groups && groups[i]; i++)
    if (g_str_has_prefix(groups[i], "scanner "))
      add_records(kf, groups[i], uri, out);
  return out;
}
