/*
 * An incremental, strict HTTP/1.1 response parser for the native upstream
 * client (gateway/proxy/h1_response.c): the head is parsed a line at a
 * time once it is complete, the body is framed by Content-Length, chunked
 * encoding or the end of the connection. No I/O; usable on its own.
 */
#ifndef PARLEY_H1_RESPONSE_H
#define PARLEY_H1_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The longest response head (status line and headers) accepted. */
#define PL_H1_RESP_HEAD_MAX (64 * 1024)
/* The longest chunk-size line or trailer section accepted. */
#define PL_H1_RESP_LINE_MAX 4096

typedef struct pl_h1_resp_callbacks {
    /** One header of the final (non-1xx) head. Non-zero stops parsing. */
    int (*on_header)(void *arg, const char *name, size_t nlen,
                     const char *value, size_t vlen);
    /** The final head is complete. Non-zero stops parsing. */
    int (*on_head)(void *arg, int status);
    /** Body bytes (already de-chunked). Non-zero stops parsing. */
    int (*on_body)(void *arg, const char *data, size_t len);
} pl_h1_resp_callbacks;

typedef enum pl_h1_resp_result {
    PL_H1_RESP_MORE = 0,  /* all input used, the response goes on */
    PL_H1_RESP_DONE,      /* the response is complete */
    PL_H1_RESP_STOPPED,   /* a callback returned non-zero */
    PL_H1_RESP_INVALID    /* malformed: see pl_h1_resp.error */
} pl_h1_resp_result;

typedef struct pl_h1_resp {
    const pl_h1_resp_callbacks *cb;
    void *arg;
    int no_body;     /* the request was HEAD */
    int state;       /* private */
    int status;      /* of the final head, once seen */
    int keep_alive;  /* the connection may carry another request */
    uint64_t left;   /* private: bytes of the current length or chunk */
    char *buf;       /* private: a head split across reads */
    size_t buf_len, buf_cap;
    int seen;        /* private: a byte of this response arrived */
    int digits;      /* private: hex digits of the chunk size so far */
    size_t line_len; /* private: bytes of the chunk line or trailers */
    const char *error; /* why the response is malformed */
} pl_h1_resp;

/** Prepares `r` for one response. `no_body`: the request was HEAD. */
void pl_h1_resp_init(pl_h1_resp *r, const pl_h1_resp_callbacks *cb, void *arg,
                     int no_body);

/**
 * Parses data[0..len). Returns the result and sets *used to the bytes
 * consumed: after DONE, bytes past *used belong to no response (the caller
 * must not reuse the connection); after STOPPED or INVALID nothing more may
 * be fed.
 */
pl_h1_resp_result pl_h1_resp_feed(pl_h1_resp *r, const char *data, size_t len,
                                  size_t *used);

/**
 * The connection ended. Returns DONE when that completes the response (a
 * body delimited by the close), INVALID otherwise.
 */
pl_h1_resp_result pl_h1_resp_eof(pl_h1_resp *r);

/** True once any byte of the response was fed. */
int pl_h1_resp_started(const pl_h1_resp *r);

/** Frees the buffer; `r` may be initialised again. */
void pl_h1_resp_free(pl_h1_resp *r);

#ifdef __cplusplus
}
#endif

#endif
