/*
 * The Apertium provider's processes: the list of installed modes (`apertium
 * -l`, read once when the engine starts), and one long-running pipeline per
 * mode in null-flush mode, fed segment after segment through pipes on the
 * worker's loop. A pipeline that stops answering within the timeout is
 * killed and restarted; one that dies is restarted and its segments sent
 * again. Text conversion lives in apertium_text.c.
 */
#include "translate_internal.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Runs a mode's pipeline with -z on every program, like `apertium -z`, but
 * without the wrapper's gawk stage, which holds answers back until more
 * input arrives. $1 the mode file, $2 the folder of the apertium tools;
 * "-n" is the generator's option for unmarked unknown words (apertium -u). */
static const char pipeline_script[] =
    "PATH=\"$2:$PATH\"; m=$1; set -- -n ''; "
    "eval \"$(apertium-wblank-mode -z \"$m\")\"";

#define MAX_DEAD_STARTS 3 /* pipelines that exit without one answer */

typedef struct ap_item ap_item;
typedef struct ap_pipe ap_pipe;

enum { CALL_WAITING = 0, CALL_RUNNING, CALL_READY };

struct pl__ap_call {
    pl__apertium *ap;
    pl__ap_call *next;   /* in ap->waiting or ap->ready */
    pl__ap_cb cb;
    void *arg;
    pl_arena arena;
    char *src, *target;
    size_t n, left;
    pl__ap_text *sent;
    char **answers;      /* raw answers of the last leg */
    ap_item **items;     /* the live item of each segment */
    pl__ap_plan plan;
    char modes[160];
    int64_t timeout;
    int state;
    int status;
    const char *reason;
    char message[768];
};

struct ap_item {
    ap_item *next;
    pl__ap_call *call; /* NULL once the call is gone */
    size_t index;
    unsigned leg;
    char *data;        /* the stream text and its NUL */
    size_t len;
    uv_write_t wr;
    int writing;       /* the write request is still owned by libuv */
    int dead;          /* answered or dropped; freed once not writing */
    unsigned resends;
    uint64_t deadline;
};

struct ap_pipe {
    pl__apertium *ap;
    ap_pipe *next;
    char mode[64];
    uv_process_t proc;
    uv_pipe_t in, out;
    uv_timer_t timer;
    int pid;
    int running;       /* spawned and not known dead */
    int exited;        /* the exit callback ran */
    int timed_out;     /* we killed it: the head item already failed */
    unsigned open;     /* handles of this run not closed yet */
    unsigned answered; /* answers since this run started */
    unsigned dead_starts;
    unsigned inflight;
    unsigned pending;
    ap_item *pend_head, *pend_tail;
    ap_item *fly_head, *fly_tail;
    char *buf;
    size_t len, cap;
    char rbuf[16384];
};

struct pl__apertium {
    uv_loop_t *loop;
    const pl_translate_provider_config *cfg;
    pl_translate_provider_stats *st;
    int state; /* 0 listing, 1 ready, -1 failed */
    char failure[512];
    pl__ap_mode *modes;
    size_t nmodes;
    char bindir[PATH_MAX];
    char datadir[PATH_MAX];
    uv_process_t lister;
    uv_pipe_t lister_out;
    char *listing;
    size_t listing_len;
    int lister_exited, lister_eof;
    int64_t lister_status;
    pl__ap_call *waiting, *ready;
    uv_timer_t kick;
    ap_pipe *pipes;
    unsigned handles;
    int opened;
    int closing;
    void (*closed)(void *);
    void *closed_arg;
};

static void pump(ap_pipe *p);
static void free_items(ap_item *it);
static void dispatch(pl__ap_call *c);
static void on_kick(uv_timer_t *t);
static void on_timeout(uv_timer_t *t);
static void dispatch_item(pl__apertium *ap, const char *mode, ap_item *it);

static void maybe_free(pl__apertium *ap)
{
    if (!ap->closing || ap->handles != 0)
        return;
    while (ap->pipes != NULL) {
        ap_pipe *p = ap->pipes;
        ap->pipes = p->next;
        free_items(p->pend_head);
        free_items(p->fly_head);
        free(p->buf);
        free(p);
    }
    free(ap->modes);
    free(ap->listing);
    if (ap->closed != NULL)
        ap->closed(ap->closed_arg);
    free(ap);
}

static void handle_closed(uv_handle_t *h)
{
    pl__apertium *ap = h->data;

    ap->handles--;
    maybe_free(ap);
}

static void pipe_timer_closed(uv_handle_t *h)
{
    ap_pipe *p = h->data;

    p->ap->handles--;
    maybe_free(p->ap);
}

/* ---- calls */

static void item_release(ap_item *it)
{
    it->dead = 1;
    it->call = NULL;
    if (!it->writing) {
        free(it->data);
        free(it);
    }
}

/* Detaches the call from its items; pending ones are dropped at once. */
static void orphan_items(pl__ap_call *c)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->items[i] != NULL) {
            c->items[i]->call = NULL;
            c->items[i] = NULL;
        }
}

static void call_ready(pl__ap_call *c)
{
    pl__apertium *ap = c->ap;

    orphan_items(c);
    c->state = CALL_READY;
    c->next = ap->ready;
    ap->ready = c;
    if (!ap->closing)
        uv_timer_start(&ap->kick, on_kick, 0, 0);
}

static void call_fail(pl__ap_call *c, int status, const char *reason,
                      const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void call_fail(pl__ap_call *c, int status, const char *reason,
                      const char *fmt, ...)
{
    va_list ap;

    if (c->state == CALL_READY)
        return;
    c->status = status;
    c->reason = reason;
    va_start(ap, fmt);
    vsnprintf(c->message, sizeof(c->message), fmt, ap);
    va_end(ap);
    call_ready(c);
}

static void call_free(pl__ap_call *c)
{
    pl_arena_free(&c->arena);
    free(c);
}

static void unlink_call(pl__ap_call **list, pl__ap_call *c)
{
    for (pl__ap_call **pp = list; *pp != NULL; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            return;
        }
}

/* Completes the calls that are ready, from the loop. */
static void on_kick(uv_timer_t *t)
{
    pl__apertium *ap = t->data;

    while (ap->ready != NULL) {
        pl__ap_call *c = ap->ready;
        const char **texts = NULL;
        pl_error err;

        ap->ready = c->next;
        pl_error_clear(&err);
        if (c->status == 0 &&
            (texts = pl_arena_calloc(&c->arena, c->n, sizeof(char *))) == NULL) {
            c->status = PL_ENOMEM;
            c->reason = "internal";
            snprintf(c->message, sizeof(c->message), "out of memory");
        }
        for (size_t i = 0; c->status == 0 && i < c->n; i++) {
            char *out;
            if (pl__ap_reformat(&c->arena, c->answers[i], strlen(c->answers[i]),
                                &c->sent[i], &out, &err) != 0) {
                c->status = err.code;
                c->reason = "invalid_output";
                snprintf(c->message, sizeof(c->message), "%s (mode %s)", err.message,
                         c->modes);
            }
            texts[i] = out;
        }
        c->cb(c->status, c->reason, c->status ? c->message : NULL,
              c->status == 0 ? texts : NULL, c->modes,
              c->plan.nlegs == 2 ? c->plan.pivot : "", c->arg);
        call_free(c);
    }
}

/* ---- pipelines */

static void queue_push(ap_item **head, ap_item **tail, ap_item *it)
{
    it->next = NULL;
    if (*tail)
        (*tail)->next = it;
    else
        *head = it;
    *tail = it;
}

static ap_item *queue_pop(ap_item **head, ap_item **tail)
{
    ap_item *it = *head;

    if (it != NULL) {
        *head = it->next;
        if (*head == NULL)
            *tail = NULL;
        it->next = NULL;
    }
    return it;
}

static void arm_timer(ap_pipe *p)
{
    uint64_t now = uv_now(p->ap->loop);

    if (p->fly_head == NULL) {
        uv_timer_stop(&p->timer);
        return;
    }
    /* The pipeline answers in order: the head's clock starts when it
     * becomes the head. */
    if (p->fly_head->deadline == 0) {
        pl__ap_call *c = p->fly_head->call;
        p->fly_head->deadline = now + (uint64_t)(c ? c->timeout : p->ap->cfg->timeout);
    }
    uv_timer_start(&p->timer, on_timeout,
                   p->fly_head->deadline > now ? p->fly_head->deadline - now : 0, 0);
}

static void pipe_handle_closed(uv_handle_t *h)
{
    ap_pipe *p = h->data;
    pl__apertium *ap = p->ap;

    p->open--;
    ap->handles--;
    if (p->open == 0 && !ap->closing && p->pend_head != NULL)
        pump(p); /* restart with what is waiting */
    maybe_free(ap);
}

static void kill_group(ap_pipe *p)
{
    /* The pipeline runs in its own process group (UV_PROCESS_DETACHED):
     * every stage goes, not only the shell. */
    if (p->pid > 0)
        kill(-p->pid, SIGKILL);
}

/* The pipeline is dead or must die: stop it, put back or fail its work. */
static void pipe_down(ap_pipe *p, const char *why)
{
    ap_item *it, *back_head = NULL, *back_tail = NULL;
    int blamed = 0;

    if (!p->running)
        return;
    p->running = 0;
    kill_group(p);
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->in, pipe_handle_closed);
    uv_close((uv_handle_t *)&p->out, pipe_handle_closed);
    if (p->exited)
        uv_close((uv_handle_t *)&p->proc, pipe_handle_closed);
    p->len = 0;
    if (p->answered == 0 && !p->timed_out)
        p->dead_starts++;
    else
        p->dead_starts = 0;
    if (!p->ap->closing)
        p->ap->st->restarts++;
    if (!p->ap->closing)
        pl_log_warn("apertium: pipeline %s (pid %d) %s; restarting it", p->mode,
                    p->pid, why);
    /* The head was being translated when it died: it may be the cause. */
    while ((it = queue_pop(&p->fly_head, &p->fly_tail)) != NULL) {
        p->inflight--;
        if (it->call == NULL) {
            item_release(it);
            continue;
        }
        if (!blamed && !p->timed_out && ++it->resends > (unsigned)p->ap->cfg->retries) {
            call_fail(it->call, PL_ETRANSLATE, "upstream_error",
                      "the Apertium pipeline %s %s while translating (%u tries)",
                      p->mode, why, it->resends);
            item_release(it);
            blamed = 1;
            continue;
        }
        blamed = 1;
        it->deadline = 0;
        queue_push(&back_head, &back_tail, it);
    }
    /* Put them back in front of what was waiting, in order. */
    if (back_head != NULL) {
        back_tail->next = p->pend_head;
        if (p->pend_tail == NULL)
            p->pend_tail = back_tail;
        p->pend_head = back_head;
        for (it = back_head; it != NULL && it != back_tail->next; it = it->next)
            p->pending++;
    }
    p->timed_out = 0;
    if (p->dead_starts >= MAX_DEAD_STARTS) {
        while ((it = queue_pop(&p->pend_head, &p->pend_tail)) != NULL) {
            p->pending--;
            if (it->call != NULL)
                call_fail(it->call, PL_ETRANSLATE, "unavailable",
                          "the Apertium pipeline %s exits at once (%s); is the "
                          "pair installed correctly?",
                          p->mode, why);
            item_release(it);
        }
        p->dead_starts = 0;
    }
}

static void on_exit_cb(uv_process_t *proc, int64_t status, int sig)
{
    ap_pipe *p = proc->data;
    char why[64];

    p->exited = 1;
    if (sig != 0)
        snprintf(why, sizeof(why), "was killed by signal %d", sig);
    else
        snprintf(why, sizeof(why), "exited with status %lld", (long long)status);
    if (p->running)
        pipe_down(p, why);
    else
        uv_close((uv_handle_t *)&p->proc, pipe_handle_closed);
}


static void on_timeout(uv_timer_t *t)
{
    ap_pipe *p = t->data;
    ap_item *it = p->fly_head;
    char why[96];

    if (it == NULL)
        return;
    if (it->deadline > uv_now(p->ap->loop)) {
        arm_timer(p);
        return;
    }
    /* Stuck: the head fails (it may be what hangs it), the rest is resent. */
    queue_pop(&p->fly_head, &p->fly_tail);
    p->inflight--;
    if (it->call != NULL) {
        p->ap->st->fail_timeout++;
        call_fail(it->call, PL_ETIMEDOUT, "timeout",
                  "the Apertium pipeline %s did not answer within %lld ms; it was "
                  "restarted",
                  p->mode, (long long)it->call->timeout);
    }
    item_release(it);
    p->timed_out = 1;
    snprintf(why, sizeof(why), "did not answer in time");
    pipe_down(p, why);
}

/* One answer (up to its NUL) for the head item. */
static void answered(ap_pipe *p, const char *text, size_t len)
{
    ap_item *it = queue_pop(&p->fly_head, &p->fly_tail);
    pl__ap_call *c;

    if (it == NULL)
        return; /* a NUL nobody waits for: pipelines flush extra ones at exit */
    p->inflight--;
    p->answered++;
    p->dead_starts = 0;
    c = it->call;
    if (c != NULL) {
        c->items[it->index] = NULL;
        if (it->leg + 1 < c->plan.nlegs) {
            /* The pivot's answer, still in stream format, feeds the next leg. */
            ap_item *next = calloc(1, sizeof(*next));
            char *data = malloc(len + 1);
            if (next == NULL || data == NULL) {
                free(next);
                free(data);
                call_fail(c, PL_ENOMEM, "internal", "out of memory");
            } else {
                memcpy(data, text, len);
                data[len] = '\0';
                next->call = c;
                next->index = it->index;
                next->leg = it->leg + 1;
                next->data = data;
                next->len = len + 1;
                c->items[it->index] = next;
                dispatch_item(c->ap, c->plan.legs[next->leg]->name, next);
            }
        } else {
            c->answers[it->index] = pl_arena_strndup(&c->arena, text, len);
            if (c->answers[it->index] == NULL)
                call_fail(c, PL_ENOMEM, "internal", "out of memory");
            else if (--c->left == 0)
                call_ready(c);
        }
    }
    item_release(it);
    arm_timer(p);
    pump(p);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    ap_pipe *p = h->data;

    (void)suggested;
    buf->base = p->rbuf;
    buf->len = sizeof(p->rbuf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    ap_pipe *p = s->data;
    size_t start = 0;

    if (n < 0) {
        pipe_down(p, n == UV_EOF ? "closed its output" : "failed to read");
        return;
    }
    if (n == 0 || !p->running)
        return;
    if (p->len + (size_t)n > PL__AP_MAX_OUTPUT) {
        pipe_down(p, "answered more than the limit");
        return;
    }
    if (p->len + (size_t)n > p->cap) {
        size_t cap = p->cap ? p->cap : 4096;
        char *g;
        while (cap < p->len + (size_t)n)
            cap *= 2;
        if ((g = realloc(p->buf, cap)) == NULL) {
            pipe_down(p, "ran out of memory");
            return;
        }
        p->buf = g;
        p->cap = cap;
    }
    memcpy(p->buf + p->len, buf->base, (size_t)n);
    p->len += (size_t)n;
    for (size_t i = 0; i < p->len && p->running; i++)
        if (p->buf[i] == '\0') {
            answered(p, p->buf + start, i - start);
            start = i + 1;
        }
    if (!p->running)
        return;
    memmove(p->buf, p->buf + start, p->len - start);
    p->len -= start;
}

static void on_write(uv_write_t *req, int status)
{
    ap_item *it = req->data;
    ap_pipe *p = (ap_pipe *)req->handle->data;

    it->writing = 0;
    if (it->dead) {
        item_release(it);
    }
    if (status < 0 && status != UV_ECANCELED && p->running)
        pipe_down(p, "stopped reading its input");
}

static int spawn(ap_pipe *p)
{
    pl__apertium *ap = p->ap;
    char modefile[PATH_MAX + 80];
    char *args[7];
    uv_process_options_t o = {0};
    uv_stdio_container_t stdio[3];
    int rc;

    snprintf(modefile, sizeof(modefile), "%s/modes/%s.mode", ap->datadir, p->mode);
    args[0] = "sh";
    args[1] = "-c";
    args[2] = (char *)pipeline_script;
    args[3] = "sh";
    args[4] = modefile;
    args[5] = ap->bindir;
    args[6] = NULL;
    uv_pipe_init(ap->loop, &p->in, 0);
    uv_pipe_init(ap->loop, &p->out, 0);
    p->in.data = p->out.data = p->proc.data = p;
    stdio[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
    stdio[0].data.stream = (uv_stream_t *)&p->in;
    stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[1].data.stream = (uv_stream_t *)&p->out;
    stdio[2].flags = UV_IGNORE;
    o.exit_cb = on_exit_cb;
    o.file = "sh";
    o.args = args;
    o.flags = UV_PROCESS_DETACHED;
    o.stdio_count = 3;
    o.stdio = stdio;
    p->open = 3;
    ap->handles += 3;
    p->exited = 0;
    p->answered = 0;
    p->len = 0;
    rc = uv_spawn(ap->loop, &p->proc, &o);
    if (rc != 0) {
        uv_close((uv_handle_t *)&p->in, pipe_handle_closed);
        uv_close((uv_handle_t *)&p->out, pipe_handle_closed);
        uv_close((uv_handle_t *)&p->proc, pipe_handle_closed);
        return rc;
    }
    p->pid = p->proc.pid;
    p->running = 1;
    uv_read_start((uv_stream_t *)&p->out, on_alloc, on_read);
    pl_log_info("apertium: pipeline %s started (pid %d)", p->mode, p->pid);
    return 0;
}

/* Starts the pipeline when needed and writes what fits in its window. */
static void pump(ap_pipe *p)
{
    pl__apertium *ap = p->ap;
    ap_item *it;

    if (ap->closing)
        return;
    /* Drop what nobody waits for any more. */
    while (p->pend_head != NULL && p->pend_head->call == NULL && !p->pend_head->writing) {
        p->pending--;
        item_release(queue_pop(&p->pend_head, &p->pend_tail));
    }
    if (p->pend_head == NULL)
        return;
    if (!p->running) {
        int rc;
        if (p->open != 0)
            return; /* the last run is still closing; its close restarts */
        if ((rc = spawn(p)) != 0) {
            while ((it = queue_pop(&p->pend_head, &p->pend_tail)) != NULL) {
                p->pending--;
                if (it->call != NULL)
                    call_fail(it->call, PL_ETRANSLATE, "unavailable",
                              "cannot start the Apertium pipeline %s: %s", p->mode,
                              uv_strerror(rc));
                item_release(it);
            }
            return;
        }
    }
    while (p->pend_head != NULL && p->inflight < (unsigned)ap->cfg->concurrency) {
        uv_buf_t b;
        int rc;
        it = queue_pop(&p->pend_head, &p->pend_tail);
        p->pending--;
        if (it->call == NULL) {
            item_release(it);
            continue;
        }
        b = uv_buf_init(it->data, (unsigned)it->len);
        it->wr.data = it;
        it->deadline = 0;
        rc = uv_write(&it->wr, (uv_stream_t *)&p->in, &b, 1, on_write);
        if (rc != 0) {
            queue_push(&p->pend_head, &p->pend_tail, it);
            p->pending++;
            pipe_down(p, "refused input");
            return;
        }
        it->writing = 1;
        queue_push(&p->fly_head, &p->fly_tail, it);
        p->inflight++;
    }
    arm_timer(p);
}

static ap_pipe *pipe_for(pl__apertium *ap, const char *mode)
{
    ap_pipe *p;

    for (p = ap->pipes; p != NULL; p = p->next)
        if (strcmp(p->mode, mode) == 0)
            return p;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->ap = ap;
    snprintf(p->mode, sizeof(p->mode), "%s", mode);
    uv_timer_init(ap->loop, &p->timer);
    p->timer.data = p;
    ap->handles++; /* the timer, closed with the provider */
    p->next = ap->pipes;
    ap->pipes = p;
    return p;
}

static void dispatch_item(pl__apertium *ap, const char *mode, ap_item *it)
{
    ap_pipe *p = pipe_for(ap, mode);

    if (p == NULL) {
        call_fail(it->call, PL_ENOMEM, "internal", "out of memory");
        item_release(it);
        return;
    }
    if (p->pending >= (unsigned)ap->cfg->queue) {
        ap->st->fail_overload++;
        call_fail(it->call, PL_EBUSY, "overloaded",
                  "the Apertium pipeline %s has %u segments waiting", mode, p->pending);
        item_release(it);
        return;
    }
    queue_push(&p->pend_head, &p->pend_tail, it);
    p->pending++;
    pump(p);
}

/* ---- the list of modes */

static void dispatch_waiting(pl__apertium *ap)
{
    while (ap->waiting != NULL) {
        pl__ap_call *c = ap->waiting;
        ap->waiting = c->next;
        dispatch(c);
    }
}

static void lister_done(pl__apertium *ap)
{
    if (!ap->lister_exited || !ap->lister_eof || ap->state != 0)
        return;
    if (ap->lister_status != 0) {
        ap->state = -1;
        snprintf(ap->failure, sizeof(ap->failure),
                 "'%s -l' exited with status %lld", ap->cfg->command,
                 (long long)ap->lister_status);
    } else {
        ap->modes = calloc(PL__AP_MAX_MODES, sizeof(pl__ap_mode));
        if (ap->modes == NULL) {
            ap->state = -1;
            snprintf(ap->failure, sizeof(ap->failure), "out of memory");
        } else {
            ap->nmodes = pl__ap_parse_modes(ap->listing ? ap->listing : "", ap->modes,
                                            PL__AP_MAX_MODES);
            ap->state = 1;
            pl_log_info("apertium: %zu modes installed", ap->nmodes);
        }
    }
    if (!ap->closing)
        dispatch_waiting(ap);
}

static void on_lister_exit(uv_process_t *proc, int64_t status, int sig)
{
    pl__apertium *ap = proc->data;

    ap->lister_exited = 1;
    ap->lister_status = sig ? 128 + sig : status;
    uv_close((uv_handle_t *)proc, handle_closed);
    lister_done(ap);
}

static void on_lister_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    pl__apertium *ap = h->data;
    size_t room = 4096;
    char *g;

    (void)suggested;
    buf->base = NULL;
    buf->len = 0;
    if (ap->listing_len + room + 1 > PL__AP_MAX_LISTING)
        return;
    g = realloc(ap->listing, ap->listing_len + room + 1);
    if (g == NULL)
        return;
    ap->listing = g;
    buf->base = g + ap->listing_len;
    buf->len = room;
}

static void on_lister_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    pl__apertium *ap = s->data;

    (void)buf;
    if (n > 0) {
        ap->listing_len += (size_t)n;
        ap->listing[ap->listing_len] = '\0';
        return;
    }
    if (n < 0) {
        if (n == UV_ENOBUFS)
            ap->lister_status = ap->lister_status ? ap->lister_status : 1;
        ap->lister_eof = 1;
        uv_close((uv_handle_t *)s, handle_closed);
        lister_done(ap);
    }
}

static void start_lister(pl__apertium *ap)
{
    char *args[5];
    int n = 0, rc;
    uv_process_options_t o = {0};
    uv_stdio_container_t stdio[3];

    args[n++] = (char *)ap->cfg->command;
    if (ap->cfg->data_dir != NULL) {
        args[n++] = "-d";
        args[n++] = (char *)ap->cfg->data_dir;
    }
    args[n++] = "-l";
    args[n] = NULL;
    uv_pipe_init(ap->loop, &ap->lister_out, 0);
    ap->lister_out.data = ap->lister.data = ap;
    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
    stdio[1].data.stream = (uv_stream_t *)&ap->lister_out;
    stdio[2].flags = UV_IGNORE;
    o.exit_cb = on_lister_exit;
    o.file = ap->cfg->command;
    o.args = args;
    o.stdio_count = 3;
    o.stdio = stdio;
    ap->handles += 2;
    rc = uv_spawn(ap->loop, &ap->lister, &o);
    if (rc != 0) {
        uv_close((uv_handle_t *)&ap->lister, handle_closed);
        uv_close((uv_handle_t *)&ap->lister_out, handle_closed);
        ap->state = -1;
        snprintf(ap->failure, sizeof(ap->failure),
                 "cannot run '%s' (%s); install the Debian package apertium and "
                 "a pair such as apertium-eng-spa",
                 ap->cfg->command, uv_strerror(rc));
        return;
    }
    uv_read_start((uv_stream_t *)&ap->lister_out, on_lister_alloc, on_lister_read);
}

/* Where the tools and the pairs' data are: beside the program found on
 * PATH, as the apertium script itself assumes. */
static void locate(pl__apertium *ap)
{
    const char *cmd = ap->cfg->command, *path = getenv("PATH"), *env;
    char found[PATH_MAX] = "", real[PATH_MAX];

    if (strchr(cmd, '/') != NULL) {
        snprintf(found, sizeof(found), "%s", cmd);
    } else {
        while (path != NULL && *path != '\0') {
            size_t len = strcspn(path, ":");
            char cand[PATH_MAX];
            snprintf(cand, sizeof(cand), "%.*s/%s", (int)len, len ? path : ".", cmd);
            if (access(cand, X_OK) == 0) {
                snprintf(found, sizeof(found), "%s", cand);
                break;
            }
            path += len;
            if (*path == ':')
                path++;
        }
    }
    if (found[0] != '\0' && realpath(found, real) != NULL) {
        char *slash = strrchr(real, '/');
        if (slash != NULL) {
            *slash = '\0';
            snprintf(ap->bindir, sizeof(ap->bindir), "%s", real);
        }
    }
    if (ap->cfg->data_dir != NULL) {
        snprintf(ap->datadir, sizeof(ap->datadir), "%s", ap->cfg->data_dir);
    } else if ((env = getenv("APERTIUM_DATADIR")) != NULL && env[0] != '\0') {
        snprintf(ap->datadir, sizeof(ap->datadir), "%s", env);
    } else if (ap->bindir[0] != '\0') {
        /* bin/ -> share/apertium beside it */
        const char *slash = strrchr(ap->bindir, '/');
        int len = slash ? (int)(slash - ap->bindir) : 0;
        if (len < (int)sizeof(ap->datadir) - 16)
            snprintf(ap->datadir, sizeof(ap->datadir), "%.*s/share/apertium", len,
                     ap->bindir);
    }
}

/* ---- calls in and out */

static void list_modes(const pl__apertium *ap, char *buf, size_t size)
{
    size_t len = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < ap->nmodes && len + 1 < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? ", " : "",
                                ap->modes[i].name);
    if (ap->nmodes == 0)
        snprintf(buf, size, "none");
}

static void dispatch(pl__ap_call *c)
{
    pl__apertium *ap = c->ap;
    char installed[400];
    char src[4] = "", tgt[4] = "";

    c->state = CALL_RUNNING;
    if (ap->state < 0) {
        call_fail(c, PL_ETRANSLATE, "unavailable", "%s", ap->failure);
        return;
    }
    if (c->src == NULL || pl__ap_lang(c->src, src) == NULL) {
        call_fail(c, PL_ETRANSLATE, "no_pair",
                  "Apertium needs the source language (translating into %s); give "
                  "it (--from) or let the detector find it",
                  c->target);
        return;
    }
    pl__ap_lang(c->target, tgt);
    if (pl__ap_plan_pair(ap->modes, ap->nmodes, c->src, c->target, ap->cfg->pivot,
                         &c->plan) != 0) {
        list_modes(ap, installed, sizeof(installed));
        call_fail(c, PL_ETRANSLATE, "no_pair",
                  "no Apertium mode translates %s into %s (%s-%s)%s%s; installed "
                  "modes: %s; add a pair with its Debian package apertium-LANG-LANG",
                  src, c->target, src, tgt[0] ? tgt : c->target,
                  ap->cfg->pivot && ap->cfg->pivot[0] ? ", not even through " : "",
                  ap->cfg->pivot && ap->cfg->pivot[0] ? ap->cfg->pivot : "", installed);
        return;
    }
    snprintf(c->modes, sizeof(c->modes), "%s%s%s", c->plan.legs[0]->name,
             c->plan.nlegs == 2 ? "+" : "",
             c->plan.nlegs == 2 ? c->plan.legs[1]->name : "");
    for (size_t i = 0; i < c->n && c->state == CALL_RUNNING; i++) {
        ap_item *it = calloc(1, sizeof(*it));
        size_t len = strlen(c->sent[i].stream);
        char *data = malloc(len + 1);
        if (it == NULL || data == NULL) {
            free(it);
            free(data);
            call_fail(c, PL_ENOMEM, "internal", "out of memory");
            return;
        }
        memcpy(data, c->sent[i].stream, len + 1);
        it->call = c;
        it->index = i;
        it->data = data;
        it->len = len + 1; /* the NUL flushes the pipeline */
        c->items[i] = it;
        dispatch_item(ap, c->plan.legs[0]->name, it);
    }
}

int pl__apertium_new(uv_loop_t *loop, const pl_translate_provider_config *cfg,
                     pl_translate_provider_stats *st, pl__apertium **out,
                     pl_error *err)
{
    pl__apertium *ap = calloc(1, sizeof(*ap));

    *out = NULL;
    if (ap == NULL)
        return pl_error_set(err, PL_ENOMEM, "out of memory");
    ap->loop = loop;
    ap->cfg = cfg;
    ap->st = st;
    locate(ap);
    *out = ap;
    return 0;
}

void pl__apertium_open(pl__apertium *ap)
{
    uv_timer_init(ap->loop, &ap->kick);
    ap->kick.data = ap;
    ap->handles = 1;
    ap->opened = 1;
    start_lister(ap);
}

int pl__apertium_start(pl__apertium *ap, const char *src, const char *target,
                       const char *const *texts, size_t n, int64_t timeout_ms,
                       pl__ap_cb cb, void *arg, pl__ap_call **out)
{
    pl__ap_call *c = calloc(1, sizeof(*c));
    int rc = 0;

    *out = NULL;
    if (c == NULL)
        return PL_ENOMEM;
    c->ap = ap;
    c->cb = cb;
    c->arg = arg;
    c->n = c->left = n;
    c->timeout = timeout_ms;
    pl_arena_init(&c->arena, PL_TRANSLATE_JOB_ARENA);
    c->src = src && src[0] ? pl_arena_strdup(&c->arena, src) : NULL;
    c->target = pl_arena_strdup(&c->arena, target);
    c->sent = pl_arena_calloc(&c->arena, n, sizeof(*c->sent));
    c->answers = pl_arena_calloc(&c->arena, n, sizeof(char *));
    c->items = pl_arena_calloc(&c->arena, n, sizeof(ap_item *));
    if (c->target == NULL || c->sent == NULL || c->answers == NULL || c->items == NULL)
        rc = PL_ENOMEM;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = pl__ap_deformat(&c->arena, texts[i], &c->sent[i]);
    if (rc != 0) {
        call_free(c);
        return rc;
    }
    *out = c;
    if (ap->state == 0) {
        c->next = ap->waiting; /* until the modes are known */
        ap->waiting = c;
    } else {
        dispatch(c);
    }
    return 0;
}

void pl__apertium_cancel(pl__ap_call *c)
{
    pl__apertium *ap = c->ap;

    if (c->state == CALL_WAITING)
        unlink_call(&ap->waiting, c);
    else if (c->state == CALL_READY)
        unlink_call(&ap->ready, c);
    orphan_items(c);
    call_free(c);
}

static void free_items(ap_item *it)
{
    while (it != NULL) {
        ap_item *next = it->next;
        free(it->data);
        free(it);
        it = next;
    }
}

void pl__apertium_close(pl__apertium *ap, void (*closed)(void *), void *arg)
{
    ap->closing = 1;
    ap->closed = closed;
    ap->closed_arg = arg;
    if (!ap->opened) {
        maybe_free(ap);
        return;
    }
    while (ap->waiting != NULL) {
        pl__ap_call *c = ap->waiting;
        ap->waiting = c->next;
        orphan_items(c);
        call_free(c);
    }
    while (ap->ready != NULL) {
        pl__ap_call *c = ap->ready;
        ap->ready = c->next;
        call_free(c);
    }
    if (ap->state == 0 && !ap->lister_exited && ap->lister.pid > 0)
        kill(ap->lister.pid, SIGKILL);
    for (ap_pipe *p = ap->pipes; p != NULL; p = p->next) {
        pipe_down(p, "is shut down");
        for (ap_item *it = p->pend_head; it != NULL; it = it->next)
            it->call = NULL;
        uv_close((uv_handle_t *)&p->timer, pipe_timer_closed);
    }
    uv_close((uv_handle_t *)&ap->kick, handle_closed);
    maybe_free(ap);
}
