/* Page processing options from profile-style keys: one parser for profiles,
 * jobs and `scand assemble`. */
#include "scand/core/page-process.h"

#include <stdlib.h>
#include <string.h>

#include "scand/base/config.h"
#include "scand/base/error.h"

const char *const scand_page_option_keys[] = {
  "ocr",    "ocr-timeout", "ocr-workers", "rotate", "rotate-backs", "blank", "blank-threshold",
  "deskew", "crop",        "mode",        "split",  "barcodes",     NULL,
};

static gboolean bad(GError **error, const char *key, const char *value, const char *want) {
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s = %s: expected %s", key, value, want);
  return FALSE;
}

/* A whole number within lo..hi. */
static gboolean parse_int(const char *key, const char *v, int lo, int hi, int *out, GError **error) {
  char *end = NULL;
  long n = v ? strtol(v, &end, 10) : 0;
  if (!v || !*v || *end || n < lo || n > hi) {
    g_autofree char *want = g_strdup_printf("a number within %d..%d", lo, hi);
    return bad(error, key, v ? v : "", want);
  }
  *out = (int) n;
  return TRUE;
}

static gboolean parse_bool(const char *key, const char *v, gboolean *out, GError **error) {
  if (!v)
    return TRUE;
  if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
    *out = TRUE;
  else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
    *out = FALSE;
  else
    return bad(error, key, v, "true or false");
  return TRUE;
}

/* rotate / rotate-backs: 0, 90, 180, 270 (and auto for rotate). */
static gboolean parse_turn(const char *key, const char *v, gboolean allow_auto, int *turn, gboolean *automatic,
                           GError **error) {
  if (!v)
    return TRUE;
  if (allow_auto && strcmp(v, "auto") == 0) {
    *automatic = TRUE;
    return TRUE;
  }
  if (!parse_int(key, v, 0, 270, turn, NULL) || *turn % 90)
    return bad(error, key, v, allow_auto ? "auto, 0, 90, 180 or 270" : "0, 90, 180 or 270");
  return TRUE;
}

static gboolean parse_blank(const char *v, ScandPageOptions *o, GError **error) {
  if (!v || !strcmp(v, "keep"))
    o->blank = SCAND_BLANK_KEEP;
  else if (!strcmp(v, "drop"))
    o->blank = SCAND_BLANK_DROP;
  else if (!strcmp(v, "flag"))
    o->blank = SCAND_BLANK_FLAG;
  else
    return bad(error, "blank", v, "keep, drop or flag");
  return TRUE;
}

gboolean scand_page_options_parse(ScandPageOptions *o, ScandSplit *split, guint *workers, ScandPageOptionGetter get,
                                  gpointer user_data, GError **error) {
  memset(o, 0, sizeof *o);
  memset(split, 0, sizeof *split);
  const char *ocr = get("ocr", user_data);
  o->ocr = ocr && *ocr && strcmp(ocr, "off") && strcmp(ocr, "false") && strcmp(ocr, "none") ? ocr : NULL;
  const char *v = get("ocr-timeout", user_data);
  if (v) {
    gint64 whole = 0;
    char *end = NULL;
    o->ocr_timeout = g_ascii_strtod(v, &end);
    if (*end && scand_config_parse_duration(v, &whole))
      o->ocr_timeout = (double) whole;
    else if (!*v || *end)
      o->ocr_timeout = -1;
    if (o->ocr_timeout <= 0 || o->ocr_timeout > 86400)
      return bad(error, "ocr-timeout", v, "seconds (e.g. 120, 2m or 0.5)");
  }
  int n = 0;
  v = get("ocr-workers", user_data);
  if (v && !parse_int("ocr-workers", v, 0, 256, &n, error))
    return FALSE;
  if (workers)
    *workers = (guint) n;
  if (!parse_turn("rotate", get("rotate", user_data), TRUE, &o->rotate, &o->rotate_auto, error) ||
      !parse_turn("rotate-backs", get("rotate-backs", user_data), FALSE, &o->rotate_backs, NULL, error) ||
      !parse_blank(get("blank", user_data), o, error) ||
      !parse_bool("deskew", get("deskew", user_data), &o->deskew, error) ||
      !parse_bool("crop", get("crop", user_data), &o->crop, error) ||
      !parse_bool("barcodes", get("barcodes", user_data), &o->barcodes, error))
    return FALSE;
  v = get("blank-threshold", user_data);
  if (v) {
    char *end = NULL;
    o->blank_threshold = g_ascii_strtod(v, &end);
    if (!*v || *end || o->blank_threshold <= 0 || o->blank_threshold > 100)
      return bad(error, "blank-threshold", v, "a percentage above 0, e.g. 0.01");
  }
  o->color_detect = g_strcmp0(get("mode", user_data), "auto-detect") == 0;
  if (!scand_split_parse(get("split", user_data), split, error))
    return FALSE;
  if (split->kind == SCAND_SPLIT_BLANK_SHEET && o->blank == SCAND_BLANK_KEEP)
    o->blank = SCAND_BLANK_FLAG; /* blank sheets must be looked for */
  if (scand_page_options_any(o) || split->kind != SCAND_SPLIT_NONE)
    o->barcodes = TRUE;
  return TRUE;
}
