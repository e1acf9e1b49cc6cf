/*
 * rdlatency -- acknowledgement latency probe: librdkafka's producer at a fixed
 * rate, each message's time from rd_kafka_producev() to its delivery report.
 * bench/run.sh runs it against librdkafka's mock cluster and rill-broker side
 * by side (issue 3: p99 with acks=1 at 10k msgs/s under 1 ms).
 *
 * usage: rdlatency BOOTSTRAP TOPIC RATE SECONDS SIZE [librdkafka-key=value ...]
 *
 * linger.ms=0 and acks=1 unless given: each message leaves as soon as the
 * producer's broker thread sees it, so the figure is the round trip through
 * the client and the broker, not batching.  One message is produced and
 * flushed first (connection, metadata, topic creation are not measured); then
 * RATE messages a second are sent on an absolute schedule for SECONDS seconds
 * (a late loop catches up instead of thinning the load).  Delivery reports are
 * served by a second thread blocked in rd_kafka_poll(), so a report is timed
 * when librdkafka hands it over, not when a send loop gets round to polling.
 * Prints one line:
 *
 *   librdkafka 2.0.2 latency: N msgs x S B in T s: R msgs/s M MB/s cpu=C s
 *   (X ns/msg) maxrss=K KiB delivered=D failed=F p50_us=A p99_us=B p999_us=C
 *   max_us=E
 *
 * (the produce shape, so bench/compare.py parses it with the same pattern).
 * Exit status 1 unless every message was delivered.
 */
#include <librdkafka/rdkafka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static int64_t *sent_ns, *lat_ns; /* per message, indexed by its number */
static atomic_long delivered, failed, reported;
static atomic_int stop_poller;

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
    (void)rk;
    (void)opaque;
    int64_t t = now_ns();
    intptr_t i = (intptr_t)m->_private;
    if (i >= 0) {
        lat_ns[i] = t - sent_ns[i];
        if (m->err)
            atomic_fetch_add(&failed, 1);
        else
            atomic_fetch_add(&delivered, 1);
    }
    atomic_fetch_add(&reported, 1);
}

static void *poller(void *arg) {
    rd_kafka_t *rk = arg;
    while (!atomic_load(&stop_poller))
        rd_kafka_poll(rk, 100);
    return NULL;
}

static int cmp64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array. */
static int64_t pct(const int64_t *v, long n, double p) {
    long k = (long)(p / 100.0 * (double)n + 0.999999);
    if (k < 1)
        k = 1;
    if (k > n)
        k = n;
    return v[k - 1];
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: rdlatency BOOTSTRAP TOPIC RATE SECONDS SIZE [key=value ...]\n");
        return 2;
    }
    const char *topic = argv[2];
    long rate = atol(argv[3]);
    double secs = atof(argv[4]);
    long size_arg = atol(argv[5]);
    if (rate <= 0 || secs <= 0 || size_arg < 0) {
        fprintf(stderr, "rdlatency: RATE and SECONDS must be > 0, SIZE >= 0\n");
        return 2;
    }
    size_t size = (size_t)size_arg;
    long count = (long)((double)rate * secs);
    if (count < 1)
        count = 1;

    char err[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof err);
    rd_kafka_conf_set(conf, "linger.ms", "0", err, sizeof err);
    rd_kafka_conf_set(conf, "acks", "1", err, sizeof err);
    for (int i = 6; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "rdlatency: expected key=value, got '%s'\n", argv[i]);
            rd_kafka_conf_destroy(conf);
            return 2;
        }
        *eq = '\0';
        if (rd_kafka_conf_set(conf, argv[i], eq + 1, err, sizeof err) != RD_KAFKA_CONF_OK) {
            fprintf(stderr, "rdlatency: %s\n", err);
            rd_kafka_conf_destroy(conf);
            return 2;
        }
    }
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
    if (!rk) {
        fprintf(stderr, "rdlatency: %s\n", err);
        return 2;
    }
    char *payload = malloc(size ? size : 1);
    sent_ns = calloc((size_t)count, sizeof(*sent_ns));
    lat_ns = calloc((size_t)count, sizeof(*lat_ns));
    if (!payload || !sent_ns || !lat_ns) {
        fprintf(stderr, "rdlatency: out of memory\n");
        return 1;
    }
    memset(payload, 'x', size);

    /* Warm-up: connection, metadata, topic creation happen here, unmeasured. */
    rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(payload, size),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_OPAQUE((void *)-1),
                      RD_KAFKA_V_END);
    if (rd_kafka_flush(rk, 30000) != RD_KAFKA_RESP_ERR_NO_ERROR) {
        fprintf(stderr, "rdlatency: the warm-up message was not delivered in 30 s\n");
        return 1;
    }
    atomic_store(&reported, 0);
    pthread_t th;
    if (pthread_create(&th, NULL, poller, rk) != 0) {
        fprintf(stderr, "rdlatency: cannot start the poll thread\n");
        return 1;
    }

    struct rusage ru0;
    getrusage(RUSAGE_SELF, &ru0);
    int64_t period = 1000000000 / rate, t0 = now_ns();
    long produced = 0;
    for (long i = 0; i < count; i++) {
        int64_t due = t0 + i * period;
        struct timespec ts = {(time_t)(due / 1000000000), (long)(due % 1000000000)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) != 0)
            ;
        sent_ns[i] = now_ns();
        rd_kafka_resp_err_t e =
            rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(payload, size),
                              RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                              RD_KAFKA_V_OPAQUE((void *)(intptr_t)i), RD_KAFKA_V_END);
        if (e) {
            fprintf(stderr, "rdlatency: produce: %s\n", rd_kafka_err2str(e));
            break;
        }
        produced++;
    }
    int64_t deadline = now_ns() + 60 * (int64_t)1000000000;
    while (atomic_load(&reported) < produced && now_ns() < deadline) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    double dt = (double)(now_ns() - t0) / 1e9;
    atomic_store(&stop_poller, 1);
    pthread_join(th, NULL);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)(ru.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                 (double)(ru.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
                 (double)(ru.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                 (double)(ru.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;

    long ok = atomic_load(&delivered), bad = atomic_load(&failed);
    long n = 0;
    for (long i = 0; i < produced; i++)
        if (lat_ns[i] > 0)
            lat_ns[n++] = lat_ns[i];
    qsort(lat_ns, (size_t)n, sizeof(*lat_ns), cmp64);
    printf("librdkafka %s latency: %ld msgs x %zu B in %.3f s: %.0f msgs/s %.1f MB/s cpu=%.3f s "
           "(%.0f ns/msg) maxrss=%ld KiB delivered=%ld failed=%ld p50_us=%.1f p99_us=%.1f "
           "p999_us=%.1f max_us=%.1f\n",
           rd_kafka_version_str(), count, size, dt, (double)ok / dt,
           (double)ok * (double)size / dt / 1e6, cpu, cpu / (double)(ok ? ok : 1) * 1e9,
           ru.ru_maxrss, ok, bad + (count - produced), n ? (double)pct(lat_ns, n, 50) / 1e3 : -1,
           n ? (double)pct(lat_ns, n, 99) / 1e3 : -1, n ? (double)pct(lat_ns, n, 99.9) / 1e3 : -1,
           n ? (double)lat_ns[n - 1] / 1e3 : -1);
    rd_kafka_destroy(rk);
    free(payload);
    free(sent_ns);
    free(lat_ns);
    return bad || ok != count ? 1 : 0;
}
