/*
 * Internal types of gateway/net: workers, listeners, client connections
 * and the protocol layers (HTTP/1.1, HTTP/2) that sit on a connection.
 */
#ifndef PARLEY_NET_INTERNAL_H
#define PARLEY_NET_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <http_parser.h>
#include <nghttp2/nghttp2.h>
#include <openssl/ssl.h>
#include <uv.h>

#include "parley/config.h"
#include "parley/metrics.h"
#include "parley/net.h"
#include "parley/proxy.h"
#include "parley/runtime.h"

#define container_of(ptr, type, member) \
    ((type *)((char *)(ptr) - offsetof(type, member)))

/* Bytes read from a socket at once (one buffer per worker, shared). */
#define PL_READ_CHUNK 65536
/* Output queued on a connection before producers wait for the socket. */
#define PL_CONN_OUT_HIGH 65536

typedef struct pl_worker pl_worker;
typedef struct pl_conn pl_conn;
typedef struct pl_server_state pl_server_state;

typedef enum listener_kind { LISTENER_CLIENT = 0, LISTENER_ADMIN } listener_kind;

typedef struct pl_listener {
    uv_tcp_t tcp;
    pl_worker *w;
    listener_kind kind;
    SSL_CTX *tls; /* shared by the workers' listeners; owned by the server */
    int open;
} pl_listener;

/* What the supervising thread shares with every worker. */
struct pl_server_state {
    atomic_int draining;         /* SIGTERM/SIGINT seen */
    atomic_uint workers_up;
    atomic_uint workers_busy;    /* workers still draining client connections */
    uv_async_t *admin_wake;      /* worker 0's wake-up: it serves admin last */
    atomic_long connections;     /* client connections, process-wide */
    unsigned nworkers;
    SSL_CTX **tls_ctx;           /* per listen[] item, NULL for plain */
    int access_fd;               /* -1: no access log */
};

typedef struct pl_access_buf {
    char *buf;
    size_t len, cap;
} pl_access_buf;

struct pl_worker {
    unsigned id;
    uv_loop_t loop;
    uv_thread_t thread;
    uv_async_t wake; /* the supervisor asks for a drain */
    uv_timer_t drain_timer;
    uv_prepare_t flush; /* writes the access log once per loop iteration */
    uv_check_t output;  /* writes queued connection output after I/O */
    uv_idle_t output_soon; /* keeps the loop from blocking before that */
    pl_conn *to_flush;  /* connections with output to write this turn */
    pl_server_state *server;
    pl_proxy_worker *proxy;
    pl_metrics_shard *metrics;
    pl_listener *listeners;
    size_t nlisteners;
    pl_conn *conns; /* open connections, doubly linked */
    unsigned nconns;       /* client connections */
    int draining;
    int drained;    /* no client connections left */
    int stopped;
    char *readbuf;  /* PL_READ_CHUNK bytes, lent to one read at a time */
    int readbuf_busy;
    uint64_t rng;   /* request-id generator state */
    pl_access_buf access;
    pl_runtime *rt; /* the snapshot new requests use (one reference) */
    int started;        /* loop initialised */
    int thread_running;
};

typedef enum conn_proto {
    CONN_UNKNOWN = 0, /* first bytes not seen yet */
    CONN_HTTP1,
    CONN_HTTP2
} conn_proto;

typedef enum conn_timer_kind {
    TIMER_NONE = 0,
    TIMER_HEADER,
    TIMER_BODY,
    TIMER_KEEPALIVE
} conn_timer_kind;

typedef struct pl_h1 pl_h1;
typedef struct pl_h2 pl_h2;

typedef struct pl_outbuf {
    char *data;
    size_t len, cap;
} pl_outbuf;

struct pl_conn {
    uv_tcp_t tcp;
    uv_timer_t timer;
    uv_write_t wreq;
    pl_worker *w;
    pl_listener *l;
    pl_conn *prev, *next;
    conn_proto proto;
    pl_proto metric_proto; /* what the connection is counted as */
    int counted;           /* included in pl_metrics_conn */
    int admin;
    int closing;     /* uv_close issued */
    int close_after_write;
    int reading;
    int pending_closes;
    conn_timer_kind timer_kind;
    /* A request arrived since the buffers were last given back: they are
     * kept through a short idle spell (see pl__conn_set_timer). */
    int busy;
    int release_pending;     /* the timer first releases, then keeps alive */
    uint64_t keepalive_left; /* ms of keep-alive after that release */
    /* TLS through memory BIOs; NULL for plain TCP. */
    SSL *ssl;
    BIO *rbio, *wbio;
    int tls_ready;
    /* Output: `out` fills while `inflight` is being written; with TLS,
     * `plain` collects plaintext that is encrypted once per flush. */
    pl_outbuf out, inflight, plain;
    int writing;
    int flush_queued;   /* on w->to_flush */
    pl_conn *flush_next;
    /* Bytes received but not consumed by the protocol yet (paused). */
    char *pending;
    size_t pending_len;
    char preface[24];
    size_t preface_len;
    pl_h1 *h1;
    pl_h2 *h2;
    char peer[48];
};

/* ---- worker.c ---- */
int pl__worker_start(pl_worker *w);
void pl__worker_drain(pl_worker *w);
void pl__worker_conn_gone(pl_worker *w);
void pl__worker_request_id(pl_worker *w, char *out, size_t size);
void pl__access_log(pl_worker *w, const pl_stream *s);

/* ---- conn.c ---- */
void pl__conn_accept(pl_listener *l);
/** Queues plaintext for the peer (through TLS when active). */
int pl__conn_write(pl_conn *c, const void *data, size_t len);
/**
 * Asks for what was queued to be written. The write happens once per loop
 * iteration, after every I/O callback ran, so that responses completed in
 * the same turn share one system call (and, with TLS, larger records).
 */
void pl__conn_flush(pl_conn *c);
/** Writes the output of every connection that asked (the worker's check). */
void pl__conn_flush_queued(pl_worker *w);
/** Bytes queued and not yet handed to the kernel. */
size_t pl__conn_queued(const pl_conn *c);
void pl__conn_close(pl_conn *c);
void pl__conn_read_start(pl_conn *c);
void pl__conn_read_stop(pl_conn *c);
void pl__conn_set_timer(pl_conn *c, conn_timer_kind kind, uint64_t ms);
/** Feeds received plaintext to the protocol layer. */
void pl__conn_feed(pl_conn *c, const char *data, size_t len);
void pl__conn_set_proto(pl_conn *c, pl_proto p);
const pl_config *pl__conn_config(pl_conn *c);

/* ---- stream.c ---- */
pl_stream *pl__stream_new(pl_conn *c, pl_proto proto);
void pl__stream_add_header(pl_stream *s, const char *name, size_t nlen,
                           const char *value, size_t vlen);
/** The head is complete: route it (or answer locally). */
void pl__stream_dispatch(pl_stream *s);
/** The client side is done with `s` (response sent, or the stream closed). */
void pl__stream_client_done(pl_stream *s);
/** The connection vanished: detach and cancel. */
void pl__stream_detach(pl_stream *s);
int pl__stream_json_error_body(char *buf, size_t size, const char *code,
                               const char *message);
#define PL_STREAM_F_ADMIN 1u
#define PL_STREAM_F_CLIENT_DONE 2u
#define PL_STREAM_F_FREEING 4u
#define PL_STREAM_F_COUNTED 8u
#define PL_STREAM_F_LOGGED 16u
#define PL_STREAM_F_IN_HEAD 32u
#define PL_STREAM_F_FREE_PENDING 64u
#define PL_STREAM_F_TOO_LARGE 128u
#define PL_STREAM_F_DISCARD 256u /* request body bytes are not wanted */

/* ---- http1.c ---- */
int pl__h1_init(pl_conn *c);
void pl__h1_free(pl_conn *c);
/** Returns bytes consumed; stops early when paused. */
size_t pl__h1_feed(pl_conn *c, const char *data, size_t len);
void pl__h1_send_head(pl_conn *c, pl_stream *s);
void pl__h1_resp_data(pl_conn *c, pl_stream *s);
void pl__h1_req_consumed(pl_conn *c, pl_stream *s);
void pl__h1_on_written(pl_conn *c);
void pl__h1_abort(pl_conn *c, pl_stream *s);
void pl__h1_drain(pl_conn *c);
void pl__h1_timeout(pl_conn *c);

/* ---- http2.c ---- */
/** Starts HTTP/2 on `c`; `upgrade_settings` non-NULL for h2c Upgrade. */
int pl__h2_init(pl_conn *c, const char *upgrade_settings, size_t len,
                pl_stream *upgraded);
void pl__h2_free(pl_conn *c);
void pl__h2_feed(pl_conn *c, const char *data, size_t len);
void pl__h2_send_head(pl_conn *c, pl_stream *s);
void pl__h2_resp_data(pl_conn *c, pl_stream *s);
void pl__h2_req_consumed(pl_conn *c, pl_stream *s, size_t n);
void pl__h2_on_written(pl_conn *c);
/** Serializes pending frames into the connection's output (flush time). */
void pl__h2_produce(pl_conn *c);
void pl__h2_abort(pl_conn *c, pl_stream *s);
void pl__h2_drain(pl_conn *c);
void pl__h2_timeout(pl_conn *c);
/** The connection stayed idle: give nghttp2's frame buffer back. */
void pl__h2_release_idle(pl_conn *c);

/* ---- h2_mem.c ---- */
#define PL_H2_MEM_BLOCKS 4
typedef struct pl_h2_block {
    void *ptr;
    size_t len;  /* mapped bytes */
    size_t size; /* bytes asked for */
} pl_h2_block;
/* The allocator state of one nghttp2 session (see h2_mem.c). */
typedef struct pl_h2_mem {
    pl_h2_block blocks[PL_H2_MEM_BLOCKS];
    void *scratch;  /* the outbound frame buffer */
    int creating;   /* inside nghttp2_session_server_new3() */
} pl_h2_mem;
void pl__h2_mem_init(pl_h2_mem *m, nghttp2_mem *out);
/** Gives the frame buffer's pages back (all output was produced). */
void pl__h2_mem_release_idle(pl_h2_mem *m);

/* ---- admin.c ---- */
void pl__admin_handle(pl_stream *s);

/* ---- tls.c ---- */
SSL_CTX *pl__tls_ctx_new(const pl_tls_config *cfg, char *err, size_t errlen);
void pl__tls_ctx_free(SSL_CTX *ctx);

#endif
