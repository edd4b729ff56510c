/*
 * The upstream response parser: a strict HTTP/1.1 response reader that
 * parses the head once its end is in sight (memchr for the blank line,
 * then one pass over its lines) instead of byte by byte, and frames the
 * body by Content-Length, chunked encoding or the connection's end.
 * Malformed input (obs-fold, bare CR or LF, control characters, bad or
 * conflicting lengths, bad chunk sizes) is refused, never guessed at.
 */
#include "parley/h1_response.h"

#include "parley/arena.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum {
    S_HEAD = 0,
    S_LENGTH,
    S_CLOSE,
    S_CHUNK_SIZE,
    S_CHUNK_EXT,
    S_CHUNK_SIZE_LF,
    S_CHUNK_DATA,
    S_CHUNK_DATA_CR,
    S_CHUNK_DATA_LF,
    S_TRAILER,
    S_TRAILER_LINE,
    S_TRAILER_LF,
    S_TRAILER_END_LF,
    S_DONE,
    S_FAILED
};

typedef struct head_info {
    int status, minor;
    int has_length, chunked, other_coding, conn_close, conn_keep;
    uint64_t length;
} head_info;

void pl_h1_resp_init(pl_h1_resp *r, const pl_h1_resp_callbacks *cb, void *arg,
                     int no_body)
{
    char *buf = r->buf;
    size_t cap = r->buf_cap;

    memset(r, 0, sizeof(*r));
    r->cb = cb;
    r->arg = arg;
    r->no_body = no_body;
    r->buf = buf; /* kept for the next response on the connection */
    r->buf_cap = cap;
}

void pl_h1_resp_free(pl_h1_resp *r)
{
    free(r->buf);
    r->buf = NULL;
    r->buf_cap = r->buf_len = 0;
}

int pl_h1_resp_started(const pl_h1_resp *r)
{
    return r->seen;
}

static pl_h1_resp_result fail(pl_h1_resp *r, const char *why)
{
    r->state = S_FAILED;
    r->error = why;
    return PL_H1_RESP_INVALID;
}

/* RFC 9110 token characters, by byte: header names are checked per byte. */
static const unsigned char tchar[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1,
    ['+'] = 1, ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1,
    ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1,
    ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
    ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
    ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
    ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,
    ['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
    ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
    ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

/* Field values: visible characters, spaces, tabs and obs-text. */
static int value_ok(const char *v, size_t n)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    unsigned bad = 0;
    size_t i = 0;

    /* Eight bytes at a time while none is below 0x20 or 0x7f (exact "any"
     * tests); the first word with one, a tab say, is checked bytewise. */
    for (; i + 8 <= n; i += 8) {
        uint64_t w, del;
        memcpy(&w, v + i, 8);
        del = w ^ (ones * 0x7f);
        if ((((w - ones * 0x20) & ~w) | ((del - ones) & ~del)) & highs)
            break;
    }
    for (; i < n; i++) {
        unsigned char c = (unsigned char)v[i];
        bad |= (unsigned)((c < 0x20 && c != '\t') | (c == 0x7f));
    }
    return !bad;
}

static int has_token(const char *v, size_t n, const char *tok)
{
    size_t tlen = strlen(tok), i = 0;

    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t s = i;
        while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
            i++;
        if (i - s == tlen && strncasecmp(v + s, tok, tlen) == 0)
            return 1;
    }
    return 0;
}

/* Is `tok` the last coding listed? */
static int last_token_is(const char *v, size_t n, const char *tok)
{
    size_t tlen = strlen(tok);

    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == ','))
        n--;
    size_t s = n;
    while (s > 0 && v[s - 1] != ',' && v[s - 1] != ' ' && v[s - 1] != '\t')
        s--;
    return n - s == tlen && strncasecmp(v + s, tok, tlen) == 0;
}

static int framing_header(pl_h1_resp *r, head_info *hi, const char *name,
                          size_t nlen, const char *v, size_t vlen)
{
    if (nlen == 14 && strncasecmp(name, "content-length", 14) == 0) {
        uint64_t n = 0;
        if (vlen == 0 || vlen > 18)
            return fail(r, "bad Content-Length"), -1;
        for (size_t i = 0; i < vlen; i++) {
            if (v[i] < '0' || v[i] > '9')
                return fail(r, "bad Content-Length"), -1;
            n = n * 10 + (uint64_t)(v[i] - '0');
        }
        if (hi->has_length && n != hi->length)
            return fail(r, "conflicting Content-Length headers"), -1;
        hi->has_length = 1;
        hi->length = n;
    } else if (nlen == 17 && strncasecmp(name, "transfer-encoding", 17) == 0) {
        if (last_token_is(v, vlen, "chunked"))
            hi->chunked = 1;
        else
            hi->other_coding = 1;
    } else if (nlen == 10 && strncasecmp(name, "connection", 10) == 0) {
        hi->conn_close |= has_token(v, vlen, "close");
        hi->conn_keep |= has_token(v, vlen, "keep-alive");
    }
    return 0;
}

/*
 * The end of the line at p: its CR, which must be followed by LF (the head
 * always ends with one). NULL for a bare CR.
 */
static const char *line_end(const char *p, const char *end)
{
    const char *cr = memchr(p, '\r', (size_t)(end - p));

    return cr != NULL && cr[1] == '\n' ? cr : NULL;
}

/* Where "\r\n\r\n" ends in d[0..len), or 0: memchr is far faster than memmem. */
static size_t head_end(const char *d, size_t len)
{
    const char *p = d, *end = d + len;

    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        if (p - d >= 3 && p[-1] == '\r' && p[-2] == '\n' && p[-3] == '\r')
            return (size_t)(p - d) + 1;
        p++;
    }
    return 0;
}

/*
 * h[0..n) is a whole head ending with the blank line. Returns 0, or the
 * result to hand back (STOPPED or INVALID).
 */
static pl_h1_resp_result parse_head(pl_h1_resp *r, const char *h, size_t n)
{
    const char *end = h + n;
    const char *eol = line_end(h, end);
    size_t len;
    head_info hi = {0};

    if (eol == NULL)
        return fail(r, "bare CR in the status line");
    len = (size_t)(eol - h);

    if (len < 12 || memcmp(h, "HTTP/1.", 7) != 0 || (h[7] != '0' && h[7] != '1') ||
        h[8] != ' ' || h[9] < '1' || h[9] > '9' || h[10] < '0' || h[10] > '9' ||
        h[11] < '0' || h[11] > '9' || (len > 12 && h[12] != ' ') ||
        !value_ok(h, len))
        return fail(r, "bad status line");
    hi.minor = h[7] - '0';
    hi.status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
    if (hi.status == 101)
        return fail(r, "unexpected 101 Switching Protocols");
    int interim = hi.status < 200;

    for (const char *p = eol + 2; p < end - 2; p = eol + 2) {
        eol = line_end(p, end);
        if (eol == NULL)
            return fail(r, "bare CR in the response head");
        len = (size_t)(eol - p);
        const char *colon = memchr(p, ':', len);
        if (p[0] == ' ' || p[0] == '\t')
            return fail(r, "obs-fold in the response head");
        if (colon == NULL || colon == p)
            return fail(r, "bad header line");
        size_t nlen = (size_t)(colon - p);
        for (size_t i = 0; i < nlen; i++)
            if (!tchar[(unsigned char)p[i]])
                return fail(r, "bad header name");
        const char *v = colon + 1;
        size_t vlen = (size_t)(eol - v);
        while (vlen > 0 && (*v == ' ' || *v == '\t')) {
            v++;
            vlen--;
        }
        while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
            vlen--;
        if (!value_ok(v, vlen))
            return fail(r, "control character in a header value");
        if (interim)
            continue; /* 100 Continue, 103 Early Hints: not forwarded */
        if (framing_header(r, &hi, p, nlen, v, vlen) != 0)
            return PL_H1_RESP_INVALID;
        if (r->cb->on_header(r->arg, p, nlen, v, vlen) != 0)
            return PL_H1_RESP_STOPPED;
    }
    if (interim)
        return PL_H1_RESP_MORE; /* the final head follows */
    r->status = hi.status;
    r->keep_alive = hi.minor == 1 ? !hi.conn_close : hi.conn_keep && !hi.conn_close;
    if (r->no_body || hi.status == 204 || hi.status == 304) {
        r->state = S_DONE;
    } else if (hi.chunked) {
        r->state = S_CHUNK_SIZE;
    } else if (hi.other_coding || !hi.has_length) {
        r->state = S_CLOSE; /* the body ends with the connection */
        r->keep_alive = 0;
    } else {
        r->left = hi.length;
        r->state = hi.length > 0 ? S_LENGTH : S_DONE;
    }
    if (r->cb->on_head(r->arg, hi.status) != 0)
        return PL_H1_RESP_STOPPED;
    return PL_H1_RESP_MORE;
}

static int buf_append(pl_h1_resp *r, const char *p, size_t n)
{
    if (pl_grow(&r->buf, &r->buf_cap, r->buf_len + n, 1024) != 0)
        return -1;
    memcpy(r->buf + r->buf_len, p, n);
    r->buf_len += n;
    return 0;
}

/* Head state: parse a complete head, or keep what there is. */
static pl_h1_resp_result feed_head(pl_h1_resp *r, const char *d, size_t len,
                                   size_t *used)
{
    r->seen = 1;
    if (r->buf_len == 0) {
        size_t lim = len < PL_H1_RESP_HEAD_MAX ? len : PL_H1_RESP_HEAD_MAX;
        size_t n = head_end(d, lim);
        if (n > 0) {
            *used = n;
            return parse_head(r, d, n);
        }
        if (len >= PL_H1_RESP_HEAD_MAX)
            return fail(r, "response head too large");
        *used = len;
        return buf_append(r, d, len) == 0 ? PL_H1_RESP_MORE
                                          : fail(r, "out of memory");
    }
    size_t old = r->buf_len;
    size_t k = len < PL_H1_RESP_HEAD_MAX - old ? len : PL_H1_RESP_HEAD_MAX - old;
    if (buf_append(r, d, k) != 0)
        return fail(r, "out of memory");
    size_t from = old > 3 ? old - 3 : 0;
    size_t n = head_end(r->buf + from, r->buf_len - from);
    if (n == 0) {
        if (r->buf_len >= PL_H1_RESP_HEAD_MAX)
            return fail(r, "response head too large");
        *used = len;
        return PL_H1_RESP_MORE;
    }
    n += from;
    *used = n - old;
    r->buf_len = 0;
    return parse_head(r, r->buf, n);
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One byte of chunk framing (everything but the chunk data). */
static pl_h1_resp_result chunk_byte(pl_h1_resp *r, char c)
{
    int v;

    if (++r->line_len > PL_H1_RESP_LINE_MAX)
        return fail(r, "chunk line or trailers too long");
    switch (r->state) {
    case S_CHUNK_SIZE:
        if ((v = hex_value(c)) >= 0) {
            if (r->left >> 59)
                return fail(r, "chunk size too large");
            r->left = r->left * 16 + (uint64_t)v;
            r->digits++;
        } else if (r->digits > 0 && (c == ';' || c == ' ' || c == '\t')) {
            r->state = S_CHUNK_EXT;
        } else if (r->digits > 0 && c == '\r') {
            r->state = S_CHUNK_SIZE_LF;
        } else {
            return fail(r, "bad chunk size");
        }
        break;
    case S_CHUNK_EXT:
        if (c == '\r')
            r->state = S_CHUNK_SIZE_LF;
        else if (c == '\n')
            return fail(r, "bare LF in a chunk line");
        break;
    case S_CHUNK_SIZE_LF:
        if (c != '\n')
            return fail(r, "bad chunk line ending");
        r->digits = 0;
        r->line_len = 0;
        r->state = r->left == 0 ? S_TRAILER : S_CHUNK_DATA;
        break;
    case S_CHUNK_DATA_CR:
        if (c != '\r')
            return fail(r, "chunk data longer than its size");
        r->state = S_CHUNK_DATA_LF;
        break;
    case S_CHUNK_DATA_LF:
        if (c != '\n')
            return fail(r, "bad chunk data ending");
        r->line_len = 0;
        r->state = S_CHUNK_SIZE;
        break;
    case S_TRAILER:
        r->state = c == '\r' ? S_TRAILER_END_LF : S_TRAILER_LINE;
        if (c == '\n')
            return fail(r, "bare LF in the trailers");
        break;
    case S_TRAILER_LINE:
        if (c == '\r')
            r->state = S_TRAILER_LF;
        else if (c == '\n')
            return fail(r, "bare LF in the trailers");
        break;
    case S_TRAILER_LF:
        if (c != '\n')
            return fail(r, "bad trailer line ending");
        r->state = S_TRAILER;
        break;
    case S_TRAILER_END_LF:
        if (c != '\n')
            return fail(r, "bad end of trailers");
        r->state = S_DONE;
        break;
    }
    return PL_H1_RESP_MORE;
}

pl_h1_resp_result pl_h1_resp_feed(pl_h1_resp *r, const char *data, size_t len,
                                  size_t *used)
{
    size_t off = 0;
    pl_h1_resp_result rc = PL_H1_RESP_MORE;

    while (off < len && rc == PL_H1_RESP_MORE && r->state != S_DONE) {
        size_t k = 0;
        switch (r->state) {
        case S_HEAD:
            rc = feed_head(r, data + off, len - off, &k);
            off += k;
            break;
        case S_LENGTH:
        case S_CHUNK_DATA:
            k = len - off < r->left ? len - off : (size_t)r->left;
            r->left -= k;
            if (r->left == 0)
                r->state = r->state == S_LENGTH ? S_DONE : S_CHUNK_DATA_CR;
            if (r->cb->on_body(r->arg, data + off, k) != 0)
                rc = PL_H1_RESP_STOPPED;
            off += k;
            break;
        case S_CLOSE:
            k = len - off;
            off = len;
            if (r->cb->on_body(r->arg, data + off - k, k) != 0)
                rc = PL_H1_RESP_STOPPED;
            break;
        case S_FAILED:
            rc = PL_H1_RESP_INVALID;
            break;
        default:
            rc = chunk_byte(r, data[off++]);
            break;
        }
    }
    *used = off;
    if (rc != PL_H1_RESP_MORE)
        return rc;
    return r->state == S_DONE ? PL_H1_RESP_DONE : PL_H1_RESP_MORE;
}

pl_h1_resp_result pl_h1_resp_eof(pl_h1_resp *r)
{
    if (r->state == S_CLOSE || r->state == S_DONE) {
        r->state = S_DONE;
        return PL_H1_RESP_DONE;
    }
    return fail(r, pl_h1_resp_started(r) ? "the upstream closed mid-response"
                                         : "the upstream closed before answering");
}
