// Parley against CLD2 in one process: the two detectors take turns on
// chunks of the input (who goes first alternates from chunk to chunk and
// round to round), so load from other programs on the core falls on both
// alike, which separate processes cannot promise on a shared machine. The
// CPU time of this thread is summed per detector and round. Prints one line
// per round and then the median of the rounds' ratios (Parley's speed over
// CLD2's) and the ratio of the totals. CLD2 is called as in cld2_langid.cc
// (cld2_detect.h, best effort); Parley as in parley_langid.c (optionally restricted to a
// list of languages, as --only). Built and run by tests/bench/langid_vs.sh.
#include "cld2_detect.h"
#include "bench_clock.h"

#include <time.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "parley/detect.h"

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 6) {
        std::fprintf(stderr, "usage: langid_vs FILE LOCALES_DIR [ONLY [ROUNDS [CHUNK]]]\n");
        return 2;
    }
    const char *only = argc > 3 && argv[3][0] ? argv[3] : nullptr;
    int rounds = argc > 4 ? std::atoi(argv[4]) : 5;
    size_t chunk = argc > 5 ? (size_t)std::atol(argv[5]) : 2000;
    if (rounds < 1 || chunk < 1) {
        std::fprintf(stderr, "langid_vs: ROUNDS and CHUNK must be positive\n");
        return 2;
    }
    std::ifstream in(argv[1]);
    if (!in) {
        std::perror(argv[1]);
        return 1;
    }
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);)
        lines.push_back(l);
    const size_t n = lines.size();

    pl_detector *d;
    pl_detect_langset *langs = nullptr;
    pl_error err;
    if (pl_detect_open(argv[2], &d, &err) < 0 ||
        (only && pl_detect_langset_new(d, only, &langs, &err) < 0)) {
        std::fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    std::vector<double> ratios;
    double tp_all = 0, tc_all = 0;
    for (int r = 0; r < rounds; r++) {
        double tp = 0, tc = 0;
        for (size_t s = 0; s < n; s += chunk) {
            size_t e = std::min(s + chunk, n);
            bool parley_first = ((s / chunk + (size_t)r) & 1) == 0;
            for (int turn = 0; turn < 2; turn++) {
                bool parley = (turn == 0) == parley_first;
                double t0 = bench_now(CLOCK_THREAD_CPUTIME_ID);
                for (size_t i = s; i < e; i++) {
                    if (parley) {
                        pl_detect_result res;
                        pl_detect_text_in(d, langs, lines[i].data(), lines[i].size(), nullptr,
                                          0, &res, nullptr);
                    } else {
                        cld2_detect(lines[i]);
                    }
                }
                *(parley ? &tp : &tc) += bench_now(CLOCK_THREAD_CPUTIME_ID) - t0;
            }
        }
        std::printf("round=%d parley_seconds=%.4f cld2_seconds=%.4f speed=%.4f\n", r + 1, tp, tc,
                    tc / tp);
        ratios.push_back(tc / tp);
        tp_all += tp;
        tc_all += tc;
    }
    std::sort(ratios.begin(), ratios.end());
    double median = rounds % 2 ? ratios[rounds / 2]
                               : (ratios[rounds / 2 - 1] + ratios[rounds / 2]) / 2;
    std::printf("messages=%zu rounds=%d median_speed=%.4f total_speed=%.4f min=%.4f max=%.4f "
                "parley_msgs_per_s=%.0f cld2_msgs_per_s=%.0f\n",
                n, rounds, median, tc_all / tp_all, ratios.front(), ratios.back(),
                n * rounds / tp_all, n * rounds / tc_all);
    pl_detect_langset_free(langs);
    pl_detect_close(d);
    return 0;
}
