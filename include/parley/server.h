/*
 * The gateway's worker threads. Each worker runs its own libuv loop; the
 * thread that calls pl_server_run() handles signals (SIGINT/SIGTERM stop,
 * SIGHUP reloads the configuration) and supervises the workers.
 */
#ifndef PARLEY_SERVER_H
#define PARLEY_SERVER_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct pl_server pl_server;

typedef struct pl_server_options {
    const char *config_path; /* re-read on SIGHUP */
} pl_server_options;

/**
 * Starts the workers for the current runtime snapshot (which must be
 * published) and runs until SIGINT or SIGTERM. Returns 0 after a clean
 * shutdown, or a pl_err when start-up failed (the error was logged).
 */
int pl_server_run(const pl_server_options *opts);

#ifdef __cplusplus
}
#endif

#endif
