/* The SMB output's pure parts (URL parsing, names, error classification),
 * exposed for tests/unit/test-smb.c. */
#pragma once

#include <glib.h>
#include "outputs/output.h"

G_BEGIN_DECLS

/* smb://host[:port]/share[/dir…], decoded. */
typedef struct {
  char *host;   /* without IPv6 brackets */
  guint16 port; /* 0 = the default (445) */
  char *share;
  char *dir; /* inside the share, "" or "a/b" (no leading or trailing slash) */
} ScandSmbUrl;

/* Parses url; refuses user info (secrets belong in password-file), queries,
 * fragments, a missing share, "." and ".." segments. Caller frees with
 * scand_smb_url_free(). */
ScandSmbUrl *scand_smb_url_parse(const char *url, GError **error);
void scand_smb_url_free(ScandSmbUrl *url);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandSmbUrl, scand_smb_url_free)

/* "smb://host[:port]/share[/dir]" for messages (no secrets). Newly allocated. */
char *scand_smb_url_display(const ScandSmbUrl *url);

/* The libsmbclient URL of a path inside the share ("" = the share itself),
 * each segment percent-encoded, an IPv6 host spelt "0--1.ipv6-literal.net";
 * the port is set on the context, not here. Newly allocated. */
char *scand_smb_url_for(const ScandSmbUrl *url, const char *path);

/* "scan.pdf", 2 → "scan-2.pdf"; "scan", 3 → "scan-3"; n <= 1 → the name. The
 * same rule as the folder output. Newly allocated. */
char *scand_smb_name_with_suffix(const char *name, guint n);

/* name with the characters SMB gives a meaning to or Windows refuses
 * ('\\' separator, ':' alternate data stream, * ? " < > | and control
 * characters) replaced by '_'; '/' still separates directories. Newly
 * allocated. */
char *scand_smb_safe_name(const char *name);

/* The hidden temporary name a job's upload goes to, stable across attempts so
 * that a retry finds it: ".scand-<job>-<output>.part" (each part at most 64
 * bytes) with anything outside [A-Za-z0-9._-] replaced by '_'. Newly
 * allocated. */
char *scand_smb_temp_name(const char *job_id, const char *output_name);

/* What went wrong, for classification. */
typedef enum {
  SCAND_SMB_STAGE_CONNECT, /* first contact: negotiate, log on, tree connect */
  SCAND_SMB_STAGE_MKDIR,
  SCAND_SMB_STAGE_UPLOAD,
  SCAND_SMB_STAGE_RENAME,
  SCAND_SMB_STAGE_STAT,
} ScandSmbStage;

/* Maps errno of a libsmbclient call in a stage to an outcome and a cause a
 * person can act on ("wrong user name or password", "share 'x' does not
 * exist", "server 127.0.0.1:4455 not reachable (Connection refused) — will
 * retry"). path names the file or directory concerned (may be NULL). Returns
 * the cause, newly allocated. */
char *scand_smb_classify(int errsv, ScandSmbStage stage, const ScandSmbUrl *url, const char *username, const char *path,
                         ScandDeliveryResult *result);

G_END_DECLS
