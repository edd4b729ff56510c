/*
 * Benchmark driver for Parley's detector: reads one message per line from
 * FILE, prints the detected language per line on stdout, and on stderr the
 * time spent in pl_detect_text() (wall clock, and CPU time of the process,
 * which other programs on a shared core do not inflate), messages/s, MB/s
 * and peak resident memory. With ONLY ("en,es,..."), the answer is
 * restricted to those languages, read once into a pl_detect_langset as
 * ELD's language subset is set once.
 * Built and run by tests/bench/langid.sh; not part of the test suite.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "parley/detect.h"
#include "bench_clock.h"
#include "read_lines.h"

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: parley_langid FILE [LOCALES_DIR [ONLY]]\n");
        return 2;
    }
    /* Read everything first so that only detection is timed. */
    char **lines;
    size_t *lens, bytes = 0;
    size_t n = read_lines(argv[1], &lines, &lens, &bytes);

    pl_detector *d;
    pl_error err;
    pl_detect_langset *only = NULL;
    if (pl_detect_open(argc >= 3 ? argv[2] : NULL, &d, &err) < 0 ||
        (argc == 4 && pl_detect_langset_new(d, argv[3], &only, &err) < 0)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    char (*out)[8] = malloc((n ? n : 1) * sizeof *out);
    double t0 = bench_now(CLOCK_MONOTONIC), c0 = bench_now(CLOCK_PROCESS_CPUTIME_ID);
    for (size_t i = 0; i < n; i++) {
        pl_detect_result r;
        if (pl_detect_text_in(d, only, lines[i], lens[i], NULL, 0, &r, NULL) < 0)
            strcpy(r.language, "und");
        memcpy(out[i], r.language, sizeof out[i]);
    }
    double dt = bench_now(CLOCK_MONOTONIC) - t0,
           ct = bench_now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    for (size_t i = 0; i < n; i++)
        printf("%s\n", out[i]);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr,
            "messages=%zu bytes=%zu seconds=%.4f msgs_per_s=%.0f mb_per_s=%.2f "
            "maxrss_mb=%.1f "
            "cpu_seconds=%.4f cpu_msgs_per_s=%.0f cpu_mb_per_s=%.2f\n",
            n, bytes, dt, n / dt, bytes / dt / 1e6, ru.ru_maxrss / 1024.0, ct,
            n / ct, bytes / ct / 1e6);
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
    free(lens);
    free(out);
    pl_detect_langset_free(only);
    pl_detect_close(d);
    return 0;
}
