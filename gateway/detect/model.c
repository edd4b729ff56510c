/*
 * The language-identification model file (locales/langid.bin), mapped
 * read-only and shared by every thread. Built by locales/tools/build_langid.py.
 *
 * Layout, little-endian, every section 4-byte aligned:
 *   header (64 bytes): "PLLANGID", u32 version, nlangs, bits, nentries,
 *       npostings, lang_off, dir_off, entry_off, post_off, file_size, f32 qstep
 *   languages: nlangs rows of 32 bytes (pl__lang_row)
 *   directory: (1 << bits) + 1 u32, index of the first entry of each bucket
 *       (the top `bits` bits of the n-gram hash)
 *   entries: nentries + 1 pairs (u32 low 32 bits of the hash, u32 first
 *       posting); the postings of entry i run to the first posting of i + 1
 *   postings: (u8 language, u8 quantized -ln P) pairs
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "detect_internal.h"

#define MODEL_MAGIC "PLLANGID"
#define MODEL_VERSION 1
#define HEADER_SIZE 64
#define BITS_MAX 28

uint64_t pl__ngram_hash(const uint8_t *s, size_t len)
{
    uint64_t h = 0xCBF29CE484222325ull;
    for (size_t i = 0; i < len; i++) {
        h ^= s[i];
        h *= 0x100000001B3ull;
    }
    /* splitmix64's finalizer spreads the bits the directory uses. */
    h ^= h >> 30;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 27;
    h *= 0x94D049BB133111EBull;
    h ^= h >> 31;
    return h;
}

static uint32_t rd32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Checks every offset and count, so that lookups need no bounds checks. */
static int validate(pl__model *m, const char *path, pl_error *err)
{
    const uint8_t *b = m->base;
    if (m->size < HEADER_SIZE || memcmp(b, MODEL_MAGIC, 8) != 0)
        return pl_error_set(err, PL_ESYNTAX, "%s: not a Parley language model", path);
    if (rd32(b + 8) != MODEL_VERSION)
        return pl_error_set(err, PL_ESYNTAX, "%s: model version %u, expected %u", path,
                            rd32(b + 8), MODEL_VERSION);
    uint32_t nlangs = rd32(b + 12), bits = rd32(b + 16), nent = rd32(b + 20);
    uint32_t npost = rd32(b + 24), lang_off = rd32(b + 28), dir_off = rd32(b + 32);
    uint32_t ent_off = rd32(b + 36), post_off = rd32(b + 40), fsize = rd32(b + 44);
    float qstep;
    memcpy(&qstep, b + 48, sizeof qstep);

    if (fsize != m->size || nlangs == 0 || nlangs > PL__LANG_MAX || bits > BITS_MAX ||
        !(qstep > 0.0f && qstep < 1.0f))
        goto corrupt;
    if ((lang_off | dir_off | ent_off | post_off) % 4 != 0)
        goto corrupt;
    if (lang_off != HEADER_SIZE || dir_off != lang_off + nlangs * 32ull ||
        ent_off != dir_off + (((uint64_t)1 << bits) + 1) * 4 ||
        post_off != ent_off + ((uint64_t)nent + 1) * 8 ||
        fsize != post_off + (uint64_t)npost * 2)
        goto corrupt;

    m->nlangs = nlangs;
    m->bits = bits;
    m->nentries = nent;
    m->qstep = qstep;
    m->langs = (const pl__lang_row *)(b + lang_off);
    m->dir = (const uint32_t *)(b + dir_off);
    m->entries = (const uint32_t *)(b + ent_off);
    m->postings = (const pl__posting *)(b + post_off);

    for (uint32_t i = 0; i < nlangs; i++) {
        const pl__lang_row *r = &m->langs[i];
        if (r->code[0] == '\0' || memchr(r->code, '\0', sizeof r->code) == NULL ||
            r->max_order < 1 || r->max_order > PL__NGRAM_MAX)
            goto corrupt;
    }
    uint32_t nb = 1u << bits;
    if (m->dir[0] != 0 || m->dir[nb] != nent)
        goto corrupt;
    for (uint32_t i = 0; i < nb; i++)
        if (m->dir[i] > m->dir[i + 1])
            goto corrupt;
    if (m->entries[2 * nent + 1] != npost)
        goto corrupt;
    for (uint32_t i = 0; i < nent; i++)
        if (m->entries[2 * i + 1] > m->entries[2 * i + 3])
            goto corrupt;
    for (uint32_t i = 0; i < npost; i++)
        if (m->postings[i].lang >= nlangs)
            goto corrupt;
    return 0;
corrupt:
    return pl_error_set(err, PL_ESYNTAX, "%s: corrupt language model", path);
}

int pl__model_open(const char *path, pl__model *m, pl_error *err)
{
    struct stat st;
    int fd, rc;

    memset(m, 0, sizeof *m);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return pl_error_set(err, errno == ENOENT ? PL_ENOENT : PL_EIO, "%s: %s", path,
                            strerror(errno));
    if (fstat(fd, &st) != 0 || st.st_size <= 0) {
        rc = pl_error_set(err, PL_EIO, "%s: cannot read the model", path);
        close(fd);
        return rc;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return pl_error_set(err, PL_EIO, "%s: mmap: %s", path, strerror(errno));
    m->base = p;
    m->size = (size_t)st.st_size;
    if ((rc = validate(m, path, err)) < 0) {
        pl__model_close(m);
        return rc;
    }
    return 0;
}

void pl__model_close(pl__model *m)
{
    if (m->base)
        munmap((void *)m->base, m->size);
    memset(m, 0, sizeof *m);
}

void pl__model_prefetch(const pl__model *m, uint64_t h)
{
    uint32_t b = m->bits ? (uint32_t)(h >> (64 - m->bits)) : 0;
    __builtin_prefetch(&m->dir[b]);
    /* The entries usually sit where the directory of a uniform hash predicts. */
    __builtin_prefetch(&m->entries[2 * (uint32_t)(((uint64_t)b * m->nentries) >> m->bits)]);
}

size_t pl__model_lookup(const pl__model *m, uint64_t h, const pl__posting **out)
{
    uint32_t b = m->bits ? (uint32_t)(h >> (64 - m->bits)) : 0;
    uint32_t fp = (uint32_t)h;
    for (uint32_t i = m->dir[b], e = m->dir[b + 1]; i < e; i++) {
        if (m->entries[2 * i] == fp) {
            uint32_t start = m->entries[2 * i + 1], end = m->entries[2 * i + 3];
            *out = m->postings + start;
            return end - start;
        }
    }
    return 0;
}
