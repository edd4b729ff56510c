/*
 * libcurl's multi socket interface driven by a libuv loop: the one way any
 * Parley module (upstream proxying, LLM calls) runs HTTP client transfers
 * without blocking a worker. One pl_curl_loop per worker loop.
 */
#ifndef PARLEY_CURL_LOOP_H
#define PARLEY_CURL_LOOP_H

#include <curl/curl.h>
#include <uv.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pl_curl_loop pl_curl_loop;

/*
 * Called once when a transfer added with pl_curl_loop_add() finishes
 * (successfully or not), after it was removed from the multi handle. The
 * callee owns `easy` again (it may reuse or clean it up).
 */
typedef void (*pl_curl_done_cb)(CURL *easy, CURLcode result, void *arg);

/**
 * Creates a multi handle bound to `loop`. Returns 0 and *out, or PL_ENOMEM /
 * PL_ECURL. Free with pl_curl_loop_close().
 */
int pl_curl_loop_new(uv_loop_t *loop, pl_curl_loop **out);

/** The multi handle, for curl_multi_setopt() (e.g. connection limits). */
CURLM *pl_curl_loop_multi(pl_curl_loop *cl);

/**
 * Starts `easy`. The loop takes over CURLOPT_PRIVATE of `easy` until `cb`
 * runs (use your own struct through `arg`). Returns 0, or PL_ENOMEM /
 * PL_ECURL (then `cb` is never called).
 */
int pl_curl_loop_add(pl_curl_loop *cl, CURL *easy, pl_curl_done_cb cb,
                     void *arg);

/**
 * Cancels a transfer in flight: removes `easy` without calling its callback.
 * Returns 0, or PL_ENOENT when `easy` is not running on this loop.
 */
int pl_curl_loop_cancel(pl_curl_loop *cl, CURL *easy);

/**
 * Resumes socket processing after a paused transfer was unpaused with
 * curl_easy_pause() from outside a curl callback.
 */
void pl_curl_loop_kick(pl_curl_loop *cl);

/** Number of transfers in flight. */
unsigned pl_curl_loop_active(const pl_curl_loop *cl);

/**
 * Cancels every transfer (no callbacks), closes the loop's handles and
 * frees `cl` once libuv has closed them; `closed` (may be NULL) runs then.
 */
void pl_curl_loop_close(pl_curl_loop *cl, void (*closed)(void *arg),
                        void *arg);

#ifdef __cplusplus
}
#endif

#endif
