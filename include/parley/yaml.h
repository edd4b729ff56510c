/*
 * A read-only YAML tree in which every node remembers its file, line and
 * column, built with libyaml. Configuration and policy loaders validate
 * this tree, so every error they report can point at the exact spot.
 */
#ifndef PARLEY_YAML_H
#define PARLEY_YAML_H

#include <stddef.h>

#include "parley/arena.h"
#include "parley/diag.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pl_yaml_kind {
    PL_YAML_SCALAR = 0,
    PL_YAML_MAP,
    PL_YAML_SEQ
} pl_yaml_kind;

typedef struct pl_yaml_node pl_yaml_node;

typedef struct pl_yaml_pair {
    pl_yaml_node *key; /* always a scalar */
    pl_yaml_node *value;
} pl_yaml_pair;

struct pl_yaml_node {
    pl_yaml_kind kind;
    unsigned line;    /* 1-based */
    unsigned column;  /* 1-based, in characters */
    const char *file; /* the document's name, shared by all its nodes */
    /* Scalars: the value, NUL-terminated (it may also contain NULs). */
    const char *value;
    size_t len;
    int plain;      /* written without quotes (so "null" and "~" mean null) */
    int expanded;   /* environment references already replaced */
    size_t count;   /* pairs of a map, items of a sequence */
    pl_yaml_pair *pairs;
    pl_yaml_node **items;
};

typedef struct pl_yaml_doc {
    pl_arena arena;     /* owns every node and string */
    pl_yaml_node *root; /* NULL for an empty file */
    const char *file;
} pl_yaml_doc;

/** Largest file the loaders read, to keep a stray huge file harmless. */
#define PL_YAML_MAX_BYTES (16u * 1024 * 1024)

/**
 * Parses the file at `path` into `doc`. On a syntax error, an unreadable
 * file, more than one document or a duplicate key, adds positioned errors
 * to `diags` and returns PL_ESYNTAX (or PL_EIO/PL_ENOENT/PL_ELIMIT for file
 * problems). `doc` must be freed with pl_yaml_doc_free() in every case.
 */
int pl_yaml_load_file(pl_yaml_doc *doc, const char *path, pl_diags *diags);

/** Same as pl_yaml_load_file() for text in memory; `name` is used in errors. */
int pl_yaml_load_string(pl_yaml_doc *doc, const char *name, const char *text,
                        size_t len, pl_diags *diags);

/** Frees everything the document owns. */
void pl_yaml_doc_free(pl_yaml_doc *doc);

/** Returns the value for `key` in a map node, or NULL (also for non-maps). */
pl_yaml_node *pl_yaml_map_get(const pl_yaml_node *map, const char *key);

/** Returns non-zero for a plain empty, "~", "null", "Null" or "NULL" scalar. */
int pl_yaml_is_null(const pl_yaml_node *node);

/** Returns "a mapping", "a sequence" or "a scalar" for messages. */
const char *pl_yaml_kind_name(pl_yaml_kind kind);

/**
 * Replaces ${VAR} and ${VAR:-default} in every scalar value (not keys) with
 * the environment's value (the default also replaces an empty VAR, as in
 * the shell); "$${" stands for a literal "${". An unset VAR
 * without a default, or a malformed reference, is an error at the
 * reference's position. Returns 0, or PL_ECONFIG when errors were added.
 */
int pl_yaml_expand_env(pl_yaml_doc *doc, pl_diags *diags);

#ifdef __cplusplus
}
#endif

#endif
