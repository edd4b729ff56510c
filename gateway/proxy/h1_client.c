/*
 * Parley's own HTTP/1.1 client for plain http:// upstreams: per-worker
 * pools of keep-alive connections on the worker's libuv loop, one request
 * per connection at a time, the request written with one write call
 * whenever possible, the response parsed in place (h1_response.c) and
 * streamed to the client with back-pressure. TLS and HTTP/2 upstreams stay
 * with libcurl (upstream.c). Why a second client: docs/decisions.md.
 */
#include "upstream_internal.h"

#include "parley/error.h"
#include "parley/log.h"
#include "parley/runtime.h"

#include "parley/h1_response.h"

#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define H1_IDLE_MAX 512         /* idle connections kept per upstream */
#define H1_OUT_MAX 65536        /* request body bytes gathered per write */
#define H1_READ_SIZE 65536      /* bytes read per call */

typedef struct pl_h1_pool pl_h1_pool;

struct pl_h1_pool {
    pl_h1_pool *next;
    char *authority; /* "host[:port]" as written in the URL */
    size_t authority_len;
    char host[256], port[8];
    struct sockaddr_storage addr; /* when `host` is an IP literal */
    int numeric;
    pl_h1_conn *idle; /* most recently used first */
    unsigned nidle;
};

struct pl_h1_client {
    pl_proxy_worker *pw;
    pl_h1_pool *pools;
    pl_h1_conn *conns; /* every connection not yet closing */
    unsigned open;     /* connections whose handle is not closed yet */
    int closing;
    void (*closed)(pl_proxy_worker *pw);
    /* Reads land here and are parsed before the next read: one per worker. */
    char rbuf[H1_READ_SIZE];
};

enum { C_RESOLVING, C_CONNECTING, C_READY, C_CLOSING };

struct pl_h1_conn {
    uv_tcp_t tcp;
    uv_connect_t connect;
    uv_getaddrinfo_t gai;
    uv_write_t wreq;
    pl_h1_client *cl;
    pl_h1_pool *pool;
    pl_h1_conn *prev, *next; /* cl->conns */
    pl_h1_conn *idle_next;   /* pool->idle */
    pl_upstream_xfer *x;     /* the request it carries, NULL when idle */
    pl_h1_resp resp;
    char *out; /* request bytes waiting for (or in) a write */
    size_t out_len, out_cap;
    uint64_t idle_since;
    int state;
    int idle;          /* in pool->idle */
    int writing;       /* a uv_write of `out` is in flight */
    int broken;        /* a write failed: never reuse */
    int reused;        /* served a request before this one */
    int chunked;       /* the request body goes out chunked */
    int req_finished;  /* the whole request is in `out` or written */
    int in_pump, pump_again;
};

static void conn_close(pl_h1_conn *c);
static void pump(pl_h1_conn *c);
static void start_on(pl_upstream_xfer *x, pl_h1_conn *c);
static const pl_h1_resp_callbacks response_callbacks;

int pl__h1_client_serves(const pl_upstream_config *up)
{
    return up->client == PL_UPSTREAM_CLIENT_AUTO &&
           up->protocol == PL_UPSTREAM_HTTP1 && strncasecmp(up->url, "http://", 7) == 0;
}

/* ---- ending a transfer ---- */

/* Answers the client with an upstream error and frees the transfer. */
static void xfer_error(pl_upstream_xfer *x, pl_upstream_error_kind kind,
                       int status, const char *code, const char *msg)
{
    uv_timer_stop(&x->timer);
    if (x->s != NULL)
        pl__xfer_fail(x, kind, status, code, msg);
    pl__xfer_release(x);
}

static void xfer_reset(pl_upstream_xfer *x)
{
    xfer_error(x, PL_UPERR_RESET, 502, "upstream_reset",
               "the upstream closed or reset the connection");
}

/* ---- the pools ---- */

int pl__h1_client_new(pl_proxy_worker *pw)
{
    pl_h1_client *cl = calloc(1, sizeof(*cl));

    if (cl == NULL)
        return PL_ENOMEM;
    cl->pw = pw;
    pw->h1 = cl;
    return 0;
}

static void client_free(pl_h1_client *cl)
{
    pl_proxy_worker *pw = cl->pw;
    void (*closed)(pl_proxy_worker *) = cl->closed;

    while (cl->pools != NULL) {
        pl_h1_pool *p = cl->pools;
        cl->pools = p->next;
        free(p->authority);
        free(p);
    }
    free(cl);
    if (closed != NULL)
        closed(pw);
}

void pl__h1_client_close(pl_proxy_worker *pw, void (*closed)(pl_proxy_worker *))
{
    pl_h1_client *cl = pw->h1;

    cl->closing = 1;
    cl->closed = closed;
    while (cl->conns != NULL)
        conn_close(cl->conns);
    if (cl->open == 0)
        client_free(cl);
}

/* The authority of an http:// URL and where its path starts. */
static const char *url_authority(const char *url, size_t *len)
{
    const char *a = url + 7; /* after "http://" */

    *len = strcspn(a, "/");
    return a;
}

static pl_h1_pool *pool_new(pl_h1_client *cl, const char *auth, size_t len)
{
    pl_h1_pool *p = calloc(1, sizeof(*p));
    const char *host = auth, *port = NULL;
    size_t hlen;

    if (p == NULL || (p->authority = malloc(len + 1)) == NULL) {
        free(p);
        return NULL;
    }
    memcpy(p->authority, auth, len);
    p->authority[len] = '\0';
    p->authority_len = len;
    if (len > 0 && auth[0] == '[') { /* [v6]:port */
        const char *end = memchr(auth, ']', len);
        host = auth + 1;
        hlen = end ? (size_t)(end - host) : len - 1;
        if (end != NULL && end + 1 < auth + len && end[1] == ':')
            port = end + 2;
    } else {
        const char *colon = memchr(auth, ':', len);
        hlen = colon ? (size_t)(colon - auth) : len;
        port = colon ? colon + 1 : NULL;
    }
    if (hlen >= sizeof(p->host))
        hlen = sizeof(p->host) - 1;
    memcpy(p->host, host, hlen);
    size_t plen = port ? (size_t)(auth + len - port) : 0;
    if (plen == 0 || plen >= sizeof(p->port))
        strcpy(p->port, "80");
    else
        memcpy(p->port, port, plen);
    int portnum = atoi(p->port);
    if (uv_ip4_addr(p->host, portnum, (struct sockaddr_in *)&p->addr) == 0 ||
        uv_ip6_addr(p->host, portnum, (struct sockaddr_in6 *)&p->addr) == 0)
        p->numeric = 1;
    p->next = cl->pools;
    cl->pools = p;
    return p;
}

static pl_h1_pool *pool_for(pl_h1_client *cl, const char *url)
{
    size_t len;
    const char *auth = url_authority(url, &len);

    for (pl_h1_pool *p = cl->pools; p != NULL; p = p->next)
        if (p->authority_len == len && memcmp(p->authority, auth, len) == 0)
            return p;
    return pool_new(cl, auth, len);
}

static void idle_remove(pl_h1_conn *c)
{
    pl_h1_conn **pp = &c->pool->idle;

    while (*pp != NULL && *pp != c)
        pp = &(*pp)->idle_next;
    if (*pp == c)
        *pp = c->idle_next;
    c->idle = 0;
    c->idle_next = NULL;
    c->pool->nidle--;
}

/*
 * A fresh idle connection of the pool, or NULL. Ones idle for longer than
 * `max_idle` ms are closed.
 */
static pl_h1_conn *pool_take(pl_h1_pool *p, uint64_t now, uint64_t max_idle)
{
    while (p->idle != NULL) {
        pl_h1_conn *c = p->idle;
        idle_remove(c); /* the head: no walk */
        if (now - c->idle_since <= max_idle)
            return c;
        conn_close(c);
    }
    return NULL;
}

static void pool_put(pl_h1_conn *c, uint64_t max_idle)
{
    pl_h1_pool *p = c->pool;

    if (c->cl->closing || p->nidle >= H1_IDLE_MAX || max_idle == 0) {
        conn_close(c);
        return;
    }
    c->reused = 1;
    c->idle = 1;
    c->idle_since = uv_now(c->cl->pw->loop);
    c->idle_next = p->idle;
    p->idle = c;
    p->nidle++;
}

/* ---- connection lifetime ---- */

static void conn_closed(uv_handle_t *h)
{
    pl_h1_conn *c = container_of((uv_tcp_t *)h, pl_h1_conn, tcp);
    pl_h1_client *cl = c->cl;

    free(c->out);
    pl_h1_resp_free(&c->resp);
    free(c);
    cl->open--;
    if (cl->closing && cl->open == 0)
        client_free(cl);
}

/* Detaches the request (if any) and closes; memory goes in conn_closed(). */
static void conn_close(pl_h1_conn *c)
{
    pl_h1_client *cl = c->cl;
    int resolving = c->state == C_RESOLVING;

    if (c->state == C_CLOSING)
        return;
    c->state = C_CLOSING;
    if (c->idle)
        idle_remove(c);
    if (c->x != NULL) {
        c->x->conn = NULL;
        c->x = NULL;
    }
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        cl->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    if (resolving)
        uv_cancel((uv_req_t *)&c->gai); /* on_resolved closes the handle */
    else
        uv_close((uv_handle_t *)&c->tcp, conn_closed);
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf);
static void on_connect(uv_connect_t *req, int status);

static void alloc_cb(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    pl_h1_conn *c = container_of((uv_tcp_t *)h, pl_h1_conn, tcp);

    (void)hint;
    *buf = uv_buf_init(c->cl->rbuf, sizeof(c->cl->rbuf));
}

/* Connecting failed: the request gets a 502 (it never reached anyone). */
static void connect_failed(pl_h1_conn *c, int err)
{
    pl_upstream_xfer *x = c->x;

    pl_log_debug("upstream %s: connect: %s", c->pool->authority, uv_strerror(err));
    conn_close(c);
    if (x != NULL)
        xfer_error(x, PL_UPERR_CONNECT, 502, "upstream_unreachable",
                   "the upstream refused or could not be reached");
}

static void connect_to(pl_h1_conn *c, const struct sockaddr *sa)
{
    int rc;

    c->state = C_CONNECTING;
    rc = uv_tcp_connect(&c->connect, &c->tcp, sa, on_connect);
    if (rc != 0)
        connect_failed(c, rc);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    pl_h1_conn *c = container_of(req, pl_h1_conn, gai);
    const struct addrinfo *pick = NULL;

    if (c->state == C_CLOSING) {
        uv_freeaddrinfo(res);
        uv_close((uv_handle_t *)&c->tcp, conn_closed);
        return;
    }
    /* IPv4 first: "localhost" often lists ::1 before 127.0.0.1. */
    for (const struct addrinfo *a = res; status == 0 && a != NULL; a = a->ai_next)
        if (pick == NULL || (a->ai_family == AF_INET && pick->ai_family != AF_INET))
            pick = a;
    if (pick == NULL) {
        uv_freeaddrinfo(res);
        connect_failed(c, status ? status : UV_EAI_NONAME);
        return;
    }
    connect_to(c, pick->ai_addr);
    uv_freeaddrinfo(res);
}

static pl_h1_conn *conn_new(pl_h1_client *cl, pl_h1_pool *p)
{
    pl_h1_conn *c = calloc(1, sizeof(*c));

    if (c == NULL)
        return NULL;
    if (uv_tcp_init(cl->pw->loop, &c->tcp) != 0) {
        free(c);
        return NULL;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    c->cl = cl;
    c->pool = p;
    c->next = cl->conns;
    if (cl->conns != NULL)
        cl->conns->prev = c;
    cl->conns = c;
    cl->open++;
    return c;
}

/* Starts connecting; failures are reported through connect_failed(). */
static void conn_connect(pl_h1_conn *c)
{
    pl_h1_pool *p = c->pool;
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
    int rc;

    if (p->numeric) {
        connect_to(c, (const struct sockaddr *)&p->addr);
        return;
    }
    c->state = C_RESOLVING;
    rc = uv_getaddrinfo(c->cl->pw->loop, &c->gai, on_resolved, p->host, p->port,
                        &hints);
    if (rc != 0) {
        c->state = C_CONNECTING; /* no lookup pending: close the handle now */
        connect_failed(c, rc);
    }
}

static void on_connect(uv_connect_t *req, int status)
{
    pl_h1_conn *c = container_of(req, pl_h1_conn, connect);

    if (c->state == C_CLOSING)
        return;
    if (status < 0) {
        connect_failed(c, status);
        return;
    }
    c->state = C_READY;
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
    if (c->x != NULL) {
        pl__xfer_arm(c->x, c->x->timeout_ms);
        pump(c);
    }
}

/*
 * The connection died before the response completed. A request that
 * went out on a reused connection and got no byte back is sent again on a
 * new one when none of its body was consumed (the upstream may have closed
 * the idle connection just as the request left); anything else is a 502.
 */
static void conn_lost(pl_h1_conn *c, int err)
{
    pl_upstream_xfer *x = c->x;
    int retry = x != NULL && c->reused && !pl_h1_resp_started(&c->resp) &&
                x->body_taken == 0 &&
                !x->retried;

    pl_log_debug("upstream %s: connection lost: %s", c->pool->authority,
                 uv_strerror(err));
    conn_close(c);
    if (x == NULL)
        return;
    if (retry) {
        pl_h1_conn *n = conn_new(c->cl, c->pool);
        x->retried = 1;
        if (n != NULL) {
            start_on(x, n);
            return;
        }
    }
    xfer_reset(x);
}

/* ---- writing the request ---- */

static int out_reserve(pl_h1_conn *c, size_t more)
{
    return pl_grow(&c->out, &c->out_cap, c->out_len + more, 1024);
}

/* Appends to `out`, which out_reserve() made large enough. */
static void out_put(pl_h1_conn *c, const char *p, size_t n)
{
    memcpy(c->out + c->out_len, p, n);
    c->out_len += n;
}

static void on_written(uv_write_t *req, int status)
{
    pl_h1_conn *c = container_of(req, pl_h1_conn, wreq);

    c->writing = 0;
    c->out_len = 0;
    if (c->state == C_CLOSING)
        return;
    if (status < 0) {
        c->broken = 1;
        /* A response may already be on its way (an early 413, say). */
        if (!pl_h1_resp_started(&c->resp))
            conn_lost(c, status);
        return;
    }
    pump(c);
}

/* Moves queued body bytes into `out`, chunk-framed when needed. */
static size_t gather_body(pl_h1_conn *c, pl_stream *s)
{
    size_t taken = 0;

    while (c->out_len < H1_OUT_MAX && s->req_body.len > 0) {
        size_t want = H1_OUT_MAX - c->out_len;
        if (want > s->req_body.len)
            want = s->req_body.len;
        if (out_reserve(c, want + 24) != 0)
            break;
        if (c->chunked)
            c->out_len += (size_t)sprintf(c->out + c->out_len, "%zx\r\n", want);
        size_t n = pl_bufq_read(&s->req_body, c->out + c->out_len, want);
        c->out_len += n;
        if (c->chunked) {
            memcpy(c->out + c->out_len, "\r\n", 2);
            c->out_len += 2;
        }
        taken += n;
    }
    if (!s->has_body || (s->req_done && s->req_body.len == 0)) {
        if (c->chunked && out_reserve(c, 5) == 0) {
            memcpy(c->out + c->out_len, "0\r\n\r\n", 5);
            c->out_len += 5;
        }
        c->req_finished = 1;
    }
    return taken;
}

/* One round: gather, write. Returns 1 when another round may do more. */
static int pump_once(pl_h1_conn *c)
{
    pl_upstream_xfer *x = c->x;
    pl_stream *s = x != NULL ? x->s : NULL;
    size_t taken = 0;

    if (s == NULL || c->state != C_READY || c->writing)
        return 0;
    if (!c->req_finished)
        taken = gather_body(c, s);
    if (c->out_len > 0) {
        uv_buf_t b = uv_buf_init(c->out, (unsigned)c->out_len);
        int n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
        if (n == (int)c->out_len) {
            c->out_len = 0;
        } else if (n >= 0 || n == UV_EAGAIN) {
            size_t done = n > 0 ? (size_t)n : 0;
            b = uv_buf_init(c->out + done, (unsigned)(c->out_len - done));
            c->writing = 1;
            n = uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_written);
            if (n != 0) {
                c->writing = 0;
                c->broken = 1;
            }
        } else {
            c->broken = 1;
        }
        if (c->broken && !pl_h1_resp_started(&c->resp)) {
            conn_lost(c, n);
            return 0;
        }
    }
    if (taken > 0) {
        x->body_taken += taken;
        if (!x->head_done)
            pl__xfer_arm(x, x->timeout_ms);
        x->in_callback++;
        pl_stream_req_consumed(s, taken);
        x->in_callback--;
        if (x->s == NULL) { /* the client went away meanwhile */
            conn_close(c);
            pl__xfer_release(x);
            return 0;
        }
    }
    return c->x == x && !c->writing && !c->req_finished && x->s->req_body.len > 0;
}

static void pump(pl_h1_conn *c)
{
    if (c->in_pump) {
        c->pump_again = 1;
        return;
    }
    c->in_pump = 1;
    do {
        c->pump_again = 0;
        if (pump_once(c))
            c->pump_again = 1;
    } while (c->pump_again && c->state == C_READY);
    c->in_pump = 0;
}

int pl__h1_client_put_header(pl_upstream_xfer *x, const char *name, size_t nlen,
                             const char *value, size_t vlen)
{
    pl_h1_conn *c = x->conn;

    if (out_reserve(c, nlen + vlen + 4) != 0)
        return PL_ENOMEM;
    out_put(c, name, nlen);
    out_put(c, ": ", 2);
    out_put(c, value, vlen);
    out_put(c, "\r\n", 2);
    return 0;
}

/* "METHOD base+path HTTP/1.1", the forwarded headers, the body framing. */
static int build_head(pl_upstream_xfer *x, pl_h1_conn *c)
{
    pl_stream *s = x->s;
    size_t alen;
    const char *url = s->route->up->url;
    const char *base = url_authority(url, &alen) + alen;
    const char *path = s->path[0] == '/' ? s->path : "/";
    size_t mlen = strlen(s->method), blen = strlen(base), plen = strlen(path);
    char framing[64];
    int flen = 0;

    c->out_len = 0;
    c->chunked = s->has_body && s->content_length < 0;
    if (c->chunked)
        flen = snprintf(framing, sizeof(framing), "Transfer-Encoding: chunked\r\n");
    else if (s->content_length > 0 || (s->content_length == 0 && s->has_body) ||
             (s->content_length == 0 && strcmp(s->method, "GET") != 0 &&
              strcmp(s->method, "HEAD") != 0) ||
             strcmp(s->method, "POST") == 0 || strcmp(s->method, "PUT") == 0 ||
             strcmp(s->method, "PATCH") == 0)
        flen = snprintf(framing, sizeof(framing), "Content-Length: %lld\r\n",
                        (long long)(s->content_length > 0 ? s->content_length : 0));
    if (out_reserve(c, mlen + blen + plen + 512) != 0)
        return PL_ENOMEM;
    out_put(c, s->method, mlen);
    out_put(c, " ", 1);
    out_put(c, base, blen);
    out_put(c, path, plen);
    out_put(c, " HTTP/1.1\r\n", 11);
    if (pl__xfer_build_headers(x, s) != 0)
        return PL_ENOMEM;
    /* HTTP/1.1 needs a Host: an HTTP/1.0 client may not have sent one. */
    if (s->authority == NULL &&
        pl__h1_client_put_header(x, "Host", 4, c->pool->authority,
                                 c->pool->authority_len) != 0)
        return PL_ENOMEM;
    if (out_reserve(c, (size_t)flen + 2) != 0)
        return PL_ENOMEM;
    out_put(c, framing, (size_t)flen);
    out_put(c, "\r\n", 2);
    return 0;
}

/* Binds x to c and starts (or queues until connected) the request. */
static void start_on(pl_upstream_xfer *x, pl_h1_conn *c)
{
    pl_stream *s = x->s;
    int fresh = c->state != C_READY;

    c->x = x;
    x->conn = c;
    pl_h1_resp_init(&c->resp, &response_callbacks, c, strcmp(s->method, "HEAD") == 0);
    c->req_finished = 0;
    if (build_head(x, c) != 0) {
        conn_close(c);
        xfer_error(x, PL_UPERR_OTHER, 500, "internal",
                   "cannot build the upstream request");
        return;
    }
    if (fresh) {
        const pl_upstream_config *up = s->route->up;
        pl__xfer_arm(x, (uint64_t)(up->connect_timeout
                                       ? up->connect_timeout
                                       : s->rt->config->timeouts.upstream_connect));
        conn_connect(c);
        return;
    }
    pl__xfer_arm(x, x->timeout_ms);
    pump(c);
}

void pl__h1_client_start(pl_upstream_xfer *x)
{
    pl_h1_client *cl = x->pw->h1;
    pl_h1_pool *p = pool_for(cl, x->s->route->up->url);
    pl_h1_conn *c = NULL;

    if (p == NULL ||
        ((c = pool_take(p, uv_now(x->pw->loop),
                        (uint64_t)x->s->rt->config->timeouts.upstream_idle)) == NULL &&
         (c = conn_new(cl, p)) == NULL)) {
        xfer_error(x, PL_UPERR_OTHER, 503, "overloaded", "out of memory");
        return;
    }
    start_on(x, c);
}

void pl__h1_client_req_data(pl_upstream_xfer *x)
{
    if (x->conn != NULL && x->conn->state == C_READY)
        pump(x->conn);
}

/* ---- reading the response ---- */

static int resp_header(void *arg, const char *name, size_t nlen,
                       const char *value, size_t vlen)
{
    pl_h1_conn *c = arg;

    return pl__xfer_resp_header(c->x, name, nlen, value, vlen) == 0 ? 0 : -1;
}

static int resp_head(void *arg, int status)
{
    pl_h1_conn *c = arg;
    pl_upstream_xfer *x = c->x;

    x->s->status = status;
    pl__xfer_head_complete(x);
    return x->s == NULL ? -1 : 0;
}

static int resp_body(void *arg, const char *at, size_t len)
{
    pl_h1_conn *c = arg;

    return pl__xfer_resp_body(c->x, at, len);
}

static const pl_h1_resp_callbacks response_callbacks = {
    .on_header = resp_header,
    .on_head = resp_head,
    .on_body = resp_body,
};

/* The response is complete: pool or close the connection, then finish. */
static void response_done(pl_h1_conn *c, pl_upstream_xfer *x, int leftover)
{
    int reuse = !leftover && !c->broken && c->req_finished && !c->writing &&
                c->resp.keep_alive;

    uv_timer_stop(&x->timer);
    c->x = NULL;
    x->conn = NULL;
    if (reuse)
        pool_put(c, (uint64_t)x->s->rt->config->timeouts.upstream_idle);
    else
        conn_close(c);
    pl__xfer_finish(x);
}

/* After the parser returned: completion, errors, cancellation, pause. */
static void after_parse(pl_h1_conn *c, pl_upstream_xfer *x, pl_h1_resp_result rc,
                        size_t used, ssize_t nread)
{
    if (x->s == NULL) { /* the client let go inside a callback */
        conn_close(c);
        pl__xfer_release(x);
        return;
    }
    if (rc == PL_H1_RESP_DONE) {
        response_done(c, x, nread > 0 && used < (size_t)nread);
        return;
    }
    if (x->resp_limit_hit) {
        conn_close(c);
        xfer_error(x, PL_UPERR_OTHER, 502, "upstream_too_large",
                   "the upstream response is too large to transform");
        return;
    }
    if (nread < 0) {
        conn_lost(c, (int)nread);
        return;
    }
    if (rc == PL_H1_RESP_INVALID) {
        pl_log_debug("upstream %s: bad response: %s", c->pool->authority,
                     c->resp.error);
        conn_close(c);
        xfer_error(x, PL_UPERR_PROTOCOL, 502, "upstream_protocol",
                   "the upstream sent a malformed response");
        return;
    }
    if (rc == PL_H1_RESP_STOPPED) { /* the response head did not fit */
        conn_close(c);
        xfer_error(x, PL_UPERR_PROTOCOL, 502, "upstream_protocol",
                   "the upstream response head is too large");
        return;
    }
    if (!x->buffer_resp && x->s->resp_body.len >= PL_STREAM_BODY_HIGH) {
        uv_read_stop((uv_stream_t *)&c->tcp);
        x->recv_paused = 1;
        uv_timer_stop(&x->timer);
    } else {
        pl__xfer_arm(x, x->timeout_ms); /* bytes arrived: the idle clock restarts */
    }
}

static void on_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *buf)
{
    pl_h1_conn *c = container_of((uv_tcp_t *)st, pl_h1_conn, tcp);
    pl_upstream_xfer *x = c->x;
    pl_h1_resp_result rc = PL_H1_RESP_MORE;
    size_t used = 0;

    if (nread == 0 || c->state == C_CLOSING)
        return;
    if (x == NULL) { /* idle: the upstream closed it (or sent junk) */
        conn_close(c);
        return;
    }
    x->in_callback++;
    if (nread > 0) {
        rc = pl_h1_resp_feed(&c->resp, buf->base, (size_t)nread, &used);
    } else if (nread == UV_EOF && pl_h1_resp_started(&c->resp)) {
        /* A response without length ends with the connection. */
        rc = pl_h1_resp_eof(&c->resp);
    }
    x->in_callback--;
    after_parse(c, x, rc, used, nread);
}

void pl__h1_client_resp_drained(pl_upstream_xfer *x)
{
    pl_h1_conn *c = x->conn;

    if (!x->recv_paused || x->in_callback || c == NULL || c->state != C_READY)
        return;
    x->recv_paused = 0;
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
    pl__xfer_arm(x, x->timeout_ms);
}

/* ---- cancellation and timeouts ---- */

void pl__h1_client_cancel(pl_upstream_xfer *x)
{
    if (x->in_callback)
        return; /* the callback's caller sees x->s == NULL and cleans up */
    if (x->conn != NULL)
        conn_close(x->conn);
    pl__xfer_release(x);
}

void pl__h1_client_timeout(pl_upstream_xfer *x)
{
    pl_h1_conn *c = x->conn;
    int connecting = c != NULL && c->state != C_READY;

    if (x->s == NULL)
        return;
    if (c != NULL)
        conn_close(c);
    xfer_error(x, PL_UPERR_TIMEOUT, 504, "upstream_timeout",
               connecting ? "connecting to the upstream timed out"
                          : "the upstream did not answer in time");
}
