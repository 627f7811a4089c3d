/* Where a feeder batch splits into documents, and which pages stay: a pure
 * function of the pages' analyses. */
#include "scand/core/page-process.h"

#include <string.h>

#include "scand/base/error.h"

gboolean scand_split_parse(const char *text, ScandSplit *split, GError **error) {
  memset(split, 0, sizeof *split);
  if (!text || !text[0] || strcmp(text, "none") == 0)
    return TRUE;
  if (strcmp(text, "patch-t") == 0) {
    split->kind = SCAND_SPLIT_PATCH_T;
    return TRUE;
  }
  if (strcmp(text, "blank-sheet") == 0) {
    split->kind = SCAND_SPLIT_BLANK_SHEET;
    return TRUE;
  }
  if (g_str_has_prefix(text, "barcode:") && text[strlen("barcode:")]) {
    split->kind = SCAND_SPLIT_BARCODE;
    split->pattern = g_strdup(text + strlen("barcode:"));
    return TRUE;
  }
  g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL,
              "split \"%s\" is not barcode:PATTERN, patch-t, blank-sheet or none", text);
  return FALSE;
}

void scand_split_clear(ScandSplit *split) {
  g_clear_pointer(&split->pattern, g_free);
  split->kind = SCAND_SPLIT_NONE;
}

void scand_page_part_free(ScandPagePart *part) {
  if (!part)
    return;
  g_array_unref(part->pages);
  g_array_unref(part->blanks);
  g_free(part->barcode);
  g_free(part);
}

static ScandPagePart *part_new(void) {
  ScandPagePart *p = g_new0(ScandPagePart, 1);
  p->pages = g_array_new(FALSE, FALSE, sizeof(guint));
  p->blanks = g_array_new(FALSE, FALSE, sizeof(guint));
  return p;
}

/* The data of the first barcode on a that matches pattern (all when NULL). */
static const char *matching_barcode(const ScandPageAnalysis *a, const char *pattern) {
  for (guint i = 0; a && a->barcodes && a->barcodes[i]; i++) {
    const char *colon = strchr(a->barcodes[i], ':');
    const char *data = colon ? colon + 1 : a->barcodes[i];
    if (!pattern || g_pattern_match_simple(pattern, data))
      return data;
  }
  return NULL;
}

/* Whether page i (alone, or its sheet when duplex) separates documents. */
static gboolean is_separator(GPtrArray *analyses, guint i, const ScandSplit *split, gboolean duplex) {
  const ScandPageAnalysis *a = analyses->pdata[i];
  if (!a)
    return FALSE;
  switch (split->kind) {
    case SCAND_SPLIT_BARCODE:
      return matching_barcode(a, split->pattern) != NULL;
    case SCAND_SPLIT_PATCH_T:
      return g_strcmp0(a->patch, "T") == 0;
    case SCAND_SPLIT_BLANK_SHEET: {
      if (!a->blank)
        return FALSE;
      if (!duplex)
        return TRUE;
      guint other = i % 2 == 0 ? i + 1 : i - 1;
      const ScandPageAnalysis *b = other < analyses->len ? analyses->pdata[other] : NULL;
      return other >= analyses->len || (b && b->blank);
    }
    case SCAND_SPLIT_NONE:
      break;
  }
  return FALSE;
}

/* Closes the current part into parts (dropping it when empty). */
static void close_part(GPtrArray *parts, ScandPagePart **current) {
  if ((*current)->pages->len > 0 || (*current)->dropped > 0)
    g_ptr_array_add(parts, *current);
  else
    scand_page_part_free(*current);
  *current = part_new();
}

GPtrArray *scand_page_split(GPtrArray *analyses, const ScandSplit *split, gboolean duplex, ScandBlankAction blank) {
  GPtrArray *parts = g_ptr_array_new_with_free_func((GDestroyNotify) scand_page_part_free);
  ScandPagePart *current = part_new();
  guint scanned = 0; /* pages of the current document as scanned */
  for (guint i = 0; i < analyses->len; i++) {
    const ScandPageAnalysis *a = analyses->pdata[i];
    if (split->kind != SCAND_SPLIT_NONE && is_separator(analyses, i, split, duplex)) {
      close_part(parts, &current);
      scanned = 0;
      const char *code = split->kind == SCAND_SPLIT_BARCODE ? matching_barcode(a, split->pattern) : NULL;
      current->barcode = g_strdup(code);
      /* The separator's other side goes with it. */
      if (duplex && i % 2 == 0 && i + 1 < analyses->len)
        i++;
      continue;
    }
    scanned++;
    if (a && a->blank && blank != SCAND_BLANK_KEEP) {
      g_array_append_val(current->blanks, scanned);
      if (blank == SCAND_BLANK_DROP) {
        current->dropped++;
        continue;
      }
    }
    if (!current->barcode && matching_barcode(a, NULL))
      current->barcode = g_strdup(matching_barcode(a, NULL));
    g_array_append_val(current->pages, i);
  }
  close_part(parts, &current);
  scand_page_part_free(current);
  return parts;
}

char *scand_page_part_blanks_string(const ScandPagePart *part) {
  GString *s = g_string_new(NULL);
  for (guint i = 0; i < part->blanks->len; i++)
    g_string_append_printf(s, "%s%u", i ? "," : "", g_array_index(part->blanks, guint, i));
  return g_string_free(s, FALSE);
}
