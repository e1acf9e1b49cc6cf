/*
 * produce.c -- `rill produce`: one message per line of stdin.
 *
 * The exit code is the contract scripts rely on: 0 only when every line
 * read was acknowledged by the cluster, 1 when any message failed (each
 * failure is reported on stderr, up to a limit), 2 for bad usage.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char cli_produce_usage[] =
    "usage: rill produce -t TOPIC [-p PARTITION] [-K DELIM] [-H NAME=VALUE]... [-b ...] [-X ...]\n"
    "Sends one message per line of stdin (without its newline) and waits for every\n"
    "acknowledgement.  Exit 0 only when all were acknowledged, 1 otherwise.\n"
    "  -t TOPIC            topic to produce to (required)\n"
    "  -p PARTITION        partition (default: chosen by the partitioner from the key)\n"
    "  -K DELIM            the text before the first DELIM of a line is the key, the rest\n"
    "                      the value; a line without DELIM has no key\n"
    "  -H NAME=VALUE       header added to every message (repeatable)\n" CLI_COMMON_USAGE;

#define MAX_SHOWN_ERRORS 10

struct produce_run {
    uint64_t delivered, failed;
    unsigned shown;
};

static void report_failure(struct produce_run *run, uint64_t line, rill_err_t err) {
    run->failed++;
    if (run->shown < MAX_SHOWN_ERRORS)
        fprintf(stderr, "rill produce: line %llu: %s: %s\n", (unsigned long long)line,
                rill_err_name(err), rill_err_str(err));
    else if (run->shown == MAX_SHOWN_ERRORS)
        fprintf(stderr, "rill produce: (further errors not shown)\n");
    run->shown++;
}

static void on_delivery(rill_producer_t *p, const rill_delivery_t *dr, void *opaque) {
    (void)p;
    struct produce_run *run = opaque;
    if (dr->err)
        report_failure(run, (uint64_t)(uintptr_t)dr->msg_opaque, dr->err);
    else
        run->delivered++;
}

/* Parsed command line of `rill produce`. */
struct produce_args {
    const char *topic;
    int32_t partition;
    const char *key_delim;
    rill_header_t *headers;
    size_t header_cnt;
};

static int parse_header(struct produce_args *a, const char *arg) {
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return cli_usage_error("produce", cli_produce_usage, "-H expects NAME=VALUE, got \"%s\"",
                               arg);
    rill_header_t *h = realloc(a->headers, (a->header_cnt + 1) * sizeof(*h));
    if (!h) {
        fprintf(stderr, "rill produce: out of memory\n");
        return CLI_FAIL;
    }
    a->headers = h;
    /* The name points into argv: cut it at '=' in a copy. */
    char *name = strndup(arg, (size_t)(eq - arg));
    if (!name) {
        fprintf(stderr, "rill produce: out of memory\n");
        return CLI_FAIL;
    }
    h[a->header_cnt].name = name;
    h[a->header_cnt].value = eq + 1;
    h[a->header_cnt].value_len = strlen(eq + 1);
    a->header_cnt++;
    return -1;
}

static void free_args(struct produce_args *a) {
    for (size_t i = 0; i < a->header_cnt; i++)
        free((char *)a->headers[i].name);
    free(a->headers);
}

/* Returns -1 when the arguments are good, else the exit code. */
static int parse_args(rill_conf_t *conf, int argc, char **argv, struct produce_args *a) {
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {0}};
    int64_t v;
    int c, r;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:p:K:H:" CLI_COMMON_OPTS, longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (!*optarg)
                return cli_usage_error("produce", cli_produce_usage, "-t needs a topic name");
            a->topic = optarg;
            break;
        case 'p':
            if (cli_parse_int(optarg, 0, INT32_MAX, &v) < 0)
                return cli_usage_error("produce", cli_produce_usage,
                                       "-p expects a partition number >= 0, got \"%s\"", optarg);
            a->partition = (int32_t)v;
            break;
        case 'K':
            if (!*optarg)
                return cli_usage_error("produce", cli_produce_usage, "-K needs a delimiter");
            a->key_delim = optarg;
            break;
        case 'H':
            if ((r = parse_header(a, optarg)) >= 0)
                return r;
            break;
        case 'b':
        case 'X':
            if ((r = cli_common_option(conf, "produce", c, optarg)) >= 0)
                return r;
            break;
        case 'h':
            fputs(cli_produce_usage, stdout);
            return CLI_OK;
        default:
            return cli_getopt_error("produce", cli_produce_usage, c, optopt, argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("produce", cli_produce_usage, "unexpected argument \"%s\"",
                               argv[optind]);
    if (!a->topic)
        return cli_usage_error("produce", cli_produce_usage, "-t TOPIC is required");
    return -1;
}

/* Queues one message, serving delivery reports while the queue is full. */
static rill_err_t send_line(rill_producer_t *p, const struct produce_args *a, char *line,
                            size_t len, uint64_t lineno) {
    const char *key = NULL, *value = line;
    size_t key_len = 0, value_len = len;
    if (a->key_delim) {
        char *d = memmem(line, len, a->key_delim, strlen(a->key_delim));
        if (d) {
            key = line;
            key_len = (size_t)(d - line);
            value = d + strlen(a->key_delim);
            value_len = len - key_len - strlen(a->key_delim);
        }
    }
    for (;;) {
        rill_err_t err = rill_produce(p, a->topic, a->partition, key, key_len, value, value_len,
                                      a->headers, a->header_cnt, 0, (void *)(uintptr_t)lineno);
        if (err != RILL_ERR_QUEUE_FULL)
            return err;
        rill_poll(p, 100);
    }
}

int cli_produce(rill_conf_t *conf, int argc, char **argv) {
    struct produce_args a = {.partition = RILL_PARTITION_ANY};
    int r = parse_args(conf, argc, argv, &a);
    if (r >= 0) {
        free_args(&a);
        return r;
    }
    struct produce_run run = {0};
    rill_conf_set_dr_cb(conf, on_delivery);
    rill_conf_set_opaque(conf, &run);
    char err[512];
    rill_producer_t *p = rill_producer_new(conf, err, sizeof(err));
    if (!p) {
        fprintf(stderr, "rill produce: %s\n", err);
        free_args(&a);
        return CLI_USAGE;
    }

    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    uint64_t lines = 0;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        size_t len = (size_t)n;
        if (len && line[len - 1] == '\n')
            len--;
        lines++;
        rill_err_t e = send_line(p, &a, line, len, lines);
        if (e)
            report_failure(&run, lines, e);
        if ((lines & 1023) == 0)
            rill_poll(p, 0);
    }
    int read_failed = ferror(stdin);
    if (read_failed)
        perror("rill produce: reading stdin");
    free(line);

    /* Delivery is bounded by delivery.timeout.ms; give the flush a little more. */
    int64_t dt = cli_conf_int(conf, "delivery.timeout.ms", 300000);
    int timeout = dt <= 0 || dt > INT32_MAX - 10000 ? -1 : (int)dt + 10000;
    rill_flush(p, timeout);
    rill_producer_destroy(p); /* serves the reports of anything still queued */
    free_args(&a);

    if (run.failed || run.delivered != lines || read_failed) {
        fprintf(stderr, "rill produce: %llu of %llu messages not acknowledged\n",
                (unsigned long long)(lines - run.delivered), (unsigned long long)lines);
        return CLI_FAIL;
    }
    return CLI_OK;
}
