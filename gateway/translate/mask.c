/*
 * Masking: spans that must survive translation untouched or must never
 * reach the LLM vendor (URLs, e-mail addresses, phone numbers, Luhn-checked
 * card numbers, mod-97-checked IBANs, the policy's protected patterns,
 * glossary keep-terms, numbers with a unit or currency) become ⟦n⟧
 * placeholders; restoring puts them back and checks that each placeholder
 * came back exactly once. Matching runs on UTF-16 with ICU regular
 * expressions, so \p{Nd} covers every script's digits.
 */
#include "translate_internal.h"

#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/uregex.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

/* Placeholder brackets: U+27E6 and U+27E7 in UTF-8. */
#define PH_OPEN "\xE2\x9F\xA6"
#define PH_CLOSE "\xE2\x9F\xA7"
#define PH_LEN 3

enum { BUILTIN_URL, BUILTIN_EMAIL, BUILTIN_IBAN, BUILTIN_CARD, BUILTIN_PHONE,
       BUILTIN_NUMBER, BUILTIN_BRACKET, BUILTIN_COUNT };

#define DIGIT "\\p{Nd}"
#define NUM DIGIT "+(?:[.,\\u00A0\\u202F']" DIGIT "+)*"
#define CURRENCY_CODES \
    "USD|EUR|GBP|MXN|ARS|COP|CLP|PEN|BRL|JPY|CNY|INR|CAD|AUD|CHF|SEK|NOK|DKK|PLN|TRY|SAR|AED|EGP|MAD"
/* Units of two letters or more may follow a space; one letter must not. */
#define UNITS                                                              \
    "kg|mg|km|cm|mm|ml|cl|lb|lbs|oz|ft|mi|km/h|mph|kWh|kW|GB|MB|TB|KB|min"
#define SHORT_UNITS "g|m|l|t|h|s|W|V"

static const struct {
    unsigned cls;
    const char *pattern;
} builtin[BUILTIN_COUNT] = {
    [BUILTIN_URL] = {PL_MASK_URL,
                     "(?i:https?://|www\\.)[^\\s<>\"'\\u27E6\\u27E7]+"},
    [BUILTIN_EMAIL] = {PL_MASK_EMAIL,
                       "[\\p{Latin}\\p{N}_%+][\\p{Latin}\\p{N}._%+\\-]*@[\\p{L}\\p{N}\\-]+"
                       "(?:\\.[\\p{L}\\p{N}\\-]+)*\\.\\p{L}{2,}"},
    [BUILTIN_IBAN] = {PL_MASK_IBAN,
                      "(?<![\\p{L}\\p{N}])[A-Z]{2}[0-9]{2}"
                      "(?:[ \\u00A0]?[A-Z0-9]{4}){2,7}(?:[ \\u00A0]?[A-Z0-9]{1,3})?"
                      "(?![\\p{L}\\p{N}])"},
    [BUILTIN_CARD] = {PL_MASK_CARD,
                      "(?<![\\p{N}])" DIGIT "(?:[ \\-\\u00A0]?" DIGIT "){12,18}(?!\\p{N})"},
    /* Bidi marks may sit inside a number written in right-to-left text;
     * scripts written without spaces may touch the number. */
    [BUILTIN_PHONE] = {PL_MASK_PHONE,
                       "(?<![\\p{Latin}\\p{N}+])\\+?\\(?" DIGIT
                       "[\\p{Nd} \\u00A0\\-.()/\\u200E\\u200F\\u2066-\\u2069]{5,}" DIGIT
                       "(?!\\p{N})"},
    [BUILTIN_NUMBER] = {PL_MASK_NUMBER,
                        "(?:\\p{Sc}\\s?" NUM ")"
                        "|(?:(?<![\\p{L}])(?:" CURRENCY_CODES ")\\s?" NUM ")"
                        "|(?:(?<![\\p{L}\\p{N}.,])" NUM
                        "(?:\\s?(?:\\p{Sc}|%|(?:" CURRENCY_CODES "|" UNITS
                        ")(?![\\p{L}\\p{N}]))|(?:" SHORT_UNITS
                        ")(?![\\p{L}\\p{N}])))"},
    /* Brackets already in the text would be confused with placeholders. */
    [BUILTIN_BRACKET] = {0, "[\\u27E6\\u27E7]"},
};

/* Overlaps: the leftmost span wins, then the longest, then this order. */
static int class_rank(unsigned cls)
{
    switch (cls) {
    case PL_MASK_PROTECTED:
        return 0;
    case PL_MASK_URL:
        return 1;
    case PL_MASK_EMAIL:
        return 2;
    case PL_MASK_IBAN:
        return 3;
    case PL_MASK_CARD:
        return 4;
    case PL_MASK_KEEP:
        return 5;
    case PL_MASK_PHONE:
        return 6;
    case PL_MASK_NUMBER:
        return 7;
    default:
        return 8;
    }
}

const char *pl__mask_class_name(unsigned cls)
{
    switch (cls) {
    case PL_MASK_URL:
        return "url";
    case PL_MASK_EMAIL:
        return "email";
    case PL_MASK_PHONE:
        return "phone";
    case PL_MASK_CARD:
        return "card";
    case PL_MASK_IBAN:
        return "iban";
    case PL_MASK_PROTECTED:
        return "protected";
    case PL_MASK_KEEP:
        return "keep_terms";
    case PL_MASK_NUMBER:
        return "numbers";
    default:
        return "bracket";
    }
}

int pl__mask_class_parse(const char *name, unsigned *out)
{
    static const unsigned all[] = {PL_MASK_URL, PL_MASK_EMAIL, PL_MASK_PHONE,
                                   PL_MASK_CARD, PL_MASK_IBAN, PL_MASK_PROTECTED,
                                   PL_MASK_KEEP, PL_MASK_NUMBER};

    for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(name, pl__mask_class_name(all[i])) == 0) {
            *out = all[i];
            return 0;
        }
    }
    return PL_EINVAL;
}

const char *const pl__mask_class_names[] = {
    "url", "email", "phone", "card", "iban", "protected", "keep_terms",
    "numbers", NULL};

/* Compiled user patterns (protected patterns and keep-terms) by source. */
#define PATTERN_CACHE_MAX 128

typedef struct cached_re {
    char *source;
    int case_insensitive;
    URegularExpression *re;
} cached_re;

struct pl__masker {
    URegularExpression *builtin[BUILTIN_COUNT];
    cached_re cache[PATTERN_CACHE_MAX];
    size_t cached;
};

int pl__masker_new(pl__masker **out, pl_error *err)
{
    pl__masker *m = calloc(1, sizeof(*m));

    *out = NULL;
    if (m == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    for (int i = 0; i < BUILTIN_COUNT; i++) {
        UErrorCode st = U_ZERO_ERROR;
        UParseError pe;
        m->builtin[i] = uregex_openC(builtin[i].pattern, 0, &pe, &st);
        if (U_FAILURE(st)) {
            pl_error_set(err, PL_EICU, "masking pattern %d: %s at offset %d", i,
                         u_errorName(st), pe.offset);
            pl__masker_free(m);
            return PL_EICU;
        }
        uregex_useTransparentBounds(m->builtin[i], 1, &st);
    }
    *out = m;
    return 0;
}

static void cache_flush(pl__masker *m)
{
    for (size_t i = 0; i < m->cached; i++) {
        free(m->cache[i].source);
        uregex_close(m->cache[i].re);
    }
    m->cached = 0;
}

void pl__masker_free(pl__masker *m)
{
    if (m == NULL)
        return;
    for (int i = 0; i < BUILTIN_COUNT; i++)
        if (m->builtin[i] != NULL)
            uregex_close(m->builtin[i]);
    cache_flush(m);
    free(m);
}

/* Compiles (or finds) a user pattern given in UTF-8. */
static URegularExpression *user_regex(pl__masker *m, const char *source,
                                      int case_insensitive, pl_error *err)
{
    UChar *pat16;
    int32_t len16 = 0;
    UErrorCode st = U_ZERO_ERROR;
    UParseError pe;
    URegularExpression *re;

    for (size_t i = 0; i < m->cached; i++)
        if (m->cache[i].case_insensitive == case_insensitive &&
            strcmp(m->cache[i].source, source) == 0)
            return m->cache[i].re;
    u_strFromUTF8(NULL, 0, &len16, source, -1, &st);
    if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st)) {
        pl_error_set(err, PL_EUTF8, "pattern '%s' is not valid UTF-8", source);
        return NULL;
    }
    st = U_ZERO_ERROR;
    pat16 = malloc(((size_t)len16 + 1) * sizeof(UChar));
    if (pat16 == NULL) {
        pl_error_set(err, PL_ENOMEM, "out of memory");
        return NULL;
    }
    u_strFromUTF8(pat16, len16 + 1, NULL, source, -1, &st);
    re = uregex_open(pat16, len16, case_insensitive ? UREGEX_CASE_INSENSITIVE : 0,
                     &pe, &st);
    free(pat16);
    if (U_FAILURE(st)) {
        pl_error_set(err, PL_EINVAL,
                     "protected pattern '%s' is not a valid ICU regular "
                     "expression (%s at offset %d)",
                     source, u_errorName(st), pe.offset);
        return NULL;
    }
    if (m->cached == PATTERN_CACHE_MAX)
        cache_flush(m);
    m->cache[m->cached].source = strdup(source);
    if (m->cache[m->cached].source == NULL) {
        uregex_close(re);
        pl_error_set(err, PL_ENOMEM, "out of memory");
        return NULL;
    }
    m->cache[m->cached].case_insensitive = case_insensitive;
    m->cache[m->cached].re = re;
    m->cached++;
    return re;
}

/* A keep-term as a literal, case-insensitive, whole-word pattern. */
static char *term_pattern(const char *term)
{
    size_t n = strlen(term);
    char *p = malloc(n * 2 + 64);
    size_t k = 0;

    if (p == NULL)
        return NULL;
    k += (size_t)sprintf(p, "(?<![\\p{L}\\p{N}])");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)term[i];
        if (c < 0x80 && !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                          (c >= 'A' && c <= 'Z') || c == ' '))
            p[k++] = '\\';
        p[k++] = (char)c;
    }
    k += (size_t)sprintf(p + k, "(?![\\p{L}\\p{N}])");
    p[k] = '\0';
    return p;
}

/* ---- checks on candidate spans */

static int luhn_ok(const UChar *s, int32_t start, int32_t end);

static int is_digit_at(const UChar *s, int32_t i)
{
    return u_charDigitValue(s[i]) >= 0;
}

/* End of the run of digits and single ' '/'-' separators from `end` on. */
static int32_t digit_run_end(const UChar *s, int32_t len, int32_t end)
{
    while (end < len && (is_digit_at(s, end) ||
                         ((s[end] == ' ' || s[end] == '-') && end + 1 < len &&
                          is_digit_at(s, end + 1))))
        end++;
    return end;
}

/*
 * Whether some run of whole digit groups in [start, end) passes Luhn. A
 * card candidate stops at 19 digits and can start on a phone number or
 * end on an expiry date, so the card may sit anywhere inside the run.
 */
static int card_in_run(const UChar *s, int32_t start, int32_t end)
{
    for (int32_t i = start; i < end; i++) {
        if (!is_digit_at(s, i) || (i > start && is_digit_at(s, i - 1)))
            continue;
        for (int32_t j = end; j > i; j--) {
            if (!is_digit_at(s, j - 1) || (j < end && is_digit_at(s, j)))
                continue;
            if (luhn_ok(s, i, j))
                return 1;
        }
    }
    return 0;
}

static int luhn_ok(const UChar *s, int32_t start, int32_t end)
{
    int digits[32];
    int n = 0, sum = 0;

    for (int32_t i = start; i < end; i++) {
        int v = u_charDigitValue(s[i]);
        if (v >= 0) {
            if (n == 32)
                return 0;
            digits[n++] = v;
        }
    }
    if (n < 13 || n > 19)
        return 0;
    for (int i = 0; i < n; i++) {
        int d = digits[n - 1 - i];
        if (i % 2 == 1) {
            d *= 2;
            if (d > 9)
                d -= 9;
        }
        sum += d;
    }
    return sum % 10 == 0;
}

static int iban_ok(const UChar *s, int32_t start, int32_t end)
{
    char buf[40];
    int n = 0, rem = 0;

    for (int32_t i = start; i < end; i++) {
        if (s[i] == ' ' || s[i] == 0x00A0)
            continue;
        if (n == 34)
            return 0;
        buf[n++] = (char)s[i];
    }
    if (n < 15)
        return 0;
    /* Move the first four characters to the end; letters count as 10..35. */
    for (int k = 0; k < n; k++) {
        char c = buf[(k + 4) % n];
        if (c >= '0' && c <= '9')
            rem = (rem * 10 + (c - '0')) % 97;
        else if (c >= 'A' && c <= 'Z')
            rem = (rem * 100 + (c - 'A' + 10)) % 97;
        else
            return 0;
    }
    return rem == 1;
}

static int phone_ok(const UChar *s, int32_t start, int32_t end)
{
    int digits = 0;

    for (int32_t i = start; i < end; i++)
        if (u_charDigitValue(s[i]) >= 0)
            digits++;
    /* An international prefix makes shorter numbers plausible; without it
     * nine digits keep dates (2024-01-15) and prices out. */
    if (s[start] == '+')
        return digits >= 7 && digits <= 15;
    return digits >= 9 && digits <= 15;
}

static int is_trailing_punct(UChar c)
{
    return c == '.' || c == ',' || c == ';' || c == ':' || c == '!' ||
           c == '?' || c == ')' || c == ']' || c == '}' || c == '\'' ||
           c == '"' || c == 0x3002 || c == 0xFF0C || c == 0x060C;
}

/* Phone numbers may not end with separators; trim them. */
static int32_t trim_trailing(const UChar *s, int32_t start, int32_t end,
                             unsigned cls)
{
    if (cls == PL_MASK_URL)
        while (end > start + 1 && is_trailing_punct(s[end - 1]))
            end--;
    return end;
}

/* ---- span collection */

typedef struct span {
    int32_t start, end; /* UTF-16 offsets */
    unsigned cls;
} span;

typedef struct spans {
    span *items;
    size_t count, cap;
} spans;

static int spans_add(spans *sp, int32_t start, int32_t end, unsigned cls)
{
    if (sp->count == sp->cap) {
        size_t cap = sp->cap ? sp->cap * 2 : 16;
        span *n;
        if (cap > PL_TRANSLATE_MAX_SPANS)
            return PL_ELIMIT;
        n = realloc(sp->items, cap * sizeof(*n));
        if (n == NULL)
            return PL_ENOMEM;
        sp->items = n;
        sp->cap = cap;
    }
    sp->items[sp->count++] = (span){start, end, cls};
    return 0;
}

/*
 * What the built-in patterns need to find anything, gathered in one pass
 * so that a pattern that cannot match is not run at all (running an ICU
 * pattern costs a match attempt at every position of the text).
 */
typedef struct text_facts {
    int32_t digits;      /* \p{Nd} code points */
    int32_t first_digit; /* UTF-16 index of the first one; -1 without */
    int has_at;          /* '@' */
    int has_url_start;   /* "://" or "www." (any case) */
    int has_iban_start;  /* [A-Z]{2}[0-9]{2} */
    int has_bracket;     /* U+27E6 or U+27E7 */
} text_facts;

static int is_w(UChar c) { return c == 'w' || c == 'W'; }

static void gather_facts(const UChar *t, int32_t len, text_facts *tf)
{
    memset(tf, 0, sizeof(*tf));
    tf->first_digit = -1;
    for (int32_t i = 0; i < len;) {
        int32_t at = i;
        UChar32 c;
        U16_NEXT(t, i, len, c);
        if (c < 0x80 ? (c >= '0' && c <= '9')
                     : u_charType(c) == U_DECIMAL_DIGIT_NUMBER) {
            if (tf->digits++ == 0)
                tf->first_digit = at;
        }
        if (c == '@')
            tf->has_at = 1;
        else if (c == 0x27E6 || c == 0x27E7)
            tf->has_bracket = 1;
        else if (c == ':' && at + 2 < len && t[at + 1] == '/' && t[at + 2] == '/')
            tf->has_url_start = 1;
        else if (c == '.' && at >= 3 && is_w(t[at - 1]) && is_w(t[at - 2]) &&
                 is_w(t[at - 3]))
            tf->has_url_start = 1;
        else if (c >= '0' && c <= '9' && at >= 2 && at + 1 < len &&
                 t[at + 1] >= '0' && t[at + 1] <= '9' && t[at - 1] >= 'A' &&
                 t[at - 1] <= 'Z' && t[at - 2] >= 'A' && t[at - 2] <= 'Z')
            tf->has_iban_start = 1;
    }
}

/*
 * Where a built-in pattern may start matching, or -1 when it cannot match:
 * necessary conditions read off the patterns (a card has 13 digits or more,
 * a phone number 7, a number one). Patterns built around digits start at
 * most a currency code and a space before their first digit.
 */
static int32_t builtin_start(int which, const text_facts *tf)
{
    int32_t from = tf->first_digit > 5 ? tf->first_digit - 5 : 0;

    switch (which) {
    case BUILTIN_URL:
        return tf->has_url_start ? 0 : -1;
    case BUILTIN_EMAIL:
        return tf->has_at ? 0 : -1;
    case BUILTIN_IBAN:
        return tf->has_iban_start ? from : -1;
    case BUILTIN_CARD:
        return tf->digits >= 13 ? from : -1;
    case BUILTIN_PHONE:
        return tf->digits >= 7 ? from : -1;
    case BUILTIN_NUMBER:
        return tf->digits >= 1 ? from : -1;
    case BUILTIN_BRACKET:
        return tf->has_bracket ? 0 : -1;
    default:
        return 0;
    }
}

/* Finds every match of `re` in text[from..len); look-arounds still see
 * the text before `from` (the built-ins use transparent bounds). */
static int find_all(URegularExpression *re, const UChar *text, int32_t len,
                    int32_t from, unsigned cls, spans *sp)
{
    UErrorCode st = U_ZERO_ERROR;
    int rc;

    uregex_setText(re, text, len, &st);
    if (from > 0)
        uregex_setRegion(re, from, len, &st);
    UBool found = uregex_findNext(re, &st);
    while (U_SUCCESS(st) && found) {
        int32_t start = uregex_start(re, 0, &st);
        int32_t end = uregex_end(re, 0, &st);
        int32_t resume = -1; /* search again from here after a card run */
        int ok = 1;
        if (U_FAILURE(st) || end <= start) {
            found = uregex_findNext(re, &st);
            continue;
        }
        end = trim_trailing(text, start, end, cls);
        if (cls == PL_MASK_CARD) {
            /*
             * Mask the whole digit run around a card: masking only a
             * Luhn-valid piece could leave part of the real card visible.
             */
            int32_t run_end = digit_run_end(text, len, end);
            if (run_end > end || !luhn_ok(text, start, end)) {
                ok = 0;
                if (card_in_run(text, start, run_end)) {
                    if ((rc = spans_add(sp, start, run_end, cls)) != 0)
                        return rc;
                    resume = run_end;
                }
            }
        } else if ((cls == PL_MASK_IBAN && !iban_ok(text, start, end)) ||
                   (cls == PL_MASK_PHONE && !phone_ok(text, start, end))) {
            /*
             * Not retried inside the candidate: any long digit run contains
             * phone-shaped pieces, and those would be false positives.
             */
            ok = 0;
        }
        if (ok && (rc = spans_add(sp, start, end, cls)) != 0)
            return rc;
        found = resume >= 0 ? uregex_find(re, resume, &st)
                            : uregex_findNext(re, &st);
    }
    /* Detach: the text belongs to the caller. */
    st = U_ZERO_ERROR;
    uregex_setText(re, u"", 0, &st);
    return 0;
}

static int span_cmp(const void *a, const void *b)
{
    const span *x = a, *y = b;

    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    if (x->end != y->end)
        return x->end > y->end ? -1 : 1;
    return class_rank(x->cls) - class_rank(y->cls);
}

int pl__mask(pl__masker *m, pl_arena *a, const char *text,
             const pl__mask_opts *opts, pl__masked *out, pl_error *err)
{
    size_t len8 = strlen(text);
    int32_t len16 = 0, *map = NULL;
    UChar *t16 = NULL;
    UErrorCode st = U_ZERO_ERROR;
    spans sp = {0};
    text_facts facts;
    int rc = 0;
    char *buf;
    size_t pos8 = 0, blen = 0, cap, kept = 0;
    int32_t last_end = 0;

    memset(out, 0, sizeof(*out));
    if (len8 > PL_TRANSLATE_MAX_TEXT)
        return pl_error_set(err, PL_ELIMIT, "segment longer than %u bytes",
                            PL_TRANSLATE_MAX_TEXT);
    u_strFromUTF8(NULL, 0, &len16, text, (int32_t)len8, &st);
    if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
        return pl_error_set(err, PL_EUTF8, "segment is not valid UTF-8");
    st = U_ZERO_ERROR;
    t16 = malloc(((size_t)len16 + 1) * sizeof(UChar));
    map = malloc(((size_t)len16 + 1) * sizeof(int32_t));
    if (t16 == NULL || map == NULL) {
        rc = pl_error_set(err, PL_ENOMEM, "out of memory");
        goto done;
    }
    u_strFromUTF8(t16, len16 + 1, NULL, text, (int32_t)len8, &st);
    if (U_FAILURE(st)) {
        rc = pl_error_set(err, PL_EUTF8, "segment is not valid UTF-8");
        goto done;
    }
    /* UTF-16 index -> UTF-8 offset, to cut the original bytes. */
    for (int32_t i8 = 0, i16 = 0; i8 < (int32_t)len8;) {
        int32_t start = i8;
        UChar32 c;
        U8_NEXT(text, i8, (int32_t)len8, c);
        map[i16++] = start;
        if (c > 0xFFFF)
            map[i16++] = start;
    }
    map[len16] = (int32_t)len8;

    gather_facts(t16, len16, &facts);
    for (int i = 0; i < BUILTIN_COUNT && rc == 0; i++) {
        int32_t from = builtin_start(i, &facts);
        if (builtin[i].cls != 0 && !(opts->classes & builtin[i].cls))
            continue;
        if (from < 0)
            continue;
        rc = find_all(m->builtin[i], t16, len16, from, builtin[i].cls, &sp);
    }
    for (size_t i = 0; rc == 0 && (opts->classes & PL_MASK_PROTECTED) &&
                       i < opts->protected_count;
         i++) {
        URegularExpression *re = user_regex(m, opts->protected_patterns[i], 0, err);
        if (re == NULL) {
            rc = err ? err->code : PL_EINVAL;
            goto done;
        }
        rc = find_all(re, t16, len16, 0, PL_MASK_PROTECTED, &sp);
    }
    for (size_t i = 0; rc == 0 && (opts->classes & PL_MASK_KEEP) &&
                       i < opts->glossary_count;
         i++) {
        const pl_translate_term *g = &opts->glossary[i];
        char *pat;
        URegularExpression *re;
        if (g->translation != NULL || g->term == NULL || g->term[0] == '\0')
            continue;
        pat = term_pattern(g->term);
        if (pat == NULL) {
            rc = pl_error_set(err, PL_ENOMEM, "out of memory");
            goto done;
        }
        re = user_regex(m, pat, 1, err);
        free(pat);
        if (re == NULL) {
            rc = err ? err->code : PL_EINVAL;
            goto done;
        }
        rc = find_all(re, t16, len16, 0, PL_MASK_KEEP, &sp);
    }
    if (rc != 0) {
        pl_error_set(err, rc, "too many protected spans in one segment");
        goto done;
    }
    if (sp.count > 1)
        qsort(sp.items, sp.count, sizeof(span), span_cmp);

    /*
     * Overlapping spans become one placeholder covering both, with the
     * stronger class: keeping only the leftmost would show the rest of the
     * other (a phone-shaped prefix would uncover half a card number).
     */
    for (size_t i = 0; i < sp.count; i++) {
        if (kept > 0 && sp.items[i].start < last_end) {
            span *k = &sp.items[kept - 1];
            if (sp.items[i].end > k->end)
                k->end = sp.items[i].end;
            if (class_rank(sp.items[i].cls) < class_rank(k->cls))
                k->cls = sp.items[i].cls;
            last_end = k->end;
            continue;
        }
        sp.items[kept++] = sp.items[i];
        last_end = sp.items[i].end;
    }
    out->items = pl_arena_calloc(a, kept ? kept : 1, sizeof(pl__mask_item));
    /* Each placeholder is at most 3 + 10 + 3 bytes. */
    cap = len8 + kept * 16 + 1;
    buf = pl_arena_alloc(a, cap);
    if (out->items == NULL || buf == NULL) {
        rc = pl_error_set(err, a->err ? a->err : PL_ENOMEM,
                          "request memory exhausted while masking");
        goto done;
    }
    for (size_t i = 0; i < kept; i++) {
        size_t s8 = (size_t)map[sp.items[i].start];
        size_t e8 = (size_t)map[sp.items[i].end];
        memcpy(buf + blen, text + pos8, s8 - pos8);
        blen += s8 - pos8;
        blen += (size_t)snprintf(buf + blen, cap - blen, PH_OPEN "%zu" PH_CLOSE,
                                 i + 1);
        out->items[i].value = pl_arena_strndup(a, text + s8, e8 - s8);
        out->items[i].cls = sp.items[i].cls;
        if (out->items[i].value == NULL) {
            rc = pl_error_set(err, PL_ENOMEM, "request memory exhausted");
            goto done;
        }
        pos8 = e8;
    }
    memcpy(buf + blen, text + pos8, len8 - pos8);
    blen += len8 - pos8;
    buf[blen] = '\0';
    out->text = buf;
    out->count = kept;

done:
    free(sp.items);
    free(t16);
    free(map);
    return rc;
}

/* Parses "⟦digits⟧" at p; returns its length and the number, or 0. */
static size_t parse_placeholder(const char *p, const char *end, unsigned long *n)
{
    const char *q = p + PH_LEN;
    unsigned long v = 0;

    if (end - p < PH_LEN * 2 + 1 || memcmp(p, PH_OPEN, PH_LEN) != 0)
        return 0;
    if (q >= end || *q < '0' || *q > '9')
        return 0;
    while (q < end && *q >= '0' && *q <= '9' && v < 100000000)
        v = v * 10 + (unsigned long)(*q++ - '0');
    if (end - q < PH_LEN || memcmp(q, PH_CLOSE, PH_LEN) != 0)
        return 0;
    *n = v;
    return (size_t)(q + PH_LEN - p);
}

int pl__unmask(pl_arena *a, const char *translated, const pl__masked *m,
               char **out, pl_error *err)
{
    size_t len = strlen(translated), cap = len + 1, olen = 0;
    const char *p = translated, *end = translated + len;
    unsigned char *seen = NULL;
    char *buf;
    int rc = 0;

    *out = NULL;
    for (size_t i = 0; i < m->count; i++)
        cap += strlen(m->items[i].value);
    seen = calloc(m->count ? m->count : 1, 1);
    buf = pl_arena_alloc(a, cap);
    if (seen == NULL || buf == NULL) {
        free(seen);
        return pl_error_set(err, PL_ENOMEM, "request memory exhausted");
    }
    while (p < end) {
        unsigned long n;
        size_t plen = parse_placeholder(p, end, &n);
        if (plen == 0) {
            if ((end - p >= PH_LEN) && (memcmp(p, PH_OPEN, PH_LEN) == 0 ||
                                        memcmp(p, PH_CLOSE, PH_LEN) == 0)) {
                rc = pl_error_set(err, PL_ETRANSLATE,
                                  "malformed placeholder in the answer");
                goto done;
            }
            buf[olen++] = *p++;
            continue;
        }
        if (n == 0 || n > m->count) {
            rc = pl_error_set(err, PL_ETRANSLATE,
                              "the answer invents placeholder \u27E6%lu\u27E7", n);
            goto done;
        }
        if (seen[n - 1]++) {
            rc = pl_error_set(err, PL_ETRANSLATE,
                              "placeholder \u27E6%lu\u27E7 appears more than once", n);
            goto done;
        }
        /* Every value appears once, so the total fits in `cap`. */
        size_t vlen = strlen(m->items[n - 1].value);
        memcpy(buf + olen, m->items[n - 1].value, vlen);
        olen += vlen;
        p += plen;
    }
    for (size_t i = 0; i < m->count; i++) {
        if (!seen[i]) {
            rc = pl_error_set(err, PL_ETRANSLATE,
                              "placeholder \u27E6%zu\u27E7 is missing from the answer",
                              i + 1);
            goto done;
        }
    }
    buf[olen] = '\0';
    *out = buf;

done:
    free(seen);
    return rc;
}
