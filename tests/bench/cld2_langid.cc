// Benchmark driver for CLD2 (Debian libcld2-dev): reads one message per line
// from FILE, prints CLD2's best-effort language per line on stdout (Hebrew's
// "iw" as "he", "zh-Hant" as "zh", unknown as "und"), and timing and peak
// resident memory on stderr in the same format as parley_langid.c.
#include "cld2_detect.h"
#include "bench_clock.h"

#include <cld2/internal/lang_script.h>

#include <sys/resource.h>
#include <time.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::cerr << "usage: cld2_langid FILE\n";
        return 2;
    }
    std::ifstream in(argv[1]);
    std::vector<std::string> lines;
    size_t bytes = 0;
    for (std::string l; std::getline(in, l);) {
        bytes += l.size();
        lines.push_back(l);
    }
    std::vector<CLD2::Language> out(lines.size());
    double t0 = bench_now(CLOCK_MONOTONIC), c0 = bench_now(CLOCK_PROCESS_CPUTIME_ID);
    for (size_t i = 0; i < lines.size(); i++)
        out[i] = cld2_detect(lines[i]);
    double dt = bench_now(CLOCK_MONOTONIC) - t0, ct = bench_now(CLOCK_PROCESS_CPUTIME_ID) - c0;
    for (CLD2::Language l : out) {
        std::string code = CLD2::LanguageCode(l);
        if (code == "iw")
            code = "he";
        else if (code == "zh-Hant")
            code = "zh";
        else if (code == "un" || code == "xxx")
            code = "und";
        std::printf("%s\n", code.c_str());
    }
    rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    std::fprintf(stderr,
                 "messages=%zu bytes=%zu seconds=%.4f msgs_per_s=%.0f mb_per_s=%.2f maxrss_mb=%.1f "
                 "cpu_seconds=%.4f cpu_msgs_per_s=%.0f cpu_mb_per_s=%.2f\n",
                 lines.size(), bytes, dt, lines.size() / dt, bytes / dt / 1e6,
                 ru.ru_maxrss / 1024.0, ct, lines.size() / ct, bytes / ct / 1e6);
    return 0;
}
