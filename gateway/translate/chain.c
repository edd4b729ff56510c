/*
 * The provider chain of one flight: for each provider in order, a circuit
 * breaker, a concurrency slot in a bounded FIFO queue, rpm/tpm buckets,
 * attempts with exponential backoff and jitter (honouring Retry-After) on
 * transient errors, and one stricter retry after a rejected answer; then
 * the next provider; then an explicit failure.
 */
#include "translate_internal.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

enum { BREAKER_CLOSED = 0, BREAKER_OPEN = 1, BREAKER_HALF_OPEN = 2 };

static void try_provider(pl__flight *f);
static void pump(pl__provider *p);
static void latency(pl__provider *p, uint64_t ms);

static uint64_t now_ms(const pl_translate_engine *eng) { return uv_now(eng->loop); }

static pl__provider *current(pl__flight *f) { return &f->eng->providers[f->pi]; }

static void note(pl__flight *f, const char *reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Appends "name: what" to the failure report; `reason` is the short word. */
static void note(pl__flight *f, const char *reason, const char *fmt, ...)
{
    size_t len = strlen(f->failures);
    va_list ap;
    char what[512];

    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (len < sizeof(f->failures) - 1)
        snprintf(f->failures + len, sizeof(f->failures) - len, "%s%s: %s",
                 len ? "; " : "", current(f)->cfg->name, what);
    f->reason = reason;
    pl__explain_add(f, "provider %s: %s\n", current(f)->cfg->name, what);
}

static void release_probe(pl__flight *f)
{
    if (f->probe) {
        current(f)->probe_inflight = 0;
        f->probe = 0;
    }
}

static void breaker_failure(pl__flight *f)
{
    pl__provider *p = current(f);

    if (f->probe || p->breaker == BREAKER_HALF_OPEN) {
        p->breaker = BREAKER_OPEN;
        p->open_until = now_ms(f->eng) + (uint64_t)p->cfg->breaker.open_for;
        release_probe(f);
        return;
    }
    if (++p->consecutive_failures >= (unsigned)p->cfg->breaker.failures &&
        p->breaker == BREAKER_CLOSED) {
        p->breaker = BREAKER_OPEN;
        p->open_until = now_ms(f->eng) + (uint64_t)p->cfg->breaker.open_for;
    }
}

static void breaker_success(pl__flight *f)
{
    pl__provider *p = current(f);

    p->consecutive_failures = 0;
    if (f->probe) {
        p->breaker = BREAKER_CLOSED;
        release_probe(f);
    }
}

static void next_provider(pl__flight *f)
{
    release_probe(f);
    f->pi++;
    f->tries = 0;
    f->strict = 0;
    f->rejection = NULL;
    try_provider(f);
}

/* ---- building one attempt */

static void free_attempt(pl__flight *f)
{
    free(f->system);
    free(f->user);
    free(f->body);
    f->system = f->user = f->body = NULL;
}

static int build_attempt(pl__flight *f)
{
    pl__provider *p = current(f);
    pl__prompt pr = {.req = &f->req, .segments = f->segs, .count = f->count,
                     .strict = f->strict, .rejection = f->rejection};
    pl_arena tmp;
    char *sys, *user;
    int fmt;

    free_attempt(f);
    pl_arena_init(&tmp, 0);
    sys = pl__prompt_system(&tmp, &pr);
    user = pl__prompt_user(&tmp, &pr);
    if (sys != NULL)
        f->system = strdup(sys);
    if (user != NULL)
        f->user = strdup(user);
    pl_arena_free(&tmp);
    if (f->system == NULL || f->user == NULL)
        return PL_ENOMEM;
    fmt = p->cfg->response_format;
    if (fmt == PL_FORMAT_AUTO)
        fmt = p->json_object_only ? PL_FORMAT_JSON_OBJECT : PL_FORMAT_JSON_SCHEMA;
    f->format = fmt;
    f->body = pl__prompt_body(p->cfg->model, p->cfg->temperature,
                              p->cfg->max_tokens, fmt, f->system, f->user);
    if (f->body == NULL)
        return PL_ENOMEM;
    /* Only record and replay look the answer up by the prompt's hash. */
    if (p->replay != NULL || p->record != NULL)
        pl__prompt_key(f->system, f->user, f->prompt_key);
    else
        f->prompt_key[0] = '\0';
    /* A rough token estimate for tpm: four bytes a token, twice for the answer. */
    f->est_tokens = (strlen(f->system) + strlen(f->user)) / 4 * 2 + 16;
    return 0;
}

/* ---- limits */

static void refill(pl__provider *p, uint64_t now)
{
    double elapsed = (double)(now - p->refilled_at);

    p->refilled_at = now;
    if (p->cfg->rpm > 0) {
        p->req_tokens += elapsed * (double)p->cfg->rpm / 60000.0;
        if (p->req_tokens > (double)p->cfg->rpm)
            p->req_tokens = (double)p->cfg->rpm;
    }
    if (p->cfg->tpm > 0) {
        p->tok_tokens += elapsed * (double)p->cfg->tpm / 60000.0;
        if (p->tok_tokens > (double)p->cfg->tpm)
            p->tok_tokens = (double)p->cfg->tpm;
    }
}

/* 0 when `f` may start now (and takes its share), else ms to wait. */
static uint64_t rate_wait(pl__provider *p, pl__flight *f)
{
    double need_tok = (double)f->est_tokens, wait = 0;

    refill(p, now_ms(f->eng));
    if (p->cfg->tpm > 0 && need_tok > (double)p->cfg->tpm)
        need_tok = (double)p->cfg->tpm; /* a huge request waits for a full bucket */
    if (p->cfg->rpm > 0 && p->req_tokens < 1.0)
        wait = (1.0 - p->req_tokens) * 60000.0 / (double)p->cfg->rpm;
    if (p->cfg->tpm > 0 && p->tok_tokens < need_tok) {
        double w = (need_tok - p->tok_tokens) * 60000.0 / (double)p->cfg->tpm;
        if (w > wait)
            wait = w;
    }
    if (wait > 0)
        return (uint64_t)wait + 1;
    if (p->cfg->rpm > 0)
        p->req_tokens -= 1.0;
    if (p->cfg->tpm > 0)
        p->tok_tokens -= (double)f->est_tokens;
    return 0;
}

static void on_rate_timer(uv_timer_t *t)
{
    pl__provider *p = t->data;

    p->rate_timer_armed = 0;
    pump(p);
}

static void queue_remove(pl__provider *p, pl__flight *f)
{
    pl__flight **pp = &p->queue_head, *prev = NULL;

    while (*pp != NULL && *pp != f) {
        prev = *pp;
        pp = &(*pp)->qnext;
    }
    if (*pp == NULL)
        return;
    *pp = f->qnext;
    if (p->queue_tail == f)
        p->queue_tail = prev;
    f->qnext = NULL;
    p->queued--;
}

/* ---- attempts */

static void on_answer(pl__answer *ans, void *arg);

static void on_flight_timer(uv_timer_t *t)
{
    pl__flight *f = t->data;

    if (f->state == FLIGHT_RUNNING && f->replay_content != NULL) {
        pl__answer ans = {.retry_after_ms = -1, .status = 200,
                          .content = f->replay_content};
        f->replay_content = NULL;
        on_answer(&ans, f);
        return;
    }
    if (f->state == FLIGHT_RUNNING) {
        /* A replay miss, reported from the loop like any answer. */
        pl__answer ans = {.retry_after_ms = -1, .status = 404,
                          .error = "replay miss"};
        on_answer(&ans, f);
        return;
    }
    if (f->state == FLIGHT_WAITING) {
        f->state = FLIGHT_IDLE;
        try_provider(f);
    }
}

/* An offline provider's answer: restore the masks, post-edit, done. */
static void on_offline(int status, const char *reason, const char *message,
                       const char *const *texts, const char *mode,
                       const char *pivot, void *arg)
{
    pl__flight *f = arg;
    pl__provider *p = current(f);
    pl_error err;

    f->ap_call = NULL;
    f->state = FLIGHT_IDLE;
    p->inflight--;
    latency(p, now_ms(f->eng) - f->started_at);
    if (status != 0) {
        if (strcmp(reason, "invalid_output") == 0)
            p->st->fail_invalid++;
        else if (strcmp(reason, "timeout") != 0 && strcmp(reason, "no_pair") != 0)
            p->st->fail_transport++;
        /* A missing pair says nothing about the provider's health. */
        if (strcmp(reason, "no_pair") != 0)
            breaker_failure(f);
        note(f, reason, "%s", message);
        next_provider(f);
        pump(p);
        return;
    }
    breaker_success(f);
    pl_error_clear(&err);
    for (size_t i = 0; i < f->count; i++) {
        if (pl__unmask(&f->arena, texts[i], &f->masks[i], &f->results[i], &err) != 0) {
            p->st->fail_invalid++;
            note(f, "invalid_output", "%s (mode %s)", err.message, mode);
            next_provider(f);
            pump(p);
            return;
        }
        if (f->req.postedit != NULL) {
            char *fixed = f->req.postedit(f->results[i], f->req.target_locale,
                                          f->req.postedit_arg);
            if (fixed != NULL) {
                pl__explain_add(f, "post-edit (%s): %s -> %s\n",
                                f->req.postedit_id ? f->req.postedit_id : "-",
                                f->results[i], fixed);
                f->results[i] = pl_arena_strdup(&f->arena, fixed);
                free(fixed);
                if (f->results[i] == NULL) {
                    note(f, "internal", "out of memory");
                    next_provider(f);
                    pump(p);
                    return;
                }
            }
        }
    }
    p->st->successes++;
    f->quality = "offline";
    f->model = pl_arena_strdup(&f->arena, mode);
    f->pivot = pivot[0] ? pl_arena_strdup(&f->arena, pivot) : NULL;
    pl__explain_add(f, "verdict: accepted (offline, mode %s%s%s)\n", mode,
                    pivot[0] ? ", through " : "", pivot);
    pl__flight_succeeded(f, p);
    pump(p);
}

/* Offline providers take the masked segments as they are. */
static void start_offline(pl__flight *f, int64_t timeout)
{
    pl__provider *p = current(f);
    const char **texts = pl_arena_calloc(&f->arena, f->count, sizeof(char *));
    int rc = texts == NULL ? PL_ENOMEM : 0;

    for (size_t i = 0; texts && i < f->count; i++) {
        texts[i] = f->segs[i].text;
        pl__explain_add(f, "segment %s (masked): %s\n", f->segs[i].id, texts[i]);
    }
    if (rc == 0)
        rc = pl__apertium_start(p->ap, f->req.source_language, f->req.target_locale,
                                texts, f->count, timeout, on_offline, f, &f->ap_call);
    if (rc != 0) {
        f->ap_call = NULL;
        p->inflight--;
        note(f, "internal", "cannot start the offline translation (%s)",
             pl_strerror(rc));
        f->state = FLIGHT_IDLE;
        next_provider(f);
    }
}

static void start_attempt(pl__flight *f)
{
    pl__provider *p = current(f);
    uint64_t now = now_ms(f->eng);
    int64_t timeout = p->cfg->timeout;
    int rc;

    if (f->deadline > now && (int64_t)(f->deadline - now) < timeout)
        timeout = (int64_t)(f->deadline - now);
    p->inflight++;
    p->st->requests++;
    f->attempts++;
    f->state = FLIGHT_RUNNING;
    f->started_at = now;
    if (p->ap != NULL) {
        pl__explain_add(f, "attempt %u: provider %s (apertium, offline)\n", f->attempts,
                        p->cfg->name);
        start_offline(f, timeout);
        return;
    }
    pl__explain_add(f,
                    "attempt %u: provider %s (model %s), response_format %s%s\n"
                    "--- system message ---\n%s\n--- user message ---\n%s\n",
                    f->attempts, p->cfg->name, p->cfg->model ? p->cfg->model : "-",
                    f->format == PL_FORMAT_JSON_OBJECT ? "json_object" : "json_schema",
                    f->strict ? ", stricter prompt" : "", f->system, f->user);
    if (p->replay != NULL) {
        f->replay_content = pl__replay_find(p->replay, f->prompt_key);
        uv_timer_start(&f->timer, on_flight_timer, 0, 0);
        return;
    }
    rc = pl__openai_start(p, f->body, timeout, on_answer, f, &f->call);
    if (rc != 0) {
        /* Reported from the loop through the same path as a failed transfer. */
        f->call = NULL;
        p->inflight--;
        p->st->fail_transport++;
        note(f, "upstream_error", "cannot start the request (%s)", pl_strerror(rc));
        f->state = FLIGHT_IDLE;
        next_provider(f);
    }
}

static void enqueue(pl__flight *f)
{
    pl__provider *p = current(f);
    uint64_t wait;

    if (p->queue_head == NULL && p->inflight < (unsigned)p->cfg->concurrency &&
        (wait = rate_wait(p, f)) == 0) {
        start_attempt(f);
        return;
    }
    if (p->queued >= (unsigned)p->cfg->queue) {
        p->st->fail_overload++;
        note(f, "overloaded", "queue full (%u waiting)", p->queued);
        next_provider(f);
        return;
    }
    f->state = FLIGHT_QUEUED;
    f->qnext = NULL;
    if (p->queue_tail)
        p->queue_tail->qnext = f;
    else
        p->queue_head = f;
    p->queue_tail = f;
    p->queued++;
    pump(p);
}

static void pump(pl__provider *p)
{
    while (p->queue_head != NULL && p->inflight < (unsigned)p->cfg->concurrency) {
        pl__flight *f = p->queue_head;
        uint64_t wait = rate_wait(p, f);
        if (wait > 0) {
            if (!p->rate_timer_armed) {
                p->rate_timer_armed = 1;
                uv_timer_start(&p->rate_timer, on_rate_timer, wait, 0);
            }
            return;
        }
        queue_remove(p, f);
        start_attempt(f);
    }
}

static uint64_t backoff_delay(const pl__provider *p, unsigned tries)
{
    uint64_t d = (uint64_t)p->cfg->backoff;

    for (unsigned i = 0; i < tries && d < (uint64_t)p->cfg->backoff_max; i++)
        d *= 2;
    if (d > (uint64_t)p->cfg->backoff_max)
        d = (uint64_t)p->cfg->backoff_max;
    /* Full jitter in the upper half: spreads retries of many flights. */
    return d / 2 + (d > 1 ? (uint64_t)random() % (d / 2 + 1) : 0);
}

static int transient(const pl__answer *ans)
{
    if (ans->transport != 0)
        return 1;
    return ans->status == 408 || ans->status == 429 || ans->status >= 500;
}

static void latency(pl__provider *p, uint64_t ms)
{
    int i = 0;

    while (i < PL_TRANSLATE_LATENCY_BUCKETS && (double)ms > pl_translate_latency_bounds[i])
        i++;
    p->st->latency[i]++;
    p->st->latency_sum_ms += ms;
}

static void on_answer(pl__answer *ans, void *arg)
{
    pl__flight *f = arg;
    pl__provider *p = current(f);
    uint64_t now = now_ms(f->eng);

    f->call = NULL;
    f->state = FLIGHT_IDLE;
    p->inflight--;
    latency(p, now - f->started_at);
    p->st->prompt_tokens += ans->prompt_tokens;
    p->st->completion_tokens += ans->completion_tokens;
    if (p->cfg->tpm > 0 && (ans->prompt_tokens || ans->completion_tokens)) {
        /* Settle the estimate against what the server counted. */
        p->tok_tokens += (double)f->est_tokens -
                         (double)(ans->prompt_tokens + ans->completion_tokens);
    }

    if (p->replay != NULL && ans->content == NULL) {
        note(f, "replay_miss",
             "no recorded answer for key %s in '%s' (record it with a provider "
             "of type record)",
             f->prompt_key, p->cfg->file);
        next_provider(f);
        pump(p);
        return;
    }
    if (transient(ans)) {
        uint64_t delay;
        if (ans->transport == PL_ETIMEDOUT)
            p->st->fail_timeout++;
        else if (ans->transport != 0)
            p->st->fail_transport++;
        else
            p->st->fail_http++;
        breaker_failure(f);
        note(f, ans->transport == PL_ETIMEDOUT ? "timeout" : "upstream_error", "%s",
             ans->error ? ans->error : "transient error");
        if (f->tries >= (unsigned)p->cfg->retries) {
            next_provider(f);
            pump(p);
            return;
        }
        delay = ans->retry_after_ms >= 0 ? (uint64_t)ans->retry_after_ms
                                         : backoff_delay(p, f->tries);
        if (f->deadline != 0 && now + delay >= f->deadline) {
            note(f, "timeout", "no time left for a retry in %llu ms",
                 (unsigned long long)delay);
            next_provider(f);
            pump(p);
            return;
        }
        f->tries++;
        p->st->retries++;
        pl__explain_add(f, "retry %u at %s in %llu ms%s\n", f->tries, p->cfg->name,
                        (unsigned long long)delay,
                        ans->retry_after_ms >= 0 ? " (Retry-After)" : "");
        f->state = FLIGHT_WAITING;
        uv_timer_start(&f->timer, on_flight_timer, delay, 0);
        pump(p);
        return;
    }
    if (ans->status != 200) {
        if (ans->format_unsupported && f->format == PL_FORMAT_JSON_SCHEMA &&
            p->cfg->response_format == PL_FORMAT_AUTO) {
            /* The server lacks json_schema: json_object from now on. */
            p->json_object_only = 1;
            pl__explain_add(f, "provider %s rejected json_schema; using json_object\n",
                            p->cfg->name);
            if (build_attempt(f) == 0) {
                enqueue(f);
                pump(p);
                return;
            }
        }
        p->st->fail_http++;
        breaker_failure(f);
        note(f, "upstream_error", "%s", ans->error ? ans->error : "HTTP error");
        next_provider(f);
        pump(p);
        return;
    }
    /* The server is healthy; what remains is the answer's quality. */
    breaker_success(f);
    {
        pl_error err;
        int rc;

        pl_error_clear(&err);
        if (ans->content == NULL) {
            rc = pl_error_set(&err, PL_ETRANSLATE, "%s",
                              ans->error ? ans->error : "no content");
        } else if (ans->truncated) {
            rc = pl_error_set(&err, PL_ETRANSLATE,
                              "the answer was cut off (finish_reason length)");
        } else {
            pl__validate_in in = {.req = &f->req, .cfg = &f->eng->cfg->validation,
                                  .segments = f->segs, .masks = f->masks,
                                  .count = f->count};
            rc = pl__validate(&f->arena, &in, ans->content, f->results, &err);
        }
        if (rc == 0) {
            p->st->successes++;
            pl__explain_add(f, "verdict: accepted\n");
            f->quality = "llm";
            if (p->record != NULL &&
                pl__record_append(p->record, f->prompt_key, p->cfg->model, f->system,
                                  f->user, ans->content) != 0)
                pl_log_warn("translation: cannot append to the record file '%s'",
                            p->cfg->file);
            pl__flight_succeeded(f, p);
            pump(p);
            return;
        }
        p->st->fail_invalid++;
        pl__explain_add(f, "verdict: rejected: %s\n", err.message);
        if (!f->strict) {
            f->strict = 1;
            f->rejection = pl_arena_strdup(&f->arena, err.message);
            note(f, "invalid_output", "%s; retrying with a stricter prompt",
                 err.message);
            if (build_attempt(f) == 0) {
                enqueue(f);
                pump(p);
                return;
            }
        }
        note(f, "invalid_output", "%s", err.message);
        next_provider(f);
        pump(p);
    }
}

/* Tries the provider at f->pi, skipping those whose breaker is open. */
static void try_provider(pl__flight *f)
{
    while (f->pi < f->eng->nproviders) {
        pl__provider *p = current(f);
        uint64_t now = now_ms(f->eng);

        if (p->breaker == BREAKER_OPEN && now >= p->open_until)
            p->breaker = BREAKER_HALF_OPEN;
        if (p->breaker == BREAKER_OPEN ||
            (p->breaker == BREAKER_HALF_OPEN && p->probe_inflight && !f->probe)) {
            p->st->fail_breaker++;
            note(f, "breaker_open", "circuit breaker open");
            f->pi++;
            f->tries = 0;
            f->strict = 0;
            f->rejection = NULL;
            continue;
        }
        if (p->breaker == BREAKER_HALF_OPEN && !f->probe) {
            p->probe_inflight = 1;
            f->probe = 1;
        }
        if (p->ap == NULL && build_attempt(f) != 0) {
            note(f, "internal", "out of memory");
            next_provider(f);
            return;
        }
        enqueue(f);
        return;
    }
    free_attempt(f);
    pl__flight_failed(f, f->reason != NULL && strcmp(f->reason, "timeout") == 0
                             ? PL_ETIMEDOUT
                             : PL_ETRANSLATE);
}

void pl__chain_start(pl__flight *f)
{
    f->pi = 0;
    f->tries = 0;
    try_provider(f);
}

void pl__chain_abort(pl__flight *f)
{
    pl__provider *p = f->pi < f->eng->nproviders ? current(f) : NULL;

    if (p != NULL) {
        if (f->state == FLIGHT_QUEUED)
            queue_remove(p, f);
        if (f->state == FLIGHT_RUNNING && f->ap_call != NULL) {
            pl__apertium_cancel(f->ap_call);
            f->ap_call = NULL;
            p->inflight--;
        } else if (f->state == FLIGHT_RUNNING) {
            pl__openai_cancel(f->call);
            f->call = NULL;
            f->replay_content = NULL;
            p->inflight--;
        }
        release_probe(f);
    }
    uv_timer_stop(&f->timer);
    f->state = FLIGHT_DONE;
    free_attempt(f);
    if (p != NULL && !f->eng->closing)
        pump(p);
}

static void provider_timer_closed(uv_handle_t *h)
{
    pl__provider *p = h->data;

    p->eng->pending_closes--;
    pl__engine_handle_closing(p->eng);
}

int pl__chain_init(pl_translate_engine *eng, pl_error *err)
{
    const pl_translate_config *cfg = eng->cfg;
    size_t n = cfg->chain.count ? cfg->chain.count : cfg->providers.count;
    size_t fp = 0;

    eng->providers = calloc(n ? n : 1, sizeof(pl__provider));
    eng->pstats = calloc(n ? n : 1, sizeof(pl_translate_provider_stats));
    if (eng->providers == NULL || eng->pstats == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        const pl_translate_provider_config *pc = NULL;
        pl__provider *p = &eng->providers[eng->nproviders];
        const pl_translate_provider_config *all = cfg->providers.items;
        int rc;

        if (cfg->chain.count) {
            int again = 0;
            for (size_t k = 0; k < i; k++)
                again |= strcmp(cfg->chain.items[k], cfg->chain.items[i]) == 0;
            if (again)
                continue; /* a name listed twice is tried at its first place */
            for (size_t k = 0; k < cfg->providers.count; k++)
                if (strcmp(all[k].name, cfg->chain.items[i]) == 0)
                    pc = &all[k];
        } else {
            pc = &all[i];
        }
        if (pc == NULL)
            return pl_error_set(err, PL_ECONFIG, "no provider named '%s'",
                                cfg->chain.items[i]);
        p->cfg = pc;
        p->eng = eng;
        p->curl = eng->curl;
        p->st = &eng->pstats[eng->nproviders];
        p->st->name = pc->name;
        p->st->model = pc->model;
        p->req_tokens = (double)pc->rpm;
        p->tok_tokens = (double)pc->tpm;
        p->refilled_at = uv_now(eng->loop);
        if (pc->type == PL_PROVIDER_APERTIUM)
            snprintf(p->fingerprint, sizeof(p->fingerprint), "apertium:%s",
                     pc->pivot ? pc->pivot : "");
        else
            snprintf(p->fingerprint, sizeof(p->fingerprint), "%s:%s",
                     pc->type == PL_PROVIDER_REPLAY ? "replay" : "openai",
                     pc->model ? pc->model : "");
        if (fp < sizeof(eng->provider_fp))
            fp += (size_t)snprintf(eng->provider_fp + fp, sizeof(eng->provider_fp) - fp,
                                   "%s%s", eng->nproviders ? "|" : "", p->fingerprint);
        eng->nproviders++;
        if (pc->type == PL_PROVIDER_REPLAY) {
            rc = pl__replay_load(pc->file, &p->replay, err);
        } else if (pc->type == PL_PROVIDER_APERTIUM) {
            rc = pl__apertium_new(eng->loop, pc, p->st, &p->ap, err);
        } else {
            rc = pl__openai_init(p, err);
            if (rc == 0 && pc->type == PL_PROVIDER_RECORD) {
                p->record = fopen(pc->file, "a");
                if (p->record == NULL)
                    rc = pl_error_set(err, PL_EIO, "cannot open the record file '%s'",
                                      pc->file);
            }
        }
        if (rc != 0)
            return rc;
    }
    /* Handles only once nothing can fail, so a failed start frees at once. */
    for (size_t i = 0; i < eng->nproviders; i++) {
        uv_timer_init(eng->loop, &eng->providers[i].rate_timer);
        eng->providers[i].rate_timer.data = &eng->providers[i];
        if (eng->providers[i].ap != NULL)
            pl__apertium_open(eng->providers[i].ap);
    }
    eng->timers_ready = 1;
    return 0;
}

static void offline_closed(void *arg)
{
    pl__provider *p = arg;

    p->eng->pending_closes--;
    pl__engine_handle_closing(p->eng);
}

void pl__chain_close(pl_translate_engine *eng)
{
    for (size_t i = 0; i < eng->nproviders; i++) {
        pl__provider *p = &eng->providers[i];
        if (p->ap != NULL) {
            pl__apertium *ap = p->ap;
            p->ap = NULL;
            eng->pending_closes++;
            pl__apertium_close(ap, offline_closed, p);
        }
        pl__openai_free(p);
        pl__replay_free(p->replay);
        p->replay = NULL;
        if (p->record != NULL)
            fclose(p->record);
        p->record = NULL;
        if (eng->timers_ready) {
            uv_timer_stop(&p->rate_timer);
            eng->pending_closes++;
            uv_close((uv_handle_t *)&p->rate_timer, provider_timer_closed);
        }
    }
}
