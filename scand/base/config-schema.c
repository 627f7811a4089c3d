/* The configuration's section kinds and their keys: data, one row a key. */
#include "scand/base/config-schema.h"
#include "scand/base/facts.h"

#include <string.h>

/* clang-format off */
#define KEY(n, t) { .name = n, .type = t }
#define ENUM(n, v) { .name = n, .type = SCAND_KEY_ENUM, .values = v }
#define INT(n, lo, hi) { .name = n, .type = SCAND_KEY_INT, .min = lo, .max = hi }
/* clang-format on */

static const ScandConfigKey schema_scand[] = {
  KEY("spool", SCAND_KEY_PATH),
  ENUM("log-level", "error|warning|info|debug"),
  KEY("retry-min", SCAND_KEY_DURATION),        /* first wait before retrying a destination */
  KEY("retry-max", SCAND_KEY_DURATION),        /* longest wait between attempts */
  KEY("retry-max-age", SCAND_KEY_DURATION),    /* give up on a destination after retrying this long */
  KEY("discovery-interfaces", SCAND_KEY_LIST), /* WS-Discovery multicasts here (default: every multicast one) */
  KEY("stall-timeout", SCAND_KEY_DURATION),    /* a worker without progress this long stops the watchdog pings */
  KEY("panel-listen", SCAND_KEY_STRING),       /* walk-up: address the event listener binds (default: every address) */
  INT("panel-port", 0, 65535),                 /* walk-up: its port (default 0: one the system picks) */
  KEY("metrics-listen", SCAND_KEY_STRING),     /* Prometheus /metrics on ADDRESS:PORT (default: off) */
  KEY("metrics-allow", SCAND_KEY_LIST),        /* peers besides loopback that may scrape (addresses, networks) */
  KEY("metrics-textfile", SCAND_KEY_PATH),     /* node-exporter textfile, rewritten every 15 s (default: off) */
  { NULL },
};

static const ScandConfigKey schema_scanner[] = {
  KEY("device", SCAND_KEY_DEVICE),
  KEY("name", SCAND_KEY_STRING),
  KEY("profile", SCAND_KEY_PROFILE),
  ENUM("auto-scan", "off|feeder|button"),
  KEY("tls-pin", SCAND_KEY_STRING),
  KEY("sane-options", SCAND_KEY_LIST),
  KEY("poll-interval", SCAND_KEY_DURATION),
  KEY("settle", SCAND_KEY_DURATION),         /* paper must sit this long before an auto-scan */
  KEY("cooldown", SCAND_KEY_DURATION),       /* no auto-scan this long after one */
  KEY("buttons", SCAND_KEY_LIST),            /* auto-scan = button: "scan=letter;email=photo" */
  KEY("panel", SCAND_KEY_LIST),              /* walk-up: "Finance:letter, Anna:photo" shown on the device's panel */
  KEY("panel-lifetime", SCAND_KEY_DURATION), /* walk-up: subscription lifetime asked of WSD devices (1h) */
  KEY("timeout", SCAND_KEY_DURATION),        /* network devices: one request for a document (30 s) */
  KEY("page-timeout", SCAND_KEY_DURATION),   /* network devices: one page, first to last byte (10 min) */
  INT("max-pages", 1, 1000000),              /* pages of one scan before it is refused (500) */
  KEY("max-page-bytes", SCAND_KEY_SIZE),     /* bytes of one page before it is refused (200M) */
  { NULL },
};

static const ScandConfigKey schema_profile[] = {
  ENUM("source", "auto|flatbed|feeder"),
  KEY("duplex", SCAND_KEY_BOOL),
  ENUM("mode", "auto|color|gray|lineart|auto-detect"), /* auto-detect: colour scan, then per page */
  INT("resolution", 25, 4800),
  INT("pages", 0, 10000),
  INT("area-x", 0, 2000),
  INT("area-y", 0, 2000),
  INT("area-width", 0, 2000),
  INT("area-height", 0, 2000),
  INT("jpeg-quality", 1, 100),
  KEY("lossless", SCAND_KEY_BOOL),
  KEY("pdfa", SCAND_KEY_BOOL),
  KEY("title", SCAND_KEY_STRING),
  /* page processing (scand/core/page-process.h; values checked when a job is planned) */
  KEY("ocr", SCAND_KEY_STRING),           /* Tesseract languages, "eng+deu" */
  KEY("ocr-timeout", SCAND_KEY_DURATION), /* per page */
  INT("ocr-workers", 0, 256),
  ENUM("rotate", "0|90|180|270|auto"),
  ENUM("rotate-backs", "0|90|180|270"),
  ENUM("blank", "keep|drop|flag"),
  KEY("blank-threshold", SCAND_KEY_STRING), /* percent of ink, e.g. 0.01 */
  KEY("deskew", SCAND_KEY_BOOL),
  KEY("crop", SCAND_KEY_BOOL),
  KEY("split", SCAND_KEY_STRING), /* barcode:PATTERN | patch-t | blank-sheet | none */
  KEY("barcodes", SCAND_KEY_BOOL),
  { NULL },
};

static const ScandConfigKey schema_watch[] = {
  KEY("path", SCAND_KEY_PATH),
  KEY("stable-for", SCAND_KEY_DURATION),
  KEY("after", SCAND_KEY_STRING),
  KEY("recursive", SCAND_KEY_BOOL),
  KEY("profile", SCAND_KEY_PROFILE),
  ENUM("collate", "none|double-sided"),       /* pair a simplex feeder's two passes */
  KEY("collate-wait", SCAND_KEY_DURATION),    /* how long the first pass waits for the second */
  KEY("incomplete-wait", SCAND_KEY_DURATION), /* how long an incomplete file waits before .scand-error */
  KEY("poll-interval", SCAND_KEY_DURATION),   /* rescans: the safety net, and all there is on NFS/CIFS */
  { NULL },
};

/* [rule NAME]: a match key for each fact the facts table gives a rule key
 * (scand/base/facts.c), put in front of these at run time, then these. */
static const ScandConfigKey schema_rule_own[] = {
  /* match keys beyond the facts */
  INT("pages-min", 0, 1000000),
  INT("pages-max", 0, 1000000),
  KEY("days", SCAND_KEY_DAYS),
  KEY("hours", SCAND_KEY_HOURS),
  /* actions */
  KEY("deliver", SCAND_KEY_OUTPUT_LIST),
  KEY("name", SCAND_KEY_TEMPLATE),
  KEY("fallback", SCAND_KEY_OUTPUT),
  KEY("fallback-after", SCAND_KEY_DURATION),
  INT("fallback-attempts", 0, 1000),
  KEY("after", SCAND_KEY_STRING), /* watched files: delete | move:/dir (overrides the watch) */
  { NULL },
};

/* [web]: the daemon's web page (scand/service/web.h). */
static const ScandConfigKey schema_web[] = {
  KEY("listen", SCAND_KEY_STRING),            /* ADDRESS:PORT, default 127.0.0.1:8091 */
  KEY("tls-cert", SCAND_KEY_FILE),            /* PEM certificate (chain) for HTTPS */
  KEY("tls-key", SCAND_KEY_SECRET_FILE),      /* its private key */
  KEY("accounts", SCAND_KEY_SECRET_FILE),     /* user:hash lines (scand web passwd) */
  KEY("downloads", SCAND_KEY_BOOL),           /* the page may offer the documents themselves */
  KEY("session-timeout", SCAND_KEY_DURATION), /* a session unused this long ends */
  KEY("server-names", SCAND_KEY_LIST),        /* host names the page answers to besides addresses */
  INT("max-connections", 16, 10000),
  { NULL },
};

/* [intake NAME]: a source that others push to (the SMTP listener). */
static const ScandConfigKey schema_intake[] = {
  ENUM("type", "smtp"),
  KEY("listen", SCAND_KEY_LIST),     /* "127.0.0.1:2525, [::1]:2525, :25", or "systemd" (socket activation) */
  KEY("hostname", SCAND_KEY_STRING), /* our name in the greeting; default: the host's */
  KEY("tls-certificate", SCAND_KEY_FILE),
  KEY("tls-key", SCAND_KEY_SECRET_FILE),
  KEY("require-tls", SCAND_KEY_BOOL),          /* nothing but EHLO, STARTTLS, NOOP, QUIT before TLS */
  KEY("accounts", SCAND_KEY_LIST),             /* [account] names that may log in (AUTH PLAIN/LOGIN) */
  KEY("require-auth", SCAND_KEY_BOOL),         /* also clients inside allow-from must log in */
  KEY("allow-cleartext-auth", SCAND_KEY_BOOL), /* offer AUTH without TLS (a copier that cannot do TLS) */
  KEY("allow-from", SCAND_KEY_LIST),           /* CIDR list of clients that may send without logging in */
  KEY("accept-to", SCAND_KEY_LIST),            /* recipients (globs: *@scan.example); nothing else, whoever asks */
  KEY("accept-from", SCAND_KEY_LIST),          /* envelope senders (globs); unset: any */
  KEY("max-size", SCAND_KEY_SIZE),             /* SIZE: 50M by default */
  INT("max-recipients", 1, 1000),
  INT("max-connections", 1, 10000),
  INT("max-connections-per-ip", 1, 10000),
  INT("max-line-length", 1000, 1048576),    /* a line of the message, CR LF included */
  KEY("timeout", SCAND_KEY_DURATION),       /* waiting for a command in a transaction (RFC 5321: 5m) */
  KEY("data-timeout", SCAND_KEY_DURATION),  /* waiting for the next block of the message (RFC 5321: 3m) */
  KEY("idle-timeout", SCAND_KEY_DURATION),  /* waiting outside a transaction (short: 30s) */
  KEY("session-limit", SCAND_KEY_DURATION), /* one connection at most this long (1h) */
  ENUM("split", "per-attachment|per-message"),
  KEY("profile", SCAND_KEY_PROFILE),       /* page processing of its documents (ocr, blank, deskew…) */
  KEY("dedup-window", SCAND_KEY_DURATION), /* how long a resent message is recognised (1d) */
  { NULL },
};

/* [account NAME]: a login for an intake (one per copier). */
static const ScandConfigKey schema_account[] = {
  KEY("password-file", SCAND_KEY_SECRET_FILE),
  KEY("allow-from", SCAND_KEY_LIST), /* CIDR list this account may log in from; unset: anywhere */
  { NULL },
};

/* [output NAME] has "type" plus the keys of its driver (outputs/output.h). */
static const ScandConfigKey schema_output[] = {
  ENUM("type", NULL),
  { NULL },
};

static ScandConfigKind kinds[] = {
  { "scand", schema_scand, FALSE, NULL },
  { "scanner", schema_scanner, TRUE, "device" },
  { "profile", schema_profile, TRUE, NULL },
  { "watch", schema_watch, TRUE, "path" },
  { "output", schema_output, TRUE, "type" },
  { "rule", NULL, TRUE, "deliver" },
  { "intake", schema_intake, TRUE, "type|listen|accept-to" },
  { "account", schema_account, TRUE, "password-file" },
  { "web", schema_web, FALSE, NULL },
};

/* The [rule] keys: the facts' rule keys, then the rule's own. Built once;
 * lives as long as the process, like the tables it comes from. */
static const ScandConfigKey *schema_rule_build(void) {
  guint n_facts;
  const ScandFact *facts = scand_facts_table(&n_facts);
  GArray *keys = g_array_new(TRUE, TRUE, sizeof(ScandConfigKey));
  for (guint i = 0; i < n_facts; i++) {
    if (!facts[i].rule_key)
      continue;
    ScandConfigKey k = { .name = facts[i].rule_key, .type = facts[i].rule_type, .values = facts[i].rule_values };
    g_array_append_val(keys, k);
  }
  g_array_append_vals(keys, schema_rule_own, G_N_ELEMENTS(schema_rule_own) - 1);
  return (const ScandConfigKey *) g_array_free(keys, FALSE);
}

static void kinds_init(void) {
  static gsize once = 0;
  if (g_once_init_enter(&once)) {
    for (guint i = 0; i < G_N_ELEMENTS(kinds); i++)
      if (strcmp(kinds[i].kind, "rule") == 0)
        kinds[i].keys = schema_rule_build();
    g_once_init_leave(&once, 1);
  }
}

const ScandConfigKind *scand_config_kinds(guint *n_kinds) {
  kinds_init();
  *n_kinds = G_N_ELEMENTS(kinds);
  return kinds;
}

const ScandConfigKind *scand_config_kind_find(const char *kind) {
  kinds_init();
  for (guint i = 0; i < G_N_ELEMENTS(kinds); i++)
    if (g_strcmp0(kinds[i].kind, kind) == 0)
      return &kinds[i];
  return NULL;
}

const ScandConfigKey *scand_config_schema_find(const ScandConfigKey *schema, const char *key) {
  for (guint i = 0; schema && schema[i].name; i++)
    if (strcmp(schema[i].name, key) == 0)
      return &schema[i];
  return NULL;
}
