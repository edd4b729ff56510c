/*
 * Routes, upstreams and the upstream side of a request: match a route,
 * forward the request on the worker's loop (Parley's own HTTP/1.1 client
 * for http:// upstreams, libcurl for https:// and HTTP/2), stream both
 * bodies with bounded buffers. The chat pipeline plugs in through one
 * hook, the route handler (pl_route_handler) declared here.
 */
#ifndef PARLEY_PROXY_H
#define PARLEY_PROXY_H

#include <stdint.h>

#include "parley/config.h"
#include "parley/curl_loop.h"
#include "parley/metrics.h"
#include "parley/net.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- configuration (gateway/proxy/route_config.c) ---- */

typedef enum pl_upstream_protocol {
    PL_UPSTREAM_HTTP1 = 0, /* HTTP/1.1 */
    PL_UPSTREAM_HTTP2      /* h2c by prior knowledge, or h2 by ALPN (https) */
} pl_upstream_protocol;

typedef enum pl_upstream_client {
    PL_UPSTREAM_CLIENT_AUTO = 0, /* native HTTP/1.1 for http://, else libcurl */
    PL_UPSTREAM_CLIENT_CURL      /* always libcurl */
} pl_upstream_client;

typedef struct pl_upstream_config {
    const char *name;
    const char *url;      /* scheme://host[:port][/base], no trailing '/' */
    int protocol;         /* pl_upstream_protocol */
    int client;           /* pl_upstream_client */
    int tls_verify;       /* check the upstream's certificate */
    const char *ca_file;  /* trust anchors for https; NULL: system store */
    int64_t connect_timeout;  /* ms; 0: timeouts.upstream_connect */
    int64_t response_timeout; /* ms; 0: timeouts.upstream_response */
} pl_upstream_config;

typedef struct pl_route_handler pl_route_handler;

typedef struct pl_route_config {
    const char *name;     /* metrics label; defaults to the match */
    const char *host;     /* exact host, "*.example.com", or NULL: any */
    pl_cfg_strings methods; /* empty: any */
    const char *prefix;   /* path prefix; NULL with `path` unset: "/" */
    const char *path;     /* exact path (query excluded) */
    const char *upstream; /* an upstream's name or a URL */
    int handler;          /* index into pl_route_handlers */
    /* Resolved after loading: */
    const pl_upstream_config *up;
} pl_route_config;

/** The `routes[]` and `upstreams[]` directive tables. */
extern const pl_cfg_section pl_route_section;
extern const pl_cfg_section pl_upstream_section;

/**
 * Resolves every route's upstream (a name from `upstreams`, or a URL that
 * gets an upstream of its own in ctx->arena) and reports unknown names,
 * bad URLs and duplicate names at their position. Returns the number of
 * errors added.
 */
size_t pl__routes_resolve(const pl_cfg_ctx *ctx, const pl_yaml_node *root,
                          pl_cfg_list *routes, pl_cfg_list *upstreams);

/* ---- matching ---- */

typedef enum pl_route_result {
    PL_ROUTE_FOUND = 0,
    PL_ROUTE_NOT_FOUND,      /* 404 */
    PL_ROUTE_BAD_METHOD      /* 405: a route has the path, not the method */
} pl_route_result;

/**
 * Finds the first route (in file order) matching host, method and path
 * (the query string is ignored). Returns PL_ROUTE_FOUND and *out, or why
 * none matched.
 */
pl_route_result pl_route_match(const pl_cfg_list *routes, const char *host,
                               const char *method, const char *path,
                               const pl_route_config **out);

/* ---- the route handler hook ---- */

typedef struct pl_handler_call pl_handler_call;

/*
 * One invocation of a handler on a buffered body. The handler reads and may
 * replace `body` (the whole request body before it goes upstream, or the
 * whole response body before it goes to the client), may add headers to
 * the stream, and calls pl_handler_done() exactly once, possibly later from
 * a callback on the same worker loop (an LLM call, a store lookup).
 */
struct pl_handler_call {
    pl_stream *stream;
    pl_bufq *body;
    int status;           /* response: the upstream's status */
    void *handler_data;   /* the handler's own, per call */
    void (*done)(pl_handler_call *call, int error_status); /* private */
};

/**
 * Ends a handler call: 0 continues (the body as it is now is sent on), an
 * HTTP status (400, 413, 502 …) answers the client with a JSON error
 * instead. Must be called on the worker's loop thread.
 */
void pl_handler_done(pl_handler_call *call, int error_status);

/*
 * A route handler. Passthrough leaves both hooks NULL and streams bodies
 * without buffering. A handler that sets on_request or on_response makes the
 * proxy buffer that body completely (up to limits.request_body_size), then
 * call the hook; the transformed body is sent with a fresh Content-Length.
 */
struct pl_route_handler {
    const char *name; /* as written in `routes[].handler` */
    /** Returns 0 (and later calls pl_handler_done()) or an HTTP status. */
    int (*on_request)(pl_handler_call *call);
    /** Same, for the response body. */
    int (*on_response)(pl_handler_call *call);
};

/** The handlers `routes[].handler` may name, NULL-terminated. */
extern const pl_route_handler *const pl_route_handlers[];

/* ---- the upstream side of a request ---- */

typedef struct pl_proxy_worker pl_proxy_worker;

/**
 * Creates the per-worker proxy state (a pl_curl_loop on `loop`, a pool of
 * reusable easy handles, the native client's connection pools) counting upstream errors in `metrics` (may be
 * NULL). Returns 0 or PL_ENOMEM / PL_ECURL. Free with
 * pl_proxy_worker_close() once no stream uses it.
 */
int pl_proxy_worker_new(uv_loop_t *loop, pl_metrics_shard *metrics,
                        pl_proxy_worker **out);

/** Closes the curl loop and frees `pw` (through libuv close callbacks). */
void pl_proxy_worker_close(pl_proxy_worker *pw);

/**
 * Routes `s` and starts its upstream transfer. Errors (no route, limits,
 * upstream failures) are answered on the stream as JSON.
 */
void pl_proxy_start(pl_proxy_worker *pw, pl_stream *s);

/** More request body bytes (or its end) were queued on s->req_body. */
void pl_proxy_req_data(pl_stream *s);

/** The client side drained s->resp_body below half its high-water mark. */
void pl_proxy_resp_drained(pl_stream *s);

/** The client went away: cancel the transfer (no callbacks follow). */
void pl_proxy_cancel(pl_stream *s);

#ifdef __cplusplus
}
#endif

#endif
