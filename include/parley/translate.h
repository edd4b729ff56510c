/*
 * The translation engine: batches of text segments translated through a
 * chain of OpenAI-compatible LLM providers (or a record/replay file), with
 * masking of protected spans, validation of every answer, retries, circuit
 * breakers, rate limits, a byte-bounded cache and single-flight. Everything
 * runs asynchronously on one libuv loop; one engine per worker loop.
 *
 * The caller passes the policy's translator directives as plain data, so
 * the engine depends on neither the detector nor the policy module.
 */
#ifndef PARLEY_TRANSLATE_H
#define PARLEY_TRANSLATE_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "parley/config.h"
#include "parley/curl_loop.h"
#include "parley/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The `translation:` table (added to the top level in config.c). */
extern const pl_cfg_section pl_translate_config_section;

/* ---- requests */

typedef struct pl_translate_segment {
    const char *id;   /* unique within a request */
    const char *text; /* UTF-8 */
} pl_translate_segment;

/* A glossary entry: `translation` NULL means "keep the term as it is". */
typedef struct pl_translate_term {
    const char *term;
    const char *translation;
} pl_translate_term;

/*
 * Optional language check supplied by the caller (the detector). Returns 1
 * when `text` is written in `locale`, 0 when it is not, -1 when it cannot
 * tell (then the built-in script check decides).
 */
typedef int (*pl_translate_lang_check)(const char *text, size_t len,
                                       const char *locale, void *arg);

/*
 * Optional post-editing of a finished translation into `locale`, supplied
 * by the caller (the policy's outbound fixes, e.g. vosotros -> ustedes for
 * es-419). Returns a malloc'd replacement that the engine frees, or NULL
 * to keep `text` as it is. Applied to offline providers' output, whose
 * dialect is the language pair's own and follows no instructions.
 */
typedef char *(*pl_translate_postedit)(const char *text, const char *locale,
                                       void *arg);

typedef struct pl_translate_request {
    const char *source_language; /* ISO 639 code; NULL or "" when unknown */
    const char *target_locale;   /* BCP 47, required: "en", "es-419" */
    const char *variety;         /* optional: "Rioplatense", "zh-Hant" */
    const char *register_;       /* optional: "formal", "informal" */
    const char *tone;            /* optional */
    const char *instructions;    /* optional extra editor instructions */
    const pl_translate_term *glossary;
    size_t glossary_count;
    const char *const *protected_patterns; /* ICU regular expressions */
    size_t protected_count;
    /* Languages the audience reads: no translation when the source is one. */
    const char *const *audience_reads;
    size_t audience_count;
    const pl_translate_segment *segments;
    size_t count;
    int64_t timeout_ms; /* 0: the configured translation.timeout */
    pl_translate_lang_check lang_check; /* may be NULL */
    void *lang_check_arg;
    int explain; /* collect the masked prompts and verdicts */
    int no_cache; /* neither read nor fill the cache */
    pl_translate_postedit postedit; /* may be NULL */
    void *postedit_arg;
    /* Names what `postedit` does (the policy's locale and version), for the
     * cache key; required when `postedit` is set. */
    const char *postedit_id;
} pl_translate_request;

typedef struct pl_translate_result {
    int status;          /* 0 or a pl_err (PL_ETRANSLATE, PL_ETIMEDOUT...) */
    const char *reason;  /* on failure: a short word ("invalid_output") */
    const char *message; /* on failure: what happened, per provider */
    const pl_translate_segment *segments; /* same ids and order as asked */
    size_t count;
    const char *provider; /* who answered; NULL for cache hits and skips */
    const char *model;
    int cached;   /* every segment came from the cache */
    int skipped;  /* no translation was needed (same language) */
    unsigned attempts; /* HTTP attempts made for this result */
    /* "offline" when any segment comes from an offline provider (Apertium),
     * "llm" otherwise; NULL when nothing was translated (skipped). */
    const char *quality;
    const char *pivot; /* the language an offline translation went through */
    const char *explain; /* with request.explain: prompts and verdicts */
} pl_translate_result;

/*
 * Called exactly once per submitted job unless it was cancelled, always
 * from the loop (never from inside pl_translate_submit()). `res` and all
 * it points to are valid only during the call: copy what you keep.
 */
typedef void (*pl_translate_cb)(const pl_translate_result *res, void *arg);

typedef struct pl_translate_engine pl_translate_engine;
typedef struct pl_translate_job pl_translate_job;

/**
 * Creates an engine for `cfg` on `loop`, issuing HTTP through `curl` (both
 * must outlive the engine). `cfg` must stay valid too (it belongs to the
 * runtime snapshot). API keys are read now, from the environment or files.
 * Returns 0 and *out, or PL_ENOMEM, PL_ECONFIG, PL_EIO (a key or replay
 * file cannot be read), PL_EICU, with a message in `err` (may be NULL).
 * Free with pl_translate_engine_close().
 */
int pl_translate_engine_new(uv_loop_t *loop, pl_curl_loop *curl,
                            const pl_translate_config *cfg,
                            pl_translate_engine **out, pl_error *err);

/**
 * Cancels every job (their callbacks are not called), stops the timers and
 * frees the engine once libuv has closed its handles; `closed` (may be
 * NULL) runs then. The curl loop must still be open when this is called.
 */
void pl_translate_engine_close(pl_translate_engine *eng,
                               void (*closed)(void *arg), void *arg);

/**
 * Starts translating `req` (copied: the caller may free it on return).
 * `cb` runs once on the loop with the outcome. *job (may be NULL) receives
 * a handle for pl_translate_cancel(), valid until `cb` starts. Returns 0,
 * or PL_EINVAL (no target, no segments, duplicate ids), PL_ENOMEM; then
 * `cb` is never called.
 */
int pl_translate_submit(pl_translate_engine *eng,
                        const pl_translate_request *req, pl_translate_cb cb,
                        void *arg, pl_translate_job **job);

/**
 * Checks `req` as pl_translate_submit() would, compiling its protected
 * patterns, without submitting it. Returns 0, or PL_EINVAL / PL_ELIMIT /
 * PL_EUTF8 with the reason in `err` (may be NULL).
 */
int pl_translate_request_check(pl_translate_engine *eng,
                               const pl_translate_request *req, pl_error *err);

/**
 * Cancels a job before its callback ran; the callback is then never
 * called. Work shared with other jobs (single-flight) goes on for them.
 */
void pl_translate_cancel(pl_translate_job *job);

/* ---- metrics */

#define PL_TRANSLATE_LATENCY_BUCKETS 12

typedef struct pl_translate_provider_stats {
    const char *name;
    const char *model;
    uint64_t requests;      /* HTTP attempts */
    uint64_t successes;     /* validated answers */
    uint64_t prompt_tokens;
    uint64_t completion_tokens;
    uint64_t fail_transport; /* connect errors, resets */
    uint64_t fail_timeout;
    uint64_t fail_http;      /* 429, 5xx and other statuses */
    uint64_t fail_invalid;   /* answers rejected by validation */
    uint64_t fail_breaker;   /* skipped while the breaker was open */
    uint64_t fail_overload;  /* queue full or deadline while queued */
    uint64_t retries;
    uint64_t restarts;       /* offline pipelines restarted (crash, stuck) */
    int breaker_state;       /* 0 closed, 1 open, 2 half-open */
    /* Attempt latencies: bucket i counts <= pl_translate_latency_bounds[i]. */
    uint64_t latency[PL_TRANSLATE_LATENCY_BUCKETS + 1];
    uint64_t latency_sum_ms; /* of all attempts, for the histogram's mean */
} pl_translate_provider_stats;

/** Upper bounds in milliseconds of the latency buckets. */
extern const double pl_translate_latency_bounds[PL_TRANSLATE_LATENCY_BUCKETS];

typedef struct pl_translate_stats {
    uint64_t jobs;
    uint64_t cache_hits;    /* segments answered from the cache */
    uint64_t cache_misses;
    uint64_t cache_bytes;
    uint64_t cache_entries;
    uint64_t coalesced;     /* jobs that joined a translation in flight */
    uint64_t skipped;
    uint64_t failures;      /* jobs that ended with an explicit failure */
    uint64_t timeouts;
    size_t provider_count;
    const pl_translate_provider_stats *providers; /* owned by the engine */
} pl_translate_stats;

/** Fills `out` with the engine's counters (pointers stay owned by it). */
void pl_translate_stats_get(const pl_translate_engine *eng,
                            pl_translate_stats *out);

/*
 * Export to the gateway's /metrics: one shard per worker, written by that
 * worker's engine (relaxed atomics, no locks on the request path) and
 * summed when the admin listener is scraped. Metric names start with
 * parley_translation_.
 */
typedef struct pl_translate_metrics pl_translate_metrics;

/**
 * Creates the shards for `nworkers` workers and registers them with the
 * metrics registry (parley/metrics.h). Returns 0 and *out, or PL_ENOMEM /
 * PL_ELIMIT.
 */
int pl_translate_metrics_new(unsigned nworkers, pl_translate_metrics **out);

/** Unregisters and frees; no engine may publish any more. */
void pl_translate_metrics_free(pl_translate_metrics *tm);

/**
 * Publishes the counters of worker `worker` (from that worker's thread).
 * A shard holds what its worker's engine counted: an engine replaced by a
 * reload starts from zero, which Prometheus reads as a counter reset.
 */
void pl_translate_metrics_publish(pl_translate_metrics *tm, unsigned worker,
                                  const pl_translate_stats *st);

/**
 * Makes `eng` publish its counters to shard `worker` of `tm` as jobs
 * finish (and once now). `tm` NULL stops publishing.
 */
void pl_translate_engine_set_metrics(pl_translate_engine *eng,
                                     pl_translate_metrics *tm, unsigned worker);

/* ---- streaming */

typedef struct pl_translate_stream pl_translate_stream;

/*
 * Called once per sentence, in order: `index` counts from 0, `text` is the
 * translation (or, on failure, NULL with `status` < 0 and the original in
 * `original`). `final` is set on the call for the last sentence after
 * pl_translate_stream_finish().
 */
typedef void (*pl_translate_stream_cb)(size_t index, int status,
                                       const char *text,
                                       const char *original, int final,
                                       void *arg);

/**
 * Creates a stream that cuts the text fed to it into sentences (ICU
 * sentence breaks) and translates each as soon as it is complete, with the
 * directives of `tmpl` (its segments are ignored). Returns 0 and *out, or
 * PL_ENOMEM / PL_EINVAL. `tmpl` is copied. Free with
 * pl_translate_stream_free().
 */
int pl_translate_stream_new(pl_translate_engine *eng,
                            const pl_translate_request *tmpl,
                            pl_translate_stream_cb cb, void *arg,
                            pl_translate_stream **out);

/**
 * Appends UTF-8 text (a chunk may end inside a sentence or a character).
 * Complete sentences are submitted at once. Returns 0 or a pl_err.
 */
int pl_translate_stream_feed(pl_translate_stream *s, const char *text,
                             size_t len);

/** Submits what is left as the last sentence. Returns 0 or a pl_err. */
int pl_translate_stream_finish(pl_translate_stream *s);

/** Cancels what is in flight (no more callbacks) and frees `s`. */
void pl_translate_stream_free(pl_translate_stream *s);

/* ---- helpers shared with the CLI and tests */

/**
 * Computes the cache key of one segment as 64 lower-case hex digits into
 * `hex` (65 bytes): SHA-256 over the normalized text (NFC, whitespace runs
 * collapsed, trimmed), source language, target locale and variety, the
 * policy fingerprint (register, tone, instructions, glossary, protected
 * patterns, mask classes) and `provider_fp` (providers and models of the
 * chain). Returns 0 or PL_ENOMEM / PL_EUTF8.
 */
int pl_translate_cache_key(const pl_translate_request *req, const char *text,
                           unsigned mask_classes, const char *provider_fp,
                           char hex[65]);

#ifdef __cplusplus
}
#endif

#endif
