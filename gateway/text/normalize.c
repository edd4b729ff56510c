/*
 * The inbound text pipeline: removal of bidi and invisible controls (keeping
 * the joiners that emoji, Persian and Indic text depend on), white-space
 * folding, NFC/NFKC normalization and full case folding.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/uscript.h>
#include <unicode/ustring.h>
#include <unicode/utf16.h>

#include "parley/text.h"
#include "text_internal.h"

#define ZWNJ 0x200C
#define ZWJ 0x200D

static bool is_bidi_control(UChar32 c)
{
    return (c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069) ||
           c == 0x200E || c == 0x200F || c == 0x061C;
}

static bool is_emoji_part(UChar32 c)
{
    return u_hasBinaryProperty(c, UCHAR_EXTENDED_PICTOGRAPHIC) ||
           u_hasBinaryProperty(c, UCHAR_EMOJI_MODIFIER) || c == 0xFE0F;
}

/* Scripts whose orthography uses ZWNJ/ZWJ to select letter forms. */
static bool joiner_script(UScriptCode sc)
{
    switch (sc) {
    case USCRIPT_ARABIC:
    case USCRIPT_SYRIAC:
    case USCRIPT_DEVANAGARI:
    case USCRIPT_BENGALI:
    case USCRIPT_GURMUKHI:
    case USCRIPT_GUJARATI:
    case USCRIPT_ORIYA:
    case USCRIPT_TAMIL:
    case USCRIPT_TELUGU:
    case USCRIPT_KANNADA:
    case USCRIPT_MALAYALAM:
    case USCRIPT_SINHALA:
        return true;
    default:
        return false;
    }
}

static UScriptCode script_of(UChar32 c)
{
    UErrorCode st = U_ZERO_ERROR;
    UScriptCode sc = uscript_getScript(c, &st);
    return U_FAILURE(st) ? USCRIPT_INVALID_CODE : sc;
}

/*
 * Decides whether the format character `c` stays. `prev` is the last kept
 * character, `base` the script of the last kept non-mark character, `next`
 * the following character (or -1).
 */
static bool keep_format_char(UChar32 c, UChar32 prev, UScriptCode base, UChar32 next)
{
    if (c == ZWJ) {
        if (prev >= 0 && next >= 0 && is_emoji_part(prev) &&
            u_hasBinaryProperty(next, UCHAR_EXTENDED_PICTOGRAPHIC))
            return true;
        return next >= 0 && joiner_script(base) && script_of(next) == base;
    }
    if (c == ZWNJ)
        return next >= 0 && joiner_script(base) && script_of(next) == base;
    /* Emoji tag sequences (subdivision flags) follow a pictograph. */
    if (c >= 0xE0020 && c <= 0xE007F)
        return prev >= 0 && (is_emoji_part(prev) || (prev >= 0xE0020 && prev <= 0xE007F));
    /* Arabic number signs and similar marks are visible. */
    return u_hasBinaryProperty(c, UCHAR_PREPENDED_CONCATENATION_MARK);
}

static bool is_line_break(UChar32 c)
{
    return c == '\n' || c == '\r' || c == 0x0B || c == 0x0C || c == 0x85 ||
           c == 0x2028 || c == 0x2029;
}

/*
 * Applies STRIP_CONTROLS and FOLD_SPACE to `u` in place (the output is
 * never longer than the input). Returns the new length.
 */
static int32_t clean_u16(UChar *u, int32_t n, unsigned flags)
{
    int32_t i = 0, o = 0;
    UChar32 prev = -1;
    UScriptCode base = USCRIPT_INVALID_CODE;
    bool pending_space = false, pending_newline = false;
    bool strip = flags & PL_TEXT_STRIP_CONTROLS;
    bool fold = flags & PL_TEXT_FOLD_SPACE;

    while (i < n) {
        UChar32 c;
        U16_NEXT(u, i, n, c);
        if (fold && u_isUWhiteSpace(c)) {
            pending_space = true;
            if (is_line_break(c))
                pending_newline = true;
            continue;
        }
        if (strip) {
            int8_t cat = u_charType(c);
            if (is_bidi_control(c))
                continue;
            if (cat == U_CONTROL_CHAR && !(c == '\t' || is_line_break(c)))
                continue;
            if (cat == U_FORMAT_CHAR) {
                UChar32 next = -1;
                if (i < n) {
                    int32_t j = i;
                    U16_NEXT(u, j, n, next);
                }
                if (!keep_format_char(c, prev, base, next))
                    continue;
            }
        }
        if (pending_space && o > 0) {
            bool nl = pending_newline && (flags & PL_TEXT_KEEP_NEWLINES);
            u[o++] = nl ? '\n' : ' ';
        }
        pending_space = pending_newline = false;
        U16_APPEND_UNSAFE(u, o, c);
        prev = c;
        UScriptCode sc = script_of(c);
        if (sc != USCRIPT_INHERITED && sc != USCRIPT_COMMON)
            base = sc;
    }
    u[o] = 0;
    return o;
}

/* ICU's normalizer for `form`, in *nz. */
static int get_normalizer(pl_text_form form, const UNormalizer2 **nz, pl_error *err)
{
    UErrorCode st = U_ZERO_ERROR;
    if (form != PL_TEXT_NFC && form != PL_TEXT_NFKC)
        return pl_error_set(err, PL_EINVAL, "unknown normalization form %d", (int)form);
    *nz = form == PL_TEXT_NFKC ? unorm2_getNFKCInstance(&st) : unorm2_getNFCInstance(&st);
    if (U_FAILURE(st))
        return pl__icu_error(err, st, "loading the normalizer");
    return 0;
}

static int normalize_u16(UChar **u, int32_t *n, pl_text_form form, pl_error *err)
{
    UErrorCode st = U_ZERO_ERROR;
    const UNormalizer2 *nz;
    int rc = get_normalizer(form, &nz, err);
    if (rc < 0)
        return rc;
    /* Most chat text is already normalized; skip the copy then. */
    int32_t done = unorm2_spanQuickCheckYes(nz, *u, *n, &st);
    if (U_FAILURE(st))
        return pl__icu_error(err, st, "normalization check");
    if (done == *n)
        return 0;
    /* The quick check stops at the first "maybe" (a vowel sign that could
     * compose); most such text is normalized already. */
    if (unorm2_isNormalized(nz, *u, *n, &st) && U_SUCCESS(st))
        return 0;
    st = U_ZERO_ERROR;
    /* NFKC can expand a character up to 18 times; preflight instead of guessing. */
    int32_t need = unorm2_normalize(nz, *u, *n, NULL, 0, &st);
    if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
        return pl__icu_error(err, st, "normalization");
    UChar *buf = malloc(((size_t)need + 1) * sizeof *buf);
    if (buf == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    st = U_ZERO_ERROR;
    unorm2_normalize(nz, *u, *n, buf, need + 1, &st);
    if (U_FAILURE(st)) {
        free(buf);
        return pl__icu_error(err, st, "normalization");
    }
    free(*u);
    *u = buf;
    *n = need;
    return 0;
}

int pl_text_is_normalized(const char *s, size_t len, pl_text_form form, pl_error *err)
{
    UChar stackbuf[512], *u = stackbuf;
    int32_t n = 0;
    const UNormalizer2 *nz;
    int rc;
    if ((rc = get_normalizer(form, &nz, err)) < 0 ||
        (rc = pl__text_check_input(s, len, err)) < 0)
        return rc;
    UErrorCode st = U_ZERO_ERROR;
    /* A chat message fits on the stack; longer text is converted on the heap. */
    u_strFromUTF8(stackbuf, (int32_t)(sizeof stackbuf / sizeof stackbuf[0]), &n, s,
                  (int32_t)len, &st);
    if (st == U_BUFFER_OVERFLOW_ERROR || st == U_STRING_NOT_TERMINATED_WARNING) {
        if ((rc = pl__utf8_to_u16(s, len, &u, &n, NULL, err)) < 0)
            return rc;
    } else if (U_FAILURE(st)) {
        return pl__icu_error(err, st, "conversion to UTF-16");
    }
    st = U_ZERO_ERROR;
    UBool yes = unorm2_isNormalized(nz, u, n, &st);
    if (u != stackbuf)
        free(u);
    if (U_FAILURE(st))
        return pl__icu_error(err, st, "normalization check");
    return yes ? 1 : 0;
}

static int casefold_u16(UChar **u, int32_t *n, pl_error *err)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t need = u_strFoldCase(NULL, 0, *u, *n, U_FOLD_CASE_DEFAULT, &st);
    if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
        return pl__icu_error(err, st, "case folding");
    UChar *buf = malloc(((size_t)need + 1) * sizeof *buf);
    if (buf == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    st = U_ZERO_ERROR;
    u_strFoldCase(buf, need + 1, *u, *n, U_FOLD_CASE_DEFAULT, &st);
    if (U_FAILURE(st)) {
        free(buf);
        return pl__icu_error(err, st, "case folding");
    }
    free(*u);
    *u = buf;
    *n = need;
    return 0;
}

/* Shared driver: validate, convert, apply the steps, convert back. */
static int run_pipeline(const char *s, size_t len, bool do_normalize,
                        pl_text_form form, unsigned flags, char **out,
                        size_t *out_len, pl_error *err)
{
    UChar *u = NULL;
    int32_t n = 0;
    int rc;

    if (out == NULL)
        return pl_error_set(err, PL_EINVAL, "no output pointer");
    *out = NULL;
    if (form != PL_TEXT_NFC && form != PL_TEXT_NFKC)
        return pl_error_set(err, PL_EINVAL, "unknown normalization form %d", (int)form);
    if ((rc = pl__text_check_input(s, len, err)) < 0)
        return rc;
    if ((rc = pl__utf8_to_u16(s, len, &u, &n, NULL, err)) < 0)
        return rc;
    if (flags & (PL_TEXT_STRIP_CONTROLS | PL_TEXT_FOLD_SPACE))
        n = clean_u16(u, n, flags);
    /* Folding before normalizing lets NFC recompose what folding decomposed. */
    if ((flags & PL_TEXT_CASEFOLD) && (rc = casefold_u16(&u, &n, err)) < 0)
        goto fail;
    if (do_normalize && (rc = normalize_u16(&u, &n, form, err)) < 0)
        goto fail;
    rc = pl__u16_to_utf8(u, n, out, out_len, err);
fail:
    free(u);
    return rc;
}

int pl_text_prepare(const char *s, size_t len, pl_text_form form,
                    unsigned flags, char **out, size_t *out_len, pl_error *err)
{
    return run_pipeline(s, len, true, form, flags, out, out_len, err);
}

int pl_text_normalize(const char *s, size_t len, pl_text_form form,
                      char **out, size_t *out_len, pl_error *err)
{
    return run_pipeline(s, len, true, form, 0, out, out_len, err);
}

int pl_text_casefold(const char *s, size_t len, char **out, size_t *out_len,
                     pl_error *err)
{
    return run_pipeline(s, len, false, PL_TEXT_NFC, PL_TEXT_CASEFOLD, out,
                        out_len, err);
}
