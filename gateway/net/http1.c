/*
 * HTTP/1.1 on a client connection: request heads checked byte by byte
 * before http-parser sees them (bare LF, obs-fold, head size), framing
 * checks against request smuggling, bounded request bodies, responses with
 * Content-Length or chunked framing, keep-alive and the h2c Upgrade.
 */
#include "net_internal.h"

#include "parley/error.h"
#include "parley/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct pl_h1 {
    http_parser parser;
    pl_conn *c;
    pl_stream *cur;   /* the request being received or answered */
    /* The header being assembled: name then value. */
    char *hbuf;
    size_t hlen, hcap, name_len;
    int in_value;
    /* Head scanner, run over the bytes before the parser sees them. */
    int in_head;
    int headers_done; /* later header callbacks are chunked trailers */
    size_t head_bytes, line_len, lines;
    int prev_cr;
    /* Request state. */
    int cl_count, te_count, te_chunked_only, has_upgrade_h2c;
    int msg_complete;   /* the request (head and body) was received */
    int resp_complete;  /* the response was fully queued */
    int keepalive;
    int chunked_out;    /* the response uses chunked framing */
    int failed;         /* a protocol error was answered; close after */
    int paused_body;    /* parser paused because the body queue is full */
    int expect_continue;
    int in_execute;     /* inside http_parser_execute() */
    int dead;           /* the connection closed during execute: free after */
};

static const char *reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default: return "Status";
    }
}

/* Answers a request that cannot be parsed and closes afterwards. */
static void h1_fail(pl_h1 *h, int status, const char *code, const char *msg)
{
    pl_conn *c = h->c;

    h->failed = 1;
    h->keepalive = 0;
    h->in_head = 0;
    if (h->cur == NULL) {
        h->cur = pl__stream_new(c, PL_PROTO_HTTP1);
        if (h->cur == NULL) {
            pl__conn_close(c);
            return;
        }
    }
    if (h->cur->method == NULL) {
        h->cur->method = "-";
        h->cur->http_minor = 1; /* the request line was not understood */
    }
    if (h->cur->path == NULL)
        h->cur->path = "-";
    h->msg_complete = 1;
    pl_stream_error(h->cur, status, code, msg);
}

static void reset_head(pl_h1 *h)
{
    h->in_head = 1;
    h->headers_done = 0;
    h->head_bytes = h->line_len = h->lines = 0;
    h->prev_cr = 0;
    h->hlen = h->name_len = 0;
    h->in_value = 0;
    h->cl_count = h->te_count = h->has_upgrade_h2c = 0;
    h->te_chunked_only = 1;
    h->msg_complete = h->resp_complete = 0;
    h->chunked_out = 0;
    h->paused_body = 0;
    h->expect_continue = 0;
}

/*
 * Scans head bytes. Returns the number of bytes that belong to the head
 * (all of `len` when it continues), or -1 after answering an error.
 */
static long scan_head(pl_h1 *h, const char *p, size_t len)
{
    const pl_config *cfg = pl__conn_config(h->c);
    size_t limit = cfg ? (size_t)cfg->limits.header_block_size : 16384;

    for (size_t i = 0; i < len; i++) {
        char b = p[i];
        if (h->head_bytes == 0 && h->lines == 0 && h->line_len == 0)
            pl__conn_set_timer(h->c, TIMER_HEADER,
                               cfg ? (uint64_t)cfg->timeouts.header_read : 10000);
        if (++h->head_bytes > limit) {
            h1_fail(h, 431, "header_too_large",
                    "the request head is larger than limits.header_block_size");
            return -1;
        }
        if (b == '\n') {
            if (!h->prev_cr) {
                h1_fail(h, 400, "bad_request", "bare LF in the request head");
                return -1;
            }
            h->prev_cr = 0;
            if (h->line_len == 0) {
                if (h->lines > 0) {
                    h->in_head = 0;
                    return (long)i + 1;
                }
                continue; /* empty lines before a request are ignored */
            }
            h->lines++;
            h->line_len = 0;
            continue;
        }
        if (h->prev_cr) {
            h1_fail(h, 400, "bad_request", "bare CR in the request head");
            return -1;
        }
        if (b == '\r') {
            h->prev_cr = 1;
            continue;
        }
        if (h->line_len == 0 && (b == ' ' || b == '\t')) {
            h1_fail(h, 400, "bad_request",
                    "folded header lines (obs-fold) are not accepted");
            return -1;
        }
        h->line_len++;
    }
    return (long)len;
}

/* ---- http-parser callbacks ---- */

static int hbuf_append(pl_h1 *h, const char *at, size_t len)
{
    if (pl_grow(&h->hbuf, &h->hcap, h->hlen + len + 1, 256) != 0)
        return -1;
    memcpy(h->hbuf + h->hlen, at, len);
    h->hlen += len;
    return 0;
}

static int contains_token(const char *v, const char *token)
{
    size_t n = strlen(token);

    while (*v) {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        const char *start = v;
        while (*v && *v != ',')
            v++;
        const char *end = v;
        while (end > start && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if ((size_t)(end - start) == n && strncasecmp(start, token, n) == 0)
            return 1;
    }
    return 0;
}

static void commit_header(pl_h1 *h)
{
    pl_stream *s = h->cur;
    const char *name = h->hbuf, *value = h->hbuf + h->name_len;
    size_t nlen = h->name_len, vlen = h->hlen - h->name_len;

    if (!h->in_value || s == NULL)
        return;
    while (vlen > 0 && (value[vlen - 1] == ' ' || value[vlen - 1] == '\t'))
        vlen--;
    if (nlen == 14 && strncasecmp(name, "content-length", 14) == 0)
        h->cl_count++;
    if (nlen == 17 && strncasecmp(name, "transfer-encoding", 17) == 0) {
        h->te_count++;
        if (vlen != 7 || strncasecmp(value, "chunked", 7) != 0)
            h->te_chunked_only = 0;
    }
    pl__stream_add_header(s, name, nlen, value, vlen);
    h->hlen = h->name_len = 0;
    h->in_value = 0;
}

static int on_message_begin(http_parser *p)
{
    pl_h1 *h = p->data;

    if (h->dead)
        return -1;
    if (h->cur == NULL)
        h->cur = pl__stream_new(h->c, PL_PROTO_HTTP1);
    return h->cur == NULL ? -1 : 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
    pl_h1 *h = p->data;

    /* The URL can arrive in pieces; keep it in hbuf until the first header. */
    return hbuf_append(h, at, len);
}

static int finish_url(pl_h1 *h)
{
    pl_stream *s = h->cur;

    if (s->path != NULL)
        return 0;
    s->path = pl_arena_strndup(&s->arena, h->hbuf, h->hlen);
    h->hlen = 0;
    return s->path == NULL ? -1 : 0;
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
    pl_h1 *h = p->data;

    /*
     * Trailers of a chunked body are dropped: the request was dispatched
     * with its head, and may already be answered (h->cur NULL).
     */
    if (h->headers_done || h->cur == NULL)
        return 0;
    if (finish_url(h) != 0)
        return -1;
    if (h->in_value)
        commit_header(h);
    if (hbuf_append(h, at, len) != 0)
        return -1;
    h->name_len = h->hlen;
    return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
    pl_h1 *h = p->data;

    if (h->headers_done || h->cur == NULL)
        return 0;
    h->in_value = 1;
    return hbuf_append(h, at, len);
}

static int start_upgrade(pl_h1 *h);
static void begin_next(pl_conn *c);

static int on_headers_complete(http_parser *p)
{
    pl_h1 *h = p->data;
    pl_stream *s = h->cur;
    const pl_config *cfg = pl__conn_config(h->c);
    const char *v;

    if (h->dead || s == NULL)
        return -1;
    h->headers_done = 1;
    if (finish_url(h) != 0)
        return -1;
    commit_header(h);
    s->method = http_method_str((enum http_method)p->method);
    s->http_minor = p->http_major == 1 ? p->http_minor : 0;
    s->authority = pl_stream_header(s, "host");
    h->keepalive = http_should_keep_alive(p);
    if (p->http_major != 1) {
        h1_fail(h, 400, "bad_request", "only HTTP/1.0 and HTTP/1.1 are served here");
        return -1;
    }
    if (h->cl_count > 1) {
        h1_fail(h, 400, "bad_request", "more than one Content-Length header");
        return -1;
    }
    if (h->te_count > 0 && h->cl_count > 0) {
        h1_fail(h, 400, "bad_request",
                "both Content-Length and Transfer-Encoding were sent");
        return -1;
    }
    if (h->te_count > 1 || (h->te_count == 1 && !h->te_chunked_only)) {
        h1_fail(h, 400, "bad_request",
                "only 'Transfer-Encoding: chunked' is accepted");
        return -1;
    }
    if (s->http_minor == 1 && s->authority == NULL) {
        h1_fail(h, 400, "bad_request", "an HTTP/1.1 request needs a Host header");
        return -1;
    }
    if (p->method == HTTP_CONNECT) {
        h1_fail(h, 405, "method_not_allowed", "CONNECT is not served");
        return -1;
    }
    if (h->cl_count == 1)
        s->content_length = (int64_t)p->content_length;
    s->has_body = h->te_count > 0 || (h->cl_count == 1 && p->content_length > 0);
    if (cfg != NULL && s->content_length > cfg->limits.request_body_size) {
        h1_fail(h, 413, "body_too_large",
                "the request body is larger than limits.request_body_size");
        return -1;
    }
    v = pl_stream_header(s, "upgrade");
    if (v != NULL && contains_token(v, "h2c") && !s->has_body &&
        pl_stream_header(s, "http2-settings") != NULL && !h->c->ssl &&
        !h->c->admin) {
        const char *conn = pl_stream_header(s, "connection");
        if (conn != NULL && contains_token(conn, "upgrade") &&
            contains_token(conn, "http2-settings"))
            return start_upgrade(h);
    }
    v = pl_stream_header(s, "expect");
    if (v != NULL && strcasecmp(v, "100-continue") == 0 && s->http_minor == 1) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        pl__conn_write(h->c, cont, sizeof(cont) - 1);
        pl__conn_flush(h->c);
    }
    if (s->has_body)
        pl__conn_set_timer(h->c, TIMER_BODY,
                           cfg ? (uint64_t)cfg->timeouts.body_idle : 30000);
    else
        pl__conn_set_timer(h->c, TIMER_NONE, 0);
    pl__stream_dispatch(s);
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
    pl_h1 *h = p->data;
    pl_stream *s = h->cur;
    const pl_config *cfg = pl__conn_config(h->c);

    if (h->dead)
        return -1;
    if (s == NULL || h->resp_complete || h->failed)
        return 0; /* answered already: the rest of the body is dropped */
    pl__conn_set_timer(h->c, TIMER_BODY,
                       cfg ? (uint64_t)cfg->timeouts.body_idle : 30000);
    if (cfg != NULL &&
        s->req_bytes + len > (uint64_t)cfg->limits.request_body_size) {
        h->keepalive = 0;
        h->failed = 1;
        pl_stream_error(s, 413, "body_too_large",
                        "the request body is larger than limits.request_body_size");
        return 0;
    }
    s->req_bytes += len;
    if (pl_bufq_append(&s->req_body, at, len) != 0)
        return -1;
    pl_proxy_req_data(s);
    if (h->cur == s && s->req_body.len >= PL_STREAM_BODY_HIGH) {
        h->paused_body = 1;
        http_parser_pause(p, 1);
    }
    return 0;
}

static int on_message_complete(http_parser *p)
{
    pl_h1 *h = p->data;
    pl_stream *s = h->cur;

    if (h->dead)
        return -1;
    h->msg_complete = 1;
    pl__conn_set_timer(h->c, TIMER_NONE, 0);
    if (s != NULL && !h->failed && !h->resp_complete) {
        s->req_done = 1;
        pl_proxy_req_data(s);
    }
    /* One request at a time: pipelined bytes wait for the response. */
    http_parser_pause(p, 1);
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_message_begin,
    .on_url = on_url,
    .on_header_field = on_header_field,
    .on_header_value = on_header_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_message_complete,
};

int pl__h1_init(pl_conn *c)
{
    pl_h1 *h = calloc(1, sizeof(*h));

    if (h == NULL)
        return PL_ENOMEM;
    http_parser_init(&h->parser, HTTP_REQUEST);
    h->parser.data = h;
    h->c = c;
    reset_head(h);
    c->h1 = h;
    c->proto = CONN_HTTP1;
    return 0;
}

void pl__h1_free(pl_conn *c)
{
    pl_h1 *h = c->h1;

    if (h == NULL)
        return;
    c->h1 = NULL;
    if (h->cur != NULL) {
        pl_stream *s = h->cur;
        h->cur = NULL;
        pl__stream_detach(s);
    }
    if (h->in_execute) {
        h->dead = 1; /* pl__h1_feed frees it when the parser returns */
        return;
    }
    free(h->hbuf);
    free(h);
}

/* ---- h2c Upgrade ---- */

static int start_upgrade(pl_h1 *h)
{
    static const char resp[] = "HTTP/1.1 101 Switching Protocols\r\n"
                               "Connection: Upgrade\r\nUpgrade: h2c\r\n\r\n";
    pl_conn *c = h->c;
    pl_stream *s = h->cur;
    const char *settings64 = pl_stream_header(s, "http2-settings");

    pl__conn_write(c, resp, sizeof(resp) - 1);
    h->cur = NULL;
    s->proto = PL_PROTO_H2C;
    s->req_done = 1;
    /* http-parser stops after this head (an upgrade); the h2 session takes
     * over the bytes that follow. */
    if (pl__h2_init(c, settings64, strlen(settings64), s) != 0) {
        pl__stream_detach(s);
        pl__conn_close(c);
        return -1;
    }
    return 0;
}

size_t pl__h1_feed(pl_conn *c, const char *data, size_t len)
{
    pl_h1 *h = c->h1;
    size_t off = 0;

    while (off < len && !c->closing && c->proto == CONN_HTTP1) {
        size_t n = len - off, k;
        if (h->msg_complete && h->resp_complete && h->keepalive && !h->failed) {
            /* The exchange ended inside the parser: next request. */
            begin_next(c);
        }
        if (h->msg_complete || h->paused_body)
            return off; /* waits for the response or for the upstream */
        if (h->in_head) {
            long e = scan_head(h, data + off, n);
            if (e < 0)
                return len;
            n = (size_t)e;
        }
        h->in_execute = 1;
        k = http_parser_execute(&h->parser, &settings, data + off, n);
        h->in_execute = 0;
        off += k;
        if (h->dead) {
            free(h->hbuf);
            free(h);
            return len;
        }
        if (c->closing || c->proto != CONN_HTTP1)
            return off;
        enum http_errno err = HTTP_PARSER_ERRNO(&h->parser);
        if (err == HPE_PAUSED) {
            if (h->msg_complete || h->paused_body)
                return off;
            continue;
        }
        if (err != HPE_OK) {
            if (!h->failed)
                h1_fail(h, 400, "bad_request", http_errno_description(err));
            return len;
        }
        if (k < n)
            return off;
    }
    return off;
}

/* ---- responses ---- */

static int name_is(const pl_header *hd, const char *name, size_t len)
{
    return hd->name_len == len && strncasecmp(hd->name, name, len) == 0;
}

static int is_hop_header(const pl_header *hd)
{
    return name_is(hd, "connection", 10) ||
           name_is(hd, "transfer-encoding", 17) ||
           name_is(hd, "keep-alive", 10);
}

/* "HTTP/1.1 200 OK\r\n" without printf (once per response). */
static size_t status_line(char *out, int minor, int status)
{
    if (status < 100 || status > 999)
        status = 502; /* the upstream sent no usable status code */
    const char *why = reason(status);
    size_t wlen = strlen(why);
    char *p = out;

    memcpy(p, minor ? "HTTP/1.1 " : "HTTP/1.0 ", 9);
    p += 9;
    *p++ = (char)('0' + status / 100);
    *p++ = (char)('0' + status / 10 % 10);
    *p++ = (char)('0' + status % 10);
    *p++ = ' ';
    memcpy(p, why, wlen);
    p += wlen;
    *p++ = '\r';
    *p++ = '\n';
    return (size_t)(p - out);
}

/* One header line, written with a single copy when it is short. */
static void write_header(pl_conn *c, const pl_header *hd)
{
    char line[512];
    size_t n = hd->name_len + 2 + hd->value_len + 2;

    if (n > sizeof(line)) {
        pl__conn_write(c, hd->name, hd->name_len);
        pl__conn_write(c, ": ", 2);
        pl__conn_write(c, hd->value, hd->value_len);
        pl__conn_write(c, "\r\n", 2);
        return;
    }
    memcpy(line, hd->name, hd->name_len);
    memcpy(line + hd->name_len, ": ", 2);
    memcpy(line + hd->name_len + 2, hd->value, hd->value_len);
    memcpy(line + n - 2, "\r\n", 2);
    pl__conn_write(c, line, n);
}

void pl__h1_send_head(pl_conn *c, pl_stream *s)
{
    pl_h1 *h = c->h1;
    char line[128];
    int has_cl = 0;

    if (h == NULL || h->cur != s)
        return;
    pl__conn_write(c, line, status_line(line, s->http_minor, s->status));
    for (size_t i = 0; i < s->nresp_headers; i++) {
        const pl_header *hd = &s->resp_headers[i];
        if (is_hop_header(hd))
            continue;
        if (name_is(hd, "content-length", 14))
            has_cl = 1;
        write_header(c, hd);
    }
    if (!s->resp_no_body && !has_cl) {
        if (s->http_minor >= 1) {
            h->chunked_out = 1;
            pl__conn_write(c, "Transfer-Encoding: chunked\r\n", 28);
        } else {
            h->keepalive = 0; /* the end of the body is the end of the connection */
        }
    }
    if (c->w->draining)
        h->keepalive = 0;
    if (!h->keepalive)
        pl__conn_write(c, "Connection: close\r\n", 19);
    else if (s->http_minor == 0)
        pl__conn_write(c, "Connection: keep-alive\r\n", 24);
    pl__conn_write(c, "\r\n", 2);
}

/* Prepares for the next request on a kept-alive connection. */
static void begin_next(pl_conn *c)
{
    pl_h1 *h = c->h1;
    const pl_config *cfg = pl__conn_config(c);

    reset_head(h);
    http_parser_pause(&h->parser, 0);
    pl__conn_set_timer(c, TIMER_KEEPALIVE,
                       cfg ? (uint64_t)cfg->timeouts.keepalive_idle : 75000);
}

static void next_request(pl_conn *c)
{
    begin_next(c);
    if (c->w->draining) {
        c->close_after_write = 1;
        pl__conn_flush(c);
        return;
    }
    pl__conn_read_start(c); /* feeds pending bytes first */
}

/* The response was fully queued for the client. */
static void response_complete(pl_conn *c, pl_stream *s)
{
    pl_h1 *h = c->h1;

    h->resp_complete = 1;
    h->cur = NULL;
    pl__stream_client_done(s);
    if (!h->keepalive || h->failed) {
        c->close_after_write = 1;
        pl__conn_flush(c);
        return;
    }
    if (!h->msg_complete) {
        /* The request body is still coming: read and drop it first. */
        if (h->paused_body) {
            h->paused_body = 0;
            http_parser_pause(&h->parser, 0);
        }
        if (!h->in_execute)
            pl__conn_read_start(c);
        return;
    }
    if (!h->in_execute)
        next_request(c);
}

void pl__h1_resp_data(pl_conn *c, pl_stream *s)
{
    pl_h1 *h = c->h1;
    char buf[16384];
    size_t before = s->resp_body.len;

    if (h == NULL || h->cur != s)
        return;
    while (s->resp_body.len > 0 && pl__conn_queued(c) < PL_CONN_OUT_HIGH) {
        size_t n = pl_bufq_read(&s->resp_body, buf, sizeof(buf));
        if (s->resp_no_body)
            continue;
        if (h->chunked_out) {
            char size[24];
            int k = snprintf(size, sizeof(size), "%zx\r\n", n);
            pl__conn_write(c, size, (size_t)k);
            pl__conn_write(c, buf, n);
            pl__conn_write(c, "\r\n", 2);
        } else {
            pl__conn_write(c, buf, n);
        }
        s->resp_bytes += n;
    }
    if (before >= PL_STREAM_BODY_HIGH / 2 &&
        s->resp_body.len < PL_STREAM_BODY_HIGH / 2)
        pl_proxy_resp_drained(s);
    if (s->resp_done && s->resp_body.len == 0 && h->cur == s) {
        if (h->chunked_out && !s->resp_no_body)
            pl__conn_write(c, "0\r\n\r\n", 5);
        response_complete(c, s);
    }
    if (!c->closing)
        pl__conn_flush(c);
}

void pl__h1_req_consumed(pl_conn *c, pl_stream *s)
{
    pl_h1 *h = c->h1;

    if (h == NULL || h->cur != s || !h->paused_body)
        return;
    if (s->req_body.len >= PL_STREAM_BODY_HIGH / 2)
        return;
    h->paused_body = 0;
    http_parser_pause(&h->parser, 0);
    pl__conn_read_start(c);
}

void pl__h1_on_written(pl_conn *c)
{
    pl_h1 *h = c->h1;

    if (h != NULL && h->cur != NULL && h->cur->resp_head_sent)
        pl__h1_resp_data(c, h->cur);
}

void pl__h1_abort(pl_conn *c, pl_stream *s)
{
    (void)s;
    /* Mid-response, the only honest signal in HTTP/1.1 is closing. */
    pl__conn_close(c);
}

void pl__h1_drain(pl_conn *c)
{
    pl_h1 *h = c->h1;

    if (h == NULL)
        return;
    h->keepalive = 0;
    if (h->cur == NULL && h->head_bytes == 0)
        pl__conn_close(c);
}

void pl__h1_timeout(pl_conn *c)
{
    pl_h1 *h = c->h1;

    if (h != NULL && h->cur != NULL && !h->cur->resp_head_sent &&
        (c->timer_kind == TIMER_HEADER || c->timer_kind == TIMER_BODY)) {
        h->keepalive = 0;
        h->failed = 1;
        pl_stream_error(h->cur, 408, "request_timeout",
                        c->timer_kind == TIMER_HEADER
                            ? "the request head did not arrive in time"
                            : "the request body stalled");
        return;
    }
    if (h != NULL && h->cur == NULL && c->timer_kind == TIMER_HEADER) {
        h1_fail(h, 408, "request_timeout",
                "the request head did not arrive in time");
        return;
    }
    pl__conn_close(c);
}
