/* A client of scand's D-Bus API (org.scand.Daemon1 on the session bus): the
 * method calls as async/finish pairs, the job signals as GObject signals. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define SCAND_GTK_TYPE_CLIENT (scand_gtk_client_get_type())
G_DECLARE_FINAL_TYPE(ScandGtkClient, scand_gtk_client, SCAND_GTK, CLIENT, GObject)

/* One entry of ListDevices. scan_name is what Scan() takes: the [scanner]
 * name for configured scanners, the URI for discovered ones. */
typedef struct {
  char *uri;
  char *name;
  char *description;
  char *scan_name;
  gboolean configured;
} ScandGtkDevice;

void scand_gtk_device_free(ScandGtkDevice *device);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandGtkDevice, scand_gtk_device_free)

GPtrArray *scand_gtk_devices_from_variant(GVariant *reply);

void scand_gtk_client_new_async(GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
ScandGtkClient *scand_gtk_client_new_finish(GAsyncResult *result, GError **error);

void scand_gtk_client_list_devices_async(ScandGtkClient *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                                         gpointer user_data);
GPtrArray *scand_gtk_client_list_devices_finish(ScandGtkClient *self, GAsyncResult *result, GError **error);

void scand_gtk_client_list_profiles_async(ScandGtkClient *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                                          gpointer user_data);
char **scand_gtk_client_list_profiles_finish(ScandGtkClient *self, GAsyncResult *result, GError **error);

void scand_gtk_client_scan_async(ScandGtkClient *self, const char *device, const char *profile,
                                 GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
char *scand_gtk_client_scan_finish(ScandGtkClient *self, GAsyncResult *result, GError **error);

/* What a scanner is doing: *state is "ready", "paper-in-feeder", "busy",
 * "offline" or "problem", *detail the device's words (both newly allocated). */
void scand_gtk_client_get_device_state_async(ScandGtkClient *self, const char *device, GCancellable *cancellable,
                                             GAsyncReadyCallback callback, gpointer user_data);
gboolean scand_gtk_client_get_device_state_finish(ScandGtkClient *self, GAsyncResult *result, char **state,
                                                  char **detail, GError **error);

/* The walk-up destinations a scanner lists on its panel: "Finance, Anna"
 * for [scanner] section (newly allocated; NULL when it has none), from
 * ListPanels. An older daemon without ListPanels answers NULL too. */
void scand_gtk_client_list_panels_async(ScandGtkClient *self, GCancellable *cancellable, GAsyncReadyCallback callback,
                                        gpointer user_data);
GVariant *scand_gtk_client_list_panels_finish(ScandGtkClient *self, GAsyncResult *result, GError **error);
char *scand_gtk_panels_for(GVariant *panels, const char *section);

/* The file of a page of a job (for a thumbnail); newly allocated. */
void scand_gtk_client_get_page_async(ScandGtkClient *self, const char *id, guint page, GCancellable *cancellable,
                                     GAsyncReadyCallback callback, gpointer user_data);
char *scand_gtk_client_get_page_finish(ScandGtkClient *self, GAsyncResult *result, GError **error);

void scand_gtk_client_cancel_job_async(ScandGtkClient *self, const char *id, GCancellable *cancellable,
                                       GAsyncReadyCallback callback, gpointer user_data);
gboolean scand_gtk_client_cancel_job_finish(ScandGtkClient *self, GAsyncResult *result, GError **error);

G_END_DECLS
