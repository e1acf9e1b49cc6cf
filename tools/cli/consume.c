/*
 * consume.c -- `rill consume`: print the messages of a topic, one per line
 * by default (or in a kcat-like -f format).
 *
 * Two modes, as kcat: without -g the partitions are assigned directly (all
 * of the topic's, or the one -p names) from -o; with -g the tool joins the
 * consumer group, the coordinator hands out the partitions, each starts at
 * its committed offset (else auto.offset.reset), and the positions are
 * committed on the way out.  -e stops once every assigned partition has
 * reported its end (enable.partition.eof), -c after COUNT messages, and
 * SIGINT/SIGTERM stop cleanly (commit, leave the group).
 *
 * Exit: 0 when done, 1 when the consumer reported an error (printed on
 * stderr; without -E the first one also ends the run) or output failed,
 * 2 for bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client/conf.h"
#include "consume.h"

const char cli_consume_usage[] =
    "usage: rill consume -t TOPIC [-g GROUP] [-p PARTITION] [-o beginning|end|stored|OFFSET]\n"
    "                    [-e] [-c COUNT] [-f FORMAT] [-u] [-E] [-v] [-b ...] [-X ...]\n"
    "Prints the messages of TOPIC on stdout, by default the value of each on its own line.\n"
    "  -t TOPIC            topic to read (required)\n"
    "  -g GROUP            read as a member of consumer group GROUP: partitions are shared\n"
    "                      with the other members, reading resumes at the committed offsets,\n"
    "                      and the positions are committed on exit\n"
    "  -p PARTITION        read only this partition (without -g; default: all of them)\n"
    "  -o OFFSET           where to start: beginning, end (default), stored (the committed\n"
    "                      offset; needs -X group.id), or an offset; with -g only beginning or\n"
    "                      end, used where the group has no committed offset\n"
    "  -e                  exit once every assigned partition has been read to its end\n"
    "  -c COUNT            exit after COUNT messages\n"
    "  -f FORMAT           output format: %t topic, %p partition, %o offset, %T timestamp (ms),\n"
    "                      %k key, %K key length, %s or %v value, %S value length, %R value\n"
    "                      length as 4 big-endian bytes, %h headers (name=value,...), %% a %;\n"
    "                      escapes \\n \\r \\t \\\\ \\xHH (default: \"%s\\n\")\n"
    "  -u                  unbuffered: write each message out at once (default: in blocks,\n"
    "                      and whenever no message is waiting)\n"
    "  -E                  keep going after consumer errors (still exit 1 at the end)\n"
    "  -v                  report assignments and partition ends on stderr\n" CLI_COMMON_USAGE;

#define MAX_SHOWN_ERRORS 20

struct consume_args {
    const char *topic;
    const char *group;
    int32_t partition; /* -1: all */
    int64_t offset;    /* RILL_OFFSET_* or >= 0; RILL_OFFSET_INVALID: not given */
    bool exit_eof;
    long long count; /* 0: no limit */
    const char *format;
    bool unbuffered;
    bool keep_going;
    bool verbose;
};

/* What the run tracks: the assigned partitions and which reached their end. */
struct assigned {
    int32_t partition;
    bool eof;
};

struct consume_run {
    const struct consume_args *a;
    struct assigned *parts;
    size_t n, cap;
    bool oom;
};

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig) { stop_signal = sig; }

static void install_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: the poll loop checks the flag */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static struct assigned *find_part(struct consume_run *run, int32_t partition) {
    for (size_t i = 0; i < run->n; i++)
        if (run->parts[i].partition == partition)
            return &run->parts[i];
    return NULL;
}

static void add_part(struct consume_run *run, int32_t partition) {
    if (find_part(run, partition))
        return;
    if (run->n == run->cap) {
        size_t ncap = run->cap ? run->cap * 2 : 16;
        struct assigned *np = realloc(run->parts, ncap * sizeof(*np));
        if (!np) {
            run->oom = true;
            return;
        }
        run->parts = np;
        run->cap = ncap;
    }
    run->parts[run->n++] = (struct assigned){partition, false};
}

static void remove_part(struct consume_run *run, int32_t partition) {
    struct assigned *p = find_part(run, partition);
    if (p)
        *p = run->parts[--run->n];
}

/* Every assigned partition reached its end (and there is at least one). */
static bool all_at_end(const struct consume_run *run) {
    if (!run->n)
        return false;
    for (size_t i = 0; i < run->n; i++)
        if (!run->parts[i].eof)
            return false;
    return true;
}

static void on_rebalance(rill_consumer_t *c, int event, const rill_topic_partition_t *parts,
                         size_t n, void *opaque) {
    (void)c;
    struct consume_run *run = opaque;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(parts[i].topic, run->a->topic))
            continue;
        if (event == RILL_REBALANCE_ASSIGN)
            add_part(run, parts[i].partition);
        else
            remove_part(run, parts[i].partition);
        if (run->a->verbose)
            fprintf(stderr, "rill consume: %s %s [%d]\n",
                    event == RILL_REBALANCE_ASSIGN   ? "assigned"
                    : event == RILL_REBALANCE_REVOKE ? "revoked"
                                                     : "lost",
                    parts[i].topic, parts[i].partition);
    }
}

/* -o's value; -1 (with a message) when it is not one. */
static int parse_offset(const char *s, int64_t *out) {
    if (!strcmp(s, "beginning") || !strcmp(s, "earliest"))
        *out = RILL_OFFSET_BEGINNING;
    else if (!strcmp(s, "end") || !strcmp(s, "latest"))
        *out = RILL_OFFSET_END;
    else if (!strcmp(s, "stored"))
        *out = RILL_OFFSET_STORED;
    else if (cli_parse_int(s, 0, INT64_MAX, out) < 0)
        return -1;
    return 0;
}

#define usage_error(...) cli_usage_error("consume", cli_consume_usage, __VA_ARGS__)

static int parse_args(rill_conf_t *conf, int argc, char **argv, struct consume_args *a) {
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {0}};
    int64_t v;
    int c, r;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:g:p:o:ec:f:uEv" CLI_COMMON_OPTS, longopts, NULL)) !=
           -1) {
        switch (c) {
        case 't':
            if (!*optarg)
                return usage_error("-t needs a topic name");
            a->topic = optarg;
            break;
        case 'g':
            if (!*optarg)
                return usage_error("-g needs a group name");
            a->group = optarg;
            break;
        case 'p':
            if (cli_parse_int(optarg, 0, INT32_MAX, &v) < 0)
                return usage_error("-p expects a partition number >= 0, got \"%s\"", optarg);
            a->partition = (int32_t)v;
            break;
        case 'o':
            if (parse_offset(optarg, &a->offset) < 0)
                return usage_error("-o expects beginning, end, stored or an offset >= 0, got "
                                   "\"%s\"",
                                   optarg);
            break;
        case 'e':
            a->exit_eof = true;
            break;
        case 'c':
            if (cli_parse_int(optarg, 1, INT64_MAX, &v) < 0)
                return usage_error("-c expects a message count >= 1, got \"%s\"", optarg);
            a->count = v;
            break;
        case 'f':
            a->format = optarg;
            break;
        case 'u':
            a->unbuffered = true;
            break;
        case 'E':
            a->keep_going = true;
            break;
        case 'v':
            a->verbose = true;
            break;
        case 'b':
        case 'X':
            if ((r = cli_common_option(conf, "consume", c, optarg)) >= 0)
                return r;
            break;
        case 'h':
            fputs(cli_consume_usage, stdout);
            return CLI_OK;
        default:
            return cli_getopt_error("consume", cli_consume_usage, c, optopt, argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument \"%s\"", argv[optind]);
    if (!a->topic)
        return usage_error("-t TOPIC is required");
    if (a->group) {
        if (a->partition >= 0)
            return usage_error("-p cannot be used with -g: the group assigns the partitions");
        if (a->offset >= 0 || a->offset == RILL_OFFSET_STORED)
            return usage_error("with -g, -o takes beginning or end (where the group has no "
                               "committed offset)");
    } else if (a->offset == RILL_OFFSET_STORED) {
        const char *gid = rill_conf_get(conf, "group.id");
        if (!gid || !*gid)
            return usage_error("-o stored needs the group whose offsets to read: "
                               "-X group.id=GROUP");
    }
    return -1;
}

/* Applies what the options mean for the configuration; -1 when good, else an exit code. */
static int setup_conf(rill_conf_t *conf, const struct consume_args *a) {
    char err[512];
    if (a->group && rill_conf_set(conf, "group.id", a->group, err, sizeof(err)))
        goto bad;
    if (a->group && a->offset != RILL_OFFSET_INVALID &&
        rill_conf_set(conf, "auto.offset.reset",
                      a->offset == RILL_OFFSET_BEGINNING ? "earliest" : "latest", err, sizeof(err)))
        goto bad;
    if (a->exit_eof && rill_conf_set(conf, "enable.partition.eof", "true", err, sizeof(err)))
        goto bad;
    return -1;
bad:
    fprintf(stderr, "rill consume: %s\n", err);
    return CLI_USAGE;
}

/* Assigns the partitions to read (no group); 0 or an exit code. */
static int assign_partitions(rill_consumer_t *c, rill_conf_t *conf, struct consume_run *run) {
    const struct consume_args *a = run->a;
    int32_t *ids = NULL, n = 0;
    char err[512];
    if (a->partition >= 0) {
        add_part(run, a->partition);
    } else {
        int64_t timeout = cli_conf_int(conf, "request.timeout.ms", 30000);
        rill_err_t e =
            cli_topic_partitions(conf, a->topic, (int)timeout, &ids, &n, err, sizeof(err));
        if (e) {
            fprintf(stderr, "rill consume: %s\n", err);
            return CLI_FAIL;
        }
        for (int32_t i = 0; i < n; i++)
            add_part(run, ids[i]);
        free(ids);
    }
    if (run->oom) {
        fprintf(stderr, "rill consume: out of memory\n");
        return CLI_FAIL;
    }
    rill_topic_partition_t *tps = calloc(run->n, sizeof(*tps));
    if (!tps) {
        fprintf(stderr, "rill consume: out of memory\n");
        return CLI_FAIL;
    }
    int64_t from = a->offset == RILL_OFFSET_INVALID ? RILL_OFFSET_END : a->offset;
    for (size_t i = 0; i < run->n; i++)
        tps[i] = (rill_topic_partition_t){a->topic, run->parts[i].partition, from, 0};
    rill_err_t e = rill_assign(c, tps, run->n);
    free(tps);
    if (e) {
        fprintf(stderr, "rill consume: assign: %s: %s\n", rill_err_name(e), rill_err_str(e));
        return CLI_FAIL;
    }
    if (a->verbose)
        for (size_t i = 0; i < run->n; i++)
            fprintf(stderr, "rill consume: assigned %s [%d]\n", a->topic, run->parts[i].partition);
    return 0;
}

/* Reads until the end condition; returns the exit code. */
static int read_loop(rill_consumer_t *c, struct consume_run *run, const cli_fmt *fmt) {
    const struct consume_args *a = run->a;
    long long printed = 0;
    unsigned errors = 0;
    int rc = CLI_OK;
    while (!stop_signal) {
        if (a->count && printed >= a->count)
            break;
        if (a->exit_eof && all_at_end(run))
            break;
        rill_message_t *m = rill_consumer_poll(c, 200);
        if (!m) {
            fflush(stdout); /* a reader at the other end of a pipe sees lines when it goes quiet */
            continue;
        }
        rill_err_t err = rill_message_err(m);
        if (err == RILL_ERR_PARTITION_EOF) {
            struct assigned *p = strcmp(rill_message_topic(m), a->topic)
                                     ? NULL
                                     : find_part(run, rill_message_partition(m));
            if (p)
                p->eof = true;
            if (a->verbose)
                fprintf(stderr, "rill consume: %s\n", rill_message_errstr(m));
        } else if (err) {
            rc = CLI_FAIL;
            if (errors < MAX_SHOWN_ERRORS)
                fprintf(stderr, "rill consume: %s: %s\n", rill_err_name(err),
                        rill_message_errstr(m));
            else if (errors == MAX_SHOWN_ERRORS)
                fprintf(stderr, "rill consume: (further errors not shown)\n");
            errors++;
            if (!a->keep_going) {
                rill_message_destroy(m);
                break;
            }
        } else {
            if (cli_fmt_print(fmt, m, stdout) < 0) {
                fprintf(stderr, "rill consume: writing the output failed: %s\n", strerror(errno));
                rill_message_destroy(m);
                return CLI_FAIL;
            }
            printed++;
            if (a->unbuffered)
                fflush(stdout);
        }
        rill_message_destroy(m);
    }
    if (fflush(stdout) != 0) {
        fprintf(stderr, "rill consume: writing the output failed: %s\n", strerror(errno));
        rc = CLI_FAIL;
    }
    if (run->oom) {
        fprintf(stderr, "rill consume: out of memory\n");
        rc = CLI_FAIL;
    }
    return rc;
}

/* Commit errors that a rejoin or a coordinator lookup cures. */
static bool commit_retriable(rill_err_t e) {
    switch (e) {
    case RILL_ERR_REBALANCE_IN_PROGRESS:
    case RILL_ERR_ILLEGAL_GENERATION:
    case RILL_ERR_UNKNOWN_MEMBER_ID:
    case RILL_ERR_NOT_COORDINATOR:
    case RILL_ERR_COORDINATOR_NOT_AVAILABLE:
    case RILL_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RILL_ERR_TIMED_OUT:
    case RILL_ERR_TRANSPORT:
        return true;
    default:
        return rill_err_is_retriable(e);
    }
}

#define FINAL_COMMIT_SECONDS 15.0

/*
 * Commits the positions reached (the next offset after each message printed), retrying
 * for a while when the group is in the middle of a rebalance or a coordinator move, as
 * a commit on the way out meets those often.  The offsets are fixed before the first
 * try: a message that polling (which lets the member rejoin) hands out meanwhile is not
 * printed, and its partition is put back to the fixed offset so that the close, which
 * commits the positions too, cannot skip it.  Returns 0, or -1 after printing why.
 */
static int final_commit(rill_consumer_t *c) {
    rill_topic_partition_t *parts;
    size_t n, k = 0;
    rill_err_t e = rill_assignment(c, &parts, &n);
    if (e) {
        fprintf(stderr, "rill consume: commit: %s: %s\n", rill_err_name(e), rill_err_str(e));
        return -1;
    }
    /* Only partitions read from; the topic names stay owned by parts. */
    rill_topic_partition_t *read = calloc(n ? n : 1, sizeof(*read));
    if (!read) {
        rill_topic_partitions_free(parts, n);
        fprintf(stderr, "rill consume: commit: out of memory\n");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (parts[i].offset >= 0)
            read[k++] = parts[i];
    bool handed_out = false;
    double deadline = cli_now() + FINAL_COMMIT_SECONDS;
    while (k && (e = rill_commit(c, read, k, 0)) && commit_retriable(e) && cli_now() < deadline) {
        for (double until = cli_now() + 0.5; cli_now() < until;) {
            rill_message_t *m = rill_consumer_poll(c, 100);
            handed_out |= m && !rill_message_err(m);
            rill_message_destroy(m);
        }
    }
    if (handed_out)
        for (size_t i = 0; i < k; i++)
            rill_seek(c, read[i].topic, read[i].partition, read[i].offset);
    if (k && e)
        fprintf(stderr, "rill consume: commit: %s: %s\n", rill_err_name(e), rill_err_str(e));
    free(read);
    rill_topic_partitions_free(parts, n);
    return k && e ? -1 : 0;
}

int cli_consume(rill_conf_t *conf, int argc, char **argv) {
    struct consume_args a = {.partition = -1, .offset = RILL_OFFSET_INVALID, .format = "%s\\n"};
    int r = parse_args(conf, argc, argv, &a);
    if (r >= 0)
        return r;
    char err[512];
    cli_fmt *fmt = cli_fmt_new(a.format, err, sizeof(err));
    if (!fmt)
        return cli_usage_error("consume", cli_consume_usage, "-f: %s", err);
    if ((r = setup_conf(conf, &a)) >= 0) {
        cli_fmt_destroy(fmt);
        return r;
    }
    struct consume_run run = {.a = &a};
    rill_conf_set_rebalance_cb(conf, on_rebalance);
    rill_conf_set_opaque(conf, &run);
    rill_consumer_t *c = rill_consumer_new(conf, err, sizeof(err));
    if (!c) {
        fprintf(stderr, "rill consume: %s\n", err);
        cli_fmt_destroy(fmt);
        return CLI_USAGE;
    }
    install_signals();
    int rc;
    if (a.group) {
        const char *topics[] = {a.topic};
        rill_err_t e = rill_subscribe(c, topics, 1);
        rc = e ? CLI_FAIL : 0;
        if (e)
            fprintf(stderr, "rill consume: subscribe: %s: %s\n", rill_err_name(e), rill_err_str(e));
    } else {
        rc = assign_partitions(c, conf, &run);
    }
    if (!rc)
        rc = read_loop(c, &run, fmt);
    /* In a group, the positions are committed (unless auto commit was turned off). */
    const char *ac = rill_conf_get(conf, "enable.auto.commit");
    if (a.group && !(rill__conf_is_set(conf, "enable.auto.commit") && ac && !strcmp(ac, "false")) &&
        final_commit(c) != 0)
        rc = CLI_FAIL;
    rill_consumer_close(c, 10000);
    rill_consumer_destroy(c);
    cli_fmt_destroy(fmt);
    free(run.parts);
    return rc;
}
