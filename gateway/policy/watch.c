/*
 * Hot reload of the policies: the watcher on the policies folder
 * (parley/watch.h), the reload that logs every error with its position,
 * and the reload counters.
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
                               pl_watch **out)
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
    rc = pl_watch_start(loop, dir, NULL, on_change, arg, out);
    if (rc != 0)
        pl_log_error("cannot watch the policies folder %s: %s", dir, pl_strerror(rc));
    else
        pl_log_info("watching policies in %s", dir);
    return rc;
}
