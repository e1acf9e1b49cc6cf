/*
 * rdperf -- librdkafka producer throughput probe: the anchor that `rill perf
 * produce` is compared with, line by line, in bench/run.sh.
 *
 * usage: rdperf BOOTSTRAP TOPIC COUNT SIZE [librdkafka-key=value ...]
 *
 * Produces COUNT messages of SIZE bytes ('x' repeated, no key, copied by
 * librdkafka) to TOPIC with the partitioner's choice of partition, waits for
 * every delivery report, then prints one line:
 *
 *   librdkafka 2.0.2: N msgs x S B in T s: R msgs/s M MB/s cpu=C s (X ns/msg)
 *   maxrss=K KiB delivered=D failed=F
 *
 * (one line; the same shape as `rill perf produce`, so the two compare by
 * the same parser).  CPU is user+sys of the whole process, peak RSS from
 * getrusage.  The clock starts before the first produce call and stops when
 * the last report has been served.  Exit status 1 unless every message was
 * delivered.
 */
#include <librdkafka/rdkafka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static long delivered, failed;
static rd_kafka_resp_err_t first_err;

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    if (m->err) {
        if (!failed++)
            first_err = m->err;
    } else {
        delivered++;
    }
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_s(const struct rusage *ru) {
    return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
           (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: rdperf BOOTSTRAP TOPIC COUNT SIZE [key=value ...]\n");
        return 2;
    }
    const char *topic = argv[2];
    long count = atol(argv[3]);
    long size_arg = atol(argv[4]);
    if (count <= 0 || size_arg < 0) {
        fprintf(stderr, "rdperf: COUNT must be > 0 and SIZE >= 0\n");
        return 2;
    }
    size_t size = (size_t)size_arg;

    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof err);
    /* As in ../shared/tools/rdperf.c: a queue large enough not to throttle the loop. */
    rd_kafka_conf_set(conf, "queue.buffering.max.messages", "2000000", err, sizeof err);
    for (int i = 5; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "rdperf: expected key=value, got '%s'\n", argv[i]);
            rd_kafka_conf_destroy(conf);
            return 2;
        }
        *eq = '\0';
        if (rd_kafka_conf_set(conf, argv[i], eq + 1, err, sizeof err) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "rdperf: %s\n", err);
            rd_kafka_conf_destroy(conf);
            return 2;
        }
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "rdperf: %s\n", err);
        return 2;
    }
    char *payload = malloc(size ? size : 1);
    if (!payload) {
        fprintf(stderr, "rdperf: out of memory\n");
        rd_kafka_destroy(rk);
        return 1;
    }
    memset(payload, 'x', size);

    double t0 = now_s();
    for (long i = 0; i < count; i++) {
        rd_kafka_resp_err_t e;
        while ((e = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(payload, size),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END)) ==
               RD_KAFKA_RESP_ERR__QUEUE_FULL)
            rd_kafka_poll(rk, 1);
        if (e) {
            fprintf(stderr, "rdperf: produce: %s\n", rd_kafka_err2str(e));
            failed += count - i;
            break;
        }
        if ((i & 1023) == 0)
            rd_kafka_poll(rk, 0);
    }
    if (rd_kafka_flush(rk, 120000) != RD_KAFKA_RESP_ERR_NO_ERROR)
        fprintf(stderr, "rdperf: flush timed out with %d messages left\n", rd_kafka_outq_len(rk));
    double dt = now_s() - t0;
    rd_kafka_destroy(rk);
    free(payload);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = cpu_s(&ru);
    printf("librdkafka %s: %ld msgs x %zu B in %.3f s: %.0f msgs/s %.1f MB/s cpu=%.3f s "
           "(%.0f ns/msg) maxrss=%ld KiB delivered=%ld failed=%ld\n",
           rd_kafka_version_str(), count, size, dt, (double)delivered / dt,
           (double)delivered * (double)size / dt / 1e6, cpu,
           cpu / (double)(delivered ? delivered : 1) * 1e9, ru.ru_maxrss, delivered, failed);
    if (failed)
        fprintf(stderr, "rdperf: first error: %s\n", rd_kafka_err2str(first_err));
    return failed || delivered != count ? 1 : 0;
}
