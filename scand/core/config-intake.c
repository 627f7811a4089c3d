/* [intake] and [account] checks: what makes an SMTP listener safe to run. */
#include "scand/core/config-intake.h"

#include <gio/gio.h>
#include <string.h>

gboolean scand_intake_parse_listen(const char *item, char **host, guint *port, char **fd_name, char **why) {
  *host = *fd_name = *why = NULL;
  *port = 0;
  if (strcmp(item, "systemd") == 0 || g_str_has_prefix(item, "systemd:")) {
    const char *name = item[7] ? item + 8 : "smtp";
    if (!*name || strlen(name) > 255 || strpbrk(name, ": \t")) {
      *why = g_strdup("expected systemd or systemd:NAME (the socket's FileDescriptorName)");
      return FALSE;
    }
    *fd_name = g_strdup(name);
    return TRUE;
  }
  const char *colon = strrchr(item, ':');
  if (!colon) {
    *why = g_strdup("expected HOST:PORT, [IPv6]:PORT, :PORT or systemd");
    return FALSE;
  }
  guint64 p = 0;
  if (!g_ascii_string_to_unsigned(colon + 1, 10, 1, 65535, &p, NULL)) {
    *why = g_strdup_printf("\"%s\" is not a port (1 to 65535)", colon + 1);
    return FALSE;
  }
  g_autofree char *h = g_strndup(item, (gsize) (colon - item));
  if (h[0] == '[') {
    gsize n = strlen(h);
    if (n < 3 || h[n - 1] != ']') {
      *why = g_strdup("an IPv6 address is written in brackets: [::1]:2525");
      return FALSE;
    }
    h[n - 1] = '\0';
    memmove(h, h + 1, n - 1);
  } else if (strchr(h, ':')) {
    *why = g_strdup("an IPv6 address is written in brackets: [::1]:2525");
    return FALSE;
  }
  if (*h && strcmp(h, "*") != 0) {
    g_autoptr(GInetAddress) addr = g_inet_address_new_from_string(h);
    gboolean name_ok = strspn(h, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == strlen(h);
    if (!addr && !name_ok) {
      *why = g_strdup_printf("\"%s\" is not an address or a host name", h);
      return FALSE;
    }
    *host = g_steal_pointer(&h);
  }
  *port = (guint) p;
  return TRUE;
}

gboolean scand_intake_recipient_glob_ok(const char *glob, char **why) {
  *why = NULL;
  const char *at = strrchr(glob, '@');
  if (!at || at == glob || !at[1]) {
    *why = g_strdup("expected local@domain (the local part may be a glob: *@scan.example)");
    return FALSE;
  }
  const char *domain = at + 1;
  const char *last_wild = NULL;
  for (const char *p = domain; *p; p++)
    if (*p == '*' || *p == '?')
      last_wild = p;
  if (!last_wild)
    return TRUE;
  /* After the last wildcard: ".label.label" at least. */
  const char *rest = last_wild + 1;
  guint labels = 0;
  gboolean ok = rest[0] == '.';
  g_auto(GStrv) parts = g_strsplit(rest, ".", -1);
  for (guint i = 1; ok && parts[i]; i++) {
    ok = *parts[i] != '\0';
    labels++;
  }
  if (!ok || labels < 2) {
    *why = g_strdup_printf("the domain \"%s\" could match domains scand does not own: this would make an open relay "
                           "(write *@scan.example or *@*.scan.example)",
                           domain);
    return FALSE;
  }
  return TRUE;
}

static void check_cidrs(GPtrArray *problems, ScandConfig *config, const char *kind, const char *name) {
  g_auto(GStrv) items = scand_config_split_list(scand_config_get(config, kind, name, "allow-from"));
  for (guint i = 0; items[i]; i++) {
    g_autoptr(GInetAddressMask) mask = g_inet_address_mask_new_from_string(items[i], NULL);
    if (!mask)
      scand_config_add_problem(problems, config, kind, name, "allow-from",
                               "\"%s\" is not an address or a network (expected 192.168.1.0/24, 10.0.0.7, fd00::/8)",
                               items[i]);
  }
}

static void check_listen(GPtrArray *problems, ScandConfig *config, const char *name) {
  g_auto(GStrv) items = scand_config_split_list(scand_config_get(config, "intake", name, "listen"));
  if (!items[0])
    scand_config_add_problem(problems, config, "intake", name, "listen", "no address to listen on");
  for (guint i = 0; items[i]; i++) {
    g_autofree char *host = NULL, *fd_name = NULL, *why = NULL;
    guint port;
    if (!scand_intake_parse_listen(items[i], &host, &port, &fd_name, &why))
      scand_config_add_problem(problems, config, "intake", name, "listen", "\"%s\": %s", items[i], why);
  }
}

static void check_accounts(GPtrArray *problems, ScandConfig *config, const char *name, gboolean tls) {
  g_auto(GStrv) accounts = scand_config_split_list(scand_config_get(config, "intake", name, "accounts"));
  for (guint i = 0; accounts[i]; i++)
    if (!scand_config_has_section(config, "account", accounts[i]))
      scand_config_add_problem(problems, config, "intake", name, "accounts", "no [account %s] section", accounts[i]);
  gboolean cleartext = FALSE, require_auth = FALSE;
  scand_config_get_bool(config, "intake", name, "allow-cleartext-auth", FALSE, &cleartext, NULL);
  scand_config_get_bool(config, "intake", name, "require-auth", FALSE, &require_auth, NULL);
  if (accounts[0] && !tls && !cleartext)
    scand_config_add_problem(problems, config, "intake", name, "accounts",
                             "logins are offered only over TLS: set tls-certificate and tls-key "
                             "(or allow-cleartext-auth = true for a copier that cannot do TLS)");
  g_auto(GStrv) allowed = scand_config_split_list(scand_config_get(config, "intake", name, "allow-from"));
  if (!allowed[0] && !accounts[0])
    scand_config_add_problem(problems, config, "intake", name, NULL,
                             "nobody may send: set allow-from (the copiers' addresses) or accounts (logins)");
  if (require_auth && !accounts[0])
    scand_config_add_problem(problems, config, "intake", name, "require-auth",
                             "no accounts: nobody could log in, so nothing would be accepted");
}

void scand_config_check_intake(GPtrArray *problems, ScandConfig *config, const char *name) {
  check_listen(problems, config, name);
  check_cidrs(problems, config, "intake", name);
  const char *cert = scand_config_get(config, "intake", name, "tls-certificate");
  const char *key = scand_config_get(config, "intake", name, "tls-key");
  if (!cert != !key)
    scand_config_add_problem(problems, config, "intake", name, cert ? "tls-certificate" : "tls-key",
                             "tls-certificate and tls-key go together");
  gboolean require_tls = FALSE;
  scand_config_get_bool(config, "intake", name, "require-tls", FALSE, &require_tls, NULL);
  if (require_tls && !cert)
    scand_config_add_problem(problems, config, "intake", name, "require-tls", "needs tls-certificate and tls-key");
  check_accounts(problems, config, name, cert && key);
  g_auto(GStrv) to = scand_config_split_list(scand_config_get(config, "intake", name, "accept-to"));
  if (scand_config_get(config, "intake", name, "accept-to") && !to[0])
    scand_config_add_problem(problems, config, "intake", name, "accept-to",
                             "empty: name the recipients scand takes mail for (e.g. *@scan.example)");
  for (guint i = 0; to[i]; i++) {
    g_autofree char *why = NULL;
    if (!scand_intake_recipient_glob_ok(to[i], &why))
      scand_config_add_problem(problems, config, "intake", name, "accept-to", "\"%s\": %s", to[i], why);
  }
}

void scand_config_warn_intake(ScandConfig *config, const char *name) {
  gboolean cleartext = FALSE;
  scand_config_get_bool(config, "intake", name, "allow-cleartext-auth", FALSE, &cleartext, NULL);
  if (cleartext)
    scand_config_add_warning(config, "intake", name, "allow-cleartext-auth",
                             "passwords cross the network unencrypted; use TLS if the copier can");
  g_auto(GStrv) items = scand_config_split_list(scand_config_get(config, "intake", name, "allow-from"));
  for (guint i = 0; items[i]; i++) {
    g_autoptr(GInetAddressMask) mask = g_inet_address_mask_new_from_string(items[i], NULL);
    if (mask && g_inet_address_mask_get_length(mask) == 0)
      scand_config_add_warning(config, "intake", name, "allow-from",
                               "\"%s\" lets every address send without logging in", items[i]);
  }
}

void scand_config_check_account(GPtrArray *problems, ScandConfig *config, const char *name) {
  check_cidrs(problems, config, "account", name);
}
