/*
 * The `parley` command: global options and subcommand dispatch. Each
 * subcommand lives in its own cmd_<name>.c.
 */
#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const pl_cli_command *const commands[] = {
    &pl_cli_cmd_serve,
    &pl_cli_cmd_config,
    &pl_cli_cmd_detect,
    &pl_cli_cmd_normalize,
    &pl_cli_cmd_policy,
    &pl_cli_cmd_translate,
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const char *const global_usage =
    "usage: parley [--help] [--version] COMMAND [ARGS...]";

static void print_main_help(FILE *out)
{
    fprintf(out,
            "Parley, a multilingual gateway for customer-support chat.\n\n"
            "%s\n\nCommands:\n",
            global_usage);
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-12s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "  %-12s %s\n", "help", "show the help of a command");
    fprintf(out,
            "\nOptions:\n"
            "  -h, --help     show this help\n"
            "  -V, --version  show the version\n\n"
            "Exit status: 0 success, 1 runtime failure, 2 usage or "
            "configuration error.\n"
            "Run 'parley help COMMAND' for a command's options.\n");
}

static const pl_cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

static int unknown_command(const char *name)
{
    const char *best = NULL;
    size_t best_common = 0;

    /* A shared prefix of three or more letters is a good enough hint here. */
    for (size_t i = 0; i < NCOMMANDS; i++) {
        size_t k = 0;
        while (name[k] && name[k] == commands[i]->name[k])
            k++;
        if (k > best_common) {
            best_common = k;
            best = commands[i]->name;
        }
    }
    fprintf(stderr, "parley: unknown command '%s'", name);
    if (best != NULL && best_common >= 3)
        fprintf(stderr, "; did you mean '%s'?", best);
    fprintf(stderr, "\n%s\nRun 'parley --help' for the list of commands.\n",
            global_usage);
    return PL_EXIT_USAGE;
}

static int run_help(int argc, char **argv)
{
    const pl_cli_command *cmd;

    if (argc < 2) {
        print_main_help(stdout);
        return PL_EXIT_OK;
    }
    if (argc > 2) {
        fprintf(stderr, "parley help: too many arguments\n"
                        "usage: parley help [COMMAND]\n");
        return PL_EXIT_USAGE;
    }
    if (strcmp(argv[1], "help") == 0) {
        printf("usage: parley help [COMMAND]\n\nShows the help of COMMAND, or "
               "the list of commands.\n");
        return PL_EXIT_OK;
    }
    cmd = find_command(argv[1]);
    if (cmd == NULL)
        return unknown_command(argv[1]);
    pl__cli_print_help(cmd, stdout);
    return PL_EXIT_OK;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const pl_cli_command *cmd;
    int c;

    /* '+' stops at the subcommand: its options are its own. */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            print_main_help(stdout);
            return PL_EXIT_OK;
        case 'V':
            printf("parley %s\n", PARLEY_VERSION);
            return PL_EXIT_OK;
        default:
            fprintf(stderr, "parley: unknown option '%s'\n%s\n",
                    argv[optind - 1], global_usage);
            return PL_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "parley: missing command\n%s\n"
                        "Run 'parley --help' for the list of commands.\n",
                global_usage);
        return PL_EXIT_USAGE;
    }
    argc -= optind;
    argv += optind;
    pl__cli_reset_getopt();
    if (strcmp(argv[0], "help") == 0)
        return run_help(argc, argv);
    cmd = find_command(argv[0]);
    if (cmd == NULL)
        return unknown_command(argv[0]);
    return cmd->run(argc, argv);
}
