/* `scand config check`: everything a running scand would trip on, found
 * before it runs. */
#pragma once

#include "scand/base/config.h"

G_BEGIN_DECLS

/* Checks unknown sections and keys, wrong value types, references to missing
 * outputs/profiles, secret files that are missing or readable by others,
 * unsafe templates, and each output driver's own checks. Returns a newly
 * allocated array of one-line messages "file:line: [section] key: problem"
 * (empty when all is well). */
GPtrArray *scand_config_check(ScandConfig *config);

/* The schema of a section kind ({NULL}-terminated, static), or NULL for an
 * unknown kind. For "output" it is "type", whose values are the output
 * driver table's types; each type adds its driver's keys. */
const ScandConfigKey *scand_config_schema(const char *kind);

/* Levenshtein distance, capped: returns cap + 1 as soon as it is exceeded
 * (for "did you mean" hints). */
guint scand_config_edit_distance(const char *a, const char *b, guint cap);

G_END_DECLS
