/*
 * Server TLS contexts for listeners: certificate and key from PEM files,
 * TLS 1.2 or newer, and ALPN that prefers h2 and falls back to http/1.1.
 * Connections use memory BIOs (gateway/net/conn.c); nothing here touches
 * a socket.
 */
#include "net_internal.h"

#include <openssl/err.h>
#include <stdio.h>
#include <string.h>

static int select_alpn(SSL *ssl, const unsigned char **out,
                       unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg)
{
    static const unsigned char ours[] = "\x02h2\x08http/1.1";
    unsigned char *sel = NULL;

    (void)ssl;
    (void)arg;
    if (SSL_select_next_proto(&sel, outlen, ours, sizeof(ours) - 1, in,
                              inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK; /* no common protocol: plain http/1.1 */
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

static void last_error(const char *what, const char *file, char *err,
                       size_t errlen)
{
    unsigned long e = ERR_get_error();
    char buf[200];

    ERR_error_string_n(e, buf, sizeof(buf));
    snprintf(err, errlen, "%s %s: %s", what, file, e ? buf : "unknown error");
    ERR_clear_error();
}

SSL_CTX *pl__tls_ctx_new(const pl_tls_config *cfg, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (ctx == NULL) {
        snprintf(err, errlen, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
                                 SSL_OP_NO_RENEGOTIATION |
                                 SSL_OP_CIPHER_SERVER_PREFERENCE);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert) != 1) {
        last_error("cannot load certificate", cfg->cert, err, errlen);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key, SSL_FILETYPE_PEM) != 1) {
        last_error("cannot load private key", cfg->key, err, errlen);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        last_error("key does not match certificate", cfg->key, err, errlen);
        goto fail;
    }
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
    return ctx;

fail:
    SSL_CTX_free(ctx);
    return NULL;
}

void pl__tls_ctx_free(SSL_CTX *ctx)
{
    SSL_CTX_free(ctx);
}
