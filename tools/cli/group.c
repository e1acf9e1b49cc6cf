/*
 * group.c -- `rill group list|describe|delete`: consumer group
 * administration through the admin API.  list and describe print tables
 * (describe: the group's state, its members with their assignments, and
 * per partition the committed offset, the log end offset and the lag, as
 * kafka-consumer-groups --describe does); delete prints one line per
 * group.  Broker errors go to stderr (exit 1).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "cli.h"

const char cli_group_usage[] =
    "usage: rill group list [-b ...] [-X ...]\n"
    "       rill group describe GROUP... [-b ...] [-X ...]\n"
    "       rill group delete GROUP... [-b ...] [-X ...]\n"
    "  list       every group of the cluster, with its state\n"
    "  describe   state, members and their assignments, and per partition the\n"
    "             committed offset, the log end offset and the lag\n"
    "  delete     deletes groups that have no members (their committed offsets "
    "too)\n" CLI_COMMON_USAGE;

enum action { LIST, DESCRIBE, DELETE };
static const char *const action_names[] = {"list", "describe", "delete"};
#define NACTIONS (sizeof(action_names) / sizeof(action_names[0]))

/* Options after the action; names and n get the group ids.  -1 when good, else the exit code. */
static int parse_args(rill_conf_t *conf, enum action act, int argc, char **argv, char ***names,
                      size_t *n) {
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {0}};
    int c, r;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":" CLI_COMMON_OPTS, longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
        case 'X':
            if ((r = cli_common_option(conf, "group", c, optarg)) >= 0)
                return r;
            break;
        case 'h':
            fputs(cli_group_usage, stdout);
            return CLI_OK;
        default:
            return cli_getopt_error("group", cli_group_usage, c, optopt, argv[optind - 1]);
        }
    }
    if (act == LIST && optind < argc)
        return cli_usage_error("group", cli_group_usage, "group list takes no argument");
    if (act != LIST && optind >= argc)
        return cli_usage_error("group", cli_group_usage, "group %s needs a group id",
                               action_names[act]);
    for (int i = optind; i < argc; i++)
        if (!*argv[i])
            return cli_usage_error("group", cli_group_usage, "a group id cannot be empty");
    *names = argv + optind;
    *n = (size_t)(argc - optind);
    return -1;
}

static int run_list(rill_admin_t *adm, int timeout) {
    rill_group_list_t *l = NULL;
    rill_err_t e = rill_admin_list_groups(adm, timeout, &l);
    if (e) /* the groups of the brokers that answered are still worth printing */
        fprintf(stderr, "rill group list: %s: %s\n", rill_err_name(e), rill_err_str(e));
    if (l && (l->group_cnt || !e)) {
        static const char *const hdr[] = {"GROUP", "STATE", "PROTOCOL-TYPE", "COORDINATOR"};
        cli_table *t = cli_table_new(4, hdr);
        for (size_t i = 0; i < l->group_cnt; i++) {
            const rill_group_listing_t *g = &l->groups[i];
            cli_table_cell(t, "%s", g->group_id);
            cli_table_cell(t, "%s", *g->state ? g->state : "-");
            cli_table_cell(t, "%s", *g->protocol_type ? g->protocol_type : "-");
            cli_table_cell(t, "%d", (int)g->coordinator);
        }
        cli_table_print(t, stdout);
        cli_table_free(t);
    }
    rill_group_list_free(l);
    return e ? CLI_FAIL : CLI_OK;
}

/* "t1:0,1 t2:3" */
static void format_assignment(char *buf, size_t size, const rill_member_info_t *m) {
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < m->assignment_cnt && len < size; i++) {
        const rill_topic_partition_t *tp = &m->assignment[i];
        bool same = i && !strcmp(tp->topic, m->assignment[i - 1].topic);
        int k = same ? snprintf(buf + len, size - len, ",%d", (int)tp->partition)
                     : snprintf(buf + len, size - len, "%s%s:%d", i ? " " : "", tp->topic,
                                (int)tp->partition);
        if (k < 0)
            break;
        len += (size_t)k;
    }
}

static const rill_member_info_t *find_member(const rill_group_info_t *g, const char *id) {
    for (size_t i = 0; g && id && i < g->member_cnt; i++)
        if (!strcmp(g->members[i].member_id, id))
            return &g->members[i];
    return NULL;
}

static void print_members(const rill_group_info_t *g) {
    static const char *const hdr[] = {"MEMBER-ID", "CLIENT-ID", "HOST", "ASSIGNMENT"};
    cli_table *t = cli_table_new(4, hdr);
    for (size_t i = 0; i < g->member_cnt; i++) {
        const rill_member_info_t *m = &g->members[i];
        char as[4096];
        format_assignment(as, sizeof(as), m);
        cli_table_cell(t, "%s", m->member_id);
        cli_table_cell(t, "%s", m->client_id);
        cli_table_cell(t, "%s", m->host);
        cli_table_cell(t, "%s", as[0] ? as : "-");
    }
    printf("\n");
    cli_table_print(t, stdout);
    cli_table_free(t);
}

static void print_lag(const rill_group_lag_t *lag, const rill_group_info_t *g) {
    static const char *const hdr[] = {"TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET",
                                      "LAG",   "MEMBER-ID", "HOST",           "CLIENT-ID"};
    cli_table *t = cli_table_new(8, hdr);
    for (size_t i = 0; i < lag->partition_cnt; i++) {
        const rill_partition_lag_t *p = &lag->partitions[i];
        const rill_member_info_t *m = find_member(g, p->member_id);
        cli_table_cell(t, "%s", p->topic);
        cli_table_cell(t, "%d", (int)p->partition);
        if (p->committed >= 0)
            cli_table_cell(t, "%lld", (long long)p->committed);
        else
            cli_table_cell(t, "-");
        if (p->end_offset >= 0)
            cli_table_cell(t, "%lld", (long long)p->end_offset);
        else
            cli_table_cell(t, "%s", p->err ? rill_err_name(p->err) : "-");
        if (p->lag >= 0)
            cli_table_cell(t, "%lld", (long long)p->lag);
        else
            cli_table_cell(t, "-");
        cli_table_cell(t, "%s", p->member_id ? p->member_id : "-");
        cli_table_cell(t, "%s", m ? m->host : "-");
        cli_table_cell(t, "%s", m ? m->client_id : "-");
    }
    printf("\n");
    cli_table_print(t, stdout);
    cli_table_free(t);
}

/*
 * One group: header line, members, partitions.  g is NULL when the group
 * could not be described (derr says why).  Returns the exit code for it.
 */
static int describe_one(rill_admin_t *adm, int timeout, const rill_group_info_t *g, rill_err_t derr,
                        const char *id, int *shown) {
    /* librdkafka's mock has no DescribeGroups: the offsets can still be shown. */
    if (derr && derr != RILL_ERR_UNSUPPORTED_FEATURE) {
        fprintf(stderr, "rill group describe: \"%s\": %s: %s\n", id, rill_err_name(derr),
                rill_err_str(derr));
        return CLI_FAIL;
    }
    if (g && g->err) {
        fprintf(stderr, "rill group describe: \"%s\": %s: %s\n", id, rill_err_name(g->err),
                g->err == RILL_ERR_GROUP_ID_NOT_FOUND ? "group does not exist"
                                                      : rill_err_str(g->err));
        return CLI_FAIL;
    }
    rill_group_lag_t *lag = NULL;
    rill_err_t lerr = rill_admin_group_lag(adm, id, NULL, 0, timeout, &lag);
    int rc = CLI_OK;
    if (lerr) {
        fprintf(stderr, "rill group describe: \"%s\": offsets: %s: %s\n", id, rill_err_name(lerr),
                rill_err_str(lerr));
        rc = CLI_FAIL;
    } else if (!lag->partition_cnt && (!g || (!strcmp(g->state, "Dead") && !g->member_cnt))) {
        fprintf(stderr, "rill group describe: \"%s\": group does not exist\n", id);
        rc = CLI_FAIL;
    } else {
        if (g)
            printf("%sGroup: %s  State: %s  Protocol: %s/%s  Coordinator: %d  Members: %zu\n",
                   (*shown)++ ? "\n" : "", id, g->state, *g->protocol_type ? g->protocol_type : "-",
                   *g->protocol ? g->protocol : "-", (int)g->coordinator, g->member_cnt);
        else
            printf("%sGroup: %s  (members unknown: the broker has no DescribeGroups)\n",
                   (*shown)++ ? "\n" : "", id);
        if (g && g->member_cnt)
            print_members(g);
        print_lag(lag, g);
    }
    rill_group_lag_free(lag);
    return rc;
}

static int run_describe(rill_admin_t *adm, int timeout, char **names, size_t n) {
    rill_group_descriptions_t *d = NULL;
    rill_err_t derr = rill_admin_describe_groups(adm, (const char *const *)names, n, timeout, &d);
    if (derr && !d) {
        fprintf(stderr, "rill group describe: %s: %s\n", rill_err_name(derr), rill_err_str(derr));
        return CLI_FAIL;
    }
    int rc = CLI_OK, shown = 0;
    for (size_t i = 0; i < n; i++) {
        const rill_group_info_t *g = &d->groups[i];
        rill_err_t e = g->err <= RILL_ERR__BEGIN ? g->err : 0; /* local: not an answer */
        if (describe_one(adm, timeout, e ? NULL : g, e, names[i], &shown) != CLI_OK)
            rc = CLI_FAIL;
    }
    rill_group_descriptions_free(d);
    return rc;
}

static int run_delete(rill_admin_t *adm, int timeout, char **names, size_t n) {
    rill_topic_result_t *res = calloc(n, sizeof(*res));
    if (!res) {
        fprintf(stderr, "rill group: out of memory\n");
        return CLI_FAIL;
    }
    rill_err_t e = rill_admin_delete_groups(adm, (const char *const *)names, n, timeout, res);
    int rc = CLI_OK;
    for (size_t i = 0; i < n; i++) {
        rill_err_t ge = e ? e : res[i].err;
        if (!ge) {
            printf("Deleted group \"%s\"\n", names[i]);
            continue;
        }
        fprintf(stderr, "rill group delete: \"%s\": %s: %s\n", names[i], rill_err_name(ge),
                ge == RILL_ERR_NON_EMPTY_GROUP ? "the group still has members" : rill_err_str(ge));
        rc = CLI_FAIL;
    }
    free(res);
    return rc;
}

int cli_group(rill_conf_t *conf, int argc, char **argv) {
    if (argc < 2)
        return cli_usage_error("group", cli_group_usage, "group needs an action");
    const char *action = argv[1];
    if (!strcmp(action, "-h") || !strcmp(action, "--help") || !strcmp(action, "help")) {
        fputs(cli_group_usage, stdout);
        return CLI_OK;
    }
    size_t k = 0;
    while (k < NACTIONS && strcmp(action, action_names[k]))
        k++;
    if (k == NACTIONS)
        return cli_usage_error("group", cli_group_usage, "unknown action \"%s\"", action);
    char **names = NULL;
    size_t n = 0;
    int r = parse_args(conf, (enum action)k, argc - 1, argv + 1, &names, &n);
    if (r >= 0)
        return r;
    int timeout;
    rill_admin_t *adm = cli_admin_open(conf, "group", &timeout);
    if (!adm)
        return CLI_USAGE;
    switch ((enum action)k) {
    case LIST:
        r = run_list(adm, timeout);
        break;
    case DESCRIBE:
        r = run_describe(adm, timeout, names, n);
        break;
    default:
        r = run_delete(adm, timeout, names, n);
        break;
    }
    fflush(stdout);
    rill_admin_destroy(adm);
    return r;
}
