/*
 * Unit tests for the libcurl-on-libuv glue, against a tiny HTTP responder
 * running on the same loop (loopback, a port chosen by the kernel).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley/curl_loop.h"
#include "parley/error.h"

/* ---- a minimal HTTP/1.1 responder: answers every request with "hello" */

typedef struct responder {
    uv_tcp_t server;
    int port;
    int accepted;
} responder;

typedef struct client {
    uv_tcp_t tcp;
    char buf[4096];
    size_t len;
    uv_write_t wr;
} client;

static const char reply[] =
    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello";

static void client_closed(uv_handle_t *h) { free(h->data); }

static void alloc_cb(uv_handle_t *h, size_t size, uv_buf_t *buf)
{
    client *c = h->data;
    (void)size;
    *buf = uv_buf_init(c->buf + c->len, (unsigned)(sizeof(c->buf) - c->len - 1));
}

static void on_written(uv_write_t *wr, int status)
{
    (void)status;
    (void)wr;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    client *c = s->data;
    (void)buf;
    if (n < 0) {
        uv_close((uv_handle_t *)s, client_closed);
        return;
    }
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    /* Answer each complete request head (no request bodies in these tests). */
    char *end;
    while ((end = strstr(c->buf, "\r\n\r\n")) != NULL) {
        uv_buf_t out = uv_buf_init((char *)reply, sizeof(reply) - 1);
        size_t used = (size_t)(end + 4 - c->buf);
        uv_try_write(s, &out, 1);
        memmove(c->buf, c->buf + used, c->len - used + 1);
        c->len -= used;
    }
}

static void on_connection(uv_stream_t *server, int status)
{
    responder *r = server->data;
    client *c;

    assert_int_equal(status, 0);
    c = calloc(1, sizeof(*c));
    uv_tcp_init(server->loop, &c->tcp);
    c->tcp.data = c;
    assert_int_equal(uv_accept(server, (uv_stream_t *)&c->tcp), 0);
    r->accepted++;
    uv_read_start((uv_stream_t *)&c->tcp, alloc_cb, on_read);
    (void)on_written;
}

static void responder_start(uv_loop_t *loop, responder *r)
{
    struct sockaddr_in addr;
    struct sockaddr_storage bound;
    int len = sizeof(bound);

    memset(r, 0, sizeof(*r));
    uv_tcp_init(loop, &r->server);
    r->server.data = r;
    uv_ip4_addr("127.0.0.1", 0, &addr);
    assert_int_equal(uv_tcp_bind(&r->server, (struct sockaddr *)&addr, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&r->server, 128, on_connection), 0);
    uv_tcp_getsockname(&r->server, (struct sockaddr *)&bound, &len);
    r->port = ntohs(((struct sockaddr_in *)&bound)->sin_port);
}

/* Accepted connections own a heap `client`; everything else is static. */
static void close_all(uv_handle_t *h, void *arg)
{
    responder *r = arg;

    if (uv_is_closing(h))
        return;
    if (h->type == UV_TCP && h != (uv_handle_t *)&r->server)
        uv_close(h, client_closed);
    else
        uv_close(h, NULL);
}

/* ---- transfers */

typedef struct result {
    int done;
    CURLcode code;
    char body[64];
    size_t len;
} result;

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    result *r = arg;
    size_t k = size * n;
    if (r->len + k < sizeof(r->body)) {
        memcpy(r->body + r->len, p, k);
        r->len += k;
    }
    return k;
}

static int finished;

static void on_done(CURL *easy, CURLcode code, void *arg)
{
    result *r = arg;
    r->done++;
    r->code = code;
    finished++;
    curl_easy_cleanup(easy);
}

static CURL *make_easy(int port, result *r)
{
    char url[64];
    CURL *e = curl_easy_init();

    snprintf(url, sizeof(url), "http://127.0.0.1:%d/x", port);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 10000L);
    return e;
}

static int loop_closed;
static void on_loop_closed(void *arg)
{
    (void)arg;
    loop_closed = 1;
}

static void stop_when_done(uv_idle_t *idle)
{
    int *want = idle->data;
    if (finished >= *want)
        uv_idle_stop(idle);
}

static void shutdown_loop(uv_loop_t *loop, pl_curl_loop *cl, responder *srv)
{
    loop_closed = 0;
    pl_curl_loop_close(cl, on_loop_closed, NULL);
    uv_walk(loop, close_all, srv);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_true(loop_closed);
    assert_int_equal(uv_loop_close(loop), 0);
}

static void test_many_concurrent_transfers(void **state)
{
    uv_loop_t loop;
    responder srv;
    pl_curl_loop *cl;
    result res[20];
    uv_idle_t idle;
    int want = 20;

    (void)state;
    finished = 0;
    uv_loop_init(&loop);
    responder_start(&loop, &srv);
    assert_int_equal(pl_curl_loop_new(&loop, &cl), 0);
    memset(res, 0, sizeof(res));
    for (int i = 0; i < 20; i++)
        assert_int_equal(pl_curl_loop_add(cl, make_easy(srv.port, &res[i]),
                                          on_done, &res[i]),
                         0);
    assert_int_equal(pl_curl_loop_active(cl), 20);
    uv_idle_init(&loop, &idle);
    idle.data = &want;
    uv_idle_start(&idle, stop_when_done);
    while (finished < want)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&idle, NULL);
    for (int i = 0; i < 20; i++) {
        assert_int_equal(res[i].done, 1);
        assert_int_equal(res[i].code, CURLE_OK);
        assert_string_equal(res[i].body, "hello");
    }
    assert_int_equal(pl_curl_loop_active(cl), 0);
    shutdown_loop(&loop, cl, &srv);
}

static void test_connection_refused_reports_error(void **state)
{
    uv_loop_t loop;
    responder srv;
    pl_curl_loop *cl;
    result r = {0};
    int port;

    (void)state;
    finished = 0;
    uv_loop_init(&loop);
    /* Bind then close a listener so the port is (very likely) refused. */
    responder_start(&loop, &srv);
    port = srv.port;
    uv_close((uv_handle_t *)&srv.server, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(pl_curl_loop_new(&loop, &cl), 0);
    assert_int_equal(pl_curl_loop_add(cl, make_easy(port, &r), on_done, &r), 0);
    while (finished < 1)
        uv_run(&loop, UV_RUN_ONCE);
    assert_int_equal(r.code, CURLE_COULDNT_CONNECT);
    shutdown_loop(&loop, cl, &srv);
}

static void test_cancel_and_close_with_transfers_in_flight(void **state)
{
    uv_loop_t loop;
    responder srv;
    pl_curl_loop *cl;
    result r1 = {0}, r2 = {0};
    CURL *e1, *e2;

    (void)state;
    finished = 0;
    uv_loop_init(&loop);
    responder_start(&loop, &srv);
    assert_int_equal(pl_curl_loop_new(&loop, &cl), 0);
    e1 = make_easy(srv.port, &r1);
    e2 = make_easy(srv.port, &r2);
    assert_int_equal(pl_curl_loop_add(cl, e1, on_done, &r1), 0);
    assert_int_equal(pl_curl_loop_add(cl, e2, on_done, &r2), 0);
    assert_int_equal(pl_curl_loop_cancel(cl, e1), 0);
    assert_int_equal(pl_curl_loop_cancel(cl, e1), PL_ENOENT);
    curl_easy_cleanup(e1);
    assert_int_equal(pl_curl_loop_active(cl), 1);
    /* Closing with e2 still running must not call its callback nor leak. */
    shutdown_loop(&loop, cl, &srv);
    assert_int_equal(r1.done + r2.done, 0);
    curl_easy_cleanup(e2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_concurrent_transfers),
        cmocka_unit_test(test_connection_refused_reports_error),
        cmocka_unit_test(test_cancel_and_close_with_transfers_in_flight),
    };
    int rc;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
