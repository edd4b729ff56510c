/*
 * Helpers shared by the subcommands: usage errors and help text.
 */
#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void pl__cli_print_help(const pl_cli_command *cmd, FILE *out)
{
    fprintf(out, "usage: %s\n\n%s.\n", cmd->usage, cmd->summary);
    if (cmd->help != NULL && cmd->help[0] != '\0')
        fprintf(out, "\n%s", cmd->help);
}

int pl__cli_usage_error(const pl_cli_command *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "parley %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: %s\nRun 'parley help %s' for details.\n",
            cmd->usage, cmd->name);
    return PL_EXIT_USAGE;
}

void pl__cli_reset_getopt(void)
{
    /* glibc re-initialises its scanner when optind is 0. */
    optind = 0;
    opterr = 0;
}

int pl__cli_bad_option(const pl_cli_command *cmd, int c, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "";
    /* Long options are named as typed (minus "=value"); short ones by letter. */
    int is_long = arg[0] == '-' && arg[1] == '-';
    int len = (int)strcspn(arg, "=");

    if (c == ':') {
        if (is_long)
            return pl__cli_usage_error(cmd, "option '%.*s' needs a value", len,
                                       arg);
        return pl__cli_usage_error(cmd, "option '-%c' needs a value", optopt);
    }
    if (is_long)
        return pl__cli_usage_error(cmd, "unknown option '%.*s'", len, arg);
    return pl__cli_usage_error(cmd, "unknown option '-%c'", optopt);
}
