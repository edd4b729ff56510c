/*
 * The tables the detector builds once, when it opens, from the model: the
 * character table (what scoring needs of a code point) and the ready
 * vectors of common 1-, 2- and 3-grams (score.c explains their use). The
 * scoring parameters are set first (pl__score_init).
 */
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>

#include "detect_internal.h"
#include "parley/arena.h"

/*
 * A letter whose order-1 record lists at least this many languages gets its
 * order-1 values as a ready vector: copying it is cheaper than scattering
 * the postings, and nearly every position needs them.
 */
#define UNI_MIN_POSTINGS 8

/*
 * Likewise a 2-gram of two such letters whose record lists at least this
 * many languages (about 1,100 of them, nearly all Latin-script), found
 * through a small hash table keyed by the n-gram hash.
 */
#define BI_MIN_POSTINGS 24

/*
 * Likewise a 3-gram whose last two letters have a ready vector and whose
 * record lists at least this many languages: while many languages are
 * candidates (short messages), copying its vector replaces scattering
 * dozens of postings.
 */
#define TRI_MIN_POSTINGS 24

uint32_t pl__char_compute(UChar32 c)
{
    uint32_t info;
    UChar32 lc = c;
    UScriptCode sc = USCRIPT_COMMON;
    if (c < 0x80) {
        /* ASCII as the detector always read it: letters are Latin, the rest
         * Common. */
        bool letter = (uint32_t)((c | 0x20) - 'a') < 26;
        if (letter) {
            sc = USCRIPT_LATIN;
            lc = c | 0x20;
        }
        info = (uint32_t)sc | (letter ? PL__CH_LETTER : 0);
    } else {
        UErrorCode st = U_ZERO_ERROR;
        sc = uscript_getScript(c, &st);
        if (U_FAILURE(st) || sc < 0 || sc > (UScriptCode)PL__CH_SCRIPT)
            sc = USCRIPT_UNKNOWN;
        info = (uint32_t)sc;
        if (u_isalpha(c))
            info |= PL__CH_LETTER;
        int8_t t = u_charType(c);
        if (c >= 0x300 &&
            (t == U_NON_SPACING_MARK || t == U_COMBINING_SPACING_MARK ||
             t == U_ENCLOSING_MARK))
            info |= PL__CH_MARK;
        if (u_getIntPropertyValue(c, UCHAR_NFC_QUICK_CHECK) != UNORM_YES)
            info |= PL__CH_NOT_NFC;
        lc = u_tolower(c);
    }
    /* The lower case as an offset modulo 2^16 (both are in the BMP), so
     * that blocks without case (CJK, Hangul) have identical pages. */
    if (c < 0x10000 && lc < 0x10000)
        info |= (uint32_t)(uint16_t)(lc - c) << 16;
    return info;
}

/*
 * The BMP in pages of 256 code points; pages that are alike (all of a CJK
 * block, unassigned ranges) are stored once, so the table stays small and
 * the pages in use stay in cache.
 */
static int build_chars(pl_detector *d, pl_error *err)
{
    uint32_t page[256];
    size_t npages = 0, cap = 0; /* cap in bytes, as pl_grow keeps it */
    char *data = NULL;
    for (UChar32 hi = 0; hi < 256; hi++) {
        for (UChar32 lo = 0; lo < 256; lo++)
            page[lo] = pl__char_compute((hi << 8) | lo);
        size_t k;
        for (k = 0;
             k < npages && memcmp(data + k * sizeof page, page, sizeof page) != 0; k++)
            ;
        if (k == npages) {
            if (pl_grow(&data, &cap, (npages + 1) * sizeof page, 64 * sizeof page) < 0) {
                free(data);
                return pl_error_set(err, PL_ENOMEM, "out of memory");
            }
            memcpy(data + npages * sizeof page, page, sizeof page);
            npages++;
        }
        d->chpage[hi] = (uint16_t)k;
    }
    d->chdata = (uint32_t *)data;
    return 0;
}

/* The best value any language has in each of n ready vectors of `stride`
 * values (for watching, see WATCH_LIMIT). */
static int32_t *vector_maxima(const pl_detector *d, const int32_t *vecs, size_t n,
                              size_t stride)
{
    int32_t *mx = malloc((n ? n : 1) * sizeof *mx);
    if (mx == NULL)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const int32_t *v = vecs + i * stride;
        int32_t best = v[0];
        for (uint32_t l = 1; l < d->model.nlangs; l++)
            best = v[l] > best ? v[l] : best;
        mx[i] = best;
    }
    return mx;
}

/* The letters that have an order-1 vector, in code point order (malloc'd;
 * NULL without memory). */
static UChar32 *common_letters(const pl_detector *d, size_t *n)
{
    UChar32 *letters = malloc(PL__UNI_LIMIT * sizeof *letters);
    *n = 0;
    if (letters == NULL)
        return NULL;
    for (UChar32 c = 0; c < PL__UNI_LIMIT; c++)
        if (d->uni_idx[c])
            letters[(*n)++] = c;
    return letters;
}

/*
 * Puts (key, idx) in an open-addressing table of `size` slots (a power of
 * two, never full). Returns false when a key already on its probe path has
 * the same fingerprint: lookups would then find that one instead.
 */
static bool slot_insert(pl__vec_slot *table, size_t size, uint64_t key, uint32_t idx)
{
    size_t slot = pl__vec_slot_of(key) & (size - 1);
    for (; table[slot].idx; slot = (slot + 1) & (size - 1))
        if (table[slot].tag == pl__vec_tag(key))
            return false;
    table[slot].tag = pl__vec_tag(key);
    table[slot].idx = idx;
    return true;
}

static int tag_collision(pl_error *err)
{
    return pl_error_set(err, PL_ESYNTAX,
                        "language model: two common n-grams share a ready-vector fingerprint");
}

/*
 * The ready vectors while they are built: 32-bit values, one full
 * pl__langvec per 1- or 2-gram and nblocks blocks per 3-gram. pack_vectors
 * turns them into the detector's 16-bit vectors.
 */
typedef struct wide_vectors {
    pl__langvec *uni, *bi;
    pl__v4i *tri;
    size_t nuni, nbi, ntri;
} wide_vectors;

/*
 * Appends to the n vectors of `stride` 32-bit values at *buf (grown with
 * pl_grow, *cap in bytes) a copy of `from` with the order-`order`
 * postings p[0..cnt) written over it: the vector of an n-gram starts from
 * that of its shorter suffix. Returns -1 without memory.
 */
static int append_vector(const pl_detector *d, char **buf, size_t *cap, size_t n,
                         size_t stride, const int32_t *from, const pl__posting *p,
                         size_t cnt, int order)
{
    size_t vsize = stride * sizeof(int32_t);
    if (pl_grow(buf, cap, (n + 1) * vsize, 256 * vsize) < 0)
        return -1;
    int32_t *v = (int32_t *)*buf + n * stride;
    memcpy(v, from, vsize);
    for (size_t i = 0; i < cnt; i++)
        v[p[i].lang] = d->qv[order][p[i].q];
    return 0;
}

/* The order-1 vectors of the common letters; once, at open. */
static int build_unigrams(pl_detector *d, wide_vectors *w, pl_error *err)
{
    const pl__model *m = &d->model;
    size_t n = 0, cap = 0; /* cap in bytes, as pl_grow keeps it */
    d->uni_idx = calloc(PL__UNI_LIMIT, sizeof *d->uni_idx);
    if (d->uni_idx == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    for (UChar32 c = 0; c < PL__UNI_LIMIT; c++) {
        uint32_t info = pl__char(d, c);
        if (!(info & PL__CH_LETTER) || pl__char_lower(c, info) != c)
            continue; /* only lower-case letters are looked up */
        uint64_t h = pl__ngram_mix(pl__ngram_step(PL__NGRAM_SEED, (uint32_t)c));
        const pl__posting *p;
        size_t cnt = pl__model_lookup(m, h, &p);
        if (cnt < UNI_MIN_POSTINGS)
            continue;
        char *buf = (char *)w->uni;
        int rc = append_vector(d, &buf, &cap, n, PL__LANG_PAD, d->unseen.i, p, cnt, 1);
        w->uni = (pl__langvec *)buf;
        if (rc < 0)
            return pl_error_set(err, PL_ENOMEM, "out of memory");
        d->uni_idx[c] = (uint16_t)++n;
        w->nuni = n;
        if (n == UINT16_MAX)
            break;
    }
    return 0;
}

/* The order-2 vectors of the common 2-grams; once, at open, after the
 * order-1 vectors, which they start from. */
static int build_bigrams(pl_detector *d, wide_vectors *w, pl_error *err)
{
    const pl__model *m = &d->model;
    size_t nl, n = 0, cap = 0; /* cap in bytes, as pl_grow keeps it */
    UChar32 *letters = common_letters(d, &nl);
    d->bi_table = calloc(PL__BI_SLOTS, sizeof *d->bi_table);
    if (letters == NULL || d->bi_table == NULL) {
        free(letters);
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < nl; i++) {
        for (size_t j = 0; j < nl; j++) {
            /* letters[i] then letters[j]: hashed from the last back. */
            uint64_t h = pl__ngram_step(PL__NGRAM_SEED, (uint32_t)letters[j]);
            h = pl__ngram_step(h, (uint32_t)letters[i]);
            const pl__posting *p;
            size_t cnt = pl__model_lookup(m, pl__ngram_mix(h), &p);
            if (cnt < BI_MIN_POSTINGS || 2 * (n + 1) > PL__BI_SLOTS)
                continue;
            char *buf = (char *)w->bi;
            int rc = append_vector(d, &buf, &cap, n, PL__LANG_PAD,
                                   w->uni[d->uni_idx[letters[j]] - 1].i, p, cnt, 2);
            w->bi = (pl__langvec *)buf;
            if (rc < 0) {
                free(letters);
                return pl_error_set(err, PL_ENOMEM, "out of memory");
            }
            w->nbi = ++n;
            if (!slot_insert(d->bi_table, PL__BI_SLOTS, h, (uint32_t)n)) {
                free(letters);
                return tag_collision(err);
            }
        }
    }
    free(letters);
    return 0;
}

/* The order-3 vectors; once, at open, after the order-2 vectors. */
static int build_trigrams(pl_detector *d, wide_vectors *w, pl_error *err)
{
    const pl__model *m = &d->model;
    size_t nl, n = 0, vcap = 0, kcap = 0; /* in bytes, as pl_grow keeps them */
    UChar32 *letters = common_letters(d, &nl);
    uint64_t *keys = NULL;
    if (letters == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    for (size_t i = 0; i < nl; i++) {
        for (size_t j = 0; j < nl; j++) {
            uint64_t h2 = pl__ngram_step(PL__NGRAM_SEED, (uint32_t)letters[j]);
            h2 = pl__ngram_step(h2, (uint32_t)letters[i]);
            uint32_t bi = find_bigram(d, h2);
            if (bi == 0)
                continue;
            for (size_t k = 0; k < nl; k++) {
                /* letters[k], letters[i], letters[j]. */
                uint64_t h = pl__ngram_step(h2, (uint32_t)letters[k]);
                const pl__posting *p;
                size_t cnt = pl__model_lookup(m, pl__ngram_mix(h), &p);
                if (cnt < TRI_MIN_POSTINGS)
                    continue;
                char *vbuf = (char *)w->tri, *kbuf = (char *)keys;
                int grown = append_vector(d, &vbuf, &vcap, n, d->nblocks * 4,
                                          w->bi[bi - 1].i, p, cnt, 3) == 0 &&
                            pl_grow(&kbuf, &kcap, (n + 1) * sizeof *keys, 1024 * sizeof *keys) == 0;
                w->tri = (pl__v4i *)vbuf;
                keys = (uint64_t *)kbuf;
                if (!grown) {
                    free(letters);
                    free(keys);
                    return pl_error_set(err, PL_ENOMEM, "out of memory");
                }
                keys[n++] = h;
                w->ntri = n;
            }
        }
    }
    free(letters);
    d->tri_size = 1024;
    while (d->tri_size < 2 * n)
        d->tri_size *= 2;
    d->tri_table = calloc(d->tri_size, sizeof *d->tri_table);
    if (d->tri_table == NULL) {
        free(keys);
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    }
    for (size_t t = 0; t < n; t++) {
        if (!slot_insert(d->tri_table, d->tri_size, keys[t], (uint32_t)t + 1)) {
            free(keys);
            return tag_collision(err);
        }
    }
    free(keys);
    return 0;
}

/* Writes n vectors of `stride` 32-bit values as 16-bit vectors of
 * d->rstride values at out; returns the bytes written. Every value fits in
 * 16 bits: pl__score_init checked the range. */
static size_t narrow(const pl_detector *d, int16_t *out, const int32_t *wide, size_t n,
                     size_t stride)
{
    for (size_t v = 0; v < n; v++)
        for (size_t l = 0; l < d->rstride; l++)
            out[v * d->rstride + l] = (int16_t)wide[v * stride + l];
    return n * d->rstride * sizeof(int16_t);
}

/* Bytes of the pool taken by n bytes, so that each part starts on a line. */
static size_t pool_bytes(size_t n)
{
    return (n + 63) / 64 * 64;
}

/* Copies n bytes of *from into the pool at *off, frees from and returns
 * the copy. */
static void *pool_move(char *pool, size_t *off, void *from, size_t n)
{
    void *to = memcpy(pool + *off, from, n);
    free(from);
    *off += pool_bytes(n);
    return to;
}

/*
 * The built vectors in the form the scorer reads, their maxima, and the
 * tables that find them, all gathered into one block that asks for
 * transparent huge pages: nearly every letter reads them, and in 4 KB pages
 * their 1.5 MB span some 380 pages, each a TLB entry. Without huge pages it
 * is one block like any other.
 */
static int pack_vectors(pl_detector *d, const wide_vectors *w, pl_error *err)
{
    d->uni_max = vector_maxima(d, w->uni ? w->uni->i : NULL, w->nuni, PL__LANG_PAD);
    d->bi_max = vector_maxima(d, w->bi ? w->bi->i : NULL, w->nbi, PL__LANG_PAD);
    d->tri_max = vector_maxima(d, (const int32_t *)w->tri, w->ntri, d->nblocks * 4);
    if (d->uni_max == NULL || d->bi_max == NULL || d->tri_max == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    d->rstride = d->nblocks * 4;
    for (size_t l = 0; l < PL__LANG_PAD; l++)
        d->unseen16.i[l] = (int16_t)d->unseen.i[l];

    size_t vec = d->rstride * sizeof(int16_t);
    size_t tri_table = d->tri_size * sizeof *d->tri_table;
    size_t bi_table = PL__BI_SLOTS * sizeof *d->bi_table;
    size_t uni_idx = PL__UNI_LIMIT * sizeof *d->uni_idx;
    size_t total = pool_bytes(w->nuni * vec) + pool_bytes(w->nbi * vec) +
                   pool_bytes(w->ntri * vec) + pool_bytes(tri_table) +
                   pool_bytes(bi_table) + pool_bytes(uni_idx);
    char *pool = pl__huge_alloc(total, &total);
    if (pool == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    size_t off = 0;
    d->uni = (int16_t *)(pool + off);
    off += pool_bytes(narrow(d, d->uni, w->uni ? w->uni->i : NULL, w->nuni, PL__LANG_PAD));
    d->bi = (int16_t *)(pool + off);
    off += pool_bytes(narrow(d, d->bi, w->bi ? w->bi->i : NULL, w->nbi, PL__LANG_PAD));
    d->tri = (int16_t *)(pool + off);
    off += pool_bytes(narrow(d, d->tri, (const int32_t *)w->tri, w->ntri, d->nblocks * 4));
    d->tri_table = pool_move(pool, &off, d->tri_table, tri_table);
    d->bi_table = pool_move(pool, &off, d->bi_table, bi_table);
    d->uni_idx = pool_move(pool, &off, d->uni_idx, uni_idx);
    d->ready_pool = pool;
    return 0;
}

int pl__tables_build(pl_detector *d, pl_error *err)
{
    wide_vectors w = {0};
    int rc = build_chars(d, err);
    if (rc == 0)
        rc = build_unigrams(d, &w, err);
    if (rc == 0)
        rc = build_bigrams(d, &w, err);
    if (rc == 0)
        rc = build_trigrams(d, &w, err);
    if (rc == 0)
        rc = pack_vectors(d, &w, err);
    free(w.uni);
    free(w.bi);
    free(w.tri);
    return rc;
}
