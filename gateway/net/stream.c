/*
 * The request/response exchange shared by HTTP/1.1 and HTTP/2: headers in
 * the stream's arena, bounded body queues, local JSON responses, and the
 * end of a request (access log line, metrics, snapshot release).
 */
#include "net_internal.h"

#include "parley/error.h"
#include "parley/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Request heads are capped by limits; responses heads by this. */
#define STREAM_ARENA_CAP (256 * 1024)
/* Chunks grow with what is appended: small bodies stay small. */
#define BUFQ_CHUNK_MIN 2048
#define BUFQ_CHUNK_MAX 16384

struct pl_bufq_chunk {
    pl_bufq_chunk *next;
    size_t start, end, cap;
    char data[];
};

int pl_bufq_append(pl_bufq *q, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        pl_bufq_chunk *t = q->tail;
        if (t == NULL || t->end == t->cap) {
            size_t cap = len < BUFQ_CHUNK_MIN   ? BUFQ_CHUNK_MIN
                         : len > BUFQ_CHUNK_MAX ? BUFQ_CHUNK_MAX
                                                : len;
            pl_bufq_chunk *n = malloc(sizeof(*n) + cap);
            if (n == NULL)
                return PL_ENOMEM;
            n->next = NULL;
            n->start = n->end = 0;
            n->cap = cap;
            if (t != NULL)
                t->next = n;
            else
                q->head = n;
            q->tail = t = n;
        }
        size_t k = t->cap - t->end < len ? t->cap - t->end : len;
        memcpy(t->data + t->end, p, k);
        t->end += k;
        q->len += k;
        p += k;
        len -= k;
    }
    return 0;
}

size_t pl_bufq_read(pl_bufq *q, void *dst, size_t max)
{
    char *d = dst;
    size_t got = 0;

    while (got < max && q->head != NULL) {
        pl_bufq_chunk *h = q->head;
        size_t k = h->end - h->start;
        if (k > max - got)
            k = max - got;
        memcpy(d + got, h->data + h->start, k);
        h->start += k;
        got += k;
        if (h->start == h->end) {
            q->head = h->next;
            if (q->head == NULL)
                q->tail = NULL;
            free(h);
        }
    }
    q->len -= got;
    return got;
}

void pl_bufq_free(pl_bufq *q)
{
    while (q->head != NULL) {
        pl_bufq_chunk *n = q->head->next;
        free(q->head);
        q->head = n;
    }
    q->tail = NULL;
    q->len = 0;
}

const char *pl_proto_name(pl_proto proto)
{
    switch (proto) {
    case PL_PROTO_HTTP1:
        return "http1";
    case PL_PROTO_H2C:
        return "h2c";
    case PL_PROTO_H2:
        return "h2";
    default:
        return "unknown";
    }
}

pl_stream *pl__stream_new(pl_conn *c, pl_proto proto)
{
    pl_stream *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    pl_arena_init(&s->arena, STREAM_ARENA_CAP);
    s->conn = c;
    s->proto = proto;
    s->content_length = -1;
    s->client_ip = c->peer;
    s->scheme = c->ssl != NULL ? "https" : "http";
    s->t_start = uv_hrtime();
    s->rt = c->w->rt;
    if (s->rt != NULL)
        pl_runtime_retain(s->rt);
    if (c->admin) {
        s->flags |= PL_STREAM_F_ADMIN;
    } else {
        pl_metrics_inflight(c->w->metrics, 1);
        s->flags |= PL_STREAM_F_COUNTED;
    }
    return s;
}

void pl__stream_add_header(pl_stream *s, const char *name, size_t nlen,
                           const char *value, size_t vlen)
{
    if (s->nheaders == s->headers_cap) {
        size_t cap = s->headers_cap ? s->headers_cap * 2 : 16;
        pl_header *h = pl_arena_alloc(&s->arena, cap * sizeof(*h));
        if (h == NULL)
            return;
        if (s->nheaders)
            memcpy(h, s->headers, s->nheaders * sizeof(*h));
        s->headers = h;
        s->headers_cap = cap;
    }
    pl_header *h = &s->headers[s->nheaders];
    h->name = pl_arena_strndup(&s->arena, name, nlen);
    h->value = pl_arena_strndup(&s->arena, value, vlen);
    if (h->name == NULL || h->value == NULL)
        return;
    h->name_len = nlen;
    h->value_len = vlen;
    s->nheaders++;
}

const char *pl_stream_header(const pl_stream *s, const char *name)
{
    size_t len = strlen(name);

    for (size_t i = 0; i < s->nheaders; i++)
        if (s->headers[i].name_len == len && strcasecmp(s->headers[i].name, name) == 0)
            return s->headers[i].value;
    return NULL;
}

int pl_stream_add_resp_header(pl_stream *s, const char *name, size_t nlen,
                              const char *value, size_t vlen)
{
    if (s->nresp_headers == s->resp_headers_cap) {
        size_t cap = s->resp_headers_cap ? s->resp_headers_cap * 2 : 16;
        pl_header *h = pl_arena_alloc(&s->arena, cap * sizeof(*h));
        if (h == NULL)
            return PL_ENOMEM;
        if (s->nresp_headers)
            memcpy(h, s->resp_headers, s->nresp_headers * sizeof(*h));
        s->resp_headers = h;
        s->resp_headers_cap = cap;
    }
    pl_header *h = &s->resp_headers[s->nresp_headers];
    char *n = pl_arena_strndup(&s->arena, name, nlen);
    h->value = pl_arena_strndup(&s->arena, value, vlen);
    if (n == NULL || h->value == NULL)
        return PL_ENOMEM;
    if (s->proto != PL_PROTO_HTTP1)
        for (size_t i = 0; i < nlen; i++)
            if (n[i] >= 'A' && n[i] <= 'Z')
                n[i] = (char)(n[i] - 'A' + 'a');
    h->name = n;
    h->name_len = nlen;
    h->value_len = vlen;
    s->nresp_headers++;
    return 0;
}

static void stream_free(pl_stream *s);

/* Frees `s` now, or at the end of pl_stream_send_head() if inside it. */
static void stream_release(pl_stream *s)
{
    if (s->flags & PL_STREAM_F_IN_HEAD)
        s->flags |= PL_STREAM_F_FREE_PENDING;
    else
        stream_free(s);
}

static int conn_alive(const pl_stream *s)
{
    return s->conn != NULL && !((pl_conn *)s->conn)->closing;
}

int pl_stream_send_head(pl_stream *s)
{
    pl_conn *c = s->conn;

    if (!conn_alive(s))
        return PL_ECANCELED;
    /* The caller may use `s` after this call: freeing waits until the end. */
    s->flags |= PL_STREAM_F_IN_HEAD;
    s->resp_head_sent = 1;
    if (strcmp(s->method, "HEAD") == 0 || s->status == 204 || s->status == 304 ||
        (s->status >= 100 && s->status < 200))
        s->resp_no_body = 1;
    int found = 0;
    for (size_t i = 0; i < s->nresp_headers && !found; i++)
        found = s->resp_headers[i].name_len == 12 &&
                strcasecmp(s->resp_headers[i].name, "x-request-id") == 0;
    if (!found && s->request_id[0])
        pl_stream_add_resp_header(s, "X-Request-Id", 12, s->request_id,
                                  strlen(s->request_id));
    if (c->proto == CONN_HTTP2)
        pl__h2_send_head(c, s);
    else
        pl__h1_send_head(c, s);
    s->flags &= ~PL_STREAM_F_IN_HEAD;
    if (s->flags & PL_STREAM_F_FREE_PENDING) {
        stream_free(s);
        return PL_ECANCELED;
    }
    return 0;
}

void pl_stream_resp_data(pl_stream *s)
{
    pl_conn *c = s->conn;

    if (!conn_alive(s) || !s->resp_head_sent)
        return;
    if (c->proto == CONN_HTTP2)
        pl__h2_resp_data(c, s);
    else
        pl__h1_resp_data(c, s);
}

void pl_stream_req_consumed(pl_stream *s, size_t n)
{
    pl_conn *c = s->conn;

    if (!conn_alive(s))
        return;
    if (c->proto == CONN_HTTP2)
        pl__h2_req_consumed(c, s, n);
    else
        pl__h1_req_consumed(c, s);
}

void pl_stream_abort(pl_stream *s)
{
    pl_conn *c = s->conn;

    if (!conn_alive(s))
        return;
    if (c->proto == CONN_HTTP2)
        pl__h2_abort(c, s);
    else
        pl__h1_abort(c, s);
}

int pl__stream_json_error_body(char *buf, size_t size, const char *code,
                               const char *message)
{
    size_t len = 0;

    if (size < 64)
        return 0;
    len = (size_t)snprintf(buf, size, "{\"error\":{\"code\":\"");
    pl_json_escape_append(buf, size - 32, &len, code);
    len += (size_t)snprintf(buf + len, size - len, "\",\"message\":\"");
    pl_json_escape_append(buf, size - 8, &len, message);
    len += (size_t)snprintf(buf + len, size - len, "\"}}\n");
    return (int)(len < size ? len : size - 1);
}

void pl_stream_respond(pl_stream *s, int status, const char *content_type,
                       const char *body, size_t len)
{
    char num[24];

    if (s->resp_head_sent) {
        pl_stream_abort(s);
        return;
    }
    s->status = status;
    s->nresp_headers = 0;
    pl_bufq_free(&s->resp_body);
    if (content_type != NULL)
        pl_stream_add_resp_header(s, "Content-Type", 12, content_type,
                                  strlen(content_type));
    snprintf(num, sizeof(num), "%zu", len);
    pl_stream_add_resp_header(s, "Content-Length", 14, num, strlen(num));
    if (len > 0 && strcmp(s->method ? s->method : "", "HEAD") != 0)
        pl_bufq_append(&s->resp_body, body, len);
    s->resp_bytes = 0;
    s->resp_done = 1;
    if (pl_stream_send_head(s) == 0)
        pl_stream_resp_data(s);
}

void pl_stream_error(pl_stream *s, int status, const char *code,
                     const char *message)
{
    char body[512];
    int n = pl__stream_json_error_body(body, sizeof(body), code, message);

    if (s->method == NULL)
        s->method = "-";
    if (status == 405 && s->route == NULL) {
        /* pl_proxy_start adds Allow itself when it knows the methods. */
    }
    pl_stream_respond(s, status, "application/json", body, (size_t)n);
}

void pl__stream_dispatch(pl_stream *s)
{
    pl_conn *c = s->conn;

    c->busy = 1;
    const char *rid = pl_stream_header(s, "x-request-id");
    size_t n = rid ? strlen(rid) : 0;
    int ok = n > 0 && n < sizeof(s->request_id);

    for (size_t i = 0; ok && i < n; i++)
        ok = rid[i] > 0x20 && rid[i] < 0x7f && rid[i] != '"' && rid[i] != '\\';
    if (ok)
        memcpy(s->request_id, rid, n + 1);
    else
        pl__worker_request_id(c->w, s->request_id, sizeof(s->request_id));
    if (s->rt == NULL) {
        pl_stream_error(s, 503, "unavailable", "no configuration loaded");
        return;
    }
    if (s->flags & PL_STREAM_F_ADMIN) {
        pl__admin_handle(s);
        return;
    }
    if (atomic_load_explicit(&c->w->server->draining, memory_order_relaxed)) {
        pl_stream_error(s, 503, "draining", "the gateway is shutting down");
        return;
    }
    pl_proxy_start(c->w->proxy, s);
}

static void stream_free(pl_stream *s)
{
    pl_conn *c = s->conn;
    pl_worker *w = c != NULL ? c->w : NULL;

    (void)w;
    pl_bufq_free(&s->req_body);
    pl_bufq_free(&s->resp_body);
    pl_runtime_release(s->rt);
    pl_arena_free(&s->arena);
    free(s);
}

/* Metrics and the access log, once per stream, when the client side ends. */
static void stream_account(pl_stream *s, pl_worker *w)
{
    uint64_t now = uv_hrtime();

    if (s->flags & PL_STREAM_F_LOGGED)
        return;
    s->flags |= PL_STREAM_F_LOGGED;
    if (s->flags & PL_STREAM_F_COUNTED)
        pl_metrics_inflight(w->metrics, -1);
    if (s->method == NULL)
        return;
    if (s->flags & PL_STREAM_F_ADMIN)
        return;
    pl_metrics_request(w->metrics, s->route ? ((const pl_route_config *)s->route)->name : NULL,
                       s->method, s->status, s->proto, now - s->t_start,
                       s->upstream_ns, s->req_bytes, s->resp_bytes);
    pl__access_log(w, s);
}

void pl__stream_client_done(pl_stream *s)
{
    pl_conn *c = s->conn;

    if (s->flags & PL_STREAM_F_CLIENT_DONE)
        return;
    s->flags |= PL_STREAM_F_CLIENT_DONE;
    if (c != NULL)
        stream_account(s, c->w);
    if (s->xfer != NULL) {
        /* The client is done: a transfer still running is not needed. */
        pl_proxy_cancel(s);
    }
    if (s->xfer == NULL)
        stream_release(s);
}

void pl__stream_detach(pl_stream *s)
{
    pl_conn *c = s->conn;

    if (c != NULL && !(s->flags & PL_STREAM_F_CLIENT_DONE)) {
        if (!s->resp_head_sent && s->status == 0)
            s->status = 499; /* client closed before the response */
        s->flags |= PL_STREAM_F_CLIENT_DONE;
        stream_account(s, c->w);
    }
    s->conn = NULL;
    if (s->xfer != NULL)
        pl_proxy_cancel(s);
    if (s->xfer == NULL)
        stream_release(s);
}

void pl_stream_upstream_done(pl_stream *s)
{
    if (s->xfer == NULL && (s->flags & PL_STREAM_F_CLIENT_DONE))
        stream_release(s);
}
