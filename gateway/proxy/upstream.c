/*
 * The upstream side of a request: route it, build the forwarded headers,
 * run the route handler, and drive libcurl for the upstreams the native
 * HTTP/1.1 client (h1_client.c) does not serve: one easy handle per request
 * on the worker's pl_curl_loop (connections are reused by the multi
 * handle), bodies streamed through bounded queues with curl's
 * pause/unpause for back-pressure, failures turned into 502/504.
 */
#include "upstream_internal.h"

#include "parley/error.h"
#include "parley/log.h"
#include "parley/metrics.h"
#include "parley/proxy.h"
#include "parley/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static pl_metrics_shard *metrics_of(pl_proxy_worker *pw) { return pw->metrics; }

/* ---- worker state ---- */

int pl_proxy_worker_new(uv_loop_t *loop, pl_metrics_shard *metrics,
                        pl_proxy_worker **out)
{
    pl_proxy_worker *pw = calloc(1, sizeof(*pw));
    int rc;

    *out = NULL;
    if (pw == NULL)
        return PL_ENOMEM;
    if ((rc = pl_curl_loop_new(loop, &pw->cl)) != 0) {
        free(pw);
        return rc;
    }
    pw->loop = loop;
    pw->metrics = metrics;
    /* Keep enough idle upstream connections for busy keep-alive traffic. */
    curl_multi_setopt(pl_curl_loop_multi(pw->cl), CURLMOPT_MAXCONNECTS, 512L);
    curl_multi_setopt(pl_curl_loop_multi(pw->cl), CURLMOPT_PIPELINING,
                      (long)CURLPIPE_MULTIPLEX);
    if ((rc = pl__h1_client_new(pw)) != 0) {
        pl_curl_loop_close(pw->cl, NULL, NULL);
        free(pw);
        return rc;
    }
    *out = pw;
    return 0;
}

static void h1_closed(pl_proxy_worker *pw)
{
    free(pw);
}

static void curl_closed(void *arg)
{
    pl_proxy_worker *pw = arg;

    for (int i = 0; i < pw->npool; i++)
        curl_easy_cleanup(pw->pool[i]);
    pl__h1_client_close(pw, h1_closed);
}

void pl_proxy_worker_close(pl_proxy_worker *pw)
{
    if (pw == NULL)
        return;
    pl_curl_loop_close(pw->cl, curl_closed, pw);
}

static CURL *easy_get(pl_proxy_worker *pw)
{
    if (pw->npool > 0)
        return pw->pool[--pw->npool];
    return curl_easy_init();
}

static void easy_put(pl_proxy_worker *pw, CURL *easy)
{
    if (pw->npool < EASY_POOL) {
        curl_easy_reset(easy);
        pw->pool[pw->npool++] = easy;
    } else {
        curl_easy_cleanup(easy);
    }
}

/* ---- transfer lifetime ---- */

static void xfer_closed(uv_handle_t *h)
{
    pl_upstream_xfer *x = container_of((uv_timer_t *)h, pl_upstream_xfer, timer);

    free(x->hdr_mem);
    free(x);
}

/* Frees the transfer (the easy handle must no longer be on the loop). */
void pl__xfer_release(pl_upstream_xfer *x)
{
    if (x->easy != NULL)
        easy_put(x->pw, x->easy);
    x->easy = NULL;
    uv_timer_stop(&x->timer);
    uv_close((uv_handle_t *)&x->timer, xfer_closed);
}

void pl__xfer_detach(pl_upstream_xfer *x)
{
    if (x->s != NULL) {
        x->s->xfer = NULL;
        x->s = NULL;
    }
}

static void deferred_cancel(uv_timer_t *t)
{
    pl_upstream_xfer *x = container_of(t, pl_upstream_xfer, timer);

    if (x->added)
        pl_curl_loop_cancel(x->pw->cl, x->easy);
    x->added = 0;
    pl__xfer_release(x);
}

void pl_proxy_cancel(pl_stream *s)
{
    pl_upstream_xfer *x = s->xfer;

    if (x == NULL)
        return;
    pl__xfer_detach(x);
    if (x->native) {
        pl__h1_client_cancel(x);
        return;
    }
    if (x->in_callback)
        return; /* the callback returns an error and curl ends the transfer */
    if (x->added && x->pw->in_curl) {
        /* Inside another transfer's callback: remove it on the next turn. */
        uv_timer_start(&x->timer, deferred_cancel, 0, 0);
        return;
    }
    deferred_cancel(&x->timer);
}

static void unpause(pl_upstream_xfer *x)
{
    int mask = (x->recv_paused ? CURLPAUSE_RECV : 0) |
               (x->send_paused ? CURLPAUSE_SEND : 0);

    if (!x->added || x->in_callback)
        return;
    x->in_callback++;
    curl_easy_pause(x->easy, mask);
    x->in_callback--;
    pl_curl_loop_kick(x->pw->cl);
}

/* ---- errors ---- */

void pl__xfer_fail(pl_upstream_xfer *x, pl_upstream_error_kind kind,
                   int status, const char *code, const char *msg)
{
    pl_stream *s = x->s;

    pl_metrics_upstream_error(metrics_of(x->pw), kind);
    pl_log_debug("upstream request %s failed: %s", s->request_id, msg);
    pl__xfer_detach(x);
    /* The stream may be freed by either call: it is not touched after. */
    if (s->resp_head_sent)
        pl_stream_abort(s);
    else
        pl_stream_error(s, status, code, msg);
}

static void fail(pl_upstream_xfer *x, CURLcode rc)
{
    pl_upstream_error_kind kind;
    int status = 502;
    const char *code = "upstream_unreachable", *msg;

    switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
        kind = PL_UPERR_CONNECT;
        msg = "the upstream refused or could not be reached";
        break;
    case CURLE_OPERATION_TIMEDOUT:
        kind = PL_UPERR_TIMEOUT;
        status = 504;
        code = "upstream_timeout";
        msg = x->timed_out ? "the upstream did not answer in time"
                           : "connecting to the upstream timed out";
        break;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CACERT_BADFILE:
        kind = PL_UPERR_TLS;
        code = "upstream_tls";
        msg = "TLS with the upstream failed";
        break;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2_STREAM:
    case CURLE_HTTP2:
        kind = PL_UPERR_RESET;
        code = "upstream_reset";
        msg = "the upstream closed or reset the connection";
        break;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
        kind = PL_UPERR_PROTOCOL;
        code = "upstream_protocol";
        msg = "the upstream sent a malformed response";
        break;
    default:
        kind = PL_UPERR_OTHER;
        code = "upstream_error";
        msg = curl_easy_strerror(rc);
        break;
    }
    pl_log_debug("libcurl: %s", curl_easy_strerror(rc));
    pl__xfer_fail(x, kind, status, code, msg);
}

/* ---- curl callbacks ---- */

/* A header name equal to a lower-case literal, ignoring case. */
#define NAME_IS(name, len, lit) \
    ((len) == sizeof(lit) - 1 && strncasecmp((name), (lit), sizeof(lit) - 1) == 0)

static int is_hop_by_hop(const char *name, size_t len)
{
    /* Compared by length first: this runs for every header both ways. */
    switch (len) {
    case 2: return NAME_IS(name, len, "te");
    case 7: return NAME_IS(name, len, "upgrade") || NAME_IS(name, len, "trailer");
    case 10: return NAME_IS(name, len, "connection") || NAME_IS(name, len, "keep-alive");
    case 14: return NAME_IS(name, len, "http2-settings");
    case 16: return NAME_IS(name, len, "proxy-connection");
    case 17: return NAME_IS(name, len, "transfer-encoding");
    case 18: return NAME_IS(name, len, "proxy-authenticate");
    default: return 0;
    }
}

static void on_timeout(uv_timer_t *t);

static void send_head(pl_proxy_worker *pw, pl_stream *s)
{
    const char *via = s->proto == PL_PROTO_HTTP1 ? "1.1 parley" : "2 parley";

    (void)pw;
    pl_stream_add_resp_header(s, "Via", 3, via, strlen(via));
    pl_stream_send_head(s);
}

static size_t header_cb(char *buf, size_t size, size_t n, pl_upstream_xfer *x);
static size_t write_cb(char *ptr, size_t size, size_t n, pl_upstream_xfer *x);
static size_t read_cb(char *buf, size_t size, size_t n, pl_upstream_xfer *x);

/* Every libcurl callback runs with pw->in_curl raised (see pl_proxy_cancel). */
static size_t on_header(char *buf, size_t size, size_t n, void *arg)
{
    pl_upstream_xfer *x = arg;
    pl_proxy_worker *pw = x->pw;
    size_t r;

    pw->in_curl++;
    r = header_cb(buf, size, n, x);
    pw->in_curl--;
    return r;
}

static size_t on_write(char *ptr, size_t size, size_t n, void *arg)
{
    pl_upstream_xfer *x = arg;
    pl_proxy_worker *pw = x->pw;
    size_t r;

    pw->in_curl++;
    r = write_cb(ptr, size, n, x);
    pw->in_curl--;
    return r;
}

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
    pl_upstream_xfer *x = arg;
    pl_proxy_worker *pw = x->pw;
    size_t r;

    pw->in_curl++;
    r = read_cb(buf, size, n, x);
    pw->in_curl--;
    return r;
}

static size_t header_cb(char *buf, size_t size, size_t n, pl_upstream_xfer *x)
{
    pl_stream *s = x->s;
    size_t len = size * n;

    if (s == NULL)
        return 0;
    if (x->head_done)
        return len; /* trailers are not forwarded */
    if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
        const char *sp = memchr(buf, ' ', len);
        s->status = sp ? atoi(sp + 1) : 502;
        s->nresp_headers = 0;
        x->skip_head = s->status < 200;
        return len;
    }
    if (len <= 2 && (buf[0] == '\r' || buf[0] == '\n')) {
        if (x->skip_head)
            return len; /* 100 Continue, 103 Early Hints: wait for the final */
        pl__xfer_head_complete(x);
        return x->s == NULL ? 0 : len;
    }
    const char *colon = memchr(buf, ':', len);
    if (colon == NULL || x->skip_head)
        return len;
    size_t nlen = (size_t)(colon - buf);
    const char *v = colon + 1;
    size_t vlen = len - nlen - 1;
    while (vlen > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        vlen--;
    }
    while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
                        v[vlen - 1] == ' '))
        vlen--;
    if (pl__xfer_resp_header(x, buf, nlen, v, vlen) != 0)
        return 0;
    return len;
}

int pl__xfer_resp_header(pl_upstream_xfer *x, const char *name, size_t nlen,
                         const char *value, size_t vlen)
{
    if (is_hop_by_hop(name, nlen))
        return 0;
    if (x->buffer_resp && NAME_IS(name, nlen, "content-length"))
        return 0; /* recomputed after the handler ran */
    return pl_stream_add_resp_header(x->s, name, nlen, value, vlen);
}

void pl__xfer_head_complete(pl_upstream_xfer *x)
{
    pl_stream *s = x->s;

    x->head_done = 1;
    s->upstream_ns = uv_hrtime() - s->t_upstream;
    pl__xfer_arm(x, x->timeout_ms);
    if (!x->buffer_resp) {
        x->in_callback++;
        send_head(x->pw, s);
        x->in_callback--;
    }
}

static size_t write_cb(char *ptr, size_t size, size_t n, pl_upstream_xfer *x)
{
    pl_stream *s = x->s;
    size_t len = size * n;

    if (s == NULL)
        return 0;
    if (!x->buffer_resp && s->resp_body.len >= PL_STREAM_BODY_HIGH) {
        x->recv_paused = 1;
        uv_timer_stop(&x->timer);
        return CURL_WRITEFUNC_PAUSE;
    }
    if (pl__xfer_resp_body(x, ptr, len) != 0)
        return 0;
    if (x->s != NULL)
        uv_timer_start(&x->timer, on_timeout, x->timeout_ms, 0);
    return x->s == NULL ? 0 : len;
}

int pl__xfer_resp_body(pl_upstream_xfer *x, const char *data, size_t len)
{
    pl_stream *s = x->s;

    if (x->buffer_resp &&
        s->resp_body.len + len > (uint64_t)s->rt->config->limits.request_body_size) {
        x->resp_limit_hit = 1;
        return -1;
    }
    if (pl_bufq_append(&s->resp_body, data, len) != 0)
        return -1;
    if (!x->buffer_resp) {
        x->in_callback++;
        pl_stream_resp_data(s);
        x->in_callback--;
    }
    return x->s == NULL ? -1 : 0;
}

static size_t read_cb(char *buf, size_t size, size_t n, pl_upstream_xfer *x)
{
    pl_stream *s = x->s;
    size_t got;

    if (s == NULL)
        return CURL_READFUNC_ABORT;
    got = pl_bufq_read(&s->req_body, buf, size * n);
    if (got == 0) {
        if (s->req_done)
            return 0;
        x->send_paused = 1;
        return CURL_READFUNC_PAUSE;
    }
    if (!x->head_done)
        uv_timer_start(&x->timer, on_timeout, x->timeout_ms, 0);
    x->in_callback++;
    pl_stream_req_consumed(s, got);
    x->in_callback--;
    return x->s == NULL ? CURL_READFUNC_ABORT : got;
}

/* ---- completion ---- */

static void resp_handler_done(pl_handler_call *call, int error_status)
{
    pl_upstream_xfer *x = container_of(call, pl_upstream_xfer, call);
    pl_stream *s = x->s;
    char num[24];

    pl__xfer_detach(x);
    pl__xfer_release(x);
    if (s == NULL)
        return;
    if (error_status != 0) {
        pl_stream_error(s, error_status, "handler_failed",
                        "the route handler rejected the response");
    } else {
        int n = snprintf(num, sizeof(num), "%zu", s->resp_body.len);
        pl_stream_add_resp_header(s, "Content-Length", 14, num, (size_t)n);
        s->resp_done = 1;
        pl_stream_add_resp_header(s, "Via", 3,
                                  s->proto == PL_PROTO_HTTP1 ? "1.1 parley" : "2 parley",
                                  s->proto == PL_PROTO_HTTP1 ? 10 : 8);
        if (pl_stream_send_head(s) == 0)
            pl_stream_resp_data(s);
    }
}

void pl__xfer_finish(pl_upstream_xfer *x)
{
    pl_stream *s = x->s;

    if (x->buffer_resp && x->handler->on_response != NULL) {
        x->call = (pl_handler_call){.stream = s, .body = &s->resp_body,
                                    .status = s->status,
                                    .done = resp_handler_done};
        int st = x->handler->on_response(&x->call);
        if (st != 0)
            resp_handler_done(&x->call, st);
        return;
    }
    pl__xfer_detach(x);
    pl__xfer_release(x);
    s->resp_done = 1;
    if (!s->resp_head_sent)
        send_head(x->pw, s);
    pl_stream_resp_data(s);
}

static void on_done(CURL *easy, CURLcode rc, void *arg)
{
    pl_upstream_xfer *x = arg;
    pl_stream *s = x->s;

    (void)easy;
    x->added = 0;
    uv_timer_stop(&x->timer);
    if (s == NULL) {
        pl__xfer_release(x);
        return;
    }
    if (s->upstream_ns == 0)
        s->upstream_ns = uv_hrtime() - s->t_upstream;
    if (x->timed_out)
        rc = CURLE_OPERATION_TIMEDOUT;
    if (rc == CURLE_WRITE_ERROR && x->resp_limit_hit) {
        pl__xfer_release(x);
        pl__xfer_fail(x, PL_UPERR_OTHER, 502, "upstream_too_large",
                      "the upstream response is too large to transform");
        return;
    }
    if (rc != CURLE_OK) {
        pl__xfer_release(x);
        fail(x, rc);
        return;
    }
    pl__xfer_finish(x);
}

static void on_timeout(uv_timer_t *t)
{
    pl_upstream_xfer *x = container_of(t, pl_upstream_xfer, timer);

    if (x->native) {
        pl__h1_client_timeout(x);
        return;
    }
    if (!x->added || x->s == NULL)
        return;
    x->timed_out = 1;
    pl_curl_loop_cancel(x->pw->cl, x->easy);
    on_done(x->easy, CURLE_OPERATION_TIMEDOUT, x);
}

/* ---- starting a transfer ---- */

/*
 * Appends "Name: value" to the request's header lines. An empty value is
 * written "Name;" (curl's way to send it), a removal "Name:". The lines
 * are linked into a curl_slist only once complete (header_list()): one
 * allocation per request instead of two per header.
 */
enum { HDR_VALUE, HDR_REMOVE };

static int hdr_put(pl_upstream_xfer *x, const char *name, size_t nlen,
                   const char *value, size_t vlen, int kind)
{
    size_t need = nlen + 2 + vlen + 1;

    if (x->native) /* straight into the request head; removals are curl's */
        return kind == HDR_REMOVE ? 0 : pl__h1_client_put_header(x, name, nlen, value, vlen);

    if (pl_grow(&x->hdr_mem, &x->hdr_cap, x->hdr_len + need, 1024) != 0)
        return PL_ENOMEM;
    char *p = x->hdr_mem + x->hdr_len;
    memcpy(p, name, nlen);
    p += nlen;
    if (kind == HDR_REMOVE) {
        *p++ = ':';
    } else if (vlen == 0) {
        *p++ = ';';
    } else {
        *p++ = ':';
        *p++ = ' ';
        memcpy(p, value, vlen);
        p += vlen;
    }
    *p++ = '\0';
    x->hdr_len = (size_t)(p - x->hdr_mem);
    x->hdr_count++;
    return 0;
}

static int add_header(pl_upstream_xfer *x, const char *name, const char *value)
{
    return hdr_put(x, name, strlen(name), value, strlen(value), HDR_VALUE);
}

/* Links the header lines into a curl_slist placed after them. */
static int header_list(pl_upstream_xfer *x)
{
    size_t align = _Alignof(struct curl_slist);
    size_t at = (x->hdr_len + align - 1) / align * align;
    size_t need = at + x->hdr_count * sizeof(struct curl_slist);
    char *n = realloc(x->hdr_mem, need);

    if (n == NULL)
        return PL_ENOMEM;
    x->hdr_mem = n;
    x->hdr_cap = need;
    struct curl_slist *nodes = (struct curl_slist *)(void *)(n + at);
    char *line = n;
    for (unsigned i = 0; i < x->hdr_count; i++) {
        nodes[i].data = line;
        nodes[i].next = i + 1 < x->hdr_count ? &nodes[i + 1] : NULL;
        line += strlen(line) + 1;
    }
    x->hdrs = x->hdr_count > 0 ? nodes : NULL;
    return 0;
}

/* "a, b" (or just "b" without `a`) */
static int add_joined(pl_upstream_xfer *x, const char *name, const char *a,
                      const char *b)
{
    char buf[1024];
    size_t alen = a ? strlen(a) : 0, blen = strlen(b);

    if (alen + 2 + blen > sizeof(buf)) {
        char *big = malloc(alen + 2 + blen);
        if (big == NULL)
            return PL_ENOMEM;
        memcpy(big, a, alen);
        memcpy(big + alen, ", ", 2);
        memcpy(big + alen + 2, b, blen);
        int rc = hdr_put(x, name, strlen(name), big, alen + 2 + blen, HDR_VALUE);
        free(big);
        return rc;
    }
    size_t len = 0;
    if (a != NULL) {
        memcpy(buf, a, alen);
        memcpy(buf + alen, ", ", 2);
        len = alen + 2;
    }
    memcpy(buf + len, b, blen);
    return hdr_put(x, name, strlen(name), buf, len + blen, HDR_VALUE);
}

/* Is `name` listed in the request's Connection header? */
static int named_in_connection(const char *conn, const char *name, size_t nlen)
{
    const char *p = conn;

    while (p != NULL && *p) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t k = strcspn(p, ", ");
        if (k == nlen && strncasecmp(p, name, k) == 0)
            return 1;
        p += k;
    }
    return 0;
}

int pl__xfer_build_headers(pl_upstream_xfer *x, pl_stream *s)
{
    const char *conn = pl_stream_header(s, "connection");
    const char *xff = NULL, *via = NULL;
    int has_accept = 0;

    for (size_t i = 0; i < s->nheaders; i++) {
        const pl_header *h = &s->headers[i];
        const char *nm = h->name;
        size_t nl = h->name_len;
        if (is_hop_by_hop(nm, nl) || (conn && named_in_connection(conn, nm, nl)))
            continue;
        if (NAME_IS(nm, nl, "host") || NAME_IS(nm, nl, "content-length") ||
            NAME_IS(nm, nl, "expect") || NAME_IS(nm, nl, "x-request-id") ||
            NAME_IS(nm, nl, "x-forwarded-proto") ||
            NAME_IS(nm, nl, "x-forwarded-host"))
            continue;
        if (NAME_IS(nm, nl, "x-forwarded-for")) {
            xff = h->value;
            continue;
        }
        if (NAME_IS(nm, nl, "via")) {
            via = h->value;
            continue;
        }
        if (NAME_IS(nm, nl, "accept"))
            has_accept = 1;
        if (hdr_put(x, h->name, h->name_len, h->value, h->value_len,
                    HDR_VALUE) != 0)
            return PL_ENOMEM;
    }
    if (s->authority != NULL && add_header(x, "Host", s->authority) != 0)
        return PL_ENOMEM;
    if (add_joined(x, "X-Forwarded-For", xff,
                   s->client_ip ? s->client_ip : "unknown") != 0 ||
        add_header(x, "X-Forwarded-Proto", s->scheme) != 0 ||
        (s->authority && add_header(x, "X-Forwarded-Host", s->authority) != 0) ||
        add_header(x, "X-Request-Id", s->request_id) != 0)
        return PL_ENOMEM;
    if (add_joined(x, "Via", via,
                   s->proto == PL_PROTO_HTTP1
                       ? (s->http_minor ? "1.1 parley" : "1.0 parley")
                       : "2 parley") != 0)
        return PL_ENOMEM;
    /* Keep curl from adding headers the client did not send. */
    if (!has_accept && hdr_put(x, "Accept", 6, "", 0, HDR_REMOVE) != 0)
        return PL_ENOMEM;
    if (hdr_put(x, "Expect", 6, "", 0, HDR_REMOVE) != 0)
        return PL_ENOMEM;
    return 0;
}

static int setup_easy(pl_upstream_xfer *x, pl_stream *s)
{
    const pl_config *cfg = s->rt->config;
    const pl_route_config *r = s->route;
    const pl_upstream_config *up = r->up;
    CURL *e = x->easy;
    const char *path = s->path[0] == '/' ? s->path : "/";
    char *url = pl_arena_printf(&s->arena, "%s%s", up->url, path);
    int https = strncasecmp(up->url, "https:", 6) == 0;

    if (url == NULL || pl__xfer_build_headers(x, s) != 0 || header_list(x) != 0)
        return PL_ENOMEM;
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    /* No proxy: also spares curl its proxy environment lookups per request. */
    curl_easy_setopt(e, CURLOPT_PROXY, "");
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->hdrs);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_HTTP_CONTENT_DECODING, 0L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                     (long)(up->connect_timeout ? up->connect_timeout
                                                : cfg->timeouts.upstream_connect));
    if (up->protocol == PL_UPSTREAM_HTTP2) {
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
                         https ? (long)CURL_HTTP_VERSION_2TLS
                               : (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE);
        curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    }
    if (https) {
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, up->tls_verify ? 1L : 0L);
        curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, up->tls_verify ? 2L : 0L);
        if (up->ca_file != NULL)
            curl_easy_setopt(e, CURLOPT_CAINFO, up->ca_file);
    }
    if (strcmp(s->method, "GET") == 0 && !s->has_body) {
        curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(s->method, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, s->method);
        if (s->has_body || s->content_length >= 0 ||
            strcmp(s->method, "POST") == 0 || strcmp(s->method, "PUT") == 0 ||
            strcmp(s->method, "PATCH") == 0) {
            curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
            curl_easy_setopt(e, CURLOPT_READDATA, x);
            if (s->content_length >= 0)
                curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
                                 (curl_off_t)s->content_length);
            else if (!s->has_body)
                curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)0);
        }
    }
    x->timeout_ms = (uint64_t)(up->response_timeout ? up->response_timeout
                                                    : cfg->timeouts.upstream_response);
    return 0;
}

static void launch(pl_upstream_xfer *x);

static void deferred_launch(uv_timer_t *t)
{
    launch(container_of(t, pl_upstream_xfer, timer));
}

void pl__xfer_arm(pl_upstream_xfer *x, uint64_t ms)
{
    uv_timer_start(&x->timer, on_timeout, ms, 0);
}

static void launch(pl_upstream_xfer *x)
{
    pl_stream *s = x->s;

    if (x->native) {
        const pl_upstream_config *up = s->route->up;
        x->timeout_ms = (uint64_t)(up->response_timeout
                                       ? up->response_timeout
                                       : s->rt->config->timeouts.upstream_response);
        s->t_upstream = uv_hrtime();
        pl__h1_client_start(x);
        return;
    }
    if (x->pw->in_curl) {
        /* Started from inside a libcurl callback: add it on the next turn. */
        uv_timer_start(&x->timer, deferred_launch, 0, 0);
        return;
    }
    if (setup_easy(x, s) != 0 ||
        pl_curl_loop_add(x->pw->cl, x->easy, on_done, x) != 0) {
        pl__xfer_detach(x);
        pl__xfer_release(x);
        pl_stream_error(s, 500, "internal", "cannot start the upstream request");
        return;
    }
    x->added = 1;
    s->t_upstream = uv_hrtime();
    uv_timer_start(&x->timer, on_timeout, x->timeout_ms, 0);
}

static void req_handler_done(pl_handler_call *call, int error_status)
{
    pl_upstream_xfer *x = container_of(call, pl_upstream_xfer, call);
    pl_stream *s = x->s;

    if (s == NULL) {
        pl__xfer_release(x);
        return;
    }
    if (error_status != 0) {
        pl__xfer_detach(x);
        pl__xfer_release(x);
        pl_stream_error(s, error_status, "handler_failed",
                        "the route handler rejected the request");
        return;
    }
    s->content_length = (int64_t)s->req_body.len;
    s->has_body = 1;
    launch(x);
}

static void run_request_handler(pl_upstream_xfer *x)
{
    x->buffer_req = 0;
    x->call = (pl_handler_call){.stream = x->s, .body = &x->s->req_body,
                                .done = req_handler_done};
    int st = x->handler->on_request(&x->call);
    if (st != 0)
        req_handler_done(&x->call, st);
}

void pl_proxy_start(pl_proxy_worker *pw, pl_stream *s)
{
    const pl_config *cfg = s->rt->config;
    const pl_route_config *r;
    pl_upstream_xfer *x;

    switch (pl_route_match(&cfg->routes, s->authority, s->method, s->path, &r)) {
    case PL_ROUTE_NOT_FOUND:
        pl_stream_error(s, 404, "no_route", "no route matches this request");
        return;
    case PL_ROUTE_BAD_METHOD:
        pl_stream_error(s, 405, "method_not_allowed",
                        "the route for this path does not accept this method");
        return;
    case PL_ROUTE_FOUND:
        break;
    }
    s->route = r;
    if (s->content_length > cfg->limits.request_body_size) {
        pl_stream_error(s, 413, "body_too_large",
                        "the request body is larger than limits.request_body_size");
        return;
    }
    x = calloc(1, sizeof(*x));
    if (x != NULL)
        x->native = pl__h1_client_serves(r->up);
    if (x == NULL || (!x->native && (x->easy = easy_get(pw)) == NULL)) {
        free(x);
        pl_stream_error(s, 503, "overloaded", "out of memory");
        return;
    }
    uv_timer_init(pw->loop, &x->timer);
    x->pw = pw;
    x->s = s;
    s->xfer = x;
    x->handler = pl_route_handlers[r->handler];
    x->buffer_req = x->handler->on_request != NULL;
    x->buffer_resp = x->handler->on_response != NULL;
    if (x->buffer_req) {
        if (s->req_done)
            run_request_handler(x);
        return;
    }
    launch(x);
}

void pl_proxy_req_data(pl_stream *s)
{
    pl_upstream_xfer *x = s->xfer;

    if (x == NULL)
        return;
    if (x->buffer_req) {
        if (s->req_done)
            run_request_handler(x);
        return;
    }
    if (x->native) {
        pl__h1_client_req_data(x);
        return;
    }
    if (x->send_paused && !x->in_callback) {
        x->send_paused = 0;
        unpause(x);
    }
}

void pl_proxy_resp_drained(pl_stream *s)
{
    pl_upstream_xfer *x = s->xfer;

    if (x != NULL && x->native) {
        pl__h1_client_resp_drained(x);
        return;
    }
    if (x != NULL && x->recv_paused && !x->in_callback) {
        x->recv_paused = 0;
        unpause(x);
        if (x->s != NULL && !x->recv_paused)
            uv_timer_start(&x->timer, on_timeout, x->timeout_ms, 0);
    }
}
