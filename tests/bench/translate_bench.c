/*
 * Benchmark of the translation engine against a fake OpenAI-compatible
 * server that answers every request after a fixed latency L. The fake is
 * written in C on its own libuv loop and thread, so that it is not the
 * bottleneck (a Python fake would be, at 1,000 concurrent requests).
 *
 * Measures, with uv_hrtime():
 *   - added latency per translation (time from submit to result, minus L),
 *     one at a time and with 1,000 translations in flight;
 *   - Parley's share of each request, without the fake's hold time:
 *     (request at the fake - submit) + (callback - answer sent);
 *   - the engine thread's CPU time per translation;
 *   - throughput with 1,000 translations in flight;
 *   - the cache-hit path: the cost of pl_translate_submit() for a cached
 *     text, and from submit to the result callback.
 *
 *   translate_bench [-l LATENCY_MS] [-n CONCURRENT] [-r ROUNDS] [-s SEQUENTIAL]
 */
#include <getopt.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parley/config.h"
#include "parley/curl_loop.h"
#include "parley/translate.h"

/* ---- the fake server */

static const char answer[] =
    "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
    "\"finish_reason\":\"stop\",\"message\":{\"role\":\"assistant\",\"content\":"
    "\"{\\\"segments\\\":[{\\\"id\\\":\\\"s1\\\",\\\"text\\\":\\\"Bonjour, ma commande "
    "n'est toujours pas arrivée et je voudrais savoir pourquoi\\\"}]}\"}}],"
    "\"usage\":{\"prompt_tokens\":300,\"completion_tokens\":30}}";

typedef struct fake {
    uv_loop_t loop;
    uv_tcp_t server;
    uv_async_t stop;
    uv_thread_t thread;
    int port;
    uint64_t latency_ms;
    unsigned long requests;
    uint64_t *holds; /* ns each request was held, read after fake_stop() */
    size_t nholds, maxholds;
} fake;

typedef struct conn {
    uv_tcp_t tcp;
    fake *f;
    char *buf;
    size_t len, cap;
    uv_timer_t timer;
    int timer_open;
    int closing;
    uint64_t arrived;
    long idx; /* the translation being held, from its text; -1 unknown */
} conn;

static char response[1024];
/* Arrival and answer times of the last request, for the one-at-a-time
 * split of the added latency into the way there and the way back. */
static _Atomic uint64_t last_arrival, last_answer;
static size_t response_len;
/* Per translation (indexed by the number in its text): when the fake had
 * its request and when it answered. Parley's share of request i is then
 * (arrival[i] - start[i]) + (callback[i] - answered[i]), whatever the
 * fake's timer did in between. Read by the engine side after the round. */
static _Atomic uint64_t *arrival_at, *answered_at;
static long ntexts;

static void conn_free(uv_handle_t *h)
{
    conn *c = h->data;

    if (h == (uv_handle_t *)&c->tcp && c->timer_open) {
        c->timer_open = 0;
        uv_close((uv_handle_t *)&c->timer, conn_free);
        return;
    }
    free(c->buf);
    free(c);
}

static void conn_close(conn *c)
{
    if (c->closing)
        return;
    c->closing = 1;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->tcp, conn_free);
}

static void on_write(uv_write_t *w, int status)
{
    (void)status;
    free(w);
}

static void try_request(conn *c);

static void on_latency(uv_timer_t *t)
{
    conn *c = t->data;
    uv_write_t *w = malloc(sizeof(*w));
    uv_buf_t b = uv_buf_init(response, (unsigned)response_len);

    c->f->requests++;
    if (c->f->nholds < c->f->maxholds)
        c->f->holds[c->f->nholds++] = uv_hrtime() - c->arrived;
    last_answer = uv_hrtime();
    if (c->idx >= 0)
        answered_at[c->idx] = last_answer;
    uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_write);
    try_request(c);
}

/* One complete request in the buffer: consume it and answer after L. */
static void try_request(conn *c)
{
    char *end, *cl;
    size_t head, body = 0, total;

    if (c->len == 0 || uv_is_active((uv_handle_t *)&c->timer))
        return;
    c->buf[c->len] = '\0';
    end = strstr(c->buf, "\r\n\r\n");
    if (end == NULL)
        return;
    head = (size_t)(end + 4 - c->buf);
    for (cl = c->buf; cl < end; cl++) {
        if (strncasecmp(cl, "\r\ncontent-length:", 17) == 0) {
            body = strtoul(cl + 17, NULL, 10);
            break;
        }
    }
    total = head + body;
    if (c->len < total)
        return;
    c->arrived = uv_hrtime();
    last_arrival = c->arrived;
    {
        /* The texts end in "why (N)": N names the translation. */
        char *tag, save = c->buf[total];
        c->buf[total] = '\0';
        tag = strstr(c->buf + head, "why (");
        c->idx = tag ? strtol(tag + 5, NULL, 10) : -1;
        if (c->idx < 0 || c->idx >= ntexts)
            c->idx = -1;
        else
            arrival_at[c->idx] = c->arrived;
        c->buf[total] = save;
    }
    memmove(c->buf, c->buf + total, c->len - total);
    c->len -= total;
    uv_timer_start(&c->timer, on_latency, c->f->latency_ms, 0);
}

static void on_alloc(uv_handle_t *h, size_t size, uv_buf_t *b)
{
    conn *c = h->data;

    (void)size;
    if (c->cap - c->len < 65536 + 1) {
        c->cap = c->cap ? c->cap * 2 : 131072;
        c->buf = realloc(c->buf, c->cap);
    }
    *b = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len - 1));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    conn *c = s->data;

    (void)b;
    if (n < 0) {
        conn_close(c);
        return;
    }
    c->len += (size_t)n;
    try_request(c);
}

static void on_connection(uv_stream_t *server, int status)
{
    fake *f = server->data;
    conn *c;

    if (status != 0)
        return;
    c = calloc(1, sizeof(*c));
    c->f = f;
    uv_tcp_init(&f->loop, &c->tcp);
    c->tcp.data = c;
    uv_timer_init(&f->loop, &c->timer);
    c->timer.data = c;
    c->timer_open = 1;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (uv_is_closing(h))
        return;
    if (h->type == UV_TCP && h->data != NULL && h->data != arg) {
        conn_close(h->data);
        return;
    }
    if (h->type == UV_TIMER)
        return; /* closed with its connection */
    uv_close(h, NULL);
}

static void on_stop(uv_async_t *a)
{
    fake *f = a->data;

    uv_walk(&f->loop, close_any, f);
}

static void fake_thread(void *arg)
{
    fake *f = arg;

    uv_run(&f->loop, UV_RUN_DEFAULT);
}

static void fake_start(fake *f, uint64_t latency_ms)
{
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int len = sizeof(bound);

    response_len = (size_t)snprintf(response, sizeof(response),
                                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                    "Content-Length: %zu\r\n\r\n%s",
                                    strlen(answer), answer);
    memset(f, 0, sizeof(*f));
    f->latency_ms = latency_ms;
    f->maxholds = 1u << 20;
    f->holds = calloc(f->maxholds, sizeof(uint64_t));
    uv_loop_init(&f->loop);
    uv_tcp_init(&f->loop, &f->server);
    f->server.data = f;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    uv_tcp_bind(&f->server, (struct sockaddr *)&addr, 0);
    if (uv_listen((uv_stream_t *)&f->server, 4096, on_connection) != 0) {
        fprintf(stderr, "fake: listen failed\n");
        exit(1);
    }
    uv_tcp_getsockname(&f->server, (struct sockaddr *)&bound, &len);
    f->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
    uv_async_init(&f->loop, &f->stop, on_stop);
    f->stop.data = f;
    uv_thread_create(&f->thread, fake_thread, f);
}

static void fake_stop(fake *f)
{
    uv_async_send(&f->stop);
    uv_thread_join(&f->thread);
    uv_loop_close(&f->loop);
}

/* ---- the engine side */

typedef struct bench {
    uv_loop_t loop;
    pl_translate_engine *eng;
    uint64_t *start, *lat;
    int done, failed;
    char **texts;
    int inflight, peak;
    /* open-loop arrivals */
    uv_timer_t tick;
    struct slot *slots;
    int next, end, per_tick;
} bench;

typedef struct slot {
    bench *b;
    int i;
} slot;

static void on_result(const pl_translate_result *res, void *arg)
{
    slot *s = arg;

    s->b->lat[s->i] = uv_hrtime() - s->b->start[s->i];
    s->b->inflight--;
    if (res->status != 0) {
        s->b->failed++;
        if (s->b->failed == 1)
            fprintf(stderr, "failure: %s\n", res->message);
    }
    s->b->done++;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static double pct(uint64_t *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof(uint64_t), cmp_u64);
    return (double)v[(int)((n - 1) * p)] / 1e3; /* microseconds */
}

static void submit_one(bench *b, slot *slots, int i)
{
    pl_translate_segment seg = {.id = "m", .text = b->texts[i]};
    pl_translate_request r = {.source_language = "en", .target_locale = "fr",
                              .segments = &seg, .count = 1};

    slots[i] = (slot){b, i};
    b->start[i] = uv_hrtime();
    if (pl_translate_submit(b->eng, &r, on_result, &slots[i], NULL) != 0) {
        fprintf(stderr, "submit failed\n");
        exit(1);
    }
    if (++b->inflight > b->peak)
        b->peak = b->inflight;
}

/* Submits texts [from, from+n) at once; returns the wall time in ns. */
static uint64_t run_batch(bench *b, slot *slots, int from, int n)
{
    uint64_t t0 = uv_hrtime();

    b->done = 0;
    for (int i = from; i < from + n; i++)
        submit_one(b, slots, i);
    while (b->done < n)
        uv_run(&b->loop, UV_RUN_ONCE);
    return uv_hrtime() - t0;
}

static void on_tick(uv_timer_t *t)
{
    bench *b = t->data;

    for (int k = 0; k < b->per_tick && b->next < b->end; k++)
        submit_one(b, b->slots, b->next++);
    if (b->next >= b->end)
        uv_timer_stop(t);
}

/* Open loop: `per_ms` new translations every millisecond for n in all. */
static uint64_t run_open_loop(bench *b, slot *slots, int from, int n, int per_ms)
{
    uint64_t t0 = uv_hrtime();

    b->done = 0;
    b->peak = 0;
    b->slots = slots;
    b->next = from;
    b->end = from + n;
    b->per_tick = per_ms;
    uv_timer_start(&b->tick, on_tick, 0, 1);
    while (b->done < n)
        uv_run(&b->loop, UV_RUN_ONCE);
    return uv_hrtime() - t0;
}

static void report(const char *what, bench *b, int from, int n, uint64_t latency_ms)
{
    uint64_t *v = malloc((size_t)n * sizeof(uint64_t));

    for (int i = 0; i < n; i++) {
        uint64_t l = b->lat[from + i], base = latency_ms * 1000000ull;
        v[i] = l > base ? l - base : 0;
    }
    printf("%-44s p50 %8.1f us   p99 %8.1f us   max %8.1f us\n", what, pct(v, n, 0.50),
           pct(v, n, 0.99), pct(v, n, 1.0));
    free(v);
}

/* CPU time of the calling thread (the engine's; the fake has its own). */
static uint64_t thread_cpu_ns(void)
{
    struct rusage ru;

    getrusage(RUSAGE_THREAD, &ru);
    return (uint64_t)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
           (uint64_t)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull;
}

static void report_cpu(uint64_t cpu_ns, int n)
{
    printf("%-44s %.1f us per translation (user + system)\n", "  engine thread CPU",
           (double)cpu_ns / 1e3 / n);
}

/* Parley's own share: submit to request at the fake plus answer to callback. */
static void report_share(bench *b, int from, int n)
{
    uint64_t *v = malloc((size_t)n * sizeof(uint64_t));
    int k = 0;

    for (int i = from; i < from + n; i++) {
        uint64_t end = b->start[i] + b->lat[i];
        if (arrival_at[i] == 0 || answered_at[i] == 0)
            continue;
        v[k++] = (arrival_at[i] - b->start[i]) + (end - answered_at[i]);
    }
    if (k > 0)
        printf("%-44s p50 %8.1f us   p99 %8.1f us   max %8.1f us\n",
               "  Parley's share (there + back)", pct(v, k, 0.50), pct(v, k, 0.99),
               pct(v, k, 1.0));
    free(v);
}

static void on_closed(void *arg) { (void)arg; }

int main(int argc, char **argv)
{
    int latency = 50, conc = 1000, rounds = 3, seq = 200, open_n = 0, c;
    fake f;
    bench b = {0};
    char yaml[1024];
    pl_diags diags;
    pl_config *cfg;
    pl_curl_loop *curl;
    pl_error err;
    slot *slots;
    int total;

    while ((c = getopt(argc, argv, "l:n:r:s:o:")) != -1) {
        switch (c) {
        case 'l':
            latency = atoi(optarg);
            break;
        case 'n':
            conc = atoi(optarg);
            break;
        case 'r':
            rounds = atoi(optarg);
            break;
        case 's':
            seq = atoi(optarg);
            break;
        case 'o':
            open_n = atoi(optarg);
            break;
        default:
            fprintf(stderr, "usage: translate_bench [-l MS] [-n N] [-r ROUNDS] [-s SEQ] "
                            "[-o OPEN_LOOP_TOTAL]\n");
            return 2;
        }
    }
    fake_start(&f, (uint64_t)latency);
    snprintf(yaml, sizeof(yaml),
             "translation:\n"
             "  providers:\n"
             "    - name: bench\n"
             "      base_url: http://127.0.0.1:%d/v1\n"
             "      model: bench-model\n"
             "      concurrency: %d\n"
             "      queue: %d\n"
             "      retries: 0\n"
             "  cache:\n"
             "    max_bytes: 256m\n",
             f.port, conc, conc);
    pl_diags_init(&diags);
    if (pl_config_load_string("bench.yaml", yaml, strlen(yaml), &diags, &cfg) != 0) {
        pl_diags_print(&diags, stderr, 0);
        return 1;
    }
    pl_diags_free(&diags);
    total = seq + conc * rounds + open_n;
    ntexts = total;
    arrival_at = calloc((size_t)total, sizeof(*arrival_at));
    answered_at = calloc((size_t)total, sizeof(*answered_at));
    b.start = calloc((size_t)total, sizeof(uint64_t));
    b.lat = calloc((size_t)total, sizeof(uint64_t));
    b.texts = calloc((size_t)total, sizeof(char *));
    slots = calloc((size_t)total, sizeof(slot));
    for (int i = 0; i < total; i++) {
        b.texts[i] = malloc(128);
        snprintf(b.texts[i], 128,
                 "Hello, my order still has not arrived and I would like to know why (%d)", i);
    }
    uv_loop_init(&b.loop);
    uv_timer_init(&b.loop, &b.tick);
    b.tick.data = &b;
    pl_curl_loop_new(&b.loop, &curl);
    curl_multi_setopt(pl_curl_loop_multi(curl), CURLMOPT_MAXCONNECTS, (long)conc + 16);
    if (pl_translate_engine_new(&b.loop, curl, &cfg->translation, &b.eng, &err) != 0) {
        fprintf(stderr, "engine: %s\n", err.message);
        return 1;
    }

    printf("fake latency L = %d ms; %d sequential, %d rounds of %d concurrent\n\n",
           latency, seq, rounds, conc);
    /* One at a time: the per-message overhead. The first opens the connection. */
    run_batch(&b, slots, 0, 1);
    {
        uint64_t *there = calloc((size_t)seq, sizeof(uint64_t));
        uint64_t *back = calloc((size_t)seq, sizeof(uint64_t));
        for (int i = 1; i < seq; i++) {
            run_batch(&b, slots, i, 1);
            there[i - 1] = last_arrival - b.start[i];
            back[i - 1] = b.start[i] + b.lat[i] - last_answer;
        }
        report("added latency, one at a time", &b, 1, seq - 1, (uint64_t)latency);
        printf("%-44s p50 %8.1f us   p99 %8.1f us\n", "  submit to request at the fake",
               pct(there, seq - 1, 0.5), pct(there, seq - 1, 0.99));
        printf("%-44s p50 %8.1f us   p99 %8.1f us\n", "  answer sent by the fake to callback",
               pct(back, seq - 1, 0.5), pct(back, seq - 1, 0.99));
        free(there);
        free(back);
    }
    for (int r = 0; r < rounds; r++) {
        int from = seq + r * conc;
        uint64_t cpu0 = thread_cpu_ns();
        uint64_t wall = run_batch(&b, slots, from, conc);
        uint64_t cpu = thread_cpu_ns() - cpu0;
        char what[64];
        snprintf(what, sizeof(what), "added latency, %d in flight (round %d)", conc, r + 1);
        report(what, &b, from, conc, (uint64_t)latency);
        report_share(&b, from, conc);
        report_cpu(cpu, conc);
        printf("%-44s %.0f translations/s (wall %.1f ms)\n", "  throughput", conc / (wall / 1e9),
               wall / 1e6);
    }
    if (open_n > 0) {
        /* Arrivals spread out so that about `conc` are in flight: the
         * steady state of a busy worker rather than one burst. */
        int from = seq + conc * rounds;
        int per_ms = conc / (latency > 0 ? latency : 1);
        uint64_t wall, cpu0 = thread_cpu_ns();
        char what[80];
        if (per_ms < 1)
            per_ms = 1;
        wall = run_open_loop(&b, slots, from, open_n, per_ms);
        snprintf(what, sizeof(what), "added latency, open loop %d/ms (peak %d in flight)",
                 per_ms, b.peak);
        report(what, &b, from, open_n, (uint64_t)latency);
        report_share(&b, from, open_n);
        report_cpu(thread_cpu_ns() - cpu0, open_n);
        printf("%-44s %.0f translations/s\n", "  throughput", open_n / (wall / 1e9));
    }
    if (b.failed)
        printf("FAILED translations: %d\n", b.failed);

    /* The cache-hit path: the same texts again. */
    {
        int n = seq;
        uint64_t *sub = calloc((size_t)n, sizeof(uint64_t));
        for (int i = 0; i < n; i++) {
            pl_translate_segment seg = {.id = "m", .text = b.texts[i]};
            pl_translate_request r = {.source_language = "en", .target_locale = "fr",
                                      .segments = &seg, .count = 1};
            uint64_t t0;
            slots[i] = (slot){&b, i};
            b.done = 0;
            t0 = b.start[i] = uv_hrtime();
            pl_translate_submit(b.eng, &r, on_result, &slots[i], NULL);
            sub[i] = uv_hrtime() - t0;
            while (b.done < 1)
                uv_run(&b.loop, UV_RUN_ONCE);
        }
        report("cache hit: submit to result callback", &b, 0, n, 0);
        printf("%-44s p50 %8.1f us   p99 %8.1f us\n", "cache hit: pl_translate_submit() alone",
               pct(sub, n, 0.5), pct(sub, n, 0.99));
        free(sub);
    }
    {
        pl_translate_stats st;
        pl_translate_stats_get(b.eng, &st);
        printf("\nupstream requests %llu (fake answered %lu), cache hits %llu\n",
               (unsigned long long)st.providers[0].requests, f.requests,
               (unsigned long long)st.cache_hits);
    }

    pl_translate_engine_close(b.eng, NULL, NULL);
    pl_curl_loop_close(curl, on_closed, NULL);
    uv_close((uv_handle_t *)&b.tick, NULL);
    uv_run(&b.loop, UV_RUN_DEFAULT);
    uv_loop_close(&b.loop);
    fake_stop(&f);
    /* How late the fake's own timer answered: part of every figure above. */
    for (size_t i = 0; i < f.nholds; i++)
        f.holds[i] = f.holds[i] > (uint64_t)latency * 1000000u
                         ? f.holds[i] - (uint64_t)latency * 1000000u : 0;
    if (f.nholds > 0)
        printf("fake's timer slop beyond L (included above)   p50 %8.1f us   p99 %8.1f us\n",
               pct(f.holds, (int)f.nholds, 0.5), pct(f.holds, (int)f.nholds, 0.99));
    free(f.holds);
    for (int i = 0; i < total; i++)
        free(b.texts[i]);
    free(b.texts);
    free((void *)arrival_at);
    free((void *)answered_at);
    free(b.start);
    free(b.lat);
    free(slots);
    pl_config_free(cfg);
    return b.failed ? 1 : 0;
}
