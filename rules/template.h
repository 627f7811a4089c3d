/* The one template engine: file names, mail subjects and bodies.
 *
 * File names: "{date:%Y-%m-%d}/{device}-{time:%H%M%S}.pdf". Fields:
 * {date[:FMT]} {time[:FMT]} (strftime-style, of the job's creation time;
 * defaults %Y-%m-%d and %H%M%S), {seq} (zero-padded to 4, or {seq:N} digits),
 * and the facts the facts table (scand/base/facts.c) lets into names:
 * {device}, {profile}, {pages}, {source}, {job}, {barcode} (the document's
 * barcode, from page processing), {blanks} (its blank pages). "{{" and "}}" are literal
 * braces. Values that come from devices are made safe (path separators and
 * control characters become "_"). The expansion is a relative path that
 * cannot climb out of the destination: "..", ".", empty components, absolute
 * paths, control characters and over-long names are refused.
 *
 * Subjects and bodies (scand_template_expand_text): the same syntax and the
 * facts the table lets into text ({device}, {pages}, {name}, {profile},
 * {job}, {date} as "%Y-%m-%d %H:%M", {time}); never fails. */
#pragma once

#include <glib.h>
#include "scand/base/facts.h"

G_BEGIN_DECLS

/* Checks syntax and that no expansion can escape (at config check time).
 * Errors name the offending part: "unknown field {foo}", "'..' would leave the
 * destination", … */
gboolean scand_template_check(const char *tmpl, GError **error);

/* Expands a file-name template; newly allocated relative path, or NULL with
 * error. facts->time is required when the template has {date} or {time}. */
char *scand_template_expand(const char *tmpl, const ScandJobFacts *facts, GError **error);

/* Expands a subject or body: an unknown field stays as written, an unset
 * fact reads as its text default ("scanner", "?", "scan.pdf"), {name} is the
 * delivered file's base name, and the time is now when facts->time is NULL.
 * Newly allocated; tmpl NULL is "". */
char *scand_template_expand_text(const char *tmpl, const ScandJobFacts *facts);

/* Replaces characters that are unsafe in one path component of any file system
 * scand writes to (/, \, control characters, and : * ? " < > | for SMB/FAT) with
 * '_' and trims leading dots and spaces. Newly allocated; never empty. */
char *scand_template_sanitize_component(const char *value);

G_END_DECLS
