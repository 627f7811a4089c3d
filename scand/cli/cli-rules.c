/* scand rules explain: which rule a hypothetical job matches, and why. */
#include "outputs/output.h"
#include "rules/rules.h"
#include "rules/template.h"
#include "scand/cli/cli.h"

#include <stdio.h>
#include <string.h>

/* The part of an output's config a person recognises it by. */
static const char *output_target(ScandConfig *config, const char *name) {
  static const char *const keys[] = { "path", "url", "label", "queue", "to", "drive", "folder" };
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
    const char *v = scand_config_get(config, "output", name, keys[i]);
    if (v)
      return v;
  }
  return "";
}

static void print_output(ScandConfig *config, const char *what, const char *name) {
  if (strcmp(name, "(default)") == 0) {
    printf("  %s: the built-in folder (~/Scans if it exists, else ./scans)\n", what);
    return;
  }
  printf("  %s: %s (%s %s)\n", what, name, scand_config_get(config, "output", name, "type"),
         output_target(config, name));
}

/* --at "YYYY-MM-DD[ HH:MM]" in local time; NULL when malformed. */
static GDateTime *parse_at(const char *at) {
  g_autoptr(GTimeZone) tz = g_time_zone_new_local();
  int y, mo, d, h = 0, mi = 0;
  if (sscanf(at, "%d-%d-%d %d:%d", &y, &mo, &d, &h, &mi) < 3)
    return NULL;
  return g_date_time_new(tz, y, mo, d, h, mi, 0);
}

/* What route delivers where, an example file name, and its fallback. */
static void print_route(ScandConfig *config, const ScandRoute *route, const ScandJobFacts *facts) {
  for (guint i = 0; route->deliver[i]; i++)
    print_output(config, "deliver to", route->deliver[i]);
  ScandJobFacts tf = {
    .time = facts->time,
    .device_name = facts->device ? facts->device : "scanner",
    .profile = facts->profile,
    .source = facts->source_kind,
    .job = "JOB",
    .pages = facts->pages,
    .seq = 1,
  };
  g_autofree char *example = scand_template_expand(route->name_template, &tf, NULL);
  printf("  file name: %s (e.g. %s)\n", route->name_template, example ? example : "?");
  if (route->fallback) {
    print_output(config, "fallback", route->fallback);
    if (route->fallback_after || route->fallback_attempts)
      printf("    used after %" G_GINT64_FORMAT " s of retrying or %" G_GINT64_FORMAT " failed attempts "
             "(0 = not by that measure), or at once if a destination refuses for good\n",
             route->fallback_after, route->fallback_attempts);
    else
      printf("    used only if a destination refuses for good\n");
  } else {
    printf("  no fallback: a destination that is down keeps the job queued\n");
  }
}

int scand_cli_rules(int argc, char **argv) {
  g_autofree char *config_path = NULL, *device = NULL, *profile = NULL, *source = NULL, *trigger = NULL;
  g_autofree char *watch = NULL, *path = NULL, *sender = NULL, *recipient = NULL, *at = NULL, *barcode = NULL;
  int pages = 1;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file", "FILE" },
    { "device", 'd', 0, G_OPTION_ARG_STRING, &device, "Device URI or [scanner] name", "DEVICE" },
    { "profile", 'p', 0, G_OPTION_ARG_STRING, &profile, "Profile", "NAME" },
    { "source", 's', 0, G_OPTION_ARG_STRING, &source, "scan (default), watch, mail or file", "KIND" },
    { "trigger", 0, 0, G_OPTION_ARG_STRING, &trigger, "cli (default), dbus, feeder, button, watch", "TRIGGER" },
    { "pages", 'n', 0, G_OPTION_ARG_INT, &pages, "Page count (default 1)", "N" },
    { "watch", 0, 0, G_OPTION_ARG_STRING, &watch, "[watch] name", "NAME" },
    { "path", 0, 0, G_OPTION_ARG_STRING, &path, "Path inside the watched folder", "PATH" },
    { "sender", 0, 0, G_OPTION_ARG_STRING, &sender, "Sender address (inbound mail)", "ADDR" },
    { "recipient", 0, 0, G_OPTION_ARG_STRING, &recipient, "Recipient address (inbound mail)", "ADDR" },
    { "barcode", 0, 0, G_OPTION_ARG_STRING, &barcode, "The document's barcode (page processing)", "DATA" },
    { "at", 0, 0, G_OPTION_ARG_STRING, &at, "When, as \"YYYY-MM-DD HH:MM\" (default now)", "TIME" },
    { NULL },
  };
  int status;
  if (!scand_cli_parse("rules", "explain",
                       "Shows which [rule] a job with these facts would match, why the rules "
                       "before it do not, and what would be delivered where.",
                       entries, &argc, &argv, &status))
    return status;
  if (argc != 2 || strcmp(argv[1], "explain") != 0) {
    scand_cli_error("rules", "expected: scand rules explain [--device …] [--profile …] …");
    return SCAND_EXIT_USAGE;
  }
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandConfig) config = scand_config_load(config_path, &error);
  if (!config) {
    scand_cli_error("rules", "%s", error->message);
    return SCAND_EXIT_FAILED;
  }
  /* A [scanner] name stands for its device, as on `scand scan`. */
  const char *uri = device;
  if (device && scand_config_has_section(config, "scanner", device)) {
    uri = scand_config_get(config, "scanner", device, "device");
    if (!profile)
      profile = g_strdup(scand_config_get(config, "scanner", device, "profile"));
  }
  g_autoptr(GDateTime) when = at ? parse_at(at) : g_date_time_new_now_local();
  if (!when) {
    scand_cli_error("rules", "--at \"%s\": expected \"YYYY-MM-DD HH:MM\"", at);
    return SCAND_EXIT_USAGE;
  }
  ScandJobFacts facts = {
    .source_kind = source ? source : "scan",
    .device = uri,
    .profile = profile,
    .trigger = trigger ? trigger : "cli",
    .pages = (guint) MAX(pages, 0),
    .watch = watch,
    .path = path,
    .sender = sender,
    .recipient = recipient,
    .barcode = barcode,
    .time = when,
  };
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(ScandRoute) route = scand_rules_explain(config, &facts, lines, &error);
  for (guint i = 0; i < lines->len; i++)
    printf("%s\n", (const char *) lines->pdata[i]);
  if (!route) {
    scand_cli_error("rules", "%s", error->message);
    return SCAND_EXIT_FAILED;
  }
  print_route(config, route, &facts);
  return SCAND_EXIT_OK;
}
