/*
 * pl_strerror() and the pl_error report helpers. The strings come from the
 * one PL_ERR_MAP table in include/parley/error.h.
 */
#include "parley/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *pl_strerror(int code)
{
    switch (code) {
    case PL_OK:
        return "success";
#define PL__ERR_STR(name, value, message) \
    case name:                            \
        return message;
        PL_ERR_MAP(PL__ERR_STR)
#undef PL__ERR_STR
    }
    return "unknown error";
}

const char *pl_errname(int code)
{
    switch (code) {
    case PL_OK:
        return "PL_OK";
#define PL__ERR_NAME(name, value, message) \
    case name:                             \
        return #name;
        PL_ERR_MAP(PL__ERR_NAME)
#undef PL__ERR_NAME
    }
    return "PL_UNKNOWN";
}

void pl_error_clear(pl_error *err)
{
    if (err == NULL)
        return;
    err->code = PL_OK;
    err->line = 0;
    err->column = 0;
    err->file[0] = '\0';
    err->message[0] = '\0';
}

static void error_vset(pl_error *err, int code, const char *fmt, va_list ap)
{
    err->code = code;
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
}

int pl_error_set(pl_error *err, int code, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return code;
    pl_error_clear(err);
    va_start(ap, fmt);
    error_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int pl_error_set_at(pl_error *err, int code, const char *file, unsigned line,
                    unsigned column, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return code;
    pl_error_clear(err);
    if (file != NULL)
        snprintf(err->file, sizeof(err->file), "%s", file);
    err->line = line;
    err->column = column;
    va_start(ap, fmt);
    error_vset(err, code, fmt, ap);
    va_end(ap);
    return code;
}

const char *pl_error_format(const pl_error *err, char *buf, size_t size)
{
    const char *msg = err->message[0] ? err->message : pl_strerror(err->code);

    if (size == 0)
        return buf;
    if (err->file[0] && err->line > 0)
        snprintf(buf, size, "%s:%u:%u: %s", err->file, err->line,
                 err->column, msg);
    else if (err->file[0])
        snprintf(buf, size, "%s: %s", err->file, msg);
    else
        snprintf(buf, size, "%s", msg);
    return buf;
}
