/*
 * The network side of the gateway: listener, limit and timeout settings,
 * and the request/response exchange (`pl_stream`) that HTTP/1.1 and
 * HTTP/2 connections hand to the proxy. Connections, TLS and protocol
 * state stay private to gateway/net/.
 */
#ifndef PARLEY_NET_H
#define PARLEY_NET_H

#include <stddef.h>
#include <stdint.h>

#include "parley/arena.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- configuration (parsed by gateway/net/net_config.c) ---- */

typedef struct pl_tls_config {
    const char *cert; /* PEM certificate chain file; NULL: plain TCP */
    const char *key;  /* PEM private key file */
} pl_tls_config;

typedef struct pl_listen_config {
    const char *address; /* "host:port", "[v6]:port" or a bare port */
    pl_tls_config tls;
} pl_listen_config;

typedef struct pl_limits_config {
    int64_t header_block_size;         /* HTTP/1.1 request head: 431 above */
    int64_t request_body_size;         /* 413 above */
    int64_t connections;               /* open client connections, process-wide */
    int64_t h2_max_concurrent_streams; /* SETTINGS_MAX_CONCURRENT_STREAMS */
    int64_t h2_max_header_list_size;   /* SETTINGS_MAX_HEADER_LIST_SIZE */
    int64_t h2_max_resets_per_second;  /* client RST_STREAM rate before GOAWAY */
    int64_t h2_max_control_frames_per_second; /* SETTINGS + PING rate */
} pl_limits_config;

typedef struct pl_timeouts_config {
    int64_t header_read;       /* ms to receive a complete request head */
    int64_t body_idle;         /* ms without request body bytes */
    int64_t keepalive_idle;    /* ms an idle connection stays open */
    int64_t upstream_connect;  /* ms to connect to an upstream */
    int64_t upstream_response; /* ms until the upstream's response head */
    int64_t upstream_idle;     /* ms an idle upstream connection is reused */
} pl_timeouts_config;

typedef struct pl_admin_config {
    const char *address; /* NULL: no admin listener */
} pl_admin_config;

typedef struct pl_access_log_config {
    const char *path; /* "-": stdout, "": off, else a file appended to */
} pl_access_log_config;

/**
 * Splits "host:port", "[v6]:port", ":port" or "port" into a socket address
 * (a missing host means 127.0.0.1). Returns 0, or PL_EINVAL with nothing
 * written. `ss` must point to a struct sockaddr_storage.
 */
int pl_net_parse_address(const char *text, void *ss);

/* ---- the exchange between a client connection and the proxy ---- */

typedef enum pl_proto {
    PL_PROTO_HTTP1 = 0, /* HTTP/1.x, plain or TLS */
    PL_PROTO_H2C,       /* HTTP/2 over cleartext TCP */
    PL_PROTO_H2,        /* HTTP/2 over TLS */
    PL_PROTO_COUNT
} pl_proto;

/** "http1", "h2c" or "h2" (metrics and access-log label). */
const char *pl_proto_name(pl_proto proto);

typedef struct pl_header {
    const char *name; /* lower case for HTTP/2, as received for HTTP/1.1 */
    const char *value;
    size_t name_len, value_len;
} pl_header;

/* A bounded queue of byte chunks: request and response bodies in flight. */
typedef struct pl_bufq_chunk pl_bufq_chunk;
typedef struct pl_bufq {
    pl_bufq_chunk *head, *tail;
    size_t len; /* bytes queued */
} pl_bufq;

/** Appends a copy of data[0..len). Returns 0 or PL_ENOMEM. */
int pl_bufq_append(pl_bufq *q, const void *data, size_t len);
/** Copies up to `max` bytes out and drops them; returns the count. */
size_t pl_bufq_read(pl_bufq *q, void *dst, size_t max);
/** Frees every chunk. */
void pl_bufq_free(pl_bufq *q);

/* The most body bytes queued per direction before the sender is paused. */
#define PL_STREAM_BODY_HIGH 65536

typedef struct pl_stream pl_stream;
typedef struct pl_upstream_xfer pl_upstream_xfer;
struct pl_runtime;
struct pl_route_config;

/*
 * One request and its response. Created by the protocol layer when a
 * request head is complete; the proxy reads the request fields and body
 * queue, fills the response, and tells the protocol layer through the
 * pl_stream_* functions below. Memory for strings comes from `arena`.
 */
struct pl_stream {
    pl_arena arena;
    void *conn;      /* the client connection; NULL once it is gone */
    int32_t h2_id;   /* HTTP/2 stream id; 0 for HTTP/1.x */
    pl_proto proto;
    int http_minor;  /* HTTP/1.x: 0 or 1 */
    const char *method, *path, *authority, *scheme;
    pl_header *headers;
    size_t nheaders, headers_cap;
    const char *client_ip;
    int64_t content_length; /* -1 when not given */
    int has_body;           /* a body follows the head (maybe empty) */

    pl_bufq req_body;
    uint64_t req_bytes;
    int req_done; /* the whole request body is queued */

    int status;
    pl_header *resp_headers;
    size_t nresp_headers, resp_headers_cap;
    pl_bufq resp_body;
    uint64_t resp_bytes;
    int resp_head_sent; /* handed to the protocol layer */
    int resp_done;      /* the whole response body is queued */
    int resp_no_body;   /* HEAD, 204, 304 */

    pl_upstream_xfer *xfer; /* upstream transfer in flight, or NULL */
    struct pl_runtime *rt;  /* acquired at start, released at free */
    const struct pl_route_config *route;
    char request_id[65];
    uint64_t t_start, t_upstream; /* uv_hrtime() */
    uint64_t upstream_ns;
    unsigned flags;    /* private to gateway/net */
    size_t head_bytes; /* private: HTTP/2 header list size so far */
    pl_stream *h2_prev, *h2_next; /* private: open streams of a connection */
};

/** Value of request header `name` (case-insensitive), or NULL. */
const char *pl_stream_header(const pl_stream *s, const char *name);

/** Adds a response header (copied into the arena). Returns 0 or PL_ENOMEM. */
int pl_stream_add_resp_header(pl_stream *s, const char *name, size_t nlen,
                              const char *value, size_t vlen);

/**
 * Hands the response head (status and headers) to the client connection.
 * Body bytes follow through pl_stream_resp_data(). Returns 0, or
 * PL_ECANCELED when the client is gone.
 */
int pl_stream_send_head(pl_stream *s);

/** Tells the connection that response body bytes (or the end) were queued. */
void pl_stream_resp_data(pl_stream *s);

/**
 * Tells the connection that the proxy took `n` request body bytes out of
 * s->req_body (so that it may read more from the client).
 */
void pl_stream_req_consumed(pl_stream *s, size_t n);

/**
 * Answers with a local JSON error {"error":{"code":…,"message":…}} (or
 * resets the stream when the head was already sent).
 */
void pl_stream_error(pl_stream *s, int status, const char *code,
                     const char *message);

/** Answers with a complete local response. */
void pl_stream_respond(pl_stream *s, int status, const char *content_type,
                       const char *body, size_t len);

/** Aborts the response mid-way (HTTP/2 RST_STREAM, HTTP/1 connection close). */
void pl_stream_abort(pl_stream *s);

/**
 * Called by the proxy when its transfer ended and s->xfer was cleared; the
 * stream may be freed now if the client side is done too.
 */
void pl_stream_upstream_done(pl_stream *s);

#ifdef __cplusplus
}
#endif

#endif
