/*
 * The admin listener's endpoints: /healthz (the process answers),
 * /readyz (configuration loaded, every worker running, not draining) and
 * /metrics (Prometheus text format).
 */
#include "net_internal.h"

#include "parley/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int path_is(const char *path, const char *want)
{
    size_t n = strlen(want);

    return strncmp(path, want, n) == 0 && (path[n] == '\0' || path[n] == '?');
}

void pl__admin_handle(pl_stream *s)
{
    pl_conn *c = s->conn;
    pl_server_state *st = c->w->server;
    char body[256];
    int n;

    s->route = NULL;
    if (strcmp(s->method, "GET") != 0 && strcmp(s->method, "HEAD") != 0) {
        pl_stream_error(s, 405, "method_not_allowed",
                        "admin endpoints answer GET and HEAD");
        return;
    }
    if (path_is(s->path, "/healthz")) {
        n = snprintf(body, sizeof(body), "{\"status\":\"ok\"}\n");
        pl_stream_respond(s, 200, "application/json", body, (size_t)n);
        return;
    }
    if (path_is(s->path, "/readyz")) {
        int draining = atomic_load(&st->draining);
        unsigned up = atomic_load(&st->workers_up);
        int ready = !draining && up == st->nworkers && c->w->rt != NULL;
        n = snprintf(body, sizeof(body),
                     "{\"status\":\"%s\",\"workers\":%u,\"workers_up\":%u,"
                     "\"draining\":%s,\"config_generation\":%llu}\n",
                     ready ? "ready" : "not_ready", st->nworkers, up,
                     draining ? "true" : "false",
                     c->w->rt ? (unsigned long long)c->w->rt->generation : 0ULL);
        pl_stream_respond(s, ready ? 200 : 503, "application/json", body,
                          (size_t)n);
        return;
    }
    if (path_is(s->path, "/metrics")) {
        size_t len = 0;
        char *text = pl_metrics_render(&len);
        if (text == NULL) {
            pl_stream_error(s, 500, "internal", "out of memory");
            return;
        }
        pl_stream_respond(s, 200, "text/plain; version=0.0.4; charset=utf-8",
                          text, len);
        free(text);
        return;
    }
    pl_stream_error(s, 404, "not_found",
                    "admin endpoints are /healthz, /readyz and /metrics");
}
