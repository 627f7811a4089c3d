/* Configuration: loading order and overrides, syntax errors with file:line,
 * every kind of `scand config check` problem, secrets and durations. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "outputs/output.h"
#include "scand/base/config-private.h"
#include "scand/base/config-schema.h"
#include "scand/base/config.h"
#include "scand/core/config-check.h"
#include "scand/base/error.h"

/* Writes dir/rel (making parents) with mode; returns the path. */
static char *write_file(const char *dir, const char *rel, const char *text, int mode) {
  char *path = g_build_filename(dir, rel, NULL);
  g_autofree char *parent = g_path_get_dirname(path);
  g_assert_cmpint(g_mkdir_with_parents(parent, 0755), ==, 0);
  g_autoptr(GError) error = NULL;
  g_assert_true(g_file_set_contents(path, text, -1, &error));
  g_assert_no_error(error);
  g_assert_cmpint(g_chmod(path, mode), ==, 0);
  return path;
}

/* write_file() for files the test does not name again. */
static void put_file(const char *dir, const char *rel, const char *text, int mode) {
  g_free(write_file(dir, rel, text, mode));
}

static char *make_tmpdir(void) {
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp("scand-config-XXXXXX", &error);
  g_assert_no_error(error);
  return dir;
}

static void rm_rf(const char *path) {
  g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
  if (dir) {
    const char *name;
    while ((name = g_dir_read_name(dir))) {
      g_autofree char *child = g_build_filename(path, name, NULL);
      rm_rf(child);
    }
  }
  g_remove(path);
}

/* Compares the problems with the expected lines, printing both on mismatch. */
static void assert_problems(GPtrArray *problems, const char *const *expected) {
  guint n = g_strv_length((char **) expected);
  gboolean same = problems->len == n;
  for (guint i = 0; same && i < n; i++)
    same = strcmp(problems->pdata[i], expected[i]) == 0;
  if (!same) {
    for (guint i = 0; i < problems->len; i++)
      g_printerr("got:      %s\n", (char *) problems->pdata[i]);
    for (guint i = 0; i < n; i++)
      g_printerr("expected: %s\n", expected[i]);
  }
  g_assert_true(same);
}

static gboolean has_problem(GPtrArray *problems, const char *line) {
  for (guint i = 0; i < problems->len; i++)
    if (strcmp(problems->pdata[i], line) == 0)
      return TRUE;
  for (guint i = 0; i < problems->len; i++)
    g_printerr("have: %s\n", (char *) problems->pdata[i]);
  g_printerr("missing: %s\n", line);
  return FALSE;
}

static ScandConfig *load_text(const char *text, const char *name) {
  g_autoptr(GError) error = NULL;
  ScandConfig *config = scand_config_load_data(text, strlen(text), name, &error);
  g_assert_no_error(error);
  g_assert_nonnull(config);
  return config;
}

static void test_load_file(void) {
  g_autofree char *dir = make_tmpdir();
  g_autofree char *path = write_file(dir, "my.conf",
                                     "# a comment\n"                                    /* 1 */
                                     "[scand]\n"                                        /* 2 */
                                     "log-level = debug\n"                              /* 3 */
                                     "\n"                                               /* 4 */
                                     "  [scanner office]  \n"                           /* 5 */
                                     "device = escl:https://mfp.example/eSCL   # mfp\n" /* 6 */
                                     "name=Front desk#2\n"                              /* 7 */
                                     "title = a\\sb\\\\c\\n\n"                          /* 8 */
                                     "[output share]\r\n"                               /* 9 */
                                     "type = folder\r\n"                                /* 10 */
                                     "[output desk]\n"                                  /* 11 */
                                     "type = folder\n",                                 /* 12 */
                                     0644);
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandConfig) config = scand_config_load(path, &error);
  g_assert_no_error(error);

  const char *const *files = scand_config_get_files(config);
  g_assert_cmpstr(files[0], ==, path);
  g_assert_null(files[1]);

  g_assert_cmpstr(scand_config_get(config, "scand", NULL, "log-level"), ==, "debug");
  /* The inline comment goes; a '#' inside a word stays. */
  g_assert_cmpstr(scand_config_get(config, "scanner", "office", "device"), ==, "escl:https://mfp.example/eSCL");
  g_assert_cmpstr(scand_config_get(config, "scanner", "office", "name"), ==, "Front desk#2");
  /* GKeyFile's escapes. */
  g_assert_cmpstr(scand_config_get(config, "scanner", "office", "title"), ==, "a b\\c\n");
  g_assert_cmpstr(scand_config_get(config, "output", "share", "type"), ==, "folder");
  g_assert_null(scand_config_get(config, "output", "share", "path"));
  g_assert_null(scand_config_get(config, "output", "nope", "type"));

  g_autofree char *w1 = scand_config_where(config, "scanner", "office", NULL);
  g_autofree char *w1_expected = g_strdup_printf("%s:5", path);
  g_assert_cmpstr(w1, ==, w1_expected);
  g_autofree char *w2 = scand_config_where(config, "scanner", "office", "name");
  g_autofree char *w2_expected = g_strdup_printf("%s:7", path);
  g_assert_cmpstr(w2, ==, w2_expected);
  g_autofree char *w3 = scand_config_where(config, "output", "desk", "type");
  g_autofree char *w3_expected = g_strdup_printf("%s:12", path);
  g_assert_cmpstr(w3, ==, w3_expected);
  g_assert_null(scand_config_where(config, "output", "desk", "path"));

  g_auto(GStrv) outputs = scand_config_list_sections(config, "output");
  g_assert_cmpuint(g_strv_length(outputs), ==, 2);
  g_assert_cmpstr(outputs[0], ==, "share");
  g_assert_cmpstr(outputs[1], ==, "desk");
  g_assert_true(scand_config_has_section(config, "scand", NULL));
  g_assert_true(scand_config_has_section(config, "output", "desk"));
  g_assert_false(scand_config_has_section(config, "output", "mail"));

  g_auto(GStrv) keys = scand_config_list_keys(config, "scanner", "office");
  g_assert_cmpuint(g_strv_length(keys), ==, 3);
  g_assert_cmpstr(keys[0], ==, "device");
  g_assert_cmpstr(keys[2], ==, "title");

  rm_rf(dir);
}

/* The layout of a config directory used by the default-location tests. */
static void write_dir(const char *dir, const char *marker) {
  g_autofree char *main_text = g_strdup_printf("[profile letter]\n" /* 1 */
                                               "resolution = 300\n" /* 2 */
                                               "mode = gray\n"      /* 3 */
                                               "title = %s\n",      /* 4 */
                                               marker);
  put_file(dir, "scand.conf", main_text, 0644);
  put_file(dir, "conf.d/20-later.conf",
           "[profile letter]\n"  /* 1 */
           "\n"                  /* 2 */
           "resolution = 600\n", /* 3 */
           0644);
  put_file(dir, "conf.d/10-first.conf",
           "[profile letter]\n" /* 1 */
           "resolution = 150\n" /* 2 */
           "duplex = true\n"    /* 3 */
           "[output desk]\n"    /* 4 */
           "type = folder\n",   /* 5 */
           0644);
  /* Not *.conf, or hidden: never read. */
  put_file(dir, "conf.d/30-notes.txt", "this is not ini\n", 0644);
  put_file(dir, "conf.d/.40-hidden.conf", "broken\n", 0644);
  put_file(dir, "conf.d/50-backup.conf~", "broken\n", 0644);
}

static void assert_dir_loaded(ScandConfig *config, const char *dir, const char *marker) {
  g_autofree char *main_file = g_build_filename(dir, "scand.conf", NULL);
  g_autofree char *first = g_build_filename(dir, "conf.d", "10-first.conf", NULL);
  g_autofree char *later = g_build_filename(dir, "conf.d", "20-later.conf", NULL);
  const char *const *files = scand_config_get_files(config);
  g_assert_cmpuint(g_strv_length((char **) files), ==, 3);
  g_assert_cmpstr(files[0], ==, main_file);
  g_assert_cmpstr(files[1], ==, first);
  g_assert_cmpstr(files[2], ==, later);

  g_assert_cmpstr(scand_config_get(config, "profile", "letter", "title"), ==, marker);
  /* Later files override key by key and the line follows the value. */
  g_assert_cmpstr(scand_config_get(config, "profile", "letter", "resolution"), ==, "600");
  g_assert_cmpstr(scand_config_get(config, "profile", "letter", "mode"), ==, "gray");
  g_assert_cmpstr(scand_config_get(config, "profile", "letter", "duplex"), ==, "true");
  g_autofree char *w = scand_config_where(config, "profile", "letter", "resolution");
  g_autofree char *w_expected = g_strdup_printf("%s:3", later);
  g_assert_cmpstr(w, ==, w_expected);
  g_autofree char *wm = scand_config_where(config, "profile", "letter", "mode");
  g_autofree char *wm_expected = g_strdup_printf("%s:3", main_file);
  g_assert_cmpstr(wm, ==, wm_expected);
  g_autofree char *wd = scand_config_where(config, "profile", "letter", "duplex");
  g_autofree char *wd_expected = g_strdup_printf("%s:3", first);
  g_assert_cmpstr(wd, ==, wd_expected);
  /* The section is where it first appeared. */
  g_autofree char *ws = scand_config_where(config, "profile", "letter", NULL);
  g_autofree char *ws_expected = g_strdup_printf("%s:1", main_file);
  g_assert_cmpstr(ws, ==, ws_expected);
  g_auto(GStrv) keys = scand_config_list_keys(config, "profile", "letter");
  g_assert_cmpuint(g_strv_length(keys), ==, 4);
  g_assert_cmpstr(keys[3], ==, "duplex");
  g_assert_true(scand_config_has_section(config, "output", "desk"));

  g_autoptr(GPtrArray) problems = scand_config_check(config);
  g_assert_cmpuint(problems->len, ==, 1); /* the folder output has no path */
}

static void test_load_system(void) {
  g_autofree char *user = make_tmpdir();
  g_autofree char *system = make_tmpdir();
  write_dir(system, "system");
  g_unsetenv("SCAND_CONFIG_DIR");
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandConfig) config = scand_config_load_default(user, system, &error);
  g_assert_no_error(error);
  assert_dir_loaded(config, system, "system");
  rm_rf(user);
  rm_rf(system);
}

static void test_load_user(void) {
  g_autofree char *user = make_tmpdir();
  g_autofree char *system = make_tmpdir();
  write_dir(system, "system");
  write_dir(user, "user");
  g_unsetenv("SCAND_CONFIG_DIR");
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandConfig) config = scand_config_load_default(user, system, &error);
  g_assert_no_error(error);
  assert_dir_loaded(config, user, "user");

  /* A user directory with conf.d only counts too. */
  g_autofree char *user_main = g_build_filename(user, "scand.conf", NULL);
  g_assert_cmpint(g_remove(user_main), ==, 0);
  g_autoptr(ScandConfig) config2 = scand_config_load_default(user, system, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(g_strv_length((char **) scand_config_get_files(config2)), ==, 2);
  g_assert_null(scand_config_get(config2, "profile", "letter", "title"));

  /* And scand_config_load(NULL) finds it under $XDG_CONFIG_HOME. */
  g_autofree char *xdg = g_build_filename(g_get_user_config_dir(), "scand", NULL);
  write_dir(xdg, "xdg");
  g_autoptr(ScandConfig) config3 = scand_config_load(NULL, &error);
  g_assert_no_error(error);
  assert_dir_loaded(config3, xdg, "xdg");
  rm_rf(user);
  rm_rf(system);
  rm_rf(xdg);
}

static void test_load_env(void) {
  g_autofree char *user = make_tmpdir();
  g_autofree char *system = make_tmpdir();
  g_autofree char *env = make_tmpdir();
  write_dir(user, "user");
  write_dir(env, "env");
  g_setenv("SCAND_CONFIG_DIR", env, TRUE);
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandConfig) config = scand_config_load_default(user, system, &error);
  g_assert_no_error(error);
  assert_dir_loaded(config, env, "env");
  g_autoptr(ScandConfig) config2 = scand_config_load(NULL, &error);
  g_assert_no_error(error);
  assert_dir_loaded(config2, env, "env");

  /* --config FILE reads that file and nothing else. */
  g_autofree char *one = write_file(user, "other.conf", "[output x]\ntype = folder\n", 0644);
  g_autoptr(ScandConfig) config3 = scand_config_load(one, &error);
  g_assert_no_error(error);
  g_assert_cmpuint(g_strv_length((char **) scand_config_get_files(config3)), ==, 1);
  g_assert_false(scand_config_has_section(config3, "profile", "letter"));
  g_unsetenv("SCAND_CONFIG_DIR");
  rm_rf(user);
  rm_rf(system);
  rm_rf(env);
}

static void test_load_missing(void) {
  g_autofree char *dir = make_tmpdir();
  g_autofree char *nowhere = g_build_filename(dir, "nowhere", NULL);
  g_autoptr(GError) error = NULL;
  /* A missing default location is an empty config. */
  g_setenv("SCAND_CONFIG_DIR", nowhere, TRUE);
  g_autoptr(ScandConfig) config = scand_config_load(NULL, &error);
  g_unsetenv("SCAND_CONFIG_DIR");
  g_assert_no_error(error);
  g_assert_null(scand_config_get_files(config)[0]);
  g_auto(GStrv) rules = scand_config_list_sections(config, "rule");
  g_assert_cmpuint(g_strv_length(rules), ==, 0);
  g_autoptr(GPtrArray) problems = scand_config_check(config);
  g_assert_cmpuint(problems->len, ==, 0);

  /* A file named on the command line must exist. */
  g_autofree char *missing = g_build_filename(dir, "missing.conf", NULL);
  g_autoptr(ScandConfig) none = scand_config_load(missing, &error);
  g_assert_null(none);
  g_assert_nonnull(error);
  g_assert_true(g_str_has_prefix(error->message, missing));
  g_assert_nonnull(strstr(error->message, "No such file"));
  g_clear_error(&error);
  /* A directory is not a config file. */
  g_autoptr(ScandConfig) none2 = scand_config_load(dir, &error);
  g_assert_null(none2);
  g_assert_nonnull(error);

  g_autoptr(ScandConfig) empty = scand_config_new_empty();
  g_assert_null(scand_config_get_files(empty)[0]);
  scand_config_free(NULL);
  rm_rf(dir);
}

static void assert_syntax_error(const char *text, gsize len, const char *expected) {
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandConfig) config = scand_config_load_data(text, len, "bad.conf", &error);
  if (config)
    g_printerr("loaded, expected: %s\n", expected);
  g_assert_null(config);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  g_assert_cmpstr(error->message, ==, expected);
}

static void test_syntax_errors(void) {
  const char *no_equals = "[scand]\nspool = /x\n\nthis line has no equals sign\n[rule a]\n";
  assert_syntax_error(no_equals, strlen(no_equals), "bad.conf:4: expected \"key = value\", a [section] or a # comment");
  const char *no_group = "spool = /x\n[scand]\n";
  assert_syntax_error(no_group, strlen(no_group), "bad.conf:1: \"spool\" comes before the first [section]");
  const char *bad_header = "[scand]\nspool = /x\n[output share\ntype = folder\n";
  assert_syntax_error(bad_header, strlen(bad_header), "bad.conf:3: malformed section header (expected [kind name])");
  const char *trailing = "[scand]\n[output share] x\n";
  assert_syntax_error(trailing, strlen(trailing), "bad.conf:2: malformed section header (expected [kind name])");
  static const char nul[] = "[scand]\nspool = /x\0y\n";
  assert_syntax_error(nul, sizeof nul - 1, "bad.conf:2: contains a NUL byte (not a text file)");
  const char *latin1 = "[scand]\n\n\ntitle = B\xfcro\n";
  assert_syntax_error(latin1, strlen(latin1), "bad.conf:4: not valid UTF-8 text");
  const char *escape = "[profile p]\ntitle = C:\\q\n";
  assert_syntax_error(escape, strlen(escape),
                      "bad.conf:2: [profile p] title: invalid escape sequence (write \\\\ for a backslash)");
  const char *late_key = "# comment\n\nspool = /x\n[scand]\n";
  assert_syntax_error(late_key, strlen(late_key), "bad.conf:3: \"spool\" comes before the first [section]");
  const char *empty_header = "[scand]\n[]\n";
  assert_syntax_error(empty_header, strlen(empty_header),
                      "bad.conf:2: malformed section header (expected [kind name])");
  const char *nested = "[scand]\n[a[b]]\n";
  assert_syntax_error(nested, strlen(nested), "bad.conf:2: malformed section header (expected [kind name])");
  const char *empty_key = "[scand]\n = x\n";
  assert_syntax_error(empty_key, strlen(empty_key), "bad.conf:2: expected \"key = value\", a [section] or a # comment");

  /* The byte-order mark of Windows editors is not an error. */
  const char *bom = "\xef\xbb\xbf[scand]\nspool = /x\n";
  g_autoptr(ScandConfig) config = load_text(bom, "bom.conf");
  g_assert_cmpstr(scand_config_get(config, "scand", NULL, "spool"), ==, "/x");

  /* An error in a later file names that file. */
  g_autofree char *dir = make_tmpdir();
  put_file(dir, "scand.conf", "[scand]\nspool = /x\n", 0644);
  g_autofree char *b = write_file(dir, "conf.d/a.conf", "[output a]\ntype = folder\noops\n", 0644);
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandConfig) none = scand_config_load_dir(dir, &error);
  g_assert_null(none);
  g_autofree char *expected = g_strdup_printf("%s:3: expected \"key = value\", a [section] or a # comment", b);
  g_assert_cmpstr(error->message, ==, expected);
  rm_rf(dir);
}

/* Random and hostile bytes: an error or a config, never a crash. */
static void test_binary(void) {
  GRand *rand = g_rand_new_with_seed(42);
  for (int round = 0; round < 300; round++) {
    gsize len = g_rand_int_range(rand, 0, 400);
    g_autofree guchar *data = g_malloc(len + 1);
    const char alphabet[] = "[]=#\n \\\t\r{}abc:/.\x80\xff";
    for (gsize i = 0; i < len; i++)
      data[i] = round % 2 ? (guchar) g_rand_int_range(rand, 0, 256)
                          : (guchar) alphabet[g_rand_int_range(rand, 0, sizeof alphabet - 1)];
    g_autoptr(GError) error = NULL;
    g_autoptr(ScandConfig) config = scand_config_load_data((const char *) data, len, "rand.conf", &error);
    g_assert_true((config == NULL) != (error == NULL));
    if (config) {
      g_autoptr(GPtrArray) problems = scand_config_check(config);
      for (guint i = 0; i < problems->len; i++)
        g_assert_true(g_str_has_prefix(problems->pdata[i], "rand.conf:"));
    } else {
      g_assert_true(g_str_has_prefix(error->message, "rand.conf"));
    }
  }
  g_rand_free(rand);
}

static void test_check_problems(void) {
  const char *text = "[scand]\n"                                  /* 1 */
                     "spool = relative/spool\n"                   /* 2 */
                     "log-level = verbose\n"                      /* 3 */
                     "\n"                                         /* 4 */
                     "[scaner office]\n"                          /* 5 */
                     "device = sane:test:0\n"                     /* 6 */
                     "\n"                                         /* 7 */
                     "[scanner office]\n"                         /* 8 */
                     "device = usb:whatever\n"                    /* 9 */
                     "profile = lettre\n"                         /* 10 */
                     "auto-scan = feder\n"                        /* 11 */
                     "tls-pin = sha256:AB:CD\n"                   /* 12 */
                     "sane-options = mode=Gray;bogus\n"           /* 13 */
                     "poll-interval = 5x\n"                       /* 14 */
                     "resoltion = 300\n"                          /* 15 */
                     "profil = letter\n"                          /* 16 */
                     "[profile letter]\n"                         /* 17 */
                     "duplex = maybe\n"                           /* 18 */
                     "resolution = 10\n"                          /* 19 */
                     "jpeg-quality = abc\n"                       /* 20 */
                     "source = feeder\n"                          /* 21 */
                     "mode =\n"                                   /* 22 */
                     "[watch drop]\n"                             /* 23 */
                     "stable-for = 5s\n"                          /* 24 */
                     "after = move:relative\n"                    /* 25 */
                     "recursive = yes\n"                          /* 26 */
                     "[output desk]\n"                            /* 27 */
                     "type = folder\n"                            /* 28 */
                     "path = /srv/scans\n"                        /* 29 */
                     "\n"                                         /* 30 */
                     "[output weird]\n"                           /* 31 */
                     "type = floppy\n"                            /* 32 */
                     "whatever = 1\n"                             /* 33 */
                     "[output typeless]\n"                        /* 34 */
                     "path = /x\n"                                /* 35 */
                     "[rule r1]\n"                                /* 36 */
                     "name = ../{device}.pdf\n"                   /* 37 */
                     "fallback = mail\n"                          /* 38 */
                     "fallback-after = soon\n"                    /* 39 */
                     "pages-min = 5\n"                            /* 40 */
                     "pages-max = 2\n"                            /* 41 */
                     "[rule r2]\n"                                /* 42 */
                     "deliver = desk, nas\n"                      /* 43 */
                     "name = {date:%Y}/{colour}.pdf\n"            /* 44 */
                     "[bogus thing]\n"                            /* 45 */
                     "x = 1\n"                                    /* 46 */
                     "[profile]\n"                                /* 47 */
                     "[scand extra]\n"                            /* 48 */
                     "[rule r3]\n"                                /* 49 */
                     "deliver = ,\n"                              /* 50 */
                     "source = scanner\n"                         /* 51 */
                     "device = escl:*\n"                          /* 52 */
                     "[scanner good]\n"                           /* 53 */
                     "device = escl:http://192.0.2.1:8080/eSCL\n" /* 54 */
                     "tls-pin = sha256:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:"
                     "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF\n" /* 55 */
                     "poll-interval = 2h\n";                             /* 56 */
  g_autoptr(ScandConfig) config = load_text(text, "check.conf");
  g_autoptr(GPtrArray) problems = scand_config_check(config);
  const ScandConfigKey *output_schema = scand_config_schema("output");
  g_autofree char *weird = g_strdup_printf("check.conf:32: [output weird] type: unknown output type \"floppy\" "
                                           "(known: %s)",
                                           output_schema[0].values);
  g_autofree char *typeless =
      g_strdup_printf("check.conf:34: [output typeless] type: missing (required: one of %s)", output_schema[0].values);
  const char *const expected[] = {
    "check.conf:2: [scand] spool: \"relative/spool\" is not an absolute path",
    "check.conf:3: [scand] log-level: \"verbose\" is not one of error|warning|info|debug",
    "check.conf:5: [scaner office]: unknown section kind \"scaner\" (did you mean [scanner office]?)",
    "check.conf:9: [scanner office] device: \"usb:whatever\" is not a device URI: sane:NAME, "
    "escl:http[s]://HOST[:PORT]/eSCL or wsd:http[s]://HOST[:PORT]/PATH",
    "check.conf:10: [scanner office] profile: no [profile lettre] section (did you mean \"letter\"?)",
    "check.conf:11: [scanner office] auto-scan: \"feder\" is not one of off|feeder|button (did you mean \"feeder\"?)",
    "check.conf:12: [scanner office] tls-pin: has 2 bytes, not 32 (expected sha256: and 32 hex bytes separated by "
    "colons, as written by `scand trust`)",
    "check.conf:13: [scanner office] sane-options: item 2 is not name=value (expected \"name=value;name=value\")",
    "check.conf:14: [scanner office] poll-interval: \"5x\" is not a duration such as 90, 30s, 5m, 2h or 1d",
    "check.conf:15: [scanner office] resoltion: unknown key",
    "check.conf:16: [scanner office] profil: unknown key (did you mean \"profile\"?)",
    "check.conf:18: [profile letter] duplex: \"maybe\" is not true or false",
    "check.conf:19: [profile letter] resolution: 10 is out of range (expected a whole number from 25 to 4800)",
    "check.conf:20: [profile letter] jpeg-quality: \"abc\" is not a whole number from 1 to 100",
    "check.conf:22: [profile letter] mode: empty value (expected one of auto|color|gray|lineart|auto-detect)",
    "check.conf:25: [watch drop] after: move: needs an absolute path (expected move:/srv/scans/done)",
    "check.conf:23: [watch drop] path: missing (required: an absolute path)",
    weird,
    typeless,
    "check.conf:37: [rule r1] name: unsafe or malformed template: '..' would leave the destination "
    "(part 1 of the path)",
    "check.conf:38: [rule r1] fallback: no [output mail] section",
    "check.conf:39: [rule r1] fallback-after: \"soon\" is not a duration such as 90, 30s, 5m, 2h or 1d",
    "check.conf:36: [rule r1] deliver: missing (required: [output] names separated by commas)",
    "check.conf:41: [rule r1] pages-max: 2 is below pages-min 5: the rule never matches",
    "check.conf:43: [rule r2] deliver: no [output nas] section",
    "check.conf:44: [rule r2] name: unsafe or malformed template: unknown field {colour} at position 11 "
    "(known: date, time, device, profile, recipient, sender, subject, attachment, pages, seq, source, job, barcode, "
    "blanks)",
    "check.conf:45: [bogus thing]: unknown section kind \"bogus\" (known: scand, scanner, profile, watch, output, "
    "rule, intake, account, web)",
    "check.conf:47: [profile]: needs a name: [profile NAME]",
    "check.conf:48: [scand extra]: takes no name: write [scand]",
    "check.conf:50: [rule r3] deliver: no output named (expected [output] names separated by commas)",
    "check.conf:51: [rule r3] source: \"scanner\" is not one of scan|watch|mail|file",
    NULL,
  };
  assert_problems(problems, expected);
}

/* [intake] and [account]: what makes a listener unsafe or useless is a
 * problem; what weakens it is a warning. */
static void test_check_intake(void) {
  g_autofree char *dir = make_tmpdir();
  g_autofree char *pw = write_file(dir, "pw", "s3cret\n", 0600);
  g_autofree char *text = g_strdup_printf("[intake a]\n"                                             /* 1 */
                                          "type = smtp\n"                                            /* 2 */
                                          "listen = 127.0.0.1:2525, [::1]:99999, ::1:25, systemd:\n" /* 3 */
                                          "allow-from = 192.168.1.0/24, 10.0.0.300\n"                /* 4 */
                                          "accept-to = *@scan.example, *@*, x@*.com\n"               /* 5 */
                                          "accounts = copier, ghost\n"                               /* 6 */
                                          "max-size = 50Q\n"                                         /* 7 */
                                          "[intake b]\n"                                             /* 8 */
                                          "type = smtp\n"                                            /* 9 */
                                          "listen = :2526\n"                                         /* 10 */
                                          "accept-to = *@*.scan.example\n"                           /* 11 */
                                          "accounts = copier\n"                                      /* 12 */
                                          "allow-cleartext-auth = true\n"                            /* 13 */
                                          "allow-from = 0.0.0.0/0\n"                                 /* 14 */
                                          "max-size = 25M\n"                                         /* 15 */
                                          "[intake c]\n"                                             /* 16 */
                                          "type = smtp\n"                                            /* 17 */
                                          "[account copier]\n"                                       /* 18 */
                                          "password-file = %s\n",                                    /* 19 */
                                          pw);
  g_autoptr(ScandConfig) config = load_text(text, "intake.conf");
  g_autoptr(GPtrArray) problems = scand_config_check(config);
  const char *const expected[] = {
    "intake.conf:7: [intake a] max-size: \"50Q\" is not a size such as 1048576, 512K, 200M or 1G",
    "intake.conf:3: [intake a] listen: \"[::1]:99999\": \"99999\" is not a port (1 to 65535)",
    "intake.conf:3: [intake a] listen: \"::1:25\": an IPv6 address is written in brackets: [::1]:2525",
    "intake.conf:3: [intake a] listen: \"systemd:\": expected systemd or systemd:NAME (the socket's "
    "FileDescriptorName)",
    "intake.conf:4: [intake a] allow-from: \"10.0.0.300\" is not an address or a network (expected "
    "192.168.1.0/24, 10.0.0.7, fd00::/8)",
    "intake.conf:6: [intake a] accounts: no [account ghost] section",
    "intake.conf:6: [intake a] accounts: logins are offered only over TLS: set tls-certificate and tls-key (or "
    "allow-cleartext-auth = true for a copier that cannot do TLS)",
    "intake.conf:5: [intake a] accept-to: \"*@*\": the domain \"*\" could match domains scand does not own: this "
    "would make an open relay (write *@scan.example or *@*.scan.example)",
    "intake.conf:5: [intake a] accept-to: \"x@*.com\": the domain \"*.com\" could match domains scand does not "
    "own: this would make an open relay (write *@scan.example or *@*.scan.example)",
    "intake.conf:16: [intake c] listen: missing (required: text)",
    "intake.conf:16: [intake c] accept-to: missing (required: text)",
    "intake.conf:16: [intake c] listen: no address to listen on",
    "intake.conf:16: [intake c]: nobody may send: set allow-from (the copiers' addresses) or accounts (logins)",
    NULL,
  };
  assert_problems(problems, expected);
  const GPtrArray *warnings = scand_config_get_warnings(config);
  const char *const expected_warnings[] = {
    "intake.conf:13: [intake b] allow-cleartext-auth: warning: passwords cross the network unencrypted; use TLS if "
    "the copier can",
    "intake.conf:14: [intake b] allow-from: warning: \"0.0.0.0/0\" lets every address send without logging in",
    NULL,
  };
  assert_problems((GPtrArray *) warnings, expected_warnings);
  rm_rf(dir);
}

static void test_check_secret(void) {
  g_autofree char *dir = make_tmpdir();
  g_autofree char *open_secret = write_file(dir, "open", "hunter2-open\n", 0644);
  g_autofree char *group_rw = write_file(dir, "grouprw", "hunter2-group\n", 0660);
  g_autofree char *closed = write_file(dir, "closed", "hunter2\n\n", 0600);
  g_autofree char *cred_dir = g_build_filename(dir, "creds", NULL);
  put_file(cred_dir, "smb", "from-systemd", 0400);
  g_autofree char *missing = g_build_filename(dir, "missing", NULL);
  g_autofree char *text = g_strdup_printf("[output a]\n"                  /* 1 */
                                          "type = smb\n"                  /* 2 */
                                          "url = smb://127.0.0.1/share\n" /* 3 */
                                          "username = scanner\n"          /* 4 */
                                          "password-file = %s\n"          /* 5 */
                                          "[output b]\n"                  /* 6 */
                                          "type = smb\n"                  /* 7 */
                                          "url = smb://127.0.0.1/share\n" /* 8 */
                                          "username = scanner\n"          /* 9 */
                                          "password-file = %s\n"          /* 10 */
                                          "[output c]\n"                  /* 11 */
                                          "type = smb\n"                  /* 12 */
                                          "url = smb://127.0.0.1/share\n" /* 13 */
                                          "username = scanner\n"          /* 14 */
                                          "password-file = %s\n"          /* 15 */
                                          "[output d]\n"                  /* 16 */
                                          "type = smb\n"                  /* 17 */
                                          "url = smb://127.0.0.1/share\n" /* 18 */
                                          "username = scanner\n"          /* 19 */
                                          "password-file = %s\n"          /* 20 */
                                          "[output e]\n"                  /* 21 */
                                          "type = smb\n"                  /* 22 */
                                          "url = smb://127.0.0.1/share\n" /* 23 */
                                          "username = scanner\n"          /* 24 */
                                          "password-file = smb\n",        /* 25 */
                                          open_secret, group_rw, closed, missing);
  g_autoptr(ScandConfig) config = load_text(text, "secret.conf");

  g_unsetenv("CREDENTIALS_DIRECTORY");
  g_autoptr(GPtrArray) problems = scand_config_check(config);
  g_autofree char *p1 = g_strdup_printf("secret.conf:5: [output a] password-file: secret file %s is readable by "
                                        "group and others (mode 0644): run chmod go-rwx %s",
                                        open_secret, open_secret);
  g_autofree char *p2 = g_strdup_printf("secret.conf:10: [output b] password-file: secret file %s is readable "
                                        "and writable by group (mode 0660): run chmod go-rwx %s",
                                        group_rw, group_rw);
  g_autofree char *p4 = g_strdup_printf("secret.conf:20: [output d] password-file: secret file %s: No such file or "
                                        "directory",
                                        missing);
  const char *p5 = "secret.conf:25: [output e] password-file: \"smb\" is a relative name but $CREDENTIALS_DIRECTORY "
                   "is not set (give an absolute path, or pass it with systemd LoadCredential=)";
  g_assert_true(has_problem(problems, p1));
  g_assert_true(has_problem(problems, p2));
  g_assert_true(has_problem(problems, p4));
  g_assert_true(has_problem(problems, p5));
  for (guint i = 0; i < problems->len; i++) {
    g_assert_false(g_str_has_prefix(problems->pdata[i], "secret.conf:15:"));
    g_assert_null(strstr(problems->pdata[i], "hunter2"));
  }

  /* Reading: refused with the mode, accepted at 0600 with one newline stripped. */
  g_autoptr(GError) error = NULL;
  char *secret = scand_config_read_secret(config, "output", "a", "password-file", &error);
  g_assert_null(secret);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_DENIED);
  g_autofree char *e1 = g_strdup_printf("secret.conf:5: [output a] password-file: secret file %s is readable by "
                                        "group and others (mode 0644): run chmod go-rwx %s",
                                        open_secret, open_secret);
  g_assert_cmpstr(error->message, ==, e1);
  g_assert_null(strstr(error->message, "hunter2"));
  g_clear_error(&error);

  secret = scand_config_read_secret(config, "output", "c", "password-file", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(secret, ==, "hunter2\n");
  g_free(secret);

  secret = scand_config_read_secret(config, "output", "d", "password-file", &error);
  g_assert_null(secret);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND);
  g_clear_error(&error);

  secret = scand_config_read_secret(config, "output", "e", "password-file", &error);
  g_assert_null(secret);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  g_clear_error(&error);

  secret = scand_config_read_secret(config, "output", "a", "no-such-key", &error);
  g_assert_null(secret);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND);
  g_clear_error(&error);

  /* systemd credentials: relative names live in $CREDENTIALS_DIRECTORY. */
  g_setenv("CREDENTIALS_DIRECTORY", cred_dir, TRUE);
  secret = scand_config_read_secret(config, "output", "e", "password-file", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(secret, ==, "from-systemd");
  g_free(secret);
  g_autoptr(GPtrArray) problems2 = scand_config_check(config);
  for (guint i = 0; i < problems2->len; i++)
    g_assert_false(g_str_has_prefix(problems2->pdata[i], "secret.conf:25:"));
  /* …and cannot climb out of it. */
  g_autoptr(ScandConfig) climb = load_text("[output x]\ntype = smb\npassword-file = ../open\n", "climb.conf");
  secret = scand_config_read_secret(climb, "output", "x", "password-file", &error);
  g_assert_null(secret);
  g_assert_cmpstr(error->message, ==, "climb.conf:3: [output x] password-file: \"../open\" is not a credential name");
  g_clear_error(&error);
  g_unsetenv("CREDENTIALS_DIRECTORY");

  /* After chmod 600 the complaint goes away. */
  g_assert_cmpint(g_chmod(open_secret, 0600), ==, 0);
  secret = scand_config_read_secret(config, "output", "a", "password-file", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(secret, ==, "hunter2-open");
  g_free(secret);
  rm_rf(dir);
}

static void test_durations(void) {
  static const struct {
    const char *text;
    gboolean ok;
    gint64 seconds;
  } cases[] = {
    { "90", TRUE, 90 },
    { "90s", TRUE, 90 },
    { "5m", TRUE, 300 },
    { "2h", TRUE, 7200 },
    { "1d", TRUE, 86400 },
    { "0", TRUE, 0 },
    { "", FALSE, 0 },
    { "s", FALSE, 0 },
    { "5 m", FALSE, 0 },
    { "-5", FALSE, 0 },
    { "5mm", FALSE, 0 },
    { "1w", FALSE, 0 },
    { "1.5h", FALSE, 0 },
    { "99999999999999999999", FALSE, 0 },
    { "106751991167301d", FALSE, 0 },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    gint64 s = -1;
    g_assert_cmpint(scand_config_parse_duration(cases[i].text, &s), ==, cases[i].ok);
    if (cases[i].ok)
      g_assert_cmpint(s, ==, cases[i].seconds);
  }
  g_assert_false(scand_config_parse_duration(NULL, NULL));

  g_autoptr(ScandConfig) config = load_text("[rule r]\n"
                                            "fallback-after = 30m\n"
                                            "fallback-attempts = lots\n"
                                            "pages-min = 99999999\n"
                                            "[watch w]\n"
                                            "stable-for = 5 s\n"
                                            "recursive = On\n"
                                            "[profile p]\n"
                                            "duplex = perhaps\n",
                                            "d.conf");
  g_autoptr(GError) error = NULL;
  gint64 v;
  gboolean b;
  g_assert_true(scand_config_get_duration(config, "rule", "r", "fallback-after", 5, &v, &error));
  g_assert_cmpint(v, ==, 1800);
  g_assert_true(scand_config_get_duration(config, "rule", "r", "unset", 5, &v, &error));
  g_assert_cmpint(v, ==, 5);
  g_assert_false(scand_config_get_duration(config, "watch", "w", "stable-for", 5, &v, &error));
  g_assert_cmpstr(error->message, ==,
                  "d.conf:6: [watch w] stable-for: \"5 s\" is not a duration (expected seconds, "
                  "or a number with s, m, h or d: 90, 30s, 5m, 2h, 1d)");
  g_clear_error(&error);
  g_assert_false(scand_config_get_int(config, "rule", "r", "fallback-attempts", 3, &v, &error));
  g_assert_cmpstr(error->message, ==, "d.conf:3: [rule r] fallback-attempts: \"lots\" is not a whole number");
  g_clear_error(&error);
  g_assert_false(scand_config_get_int(config, "rule", "r", "pages-min", 3, &v, &error));
  g_assert_cmpstr(error->message, ==, "d.conf:4: [rule r] pages-min: 99999999 is out of range (0..1000000)");
  g_clear_error(&error);
  g_assert_true(scand_config_get_int(config, "rule", "r", "pages-max", 7, &v, &error));
  g_assert_cmpint(v, ==, 7);
  g_assert_true(scand_config_get_bool(config, "watch", "w", "recursive", FALSE, &b, &error));
  g_assert_true(b);
  g_assert_false(scand_config_get_bool(config, "profile", "p", "duplex", FALSE, &b, &error));
  g_assert_cmpstr(error->message, ==, "d.conf:9: [profile p] duplex: \"perhaps\" is not true or false");
  g_clear_error(&error);
}

static void test_schema(void) {
  const char *kinds[] = { "scand", "scanner", "profile", "watch", "output", "rule" };
  for (guint i = 0; i < G_N_ELEMENTS(kinds); i++)
    g_assert_nonnull(scand_config_schema(kinds[i]));
  g_assert_null(scand_config_schema("printer"));
  const ScandConfigKey *k = scand_config_schema_find(scand_config_schema("profile"), "resolution");
  g_assert_nonnull(k);
  g_assert_cmpint(k->type, ==, SCAND_KEY_INT);
  g_assert_cmpint(k->min, ==, 25);
  g_assert_cmpint(k->max, ==, 4800);
  g_assert_nonnull(strstr(scand_config_schema("output")[0].values, "folder"));
  g_assert_cmpuint(scand_config_edit_distance("resolution", "resoltion", 2), ==, 1);
  g_assert_cmpuint(scand_config_edit_distance("abc", "xyzxyz", 2), ==, 3);
}

/* data/scand.conf.example passes the check, secrets in place; the only
 * problems allowed are output types whose driver has not landed yet. */
static void test_example(void) {
  const char *srcdir = g_getenv("SCAND_SRCDIR");
  g_assert_nonnull(srcdir);
  g_autofree char *example = g_build_filename(srcdir, "data", "scand.conf.example", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_assert_true(g_file_get_contents(example, &text, NULL, &error));
  g_autofree char *dir = make_tmpdir();
  put_file(dir, "secrets/smb", "smb-password\n", 0600);
  put_file(dir, "secrets/smtp", "smtp-password\n", 0600);
  put_file(dir, "secrets/copier-lobby", "copier-password\n", 0600);
  g_autofree char *secrets = g_build_filename(dir, "secrets/", NULL);
  g_autoptr(GString) local = g_string_new(text);
  g_assert_cmpuint(g_string_replace(local, "/etc/scand/secrets/", secrets, 0), ==, 4);

  g_autoptr(ScandConfig) config = load_text(local->str, "example.conf");
  g_autoptr(GPtrArray) problems = scand_config_check(config);
  for (guint i = 0; i < problems->len; i++) {
    const char *p = problems->pdata[i];
    static const char unknown[] = " type: unknown output type \"";
    const char *type = strstr(p, unknown);
    if (type) {
      type += strlen(unknown);
      g_autofree char *name = g_strndup(type, strcspn(type, "\""));
      g_test_message("needs the %s driver: %s", name, p);
      g_assert_null(scand_output_driver_find(name));
      continue;
    }
    g_printerr("%s\n", p);
    g_assert_not_reached();
  }
  g_auto(GStrv) outputs = scand_config_list_sections(config, "output");
  g_assert_cmpuint(g_strv_length(outputs), ==, 4);
  g_auto(GStrv) rules = scand_config_list_sections(config, "rule");
  g_assert_cmpuint(g_strv_length(rules), ==, 5);
  g_auto(GStrv) intakes = scand_config_list_sections(config, "intake");
  g_assert_cmpuint(g_strv_length(intakes), ==, 1);
  g_assert_cmpstr(scand_config_get(config, "intake", "copiers", "listen"), ==, "systemd");
  g_assert_cmpuint(scand_config_get_warnings(config)->len, ==, 0);
  g_assert_cmpstr(scand_config_get(config, "scand", NULL, "log-level"), ==, "info");
  g_assert_cmpstr(scand_config_get(config, "watch", "mfp-drop", "after"), ==, "move:/srv/scans/done");
  rm_rf(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_test_add_func("/config/load/file", test_load_file);
  g_test_add_func("/config/load/system", test_load_system);
  g_test_add_func("/config/load/user", test_load_user);
  g_test_add_func("/config/load/env", test_load_env);
  g_test_add_func("/config/load/missing", test_load_missing);
  g_test_add_func("/config/load/syntax", test_syntax_errors);
  g_test_add_func("/config/load/binary", test_binary);
  g_test_add_func("/config/check/problems", test_check_problems);
  g_test_add_func("/config/check/secret", test_check_secret);
  g_test_add_func("/config/check/intake", test_check_intake);
  g_test_add_func("/config/durations", test_durations);
  g_test_add_func("/config/schema", test_schema);
  g_test_add_func("/config/example", test_example);
  return g_test_run();
}
