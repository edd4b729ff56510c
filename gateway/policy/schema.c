/*
 * The declared tables for a policy file (validated by pl_cfg_apply, the
 * same engine as parley.yaml) and the custom checks for values that need
 * ICU: locale tags, regular expressions and currency codes.
 */
#include "policy_internal.h"

#include "parley/error.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <unicode/uloc.h>
#include <unicode/ustring.h>

#define ERR_AT(ctx, node, ...)                                            \
    pl_diags_add((ctx)->diags, PL_DIAG_ERROR, (ctx)->file, (node)->line, \
                 (node)->column, __VA_ARGS__)

const char *const pl__directions[] = {"in", "out", "both", NULL};
const char *const pl__priorities[] = {"low", "normal", "high", "urgent", NULL};
const char *const pl__formalities[] = {"formal", "informal", "neutral", NULL};
/* Forms of address a translator can be told and a reply checked for. */
const char *const pl__addresses[] = {
    "keigo", "sie", "du", "vous", "tu", "usted", "ustedes", "vosotros",
    "o-senhor", "voce", "lei", "siz", "sen", "anda", "kamu", "antum", "anta",
    "you",
    NULL};
const char *const pl__honorifics[] = {"teineigo", "kenjougo", "sonkeigo", NULL};
const char *const pl__speech_levels[] = {"hasipsio", "haeyo", "haera", NULL};
const char *const pl__calendars[] = {
    "gregorian", "islamic-umalqura", "islamic", "islamic-civil", "japanese",
    "buddhist", "roc", "hebrew", "persian", NULL};
const char *const pl__numbering[] = {"latn", "arab", "arabext", "hanidec",
                                     "deva", "thai", NULL};
const char *const pl__date_styles[] = {"short", "medium", "long", "full", NULL};
const char *const pl__plural_forms[] = {"zero", "one", "two", "few", "many",
                                        "other", NULL};

/* ---- Custom checks ---- */

int pl__locale_check(const char *tag, char *icu, size_t size)
{
    UErrorCode st = U_ZERO_ERROR;
    int32_t parsed = 0;
    char buf[PL_POLICY_MAX_LOCALE];
    char lang[16], country[16];

    if (tag == NULL || tag[0] == '\0' || strlen(tag) >= sizeof(buf) ||
        strchr(tag, '_') != NULL)
        return PL_EINVAL;
    uloc_forLanguageTag(tag, buf, (int32_t)sizeof(buf), &parsed, &st);
    if (U_FAILURE(st) || st == U_STRING_NOT_TERMINATED_WARNING ||
        parsed != (int32_t)strlen(tag))
        return PL_EINVAL;
    st = U_ZERO_ERROR;
    uloc_getLanguage(buf, lang, (int32_t)sizeof(lang), &st);
    if (U_FAILURE(st) || lang[0] == '\0')
        return PL_EINVAL;
    /* Well-formed is not enough: the language must be one ICU knows. */
    if (uloc_getISO3Language(buf)[0] == '\0')
        return PL_EINVAL;
    st = U_ZERO_ERROR;
    uloc_getCountry(buf, country, (int32_t)sizeof(country), &st);
    if (U_FAILURE(st))
        return PL_EINVAL;
    if (isalpha((unsigned char)country[0]) && uloc_getISO3Country(buf)[0] == '\0')
        return PL_EINVAL;
    if (icu != NULL)
        snprintf(icu, size, "%s", buf);
    return 0;
}

static int parse_locale(const pl_cfg_ctx *ctx, const pl_yaml_node *node,
                        void *dst)
{
    if (node->kind != PL_YAML_SCALAR || pl_yaml_is_null(node)) {
        ERR_AT(ctx, node, "a locale must be a BCP 47 tag such as ja-JP");
        return PL_EINVAL;
    }
    if (strcmp(node->value, "default") != 0 &&
        pl__locale_check(node->value, NULL, 0) != 0) {
        ERR_AT(ctx, node,
               "'%s' is not a valid BCP 47 locale tag known to ICU "
               "(write it like ja-JP, zh-Hant-TW or es-419)",
               node->value);
        return PL_EINVAL;
    }
    *(const char **)dst = node->value;
    return 0;
}

/*
 * A scalar or a sequence of scalars, each checked and stored by `item`;
 * every bad item is reported, the good ones are kept.
 */
static int parse_list_of(const pl_cfg_ctx *ctx, const pl_yaml_node *node,
                         void *dst,
                         int (*item)(const pl_cfg_ctx *, const pl_yaml_node *,
                                     void *),
                         const char *not_a_mapping)
{
    pl_cfg_strings *out = dst;
    size_t n = node->kind == PL_YAML_SEQ ? node->count : 1;
    int rc = 0;

    if (node->kind == PL_YAML_MAP) {
        ERR_AT(ctx, node, "%s", not_a_mapping);
        return PL_EINVAL;
    }
    out->items = pl_arena_calloc(ctx->arena, n ? n : 1, sizeof(char *));
    if (out->items == NULL)
        return PL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        const pl_yaml_node *it = node->kind == PL_YAML_SEQ ? node->items[i] : node;
        const char *v = NULL;
        if (item(ctx, it, &v) != 0)
            rc = PL_EINVAL;
        else
            out->items[out->count++] = v;
    }
    return rc;
}

static int parse_locales(const pl_cfg_ctx *ctx, const pl_yaml_node *node,
                         void *dst)
{
    return parse_list_of(ctx, node, dst, parse_locale,
                         "a list of locale tags is expected, not a mapping");
}

/*
 * Column of character `offset` of a scalar's value: exact for plain and
 * single-quoted one-line scalars (the recommended way to write patterns),
 * approximate for double-quoted ones with escapes.
 */
static unsigned value_column(const pl_yaml_node *node, int32_t offset)
{
    return node->column + (node->plain ? 0u : 1u) + (unsigned)(offset > 0 ? offset : 0);
}

int pl__regex_check(const pl_cfg_ctx *ctx, const pl_yaml_node *node)
{
    UErrorCode st = U_ZERO_ERROR;
    UParseError pe;
    URegularExpression *re;
    UChar buf[4096];
    int32_t len = 0;

    if (node->kind != PL_YAML_SCALAR || pl_yaml_is_null(node) || node->len == 0) {
        ERR_AT(ctx, node, "a regular expression must be a non-empty string");
        return PL_EINVAL;
    }
    u_strFromUTF8(buf, (int32_t)(sizeof(buf) / sizeof(buf[0])), &len, node->value,
                  (int32_t)node->len, &st);
    if (U_FAILURE(st) || st == U_STRING_NOT_TERMINATED_WARNING) {
        ERR_AT(ctx, node, "regular expression is too long or not valid UTF-8");
        return PL_EINVAL;
    }
    memset(&pe, 0, sizeof(pe));
    re = uregex_open(buf, len, 0, &pe, &st);
    if (U_FAILURE(st)) {
        /* ICU reports 1-based lines and the offset within that line. */
        unsigned line = node->line, col;
        if (pe.line > 1) {
            line += (unsigned)(pe.line - 1);
            col = (unsigned)pe.offset + 1;
        } else {
            col = value_column(node, pe.offset);
        }
        pl_diags_add(ctx->diags, PL_DIAG_ERROR, ctx->file, line, col,
                     "invalid regular expression '%s': %s at character %d of "
                     "the pattern",
                     node->value, u_errorName(st), (int)pe.offset + 1);
        return PL_EINVAL;
    }
    uregex_close(re);
    return 0;
}

static int parse_regex(const pl_cfg_ctx *ctx, const pl_yaml_node *node,
                       void *dst)
{
    if (pl__regex_check(ctx, node) != 0)
        return PL_EINVAL;
    *(const char **)dst = node->value;
    return 0;
}

static int parse_regexes(const pl_cfg_ctx *ctx, const pl_yaml_node *node,
                         void *dst)
{
    return parse_list_of(ctx, node, dst, parse_regex,
                         "'regex' must be a pattern or a list of patterns");
}

static int parse_currency(const pl_cfg_ctx *ctx, const pl_yaml_node *node,
                          void *dst)
{
    const char *v = node->value;

    if (node->kind != PL_YAML_SCALAR || node->len != 3 || !isupper((unsigned char)v[0]) ||
        !isupper((unsigned char)v[1]) || !isupper((unsigned char)v[2])) {
        ERR_AT(ctx, node, "'currency' must be an ISO 4217 code such as EUR or SAR");
        return PL_EINVAL;
    }
    *(const char **)dst = v;
    return 0;
}

/* ---- Section checks: presence markers and cross-field rules ---- */

static int mark_present(const pl_cfg_ctx *ctx, const pl_yaml_node *node, void *obj)
{
    (void)ctx;
    if (node != NULL)
        *(int *)obj = 1; /* `present` is the first member */
    return 0;
}

static int cond_check(const pl_cfg_ctx *ctx, const pl_yaml_node *node, void *obj)
{
    pol_cond *c = obj;

    (void)ctx;
    c->node = node;
    return 0;
}

static int then_check(const pl_cfg_ctx *ctx, const pl_yaml_node *node, void *obj)
{
    pol_then *t = obj;

    if (node != NULL && !t->escalate.present && !t->redirect.present &&
        !t->block.present && !t->mask.present && t->tag.count == 0 &&
        t->instruct.count == 0)
        ERR_AT(ctx, node, "'then' needs at least one action: escalate, "
                              "redirect, tag, block, mask or instruct");
    return 0;
}

static int rule_check(const pl_cfg_ctx *ctx, const pl_yaml_node *node, void *obj)
{
    pol_rule *r = obj;

    (void)ctx;
    r->node = node;
    return 0;
}

static int protect_check(const pl_cfg_ctx *ctx, const pl_yaml_node *node, void *obj)
{
    (void)ctx;
    ((pol_protect *)obj)->node = node;
    return 0;
}

static int fix_check(const pl_cfg_ctx *ctx, const pl_yaml_node *node, void *obj)
{
    pol_fix *f = obj;

    f->node = node;
    if ((f->find.count > 0) == (f->pattern != NULL))
        ERR_AT(ctx, node, "fix '%s' needs exactly one of 'find' (words) or "
                          "'pattern' (a regular expression)", f->id);
    if (f->replace == NULL && f->flag == NULL)
        ERR_AT(ctx, node, "fix '%s' needs 'replace' (to fix) or 'flag' (to "
                          "report), or both", f->id);
    if (f->also != NULL && f->replace != NULL)
        ERR_AT(ctx, node, "fix '%s': 'also' only works with 'flag' (a mix of "
                          "forms is reported, not replaced)", f->id);
    return 0;
}

static int plural_check(const pl_cfg_ctx *ctx, const pl_yaml_node *node, void *obj)
{
    (void)ctx;
    (void)node;
    (void)obj;
    return 0;
}

/* ---- Tables ---- */

#define STR(name_, type_, field_, doc_) \
    {.name = name_, .type = PL_CFG_STRING, .offset = offsetof(type_, field_), .doc = doc_}

static const pl_cfg_directive escalate_directives[] = {
    {.name = "priority", .type = PL_CFG_ENUM, .offset = offsetof(pol_escalate, priority),
     .default_value = "normal", .choices = pl__priorities,
     .doc = "how soon a human must take over: low, normal, high or urgent"},
    STR("reason", pol_escalate, reason, "shown to the agent who takes over"),
};
static const pl_cfg_section escalate_section = {
    .name = "'escalate'", .size = sizeof(pol_escalate), .directives = escalate_directives,
    .count = PL_CFG_COUNT(escalate_directives), .check = mark_present};

static const pl_cfg_directive redirect_directives[] = {
    {.name = "message", .type = PL_CFG_STRING, .offset = offsetof(pol_message, message),
     .required = 1, .doc = "the localized message sent to the customer"},
    {.name = "channel", .type = PL_CFG_STRING, .offset = offsetof(pol_message, channel),
     .default_value = "private", .doc = "where the conversation continues"},
};
static const pl_cfg_section redirect_section = {
    .name = "'redirect'", .size = sizeof(pol_message), .directives = redirect_directives,
    .count = PL_CFG_COUNT(redirect_directives), .check = mark_present};

static const pl_cfg_directive block_directives[] = {
    {.name = "message", .type = PL_CFG_STRING, .offset = offsetof(pol_message, message),
     .required = 1, .doc = "the reply sent instead of forwarding the message"},
};
static const pl_cfg_section block_section = {
    .name = "'block'", .size = sizeof(pol_message), .directives = block_directives,
    .count = PL_CFG_COUNT(block_directives), .check = mark_present};

static const pl_cfg_directive mask_directives[] = {
    {.name = "with", .type = PL_CFG_STRING, .offset = offsetof(pol_mask, with),
     .default_value = "'***'", .doc = "what replaces each matched span"},
};
static const pl_cfg_section mask_section = {
    .name = "'mask'", .size = sizeof(pol_mask), .directives = mask_directives,
    .count = PL_CFG_COUNT(mask_directives), .check = mark_present};

static const pl_cfg_directive then_directives[] = {
    {.name = "escalate", .type = PL_CFG_SECTION, .offset = offsetof(pol_then, escalate),
     .section = &escalate_section, .doc = "hand the conversation to a human"},
    {.name = "redirect", .type = PL_CFG_SECTION, .offset = offsetof(pol_then, redirect),
     .section = &redirect_section, .doc = "answer with a message that moves the topic elsewhere"},
    {.name = "block", .type = PL_CFG_SECTION, .offset = offsetof(pol_then, block),
     .section = &block_section, .doc = "do not forward; reply with a message"},
    {.name = "mask", .type = PL_CFG_SECTION, .offset = offsetof(pol_then, mask),
     .section = &mask_section, .doc = "replace the matched spans"},
    {.name = "tag", .type = PL_CFG_STRINGS, .offset = offsetof(pol_then, tag),
     .doc = "labels for the backend"},
    {.name = "instruct", .type = PL_CFG_STRINGS, .offset = offsetof(pol_then, instruct),
     .doc = "extra instructions for the translator of the reply"},
};
static const pl_cfg_section then_section = {
    .name = "'then'", .size = sizeof(pol_then), .directives = then_directives,
    .count = PL_CFG_COUNT(then_directives), .check = then_check};

extern const pl_cfg_section pl__cond_section;

static const pl_cfg_directive cond_directives[] = {
    {.name = "terms", .type = PL_CFG_STRINGS, .offset = offsetof(pol_cond, terms),
     .doc = "words or phrases, matched case-folded at word boundaries"},
    {.name = "regex", .type = PL_CFG_CUSTOM, .offset = offsetof(pol_cond, regex),
     .parse = parse_regexes, .type_name = "regex list",
     .doc = "ICU regular expressions matched on the text"},
    {.name = "absolute_words", .type = PL_CFG_BOOL, .offset = offsetof(pol_cond, absolute_words),
     .doc = "the text uses a word from signals.absolute_words"},
    {.name = "shouting", .type = PL_CFG_BOOL, .offset = offsetof(pol_cond, shouting),
     .doc = "capital letters reach signals.caps_percent, or a run of ! or ? reaches signals.punctuation_run"},
    {.name = "punctuation_run", .type = PL_CFG_INT, .offset = offsetof(pol_cond, punctuation_run),
     .min = 2, .max = 100, .doc = "a run of at least this many ! or ?"},
    {.name = "repeated_complaints", .type = PL_CFG_INT,
     .offset = offsetof(pol_cond, repeated_complaints), .min = 1, .max = 1000,
     .doc = "the conversation already had at least this many complaints"},
    {.name = "any", .type = PL_CFG_LIST, .offset = offsetof(pol_cond, any),
     .section = &pl__cond_section, .doc = "at least one of these conditions holds"},
    {.name = "all", .type = PL_CFG_LIST, .offset = offsetof(pol_cond, all),
     .section = &pl__cond_section, .doc = "every one of these conditions holds"},
};
const pl_cfg_section pl__cond_section = {
    .name = "'when'", .size = sizeof(pol_cond), .directives = cond_directives,
    .count = PL_CFG_COUNT(cond_directives), .check = cond_check};

static const pl_cfg_directive rule_directives[] = {
    {.name = "id", .type = PL_CFG_STRING, .offset = offsetof(pol_rule, id), .required = 1,
     .doc = "unique name of the rule; a child policy replaces a parent's rule with the same id"},
    {.name = "direction", .type = PL_CFG_ENUM, .offset = offsetof(pol_rule, direction),
     .default_value = "in", .choices = pl__directions,
     .doc = "in (customer text), out (replies) or both"},
    {.name = "when", .type = PL_CFG_SECTION, .offset = offsetof(pol_rule, when),
     .section = &pl__cond_section, .doc = "conditions, all of which must hold; absent: always"},
    {.name = "then", .type = PL_CFG_SECTION, .offset = offsetof(pol_rule, then),
     .required = 1, .section = &then_section, .doc = "the actions"},
    {.name = "stop", .type = PL_CFG_BOOL, .offset = offsetof(pol_rule, stop),
     .default_value = "false", .doc = "when this rule fires, later rules are not evaluated"},
};
static const pl_cfg_section rule_section = {
    .name = "a rule", .size = sizeof(pol_rule), .directives = rule_directives,
    .count = PL_CFG_COUNT(rule_directives), .check = rule_check};

static const pl_cfg_directive protect_directives[] = {
    {.name = "id", .type = PL_CFG_STRING, .offset = offsetof(pol_protect, id), .required = 1,
     .doc = "name of the pattern"},
    {.name = "pattern", .type = PL_CFG_CUSTOM, .offset = offsetof(pol_protect, pattern),
     .required = 1, .parse = parse_regex, .type_name = "regex",
     .doc = "ICU regular expression of text that must pass untouched"},
    STR("description", pol_protect, description, "what the pattern is for"),
};
static const pl_cfg_section protect_section = {
    .name = "a protected pattern", .size = sizeof(pol_protect),
    .directives = protect_directives, .count = PL_CFG_COUNT(protect_directives),
    .check = protect_check};

static const pl_cfg_directive fix_directives[] = {
    {.name = "id", .type = PL_CFG_STRING, .offset = offsetof(pol_fix, id), .required = 1,
     .doc = "name of the fix"},
    {.name = "find", .type = PL_CFG_STRINGS, .offset = offsetof(pol_fix, find),
     .doc = "literal strings to replace"},
    {.name = "pattern", .type = PL_CFG_CUSTOM, .offset = offsetof(pol_fix, pattern),
     .parse = parse_regex, .type_name = "regex", .doc = "ICU regular expression to replace or flag"},
    STR("replace", pol_fix, replace, "the replacement ($1..$9 refer to groups of 'pattern')"),
    {.name = "also", .type = PL_CFG_CUSTOM, .offset = offsetof(pol_fix, also),
     .parse = parse_regex, .type_name = "regex",
     .doc = "flag only when this pattern also occurs in the same reply (mixed forms)"},
    STR("flag", pol_fix, flag, "report this message when the fix applies"),
};
static const pl_cfg_section fix_section = {
    .name = "a fix", .size = sizeof(pol_fix), .directives = fix_directives,
    .count = PL_CFG_COUNT(fix_directives), .check = fix_check};

static const pl_cfg_directive register_directives[] = {
    {.name = "formality", .type = PL_CFG_ENUM, .offset = offsetof(pol_register, formality),
     .choices = pl__formalities, .doc = "formal, informal or neutral"},
    {.name = "address", .type = PL_CFG_ENUM, .offset = offsetof(pol_register, address),
     .choices = pl__addresses, .doc = "how the reply addresses the customer"},
    {.name = "honorific_self", .type = PL_CFG_ENUM,
     .offset = offsetof(pol_register, honorific_self), .choices = pl__honorifics,
     .doc = "Japanese: the form for our own actions (teineigo or kenjougo)"},
    {.name = "honorific_customer", .type = PL_CFG_ENUM,
     .offset = offsetof(pol_register, honorific_customer), .choices = pl__honorifics,
     .doc = "Japanese: the form for the customer's actions (sonkeigo)"},
    {.name = "speech_level", .type = PL_CFG_ENUM,
     .offset = offsetof(pol_register, speech_level), .choices = pl__speech_levels,
     .doc = "Korean: hasipsio (하십시오체), haeyo (해요체) or haera"},
    {.name = "instructions", .type = PL_CFG_STRINGS,
     .offset = offsetof(pol_register, instructions),
     .doc = "sentences the translator is told for every reply"},
};
static const pl_cfg_section register_section = {
    .name = "'register'", .size = sizeof(pol_register), .directives = register_directives,
    .count = PL_CFG_COUNT(register_directives)};

static const pl_cfg_directive dialect_directives[] = {
    {.name = "variety", .type = PL_CFG_CUSTOM, .offset = offsetof(pol_dialect, variety),
     .parse = parse_locale, .type_name = "locale", .doc = "BCP 47 variety of replies"},
    STR("description", pol_dialect, description, "the dialect of replies, in words for the translator"),
};
static const pl_cfg_section dialect_section = {
    .name = "'dialect'", .size = sizeof(pol_dialect), .directives = dialect_directives,
    .count = PL_CFG_COUNT(dialect_directives)};

static const pl_cfg_directive glossary_directives[] = {
    {.name = "keep", .type = PL_CFG_STRINGS, .offset = offsetof(pol_glossary, keep),
     .doc = "terms kept exactly as written (brands, products)"},
    {.name = "translate", .type = PL_CFG_MAP, .offset = offsetof(pol_glossary, translate),
     .doc = "fixed translations: source term -> term in this locale"},
};
static const pl_cfg_section glossary_section = {
    .name = "'glossary'", .size = sizeof(pol_glossary), .directives = glossary_directives,
    .count = PL_CFG_COUNT(glossary_directives)};

static const pl_cfg_directive signals_directives[] = {
    {.name = "absolute_words", .type = PL_CFG_STRINGS,
     .offset = offsetof(pol_signals, absolute_words),
     .doc = "words such as always/never; added to the parent's list"},
    {.name = "caps_percent", .type = PL_CFG_INT, .offset = offsetof(pol_signals, caps_percent),
     .min = 1, .max = 100, .doc = "share of capital letters (percent) that counts as shouting"},
    {.name = "min_letters", .type = PL_CFG_INT, .offset = offsetof(pol_signals, min_letters),
     .min = 1, .max = 10000, .doc = "fewer cased letters than this never count as shouting"},
    {.name = "punctuation_run", .type = PL_CFG_INT,
     .offset = offsetof(pol_signals, punctuation_run), .min = 2, .max = 100,
     .doc = "a run of this many ! or ? counts as shouting"},
};
static const pl_cfg_section signals_section = {
    .name = "'signals'", .size = sizeof(pol_signals), .directives = signals_directives,
    .count = PL_CFG_COUNT(signals_directives)};

static const pl_cfg_directive plural_directives[] = {
    STR("zero", pol_plural, variants[0], "plural category zero"),
    STR("one", pol_plural, variants[1], "plural category one"),
    STR("two", pol_plural, variants[2], "plural category two"),
    STR("few", pol_plural, variants[3], "plural category few"),
    STR("many", pol_plural, variants[4], "plural category many"),
    {.name = "other", .type = PL_CFG_STRING, .offset = offsetof(pol_plural, variants[5]),
     .required = 1, .doc = "plural category other (required: every language has it)"},
};
static const pl_cfg_section plural_section = {
    .name = "a plural template", .size = sizeof(pol_plural), .directives = plural_directives,
    .count = PL_CFG_COUNT(plural_directives), .check = plural_check};

static const pl_cfg_directive format_directives[] = {
    {.name = "calendar", .type = PL_CFG_ENUM, .offset = offsetof(pol_format, calendar),
     .choices = pl__calendars, .doc = "calendar for dates (ar-SA: gregorian or islamic-umalqura)"},
    {.name = "numbers", .type = PL_CFG_ENUM, .offset = offsetof(pol_format, numbers),
     .choices = pl__numbering, .doc = "digits: latn (0-9), arab (٠-٩), ..."},
    {.name = "date", .type = PL_CFG_ENUM, .offset = offsetof(pol_format, date),
     .choices = pl__date_styles, .doc = "date style: short, medium, long or full"},
    {.name = "currency", .type = PL_CFG_CUSTOM, .offset = offsetof(pol_format, currency),
     .parse = parse_currency, .type_name = "ISO 4217 code", .doc = "default currency"},
    {.name = "plurals", .type = PL_CFG_MAP, .offset = offsetof(pol_format, plurals),
     .section = &plural_section, .doc = "plural-aware templates by name; {count} is the number"},
};
static const pl_cfg_section format_section = {
    .name = "'format'", .size = sizeof(pol_format), .directives = format_directives,
    .count = PL_CFG_COUNT(format_directives)};

static const pl_cfg_directive file_directives[] = {
    {.name = "locale", .type = PL_CFG_CUSTOM, .offset = offsetof(pol_file, locale),
     .required = 1, .parse = parse_locale, .type_name = "locale",
     .doc = "the BCP 47 tag; must match the file name"},
    {.name = "inherits", .type = PL_CFG_CUSTOM, .offset = offsetof(pol_file, inherits),
     .parse = parse_locale, .type_name = "locale",
     .doc = "the parent policy; absent: ICU fallback (ar-SA -> ar -> default)"},
    STR("description", pol_file, description, "what this policy is for"),
    {.name = "aliases", .type = PL_CFG_CUSTOM, .offset = offsetof(pol_file, aliases),
     .parse = parse_locales, .type_name = "locale list",
     .doc = "other locales this policy serves (es-419: es-MX, es-AR)"},
    {.name = "register", .type = PL_CFG_SECTION, .offset = offsetof(pol_file, reg),
     .section = &register_section, .doc = "formality and form of address of replies"},
    {.name = "dialect", .type = PL_CFG_SECTION, .offset = offsetof(pol_file, dialect),
     .section = &dialect_section, .doc = "dialect of replies"},
    {.name = "glossary", .type = PL_CFG_SECTION, .offset = offsetof(pol_file, glossary),
     .section = &glossary_section, .doc = "terms to keep and fixed translations"},
    {.name = "signals", .type = PL_CFG_SECTION, .offset = offsetof(pol_file, signals),
     .section = &signals_section, .doc = "thresholds and word lists for signal conditions"},
    {.name = "format", .type = PL_CFG_SECTION, .offset = offsetof(pol_file, format),
     .section = &format_section, .doc = "numbers, currency, dates and plural templates"},
    {.name = "protect", .type = PL_CFG_LIST, .offset = offsetof(pol_file, protect),
     .section = &protect_section, .doc = "patterns that must pass untouched"},
    {.name = "rules", .type = PL_CFG_LIST, .offset = offsetof(pol_file, rules),
     .section = &rule_section, .doc = "rules evaluated in order, parents' first"},
    {.name = "disable", .type = PL_CFG_STRINGS, .offset = offsetof(pol_file, disable),
     .doc = "ids of inherited rules, fixes or protected patterns to drop"},
    {.name = "fixes", .type = PL_CFG_LIST, .offset = offsetof(pol_file, fixes),
     .section = &fix_section, .doc = "deterministic substitutions and flags for replies"},
};
const pl_cfg_section pl__policy_file_section = {
    .name = "the policy", .size = sizeof(pol_file), .directives = file_directives,
    .count = PL_CFG_COUNT(file_directives)};
