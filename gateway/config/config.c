/*
 * The top-level parley.yaml table and the loader that turns a file into an
 * immutable pl_config. Modules add their section to `root_directives`.
 */
#include "parley/config.h"
#include "parley/error.h"
#include "parley/translate.h"
#include "parley/proxy.h"

#include <stdlib.h>
#include <string.h>

static const char *const log_levels[] = {"error", "warn", "info", "debug",
                                         "trace", NULL};
static const char *const log_formats[] = {"text", "json", NULL};

static const pl_cfg_directive log_directives[] = {
    {.name = "level",
     .type = PL_CFG_ENUM,
     .offset = offsetof(pl_log_config, level),
     .default_value = "info",
     .choices = log_levels,
     .doc = "lowest level written: error, warn, info, debug or trace"},
    {.name = "format",
     .type = PL_CFG_ENUM,
     .offset = offsetof(pl_log_config, format),
     .default_value = "text",
     .choices = log_formats,
     .doc = "text for people, json for one JSON object per line"},
};

static const pl_cfg_section log_section = {
    .name = "'log'",
    .size = sizeof(pl_log_config),
    .directives = log_directives,
    .count = PL_CFG_COUNT(log_directives),
};

static const pl_cfg_directive policies_directives[] = {
    {.name = "dir",
     .type = PL_CFG_STRING,
     .offset = offsetof(pl_policies_config, dir),
     .default_value = "policies",
     .doc = "folder of locale policies (*.yaml), relative to this file's folder"},
    {.name = "watch",
     .type = PL_CFG_BOOL,
     .offset = offsetof(pl_policies_config, watch),
     .default_value = "true",
     .doc = "reload the policies when a file in the folder changes"},
};

static const pl_cfg_section policies_section = {
    .name = "'policies'",
    .size = sizeof(pl_policies_config),
    .directives = policies_directives,
    .count = PL_CFG_COUNT(policies_directives),
};
/* Sections declared next to the modules that own them. */
extern const pl_cfg_section pl__listen_section, pl__admin_section,
    pl__limits_section, pl__timeouts_section, pl__access_log_section;

static const pl_cfg_directive root_directives[] = {
    {.name = "workers",
     .type = PL_CFG_INT,
     .offset = offsetof(pl_config, workers),
     .default_value = "0",
     .min = 0,
     .max = 256,
     .doc = "worker threads, each with its own event loop; 0 means one per CPU core"},
    {.name = "log",
     .type = PL_CFG_SECTION,
     .offset = offsetof(pl_config, log),
     .section = &log_section,
     .doc = "process log on stderr"},
    {.name = "policies",
     .type = PL_CFG_SECTION,
     .offset = offsetof(pl_config, policies),
     .section = &policies_section,
     .doc = "locale policies: where they are and whether to watch them"},
    {.name = "translation",
     .type = PL_CFG_SECTION,
     .offset = offsetof(pl_config, translation),
     .section = &pl_translate_config_section,
     .doc = "LLM providers, masking, validation, resilience and the cache"},
    {.name = "listen",
     .type = PL_CFG_LIST,
     .offset = offsetof(pl_config, listen),
     .section = &pl__listen_section,
     .doc = "client listeners: HTTP/1.1, h2c and (with tls) h2 on each"},
    {.name = "admin",
     .type = PL_CFG_SECTION,
     .offset = offsetof(pl_config, admin),
     .section = &pl__admin_section,
     .doc = "the admin listener: health, readiness and metrics"},
    {.name = "upstreams",
     .type = PL_CFG_LIST,
     .offset = offsetof(pl_config, upstreams),
     .section = &pl_upstream_section,
     .doc = "named backends that routes forward to"},
    {.name = "routes",
     .type = PL_CFG_LIST,
     .offset = offsetof(pl_config, routes),
     .section = &pl_route_section,
     .doc = "request matching, first match wins"},
    {.name = "limits",
     .type = PL_CFG_SECTION,
     .offset = offsetof(pl_config, limits),
     .section = &pl__limits_section,
     .doc = "sizes and counts that protect the gateway"},
    {.name = "timeouts",
     .type = PL_CFG_SECTION,
     .offset = offsetof(pl_config, timeouts),
     .section = &pl__timeouts_section,
     .doc = "client and upstream timeouts"},
    {.name = "drain_timeout",
     .type = PL_CFG_DURATION,
     .offset = offsetof(pl_config, drain_timeout),
     .default_value = "30s",
     .min = 0,
     .max = 3600 * 1000,
     .doc = "on SIGTERM/SIGINT, how long requests in flight may take to finish"},
    {.name = "watch_config",
     .type = PL_CFG_BOOL,
     .offset = offsetof(pl_config, watch_config),
     .default_value = "false",
     .doc = "reload when this file changes, as on SIGHUP (read at start)"},
    {.name = "access_log",
     .type = PL_CFG_SECTION,
     .offset = offsetof(pl_config, access_log),
     .section = &pl__access_log_section,
     .doc = "one JSON line per request"},
};

static int root_check(const pl_cfg_ctx *ctx, const pl_yaml_node *node,
                      void *obj)
{
    pl_config *cfg = obj;

    pl__routes_resolve(ctx, node, &cfg->routes, &cfg->upstreams);
    return 0;
}

const pl_cfg_section pl_config_root = {
    .name = "the top level",
    .size = sizeof(pl_config),
    .directives = root_directives,
    .count = PL_CFG_COUNT(root_directives),
    .check = root_check,
};

/* The parsed tree stays alive with the configuration: values point into it. */
typedef struct config_holder {
    pl_config cfg;
    pl_yaml_doc doc;
} config_holder;

static int config_finish(config_holder *h, pl_diags *diags, pl_config **out)
{
    pl_cfg_ctx ctx = {
        .arena = &h->cfg.arena,
        .diags = diags,
        .file = h->doc.file,
        .root = &pl_config_root,
    };
    size_t before = diags->errors;

    if (pl_yaml_expand_env(&h->doc, diags) == PL_ENOMEM)
        goto fail;
    pl_cfg_apply(&ctx, &pl_config_root, h->doc.root, &h->cfg);
    if (diags->errors != before)
        goto fail;
    h->cfg.file = pl_arena_strdup(&h->cfg.arena, h->doc.file);
    *out = &h->cfg;
    return 0;

fail:
    pl_config_free(&h->cfg);
    return PL_ECONFIG;
}

static config_holder *holder_new(void)
{
    config_holder *h = calloc(1, sizeof(*h));

    if (h != NULL)
        pl_arena_init(&h->cfg.arena, 0);
    return h;
}

int pl_config_load(const char *path, pl_diags *diags, pl_config **out)
{
    config_holder *h = holder_new();
    int rc;

    *out = NULL;
    if (h == NULL)
        return PL_ENOMEM;
    rc = pl_yaml_load_file(&h->doc, path, diags);
    if (rc != 0) {
        pl_config_free(&h->cfg);
        return rc == PL_ESYNTAX ? PL_ECONFIG : rc;
    }
    return config_finish(h, diags, out);
}

int pl_config_load_string(const char *name, const char *text, size_t len,
                          pl_diags *diags, pl_config **out)
{
    config_holder *h = holder_new();
    int rc;

    *out = NULL;
    if (h == NULL)
        return PL_ENOMEM;
    rc = pl_yaml_load_string(&h->doc, name, text, len, diags);
    if (rc != 0) {
        pl_config_free(&h->cfg);
        return rc == PL_ESYNTAX ? PL_ECONFIG : rc;
    }
    return config_finish(h, diags, out);
}

void pl_config_free(pl_config *cfg)
{
    config_holder *h;

    if (cfg == NULL)
        return;
    /* cfg is the first member of its holder. */
    h = (config_holder *)cfg;
    pl_yaml_doc_free(&h->doc);
    pl_arena_free(&h->cfg.arena);
    free(h);
}
