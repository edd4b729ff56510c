/*
 * Masking and restoring: every class, overlaps, Unicode digits, RTL text
 * with bidi marks, policy patterns and keep-terms, and the placeholder
 * checks done when an answer comes back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../gateway/translate/translate_internal.h"

typedef struct fixture {
    pl__masker *m;
    pl_arena a;
} fixture;

static int setup(void **state)
{
    static fixture f;

    assert_int_equal(pl__masker_new(&f.m, NULL), 0);
    pl_arena_init(&f.a, 1u << 20);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;

    pl__masker_free(f->m);
    pl_arena_free(&f->a);
    return 0;
}

static pl__masked mask_with(fixture *f, const char *text, unsigned classes,
                            const pl_translate_term *g, size_t ng,
                            const char *const *pats, size_t np)
{
    pl__mask_opts o = {.classes = classes, .glossary = g, .glossary_count = ng,
                       .protected_patterns = pats, .protected_count = np};
    pl__masked out;
    pl_error err;

    pl_error_clear(&err);
    assert_int_equal(pl__mask(f->m, &f->a, text, &o, &out, &err), 0);
    return out;
}

static pl__masked mask_all(fixture *f, const char *text)
{
    return mask_with(f, text, PL_MASK_ALL, NULL, 0, NULL, 0);
}

/* Restoring the masked text unchanged must give back the input exactly. */
static void assert_round_trip(fixture *f, const char *text, const pl__masked *m)
{
    char *back;
    pl_error err;

    assert_int_equal(pl__unmask(&f->a, m->text, m, &back, &err), 0);
    assert_string_equal(back, text);
}

static void assert_masked(fixture *f, const char *text, unsigned cls,
                          const char *value, const char *expect_text)
{
    pl__masked m = mask_all(f, text);

    assert_int_equal(m.count, 1);
    assert_int_equal(m.items[0].cls, cls);
    assert_string_equal(m.items[0].value, value);
    assert_string_equal(m.text, expect_text);
    assert_null(strstr(m.text, value));
    assert_round_trip(f, text, &m);
}

static void test_email(void **state)
{
    assert_masked(*state, "Escríbeme a ana.lópez+tienda@correo.example.com, gracias",
                  PL_MASK_EMAIL, "ana.lópez+tienda@correo.example.com",
                  "Escríbeme a ⟦1⟧, gracias");
}

static void test_url_trailing_punctuation(void **state)
{
    assert_masked(*state, "Mira https://shop.example/orders?id=7&x=1.",
                  PL_MASK_URL, "https://shop.example/orders?id=7&x=1",
                  "Mira ⟦1⟧.");
}

static void test_phone(void **state)
{
    assert_masked(*state, "Llámame al +34 612 345 678 mañana", PL_MASK_PHONE,
                  "+34 612 345 678", "Llámame al ⟦1⟧ mañana");
    assert_masked(*state, "call (555) 123-4567 now", PL_MASK_PHONE,
                  "(555) 123-4567", "call ⟦1⟧ now");
}

static void test_dates_and_short_numbers_are_not_phones(void **state)
{
    fixture *f = *state;
    pl__masked m = mask_all(f, "el 2024-01-15 pedí 3 cosas");

    assert_int_equal(m.count, 0);
    assert_string_equal(m.text, "el 2024-01-15 pedí 3 cosas");
}

static void test_card_luhn(void **state)
{
    fixture *f = *state;
    pl__masked m;

    assert_masked(f, "mi tarjeta es 4111 1111 1111 1111 ok", PL_MASK_CARD,
                  "4111 1111 1111 1111", "mi tarjeta es ⟦1⟧ ok");
    /* One digit off: Luhn fails, so it is not a card (nor a phone: 16 digits). */
    m = mask_all(f, "ref 4111 1111 1111 1112 ok");
    assert_int_equal(m.count, 0);
}

static void assert_card_masked(fixture *f, const char *text, const char *card)
{
    pl__masked m = mask_all(f, text);
    int found = 0;

    /* The card may share its placeholder with an overlapping phone. */
    for (size_t i = 0; i < m.count; i++)
        if (m.items[i].cls == PL_MASK_CARD && strstr(m.items[i].value, card) != NULL)
            found = 1;
    assert_true(found);
    assert_null(strstr(m.text, "4111"));
    assert_round_trip(f, text, &m);
}

static void test_card_inside_a_longer_digit_run(void **state)
{
    /* Greedy candidates that swallow an expiry date or a phone number
     * next to the card must still give the card up. */
    assert_card_masked(*state, "Card 4111 1111 1111 1111 12/25 thanks",
                       "4111 1111 1111 1111");
    assert_card_masked(*state, "Call 555 0100 4111-1111-1111-1111 now",
                       "4111-1111-1111-1111");
}

static void test_iban_mod97(void **state)
{
    fixture *f = *state;
    pl__masked m;

    assert_masked(f, "IBAN: DE89 3704 0044 0532 0130 00 danke", PL_MASK_IBAN,
                  "DE89 3704 0044 0532 0130 00", "IBAN: ⟦1⟧ danke");
    assert_masked(f, "pay to GB82WEST12345698765432", PL_MASK_IBAN,
                  "GB82WEST12345698765432", "pay to ⟦1⟧");
    m = mask_all(f, "pay to GB82WEST12345698765433");
    for (size_t i = 0; i < m.count; i++)
        assert_int_not_equal(m.items[i].cls, PL_MASK_IBAN);
}

static void test_numbers_with_units_and_currency(void **state)
{
    fixture *f = *state;
    pl__masked m = mask_all(f, "Cuesta 19,99 € y pesa 2.5 kg; envío $5, dto 10% en 3 días");

    assert_int_equal(m.count, 4);
    assert_string_equal(m.items[0].value, "19,99 €");
    assert_string_equal(m.items[1].value, "2.5 kg");
    assert_string_equal(m.items[2].value, "$5");
    assert_string_equal(m.items[3].value, "10%");
    for (size_t i = 0; i < 4; i++)
        assert_int_equal(m.items[i].cls, PL_MASK_NUMBER);
    assert_string_equal(m.text, "Cuesta ⟦1⟧ y pesa ⟦2⟧; envío ⟦3⟧, dto ⟦4⟧ en 3 días");
    assert_round_trip(f, "Cuesta 19,99 € y pesa 2.5 kg; envío $5, dto 10% en 3 días", &m);
    /* A unit word after a space needs two letters: "2 in" is English. */
    m = mask_all(f, "put 2 in the box");
    assert_int_equal(m.count, 0);
}

/* Patterns built around digits are run from a little before the first
 * digit: what precedes it (a currency, a sign, a letter the look-behind
 * must see) still counts. */
static void test_context_before_the_first_digit(void **state)
{
    fixture *f = *state;
    pl__masked m = mask_all(f, "Total a pagar: USD 1.234,50 y nada más");

    assert_int_equal(m.count, 1);
    assert_string_equal(m.items[0].value, "USD 1.234,50");
    m = mask_all(f, "Llámame al +(34) 612 345 678 por favor");
    assert_int_equal(m.count, 1);
    assert_int_equal(m.items[0].cls, PL_MASK_PHONE);
    assert_string_equal(m.items[0].value, "+(34) 612 345 678");
    m = mask_all(f, "Cuenta ES9121000418450200051332 gracias");
    assert_int_equal(m.count, 1);
    assert_int_equal(m.items[0].cls, PL_MASK_IBAN);
    /* A letter right before the digits keeps a code from being a number. */
    m = mask_all(f, "Modelo abcdefghijklmnopqrstuvwxyzX200 sin más");
    assert_int_equal(m.count, 0);
    m = mask_all(f, "Sin dígitos, sin correo, sin enlaces: nada que ocultar");
    assert_int_equal(m.count, 0);
    assert_string_equal(m.text, "Sin dígitos, sin correo, sin enlaces: nada que ocultar");
}

static void test_unicode_digits(void **state)
{
    fixture *f = *state;
    /* Arabic-Indic digits: a Luhn-valid card and a phone number. */
    const char *card = "٤١١١ ١١١١ ١١١١ ١١١١";
    char text[256];
    pl__masked m;

    snprintf(text, sizeof(text), "بطاقتي %s شكرا", card);
    m = mask_all(f, text);
    assert_int_equal(m.count, 1);
    assert_int_equal(m.items[0].cls, PL_MASK_CARD);
    assert_string_equal(m.items[0].value, card);
    assert_round_trip(f, text, &m);
    /* Fullwidth digits in a Japanese sentence. */
    m = mask_all(f, "電話は０９０１２３４５６７８です");
    assert_int_equal(m.count, 1);
    assert_int_equal(m.items[0].cls, PL_MASK_PHONE);
    assert_string_equal(m.items[0].value, "０９０１２３４５６７８");
    assert_string_equal(m.text, "電話は⟦1⟧です");
}

static void test_rtl_with_bidi_marks(void **state)
{
    fixture *f = *state;
    /* Hebrew text; the phone number sits in a left-to-right isolate and an
     * LRM follows the e-mail address. */
    const char *text = "התקשרו אליי \u2066+972 52 123 4567\u2069 או כתבו ל-dana@example.co.il\u200E תודה";
    pl__masked m = mask_all(f, text);

    assert_int_equal(m.count, 2);
    assert_int_equal(m.items[0].cls, PL_MASK_PHONE);
    assert_string_equal(m.items[0].value, "+972 52 123 4567");
    assert_int_equal(m.items[1].cls, PL_MASK_EMAIL);
    assert_string_equal(m.items[1].value, "dana@example.co.il");
    /* The bidi controls stay in the text around the placeholders. */
    assert_non_null(strstr(m.text, "\u2066⟦1⟧\u2069"));
    assert_non_null(strstr(m.text, "⟦2⟧\u200E"));
    assert_round_trip(f, text, &m);
}

static void test_overlaps_leftmost_longest(void **state)
{
    fixture *f = *state;
    /* The e-mail inside the URL belongs to the URL. */
    pl__masked m = mask_all(f, "ver https://x.example/u?m=a@b.example.com fin");

    assert_int_equal(m.count, 1);
    assert_int_equal(m.items[0].cls, PL_MASK_URL);
    /* A protected pattern covering a price wins over the shorter number. */
    const char *pats[] = {"PED-[0-9]{6}"};
    m = mask_with(f, "pedido PED-123456 por 20 €", PL_MASK_ALL, NULL, 0, pats, 1);
    assert_int_equal(m.count, 2);
    assert_int_equal(m.items[0].cls, PL_MASK_PROTECTED);
    assert_string_equal(m.items[0].value, "PED-123456");
    assert_int_equal(m.items[1].cls, PL_MASK_NUMBER);
}

static void test_protected_patterns_and_keep_terms(void **state)
{
    fixture *f = *state;
    const char *pats[] = {"#[0-9]{5}", "SKU-[A-Z0-9]+"};
    pl_translate_term g[] = {{"Parley Plus", NULL}, {"envío", "shipping"}};
    const char *text = "El pedido #12345 con SKU-AB12 de parley plus llegó sin envío";
    pl__masked m = mask_with(f, text, PL_MASK_ALL, g, 2, pats, 2);

    assert_int_equal(m.count, 3);
    assert_string_equal(m.items[0].value, "#12345");
    assert_string_equal(m.items[1].value, "SKU-AB12");
    assert_string_equal(m.items[2].value, "parley plus");
    assert_int_equal(m.items[2].cls, PL_MASK_KEEP);
    /* A glossary entry with a translation is a prompt instruction, not a mask. */
    assert_non_null(strstr(m.text, "envío"));
    assert_round_trip(f, text, &m);
}

static void test_classes_can_be_disabled(void **state)
{
    fixture *f = *state;
    const char *text = "a@b.example +34 612 345 678";
    pl__masked m = mask_with(f, text, PL_MASK_PHONE, NULL, 0, NULL, 0);

    assert_int_equal(m.count, 1);
    assert_int_equal(m.items[0].cls, PL_MASK_PHONE);
    assert_non_null(strstr(m.text, "a@b.example"));
}

static void test_bad_protected_pattern(void **state)
{
    fixture *f = *state;
    const char *pats[] = {"([0-9]+"};
    pl__mask_opts o = {.classes = PL_MASK_ALL, .protected_patterns = pats,
                       .protected_count = 1};
    pl__masked m;
    pl_error err;

    assert_int_equal(pl__mask(f->m, &f->a, "x 1", &o, &m, &err), PL_EINVAL);
    assert_non_null(strstr(err.message, "([0-9]+"));
}

static void test_invalid_utf8(void **state)
{
    fixture *f = *state;
    pl__mask_opts o = {.classes = PL_MASK_ALL};
    pl__masked m;
    pl_error err;

    assert_int_equal(pl__mask(f->m, &f->a, "abc\xC3(", &o, &m, &err), PL_EUTF8);
}

static void test_existing_brackets_are_masked(void **state)
{
    fixture *f = *state;
    const char *text = "literal ⟦9⟧ in text";
    pl__masked m = mask_all(f, text);

    assert_int_equal(m.count, 2);
    assert_string_equal(m.text, "literal ⟦1⟧9⟦2⟧ in text");
    assert_round_trip(f, text, &m);
}

static void test_unmask_checks(void **state)
{
    fixture *f = *state;
    pl__masked m = mask_all(f, "mail a@b.example or +34 612 345 678");
    char *out;
    pl_error err;

    assert_int_equal(m.count, 2);
    /* Reordered placeholders are fine. */
    assert_int_equal(pl__unmask(&f->a, "call ⟦2⟧ or write ⟦1⟧", &m, &out, &err), 0);
    assert_string_equal(out, "call +34 612 345 678 or write a@b.example");
    assert_int_equal(pl__unmask(&f->a, "write ⟦1⟧", &m, &out, &err), PL_ETRANSLATE);
    assert_non_null(strstr(err.message, "⟦2⟧ is missing"));
    assert_int_equal(pl__unmask(&f->a, "⟦1⟧ ⟦2⟧ ⟦1⟧", &m, &out, &err), PL_ETRANSLATE);
    assert_non_null(strstr(err.message, "more than once"));
    assert_int_equal(pl__unmask(&f->a, "⟦1⟧ ⟦2⟧ ⟦3⟧", &m, &out, &err), PL_ETRANSLATE);
    assert_non_null(strstr(err.message, "invents"));
    assert_int_equal(pl__unmask(&f->a, "⟦1⟧ ⟦2⟧ ⟦x⟧", &m, &out, &err), PL_ETRANSLATE);
    assert_non_null(strstr(err.message, "malformed"));
}

static void test_class_names(void **state)
{
    unsigned cls;

    (void)state;
    for (int i = 0; pl__mask_class_names[i]; i++) {
        assert_int_equal(pl__mask_class_parse(pl__mask_class_names[i], &cls), 0);
        assert_string_equal(pl__mask_class_name(cls), pl__mask_class_names[i]);
    }
    assert_int_equal(pl__mask_class_parse("emails", &cls), PL_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_email),
        cmocka_unit_test(test_url_trailing_punctuation),
        cmocka_unit_test(test_phone),
        cmocka_unit_test(test_dates_and_short_numbers_are_not_phones),
        cmocka_unit_test(test_card_luhn),
        cmocka_unit_test(test_card_inside_a_longer_digit_run),
        cmocka_unit_test(test_iban_mod97),
        cmocka_unit_test(test_numbers_with_units_and_currency),
        cmocka_unit_test(test_context_before_the_first_digit),
        cmocka_unit_test(test_unicode_digits),
        cmocka_unit_test(test_rtl_with_bidi_marks),
        cmocka_unit_test(test_overlaps_leftmost_longest),
        cmocka_unit_test(test_protected_patterns_and_keep_terms),
        cmocka_unit_test(test_classes_can_be_disabled),
        cmocka_unit_test(test_bad_protected_pattern),
        cmocka_unit_test(test_invalid_utf8),
        cmocka_unit_test(test_existing_brackets_are_masked),
        cmocka_unit_test(test_unmask_checks),
        cmocka_unit_test(test_class_names),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
