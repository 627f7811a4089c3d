/* HP walk-up scanning ("Scan to Computer" on an HP panel) as pure functions:
 * build the destination a computer registers, decode the destination list,
 * one destination with the settings a person chose on the panel, the LEDM
 * event table and the WalkupScanToComp event.
 *
 * Two generations of the same idea exist, both as rows of hp_walkup_apis[]:
 * "WalkupScanToComp" (LEDM, 2010 schema; newer devices) and "WalkupScan"
 * (2009 schema; older ones). Message shapes follow what real devices send
 * (node-hp-scan-to's recorded exchanges, HP's LEDM schemas); elements are
 * matched by local name within HP's namespaces, never by prefix. Parsing never
 * loads a DTD, expands an entity or touches the network. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One HP walk-up API generation. Paths are relative to the device's web root. */
typedef struct {
  const char *name;              /* "WalkupScanToComp" */
  const char *caps_path;         /* GET: 200 when the device speaks this generation */
  const char *destinations_path; /* GET the list, POST a new destination */
  const char *ns;                /* namespace of the destination we POST */
  const char *root;              /* root element of the destination we POST */
  const char *event_path;        /* GET the panel's progress (HostSelected, …); NULL if none */
  const char *reason;            /* which devices, and why this row exists */
} HpWalkupApi;

/* Newest first; terminated by a row with name NULL. */
extern const HpWalkupApi hp_walkup_apis[];

/* The long-poll resource of the LEDM event table. */
#define HP_EVENT_TABLE_PATH "/EventMgmt/EventTable"

/* The XML body that registers a destination named name (shown on the panel)
 * for a computer called hostname. Text is escaped. Newly allocated. */
char *hp_walkup_destination_build(const HpWalkupApi *api, const char *name, const char *hostname);

typedef struct {
  char *uri;      /* dd:ResourceURI as sent: a path or an absolute URL */
  char *name;     /* dd:Name, shown on the panel */
  char *hostname; /* dd3:Hostname */
  char *shortcut; /* wus:Shortcut chosen on the panel ("SavePDF"), NULL before a choice */
  int duplex;     /* dd:ScanPlexMode: 1 Duplex, 0 Simplex, -1 not said */
} HpWalkupDestination;

void hp_walkup_destination_free(HpWalkupDestination *d);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HpWalkupDestination, hp_walkup_destination_free)

/* Decodes a destination list (…Destinations) or a single destination (…Destination,
 * as a GET of one destination returns on WalkupScanToComp devices) into *out
 * (HpWalkupDestination*, possibly empty). Entries without a ResourceURI are
 * skipped. Fails with SCAND_ERROR_INVAL and a one-line message. */
gboolean hp_walkup_destinations_decode(const char *xml, gsize len, GPtrArray **out, GError **error);

typedef struct {
  char *category;        /* dd:UnqualifiedEventCategory: "ScanEvent", "PowerUpEvent", … */
  char *aging_stamp;     /* dd:AgingStamp: "164-12" */
  char *destination_uri; /* payload whose ResourceType names a destination, or NULL */
  char *comp_event_uri;  /* payload whose ResourceType names a WalkupScanToCompEvent, or NULL */
} HpEvent;

/* Frees an event; accepts NULL. */
void hp_event_free(HpEvent *e);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(HpEvent, hp_event_free)

/* Decodes an EventTable into *out (HpEvent*, in document order, possibly empty).
 * Fails with SCAND_ERROR_INVAL and a one-line message. */
gboolean hp_event_table_decode(const char *xml, gsize len, GPtrArray **out, GError **error);

typedef enum {
  HP_COMP_EVENT_OTHER,                   /* a word we do not know */
  HP_COMP_EVENT_HOST_SELECTED,           /* the person picked us, has not pressed Start yet */
  HP_COMP_EVENT_SCAN_REQUESTED,          /* Start pressed: scan now */
  HP_COMP_EVENT_SCAN_NEW_PAGE_REQUESTED, /* another platen page of the same document */
  HP_COMP_EVENT_SCAN_PAGES_COMPLETE,     /* the person said the document is complete */
} HpCompEvent;

/* Decodes a WalkupScanToCompEvent document. *word (may be NULL) gets the
 * event type as sent, newly allocated. */
gboolean hp_comp_event_decode(const char *xml, gsize len, HpCompEvent *out, char **word, GError **error);

/* The path of a resource URI as devices write it ("http://h:8080/a/b" or
 * "/a/b" → "/a/b"; query and fragment dropped). Newly allocated; NULL when
 * uri has no path. */
char *hp_walkup_uri_path(const char *uri);

/* Whether two resource URIs name the same resource (same path). */
gboolean hp_walkup_uri_same(const char *a, const char *b);

/* The value of an ETag header without quotes or a weak marker ("W/\"1-2\"" →
 * "1-2"). Newly allocated; NULL for an empty or absurd value. */
char *hp_etag_parse(const char *header);

G_END_DECLS
