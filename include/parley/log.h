/*
 * Leveled logging to stderr, as human-readable text or as JSON lines.
 * Safe to call from any thread: each record is formatted into a local
 * buffer and written with one write(2).
 */
#ifndef PARLEY_LOG_H
#define PARLEY_LOG_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum pl_log_level {
    PL_LOG_ERROR = 0,
    PL_LOG_WARN,
    PL_LOG_INFO,
    PL_LOG_DEBUG,
    PL_LOG_TRACE
} pl_log_level;

typedef enum pl_log_format { PL_LOG_TEXT = 0, PL_LOG_JSON } pl_log_format;

/* A structured field attached to a record: "key=value" or "key":"value". */
typedef struct pl_log_field {
    const char *key;
    const char *value;
} pl_log_field;

/** Records longer than this are truncated (and marked with "..."). */
#define PL_LOG_RECORD_MAX 4096

/** Sets the lowest level that is written (default PL_LOG_INFO). */
void pl_log_set_level(pl_log_level level);

/** Sets the output format (default PL_LOG_TEXT). */
void pl_log_set_format(pl_log_format format);

/** Sends records to `fd` instead of stderr (tests use a pipe). */
void pl_log_set_fd(int fd);

/** Returns non-zero when records at `level` are written. */
int pl_log_enabled(pl_log_level level);

/** Parses "error|warn|info|debug|trace"; returns 0, or PL_EINVAL. */
int pl_log_level_parse(const char *name, pl_log_level *out);

/** Returns the lower-case name of `level`. */
const char *pl_log_level_name(pl_log_level level);

/** Writes one record with a printf-style message. */
void pl_log(pl_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Writes one record with `n` structured fields after the message. */
void pl_log_fields(pl_log_level level, const pl_log_field *fields, size_t n,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/**
 * Appends `s` to buf[*len..size) as the body of a JSON string (without the
 * quotes), escaping as RFC 8259 requires; stops before overflowing and
 * returns -1 if it had to truncate, 0 otherwise. Shared with the access log.
 */
int pl_json_escape_append(char *buf, size_t size, size_t *len, const char *s);

#define pl_log_error(...) pl_log(PL_LOG_ERROR, __VA_ARGS__)
#define pl_log_warn(...) pl_log(PL_LOG_WARN, __VA_ARGS__)
#define pl_log_info(...) pl_log(PL_LOG_INFO, __VA_ARGS__)
#define pl_log_debug(...)                      \
    do {                                       \
        if (pl_log_enabled(PL_LOG_DEBUG))      \
            pl_log(PL_LOG_DEBUG, __VA_ARGS__); \
    } while (0)

#ifdef __cplusplus
}
#endif

#endif
