/*
 * A bump allocator over a list of malloc'd blocks, with a hard cap on the
 * total reserved. Used for per-request memory and configuration snapshots.
 */
#include "parley/arena.h"
#include "parley/error.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN (_Alignof(max_align_t))

struct pl_arena_block {
    pl_arena_block *next;
    size_t size; /* usable bytes in data[] */
    size_t off;  /* next free byte */
    _Alignas(max_align_t) unsigned char data[];
};

void pl_arena_init(pl_arena *a, size_t cap)
{
    a->head = NULL;
    a->used = 0;
    a->reserved = 0;
    a->cap = cap;
    a->err = PL_OK;
}

static size_t align_up(size_t n)
{
    return (n + ARENA_ALIGN - 1) & ~(ARENA_ALIGN - 1);
}

static pl_arena_block *arena_grow(pl_arena *a, size_t need)
{
    size_t size = need > PL_ARENA_BLOCK_SIZE ? need : PL_ARENA_BLOCK_SIZE;
    size_t total = sizeof(pl_arena_block) + size;
    pl_arena_block *b;

    if (a->cap != 0 && (total > a->cap || a->reserved > a->cap - total)) {
        /* A smaller last block may still fit under the cap. */
        if (size > need && a->reserved + sizeof(pl_arena_block) + need <= a->cap) {
            size = need;
            total = sizeof(pl_arena_block) + size;
        } else {
            a->err = PL_ELIMIT;
            return NULL;
        }
    }
    b = malloc(total);
    if (b == NULL) {
        a->err = PL_ENOMEM;
        return NULL;
    }
    b->size = size;
    b->off = 0;
    /* A large dedicated block goes second so the head keeps filling. */
    if (a->head != NULL && size > PL_ARENA_BLOCK_SIZE &&
        a->head->size - a->head->off >= ARENA_ALIGN) {
        b->next = a->head->next;
        a->head->next = b;
    } else {
        b->next = a->head;
        a->head = b;
    }
    a->reserved += total;
    return b;
}

void *pl_arena_alloc(pl_arena *a, size_t size)
{
    pl_arena_block *b = a->head;
    size_t need;
    void *p;

    if (size > SIZE_MAX / 2) {
        a->err = PL_ELIMIT;
        return NULL;
    }
    need = align_up(size ? size : 1);
    if (b == NULL || b->size - b->off < need) {
        b = arena_grow(a, need);
        if (b == NULL)
            return NULL;
    }
    p = b->data + b->off;
    b->off += need;
    a->used += need;
    return p;
}

void *pl_arena_calloc(pl_arena *a, size_t count, size_t size)
{
    void *p;

    if (size != 0 && count > SIZE_MAX / 2 / size) {
        a->err = PL_ELIMIT;
        return NULL;
    }
    p = pl_arena_alloc(a, count * size);
    if (p != NULL)
        memset(p, 0, count * size);
    return p;
}

char *pl_arena_strndup(pl_arena *a, const char *s, size_t len)
{
    char *p = pl_arena_alloc(a, len + 1);

    if (p == NULL)
        return NULL;
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *pl_arena_strdup(pl_arena *a, const char *s)
{
    return pl_arena_strndup(a, s, strlen(s));
}

char *pl_arena_printf(pl_arena *a, const char *fmt, ...)
{
    va_list ap;
    int n;
    char *p;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        a->err = PL_EINVAL;
        return NULL;
    }
    p = pl_arena_alloc(a, (size_t)n + 1);
    if (p == NULL)
        return NULL;
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

void pl_arena_reset(pl_arena *a)
{
    pl_arena_block *b = a->head, *keep = NULL;

    while (b != NULL) {
        pl_arena_block *next = b->next;
        if (keep == NULL && b->size == PL_ARENA_BLOCK_SIZE)
            keep = b;
        else
            free(b);
        b = next;
    }
    a->head = keep;
    a->used = 0;
    a->reserved = 0;
    a->err = PL_OK;
    if (keep != NULL) {
        keep->next = NULL;
        keep->off = 0;
        a->reserved = sizeof(pl_arena_block) + keep->size;
    }
}

void pl_arena_free(pl_arena *a)
{
    pl_arena_block *b = a->head;

    while (b != NULL) {
        pl_arena_block *next = b->next;
        free(b);
        b = next;
    }
    pl_arena_init(a, a->cap);
}

int pl_grow(char **buf, size_t *cap, size_t need, size_t first)
{
    size_t n = *cap ? *cap : first;
    char *p;

    if (need <= *cap)
        return 0;
    while (n < need)
        n *= 2;
    if ((p = realloc(*buf, n)) == NULL)
        return PL_ENOMEM;
    *buf = p;
    *cap = n;
    return 0;
}
