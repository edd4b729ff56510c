/*
 * parley.yaml: declared directive tables, the validating loader and the
 * immutable configuration it produces.
 *
 * Each module declares its section as a pl_cfg_section (a table of
 * directives with type, range, default and a one-line description) next to
 * its own code, and the loader validates the YAML tree against the tables,
 * collecting every error with its file:line:column in one pass.
 */
#ifndef PARLEY_CONFIG_H
#define PARLEY_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "parley/arena.h"
#include "parley/diag.h"
#include "parley/log.h"
#include "parley/net.h"
#include "parley/yaml.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pl_cfg_type {
    PL_CFG_STRING,   /* const char * */
    PL_CFG_INT,      /* int64_t, within [min, max] */
    PL_CFG_BOOL,     /* int: true/false, yes/no, on/off */
    PL_CFG_ENUM,     /* int: index into `choices` */
    PL_CFG_DURATION, /* int64_t milliseconds: "250ms", "30s", "5m", "1h" */
    PL_CFG_SIZE,     /* int64_t bytes: "512", "16k", "8KiB", "1MB", "2g" */
    PL_CFG_STRINGS,  /* pl_cfg_strings: a sequence of strings */
    PL_CFG_SECTION,  /* a nested struct described by `section` */
    PL_CFG_LIST,     /* pl_cfg_list of structs described by `section` */
    PL_CFG_CUSTOM,   /* parsed by `parse` */
    PL_CFG_MAP       /* pl_cfg_map: free-form keys; string values, or structs
                        described by `section` */
} pl_cfg_type;

typedef struct pl_cfg_strings {
    const char **items;
    size_t count;
} pl_cfg_strings;

typedef struct pl_cfg_list {
    void *items; /* `count` structs of section->size bytes each */
    size_t count;
} pl_cfg_list;

/*
 * A mapping whose keys are data (glossary terms, template names). Values are
 * `const char *` when the directive has no `section`, else `count` structs
 * of section->size bytes. `key_nodes` keep the keys' positions.
 */
typedef struct pl_cfg_map {
    const char **keys;
    void *values;
    const pl_yaml_node **key_nodes;
    size_t count;
} pl_cfg_map;

typedef struct pl_cfg_section pl_cfg_section;

/* Context handed to custom parsers and section checks. */
typedef struct pl_cfg_ctx {
    pl_arena *arena; /* owns every value of the configuration */
    pl_diags *diags;
    const char *file;
    const pl_cfg_section *root; /* for "belongs in" hints; may be NULL */
} pl_cfg_ctx;

typedef struct pl_cfg_directive {
    const char *name;
    pl_cfg_type type;
    size_t offset;             /* of the value inside the section's struct */
    const char *default_value; /* YAML text parsed like a user value; NULL: none */
    int required;
    int64_t min, max;          /* INT, DURATION, SIZE (both 0: unbounded) */
    const char *const *choices;       /* ENUM: NULL-terminated */
    const pl_cfg_section *section;    /* SECTION, LIST, MAP (NULL: strings) */
    /*
     * CUSTOM: stores the parsed value at `dst`; returns 0 or adds errors.
     * Strings it keeps must be copied into ctx->arena (defaults are parsed
     * from a temporary document).
     */
    int (*parse)(const pl_cfg_ctx *ctx, const pl_yaml_node *node, void *dst);
    const char *type_name;     /* CUSTOM: shown in docs ("address") */
    const char *doc;           /* one line for `parley config directives` */
} pl_cfg_directive;

struct pl_cfg_section {
    const char *name; /* "log", "listen[]" */
    size_t size;      /* sizeof the struct, for LIST items */
    const pl_cfg_directive *directives;
    size_t count;
    /* Cross-field checks after the directives were parsed; may be NULL. */
    int (*check)(const pl_cfg_ctx *ctx, const pl_yaml_node *node, void *obj);
};

#define PL_CFG_COUNT(table) (sizeof(table) / sizeof((table)[0]))

/*
 * The whole configuration. Modules add their section struct here and their
 * table to the top-level table in gateway/config/config.c.
 */
typedef struct pl_log_config {
    int level;  /* pl_log_level */
    int format; /* pl_log_format */
} pl_log_config;

typedef struct pl_policies_config {
    const char *dir; /* relative to the configuration file's folder */
    int watch;       /* reload when a file in `dir` changes */
} pl_policies_config;

/* Module sections (their headers use the types above). */
#include "parley/translate_config.h"

typedef struct pl_config {
    int64_t workers;        /* 0: one per core */
    pl_log_config log;
    pl_policies_config policies;
    pl_translate_config translation;
    pl_cfg_list listen;     /* pl_listen_config items */
    pl_admin_config admin;
    pl_cfg_list routes;     /* pl_route_config items (parley/proxy.h) */
    pl_cfg_list upstreams;  /* pl_upstream_config items (parley/proxy.h) */
    pl_limits_config limits;
    pl_timeouts_config timeouts;
    int64_t drain_timeout;  /* ms */
    int watch_config;       /* reload when the file changes (read at start) */
    pl_access_log_config access_log;
    /* private: */
    pl_arena arena;
    char *file;
} pl_config;

/** The top-level table (exposed for `parley config directives` and tests). */
extern const pl_cfg_section pl_config_root;

/**
 * Reads and validates `path`. On success returns 0 and a new configuration
 * in *out (free with pl_config_free()). Otherwise adds every problem found to
 * `diags` and returns PL_ECONFIG (or PL_ENOENT/PL_EIO when the file cannot be
 * read); *out is NULL then.
 */
int pl_config_load(const char *path, pl_diags *diags, pl_config **out);

/** Same as pl_config_load() for YAML text in memory named `name`. */
int pl_config_load_string(const char *name, const char *text, size_t len,
                          pl_diags *diags, pl_config **out);

void pl_config_free(pl_config *cfg);

/**
 * Validates `node` against `section`, storing values into `obj` (which
 * must be zeroed), applying defaults, and adding errors to ctx->diags.
 * A NULL node means "absent": only defaults apply. Returns the number of
 * errors added. Exposed so that other YAML files can reuse the tables.
 */
size_t pl_cfg_apply(const pl_cfg_ctx *ctx, const pl_cfg_section *section,
                    const pl_yaml_node *node, void *obj);

/** Parses "250ms", "30s", "5m", "1h", "1.5s" (a bare number is seconds). */
int pl_cfg_parse_duration(const char *s, int64_t *ms);

/** Parses "512", "16k", "16KiB", "1MB", "2g" (binary multiples). */
int pl_cfg_parse_size(const char *s, int64_t *bytes);

/**
 * Calls `fn` for every directive under `section`, depth first, with its
 * dotted path ("log.level", "listen[].address").
 */
void pl_cfg_walk(const pl_cfg_section *section,
                 void (*fn)(const char *path, const pl_cfg_directive *d,
                            void *arg),
                 void *arg);

/** The type as written in docs ("duration", "enum", "address"). */
const char *pl_cfg_type_name(const pl_cfg_directive *d);

#ifdef __cplusplus
}
#endif

#endif
