/*
 * Unit tests for the YAML tree, environment interpolation, the directive
 * validator and the parley.yaml loader. Every error is checked with its
 * exact line and column.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley/config.h"
#include "parley/error.h"
#include "parley/runtime.h"
#include "parley/yaml.h"

/* Finds a diagnostic at line:col whose message contains `needle`. */
static int has_diag(const pl_diags *d, unsigned line, unsigned col,
                    const char *needle)
{
    for (size_t i = 0; i < d->count; i++)
        if (d->items[i].line == line && d->items[i].column == col &&
            strstr(d->items[i].message, needle) != NULL)
            return 1;
    return 0;
}

static void dump(const pl_diags *d)
{
    for (size_t i = 0; i < d->count; i++)
        fprintf(stderr, "  %u:%u: %s\n", d->items[i].line, d->items[i].column,
                d->items[i].message);
}

#define ASSERT_DIAG(d, line, col, needle)            \
    do {                                             \
        if (!has_diag((d), (line), (col), (needle))) \
            dump(d);                                 \
        assert_true(has_diag((d), (line), (col), (needle))); \
    } while (0)

static int load(pl_yaml_doc *doc, pl_diags *d, const char *text)
{
    pl_diags_init(d);
    return pl_yaml_load_string(doc, "t.yaml", text, strlen(text), d);
}

static void test_yaml_positions(void **state)
{
    pl_yaml_doc doc;
    pl_diags d;
    pl_yaml_node *n;

    (void)state;
    assert_int_equal(load(&doc, &d, "a: 1\nb:\n  - x\n  - \"y z\"\nc: {k: v}\n"), 0);
    assert_int_equal(doc.root->kind, PL_YAML_MAP);
    n = pl_yaml_map_get(doc.root, "b");
    assert_int_equal(n->kind, PL_YAML_SEQ);
    assert_int_equal(n->count, 2);
    assert_int_equal(n->items[1]->line, 4);
    assert_int_equal(n->items[1]->column, 5);
    assert_string_equal(n->items[1]->value, "y z");
    assert_false(n->items[1]->plain);
    n = pl_yaml_map_get(pl_yaml_map_get(doc.root, "c"), "k");
    assert_int_equal(n->line, 5);
    assert_int_equal(n->column, 8);
    assert_null(pl_yaml_map_get(doc.root, "missing"));
    pl_yaml_doc_free(&doc);
    pl_diags_free(&d);
}

static void test_yaml_syntax_error_has_position(void **state)
{
    pl_yaml_doc doc;
    pl_diags d;

    (void)state;
    assert_int_equal(load(&doc, &d, "a: 1\nb: [1, 2\nc: 3\n"), PL_ESYNTAX);
    assert_int_equal(d.count, 1);
    assert_int_equal(d.items[0].line, 3);
    assert_non_null(strstr(d.items[0].message, "YAML"));
    pl_yaml_doc_free(&doc);
    pl_diags_free(&d);

    assert_int_equal(load(&doc, &d, "a: 1\n\tb: 2\n"), PL_ESYNTAX);
    assert_int_equal(d.items[0].line, 2);
    pl_yaml_doc_free(&doc);
    pl_diags_free(&d);
}

static void test_yaml_duplicate_keys_and_documents(void **state)
{
    pl_yaml_doc doc;
    pl_diags d;

    (void)state;
    assert_int_equal(load(&doc, &d, "a: 1\nb: 2\na: 3\n"), PL_ESYNTAX);
    ASSERT_DIAG(&d, 3, 1, "duplicate key 'a' (first set at line 1)");
    pl_yaml_doc_free(&doc);
    pl_diags_free(&d);

    assert_int_equal(load(&doc, &d, "a: 1\n---\nb: 2\n"), PL_ESYNTAX);
    ASSERT_DIAG(&d, 2, 1, "only one YAML document");
    pl_yaml_doc_free(&doc);
    pl_diags_free(&d);
}

static void test_yaml_aliases_share_nodes(void **state)
{
    pl_yaml_doc doc;
    pl_diags d;
    /* Nine levels of nine aliases would be 387M nodes if expanded. */
    const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                       "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                       "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                       "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]\n";

    (void)state;
    /* Shared while loading, but consumers would walk 387M nodes: refused. */
    assert_int_equal(load(&doc, &d, bomb), PL_ESYNTAX);
    ASSERT_DIAG(&d, 1, 1, "aliases expand this document to more than");
    assert_null(doc.root);
    assert_true(doc.arena.reserved < 1024 * 1024);
    pl_yaml_doc_free(&doc);
    pl_diags_free(&d);
    /* A few aliases, as people use them, are fine and shared. */
    assert_int_equal(load(&doc, &d, "base: &b {x: 1, y: [a, b]}\n"
                                    "one: *b\ntwo: *b\n"), 0);
    assert_ptr_equal(pl_yaml_map_get(doc.root, "one"),
                     pl_yaml_map_get(doc.root, "two"));
    pl_yaml_doc_free(&doc);
    pl_diags_free(&d);
}

static void test_yaml_deep_nesting_is_an_error(void **state)
{
    enum { DEPTH = 80000 };
    char *text = malloc(2 * DEPTH + 8);
    pl_yaml_doc doc;
    pl_diags d;

    (void)state;
    memcpy(text, "a: ", 3);
    memset(text + 3, '[', DEPTH);
    memset(text + 3 + DEPTH, ']', DEPTH);
    text[3 + 2 * DEPTH] = '\0';
    assert_int_equal(load(&doc, &d, text), PL_ESYNTAX);
    ASSERT_DIAG(&d, 1, 67, "nesting deeper than 64 levels");
    pl_yaml_doc_free(&doc);
    pl_diags_free(&d);
    free(text);
}

static void test_yaml_empty_and_null(void **state)
{
    pl_yaml_doc doc;
    pl_diags d;

    (void)state;
    assert_int_equal(load(&doc, &d, ""), 0);
    assert_null(doc.root);
    pl_yaml_doc_free(&doc);
    pl_diags_free(&d);
    assert_int_equal(load(&doc, &d, "a:\nb: ~\nc: 'null'\n"), 0);
    assert_true(pl_yaml_is_null(pl_yaml_map_get(doc.root, "a")));
    assert_true(pl_yaml_is_null(pl_yaml_map_get(doc.root, "b")));
    assert_false(pl_yaml_is_null(pl_yaml_map_get(doc.root, "c")));
    pl_yaml_doc_free(&doc);
    pl_diags_free(&d);
}

static void test_env_expansion(void **state)
{
    pl_yaml_doc doc;
    pl_diags d;

    (void)state;
    setenv("PL_TEST_HOST", "10.0.0.1", 1);
    setenv("PL_TEST_EMPTY", "", 1);
    unsetenv("PL_TEST_UNSET");
    assert_int_equal(load(&doc, &d,
                          "a: ${PL_TEST_HOST}:8080\n"
                          "b: ${PL_TEST_UNSET:-127.0.0.1}\n"
                          "c: \"$${literal}\"\n"
                          "d: ${PL_TEST_UNSET:-}\n"
                          "e: ${PL_TEST_EMPTY:-fallback}\n"
                          "f: x${PL_TEST_EMPTY}y\n"),
                     0);
    assert_int_equal(pl_yaml_expand_env(&doc, &d), 0);
    assert_string_equal(pl_yaml_map_get(doc.root, "a")->value, "10.0.0.1:8080");
    assert_string_equal(pl_yaml_map_get(doc.root, "b")->value, "127.0.0.1");
    assert_string_equal(pl_yaml_map_get(doc.root, "c")->value, "${literal}");
    assert_string_equal(pl_yaml_map_get(doc.root, "d")->value, "");
    assert_false(pl_yaml_is_null(pl_yaml_map_get(doc.root, "d")));
    /* Like the shell: ":-" replaces an empty variable, plain ${} keeps it. */
    assert_string_equal(pl_yaml_map_get(doc.root, "e")->value, "fallback");
    assert_string_equal(pl_yaml_map_get(doc.root, "f")->value, "xy");
    pl_yaml_doc_free(&doc);
    pl_diags_free(&d);
}

static void test_env_errors_point_at_reference(void **state)
{
    pl_yaml_doc doc;
    pl_diags d;

    (void)state;
    unsetenv("PL_TEST_UNSET");
    assert_int_equal(load(&doc, &d,
                          "a: x-${PL_TEST_UNSET}\n"
                          "b: \"${bad name}\"\n"
                          "c: ${OPEN\n"),
                     0);
    assert_int_equal(pl_yaml_expand_env(&doc, &d), PL_ECONFIG);
    ASSERT_DIAG(&d, 1, 6, "environment variable 'PL_TEST_UNSET' is not set");
    ASSERT_DIAG(&d, 2, 5, "invalid environment variable reference");
    ASSERT_DIAG(&d, 3, 4, "unterminated");
    assert_int_equal(d.errors, 3);
    pl_yaml_doc_free(&doc);
    pl_diags_free(&d);
}

static void test_duration_and_size_parsing(void **state)
{
    int64_t v;

    (void)state;
    assert_int_equal(pl_cfg_parse_duration("250ms", &v), 0);
    assert_int_equal(v, 250);
    assert_int_equal(pl_cfg_parse_duration("30s", &v), 0);
    assert_int_equal(v, 30000);
    assert_int_equal(pl_cfg_parse_duration("1.5s", &v), 0);
    assert_int_equal(v, 1500);
    assert_int_equal(pl_cfg_parse_duration("5m", &v), 0);
    assert_int_equal(v, 300000);
    assert_int_equal(pl_cfg_parse_duration("2h", &v), 0);
    assert_int_equal(v, 7200000);
    assert_int_equal(pl_cfg_parse_duration("10", &v), 0);
    assert_int_equal(v, 10000);
    assert_int_equal(pl_cfg_parse_duration("10 parsecs", &v), PL_EINVAL);
    assert_int_equal(pl_cfg_parse_duration("-1s", &v), PL_EINVAL);
    assert_int_equal(pl_cfg_parse_size("512", &v), 0);
    assert_int_equal(v, 512);
    assert_int_equal(pl_cfg_parse_size("16k", &v), 0);
    assert_int_equal(v, 16384);
    assert_int_equal(pl_cfg_parse_size("8KiB", &v), 0);
    assert_int_equal(v, 8192);
    assert_int_equal(pl_cfg_parse_size("1MB", &v), 0);
    assert_int_equal(v, 1 << 20);
    assert_int_equal(pl_cfg_parse_size("2g", &v), 0);
    assert_int_equal(v, 2LL << 30);
    assert_int_equal(pl_cfg_parse_size("12 apples", &v), PL_EINVAL);
    assert_int_equal(pl_cfg_parse_size("99999999999999999999", &v), PL_ELIMIT);
}

/* A table exercising every directive type. */
typedef struct item_cfg {
    const char *name;
    int64_t weight;
} item_cfg;

typedef struct sample_cfg {
    const char *host;
    int64_t port;
    int tls;
    int mode;
    int64_t timeout;
    int64_t max_body;
    pl_cfg_strings tags;
    item_cfg inner;
    pl_cfg_list items;
} sample_cfg;

static const char *const modes[] = {"fast", "safe", "strict", NULL};

static int check_item(const pl_cfg_ctx *ctx, const pl_yaml_node *node, void *obj)
{
    item_cfg *it = obj;
    if (it->name && strcmp(it->name, "forbidden") == 0)
        pl_diags_add(ctx->diags, PL_DIAG_ERROR, ctx->file, node->line,
                     node->column, "item name 'forbidden' is reserved");
    return 0;
}

static const pl_cfg_directive item_directives[] = {
    {.name = "name", .type = PL_CFG_STRING, .offset = offsetof(item_cfg, name),
     .required = 1},
    {.name = "weight", .type = PL_CFG_INT, .offset = offsetof(item_cfg, weight),
     .default_value = "1", .min = 1, .max = 10},
};
static const pl_cfg_section item_section = {
    .name = "an item", .size = sizeof(item_cfg), .directives = item_directives,
    .count = PL_CFG_COUNT(item_directives), .check = check_item};

static const pl_cfg_directive sample_directives[] = {
    {.name = "host", .type = PL_CFG_STRING, .offset = offsetof(sample_cfg, host),
     .default_value = "localhost"},
    {.name = "port", .type = PL_CFG_INT, .offset = offsetof(sample_cfg, port),
     .required = 1, .min = 1, .max = 65535},
    {.name = "tls", .type = PL_CFG_BOOL, .offset = offsetof(sample_cfg, tls),
     .default_value = "off"},
    {.name = "mode", .type = PL_CFG_ENUM, .offset = offsetof(sample_cfg, mode),
     .default_value = "safe", .choices = modes},
    {.name = "timeout", .type = PL_CFG_DURATION,
     .offset = offsetof(sample_cfg, timeout), .default_value = "30s",
     .min = 1, .max = 60000},
    {.name = "max_body", .type = PL_CFG_SIZE,
     .offset = offsetof(sample_cfg, max_body), .default_value = "1m"},
    {.name = "tags", .type = PL_CFG_STRINGS, .offset = offsetof(sample_cfg, tags),
     .default_value = "[a, b]"},
    {.name = "inner", .type = PL_CFG_SECTION, .offset = offsetof(sample_cfg, inner),
     .section = &item_section},
    {.name = "items", .type = PL_CFG_LIST, .offset = offsetof(sample_cfg, items),
     .section = &item_section},
};
static const pl_cfg_section sample_section = {
    .name = "the top level", .size = sizeof(sample_cfg),
    .directives = sample_directives, .count = PL_CFG_COUNT(sample_directives)};

static size_t apply(const char *text, sample_cfg *out, pl_diags *d,
                    pl_yaml_doc *doc, pl_arena *arena)
{
    pl_cfg_ctx ctx = {.arena = arena, .diags = d, .file = "t.yaml",
                      .root = &sample_section};

    memset(out, 0, sizeof(*out));
    pl_arena_init(arena, 0);
    assert_int_equal(load(doc, d, text), 0);
    return pl_cfg_apply(&ctx, &sample_section, doc->root, out);
}

static void test_directives_values_and_defaults(void **state)
{
    sample_cfg c;
    pl_diags d;
    pl_yaml_doc doc;
    pl_arena arena;

    (void)state;
    assert_int_equal(apply("port: 8080\nmode: strict\ntls: yes\n"
                           "items:\n  - name: one\n  - {name: two, weight: 3}\n"
                           "inner: {name: in}\n",
                           &c, &d, &doc, &arena),
                     0);
    assert_string_equal(c.host, "localhost");
    assert_int_equal(c.port, 8080);
    assert_int_equal(c.tls, 1);
    assert_int_equal(c.mode, 2);
    assert_int_equal(c.timeout, 30000);
    assert_int_equal(c.max_body, 1 << 20);
    assert_int_equal(c.tags.count, 2);
    assert_string_equal(c.tags.items[1], "b");
    assert_string_equal(c.inner.name, "in");
    assert_int_equal(c.inner.weight, 1);
    assert_int_equal(c.items.count, 2);
    assert_string_equal(((item_cfg *)c.items.items)[1].name, "two");
    assert_int_equal(((item_cfg *)c.items.items)[1].weight, 3);
    assert_int_equal(((item_cfg *)c.items.items)[0].weight, 1);
    pl_yaml_doc_free(&doc);
    pl_arena_free(&arena);
    pl_diags_free(&d);
}

static void test_directives_collect_every_error(void **state)
{
    sample_cfg c;
    pl_diags d;
    pl_yaml_doc doc;
    pl_arena arena;
    size_t n;

    (void)state;
    n = apply("port: 99999\n"          /* 1 */
              "mode: stirct\n"         /* 2 */
              "tls: maybe\n"           /* 3 */
              "timeout: 2 fortnights\n" /* 4 */
              "max_body: [1]\n"        /* 5 */
              "hots: example.com\n"    /* 6 */
              "weight: 3\n"            /* 7 */
              "items:\n"               /* 8 */
              "  - weight: 30\n"       /* 9 */
              "  - name: forbidden\n"  /* 10 */
              "inner: 5\n",            /* 11 */
              &c, &d, &doc, &arena);
    assert_int_equal(n, d.errors);
    ASSERT_DIAG(&d, 1, 7, "'port' must be between 1 and 65535, got '99999'");
    ASSERT_DIAG(&d, 2, 7, "did you mean 'strict'?");
    ASSERT_DIAG(&d, 3, 6, "'tls' must be true or false");
    ASSERT_DIAG(&d, 4, 10, "'timeout' must be a duration");
    ASSERT_DIAG(&d, 5, 11, "'max_body' must be a size, not a sequence");
    ASSERT_DIAG(&d, 6, 1, "unknown key 'hots' in the top level; did you mean 'host'?");
    ASSERT_DIAG(&d, 7, 1, "'weight' is not allowed in the top level; it belongs in 'inner'");
    ASSERT_DIAG(&d, 9, 5, "an item is missing the required key 'name'");
    ASSERT_DIAG(&d, 9, 13, "'weight' must be between 1 and 10");
    ASSERT_DIAG(&d, 10, 5, "item name 'forbidden' is reserved");
    ASSERT_DIAG(&d, 11, 8, "must be a mapping");
    assert_int_equal(d.errors, 11);
    pl_yaml_doc_free(&doc);
    pl_arena_free(&arena);
    pl_diags_free(&d);
}

static void test_config_load_defaults(void **state)
{
    pl_diags d;
    pl_config *cfg;

    (void)state;
    pl_diags_init(&d);
    assert_int_equal(pl_config_load_string("p.yaml", "", 0, &d, &cfg), 0);
    assert_int_equal(cfg->workers, 0);
    assert_int_equal(cfg->log.level, PL_LOG_INFO);
    assert_int_equal(cfg->log.format, PL_LOG_TEXT);
    pl_config_free(cfg);
    pl_diags_free(&d);
}

static void test_config_load_errors(void **state)
{
    pl_diags d;
    pl_config *cfg = (pl_config *)1;
    const char *text = "workers: lots\nlog:\n  levle: debug\n  format: jsno\n";

    (void)state;
    pl_diags_init(&d);
    assert_int_equal(pl_config_load_string("p.yaml", text, strlen(text), &d, &cfg),
                     PL_ECONFIG);
    assert_null(cfg);
    ASSERT_DIAG(&d, 1, 10, "'workers' must be a whole number");
    ASSERT_DIAG(&d, 3, 3, "did you mean 'level'?");
    ASSERT_DIAG(&d, 4, 11, "did you mean 'json'?");
    assert_string_equal(d.items[0].file, "p.yaml");
    pl_diags_free(&d);
}

static void test_config_load_missing_file(void **state)
{
    pl_diags d;
    pl_config *cfg;

    (void)state;
    pl_diags_init(&d);
    assert_int_equal(pl_config_load("/nonexistent/parley.yaml", &d, &cfg),
                     PL_ENOENT);
    assert_non_null(strstr(d.items[0].message, "cannot open"));
    pl_diags_free(&d);
}

static void test_runtime_snapshots(void **state)
{
    pl_diags d;
    pl_config *c1, *c2;
    pl_runtime *r1, *r2, *held;

    (void)state;
    pl_diags_init(&d);
    assert_int_equal(pl_config_load_string("a", "workers: 1", 10, &d, &c1), 0);
    assert_int_equal(pl_config_load_string("b", "workers: 2", 10, &d, &c2), 0);
    assert_int_equal(pl_runtime_new(c1, &r1), 0);
    assert_int_equal(pl_runtime_publish(r1), 1);
    held = pl_runtime_acquire();
    assert_ptr_equal(held, r1);
    assert_int_equal(pl_runtime_new(c2, &r2), 0);
    assert_int_equal(pl_runtime_publish(r2), 2);
    /* Work in flight keeps the snapshot it acquired. */
    assert_int_equal(held->config->workers, 1);
    pl_runtime_release(held);
    held = pl_runtime_acquire();
    assert_int_equal(held->config->workers, 2);
    pl_runtime_release(held);
    pl_runtime_shutdown();
    assert_null(pl_runtime_acquire());
    pl_diags_free(&d);
}

/* Maps with free-form keys; required keys inside an absent section; a
 * section that contains itself. */
typedef struct node_cfg {
    pl_cfg_map words;  /* strings */
    pl_cfg_map groups; /* of item_cfg */
    item_cfg opt;      /* optional section with a required key */
    pl_cfg_list children;
} node_cfg;

extern const pl_cfg_section node_section;
static const pl_cfg_directive node_directives[] = {
    {.name = "words", .type = PL_CFG_MAP, .offset = offsetof(node_cfg, words)},
    {.name = "groups", .type = PL_CFG_MAP, .offset = offsetof(node_cfg, groups),
     .section = &item_section},
    {.name = "opt", .type = PL_CFG_SECTION, .offset = offsetof(node_cfg, opt),
     .section = &item_section},
    {.name = "children", .type = PL_CFG_LIST, .offset = offsetof(node_cfg, children),
     .section = &node_section},
};
const pl_cfg_section node_section = {
    .name = "a node", .size = sizeof(node_cfg), .directives = node_directives,
    .count = PL_CFG_COUNT(node_directives)};

static void count_paths(const char *path, const pl_cfg_directive *d, void *arg)
{
    (void)path;
    (void)d;
    (*(int *)arg)++;
}

static void test_directives_maps_and_recursion(void **state)
{
    node_cfg c;
    pl_diags d;
    pl_yaml_doc doc;
    pl_arena arena;
    pl_cfg_ctx ctx = {.arena = &arena, .diags = &d, .file = "t.yaml",
                      .root = &node_section};
    int paths = 0;

    (void)state;
    memset(&c, 0, sizeof(c));
    pl_arena_init(&arena, 0);
    assert_int_equal(load(&doc, &d,
                          "words: {gift card: Geschenkkarte, 'order': Bestellung}\n"
                          "groups:\n"
                          "  a: {name: x, weight: 3}\n"
                          "  b: {weight: 2}\n"
                          "children:\n"
                          "  - words: {k: [v]}\n"
                          "  - children: [{opt: {weight: 1}}]\n"),
                     0);
    assert_int_equal(pl_cfg_apply(&ctx, &node_section, doc.root, &c), 3);
    assert_int_equal(c.words.count, 2);
    assert_string_equal(c.words.keys[0], "gift card");
    assert_string_equal(((const char **)c.words.values)[1], "Bestellung");
    assert_int_equal(c.words.key_nodes[1]->line, 1);
    assert_int_equal(c.groups.count, 1);
    assert_string_equal(((item_cfg *)c.groups.values)[0].name, "x");
    ASSERT_DIAG(&d, 4, 6, "an item is missing the required key 'name'");
    ASSERT_DIAG(&d, 6, 16, "the value of 'k' in 'words' must be a string");
    ASSERT_DIAG(&d, 7, 22, "an item is missing the required key 'name'");
    /* The absent optional section 'opt' did not demand its 'name'. */
    assert_int_equal(d.errors, 3);
    pl_yaml_doc_free(&doc);
    pl_diags_free(&d);
    pl_arena_free(&arena);
    /* Walking a self-containing table terminates. */
    pl_cfg_walk(&node_section, count_paths, &paths);
    assert_int_equal(paths, 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_yaml_positions),
        cmocka_unit_test(test_yaml_syntax_error_has_position),
        cmocka_unit_test(test_yaml_duplicate_keys_and_documents),
        cmocka_unit_test(test_yaml_aliases_share_nodes),
        cmocka_unit_test(test_yaml_deep_nesting_is_an_error),
        cmocka_unit_test(test_yaml_empty_and_null),
        cmocka_unit_test(test_env_expansion),
        cmocka_unit_test(test_env_errors_point_at_reference),
        cmocka_unit_test(test_duration_and_size_parsing),
        cmocka_unit_test(test_directives_values_and_defaults),
        cmocka_unit_test(test_directives_collect_every_error),
        cmocka_unit_test(test_directives_maps_and_recursion),
        cmocka_unit_test(test_config_load_defaults),
        cmocka_unit_test(test_config_load_errors),
        cmocka_unit_test(test_config_load_missing_file),
        cmocka_unit_test(test_runtime_snapshots),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
