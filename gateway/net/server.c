/*
 * The gateway process: one worker thread per core, each with its own libuv
 * loop, SO_REUSEPORT listeners, curl multi handle and metrics shard; the
 * thread that calls pl_server_run() handles signals: SIGHUP reloads the
 * configuration (reload_configuration), SIGINT/SIGTERM drain and stop.
 */
#include "parley/server.h"
#include "parley/error.h"
#include "parley/log.h"
#include "parley/policy.h"
#include "parley/runtime.h"

#include "net_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct pl_server {
    const pl_server_options *opts;
    uv_loop_t *loop; /* the supervising loop */
    uv_signal_t sigint, sigterm, sighup;
    pl_watch *policy_watch; /* NULL unless policies.watch */
    pl_watch *config_watch; /* NULL unless watch_config */
    pl_worker *workers;
    unsigned nworkers;
    pl_server_state state;
    size_t ntls;
    int stopping;
} pl_server;

/* ---- per-worker helpers used by the connection code ---- */

void pl__worker_request_id(pl_worker *w, char *out, size_t size)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = size - 1 < 32 ? size - 1 : 32;
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++) {
        if (i % 16 == 0) {
            /* xorshift64*: unique enough for correlation, not a secret. */
            w->rng ^= w->rng >> 12;
            w->rng ^= w->rng << 25;
            w->rng ^= w->rng >> 27;
            v = w->rng * 2685821657736338717ULL;
        }
        out[i] = hex[v & 15];
        v >>= 4;
    }
    out[n] = '\0';
}

static void access_flush(pl_worker *w)
{
    size_t off = 0;

    while (off < w->access.len) {
        ssize_t n = write(w->server->access_fd, w->access.buf + off,
                          w->access.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* a full disk must not stop the proxy */
        off += (size_t)n;
    }
    w->access.len = 0;
}

void pl__access_log(pl_worker *w, const pl_stream *s)
{
    char line[2048];
    size_t len = 0;
    uint64_t now = uv_hrtime();
    const pl_route_config *r = s->route;

    if (w->server->access_fd < 0)
        return;
    len = (size_t)snprintf(line, sizeof(line), "{\"method\":\"");
    pl_json_escape_append(line, 600, &len, s->method ? s->method : "-");
    len += (size_t)snprintf(line + len, sizeof(line) - len, "\",\"path\":\"");
    pl_json_escape_append(line, 1400, &len, s->path ? s->path : "-");
    len += (size_t)snprintf(line + len, sizeof(line) - len,
                            "\",\"status\":%d,\"bytes_in\":%llu,\"bytes_out\":%llu,"
                            "\"duration_ms\":%.3f,\"upstream_ms\":%.3f,"
                            "\"request_id\":\"%s\",\"protocol\":\"%s\",\"route\":\"",
                            s->status, (unsigned long long)s->req_bytes,
                            (unsigned long long)s->resp_bytes,
                            (double)(now - s->t_start) / 1e6,
                            (double)s->upstream_ns / 1e6, s->request_id,
                            pl_proto_name(s->proto));
    pl_json_escape_append(line, 1900, &len, r ? r->name : "");
    len += (size_t)snprintf(line + len, sizeof(line) - len,
                            "\",\"client\":\"%s\"}\n", s->client_ip ? s->client_ip : "");
    if (len >= sizeof(line))
        len = sizeof(line) - 1;
    if (w->access.len + len > w->access.cap) {
        size_t cap = w->access.cap ? w->access.cap * 2 : 65536;
        while (cap < w->access.len + len)
            cap *= 2;
        char *n = realloc(w->access.buf, cap);
        if (n == NULL)
            return;
        w->access.buf = n;
        w->access.cap = cap;
    }
    memcpy(w->access.buf + w->access.len, line, len);
    w->access.len += len;
    if (w->access.len > 60000)
        access_flush(w);
}

static void on_prepare(uv_prepare_t *p)
{
    pl_worker *w = p->data;

    if (w->access.len > 0)
        access_flush(w);
}

/* ---- listeners ---- */

static void on_connection(uv_stream_t *server, int status)
{
    pl_listener *l = server->data;

    if (status < 0 || !l->open)
        return;
    pl__conn_accept(l);
}

/*
 * SO_REUSEPORT lets any process of the same user bind the port too, and
 * the kernel would then split connections between the two servers. Before
 * the first worker binds, a plain bind checks that nobody holds the port.
 */
static int port_taken(const struct sockaddr_storage *ss)
{
    int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    int taken;

    if (fd < 0)
        return 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ss->ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    taken = bind(fd, (const struct sockaddr *)ss,
                 ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                           : sizeof(struct sockaddr_in)) != 0 &&
            errno == EADDRINUSE;
    close(fd);
    return taken;
}

static int listener_open(pl_worker *w, pl_listener *l, const char *address,
                         int reuseport)
{
    struct sockaddr_storage ss;
    int fd, one = 1, r;

    if (pl_net_parse_address(address, &ss) != 0)
        return PL_EINVAL;
    if (reuseport && w->id == 0 && port_taken(&ss)) {
        pl_log_error("cannot listen on %s: the address is in use by another "
                     "process", address);
        return PL_ESYS;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (reuseport)
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&ss,
             ss.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                      : sizeof(struct sockaddr_in)) != 0) {
        close(fd);
        goto fail;
    }
    uv_tcp_init(&w->loop, &l->tcp);
    l->tcp.data = l;
    l->w = w;
    if ((r = uv_tcp_open(&l->tcp, fd)) != 0 ||
        (r = uv_listen((uv_stream_t *)&l->tcp, 4096, on_connection)) != 0) {
        errno = -r;
        l->open = 1; /* so that it gets closed */
        goto fail;
    }
    l->open = 1;
    return 0;

fail:
    pl_log_error("cannot listen on %s: %s", address, strerror(errno));
    return PL_ESYS;
}

static void listeners_close(pl_worker *w, int admin_too)
{
    for (size_t i = 0; i < w->nlisteners; i++) {
        pl_listener *l = &w->listeners[i];
        if (!l->open || (l->kind == LISTENER_ADMIN && !admin_too))
            continue;
        l->open = 0;
        uv_close((uv_handle_t *)&l->tcp, NULL);
    }
}

/* ---- worker lifecycle ---- */

static void worker_refresh_runtime(pl_worker *w)
{
    pl_runtime *rt = pl_runtime_acquire();

    if (rt == w->rt) {
        pl_runtime_release(rt);
        return;
    }
    pl_runtime_release(w->rt);
    w->rt = rt;
}

static void worker_stop(pl_worker *w)
{
    if (w->stopped)
        return;
    w->stopped = 1;
    listeners_close(w, 1);
    while (w->conns != NULL)
        pl__conn_close(w->conns);
    uv_close((uv_handle_t *)&w->wake, NULL);
    uv_close((uv_handle_t *)&w->drain_timer, NULL);
    uv_close((uv_handle_t *)&w->flush, NULL);
    uv_close((uv_handle_t *)&w->output, NULL);
    uv_close((uv_handle_t *)&w->output_soon, NULL);
    pl_proxy_worker_close(w->proxy);
    w->proxy = NULL;
}

/*
 * A worker whose client connections are gone stops, except the one serving
 * the admin listener: it keeps answering /readyz (503) and /metrics until
 * every worker has drained.
 */
static void worker_check_drained(pl_worker *w)
{
    if (!w->draining || w->stopped)
        return;
    if (!w->drained && w->nconns == 0) {
        w->drained = 1;
        uv_timer_stop(&w->drain_timer);
        if (atomic_fetch_sub(&w->server->workers_busy, 1) == 1 && w->id != 0)
            uv_async_send(w->server->admin_wake);
    }
    if (!w->drained)
        return;
    if (w->id != 0 || atomic_load(&w->server->workers_busy) == 0)
        worker_stop(w);
}

void pl__worker_conn_gone(pl_worker *w)
{
    worker_check_drained(w);
}

static void on_drain_timeout(uv_timer_t *t)
{
    pl_worker *w = t->data;

    pl_log_warn("worker %u: drain_timeout reached with %u connection(s) open; "
                "closing them",
                w->id, w->nconns);
    for (pl_conn *c = w->conns, *next; c != NULL; c = next) {
        next = c->next;
        if (!c->admin)
            pl__conn_close(c);
    }
}

void pl__worker_drain(pl_worker *w)
{
    const pl_config *cfg = w->rt ? w->rt->config : NULL;

    if (w->draining)
        return;
    w->draining = 1;
    listeners_close(w, 0);
    for (pl_conn *c = w->conns, *next; c != NULL; c = next) {
        next = c->next;
        if (c->admin)
            continue;
        if (c->h2 != NULL)
            pl__h2_drain(c);
        else if (c->h1 != NULL)
            pl__h1_drain(c);
        else
            pl__conn_close(c);
    }
    uv_timer_start(&w->drain_timer, on_drain_timeout,
                   cfg ? (uint64_t)cfg->drain_timeout : 30000, 0);
    worker_check_drained(w);
}

static void on_wake(uv_async_t *a)
{
    pl_worker *w = a->data;

    worker_refresh_runtime(w);
    if (atomic_load(&w->server->draining)) {
        pl__worker_drain(w);
        worker_check_drained(w);
    }
}

static void worker_main(void *arg)
{
    pl_worker *w = arg;

    atomic_fetch_add(&w->server->workers_up, 1);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    pl_runtime_release(w->rt);
    w->rt = NULL;
    free(w->access.buf);
    w->access.buf = NULL;
}

static int worker_init(pl_server *s, pl_worker *w, unsigned id)
{
    const pl_config *cfg;
    size_t n;
    int rc;

    w->id = id;
    w->server = &s->state;
    w->metrics = pl_metrics_shard_get(id);
    if (getrandom(&w->rng, sizeof(w->rng), 0) != sizeof(w->rng) || w->rng == 0)
        w->rng = uv_hrtime() ^ ((uint64_t)id << 32) ^ 0x9e3779b97f4a7c15ULL;
    if (uv_loop_init(&w->loop) != 0)
        return PL_ESYS;
    w->started = 1;
    uv_async_init(&w->loop, &w->wake, on_wake);
    w->wake.data = w;
    uv_timer_init(&w->loop, &w->drain_timer);
    w->drain_timer.data = w;
    uv_prepare_init(&w->loop, &w->flush);
    w->flush.data = w;
    uv_prepare_start(&w->flush, on_prepare);
    uv_unref((uv_handle_t *)&w->flush);
    uv_check_init(&w->loop, &w->output);
    w->output.data = w;
    uv_unref((uv_handle_t *)&w->output);
    uv_idle_init(&w->loop, &w->output_soon);
    uv_unref((uv_handle_t *)&w->output_soon);
    w->readbuf = malloc(PL_READ_CHUNK);
    if (w->readbuf == NULL)
        return PL_ENOMEM;
    worker_refresh_runtime(w);
    cfg = w->rt->config;
    if ((rc = pl_proxy_worker_new(&w->loop, w->metrics, &w->proxy)) != 0)
        return rc;
    n = cfg->listen.count + (id == 0 && cfg->admin.address ? 1 : 0);
    w->listeners = calloc(n ? n : 1, sizeof(*w->listeners));
    if (w->listeners == NULL)
        return PL_ENOMEM;
    for (size_t i = 0; i < cfg->listen.count; i++) {
        const pl_listen_config *lc = &((pl_listen_config *)cfg->listen.items)[i];
        pl_listener *l = &w->listeners[w->nlisteners++];
        l->kind = LISTENER_CLIENT;
        l->tls = s->state.tls_ctx[i];
        if ((rc = listener_open(w, l, lc->address, 1)) != 0)
            return rc;
    }
    if (id == 0 && cfg->admin.address) {
        pl_listener *l = &w->listeners[w->nlisteners++];
        l->kind = LISTENER_ADMIN;
        if ((rc = listener_open(w, l, cfg->admin.address, 0)) != 0)
            return rc;
    }
    return 0;
}

/* Undoes worker_init on a worker whose thread never ran. */
static void worker_abandon(pl_worker *w)
{
    if (!w->started)
        return;
    worker_stop(w);
    uv_run(&w->loop, UV_RUN_DEFAULT);
    uv_loop_close(&w->loop);
    pl_runtime_release(w->rt);
    free(w->readbuf);
    free(w->listeners);
}

static int workers_start(pl_server *s, unsigned n)
{
    int rc;
    unsigned i;

    s->workers = calloc(n, sizeof(*s->workers));
    if (s->workers == NULL)
        return PL_ENOMEM;
    s->nworkers = n;
    atomic_store(&s->state.workers_busy, n);
    for (i = 0; i < n; i++) {
        if ((rc = worker_init(s, &s->workers[i], i)) != 0)
            goto fail;
    }
    s->state.admin_wake = &s->workers[0].wake;
    for (i = 0; i < n; i++) {
        pl_worker *w = &s->workers[i];
        if (uv_thread_create(&w->thread, worker_main, w) != 0) {
            rc = PL_ESYS;
            pl_log_error("cannot start worker thread");
            goto fail_threads;
        }
        w->thread_running = 1;
    }
    return 0;

fail_threads:
    atomic_store(&s->state.draining, 1);
    for (unsigned j = 0; j < n; j++)
        if (s->workers[j].thread_running)
            uv_async_send(&s->workers[j].wake);
    return rc;
fail:
    for (unsigned j = 0; j < n; j++)
        worker_abandon(&s->workers[j]);
    free(s->workers);
    s->workers = NULL;
    s->nworkers = 0;
    return rc;
}

static void workers_join(pl_server *s)
{
    for (unsigned i = 0; i < s->nworkers; i++) {
        pl_worker *w = &s->workers[i];
        if (w->thread_running)
            uv_thread_join(&w->thread);
        else
            worker_abandon(w);
        if (w->thread_running) {
            uv_loop_close(&w->loop);
            free(w->readbuf);
            free(w->listeners);
        }
    }
    free(s->workers);
    s->workers = NULL;
    s->nworkers = 0;
}

/* ---- configuration and signals ---- */

static void apply_log_settings(const pl_config *cfg)
{
    pl_log_set_level((pl_log_level)cfg->log.level);
    pl_log_set_format((pl_log_format)cfg->log.format);
}

static int same_listeners(const pl_config *a, const pl_config *b)
{
    if (a->listen.count != b->listen.count)
        return 0;
    for (size_t i = 0; i < a->listen.count; i++) {
        const pl_listen_config *x = &((pl_listen_config *)a->listen.items)[i];
        const pl_listen_config *y = &((pl_listen_config *)b->listen.items)[i];
        if (strcmp(x->address, y->address) != 0 ||
            (x->tls.cert == NULL) != (y->tls.cert == NULL))
            return 0;
    }
    return 1;
}

/*
 * SIGHUP: reads and validates the whole file, then publishes it as the new
 * runtime snapshot for new requests; requests in flight keep theirs. An
 * invalid file changes nothing and every error is logged with its position.
 */
static void reload_configuration(pl_server *s)
{
    pl_diags diags;
    pl_config *cfg;
    pl_runtime *rt, *old;
    pl_policy_set *policies;
    uint64_t gen;

    pl_diags_init(&diags);
    if (pl_config_load(s->opts->config_path, &diags, &cfg) != 0) {
        pl_diags_sort(&diags);
        for (size_t i = 0; i < diags.count; i++) {
            const pl_diag *d = &diags.items[i];
            pl_log_error("reload rejected: %s:%u:%u: %s",
                         d->file ? d->file : s->opts->config_path, d->line,
                         d->column, d->message);
        }
        pl_log_warn("configuration reload failed with %zu error(s); "
                    "keeping the running configuration",
                    diags.errors);
        pl_diags_free(&diags);
        pl_metrics_reload(0);
        return;
    }
    pl_diags_free(&diags);
    if (pl_policy_reload(cfg, &policies) != 0) {
        pl_config_free(cfg);
        pl_metrics_reload(0);
        return;
    }
    old = pl_runtime_acquire();
    if (old != NULL && !same_listeners(old->config, cfg))
        pl_log_warn("reload: changes to 'listen' and 'workers' take effect "
                    "after a restart");
    pl_runtime_release(old);
    if (pl_runtime_new(cfg, &rt) != 0) {
        pl_policy_set_free(policies);
        pl_log_error("configuration reload failed: out of memory");
        pl_metrics_reload(0);
        return;
    }
    rt->policies = policies;
    apply_log_settings(cfg);
    gen = pl_runtime_publish(rt);
    for (unsigned i = 0; i < s->nworkers; i++)
        uv_async_send(&s->workers[i].wake);
    pl_metrics_reload(1);
    pl_log_info("configuration reloaded (generation %llu)",
                (unsigned long long)gen);
}

/* A watched file changed: the same reload as SIGHUP. */
static void on_watched_change(void *arg)
{
    pl_server *s = arg;

    if (!s->stopping)
        reload_configuration(s);
}

/* watch_config: the file's folder is watched (editors replace the file). */
static void watch_config_file(pl_server *s)
{
    const char *path = s->opts->config_path;
    const char *slash = strrchr(path, '/');
    char dir[1024];
    int rc;

    if (slash == NULL)
        snprintf(dir, sizeof(dir), ".");
    else
        snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path), path);
    rc = pl_watch_start(s->loop, dir, slash ? slash + 1 : path, on_watched_change, s,
                        &s->config_watch);
    if (rc != 0)
        pl_log_error("cannot watch the configuration file %s: %s", path, pl_strerror(rc));
    else
        pl_log_info("watching %s for changes", path);
}

static void on_signal(uv_signal_t *handle, int signum)
{
    pl_server *s = handle->data;

    if (signum == SIGHUP) {
        if (!s->stopping)
            reload_configuration(s);
        return;
    }
    if (s->stopping)
        return;
    s->stopping = 1;
    pl_log_info("received %s, draining and shutting down",
                signum == SIGINT ? "SIGINT" : "SIGTERM");
    atomic_store(&s->state.draining, 1);
    for (unsigned i = 0; i < s->nworkers; i++)
        uv_async_send(&s->workers[i].wake);
    uv_close((uv_handle_t *)&s->sigint, NULL);
    uv_close((uv_handle_t *)&s->sigterm, NULL);
    uv_close((uv_handle_t *)&s->sighup, NULL);
    pl_watch_stop(s->policy_watch);
    s->policy_watch = NULL;
    pl_watch_stop(s->config_watch);
    s->config_watch = NULL;
}

static unsigned worker_count(const pl_config *cfg)
{
    if (cfg->workers > 0)
        return (unsigned)cfg->workers;
    return uv_available_parallelism();
}

static int tls_setup(pl_server *s, const pl_config *cfg)
{
    char err[256];

    s->ntls = cfg->listen.count;
    s->state.tls_ctx = calloc(s->ntls ? s->ntls : 1, sizeof(SSL_CTX *));
    if (s->state.tls_ctx == NULL)
        return PL_ENOMEM;
    for (size_t i = 0; i < s->ntls; i++) {
        const pl_listen_config *lc = &((pl_listen_config *)cfg->listen.items)[i];
        if (lc->tls.cert == NULL)
            continue;
        s->state.tls_ctx[i] = pl__tls_ctx_new(&lc->tls, err, sizeof(err));
        if (s->state.tls_ctx[i] == NULL) {
            pl_log_error("listen %s: %s", lc->address, err);
            return PL_ECONFIG;
        }
    }
    return 0;
}

static void tls_teardown(pl_server *s)
{
    for (size_t i = 0; i < s->ntls; i++)
        pl__tls_ctx_free(s->state.tls_ctx[i]);
    free(s->state.tls_ctx);
}

static int access_log_open(const pl_config *cfg)
{
    const char *p = cfg->access_log.path;

    if (p == NULL || *p == '\0')
        return -1;
    if (strcmp(p, "-") == 0)
        return STDOUT_FILENO;
    int fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        pl_log_error("cannot open access log %s: %s", p, strerror(errno));
    return fd;
}

static void log_listeners(const pl_config *cfg)
{
    for (size_t i = 0; i < cfg->listen.count; i++) {
        const pl_listen_config *lc = &((pl_listen_config *)cfg->listen.items)[i];
        pl_log_info("listening on %s (%s)", lc->address,
                    lc->tls.cert ? "h2 and http/1.1 over TLS"
                                 : "http/1.1 and h2c");
    }
    if (cfg->admin.address)
        pl_log_info("admin endpoints on %s", cfg->admin.address);
}

int pl_server_run(const pl_server_options *opts)
{
    pl_server s = {.opts = opts};
    pl_runtime *rt = pl_runtime_acquire();
    unsigned n;
    int rc;

    if (rt == NULL)
        return PL_ESTATE;
    /* A peer that closed while we write must give EPIPE, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    apply_log_settings(rt->config);
    n = worker_count(rt->config);
    s.loop = uv_default_loop();
    pl_policy_watch_configured(s.loop, rt->config, on_watched_change, &s,
                               &s.policy_watch);
    if (rt->config->watch_config)
        watch_config_file(&s);
    s.state.nworkers = n;
    s.state.access_fd = access_log_open(rt->config);
    rc = pl_metrics_init(n);
    if (rc == 0)
        rc = tls_setup(&s, rt->config);
    if (rc == 0)
        log_listeners(rt->config);
    pl_runtime_release(rt);

    uv_signal_init(s.loop, &s.sigint);
    uv_signal_init(s.loop, &s.sigterm);
    uv_signal_init(s.loop, &s.sighup);
    s.sigint.data = s.sigterm.data = s.sighup.data = &s;
    uv_signal_start(&s.sigint, on_signal, SIGINT);
    uv_signal_start(&s.sigterm, on_signal, SIGTERM);
    uv_signal_start(&s.sighup, on_signal, SIGHUP);

    if (rc == 0)
        rc = workers_start(&s, n);
    if (rc == 0) {
        pl_log_fields(PL_LOG_INFO,
                      (pl_log_field[]){{"config", opts->config_path}}, 1,
                      "ready with %u worker(s)", n);
        uv_run(s.loop, UV_RUN_DEFAULT);
    } else {
        pl_watch_stop(s.policy_watch);
        pl_watch_stop(s.config_watch);
        uv_close((uv_handle_t *)&s.sigint, NULL);
        uv_close((uv_handle_t *)&s.sigterm, NULL);
        uv_close((uv_handle_t *)&s.sighup, NULL);
        uv_run(s.loop, UV_RUN_DEFAULT);
    }
    if (s.workers != NULL)
        workers_join(&s);
    uv_loop_close(s.loop);
    tls_teardown(&s);
    pl_metrics_free();
    if (s.state.access_fd > STDERR_FILENO)
        close(s.state.access_fd);
    if (rc == 0)
        pl_log_info("stopped");
    return rc;
}
