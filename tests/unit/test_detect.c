/*
 * Unit tests for the detect module: languages on short messages, und,
 * bad UTF-8, one case per variety rule, priors from hints, corrupt model
 * and marker files, and the labelled variety set in tests/data/varieties.tsv.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parley/detect.h"

static char locales[4096];

static int setup(void **state)
{
    const char *root = getenv("PARLEY_SOURCE_ROOT");
    snprintf(locales, sizeof locales, "%s/locales", root ? root : ".");
    pl_detector *d = NULL;
    pl_error err;
    if (pl_detect_open(locales, &d, &err) != 0) {
        fprintf(stderr, "cannot open %s: %s\n", locales, err.message);
        return -1;
    }
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    pl_detect_close(*state);
    return 0;
}

static pl_detect_result detect_h(const pl_detector *d, const char *text,
                                 const pl_detect_hint *hints, size_t nhints)
{
    pl_detect_result r;
    pl_error err;
    int rc = pl_detect_text(d, text, strlen(text), hints, nhints, &r, &err);
    if (rc != 0)
        fail_msg("detect(%s): %s", text, err.message);
    return r;
}

static pl_detect_result detect(const pl_detector *d, const char *text)
{
    return detect_h(d, text, NULL, 0);
}

static void expect_lang(const pl_detector *d, const char *text, const char *lang)
{
    pl_detect_result r = detect(d, text);
    if (strcmp(r.language, lang) != 0)
        fail_msg("'%s': got %s (%.2f), want %s", text, r.language, r.confidence, lang);
}

static void expect_variety(const pl_detector *d, const char *text, const char *lang,
                           const char *variety)
{
    pl_detect_result r = detect(d, text);
    if (strcmp(r.language, lang) != 0 || strcmp(r.variety, variety) != 0)
        fail_msg("'%s': got %s/%s, want %s/%s", text, r.language,
                 r.variety[0] ? r.variety : "null", lang, variety[0] ? variety : "null");
}

static void test_model_languages(void **state)
{
    const pl_detector *d = *state;
    size_t n = pl_detect_language_count(d);
    assert_int_equal(n, 77);
    for (size_t i = 0; i < n; i++) {
        assert_string_not_equal(pl_detect_language_code(d, i), "la");
        assert_string_not_equal(pl_detect_language_code(d, i), "eo");
    }
    assert_null(pl_detect_language_code(d, n));
    assert_true(pl_detect_model_size(d) < 30u * 1000 * 1000);
}

static void test_short_messages(void **state)
{
    const pl_detector *d = *state;
    expect_lang(d, "hola, dónde está mi pedido?", "es");
    expect_lang(d, "謝謝", "zh");
    expect_lang(d, "شلون أغير العنوان الحين؟", "ar");
    expect_lang(d, "Where is my parcel? It has been two weeks.", "en");
    expect_lang(d, "Wo ist meine Bestellung?", "de");
    expect_lang(d, "Gdzie jest moje zamówienie?", "pl");
    expect_lang(d, "Где мой заказ?", "ru");
    expect_lang(d, "Де моє замовлення?", "uk");
    expect_lang(d, "注文した商品がまだ届きません", "ja");
    expect_lang(d, "주문한 상품이 아직 안 왔어요", "ko");
    expect_lang(d, "สินค้ายังไม่มาส่งเลยครับ", "th");
    expect_lang(d, "سفارش من کجاست؟", "fa");
    expect_lang(d, "میرا آرڈر کہاں ہے؟", "ur");
    expect_lang(d, "ההזמנה שלי עדיין לא הגיעה", "he");
    expect_lang(d, "Đơn hàng của tôi ở đâu?", "vi");
    expect_lang(d, "मेरा ऑर्डर कहाँ है?", "hi");
    expect_lang(d, "Siparişim nerede?", "tr");
    /* Confusable pairs helped by locales/words/: Hindi/Marathi, Indonesian/Malay. */
    expect_lang(d, "अन्ना के आंदोलन के दौरान भी केजरीवाल ने", "hi");
    expect_lang(d, "माझे पार्सल अजून आले नाही, कृपया लवकर पाठवा", "mr");
    /* Single words decided by their endings (Marathi -ांना, -ांचे; Hindi
     * future -ेंगे) and by the nukta of Hindi loans. */
    expect_lang(d, "लोकांना", "mr");
    expect_lang(d, "पुस्तकांचे", "mr");
    expect_lang(d, "भेजेंगे", "hi");
    expect_lang(d, "ज़रूरत", "hi");
    expect_lang(d, "Bila pesanan saya akan dihantar? Saya sudah bayar kerana perlu sahaja", "ms");
    expect_lang(d, "Kapan pesanan saya dikirim? Saya sudah bayar karena butuh banget", "id");
    /* Macedonian "што е ова" ("what is this"): its grammatical words
     * (locales/words/cyrillic.txt) decide, the letters alone said Serbian. */
    expect_lang(d, "Што е ова", "mk");
    /* Persian "to the house": "به" (locales/words/arabic.txt) makes it
     * surer (0.98 from the letters alone). */
    pl_detect_result fa = detect(d, "به خانه");
    assert_string_equal(fa.language, "fa");
    assert_true(fa.confidence > 0.99);
    /* Russian/Ukrainian function words (locales/words/ru-uk.txt). */
    expect_lang(d, "буде завтра", "uk");
    expect_lang(d, "ви де", "uk");
    expect_lang(d, "где он", "ru");
    /* Turkish saved in Windows-1254 and read as Windows-1252 (ı ş ğ shown
     * as ý þ ð) is still Turkish; Icelandic and Czech, which use those
     * letters, stay themselves. */
    expect_lang(d, "Sipariþimi ne zaman alacaðým? Kargo takip numarasý çalýþmýyor.", "tr");
    expect_lang(d, "Það er ekki hægt að sækja pöntunina mína, hvað á ég að gera?", "is");
    expect_lang(d, "Dobrý den, kdy mi přijde objednávka? Čekám už týden.", "cs");
    /* A pasted English passage before the customer's own words does not
     * decide the answer (the dropped languages come back), and an English
     * signature after them does not either. */
    expect_lang(d, "Error: payment declined by the issuing bank, please contact your card "
                   "provider for details. Olá, tentei pagar o meu pedido três vezes e o "
                   "cartão foi recusado, o que devo fazer agora?", "pt");
    expect_lang(d, "Connection reset by peer while uploading the attachment, retry later. "
                   "Hallo, ich habe versucht, die Rechnung hochzuladen, aber es "
                   "funktioniert einfach nicht.", "de");
    expect_lang(d, "Hola, quiero cambiar la dirección de envío de mi pedido. Sent from my iPhone",
                "es");
    /* Product names around a few grammatical words: the words of
     * locales/words/latin.txt decide (the n-grams alone said hu and de). */
    expect_lang(d, "Het Samsung Galaxy Tab is kapot", "nl");
    expect_lang(d, "Le MacBook Pro est en panne", "fr");
    /* A product name in Latin letters does not outweigh Hindi: the vowel
     * signs of the Devanagari words count toward their script. */
    expect_lang(d, "Samsung Galaxy नहीं चला", "hi");
    /* Decomposed input (e + U+0301) is normalized before scoring. */
    pl_detect_result r = detect(d, "¿Dónde esta\xcc\x81 mi pedido?");
    assert_string_equal(r.language, "es");
    assert_string_equal(r.script, "Latn");
    assert_true(r.confidence > 0.5 && r.confidence <= 1.0);
}

static void test_und_and_errors(void **state)
{
    const pl_detector *d = *state;
    pl_detect_result r = detect(d, "12345 !!! :-) 🙂");
    assert_string_equal(r.language, "und");
    assert_true(r.confidence == 0.0);
    assert_string_equal(r.variety, "");
    r = detect(d, "");
    assert_string_equal(r.language, "und");

    pl_error err;
    int rc = pl_detect_text(d, "hola \xff mundo", 12, NULL, 0, &r, &err);
    assert_int_equal(rc, PL_EUTF8);
    assert_non_null(strstr(err.message, "byte offset 5"));
    assert_int_equal(pl_detect_text(NULL, "x", 1, NULL, 0, &r, &err), PL_EINVAL);
}

/* UTF-8 is checked in the detector's first pass; every kind of bad sequence
 * must still be refused with the offset of its first byte. */
static void test_bad_utf8_kinds(void **state)
{
    const pl_detector *d = *state;
    static const struct {
        const char *text;
        size_t len, offset;
    } bad[] = {
        {"ok \xc0\x80", 5, 3},         /* overlong NUL */
        {"ok \xe0\x80\xaf", 6, 3},     /* overlong '/' */
        {"ok \xed\xa0\x80", 6, 3},     /* surrogate */
        {"ok \xf4\x90\x80\x80", 7, 3}, /* beyond U+10FFFF */
        {"da\xc3", 3, 2},              /* cut short at the end */
        {"d\xc3\xa1 \x80", 5, 4},      /* stray continuation byte */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pl_detect_result r;
        pl_error err;
        char want[32];
        assert_int_equal(
            pl_detect_text(d, bad[i].text, bad[i].len, NULL, 0, &r, &err),
            PL_EUTF8);
        snprintf(want, sizeof want, "byte offset %zu", bad[i].offset);
        assert_non_null(strstr(err.message, want));
        assert_string_equal(r.language, "und");
    }
    /* Four-byte letters and emoji are fine. */
    expect_lang(
        d,
        "\xf0\x9f\x99\x82 Danke sch\xc3\xb6n f\xc3\xbcr die schnelle Antwort",
        "de");
}

/* Scores are integers kept relative to the best; a text far longer than a
 * message must neither overflow them nor change the answer. */
static void test_long_text(void **state)
{
    const pl_detector *d = *state;
    static const char *unit[] = {
        "Onde está o meu pedido? Já paguei há duas semanas. ",
        "a b c d e f g h i j k l m n o p q r s t u v w x y z "};
    const char *want[] = {"pt", NULL};
    for (size_t u = 0; u < 2; u++) {
        size_t n = strlen(unit[u]), total = 4u << 20;
        char *text = malloc(total + 1);
        assert_non_null(text);
        for (size_t o = 0; o < total; o += n)
            memcpy(text + o, unit[u], o + n <= total ? n : total - o);
        text[total] = '\0';
        pl_detect_result r;
        pl_error err;
        assert_int_equal(pl_detect_text(d, text, total, NULL, 0, &r, &err), 0);
        if (want[u])
            assert_string_equal(r.language, want[u]);
        assert_string_equal(r.script, "Latn");
        assert_true(r.confidence > 0.0 && r.confidence <= 1.0);
        free(text);
    }
    /* Markers past the first 512 words of a message (found word by word
     * after the words listed beforehand) still count. */
    char many[4096] = "";
    for (int i = 0; i < 600; i++)
        strcat(many, "the ");
    strcat(many, "favourite colour");
    expect_variety(d, many, "en", "en-GB");
}

/* Text that is already NFC is scored as it is; text NFC would change (a
 * decomposed letter, a nukta letter that NFC decomposes) is normalized
 * first, so both spellings get the same answer. */
static void test_normalization_needed(void **state)
{
    const pl_detector *d = *state;
    pl_detect_result a = detect(d, "ज़रूर, मैं आज ही फ़ोन करूँगा");
    pl_detect_result b =
        detect(d, "\xe0\xa5\x9b\xe0\xa4\xb0\xe0\xa5\x82\xe0\xa4\xb0, मैं आज ही "
                  "\xe0\xa5\x9e\xe0\xa5\x8b\xe0\xa4\xa8 करूँगा");
    assert_string_equal(a.language, "hi");
    assert_string_equal(b.language, "hi");
    assert_true(a.confidence == b.confidence);
    pl_detect_result c =
        detect(d, "Cafe\xcc\x81 com pa\xcc\x83o de queijo, obrigado");
    pl_detect_result e = detect(d, "Café com pão de queijo, obrigado");
    assert_string_equal(c.language, e.language);
    assert_true(c.confidence == e.confidence);
}

static void test_variety_rules(void **state)
{
    const pl_detector *d = *state;
    expect_variety(d, "¿Vosotros sabéis dónde está mi pedido?", "es", "es-ES");
    expect_variety(d, "Necesito cambiar el móvil, ¿me lo podéis cambiar?", "es", "es-ES");
    expect_variety(d, "Che, ¿vos sabés cuándo llega mi pedido?", "es", "es-419");
    expect_variety(d, "Ahorita no me llega el código al celular", "es", "es-419");
    expect_variety(d, "Hola, ¿dónde está mi pedido?", "es", "");
    expect_variety(d, "Estou a trabalhar e não posso atender, enviem por email", "pt", "pt-PT");
    expect_variety(d, "O meu telemóvel chegou com o ecrã partido", "pt", "pt-PT");
    expect_variety(d, "Cadê meu pedido? Paguei no boleto faz uma semana", "pt", "pt-BR");
    expect_variety(d, "Obrigado pela ajuda", "pt", "");
    expect_variety(d, "The colour is wrong and I'd like to return it", "en", "en-GB");
    expect_variety(d, "What's the postcode for returns?", "en", "en-GB");
    expect_variety(d, "The color is wrong, can I get a refund to my check account", "en", "en-US");
    expect_variety(d, "My zip code changed, can you update the address?", "en", "en-US");
    expect_variety(d, "Thanks for your help", "en", "");
    expect_variety(d, "Je vous ai envoyé un courriel la fin de semaine passée", "fr", "fr-CA");
    expect_variety(d, "J'ai reçu un mail de Colissimo mais pas de colis", "fr", "fr-FR");
    expect_variety(d, "Bonjour, merci beaucoup", "fr", "");
    expect_variety(d, "我的订单为什么还没发货", "zh", "zh-Hans");
    expect_variety(d, "我的訂單為什麼還沒發貨", "zh", "zh-Hant");
    expect_variety(d, "我張單點解仲未寄出嘅", "zh", "yue");
    expect_variety(d, "لماذا لم يصل طلبي حتى الآن؟", "ar", "arb");
    expect_variety(d, "الأوردر بتاعي اتأخر ليه كده؟", "ar", "arz");
    expect_variety(d, "شلون أغير العنوان الحين؟", "ar", "afb");
    expect_variety(d, "شو صار بالطلب؟ بدي أعرف هلق", "ar", "apc");
    expect_variety(d, "فين وصلات الكوموند ديالي؟ بغيت نعرف دابا", "ar", "ary");
}

static void test_priors(void **state)
{
    const pl_detector *d = *state;
    /* A bare "ok" says little; the conversation's Spanish decides. */
    pl_detect_hint es_conv = {PL_HINT_CONVERSATION, "es"};
    pl_detect_result none = detect(d, "ok");
    pl_detect_result r = detect_h(d, "ok", &es_conv, 1);
    assert_string_equal(r.language, "es");
    assert_true(none.confidence < 0.9); /* short input: low confidence */
    /* The hint is a prior, not an override: a clear sentence still wins. */
    r = detect_h(d, "Where is my order? It should have arrived last week.", &es_conv, 1);
    assert_string_equal(r.language, "en");
    assert_true(r.confidence > 0.9);
    /* Hints raise the hinted language's confidence on ambiguous words. */
    pl_detect_hint pt_region = {PL_HINT_REGION, "BR"};
    pl_detect_result plain = detect(d, "pedido");
    r = detect_h(d, "pedido", &pt_region, 1);
    assert_string_equal(r.language, "pt");
    assert_string_equal(r.variety, "pt-BR");
    assert_true(r.variety_from_hint);
    (void)plain;
    /* Accept-Language with q-values: the preferred language weighs most. */
    pl_detect_hint al = {PL_HINT_ACCEPT_LANGUAGE, "fr-CA,fr;q=0.9,en;q=0.3"};
    r = detect_h(d, "merci", &al, 1);
    assert_string_equal(r.language, "fr");
    assert_string_equal(r.variety, "fr-CA");
    /* A variety in the text beats a variety hint. */
    pl_detect_hint mx = {PL_HINT_LOCALE, "es-MX"};
    r = detect_h(d, "¿Vosotros sabéis algo de mi pedido?", &mx, 1);
    assert_string_equal(r.variety, "es-ES");
    assert_false(r.variety_from_hint);
    /* Unusable hints change nothing. */
    pl_detect_hint junk[] = {{PL_HINT_REGION, "ZZ"}, {PL_HINT_ACCEPT_LANGUAGE, ";;,q=x"},
                             {PL_HINT_LOCALE, NULL}};
    pl_detect_result a = detect(d, "gracias por todo");
    r = detect_h(d, "gracias por todo", junk, 3);
    assert_string_equal(r.language, a.language);
}

static void test_only_languages(void **state)
{
    const pl_detector *d = *state;
    pl_error err;
    pl_detect_result r;
    /* An operator's list restricts the answer, whatever the text leans to. */
    pl_detect_result free_ = detect(d, "ciao");
    pl_detect_hint es_pt = {PL_HINT_ONLY, "es, pt"};
    r = detect_h(d, "ciao", &es_pt, 1);
    assert_true(strcmp(free_.language, "es") != 0 && strcmp(free_.language, "pt") != 0);
    assert_true(strcmp(r.language, "es") == 0 || strcmp(r.language, "pt") == 0);
    assert_true(r.nalt <= 1);
    /* Locales and aliases name their language; several lists add up. */
    pl_detect_hint two[] = {{PL_HINT_ONLY, "pt-BR"}, {PL_HINT_ONLY, "es-MX,yue"}};
    r = detect_h(d, "obrigado", two, 2);
    assert_string_equal(r.language, "pt");
    r = detect_h(d, "唔該晒", two, 2);
    assert_string_equal(r.language, "zh");
    /* Codes in capitals, and other standards' codes (iw, fil). */
    pl_detect_hint caps = {PL_HINT_ONLY, "IW,FIL\tEN"};
    r = detect_h(d, "שלום, ההזמנה שלי", &caps, 1);
    assert_string_equal(r.language, "he");
    r = detect_h(d, "salamat po sa tulong ninyo", &caps, 1);
    assert_string_equal(r.language, "tl");
    /* A script none of the languages is written in: und. */
    r = detect_h(d, "สวัสดีครับ", two, 2);
    assert_string_equal(r.language, "und");
    assert_true(r.confidence == 0.0);
    /* An unknown code or an empty list is the caller's mistake. */
    pl_detect_hint bad = {PL_HINT_ONLY, "en,xx"};
    assert_int_equal(pl_detect_text(d, "hello", 5, &bad, 1, &r, &err), PL_EINVAL);
    assert_non_null(strstr(err.message, "\"xx\""));
    pl_detect_hint word = {PL_HINT_ONLY, "english"};
    assert_int_equal(pl_detect_text(d, "hello", 5, &word, 1, &r, &err), PL_EINVAL);
    pl_detect_hint empty = {PL_HINT_ONLY, " , "};
    assert_int_equal(pl_detect_text(d, "hello", 5, &empty, 1, &r, &err), PL_EINVAL);
}

/* Two results are the same answer, alternatives included. */
static void assert_same_result(const pl_detect_result *a, const pl_detect_result *b)
{
    assert_string_equal(a->language, b->language);
    assert_string_equal(a->variety, b->variety);
    assert_string_equal(a->script, b->script);
    assert_true(a->confidence == b->confidence);
    assert_int_equal(a->nalt, b->nalt);
    for (size_t k = 0; k < a->nalt; k++) {
        assert_string_equal(a->alt[k].language, b->alt[k].language);
        assert_true(a->alt[k].confidence == b->alt[k].confidence);
    }
}

static void test_langset(void **state)
{
    const pl_detector *d = *state;
    pl_error err;
    pl_detect_result a, b;
    pl_detect_langset *set = NULL;
    /* A set read once answers as the same list given as a hint, in every
     * script: allowed languages, a script with one of them, none. */
    const char *list = "en,es,pt,fr,de,it,nl,sv,ru,uk,ar,fa,zh";
    assert_int_equal(pl_detect_langset_new(d, list, &set, &err), 0);
    pl_detect_hint hint = {PL_HINT_ONLY, list};
    const char *texts[] = {"ciao, dov'è il mio ordine?", "obrigado pela ajuda",
                           "Het Samsung Galaxy Tab is kapot", "спасибо за помощь",
                           "شكرا جزيلا", "谢谢你的帮助", "สวัสดีครับ", "12345", ""};
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        assert_int_equal(pl_detect_text(d, texts[i], strlen(texts[i]), &hint, 1, &a, &err), 0);
        assert_int_equal(pl_detect_text_in(d, set, texts[i], strlen(texts[i]), NULL, 0, &b, &err), 0);
        assert_same_result(&a, &b);
    }
    /* Without a set, as pl_detect_text; with a hint list too, any of both. */
    assert_int_equal(pl_detect_text_in(d, NULL, "ciao", 4, NULL, 0, &b, &err), 0);
    a = detect(d, "ciao");
    assert_same_result(&a, &b);
    pl_detect_hint it = {PL_HINT_ONLY, "it"};
    assert_int_equal(pl_detect_text_in(d, set, "grazie mille", 12, &it, 1, &b, &err), 0);
    assert_string_equal(b.language, "it");
    assert_int_equal(pl_detect_text_in(d, set, "obrigado", 8, &it, 1, &b, &err), 0);
    assert_string_equal(b.language, "pt");
    /* Errors: a bad list, and a set used with another detector. */
    pl_detect_langset *bad = NULL;
    assert_int_equal(pl_detect_langset_new(d, "en,xx", &bad, &err), PL_EINVAL);
    assert_null(bad);
    assert_non_null(strstr(err.message, "\"xx\""));
    assert_int_equal(pl_detect_langset_new(d, " , ", &bad, &err), PL_EINVAL);
    assert_int_equal(pl_detect_langset_new(d, NULL, &bad, &err), PL_EINVAL);
    pl_detector *other;
    assert_int_equal(pl_detect_open(locales, &other, &err), 0);
    assert_int_equal(pl_detect_text_in(other, set, "hello", 5, NULL, 0, &b, &err), PL_EINVAL);
    pl_detect_close(other);
    pl_detect_langset_free(set);
    pl_detect_langset_free(NULL);
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void test_corrupt_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/parley-detect-XXXXXX", path[4200];
    assert_non_null(mkdtemp(dir));
    pl_detector *d = NULL;
    pl_error err;

    /* No model at all. */
    assert_int_equal(pl_detect_open(dir, &d, &err), PL_ENOENT);
    assert_null(d);
    /* A model that cannot be read (a directory): an I/O error naming it. */
    snprintf(path, sizeof path, "%s/langid.bin", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(pl_detect_open(dir, &d, &err), PL_EIO);
    assert_null(d);
    assert_non_null(strstr(err.message, "langid.bin"));
    assert_int_equal(rmdir(path), 0);
    /* A truncated model. */
    write_file(path, "PLLANGID\x01\0\0\0garbage", 20);
    assert_int_equal(pl_detect_open(dir, &d, &err), PL_ESYNTAX);
    assert_non_null(strstr(err.message, "langid.bin"));

    /* A good model with a broken marker file: file and line are reported. */
    char src[4200];
    snprintf(src, sizeof src, "%s/langid.bin", locales);
    FILE *in = fopen(src, "rb");
    assert_non_null(in);
    FILE *out = fopen(path, "wb");
    char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    fclose(out);
    snprintf(path, sizeof path, "%s/varieties", dir);
    assert_int_equal(mkdir(path, 0700), 0);
    snprintf(path, sizeof path, "%s/varieties/es.txt", dir);
    const char *bad = "# comment\nes-ES 3 vosotros\nes-419 heavy celular\n";
    write_file(path, bad, strlen(bad));
    assert_int_equal(pl_detect_open(dir, &d, &err), PL_ESYNTAX);
    assert_int_equal(err.line, 3);
    assert_int_equal(err.column, 8);
    unlink(path);
    snprintf(path, sizeof path, "%s/varieties", dir);
    rmdir(path);
    /* Without varieties/ the model alone works, with null varieties. */
    assert_int_equal(pl_detect_open(dir, &d, &err), 0);
    pl_detect_result r;
    assert_int_equal(pl_detect_text(d, "vosotros sabéis", 16, NULL, 0, &r, &err), 0);
    assert_string_equal(r.language, "es");
    assert_string_equal(r.variety, "");
    pl_detect_close(d);
    d = NULL;
    /* A model whose quantization step is too fine for 16-bit values
     * (header offset 48, a float) is refused, not overflowed. */
    snprintf(path, sizeof path, "%s/langid.bin", dir);
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    float fine = 0.001f;
    assert_int_equal(fseek(f, 48, SEEK_SET), 0);
    assert_int_equal(fwrite(&fine, sizeof fine, 1, f), 1);
    fclose(f);
    assert_int_equal(pl_detect_open(dir, &d, &err), PL_ESYNTAX);
    assert_null(d);
    assert_non_null(strstr(err.message, "quantization step"));
    unlink(path);
    rmdir(dir);
}

/*
 * The labelled set (tests/data/varieties.tsv, written for this purpose):
 * each line "variety<TAB>message". Every message must get its language, and
 * the variety accuracy must stay at or above the level documented in
 * docs/detection.md (a regression guard, not a tuning target).
 */
static void test_labelled_varieties(void **state)
{
    const pl_detector *d = *state;
    char path[4200], line[2048];
    snprintf(path, sizeof path, "%s/../tests/data/varieties.tsv", locales);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    unsigned total = 0, lang_ok = 0, var_ok = 0;
    while (fgets(line, sizeof line, f)) {
        char *tab = strchr(line, '\t');
        if (line[0] == '#' || tab == NULL)
            continue;
        *tab = '\0';
        char *msg = tab + 1;
        msg[strcspn(msg, "\r\n")] = '\0';
        char want_lang[8];
        const char *v = line;
        if (strcmp(v, "yue") == 0 || strncmp(v, "zh-", 3) == 0)
            strcpy(want_lang, "zh");
        else if (strlen(v) == 3)
            strcpy(want_lang, "ar");
        else
            snprintf(want_lang, sizeof want_lang, "%.2s", v);
        pl_detect_result r = detect(d, msg);
        total++;
        if (strcmp(r.language, want_lang) == 0)
            lang_ok++;
        else
            fprintf(stderr, "language: %s: got %s\n", msg, r.language);
        if (strcmp(r.variety, v) == 0)
            var_ok++;
    }
    fclose(f);
    assert_true(total >= 16 * 30);
    fprintf(stderr, "labelled set: %u messages, language %u, variety %u\n", total, lang_ok,
            var_ok);
    assert_true(lang_ok * 100 >= total * 97);
    assert_true(var_ok * 100 >= total * 75);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_languages),
        cmocka_unit_test(test_short_messages),
        cmocka_unit_test(test_und_and_errors),
        cmocka_unit_test(test_bad_utf8_kinds),
        cmocka_unit_test(test_long_text),
        cmocka_unit_test(test_normalization_needed),
        cmocka_unit_test(test_variety_rules),
        cmocka_unit_test(test_priors),
        cmocka_unit_test(test_only_languages),
        cmocka_unit_test(test_langset),
        cmocka_unit_test(test_corrupt_files),
        cmocka_unit_test(test_labelled_varieties),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
