/*
 * Locale formatting for replies with ICU: numbers, currency amounts, dates
 * in the policy's calendar, and plural-aware templates chosen by ICU's
 * plural rules. The formatting locale carries the policy's calendar and
 * numbering system as keywords (ar_SA@calendar=islamic-umalqura).
 */
#include "policy_internal.h"

#include "parley/error.h"

#include <string.h>
#include <unicode/udat.h>
#include <unicode/unum.h>
#include <unicode/upluralrules.h>
#include <unicode/ustring.h>

#define FMT_MAX 256

/* Converts a UTF-16 result into a UTF-8 string in the arena. */
static int to_utf8(pl_arena *a, const UChar *u, int32_t n, const char **out)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t len = 0;
    char *s;

    u_strToUTF8(NULL, 0, &len, u, n, &st);
    if (st != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(st))
        return PL_EICU;
    st = U_ZERO_ERROR;
    s = pl_arena_alloc(a, (size_t)len + 1);
    if (s == NULL)
        return a->err ? a->err : PL_ENOMEM;
    u_strToUTF8(s, len + 1, NULL, u, n, &st);
    if (U_FAILURE(st))
        return PL_EICU;
    *out = s;
    return 0;
}

static int number_u16(const pl_policy *p, double value, UChar *buf, int32_t *n)
{
    UErrorCode st = U_ZERO_ERROR;
    UNumberFormat *nf = unum_open(UNUM_DECIMAL, NULL, 0, p->fmt_locale, NULL, &st);

    if (U_FAILURE(st))
        return PL_EICU;
    *n = unum_formatDouble(nf, value, buf, FMT_MAX, NULL, &st);
    unum_close(nf);
    return U_FAILURE(st) ? PL_EICU : 0;
}

int pl_policy_format_number(const pl_policy *p, double value, pl_arena *arena,
                            const char **out)
{
    UChar buf[FMT_MAX];
    int32_t n;
    int rc = number_u16(p, value, buf, &n);

    return rc ? rc : to_utf8(arena, buf, n, out);
}

int pl_policy_format_currency(const pl_policy *p, double amount,
                              const char *currency, pl_arena *arena,
                              const char **out)
{
    UErrorCode st = U_ZERO_ERROR;
    UChar buf[FMT_MAX], code[4];
    UNumberFormat *nf;
    int32_t n;

    currency = currency ? currency : p->currency;
    if (currency == NULL || strlen(currency) != 3)
        return PL_EINVAL;
    u_charsToUChars(currency, code, 3);
    code[3] = 0;
    nf = unum_open(UNUM_CURRENCY, NULL, 0, p->fmt_locale, NULL, &st);
    if (U_FAILURE(st))
        return PL_EICU;
    n = unum_formatDoubleCurrency(nf, amount, code, buf, FMT_MAX, NULL, &st);
    unum_close(nf);
    if (U_FAILURE(st))
        return PL_EICU;
    return to_utf8(arena, buf, n, out);
}

int pl_policy_format_date(const pl_policy *p, double epoch_ms, pl_arena *arena,
                          const char **out)
{
    static const UDateFormatStyle styles[] = {UDAT_SHORT, UDAT_MEDIUM, UDAT_LONG,
                                              UDAT_FULL};
    UErrorCode st = U_ZERO_ERROR;
    UChar buf[FMT_MAX];
    UDateFormat *df;
    int32_t n;

    df = udat_open(UDAT_NONE, p->date_style >= 0 ? styles[p->date_style] : UDAT_LONG,
                   p->fmt_locale, u"UTC", -1, NULL, 0, &st);
    if (U_FAILURE(st))
        return PL_EICU;
    n = udat_format(df, epoch_ms, buf, FMT_MAX, NULL, &st);
    udat_close(df);
    if (U_FAILURE(st))
        return PL_EICU;
    return to_utf8(arena, buf, n, out);
}

int pl_policy_format_plural(const pl_policy *p, const char *name, double count,
                            pl_arena *arena, const char **out)
{
    UErrorCode st = U_ZERO_ERROR;
    UChar kw[32], num[FMT_MAX];
    char keyword[32];
    const pol_plural *forms = NULL;
    const char *tpl = NULL, *hit;
    UPluralRules *pr;
    int32_t n;
    const char *number;
    int rc;

    for (size_t i = 0; i < p->nplurals && forms == NULL; i++)
        if (strcmp(p->plurals[i].name, name) == 0)
            forms = p->plurals[i].forms;
    if (forms == NULL)
        return PL_ENOENT;
    pr = uplrules_open(strcmp(p->icu_locale, "root") ? p->icu_locale : "en", &st);
    if (U_FAILURE(st))
        return PL_EICU;
    n = uplrules_select(pr, count, kw, 32, &st);
    uplrules_close(pr);
    if (U_FAILURE(st) || n >= 32)
        return PL_EICU;
    u_UCharsToChars(kw, keyword, n);
    keyword[n] = '\0';
    for (int i = 0; pl__plural_forms[i]; i++)
        if (strcmp(pl__plural_forms[i], keyword) == 0)
            tpl = forms->variants[i];
    if (tpl == NULL)
        tpl = forms->variants[5]; /* "other" is required */
    if ((rc = number_u16(p, count, num, &n)) != 0 ||
        (rc = to_utf8(arena, num, n, &number)) != 0)
        return rc;
    hit = strstr(tpl, "{count}");
    if (hit == NULL) {
        *out = tpl;
        return 0;
    }
    *out = pl_arena_printf(arena, "%.*s%s%s", (int)(hit - tpl), tpl, number,
                           hit + strlen("{count}"));
    return *out ? 0 : PL_ENOMEM;
}
