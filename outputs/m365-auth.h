/* Microsoft 365: OAuth2 client-credentials tokens from the Microsoft identity
 * platform (for Graph and for Exchange Online SMTP XOAUTH2), the HTTPS helper
 * the Graph drivers share, and the mapping of Graph/AADSTS errors to messages a
 * person can act on.
 *
 * A token is requested with a client secret or with a client assertion: a JWT
 * signed (RS256) with the application's certificate key. Tokens are cached per
 * (token URL, client, scope, credential) until a few minutes before expiry. */
#pragma once

#include <glib.h>
#include "outputs/output.h"
#include "scand/base/config.h"
#include "scand/base/http.h"

G_BEGIN_DECLS

#define SCAND_M365_AUTHORITY "https://login.microsoftonline.com"
#define SCAND_M365_GRAPH "https://graph.microsoft.com/v1.0"
#define SCAND_M365_SCOPE_GRAPH "https://graph.microsoft.com/.default"
#define SCAND_M365_SCOPE_SMTP "https://outlook.office365.com/.default"

typedef struct {
  const char *authority; /* base URL; NULL: SCAND_M365_AUTHORITY */
  const char *tenant;    /* tenant id or domain */
  const char *client_id;
  const char *client_secret;   /* the secret itself, or NULL */
  const char *certificate_pem; /* with key_pem: certificate credential */
  const char *key_pem;
  const char *scope;
  const char *ca_file; /* NULL: the system's trust store */
} ScandM365Credentials;

/* "{authority}/{tenant}/oauth2/v2.0/token"; newly allocated. */
char *scand_m365_token_url(const char *authority, const char *tenant);

/* The signed client assertion (compact JWS) for token_url: header
 * {alg RS256, typ JWT, x5t#S256}, claims aud = token_url, iss = sub =
 * client_id, jti, nbf = iat = now, exp = now + 5 min. Newly allocated. */
char *scand_m365_jwt_assertion(const char *token_url, const char *client_id, const char *certificate_pem,
                               const char *key_pem, gint64 now, GError **error);

/* The x-www-form-urlencoded body of a token request (client_secret or
 * client_assertion). Newly allocated. */
char *scand_m365_token_form(const ScandM365Credentials *creds, const char *assertion);

/* Decodes a token endpoint reply. On error the message carries the AADSTS code
 * and a hint; the code is SCAND_ERROR_RETRY for temporary conditions,
 * SCAND_ERROR_DENIED otherwise. token is newly allocated. */
gboolean scand_m365_token_parse(long status, const char *body, gsize len, char **token, gint64 *expires_in,
                                GError **error);

/* A valid access token (from the cache or freshly requested). retry_after gets
 * the server's Retry-After in seconds (0 if none). Newly allocated. */
char *scand_m365_token_get(const ScandM365Credentials *creds, gint64 *retry_after, GError **error);

/* Forgets the cached tokens (tests; after a 401). */
void scand_m365_token_cache_clear(void);

/* A client for Microsoft 365 endpoints: https only, TLS always verified
 * (ca_file for a private CA, NULL: the system's), 300 s per request. Keep one
 * per delivery so that its requests share a connection. */
ScandHttp *scand_m365_client_new(const char *ca_file, GError **error);

/* Sends method url with bearer (NULL: no Authorization header), extra headers
 * ("Name: value", NULL-terminated, may be NULL) and body (may be NULL).
 * Returns the reply whatever its status. Fails only when no HTTP reply
 * arrived: SCAND_ERROR_RETRY for no connection, SCAND_ERROR_DENIED for TLS
 * verification, SCAND_ERROR_INVAL for the URL (for these nothing reached the
 * server), SCAND_ERROR_IO when the connection broke or timed out after the
 * request may have been sent, SCAND_ERROR_CANCELLED when scand is stopping.
 * Newly allocated. */
ScandHttpReply *scand_m365_send(ScandHttp *http, const char *method, const char *url, const char *bearer,
                                const char *const *headers, const void *body, gsize len, GError **error);

/* Turns an unsuccessful Graph reply into an error saying what and why:
 * SCAND_ERROR_RETRY for 429/5xx, SCAND_ERROR_DENIED for 401/403 (with a hint
 * about permissions or mailbox scoping), SCAND_ERROR_FAILED otherwise. what
 * names the request ("sendMail"). */
void scand_m365_reply_set_error(const ScandHttpReply *reply, const char *what, GError **error);

/* Base64url without padding; newly allocated. */
char *scand_m365_base64url(const guchar *data, gsize len);

/* ---- helpers shared by the smtp, graph-mail and m365-drive outputs ---------- */

/* Reads authority, tenant, client-id, client-secret-file or
 * client-certificate + client-key, ca-file of the delivery's output. The
 * returned struct owns its strings; free with scand_m365_credentials_free(). */
ScandM365Credentials *scand_m365_credentials_load(ScandDelivery *d, const char *scope, GError **error);
void scand_m365_credentials_free(ScandM365Credentials *creds);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandM365Credentials, scand_m365_credentials_free)

/* `config check` of the keys scand_m365_credentials_load() reads: tenant and
 * client-id, a client secret or certificate, https authority and graph-url. */
void scand_m365_check_credentials(ScandConfig *config, const char *name, GPtrArray *problems);

G_END_DECLS
