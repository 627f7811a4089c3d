/* scand web passwd USER: sets a person's password in the web page's
 * accounts file ([web] accounts, or --accounts FILE). */
#include "scand/cli/cli.h"
#include "scand-build.h"
#include "scand/base/error.h"
#include "scand/base/fs.h"

#include <errno.h>
#include <sys/stat.h>

#include <stdio.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#if SCAND_HAVE_WEB
#include "scand/service/web-accounts.h"

/* One line from stdin, without its newline; with echo off on a terminal.
 * NULL at end of input. */
static char *read_password(const char *prompt) {
  gboolean tty = isatty(STDIN_FILENO);
  struct termios saved, quiet;
  if (tty) {
    fprintf(stderr, "%s", prompt);
    fflush(stderr);
    if (tcgetattr(STDIN_FILENO, &saved) == 0) {
      quiet = saved;
      quiet.c_lflag &= ~(tcflag_t) ECHO;
      tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    } else {
      tty = FALSE;
    }
  }
  char buf[SCAND_WEB_PASSWORD_MAX + 2];
  char *line = fgets(buf, sizeof buf, stdin);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    fprintf(stderr, "\n");
  }
  char *out = NULL;
  if (line) {
    buf[strcspn(buf, "\r\n")] = '\0';
    out = g_strdup(buf);
  }
  explicit_bzero(buf, sizeof buf);
  return out;
}

static void password_free(char *p) {
  if (p)
    explicit_bzero(p, strlen(p));
  g_free(p);
}

/* The file's text as it is now ("" when it does not exist yet). */
static gboolean read_accounts(const char *path, char **text, gsize *len, struct stat *st, gboolean *exists,
                              GError **error) {
  struct stat lst;
  *exists = lstat(path, &lst) == 0;
  if (!*exists) {
    *text = g_strdup("");
    *len = 0;
    return TRUE;
  }
  if (!S_ISREG(lst.st_mode)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s is not a regular file (a link or a FIFO is not followed)",
                path);
    return FALSE;
  }
  return scand_fs_read_limited(path, SCAND_WEB_ACCOUNTS_MAX, text, len, st, error);
}

static int web_passwd(const char *path, const char *user) {
  if (!scand_web_user_valid(user)) {
    scand_cli_error("web", "\"%s\" is not a user name (1 to %u letters, digits, '.', '_', '-', '@')", user,
                    SCAND_WEB_USER_MAX);
    return SCAND_EXIT_USAGE;
  }
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  gsize len = 0;
  struct stat st = { 0 };
  gboolean exists = FALSE;
  if (!read_accounts(path, &text, &len, &st, &exists, &error)) {
    scand_cli_error("web", "%s", error->message);
    return SCAND_EXIT_FAILED;
  }
  char *password = read_password("New password: ");
  if (password && isatty(STDIN_FILENO)) {
    char *again = read_password("Again: ");
    gboolean same = again && strcmp(again, password) == 0;
    password_free(again);
    if (!same) {
      password_free(password);
      scand_cli_error("web", "the passwords differ; nothing was changed");
      return SCAND_EXIT_FAILED;
    }
  }
  if (!password || !*password) {
    password_free(password);
    scand_cli_error("web", "no password given (a line on standard input, or typed at the prompt)");
    return SCAND_EXIT_USAGE;
  }
  g_autofree char *hash = scand_web_password_hash(password, &error);
  password_free(password);
  g_autofree char *updated = hash ? scand_web_accounts_set(text, len, user, hash, &error) : NULL;
  if (!updated) {
    scand_cli_error("web", "%s: %s", path, error->message);
    return SCAND_EXIT_FAILED;
  }
  if (!scand_fs_write_atomic(path, updated, strlen(updated), 0600, &error)) {
    scand_cli_error("web", "%s", error->message);
    return SCAND_EXIT_FAILED;
  }
  /* Root editing the daemon's file leaves it to the daemon's user. */
  if (exists && geteuid() == 0 && chown(path, st.st_uid, st.st_gid) < 0)
    scand_cli_error("web", "%s: cannot give it back to its owner: %s", path, g_strerror(errno));
  printf("%s: password of %s %s\n", path, user, exists && strstr(text, user) ? "set" : "added");
  return SCAND_EXIT_OK;
}
#endif

int scand_cli_web(int argc, char **argv) {
  g_autofree char *config_path = NULL;
  g_autofree char *accounts = NULL;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path, "Configuration file", "FILE" },
    { "accounts", 0, 0, G_OPTION_ARG_FILENAME, &accounts, "Accounts file (default: [web] accounts)", "FILE" },
    { NULL },
  };
  int status;
  if (!scand_cli_parse("web", "passwd USER",
                       "Sets USER's password for the web page in its accounts file (mode 0600), "
                       "adding USER if new. The password is read from the terminal (twice), or as "
                       "one line from standard input.",
                       entries, &argc, &argv, &status))
    return status;
  if (argc != 3 || strcmp(argv[1], "passwd") != 0) {
    scand_cli_error("web", "expected: scand web passwd USER [--accounts FILE]");
    return SCAND_EXIT_USAGE;
  }
#if SCAND_HAVE_WEB
  if (!accounts) {
    g_autoptr(GError) error = NULL;
    g_autoptr(ScandConfig) config = scand_config_load(config_path, &error);
    if (!config) {
      scand_cli_error("web", "%s", error->message);
      return SCAND_EXIT_FAILED;
    }
    accounts = g_strdup(scand_config_get(config, "web", NULL, "accounts"));
    if (!accounts) {
      scand_cli_error("web", "no accounts file: set [web] accounts = /etc/scand/web-accounts, or pass --accounts FILE");
      return SCAND_EXIT_USAGE;
    }
  }
  return web_passwd(accounts, argv[2]);
#else
  scand_cli_error("web", "this scand was built without the web page (meson setup -Dweb=enabled)");
  return SCAND_EXIT_FAILED;
#endif
}
