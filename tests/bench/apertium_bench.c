/*
 * Offline translation throughput: N distinct messages through the engine's
 * Apertium provider (one long-running null-flush pipeline, the way Parley
 * runs it) against one `apertium -u MODE` process per message (the naive
 * way). Prints messages per second for each; see docs/benchmarks.md.
 *
 *   apertium_bench [-n N] [--from en] [--to es] [--mode eng-spa]
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parley/config.h"
#include "parley/curl_loop.h"
#include "parley/log.h"
#include "parley/translate.h"

static const char *const sentences[] = {
    "Where is my order? It has not arrived yet.",
    "I would like to return the shoes because they are too small.",
    "Can you send me the invoice for order number",
    "The package was delivered to the wrong address.",
    "Thank you for your help, have a nice day.",
};

typedef struct bench {
    uv_loop_t loop;
    int done, failed, n;
} bench;

static double now_s(uv_loop_t *loop)
{
    uv_update_time(loop);
    return (double)uv_hrtime() / 1e9;
}

static void on_result(const pl_translate_result *res, void *arg)
{
    bench *b = arg;

    b->done++;
    if (res->status != 0) {
        b->failed++;
        fprintf(stderr, "failed: %s\n", res->message ? res->message : "?");
    }
}

static char *message(int i)
{
    char *s = malloc(160);

    snprintf(s, 160, "%s %d", sentences[i % 5], 1000 + i);
    return s;
}

static void curl_closed(void *arg) { (void)arg; }

/* The engine: every message submitted at once, one pipeline answers them. */
static double run_engine(const char *from, const char *to, int n)
{
    const char *yaml = "translation:\n  providers:\n    - name: ap\n      type: apertium\n"
                       "      concurrency: 64\n      queue: 100000\n"
                       "  cache:\n    enabled: false\n";
    char path[] = "/tmp/parley-bench-XXXXXX";
    int fd = mkstemp(path);
    pl_config *cfg;
    pl_diags diags;
    pl_curl_loop *curl;
    pl_translate_engine *eng;
    pl_error err;
    bench b = {.n = n};
    pl_translate_segment warm = {.id = "w", .text = "Hello."};
    pl_translate_request req = {.source_language = from, .target_locale = to,
                                .segments = &warm, .count = 1, .no_cache = 1};
    char **texts = calloc((size_t)n, sizeof(char *));
    pl_translate_segment *segs = calloc((size_t)n, sizeof(*segs));
    double t0, t1;

    if (fd < 0 || write(fd, yaml, strlen(yaml)) < 0)
        exit(1);
    close(fd);
    pl_diags_init(&diags);
    if (pl_config_load(path, &diags, &cfg) != 0)
        exit(1);
    pl_diags_free(&diags);
    unlink(path);
    uv_loop_init(&b.loop);
    pl_curl_loop_new(&b.loop, &curl);
    if (pl_translate_engine_new(&b.loop, curl, &cfg->translation, &eng, &err) != 0) {
        fprintf(stderr, "%s\n", err.message);
        exit(1);
    }
    /* Warm-up: the mode list and the pipeline's start are paid once. */
    pl_translate_submit(eng, &req, on_result, &b, NULL);
    while (b.done < 1)
        uv_run(&b.loop, UV_RUN_ONCE);
    b.done = 0;
    t0 = now_s(&b.loop);
    for (int i = 0; i < n; i++) {
        texts[i] = message(i);
        segs[i].id = "m";
        segs[i].text = texts[i];
        req.segments = &segs[i];
        if (pl_translate_submit(eng, &req, on_result, &b, NULL) != 0)
            exit(1);
    }
    while (b.done < n)
        uv_run(&b.loop, UV_RUN_ONCE);
    t1 = now_s(&b.loop);
    pl_translate_engine_close(eng, NULL, NULL);
    pl_curl_loop_close(curl, curl_closed, NULL);
    uv_run(&b.loop, UV_RUN_DEFAULT);
    uv_loop_close(&b.loop);
    for (int i = 0; i < n; i++)
        free(texts[i]);
    free(texts);
    free(segs);
    pl_config_free(cfg);
    if (b.failed)
        fprintf(stderr, "%d failures\n", b.failed);
    return (double)n / (t1 - t0);
}

/* One `apertium -u MODE` per message, one after another. */
typedef struct proc_run {
    uv_process_t proc;
    uv_pipe_t in, out;
    uv_write_t wr;
    char buf[4096];
    int closed;
} proc_run;

static void closed_cb(uv_handle_t *h) { (*(int *)h->loop->data)--; }

static void on_exit_cb(uv_process_t *p, int64_t status, int sig)
{
    (void)status;
    (void)sig;
    uv_close((uv_handle_t *)p, closed_cb);
}

static void on_alloc(uv_handle_t *h, size_t s, uv_buf_t *b)
{
    proc_run *r = h->data;

    (void)s;
    *b = uv_buf_init(r->buf, sizeof(r->buf));
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
    (void)b;
    if (n < 0)
        uv_close((uv_handle_t *)s, closed_cb);
}

static void on_written(uv_write_t *w, int status)
{
    (void)status;
    uv_close((uv_handle_t *)w->handle, closed_cb);
}

static double run_processes(const char *mode, int n)
{
    uv_loop_t loop;
    int open = 0;
    double t0, t1;

    uv_loop_init(&loop);
    loop.data = &open;
    t0 = now_s(&loop);
    for (int i = 0; i < n; i++) {
        proc_run r = {0};
        char *text = message(i);
        char *args[] = {"apertium", "-u", (char *)mode, NULL};
        uv_stdio_container_t stdio[3];
        uv_process_options_t o = {0};
        uv_buf_t buf = uv_buf_init(text, (unsigned)strlen(text));

        uv_pipe_init(&loop, &r.in, 0);
        uv_pipe_init(&loop, &r.out, 0);
        r.out.data = &r;
        stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
        stdio[0].data.stream = (uv_stream_t *)&r.in;
        stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
        stdio[1].data.stream = (uv_stream_t *)&r.out;
        stdio[2].flags = UV_IGNORE;
        o.file = "apertium";
        o.args = args;
        o.exit_cb = on_exit_cb;
        o.stdio_count = 3;
        o.stdio = stdio;
        open = 3;
        if (uv_spawn(&loop, &r.proc, &o) != 0)
            exit(1);
        uv_read_start((uv_stream_t *)&r.out, on_alloc, on_read);
        uv_write(&r.wr, (uv_stream_t *)&r.in, &buf, 1, on_written);
        while (open > 0)
            uv_run(&loop, UV_RUN_ONCE);
        free(text);
    }
    t1 = now_s(&loop);
    uv_loop_close(&loop);
    return (double)n / (t1 - t0);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"from", required_argument, NULL, 'f'},
        {"to", required_argument, NULL, 't'},
        {"mode", required_argument, NULL, 'm'},
        {NULL, 0, NULL, 0},
    };
    const char *from = "en", *to = "es", *mode = "eng-spa";
    int n = 200, c;
    double pipeline, per_process;
    int nproc;

    while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
        if (c == 'n')
            n = atoi(optarg);
        else if (c == 'f')
            from = optarg;
        else if (c == 't')
            to = optarg;
        else if (c == 'm')
            mode = optarg;
        else
            return 2;
    }
    pl_log_set_level(PL_LOG_WARN);
    pipeline = run_engine(from, to, n);
    nproc = n < 50 ? n : 50; /* a process each is slow: fewer suffice */
    per_process = run_processes(mode, nproc);
    printf("messages: %d through one pipeline, %d with a process each\n", n, nproc);
    printf("one long-running pipeline: %.1f messages/s\n", pipeline);
    printf("a process per message:     %.1f messages/s\n", per_process);
    printf("speed-up:                  %.1fx\n", pipeline / per_process);
    return 0;
}
