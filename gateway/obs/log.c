/*
 * The process-wide logger: level and format are atomics so that a reload
 * can change them while workers log.
 */
#include "parley/log.h"
#include "parley/error.h"

#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int log_level = PL_LOG_INFO;
static atomic_int log_format = PL_LOG_TEXT;
static atomic_int log_fd = STDERR_FILENO;

static const char *const level_names[] = {"error", "warn", "info", "debug",
                                          "trace"};

void pl_log_set_level(pl_log_level level) { atomic_store(&log_level, level); }

void pl_log_set_format(pl_log_format format)
{
    atomic_store(&log_format, format);
}

void pl_log_set_fd(int fd) { atomic_store(&log_fd, fd); }

int pl_log_enabled(pl_log_level level)
{
    return (int)level <= atomic_load(&log_level);
}

const char *pl_log_level_name(pl_log_level level)
{
    if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0]))
        return "unknown";
    return level_names[level];
}

int pl_log_level_parse(const char *name, pl_log_level *out)
{
    for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
        if (strcmp(name, level_names[i]) == 0) {
            *out = (pl_log_level)i;
            return 0;
        }
    }
    return PL_EINVAL;
}

int pl_json_escape_append(char *buf, size_t size, size_t *len, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = *len;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[7];
        size_t k;

        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            k = 2;
        } else if (c == '\n') {
            memcpy(esc, "\\n", 2);
            k = 2;
        } else if (c == '\r') {
            memcpy(esc, "\\r", 2);
            k = 2;
        } else if (c == '\t') {
            memcpy(esc, "\\t", 2);
            k = 2;
        } else if (c < 0x20 || c == 0x7f) {
            memcpy(esc, "\\u00", 4);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            k = 6;
        } else {
            esc[0] = (char)c;
            k = 1;
        }
        if (n + k >= size) {
            *len = n;
            return -1;
        }
        memcpy(buf + n, esc, k);
        n += k;
    }
    *len = n;
    return 0;
}

static void append_raw(char *buf, size_t size, size_t *len, const char *s)
{
    size_t k = strlen(s);

    if (*len + 1 >= size)
        return;
    if (k > size - 1 - *len)
        k = size - 1 - *len;
    memcpy(buf + *len, s, k);
    *len += k;
}

static void format_time(char *out, size_t size)
{
    struct timespec ts;
    struct tm tm;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
             tm.tm_min, tm.tm_sec, (int)(ts.tv_nsec / 1000000) % 1000);
}

/* Text values with spaces or quotes are quoted so lines stay parseable. */
static void append_text_value(char *buf, size_t size, size_t *len,
                              const char *v)
{
    if (v[0] != '\0' && strpbrk(v, " \t\"=\n") == NULL) {
        append_raw(buf, size, len, v);
        return;
    }
    append_raw(buf, size, len, "\"");
    pl_json_escape_append(buf, size, len, v);
    append_raw(buf, size, len, "\"");
}

static void log_write(pl_log_level level, const pl_log_field *fields,
                      size_t nfields, const char *fmt, va_list ap)
{
    char buf[PL_LOG_RECORD_MAX];
    char msg[PL_LOG_RECORD_MAX];
    char ts[64];
    size_t len = 0;
    /* Keep room for a closing brace, "..." and the newline. */
    size_t limit = sizeof(buf) - 8;
    int truncated;
    ssize_t w;

    truncated = vsnprintf(msg, sizeof(msg), fmt, ap) >= (int)sizeof(msg);
    format_time(ts, sizeof(ts));
    if (atomic_load(&log_format) == PL_LOG_JSON) {
        append_raw(buf, limit, &len, "{\"ts\":\"");
        append_raw(buf, limit, &len, ts);
        append_raw(buf, limit, &len, "\",\"level\":\"");
        append_raw(buf, limit, &len, pl_log_level_name(level));
        append_raw(buf, limit, &len, "\",\"msg\":\"");
        truncated |= pl_json_escape_append(buf, limit, &len, msg) < 0;
        append_raw(buf, limit, &len, "\"");
        for (size_t i = 0; i < nfields; i++) {
            append_raw(buf, limit, &len, ",\"");
            pl_json_escape_append(buf, limit, &len, fields[i].key);
            append_raw(buf, limit, &len, "\":\"");
            truncated |= pl_json_escape_append(buf, limit, &len,
                                               fields[i].value ? fields[i].value
                                                               : "") < 0;
            append_raw(buf, limit, &len, "\"");
        }
        if (truncated)
            append_raw(buf, limit, &len, ",\"truncated\":true");
        memcpy(buf + len, "}\n", 2);
        len += 2;
    } else {
        append_raw(buf, limit, &len, ts);
        append_raw(buf, limit, &len, " ");
        append_raw(buf, limit, &len, pl_log_level_name(level));
        append_raw(buf, limit, &len, level == PL_LOG_INFO || level == PL_LOG_WARN
                                         ? "  "
                                         : " ");
        append_raw(buf, limit, &len, msg);
        for (size_t i = 0; i < nfields; i++) {
            append_raw(buf, limit, &len, " ");
            append_raw(buf, limit, &len, fields[i].key);
            append_raw(buf, limit, &len, "=");
            append_text_value(buf, limit, &len,
                              fields[i].value ? fields[i].value : "");
        }
        if (truncated || len >= limit - 1) {
            memcpy(buf + len, "...", 3);
            len += 3;
        }
        buf[len++] = '\n';
    }
    do {
        w = write(atomic_load(&log_fd), buf, len);
    } while (w < 0 && errno == EINTR);
}

void pl_log(pl_log_level level, const char *fmt, ...)
{
    va_list ap;

    if (!pl_log_enabled(level))
        return;
    va_start(ap, fmt);
    log_write(level, NULL, 0, fmt, ap);
    va_end(ap);
}

void pl_log_fields(pl_log_level level, const pl_log_field *fields, size_t n,
                   const char *fmt, ...)
{
    va_list ap;

    if (!pl_log_enabled(level))
        return;
    va_start(ap, fmt);
    log_write(level, fields, n, fmt, ap);
    va_end(ap);
}
