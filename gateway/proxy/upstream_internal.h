/*
 * What the two upstream clients share: the per-worker proxy state, one
 * transfer (pl_upstream_xfer) and the functions that turn upstream events
 * into stream events. upstream.c drives libcurl; h1_client.c is Parley's
 * own HTTP/1.1 client for plain http:// upstreams.
 */
#ifndef PARLEY_UPSTREAM_INTERNAL_H
#define PARLEY_UPSTREAM_INTERNAL_H

#include "parley/metrics.h"
#include "parley/proxy.h"

#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))

#define EASY_POOL 64

typedef struct pl_h1_client pl_h1_client;
typedef struct pl_h1_conn pl_h1_conn;

struct pl_proxy_worker {
    pl_curl_loop *cl;
    uv_loop_t *loop;
    CURL *pool[EASY_POOL];
    int npool;
    pl_metrics_shard *metrics;
    /* Inside a libcurl callback: adding or removing handles must wait. */
    int in_curl;
    pl_h1_client *h1; /* connection pools of the native client */
};

struct pl_upstream_xfer {
    uv_timer_t timer; /* connect, response and idle timeout */
    pl_proxy_worker *pw;
    pl_stream *s;     /* NULL once the client side let go */
    /* The request headers: "Name: value\0" lines in one block. */
    char *hdr_mem;
    size_t hdr_len, hdr_cap;
    unsigned hdr_count;
    const pl_route_handler *handler;
    pl_handler_call call;
    uint64_t timeout_ms;
    int in_callback;
    int recv_paused, send_paused;
    int head_done, skip_head; /* final (non-1xx) response head seen */
    int timed_out;    /* libcurl: our timer ended the transfer */
    int buffer_req, buffer_resp, resp_limit_hit;
    /* libcurl */
    CURL *easy;
    struct curl_slist *hdrs;
    int added; /* running on the curl loop */
    /* native HTTP/1.1 client */
    int native;
    pl_h1_conn *conn;     /* the connection carrying it, or NULL */
    uint64_t body_taken;  /* request body bytes taken from s->req_body */
    int retried;          /* already moved once to a fresh connection */
};

/* ---- upstream.c, used by both clients ---- */

/** Clears s->xfer and x->s: the stream no longer waits for this transfer. */
void pl__xfer_detach(pl_upstream_xfer *x);
/** Frees the transfer once its timer is closed (no client may use it). */
void pl__xfer_release(pl_upstream_xfer *x);
/**
 * Counts the error, detaches and answers the client: a JSON error with
 * `status`, or an abort when the response head was already sent.
 */
void pl__xfer_fail(pl_upstream_xfer *x, pl_upstream_error_kind kind,
                   int status, const char *code, const char *msg);
/**
 * One upstream response header: drops hop-by-hop headers (and
 * Content-Length when a handler rewrites the body), copies the rest onto
 * the stream. Returns 0 or PL_ENOMEM.
 */
int pl__xfer_resp_header(pl_upstream_xfer *x, const char *name, size_t nlen,
                         const char *value, size_t vlen);
/** The final response head is complete: time it, send it unless buffered. */
void pl__xfer_head_complete(pl_upstream_xfer *x);
/** The whole response arrived: run the response handler or finish. */
void pl__xfer_finish(pl_upstream_xfer *x);
/**
 * Writes the forwarded request headers: into x->hdr_mem for libcurl, into
 * the request head for the native client. Returns 0 or PL_ENOMEM.
 */
int pl__xfer_build_headers(pl_upstream_xfer *x, pl_stream *s);
/**
 * Response body bytes: queued for the client (and the client told), or,
 * when a handler rewrites the body, buffered up to the body limit
 * (x->resp_limit_hit past it). Returns 0, or -1 when the bytes were not
 * taken or the client went away meanwhile (x->s NULL).
 */
int pl__xfer_resp_body(pl_upstream_xfer *x, const char *data, size_t len);
/** (Re)arms the transfer's timeout with `ms`. */
void pl__xfer_arm(pl_upstream_xfer *x, uint64_t ms);

/* ---- h1_client.c ---- */

/** Appends "name: value" to the request head being built. Returns 0 or PL_ENOMEM. */
int pl__h1_client_put_header(pl_upstream_xfer *x, const char *name, size_t nlen,
                             const char *value, size_t vlen);
/** True when `up` is served by the native client (plain http, HTTP/1.1). */
int pl__h1_client_serves(const pl_upstream_config *up);
/** Creates the worker's pools. Returns 0 or PL_ENOMEM. */
int pl__h1_client_new(pl_proxy_worker *pw);
/**
 * Closes every pooled connection; `closed` runs once the last one is gone
 * (at once when none is open).
 */
void pl__h1_client_close(pl_proxy_worker *pw, void (*closed)(pl_proxy_worker *));
/** Starts x's request on a pooled or new connection. */
void pl__h1_client_start(pl_upstream_xfer *x);
/** More request body (or its end) is queued. */
void pl__h1_client_req_data(pl_upstream_xfer *x);
/** The client side drained the response queue: read again. */
void pl__h1_client_resp_drained(pl_upstream_xfer *x);
/** The client let go: drop the connection (x is detached already). */
void pl__h1_client_cancel(pl_upstream_xfer *x);
/** The transfer's timer fired. */
void pl__h1_client_timeout(pl_upstream_xfer *x);

#endif
