/* scand-gtk's D-Bus client: a GDBusProxy on org.scand.Daemon1. Method calls
 * auto-start the daemon through D-Bus activation (org.scand.Daemon1.service);
 * JobProgress and JobFinished are re-emitted as typed GObject signals. */
#include "daemon-client.h"

#define BUS_NAME "org.scand.Daemon1"
#define OBJECT_PATH "/org/scand/Daemon1"
#define INTERFACE "org.scand.Daemon1"

/* ListDevices probes the network and USB; give it time. */
#define LIST_TIMEOUT_MS (60 * 1000)

struct _ScandGtkClient {
  GObject parent_instance;
  GDBusProxy *proxy;
};

enum {
  SIGNAL_JOB_PROGRESS,
  SIGNAL_JOB_FINISHED,
  N_SIGNALS
};
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(ScandGtkClient, scand_gtk_client, G_TYPE_OBJECT)

/* Frees one device entry; accepts NULL. */
void scand_gtk_device_free(ScandGtkDevice *device) {
  if (!device)
    return;
  g_free(device->uri);
  g_free(device->name);
  g_free(device->description);
  g_free(device->scan_name);
  g_free(device);
}

/* Decodes a ListDevices reply "(a(sss))" into ScandGtkDevice entries (the
 * caller owns the array). A discovered device that is also configured is
 * listed once, under its [scanner] name. */
GPtrArray *scand_gtk_devices_from_variant(GVariant *reply) {
  GPtrArray *devices = g_ptr_array_new_with_free_func((GDestroyNotify) scand_gtk_device_free);
  g_autoptr(GVariantIter) iter = NULL;
  const char *uri, *name, *description;
  g_variant_get(reply, "(a(sss))", &iter);
  while (g_variant_iter_next(iter, "(&s&s&s)", &uri, &name, &description)) {
    gboolean configured = g_strcmp0(description, "configured") == 0;
    gboolean duplicate = FALSE;
    for (guint i = 0; i < devices->len && !configured; i++) {
      ScandGtkDevice *d = devices->pdata[i];
      duplicate |= d->configured && *uri && g_strcmp0(d->uri, uri) == 0;
    }
    if (duplicate)
      continue;
    ScandGtkDevice *d = g_new0(ScandGtkDevice, 1);
    d->uri = g_strdup(uri);
    d->name = g_strdup(*name ? name : uri);
    d->description = g_strdup(configured ? "" : description);
    d->scan_name = g_strdup(configured ? name : uri);
    d->configured = configured;
    g_ptr_array_add(devices, d);
  }
  return devices;
}

static void on_proxy_signal(GDBusProxy *proxy, const char *sender, const char *signal, GVariant *parameters,
                            gpointer user_data) {
  ScandGtkClient *self = user_data;
  if (g_strcmp0(signal, "JobProgress") == 0 && g_variant_is_of_type(parameters, G_VARIANT_TYPE("(ossu)"))) {
    const char *path, *id, *stage;
    guint32 pages;
    g_variant_get(parameters, "(&o&s&su)", &path, &id, &stage, &pages);
    g_signal_emit(self, signals[SIGNAL_JOB_PROGRESS], 0, path, id, stage, (guint) pages);
  } else if (g_strcmp0(signal, "JobFinished") == 0 && g_variant_is_of_type(parameters, G_VARIANT_TYPE("(ossasas)"))) {
    const char *path, *id, *result;
    g_autofree const char **delivered = NULL;
    g_autofree const char **errors = NULL;
    g_variant_get(parameters, "(&o&s&s^a&s^a&s)", &path, &id, &result, &delivered, &errors);
    g_signal_emit(self, signals[SIGNAL_JOB_FINISHED], 0, path, id, result, delivered, errors);
  }
}

static void scand_gtk_client_dispose(GObject *object) {
  ScandGtkClient *self = SCAND_GTK_CLIENT(object);
  if (self->proxy)
    g_signal_handlers_disconnect_by_data(self->proxy, self);
  g_clear_object(&self->proxy);
  G_OBJECT_CLASS(scand_gtk_client_parent_class)->dispose(object);
}

static void scand_gtk_client_class_init(ScandGtkClientClass *klass) {
  G_OBJECT_CLASS(klass)->dispose = scand_gtk_client_dispose;
  /* (job path, job id, stage, pages) */
  signals[SIGNAL_JOB_PROGRESS] =
      g_signal_new("job-progress", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 4,
                   G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_UINT);
  /* (job path, job id, result, delivered, errors) */
  signals[SIGNAL_JOB_FINISHED] =
      g_signal_new("job-finished", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 5,
                   G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRV, G_TYPE_STRV);
}

static void scand_gtk_client_init(ScandGtkClient *self) {
}

static void on_proxy_ready(GObject *source, GAsyncResult *result, gpointer user_data) {
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  GDBusProxy *proxy = g_dbus_proxy_new_for_bus_finish(result, &error);
  if (!proxy) {
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  ScandGtkClient *self = g_object_new(SCAND_GTK_TYPE_CLIENT, NULL);
  self->proxy = proxy;
  g_signal_connect(proxy, "g-signal", G_CALLBACK(on_proxy_signal), self);
  g_task_return_pointer(task, self, g_object_unref);
}

/* Connects to the session bus and makes the proxy. The daemon need not run
 * yet: the first method call starts it by D-Bus activation. */
void scand_gtk_client_new_async(GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data) {
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  /* Not DO_NOT_AUTO_START: that is what starts scand on demand. */
  g_dbus_proxy_new_for_bus(G_BUS_TYPE_SESSION, G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES, NULL, BUS_NAME, OBJECT_PATH,
                           INTERFACE, cancellable, on_proxy_ready, task);
}

/* Returns the new client (owned by the caller) or NULL with @error set. */
ScandGtkClient *scand_gtk_client_new_finish(GAsyncResult *result, GError **error) {
  return g_task_propagate_pointer(G_TASK(result), error);
}

/* Every method goes through here: the reply variant (or error) is the task's
 * result, and the _finish functions decode it. */
static void on_call_done(GObject *source, GAsyncResult *result, gpointer user_data) {
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  GVariant *reply = g_dbus_proxy_call_finish(G_DBUS_PROXY(source), result, &error);
  if (!reply) {
    /* "GDBus.Error:org.scand.Error.Failed: no [profile x]" reads badly in a UI. */
    g_dbus_error_strip_remote_error(error);
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  g_task_return_pointer(task, reply, (GDestroyNotify) g_variant_unref);
}

static void call(ScandGtkClient *self, const char *method, GVariant *args, int timeout_ms, gpointer source_tag,
                 GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data) {
  GTask *task = g_task_new(self, cancellable, callback, user_data);
  g_task_set_source_tag(task, source_tag);
  g_dbus_proxy_call(self->proxy, method, args, G_DBUS_CALL_FLAGS_NONE, timeout_ms, cancellable, on_call_done, task);
}

static GVariant *finish_call(ScandGtkClient *self, GAsyncResult *result, const char *type, GError **error) {
  g_return_val_if_fail(g_task_is_valid(result, self), NULL);
  GVariant *reply = g_task_propagate_pointer(G_TASK(result), error);
  if (reply && !g_variant_is_of_type(reply, G_VARIANT_TYPE(type))) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "scand replied %s where %s was expected",
                g_variant_get_type_string(reply), type);
    g_clear_pointer(&reply, g_variant_unref);
  }
  return reply;
}

void scand_gtk_client_list_devices_async(ScandGtkClient *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                                         gpointer user_data) {
  call(self, "ListDevices", NULL, LIST_TIMEOUT_MS, scand_gtk_client_list_devices_async, cancellable, callback,
       user_data);
}

/* Returns the scanners (a GPtrArray of ScandGtkDevice, owned by the caller). */
GPtrArray *scand_gtk_client_list_devices_finish(ScandGtkClient *self, GAsyncResult *result, GError **error) {
  g_autoptr(GVariant) reply = finish_call(self, result, "(a(sss))", error);
  return reply ? scand_gtk_devices_from_variant(reply) : NULL;
}

void scand_gtk_client_list_profiles_async(ScandGtkClient *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                                          gpointer user_data) {
  call(self, "ListProfiles", NULL, -1, scand_gtk_client_list_profiles_async, cancellable, callback, user_data);
}

/* Returns the [profile] names (a GStrv owned by the caller). */
char **scand_gtk_client_list_profiles_finish(ScandGtkClient *self, GAsyncResult *result, GError **error) {
  g_autoptr(GVariant) reply = finish_call(self, result, "(as)", error);
  char **profiles = NULL;
  if (reply)
    g_variant_get(reply, "(^as)", &profiles);
  return profiles;
}

void scand_gtk_client_list_panels_async(ScandGtkClient *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                                        gpointer user_data) {
  call(self, "ListPanels", NULL, -1, scand_gtk_client_list_panels_async, cancellable, callback, user_data);
}

/* Returns the a(sa(sx)s) of ListPanels (owned by the caller). */
GVariant *scand_gtk_client_list_panels_finish(ScandGtkClient *self, GAsyncResult *result, GError **error) {
  g_autoptr(GVariant) reply = finish_call(self, result, "(a(sa(sx)s))", error);
  return reply ? g_variant_get_child_value(reply, 0) : NULL;
}

char *scand_gtk_panels_for(GVariant *panels, const char *section) {
  GVariantIter it;
  const char *name, *state;
  GVariantIter *regs;
  g_variant_iter_init(&it, panels);
  while (g_variant_iter_next(&it, "(&sa(sx)&s)", &name, &regs, &state)) {
    if (g_strcmp0(name, section) != 0) {
      g_variant_iter_free(regs);
      continue;
    }
    GString *out = g_string_new(NULL);
    const char *dest;
    gint64 expires;
    while (g_variant_iter_next(regs, "(&sx)", &dest, &expires))
      g_string_append_printf(out, "%s%s", out->len ? ", " : "", dest);
    g_variant_iter_free(regs);
    if (out->len)
      return g_string_free(out, FALSE);
    g_string_free(out, TRUE);
    return g_strdup_printf("(%s)", state);
  }
  return NULL;
}

/* Starts a scan; device and profile may be "" for the defaults. */
void scand_gtk_client_scan_async(ScandGtkClient *self, const char *device, const char *profile,
                                 GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data) {
  call(self, "Scan", g_variant_new("(ss)", device ? device : "", profile ? profile : ""), -1,
       scand_gtk_client_scan_async, cancellable, callback, user_data);
}

/* Returns the job's object path (owned by the caller); the job's signals
 * carry the same path. */
char *scand_gtk_client_scan_finish(ScandGtkClient *self, GAsyncResult *result, GError **error) {
  g_autoptr(GVariant) reply = finish_call(self, result, "(o)", error);
  char *path = NULL;
  if (reply)
    g_variant_get(reply, "(o)", &path);
  return path;
}

void scand_gtk_client_get_device_state_async(ScandGtkClient *self, const char *device, GCancellable *cancellable,
                                             GAsyncReadyCallback callback, gpointer user_data) {
  call(self, "GetDeviceState", g_variant_new("(s)", device), -1, scand_gtk_client_get_device_state_async, cancellable,
       callback, user_data);
}

gboolean scand_gtk_client_get_device_state_finish(ScandGtkClient *self, GAsyncResult *result, char **state,
                                                  char **detail, GError **error) {
  g_autoptr(GVariant) reply = finish_call(self, result, "(ss)", error);
  if (!reply)
    return FALSE;
  g_variant_get(reply, "(ss)", state, detail);
  return TRUE;
}

void scand_gtk_client_get_page_async(ScandGtkClient *self, const char *id, guint page, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data) {
  call(self, "GetPage", g_variant_new("(su)", id, page), -1, scand_gtk_client_get_page_async, cancellable, callback,
       user_data);
}

char *scand_gtk_client_get_page_finish(ScandGtkClient *self, GAsyncResult *result, GError **error) {
  g_autoptr(GVariant) reply = finish_call(self, result, "(s)", error);
  char *path = NULL;
  if (reply)
    g_variant_get(reply, "(s)", &path);
  return path;
}

void scand_gtk_client_cancel_job_async(ScandGtkClient *self, const char *id, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data) {
  call(self, "CancelJob", g_variant_new("(s)", id), -1, scand_gtk_client_cancel_job_async, cancellable, callback,
       user_data);
}

gboolean scand_gtk_client_cancel_job_finish(ScandGtkClient *self, GAsyncResult *result, GError **error) {
  g_autoptr(GVariant) reply = finish_call(self, result, "()", error);
  return reply != NULL;
}
