/* `scand trust URI` pins an HTTPS eSCL or WSD device's certificate in the
 * config; `scand status URI` shows what an eSCL device reports about itself. */
#include "scand/cli/cli.h"
#include "backends/escl.h"
#include "backends/wsd.h"
#include "scand/base/config-edit.h"
#include "scand/base/config.h"
#include "scand/base/error.h"
#include "scand/base/fs.h"
#include "scand/base/http.h"
#include "scand/core/spool.h"
#include "scand/service/panel-state.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* "escl:https://…" (or "wsd:https://…") for any spelling the user gave.
 * Newly allocated. */
static char *normalize_uri(const char *uri) {
  if (g_str_has_prefix(uri, "escl:") || g_str_has_prefix(uri, "wsd:"))
    return g_strdup(uri);
  return g_strdup_printf("escl:%s", uri);
}

/* Host part of "escl:http[s]://host[:port]/…" for a section name. Newly allocated. */
static char *uri_host(const char *uri) {
  const char *p = strstr(uri, "://");
  p = p ? p + 3 : uri;
  gsize n = strcspn(p, "/");
  g_autofree char *authority = g_strndup(p, n);
  if (authority[0] == '[') {
    char *close = strchr(authority, ']');
    if (close)
      *close = '\0';
    return g_strdup(authority + 1);
  }
  char *colon = strrchr(authority, ':');
  if (colon)
    *colon = '\0';
  return g_strdup(*authority ? authority : "scanner");
}

/* Where a first configuration file goes: the directory scand reads. */
static char *default_config_path(void) {
  const char *dir = g_getenv("SCAND_CONFIG_DIR");
  if (dir && *dir)
    return g_build_filename(dir, "scand.conf", NULL);
  return g_build_filename(g_get_user_config_dir(), "scand", "scand.conf", NULL);
}

/* The [scanner] section of config whose device is uri, or NULL. Newly allocated. */
static char *find_scanner_section(ScandConfig *config, const char *uri) {
  g_auto(GStrv) names = scand_config_list_sections(config, "scanner");
  for (guint i = 0; names && names[i]; i++) {
    const char *device = scand_config_get(config, "scanner", names[i], "device");
    g_autofree char *norm = device ? normalize_uri(device) : NULL;
    if (device && (strcmp(device, uri) == 0 || strcmp(norm, uri) == 0))
      return g_strdup(names[i]);
  }
  return NULL;
}

static gboolean ask_yes(void) {
  printf("Trust this certificate? [y/N] ");
  fflush(stdout);
  char line[64];
  if (!fgets(line, sizeof line, stdin))
    return FALSE;
  g_strstrip(line);
  return g_ascii_strcasecmp(line, "y") == 0 || g_ascii_strcasecmp(line, "yes") == 0;
}

/* Writes tls-pin into the scanner's section where the config that scand
 * reads has it (--config FILE, else the default files, conf.d included), by
 * editing that one line or adding one: comments, spacing and a symbolically
 * linked file stay as they are. A device no section names gets a new section
 * in the file scand reads first (or a new one). The pin is read back. */
static gboolean store_pin(const char *path, const char *uri, const char *fingerprint, char **group_out, char **file_out,
                          GError **error) {
  gboolean exists = path && g_file_test(path, G_FILE_TEST_EXISTS);
  g_autoptr(ScandConfig) config = path && !exists ? scand_config_new_empty() : scand_config_load(path, error);
  if (!config)
    return FALSE;
  g_autofree char *name = find_scanner_section(config, uri);
  g_autofree char *fallback = path ? g_strdup(path) : default_config_path();
  const char *const *files = scand_config_get_files(config);
  const char *new_file = path ? path : files && files[0] ? NULL : fallback;
  const char *keys[] = { "device", "tls-pin", NULL };
  const char *values[] = { uri, fingerprint, NULL };
  gboolean fresh = name == NULL;
  if (fresh) {
    g_autofree char *host = uri_host(uri);
    name = g_strdup(host);
    for (guint n = 2; scand_config_has_section(config, "scanner", name); n++) {
      g_free(name);
      name = g_strdup_printf("%s-%u", host, n);
    }
  }
  g_autofree char *file = scand_config_edit_set(config, "scanner", name, fresh ? keys : keys + 1,
                                                fresh ? values : values + 1, new_file, error);
  if (!file)
    return FALSE;
  g_autoptr(ScandConfig) again = scand_config_load(path, error);
  if (!again)
    return FALSE;
  if (g_strcmp0(scand_config_get(again, "scanner", name, "tls-pin"), fingerprint) != 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED,
                "wrote tls-pin into %s, but the configuration scand reads does not have it", file);
    return FALSE;
  }
  *group_out = g_strdup_printf("scanner %s", name);
  *file_out = g_steal_pointer(&file);
  return TRUE;
}

int scand_cli_trust(int argc, char **argv) {
  gboolean yes = FALSE;
  g_autofree char *config_path = NULL;
  GOptionEntry entries[] = {
    { "yes", 'y', 0, G_OPTION_ARG_NONE, &yes, "Trust without asking", NULL },
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      "Config file to write the pin into (default: where scand reads the device from)", "FILE" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("URI");
  g_option_context_set_summary(ctx, "Shows the certificate of an HTTPS eSCL or WSD scanner (escl:https://HOST/eSCL,\n"
                                    "wsd:https://HOST:PORT/PATH) and, once confirmed, pins it as tls-pin in the\n"
                                    "scanner's [scanner] section.");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  /* GOption names the program in --help: make it "scand trust". */
  g_set_prgname("scand trust");
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "scand trust: %s (try scand trust --help)\n", error->message);
    return 2;
  }
  if (argc != 2) {
    fprintf(stderr, "scand trust: expected one device URI (escl:https://HOST/eSCL); see --help\n");
    return 2;
  }
  g_autofree char *uri = normalize_uri(argv[1]);
  gboolean wsd = g_str_has_prefix(uri, "wsd:https://");
  if (!g_str_has_prefix(uri, "escl:https://") && !wsd) {
    fprintf(stderr, "scand trust: %s: only escl:https:// and wsd:https:// devices have a certificate to trust\n", uri);
    return 2;
  }
  g_autoptr(ScandHttpCertificate) cert =
      wsd ? scand_http_fetch_certificate(uri + 4, uri, &error) : scand_escl_fetch_certificate(uri, &error);
  if (!cert) {
    fprintf(stderr, "scand trust: %s\n", error->message);
    return 1;
  }
  printf("Device:      %s\nSubject:     %s\nIssuer:      %s\nFingerprint: %s\n%s\n", uri, cert->subject, cert->issuer,
         cert->fingerprint,
         cert->trusted_by_ca ? "The system's certificate authorities already vouch for this certificate."
                             : "No certificate authority vouches for it (self-signed or unknown issuer): compare the\n"
                               "fingerprint with the one the device shows on its panel or web page.");
  if (!yes && !ask_yes()) {
    printf("Not trusted; nothing changed.\n");
    return 1;
  }
  g_autofree char *group = NULL, *file = NULL;
  if (!store_pin(config_path, uri, cert->fingerprint, &group, &file, &error)) {
    fprintf(stderr, "scand trust: %s\n", error->message);
    return 1;
  }
  g_autofree char *real = g_file_test(file, G_FILE_TEST_IS_SYMLINK) ? realpath(file, NULL) : NULL;
  printf("Pinned %s as tls-pin of [%s] in %s%s%s%s\n", cert->fingerprint, group, file, real ? " (a link to " : "",
         real ? real : "", real ? ")" : "");
  return 0;
}

/* The tls-pin (newly allocated, or NULL) and the timeout of uri's [scanner]
 * section, into options. */
static void configured_options(const char *config_path, const char *uri, char **pin, ScandOpenOptions *options) {
  g_autoptr(GError) ignored = NULL;
  g_autoptr(ScandConfig) config = scand_config_load(config_path, &ignored);
  if (!config)
    return;
  g_auto(GStrv) names = scand_config_list_sections(config, "scanner");
  for (guint i = 0; names && names[i]; i++) {
    const char *device = scand_config_get(config, "scanner", names[i], "device");
    if (!device)
      continue;
    g_autofree char *norm = normalize_uri(device);
    if (strcmp(norm, uri) != 0)
      continue;
    *pin = g_strdup(scand_config_get(config, "scanner", names[i], "tls-pin"));
    gint64 timeout = 0;
    if (scand_config_get_duration(config, "scanner", names[i], "timeout", 0, &timeout, NULL))
      options->timeout_ms = (guint) MIN(timeout, 86400) * 1000;
    options->tls_pin = *pin;
    return;
  }
}

/* The walk-up destinations the daemon recorded for uri in its spool. */
static void print_panel(const char *config_path, const char *uri) {
  g_autoptr(GError) ignored = NULL;
  g_autoptr(ScandConfig) config = scand_config_load(config_path, &ignored);
  g_autofree char *spool_dir = scand_spool_default_dir(config);
  g_autofree char *lines = scand_panel_state_describe(spool_dir, uri, g_get_real_time());
  if (!lines) {
    printf("Panel:   no destinations registered by scand\n");
    return;
  }
  g_auto(GStrv) each = g_strsplit(g_strchomp(lines), "\n", -1);
  for (guint i = 0; each[i]; i++)
    printf("%s %s\n", i == 0 ? "Panel:  " : "        ", each[i]);
}

/* `scand status wsd:…`: the scanner's state and what its reasons mean. */
static int print_wsd_status(const char *uri, const ScandOpenOptions *options) {
  g_autoptr(GError) error = NULL;
  ScandWsdStatus st;
  if (!scand_wsd_get_status(uri, options, &st, &error)) {
    fprintf(stderr, "scand status: %s\n", error->message);
    return 1;
  }
  g_autofree char *redacted = scand_http_url_without_password(uri + 4);
  printf("Device:  %s%s\n", redacted ? "wsd:" : "", redacted ? redacted : uri);
  if (st.name)
    printf("Name:    %s\n", st.name);
  printf("State:   %s", scand_device_state_to_string(st.state));
  if (st.state_word)
    printf(" (%s)", st.state_word);
  printf("\nReasons: ");
  for (guint i = 0; i < st.reasons->len; i++)
    printf("%s%s", i ? ", " : "", (const char *) st.reasons->pdata[i]);
  printf("%s\n", st.reasons->len ? "" : "none");
  if (st.problem)
    printf("Problem: %s\n", st.problem);
  scand_wsd_status_clear(&st);
  return 0;
}

int scand_cli_status(int argc, char **argv) {
  g_autofree char *config_path = NULL;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Config file (for the device's tls-pin and timeout)",
      "FILE" },
    { NULL },
  };
  g_autoptr(GOptionContext) ctx = g_option_context_new("URI");
  g_option_context_set_summary(ctx,
                               "Shows what an eSCL scanner (escl:http[s]://HOST/eSCL) reports: its state, its\n"
                               "feeder's state and its recent jobs; or a WSD scanner (wsd:http[s]://HOST:PORT/PATH):\n"
                               "its state and the reasons for it.");
  g_option_context_add_main_entries(ctx, entries, NULL);
  g_autoptr(GError) error = NULL;
  /* GOption names the program in --help: make it "scand status". */
  g_set_prgname("scand status");
  if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
    fprintf(stderr, "scand status: %s (try scand status --help)\n", error->message);
    return 2;
  }
  if (argc != 2) {
    fprintf(stderr, "scand status: expected one device URI (escl:http[s]://HOST/eSCL); see --help\n");
    return 2;
  }
  g_autofree char *uri = normalize_uri(argv[1]);
  g_autofree char *pin = NULL;
  ScandOpenOptions options = { 0 };
  configured_options(config_path, uri, &pin, &options);
  if (g_str_has_prefix(uri, "wsd:")) {
    int status = print_wsd_status(uri, &options);
    if (status == 0)
      print_panel(config_path, uri);
    return status;
  }
  ScandEsclStatus st;
  if (!scand_escl_get_status(uri, &options, &st, &error)) {
    fprintf(stderr, "scand status: %s\n", error->message);
    return 1;
  }
  printf("Device:  %s\nState:   %s\nFeeder:  %s", uri, scand_device_state_to_string(st.state),
         scand_escl_adf_state_to_string(st.adf_state));
  if (st.adf_state_word)
    printf(" (%s)", st.adf_state_word);
  printf("\n");
  if (st.jobs->len == 0)
    printf("Jobs:    none\n");
  for (guint i = 0; i < st.jobs->len; i++) {
    const ScandEsclJob *job = &g_array_index(st.jobs, ScandEsclJob, i);
    printf("%s %s  %s", i == 0 ? "Jobs:   " : "        ", job->uri ? job->uri : "?", job->state ? job->state : "?");
    if (job->images_completed >= 0)
      printf("  %d image%s", job->images_completed, job->images_completed == 1 ? "" : "s");
    if (job->images_to_transfer > 0)
      printf(" (%d to transfer)", job->images_to_transfer);
    if (job->reason)
      printf("  %s", job->reason);
    printf("\n");
  }
  scand_escl_status_clear(&st);
  print_panel(config_path, uri);
  return 0;
}
