/*
 * Diagnostics for files that people edit (parley.yaml, policies): a list of
 * errors and warnings, each with file:line:column, collected in one pass so
 * an editor sees every problem at once. Also the "did you mean" helper.
 */
#ifndef PARLEY_DIAG_H
#define PARLEY_DIAG_H

#include <stddef.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pl_diag_severity { PL_DIAG_ERROR = 0, PL_DIAG_WARNING } pl_diag_severity;

typedef struct pl_diag {
    pl_diag_severity severity;
    unsigned line;   /* 1-based; 0 when the problem has no position */
    unsigned column; /* 1-based */
    char *file;      /* owned by the list */
    char *message;   /* owned by the list */
} pl_diag;

typedef struct pl_diags {
    pl_diag *items;
    size_t count;
    size_t capacity;
    size_t errors;   /* items with PL_DIAG_ERROR */
    size_t warnings; /* items with PL_DIAG_WARNING */
    size_t dropped;  /* not recorded because PL_DIAGS_MAX was reached */
} pl_diags;

/** A broken file could produce thousands of errors; keep the first ones. */
#define PL_DIAGS_MAX 1000

void pl_diags_init(pl_diags *d);
void pl_diags_free(pl_diags *d);

/**
 * Appends a diagnostic. `file` may be NULL. Returns 0, or PL_ENOMEM (the
 * list is unchanged then and `dropped` is incremented).
 */
int pl_diags_add(pl_diags *d, pl_diag_severity severity, const char *file,
                 unsigned line, unsigned column, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/** Sorts by file, line, column, keeping insertion order for equal keys. */
void pl_diags_sort(pl_diags *d);

/**
 * Prints each item as "file:line:col: error: message" (the "error: " part
 * only when `with_severity`), then a line about dropped items if any.
 */
void pl_diags_print(const pl_diags *d, FILE *out, int with_severity);

/**
 * Returns the candidate closest to `word` (case-insensitive edit distance,
 * transpositions count as one edit) when it is close enough to be a likely
 * typo, else NULL. `candidates` is NULL-terminated.
 */
const char *pl_suggest(const char *word, const char *const *candidates);

/** Edit distance with adjacent transpositions (exposed for tests). */
size_t pl_edit_distance(const char *a, const char *b);

#ifdef __cplusplus
}
#endif

#endif
