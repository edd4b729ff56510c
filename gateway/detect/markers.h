/*
 * Marker files as loaded by variety.c: the dialect markers of
 * locales/varieties and the function words of locales/words (the same
 * format). Shared with words.c, which indexes the function words.
 */
#ifndef PARLEY_DETECT_MARKERS_H
#define PARLEY_DETECT_MARKERS_H

#include <string.h>

#include "detect_internal.h"

#define PL__VARIETIES_MAX 64
/* Markers per file: matching keeps one bit per marker on the stack. */
#define PL__MARKERS_MAX 4096

typedef struct pl__marker {
    int variety;
    double weight;
    char *needle; /* normalized, with ' ' at word edges */
    uint64_t sig; /* its byte pairs, hashed into 64 bits (see contains) */
} pl__marker;

typedef struct pl__char_set {
    int variety;
    double weight;
    int32_t *cps; /* sorted */
    size_t n;
} pl__char_set;

typedef struct pl__vfile {
    char lang[12];
    char names[PL__VARIETIES_MAX][16];
    int nvar;
    int substring;
    int override_var;
    double override_min;
    pl__marker *markers;
    size_t nmarkers;
    pl__char_set sets[PL__VARIETIES_MAX];
    int nsets;
    int model_lang[PL__VARIETIES_MAX]; /* words files: model index of each name, or -1 */
    bool has_lang[PL__LANG_MAX];       /* words files: model languages it names */
    /* Markers that are one whole word, found through a hash table of
     * word_size slots (word_slot: 1 + marker index, 0 when free); the other
     * markers (phrases, prefixes, suffixes, substrings) are listed in
     * `others` and tested one by one. */
    uint32_t *word_hash;
    uint32_t *word_slot;
    size_t word_size;
    uint32_t *others;
    size_t nothers;
} pl__vfile;

typedef struct pl__words_index pl__words_index;

struct pl__varieties {
    pl__vfile *files;
    size_t nfiles;
    /* Per model language, 1 + the index of its file, or 0 (pl__varieties_bind). */
    uint8_t file_of[PL__LANG_MAX];
    /* Function-word files: the whole words of all of them (words.c). */
    pl__words_index *index;
};

/* FNV-1a of a word of the normalized text, as the marker tables store it. */
static inline uint32_t pl__word_hash(const char *w, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)w[i]) * 16777619u;
    return h;
}

/* Whether a marker's needle is one whole word, " word " with no space
 * inside; *wlen is then the word's length (it starts at needle + 1). */
bool pl__word_needle(const char *needle, size_t *wlen);

/* Normalizes the message and splits it into hashed words, once. */
void pl__marktext_ready(pl__marktext *mt);

/* Where pl__marktext_next_word is in a message; start at {0, NULL}. */
typedef struct pl__word_iter {
    size_t k;
    const char *p;
} pl__word_iter;

/*
 * The next word of a ready message (its letters, length and hash): the
 * words recorded by pl__marktext_ready, then, past PL__MARK_WORDS of them
 * (a very long message), the rest read word by word. False at the end.
 */
static inline bool pl__marktext_next_word(const pl__marktext *mt, pl__word_iter *it,
                                          const char **word, size_t *n, uint32_t *h)
{
    if (it->k < mt->nwords) {
        *word = mt->norm + mt->words[it->k].off;
        *n = mt->words[it->k].len;
        *h = mt->words[it->k].hash;
        it->k++;
        return true;
    }
    if (it->p == NULL)
        it->p = mt->norm + mt->rest;
    while (*it->p == ' ')
        it->p++;
    if ((*n = strcspn(it->p, " ")) == 0)
        return false;
    *word = it->p;
    *h = pl__word_hash(it->p, *n);
    it->p += *n;
    return true;
}

/* Whether the normalized message contains marker mk (after
 * pl__marktext_ready); builds the byte-pair set on first use. */
bool pl__marker_in_text(pl__marktext *mt, const pl__marker *mk);

/* Frees what pl__words_bind built. */
void pl__words_index_free(pl__words_index *ix);

#endif
