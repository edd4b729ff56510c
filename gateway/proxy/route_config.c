/*
 * The `routes` and `upstreams` sections of parley.yaml, and the pass that
 * ties each route to its upstream after both were parsed.
 */
#include "parley/error.h"
#include "parley/proxy.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const upstream_protocols[] = {"http1", "http2", NULL};
static const char *const upstream_clients[] = {"auto", "curl", NULL};

static const pl_cfg_directive upstream_directives[] = {
    {.name = "name",
     .type = PL_CFG_STRING,
     .offset = offsetof(pl_upstream_config, name),
     .required = 1,
     .doc = "how routes refer to this upstream"},
    {.name = "url",
     .type = PL_CFG_STRING,
     .offset = offsetof(pl_upstream_config, url),
     .required = 1,
     .doc = "http:// or https:// base URL; the request path is appended"},
    {.name = "protocol",
     .type = PL_CFG_ENUM,
     .offset = offsetof(pl_upstream_config, protocol),
     .default_value = "http1",
     .choices = upstream_protocols,
     .doc = "http1, or http2 (h2c by prior knowledge for http://, ALPN for https://)"},
    {.name = "client",
     .type = PL_CFG_ENUM,
     .offset = offsetof(pl_upstream_config, client),
     .default_value = "auto",
     .choices = upstream_clients,
     .doc = "auto: Parley's own HTTP/1.1 client for http:// and libcurl otherwise; curl: always libcurl"},
    {.name = "tls_verify",
     .type = PL_CFG_BOOL,
     .offset = offsetof(pl_upstream_config, tls_verify),
     .default_value = "true",
     .doc = "verify an https upstream's certificate and host name"},
    {.name = "ca_file",
     .type = PL_CFG_STRING,
     .offset = offsetof(pl_upstream_config, ca_file),
     .doc = "PEM trust anchors for an https upstream (default: the system store)"},
    {.name = "connect_timeout",
     .type = PL_CFG_DURATION,
     .offset = offsetof(pl_upstream_config, connect_timeout),
     .default_value = "0",
     .min = 0,
     .max = 3600 * 1000,
     .doc = "overrides timeouts.upstream_connect for this upstream (0: no override)"},
    {.name = "response_timeout",
     .type = PL_CFG_DURATION,
     .offset = offsetof(pl_upstream_config, response_timeout),
     .default_value = "0",
     .min = 0,
     .max = 3600 * 1000,
     .doc = "overrides timeouts.upstream_response for this upstream (0: no override)"},
};

const pl_cfg_section pl_upstream_section = {
    .name = "'upstreams' item",
    .size = sizeof(pl_upstream_config),
    .directives = upstream_directives,
    .count = PL_CFG_COUNT(upstream_directives),
};

static const char *const *handler_names(void)
{
    static const char *names[8];

    if (names[0] == NULL)
        for (size_t i = 0; pl_route_handlers[i] != NULL && i < 7; i++)
            names[i] = pl_route_handlers[i]->name;
    return names;
}

static int parse_handler(const pl_cfg_ctx *ctx, const pl_yaml_node *node,
                         void *dst)
{
    const char *const *names = handler_names();

    if (node->kind == PL_YAML_SCALAR)
        for (int i = 0; names[i] != NULL; i++)
            if (strcmp(node->value, names[i]) == 0) {
                *(int *)dst = i;
                return 0;
            }
    pl_diags_add(ctx->diags, PL_DIAG_ERROR, ctx->file, node->line,
                 node->column, "unknown route handler '%s'; known: passthrough",
                 node->kind == PL_YAML_SCALAR ? node->value : "?");
    return PL_EINVAL;
}

static int route_check(const pl_cfg_ctx *ctx, const pl_yaml_node *node,
                       void *obj)
{
    pl_route_config *r = obj;

    if (r->path != NULL && r->prefix != NULL)
        pl_diags_add(ctx->diags, PL_DIAG_ERROR, ctx->file, node->line,
                     node->column, "a route has 'path' or 'prefix', not both");
    if ((r->path != NULL && r->path[0] != '/') ||
        (r->prefix != NULL && r->prefix[0] != '/'))
        pl_diags_add(ctx->diags, PL_DIAG_ERROR, ctx->file, node->line,
                     node->column, "a route's 'path' or 'prefix' starts with '/'");
    for (size_t i = 0; i < r->methods.count; i++)
        for (const char *p = r->methods.items[i]; *p; p++)
            if (!(*p >= 'A' && *p <= 'Z') && *p != '-' && *p != '_') {
                pl_diags_add(ctx->diags, PL_DIAG_ERROR, ctx->file, node->line,
                             node->column,
                             "method '%s' must be an upper-case token like GET",
                             r->methods.items[i]);
                break;
            }
    if (r->name == NULL)
        r->name = pl_arena_strdup(ctx->arena, r->path ? r->path
                                              : r->prefix ? r->prefix
                                                          : "/");
    return 0;
}

static const pl_cfg_directive route_directives[] = {
    {.name = "name",
     .type = PL_CFG_STRING,
     .offset = offsetof(pl_route_config, name),
     .doc = "label in metrics and logs (default: the path or prefix)"},
    {.name = "host",
     .type = PL_CFG_STRING,
     .offset = offsetof(pl_route_config, host),
     .doc = "match this Host/:authority (port ignored); '*.example.com' matches subdomains"},
    {.name = "methods",
     .type = PL_CFG_STRINGS,
     .offset = offsetof(pl_route_config, methods),
     .doc = "match only these methods (405 for others on a matching path)"},
    {.name = "prefix",
     .type = PL_CFG_STRING,
     .offset = offsetof(pl_route_config, prefix),
     .doc = "match paths starting with this (default '/': every path)"},
    {.name = "path",
     .type = PL_CFG_STRING,
     .offset = offsetof(pl_route_config, path),
     .doc = "match exactly this path (the query string is ignored)"},
    {.name = "upstream",
     .type = PL_CFG_STRING,
     .offset = offsetof(pl_route_config, upstream),
     .required = 1,
     .doc = "an upstream's name, or an http:// or https:// URL"},
    {.name = "handler",
     .type = PL_CFG_CUSTOM,
     .offset = offsetof(pl_route_config, handler),
     .default_value = "passthrough",
     .parse = parse_handler,
     .type_name = "handler",
     .doc = "what happens to bodies on the way: passthrough streams them untouched"},
};

const pl_cfg_section pl_route_section = {
    .name = "'routes' item",
    .size = sizeof(pl_route_config),
    .directives = route_directives,
    .count = PL_CFG_COUNT(route_directives),
    .check = route_check,
};

/* Normalises a base URL (scheme, no trailing '/'), or NULL when invalid. */
static const char *check_url(pl_arena *a, const char *url)
{
    size_t len = strlen(url);
    const char *host;

    if (strncasecmp(url, "http://", 7) == 0)
        host = url + 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        host = url + 8;
    else
        return NULL;
    if (*host == '\0' || *host == '/' || strpbrk(url, " \t\r\n?#") != NULL)
        return NULL;
    while (len > 0 && url[len - 1] == '/' && url + len - 1 > host)
        len--;
    return pl_arena_strndup(a, url, len);
}

static const pl_yaml_node *item_node(const pl_yaml_node *root, const char *list,
                                     size_t i, const char *key)
{
    const pl_yaml_node *seq = pl_yaml_map_get(root, list);
    const pl_yaml_node *item, *v;

    if (seq == NULL || seq->kind != PL_YAML_SEQ || i >= seq->count)
        return root;
    item = seq->items[i];
    v = key ? pl_yaml_map_get(item, key) : NULL;
    return v ? v : item;
}

#define ERR(node, ...)                                                     \
    pl_diags_add(ctx->diags, PL_DIAG_ERROR, ctx->file, (node) ? (node)->line : 0, \
                 (node) ? (node)->column : 0, __VA_ARGS__)

size_t pl__routes_resolve(const pl_cfg_ctx *ctx, const pl_yaml_node *root,
                          pl_cfg_list *routes, pl_cfg_list *upstreams)
{
    pl_upstream_config *ups = upstreams->items;
    pl_route_config *rs = routes->items;
    size_t before = ctx->diags->errors;

    for (size_t i = 0; i < upstreams->count; i++) {
        const char *url = check_url(ctx->arena, ups[i].url);
        if (url == NULL)
            ERR(item_node(root, "upstreams", i, "url"),
                "'%s' is not an http:// or https:// URL without query", ups[i].url);
        else
            ups[i].url = url;
        for (size_t j = 0; j < i; j++)
            if (strcmp(ups[i].name, ups[j].name) == 0)
                ERR(item_node(root, "upstreams", i, "name"),
                    "upstream '%s' is defined twice", ups[i].name);
    }
    for (size_t i = 0; i < routes->count; i++) {
        pl_route_config *r = &rs[i];
        for (size_t j = 0; j < upstreams->count && r->up == NULL; j++)
            if (strcmp(ups[j].name, r->upstream) == 0)
                r->up = &ups[j];
        if (r->up != NULL)
            continue;
        if (strstr(r->upstream, "://") == NULL) {
            ERR(item_node(root, "routes", i, "upstream"),
                "no upstream named '%s' (name one from 'upstreams' or give a URL)",
                r->upstream);
            continue;
        }
        pl_upstream_config *u = pl_arena_calloc(ctx->arena, 1, sizeof(*u));
        const char *url = check_url(ctx->arena, r->upstream);
        if (u == NULL)
            return 1;
        if (url == NULL) {
            ERR(item_node(root, "routes", i, "upstream"),
                "'%s' is not an http:// or https:// URL without query",
                r->upstream);
            continue;
        }
        u->name = url;
        u->url = url;
        u->protocol = PL_UPSTREAM_HTTP1;
        u->tls_verify = 1;
        r->up = u;
    }
    return ctx->diags->errors - before;
}
