/*
 * Internal interface between `parley` subcommands and the dispatcher in
 * main.c. Each subcommand lives in its own cmd_<name>.c and exports one
 * pl_cli_command; main.c lists them in `commands[]`.
 */
#ifndef PARLEY_CLI_H
#define PARLEY_CLI_H

#include <stdio.h>

/* Exit codes shared by every subcommand. */
enum {
    PL_EXIT_OK = 0,      /* success */
    PL_EXIT_FAILURE = 1, /* runtime failure */
    PL_EXIT_USAGE = 2    /* usage or configuration error */
};

typedef struct pl_cli_command {
    const char *name;
    const char *summary; /* one line for `parley --help` */
    const char *usage;   /* "parley config check [-c FILE]" (may hold several lines) */
    const char *help;    /* the options and details, for `parley help NAME` */
    /* argv[0] is the subcommand's name; returns a PL_EXIT_* code. */
    int (*run)(int argc, char **argv);
} pl_cli_command;

extern const pl_cli_command pl_cli_cmd_serve;
extern const pl_cli_command pl_cli_cmd_config;
extern const pl_cli_command pl_cli_cmd_detect;
extern const pl_cli_command pl_cli_cmd_normalize;
extern const pl_cli_command pl_cli_cmd_policy;
extern const pl_cli_command pl_cli_cmd_translate;

#define PL_CLI_DEFAULT_CONFIG "parley.yaml"

struct pl_config;

/** The configuration path when -c is not given: $PARLEY_CONFIG or ./parley.yaml. */
const char *pl__cli_default_config(void);

/**
 * Loads the configuration at `path`, printing every error as
 * FILE:LINE:COL: message on stderr. Returns 0 or a pl_err.
 */
int pl__cli_load_config(const char *path, struct pl_config **out);

/**
 * Prints "parley NAME: message", the command's usage and a pointer to
 * `parley help NAME` on stderr; returns PL_EXIT_USAGE.
 */
int pl__cli_usage_error(const pl_cli_command *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * Reports the getopt_long() result `c` ('?' or ':', with an optstring that
 * starts with ':') as "unknown option" or "option needs a value"; returns
 * PL_EXIT_USAGE.
 */
int pl__cli_bad_option(const pl_cli_command *cmd, int c, char **argv);

/** Prints the full help of `cmd` to `out`. */
void pl__cli_print_help(const pl_cli_command *cmd, FILE *out);

/**
 * getopt_long wrapper state reset, so that each subcommand parses its own
 * argv from the start (main.c already consumed the global options).
 */
void pl__cli_reset_getopt(void);

#endif
