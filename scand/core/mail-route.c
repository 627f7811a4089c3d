/* Accepted mail into jobs, exactly once (see mail-route.h). */
#include "scand/core/mail-route.h"
#include "rules/rules.h"
#include "rules/template.h"
#include "scand/base/error.h"
#include "scand/base/fault.h"
#include "scand/base/fs.h"
#include "scand/core/job-run.h"
#include "scand/core/job.h"
#include "scand/core/mail-attachments.h"
#include "scand/core/pdf-merge.h"
#include "scand/core/pdf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define HELD_DIR "jobs" /* inside the message's directory: jobs not yet in the spool */

typedef struct {
  ScandMailSpool *mail_spool;
  const char *queue_id;
  ScandConfig *config;
  ScandSpool *spool;
  GKeyFile *envelope;
  char *dir;
  char *held_dir;
  ScandSpool *held;
  ScandReceivedMail *mail;
  GStrv rcpts;
  char *mail_from, *intake, *client_ip, *auth_user;
  GPtrArray *made;     /* ids of the jobs made */
  GPtrArray *problems; /* one line per document that could not be taken */
} Routing;

/* Recipients that share a job: same rule (and address, when it names files). */
typedef struct {
  char *key;
  ScandRoute *route;
  GPtrArray *rcpts;
} Group;

static void group_free(Group *g) {
  g_free(g->key);
  scand_route_free(g->route);
  g_ptr_array_unref(g->rcpts);
  g_free(g);
}

static void routing_clear(Routing *r) {
  g_clear_pointer(&r->envelope, g_key_file_unref);
  g_clear_pointer(&r->dir, g_free);
  g_clear_pointer(&r->held_dir, g_free);
  g_clear_pointer(&r->held, scand_spool_free);
  g_clear_pointer(&r->mail, scand_received_mail_free);
  g_clear_pointer(&r->rcpts, g_strfreev);
  g_clear_pointer(&r->mail_from, g_free);
  g_clear_pointer(&r->intake, g_free);
  g_clear_pointer(&r->client_ip, g_free);
  g_clear_pointer(&r->auth_user, g_free);
  g_clear_pointer(&r->made, g_ptr_array_unref);
  g_clear_pointer(&r->problems, g_ptr_array_unref);
}

char *scand_mail_route_error_dir(ScandSpool *spool) {
  return g_build_filename(scand_spool_get_dir(spool), "intake-errors", NULL);
}

/* ---- the document of one job -------------------------------------------- */

static gboolean image_to_pdf(const char *dir, const char *image, const char *pdf_path, GError **error) {
  ScandPdfOptions options = { .scratch_dir = dir };
  g_autoptr(ScandPdf) pdf = scand_pdf_new(&options, error);
  return pdf && scand_pdf_add_file(pdf, image, 0, error) && scand_pdf_save(pdf, pdf_path, error);
}

/* One attachment as a PDF in dir (itself, or its images assembled); NULL
 * with the reason in r->problems. */
static char *attachment_pdf(Routing *r, const char *dir, const ScandAttachment *a, guint i) {
  g_autofree char *raw = g_strdup_printf("%s/att-%u.%s", dir, i, scand_attachment_kind_extension(a->kind));
  g_autoptr(GError) error = NULL;
  const char *name = a->filename ? a->filename : a->mime_type;
  if (!scand_received_mail_save_attachment(r->mail, a, raw, 0, &error)) {
    g_ptr_array_add(r->problems, g_strdup(error->message));
    return NULL;
  }
  if (a->kind == SCAND_ATTACHMENT_PDF)
    return g_steal_pointer(&raw);
  g_autofree char *pdf = g_strdup_printf("%s/att-%u.pdf", dir, i);
  gboolean ok = image_to_pdf(dir, raw, pdf, &error);
  unlink(raw);
  if (!ok) {
    g_ptr_array_add(r->problems, g_strdup_printf("%s: %s", name, error->message));
    return NULL;
  }
  return g_steal_pointer(&pdf);
}

/* document.pdf of job from the attachments: a single PDF byte for byte,
 * anything else assembled and concatenated by pages. */
static gboolean build_document(Routing *r, ScandJob *job, GPtrArray *atts, guint *pages, GError **error) {
  const char *dir = scand_job_get_dir(job);
  const char *doc = scand_job_get_pdf_path(job);
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < atts->len; i++) {
    char *pdf = attachment_pdf(r, dir, atts->pdata[i], i + 1);
    if (pdf)
      g_ptr_array_add(parts, pdf);
  }
  if (parts->len == 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "no document could be taken");
    return FALSE;
  }
  gboolean ok;
  if (parts->len == 1) {
    ok = scand_fs_commit(parts->pdata[0], doc, error);
  } else {
    g_ptr_array_add(parts, NULL);
    ok = scand_pdf_concatenate((const char *const *) parts->pdata, doc, error);
    for (guint i = 0; parts->pdata[i]; i++)
      unlink(parts->pdata[i]);
  }
  return ok && scand_pdf_count_pages(doc, pages, error);
}

/* ---- facts and routes --------------------------------------------------- */

/* The file name a mail job keeps when its rule names none: the attachment's,
 * as a .pdf, escaped as a template. */
static char *name_template_from(const ScandAttachment *a) {
  g_autofree char *safe = scand_template_sanitize_component(a->filename ? a->filename : "mail");
  const char *dot = strrchr(safe, '.');
  g_autofree char *stem = dot && dot != safe ? g_strndup(safe, (gsize) (dot - safe)) : g_strdup(safe);
  GString *t = g_string_new(NULL);
  for (const char *p = stem; *p; p++) {
    if (*p == '{' || *p == '}')
      g_string_append_c(t, *p);
    g_string_append_c(t, *p);
  }
  g_string_append(t, ".pdf");
  return g_string_free(t, FALSE);
}

/* An attachment's name without its extension ({attachment}: "scan0001"). */
static char *attachment_stem(const ScandAttachment *a) {
  const char *name = a->filename ? a->filename : "";
  const char *dot = strrchr(name, '.');
  return dot && dot != name ? g_strndup(name, (gsize) (dot - name)) : g_strdup(name);
}

/* The mail's facts, for rules and the job: mail_to is the recipients the
 * job is for (one while routing). Strings are borrowed from r and stem. */
static ScandJobFacts mail_facts(Routing *r, const ScandAttachment *first, const char *stem, const char *mail_to,
                                const char *recipient, guint pages) {
  ScandJobFacts f = {
    .source_kind = "mail",
    .trigger = "mail",
    .device_name = r->intake,
    .intake = r->intake,
    .sender = r->mail_from,
    .mail_from = r->mail_from,
    .mail_to = mail_to,
    .recipient = recipient,
    .subject = scand_received_mail_get_subject(r->mail),
    .attachment = stem,
    .attachment_file = first->filename,
    .mail_from_header = scand_received_mail_get_from_address(r->mail),
    .mail_from_name = scand_received_mail_get_from_name(r->mail),
    .message_id = scand_received_mail_get_message_id(r->mail),
    .client_ip = r->client_ip,
    .auth_user = r->auth_user,
    .queue_id = r->queue_id,
    .pages = pages,
  };
  return f;
}

static void set_facts(Routing *r, ScandJob *job, GPtrArray *atts, Group *g) {
  ScandJobFacts f = *scand_job_get_facts(job);
  g_ptr_array_add(g->rcpts, NULL);
  g_autofree char *to = g_strjoinv(", ", (char **) g->rcpts->pdata);
  g_ptr_array_remove_index(g->rcpts, g->rcpts->len - 1);
  g_autofree char *stem = attachment_stem(atts->pdata[0]);
  ScandJobFacts mail = mail_facts(r, atts->pdata[0], stem, to, g->rcpts->pdata[0], f.pages);
  mail.job = f.job;
  mail.created = f.created;
  mail.time = f.time;
  scand_job_set_facts(job, &mail);
}

/* Groups the recipients by the route the rules give each. */
static GPtrArray *group_recipients(Routing *r, const ScandAttachment *first, guint pages) {
  GPtrArray *groups = g_ptr_array_new_with_free_func((GDestroyNotify) group_free);
  for (guint i = 0; r->rcpts[i]; i++) {
    g_autofree char *stem = attachment_stem(first);
    ScandJobFacts facts = mail_facts(r, first, stem, r->rcpts[i], r->rcpts[i], pages);
    g_autoptr(GError) error = NULL;
    g_autoptr(ScandRoute) route = scand_rules_route(r->config, &facts, &error);
    if (!route) {
      g_ptr_array_add(r->problems, g_strdup_printf("<%s>: %s", r->rcpts[i], error->message));
      continue;
    }
    gboolean per_rcpt = route->name_template && strstr(route->name_template, "{recipient}");
    g_autofree char *key = g_strdup_printf("%s\x1f%s", route->rule, per_rcpt ? r->rcpts[i] : "");
    Group *g = NULL;
    for (guint k = 0; k < groups->len && !g; k++)
      if (strcmp(((Group *) groups->pdata[k])->key, key) == 0)
        g = groups->pdata[k];
    if (!g) {
      g = g_new0(Group, 1);
      g->key = g_steal_pointer(&key);
      g->route = g_steal_pointer(&route);
      g->rcpts = g_ptr_array_new();
      g_ptr_array_add(groups, g);
    }
    g_ptr_array_add(g->rcpts, r->rcpts[i]);
  }
  return groups;
}

/* A job of the group, its document a link to the first job's. */
static gboolean make_group_job(Routing *r, ScandJob *job, GPtrArray *atts, Group *g, guint pages, GError **error) {
  set_facts(r, job, atts, g);
  const char *rule_name = scand_config_get(r->config, "rule", g->route->rule, "name");
  g_autofree char *tmpl = rule_name ? g_strdup(g->route->name_template) : name_template_from(atts->pdata[0]);
  scand_job_set(job, "template", tmpl);
  return scand_job_apply_route(job, r->config, g->route, NULL, error) && scand_job_run_set_assembled(job, pages, error);
}

static gboolean link_document(ScandJob *from, ScandJob *to, GError **error) {
  if (link(scand_job_get_pdf_path(from), scand_job_get_pdf_path(to)) < 0)
    return scand_fs_error_errno(error, errno, "cannot link %s", scand_job_get_pdf_path(to));
  return scand_fs_fsync_dir(scand_job_get_dir(to), error);
}

/* The jobs of one document: one per group of recipients. */
static void route_unit(Routing *r, GPtrArray *atts) {
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandJob) first = scand_job_create(r->held, &error);
  guint pages = 0;
  if (!first || !build_document(r, first, atts, &pages, &error)) {
    if (first)
      scand_job_remove(first, NULL);
    if (error && !g_error_matches(error, SCAND_ERROR, SCAND_ERROR_INVAL))
      g_ptr_array_add(r->problems, g_strdup(error->message));
    return;
  }
  g_autoptr(GPtrArray) groups = group_recipients(r, atts->pdata[0], pages);
  for (guint i = 0; i < groups->len; i++) {
    g_autoptr(ScandJob) extra = i ? scand_job_create(r->held, &error) : NULL;
    ScandJob *job = i ? extra : first;
    if (!job || (extra && !link_document(first, extra, &error)) ||
        !make_group_job(r, job, atts, groups->pdata[i], pages, &error)) {
      g_ptr_array_add(r->problems, g_strdup(error->message));
      g_clear_error(&error);
      if (extra)
        scand_job_remove(extra, NULL);
      continue;
    }
    g_ptr_array_add(r->made, g_strdup(scand_job_get_id(job)));
    scand_fault_point("intake-routing");
  }
  if (groups->len == 0 || scand_job_get_stage(first) != SCAND_JOB_ASSEMBLED)
    scand_job_remove(first, NULL);
}

/* ---- the message -------------------------------------------------------- */

static gboolean load_envelope(Routing *r, GError **error) {
  r->envelope = scand_mail_spool_read_envelope(r->mail_spool, r->queue_id, error);
  if (!r->envelope)
    return FALSE;
  r->rcpts = g_key_file_get_string_list(r->envelope, "message", "rcpt-to", NULL, NULL);
  r->mail_from = g_key_file_get_string(r->envelope, "message", "mail-from", NULL);
  r->intake = g_key_file_get_string(r->envelope, "message", "intake", NULL);
  r->client_ip = g_key_file_get_string(r->envelope, "message", "client-ip", NULL);
  r->auth_user = g_key_file_get_string(r->envelope, "message", "auth-user", NULL);
  if (!r->rcpts || !r->rcpts[0] || !r->mail_from) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "message %s: envelope without sender or recipients",
                r->queue_id);
    return FALSE;
  }
  return TRUE;
}

/* Moves the message into the error area with its reason; its envelope stays
 * behind (state error) so that a resend is still recognised. */
static void to_error_area(Routing *r, const char *reason) {
  g_autofree char *dir = scand_mail_route_error_dir(r->spool);
  g_autofree char *id = scand_mail_queue_id_short(r->queue_id);
  g_autofree char *eml = g_strdup_printf("%s/%s.eml", dir, id);
  g_autofree char *note = g_strdup_printf("%s/%s.reason.txt", dir, id);
  g_autofree char *src = g_build_filename(r->dir, "message.eml", NULL);
  g_autofree char *to = g_strjoinv(", ", r->rcpts);
  g_autofree char *text = g_strdup_printf(
      "%s\nfrom <%s> to %s, client %s, subject \"%s\"\n", reason, r->mail_from, to, r->client_ip,
      r->mail && scand_received_mail_get_subject(r->mail) ? scand_received_mail_get_subject(r->mail) : "");
  if (scand_fs_mkdir_p(dir, 0700, NULL) && scand_fs_write_atomic(note, text, strlen(text), 0600, NULL) &&
      rename(src, eml) == 0)
    scand_fs_fsync_dir(dir, NULL);
  g_key_file_set_string(r->envelope, "routing", "state", "error");
  g_key_file_set_string(r->envelope, "routing", "reason", reason);
  g_key_file_set_int64(r->envelope, "routing", "done", g_get_real_time());
  scand_mail_spool_write_envelope(r->mail_spool, r->queue_id, r->envelope, NULL);
  scand_fs_remove_tree(r->held_dir);
}

/* Moves the held jobs into the spool (those not moved yet). */
static gboolean release(Routing *r, GStrv ids, GPtrArray *job_ids, GError **error) {
  const char *spool_dir = scand_spool_get_dir(r->spool);
  for (guint i = 0; ids && ids[i]; i++) {
    g_autofree char *from = g_build_filename(r->held_dir, ids[i], NULL);
    g_autofree char *to = g_build_filename(spool_dir, ids[i], NULL);
    if (rename(from, to) == 0)
      g_ptr_array_add(job_ids, g_strdup(ids[i]));
    else if (errno != ENOENT)
      return scand_fs_error_errno(error, errno, "cannot move job %s into the spool", ids[i]);
  }
  if (!scand_fs_fsync_dir(spool_dir, error))
    return FALSE;
  g_autofree char *eml = g_build_filename(r->dir, "message.eml", NULL);
  unlink(eml);
  scand_fs_remove_tree(r->held_dir);
  return scand_fs_fsync_dir(r->dir, error);
}

static char *problems_text(Routing *r, const char *first) {
  GString *s = g_string_new(first);
  for (guint i = 0; i < r->problems->len; i++)
    g_string_append_printf(s, "; %s", (const char *) r->problems->pdata[i]);
  GPtrArray *skipped = r->mail ? scand_received_mail_get_skipped(r->mail) : NULL;
  for (guint i = 0; skipped && i < skipped->len; i++)
    g_string_append_printf(s, "; %s", (const char *) skipped->pdata[i]);
  return g_string_free(s, FALSE);
}

/* Makes the jobs (held), then records them: the step after which they exist. */
static gboolean route_new(Routing *r, GPtrArray *job_ids, GError **error) {
  g_autofree char *eml = g_build_filename(r->dir, "message.eml", NULL);
  r->mail = scand_received_mail_open(eml, error);
  if (!r->mail)
    return FALSE;
  GPtrArray *atts = scand_received_mail_get_attachments(r->mail);
  const char *split = r->intake ? scand_config_get(r->config, "intake", r->intake, "split") : NULL;
  if (g_strcmp0(split, "per-message") == 0 && atts->len) {
    route_unit(r, atts);
  } else {
    for (guint i = 0; i < atts->len; i++) {
      g_autoptr(GPtrArray) one = g_ptr_array_new();
      g_ptr_array_add(one, atts->pdata[i]);
      route_unit(r, one);
    }
  }
  if (r->made->len == 0) {
    g_autofree char *reason = problems_text(r, atts->len ? "no document could be taken" : "no usable attachment");
    to_error_area(r, reason);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s", reason);
    return FALSE;
  }
  g_ptr_array_add(r->made, NULL);
  g_key_file_set_string_list(r->envelope, "routing", "jobs", (const char *const *) r->made->pdata, r->made->len - 1);
  g_key_file_set_string(r->envelope, "routing", "state", "routed");
  g_key_file_set_int64(r->envelope, "routing", "done", g_get_real_time());
  if (r->problems->len) {
    g_autofree char *partly = problems_text(r, "some documents were not taken");
    g_key_file_set_string(r->envelope, "routing", "reason", partly);
  }
  if (!scand_mail_spool_write_envelope(r->mail_spool, r->queue_id, r->envelope, error))
    return FALSE;
  scand_fault_point("intake-routed");
  return release(r, (GStrv) r->made->pdata, job_ids, error);
}

gboolean scand_mail_route(ScandMailSpool *mail_spool, const char *queue_id, ScandConfig *config, ScandSpool *spool,
                          GPtrArray *job_ids, GError **error) {
  Routing r = {
    .mail_spool = mail_spool,
    .queue_id = queue_id,
    .config = config,
    .spool = spool,
    .made = g_ptr_array_new_with_free_func(g_free),
    .problems = g_ptr_array_new_with_free_func(g_free),
  };
  r.dir = scand_mail_spool_message_dir(mail_spool, queue_id);
  r.held_dir = g_build_filename(r.dir, HELD_DIR, NULL);
  gboolean ok = load_envelope(&r, error);
  g_autofree char *state = ok ? g_key_file_get_string(r.envelope, "routing", "state", NULL) : NULL;
  if (ok && g_strcmp0(state, "routed") == 0) {
    g_auto(GStrv) ids = g_key_file_get_string_list(r.envelope, "routing", "jobs", NULL, NULL);
    ok = release(&r, ids, job_ids, error);
  } else if (ok && g_strcmp0(state, "error") != 0) {
    /* Jobs held by an attempt that crashed were never recorded: start over. */
    scand_fs_remove_tree(r.held_dir);
    r.held = scand_spool_open(r.held_dir, error);
    ok = r.held && route_new(&r, job_ids, error);
  }
  routing_clear(&r);
  return ok;
}
