/*
 * libcurl multi socket API on a libuv loop: curl tells us which sockets to
 * watch and when to wake it; we translate that into uv_poll and uv_timer
 * handles and drain curl_multi_info_read() after every action. A poll
 * handle lives as long as curl's socket and is only restarted when the
 * events curl wants change (each uv_poll_start costs epoll_ctl calls).
 */
#include "parley/curl_loop.h"
#include "parley/error.h"
#include "parley/log.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct transfer {
    struct transfer *prev, *next;
    CURL *easy;
    pl_curl_done_cb cb;
    void *arg;
} transfer;

/*
 * One per socket curl opened, from its first watch request until curl
 * closes it (CURLOPT_CLOSESOCKETFUNCTION). curl forgets a socket between
 * transfers (CURL_POLL_REMOVE while the connection idles in its cache) and
 * asks for it again on reuse; keeping the poll handle meanwhile saves an
 * allocation, an ioctl and two epoll_ctl calls per upstream request.
 */
typedef struct sock_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    pl_curl_loop *cl;
    int events;  /* what the poll handle watches now (UV_READABLE...) */
    int wanted;  /* what curl asked for; 0 after CURL_POLL_REMOVE */
    struct sock_ctx *prev, *next; /* open sockets, for close */
} sock_ctx;

struct pl_curl_loop {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    transfer *transfers; /* in flight, doubly linked */
    sock_ctx *sockets;   /* open, doubly linked */
    sock_ctx **by_fd;    /* open sockets indexed by descriptor */
    size_t nby_fd;
    unsigned active;
    int closing;
    unsigned pending_closes; /* handles still closing */
    void (*closed)(void *);
    void *closed_arg;
};

static void maybe_free(pl_curl_loop *cl)
{
    if (!cl->closing || cl->pending_closes != 0)
        return;
    if (cl->closed != NULL)
        cl->closed(cl->closed_arg);
    free(cl->by_fd);
    free(cl);
}

static void on_handle_closed(uv_handle_t *h)
{
    pl_curl_loop *cl;

    if (h->type == UV_POLL) {
        sock_ctx *s = h->data;
        cl = s->cl;
        free(s);
    } else {
        cl = h->data;
    }
    cl->pending_closes--;
    maybe_free(cl);
}

static void close_socket(pl_curl_loop *cl, sock_ctx *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        cl->sockets = s->next;
    if (s->next)
        s->next->prev = s->prev;
    if ((size_t)s->fd < cl->nby_fd && cl->by_fd[s->fd] == s)
        cl->by_fd[s->fd] = NULL;
    uv_poll_stop(&s->poll);
    cl->pending_closes++;
    uv_close((uv_handle_t *)&s->poll, on_handle_closed);
}

static sock_ctx *socket_of(pl_curl_loop *cl, curl_socket_t fd)
{
    return fd >= 0 && (size_t)fd < cl->nby_fd ? cl->by_fd[fd] : NULL;
}

/* Sets what the poll handle watches; libuv re-registers on every start. */
static void set_events(sock_ctx *s, int events);

static void unlink_transfer(pl_curl_loop *cl, transfer *t)
{
    if (t->prev)
        t->prev->next = t->next;
    else
        cl->transfers = t->next;
    if (t->next)
        t->next->prev = t->prev;
    cl->active--;
}

static void drain_messages(pl_curl_loop *cl)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(cl->multi, &left)) != NULL) {
        transfer *t = NULL;
        CURL *easy;
        CURLcode result;

        if (msg->msg != CURLMSG_DONE)
            continue;
        easy = msg->easy_handle;
        result = msg->data.result;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
        curl_multi_remove_handle(cl->multi, easy);
        if (t == NULL)
            continue;
        unlink_transfer(cl, t);
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        /* The callback may add new transfers; `t` is ours to free first. */
        pl_curl_done_cb cb = t->cb;
        void *arg = t->arg;
        free(t);
        cb(easy, result, arg);
    }
}

static void socket_action(pl_curl_loop *cl, curl_socket_t fd, int flags)
{
    int running;
    CURLMcode rc = curl_multi_socket_action(cl->multi, fd, flags, &running);

    if (rc != CURLM_OK)
        pl_log_error("curl_multi_socket_action: %s", curl_multi_strerror(rc));
    drain_messages(cl);
}

static void on_poll(uv_poll_t *handle, int status, int events)
{
    sock_ctx *s = handle->data;
    int flags = 0;

    if (s->wanted == 0) {
        /* Idle in curl's cache (e.g. the upstream closed it): stop watching
         * until curl reuses or closes it. */
        set_events(s, 0);
        return;
    }
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    socket_action(s->cl, s->fd, flags);
}

static void set_events(sock_ctx *s, int events)
{
    if (events == s->events)
        return;
    s->events = events;
    if (events == 0)
        uv_poll_stop(&s->poll);
    else
        uv_poll_start(&s->poll, events, on_poll);
}

static void on_timer(uv_timer_t *timer)
{
    socket_action(timer->data, CURL_SOCKET_TIMEOUT, 0);
}

static sock_ctx *socket_new(pl_curl_loop *cl, curl_socket_t fd)
{
    sock_ctx *s;

    if (fd < 0)
        return NULL;
    if ((size_t)fd >= cl->nby_fd) {
        size_t n = cl->nby_fd ? cl->nby_fd : 64;
        while (n <= (size_t)fd)
            n *= 2;
        sock_ctx **grown = realloc(cl->by_fd, n * sizeof(*grown));
        if (grown == NULL)
            return NULL;
        memset(grown + cl->nby_fd, 0, (n - cl->nby_fd) * sizeof(*grown));
        cl->by_fd = grown;
        cl->nby_fd = n;
    }
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->fd = fd;
    s->cl = cl;
    if (uv_poll_init_socket(cl->loop, &s->poll, fd) != 0) {
        free(s);
        return NULL;
    }
    s->poll.data = s;
    s->next = cl->sockets;
    if (cl->sockets)
        cl->sockets->prev = s;
    cl->sockets = s;
    cl->by_fd[fd] = s;
    return s;
}

static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
                          void *socketp)
{
    pl_curl_loop *cl = userp;
    sock_ctx *s = socket_of(cl, fd);
    int events = 0;

    (void)easy;
    (void)socketp;
    if (what == CURL_POLL_REMOVE) {
        /* The poll handle stays as it is: the next transfer on this
         * connection most likely wants the same events again. */
        if (s != NULL)
            s->wanted = 0;
        return 0;
    }
    if (s == NULL && (s = socket_new(cl, fd)) == NULL)
        return -1;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= UV_WRITABLE;
    s->wanted = events;
    set_events(s, events);
    return 0;
}

/* curl closes a socket: forget it first (libuv must not poll a closed fd). */
static int on_curl_close_socket(void *clientp, curl_socket_t fd)
{
    pl_curl_loop *cl = clientp;
    sock_ctx *s = socket_of(cl, fd);

    if (s != NULL)
        close_socket(cl, s);
    return close(fd);
}

static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    pl_curl_loop *cl = userp;

    (void)multi;
    if (timeout_ms < 0)
        uv_timer_stop(&cl->timer);
    else
        /* 0 means "as soon as possible": the next loop iteration. */
        uv_timer_start(&cl->timer, on_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

int pl_curl_loop_new(uv_loop_t *loop, pl_curl_loop **out)
{
    pl_curl_loop *cl = calloc(1, sizeof(*cl));

    *out = NULL;
    if (cl == NULL)
        return PL_ENOMEM;
    cl->loop = loop;
    cl->multi = curl_multi_init();
    if (cl->multi == NULL) {
        free(cl);
        return PL_ECURL;
    }
    uv_timer_init(loop, &cl->timer);
    cl->timer.data = cl;
    curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
    curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
    *out = cl;
    return 0;
}

CURLM *pl_curl_loop_multi(pl_curl_loop *cl) { return cl->multi; }

unsigned pl_curl_loop_active(const pl_curl_loop *cl) { return cl->active; }

int pl_curl_loop_add(pl_curl_loop *cl, CURL *easy, pl_curl_done_cb cb,
                     void *arg)
{
    transfer *t;

    if (cl->closing)
        return PL_ESTATE;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return PL_ENOMEM;
    t->easy = easy;
    t->cb = cb;
    t->arg = arg;
    curl_easy_setopt(easy, CURLOPT_PRIVATE, (char *)t);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, on_curl_close_socket);
    curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, cl);
    if (curl_multi_add_handle(cl->multi, easy) != CURLM_OK) {
        curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
        free(t);
        return PL_ECURL;
    }
    t->next = cl->transfers;
    if (cl->transfers)
        cl->transfers->prev = t;
    cl->transfers = t;
    cl->active++;
    return 0;
}

int pl_curl_loop_cancel(pl_curl_loop *cl, CURL *easy)
{
    transfer *t = NULL;

    curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&t);
    if (t == NULL || t->easy != easy)
        return PL_ENOENT;
    curl_multi_remove_handle(cl->multi, easy);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
    unlink_transfer(cl, t);
    free(t);
    return 0;
}

void pl_curl_loop_kick(pl_curl_loop *cl)
{
    /* A zero timeout makes curl re-check every transfer's state. */
    uv_timer_start(&cl->timer, on_timer, 0, 0);
}

void pl_curl_loop_close(pl_curl_loop *cl, void (*closed)(void *arg),
                        void *arg)
{
    while (cl->transfers != NULL) {
        transfer *t = cl->transfers;
        curl_multi_remove_handle(cl->multi, t->easy);
        curl_easy_setopt(t->easy, CURLOPT_PRIVATE, NULL);
        unlink_transfer(cl, t);
        free(t);
    }
    cl->closing = 1;
    cl->closed = closed;
    cl->closed_arg = arg;
    /* Cleaning up the multi handle closes its sockets (on_curl_close_socket). */
    curl_multi_cleanup(cl->multi);
    cl->multi = NULL;
    while (cl->sockets != NULL)
        close_socket(cl, cl->sockets);
    uv_timer_stop(&cl->timer);
    cl->pending_closes++;
    uv_close((uv_handle_t *)&cl->timer, on_handle_closed);
}
