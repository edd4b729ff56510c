/*
 * The `translation:` section of parley.yaml: providers (openai, replay,
 * record), the chain order, deadlines, masking classes, the cache and the
 * validation bounds, declared as directive tables and checked across
 * fields. API keys are never read from the YAML itself.
 */
#include "translate_internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ERR_AT(ctx, node, ...)                                            \
    pl_diags_add((ctx)->diags, PL_DIAG_ERROR, (ctx)->file, (node)->line, \
                 (node)->column, __VA_ARGS__)

static const char *const provider_types[] = {"openai", "replay", "record", "apertium",
                                             NULL};
static const char *const formats[] = {"auto", "json_schema", "json_object", NULL};

static int parse_number(const pl_cfg_ctx *ctx, const pl_yaml_node *node,
                        const char *name, double lo, double hi, double *out)
{
    char *end;
    double v;

    if (node->kind != PL_YAML_SCALAR || pl_yaml_is_null(node)) {
        ERR_AT(ctx, node, "'%s' must be a number", name);
        return PL_ECONFIG;
    }
    errno = 0;
    v = strtod(node->value, &end);
    if (errno != 0 || end == node->value || *end != '\0' || !isfinite(v)) {
        ERR_AT(ctx, node, "'%s' must be a number, got '%s'", name, node->value);
        return PL_ECONFIG;
    }
    if (v < lo || v > hi) {
        ERR_AT(ctx, node, "'%s' must be between %g and %g, got '%s'", name, lo, hi,
               node->value);
        return PL_ECONFIG;
    }
    *out = v;
    return 0;
}

static int parse_temperature(const pl_cfg_ctx *ctx, const pl_yaml_node *node,
                             void *dst)
{
    return parse_number(ctx, node, "temperature", 0, 2, dst);
}

static int parse_ratio(const pl_cfg_ctx *ctx, const pl_yaml_node *node, void *dst)
{
    return parse_number(ctx, node, "ratio", 0.01, 100, dst);
}

static int parse_headers(const pl_cfg_ctx *ctx, const pl_yaml_node *node, void *dst)
{
    pl_translate_headers *h = dst;
    int rc = 0;

    if (pl_yaml_is_null(node))
        return 0;
    if (node->kind != PL_YAML_MAP) {
        ERR_AT(ctx, node, "'headers' must be a mapping of header names to values");
        return PL_ECONFIG;
    }
    h->items = pl_arena_calloc(ctx->arena, node->count ? node->count : 1,
                               sizeof(pl_translate_header));
    if (h->items == NULL)
        return PL_ENOMEM;
    for (size_t i = 0; i < node->count; i++) {
        const pl_yaml_pair *p = &node->pairs[i];
        const char *name = p->key->value;
        if (name[0] == '\0' || strpbrk(name, ": \t\r\n") != NULL) {
            ERR_AT(ctx, p->key, "'%s' is not a valid header name", name);
            rc = PL_ECONFIG;
            continue;
        }
        if (p->value->kind != PL_YAML_SCALAR || strpbrk(p->value->value, "\r\n")) {
            ERR_AT(ctx, p->value, "the value of header '%s' must be one line of text",
                   name);
            rc = PL_ECONFIG;
            continue;
        }
        h->items[h->count].name = pl_arena_strdup(ctx->arena, name);
        h->items[h->count].value = pl_arena_strdup(ctx->arena, p->value->value);
        h->count++;
    }
    return rc;
}

static int reject_api_key(const pl_cfg_ctx *ctx, const pl_yaml_node *node, void *dst)
{
    (void)dst;
    ERR_AT(ctx, node,
           "the API key never goes in the configuration file; name an "
           "environment variable with 'api_key_env' or a file with 'api_key_file'");
    return PL_ECONFIG;
}

static const pl_cfg_directive breaker_directives[] = {
    {.name = "failures", .type = PL_CFG_INT,
     .offset = offsetof(pl_translate_breaker_config, failures),
     .default_value = "5", .min = 1, .max = 1000,
     .doc = "consecutive failed attempts that open the breaker"},
    {.name = "open_for", .type = PL_CFG_DURATION,
     .offset = offsetof(pl_translate_breaker_config, open_for),
     .default_value = "30s", .min = 1, .max = 3600000,
     .doc = "how long the breaker stays open before one probe request"},
};

static const pl_cfg_section breaker_section = {
    .name = "'breaker'",
    .size = sizeof(pl_translate_breaker_config),
    .directives = breaker_directives,
    .count = PL_CFG_COUNT(breaker_directives),
};

#define P(field) offsetof(pl_translate_provider_config, field)

static const pl_cfg_directive provider_directives[] = {
    {.name = "name", .type = PL_CFG_STRING, .offset = P(name), .required = 1,
     .doc = "the provider's name, used in 'chain', logs and metrics"},
    {.name = "type", .type = PL_CFG_ENUM, .offset = P(type), .default_value = "openai",
     .choices = provider_types,
     .doc = "openai (Chat Completions), replay (answers from a recorded file), "
            "record (openai, appending every answer to a file) or apertium "
            "(local rule-based translation, offline)"},
    {.name = "base_url", .type = PL_CFG_STRING, .offset = P(base_url),
     .doc = "the API base; requests go to <base_url>/chat/completions"},
    {.name = "model", .type = PL_CFG_STRING, .offset = P(model),
     .doc = "the model name sent with every request"},
    {.name = "api_key_env", .type = PL_CFG_STRING, .offset = P(api_key_env),
     .doc = "environment variable holding the API key (no key when unset)"},
    {.name = "api_key_file", .type = PL_CFG_STRING, .offset = P(api_key_file),
     .doc = "file holding the API key (trailing whitespace ignored)"},
    {.name = "api_key", .type = PL_CFG_CUSTOM, .offset = 0, .parse = reject_api_key,
     .type_name = "rejected",
     .doc = "not allowed: keys come from api_key_env or api_key_file"},
    {.name = "api_key_header", .type = PL_CFG_STRING, .offset = P(api_key_header),
     .default_value = "authorization",
     .doc = "header carrying the key; authorization sends 'Bearer KEY'"},
    {.name = "headers", .type = PL_CFG_CUSTOM, .offset = P(headers),
     .parse = parse_headers, .type_name = "mapping",
     .doc = "extra request headers, name: value"},
    {.name = "temperature", .type = PL_CFG_CUSTOM, .offset = P(temperature),
     .default_value = "0", .parse = parse_temperature, .type_name = "number",
     .doc = "sampling temperature, 0 to 2"},
    {.name = "max_tokens", .type = PL_CFG_INT, .offset = P(max_tokens),
     .default_value = "0", .min = 0, .max = 1000000,
     .doc = "upper bound on the answer's tokens; 0 sends none"},
    {.name = "response_format", .type = PL_CFG_ENUM, .offset = P(response_format),
     .default_value = "auto", .choices = formats,
     .doc = "auto (json_schema, falling back to json_object), json_schema or json_object"},
    {.name = "connect_timeout", .type = PL_CFG_DURATION, .offset = P(connect_timeout),
     .default_value = "5s", .min = 1, .max = 600000,
     .doc = "TCP and TLS connection setup limit"},
    {.name = "timeout", .type = PL_CFG_DURATION, .offset = P(timeout),
     .default_value = "30s", .min = 1, .max = 3600000,
     .doc = "limit for one HTTP attempt"},
    {.name = "retries", .type = PL_CFG_INT, .offset = P(retries), .default_value = "2",
     .min = 0, .max = 20,
     .doc = "extra attempts after connect errors, timeouts, 429 and 5xx"},
    {.name = "backoff", .type = PL_CFG_DURATION, .offset = P(backoff),
     .default_value = "200ms", .min = 1, .max = 600000,
     .doc = "delay before the first retry; doubles each time, with jitter"},
    {.name = "backoff_max", .type = PL_CFG_DURATION, .offset = P(backoff_max),
     .default_value = "5s", .min = 1, .max = 3600000,
     .doc = "largest retry delay (a server's Retry-After is honoured as given)"},
    {.name = "breaker", .type = PL_CFG_SECTION, .offset = P(breaker),
     .section = &breaker_section, .doc = "the provider's circuit breaker"},
    {.name = "concurrency", .type = PL_CFG_INT, .offset = P(concurrency),
     .default_value = "64", .min = 1, .max = 100000,
     .doc = "requests in flight to this provider per worker"},
    {.name = "queue", .type = PL_CFG_INT, .offset = P(queue), .default_value = "1024",
     .min = 0, .max = 1000000,
     .doc = "requests waiting for a slot; beyond it the next provider is tried"},
    {.name = "rpm", .type = PL_CFG_INT, .offset = P(rpm), .default_value = "0",
     .min = 0, .max = 100000000, .doc = "requests per minute per worker; 0: no limit"},
    {.name = "tpm", .type = PL_CFG_INT, .offset = P(tpm), .default_value = "0",
     .min = 0, .max = 1000000000, .doc = "tokens per minute per worker; 0: no limit"},
    {.name = "file", .type = PL_CFG_STRING, .offset = P(file),
     .doc = "the JSON-lines file of replay and record providers"},
    {.name = "command", .type = PL_CFG_STRING, .offset = P(command),
     .default_value = "apertium",
     .doc = "apertium: the apertium program, looked up on PATH"},
    {.name = "data_dir", .type = PL_CFG_STRING, .offset = P(data_dir),
     .doc = "apertium: folder with modes/*.mode (apertium -d); default: "
            "$APERTIUM_DATADIR, else share/apertium beside the program"},
    {.name = "pivot", .type = PL_CFG_STRING, .offset = P(pivot), .default_value = "es",
     .doc = "apertium: language to translate through when no direct mode "
            "exists; empty: never pivot"},
};

static int check_provider(const pl_cfg_ctx *ctx, const pl_yaml_node *node, void *obj)
{
    pl_translate_provider_config *p = obj;
    const pl_yaml_node *at = node;

    if (p->type == PL_PROVIDER_OPENAI || p->type == PL_PROVIDER_RECORD) {
        if (p->base_url == NULL)
            ERR_AT(ctx, at, "provider '%s' (type %s) needs 'base_url'", p->name,
                   provider_types[p->type]);
        else if (strncmp(p->base_url, "http://", 7) != 0 &&
                 strncmp(p->base_url, "https://", 8) != 0)
            ERR_AT(ctx, pl_yaml_map_get(node, "base_url"),
                   "'base_url' must start with http:// or https://, got '%s'",
                   p->base_url);
        if (p->model == NULL)
            ERR_AT(ctx, at, "provider '%s' (type %s) needs 'model'", p->name,
                   provider_types[p->type]);
    }
    if ((p->type == PL_PROVIDER_REPLAY || p->type == PL_PROVIDER_RECORD) &&
        p->file == NULL)
        ERR_AT(ctx, at, "provider '%s' (type %s) needs 'file'", p->name,
               provider_types[p->type]);
    if (p->api_key_env != NULL && p->api_key_file != NULL)
        ERR_AT(ctx, pl_yaml_map_get(node, "api_key_file"),
               "give either 'api_key_env' or 'api_key_file', not both");
    if (p->type == PL_PROVIDER_APERTIUM && p->command != NULL &&
        (p->command[0] == '\0' || strpbrk(p->command, " \t\r\n") != NULL))
        ERR_AT(ctx, pl_yaml_map_get(node, "command"),
               "'command' must be one program name or path, got '%s'", p->command);
    if (p->type == PL_PROVIDER_APERTIUM && p->pivot != NULL && p->pivot[0] != '\0' &&
        (strlen(p->pivot) < 2 || strlen(p->pivot) > 3 ||
         strspn(p->pivot, "abcdefghijklmnopqrstuvwxyz") != strlen(p->pivot)))
        ERR_AT(ctx, pl_yaml_map_get(node, "pivot"),
               "'pivot' must be a language code such as 'es', got '%s'", p->pivot);
    if (p->backoff > p->backoff_max)
        ERR_AT(ctx, pl_yaml_map_get(node, "backoff"),
               "'backoff' must not exceed 'backoff_max'");
    return 0;
}

static const pl_cfg_section provider_section = {
    .name = "'providers[]'",
    .size = sizeof(pl_translate_provider_config),
    .directives = provider_directives,
    .count = PL_CFG_COUNT(provider_directives),
    .check = check_provider,
};

static const pl_cfg_directive cache_directives[] = {
    {.name = "enabled", .type = PL_CFG_BOOL,
     .offset = offsetof(pl_translate_cache_config, enabled), .default_value = "true",
     .doc = "keep translations in memory and answer repeats from there"},
    {.name = "max_bytes", .type = PL_CFG_SIZE,
     .offset = offsetof(pl_translate_cache_config, max_bytes), .default_value = "64m",
     .min = 1024, .max = (int64_t)1 << 40,
     .doc = "memory bound of the cache per worker; least recently used go first"},
    {.name = "ttl", .type = PL_CFG_DURATION,
     .offset = offsetof(pl_translate_cache_config, ttl), .default_value = "24h",
     .min = 0, .max = (int64_t)365 * 24 * 3600000,
     .doc = "age after which an entry is dropped; 0s keeps entries until evicted"},
};

static const pl_cfg_section cache_section = {
    .name = "'cache'",
    .size = sizeof(pl_translate_cache_config),
    .directives = cache_directives,
    .count = PL_CFG_COUNT(cache_directives),
};

static const pl_cfg_directive validation_directives[] = {
    {.name = "min_ratio", .type = PL_CFG_CUSTOM,
     .offset = offsetof(pl_translate_validation_config, min_ratio),
     .default_value = "0.25", .parse = parse_ratio, .type_name = "number",
     .doc = "smallest accepted output/input length ratio (segments of 20+ characters)"},
    {.name = "max_ratio", .type = PL_CFG_CUSTOM,
     .offset = offsetof(pl_translate_validation_config, max_ratio),
     .default_value = "4", .parse = parse_ratio, .type_name = "number",
     .doc = "largest accepted output/input length ratio"},
    {.name = "min_letters", .type = PL_CFG_INT,
     .offset = offsetof(pl_translate_validation_config, min_letters),
     .default_value = "12", .min = 0, .max = 100000,
     .doc = "segments with fewer letters skip the output-language check"},
};

static int check_validation(const pl_cfg_ctx *ctx, const pl_yaml_node *node, void *obj)
{
    pl_translate_validation_config *v = obj;

    if (v->min_ratio >= v->max_ratio && node != NULL)
        ERR_AT(ctx, node, "'min_ratio' must be smaller than 'max_ratio'");
    return 0;
}

static const pl_cfg_section validation_section = {
    .name = "'validation'",
    .size = sizeof(pl_translate_validation_config),
    .directives = validation_directives,
    .count = PL_CFG_COUNT(validation_directives),
    .check = check_validation,
};

#define T(field) offsetof(pl_translate_config, field)

static const pl_cfg_directive translation_directives[] = {
    {.name = "providers", .type = PL_CFG_LIST, .offset = T(providers),
     .section = &provider_section, .doc = "the LLM providers"},
    {.name = "chain", .type = PL_CFG_STRINGS, .offset = T(chain),
     .doc = "provider names in the order they are tried; default: all, as listed"},
    {.name = "timeout", .type = PL_CFG_DURATION, .offset = T(timeout),
     .default_value = "60s", .min = 1, .max = 3600000,
     .doc = "deadline of one translation, retries and fallbacks included"},
    {.name = "skip_same_language", .type = PL_CFG_BOOL, .offset = T(skip_same_language),
     .default_value = "true",
     .doc = "return the text as is when it is already in the target language"},
    {.name = "mask", .type = PL_CFG_STRINGS, .offset = T(mask),
     .default_value = "[url, email, phone, card, iban, protected, keep_terms, numbers]",
     .doc = "classes of spans replaced by placeholders before sending"},
    {.name = "cache", .type = PL_CFG_SECTION, .offset = T(cache),
     .section = &cache_section, .doc = "the translation cache"},
    {.name = "validation", .type = PL_CFG_SECTION, .offset = T(validation),
     .section = &validation_section, .doc = "bounds for accepting an answer"},
};

static int check_translation(const pl_cfg_ctx *ctx, const pl_yaml_node *node, void *obj)
{
    pl_translate_config *t = obj;
    const pl_translate_provider_config *ps = t->providers.items;
    const pl_yaml_node *mask = pl_yaml_map_get(node, "mask");
    const pl_yaml_node *chain = pl_yaml_map_get(node, "chain");

    t->configured = node != NULL;
    t->mask_classes = 0;
    for (size_t i = 0; i < t->mask.count; i++) {
        unsigned cls;
        if (pl__mask_class_parse(t->mask.items[i], &cls) == 0) {
            t->mask_classes |= cls;
            continue;
        }
        const pl_yaml_node *at = mask && mask->kind == PL_YAML_SEQ && i < mask->count
                                     ? mask->items[i]
                                     : (mask ? mask : node);
        const char *hint = pl__mask_class_names[0] ? pl_suggest(t->mask.items[i],
                                                                pl__mask_class_names)
                                                   : NULL;
        if (at == NULL)
            continue;
        if (hint)
            ERR_AT(ctx, at, "unknown masking class '%s'; did you mean '%s'?",
                   t->mask.items[i], hint);
        else
            ERR_AT(ctx, at,
                   "unknown masking class '%s' (classes: url, email, phone, card, "
                   "iban, protected, keep_terms, numbers)",
                   t->mask.items[i]);
    }
    if (node == NULL)
        return 0;
    if (t->providers.count == 0)
        ERR_AT(ctx, node, "'translation' needs at least one entry in 'providers'");
    for (size_t i = 0; i < t->providers.count; i++)
        for (size_t k = 0; k < i; k++)
            if (ps[i].name && ps[k].name && strcmp(ps[i].name, ps[k].name) == 0)
                ERR_AT(ctx, node, "two providers are named '%s'", ps[i].name);
    for (size_t i = 0; i < t->chain.count; i++) {
        size_t k;
        const pl_yaml_node *at = chain && chain->kind == PL_YAML_SEQ && i < chain->count
                                     ? chain->items[i]
                                     : (chain ? chain : node);
        for (k = 0; k < t->providers.count; k++)
            if (strcmp(ps[k].name, t->chain.items[i]) == 0)
                break;
        if (k == t->providers.count)
            ERR_AT(ctx, at, "'chain' names '%s', which is not a provider",
                   t->chain.items[i]);
    }
    return 0;
}

const pl_cfg_section pl_translate_config_section = {
    .name = "'translation'",
    .size = sizeof(pl_translate_config),
    .directives = translation_directives,
    .count = PL_CFG_COUNT(translation_directives),
    .check = check_translation,
};
