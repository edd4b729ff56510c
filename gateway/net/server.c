/*
 * Worker threads and the supervising loop: start one libuv loop per worker,
 * reload the runtime snapshot on SIGHUP, and stop everything on SIGINT or
 * SIGTERM.
 */
#include "parley/server.h"
#include "parley/error.h"
#include "parley/log.h"
#include "parley/policy.h"
#include "parley/runtime.h"

#include <stdlib.h>
#include <uv.h>

typedef struct worker {
    unsigned id;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t stop; /* wakes the loop to close its handles */
    int started;
} worker;

struct pl_server {
    const pl_server_options *opts;
    uv_loop_t *loop; /* the supervising loop */
    uv_signal_t sigint, sigterm, sighup;
    pl_policy_watch *policy_watch; /* NULL unless policies.watch */
    worker *workers;
    unsigned nworkers;
    int stopping;
};

static void worker_on_stop(uv_async_t *handle)
{
    worker *w = handle->data;

    uv_close((uv_handle_t *)&w->stop, NULL);
}

static void worker_main(void *arg)
{
    worker *w = arg;

    pl_log_debug("worker %u: loop running", w->id);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    pl_log_debug("worker %u: loop stopped", w->id);
}

static int workers_start(pl_server *s, unsigned n)
{
    int r;

    s->workers = calloc(n, sizeof(*s->workers));
    if (s->workers == NULL)
        return PL_ENOMEM;
    s->nworkers = n;
    for (unsigned i = 0; i < n; i++) {
        worker *w = &s->workers[i];
        w->id = i;
        if ((r = uv_loop_init(&w->loop)) != 0)
            goto fail;
        if ((r = uv_async_init(&w->loop, &w->stop, worker_on_stop)) != 0) {
            uv_loop_close(&w->loop);
            goto fail;
        }
        w->stop.data = w;
        if ((r = uv_thread_create(&w->thread, worker_main, w)) != 0) {
            uv_close((uv_handle_t *)&w->stop, NULL);
            uv_run(&w->loop, UV_RUN_DEFAULT);
            uv_loop_close(&w->loop);
            goto fail;
        }
        w->started = 1;
    }
    return 0;

fail:
    pl_log_error("cannot start worker: %s", uv_strerror(r));
    return PL_ESYS;
}

static void workers_stop(pl_server *s)
{
    for (unsigned i = 0; i < s->nworkers; i++)
        if (s->workers[i].started)
            uv_async_send(&s->workers[i].stop);
    for (unsigned i = 0; i < s->nworkers; i++) {
        worker *w = &s->workers[i];
        if (!w->started)
            continue;
        uv_thread_join(&w->thread);
        uv_loop_close(&w->loop);
    }
    free(s->workers);
    s->workers = NULL;
    s->nworkers = 0;
}

static void apply_log_settings(const pl_config *cfg)
{
    pl_log_set_level((pl_log_level)cfg->log.level);
    pl_log_set_format((pl_log_format)cfg->log.format);
}

static void reload(pl_server *s)
{
    pl_diags diags;
    pl_config *cfg;
    pl_runtime *rt;
    pl_policy_set *policies;
    uint64_t gen;

    pl_diags_init(&diags);
    if (pl_config_load(s->opts->config_path, &diags, &cfg) != 0) {
        pl_diags_sort(&diags);
        for (size_t i = 0; i < diags.count; i++) {
            const pl_diag *d = &diags.items[i];
            pl_log_error("reload rejected: %s:%u:%u: %s",
                         d->file ? d->file : s->opts->config_path, d->line,
                         d->column, d->message);
        }
        pl_log_warn("configuration reload failed with %zu error(s); "
                    "keeping the running configuration",
                    diags.errors);
        pl_diags_free(&diags);
        return;
    }
    pl_diags_free(&diags);
    if (pl_policy_reload(cfg, &policies) != 0) {
        pl_config_free(cfg);
        return;
    }
    if (pl_runtime_new(cfg, &rt) != 0) {
        pl_policy_set_free(policies);
        pl_log_error("configuration reload failed: out of memory");
        return;
    }
    rt->policies = policies;
    apply_log_settings(cfg);
    gen = pl_runtime_publish(rt);
    pl_log_info("configuration reloaded (generation %llu)",
                (unsigned long long)gen);
}

static void on_policies_changed(void *arg)
{
    pl_server *s = arg;

    if (!s->stopping)
        reload(s);
}

static void on_signal(uv_signal_t *handle, int signum)
{
    pl_server *s = handle->data;

    if (signum == SIGHUP) {
        if (!s->stopping)
            reload(s);
        return;
    }
    if (s->stopping)
        return;
    s->stopping = 1;
    pl_log_info("received %s, shutting down",
                signum == SIGINT ? "SIGINT" : "SIGTERM");
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_close((uv_handle_t *)&s->sighup, NULL);
    pl_policy_watch_stop(s->policy_watch);
    s->policy_watch = NULL;
}

static unsigned worker_count(const pl_config *cfg)
{
    if (cfg->workers > 0)
        return (unsigned)cfg->workers;
    return uv_available_parallelism();
}

int pl_server_run(const pl_server_options *opts)
{
    pl_server s = {.opts = opts};
    pl_runtime *rt = pl_runtime_acquire();
    unsigned n;
    int rc;

    if (rt == NULL)
        return PL_ESTATE;
    apply_log_settings(rt->config);
    n = worker_count(rt->config);
    s.loop = uv_default_loop();
    pl_policy_watch_configured(s.loop, rt->config, on_policies_changed, &s,
                               &s.policy_watch);
    pl_runtime_release(rt);

    uv_signal_init(s.loop, &s.sigint);
    uv_signal_init(s.loop, &s.sigterm);
    uv_signal_init(s.loop, &s.sighup);
    s.sigint.data = s.sigterm.data = s.sighup.data = &s;
    uv_signal_start(&s.sigint, on_signal, SIGINT);
    uv_signal_start(&s.sigterm, on_signal, SIGTERM);
    uv_signal_start(&s.sighup, on_signal, SIGHUP);

    rc = workers_start(&s, n);
    if (rc == 0) {
        pl_log_fields(PL_LOG_INFO,
                      (pl_log_field[]){{"config", opts->config_path}}, 1,
                      "ready with %u worker(s)", n);
        uv_run(s.loop, UV_RUN_DEFAULT);
    } else {
        pl_policy_watch_stop(s.policy_watch);
        uv_close((uv_handle_t *)&s.sigint, NULL);
        uv_close((uv_handle_t *)&s.sigterm, NULL);
        uv_close((uv_handle_t *)&s.sighup, NULL);
        uv_run(s.loop, UV_RUN_DEFAULT);
    }
    workers_stop(&s);
    uv_loop_close(s.loop);
    if (rc == 0)
        pl_log_info("stopped");
    return rc;
}
