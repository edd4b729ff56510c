/*
 * Internal interface of the detect module: the n-gram model (read once), the
 * variety marker tables and the prior built from hints.
 */
#ifndef PARLEY_DETECT_INTERNAL_H
#define PARLEY_DETECT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/uscript.h>

#include "parley/detect.h"

#define PL__LANG_MAX 255
/* Per-language arrays are padded to whole vectors of four floats. */
#define PL__LANG_PAD 256
/* Letters below this code point may have their order-1 values as a vector. */
#define PL__UNI_LIMIT 0x3000
#define PL__MODEL_SCRIPTS 4
#define PL__NGRAM_MAX 5

/* One language row of the model file (32 bytes on disk). */
typedef struct pl__lang_row {
    char code[6];                 /* NUL-padded ISO 639-1 */
    uint8_t max_order;            /* 1..5 */
    uint8_t floor_q;              /* -ln P(unseen character) / qstep */
    char scripts[PL__MODEL_SCRIPTS][4]; /* ISO 15924, NUL-padded */
    uint16_t permille[PL__MODEL_SCRIPTS]; /* share of the training letters */
} pl__lang_row;

typedef struct pl__posting {
    uint8_t lang;
    uint8_t q; /* -ln P(last char | previous chars) / qstep */
} pl__posting;

typedef struct pl__model {
    const uint8_t *base;
    size_t size;
    size_t alloc_size;       /* bytes allocated at base (pl__huge_alloc) */
    uint32_t nlangs;
    uint32_t bits;
    uint32_t nentries;
    float qstep;
    double qval[256];        /* -q * qstep for each quantized value q */
    const pl__lang_row *langs;
    const uint32_t *dir;     /* (1 << bits) + 1 byte offsets into records */
    const uint8_t *records;  /* fingerprint, count, postings; see model.c */
    uint8_t *codes;          /* 1 + the language of each short code (priors.c) */
} pl__model;

/* Bytes before a record's postings: u32 fingerprint, u8 count. */
#define PL__RECORD_HEAD 5

int pl__model_open(const char *path, pl__model *m, pl_error *err);

/*
 * At least `size` bytes, 2 MB aligned and a multiple of 2 MB in *len, that
 * ask for transparent huge pages (without them, ordinary memory), or NULL;
 * free() releases them. For what nearly every letter reads at random: the
 * model and the ready vectors (model.c).
 */
void *pl__huge_alloc(size_t size, size_t *len);
void pl__model_close(pl__model *m);

/*
 * n-gram hash, the same as the build tool's: FNV-1a over the code points
 * from the last back to the first (PL__NGRAM_SEED, then pl__ngram_step per
 * code point), finished by pl__ngram_mix. Going backwards lets the n-grams
 * ending at one character share the work. These and the lookup helpers
 * below are inline: they run several times per letter.
 */
#define PL__NGRAM_SEED 0xCBF29CE484222325ull

static inline uint64_t pl__ngram_step(uint64_t h, uint32_t cp)
{
    return (h ^ cp) * 0x100000001B3ull;
}

static inline uint64_t pl__ngram_mix(uint64_t h)
{
    /* splitmix64's finalizer spreads the bits the directory uses. */
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBull;
    h ^= h >> 31;
    return h;
}

static inline uint32_t pl__model_slot(const pl__model *m, uint64_t h)
{
    return m->bits ? (uint32_t)(h >> (64 - m->bits)) : 0;
}

/* The records of directory slot b (pl__model_slot), [return value, *end). */
static inline const uint8_t *pl__model_bucket_at(const pl__model *m, uint32_t b,
                                                 const uint8_t **end)
{
    *end = m->records + m->dir[b + 1];
    return m->records + m->dir[b];
}

/* The records of the bucket of `h`, [return value, *end). */
static inline const uint8_t *pl__model_bucket(const pl__model *m, uint64_t h,
                                              const uint8_t **end)
{
    return pl__model_bucket_at(m, pl__model_slot(m, h), end);
}

/* Postings of `h` among the records [rec, end); returns their number. */
static inline size_t pl__model_find(const uint8_t *rec, const uint8_t *end, uint64_t h,
                                    const pl__posting **out)
{
    uint32_t fp = (uint32_t)h;
    while (rec < end) {
        uint32_t v;
        memcpy(&v, rec, sizeof v);
        if (v == fp) {
            *out = (const pl__posting *)(rec + PL__RECORD_HEAD);
            return rec[4];
        }
        rec += PL__RECORD_HEAD + 2 * (size_t)rec[4];
    }
    return 0;
}

/* Postings of `h` (its bucket, then pl__model_find); returns their number. */
static inline size_t pl__model_lookup(const pl__model *m, uint64_t h,
                                      const pl__posting **out)
{
    const uint8_t *end, *rec = pl__model_bucket(m, h, &end);
    return pl__model_find(rec, end, h, out);
}

/* Copies the string src into dst of `size` bytes, cut short if need be
 * (snprintf's "%s" without the formatting cost). */
static inline void pl__copy_str(char *dst, size_t size, const char *src)
{
    size_t n = strnlen(src, size - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Variety marker tables for every language that has a file. */
typedef struct pl__varieties pl__varieties;

#define PL__NORM_MAX 8192 /* bytes of a message looked at for markers */
#define PL__MARK_WORDS 512

/*
 * A message as the marker lists read it (variety.c): made once, on first
 * use, and shared by the function-word and the variety steps.
 */
typedef struct pl__marktext {
    const struct pl_detector *d; /* its character table */
    const char *text;
    size_t len;
    bool ready;
    bool pairs_ready;
    size_t n;
    uint64_t pairs[64]; /* byte pairs present, hashed */
    uint64_t sig;       /* the same folded into 64 bits */
    /* The words of norm with their hashes, found once for every marker
     * file; past PL__MARK_WORDS words, the rest from byte `rest` on is
     * read word by word. */
    size_t nwords, rest;
    struct {
        uint16_t off, len;
        uint32_t hash;
    } words[PL__MARK_WORDS];
    char norm[PL__NORM_MAX];
} pl__marktext;

int pl__varieties_load(const char *dir, pl__varieties **out, pl_error *err);
void pl__varieties_free(pl__varieties *v);

/* Variety evidence from the text plus the hints, for the model language
 * lang_index, whose code is already in out->language. */
void pl__varieties_decide(const pl__varieties *v, uint8_t lang_index, pl__marktext *mt,
                          const pl_detect_hint *hints, size_t nhints,
                          pl_detect_result *out);

/* Resolves the marker files' languages against the model, once. */
void pl__varieties_bind(pl__varieties *v, const pl__model *m);

/*
 * Adds `scale` times the weights of the function words found in the text
 * (locales/words/<a>-<b>.txt) to the scores of candidate languages that the
 * n-gram model confuses.
 */
void pl__words_apply(const pl__varieties *w, pl__marktext *mt, const bool *cand,
                     const uint8_t *left, size_t nleft, double *score, double scale);

/* Resolves the language names of the function-word files against the
 * model and indexes their words, once (words.c). */
int pl__words_bind(pl__varieties *w, const pl__model *m, pl_error *err);

/*
 * Adds ln(prior) for each of the model's languages to `logp` (nlangs
 * entries) from the hints. With no usable hint the prior is uniform and
 * nothing changes the ranking.
 */
void pl__prior_apply(const pl__model *m, const pl_detect_hint *hints,
                     size_t nhints, double *logp);

/* The table from language codes of up to three letters (aliases included)
 * to model languages, so that a list of allowed languages is read without
 * comparing strings; once, at open. */
int pl__codes_build(pl__model *m, pl_error *err);

/* Language part of a locale ("es-MX" -> "es", "zh_Hant" -> "zh", "yue" -> "zh"). */
void pl__locale_language(const char *locale, char *out, size_t size);

/* Sets only[l] for the languages the PL_HINT_ONLY hints allow. Returns 1
 * when there is such a hint, 0 when there is none (only[] all false), or
 * PL_EINVAL for an unknown code or an empty list. */
int pl__only_languages(const pl__model *m, const pl_detect_hint *hints, size_t nhints,
                       bool *only, pl_error *err);

#define PL__SCRIPTS_MAX 32

/* Four 32-bit integers, added with one instruction where the target has
 * vectors. */
typedef int32_t pl__v4i __attribute__((vector_size(16)));

/* A slot of the hash tables of ready vectors (tables.c): a fingerprint of
 * the n-gram hash (pl__vec_tag) and 1 + the vector's index (0 for a free
 * slot). Eight bytes, so that the tables stay in the second-level cache. */
typedef struct pl__vec_slot {
    uint32_t tag;
    uint32_t idx;
} pl__vec_slot;

/* Eight 16-bit integers: the ready vectors' values (tables.c). */
typedef int16_t pl__v8h __attribute__((vector_size(16)));

/* A value per language, readable one by one or four at a time. */
typedef union pl__langvec {
    pl__v4i v[PL__LANG_PAD / 4];
    int32_t i[PL__LANG_PAD];
} pl__langvec;

/* A 16-bit value per language, readable one by one or eight at a time. */
typedef union pl__langvec16 {
    pl__v8h v[PL__LANG_PAD / 8];
    int16_t i[PL__LANG_PAD];
} pl__langvec16;

/* The candidate languages of one script, in three forms the scorer uses. */
typedef struct pl__script_cands {
    char key[4]; /* ISO 15924 */
    size_t n;
    bool cand[PL__LANG_MAX];
    uint8_t list[PL__LANG_MAX]; /* in model order */
    pl__langvec alive;          /* all ones for a candidate */
    /* Blocks of four lanes that cover the candidates (a multiple of 4): the
     * model keeps the languages of a script together, so vector work over
     * many candidates covers only these (score.c). */
    size_t nblocks;
    /* Only some of the script's languages (PL_HINT_ONLY). */
    bool restricted;
} pl__script_cands;

struct pl_detector {
    pl__model model;
    pl__script_cands scripts[PL__SCRIPTS_MAX];
    size_t nscripts;
    /* Per script code (pl__char_script): its ISO 15924 name, and 1 + its
     * entry in scripts, or 0 (detect.c). */
    const char *script_name[256];
    uint8_t script_set[256];
    /* Scores are integers in units of `unit` nats (a tenth of the model's
     * quantization step), so that sums are exact and ties are real ties. */
    double unit;
    int32_t backoff;      /* the backoff step, in units */
    int32_t prune_margin; /* in units */
    int32_t watch_limit;  /* in units */
    int32_t watch_allowance;
    int32_t watch_limit_only;     /* the same with PL_HINT_ONLY (score.c) */
    int32_t watch_allowance_only;
    /* Per order n, the value of a posting of quantized score q (score.c). */
    int32_t qv[PL__NGRAM_MAX + 1][256];
    int16_t qv16[PL__NGRAM_MAX + 1][256]; /* the same in 16 bits */
    /* ln P(unseen character) per language, less the backoff step. */
    pl__langvec unseen;
    /* Per longest order available at a position, the backoff correction
     * of each language (its own longest order may be shorter). */
    pl__langvec adj[PL__NGRAM_MAX + 1];
    pl__langvec16 adj16[PL__NGRAM_MAX + 1]; /* the same in 16 bits */
    int acc_span; /* positions summed in 16 bits at most (score.c) */
    /* Vectors of four languages that cover the model, a multiple of 4. */
    size_t nblocks;
    /* Character table (pl__char): page index per 256 code points, and the
     * distinct pages of 256 entries. */
    uint16_t chpage[256];
    uint32_t *chdata;
    /*
     * Ready vectors (tables.c): the values of every language for a common
     * 1-, 2- or 3-gram, rstride 16-bit values each. Nearly every letter
     * reads one, so their size in cache lines is what counts: 16 bits halve
     * it, and every value fits (pl__score_init). uni_idx[c] is 1 + the
     * order-1 vector of letter c, or 0; the 2- and 3-grams are found through
     * hash tables of fingerprints of the unmixed n-gram hash. All of them
     * live in ready_pool once built.
     */
    uint16_t *uni_idx;
    int16_t *uni, *bi, *tri;
    size_t rstride;
    pl__vec_slot *bi_table;
    /* The unseen values as a ready vector, for letters without one. */
    pl__langvec16 unseen16;
    /* The best value in each ready vector, for watching (score.c). */
    int32_t *uni_max, *bi_max, *tri_max;
    pl__vec_slot *tri_table;
    size_t tri_size; /* a power of two */
    /* The block that holds uni, bi, tri and their tables once built. */
    void *ready_pool;
    pl__varieties *varieties;
    pl__varieties *words;
};

/* Next code point of text already validated as UTF-8. */
static inline UChar32 pl__next_cp(const char *s, size_t *i)
{
    const uint8_t *u = (const uint8_t *)s + *i;
    if (u[0] < 0x80) {
        *i += 1;
        return u[0];
    }
    if (u[0] < 0xE0) {
        *i += 2;
        return ((u[0] & 0x1F) << 6) | (u[1] & 0x3F);
    }
    if (u[0] < 0xF0) {
        *i += 3;
        return ((u[0] & 0x0F) << 12) | ((u[1] & 0x3F) << 6) | (u[2] & 0x3F);
    }
    *i += 4;
    return ((u[0] & 0x07) << 18) | ((u[1] & 0x3F) << 12) |
           ((u[2] & 0x3F) << 6) | (u[3] & 0x3F);
}

static inline bool pl__is_japanese_script(UScriptCode s)
{
    return s == USCRIPT_HAN || s == USCRIPT_HIRAGANA || s == USCRIPT_KATAKANA;
}

/* Letters of script `s` take part in scoring a text whose main script is
 * `main`. */
static inline bool pl__compatible(UScriptCode s, UScriptCode main)
{
    return s == main ||
           (pl__is_japanese_script(s) && pl__is_japanese_script(main));
}

/*
 * What the detector needs to know of a code point, from one table lookup
 * for the Basic Multilingual Plane: the script (low 8 bits), flags, and the
 * simple lower-case form (high 16 bits, as an offset from the code point
 * modulo 2^16). Built once at open from ICU.
 */
#define PL__CH_SCRIPT 0xFFu
#define PL__CH_LETTER 0x100u /* general category L */
#define PL__CH_MARK 0x200u   /* Mn, Mc or Me */
#define PL__CH_NOT_NFC                                                         \
    0x400u /* NFC quick check is not Yes: normalization may change it */

/* The same answer as the table, from ICU (code points beyond the BMP). */
uint32_t pl__char_compute(UChar32 c);

static inline uint32_t pl__char(const pl_detector *d, UChar32 c)
{
    if (c < 0x10000)
        return d->chdata[((size_t)d->chpage[c >> 8] << 8) | (c & 0xFF)];
    return pl__char_compute(c);
}

static inline UScriptCode pl__char_script(uint32_t info)
{
    return (UScriptCode)(info & PL__CH_SCRIPT);
}

static inline UChar32 pl__char_lower(UChar32 c, uint32_t info)
{
    return c < 0x10000 ? (UChar32)((uint32_t)(c + (info >> 16)) & 0xFFFF)
                       : u_tolower(c);
}

/* Fills the detector's scoring and character tables; once, at open. */
int pl__score_init(pl_detector *d, pl_error *err);

/* The character table and the ready vectors (tables.c); called by
 * pl__score_init once the scoring parameters are set. */
int pl__tables_build(pl_detector *d, pl_error *err);

/* Slots of the hash table of ready 2-gram vectors: a power of two, at least
 * twice the 2-grams kept. */
#define PL__BI_SLOTS 4096

/*
 * The ready-vector tables are keyed by the n-gram's hash before
 * pl__ngram_mix (as unique as after it): a position whose orders 2 and 3
 * have ready vectors then mixes only the hashes it looks up in the model.
 * A multiply spreads the key over the slots.
 */
static inline size_t pl__vec_slot_of(uint64_t key)
{
    return (size_t)((key * 0x9E3779B97F4A7C15ull) >> 32);
}

/* The fingerprint kept in a slot: with the slot itself, about 46 bits of
 * the key, as unlikely to confuse two n-grams as the model's own 32-bit
 * fingerprints within a bucket. */
static inline uint32_t pl__vec_tag(uint64_t key)
{
    return (uint32_t)(key >> 32);
}

/* 1 + the index of the order-2 vector of the 2-gram of unmixed hash h, or 0. */
static inline uint32_t find_bigram(const pl_detector *d, uint64_t h)
{
    for (size_t slot = pl__vec_slot_of(h) & (PL__BI_SLOTS - 1); d->bi_table[slot].idx;
         slot = (slot + 1) & (PL__BI_SLOTS - 1))
        if (d->bi_table[slot].tag == pl__vec_tag(h))
            return d->bi_table[slot].idx;
    return 0;
}

/* Likewise for the order-3 vectors. */
static inline uint32_t find_trigram(const pl_detector *d, uint64_t h)
{
    size_t mask = d->tri_size - 1;
    for (size_t slot = pl__vec_slot_of(h) & mask; d->tri_table[slot].idx;
         slot = (slot + 1) & mask)
        if (d->tri_table[slot].tag == pl__vec_tag(h))
            return d->tri_table[slot].idx;
    return 0;
}


/*
 * Adds to `score` (one double per language of the model) the n-gram
 * log-likelihood of the letters of `text` in script `main`, for the languages
 * of `set`, marked in `cand` (a copy of set->cand). Candidates that fall too
 * far behind are unmarked in `cand` and their score is meaningless. The
 * candidates left are written to `left` in model order; returns how many.
 */
size_t pl__score_text(const pl_detector *d, const char *text, size_t len,
                      UScriptCode main, const pl__script_cands *set, bool *cand,
                      double *score, uint8_t *left);

#endif
