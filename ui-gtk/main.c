/* scand-gtk: the desktop scan button. One window; `--device DEV --profile P`
 * or `--now` scans at once (desktop shortcuts). A second start hands its options to
 * the running instance (GApplication uniqueness). */
#include "window.h"

static ScandGtkWindow *get_window(GtkApplication *app) {
  GtkWindow *window = gtk_application_get_active_window(app);
  if (!window)
    window = GTK_WINDOW(scand_gtk_window_new(app));
  return SCAND_GTK_WINDOW(window);
}

static void on_activate(GApplication *app, gpointer user_data) {
  gtk_window_present(GTK_WINDOW(get_window(GTK_APPLICATION(app))));
}

static int on_command_line(GApplication *app, GApplicationCommandLine *command_line, gpointer user_data) {
  GVariantDict *options = g_application_command_line_get_options_dict(command_line);
  const char *device = NULL, *profile = NULL;
  gboolean now = FALSE;
  g_variant_dict_lookup(options, "device", "&s", &device);
  g_variant_dict_lookup(options, "profile", "&s", &profile);
  g_variant_dict_lookup(options, "now", "b", &now);
  ScandGtkWindow *window = get_window(GTK_APPLICATION(app));
  gtk_window_present(GTK_WINDOW(window));
  if (device || profile || now)
    scand_gtk_window_scan_when_ready(window, device, profile);
  return 0;
}

int main(int argc, char **argv) {
  static const GOptionEntry entries[] = {
    { "device", 'd', 0, G_OPTION_ARG_STRING, NULL, "Scan at once with this scanner ([scanner] name or URI)", "DEV" },
    { "profile", 'p', 0, G_OPTION_ARG_STRING, NULL, "Scan at once with this profile", "PROFILE" },
    { "now", 'n', 0, G_OPTION_ARG_NONE, NULL, "Scan at once with the default scanner and profile", NULL },
    { NULL },
  };
  g_autoptr(GtkApplication) app = gtk_application_new("org.scand.ScanButton", G_APPLICATION_HANDLES_COMMAND_LINE);
  g_application_add_main_option_entries(G_APPLICATION(app), entries);
  g_application_set_option_context_summary(G_APPLICATION(app), "Scan a document with scand, in one click.");
  g_signal_connect(app, "activate", G_CALLBACK(on_activate), NULL);
  g_signal_connect(app, "command-line", G_CALLBACK(on_command_line), NULL);
  int status = g_application_run(G_APPLICATION(app), argc, argv);
  /* Set by the window in test mode (SCAND_GTK_TEST_EXIT). */
  gpointer test_status = g_object_get_data(G_OBJECT(app), "scand-gtk-exit-status");
  return status ? status : GPOINTER_TO_INT(test_status);
}
