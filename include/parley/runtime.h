/*
 * The runtime snapshot: configuration (and later policies and models) as
 * one immutable, reference-counted unit. A reload builds and validates a
 * new snapshot and publishes it; work in flight keeps the one it acquired.
 */
#ifndef PARLEY_RUNTIME_H
#define PARLEY_RUNTIME_H

#include <stdatomic.h>
#include <stdint.h>

#include "parley/config.h"

#ifdef __cplusplus
extern "C" {
#endif

struct pl_policy_set;

typedef struct pl_runtime {
    atomic_uint refs;
    uint64_t generation; /* 1 for the first published snapshot, then +1 */
    pl_config *config;   /* owned */
    struct pl_policy_set *policies; /* owned; may be NULL; set before publishing */
} pl_runtime;

/**
 * Wraps `cfg` (ownership passes to the snapshot, also on failure) in a new
 * snapshot with one reference. Returns 0 or PL_ENOMEM.
 */
int pl_runtime_new(pl_config *cfg, pl_runtime **out);

/**
 * Makes `rt` the current snapshot, taking over the caller's reference, and
 * drops the global reference to the previous one. Returns the generation.
 */
uint64_t pl_runtime_publish(pl_runtime *rt);

/** Returns the current snapshot with a new reference, or NULL if none. */
pl_runtime *pl_runtime_acquire(void);

/** Adds a reference to `rt`, which the caller already holds one of. */
void pl_runtime_retain(pl_runtime *rt);

/** Drops one reference; the last one frees the snapshot. NULL is ignored. */
void pl_runtime_release(pl_runtime *rt);

/** Unpublishes and releases the current snapshot (at shutdown). */
void pl_runtime_shutdown(void);

#ifdef __cplusplus
}
#endif

#endif
