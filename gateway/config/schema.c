/*
 * Validation of a YAML tree against declared directive tables: types,
 * ranges, enum choices, defaults, required keys and unknown keys with a
 * "did you mean" hint. Every problem is collected, none stops the pass.
 */
#include "parley/config.h"
#include "parley/error.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define ERR_AT(ctx, node, ...)                                            \
    pl_diags_add((ctx)->diags, PL_DIAG_ERROR, (ctx)->file, (node)->line, \
                 (node)->column, __VA_ARGS__)

const char *pl_cfg_type_name(const pl_cfg_directive *d)
{
    switch (d->type) {
    case PL_CFG_STRING:
        return "string";
    case PL_CFG_INT:
        return "integer";
    case PL_CFG_BOOL:
        return "boolean";
    case PL_CFG_ENUM:
        return "enum";
    case PL_CFG_DURATION:
        return "duration";
    case PL_CFG_SIZE:
        return "size";
    case PL_CFG_STRINGS:
        return "list of strings";
    case PL_CFG_SECTION:
        return "section";
    case PL_CFG_LIST:
        return "list of sections";
    case PL_CFG_CUSTOM:
        return d->type_name ? d->type_name : "value";
    case PL_CFG_MAP:
        return d->section ? "map of sections" : "map of strings";
    }
    return "value";
}

int pl_cfg_parse_duration(const char *s, int64_t *ms)
{
    static const struct {
        const char *unit;
        double factor;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"", 1000}};
    char *end;
    double v;

    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s) && *s != '.')
        return PL_EINVAL;
    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s)
        return PL_EINVAL;
    while (*end == ' ')
        end++;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].unit) == 0) {
            double r = v * units[i].factor;
            if (!isfinite(r) || r > 9.2e15)
                return PL_ELIMIT;
            *ms = (int64_t)llround(r);
            return 0;
        }
    }
    return PL_EINVAL;
}

int pl_cfg_parse_size(const char *s, int64_t *bytes)
{
    char *end;
    unsigned long long v;
    int shift = 0;

    while (isspace((unsigned char)*s))
        s++;
    if (!isdigit((unsigned char)*s))
        return PL_EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno != 0)
        return PL_ELIMIT;
    while (*end == ' ')
        end++;
    switch (tolower((unsigned char)*end)) {
    case '\0':
        break;
    case 'k':
        shift = 10;
        break;
    case 'm':
        shift = 20;
        break;
    case 'g':
        shift = 30;
        break;
    default:
        return PL_EINVAL;
    }
    if (*end) {
        end++;
        /* "k", "kb", "kib" all mean 1024: sizes here are memory sizes. */
        if (strcasecmp(end, "") != 0 && strcasecmp(end, "b") != 0 &&
            strcasecmp(end, "ib") != 0)
            return PL_EINVAL;
    }
    if (v > (unsigned long long)INT64_MAX >> shift)
        return PL_ELIMIT;
    *bytes = (int64_t)(v << shift);
    return 0;
}

static void format_value(const pl_cfg_directive *d, int64_t v, char *buf,
                         size_t size)
{
    if (d->type == PL_CFG_DURATION) {
        if (v % 3600000 == 0 && v != 0)
            snprintf(buf, size, "%" PRId64 "h", v / 3600000);
        else if (v % 60000 == 0 && v != 0)
            snprintf(buf, size, "%" PRId64 "m", v / 60000);
        else if (v % 1000 == 0)
            snprintf(buf, size, "%" PRId64 "s", v / 1000);
        else
            snprintf(buf, size, "%" PRId64 "ms", v);
    } else if (d->type == PL_CFG_SIZE) {
        if (v % (1 << 30) == 0 && v != 0)
            snprintf(buf, size, "%" PRId64 "g", v >> 30);
        else if (v % (1 << 20) == 0 && v != 0)
            snprintf(buf, size, "%" PRId64 "m", v >> 20);
        else if (v % 1024 == 0 && v != 0)
            snprintf(buf, size, "%" PRId64 "k", v >> 10);
        else
            snprintf(buf, size, "%" PRId64, v);
    } else {
        snprintf(buf, size, "%" PRId64, v);
    }
}

static int check_range(const pl_cfg_ctx *ctx, const pl_cfg_directive *d,
                       const pl_yaml_node *node, int64_t v)
{
    char lo[32], hi[32];

    if (d->min == 0 && d->max == 0)
        return 0;
    if (v >= d->min && v <= d->max)
        return 0;
    format_value(d, d->min, lo, sizeof(lo));
    format_value(d, d->max, hi, sizeof(hi));
    ERR_AT(ctx, node, "'%s' must be between %s and %s, got '%s'", d->name, lo,
           hi, node->value);
    return 1;
}

static int expect_scalar(const pl_cfg_ctx *ctx, const pl_cfg_directive *d,
                         const pl_yaml_node *node)
{
    if (node->kind == PL_YAML_SCALAR && !pl_yaml_is_null(node))
        return 0;
    if (node->kind == PL_YAML_SCALAR)
        ERR_AT(ctx, node, "'%s' needs a value (%s)", d->name,
               pl_cfg_type_name(d));
    else
        ERR_AT(ctx, node, "'%s' must be a %s, not %s", d->name,
               pl_cfg_type_name(d), pl_yaml_kind_name(node->kind));
    return 1;
}

static size_t apply_section(const pl_cfg_ctx *ctx, const pl_cfg_section *sec,
                            const pl_yaml_node *node, const pl_yaml_node *at,
                            void *obj);
static size_t apply_absent_section(const pl_cfg_ctx *ctx,
                                   const pl_cfg_section *sec, void *obj);

static size_t parse_strings(const pl_cfg_ctx *ctx, const pl_cfg_directive *d,
                            const pl_yaml_node *node, pl_cfg_strings *out)
{
    size_t errors = 0, n = node->kind == PL_YAML_SEQ ? node->count : 1;

    if (node->kind == PL_YAML_MAP) {
        ERR_AT(ctx, node, "'%s' must be a list of strings, not a mapping",
               d->name);
        return 1;
    }
    out->items = pl_arena_calloc(ctx->arena, n ? n : 1, sizeof(char *));
    out->count = 0;
    if (out->items == NULL)
        return 1;
    for (size_t i = 0; i < n; i++) {
        const pl_yaml_node *it = node->kind == PL_YAML_SEQ ? node->items[i] : node;
        if (it->kind != PL_YAML_SCALAR || pl_yaml_is_null(it)) {
            ERR_AT(ctx, it, "items of '%s' must be strings", d->name);
            errors++;
            continue;
        }
        out->items[out->count++] = it->value;
    }
    return errors;
}

static size_t parse_list(const pl_cfg_ctx *ctx, const pl_cfg_directive *d,
                         const pl_yaml_node *node, pl_cfg_list *out)
{
    size_t errors = 0;
    const pl_cfg_section *sec = d->section;

    if (node->kind != PL_YAML_SEQ) {
        ERR_AT(ctx, node, "'%s' must be a list (each item starting with '- '), not %s",
               d->name, pl_yaml_kind_name(node->kind));
        return 1;
    }
    out->items = pl_arena_calloc(ctx->arena, node->count ? node->count : 1,
                                 sec->size);
    out->count = node->count;
    if (out->items == NULL)
        return 1;
    for (size_t i = 0; i < node->count; i++)
        errors += apply_section(ctx, sec, node->items[i], node->items[i],
                                (char *)out->items + i * sec->size);
    return errors;
}

static size_t parse_map(const pl_cfg_ctx *ctx, const pl_cfg_directive *d,
                        const pl_yaml_node *node, pl_cfg_map *out)
{
    size_t errors = 0, n = node->count, size;

    if (pl_yaml_is_null(node))
        n = 0;
    else if (node->kind != PL_YAML_MAP) {
        ERR_AT(ctx, node, "'%s' must be a mapping (key: value lines), not %s",
               d->name, pl_yaml_kind_name(node->kind));
        return 1;
    }
    size = d->section ? d->section->size : sizeof(const char *);
    out->keys = pl_arena_calloc(ctx->arena, n ? n : 1, sizeof(char *));
    out->key_nodes = pl_arena_calloc(ctx->arena, n ? n : 1, sizeof(*out->key_nodes));
    out->values = pl_arena_calloc(ctx->arena, n ? n : 1, size);
    out->count = 0;
    if (out->keys == NULL || out->key_nodes == NULL || out->values == NULL)
        return 1;
    for (size_t i = 0; i < n; i++) {
        const pl_yaml_pair *p = &node->pairs[i];
        void *dst = (char *)out->values + out->count * size;
        if (d->section != NULL) {
            size_t e = apply_section(ctx, d->section, p->value, p->value, dst);
            errors += e;
            if (e)
                continue;
        } else if (p->value->kind != PL_YAML_SCALAR || pl_yaml_is_null(p->value)) {
            ERR_AT(ctx, p->value, "the value of '%s' in '%s' must be a string",
                   p->key->value, d->name);
            errors++;
            continue;
        } else {
            *(const char **)dst = p->value->value;
        }
        out->keys[out->count] = p->key->value;
        out->key_nodes[out->count] = p->key;
        out->count++;
    }
    return errors;
}

/* Parses one present value. Returns the number of errors added. */
static size_t parse_value(const pl_cfg_ctx *ctx, const pl_cfg_directive *d,
                          const pl_yaml_node *node, void *obj)
{
    void *dst = (char *)obj + d->offset;
    int64_t v;
    int rc;

    switch (d->type) {
    case PL_CFG_STRING:
        if (expect_scalar(ctx, d, node))
            return 1;
        *(const char **)dst = node->value;
        return 0;
    case PL_CFG_INT: {
        char *end;
        if (expect_scalar(ctx, d, node))
            return 1;
        errno = 0;
        v = strtoll(node->value, &end, 10);
        if (errno != 0 || end == node->value || *end != '\0') {
            ERR_AT(ctx, node, "'%s' must be a whole number, got '%s'", d->name,
                   node->value);
            return 1;
        }
        if (check_range(ctx, d, node, v))
            return 1;
        *(int64_t *)dst = v;
        return 0;
    }
    case PL_CFG_BOOL: {
        static const char *const yes[] = {"true", "yes", "on"};
        static const char *const no[] = {"false", "no", "off"};
        if (expect_scalar(ctx, d, node))
            return 1;
        for (int i = 0; i < 3; i++) {
            if (strcasecmp(node->value, yes[i]) == 0) {
                *(int *)dst = 1;
                return 0;
            }
            if (strcasecmp(node->value, no[i]) == 0) {
                *(int *)dst = 0;
                return 0;
            }
        }
        ERR_AT(ctx, node, "'%s' must be true or false, got '%s'", d->name,
               node->value);
        return 1;
    }
    case PL_CFG_ENUM: {
        char list[256] = "";
        size_t len = 0;
        const char *hint;
        if (expect_scalar(ctx, d, node))
            return 1;
        for (int i = 0; d->choices[i]; i++) {
            if (strcmp(node->value, d->choices[i]) == 0) {
                *(int *)dst = i;
                return 0;
            }
            len += (size_t)snprintf(list + len, len < sizeof(list) ? sizeof(list) - len : 0,
                                    "%s%s", i ? ", " : "", d->choices[i]);
            if (len >= sizeof(list))
                len = sizeof(list) - 1;
        }
        hint = pl_suggest(node->value, d->choices);
        if (hint)
            ERR_AT(ctx, node, "'%s' must be one of %s, got '%s'; did you mean '%s'?",
                   d->name, list, node->value, hint);
        else
            ERR_AT(ctx, node, "'%s' must be one of %s, got '%s'", d->name, list,
                   node->value);
        return 1;
    }
    case PL_CFG_DURATION:
    case PL_CFG_SIZE:
        if (expect_scalar(ctx, d, node))
            return 1;
        rc = d->type == PL_CFG_DURATION ? pl_cfg_parse_duration(node->value, &v)
                                        : pl_cfg_parse_size(node->value, &v);
        if (rc != 0) {
            ERR_AT(ctx, node,
                   d->type == PL_CFG_DURATION
                       ? "'%s' must be a duration such as 250ms, 30s, 5m or 1h, got '%s'"
                       : "'%s' must be a size such as 512, 16k, 8m or 1g, got '%s'",
                   d->name, node->value);
            return 1;
        }
        if (check_range(ctx, d, node, v))
            return 1;
        *(int64_t *)dst = v;
        return 0;
    case PL_CFG_STRINGS:
        return parse_strings(ctx, d, node, dst);
    case PL_CFG_SECTION:
        return apply_section(ctx, d->section, node, node, dst);
    case PL_CFG_LIST:
        return parse_list(ctx, d, node, dst);
    case PL_CFG_CUSTOM: {
        size_t before = ctx->diags->errors;
        if (d->parse(ctx, node, dst) != 0 && ctx->diags->errors == before) {
            ERR_AT(ctx, node, "invalid value for '%s'", d->name);
        }
        return ctx->diags->errors - before;
    }
    case PL_CFG_MAP:
        return parse_map(ctx, d, node, dst);
    }
    return 0;
}

/* Applies a directive's default, parsed exactly like a user's value. */
static size_t apply_default(const pl_cfg_ctx *ctx, const pl_cfg_directive *d,
                            void *obj)
{
    pl_yaml_doc doc;
    pl_diags scratch;
    pl_cfg_ctx dctx = *ctx;
    size_t errors;

    /*
     * An optional section that is not written gets its defaults; its
     * required keys are required only when the section is written.
     */
    if (d->type == PL_CFG_SECTION)
        return apply_absent_section(ctx, d->section, (char *)obj + d->offset);
    if (d->default_value == NULL)
        return 0;
    pl_diags_init(&scratch);
    if (pl_yaml_load_string(&doc, "<default>", d->default_value,
                            strlen(d->default_value), &scratch) != 0 ||
        doc.root == NULL) {
        pl_yaml_doc_free(&doc);
        pl_diags_free(&scratch);
        return 0;
    }
    /*
     * The default's little document is freed below, so string values are
     * copied into the configuration's arena; custom parsers copy their own.
     */
    dctx.diags = &scratch;
    errors = parse_value(&dctx, d, doc.root, obj);
    if (errors == 0 && d->type == PL_CFG_STRING) {
        const char **sp = (const char **)((char *)obj + d->offset);
        *sp = pl_arena_strdup(ctx->arena, *sp);
    }
    if (errors == 0 && d->type == PL_CFG_STRINGS) {
        pl_cfg_strings *s = (pl_cfg_strings *)((char *)obj + d->offset);
        const char **items = pl_arena_calloc(ctx->arena, s->count + 1, sizeof(char *));
        for (size_t i = 0; items && i < s->count; i++)
            items[i] = pl_arena_strdup(ctx->arena, s->items[i]);
        s->items = items;
    }
    pl_yaml_doc_free(&doc);
    pl_diags_free(&scratch);
    return 0;
}

typedef struct find_owner_arg {
    const char *key;
    char path[256];
    int found;
} find_owner_arg;

static void find_owner(const char *path, const pl_cfg_directive *d, void *arg)
{
    find_owner_arg *a = arg;
    const char *dot = strrchr(path, '.');

    if (a->found || strcmp(d->name, a->key) != 0 || dot == NULL)
        return;
    snprintf(a->path, sizeof(a->path), "%.*s", (int)(dot - path), path);
    a->found = 1;
}

static void report_unknown(const pl_cfg_ctx *ctx, const pl_cfg_section *sec,
                           const pl_yaml_node *key)
{
    const char *names[128];
    size_t n = 0;
    const char *hint;
    find_owner_arg owner = {.key = key->value};

    for (size_t i = 0; i < sec->count && n < 127; i++)
        names[n++] = sec->directives[i].name;
    names[n] = NULL;
    hint = pl_suggest(key->value, names);
    if (hint) {
        ERR_AT(ctx, key, "unknown key '%s' in %s; did you mean '%s'?", key->value,
               sec->name, hint);
        return;
    }
    if (ctx->root != NULL)
        pl_cfg_walk(ctx->root, find_owner, &owner);
    if (owner.found)
        ERR_AT(ctx, key, "'%s' is not allowed in %s; it belongs in '%s'",
               key->value, sec->name, owner.path);
    else
        ERR_AT(ctx, key, "unknown key '%s' in %s", key->value, sec->name);
}

static size_t apply_section_ex(const pl_cfg_ctx *ctx, const pl_cfg_section *sec,
                               const pl_yaml_node *node, const pl_yaml_node *at,
                               void *obj, int absent);

static size_t apply_section(const pl_cfg_ctx *ctx, const pl_cfg_section *sec,
                            const pl_yaml_node *node, const pl_yaml_node *at,
                            void *obj)
{
    return apply_section_ex(ctx, sec, node, at, obj, 0);
}

static size_t apply_absent_section(const pl_cfg_ctx *ctx,
                                   const pl_cfg_section *sec, void *obj)
{
    return apply_section_ex(ctx, sec, NULL, NULL, obj, 1);
}

static size_t apply_section_ex(const pl_cfg_ctx *ctx, const pl_cfg_section *sec,
                               const pl_yaml_node *node, const pl_yaml_node *at,
                               void *obj, int absent)
{
    size_t errors = 0;

    if (node != NULL && pl_yaml_is_null(node))
        node = NULL; /* "log:" with nothing under it means all defaults */
    if (node != NULL && node->kind != PL_YAML_MAP) {
        ERR_AT(ctx, node, "%s must be a mapping of keys to values, not %s",
               sec->name, pl_yaml_kind_name(node->kind));
        return 1;
    }
    if (node != NULL) {
        for (size_t i = 0; i < node->count; i++) {
            const pl_yaml_pair *p = &node->pairs[i];
            const pl_cfg_directive *d = NULL;
            for (size_t j = 0; j < sec->count && d == NULL; j++)
                if (strcmp(sec->directives[j].name, p->key->value) == 0)
                    d = &sec->directives[j];
            if (d == NULL) {
                report_unknown(ctx, sec, p->key);
                errors++;
                continue;
            }
            errors += parse_value(ctx, d, p->value, obj);
        }
    }
    for (size_t j = 0; j < sec->count; j++) {
        const pl_cfg_directive *d = &sec->directives[j];
        if (pl_yaml_map_get(node, d->name) != NULL)
            continue;
        if (d->required && absent)
            continue;
        if (d->required) {
            if (at != NULL)
                ERR_AT(ctx, at, "%s is missing the required key '%s'", sec->name,
                       d->name);
            else
                pl_diags_add(ctx->diags, PL_DIAG_ERROR, ctx->file, 0, 0,
                             "%s is missing the required key '%s'", sec->name,
                             d->name);
            errors++;
            continue;
        }
        errors += apply_default(ctx, d, obj);
    }
    if (errors == 0 && sec->check != NULL) {
        size_t before = ctx->diags->errors;
        sec->check(ctx, node ? node : at, obj);
        errors += ctx->diags->errors - before;
    }
    return errors;
}

size_t pl_cfg_apply(const pl_cfg_ctx *ctx, const pl_cfg_section *section,
                    const pl_yaml_node *node, void *obj)
{
    return apply_section(ctx, section, node, node, obj);
}

/* Sections may nest themselves (a policy's `any:` holds conditions); each
 * section is walked once per path, never inside itself. */
#define WALK_MAX_DEPTH 16

static void walk(const pl_cfg_section *sec, char *prefix, size_t plen,
                 size_t cap,
                 void (*fn)(const char *, const pl_cfg_directive *, void *),
                 void *arg, const pl_cfg_section **stack, size_t depth)
{
    for (size_t i = 0; i < depth; i++)
        if (stack[i] == sec)
            return;
    if (depth == WALK_MAX_DEPTH)
        return;
    stack[depth++] = sec;
    for (size_t i = 0; i < sec->count; i++) {
        const pl_cfg_directive *d = &sec->directives[i];
        int n = snprintf(prefix + plen, cap - plen, "%s%s", plen ? "." : "",
                         d->name);
        size_t len = plen + (n > 0 ? (size_t)n : 0);
        if (len >= cap)
            len = cap - 1;
        fn(prefix, d, arg);
        if (d->type == PL_CFG_SECTION || d->type == PL_CFG_LIST) {
            if (d->type == PL_CFG_LIST && len + 2 < cap) {
                memcpy(prefix + len, "[]", 3);
                len += 2;
            }
            walk(d->section, prefix, len, cap, fn, arg, stack, depth);
        }
        prefix[plen] = '\0';
    }
}

void pl_cfg_walk(const pl_cfg_section *section,
                 void (*fn)(const char *path, const pl_cfg_directive *d,
                            void *arg),
                 void *arg)
{
    char prefix[256] = "";
    const pl_cfg_section *stack[WALK_MAX_DEPTH];

    walk(section, prefix, 0, sizeof(prefix), fn, arg, stack, 0);
}
