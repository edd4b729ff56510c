/*
 * HTTP/2 on a client connection with nghttp2. The session never touches
 * the socket: received bytes go through nghttp2_session_mem_recv(), output
 * is drained with nghttp2_session_mem_send() into the connection's bounded
 * queue. Request bodies use manual flow control (window credit is returned
 * only when the upstream took the bytes); abuse (rapid reset, CONTINUATION
 * and control-frame floods) ends the connection with GOAWAY and is counted.
 */
#include "net_internal.h"

#include "parley/error.h"
#include "parley/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define H2_CONN_WINDOW (1 << 20)
#define H2_MAX_CONTINUATIONS 8

struct pl_h2 {
    nghttp2_session *session;
    pl_conn *c;
    pl_proto proto;
    int in_send;
    int goaway;
    int abused;
    unsigned nstreams;
    pl_stream *streams; /* open streams, for teardown */
    /* Token buckets, refilled at the configured rates per second. */
    double reset_tokens, ctrl_tokens;
    uint64_t refill_ms;
    pl_h2_mem mem;
    int frame_buf_used; /* output produced since the last idle release */
    unsigned request_ids; /* x-request-id headers sent */
    int drained;          /* the last send left no frame in progress */
};

static const pl_limits_config *limits(pl_h2 *h)
{
    static const pl_limits_config fallback = {
        .h2_max_concurrent_streams = 128,
        .h2_max_header_list_size = 16384,
        .h2_max_resets_per_second = 200,
        .h2_max_control_frames_per_second = 200,
        .request_body_size = 128 << 20,
    };
    const pl_config *cfg = pl__conn_config(h->c);

    return cfg ? &cfg->limits : &fallback;
}

/* Ends the connection for abuse: GOAWAY(ENHANCE_YOUR_CALM), count, close. */
static int abuse(pl_h2 *h, pl_h2_abuse_kind kind, const char *what)
{
    if (!h->abused) {
        h->abused = 1;
        pl_metrics_h2_abuse(h->c->w->metrics, kind);
        pl_log_warn("closing HTTP/2 connection from %s: %s", h->c->peer, what);
        nghttp2_session_terminate_session(h->session, NGHTTP2_ENHANCE_YOUR_CALM);
        h->c->close_after_write = 1;
    }
    return NGHTTP2_ERR_CALLBACK_FAILURE;
}

/* Returns 1 when a token was available (the frame is within the rate). */
static int take_token(pl_h2 *h, int reset)
{
    const pl_limits_config *l = limits(h);
    uint64_t now = uv_now(&h->c->w->loop);
    double rrate = (double)l->h2_max_resets_per_second;
    double crate = (double)l->h2_max_control_frames_per_second;

    if (now > h->refill_ms) {
        double sec = (double)(now - h->refill_ms) / 1000.0;
        h->reset_tokens += sec * rrate;
        h->ctrl_tokens += sec * crate;
        h->refill_ms = now;
    }
    if (h->reset_tokens > rrate * 2)
        h->reset_tokens = rrate * 2;
    if (h->ctrl_tokens > crate * 2)
        h->ctrl_tokens = crate * 2;
    double *t = reset ? &h->reset_tokens : &h->ctrl_tokens;
    if (*t < 1)
        return 0;
    *t -= 1;
    return 1;
}

static void link_stream(pl_h2 *h, pl_stream *s)
{
    s->h2_prev = NULL;
    s->h2_next = h->streams;
    if (h->streams)
        h->streams->h2_prev = s;
    h->streams = s;
    h->nstreams++;
}

static void unlink_stream(pl_h2 *h, pl_stream *s)
{
    if (s->h2_prev)
        s->h2_prev->h2_next = s->h2_next;
    else
        h->streams = s->h2_next;
    if (s->h2_next)
        s->h2_next->h2_prev = s->h2_prev;
    s->h2_prev = s->h2_next = NULL;
    h->nstreams--;
}

static pl_stream *stream_of(pl_h2 *h, int32_t id)
{
    return nghttp2_session_get_stream_user_data(h->session, id);
}

/* ---- receiving ---- */

static int on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame,
                            void *arg)
{
    pl_h2 *h = arg;
    pl_stream *s;

    (void)session;
    if (frame->hd.type != NGHTTP2_HEADERS ||
        frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0;
    s = pl__stream_new(h->c, h->proto);
    if (s == NULL)
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    s->h2_id = frame->hd.stream_id;
    link_stream(h, s);
    pl__conn_set_timer(h->c, TIMER_NONE, 0);
    nghttp2_session_set_stream_user_data(h->session, s->h2_id, s);
    return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame,
                     const uint8_t *name, size_t namelen, const uint8_t *value,
                     size_t valuelen, uint8_t flags, void *arg)
{
    pl_h2 *h = arg;
    pl_stream *s = stream_of(h, frame->hd.stream_id);
    const char *n = (const char *)name, *v = (const char *)value;

    (void)session;
    (void)flags;
    if (s == NULL || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
        return 0; /* trailers are not forwarded */
    s->head_bytes += namelen + valuelen + 32;
    if (s->head_bytes > (size_t)limits(h)->h2_max_header_list_size) {
        s->flags |= PL_STREAM_F_TOO_LARGE;
        return 0;
    }
    if (namelen > 0 && n[0] == ':') {
        const char **dst = NULL;
        if (namelen == 7 && memcmp(n, ":method", 7) == 0)
            dst = &s->method;
        else if (namelen == 5 && memcmp(n, ":path", 5) == 0)
            dst = &s->path;
        else if (namelen == 10 && memcmp(n, ":authority", 10) == 0)
            dst = &s->authority;
        else if (namelen == 7 && memcmp(n, ":scheme", 7) == 0)
            dst = &s->scheme;
        if (dst != NULL)
            *dst = pl_arena_strndup(&s->arena, v, valuelen);
        return 0;
    }
    if (namelen == 6 && memcmp(n, "cookie", 6) == 0) {
        /* Crumbs are joined again for HTTP/1.1 upstreams (RFC 9113 8.2.3). */
        for (size_t i = 0; i < s->nheaders; i++) {
            pl_header *hd = &s->headers[i];
            if (strcmp(hd->name, "cookie") != 0)
                continue;
            char *j = pl_arena_printf(&s->arena, "%s; %.*s", hd->value,
                                      (int)valuelen, v);
            if (j != NULL) {
                hd->value = j;
                hd->value_len = strlen(j);
            }
            return 0;
        }
    }
    pl__stream_add_header(s, n, namelen, v, valuelen);
    return 0;
}

static void head_complete(pl_h2 *h, pl_stream *s, int end_stream)
{
    const char *cl;

    if (s->authority == NULL)
        s->authority = pl_stream_header(s, "host");
    s->has_body = !end_stream;
    s->req_done = end_stream;
    cl = pl_stream_header(s, "content-length");
    if (cl != NULL)
        s->content_length = strtoll(cl, NULL, 10);
    if (s->flags & PL_STREAM_F_TOO_LARGE) {
        s->flags |= PL_STREAM_F_DISCARD;
        pl_stream_error(s, 431, "header_too_large",
                        "the header list is larger than limits.h2_max_header_list_size");
        return;
    }
    if (s->method == NULL || s->path == NULL) {
        s->flags |= PL_STREAM_F_DISCARD;
        pl_stream_error(s, 400, "bad_request", "missing :method or :path");
        return;
    }
    if (strcmp(s->method, "CONNECT") == 0) {
        s->flags |= PL_STREAM_F_DISCARD;
        pl_stream_error(s, 405, "method_not_allowed", "CONNECT is not served");
        return;
    }
    if (s->content_length > limits(h)->request_body_size) {
        s->flags |= PL_STREAM_F_DISCARD;
        pl_stream_error(s, 413, "body_too_large",
                        "the request body is larger than limits.request_body_size");
        return;
    }
    pl__stream_dispatch(s);
}

static int on_frame_recv(nghttp2_session *session, const nghttp2_frame *frame,
                         void *arg)
{
    pl_h2 *h = arg;
    pl_stream *s;
    int end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;

    (void)session;
    switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
        s = stream_of(h, frame->hd.stream_id);
        if (s == NULL)
            return 0;
        if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
            head_complete(h, s, end_stream);
        } else if (end_stream && !s->req_done) {
            s->req_done = 1; /* trailers end the body */
            pl_proxy_req_data(s);
        }
        return 0;
    case NGHTTP2_DATA:
        s = stream_of(h, frame->hd.stream_id);
        if (s != NULL && end_stream && !s->req_done) {
            s->req_done = 1;
            if (!(s->flags & PL_STREAM_F_DISCARD))
                pl_proxy_req_data(s);
        }
        return 0;
    case NGHTTP2_RST_STREAM:
        if (!take_token(h, 1))
            return abuse(h, PL_H2_ABUSE_RAPID_RESET,
                         "too many RST_STREAM frames (rapid reset)");
        return 0;
    case NGHTTP2_SETTINGS:
    case NGHTTP2_PING:
        if (!(frame->hd.flags & NGHTTP2_FLAG_ACK) && !take_token(h, 0))
            return abuse(h, PL_H2_ABUSE_CONTROL_FLOOD,
                         "too many SETTINGS or PING frames");
        return 0;
    default:
        return 0;
    }
}

static int on_data_chunk(nghttp2_session *session, uint8_t flags,
                         int32_t stream_id, const uint8_t *data, size_t len,
                         void *arg)
{
    pl_h2 *h = arg;
    pl_stream *s = stream_of(h, stream_id);

    (void)flags;
    if (s == NULL || (s->flags & PL_STREAM_F_DISCARD) || s->resp_done) {
        nghttp2_session_consume(session, stream_id, len);
        return 0;
    }
    if (s->req_bytes + len > (uint64_t)limits(h)->request_body_size) {
        s->flags |= PL_STREAM_F_DISCARD;
        nghttp2_session_consume(session, stream_id, len);
        pl_stream_error(s, 413, "body_too_large",
                        "the request body is larger than limits.request_body_size");
        return 0;
    }
    s->req_bytes += len;
    if (pl_bufq_append(&s->req_body, data, len) != 0)
        return NGHTTP2_ERR_CALLBACK_FAILURE;
    pl_proxy_req_data(s);
    return 0;
}

static int on_stream_close(nghttp2_session *session, int32_t stream_id,
                           uint32_t error_code, void *arg)
{
    pl_h2 *h = arg;
    pl_stream *s = stream_of(h, stream_id);

    (void)error_code;
    if (s == NULL)
        return 0;
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    unlink_stream(h, s);
    if (!s->resp_done || s->resp_body.len > 0) {
        if (s->status == 0 || !s->resp_head_sent)
            s->status = 499; /* the client gave up before the response */
    }
    pl__stream_client_done(s);
    return 0;
}

static int on_begin_frame(nghttp2_session *session, const nghttp2_frame_hd *hd,
                          void *arg)
{
    (void)session;
    (void)hd;
    (void)arg;
    return 0;
}

/* ---- sending ---- */

static ssize_t data_read(nghttp2_session *session, int32_t stream_id,
                         uint8_t *buf, size_t length, uint32_t *data_flags,
                         nghttp2_data_source *source, void *arg)
{
    pl_stream *s = source->ptr;
    size_t before = s->resp_body.len;
    size_t n;

    (void)session;
    (void)stream_id;
    (void)arg;
    n = pl_bufq_read(&s->resp_body, buf, length);
    s->resp_bytes += n;
    if (s->resp_body.len == 0 && s->resp_done)
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    else if (n == 0)
        return NGHTTP2_ERR_DEFERRED;
    if (before >= PL_STREAM_BODY_HIGH / 2 &&
        s->resp_body.len < PL_STREAM_BODY_HIGH / 2)
        pl_proxy_resp_drained(s);
    return (ssize_t)n;
}

/*
 * Frames are produced once per loop turn, right before the connection's
 * output is written (pl__conn_flush() queues it): a response whose head,
 * body and end arrive in one turn becomes HEADERS plus one DATA frame
 * carrying END_STREAM.
 */
static void h2_flush(pl_conn *c)
{
    pl__conn_flush(c);
}

void pl__h2_produce(pl_conn *c)
{
    pl_h2 *h = c->h2;

    if (h == NULL || h->in_send || c->closing)
        return;
    h->in_send = 1;
    int drained = 0;
    while (pl__conn_queued(c) < PL_CONN_OUT_HIGH) {
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(h->session, &data);
        if (n < 0) {
            h->in_send = 0;
            pl__conn_close(c);
            return;
        }
        if (n == 0) {
            drained = 1;
            break;
        }
        h->frame_buf_used = 1;
        if (pl__conn_write(c, data, (size_t)n) != 0)
            break;
    }
    h->in_send = 0;
    if (c->closing)
        return;
    if (!nghttp2_session_want_read(h->session) &&
        !nghttp2_session_want_write(h->session))
        c->close_after_write = 1;
    if (h->nstreams == 0 && !c->close_after_write) {
        const pl_config *cfg = pl__conn_config(c);
        h->drained = drained;
        /* Releases the frame buffer now or, after a request, a bit later. */
        pl__conn_set_timer(c, TIMER_KEEPALIVE,
                           cfg ? (uint64_t)cfg->timeouts.keepalive_idle : 75000);
    }
}

void pl__h2_release_idle(pl_conn *c)
{
    pl_h2 *h = c->h2;

    if (h->drained && h->frame_buf_used && h->nstreams == 0) {
        /* Idle: nghttp2 holds no frame in progress. */
        pl__h2_mem_release_idle(&h->mem);
        h->frame_buf_used = 0;
    }
}

static int is_conn_header(const pl_header *hd)
{
    switch (hd->name_len) {
    case 7: return strcasecmp(hd->name, "upgrade") == 0;
    case 10: return strcasecmp(hd->name, "connection") == 0 ||
                    strcasecmp(hd->name, "keep-alive") == 0;
    case 16: return strcasecmp(hd->name, "proxy-connection") == 0;
    case 17: return strcasecmp(hd->name, "transfer-encoding") == 0;
    default: return 0;
    }
}

void pl__h2_send_head(pl_conn *c, pl_stream *s)
{
    pl_h2 *h = c->h2;
    char status[8];
    nghttp2_nv *nva;
    size_t n = 0;
    nghttp2_data_provider prd = {.source.ptr = s, .read_callback = data_read};

    if (h == NULL)
        return;
    nva = pl_arena_alloc(&s->arena, (s->nresp_headers + 1) * sizeof(*nva));
    if (nva == NULL) {
        pl__h2_abort(c, s);
        return;
    }
    snprintf(status, sizeof(status), "%d", s->status);
    nva[n++] = (nghttp2_nv){(uint8_t *)":status", (uint8_t *)status, 7,
                            strlen(status), NGHTTP2_NV_FLAG_NONE};
    for (size_t i = 0; i < s->nresp_headers; i++) {
        const pl_header *hd = &s->resp_headers[i];
        if (is_conn_header(hd))
            continue;
        uint8_t flags = NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE;
        /* A value unique to each response only churns the HPACK table
         * (and nghttp2 compares it against every entry of that name). One
         * in 64 is indexed so that the others can refer to the name. */
        if (hd->name_len == 12 && memcmp(hd->name, "x-request-id", 12) == 0 &&
            h->request_ids++ % 64 != 0)
            flags |= NGHTTP2_NV_FLAG_NO_INDEX;
        nva[n++] = (nghttp2_nv){(uint8_t *)hd->name, (uint8_t *)hd->value,
                                hd->name_len, hd->value_len, flags};
    }
    if (nghttp2_submit_response(h->session, s->h2_id, nva, n,
                                s->resp_no_body ? NULL : &prd) != 0) {
        pl__h2_abort(c, s);
        return;
    }
    if (s->resp_no_body)
        s->flags |= PL_STREAM_F_DISCARD;
    h2_flush(c);
}

void pl__h2_resp_data(pl_conn *c, pl_stream *s)
{
    pl_h2 *h = c->h2;

    if (h == NULL || s->resp_no_body)
        return;
    nghttp2_session_resume_data(h->session, s->h2_id);
    h2_flush(c);
}

void pl__h2_req_consumed(pl_conn *c, pl_stream *s, size_t n)
{
    pl_h2 *h = c->h2;

    if (h == NULL)
        return;
    nghttp2_session_consume(h->session, s->h2_id, n);
    h2_flush(c);
}

void pl__h2_on_written(pl_conn *c)
{
    h2_flush(c);
}

void pl__h2_abort(pl_conn *c, pl_stream *s)
{
    pl_h2 *h = c->h2;

    if (h == NULL)
        return;
    nghttp2_submit_rst_stream(h->session, NGHTTP2_FLAG_NONE, s->h2_id,
                              NGHTTP2_INTERNAL_ERROR);
    h2_flush(c);
}

void pl__h2_drain(pl_conn *c)
{
    pl_h2 *h = c->h2;

    if (h == NULL || h->goaway)
        return;
    h->goaway = 1;
    nghttp2_submit_goaway(h->session, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(h->session),
                          NGHTTP2_NO_ERROR, NULL, 0);
    h2_flush(c);
    if (!c->closing && h->nstreams == 0)
        c->close_after_write = 1;
    pl__conn_flush(c);
}

void pl__h2_timeout(pl_conn *c)
{
    pl_h2 *h = c->h2;

    if (h != NULL && h->nstreams > 0)
        return;
    pl__h2_drain(c);
    c->close_after_write = 1;
    pl__conn_flush(c);
}

void pl__h2_feed(pl_conn *c, const char *data, size_t len)
{
    pl_h2 *h = c->h2;
    ssize_t rv;

    if (h == NULL || len == 0 || c->close_after_write)
        return;
    rv = nghttp2_session_mem_recv(h->session, (const uint8_t *)data, len);
    if (c->closing || c->h2 == NULL)
        return;
    if (rv < 0) {
        if (rv == NGHTTP2_ERR_FLOODED)
            abuse(h, PL_H2_ABUSE_FLOODED, "too many queued control frames");
        else if (rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS)
            abuse(h, PL_H2_ABUSE_CONTINUATION,
                  "too many CONTINUATION frames (CONTINUATION flood)");
        else if (!h->abused && rv != NGHTTP2_ERR_CALLBACK_FAILURE) {
            pl_log_debug("HTTP/2 error from %s: %s", c->peer,
                         nghttp2_strerror((int)rv));
            nghttp2_session_terminate_session(h->session, NGHTTP2_PROTOCOL_ERROR);
            if (rv != NGHTTP2_ERR_BAD_CLIENT_MAGIC)
                pl_metrics_h2_abuse(c->w->metrics, PL_H2_ABUSE_PROTOCOL);
        }
        c->close_after_write = 1;
    }
    h2_flush(c);
}

/* ---- setup ---- */

static int b64url_decode(const char *in, size_t len, uint8_t *out, size_t *outlen)
{
    uint32_t acc = 0;
    int bits = 0;
    size_t n = 0;

    for (size_t i = 0; i < len; i++) {
        char ch = in[i];
        int v;
        if (ch >= 'A' && ch <= 'Z')
            v = ch - 'A';
        else if (ch >= 'a' && ch <= 'z')
            v = ch - 'a' + 26;
        else if (ch >= '0' && ch <= '9')
            v = ch - '0' + 52;
        else if (ch == '-' || ch == '+')
            v = 62;
        else if (ch == '_' || ch == '/')
            v = 63;
        else if (ch == '=')
            break;
        else
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= *outlen)
                return -1;
            out[n++] = (uint8_t)(acc >> bits);
        }
    }
    *outlen = n;
    return 0;
}

static nghttp2_session_callbacks *shared_callbacks;
static nghttp2_option *shared_option;
static uv_once_t shared_once = UV_ONCE_INIT;

static void init_shared(void)
{
    nghttp2_session_callbacks_new(&shared_callbacks);
    nghttp2_session_callbacks_set_on_begin_headers_callback(shared_callbacks,
                                                            on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(shared_callbacks, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(shared_callbacks,
                                                         on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(shared_callbacks,
                                                              on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(shared_callbacks,
                                                           on_stream_close);
    nghttp2_session_callbacks_set_on_begin_frame_callback(shared_callbacks,
                                                          on_begin_frame);
    nghttp2_option_new(&shared_option);
    nghttp2_option_set_no_auto_window_update(shared_option, 1);
    nghttp2_option_set_max_continuations(shared_option, H2_MAX_CONTINUATIONS);
    /* Our own, configurable, reset accounting runs first. */
    nghttp2_option_set_stream_reset_rate_limit(shared_option, 1000000, 1000000);
    nghttp2_option_set_max_outbound_ack(shared_option, 1000);
    nghttp2_option_set_max_settings(shared_option, 64);
    /* No priority tree: closed streams are freed at once. */
    nghttp2_option_set_no_closed_streams(shared_option, 1);
}

int pl__h2_init(pl_conn *c, const char *upgrade_settings, size_t len,
                pl_stream *upgraded)
{
    pl_h2 *h = calloc(1, sizeof(*h));
    const pl_limits_config *l;
    nghttp2_settings_entry iv[3];
    int rv;

    if (h == NULL)
        return PL_ENOMEM;
    uv_once(&shared_once, init_shared);
    h->c = c;
    h->proto = c->ssl != NULL ? PL_PROTO_H2 : PL_PROTO_H2C;
    h->refill_ms = uv_now(&c->w->loop);
    nghttp2_mem mem;
    pl__h2_mem_init(&h->mem, &mem);
    h->mem.creating = 1;
    rv = nghttp2_session_server_new3(&h->session, shared_callbacks, h,
                                     shared_option, &mem);
    h->mem.creating = 0;
    if (rv != 0) {
        free(h);
        return PL_ENOMEM;
    }
    l = limits(h);
    h->reset_tokens = (double)l->h2_max_resets_per_second * 2;
    h->ctrl_tokens = (double)l->h2_max_control_frames_per_second * 2;
    iv[0] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS,
                                     (uint32_t)l->h2_max_concurrent_streams};
    iv[1] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
                                     (uint32_t)l->h2_max_header_list_size};
    iv[2] = (nghttp2_settings_entry){NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE,
                                     PL_STREAM_BODY_HIGH - 1};
    c->h2 = h;
    c->proto = CONN_HTTP2;
    pl__conn_set_proto(c, h->proto);
    if (upgraded != NULL) {
        uint8_t settings[256];
        size_t slen = sizeof(settings);
        if (b64url_decode(upgrade_settings, len, settings, &slen) != 0)
            goto fail;
        rv = nghttp2_session_upgrade2(h->session, settings, slen,
                                      strcmp(upgraded->method, "HEAD") == 0,
                                      upgraded);
        if (rv != 0)
            goto fail;
        upgraded->h2_id = 1;
        link_stream(h, upgraded);
    }
    nghttp2_submit_settings(h->session, NGHTTP2_FLAG_NONE, iv, 3);
    nghttp2_session_set_local_window_size(h->session, NGHTTP2_FLAG_NONE, 0,
                                          H2_CONN_WINDOW);
    if (upgraded != NULL)
        pl__stream_dispatch(upgraded);
    h2_flush(c);
    return 0;

fail:
    nghttp2_session_del(h->session);
    free(h);
    c->h2 = NULL;
    return PL_EHTTP2;
}

void pl__h2_free(pl_conn *c)
{
    pl_h2 *h = c->h2;

    if (h == NULL)
        return;
    /* Detach every stream still open; their transfers are cancelled. */
    while (h->streams != NULL) {
        pl_stream *s = h->streams;
        unlink_stream(h, s);
        pl__stream_detach(s);
    }
    c->h2 = NULL;
    nghttp2_session_del(h->session); /* runs no callbacks */
    free(h);
}
