/* The ScandDelivery accessors of outputs/output.h, backed by the job. */
#include "scand/core/job-private.h"
#include "rules/template.h"
#include "scand/base/error.h"
#include "scand/base/secret.h"

const char *scand_delivery_get_file(ScandDelivery *d) {
  return scand_job_get_pdf_path(d->job);
}

const char *scand_delivery_get_name(ScandDelivery *d) {
  return scand_job_get_facts(d->job)->name;
}

const char *scand_delivery_get_job_id(ScandDelivery *d) {
  return scand_job_get_id(d->job);
}

const char *scand_delivery_get_output_name(ScandDelivery *d) {
  return scand_job_get_destination_name(d->job, d->index);
}

const char *scand_delivery_get_config(ScandDelivery *d, const char *key) {
  return scand_job_get_destination_config(d->job, d->index, key);
}

char *scand_delivery_read_secret(ScandDelivery *d, const char *key, GError **error) {
  /* The job keeps a snapshot of the output's keys; the secret itself is read
   * where it lives, by the one reader that checks permissions and systemd
   * credentials. */
  const char *name = scand_delivery_get_output_name(d);
  const char *value = scand_delivery_get_config(d, key);
  if (!value) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "output %s: no %s is configured", name, key);
    return NULL;
  }
  char *secret = scand_secret_read(value, error);
  if (!secret)
    g_prefix_error(error, "output %s: %s: ", name, key);
  return secret;
}

const char *scand_delivery_get_fact(ScandDelivery *d, const char *key) {
  return scand_job_get(d->job, key);
}

char *scand_delivery_expand_text(ScandDelivery *d, const char *tmpl) {
  return scand_template_expand_text(tmpl, scand_job_get_facts(d->job));
}

const char *scand_delivery_get_state(ScandDelivery *d, const char *key) {
  return scand_job_get_delivery_state(d->job, d->index, key);
}

gboolean scand_delivery_set_state(ScandDelivery *d, const char *key, const char *value, GError **error) {
  scand_job_set_delivery_state(d->job, d->index, key, value);
  /* What a retry must find is durable before the outside effect it describes. */
  return scand_job_save_durable(d->job, error);
}

void scand_delivery_note_state(ScandDelivery *d, const char *key, const char *value) {
  scand_job_set_delivery_state(d->job, d->index, key, value);
}

gboolean scand_delivery_is_deferred(ScandDelivery *d) {
  return scand_job_durability_deferred(d->job);
}

void scand_delivery_set_retry_after(ScandDelivery *d, gint64 seconds) {
  scand_job_set_retry_after(d->job, d->index, seconds);
}
