/* The job facts table: one row a fact (facts.h). */
#include "scand/base/facts.h"

#include <stddef.h>
#include <string.h>

/* clang-format off */
#define TEXT(k, f) .key = k, .type = SCAND_FACT_TEXT, .offset = offsetof(ScandJobFacts, f)
#define COUNT(k, f) .key = k, .type = SCAND_FACT_COUNT, .offset = offsetof(ScandJobFacts, f)
#define FLAG(k, f) .key = k, .type = SCAND_FACT_FLAG, .offset = offsetof(ScandJobFacts, f)
#define BOTH (SCAND_FACT_IN_NAMES | SCAND_FACT_IN_TEXT)
/* clang-format on */

static const ScandFact facts[] = {
  { TEXT("source-kind", source_kind), .what = "source", .rule_key = "source", .rule_type = SCAND_KEY_ENUM,
    .rule_values = "scan|watch|mail|file" },
  { TEXT("device", device), .what = "device", .rule_key = "device" },
  { TEXT("device-name", device_name), .what = "device name", .field = "device", .use = BOTH,
    .text_default = "scanner" },
  { TEXT("profile", profile), .what = "profile", .rule_key = "profile", .rule_type = SCAND_KEY_PROFILE,
    .field = "profile", .use = BOTH, .text_default = "" },
  { TEXT("trigger", trigger), .what = "trigger", .rule_key = "trigger" },
  { TEXT("panel", panel), .what = "panel destination", .rule_key = "panel" },
  { TEXT("watch", watch), .what = "watched folder", .rule_key = "watch" },
  { TEXT("watch-path", path), .what = "path", .rule_key = "path" },
  { TEXT("sender", sender), .what = "sender", .rule_key = "sender", .caseless = TRUE },
  { TEXT("recipient", recipient), .what = "recipient", .rule_key = "recipient", .field = "recipient", .use = BOTH,
    .text_default = "", .caseless = TRUE },
  { TEXT("intake", intake), .what = "intake", .rule_key = "intake" },
  { TEXT("mail-from", mail_from), .what = "envelope sender", .rule_key = "mail-from", .field = "sender", .use = BOTH,
    .text_default = "", .caseless = TRUE },
  { TEXT("mail-to", mail_to), .what = "envelope recipient", .rule_key = "mail-to", .caseless = TRUE },
  { TEXT("subject", subject), .what = "subject", .field = "subject", .use = BOTH, .text_default = "" },
  { TEXT("attachment", attachment), .what = "attachment", .rule_key = "attachment", .field = "attachment", .use = BOTH,
    .text_default = "" },
  { TEXT("attachment-file", attachment_file), .what = "attachment file" },
  { TEXT("mail-from-header", mail_from_header), .what = "From address" },
  { TEXT("mail-from-name", mail_from_name), .what = "From name" },
  { TEXT("message-id", message_id), .what = "Message-ID" },
  { TEXT("client-ip", client_ip), .what = "client address" },
  { TEXT("auth-user", auth_user), .what = "login" },
  { TEXT("queue-id", queue_id), .what = "mail queue id" },
  { COUNT("pages", pages), .what = "page count", .field = "pages", .use = BOTH, .text_default = "?" },
  { COUNT("seq", seq), .what = "sequence number", .field = "seq", .use = SCAND_FACT_IN_NAMES },
  { TEXT("source", source), .what = "scan source", .field = "source", .use = SCAND_FACT_IN_NAMES },
  { TEXT("id", job), .what = "job", .field = "job", .use = BOTH, .text_default = "", .fixed = TRUE },
  { TEXT("barcode", barcode), .what = "barcode", .rule_key = "barcode", .field = "barcode", .use = BOTH,
    .text_default = "" },
  { TEXT("blanks", blanks), .what = "blank pages", .field = "blanks", .use = BOTH, .text_default = "none",
    .name_default = "none" },
  { TEXT("name", name), .what = "file name", .field = "name", .use = SCAND_FACT_IN_TEXT, .text_default = "scan.pdf" },
  { TEXT("created", created), .what = "creation time", .fixed = TRUE },
  { TEXT("source-file", source_file), .what = "source file" },
  { TEXT("source-file-backs", source_file_backs), .what = "second pass" },
  { TEXT("source-id", source_id), .what = "source identity" },
  { TEXT("mode", mode), .what = "colour mode" },
  { FLAG("duplex", duplex), .what = "duplex" },
  { COUNT("resolution", resolution), .what = "resolution" },
  { COUNT("jpeg-quality", jpeg_quality), .what = "JPEG quality" },
  { FLAG("lossless", lossless), .what = "lossless" },
  { FLAG("pdfa", pdfa), .what = "PDF/A" },
  { TEXT("title", title), .what = "title" },
  { TEXT("template", template), .what = "name template" },
  { TEXT("rule", rule), .what = "rule" },
  { TEXT("interrupted", interrupted), .what = "interruption" },
};

const ScandFact *scand_facts_table(guint *n) {
  *n = G_N_ELEMENTS(facts);
  return facts;
}

const ScandFact *scand_facts_find(const char *key) {
  for (guint i = 0; key && i < G_N_ELEMENTS(facts); i++)
    if (strcmp(facts[i].key, key) == 0)
      return &facts[i];
  return NULL;
}

const ScandFact *scand_facts_find_rule_key(const char *rule_key) {
  for (guint i = 0; rule_key && i < G_N_ELEMENTS(facts); i++)
    if (facts[i].rule_key && strcmp(facts[i].rule_key, rule_key) == 0)
      return &facts[i];
  return NULL;
}

const ScandFact *scand_facts_find_field(const char *field) {
  for (guint i = 0; field && i < G_N_ELEMENTS(facts); i++)
    if (facts[i].field && strcmp(facts[i].field, field) == 0)
      return &facts[i];
  return NULL;
}

#define AT(facts, fact, type) ((type *) ((char *) (facts) + (fact)->offset))

const char *scand_fact_get_text(const ScandJobFacts *f, const ScandFact *fact) {
  g_return_val_if_fail(fact->type == SCAND_FACT_TEXT, NULL);
  return *AT(f, fact, const char *const);
}

guint scand_fact_get_count(const ScandJobFacts *f, const ScandFact *fact) {
  g_return_val_if_fail(fact->type == SCAND_FACT_COUNT, 0);
  return *AT(f, fact, const guint);
}

gboolean scand_fact_get_flag(const ScandJobFacts *f, const ScandFact *fact) {
  g_return_val_if_fail(fact->type == SCAND_FACT_FLAG, FALSE);
  return *AT(f, fact, const gboolean);
}

void scand_fact_set_text(ScandJobFacts *f, const ScandFact *fact, const char *value) {
  g_return_if_fail(fact->type == SCAND_FACT_TEXT);
  *AT(f, fact, const char *) = value;
}

void scand_fact_set_count(ScandJobFacts *f, const ScandFact *fact, guint value) {
  g_return_if_fail(fact->type == SCAND_FACT_COUNT);
  *AT(f, fact, guint) = value;
}

void scand_fact_set_flag(ScandJobFacts *f, const ScandFact *fact, gboolean value) {
  g_return_if_fail(fact->type == SCAND_FACT_FLAG);
  *AT(f, fact, gboolean) = value;
}

char *scand_fact_format(const ScandJobFacts *f, const ScandFact *fact) {
  switch (fact->type) {
    case SCAND_FACT_TEXT: {
      const char *v = scand_fact_get_text(f, fact);
      return v && *v ? g_strdup(v) : NULL;
    }
    case SCAND_FACT_COUNT: {
      guint v = scand_fact_get_count(f, fact);
      return v ? g_strdup_printf("%u", v) : NULL;
    }
    case SCAND_FACT_FLAG:
      return scand_fact_get_flag(f, fact) ? g_strdup("true") : NULL;
  }
  return NULL;
}
