/*
 * The pure side of the Apertium provider: the mode list, language codes,
 * pair plans with variants and pivots, and the stream format with its
 * protected spans. The real pipelines are exercised by the integration
 * suite (tests/integration/test_apertium.py).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include "../../gateway/translate/translate_internal.h"

/* What `apertium -l` prints with apertium-eng-spa, -es-pt and -fr-es. */
static const char listing[] =
    "  eco-es-fr\n  eco-fr-es\n  eng-spa\n  es-fr\n  es-pt\n  es-pt_BR\n"
    "  fr-es\n  pt-es\n  spa-eng\n  spa-eng_US\n";

static size_t load(pl__ap_mode *modes)
{
    return pl__ap_parse_modes(listing, modes, 32);
}

static void test_parse_modes(void **state)
{
    pl__ap_mode m[32];
    size_t n = load(m);

    (void)state;
    assert_int_equal(n, 8); /* the two eco- domain modes are skipped */
    assert_string_equal(m[0].name, "eng-spa");
    assert_string_equal(m[0].src, "en");
    assert_string_equal(m[0].tgt, "es");
    assert_string_equal(m[0].variant, "");
    assert_string_equal(m[3].name, "es-pt_BR");
    assert_string_equal(m[3].tgt, "pt");
    assert_string_equal(m[3].variant, "BR");
    assert_string_equal(m[7].name, "spa-eng_US");
    assert_int_equal(pl__ap_parse_modes("", m, 32), 0);
    assert_int_equal(pl__ap_parse_modes("  x\n  -es\n  es-\n  a-b-c\n", m, 32), 0);
    /* The same pair under two names is kept once, first name first. */
    assert_int_equal(pl__ap_parse_modes("en-es\neng-spa\n", m, 32), 1);
    assert_string_equal(m[0].name, "en-es");
    /* The bound is respected. */
    assert_int_equal(pl__ap_parse_modes(listing, m, 2), 2);
}

static void test_language_codes(void **state)
{
    char b[4];

    (void)state;
    assert_string_equal(pl__ap_lang("spa", b), "es");
    assert_string_equal(pl__ap_lang("ENG", b), "en");
    assert_string_equal(pl__ap_lang("pt-BR", b), "pt");
    assert_string_equal(pl__ap_lang("es_419", b), "es");
    assert_string_equal(pl__ap_lang("fr", b), "fr");
    assert_string_equal(pl__ap_lang("xyz", b), "xyz"); /* kept as it is */
    assert_null(pl__ap_lang("", b));
    assert_null(pl__ap_lang("e", b));
    assert_null(pl__ap_lang("e1", b));
    assert_null(pl__ap_lang(NULL, b));
}

static void test_plans(void **state)
{
    pl__ap_mode m[32];
    size_t n = load(m);
    pl__ap_plan p;

    (void)state;
    assert_int_equal(pl__ap_plan_pair(m, n, "en", "es-419", "es", &p), 0);
    assert_int_equal(p.nlegs, 1);
    assert_string_equal(p.legs[0]->name, "eng-spa");
    /* The locale's region picks the variant; without one, the plain mode. */
    assert_int_equal(pl__ap_plan_pair(m, n, "es", "pt-BR", "es", &p), 0);
    assert_string_equal(p.legs[0]->name, "es-pt_BR");
    assert_int_equal(pl__ap_plan_pair(m, n, "es", "pt-PT", "es", &p), 0);
    assert_string_equal(p.legs[0]->name, "es-pt");
    assert_int_equal(pl__ap_plan_pair(m, n, "spa", "en-US", "es", &p), 0);
    assert_string_equal(p.legs[0]->name, "spa-eng_US");
    assert_int_equal(pl__ap_plan_pair(m, n, "es", "en", "es", &p), 0);
    assert_string_equal(p.legs[0]->name, "spa-eng");
    /* No direct pt-en: through Spanish, with the target's variant. */
    assert_int_equal(pl__ap_plan_pair(m, n, "pt", "en-US", "es", &p), 0);
    assert_int_equal(p.nlegs, 2);
    assert_string_equal(p.legs[0]->name, "pt-es");
    assert_string_equal(p.legs[1]->name, "spa-eng_US");
    assert_string_equal(p.pivot, "es");
    assert_int_equal(pl__ap_plan_pair(m, n, "fr", "pt-BR", "spa", &p), 0);
    assert_string_equal(p.legs[1]->name, "es-pt_BR");
    /* No pivot configured, or no leg: no plan. */
    assert_int_equal(pl__ap_plan_pair(m, n, "pt", "en", "", &p), PL_ENOENT);
    assert_int_equal(pl__ap_plan_pair(m, n, "pt", "en", NULL, &p), PL_ENOENT);
    assert_int_equal(pl__ap_plan_pair(m, n, "en", "de", "es", &p), PL_ENOENT);
    assert_int_equal(pl__ap_plan_pair(m, n, "de", "es", "es", &p), PL_ENOENT);
    assert_int_equal(pl__ap_plan_pair(m, n, NULL, "es", "es", &p), PL_ENOENT);
}

static void test_deformat_protects_and_escapes(void **state)
{
    pl_arena a;
    pl__ap_text t;

    (void)state;
    pl_arena_init(&a, 0);
    assert_int_equal(pl__ap_deformat(&a, "Where is my order #A-4821?", &t), 0);
    assert_string_equal(t.stream, "Where is my order ⟦1⟧?[]");
    assert_int_equal(t.count, 1);
    assert_string_equal(t.items[0], "#A-4821");
    /* The engine's placeholders are renumbered with the provider's own. */
    assert_int_equal(pl__ap_deformat(&a, "Call ⟦1⟧ at 10:30, ref (X7).", &t), 0);
    assert_string_equal(t.stream, "Call ⟦1⟧ at ⟦2⟧, ref (⟦3⟧).[]");
    assert_string_equal(t.items[0], "⟦1⟧");
    assert_string_equal(t.items[1], "10:30");
    assert_string_equal(t.items[2], "X7");
    /* Placeholders glued to words are still spans of their own. */
    assert_int_equal(pl__ap_deformat(&a, "order⟦2⟧.", &t), 0);
    assert_string_equal(t.stream, "order⟦1⟧.[]");
    /* Reserved characters escaped; ~ * # and line breaks in superblanks. */
    assert_int_equal(pl__ap_deformat(&a, "a/b [c] ^d$ @e <f> {g} \\h ~i *j #k\nl", &t), 0);
    assert_string_equal(t.stream,
                        "a\\/b \\[c\\] \\^d\\$ \\@e \\<f\\> \\{g\\} \\\\h [~]i [*]j [#]k[\n]l[]");
    assert_int_equal(t.count, 0);
    pl_arena_free(&a);
}

static void roundtrip(pl_arena *a, const char *in, const char *answer, const char *want)
{
    pl__ap_text t;
    pl_error err;
    char *out;

    assert_int_equal(pl__ap_deformat(a, in, &t), 0);
    pl_error_clear(&err);
    assert_int_equal(pl__ap_reformat(a, answer, strlen(answer), &t, &out, &err), 0);
    assert_string_equal(out, want);
}

static void test_reformat(void **state)
{
    pl_arena a;
    pl__ap_text t;
    pl_error err;
    char *out;

    (void)state;
    pl_arena_init(&a, 0);
    /* The stream format sent back unchanged gives the text back. */
    {
        const char *in = "a/b [c] ^d$ @e <f> {g} \\h ~i *j #k\nl ⟦1⟧ #A-1";
        assert_int_equal(pl__ap_deformat(&a, in, &t), 0);
        assert_int_equal(pl__ap_reformat(&a, t.stream, strlen(t.stream), &t, &out, &err), 0);
        assert_string_equal(out, in);
    }
    /* Answers as the pipelines write them. */
    roundtrip(&a, "Where is my order #A-4821?", "Dónde es mi orden ⟦1⟧?[]",
              "Dónde es mi orden #A-4821?");
    /* Unknown-word marks go, doubled and leading spaces collapse. */
    roundtrip(&a, "The xyzzy is 5 kg", " El  *xyzzy es #⟦1⟧ @kg[]", "El xyzzy es 5 kg");
    /* A moved span is fine. */
    roundtrip(&a, "Order 12 of 3 May", "Orden ⟦1⟧ del ⟦2⟧ de mayo[]", "Orden 12 del 3 de mayo");
    /* A lost or repeated span is an error naming it. */
    assert_int_equal(pl__ap_deformat(&a, "Order #A-4821 now", &t), 0);
    pl_error_clear(&err);
    assert_int_equal(pl__ap_reformat(&a, "Orden ahora[]", strlen("Orden ahora[]"), &t, &out, &err), PL_ETRANSLATE);
    assert_non_null(strstr(err.message, "#A-4821"));
    pl_error_clear(&err);
    assert_int_equal(pl__ap_reformat(&a, "⟦1⟧ ⟦1⟧", strlen("⟦1⟧ ⟦1⟧"), &t, &out, &err),
                     PL_ETRANSLATE);
    assert_non_null(strstr(err.message, "repeated"));
    pl_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_modes),
        cmocka_unit_test(test_language_codes),
        cmocka_unit_test(test_plans),
        cmocka_unit_test(test_deformat_protects_and_escapes),
        cmocka_unit_test(test_reformat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
