/* The daemon's D-Bus API, org.scand.Daemon1 (data/org.scand.Daemon1.xml). */
#include "scand/service/daemon-dbus.h"
#include "backends/backend.h"
#include "scand/base/error.h"
#include "scand/base/log.h"
#include "scand/base/page.h"
#include "scand/core/job-run.h"
#include "scand/core/job.h"
#include "scand/service/daemon-dbus-access.h"
#include "scand/service/device-state.h"
#include "scand-resources.h"

#include <string.h>

#define BUS_NAME "org.scand.Daemon1"
#define OBJECT_PATH "/org/scand/Daemon1"
#define INTERFACE "org.scand.Daemon1"

struct ScandDaemonBus {
  const ScandBusService *service;
  gpointer service_data;
  ScandSpool *spool;
  GDBusConnection *connection;
  GDBusNodeInfo *info;
  guint owner_id;
  guint object_id;
};

static void return_error(GDBusMethodInvocation *invocation, const GError *error) {
  if (error->domain == G_DBUS_ERROR)
    g_dbus_method_invocation_return_gerror(invocation, error);
  else
    g_dbus_method_invocation_return_dbus_error(invocation, "org.scand.Error", error->message);
}

static ScandConfig *bus_get_config(ScandDaemonBus *bus) {
  return bus->service->get_config(bus->service_data);
}

static char *job_object_path(const char *id) {
  g_autofree char *escaped = g_strdelimit(g_strdup(id), "-", '_');
  return g_strdup_printf("/org/scand/Daemon1/jobs/j%s", escaped);
}

static void list_devices_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable) {
  g_autoptr(ScandConfig) config = bus_get_config(data);
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE("a(sss)"));
  g_auto(GStrv) scanners = scand_config_list_sections(config, "scanner");
  for (guint i = 0; scanners && scanners[i]; i++) {
    const char *uri = scand_config_get(config, "scanner", scanners[i], "device");
    g_variant_builder_add(&b, "(sss)", uri ? uri : "", scanners[i], "configured");
  }
  g_autoptr(GPtrArray) devices = scand_backend_list_devices();
  scand_bus_devices_remember(devices);
  for (guint i = 0; i < devices->len; i++) {
    ScandDeviceInfo *d = devices->pdata[i];
    g_autofree char *desc = g_strdup_printf("%s %s", d->vendor ? d->vendor : "", d->model ? d->model : "");
    g_variant_builder_add(&b, "(sss)", d->uri, d->name ? d->name : d->uri, g_strstrip(desc));
  }
  g_task_return_pointer(task, g_variant_ref_sink(g_variant_new("(a(sss))", &b)), (GDestroyNotify) g_variant_unref);
}

static void reply_with_task_result(GObject *source, GAsyncResult *result, gpointer data) {
  GDBusMethodInvocation *invocation = data;
  g_autoptr(GError) error = NULL;
  GVariant *v = g_task_propagate_pointer(G_TASK(result), &error);
  if (!v) {
    return_error(invocation, error);
    return;
  }
  g_dbus_method_invocation_return_value(invocation, v);
  g_variant_unref(v);
}

/* A device a caller named, to be resolved in a thread (discovery takes
 * seconds). */
typedef struct {
  ScandConfig *config;
  char *device;
} DeviceCall;

static DeviceCall *device_call_new(ScandConfig *config, const char *device) {
  DeviceCall *c = g_new0(DeviceCall, 1);
  c->config = scand_config_ref(config);
  c->device = g_strdup(device);
  return c;
}

static void device_call_free(DeviceCall *c) {
  scand_config_free(c->config);
  g_free(c->device);
  g_free(c);
}

/* The URI of the configured or discovered device c names (daemon-dbus-access.h). */
static char *device_call_uri(DeviceCall *c, GError **error) {
  g_autofree char *found = scand_bus_device_resolve(c->config, c->device, TRUE, error);
  if (!found)
    return NULL;
  if (!*found) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND, "no such scanner");
    return NULL;
  }
  if (scand_config_has_section(c->config, "scanner", found)) {
    const char *uri = scand_config_get(c->config, "scanner", found, "device");
    if (!uri || !*uri) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND, "[scanner %s] has no device", found);
      return NULL;
    }
    return g_strdup(uri);
  }
  return g_steal_pointer(&found);
}

/* The state of the device the caller named, read off the main thread (it
 * may block; device-state.h). */
static void device_state_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable) {
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = device_call_uri(data, &error);
  if (!uri) {
    g_task_return_error(task, g_steal_pointer(&error));
    return;
  }
  g_autofree char *detail = NULL;
  const char *state = scand_device_state_read(uri, &detail);
  g_task_return_pointer(task, g_variant_ref_sink(g_variant_new("(ss)", state, detail ? detail : "")),
                        (GDestroyNotify) g_variant_unref);
}

static GVariant *list_jobs(ScandDaemonBus *bus) {
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE("a(sssuas)"));
  g_auto(GStrv) ids = scand_spool_list_jobs(bus->spool, NULL);
  for (guint i = 0; ids && ids[i]; i++) {
    g_autoptr(ScandJob) job = scand_job_peek(bus->spool, ids[i], NULL);
    if (!job)
      continue;
    GVariantBuilder dests;
    g_variant_builder_init(&dests, G_VARIANT_TYPE("as"));
    for (guint d = 0; d < scand_job_get_n_destinations(job); d++) {
      const char *err = scand_job_get_destination_error(job, d);
      g_autofree char *line = g_strdup_printf("%s:%s:%" G_GINT64_FORMAT ":%s", scand_job_get_destination_name(job, d),
                                              scand_dest_state_to_string(scand_job_get_destination_state(job, d)),
                                              scand_job_get_destination_attempts(job, d), err ? err : "");
      g_variant_builder_add(&dests, "s", line);
    }
    const char *device = scand_job_get_facts(job)->device;
    g_variant_builder_add(&b, "(sssuas)", ids[i], scand_job_stage_to_string(scand_job_get_stage(job)),
                          device ? device : "", scand_job_count_pages(job), &dests);
  }
  return g_variant_new("(a(sssuas))", &b);
}

/* The facts GetJob shows (unset ones are left out). */
static const char *const shown_facts[] = {
  "source-kind", "trigger",    "device",  "device-name", "profile",         "intake",
  "mail-from",   "mail-to",    "subject", "attachment",  "attachment-file", "client-ip",
  "auth-user",   "message-id", "created", "name",        "interrupted",
};

/* One job: its stage, pages and facts (a mail's sender, recipients and
 * subject among them). NULL when there is no such job. */
static GVariant *get_job(ScandDaemonBus *bus, const char *id, GError **error) {
  g_autoptr(ScandJob) job = scand_job_peek(bus->spool, id, error);
  if (!job)
    return NULL;
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE("a{ss}"));
  g_variant_builder_add(&b, "{ss}", "stage", scand_job_stage_to_string(scand_job_get_stage(job)));
  g_autofree char *pages = g_strdup_printf("%u", scand_job_count_pages(job));
  g_variant_builder_add(&b, "{ss}", "pages", pages);
  for (guint i = 0; i < G_N_ELEMENTS(shown_facts); i++) {
    const char *v = scand_job_get(job, shown_facts[i]);
    if (v && g_utf8_validate(v, -1, NULL))
      g_variant_builder_add(&b, "{ss}", shown_facts[i], v);
  }
  return g_variant_new("(a{ss})", &b);
}

/* CancelJob and RetryJob act only for the job's owner, root or scand's own
 * user (daemon-dbus-access.h); otherwise the caller gets the error. */
static gboolean may_manage(ScandDaemonBus *bus, GDBusMethodInvocation *invocation, const char *id) {
  g_autoptr(GError) error = NULL;
  guint32 uid = 0;
  if (scand_bus_caller_uid(invocation, &uid, &error) && scand_bus_may_manage_job(bus->spool, id, uid, &error))
    return TRUE;
  return_error(invocation, error);
  return FALSE;
}

/* A Scan whose device needs a discovery before it is known to be one. */
typedef struct {
  ScandDaemonBus *bus;
  GDBusMethodInvocation *invocation;
  DeviceCall *device;
  char *profile;
  char *owner;
} ScanCall;

static void scan_call_free(ScanCall *sc) {
  device_call_free(sc->device);
  g_free(sc->profile);
  g_free(sc->owner);
  g_free(sc);
}

static void scan_reply(ScandDaemonBus *bus, GDBusMethodInvocation *invocation, const char *device, const char *profile,
                       const char *owner) {
  g_autoptr(GError) error = NULL;
  g_autofree char *id = bus->service->start_scan(bus->service_data, device, profile, owner, &error);
  if (!id) {
    return_error(invocation, error);
    return;
  }
  g_autofree char *job_path = job_object_path(id);
  g_dbus_method_invocation_return_value(invocation, g_variant_new("(o)", job_path));
}

static void scan_resolve_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable) {
  ScanCall *sc = data;
  GError *error = NULL;
  char *found = scand_bus_device_resolve(sc->device->config, sc->device->device, TRUE, &error);
  if (found)
    g_task_return_pointer(task, found, g_free);
  else
    g_task_return_error(task, error);
}

static void scan_resolved(GObject *source, GAsyncResult *result, gpointer data) {
  ScanCall *sc = g_task_get_task_data(G_TASK(result));
  g_autoptr(GError) error = NULL;
  g_autofree char *device = g_task_propagate_pointer(G_TASK(result), &error);
  if (device)
    scan_reply(sc->bus, sc->invocation, device, sc->profile, sc->owner);
  else
    return_error(sc->invocation, error);
}

/* Scan: for the caller's user, on a configured or discovered device only. */
static void scan_start(ScandDaemonBus *bus, ScandConfig *config, GDBusMethodInvocation *invocation, const char *device,
                       const char *profile) {
  g_autoptr(GError) error = NULL;
  guint32 uid = 0;
  if (!scand_bus_caller_uid(invocation, &uid, &error)) {
    return_error(invocation, error);
    return;
  }
  g_autofree char *owner = g_strdup_printf("%u", uid);
  g_autofree char *found = scand_bus_device_resolve(config, device, FALSE, NULL);
  if (found) {
    scan_reply(bus, invocation, found, profile, owner);
    return;
  }
  ScanCall *sc = g_new0(ScanCall, 1);
  sc->bus = bus;
  sc->invocation = invocation;
  sc->device = device_call_new(config, device);
  sc->profile = g_strdup(profile);
  sc->owner = g_steal_pointer(&owner);
  g_autoptr(GTask) task = g_task_new(NULL, NULL, scan_resolved, NULL);
  g_task_set_task_data(task, sc, (GDestroyNotify) scan_call_free);
  g_task_run_in_thread(task, scan_resolve_thread);
}

/* GetPage: the path of one saved page of a job in the spool. */
static void get_page(ScandDaemonBus *bus, GVariant *parameters, GDBusMethodInvocation *invocation) {
  const char *id;
  guint page;
  g_variant_get(parameters, "(&su)", &id, &page);
  if (!*id || strchr(id, '/') || id[0] == '.') {
    g_dbus_method_invocation_return_dbus_error(invocation, "org.scand.Error", "not a job id");
    return;
  }
  g_autofree char *dir = g_build_filename(scand_spool_get_dir(bus->spool), id, NULL);
  g_autoptr(GPtrArray) pages = scand_page_list(dir, NULL);
  if (!pages || page == 0 || page > pages->len) {
    g_dbus_method_invocation_return_dbus_error(invocation, "org.scand.Error", "no such page");
    return;
  }
  g_dbus_method_invocation_return_value(invocation, g_variant_new("(s)", (const char *) pages->pdata[page - 1]));
}

static void on_method_call(GDBusConnection *connection, const char *sender, const char *path, const char *interface,
                           const char *method, GVariant *parameters, GDBusMethodInvocation *invocation,
                           gpointer user_data) {
  ScandDaemonBus *bus = user_data;
  g_autoptr(ScandConfig) config = bus_get_config(bus);
  g_autoptr(GError) error = NULL;
  if (strcmp(method, "ListDevices") == 0) {
    g_autoptr(GTask) task = g_task_new(NULL, NULL, reply_with_task_result, invocation);
    g_task_set_task_data(task, bus, NULL);
    g_task_run_in_thread(task, list_devices_thread);
  } else if (strcmp(method, "GetDeviceState") == 0) {
    const char *device;
    g_variant_get(parameters, "(&s)", &device);
    g_autoptr(GTask) task = g_task_new(NULL, NULL, reply_with_task_result, invocation);
    g_task_set_task_data(task, device_call_new(config, device), (GDestroyNotify) device_call_free);
    g_task_run_in_thread(task, device_state_thread);
  } else if (strcmp(method, "ListProfiles") == 0) {
    g_auto(GStrv) profiles = scand_config_list_sections(config, "profile");
    const char *const empty[] = { NULL };
    g_dbus_method_invocation_return_value(invocation,
                                          g_variant_new("(^as)", profiles ? (const char *const *) profiles : empty));
  } else if (strcmp(method, "Scan") == 0) {
    const char *device, *profile;
    g_variant_get(parameters, "(&s&s)", &device, &profile);
    scan_start(bus, config, invocation, device, profile);
  } else if (strcmp(method, "GetPage") == 0) {
    get_page(bus, parameters, invocation);
  } else if (strcmp(method, "ListPanels") == 0) {
    g_dbus_method_invocation_return_value(invocation,
                                          g_variant_new("(@a(sa(sx)s))", bus->service->list_panels(bus->service_data)));
  } else if (strcmp(method, "ListJobs") == 0) {
    g_dbus_method_invocation_return_value(invocation, list_jobs(bus));
  } else if (strcmp(method, "GetJob") == 0) {
    const char *id;
    g_variant_get(parameters, "(&s)", &id);
    GVariant *facts = get_job(bus, id, &error);
    if (facts)
      g_dbus_method_invocation_return_value(invocation, facts);
    else
      return_error(invocation, error);
  } else if (strcmp(method, "CancelJob") == 0) {
    const char *id;
    g_variant_get(parameters, "(&s)", &id);
    if (!may_manage(bus, invocation, id))
      return;
    if (!bus->service->cancel_job(bus->service_data, id, &error)) {
      return_error(invocation, error);
      return;
    }
    g_dbus_method_invocation_return_value(invocation, NULL);
  } else if (strcmp(method, "RetryJob") == 0) {
    const char *id;
    g_variant_get(parameters, "(&s)", &id);
    if (!may_manage(bus, invocation, id))
      return;
    bus->service->retry_job(bus->service_data, id);
    g_dbus_method_invocation_return_value(invocation, NULL);
  } else {
    g_dbus_method_invocation_return_error(invocation, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD, "no method %s",
                                          method);
  }
}

static const GDBusInterfaceVTable vtable = { .method_call = on_method_call };

static void on_bus_acquired(GDBusConnection *connection, const char *name, gpointer user_data) {
  ScandDaemonBus *bus = user_data;
  bus->connection = g_object_ref(connection);
  g_autoptr(GError) error = NULL;
  bus->object_id =
      g_dbus_connection_register_object(connection, OBJECT_PATH, bus->info->interfaces[0], &vtable, bus, NULL, &error);
  if (!bus->object_id)
    scand_log("D-Bus: %s", error->message);
}

static void on_name_lost(GDBusConnection *connection, const char *name, gpointer user_data) {
  ScandDaemonBus *bus = user_data;
  scand_log("D-Bus: cannot own %s (another scand daemon running, or no bus)", name);
  bus->service->name_lost(bus->service_data);
}

ScandDaemonBus *scand_daemon_bus_new(GBusType type, ScandSpool *spool, const ScandBusService *service,
                                     gpointer service_data) {
  /* Through scand_get_resource(): a static library drops unreferenced objects. */
  g_autoptr(GBytes) xml = g_resource_lookup_data(scand_get_resource(), "/org/scand/org.scand.Daemon1.xml", 0, NULL);
  g_return_val_if_fail(xml != NULL, NULL);
  ScandDaemonBus *bus = g_new0(ScandDaemonBus, 1);
  bus->service = service;
  bus->service_data = service_data;
  bus->spool = spool;
  g_autoptr(GError) error = NULL;
  bus->info = g_dbus_node_info_new_for_xml(g_bytes_get_data(xml, NULL), &error);
  g_assert_no_error(error);
  bus->owner_id =
      g_bus_own_name(type, BUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE, on_bus_acquired, NULL, on_name_lost, bus, NULL);
  return bus;
}

/* --- job events: from any thread, sent from the main loop --- */

typedef struct {
  ScandDaemonBus *bus;
  char *signal;
  GVariant *parameters;
} Emission;

static gboolean emit_in_main(gpointer data) {
  Emission *e = data;
  if (e->bus->connection)
    g_dbus_connection_emit_signal(e->bus->connection, NULL, OBJECT_PATH, INTERFACE, e->signal, e->parameters, NULL);
  g_variant_unref(e->parameters);
  g_free(e->signal);
  g_free(e);
  return G_SOURCE_REMOVE;
}

static void emit(ScandDaemonBus *bus, const char *signal, GVariant *parameters) {
  Emission *e = g_new0(Emission, 1);
  e->bus = bus;
  e->signal = g_strdup(signal);
  e->parameters = g_variant_ref_sink(parameters);
  g_main_context_invoke(NULL, emit_in_main, e);
}

void scand_daemon_bus_emit_progress(ScandDaemonBus *bus, const char *id, const char *stage, guint pages) {
  g_autofree char *path = job_object_path(id);
  emit(bus, "JobProgress", g_variant_new("(ossu)", path, id, stage, pages));
}

static GVariant *strv_variant(GPtrArray *a) {
  GVariantBuilder b;
  g_variant_builder_init(&b, G_VARIANT_TYPE("as"));
  for (guint i = 0; a && i < a->len; i++)
    g_variant_builder_add(&b, "s", (const char *) a->pdata[i]);
  return g_variant_builder_end(&b);
}

void scand_daemon_bus_emit_finished(ScandDaemonBus *bus, const char *id, const char *result, GPtrArray *delivered,
                                    GPtrArray *errors) {
  g_autofree char *path = job_object_path(id);
  emit(bus, "JobFinished",
       g_variant_new("(oss@as@as)", path, id, result, strv_variant(delivered), strv_variant(errors)));
}

void scand_daemon_bus_free(ScandDaemonBus *bus) {
  if (!bus)
    return;
  if (bus->object_id)
    g_dbus_connection_unregister_object(bus->connection, bus->object_id);
  if (bus->owner_id)
    g_bus_unown_name(bus->owner_id);
  if (bus->connection)
    g_dbus_connection_flush_sync(bus->connection, NULL, NULL);
  g_clear_object(&bus->connection);
  g_dbus_node_info_unref(bus->info);
  g_free(bus);
}
