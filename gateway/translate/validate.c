/*
 * Validation of every answer before anything of it is used: JSON shape,
 * exactly the requested ids, each placeholder exactly once, output language
 * (the caller's detector, else a script check), length ratio, and signs that
 * the model answered or obeyed the text instead of translating it.
 */
#include "translate_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <unicode/uchar.h>
#include <unicode/uscript.h>
#include <unicode/utf8.h>

/* Segments shorter than this (in characters) skip the length-ratio check. */
#define RATIO_MIN_CHARS 20

/* ---- language by script */

typedef struct lang_scripts {
    const char *lang;
    UScriptCode scripts[3];
} lang_scripts;

static const lang_scripts by_lang[] = {
    {"ja", {USCRIPT_HIRAGANA, USCRIPT_KATAKANA, USCRIPT_HAN}},
    {"zh", {USCRIPT_HAN, USCRIPT_INVALID_CODE, USCRIPT_INVALID_CODE}},
    {"yue", {USCRIPT_HAN, USCRIPT_INVALID_CODE, USCRIPT_INVALID_CODE}},
    {"ko", {USCRIPT_HANGUL, USCRIPT_HAN, USCRIPT_INVALID_CODE}},
    {"ru", {USCRIPT_CYRILLIC}}, {"uk", {USCRIPT_CYRILLIC}},
    {"bg", {USCRIPT_CYRILLIC}}, {"be", {USCRIPT_CYRILLIC}},
    {"mk", {USCRIPT_CYRILLIC}}, {"kk", {USCRIPT_CYRILLIC}},
    {"ky", {USCRIPT_CYRILLIC}}, {"mn", {USCRIPT_CYRILLIC}},
    {"ar", {USCRIPT_ARABIC}}, {"fa", {USCRIPT_ARABIC}}, {"ur", {USCRIPT_ARABIC}},
    {"ps", {USCRIPT_ARABIC}}, {"arb", {USCRIPT_ARABIC}}, {"arz", {USCRIPT_ARABIC}},
    {"afb", {USCRIPT_ARABIC}}, {"apc", {USCRIPT_ARABIC}}, {"ary", {USCRIPT_ARABIC}},
    {"he", {USCRIPT_HEBREW}}, {"yi", {USCRIPT_HEBREW}},
    {"el", {USCRIPT_GREEK}}, {"th", {USCRIPT_THAI}},
    {"hi", {USCRIPT_DEVANAGARI}}, {"mr", {USCRIPT_DEVANAGARI}},
    {"ne", {USCRIPT_DEVANAGARI}}, {"bn", {USCRIPT_BENGALI}},
    {"ta", {USCRIPT_TAMIL}}, {"te", {USCRIPT_TELUGU}},
    {"ka", {USCRIPT_GEORGIAN}}, {"hy", {USCRIPT_ARMENIAN}},
    {"am", {USCRIPT_ETHIOPIC}},
};

/* Frequent short words of Latin-script languages (lower case). */
typedef struct stop_words {
    const char *lang;
    const char *words[24];
} stop_words;

static const stop_words stops[] = {
    {"en", {"the", "and", "is", "are", "my", "your", "you", "to", "of", "has",
            "have", "not", "with", "for", "this", "it", "was", "please", "thank",
            "order", "hello", "i", NULL}},
    {"es", {"el", "los", "las", "que", "y", "es", "mi", "tu", "su", "no", "con",
            "por", "para", "una", "un", "ha", "pedido", "gracias", "hola", "muy",
            "está", NULL}},
    {"fr", {"le", "les", "des", "et", "est", "mon", "ma", "vous", "je", "pas",
            "avec", "pour", "une", "un", "merci", "commande", "bonjour", "n'est",
            NULL}},
    {"de", {"der", "die", "das", "und", "ist", "mein", "meine", "nicht", "mit",
            "für", "ein", "eine", "ich", "sie", "bitte", "danke", "bestellung",
            "hallo", NULL}},
    {"pt", {"os", "as", "que", "e", "é", "meu", "minha", "não", "com", "por",
            "para", "uma", "um", "obrigado", "obrigada", "pedido", "olá", NULL}},
    {"it", {"il", "lo", "gli", "di", "che", "è", "mio", "mia", "non", "con",
            "per", "una", "un", "grazie", "ordine", "ciao", NULL}},
    {"nl", {"het", "een", "en", "is", "mijn", "niet", "met", "voor", "van", "ik",
            "bedankt", "bestelling", "hallo", NULL}},
};

/* The primary language subtag of `locale`, lower case, into buf. */
static void primary(const char *locale, char *buf, size_t size)
{
    size_t i = 0;

    while (locale[i] && locale[i] != '-' && locale[i] != '_' && i + 1 < size) {
        buf[i] = (char)tolower((unsigned char)locale[i]);
        i++;
    }
    buf[i] = '\0';
}

/* An explicit script subtag ("sr-Latn", "zh-Hant") overrides the table. */
static UScriptCode script_subtag(const char *locale)
{
    const char *p = locale;

    while ((p = strpbrk(p, "-_")) != NULL) {
        p++;
        if (strlen(p) >= 4 && isalpha((unsigned char)p[0]) &&
            (p[4] == '\0' || p[4] == '-' || p[4] == '_')) {
            char code[5];
            UErrorCode st = U_ZERO_ERROR;
            UScriptCode sc;
            int32_t n;
            memcpy(code, p, 4);
            code[4] = '\0';
            n = uscript_getCode(code, &sc, 1, &st);
            if (U_SUCCESS(st) && n == 1)
                return sc == USCRIPT_SIMPLIFIED_HAN || sc == USCRIPT_TRADITIONAL_HAN
                           ? USCRIPT_HAN
                           : sc;
        }
    }
    return USCRIPT_INVALID_CODE;
}

static int stop_word_check(const char *text, const char *lang, char *why,
                           size_t why_size)
{
    size_t nlang = sizeof(stops) / sizeof(stops[0]);
    int hits[sizeof(stops) / sizeof(stops[0])] = {0};
    int target = -1, best = -1, words = 0;
    const char *p = text;

    for (size_t i = 0; i < nlang; i++)
        if (strcmp(stops[i].lang, lang) == 0)
            target = (int)i;
    if (target < 0)
        return -1;
    while (*p) {
        char w[32];
        size_t n = 0;
        int32_t i = 0, len;
        while (*p && (isspace((unsigned char)*p) || ispunct((unsigned char)*p)))
            p++;
        len = (int32_t)strcspn(p, " \t\r\n.,;:!?\"()¿¡");
        if (len == 0) {
            if (*p)
                p++;
            continue;
        }
        /* Lower-case ASCII only; the lists' accented words are lower case. */
        while (i < len && n + 1 < sizeof(w)) {
            w[n++] = (char)tolower((unsigned char)p[i]);
            i++;
        }
        w[n] = '\0';
        p += len;
        words++;
        for (size_t l = 0; l < nlang; l++)
            for (int k = 0; stops[l].words[k]; k++)
                /* The first byte rules out almost every word cheaply. */
                if (stops[l].words[k][0] == w[0] && strcmp(stops[l].words[k], w) == 0) {
                    hits[l]++;
                    break;
                }
    }
    if (words < 5)
        return -1;
    for (size_t l = 0; l < nlang; l++)
        if ((int)l != target && (best < 0 || hits[l] > hits[best]))
            best = (int)l;
    if (hits[target] == 0 && best >= 0 && hits[best] >= 3) {
        snprintf(why, why_size, "the answer looks like '%s', not '%s'",
                 stops[best].lang, lang);
        return 0;
    }
    return hits[target] > 0 ? 1 : -1;
}

int pl__script_check(const char *text, const char *locale, int64_t min_letters,
                     char *why, size_t why_size)
{
    char lang[16];
    UScriptCode want[3] = {USCRIPT_LATIN, USCRIPT_INVALID_CODE,
                           USCRIPT_INVALID_CODE};
    UScriptCode sub = script_subtag(locale);
    int32_t i = 0, len = (int32_t)strlen(text);
    long letters = 0, matching = 0;
    long per_script[USCRIPT_CODE_LIMIT] = {0};
    UScriptCode top = USCRIPT_COMMON;

    primary(locale, lang, sizeof(lang));
    for (size_t k = 0; k < sizeof(by_lang) / sizeof(by_lang[0]); k++) {
        if (strcmp(by_lang[k].lang, lang) == 0) {
            for (int s = 0; s < 3; s++)
                want[s] = by_lang[k].scripts[s] ? by_lang[k].scripts[s]
                                                : USCRIPT_INVALID_CODE;
            /* Entries list one script: the rest are zero (USCRIPT_COMMON). */
            for (int s = 1; s < 3; s++)
                if (want[s] == USCRIPT_COMMON)
                    want[s] = USCRIPT_INVALID_CODE;
            break;
        }
    }
    if (sub != USCRIPT_INVALID_CODE) {
        want[0] = sub;
        if (sub != USCRIPT_HAN || strcmp(lang, "ja") != 0)
            want[1] = want[2] = USCRIPT_INVALID_CODE;
    }
    while (i < len) {
        UChar32 c;
        UErrorCode st = U_ZERO_ERROR;
        UScriptCode sc;
        U8_NEXT(text, i, len, c);
        if (c < 0x80) {
            /* ASCII letters are Latin; nothing else in ASCII is a letter. */
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
                continue;
            sc = USCRIPT_LATIN;
        } else if (!u_isalpha(c)) {
            continue;
        } else {
            sc = uscript_getScript(c, &st);
        }
        if (U_FAILURE(st) || sc == USCRIPT_COMMON || sc == USCRIPT_INHERITED)
            continue;
        letters++;
        if (sc >= 0 && sc < USCRIPT_CODE_LIMIT)
            per_script[sc]++;
        for (int s = 0; s < 3; s++)
            if (want[s] != USCRIPT_INVALID_CODE && sc == want[s]) {
                matching++;
                break;
            }
    }
    if (letters < min_letters)
        return -1;
    if (matching * 2 < letters) {
        for (int s = 0; s < USCRIPT_CODE_LIMIT; s++)
            if (per_script[s] > per_script[top])
                top = (UScriptCode)s;
        snprintf(why, why_size,
                 "the answer is mostly in %s script, not what '%s' is written in",
                 uscript_getName(top), locale);
        return 0;
    }
    if (want[0] == USCRIPT_LATIN)
        return stop_word_check(text, lang, why, why_size);
    return 1;
}

/* ---- other checks */

/* Characters, counting a placeholder as one. */
static size_t char_count(const char *s)
{
    size_t n = 0;

    while (*s) {
        /* strncmp stops at the terminator; memcmp could read past it. */
        if (strncmp(s, "\xE2\x9F\xA6", 3) == 0) {
            const char *close = strstr(s, "\xE2\x9F\xA7");
            if (close != NULL) {
                s = close + 3;
                n++;
                continue;
            }
        }
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
        s++;
    }
    return n;
}

/* Phrases of an assistant talking, which a translation does not contain
 * unless the source did. */
static const char *const chatter[] = {
    "as an ai", "language model", "i'm sorry, but", "i am sorry, but",
    "i cannot help", "i can't help", "here is the translation",
    "here's the translation", "translation:", "as instructed", "i will now",
    "ignoring previous instructions", "```", "\"segments\"", "\"id\":", NULL};

/* Cues of text trying to steer the model. */
static const char *const injection_cues[] = {
    "ignore previous instructions", "ignore all previous", "ignore the above",
    "disregard previous", "disregard all previous", "ignore your instructions",
    "ignora las instrucciones", "ignora todas las instrucciones",
    "ignorez les instructions", "ignoriere alle vorherigen",
    "ignore as instruções", "system prompt", "you are now", NULL};

/*
 * The phrase lists are lower case, so both texts are lower-cased (ASCII,
 * as strcasestr does in the C locale) once and searched with strstr:
 * strcasestr prepares every needle anew and costs far more.
 */
static char *ascii_lower(const char *s, char *stack, size_t size)
{
    size_t n = strlen(s);
    char *d = n < size ? stack : malloc(n + 1);

    if (d == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        d[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    d[n] = '\0';
    return d;
}

/* Both texts already lower-cased. */
static int phrases_found(const char *src, const char *out, double ratio,
                         char *why, size_t why_size)
{
    for (int i = 0; chatter[i]; i++) {
        if (strstr(out, chatter[i]) != NULL && strstr(src, chatter[i]) == NULL) {
            snprintf(why, why_size,
                     "the answer talks to the reader instead of translating "
                     "('%s')",
                     chatter[i]);
            return 1;
        }
    }
    for (int i = 0; injection_cues[i]; i++) {
        /* The text tries to steer the model: a translation keeps its size. */
        if (strstr(src, injection_cues[i]) != NULL && ratio >= 0 && ratio < 0.5) {
            snprintf(why, why_size,
                     "the text contains instructions ('%s') and the answer is "
                     "much shorter than a translation: it was obeyed",
                     injection_cues[i]);
            return 1;
        }
    }
    return 0;
}

static int obeyed_or_answered(const char *src_text, const char *out_text,
                              double ratio, char *why, size_t why_size)
{
    char src_stack[1024], out_stack[1024];
    char *src = ascii_lower(src_text, src_stack, sizeof(src_stack));
    char *out = ascii_lower(out_text, out_stack, sizeof(out_stack));
    int verdict = 0;

    if (src == NULL || out == NULL) {
        snprintf(why, why_size, "out of memory while checking the answer");
        verdict = 1;
        goto done;
    }
    verdict = phrases_found(src, out, ratio, why, why_size);
done:
    if (src != NULL && src != src_stack)
        free(src);
    if (out != NULL && out != out_stack)
        free(out);
    return verdict;
}

int pl__validate(pl_arena *a, const pl__validate_in *in, const char *content,
                 char **out, pl_error *err)
{
    cJSON *doc = cJSON_Parse(content), *segs, *item;
    size_t n = 0;
    int rc = 0;
    char why[256];

    if (doc == NULL || !cJSON_IsObject(doc)) {
        rc = pl_error_set(err, PL_ETRANSLATE, "the answer is not a JSON object");
        goto done;
    }
    segs = cJSON_GetObjectItemCaseSensitive(doc, "segments");
    if (!cJSON_IsArray(segs)) {
        rc = pl_error_set(err, PL_ETRANSLATE, "the answer has no 'segments' array");
        goto done;
    }
    for (size_t i = 0; i < in->count; i++)
        out[i] = NULL;
    cJSON_ArrayForEach(item, segs) {
        cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
        cJSON *text = cJSON_GetObjectItemCaseSensitive(item, "text");
        size_t k;
        n++;
        if (!cJSON_IsString(id) || !cJSON_IsString(text)) {
            rc = pl_error_set(err, PL_ETRANSLATE,
                              "segment %zu of the answer lacks a string 'id' or 'text'", n);
            goto done;
        }
        for (k = 0; k < in->count; k++)
            if (strcmp(in->segments[k].id, id->valuestring) == 0)
                break;
        if (k == in->count) {
            rc = pl_error_set(err, PL_ETRANSLATE,
                              "the answer has id '%.64s', which was not asked for",
                              id->valuestring);
            goto done;
        }
        if (out[k] != NULL) {
            rc = pl_error_set(err, PL_ETRANSLATE, "the answer repeats id '%s'",
                              in->segments[k].id);
            goto done;
        }
        /* Restoring checks the placeholders: each exactly once, none new. */
        rc = pl__unmask(a, text->valuestring, &in->masks[k], &out[k], err);
        if (rc != 0) {
            char tmp[PL_ERROR_MESSAGE_MAX];
            snprintf(tmp, sizeof(tmp), "%s", err ? err->message : "");
            rc = pl_error_set(err, PL_ETRANSLATE, "segment '%s': %s",
                              in->segments[k].id, tmp);
            goto done;
        }
        {
            const char *src = in->segments[k].text;
            size_t cin = char_count(src), cout = char_count(text->valuestring);
            double ratio = cin >= RATIO_MIN_CHARS ? (double)cout / (double)cin : -1;
            int lang = -1;

            if (obeyed_or_answered(src, text->valuestring, ratio, why, sizeof(why))) {
                rc = pl_error_set(err, PL_ETRANSLATE, "segment '%s': %s",
                                  in->segments[k].id, why);
                goto done;
            }
            if (ratio >= 0 && (ratio < in->cfg->min_ratio || ratio > in->cfg->max_ratio)) {
                rc = pl_error_set(err, PL_ETRANSLATE,
                                  "segment '%s': length ratio %.2f is outside "
                                  "%.2f..%.2f",
                                  in->segments[k].id, ratio, in->cfg->min_ratio,
                                  in->cfg->max_ratio);
                goto done;
            }
            why[0] = '\0';
            if (in->req->lang_check != NULL)
                lang = in->req->lang_check(out[k], strlen(out[k]),
                                           in->req->target_locale,
                                           in->req->lang_check_arg);
            if (lang < 0)
                lang = pl__script_check(text->valuestring, in->req->target_locale,
                                        in->cfg->min_letters, why, sizeof(why));
            if (lang == 0) {
                rc = pl_error_set(err, PL_ETRANSLATE, "segment '%s': %s",
                                  in->segments[k].id,
                                  why[0] ? why : "the answer is not in the target language");
                goto done;
            }
        }
    }
    for (size_t k = 0; k < in->count; k++) {
        if (out[k] == NULL) {
            rc = pl_error_set(err, PL_ETRANSLATE, "the answer lacks id '%s'",
                              in->segments[k].id);
            goto done;
        }
    }

done:
    cJSON_Delete(doc);
    return rc;
}
