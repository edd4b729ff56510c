// CLD2 as the benchmarks call it: best effort, no hints, plain text.
// Header-only, shared by cld2_langid.cc and langid_vs.cc.
#ifndef PARLEY_BENCH_CLD2_DETECT_H
#define PARLEY_BENCH_CLD2_DETECT_H

#include <cstdio> // before CLD2's header, which uses FILE without including it

#include <cld2/public/compact_lang_det.h>
#include <cld2/public/encodings.h>

#include <string>

static CLD2::Language cld2_detect(const std::string &s)
{
    static const CLD2::CLDHints hints = {nullptr, nullptr, CLD2::UNKNOWN_ENCODING,
                                         CLD2::UNKNOWN_LANGUAGE};
    CLD2::Language lang3[3];
    int percent3[3], text_bytes;
    double score3[3];
    bool reliable;
    return CLD2::ExtDetectLanguageSummary(s.data(), (int)s.size(), true, &hints,
                                          CLD2::kCLDFlagBestEffort, lang3, percent3, score3,
                                          nullptr, &text_bytes, &reliable);
}

#endif
