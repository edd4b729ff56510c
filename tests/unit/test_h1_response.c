/*
 * Unit tests for the upstream response parser (gateway/proxy/h1_response.c):
 * framing by length, chunks and close; 1xx heads; keep-alive; every input
 * split at every byte; and each malformed form refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley/h1_response.h"

typedef struct seen {
    char headers[4096]; /* "name=value;" */
    char body[4096];
    size_t body_len;
    int status, heads;
    int stop_at_head;
} seen;

static int on_header(void *arg, const char *n, size_t nl, const char *v, size_t vl)
{
    seen *s = arg;
    size_t at = strlen(s->headers);
    snprintf(s->headers + at, sizeof(s->headers) - at, "%.*s=%.*s;", (int)nl, n,
             (int)vl, v);
    return 0;
}

static int on_head(void *arg, int status)
{
    seen *s = arg;
    s->status = status;
    s->heads++;
    return s->stop_at_head;
}

static int on_body(void *arg, const char *d, size_t len)
{
    seen *s = arg;
    assert_true(s->body_len + len < sizeof(s->body));
    memcpy(s->body + s->body_len, d, len);
    s->body_len += len;
    return 0;
}

static const pl_h1_resp_callbacks cbs = {on_header, on_head, on_body};

/* Feeds `in` in pieces of `step` bytes (0: all at once). */
static pl_h1_resp_result run(const char *in, size_t step, int no_body, seen *s,
                             pl_h1_resp *r, size_t *total_used)
{
    size_t len = strlen(in), off = 0, used;
    pl_h1_resp_result rc = PL_H1_RESP_MORE;

    memset(s, 0, sizeof(*s));
    pl_h1_resp_init(r, &cbs, s, no_body);
    while (off < len && rc == PL_H1_RESP_MORE) {
        size_t k = step == 0 || step > len - off ? len - off : step;
        rc = pl_h1_resp_feed(r, in + off, k, &used);
        assert_true(used <= k);
        off += used;
        if (rc == PL_H1_RESP_MORE)
            assert_int_equal(used, k);
    }
    if (total_used != NULL)
        *total_used = off;
    return rc;
}

static void expect_everywhere(const char *in, int no_body, const char *headers,
                              const char *body, int status, int keep_alive)
{
    size_t len = strlen(in);

    for (size_t step = 0; step <= len; step++) {
        seen s;
        pl_h1_resp r = {0};
        size_t used;
        pl_h1_resp_result rc = run(in, step, no_body, &s, &r, &used);
        assert_int_equal(rc, PL_H1_RESP_DONE);
        assert_int_equal(used, len);
        assert_string_equal(s.headers, headers);
        assert_int_equal(s.body_len, strlen(body));
        assert_memory_equal(s.body, body, s.body_len);
        assert_int_equal(s.status, status);
        assert_int_equal(s.heads, 1);
        assert_int_equal(r.keep_alive, keep_alive);
        pl_h1_resp_free(&r);
    }
}

static void test_content_length(void **state)
{
    (void)state;
    expect_everywhere("HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\n"
                      "X-Pad:   spaced out  \r\n\r\nhello",
                      0, "Server=x;Content-Length=5;X-Pad=spaced out;", "hello", 200, 1);
    /* Tabs and obs-text are fine inside long values (checked 8 bytes at a time). */
    expect_everywhere("HTTP/1.1 200 OK\r\nX-Long: tab\tinside a long value \xc3\xa9\xc3\xa9 end\r\n"
                      "Content-Length: 0\r\n\r\n",
                      0, "X-Long=tab\tinside a long value \xc3\xa9\xc3\xa9 end;Content-Length=0;",
                      "", 200, 1);
    /* The same length twice is one length. */
    expect_everywhere("HTTP/1.1 201 Created\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
                      0, "Content-Length=2;Content-Length=2;", "ok", 201, 1);
}

static void test_chunked_with_extensions_and_trailers(void **state)
{
    (void)state;
    expect_everywhere("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
                      "5;name=val\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n"
                      "0\r\nX-Trailer: t\r\nX-More: u\r\n\r\n",
                      0, "Transfer-Encoding=gzip, chunked;",
                      "helloabcdefghijklmnopqrstuvwxyz", 200, 1);
}

static void test_interim_heads_are_skipped(void **state)
{
    (void)state;
    expect_everywhere("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\n"
                      "Link: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi",
                      0, "Content-Length=2;", "hi", 200, 1);
}

static void test_responses_without_body(void **state)
{
    (void)state;
    expect_everywhere("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 1,
                      "Content-Length=5;", "", 200, 1);
    expect_everywhere("HTTP/1.1 204 No Content\r\n\r\n", 0, "", "", 204, 1);
    expect_everywhere("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", 0,
                      "ETag=\"x\";", "", 304, 1);
}

static void test_keep_alive_rules(void **state)
{
    seen s;
    pl_h1_resp r = {0};

    (void)state;
    expect_everywhere("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
                      0, "Connection=close;Content-Length=0;", "", 200, 0);
    expect_everywhere("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", 0,
                      "Content-Length=1;", "x", 200, 0);
    expect_everywhere("HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx",
                      0, "Connection=Keep-Alive;Content-Length=1;", "x", 200, 1);
    /* No length: the body runs to the end of the connection. */
    assert_int_equal(run("HTTP/1.1 200 OK\r\n\r\nsome body", 3, 0, &s, &r, NULL),
                     PL_H1_RESP_MORE);
    assert_int_equal(pl_h1_resp_eof(&r), PL_H1_RESP_DONE);
    assert_int_equal(r.keep_alive, 0);
    assert_int_equal(s.body_len, 9);
    pl_h1_resp_free(&r);
}

static void test_bytes_after_the_response_are_left(void **state)
{
    seen s;
    pl_h1_resp r = {0};
    size_t used;
    const char *in = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA";

    (void)state;
    assert_int_equal(run(in, 0, 0, &s, &r, &used), PL_H1_RESP_DONE);
    assert_int_equal(used, strlen(in) - 5);
    pl_h1_resp_free(&r);
}

static void test_early_end_and_stop(void **state)
{
    seen s;
    pl_h1_resp r = {0};

    (void)state;
    memset(&s, 0, sizeof(s));
    pl_h1_resp_init(&r, &cbs, &s, 0);
    assert_false(pl_h1_resp_started(&r));
    assert_int_equal(pl_h1_resp_eof(&r), PL_H1_RESP_INVALID);
    assert_int_equal(run("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 0, 0, &s,
                         &r, NULL), PL_H1_RESP_MORE);
    assert_true(pl_h1_resp_started(&r));
    assert_int_equal(pl_h1_resp_eof(&r), PL_H1_RESP_INVALID);
    assert_non_null(r.error);
    /* A callback can stop the parser. */
    memset(&s, 0, sizeof(s));
    s.stop_at_head = 1;
    pl_h1_resp_init(&r, &cbs, &s, 0);
    size_t used;
    assert_int_equal(pl_h1_resp_feed(&r, "HTTP/1.1 200 OK\r\n\r\n", 19, &used),
                     PL_H1_RESP_STOPPED);
    pl_h1_resp_free(&r);
}

static void test_malformed_responses(void **state)
{
    static const char *const bad[] = {
        "HTTP/1.1 200 OK\r\nX: a\r\n folded\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\nY: b\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a\rb\r\nContent-Length: 0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nBad Name: a\r\n\r\n",
        "HTTP/1.1 200 OK\r\n: empty name\r\n\r\n",
        "HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
        "HTTP/2.0 200 OK\r\n\r\n",
        "HTTP/1.1 20 OK\r\n\r\n",
        "HTTP/1.1 200OK\r\n\r\n",
        "ICY 200 OK\r\n\r\n",
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
        "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\nab",
        "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhello\r\n0\r\n\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: y\n\r\n",
        "HTTP/1.1 200 OK\r\nX: \x01\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: a long value with a DEL\x7f in its second word\r\n\r\n",
        "HTTP/1.1 200 OK\r\nX: sixteen bytes..\x1b[31m escape\r\n\r\n",
        NULL};

    (void)state;
    for (int i = 0; bad[i] != NULL; i++) {
        for (size_t step = 0; step < 4; step++) {
            seen s;
            pl_h1_resp r = {0};
            pl_h1_resp_result rc = run(bad[i], step, 0, &s, &r, NULL);
            if (rc != PL_H1_RESP_INVALID)
                fail_msg("case %d (step %zu) was not refused: %s", i, step, bad[i]);
            assert_non_null(r.error);
            pl_h1_resp_free(&r);
        }
    }
}

static void test_size_limits(void **state)
{
    size_t n = PL_H1_RESP_HEAD_MAX + 100;
    char *big = malloc(n + 64);
    seen s;
    pl_h1_resp r = {0};

    (void)state;
    strcpy(big, "HTTP/1.1 200 OK\r\nX-Big: ");
    size_t at = strlen(big);
    memset(big + at, 'a', n - at);
    strcpy(big + n, "\r\n\r\n");
    assert_int_equal(run(big, 0, 0, &s, &r, NULL), PL_H1_RESP_INVALID);
    assert_int_equal(run(big, 1000, 0, &s, &r, NULL), PL_H1_RESP_INVALID);
    /* An endless chunk extension is cut off too. */
    strcpy(big, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1;");
    at = strlen(big);
    memset(big + at, 'e', PL_H1_RESP_LINE_MAX + 10);
    big[at + PL_H1_RESP_LINE_MAX + 10] = '\0';
    assert_int_equal(run(big, 0, 0, &s, &r, NULL), PL_H1_RESP_INVALID);
    pl_h1_resp_free(&r);
    free(big);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_length),
        cmocka_unit_test(test_chunked_with_extensions_and_trailers),
        cmocka_unit_test(test_interim_heads_are_skipped),
        cmocka_unit_test(test_responses_without_body),
        cmocka_unit_test(test_keep_alive_rules),
        cmocka_unit_test(test_bytes_after_the_response_are_left),
        cmocka_unit_test(test_early_end_and_stop),
        cmocka_unit_test(test_malformed_responses),
        cmocka_unit_test(test_size_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
