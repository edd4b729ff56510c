/*
 * `parley serve`: load and validate the configuration, publish it as the
 * first runtime snapshot, and run the gateway until SIGINT or SIGTERM.
 */
#include "cli.h"

#include "parley/config.h"
#include "parley/error.h"
#include "parley/log.h"
#include "parley/policy.h"
#include "parley/runtime.h"
#include "parley/server.h"

#include <getopt.h>
#include <stdio.h>

static int serve_run(int argc, char **argv)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    pl_server_options sopts = {.config_path = pl__cli_default_config()};
    pl_config *cfg;
    pl_runtime *rt;
    pl_policy_set *policies = NULL;
    pl_diags diags;
    int c, rc;

    while ((c = getopt_long(argc, argv, ":c:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            sopts.config_path = optarg;
            break;
        case 'h':
            pl__cli_print_help(&pl_cli_cmd_serve, stdout);
            return PL_EXIT_OK;
        default:
            return pl__cli_bad_option(&pl_cli_cmd_serve, c, argv);
        }
    }
    if (optind < argc)
        return pl__cli_usage_error(&pl_cli_cmd_serve,
                                   "unexpected argument '%s'", argv[optind]);
    if (pl__cli_load_config(sopts.config_path, &cfg) != 0)
        return PL_EXIT_USAGE;
    /* The policies are part of the first snapshot: a set with errors stops
     * the start, like an invalid configuration. */
    pl_diags_init(&diags);
    rc = pl_policy_load_configured(cfg, &diags, &policies);
    pl_diags_sort(&diags);
    pl_diags_print(&diags, stderr, 1);
    pl_diags_free(&diags);
    if (rc != 0) {
        pl_config_free(cfg);
        return rc == PL_ENOMEM ? PL_EXIT_FAILURE : PL_EXIT_USAGE;
    }
    if (pl_runtime_new(cfg, &rt) != 0) {
        pl_policy_set_free(policies);
        fprintf(stderr, "parley serve: out of memory\n");
        return PL_EXIT_FAILURE;
    }
    rt->policies = policies;
    pl_runtime_publish(rt);
    rc = pl_server_run(&sopts);
    pl_runtime_shutdown();
    return rc == 0 ? PL_EXIT_OK : PL_EXIT_FAILURE;
}

const pl_cli_command pl_cli_cmd_serve = {
    .name = "serve",
    .summary = "run the gateway in the foreground",
    .usage = "parley serve [-c FILE]",
    .help = "Runs until SIGINT (Ctrl-C) or SIGTERM, then stops cleanly.\n"
            "SIGHUP re-reads FILE and the policies folder (policies.dir): a\n"
            "valid pair is swapped in, an invalid one is rejected with every\n"
            "error logged and the running configuration and policies kept.\n"
            "With policies.watch (the default), a change in the policies\n"
            "folder reloads the same way; with watch_config: true, so does\n"
            "a change to FILE.\n\n"
            "Options:\n"
            "  -c, --config FILE  the configuration file (default: $PARLEY_CONFIG,\n"
            "                     else ./" PL_CLI_DEFAULT_CONFIG ")\n"
            "  -h, --help         show this help\n",
    .run = serve_run,
};
