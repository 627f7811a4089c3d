/* From "scan with this device and profile" to a job ready to scan: which
 * device, which settings, which destinations. Shared by `scand scan`, the
 * daemon's D-Bus Scan() and feeder auto-scan. */
#pragma once

#include <glib.h>
#include "backends/backend.h"
#include "rules/rules.h"
#include "scand/base/config.h"
#include "scand/core/job.h"
#include "scand/core/spool.h"

G_BEGIN_DECLS

/* What was asked; every field may be 0/NULL (= from the config, else default). */
typedef struct {
  const char *device;  /* [scanner] name or URI */
  const char *profile; /* [profile] name */
  const char *source;  /* overrides the profile */
  const char *mode;
  int resolution;
  gboolean duplex;
  int pages;
  const char *const *options; /* extra "name=value" device options */
  const char *name_template;  /* overrides the rule's */
  const char *trigger;        /* "cli", "dbus", "feeder", "panel", … */
  const char *panel;          /* the panel destination a person picked (trigger "panel") */
  const char *const *to;      /* overrides the rule's destinations */
  const char *owner_uid;      /* who asked (a D-Bus caller's uid), if not this process's user */
} ScandScanRequest;

typedef struct {
  char *section; /* the [scanner] section used, or NULL */
  char *uri;
  char *profile;
  char *device_name;             /* for {device} */
  ScandOpenOptions open_options; /* strings owned by the plan */
  ScandScanSettings settings;    /* extra_options owned by the plan */
  ScandRoute *route;
  const char *trigger;
  char *panel;                    /* panel destination name, or NULL */
  gboolean explicit_destinations; /* --to: no routing */
  gboolean explicit_name;         /* --name: keep it whatever the rule */
  char *owner_uid;                /* the request's, or NULL */
} ScandScanPlan;

/* Resolves a request against the config (listing devices when none is named
 * or configured). Errors are one line naming the section, key or device. */
ScandScanPlan *scand_scan_plan_new(ScandConfig *config, const ScandScanRequest *request, GError **error);
void scand_scan_plan_free(ScandScanPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ScandScanPlan, scand_scan_plan_free)

/* Creates the job for a plan: facts, settings, name template, sequence
 * number, destinations and fallback. Caller frees. */
ScandJob *scand_scan_plan_create_job(ScandScanPlan *plan, ScandConfig *config, ScandSpool *spool, GError **error);

/* Routes the job again now that its page count is known (rules with
 * pages-min/pages-max); changes its destinations only if another rule
 * matches, and never when the request named its destinations. */
gboolean scand_scan_plan_reroute(ScandScanPlan *plan, ScandConfig *config, ScandJob *job, GError **error);

G_END_DECLS
