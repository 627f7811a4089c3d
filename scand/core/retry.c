#include "scand/core/retry.h"

const ScandRetryPolicy scand_retry_policy_default = {
  .min_seconds = 30,
  .max_seconds = 3600,
  .max_age_seconds = 7 * 24 * 3600,
};

gboolean scand_retry_policy_from_config(ScandConfig *config, ScandRetryPolicy *out, GError **error) {
  const ScandRetryPolicy *d = &scand_retry_policy_default;
  return scand_config_get_duration(config, "scand", NULL, "retry-min", d->min_seconds, &out->min_seconds, error) &&
         scand_config_get_duration(config, "scand", NULL, "retry-max", d->max_seconds, &out->max_seconds, error) &&
         scand_config_get_duration(config, "scand", NULL, "retry-max-age", d->max_age_seconds, &out->max_age_seconds,
                                   error);
}

/* retry-min, doubling per attempt up to retry-max (30 s … 1 h by default),
 * with ±20 % jitter so that many queued jobs do not hit a server that comes
 * back all at the same second. */
gint64 scand_retry_policy_delay(const ScandRetryPolicy *policy, gint64 attempts, gint64 retry_after) {
  if (retry_after > 0)
    return retry_after;
  const ScandRetryPolicy *p = policy ? policy : &scand_retry_policy_default;
  gint64 min = MAX(p->min_seconds, 1), max = MAX(p->max_seconds, min);
  gint64 delay = min;
  for (gint64 i = 1; i < attempts && delay < max; i++)
    delay *= 2;
  delay = MIN(delay, max);
  return delay + g_random_int_range((gint32) (-delay / 5), (gint32) (delay / 5) + 1);
}

gboolean scand_retry_policy_expired(const ScandRetryPolicy *policy, gint64 first_attempt, gint64 now) {
  const ScandRetryPolicy *p = policy ? policy : &scand_retry_policy_default;
  return p->max_age_seconds > 0 && first_attempt > 0 && now - first_attempt >= p->max_age_seconds;
}
