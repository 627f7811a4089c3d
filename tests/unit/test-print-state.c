/* The printer output's decisions from IPP states: may a job be sent, is a
 * job done, failed or still on its way, is an error worth a retry. */
#include "outputs/print-private.h"

#include <cups/ipp.h>

static void test_queue_problem(void) {
  static const char *const none[] = { "none", NULL };
  static const char *const paused[] = { "paused", NULL };
  static const char *const jam[] = { "media-jam-error", "paused", NULL };

  g_assert_null(scand_print_queue_problem(IPP_PSTATE_IDLE, TRUE, NULL, none));
  g_assert_null(scand_print_queue_problem(IPP_PSTATE_PROCESSING, TRUE, "printing", NULL));

  g_autofree char *a = scand_print_queue_problem(IPP_PSTATE_STOPPED, TRUE, "out of paper", paused);
  g_assert_cmpstr(a, ==, "is stopped: out of paper");
  /* No message: the reasons say why, without CUPS's "paused". */
  g_autofree char *b = scand_print_queue_problem(IPP_PSTATE_STOPPED, TRUE, "", jam);
  g_assert_cmpstr(b, ==, "is stopped: media-jam-error");
  g_autofree char *c = scand_print_queue_problem(IPP_PSTATE_STOPPED, TRUE, NULL, paused);
  g_assert_cmpstr(c, ==, "is stopped (no reason given)");
  g_autofree char *d = scand_print_queue_problem(IPP_PSTATE_IDLE, FALSE, "maintenance", none);
  g_assert_cmpstr(d, ==, "is not accepting jobs: maintenance");
}

static void test_job_outcome(void) {
  static const char *const completed[] = { "job-completed-successfully", NULL };
  static const char *const stopped[] = { "printer-stopped", NULL };
  static const char *const aborted[] = { "aborted-by-system", NULL };
  char *cause = NULL;

  g_assert_cmpint(scand_print_job_outcome(IPP_JSTATE_COMPLETED, completed, NULL, &cause), ==, SCAND_DELIVERY_DONE);
  g_assert_null(cause);

  g_assert_cmpint(scand_print_job_outcome(IPP_JSTATE_PENDING, NULL, NULL, &cause), ==, SCAND_DELIVERY_RETRY);
  g_assert_null(cause);
  g_assert_cmpint(scand_print_job_outcome(IPP_JSTATE_PROCESSING, NULL, "Sending data", &cause), ==,
                  SCAND_DELIVERY_RETRY);
  g_assert_null(cause);

  g_assert_cmpint(scand_print_job_outcome(IPP_JSTATE_PENDING, stopped, NULL, &cause), ==, SCAND_DELIVERY_RETRY);
  g_assert_cmpstr(cause, ==, "is waiting because the printer is stopped");
  g_clear_pointer(&cause, g_free);

  g_assert_cmpint(scand_print_job_outcome(IPP_JSTATE_ABORTED, aborted, "Unable to connect", &cause), ==,
                  SCAND_DELIVERY_FAILED);
  g_assert_cmpstr(cause, ==, "was aborted by the printer: Unable to connect");
  g_clear_pointer(&cause, g_free);

  g_assert_cmpint(scand_print_job_outcome(IPP_JSTATE_ABORTED, aborted, NULL, &cause), ==, SCAND_DELIVERY_FAILED);
  g_assert_cmpstr(cause, ==, "was aborted by the printer: aborted-by-system");
  g_clear_pointer(&cause, g_free);

  g_assert_cmpint(scand_print_job_outcome(IPP_JSTATE_CANCELED, NULL, NULL, &cause), ==, SCAND_DELIVERY_FAILED);
  g_assert_cmpstr(cause, ==, "was canceled");
  g_clear_pointer(&cause, g_free);
}

static void test_status_outcome(void) {
  g_assert_cmpint(scand_print_status_outcome(IPP_STATUS_ERROR_NOT_ACCEPTING_JOBS), ==, SCAND_DELIVERY_RETRY);
  g_assert_cmpint(scand_print_status_outcome(IPP_STATUS_ERROR_SERVICE_UNAVAILABLE), ==, SCAND_DELIVERY_RETRY);
  g_assert_cmpint(scand_print_status_outcome(IPP_STATUS_ERROR_BUSY), ==, SCAND_DELIVERY_RETRY);
  g_assert_cmpint(scand_print_status_outcome(IPP_STATUS_ERROR_INTERNAL), ==, SCAND_DELIVERY_RETRY);
  g_assert_cmpint(scand_print_status_outcome(IPP_STATUS_ERROR_NOT_FOUND), ==, SCAND_DELIVERY_FAILED);
  g_assert_cmpint(scand_print_status_outcome(IPP_STATUS_ERROR_FORBIDDEN), ==, SCAND_DELIVERY_FAILED);
  g_assert_cmpint(scand_print_status_outcome(IPP_STATUS_ERROR_DOCUMENT_FORMAT_NOT_SUPPORTED), ==,
                  SCAND_DELIVERY_FAILED);
}

static void test_queue_name(void) {
  g_assert_true(scand_print_queue_name_valid("q"));
  g_assert_true(scand_print_queue_name_valid("Office_HP-4.2"));
  g_assert_false(scand_print_queue_name_valid(""));
  g_assert_false(scand_print_queue_name_valid(NULL));
  g_assert_false(scand_print_queue_name_valid("two words"));
  g_assert_false(scand_print_queue_name_valid("a/b"));
  g_assert_false(scand_print_queue_name_valid("a#b"));
  g_assert_false(scand_print_queue_name_valid("a\tb"));
  g_autofree char *longname = g_strnfill(128, 'x');
  g_assert_false(scand_print_queue_name_valid(longname));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/print/queue-problem", test_queue_problem);
  g_test_add_func("/print/job-outcome", test_job_outcome);
  g_test_add_func("/print/status-outcome", test_status_outcome);
  g_test_add_func("/print/queue-name", test_queue_name);
  return g_test_run();
}
