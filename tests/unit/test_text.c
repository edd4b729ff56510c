/*
 * Unit tests for the text module: UTF-8 validation offsets, control
 * stripping, white-space and case folding, Unicode's NormalizationTest.txt,
 * segmentation (including dictionary-based Thai/Chinese/Japanese) and script runs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley/text.h"

#define NORMALIZATION_TEST "/usr/share/unicode/NormalizationTest.txt"

/* Runs pl_text_prepare and returns the malloc'ed result (test fails on error). */
static char *prep(const char *in, pl_text_form form, unsigned flags)
{
    char *out = NULL;
    pl_error err;
    int rc = pl_text_prepare(in, strlen(in), form, flags, &out, NULL, &err);
    if (rc != 0)
        fail_msg("prepare(%s): %s", in, err.message);
    return out;
}

static void expect_prep(const char *in, pl_text_form form, unsigned flags,
                        const char *want)
{
    char *got = prep(in, form, flags);
    assert_string_equal(got, want);
    free(got);
}

static void test_utf8_offsets(void **state)
{
    static const struct {
        const char *s;
        size_t len;
        size_t bad;
    } cases[] = {
        {"abc\xff", 4, 3},             /* byte never valid */
        {"h\xc3", 2, 1},                /* truncated 2-byte sequence */
        {"ok \xc0\xaf", 5, 3},          /* overlong '/' */
        {"\xe0\x80\xaf", 3, 0},         /* overlong 3-byte */
        {"x\xed\xa0\x80y", 5, 1},       /* UTF-16 surrogate */
        {"\xf4\x90\x80\x80", 4, 0},     /* above U+10FFFF */
        {"caf\xc3\xa9 \x80", 7, 6},     /* stray continuation after valid é */
        {"\xe4\xbd\xa0\xe5\xa5", 5, 3}, /* 你 then a cut-off character */
    };
    pl_error err;
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t off = 999;
        int rc = pl_text_validate_utf8(cases[i].s, cases[i].len, &off, &err);
        assert_int_equal(rc, PL_EUTF8);
        assert_int_equal(off, cases[i].bad);
        char want[64];
        snprintf(want, sizeof want, "byte offset %zu", cases[i].bad);
        assert_non_null(strstr(err.message, want));
    }
    assert_int_equal(pl_text_validate_utf8("\xf0\x9f\x98\x80 ok \xd8\xb4", 10, NULL, NULL), 0);
    assert_int_equal(pl_text_validate_utf8("", 0, NULL, NULL), 0);

    /* Every entry point rejects bad input with the offset in its message. */
    char *out = (char *)1;
    assert_int_equal(pl_text_prepare("hola\xfe", 5, PL_TEXT_NFC, PL_TEXT_DEFAULT,
                                     &out, NULL, &err), PL_EUTF8);
    assert_null(out);
    assert_non_null(strstr(err.message, "offset 4"));
}

static void test_strip_controls(void **state)
{
    (void)state;
    /* Bidi overrides and isolates, LRM, BOM, soft hyphen and C0 controls go. */
    expect_prep("\xe2\x80\xaeorder\xe2\x80\xac 12\xe2\x81\xa6" "34\xe2\x81\xa9", PL_TEXT_NFC,
                PL_TEXT_DEFAULT, "order 1234");
    expect_prep("\xef\xbb\xbfhi\xe2\x80\x8e\xc2\xad!\x07", PL_TEXT_NFC, PL_TEXT_DEFAULT, "hi!");
    /* ZWJ inside an emoji sequence (family) stays; between letters it goes. */
    expect_prep("\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9", PL_TEXT_NFC,
                PL_TEXT_DEFAULT, "\xf0\x9f\x91\xa8\xe2\x80\x8d\xf0\x9f\x91\xa9");
    expect_prep("a\xe2\x80\x8d" "b", PL_TEXT_NFC, PL_TEXT_DEFAULT, "ab");
    /* Persian ZWNJ (می‌خواهم) stays; between Latin letters it goes. */
    expect_prep("\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xae\xd9\x88\xd8\xa7\xd9\x87\xd9\x85",
                PL_TEXT_NFC, PL_TEXT_DEFAULT,
                "\xd9\x85\xdb\x8c\xe2\x80\x8c\xd8\xae\xd9\x88\xd8\xa7\xd9\x87\xd9\x85");
    expect_prep("x\xe2\x80\x8cy", PL_TEXT_NFC, PL_TEXT_DEFAULT, "xy");
    /* Devanagari ZWJ (क्‍ष) stays. */
    expect_prep("\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8d\xe0\xa4\xb7", PL_TEXT_NFC, PL_TEXT_DEFAULT,
                "\xe0\xa4\x95\xe0\xa5\x8d\xe2\x80\x8d\xe0\xa4\xb7");
    /* A subdivision flag keeps its tag characters. */
    const char *scotland = "\xf0\x9f\x8f\xb4\xf3\xa0\x81\xa7\xf3\xa0\x81\xa2\xf3\xa0\x81\xb3"
                           "\xf3\xa0\x81\xa3\xf3\xa0\x81\xb4\xf3\xa0\x81\xbf";
    expect_prep(scotland, PL_TEXT_NFC, PL_TEXT_DEFAULT, scotland);
    /* Without the flag, controls are left alone. */
    expect_prep("a\xe2\x80\xae" "b", PL_TEXT_NFC, 0, "a\xe2\x80\xae" "b");
}

static void test_space_folding(void **state)
{
    (void)state;
    expect_prep("  hola\t\t \xc2\xa0 mundo \xe3\x80\x80", PL_TEXT_NFC, PL_TEXT_DEFAULT,
                "hola mundo");
    expect_prep("one \r\n\r\n two", PL_TEXT_NFC, PL_TEXT_DEFAULT | PL_TEXT_KEEP_NEWLINES,
                "one\ntwo");
    expect_prep("   ", PL_TEXT_NFC, PL_TEXT_DEFAULT, "");
}

static void test_nfc_nfkc_and_casefold(void **state)
{
    (void)state;
    /* e + combining acute composes under NFC. */
    expect_prep("cafe\xcc\x81", PL_TEXT_NFC, 0, "caf\xc3\xa9");
    /* Full-width letters and the fi ligature survive NFC, fold under NFKC. */
    expect_prep("\xef\xbc\xa1\xef\xac\x81", PL_TEXT_NFC, 0, "\xef\xbc\xa1\xef\xac\x81");
    expect_prep("\xef\xbc\xa1\xef\xac\x81", PL_TEXT_NFKC, 0, "Afi");
    /* Full case folding: ß -> ss, Σ -> σ, İ -> i̇. */
    char *out = NULL;
    assert_int_equal(pl_text_casefold("Stra\xc3\x9f" "e \xce\xa3", 10, &out, NULL, NULL), 0);
    assert_string_equal(out, "strasse \xcf\x83");
    free(out);
    expect_prep("\xc3\x89T\xc3\x89", PL_TEXT_NFC, PL_TEXT_CASEFOLD, "\xc3\xa9t\xc3\xa9");
    /* An unknown form is an argument error. */
    assert_int_equal(pl_text_normalize("a", 1, (pl_text_form)7, &out, NULL, NULL), PL_EINVAL);
}

/* Parses "0044 0307" into UTF-8. */
static void hex_field_to_utf8(const char *f, const char *end, char *out, size_t cap)
{
    size_t o = 0;
    while (f < end) {
        char *next;
        unsigned long c = strtoul(f, &next, 16);
        if (next == f)
            break;
        f = next;
        if (c < 0x80)
            out[o++] = (char)c;
        else if (c < 0x800) {
            out[o++] = (char)(0xC0 | (c >> 6));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            out[o++] = (char)(0xE0 | (c >> 12));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            out[o++] = (char)(0xF0 | (c >> 18));
            out[o++] = (char)(0x80 | ((c >> 12) & 0x3F));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        }
        assert_true(o + 4 < cap);
    }
    out[o] = '\0';
}

static void check_norm(const char *in, pl_text_form form, const char *want, unsigned line)
{
    char *got = NULL;
    int rc = pl_text_normalize(in, strlen(in), form, &got, NULL, NULL);
    assert_int_equal(rc, 0);
    if (strcmp(got, want) != 0)
        fail_msg("NormalizationTest.txt line %u: %s mismatch", line,
                 form == PL_TEXT_NFC ? "NFC" : "NFKC");
    free(got);
    /* The check that lets callers skip normalizing agrees. */
    if (pl_text_is_normalized(in, strlen(in), form, NULL) != (strcmp(in, want) == 0))
        fail_msg("NormalizationTest.txt line %u: %s check wrong", line,
                 form == PL_TEXT_NFC ? "NFC" : "NFKC");
}

static void test_is_normalized(void **state)
{
    (void)state;
    pl_error err;
    assert_int_equal(pl_text_is_normalized("café", strlen("café"), PL_TEXT_NFC, NULL), 1);
    assert_int_equal(pl_text_is_normalized("cafe\xcc\x81", 6, PL_TEXT_NFC, NULL), 0);
    /* Bengali: the vowel sign U+09BE after a consonant stays (the quick
     * check only says "maybe"); after U+09C7 the two compose to U+09CB. */
    const char *bangla = "\xe0\xa6\xac\xe0\xa6\xbe\xe0\xa6\x82\xe0\xa6\xb2\xe0\xa6\xbe";
    assert_int_equal(pl_text_is_normalized(bangla, strlen(bangla), PL_TEXT_NFC, NULL), 1);
    const char *split = "\xe0\xa6\x95\xe0\xa7\x87\xe0\xa6\xbe";
    assert_int_equal(pl_text_is_normalized(split, strlen(split), PL_TEXT_NFC, NULL), 0);
    /* The ligature is NFC but not NFKC. */
    assert_int_equal(pl_text_is_normalized("\xef\xac\x81", 3, PL_TEXT_NFC, NULL), 1);
    assert_int_equal(pl_text_is_normalized("\xef\xac\x81", 3, PL_TEXT_NFKC, NULL), 0);
    /* Longer than the stack buffer: converted on the heap. */
    char long_text[3000];
    size_t n = 0;
    while (n + 3 < sizeof long_text) {
        memcpy(long_text + n, "e\xcc\x81", 3);
        n += 3;
    }
    assert_int_equal(pl_text_is_normalized(long_text, n, PL_TEXT_NFC, NULL), 0);
    memset(long_text, 'a', sizeof long_text);
    assert_int_equal(pl_text_is_normalized(long_text, sizeof long_text, PL_TEXT_NFC, NULL), 1);
    /* Bad input is an error, not an answer. */
    assert_int_equal(pl_text_is_normalized("ab\xff", 3, PL_TEXT_NFC, &err), PL_EUTF8);
    assert_int_equal(pl_text_is_normalized("ab", 2, (pl_text_form)7, &err), PL_EINVAL);
}

/*
 * Unicode's conformance file: for each line c1;c2;c3;c4;c5,
 * c2 == NFC(c1) == NFC(c2) == NFC(c3) and c4 == NFC(c4) == NFC(c5), and
 * c4 == NFKC(c1..c5). unicode-data ships it bzip2-compressed.
 */
static void test_normalization_conformance(void **state)
{
    (void)state;
    FILE *f = fopen(NORMALIZATION_TEST, "r");
    int piped = 0;
    if (f == NULL) {
        f = popen("bzip2 -dc " NORMALIZATION_TEST ".bz2", "r");
        piped = 1;
    }
    assert_non_null(f);
    char line[4096], col[5][512];
    unsigned lineno = 0, cases = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        if (line[0] == '#' || line[0] == '@' || line[0] == '\n')
            continue;
        const char *p = line;
        int k;
        for (k = 0; k < 5; k++) {
            const char *semi = strchr(p, ';');
            assert_non_null(semi);
            hex_field_to_utf8(p, semi, col[k], sizeof col[k]);
            p = semi + 1;
        }
        for (k = 0; k < 3; k++)
            check_norm(col[k], PL_TEXT_NFC, col[1], lineno);
        for (k = 3; k < 5; k++)
            check_norm(col[k], PL_TEXT_NFC, col[3], lineno);
        for (k = 0; k < 5; k++)
            check_norm(col[k], PL_TEXT_NFKC, col[3], lineno);
        cases++;
    }
    if (piped)
        assert_int_equal(pclose(f), 0);
    else
        fclose(f);
    /* Unicode 15's file has about 19,000 cases; a short read is a failure. */
    assert_true(cases > 18000);
}

static void expect_spans(const char *s, pl_text_unit unit, const char *locale,
                         const char *const *want, size_t nwant)
{
    pl_text_span *sp = NULL;
    size_t n = 0;
    pl_error err;
    assert_int_equal(pl_text_segment(s, strlen(s), unit, locale, &sp, &n, &err), 0);
    assert_int_equal(n, nwant);
    for (size_t i = 0; i < n; i++) {
        size_t l = sp[i].end - sp[i].start;
        if (strlen(want[i]) != l || memcmp(s + sp[i].start, want[i], l) != 0)
            fail_msg("segment %zu: got '%.*s', want '%s'", i, (int)l, s + sp[i].start, want[i]);
    }
    free(sp);
}

static void test_segmentation(void **state)
{
    (void)state;
    const char *sent[] = {"Hi there.", "Where is my order #123?", "Thanks!"};
    expect_spans("Hi there. Where is my order #123? Thanks!", PL_TEXT_SENTENCES, "en", sent, 3);
    const char *words[] = {"don't", "ship", "it", "12.50"};
    expect_spans("don't ship it, 12.50!", PL_TEXT_WORDS, "en", words, 4);
    /* Thai has no spaces: ICU's dictionary finds สวัสดี | ครับ. */
    const char *thai[] = {"\xe0\xb8\xaa\xe0\xb8\xa7\xe0\xb8\xb1\xe0\xb8\xaa\xe0\xb8\x94\xe0\xb8\xb5",
                          "\xe0\xb8\x84\xe0\xb8\xa3\xe0\xb8\xb1\xe0\xb8\x9a"};
    expect_spans("\xe0\xb8\xaa\xe0\xb8\xa7\xe0\xb8\xb1\xe0\xb8\xaa\xe0\xb8\x94\xe0\xb8\xb5"
                 "\xe0\xb8\x84\xe0\xb8\xa3\xe0\xb8\xb1\xe0\xb8\x9a", PL_TEXT_WORDS, "th", thai, 2);
    /* Chinese: 我的订单 -> 我的 | 订单 (dictionary words, not single characters). */
    const char *zh[] = {"\xe6\x88\x91\xe7\x9a\x84", "\xe8\xae\xa2\xe5\x8d\x95"};
    expect_spans("\xe6\x88\x91\xe7\x9a\x84\xe8\xae\xa2\xe5\x8d\x95", PL_TEXT_WORDS, "zh", zh, 2);
    /* Japanese: 東京 | 都 | に | 住む. */
    const char *ja[] = {"\xe6\x9d\xb1\xe4\xba\xac", "\xe9\x83\xbd", "\xe3\x81\xab",
                        "\xe4\xbd\x8f\xe3\x82\x80"};
    expect_spans("\xe6\x9d\xb1\xe4\xba\xac\xe9\x83\xbd\xe3\x81\xab\xe4\xbd\x8f\xe3\x82\x80",
                 PL_TEXT_WORDS, "ja", ja, 4);
    pl_text_span *sp = (pl_text_span *)1;
    size_t n = 9;
    assert_int_equal(pl_text_segment("", 0, PL_TEXT_WORDS, NULL, &sp, &n, NULL), 0);
    assert_null(sp);
    assert_int_equal(n, 0);
    assert_int_equal(pl_text_segment("\xc3", 1, PL_TEXT_WORDS, NULL, &sp, &n, NULL), PL_EUTF8);
}

static void test_script_runs(void **state)
{
    (void)state;
    /* "Order 12: 注文 ありがとう مرحبا" */
    const char *s = "Order 12: \xe6\xb3\xa8\xe6\x96\x87 \xe3\x81\x82\xe3\x82\x8a "
                    "\xd9\x85\xd8\xb1";
    pl_text_run *r = NULL;
    size_t n = 0;
    assert_int_equal(pl_text_script_runs(s, strlen(s), &r, &n, NULL), 0);
    assert_int_equal(n, 4);
    assert_string_equal(r[0].code, "Latn");
    assert_int_equal(r[0].letters, 5);
    assert_int_equal(r[0].start, 0);
    assert_string_equal(r[1].code, "Hani");
    assert_int_equal(r[1].start, 10);
    assert_string_equal(r[2].code, "Hira");
    assert_string_equal(r[3].code, "Arab");
    assert_int_equal(r[3].end, strlen(s));
    assert_int_equal(r[3].letters, 2);
    free(r);
    /* Only digits and punctuation: one Common run. */
    assert_int_equal(pl_text_script_runs("12 ?!", 5, &r, &n, NULL), 0);
    assert_int_equal(n, 1);
    assert_string_equal(r[0].code, "Zyyy");
    assert_int_equal(r[0].letters, 0);
    free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_utf8_offsets),
        cmocka_unit_test(test_strip_controls),
        cmocka_unit_test(test_space_folding),
        cmocka_unit_test(test_nfc_nfkc_and_casefold),
        cmocka_unit_test(test_normalization_conformance),
        cmocka_unit_test(test_is_normalized),
        cmocka_unit_test(test_segmentation),
        cmocka_unit_test(test_script_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
