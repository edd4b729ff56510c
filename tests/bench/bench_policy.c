/*
 * Policy evaluation benchmark: one policy with 100 rules (60 term rules,
 * 20 regex rules, 20 signal rules) evaluated on a 500-character message,
 * inbound and outbound (with 10 fixes), with a request arena reset between
 * evaluations. Prints the mean, median and 99th percentile per evaluation.
 *
 *   ninja -C build tests/bench_policy && build/tests/bench_policy [ITERATIONS]
 */
#include "parley/arena.h"
#include "parley/policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static char *write_policy(char *dir)
{
    char path[600];
    FILE *f;

    snprintf(path, sizeof(path), "%s/default.yaml", dir);
    f = fopen(path, "w");
    if (f == NULL)
        return NULL;
    fprintf(f, "locale: default\n"
               "signals: {absolute_words: [always, never, every time]}\n"
               "protect:\n"
               "  - {id: order, pattern: '#[A-Z]-\\d{4,}'}\n"
               "rules:\n");
    for (int i = 0; i < 60; i++)
        fprintf(f, "  - id: term-%d\n    when: {terms: [word%da, word%db, phrase %d here]}\n"
                   "    then: {tag: [t%d]}\n", i, i, i, i, i);
    for (int i = 0; i < 20; i++)
        fprintf(f, "  - id: regex-%d\n    when: {regex: ['\\bcode-%d-\\d+\\b']}\n"
                   "    then: {tag: [r%d]}\n", i, i, i);
    for (int i = 0; i < 20; i++)
        fprintf(f, "  - id: signal-%d\n    when: {%s}\n    then: {tag: [s%d]}\n", i,
                i % 4 == 0   ? "absolute_words: true"
                : i % 4 == 1 ? "shouting: true"
                : i % 4 == 2 ? "punctuation_run: 3"
                             : "repeated_complaints: 2",
                i);
    fprintf(f, "fixes:\n");
    for (int i = 0; i < 10; i++)
        fprintf(f, "  - {id: fix-%d, find: [oldword%d], replace: newword%d}\n", i, i, i);
    fclose(f);
    return dir;
}

static void run(const pl_policy *p, pl_policy_direction d, const char *text, int n)
{
    pl_arena arena;
    pl_policy_input in = {.text = text, .len = strlen(text), .direction = d};
    double *t = malloc((size_t)n * sizeof(double)), sum = 0;
    size_t hits = 0;

    pl_arena_init(&arena, 4u << 20);
    for (int i = 0; i < n; i++) {
        pl_policy_result *r;
        double t0 = now_us();
        if (pl_policy_evaluate(p, &in, &arena, &r) != 0) {
            fprintf(stderr, "evaluation failed\n");
            exit(1);
        }
        t[i] = now_us() - t0;
        hits = r->nhits;
        sum += t[i];
        pl_arena_reset(&arena);
    }
    qsort(t, (size_t)n, sizeof(double), cmp_double);
    printf("%-8s 100 rules, %zu-byte message, %d runs: mean %.1f us, median %.1f us, "
           "p99 %.1f us (%zu rules fired)\n",
           d == PL_POLICY_IN ? "inbound" : "outbound", strlen(text), n, sum / n,
           t[n / 2], t[(size_t)n * 99 / 100], hits);
    free(t);
    pl_arena_free(&arena);
}

int main(int argc, char **argv)
{
    char dir[512], path[600];
    pl_diags diags;
    pl_policy_set *set = NULL;
    const pl_policy *p;
    char text[1024] = "";
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    static const char *const words[] = {
        "Hello", "I", "ordered", "a", "jacket", "last", "week", "and", "it", "never",
        "arrived,", "the", "tracking", "page", "says", "code-7-12345", "but", "nothing",
        "moves.", "Order", "#A-10293", "word12a", "oldword3", "please", "help", "me"};

    if (n < 100)
        n = 100;
    snprintf(dir, sizeof(dir), "%s/parley-bench-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(dir) == NULL || write_policy(dir) == NULL)
        return 1;
    /* 500 characters of ordinary customer text. */
    for (size_t i = 0; strlen(text) < 500; i++) {
        strcat(text, words[i % (sizeof(words) / sizeof(words[0]))]);
        strcat(text, " ");
    }
    text[500] = '\0';
    pl_diags_init(&diags);
    if (pl_policy_load_dir(dir, &diags, &set) != 0) {
        pl_diags_print(&diags, stderr, 1);
        return 1;
    }
    p = pl_policy_resolve(set, "en-US");
    run(p, PL_POLICY_IN, text, n);
    run(p, PL_POLICY_OUT, text, n);
    pl_policy_set_free(set);
    pl_diags_free(&diags);
    snprintf(path, sizeof(path), "%s/default.yaml", dir);
    unlink(path);
    rmdir(dir);
    return 0;
}
