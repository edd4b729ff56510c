/*
 * Fuzz target for the upstream response parser: any bytes, split at any
 * point, for a HEAD or another request, must never crash, leak, read out
 * of bounds or loop. The first byte chooses the split and the request kind.
 */
#include <stddef.h>
#include <stdint.h>

#include "parley/h1_response.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_header(void *arg, const char *n, size_t nl, const char *v, size_t vl)
{
    (void)arg;
    (void)n;
    (void)v;
    return nl == 0 || vl > (1u << 20);
}

static int on_head(void *arg, int status)
{
    (void)arg;
    return status < 100;
}

static int on_body(void *arg, const char *d, size_t len)
{
    size_t *total = arg;

    (void)d;
    *total += len;
    return 0;
}

static const pl_h1_resp_callbacks cbs = {on_header, on_head, on_body};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pl_h1_resp r = {0};
    size_t total = 0, off = 1, used;
    pl_h1_resp_result rc = PL_H1_RESP_MORE;

    if (size == 0)
        return 0;
    size_t step = (data[0] >> 1) + 1;
    pl_h1_resp_init(&r, &cbs, &total, data[0] & 1);
    while (off < size && rc == PL_H1_RESP_MORE) {
        size_t k = size - off < step ? size - off : step;
        rc = pl_h1_resp_feed(&r, (const char *)data + off, k, &used);
        if (used > k)
            __builtin_trap();
        off += used;
        /* A finished response leaves the rest for the next one. */
        if (rc == PL_H1_RESP_DONE && off < size) {
            pl_h1_resp_init(&r, &cbs, &total, 0);
            rc = PL_H1_RESP_MORE;
        }
    }
    if (rc == PL_H1_RESP_MORE)
        pl_h1_resp_eof(&r);
    pl_h1_resp_free(&r);
    return 0;
}
