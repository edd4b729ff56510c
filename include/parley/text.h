/*
 * Text handling at the gateway's edge: UTF-8 validation, cleaning of
 * invisible and bidi controls, whitespace folding, NFC/NFKC normalization,
 * case folding, sentence and word segmentation, and script runs (ICU4C).
 */
#ifndef PARLEY_TEXT_H
#define PARLEY_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "parley/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest input, in bytes, that the text functions accept (PL_ELIMIT). */
#define PL_TEXT_MAX_INPUT (1u << 24)

typedef enum pl_text_form {
    PL_TEXT_NFC = 0, /* canonical composition: the default */
    PL_TEXT_NFKC     /* compatibility composition: folds width, ligatures */
} pl_text_form;

/* Flags for pl_text_prepare(). */
enum {
    PL_TEXT_STRIP_CONTROLS = 1u << 0, /* drop bidi and invisible controls */
    PL_TEXT_FOLD_SPACE = 1u << 1,     /* runs of white space -> one U+0020, trimmed */
    PL_TEXT_CASEFOLD = 1u << 2,       /* full Unicode case folding */
    PL_TEXT_KEEP_NEWLINES = 1u << 3,  /* with FOLD_SPACE: keep one '\n' per line break run */
    PL_TEXT_DEFAULT = PL_TEXT_STRIP_CONTROLS | PL_TEXT_FOLD_SPACE
};

/**
 * Length of the UTF-8 sequence starting at s[i] (i < len) when it is well
 * formed, else 0. Follows Unicode's table of well-formed byte sequences
 * (chapter 3, table 3-7), which rules out overlong forms, surrogates and
 * code points above U+10FFFF. Inline: the detector runs it per character.
 */
static inline size_t pl_text_utf8_seq_len(const char *s, size_t len, size_t i)
{
    const unsigned char *u = (const unsigned char *)s;
    unsigned char b = u[i], lo = 0x80, hi = 0xBF;
    size_t n;

    if (b < 0x80)
        return 1;
    if (b >= 0xC2 && b <= 0xDF) {
        n = 2;
    } else if (b >= 0xE0 && b <= 0xEF) {
        n = 3;
        if (b == 0xE0)
            lo = 0xA0;
        else if (b == 0xED)
            hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
        n = 4;
        if (b == 0xF0)
            lo = 0x90;
        else if (b == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (len - i < n || u[i + 1] < lo || u[i + 1] > hi)
        return 0;
    for (size_t k = 2; k < n; k++)
        if (u[i + k] < 0x80 || u[i + k] > 0xBF)
            return 0;
    return n;
}

/**
 * Checks that `s[0..len)` is well-formed UTF-8 (no overlong forms,
 * surrogates or code points above U+10FFFF). Returns 0, or PL_EUTF8 and
 * stores the byte offset of the first bad sequence in `*bad_offset` (when
 * not NULL) and a message naming it in `err` (when not NULL).
 */
int pl_text_validate_utf8(const char *s, size_t len, size_t *bad_offset,
                          pl_error *err);

/**
 * The usual inbound pipeline: validates `s`, then applies `flags`
 * (PL_TEXT_*), then normalizes to `form`. On success returns 0 and stores a
 * malloc'ed NUL-terminated UTF-8 string in `*out` (its length, without the
 * NUL, in `*out_len` when not NULL); the caller frees it with free().
 * Returns PL_EUTF8 (with the offset in the message), PL_ELIMIT, PL_ENOMEM or
 * PL_EICU otherwise, and leaves `*out` NULL.
 */
int pl_text_prepare(const char *s, size_t len, pl_text_form form,
                    unsigned flags, char **out, size_t *out_len,
                    pl_error *err);

/**
 * Normalizes valid UTF-8 to `form` only. Same return values and ownership
 * as pl_text_prepare().
 */
int pl_text_normalize(const char *s, size_t len, pl_text_form form,
                      char **out, size_t *out_len, pl_error *err);

/**
 * Whether valid UTF-8 is already in `form`, by ICU's full check: it settles
 * the characters the quick check leaves open (vowel signs and other marks
 * that may compose with what precedes them), so callers can skip
 * normalizing text that would come out the same. Returns 1 or 0, or the
 * errors of pl_text_prepare().
 */
int pl_text_is_normalized(const char *s, size_t len, pl_text_form form, pl_error *err);

/**
 * Full Unicode case folding (CaseFolding.txt status C+F: "Straße" ->
 * "strasse"). Same return values and ownership as pl_text_prepare().
 */
int pl_text_casefold(const char *s, size_t len, char **out, size_t *out_len,
                     pl_error *err);

typedef enum pl_text_unit {
    PL_TEXT_SENTENCES = 0,
    PL_TEXT_WORDS /* only word-like segments: no spaces or punctuation */
} pl_text_unit;

/* A segment or run: bytes [start, end) of the input. */
typedef struct pl_text_span {
    size_t start;
    size_t end;
} pl_text_span;

/**
 * Splits valid UTF-8 into sentences or words with ICU break iterators for
 * `locale` (NULL or "" for the root locale); Thai, Lao, Khmer, Burmese,
 * Chinese and Japanese words come from ICU's dictionaries. On success
 * returns 0, stores a malloc'ed array in `*spans` (free() it; NULL when
 * there are none) and its length in `*count`. Errors as pl_text_prepare().
 */
int pl_text_segment(const char *s, size_t len, pl_text_unit unit,
                    const char *locale, pl_text_span **spans, size_t *count,
                    pl_error *err);

/* A maximal run of one script. Common and Inherited characters (digits,
 * punctuation, combining marks) join the run they sit in. */
typedef struct pl_text_run {
    size_t start;
    size_t end;
    int script;        /* ICU UScriptCode */
    char code[5];      /* ISO 15924: "Latn", "Arab", "Hani"; "Zyyy" if only common */
    size_t letters;    /* letters (general category L*) in the run */
} pl_text_run;

/**
 * Splits valid UTF-8 into script runs. On success returns 0, stores a
 * malloc'ed array in `*runs` (free() it; NULL for empty input) and its
 * length in `*count`. Errors as pl_text_prepare().
 */
int pl_text_script_runs(const char *s, size_t len, pl_text_run **runs,
                        size_t *count, pl_error *err);

/**
 * Decodes the code point at `s[*i]` of valid UTF-8 and advances `*i`.
 * Returns the code point, or -1 at the end or on a malformed sequence.
 */
int32_t pl_text_next_cp(const char *s, size_t len, size_t *i);

#ifdef __cplusplus
}
#endif

#endif
