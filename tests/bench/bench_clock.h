/*
 * The benchmark drivers' clock, in C and C++ alike: seconds on `clock`
 * (CLOCK_MONOTONIC for the wall, CLOCK_PROCESS_CPUTIME_ID or
 * CLOCK_THREAD_CPUTIME_ID for CPU time). Header-only; not part of the
 * library.
 */
#ifndef PARLEY_BENCH_CLOCK_H
#define PARLEY_BENCH_CLOCK_H

#include <time.h>

static inline double bench_now(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

#endif
