/*
 * mockcluster -- runs librdkafka's in-process mock Kafka cluster as a child
 * process that the interop tests (tests/interop) and the benchmarks (bench/)
 * drive through a line protocol on stdin/stdout.  librdkafka's mock cluster is
 * an independent Kafka implementation: testing librill against it keeps us
 * honest about the protocol without a JVM.
 *
 * usage: mockcluster [--brokers N]
 *
 * When ready it prints one line "BOOTSTRAP 127.0.0.1:P1,127.0.0.1:P2,..."
 * (broker ids 1..N, in that order).  The mock brokers listen on 127.0.0.1
 * ephemeral ports only (librdkafka binds INADDR_LOOPBACK, port 0); we check
 * the list and refuse to run if any address is not 127.0.0.1.
 *
 * Then it reads one command per line and answers each with exactly one line,
 * "OK" or "OK <value>" or "ERR <message>":
 *   topic NAME PARTITIONS REPLICATION   create a topic
 *   leader TOPIC PARTITION BROKER       move a partition leader (-1: none)
 *   follower TOPIC PARTITION BROKER     set the preferred follower replica
 *   down BROKER | up BROKER             disconnect and refuse / accept again
 *                                       (-1: every broker; no leader change)
 *   rtt BROKER MS                       delay every response of a broker
 *   error APIKEY ERR [COUNT]            the next COUNT requests (default 1)
 *                                       of APIKEY, on any broker, fail with ERR
 *   broker_error BROKER APIKEY ERR [RTT_MS [COUNT]]
 *                                       same, on one broker, with a delay
 *   clear_errors APIKEY                 drop the cluster-wide error stack
 *   topic_error TOPIC ERR               error for TOPIC in Metadata responses
 *                                       (ERR 0 clears it)
 *   partition_error TOPIC PARTITION ERR not available in librdkafka 2.0.2:
 *                                       answers ERR (use broker_error)
 *   coordinator group|txn KEY BROKER    pin a group / transactional id
 *   apiversion APIKEY MIN MAX           narrow an API's advertised versions
 *   ping                                answers OK (a barrier)
 *   quit                                exit
 * ERR is a number (negative for librdkafka's local errors, e.g. -195 for
 * _TRANSPORT, which makes the mock broker drop the connection) or a name as
 * librdkafka spells it, e.g. NOT_LEADER_FOR_PARTITION, REQUEST_TIMED_OUT,
 * _TRANSPORT; NOT_LEADER_OR_FOLLOWER is accepted as Kafka's name for 6.
 * APIKEY is a number or one of: produce fetch listoffsets metadata
 * findcoordinator initproducerid apiversions.
 *
 * The process exits when stdin closes, on "quit", and on SIGTERM/SIGINT.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_LINE 4096
#define MAX_ARGS 8
#define MAX_ERR_COUNT 100000

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

/* Strict integer parse: the whole token must be a number within [lo, hi]. */
static int parse_int(const char *s, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* Error code by number or by librdkafka's name (with or without RD_KAFKA_RESP_ERR_). */
static int parse_err(const char *s, rd_kafka_resp_err_t *out) {
    long v;
    if (parse_int(s, INT_MIN, INT_MAX, &v) == 0) {
        *out = (rd_kafka_resp_err_t)v;
        return 0;
    }
    if (strncasecmp(s, "RD_KAFKA_RESP_ERR_", 18) == 0)
        s += 18;
    if (strcasecmp(s, "NOT_LEADER_OR_FOLLOWER") == 0) { /* Kafka's newer name */
        *out = RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION;
        return 0;
    }
    const struct rd_kafka_err_desc *descs;
    size_t n;
    rd_kafka_get_err_descs(&descs, &n);
    for (size_t i = 0; i < n; i++) {
        if (descs[i].name && strcasecmp(descs[i].name, s) == 0) {
            *out = descs[i].code;
            return 0;
        }
    }
    return -1;
}

static int parse_apikey(const char *s, int16_t *out) {
    static const struct {
        const char *name;
        int16_t key;
    } names[] = {
        {"produce", 0},       {"fetch", 1},           {"listoffsets", 2},      {"metadata", 3},
        {"offsetcommit", 8},  {"offsetfetch", 9},     {"findcoordinator", 10}, {"joingroup", 11},
        {"heartbeat", 12},    {"leavegroup", 13},     {"syncgroup", 14},       {"apiversions", 18},
        {"createtopics", 19}, {"initproducerid", 22},
    };
    long v;
    if (parse_int(s, 0, INT16_MAX, &v) == 0) {
        *out = (int16_t)v;
        return 0;
    }
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        if (strcasecmp(names[i].name, s) == 0) {
            *out = names[i].key;
            return 0;
        }
    }
    return -1;
}

/* Every bootstrap entry must be 127.0.0.1:PORT: tests never listen elsewhere. */
static int loopback_only(const char *bootstraps) {
    const char *p = bootstraps;
    while (*p) {
        if (strncmp(p, "127.0.0.1:", 10) != 0)
            return 0;
        p = strchr(p, ',');
        if (!p)
            break;
        p++;
    }
    return 1;
}

/* Writes the answer line; one per command, flushed so the reader never waits. */
static void reply(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void reply(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

static void reply_err(rd_kafka_resp_err_t err) {
    if (err)
        reply("ERR %s: %s", rd_kafka_err2name(err), rd_kafka_err2str(err));
    else
        reply("OK");
}

typedef struct cluster {
    rd_kafka_mock_cluster_t *mc;
    int brokers;
} cluster_t;

/* A broker argument: an id 1..N, or -1 where "every broker" is allowed. */
static int parse_broker(const cluster_t *c, const char *s, int allow_all, int32_t *out) {
    long v;
    if (parse_int(s, -1, c->brokers, &v) || v == 0 || (v == -1 && !allow_all))
        return -1;
    *out = (int32_t)v;
    return 0;
}

#define USAGE(msg)                                                                                 \
    do {                                                                                           \
        reply("ERR usage: %s", msg);                                                               \
        return 0;                                                                                  \
    } while (0)

/* Runs one command; returns 1 when the process should exit. */
static int run_command(cluster_t *c, int argc, char **argv) {
    const char *cmd = argv[0];
    long a, b;
    int32_t broker;
    int16_t apikey;
    rd_kafka_resp_err_t err;

    if (!strcmp(cmd, "quit")) {
        reply("OK");
        return 1;
    } else if (!strcmp(cmd, "ping")) {
        reply("OK");
    } else if (!strcmp(cmd, "topic")) {
        if (argc != 4 || parse_int(argv[2], 1, 100000, &a) || parse_int(argv[3], 1, c->brokers, &b))
            USAGE("topic NAME PARTITIONS(>=1) REPLICATION(1..brokers)");
        reply_err(rd_kafka_mock_topic_create(c->mc, argv[1], (int)a, (int)b));
    } else if (!strcmp(cmd, "leader") || !strcmp(cmd, "follower")) {
        if (argc != 4 || parse_int(argv[2], 0, INT32_MAX, &a) ||
            parse_broker(c, argv[3], 1, &broker))
            USAGE("leader|follower TOPIC PARTITION BROKER(1..N or -1)");
        if (!strcmp(cmd, "leader"))
            reply_err(rd_kafka_mock_partition_set_leader(c->mc, argv[1], (int32_t)a, broker));
        else
            reply_err(rd_kafka_mock_partition_set_follower(c->mc, argv[1], (int32_t)a, broker));
    } else if (!strcmp(cmd, "down") || !strcmp(cmd, "up")) {
        if (argc != 2 || parse_broker(c, argv[1], 1, &broker))
            USAGE("down|up BROKER(1..N or -1)");
        reply_err(!strcmp(cmd, "down") ? rd_kafka_mock_broker_set_down(c->mc, broker)
                                       : rd_kafka_mock_broker_set_up(c->mc, broker));
    } else if (!strcmp(cmd, "rtt")) {
        if (argc != 3 || parse_broker(c, argv[1], 1, &broker) || parse_int(argv[2], 0, 600000, &a))
            USAGE("rtt BROKER MS");
        reply_err(rd_kafka_mock_broker_set_rtt(c->mc, broker, (int)a));
    } else if (!strcmp(cmd, "error")) {
        a = 1;
        if (argc < 3 || argc > 4 || parse_apikey(argv[1], &apikey) || parse_err(argv[2], &err) ||
            (argc == 4 && parse_int(argv[3], 1, MAX_ERR_COUNT, &a)))
            USAGE("error APIKEY ERR [COUNT]");
        rd_kafka_resp_err_t *errs = malloc((size_t)a * sizeof *errs);
        if (!errs) {
            reply("ERR out of memory");
            return 0;
        }
        for (long i = 0; i < a; i++)
            errs[i] = err;
        rd_kafka_mock_push_request_errors_array(c->mc, apikey, (size_t)a, errs);
        free(errs);
        reply("OK");
    } else if (!strcmp(cmd, "broker_error")) {
        long rtt = 0, count = 1;
        if (argc < 4 || argc > 6 || parse_broker(c, argv[1], 0, &broker) ||
            parse_apikey(argv[2], &apikey) || parse_err(argv[3], &err) ||
            (argc >= 5 && parse_int(argv[4], 0, 600000, &rtt)) ||
            (argc == 6 && parse_int(argv[5], 1, MAX_ERR_COUNT, &count)))
            USAGE("broker_error BROKER APIKEY ERR [RTT_MS [COUNT]]");
        rd_kafka_resp_err_t r = RD_KAFKA_RESP_ERR_NO_ERROR;
        for (long i = 0; i < count && !r; i++)
            r = rd_kafka_mock_broker_push_request_error_rtts(c->mc, broker, apikey, 1, err,
                                                             (int)rtt);
        reply_err(r);
    } else if (!strcmp(cmd, "clear_errors")) {
        if (argc != 2 || parse_apikey(argv[1], &apikey))
            USAGE("clear_errors APIKEY");
        rd_kafka_mock_clear_request_errors(c->mc, apikey);
        reply("OK");
    } else if (!strcmp(cmd, "topic_error")) {
        if (argc != 3 || parse_err(argv[2], &err))
            USAGE("topic_error TOPIC ERR");
        rd_kafka_mock_topic_set_error(c->mc, argv[1], err);
        reply("OK");
    } else if (!strcmp(cmd, "partition_error")) {
        reply("ERR partition_error: librdkafka %s has no per-partition error injection; "
              "use broker_error on the leader",
              rd_kafka_version_str());
    } else if (!strcmp(cmd, "coordinator")) {
        const char *type = argc == 4 && !strcmp(argv[1], "group") ? "group"
                           : argc == 4 && !strcmp(argv[1], "txn") ? "transaction"
                                                                  : NULL;
        if (!type || parse_int(argv[3], INT32_MIN, INT32_MAX, &a))
            USAGE("coordinator group|txn KEY BROKER");
        reply_err(rd_kafka_mock_coordinator_set(c->mc, type, argv[2], (int32_t)a));
    } else if (!strcmp(cmd, "apiversion")) {
        if (argc != 4 || parse_apikey(argv[1], &apikey) || parse_int(argv[2], -1, INT16_MAX, &a) ||
            parse_int(argv[3], -1, INT16_MAX, &b))
            USAGE("apiversion APIKEY MIN MAX");
        reply_err(rd_kafka_mock_set_apiversion(c->mc, apikey, (int16_t)a, (int16_t)b));
    } else {
        reply("ERR unknown command '%s'", cmd);
    }
    return 0;
}

/* Splits a line into whitespace-separated words; returns the count or -1 if too many. */
static int split(char *line, char **argv) {
    int argc = 0;
    char *save = NULL;
    for (char *w = strtok_r(line, " \t\r\n", &save); w; w = strtok_r(NULL, " \t\r\n", &save)) {
        if (argc == MAX_ARGS)
            return -1;
        argv[argc++] = w;
    }
    return argc;
}

static int usage(void) {
    fprintf(stderr, "usage: mockcluster [--brokers N]   (then commands on stdin; see source)\n");
    return 2;
}

int main(int argc, char **argv) {
    long brokers = 1;
    for (int i = 1; i < argc; i++) {
        if ((!strcmp(argv[i], "--brokers") || !strcmp(argv[i], "-b")) && i + 1 < argc) {
            if (parse_int(argv[++i], 1, 64, &brokers))
                return usage();
        } else {
            return usage();
        }
    }

    /* No SA_RESTART: a signal interrupts the blocking read of stdin. */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    char errstr[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    /* The handle only hosts the cluster: no bootstrap, errors only in the log. */
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (!rk) {
        fprintf(stderr, "mockcluster: rd_kafka_new: %s\n", errstr);
        return 1;
    }
    cluster_t c = {.mc = rd_kafka_mock_cluster_new(rk, (int)brokers), .brokers = (int)brokers};
    if (!c.mc) {
        fprintf(stderr, "mockcluster: rd_kafka_mock_cluster_new failed\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    const char *bootstraps = rd_kafka_mock_cluster_bootstraps(c.mc);
    int rc = 0;
    if (!loopback_only(bootstraps)) {
        fprintf(stderr, "mockcluster: refusing to run: listeners not on 127.0.0.1: %s\n",
                bootstraps);
        rc = 1;
        goto out;
    }
    printf("BOOTSTRAP %s\n", bootstraps);
    fflush(stdout);

    char line[MAX_LINE];
    while (!stop_requested && fgets(line, sizeof line, stdin)) {
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            int ch; /* over-long line: drop the rest, answer once */
            while ((ch = getchar()) != EOF && ch != '\n') {
            }
            reply("ERR line too long");
            continue;
        }
        char *args[MAX_ARGS];
        int n = split(line, args);
        if (n == 0)
            continue; /* blank lines get no answer */
        if (n < 0) {
            reply("ERR too many arguments");
            continue;
        }
        if (run_command(&c, n, args))
            break;
    }
out:
    rd_kafka_mock_cluster_destroy(c.mc);
    rd_kafka_destroy(rk);
    return rc;
}
