/*
 * The translation cache: an in-memory LRU bounded in bytes (and optionally
 * by age), keyed by SHA-256 of the normalized text and everything that
 * changes its translation. Until the store module exists this is the only
 * tier; entries are lost on restart and not shared between workers.
 */
#include "translate_internal.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/utf8.h>

typedef struct entry {
    unsigned char key[32];
    struct entry *hnext;            /* bucket chain */
    struct entry *prev, *next;      /* LRU list, most recent first */
    uint64_t expires;               /* 0: never */
    size_t size;                    /* accounted bytes */
    unsigned flags;                 /* PL__CACHE_* */
    char value[];
} entry;

struct pl__cache {
    entry **buckets;
    size_t nbuckets; /* power of two */
    size_t count;
    size_t bytes, max_bytes;
    uint64_t ttl;
    entry *head, *tail;
};

int pl__cache_new(int64_t max_bytes, int64_t ttl_ms, pl__cache **out)
{
    pl__cache *c = calloc(1, sizeof(*c));

    *out = NULL;
    if (c == NULL)
        return PL_ENOMEM;
    c->nbuckets = 1024;
    c->buckets = calloc(c->nbuckets, sizeof(entry *));
    if (c->buckets == NULL) {
        free(c);
        return PL_ENOMEM;
    }
    c->max_bytes = (size_t)max_bytes;
    c->ttl = (uint64_t)ttl_ms;
    *out = c;
    return 0;
}

void pl__cache_free(pl__cache *c)
{
    if (c == NULL)
        return;
    for (entry *e = c->head, *n; e != NULL; e = n) {
        n = e->next;
        free(e);
    }
    free(c->buckets);
    free(c);
}

static size_t bucket_of(const pl__cache *c, const unsigned char key[32])
{
    uint64_t h;

    memcpy(&h, key, sizeof(h)); /* the key is a hash already */
    return (size_t)h & (c->nbuckets - 1);
}

static void lru_unlink(pl__cache *c, entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        c->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        c->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(pl__cache *c, entry *e)
{
    e->prev = NULL;
    e->next = c->head;
    if (c->head)
        c->head->prev = e;
    c->head = e;
    if (c->tail == NULL)
        c->tail = e;
}

static void remove_entry(pl__cache *c, entry *e)
{
    entry **pp = &c->buckets[bucket_of(c, e->key)];

    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    lru_unlink(c, e);
    c->bytes -= e->size;
    c->count--;
    free(e);
}

static entry *find(pl__cache *c, const unsigned char key[32])
{
    for (entry *e = c->buckets[bucket_of(c, key)]; e != NULL; e = e->hnext)
        if (memcmp(e->key, key, 32) == 0)
            return e;
    return NULL;
}

const char *pl__cache_get(pl__cache *c, const unsigned char key[32], uint64_t now)
{
    return pl__cache_get_flags(c, key, now, NULL);
}

const char *pl__cache_get_flags(pl__cache *c, const unsigned char key[32],
                                uint64_t now, unsigned *flags)
{
    entry *e = find(c, key);

    if (e == NULL)
        return NULL;
    if (e->expires != 0 && e->expires <= now) {
        remove_entry(c, e);
        return NULL;
    }
    if (c->head != e) {
        lru_unlink(c, e);
        lru_push_front(c, e);
    }
    if (flags != NULL)
        *flags = e->flags;
    return e->value;
}

static void grow(pl__cache *c)
{
    size_t n = c->nbuckets * 2;
    entry **b = calloc(n, sizeof(entry *));

    if (b == NULL)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < c->nbuckets; i++) {
        for (entry *e = c->buckets[i], *next; e != NULL; e = next) {
            uint64_t h;
            next = e->hnext;
            memcpy(&h, e->key, sizeof(h));
            e->hnext = b[h & (n - 1)];
            b[h & (n - 1)] = e;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

int pl__cache_put(pl__cache *c, const unsigned char key[32], const char *value,
                  uint64_t now)
{
    return pl__cache_put_flags(c, key, value, 0, now);
}

int pl__cache_put_flags(pl__cache *c, const unsigned char key[32],
                        const char *value, unsigned flags, uint64_t now)
{
    size_t vlen = strlen(value);
    size_t size = sizeof(entry) + vlen + 1;
    entry *e;
    size_t b;

    if ((e = find(c, key)) != NULL)
        remove_entry(c, e);
    if (size > c->max_bytes)
        return PL_ELIMIT;
    while (c->bytes + size > c->max_bytes && c->tail != NULL)
        remove_entry(c, c->tail);
    e = malloc(size);
    if (e == NULL)
        return PL_ENOMEM;
    memcpy(e->key, key, 32);
    memcpy(e->value, value, vlen + 1);
    e->size = size;
    e->flags = flags;
    e->expires = c->ttl ? now + c->ttl : 0;
    if (c->count + 1 > c->nbuckets)
        grow(c);
    b = bucket_of(c, key);
    e->hnext = c->buckets[b];
    c->buckets[b] = e;
    lru_push_front(c, e);
    c->bytes += size;
    c->count++;
    return 0;
}

void pl__cache_usage(const pl__cache *c, uint64_t *bytes, uint64_t *entries)
{
    *bytes = c->bytes;
    *entries = c->count;
}

/* ---- keys */

static int is_space(UChar32 c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == 0x00A0 ||
           c == 0x3000 || c == 0x2028 || c == 0x2029 ||
           (c >= 0x2000 && c <= 0x200A);
}

/* Appends the normalized form of code point `c` (spaces collapsed). */
static size_t put_normalized(uint8_t *out, size_t n, UChar32 c, int *pending_space,
                             int *started)
{
    if (is_space(c)) {
        *pending_space = *started;
        return n;
    }
    if (*pending_space) {
        out[n++] = ' ';
        *pending_space = 0;
    }
    *started = 1;
    U8_APPEND_UNSAFE(out, n, c);
    return n;
}

/* Plain ASCII is already in NFC: it skips the round trip through ICU. */
static int is_ascii(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] >= 0x80)
            return 0;
    return 1;
}

/*
 * NFC, whitespace runs as one space, trimmed. The normalized bytes are
 * gathered in one buffer and hashed with one update: a digest update per
 * character costs more than the normalization.
 */
static int hash_normalized(EVP_MD_CTX *ctx, const char *text)
{
    UErrorCode st = U_ZERO_ERROR;
    const UNormalizer2 *nfc;
    size_t len8 = strlen(text), n = 0;
    int32_t len16 = 0, nlen;
    UChar *src = NULL, *dst = NULL;
    uint8_t stack[1024], *out = stack;
    int pending_space = 0, started = 0;
    int rc = 0;

    if (is_ascii(text, len8)) {
        if (len8 > sizeof(stack) && (out = malloc(len8)) == NULL)
            return PL_ENOMEM;
        for (size_t i = 0; i < len8; i++)
            n = put_normalized(out, n, (unsigned char)text[i], &pending_space, &started);
        goto hash;
    }
    nfc = unorm2_getNFCInstance(&st);
    if (U_FAILURE(st))
        return PL_EICU;
    u_strFromUTF8(NULL, 0, &len16, text, (int32_t)len8, &st);
    if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
        return PL_EUTF8;
    st = U_ZERO_ERROR;
    src = malloc(((size_t)len16 + 1) * sizeof(UChar));
    /* NFC can grow a string at most threefold. */
    dst = malloc(((size_t)len16 * 3 + 1) * sizeof(UChar));
    if (src == NULL || dst == NULL) {
        rc = PL_ENOMEM;
        goto done;
    }
    u_strFromUTF8(src, len16 + 1, NULL, text, (int32_t)len8, &st);
    nlen = unorm2_normalize(nfc, src, len16, dst, len16 * 3 + 1, &st);
    if (U_FAILURE(st)) {
        rc = PL_EICU;
        goto done;
    }
    /* At most four UTF-8 bytes per UTF-16 unit, plus pending spaces. */
    if ((size_t)nlen * 4 > sizeof(stack) && (out = malloc((size_t)nlen * 4)) == NULL) {
        rc = PL_ENOMEM;
        goto done;
    }
    for (int32_t i = 0; i < nlen;) {
        UChar32 c;
        U16_NEXT(dst, i, nlen, c);
        n = put_normalized(out, n, c, &pending_space, &started);
    }

hash:
    if (n > 0)
        EVP_DigestUpdate(ctx, out, n);
done:
    if (out != stack)
        free(out);
    free(src);
    free(dst);
    return rc;
}

static void field(EVP_MD_CTX *ctx, const char *s)
{
    /* Each field ends with a NUL so fields cannot run into each other. */
    if (s == NULL)
        s = "";
    EVP_DigestUpdate(ctx, s, strlen(s) + 1);
}

int pl__cache_key(const pl_translate_request *req, const char *text,
                  unsigned mask_classes, const char *provider_fp,
                  unsigned char key[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int mdlen = 0;
    char classes[16];
    int rc;

    if (ctx == NULL)
        return PL_ENOMEM;
    EVP_DigestInit_ex(ctx, pl__sha256(), NULL);
    field(ctx, "parley-translation-v1");
    rc = hash_normalized(ctx, text);
    EVP_DigestUpdate(ctx, "", 1);
    field(ctx, req->source_language);
    field(ctx, req->target_locale);
    field(ctx, req->variety);
    /* The policy fingerprint: everything of the policy the prompt uses. */
    field(ctx, req->register_);
    field(ctx, req->tone);
    field(ctx, req->instructions);
    for (size_t i = 0; i < req->glossary_count; i++) {
        field(ctx, req->glossary[i].term);
        field(ctx, req->glossary[i].translation ? req->glossary[i].translation
                                                : "\x01keep");
    }
    field(ctx, "\x02");
    for (size_t i = 0; i < req->protected_count; i++)
        field(ctx, req->protected_patterns[i]);
    snprintf(classes, sizeof(classes), "%x", mask_classes);
    field(ctx, classes);
    field(ctx, provider_fp);
    /* Post-editing changes offline translations: its identity is part of it. */
    if (req->postedit != NULL)
        field(ctx, req->postedit_id ? req->postedit_id : "\x03postedit");
    EVP_DigestFinal_ex(ctx, key, &mdlen);
    EVP_MD_CTX_free(ctx);
    return rc;
}

int pl_translate_cache_key(const pl_translate_request *req, const char *text,
                           unsigned mask_classes, const char *provider_fp,
                           char hex[65])
{
    unsigned char key[32];
    int rc = pl__cache_key(req, text, mask_classes, provider_fp, key);

    if (rc != 0)
        return rc;
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", key[i]);
    hex[64] = '\0';
    return 0;
}
