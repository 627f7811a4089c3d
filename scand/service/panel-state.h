/* What the daemon's walk-up panels hold on devices, kept in the spool
 * (spool/panel.ini, written atomically) so that the next run adopts or removes
 * what this one registered (even after kill -9), and `scand status` can show
 * the subscriptions and when they expire. Also this scand's client id: the
 * identity devices tell two scand instances apart by, one per spool. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* This spool's client id ("scand-" and 16 hex digits), created and saved on
 * first use. Newly allocated; NULL with an error when the spool is not
 * writable. */
char *scand_panel_state_client_id(const char *spool_dir, GError **error);

/* The registrations recorded for [scanner section] with this device, as
 * "name\thandle" (ScandPanelSetup.previous); empty when none or when the
 * section now names another device. Newly allocated, never NULL. */
GStrv scand_panel_state_previous(const char *spool_dir, const char *section, const char *device);

/* Records the registrations (ScandPanelRegistration*) of [scanner section];
 * an empty array forgets the section. */
gboolean scand_panel_state_save(const char *spool_dir, const char *section, const char *device,
                                GPtrArray *registrations, GError **error);

/* One recorded registration, for `scand status`. */
typedef struct {
  char *section;
  char *device;
  char *name;
  char *handle;
  gint64 expires; /* wall-clock µs; 0 = never */
  gint64 updated; /* wall-clock µs of the record */
} ScandPanelRecord;

void scand_panel_record_free(ScandPanelRecord *r);

/* Every record of the spool whose device is uri (every one when uri is NULL),
 * as ScandPanelRecord*. Newly allocated, never NULL. */
GPtrArray *scand_panel_state_records(const char *spool_dir, const char *uri);

/* Lines for `scand status`: the panel destinations recorded for uri and
 * when their subscriptions expire, relative to now_real (wall-clock µs);
 * NULL when the spool records none. Newly allocated. */
char *scand_panel_state_describe(const char *spool_dir, const char *uri, gint64 now_real);

G_END_DECLS
