/*
 * Publishing and acquiring runtime snapshots. A mutex guards only the
 * pointer swap and the increment; snapshots themselves are immutable.
 */
#include "parley/runtime.h"
#include "parley/error.h"
#include "parley/policy.h"

#include <pthread.h>
#include <stdlib.h>

static pthread_mutex_t current_lock = PTHREAD_MUTEX_INITIALIZER;
static pl_runtime *current;
static uint64_t last_generation;

int pl_runtime_new(pl_config *cfg, pl_runtime **out)
{
    pl_runtime *rt = calloc(1, sizeof(*rt));

    *out = NULL;
    if (rt == NULL) {
        pl_config_free(cfg);
        return PL_ENOMEM;
    }
    atomic_init(&rt->refs, 1);
    rt->config = cfg;
    *out = rt;
    return 0;
}

uint64_t pl_runtime_publish(pl_runtime *rt)
{
    pl_runtime *old;
    uint64_t gen;

    pthread_mutex_lock(&current_lock);
    rt->generation = gen = ++last_generation;
    old = current;
    current = rt;
    pthread_mutex_unlock(&current_lock);
    pl_runtime_release(old);
    return gen;
}

pl_runtime *pl_runtime_acquire(void)
{
    pl_runtime *rt;

    pthread_mutex_lock(&current_lock);
    rt = current;
    if (rt != NULL)
        atomic_fetch_add(&rt->refs, 1);
    pthread_mutex_unlock(&current_lock);
    return rt;
}

void pl_runtime_retain(pl_runtime *rt)
{
    atomic_fetch_add_explicit(&rt->refs, 1, memory_order_relaxed);
}

void pl_runtime_release(pl_runtime *rt)
{
    if (rt == NULL)
        return;
    if (atomic_fetch_sub(&rt->refs, 1) == 1) {
        pl_config_free(rt->config);
        pl_policy_set_free(rt->policies);
        free(rt);
    }
}

void pl_runtime_shutdown(void)
{
    pl_runtime *old;

    pthread_mutex_lock(&current_lock);
    old = current;
    current = NULL;
    pthread_mutex_unlock(&current_lock);
    pl_runtime_release(old);
}
