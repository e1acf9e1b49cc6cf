/*
 * topic.c -- `rill topic create|delete|alter|list|describe`: topic
 * administration through the admin API.  create, delete and alter print
 * one line per topic on stdout; list and describe print tables; broker
 * errors go to stderr (exit 1).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "cli.h"

const char cli_topic_usage[] =
    "usage: rill topic create TOPIC... [-p PARTITIONS] [-r REPLICATION] [-c KEY=VALUE]...\n"
    "                         [--if-not-exists] [-b ...] [-X ...]\n"
    "       rill topic delete TOPIC... [--if-exists] [-b ...] [-X ...]\n"
    "       rill topic alter TOPIC... -p PARTITIONS [-b ...] [-X ...]\n"
    "       rill topic list [-b ...] [-X ...]\n"
    "       rill topic describe TOPIC... [-b ...] [-X ...]\n"
    "  -p PARTITIONS       partitions of a new topic (default: the broker's default);\n"
    "                      with alter, the new total (partitions can only be added)\n"
    "  -r REPLICATION      replication factor of a new topic (default: the broker's default)\n"
    "  -c KEY=VALUE        topic configuration, e.g. -c retention.ms=3600000 (repeatable)\n"
    "  --if-not-exists     an existing topic is not an error\n"
    "  --if-exists         a missing topic is not an error\n" CLI_COMMON_USAGE;

enum { OPT_IF_EXISTS = 256, OPT_IF_NOT_EXISTS };

enum action { CREATE, DELETE, ALTER, LIST, DESCRIBE };
static const char *const action_names[] = {"create", "delete", "alter", "list", "describe"};

struct topic_args {
    enum action action;
    int create; /* action == CREATE */
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
        return cli_usage_error("topic", cli_topic_usage, "-c expects KEY=VALUE, got \"%s\"", arg);
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

/* argv[0] is the action.  Returns -1 when good, else the exit code. */
static int parse_args(rill_conf_t *conf, int argc, char **argv, struct topic_args *a) {
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"if-exists", no_argument, NULL, OPT_IF_EXISTS},
        {"if-not-exists", no_argument, NULL, OPT_IF_NOT_EXISTS},
        {0}};
    const char *opts = a->create            ? ":p:r:c:" CLI_COMMON_OPTS
                       : a->action == ALTER ? ":p:" CLI_COMMON_OPTS
                                            : ":" CLI_COMMON_OPTS;
    const char *act = action_names[a->action];
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
                                       "\"%s\"",
                                       optarg);
            a->replication = (int16_t)v;
            break;
        case 'c':
            if ((r = add_config(a, optarg)) >= 0)
                return r;
            break;
        case OPT_IF_EXISTS:
        case OPT_IF_NOT_EXISTS:
            if (a->action != (c == OPT_IF_NOT_EXISTS ? CREATE : DELETE))
                return cli_usage_error("topic", cli_topic_usage, "%s is for topic %s",
                                       argv[optind - 1],
                                       c == OPT_IF_NOT_EXISTS ? "create" : "delete");
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
    if (a->action == LIST) {
        if (optind < argc)
            return cli_usage_error("topic", cli_topic_usage, "topic list takes no argument");
        return -1;
    }
    if (optind >= argc)
        return cli_usage_error("topic", cli_topic_usage, "topic %s needs a topic name", act);
    if (a->action == ALTER && a->partitions < 0)
        return cli_usage_error("topic", cli_topic_usage,
                               "topic alter needs -p with the new partition count");
    for (int i = optind; i < argc; i++)
        if (!*argv[i] || strlen(argv[i]) > 249)
            return cli_usage_error("topic", cli_topic_usage,
                                   "\"%s\" is not a valid topic name (1 to 249 characters)",
                                   argv[i]);
    a->names = argv + optind;
    a->name_cnt = (size_t)(argc - optind);
    return -1;
}

/* create, delete and alter: one line per topic. */
static int run_change(rill_admin_t *adm, int timeout, struct topic_args *a) {
    const char *act = action_names[a->action];
    rill_topic_result_t *res = calloc(a->name_cnt, sizeof(*res));
    rill_new_topic_t *nt = calloc(a->name_cnt, sizeof(*nt));
    rill_new_partitions_t *np = calloc(a->name_cnt, sizeof(*np));
    if (!res || !nt || !np) {
        free(res);
        free(nt);
        free(np);
        fprintf(stderr, "rill topic: out of memory\n");
        return CLI_FAIL;
    }
    rill_err_t e;
    if (a->action == CREATE) {
        for (size_t i = 0; i < a->name_cnt; i++)
            nt[i] = (rill_new_topic_t){.name = a->names[i],
                                       .num_partitions = a->partitions,
                                       .replication_factor = a->replication,
                                       .configs = a->configs,
                                       .config_cnt = a->config_cnt};
        e = rill_admin_create_topics(adm, nt, a->name_cnt, timeout, res);
    } else if (a->action == ALTER) {
        for (size_t i = 0; i < a->name_cnt; i++)
            np[i] = (rill_new_partitions_t){a->names[i], a->partitions};
        e = rill_admin_create_partitions(adm, np, a->name_cnt, timeout, res);
    } else {
        e = rill_admin_delete_topics(adm, (const char *const *)a->names, a->name_cnt, timeout, res);
    }
    int rc = CLI_OK;
    for (size_t i = 0; i < a->name_cnt; i++) {
        rill_err_t te = e ? e : res[i].err;
        const char *name = a->names[i];
        if (!te) {
            if (a->action == ALTER)
                printf("Topic \"%s\" now has %d partitions\n", name, (int)a->partitions);
            else
                printf("%s topic \"%s\"\n", a->create ? "Created" : "Deleted", name);
            continue;
        }
        if (a->tolerant && ((a->create && te == RILL_ERR_TOPIC_ALREADY_EXISTS) ||
                            (!a->create && te == RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION))) {
            printf("Topic \"%s\" %s\n", name, a->create ? "already exists" : "does not exist");
            continue;
        }
        fprintf(stderr, "rill topic %s: \"%s\": %s: %s\n", act, name, rill_err_name(te),
                !e && res[i].errstr[0] ? res[i].errstr : rill_err_str(te));
        rc = CLI_FAIL;
    }
    free(res);
    free(nt);
    free(np);
    return rc;
}

/* Replication factor as the replicas of the first partition say. */
static size_t replication(const rill_topic_info_t *t) {
    return t->partition_cnt ? t->partitions[0].replica_cnt : 0;
}

static int run_list(rill_admin_t *adm, int timeout) {
    rill_topic_list_t *l = NULL;
    rill_err_t e = rill_admin_list_topics(adm, NULL, 0, timeout, &l);
    if (e) {
        fprintf(stderr, "rill topic list: %s: %s\n", rill_err_name(e), rill_err_str(e));
        rill_topic_list_free(l);
        return CLI_FAIL;
    }
    static const char *const hdr[] = {"TOPIC", "PARTITIONS", "REPLICATION", "INTERNAL"};
    cli_table *t = cli_table_new(4, hdr);
    for (size_t i = 0; i < l->topic_cnt; i++) {
        const rill_topic_info_t *ti = &l->topics[i];
        cli_table_cell(t, "%s", ti->name);
        cli_table_cell(t, "%zu", ti->partition_cnt);
        cli_table_cell(t, "%zu", replication(ti));
        cli_table_cell(t, "%s", ti->internal ? "yes" : "no");
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
    rill_topic_list_free(l);
    return CLI_OK;
}

static const char *source_name(int source) {
    switch (source) {
    case RILL_CONFIG_SOURCE_TOPIC:
        return "topic";
    case RILL_CONFIG_SOURCE_DYNAMIC_BROKER:
        return "dynamic-broker";
    case RILL_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER:
        return "dynamic-default-broker";
    case RILL_CONFIG_SOURCE_STATIC_BROKER:
        return "static-broker";
    case RILL_CONFIG_SOURCE_DEFAULT:
        return "default";
    default:
        return "unknown";
    }
}

/* Partition table of one topic, with its earliest and latest offsets. */
static void print_partitions(rill_admin_t *adm, int timeout, const rill_topic_info_t *ti) {
    size_t n = ti->partition_cnt;
    rill_offset_query_t *q = calloc(2 * n + 1, sizeof(*q));
    for (size_t i = 0; q && i < n; i++) {
        q[2 * i] = (rill_offset_query_t){.topic = ti->name,
                                         .partition = ti->partitions[i].partition,
                                         .spec = RILL_OFFSET_BEGINNING};
        q[2 * i + 1] = q[2 * i];
        q[2 * i + 1].spec = RILL_OFFSET_END;
    }
    if (q)
        rill_admin_list_offsets(adm, q, 2 * n, 0, timeout); /* "-" where unanswered */
    static const char *const hdr[] = {"PARTITION", "LEADER", "REPLICAS", "ISR",
                                      "EARLIEST",  "LATEST", "ERROR"};
    bool errors = false; /* the ERROR column only when there is one */
    for (size_t i = 0; i < n; i++)
        errors |= ti->partitions[i].err != 0;
    cli_table *t = cli_table_new(errors ? 7 : 6, hdr);
    for (size_t i = 0; i < n; i++) {
        const rill_partition_info_t *p = &ti->partitions[i];
        char reps[256], isr[256];
        cli_table_cell(t, "%d", (int)p->partition);
        cli_table_cell(t, "%d", (int)p->leader);
        cli_table_cell(t, "%s", cli_ids(reps, sizeof(reps), p->replicas, p->replica_cnt));
        cli_table_cell(t, "%s", cli_ids(isr, sizeof(isr), p->isr, p->isr_cnt));
        for (int k = 0; k < 2; k++) {
            if (q && !q[2 * i + k].err)
                cli_table_cell(t, "%lld", (long long)q[2 * i + k].offset);
            else
                cli_table_cell(t, "-");
        }
        if (errors)
            cli_table_cell(t, "%s", p->err ? rill_err_name(p->err) : "");
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
    free(q);
}

/* The topic's configs; returns CLI_FAIL on a broker error (a missing API is only noted). */
static int print_configs(rill_admin_t *adm, int timeout, const char *topic) {
    rill_config_resource_t what = {RILL_RESOURCE_TOPIC, topic};
    rill_configs_t *cfg = NULL;
    rill_err_t e = rill_admin_describe_configs(adm, &what, 1, timeout, &cfg);
    if (!e && cfg->resources[0].err)
        e = cfg->resources[0].err;
    int rc = CLI_OK;
    if (e) {
        fprintf(stderr, "rill topic describe: \"%s\": configs: %s: %s\n", topic, rill_err_name(e),
                cfg && cfg->resources[0].errstr[0] ? cfg->resources[0].errstr : rill_err_str(e));
        rc = e == RILL_ERR_UNSUPPORTED_FEATURE ? CLI_OK : CLI_FAIL;
    } else {
        static const char *const hdr[] = {"CONFIG", "VALUE", "SOURCE"};
        cli_table *t = cli_table_new(3, hdr);
        const rill_resource_configs_t *r = &cfg->resources[0];
        for (size_t i = 0; i < r->entry_cnt; i++) {
            const rill_config_entry_t *c = &r->entries[i];
            cli_table_cell(t, "%s", c->name);
            cli_table_cell(t, "%s", c->value ? c->value : c->is_sensitive ? "(sensitive)" : "-");
            cli_table_cell(t, "%s%s", source_name(c->source), c->read_only ? ", read-only" : "");
        }
        printf("\n");
        cli_table_print(t, stdout);
        cli_table_free(t);
    }
    rill_configs_free(cfg);
    return rc;
}

static int run_describe(rill_admin_t *adm, int timeout, struct topic_args *a) {
    rill_topic_list_t *l = NULL;
    rill_err_t e =
        rill_admin_list_topics(adm, (const char *const *)a->names, a->name_cnt, timeout, &l);
    if (e) {
        fprintf(stderr, "rill topic describe: %s: %s\n", rill_err_name(e), rill_err_str(e));
        rill_topic_list_free(l);
        return CLI_FAIL;
    }
    int rc = CLI_OK, shown = 0;
    for (size_t i = 0; i < l->topic_cnt; i++) {
        const rill_topic_info_t *ti = &l->topics[i];
        if (ti->err) {
            fprintf(stderr, "rill topic describe: \"%s\": %s: %s\n", ti->name,
                    rill_err_name(ti->err), rill_err_str(ti->err));
            rc = CLI_FAIL;
            continue;
        }
        printf("%sTopic: %s  Partitions: %zu  Replication: %zu  Internal: %s\n\n",
               shown++ ? "\n" : "", ti->name, ti->partition_cnt, replication(ti),
               ti->internal ? "yes" : "no");
        print_partitions(adm, timeout, ti);
        if (print_configs(adm, timeout, ti->name) != CLI_OK)
            rc = CLI_FAIL;
    }
    rill_topic_list_free(l);
    return rc;
}

static int run(rill_conf_t *conf, struct topic_args *a) {
    int timeout;
    rill_admin_t *adm = cli_admin_open(conf, "topic", &timeout);
    if (!adm)
        return CLI_USAGE;
    int rc;
    switch (a->action) {
    case LIST:
        rc = run_list(adm, timeout);
        break;
    case DESCRIBE:
        rc = run_describe(adm, timeout, a);
        break;
    default:
        rc = run_change(adm, timeout, a);
        break;
    }
    fflush(stdout);
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
    struct topic_args a = {.partitions = -1, .replication = -1};
    size_t k = 0;
    while (k < sizeof(action_names) / sizeof(action_names[0]) && strcmp(action, action_names[k]))
        k++;
    if (k == sizeof(action_names) / sizeof(action_names[0]))
        return cli_usage_error("topic", cli_topic_usage, "unknown action \"%s\"", action);
    a.action = (enum action)k;
    a.create = a.action == CREATE;
    int r = parse_args(conf, argc - 1, argv + 1, &a);
    if (r < 0)
        r = run(conf, &a);
    free_args(&a);
    return r;
}
