/*
 * topic.c -- `rill topic create|delete`: topic administration through the
 * admin API, one line per topic on stdout, broker errors on stderr.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char cli_topic_usage[] =
    "usage: rill topic create TOPIC... [-p PARTITIONS] [-r REPLICATION] [-c KEY=VALUE]...\n"
    "                         [--if-not-exists] [-b ...] [-X ...]\n"
    "       rill topic delete TOPIC... [--if-exists] [-b ...] [-X ...]\n"
    "       rill topic list | describe     (not implemented yet)\n"
    "  -p PARTITIONS       partitions of a new topic (default: the broker's default)\n"
    "  -r REPLICATION      replication factor of a new topic (default: the broker's default)\n"
    "  -c KEY=VALUE        topic configuration, e.g. -c retention.ms=3600000 (repeatable)\n"
    "  --if-not-exists     an existing topic is not an error\n"
    "  --if-exists         a missing topic is not an error\n" CLI_COMMON_USAGE;

enum { OPT_IF_EXISTS = 256, OPT_IF_NOT_EXISTS };

struct topic_args {
    int create; /* 1 create, 0 delete */
    int32_t partitions;
    int16_t replication;
    rill_topic_config_t *configs;
    size_t config_cnt;
    int tolerant; /* --if-exists / --if-not-exists */
    char **names;
    size_t name_cnt;
};

static int add_config(struct topic_args *a, const char *arg) {
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return cli_usage_error("topic", cli_topic_usage, "-c expects KEY=VALUE, got \"%s\"",
                               arg);
    rill_topic_config_t *c = realloc(a->configs, (a->config_cnt + 1) * sizeof(*c));
    char *name = strndup(arg, (size_t)(eq - arg));
    if (c)
        a->configs = c;
    if (!c || !name) {
        free(name);
        fprintf(stderr, "rill topic: out of memory\n");
        return CLI_FAIL;
    }
    c[a->config_cnt].name = name;
    c[a->config_cnt].value = eq + 1;
    a->config_cnt++;
    return -1;
}

static void free_args(struct topic_args *a) {
    for (size_t i = 0; i < a->config_cnt; i++)
        free((char *)a->configs[i].name);
    free(a->configs);
}

/* argv[0] is "create" or "delete".  Returns -1 when good, else the exit code. */
static int parse_args(rill_conf_t *conf, int argc, char **argv, struct topic_args *a) {
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'},
                                             {"if-exists", no_argument, NULL, OPT_IF_EXISTS},
                                             {"if-not-exists", no_argument, NULL,
                                              OPT_IF_NOT_EXISTS},
                                             {0}};
    const char *opts = a->create ? ":p:r:c:" CLI_COMMON_OPTS : ":" CLI_COMMON_OPTS;
    int64_t v;
    int c, r;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, opts, longopts, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (cli_parse_int(optarg, 1, INT32_MAX, &v) < 0)
                return cli_usage_error("topic", cli_topic_usage,
                                       "-p expects a partition count >= 1, got \"%s\"", optarg);
            a->partitions = (int32_t)v;
            break;
        case 'r':
            if (cli_parse_int(optarg, 1, INT16_MAX, &v) < 0)
                return cli_usage_error("topic", cli_topic_usage,
                                       "-r expects a replication factor from 1 to 32767, got "
                                       "\"%s\"", optarg);
            a->replication = (int16_t)v;
            break;
        case 'c':
            if ((r = add_config(a, optarg)) >= 0)
                return r;
            break;
        case OPT_IF_EXISTS:
        case OPT_IF_NOT_EXISTS:
            if ((c == OPT_IF_NOT_EXISTS) != a->create)
                return cli_usage_error("topic", cli_topic_usage, "%s is for topic %s",
                                       argv[optind - 1], a->create ? "delete" : "create");
            a->tolerant = 1;
            break;
        case 'b':
        case 'X':
            if ((r = cli_common_option(conf, "topic", c, optarg)) >= 0)
                return r;
            break;
        case 'h':
            fputs(cli_topic_usage, stdout);
            return CLI_OK;
        default:
            return cli_getopt_error("topic", cli_topic_usage, c, optopt, argv[optind - 1]);
        }
    }
    if (optind >= argc)
        return cli_usage_error("topic", cli_topic_usage, "topic %s needs a topic name",
                               a->create ? "create" : "delete");
    for (int i = optind; i < argc; i++)
        if (!*argv[i] || strlen(argv[i]) > 249)
            return cli_usage_error("topic", cli_topic_usage,
                                   "\"%s\" is not a valid topic name (1 to 249 characters)",
                                   argv[i]);
    a->names = argv + optind;
    a->name_cnt = (size_t)(argc - optind);
    return -1;
}

static int run(rill_conf_t *conf, struct topic_args *a) {
    char err[512];
    rill_admin_t *adm = rill_admin_new(conf, err, sizeof(err));
    if (!adm) {
        fprintf(stderr, "rill topic: %s\n", err);
        return CLI_USAGE;
    }
    rill_topic_result_t *res = calloc(a->name_cnt, sizeof(*res));
    rill_new_topic_t *nt = calloc(a->name_cnt, sizeof(*nt));
    if (!res || !nt) {
        free(res);
        free(nt);
        rill_admin_destroy(adm);
        fprintf(stderr, "rill topic: out of memory\n");
        return CLI_FAIL;
    }
    int timeout = (int)cli_conf_int(conf, "request.timeout.ms", 30000);
    rill_err_t e;
    if (a->create) {
        for (size_t i = 0; i < a->name_cnt; i++)
            nt[i] = (rill_new_topic_t){.name = a->names[i],
                                       .num_partitions = a->partitions,
                                       .replication_factor = a->replication,
                                       .configs = a->configs,
                                       .config_cnt = a->config_cnt};
        e = rill_admin_create_topics(adm, nt, a->name_cnt, timeout, res);
    } else {
        e = rill_admin_delete_topics(adm, (const char *const *)a->names, a->name_cnt, timeout,
                                     res);
    }
    int rc = CLI_OK;
    for (size_t i = 0; i < a->name_cnt; i++) {
        rill_err_t te = e ? e : res[i].err;
        const char *name = a->names[i];
        if (!te) {
            printf("%s topic \"%s\"\n", a->create ? "Created" : "Deleted", name);
            continue;
        }
        if (a->tolerant && ((a->create && te == RILL_ERR_TOPIC_ALREADY_EXISTS) ||
                            (!a->create && te == RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION))) {
            printf("Topic \"%s\" %s\n", name, a->create ? "already exists" : "does not exist");
            continue;
        }
        fprintf(stderr, "rill topic %s: \"%s\": %s: %s\n", a->create ? "create" : "delete", name,
                rill_err_name(te), !e && res[i].errstr[0] ? res[i].errstr : rill_err_str(te));
        rc = CLI_FAIL;
    }
    fflush(stdout);
    free(res);
    free(nt);
    rill_admin_destroy(adm);
    return rc;
}

int cli_topic(rill_conf_t *conf, int argc, char **argv) {
    if (argc < 2)
        return cli_usage_error("topic", cli_topic_usage, "topic needs an action");
    const char *action = argv[1];
    if (!strcmp(action, "-h") || !strcmp(action, "--help") || !strcmp(action, "help")) {
        fputs(cli_topic_usage, stdout);
        return CLI_OK;
    }
    if (!strcmp(action, "list") || !strcmp(action, "describe"))
        return cli_not_implemented(!strcmp(action, "list") ? "topic list" : "topic describe");
    struct topic_args a = {.partitions = -1, .replication = -1};
    if (!strcmp(action, "create"))
        a.create = 1;
    else if (strcmp(action, "delete"))
        return cli_usage_error("topic", cli_topic_usage, "unknown action \"%s\"", action);
    int r = parse_args(conf, argc - 1, argv + 1, &a);
    if (r < 0)
        r = run(conf, &a);
    free_args(&a);
    return r;
}
