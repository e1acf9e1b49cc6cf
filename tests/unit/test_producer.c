/*
 * test_producer.c -- producer behaviour that needs no broker: argument and
 * size checks, queue limits (QUEUE_FULL), delivery timeout against an
 * unreachable bootstrap address (bounded, every message reported once),
 * destroy failing what was not delivered, flush timeout, and the key
 * partitioner matching the Java client's murmur2 mapping.
 */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "client/producer_int.h"
#include "common/clock.h"
#include "common/murmur2.h"
#include "rill.h"

static int reports, report_errs[4], last_err;
static void *last_opaque;

static void dr_cb(rill_producer_t *p, const rill_delivery_t *dr, void *opaque) {
    (void)p;
    (void)opaque;
    reports++;
    last_err = dr->err;
    last_opaque = dr->msg_opaque;
    if (dr->err == RILL_ERR_TIMED_OUT)
        report_errs[0]++;
    else if (dr->err == RILL_ERR_DESTROYED)
        report_errs[1]++;
    else if (dr->err == 0)
        report_errs[2]++;
    else
        report_errs[3]++;
}

/* A 127.0.0.1 port with nothing listening on it. */
static char closed_addr[64];

static void pick_closed_port(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    bind(fd, (struct sockaddr *)&a, sizeof(a));
    getsockname(fd, (struct sockaddr *)&a, &len);
    snprintf(closed_addr, sizeof(closed_addr), "127.0.0.1:%d", ntohs(a.sin_port));
    close(fd); /* bound, never listened, now closed: connects are refused */
}

static rill_conf_t *conf_with(const char *const *kv) {
    char err[256];
    rill_conf_t *c = rill_conf_new();
    assert_int_equal(rill_conf_set(c, "bootstrap.servers", closed_addr, err, sizeof(err)), 0);
    assert_int_equal(rill_conf_set(c, "log_level", "0", err, sizeof(err)), 0);
    for (; kv && kv[0]; kv += 2)
        assert_int_equal(rill_conf_set(c, kv[0], kv[1], err, sizeof(err)), 0);
    rill_conf_set_dr_cb(c, dr_cb);
    return c;
}

static void reset_counts(void) {
    reports = 0;
    memset(report_errs, 0, sizeof(report_errs));
}

static void bad_arguments(void **state) {
    (void)state;
    rill_conf_t *c = conf_with(NULL);
    rill_producer_t *p = rill_producer_new(c, NULL, 0);
    assert_non_null(p);
    assert_int_equal(rill_produce(p, NULL, -1, NULL, 0, "v", 1, NULL, 0, 0, NULL),
                     RILL_ERR_INVALID_ARG);
    assert_int_equal(rill_produce(p, "", -1, NULL, 0, "v", 1, NULL, 0, 0, NULL),
                     RILL_ERR_INVALID_ARG);
    assert_int_equal(rill_produce(p, "t", -2, NULL, 0, "v", 1, NULL, 0, 0, NULL),
                     RILL_ERR_INVALID_ARG);
    assert_int_equal(rill_produce(p, "t", -1, NULL, 0, "v", 1, NULL, 2, 0, NULL),
                     RILL_ERR_INVALID_ARG);
    rill_header_t h = {NULL, "x", 1};
    assert_int_equal(rill_produce(p, "t", -1, NULL, 0, "v", 1, &h, 1, 0, NULL),
                     RILL_ERR_INVALID_ARG);
    /* Larger than message.max.bytes (1000000 by default). */
    static char big[1000001];
    assert_int_equal(rill_produce(p, "t", -1, NULL, 0, big, sizeof(big), NULL, 0, 0, NULL),
                     RILL_ERR_MSG_SIZE_TOO_LARGE);
    assert_int_equal(rill_outq_len(p), 0);
    rill_producer_destroy(p);
    rill_conf_destroy(c);
}

static void bad_config_is_refused(void **state) {
    (void)state;
    char err[256];
    rill_conf_t *c = conf_with(NULL);
    assert_int_equal(rill_conf_set(c, "enable.idempotence", "true", err, sizeof(err)), 0);
    assert_int_equal(rill_conf_set(c, "acks", "1", err, sizeof(err)), 0);
    err[0] = 0;
    assert_null(rill_producer_new(c, err, sizeof(err)));
    assert_non_null(strstr(err, "acks"));
    assert_int_equal(rill_conf_set(c, "acks", "all", err, sizeof(err)), 0);
    assert_int_equal(rill_conf_set(c, "bootstrap.servers", "host:notaport", err, sizeof(err)),
                     RILL_CONF_INVALID);
    rill_conf_destroy(c);
}

static void queue_full(void **state) {
    (void)state;
    const char *kv[] = {"queue.buffering.max.messages", "10", "delivery.timeout.ms", "60000", NULL};
    rill_conf_t *c = conf_with(kv);
    rill_producer_t *p = rill_producer_new(c, NULL, 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(rill_produce(p, "t", -1, NULL, 0, "v", 1, NULL, 0, 0, NULL), 0);
    assert_int_equal(rill_produce(p, "t", -1, NULL, 0, "v", 1, NULL, 0, 0, NULL),
                     RILL_ERR_QUEUE_FULL);
    assert_int_equal(rill_outq_len(p), 10);
    reset_counts();
    rill_producer_destroy(p); /* fails the 10 and reports them before returning */
    assert_int_equal(reports, 10);
    assert_int_equal(report_errs[1], 10);
    rill_conf_destroy(c);

    /* The byte limit, in KiB. */
    const char *kv2[] = {"queue.buffering.max.kbytes", "1", "delivery.timeout.ms", "60000", NULL};
    c = conf_with(kv2);
    p = rill_producer_new(c, NULL, 0);
    char v[600] = {0};
    assert_int_equal(rill_produce(p, "t", -1, NULL, 0, v, sizeof(v), NULL, 0, 0, NULL), 0);
    assert_int_equal(rill_produce(p, "t", -1, NULL, 0, v, sizeof(v), NULL, 0, 0, NULL),
                     RILL_ERR_QUEUE_FULL);
    rill_producer_destroy(p);
    rill_conf_destroy(c);
}

static void unreachable_cluster_times_out(void **state) {
    (void)state;
    const char *kv[] = {"delivery.timeout.ms", "1500", "linger.ms", "0", NULL};
    rill_conf_t *c = conf_with(kv);
    rill_producer_t *p = rill_producer_new(c, NULL, 0);
    reset_counts();
    int marker[5];
    for (int i = 0; i < 5; i++)
        assert_int_equal(rill_produce(p, "t", i % 2 ? 0 : RILL_PARTITION_ANY, "k", 1, "v", 1, NULL,
                                      0, 0, &marker[i]),
                         0);
    int64_t t0 = rill__mono_ms();
    /* Flush gives up at its own timeout first... */
    assert_int_equal(rill_flush(p, 300), RILL_ERR_TIMED_OUT);
    assert_true(rill__mono_ms() - t0 < 1500);
    /* ...and the messages fail at delivery.timeout.ms, each reported once. */
    assert_int_equal(rill_flush(p, 10000), 0);
    int64_t took = rill__mono_ms() - t0;
    assert_true(took >= 1400 && took < 6000);
    assert_int_equal(reports, 5);
    assert_int_equal(report_errs[0], 5);
    assert_int_equal(rill_outq_len(p), 0);
    rill_producer_stats_t st;
    rill_producer_stats(p, &st);
    assert_int_equal(st.msgs_queued, 5);
    assert_int_equal(st.msgs_failed, 5);
    assert_int_equal(st.msgs_acked, 0);
    char json[4096];
    size_t n = rill_producer_stats_json(p, json, sizeof(json));
    assert_true(n > 0 && n < sizeof(json));
    assert_non_null(strstr(json, "\"msgs_failed\":5"));
    rill_producer_destroy(p);
    assert_int_equal(reports, 5); /* nothing reported twice */
    rill_conf_destroy(c);
}

static void java_partitions_for_keys(void **state) {
    (void)state;
    /* partition = (murmur2(key) & 0x7fffffff) % n, with murmur2 checked
     * against the Java client's vectors in test_common; here the mapping
     * the partitioner applies, for the default and the murmur2 settings. */
    const char *keys[] = {"kafka", "giberish123456789", "1234", "234", "34", "4", ""};
    const int32_t parts[] = {1, 3, 7, 16, 100};
    rill_conf_t *c = conf_with(NULL);
    rill_producer_t *p = rill_producer_new(c, NULL, 0);
    ptopic t = {0};
    ppart pp[100] = {{0}};
    t.parts = pp;
    for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
        for (size_t j = 0; j < sizeof(parts) / sizeof(parts[0]); j++) {
            t.npart = parts[j];
            int32_t want = (int32_t)((rill__murmur2(keys[k], strlen(keys[k])) & 0x7fffffff) %
                                     (uint32_t)parts[j]);
            assert_int_equal(rill__partition_pick(p, &t, keys[k], strlen(keys[k]), 0), want);
        }
    }
    /* Known values: "kafka" -> 0xd067cf64 & 0x7fffffff = 0x5067cf64 = 1348980580. */
    t.npart = 7;
    assert_int_equal(rill__partition_pick(p, &t, "kafka", 5, 0), 1348980580 % 7);
    /* Null keys stick to one partition for a while, then may move. */
    t.npart = 16;
    for (int i = 0; i < 16; i++)
        pp[i].leader = 1;
    int32_t first = rill__partition_pick(p, &t, NULL, 0, 1000);
    for (int i = 0; i < 100; i++)
        assert_int_equal(rill__partition_pick(p, &t, NULL, 0, 1000 + i), first);
    rill_producer_destroy(p);
    rill_conf_destroy(c);
}

static int stats_calls;
static char stats_last[4096];

static void stats_cb(void *opaque, const char *json, size_t len) {
    (void)opaque;
    stats_calls++;
    snprintf(stats_last, sizeof(stats_last), "%.*s", (int)len, json);
}

static void stats_callback_from_poll(void **state) {
    (void)state;
    const char *kv[] = {"statistics.interval.ms", "100", "delivery.timeout.ms", "60000", NULL};
    rill_conf_t *c = conf_with(kv);
    rill_conf_set_stats_cb(c, stats_cb);
    rill_producer_t *p = rill_producer_new(c, NULL, 0);
    assert_int_equal(rill_produce(p, "t", -1, "k", 1, "v", 1, NULL, 0, 0, NULL), 0);
    stats_calls = 0;
    int64_t t0 = rill__mono_ms();
    while (rill__mono_ms() - t0 < 450)
        rill_poll(p, 50);
    /* Every 100 ms, from rill_poll: about four times in 450 ms. */
    assert_true(stats_calls >= 2 && stats_calls <= 6);
    assert_non_null(strstr(stats_last, "\"msgs_queued\":1"));
    assert_non_null(strstr(stats_last, "\"outq_msgs\":1"));
    assert_non_null(strstr(stats_last, "\"brokers\":["));
    rill_producer_destroy(p);
    rill_conf_destroy(c);
}

int main(void) {
    pick_closed_port();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_arguments),
        cmocka_unit_test(bad_config_is_refused),
        cmocka_unit_test(queue_full),
        cmocka_unit_test(unreachable_cluster_times_out),
        cmocka_unit_test(java_partitions_for_keys),
        cmocka_unit_test(stats_callback_from_poll),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
