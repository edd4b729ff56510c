/*
 * Streaming translation: text arrives in chunks (an SSE reply being
 * generated), ICU's sentence break iterator finds the sentences that are
 * complete, each is translated as soon as it is, and the translations are
 * delivered strictly in order. Whitespace after a sentence is kept as it
 * was, outside what the model sees.
 */
#include "translate_internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/ubrk.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

typedef struct sentence {
    struct sentence *next;
    pl_translate_stream *s;
    size_t index;
    pl_translate_job *job;
    int done;
    int status;
    char *original;   /* the sentence without its trailing whitespace */
    char *trailing;   /* the whitespace after it */
    char *text;       /* the translation with `trailing` appended */
} sentence;

struct pl_translate_stream {
    pl_translate_engine *eng;
    pl_arena arena; /* the template's directives */
    pl_translate_request tmpl;
    pl_translate_stream_cb cb;
    void *arg;
    char *buf;
    size_t len, cap;
    sentence *head, *tail;
    size_t next_index;
    int finished;
    int delivering;
};

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);

    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static void sentence_free(sentence *x)
{
    free(x->original);
    free(x->trailing);
    free(x->text);
    free(x);
}

static void deliver(pl_translate_stream *s)
{
    /* A callback may feed more text; deliver from one frame only. */
    if (s->delivering)
        return;
    s->delivering = 1;
    while (s->head != NULL && s->head->done) {
        sentence *x = s->head;
        int final;
        s->head = x->next;
        if (s->head == NULL)
            s->tail = NULL;
        final = s->finished && s->head == NULL;
        s->cb(x->index, x->status, x->status == 0 ? x->text : NULL, x->original,
              final, s->arg);
        sentence_free(x);
    }
    s->delivering = 0;
}

static void on_sentence(const pl_translate_result *res, void *arg)
{
    sentence *x = arg;
    pl_translate_stream *s = x->s;

    x->job = NULL;
    x->done = 1;
    x->status = res->status;
    if (res->status == 0) {
        size_t a = strlen(res->segments[0].text), b = strlen(x->trailing);
        x->text = malloc(a + b + 1);
        if (x->text == NULL) {
            x->status = PL_ENOMEM;
        } else {
            memcpy(x->text, res->segments[0].text, a);
            memcpy(x->text + a, x->trailing, b + 1);
        }
    }
    deliver(s);
}

static int submit(pl_translate_stream *s, const char *text, size_t len)
{
    sentence *x = calloc(1, sizeof(*x));
    size_t core = len;
    pl_translate_request r = s->tmpl;
    pl_translate_segment seg = {.id = "sentence"};
    int rc;

    if (x == NULL)
        return PL_ENOMEM;
    while (core > 0 && isspace((unsigned char)text[core - 1]))
        core--;
    x->s = s;
    x->index = s->next_index;
    x->original = dup_n(text, core);
    x->trailing = dup_n(text + core, len - core);
    if (x->original == NULL || x->trailing == NULL) {
        sentence_free(x);
        return PL_ENOMEM;
    }
    seg.text = x->original;
    r.segments = &seg;
    r.count = 1;
    rc = pl_translate_submit(s->eng, &r, on_sentence, x, &x->job);
    if (rc != 0) {
        sentence_free(x);
        return rc;
    }
    s->next_index++;
    if (s->tail)
        s->tail->next = x;
    else
        s->head = x;
    s->tail = x;
    return 0;
}

/* Bytes of `buf` that end on a whole UTF-8 character. */
static size_t complete_prefix(const char *buf, size_t len)
{
    size_t i = len, back = 0;

    while (i > 0 && back < 4 && ((unsigned char)buf[i - 1] & 0xC0) == 0x80) {
        i--;
        back++;
    }
    if (i == 0)
        return len;
    {
        unsigned char lead = (unsigned char)buf[i - 1];
        size_t need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        return back + 1 >= need ? len : i - 1;
    }
}

/* Submits every complete sentence and keeps the rest in the buffer. */
static int cut_sentences(pl_translate_stream *s)
{
    size_t n8 = complete_prefix(s->buf, s->len), used = 0;
    int32_t n16 = 0, *map = NULL, prev, b;
    UChar *t16 = NULL;
    UErrorCode st = U_ZERO_ERROR;
    UBreakIterator *bi = NULL;
    int rc = 0;

    if (n8 == 0)
        return 0;
    u_strFromUTF8(NULL, 0, &n16, s->buf, (int32_t)n8, &st);
    if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
        return PL_EUTF8;
    st = U_ZERO_ERROR;
    t16 = malloc(((size_t)n16 + 1) * sizeof(UChar));
    map = malloc(((size_t)n16 + 1) * sizeof(int32_t));
    if (t16 == NULL || map == NULL) {
        rc = PL_ENOMEM;
        goto done;
    }
    u_strFromUTF8(t16, n16 + 1, NULL, s->buf, (int32_t)n8, &st);
    for (int32_t i8 = 0, i16 = 0; i8 < (int32_t)n8;) {
        int32_t start = i8;
        UChar32 c;
        U8_NEXT(s->buf, i8, (int32_t)n8, c);
        map[i16++] = start;
        if (c > 0xFFFF)
            map[i16++] = start;
    }
    map[n16] = (int32_t)n8;
    bi = ubrk_open(UBRK_SENTENCE,
                   s->tmpl.source_language ? s->tmpl.source_language : "", t16, n16,
                   &st);
    if (U_FAILURE(st)) {
        rc = PL_EICU;
        goto done;
    }
    /* The last piece may still grow: only sentences followed by more text
     * are complete. */
    prev = ubrk_first(bi);
    while ((b = ubrk_next(bi)) != UBRK_DONE && b < n16) {
        rc = submit(s, s->buf + map[prev], (size_t)(map[b] - map[prev]));
        if (rc != 0)
            goto done;
        used = (size_t)map[b];
        prev = b;
    }
    memmove(s->buf, s->buf + used, s->len - used);
    s->len -= used;

done:
    if (bi != NULL)
        ubrk_close(bi);
    free(t16);
    free(map);
    return rc;
}

int pl_translate_stream_new(pl_translate_engine *eng, const pl_translate_request *tmpl,
                            pl_translate_stream_cb cb, void *arg,
                            pl_translate_stream **out)
{
    pl_translate_stream *s;

    *out = NULL;
    if (tmpl->target_locale == NULL || cb == NULL)
        return PL_EINVAL;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return PL_ENOMEM;
    s->eng = eng;
    s->cb = cb;
    s->arg = arg;
    pl_arena_init(&s->arena, 0);
    if (pl__copy_request(&s->arena, tmpl, &s->tmpl, 0) != 0) {
        pl_arena_free(&s->arena);
        free(s);
        return PL_ENOMEM;
    }
    *out = s;
    return 0;
}

int pl_translate_stream_feed(pl_translate_stream *s, const char *text, size_t len)
{
    if (s->finished)
        return PL_ESTATE;
    if (s->len + len > PL_TRANSLATE_MAX_STREAM)
        return PL_ELIMIT;
    if (s->len + len + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 1024;
        char *b;
        while (cap < s->len + len + 1)
            cap *= 2;
        b = realloc(s->buf, cap);
        if (b == NULL)
            return PL_ENOMEM;
        s->buf = b;
        s->cap = cap;
    }
    memcpy(s->buf + s->len, text, len);
    s->len += len;
    s->buf[s->len] = '\0';
    return cut_sentences(s);
}

int pl_translate_stream_finish(pl_translate_stream *s)
{
    int rc;

    if (s->finished)
        return PL_ESTATE;
    if (complete_prefix(s->buf ? s->buf : "", s->len) != s->len)
        return PL_EUTF8;
    /* The rest is the last sentence, even when empty, so that the final
     * callback always comes (from the loop). */
    rc = submit(s, s->buf ? s->buf : "", s->len);
    if (rc != 0)
        return rc;
    s->len = 0;
    s->finished = 1;
    return 0;
}

void pl_translate_stream_free(pl_translate_stream *s)
{
    if (s == NULL)
        return;
    while (s->head != NULL) {
        sentence *x = s->head;
        s->head = x->next;
        if (x->job != NULL)
            pl_translate_cancel(x->job);
        sentence_free(x);
    }
    free(s->buf);
    pl_arena_free(&s->arena);
    free(s);
}
