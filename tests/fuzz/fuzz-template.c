/* Fuzzes file-name templates: check and expansion with fixed facts, and the
 * input as a device name. Whatever expands must be a safe relative path. */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(gboolean ok, const char *what, const char *name) {
  if (!ok) {
    fprintf(stderr, "fuzz-template: %s: \"%s\"\n", what, name);
    abort();
  }
}

/* The guarantee of rules/template.h, restated independently. */
static void require_safe(const char *name) {
  gsize len = strlen(name);
  require(len > 0 && len <= 1024, "bad length", name);
  require(g_utf8_validate(name, len, NULL), "not UTF-8", name);
  require(name[0] != '/', "absolute", name);
  for (const char *p = name; *p; p++)
    require((guchar) *p >= 0x20 && *p != 0x7f && *p != '\\', "control character or backslash", name);
  g_auto(GStrv) parts = g_strsplit(name, "/", -1);
  for (guint i = 0; parts[i]; i++) {
    require(*parts[i] != '\0', "empty component", name);
    require(strcmp(parts[i], ".") != 0 && strcmp(parts[i], "..") != 0, "dot component", name);
    require(strlen(parts[i]) <= 255, "component too long", name);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* Templates are C strings; an embedded NUL simply ends one. */
  g_autofree char *text = g_strndup((const char *) data, size);
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
  g_autoptr(GDateTime) time = g_date_time_new(utc, 2026, 11, 28, 4, 5, 6);
  ScandJobFacts facts = {
    .time = time,
    .device_name = "office",
    .profile = "letter",
    .source = "scan",
    .job = "job-1",
    .pages = 3,
    .seq = 7,
  };

  g_autoptr(GError) e1 = NULL;
  gboolean checked = scand_template_check(text, &e1);
  require(checked == (e1 == NULL), "check and error disagree", text);

  g_autoptr(GError) e2 = NULL;
  g_autofree char *name = scand_template_expand(text, &facts, &e2);
  require((name == NULL) == (e2 != NULL), "expand and error disagree", text);
  if (name)
    require_safe(name);

  /* The input as what a device calls itself. */
  facts.device = facts.profile = facts.source = facts.job = text;
  facts.subject = facts.sender = facts.recipient = facts.attachment = text;
  g_autoptr(GError) e3 = NULL;
  g_autofree char *hostile = scand_template_expand(
      "{date}/{device}-{profile}/{source}{job}{subject}/{sender}{recipient}{attachment}.pdf", &facts, &e3);
  if (hostile)
    require_safe(hostile);
  g_autofree char *component = scand_template_sanitize_component(text);
  require(*component != '\0' && strchr(component, '/') == NULL && strcmp(component, "..") != 0 && component[0] != '.' &&
              strlen(component) <= 255 && g_utf8_validate(component, -1, NULL),
          "unsafe component", component);
  return 0;
}
