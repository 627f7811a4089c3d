/* Microsoft identity platform tokens and the Graph HTTPS helper (see m365-auth.h). */
#include "outputs/m365-auth.h"
#include "scand/base/error.h"

#include <string.h>
#include <json-glib/json-glib.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define TOKEN_LIFETIME_MARGIN 300 /* seconds before expiry a cached token is renewed */
#define ASSERTION_LIFETIME 300    /* the assertion is valid for 5 minutes (≤ 10 allowed) */
#define HTTP_TIMEOUT 300          /* seconds per request (upload chunks are ≤ 4 MB) */

/* ---- pure parts ---------------------------------------------------------- */

char *scand_m365_base64url(const guchar *data, gsize len) {
  char *s = g_base64_encode(data, len);
  char *w = s;
  for (char *r = s; *r; r++) {
    if (*r == '=')
      continue;
    *w++ = *r == '+' ? '-' : *r == '/' ? '_' : *r;
  }
  *w = '\0';
  return s;
}

char *scand_m365_token_url(const char *authority, const char *tenant) {
  g_autofree char *base = g_strdup(authority && *authority ? authority : SCAND_M365_AUTHORITY);
  gsize n = strlen(base);
  while (n > 0 && base[n - 1] == '/')
    base[--n] = '\0';
  g_autofree char *t = g_uri_escape_string(tenant ? tenant : "", NULL, FALSE);
  return g_strdup_printf("%s/%s/oauth2/v2.0/token", base, t);
}

static char *json_to_base64url(JsonBuilder *b) {
  g_autoptr(JsonNode) root = json_builder_get_root(b);
  g_autoptr(JsonGenerator) gen = json_generator_new();
  json_generator_set_root(gen, root);
  gsize len = 0;
  g_autofree char *text = json_generator_to_data(gen, &len);
  return scand_m365_base64url((const guchar *) text, len);
}

/* Builds and signs the JWT; key is known to be the certificate's RSA key. */
static char *jwt_sign(const char *token_url, const char *client_id, X509 *cert, EVP_PKEY *key, gint64 now,
                      GError **error) {
  guchar *der = NULL;
  int der_len = i2d_X509(cert, &der);
  if (der_len <= 0) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "client-certificate cannot be encoded");
    return NULL;
  }
  guchar digest[32];
  gsize digest_len = sizeof digest;
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(sum, der, der_len);
  g_checksum_get_digest(sum, digest, &digest_len);
  OPENSSL_free(der);
  g_autofree char *x5t = scand_m365_base64url(digest, digest_len);

  g_autoptr(JsonBuilder) h = json_builder_new();
  json_builder_begin_object(h);
  json_builder_set_member_name(h, "alg");
  json_builder_add_string_value(h, "RS256");
  json_builder_set_member_name(h, "typ");
  json_builder_add_string_value(h, "JWT");
  json_builder_set_member_name(h, "x5t#S256");
  json_builder_add_string_value(h, x5t);
  json_builder_end_object(h);
  g_autofree char *uuid = g_uuid_string_random();
  g_autoptr(JsonBuilder) c = json_builder_new();
  json_builder_begin_object(c);
  json_builder_set_member_name(c, "aud");
  json_builder_add_string_value(c, token_url);
  json_builder_set_member_name(c, "iss");
  json_builder_add_string_value(c, client_id);
  json_builder_set_member_name(c, "sub");
  json_builder_add_string_value(c, client_id);
  json_builder_set_member_name(c, "jti");
  json_builder_add_string_value(c, uuid);
  json_builder_set_member_name(c, "iat");
  json_builder_add_int_value(c, now);
  json_builder_set_member_name(c, "nbf");
  json_builder_add_int_value(c, now);
  json_builder_set_member_name(c, "exp");
  json_builder_add_int_value(c, now + ASSERTION_LIFETIME);
  json_builder_end_object(c);
  g_autofree char *h64 = json_to_base64url(h);
  g_autofree char *c64 = json_to_base64url(c);
  g_autofree char *input = g_strdup_printf("%s.%s", h64, c64);

  EVP_MD_CTX *md = EVP_MD_CTX_new();
  size_t sig_len = 0;
  g_autofree guchar *sig = NULL;
  gboolean ok = md && EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
                EVP_DigestSign(md, NULL, &sig_len, (const guchar *) input, strlen(input)) == 1;
  if (ok) {
    sig = g_malloc(sig_len);
    ok = EVP_DigestSign(md, sig, &sig_len, (const guchar *) input, strlen(input)) == 1;
  }
  EVP_MD_CTX_free(md);
  if (!ok) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_FAILED, "cannot sign the client assertion");
    return NULL;
  }
  g_autofree char *s64 = scand_m365_base64url(sig, sig_len);
  return g_strdup_printf("%s.%s", input, s64);
}

char *scand_m365_jwt_assertion(const char *token_url, const char *client_id, const char *certificate_pem,
                               const char *key_pem, gint64 now, GError **error) {
  BIO *bio = BIO_new_mem_buf(certificate_pem, -1);
  X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
  BIO_free(bio);
  if (!cert) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "client-certificate: no PEM certificate found");
    return NULL;
  }
  bio = BIO_new_mem_buf(key_pem ? key_pem : certificate_pem, -1);
  EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
  BIO_free(bio);
  char *result = NULL;
  if (!key)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "client-key: no unencrypted PEM private key found");
  else if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "client-key: Entra ID needs an RSA key for RS256");
  else if (X509_check_private_key(cert, key) != 1 && (ERR_clear_error(), TRUE))
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "client-key does not belong to client-certificate");
  else
    result = jwt_sign(token_url, client_id, cert, key, now, error);
  EVP_PKEY_free(key);
  X509_free(cert);
  return result;
}

static void form_add(GString *s, const char *key, const char *value) {
  g_autofree char *v = g_uri_escape_string(value ? value : "", NULL, FALSE);
  g_string_append_printf(s, "%s%s=%s", s->len ? "&" : "", key, v);
}

char *scand_m365_token_form(const ScandM365Credentials *creds, const char *assertion) {
  GString *s = g_string_new(NULL);
  form_add(s, "grant_type", "client_credentials");
  form_add(s, "client_id", creds->client_id);
  form_add(s, "scope", creds->scope);
  if (assertion) {
    form_add(s, "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
    form_add(s, "client_assertion", assertion);
  } else {
    form_add(s, "client_secret", creds->client_secret);
  }
  return g_string_free(s, FALSE);
}

/* Hints for the AADSTS codes an administrator is most likely to meet. */
static const struct {
  const char *code, *hint;
} aadsts_hints[] = {
  { "AADSTS7000215", "the client secret is wrong: check client-secret-file (the secret's value, not its id)" },
  { "AADSTS7000222", "the client secret has expired: create a new one in Entra ID" },
  { "AADSTS700016", "no application with this client-id in the tenant: check client-id and tenant" },
  { "AADSTS90002", "the tenant does not exist: check tenant" },
  { "AADSTS700027", "the certificate is not registered for the application, or the assertion was rejected" },
  { "AADSTS700024", "the client assertion is not within its valid time range: check the system clock" },
  { "AADSTS50049", "unknown or invalid tenant authority: check authority" },
  { "AADSTS1002012", "invalid scope" },
};

gboolean scand_m365_token_parse(long status, const char *body, gsize len, char **token, gint64 *expires_in,
                                GError **error) {
  g_autoptr(JsonParser) parser = json_parser_new();
  JsonObject *obj = NULL;
  if (body && len && json_parser_load_from_data(parser, body, (gssize) len, NULL) &&
      JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser)))
    obj = json_node_get_object(json_parser_get_root(parser));
  if (status == 200 && obj) {
    const char *t = json_object_get_string_member_with_default(obj, "access_token", NULL);
    const char *type = json_object_get_string_member_with_default(obj, "token_type", "Bearer");
    if (t && *t && g_ascii_strcasecmp(type, "Bearer") == 0) {
      *token = g_strdup(t);
      *expires_in = json_object_get_int_member_with_default(obj, "expires_in", 3600);
      return TRUE;
    }
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "token endpoint: reply has no bearer access_token");
    return FALSE;
  }
  gint code = status == 429 || status >= 500 ? SCAND_ERROR_RETRY : SCAND_ERROR_DENIED;
  if (!obj) {
    g_set_error(error, SCAND_ERROR, code, "token endpoint: HTTP %ld without a JSON error", status);
    return FALSE;
  }
  const char *err = json_object_get_string_member_with_default(obj, "error", "error");
  const char *desc = json_object_get_string_member_with_default(obj, "error_description", "");
  /* The description starts with "AADSTS123: text\r\nTrace ID: …"; keep the
   * first line only. */
  g_autofree char *first = g_strndup(desc, strcspn(desc, "\r\n"));
  const char *hint = NULL;
  for (guint i = 0; i < G_N_ELEMENTS(aadsts_hints); i++) {
    gsize n = strlen(aadsts_hints[i].code);
    if (strncmp(first, aadsts_hints[i].code, n) == 0 && (first[n] == ':' || first[n] == ' '))
      hint = aadsts_hints[i].hint;
  }
  if (!hint && strcmp(err, "invalid_client") == 0)
    hint = "check client-id, the secret or the certificate";
  if (!hint && strcmp(err, "unauthorized_client") == 0)
    hint = "the application is not allowed to use the client-credentials flow";
  g_set_error(error, SCAND_ERROR, code, "token endpoint: %s: %s%s%s", err, *first ? first : "(no description)",
              hint ? " — " : "", hint ? hint : "");
  return FALSE;
}

/* ---- HTTP ------------------------------------------------------------------ */

ScandHttp *scand_m365_client_new(const char *ca_file, GError **error) {
  ScandHttpOptions options = {
    /* Tokens and documents never travel in clear, whatever the config says. */
    .protocols = "https",
    .connect_timeout_ms = 30000,
    .timeout_ms = HTTP_TIMEOUT * 1000,
    .ca_file = ca_file,
  };
  return scand_http_new(&options, error);
}

ScandHttpReply *scand_m365_send(ScandHttp *http, const char *method, const char *url, const char *bearer,
                                const char *const *headers, const void *body, gsize len, GError **error) {
  g_autofree char *auth = bearer ? g_strdup_printf("Authorization: Bearer %s", bearer) : NULL;
  g_autoptr(GPtrArray) list = g_ptr_array_new();
  if (auth)
    g_ptr_array_add(list, auth);
  for (guint i = 0; headers && headers[i]; i++)
    g_ptr_array_add(list, (gpointer) headers[i]);
  g_ptr_array_add(list, NULL);
  ScandHttpRequest request = {
    .method = method,
    .url = url,
    .headers = (const char *const *) list->pdata,
    /* POST/PUT/PATCH carry a body, even an empty one (Content-Length: 0). */
    .body = body ? body : (strcmp(method, "GET") != 0 && strcmp(method, "DELETE") != 0 ? "" : NULL),
    .body_len = len,
  };
  g_autoptr(GError) local = NULL;
  ScandHttpReply *reply = scand_http_perform(http, &request, &local);
  if (reply)
    return reply;
  /* RETRY: the request cannot have reached the server; IO: the connection
   * broke or timed out once it was (maybe) sent. */
  gint code = local->code;
  if (code == SCAND_ERROR_NOT_FOUND)
    code = SCAND_ERROR_RETRY;
  else if (code != SCAND_ERROR_DENIED && code != SCAND_ERROR_INVAL && code != SCAND_ERROR_CANCELLED)
    code = SCAND_ERROR_IO;
  g_set_error_literal(error, SCAND_ERROR, code, local->message);
  return NULL;
}

void scand_m365_reply_set_error(const ScandHttpReply *reply, const char *what, GError **error) {
  g_autoptr(JsonParser) parser = json_parser_new();
  const char *gcode = NULL, *gmsg = NULL;
  if (reply->body && reply->body->len &&
      json_parser_load_from_data(parser, (const char *) reply->body->data, reply->body->len, NULL) &&
      JSON_NODE_HOLDS_OBJECT(json_parser_get_root(parser))) {
    JsonObject *o = json_node_get_object(json_parser_get_root(parser));
    JsonNode *e = json_object_get_member(o, "error");
    if (e && JSON_NODE_HOLDS_OBJECT(e)) {
      JsonObject *eo = json_node_get_object(e);
      gcode = json_object_get_string_member_with_default(eo, "code", NULL);
      gmsg = json_object_get_string_member_with_default(eo, "message", NULL);
    }
  }
  long s = reply->status;
  gint code = s == 429 || s >= 500   ? SCAND_ERROR_RETRY
              : s == 401 || s == 403 ? SCAND_ERROR_DENIED
              : s == 404             ? SCAND_ERROR_NOT_FOUND
                                     : SCAND_ERROR_FAILED;
  const char *hint = NULL;
  if (s == 401)
    hint = "the token was refused: check tenant, client-id and that admin consent was granted";
  else if (s == 403 && gcode && strcmp(gcode, "ErrorAccessDenied") == 0)
    hint = "the application lacks the permission (Mail.Send / Files.ReadWrite.All / Sites.Selected) "
           "or is not allowed on that mailbox (RBAC for Applications / ApplicationAccessPolicy)";
  else if (s == 403)
    hint = "access denied: check the application's permissions and admin consent";
  else if (s == 413)
    hint = "the request is too large for Microsoft 365";
  else if (s == 404 && gcode && strcmp(gcode, "ErrorInvalidUser") == 0)
    hint = "no such mailbox: check sender";
  g_autoptr(GString) m = g_string_new(NULL);
  g_string_append_printf(m, "%s: HTTP %ld", what, s);
  if (gcode)
    g_string_append_printf(m, " %s", gcode);
  if (gmsg && *gmsg)
    g_string_append_printf(m, ": %.*s", (int) strcspn(gmsg, "\r\n"), gmsg);
  if (hint)
    g_string_append_printf(m, " — %s", hint);
  if (code == SCAND_ERROR_RETRY && reply->retry_after > 0)
    g_string_append_printf(m, " (retry after %" G_GINT64_FORMAT " s)", reply->retry_after);
  g_set_error_literal(error, SCAND_ERROR, code, m->str);
}

/* ---- token cache ------------------------------------------------------------ */

typedef struct {
  char *token;
  gint64 expires_at; /* monotonic seconds */
} CachedToken;

static GMutex cache_lock;
static GHashTable *cache; /* key → CachedToken */

static void cached_token_free(gpointer p) {
  CachedToken *t = p;
  if (!t)
    return;
  g_free(t->token);
  g_free(t);
}

void scand_m365_token_cache_clear(void) {
  g_mutex_lock(&cache_lock);
  g_clear_pointer(&cache, g_hash_table_unref);
  g_mutex_unlock(&cache_lock);
}

/* The cache key: the credential enters as a digest only. */
static char *cache_key(const ScandM365Credentials *c, const char *token_url) {
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  const char *parts[] = { token_url, c->client_id, c->scope, c->client_secret, c->certificate_pem, c->key_pem };
  for (guint i = 0; i < G_N_ELEMENTS(parts); i++) {
    g_checksum_update(sum, (const guchar *) (parts[i] ? parts[i] : ""), -1);
    g_checksum_update(sum, (const guchar *) "\n", 1);
  }
  return g_strdup(g_checksum_get_string(sum));
}

char *scand_m365_token_get(const ScandM365Credentials *creds, gint64 *retry_after, GError **error) {
  *retry_after = 0;
  if (!creds->tenant || !creds->client_id) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "tenant and client-id are required");
    return NULL;
  }
  if (!creds->client_secret && !creds->certificate_pem) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "client-secret-file or client-certificate (+ client-key) is required");
    return NULL;
  }
  g_autofree char *url = scand_m365_token_url(creds->authority, creds->tenant);
  g_autofree char *key = cache_key(creds, url);
  gint64 now = g_get_monotonic_time() / G_USEC_PER_SEC;
  g_mutex_lock(&cache_lock);
  CachedToken *hit = cache ? g_hash_table_lookup(cache, key) : NULL;
  char *found = hit && hit->expires_at > now ? g_strdup(hit->token) : NULL;
  g_mutex_unlock(&cache_lock);
  if (found)
    return found;

  g_autofree char *assertion = NULL;
  if (!creds->client_secret) {
    assertion = scand_m365_jwt_assertion(url, creds->client_id, creds->certificate_pem, creds->key_pem,
                                         g_get_real_time() / G_USEC_PER_SEC, error);
    if (!assertion)
      return NULL;
  }
  g_autofree char *form = scand_m365_token_form(creds, assertion);
  const char *headers[] = { "Content-Type: application/x-www-form-urlencoded", "Accept: application/json", NULL };
  g_autoptr(ScandHttp) http = scand_m365_client_new(creds->ca_file, error);
  if (!http)
    return NULL;
  g_autoptr(ScandHttpReply) reply = scand_m365_send(http, "POST", url, NULL, headers, form, strlen(form), error);
  memset(form, 0, strlen(form));
  if (!reply)
    return NULL;
  char *token = NULL;
  gint64 expires_in = 0;
  if (!scand_m365_token_parse(reply->status, (const char *) reply->body->data, reply->body->len, &token, &expires_in,
                              error)) {
    *retry_after = MAX(reply->retry_after, 0);
    return NULL;
  }
  CachedToken *entry = g_new0(CachedToken, 1);
  entry->token = g_strdup(token);
  entry->expires_at = now + MAX(expires_in - TOKEN_LIFETIME_MARGIN, 0);
  g_mutex_lock(&cache_lock);
  if (!cache)
    cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, cached_token_free);
  g_hash_table_replace(cache, g_steal_pointer(&key), entry);
  g_mutex_unlock(&cache_lock);
  return token;
}

/* ---- helpers shared by the outputs ------------------------------------------- */

void scand_m365_credentials_free(ScandM365Credentials *c) {
  if (!c)
    return;
  g_free((char *) c->authority);
  g_free((char *) c->tenant);
  g_free((char *) c->client_id);
  if (c->client_secret)
    memset((char *) c->client_secret, 0, strlen(c->client_secret));
  g_free((char *) c->client_secret);
  g_free((char *) c->certificate_pem);
  if (c->key_pem)
    memset((char *) c->key_pem, 0, strlen(c->key_pem));
  g_free((char *) c->key_pem);
  g_free((char *) c->scope);
  g_free((char *) c->ca_file);
  g_free(c);
}

ScandM365Credentials *scand_m365_credentials_load(ScandDelivery *d, const char *scope, GError **error) {
  /* Copied: the accessor's string lives only until its next call. */
  g_autofree char *out = g_strdup(scand_delivery_get_output_name(d));
  g_autoptr(ScandM365Credentials) c = g_new0(ScandM365Credentials, 1);
  c->authority = g_strdup(scand_delivery_get_config(d, "authority"));
  c->tenant = g_strdup(scand_delivery_get_config(d, "tenant"));
  c->client_id = g_strdup(scand_delivery_get_config(d, "client-id"));
  c->scope = g_strdup(scope);
  c->ca_file = g_strdup(scand_delivery_get_config(d, "ca-file"));
  if (!c->tenant || !c->client_id) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "output %s: tenant and client-id are required", out);
    return NULL;
  }
  if (scand_delivery_get_config(d, "client-secret-file")) {
    c->client_secret = scand_delivery_read_secret(d, "client-secret-file", error);
    if (!c->client_secret)
      return NULL;
  } else if (scand_delivery_get_config(d, "client-certificate")) {
    const char *cert = scand_delivery_get_config(d, "client-certificate");
    g_autoptr(GError) local = NULL;
    char *pem = NULL;
    if (!g_file_get_contents(cert, &pem, NULL, &local)) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "output %s: client-certificate: %s", out, local->message);
      return NULL;
    }
    c->certificate_pem = pem;
    if (scand_delivery_get_config(d, "client-key")) {
      c->key_pem = scand_delivery_read_secret(d, "client-key", error);
      if (!c->key_pem)
        return NULL;
    }
  } else {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
                "output %s: client-secret-file or client-certificate (+ client-key) is required", out);
    return NULL;
  }
  return g_steal_pointer(&c);
}

void scand_m365_check_credentials(ScandConfig *config, const char *name, GPtrArray *problems) {
  if (!scand_config_get(config, "output", name, "tenant") || !scand_config_get(config, "output", name, "client-id"))
    scand_config_add_problem(problems, config, "output", name, NULL, "tenant and client-id are required");
  if (!scand_config_get(config, "output", name, "client-secret-file") &&
      !scand_config_get(config, "output", name, "client-certificate"))
    scand_config_add_problem(problems, config, "output", name, NULL,
                             "client-secret-file or client-certificate (+ client-key) is required");
  /* authority and graph-url receive tokens: https only. */
  const char *keys[] = { "authority", "graph-url" };
  for (guint i = 0; i < G_N_ELEMENTS(keys); i++) {
    const char *v = scand_config_get(config, "output", name, keys[i]);
    if (v && g_ascii_strncasecmp(v, "https://", 8) != 0)
      scand_config_add_problem(problems, config, "output", name, keys[i], "must be an https:// URL");
  }
}
