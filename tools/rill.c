/*
 * rill.c -- the `rill` command-line tool: global options and subcommand
 * dispatch.  Each subcommand lives in its own file under tools/cli/; this
 * file only finds it.  Exit codes: 0 done, 1 something failed, 2 bad usage
 * or configuration (nothing was started).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/admin.h"
#include "cli/cli.h"
#include "cli/consume.h"

typedef int(cmd_fn)(rill_conf_t *conf, int argc, char **argv);

static const struct cmd {
    const char *name;
    cmd_fn *fn; /* NULL: comes with the consumer (issue 4) */
    const char *usage;
    const char *summary;
} cmds[] = {
    {"produce", cli_produce, cli_produce_usage, "send each line of stdin as a message"},
    {"consume", cli_consume, cli_consume_usage, "print the messages of a topic"},
    {"topic", cli_topic, cli_topic_usage, "create, delete, alter, list and describe topics"},
    {"group", cli_group, cli_group_usage, "list, describe and delete consumer groups"},
    {"perf", cli_perf, cli_perf_usage, "producer and consumer throughput benchmarks"},
};
#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static void usage(FILE *out) {
    fputs("usage: rill [-b HOST:PORT[,...]] [-X KEY=VALUE]... COMMAND [ARGS]\n"
          "       rill help [COMMAND] | rill --version\n"
          "Commands:\n",
          out);
    for (size_t i = 0; i < NCMDS; i++)
        fprintf(out, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
    fputs("Every command also takes -b and -X after its name:\n" CLI_COMMON_USAGE, out);
}

static const struct cmd *find_cmd(const char *name) {
    for (size_t i = 0; i < NCMDS; i++)
        if (!strcmp(cmds[i].name, name))
            return &cmds[i];
    return NULL;
}

static int help(int argc, char **argv) {
    if (argc < 2) {
        usage(stdout);
        return CLI_OK;
    }
    const struct cmd *c = find_cmd(argv[1]);
    if (!c) {
        fprintf(stderr, "rill: unknown command \"%s\"\n", argv[1]);
        usage(stderr);
        return CLI_USAGE;
    }
    fputs(c->usage, stdout);
    return CLI_OK;
}

static int version(void) {
    printf("rill %s (librill %s)\n", RILL_VERSION_STR, rill_version_str());
    return CLI_OK;
}

/* Options before the command; returns -1 to go on, or an exit code. */
static int global_options(rill_conf_t *conf, int argc, char **argv) {
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'}, {"version", no_argument, NULL, 'V'}, {0}};
    int c, r;
    opterr = 0;
    /* '+': stop at the command name, whose own options follow it. */
    while ((c = getopt_long(argc, argv, "+:b:X:hV", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
        case 'X':
            if ((r = cli_common_option(conf, "", c, optarg)) >= 0)
                return r;
            break;
        case 'h':
            usage(stdout);
            return CLI_OK;
        case 'V':
            return version();
        case ':':
            fprintf(stderr, "rill: option -%c needs a value\n", optopt);
            usage(stderr);
            return CLI_USAGE;
        default:
            fprintf(stderr, "rill: unknown option %s\n", argv[optind - 1]);
            usage(stderr);
            return CLI_USAGE;
        }
    }
    return -1;
}

int main(int argc, char **argv) {
    rill_conf_t *conf = rill_conf_new();
    if (!conf) {
        fprintf(stderr, "rill: out of memory\n");
        return CLI_FAIL;
    }
    int rc = global_options(conf, argc, argv);
    if (rc < 0) {
        int sub_argc = argc - optind;
        char **sub_argv = argv + optind;
        const struct cmd *c;
        if (sub_argc < 1) {
            usage(stderr);
            rc = CLI_USAGE;
        } else if (!strcmp(sub_argv[0], "help")) {
            rc = help(sub_argc, sub_argv);
        } else if (!strcmp(sub_argv[0], "version")) {
            rc = version();
        } else if (!(c = find_cmd(sub_argv[0]))) {
            fprintf(stderr, "rill: unknown command \"%s\"\n", sub_argv[0]);
            usage(stderr);
            rc = CLI_USAGE;
        } else {
            rc = c->fn(conf, sub_argc, sub_argv);
        }
    }
    rill_conf_destroy(conf);
    return rc;
}
