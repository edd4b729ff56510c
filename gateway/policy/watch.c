/*
 * Hot reload support: a libuv fs-event watcher on the policies folder that
 * calls back once a burst of changes has settled (editors write a temporary
 * file and rename it, which is several events), and the reload counters
 * until the metrics module exists.
 */
#include "parley/policy.h"

#include "parley/config.h"
#include "parley/error.h"
#include "parley/log.h"

#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

/* Changes closer together than this are one reload. */
#define SETTLE_MS 100

struct pl_policy_watch {
    uv_fs_event_t event;
    uv_timer_t timer;
    void (*on_change)(void *arg);
    void *arg;
    int closing; /* handles still to close before freeing */
};

static atomic_uint_fast64_t reloads, failures;

pl_policy_reload_stats pl_policy_reload_stats_get(void)
{
    pl_policy_reload_stats s = {.reloads = atomic_load(&reloads),
                                .failures = atomic_load(&failures)};

    return s;
}

void pl_policy_reload_count(int ok)
{
    atomic_fetch_add(ok ? &reloads : &failures, 1);
}

static void on_timer(uv_timer_t *t)
{
    pl_policy_watch *w = t->data;

    w->on_change(w->arg);
}

static void on_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
    pl_policy_watch *w = h->data;

    (void)events;
    if (status < 0)
        return;
    /* Editors' swap and backup files are not policies. */
    if (filename != NULL && (filename[0] == '.' || filename[strlen(filename) - 1] == '~'))
        return;
    uv_timer_start(&w->timer, on_timer, SETTLE_MS, 0);
}

int pl_policy_watch_start(struct uv_loop_s *loop, const char *dir,
                          void (*on_change)(void *arg), void *arg,
                          pl_policy_watch **out)
{
    pl_policy_watch *w = calloc(1, sizeof(*w));
    int r;

    *out = NULL;
    if (w == NULL)
        return PL_ENOMEM;
    w->on_change = on_change;
    w->arg = arg;
    uv_timer_init(loop, &w->timer);
    w->timer.data = w;
    uv_fs_event_init(loop, &w->event);
    w->event.data = w;
    r = uv_fs_event_start(&w->event, on_event, dir, 0);
    if (r != 0) {
        pl_policy_watch_stop(w);
        return PL_ESYS;
    }
    *out = w;
    return 0;
}

static void on_close(uv_handle_t *h)
{
    pl_policy_watch *w = h->data;

    if (--w->closing == 0)
        free(w);
}

void pl_policy_watch_stop(pl_policy_watch *w)
{
    if (w == NULL)
        return;
    w->closing = 2;
    uv_fs_event_stop(&w->event);
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->event, on_close);
    uv_close((uv_handle_t *)&w->timer, on_close);
}

int pl_policy_reload(const pl_config *cfg, pl_policy_set **out)
{
    pl_diags diags;
    int rc;

    pl_diags_init(&diags);
    rc = pl_policy_load_configured(cfg, &diags, out);
    /* Count before logging: whoever reads the log line sees the metric. */
    pl_policy_reload_count(rc == 0);
    pl_diags_sort(&diags);
    for (size_t i = 0; i < diags.count; i++) {
        const pl_diag *d = &diags.items[i];
        char where[1100];
        if (d->line > 0)
            snprintf(where, sizeof(where), "%s:%u:%u", d->file ? d->file : "", d->line,
                     d->column);
        else
            snprintf(where, sizeof(where), "%s", d->file ? d->file : "");
        if (d->severity == PL_DIAG_ERROR)
            pl_log_error("policy reload rejected: %s: %s", where, d->message);
        else
            pl_log_warn("policy warning: %s: %s", where, d->message);
    }
    if (rc != 0)
        pl_log_warn("policy reload failed with %zu error(s); keeping the running "
                    "policies", diags.errors);
    else
        pl_log_info("policies loaded (%zu policies)", pl_policy_set_count(*out));
    pl_diags_free(&diags);
    return rc;
}

int pl_policy_watch_configured(struct uv_loop_s *loop, const pl_config *cfg,
                               void (*on_change)(void *arg), void *arg,
                               pl_policy_watch **out)
{
    char dir[1024];
    DIR *d;
    int rc;

    *out = NULL;
    if (!cfg->policies.watch)
        return 0;
    pl_policy_configured_dir(cfg, dir, sizeof(dir));
    d = opendir(dir);
    if (d == NULL)
        return 0;
    closedir(d);
    rc = pl_policy_watch_start(loop, dir, on_change, arg, out);
    if (rc != 0)
        pl_log_error("cannot watch the policies folder %s: %s", dir, pl_strerror(rc));
    else
        pl_log_info("watching policies in %s", dir);
    return rc;
}
