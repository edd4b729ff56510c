/*
 * Fuzz target for the text pipeline and the language detector, which read
 * every customer message: whatever the bytes, pl_text_prepare(),
 * pl_text_segment(), pl_text_script_runs() and pl_detect_text() must return
 * a result or a stated error, never crash, leak or hang, and a detection
 * result must be well formed.
 *
 * Input: the first byte chooses hints, the rest is the message; with bit 3
 * or 4 of the first byte, the message's first line is also used as an
 * Accept-Language value or as an allowed-languages list (which may be
 * malformed: that must be PL_EINVAL, nothing worse). With bit 1, the fixed
 * allowed-languages list is also given as a set read once
 * (pl_detect_text_in), which must give the same answer.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parley/detect.h"
#include "parley/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const pl_detector *detector(void)
{
    static pl_detector *det;
    static int tried;
    if (!tried) {
        pl_error err;
        tried = 1;
        if (pl_detect_open(NULL, &det, &err) < 0)
            abort(); /* the model ships with the source tree */
    }
    return det;
}

#define FIXED_LIST "en,es,pt-BR,ru,uk,ar,zh"

static const pl_detect_langset *fixed_set(void)
{
    static pl_detect_langset *set;
    if (set == NULL) {
        pl_error err;
        if (pl_detect_langset_new(detector(), FIXED_LIST, &set, &err) < 0)
            abort();
    }
    return set;
}

static void check_result(const pl_detect_result *r)
{
    if (r->language[0] == '\0' || memchr(r->language, '\0', sizeof r->language) == NULL)
        abort();
    if (!(r->confidence >= 0.0 && r->confidence <= 1.0) || r->nalt > PL_DETECT_MAX_ALT)
        abort();
    for (size_t i = 0; i < r->nalt; i++)
        if (!(r->alt[i].confidence >= 0.0 && r->alt[i].confidence <= r->confidence + 1e-9))
            abort();
    if (strcmp(r->language, "und") == 0 && (r->confidence != 0.0 || r->variety[0] != '\0'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned sel = data[0];
    const char *text = (const char *)data + 1;
    size_t len = size - 1;

    /* Hint values are NUL-terminated copies. */
    char line[64];
    size_t n = 0;
    while (n < len && n < sizeof line - 1 && text[n] != '\n')
        n++;
    memcpy(line, text, n);
    line[n] = '\0';

    pl_detect_hint hints[5];
    size_t nh = 0, fixed = SIZE_MAX;
    if (sel & 1)
        hints[nh++] = (pl_detect_hint){PL_HINT_CONVERSATION, "es"};
    if (sel & 2) {
        fixed = nh;
        hints[nh++] = (pl_detect_hint){PL_HINT_ONLY, FIXED_LIST};
    }
    if (sel & 4)
        hints[nh++] = (pl_detect_hint){PL_HINT_REGION, "MX"};
    if (sel & 8)
        hints[nh++] = (pl_detect_hint){PL_HINT_ACCEPT_LANGUAGE, line};
    if (sel & 16)
        hints[nh++] = (pl_detect_hint){PL_HINT_ONLY, line};

    pl_detect_result r;
    pl_error err;
    int rc = pl_detect_text(detector(), text, len, hints, nh, &r, &err);
    if (rc == 0)
        check_result(&r);
    else if (rc != PL_EUTF8 && rc != PL_EINVAL && rc != PL_ELIMIT)
        abort();
    if (sel & 2) {
        /* The same hints, with the fixed list as a set instead. */
        pl_detect_hint others[5];
        size_t no = 0;
        for (size_t i = 0; i < nh; i++)
            if (i != fixed)
                others[no++] = hints[i];
        pl_detect_result r2;
        int rc2 = pl_detect_text_in(detector(), fixed_set(), text, len, others, no, &r2, &err);
        if (rc2 != rc || (rc == 0 && (strcmp(r.language, r2.language) != 0 ||
                                      strcmp(r.variety, r2.variety) != 0 ||
                                      r.confidence != r2.confidence || r.nalt != r2.nalt)))
            abort();
    }

    char *out = NULL;
    size_t out_len = 0;
    unsigned flags = PL_TEXT_DEFAULT | ((sel & 32) ? PL_TEXT_CASEFOLD | PL_TEXT_KEEP_NEWLINES : 0);
    rc = pl_text_prepare(text, len, (sel & 32) ? PL_TEXT_NFKC : PL_TEXT_NFC, flags, &out,
                         &out_len, &err);
    if (rc == 0) {
        if (strlen(out) != out_len)
            abort();
        pl_text_span *spans = NULL;
        size_t count = 0;
        if (pl_text_segment(out, out_len, (sel & 64) ? PL_TEXT_WORDS : PL_TEXT_SENTENCES,
                            (sel & 128) ? "th" : NULL, &spans, &count, &err) == 0) {
            for (size_t i = 0; i < count; i++)
                if (spans[i].start > spans[i].end || spans[i].end > out_len)
                    abort();
        }
        free(spans);
        pl_text_run *runs = NULL;
        if (pl_text_script_runs(out, out_len, &runs, &count, &err) == 0) {
            for (size_t i = 0; i < count; i++)
                if (runs[i].start >= runs[i].end || runs[i].end > out_len)
                    abort();
        }
        free(runs);
    }
    free(out);
    return 0;
}
