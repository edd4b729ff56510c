/*
 * Memory for one nghttp2 session. nghttp2 allocates two page-sized blocks
 * per session up front: the stream table (4 KiB, zeroed) and the outbound
 * frame buffer (16 KiB). Taken from malloc they cost resident memory on
 * every connection, idle or not; taken from mmap, pages become resident
 * only when written, and the frame buffer, whose bytes matter only while a
 * frame is being produced, is handed back to the kernel when the
 * connection goes idle. Smaller allocations go to malloc.
 */
#include "net_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Blocks from this size on are mapped. */
#define BIG_BLOCK 4096

static size_t page_round(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);

    return (n + page - 1) / page * page;
}

static pl_h2_block *block_of(pl_h2_mem *m, const void *p)
{
    for (size_t i = 0; i < PL_H2_MEM_BLOCKS; i++)
        if (m->blocks[i].ptr == p && p != NULL)
            return &m->blocks[i];
    return NULL;
}

/* Maps a zeroed block, or returns NULL when no slot is left (use malloc). */
static void *big_alloc(pl_h2_mem *m, size_t n)
{
    pl_h2_block *b = NULL;

    for (size_t i = 0; b == NULL && i < PL_H2_MEM_BLOCKS; i++)
        if (m->blocks[i].ptr == NULL)
            b = &m->blocks[i];
    if (b == NULL)
        return NULL;
    size_t len = page_round(n);
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    *b = (pl_h2_block){.ptr = p, .len = len, .size = n};
    return p;
}

static void *mem_malloc(size_t n, void *arg)
{
    void *p = n >= BIG_BLOCK ? big_alloc(arg, n) : NULL;

    return p != NULL ? p : malloc(n);
}

static void mem_free(void *p, void *arg)
{
    pl_h2_block *b = block_of(arg, p);

    if (b == NULL) {
        free(p);
        return;
    }
    munmap(b->ptr, b->len);
    *b = (pl_h2_block){0};
}

static void *mem_calloc(size_t count, size_t size, void *arg)
{
    size_t n = count * size;
    void *p;

    if (size != 0 && n / size != count)
        return NULL;
    /* Mapped pages are zero already: nothing is touched until used. */
    p = n >= BIG_BLOCK ? big_alloc(arg, n) : NULL;
    return p != NULL ? p : calloc(count, size);
}

static void *mem_realloc(void *p, size_t n, void *arg)
{
    pl_h2_mem *m = arg;
    pl_h2_block *b = block_of(m, p);
    void *q;

    if (p == NULL) {
        q = mem_malloc(n, m);
        /* The first block made at session creation is the frame buffer. */
        b = block_of(m, q);
        if (b != NULL && m->creating && m->scratch == NULL)
            m->scratch = q;
        return q;
    }
    if (b == NULL)
        return realloc(p, n);
    if (n <= b->len) {
        b->size = n;
        return p;
    }
    size_t old = b->size;
    q = mem_malloc(n, m);
    if (q == NULL)
        return NULL;
    memcpy(q, p, old);
    if (m->scratch == p)
        m->scratch = block_of(m, q) != NULL ? q : NULL;
    mem_free(p, m);
    return q;
}

void pl__h2_mem_init(pl_h2_mem *m, nghttp2_mem *out)
{
    memset(m, 0, sizeof(*m));
    *out = (nghttp2_mem){.mem_user_data = m,
                         .malloc = mem_malloc,
                         .free = mem_free,
                         .calloc = mem_calloc,
                         .realloc = mem_realloc};
}

void pl__h2_mem_release_idle(pl_h2_mem *m)
{
    pl_h2_block *b = block_of(m, m->scratch);

    if (b != NULL)
        madvise(b->ptr, b->len, MADV_DONTNEED);
}
