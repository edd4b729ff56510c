/*
 * Loading a policy set: read every file, validate it against the declared
 * tables, check what tables cannot (file name vs locale, duplicate ids),
 * compile terms and regexes, resolve each locale's inheritance chain and
 * merge it into one flat pl_policy, and warn about rules that can never fire.
 */
#include "policy_internal.h"

#include "parley/error.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unicode/uloc.h>
#include <unicode/ustring.h>

#define ERR_NODE(diags, file, node, ...)                                        \
    pl_diags_add((diags), PL_DIAG_ERROR, (file), (node) ? (node)->line : 0,     \
                 (node) ? (node)->column : 0, __VA_ARGS__)
#define WARN_AT(diags, file, line, col, ...) \
    pl_diags_add((diags), PL_DIAG_WARNING, (file), (line), (col), __VA_ARGS__)

/* The default thresholds when no policy in the chain sets them. */
#define DEFAULT_CAPS_PERCENT 70
#define DEFAULT_MIN_LETTERS 8
#define DEFAULT_PUNCTUATION_RUN 3

int pl__regex_compile(pl_policy_set *set, const char *source, pl__regex **out)
{
    UErrorCode st = U_ZERO_ERROR;
    UParseError pe;
    UChar *buf;
    int32_t len = 0;
    pl__regex *r;

    *out = NULL;
    u_strFromUTF8(NULL, 0, &len, source, -1, &st);
    st = U_ZERO_ERROR;
    buf = pl_arena_alloc(&set->arena, ((size_t)len + 1) * sizeof(UChar));
    r = pl_arena_calloc(&set->arena, 1, sizeof(*r));
    if (buf == NULL || r == NULL)
        return PL_ENOMEM;
    u_strFromUTF8(buf, len + 1, NULL, source, -1, &st);
    if (U_FAILURE(st))
        return PL_EICU;
    if (set->nregexes == set->capregexes) {
        size_t cap = set->capregexes ? set->capregexes * 2 : 32;
        pl__regex **v = realloc(set->regexes, cap * sizeof(*v));
        if (v == NULL)
            return PL_ENOMEM;
        set->regexes = v;
        set->capregexes = cap;
    }
    r->re = uregex_open(buf, len, 0, &pe, &st);
    if (U_FAILURE(st))
        return PL_EICU;
    pthread_mutex_init(&r->lock, NULL);
    r->source = source;
    set->regexes[set->nregexes++] = r;
    *out = r;
    return 0;
}

static void regex_free(pl__regex *r)
{
    for (size_t i = 0; i < r->nspare; i++)
        uregex_close(r->spare[i]);
    uregex_close(r->re);
    pthread_mutex_destroy(&r->lock);
}

/* ---- Reading one file ---- */

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');

    return s ? s + 1 : path;
}

/* The locale a file is named after: "ja-JP.yaml" -> "ja-JP". */
static char *file_tag(pl_arena *a, const char *path)
{
    const char *b = base_name(path);
    const char *dot = strrchr(b, '.');

    return pl_arena_strndup(a, b, dot ? (size_t)(dot - b) : strlen(b));
}

static void preset_unset(pol_file *f)
{
    f->reg.formality = f->reg.address = f->reg.honorific_self = -1;
    f->reg.honorific_customer = f->reg.speech_level = -1;
    f->format.calendar = f->format.numbers = f->format.date = -1;
}

static const pl_yaml_node *seq_item(const pl_yaml_node *root, const char *key,
                                    size_t i)
{
    const pl_yaml_node *n = pl_yaml_map_get(root, key);

    return n && n->kind == PL_YAML_SEQ && i < n->count ? n->items[i] : NULL;
}

/* Reports the second use of an id within one list of the file. */
static void check_unique(pl_diags *diags, const char *file, const char *what,
                         const pl_yaml_node *root, const char *key,
                         const char *const *ids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < i; j++) {
            if (ids[i] == NULL || ids[j] == NULL || strcmp(ids[i], ids[j]) != 0)
                continue;
            const pl_yaml_node *a = pl_yaml_map_get(seq_item(root, key, j), "id");
            const pl_yaml_node *b = pl_yaml_map_get(seq_item(root, key, i), "id");
            ERR_NODE(diags, file, b, "duplicate %s id '%s' (first defined at line %u)",
                     what, ids[i], a ? a->line : 0);
            break;
        }
}

static int compile_cond(pl_policy_set *set, const pol_cond *src, pl__cond *dst)
{
    int rc;

    dst->absolute_words = src->absolute_words;
    dst->shouting = src->shouting;
    dst->punctuation_run = (int)src->punctuation_run;
    dst->repeated_complaints = (int)src->repeated_complaints;
    if (src->terms.count) {
        dst->terms = pl_arena_calloc(&set->arena, src->terms.count, sizeof(pl__term));
        if (dst->terms == NULL)
            return PL_ENOMEM;
        for (size_t i = 0; i < src->terms.count; i++) {
            pl__term *t = &dst->terms[dst->nterms];
            t->text = src->terms.items[i];
            if ((rc = pl__fold_term(&set->arena, t->text, &t->folded, &t->len)) != 0)
                return rc;
            if (t->len > 0)
                dst->nterms++;
        }
    }
    if (src->regex.count) {
        dst->regex = pl_arena_calloc(&set->arena, src->regex.count, sizeof(pl__regex *));
        if (dst->regex == NULL)
            return PL_ENOMEM;
        for (size_t i = 0; i < src->regex.count; i++)
            if ((rc = pl__regex_compile(set, src->regex.items[i], &dst->regex[dst->nregex++])) != 0)
                return rc;
    }
    dst->nany = src->any.count;
    dst->nall = src->all.count;
    dst->any = pl_arena_calloc(&set->arena, dst->nany + 1, sizeof(pl__cond));
    dst->all = pl_arena_calloc(&set->arena, dst->nall + 1, sizeof(pl__cond));
    if (dst->any == NULL || dst->all == NULL)
        return PL_ENOMEM;
    for (size_t i = 0; i < dst->nany; i++)
        if ((rc = compile_cond(set, (const pol_cond *)src->any.items + i, &dst->any[i])) != 0)
            return rc;
    for (size_t i = 0; i < dst->nall; i++)
        if ((rc = compile_cond(set, (const pol_cond *)src->all.items + i, &dst->all[i])) != 0)
            return rc;
    return 0;
}

/* Terms that fold to nothing ("  ") can never match: an editor's mistake. */
static void check_terms(pl_diags *diags, const char *file, const pol_cond *c)
{
    const pl_yaml_node *terms = c->node ? pl_yaml_map_get(c->node, "terms") : NULL;

    for (size_t i = 0; terms && i < c->terms.count; i++) {
        const char *s = c->terms.items[i];
        size_t k = strspn(s, " \t\r\n");
        if (s[k] == '\0') {
            const pl_yaml_node *it = terms->kind == PL_YAML_SEQ && i < terms->count
                                         ? terms->items[i] : terms;
            ERR_NODE(diags, file, it, "an empty term can never match");
        }
    }
    for (size_t i = 0; i < c->any.count; i++)
        check_terms(diags, file, (const pol_cond *)c->any.items + i);
    for (size_t i = 0; i < c->all.count; i++)
        check_terms(diags, file, (const pol_cond *)c->all.items + i);
}

static int compile_file(pl_policy_set *set, pl__file *f, pl_diags *diags)
{
    const pol_file *c = &f->cfg;
    int rc;

    f->rules = pl_arena_calloc(&set->arena, c->rules.count + 1, sizeof(pl__rule));
    f->fixes = pl_arena_calloc(&set->arena, c->fixes.count + 1, sizeof(pl__fix));
    f->protect = pl_arena_calloc(&set->arena, c->protect.count + 1, sizeof(pl__protect));
    if (f->rules == NULL || f->fixes == NULL || f->protect == NULL)
        return PL_ENOMEM;
    for (size_t i = 0; i < c->rules.count; i++) {
        const pol_rule *r = (const pol_rule *)c->rules.items + i;
        pl__rule *d = &f->rules[f->nrules++];
        static const int dirs[] = {PL_POLICY_IN, PL_POLICY_OUT, PL_POLICY_BOTH};
        d->id = r->id;
        d->file = f->doc.file;
        d->line = r->node ? r->node->line : 0;
        d->column = r->node ? r->node->column : 0;
        d->direction = dirs[r->direction];
        d->stop = r->stop;
        d->has_when = r->when.node != NULL;
        d->then = &r->then;
        check_terms(diags, f->doc.file, &r->when);
        if ((rc = compile_cond(set, &r->when, &d->when)) != 0)
            return rc;
    }
    for (size_t i = 0; i < c->fixes.count; i++) {
        const pol_fix *x = (const pol_fix *)c->fixes.items + i;
        pl__fix *d = &f->fixes[f->nfixes++];
        d->id = x->id;
        d->file = f->doc.file;
        d->line = x->node ? x->node->line : 0;
        d->src = x;
        if (x->pattern && (rc = pl__regex_compile(set, x->pattern, &d->pattern)) != 0)
            return rc;
        if (x->also && (rc = pl__regex_compile(set, x->also, &d->also)) != 0)
            return rc;
    }
    for (size_t i = 0; i < c->protect.count; i++) {
        const pol_protect *x = (const pol_protect *)c->protect.items + i;
        pl__protect *d = &f->protect[f->nprotect++];
        d->id = x->id;
        if ((rc = pl__regex_compile(set, x->pattern, &d->re)) != 0)
            return rc;
    }
    return 0;
}

static int load_file(pl_policy_set *set, const char *path, pl_diags *diags,
                     pl__file **out)
{
    pl__file *f = pl_arena_calloc(&set->arena, 1, sizeof(*f));
    size_t before = diags->errors;
    pl_cfg_ctx ctx;
    int rc;

    *out = f;
    if (f == NULL)
        return PL_ENOMEM;
    f->path = pl_arena_strdup(&set->arena, path);
    f->tag = file_tag(&set->arena, path);
    if (f->path == NULL || f->tag == NULL)
        return PL_ENOMEM;
    rc = pl_yaml_load_file(&f->doc, path, diags);
    if (rc != 0)
        return rc == PL_ESYNTAX ? 0 : rc;
    ctx = (pl_cfg_ctx){.arena = &f->doc.arena, .diags = diags, .file = f->doc.file,
                       .root = &pl__policy_file_section};
    preset_unset(&f->cfg);
    pl_cfg_apply(&ctx, &pl__policy_file_section, f->doc.root, &f->cfg);
    /* Checks the tables cannot express, also on a file with other errors. */
    if (f->doc.root != NULL && f->doc.root->kind == PL_YAML_MAP) {
        const pl_yaml_node *root = f->doc.root;
        const pol_file *c = &f->cfg;
        const char **ids;
        size_t n = c->rules.count;
        if (n < c->fixes.count)
            n = c->fixes.count;
        if (n < c->protect.count)
            n = c->protect.count;
        ids = pl_arena_calloc(&set->arena, n + 1, sizeof(char *));
        if (ids == NULL)
            return PL_ENOMEM;
        if (c->locale != NULL && strcmp(c->locale, f->tag) != 0)
            ERR_NODE(diags, f->doc.file, pl_yaml_map_get(root, "locale"),
                     "locale '%s' does not match the file name '%s' "
                     "(name the file %s.yaml)",
                     c->locale, base_name(f->path), c->locale);
        if (c->inherits != NULL && c->locale != NULL && strcmp(c->inherits, c->locale) == 0)
            ERR_NODE(diags, f->doc.file, pl_yaml_map_get(root, "inherits"),
                     "policy '%s' cannot inherit from itself", c->locale);
        if (c->inherits != NULL && c->locale != NULL && strcmp(c->locale, "default") == 0)
            ERR_NODE(diags, f->doc.file, pl_yaml_map_get(root, "inherits"),
                     "the default policy is the root and cannot inherit");
        for (size_t i = 0; i < c->rules.count; i++)
            ids[i] = ((const pol_rule *)c->rules.items)[i].id;
        check_unique(diags, f->doc.file, "rule", root, "rules", ids, c->rules.count);
        for (size_t i = 0; i < c->fixes.count; i++)
            ids[i] = ((const pol_fix *)c->fixes.items)[i].id;
        check_unique(diags, f->doc.file, "fix", root, "fixes", ids, c->fixes.count);
        for (size_t i = 0; i < c->protect.count; i++)
            ids[i] = ((const pol_protect *)c->protect.items)[i].id;
        check_unique(diags, f->doc.file, "protected pattern", root, "protect", ids,
                     c->protect.count);
    }
    if (diags->errors != before)
        return 0;
    if ((rc = compile_file(set, f, diags)) != 0)
        return rc;
    f->ok = diags->errors == before;
    return 0;
}

/* ---- Chains ---- */

static pl__file *find_file(pl_policy_set *set, const char *tag)
{
    for (size_t i = 0; i < set->nfiles; i++)
        if (set->files[i]->ok && strcasecmp(set->files[i]->tag, tag) == 0)
            return set->files[i];
    return NULL;
}

/* Like find_file(), also returning files with errors. */
static pl__file *find_any(pl_policy_set *set, const char *tag)
{
    for (size_t i = 0; i < set->nfiles; i++)
        if (strcasecmp(set->files[i]->tag, tag) == 0)
            return set->files[i];
    return NULL;
}

/* The nearest loaded ancestor by ICU fallback (ar_SA -> ar), else default. */
static pl__file *fallback_parent(pl_policy_set *set, const pl__file *f)
{
    char cur[PL_POLICY_MAX_LOCALE], parent[PL_POLICY_MAX_LOCALE];

    if (strcmp(f->tag, "default") == 0)
        return NULL;
    if (pl__locale_check(f->tag, cur, sizeof(cur)) != 0)
        return find_any(set, "default");
    for (;;) {
        UErrorCode st = U_ZERO_ERROR;
        uloc_getParent(cur, parent, (int32_t)sizeof(parent), &st);
        if (U_FAILURE(st) || parent[0] == '\0' || strcmp(parent, "root") == 0)
            break;
        for (size_t i = 0; i < set->nfiles; i++) {
            char icu[PL_POLICY_MAX_LOCALE];
            pl__file *g = set->files[i];
            if (g != f && pl__locale_check(g->tag, icu, sizeof(icu)) == 0 &&
                strcasecmp(icu, parent) == 0)
                return g;
        }
        memcpy(cur, parent, sizeof(cur));
    }
    return find_any(set, "default");
}

static void report_unknown_parent(pl_policy_set *set, pl__file *f, pl_diags *diags)
{
    const char *names[256];
    size_t n = 0;
    const char *hint;
    const pl_yaml_node *at = pl_yaml_map_get(f->doc.root, "inherits");

    for (size_t i = 0; i < set->nfiles && n < 255; i++)
        if (set->files[i] != f)
            names[n++] = set->files[i]->tag;
    names[n] = NULL;
    hint = pl_suggest(f->cfg.inherits, names);
    if (hint)
        ERR_NODE(diags, f->doc.file, at,
                 "unknown parent policy '%s'; did you mean '%s'?", f->cfg.inherits, hint);
    else
        ERR_NODE(diags, f->doc.file, at,
                 "unknown parent policy '%s' (no %s.yaml among the loaded files)",
                 f->cfg.inherits, f->cfg.inherits);
}

static void link_parents(pl_policy_set *set, pl_diags *diags)
{
    for (size_t i = 0; i < set->nfiles; i++) {
        pl__file *f = set->files[i];
        if (!f->ok)
            continue;
        if (f->cfg.inherits != NULL) {
            f->parent = find_file(set, f->cfg.inherits);
            if (f->parent == NULL) {
                int exists = 0;
                for (size_t j = 0; j < set->nfiles; j++)
                    exists |= strcasecmp(set->files[j]->tag, f->cfg.inherits) == 0;
                if (exists)
                    ERR_NODE(diags, f->doc.file, pl_yaml_map_get(f->doc.root, "inherits"),
                             "parent policy '%s' has errors", f->cfg.inherits);
                else
                    report_unknown_parent(set, f, diags);
                f->ok = 0;
            }
        } else {
            f->parent = fallback_parent(set, f);
        }
    }
    /* Cycles: walk each chain; a chain longer than the set is a cycle. */
    for (size_t i = 0; i < set->nfiles; i++) {
        pl__file *f = set->files[i], *p = f;
        size_t steps = 0;
        char path[512] = "";
        size_t len = 0;
        if (!f->ok)
            continue;
        while (p != NULL && steps <= set->nfiles) {
            p = p->parent;
            steps++;
            if (p == f)
                break;
        }
        if (p != f)
            continue;
        p = f;
        do {
            int w = snprintf(path + len, sizeof(path) - len, "%s -> ", p->tag);
            if (w > 0 && (size_t)w < sizeof(path) - len)
                len += (size_t)w;
            p = p->parent;
        } while (p != f);
        snprintf(path + len, sizeof(path) - len, "%s", f->tag);
        ERR_NODE(diags, f->doc.file, pl_yaml_map_get(f->doc.root, "inherits"),
                 "inheritance cycle: %s", path);
    }
    for (size_t i = 0; i < set->nfiles; i++) {
        pl__file *f = set->files[i];
        size_t steps = 0;
        for (pl__file *p = f->parent; p != NULL && steps <= set->nfiles; p = p->parent)
            steps++;
        if (steps > set->nfiles || steps >= PL_POLICY_MAX_CHAIN)
            f->ok = 0;
    }
    /* A file whose ancestor has errors cannot be resolved either. */
    for (size_t i = 0; i < set->nfiles; i++) {
        pl__file *f = set->files[i];
        size_t steps = 0;
        for (pl__file *p = f->parent; p != NULL && f->ok && steps++ < set->nfiles;
             p = p->parent) {
            if (p->ok)
                continue;
            const pl_yaml_node *at = pl_yaml_map_get(f->doc.root, "inherits");
            ERR_NODE(diags, f->doc.file, at ? at : pl_yaml_map_get(f->doc.root, "locale"),
                     "cannot be used: policy '%s' in its chain has errors", p->tag);
            f->ok = 0;
        }
    }
}

/* ---- Merging a chain into one policy ---- */

typedef struct merge_list {
    const void **items;
    const char **ids;
    const pl__file **owner;
    size_t count;
} merge_list;

static void merge_put(merge_list *l, const char *id, const void *item, const pl__file *f)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->ids[i], id) == 0) {
            l->items[i] = item;
            l->owner[i] = f;
            return;
        }
    l->ids[l->count] = id;
    l->owner[l->count] = f;
    l->items[l->count++] = item;
}

static int merge_drop(merge_list *l, const char *id)
{
    for (size_t i = 0; i < l->count; i++)
        if (strcmp(l->ids[i], id) == 0) {
            memmove(&l->ids[i], &l->ids[i + 1], (l->count - i - 1) * sizeof(char *));
            memmove(&l->items[i], &l->items[i + 1], (l->count - i - 1) * sizeof(void *));
            memmove(&l->owner[i], &l->owner[i + 1], (l->count - i - 1) * sizeof(void *));
            l->count--;
            return 1;
        }
    return 0;
}

static int merge_init(pl_arena *a, merge_list *l, size_t cap)
{
    l->items = pl_arena_calloc(a, cap + 1, sizeof(void *));
    l->ids = pl_arena_calloc(a, cap + 1, sizeof(char *));
    l->owner = pl_arena_calloc(a, cap + 1, sizeof(void *));
    l->count = 0;
    return l->items && l->ids && l->owner ? 0 : PL_ENOMEM;
}

static const char *enum_value(const char *const *choices, int v)
{
    return v >= 0 ? choices[v] : NULL;
}

static int push_strings(pl_arena *a, const char ***v, size_t *n, size_t *cap,
                        const pl_cfg_strings *s)
{
    for (size_t i = 0; i < s->count; i++) {
        if (*n == *cap) {
            size_t nc = *cap ? *cap * 2 : 8;
            const char **nv = pl_arena_calloc(a, nc, sizeof(char *));
            if (nv == NULL)
                return PL_ENOMEM;
            if (*n)
                memcpy(nv, *v, *n * sizeof(char *));
            *v = nv;
            *cap = nc;
        }
        (*v)[(*n)++] = s->items[i];
    }
    return 0;
}

/* Warnings for rules that cannot fire: only for the policy's own rules. */
static int covers(int a, int b)
{
    return (a & b) == b;
}

static int pure_terms(const pl__rule *r)
{
    const pl__cond *c = &r->when;

    return r->has_when && c->nterms > 0 && c->nregex == 0 && !c->absolute_words &&
           !c->shouting && !c->punctuation_run && !c->repeated_complaints &&
           c->nany == 0 && c->nall == 0;
}

static int term_in(const pl__term *t, const pl__cond *c)
{
    for (size_t i = 0; i < c->nterms; i++)
        if (c->terms[i].len == t->len &&
            memcmp(c->terms[i].folded, t->folded, (size_t)t->len * sizeof(UChar)) == 0)
            return 1;
    return 0;
}

static void lint_rules(const pl_policy *p, const pl__file *f, pl_diags *diags)
{
    for (size_t i = 0; i < p->nrules; i++) {
        const pl__rule *r = p->rules[i];
        if (r->file != f->doc.file)
            continue;
        for (size_t j = 0; j < i; j++) {
            const pl__rule *e = p->rules[j];
            if (!e->stop || !covers(e->direction, r->direction))
                continue;
            if (!e->has_when) {
                WARN_AT(diags, r->file, r->line, r->column,
                        "rule '%s' is unreachable: rule '%s' (%s:%u) fires on "
                        "every message and stops evaluation",
                        r->id, e->id, e->file, e->line);
                break;
            }
            if (pure_terms(e) && pure_terms(r)) {
                size_t k = 0;
                while (k < r->when.nterms && term_in(&r->when.terms[k], &e->when))
                    k++;
                if (k == r->when.nterms) {
                    WARN_AT(diags, r->file, r->line, r->column,
                            "rule '%s' is shadowed by rule '%s' (%s:%u): every "
                            "term of it also fires '%s', which stops evaluation",
                            r->id, e->id, e->file, e->line, e->id);
                    break;
                }
            }
        }
    }
}

static int build_policy(pl_policy_set *set, pl__file *leaf, pl_policy *p, pl_diags *diags)
{
    pl_arena *a = &set->arena;
    pl__file *chain[PL_POLICY_MAX_CHAIN];
    size_t n = 0, nrules = 0, nfixes = 0, nprot = 0, nkeep = 0, nterms = 0;
    merge_list rules, fixes, prot;
    const char **instr = NULL, **absw = NULL;
    size_t ninstr = 0, capinstr = 0, nabs = 0, capabs = 0, nplur = 0;
    pl_policy_term *gloss;
    size_t ngloss = 0;
    int rc;

    for (pl__file *f = leaf; f != NULL && n < PL_POLICY_MAX_CHAIN; f = f->parent)
        chain[n++] = f;
    p->set = set;
    p->file = leaf;
    p->locale = leaf->tag;
    p->chain = pl_arena_calloc(a, n, sizeof(char *));
    if (p->chain == NULL)
        return PL_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        p->chain[i] = chain[i]->tag;
        nrules += chain[i]->nrules;
        nfixes += chain[i]->nfixes;
        nprot += chain[i]->nprotect;
        nkeep += chain[i]->cfg.glossary.keep.count;
        nterms += chain[i]->cfg.glossary.translate.count;
        nplur += chain[i]->cfg.format.plurals.count;
    }
    p->nchain = n;
    if (strcmp(leaf->tag, "default") == 0)
        snprintf(p->icu_locale, sizeof(p->icu_locale), "root");
    else
        pl__locale_check(leaf->tag, p->icu_locale, sizeof(p->icu_locale));
    if ((rc = merge_init(a, &rules, nrules)) || (rc = merge_init(a, &fixes, nfixes)) ||
        (rc = merge_init(a, &prot, nprot)))
        return rc;
    gloss = pl_arena_calloc(a, nkeep + nterms + 1, sizeof(*gloss));
    p->plurals = pl_arena_calloc(a, nplur + 1, sizeof(pl__plural));
    if (gloss == NULL || p->plurals == NULL)
        return PL_ENOMEM;
    p->calendar = p->numbers = p->date_style = -1;
    p->directives.formality = "neutral";
    /* Root first, so that each child overrides or extends its parent. */
    for (size_t k = n; k-- > 0;) {
        pl__file *f = chain[k];
        const pol_file *c = &f->cfg;
        pl_policy_directives *d = &p->directives;
        for (size_t i = 0; i < c->disable.count; i++) {
            int hit = merge_drop(&rules, c->disable.items[i]);
            hit |= merge_drop(&fixes, c->disable.items[i]);
            hit |= merge_drop(&prot, c->disable.items[i]);
            if (!hit && f == leaf) {
                const pl_yaml_node *dn = pl_yaml_map_get(f->doc.root, "disable");
                const pl_yaml_node *it = dn && dn->kind == PL_YAML_SEQ && i < dn->count
                                             ? dn->items[i] : dn;
                ERR_NODE(diags, f->doc.file, it,
                         "'disable' names '%s', which no parent policy defines",
                         c->disable.items[i]);
            }
        }
        for (size_t i = 0; i < f->nrules; i++)
            merge_put(&rules, f->rules[i].id, &f->rules[i], f);
        for (size_t i = 0; i < f->nfixes; i++)
            merge_put(&fixes, f->fixes[i].id, &f->fixes[i], f);
        for (size_t i = 0; i < f->nprotect; i++)
            merge_put(&prot, f->protect[i].id, &f->protect[i], f);
        if (c->reg.formality >= 0)
            d->formality = pl__formalities[c->reg.formality];
        if (c->reg.address >= 0)
            d->address = enum_value(pl__addresses, c->reg.address);
        if (c->reg.honorific_self >= 0)
            d->honorific_self = enum_value(pl__honorifics, c->reg.honorific_self);
        if (c->reg.honorific_customer >= 0)
            d->honorific_customer = enum_value(pl__honorifics, c->reg.honorific_customer);
        if (c->reg.speech_level >= 0)
            d->speech_level = enum_value(pl__speech_levels, c->reg.speech_level);
        if (c->dialect.variety)
            d->variety = c->dialect.variety;
        if (c->dialect.description)
            d->dialect = c->dialect.description;
        if ((rc = push_strings(a, &instr, &ninstr, &capinstr, &c->reg.instructions)) ||
            (rc = push_strings(a, &absw, &nabs, &capabs, &c->signals.absolute_words)))
            return rc;
        for (size_t i = 0; i < c->glossary.keep.count; i++) {
            size_t j = 0;
            while (j < ngloss && strcmp(gloss[j].source, c->glossary.keep.items[i]) != 0)
                j++;
            gloss[j].source = c->glossary.keep.items[i];
            gloss[j].target = NULL;
            if (j == ngloss)
                ngloss++;
        }
        for (size_t i = 0; i < c->glossary.translate.count; i++) {
            size_t j = 0;
            while (j < ngloss && strcmp(gloss[j].source, c->glossary.translate.keys[i]) != 0)
                j++;
            gloss[j].source = c->glossary.translate.keys[i];
            gloss[j].target = ((const char **)c->glossary.translate.values)[i];
            if (j == ngloss)
                ngloss++;
        }
        if (c->signals.caps_percent)
            p->caps_percent = (int)c->signals.caps_percent;
        if (c->signals.min_letters)
            p->min_letters = (int)c->signals.min_letters;
        if (c->signals.punctuation_run)
            p->punctuation_run = (int)c->signals.punctuation_run;
        if (c->format.calendar >= 0)
            p->calendar = c->format.calendar;
        if (c->format.numbers >= 0)
            p->numbers = c->format.numbers;
        if (c->format.date >= 0)
            p->date_style = c->format.date;
        if (c->format.currency)
            p->currency = c->format.currency;
        for (size_t i = 0; i < c->format.plurals.count; i++) {
            size_t j = 0;
            while (j < p->nplurals && strcmp(p->plurals[j].name, c->format.plurals.keys[i]) != 0)
                j++;
            p->plurals[j].name = c->format.plurals.keys[i];
            p->plurals[j].forms = (const pol_plural *)c->format.plurals.values + i;
            if (j == p->nplurals)
                p->nplurals++;
        }
    }
    if (!p->caps_percent)
        p->caps_percent = DEFAULT_CAPS_PERCENT;
    if (!p->min_letters)
        p->min_letters = DEFAULT_MIN_LETTERS;
    if (!p->punctuation_run)
        p->punctuation_run = DEFAULT_PUNCTUATION_RUN;
    p->directives.locale = leaf->tag;
    p->directives.instructions = instr;
    p->directives.ninstructions = ninstr;
    p->directives.glossary = gloss;
    p->directives.nglossary = ngloss;
    p->rules = (const pl__rule **)rules.items;
    p->nrules = rules.count;
    p->fixes = (const pl__fix **)fixes.items;
    p->nfixes = fixes.count;
    p->protect = (const pl__protect **)prot.items;
    p->nprotect = prot.count;
    p->absolute = pl_arena_calloc(a, nabs + 1, sizeof(pl__term));
    if (p->absolute == NULL)
        return PL_ENOMEM;
    for (size_t i = 0; i < nabs; i++) {
        pl__term *t = &p->absolute[p->nabsolute];
        t->text = absw[i];
        if ((rc = pl__fold_term(a, t->text, &t->folded, &t->len)) != 0)
            return rc;
        if (t->len > 0)
            p->nabsolute++;
    }
    {
        /* The formatting locale: ar_SA@calendar=islamic-umalqura;numbers=arab */
        char loc[sizeof(p->fmt_locale)];
        UErrorCode st = U_ZERO_ERROR;
        snprintf(loc, sizeof(loc), "%s", strcmp(p->icu_locale, "root") ? p->icu_locale : "en");
        if (p->calendar >= 0)
            uloc_setKeywordValue("calendar", pl__calendars[p->calendar], loc,
                                 (int32_t)sizeof(loc), &st);
        if (p->numbers >= 0 && U_SUCCESS(st))
            uloc_setKeywordValue("numbers", pl__numbering[p->numbers], loc,
                                 (int32_t)sizeof(loc), &st);
        if (U_FAILURE(st))
            return PL_EICU;
        memcpy(p->fmt_locale, loc, sizeof(loc));
    }
    if ((rc = pl__brk_open(set, p)) != 0)
        return rc;
    lint_rules(p, leaf, diags);
    return 0;
}

static int cmp_policy(const void *a, const void *b)
{
    const pl_policy *x = a, *y = b;

    return strcmp(x->locale, y->locale);
}

/* ---- Public entry points ---- */

static int is_policy_name(const char *name)
{
    size_t n = strlen(name);

    if (name[0] == '.')
        return 0;
    return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) ||
           (n > 4 && strcmp(name + n - 4, ".yml") == 0);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int pl_policy_load_files(const char *const *paths, size_t count,
                         pl_diags *diags, pl_policy_set **out)
{
    pl_policy_set *set = calloc(1, sizeof(*set));
    size_t before = diags->errors, ok = 0;
    int rc = 0;

    *out = NULL;
    if (set == NULL)
        return PL_ENOMEM;
    pl_arena_init(&set->arena, 0);
    set->files = pl_arena_calloc(&set->arena, count + 1, sizeof(pl__file *));
    if (set->files == NULL) {
        rc = PL_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < count; i++) {
        rc = load_file(set, paths[i], diags, &set->files[set->nfiles]);
        if (set->files[set->nfiles] != NULL)
            set->nfiles++;
        if (rc == PL_ENOMEM)
            goto fail;
        if (rc != 0 && diags->errors == before)
            pl_diags_add(diags, PL_DIAG_ERROR, paths[i], 0, 0, "cannot read: %s",
                         pl_strerror(rc));
        rc = 0;
    }
    for (size_t i = 0; i < set->nfiles; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(set->files[i]->tag, set->files[j]->tag) == 0) {
                pl_diags_add(diags, PL_DIAG_ERROR, set->files[i]->path, 0, 0,
                             "a second policy for '%s' (also %s)",
                             set->files[i]->tag, set->files[j]->path);
                set->files[i]->ok = 0;
            }
    link_parents(set, diags);
    set->policies = pl_arena_calloc(&set->arena, set->nfiles + 1, sizeof(pl_policy));
    if (set->policies == NULL) {
        rc = PL_ENOMEM;
        goto fail;
    }
    for (size_t i = 0; i < set->nfiles; i++) {
        if (!set->files[i]->ok)
            continue;
        rc = build_policy(set, set->files[i], &set->policies[ok], diags);
        if (rc != 0)
            goto fail;
        ok++;
    }
    set->count = ok;
    qsort(set->policies, set->count, sizeof(pl_policy), cmp_policy);
    if (diags->errors != before) {
        rc = PL_EPOLICY;
        goto fail;
    }
    *out = set;
    return 0;

fail:
    pl_policy_set_free(set);
    return rc;
}

int pl_policy_load_dir(const char *dir, pl_diags *diags, pl_policy_set **out)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **paths = NULL;
    size_t n = 0, cap = 0;
    int rc;

    *out = NULL;
    if (d == NULL) {
        rc = errno == ENOENT ? PL_ENOENT : PL_EIO;
        pl_diags_add(diags, PL_DIAG_ERROR, dir, 0, 0, "cannot open the policies folder: %s",
                     strerror(errno));
        return rc;
    }
    while ((e = readdir(d)) != NULL) {
        if (!is_policy_name(e->d_name))
            continue;
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 32;
            char **v = realloc(paths, nc * sizeof(*v));
            if (v == NULL)
                goto nomem;
            paths = v;
            cap = nc;
        }
        if (asprintf(&paths[n], "%s/%s", dir, e->d_name) < 0)
            goto nomem;
        n++;
    }
    closedir(d);
    d = NULL;
    if (n > 1)
        qsort(paths, n, sizeof(*paths), cmp_str);
    rc = pl_policy_load_files((const char *const *)paths, n, diags, out);
    goto done;
nomem:
    rc = PL_ENOMEM;
done:
    if (d != NULL)
        closedir(d);
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
    return rc;
}

const char *pl_policy_configured_dir(const pl_config *cfg, char *buf, size_t size)
{
    const char *dir = cfg->policies.dir ? cfg->policies.dir : "policies";
    const char *slash = cfg->file ? strrchr(cfg->file, '/') : NULL;

    if (dir[0] == '/' || slash == NULL)
        snprintf(buf, size, "%s", dir);
    else
        snprintf(buf, size, "%.*s/%s", (int)(slash - cfg->file), cfg->file, dir);
    return buf;
}

int pl_policy_load_configured(const pl_config *cfg, pl_diags *diags, pl_policy_set **out)
{
    char dir[1024];
    DIR *d;

    pl_policy_configured_dir(cfg, dir, sizeof(dir));
    d = opendir(dir);
    if (d == NULL && errno == ENOENT) {
        pl_policy_set *set = calloc(1, sizeof(*set));
        *out = set;
        if (set == NULL)
            return PL_ENOMEM;
        pl_arena_init(&set->arena, 0);
        pl_diags_add(diags, PL_DIAG_WARNING, dir, 0, 0,
                     "no policies folder; running without locale policies");
        return 0;
    }
    if (d != NULL)
        closedir(d);
    return pl_policy_load_dir(dir, diags, out);
}

void pl_policy_set_free(pl_policy_set *set)
{
    if (set == NULL)
        return;
    for (size_t i = 0; i < set->nregexes; i++)
        regex_free(set->regexes[i]);
    for (size_t i = 0; set->policies != NULL && i < set->nfiles; i++)
        pl__brk_free(set->policies[i].brk);
    free(set->regexes);
    for (size_t i = 0; i < set->nfiles; i++)
        pl_yaml_doc_free(&set->files[i]->doc);
    pl_arena_free(&set->arena);
    free(set);
}

size_t pl_policy_set_count(const pl_policy_set *set)
{
    return set ? set->count : 0;
}

const pl_policy *pl_policy_set_at(const pl_policy_set *set, size_t i)
{
    return set && i < set->count ? &set->policies[i] : NULL;
}

static const pl_policy *find_icu(const pl_policy_set *set, const char *icu)
{
    for (size_t i = 0; i < set->count; i++)
        if (strcasecmp(set->policies[i].icu_locale, icu) == 0)
            return &set->policies[i];
    return NULL;
}

const pl_policy *pl_policy_resolve(const pl_policy_set *set, const char *locale)
{
    char tag[PL_POLICY_MAX_LOCALE], cur[PL_POLICY_MAX_LOCALE], parent[PL_POLICY_MAX_LOCALE];
    const pl_policy *p;

    if (set == NULL || set->count == 0)
        return NULL;
    if (locale != NULL && strlen(locale) < sizeof(tag) && strcasecmp(locale, "default") != 0) {
        snprintf(tag, sizeof(tag), "%s", locale);
        for (char *c = tag; *c; c++)
            if (*c == '_')
                *c = '-';
        if (pl__locale_check(tag, cur, sizeof(cur)) == 0) {
            for (;;) {
                if ((p = find_icu(set, cur)) != NULL)
                    return p;
                /* Aliases: es-MX served by es-419. */
                for (size_t i = 0; i < set->count; i++) {
                    const pl_cfg_strings *al = &set->policies[i].file->cfg.aliases;
                    for (size_t j = 0; j < al->count; j++) {
                        char icu[PL_POLICY_MAX_LOCALE];
                        if (pl__locale_check(al->items[j], icu, sizeof(icu)) == 0 &&
                            strcasecmp(icu, cur) == 0)
                            return &set->policies[i];
                    }
                }
                UErrorCode st = U_ZERO_ERROR;
                uloc_getParent(cur, parent, (int32_t)sizeof(parent), &st);
                if (U_FAILURE(st) || parent[0] == '\0' || strcmp(parent, "root") == 0)
                    break;
                memcpy(cur, parent, sizeof(cur));
            }
        }
    }
    return find_icu(set, "root");
}

const char *pl_policy_locale(const pl_policy *p)
{
    return p->locale;
}

size_t pl_policy_chain(const pl_policy *p, const char *const **names)
{
    *names = p->chain;
    return p->nchain;
}

const pl_policy_directives *pl_policy_directives_get(const pl_policy *p)
{
    return &p->directives;
}
