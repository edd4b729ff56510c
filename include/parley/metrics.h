/*
 * Process metrics in Prometheus text format. Every worker thread writes
 * only its own shard (single writer, relaxed atomics, no locks on the
 * request path); the admin endpoint sums the shards when scraped.
 */
#ifndef PARLEY_METRICS_H
#define PARLEY_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "parley/net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pl_metrics_shard pl_metrics_shard;

typedef enum pl_upstream_error_kind {
    PL_UPERR_CONNECT = 0, /* refused, unreachable, DNS */
    PL_UPERR_TIMEOUT,     /* connect or response timeout */
    PL_UPERR_RESET,       /* closed or reset mid-response */
    PL_UPERR_PROTOCOL,    /* malformed response */
    PL_UPERR_TLS,         /* handshake or certificate */
    PL_UPERR_OTHER,
    PL_UPERR_COUNT
} pl_upstream_error_kind;

typedef enum pl_h2_abuse_kind {
    PL_H2_ABUSE_RAPID_RESET = 0,
    PL_H2_ABUSE_CONTINUATION,
    PL_H2_ABUSE_CONTROL_FLOOD, /* SETTINGS or PING */
    PL_H2_ABUSE_FLOODED,       /* too many queued control replies */
    PL_H2_ABUSE_PROTOCOL,      /* other fatal protocol errors */
    PL_H2_ABUSE_COUNT
} pl_h2_abuse_kind;

/**
 * Allocates `nshards` shards (one per worker). Returns 0 or PL_ENOMEM.
 * Call before the workers start; pl_metrics_free() after they stopped.
 */
int pl_metrics_init(unsigned nshards);

/** Frees the shards. */
void pl_metrics_free(void);

/** Shard `i` (0 ≤ i < nshards), or NULL before pl_metrics_init(). */
pl_metrics_shard *pl_metrics_shard_get(unsigned i);

/**
 * Counts one finished request. `route` may be NULL (no route matched);
 * `upstream_ns` is 0 when no upstream was called.
 */
void pl_metrics_request(pl_metrics_shard *m, const char *route,
                        const char *method, int status, pl_proto proto,
                        uint64_t total_ns, uint64_t upstream_ns,
                        uint64_t bytes_in, uint64_t bytes_out);

/** Adds `delta` (±1) to open connections of `proto`. */
void pl_metrics_conn(pl_metrics_shard *m, pl_proto proto, int delta);

/** Adds `delta` (±1) to requests in flight. */
void pl_metrics_inflight(pl_metrics_shard *m, int delta);

/** Counts an upstream failure. */
void pl_metrics_upstream_error(pl_metrics_shard *m, pl_upstream_error_kind k);

/** Counts an HTTP/2 connection closed for protocol abuse. */
void pl_metrics_h2_abuse(pl_metrics_shard *m, pl_h2_abuse_kind k);

/** Counts a configuration reload (ok non-zero: applied). */
void pl_metrics_reload(int ok);

/* ---- collectors: metrics that other modules render at scrape time */

/** The text being rendered, passed to collectors. */
typedef struct pl_metrics_out pl_metrics_out;

/** Appends formatted text (whole lines, HELP and TYPE included). */
void pl_metrics_emit(pl_metrics_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Appends a label value, escaped as the exposition format requires. */
void pl_metrics_emit_label(pl_metrics_out *o, const char *value);

/*
 * Renders a module's metrics into `o`. Runs on the scraping thread, so it
 * may read only what the module's workers publish for other threads
 * (atomics or data under the module's own lock).
 */
typedef void (*pl_metrics_collector)(pl_metrics_out *o, void *arg);

/**
 * Adds a collector, rendered after the built-in metrics in the order
 * added. Returns 0 or PL_ELIMIT (PL_METRICS_MAX_COLLECTORS reached).
 */
int pl_metrics_collector_add(pl_metrics_collector fn, void *arg);

/**
 * Removes a collector added with the same `fn` and `arg`; once this
 * returns, the collector is not running and will not run again.
 */
void pl_metrics_collector_remove(pl_metrics_collector fn, void *arg);

#define PL_METRICS_MAX_COLLECTORS 16

/**
 * Renders every metric in Prometheus text exposition format 0.0.4 into a
 * new malloc'd NUL-terminated string (the caller frees it) and stores its
 * length in *len. Returns NULL when out of memory.
 */
char *pl_metrics_render(size_t *len);

#ifdef __cplusplus
}
#endif

#endif
