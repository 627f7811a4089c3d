/* The ScandDelivery accessors of outputs/output.h, backed by a job's state. */
#include "scand/core/job-private.h"
#include "scand/base/config.h"
#include "scand/base/error.h"

#include <string.h>

static GKeyFile *delivery_state(ScandDelivery *d) {
  return d->job->state;
}

const char *scand_delivery_get_file(ScandDelivery *d) {
  return scand_job_get_pdf_path(d->job);
}

const char *scand_delivery_get_name(ScandDelivery *d) {
  return scand_job_get(d->job, "name");
}

const char *scand_delivery_get_job_id(ScandDelivery *d) {
  return scand_job_get_id(d->job);
}

const char *scand_delivery_get_output_name(ScandDelivery *d) {
  return scand_job_get_destination_name(d->job, d->index);
}

const char *scand_delivery_get_config(ScandDelivery *d, const char *key) {
  g_autofree char *k = g_strdup_printf("config.%s", key);
  return scand_job_keep_string(d->job, d->group, k, g_key_file_get_string(delivery_state(d), d->group, k, NULL));
}

char *scand_delivery_read_secret(ScandDelivery *d, const char *key, GError **error) {
  /* The job keeps a snapshot of the output's keys; rebuild a one-section config
   * from it so that secrets are read by the one implementation that checks
   * permissions and systemd credentials. */
  const char *name = scand_delivery_get_output_name(d);
  const char *path = scand_delivery_get_config(d, key);
  if (!path) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "output %s: no %s is configured", name, key);
    return NULL;
  }
  g_autofree char *data = g_strdup_printf("[output %s]\n%s = %s\n", name, key, path);
  g_autoptr(ScandConfig) config = scand_config_load_data(data, strlen(data), "job", error);
  if (!config)
    return NULL;
  return scand_config_read_secret(config, "output", name, key, error);
}

const char *scand_delivery_get_fact(ScandDelivery *d, const char *key) {
  return scand_job_get(d->job, key);
}

const char *scand_delivery_get_state(ScandDelivery *d, const char *key) {
  g_autofree char *k = g_strdup_printf("state.%s", key);
  return scand_job_keep_string(d->job, d->group, k, g_key_file_get_string(delivery_state(d), d->group, k, NULL));
}

gboolean scand_delivery_set_state(ScandDelivery *d, const char *key, const char *value, GError **error) {
  g_autofree char *k = g_strdup_printf("state.%s", key);
  if (value)
    g_key_file_set_string(delivery_state(d), d->group, k, value);
  else
    g_key_file_remove_key(delivery_state(d), d->group, k, NULL);
  return scand_job_save(d->job, error);
}

void scand_delivery_note_state(ScandDelivery *d, const char *key, const char *value) {
  g_autofree char *k = g_strdup_printf("state.%s", key);
  if (value)
    g_key_file_set_string(delivery_state(d), d->group, k, value);
  else
    g_key_file_remove_key(delivery_state(d), d->group, k, NULL);
}

void scand_delivery_set_retry_after(ScandDelivery *d, gint64 seconds) {
  scand_job_set_retry_after(d->job, d->index, seconds);
}
