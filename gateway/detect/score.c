/*
 * n-gram scoring of one message: every letter of the main script is scored
 * by each candidate language with a backoff character model of order up to
 * 5, candidates that fall far behind are dropped (and come back when the
 * text changes language), and scoring stops once the answer can no longer
 * change. The tables it reads are built in tables.c.
 */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "detect_internal.h"

/* Penalty per step of backing off to a shorter context: ln 0.4 ("stupid
 * backoff"). */
#define LN_BACKOFF (-0.916)

/* Candidates this far behind the best are dropped (posterior below e^-30). */
#define PRUNE_MARGIN 30.0

/*
 * Up to this many candidates (most of a long text once its close relatives
 * are all that is left), a position is looked up from its longest n-gram
 * down and stops as soon as every candidate has a value: the long postings
 * lists of the short n-grams are then mostly skipped. Above it, every
 * language of the script's blocks is scored with vector operations (dense
 * mode), which costs less than updating even nine candidates one by one.
 * Both compute the same sums.
 */
#define TOPDOWN_MAX 8

/*
 * Once candidates have been dropped, the rest of the text is still watched
 * for a change of language (an English error message or header pasted
 * before the customer's own words, which used to get the whole message
 * dropped as English): at the end of each word, the ready vector of its
 * last letter (tables.c: the order-1 to order-3 values of every language, no
 * lookup needed) says how much worse the leader explains that letter than
 * the best language does. Those shortfalls, less WATCH_ALLOWANCE each, are
 * summed in a CUSUM floored at 0; when it exceeds WATCH_LIMIT nats, the
 * dropped candidates come back at the pruning margin behind the leader, at
 * most WATCH_READMIT_MAX times per message. Both values were chosen on the
 * development set (docs/benchmarks.md).
 */
#define WATCH_LIMIT 7.0
#define WATCH_ALLOWANCE 1.0
#define WATCH_READMIT_MAX 2

/*
 * With only some languages allowed (PL_HINT_ONLY), the leader is compared
 * with the best allowed language instead: a language the operator ruled
 * out then no longer brings the dropped candidates back for nothing. The
 * shortfalls are smaller, so there is no allowance and a lower limit;
 * chosen on the development set like the two above.
 */
#define WATCH_LIMIT_ONLY 5.0
#define WATCH_ALLOWANCE_ONLY 0.0

/* A language index no model uses (at most PL__LANG_MAX - 1): a scratch slot. */
#define SCRATCH (PL__LANG_PAD - 1)

/*
 * Positions are scored in batches: first every n-gram of every position in
 * the batch is hashed and its directory slot prefetched, then its records
 * are prefetched, then the positions are scored. The lookups are cache
 * misses in a 20 MB table; batching lets dozens of them overlap instead of
 * waiting for each in turn.
 */
#define BATCH 16

int pl__score_init(pl_detector *d, pl_error *err)
{
    const pl__model *m = &d->model;
    /* A tenth of the quantization step keeps the backoff step within 0.5 %
     * of ln 0.4 while every posting stays an exact integer. */
    d->unit = m->qstep / 10.0;
    d->backoff = (int32_t)lround(-LN_BACKOFF / d->unit);
    d->prune_margin = (int32_t)lround(PRUNE_MARGIN / d->unit);
    d->watch_limit = (int32_t)lround(WATCH_LIMIT / d->unit);
    d->watch_allowance = (int32_t)lround(WATCH_ALLOWANCE / d->unit);
    d->watch_limit_only = (int32_t)lround(WATCH_LIMIT_ONLY / d->unit);
    d->watch_allowance_only = (int32_t)lround(WATCH_ALLOWANCE_ONLY / d->unit);
    for (int n = 0; n <= PL__NGRAM_MAX; n++)
        for (int q = 0; q < 256; q++) {
            d->qv[n][q] = n * d->backoff - 10 * q;
            d->qv16[n][q] = (int16_t)d->qv[n][q];
        }
    memset(&d->unseen, 0, sizeof d->unseen);
    memset(d->adj, 0, sizeof d->adj);
    /* Ready vectors hold 16-bit values (tables.c): the longest backoff and
     * the worst quantized value must fit. */
    if (PL__NGRAM_MAX * d->backoff + 10 * 255 > INT16_MAX)
        return pl_error_set(err, PL_ESYNTAX,
                            "language model: quantization step %g is too fine", m->qstep);
    for (uint32_t l = 0; l < m->nlangs; l++) {
        d->unseen.i[l] = -10 * m->langs[l].floor_q + d->backoff;
        for (int n = 0; n <= PL__NGRAM_MAX; n++) {
            int top = n < m->langs[l].max_order ? n : m->langs[l].max_order;
            d->adj[n].i[l] = -top * d->backoff;
            d->adj16[n].i[l] = (int16_t)d->adj[n].i[l];
        }
    }
    /* Dense scoring sums positions in 16 bits this many at a time (a
     * position adds between -(10 * 255 + 5 backoff steps) and +5 steps). */
    d->acc_span = (int)(INT16_MAX / (10 * 255 + PL__NGRAM_MAX * d->backoff));
    /* Whole groups of four vectors, so the vector loops run four at a time. */
    d->nblocks = (m->nlangs + 15) / 16 * 4;
    return pl__tables_build(d, err);
}

typedef struct batch_pos {
    /* The order-1 values of the letter, or the unseen values when the
     * order-1 record must be read (lo == 1). */
    const int16_t *base;
    int lo; /* lowest order looked up */
    /* The n-grams' hashes: mixed (pl__ngram_mix) for the orders looked up
     * in the model, lo to nmax. */
    uint64_t hash[PL__NGRAM_MAX + 1];
    uint32_t slot[PL__NGRAM_MAX + 1]; /* directory slots */
    const uint8_t *rec[PL__NGRAM_MAX + 1];
    const uint8_t *end[PL__NGRAM_MAX + 1];
    int nmax;
} batch_pos;

typedef struct scorer {
    const pl_detector *d;
    bool *cand;
    uint8_t active[PL__LANG_MAX];
    size_t nactive;
    bool dense;
    /* Per language: the score so far, relative to the best at the last
     * pruning; the value of the current position so far (see
     * score_position); all ones for the languages still in the race. */
    pl__langvec score;
    pl__langvec16 val16;
    /* Dense mode: the last nacc positions' sums, in 16 bits, not yet in
     * score; zero after add_dense. */
    pl__langvec16 acc16;
    int nacc;
    pl__langvec alive;
    /* Top-down: where a posting of each language is written, its own value
     * while it has none at this position, else the scratch slot. */
    uint8_t slot[PL__LANG_PAD];
    /* The last PL__NGRAM_MAX characters of the current word. */
    uint32_t last[PL__NGRAM_MAX]; /* last[0] is the newest */
    size_t wordlen;
    size_t letters; /* scored so far */
    size_t rebased; /* letters at the last rebase of the dense scores */
    batch_pos batch[BATCH];
    size_t nbatch;
    /* Watching for a change of language (see WATCH_LIMIT): the script's
     * candidates, whether watching, the CUSUM, and how many times the
     * dropped candidates came back. */
    const pl__script_cands *set;
    bool watch;
    int32_t cusum;
    int readmitted;
} scorer;

/* The hashes of the n-grams ending at the last letter, orders 2 to nmax,
 * before pl__ngram_mix, into raw[2..nmax]: the ready-vector tables take
 * them so; only the orders looked up in the model are mixed (queue_position).
 * The order-1 hash is left out, as only a letter without a ready vector
 * needs it (hash_letter). */
static void hash_position(const scorer *sc, int nmax, uint64_t *raw)
{
    uint64_t h = pl__ngram_step(PL__NGRAM_SEED, sc->last[0]);
    for (int n = 2; n <= nmax; n++) {
        h = pl__ngram_step(h, sc->last[n - 1]);
        raw[n] = h;
    }
}

static uint64_t hash_letter(const scorer *sc)
{
    return pl__ngram_step(PL__NGRAM_SEED, sc->last[0]);
}

/*
 * The ready vector of the n-grams ending at the last letter (given their
 * unmixed hashes up to order nmax): order 3, 2 or 1, whichever is kept, or NULL
 * when the letter has none. *lo is the lowest order the vector does not
 * cover (1 for NULL); *best, when asked for, the best value in it.
 */
static const int16_t *find_ready(const pl_detector *d, uint32_t c, int nmax,
                                 const uint64_t *hash, int *lo, int32_t *best)
{
    uint16_t u = c < PL__UNI_LIMIT ? d->uni_idx[c] : 0;
    *lo = 1;
    if (u == 0)
        return NULL;
    /* A 3-gram has a ready vector only if its 2-gram has one (tables.c):
     * the order-3 table is asked first, and the order-2 table only when it
     * has nothing. */
    uint32_t tri = nmax >= 3 ? find_trigram(d, hash[3]) : 0;
    if (tri != 0) {
        *lo = 4;
        if (best)
            *best = d->tri_max[tri - 1];
        return d->tri + (size_t)(tri - 1) * d->rstride;
    }
    uint32_t bi = nmax >= 2 ? find_bigram(d, hash[2]) : 0;
    if (bi != 0) {
        *lo = 3;
        if (best)
            *best = d->bi_max[bi - 1];
        return d->bi + (size_t)(bi - 1) * d->rstride;
    }
    *lo = 2;
    if (best)
        *best = d->uni_max[u - 1];
    return d->uni + (size_t)(u - 1) * d->rstride;
}

/* Hashes the n-grams ending at the character just pushed and queues them. */
static void queue_position(scorer *sc)
{
    batch_pos *bp = &sc->batch[sc->nbatch++];
    const pl_detector *d = sc->d;
    bp->nmax = sc->wordlen < PL__NGRAM_MAX ? (int)sc->wordlen : PL__NGRAM_MAX;
    hash_position(sc, bp->nmax, bp->hash);
    bp->base = find_ready(d, sc->last[0], bp->nmax, bp->hash, &bp->lo, NULL);
    if (bp->base == NULL) {
        bp->base = d->unseen16.i;
        bp->hash[1] = hash_letter(sc);
    }
    for (int n = bp->lo; n <= bp->nmax; n++) {
        bp->hash[n] = pl__ngram_mix(bp->hash[n]);
        bp->slot[n] = pl__model_slot(&d->model, bp->hash[n]);
        __builtin_prefetch(&d->model.dir[bp->slot[n]]);
    }
    /* The ready vector is read when the batch is scored: fetch it now (the
     * lines of the candidates' blocks, four 16-bit values a block; every
     * script has at least 8 blocks). */
    const char *bv = (const char *)bp->base;
    __builtin_prefetch(bv);
    __builtin_prefetch(bv + 64);
    for (size_t off = 128; off < sc->set->nblocks * 4 * sizeof(int16_t); off += 64)
        __builtin_prefetch(bv + off);
}

/* The ready vector of the n-grams ending at the last letter, and in *best
 * the best value in it (see find_ready); NULL when its letter has none. */
static const int16_t *ready_vector(const scorer *sc, int32_t *best)
{
    uint64_t hash[4];
    int nmax = sc->wordlen < 3 ? (int)sc->wordlen : 3, lo;
    hash_position(sc, nmax, hash);
    return find_ready(sc->d, sc->last[0], nmax, hash, &lo, best);
}

/*
 * Writes each posting of the position's orders lo..nmax over its
 * language's value in val, from order lo up, so a language ends with its
 * longest known context: the backoff result without a branch per posting
 * (most postings belong to languages still in the race, and a
 * data-dependent branch on each was the main cost). The value of an
 * order-n posting already holds n backoff steps.
 */
static void scatter_postings(const pl_detector *d, const batch_pos *bp, int16_t *val)
{
    for (int n = bp->lo; n <= bp->nmax; n++) {
        const pl__posting *p;
        size_t cnt = pl__model_find(bp->rec[n], bp->end[n], bp->hash[n], &p);
        const int16_t *qv = d->qv16[n];
        size_t i = 0;
        for (; i + 4 <= cnt; i += 4) {
            val[p[i].lang] = qv[p[i].q];
            val[p[i + 1].lang] = qv[p[i + 1].q];
            val[p[i + 2].lang] = qv[p[i + 2].q];
            val[p[i + 3].lang] = qv[p[i + 3].q];
        }
        for (; i < cnt; i++)
            val[p[i].lang] = qv[p[i].q];
    }
}

/*
 * score_position with few candidates: orders are visited from the longest
 * down, and stop once every candidate has a value, so the long postings
 * lists of the short n-grams are mostly skipped. A candidate's first
 * (longest) value is kept: after it, its slot points to the scratch slot.
 * No branch per posting.
 */
static void score_topdown(scorer *sc, const batch_pos *bp)
{
    const pl_detector *d = sc->d;
    uint8_t *slot = sc->slot;
    int16_t *val = sc->val16.i;
    /* Candidates still without a value at this position. */
    size_t left = sc->nactive;
    for (size_t k = 0; k < sc->nactive; k++)
        val[sc->active[k]] = bp->base[sc->active[k]];
    for (int n = bp->nmax; n >= bp->lo && left > 0; n--) {
        const pl__posting *p;
        size_t cnt = pl__model_find(bp->rec[n], bp->end[n], bp->hash[n], &p);
        const int16_t *qv = d->qv16[n];
        size_t i = 0;
        for (; i + 2 <= cnt; i += 2) {
            uint8_t a = slot[p[i].lang];
            left -= a != SCRATCH;
            val[a] = qv[p[i].q];
            slot[p[i].lang] = SCRATCH;
            uint8_t b = slot[p[i + 1].lang];
            left -= b != SCRATCH;
            val[b] = qv[p[i + 1].q];
            slot[p[i + 1].lang] = SCRATCH;
        }
        if (i < cnt) {
            uint8_t a = slot[p[i].lang];
            left -= a != SCRATCH;
            val[a] = qv[p[i].q];
            slot[p[i].lang] = SCRATCH;
        }
    }
    const pl__langvec *adj = &d->adj[bp->nmax];
    for (size_t k = 0; k < sc->nactive; k++) {
        uint8_t l = sc->active[k];
        sc->score.i[l] += val[l] + adj->i[l];
        slot[l] = l;
    }
}

/*
 * Dense mode: adds the 16-bit sums of the last positions to the 32-bit
 * scores (at most acc_span positions, so the sums cannot overflow; and
 * before anything reads the scores). Each value twice in a 32-bit lane,
 * shifted down: sign-extended (the same on either byte order). The
 * others' sums are meaningless; they are cleared at pruning.
 */
static void add_dense(scorer *sc)
{
    if (sc->nacc == 0)
        return;
    size_t nv = sc->set->nblocks / 2;
    for (size_t k = 0; k < nv; k++) {
        pl__v8h v = sc->acc16.v[k];
        pl__v4i lo = (pl__v4i)__builtin_shufflevector(v, v, 0, 0, 1, 1, 2, 2, 3, 3) >> 16;
        pl__v4i hi = (pl__v4i)__builtin_shufflevector(v, v, 4, 4, 5, 5, 6, 6, 7, 7) >> 16;
        sc->score.v[2 * k] += lo;
        sc->score.v[2 * k + 1] += hi;
        sc->acc16.v[k] = (pl__v8h){0};
    }
    sc->nacc = 0;
}

/*
 * score_position with many candidates: every language of the script's
 * blocks is scored with vector operations. The values are kept in 16 bits
 * (as the ready vector they start from), and so are the sums of a few
 * positions: half the work of doing it in 32 bits, and the widening is
 * done once for those positions.
 */
static void score_dense(scorer *sc, const batch_pos *bp)
{
    size_t nv = sc->set->nblocks / 2; /* vectors of eight */
    const pl__v8h *base = (const pl__v8h *)bp->base;
    pl__v8h *valv = sc->val16.v;
    /* nv is even (whole groups of four blocks): two at a time. */
    for (size_t k = 0; k < nv; k += 2) {
        valv[k] = base[k];
        valv[k + 1] = base[k + 1];
    }
    scatter_postings(sc->d, bp, sc->val16.i);
    /* Summed in 16 bits; add_dense adds the sums to the scores. */
    const pl__v8h *adj = sc->d->adj16[bp->nmax].v;
    for (size_t k = 0; k < nv; k += 2) {
        sc->acc16.v[k] += valv[k] + adj[k];
        sc->acc16.v[k + 1] += valv[k + 1] + adj[k + 1];
    }
    if (++sc->nacc == sc->d->acc_span)
        add_dense(sc);
}

/*
 * Scores one queued position against every candidate: its value for each
 * is its longest known n-gram's, starting from the ready vector; adj takes
 * off the backoff steps the language could have had at this position.
 * Two ways to the same sums, by how many candidates are left (dense mode
 * holds exactly while there are more than TOPDOWN_MAX).
 */
static void score_position(scorer *sc, const batch_pos *bp)
{
    if (sc->dense)
        score_dense(sc, bp);
    else
        score_topdown(sc, bp);
}

/* Looks up and scores every queued position. */
static void flush_batch(scorer *sc)
{
    const pl__model *m = &sc->d->model;
    for (size_t j = 0; j < sc->nbatch; j++) {
        batch_pos *bp = &sc->batch[j];
        for (int n = bp->lo; n <= bp->nmax; n++) {
            bp->rec[n] = pl__model_bucket_at(m, bp->slot[n], &bp->end[n]);
            /* A bucket (about 40 bytes) may span two lines: fetch the
             * first and the last, without a loop whose count mispredicts.
             * (end - 1 of an empty bucket is still in the file.) */
            __builtin_prefetch(bp->rec[n]);
            __builtin_prefetch(bp->end[n] - 1);
        }
    }
    for (size_t j = 0; j < sc->nbatch; j++)
        score_position(sc, &sc->batch[j]);
    add_dense(sc);
    sc->nbatch = 0;
}

/* The best score of the candidates, with vector operations over the whole
 * table (dense mode). */
static int32_t dense_best(const scorer *sc)
{
    const pl__v4i lo = {INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN};
    pl__v4i mx = lo;
    for (size_t b = 0; b < sc->set->nblocks; b++) {
        pl__v4i a = sc->alive.v[b];
        pl__v4i x = (sc->score.v[b] & a) | (lo & ~a);
        pl__v4i gt = x > mx;
        mx = (x & gt) | (mx & ~gt);
    }
    int32_t best = mx[0];
    for (int i = 1; i < 4; i++)
        best = mx[i] > best ? mx[i] : best;
    return best;
}

/*
 * In dense mode only the alive mask says who is still a candidate; the list
 * of candidates (in model order), their flags and slots are brought up to
 * date from it when they are needed: on leaving dense mode, on bringing
 * candidates back, and at the end.
 */
static void sync_active(scorer *sc)
{
    size_t o = 0;
    for (size_t k = 0; k < sc->set->n; k++) {
        uint8_t l = sc->set->list[k];
        /* Without branches: which languages are alive follows no pattern. */
        uint8_t alive = sc->alive.i[l] != 0;
        sc->cand[l] = alive;
        sc->slot[l] = (uint8_t)(SCRATCH ^ ((l ^ SCRATCH) & -alive));
        sc->active[o] = l;
        o += alive;
    }
    sc->nactive = o;
}

/* The leading candidate; the first in model order among equals. In dense
 * mode, best is the best score (dense_best). */
static uint8_t leader_of(const scorer *sc, int32_t best)
{
    if (sc->dense) {
        for (size_t k = 0; k < sc->set->n; k++) {
            uint8_t l = sc->set->list[k];
            if (sc->alive.i[l] && sc->score.i[l] == best)
                return l;
        }
    }
    uint8_t leader = sc->active[0];
    for (size_t k = 1; k < sc->nactive; k++)
        if (sc->score.i[sc->active[k]] > sc->score.i[leader])
            leader = sc->active[k];
    return leader;
}

/* Dense mode: drops candidates with vector operations on the alive mask
 * and counts the rest. */
static void prune_dense(scorer *sc, int32_t best)
{
    int32_t thr = best - sc->d->prune_margin;
    const pl__v4i thrv = {thr, thr, thr, thr};
    pl__v4i count = {0, 0, 0, 0};
    for (size_t b = 0; b < sc->set->nblocks; b++) {
        pl__v4i a = sc->alive.v[b] & (sc->score.v[b] >= thrv);
        sc->alive.v[b] = a;
        count -= a;
    }
    if (best < -(1 << 24) || sc->letters - sc->rebased > 4096) {
        /* Vector adds keep going for every language, dropped or not (each
         * letter adds at most about 3,000 units); now and then bring all
         * back near zero, the dropped ones to zero, before any could
         * overflow. */
        pl__v4i bv = {best, best, best, best};
        for (size_t b = 0; b < sc->set->nblocks; b++)
            sc->score.v[b] = (sc->score.v[b] - bv) & sc->alive.v[b];
        sc->rebased = sc->letters;
    }
    sc->nactive = (size_t)(count[0] + count[1] + count[2] + count[3]);
    if (sc->nactive <= TOPDOWN_MAX) {
        sc->dense = false;
        sync_active(sc);
    }
}

/*
 * Drops the candidates that can no longer win; long texts get cheap fast.
 * Scores are made relative to the best, which keeps them small however long
 * the text (only differences matter). Returns true when one is left: the
 * rest of the text cannot change the answer.
 * best_dense: in dense mode, the best score (dense_best).
 */
static bool prune(scorer *sc, int32_t best_dense)
{
    if (sc->dense) {
        prune_dense(sc, best_dense);
        return sc->nactive == 1;
    }
    int32_t best = INT32_MIN, margin = sc->d->prune_margin;
    for (size_t k = 0; k < sc->nactive; k++)
        if (sc->score.i[sc->active[k]] > best)
            best = sc->score.i[sc->active[k]];
    size_t o = 0;
    for (size_t k = 0; k < sc->nactive; k++) {
        uint8_t l = sc->active[k];
        if (sc->score.i[l] >= best - margin) {
            sc->active[o++] = l;
            sc->score.i[l] -= best;
        } else {
            sc->cand[l] = false;
            sc->alive.i[l] = 0;
            sc->slot[l] = SCRATCH;
        }
    }
    sc->nactive = o;
    return o == 1;
}

static void watch_start(scorer *sc)
{
    sc->watch = true;
    sc->cusum = 0;
}

/* Brings the dropped candidates back at the pruning margin behind the
 * leader. */
static void readmit(scorer *sc, uint8_t leader)
{
    int32_t at = sc->score.i[leader] - sc->d->prune_margin;
    for (size_t k = 0; k < sc->set->n; k++) {
        uint8_t l = sc->set->list[k];
        if (!sc->alive.i[l]) {
            sc->alive.i[l] = -1;
            sc->score.i[l] = at;
        }
    }
    sync_active(sc);
    sc->dense = sc->nactive > TOPDOWN_MAX;
    sc->watch = false;
    sc->readmitted++;
}

/*
 * End of a word while watching: how much worse the leader explains the
 * word's last letter than the best language does, less an allowance, is
 * added to a CUSUM (floored at 0); when that exceeds the limit, the dropped
 * candidates come back. best_dense: in dense mode, the best score
 * (dense_best).
 */
static void watch_word(scorer *sc, int32_t best_dense)
{
    int32_t best;
    const int16_t *v = ready_vector(sc, &best);
    if (v == NULL)
        return;
    int32_t allowance = sc->d->watch_allowance, limit = sc->d->watch_limit;
    if (sc->set->restricted) {
        best = INT32_MIN;
        for (size_t k = 0; k < sc->set->n; k++)
            best = v[sc->set->list[k]] > best ? v[sc->set->list[k]] : best;
        allowance = sc->d->watch_allowance_only;
        limit = sc->d->watch_limit_only;
    }
    uint8_t leader = leader_of(sc, best_dense);
    int32_t c = sc->cusum + best - v[leader] - allowance;
    sc->cusum = c > 0 ? c : 0;
    if (sc->cusum > limit)
        readmit(sc, leader);
}

/* After a word (or a batch of a run without spaces): prunes, and watches
 * for a change of language once candidates have been dropped. Returns true
 * when scoring can stop. */
static bool word_end(scorer *sc)
{
    /* In dense mode the best score is found once for the watch and the
     * pruning: candidates brought back start below it. */
    bool was_dense = sc->dense;
    int32_t best = was_dense ? dense_best(sc) : 0;
    if (sc->watch)
        watch_word(sc, best);
    if (sc->dense && !was_dense)
        best = dense_best(sc);
    bool one = sc->nactive == 1 || prune(sc, best);
    if (!sc->watch && sc->nactive < sc->set->n &&
        sc->readmitted < WATCH_READMIT_MAX)
        watch_start(sc);
    /* One candidate left and no more watching: the rest of the text cannot
     * change the answer. */
    return one && !sc->watch;
}

static void score_letters(scorer *sc, const char *s, size_t len,
                          UScriptCode main)
{
    size_t i = 0;
    sc->wordlen = 0;
    while (i < len) {
        UChar32 c = pl__next_cp(s, &i);
        uint32_t info = pl__char(sc->d, c);
        if (info & PL__CH_LETTER) {
            if (!pl__compatible(pl__char_script(info), main)) {
                sc->wordlen = 0;
                continue;
            }
            UChar32 lc = pl__char_lower(c, info);
            memmove(sc->last + 1, sc->last,
                    (PL__NGRAM_MAX - 1) * sizeof sc->last[0]);
            sc->last[0] = (uint32_t)lc;
            sc->wordlen++;
            sc->letters++;
            if (sc->watch && sc->nactive == 1) {
                /* Only watching: nothing to score. */
            } else if (queue_position(sc), sc->nbatch == BATCH) {
                /* Long runs without spaces (Chinese, Japanese): prune inside
                 * them too. */
                flush_batch(sc);
                if (word_end(sc))
                    return;
            }
        } else if (!(info & PL__CH_MARK)) {
            /* The model's n-grams never span words; marks are left out. */
            flush_batch(sc);
            if (sc->wordlen > 0 && word_end(sc))
                return;
            sc->wordlen = 0;
        }
    }
    flush_batch(sc);
}

size_t pl__score_text(const pl_detector *d, const char *text, size_t len,
                      UScriptCode main, const pl__script_cands *set, bool *cand,
                      double *score, uint8_t *left)
{
    /* On the stack: no allocation per message. Only the part before the
     * batch needs setting up. */
    scorer sc;
    sc.d = d;
    sc.cand = cand;
    sc.nbatch = 0;
    sc.nacc = 0;
    sc.letters = 0;
    sc.rebased = 0;
    sc.nactive = set->n;
    memcpy(sc.active, set->list, set->n);
    sc.dense = sc.nactive > TOPDOWN_MAX;
    /* The candidates' slots are set when dense mode ends (sync_active). */
    memset(sc.slot, SCRATCH, sizeof sc.slot);
    for (size_t k = 0; !sc.dense && k < set->n; k++)
        sc.slot[set->list[k]] = set->list[k];
    /* Every candidate is in the set's blocks. */
    for (size_t b = 0; b < set->nblocks; b++) {
        sc.score.v[b] = (pl__v4i){0, 0, 0, 0};
        sc.alive.v[b] = set->alive.v[b];
    }
    for (size_t k = 0; k < set->nblocks / 2; k++)
        sc.acc16.v[k] = (pl__v8h){0};
    sc.set = set;
    sc.watch = false;
    sc.readmitted = 0;
    score_letters(&sc, text, len, main);
    if (sc.dense)
        sync_active(&sc);
    for (size_t k = 0; k < sc.nactive; k++)
        score[sc.active[k]] += sc.score.i[sc.active[k]] * d->unit;
    memcpy(left, sc.active, sc.nactive);
    return sc.nactive;
}
