/* Accepted mail into jobs, exactly once (see mail-route.h). */
#include "scand/core/mail-route.h"
#include "rules/rules.h"
#include "rules/template.h"
#include "scand/base/error.h"
#include "scand/base/fault.h"
#include "scand/base/fs.h"
#include "scand/core/job-pages.h"
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
  char *profile;       /* the intake's [profile]: page processing of its documents */
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
  g_clear_pointer(&r->profile, g_free);
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

/* document.pdf of job from the attachments through the page processing of
 * the intake's profile (scand_job_take_files). */
static gboolean build_processed(Routing *r, ScandJob *job, GPtrArray *atts, GError **error) {
  const char *dir = scand_job_get_dir(job);
  g_autoptr(GPtrArray) raws = g_ptr_array_new_with_free_func(g_free);
  g_autoptr(GString) names = g_string_new(NULL);
  for (guint i = 0; i < atts->len; i++) {
    const ScandAttachment *a = atts->pdata[i];
    g_autofree char *raw = g_strdup_printf("%s/att-%u.%s", dir, i + 1, scand_attachment_kind_extension(a->kind));
    g_autoptr(GError) local = NULL;
    if (!scand_received_mail_save_attachment(r->mail, a, raw, 0, &local)) {
      g_ptr_array_add(r->problems, g_strdup(local->message));
      continue;
    }
    g_string_append_printf(names, "%s%s", names->len ? ", " : "", a->filename ? a->filename : a->mime_type);
    g_ptr_array_add(raws, g_steal_pointer(&raw));
  }
  if (raws->len == 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "no document could be taken");
    return FALSE;
  }
  g_autoptr(GError) local = NULL;
  gboolean ok = scand_job_take_files(job, (const char *const *) raws->pdata, raws->len, &local);
  for (guint i = 0; i < raws->len; i++)
    unlink(raws->pdata[i]);
  if (ok)
    return TRUE;
  if (local->domain == SCAND_ERROR && local->code == SCAND_ERROR_IO) {
    g_propagate_error(error, g_steal_pointer(&local));
    return FALSE;
  }
  /* The reason (every page blank, a damaged image) goes with the message. */
  g_ptr_array_add(r->problems, g_strdup_printf("%s: %s", names->str, local->message));
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "no document could be taken");
  return FALSE;
}

/* document.pdf of job from the attachments: through the intake profile's
 * page processing when it asks for some; else a single PDF byte for byte,
 * anything else assembled and concatenated by pages. */
static gboolean build_document(Routing *r, ScandJob *job, GPtrArray *atts, guint *pages, GError **error) {
  const char *dir = scand_job_get_dir(job);
  const char *doc = scand_job_get_pdf_path(job);
  if (r->profile) {
    scand_job_set(job, "profile", r->profile);
    scand_job_pages_copy_profile(job, r->config, r->profile);
    if (scand_job_pages_wanted(job))
      return build_processed(r, job, atts, error) && scand_pdf_count_pages(doc, pages, error);
  }
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

/* The mail's facts put over f (a job's: its identity, the document's facts
 * from page processing, profile, pages): mail_to is the recipients the job
 * is for (one while routing). Strings are borrowed from r and stem. */
static void mail_facts(Routing *r, ScandJobFacts *f, const ScandAttachment *first, const char *stem,
                       const char *mail_to, const char *recipient) {
  f->source_kind = "mail";
  f->trigger = "mail";
  f->device_name = r->intake;
  f->intake = r->intake;
  f->sender = r->mail_from;
  f->mail_from = r->mail_from;
  f->mail_to = mail_to;
  f->recipient = recipient;
  f->subject = scand_received_mail_get_subject(r->mail);
  f->attachment = stem;
  f->attachment_file = first->filename;
  f->mail_from_header = scand_received_mail_get_from_address(r->mail);
  f->mail_from_name = scand_received_mail_get_from_name(r->mail);
  f->message_id = scand_received_mail_get_message_id(r->mail);
  f->client_ip = r->client_ip;
  f->auth_user = r->auth_user;
  f->queue_id = r->queue_id;
}

/* The job's facts: the document's (doc: the first job of the group, whose
 * document it shares) and the mail's. */
static void set_facts(Routing *r, ScandJob *job, ScandJob *doc, GPtrArray *atts, Group *g) {
  ScandJobFacts f = *scand_job_get_facts(job);
  if (doc != job) {
    const ScandJobFacts *d = scand_job_get_facts(doc);
    f.profile = d->profile;
    f.barcode = d->barcode;
    f.blanks = d->blanks;
    f.mode = d->mode;
  }
  g_ptr_array_add(g->rcpts, NULL);
  g_autofree char *to = g_strjoinv(", ", (char **) g->rcpts->pdata);
  g_ptr_array_remove_index(g->rcpts, g->rcpts->len - 1);
  g_autofree char *stem = attachment_stem(atts->pdata[0]);
  mail_facts(r, &f, atts->pdata[0], stem, to, g->rcpts->pdata[0]);
  scand_job_set_facts(job, &f);
}

/* Groups the recipients by the route the rules give each. */
static GPtrArray *group_recipients(Routing *r, ScandJob *doc, const ScandAttachment *first, guint pages) {
  GPtrArray *groups = g_ptr_array_new_with_free_func((GDestroyNotify) group_free);
  for (guint i = 0; r->rcpts[i]; i++) {
    g_autofree char *stem = attachment_stem(first);
    ScandJobFacts facts = *scand_job_get_facts(doc);
    facts.pages = pages;
    mail_facts(r, &facts, first, stem, r->rcpts[i], r->rcpts[i]);
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
static gboolean make_group_job(Routing *r, ScandJob *job, ScandJob *doc, GPtrArray *atts, Group *g, guint pages,
                               GError **error) {
  set_facts(r, job, doc, atts, g);
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
  g_autoptr(GPtrArray) groups = group_recipients(r, first, atts->pdata[0], pages);
  for (guint i = 0; i < groups->len; i++) {
    g_autoptr(ScandJob) extra = i ? scand_job_create(r->held, &error) : NULL;
    ScandJob *job = i ? extra : first;
    if (!job || (extra && !link_document(first, extra, &error)) ||
        !make_group_job(r, job, first, atts, groups->pdata[i], pages, &error)) {
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
  r->profile = r->intake ? g_strdup(scand_config_get(r->config, "intake", r->intake, "profile")) : NULL;
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
