/* The daemon's mail intake: listeners and routing. */
#include "scand/service/mail-intake.h"
#include "scand/base/error.h"
#include "scand/core/mail-route.h"
#include "scand/core/mail-spool.h"
#include "scand/service/smtp-listener.h"

#include <string.h>

#define DEFAULT_DEDUP_WINDOW (24 * 3600)

struct ScandMailIntake {
  ScandSpool *spool;
  ScandMailSpool *mail_spool;
  const ScandMailIntakeHooks *hooks;
  ScandSmtpHooks smtp_hooks;
  GPtrArray *names;     /* intake names, in the order of listeners */
  GPtrArray *listeners; /* ScandSmtpListener* */
};

static void intake_log(ScandMailIntake *intake, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void intake_log(ScandMailIntake *intake, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *line = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  if (intake->hooks->log)
    intake->hooks->log(line, intake->hooks->user_data);
}

static gboolean is_smtp(ScandConfig *config, const char *name) {
  return g_strcmp0(scand_config_get(config, "intake", name, "type"), "smtp") == 0;
}

static gboolean start_listeners(ScandMailIntake *intake, ScandConfig *config, GError **error) {
  g_auto(GStrv) names = scand_config_list_sections(config, "intake");
  for (guint i = 0; names && names[i]; i++) {
    if (!is_smtp(config, names[i]))
      continue;
    ScandSmtpListener *l = scand_smtp_listener_new(config, names[i], intake->mail_spool, &intake->smtp_hooks, error);
    if (!l)
      return FALSE;
    g_ptr_array_add(intake->listeners, l);
    g_ptr_array_add(intake->names, g_strdup(names[i]));
    g_autofree char *listen = g_strdup(scand_config_get(config, "intake", names[i], "listen"));
    intake_log(intake, "intake %s: listening for mail on %s", names[i], listen);
  }
  return TRUE;
}

ScandMailIntake *scand_mail_intake_new(ScandConfig *config, ScandSpool *spool, const ScandMailIntakeHooks *hooks,
                                       GError **error) {
  g_auto(GStrv) names = scand_config_list_sections(config, "intake");
  g_autofree char *dir = g_build_filename(scand_spool_get_dir(spool), ".intake", NULL);
  if ((!names || !names[0]) && !g_file_test(dir, G_FILE_TEST_IS_DIR))
    return NULL;
  ScandMailIntake *intake = g_new0(ScandMailIntake, 1);
  intake->spool = spool;
  intake->hooks = hooks;
  intake->smtp_hooks.accepted = hooks->accepted;
  intake->smtp_hooks.log = hooks->log;
  intake->smtp_hooks.user_data = hooks->user_data;
  intake->names = g_ptr_array_new_with_free_func(g_free);
  intake->listeners = g_ptr_array_new_with_free_func((GDestroyNotify) scand_smtp_listener_free);
  intake->mail_spool = scand_mail_spool_open(scand_spool_get_dir(spool), error);
  if (!intake->mail_spool || !start_listeners(intake, config, error)) {
    scand_mail_intake_free(intake);
    return NULL;
  }
  return intake;
}

void scand_mail_intake_reload(ScandMailIntake *intake, ScandConfig *config) {
  g_auto(GStrv) names = scand_config_list_sections(config, "intake");
  guint smtp = 0;
  for (guint i = 0; names && names[i]; i++)
    smtp += is_smtp(config, names[i]);
  for (guint i = 0; i < intake->listeners->len; i++) {
    const char *name = intake->names->pdata[i];
    g_autoptr(GError) error = NULL;
    if (!scand_config_has_section(config, "intake", name))
      intake_log(intake, "intake %s: removed from the configuration; it stops at the next restart", name);
    else if (!scand_smtp_listener_reload(intake->listeners->pdata[i], config, &error))
      intake_log(intake, "intake %s: keeping the previous settings: %s", name, error->message);
  }
  if (smtp > intake->listeners->len)
    intake_log(intake, "a new [intake] starts listening at the next restart");
}

/* The one line a message gets when routing made nothing of it. */
static void route_one(ScandMailIntake *intake, ScandConfig *config, const char *queue_id, GPtrArray *job_ids) {
  g_autoptr(GError) error = NULL;
  guint before = job_ids->len;
  g_autofree char *id = scand_mail_queue_id_short(queue_id);
  if (!scand_mail_route(intake->mail_spool, queue_id, config, intake->spool, job_ids, &error)) {
    if (g_error_matches(error, SCAND_ERROR, SCAND_ERROR_INVAL)) {
      g_autofree char *where = scand_mail_route_error_dir(intake->spool);
      intake_log(intake, "mail %s: put in %s: %s", id, where, error->message);
    } else {
      intake_log(intake, "mail %s: not routed yet (tried again later): %s", id, error->message);
    }
    return;
  }
  for (guint i = before; i < job_ids->len; i++)
    intake_log(intake, "mail %s: job %s", id, (const char *) job_ids->pdata[i]);
}

void scand_mail_intake_route(ScandMailIntake *intake, ScandConfig *config, const char *queue_id, GPtrArray *job_ids) {
  if (!intake)
    return;
  if (queue_id) {
    route_one(intake, config, queue_id, job_ids);
    return;
  }
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) pending = scand_mail_spool_list_pending(intake->mail_spool, &error);
  if (!pending)
    intake_log(intake, "mail intake: %s", error->message);
  for (guint i = 0; pending && pending[i]; i++)
    route_one(intake, config, pending[i], job_ids);
  gint64 window = DEFAULT_DEDUP_WINDOW;
  g_auto(GStrv) names = scand_config_list_sections(config, "intake");
  for (guint i = 0; names && names[i]; i++) {
    gint64 w = DEFAULT_DEDUP_WINDOW;
    scand_config_get_duration(config, "intake", names[i], "dedup-window", DEFAULT_DEDUP_WINDOW, &w, NULL);
    window = i == 0 ? w : MAX(window, w);
  }
  scand_mail_spool_prune(intake->mail_spool, window);
}

void scand_mail_intake_free(ScandMailIntake *intake) {
  if (!intake)
    return;
  g_ptr_array_unref(intake->listeners);
  g_ptr_array_unref(intake->names);
  scand_mail_spool_free(intake->mail_spool);
  g_free(intake);
}
