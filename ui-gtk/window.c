/* scand-gtk's window. It is a pure client of the daemon: everything it shows
 * comes from ListDevices, ListProfiles and the JobProgress/JobFinished
 * signals of the job it started.
 *
 * Test hooks (environment, read once): SCAND_GTK_TEST_CLICK=PROFILE activates
 * that preset button ("scan" for the plain Scan button) once the lists are
 * in; SCAND_GTK_SCREENSHOT_DIR=DIR saves the window as idle.png,
 * scanning.png and done.png / queued.png / failed.png / partial.png;
 * SCAND_GTK_TEST_EXIT=1 quits after the first job's end is shown, with exit
 * status 0 for done/queued, 2 for failed/partial, 1 when the daemon could
 * not be used. What the notification says is logged with g_debug
 * (G_MESSAGES_DEBUG=scand-gtk). */
#include "window.h"

#include "daemon-client.h"

struct _ScandGtkWindow {
  GtkApplicationWindow parent_instance;

  GCancellable *cancellable;
  ScandGtkClient *client;
  GPtrArray *devices; /* ScandGtkDevice */
  char **profiles;
  gboolean devices_loaded, profiles_loaded, ready;

  GtkWidget *device_dropdown, *device_state, *panel_label;
  GtkWidget *presets, *scan_button;
  GtkWidget *progress_revealer, *progress_label, *progress_bar, *pages_box, *cancel_button;
  GtkWidget *banner_revealer, *banner, *banner_icon, *banner_title, *banner_detail, *open_button, *folder_button;

  /* The job this window started: path from Scan()'s reply, id from its first
   * signal (CancelJob takes the id). */
  gboolean scan_pending;
  char *job_path, *job_id;
  guint pages_shown;
  guint state_timer;
  gboolean scanning_shot_taken;
  char *delivered_uri;

  /* Signals held back while Scan()'s reply is on its way (they may belong to
   * our job) or while a screenshot waits for the next frame. */
  GQueue events;
  GPtrArray *after_paint; /* AfterPaint */
  gulong after_paint_handler;
  GdkFrameClock *clock;

  char *autoscan_device, *autoscan_profile;
  gboolean autoscan;
  char *test_click;
  char *screenshot_dir;
  gboolean test_exit;
};

G_DEFINE_FINAL_TYPE(ScandGtkWindow, scand_gtk_window, GTK_TYPE_APPLICATION_WINDOW)

typedef struct {
  gboolean finished;
  char *path, *id, *what; /* what: the stage or the result */
  guint pages;
  char **delivered, **errors;
} Event;

static void event_free(Event *e) {
  g_free(e->path);
  g_free(e->id);
  g_free(e->what);
  g_strfreev(e->delivered);
  g_strfreev(e->errors);
  g_free(e);
}

typedef void (*AfterPaintFunc)(ScandGtkWindow *self, const char *arg);
typedef struct {
  AfterPaintFunc func;
  char *arg;
} AfterPaint;

static void after_paint_free(AfterPaint *a) {
  g_free(a->arg);
  g_free(a);
}

static const char css[] = ".preset { min-width: 120px; min-height: 84px; }\n"
                          ".preset .preset-name { font-weight: bold; font-size: larger; }\n"
                          ".page-tile { background: white; color: #555; border: 1px solid alpha(black, 0.25);"
                          " border-radius: 3px; min-width: 54px; min-height: 72px; font-size: larger; }\n"
                          ".banner { padding: 12px; border-radius: 8px; background: alpha(#3584e4, 0.15); }\n"
                          ".banner.queued { background: alpha(#e5a50a, 0.22); }\n"
                          ".banner.error { background: alpha(#e01b24, 0.15); }\n";

static void process_events(ScandGtkWindow *self);

/* --- test hooks: screenshots and exit after the next frame --- */

/* Renders the window as the user sees it and saves it as PNG. */
static gboolean save_window_png(GtkWidget *widget, const char *path, GError **error) {
  int width = gtk_widget_get_width(widget), height = gtk_widget_get_height(widget);
  g_autoptr(GdkPaintable) paintable = gtk_widget_paintable_new(widget);
  GtkSnapshot *snapshot = gtk_snapshot_new();
  gdk_paintable_snapshot(paintable, snapshot, width, height);
  g_autoptr(GskRenderNode) node = gtk_snapshot_free_to_node(snapshot);
  GskRenderer *renderer = gtk_native_get_renderer(GTK_NATIVE(widget));
  if (!node || !renderer) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "nothing drawn yet");
    return FALSE;
  }
  g_autoptr(GdkTexture) texture = gsk_renderer_render_texture(renderer, node, &GRAPHENE_RECT_INIT(0, 0, width, height));
  if (!gdk_texture_save_to_png(texture, path)) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "cannot write %s", path);
    return FALSE;
  }
  return TRUE;
}

static void take_screenshot(ScandGtkWindow *self, const char *name) {
  g_autofree char *file = g_strdup_printf("%s.png", name);
  g_autofree char *path = g_build_filename(self->screenshot_dir, file, NULL);
  g_autoptr(GError) error = NULL;
  if (g_mkdir_with_parents(self->screenshot_dir, 0755) < 0 || !save_window_png(GTK_WIDGET(self), path, &error))
    g_warning("screenshot %s: %s", path, error ? error->message : g_strerror(errno));
  else
    g_debug("screenshot: %s", path);
}

static void on_after_paint(GdkFrameClock *clock, gpointer user_data) {
  ScandGtkWindow *self = user_data;
  g_clear_signal_handler(&self->after_paint_handler, self->clock);
  g_clear_object(&self->clock);
  g_autoptr(GPtrArray) pending = g_steal_pointer(&self->after_paint);
  self->after_paint = g_ptr_array_new_with_free_func((GDestroyNotify) after_paint_free);
  for (guint i = 0; i < pending->len; i++) {
    AfterPaint *a = pending->pdata[i];
    a->func(self, a->arg);
  }
  process_events(self);
}

static gboolean on_tick(GtkWidget *widget, GdkFrameClock *clock, gpointer user_data) {
  ScandGtkWindow *self = SCAND_GTK_WINDOW(widget);
  if (!self->after_paint_handler && self->after_paint->len) {
    self->clock = g_object_ref(clock);
    self->after_paint_handler = g_signal_connect(clock, "after-paint", G_CALLBACK(on_after_paint), self);
    gtk_widget_queue_draw(widget);
  }
  return G_SOURCE_REMOVE;
}

/* Runs func once the window has been laid out and painted with what it shows
 * now; signals wait until then so that a screenshot shows this state. */
static void run_after_paint(ScandGtkWindow *self, AfterPaintFunc func, const char *arg) {
  AfterPaint *a = g_new0(AfterPaint, 1);
  a->func = func;
  a->arg = g_strdup(arg);
  g_ptr_array_add(self->after_paint, a);
  if (self->after_paint->len == 1)
    gtk_widget_add_tick_callback(GTK_WIDGET(self), on_tick, NULL, NULL);
}

static void screenshot(ScandGtkWindow *self, const char *name) {
  if (self->screenshot_dir)
    run_after_paint(self, take_screenshot, name);
}

static void test_quit(ScandGtkWindow *self, const char *status) {
  GApplication *app = G_APPLICATION(gtk_window_get_application(GTK_WINDOW(self)));
  /* main() returns this; GtkApplication has no other way to pass it. */
  g_object_set_data(G_OBJECT(app), "scand-gtk-exit-status", GINT_TO_POINTER(atoi(status)));
  g_application_quit(app);
}

static void test_exit(ScandGtkWindow *self, int status) {
  if (!self->test_exit)
    return;
  g_autofree char *s = g_strdup_printf("%d", status);
  run_after_paint(self, test_quit, s);
}

/* --- the notification banner --- */

/* A delivered entry as a URI the desktop can open: a local path or a URI
 * ("smb://…"); NULL for things like "printer: office". */
static char *delivered_to_uri(const char *where) {
  if (g_path_is_absolute(where))
    return g_filename_to_uri(where, NULL, NULL);
  g_autofree char *scheme = g_uri_parse_scheme(where);
  return scheme ? g_strdup(where) : NULL;
}

typedef enum {
  BANNER_INFO,
  BANNER_QUEUED,
  BANNER_ERROR
} BannerKind;

static void show_banner(ScandGtkWindow *self, BannerKind kind, const char *title, const char *detail, const char *uri) {
  static const char *const icons[] = { "emblem-ok-symbolic", "folder-download-symbolic", "dialog-warning-symbolic" };
  gtk_widget_remove_css_class(self->banner, "queued");
  gtk_widget_remove_css_class(self->banner, "error");
  if (kind == BANNER_QUEUED)
    gtk_widget_add_css_class(self->banner, "queued");
  if (kind == BANNER_ERROR)
    gtk_widget_add_css_class(self->banner, "error");
  gtk_image_set_from_icon_name(GTK_IMAGE(self->banner_icon), icons[kind]);
  gtk_label_set_text(GTK_LABEL(self->banner_title), title);
  gtk_label_set_text(GTK_LABEL(self->banner_detail), detail ? detail : "");
  gtk_widget_set_visible(self->banner_detail, detail && *detail);
  g_free(self->delivered_uri);
  self->delivered_uri = g_strdup(uri);
  gtk_widget_set_visible(self->open_button, uri != NULL);
  gtk_widget_set_visible(self->folder_button, uri != NULL);
  gtk_revealer_set_reveal_child(GTK_REVEALER(self->banner_revealer), TRUE);
  /* Screen readers announce the new text through the label's role. */
  gtk_accessible_update_property(GTK_ACCESSIBLE(self->banner), GTK_ACCESSIBLE_PROPERTY_LABEL, title, -1);
  g_debug("shown: %s%s%s", title, detail && *detail ? " | " : "", detail ? detail : "");
}

static void on_banner_close(GtkButton *button, ScandGtkWindow *self) {
  gtk_revealer_set_reveal_child(GTK_REVEALER(self->banner_revealer), FALSE);
}

static void on_launched(GObject *source, GAsyncResult *result, gpointer user_data) {
  g_autoptr(GError) error = NULL;
  if (!g_app_info_launch_default_for_uri_finish(result, &error))
    g_debug("open: %s", error->message);
}

static void on_open(GtkButton *button, ScandGtkWindow *self) {
  if (self->delivered_uri)
    g_app_info_launch_default_for_uri_async(self->delivered_uri, NULL, NULL, on_launched, NULL);
}

static void open_parent_folder(const char *uri) {
  g_autoptr(GFile) file = g_file_new_for_uri(uri);
  g_autoptr(GFile) parent = g_file_get_parent(file);
  if (parent) {
    g_autofree char *parent_uri = g_file_get_uri(parent);
    g_app_info_launch_default_for_uri_async(parent_uri, NULL, NULL, on_launched, NULL);
  }
}

static void on_show_items_done(GObject *source, GAsyncResult *result, gpointer user_data) {
  g_autofree char *uri = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
  /* No file manager with the FileManager1 API: open the folder itself. */
  if (!reply)
    open_parent_folder(uri);
}

static void on_show_in_folder(GtkButton *button, ScandGtkWindow *self) {
  if (!self->delivered_uri)
    return;
  GApplication *app = G_APPLICATION(gtk_window_get_application(GTK_WINDOW(self)));
  GDBusConnection *bus = app ? g_application_get_dbus_connection(app) : NULL;
  if (!bus) {
    open_parent_folder(self->delivered_uri);
    return;
  }
  const char *uris[] = { self->delivered_uri, NULL };
  g_dbus_connection_call(bus, "org.freedesktop.FileManager1", "/org/freedesktop/FileManager1",
                         "org.freedesktop.FileManager1", "ShowItems", g_variant_new("(^ass)", uris, ""), NULL,
                         G_DBUS_CALL_FLAGS_NONE, -1, NULL, on_show_items_done, g_strdup(self->delivered_uri));
}

/* --- the job --- */

static ScandGtkDevice *selected_device(ScandGtkWindow *self) {
  guint i = gtk_drop_down_get_selected(GTK_DROP_DOWN(self->device_dropdown));
  return self->devices && i < self->devices->len ? self->devices->pdata[i] : NULL;
}

/* The device's own state, as the daemon reads it (GetDeviceState). */
static const struct {
  const char *state;
  const char *label;
} device_states[] = {
  { "ready", "Ready" },     { "paper-in-feeder", "Paper in feeder" }, { "busy", "Busy" },
  { "offline", "Offline" }, { "problem", "Needs attention" },
};

static void on_device_state(GObject *source, GAsyncResult *result, gpointer user_data) {
  g_autoptr(ScandGtkWindow) self = user_data;
  g_autofree char *state = NULL, *detail = NULL;
  g_autoptr(GError) error = NULL;
  if (!scand_gtk_client_get_device_state_finish(SCAND_GTK_CLIENT(source), result, &state, &detail, &error))
    return;
  if (self->scan_pending || self->job_path)
    return;
  for (guint i = 0; i < G_N_ELEMENTS(device_states); i++)
    if (g_strcmp0(state, device_states[i].state) == 0) {
      gtk_label_set_text(GTK_LABEL(self->device_state), device_states[i].label);
      gtk_widget_set_tooltip_text(self->device_state, *detail ? detail : NULL);
      g_debug("device state: %s (%s)", state, detail);
    }
}

/* The destinations the selected scanner lists on its own panel. */
static void on_panels(GObject *source, GAsyncResult *result, gpointer user_data) {
  g_autoptr(ScandGtkWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) panels = scand_gtk_client_list_panels_finish(SCAND_GTK_CLIENT(source), result, &error);
  ScandGtkDevice *device = self->ready ? selected_device(self) : NULL;
  g_autofree char *names =
      panels && device && device->configured ? scand_gtk_panels_for(panels, device->scan_name) : NULL;
  gtk_widget_set_visible(self->panel_label, names != NULL);
  if (!names)
    return;
  g_autofree char *text = g_strdup_printf("On the copier's panel: %s", names);
  gboolean changed = g_strcmp0(gtk_label_get_text(GTK_LABEL(self->panel_label)), text) != 0;
  gtk_label_set_text(GTK_LABEL(self->panel_label), text);
  if (changed) {
    g_debug("panel: %s", names);
    screenshot(self, "panel");
  }
}

/* Shows "Busy" for our own job at once, and otherwise asks the daemon. */
static void update_device_state(ScandGtkWindow *self) {
  gboolean busy = self->scan_pending || self->job_path;
  ScandGtkDevice *device = self->ready ? selected_device(self) : NULL;
  const char *state = !self->ready ? "Looking for scanners…" : busy ? "Busy" : device ? "Ready" : "No scanner found";
  gtk_label_set_text(GTK_LABEL(self->device_state), state);
  if (device && !busy && self->client)
    scand_gtk_client_get_device_state_async(self->client, device->uri, self->cancellable, on_device_state,
                                            g_object_ref(self));
  if (self->ready && self->client)
    scand_gtk_client_list_panels_async(self->client, self->cancellable, on_panels, g_object_ref(self));
}

static gboolean on_state_timer(gpointer data) {
  update_device_state(data);
  return G_SOURCE_CONTINUE;
}

static void set_busy(ScandGtkWindow *self, gboolean busy) {
  gtk_widget_set_sensitive(self->presets, !busy && self->ready);
  gtk_widget_set_sensitive(self->device_dropdown, !busy && self->ready);
  gtk_widget_set_sensitive(self->cancel_button, busy);
  gtk_revealer_set_reveal_child(GTK_REVEALER(self->progress_revealer), busy);
  update_device_state(self);
  /* Cancel had the focus; give it back to where the next scan starts. */
  if (!busy && self->scan_button && gtk_widget_has_focus(self->cancel_button))
    gtk_widget_grab_focus(self->scan_button);
}

/* A page's thumbnail, decoded off the main thread from the spool file the
 * daemon names (JPEG, PNG, PNM; a PDF page keeps its number). */
static void thumbnail_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable) {
  GError *error = NULL;
  GdkPixbuf *pixbuf = gdk_pixbuf_new_from_file_at_scale(data, 96, 128, TRUE, &error);
  if (pixbuf)
    g_task_return_pointer(task, pixbuf, g_object_unref);
  else
    g_task_return_error(task, error);
}

static void on_thumbnail(GObject *source, GAsyncResult *result, gpointer user_data) {
  g_autoptr(GtkWidget) tile = user_data;
  g_autoptr(GdkPixbuf) pixbuf = g_task_propagate_pointer(G_TASK(result), NULL);
  if (!pixbuf || !gtk_widget_get_parent(tile))
    return;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  g_autoptr(GdkTexture) texture = gdk_texture_new_for_pixbuf(pixbuf);
  G_GNUC_END_IGNORE_DEPRECATIONS
  GtkWidget *picture = gtk_picture_new_for_paintable(GDK_PAINTABLE(texture));
  gtk_picture_set_can_shrink(GTK_PICTURE(picture), TRUE);
  gtk_widget_set_size_request(picture, gdk_pixbuf_get_width(pixbuf), gdk_pixbuf_get_height(pixbuf));
  GtkWidget *label = gtk_widget_get_first_child(tile);
  if (label)
    gtk_box_remove(GTK_BOX(tile), label);
  gtk_box_append(GTK_BOX(tile), picture);
  g_debug("thumbnail: %s %dx%d", gtk_widget_get_name(tile), gdk_pixbuf_get_width(pixbuf),
          gdk_pixbuf_get_height(pixbuf));
}

static void on_page_path(GObject *source, GAsyncResult *result, gpointer user_data) {
  g_autoptr(GtkWidget) tile = user_data;
  g_autofree char *path = scand_gtk_client_get_page_finish(SCAND_GTK_CLIENT(source), result, NULL);
  if (!path || g_str_has_suffix(path, ".pdf"))
    return;
  g_autoptr(GTask) task = g_task_new(NULL, NULL, on_thumbnail, g_object_ref(tile));
  g_task_set_task_data(task, g_strdup(path), g_free);
  g_task_run_in_thread(task, thumbnail_thread);
}

static void add_page_tile(ScandGtkWindow *self, guint n) {
  /* A numbered sheet at once; the page's own thumbnail replaces the number
   * when the daemon has it (GetPage) and it decodes. */
  g_autofree char *text = g_strdup_printf("%u", n);
  g_autofree char *name = g_strdup_printf("Page %u", n);
  GtkWidget *tile = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
  gtk_widget_set_name(tile, name);
  gtk_box_append(GTK_BOX(tile), gtk_label_new(text));
  gtk_widget_add_css_class(tile, "page-tile");
  gtk_accessible_update_property(GTK_ACCESSIBLE(tile), GTK_ACCESSIBLE_PROPERTY_LABEL, name, -1);
  gtk_box_append(GTK_BOX(self->pages_box), tile);
  if (self->client && self->job_id)
    scand_gtk_client_get_page_async(self->client, self->job_id, n, self->cancellable, on_page_path, g_object_ref(tile));
}

static void job_progress(ScandGtkWindow *self, const char *stage, guint pages) {
  g_autofree char *text = NULL;
  if (g_str_equal(stage, "scanning"))
    text = g_strdup_printf("Scanning page %u…", pages + 1);
  else if (g_str_equal(stage, "page-saved"))
    text = g_strdup_printf("Scanned page %u", pages);
  else if (g_str_equal(stage, "assembling"))
    text = g_strdup_printf("Making the PDF (%u %s)…", pages, pages == 1 ? "page" : "pages");
  else if (g_str_equal(stage, "delivering"))
    text = g_strdup("Delivering…");
  else if (g_str_equal(stage, "queued"))
    text = g_strdup("Waiting for the destination…");
  else
    text = g_strdup(stage);
  gtk_label_set_text(GTK_LABEL(self->progress_label), text);
  gtk_progress_bar_pulse(GTK_PROGRESS_BAR(self->progress_bar));
  for (; g_str_equal(stage, "page-saved") && self->pages_shown < pages; self->pages_shown++)
    add_page_tile(self, self->pages_shown + 1);
  g_debug("progress: %s", text);
  if (g_str_equal(stage, "page-saved") && !self->scanning_shot_taken) {
    self->scanning_shot_taken = TRUE;
    screenshot(self, "scanning");
  }
}

/* What to tell the user about a job's end, in plain words (both strings
 * owned by the caller): the title says what happened, the detail where the
 * file is or what to do. */
static BannerKind describe_result(const char *result, const char *const *delivered, const char *const *errors,
                                  guint pages, char **title, char **detail) {
  guint n_delivered = delivered ? g_strv_length((char **) delivered) : 0;
  /* scand's messages start in lower case ("paper jam in …"); a notification
   * reads as a sentence. */
  g_autofree char *sentence = errors && errors[0] ? g_strdup(errors[0]) : NULL;
  if (sentence)
    sentence[0] = g_ascii_toupper(sentence[0]);
  const char *error = sentence;
  g_autofree char *where = n_delivered ? g_strjoinv("\n", (char **) delivered) : NULL;
  if (g_str_equal(result, "done")) {
    if (!n_delivered) {
      *title = g_strdup("Scan done");
      *detail = NULL;
    } else if (g_path_is_absolute(delivered[0])) {
      g_autofree char *name = g_path_get_basename(delivered[0]);
      g_autofree char *dir = g_path_get_dirname(delivered[0]);
      *title = g_strdup_printf("Saved as %s", name);
      *detail = g_strdup_printf("In %s%s%s", dir, n_delivered > 1 ? "\nAlso delivered to:\n" : "",
                                n_delivered > 1 ? strchr(where, '\n') + 1 : "");
    } else {
      *title = g_strdup("Scan delivered");
      *detail = g_strdup_printf("To %s", where);
    }
    return BANNER_INFO;
  }
  if (g_str_equal(result, "queued")) {
    *title = g_strdup("Queued — will deliver when the share is back");
    *detail =
        g_strdup_printf("%s%sThe scan is kept and goes out by itself; you can go on scanning.%s%s", error ? error : "",
                        error ? "\n" : "", n_delivered ? "\nAlready delivered to:\n" : "", where ? where : "");
    return BANNER_QUEUED;
  }
  if (g_str_equal(result, "partial")) {
    *title = g_strdup_printf("Only %u %s scanned", pages, pages == 1 ? "page was" : "pages were");
    *detail = g_strdup_printf("%s%s%s%s", error ? error : "The scan was interrupted.",
                              "\nThe pages before the problem were delivered. Check the scanner, then scan the "
                              "remaining pages again.",
                              n_delivered ? "\nDelivered to:\n" : "", where ? where : "");
    return BANNER_ERROR;
  }
  *title = g_strdup("The scan failed");
  /* scand's messages say "what happened — what to do"; others get advice. */
  *detail = g_strdup_printf("%s%s", error ? error : "The scan service gave no reason.",
                            error && strstr(error, "—") ? ""
                                                        : "\nCheck that the scanner is on, has paper and is not "
                                                          "jammed, and that the destination is reachable, then try "
                                                          "again.");
  return BANNER_ERROR;
}

static void job_finished(ScandGtkWindow *self, const char *result, char **delivered, char **errors) {
  g_autofree char *title = NULL, *detail = NULL;
  BannerKind kind = describe_result(result, (const char *const *) delivered, (const char *const *) errors,
                                    self->pages_shown, &title, &detail);
  g_autofree char *uri =
      g_str_equal(result, "done") && delivered && delivered[0] ? delivered_to_uri(delivered[0]) : NULL;
  g_clear_pointer(&self->job_path, g_free);
  g_clear_pointer(&self->job_id, g_free);
  gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(self->progress_bar), 1.0);
  set_busy(self, FALSE);
  show_banner(self, kind, title, detail, uri);
  g_debug("finished: %s", result);
  for (guint i = 0; delivered && delivered[i]; i++)
    g_debug("delivered: %s", delivered[i]);
  gboolean ok = g_str_equal(result, "done") || g_str_equal(result, "queued");
  const char *shot = g_str_equal(result, "done") || g_str_equal(result, "queued") || g_str_equal(result, "partial")
                         ? result
                         : "failed";
  screenshot(self, shot);
  test_exit(self, ok ? 0 : 2);
}

/* Applies the held-back signals of our job, in order, unless a scan reply or
 * a screenshot is still pending. */
static void process_events(ScandGtkWindow *self) {
  Event *e;
  while (!self->scan_pending && !self->after_paint->len && (e = g_queue_pop_head(&self->events))) {
    if (self->job_path && g_str_equal(e->path, self->job_path)) {
      if (!self->job_id)
        self->job_id = g_strdup(e->id);
      if (e->finished)
        job_finished(self, e->what, e->delivered, e->errors);
      else
        job_progress(self, e->what, e->pages);
    }
    event_free(e);
  }
}

static void on_job_progress(ScandGtkClient *client, const char *path, const char *id, const char *stage, guint pages,
                            ScandGtkWindow *self) {
  if (!self->scan_pending && !self->job_path)
    return;
  Event *e = g_new0(Event, 1);
  e->path = g_strdup(path);
  e->id = g_strdup(id);
  e->what = g_strdup(stage);
  e->pages = pages;
  g_queue_push_tail(&self->events, e);
  process_events(self);
}

static void on_job_finished(ScandGtkClient *client, const char *path, const char *id, const char *result,
                            char **delivered, char **errors, ScandGtkWindow *self) {
  if (!self->scan_pending && !self->job_path)
    return;
  Event *e = g_new0(Event, 1);
  e->finished = TRUE;
  e->path = g_strdup(path);
  e->id = g_strdup(id);
  e->what = g_strdup(result);
  e->delivered = g_strdupv(delivered);
  e->errors = g_strdupv(errors);
  g_queue_push_tail(&self->events, e);
  process_events(self);
}

static void on_scan_started(GObject *source, GAsyncResult *result, gpointer user_data) {
  g_autoptr(ScandGtkWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = scand_gtk_client_scan_finish(SCAND_GTK_CLIENT(source), result, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self->scan_pending = FALSE;
  if (!path) {
    g_queue_clear_full(&self->events, (GDestroyNotify) event_free);
    set_busy(self, FALSE);
    g_autofree char *detail =
        g_strdup_printf("%s\nCheck that the scanner is on and connected, then try again.", error->message);
    show_banner(self, BANNER_ERROR, "The scan could not start", detail, NULL);
    screenshot(self, "failed");
    test_exit(self, 2);
    return;
  }
  g_debug("job: %s", path);
  self->job_path = g_steal_pointer(&path);
  process_events(self);
}

static void start_scan(ScandGtkWindow *self, const char *device, const char *profile) {
  if (!self->client || self->scan_pending || self->job_path)
    return;
  gtk_revealer_set_reveal_child(GTK_REVEALER(self->banner_revealer), FALSE);
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child(self->pages_box)))
    gtk_box_remove(GTK_BOX(self->pages_box), child);
  self->pages_shown = 0;
  self->scanning_shot_taken = FALSE;
  gtk_progress_bar_set_fraction(GTK_PROGRESS_BAR(self->progress_bar), 0.0);
  gtk_label_set_text(GTK_LABEL(self->progress_label), "Starting the scanner…");
  self->scan_pending = TRUE;
  set_busy(self, TRUE);
  gtk_widget_grab_focus(self->cancel_button);
  g_debug("scan: device '%s' profile '%s'", device ? device : "", profile ? profile : "");
  scand_gtk_client_scan_async(self->client, device, profile, self->cancellable, on_scan_started, g_object_ref(self));
}

static void on_preset_clicked(GtkButton *button, ScandGtkWindow *self) {
  ScandGtkDevice *device = selected_device(self);
  start_scan(self, device ? device->scan_name : "", g_object_get_data(G_OBJECT(button), "profile"));
}

static void on_cancel_done(GObject *source, GAsyncResult *result, gpointer user_data) {
  g_autoptr(ScandGtkWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  if (!scand_gtk_client_cancel_job_finish(SCAND_GTK_CLIENT(source), result, &error) &&
      !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    show_banner(self, BANNER_ERROR, "Could not cancel the scan", error->message, NULL);
}

static void on_cancel(GtkButton *button, ScandGtkWindow *self) {
  if (!self->job_id) {
    gtk_label_set_text(GTK_LABEL(self->progress_label), "Cannot cancel yet: the scan has not started");
    return;
  }
  gtk_label_set_text(GTK_LABEL(self->progress_label), "Cancelling…");
  scand_gtk_client_cancel_job_async(self->client, self->job_id, self->cancellable, on_cancel_done, g_object_ref(self));
}

/* --- loading the scanners and profiles --- */

static GtkWidget *preset_button(const char *profile, const char *title, const char *icon) {
  GtkWidget *button = gtk_button_new();
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *image = gtk_image_new_from_icon_name(icon);
  gtk_image_set_icon_size(GTK_IMAGE(image), GTK_ICON_SIZE_LARGE);
  GtkWidget *label = gtk_label_new_with_mnemonic(title);
  gtk_label_set_mnemonic_widget(GTK_LABEL(label), button);
  gtk_widget_add_css_class(label, "preset-name");
  gtk_box_append(GTK_BOX(box), image);
  gtk_box_append(GTK_BOX(box), label);
  gtk_widget_set_valign(box, GTK_ALIGN_CENTER);
  gtk_button_set_child(GTK_BUTTON(button), box);
  gtk_widget_add_css_class(button, "preset");
  g_object_set_data_full(G_OBJECT(button), "profile", g_strdup(profile), g_free);
  g_autofree char *a11y = *profile ? g_strdup_printf("Scan with the %s profile", profile)
                                   : g_strdup("Scan with the scanner's default profile");
  gtk_accessible_update_property(GTK_ACCESSIBLE(button), GTK_ACCESSIBLE_PROPERTY_LABEL, a11y, -1);
  gtk_widget_set_tooltip_text(button, a11y);
  return button;
}

static const char *profile_icon(const char *profile) {
  if (g_strrstr(profile, "photo") || g_strrstr(profile, "picture"))
    return "image-x-generic-symbolic";
  if (g_strrstr(profile, "receipt") || g_strrstr(profile, "card"))
    return "text-x-generic-symbolic";
  return "x-office-document-symbolic";
}

static void autostart(ScandGtkWindow *self, const char *unused) {
  if (self->test_click) {
    for (GtkWidget *b = gtk_widget_get_first_child(self->presets); b; b = gtk_widget_get_next_sibling(b)) {
      const char *profile = g_object_get_data(G_OBJECT(b), "profile");
      if (g_str_equal(profile, self->test_click) || (!*profile && g_str_equal(self->test_click, "scan"))) {
        g_debug("test: activating the %s button", self->test_click);
        gtk_widget_activate(b);
      }
    }
    g_clear_pointer(&self->test_click, g_free);
  }
  if (self->autoscan) {
    self->autoscan = FALSE;
    /* --device may name a listed scanner; select it so the window says so. */
    for (guint i = 0; self->autoscan_device && self->devices && i < self->devices->len; i++) {
      ScandGtkDevice *d = self->devices->pdata[i];
      if (g_str_equal(d->scan_name, self->autoscan_device) || g_str_equal(d->uri, self->autoscan_device))
        gtk_drop_down_set_selected(GTK_DROP_DOWN(self->device_dropdown), i);
    }
    ScandGtkDevice *device = selected_device(self);
    start_scan(self,
               self->autoscan_device ? self->autoscan_device
               : device              ? device->scan_name
                                     : "",
               self->autoscan_profile);
  }
}

static void became_ready(ScandGtkWindow *self) {
  GtkWidget *child;
  while ((child = gtk_widget_get_first_child(self->presets)))
    gtk_box_remove(GTK_BOX(self->presets), child);
  self->scan_button = preset_button("", "_Scan", "scanner-symbolic");
  gtk_widget_add_css_class(self->scan_button, "suggested-action");
  g_signal_connect(self->scan_button, "clicked", G_CALLBACK(on_preset_clicked), self);
  gtk_box_append(GTK_BOX(self->presets), self->scan_button);
  for (guint i = 0; self->profiles && self->profiles[i]; i++) {
    GtkWidget *b = preset_button(self->profiles[i], self->profiles[i], profile_icon(self->profiles[i]));
    g_signal_connect(b, "clicked", G_CALLBACK(on_preset_clicked), self);
    gtk_box_append(GTK_BOX(self->presets), b);
  }
  gtk_window_set_default_widget(GTK_WINDOW(self), self->scan_button);

  GtkStringList *names = gtk_string_list_new(NULL);
  for (guint i = 0; i < self->devices->len; i++) {
    ScandGtkDevice *d = self->devices->pdata[i];
    g_autofree char *text = *d->description ? g_strdup_printf("%s — %s", d->name, d->description) : g_strdup(d->name);
    gtk_string_list_append(names, text);
  }
  gtk_drop_down_set_model(GTK_DROP_DOWN(self->device_dropdown), G_LIST_MODEL(names));
  g_object_unref(names);

  self->ready = TRUE;
  set_busy(self, FALSE);
  /* Paper placed in the feeder or a scanner switched off shows within seconds. */
  if (!self->state_timer)
    self->state_timer = g_timeout_add_seconds(5, on_state_timer, self);
  gtk_widget_grab_focus(self->scan_button);
  g_debug("ready: %u scanners, %u profiles", self->devices->len, self->profiles ? g_strv_length(self->profiles) : 0);
  screenshot(self, "idle");
  if (self->test_click || self->autoscan)
    run_after_paint(self, autostart, NULL);
}

static void unreachable(ScandGtkWindow *self, const GError *error) {
  g_autofree char *detail =
      g_strdup_printf("%s\nRun `scand config check` to see whether the configuration is at fault, or "
                      "start the service by hand with `scand daemon`.",
                      error->message);
  show_banner(self, BANNER_ERROR, "Cannot reach the scan service", detail, NULL);
  gtk_label_set_text(GTK_LABEL(self->device_state), "Scan service not running");
  test_exit(self, 1);
}

static void on_devices(GObject *source, GAsyncResult *result, gpointer user_data) {
  g_autoptr(ScandGtkWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  GPtrArray *devices = scand_gtk_client_list_devices_finish(SCAND_GTK_CLIENT(source), result, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (!devices) {
    unreachable(self, error);
    return;
  }
  self->devices = devices;
  self->devices_loaded = TRUE;
  if (self->profiles_loaded)
    became_ready(self);
}

static void on_profiles(GObject *source, GAsyncResult *result, gpointer user_data) {
  g_autoptr(ScandGtkWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  char **profiles = scand_gtk_client_list_profiles_finish(SCAND_GTK_CLIENT(source), result, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (!profiles) {
    unreachable(self, error);
    return;
  }
  self->profiles = profiles;
  self->profiles_loaded = TRUE;
  if (self->devices_loaded)
    became_ready(self);
}

static void on_client(GObject *source, GAsyncResult *result, gpointer user_data) {
  g_autoptr(ScandGtkWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  ScandGtkClient *client = scand_gtk_client_new_finish(result, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  if (!client) {
    unreachable(self, error);
    return;
  }
  self->client = client;
  g_signal_connect(client, "job-progress", G_CALLBACK(on_job_progress), self);
  g_signal_connect(client, "job-finished", G_CALLBACK(on_job_finished), self);
  scand_gtk_client_list_profiles_async(client, self->cancellable, on_profiles, g_object_ref(self));
  scand_gtk_client_list_devices_async(client, self->cancellable, on_devices, g_object_ref(self));
}

/* --- the widgets --- */

static gboolean on_escape(GtkWidget *widget, GVariant *args, gpointer user_data) {
  ScandGtkWindow *self = SCAND_GTK_WINDOW(widget);
  if (!self->job_path)
    return FALSE;
  gtk_widget_activate(self->cancel_button);
  return TRUE;
}

static GtkWidget *heading(const char *text) {
  GtkWidget *label = gtk_label_new_with_mnemonic(text);
  gtk_widget_add_css_class(label, "heading");
  gtk_label_set_xalign(GTK_LABEL(label), 0);
  return label;
}

/* The notification banner: it sits on top, where the eye goes after a scan. */
static GtkWidget *build_banner(ScandGtkWindow *self) {
  self->banner_revealer = gtk_revealer_new();
  self->banner = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_add_css_class(self->banner, "banner");
  gtk_accessible_update_property(GTK_ACCESSIBLE(self->banner), GTK_ACCESSIBLE_PROPERTY_LABEL, "Notification", -1);
  self->banner_icon = gtk_image_new_from_icon_name("emblem-ok-symbolic");
  gtk_widget_set_valign(self->banner_icon, GTK_ALIGN_START);
  GtkWidget *texts = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
  gtk_widget_set_hexpand(texts, TRUE);
  self->banner_title = gtk_label_new("");
  gtk_widget_add_css_class(self->banner_title, "heading");
  self->banner_detail = gtk_label_new("");
  for (GtkWidget *l = self->banner_title; l; l = l == self->banner_title ? self->banner_detail : NULL) {
    gtk_label_set_xalign(GTK_LABEL(l), 0);
    gtk_label_set_wrap(GTK_LABEL(l), TRUE);
    gtk_label_set_wrap_mode(GTK_LABEL(l), PANGO_WRAP_WORD_CHAR);
    gtk_label_set_selectable(GTK_LABEL(l), TRUE);
    gtk_box_append(GTK_BOX(texts), l);
  }
  self->open_button = gtk_button_new_with_mnemonic("_Open");
  gtk_accessible_update_property(GTK_ACCESSIBLE(self->open_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                 "Open the scanned file", -1);
  g_signal_connect(self->open_button, "clicked", G_CALLBACK(on_open), self);
  self->folder_button = gtk_button_new_with_mnemonic("Show in _Folder");
  gtk_accessible_update_property(GTK_ACCESSIBLE(self->folder_button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                 "Show the scanned file in its folder", -1);
  g_signal_connect(self->folder_button, "clicked", G_CALLBACK(on_show_in_folder), self);
  GtkWidget *close = gtk_button_new_from_icon_name("window-close-symbolic");
  gtk_widget_add_css_class(close, "flat");
  gtk_widget_set_tooltip_text(close, "Dismiss");
  gtk_accessible_update_property(GTK_ACCESSIBLE(close), GTK_ACCESSIBLE_PROPERTY_LABEL, "Dismiss the notification", -1);
  g_signal_connect(close, "clicked", G_CALLBACK(on_banner_close), self);
  GtkWidget *actions = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_widget_set_valign(actions, GTK_ALIGN_START);
  gtk_box_append(GTK_BOX(actions), self->open_button);
  gtk_box_append(GTK_BOX(actions), self->folder_button);
  gtk_box_append(GTK_BOX(actions), close);
  gtk_box_append(GTK_BOX(self->banner), self->banner_icon);
  gtk_box_append(GTK_BOX(self->banner), texts);
  gtk_box_append(GTK_BOX(self->banner), actions);
  gtk_revealer_set_child(GTK_REVEALER(self->banner_revealer), self->banner);
  return self->banner_revealer;
}

/* The scanner chooser with its state and walk-up destinations. */
static GtkWidget *build_scanner(ScandGtkWindow *self) {
  GtkWidget *scanner = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *scanner_label = heading("Sc_anner");
  self->device_dropdown = gtk_drop_down_new(NULL, NULL);
  gtk_widget_set_hexpand(self->device_dropdown, TRUE);
  gtk_label_set_mnemonic_widget(GTK_LABEL(scanner_label), self->device_dropdown);
  gtk_accessible_update_property(GTK_ACCESSIBLE(self->device_dropdown), GTK_ACCESSIBLE_PROPERTY_LABEL, "Scanner", -1);
  g_signal_connect_swapped(self->device_dropdown, "notify::selected", G_CALLBACK(update_device_state), self);
  self->device_state = gtk_label_new("Looking for scanners…");
  gtk_widget_add_css_class(self->device_state, "dim-label");
  gtk_accessible_update_property(GTK_ACCESSIBLE(self->device_state), GTK_ACCESSIBLE_PROPERTY_LABEL, "Scanner state",
                                 -1);
  GtkWidget *row = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_box_append(GTK_BOX(row), self->device_dropdown);
  gtk_box_append(GTK_BOX(row), self->device_state);
  self->panel_label = gtk_label_new("");
  gtk_label_set_xalign(GTK_LABEL(self->panel_label), 0);
  gtk_widget_add_css_class(self->panel_label, "dim-label");
  gtk_widget_set_visible(self->panel_label, FALSE);
  gtk_box_append(GTK_BOX(scanner), scanner_label);
  gtk_box_append(GTK_BOX(scanner), row);
  gtk_box_append(GTK_BOX(scanner), self->panel_label);
  return scanner;
}

/* The presets: one tap each. */
static GtkWidget *build_presets(ScandGtkWindow *self) {
  GtkWidget *presets = gtk_box_new(GTK_ORIENTATION_VERTICAL, 6);
  gtk_box_append(GTK_BOX(presets), heading("Scan to PDF"));
  self->presets = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_widget_set_sensitive(self->presets, FALSE);
  GtkWidget *presets_scroll = gtk_scrolled_window_new();
  gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(presets_scroll), GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(presets_scroll), self->presets);
  gtk_box_append(GTK_BOX(presets), presets_scroll);
  return presets;
}

/* Progress: what the daemon is doing, a sheet per page, Cancel. */
static GtkWidget *build_progress(ScandGtkWindow *self) {
  self->progress_revealer = gtk_revealer_new();
  GtkWidget *progress = gtk_box_new(GTK_ORIENTATION_VERTICAL, 12);
  self->progress_label = gtk_label_new("");
  gtk_label_set_xalign(GTK_LABEL(self->progress_label), 0);
  gtk_widget_add_css_class(self->progress_label, "title-4");
  self->progress_bar = gtk_progress_bar_new();
  gtk_accessible_update_property(GTK_ACCESSIBLE(self->progress_bar), GTK_ACCESSIBLE_PROPERTY_LABEL, "Scan progress",
                                 -1);
  self->pages_box = gtk_box_new(GTK_ORIENTATION_HORIZONTAL, 12);
  gtk_accessible_update_property(GTK_ACCESSIBLE(self->pages_box), GTK_ACCESSIBLE_PROPERTY_LABEL, "Scanned pages", -1);
  GtkWidget *pages_scroll = gtk_scrolled_window_new();
  gtk_scrolled_window_set_policy(GTK_SCROLLED_WINDOW(pages_scroll), GTK_POLICY_AUTOMATIC, GTK_POLICY_NEVER);
  gtk_scrolled_window_set_child(GTK_SCROLLED_WINDOW(pages_scroll), self->pages_box);
  gtk_widget_set_size_request(pages_scroll, -1, 84);
  self->cancel_button = gtk_button_new_with_mnemonic("_Cancel");
  gtk_widget_add_css_class(self->cancel_button, "destructive-action");
  gtk_widget_set_halign(self->cancel_button, GTK_ALIGN_END);
  gtk_accessible_update_property(GTK_ACCESSIBLE(self->cancel_button), GTK_ACCESSIBLE_PROPERTY_LABEL, "Cancel the scan",
                                 -1);
  g_signal_connect(self->cancel_button, "clicked", G_CALLBACK(on_cancel), self);
  gtk_box_append(GTK_BOX(progress), self->progress_label);
  gtk_box_append(GTK_BOX(progress), self->progress_bar);
  gtk_box_append(GTK_BOX(progress), pages_scroll);
  gtk_box_append(GTK_BOX(progress), self->cancel_button);
  gtk_revealer_set_child(GTK_REVEALER(self->progress_revealer), progress);
  return self->progress_revealer;
}

static void build_ui(ScandGtkWindow *self) {
  gtk_window_set_title(GTK_WINDOW(self), "Scan");
  gtk_window_set_default_size(GTK_WINDOW(self), 640, 520);
  gtk_window_set_icon_name(GTK_WINDOW(self), "org.scand.ScanButton");
  GtkWidget *header = gtk_header_bar_new();
  gtk_window_set_titlebar(GTK_WINDOW(self), header);

  /* GNOME HIG: 18 px around the content, 18 between groups, 6–12 inside. */
  GtkWidget *page = gtk_box_new(GTK_ORIENTATION_VERTICAL, 18);
  gtk_widget_set_margin_top(page, 18);
  gtk_widget_set_margin_bottom(page, 18);
  gtk_widget_set_margin_start(page, 18);
  gtk_widget_set_margin_end(page, 18);

  gtk_box_append(GTK_BOX(page), build_banner(self));
  gtk_box_append(GTK_BOX(page), build_scanner(self));
  gtk_box_append(GTK_BOX(page), build_presets(self));
  gtk_box_append(GTK_BOX(page), build_progress(self));

  gtk_window_set_child(GTK_WINDOW(self), page);

  /* Escape cancels a running scan. */
  GtkEventController *keys = gtk_shortcut_controller_new();
  gtk_shortcut_controller_add_shortcut(
      GTK_SHORTCUT_CONTROLLER(keys),
      gtk_shortcut_new(gtk_keyval_trigger_new(GDK_KEY_Escape, 0), gtk_callback_action_new(on_escape, NULL, NULL)));
  gtk_widget_add_controller(GTK_WIDGET(self), keys);

  g_autoptr(GtkCssProvider) provider = gtk_css_provider_new();
  gtk_css_provider_load_from_data(provider, css, -1);
  gtk_style_context_add_provider_for_display(gtk_widget_get_display(GTK_WIDGET(self)), GTK_STYLE_PROVIDER(provider),
                                             GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
}

static void scand_gtk_window_dispose(GObject *object) {
  ScandGtkWindow *self = SCAND_GTK_WINDOW(object);
  g_cancellable_cancel(self->cancellable);
  g_clear_handle_id(&self->state_timer, g_source_remove);
  if (self->client)
    g_signal_handlers_disconnect_by_data(self->client, self);
  g_clear_object(&self->client);
  g_clear_signal_handler(&self->after_paint_handler, self->clock);
  g_clear_object(&self->clock);
  G_OBJECT_CLASS(scand_gtk_window_parent_class)->dispose(object);
}

static void scand_gtk_window_finalize(GObject *object) {
  ScandGtkWindow *self = SCAND_GTK_WINDOW(object);
  g_clear_object(&self->cancellable);
  g_clear_pointer(&self->devices, g_ptr_array_unref);
  g_strfreev(self->profiles);
  g_free(self->job_path);
  g_free(self->job_id);
  g_free(self->delivered_uri);
  g_queue_clear_full(&self->events, (GDestroyNotify) event_free);
  g_ptr_array_unref(self->after_paint);
  g_free(self->autoscan_device);
  g_free(self->autoscan_profile);
  g_free(self->test_click);
  g_free(self->screenshot_dir);
  G_OBJECT_CLASS(scand_gtk_window_parent_class)->finalize(object);
}

static void scand_gtk_window_class_init(ScandGtkWindowClass *klass) {
  G_OBJECT_CLASS(klass)->dispose = scand_gtk_window_dispose;
  G_OBJECT_CLASS(klass)->finalize = scand_gtk_window_finalize;
}

static const char *nonempty_env(const char *name) {
  const char *value = g_getenv(name);
  return value && *value ? value : NULL;
}

static void scand_gtk_window_init(ScandGtkWindow *self) {
  self->cancellable = g_cancellable_new();
  g_queue_init(&self->events);
  self->after_paint = g_ptr_array_new_with_free_func((GDestroyNotify) after_paint_free);
  self->test_click = g_strdup(nonempty_env("SCAND_GTK_TEST_CLICK"));
  self->screenshot_dir = g_strdup(nonempty_env("SCAND_GTK_SCREENSHOT_DIR"));
  self->test_exit = nonempty_env("SCAND_GTK_TEST_EXIT") != NULL;
  /* A screenshot taken mid-animation would show a half-open revealer. */
  if (self->screenshot_dir)
    g_object_set(gtk_settings_get_default(), "gtk-enable-animations", FALSE, NULL);
  build_ui(self);
  scand_gtk_client_new_async(self->cancellable, on_client, g_object_ref(self));
}

/* Returns a new window (owned by the application once shown). */
ScandGtkWindow *scand_gtk_window_new(GtkApplication *app) {
  return g_object_new(SCAND_GTK_TYPE_WINDOW, "application", app, NULL);
}

void scand_gtk_window_scan_when_ready(ScandGtkWindow *self, const char *device, const char *profile) {
  g_free(self->autoscan_device);
  g_free(self->autoscan_profile);
  self->autoscan_device = g_strdup(device && *device ? device : NULL);
  self->autoscan_profile = g_strdup(profile ? profile : "");
  self->autoscan = TRUE;
  if (self->ready)
    run_after_paint(self, autostart, NULL);
}
