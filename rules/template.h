/* File-name templates: "{date:%Y-%m-%d}/{device}-{time:%H%M%S}.pdf".
 *
 * Fields: {date[:FMT]} {time[:FMT]} (strftime-style, of the job's creation
 * time; defaults %Y-%m-%d and %H%M%S), {device}, {profile}, {pages}, {seq}
 * (zero-padded to 4, or {seq:N} digits), {source}, {job}, {barcode} (the
 * document's barcode, from page processing), {blanks} (its blank pages). "{{" and "}}" are
 * literal braces. Values that come from devices are made safe (path separators
 * and control characters become "_"). The expansion is a relative path that
 * cannot climb out of the destination: "..", ".", empty components, absolute
 * paths, control characters and over-long names are refused. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  GDateTime *time; /* required */
  const char *device;
  const char *profile;
  const char *source;
  const char *job;
  guint pages;
  guint seq;
  const char *barcode; /* page processing: the document's barcode */
  const char *blanks;  /* page processing: its blank pages, "2,5" */
} ScandTemplateFacts;

/* Checks syntax and that no expansion can escape (at config check time).
 * Errors name the offending part: "unknown field {foo}", "'..' would leave the
 * destination", … */
gboolean scand_template_check(const char *tmpl, GError **error);

/* Expands; newly allocated relative path, or NULL with error. */
char *scand_template_expand(const char *tmpl, const ScandTemplateFacts *facts, GError **error);

/* Replaces characters that are unsafe in one path component of any file system
 * scand writes to (/, \, control characters, and : * ? " < > | for SMB/FAT) with
 * '_' and trims leading dots and spaces. Newly allocated; never empty. */
char *scand_template_sanitize_component(const char *value);

G_END_DECLS
