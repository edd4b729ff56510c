/*
 * The prior over languages built from hints (Accept-Language, storefront
 * region, the conversation's earlier language). It is a mixture with the
 * uniform distribution, so no language is ever ruled out by a hint.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uloc.h>

#include "detect_internal.h"

/* Share of the prior each kind of hint may claim; the rest stays uniform. */
static double hint_weight(pl_detect_hint_kind kind)
{
    switch (kind) {
    case PL_HINT_CONVERSATION:
        return 0.6;
    case PL_HINT_LOCALE:
        return 0.4;
    case PL_HINT_ACCEPT_LANGUAGE:
        return 0.3;
    case PL_HINT_REGION:
        return 0.2;
    case PL_HINT_ONLY:
        return 0.0; /* a restriction, applied to the candidates */
    }
    return 0.0;
}

/* Hints can claim at most this much in total. */
#define MAX_HINT_MASS 0.9
#define MAX_TAGS 16

/* Codes used by other standards or by us for languages the model names differently. */
static const char *const aliases[][2] = {
    {"yue", "zh"}, {"cmn", "zh"}, {"arb", "ar"}, {"arz", "ar"}, {"afb", "ar"},
    {"apc", "ar"}, {"ary", "ar"}, {"ajp", "ar"}, {"iw", "he"}, {"no", "nb"},
    {"fil", "tl"}, {"in", "id"}, {"zsm", "ms"}, {"pes", "fa"},
};

void pl__locale_language(const char *locale, char *out, size_t size)
{
    size_t n = 0;
    while (locale[n] && isalpha((unsigned char)locale[n]) && n + 1 < size && n < 8)
        n++;
    if (n + 1 > size)
        n = size - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (char)tolower((unsigned char)locale[i]);
    out[n] = '\0';
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++) {
        if (strcmp(out, aliases[i][0]) == 0) {
            snprintf(out, size, "%s", aliases[i][1]);
            return;
        }
    }
}

static int find_lang(const pl__model *m, const char *code)
{
    for (uint32_t l = 0; l < m->nlangs; l++)
        if (strcmp(m->langs[l].code, code) == 0)
            return (int)l;
    return -1;
}

/* "MX" or "419" alone: ICU's likely-subtags data gives the main language. */
static void region_language(const char *region, char *out, size_t size)
{
    char tag[32], full[ULOC_FULLNAME_CAPACITY];
    UErrorCode st = U_ZERO_ERROR;
    out[0] = '\0';
    snprintf(tag, sizeof tag, "und_%s", region);
    uloc_addLikelySubtags(tag, full, sizeof full, &st);
    if (U_FAILURE(st))
        return;
    st = U_ZERO_ERROR;
    uloc_getLanguage(full, out, (int32_t)size, &st);
    if (U_FAILURE(st) || strcmp(out, "und") == 0)
        out[0] = '\0';
}

static int is_region_code(const char *s)
{
    size_t n = strlen(s);
    if (n == 2)
        return isalpha((unsigned char)s[0]) && isalpha((unsigned char)s[1]);
    return n == 3 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
           isdigit((unsigned char)s[2]);
}

typedef struct weighted_tag {
    char lang[12];
    double q;
} weighted_tag;

/* Parses "es-MX,es;q=0.9,*;q=0.1" into languages with their q-values. */
static size_t parse_accept_language(const char *v, weighted_tag *tags, size_t max)
{
    size_t n = 0;
    while (*v && n < max) {
        while (*v == ' ' || *v == ',')
            v++;
        const char *start = v;
        while (*v && *v != ',' && *v != ';')
            v++;
        char tag[32];
        size_t tl = (size_t)(v - start);
        while (tl > 0 && start[tl - 1] == ' ')
            tl--;
        if (tl == 0 || tl >= sizeof tag) {
            while (*v && *v != ',')
                v++;
            continue;
        }
        memcpy(tag, start, tl);
        tag[tl] = '\0';
        double q = 1.0;
        while (*v == ';') {
            v++;
            while (*v == ' ')
                v++;
            if ((v[0] == 'q' || v[0] == 'Q') && v[1] == '=')
                q = strtod(v + 2, NULL);
            while (*v && *v != ',' && *v != ';')
                v++;
        }
        if (strcmp(tag, "*") == 0 || !(q > 0.0) || q > 1.0)
            continue;
        pl__locale_language(tag, tags[n].lang, sizeof tags[n].lang);
        tags[n].q = q;
        if (tags[n].lang[0])
            n++;
    }
    return n;
}

/* Slots of the code table: codes of up to three letters, 1 to 26 each, 0
 * past the end. */
#define CODE_SPACE (27 * 27 * 27)

/* The code table's slot for the ASCII letters s[0..n), n from 1 to 3. */
static size_t code_slot(const char *s, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < 3; i++)
        k = k * 27 + (i < n ? (size_t)(((unsigned char)s[i] | 0x20) - 'a' + 1) : 0);
    return k;
}

int pl__codes_build(pl__model *m, pl_error *err)
{
    m->codes = calloc(CODE_SPACE, 1);
    if (m->codes == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    /* What pl__locale_language and find_lang answer for a code of one to
     * three letters: the model's own codes, overridden by the aliases,
     * which pl__locale_language applies before find_lang looks. */
    for (uint32_t l = 0; l < m->nlangs; l++) {
        size_t n = strlen(m->langs[l].code);
        if (n >= 1 && n <= 3)
            m->codes[code_slot(m->langs[l].code, n)] = (uint8_t)(l + 1);
    }
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        m->codes[code_slot(aliases[i][0], strlen(aliases[i][0]))] =
            (uint8_t)(find_lang(m, aliases[i][1]) + 1);
    return 0;
}

static bool ascii_letter(char c)
{
    unsigned lc = (unsigned char)c | 0x20;
    return lc >= 'a' && lc <= 'z';
}

/* The model language of a locale's language part ("pt-BR" -> pt), or -1.
 * A code of one to three ASCII letters (the usual case) is read from the
 * table; anything else goes the long way. */
static int locale_lang(const pl__model *m, const char *tok)
{
    size_t n = 0;
    while (n < 4 && ascii_letter(tok[n]))
        n++;
    /* The same prefix pl__locale_language would take (it stops at the
     * first character that is not a letter). */
    if (n >= 1 && n <= 3 && !isalpha((unsigned char)tok[n]) && m->codes)
        return m->codes[code_slot(tok, n)] - 1;
    char code[16];
    pl__locale_language(tok, code, sizeof code);
    return code[0] ? find_lang(m, code) : -1;
}

void pl__prior_apply(const pl__model *m, const pl_detect_hint *hints,
                     size_t nhints, double *logp)
{
    size_t usable = 0;
    for (size_t h = 0; h < nhints; h++)
        usable += hints[h].kind != PL_HINT_ONLY && hints[h].value && *hints[h].value;
    if (usable == 0)
        return; /* a uniform prior changes no ranking */
    double mass[PL__LANG_MAX] = {0};
    double claimed = 0.0;

    for (size_t h = 0; h < nhints; h++) {
        const char *v = hints[h].value;
        weighted_tag tags[MAX_TAGS];
        size_t nt = 0;
        if (v == NULL || *v == '\0' || hints[h].kind == PL_HINT_ONLY)
            continue;
        if (hints[h].kind == PL_HINT_ACCEPT_LANGUAGE) {
            nt = parse_accept_language(v, tags, MAX_TAGS);
        } else if (hints[h].kind == PL_HINT_REGION && is_region_code(v)) {
            region_language(v, tags[0].lang, sizeof tags[0].lang);
            pl__locale_language(tags[0].lang, tags[0].lang, sizeof tags[0].lang);
            tags[0].q = 1.0;
            nt = tags[0].lang[0] ? 1 : 0;
        } else {
            pl__locale_language(v, tags[0].lang, sizeof tags[0].lang);
            tags[0].q = 1.0;
            nt = tags[0].lang[0] ? 1 : 0;
        }
        double qsum = 0.0;
        int lang[MAX_TAGS];
        for (size_t t = 0; t < nt; t++) {
            lang[t] = locale_lang(m, tags[t].lang);
            if (lang[t] >= 0)
                qsum += tags[t].q;
        }
        if (qsum <= 0.0)
            continue;
        double w = hint_weight(hints[h].kind);
        for (size_t t = 0; t < nt; t++)
            if (lang[t] >= 0)
                mass[lang[t]] += w * tags[t].q / qsum;
        claimed += w;
    }
    if (claimed <= 0.0)
        return;
    /* Scale the hints down together when they claim too much. */
    double scale = claimed > MAX_HINT_MASS ? MAX_HINT_MASS / claimed : 1.0;
    double uniform = (1.0 - claimed * scale) / m->nlangs;
    for (uint32_t l = 0; l < m->nlangs; l++)
        logp[l] += log(uniform + mass[l] * scale);
}

int pl__only_languages(const pl__model *m, const pl_detect_hint *hints, size_t nhints,
                       bool *only, pl_error *err)
{
    int restricted = 0;
    memset(only, 0, m->nlangs * sizeof *only);
    for (size_t h = 0; h < nhints; h++) {
        if (hints[h].kind != PL_HINT_ONLY)
            continue;
        const char *p = hints[h].value ? hints[h].value : "";
        size_t found = 0;
        for (;;) {
            while (*p == ',' || *p == ' ' || *p == '\t')
                p++;
            if (*p == '\0')
                break;
            size_t n = 0;
            while (p[n] && p[n] != ',' && p[n] != ' ' && p[n] != '\t')
                n++;
            char tok[32];
            if (n >= sizeof tok)
                return pl_error_set(err, PL_EINVAL, "allowed languages: \"%.*s\" is not a "
                                    "language code", (int)n, p);
            memcpy(tok, p, n);
            tok[n] = '\0';
            int l = locale_lang(m, tok);
            if (l < 0)
                return pl_error_set(err, PL_EINVAL, "allowed languages: unknown language "
                                    "\"%.*s\"", (int)n, p);
            only[l] = true;
            found++;
            p += n;
        }
        if (found == 0)
            return pl_error_set(err, PL_EINVAL, "allowed languages: empty list");
        restricted = 1;
    }
    return restricted;
}
