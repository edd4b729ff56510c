/*
 * Region allocator with a hard cap. A request (or a configuration snapshot)
 * allocates everything it needs from one arena and frees it in one call.
 * Going over the cap is an ordinary error the caller reports, not a crash.
 */
#ifndef PARLEY_ARENA_H
#define PARLEY_ARENA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pl_arena_block pl_arena_block;

typedef struct pl_arena {
    pl_arena_block *head; /* block being filled; older blocks follow */
    size_t used;          /* bytes handed out, including alignment */
    size_t reserved;      /* bytes obtained from malloc */
    size_t cap;           /* maximum for `reserved`; 0 means no cap */
    int err;              /* PL_OK, or why the last allocation failed */
} pl_arena;

/** Default block size; larger requests get a block of their own. */
#define PL_ARENA_BLOCK_SIZE 4096

/** Prepares `a` with a cap of `cap` bytes (0: unlimited). Allocates nothing. */
void pl_arena_init(pl_arena *a, size_t cap);

/**
 * Returns `size` bytes aligned for any type, or NULL when the cap would be
 * exceeded (a->err = PL_ELIMIT) or malloc failed (a->err = PL_ENOMEM).
 * A size of 0 returns a valid unique pointer.
 */
void *pl_arena_alloc(pl_arena *a, size_t size);

/** Like pl_arena_alloc(), zero-filled. */
void *pl_arena_calloc(pl_arena *a, size_t count, size_t size);

/** Copies the NUL-terminated `s` into the arena; NULL on failure. */
char *pl_arena_strdup(pl_arena *a, const char *s);

/** Copies `len` bytes of `s` and a terminating NUL; NULL on failure. */
char *pl_arena_strndup(pl_arena *a, const char *s, size_t len);

/** printf into the arena; NULL on failure. */
char *pl_arena_printf(pl_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Frees everything but keeps the first block for reuse. */
void pl_arena_reset(pl_arena *a);

/** Frees everything; `a` may be initialised again afterwards. */
void pl_arena_free(pl_arena *a);

/**
 * Grows a malloc'd buffer: when *cap < need, reallocates *buf to the first
 * power-of-two multiple of `first` (or of *cap) that holds `need` bytes.
 * Returns 0, or PL_ENOMEM with *buf and *cap unchanged. The buffers of
 * in-flight bytes (connections, bodies, heads) all grow this way.
 */
int pl_grow(char **buf, size_t *cap, size_t need, size_t first);

#ifdef __cplusplus
}
#endif

#endif
