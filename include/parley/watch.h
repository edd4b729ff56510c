/*
 * Watching a folder for edits (gateway/core/watch.c): a libuv fs-event
 * watcher that calls back once a burst of changes has settled. Editors
 * write a temporary file and rename it over the old one, which is several
 * events; the folder is watched rather than the file, whose inode changes.
 */
#ifndef PARLEY_WATCH_H
#define PARLEY_WATCH_H

#ifdef __cplusplus
extern "C" {
#endif

struct uv_loop_s;

/* Changes closer together than this are one callback. */
#define PL_WATCH_SETTLE_MS 100

typedef struct pl_watch pl_watch;

/**
 * Watches `dir` on `loop`; `on_change(arg)` runs on the loop 100 ms after
 * the last change to a file named `only` (NULL: to any file but hidden
 * and backup files: ".name", "name~"). Returns 0 and the watcher in *out,
 * or PL_ESYS/PL_ENOMEM (nothing to free then). Free with pl_watch_stop().
 */
int pl_watch_start(struct uv_loop_s *loop, const char *dir, const char *only,
                   void (*on_change)(void *arg), void *arg, pl_watch **out);

/** Stops watching and frees `w` once libuv closed its handles (NULL: no-op). */
void pl_watch_stop(pl_watch *w);

#ifdef __cplusplus
}
#endif

#endif
