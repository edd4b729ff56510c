/*
 * The network sections of parley.yaml: `listen`, `admin`, `limits`,
 * `timeouts` and `access_log`, declared as directive tables, plus the
 * address syntax they share.
 */
#include "parley/config.h"
#include "parley/error.h"
#include "parley/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int pl_net_parse_address(const char *text, void *out)
{
    struct sockaddr_storage *ss = out;
    char host[INET6_ADDRSTRLEN + 2] = "127.0.0.1";
    const char *port;
    char *end;
    long p;

    if (text == NULL || *text == '\0')
        return PL_EINVAL;
    if (text[0] == '[') {
        const char *close = strchr(text, ']');
        if (close == NULL || close[1] != ':' ||
            (size_t)(close - text - 1) >= sizeof(host))
            return PL_EINVAL;
        memcpy(host, text + 1, (size_t)(close - text - 1));
        host[close - text - 1] = '\0';
        port = close + 2;
    } else {
        const char *colon = strrchr(text, ':');
        if (colon == NULL) {
            port = text;
        } else {
            if ((size_t)(colon - text) >= sizeof(host) ||
                memchr(text, ':', (size_t)(colon - text)) != NULL)
                return PL_EINVAL;
            if (colon != text) {
                memcpy(host, text, (size_t)(colon - text));
                host[colon - text] = '\0';
            }
            port = colon + 1;
        }
    }
    p = strtol(port, &end, 10);
    if (*port == '\0' || *end != '\0' || p < 0 || p > 65535)
        return PL_EINVAL;
    memset(ss, 0, sizeof(*ss));
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    if (strchr(host, ':') != NULL) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            return PL_EINVAL;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)p);
    } else {
        struct sockaddr_in *a = (struct sockaddr_in *)ss;
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            return PL_EINVAL;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)p);
    }
    return 0;
}

static int parse_address(const pl_cfg_ctx *ctx, const pl_yaml_node *node,
                         void *dst)
{
    struct sockaddr_storage ss;

    if (node->kind != PL_YAML_SCALAR) {
        pl_diags_add(ctx->diags, PL_DIAG_ERROR, ctx->file, node->line,
                     node->column, "an address must be a string like "
                                   "'127.0.0.1:8080', '[::1]:8443' or '8080'");
        return PL_EINVAL;
    }
    if (pl_net_parse_address(node->value, &ss) != 0) {
        pl_diags_add(ctx->diags, PL_DIAG_ERROR, ctx->file, node->line,
                     node->column,
                     "'%s' is not an address: write IPv4:port, [IPv6]:port "
                     "or a port (which binds 127.0.0.1)",
                     node->value);
        return PL_EINVAL;
    }
    *(const char **)dst = pl_arena_strdup(ctx->arena, node->value);
    return 0;
}

static int tls_check(const pl_cfg_ctx *ctx, const pl_yaml_node *node, void *obj)
{
    pl_tls_config *t = obj;

    if ((t->cert == NULL) != (t->key == NULL) && node != NULL)
        pl_diags_add(ctx->diags, PL_DIAG_ERROR, ctx->file, node->line,
                     node->column, "'tls' needs both 'cert' and 'key'");
    return 0;
}

static const pl_cfg_directive tls_directives[] = {
    {.name = "cert",
     .type = PL_CFG_STRING,
     .offset = offsetof(pl_tls_config, cert),
     .doc = "PEM file with the server certificate (and chain)"},
    {.name = "key",
     .type = PL_CFG_STRING,
     .offset = offsetof(pl_tls_config, key),
     .doc = "PEM file with the certificate's private key"},
};

static const pl_cfg_section tls_section = {
    .name = "'tls'",
    .size = sizeof(pl_tls_config),
    .directives = tls_directives,
    .count = PL_CFG_COUNT(tls_directives),
    .check = tls_check,
};

static const pl_cfg_directive listen_directives[] = {
    {.name = "address",
     .type = PL_CFG_CUSTOM,
     .offset = offsetof(pl_listen_config, address),
     .required = 1,
     .parse = parse_address,
     .type_name = "address",
     .doc = "where clients connect: IPv4:port, [IPv6]:port, or a port on 127.0.0.1"},
    {.name = "tls",
     .type = PL_CFG_SECTION,
     .offset = offsetof(pl_listen_config, tls),
     .section = &tls_section,
     .doc = "serve TLS (h2 and http/1.1 by ALPN) with this certificate and key"},
};

const pl_cfg_section pl__listen_section = {
    .name = "'listen' item",
    .size = sizeof(pl_listen_config),
    .directives = listen_directives,
    .count = PL_CFG_COUNT(listen_directives),
};

static const pl_cfg_directive admin_directives[] = {
    {.name = "address",
     .type = PL_CFG_CUSTOM,
     .offset = offsetof(pl_admin_config, address),
     .parse = parse_address,
     .type_name = "address",
     .doc = "where /healthz, /readyz and /metrics are served; unset: no admin listener"},
};

const pl_cfg_section pl__admin_section = {
    .name = "'admin'",
    .size = sizeof(pl_admin_config),
    .directives = admin_directives,
    .count = PL_CFG_COUNT(admin_directives),
};

static const pl_cfg_directive limits_directives[] = {
    {.name = "header_block_size",
     .type = PL_CFG_SIZE,
     .offset = offsetof(pl_limits_config, header_block_size),
     .default_value = "16k",
     .min = 1024,
     .max = 1024 * 1024,
     .doc = "largest HTTP/1.1 request line plus headers (431 above)"},
    {.name = "request_body_size",
     .type = PL_CFG_SIZE,
     .offset = offsetof(pl_limits_config, request_body_size),
     .default_value = "128m",
     .min = 0,
     .max = INT64_MAX / 2,
     .doc = "largest request body (413 above)"},
    {.name = "connections",
     .type = PL_CFG_INT,
     .offset = offsetof(pl_limits_config, connections),
     .default_value = "65536",
     .min = 1,
     .max = 10000000,
     .doc = "open client connections for the whole process (503 above)"},
    {.name = "h2_max_concurrent_streams",
     .type = PL_CFG_INT,
     .offset = offsetof(pl_limits_config, h2_max_concurrent_streams),
     .default_value = "128",
     .min = 1,
     .max = 100000,
     .doc = "HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS per connection"},
    {.name = "h2_max_header_list_size",
     .type = PL_CFG_SIZE,
     .offset = offsetof(pl_limits_config, h2_max_header_list_size),
     .default_value = "16k",
     .min = 1024,
     .max = 1024 * 1024,
     .doc = "HTTP/2 SETTINGS_MAX_HEADER_LIST_SIZE (431 above)"},
    {.name = "h2_max_resets_per_second",
     .type = PL_CFG_INT,
     .offset = offsetof(pl_limits_config, h2_max_resets_per_second),
     .default_value = "200",
     .min = 1,
     .max = 1000000,
     .doc = "client RST_STREAM frames per second (averaged) before GOAWAY"},
    {.name = "h2_max_control_frames_per_second",
     .type = PL_CFG_INT,
     .offset = offsetof(pl_limits_config, h2_max_control_frames_per_second),
     .default_value = "200",
     .min = 1,
     .max = 1000000,
     .doc = "client SETTINGS and PING frames per second (averaged) before GOAWAY"},
};

const pl_cfg_section pl__limits_section = {
    .name = "'limits'",
    .size = sizeof(pl_limits_config),
    .directives = limits_directives,
    .count = PL_CFG_COUNT(limits_directives),
};

#define HOUR_MS (3600 * 1000)

static const pl_cfg_directive timeouts_directives[] = {
    {.name = "header_read",
     .type = PL_CFG_DURATION,
     .offset = offsetof(pl_timeouts_config, header_read),
     .default_value = "10s",
     .min = 1,
     .max = HOUR_MS,
     .doc = "time to receive a whole request head (HTTP/1.1: 408 and close)"},
    {.name = "body_idle",
     .type = PL_CFG_DURATION,
     .offset = offsetof(pl_timeouts_config, body_idle),
     .default_value = "30s",
     .min = 1,
     .max = HOUR_MS,
     .doc = "longest pause while a request body is arriving (408 and close)"},
    {.name = "keepalive_idle",
     .type = PL_CFG_DURATION,
     .offset = offsetof(pl_timeouts_config, keepalive_idle),
     .default_value = "75s",
     .min = 1,
     .max = HOUR_MS,
     .doc = "how long a connection without requests stays open"},
    {.name = "upstream_connect",
     .type = PL_CFG_DURATION,
     .offset = offsetof(pl_timeouts_config, upstream_connect),
     .default_value = "5s",
     .min = 1,
     .max = HOUR_MS,
     .doc = "time to connect to an upstream (504 after)"},
    {.name = "upstream_response",
     .type = PL_CFG_DURATION,
     .offset = offsetof(pl_timeouts_config, upstream_response),
     .default_value = "60s",
     .min = 1,
     .max = HOUR_MS,
     .doc = "time from sending a request until the upstream's response head, "
            "and longest pause inside the response body (504)"},
    {.name = "upstream_idle",
     .type = PL_CFG_DURATION,
     .offset = offsetof(pl_timeouts_config, upstream_idle),
     .default_value = "4s",
     .min = 0,
     .max = HOUR_MS,
     .doc = "how long an idle connection to an http:// upstream is kept for "
            "reuse (0: one connection per request)"},
};

const pl_cfg_section pl__timeouts_section = {
    .name = "'timeouts'",
    .size = sizeof(pl_timeouts_config),
    .directives = timeouts_directives,
    .count = PL_CFG_COUNT(timeouts_directives),
};

static const pl_cfg_directive access_log_directives[] = {
    {.name = "path",
     .type = PL_CFG_STRING,
     .offset = offsetof(pl_access_log_config, path),
     .default_value = "\"-\"",
     .doc = "JSON lines, one per request: '-' for stdout, a file to append to, '' for none"},
};

const pl_cfg_section pl__access_log_section = {
    .name = "'access_log'",
    .size = sizeof(pl_access_log_config),
    .directives = access_log_directives,
    .count = PL_CFG_COUNT(access_log_directives),
};
