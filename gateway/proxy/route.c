/*
 * Route matching (host, method, exact path or prefix; first match in file
 * order wins) and the table of route handlers.
 */
#include "parley/proxy.h"

#include <string.h>
#include <strings.h>

/* Compares a Host/:authority value (port ignored) with a route's host. */
static int host_matches(const char *pattern, const char *host)
{
    size_t hlen, plen = strlen(pattern);

    if (host == NULL)
        return 0;
    if (host[0] == '[') {
        const char *end = strchr(host, ']');
        hlen = end ? (size_t)(end - host) + 1 : strlen(host);
    } else {
        const char *colon = strchr(host, ':');
        hlen = colon ? (size_t)(colon - host) : strlen(host);
    }
    if (plen > 2 && pattern[0] == '*' && pattern[1] == '.') {
        /* "*.example.com" matches "a.example.com", not "example.com". */
        size_t slen = plen - 1; /* ".example.com" */
        return hlen > slen &&
               strncasecmp(host + hlen - slen, pattern + 1, slen) == 0;
    }
    return hlen == plen && strncasecmp(host, pattern, plen) == 0;
}

static int path_matches(const pl_route_config *r, const char *path)
{
    size_t plen = strcspn(path, "?");

    if (r->path != NULL)
        return strlen(r->path) == plen && strncmp(r->path, path, plen) == 0;
    if (r->prefix == NULL)
        return 1;
    size_t n = strlen(r->prefix);
    return plen >= n && strncmp(path, r->prefix, n) == 0;
}

static int method_matches(const pl_route_config *r, const char *method)
{
    if (r->methods.count == 0)
        return 1;
    for (size_t i = 0; i < r->methods.count; i++)
        if (strcmp(r->methods.items[i], method) == 0)
            return 1;
    return 0;
}

pl_route_result pl_route_match(const pl_cfg_list *routes, const char *host,
                               const char *method, const char *path,
                               const pl_route_config **out)
{
    const pl_route_config *rs = routes->items;
    int path_seen = 0;

    *out = NULL;
    for (size_t i = 0; i < routes->count; i++) {
        const pl_route_config *r = &rs[i];
        if (r->host != NULL && !host_matches(r->host, host))
            continue;
        if (!path_matches(r, path))
            continue;
        if (!method_matches(r, method)) {
            path_seen = 1;
            continue;
        }
        *out = r;
        return PL_ROUTE_FOUND;
    }
    return path_seen ? PL_ROUTE_BAD_METHOD : PL_ROUTE_NOT_FOUND;
}

/* Passthrough: no hooks, so bodies stream through unbuffered. */
static const pl_route_handler passthrough = {.name = "passthrough"};

const pl_route_handler *const pl_route_handlers[] = {&passthrough, NULL};

void pl_handler_done(pl_handler_call *call, int error_status)
{
    call->done(call, error_status);
}
