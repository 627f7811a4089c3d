/* The parts of `scand config check` that belong to [intake] and [account]
 * sections, and the value parsers the SMTP listener shares with it. */
#pragma once

#include <glib.h>
#include "scand/base/config.h"

G_BEGIN_DECLS

/* One listen item: "HOST:PORT", "[V6]:PORT", ":PORT" or "*:PORT" (every
 * address), or "systemd" / "systemd:NAME" (a socket passed by systemd with
 * FileDescriptorName=NAME, default "smtp"). On TRUE *host is NULL for every
 * address, or for systemd *fd_name is set; *why on FALSE. All newly
 * allocated. */
gboolean scand_intake_parse_listen(const char *item, char **host, guint *port, char **fd_name, char **why);

/* Whether a recipient glob of accept-to names mailboxes of known domains: a
 * domain part with a wildcard must keep at least two literal labels after it
 * ("*@scan.example", "*@*.scan.example"), so that no pattern accepts mail for
 * any domain (that would be an open relay). FALSE with *why. */
gboolean scand_intake_recipient_glob_ok(const char *glob, char **why);

/* Appends the problems of [intake name] (listen items, CIDRs, accounts, TLS
 * files in pairs, logins without TLS, accept-to patterns). */
void scand_config_check_intake(GPtrArray *problems, ScandConfig *config, const char *name);

/* Appends the problems of [account name] (its allow-from CIDRs). */
void scand_config_check_account(GPtrArray *problems, ScandConfig *config, const char *name);

/* Records warnings (scand_config_add_warning): settings that work but weaken
 * security (allow-cleartext-auth, allow-from everyone). */
void scand_config_warn_intake(ScandConfig *config, const char *name);

G_END_DECLS
