/*
 * Unit tests for the policy module: every loader error class with its exact
 * file:line:col, lint warnings, inheritance and ICU fallback, each condition
 * and action type, outbound fixes, protected spans, formatting and the
 * request arena's cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parley/error.h"
#include "parley/policy.h"

/* ---- Helpers: a temporary policies folder ---- */

static char dir[256];

static void write_file(const char *name, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof(dir), "%s/parley-policy-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];

    (void)state;
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
    return 0;
}

static void dump(const pl_diags *d)
{
    for (size_t i = 0; i < d->count; i++)
        fprintf(stderr, "  %s:%u:%u: %s%s\n", d->items[i].file ? d->items[i].file : "",
                d->items[i].line, d->items[i].column,
                d->items[i].severity == PL_DIAG_WARNING ? "warning: " : "",
                d->items[i].message);
}

/* A diagnostic in file `name` at line:col whose message contains `needle`. */
static int has_diag(const pl_diags *d, const char *name, unsigned line, unsigned col,
                    const char *needle)
{
    for (size_t i = 0; i < d->count; i++) {
        const pl_diag *x = &d->items[i];
        const char *f = x->file ? strrchr(x->file, '/') : NULL;
        if (f && strcmp(f + 1, name) == 0 && x->line == line && x->column == col &&
            strstr(x->message, needle) != NULL)
            return 1;
    }
    return 0;
}

#define ASSERT_DIAG(d, name, line, col, needle)                     \
    do {                                                            \
        if (!has_diag((d), (name), (line), (col), (needle)))        \
            dump(d);                                                \
        assert_true(has_diag((d), (name), (line), (col), (needle))); \
    } while (0)

static const char *DEFAULT =
    "locale: default\n"
    "signals:\n"
    "  absolute_words: [always, never]\n"
    "rules:\n"
    "  - id: upset\n"
    "    when:\n"
    "      any:\n"
    "        - absolute_words: true\n"
    "        - shouting: true\n"
    "    then:\n"
    "      escalate: {priority: high, reason: upset}\n";

static pl_policy_set *load_ok(void)
{
    pl_diags d;
    pl_policy_set *set = NULL;
    int rc;

    pl_diags_init(&d);
    rc = pl_policy_load_dir(dir, &d, &set);
    if (rc != 0 || d.count)
        dump(&d);
    assert_int_equal(rc, 0);
    assert_non_null(set);
    pl_diags_free(&d);
    return set;
}

static int load_bad(pl_diags *d)
{
    pl_policy_set *set = NULL;
    int rc;

    pl_diags_init(d);
    rc = pl_policy_load_dir(dir, d, &set);
    assert_null(set);
    return rc;
}

/* Evaluates `text` for `locale`; the result lives in `a`. */
static pl_policy_result *eval(const pl_policy_set *set, const char *locale,
                              pl_policy_direction dir_, const char *text, pl_arena *a)
{
    pl_policy_input in = {.text = text, .len = strlen(text), .direction = dir_};
    pl_policy_result *r = NULL;
    const pl_policy *p = pl_policy_resolve(set, locale);

    assert_non_null(p);
    assert_int_equal(pl_policy_evaluate(p, &in, a, &r), 0);
    return r;
}

static int fired(const pl_policy_result *r, const char *rule)
{
    for (size_t i = 0; i < r->nhits; i++)
        if (strcmp(r->hits[i].rule_id, rule) == 0)
            return 1;
    return 0;
}

static const pl_policy_action *action(const pl_policy_result *r, pl_policy_action_type t)
{
    for (size_t i = 0; i < r->nactions; i++)
        if (r->actions[i].type == t)
            return &r->actions[i];
    return NULL;
}

/* ---- Loader errors, each at its exact position ---- */

static void test_error_unknown_key_and_enum_hints(void **state)
{
    pl_diags d;

    (void)state;
    write_file("default.yaml", "locale: default\n"
                               "regster:\n"
                               "  formality: formal\n"
                               "rules:\n"
                               "  - id: a\n"
                               "    direction: inn\n"
                               "    then: {tag: [x], escalate: {priority: hihg}}\n");
    assert_int_equal(load_bad(&d), PL_EPOLICY);
    ASSERT_DIAG(&d, "default.yaml", 2, 1, "did you mean 'register'?");
    ASSERT_DIAG(&d, "default.yaml", 6, 16, "did you mean 'in'?");
    ASSERT_DIAG(&d, "default.yaml", 7, 43, "did you mean 'high'?");
    pl_diags_free(&d);
}

static void test_error_invalid_regex_position(void **state)
{
    pl_diags d;

    (void)state;
    write_file("default.yaml", "locale: default\n"
                               "protect:\n"
                               "  - id: order\n"
                               "    pattern: '#[A-Z-\\d+'\n"
                               "rules:\n"
                               "  - id: r\n"
                               "    when:\n"
                               "      regex: [ok, 'a(b']\n"
                               "    then: {tag: [x]}\n");
    assert_int_equal(load_bad(&d), PL_EPOLICY);
    /* The pattern starts at column 15 (after the quote); ICU reports the
     * offset inside the pattern. */
    ASSERT_DIAG(&d, "default.yaml", 4, 15 + 9, "invalid regular expression");
    ASSERT_DIAG(&d, "default.yaml", 8, 20 + 3, "U_REGEX_MISMATCHED_PAREN");
    pl_diags_free(&d);
}

static void test_error_locale_tags(void **state)
{
    pl_diags d;

    (void)state;
    write_file("default.yaml", "locale: default\n");
    write_file("ja-JP.yaml", "locale: ja-JP\n"
                             "aliases: [ja-JA, qq-ZZ]\n"
                             "dialect: {variety: 'en_US'}\n");
    write_file("xx-YY.yaml", "locale: xx-YY\n");
    write_file("fr-FR.yaml", "locale: fr-CA\n");
    assert_int_equal(load_bad(&d), PL_EPOLICY);
    ASSERT_DIAG(&d, "ja-JP.yaml", 2, 11, "'ja-JA' is not a valid BCP 47 locale tag");
    ASSERT_DIAG(&d, "ja-JP.yaml", 2, 18, "'qq-ZZ' is not a valid BCP 47");
    ASSERT_DIAG(&d, "ja-JP.yaml", 3, 20, "'en_US' is not a valid BCP 47");
    ASSERT_DIAG(&d, "xx-YY.yaml", 1, 9, "'xx-YY' is not a valid BCP 47");
    ASSERT_DIAG(&d, "fr-FR.yaml", 1, 9, "does not match the file name");
    pl_diags_free(&d);
}

static void test_error_duplicate_ids(void **state)
{
    pl_diags d;

    (void)state;
    write_file("default.yaml", "locale: default\n"
                               "rules:\n"
                               "  - id: same\n"
                               "    then: {tag: [a]}\n"
                               "  - id: other\n"
                               "    then: {tag: [b]}\n"
                               "  - id: same\n"
                               "    then: {tag: [c]}\n"
                               "fixes:\n"
                               "  - {id: f, find: [a], replace: b}\n"
                               "  - {id: f, find: [c], replace: d}\n");
    assert_int_equal(load_bad(&d), PL_EPOLICY);
    ASSERT_DIAG(&d, "default.yaml", 7, 9, "duplicate rule id 'same' (first defined at line 3)");
    ASSERT_DIAG(&d, "default.yaml", 11, 10, "duplicate fix id 'f'");
    pl_diags_free(&d);
}

static void test_error_parents_and_cycles(void **state)
{
    pl_diags d;

    (void)state;
    write_file("default.yaml", "locale: default\n");
    write_file("es-ES.yaml", "locale: es-ES\ninherits: es-419\n");
    write_file("es-419.yaml", "locale: es-419\ninherits: es-ES\n");
    write_file("pt-BR.yaml", "locale: pt-BR\ninherits: pt-PR\n");
    write_file("pt-PT.yaml", "locale: pt-PT\n");
    assert_int_equal(load_bad(&d), PL_EPOLICY);
    ASSERT_DIAG(&d, "es-ES.yaml", 2, 11, "inheritance cycle: es-ES -> es-419 -> es-ES");
    ASSERT_DIAG(&d, "es-419.yaml", 2, 11, "inheritance cycle");
    ASSERT_DIAG(&d, "pt-BR.yaml", 2, 11, "unknown parent policy 'pt-PR'; did you mean 'pt-PT'?");
    pl_diags_free(&d);
}

static void test_error_actions_fixes_disable(void **state)
{
    pl_diags d;

    (void)state;
    write_file("default.yaml", "locale: default\n"
                               "rules:\n"
                               "  - id: empty\n"
                               "    then: {}\n"
                               "  - id: nothen\n"
                               "    when: {terms: [x]}\n"
                               "  - id: blank\n"
                               "    when: {terms: ['  ']}\n"
                               "    then: {redirect: {channel: dm}}\n"
                               "fixes:\n"
                               "  - id: both\n"
                               "    find: [a]\n"
                               "    pattern: b\n"
                               "    replace: c\n"
                               "  - id: nothing\n"
                               "    find: [a]\n");
    write_file("de-DE.yaml", "locale: de-DE\ndisable: [upset, nope]\n");
    assert_int_equal(load_bad(&d), PL_EPOLICY);
    ASSERT_DIAG(&d, "default.yaml", 4, 11, "'then' needs at least one action");
    ASSERT_DIAG(&d, "default.yaml", 5, 5, "missing the required key 'then'");
    ASSERT_DIAG(&d, "default.yaml", 9, 22, "'redirect' is missing the required key 'message'");
    ASSERT_DIAG(&d, "default.yaml", 11, 5, "needs exactly one of 'find'");
    ASSERT_DIAG(&d, "default.yaml", 15, 5, "needs 'replace'");
    pl_diags_free(&d);

    write_file("default.yaml", DEFAULT);
    write_file("de-DE.yaml", "locale: de-DE\ndisable: [upset, nope]\n");
    write_file("fr-FR.yaml", "locale: fr-FR\nrules:\n  - id: e\n    when: {terms: [' ']}\n"
                             "    then: {tag: [a]}\n");
    assert_int_equal(load_bad(&d), PL_EPOLICY);
    ASSERT_DIAG(&d, "de-DE.yaml", 2, 18, "'disable' names 'nope', which no parent policy defines");
    ASSERT_DIAG(&d, "fr-FR.yaml", 4, 20, "an empty term can never match");
    assert_int_equal(d.errors, 2);
    pl_diags_free(&d);
}

static void test_error_syntax_and_types(void **state)
{
    pl_diags d;

    (void)state;
    write_file("default.yaml", "locale: default\n"
                               "rules: {id: a}\n"
                               "signals: {caps_percent: 140}\n"
                               "format: {currency: euro, plurals: {items: {one: x}}}\n");
    write_file("it-IT.yaml", "locale: it-IT\nrules:\n  - id: [\n");
    assert_int_equal(load_bad(&d), PL_EPOLICY);
    ASSERT_DIAG(&d, "default.yaml", 2, 8, "'rules' must be a list");
    ASSERT_DIAG(&d, "default.yaml", 3, 25, "'caps_percent' must be between 1 and 100");
    ASSERT_DIAG(&d, "default.yaml", 4, 20, "ISO 4217");
    ASSERT_DIAG(&d, "default.yaml", 4, 43, "missing the required key 'other'");
    assert_true(d.errors >= 5); /* and the syntax error in it-IT.yaml */
    pl_diags_free(&d);
}

/* ---- Lint warnings ---- */

static void test_warnings_unreachable_and_shadowed(void **state)
{
    pl_diags d;
    pl_policy_set *set = NULL;

    (void)state;
    write_file("default.yaml", "locale: default\n"
                               "rules:\n"
                               "  - id: broad\n"
                               "    when: {terms: [refund, money back]}\n"
                               "    then: {tag: [refund]}\n"
                               "    stop: true\n"
                               "  - id: narrow\n"
                               "    when: {terms: [Refund]}\n"
                               "    then: {tag: [x]}\n"
                               "  - id: out-only\n"
                               "    direction: out\n"
                               "    then: {tag: [y]}\n"
                               "    stop: true\n"
                               "  - id: after\n"
                               "    direction: out\n"
                               "    when: {terms: [z]}\n"
                               "    then: {tag: [z]}\n"
                               "  - id: inbound-ok\n"
                               "    when: {terms: [z]}\n"
                               "    then: {tag: [z]}\n");
    pl_diags_init(&d);
    assert_int_equal(pl_policy_load_dir(dir, &d, &set), 0);
    assert_non_null(set);
    assert_int_equal(d.errors, 0);
    assert_int_equal(d.warnings, 2);
    ASSERT_DIAG(&d, "default.yaml", 7, 5, "rule 'narrow' is shadowed by rule 'broad'");
    ASSERT_DIAG(&d, "default.yaml", 14, 5, "rule 'after' is unreachable");
    pl_diags_free(&d);
    pl_policy_set_free(set);
}

/* ---- Inheritance and fallback ---- */

static void test_inheritance_and_fallback(void **state)
{
    pl_policy_set *set;
    const pl_policy *p;
    const char *const *chain;
    pl_arena a;
    pl_policy_result *r;

    (void)state;
    write_file("default.yaml", DEFAULT);
    write_file("ar.yaml", "locale: ar\n"
                          "register: {formality: formal}\n"
                          "signals: {absolute_words: [دائما]}\n"
                          "glossary: {keep: [Parley], translate: {gift card: بطاقة هدية}}\n");
    write_file("ar-SA.yaml", "locale: ar-SA\n"
                             "dialect: {variety: ar-SA, description: Gulf-friendly MSA}\n"
                             "glossary: {translate: {gift card: بطاقة إهداء}}\n"
                             "rules:\n"
                             "  - id: upset\n"
                             "    when: {terms: [زعلان]}\n"
                             "    then: {tag: [replaced]}\n");
    write_file("es-419.yaml", "locale: es-419\naliases: [es-MX, es-AR]\n"
                              "register: {formality: formal, address: ustedes}\n");
    write_file("es-ES.yaml", "locale: es-ES\ninherits: es-419\ndisable: [upset]\n"
                             "register: {address: vosotros}\n");
    set = load_ok();
    assert_int_equal(pl_policy_set_count(set), 5);

    /* ICU fallback: ar-SA -> ar -> default. */
    p = pl_policy_resolve(set, "ar-SA");
    assert_string_equal(pl_policy_locale(p), "ar-SA");
    assert_int_equal(pl_policy_chain(p, &chain), 3);
    assert_string_equal(chain[0], "ar-SA");
    assert_string_equal(chain[1], "ar");
    assert_string_equal(chain[2], "default");
    /* Inherited register, own dialect, glossary overridden by key. */
    assert_string_equal(pl_policy_directives_get(p)->formality, "formal");
    assert_string_equal(pl_policy_directives_get(p)->variety, "ar-SA");
    assert_int_equal(pl_policy_directives_get(p)->nglossary, 2);
    assert_string_equal(pl_policy_directives_get(p)->glossary[1].target, "بطاقة إهداء");
    assert_null(pl_policy_directives_get(p)->glossary[0].target);

    /* Unknown regions fall back; aliases; case and '_' do not matter. */
    assert_string_equal(pl_policy_locale(pl_policy_resolve(set, "ar-KW")), "ar");
    assert_string_equal(pl_policy_locale(pl_policy_resolve(set, "es_mx")), "es-419");
    assert_string_equal(pl_policy_locale(pl_policy_resolve(set, "es-AR")), "es-419");
    assert_string_equal(pl_policy_locale(pl_policy_resolve(set, "sw-KE")), "default");
    assert_string_equal(pl_policy_locale(pl_policy_resolve(set, "not a tag")), "default");
    assert_string_equal(pl_policy_locale(pl_policy_resolve(set, NULL)), "default");

    /* Explicit inherits; a child overrides the parent's scalar. */
    p = pl_policy_resolve(set, "es-ES");
    assert_int_equal(pl_policy_chain(p, &chain), 3);
    assert_string_equal(chain[1], "es-419");
    assert_string_equal(pl_policy_directives_get(p)->address, "vosotros");

    pl_arena_init(&a, 1 << 20);
    /* The child's rule replaced the parent's rule with the same id... */
    r = eval(set, "ar-SA", PL_POLICY_IN, "انا زعلان دائما", &a);
    assert_int_equal(r->nhits, 1);
    assert_string_equal(action(r, PL_POLICY_TAG)->value, "replaced");
    /* ...the parent (ar) still has the default's, with its own absolute words. */
    r = eval(set, "ar-EG", PL_POLICY_IN, "انا زعلان دائما", &a);
    assert_true(fired(r, "upset"));
    assert_string_equal(action(r, PL_POLICY_ESCALATE)->priority, "high");
    /* es-ES disabled it. */
    r = eval(set, "es-ES", PL_POLICY_IN, "SIEMPRE PASA LO MISMO, NUNCA", &a);
    assert_int_equal(r->nhits, 0);
    r = eval(set, "es-MX", PL_POLICY_IN, "SIEMPRE PASA LO MISMO, NUNCA", &a);
    assert_true(fired(r, "upset"));
    pl_arena_free(&a);
    pl_policy_set_free(set);
}

/* ---- Conditions ---- */

static void test_condition_terms_word_boundaries(void **state)
{
    pl_policy_set *set;
    pl_arena a;
    pl_policy_result *r;

    (void)state;
    write_file("default.yaml", DEFAULT);
    write_file("th-TH.yaml", "locale: th-TH\nrules:\n  - id: swim\n"
                             "    when: {terms: [ชุดว่ายน้ำ]}\n    then: {tag: [swim]}\n");
    write_file("zh-CN.yaml", "locale: zh-CN\nsignals: {absolute_words: [总是]}\n");
    write_file("en-US.yaml", "locale: en-US\nrules:\n  - id: gift\n"
                             "    when: {terms: [gift card, Straße]}\n    then: {tag: [gift]}\n");
    set = load_ok();
    pl_arena_init(&a, 1 << 20);

    /* Case folding and word boundaries: "never" but not "nevertheless". */
    r = eval(set, "en-US", PL_POLICY_IN, "This ALWAYS happens", &a);
    assert_true(fired(r, "upset"));
    assert_int_equal(r->hits[0].nspans, 1);
    assert_int_equal(r->hits[0].spans[0].start, 5);
    assert_int_equal(r->hits[0].spans[0].end, 11);
    r = eval(set, "en-US", PL_POLICY_IN, "nevertheless, thanks", &a);
    assert_false(fired(r, "upset"));
    /* Multi-word terms, full-width letters (NFKC) and ß folding. */
    r = eval(set, "en-US", PL_POLICY_IN, "my ＧＩＦＴ Card broke", &a);
    assert_true(fired(r, "gift"));
    assert_int_equal(r->hits[0].spans[0].start, 3);
    r = eval(set, "en-US", PL_POLICY_IN, "wrong STRASSE", &a);
    assert_true(fired(r, "gift"));
    r = eval(set, "en-US", PL_POLICY_IN, "giftcard", &a);
    assert_false(fired(r, "gift"));
    /* Chinese and Thai have no spaces: ICU's dictionary finds the words. */
    r = eval(set, "zh-CN", PL_POLICY_IN, "你们总是这样", &a);
    assert_true(fired(r, "upset"));
    assert_int_equal(r->hits[0].spans[0].start, 6);
    assert_int_equal(r->hits[0].spans[0].end, 12);
    r = eval(set, "th-TH", PL_POLICY_IN, "มีชุดว่ายน้ำสีดำไหมครับ", &a);
    assert_true(fired(r, "swim"));
    pl_arena_free(&a);
    pl_policy_set_free(set);
}

static void test_condition_regex_signals_combinators(void **state)
{
    pl_policy_set *set;
    pl_arena a;
    pl_policy_result *r;
    pl_policy_input in;
    const pl_policy *p;

    (void)state;
    write_file("default.yaml",
               "locale: default\n"
               "signals: {caps_percent: 60, min_letters: 6, punctuation_run: 4}\n"
               "rules:\n"
               "  - id: shout\n"
               "    when: {shouting: true}\n"
               "    then: {tag: [shout]}\n"
               "  - id: punct\n"
               "    when: {punctuation_run: 2}\n"
               "    then: {tag: [punct]}\n"
               "  - id: order\n"
               "    when: {regex: ['(?i)order\\s+#?\\d+']}\n"
               "    then: {tag: [order]}\n"
               "  - id: again\n"
               "    when: {repeated_complaints: 2}\n"
               "    then: {escalate: {priority: urgent}}\n"
               "  - id: both\n"
               "    when:\n"
               "      all:\n"
               "        - terms: [refund]\n"
               "        - any: [{terms: [late]}, {regex: ['\\bdamaged\\b']}]\n"
               "    then: {tag: [refund-case]}\n");
    set = load_ok();
    pl_arena_init(&a, 1 << 20);
    r = eval(set, "en", PL_POLICY_IN, "WHERE IS MY PARCEL", &a);
    assert_true(fired(r, "shout"));
    assert_false(fired(r, "punct"));
    r = eval(set, "en", PL_POLICY_IN, "NO WAY", &a); /* too few letters */
    assert_false(fired(r, "shout"));
    r = eval(set, "en", PL_POLICY_IN, "where is it?!", &a);
    assert_true(fired(r, "punct"));
    assert_false(fired(r, "shout"));
    assert_int_equal(r->hits[0].spans[0].start, 11);
    assert_int_equal(r->hits[0].spans[0].end, 13);
    r = eval(set, "en", PL_POLICY_IN, "where is it？！？！", &a); /* full-width */
    assert_true(fired(r, "shout"));
    r = eval(set, "en", PL_POLICY_IN, "about Order #1234 please", &a);
    assert_true(fired(r, "order"));
    assert_int_equal(r->hits[0].spans[0].start, 6);
    assert_int_equal(r->hits[0].spans[0].end, 17);
    r = eval(set, "en", PL_POLICY_IN, "refund please, it came damaged", &a);
    assert_true(fired(r, "both"));
    r = eval(set, "en", PL_POLICY_IN, "refund please", &a);
    assert_false(fired(r, "both"));
    r = eval(set, "en", PL_POLICY_IN, "damaged and late", &a);
    assert_false(fired(r, "both"));

    p = pl_policy_resolve(set, "en");
    in = (pl_policy_input){.text = "hello", .len = 5, .direction = PL_POLICY_IN,
                           .prior_complaints = 1};
    assert_int_equal(pl_policy_evaluate(p, &in, &a, &r), 0);
    assert_false(fired(r, "again"));
    in.prior_complaints = 2;
    in.explain = 1;
    assert_int_equal(pl_policy_evaluate(p, &in, &a, &r), 0);
    assert_true(fired(r, "again"));
    assert_non_null(strstr(r->hits[0].why, "2 earlier complaint"));
    pl_arena_free(&a);
    pl_policy_set_free(set);
}

/* ---- Actions ---- */

static void test_actions(void **state)
{
    pl_policy_set *set;
    pl_arena a;
    pl_policy_result *r;
    const pl_policy_action *x;

    (void)state;
    write_file("default.yaml",
               "locale: default\n"
               "protect:\n"
               "  - {id: order, pattern: '#[A-Z]-\\d{4,}'}\n"
               "register: {instructions: [be kind]}\n"
               "rules:\n"
               "  - id: swim\n"
               "    when: {terms: [swimsuit]}\n"
               "    then:\n"
               "      redirect: {channel: private, message: Let us continue in private.}\n"
               "      tag: [sensitive, swimwear]\n"
               "    stop: true\n"
               "  - id: insult\n"
               "    when: {terms: [idiot]}\n"
               "    then: {block: {message: Please stay polite.}}\n"
               "  - id: phone\n"
               "    direction: both\n"
               "    when: {regex: ['\\+?\\d[\\d -]{7,}\\d', '#[A-Z]-\\d+']}\n"
               "    then: {mask: {with: '[phone]'}}\n"
               "  - id: mail\n"
               "    when: {regex: ['\\w+@\\w+\\.com']}\n"
               "    then: {mask: {with: '[email]'}}\n"
               "  - id: vip\n"
               "    when: {terms: [cancel my account]}\n"
               "    then:\n"
               "      escalate: {priority: urgent, reason: churn risk}\n"
               "      instruct: [Offer to call the customer back.]\n"
               "  - id: reply-only\n"
               "    direction: out\n"
               "    when: {terms: [swimsuit]}\n"
               "    then: {tag: [out]}\n");
    set = load_ok();
    pl_arena_init(&a, 1 << 20);

    r = eval(set, "en", PL_POLICY_IN, "Do you sell a swimsuit? idiot", &a);
    assert_int_equal(r->nhits, 1); /* stop: true */
    x = action(r, PL_POLICY_REDIRECT);
    assert_non_null(x);
    assert_string_equal(x->channel, "private");
    assert_string_equal(x->message, "Let us continue in private.");
    assert_string_equal(x->rule_id, "swim");
    assert_int_equal(x->nspans, 1);
    assert_int_equal(x->spans[0].start, 14);
    assert_int_equal(r->nactions, 3);
    assert_false(r->blocked);

    r = eval(set, "en", PL_POLICY_IN, "you idiot", &a);
    assert_true(r->blocked);
    assert_string_equal(action(r, PL_POLICY_BLOCK)->message, "Please stay polite.");

    /* Masks apply to matched spans, never to protected ones. */
    r = eval(set, "en", PL_POLICY_IN, "call +49 30 1234567 about #A-10293", &a);
    assert_non_null(action(r, PL_POLICY_MASK));
    assert_int_equal(r->nprotected, 1);
    assert_string_equal(r->text, "call [phone] about #A-10293");
    /* Each mask rule uses its own mask. */
    r = eval(set, "en", PL_POLICY_IN, "mail a@b.com or call 0301234567", &a);
    assert_string_equal(r->text, "mail [email] or call [phone]");

    r = eval(set, "en", PL_POLICY_IN, "Please cancel my account", &a);
    x = action(r, PL_POLICY_ESCALATE);
    assert_string_equal(x->priority, "urgent");
    assert_string_equal(x->reason, "churn risk");
    assert_non_null(action(r, PL_POLICY_INSTRUCT));
    assert_int_equal(r->directives.ninstructions, 2);
    assert_string_equal(r->directives.instructions[0], "be kind");
    assert_string_equal(r->directives.instructions[1], "Offer to call the customer back.");

    /* Direction: the outbound rule fires only on replies. */
    r = eval(set, "en", PL_POLICY_OUT, "We have a swimsuit", &a);
    assert_int_equal(r->nhits, 1);
    assert_true(fired(r, "reply-only"));
    pl_arena_free(&a);
    pl_policy_set_free(set);
}

/* ---- Outbound fixes ---- */

static void test_fixes(void **state)
{
    pl_policy_set *set;
    pl_arena a;
    pl_policy_result *r;

    (void)state;
    write_file("default.yaml", "locale: default\n"
                               "protect: [{id: sku, pattern: 'SKU-\\w+'}]\n");
    write_file("zh-TW.yaml", "locale: zh-TW\n"
                             "fixes:\n"
                             "  - {id: software, find: [软件, 軟件], replace: 軟體}\n"
                             "  - {id: video, find: [视频], replace: 影片}\n");
    write_file("es-419.yaml", "locale: es-419\n"
                              "fixes:\n"
                              "  - id: vosotros\n"
                              "    pattern: '\\b(vosotros|vosotras)\\b'\n"
                              "    replace: ustedes\n"
                              "    flag: vosotros in a Latin American reply\n"
                              "  - id: os-form\n"
                              "    pattern: '\\b(podéis|queréis|tenéis)\\b'\n"
                              "    flag: vosotros verb form\n"
                              "  - id: swap\n"
                              "    pattern: 'SKU-(\\w+)-(\\w+)'\n"
                              "    replace: 'code $2/$1 $$'\n");
    write_file("de-DE.yaml", "locale: de-DE\n"
                             "fixes:\n"
                             "  - id: sie-du-mix\n"
                             "    pattern: '\\b(du|dich|dir|dein\\w*)\\b'\n"
                             "    also: '\\b(Sie|Ihnen|Ihr\\w*)\\b'\n"
                             "    flag: mixes Sie and du\n");
    set = load_ok();
    pl_arena_init(&a, 1 << 20);
    r = eval(set, "zh-TW", PL_POLICY_OUT, "請更新软件並觀看视频，軟件版本 SKU-软件", &a);
    assert_string_equal(r->text, "請更新軟體並觀看影片，軟體版本 SKU-软件");
    assert_int_equal(r->nflags, 3);
    assert_true(r->flags[0].fixed);
    /* Inbound text is never fixed. */
    r = eval(set, "zh-TW", PL_POLICY_IN, "软件", &a);
    assert_string_equal(r->text, "软件");

    r = eval(set, "es-419", PL_POLICY_OUT, "Gracias a vosotros, ¿podéis esperar?", &a);
    assert_string_equal(r->text, "Gracias a ustedes, ¿podéis esperar?");
    assert_int_equal(r->nflags, 2);
    assert_string_equal(r->flags[0].fix_id, "vosotros");
    assert_string_equal(r->flags[1].fix_id, "os-form");
    assert_false(r->flags[1].fixed);
    assert_string_equal(r->flags[1].message, "vosotros verb form");

    r = eval(set, "de-DE", PL_POLICY_OUT, "Können Sie das prüfen? Danke dir!", &a);
    assert_int_equal(r->nflags, 1);
    assert_string_equal(r->flags[0].fix_id, "sie-du-mix");
    r = eval(set, "de-DE", PL_POLICY_OUT, "Danke dir, bis bald!", &a);
    assert_int_equal(r->nflags, 0);
    pl_arena_free(&a);
    pl_policy_set_free(set);
}

static void test_fix_group_references(void **state)
{
    pl_policy_set *set;
    pl_arena a;
    pl_policy_result *r;

    (void)state;
    write_file("default.yaml", "locale: default\n"
                               "fixes:\n"
                               "  - id: swap\n"
                               "    pattern: '(\\d+)/(\\d+)'\n"
                               "    replace: '$2.$1 $$'\n");
    set = load_ok();
    pl_arena_init(&a, 1 << 20);
    r = eval(set, "default", PL_POLICY_OUT, "on 12/31 and 1/2", &a);
    assert_string_equal(r->text, "on 31.12 $ and 2.1 $");
    pl_arena_free(&a);
    pl_policy_set_free(set);
}

/* ---- Formatting ---- */

static void test_formatting(void **state)
{
    pl_policy_set *set;
    pl_arena a;
    const char *s;
    const pl_policy *p;

    (void)state;
    write_file("default.yaml", "locale: default\n"
                               "format:\n"
                               "  plurals:\n"
                               "    items: {one: '{count} item', other: '{count} items'}\n");
    write_file("ar-SA.yaml", "locale: ar-SA\n"
                             "format: {calendar: islamic-umalqura, numbers: arab, currency: SAR}\n");
    write_file("en-US.yaml", "locale: en-US\nformat: {currency: USD, date: long}\n");
    write_file("ru-RU.yaml", "locale: ru-RU\n"
                             "format:\n"
                             "  plurals:\n"
                             "    items: {one: '{count} товар', few: '{count} товара',\n"
                             "            many: '{count} товаров', other: '{count} товара'}\n");
    set = load_ok();
    pl_arena_init(&a, 1 << 20);
    p = pl_policy_resolve(set, "en-US");
    assert_int_equal(pl_policy_format_number(p, 1234.5, &a, &s), 0);
    assert_string_equal(s, "1,234.5");
    assert_int_equal(pl_policy_format_currency(p, 19.99, NULL, &a, &s), 0);
    assert_string_equal(s, "$19.99");
    assert_int_equal(pl_policy_format_date(p, 1700000000000.0, &a, &s), 0);
    assert_string_equal(s, "November 14, 2023");
    assert_int_equal(pl_policy_format_plural(p, "items", 1, &a, &s), 0);
    assert_string_equal(s, "1 item");
    assert_int_equal(pl_policy_format_plural(p, "items", 1200, &a, &s), 0);
    assert_string_equal(s, "1,200 items");
    assert_int_equal(pl_policy_format_plural(p, "nope", 1, &a, &s), PL_ENOENT);

    p = pl_policy_resolve(set, "ar-SA");
    assert_int_equal(pl_policy_format_number(p, 1234, &a, &s), 0);
    assert_string_equal(s, "١٬٢٣٤");
    /* 14 November 2023 is 30 Rabi' II 1445 in the Umm al-Qura calendar. */
    assert_int_equal(pl_policy_format_date(p, 1700000000000.0, &a, &s), 0);
    assert_non_null(strstr(s, "١٤٤٥"));
    assert_int_equal(pl_policy_format_currency(p, 5, NULL, &a, &s), 0);
    assert_non_null(strstr(s, "٥"));

    p = pl_policy_resolve(set, "ru-RU");
    assert_int_equal(pl_policy_format_plural(p, "items", 1, &a, &s), 0);
    assert_string_equal(s, "1 товар");
    assert_int_equal(pl_policy_format_plural(p, "items", 3, &a, &s), 0);
    assert_string_equal(s, "3 товара");
    assert_int_equal(pl_policy_format_plural(p, "items", 5, &a, &s), 0);
    assert_string_equal(s, "5 товаров");
    pl_arena_free(&a);
    pl_policy_set_free(set);
}

/* ---- Limits and bad input ---- */

static void test_arena_cap_and_bad_input(void **state)
{
    pl_policy_set *set;
    pl_arena a;
    pl_policy_result *r;
    const pl_policy *p;
    char big[2000];
    pl_policy_input in = {.direction = PL_POLICY_IN};

    (void)state;
    write_file("default.yaml", DEFAULT);
    set = load_ok();
    p = pl_policy_resolve(set, "en");
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    in.text = big;
    in.len = strlen(big);
    pl_arena_init(&a, 4096);
    assert_int_equal(pl_policy_evaluate(p, &in, &a, &r), PL_ELIMIT);
    assert_null(r);
    pl_arena_free(&a);

    pl_arena_init(&a, 1 << 20);
    in.text = "bad \xff utf-8";
    in.len = strlen(in.text);
    assert_int_equal(pl_policy_evaluate(p, &in, &a, &r), PL_EUTF8);
    in.text = "";
    in.len = 0;
    assert_int_equal(pl_policy_evaluate(p, &in, &a, &r), 0);
    assert_int_equal(r->nhits, 0);
    in.direction = 0;
    assert_int_equal(pl_policy_evaluate(p, &in, &a, &r), PL_EINVAL);
    pl_arena_free(&a);
    pl_policy_set_free(set);
}

static void test_missing_folder(void **state)
{
    pl_diags d;
    pl_policy_set *set = NULL;

    (void)state;
    pl_diags_init(&d);
    assert_int_equal(pl_policy_load_dir("/nonexistent/policies", &d, &set), PL_ENOENT);
    assert_null(set);
    assert_int_equal(d.errors, 1);
    pl_diags_free(&d);
}

static void test_reload_stats(void **state)
{
    pl_policy_reload_stats before = pl_policy_reload_stats_get(), after;

    (void)state;
    pl_policy_reload_count(1);
    pl_policy_reload_count(0);
    pl_policy_reload_count(1);
    after = pl_policy_reload_stats_get();
    assert_int_equal(after.reloads - before.reloads, 2);
    assert_int_equal(after.failures - before.failures, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_error_unknown_key_and_enum_hints),
        T(test_error_invalid_regex_position),
        T(test_error_locale_tags),
        T(test_error_duplicate_ids),
        T(test_error_parents_and_cycles),
        T(test_error_actions_fixes_disable),
        T(test_error_syntax_and_types),
        T(test_warnings_unreachable_and_shadowed),
        T(test_inheritance_and_fallback),
        T(test_condition_terms_word_boundaries),
        T(test_condition_regex_signals_combinators),
        T(test_actions),
        T(test_fixes),
        T(test_fix_group_references),
        T(test_formatting),
        T(test_arena_cap_and_bad_input),
        T(test_missing_folder),
        T(test_reload_stats),
#undef T
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
