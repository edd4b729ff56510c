/*
 * `parley translate`: translates one text with the configuration's
 * translation chain, on its own event loop, and prints the result; with
 * --explain also the masked prompts that were sent and the verdicts.
 */
#include "cli.h"

#include "parley/config.h"
#include "parley/curl_loop.h"
#include "parley/detect.h"
#include "parley/log.h"
#include "parley/policy.h"
#include "parley/translate.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int translate_run(int argc, char **argv);

const pl_cli_command pl_cli_cmd_translate = {
    .name = "translate",
    .summary = "translate a text through the configured providers (LLM, Apertium)",
    .usage = "parley translate [-c FILE] --to LOCALE [--from LANG] [OPTIONS] [TEXT...]",
    .help =
        "TEXT is the words given, or standard input when there are none.\n\n"
        "Options:\n"
        "  -c, --config FILE      the configuration file (default: $PARLEY_CONFIG,\n"
        "                         else ./" PL_CLI_DEFAULT_CONFIG ")\n"
        "  -t, --to LOCALE        target locale (BCP 47: en, es-419, zh-Hant)\n"
        "  -f, --from LANG        source language; when not given and an apertium\n"
        "                         provider is configured, the detector finds it\n"
        "      --variety TEXT     target variety (\"Rioplatense\")\n"
        "      --register TEXT    register (\"formal\", \"informal\")\n"
        "      --tone TEXT        tone (\"warm\")\n"
        "      --instructions TEXT  extra instructions for the translator\n"
        "      --glossary TERM=TRANSLATION  always translate TERM so (repeatable)\n"
        "      --keep TERM        keep TERM untranslated (repeatable)\n"
        "      --protect REGEX    ICU regular expression of spans to keep (repeatable)\n"
        "      --timeout DURATION deadline (default: translation.timeout)\n"
        "      --no-cache         neither read nor fill the cache\n"
        "      --policy LOCALE    apply the outbound fixes of LOCALE's policy (from\n"
        "                         policies.dir) to offline translations\n"
        "      --explain          also print the masked prompts and the verdicts\n"
        "      --json             print the result as one JSON object (text,\n"
        "                         provider, model, quality, pivot, cached)\n"
        "      --stats            print the engine's counters as JSON on stderr\n"
        "  -h, --help             show this help\n\n"
        "Exit status: 0 translated, 1 the translation failed (the reason is\n"
        "printed), 2 usage or configuration error.\n",
    .run = translate_run,
};

#define MAX_REPEATABLE 64

typedef struct run_state {
    int done;
    int status;
    int json;
} run_state;

static void json_string(FILE *out, const char *s)
{
    if (s == NULL) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void print_json(const pl_translate_result *res)
{
    printf("{\"status\":");
    json_string(stdout, res->status ? (res->reason ? res->reason : "failed") : "ok");
    printf(",\"text\":");
    json_string(stdout, res->status == 0 ? res->segments[0].text : NULL);
    printf(",\"provider\":");
    json_string(stdout, res->provider);
    printf(",\"model\":");
    json_string(stdout, res->model);
    printf(",\"quality\":");
    json_string(stdout, res->quality);
    printf(",\"pivot\":");
    json_string(stdout, res->pivot);
    printf(",\"cached\":%s,\"skipped\":%s,\"message\":",
           res->cached ? "true" : "false", res->skipped ? "true" : "false");
    json_string(stdout, res->message);
    printf("}\n");
}

static void on_result(const pl_translate_result *res, void *arg)
{
    run_state *st = arg;

    st->done = 1;
    st->status = res->status;
    if (st->json) {
        print_json(res);
        return;
    }
    if (res->explain != NULL)
        printf("%s", res->explain);
    if (res->status != 0) {
        fprintf(stderr, "parley translate: translation failed (%s): %s\n",
                res->reason ? res->reason : pl_errname(res->status),
                res->message ? res->message : pl_strerror(res->status));
        return;
    }
    /* Where the answer came from: on stdout with --explain, else stderr. */
    if (res->explain != NULL || res->skipped || res->cached) {
        if (res->skipped)
            fprintf(res->explain ? stdout : stderr,
                    "result: not translated (the text is in a language the "
                    "audience reads)\n");
        else if (res->cached)
            fprintf(res->explain ? stdout : stderr, "result: from the cache\n");
        else
            printf("result: translated by %s (model %s) in %u attempt(s), quality %s%s%s\n",
                   res->provider, res->model ? res->model : "-", res->attempts,
                   res->quality ? res->quality : "-", res->pivot ? ", through " : "",
                   res->pivot ? res->pivot : "");
        if (res->explain != NULL)
            printf("--- translation ---\n");
    }
    printf("%s\n", res->segments[0].text);
}

static char *read_stdin(void)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;

    if (buf == NULL)
        return NULL;
    while ((n = fread(buf + len, 1, cap - len - 1, stdin)) > 0) {
        len += n;
        if (len + 1 == cap) {
            char *g = realloc(buf, cap * 2);
            if (g == NULL) {
                free(buf);
                return NULL;
            }
            buf = g;
            cap *= 2;
        }
    }
    buf[len] = '\0';
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        buf[--len] = '\0';
    return buf;
}

static char *join_args(int argc, char **argv)
{
    size_t len = 1;
    char *s;

    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    s = calloc(1, len);
    if (s == NULL)
        return NULL;
    for (int i = 0; i < argc; i++) {
        if (i)
            strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}

static void print_stats(const pl_translate_engine *eng)
{
    pl_translate_stats st;

    pl_translate_stats_get(eng, &st);
    fprintf(stderr,
            "{\"jobs\":%llu,\"cache_hits\":%llu,\"cache_misses\":%llu,"
            "\"cache_bytes\":%llu,\"cache_entries\":%llu,\"coalesced\":%llu,"
            "\"skipped\":%llu,\"failures\":%llu,\"timeouts\":%llu,\"providers\":[",
            (unsigned long long)st.jobs, (unsigned long long)st.cache_hits,
            (unsigned long long)st.cache_misses, (unsigned long long)st.cache_bytes,
            (unsigned long long)st.cache_entries, (unsigned long long)st.coalesced,
            (unsigned long long)st.skipped, (unsigned long long)st.failures,
            (unsigned long long)st.timeouts);
    for (size_t i = 0; i < st.provider_count; i++) {
        const pl_translate_provider_stats *p = &st.providers[i];
        fprintf(stderr,
                "%s{\"name\":\"%s\",\"requests\":%llu,\"successes\":%llu,"
                "\"retries\":%llu,\"prompt_tokens\":%llu,\"completion_tokens\":%llu,"
                "\"fail_transport\":%llu,\"fail_timeout\":%llu,\"fail_http\":%llu,"
                "\"fail_invalid\":%llu,\"fail_breaker\":%llu,\"fail_overload\":%llu,"
                "\"restarts\":%llu,\"breaker\":%d}",
                i ? "," : "", p->name, (unsigned long long)p->requests,
                (unsigned long long)p->successes, (unsigned long long)p->retries,
                (unsigned long long)p->prompt_tokens,
                (unsigned long long)p->completion_tokens,
                (unsigned long long)p->fail_transport,
                (unsigned long long)p->fail_timeout, (unsigned long long)p->fail_http,
                (unsigned long long)p->fail_invalid, (unsigned long long)p->fail_breaker,
                (unsigned long long)p->fail_overload, (unsigned long long)p->restarts,
                p->breaker_state);
    }
    fprintf(stderr, "]}\n");
}

static void on_closed(void *arg) { *(int *)arg = 1; }

/* The policy's outbound pass over an offline translation: its fixes
 * (vosotros -> ustedes for es-419) and masks. */
static char *apply_policy(const char *text, const char *locale, void *arg)
{
    const pl_policy *pol = arg;
    pl_policy_input in = {.text = text, .len = strlen(text), .direction = PL_POLICY_OUT};
    pl_policy_result *res;
    pl_arena a;
    char *out = NULL;

    (void)locale;
    pl_arena_init(&a, 0);
    if (pl_policy_evaluate(pol, &in, &a, &res) == 0 &&
        (res->text_len != in.len || memcmp(res->text, text, in.len) != 0))
        out = strndup(res->text, res->text_len);
    pl_arena_free(&a);
    return out;
}

static int has_offline_provider(const pl_config *cfg)
{
    const pl_translate_provider_config *ps = cfg->translation.providers.items;

    for (size_t i = 0; i < cfg->translation.providers.count; i++)
        if (ps[i].type == PL_PROVIDER_APERTIUM)
            return 1;
    return 0;
}

/* Apertium needs the source language: the detector names it. */
static int detect_source(const char *text, char *lang, size_t size)
{
    pl_detector *det;
    pl_detect_result r;
    pl_error err;
    int rc;

    if (pl_detect_open(NULL, &det, &err) < 0)
        return -1;
    rc = pl_detect_text(det, text, strlen(text), NULL, 0, &r, &err);
    pl_detect_close(det);
    if (rc < 0 || strcmp(r.language, "und") == 0)
        return -1;
    snprintf(lang, size, "%s", r.language);
    return 0;
}

static int translate_run(int argc, char **argv)
{
    enum { O_VARIETY = 256, O_REGISTER, O_TONE, O_INSTR, O_GLOSSARY, O_KEEP,
           O_PROTECT, O_TIMEOUT, O_NOCACHE, O_EXPLAIN, O_STATS, O_POLICY, O_JSON };
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"to", required_argument, NULL, 't'},
        {"from", required_argument, NULL, 'f'},
        {"variety", required_argument, NULL, O_VARIETY},
        {"register", required_argument, NULL, O_REGISTER},
        {"tone", required_argument, NULL, O_TONE},
        {"instructions", required_argument, NULL, O_INSTR},
        {"glossary", required_argument, NULL, O_GLOSSARY},
        {"keep", required_argument, NULL, O_KEEP},
        {"protect", required_argument, NULL, O_PROTECT},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"no-cache", no_argument, NULL, O_NOCACHE},
        {"explain", no_argument, NULL, O_EXPLAIN},
        {"stats", no_argument, NULL, O_STATS},
        {"policy", required_argument, NULL, O_POLICY},
        {"json", no_argument, NULL, O_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const pl_cli_command *cmd = &pl_cli_cmd_translate;
    const char *path = pl__cli_default_config();
    pl_translate_request req = {0};
    pl_translate_term glossary[MAX_REPEATABLE];
    const char *patterns[MAX_REPEATABLE];
    pl_translate_segment seg = {.id = "text"};
    int stats = 0, c, rc = PL_EXIT_FAILURE, closed = 0;
    char *text = NULL;
    pl_config *cfg = NULL;
    uv_loop_t loop;
    pl_curl_loop *curl = NULL;
    pl_translate_engine *eng = NULL;
    run_state st = {0};
    pl_error err;
    const char *policy_locale = NULL;
    pl_policy_set *policies = NULL;
    char detected[8];

    while ((c = getopt_long(argc, argv, ":c:t:f:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 't':
            req.target_locale = optarg;
            break;
        case 'f':
            req.source_language = optarg;
            break;
        case O_VARIETY:
            req.variety = optarg;
            break;
        case O_REGISTER:
            req.register_ = optarg;
            break;
        case O_TONE:
            req.tone = optarg;
            break;
        case O_INSTR:
            req.instructions = optarg;
            break;
        case O_GLOSSARY:
        case O_KEEP: {
            char *eq = c == O_GLOSSARY ? strchr(optarg, '=') : NULL;
            if (req.glossary_count == MAX_REPEATABLE)
                return pl__cli_usage_error(cmd, "too many glossary entries");
            if (c == O_GLOSSARY && (eq == NULL || eq == optarg || eq[1] == '\0'))
                return pl__cli_usage_error(cmd, "--glossary needs TERM=TRANSLATION, got '%s'",
                                           optarg);
            if (eq != NULL)
                *eq = '\0';
            glossary[req.glossary_count].term = optarg;
            glossary[req.glossary_count].translation = eq ? eq + 1 : NULL;
            req.glossary_count++;
            break;
        }
        case O_PROTECT:
            if (req.protected_count == MAX_REPEATABLE)
                return pl__cli_usage_error(cmd, "too many --protect patterns");
            patterns[req.protected_count++] = optarg;
            break;
        case O_TIMEOUT:
            if (pl_cfg_parse_duration(optarg, &req.timeout_ms) != 0 || req.timeout_ms <= 0)
                return pl__cli_usage_error(cmd, "--timeout must be a duration such as "
                                                "500ms or 10s, got '%s'", optarg);
            break;
        case O_NOCACHE:
            req.no_cache = 1;
            break;
        case O_EXPLAIN:
            req.explain = 1;
            break;
        case O_STATS:
            stats = 1;
            break;
        case O_POLICY:
            policy_locale = optarg;
            break;
        case O_JSON:
            st.json = 1;
            break;
        case 'h':
            pl__cli_print_help(cmd, stdout);
            return PL_EXIT_OK;
        default:
            return pl__cli_bad_option(cmd, c, argv);
        }
    }
    if (req.target_locale == NULL || req.target_locale[0] == '\0')
        return pl__cli_usage_error(cmd, "missing --to LOCALE");
    req.glossary = glossary;
    req.protected_patterns = patterns;
    text = optind < argc ? join_args(argc - optind, argv + optind) : read_stdin();
    if (text == NULL) {
        fprintf(stderr, "parley translate: out of memory\n");
        return PL_EXIT_FAILURE;
    }
    if (pl__cli_load_config(path, &cfg) != 0) {
        free(text);
        return PL_EXIT_USAGE;
    }
    pl_log_set_level((pl_log_level)cfg->log.level);
    pl_log_set_format((pl_log_format)cfg->log.format);
    if (!cfg->translation.configured) {
        fprintf(stderr, "%s: there is no 'translation' section; see "
                        "docs/translation.md\n", path);
        free(text);
        pl_config_free(cfg);
        return PL_EXIT_USAGE;
    }
    seg.text = text;
    req.segments = &seg;
    req.count = 1;
    if ((req.source_language == NULL || req.source_language[0] == '\0') &&
        has_offline_provider(cfg) && detect_source(text, detected, sizeof(detected)) == 0)
        req.source_language = detected;
    if (policy_locale != NULL) {
        pl_diags diags;
        const pl_policy *pol;
        pl_diags_init(&diags);
        c = pl_policy_load_configured(cfg, &diags, &policies);
        pl_diags_print(&diags, stderr, 1);
        pl_diags_free(&diags);
        pol = c == 0 ? pl_policy_resolve(policies, policy_locale) : NULL;
        if (pol == NULL) {
            fprintf(stderr, "parley translate: no policy serves '%s'\n", policy_locale);
            free(text);
            pl_policy_set_free(policies);
            pl_config_free(cfg);
            return PL_EXIT_USAGE;
        }
        req.postedit = apply_policy;
        req.postedit_arg = (void *)pol;
        req.postedit_id = pl_policy_locale(pol);
    }

    uv_loop_init(&loop);
    if (pl_curl_loop_new(&loop, &curl) != 0) {
        fprintf(stderr, "parley translate: cannot start the HTTP client\n");
        goto out;
    }
    pl_error_clear(&err);
    if (pl_translate_engine_new(&loop, curl, &cfg->translation, &eng, &err) != 0) {
        fprintf(stderr, "parley translate: %s\n", err.message);
        rc = err.code == PL_ECONFIG ? PL_EXIT_USAGE : PL_EXIT_FAILURE;
        goto out;
    }
    pl_error_clear(&err);
    c = pl_translate_request_check(eng, &req, &err);
    if (c != 0) {
        fprintf(stderr, "parley translate: %s\n", err.message);
        rc = PL_EXIT_USAGE;
        goto out;
    }
    c = pl_translate_submit(eng, &req, on_result, &st, NULL);
    if (c != 0) {
        fprintf(stderr, "parley translate: %s\n", pl_strerror(c));
        rc = c == PL_EINVAL ? PL_EXIT_USAGE : PL_EXIT_FAILURE;
    } else {
        while (!st.done)
            uv_run(&loop, UV_RUN_ONCE);
        rc = st.status == 0 ? PL_EXIT_OK : PL_EXIT_FAILURE;
    }
    if (stats)
        print_stats(eng);

out:
    fflush(stdout);
    if (eng != NULL)
        pl_translate_engine_close(eng, NULL, NULL);
    if (curl != NULL)
        pl_curl_loop_close(curl, on_closed, &closed);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    free(text);
    pl_policy_set_free(policies);
    pl_config_free(cfg);
    return rc;
}
