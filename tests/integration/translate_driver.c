/*
 * A test driver for the translation engine: submits many translations at
 * once (single-flight, limits) or one after another with pauses (circuit
 * breaker), on one loop like a worker, and prints one JSON line per result
 * and the engine's counters at the end.
 *
 *   translate_driver -c CONFIG --to LOCALE [--from LANG] [-n N] [--distinct]
 *                    [--sequence] [--pause K:MS]... [--stream CHUNK] [--timeout MS] TEXT
 *
 * --stream feeds TEXT to a translation stream CHUNK bytes at a time and
 * prints how many jobs were submitted after each chunk, then each sentence.
 *
 * --lines translates each line read from standard input (read on the loop),
 * one after another, printing one JSON line per result with the provider's
 * restart count; log records (such as the pid of a new Apertium pipeline)
 * go to standard output too, in order, so a test can act between lines.
 */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "parley/config.h"
#include "parley/curl_loop.h"
#include "parley/log.h"
#include "parley/translate.h"

#define MAX_PAUSES 16

typedef struct driver {
    uv_loop_t loop;
    pl_translate_engine *eng;
    pl_translate_request req;
    char **texts;
    pl_translate_segment *segs;
    int n, done, next, sequence;
    int pause_at[MAX_PAUSES];
    int pause_ms[MAX_PAUSES];
    int npauses;
    uv_timer_t timer;
    /* --lines */
    int lines, busy, eof;
    uv_pipe_t in;
    char buf[65536];
    size_t len;
    char *queue[256];
    int qhead, qcount;
    char *current;
} driver;

static void print_json_string(const char *s)
{
    putchar('"');
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void submit_next(driver *d);
static void next_line(driver *d);

typedef struct slot {
    driver *d;
    int i;
} slot;

static void on_result(const pl_translate_result *res, void *arg)
{
    slot *s = arg;
    driver *d = s->d;
    pl_translate_stats st;

    pl_translate_stats_get(d->eng, &st);
    if (d->lines) {
        printf("{\"status\":%d,\"reason\":", res->status);
        print_json_string(res->reason ? res->reason : "");
        printf(",\"text\":");
        print_json_string(res->status == 0 ? res->segments[0].text : "");
        printf(",\"model\":");
        print_json_string(res->model ? res->model : "");
        printf(",\"quality\":");
        print_json_string(res->quality ? res->quality : "");
        printf(",\"pivot\":");
        print_json_string(res->pivot ? res->pivot : "");
        printf(",\"message\":");
        print_json_string(res->message ? res->message : "");
        printf(",\"restarts\":%llu}\n",
               (unsigned long long)(st.provider_count ? st.providers[0].restarts : 0));
        fflush(stdout);
        free(s);
        free(d->current);
        d->current = NULL;
        d->busy = 0;
        next_line(d);
        return;
    }
    printf("{\"i\":%d,\"status\":%d,\"reason\":", s->i, res->status);
    print_json_string(res->reason ? res->reason : "");
    printf(",\"provider\":");
    print_json_string(res->provider ? res->provider : "");
    printf(",\"cached\":%d,\"attempts\":%u,\"text\":", res->cached, res->attempts);
    print_json_string(res->status == 0 ? res->segments[0].text : "");
    printf(",\"message\":");
    print_json_string(res->message ? res->message : "");
    printf(",\"breakers\":[");
    for (size_t i = 0; i < st.provider_count; i++)
        printf("%s%d", i ? "," : "", st.providers[i].breaker_state);
    printf("]}\n");
    free(s);
    d->done++;
    if (d->sequence)
        submit_next(d);
}

static void submit_one(driver *d)
{
    slot *s = calloc(1, sizeof(*s));
    pl_translate_request r = d->req;
    int i = d->next++;

    s->d = d;
    s->i = i;
    r.segments = &d->segs[i];
    r.count = 1;
    if (pl_translate_submit(d->eng, &r, on_result, s, NULL) != 0) {
        fprintf(stderr, "submit failed\n");
        exit(1);
    }
}

static void on_pause_done(uv_timer_t *t)
{
    driver *d = t->data;

    submit_one(d);
}

static void submit_next(driver *d)
{
    if (d->next >= d->n)
        return;
    for (int k = 0; k < d->npauses; k++) {
        if (d->pause_at[k] == d->next) {
            uv_timer_start(&d->timer, on_pause_done, (uint64_t)d->pause_ms[k], 0);
            return;
        }
    }
    submit_one(d);
}

static void on_closed(void *arg) { (void)arg; }

static void next_line(driver *d)
{
    pl_translate_request r = d->req;
    pl_translate_segment seg = {.id = "text"};
    slot *s;

    if (d->busy || d->qcount == 0)
        return;
    d->current = d->queue[d->qhead];
    d->qhead = (d->qhead + 1) % 256;
    d->qcount--;
    seg.text = d->current;
    r.segments = &seg;
    r.count = 1;
    s = calloc(1, sizeof(*s));
    s->d = d;
    d->busy = 1;
    if (pl_translate_submit(d->eng, &r, on_result, s, NULL) != 0) {
        fprintf(stderr, "submit failed\n");
        exit(1);
    }
}

static void on_line_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    driver *d = h->data;

    (void)suggested;
    buf->base = d->buf + d->len;
    buf->len = sizeof(d->buf) - d->len - 1;
}

static void on_line_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
    driver *d = st->data;
    char *nl;

    (void)buf;
    if (n < 0) {
        d->eof = 1;
        uv_close((uv_handle_t *)st, NULL);
        return;
    }
    d->len += (size_t)n;
    d->buf[d->len] = '\0';
    while ((nl = strchr(d->buf, '\n')) != NULL && d->qcount < 256) {
        *nl = '\0';
        d->queue[(d->qhead + d->qcount) % 256] = strdup(d->buf);
        d->qcount++;
        d->len -= (size_t)(nl + 1 - d->buf);
        memmove(d->buf, nl + 1, d->len + 1);
    }
    next_line(d);
}

static void run_lines(driver *d)
{
    pl_log_set_fd(STDOUT_FILENO);
    uv_pipe_init(&d->loop, &d->in, 0);
    d->in.data = d;
    uv_pipe_open(&d->in, STDIN_FILENO);
    uv_read_start((uv_stream_t *)&d->in, on_line_alloc, on_line_read);
    while (!d->eof || d->busy || d->qcount > 0)
        uv_run(&d->loop, UV_RUN_ONCE);
    d->done = d->n;
}

static void on_stream(size_t index, int status, const char *text,
                      const char *original, int final, void *arg)
{
    driver *d = arg;

    printf("{\"sentence\":%zu,\"status\":%d,\"final\":%d,\"text\":", index,
           status, final);
    print_json_string(text ? text : "");
    printf(",\"original\":");
    print_json_string(original);
    printf("}\n");
    if (final)
        d->done = d->n;
}

static void run_stream(driver *d, const char *text, size_t chunk)
{
    pl_translate_stream *s;
    size_t len = strlen(text);
    pl_translate_stats st;

    if (pl_translate_stream_new(d->eng, &d->req, on_stream, d, &s) != 0)
        exit(1);
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        if (pl_translate_stream_feed(s, text + off, n) != 0)
            exit(1);
        pl_translate_stats_get(d->eng, &st);
        printf("{\"fed\":%zu,\"jobs\":%llu}\n", off + n, (unsigned long long)st.jobs);
    }
    if (pl_translate_stream_finish(s) != 0)
        exit(1);
    while (d->done < d->n)
        uv_run(&d->loop, UV_RUN_ONCE);
    pl_translate_stream_free(s);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"to", required_argument, NULL, 't'},
        {"from", required_argument, NULL, 'f'},
        {"distinct", no_argument, NULL, 'd'},
        {"sequence", no_argument, NULL, 's'},
        {"pause", required_argument, NULL, 'p'},
        {"stream", required_argument, NULL, 'S'},
        {"timeout", required_argument, NULL, 'T'},
        {"lines", no_argument, NULL, 'L'},
        {NULL, 0, NULL, 0},
    };
    driver d = {.n = 1};
    const char *path = NULL;
    int distinct = 0, c, stream_chunk = 0;
    pl_diags diags;
    pl_config *cfg;
    pl_curl_loop *curl;
    pl_error err;
    pl_translate_stats st;

    while ((c = getopt_long(argc, argv, "c:t:f:n:dsp:S:T:L", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 't':
            d.req.target_locale = optarg;
            break;
        case 'f':
            d.req.source_language = optarg;
            break;
        case 'n':
            d.n = atoi(optarg);
            break;
        case 'd':
            distinct = 1;
            break;
        case 's':
            d.sequence = 1;
            break;
        case 'p':
            if (d.npauses < MAX_PAUSES &&
                sscanf(optarg, "%d:%d", &d.pause_at[d.npauses], &d.pause_ms[d.npauses]) == 2)
                d.npauses++;
            break;
        case 'S':
            stream_chunk = atoi(optarg);
            break;
        case 'T':
            d.req.timeout_ms = atoi(optarg);
            break;
        case 'L':
            d.lines = 1;
            break;
        default:
            return 2;
        }
    }
    if (path == NULL || d.req.target_locale == NULL || (optind >= argc && !d.lines) ||
        d.n < 1) {
        fprintf(stderr, "usage: translate_driver -c CONFIG --to LOCALE [-n N] TEXT\n");
        return 2;
    }
    pl_diags_init(&diags);
    if (pl_config_load(path, &diags, &cfg) != 0) {
        pl_diags_print(&diags, stderr, 0);
        return 2;
    }
    pl_diags_free(&diags);
    d.texts = calloc((size_t)d.n, sizeof(char *));
    d.segs = calloc((size_t)d.n, sizeof(pl_translate_segment));
    for (int i = 0; i < d.n && !d.lines; i++) {
        size_t len = strlen(argv[optind]) + 32;
        d.texts[i] = malloc(len);
        if (distinct)
            snprintf(d.texts[i], len, "%s %d", argv[optind], i);
        else
            snprintf(d.texts[i], len, "%s", argv[optind]);
        d.segs[i].id = "text";
        d.segs[i].text = d.texts[i];
    }
    uv_loop_init(&d.loop);
    uv_timer_init(&d.loop, &d.timer);
    d.timer.data = &d;
    pl_curl_loop_new(&d.loop, &curl);
    if (pl_translate_engine_new(&d.loop, curl, &cfg->translation, &d.eng, &err) != 0) {
        fprintf(stderr, "engine: %s\n", err.message);
        return 1;
    }
    if (d.lines)
        run_lines(&d);
    else if (stream_chunk > 0)
        run_stream(&d, argv[optind], (size_t)stream_chunk);
    else if (d.sequence)
        submit_next(&d);
    else
        for (int i = 0; i < d.n; i++)
            submit_one(&d);
    while (d.done < d.n)
        uv_run(&d.loop, UV_RUN_ONCE);
    pl_translate_stats_get(d.eng, &st);
    printf("{\"stats\":{\"jobs\":%llu,\"coalesced\":%llu,\"cache_hits\":%llu,"
           "\"failures\":%llu,\"requests\":[",
           (unsigned long long)st.jobs, (unsigned long long)st.coalesced,
           (unsigned long long)st.cache_hits, (unsigned long long)st.failures);
    for (size_t i = 0; i < st.provider_count; i++)
        printf("%s%llu", i ? "," : "", (unsigned long long)st.providers[i].requests);
    printf("],\"fail_breaker\":[");
    for (size_t i = 0; i < st.provider_count; i++)
        printf("%s%llu", i ? "," : "", (unsigned long long)st.providers[i].fail_breaker);
    printf("],\"fail_overload\":[");
    for (size_t i = 0; i < st.provider_count; i++)
        printf("%s%llu", i ? "," : "", (unsigned long long)st.providers[i].fail_overload);
    printf("]}}\n");
    fflush(stdout);
    pl_translate_engine_close(d.eng, NULL, NULL);
    pl_curl_loop_close(curl, on_closed, NULL);
    uv_close((uv_handle_t *)&d.timer, NULL);
    uv_run(&d.loop, UV_RUN_DEFAULT);
    uv_loop_close(&d.loop);
    for (int i = 0; i < d.n && !d.lines; i++)
        free(d.texts[i]);
    free(d.texts);
    free(d.segs);
    pl_config_free(cfg);
    return 0;
}
