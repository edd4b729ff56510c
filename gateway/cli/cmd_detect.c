/*
 * `parley detect` (language and variety of each message) and
 * `parley normalize` (the inbound text pipeline), on TEXT or on one
 * message per line of standard input.
 */
#include "cli.h"

#include "parley/detect.h"
#include "parley/text.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_HINTS 32

static int detect_run(int argc, char **argv);
static int normalize_run(int argc, char **argv);

const pl_cli_command pl_cli_cmd_detect = {
    .name = "detect",
    .summary = "identify the language and variety of messages",
    .usage = "parley detect [--json] [--hint LOCALE]... [--only LANGS] [--model DIR] [TEXT...]",
    .help = "Identifies TEXT, or each line of standard input, and prints one\n"
            "result per message: LANGUAGE VARIETY CONFIDENCE, or with --json\n"
            "{\"language\":..,\"variety\":..,\"script\":..,\"confidence\":..,\"alternatives\":[..]}.\n\n"
            "Options:\n"
            "  --json                  one JSON object per line\n"
            "  --hint LOCALE           a likely locale (\"es-MX\"); may be repeated\n"
            "  --accept-language V     an HTTP Accept-Language value\n"
            "  --region CC             the storefront's region (\"MX\")\n"
            "  --previous LOCALE       the language detected earlier in the conversation\n"
            "  --only LANGS            answer only one of these languages (\"en,es,pt\");\n"
            "                          a message in none of them is \"und\"\n"
            "  --model DIR             folder with langid.bin and varieties/\n"
            "                          (default: $PARLEY_LOCALES_DIR, else the built-in one)\n"
            "  -h, --help              show this help\n",
    .run = detect_run,
};

const pl_cli_command pl_cli_cmd_normalize = {
    .name = "normalize",
    .summary = "clean and normalize text as the gateway does on the way in",
    .usage = "parley normalize [--form nfc|nfkc] [--casefold] [--keep-controls] [TEXT...]",
    .help = "Validates TEXT, or each line of standard input, removes bidi and\n"
            "invisible controls, folds white space and normalizes; prints one\n"
            "line per message. Bad UTF-8 is reported with its byte offset.\n\n"
            "Options:\n"
            "  --form nfc|nfkc   normalization form (default nfc)\n"
            "  --casefold        apply full Unicode case folding\n"
            "  --keep-controls   do not remove control and format characters\n"
            "  -h, --help        show this help\n",
    .run = normalize_run,
};

/* Joins argv[first..argc) with single spaces; NULL when there is none. */
static char *join_args(int first, int argc, char **argv)
{
    size_t len = 0;
    if (first >= argc)
        return NULL;
    for (int i = first; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *s = malloc(len);
    if (s == NULL)
        return NULL;
    s[0] = '\0';
    for (int i = first; i < argc; i++) {
        if (i > first)
            strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

typedef int (*line_fn)(const char *s, size_t len, unsigned lineno, void *ctx);

/* Calls fn for TEXT or for each line of stdin; returns the worst exit code. */
static int for_each_message(int first, int argc, char **argv, line_fn fn, void *ctx)
{
    int status = PL_EXIT_OK;
    if (first < argc) {
        char *s = join_args(first, argc, argv);
        if (s == NULL) {
            fprintf(stderr, "parley: out of memory\n");
            return PL_EXIT_FAILURE;
        }
        status = fn(s, strlen(s), 0, ctx);
        free(s);
        return status;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned lineno = 0;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (fn(line, (size_t)n, lineno, ctx) != PL_EXIT_OK)
            status = PL_EXIT_FAILURE;
    }
    free(line);
    fflush(stdout);
    return status;
}

static void report_error(unsigned lineno, const pl_error *err)
{
    if (lineno)
        fprintf(stderr, "parley: line %u: %s\n", lineno, err->message);
    else
        fprintf(stderr, "parley: %s\n", err->message);
}

typedef struct detect_ctx {
    const pl_detector *det;
    pl_detect_hint hints[MAX_HINTS];
    size_t nhints;
    int json;
} detect_ctx;

static void print_json(const pl_detect_result *r, const char *error)
{
    printf("{\"language\":\"%s\",\"variety\":", r->language);
    if (r->variety[0])
        printf("\"%s\"", r->variety);
    else
        printf("null");
    printf(",\"script\":\"%s\",\"confidence\":%.3f,\"alternatives\":[", r->script,
           r->confidence);
    for (size_t i = 0; i < r->nalt; i++)
        printf("%s{\"language\":\"%s\",\"confidence\":%.3f}", i ? "," : "",
               r->alt[i].language, r->alt[i].confidence);
    printf("]");
    if (error) {
        /* Error messages are ASCII without quotes or backslashes. */
        printf(",\"error\":\"%s\"", error);
    }
    printf("}\n");
}

static int detect_one(const char *s, size_t len, unsigned lineno, void *vctx)
{
    detect_ctx *ctx = vctx;
    pl_detect_result r;
    pl_error err;
    int rc = pl_detect_text(ctx->det, s, len, ctx->hints, ctx->nhints, &r, &err);
    if (rc < 0) {
        report_error(lineno, &err);
        if (ctx->json)
            print_json(&r, pl_errname(rc));
        else
            printf("und\t-\t0.000\n");
        return PL_EXIT_FAILURE;
    }
    if (ctx->json)
        print_json(&r, NULL);
    else
        printf("%s\t%s\t%.3f\n", r.language, r.variety[0] ? r.variety : "-", r.confidence);
    return PL_EXIT_OK;
}

static int add_hint(detect_ctx *ctx, pl_detect_hint_kind kind, const char *value)
{
    if (ctx->nhints == MAX_HINTS)
        return pl__cli_usage_error(&pl_cli_cmd_detect, "at most %d hints", MAX_HINTS);
    ctx->hints[ctx->nhints].kind = kind;
    ctx->hints[ctx->nhints].value = value;
    ctx->nhints++;
    return PL_EXIT_OK;
}

static int detect_run(int argc, char **argv)
{
    enum { OPT_JSON = 256, OPT_HINT, OPT_ACCEPT, OPT_REGION, OPT_PREVIOUS, OPT_ONLY, OPT_MODEL };
    static const struct option opts[] = {
        {"json", no_argument, NULL, OPT_JSON},
        {"hint", required_argument, NULL, OPT_HINT},
        {"accept-language", required_argument, NULL, OPT_ACCEPT},
        {"region", required_argument, NULL, OPT_REGION},
        {"previous", required_argument, NULL, OPT_PREVIOUS},
        {"only", required_argument, NULL, OPT_ONLY},
        {"model", required_argument, NULL, OPT_MODEL},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    detect_ctx ctx;
    const char *dir = NULL;
    int c, rc = PL_EXIT_OK;

    memset(&ctx, 0, sizeof ctx);
    pl__cli_reset_getopt();
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_JSON:
            ctx.json = 1;
            break;
        case OPT_HINT:
            rc = add_hint(&ctx, PL_HINT_LOCALE, optarg);
            break;
        case OPT_ACCEPT:
            rc = add_hint(&ctx, PL_HINT_ACCEPT_LANGUAGE, optarg);
            break;
        case OPT_REGION:
            rc = add_hint(&ctx, PL_HINT_REGION, optarg);
            break;
        case OPT_PREVIOUS:
            rc = add_hint(&ctx, PL_HINT_CONVERSATION, optarg);
            break;
        case OPT_ONLY:
            rc = add_hint(&ctx, PL_HINT_ONLY, optarg);
            break;
        case OPT_MODEL:
            dir = optarg;
            break;
        case 'h':
            pl__cli_print_help(&pl_cli_cmd_detect, stdout);
            return PL_EXIT_OK;
        default:
            return pl__cli_bad_option(&pl_cli_cmd_detect, c, argv);
        }
        if (rc != PL_EXIT_OK)
            return rc;
    }
    pl_detector *det;
    pl_error err;
    if (pl_detect_open(dir, &det, &err) < 0) {
        fprintf(stderr, "parley detect: %s\n", err.message);
        return PL_EXIT_FAILURE;
    }
    ctx.det = det;
    pl_detect_result probe;
    if (pl_detect_text(det, "", 0, ctx.hints, ctx.nhints, &probe, &err) < 0) {
        /* A bad --only list is the same mistake for every message. */
        pl_detect_close(det);
        return pl__cli_usage_error(&pl_cli_cmd_detect, "%s", err.message);
    }
    rc = for_each_message(optind, argc, argv, detect_one, &ctx);
    pl_detect_close(det);
    return rc;
}

typedef struct normalize_ctx {
    pl_text_form form;
    unsigned flags;
} normalize_ctx;

static int normalize_one(const char *s, size_t len, unsigned lineno, void *vctx)
{
    normalize_ctx *ctx = vctx;
    char *out = NULL;
    size_t olen = 0;
    pl_error err;
    if (pl_text_prepare(s, len, ctx->form, ctx->flags, &out, &olen, &err) < 0) {
        report_error(lineno, &err);
        putchar('\n');
        return PL_EXIT_FAILURE;
    }
    fwrite(out, 1, olen, stdout);
    putchar('\n');
    free(out);
    return PL_EXIT_OK;
}

static int normalize_run(int argc, char **argv)
{
    enum { OPT_FORM = 256, OPT_CASEFOLD, OPT_KEEP };
    static const struct option opts[] = {
        {"form", required_argument, NULL, OPT_FORM},
        {"casefold", no_argument, NULL, OPT_CASEFOLD},
        {"keep-controls", no_argument, NULL, OPT_KEEP},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    normalize_ctx ctx = {PL_TEXT_NFC, PL_TEXT_DEFAULT};
    int c;

    pl__cli_reset_getopt();
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_FORM:
            if (strcmp(optarg, "nfc") == 0)
                ctx.form = PL_TEXT_NFC;
            else if (strcmp(optarg, "nfkc") == 0)
                ctx.form = PL_TEXT_NFKC;
            else
                return pl__cli_usage_error(&pl_cli_cmd_normalize,
                                           "--form must be nfc or nfkc, not '%s'", optarg);
            break;
        case OPT_CASEFOLD:
            ctx.flags |= PL_TEXT_CASEFOLD;
            break;
        case OPT_KEEP:
            ctx.flags &= ~(unsigned)PL_TEXT_STRIP_CONTROLS;
            break;
        case 'h':
            pl__cli_print_help(&pl_cli_cmd_normalize, stdout);
            return PL_EXIT_OK;
        default:
            return pl__cli_bad_option(&pl_cli_cmd_normalize, c, argv);
        }
    }
    return for_each_message(optind, argc, argv, normalize_one, &ctx);
}
