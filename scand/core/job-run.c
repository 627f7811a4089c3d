#include "scand/core/job-run.h"
#include "scand/base/progress.h"
#include "scand/base/error.h"
#include "scand/base/fault.h"
#include "scand/base/fs.h"
#include "scand/base/metrics.h"
#include "scand/core/job-pages.h"
#include "scand/core/job-private.h"
#include "scand/core/pdf-merge.h"
#include "scand/core/pdf.h"
#include "outputs/output.h"
#include "rules/rules.h"
#include "rules/template.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A sink that counts bytes for progress, holds a device to the scanner's
 * page caps (max-pages, max-page-bytes) and forwards to the job's sink. */
typedef struct {
  ScandPageSink sink;
  ScandPageSink *inner;
  ScandJobProgressFunc progress;
  gpointer user_data;
  const char *device;
  guint page;
  guint64 bytes;
  gint64 last_report;
  ScandJobPages *pages; /* page processing, fed each page as it is saved; NULL = none */
  const char *ext;      /* of the page being written */
  const char *dir;
  guint page_limit;
  guint64 page_bytes_limit;
} ProgressSink;

static gboolean progress_begin(ScandPageSink *sink, const ScandPageHeader *header, GError **error) {
  ProgressSink *p = (ProgressSink *) sink;
  if (p->page >= p->page_limit) {
    /* An endless feeder (or a device gone mad) must not fill the disk. */
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED,
                "%s: the device sends more than max-pages = %u pages; stopped, the %u pages before are kept", p->device,
                p->page_limit, p->page);
    return FALSE;
  }
  p->page++;
  p->bytes = 0;
  p->last_report = 0;
  p->ext = scand_page_format_extension(header->format);
  if (p->progress)
    p->progress("scanning", p->page, 0, p->user_data);
  return p->inner->begin(p->inner, header, error);
}

static gboolean progress_write(ScandPageSink *sink, const void *data, gsize len, GError **error) {
  ProgressSink *p = (ProgressSink *) sink;
  p->bytes += len;
  scand_progress_beat();
  if (p->bytes > p->page_bytes_limit) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED,
                "%s: page %u is larger than max-page-bytes = %" G_GUINT64_FORMAT
                " bytes; refused, the %u pages before are kept",
                p->device, p->page, p->page_bytes_limit, p->page - 1);
    return FALSE;
  }
  gint64 now = g_get_monotonic_time();
  if (p->progress && now - p->last_report > G_USEC_PER_SEC / 2) {
    p->last_report = now;
    p->progress("scanning", p->page, p->bytes, p->user_data);
  }
  return p->inner->write(p->inner, data, len, error);
}

static gboolean progress_end(ScandPageSink *sink, GError **error) {
  ProgressSink *p = (ProgressSink *) sink;
  if (!p->inner->end(p->inner, error))
    return FALSE;
  if (p->progress)
    p->progress("page-saved", p->page, p->bytes, p->user_data);
  /* The page is durable: the workers read it while the next one scans. */
  if (p->pages) {
    g_autofree char *path = g_strdup_printf("%s/page-%04u.%s", p->dir, p->page, p->ext);
    scand_job_pages_submit(p->pages, path, p->page);
  }
  return TRUE;
}

static void progress_abort(ScandPageSink *sink) {
  ProgressSink *p = (ProgressSink *) sink;
  p->page--;
  p->inner->abort(p->inner);
}

gboolean scand_job_run_scan(ScandJob *job, ScandScanner *scanner, const ScandScanSettings *settings,
                            ScandJobProgressFunc progress, gpointer user_data, GError **error) {
  g_autoptr(GError) processing_error = NULL;
  g_autoptr(ScandJobPages) processing = scand_job_pages_new(job, &processing_error);
  if (processing_error)
    scand_job_set(job, "processing-problems", processing_error->message);
  ProgressSink ps = {
    .sink = { progress_begin, progress_write, progress_end, progress_abort },
    .inner = scand_job_get_page_sink(job),
    .progress = progress,
    .user_data = user_data,
    .pages = processing,
    .dir = scand_job_get_dir(job),
    .device = scand_scanner_get_uri(scanner),
    .page_limit = settings->page_limit ? settings->page_limit : SCAND_SCAN_PAGE_LIMIT_DEFAULT,
    .page_bytes_limit = settings->page_bytes_limit ? settings->page_bytes_limit : SCAND_SCAN_PAGE_BYTES_LIMIT_DEFAULT,
  };
  g_autoptr(GError) scan_error = NULL;
  ScandScanSettings effective = *settings;
  gboolean ok = scand_scanner_start(scanner, settings, &effective, &scan_error);
  if (ok) {
    ScandJobFacts facts = *scand_job_get_facts(job);
    facts.resolution = (guint) MAX(effective.resolution, 0);
    scand_job_set_facts(job, &facts);
    for (;;) {
      gboolean got_page = FALSE;
      if (!scand_scanner_read_page(scanner, &ps.sink, &got_page, &scan_error)) {
        ok = FALSE;
        break;
      }
      if (!got_page)
        break;
    }
  }
  if (processing) {
    /* The last pages' analyses: each is saved beside its page. */
    if (progress)
      progress("processing", scand_job_count_pages(job), 0, user_data);
    g_clear_pointer(&processing, scand_job_pages_free);
  }
  guint pages = scand_job_count_pages(job);
  if (pages == 0) {
    /* Nothing was accepted, so there is nothing to keep. */
    g_autoptr(GError) rm_error = NULL;
    scand_job_remove(job, &rm_error);
    if (!ok) {
      g_propagate_error(error, g_steal_pointer(&scan_error));
      return FALSE;
    }
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "%s: the scan produced no page", scand_scanner_get_uri(scanner));
    return FALSE;
  }
  ScandJobFacts facts = *scand_job_get_facts(job);
  facts.pages = pages;
  g_autofree char *why = ok ? NULL : g_strdup_printf("interrupted after page %u: %s", pages, scan_error->message);
  if (why)
    facts.interrupted = why;
  scand_job_set_facts(job, &facts);
  g_autoptr(GError) save_error = NULL;
  if (!scand_job_set_stage(job, SCAND_JOB_SCANNED, &save_error)) {
    if (!ok)
      g_prefix_error(&scan_error, "%s; ", save_error->message);
    g_propagate_error(error, ok ? g_steal_pointer(&save_error) : g_steal_pointer(&scan_error));
    return FALSE;
  }
  scand_fault_point("scan-finished");
  /* Documents and facts (barcode) are known now, before routing. A failure
   * here (every page blank) is reported when the job is assembled. */
  g_autoptr(GError) process_error = NULL;
  scand_job_run_process(job, &process_error);
  if (!ok) {
    g_propagate_error(error, g_steal_pointer(&scan_error));
    return FALSE;
  }
  return TRUE;
}

/* The delivery name from the job's template and facts, now that the page
 * count is known. */
static char *job_expand_name(ScandJob *job, guint pages, GError **error) {
  ScandJobFacts facts = *scand_job_get_facts(job);
  g_autoptr(GDateTime) now = facts.time ? NULL : g_date_time_new_now_local();
  if (!facts.time)
    facts.time = now;
  facts.pages = pages;
  return scand_template_expand(facts.template ? facts.template : SCAND_DEFAULT_NAME_TEMPLATE, &facts, error);
}

gboolean scand_job_run_set_name(ScandJob *job, guint pages, GError **error) {
  g_autofree char *name = job_expand_name(job, pages, error);
  if (!name)
    return FALSE;
  ScandJobFacts facts = *scand_job_get_facts(job);
  facts.name = name;
  facts.pages = pages;
  scand_job_set_facts(job, &facts);
  return TRUE;
}

static gboolean is_pdf_page(const char *path) {
  return g_str_has_suffix(path, ".pdf");
}

/* Image pages through libhpdf into one PDF. */
static gboolean assemble_images(GPtrArray *pages, guint from, guint to, const ScandPdfOptions *options, double dpi,
                                const char *out, const char *job_id, GError **error) {
  g_autoptr(ScandPdf) pdf = scand_pdf_new(options, error);
  if (!pdf)
    return FALSE;
  for (guint i = from; i < to; i++, scand_progress_beat())
    if (!scand_pdf_add_file(pdf, pages->pdata[i], dpi, error)) {
      g_prefix_error(error, "job %s: ", job_id);
      return FALSE;
    }
  return scand_pdf_save(pdf, out, error);
}

/* document.pdf from the job's pages. Devices that send PDF pages (some eSCL
 * scanners offer nothing else) get them merged by pages, untouched; runs of
 * image pages between them are assembled first. */
static gboolean assemble_pages(ScandJob *job, GPtrArray *pages, const ScandPdfOptions *options, double dpi,
                               GError **error) {
  const char *id = scand_job_get_id(job);
  gboolean any_pdf = FALSE;
  for (guint i = 0; i < pages->len; i++)
    any_pdf |= is_pdf_page(pages->pdata[i]);
  if (!any_pdf)
    return assemble_images(pages, 0, pages->len, options, dpi, scand_job_get_pdf_path(job), id, error);
  g_autoptr(GPtrArray) parts = g_ptr_array_new_with_free_func(g_free);
  for (guint i = 0; i < pages->len;) {
    if (is_pdf_page(pages->pdata[i])) {
      g_ptr_array_add(parts, g_strdup(pages->pdata[i++]));
      continue;
    }
    guint end = i;
    while (end < pages->len && !is_pdf_page(pages->pdata[end]))
      end++;
    g_autofree char *part = g_strdup_printf("%s/images-%04u.pdf", scand_job_get_dir(job), i + 1);
    if (!assemble_images(pages, i, end, options, dpi, part, id, error))
      return FALSE;
    g_ptr_array_add(parts, g_steal_pointer(&part));
    i = end;
  }
  g_ptr_array_add(parts, NULL);
  if (!scand_pdf_concatenate((const char *const *) parts->pdata, scand_job_get_pdf_path(job), error)) {
    g_prefix_error(error, "job %s: ", id);
    return FALSE;
  }
  return TRUE;
}

/* document.pdf from the processed pages the job keeps ("document-pages"):
 * each page's file untouched or its re-encoded image, with its text. */
static gboolean assemble_processed(ScandJob *job, GPtrArray *pages, const char *document,
                                   const ScandPdfOptions *options, double dpi, guint *n_pages, GError **error) {
  g_autoptr(GError) local = NULL;
  g_autoptr(ScandJobPages) jp = scand_job_pages_new(job, &local);
  if (!jp) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "job %s: %s", scand_job_get_id(job),
                local ? local->message : "processed pages but no processing keys");
    return FALSE;
  }
  g_autoptr(GPtrArray) analyses = scand_job_pages_collect(jp, pages, NULL);
  ScandPagePart part = { .pages = g_array_new(FALSE, FALSE, sizeof(guint)) };
  g_auto(GStrv) numbers = g_strsplit(document, ",", -1);
  gboolean ok = TRUE;
  for (guint i = 0; ok && numbers[i]; i++) {
    guint64 n = 0;
    ok = g_ascii_string_to_unsigned(numbers[i], 10, 1, pages->len, &n, NULL);
    guint index = (guint) n - 1;
    if (ok)
      g_array_append_val(part.pages, index);
  }
  *n_pages = part.pages->len;
  if (!ok || !part.pages->len) {
    g_array_unref(part.pages);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "job %s: damaged document-pages \"%s\"", scand_job_get_id(job),
                document);
    return FALSE;
  }
  g_autoptr(ScandPdf) pdf = scand_pdf_new(options, error);
  ok = pdf && scand_page_part_add_to_pdf(&part, pages, analyses, dpi, pdf, error) &&
       scand_pdf_save(pdf, scand_job_get_pdf_path(job), error);
  g_array_unref(part.pages);
  if (!ok)
    g_prefix_error(error, "job %s: ", scand_job_get_id(job));
  return ok;
}

gboolean scand_job_run_assemble(ScandJob *job, GError **error) {
  g_autoptr(GPtrArray) pages = scand_page_list(scand_job_get_dir(job), error);
  if (!pages)
    return FALSE;
  if (pages->len == 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "job %s has no pages to assemble", scand_job_get_id(job));
    return FALSE;
  }
  const ScandJobFacts *f = scand_job_get_facts(job);
  g_autoptr(GDateTime) when = f->created ? g_date_time_new_from_iso8601(f->created, NULL) : NULL;
  ScandPdfOptions options = {
    .raw_mode = f->lossless ? SCAND_PDF_RAW_FLATE : SCAND_PDF_RAW_JPEG,
    .jpeg_quality = (int) f->jpeg_quality,
    .pdfa = f->pdfa,
    .title = f->title,
    .created = when,
    .default_dpi = (double) f->resolution,
    .scratch_dir = scand_job_get_dir(job),
  };
  double dpi = (double) f->resolution;
  if (!scand_job_run_process(job, error))
    return FALSE;
  const char *document = scand_job_get(job, "document-pages");
  guint n_pages = pages->len;
  if (document ? !assemble_processed(job, pages, document, &options, dpi, &n_pages, error)
               : !assemble_pages(job, pages, &options, dpi, error))
    return FALSE;
  scand_fault_point("pdf-written");
  return scand_job_run_set_assembled(job, n_pages, error);
}

gboolean scand_job_run_set_assembled(ScandJob *job, guint pages, GError **error) {
  if (!scand_job_run_set_name(job, pages, error))
    return FALSE;
  if (!scand_job_set_stage(job, SCAND_JOB_ASSEMBLED, error))
    return FALSE;
  scand_fault_point("job-assembled");
  return TRUE;
}

/* Whether the job's document is there to deliver: a regular file in the
 * job's directory. */
static gboolean document_present(ScandJob *job, GError **error) {
  const char *pdf = scand_job_get_pdf_path(job);
  struct stat st;
  if (lstat(pdf, &st) == 0 && S_ISREG(st.st_mode))
    return TRUE;
  int errsv = errno;
  if (lstat(pdf, &st) == 0)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_CORRUPT,
                "job %s: its document %s is not a regular file: nothing to deliver", scand_job_get_id(job), pdf);
  else if (errsv == ENOENT)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND,
                "job %s: its document %s is missing from the spool (removed by hand?): nothing to deliver — "
                "scand cancel %s drops the job",
                scand_job_get_id(job), pdf, scand_job_get_id(job));
  else
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "job %s: cannot read its document %s: %s", scand_job_get_id(job),
                pdf, g_strerror(errsv));
  return FALSE;
}

/* Tries destination i once and records the outcome. */
static ScandDeliveryResult deliver_one(ScandJob *job, guint i, const ScandRetryPolicy *policy, GPtrArray *messages,
                                       GError **error) {
  ScandDelivery *d = scand_job_get_delivery(job, i);
  const char *type = scand_delivery_get_config(d, "type");
  const ScandOutputDriver *driver = scand_output_driver_find(type);
  g_autoptr(GError) local = NULL;
  ScandDeliveryResult result;
  double seconds = 0;
  if (!driver) {
    g_set_error(&local, SCAND_ERROR, SCAND_ERROR_INVAL, "output %s: unknown type \"%s\"",
                scand_job_get_destination_name(job, i), type ? type : "");
    result = SCAND_DELIVERY_FAILED;
  } else if (!document_present(job, &local)) {
    /* Retrying cannot bring a missing document back; an I/O error may pass. */
    result = g_error_matches(local, SCAND_ERROR, SCAND_ERROR_IO) ? SCAND_DELIVERY_RETRY : SCAND_DELIVERY_FAILED;
  } else {
    scand_job_set_retry_after(job, i, 0);
    scand_progress_beat();
    gint64 t0 = g_get_monotonic_time();
    result = driver->deliver(d, &local);
    seconds = (double) (g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
    scand_progress_beat();
  }
  ScandDestState new_state = result == SCAND_DELIVERY_DONE    ? SCAND_DEST_DONE
                             : result == SCAND_DELIVERY_RETRY ? SCAND_DEST_RETRY
                                                              : SCAND_DEST_FAILED;
  if (result != SCAND_DELIVERY_DONE && !local)
    g_set_error(&local, SCAND_ERROR, SCAND_ERROR_FAILED, "output %s: delivery failed",
                scand_job_get_destination_name(job, i));
  ScandDestTimes times;
  scand_job_get_destination_times(job, i, &times);
  gint64 first = times.first;
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  if (new_state == SCAND_DEST_RETRY && scand_retry_policy_expired(policy, first, now)) {
    /* Retrying forever hides a destination that is gone for good. */
    g_prefix_error(&local, "gave up after %" G_GINT64_FORMAT " h of retrying: ", (now - first) / 3600);
    new_state = SCAND_DEST_FAILED;
    result = SCAND_DELIVERY_FAILED;
  }
  if (new_state == SCAND_DEST_RETRY) {
    gint64 attempts = scand_job_get_destination_attempts(job, i) + 1;
    /* A server's Retry-After counts from the next whole second, so that 12 s
     * is never tried again after 11.x s (the queue compares whole seconds);
     * the policy's own delays stay as they were. */
    gint64 from = times.retry_after > 0 ? (g_get_real_time() + G_USEC_PER_SEC - 1) / G_USEC_PER_SEC : now;
    scand_job_set_destination_next_attempt(job, i,
                                           from + scand_retry_policy_delay(policy, attempts, times.retry_after));
  }
  scand_metrics_delivery(scand_job_get_destination_name(job, i),
                         result == SCAND_DELIVERY_DONE    ? "done"
                         : result == SCAND_DELIVERY_RETRY ? "retry"
                                                          : "failed",
                         seconds);
  /* Deferred, a "done" waits for the caller's barrier only where a retry would
   * find the delivery anyway; anywhere else it is durable before anything
   * else happens, or a crash would make the retry deliver it twice. */
  gboolean defer = scand_job_durability_deferred(job);
  gboolean findable = result == SCAND_DELIVERY_DONE && driver && driver->finds_own_attempt;
  if (defer && findable) {
    scand_job_note_destination_result(job, i, new_state, NULL); /* saved, if at all, by scand_job_run_deliver() */
  } else {
    if (defer && result == SCAND_DELIVERY_DONE)
      scand_job_defer_durability(job, FALSE);
    gboolean recorded = scand_job_set_destination_result(job, i, new_state, local ? local->message : NULL, error);
    scand_job_defer_durability(job, defer);
    if (!recorded)
      return SCAND_DELIVERY_RETRY;
  }
  if (result == SCAND_DELIVERY_DONE)
    scand_fault_point("delivery-recorded");
  else if (messages)
    g_ptr_array_add(messages, g_strdup(local->message));
  return result;
}

/* Whether destination i has failed long or often enough for the rule's
 * fallback. A destination that failed for good qualifies at once; one that is
 * retrying only once the policy says so — never before. */
static gboolean fallback_due(ScandJob *job, const ScandJobFallback *fallback, guint i) {
  ScandDestState state = scand_job_get_destination_state(job, i);
  if (state == SCAND_DEST_FAILED)
    return TRUE;
  if (state != SCAND_DEST_RETRY)
    return FALSE;
  ScandDestTimes times;
  scand_job_get_destination_times(job, i, &times);
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  return (fallback->attempts > 0 && scand_job_get_destination_attempts(job, i) >= fallback->attempts) ||
         (fallback->after > 0 && times.first > 0 && now - times.first >= fallback->after);
}

/* Adds the rule's fallback as a destination, once, when a primary one is due. */
static gboolean maybe_add_fallback(ScandJob *job, GError **error) {
  ScandJobFallback fallback;
  scand_job_get_fallback(job, &fallback);
  if (!fallback.set || fallback.used)
    return FALSE;
  gboolean due = FALSE;
  for (guint i = 0; i < scand_job_get_n_destinations(job); i++)
    due |= fallback_due(job, &fallback, i);
  return due && scand_job_use_fallback(job, error);
}

static ScandDeliveryResult run_deliver(ScandJob *job, const ScandRetryPolicy *policy, GPtrArray *messages,
                                       GError **error) {
  if (!scand_job_promote_split_children(job, error))
    return SCAND_DELIVERY_RETRY;
  if (scand_job_get_n_destinations(job) == 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "job %s has no destination", scand_job_get_id(job));
    return SCAND_DELIVERY_FAILED;
  }
  for (guint i = 0; i < scand_job_get_n_destinations(job); i++) {
    ScandDestState state = scand_job_get_destination_state(job, i);
    if (state == SCAND_DEST_DONE || state == SCAND_DEST_SUPERSEDED)
      continue;
    deliver_one(job, i, policy, messages, error);
    if (error && *error)
      return SCAND_DELIVERY_RETRY;
    /* The fallback goes to the end of the list, so this loop reaches it. */
    g_autoptr(GError) local = NULL;
    if (!maybe_add_fallback(job, &local) && local) {
      g_propagate_error(error, g_steal_pointer(&local));
      return SCAND_DELIVERY_RETRY;
    }
  }
  /* A delivered fallback stands in for the destinations it replaced. */
  ScandJobFallback fallback;
  scand_job_get_fallback(job, &fallback);
  if (fallback.used) {
    guint fb = fallback.index;
    if (fb < scand_job_get_n_destinations(job) && scand_job_get_destination_state(job, fb) == SCAND_DEST_DONE) {
      for (guint i = 0; i < fb; i++) {
        ScandDestState state = scand_job_get_destination_state(job, i);
        if (state == SCAND_DEST_RETRY || state == SCAND_DEST_FAILED)
          scand_job_supersede_destination(job, i);
      }
      if (!scand_job_save(job, error))
        return SCAND_DELIVERY_RETRY;
    }
  }
  gboolean any_failed = FALSE, any_retry = FALSE;
  for (guint i = 0; i < scand_job_get_n_destinations(job); i++) {
    ScandDestState state = scand_job_get_destination_state(job, i);
    any_failed |= state == SCAND_DEST_FAILED;
    any_retry |= state == SCAND_DEST_RETRY || state == SCAND_DEST_PENDING;
  }
  if (any_retry)
    return SCAND_DELIVERY_RETRY;
  const ScandJobFacts *facts = scand_job_get_facts(job);
  if (any_failed) {
    if (!scand_job_set_stage(job, SCAND_JOB_FAILED, error))
      return SCAND_DELIVERY_RETRY;
    scand_metrics_job_finished(facts->source_kind, "failed", facts->pages);
    return SCAND_DELIVERY_FAILED;
  }
  scand_metrics_job_finished(facts->source_kind, "done", facts->pages);
  /* A kept job stays, done, until whoever keeps it lets it go. */
  if (scand_job_get_keep(job)) {
    if (!scand_job_set_stage(job, SCAND_JOB_DONE, error))
      return SCAND_DELIVERY_RETRY;
    return SCAND_DELIVERY_DONE;
  }
  /* Deferred: the caller removes it (see scand_job_defer_durability()). */
  if (scand_job_durability_deferred(job))
    return SCAND_DELIVERY_DONE;
  /* Every destination is recorded done, so removing the job is the last step:
   * a crash before it only makes the next start remove it. What a deferred
   * delivery left for a retry goes first (the job names it). */
  scand_job_run_settle(job);
  scand_fault_point("job-done");
  g_autoptr(GError) rm_error = NULL;
  if (!scand_job_remove_finished(job, &rm_error) && messages)
    g_ptr_array_add(messages, g_strdup(rm_error->message));
  return SCAND_DELIVERY_DONE;
}

/* Settles the destinations done, or all of them for a finished job (whose
 * job.ini need not say so: scand_job_finish_deferred()). */
static void settle(ScandJob *job, gboolean finished) {
  for (guint i = 0; i < scand_job_get_n_destinations(job); i++) {
    const ScandOutputDriver *driver = scand_output_driver_find(scand_job_get_destination_config(job, i, "type"));
    if (driver && driver->settle && (finished || scand_job_get_destination_state(job, i) == SCAND_DEST_DONE))
      driver->settle(scand_job_get_delivery(job, i));
  }
}

void scand_job_run_settle(ScandJob *job) {
  settle(job, FALSE);
}

ScandDeliveryResult scand_job_run_deliver(ScandJob *job, const ScandRetryPolicy *policy, GPtrArray *messages,
                                          GError **error) {
  ScandDeliveryResult r = run_deliver(job, policy, messages, error);
  /* Deferred, the outcomes noted in memory only are saved, to be made durable
   * by the caller's barrier; a finished job is recorded so by the caller
   * (scand_job_finish_deferred()). */
  if (scand_job_durability_deferred(job) && !(r == SCAND_DELIVERY_DONE && !scand_job_get_keep(job))) {
    g_autoptr(GError) local = NULL;
    if (!scand_job_save(job, &local) && error && !*error) {
      g_propagate_error(error, g_steal_pointer(&local));
      return SCAND_DELIVERY_RETRY;
    }
  }
  return r;
}

/* A document split off a file (job-take.c), still pending: promoted and
 * delivered when its parent was committed; left alone while the parent is
 * locked (being taken); removed when the parent never was committed (the
 * file is still in its folder and will be taken again). */
static ScandDeliveryResult resume_pending_split(ScandJob *job, const ScandRetryPolicy *policy, GPtrArray *messages,
                                                GError **error) {
  const char *parent_id = scand_job_get(job, "split-from");
  g_autoptr(GError) local = NULL;
  g_autoptr(ScandJob) parent = parent_id ? scand_job_open(job->spool, parent_id, &local) : NULL;
  if (!parent && g_error_matches(local, SCAND_ERROR, SCAND_ERROR_BUSY))
    return SCAND_DELIVERY_RETRY;
  if (parent && scand_job_get_stage(parent) != SCAND_JOB_SCANNING) {
    if (!scand_job_promote_split_child(job, error))
      return SCAND_DELIVERY_RETRY;
    return scand_job_run_deliver(job, policy, messages, error);
  }
  scand_job_remove(job, NULL);
  return SCAND_DELIVERY_DONE;
}

ScandDeliveryResult scand_job_run_resume(ScandJob *job, const ScandRetryPolicy *policy, GPtrArray *messages,
                                         GError **error) {
  switch (scand_job_get_stage(job)) {
    case SCAND_JOB_SCANNING: {
      if (scand_job_get(job, "split-pending"))
        return resume_pending_split(job, policy, messages, error);
      /* The process that scanned is gone; its scanner session with it. Keep what
     * it saved. */
      guint pages = scand_job_count_pages(job);
      if (pages == 0) {
        scand_job_remove(job, NULL);
        return SCAND_DELIVERY_DONE;
      }
      ScandJobFacts facts = *scand_job_get_facts(job);
      g_autofree char *why = g_strdup_printf("scanning stopped unexpectedly after page %u", pages);
      if (!facts.interrupted) {
        facts.interrupted = why;
        scand_job_set_facts(job, &facts);
      }
      if (!scand_job_set_stage(job, SCAND_JOB_SCANNED, error))
        return SCAND_DELIVERY_RETRY;
    }
      /* fall through */
    case SCAND_JOB_SCANNED:
      if (!scand_job_run_assemble(job, error))
        return SCAND_DELIVERY_FAILED;
      /* fall through */
    case SCAND_JOB_ASSEMBLED:
      return scand_job_run_deliver(job, policy, messages, error);
    case SCAND_JOB_DONE:
      if (!scand_job_get_keep(job))
        scand_job_remove(job, NULL);
      return SCAND_DELIVERY_DONE;
    case SCAND_JOB_FAILED:
      return SCAND_DELIVERY_FAILED;
  }
  return SCAND_DELIVERY_FAILED;
}

static gboolean job_retry_due(ScandJob *job) {
  gint64 now = g_get_real_time() / G_USEC_PER_SEC;
  for (guint i = 0; i < scand_job_get_n_destinations(job); i++) {
    if (scand_job_get_destination_state(job, i) != SCAND_DEST_RETRY)
      continue;
    ScandDestTimes times;
    scand_job_get_destination_times(job, i, &times);
    if (times.next > now)
      return FALSE;
  }
  return TRUE;
}

/* Moves a job whose state cannot be understood out of the queue, keeping it. */
static void quarantine(ScandSpool *spool, const char *id, const char *reason, GPtrArray *messages) {
  g_autoptr(GError) error = NULL;
  g_autofree char *where = NULL;
  if (!scand_spool_quarantine(spool, id, reason, &where, &error)) {
    if (messages && !g_error_matches(error, SCAND_ERROR, SCAND_ERROR_BUSY))
      g_ptr_array_add(messages, g_strdup_printf("%s; could not quarantine it: %s", reason, error->message));
    return;
  }
  if (messages)
    g_ptr_array_add(messages, g_strdup_printf("%s — quarantined, nothing deleted: %s (fix it and move it back into "
                                              "the spool, or remove it)",
                                              reason, where));
}

/* Whether job is a document split off a batch whose own job is locked (its
 * scan still under way, or being delivered): that worker routes and
 * delivers it (its barcode may pick another rule), not the queue. */
static gboolean split_parent_busy(ScandSpool *spool, ScandJob *job) {
  const char *parent = scand_job_get(job, "split-from");
  if (!parent)
    return FALSE;
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandJob) p = scand_job_open(spool, parent, &error);
  return !p && g_error_matches(error, SCAND_ERROR, SCAND_ERROR_BUSY);
}

/* Finished jobs a crash left before their drivers settled: settled and
 * removed now. One that cannot be read any more (its removal was under way)
 * is removed as it is. */
static void settle_finished(ScandSpool *spool) {
  g_auto(GStrv) names = scand_spool_list_finished(spool);
  for (guint i = 0; names[i]; i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ScandJob) job = scand_job_open_finished(spool, names[i], &error);
    if (job) {
      settle(job, TRUE);
      scand_job_remove_finished(job, NULL);
    } else if (!g_error_matches(error, SCAND_ERROR, SCAND_ERROR_BUSY)) {
      g_autofree char *path = g_build_filename(scand_spool_get_dir(spool), names[i], NULL);
      scand_fs_remove_tree(path);
    }
  }
}

guint scand_spool_resume_all(ScandSpool *spool, const ScandRetryPolicy *policy, gboolean force, GPtrArray *messages,
                             guint *failed) {
  settle_finished(spool);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) ids = scand_spool_list_jobs(spool, &error);
  if (!ids) {
    if (messages)
      g_ptr_array_add(messages, g_strdup(error->message));
    return 0;
  }
  guint left = 0, n_failed = 0;
  for (guint i = 0; ids[i]; i++, scand_progress_beat()) {
    g_autoptr(GError) local = NULL;
    g_autoptr(ScandJob) job = scand_job_open(spool, ids[i], &local);
    if (!job) {
      if (g_error_matches(local, SCAND_ERROR, SCAND_ERROR_CORRUPT))
        quarantine(spool, ids[i], local->message, messages);
      else if (!g_error_matches(local, SCAND_ERROR, SCAND_ERROR_BUSY) && messages)
        g_ptr_array_add(messages, g_strdup(local->message));
      continue;
    }
    if (scand_job_get_stage(job) == SCAND_JOB_FAILED) {
      n_failed++;
      continue;
    }
    if (split_parent_busy(spool, job)) {
      left++;
      continue;
    }
    if (!force && !job_retry_due(job)) {
      left++;
      continue;
    }
    ScandDeliveryResult r = scand_job_run_resume(job, policy, messages, &local);
    if (local && messages)
      g_ptr_array_add(messages, g_strdup_printf("job %s: %s", ids[i], local->message));
    if (r == SCAND_DELIVERY_RETRY)
      left++;
    else if (r == SCAND_DELIVERY_FAILED)
      n_failed++;
  }
  if (failed)
    *failed = n_failed;
  return left;
}

gboolean scand_job_apply_route(ScandJob *job, ScandConfig *config, const ScandRoute *route, const char *const *to,
                               GError **error) {
  g_autoptr(GStrvBuilder) names = g_strv_builder_new();
  if (to && to[0])
    g_strv_builder_addv(names, (const char **) to);
  else if (route && route->deliver)
    g_strv_builder_addv(names, (const char **) route->deliver);
  g_auto(GStrv) list = g_strv_builder_end(names);
  for (guint i = 0; list[i]; i++) {
    const char *target = list[i];
    /* A destination named twice gets the document once. */
    gboolean again = FALSE;
    for (guint j = 0; j < i; j++)
      again |= strcmp(list[j], target) == 0;
    if (again)
      continue;
    g_autofree char *default_dir = NULL;
    if (strcmp(target, "(default)") == 0) {
      /* The built-in default: ~/Scans if the user made it, else ./scans. */
      g_autofree char *home_scans = g_build_filename(g_get_home_dir(), "Scans", NULL);
      default_dir = g_file_test(home_scans, G_FILE_TEST_IS_DIR) ? g_steal_pointer(&home_scans) : g_strdup("scans");
      target = default_dir;
    }
    g_autofree char *name = NULL;
    g_autoptr(GHashTable) output = scand_output_resolve(config, target, &name, error);
    if (!output || !scand_job_add_destination(job, name, output, error))
      return FALSE;
  }
  if (route && route->rule) {
    ScandJobFacts facts = *scand_job_get_facts(job);
    facts.rule = route->rule;
    scand_job_set_facts(job, &facts);
  }
  if (route && route->fallback && !(to && to[0])) {
    g_autofree char *name = NULL;
    g_autoptr(GHashTable) output = scand_output_resolve(config, route->fallback, &name, error);
    if (!output || !scand_job_set_fallback(job, name, output, route->fallback_after, route->fallback_attempts, error))
      return FALSE;
  }
  return TRUE;
}

void scand_job_list_delivered(ScandJob *job, GPtrArray *places) {
  for (guint i = 0; i < scand_job_get_n_destinations(job); i++) {
    if (scand_job_get_destination_state(job, i) != SCAND_DEST_DONE)
      continue;
    ScandDelivery *d = scand_job_get_delivery(job, i);
    const char *where = scand_delivery_get_state(d, "delivered");
    g_ptr_array_add(
        places, where ? g_strdup(where)
                      : g_strdup_printf("%s: %s", scand_job_get_destination_name(job, i), scand_delivery_get_name(d)));
  }
}
