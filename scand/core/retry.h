/* The delivery queue's retry policy: a value each run takes from its own
 * configuration, so that a reload (SIGHUP) never changes it under a worker
 * that is using it.
 *
 * A destination that asks to retry waits min_seconds, doubling per attempt up
 * to max_seconds, with ±20 % jitter (a server's Retry-After wins); after
 * max_age_seconds of retrying (0 = never) it fails for good. */
#pragma once

#include <glib.h>
#include "scand/base/config.h"

G_BEGIN_DECLS

typedef struct {
  gint64 min_seconds;     /* [scand] retry-min */
  gint64 max_seconds;     /* [scand] retry-max */
  gint64 max_age_seconds; /* [scand] retry-max-age */
} ScandRetryPolicy;

/* The defaults, written once: 30 s, 1 h, 7 days. */
extern const ScandRetryPolicy scand_retry_policy_default;

/* The policy of config's [scand] section (the defaults for keys not set);
 * FALSE with a "file:line: …" error for a malformed value. */
gboolean scand_retry_policy_from_config(ScandConfig *config, ScandRetryPolicy *out, GError **error);

/* Seconds to wait before attempt number attempts + 1 (attempts >= 1 made so
 * far); retry_after > 0 (the server's) wins. policy NULL = the defaults. */
gint64 scand_retry_policy_delay(const ScandRetryPolicy *policy, gint64 attempts, gint64 retry_after);

/* Whether a destination retrying since first_attempt (unix seconds) has
 * retried too long at now. */
gboolean scand_retry_policy_expired(const ScandRetryPolicy *policy, gint64 first_attempt, gint64 now);

G_END_DECLS
