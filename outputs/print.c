/* The printer output: sends the PDF to a CUPS queue and waits until the job
 * has really been printed (job-state completed), so that "done" means paper.
 *
 * Idempotence: the CUPS job id is recorded in the delivery state right after
 * Create-Job and before a byte of the document is sent. A later attempt asks
 * CUPS about that job first: completed means done (no second print), still
 * queued means keep waiting, and a job whose document never arrived (a crash
 * mid-send) is cancelled and replaced. */
#include "outputs/output-private.h"
#include "outputs/print-private.h"
#include "scand/base/error.h"
#include "scand/base/fault.h"

#include <cups/cups.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PRINT_TIMEOUT_DEFAULT_S (5 * 60)
#define PRINT_POLL_MS 200
#define STATE_JOB_ID "print-job-id"
#define STATE_QUEUE "print-queue"
#define STATE_SENT "print-sent"

static const ScandConfigKey print_keys[] = {
  { "queue", SCAND_KEY_STRING, NULL, 0, 0 },
  { "copies", SCAND_KEY_INT, NULL, 1, 999 },
  { "duplex", SCAND_KEY_ENUM, "one-sided|two-sided-long-edge|two-sided-short-edge", 0, 0 },
  { "media", SCAND_KEY_STRING, NULL, 0, 0 },
  { "timeout", SCAND_KEY_DURATION, NULL, 0, 0 },
  { NULL, 0, NULL, 0, 0 },
};

/* Whether the NULL-terminated vector v (may be NULL) holds s. */
static gboolean strv_has(const char *const *v, const char *s) {
  return v && g_strv_contains(v, s);
}

/* printer-state-reasons without the noise CUPS adds ("none", "paused" says
 * nothing that "stopped" did not), joined for a message. Newly allocated. */
static char *print_reasons_text(const char *const *reasons) {
  g_autoptr(GPtrArray) kept = g_ptr_array_new();
  for (guint i = 0; reasons && reasons[i]; i++)
    if (strcmp(reasons[i], "none") != 0 && strcmp(reasons[i], "paused") != 0)
      g_ptr_array_add(kept, (gpointer) reasons[i]);
  g_ptr_array_add(kept, NULL);
  return g_strjoinv(", ", (char **) kept->pdata);
}

char *scand_print_queue_problem(int printer_state, gboolean accepting, const char *state_message,
                                const char *const *reasons) {
  g_autofree char *why = state_message && *state_message ? g_strdup(state_message) : print_reasons_text(reasons);
  if (printer_state == IPP_PSTATE_STOPPED)
    return *why ? g_strdup_printf("is stopped: %s", why) : g_strdup("is stopped (no reason given)");
  if (!accepting)
    return *why ? g_strdup_printf("is not accepting jobs: %s", why) : g_strdup("is not accepting jobs");
  return NULL;
}

ScandDeliveryResult scand_print_job_outcome(int job_state, const char *const *reasons, const char *state_message,
                                            char **cause) {
  g_autofree char *why = state_message && *state_message ? g_strdup(state_message) : print_reasons_text(reasons);
  *cause = NULL;
  switch (job_state) {
    case IPP_JSTATE_COMPLETED:
      return SCAND_DELIVERY_DONE;
    case IPP_JSTATE_ABORTED:
      *cause = *why ? g_strdup_printf("was aborted by the printer: %s", why) : g_strdup("was aborted by the printer");
      return SCAND_DELIVERY_FAILED;
    case IPP_JSTATE_CANCELED:
      *cause = *why ? g_strdup_printf("was canceled: %s", why) : g_strdup("was canceled");
      return SCAND_DELIVERY_FAILED;
    default:
      if (strv_has(reasons, "printer-stopped"))
        *cause = g_strdup("is waiting because the printer is stopped");
      else if (job_state == IPP_JSTATE_HELD)
        *cause = *why ? g_strdup_printf("is held: %s", why) : g_strdup("is held");
      return SCAND_DELIVERY_RETRY;
  }
}

ScandDeliveryResult scand_print_status_outcome(int ipp_status) {
  switch (ipp_status) {
    case IPP_STATUS_ERROR_SERVICE_UNAVAILABLE:
    case IPP_STATUS_ERROR_INTERNAL:
    case IPP_STATUS_ERROR_DEVICE:
    case IPP_STATUS_ERROR_TEMPORARY:
    case IPP_STATUS_ERROR_NOT_ACCEPTING_JOBS:
    case IPP_STATUS_ERROR_BUSY:
    case IPP_STATUS_ERROR_TIMEOUT:
    case IPP_STATUS_ERROR_CUPS_PKI:
      return SCAND_DELIVERY_RETRY;
    default:
      return SCAND_DELIVERY_FAILED;
  }
}

gboolean scand_print_queue_name_valid(const char *name) {
  if (!name || !*name || strlen(name) > 127)
    return FALSE;
  for (const unsigned char *p = (const unsigned char *) name; *p; p++)
    if (*p <= ' ' || *p == 0x7f || strchr("/#\\'\"", *p))
      return FALSE;
  return TRUE;
}

/* The output's settings and connection for one delivery. */
typedef struct {
  const char *output;
  const char *queue; /* configured; NULL = CUPS default */
  int copies;
  const char *duplex;
  const char *media;
  gint64 timeout_s;
  http_t *http;
} PrintCtx;

static void print_ctx_clear(PrintCtx *c) {
  g_clear_pointer(&c->http, httpClose);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PrintCtx, print_ctx_clear)

/* Reads and checks the output's keys; FAILED-worthy error when one is malformed. */
static gboolean print_ctx_load(ScandDelivery *d, PrintCtx *c, GError **error) {
  memset(c, 0, sizeof *c);
  c->output = scand_delivery_get_output_name(d);
  c->queue = scand_delivery_get_config(d, "queue");
  if (c->queue && !*c->queue)
    c->queue = NULL;
  if (c->queue && !scand_print_queue_name_valid(c->queue)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "output '%s': queue = '%s' is not a valid CUPS queue name",
                c->output, c->queue);
    return FALSE;
  }
  const char *copies = scand_delivery_get_config(d, "copies");
  guint64 n = 1;
  if (copies && !g_ascii_string_to_unsigned(copies, 10, 1, 999, &n, NULL)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "output '%s': copies = '%s' is not a number from 1 to 999",
                c->output, copies);
    return FALSE;
  }
  c->copies = (int) n;
  c->duplex = scand_delivery_get_config(d, "duplex");
  if (c->duplex && strcmp(c->duplex, "one-sided") != 0 && strcmp(c->duplex, "two-sided-long-edge") != 0 &&
      strcmp(c->duplex, "two-sided-short-edge") != 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "output '%s': duplex = '%s' is not one-sided, two-sided-long-edge or two-sided-short-edge", c->output,
                c->duplex);
    return FALSE;
  }
  c->media = scand_delivery_get_config(d, "media");
  const char *timeout = scand_delivery_get_config(d, "timeout");
  c->timeout_s = PRINT_TIMEOUT_DEFAULT_S;
  if (timeout && !scand_config_parse_duration(timeout, &c->timeout_s)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "output '%s': timeout = '%s' is not a duration", c->output,
                timeout);
    return FALSE;
  }
  return TRUE;
}

/* Connects to the CUPS server (CUPS_SERVER, client.conf, or the local
 * socket). A server that is not there is a RETRY. */
static gboolean print_connect(PrintCtx *c, GError **error) {
  const char *server = cupsServer();
  c->http = httpConnect2(server, ippPort(), NULL, AF_UNSPEC, cupsEncryption(), 1, 30000, NULL);
  if (!c->http) {
    /* errno after a failed httpConnect2() is whatever its clean-up left. */
    int errsv = errno;
    struct stat st;
    const char *why;
    if (server[0] == '/')
      why = stat(server, &st) < 0 ? g_strerror(errno) : "nothing is listening on that socket";
    else
      why = errsv && errsv != EBADF ? g_strerror(errsv) : "connection failed";
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_RETRY,
                "output '%s': cannot reach the CUPS server at %s: %s — will retry", c->output, server, why);
    return FALSE;
  }
  return TRUE;
}

/* Sets error from the last CUPS request and says whether to retry. */
static ScandDeliveryResult print_request_failed(PrintCtx *c, const char *queue, const char *what, GError **error) {
  ipp_status_t status = cupsLastError();
  ScandDeliveryResult result = scand_print_status_outcome(status);
  g_set_error(error, SCAND_ERROR, result == SCAND_DELIVERY_RETRY ? SCAND_ERROR_RETRY : SCAND_ERROR_FAILED,
              "output '%s': printer queue '%s': %s failed: %s%s", c->output, queue, what, cupsLastErrorString(),
              result == SCAND_DELIVERY_RETRY ? " — will retry" : "");
  return result;
}

/* A string-array attribute as a NULL-terminated vector (newly allocated). */
static GStrv print_attr_strv(ipp_t *ipp, const char *name) {
  ipp_attribute_t *attr = ippFindAttribute(ipp, name, IPP_TAG_ZERO);
  int n = attr ? ippGetCount(attr) : 0;
  GStrv v = g_new0(char *, n + 1);
  for (int i = 0; i < n; i++)
    v[i] = g_strdup(ippGetString(attr, i, NULL));
  return v;
}

/* The first value of a string attribute, or NULL (owned by ipp). */
static const char *print_attr_string(ipp_t *ipp, const char *name) {
  ipp_attribute_t *attr = ippFindAttribute(ipp, name, IPP_TAG_ZERO);
  return attr ? ippGetString(attr, 0, NULL) : NULL;
}

/* Asks CUPS whether queue exists and can take a job now: DONE with *problem
 * NULL when it can, DONE with *problem (newly allocated, "is stopped: …")
 * when it is stopped or not accepting, FAILED/RETRY with error when CUPS
 * could not answer or the queue does not exist. */
static ScandDeliveryResult print_queue_state(PrintCtx *c, const char *queue, char **problem, GError **error) {
  static const char *const attrs[] = { "printer-state", "printer-state-message", "printer-state-reasons",
                                       "printer-is-accepting-jobs" };
  char uri[HTTP_MAX_URI];
  httpAssembleURIf(HTTP_URI_CODING_ALL, uri, sizeof uri, "ipp", NULL, "localhost", 0, "/printers/%s", queue);
  ipp_t *req = ippNewRequest(IPP_OP_GET_PRINTER_ATTRIBUTES);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "printer-uri", NULL, uri);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL, cupsUser());
  ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", G_N_ELEMENTS(attrs), NULL, attrs);
  ipp_t *resp = cupsDoRequest(c->http, req, "/");
  if (cupsLastError() == IPP_STATUS_ERROR_NOT_FOUND) {
    ippDelete(resp);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND, "output '%s': printer queue '%s' does not exist on %s",
                c->output, queue, cupsServer());
    return SCAND_DELIVERY_FAILED;
  }
  if (!resp || cupsLastError() > IPP_STATUS_OK_CONFLICTING) {
    ippDelete(resp);
    return print_request_failed(c, queue, "asking for its state", error);
  }
  ipp_attribute_t *state = ippFindAttribute(resp, "printer-state", IPP_TAG_ENUM);
  ipp_attribute_t *accepting = ippFindAttribute(resp, "printer-is-accepting-jobs", IPP_TAG_BOOLEAN);
  g_auto(GStrv) reasons = print_attr_strv(resp, "printer-state-reasons");
  *problem = scand_print_queue_problem(state ? ippGetInteger(state, 0) : IPP_PSTATE_IDLE,
                                       accepting ? ippGetBoolean(accepting, 0) : TRUE,
                                       print_attr_string(resp, "printer-state-message"), (const char *const *) reasons);
  ippDelete(resp);
  return SCAND_DELIVERY_DONE;
}

/* Whether a new job may be sent to queue now; RETRY (stopped, not accepting,
 * CUPS busy) and FAILED (no such queue) set error. */
static ScandDeliveryResult print_check_queue(PrintCtx *c, const char *queue, GError **error) {
  g_autofree char *problem = NULL;
  ScandDeliveryResult result = print_queue_state(c, queue, &problem, error);
  if (result != SCAND_DELIVERY_DONE)
    return result;
  if (problem) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_RETRY, "output '%s': printer queue '%s' %s — will retry", c->output,
                queue, problem);
    return SCAND_DELIVERY_RETRY;
  }
  return SCAND_DELIVERY_DONE;
}

/* A job's state as CUPS reports it. */
typedef struct {
  gboolean found;
  int state;
  int documents; /* number-of-documents; -1 if not reported */
  GStrv reasons;
  char *message;
} PrintJobInfo;

static void print_job_info_clear(PrintJobInfo *j) {
  g_clear_pointer(&j->reasons, g_strfreev);
  g_clear_pointer(&j->message, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(PrintJobInfo, print_job_info_clear)

/* Fetches job's state. FALSE with error (and *result) when CUPS could not be
 * asked; a job CUPS no longer knows is found = FALSE. */
static gboolean print_get_job(PrintCtx *c, const char *queue, int job_id, PrintJobInfo *j, ScandDeliveryResult *result,
                              GError **error) {
  static const char *const attrs[] = { "job-state", "job-state-reasons", "job-state-message",
                                       "job-printer-state-message", "number-of-documents" };
  memset(j, 0, sizeof *j);
  char uri[HTTP_MAX_URI];
  httpAssembleURIf(HTTP_URI_CODING_ALL, uri, sizeof uri, "ipp", NULL, "localhost", 0, "/jobs/%d", job_id);
  ipp_t *req = ippNewRequest(IPP_OP_GET_JOB_ATTRIBUTES);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_URI, "job-uri", NULL, uri);
  ippAddString(req, IPP_TAG_OPERATION, IPP_TAG_NAME, "requesting-user-name", NULL, cupsUser());
  ippAddStrings(req, IPP_TAG_OPERATION, IPP_TAG_KEYWORD, "requested-attributes", G_N_ELEMENTS(attrs), NULL, attrs);
  ipp_t *resp = cupsDoRequest(c->http, req, "/");
  if (cupsLastError() == IPP_STATUS_ERROR_NOT_FOUND) {
    ippDelete(resp);
    return TRUE;
  }
  if (!resp || cupsLastError() > IPP_STATUS_OK_CONFLICTING) {
    ippDelete(resp);
    g_autofree char *what = g_strdup_printf("asking for the state of job %d", job_id);
    *result = print_request_failed(c, queue, what, error);
    return FALSE;
  }
  ipp_attribute_t *state = ippFindAttribute(resp, "job-state", IPP_TAG_ENUM);
  ipp_attribute_t *docs = ippFindAttribute(resp, "number-of-documents", IPP_TAG_INTEGER);
  j->found = TRUE;
  j->state = state ? ippGetInteger(state, 0) : IPP_JSTATE_PENDING;
  j->documents = docs ? ippGetInteger(docs, 0) : -1;
  j->reasons = print_attr_strv(resp, "job-state-reasons");
  const char *msg = print_attr_string(resp, "job-state-message");
  if (!msg || !*msg)
    msg = print_attr_string(resp, "job-printer-state-message");
  j->message = g_strdup(msg);
  ippDelete(resp);
  return TRUE;
}

/* Drops the record of an earlier job so that the next attempt starts afresh. */
static gboolean print_forget_job(ScandDelivery *d, GError **error) {
  return scand_delivery_set_state(d, STATE_SENT, NULL, error) &&
         scand_delivery_set_state(d, STATE_JOB_ID, NULL, error) &&
         scand_delivery_set_state(d, STATE_QUEUE, NULL, error);
}

/* Waits until job_id leaves the queue or timeout_s passes. */
static ScandDeliveryResult print_wait(PrintCtx *c, const char *queue, int job_id, GError **error) {
  gint64 deadline = g_get_monotonic_time() + c->timeout_s * G_USEC_PER_SEC;
  for (;;) {
    g_auto(PrintJobInfo) j;
    ScandDeliveryResult result;
    if (!print_get_job(c, queue, job_id, &j, &result, error))
      return result;
    if (!j.found) {
      /* The whole document was accepted and CUPS has forgotten the job: with
       * PreserveJobHistory off (or MaxJobs reached) finished jobs are purged
       * at once, and cupsd keeps unfinished jobs across restarts. Printing
       * again would risk a second copy, which is worse. */
      return SCAND_DELIVERY_DONE;
    }
    g_autofree char *cause = NULL;
    result = scand_print_job_outcome(j.state, (const char *const *) j.reasons, j.message, &cause);
    if (result == SCAND_DELIVERY_DONE)
      return result;
    if (result == SCAND_DELIVERY_FAILED) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "output '%s': printer queue '%s': job %d %s", c->output,
                  queue, job_id, cause);
      return result;
    }
    if (cause || g_get_monotonic_time() >= deadline) {
      /* The job stays queued and recorded: the next attempt waits for it
       * instead of printing again. */
      g_autofree char *problem = NULL;
      if (strv_has((const char *const *) j.reasons, "printer-stopped"))
        print_queue_state(c, queue, &problem, NULL);
      if (problem)
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_RETRY,
                    "output '%s': printer queue '%s' %s — job %d stays queued, will retry", c->output, queue, problem,
                    job_id);
      else
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_RETRY, "output '%s': printer queue '%s': job %d %s — will retry",
                    c->output, queue, job_id,
                    cause                              ? cause
                    : j.state == IPP_JSTATE_PROCESSING ? "is still printing"
                                                       : "is still waiting");
      return SCAND_DELIVERY_RETRY;
    }
    g_usleep(PRINT_POLL_MS * 1000);
  }
}

/* Creates a job on queue, records its id, streams the PDF into it. */
static ScandDeliveryResult print_submit(ScandDelivery *d, PrintCtx *c, const char *queue, int *job_id, GError **error) {
  const char *file = scand_delivery_get_file(d);
  int fd = open(file, O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int errsv = errno;
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "output '%s': cannot open %s: %s", c->output, file,
                g_strerror(errsv));
    return SCAND_DELIVERY_FAILED;
  }
  cups_option_t *options = NULL;
  int n = 0;
  if (c->copies > 1)
    n = cupsAddIntegerOption("copies", c->copies, n, &options);
  if (c->duplex)
    n = cupsAddOption("sides", c->duplex, n, &options);
  if (c->media)
    n = cupsAddOption("media", c->media, n, &options);
  const char *name = scand_delivery_get_name(d);
  g_autofree char *title = g_path_get_basename(name ? name : file);

  *job_id = cupsCreateJob(c->http, queue, title, n, options);
  cupsFreeOptions(n, options);
  if (*job_id <= 0) {
    close(fd);
    return print_request_failed(c, queue, "Create-Job", error);
  }
  g_autofree char *id_text = g_strdup_printf("%d", *job_id);
  g_autoptr(GError) local = NULL;
  if (!scand_delivery_set_state(d, STATE_QUEUE, queue, &local) ||
      !scand_delivery_set_state(d, STATE_JOB_ID, id_text, &local)) {
    close(fd);
    cupsCancelJob2(c->http, queue, *job_id, 0);
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "output '%s': cannot record print job %d: %s — will retry",
                c->output, *job_id, local->message);
    return SCAND_DELIVERY_RETRY;
  }
  scand_fault_point("print-job-created");

  ScandDeliveryResult result = SCAND_DELIVERY_DONE;
  if (cupsStartDocument(c->http, queue, *job_id, title, "application/pdf", 1) != HTTP_STATUS_CONTINUE) {
    result = print_request_failed(c, queue, "Send-Document", error);
  } else {
    char buf[65536];
    for (;;) {
      ssize_t r = read(fd, buf, sizeof buf);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0) {
        int errsv = errno;
        g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "output '%s': cannot read %s: %s", c->output, file,
                    g_strerror(errsv));
        result = SCAND_DELIVERY_FAILED;
        break;
      }
      if (r == 0)
        break;
      if (cupsWriteRequestData(c->http, buf, (size_t) r) != HTTP_STATUS_CONTINUE) {
        result = print_request_failed(c, queue, "sending the document", error);
        break;
      }
    }
    ipp_status_t status = cupsFinishDocument(c->http, queue);
    if (result == SCAND_DELIVERY_DONE && status > IPP_STATUS_OK_CONFLICTING)
      result = print_request_failed(c, queue, "Send-Document", error);
  }
  close(fd);
  if (result != SCAND_DELIVERY_DONE) {
    /* Nothing of this job will print; the next attempt starts a fresh one. */
    cupsCancelJob2(c->http, queue, *job_id, 0);
    print_forget_job(d, NULL);
    return result;
  }
  if (!scand_delivery_set_state(d, STATE_SENT, "1", &local)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_IO, "output '%s': cannot record print job %d: %s — will retry",
                c->output, *job_id, local->message);
    return SCAND_DELIVERY_RETRY;
  }
  scand_fault_point("print-sent");
  return SCAND_DELIVERY_DONE;
}

/* A daemon has nobody to type a password: requests that need one fail
 * (forbidden / not authorized) instead of prompting on a terminal. */
static const char *print_no_password(const char *prompt, http_t *http, const char *method, const char *resource,
                                     void *user_data) {
  return NULL;
}

/* Prints and waits for the printer to finish. */
static ScandDeliveryResult print_deliver(ScandDelivery *d, GError **error) {
  g_auto(PrintCtx) c;
  cupsSetPasswordCB2(print_no_password, NULL);
  if (!print_ctx_load(d, &c, error))
    return SCAND_DELIVERY_FAILED;
  if (!print_connect(&c, error))
    return SCAND_DELIVERY_RETRY;

  /* An earlier attempt created a job: finish that one. */
  const char *recorded = scand_delivery_get_state(d, STATE_JOB_ID);
  const char *recorded_queue = scand_delivery_get_state(d, STATE_QUEUE);
  gint64 old_id;
  if (recorded && recorded_queue && g_ascii_string_to_signed(recorded, 10, 1, G_MAXINT, &old_id, NULL)) {
    g_autofree char *queue = g_strdup(recorded_queue);
    gboolean sent = scand_delivery_get_state(d, STATE_SENT) != NULL;
    g_auto(PrintJobInfo) j;
    ScandDeliveryResult result;
    if (!print_get_job(&c, queue, (int) old_id, &j, &result, error))
      return result;
    gboolean document_arrived = sent || j.documents > 0;
    if (j.found ? (j.state == IPP_JSTATE_COMPLETED || document_arrived) : sent)
      return print_wait(&c, queue, (int) old_id, error);
    /* Never complete (crash mid-send) or gone: drop it and print afresh. */
    if (j.found && j.state < IPP_JSTATE_CANCELED)
      cupsCancelJob2(c.http, queue, (int) old_id, 0);
    if (!print_forget_job(d, error))
      return SCAND_DELIVERY_RETRY;
  }

  const char *queue = c.queue;
  if (!queue) {
    queue = cupsGetDefault2(c.http);
    if (!queue) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND,
                  "output '%s': no queue is configured and CUPS at %s has no default printer", c.output, cupsServer());
      return SCAND_DELIVERY_FAILED;
    }
  }
  g_autofree char *queue_name = g_strdup(queue);
  ScandDeliveryResult result = print_check_queue(&c, queue_name, error);
  if (result != SCAND_DELIVERY_DONE)
    return result;
  int job_id = 0;
  result = print_submit(d, &c, queue_name, &job_id, error);
  if (result != SCAND_DELIVERY_DONE)
    return result;
  return print_wait(&c, queue_name, job_id, error);
}

/* Extra checks for `scand config check`. */
static void print_check(ScandConfig *config, const char *name, GPtrArray *problems) {
  const char *queue = scand_config_get(config, "output", name, "queue");
  if (queue && !scand_print_queue_name_valid(queue)) {
    g_autofree char *where = scand_config_where(config, "output", name, "queue");
    g_ptr_array_add(problems, g_strdup_printf("%s: [output %s] queue: '%s' is not a valid CUPS queue name "
                                              "(no spaces, '/', '#', quotes or backslashes)",
                                              where, name, queue));
  }
}

const ScandOutputDriver scand_output_print = {
  .type = "print",
  .keys = print_keys,
  .check = print_check,
  .deliver = print_deliver,
};
