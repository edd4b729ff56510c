/*
 * `parley policy lint|test|explain`: the tools for policy editors. lint
 * validates files and prints every problem with its position (text or
 * JSON); test runs the case files in policies/tests/; explain shows the
 * chain, the rules that fire for one message and what the translator gets.
 */
#include "cli.h"

#include "parley/error.h"
#include "parley/policy.h"

#include <dirent.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEFAULT_POLICIES "policies"

static int policy_run(int argc, char **argv);

const pl_cli_command pl_cli_cmd_policy = {
    .name = "policy",
    .summary = "lint, test and explain locale policies",
    .usage = "parley policy lint [--format text|json] [PATH...]\n"
             "       parley policy test [--policies DIR] [PATH...]\n"
             "       parley policy explain --locale TAG [--direction in|out]\n"
             "                             [--complaints N] [--policies DIR] TEXT...",
    .help = "Subcommands:\n"
            "  lint     validate policy files (a folder means every .yaml in it;\n"
            "           default: ./" DEFAULT_POLICIES "); print every problem as\n"
            "           FILE:LINE:COL: error|warning: message. Exit status 2 when\n"
            "           there are errors, 0 otherwise (warnings included)\n"
            "  test     run the test cases in DIR/tests/*.yaml (PATH may also be\n"
            "           one case file); print PASS or FAIL with a diff per case.\n"
            "           Exit status 1 when a case fails, 2 on invalid files\n"
            "  explain  show the resolved chain for TAG, which rules fire for\n"
            "           TEXT and why (byte spans), the text after fixes and the\n"
            "           directives the translator gets. TEXT '-' reads stdin\n\n"
            "Options:\n"
            "  --format text|json  lint output (json: one object with every\n"
            "                      diagnostic)\n"
            "  --policies DIR      the policies folder (default: ./" DEFAULT_POLICIES
            ";\n"
            "                      for test: PATH itself, or the folder above a\n"
            "                      case file's folder)\n"
            "  -l, --locale TAG    the customer's locale (BCP 47)\n"
            "  -d, --direction D   in (customer text, default) or out (a reply)\n"
            "  --complaints N      complaints earlier in the conversation\n"
            "  -h, --help          show this help\n",
    .run = policy_run,
};

/* ---- Collecting files ---- */

typedef struct paths {
    char **items;
    size_t count, cap;
} paths;

static int paths_add(paths *p, char *s)
{
    if (s == NULL)
        return PL_ENOMEM;
    if (p->count == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 32;
        char **v = realloc(p->items, cap * sizeof(*v));
        if (v == NULL) {
            free(s);
            return PL_ENOMEM;
        }
        p->items = v;
        p->cap = cap;
    }
    p->items[p->count++] = s;
    return 0;
}

static void paths_free(paths *p)
{
    for (size_t i = 0; i < p->count; i++)
        free(p->items[i]);
    free(p->items);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_yaml(const char *name)
{
    size_t n = strlen(name);

    return name[0] != '.' && ((n > 5 && !strcmp(name + n - 5, ".yaml")) ||
                              (n > 4 && !strcmp(name + n - 4, ".yml")));
}

/* Adds `path` (a file) or the .yaml files directly in it (a folder). */
static int add_path(paths *p, const char *path)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    size_t first = p->count;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "%s: cannot read: no such file or folder\n", path);
        return PL_ENOENT;
    }
    if (!S_ISDIR(st.st_mode))
        return paths_add(p, strdup(path));
    d = opendir(path);
    if (d == NULL) {
        fprintf(stderr, "%s: cannot read the folder\n", path);
        return PL_EIO;
    }
    while ((e = readdir(d)) != NULL) {
        char *s;
        if (!is_yaml(e->d_name))
            continue;
        if (asprintf(&s, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/",
                     e->d_name) < 0 || paths_add(p, s) != 0) {
            closedir(d);
            return PL_ENOMEM;
        }
    }
    closedir(d);
    qsort(p->items + first, p->count - first, sizeof(char *), cmp_str);
    return 0;
}

/* ---- JSON output ---- */

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
        if (*c == '"' || *c == '\\')
            fprintf(out, "\\%c", *c);
        else if (*c == '\n')
            fputs("\\n", out);
        else if (*c == '\t')
            fputs("\\t", out);
        else if (*c < 0x20)
            fprintf(out, "\\u%04x", *c);
        else
            fputc(*c, out);
    }
    fputc('"', out);
}

static void print_json(const pl_diags *d, size_t files)
{
    printf("{\"files\":%zu,\"errors\":%zu,\"warnings\":%zu,\"diagnostics\":[", files,
           d->errors, d->warnings);
    for (size_t i = 0; i < d->count; i++) {
        const pl_diag *x = &d->items[i];
        printf("%s{\"file\":", i ? "," : "");
        json_string(stdout, x->file);
        printf(",\"line\":%u,\"column\":%u,\"severity\":\"%s\",\"message\":", x->line,
               x->column, x->severity == PL_DIAG_ERROR ? "error" : "warning");
        json_string(stdout, x->message);
        printf("}");
    }
    printf("]}\n");
}

static char *parent_dir(const char *path, int levels);

static int same_file(const char *a, const char *b)
{
    struct stat x, y;

    return stat(a, &x) == 0 && stat(b, &y) == 0 && x.st_dev == y.st_dev &&
           x.st_ino == y.st_ino;
}

/* Drops the diagnostics of files that were only loaded as context. */
static void keep_named(pl_diags *d, const paths *files, size_t named)
{
    pl_diags kept;

    pl_diags_init(&kept);
    for (size_t i = 0; i < d->count; i++) {
        const pl_diag *x = &d->items[i];
        int keep = x->file == NULL;
        for (size_t k = 0; k < named && !keep; k++)
            keep = strcmp(files->items[k], x->file) == 0;
        if (keep)
            pl_diags_add(&kept, x->severity, x->file, x->line, x->column, "%s",
                         x->message);
    }
    pl_diags_free(d);
    *d = kept;
}

/* ---- lint ---- */

static int policy_lint(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int json = 0, c, rc = PL_EXIT_OK;
    paths files = {0};
    size_t total = 0;
    pl_diags diags;
    pl_policy_set *set = NULL;

    while ((c = getopt_long(argc, argv, ":f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            if (strcmp(optarg, "json") != 0 && strcmp(optarg, "text") != 0)
                return pl__cli_usage_error(&pl_cli_cmd_policy,
                                           "--format must be text or json, got '%s'",
                                           optarg);
            json = strcmp(optarg, "json") == 0;
            break;
        case 'h':
            pl__cli_print_help(&pl_cli_cmd_policy, stdout);
            return PL_EXIT_OK;
        default:
            return pl__cli_bad_option(&pl_cli_cmd_policy, c, argv);
        }
    }
    if (optind == argc) {
        if (add_path(&files, DEFAULT_POLICIES) != 0)
            rc = PL_EXIT_USAGE;
    }
    for (int i = optind; i < argc; i++)
        if (add_path(&files, argv[i]) != 0)
            rc = PL_EXIT_USAGE;
    if (rc != PL_EXIT_OK) {
        paths_free(&files);
        return rc;
    }
    /*
     * A file named alone is checked with the other policies of its folder,
     * so that its parents resolve; only the named files' problems count.
     */
    {
        size_t named = files.count;
        for (size_t i = 0; i < named && rc == PL_EXIT_OK; i++) {
            paths siblings = {0};
            char *dir = parent_dir(files.items[i], 1);
            if (dir == NULL || add_path(&siblings, dir) != 0)
                rc = PL_EXIT_FAILURE;
            for (size_t j = 0; j < siblings.count && rc == PL_EXIT_OK; j++) {
                int dup = 0;
                for (size_t k = 0; k < files.count && !dup; k++)
                    dup = same_file(files.items[k], siblings.items[j]);
                if (!dup && paths_add(&files, strdup(siblings.items[j])) != 0)
                    rc = PL_EXIT_FAILURE;
            }
            paths_free(&siblings);
            free(dir);
        }
        if (rc != PL_EXIT_OK) {
            paths_free(&files);
            return rc;
        }
        pl_diags_init(&diags);
        pl_policy_load_files((const char *const *)files.items, files.count, &diags, &set);
        if (named < files.count)
            keep_named(&diags, &files, named);
        total = files.count;
        files.count = named;
    }
    pl_diags_sort(&diags);
    if (json) {
        print_json(&diags, files.count);
    } else {
        pl_diags_print(&diags, stderr, 1);
        if (diags.errors == 0)
            printf("%zu polic%s OK%s\n", files.count, files.count == 1 ? "y" : "ies",
                   diags.warnings ? " (with warnings)" : "");
        else
            fprintf(stderr, "%zu error(s), %zu warning(s)\n", diags.errors,
                    diags.warnings);
    }
    rc = diags.errors ? PL_EXIT_USAGE : PL_EXIT_OK;
    pl_policy_set_free(set);
    pl_diags_free(&diags);
    files.count = total;
    paths_free(&files);
    return rc;
}

/* ---- test ---- */

static char *parent_dir(const char *path, int levels)
{
    char *s = strdup(path);

    for (int i = 0; s != NULL && i < levels; i++) {
        char *slash = strrchr(s, '/');
        if (slash == NULL) {
            free(s);
            return strdup(i == 0 ? "." : "..");
        }
        if (slash == s)
            slash[1] = '\0';
        else
            *slash = '\0';
    }
    return s;
}

static pl_policy_set *load_policies(const char *dir)
{
    pl_diags diags;
    pl_policy_set *set = NULL;

    pl_diags_init(&diags);
    pl_policy_load_dir(dir, &diags, &set);
    pl_diags_sort(&diags);
    if (set == NULL || diags.warnings)
        pl_diags_print(&diags, stderr, 1);
    pl_diags_free(&diags);
    return set;
}

static int test_one(const char *policies, paths *cases, unsigned *passed,
                    unsigned *failed)
{
    pl_policy_set *set = load_policies(policies);
    pl_diags diags;
    int bad = 0;

    if (set == NULL)
        return PL_EXIT_USAGE;
    pl_diags_init(&diags);
    for (size_t i = 0; i < cases->count; i++)
        if (pl_policy_run_cases(set, cases->items[i], stdout, &diags, passed, failed) != 0)
            bad = 1;
    pl_diags_sort(&diags);
    pl_diags_print(&diags, stderr, 1);
    bad |= diags.errors > 0;
    pl_diags_free(&diags);
    pl_policy_set_free(set);
    return bad ? PL_EXIT_USAGE : PL_EXIT_OK;
}

static int policy_test(int argc, char **argv)
{
    static const struct option opts[] = {
        {"policies", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *policies = NULL;
    unsigned passed = 0, failed = 0;
    int c, rc = PL_EXIT_OK;

    while ((c = getopt_long(argc, argv, ":p:h", opts, NULL)) != -1) {
        switch (c) {
        case 'p':
            policies = optarg;
            break;
        case 'h':
            pl__cli_print_help(&pl_cli_cmd_policy, stdout);
            return PL_EXIT_OK;
        default:
            return pl__cli_bad_option(&pl_cli_cmd_policy, c, argv);
        }
    }
    for (int i = optind; i <= argc && rc == PL_EXIT_OK; i++) {
        const char *path = i < argc ? argv[i] : DEFAULT_POLICIES;
        paths cases = {0};
        struct stat st;
        char *dir = NULL;
        int r;
        if (i == argc && optind < argc)
            break;
        if (stat(path, &st) != 0) {
            fprintf(stderr, "%s: cannot read: no such file or folder\n", path);
            return PL_EXIT_USAGE;
        }
        if (S_ISDIR(st.st_mode)) {
            char *tests;
            dir = strdup(policies ? policies : path);
            if (asprintf(&tests, "%s/tests", path) < 0) {
                free(dir);
                return PL_EXIT_FAILURE;
            }
            r = stat(tests, &st) == 0 ? add_path(&cases, tests) : 0;
            if (cases.count == 0 && r == 0)
                fprintf(stderr, "%s: no test cases\n", tests);
            free(tests);
        } else {
            dir = policies ? strdup(policies) : parent_dir(path, 2);
            r = add_path(&cases, path);
        }
        if (r != 0 || dir == NULL)
            rc = PL_EXIT_USAGE;
        else
            rc = test_one(dir, &cases, &passed, &failed);
        free(dir);
        paths_free(&cases);
    }
    printf("%u passed, %u failed\n", passed, failed);
    if (rc != PL_EXIT_OK)
        return rc;
    return failed ? PL_EXIT_FAILURE : PL_EXIT_OK;
}

/* ---- explain ---- */

static void print_spans(const char *text, const pl_policy_span *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        printf("%s\"%.*s\" [%zu,%zu)", i ? ", " : "", (int)(s[i].end - s[i].start),
               text + s[i].start, s[i].start, s[i].end);
}

static void print_directives(const pl_policy_directives *d)
{
    printf("directives for the translator:\n");
    printf("  formality: %s\n", d->formality ? d->formality : "neutral");
    if (d->address)
        printf("  address: %s\n", d->address);
    if (d->honorific_self)
        printf("  honorific_self: %s\n", d->honorific_self);
    if (d->honorific_customer)
        printf("  honorific_customer: %s\n", d->honorific_customer);
    if (d->speech_level)
        printf("  speech_level: %s\n", d->speech_level);
    if (d->variety)
        printf("  variety: %s\n", d->variety);
    if (d->dialect)
        printf("  dialect: %s\n", d->dialect);
    if (d->nglossary) {
        printf("  glossary:\n");
        for (size_t i = 0; i < d->nglossary; i++) {
            if (d->glossary[i].target)
                printf("    \"%s\" -> \"%s\"\n", d->glossary[i].source, d->glossary[i].target);
            else
                printf("    \"%s\" (keep as is)\n", d->glossary[i].source);
        }
    }
    if (d->ninstructions) {
        printf("  instructions:\n");
        for (size_t i = 0; i < d->ninstructions; i++)
            printf("    - %s\n", d->instructions[i]);
    }
}

static char *read_stdin(void)
{
    size_t len = 0, cap = 4096;
    char *s = malloc(cap);

    while (s != NULL) {
        size_t n = fread(s + len, 1, cap - len - 1, stdin);
        len += n;
        if (n == 0)
            break;
        if (cap - len < 2) {
            char *t = realloc(s, cap * 2);
            if (t == NULL) {
                free(s);
                return NULL;
            }
            s = t;
            cap *= 2;
        }
    }
    if (s != NULL) {
        while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r'))
            len--;
        s[len] = '\0';
    }
    return s;
}

static int explain_print(const pl_policy *p, const char *asked, const pl_policy_input *in)
{
    const char *const *chain;
    size_t n = pl_policy_chain(p, &chain);
    pl_arena a;
    pl_policy_result *r;
    int rc;

    printf("locale: %s (policy %s)\nchain: ", asked, pl_policy_locale(p));
    for (size_t i = 0; i < n; i++)
        printf("%s%s", i ? " -> " : "", chain[i]);
    printf("\ndirection: %s\n", in->direction == PL_POLICY_OUT ? "out" : "in");
    pl_arena_init(&a, 64u << 20);
    rc = pl_policy_evaluate(p, in, &a, &r);
    if (rc != 0) {
        fprintf(stderr, "parley policy explain: %s\n", pl_strerror(rc));
        pl_arena_free(&a);
        return PL_EXIT_FAILURE;
    }
    if (r->nprotected) {
        printf("protected: ");
        print_spans(r->text, r->protected_spans, r->nprotected);
        printf("\n");
    }
    for (size_t i = 0; i < r->nflags; i++)
        printf("fix %s: %s [%zu,%zu)%s%s\n", r->flags[i].fix_id,
               r->flags[i].fixed ? "replaced" : "flagged", r->flags[i].span.start,
               r->flags[i].span.end, r->flags[i].message ? ": " : "",
               r->flags[i].message ? r->flags[i].message : "");
    if (r->nhits == 0)
        printf("rules fired: none\n");
    else
        printf("rules fired:\n");
    for (size_t i = 0; i < r->nhits; i++) {
        const pl_policy_hit *h = &r->hits[i];
        printf("  %s (%s:%u)\n    why: %s\n", h->rule_id, h->file, h->line, h->why);
        for (size_t j = 0; j < r->nactions; j++) {
            const pl_policy_action *x = &r->actions[j];
            if (x->rule_id != h->rule_id)
                continue;
            printf("    %s", pl_policy_action_name(x->type));
            if (x->priority)
                printf(" priority=%s", x->priority);
            if (x->channel)
                printf(" channel=%s", x->channel);
            if (x->reason)
                printf(" reason=\"%s\"", x->reason);
            if (x->message)
                printf(" message=\"%s\"", x->message);
            if (x->value)
                printf(" \"%s\"", x->value);
            printf("\n");
        }
    }
    if (r->blocked)
        printf("blocked: the message is not forwarded\n");
    printf("text: %.*s\n", (int)r->text_len, r->text);
    print_directives(&r->directives);
    {
        /* Samples of the policy's formats, for editors to check at a glance. */
        const char *num = NULL, *cur = NULL, *date = NULL;
        pl_policy_format_number(p, 1234567.89, &a, &num);
        pl_policy_format_currency(p, 1234.5, NULL, &a, &cur);
        pl_policy_format_date(p, 1700000000000.0, &a, &date); /* 2023-11-14 */
        printf("formats:\n  number 1234567.89: %s\n", num ? num : "(error)");
        if (cur)
            printf("  currency 1234.50: %s\n", cur);
        printf("  date 2023-11-14: %s\n", date ? date : "(error)");
    }
    pl_arena_free(&a);
    return PL_EXIT_OK;
}

static int policy_explain(int argc, char **argv)
{
    static const struct option opts[] = {
        {"locale", required_argument, NULL, 'l'},
        {"direction", required_argument, NULL, 'd'},
        {"complaints", required_argument, NULL, 'c'},
        {"policies", required_argument, NULL, 'p'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *locale = NULL, *dir = DEFAULT_POLICIES;
    pl_policy_input in = {.direction = PL_POLICY_IN, .explain = 1};
    pl_policy_set *set;
    const pl_policy *p;
    char *text = NULL;
    int c, rc;

    while ((c = getopt_long(argc, argv, ":l:d:c:p:h", opts, NULL)) != -1) {
        switch (c) {
        case 'l':
            locale = optarg;
            break;
        case 'd':
            if (strcmp(optarg, "in") == 0)
                in.direction = PL_POLICY_IN;
            else if (strcmp(optarg, "out") == 0)
                in.direction = PL_POLICY_OUT;
            else
                return pl__cli_usage_error(&pl_cli_cmd_policy,
                                           "--direction must be in or out, got '%s'",
                                           optarg);
            break;
        case 'c': {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*end != '\0' || v < 0 || v > 1000000)
                return pl__cli_usage_error(&pl_cli_cmd_policy,
                                           "--complaints must be a number, got '%s'",
                                           optarg);
            in.prior_complaints = (unsigned)v;
            break;
        }
        case 'p':
            dir = optarg;
            break;
        case 'h':
            pl__cli_print_help(&pl_cli_cmd_policy, stdout);
            return PL_EXIT_OK;
        default:
            return pl__cli_bad_option(&pl_cli_cmd_policy, c, argv);
        }
    }
    if (locale == NULL)
        return pl__cli_usage_error(&pl_cli_cmd_policy, "explain needs --locale TAG");
    if (optind == argc)
        return pl__cli_usage_error(&pl_cli_cmd_policy, "explain needs the TEXT to explain");
    if (optind + 1 == argc && strcmp(argv[optind], "-") == 0) {
        text = read_stdin();
    } else {
        size_t len = 0;
        for (int i = optind; i < argc; i++)
            len += strlen(argv[i]) + 1;
        text = malloc(len + 1);
        if (text != NULL) {
            text[0] = '\0';
            for (int i = optind; i < argc; i++) {
                if (i > optind)
                    strcat(text, " ");
                strcat(text, argv[i]);
            }
        }
    }
    if (text == NULL)
        return PL_EXIT_FAILURE;
    set = load_policies(dir);
    if (set == NULL) {
        free(text);
        return PL_EXIT_USAGE;
    }
    p = pl_policy_resolve(set, locale);
    if (p == NULL) {
        fprintf(stderr, "parley policy explain: no policy serves '%s' (and no default.yaml)\n",
                locale);
        rc = PL_EXIT_USAGE;
    } else {
        in.text = text;
        in.len = strlen(text);
        rc = explain_print(p, locale, &in);
    }
    pl_policy_set_free(set);
    free(text);
    return rc;
}

static int policy_run(int argc, char **argv)
{
    if (argc < 2)
        return pl__cli_usage_error(&pl_cli_cmd_policy, "missing subcommand");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        pl__cli_print_help(&pl_cli_cmd_policy, stdout);
        return PL_EXIT_OK;
    }
    if (strcmp(argv[1], "lint") == 0)
        return policy_lint(argc - 1, argv + 1);
    if (strcmp(argv[1], "test") == 0)
        return policy_test(argc - 1, argv + 1);
    if (strcmp(argv[1], "explain") == 0)
        return policy_explain(argc - 1, argv + 1);
    return pl__cli_usage_error(&pl_cli_cmd_policy, "unknown subcommand '%s'", argv[1]);
}
