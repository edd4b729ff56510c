/*
 * In-process A/B driver for two builds of the detector: variant A linked
 * as is, variant B with every global symbol prefixed "B_" (objcopy), both
 * in one process. They take turns on chunks of the input (who goes first
 * alternates), so load from other programs on the core falls on both
 * alike; the CPU time of this thread is summed per variant. Prints the
 * times, B's speed relative to A's, and how many answers (language or
 * confidence) differ. Built and run by tests/bench/langid_ab.sh.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parley/detect.h"
#include "bench_clock.h"
#include "read_lines.h"

int B_pl_detect_open(const char *dir, pl_detector **out, pl_error *err);
int B_pl_detect_langset_new(const pl_detector *d, const char *list,
                            pl_detect_langset **out, pl_error *err);
int B_pl_detect_text_in(const pl_detector *d, const pl_detect_langset *langs,
                        const char *text, size_t len, const pl_detect_hint *hints,
                        size_t nhints, pl_detect_result *out, pl_error *err);

#define CHUNK 2000

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: langid_ab FILE LOCALES_DIR [ONLY [ROUNDS]]\n");
        return 2;
    }
    const char *only = argc > 3 && argv[3][0] ? argv[3] : NULL;
    int rounds = argc > 4 ? atoi(argv[4]) : 3;
    char **lines;
    size_t *lens, bytes = 0;
    size_t n = read_lines(argv[1], &lines, &lens, &bytes);

    pl_detector *da, *db;
    pl_detect_langset *la = NULL, *lb = NULL;
    pl_error err;
    if (pl_detect_open(argv[2], &da, &err) < 0 || B_pl_detect_open(argv[2], &db, &err) < 0 ||
        (only && (pl_detect_langset_new(da, only, &la, &err) < 0 ||
                  B_pl_detect_langset_new(db, only, &lb, &err) < 0))) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    double ta = 0, tb = 0;
    for (int r = 0; r < rounds; r++) {
        for (size_t s = 0; s < n; s += CHUNK) {
            size_t e = s + CHUNK < n ? s + CHUNK : n;
            int b_first = (int)((s / CHUNK + (size_t)r) & 1);
            for (int turn = 0; turn < 2; turn++) {
                int use_b = turn == 0 ? b_first : !b_first;
                double t0 = bench_now(CLOCK_THREAD_CPUTIME_ID);
                for (size_t i = s; i < e; i++) {
                    pl_detect_result res;
                    if (use_b)
                        B_pl_detect_text_in(db, lb, lines[i], lens[i], NULL, 0, &res, NULL);
                    else
                        pl_detect_text_in(da, la, lines[i], lens[i], NULL, 0, &res, NULL);
                }
                *(use_b ? &tb : &ta) += bench_now(CLOCK_THREAD_CPUTIME_ID) - t0;
            }
        }
    }
    size_t differ = 0;
    for (size_t i = 0; i < n; i++) {
        pl_detect_result x, y;
        pl_detect_text_in(da, la, lines[i], lens[i], NULL, 0, &x, NULL);
        B_pl_detect_text_in(db, lb, lines[i], lens[i], NULL, 0, &y, NULL);
        differ += strcmp(x.language, y.language) != 0 || x.confidence != y.confidence;
    }
    printf("a_seconds=%.3f b_seconds=%.3f b_speed=%.4f differing=%zu\n", ta, tb, ta / tb, differ);
    return 0;
}
