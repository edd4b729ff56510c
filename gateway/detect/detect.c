/*
 * Language identification: the text's main script picks the candidate
 * languages, then a backoff character n-gram model (orders 1-5) scores
 * them, the prior from hints is added, and a softmax gives confidences.
 */
#include <math.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_internal.h"
#include "parley/text.h"

#ifndef PARLEY_LOCALES_DIR
#define PARLEY_LOCALES_DIR "locales"
#endif

#define MODEL_FILE "langid.bin"
#define VARIETY_DIR "varieties"
#define WORDS_DIR "words"
/*
 * Overlapping n-grams are far from independent, so the summed log-likelihood
 * overstates the evidence; dividing by this temperature calibrates it against
 * the prior (argmax without hints is unchanged).
 */
#define LL_TEMPERATURE 2.0
/* A language is a candidate when this share of its training letters is in the text's script. */
#define CANDIDATE_PERMILLE 50
/* Scripts counted per message; more distinct scripts than this are ignored. */
#define MAX_SCRIPTS_SEEN 8

static void index_scripts(pl_detector *d);
static void index_script_codes(pl_detector *d);

const char *pl_detect_default_dir(void)
{
    const char *env = getenv("PARLEY_LOCALES_DIR");
    return env && *env ? env : PARLEY_LOCALES_DIR;
}

int pl_detect_open(const char *locales_dir, pl_detector **out, pl_error *err)
{
    char path[4096];
    int rc;

    if (out == NULL)
        return pl_error_set(err, PL_EINVAL, "no output pointer");
    *out = NULL;
    if (locales_dir == NULL)
        locales_dir = pl_detect_default_dir();
    pl_detector *d = calloc(1, sizeof *d);
    if (d == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    if ((size_t)snprintf(path, sizeof path, "%s/%s", locales_dir, MODEL_FILE) >= sizeof path) {
        rc = pl_error_set(err, PL_ELIMIT, "locales path too long");
        goto fail;
    }
    if ((rc = pl__model_open(path, &d->model, err)) < 0 ||
        (rc = pl__codes_build(&d->model, err)) < 0)
        goto fail;
    snprintf(path, sizeof path, "%s/%s", locales_dir, VARIETY_DIR);
    if ((rc = pl__varieties_load(path, &d->varieties, err)) < 0)
        goto fail;
    snprintf(path, sizeof path, "%s/%s", locales_dir, WORDS_DIR);
    if ((rc = pl__varieties_load(path, &d->words, err)) < 0)
        goto fail;
    pl__varieties_bind(d->varieties, &d->model);
    if ((rc = pl__words_bind(d->words, &d->model, err)) < 0)
        goto fail;
    index_scripts(d);
    index_script_codes(d);
    if ((rc = pl__score_init(d, err)) < 0)
        goto fail;
    *out = d;
    return 0;
fail:
    pl_detect_close(d);
    return rc;
}

void pl_detect_close(pl_detector *d)
{
    if (d == NULL)
        return;
    pl__model_close(&d->model);
    free(d->chdata);
    if (d->ready_pool == NULL) {
        /* The tables before they move into the vectors' block (tables.c). */
        free(d->uni_idx);
        free(d->bi_table);
        free(d->tri_table);
    }
    free(d->ready_pool);
    free(d->uni_max);
    free(d->bi_max);
    free(d->tri_max);
    pl__varieties_free(d->varieties);
    pl__varieties_free(d->words);
    free(d);
}

size_t pl_detect_language_count(const pl_detector *d)
{
    return d ? d->model.nlangs : 0;
}

const char *pl_detect_language_code(const pl_detector *d, size_t i)
{
    return d && i < d->model.nlangs ? d->model.langs[i].code : NULL;
}

size_t pl_detect_model_size(const pl_detector *d)
{
    return d ? d->model.size : 0;
}

typedef struct script_count {
    UScriptCode script;
    size_t letters;
    size_t marks; /* combining marks of the script itself (vowel signs) */
} script_count;

typedef struct survey {
    script_count seen[MAX_SCRIPTS_SEEN];
    size_t nseen;
    bool kana;
    /* A character NFC may change: the model was estimated on NFC text. */
    bool needs_nfc;
} survey;

/* Counts letters per script; false at the first invalid UTF-8 sequence. */
static bool survey_text(const pl_detector *d, const char *s, size_t len,
                        survey *sv)
{
    const uint8_t *u = (const uint8_t *)s;
    size_t i = 0;
    /* The entry of the last letter's script: most letters repeat it. */
    script_count *last = NULL;
    memset(sv, 0, sizeof *sv);
    while (i < len) {
        UScriptCode sc;
        if (u[i] < 0x80) {
            /* ASCII, most of Latin-script chat: no decoding, no table. */
            uint8_t b = u[i++];
            if ((uint32_t)((b | 0x20) - 'a') >= 26)
                continue;
            sc = USCRIPT_LATIN;
        } else {
            size_t n = pl_text_utf8_seq_len(s, len, i);
            if (n == 0)
                return false;
            UChar32 c = pl__next_cp(s, &i);
            uint32_t info = pl__char(d, c);
            if (info & PL__CH_NOT_NFC)
                sv->needs_nfc = true;
            sc = pl__char_script(info);
            if (!(info & PL__CH_LETTER)) {
                /* The vowel signs of Indic and South-East Asian scripts
                 * belong to their script; shared marks (Arabic harakat,
                 * Latin accents) are Inherited and not counted. */
                if ((info & PL__CH_MARK) && sc != USCRIPT_INHERITED && sc != USCRIPT_COMMON)
                    for (size_t k = 0; k < sv->nseen; k++)
                        if (sv->seen[k].script == sc)
                            sv->seen[k].marks++;
                continue;
            }
        }
        if (last != NULL && last->script == sc) {
            last->letters++;
            continue;
        }
        size_t k;
        for (k = 0; k < sv->nseen && sv->seen[k].script != sc; k++)
            ;
        if (k == sv->nseen && sv->nseen < MAX_SCRIPTS_SEEN)
            sv->seen[sv->nseen++].script = sc;
        if (k < sv->nseen) {
            last = &sv->seen[k];
            last->letters++;
        }
        if (sc == USCRIPT_HIRAGANA || sc == USCRIPT_KATAKANA)
            sv->kana = true;
    }
    return true;
}

/*
 * The script with the most letters, where Latin counts a third: brand names,
 * URLs and order codes in Latin letters are common inside text in other
 * scripts, the reverse is rare.
 */
static UScriptCode main_script(const survey *sv, size_t *letters)
{
    UScriptCode best = USCRIPT_COMMON;
    size_t n = 0, total = 0;
    for (size_t k = 0; k < sv->nseen; k++) {
        size_t w = (sv->seen[k].letters + sv->seen[k].marks) *
                   (sv->seen[k].script == USCRIPT_LATIN ? 1 : 3);
        if (w > n) {
            n = w;
            best = sv->seen[k].script;
        }
    }
    /* Japanese mixes kanji and kana; count them together. */
    for (size_t k = 0; k < sv->nseen; k++)
        if (pl__compatible(sv->seen[k].script, best))
            total += sv->seen[k].letters;
    *letters = total;
    return best;
}

/*
 * Per script of the model, the languages with at least CANDIDATE_PERMILLE of
 * their training letters in it; computed once at open.
 */
static void index_scripts(pl_detector *d)
{
    const pl__model *m = &d->model;
    d->nscripts = 0;
    for (uint32_t l = 0; l < m->nlangs; l++) {
        for (int k = 0; k < PL__MODEL_SCRIPTS; k++) {
            const char *key = m->langs[l].scripts[k];
            if (key[0] == '\0' || m->langs[l].permille[k] < CANDIDATE_PERMILLE)
                continue;
            size_t j;
            for (j = 0; j < d->nscripts && memcmp(d->scripts[j].key, key, 4) != 0; j++)
                ;
            if (j == d->nscripts) {
                if (d->nscripts == PL__SCRIPTS_MAX)
                    continue;
                memset(&d->scripts[j], 0, sizeof d->scripts[j]);
                memcpy(d->scripts[j].key, key, 4);
                d->nscripts++;
            }
            if (!d->scripts[j].cand[l]) {
                d->scripts[j].cand[l] = true;
                d->scripts[j].list[d->scripts[j].n++] = (uint8_t)l;
                d->scripts[j].alive.i[l] = -1;
                /* Whole groups of four blocks up to this language's lane. */
                d->scripts[j].nblocks = (l + 16) / 16 * 4;
            }
        }
    }
}

/* Per script code of the character table, its ISO 15924 name and 1 + its
 * candidates in d->scripts (0 for none); once, at open, after
 * index_scripts. */
static void index_script_codes(pl_detector *d)
{
    for (int sc = 0; sc <= (int)PL__CH_SCRIPT; sc++) {
        const char *name = uscript_getShortName((UScriptCode)sc);
        char key[4] = {0};
        d->script_name[sc] = name;
        d->script_set[sc] = 0;
        if (name == NULL)
            continue;
        memcpy(key, name, strnlen(name, sizeof key));
        for (size_t j = 0; j < d->nscripts; j++)
            if (memcmp(d->scripts[j].key, key, 4) == 0)
                d->script_set[sc] = (uint8_t)(j + 1);
    }
}

/* The languages whose training text is mostly in `sc`, or NULL. */
static const pl__script_cands *pick_candidates(const pl_detector *d,
                                               UScriptCode sc)
{
    if (sc < 0 || sc > (UScriptCode)PL__CH_SCRIPT || d->script_set[sc] == 0)
        return NULL;
    return &d->scripts[d->script_set[sc] - 1];
}

typedef struct ranked {
    uint32_t lang;
    double p;
} ranked;


static void set_script(const pl_detector *d, pl_detect_result *out, UScriptCode sc,
                       const survey *sv)
{
    const char *name = sc >= 0 && sc <= (UScriptCode)PL__CH_SCRIPT ? d->script_name[sc] : NULL;
    if (pl__is_japanese_script(sc) && sv->kana)
        name = "Jpan";
    pl__copy_str(out->script, sizeof out->script, name ? name : "Zyyy");
}

/* The candidates of `set` that the operator allows (PL_HINT_ONLY). */
static void restrict_candidates(const pl__script_cands *set, const bool *only,
                                pl__script_cands *out)
{
    *out = *set;
    out->n = 0;
    out->restricted = true;
    memset(out->cand, 0, sizeof out->cand);
    memset(&out->alive, 0, sizeof out->alive);
    for (size_t k = 0; k < set->n; k++) {
        uint8_t l = set->list[k];
        if (!only[l])
            continue;
        out->list[out->n++] = l;
        out->cand[l] = true;
        out->alive.i[l] = -1;
    }
}

struct pl_detect_langset {
    const pl_detector *d;
    bool only[PL__LANG_MAX];
    /* The candidates of each of d->scripts that the set allows. */
    pl__script_cands scripts[PL__SCRIPTS_MAX];
};

int pl_detect_langset_new(const pl_detector *d, const char *list,
                          pl_detect_langset **out, pl_error *err)
{
    if (d == NULL || list == NULL || out == NULL)
        return pl_error_set(err, PL_EINVAL, "invalid argument");
    *out = NULL;
    pl_detect_langset *s = calloc(1, sizeof *s);
    if (s == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    pl_detect_hint hint = {PL_HINT_ONLY, list};
    int rc = pl__only_languages(&d->model, &hint, 1, s->only, err);
    if (rc < 0) {
        free(s);
        return rc;
    }
    s->d = d;
    for (size_t j = 0; j < d->nscripts; j++)
        restrict_candidates(&d->scripts[j], s->only, &s->scripts[j]);
    *out = s;
    return 0;
}

void pl_detect_langset_free(pl_detect_langset *s)
{
    free(s);
}

int pl_detect_text(const pl_detector *d, const char *text, size_t len,
                   const pl_detect_hint *hints, size_t nhints,
                   pl_detect_result *out, pl_error *err)
{
    return pl_detect_text_in(d, NULL, text, len, hints, nhints, out, err);
}

int pl_detect_text_in(const pl_detector *d, const pl_detect_langset *langs,
                      const char *text, size_t len, const pl_detect_hint *hints,
                      size_t nhints, pl_detect_result *out, pl_error *err)
{
    char *nfc = NULL;
    survey sv;
    size_t letters = 0;
    int rc;

    if (d == NULL || out == NULL || (text == NULL && len > 0) ||
        (hints == NULL && nhints > 0) || (langs != NULL && langs->d != d))
        return pl_error_set(err, PL_EINVAL, "invalid argument");
    memset(out, 0, sizeof *out);
    pl__copy_str(out->language, sizeof out->language, "und");
    pl__copy_str(out->script, sizeof out->script, "Zyyy");
    if (len > PL_TEXT_MAX_INPUT)
        return pl_error_set(err, PL_ELIMIT, "text of %zu bytes exceeds the limit", len);
    bool only[PL__LANG_MAX];
    int restricted = pl__only_languages(&d->model, hints, nhints, only, err);
    if (restricted < 0)
        return restricted;
    if (restricted && langs != NULL)
        for (uint32_t l = 0; l < d->model.nlangs; l++)
            only[l] = only[l] || langs->only[l];
    if (!survey_text(d, text, len, &sv)) {
        /* The text module words the error and its offset. */
        if ((rc = pl_text_validate_utf8(text, len, NULL, err)) < 0)
            return rc;
        return pl_error_set(err, PL_EUTF8, "invalid UTF-8");
    }
    if (sv.needs_nfc && pl_text_is_normalized(text, len, PL_TEXT_NFC, NULL) != 1) {
        /* The model was estimated on composed text: "é", not "e" + U+0301.
         * (Text whose marks only might compose is usually composed
         * already: the full check spares the copy.) */
        size_t nlen;
        if ((rc = pl_text_normalize(text, len, PL_TEXT_NFC, &nfc, &nlen, err)) < 0)
            return rc;
        text = nfc;
        len = nlen;
        survey_text(d, text, len, &sv);
    }
    UScriptCode main = main_script(&sv, &letters);
    out->letters = letters;
    if (letters == 0)
        goto done;
    set_script(d, out, main, &sv);

    const pl__model *m = &d->model;
    bool cand[PL__LANG_MAX];
    double score[PL__LANG_MAX];
    const pl__script_cands *set = pick_candidates(d, main);
    pl__script_cands allowed;
    if (set != NULL && restricted) {
        restrict_candidates(set, only, &allowed);
        set = &allowed;
    } else if (set != NULL && langs != NULL) {
        set = &langs->scripts[set - d->scripts];
    }
    if (set == NULL || set->n == 0)
        goto done;
    memcpy(cand, set->cand, sizeof cand);

    memset(score, 0, m->nlangs * sizeof *score);
    /* Only the header: the buffer is written when first needed. */
    pl__marktext mt;
    mt.d = d;
    mt.text = text;
    mt.len = len;
    mt.ready = false;
    /* Only the candidates left matter from here on (in model order). */
    uint8_t left[PL__LANG_MAX];
    size_t nleft = 1;
    left[0] = set->list[0];
    if (set->n > 1)
        nleft = pl__score_text(d, text, len, main, set, cand, score, left);
    /* Function words settle the pairs the n-grams leave close; by now
     * pruning has usually removed one of a pair, which saves the work. */
    if (nleft > 1)
        pl__words_apply(d->words, &mt, cand, left, nleft, score, LL_TEMPERATURE);
    for (size_t k = 0; k < nleft; k++)
        score[left[k]] /= LL_TEMPERATURE;
    pl__prior_apply(m, hints, nhints, score);

    /* Softmax over the candidates; only the best few are kept, in order
     * (ties keep the model's language order). */
    ranked top[1 + PL_DETECT_MAX_ALT] = {{0, 0.0}};
    size_t ntop = 0;
    double best = -INFINITY, sum = 0.0;
    for (size_t k = 0; k < nleft; k++)
        if (score[left[k]] > best)
            best = score[left[k]];
    for (size_t j = 0; j < nleft; j++) {
        uint32_t l = left[j];
        double p = exp(score[l] - best);
        sum += p;
        if (ntop == sizeof top / sizeof top[0] && p <= top[ntop - 1].p)
            continue;
        size_t k = ntop < sizeof top / sizeof top[0] ? ntop++ : ntop - 1;
        for (; k > 0 && top[k - 1].p < p; k--)
            top[k] = top[k - 1];
        top[k].lang = l;
        top[k].p = p;
    }

    pl__copy_str(out->language, sizeof out->language,
                 m->langs[top[0].lang].code);
    out->confidence = top[0].p / sum;
    for (size_t k = 1; k < ntop && out->nalt < PL_DETECT_MAX_ALT; k++) {
        if (top[k].p / sum < 0.001)
            break;
        pl_detect_alt *a = &out->alt[out->nalt++];
        pl__copy_str(a->language, sizeof a->language,
                     m->langs[top[k].lang].code);
        a->confidence = top[k].p / sum;
    }
    pl__varieties_decide(d->varieties, (uint8_t)top[0].lang, &mt, hints, nhints, out);
    if (strcmp(out->language, "zh") == 0 && out->variety[0] && strcmp(out->variety, "yue") != 0)
        pl__copy_str(out->script, sizeof out->script, out->variety + 3);
done:
    free(nfc);
    return 0;
}
