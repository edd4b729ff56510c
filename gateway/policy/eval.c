/*
 * Evaluating one message against a resolved policy: prepare the text once
 * (UTF-16, word boundaries, NFKC case-folded copy, signals), apply outbound
 * fixes, evaluate the rules in order, apply masks. Everything is allocated
 * from the request arena; ICU objects are borrowed from per-policy pools.
 *
 * The normalization and segmentation helpers are kept small and private so
 * they can later move onto the text module.
 */
#include "policy_internal.h"

#include "parley/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicode/ubrk.h>
#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

#define MAX_SPANS_PER_PATTERN 64

/* ---- ICU object pools ---- */

URegularExpression *pl__regex_borrow(pl__regex *r)
{
    URegularExpression *re = NULL;
    UErrorCode st = U_ZERO_ERROR;

    pthread_mutex_lock(&r->lock);
    if (r->nspare > 0)
        re = r->spare[--r->nspare];
    pthread_mutex_unlock(&r->lock);
    if (re == NULL)
        re = uregex_clone(r->re, &st);
    return U_SUCCESS(st) ? re : NULL;
}

void pl__regex_return(pl__regex *r, URegularExpression *re)
{
    UErrorCode st = U_ZERO_ERROR;

    uregex_setText(re, u"", 0, &st); /* drop the pointer into the request's text */
    pthread_mutex_lock(&r->lock);
    if (r->nspare < sizeof(r->spare) / sizeof(r->spare[0])) {
        r->spare[r->nspare++] = re;
        re = NULL;
    }
    pthread_mutex_unlock(&r->lock);
    if (re != NULL)
        uregex_close(re);
}

int pl__brk_open(pl_policy_set *set, pl_policy *p)
{
    UErrorCode st = U_ZERO_ERROR;
    pl__brk *b = pl_arena_calloc(&set->arena, 1, sizeof(*b));

    if (b == NULL)
        return PL_ENOMEM;
    b->proto = ubrk_open(UBRK_WORD, strcmp(p->icu_locale, "root") ? p->icu_locale : "",
                         NULL, 0, &st);
    if (U_FAILURE(st))
        return PL_EICU;
    pthread_mutex_init(&b->lock, NULL);
    p->brk = b;
    return 0;
}

void pl__brk_free(pl__brk *b)
{
    if (b == NULL || b->proto == NULL)
        return;
    for (size_t i = 0; i < b->nspare; i++)
        ubrk_close(b->spare[i]);
    ubrk_close(b->proto);
    pthread_mutex_destroy(&b->lock);
}

static UBreakIterator *brk_borrow(pl__brk *b)
{
    UBreakIterator *it = NULL;
    UErrorCode st = U_ZERO_ERROR;

    pthread_mutex_lock(&b->lock);
    if (b->nspare > 0)
        it = b->spare[--b->nspare];
    pthread_mutex_unlock(&b->lock);
    if (it == NULL)
        it = ubrk_clone(b->proto, &st);
    return U_SUCCESS(st) ? it : NULL;
}

static void brk_return(pl__brk *b, UBreakIterator *it)
{
    pthread_mutex_lock(&b->lock);
    if (b->nspare < sizeof(b->spare) / sizeof(b->spare[0])) {
        b->spare[b->nspare++] = it;
        it = NULL;
    }
    pthread_mutex_unlock(&b->lock);
    if (it != NULL)
        ubrk_close(it);
}

/* ---- Text preparation ---- */

/* NFKC with case folding: "ＡＢＣ", "Abc" and "ABC" all become "abc". */
static int fold(const UChar *src, int32_t n, UChar *dst, int32_t cap, int32_t *out)
{
    UErrorCode st = U_ZERO_ERROR;
    const UNormalizer2 *nf;
    int32_t i = 0;

    /* ASCII letters, digits and punctuation fold to themselves, lower-cased:
     * the common case for Latin-script text, done without ICU. Control
     * characters and everything else go through NFKC_Casefold. */
    if (n <= cap) {
        while (i < n && src[i] >= 0x20 && src[i] < 0x7F) {
            UChar c = src[i];
            dst[i++] = c >= 'A' && c <= 'Z' ? (UChar)(c + 32) : c;
        }
        if (i == n) {
            *out = n;
            return 0;
        }
    }
    nf = unorm2_getNFKCCasefoldInstance(&st);
    if (U_FAILURE(st))
        return PL_EICU;
    *out = unorm2_normalize(nf, src, n, dst, cap, &st);
    if (st == U_BUFFER_OVERFLOW_ERROR)
        return PL_ELIMIT;
    return U_FAILURE(st) ? PL_EICU : 0;
}

int pl__fold_term(pl_arena *arena, const char *text, UChar **out, int32_t *len)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t n = 0, cap;
    UChar *u, *f;
    int rc;

    *out = NULL;
    *len = 0;
    u_strFromUTF8(NULL, 0, &n, text, -1, &st);
    if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
        return PL_EUTF8;
    st = U_ZERO_ERROR;
    cap = n * 4 + 8;
    u = pl_arena_alloc(arena, ((size_t)n + 1) * sizeof(UChar));
    f = pl_arena_alloc(arena, (size_t)cap * sizeof(UChar));
    if (u == NULL || f == NULL)
        return PL_ENOMEM;
    u_strFromUTF8(u, n + 1, NULL, text, -1, &st);
    if (U_FAILURE(st))
        return PL_EUTF8;
    if ((rc = fold(u, n, f, cap, len)) != 0)
        return rc;
    /* Trim spaces at both ends: a term " wifi " means "wifi". */
    while (*len > 0 && u_isWhitespace(f[*len - 1]))
        (*len)--;
    while (*len > 0 && u_isWhitespace(f[0])) {
        f++;
        (*len)--;
    }
    *out = f;
    return 0;
}

typedef struct text_view {
    const char *utf8;
    size_t len;
    UChar *u16;
    int32_t n16;
    size_t *u8off; /* n16 + 1 entries: UTF-8 offset of each UTF-16 index */
    /* Folded text and its word boundaries (folded index -> original index). */
    UChar *folded;
    int32_t nfolded;
    int32_t *fb, *ob, nb;
    int32_t bucket[64]; /* first boundary whose folded char hashes here */
    int32_t *next;      /* next boundary in the same bucket */
    /* Signals, computed once. */
    int signals_done;
    int upper, cased;
    int punct_run;
    pl_policy_span punct_span;
} text_view;

static int to_utf16(pl_arena *a, const char *s, size_t len, text_view *v)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t n = 0, i = 0, k = 0;

    v->utf8 = s;
    v->len = len;
    u_strFromUTF8(NULL, 0, &n, s, (int32_t)len, &st);
    if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
        return PL_EUTF8;
    st = U_ZERO_ERROR;
    v->u16 = pl_arena_alloc(a, ((size_t)n + 1) * sizeof(UChar));
    v->u8off = pl_arena_alloc(a, ((size_t)n + 1) * sizeof(size_t));
    if (v->u16 == NULL || v->u8off == NULL)
        return a->err ? a->err : PL_ENOMEM;
    u_strFromUTF8(v->u16, n + 1, NULL, s, (int32_t)len, &st);
    if (U_FAILURE(st))
        return PL_EUTF8;
    v->n16 = n;
    while (i < (int32_t)len) {
        int32_t start = i;
        UChar32 c;
        U8_NEXT(s, i, (int32_t)len, c);
        if (c < 0)
            return PL_EUTF8;
        v->u8off[k++] = (size_t)start;
        if (c > 0xFFFF)
            v->u8off[k++] = (size_t)start;
    }
    v->u8off[k] = len;
    return 0;
}

static unsigned hash_char(UChar c)
{
    return ((unsigned)c ^ ((unsigned)c >> 6)) & 63u;
}

static int segment(pl_arena *a, const pl_policy *p, text_view *v)
{
    UErrorCode st = U_ZERO_ERROR;
    UBreakIterator *it = brk_borrow(p->brk);
    int32_t cap = v->n16 * 3 + 16, nb = 0, prev, b;
    int rc = 0;

    if (it == NULL)
        return PL_EICU;
    v->folded = pl_arena_alloc(a, (size_t)cap * sizeof(UChar));
    v->fb = pl_arena_alloc(a, ((size_t)v->n16 + 2) * sizeof(int32_t));
    v->ob = pl_arena_alloc(a, ((size_t)v->n16 + 2) * sizeof(int32_t));
    v->next = pl_arena_alloc(a, ((size_t)v->n16 + 2) * sizeof(int32_t));
    if (v->folded == NULL || v->fb == NULL || v->ob == NULL || v->next == NULL) {
        rc = a->err ? a->err : PL_ENOMEM;
        goto done;
    }
    ubrk_setText(it, v->u16, v->n16, &st);
    if (U_FAILURE(st)) {
        rc = PL_EICU;
        goto done;
    }
    v->nfolded = 0;
    prev = ubrk_first(it);
    v->fb[nb] = 0;
    v->ob[nb++] = prev;
    while ((b = ubrk_next(it)) != UBRK_DONE) {
        int32_t n = 0;
        if ((rc = fold(v->u16 + prev, b - prev, v->folded + v->nfolded,
                       cap - v->nfolded, &n)) != 0)
            goto done;
        v->nfolded += n;
        v->fb[nb] = v->nfolded;
        v->ob[nb++] = b;
        prev = b;
    }
    v->nb = nb;
    for (int i = 0; i < 64; i++)
        v->bucket[i] = -1;
    for (int32_t i = nb - 1; i >= 0; i--) {
        if (v->fb[i] >= v->nfolded)
            continue;
        unsigned h = hash_char(v->folded[v->fb[i]]);
        v->next[i] = v->bucket[h];
        v->bucket[h] = i;
    }
done:
    {
        UErrorCode st2 = U_ZERO_ERROR;
        ubrk_setText(it, u"", 0, &st2);
    }
    brk_return(p->brk, it);
    return rc;
}

/* Index of the boundary at folded position `pos`, or -1. */
static int32_t boundary_at(const text_view *v, int32_t pos)
{
    int32_t lo = 0, hi = v->nb - 1;

    while (lo <= hi) {
        int32_t mid = (lo + hi) / 2;
        if (v->fb[mid] == pos)
            return mid;
        if (v->fb[mid] < pos)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static void compute_signals(const pl_policy *p, text_view *v)
{
    int run = 0, best = 0;
    int32_t run_start = 0, best_start = 0, best_end = 0;
    int32_t i = 0;

    (void)p;
    v->upper = v->cased = 0;
    while (i < v->n16) {
        int32_t at = i;
        UChar32 c;
        U16_NEXT(v->u16, i, v->n16, c);
        if (u_isUUppercase(c) || u_istitle(c)) {
            v->upper++;
            v->cased++;
        } else if (u_isULowercase(c)) {
            v->cased++;
        }
        if (c == '!' || c == '?' || c == 0xFF01 || c == 0xFF1F || c == 0x061F ||
            c == 0x203C || c == 0x2049 || c == 0x2048) {
            if (run == 0)
                run_start = at;
            run++;
            if (run > best) {
                best = run;
                best_start = run_start;
                best_end = i;
            }
        } else if (!u_isWhitespace(c) || run == 0) {
            run = 0;
        }
    }
    v->punct_run = best;
    v->punct_span.start = v->u8off[best_start];
    v->punct_span.end = v->u8off[best_end];
    v->signals_done = 1;
}

/* ---- Matching ---- */

typedef struct spans {
    pl_policy_span *items;
    size_t count, cap;
} spans;

typedef struct eval_ctx {
    const pl_policy *p;
    const pl_policy_input *in;
    pl_arena *a;
    text_view *v;
    int explain;
    char *why;
    size_t why_len, why_cap;
    int err;
} eval_ctx;

static int spans_push(eval_ctx *e, spans *s, size_t start, size_t end)
{
    if (s->count == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        pl_policy_span *n = pl_arena_alloc(e->a, cap * sizeof(*n));
        if (n == NULL)
            return e->err = e->a->err ? e->a->err : PL_ENOMEM;
        if (s->count)
            memcpy(n, s->items, s->count * sizeof(*n));
        s->items = n;
        s->cap = cap;
    }
    s->items[s->count].start = start;
    s->items[s->count++].end = end;
    return 0;
}

static void why_add(eval_ctx *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void why_add(eval_ctx *e, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (!e->explain)
        return;
    if (e->why_cap - e->why_len < 512) {
        size_t cap = e->why_cap ? e->why_cap * 2 : 1024;
        char *w = pl_arena_alloc(e->a, cap);
        if (w == NULL) {
            e->err = PL_ENOMEM;
            return;
        }
        if (e->why_len)
            memcpy(w, e->why, e->why_len);
        w[e->why_len] = '\0';
        e->why = w;
        e->why_cap = cap;
    }
    if (e->why_len > 0) {
        memcpy(e->why + e->why_len, "; ", 3);
        e->why_len += 2;
    }
    va_start(ap, fmt);
    n = vsnprintf(e->why + e->why_len, e->why_cap - e->why_len, fmt, ap);
    va_end(ap);
    if (n > 0)
        e->why_len += (size_t)n < e->why_cap - e->why_len ? (size_t)n : e->why_cap - e->why_len - 1;
}

/* Finds every occurrence of `t` that starts and ends on a word boundary. */
static int match_term(eval_ctx *e, const pl__term *t, spans *out, const char *label)
{
    const text_view *v = e->v;
    int found = 0;

    for (int32_t i = v->bucket[hash_char(t->folded[0])]; i >= 0; i = v->next[i]) {
        int32_t s = v->fb[i], end = s + t->len, j;
        if (end > v->nfolded || v->folded[s] != t->folded[0] ||
            memcmp(v->folded + s, t->folded, (size_t)t->len * sizeof(UChar)))
            continue;
        if ((j = boundary_at(v, end)) < 0)
            continue;
        size_t bs = v->u8off[v->ob[i]], be = v->u8off[v->ob[j]];
        if (spans_push(e, out, bs, be))
            return 0;
        if (!found)
            why_add(e, "%s \"%s\" at %zu..%zu", label, t->text, bs, be);
        found = 1;
    }
    return found;
}

static int match_regex(eval_ctx *e, pl__regex *r, spans *out)
{
    UErrorCode st = U_ZERO_ERROR;
    URegularExpression *re = pl__regex_borrow(r);
    int found = 0, n = 0;

    if (re == NULL) {
        e->err = PL_EICU;
        return 0;
    }
    uregex_setText(re, e->v->u16, e->v->n16, &st);
    while (U_SUCCESS(st) && n < MAX_SPANS_PER_PATTERN && uregex_findNext(re, &st)) {
        int32_t s = uregex_start(re, 0, &st), x = uregex_end(re, 0, &st);
        if (U_FAILURE(st))
            break;
        if (spans_push(e, out, e->v->u8off[s], e->v->u8off[x]))
            break;
        if (!found)
            why_add(e, "regex '%s' at %zu..%zu", r->source, e->v->u8off[s], e->v->u8off[x]);
        found = 1;
        n++;
    }
    if (U_FAILURE(st))
        e->err = PL_EICU;
    pl__regex_return(r, re);
    return found;
}

static int eval_cond(eval_ctx *e, const pl__cond *c, spans *out)
{
    text_view *v = e->v;

    if (c->nterms > 0) {
        int any = 0;
        for (size_t i = 0; i < c->nterms; i++)
            any |= match_term(e, &c->terms[i], out, "term");
        if (!any)
            return 0;
    }
    if (c->nregex > 0) {
        int any = 0;
        for (size_t i = 0; i < c->nregex; i++)
            any |= match_regex(e, c->regex[i], out);
        if (!any)
            return 0;
    }
    if (c->absolute_words) {
        int any = 0;
        for (size_t i = 0; i < e->p->nabsolute; i++)
            any |= match_term(e, &e->p->absolute[i], out, "absolute word");
        if (!any)
            return 0;
    }
    if (c->shouting || c->punctuation_run) {
        if (!v->signals_done)
            compute_signals(e->p, v);
    }
    if (c->shouting) {
        int caps = v->cased >= e->p->min_letters &&
                   v->upper * 100 >= e->p->caps_percent * v->cased;
        int punct = v->punct_run >= e->p->punctuation_run;
        if (!caps && !punct)
            return 0;
        if (caps) {
            spans_push(e, out, 0, v->len);
            why_add(e, "shouting: %d%% of %d letters are capitals (threshold %d%%)",
                    v->upper * 100 / v->cased, v->cased, e->p->caps_percent);
        }
        if (punct) {
            spans_push(e, out, v->punct_span.start, v->punct_span.end);
            why_add(e, "shouting: a run of %d '!'/'?' at %zu..%zu (threshold %d)",
                    v->punct_run, v->punct_span.start, v->punct_span.end,
                    e->p->punctuation_run);
        }
    }
    if (c->punctuation_run) {
        if (v->punct_run < c->punctuation_run)
            return 0;
        spans_push(e, out, v->punct_span.start, v->punct_span.end);
        why_add(e, "a run of %d '!'/'?' at %zu..%zu", v->punct_run, v->punct_span.start,
                v->punct_span.end);
    }
    if (c->repeated_complaints) {
        if (e->in->prior_complaints < (unsigned)c->repeated_complaints)
            return 0;
        why_add(e, "%u earlier complaint(s) in the conversation (threshold %d)",
                e->in->prior_complaints, c->repeated_complaints);
    }
    for (size_t i = 0; i < c->nall; i++)
        if (!eval_cond(e, &c->all[i], out))
            return 0;
    if (c->nany > 0) {
        int any = 0;
        /* Every alternative is tried so that all matched spans are reported. */
        for (size_t i = 0; i < c->nany; i++)
            any |= eval_cond(e, &c->any[i], out);
        if (!any)
            return 0;
    }
    return 1;
}

/* ---- Protected spans, fixes, masks ---- */

static int find_all(eval_ctx *e, pl__regex *r, text_view *v, spans *out)
{
    text_view *saved = e->v;
    int found;

    e->v = v;
    found = match_regex(e, r, out);
    e->v = saved;
    return found;
}

static int overlaps(const spans *s, size_t start, size_t end)
{
    for (size_t i = 0; i < s->count; i++)
        if (start < s->items[i].end && s->items[i].start < end)
            return 1;
    return 0;
}

static int protected_spans(eval_ctx *e, text_view *v, spans *out)
{
    int explain = e->explain;

    e->explain = 0;
    out->count = 0;
    for (size_t i = 0; i < e->p->nprotect && !e->err; i++)
        find_all(e, e->p->protect[i]->re, v, out);
    e->explain = explain;
    return e->err;
}

typedef struct buf {
    char *data;
    size_t len, cap;
} buf;

static int buf_put(pl_arena *a, buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = (b->len + n + 1) * 2;
        char *d = pl_arena_alloc(a, cap);
        if (d == NULL)
            return a->err ? a->err : PL_ENOMEM;
        if (b->len)
            memcpy(d, b->data, b->len);
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

typedef struct flags {
    pl_policy_flag *items;
    size_t count, cap;
} flags;

static int flag_push(eval_ctx *e, flags *f, const pl__fix *fix, int fixed, size_t s, size_t x)
{
    if (f->count == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 4;
        pl_policy_flag *n = pl_arena_alloc(e->a, cap * sizeof(*n));
        if (n == NULL)
            return e->err = PL_ENOMEM;
        if (f->count)
            memcpy(n, f->items, f->count * sizeof(*n));
        f->items = n;
        f->cap = cap;
    }
    f->items[f->count++] = (pl_policy_flag){.fix_id = fix->id, .message = fix->src->flag,
                                            .fixed = fixed, .span = {s, x}};
    return 0;
}

/* Appends `rep` with $0..$9 replaced by the groups of the current match. */
static int expand(eval_ctx *e, buf *out, const char *rep, URegularExpression *re,
                  const text_view *v)
{
    UErrorCode st = U_ZERO_ERROR;
    int groups = uregex_groupCount(re, &st);

    for (const char *c = rep; *c; c++) {
        if (c[0] == '$' && c[1] == '$') {
            buf_put(e->a, out, "$", 1);
            c++;
        } else if (c[0] == '$' && c[1] >= '0' && c[1] <= '9' && c[1] - '0' <= groups) {
            int32_t s = uregex_start(re, c[1] - '0', &st), x = uregex_end(re, c[1] - '0', &st);
            if (U_SUCCESS(st) && s >= 0)
                buf_put(e->a, out, v->utf8 + v->u8off[s], v->u8off[x] - v->u8off[s]);
            c++;
        } else {
            buf_put(e->a, out, c, 1);
        }
    }
    return U_FAILURE(st) ? PL_EICU : 0;
}

/* Applies one fix to `v`, writing the new text into `out` (if it changed). */
static int apply_fix(eval_ctx *e, const pl__fix *fix, text_view *v, const spans *prot,
                     flags *fl, buf *out)
{
    const pol_fix *src = fix->src;
    size_t copied = 0;
    int changed = 0;

    out->len = 0;
    if (fix->pattern == NULL) {
        /* Literal strings: every occurrence, leftmost and longest first. */
        size_t pos = 0;
        while (pos < v->len) {
            size_t best_at = SIZE_MAX, best_len = 0;
            for (size_t i = 0; i < src->find.count; i++) {
                const char *f = src->find.items[i];
                size_t fl_ = strlen(f);
                const char *hit = fl_ ? memmem(v->utf8 + pos, v->len - pos, f, fl_) : NULL;
                if (hit && ((size_t)(hit - v->utf8) < best_at ||
                            ((size_t)(hit - v->utf8) == best_at && fl_ > best_len))) {
                    best_at = (size_t)(hit - v->utf8);
                    best_len = fl_;
                }
            }
            if (best_at == SIZE_MAX)
                break;
            if (overlaps(prot, best_at, best_at + best_len)) {
                pos = best_at + 1;
                continue;
            }
            flag_push(e, fl, fix, src->replace != NULL, best_at, best_at + best_len);
            if (src->replace) {
                buf_put(e->a, out, v->utf8 + copied, best_at - copied);
                buf_put(e->a, out, src->replace, strlen(src->replace));
                copied = best_at + best_len;
                changed = 1;
            }
            pos = best_at + best_len;
        }
    } else {
        UErrorCode st = U_ZERO_ERROR;
        URegularExpression *re = pl__regex_borrow(fix->pattern);
        int n = 0;
        if (re == NULL)
            return e->err = PL_EICU;
        if (fix->also != NULL) {
            spans also = {0};
            int explain = e->explain;
            e->explain = 0;
            find_all(e, fix->also, v, &also);
            e->explain = explain;
            if (also.count == 0) {
                pl__regex_return(fix->pattern, re);
                return e->err;
            }
        }
        uregex_setText(re, v->u16, v->n16, &st);
        while (U_SUCCESS(st) && n++ < MAX_SPANS_PER_PATTERN && uregex_findNext(re, &st)) {
            int32_t s16 = uregex_start(re, 0, &st), x16 = uregex_end(re, 0, &st);
            size_t s = v->u8off[s16], x = v->u8off[x16];
            if (U_FAILURE(st) || overlaps(prot, s, x))
                continue;
            flag_push(e, fl, fix, src->replace != NULL, s, x);
            if (src->replace) {
                buf_put(e->a, out, v->utf8 + copied, s - copied);
                expand(e, out, src->replace, re, v);
                copied = x;
                changed = 1;
            }
            if (fix->also != NULL)
                break; /* a mix is reported once */
        }
        pl__regex_return(fix->pattern, re);
        if (U_FAILURE(st))
            return e->err = PL_EICU;
    }
    if (changed)
        buf_put(e->a, out, v->utf8 + copied, v->len - copied);
    else
        out->len = 0;
    return changed;
}

/* ---- The whole evaluation ---- */

const char *pl_policy_action_name(pl_policy_action_type type)
{
    static const char *const names[] = {"escalate", "redirect", "tag",
                                        "block", "mask", "instruct"};

    return (unsigned)type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

typedef struct results {
    pl_policy_action *actions;
    size_t nactions, capactions;
    pl_policy_hit *hits;
    size_t nhits, caphits;
} results;

static pl_policy_action *add_action(eval_ctx *e, results *r, pl_policy_action_type t,
                                   const pl__rule *rule, const spans *s)
{
    pl_policy_action *a;

    if (r->nactions == r->capactions) {
        size_t cap = r->capactions ? r->capactions * 2 : 8;
        pl_policy_action *n = pl_arena_calloc(e->a, cap, sizeof(*n));
        if (n == NULL) {
            e->err = PL_ENOMEM;
            return NULL;
        }
        if (r->nactions)
            memcpy(n, r->actions, r->nactions * sizeof(*n));
        r->actions = n;
        r->capactions = cap;
    }
    a = &r->actions[r->nactions++];
    memset(a, 0, sizeof(*a));
    a->type = t;
    a->rule_id = rule->id;
    a->spans = s->items;
    a->nspans = s->count;
    return a;
}

static int fire(eval_ctx *e, results *r, const pl__rule *rule, const spans *s,
                pl_policy_result *res)
{
    const pol_then *t = rule->then;
    pl_policy_action *a;

    if (r->nhits == r->caphits) {
        size_t cap = r->caphits ? r->caphits * 2 : 8;
        pl_policy_hit *n = pl_arena_calloc(e->a, cap, sizeof(*n));
        if (n == NULL)
            return e->err = PL_ENOMEM;
        if (r->nhits)
            memcpy(n, r->hits, r->nhits * sizeof(*n));
        r->hits = n;
        r->caphits = cap;
    }
    r->hits[r->nhits++] = (pl_policy_hit){.rule_id = rule->id, .file = rule->file,
                                          .line = rule->line,
                                          .why = e->explain ? (e->why ? e->why : "always") : NULL,
                                          .spans = s->items, .nspans = s->count};
    if (t->escalate.present && (a = add_action(e, r, PL_POLICY_ESCALATE, rule, s))) {
        a->priority = pl__priorities[t->escalate.priority];
        a->reason = t->escalate.reason;
    }
    if (t->redirect.present && (a = add_action(e, r, PL_POLICY_REDIRECT, rule, s))) {
        a->channel = t->redirect.channel;
        a->message = t->redirect.message;
    }
    for (size_t i = 0; i < t->tag.count; i++)
        if ((a = add_action(e, r, PL_POLICY_TAG, rule, s)))
            a->value = t->tag.items[i];
    if (t->block.present && (a = add_action(e, r, PL_POLICY_BLOCK, rule, s))) {
        a->message = t->block.message;
        res->blocked = 1;
    }
    if (t->mask.present && (a = add_action(e, r, PL_POLICY_MASK, rule, s))) {
        a->value = t->mask.with;
    }
    for (size_t i = 0; i < t->instruct.count; i++)
        if ((a = add_action(e, r, PL_POLICY_INSTRUCT, rule, s)))
            a->value = t->instruct.items[i];
    return e->err;
}

typedef struct mask_span {
    size_t start, end;
    const char *with;
} mask_span;

static int cmp_mask(const void *a, const void *b)
{
    const mask_span *x = a, *y = b;

    return x->start < y->start ? -1 : x->start > y->start ? 1 : 0;
}

/* Replaces the spans of every mask action, each with its own mask. */
static int apply_masks(eval_ctx *e, text_view *v, const results *r, const spans *prot,
                       pl_policy_result *res)
{
    buf out = {0};
    size_t copied = 0, n = 0;
    mask_span *m;

    for (size_t i = 0; i < r->nactions; i++)
        if (r->actions[i].type == PL_POLICY_MASK)
            n += r->actions[i].nspans;
    if (n == 0)
        return 0;
    m = pl_arena_alloc(e->a, n * sizeof(*m));
    if (m == NULL)
        return e->err = PL_ENOMEM;
    n = 0;
    for (size_t i = 0; i < r->nactions; i++)
        for (size_t j = 0; r->actions[i].type == PL_POLICY_MASK && j < r->actions[i].nspans; j++)
            m[n++] = (mask_span){r->actions[i].spans[j].start, r->actions[i].spans[j].end,
                                 r->actions[i].value};
    qsort(m, n, sizeof(*m), cmp_mask);
    for (size_t i = 0; i < n; i++) {
        if (m[i].start < copied || overlaps(prot, m[i].start, m[i].end))
            continue; /* overlapping an earlier mask, or protected */
        buf_put(e->a, &out, v->utf8 + copied, m[i].start - copied);
        buf_put(e->a, &out, m[i].with, strlen(m[i].with));
        copied = m[i].end;
    }
    buf_put(e->a, &out, v->utf8 + copied, v->len - copied);
    if (out.data == NULL)
        return e->err = PL_ENOMEM;
    res->text = out.data;
    res->text_len = out.len;
    return 0;
}

int pl_policy_evaluate(const pl_policy *p, const pl_policy_input *in,
                       pl_arena *arena, pl_policy_result **out)
{
    pl_policy_result *res;
    eval_ctx e = {.p = p, .in = in, .a = arena, .explain = in ? in->explain : 0};
    text_view *v;
    spans prot = {0};
    flags fl = {0};
    results r = {0};
    int stale = 1; /* protected spans are found again after each change */
    int rc;

    *out = NULL;
    if (p == NULL || in == NULL || arena == NULL || (in->text == NULL && in->len) ||
        (in->direction != PL_POLICY_IN && in->direction != PL_POLICY_OUT))
        return PL_EINVAL;
    if (in->len > PL_POLICY_MAX_TEXT)
        return PL_ELIMIT;
    res = pl_arena_calloc(arena, 1, sizeof(*res));
    v = pl_arena_calloc(arena, 1, sizeof(*v));
    if (res == NULL || v == NULL)
        return arena->err ? arena->err : PL_ENOMEM;
    res->policy = p;
    e.v = v;
    if ((rc = to_utf16(arena, in->text ? in->text : "", in->len, v)) != 0)
        return rc;
    if (in->direction == PL_POLICY_OUT && p->nfixes > 0) {
        for (size_t i = 0; i < p->nfixes; i++) {
            buf nb = {0};
            if (stale && (rc = protected_spans(&e, v, &prot)) != 0)
                return rc;
            rc = apply_fix(&e, p->fixes[i], v, &prot, &fl, &nb);
            if (e.err)
                return e.err;
            stale = rc == 1;
            if (rc == 1) {
                text_view *nv = pl_arena_calloc(arena, 1, sizeof(*nv));
                if (nv == NULL)
                    return PL_ENOMEM;
                if ((rc = to_utf16(arena, nb.data, nb.len, nv)) != 0)
                    return rc;
                v = e.v = nv;
            }
        }
    }
    if (stale && (rc = protected_spans(&e, v, &prot)) != 0)
        return rc;
    if ((rc = segment(arena, p, v)) != 0)
        return rc;
    for (size_t i = 0; i < p->nrules; i++) {
        const pl__rule *rule = p->rules[i];
        spans s = {0};
        if (!(rule->direction & in->direction))
            continue;
        e.why = NULL;
        e.why_len = e.why_cap = 0;
        if (!eval_cond(&e, &rule->when, &s)) {
            if (e.err)
                return e.err;
            continue;
        }
        if (e.err || fire(&e, &r, rule, &s, res))
            return e.err;
        if (rule->stop)
            break;
    }
    res->text = v->utf8;
    res->text_len = v->len;
    if (apply_masks(&e, v, &r, &prot, res))
        return e.err;
    res->actions = r.actions;
    res->nactions = r.nactions;
    res->hits = r.hits;
    res->nhits = r.nhits;
    res->flags = fl.items;
    res->nflags = fl.count;
    res->protected_spans = prot.items;
    res->nprotected = prot.count;
    res->directives = p->directives;
    {
        size_t extra = 0;
        for (size_t i = 0; i < r.nactions; i++)
            extra += r.actions[i].type == PL_POLICY_INSTRUCT;
        if (extra) {
            const char **ins = pl_arena_calloc(arena, p->directives.ninstructions + extra,
                                               sizeof(char *));
            size_t n = p->directives.ninstructions;
            if (ins == NULL)
                return PL_ENOMEM;
            if (n)
                memcpy(ins, p->directives.instructions, n * sizeof(char *));
            for (size_t i = 0; i < r.nactions; i++)
                if (r.actions[i].type == PL_POLICY_INSTRUCT)
                    ins[n++] = r.actions[i].value;
            res->directives.instructions = ins;
            res->directives.ninstructions = n;
        }
    }
    *out = res;
    return 0;
}
