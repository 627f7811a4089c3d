/* File-name templates: every field, every way out of the destination. */
#include <glib.h>
#include <string.h>

#include "rules/rules.h"
#include "rules/template.h"
#include "scand/base/error.h"

static GDateTime *fixed_time(void) {
  g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
  return g_date_time_new(utc, 2026, 11, 28, 4, 5, 6);
}

static char *expand(const char *tmpl, const char *device, GError **error) {
  g_autoptr(GDateTime) time = fixed_time();
  ScandJobFacts facts = {
    .time = time,
    .device_name = device,
    .profile = "letter",
    .source = "scan",
    .job = "job-1",
    .pages = 3,
    .seq = 7,
  };
  return scand_template_expand(tmpl, &facts, error);
}

static void assert_expands(const char *tmpl, const char *device, const char *expected) {
  g_autoptr(GError) error = NULL;
  g_autofree char *name = expand(tmpl, device, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(name, ==, expected);
  /* What expands for these facts passes the check as well. */
  g_assert_true(scand_template_check(tmpl, &error));
  g_assert_no_error(error);
}

/* Fails both at expansion and at check time with the same message. */
static void assert_refused(const char *tmpl, const char *message) {
  g_autoptr(GError) error = NULL;
  g_autofree char *name = expand(tmpl, "office", &error);
  g_assert_null(name);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  g_assert_cmpstr(error->message, ==, message);
  g_clear_error(&error);
  g_assert_false(scand_template_check(tmpl, &error));
  g_assert_cmpstr(error->message, ==, message);
}

static void test_fields(void) {
  assert_expands("{date}", "office", "2026-11-28");
  assert_expands("{time}", "office", "040506");
  assert_expands("{date:%Y/%m}/x.pdf", "office", "2026/11/x.pdf");
  assert_expands("{time:%H-%M}.pdf", "office", "04-05.pdf");
  assert_expands("{device}.pdf", "office", "office.pdf");
  assert_expands("{profile}-{source}-{job}.pdf", "office", "letter-scan-job-1.pdf");
  assert_expands("{pages}p.pdf", "office", "3p.pdf");
  assert_expands("{seq}.pdf", "office", "0007.pdf");
  assert_expands("{seq:2}.pdf", "office", "07.pdf");
  assert_expands("{seq:9}.pdf", "office", "000000007.pdf");
  assert_expands("{{literal}}.pdf", "office", "{literal}.pdf");
  assert_expands("Büro {date:%d.%m.%Y}.pdf", "office", "Büro 28.11.2026.pdf");
  assert_expands(SCAND_DEFAULT_NAME_TEMPLATE, "office", "scan-2026-11-28-040506.pdf");
  assert_expands("{date:%Y-%m-%d}/{device}-{time:%H%M%S}.pdf", "office", "2026-11-28/office-040506.pdf");
  /* A fact the job does not have. */
  assert_expands("{device}.pdf", NULL, "unknown.pdf");
  assert_expands("{device}.pdf", "", "unknown.pdf");
}

static void test_device_values(void) {
  /* Whatever a device calls itself stays one harmless component. */
  assert_expands("{device}.pdf", "../../etc", "_.._etc.pdf");
  assert_expands("{device}", "..", "_");
  assert_expands("{device}", ".", "_");
  assert_expands("{device}", "/etc/passwd", "_etc_passwd");
  assert_expands("{device}",
                 "a\nb\x01"
                 "c\x7f",
                 "a_b_c_");
  assert_expands("{device}", "C:\\x*?\"<>|", "C__x______");
  assert_expands("{device}", "  .hidden", "hidden");
  assert_expands("{device}", "escl:https://mfp.example/eSCL", "escl_https___mfp.example_eSCL");
  assert_expands("x/{device}",
                 "\xc2\x85"
                 "next",
                 "x/_next");                                /* U+0085, a C1 control */
  assert_expands("{device}", "B\xfcro", "B\xef\xbf\xbdro"); /* not UTF-8 */

  /* Overlong values are cut to one valid component. */
  g_autofree char *longv = g_strnfill(1000, 'x');
  g_autofree char *cut = g_strnfill(255, 'x');
  assert_expands("{device}", longv, cut);
  GString *umlauts = g_string_new(NULL);
  for (int i = 0; i < 200; i++)
    g_string_append(umlauts, "ü");
  g_autoptr(GError) error = NULL;
  g_autofree char *name = expand("{device}", umlauts->str, &error);
  g_string_free(umlauts, TRUE);
  g_assert_no_error(error);
  g_assert_cmpuint(strlen(name), ==, 254);
  g_assert_true(g_utf8_validate(name, -1, NULL));

  /* Five of them exceed the total length. */
  g_autofree char *five = expand("{device}/{device}/{device}/{device}/{device}", longv, &error);
  g_assert_null(five);
  g_assert_cmpstr(error->message, ==, "expands to 1279 bytes, more than 1024");

  g_autofree char *s1 = scand_template_sanitize_component(NULL);
  g_assert_cmpstr(s1, ==, "_");
  g_autofree char *s2 = scand_template_sanitize_component("...");
  g_assert_cmpstr(s2, ==, "_");
  g_autofree char *s3 = scand_template_sanitize_component("Scan 01.pdf");
  g_assert_cmpstr(s3, ==, "Scan 01.pdf");
}

static void test_escapes(void) {
  assert_refused("../x.pdf", "'..' would leave the destination (part 1 of the path)");
  assert_refused("a/../b.pdf", "'..' would leave the destination (part 2 of the path)");
  assert_refused("a/..", "'..' would leave the destination (part 2 of the path)");
  assert_refused("/abs/x.pdf", "expands to an absolute path: a leading '/' would leave the destination");
  assert_refused("./x.pdf", "expands to '.' as part 1 of the path");
  assert_refused("a//b.pdf", "expands to an empty path component (part 2: '//' or a trailing '/')");
  assert_refused("dir/", "expands to an empty path component (part 2: '//' or a trailing '/')");
  assert_refused("", "expands to an empty name");
  assert_refused("a\tb.pdf", "control character at position 2");
  assert_refused("a\x7f.pdf", "control character at position 2");
  assert_refused("a\\..\\b.pdf", "backslash at position 2: use '/' to separate directories");
  /* Date formats are the admin's too, and checked the same way. */
  assert_refused("{date:..}/x.pdf", "'..' would leave the destination (part 1 of the path)");
  assert_refused("{date:/%Y}/x.pdf", "expands to an absolute path: a leading '/' would leave the destination");
  assert_refused("{date:%Y%n}.pdf", "expands to a name with a control character at byte 5");
  assert_refused("{time:%H%t}.pdf", "expands to a name with a control character at byte 3");
  assert_refused("{date:%Y\\..\\%m}.pdf", "expands to a name with a backslash at byte 5");

  g_autofree char *long_component = g_strnfill(256, 'a');
  assert_refused(long_component, "part 1 of the path is 256 bytes, more than 255");
  GString *long_name = g_string_new(NULL);
  for (int i = 0; i < 6; i++) {
    g_autofree char *part = g_strnfill(200, 'a' + i);
    g_string_append_printf(long_name, "%s%s", i ? "/" : "", part);
  }
  g_autofree char *long_total = g_string_free(long_name, FALSE);
  assert_refused(long_total, "expands to 1205 bytes, more than 1024");
  g_autofree char *huge = g_strnfill(5000, 'a');
  assert_refused(huge, "template is 5000 bytes long, more than 4096");
  assert_refused("B\xfcro.pdf", "template is not valid UTF-8");
}

/* {barcode} and {blanks} from page processing: made safe, and "unknown" /
 * "none" when the document has none. */
static void test_processing_fields(void) {
  g_autoptr(GDateTime) time = fixed_time();
  ScandJobFacts facts = { .time = time, .barcode = "INV/2024:42", .blanks = "2,5" };
  g_autoptr(GError) error = NULL;
  g_autofree char *a = scand_template_expand("{barcode}-{blanks}.pdf", &facts, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(a, ==, "INV_2024_42-2,5.pdf");
  ScandJobFacts none = { .time = time };
  g_autofree char *b = scand_template_expand("{barcode}-{blanks}.pdf", &none, &error);
  g_assert_cmpstr(b, ==, "unknown-none.pdf");
  ScandJobFacts climb = { .time = time, .barcode = "../../etc" };
  g_autofree char *c = scand_template_expand("{barcode}.pdf", &climb, &error);
  g_assert_no_error(error);
  g_assert_null(strstr(c, "/"));
}

static void test_syntax(void) {
  assert_refused("{foo}.pdf", "unknown field {foo} at position 1 (known: date, time, device, profile, recipient, "
                              "sender, subject, attachment, pages, seq, source, job, barcode, blanks)");
  assert_refused("scan-{Date}.pdf",
                 "unknown field {Date} at position 6 (known: date, time, device, profile, "
                 "recipient, sender, subject, attachment, pages, seq, source, job, barcode, blanks)");
  assert_refused("scan-{date.pdf", "unbalanced '{' at position 6 (write {{ for a literal brace)");
  assert_refused("scan-{da{te}.pdf", "unbalanced '{' at position 6 (write {{ for a literal brace)");
  assert_refused("scan-}.pdf", "unbalanced '}' at position 6 (write }} for a literal brace)");
  assert_refused("{device:x}.pdf", "field {device} at position 1 takes no argument");
  assert_refused("{date:}.pdf", "field {date:} at position 1 has an empty argument");
  assert_refused("{seq:0}.pdf", "field {seq:0} at position 1 wants a number of digits from 1 to 9");
  assert_refused("{seq:12}.pdf", "field {seq:12} at position 1 wants a number of digits from 1 to 9");
  assert_refused("{}.pdf", "unknown field {} at position 1 (known: date, time, device, profile, recipient, "
                           "sender, subject, attachment, pages, seq, source, job, barcode, blanks)");

  ScandJobFacts no_time = { .device_name = "x" };
  g_autoptr(GError) error = NULL;
  g_autofree char *name = scand_template_expand("{date}", &no_time, &error);
  g_assert_null(name);
  g_assert_cmpstr(error->message, ==, "no time for field {date} at position 1");
}

/* Independent restatement of the guarantee for random templates and facts. */
static void assert_safe_name(const char *name) {
  g_assert_true(g_utf8_validate(name, -1, NULL));
  g_assert_cmpuint(strlen(name), >, 0);
  g_assert_cmpuint(strlen(name), <=, 1024);
  g_assert_cmpint(name[0], !=, '/');
  for (const char *p = name; *p; p++)
    g_assert_true((guchar) *p >= 0x20 && *p != 0x7f && *p != '\\');
  g_auto(GStrv) parts = g_strsplit(name, "/", -1);
  for (guint i = 0; parts[i]; i++) {
    g_assert_cmpstr(parts[i], !=, "");
    g_assert_cmpstr(parts[i], !=, ".");
    g_assert_cmpstr(parts[i], !=, "..");
    g_assert_cmpuint(strlen(parts[i]), <=, 255);
  }
}

/* What a mail's sender writes (subject, addresses, attachment names) is one
 * harmless component like a device's name. */
static void test_mail_values(void) {
  g_autoptr(GDateTime) time = fixed_time();
  ScandJobFacts facts = {
    .time = time,
    .subject = "../../etc/passwd: invoice?",
    .mail_from = "scanner@copier.example",
    .recipient = "finance@scan.example",
    .attachment = "..\\Scan 0001",
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *name = scand_template_expand("{recipient}/{date}/{subject}-{attachment}.pdf", &facts, &error);
  g_assert_no_error(error);
  g_assert_cmpstr(name, ==, "finance@scan.example/2026-11-28/_.._etc_passwd_ invoice_-_Scan 0001.pdf");
  g_autofree char *from = scand_template_expand("{sender}.pdf", &facts, &error);
  g_assert_cmpstr(from, ==, "scanner@copier.example.pdf");
  ScandJobFacts none = { .time = time };
  g_autofree char *missing = scand_template_expand("{subject}.pdf", &none, &error);
  g_assert_cmpstr(missing, ==, "unknown.pdf");
}

static void test_random(void) {
  static const char *const pieces[] = {
    "{device}", "{date}",      "{date:%Y/%m}", "{time:%H.%M}", "{seq}", "{pages}", "{job}",    "/",         ".",
    "..",       "a",           "{{",           "}}",           "-",     " ",       "{source}", "{profile}", "{subject}",
    "{sender}", "{recipient}", "{attachment}",
  };
  static const char *const hostile[] = { "../..", "/", "..", "a/b", "\n", "x\\y", "", ".hidden", "\xff\xfe" };
  GRand *rand = g_rand_new_with_seed(7);
  guint ok = 0;
  for (int round = 0; round < 3000; round++) {
    GString *t = g_string_new(NULL);
    int n = g_rand_int_range(rand, 1, 8);
    for (int i = 0; i < n; i++)
      g_string_append(t, pieces[g_rand_int_range(rand, 0, G_N_ELEMENTS(pieces))]);
    g_autoptr(GDateTime) time = fixed_time();
    ScandJobFacts facts = {
      .time = time,
      .device_name = hostile[g_rand_int_range(rand, 0, G_N_ELEMENTS(hostile))],
      .profile = hostile[g_rand_int_range(rand, 0, G_N_ELEMENTS(hostile))],
      .source = hostile[g_rand_int_range(rand, 0, G_N_ELEMENTS(hostile))],
      .job = hostile[g_rand_int_range(rand, 0, G_N_ELEMENTS(hostile))],
      .subject = hostile[g_rand_int_range(rand, 0, G_N_ELEMENTS(hostile))],
      .mail_from = hostile[g_rand_int_range(rand, 0, G_N_ELEMENTS(hostile))],
      .recipient = hostile[g_rand_int_range(rand, 0, G_N_ELEMENTS(hostile))],
      .attachment = hostile[g_rand_int_range(rand, 0, G_N_ELEMENTS(hostile))],
    };
    g_autoptr(GError) error = NULL;
    g_autofree char *name = scand_template_expand(t->str, &facts, &error);
    if (name) {
      assert_safe_name(name);
      ok++;
    } else {
      g_assert_nonnull(error);
    }
    g_string_free(t, TRUE);
  }
  g_rand_free(rand);
  g_assert_cmpuint(ok, >, 100);
}

/* Subjects and bodies go through the same engine: the facts the table lets
 * into text, their text defaults, unknown fields and names-only fields left
 * as written, braces, and {date} with or without a format. */
static void test_text(void) {
  g_autoptr(GDateTime) time = fixed_time();
  ScandJobFacts facts = {
    .time = time,
    .device_name = "office",
    .pages = 3,
    .name = "2026/a b.pdf",
    .profile = "letter",
    .job = "j1",
  };
  g_autofree char *t =
      scand_template_expand_text("{device}: {name} ({pages}p, {profile}, {job}) {seq} {x} {{y}}", &facts);
  g_assert_cmpstr(t, ==, "office: a b.pdf (3p, letter, j1) {seq} {x} {y}");
  g_autofree char *d = scand_template_expand_text("{date:%d.%m.%Y} {time:%H}", &facts);
  g_autofree char *want = g_date_time_format(time, "%d.%m.%Y %H");
  g_assert_cmpstr(d, ==, want);
  const ScandJobFacts none = { 0 };
  g_autofree char *u = scand_template_expand_text("{device}/{pages}/{name}/{profile}.", &none);
  g_assert_cmpstr(u, ==, "scanner/?/scan.pdf/.");
  g_autofree char *e = scand_template_expand_text(NULL, &none);
  g_assert_cmpstr(e, ==, "");
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/template/fields", test_fields);
  g_test_add_func("/template/mail-values", test_mail_values);
  g_test_add_func("/template/device-values", test_device_values);
  g_test_add_func("/template/escapes", test_escapes);
  g_test_add_func("/template/syntax", test_syntax);
  g_test_add_func("/template/processing-fields", test_processing_fields);
  g_test_add_func("/template/random", test_random);
  g_test_add_func("/template/text", test_text);
  return g_test_run();
}
