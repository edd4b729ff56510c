/*
 * Metrics registry: one shard per worker, each written by its worker only
 * (relaxed atomic loads and stores, no read-modify-write), summed by the
 * admin thread when /metrics is scraped.
 */
#include "parley/metrics.h"
#include "parley/policy.h"
#include "parley/error.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 14
static const double bucket_bounds[BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1,    0.25,  0.5,    1,     2.5,  5,     10};

/* Distinct (route, method, status, protocol) series per worker. */
#define SERIES_SLOTS 512
#define LABEL_MAX 64

typedef _Atomic uint64_t counter;

#define BUMP(x, d)                                                          \
    atomic_store_explicit(&(x),                                             \
                          atomic_load_explicit(&(x), memory_order_relaxed) + \
                              (uint64_t)(d),                                \
                          memory_order_relaxed)
#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

typedef struct series {
    atomic_int used; /* published after the labels were written */
    char route[LABEL_MAX];
    char method[16];
    int status;
    int proto;
    counter count;
} series;

typedef struct histogram {
    counter buckets[BUCKETS + 1]; /* the last one is +Inf */
    counter sum_ns;
    counter count;
} histogram;

struct pl_metrics_shard {
    series series[SERIES_SLOTS];
    counter overflow; /* requests whose series did not fit */
    histogram total, upstream;
    counter conns[PL_PROTO_COUNT]; /* opened minus closed, wraps below 0 */
    counter inflight;
    counter uperr[PL_UPERR_COUNT];
    counter h2_abuse[PL_H2_ABUSE_COUNT];
    counter bytes_in, bytes_out;
};

static pl_metrics_shard *shards;
static unsigned nshards;
static counter reloads_ok, reloads_failed;

static const char *const uperr_names[PL_UPERR_COUNT] = {
    "connect", "timeout", "reset", "protocol", "tls", "other"};
static const char *const abuse_names[PL_H2_ABUSE_COUNT] = {
    "rapid_reset", "continuation_flood", "control_frame_flood",
    "queue_flood", "protocol_error"};

int pl_metrics_init(unsigned n)
{
    shards = calloc(n ? n : 1, sizeof(*shards));
    if (shards == NULL)
        return PL_ENOMEM;
    nshards = n ? n : 1;
    return 0;
}

void pl_metrics_free(void)
{
    free(shards);
    shards = NULL;
    nshards = 0;
}

pl_metrics_shard *pl_metrics_shard_get(unsigned i)
{
    return shards != NULL && i < nshards ? &shards[i] : NULL;
}

static uint64_t hash_labels(const char *route, const char *method, int status,
                            int proto)
{
    uint64_t h = 1469598103934665603ULL;

    for (const char *p = route; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    for (const char *p = method; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    h = (h ^ (uint64_t)status) * 1099511628211ULL;
    h = (h ^ (uint64_t)proto) * 1099511628211ULL;
    return h;
}

static series *find_series(pl_metrics_shard *m, const char *route,
                           const char *method, int status, int proto)
{
    uint64_t h = hash_labels(route, method, status, proto);

    for (unsigned probe = 0; probe < SERIES_SLOTS; probe++) {
        series *s = &m->series[(h + probe) % SERIES_SLOTS];
        if (!atomic_load_explicit(&s->used, memory_order_acquire)) {
            snprintf(s->route, sizeof(s->route), "%s", route);
            snprintf(s->method, sizeof(s->method), "%s", method);
            s->status = status;
            s->proto = proto;
            atomic_store_explicit(&s->used, 1, memory_order_release);
            return s;
        }
        if (s->status == status && s->proto == proto &&
            strncmp(s->route, route, LABEL_MAX - 1) == 0 &&
            strncmp(s->method, method, sizeof(s->method) - 1) == 0)
            return s;
    }
    return NULL;
}

static void observe(histogram *h, uint64_t ns)
{
    double sec = (double)ns / 1e9;
    int i = 0;

    while (i < BUCKETS && sec > bucket_bounds[i])
        i++;
    BUMP(h->buckets[i], 1);
    BUMP(h->sum_ns, ns);
    BUMP(h->count, 1);
}

static const char *known_method(const char *method)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "DELETE",
                                        "PATCH", "OPTIONS", NULL};
    for (int i = 0; known[i]; i++)
        if (strcmp(method, known[i]) == 0)
            return known[i];
    return "other"; /* keeps the label set bounded */
}

void pl_metrics_request(pl_metrics_shard *m, const char *route,
                        const char *method, int status, pl_proto proto,
                        uint64_t total_ns, uint64_t upstream_ns,
                        uint64_t bytes_in, uint64_t bytes_out)
{
    series *s;

    if (m == NULL)
        return;
    s = find_series(m, route ? route : "", known_method(method ? method : ""),
                    status, (int)proto);
    if (s != NULL)
        BUMP(s->count, 1);
    else
        BUMP(m->overflow, 1);
    observe(&m->total, total_ns);
    if (upstream_ns > 0)
        observe(&m->upstream, upstream_ns);
    BUMP(m->bytes_in, bytes_in);
    BUMP(m->bytes_out, bytes_out);
}

void pl_metrics_conn(pl_metrics_shard *m, pl_proto proto, int delta)
{
    if (m != NULL && proto < PL_PROTO_COUNT)
        BUMP(m->conns[proto], (int64_t)delta);
}

void pl_metrics_inflight(pl_metrics_shard *m, int delta)
{
    if (m != NULL)
        BUMP(m->inflight, (int64_t)delta);
}

void pl_metrics_upstream_error(pl_metrics_shard *m, pl_upstream_error_kind k)
{
    if (m != NULL && k < PL_UPERR_COUNT)
        BUMP(m->uperr[k], 1);
}

void pl_metrics_h2_abuse(pl_metrics_shard *m, pl_h2_abuse_kind k)
{
    if (m != NULL && k < PL_H2_ABUSE_COUNT)
        BUMP(m->h2_abuse[k], 1);
}

void pl_metrics_reload(int ok)
{
    atomic_fetch_add(ok ? &reloads_ok : &reloads_failed, 1);
}

/* ---- rendering ---- */

struct pl_metrics_out {
    char *buf;
    size_t len, cap;
    int failed;
};
typedef struct pl_metrics_out out;

/* Collectors of other modules; the lock keeps removal and rendering apart. */
static pthread_mutex_t collectors_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
    pl_metrics_collector fn;
    void *arg;
} collectors[PL_METRICS_MAX_COLLECTORS];
static size_t ncollectors;

int pl_metrics_collector_add(pl_metrics_collector fn, void *arg)
{
    int rc = 0;

    pthread_mutex_lock(&collectors_lock);
    if (ncollectors == PL_METRICS_MAX_COLLECTORS) {
        rc = PL_ELIMIT;
    } else {
        collectors[ncollectors].fn = fn;
        collectors[ncollectors].arg = arg;
        ncollectors++;
    }
    pthread_mutex_unlock(&collectors_lock);
    return rc;
}

void pl_metrics_collector_remove(pl_metrics_collector fn, void *arg)
{
    pthread_mutex_lock(&collectors_lock);
    for (size_t i = 0; i < ncollectors; i++) {
        if (collectors[i].fn == fn && collectors[i].arg == arg) {
            memmove(&collectors[i], &collectors[i + 1],
                    (ncollectors - i - 1) * sizeof(collectors[0]));
            ncollectors--;
            break;
        }
    }
    pthread_mutex_unlock(&collectors_lock);
}

static void emitv(out *o, const char *fmt, va_list args)
{
    va_list ap;
    int n;

    if (o->failed)
        return;
    for (;;) {
        va_copy(ap, args);
        n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            o->failed = 1;
            return;
        }
        if ((size_t)n < o->cap - o->len) {
            o->len += (size_t)n;
            return;
        }
        size_t cap = o->cap * 2 + (size_t)n;
        char *nb = realloc(o->buf, cap);
        if (nb == NULL) {
            o->failed = 1;
            return;
        }
        o->buf = nb;
        o->cap = cap;
    }
}

static void emit(out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void emit(out *o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    emitv(o, fmt, ap);
    va_end(ap);
}

void pl_metrics_emit(pl_metrics_out *o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    emitv(o, fmt, ap);
    va_end(ap);
}

/* Label values are config names and method tokens; escape what Prometheus
 * requires anyway. */
static void emit_label(out *o, const char *v)
{
    for (; *v; v++) {
        if (*v == '"' || *v == '\\')
            emit(o, "\\%c", *v);
        else if (*v == '\n')
            emit(o, "\\n");
        else
            emit(o, "%c", *v);
    }
}

void pl_metrics_emit_label(pl_metrics_out *o, const char *value)
{
    emit_label(o, value);
}

static uint64_t sum_counter(size_t offset)
{
    uint64_t v = 0;

    for (unsigned i = 0; i < nshards; i++)
        v += LOAD(*(counter *)((char *)&shards[i] + offset));
    return v;
}

#define SUM(field) sum_counter(offsetof(pl_metrics_shard, field))

static void emit_histogram(out *o, const char *name, const char *help,
                           size_t offset)
{
    uint64_t cum = 0, count = 0, sum_ns = 0;

    emit(o, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (int b = 0; b <= BUCKETS; b++) {
        for (unsigned i = 0; i < nshards; i++) {
            histogram *h = (histogram *)((char *)&shards[i] + offset);
            cum += LOAD(h->buckets[b]);
        }
        if (b < BUCKETS)
            emit(o, "%s_bucket{le=\"%g\"} %llu\n", name, bucket_bounds[b],
                 (unsigned long long)cum);
        else
            emit(o, "%s_bucket{le=\"+Inf\"} %llu\n", name,
                 (unsigned long long)cum);
    }
    for (unsigned i = 0; i < nshards; i++) {
        histogram *h = (histogram *)((char *)&shards[i] + offset);
        count += LOAD(h->count);
        sum_ns += LOAD(h->sum_ns);
    }
    emit(o, "%s_sum %.6f\n%s_count %llu\n", name, (double)sum_ns / 1e9, name,
         (unsigned long long)count);
}

static void emit_requests(out *o)
{
    emit(o, "# HELP parley_requests_total Requests answered, by route, "
            "method, status and client protocol.\n"
            "# TYPE parley_requests_total counter\n");
    for (unsigned i = 0; i < nshards; i++) {
        for (unsigned j = 0; j < SERIES_SLOTS; j++) {
            series *s = &shards[i].series[j];
            int seen = 0;
            uint64_t total = 0;
            if (!atomic_load_explicit(&s->used, memory_order_acquire))
                continue;
            /* Print each label set once: at its first shard and slot. */
            for (unsigned k = 0; k <= i && !seen; k++) {
                for (unsigned l = 0; l < SERIES_SLOTS; l++) {
                    series *t = &shards[k].series[l];
                    if (k == i && l == j)
                        break;
                    if (atomic_load_explicit(&t->used, memory_order_acquire) &&
                        t->status == s->status && t->proto == s->proto &&
                        strcmp(t->route, s->route) == 0 &&
                        strcmp(t->method, s->method) == 0) {
                        seen = 1;
                        break;
                    }
                }
            }
            if (seen)
                continue;
            for (unsigned k = i; k < nshards; k++) {
                for (unsigned l = 0; l < SERIES_SLOTS; l++) {
                    series *t = &shards[k].series[l];
                    if (atomic_load_explicit(&t->used, memory_order_acquire) &&
                        t->status == s->status && t->proto == s->proto &&
                        strcmp(t->route, s->route) == 0 &&
                        strcmp(t->method, s->method) == 0)
                        total += LOAD(t->count);
                }
            }
            emit(o, "parley_requests_total{route=\"");
            emit_label(o, s->route);
            emit(o, "\",method=\"%s\",status=\"%d\",protocol=\"%s\"} %llu\n",
                 s->method, s->status, pl_proto_name((pl_proto)s->proto),
                 (unsigned long long)total);
        }
    }
    emit(o, "# HELP parley_requests_unlabelled_total Requests counted "
            "without labels (label sets over the per-worker limit).\n"
            "# TYPE parley_requests_unlabelled_total counter\n"
            "parley_requests_unlabelled_total %llu\n",
         (unsigned long long)SUM(overflow));
}

char *pl_metrics_render(size_t *len)
{
    out o = {.cap = 8192};

    o.buf = malloc(o.cap);
    if (o.buf == NULL)
        return NULL;
    o.buf[0] = '\0';
    if (shards != NULL) {
        emit_requests(&o);
        emit_histogram(&o, "parley_request_duration_seconds",
                       "Time from request head to the end of the response.",
                       offsetof(pl_metrics_shard, total));
        emit_histogram(&o, "parley_upstream_duration_seconds",
                       "Time from the upstream request to the end of its "
                       "response.",
                       offsetof(pl_metrics_shard, upstream));
        emit(&o, "# HELP parley_requests_in_flight Requests being served.\n"
                 "# TYPE parley_requests_in_flight gauge\n"
                 "parley_requests_in_flight %lld\n",
             (long long)SUM(inflight));
        emit(&o, "# HELP parley_connections Open client connections by "
                 "protocol.\n# TYPE parley_connections gauge\n");
        for (int p = 0; p < PL_PROTO_COUNT; p++)
            emit(&o, "parley_connections{protocol=\"%s\"} %lld\n",
                 pl_proto_name((pl_proto)p),
                 (long long)sum_counter(offsetof(pl_metrics_shard, conns) +
                                        (size_t)p * sizeof(counter)));
        emit(&o, "# HELP parley_upstream_errors_total Failed upstream "
                 "requests by kind.\n"
                 "# TYPE parley_upstream_errors_total counter\n");
        for (int k = 0; k < PL_UPERR_COUNT; k++)
            emit(&o, "parley_upstream_errors_total{kind=\"%s\"} %llu\n",
                 uperr_names[k],
                 (unsigned long long)sum_counter(
                     offsetof(pl_metrics_shard, uperr) +
                     (size_t)k * sizeof(counter)));
        emit(&o, "# HELP parley_http2_abuse_closes_total HTTP/2 connections "
                 "closed with GOAWAY for protocol abuse.\n"
                 "# TYPE parley_http2_abuse_closes_total counter\n");
        for (int k = 0; k < PL_H2_ABUSE_COUNT; k++)
            emit(&o, "parley_http2_abuse_closes_total{kind=\"%s\"} %llu\n",
                 abuse_names[k],
                 (unsigned long long)sum_counter(
                     offsetof(pl_metrics_shard, h2_abuse) +
                     (size_t)k * sizeof(counter)));
        emit(&o, "# HELP parley_received_bytes_total Request body bytes "
                 "received from clients.\n"
                 "# TYPE parley_received_bytes_total counter\n"
                 "parley_received_bytes_total %llu\n"
                 "# HELP parley_sent_bytes_total Response body bytes sent to "
                 "clients.\n# TYPE parley_sent_bytes_total counter\n"
                 "parley_sent_bytes_total %llu\n",
             (unsigned long long)SUM(bytes_in),
             (unsigned long long)SUM(bytes_out));
    }
    emit(&o, "# HELP parley_config_reloads_total Configuration reloads by "
             "result.\n# TYPE parley_config_reloads_total counter\n"
             "parley_config_reloads_total{result=\"ok\"} %llu\n"
             "parley_config_reloads_total{result=\"rejected\"} %llu\n",
         (unsigned long long)atomic_load(&reloads_ok),
         (unsigned long long)atomic_load(&reloads_failed));
    {
        /* Policy sets reload on their own too (folder changes). */
        pl_policy_reload_stats ps = pl_policy_reload_stats_get();
        emit(&o, "# HELP parley_policy_reloads_total Policy set reloads by "
                 "result.\n# TYPE parley_policy_reloads_total counter\n"
                 "parley_policy_reloads_total{result=\"ok\"} %llu\n"
                 "parley_policy_reloads_total{result=\"rejected\"} %llu\n",
             (unsigned long long)ps.reloads, (unsigned long long)ps.failures);
    }
    pthread_mutex_lock(&collectors_lock);
    for (size_t i = 0; i < ncollectors; i++)
        collectors[i].fn(&o, collectors[i].arg);
    pthread_mutex_unlock(&collectors_lock);
    if (o.failed) {
        free(o.buf);
        return NULL;
    }
    *len = o.len;
    return o.buf;
}
