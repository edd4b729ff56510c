/*
 * The language-identification model file (locales/langid.bin), read once
 * into memory that is then made read-only and shared by every thread. Built
 * by locales/tools/build_langid.py.
 *
 * Layout, little-endian, every section 4-byte aligned:
 *   header (64 bytes): "PLLANGID", u32 version, nlangs, bits, nentries,
 *       npostings, lang_off, dir_off, rec_off, rec_len, file_size, f32 qstep
 *   languages: nlangs rows of 32 bytes (pl__lang_row)
 *   directory: (1 << bits) + 1 u32, byte offset (from rec_off) of the first
 *       record of each bucket (the top `bits` bits of the n-gram hash)
 *   records: per n-gram, sorted by hash: u32 low 32 bits of the hash, u8
 *       count, then count (u8 language, u8 quantized -ln P) postings. Keeping
 *       the postings next to the fingerprint makes a lookup one cache miss
 *       after the directory instead of two.
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
#define MODEL_VERSION 2
#define HEADER_SIZE 64
#define BITS_MAX 28

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
    uint32_t rec_off = rd32(b + 36), rec_len = rd32(b + 40), fsize = rd32(b + 44);
    float qstep;
    memcpy(&qstep, b + 48, sizeof qstep);

    if (fsize != m->size || nlangs == 0 || nlangs > PL__LANG_MAX || bits > BITS_MAX ||
        !(qstep > 0.0f && qstep < 1.0f))
        goto corrupt;
    if ((lang_off | dir_off | rec_off) % 4 != 0)
        goto corrupt;
    if (lang_off != HEADER_SIZE || dir_off != lang_off + nlangs * 32ull ||
        rec_off != dir_off + (((uint64_t)1 << bits) + 1) * 4 ||
        (uint64_t)rec_off + rec_len > fsize || fsize - rec_off - rec_len >= 4)
        goto corrupt;

    m->nlangs = nlangs;
    m->bits = bits;
    m->nentries = nent;
    m->qstep = qstep;
    for (int q = 0; q < 256; q++)
        m->qval[q] = -(double)q * qstep;
    m->langs = (const pl__lang_row *)(b + lang_off);
    m->dir = (const uint32_t *)(b + dir_off);
    m->records = b + rec_off;

    for (uint32_t i = 0; i < nlangs; i++) {
        const pl__lang_row *r = &m->langs[i];
        if (r->code[0] == '\0' || memchr(r->code, '\0', sizeof r->code) == NULL ||
            r->max_order < 1 || r->max_order > PL__NGRAM_MAX)
            goto corrupt;
    }
    /* Every bucket must hold whole records; lookups then need no bounds checks. */
    uint32_t nb = 1u << bits;
    uint64_t seen_ent = 0, seen_post = 0;
    if (m->dir[0] != 0 || m->dir[nb] != rec_len)
        goto corrupt;
    for (uint32_t k = 0; k < nb; k++) {
        uint32_t pos = m->dir[k], end = m->dir[k + 1];
        if (pos > end)
            goto corrupt;
        while (pos < end) {
            if (end - pos < PL__RECORD_HEAD)
                goto corrupt;
            uint32_t cnt = m->records[pos + 4];
            const uint8_t *p = m->records + pos + PL__RECORD_HEAD;
            if (end - pos - PL__RECORD_HEAD < 2 * cnt)
                goto corrupt;
            for (uint32_t i = 0; i < cnt; i++)
                if (p[2 * i] >= nlangs)
                    goto corrupt;
            pos += PL__RECORD_HEAD + 2 * cnt;
            seen_ent++;
            seen_post += cnt;
        }
    }
    if (seen_ent != nent || seen_post != npost)
        goto corrupt;
    return 0;
corrupt:
    return pl_error_set(err, PL_ESYNTAX, "%s: corrupt language model", path);
}

#define HUGE_PAGE ((size_t)2 << 20)

void *pl__huge_alloc(size_t size, size_t *len)
{
    *len = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
    void *p = aligned_alloc(HUGE_PAGE, *len);
#ifdef MADV_HUGEPAGE
    if (p != NULL)
        (void)madvise(p, *len, MADV_HUGEPAGE); /* a hint: failure is fine */
#endif
    return p;
}

/*
 * Reads the file into huge pages instead of mapping it: from the fourth
 * letter of a word on, every letter scored reads two places at random in
 * its 21 MB, which spans some 5,300 pages of 4 KB and 11 huge pages
 * (docs/decisions.md). The memory is made read-only once checked
 * (pl__model_open).
 */
static int read_model(int fd, size_t size, pl__model *m, const char *path, pl_error *err)
{
    uint8_t *p = pl__huge_alloc(size, &m->alloc_size);
    if (p == NULL)
        return pl_error_set(err, PL_ENOMEM, "%s: cannot allocate %zu bytes", path, size);
    m->base = p;
    m->size = size;
    for (size_t got = 0; got < size;) {
        ssize_t r = pread(fd, p + got, size - got, (off_t)got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return pl_error_set(err, PL_EIO, "%s: read: %s", path,
                                r < 0 ? strerror(errno) : "file shorter than its size");
        got += (size_t)r;
    }
    return 0;
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
    rc = read_model(fd, (size_t)st.st_size, m, path, err);
    close(fd);
    if (rc == 0)
        rc = validate(m, path, err);
    if (rc < 0) {
        pl__model_close(m);
        return rc;
    }
    /* A safeguard against stray writes; failure is fine. */
    (void)mprotect((void *)m->base, m->alloc_size, PROT_READ);
    return 0;
}

void pl__model_close(pl__model *m)
{
    free(m->codes);
    if (m->base) {
        /* Writable again before the allocator takes it back. */
        (void)mprotect((void *)m->base, m->alloc_size, PROT_READ | PROT_WRITE);
        free((void *)m->base);
    }
    memset(m, 0, sizeof *m);
}
