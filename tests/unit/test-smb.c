/* The SMB output's pure parts: URL parsing, libsmbclient URLs, names, and the
 * classification of errors into retry / failed with a cause a person can act on.
 * The delivery itself is tested against a real smbd in tests/integration/smb-*.sh. */
#include "outputs/smb-private.h"
#include "outputs/output.h"

#include <errno.h>

static void test_url_parse(void) {
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandSmbUrl) u = scand_smb_url_parse("smb://127.0.0.1:4455/scans/office/in%20box/", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(u->host, ==, "127.0.0.1");
  g_assert_cmpuint(u->port, ==, 4455);
  g_assert_cmpstr(u->share, ==, "scans");
  g_assert_cmpstr(u->dir, ==, "office/in box");

  g_autoptr(ScandSmbUrl) plain = scand_smb_url_parse("smb://nas.example/scans", &error);
  g_assert_no_error(error);
  g_assert_cmpuint(plain->port, ==, 0);
  g_assert_cmpstr(plain->dir, ==, "");
  g_autofree char *shown = scand_smb_url_display(plain);
  g_assert_cmpstr(shown, ==, "smb://nas.example/scans");

  g_autoptr(ScandSmbUrl) v6 = scand_smb_url_parse("smb://[::1]:445/s", &error);
  g_assert_no_error(error);
  g_assert_cmpstr(v6->host, ==, "::1");
  g_autofree char *v6u = scand_smb_url_for(v6, "a b/c%.pdf");
  g_assert_cmpstr(v6u, ==, "smb://0--1.ipv6-literal.net/s/a%20b/c%25.pdf");
  g_autofree char *v6shown = scand_smb_url_display(v6);
  g_assert_cmpstr(v6shown, ==, "smb://[::1]:445/s");
  g_autoptr(ScandSmbUrl) v6b = scand_smb_url_parse("smb://[fe80::1:2]/s", &error);
  g_assert_no_error(error);
  g_autofree char *v6bu = scand_smb_url_for(v6b, "");
  g_assert_cmpstr(v6bu, ==, "smb://fe80--1-2.ipv6-literal.net/s");
}

static void test_url_refused(void) {
  static const char *const bad[] = {
    "",
    "scans",
    "http://nas/scans",
    "smb://nas",
    "smb://nas/",
    "smb:///scans",
    "smb://user:secret@nas/scans",   /* secrets belong in password-file */
    "smb://user:secret@nas:x/scans", /* …and are not echoed when the URL is malformed */
    "smb://nas/scans?x=1",
    "smb://nas/scans#frag",
    "smb://nas/scans/../etc",
    "smb://nas/scans/a%2Fb", /* an encoded slash would change the path */
    "smb://nas/scans/%0a",
    "smb://nas/scans/a:stream", /* an alternate data stream */
    "smb://na%2Fs/scans",       /* a host that would change the URL */
    "smb://[fe80::1%25a%2Fb]/scans",
    "smb://nas:99999/scans",
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ScandSmbUrl) u = scand_smb_url_parse(bad[i], &error);
    if (u)
      g_error("\"%s\" was accepted", bad[i]);
    g_assert_nonnull(error);
    /* One line; and never the password. */
    g_assert_null(strchr(error->message, '\n'));
    g_assert_null(strstr(error->message, "secret"));
  }
}

static void test_names(void) {
  static const struct {
    const char *name;
    guint n;
    const char *want;
  } cases[] = {
    { "scan.pdf", 1, "scan.pdf" }, { "scan.pdf", 2, "scan-2.pdf" }, { "scan.pdf", 13, "scan-13.pdf" },
    { "scan", 3, "scan-3" },       { "a.b.pdf", 2, "a.b-2.pdf" },   { ".hidden", 2, ".hidden-2" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_autofree char *got = scand_smb_name_with_suffix(cases[i].name, cases[i].n);
    g_assert_cmpstr(got, ==, cases[i].want);
  }
  g_autofree char *safe = scand_smb_safe_name("2026/a:b\\c*?\"<>|\x01.pdf");
  g_assert_cmpstr(safe, ==, "2026/a_b_c_______.pdf");
  g_autofree char *t = scand_smb_temp_name("20261128-0042", "share/x y");
  g_assert_cmpstr(t, ==, ".scand-20261128-0042-share_x_y.part");
  g_autofree char *t2 = scand_smb_temp_name("20261128-0042", "share/x y");
  g_assert_cmpstr(t, ==, t2);
}

static void test_classify(void) {
  g_autoptr(ScandSmbUrl) u = scand_smb_url_parse("smb://127.0.0.1:4455/scans", NULL);
  static const struct {
    int errsv;
    ScandSmbStage stage;
    ScandDeliveryResult want;
    const char *cause;
  } cases[] = {
    { ECONNREFUSED, SCAND_SMB_STAGE_CONNECT, SCAND_DELIVERY_RETRY, "server 127.0.0.1:4455 not reachable" },
    { ETIMEDOUT, SCAND_SMB_STAGE_CONNECT, SCAND_DELIVERY_RETRY, "will retry" },
    { EHOSTUNREACH, SCAND_SMB_STAGE_CONNECT, SCAND_DELIVERY_RETRY, "not reachable" },
    { ECONNRESET, SCAND_SMB_STAGE_CONNECT, SCAND_DELIVERY_RETRY, "not reachable" },
    { ENETRESET, SCAND_SMB_STAGE_UPLOAD, SCAND_DELIVERY_RETRY, "lost" },
    { ECONNABORTED, SCAND_SMB_STAGE_UPLOAD, SCAND_DELIVERY_RETRY, "connection to server 127.0.0.1:4455 lost" },
    { EPERM, SCAND_SMB_STAGE_CONNECT, SCAND_DELIVERY_FAILED, "wrong user name or password" },
    { EACCES, SCAND_SMB_STAGE_CONNECT, SCAND_DELIVERY_FAILED, "access to share 'scans' denied" },
    { ENOENT, SCAND_SMB_STAGE_CONNECT, SCAND_DELIVERY_FAILED, "share 'scans' does not exist" },
    { ENODEV, SCAND_SMB_STAGE_CONNECT, SCAND_DELIVERY_FAILED, "share 'scans' does not exist" },
    { ENOSYS, SCAND_SMB_STAGE_CONNECT, SCAND_DELIVERY_FAILED, "min-protocol" },
    { EACCES, SCAND_SMB_STAGE_MKDIR, SCAND_DELIVERY_FAILED, "permission denied on 'a/b'" },
    { ENOSPC, SCAND_SMB_STAGE_UPLOAD, SCAND_DELIVERY_RETRY, "full" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(cases); i++) {
    ScandDeliveryResult r = SCAND_DELIVERY_DONE;
    g_autofree char *cause = scand_smb_classify(cases[i].errsv, cases[i].stage, u, "scanner", "a/b", &r);
    g_assert_cmpint(r, ==, cases[i].want);
    if (!strstr(cause, cases[i].cause))
      g_error("errno %d: cause \"%s\" lacks \"%s\"", cases[i].errsv, cause, cases[i].cause);
    g_assert_null(strchr(cause, '\n'));
  }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/smb/url/parse", test_url_parse);
  g_test_add_func("/smb/url/refused", test_url_refused);
  g_test_add_func("/smb/names", test_names);
  g_test_add_func("/smb/classify", test_classify);
  return g_test_run();
}
