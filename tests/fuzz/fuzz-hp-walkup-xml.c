/* Fuzzes the HP walk-up decoders (destination lists and single destinations,
 * the LEDM event table, the WalkupScanToComp event) and the URI and ETag
 * helpers on the same bytes. Any input gives a result or a one-line error. */
#include "backends/hp-walkup-xml.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_error(GError *error) {
  g_assert_nonnull(error);
  g_assert_nonnull(error->message);
  g_assert_null(strchr(error->message, '\n'));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *xml = (const char *) data;
  GError *error = NULL;
  GPtrArray *list = NULL;
  if (hp_walkup_destinations_decode(xml, size, &list, &error)) {
    for (guint i = 0; i < list->len; i++) {
      HpWalkupDestination *d = list->pdata[i];
      g_assert_nonnull(d->uri);
      g_assert_true(d->duplex >= -1 && d->duplex <= 1);
      g_free(hp_walkup_uri_path(d->uri));
    }
    g_ptr_array_unref(list);
  } else {
    check_error(error);
    g_clear_error(&error);
  }
  GPtrArray *events = NULL;
  if (hp_event_table_decode(xml, size, &events, &error)) {
    for (guint i = 0; i < events->len; i++) {
      HpEvent *e = events->pdata[i];
      g_assert_nonnull(e->category);
      hp_walkup_uri_same(e->destination_uri, "/WalkupScanToComp/WalkupScanToCompDestinations/x");
    }
    g_ptr_array_unref(events);
  } else {
    check_error(error);
    g_clear_error(&error);
  }
  HpCompEvent ev;
  char *word = NULL;
  if (hp_comp_event_decode(xml, size, &ev, &word, &error)) {
    g_assert_nonnull(word);
    g_free(word);
  } else {
    check_error(error);
    g_clear_error(&error);
  }
  /* The same bytes as a header value and a resource URI (up to a NUL). */
  char *text = g_strndup(xml, MIN(size, 4096));
  char *etag = hp_etag_parse(text);
  g_assert_true(!etag || (*etag && !strchr(etag, '"')));
  g_free(etag);
  char *path = hp_walkup_uri_path(text);
  g_assert_true(!path || path[0] == '/');
  g_free(path);
  g_free(text);
  return 0;
}
