/*
 * Folder watching for hot reload (the policies folder, the configuration
 * file's folder): libuv fs events, filtered by name, debounced by a timer
 * so that an editor's write-and-rename is one reload.
 */
#include "parley/watch.h"

#include "parley/error.h"

#include <stdlib.h>
#include <string.h>
#include <uv.h>

struct pl_watch {
    uv_fs_event_t event;
    uv_timer_t timer;
    void (*on_change)(void *arg);
    void *arg;
    char *only;  /* the one file name that matters, or NULL */
    int closing; /* handles still to close before freeing */
};

static void on_timer(uv_timer_t *t)
{
    pl_watch *w = t->data;

    w->on_change(w->arg);
}

static void on_event(uv_fs_event_t *h, const char *filename, int events, int status)
{
    pl_watch *w = h->data;

    (void)events;
    if (status < 0)
        return;
    if (w->only != NULL) {
        /* Without a name (some kernels) any change may be ours. */
        if (filename != NULL && strcmp(filename, w->only) != 0)
            return;
    } else if (filename != NULL &&
               (filename[0] == '.' || filename[strlen(filename) - 1] == '~')) {
        return; /* editors' swap and backup files */
    }
    uv_timer_start(&w->timer, on_timer, PL_WATCH_SETTLE_MS, 0);
}

static void on_close(uv_handle_t *h)
{
    pl_watch *w = h->data;

    if (--w->closing == 0) {
        free(w->only);
        free(w);
    }
}

int pl_watch_start(struct uv_loop_s *loop, const char *dir, const char *only,
                   void (*on_change)(void *arg), void *arg, pl_watch **out)
{
    pl_watch *w = calloc(1, sizeof(*w));

    *out = NULL;
    if (w == NULL || (only != NULL && (w->only = strdup(only)) == NULL)) {
        free(w);
        return PL_ENOMEM;
    }
    w->on_change = on_change;
    w->arg = arg;
    uv_timer_init(loop, &w->timer);
    w->timer.data = w;
    uv_fs_event_init(loop, &w->event);
    w->event.data = w;
    if (uv_fs_event_start(&w->event, on_event, dir, 0) != 0) {
        pl_watch_stop(w);
        return PL_ESYS;
    }
    *out = w;
    return 0;
}

void pl_watch_stop(pl_watch *w)
{
    if (w == NULL)
        return;
    w->closing = 2;
    uv_fs_event_stop(&w->event);
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->event, on_close);
    uv_close((uv_handle_t *)&w->timer, on_close);
}
