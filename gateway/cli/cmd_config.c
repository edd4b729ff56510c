/*
 * `parley config check` validates a configuration file the way the server
 * would load it; `parley config directives` lists every directive.
 */
#include "cli.h"

#include "parley/config.h"
#include "parley/diag.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int config_run(int argc, char **argv);

const pl_cli_command pl_cli_cmd_config = {
    .name = "config",
    .summary = "check a configuration file, or list the directives",
    .usage = "parley config check [-c FILE]\n"
             "       parley config directives",
    .help = "Subcommands:\n"
            "  check       validate FILE as `parley serve` would; print\n"
            "              'configuration OK', or every error as\n"
            "              FILE:LINE:COL: message (exit status 2)\n"
            "  directives  list every directive: path, type, default, meaning\n\n"
            "Options:\n"
            "  -c, --config FILE  the configuration file (default: $PARLEY_CONFIG,\n"
            "                     else ./" PL_CLI_DEFAULT_CONFIG ")\n"
            "  -h, --help         show this help\n",
    .run = config_run,
};

const char *pl__cli_default_config(void)
{
    const char *env = getenv("PARLEY_CONFIG");

    return env != NULL && env[0] != '\0' ? env : PL_CLI_DEFAULT_CONFIG;
}

int pl__cli_load_config(const char *path, pl_config **out)
{
    pl_diags diags;
    int rc;

    pl_diags_init(&diags);
    rc = pl_config_load(path, &diags, out);
    if (rc != 0) {
        pl_diags_sort(&diags);
        pl_diags_print(&diags, stderr, 0);
        if (diags.count == 0)
            fprintf(stderr, "%s: cannot load the configuration\n", path);
    }
    pl_diags_free(&diags);
    return rc;
}

static int config_check(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = pl__cli_default_config();
    pl_config *cfg;
    int c;

    while ((c = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            path = optarg;
            break;
        case 'h':
            pl__cli_print_help(&pl_cli_cmd_config, stdout);
            return PL_EXIT_OK;
        default:
            return pl__cli_bad_option(&pl_cli_cmd_config, c, argv);
        }
    }
    if (optind < argc)
        return pl__cli_usage_error(&pl_cli_cmd_config,
                                   "unexpected argument '%s'", argv[optind]);
    if (pl__cli_load_config(path, &cfg) != 0)
        return PL_EXIT_USAGE;
    pl_config_free(cfg);
    printf("configuration OK\n");
    return PL_EXIT_OK;
}

static void print_directive(const char *path, const pl_cfg_directive *d,
                            void *arg)
{
    (void)arg;
    printf("%-28s %-16s %-10s %s\n", path, pl_cfg_type_name(d),
           d->required                           ? "(required)"
           : d->type == PL_CFG_SECTION           ? "-"
           : d->type == PL_CFG_LIST              ? "[]"
           : d->default_value                    ? d->default_value
                                                 : "(none)",
           d->doc ? d->doc : "");
}

static int config_directives(int argc, char **argv)
{
    if (argc > 1)
        return pl__cli_usage_error(&pl_cli_cmd_config,
                                   "unexpected argument '%s'", argv[1]);
    pl_cfg_walk(&pl_config_root, print_directive, NULL);
    return PL_EXIT_OK;
}

static int config_run(int argc, char **argv)
{
    if (argc < 2)
        return pl__cli_usage_error(&pl_cli_cmd_config, "missing subcommand");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        pl__cli_print_help(&pl_cli_cmd_config, stdout);
        return PL_EXIT_OK;
    }
    if (strcmp(argv[1], "check") == 0)
        return config_check(argc - 1, argv + 1);
    if (strcmp(argv[1], "directives") == 0)
        return config_directives(argc - 1, argv + 1);
    return pl__cli_usage_error(&pl_cli_cmd_config, "unknown subcommand '%s'",
                               argv[1]);
}
