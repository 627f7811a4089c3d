#include "scand/core/scan-plan.h"
#include "scand/core/job-pages.h"
#include "scand/core/page-process.h"
#include "scand/base/error.h"
#include "scand/core/job-run.h"

#include <string.h>

/* The [scanner] section for device (a section name or a URI), or the first one. */
static char *find_scanner_section(ScandConfig *config, const char *device) {
  g_auto(GStrv) names = scand_config_list_sections(config, "scanner");
  for (guint i = 0; names && names[i]; i++) {
    if (!device)
      return g_strdup(names[i]);
    if (strcmp(names[i], device) == 0 ||
        g_strcmp0(scand_config_get(config, "scanner", names[i], "device"), device) == 0)
      return g_strdup(names[i]);
  }
  return NULL;
}

static const char *profile_value(ScandConfig *config, const char *profile, const char *key) {
  return profile ? scand_config_get(config, "profile", profile, key) : NULL;
}

typedef struct {
  ScandConfig *config;
  const char *profile;
} ProfileKeys;

static const char *profile_key(const char *key, gpointer user_data) {
  ProfileKeys *p = user_data;
  return scand_config_get(p->config, "profile", p->profile, key);
}

/* The profile's page processing, checked before anything is scanned: a
 * missing language pack or a build without OCR is one line now, not a job
 * that fails later. */
static gboolean check_processing(ScandConfig *config, const char *profile, GError **error) {
  if (!profile)
    return TRUE;
  ProfileKeys keys = { config, profile };
  ScandPageOptions options;
  g_auto(ScandSplit) split = { 0 };
  if (scand_page_options_parse(&options, &split, NULL, profile_key, &keys, error) &&
      scand_page_options_check(&options, error))
    return TRUE;
  g_prefix_error(error, "[profile %s] ", profile);
  return FALSE;
}

static gboolean build_settings(ScandConfig *config, const ScandScanPlan *plan, const ScandScanRequest *r,
                               ScandScanSettings *s, GError **error) {
  const char *profile = plan->profile;
  memset(s, 0, sizeof *s);
  if (profile && !scand_config_has_section(config, "profile", profile)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND, "no [profile %s] in the configuration", profile);
    return FALSE;
  }
  const char *source = r->source ? r->source : profile_value(config, profile, "source");
  if (source && !scand_source_from_string(source, &s->source)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "source \"%s\": expected flatbed, feeder or auto", source);
    return FALSE;
  }
  const char *mode = r->mode ? r->mode : profile_value(config, profile, "mode");
  /* auto-detect: scan in colour, page processing picks each page's form. */
  if (mode && strcmp(mode, "auto-detect") == 0)
    mode = "color";
  if (mode && !scand_color_mode_from_string(mode, &s->mode)) {
    g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "mode \"%s\": expected color, gray or lineart", mode);
    return FALSE;
  }
  if (profile) {
    gint64 n;
    if (!scand_config_get_int(config, "profile", profile, "resolution", 0, &n, error))
      return FALSE;
    s->resolution = (int) n;
    if (!scand_config_get_int(config, "profile", profile, "pages", 0, &n, error))
      return FALSE;
    s->max_pages = (guint) n;
    if (!scand_config_get_bool(config, "profile", profile, "duplex", FALSE, &s->duplex, error))
      return FALSE;
    static const char *const area_keys[] = { "area-x", "area-y", "area-width", "area-height" };
    double *area[] = { &s->x, &s->y, &s->width, &s->height };
    for (guint i = 0; i < G_N_ELEMENTS(area_keys); i++) {
      if (!scand_config_get_int(config, "profile", profile, area_keys[i], 0, &n, error))
        return FALSE;
      *area[i] = (double) n;
    }
  }
  if (r->resolution > 0)
    s->resolution = r->resolution;
  if (r->pages > 0)
    s->max_pages = (guint) r->pages;
  if (r->duplex)
    s->duplex = TRUE;
  g_autoptr(GStrvBuilder) extra = g_strv_builder_new();
  const char *sane_options = plan->section ? scand_config_get(config, "scanner", plan->section, "sane-options") : NULL;
  if (sane_options) {
    g_auto(GStrv) parts = g_strsplit(sane_options, ";", -1);
    for (guint i = 0; parts[i]; i++) {
      g_strstrip(parts[i]);
      if (*parts[i])
        g_strv_builder_add(extra, parts[i]);
    }
  }
  for (guint i = 0; r->options && r->options[i]; i++)
    g_strv_builder_add(extra, r->options[i]);
  s->extra_options = g_strv_builder_end(extra);
  return TRUE;
}

/* "sane:test:0" → "test:0"; "escl:https://mfp.example:443/eSCL" → "mfp.example". */
static char *device_short_name(const char *uri) {
  const char *rest = strchr(uri, ':');
  rest = rest ? rest + 1 : uri;
  if (g_str_has_prefix(uri, "escl:")) {
    g_autoptr(GUri) parsed = g_uri_parse(rest, G_URI_FLAGS_NONE, NULL);
    if (parsed && g_uri_get_host(parsed))
      return g_strdup(g_uri_get_host(parsed));
  }
  return g_strdup(rest);
}

/* The scanner's network timeouts and its safety caps on pages. */
static gboolean plan_limits(ScandConfig *config, ScandScanPlan *plan, GError **error) {
  const char *s = plan->section;
  gint64 timeout = 0, page_timeout = 0, pages = SCAND_SCAN_PAGE_LIMIT_DEFAULT,
         bytes = SCAND_SCAN_PAGE_BYTES_LIMIT_DEFAULT;
  if (s && (!scand_config_get_duration(config, "scanner", s, "timeout", 0, &timeout, error) ||
            !scand_config_get_duration(config, "scanner", s, "page-timeout", 0, &page_timeout, error) ||
            !scand_config_get_int(config, "scanner", s, "max-pages", pages, &pages, error) ||
            !scand_config_get_size(config, "scanner", s, "max-page-bytes", bytes, &bytes, error)))
    return FALSE;
  plan->open_options.timeout_ms = (guint) MIN(timeout, 86400) * 1000;
  plan->open_options.page_timeout_ms = (guint) MIN(page_timeout, 86400) * 1000;
  plan->settings.page_limit = (guint) pages;
  plan->settings.page_bytes_limit = (guint64) bytes;
  return TRUE;
}

/* The facts rules see of a scan before its pages are known. */
static ScandJobFacts route_facts(const ScandScanPlan *plan) {
  return (ScandJobFacts){
    .source_kind = "scan",
    .device = plan->uri,
    .profile = plan->profile,
    .trigger = plan->trigger,
    .panel = plan->panel,
  };
}

ScandScanPlan *scand_scan_plan_new(ScandConfig *config, const ScandScanRequest *request, GError **error) {
  g_autoptr(ScandScanPlan) plan = g_new0(ScandScanPlan, 1);
  plan->trigger = request->trigger ? request->trigger : "cli";
  plan->panel = g_strdup(request->panel);
  plan->owner_uid = g_strdup(request->owner_uid);
  plan->section = find_scanner_section(config, request->device);
  if (plan->section) {
    plan->uri = g_strdup(scand_config_get(config, "scanner", plan->section, "device"));
    if (!plan->uri) {
      g_autofree char *where = scand_config_where(config, "scanner", plan->section, NULL);
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_INVAL, "%s: [scanner %s] has no device", where, plan->section);
      return NULL;
    }
  } else if (request->device && *request->device) {
    plan->uri = g_strdup(request->device);
  } else {
    g_autoptr(GPtrArray) devices = scand_backend_list_devices();
    if (devices->len == 0) {
      g_set_error(error, SCAND_ERROR, SCAND_ERROR_NOT_FOUND,
                  "no scanner found: name one with --device, or check the cable, network or SANE setup");
      return NULL;
    }
    plan->uri = g_strdup(((ScandDeviceInfo *) devices->pdata[0])->uri);
  }
  plan->profile = g_strdup(request->profile && *request->profile ? request->profile
                           : plan->section ? scand_config_get(config, "scanner", plan->section, "profile")
                                           : NULL);
  const char *name = plan->section ? scand_config_get(config, "scanner", plan->section, "name") : NULL;
  plan->device_name = name ? g_strdup(name) : plan->section ? g_strdup(plan->section) : device_short_name(plan->uri);
  plan->open_options.tls_pin =
      plan->section ? g_strdup(scand_config_get(config, "scanner", plan->section, "tls-pin")) : NULL;
  if (!build_settings(config, plan, request, &plan->settings, error) || !plan_limits(config, plan, error) ||
      !check_processing(config, plan->profile, error))
    return NULL;
  ScandJobFacts facts = route_facts(plan);
  plan->route = scand_rules_route(config, &facts, error);
  if (!plan->route)
    return NULL;
  plan->explicit_name = request->name_template != NULL;
  plan->explicit_destinations = request->to && request->to[0];
  if (request->name_template) {
    g_free(plan->route->name_template);
    plan->route->name_template = g_strdup(request->name_template);
  }
  if (request->to && request->to[0]) {
    g_strfreev(plan->route->deliver);
    plan->route->deliver = g_strdupv((char **) request->to);
    /* An explicit destination is the whole answer: no fallback. */
    g_clear_pointer(&plan->route->fallback, g_free);
  }
  return g_steal_pointer(&plan);
}

void scand_scan_plan_free(ScandScanPlan *plan) {
  if (!plan)
    return;
  g_free(plan->section);
  g_free(plan->uri);
  g_free(plan->profile);
  g_free(plan->device_name);
  g_free(plan->panel);
  g_free(plan->owner_uid);
  g_free((char *) plan->open_options.tls_pin);
  g_strfreev(plan->settings.extra_options);
  scand_route_free(plan->route);
  g_free(plan);
}

ScandJob *scand_scan_plan_create_job(ScandScanPlan *plan, ScandConfig *config, ScandSpool *spool, GError **error) {
  g_autoptr(ScandJob) job = scand_job_create(spool, error);
  guint seq = 0;
  if (!job || !scand_spool_next_seq(spool, &seq, error))
    return NULL;
  const ScandScanSettings *s = &plan->settings;
  ScandJobFacts facts = *scand_job_get_facts(job);
  facts.source_kind = "scan";
  facts.device = plan->uri;
  facts.device_name = plan->device_name;
  facts.trigger = plan->trigger;
  facts.panel = plan->panel;
  facts.template = plan->route->name_template;
  facts.seq = seq;
  facts.source = scand_source_to_string(s->source);
  facts.mode = scand_color_mode_to_string(s->mode);
  facts.duplex = s->duplex;
  facts.resolution = (guint) MAX(s->resolution, 0);
  if (plan->profile) {
    /* How the PDF is made; `scand config check` vouched for the values. */
    gint64 quality = 0;
    facts.profile = plan->profile;
    scand_config_get_int(config, "profile", plan->profile, "jpeg-quality", 0, &quality, NULL);
    facts.jpeg_quality = (guint) quality;
    scand_config_get_bool(config, "profile", plan->profile, "lossless", FALSE, &facts.lossless, NULL);
    scand_config_get_bool(config, "profile", plan->profile, "pdfa", FALSE, &facts.pdfa, NULL);
    facts.title = scand_config_get(config, "profile", plan->profile, "title");
  }
  scand_job_set_facts(job, &facts);
  if (plan->owner_uid)
    scand_job_set(job, "owner-uid", plan->owner_uid);
  if (plan->profile) {
    /* Page processing keys go with the job, so a resumed job is processed
     * as it was planned (an explicit --mode wins over auto-detect). */
    scand_job_pages_copy_profile(job, config, plan->profile);
    if (s->mode != SCAND_MODE_COLOR && g_strcmp0(scand_job_get(job, "mode"), "auto-detect") == 0)
      scand_job_set(job, "mode", scand_color_mode_to_string(s->mode));
  }
  if (!scand_job_apply_route(job, config, plan->route, NULL, error) || !scand_job_save(job, error)) {
    scand_job_remove(job, NULL);
    return NULL;
  }
  return g_steal_pointer(&job);
}

gboolean scand_scan_plan_reroute(ScandScanPlan *plan, ScandConfig *config, ScandJob *job, GError **error) {
  if (plan->explicit_destinations)
    return TRUE;
  ScandJobFacts facts = route_facts(plan);
  facts.pages =
      scand_job_get(job, "document-pages") ? (guint) scand_job_get_int(job, "pages", 0) : scand_job_count_pages(job);
  facts.barcode = scand_job_get(job, "barcode");
  g_autoptr(ScandRoute) route = scand_rules_route(config, &facts, error);
  if (!route)
    return FALSE;
  /* A document split off the batch carries the route it was made with. */
  const char *current = scand_job_get(job, "rule");
  if (g_strcmp0(route->rule, current ? current : plan->route->rule) == 0)
    return TRUE;
  if (plan->explicit_name) {
    g_free(route->name_template);
    route->name_template = g_strdup(plan->route->name_template);
  }
  if (!scand_job_clear_destinations(job, error))
    return FALSE;
  ScandJobFacts updated = *scand_job_get_facts(job);
  updated.template = route->name_template;
  scand_job_set_facts(job, &updated);
  if (!scand_job_apply_route(job, config, route, NULL, error) || !scand_job_save(job, error))
    return FALSE;
  scand_route_free(plan->route);
  plan->route = g_steal_pointer(&route);
  return TRUE;
}
