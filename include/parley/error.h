/*
 * Error codes and error reports shared by every Parley module.
 *
 * Functions return 0 on success or a negative pl_err. When the caller needs
 * more than the code, they also fill a pl_error with a message and, for input
 * read from a file, the file:line:column it refers to.
 */
#ifndef PARLEY_ERROR_H
#define PARLEY_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * X(name, value, message). Values are part of the API: append new codes at
 * the end with the next free value, never renumber or reuse one.
 */
#define PL_ERR_MAP(X)                                                        \
    X(PL_EINVAL, -1, "invalid argument")                                     \
    X(PL_ENOMEM, -2, "out of memory")                                        \
    X(PL_ELIMIT, -3, "size limit exceeded")                                  \
    X(PL_EIO, -4, "input/output error")                                      \
    X(PL_ENOENT, -5, "not found")                                            \
    X(PL_ESYNTAX, -6, "syntax error")                                        \
    X(PL_ECONFIG, -7, "invalid configuration")                               \
    X(PL_EUTF8, -8, "invalid UTF-8")                                         \
    X(PL_EICU, -9, "ICU error")                                              \
    X(PL_ECURL, -10, "transfer error")                                       \
    X(PL_EHTTP2, -11, "HTTP/2 protocol error")                               \
    X(PL_ETIMEDOUT, -12, "timed out")                                        \
    X(PL_ECANCELED, -13, "canceled")                                         \
    X(PL_EUPSTREAM, -14, "upstream error")                                   \
    X(PL_EUNSUPPORTED, -15, "not supported")                                 \
    X(PL_EBUSY, -16, "resource busy")                                        \
    X(PL_EPOLICY, -17, "invalid policy")                                     \
    X(PL_ETRANSLATE, -18, "translation failed")                              \
    X(PL_ESYS, -19, "system call failed")                                    \
    X(PL_ESTATE, -20, "operation not allowed in this state")

typedef enum pl_err {
    PL_OK = 0,
#define PL__ERR_ENUM(name, value, message) name = value,
    PL_ERR_MAP(PL__ERR_ENUM)
#undef PL__ERR_ENUM
} pl_err;

/**
 * Returns a static, human-readable description of `code` (0 gives
 * "success"; an unknown code gives "unknown error"). Never returns NULL.
 */
const char *pl_strerror(int code);

/**
 * Returns the symbolic name of `code` ("PL_ENOMEM"), or "PL_OK", or
 * "PL_UNKNOWN". Never returns NULL.
 */
const char *pl_errname(int code);

#define PL_ERROR_MESSAGE_MAX 512
#define PL_ERROR_FILE_MAX 256

/*
 * A report of one failure. `line` and `column` are 1-based; 0 means the
 * error has no position (then `file` may still name the file).
 */
typedef struct pl_error {
    int code;
    unsigned line;
    unsigned column;
    char file[PL_ERROR_FILE_MAX];
    char message[PL_ERROR_MESSAGE_MAX];
} pl_error;

/** Resets `err` to "no error". */
void pl_error_clear(pl_error *err);

/**
 * Records `code` and a printf-style message in `err` (which may be NULL, in
 * which case only the code is returned). Returns `code`, so that callers can
 * write `return pl_error_set(err, PL_EINVAL, "...")`.
 */
int pl_error_set(pl_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Like pl_error_set(), also recording the file position. */
int pl_error_set_at(pl_error *err, int code, const char *file, unsigned line,
                    unsigned column, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/**
 * Writes "file:line:col: message" (or "file: message", or just the
 * message, depending on what is known) into buf, NUL-terminated, truncated to
 * `size`. Returns `buf`.
 */
const char *pl_error_format(const pl_error *err, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif
