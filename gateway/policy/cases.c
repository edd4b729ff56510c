/*
 * Test-case files for policy editors (in policies/tests/): each case
 * names a locale, a direction, an input and what must come out (actions,
 * rules that fire, the outbound text after fixes, flags, directives). The
 * files are validated with the same declared tables as everything else.
 */
#include "policy_internal.h"

#include "parley/error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct case_expect {
    pl_cfg_strings actions;
    pl_cfg_strings rules;
    pl_cfg_strings flags;
    pl_cfg_strings instructions;
    const char *text;
    int blocked; /* -1: not checked */
    pl_cfg_map directives;
} case_expect;

typedef struct test_case {
    const pl_yaml_node *node;
    const char *name;
    const char *locale;
    int direction;
    const char *input;
    int64_t prior_complaints;
    case_expect expect;
} test_case;

typedef struct case_file {
    pl_cfg_list cases;
} case_file;

static int parse_blocked(const pl_cfg_ctx *ctx, const pl_yaml_node *node, void *dst)
{
    if (node->kind == PL_YAML_SCALAR && (!strcmp(node->value, "true") || !strcmp(node->value, "false"))) {
        *(int *)dst = node->value[0] == 't';
        return 0;
    }
    pl_diags_add(ctx->diags, PL_DIAG_ERROR, ctx->file, node->line, node->column,
                 "'blocked' must be true or false");
    return PL_EINVAL;
}

static int case_check(const pl_cfg_ctx *ctx, const pl_yaml_node *node, void *obj)
{
    (void)ctx;
    ((test_case *)obj)->node = node;
    return 0;
}

static const pl_cfg_directive expect_directives[] = {
    {.name = "actions", .type = PL_CFG_STRINGS, .offset = offsetof(case_expect, actions),
     .doc = "every action, as escalate:PRIORITY, redirect:CHANNEL, tag:NAME, block, mask, instruct"},
    {.name = "rules", .type = PL_CFG_STRINGS, .offset = offsetof(case_expect, rules),
     .doc = "ids of the rules that fire, in order"},
    {.name = "flags", .type = PL_CFG_STRINGS, .offset = offsetof(case_expect, flags),
     .doc = "ids of the fixes that apply or flag"},
    {.name = "instructions", .type = PL_CFG_STRINGS,
     .offset = offsetof(case_expect, instructions),
     .doc = "texts that must appear among the translator's instructions"},
    {.name = "text", .type = PL_CFG_STRING, .offset = offsetof(case_expect, text),
     .doc = "the text forwarded (outbound: after fixes and masks)"},
    {.name = "blocked", .type = PL_CFG_CUSTOM, .offset = offsetof(case_expect, blocked),
     .parse = parse_blocked, .type_name = "boolean",
     .doc = "whether a block action fired"},
    {.name = "directives", .type = PL_CFG_MAP, .offset = offsetof(case_expect, directives),
     .doc = "expected directive values: formality, address, variety, ..."},
};
static const pl_cfg_section expect_section = {
    .name = "'expect'", .size = sizeof(case_expect), .directives = expect_directives,
    .count = PL_CFG_COUNT(expect_directives)};

static const pl_cfg_directive case_directives[] = {
    {.name = "name", .type = PL_CFG_STRING, .offset = offsetof(test_case, name), .required = 1,
     .doc = "what the case checks"},
    {.name = "locale", .type = PL_CFG_STRING, .offset = offsetof(test_case, locale),
     .required = 1, .doc = "the customer's locale"},
    {.name = "direction", .type = PL_CFG_ENUM, .offset = offsetof(test_case, direction),
     .default_value = "in", .choices = pl__directions, .doc = "in or out"},
    {.name = "input", .type = PL_CFG_STRING, .offset = offsetof(test_case, input),
     .required = 1, .doc = "the message"},
    {.name = "prior_complaints", .type = PL_CFG_INT,
     .offset = offsetof(test_case, prior_complaints), .min = 0, .max = 1000,
     .doc = "complaints earlier in the conversation"},
    {.name = "expect", .type = PL_CFG_SECTION, .offset = offsetof(test_case, expect),
     .required = 1, .section = &expect_section, .doc = "what must come out"},
};
static const pl_cfg_section case_section = {
    .name = "a test case", .size = sizeof(test_case), .directives = case_directives,
    .count = PL_CFG_COUNT(case_directives), .check = case_check};

static const pl_cfg_directive file_directives[] = {
    {.name = "cases", .type = PL_CFG_LIST, .offset = offsetof(case_file, cases),
     .required = 1, .section = &case_section, .doc = "the test cases"},
};
static const pl_cfg_section file_section = {
    .name = "the test file", .size = sizeof(case_file), .directives = file_directives,
    .count = PL_CFG_COUNT(file_directives)};

/* Renders an action the way case files write it. */
static const char *action_string(pl_arena *a, const pl_policy_action *x)
{
    switch (x->type) {
    case PL_POLICY_ESCALATE:
        return pl_arena_printf(a, "escalate:%s", x->priority);
    case PL_POLICY_REDIRECT:
        return pl_arena_printf(a, "redirect:%s", x->channel);
    case PL_POLICY_TAG:
        return pl_arena_printf(a, "tag:%s", x->value);
    default:
        return pl_policy_action_name(x->type);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Compares two lists of strings, sorted when `sorted`; prints a diff. */
static int compare_list(FILE *out, const char *what, const char **exp, size_t nexp,
                        const char **act, size_t nact, int sorted)
{
    size_t i = 0, j = 0;
    int same = nexp == nact;

    if (sorted) {
        qsort(exp, nexp, sizeof(char *), cmp_str);
        qsort(act, nact, sizeof(char *), cmp_str);
    }
    for (size_t k = 0; same && k < nexp; k++)
        same = strcmp(exp[k], act[k]) == 0;
    if (same)
        return 0;
    fprintf(out, "    %s:\n", what);
    if (!sorted) {
        for (; i < nexp; i++)
            fprintf(out, "      - %s\n", exp[i]);
        for (; j < nact; j++)
            fprintf(out, "      + %s\n", act[j]);
        return 1;
    }
    while (i < nexp || j < nact) {
        int c = i == nexp ? 1 : j == nact ? -1 : strcmp(exp[i], act[j]);
        if (c == 0) {
            fprintf(out, "        %s\n", exp[i]);
            i++;
            j++;
        } else if (c < 0) {
            fprintf(out, "      - %s\n", exp[i++]);
        } else {
            fprintf(out, "      + %s\n", act[j++]);
        }
    }
    return 1;
}

static const char *directive_value(const pl_policy_directives *d, const char *key, int *known)
{
    *known = 1;
    if (!strcmp(key, "formality"))
        return d->formality;
    if (!strcmp(key, "address"))
        return d->address;
    if (!strcmp(key, "honorific_self"))
        return d->honorific_self;
    if (!strcmp(key, "honorific_customer"))
        return d->honorific_customer;
    if (!strcmp(key, "speech_level"))
        return d->speech_level;
    if (!strcmp(key, "variety"))
        return d->variety;
    if (!strcmp(key, "dialect"))
        return d->dialect;
    if (!strcmp(key, "locale"))
        return d->locale;
    *known = 0;
    return NULL;
}

static int run_case(const pl_policy_set *set, const char *file, const test_case *c,
                    FILE *out, pl_diags *diags)
{
    pl_arena a;
    pl_policy_input in = {.text = c->input, .len = strlen(c->input),
                          .direction = c->direction == 1 ? PL_POLICY_OUT : PL_POLICY_IN,
                          .prior_complaints = (unsigned)c->prior_complaints};
    const pl_policy *p = pl_policy_resolve(set, c->locale);
    pl_policy_result *r;
    int failed = 0, rc;
    unsigned line = c->node ? c->node->line : 0;

    if (p == NULL) {
        pl_diags_add(diags, PL_DIAG_ERROR, file, line, c->node ? c->node->column : 0,
                     "no policy serves locale '%s'", c->locale);
        return -1;
    }
    pl_arena_init(&a, 16u << 20);
    rc = pl_policy_evaluate(p, &in, &a, &r);
    if (rc != 0) {
        fprintf(out, "FAIL %s: %s (%s:%u)\n    evaluation failed: %s\n", c->locale,
                c->name, file, line, pl_strerror(rc));
        pl_arena_free(&a);
        return 1;
    }
    {
        const char **act = pl_arena_calloc(&a, r->nactions + r->nhits + r->nflags + 1,
                                           sizeof(char *));
        FILE *diff;
        char *dbuf = NULL;
        size_t dlen = 0;
        diff = open_memstream(&dbuf, &dlen);
        if (diff == NULL || act == NULL) {
            pl_arena_free(&a);
            return -1;
        }
        if (c->expect.actions.items) {
            for (size_t i = 0; i < r->nactions; i++)
                act[i] = action_string(&a, &r->actions[i]);
            failed |= compare_list(diff, "actions", c->expect.actions.items,
                                   c->expect.actions.count, act, r->nactions, 1);
        }
        if (c->expect.rules.items) {
            for (size_t i = 0; i < r->nhits; i++)
                act[i] = r->hits[i].rule_id;
            failed |= compare_list(diff, "rules", c->expect.rules.items,
                                   c->expect.rules.count, act, r->nhits, 0);
        }
        if (c->expect.flags.items) {
            size_t n = 0;
            for (size_t i = 0; i < r->nflags; i++)
                if (n == 0 || strcmp(act[n - 1], r->flags[i].fix_id) != 0)
                    act[n++] = r->flags[i].fix_id;
            failed |= compare_list(diff, "flags", c->expect.flags.items,
                                   c->expect.flags.count, act, n, 1);
        }
        if (c->expect.text && (strlen(c->expect.text) != r->text_len ||
                               memcmp(c->expect.text, r->text, r->text_len) != 0)) {
            fprintf(diff, "    text:\n      - %s\n      + %.*s\n", c->expect.text,
                    (int)r->text_len, r->text);
            failed = 1;
        }
        if (c->expect.blocked >= 0 && c->expect.blocked != r->blocked) {
            fprintf(diff, "    blocked:\n      - %s\n      + %s\n",
                    c->expect.blocked ? "true" : "false", r->blocked ? "true" : "false");
            failed = 1;
        }
        for (size_t i = 0; i < c->expect.directives.count; i++) {
            const char *key = c->expect.directives.keys[i];
            const char *want = ((const char **)c->expect.directives.values)[i];
            int known;
            const char *got = directive_value(&r->directives, key, &known);
            if (!known) {
                const pl_yaml_node *k = c->expect.directives.key_nodes[i];
                pl_diags_add(diags, PL_DIAG_ERROR, file, k->line, k->column,
                             "unknown directive '%s' (formality, address, honorific_self, "
                             "honorific_customer, speech_level, variety, dialect, locale)",
                             key);
                failed = 1;
            } else if (got == NULL || strcmp(got, want) != 0) {
                fprintf(diff, "    directives.%s:\n      - %s\n      + %s\n", key, want,
                        got ? got : "(none)");
                failed = 1;
            }
        }
        for (size_t i = 0; i < c->expect.instructions.count; i++) {
            const char *want = c->expect.instructions.items[i];
            int found = 0;
            for (size_t j = 0; j < r->directives.ninstructions && !found; j++)
                found = strstr(r->directives.instructions[j], want) != NULL;
            if (!found) {
                fprintf(diff, "    instructions: none contains '%s'\n", want);
                failed = 1;
            }
        }
        fclose(diff);
        if (failed)
            fprintf(out, "FAIL %s: %s (%s:%u)\n%s", c->locale, c->name, file, line,
                    dbuf ? dbuf : "");
        else
            fprintf(out, "PASS %s: %s\n", c->locale, c->name);
        free(dbuf);
    }
    pl_arena_free(&a);
    return failed;
}

int pl_policy_run_cases(const pl_policy_set *set, const char *path, FILE *out,
                        pl_diags *diags, unsigned *passed, unsigned *failed)
{
    pl_yaml_doc doc;
    case_file cf = {0};
    pl_arena arena;
    size_t before = diags->errors;
    pl_cfg_ctx ctx;
    int rc;

    rc = pl_yaml_load_file(&doc, path, diags);
    if (rc != 0) {
        pl_yaml_doc_free(&doc);
        return rc == PL_ESYNTAX ? PL_EPOLICY : rc;
    }
    pl_arena_init(&arena, 0);
    ctx = (pl_cfg_ctx){.arena = &arena, .diags = diags, .file = doc.file,
                       .root = &file_section};
    /* `blocked` is "not checked" unless written. */
    pl_cfg_apply(&ctx, &file_section, doc.root, &cf);
    if (diags->errors == before) {
        for (size_t i = 0; i < cf.cases.count; i++) {
            test_case *c = (test_case *)cf.cases.items + i;
            if (pl_yaml_map_get(pl_yaml_map_get(c->node, "expect"), "blocked") == NULL)
                c->expect.blocked = -1;
            rc = run_case(set, doc.file, c, out, diags);
            if (rc == 0)
                (*passed)++;
            else
                (*failed)++;
        }
    }
    rc = diags->errors == before ? 0 : PL_EPOLICY;
    pl_arena_free(&arena);
    pl_yaml_doc_free(&doc);
    return rc;
}
