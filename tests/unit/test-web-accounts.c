/* The web page's accounts file and passwords (scand/service/web-accounts.h):
 * a yescrypt hash that verifies the right password only; setting a user
 * keeps the other lines; every kind of bad line refused with its number;
 * listen values for [web]. */
#include "scand/base/error.h"
#include "scand/base/listen-address.h"
#include "scand/service/web-accounts.h"

#include <string.h>

static void test_hash_verify(void) {
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = scand_web_password_hash("Correct horse", &error);
  g_assert_no_error(error);
  g_assert_true(g_str_has_prefix(hash, "$y$"));
  g_assert_true(scand_web_password_verify("Correct horse", hash));
  g_assert_false(scand_web_password_verify("correct horse", hash));
  g_assert_false(scand_web_password_verify("", hash));
  g_assert_false(scand_web_password_verify("Correct horse", "$1$salt$abcdefghijklmnopqrstuv"));
  g_assert_false(scand_web_password_verify("Correct horse", "*"));
  g_autofree char *other = scand_web_password_hash("Correct horse", NULL);
  g_assert_cmpstr(other, !=, hash); /* a new salt each time */
  g_assert_null(scand_web_password_hash("", &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
}

static void test_set_and_lookup(void) {
  g_autofree char *h1 = scand_web_password_hash("one", NULL);
  g_autofree char *h2 = scand_web_password_hash("two", NULL);
  g_autofree char *start = g_strdup_printf("# scand web accounts\n\nanna:%s\n", h1);
  g_autoptr(GError) error = NULL;
  g_autofree char *added = scand_web_accounts_set(start, strlen(start), "bob", h2, &error);
  g_assert_no_error(error);
  g_assert_true(g_str_has_prefix(added, "# scand web accounts\n\nanna:"));
  g_autofree char *bob = scand_web_accounts_lookup(added, strlen(added), "bob", &error);
  g_assert_cmpstr(bob, ==, h2);
  g_autofree char *replaced = scand_web_accounts_set(added, strlen(added), "anna", h2, &error);
  g_autofree char *anna = scand_web_accounts_lookup(replaced, strlen(replaced), "anna", &error);
  g_assert_cmpstr(anna, ==, h2);
  g_assert_cmpuint(strlen(replaced), ==, strlen(added));
  g_assert_null(scand_web_accounts_lookup(replaced, strlen(replaced), "ann", &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND);
}

static void test_bad_lines(void) {
  g_autofree char *h = scand_web_password_hash("x", NULL);
  const struct {
    const char *text, *problem;
  } rows[] = {
    { "anna\n", "line 1: not user:hash" },
    { "# c\n-x:HASH\n", "line 2: not a user name" },
    { "a b:HASH\n", "line 1: not a user name" },
    { "anna:HASH\nanna:HASH\n", "line 2: user anna is there twice" },
    { "anna:$1$abc$0123456789abcdefghijkl\n", "line 1 (user anna): the hash is not yescrypt" },
    { "anna:$6$abc$0123\n", "line 1 (user anna): the hash is not yescrypt" },
    { "anna:$y$garbage\n", "line 1 (user anna): this system's libxcrypt cannot check" },
    { "anna:\n", "line 1 (user anna): the hash is not yescrypt" },
  };
  for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
    g_autoptr(GString) text = g_string_new(rows[i].text);
    g_string_replace(text, "HASH", h, 0);
    g_autoptr(GError) error = NULL;
    g_assert_false(scand_web_accounts_check(text->str, text->len, &error));
    g_assert_nonnull(error);
    if (!g_str_has_prefix(error->message, rows[i].problem))
      g_error("row %u: \"%s\" does not start with \"%s\"", i, error->message, rows[i].problem);
    /* A bad line anywhere: nobody is looked up, also not a user before it. */
    g_autoptr(GError) lookup = NULL;
    g_assert_null(scand_web_accounts_lookup(text->str, text->len, "anna", &lookup));
  }
  g_autoptr(GError) error = NULL;
  g_assert_false(scand_web_accounts_check("a\0b", 3, &error));
  g_assert_null(scand_web_accounts_set("", 0, "bad user", h, NULL));
  g_assert_null(scand_web_accounts_set("", 0, "anna", "$1$x$y", NULL));
}

static void test_listen(void) {
  const struct {
    const char *text, *address;
    guint port;
  } good[] = {
    { "127.0.0.1:8091", "127.0.0.1", 8091 },
    { "[::1]:1", "::1", 1 },
    { ":65535", "", 65535 },
    { "0.0.0.0:80", "0.0.0.0", 80 },
  };
  for (guint i = 0; i < G_N_ELEMENTS(good); i++) {
    g_autofree char *address = NULL;
    guint port = 0;
    g_autoptr(GError) error = NULL;
    g_assert_true(scand_listen_address_parse(good[i].text, &address, &port, &error));
    g_assert_cmpstr(address, ==, good[i].address);
    g_assert_cmpuint(port, ==, good[i].port);
  }
  const char *const bad[] = { "",         "8091",    "127.0.0.1",      "127.0.0.1:0",   "127.0.0.1:65536",
                              "::1:8091", "host:80", "[127.0.0.1]:80", "127.0.0.1:80x", "127.0.0.1:-1",
                              "[::1:80" };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_autofree char *address = NULL;
    guint port = 0;
    g_autoptr(GError) error = NULL;
    if (scand_listen_address_parse(bad[i], &address, &port, &error))
      g_error("\"%s\" was accepted", bad[i]);
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  }
  g_assert_true(scand_listen_address_is_loopback("127.0.0.1"));
  g_assert_true(scand_listen_address_is_loopback("127.1.2.3"));
  g_assert_true(scand_listen_address_is_loopback("::1"));
  g_assert_false(scand_listen_address_is_loopback(""));
  g_assert_false(scand_listen_address_is_loopback("0.0.0.0"));
  g_assert_false(scand_listen_address_is_loopback("::"));
  g_assert_false(scand_listen_address_is_loopback("192.168.1.2"));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/web-accounts/hash-verify", test_hash_verify);
  g_test_add_func("/web-accounts/set-and-lookup", test_set_and_lookup);
  g_test_add_func("/web-accounts/bad-lines", test_bad_lines);
  g_test_add_func("/web-accounts/listen", test_listen);
  return g_test_run();
}
