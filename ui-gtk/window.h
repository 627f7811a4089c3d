/* scand-gtk's one window: scanner, preset buttons, progress, notification. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define SCAND_GTK_TYPE_WINDOW (scand_gtk_window_get_type())
G_DECLARE_FINAL_TYPE(ScandGtkWindow, scand_gtk_window, SCAND_GTK, WINDOW, GtkApplicationWindow)

ScandGtkWindow *scand_gtk_window_new(GtkApplication *app);

/* Scans with device and profile (NULL or "" for the defaults) as soon as the
 * scanner list has arrived; the desktop shortcut's --device/--profile. */
void scand_gtk_window_scan_when_ready(ScandGtkWindow *self, const char *device, const char *profile);

G_END_DECLS
