/*
 * Internal interfaces of the translation module: masking, the prompt
 * contract, validation, providers, the cache and the engine's flights.
 * Nothing here is part of the public API (include/parley/translate.h).
 */
#ifndef PARLEY_TRANSLATE_INTERNAL_H
#define PARLEY_TRANSLATE_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "parley/arena.h"
#include "parley/error.h"
#include "parley/log.h"
#include "parley/translate.h"

/* Maxima of the module, in one place. */
#define PL_TRANSLATE_MAX_TEXT (64u * 1024)        /* bytes per segment */
#define PL_TRANSLATE_MAX_SEGMENTS 256             /* per request */
#define PL_TRANSLATE_MAX_SPANS 4096               /* masked spans per segment */
#define PL_TRANSLATE_MAX_RESPONSE (4u * 1024 * 1024) /* HTTP answer body */
#define PL_TRANSLATE_JOB_ARENA (16u * 1024 * 1024)   /* one job's memory */
#define PL_TRANSLATE_MAX_EXPLAIN (256u * 1024)
#define PL_TRANSLATE_MAX_STREAM (1u * 1024 * 1024)   /* pending stream text */

/* ---- masking (mask.c) */

typedef struct pl__masker pl__masker;

typedef struct pl__mask_opts {
    unsigned classes; /* PL_MASK_* bits */
    const pl_translate_term *glossary;
    size_t glossary_count;
    const char *const *protected_patterns;
    size_t protected_count;
} pl__mask_opts;

typedef struct pl__mask_item {
    const char *value; /* the original text of the span */
    unsigned cls;      /* PL_MASK_* (0 for a literal bracket) */
} pl__mask_item;

typedef struct pl__masked {
    char *text;            /* with ⟦1⟧..⟦count⟧ */
    size_t count;
    pl__mask_item *items;  /* items[i] is ⟦i+1⟧ */
} pl__masked;

/** Compiles the built-in patterns. Returns 0 or PL_ENOMEM / PL_EICU. */
int pl__masker_new(pl__masker **out, pl_error *err);
void pl__masker_free(pl__masker *m);

/**
 * Masks `text` (UTF-8) into `out`, allocating from `a`. Returns 0, or
 * PL_EUTF8, PL_EINVAL (a protected pattern does not compile), PL_ELIMIT,
 * PL_ENOMEM with a message in `err`.
 */
int pl__mask(pl__masker *m, pl_arena *a, const char *text,
             const pl__mask_opts *opts, pl__masked *out, pl_error *err);

/**
 * Restores the spans of `m` in `translated`. Every placeholder must appear
 * exactly once and no other may appear; otherwise returns PL_ETRANSLATE
 * with the problem in `err`. *out is allocated from `a`.
 */
int pl__unmask(pl_arena *a, const char *translated, const pl__masked *m,
               char **out, pl_error *err);

/** "email", "card"...; the names used in `translation.mask`. */
const char *pl__mask_class_name(unsigned cls);
int pl__mask_class_parse(const char *name, unsigned *out);
extern const char *const pl__mask_class_names[];

/* ---- the prompt contract (prompt.c) */

typedef struct pl__prompt_segment {
    const char *id;   /* "s1", "s2"... */
    const char *text; /* masked */
} pl__prompt_segment;

typedef struct pl__prompt {
    const pl_translate_request *req; /* directives only */
    const pl__prompt_segment *segments;
    size_t count;
    int strict;              /* second try after a rejected answer */
    const char *rejection;   /* why the previous answer was rejected */
} pl__prompt;

/** The system message; allocated from `a`. NULL when out of memory. */
char *pl__prompt_system(pl_arena *a, const pl__prompt *p);

/** The user message (the JSON document); allocated from `a`. */
char *pl__prompt_user(pl_arena *a, const pl__prompt *p);

/**
 * The Chat Completions request body (malloc'd, caller frees) for `model`.
 * `format` is PL_FORMAT_JSON_SCHEMA or PL_FORMAT_JSON_OBJECT.
 */
char *pl__prompt_body(const char *model, double temperature, int64_t max_tokens,
                      int format, const char *system, const char *user);

/** Record/replay key: SHA-256 hex of the system and user messages. */
void pl__prompt_key(const char *system, const char *user, char hex[65]);

/** The SHA-256 implementation, looked up once per process. */
const EVP_MD *pl__sha256(void);

/** SHA-256 of `len` bytes as 64 hex digits. */
void pl__sha256_hex(const void *data, size_t len, char hex[65]);

/* ---- validation (validate.c) */

typedef struct pl__validate_in {
    const pl_translate_request *req;
    const pl_translate_validation_config *cfg;
    const pl__prompt_segment *segments; /* what was sent (masked) */
    const pl__masked *masks;            /* per segment */
    size_t count;
} pl__validate_in;

/**
 * Checks the model's answer `content` against what was asked: JSON shape,
 * exactly the requested ids, placeholders, language, length ratio, signs
 * of answering or obeying the text. On success returns 0 and the restored
 * translations in out[0..count) (from `a`); otherwise PL_ETRANSLATE with
 * the first problem in `err`.
 */
int pl__validate(pl_arena *a, const pl__validate_in *in, const char *content,
                 char **out, pl_error *err);

/**
 * Built-in language check by script (and a few stop-words for Latin-script
 * languages): 1 written in `lang`, 0 not, -1 cannot tell.
 */
int pl__script_check(const char *text, const char *locale, int64_t min_letters,
                     char *why, size_t why_size);

/* ---- the cache (cache.c) */

typedef struct pl__cache pl__cache;

int pl__cache_new(int64_t max_bytes, int64_t ttl_ms, pl__cache **out);
void pl__cache_free(pl__cache *c);

/**
 * Looks up `key` (32 raw bytes); returns the cached text (owned by the
 * cache, valid until the next insertion) or NULL. `now` in ms.
 */
const char *pl__cache_get(pl__cache *c, const unsigned char key[32], uint64_t now);

/** Stores a copy of `value`; evicts least recently used entries. */
int pl__cache_put(pl__cache *c, const unsigned char key[32], const char *value,
                  uint64_t now);
void pl__cache_usage(const pl__cache *c, uint64_t *bytes, uint64_t *entries);

/** Binary form of pl_translate_cache_key() (32 bytes). */
int pl__cache_key(const pl_translate_request *req, const char *text,
                  unsigned mask_classes, const char *provider_fp,
                  unsigned char key[32]);

/* Cache entry flags. */
#define PL__CACHE_OFFLINE 1u /* translated by an offline provider */

/** pl__cache_get() that also returns the entry's flags (may be NULL). */
const char *pl__cache_get_flags(pl__cache *c, const unsigned char key[32],
                                uint64_t now, unsigned *flags);
/** pl__cache_put() with flags (PL__CACHE_*). */
int pl__cache_put_flags(pl__cache *c, const unsigned char key[32],
                        const char *value, unsigned flags, uint64_t now);

/* ---- Apertium: modes, plans and the text format (apertium_text.c) */

#define PL__AP_MAX_MODES 512
#define PL__AP_MAX_LISTING (256u * 1024) /* `apertium -l` output */
#define PL__AP_MAX_OUTPUT (1u * 1024 * 1024) /* one pending pipeline answer */

typedef struct pl__ap_mode {
    char name[64];   /* as listed: "eng-spa", "es-pt_BR" */
    char src[4];     /* ISO 639-1 where one exists: "en" */
    char tgt[4];
    char variant[12]; /* of the target: "BR", "US", "" */
} pl__ap_mode;

/**
 * Parses the output of `apertium -l` into out[0..max). Modes that are not
 * LANG-LANG[_VARIANT] (domain variants such as eco-es-fr) are skipped.
 * Returns the number of modes.
 */
size_t pl__ap_parse_modes(const char *listing, pl__ap_mode *out, size_t max);

/**
 * The ISO 639-1 code for an ISO 639-1 or 639-3 code or a BCP 47 tag
 * ("spa" -> "es", "pt-BR" -> "pt"), lower case, into buf (4 bytes).
 * Unknown three-letter codes are kept. Returns buf, or NULL when `code`
 * is not a language code.
 */
const char *pl__ap_lang(const char *code, char buf[4]);

typedef struct pl__ap_plan {
    const pl__ap_mode *legs[2];
    size_t nlegs;    /* 1 direct, 2 through `pivot` */
    char pivot[4];
} pl__ap_plan;

/**
 * Chooses the modes that translate `src` (a language) into `target` (a
 * BCP 47 locale): a direct mode, preferring one whose variant matches the
 * locale's region (pt-BR -> es-pt_BR), else two through `pivot` (NULL or ""
 * never pivots). Returns 0 and *out, or PL_ENOENT.
 */
int pl__ap_plan_pair(const pl__ap_mode *modes, size_t n, const char *src,
                     const char *target, const char *pivot, pl__ap_plan *out);

/** What is sent to a pipeline for one segment, and what restores it. */
typedef struct pl__ap_text {
    char *stream;        /* Apertium stream format, without the NUL */
    size_t count;        /* protected spans, ⟦1⟧..⟦count⟧ in `stream` */
    const char **items;  /* items[i] is the original of ⟦i+1⟧ */
} pl__ap_text;

/**
 * Turns plain text (with the engine's ⟦n⟧ placeholders) into Apertium's
 * stream format: placeholders and tokens that contain digits (order
 * numbers, times, codes) become renumbered ⟦k⟧ that the pipelines pass
 * through as unknown words; the stream format's reserved characters are
 * escaped, and characters the pipelines drop or take for marks (~ * #,
 * line breaks) travel in superblanks. Memory from `a`. Returns 0, PL_ENOMEM
 * or PL_ELIMIT.
 */
int pl__ap_deformat(pl_arena *a, const char *text, pl__ap_text *out);

/**
 * Turns a pipeline's answer (stream format, no NUL) back into text:
 * escapes and superblanks undone, unknown-word marks (* # @ before a word)
 * removed, doubled spaces collapsed, then each ⟦k⟧ replaced by its
 * original. A protected span missing or repeated fails with PL_ETRANSLATE
 * and a message in `err`. *out from `a`.
 */
int pl__ap_reformat(pl_arena *a, const char *answer, size_t len,
                    const pl__ap_text *sent, char **out, pl_error *err);

/* ---- Apertium pipelines (apertium.c) */

typedef struct pl__apertium pl__apertium;
typedef struct pl__ap_call pl__ap_call;

/*
 * The outcome of one batch: status 0 and texts[0..n) (valid during the
 * call), or a pl_err with a short reason ("no_pair", "timeout",
 * "unavailable", "invalid_output") and a message. `mode` names the modes
 * used ("eng-spa" or "por-spa+spa-eng"); `pivot` is "" when direct.
 */
typedef void (*pl__ap_cb)(int status, const char *reason, const char *message,
                          const char *const *texts, const char *mode,
                          const char *pivot, void *arg);

/**
 * Creates the provider's state (no handles yet) and finds the program and
 * its data folder. Returns 0 or PL_ENOMEM.
 */
int pl__apertium_new(uv_loop_t *loop, const pl_translate_provider_config *cfg,
                     pl_translate_provider_stats *st, pl__apertium **out,
                     pl_error *err);

/** Starts listing the installed modes (`apertium -l`, asynchronously). */
void pl__apertium_open(pl__apertium *ap);

/**
 * Translates texts[0..n) (plain text with ⟦n⟧ placeholders) from `src`
 * into `target` through the long-running pipelines; each segment has
 * `timeout_ms` once written to its pipeline. `cb` runs once, from the
 * loop, unless the call is cancelled. Returns 0 and *out, or PL_ENOMEM.
 */
int pl__apertium_start(pl__apertium *ap, const char *src, const char *target,
                       const char *const *texts, size_t n, int64_t timeout_ms,
                       pl__ap_cb cb, void *arg, pl__ap_call **out);

/** Cancels a call before its callback ran; the callback is not called. */
void pl__apertium_cancel(pl__ap_call *call);

/**
 * Kills the pipelines and frees everything once libuv closed the handles;
 * `closed(arg)` runs then. Calls still running are dropped silently.
 */
void pl__apertium_close(pl__apertium *ap, void (*closed)(void *), void *arg);

/* ---- providers (openai.c, replay.c) and the flight state (engine.c) */

typedef struct pl__provider pl__provider;

/* What one HTTP attempt produced. */
typedef struct pl__answer {
    int transport;           /* 0, PL_ETIMEDOUT or PL_ECURL */
    long status;             /* HTTP status, 0 without a response */
    int64_t retry_after_ms;  /* -1 when absent */
    const char *content;     /* the model's message; NULL when none */
    const char *error;       /* what went wrong, for the failure report */
    uint64_t prompt_tokens, completion_tokens;
    int format_unsupported;  /* the server rejected json_schema */
    int truncated;           /* finish_reason "length" */
} pl__answer;

typedef void (*pl__answer_cb)(pl__answer *ans, void *arg);

typedef struct pl__http_call pl__http_call;

/* Finished easy handles a provider keeps for reuse. */
#define PL__OPENAI_IDLE_HANDLES 64

/**
 * Starts one Chat Completions POST of `body` (the call keeps a pointer;
 * the caller keeps it alive until `cb`). Returns 0 and *out or a pl_err.
 */
int pl__openai_start(pl__provider *p, const char *body, int64_t timeout_ms,
                     pl__answer_cb cb, void *arg, pl__http_call **out);

/** Aborts a call in flight; its callback is not called. */
void pl__openai_cancel(pl__http_call *call);

/** Reads the API key and builds headers. Returns 0 or a pl_err. */
int pl__openai_init(pl__provider *p, pl_error *err);
void pl__openai_free(pl__provider *p);

/* Record/replay files. */
typedef struct pl__replay pl__replay;

/** Loads a JSON-lines file written by `record`. Returns 0 or a pl_err. */
int pl__replay_load(const char *path, pl__replay **out, pl_error *err);
/** The recorded content for `key`, or NULL. */
const char *pl__replay_find(const pl__replay *r, const char *key);
void pl__replay_free(pl__replay *r);

/** Appends one pair to the record file (one line, flushed). */
int pl__record_append(FILE *f, const char *key, const char *model,
                      const char *system, const char *user, const char *content);

struct pl__provider {
    const pl_translate_provider_config *cfg;
    pl_translate_engine *eng;
    pl_curl_loop *curl;
    char *url;                 /* <base_url>/chat/completions */
    char *auth;                /* header line with the key; never logged */
    struct curl_slist *headers;
    pl__replay *replay;        /* type replay */
    pl__apertium *ap;          /* type apertium */
    FILE *record;              /* type record */
    int json_object_only;      /* the server lacks json_schema */
    CURL *idle[PL__OPENAI_IDLE_HANDLES]; /* finished handles kept for reuse */
    size_t idle_count;
    char fingerprint[160];     /* type:model, for cache keys */

    /* Circuit breaker. */
    int breaker;               /* 0 closed, 1 open, 2 half-open */
    unsigned consecutive_failures;
    uint64_t open_until;       /* loop ms */
    int probe_inflight;

    /* Limits: slots, a FIFO of waiting flights, rpm/tpm buckets. */
    unsigned inflight;
    unsigned queued;
    struct pl__flight *queue_head, *queue_tail;
    double req_tokens, tok_tokens;
    uint64_t refilled_at;
    uv_timer_t rate_timer;
    int rate_timer_armed;

    pl_translate_provider_stats *st; /* in the engine's array */
};

/* ---- the engine (engine.c) and the provider chain (chain.c) */

typedef struct pl__flight pl__flight;

enum { JOB_PENDING = 0, JOB_READY, JOB_DONE };

struct pl_translate_job {
    pl_translate_engine *eng;
    pl_translate_job *prev, *next;   /* the engine's live jobs */
    pl_translate_job *fprev, *fnext; /* waiters of the same flight */
    pl__flight *f;
    pl_translate_cb cb;
    void *arg;
    pl_arena arena;
    pl_translate_request req;  /* deep copy */
    const char **texts;        /* results per segment */
    unsigned char (*keys)[32]; /* cache key per segment */
    size_t *miss;              /* segments not answered by the cache */
    size_t nmiss;
    uv_timer_t timer;          /* deadline, then completion */
    uint64_t deadline;         /* loop ms */
    int state;
    int offline;               /* a segment came from an offline provider */
    pl_translate_result res;
};

enum { FLIGHT_IDLE = 0, FLIGHT_QUEUED, FLIGHT_RUNNING, FLIGHT_WAITING,
       FLIGHT_DONE };

struct pl__flight {
    pl_translate_engine *eng;
    pl__flight *hnext;          /* single-flight bucket */
    pl__flight *prev, *next;    /* the engine's live flights */
    pl__flight *qnext;          /* a provider's queue */
    int keyed;
    unsigned char key[32];
    pl_arena arena;
    pl_translate_request req;   /* deep copy of the first job's directives */
    size_t count;
    pl__prompt_segment *segs;   /* masked, ids s1..sN */
    pl__masked *masks;
    unsigned char (*keys)[32];  /* cache keys per segment */
    char **results;             /* restored translations */
    pl_translate_job *jobs;     /* waiters */
    uint64_t deadline;
    size_t pi;                  /* provider being tried */
    unsigned tries;             /* transient retries at this provider */
    int strict;
    char *rejection;
    int probe;                  /* this flight is a half-open probe */
    int format;
    int state;
    int completing;
    pl__http_call *call;
    pl__ap_call *ap_call;       /* an offline attempt in flight */
    const char *quality;        /* "offline" or "llm" once answered */
    const char *pivot;          /* from the arena; NULL when direct */
    const char *model;          /* from the arena: the modes used, offline */
    char *system, *user, *body; /* malloc'd, the attempt in flight */
    char prompt_key[65];
    const char *replay_content; /* a replay answer waiting for the timer */
    uint64_t started_at, est_tokens;
    unsigned attempts;
    uv_timer_t timer;           /* backoff and deferred replay answers */
    const char *reason;
    char failures[1024];
    char *explain;              /* malloc'd, bounded */
    size_t explain_len;
    int want_explain;
};

struct pl_translate_engine {
    uv_loop_t *loop;
    pl_curl_loop *curl;
    const pl_translate_config *cfg;
    pl__masker *masker;
    pl__cache *cache;
    pl__provider *providers; /* in chain order */
    size_t nproviders;
    pl_translate_provider_stats *pstats;
    char provider_fp[1024];
    pl__flight *fbuckets[1024];
    pl_translate_job *jobs;
    pl__flight *flights;
    unsigned pending_closes;
    int timers_ready;
    int closing;
    pl_translate_metrics *metrics; /* where finished jobs are published */
    unsigned metrics_worker;
    void (*closed)(void *);
    void *closed_arg;
    pl_translate_stats stats;
};

/** Deep-copies `src` into `a` (segments too when `segments`). 0 or PL_ENOMEM. */
int pl__copy_request(pl_arena *a, const pl_translate_request *src,
                     pl_translate_request *dst, int segments);

/* Engine services used by the chain. */
void pl__engine_handle_closing(pl_translate_engine *eng);
void pl__flight_succeeded(pl__flight *f, const pl__provider *p);
void pl__flight_failed(pl__flight *f, int status);
void pl__explain_add(pl__flight *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Starts the chain for a new flight (answers come later, on the loop). */
void pl__chain_start(pl__flight *f);
/** Stops whatever the flight is doing at its provider (queue, HTTP, timer). */
void pl__chain_abort(pl__flight *f);
/** Initialises and frees the providers of the engine. */
int pl__chain_init(pl_translate_engine *eng, pl_error *err);
void pl__chain_close(pl_translate_engine *eng);

#endif
