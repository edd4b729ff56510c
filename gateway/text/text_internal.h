/*
 * Helpers shared by the files of the text module: conversion between the
 * UTF-8 used at every boundary and the UTF-16 that ICU calls need.
 */
#ifndef PARLEY_TEXT_INTERNAL_H
#define PARLEY_TEXT_INTERNAL_H

#include <stddef.h>
#include <unicode/utypes.h>

#include "parley/error.h"

/*
 * Converts valid UTF-8 to a malloc'ed UTF-16 buffer (NUL-terminated). When
 * `offsets` is not NULL it also receives a malloc'ed array of len16 + 1
 * byte offsets: the UTF-8 offset where each UTF-16 unit starts. The input
 * must have passed pl_text_validate_utf8(). Returns 0 or PL_ENOMEM/PL_ELIMIT.
 */
int pl__utf8_to_u16(const char *s, size_t len, UChar **out, int32_t *out_len,
                    size_t **offsets, pl_error *err);

/* Converts UTF-16 to malloc'ed NUL-terminated UTF-8. Returns 0 or a pl_err. */
int pl__u16_to_utf8(const UChar *u, int32_t ulen, char **out, size_t *out_len,
                    pl_error *err);

/* Turns a failed UErrorCode into PL_EICU with ICU's name for it. */
int pl__icu_error(pl_error *err, UErrorCode status, const char *what);

/* Validates and checks the size limit; the first step of every entry point. */
int pl__text_check_input(const char *s, size_t len, pl_error *err);

#endif
