/*
 * Client connections: accept, read into the worker's shared buffer, TLS
 * through memory BIOs, protocol detection (HTTP/1.1, h2c prior knowledge,
 * ALPN), one bounded output queue with at most one write in flight,
 * per-connection timers, and close through libuv close callbacks.
 */
#include "net_internal.h"

#include "parley/error.h"
#include "parley/log.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

static const char h2_preface[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/* Idle connections keep no output memory beyond this. */
#define OUT_KEEP 4096
/* After the last response, wait this long for the peer to close. */
#define LINGER_MS 2000

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);
static void conn_process_pending(pl_conn *c);

const pl_config *pl__conn_config(pl_conn *c)
{
    /* The worker holds a reference to the current snapshot. */
    return c->w->rt != NULL ? c->w->rt->config : NULL;
}

size_t pl__conn_queued(const pl_conn *c)
{
    return c->out.len + c->inflight.len + c->plain.len;
}

void pl__conn_set_proto(pl_conn *c, pl_proto p)
{
    if (c->counted)
        pl_metrics_conn(c->w->metrics, c->metric_proto, -1);
    c->metric_proto = p;
    c->counted = 1;
    pl_metrics_conn(c->w->metrics, p, 1);
}

static int out_append(pl_outbuf *o, const void *data, size_t len)
{
    if (pl_grow(&o->data, &o->cap, o->len + len, 4096) != 0)
        return PL_ENOMEM;
    memcpy(o->data + o->len, data, len);
    o->len += len;
    return 0;
}

static void out_shrink(pl_outbuf *o)
{
    if (o->len == 0 && o->cap > OUT_KEEP) {
        free(o->data);
        o->data = NULL;
        o->cap = 0;
    }
}

/* Moves TLS records from the write BIO into the output queue. */
static int tls_pull(pl_conn *c)
{
    char buf[16384];
    int n;

    while ((n = BIO_read(c->wbio, buf, sizeof(buf))) > 0)
        if (out_append(&c->out, buf, (size_t)n) != 0)
            return PL_ENOMEM;
    return 0;
}

int pl__conn_write(pl_conn *c, const void *data, size_t len)
{
    if (c->closing)
        return PL_ECANCELED;
    /* TLS: encrypted at flush time, so that small writes share records. */
    return out_append(c->ssl != NULL ? &c->plain : &c->out, data, len);
}

/* Encrypts the collected plaintext into TLS records on `out`. */
static int tls_encrypt(pl_conn *c)
{
    size_t off = 0;

    while (off < c->plain.len) {
        size_t k = c->plain.len - off;
        int n = SSL_write(c->ssl, c->plain.data + off, k > 16384 ? 16384 : (int)k);
        if (n <= 0)
            return PL_EIO;
        off += (size_t)n;
        if (tls_pull(c) != 0)
            return PL_ENOMEM;
    }
    c->plain.len = 0;
    out_shrink(&c->plain);
    return 0;
}

static void on_closed(uv_handle_t *h)
{
    pl_conn *c = h->data;
    pl_worker *w = c->w;

    if (--c->pending_closes > 0)
        return;
    free(c->out.data);
    free(c->inflight.data);
    free(c->plain.data);
    free(c->pending);
    if (c->ssl != NULL)
        SSL_free(c->ssl); /* frees both BIOs */
    free(c);
    pl__worker_conn_gone(w);
}

void pl__conn_close(pl_conn *c)
{
    pl_worker *w = c->w;

    if (c->closing)
        return;
    c->closing = 1;
    if (c->h1 != NULL)
        pl__h1_free(c);
    if (c->h2 != NULL)
        pl__h2_free(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->flush_queued) {
        pl_conn **p = &w->to_flush;
        while (*p != c)
            p = &(*p)->flush_next;
        *p = c->flush_next;
        c->flush_queued = 0;
    }
    if (c->counted)
        pl_metrics_conn(w->metrics, c->metric_proto, -1);
    if (!c->admin) {
        atomic_fetch_sub(&w->server->connections, 1);
        w->nconns--;
    }
    uv_timer_stop(&c->timer);
    c->pending_closes = 2;
    uv_close((uv_handle_t *)&c->tcp, on_closed);
    uv_close((uv_handle_t *)&c->timer, on_closed);
}

static void release_idle(pl_conn *c);

static void on_timer(uv_timer_t *t)
{
    pl_conn *c = container_of(t, pl_conn, timer);

    if (c->release_pending) { /* idle for a moment: now really idle */
        c->release_pending = 0;
        release_idle(c);
        uv_timer_start(&c->timer, on_timer, c->keepalive_left, 0);
        return;
    }
    if (c->close_after_write) {
        pl__conn_close(c); /* lingering ended */
        return;
    }
    if (c->h2 != NULL)
        pl__h2_timeout(c);
    else if (c->h1 != NULL)
        pl__h1_timeout(c);
    else
        pl__conn_close(c);
}

/* Idle: give back output buffers (thousands of idle connections should
 * cost little more than their sockets). */
static void release_idle_buffers(pl_conn *c)
{
    if (c->out.len == 0) {
        free(c->out.data);
        c->out = (pl_outbuf){0};
    }
    if (c->plain.len == 0) {
        free(c->plain.data);
        c->plain = (pl_outbuf){0};
    }
    if (c->inflight.len == 0 && !c->writing) {
        free(c->inflight.data);
        c->inflight = (pl_outbuf){0};
    }
}

static void release_idle(pl_conn *c)
{
    release_idle_buffers(c);
    if (c->h2 != NULL)
        pl__h2_release_idle(c);
    c->busy = 0;
}

/*
 * Going idle gives buffers back, but a connection that just served a
 * request most likely gets the next one soon (a browser, a load balancer's
 * pool): its buffers are kept for IDLE_RELEASE_MS first, which spares a
 * free, a malloc and page faults per burst. A connection that never served
 * one (a client holding it open) releases at once.
 */
#define IDLE_RELEASE_MS 1000

void pl__conn_set_timer(pl_conn *c, conn_timer_kind kind, uint64_t ms)
{
    if (c->closing)
        return;
    c->release_pending = 0;
    if (kind == TIMER_KEEPALIVE && c->busy && ms > IDLE_RELEASE_MS) {
        c->timer_kind = kind;
        c->release_pending = 1;
        c->keepalive_left = ms - IDLE_RELEASE_MS;
        uv_timer_start(&c->timer, on_timer, IDLE_RELEASE_MS, 0);
        return;
    }
    if (kind == TIMER_KEEPALIVE)
        release_idle(c);
    c->timer_kind = kind;
    if (kind == TIMER_NONE)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, on_timer, ms, 0);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    pl_conn *c = req->data;

    (void)status;
    free(req);
    (void)c;
}

/* All output is out: close now, or half-close and wait for the peer. */
static void finish_close(pl_conn *c)
{
    uv_shutdown_t *req;

    if (c->closing)
        return;
    req = malloc(sizeof(*req));
    if (req == NULL || c->ssl != NULL) {
        free(req);
        pl__conn_close(c);
        return;
    }
    req->data = c;
    if (uv_shutdown(req, (uv_stream_t *)&c->tcp, on_shutdown) != 0) {
        free(req);
        pl__conn_close(c);
        return;
    }
    /* Keep reading (and dropping) so that the peer sees our response
     * rather than a reset, until it closes or the linger time ends. */
    uv_timer_start(&c->timer, on_timer, LINGER_MS, 0);
    pl__conn_read_start(c);
}

static void on_write(uv_write_t *req, int status)
{
    pl_conn *c = container_of(req, pl_conn, wreq);

    c->writing = 0;
    c->inflight.len = 0;
    out_shrink(&c->inflight);
    if (c->closing)
        return;
    if (status < 0) {
        pl__conn_close(c);
        return;
    }
    pl__conn_flush(c); /* what queued up meanwhile */
    if (c->h2 != NULL)
        pl__h2_on_written(c);
    else if (c->h1 != NULL)
        pl__h1_on_written(c);
}

static void on_output_check(uv_check_t *check)
{
    pl__conn_flush_queued(check->data);
}

static void on_output_soon(uv_idle_t *idle) { (void)idle; }

void pl__conn_flush(pl_conn *c)
{
    pl_worker *w = c->w;

    if (c->closing || c->flush_queued)
        return;
    c->flush_queued = 1;
    c->flush_next = w->to_flush;
    w->to_flush = c;
    if (c->flush_next == NULL) {
        uv_check_start(&w->output, on_output_check);
        /* Queued from a timer or a deferred callback: an active idle
         * handle makes the coming poll return at once, so the check runs
         * now rather than after the next event. */
        uv_idle_start(&w->output_soon, on_output_soon);
    }
}

static void flush_now(pl_conn *c);

void pl__conn_flush_queued(pl_worker *w)
{
    /* Writing can queue more (a protocol reacting to a completed write). */
    while (w->to_flush != NULL) {
        pl_conn *c = w->to_flush;
        w->to_flush = c->flush_next;
        c->flush_queued = 0;
        flush_now(c);
    }
    uv_check_stop(&w->output);
    uv_idle_stop(&w->output_soon);
}

static void flush_now(pl_conn *c)
{
    uv_buf_t b;
    int n;

    if (c->closing || c->writing)
        return;
    if (c->h2 != NULL) {
        pl__h2_produce(c);
        if (c->closing)
            return;
    }
    if (c->plain.len > 0 && tls_encrypt(c) != 0) {
        pl__conn_close(c);
        return;
    }
    if (c->out.len == 0) {
        out_shrink(&c->out);
        if (c->close_after_write)
            finish_close(c);
        return;
    }
    b = uv_buf_init(c->out.data, (unsigned)c->out.len);
    n = uv_try_write((uv_stream_t *)&c->tcp, &b, 1);
    if (n == UV_EAGAIN)
        n = 0;
    if (n < 0) {
        pl__conn_close(c);
        return;
    }
    if ((size_t)n == c->out.len) {
        c->out.len = 0;
        out_shrink(&c->out);
        if (c->close_after_write) {
            finish_close(c);
            return;
        }
        if (c->timer_kind == TIMER_KEEPALIVE && !c->release_pending)
            release_idle_buffers(c); /* the last output before idling */
        /* Written at once: no write callback will ask the protocol for
         * more, so ask now (a paused response body continues). */
        if (c->h2 != NULL)
            pl__h2_on_written(c);
        else if (c->h1 != NULL)
            pl__h1_on_written(c);
        return;
    }
    /* Swap: the rest is written asynchronously from `inflight`. */
    pl_outbuf t = c->inflight;
    c->inflight = c->out;
    c->out = t;
    c->out.len = 0;
    memmove(c->inflight.data, c->inflight.data + n, c->inflight.len - (size_t)n);
    c->inflight.len -= (size_t)n;
    b = uv_buf_init(c->inflight.data, (unsigned)c->inflight.len);
    c->writing = 1;
    if (uv_write(&c->wreq, (uv_stream_t *)&c->tcp, &b, 1, on_write) != 0) {
        c->writing = 0;
        pl__conn_close(c);
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    pl_conn *c = h->data;

    (void)suggested;
    /* Reads are handled synchronously, so one buffer serves every
     * connection of the worker: idle connections hold no read memory. */
    *buf = uv_buf_init(c->w->readbuf, PL_READ_CHUNK);
}

void pl__conn_read_start(pl_conn *c)
{
    if (c->closing)
        return;
    if (c->pending_len > 0 && !c->close_after_write) {
        conn_process_pending(c);
        if (c->closing || c->pending_len > 0)
            return;
    }
    if (!c->reading) {
        c->reading = 1;
        uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read);
    }
}

void pl__conn_read_stop(pl_conn *c)
{
    if (c->reading && !c->closing) {
        c->reading = 0;
        uv_read_stop((uv_stream_t *)&c->tcp);
    }
}

static void keep_pending(pl_conn *c, const char *data, size_t len)
{
    char *n = realloc(c->pending, c->pending_len + len);

    if (n == NULL) {
        pl__conn_close(c);
        return;
    }
    memcpy(n + c->pending_len, data, len);
    c->pending = n;
    c->pending_len += len;
    pl__conn_read_stop(c);
}

static int start_h1(pl_conn *c)
{
    if (pl__h1_init(c) != 0)
        return PL_ENOMEM;
    pl__conn_set_proto(c, PL_PROTO_HTTP1);
    return 0;
}

void pl__conn_feed(pl_conn *c, const char *data, size_t len)
{
    if (c->closing || len == 0)
        return;
    if (c->pending_len > 0) {
        keep_pending(c, data, len);
        return;
    }
    if (c->proto == CONN_UNKNOWN) {
        /* Prior-knowledge h2c starts with the fixed client preface. */
        size_t k = 0;
        while (k < len && c->preface_len < sizeof(h2_preface) - 1 &&
               data[k] == h2_preface[c->preface_len])
            c->preface[c->preface_len++] = data[k++];
        if (c->preface_len == sizeof(h2_preface) - 1 && !c->admin) {
            if (pl__h2_init(c, NULL, 0, NULL) != 0) {
                pl__conn_close(c);
                return;
            }
            pl__h2_feed(c, c->preface, c->preface_len);
            pl__h2_feed(c, data + k, len - k);
            return;
        }
        if (k == len && c->preface_len < sizeof(h2_preface) - 1)
            return; /* still a prefix of the preface: wait */
        if (start_h1(c) != 0) {
            pl__conn_close(c);
            return;
        }
        if (c->preface_len > 0) {
            size_t used = pl__h1_feed(c, c->preface, c->preface_len);
            if (used < c->preface_len) {
                keep_pending(c, c->preface + used, c->preface_len - used);
                keep_pending(c, data + k, len - k);
                return;
            }
        }
        data += k;
        len -= k;
    }
    if (c->proto == CONN_HTTP1) {
        size_t used = pl__h1_feed(c, data, len);
        if (c->closing)
            return;
        if (c->proto == CONN_HTTP2) {
            pl__h2_feed(c, data + used, len - used);
            return;
        }
        if (used < len)
            keep_pending(c, data + used, len - used);
        return;
    }
    if (c->proto == CONN_HTTP2)
        pl__h2_feed(c, data, len);
}

static void conn_process_pending(pl_conn *c)
{
    char *p = c->pending;
    size_t n = c->pending_len;

    c->pending = NULL;
    c->pending_len = 0;
    pl__conn_feed(c, p, n);
    free(p);
}

/* Decrypts what arrived and feeds the plaintext to the protocol. */
static void tls_input(pl_conn *c, const char *data, size_t len)
{
    char buf[16384];
    int n;

    if (BIO_write(c->rbio, data, (int)len) != (int)len) {
        pl__conn_close(c);
        return;
    }
    if (!c->tls_ready) {
        n = SSL_do_handshake(c->ssl);
        tls_pull(c);
        if (n != 1) {
            int e = SSL_get_error(c->ssl, n);
            if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
                pl_log_debug("TLS handshake with %s failed", c->peer);
                c->close_after_write = 1;
            }
            pl__conn_flush(c);
            return;
        }
        c->tls_ready = 1;
        const unsigned char *alpn = NULL;
        unsigned alpn_len = 0;
        SSL_get0_alpn_selected(c->ssl, &alpn, &alpn_len);
        if (alpn_len == 2 && memcmp(alpn, "h2", 2) == 0 && !c->admin) {
            if (pl__h2_init(c, NULL, 0, NULL) != 0) {
                pl__conn_close(c);
                return;
            }
        } else if (start_h1(c) != 0) {
            pl__conn_close(c);
            return;
        }
        pl__conn_flush(c);
    }
    while (!c->closing && c->pending_len == 0 &&
           (n = SSL_read(c->ssl, buf, sizeof(buf))) > 0)
        pl__conn_feed(c, buf, (size_t)n);
    if (!c->closing) {
        tls_pull(c); /* e.g. session tickets, alerts */
        pl__conn_flush(c);
    }
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
    pl_conn *c = stream->data;

    if (nread == 0)
        return;
    if (nread < 0) {
        pl__conn_close(c);
        return;
    }
    if (c->close_after_write && c->out.len == 0 && !c->writing) {
        /* Lingering after the last response: drop what still arrives. */
        return;
    }
    if (c->ssl != NULL)
        tls_input(c, buf->base, (size_t)nread);
    else
        pl__conn_feed(c, buf->base, (size_t)nread);
}

static void peer_name(pl_conn *c)
{
    struct sockaddr_storage ss;
    int len = sizeof(ss);

    c->peer[0] = '\0';
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) != 0)
        return;
    if (ss.ss_family == AF_INET)
        uv_ip4_name((struct sockaddr_in *)&ss, c->peer, sizeof(c->peer));
    else if (ss.ss_family == AF_INET6)
        uv_ip6_name((struct sockaddr_in6 *)&ss, c->peer, sizeof(c->peer));
}

void pl__conn_accept(pl_listener *l)
{
    pl_worker *w = l->w;
    const pl_config *cfg = w->rt != NULL ? w->rt->config : NULL;
    pl_conn *c = calloc(1, sizeof(*c));
    long open;

    if (c == NULL)
        return;
    c->w = w;
    c->l = l;
    c->admin = l->kind == LISTENER_ADMIN;
    uv_tcp_init(&w->loop, &c->tcp);
    uv_timer_init(&w->loop, &c->timer);
    c->tcp.data = c;
    c->timer.data = c;
    if (uv_accept((uv_stream_t *)&l->tcp, (uv_stream_t *)&c->tcp) != 0) {
        c->pending_closes = 2;
        c->closing = 1;
        uv_close((uv_handle_t *)&c->tcp, on_closed);
        uv_close((uv_handle_t *)&c->timer, on_closed);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    peer_name(c);
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    if (!c->admin) {
        w->nconns++;
        open = atomic_fetch_add(&w->server->connections, 1) + 1;
        if (cfg != NULL && open > cfg->limits.connections) {
            static const char busy[] =
                "HTTP/1.1 503 Service Unavailable\r\n"
                "Content-Type: application/json\r\nContent-Length: 78\r\n"
                "Connection: close\r\n\r\n"
                "{\"error\":{\"code\":\"overloaded\",\"message\":\"too many open connections\"}}\n";
            out_append(&c->out, busy, sizeof(busy) - 1);
            c->close_after_write = 1;
            pl__conn_flush(c);
            return;
        }
    }
    if (l->tls != NULL) {
        c->ssl = SSL_new(l->tls);
        c->rbio = BIO_new(BIO_s_mem());
        c->wbio = BIO_new(BIO_s_mem());
        if (c->ssl == NULL || c->rbio == NULL || c->wbio == NULL) {
            BIO_free(c->rbio);
            BIO_free(c->wbio);
            pl__conn_close(c);
            return;
        }
        SSL_set_bio(c->ssl, c->rbio, c->wbio);
        SSL_set_accept_state(c->ssl);
    }
    pl__conn_set_timer(c, TIMER_KEEPALIVE,
                       cfg ? (uint64_t)cfg->timeouts.header_read : 10000);
    c->timer_kind = TIMER_HEADER;
    pl__conn_read_start(c);
}
