/*
 * perf.c -- `rill perf produce` and `rill perf consume`: the throughput
 * probes.
 *
 * It mirrors ../shared/tools/rdperf.c, the librdkafka probe it is compared
 * with, step for step: COUNT copies of a SIZE-byte value of 'x', no key,
 * polling every 1024 messages and on a full queue, one flush, and one final
 * line with the same fields and number formats, so the two can be compared
 * line by line.  Like rdperf it raises queue.buffering.max.messages to
 * 2000000 unless -X sets it.  Progress goes to stderr only when stderr is a
 * terminal, so captured output is just the result line.
 *
 * `rill perf consume` mirrors bench/rdconsume.c, librdkafka's consumer probe,
 * the same way: every partition assigned from the beginning (no group, no
 * commits), COUNT messages read, the clock started at the first message (so
 * connection set-up is not counted), 10 s without a message ends the run,
 * and one line of the same shape as perf produce's, where S is the average
 * value size, "delivered" the messages read and "failed" the error events.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"
#include "client/conf.h"
#include "consume.h"

const char cli_perf_usage[] =
    "usage: rill perf produce -t TOPIC [-n COUNT] [-s SIZE] [-p PARTITION] [-b ...] [-X ...]\n"
    "       rill perf consume -t TOPIC [-n COUNT] [-p PARTITION] [-b ...] [-X ...]\n"
    "produce: sends COUNT messages of SIZE bytes as fast as possible, waits for every\n"
    "acknowledgement.  consume: reads COUNT messages from the beginning of every partition\n"
    "(no group), timed from the first message.  Both print one line:\n"
    "  N msgs x S B in T s: R msgs/s M MB/s cpu=C s (X ns/msg) maxrss=K KiB delivered=D failed=F\n"
    "(for consume S is the average value size, D the messages read, F the error events)\n"
    "  -t TOPIC            topic to produce to or consume from (required)\n"
    "  -n COUNT            messages to send or read (default 1000000)\n"
    "  -s SIZE             value size in bytes (produce; default 100)\n"
    "  -p PARTITION        one partition (default: produce spreads them, consume reads "
    "all)\n" CLI_COMMON_USAGE;

struct perf_run {
    long delivered, failed;
    rill_err_t first_err;
};

static void on_delivery(rill_producer_t *p, const rill_delivery_t *dr, void *opaque) {
    (void)p;
    struct perf_run *run = opaque;
    if (dr->err) {
        if (!run->failed)
            run->first_err = dr->err;
        run->failed++;
    } else {
        run->delivered++;
    }
}

struct perf_args {
    const char *topic;
    long count;
    size_t size;
    int32_t partition;
    int consume; /* perf consume: no -s */
};

static int parse_args(rill_conf_t *conf, int argc, char **argv, struct perf_args *a) {
    static const struct option longopts[] = {{"help", no_argument, NULL, 'h'}, {0}};
    int64_t v;
    int c, r;
    optind = 0;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":t:n:s:p:" CLI_COMMON_OPTS, longopts, NULL)) != -1) {
        switch (c) {
        case 't':
            if (!*optarg)
                return cli_usage_error("perf", cli_perf_usage, "-t needs a topic name");
            a->topic = optarg;
            break;
        case 'n':
            if (cli_parse_int(optarg, 1, INT64_MAX / 2, &v) < 0)
                return cli_usage_error("perf", cli_perf_usage,
                                       "-n expects a message count >= 1, got \"%s\"", optarg);
            a->count = (long)v;
            break;
        case 's':
            if (a->consume)
                return cli_usage_error("perf", cli_perf_usage,
                                       "-s is for perf produce (consume reads what is there)");
            if (cli_parse_int(optarg, 0, 1000000000, &v) < 0)
                return cli_usage_error("perf", cli_perf_usage,
                                       "-s expects a size in bytes from 0 to 1000000000, got "
                                       "\"%s\"",
                                       optarg);
            a->size = (size_t)v;
            break;
        case 'p':
            if (cli_parse_int(optarg, 0, INT32_MAX, &v) < 0)
                return cli_usage_error("perf", cli_perf_usage,
                                       "-p expects a partition number >= 0, got \"%s\"", optarg);
            a->partition = (int32_t)v;
            break;
        case 'b':
        case 'X':
            if ((r = cli_common_option(conf, "perf", c, optarg)) >= 0)
                return r;
            break;
        case 'h':
            fputs(cli_perf_usage, stdout);
            return CLI_OK;
        default:
            return cli_getopt_error("perf", cli_perf_usage, c, optopt, argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("perf", cli_perf_usage, "unexpected argument \"%s\"", argv[optind]);
    if (!a->topic)
        return cli_usage_error("perf", cli_perf_usage, "-t TOPIC is required");
    return -1;
}

/*
 * The result line shared by produce and consume (and rdperf/rdconsume's
 * shape): `bytes` is the value bytes moved, `done` the messages that made it.
 */
static void print_result(long count, size_t size, double dt, long done, double bytes, long failed) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    printf("%ld msgs x %zu B in %.3f s: %.0f msgs/s %.1f MB/s cpu=%.3f s (%.0f ns/msg) "
           "maxrss=%ld KiB delivered=%ld failed=%ld\n",
           count, size, dt, (double)done / dt, bytes / dt / 1e6, cpu,
           cpu / (double)(done ? done : 1) * 1e9, ru.ru_maxrss, done, failed);
    fflush(stdout);
}

static void progress(int on, double t0, long sent, long count, const struct perf_run *run) {
    if (!on)
        return;
    double dt = cli_now() - t0;
    fprintf(stderr, "\rrill perf: %ld/%ld sent, %ld delivered, %ld failed, %.1f s   ", sent, count,
            run->delivered, run->failed, dt);
}

static int perf_produce(rill_conf_t *conf, int argc, char **argv) {
    struct perf_args a = {.count = 1000000, .size = 100, .partition = RILL_PARTITION_ANY};
    int r = parse_args(conf, argc, argv, &a);
    if (r >= 0)
        return r;
    char err[512];
    if (!rill__conf_is_set(conf, "queue.buffering.max.messages") &&
        rill_conf_set(conf, "queue.buffering.max.messages", "2000000", err, sizeof(err))) {
        fprintf(stderr, "rill perf: %s\n", err);
        return CLI_FAIL;
    }
    struct perf_run run = {0};
    rill_conf_set_dr_cb(conf, on_delivery);
    rill_conf_set_opaque(conf, &run);
    rill_producer_t *p = rill_producer_new(conf, err, sizeof(err));
    if (!p) {
        fprintf(stderr, "rill perf: %s\n", err);
        return CLI_USAGE;
    }
    char *payload = malloc(a.size ? a.size : 1);
    if (!payload) {
        rill_producer_destroy(p);
        fprintf(stderr, "rill perf: out of memory\n");
        return CLI_FAIL;
    }
    memset(payload, 'x', a.size);
    int tty = isatty(STDERR_FILENO);
    double t0 = cli_now(), last = t0;
    long sent = 0;
    rill_err_t hard = 0;
    for (; sent < a.count; sent++) {
        rill_err_t e;
        while ((e = rill_produce(p, a.topic, a.partition, NULL, 0, payload, a.size, NULL, 0, 0,
                                 NULL)) == RILL_ERR_QUEUE_FULL)
            rill_poll(p, 1);
        if (e) {
            hard = e;
            break;
        }
        if ((sent & 1023) == 0) {
            rill_poll(p, 0);
            if (tty && cli_now() - last >= 1.0) {
                last = cli_now();
                progress(tty, t0, sent + 1, a.count, &run);
            }
        }
    }
    if (hard)
        fprintf(stderr, "rill perf: producing message %ld failed: %s: %s\n", sent + 1,
                rill_err_name(hard), rill_err_str(hard));
    /* Wait for every report, bounded by delivery.timeout.ms (plus a margin). */
    int64_t dto = cli_conf_int(conf, "delivery.timeout.ms", 300000);
    double deadline = dto > 0 ? cli_now() + (double)dto / 1000.0 + 10.0 : 0;
    while (rill_flush(p, tty ? 1000 : 60000) == RILL_ERR_TIMED_OUT) {
        progress(tty, t0, sent, a.count, &run);
        if (deadline && cli_now() > deadline)
            break;
    }
    double dt = cli_now() - t0;
    rill_producer_destroy(p); /* fails and reports whatever was still queued */
    free(payload);
    if (tty)
        fprintf(stderr, "\r%*s\r", 78, "");
    if (run.failed)
        fprintf(stderr, "rill perf: %ld messages failed, the first with %s: %s\n", run.failed,
                rill_err_name(run.first_err), rill_err_str(run.first_err));
    print_result(a.count, a.size, dt, run.delivered, (double)run.delivered * (double)a.size,
                 run.failed);
    return run.failed || hard || run.delivered != a.count ? CLI_FAIL : CLI_OK;
}

/* Assigns every partition of a.topic (or a.partition) from the beginning; 0 or an exit code. */
static int assign_from_start(rill_consumer_t *c, rill_conf_t *conf, const struct perf_args *a) {
    int32_t one = a->partition, *ids = &one, n = 1;
    char err[512];
    if (a->partition == RILL_PARTITION_ANY) {
        int64_t timeout = cli_conf_int(conf, "request.timeout.ms", 30000);
        rill_err_t e =
            cli_topic_partitions(conf, a->topic, (int)timeout, &ids, &n, err, sizeof(err));
        if (e) {
            fprintf(stderr, "rill perf: %s\n", err);
            return CLI_FAIL;
        }
    }
    rill_topic_partition_t *tps = calloc((size_t)n, sizeof(*tps));
    rill_err_t e = RILL_ERR_NO_MEMORY;
    for (int32_t i = 0; tps && i < n; i++)
        tps[i] = (rill_topic_partition_t){a->topic, ids[i], RILL_OFFSET_BEGINNING, 0};
    if (tps)
        e = rill_assign(c, tps, (size_t)n);
    free(tps);
    if (ids != &one)
        free(ids);
    if (e) {
        fprintf(stderr, "rill perf: assign: %s: %s\n", rill_err_name(e), rill_err_str(e));
        return CLI_FAIL;
    }
    return 0;
}

#define CONSUME_IDLE_LIMIT_S 10.0

static int perf_consume(rill_conf_t *conf, int argc, char **argv) {
    struct perf_args a = {.count = 1000000, .partition = RILL_PARTITION_ANY, .consume = 1};
    int r = parse_args(conf, argc, argv, &a);
    if (r >= 0)
        return r;
    char err[512];
    rill_consumer_t *c = rill_consumer_new(conf, err, sizeof(err));
    if (!c) {
        fprintf(stderr, "rill perf: %s\n", err);
        return CLI_USAGE;
    }
    if ((r = assign_from_start(c, conf, &a)) != 0) {
        rill_consumer_destroy(c);
        return r;
    }
    int tty = isatty(STDERR_FILENO);
    long got = 0, failed = 0, got_seen = 0;
    rill_err_t first_err = 0;
    double bytes = 0, t0 = 0, last = cli_now(), shown = last;
    while (got < a.count) {
        rill_message_t *m = rill_consumer_poll(c, 100);
        if (!m) {
            double now = cli_now();
            if (got != got_seen) { /* progress since the last quiet poll */
                got_seen = got;
                last = now;
            }
            if (now - last >= CONSUME_IDLE_LIMIT_S)
                break;
            continue;
        }
        rill_err_t e = rill_message_err(m);
        if (!e) {
            size_t vlen;
            rill_message_value(m, &vlen);
            bytes += (double)vlen;
            if (got++ == 0)
                t0 = cli_now();
        } else if (e != RILL_ERR_PARTITION_EOF) {
            if (!failed++)
                first_err = e;
            if (failed <= 10)
                fprintf(stderr, "rill perf: %s: %s\n", rill_err_name(e), rill_message_errstr(m));
        }
        rill_message_destroy(m);
        if (tty && (got & 1023) == 0 && cli_now() - shown >= 1.0) {
            shown = cli_now();
            fprintf(stderr, "\rrill perf: %ld/%ld read, %.1f s   ", got, a.count,
                    got ? shown - t0 : 0.0);
        }
    }
    double dt = got ? cli_now() - t0 : 0;
    if (dt <= 0)
        dt = 1e-9;
    rill_consumer_close(c, 10000);
    rill_consumer_destroy(c);
    if (tty)
        fprintf(stderr, "\r%*s\r", 78, "");
    if (got < a.count)
        fprintf(stderr, "rill perf: read %ld of %ld messages (nothing for %.0f s)\n", got, a.count,
                CONSUME_IDLE_LIMIT_S);
    if (failed)
        fprintf(stderr, "rill perf: %ld error events, the first %s: %s\n", failed,
                rill_err_name(first_err), rill_err_str(first_err));
    print_result(a.count, got ? (size_t)(bytes / (double)got + 0.5) : 0, dt, got, bytes, failed);
    return failed || got != a.count ? CLI_FAIL : CLI_OK;
}

int cli_perf(rill_conf_t *conf, int argc, char **argv) {
    if (argc < 2)
        return cli_usage_error("perf", cli_perf_usage, "perf needs produce or consume");
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        fputs(cli_perf_usage, stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "produce"))
        return perf_produce(conf, argc - 1, argv + 1);
    if (!strcmp(argv[1], "consume"))
        return perf_consume(conf, argc - 1, argv + 1);
    return cli_usage_error("perf", cli_perf_usage, "unknown action \"%s\"", argv[1]);
}
