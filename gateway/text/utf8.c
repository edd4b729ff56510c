/*
 * UTF-8 validation with the offset of the first bad byte, and the
 * UTF-8 <-> UTF-16 conversions (with an offset map) that ICU calls need.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ustring.h>

#include "parley/text.h"
#include "text_internal.h"

int pl_text_validate_utf8(const char *s, size_t len, size_t *bad_offset,
                          pl_error *err)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;

    if (s == NULL && len > 0)
        return pl_error_set(err, PL_EINVAL, "no input");
    while (i < len) {
        /* Fast path over ASCII, which most chat text is made of. */
        if (u[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = pl_text_utf8_seq_len(s, len, i);
        if (n == 0) {
            if (bad_offset)
                *bad_offset = i;
            return pl_error_set(err, PL_EUTF8,
                                "invalid UTF-8 at byte offset %zu (byte 0x%02X)",
                                i, u[i]);
        }
        i += n;
    }
    return 0;
}

int32_t pl_text_next_cp(const char *s, size_t len, size_t *i)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t p = *i;

    if (p >= len)
        return -1;
    size_t n = pl_text_utf8_seq_len(s, len, p);
    int32_t c;
    switch (n) {
    case 1:
        c = u[p];
        break;
    case 2:
        c = ((u[p] & 0x1F) << 6) | (u[p + 1] & 0x3F);
        break;
    case 3:
        c = ((u[p] & 0x0F) << 12) | ((u[p + 1] & 0x3F) << 6) | (u[p + 2] & 0x3F);
        break;
    case 4:
        c = ((u[p] & 0x07) << 18) | ((u[p + 1] & 0x3F) << 12) |
            ((u[p + 2] & 0x3F) << 6) | (u[p + 3] & 0x3F);
        break;
    default:
        return -1;
    }
    *i = p + n;
    return c;
}

int pl__text_check_input(const char *s, size_t len, pl_error *err)
{
    if (s == NULL && len > 0)
        return pl_error_set(err, PL_EINVAL, "no input");
    if (len > PL_TEXT_MAX_INPUT)
        return pl_error_set(err, PL_ELIMIT, "text of %zu bytes exceeds the limit of %u",
                            len, PL_TEXT_MAX_INPUT);
    return pl_text_validate_utf8(s, len, NULL, err);
}

int pl__icu_error(pl_error *err, UErrorCode status, const char *what)
{
    return pl_error_set(err, PL_EICU, "%s: %s", what, u_errorName(status));
}

int pl__utf8_to_u16(const char *s, size_t len, UChar **out, int32_t *out_len,
                    size_t **offsets, pl_error *err)
{
    /* One UTF-16 unit per byte is always enough (a 4-byte sequence gives 2). */
    UChar *u = malloc((len + 1) * sizeof *u);
    size_t *off = NULL;
    int32_t n = 0;
    size_t i = 0;

    if (u == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    if (offsets) {
        off = malloc((len + 1) * sizeof *off);
        if (off == NULL) {
            free(u);
            return pl_error_set(err, PL_ENOMEM, "out of memory");
        }
    }
    while (i < len) {
        size_t start = i;
        int32_t c = pl_text_next_cp(s, len, &i);
        if (c < 0) {
            free(u);
            free(off);
            return pl_error_set(err, PL_EUTF8, "invalid UTF-8 at byte offset %zu", start);
        }
        if (c < 0x10000) {
            if (off)
                off[n] = start;
            u[n++] = (UChar)c;
        } else {
            if (off) {
                off[n] = start;
                off[n + 1] = start;
            }
            u[n++] = (UChar)(0xD7C0 + (c >> 10));
            u[n++] = (UChar)(0xDC00 | (c & 0x3FF));
        }
    }
    u[n] = 0;
    if (off)
        off[n] = len;
    *out = u;
    *out_len = n;
    if (offsets)
        *offsets = off;
    return 0;
}

int pl__u16_to_utf8(const UChar *u, int32_t ulen, char **out, size_t *out_len,
                    pl_error *err)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t need = 0;

    u_strToUTF8(NULL, 0, &need, u, ulen, &st);
    if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
        return pl__icu_error(err, st, "UTF-16 to UTF-8");
    char *buf = malloc((size_t)need + 1);
    if (buf == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    st = U_ZERO_ERROR;
    u_strToUTF8(buf, need + 1, NULL, u, ulen, &st);
    if (U_FAILURE(st)) {
        free(buf);
        return pl__icu_error(err, st, "UTF-16 to UTF-8");
    }
    buf[need] = '\0';
    *out = buf;
    if (out_len)
        *out_len = (size_t)need;
    return 0;
}
