/*
 * rdconsume -- librdkafka consumer throughput probe, the anchor for consume
 * benchmarks (of rill-broker's Fetch path, and later of librill's consumer).
 *
 * usage: rdconsume BOOTSTRAP TOPIC COUNT [librdkafka-key=value ...]
 *
 * Assigns every partition of TOPIC from the beginning (no group membership, no
 * commits), reads until COUNT messages arrived or nothing arrived for 10 s,
 * then prints one line in the shape of rdperf:
 *
 *   librdkafka 2.0.2 consume: N msgs in T s: R msgs/s M MB/s cpu=C s
 *   (X ns/msg) maxrss=K KiB
 *
 * The clock starts at the first message, so connection set-up is not counted.
 * librdkafka's mock cluster serves fetches slowly: measure against rill-broker.
 * Exit status 1 unless exactly COUNT messages were read.
 */
#include <librdkafka/rdkafka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define IDLE_LIMIT_S 10.0

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Assigns every partition of topic at the beginning; returns 0 or -1. */
static int assign_all(rd_kafka_t *rk, const char *topic) {
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
    rd_kafka_topic_destroy(rkt);
    if (e || md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt < 1) {
        fprintf(stderr, "rdconsume: no metadata for %s: %s\n", topic,
                rd_kafka_err2str(e ? e : md->topics[0].err));
        if (md)
            rd_kafka_metadata_destroy(md);
        return -1;
    }
    int n = md->topics[0].partition_cnt;
    rd_kafka_topic_partition_list_t *tp = rd_kafka_topic_partition_list_new(n);
    for (int i = 0; i < n; i++)
        rd_kafka_topic_partition_list_add(tp, topic, md->topics[0].partitions[i].id)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_metadata_destroy(md);
    e = rd_kafka_assign(rk, tp);
    rd_kafka_topic_partition_list_destroy(tp);
    if (e) {
        fprintf(stderr, "rdconsume: assign: %s\n", rd_kafka_err2str(e));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: rdconsume BOOTSTRAP TOPIC COUNT [key=value ...]\n");
        return 2;
    }
    const char *topic = argv[2];
    long count = atol(argv[3]);
    if (count <= 0) {
        fprintf(stderr, "rdconsume: COUNT must be > 0\n");
        return 2;
    }
    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof err);
    rd_kafka_conf_set(conf, "group.id", "rdconsume", err, sizeof err); /* required, unused */
    rd_kafka_conf_set(conf, "enable.auto.commit", "false", err, sizeof err);
    for (int i = 4; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "rdconsume: expected key=value, got '%s'\n", argv[i]);
            rd_kafka_conf_destroy(conf);
            return 2;
        }
        *eq = '\0';
        if (rd_kafka_conf_set(conf, argv[i], eq + 1, err, sizeof err) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "rdconsume: %s\n", err);
            rd_kafka_conf_destroy(conf);
            return 2;
        }
    }
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "rdconsume: %s\n", err);
        return 2;
    }
    if (assign_all(rk, topic)) {
        rd_kafka_destroy(rk);
        return 1;
    }

    long got = 0;
    double bytes = 0, t0 = 0, last = now_s();
    while (got < count && now_s() - last < IDLE_LIMIT_S) {
        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
        if (!m)
            continue;
        if (!m->err) {
            if (got++ == 0)
                t0 = now_s();
            bytes += (double)m->len;
            last = now_s();
        }
        rd_kafka_message_destroy(m);
    }
    double dt = got ? now_s() - t0 : 0;
    if (dt <= 0)
        dt = 1e-9;
    rd_kafka_consumer_close(rk);
    rd_kafka_destroy(rk);

    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    printf("librdkafka %s consume: %ld msgs in %.3f s: %.0f msgs/s %.1f MB/s cpu=%.3f s "
           "(%.0f ns/msg) maxrss=%ld KiB\n",
           rd_kafka_version_str(), got, dt, (double)got / dt, bytes / dt / 1e6, cpu,
           cpu / (double)(got ? got : 1) * 1e9, ru.ru_maxrss);
    return got == count ? 0 : 1;
}
