/* The Microsoft 365 outputs' pure parts: the client assertion (verified here
 * with OpenSSL against the certificate's public key), token requests and
 * replies with AADSTS hints, Graph error mapping, upload fragments and
 * Content-Range, message JSON, drive paths, subject/body templates and sizes.
 * The deliveries are tested against real peers in tests/integration/smtp-*.py
 * and graph-*.py. */
#include "outputs/graph-private.h"
#include "outputs/m365-auth.h"
#include "outputs/mail.h"
#include "rules/template.h"
#include "scand/base/error.h"

#include <string.h>
#include <json-glib/json-glib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* A throw-away key pair and self-signed certificate as PEM. */
static void make_cert(int type, char **cert_pem, char **key_pem) {
  EVP_PKEY *key = type == EVP_PKEY_RSA ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
  g_assert_nonnull(key);
  X509 *x = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *) "scand app", -1, -1, 0);
  X509_set_issuer_name(x, name);
  g_assert_cmpint(X509_sign(x, key, EVP_sha256()), >, 0);
  BIO *b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, x);
  char *p = NULL;
  long n = BIO_get_mem_data(b, &p);
  *cert_pem = g_strndup(p, n);
  BIO_free(b);
  b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
  n = BIO_get_mem_data(b, &p);
  *key_pem = g_strndup(p, n);
  BIO_free(b);
  X509_free(x);
  EVP_PKEY_free(key);
}

static GBytes *b64url_decode(const char *s) {
  g_autoptr(GString) t = g_string_new(s);
  for (gsize i = 0; i < t->len; i++)
    t->str[i] = t->str[i] == '-' ? '+' : t->str[i] == '_' ? '/' : t->str[i];
  while (t->len % 4)
    g_string_append_c(t, '=');
  gsize len = 0;
  guchar *data = g_base64_decode(t->str, &len);
  return g_bytes_new_take(data, len);
}

static JsonObject *decode_part(const char *part, JsonParser *parser) {
  g_autoptr(GBytes) b = b64url_decode(part);
  gsize len = 0;
  const char *data = g_bytes_get_data(b, &len);
  g_assert_true(json_parser_load_from_data(parser, data, (gssize) len, NULL));
  return json_node_get_object(json_parser_get_root(parser));
}

static void test_jwt(void) {
  g_autofree char *cert = NULL, *key = NULL;
  make_cert(EVP_PKEY_RSA, &cert, &key);
  const char *url = "https://login.example/contoso/oauth2/v2.0/token";
  g_autoptr(GError) error = NULL;
  g_autofree char *jwt = scand_m365_jwt_assertion(url, "client-1", cert, key, 1800000000, &error);
  g_assert_no_error(error);
  g_auto(GStrv) parts = g_strsplit(jwt, ".", -1);
  g_assert_cmpuint(g_strv_length(parts), ==, 3);
  g_assert_null(strpbrk(jwt, "+/="));

  g_autoptr(JsonParser) hp = json_parser_new();
  JsonObject *h = decode_part(parts[0], hp);
  g_assert_cmpstr(json_object_get_string_member(h, "alg"), ==, "RS256");
  g_assert_cmpstr(json_object_get_string_member(h, "typ"), ==, "JWT");
  /* x5t#S256 is the SHA-256 of the certificate's DER. */
  BIO *bio = BIO_new_mem_buf(cert, -1);
  X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
  BIO_free(bio);
  guchar *der = NULL;
  int der_len = i2d_X509(x, &der);
  guchar digest[32];
  gsize dlen = sizeof digest;
  g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
  g_checksum_update(sum, der, der_len);
  g_checksum_get_digest(sum, digest, &dlen);
  OPENSSL_free(der);
  g_autofree char *thumb = scand_m365_base64url(digest, dlen);
  g_assert_cmpstr(json_object_get_string_member(h, "x5t#S256"), ==, thumb);

  g_autoptr(JsonParser) cp = json_parser_new();
  JsonObject *c = decode_part(parts[1], cp);
  g_assert_cmpstr(json_object_get_string_member(c, "aud"), ==, url);
  g_assert_cmpstr(json_object_get_string_member(c, "iss"), ==, "client-1");
  g_assert_cmpstr(json_object_get_string_member(c, "sub"), ==, "client-1");
  g_assert_cmpuint(strlen(json_object_get_string_member(c, "jti")), ==, 36);
  g_assert_cmpint(json_object_get_int_member(c, "nbf"), ==, 1800000000);
  gint64 exp = json_object_get_int_member(c, "exp");
  g_assert_cmpint(exp, >, 1800000000);
  g_assert_cmpint(exp - 1800000000, <=, 600);

  /* The signature verifies with the certificate's public key. */
  g_autoptr(GBytes) sig = b64url_decode(parts[2]);
  g_autofree char *input = g_strdup_printf("%s.%s", parts[0], parts[1]);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  g_assert_cmpint(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, X509_get0_pubkey(x)), ==, 1);
  gsize slen = 0;
  const guchar *s = g_bytes_get_data(sig, &slen);
  g_assert_cmpint(EVP_DigestVerify(md, s, slen, (const guchar *) input, strlen(input)), ==, 1);
  /* … and not for other claims. */
  input[strlen(input) - 1] ^= 1;
  g_assert_cmpint(EVP_DigestVerify(md, s, slen, (const guchar *) input, strlen(input)), !=, 1);
  EVP_MD_CTX_free(md);
  X509_free(x);

  /* Two assertions never share a jti. */
  g_autofree char *jwt2 = scand_m365_jwt_assertion(url, "client-1", cert, key, 1800000000, &error);
  g_assert_no_error(error);
  g_auto(GStrv) parts2 = g_strsplit(jwt2, ".", -1);
  g_assert_cmpstr(parts[1], !=, parts2[1]);
}

static void test_jwt_errors(void) {
  g_autofree char *cert = NULL, *key = NULL, *cert2 = NULL, *key2 = NULL, *ec = NULL, *eckey = NULL;
  make_cert(EVP_PKEY_RSA, &cert, &key);
  make_cert(EVP_PKEY_RSA, &cert2, &key2);
  make_cert(EVP_PKEY_EC, &ec, &eckey);
  g_autoptr(GError) error = NULL;
  g_assert_null(scand_m365_jwt_assertion("u", "c", "not a certificate", key, 0, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
  g_assert_nonnull(strstr(error->message, "client-certificate"));
  g_clear_error(&error);
  g_assert_null(scand_m365_jwt_assertion("u", "c", cert, key2, 0, &error));
  g_assert_nonnull(strstr(error->message, "does not belong"));
  g_clear_error(&error);
  g_assert_null(scand_m365_jwt_assertion("u", "c", ec, eckey, 0, &error));
  g_assert_nonnull(strstr(error->message, "RSA"));
  g_clear_error(&error);
  /* Certificate and key in one file. */
  g_autofree char *both = g_strconcat(cert, key, NULL);
  g_autofree char *jwt = scand_m365_jwt_assertion("u", "c", both, NULL, 0, &error);
  g_assert_no_error(error);
  g_assert_nonnull(jwt);
}

static void test_token_request(void) {
  g_autofree char *url = scand_m365_token_url("https://login.example/", "contoso.example");
  g_assert_cmpstr(url, ==, "https://login.example/contoso.example/oauth2/v2.0/token");
  g_autofree char *def = scand_m365_token_url(NULL, "t");
  g_assert_cmpstr(def, ==, "https://login.microsoftonline.com/t/oauth2/v2.0/token");

  ScandM365Credentials c = { .client_id = "id", .client_secret = "a&b=c d", .scope = SCAND_M365_SCOPE_GRAPH };
  g_autofree char *form = scand_m365_token_form(&c, NULL);
  g_autoptr(GHashTable) p = g_uri_parse_params(form, -1, "&", G_URI_PARAMS_NONE, NULL);
  g_assert_cmpstr(g_hash_table_lookup(p, "grant_type"), ==, "client_credentials");
  g_assert_cmpstr(g_hash_table_lookup(p, "client_secret"), ==, "a&b=c d");
  g_assert_cmpstr(g_hash_table_lookup(p, "scope"), ==, "https://graph.microsoft.com/.default");
  g_assert_false(g_hash_table_contains(p, "client_assertion"));

  g_autofree char *form2 = scand_m365_token_form(&c, "x.y.z");
  g_autoptr(GHashTable) p2 = g_uri_parse_params(form2, -1, "&", G_URI_PARAMS_NONE, NULL);
  g_assert_cmpstr(g_hash_table_lookup(p2, "client_assertion"), ==, "x.y.z");
  g_assert_cmpstr(g_hash_table_lookup(p2, "client_assertion_type"), ==,
                  "urn:ietf:params:oauth:client-assertion-type:jwt-bearer");
  g_assert_false(g_hash_table_contains(p2, "client_secret"));
}

static void test_token_reply(void) {
  g_autoptr(GError) error = NULL;
  g_autofree char *token = NULL;
  gint64 exp = 0;
  const char *ok = "{\"token_type\":\"Bearer\",\"expires_in\":3599,\"access_token\":\"abc\"}";
  g_assert_true(scand_m365_token_parse(200, ok, strlen(ok), &token, &exp, &error));
  g_assert_cmpstr(token, ==, "abc");
  g_assert_cmpint(exp, ==, 3599);

  const char *bad = "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid client secret "
                    "provided.\\r\\nTrace ID: 1\\r\\nCorrelation ID: 2\"}";
  g_assert_false(scand_m365_token_parse(401, bad, strlen(bad), &token, &exp, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_DENIED);
  g_assert_nonnull(strstr(error->message, "AADSTS7000215"));
  g_assert_nonnull(strstr(error->message, "client-secret-file"));
  g_assert_null(strstr(error->message, "Trace ID"));
  g_clear_error(&error);

  g_assert_false(scand_m365_token_parse(429, "{}", 2, &token, &exp, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_RETRY);
  g_clear_error(&error);
  g_assert_false(scand_m365_token_parse(502, "<html>", 6, &token, &exp, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_RETRY);
  g_assert_nonnull(strstr(error->message, "502"));
  g_clear_error(&error);
  g_assert_false(scand_m365_token_parse(200, "{\"token_type\":\"mac\"}", 20, &token, &exp, &error));
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
}

static ScandHttpReply *reply_new(long status, const char *body, gint64 retry_after) {
  ScandHttpReply *r = g_new0(ScandHttpReply, 1);
  r->status = status;
  r->body = g_byte_array_new();
  g_byte_array_append(r->body, (const guint8 *) body, strlen(body));
  r->retry_after = retry_after;
  return r;
}

static void test_graph_errors(void) {
  g_autoptr(GError) error = NULL;
  g_autoptr(ScandHttpReply) denied =
      reply_new(403, "{\"error\":{\"code\":\"ErrorAccessDenied\",\"message\":\"Access is denied.\"}}", 0);
  scand_m365_reply_set_error(denied, "sendMail", &error);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_DENIED);
  g_assert_nonnull(strstr(error->message, "sendMail: HTTP 403 ErrorAccessDenied: Access is denied."));
  g_assert_nonnull(strstr(error->message, "Mail.Send"));
  g_clear_error(&error);
  g_autoptr(ScandHttpReply) busy = reply_new(429, "{\"error\":{\"code\":\"TooManyRequests\"}}", 30);
  scand_m365_reply_set_error(busy, "upload", &error);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_RETRY);
  g_assert_nonnull(strstr(error->message, "retry after 30 s"));
  g_clear_error(&error);
  g_autoptr(ScandHttpReply) big = reply_new(413, "not json", 0);
  scand_m365_reply_set_error(big, "sendMail", &error);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_FAILED);
  g_assert_nonnull(strstr(error->message, "too large"));
  g_clear_error(&error);
  g_autoptr(ScandHttpReply) unauth = reply_new(401, "", 0);
  scand_m365_reply_set_error(unauth, "x", &error);
  g_assert_error(error, SCAND_ERROR, SCAND_ERROR_DENIED);
}

static void test_fragments(void) {
  g_assert_cmpuint(SCAND_GRAPH_CHUNK % (320 * 1024), ==, 0);
  g_assert_cmpuint(SCAND_GRAPH_CHUNK, <=, 4000000);
  guint64 total = 5000000, off = 0;
  guint n = 0;
  while (off < total) {
    gsize len = scand_graph_chunk_length(off, total);
    if (off + len < total)
      g_assert_cmpuint(len % (320 * 1024), ==, 0);
    off += len;
    n++;
  }
  g_assert_cmpuint(off, ==, total);
  g_assert_cmpuint(n, ==, 2);
  g_assert_cmpuint(scand_graph_chunk_length(total, total), ==, 0);
  g_autofree char *r = scand_graph_content_range(3276800, 1723200, 5000000);
  g_assert_cmpstr(r, ==, "bytes 3276800-4999999/5000000");

  guint64 next = 0;
  g_autoptr(GError) error = NULL;
  const char *j = "{\"expirationDateTime\":\"2030-01-01T00:00:00Z\",\"nextExpectedRanges\":[\"655360-\"]}";
  g_assert_true(scand_graph_parse_next_offset(j, strlen(j), &next, &error));
  g_assert_cmpuint(next, ==, 655360);
  const char *j2 = "{\"nextExpectedRanges\":[\"12-99\",\"200-\"]}";
  g_assert_true(scand_graph_parse_next_offset(j2, strlen(j2), &next, &error));
  g_assert_cmpuint(next, ==, 12);
  const char *bad[] = {
    "{}", "[]", "{\"nextExpectedRanges\":[]}", "{\"nextExpectedRanges\":[\"x-\"]}", "{\"nextExpectedRanges\":[5]}", "{"
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
    g_assert_false(scand_graph_parse_next_offset(bad[i], strlen(bad[i]), &next, &error));
    g_assert_error(error, SCAND_ERROR, SCAND_ERROR_INVAL);
    g_clear_error(&error);
  }
}

static void test_message_json(void) {
  const char *to[] = { "a@example.com", "b@example.com", NULL };
  const guint8 pdf[] = "%PDF-1.4 binary\x01\x02";
  gsize len = 0;
  g_autofree char *json =
      scand_graph_message_json("Scan \"1\"", "Body ü", to, NULL, NULL, "doc.pdf", pdf, sizeof pdf - 1, TRUE, &len);
  g_autoptr(JsonParser) p = json_parser_new();
  g_assert_true(json_parser_load_from_data(p, json, (gssize) len, NULL));
  JsonObject *root = json_node_get_object(json_parser_get_root(p));
  g_assert_true(json_object_get_boolean_member(root, "saveToSentItems"));
  JsonObject *m = json_object_get_object_member(root, "message");
  g_assert_cmpstr(json_object_get_string_member(m, "subject"), ==, "Scan \"1\"");
  g_assert_cmpstr(json_object_get_string_member(json_object_get_object_member(m, "body"), "content"), ==, "Body ü");
  JsonArray *rs = json_object_get_array_member(m, "toRecipients");
  g_assert_cmpuint(json_array_get_length(rs), ==, 2);
  g_assert_cmpstr(json_object_get_string_member(
                      json_object_get_object_member(json_array_get_object_element(rs, 1), "emailAddress"), "address"),
                  ==, "b@example.com");
  JsonObject *a = json_array_get_object_element(json_object_get_array_member(m, "attachments"), 0);
  g_assert_cmpstr(json_object_get_string_member(a, "@odata.type"), ==, "#microsoft.graph.fileAttachment");
  gsize dlen = 0;
  g_autofree guchar *data = g_base64_decode(json_object_get_string_member(a, "contentBytes"), &dlen);
  g_assert_cmpmem(data, dlen, pdf, sizeof pdf - 1);

  g_assert_false(json_object_has_member(m, "replyTo"));
  g_autofree char *draft =
      scand_graph_message_json("s", "b", to, "scan@copier.example", "scanner at mfp", NULL, NULL, 0, FALSE, &len);
  g_autoptr(JsonParser) p2 = json_parser_new();
  g_assert_true(json_parser_load_from_data(p2, draft, (gssize) len, NULL));
  JsonObject *d = json_node_get_object(json_parser_get_root(p2));
  g_assert_true(json_object_has_member(d, "subject"));
  g_assert_false(json_object_has_member(d, "attachments"));
  g_assert_false(json_object_has_member(d, "message"));
  JsonArray *reply = json_object_get_array_member(d, "replyTo");
  g_assert_cmpuint(json_array_get_length(reply), ==, 1);
  JsonObject *ra = json_object_get_object_member(json_array_get_object_element(reply, 0), "emailAddress");
  g_assert_cmpstr(json_object_get_string_member(ra, "address"), ==, "scan@copier.example");
  g_assert_cmpstr(json_object_get_string_member(ra, "name"), ==, "scanner at mfp");
}

/* What a forwarded mail takes from the copier's: plain addresses only (no
 * header or JSON tricks), display names without "@" (Exchange Online refuses
 * those: ErrorSendAsDenied) and without quotes, brackets or line breaks. */
static void test_forward_sender(void) {
  const char *plain[] = { "scan@copier.example", "a.b+c@x-y.example", "o'hara@scan.example" };
  for (guint i = 0; i < G_N_ELEMENTS(plain); i++)
    g_assert_true(scand_mail_address_is_plain(plain[i]));
  const char *bad[] = {
    NULL,    "",       "scan", "@x",   "a@",     "a b@x", "a@x\r\nBcc: y@z", "\"a\"@x", "a@[1.2.3.4]",
    "<a@x>", "a..b@x", ".a@x", "a.@x", "a@x..y", "a@.x",  "a,b@x",           "a@x;y"
  };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
    g_assert_false(scand_mail_address_is_plain(bad[i]));
  struct {
    const char *in, *out;
  } names[] = {
    { "scanner@mfp.local", "scanner at mfp.local" },
    { "  Copier \"3rd\" <floor>  ", "Copier 3rd floor" },
    { "Kopierer Büro\r\nBcc: x@y", "Kopierer Büro Bcc: x at y" },
    { "@@", "at at" },
    { "\"\"", NULL },
    { "\xff\xfe", NULL },
    { NULL, NULL },
  };
  for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
    g_autofree char *got = scand_mail_clean_display_name(names[i].in);
    g_assert_cmpstr(got, ==, names[i].out);
  }
  g_autofree char *long_name =
      scand_mail_clean_display_name("0123456789012345678901234567890123456789012345678901234567890123456789");
  g_assert_cmpuint(strlen(long_name), ==, 64);
}

static void test_paths_and_text(void) {
  g_autofree char *p = scand_graph_escape_path("/Scans/Office 1//2026-11-28/a b%#?.pdf");
  g_assert_cmpstr(p, ==, "Scans/Office%201/2026-11-28/a%20b%25%23%3F.pdf");

  g_autoptr(GDateTime) utc = g_date_time_new_from_iso8601("2026-11-28T10:30:00Z", NULL);
  g_autoptr(GDateTime) created = g_date_time_to_local(utc);
  ScandJobFacts facts = {
    .device_name = "MFP 1", .pages = 3, .time = created, .name = "2026-11-28/office-0042.pdf", .job = "j1"
  };
  g_autofree char *t = scand_template_expand_text("{{{device}}} {pages}p {name} {unknown} {date}", &facts);
  g_assert_true(g_str_has_prefix(t, "{MFP 1} 3p office-0042.pdf {unknown} 2026-11-2"));
  const ScandJobFacts none = { 0 };
  g_autofree char *t2 = scand_template_expand_text("{device}/{pages}/{name}", &none);
  g_assert_cmpstr(t2, ==, "scanner/?/scan.pdf");

  gint64 b = 0;
  g_assert_true(scand_config_parse_size("35M", &b));
  g_assert_cmpint(b, ==, 35 * 1024 * 1024);
  g_assert_true(scand_config_parse_size("512kB", &b));
  g_assert_cmpint(b, ==, 512 * 1024);
  g_assert_true(scand_config_parse_size("1048576", &b));
  g_assert_cmpint(b, ==, 1048576);
  const char *bad[] = { "", "M", "-1", "1.5M", "10X", "99999999999999999999G" };
  for (guint i = 0; i < G_N_ELEMENTS(bad); i++)
    g_assert_false(scand_config_parse_size(bad[i], &b));
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/m365/jwt", test_jwt);
  g_test_add_func("/m365/jwt-errors", test_jwt_errors);
  g_test_add_func("/m365/token-request", test_token_request);
  g_test_add_func("/m365/token-reply", test_token_reply);
  g_test_add_func("/m365/graph-errors", test_graph_errors);
  g_test_add_func("/m365/fragments", test_fragments);
  g_test_add_func("/m365/message-json", test_message_json);
  g_test_add_func("/m365/paths-and-text", test_paths_and_text);
  g_test_add_func("/m365/forward-sender", test_forward_sender);
  return g_test_run();
}
