/*
 * Unit tests for the core utilities: error table, error reports, arena,
 * diagnostics, suggestions and logging.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parley/arena.h"
#include "parley/diag.h"
#include "parley/error.h"
#include "parley/log.h"

static void test_strerror_covers_every_code(void **state)
{
    (void)state;
    assert_string_equal(pl_strerror(0), "success");
    assert_string_equal(pl_strerror(PL_ENOMEM), "out of memory");
    assert_string_equal(pl_strerror(12345), "unknown error");
    assert_string_equal(pl_errname(PL_ELIMIT), "PL_ELIMIT");
    /* Codes are dense from -1 down: every one has its own message. */
    for (int c = -1; strcmp(pl_errname(c), "PL_UNKNOWN") != 0; c--) {
        assert_string_not_equal(pl_strerror(c), "unknown error");
        for (int d = c + 1; d < 0; d++)
            assert_string_not_equal(pl_strerror(c), pl_strerror(d));
    }
}

static void test_error_format_with_position(void **state)
{
    pl_error err;
    char buf[128];
    int rc;

    (void)state;
    rc = pl_error_set_at(&err, PL_ECONFIG, "parley.yaml", 3, 7, "bad '%s'", "x");
    assert_int_equal(rc, PL_ECONFIG);
    assert_string_equal(pl_error_format(&err, buf, sizeof(buf)),
                        "parley.yaml:3:7: bad 'x'");
    pl_error_set(&err, PL_EIO, "disk on fire");
    assert_string_equal(pl_error_format(&err, buf, sizeof(buf)), "disk on fire");
    pl_error_clear(&err);
    assert_int_equal(err.code, 0);
    assert_string_equal(pl_error_format(&err, buf, sizeof(buf)), "success");
    /* A NULL report still returns the code. */
    assert_int_equal(pl_error_set(NULL, PL_EINVAL, "ignored"), PL_EINVAL);
}

static void test_error_message_truncates(void **state)
{
    pl_error err;
    char big[2000];

    (void)state;
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    pl_error_set(&err, PL_EINVAL, "%s", big);
    assert_int_equal(strlen(err.message), PL_ERROR_MESSAGE_MAX - 1);
}

static void test_arena_alloc_and_align(void **state)
{
    pl_arena a;

    (void)state;
    pl_arena_init(&a, 0);
    for (int i = 0; i < 1000; i++) {
        char *p = pl_arena_alloc(&a, (size_t)(i % 37) + 1);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
        memset(p, 0xAB, (size_t)(i % 37) + 1);
    }
    char *big = pl_arena_alloc(&a, 100000);
    assert_non_null(big);
    memset(big, 1, 100000);
    assert_string_equal(pl_arena_strdup(&a, "hello"), "hello");
    assert_string_equal(pl_arena_strndup(&a, "hello", 3), "hel");
    assert_string_equal(pl_arena_printf(&a, "%d-%s", 42, "x"), "42-x");
    int *z = pl_arena_calloc(&a, 16, sizeof(int));
    for (int i = 0; i < 16; i++)
        assert_int_equal(z[i], 0);
    pl_arena_free(&a);
    assert_null(a.head);
}

static void test_arena_cap_is_an_error_not_a_crash(void **state)
{
    pl_arena a;
    size_t got = 0;

    (void)state;
    pl_arena_init(&a, 16 * 1024);
    for (;;) {
        void *p = pl_arena_alloc(&a, 1000);
        if (p == NULL)
            break;
        got += 1000;
        assert_true(got <= 16 * 1024);
    }
    assert_int_equal(a.err, PL_ELIMIT);
    assert_true(a.reserved <= 16 * 1024);
    assert_true(got >= 12 * 1000); /* most of the cap is usable */
    /* One huge request fails cleanly too. */
    assert_null(pl_arena_alloc(&a, 1 << 20));
    assert_null(pl_arena_calloc(&a, SIZE_MAX / 2, 4));
    /* After a reset the arena is usable again. */
    pl_arena_reset(&a);
    assert_int_equal(a.err, PL_OK);
    assert_non_null(pl_arena_alloc(&a, 1000));
    pl_arena_free(&a);
}

static void test_diags_collect_sort_print(void **state)
{
    pl_diags d;
    char *out = NULL;
    size_t outlen = 0;
    FILE *f;

    (void)state;
    pl_diags_init(&d);
    pl_diags_add(&d, PL_DIAG_ERROR, "b.yaml", 1, 1, "third");
    pl_diags_add(&d, PL_DIAG_ERROR, "a.yaml", 9, 2, "second");
    pl_diags_add(&d, PL_DIAG_WARNING, "a.yaml", 2, 5, "first %d", 1);
    pl_diags_add(&d, PL_DIAG_ERROR, "a.yaml", 9, 2, "second-b");
    assert_int_equal(d.errors, 3);
    assert_int_equal(d.warnings, 1);
    pl_diags_sort(&d);
    f = open_memstream(&out, &outlen);
    pl_diags_print(&d, f, 1);
    fclose(f);
    assert_string_equal(out, "a.yaml:2:5: warning: first 1\n"
                             "a.yaml:9:2: error: second\n"
                             "a.yaml:9:2: error: second-b\n"
                             "b.yaml:1:1: error: third\n");
    free(out);
    pl_diags_free(&d);
}

static void test_diags_cap(void **state)
{
    pl_diags d;

    (void)state;
    pl_diags_init(&d);
    for (int i = 0; i < PL_DIAGS_MAX + 5; i++)
        pl_diags_add(&d, PL_DIAG_ERROR, "f", (unsigned)i + 1, 1, "e%d", i);
    assert_int_equal(d.count, PL_DIAGS_MAX);
    assert_int_equal(d.dropped, 5);
    assert_int_equal(d.errors, PL_DIAGS_MAX + 5);
    pl_diags_free(&d);
}

static void test_suggest(void **state)
{
    static const char *const keys[] = {"listen", "workers", "log", "routes",
                                       "admin", NULL};
    (void)state;
    assert_int_equal(pl_edit_distance("kitten", "sitting"), 3);
    assert_int_equal(pl_edit_distance("wrokers", "workers"), 1);
    assert_string_equal(pl_suggest("wrokers", keys), "workers");
    assert_string_equal(pl_suggest("lisen", keys), "listen");
    assert_string_equal(pl_suggest("Routes", keys), "routes");
    assert_string_equal(pl_suggest("lg", keys), "log");
    assert_null(pl_suggest("completely", keys));
    assert_null(pl_suggest("log", keys)); /* exact: nothing to suggest */
}

static char *capture_log(void (*emit)(void))
{
    int fds[2];
    static char buf[8192];
    ssize_t n;

    assert_int_equal(pipe(fds), 0);
    pl_log_set_fd(fds[1]);
    emit();
    close(fds[1]);
    n = read(fds[0], buf, sizeof(buf) - 1);
    close(fds[0]);
    pl_log_set_fd(2);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static void emit_levels(void)
{
    pl_log_set_level(PL_LOG_WARN);
    pl_log_set_format(PL_LOG_TEXT);
    pl_log_info("hidden");
    pl_log_warn("shown %d", 1);
    pl_log_debug("hidden too");
    pl_log_set_level(PL_LOG_INFO);
}

static void emit_json(void)
{
    pl_log_set_format(PL_LOG_JSON);
    pl_log_fields(PL_LOG_ERROR,
                  (pl_log_field[]){{"path", "/v1/\"chat\""}, {"n", "3"}}, 2,
                  "line\nbreak\t%s", "tab");
    pl_log_set_format(PL_LOG_TEXT);
}

static void emit_text_fields(void)
{
    pl_log_fields(PL_LOG_INFO, (pl_log_field[]){{"config", "a b.yaml"}}, 1,
                  "ready");
}

static void test_log_levels_filter(void **state)
{
    char *out;

    (void)state;
    out = capture_log(emit_levels);
    assert_null(strstr(out, "hidden"));
    assert_non_null(strstr(out, " warn  shown 1\n"));
    assert_non_null(strchr(out, 'Z')); /* UTC timestamp */
}

static void test_log_json_escapes(void **state)
{
    char *out;

    (void)state;
    out = capture_log(emit_json);
    assert_non_null(strstr(out, "\"level\":\"error\""));
    assert_non_null(strstr(out, "\"msg\":\"line\\nbreak\\ttab\""));
    assert_non_null(strstr(out, "\"path\":\"/v1/\\\"chat\\\"\""));
    assert_non_null(strstr(out, "\"n\":\"3\"}\n"));
}

static void test_log_text_quotes_values(void **state)
{
    char *out;

    (void)state;
    out = capture_log(emit_text_fields);
    assert_non_null(strstr(out, "info  ready config=\"a b.yaml\"\n"));
}

static void test_log_level_parse(void **state)
{
    pl_log_level l;

    (void)state;
    assert_int_equal(pl_log_level_parse("debug", &l), 0);
    assert_int_equal(l, PL_LOG_DEBUG);
    assert_int_equal(pl_log_level_parse("verbose", &l), PL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_strerror_covers_every_code),
        cmocka_unit_test(test_error_format_with_position),
        cmocka_unit_test(test_error_message_truncates),
        cmocka_unit_test(test_arena_alloc_and_align),
        cmocka_unit_test(test_arena_cap_is_an_error_not_a_crash),
        cmocka_unit_test(test_diags_collect_sort_print),
        cmocka_unit_test(test_diags_cap),
        cmocka_unit_test(test_suggest),
        cmocka_unit_test(test_log_levels_filter),
        cmocka_unit_test(test_log_json_escapes),
        cmocka_unit_test(test_log_text_quotes_values),
        cmocka_unit_test(test_log_level_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
