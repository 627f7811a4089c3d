/* SMTP output (libcurl smtp/smtps): the PDF as a base64 MIME attachment.
 *
 * Transport security is never negotiated down: "starttls" (submission, 587)
 * requires STARTTLS (CURLUSESSL_ALL), "tls" is implicit TLS (smtps://, 465),
 * and plain SMTP happens only with an explicit "security = none", which then
 * refuses to send a password. Certificates are always verified.
 *
 * Recipients are tracked one by one: the addresses the server accepted are
 * recorded durably (state "sent-to"), so that a later attempt only mails the
 * ones still missing (a 4xx for one recipient does not resend to the others).
 * The Message-ID is derived from the job so that a copy sent twice after a
 * crash between the server's "250" and the state write is recognisable. */
#include "outputs/output-private.h"
#include "outputs/m365-auth.h"
#include "scand/base/error.h"

#include <string.h>
#include <sys/stat.h>
#include <curl/curl.h>

#define SMTP_DEFAULT_TIMEOUT 120 /* seconds for a whole transaction without progress */
#define SMTP_DEFAULT_SUBJECT "Scan from {device}: {name}"
#define SMTP_DEFAULT_BODY "{pages} page(s) scanned on {device} at {date}.\nThe document is attached: {name}\n"

static const ScandConfigKey smtp_keys[] = {
  { "url", SCAND_KEY_URL },
  { "security", SCAND_KEY_ENUM, "starttls|tls|none" },
  { "ca-file", SCAND_KEY_FILE },
  { "username", SCAND_KEY_STRING },
  { "password-file", SCAND_KEY_SECRET_FILE },
  { "auth", SCAND_KEY_ENUM, "plain|login|xoauth2" },
  { "authority", SCAND_KEY_URL },
  { "tenant", SCAND_KEY_STRING },
  { "client-id", SCAND_KEY_STRING },
  { "client-secret-file", SCAND_KEY_SECRET_FILE },
  { "client-certificate", SCAND_KEY_FILE },
  { "client-key", SCAND_KEY_SECRET_FILE },
  { "from", SCAND_KEY_STRING },
  { "to", SCAND_KEY_LIST },
  { "subject", SCAND_KEY_STRING },
  { "body", SCAND_KEY_STRING },
  { "max-size", SCAND_KEY_STRING },
  { NULL },
};

typedef enum {
  SEC_STARTTLS,
  SEC_TLS,
  SEC_NONE
} Security;

/* ---- pure parts ---------------------------------------------------------- */

/* The effective security of url + security key; FALSE with a message when
 * they contradict each other. */
static gboolean smtp_security(const char *url, const char *security, Security *out, GError **error) {
  gboolean smtps = url && g_ascii_strncasecmp(url, "smtps://", 8) == 0;
  if (!url || (!smtps && g_ascii_strncasecmp(url, "smtp://", 7) != 0)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "url must be smtp://host[:port] or smtps://host[:port]");
    return FALSE;
  }
  if (!security)
    *out = smtps ? SEC_TLS : SEC_STARTTLS;
  else if (strcmp(security, "tls") == 0)
    *out = SEC_TLS;
  else if (strcmp(security, "none") == 0)
    *out = SEC_NONE;
  else
    *out = SEC_STARTTLS;
  if (*out == SEC_TLS && !smtps) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "security = tls needs an smtps:// url (implicit TLS, port 465)");
    return FALSE;
  }
  if (*out != SEC_TLS && smtps) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "an smtps:// url is implicit TLS: use security = tls");
    return FALSE;
  }
  return TRUE;
}

/* An RFC 2047 encoded-word sequence for non-ASCII header text (words of at
 * most 45 bytes, never splitting a UTF-8 character). */
static char *header_encode(const char *text) {
  gboolean ascii = TRUE;
  for (const char *p = text; *p; p++)
    if ((guchar) *p >= 0x80 || (guchar) *p < 0x20)
      ascii = FALSE;
  if (ascii)
    return g_strdup(text);
  GString *s = g_string_new(NULL);
  const char *p = g_utf8_validate(text, -1, NULL) ? text : "(invalid UTF-8)";
  while (*p) {
    const char *q = p;
    while (*q) {
      const char *n = g_utf8_next_char(q);
      if (n - p > 45)
        break;
      q = n;
    }
    g_autofree char *b64 = g_base64_encode((const guchar *) p, q - p);
    g_string_append_printf(s, "%s=?UTF-8?B?%s?=", s->len ? " " : "", b64);
    p = q;
  }
  return g_string_free(s, FALSE);
}

/* RFC 5322 date; month and day names are fixed English, never the locale's. */
static char *rfc5322_date(GDateTime *t) {
  static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  g_autofree char *rest = g_date_time_format(t, "%Y %H:%M:%S %z");
  return g_strdup_printf("%s, %02d %s %s", days[g_date_time_get_day_of_week(t) - 1], g_date_time_get_day_of_month(t),
                         months[g_date_time_get_month(t) - 1], rest);
}

/* Size on the wire of the message: base64 grows by 4/3 plus CRLF per 76
 * characters; headers and body are counted with a margin. */
static gint64 smtp_estimate_size(gint64 attachment, gsize text_len) {
  gint64 b64 = (attachment + 2) / 3 * 4;
  return b64 + (b64 + 75) / 76 * 2 + (gint64) text_len * 3 + 2048;
}

/* What the server said, recorded from libcurl's protocol trace. */
typedef struct {
  char *command;    /* the last command sent (first line) */
  GString *reply;   /* the reply being collected (multi-line) */
  char *last_reply; /* the last complete reply: "451 4.3.0 text" */
  int last_code;
  guint replies;        /* complete replies so far */
  guint tls_replies;    /* value of replies when STARTTLS was answered 220 */
  GPtrArray *rcpt_addr; /* recipients, in order */
  GArray *rcpt_code;    /* their reply codes (0 while pending) */
  GPtrArray *rcpt_reply;
} Transcript;

static void transcript_clear(Transcript *t) {
  g_free(t->command);
  if (t->reply)
    g_string_free(t->reply, TRUE);
  g_free(t->last_reply);
  if (t->rcpt_addr)
    g_ptr_array_unref(t->rcpt_addr);
  if (t->rcpt_code)
    g_array_unref(t->rcpt_code);
  if (t->rcpt_reply)
    g_ptr_array_unref(t->rcpt_reply);
}

static void transcript_init(Transcript *t) {
  memset(t, 0, sizeof *t);
  t->reply = g_string_new(NULL);
  t->rcpt_addr = g_ptr_array_new_with_free_func(g_free);
  t->rcpt_code = g_array_new(FALSE, TRUE, sizeof(int));
  t->rcpt_reply = g_ptr_array_new_with_free_func(g_free);
}

static void transcript_command(Transcript *t, const char *data, gsize len) {
  g_free(t->command);
  t->command = g_strndup(data, strcspn(data, "\r\n") < len ? strcspn(data, "\r\n") : len);
  if (g_ascii_strncasecmp(t->command, "RCPT TO:", 8) == 0) {
    const char *a = t->command + 8;
    gsize n = strcspn(a, " ");
    g_autofree char *addr = g_strndup(a, n);
    if (addr[0] == '<' && n >= 2 && addr[n - 1] == '>') {
      addr[n - 1] = '\0';
      g_ptr_array_add(t->rcpt_addr, g_strdup(addr + 1));
    } else {
      g_ptr_array_add(t->rcpt_addr, g_strdup(addr));
    }
    int zero = 0;
    g_array_append_val(t->rcpt_code, zero);
    g_ptr_array_add(t->rcpt_reply, NULL);
  }
}

static void transcript_reply_line(Transcript *t, const char *line) {
  gsize n = strlen(line);
  if (n < 3 || !g_ascii_isdigit(line[0]) || !g_ascii_isdigit(line[1]) || !g_ascii_isdigit(line[2]))
    return;
  if (t->reply->len)
    g_string_append_c(t->reply, ' ');
  g_string_append(t->reply, n > 4 ? line + 4 : "");
  if (n > 3 && line[3] == '-')
    return;
  int code = atoi(line);
  g_free(t->last_reply);
  t->last_reply = g_strdup_printf("%d %s", code, t->reply->str);
  t->last_code = code;
  t->replies++;
  if (code == 220 && t->command && g_ascii_strcasecmp(t->command, "STARTTLS") == 0)
    t->tls_replies = t->replies;
  g_string_truncate(t->reply, 0);
  if (t->command && g_ascii_strncasecmp(t->command, "RCPT TO:", 8) == 0 && t->rcpt_code->len &&
      g_array_index(t->rcpt_code, int, t->rcpt_code->len - 1) == 0) {
    g_array_index(t->rcpt_code, int, t->rcpt_code->len - 1) = code;
    g_free(t->rcpt_reply->pdata[t->rcpt_reply->len - 1]);
    t->rcpt_reply->pdata[t->rcpt_reply->len - 1] = g_strdup(t->last_reply);
  }
}

static int on_debug(CURL *curl, curl_infotype type, char *data, size_t size, void *user) {
  Transcript *t = user;
  if (type == CURLINFO_HEADER_OUT) {
    transcript_command(t, data, size);
  } else if (type == CURLINFO_HEADER_IN) {
    g_autofree char *text = g_strndup(data, size);
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (guint i = 0; lines[i]; i++) {
      g_strchomp(lines[i]);
      if (*lines[i])
        transcript_reply_line(t, lines[i]);
    }
  }
  return 0;
}

/* A hint for replies that mean "this server wants another kind of login". */
static const char *reply_hint(const char *reply) {
  if (!reply)
    return NULL;
  if (strstr(reply, "5.7.30") || strstr(reply, "5.7.139") || strstr(reply, "5.7.57") ||
      strcasestr(reply, "basic authentication"))
    return " — this server no longer accepts passwords: use auth = xoauth2, or a graph-mail output";
  if (strstr(reply, "5.7.60"))
    return " — the user may not send as this sender: check from and the mailbox's SendAs rights";
  return NULL;
}

/* ---- the driver ------------------------------------------------------------ */

static void smtp_check(ScandConfig *config, const char *name, GPtrArray *problems) {
  const char *url = scand_config_get(config, "output", name, "url");
  const char *security = scand_config_get(config, "output", name, "security");
  const char *auth = scand_config_get(config, "output", name, "auth");
  g_autoptr(GError) error = NULL;
  Security sec;
  if (!smtp_security(url, security, &sec, &error))
    scand_config_add_problem(problems, config, "output", name, url ? "security" : "url", "%s", error->message);
  else if (sec == SEC_NONE &&
           (scand_config_get(config, "output", name, "password-file") || (auth && strcmp(auth, "xoauth2") == 0)))
    scand_config_add_problem(problems, config, "output", name, "security",
                             "security = none would send credentials in clear: use starttls or tls");
  if (!scand_config_get(config, "output", name, "from"))
    scand_config_add_problem(problems, config, "output", name, NULL, "from is required");
  if (!scand_config_get(config, "output", name, "to"))
    scand_config_add_problem(problems, config, "output", name, NULL, "to is required");
  const char *max = scand_config_get(config, "output", name, "max-size");
  gint64 bytes;
  if (max && !scand_m365_parse_size(max, &bytes))
    scand_config_add_problem(problems, config, "output", name, "max-size", "expected a size like 25M or 1048576");
  if (auth && strcmp(auth, "xoauth2") == 0) {
    if (!scand_config_get(config, "output", name, "username"))
      scand_config_add_problem(problems, config, "output", name, "username", "xoauth2 needs the mailbox as username");
    if (!scand_config_get(config, "output", name, "tenant") || !scand_config_get(config, "output", name, "client-id"))
      scand_config_add_problem(problems, config, "output", name, "auth", "xoauth2 needs tenant and client-id");
    if (!scand_config_get(config, "output", name, "client-secret-file") &&
        !scand_config_get(config, "output", name, "client-certificate"))
      scand_config_add_problem(problems, config, "output", name, "auth",
                               "xoauth2 needs client-secret-file or client-certificate");
  } else if (scand_config_get(config, "output", name, "username") &&
             !scand_config_get(config, "output", name, "password-file")) {
    scand_config_add_problem(problems, config, "output", name, "password-file",
                             "username is set without a password-file");
  }
}

static ScandDeliveryResult smtp_fail(GError **error, ScandDeliveryResult r, gint code, const char *out, const char *fmt,
                                     ...) G_GNUC_PRINTF(5, 6);
static ScandDeliveryResult smtp_fail(GError **error, ScandDeliveryResult r, gint code, const char *out, const char *fmt,
                                     ...) {
  va_list ap;
  va_start(ap, fmt);
  g_autofree char *msg = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  g_set_error(error, SCAND_ERROR, code, "output %s: %s", out, msg);
  return r;
}

static ScandDeliveryResult smtp_deliver(ScandDelivery *d, GError **error) {
  /* Copied: the accessor's string lives only until its next call. */
  g_autofree char *out = g_strdup(scand_delivery_get_output_name(d));
  g_autofree char *url = g_strdup(scand_delivery_get_config(d, "url"));
  g_autofree char *from = g_strdup(scand_delivery_get_config(d, "from"));
  g_autofree char *auth = g_strdup(scand_delivery_get_config(d, "auth"));
  g_autofree char *username = g_strdup(scand_delivery_get_config(d, "username"));
  g_autofree char *ca_file = g_strdup(scand_delivery_get_config(d, "ca-file"));
  g_autoptr(GError) local = NULL;
  Security sec;
  if (!smtp_security(url, scand_delivery_get_config(d, "security"), &sec, &local))
    return smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_INVAL, out, "%s", local->message);
  if (!from)
    return smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_INVAL, out, "from is required");
  g_auto(GStrv) to = scand_config_split_list(scand_delivery_get_config(d, "to"));
  if (!to[0])
    return smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_INVAL, out, "to is required");
  gboolean xoauth2 = auth && strcmp(auth, "xoauth2") == 0;
  if (sec == SEC_NONE && (xoauth2 || scand_delivery_get_config(d, "password-file")))
    return smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_INVAL, out,
                     "security = none would send credentials in clear: use starttls or tls");

  /* Recipients that already have the mail from an earlier attempt. */
  g_auto(GStrv) done = scand_config_split_list(scand_delivery_get_state(d, "sent-to"));
  struct curl_slist *rcpt = NULL;
  guint pending = 0;
  for (guint i = 0; to[i]; i++)
    if (!g_strv_contains((const char *const *) done, to[i])) {
      g_autofree char *a = g_strdup_printf("<%s>", to[i]);
      rcpt = curl_slist_append(rcpt, a);
      pending++;
    }
  if (!pending)
    return SCAND_DELIVERY_DONE;

  const char *file = scand_delivery_get_file(d);
  struct stat st;
  if (stat(file, &st) < 0) {
    curl_slist_free_all(rcpt);
    return smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_IO, out, "cannot read %s", file);
  }
  g_autofree char *subject_t = g_strdup(scand_delivery_get_config(d, "subject"));
  g_autofree char *body_t = g_strdup(scand_delivery_get_config(d, "body"));
  g_autofree char *subject = scand_delivery_expand_text(d, subject_t ? subject_t : SMTP_DEFAULT_SUBJECT);
  g_autofree char *body = scand_delivery_expand_text(d, body_t ? body_t : SMTP_DEFAULT_BODY);
  gint64 max_size = 0;
  g_autofree char *max = g_strdup(scand_delivery_get_config(d, "max-size"));
  if (max && !scand_m365_parse_size(max, &max_size)) {
    curl_slist_free_all(rcpt);
    return smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_INVAL, out, "max-size \"%s\" is not a size", max);
  }
  gint64 estimate = smtp_estimate_size(st.st_size, strlen(body) + strlen(subject));
  if (max_size > 0 && estimate > max_size) {
    curl_slist_free_all(rcpt);
    return smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_FAILED, out,
                     "the mail would be about %" G_GINT64_FORMAT " bytes, more than max-size (%" G_GINT64_FORMAT
                     " bytes); deliver large scans to a share or an m365-drive output instead",
                     estimate, max_size);
  }

  g_autofree char *password = NULL, *bearer = NULL, *key_path_pem = NULL;
  if (xoauth2) {
    if (!username) {
      curl_slist_free_all(rcpt);
      return smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_INVAL, out, "xoauth2 needs the mailbox as username");
    }
    g_autoptr(ScandM365Credentials) creds = scand_m365_credentials_load(d, SCAND_M365_SCOPE_SMTP, error);
    if (!creds) {
      curl_slist_free_all(rcpt);
      return SCAND_DELIVERY_FAILED;
    }
    gint64 retry_after = 0;
    bearer = scand_m365_token_get(creds, &retry_after, &local);
    if (!bearer) {
      curl_slist_free_all(rcpt);
      if (retry_after > 0)
        scand_delivery_set_retry_after(d, retry_after);
      gboolean retry =
          g_error_matches(local, SCAND_ERROR, SCAND_ERROR_RETRY) || g_error_matches(local, SCAND_ERROR, SCAND_ERROR_IO);
      return smtp_fail(error, retry ? SCAND_DELIVERY_RETRY : SCAND_DELIVERY_FAILED, local->code, out, "%s",
                       local->message);
    }
  } else if (scand_delivery_get_config(d, "password-file")) {
    password = scand_delivery_read_secret(d, "password-file", error);
    if (!password) {
      curl_slist_free_all(rcpt);
      return SCAND_DELIVERY_FAILED;
    }
  }

  CURL *curl = curl_easy_init();
  if (!curl) {
    curl_slist_free_all(rcpt);
    return smtp_fail(error, SCAND_DELIVERY_RETRY, SCAND_ERROR_RETRY, out, "cannot initialise libcurl");
  }
  Transcript t;
  transcript_init(&t);
  char errbuf[CURL_ERROR_SIZE] = "";
  g_autoptr(GUri) uri = g_uri_parse(url, G_URI_FLAGS_NONE, NULL);
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
  if (uri && g_uri_get_port(uri) < 0)
    curl_easy_setopt(curl, CURLOPT_PORT, sec == SEC_TLS ? 465L : sec == SEC_STARTTLS ? 587L : 25L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_USE_SSL, sec == SEC_NONE ? (long) CURLUSESSL_NONE : (long) CURLUSESSL_ALL);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  if (ca_file)
    curl_easy_setopt(curl, CURLOPT_CAINFO, ca_file);
  /* A client certificate for a partner connector (with xoauth2 and no secret
   * the certificate signs the token request instead). */
  g_autofree char *cert = g_strdup(scand_delivery_get_config(d, "client-certificate"));
  g_autofree char *key = g_strdup(scand_delivery_get_config(d, "client-key"));
  gboolean cert_for_token = xoauth2 && !scand_delivery_get_config(d, "client-secret-file");
  struct curl_blob key_blob = { 0 };
  if (cert && !cert_for_token) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, cert);
    if (key) {
      /* The key file is a secret: read it through the permission check and
       * hand it to libcurl from memory. */
      key_path_pem = scand_delivery_read_secret(d, "client-key", &local);
      if (!key_path_pem) {
        curl_easy_cleanup(curl);
        curl_slist_free_all(rcpt);
        transcript_clear(&t);
        return smtp_fail(error, SCAND_DELIVERY_FAILED, local->code, out, "%s", local->message);
      }
      key_blob.data = key_path_pem;
      key_blob.len = strlen(key_path_pem);
      key_blob.flags = CURL_BLOB_COPY;
      curl_easy_setopt(curl, CURLOPT_SSLKEY_BLOB, &key_blob);
      curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
    }
  }
  if (username)
    curl_easy_setopt(curl, CURLOPT_USERNAME, username);
  if (password)
    curl_easy_setopt(curl, CURLOPT_PASSWORD, password);
  if (bearer) {
    curl_easy_setopt(curl, CURLOPT_XOAUTH2_BEARER, bearer);
    curl_easy_setopt(curl, CURLOPT_LOGIN_OPTIONS, "AUTH=XOAUTH2");
  } else if (auth && strcmp(auth, "login") == 0) {
    curl_easy_setopt(curl, CURLOPT_LOGIN_OPTIONS, "AUTH=LOGIN");
  } else if (auth && strcmp(auth, "plain") == 0) {
    curl_easy_setopt(curl, CURLOPT_LOGIN_OPTIONS, "AUTH=PLAIN");
  }
  g_autofree char *mail_from = g_strdup_printf("<%s>", from);
  curl_easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from);
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
  /* Go on when some recipients are refused; the transcript says which. */
#if LIBCURL_VERSION_NUM >= 0x080200
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT_ALLOWFAILS, 1L);
#else
  curl_easy_setopt(curl, CURLOPT_MAIL_RCPT_ALLLOWFAILS, 1L);
#endif
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 60L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, (long) SMTP_DEFAULT_TIMEOUT);
  curl_easy_setopt(curl, CURLOPT_VERBOSE, 1L);
  curl_easy_setopt(curl, CURLOPT_DEBUGFUNCTION, on_debug);
  curl_easy_setopt(curl, CURLOPT_DEBUGDATA, &t);

  /* Headers: all recipients appear in To:, the same on every attempt. */
  g_autofree char *to_joined = g_strjoinv(", ", to);
  g_autoptr(GDateTime) now = g_date_time_new_now_local();
  g_autofree char *date = rfc5322_date(now);
  const char *at = strrchr(from, '@');
  g_autofree char *mid_seed = g_strdup_printf("%s\n%s", scand_delivery_get_job_id(d), out);
  g_autofree char *mid_hash = g_compute_checksum_for_string(G_CHECKSUM_SHA256, mid_seed, -1);
  g_autofree char *subject_enc = header_encode(subject);
  g_autofree char *h_from = g_strdup_printf("From: %s", from);
  g_autofree char *h_to = g_strdup_printf("To: %s", to_joined);
  g_autofree char *h_subject = g_strdup_printf("Subject: %s", subject_enc);
  g_autofree char *h_date = g_strdup_printf("Date: %s", date);
  g_autofree char *h_mid = g_strdup_printf("Message-ID: <scand.%.32s@%s>", mid_hash, at && at[1] ? at + 1 : "scand");
  struct curl_slist *headers = NULL;
  headers = curl_slist_append(headers, h_date);
  headers = curl_slist_append(headers, h_from);
  headers = curl_slist_append(headers, h_to);
  headers = curl_slist_append(headers, h_subject);
  headers = curl_slist_append(headers, h_mid);
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  curl_mime *mime = curl_mime_init(curl);
  curl_mimepart *part = curl_mime_addpart(mime);
  curl_mime_data(part, body, CURL_ZERO_TERMINATED);
  curl_mime_type(part, "text/plain; charset=utf-8");
  curl_mime_encoder(part, "quoted-printable");
  part = curl_mime_addpart(mime);
  g_autofree char *base = g_path_get_basename(scand_delivery_get_name(d));
  CURLcode mrc = curl_mime_filedata(part, file);
  curl_mime_filename(part, base);
  curl_mime_type(part, "application/pdf");
  curl_mime_encoder(part, "base64");
  curl_easy_setopt(curl, CURLOPT_MIMEPOST, mime);

  CURLcode rc = mrc != CURLE_OK ? mrc : curl_easy_perform(curl);
  curl_mime_free(mime);
  curl_slist_free_all(headers);
  curl_slist_free_all(rcpt);
  curl_easy_cleanup(curl);
  if (password)
    memset(password, 0, strlen(password));
  if (key_path_pem)
    memset(key_path_pem, 0, strlen(key_path_pem));

  ScandDeliveryResult result;
  if (rc == CURLE_OK) {
    /* Accepted by the server for the recipients that got 2xx. */
    g_autoptr(GStrvBuilder) sent = g_strv_builder_new();
    g_strv_builder_addv(sent, (const char **) done);
    g_autoptr(GString) refused = g_string_new(NULL);
    gboolean temporary = FALSE;
    for (guint i = 0; i < t.rcpt_addr->len; i++) {
      int code = g_array_index(t.rcpt_code, int, i);
      if (code >= 200 && code < 300) {
        g_strv_builder_add(sent, t.rcpt_addr->pdata[i]);
      } else {
        g_string_append_printf(refused, "%s%s: %s", refused->len ? "; " : "", (char *) t.rcpt_addr->pdata[i],
                               t.rcpt_reply->pdata[i] ? (char *) t.rcpt_reply->pdata[i] : "no reply");
        temporary |= code >= 400 && code < 500;
      }
    }
    g_auto(GStrv) sent_v = g_strv_builder_end(sent);
    g_autofree char *sent_s = g_strjoinv(",", sent_v);
    if (!scand_delivery_set_state(d, "sent-to", sent_s, &local)) {
      transcript_clear(&t);
      return smtp_fail(error, SCAND_DELIVERY_RETRY, SCAND_ERROR_IO, out, "mail sent, but its state: %s",
                       local->message);
    }
    if (!refused->len)
      result = SCAND_DELIVERY_DONE;
    else
      result = smtp_fail(error, temporary ? SCAND_DELIVERY_RETRY : SCAND_DELIVERY_FAILED,
                         temporary ? SCAND_ERROR_RETRY : SCAND_ERROR_FAILED, out,
                         "sent, but the server refused some recipients: %s", refused->str);
    transcript_clear(&t);
    return result;
  }

  const char *reply = t.last_reply;
  const char *hint = reply_hint(reply);
  /* Every recipient refused: their replies decide. */
  gboolean all_rcpt_refused = t.rcpt_addr->len > 0;
  gboolean rcpt_temporary = FALSE;
  for (guint i = 0; i < t.rcpt_code->len; i++) {
    int code = g_array_index(t.rcpt_code, int, i);
    all_rcpt_refused &= code >= 400;
    rcpt_temporary |= code >= 400 && code < 500;
  }
  /* The server ended the session right after the TLS handshake, before any
   * reply over TLS: servers that require a client certificate do that. */
  gboolean ended_after_handshake =
      (rc == CURLE_RECV_ERROR || rc == CURLE_SSL_CONNECT_ERROR || rc == CURLE_GOT_NOTHING) &&
      (sec == SEC_TLS ? t.replies == 0 : t.tls_replies && t.tls_replies == t.replies);
  if (ended_after_handshake) {
    gboolean have_cert = cert && !cert_for_token;
    result = smtp_fail(
        error, have_cert ? SCAND_DELIVERY_RETRY : SCAND_DELIVERY_FAILED,
        have_cert ? SCAND_ERROR_RETRY : SCAND_ERROR_DENIED, out,
        "the server closed the TLS session right after the handshake (%s)%s", *errbuf ? errbuf : curl_easy_strerror(rc),
        have_cert ? "" : "; it probably requires a client certificate: set client-certificate and client-key");
    transcript_clear(&t);
    return result;
  }
  switch (rc) {
    case CURLE_USE_SSL_FAILED:
      result = smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_DENIED, out,
                         "the server does not offer STARTTLS; nothing was sent in clear (security = starttls)");
      break;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
      result = smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_DENIED, out,
                         "the server's TLS certificate is not trusted (%s); set ca-file for a private CA",
                         *errbuf ? errbuf : curl_easy_strerror(rc));
      break;
    case CURLE_SSL_CERTPROBLEM:
      result =
          smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_INVAL, out,
                    "client-certificate or client-key cannot be used: %s", *errbuf ? errbuf : curl_easy_strerror(rc));
      break;
    case CURLE_LOGIN_DENIED:
      /* 454 "temporary authentication failure" is worth another try; 535 is not. */
      if (t.last_code >= 400 && t.last_code < 500)
        result = smtp_fail(error, SCAND_DELIVERY_RETRY, SCAND_ERROR_RETRY, out, "login failed for now: %s", reply);
      else
        result = smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_DENIED, out, "login refused: %s%s",
                           reply ? reply : (*errbuf ? errbuf : "no reason given"), hint ? hint : "");
      break;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
      result = smtp_fail(error, SCAND_DELIVERY_RETRY, SCAND_ERROR_RETRY, out, "%s",
                         *errbuf ? errbuf : curl_easy_strerror(rc));
      break;
    case CURLE_READ_ERROR:
      result = smtp_fail(error, SCAND_DELIVERY_RETRY, SCAND_ERROR_IO, out, "cannot read %s", file);
      break;
    default:
      if (all_rcpt_refused && !rcpt_temporary)
        result =
            smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_FAILED, out, "every recipient was refused: %s", reply);
      else if (t.last_code >= 500)
        result = smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_FAILED, out, "the server refused the mail: %s%s",
                           reply, hint ? hint : "");
      else if (t.last_code >= 400)
        result = smtp_fail(error, SCAND_DELIVERY_RETRY, SCAND_ERROR_RETRY, out, "the server said: %s", reply);
      else if (rc == CURLE_SSL_CONNECT_ERROR)
        result = smtp_fail(error, SCAND_DELIVERY_FAILED, SCAND_ERROR_DENIED, out,
                           "TLS handshake failed (%s); does the server require a client-certificate?",
                           *errbuf ? errbuf : curl_easy_strerror(rc));
      else
        result = smtp_fail(error, SCAND_DELIVERY_RETRY, SCAND_ERROR_RETRY, out, "%s",
                           *errbuf ? errbuf : curl_easy_strerror(rc));
  }
  transcript_clear(&t);
  return result;
}

const ScandOutputDriver scand_output_smtp = {
  .type = "smtp",
  .keys = smtp_keys,
  .check = smtp_check,
  .deliver = smtp_deliver,
};
