/*
 * The function-word step: locales/words/<file>.txt list the commonest
 * grammatical words of languages the n-gram model confuses ("de", "la",
 * "een" standing alone), and a word found in a message adds its weight to
 * each candidate language that lists it, for the files with at least two
 * candidates still in the race (variety.c reads the files).
 *
 * The whole words of every file share one table, each distinct word once
 * with the list of its uses (language, weight, file): a word of the
 * message is looked up once instead of once per file, and "de", listed by
 * fifteen languages, is compared once instead of fifteen times. The few
 * other markers (phrases, prefixes) are tested file by file.
 */
#include <stdlib.h>
#include <string.h>

#include "markers.h"

/* Files and distinct words the table holds: a file's activity is one bit,
 * a word's "already counted" one bit on the stack. */
#define WORDS_FILES_MAX 64
#define WORDS_MAX 65536

typedef struct word_use {
    double weight;
    uint8_t lang; /* model language */
    uint8_t file;
} word_use;

/* A slot of the open-addressing table; len 0 when free. */
typedef struct word_slot {
    uint32_t hash;
    uint16_t len;
    uint16_t word; /* index into words */
} word_slot;

typedef struct word_entry {
    uint32_t text;  /* offset of its letters in pool */
    uint32_t first; /* its first use in uses */
    uint32_t nuses;
} word_entry;

struct pl__words_index {
    word_slot *slots;
    size_t mask;
    word_entry *words;
    size_t nwords;
    word_use *uses;
    size_t nuses;
    char *pool;
    size_t pool_len;
    /* Per model language, the files that list it, as bits. */
    uint64_t files_of[PL__LANG_MAX];
};

void pl__words_index_free(pl__words_index *ix)
{
    if (ix == NULL)
        return;
    free(ix->slots);
    free(ix->words);
    free(ix->uses);
    free(ix->pool);
    free(ix);
}

static const word_slot *find_slot(const pl__words_index *ix, const char *w, size_t n,
                                   uint32_t h)
{
    for (size_t s = h & ix->mask; ix->slots[s].len; s = (s + 1) & ix->mask) {
        const word_slot *ws = &ix->slots[s];
        if (ws->hash == h && ws->len == n &&
            memcmp(ix->pool + ix->words[ws->word].text, w, n) == 0)
            return ws;
    }
    return NULL;
}

/*
 * Builds the table: a first pass gives every distinct word its slot and
 * counts its uses, a second lays the uses out word by word, in file and
 * line order.
 */
static int build_index(const pl__varieties *w, pl__words_index **out, pl_error *err)
{
    pl__words_index *ix = calloc(1, sizeof *ix);
    size_t nmarkers = 0, pool_cap = 0;
    if (ix == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    for (size_t i = 0; i < w->nfiles; i++)
        for (size_t k = 0; k < w->files[i].nmarkers; k++) {
            nmarkers++;
            pool_cap += strlen(w->files[i].markers[k].needle);
        }
    size_t size = 16;
    while (size < 2 * nmarkers)
        size *= 2;
    ix->mask = size - 1;
    ix->slots = calloc(size, sizeof *ix->slots);
    ix->words = calloc(nmarkers + 1, sizeof *ix->words);
    ix->uses = calloc(nmarkers + 1, sizeof *ix->uses);
    ix->pool = malloc(pool_cap + 1);
    if (ix->slots == NULL || ix->words == NULL || ix->uses == NULL || ix->pool == NULL) {
        pl__words_index_free(ix);
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    }
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < w->nfiles; i++) {
            const pl__vfile *f = &w->files[i];
            for (size_t k = 0; k < f->nmarkers; k++) {
                const pl__marker *mk = &f->markers[k];
                size_t n;
                const char *word = mk->needle + 1;
                int lang = f->model_lang[mk->variety];
                if (!pl__word_needle(mk->needle, &n) || lang < 0)
                    continue; /* another marker, or a language the model lacks */
                uint32_t h = pl__word_hash(word, n);
                const word_slot *ws = find_slot(ix, word, n, h);
                if (ws == NULL) {
                    if (ix->nwords == WORDS_MAX || n > UINT16_MAX) {
                        pl__words_index_free(ix);
                        return pl_error_set(err, PL_ELIMIT, "%s: more than %d function words",
                                            f->lang, WORDS_MAX);
                    }
                    size_t s = h & ix->mask;
                    while (ix->slots[s].len)
                        s = (s + 1) & ix->mask;
                    ix->slots[s] = (word_slot){h, (uint16_t)n, (uint16_t)ix->nwords};
                    ix->words[ix->nwords++].text = (uint32_t)ix->pool_len;
                    memcpy(ix->pool + ix->pool_len, word, n);
                    ix->pool_len += n;
                    ws = &ix->slots[s];
                }
                word_entry *e = &ix->words[ws->word];
                if (pass == 0) {
                    e->nuses++;
                } else {
                    ix->uses[e->first + e->nuses++] =
                        (word_use){mk->weight, (uint8_t)lang, (uint8_t)i};
                }
            }
        }
        if (pass == 0) {
            /* Each word's first use, then count again while placing them. */
            size_t at = 0;
            for (size_t k = 0; k < ix->nwords; k++) {
                ix->words[k].first = (uint32_t)at;
                at += ix->words[k].nuses;
                ix->words[k].nuses = 0;
            }
            ix->nuses = at;
        }
    }
    *out = ix;
    return 0;
}

int pl__words_bind(pl__varieties *w, const pl__model *m, pl_error *err)
{
    if (w == NULL)
        return 0;
    if (w->nfiles > WORDS_FILES_MAX)
        return pl_error_set(err, PL_ELIMIT, "more than %d function-word files",
                            WORDS_FILES_MAX);
    for (size_t i = 0; i < w->nfiles; i++) {
        pl__vfile *f = &w->files[i];
        memset(f->has_lang, 0, sizeof f->has_lang);
        for (int k = 0; k < f->nvar; k++) {
            f->model_lang[k] = -1;
            for (uint32_t l = 0; l < m->nlangs; l++)
                if (strcmp(m->langs[l].code, f->names[k]) == 0) {
                    f->model_lang[k] = (int)l;
                    f->has_lang[l] = true;
                }
        }
    }
    pl__words_index_free(w->index);
    w->index = NULL;
    int rc = build_index(w, &w->index, err);
    for (size_t i = 0; rc == 0 && i < w->nfiles; i++)
        for (uint32_t l = 0; l < m->nlangs; l++)
            if (w->files[i].has_lang[l])
                w->index->files_of[l] |= 1ull << i;
    return rc;
}

/* The files with at least two of their languages still candidates, as
 * bits. */
static uint64_t active_files(const pl__words_index *ix, const uint8_t *left, size_t nleft)
{
    uint64_t once = 0, twice = 0;
    for (size_t k = 0; k < nleft; k++) {
        twice |= once & ix->files_of[left[k]];
        once |= ix->files_of[left[k]];
    }
    return twice;
}

void pl__words_apply(const pl__varieties *w, pl__marktext *mt, const bool *cand,
                     const uint8_t *left, size_t nleft, double *score, double scale)
{
    if (w == NULL || w->index == NULL)
        return;
    const pl__words_index *ix = w->index;
    uint64_t active = active_files(ix, left, nleft);
    if (active == 0)
        return;
    pl__marktext_ready(mt);
    /* A word counts once however often the message has it. */
    uint64_t counted[WORDS_MAX / 64];
    memset(counted, 0, (ix->nwords + 63) / 64 * sizeof counted[0]);
    pl__word_iter it = {0, NULL};
    const char *word;
    size_t n;
    uint32_t h;
    while (pl__marktext_next_word(mt, &it, &word, &n, &h)) {
        const word_slot *ws = find_slot(ix, word, n, h);
        if (ws == NULL || (counted[ws->word / 64] & (1ull << (ws->word % 64))))
            continue;
        counted[ws->word / 64] |= 1ull << (ws->word % 64);
        const word_entry *e = &ix->words[ws->word];
        for (const word_use *u = ix->uses + e->first; u < ix->uses + e->first + e->nuses; u++)
            if ((active & (1ull << u->file)) && cand[u->lang])
                score[u->lang] += u->weight * scale;
    }
    for (size_t i = 0; i < w->nfiles; i++) {
        const pl__vfile *f = &w->files[i];
        if (!(active & (1ull << i)))
            continue;
        for (size_t k = 0; k < f->nothers; k++) {
            const pl__marker *mk = &f->markers[f->others[k]];
            int l = f->model_lang[mk->variety];
            if (l >= 0 && cand[l] && pl__marker_in_text(mt, mk))
                score[l] += mk->weight * scale;
        }
    }
}
