/*
 * The translation engine's counters on /metrics. Each worker's engine
 * copies its counters into its own shard with relaxed atomic stores (one
 * writer per shard, so no read-modify-write and no lock on the request
 * path); the collector registered with the metrics registry sums the
 * shards when the admin listener is scraped. Provider names change only
 * when a reload brings a different chain; they are copied under a lock
 * that the scrape takes too.
 */
#include "translate_internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "parley/metrics.h"

/* Providers per chain that are exported; the rest are not. */
#define TM_MAX_PROVIDERS 16
#define TM_NAME_MAX 64
#define TM_MODEL_MAX 128

typedef _Atomic uint64_t counter;

#define PUT(x, v) atomic_store_explicit(&(x), (uint64_t)(v), memory_order_relaxed)
#define GET(x) atomic_load_explicit(&(x), memory_order_relaxed)

enum { FAIL_TRANSPORT, FAIL_TIMEOUT, FAIL_HTTP, FAIL_INVALID, FAIL_BREAKER,
       FAIL_OVERLOAD, FAIL_COUNT };

static const char *const fail_names[FAIL_COUNT] = {
    "transport", "timeout", "http", "invalid_output", "breaker_open", "overloaded"};

typedef struct tm_provider {
    char name[TM_NAME_MAX];   /* written under tm->lock */
    char model[TM_MODEL_MAX];
    counter requests, successes, retries, restarts;
    counter prompt_tokens, completion_tokens;
    counter fail[FAIL_COUNT];
    counter breaker_open; /* 1 while this worker's breaker is not closed */
    counter latency[PL_TRANSLATE_LATENCY_BUCKETS + 1];
    counter latency_sum_ms;
} tm_provider;

typedef struct tm_shard {
    size_t nproviders; /* under tm->lock */
    counter jobs, cache_hits, cache_misses, cache_bytes, cache_entries;
    counter coalesced, skipped, failures, timeouts;
    tm_provider providers[TM_MAX_PROVIDERS];
} tm_shard;

struct pl_translate_metrics {
    pthread_mutex_t lock;
    unsigned nshards;
    tm_shard *shards;
};

static void collect(pl_metrics_out *o, void *arg);

int pl_translate_metrics_new(unsigned nworkers, pl_translate_metrics **out)
{
    pl_translate_metrics *tm = calloc(1, sizeof(*tm));
    int rc;

    *out = NULL;
    if (tm == NULL)
        return PL_ENOMEM;
    tm->nshards = nworkers ? nworkers : 1;
    tm->shards = calloc(tm->nshards, sizeof(tm_shard));
    if (tm->shards == NULL) {
        free(tm);
        return PL_ENOMEM;
    }
    pthread_mutex_init(&tm->lock, NULL);
    if ((rc = pl_metrics_collector_add(collect, tm)) != 0) {
        pthread_mutex_destroy(&tm->lock);
        free(tm->shards);
        free(tm);
        return rc;
    }
    *out = tm;
    return 0;
}

void pl_translate_metrics_free(pl_translate_metrics *tm)
{
    if (tm == NULL)
        return;
    pl_metrics_collector_remove(collect, tm);
    pthread_mutex_destroy(&tm->lock);
    free(tm->shards);
    free(tm);
}

static void copy_name(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

/* The shard's provider names are the chain's; cheap to check each time. */
static int same_chain(const tm_shard *sh, const pl_translate_stats *st, size_t n)
{
    if (sh->nproviders != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = st->providers[i].name ? st->providers[i].name : "";
        const char *model = st->providers[i].model ? st->providers[i].model : "";
        if (strncmp(sh->providers[i].name, name, TM_NAME_MAX - 1) != 0 ||
            strncmp(sh->providers[i].model, model, TM_MODEL_MAX - 1) != 0)
            return 0;
    }
    return 1;
}

void pl_translate_metrics_publish(pl_translate_metrics *tm, unsigned worker,
                                  const pl_translate_stats *st)
{
    tm_shard *sh;
    size_t n = st->provider_count < TM_MAX_PROVIDERS ? st->provider_count
                                                     : TM_MAX_PROVIDERS;

    if (tm == NULL || worker >= tm->nshards)
        return;
    sh = &tm->shards[worker];
    /* Only this worker writes the names, so reading them here is safe. */
    if (!same_chain(sh, st, n)) {
        pthread_mutex_lock(&tm->lock);
        sh->nproviders = n;
        for (size_t i = 0; i < n; i++) {
            copy_name(sh->providers[i].name, TM_NAME_MAX, st->providers[i].name);
            copy_name(sh->providers[i].model, TM_MODEL_MAX, st->providers[i].model);
        }
        pthread_mutex_unlock(&tm->lock);
    }
    PUT(sh->jobs, st->jobs);
    PUT(sh->cache_hits, st->cache_hits);
    PUT(sh->cache_misses, st->cache_misses);
    PUT(sh->cache_bytes, st->cache_bytes);
    PUT(sh->cache_entries, st->cache_entries);
    PUT(sh->coalesced, st->coalesced);
    PUT(sh->skipped, st->skipped);
    PUT(sh->failures, st->failures);
    PUT(sh->timeouts, st->timeouts);
    for (size_t i = 0; i < n; i++) {
        const pl_translate_provider_stats *ps = &st->providers[i];
        tm_provider *p = &sh->providers[i];
        PUT(p->requests, ps->requests);
        PUT(p->successes, ps->successes);
        PUT(p->retries, ps->retries);
        PUT(p->restarts, ps->restarts);
        PUT(p->prompt_tokens, ps->prompt_tokens);
        PUT(p->completion_tokens, ps->completion_tokens);
        PUT(p->fail[FAIL_TRANSPORT], ps->fail_transport);
        PUT(p->fail[FAIL_TIMEOUT], ps->fail_timeout);
        PUT(p->fail[FAIL_HTTP], ps->fail_http);
        PUT(p->fail[FAIL_INVALID], ps->fail_invalid);
        PUT(p->fail[FAIL_BREAKER], ps->fail_breaker);
        PUT(p->fail[FAIL_OVERLOAD], ps->fail_overload);
        PUT(p->breaker_open, ps->breaker_state != 0);
        for (int b = 0; b <= PL_TRANSLATE_LATENCY_BUCKETS; b++)
            PUT(p->latency[b], ps->latency[b]);
        PUT(p->latency_sum_ms, ps->latency_sum_ms);
    }
}

/* ---- rendering, on the scraping thread */

/* One provider summed over the workers that have it. */
typedef struct tm_sum {
    const char *name, *model;
    uint64_t requests, successes, retries, restarts;
    uint64_t prompt_tokens, completion_tokens;
    uint64_t fail[FAIL_COUNT];
    uint64_t breaker_open;
    uint64_t latency[PL_TRANSLATE_LATENCY_BUCKETS + 1];
    uint64_t latency_sum_ms;
} tm_sum;

static size_t sum_providers(const pl_translate_metrics *tm, tm_sum *out, size_t max)
{
    size_t n = 0;

    for (unsigned w = 0; w < tm->nshards; w++) {
        tm_shard *sh = &tm->shards[w];
        for (size_t i = 0; i < sh->nproviders; i++) {
            tm_provider *p = &sh->providers[i];
            tm_sum *s = NULL;
            for (size_t k = 0; k < n && s == NULL; k++)
                if (strcmp(out[k].name, p->name) == 0 && strcmp(out[k].model, p->model) == 0)
                    s = &out[k];
            if (s == NULL) {
                if (n == max)
                    continue;
                s = &out[n++];
                memset(s, 0, sizeof(*s));
                s->name = p->name;
                s->model = p->model;
            }
            s->requests += GET(p->requests);
            s->successes += GET(p->successes);
            s->retries += GET(p->retries);
            s->restarts += GET(p->restarts);
            s->prompt_tokens += GET(p->prompt_tokens);
            s->completion_tokens += GET(p->completion_tokens);
            for (int f = 0; f < FAIL_COUNT; f++)
                s->fail[f] += GET(p->fail[f]);
            s->breaker_open += GET(p->breaker_open);
            for (int b = 0; b <= PL_TRANSLATE_LATENCY_BUCKETS; b++)
                s->latency[b] += GET(p->latency[b]);
            s->latency_sum_ms += GET(p->latency_sum_ms);
        }
    }
    return n;
}

static uint64_t sum_field(const pl_translate_metrics *tm, size_t offset)
{
    uint64_t v = 0;

    for (unsigned w = 0; w < tm->nshards; w++)
        v += GET(*(counter *)((char *)&tm->shards[w] + offset));
    return v;
}

static void labels(pl_metrics_out *o, const tm_sum *s)
{
    pl_metrics_emit(o, "provider=\"");
    pl_metrics_emit_label(o, s->name);
    pl_metrics_emit(o, "\",model=\"");
    pl_metrics_emit_label(o, s->model);
    pl_metrics_emit(o, "\"");
}

/* A counter per provider: name{provider,model} value. */
static void per_provider(pl_metrics_out *o, const tm_sum *sums, size_t n,
                         const char *name, const char *help, const char *type,
                         size_t offset)
{
    pl_metrics_emit(o, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
    for (size_t i = 0; i < n; i++) {
        pl_metrics_emit(o, "%s{", name);
        labels(o, &sums[i]);
        pl_metrics_emit(o, "} %llu\n",
                        (unsigned long long)*(const uint64_t *)((const char *)&sums[i] + offset));
    }
}

static void emit_totals(pl_metrics_out *o, const pl_translate_metrics *tm)
{
    static const struct {
        const char *name, *help, *type;
        size_t offset;
    } totals[] = {
        {"parley_translation_jobs_total", "Translation jobs submitted.", "counter",
         offsetof(tm_shard, jobs)},
        {"parley_translation_cache_hits_total", "Segments answered from the cache.",
         "counter", offsetof(tm_shard, cache_hits)},
        {"parley_translation_cache_misses_total", "Segments not in the cache.",
         "counter", offsetof(tm_shard, cache_misses)},
        {"parley_translation_cache_bytes", "Bytes held by the translation caches.",
         "gauge", offsetof(tm_shard, cache_bytes)},
        {"parley_translation_cache_entries", "Entries in the translation caches.",
         "gauge", offsetof(tm_shard, cache_entries)},
        {"parley_translation_coalesced_total",
         "Jobs that joined an identical translation in flight.", "counter",
         offsetof(tm_shard, coalesced)},
        {"parley_translation_skipped_total",
         "Jobs that needed no translation (same language).", "counter",
         offsetof(tm_shard, skipped)},
        {"parley_translation_failures_total",
         "Jobs that ended with an explicit failure.", "counter",
         offsetof(tm_shard, failures)},
        {"parley_translation_timeouts_total", "Jobs that reached their deadline.",
         "counter", offsetof(tm_shard, timeouts)},
    };

    for (size_t i = 0; i < sizeof(totals) / sizeof(totals[0]); i++)
        pl_metrics_emit(o, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", totals[i].name,
                        totals[i].help, totals[i].name, totals[i].type, totals[i].name,
                        (unsigned long long)sum_field(tm, totals[i].offset));
}

static void emit_latency(pl_metrics_out *o, const tm_sum *sums, size_t n)
{
    static const char name[] = "parley_translation_attempt_duration_seconds";

    pl_metrics_emit(o, "# HELP %s Time of one attempt at a provider.\n"
                       "# TYPE %s histogram\n", name, name);
    for (size_t i = 0; i < n; i++) {
        uint64_t cum = 0;
        for (int b = 0; b <= PL_TRANSLATE_LATENCY_BUCKETS; b++) {
            cum += sums[i].latency[b];
            pl_metrics_emit(o, "%s_bucket{", name);
            labels(o, &sums[i]);
            if (b < PL_TRANSLATE_LATENCY_BUCKETS)
                pl_metrics_emit(o, ",le=\"%g\"} %llu\n",
                                pl_translate_latency_bounds[b] / 1000.0,
                                (unsigned long long)cum);
            else
                pl_metrics_emit(o, ",le=\"+Inf\"} %llu\n", (unsigned long long)cum);
        }
        pl_metrics_emit(o, "%s_sum{", name);
        labels(o, &sums[i]);
        pl_metrics_emit(o, "} %.3f\n%s_count{", (double)sums[i].latency_sum_ms / 1000.0,
                        name);
        labels(o, &sums[i]);
        pl_metrics_emit(o, "} %llu\n", (unsigned long long)cum);
    }
}

static void collect(pl_metrics_out *o, void *arg)
{
    pl_translate_metrics *tm = arg;
    tm_sum sums[TM_MAX_PROVIDERS * 4];
    size_t n;

    pthread_mutex_lock(&tm->lock);
    n = sum_providers(tm, sums, sizeof(sums) / sizeof(sums[0]));
    emit_totals(o, tm);
    per_provider(o, sums, n, "parley_translation_requests_total",
                 "HTTP attempts (or offline calls) per provider.", "counter",
                 offsetof(tm_sum, requests));
    per_provider(o, sums, n, "parley_translation_successes_total",
                 "Validated answers per provider.", "counter",
                 offsetof(tm_sum, successes));
    per_provider(o, sums, n, "parley_translation_retries_total",
                 "Retries after transient errors per provider.", "counter",
                 offsetof(tm_sum, retries));
    per_provider(o, sums, n, "parley_translation_restarts_total",
                 "Offline pipelines restarted per provider.", "counter",
                 offsetof(tm_sum, restarts));
    per_provider(o, sums, n, "parley_translation_breakers_open",
                 "Workers whose circuit breaker for the provider is not closed.",
                 "gauge", offsetof(tm_sum, breaker_open));
    pl_metrics_emit(o, "# HELP parley_translation_tokens_total Tokens counted by the "
                       "provider, by kind.\n# TYPE parley_translation_tokens_total counter\n");
    for (size_t i = 0; i < n; i++) {
        pl_metrics_emit(o, "parley_translation_tokens_total{");
        labels(o, &sums[i]);
        pl_metrics_emit(o, ",kind=\"prompt\"} %llu\nparley_translation_tokens_total{",
                        (unsigned long long)sums[i].prompt_tokens);
        labels(o, &sums[i]);
        pl_metrics_emit(o, ",kind=\"completion\"} %llu\n",
                        (unsigned long long)sums[i].completion_tokens);
    }
    pl_metrics_emit(o, "# HELP parley_translation_provider_failures_total Failed "
                       "attempts by reason.\n"
                       "# TYPE parley_translation_provider_failures_total counter\n");
    for (size_t i = 0; i < n; i++) {
        for (int f = 0; f < FAIL_COUNT; f++) {
            pl_metrics_emit(o, "parley_translation_provider_failures_total{");
            labels(o, &sums[i]);
            pl_metrics_emit(o, ",reason=\"%s\"} %llu\n", fail_names[f],
                            (unsigned long long)sums[i].fail[f]);
        }
    }
    emit_latency(o, sums, n);
    pthread_mutex_unlock(&tm->lock);
}
