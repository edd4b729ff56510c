/*
 * The `translation:` section of parley.yaml as parsed values. Included by
 * parley/config.h (it needs pl_cfg_list and pl_cfg_strings from there);
 * include parley/config.h or parley/translate.h, not this file.
 */
#ifndef PARLEY_TRANSLATE_CONFIG_H
#define PARLEY_TRANSLATE_CONFIG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Masking classes, as bits of pl_translate_config.mask_classes. */
enum {
    PL_MASK_URL = 1u << 0,
    PL_MASK_EMAIL = 1u << 1,
    PL_MASK_PHONE = 1u << 2,
    PL_MASK_CARD = 1u << 3,
    PL_MASK_IBAN = 1u << 4,
    PL_MASK_PROTECTED = 1u << 5, /* the policy's protected patterns */
    PL_MASK_KEEP = 1u << 6,      /* glossary keep-terms */
    PL_MASK_NUMBER = 1u << 7,    /* numbers with a unit or currency */
    PL_MASK_ALL = 0xFFu
};

typedef enum pl_translate_provider_type {
    PL_PROVIDER_OPENAI = 0,
    PL_PROVIDER_REPLAY,
    PL_PROVIDER_RECORD, /* openai, appending every answered pair to `file` */
    PL_PROVIDER_APERTIUM /* local rule-based pipelines (offline) */
} pl_translate_provider_type;

typedef enum pl_translate_format {
    PL_FORMAT_AUTO = 0,  /* json_schema, falling back to json_object */
    PL_FORMAT_JSON_SCHEMA,
    PL_FORMAT_JSON_OBJECT
} pl_translate_format;

typedef struct pl_translate_header {
    const char *name;
    const char *value;
} pl_translate_header;

typedef struct pl_translate_headers {
    pl_translate_header *items;
    size_t count;
} pl_translate_headers;

typedef struct pl_translate_breaker_config {
    int64_t failures; /* consecutive failures that open the breaker */
    int64_t open_for; /* ms before a half-open probe */
} pl_translate_breaker_config;

typedef struct pl_translate_provider_config {
    const char *name;
    int type; /* pl_translate_provider_type */
    const char *base_url;
    const char *model;
    const char *api_key_env;
    const char *api_key_file;
    const char *api_key_header; /* "authorization" means "Bearer KEY" */
    pl_translate_headers headers;
    double temperature;
    int64_t max_tokens; /* 0: not sent */
    int response_format; /* pl_translate_format */
    int64_t connect_timeout; /* ms */
    int64_t timeout;         /* ms, one HTTP attempt */
    int64_t retries;         /* extra attempts on transient errors */
    int64_t backoff;         /* ms, first retry delay */
    int64_t backoff_max;     /* ms */
    pl_translate_breaker_config breaker;
    int64_t concurrency; /* requests in flight */
    int64_t queue;       /* requests waiting for a slot */
    int64_t rpm;         /* requests per minute, 0: unlimited */
    int64_t tpm;         /* tokens per minute, 0: unlimited */
    const char *file;    /* record/replay JSON-lines file */
    const char *command; /* apertium: the program, found on PATH */
    const char *data_dir; /* apertium: its data folder (-d); NULL: the default */
    const char *pivot;   /* apertium: language to pivot through; "" none */
} pl_translate_provider_config;

typedef struct pl_translate_cache_config {
    int enabled;
    int64_t max_bytes;
    int64_t ttl; /* ms, 0: no expiry */
} pl_translate_cache_config;

typedef struct pl_translate_validation_config {
    double min_ratio;     /* output/input length in characters */
    double max_ratio;
    int64_t min_letters;  /* segments with fewer letters skip the language check */
} pl_translate_validation_config;

typedef struct pl_translate_config {
    pl_cfg_list providers; /* of pl_translate_provider_config */
    pl_cfg_strings chain;  /* provider names in order; empty: all, in order */
    int64_t timeout;       /* ms, default deadline of one translation */
    int skip_same_language;
    pl_cfg_strings mask;   /* class names, see docs/translation.md */
    unsigned mask_classes; /* the same as bits, filled by the check */
    pl_translate_cache_config cache;
    pl_translate_validation_config validation;
    int configured; /* non-zero when the section was present */
} pl_translate_config;

#ifdef __cplusplus
}
#endif

#endif
