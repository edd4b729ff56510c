/*
 * The engine: jobs (one per pl_translate_submit), the cache in front of
 * the providers, single-flight (identical work in flight is done once and
 * shared), per-job deadlines, results and metrics. The provider chain of a
 * flight lives in chain.c.
 */
#include "translate_internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

const double pl_translate_latency_bounds[PL_TRANSLATE_LATENCY_BUCKETS] = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000};

#define NBUCKETS (sizeof(((pl_translate_engine *)0)->fbuckets) / sizeof(pl__flight *))

static void maybe_free_engine(pl_translate_engine *eng)
{
    if (!eng->closing || eng->pending_closes != 0)
        return;
    pl__masker_free(eng->masker);
    pl__cache_free(eng->cache);
    free(eng->providers);
    free(eng->pstats);
    if (eng->closed != NULL)
        eng->closed(eng->closed_arg);
    free(eng);
}

void pl__engine_handle_closing(pl_translate_engine *eng) { maybe_free_engine(eng); }

/* ---- request copies */

static const char *dup_or_null(pl_arena *a, const char *s, int *failed)
{
    char *d;

    if (s == NULL)
        return NULL;
    d = pl_arena_strdup(a, s);
    if (d == NULL)
        *failed = 1;
    return d;
}

/* Deep-copies the directives of `src` (and, with `segments`, its segments). */
int pl__copy_request(pl_arena *a, const pl_translate_request *src,
                        pl_translate_request *dst, int segments)
{
    int failed = 0;

    *dst = *src;
    dst->source_language = dup_or_null(a, src->source_language, &failed);
    dst->target_locale = dup_or_null(a, src->target_locale, &failed);
    dst->variety = dup_or_null(a, src->variety, &failed);
    dst->register_ = dup_or_null(a, src->register_, &failed);
    dst->tone = dup_or_null(a, src->tone, &failed);
    dst->instructions = dup_or_null(a, src->instructions, &failed);
    dst->postedit_id = dup_or_null(a, src->postedit_id, &failed);
    if (src->glossary_count) {
        pl_translate_term *g = pl_arena_calloc(a, src->glossary_count, sizeof(*g));
        failed |= g == NULL;
        for (size_t i = 0; g && i < src->glossary_count; i++) {
            g[i].term = dup_or_null(a, src->glossary[i].term, &failed);
            g[i].translation = dup_or_null(a, src->glossary[i].translation, &failed);
        }
        dst->glossary = g;
    }
    if (src->protected_count) {
        const char **p = pl_arena_calloc(a, src->protected_count, sizeof(char *));
        failed |= p == NULL;
        for (size_t i = 0; p && i < src->protected_count; i++)
            p[i] = dup_or_null(a, src->protected_patterns[i], &failed);
        dst->protected_patterns = p;
    }
    if (src->audience_count) {
        const char **p = pl_arena_calloc(a, src->audience_count, sizeof(char *));
        failed |= p == NULL;
        for (size_t i = 0; p && i < src->audience_count; i++)
            p[i] = dup_or_null(a, src->audience_reads[i], &failed);
        dst->audience_reads = p;
    }
    if (segments) {
        pl_translate_segment *s = pl_arena_calloc(a, src->count ? src->count : 1,
                                                  sizeof(*s));
        failed |= s == NULL;
        for (size_t i = 0; s && i < src->count; i++) {
            s[i].id = dup_or_null(a, src->segments[i].id, &failed);
            s[i].text = dup_or_null(a, src->segments[i].text, &failed);
        }
        dst->segments = s;
    } else {
        dst->segments = NULL;
        dst->count = 0;
    }
    return failed ? PL_ENOMEM : 0;
}

static void flight_dispose(pl__flight *f);

/* ---- jobs */

static void publish(pl_translate_engine *eng)
{
    pl_translate_stats st;

    pl_translate_stats_get(eng, &st);
    pl_translate_metrics_publish(eng->metrics, eng->metrics_worker, &st);
}

void pl_translate_engine_set_metrics(pl_translate_engine *eng,
                                     pl_translate_metrics *tm, unsigned worker)
{
    eng->metrics = tm;
    eng->metrics_worker = worker;
    if (tm != NULL)
        publish(eng);
}

static void job_closed(uv_handle_t *h)
{
    pl_translate_job *job = h->data;
    pl_translate_engine *eng = job->eng;

    pl_arena_free(&job->arena);
    free(job);
    eng->pending_closes--;
    maybe_free_engine(eng);
}

static void job_unlink(pl_translate_job *job)
{
    pl_translate_engine *eng = job->eng;

    if (job->prev)
        job->prev->next = job->next;
    else
        eng->jobs = job->next;
    if (job->next)
        job->next->prev = job->prev;
    job->prev = job->next = NULL;
}

static void job_dispose(pl_translate_job *job)
{
    job->state = JOB_DONE;
    job_unlink(job);
    uv_timer_stop(&job->timer);
    job->eng->pending_closes++;
    uv_close((uv_handle_t *)&job->timer, job_closed);
}

static void job_deliver(pl_translate_job *job)
{
    pl_translate_segment *out;
    pl_translate_cb cb = job->cb;
    void *arg = job->arg;

    out = pl_arena_calloc(&job->arena, job->req.count, sizeof(*out));
    if (out == NULL && job->res.status == 0) {
        job->res.status = PL_ENOMEM;
        job->res.reason = "internal";
        job->res.message = "request memory exhausted";
    }
    if (job->res.status == 0) {
        for (size_t i = 0; i < job->req.count; i++) {
            out[i].id = job->req.segments[i].id;
            out[i].text = job->texts[i];
        }
        if (job->offline)
            job->res.quality = "offline";
        else if (!job->res.skipped && job->res.quality == NULL)
            job->res.quality = "llm";
        job->res.segments = out;
        job->res.count = job->req.count;
    } else {
        job->eng->stats.failures++;
        if (job->res.status == PL_ETIMEDOUT)
            job->eng->stats.timeouts++;
    }
    job_dispose(job);
    if (job->eng->metrics != NULL)
        publish(job->eng);
    cb(&job->res, arg);
}

/*
 * Takes `job` out of its single-flight group; the last job to leave an
 * unfinished flight aborts the provider request behind it.
 */
static void job_leave_flight(pl_translate_job *job)
{
    pl__flight *f = job->f;

    if (f == NULL)
        return;
    job->f = NULL;
    if (job->fprev)
        job->fprev->fnext = job->fnext;
    else
        f->jobs = job->fnext;
    if (job->fnext)
        job->fnext->fprev = job->fprev;
    if (f->jobs == NULL && !f->completing) {
        pl__chain_abort(f);
        f->completing = 1;
        flight_dispose(f);
    }
}

static void on_job_timer(uv_timer_t *t)
{
    pl_translate_job *job = t->data;

    if (job->state == JOB_READY) {
        job_deliver(job);
        return;
    }
    /* The deadline passed: leave the flight (it goes on for others). */
    job_leave_flight(job);
    job->res.status = PL_ETIMEDOUT;
    job->res.reason = "timeout";
    job->res.message = "the translation did not finish before its deadline";
    job_deliver(job);
}

/* Completes a job on the next loop iteration, never inside submit(). */
static void job_ready(pl_translate_job *job)
{
    job->state = JOB_READY;
    uv_timer_start(&job->timer, on_job_timer, 0, 0);
}

/* ---- flights */

static size_t fbucket(const unsigned char key[32])
{
    uint64_t h;

    memcpy(&h, key, sizeof(h));
    return (size_t)(h % NBUCKETS);
}

static void flight_closed(uv_handle_t *h)
{
    pl__flight *f = h->data;
    pl_translate_engine *eng = f->eng;

    free(f->explain);
    free(f->system);
    free(f->user);
    free(f->body);
    pl_arena_free(&f->arena);
    free(f);
    eng->pending_closes--;
    maybe_free_engine(eng);
}

static void flight_dispose(pl__flight *f)
{
    pl_translate_engine *eng = f->eng;

    if (f->keyed) {
        pl__flight **pp = &eng->fbuckets[fbucket(f->key)];
        while (*pp != NULL && *pp != f)
            pp = &(*pp)->hnext;
        if (*pp == f)
            *pp = f->hnext;
        f->keyed = 0;
    }
    if (f->prev)
        f->prev->next = f->next;
    else
        eng->flights = f->next;
    if (f->next)
        f->next->prev = f->prev;
    f->state = FLIGHT_DONE;
    uv_timer_stop(&f->timer);
    eng->pending_closes++;
    uv_close((uv_handle_t *)&f->timer, flight_closed);
}

void pl__explain_add(pl__flight *f, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *grown;

    if (!f->want_explain)
        return;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0 || f->explain_len + (size_t)n + 1 > PL_TRANSLATE_MAX_EXPLAIN)
        return;
    grown = realloc(f->explain, f->explain_len + (size_t)n + 1);
    if (grown == NULL)
        return;
    f->explain = grown;
    va_start(ap, fmt);
    vsnprintf(f->explain + f->explain_len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    f->explain_len += (size_t)n;
}

static void finish_waiters(pl__flight *f, int status, const pl__provider *p)
{
    pl_translate_job *job;

    f->completing = 1;
    while ((job = f->jobs) != NULL) {
        f->jobs = job->fnext;
        if (f->jobs)
            f->jobs->fprev = NULL;
        job->f = NULL;
        job->fnext = job->fprev = NULL;
        job->res.attempts = f->attempts;
        if (f->explain != NULL && job->req.explain)
            job->res.explain = pl_arena_strdup(&job->arena, f->explain);
        if (status == 0) {
            for (size_t i = 0; i < job->nmiss; i++) {
                job->texts[job->miss[i]] = pl_arena_strdup(&job->arena, f->results[i]);
                if (job->texts[job->miss[i]] == NULL)
                    status = PL_ENOMEM;
            }
            job->res.provider = p->cfg->name;
            job->res.model = f->model ? pl_arena_strdup(&job->arena, f->model)
                                      : p->cfg->model;
            job->res.quality = f->quality;
            if (f->quality != NULL && strcmp(f->quality, "offline") == 0)
                job->offline = 1;
            if (f->pivot != NULL)
                job->res.pivot = pl_arena_strdup(&job->arena, f->pivot);
        }
        if (status != 0) {
            job->res.status = status;
            job->res.reason = status == PL_ENOMEM ? "internal"
                              : f->reason ? f->reason : "upstream_error";
            job->res.message = pl_arena_strdup(
                &job->arena, f->failures[0] ? f->failures : pl_strerror(status));
        }
        job_ready(job);
    }
    flight_dispose(f);
}

void pl__flight_succeeded(pl__flight *f, const pl__provider *p)
{
    pl_translate_engine *eng = f->eng;

    unsigned flags = f->quality != NULL && strcmp(f->quality, "offline") == 0
                         ? PL__CACHE_OFFLINE
                         : 0;

    if (eng->cache != NULL && !f->req.no_cache)
        for (size_t i = 0; i < f->count; i++)
            pl__cache_put_flags(eng->cache, f->keys[i], f->results[i], flags,
                                uv_now(eng->loop));
    f->state = FLIGHT_DONE;
    finish_waiters(f, 0, p);
}

void pl__flight_failed(pl__flight *f, int status)
{
    f->state = FLIGHT_DONE;
    finish_waiters(f, status, NULL);
}

static void flight_attach(pl__flight *f, pl_translate_job *job)
{
    job->f = f;
    job->fprev = NULL;
    job->fnext = f->jobs;
    if (f->jobs)
        f->jobs->fprev = job;
    f->jobs = job;
    if (job->deadline > f->deadline)
        f->deadline = job->deadline;
}

/* A new flight for the job's cache misses; masks them. */
static int flight_new(pl_translate_engine *eng, pl_translate_job *job,
                      const unsigned char key[32], int keyed, pl__flight **out,
                      pl_error *err)
{
    pl__flight *f = calloc(1, sizeof(*f));
    pl__mask_opts mo;
    int rc;

    *out = NULL;
    if (f == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    f->eng = eng;
    pl_arena_init(&f->arena, PL_TRANSLATE_JOB_ARENA);
    rc = pl__copy_request(&f->arena, &job->req, &f->req, 0);
    f->count = job->nmiss;
    f->segs = pl_arena_calloc(&f->arena, f->count, sizeof(*f->segs));
    f->masks = pl_arena_calloc(&f->arena, f->count, sizeof(*f->masks));
    f->keys = pl_arena_calloc(&f->arena, f->count, 32);
    f->results = pl_arena_calloc(&f->arena, f->count, sizeof(char *));
    if (rc != 0 || !f->segs || !f->masks || !f->keys || !f->results) {
        rc = pl_error_set(err, PL_ENOMEM, "out of memory");
        goto fail;
    }
    mo = (pl__mask_opts){.classes = eng->cfg->mask_classes,
                         .glossary = f->req.glossary,
                         .glossary_count = f->req.glossary_count,
                         .protected_patterns = f->req.protected_patterns,
                         .protected_count = f->req.protected_count};
    for (size_t i = 0; i < f->count; i++) {
        size_t k = job->miss[i];
        rc = pl__mask(eng->masker, &f->arena, job->req.segments[k].text, &mo,
                      &f->masks[i], err);
        if (rc != 0)
            goto fail;
        f->segs[i].id = pl_arena_printf(&f->arena, "s%zu", i + 1);
        f->segs[i].text = f->masks[i].text;
        memcpy(f->keys[i], job->keys[k], 32);
        if (f->segs[i].id == NULL) {
            rc = pl_error_set(err, PL_ENOMEM, "out of memory");
            goto fail;
        }
    }
    f->want_explain = job->req.explain;
    f->keyed = keyed;
    memcpy(f->key, key, 32);
    uv_timer_init(eng->loop, &f->timer);
    f->timer.data = f;
    f->next = eng->flights;
    if (eng->flights)
        eng->flights->prev = f;
    eng->flights = f;
    if (keyed) {
        size_t b = fbucket(key);
        f->hnext = eng->fbuckets[b];
        eng->fbuckets[b] = f;
    }
    *out = f;
    return 0;

fail:
    pl_arena_free(&f->arena);
    free(f);
    return rc;
}

static pl__flight *flight_find(pl_translate_engine *eng, const unsigned char key[32])
{
    for (pl__flight *f = eng->fbuckets[fbucket(key)]; f != NULL; f = f->hnext)
        if (f->keyed && !f->completing && memcmp(f->key, key, 32) == 0)
            return f;
    return NULL;
}

/* ---- submit */

static int same_language(const char *a, const char *b)
{
    size_t la = strcspn(a, "-_"), lb = strcspn(b, "-_");

    return la == lb && la > 0 && strncasecmp(a, b, la) == 0;
}

static int needs_no_translation(const pl_translate_engine *eng,
                                const pl_translate_request *req)
{
    const char *src = req->source_language;

    if (!eng->cfg->skip_same_language || src == NULL || src[0] == '\0')
        return 0;
    if (same_language(src, req->target_locale))
        return 1;
    for (size_t i = 0; i < req->audience_count; i++)
        if (req->audience_reads[i] && same_language(src, req->audience_reads[i]))
            return 1;
    return 0;
}

static int blank(const char *s)
{
    while (*s && isspace((unsigned char)*s))
        s++;
    return *s == '\0';
}

static int check_request(const pl_translate_request *req, pl_error *err)
{
    if (req->target_locale == NULL || req->target_locale[0] == '\0')
        return pl_error_set(err, PL_EINVAL, "no target locale");
    if (req->count == 0 || req->segments == NULL)
        return pl_error_set(err, PL_EINVAL, "no segments");
    if (req->count > PL_TRANSLATE_MAX_SEGMENTS)
        return pl_error_set(err, PL_ELIMIT, "more than %d segments",
                            PL_TRANSLATE_MAX_SEGMENTS);
    for (size_t i = 0; i < req->count; i++) {
        const pl_translate_segment *s = &req->segments[i];
        if (s->id == NULL || s->id[0] == '\0' || s->text == NULL)
            return pl_error_set(err, PL_EINVAL, "segment %zu lacks an id or text", i);
        if (strlen(s->text) > PL_TRANSLATE_MAX_TEXT)
            return pl_error_set(err, PL_ELIMIT, "segment '%s' is too long", s->id);
        for (size_t k = 0; k < i; k++)
            if (strcmp(req->segments[k].id, s->id) == 0)
                return pl_error_set(err, PL_EINVAL, "duplicate segment id '%s'", s->id);
    }
    return 0;
}

int pl_translate_request_check(pl_translate_engine *eng,
                               const pl_translate_request *req, pl_error *err)
{
    pl__mask_opts mo = {.classes = PL_MASK_PROTECTED,
                        .protected_patterns = req->protected_patterns,
                        .protected_count = req->protected_count};
    pl__masked m;
    pl_arena a;
    int rc;

    if ((rc = check_request(req, err)) != 0)
        return rc;
    pl_arena_init(&a, 0);
    rc = pl__mask(eng->masker, &a, "x", &mo, &m, err);
    pl_arena_free(&a);
    return rc;
}

int pl_translate_submit(pl_translate_engine *eng, const pl_translate_request *req,
                        pl_translate_cb cb, void *arg, pl_translate_job **out)
{
    pl_translate_job *job;
    pl_error err;
    int rc;
    uint64_t now = uv_now(eng->loop);
    int64_t timeout;

    if (out != NULL)
        *out = NULL;
    if (eng->closing)
        return PL_ESTATE;
    if ((rc = check_request(req, &err)) != 0)
        return rc;
    job = calloc(1, sizeof(*job));
    if (job == NULL)
        return PL_ENOMEM;
    job->eng = eng;
    job->cb = cb;
    job->arg = arg;
    pl_arena_init(&job->arena, PL_TRANSLATE_JOB_ARENA);
    rc = pl__copy_request(&job->arena, req, &job->req, 1);
    job->texts = pl_arena_calloc(&job->arena, req->count, sizeof(char *));
    job->keys = pl_arena_calloc(&job->arena, req->count, 32);
    job->miss = pl_arena_calloc(&job->arena, req->count, sizeof(size_t));
    if (rc != 0 || !job->texts || !job->keys || !job->miss) {
        pl_arena_free(&job->arena);
        free(job);
        return PL_ENOMEM;
    }
    timeout = req->timeout_ms > 0 ? req->timeout_ms : eng->cfg->timeout;
    job->deadline = now + (uint64_t)timeout;
    eng->stats.jobs++;

    if (needs_no_translation(eng, &job->req)) {
        for (size_t i = 0; i < req->count; i++)
            job->texts[i] = job->req.segments[i].text;
        job->res.skipped = 1;
        eng->stats.skipped++;
    } else {
        for (size_t i = 0; i < req->count; i++) {
            const char *text = job->req.segments[i].text, *hit = NULL;
            unsigned flags = 0;
            if (blank(text)) {
                job->texts[i] = text;
                continue;
            }
            rc = pl__cache_key(&job->req, text, eng->cfg->mask_classes,
                               eng->provider_fp, job->keys[i]);
            if (rc != 0)
                goto fail;
            if (eng->cache != NULL && !req->no_cache)
                hit = pl__cache_get_flags(eng->cache, job->keys[i], now, &flags);
            if (hit != NULL) {
                if (flags & PL__CACHE_OFFLINE)
                    job->offline = 1;
                job->texts[i] = pl_arena_strdup(&job->arena, hit);
                eng->stats.cache_hits++;
                continue;
            }
            eng->stats.cache_misses++;
            job->miss[job->nmiss++] = i;
        }
        job->res.cached = job->nmiss == 0;
    }

    uv_timer_init(eng->loop, &job->timer);
    job->timer.data = job;
    job->next = eng->jobs;
    if (eng->jobs)
        eng->jobs->prev = job;
    eng->jobs = job;

    if (job->nmiss == 0) {
        job_ready(job);
    } else {
        /* The flight key: the misses' keys in order. */
        unsigned char fkey[32];
        unsigned int mdlen;
        int keyed = !req->explain && !req->no_cache;
        pl__flight *f = NULL;
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();

        if (ctx == NULL) {
            rc = PL_ENOMEM;
            goto fail_linked;
        }
        EVP_DigestInit_ex(ctx, pl__sha256(), NULL);
        for (size_t i = 0; i < job->nmiss; i++)
            EVP_DigestUpdate(ctx, job->keys[job->miss[i]], 32);
        EVP_DigestFinal_ex(ctx, fkey, &mdlen);
        EVP_MD_CTX_free(ctx);
        if (keyed && (f = flight_find(eng, fkey)) != NULL) {
            eng->stats.coalesced++;
            flight_attach(f, job);
        } else {
            rc = flight_new(eng, job, fkey, keyed, &f, &err);
            if (rc != 0)
                goto fail_linked;
            flight_attach(f, job);
            pl__chain_start(f);
        }
        if (job->state == JOB_PENDING)
            uv_timer_start(&job->timer, on_job_timer, (uint64_t)timeout, 0);
    }
    if (out != NULL)
        *out = job;
    return 0;

fail_linked:
    job->cb = NULL;
    job_dispose(job);
    return rc;

fail:
    pl_arena_free(&job->arena);
    free(job);
    return rc;
}

void pl_translate_cancel(pl_translate_job *job)
{
    if (job->state == JOB_DONE)
        return;
    job_leave_flight(job);
    job_dispose(job);
}

/* ---- engine */

int pl_translate_engine_new(uv_loop_t *loop, pl_curl_loop *curl,
                            const pl_translate_config *cfg,
                            pl_translate_engine **out, pl_error *err)
{
    pl_translate_engine *eng = calloc(1, sizeof(*eng));
    int rc;

    *out = NULL;
    if (eng == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    eng->loop = loop;
    eng->curl = curl;
    eng->cfg = cfg;
    if ((rc = pl__masker_new(&eng->masker, err)) != 0)
        goto fail;
    if (cfg->cache.enabled &&
        pl__cache_new(cfg->cache.max_bytes, cfg->cache.ttl, &eng->cache) != 0) {
        rc = pl_error_set(err, PL_ENOMEM, "out of memory");
        goto fail;
    }
    if (cfg->providers.count == 0) {
        rc = pl_error_set(err, PL_ECONFIG, "translation has no providers");
        goto fail;
    }
    if ((rc = pl__chain_init(eng, err)) != 0)
        goto fail;
    eng->stats.providers = eng->pstats;
    eng->stats.provider_count = eng->nproviders;
    *out = eng;
    return 0;

fail:
    /* No handle exists before pl__chain_init() succeeded. */
    pl__chain_close(eng);
    pl__masker_free(eng->masker);
    pl__cache_free(eng->cache);
    free(eng->providers);
    free(eng->pstats);
    free(eng);
    return rc;
}

void pl_translate_engine_close(pl_translate_engine *eng,
                               void (*closed)(void *arg), void *arg)
{
    eng->closing = 1;
    eng->closed = closed;
    eng->closed_arg = arg;
    while (eng->flights != NULL) {
        pl__flight *f = eng->flights;
        pl_translate_job *job;
        pl__chain_abort(f);
        f->completing = 1;
        while ((job = f->jobs) != NULL) {
            f->jobs = job->fnext;
            job->f = NULL;
        }
        flight_dispose(f);
    }
    while (eng->jobs != NULL)
        job_dispose(eng->jobs);
    pl__chain_close(eng);
    maybe_free_engine(eng);
}

void pl_translate_stats_get(const pl_translate_engine *eng, pl_translate_stats *out)
{
    *out = eng->stats;
    if (eng->cache != NULL)
        pl__cache_usage(eng->cache, &out->cache_bytes, &out->cache_entries);
    for (size_t i = 0; i < eng->nproviders; i++) {
        const pl__provider *p = &eng->providers[i];
        p->st->breaker_state = p->breaker;
    }
    out->providers = eng->pstats;
    out->provider_count = eng->nproviders;
}
