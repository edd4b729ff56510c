/*
 * Unit tests for the pieces of net, proxy and obs that need no sockets:
 * address parsing, body queues, route matching and the metrics text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "parley/config.h"
#include "parley/error.h"
#include "parley/metrics.h"
#include "parley/net.h"
#include "parley/proxy.h"

static void test_parse_address(void **state)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    char buf[64];

    (void)state;
    assert_int_equal(pl_net_parse_address("127.0.0.1:8080", &ss), 0);
    assert_int_equal(ss.ss_family, AF_INET);
    assert_int_equal(ntohs(a4->sin_port), 8080);
    assert_int_equal(pl_net_parse_address("9901", &ss), 0);
    inet_ntop(AF_INET, &a4->sin_addr, buf, sizeof(buf));
    assert_string_equal(buf, "127.0.0.1");
    assert_int_equal(pl_net_parse_address(":80", &ss), 0);
    assert_int_equal(pl_net_parse_address("[::1]:8443", &ss), 0);
    assert_int_equal(ss.ss_family, AF_INET6);
    assert_int_equal(ntohs(a6->sin6_port), 8443);
    assert_int_equal(pl_net_parse_address("localhost:1", &ss), 0);
    assert_int_equal(pl_net_parse_address("", &ss), PL_EINVAL);
    assert_int_equal(pl_net_parse_address("1.2.3.4:70000", &ss), PL_EINVAL);
    assert_int_equal(pl_net_parse_address("1.2.3.4:", &ss), PL_EINVAL);
    assert_int_equal(pl_net_parse_address("::1:80", &ss), PL_EINVAL);
    assert_int_equal(pl_net_parse_address("example.com:80", &ss), PL_EINVAL);
}

static void test_bufq(void **state)
{
    pl_bufq q = {0};
    char *big = malloc(100000), *out = malloc(100000);
    size_t got = 0, n;

    (void)state;
    for (size_t i = 0; i < 100000; i++)
        big[i] = (char)(i * 7);
    assert_int_equal(pl_bufq_append(&q, "abc", 3), 0);
    assert_int_equal(pl_bufq_append(&q, big, 100000), 0);
    assert_int_equal(q.len, 100003);
    n = pl_bufq_read(&q, out, 2);
    assert_int_equal(n, 2);
    assert_memory_equal(out, "ab", 2);
    n = pl_bufq_read(&q, out, 1);
    assert_memory_equal(out, "c", 1);
    while ((n = pl_bufq_read(&q, out + got, 777)) > 0)
        got += n;
    assert_int_equal(got, 100000);
    assert_memory_equal(out, big, 100000);
    assert_int_equal(q.len, 0);
    assert_int_equal(pl_bufq_read(&q, out, 10), 0);
    pl_bufq_append(&q, "x", 1);
    pl_bufq_free(&q);
    assert_null(q.head);
    free(big);
    free(out);
}

static const char routes_yaml[] =
    "upstreams:\n"
    "  - name: api\n    url: http://127.0.0.1:3000/base/\n    protocol: http2\n"
    "routes:\n"
    "  - name: exact\n    path: /health\n    methods: [GET]\n    upstream: api\n"
    "  - name: shop\n    host: '*.shop.example'\n    prefix: /chat/\n    upstream: api\n"
    "  - name: posts\n    prefix: /chat/\n    methods: [POST]\n    upstream: http://127.0.0.1:4000\n";

static void test_routes(void **state)
{
    pl_diags diags;
    pl_config *cfg;
    const pl_route_config *r;

    (void)state;
    pl_diags_init(&diags);
    assert_int_equal(pl_config_load_string("t.yaml", routes_yaml,
                                           strlen(routes_yaml), &diags, &cfg), 0);
    assert_int_equal(pl_route_match(&cfg->routes, "a", "GET", "/health?x=1", &r),
                     PL_ROUTE_FOUND);
    assert_string_equal(r->name, "exact");
    assert_string_equal(r->up->url, "http://127.0.0.1:3000/base");
    assert_int_equal(r->up->protocol, PL_UPSTREAM_HTTP2);
    assert_int_equal(pl_route_match(&cfg->routes, "a", "POST", "/health", &r),
                     PL_ROUTE_BAD_METHOD);
    assert_int_equal(pl_route_match(&cfg->routes, "a", "GET", "/healthz", &r),
                     PL_ROUTE_NOT_FOUND);
    assert_int_equal(pl_route_match(&cfg->routes, "eu.shop.example:8443", "GET",
                                    "/chat/1", &r), PL_ROUTE_FOUND);
    assert_string_equal(r->name, "shop");
    assert_int_equal(pl_route_match(&cfg->routes, "shop.example", "GET",
                                    "/chat/1", &r), PL_ROUTE_BAD_METHOD);
    assert_int_equal(pl_route_match(&cfg->routes, "shop.example", "POST",
                                    "/chat/1", &r), PL_ROUTE_FOUND);
    assert_string_equal(r->name, "posts");
    assert_string_equal(r->up->url, "http://127.0.0.1:4000");
    pl_config_free(cfg);
    pl_diags_free(&diags);
}

static void test_route_errors_have_positions(void **state)
{
    static const char bad[] =
        "routes:\n"
        "  - upstream: nowhere\n"
        "  - upstream: ftp://x\n";
    static const char both[] = "routes:\n  - path: /a\n    prefix: /b\n"
                               "    upstream: http://h\n";
    pl_diags diags;
    pl_config *cfg;

    (void)state;
    pl_diags_init(&diags);
    assert_int_equal(pl_config_load_string("t.yaml", bad, strlen(bad), &diags, &cfg),
                     PL_ECONFIG);
    assert_null(cfg);
    assert_int_equal(diags.errors, 2);
    pl_diags_sort(&diags);
    assert_int_equal(diags.items[0].line, 2);
    assert_int_equal(diags.items[0].column, 15);
    assert_non_null(strstr(diags.items[0].message, "no upstream named 'nowhere'"));
    assert_int_equal(diags.items[1].line, 3);
    assert_non_null(strstr(diags.items[1].message, "'ftp://x' is not an http://"));
    pl_diags_free(&diags);
    pl_diags_init(&diags);
    assert_int_equal(pl_config_load_string("t.yaml", both, strlen(both), &diags, &cfg),
                     PL_ECONFIG);
    assert_int_equal(diags.errors, 1);
    assert_int_equal(diags.items[0].line, 2);
    assert_non_null(strstr(diags.items[0].message, "not both"));
    pl_diags_free(&diags);
}

static void test_metrics_render(void **state)
{
    size_t len;
    char *text;

    (void)state;
    assert_int_equal(pl_metrics_init(2), 0);
    pl_metrics_request(pl_metrics_shard_get(0), "chat", "POST", 200,
                       PL_PROTO_H2C, 3000000, 2000000, 10, 20);
    pl_metrics_request(pl_metrics_shard_get(1), "chat", "POST", 200,
                       PL_PROTO_H2C, 20000000, 0, 5, 5);
    pl_metrics_request(pl_metrics_shard_get(1), NULL, "BREW", 404,
                       PL_PROTO_HTTP1, 100000, 0, 0, 0);
    pl_metrics_conn(pl_metrics_shard_get(0), PL_PROTO_H2, 1);
    pl_metrics_h2_abuse(pl_metrics_shard_get(1), PL_H2_ABUSE_RAPID_RESET);
    pl_metrics_upstream_error(pl_metrics_shard_get(0), PL_UPERR_TIMEOUT);
    text = pl_metrics_render(&len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    assert_non_null(strstr(text, "parley_requests_total{route=\"chat\",method=\"POST\","
                                 "status=\"200\",protocol=\"h2c\"} 2\n"));
    assert_non_null(strstr(text, "parley_requests_total{route=\"\",method=\"other\","
                                 "status=\"404\",protocol=\"http1\"} 1\n"));
    assert_non_null(strstr(text, "parley_request_duration_seconds_bucket{le=\"0.005\"} 2\n"));
    assert_non_null(strstr(text, "parley_request_duration_seconds_count 3\n"));
    assert_non_null(strstr(text, "parley_upstream_duration_seconds_count 1\n"));
    assert_non_null(strstr(text, "parley_connections{protocol=\"h2\"} 1\n"));
    assert_non_null(strstr(text, "parley_http2_abuse_closes_total{kind=\"rapid_reset\"} 1\n"));
    assert_non_null(strstr(text, "parley_upstream_errors_total{kind=\"timeout\"} 1\n"));
    assert_non_null(strstr(text, "parley_received_bytes_total 15\n"));
    free(text);
    pl_metrics_free();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_address),
        cmocka_unit_test(test_bufq),
        cmocka_unit_test(test_routes),
        cmocka_unit_test(test_route_errors_have_positions),
        cmocka_unit_test(test_metrics_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
