/*
 * Sentence and word segmentation through ICU break iterators, and script
 * runs. Offsets go back to the caller as UTF-8 byte offsets.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/uscript.h>

#include "parley/text.h"
#include "text_internal.h"

/* Grows `*arr` (of `*cap` spans) to hold one more; returns 0 or PL_ENOMEM. */
static int span_push(pl_text_span **arr, size_t *count, size_t *cap,
                     size_t start, size_t end, pl_error *err)
{
    if (*count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 16;
        pl_text_span *n = realloc(*arr, ncap * sizeof *n);
        if (n == NULL)
            return pl_error_set(err, PL_ENOMEM, "out of memory");
        *arr = n;
        *cap = ncap;
    }
    (*arr)[*count].start = start;
    (*arr)[*count].end = end;
    (*count)++;
    return 0;
}

int pl_text_segment(const char *s, size_t len, pl_text_unit unit,
                    const char *locale, pl_text_span **spans, size_t *count,
                    pl_error *err)
{
    UChar *u = NULL;
    size_t *off = NULL;
    int32_t n = 0;
    UBreakIterator *bi = NULL;
    pl_text_span *arr = NULL;
    size_t cnt = 0, cap = 0;
    int rc;

    if (spans == NULL || count == NULL)
        return pl_error_set(err, PL_EINVAL, "no output pointer");
    *spans = NULL;
    *count = 0;
    if (unit != PL_TEXT_SENTENCES && unit != PL_TEXT_WORDS)
        return pl_error_set(err, PL_EINVAL, "unknown segmentation unit %d", (int)unit);
    if ((rc = pl__text_check_input(s, len, err)) < 0)
        return rc;
    if (len == 0)
        return 0;
    if ((rc = pl__utf8_to_u16(s, len, &u, &n, &off, err)) < 0)
        return rc;

    UErrorCode st = U_ZERO_ERROR;
    bi = ubrk_open(unit == PL_TEXT_WORDS ? UBRK_WORD : UBRK_SENTENCE,
                   locale && *locale ? locale : "", u, n, &st);
    if (U_FAILURE(st)) {
        rc = pl__icu_error(err, st, "opening the break iterator");
        goto fail;
    }
    int32_t start = ubrk_first(bi);
    for (int32_t end = ubrk_next(bi); end != UBRK_DONE;
         start = end, end = ubrk_next(bi)) {
        size_t b0 = off[start], b1 = off[end];
        if (unit == PL_TEXT_WORDS) {
            /* Rule status below UBRK_WORD_NONE_LIMIT: spaces, punctuation. */
            if (ubrk_getRuleStatus(bi) < UBRK_WORD_NONE_LIMIT)
                continue;
        } else {
            /* Trailing white space belongs to no sentence. */
            while (b1 > b0 && (s[b1 - 1] == ' ' || s[b1 - 1] == '\n' ||
                               s[b1 - 1] == '\t' || s[b1 - 1] == '\r'))
                b1--;
            if (b1 == b0)
                continue;
        }
        if ((rc = span_push(&arr, &cnt, &cap, b0, b1, err)) < 0)
            goto fail;
    }
    *spans = arr;
    *count = cnt;
    arr = NULL;
    rc = 0;
fail:
    if (bi)
        ubrk_close(bi);
    free(arr);
    free(u);
    free(off);
    return rc;
}

static int run_push(pl_text_run **arr, size_t *count, size_t *cap,
                    const pl_text_run *r, pl_error *err)
{
    if (*count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 8;
        pl_text_run *n = realloc(*arr, ncap * sizeof *n);
        if (n == NULL)
            return pl_error_set(err, PL_ENOMEM, "out of memory");
        *arr = n;
        *cap = ncap;
    }
    (*arr)[(*count)++] = *r;
    return 0;
}

static void set_code(pl_text_run *r, UScriptCode sc)
{
    const char *name = uscript_getShortName(sc);
    r->script = sc;
    snprintf(r->code, sizeof r->code, "%s", name ? name : "Zzzz");
}

int pl_text_script_runs(const char *s, size_t len, pl_text_run **runs,
                        size_t *count, pl_error *err)
{
    pl_text_run *arr = NULL, cur;
    size_t cnt = 0, cap = 0, i = 0;
    bool open = false;
    int rc;

    if (runs == NULL || count == NULL)
        return pl_error_set(err, PL_EINVAL, "no output pointer");
    *runs = NULL;
    *count = 0;
    if ((rc = pl__text_check_input(s, len, err)) < 0)
        return rc;
    memset(&cur, 0, sizeof cur);
    while (i < len) {
        size_t at = i;
        UChar32 c = pl_text_next_cp(s, len, &i);
        UErrorCode st = U_ZERO_ERROR;
        UScriptCode sc = uscript_getScript(c, &st);
        if (U_FAILURE(st))
            sc = USCRIPT_UNKNOWN;
        bool neutral = sc == USCRIPT_COMMON || sc == USCRIPT_INHERITED;
        if (!open) {
            cur.start = at;
            cur.letters = 0;
            set_code(&cur, neutral ? USCRIPT_COMMON : sc);
            open = true;
        } else if (!neutral && cur.script == USCRIPT_COMMON) {
            /* Leading digits or punctuation join the first real script. */
            set_code(&cur, sc);
        } else if (!neutral && sc != cur.script) {
            cur.end = at;
            if ((rc = run_push(&arr, &cnt, &cap, &cur, err)) < 0)
                goto fail;
            cur.start = at;
            cur.letters = 0;
            set_code(&cur, sc);
        }
        if (u_isalpha(c))
            cur.letters++;
        cur.end = i;
    }
    if (open && (rc = run_push(&arr, &cnt, &cap, &cur, err)) < 0)
        goto fail;
    *runs = arr;
    *count = cnt;
    return 0;
fail:
    free(arr);
    return rc;
}
