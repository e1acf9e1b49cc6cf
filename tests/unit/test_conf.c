/*
 * test_conf.c -- the configuration layer: every key's default and a valid
 * and an invalid value, aliases, normalized string forms, dup, reset, and
 * the producer/consumer cross-key checks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/conf.h"
#include "rill.h"

/* One row per key: a valid value, the string rill_conf_get then returns, and a bad value. */
static const struct {
    const char *key, *good, *good_get, *bad;
} cases[] = {
    {"bootstrap.servers", "a:1,b:9092, [::1]:9093", "a:1,b:9092, [::1]:9093", "a:99999"},
    {"client.id", "my-app", "my-app", NULL},
    {"security.protocol", "PLAINTEXT", "plaintext", "ssl"},
    {"request.timeout.ms", "5000", "5000", "0"},
    {"socket.connection.setup.timeout.ms", "1000", "1000", "999"},
    {"reconnect.backoff.ms", "0", "0", "-1"},
    {"reconnect.backoff.max.ms", "3600000", "3600000", "3600001"},
    {"retry.backoff.ms", "+250", "250", "0"},
    {"retry.backoff.max.ms", "2000", "2000", "1.5"},
    {"metadata.max.age.ms", "60000", "60000", "0"},
    {"topic.metadata.refresh.interval.ms", "-1", "-1", "-2"},
    {"api.version.request.timeout.ms", "300000", "300000", "300001"},
    {"message.max.bytes", "2000000", "2000000", "999"},
    {"acks", "-1", "all", "2"},
    {"linger.ms", "0.5", "0.5", "nan"},
    {"batch.size", "16384", "16384", "0"},
    {"batch.num.messages", "1000000", "1000000", "1000001"},
    {"compression.type", "LZ4", "lz4", "brotli"},
    {"compression.level", "12", "12", "13"},
    {"enable.idempotence", "off", "false", "maybe"},
    {"max.in.flight.requests.per.connection", "1", "1", "0"},
    {"retries", "0", "0", "2147483648"},
    {"delivery.timeout.ms", "0", "0", "-5"},
    {"queue.buffering.max.messages", "2000000", "2000000", "x"},
    {"queue.buffering.max.kbytes", "2147483647", "2147483647", "2147483648"},
    {"partitioner", "consistent_random", "consistent_random", "crc32"},
    {"sticky.partitioning.linger.ms", "0", "0", "900001"},
    {"log_level", "debug", "7", "8"},
    {"debug", "Broker, msg", "broker,msg", "broker,bogus"},
    {"statistics.interval.ms", "1000", "1000", "86400001"},
    {"group.id", "g1", "g1", NULL},
    {"group.instance.id", "i1", "i1", NULL},
    {"auto.offset.reset", "smallest", "earliest", "first"},
    {"enable.auto.commit", "0", "false", "2"},
    {"auto.commit.interval.ms", "100", "100", "1e3"},
    {"session.timeout.ms", "10000", "10000", "0"},
    {"heartbeat.interval.ms", "1000", "1000", " 1000"},
    {"max.poll.interval.ms", "86400000", "86400000", "86400001"},
    {"fetch.min.bytes", "100000000", "100000000", "0"},
    {"fetch.max.wait.ms", "0", "0", "300001"},
    {"fetch.max.bytes", "0", "0", "2147483136"},
    {"max.partition.fetch.bytes", "1", "1", "0"},
    {"isolation.level", "read_uncommitted", "read_uncommitted", "serializable"},
    {"partition.assignment.strategy", "cooperative-sticky", "cooperative-sticky",
     "range,cooperative-sticky"},
    {"client.rack", "rack-a", "rack-a", NULL},
    {"enable.partition.eof", "true", "true", "yes please"},
    {"check.crcs", "TRUE", "true", ""},
    {"queued.max.messages.kbytes", "2097151", "2097151", "2097152"},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void every_key_is_covered(void **state) {
    (void)state;
    size_t n = 0;
    for (const char *k; (k = rill__conf_key(n)); n++) {
        int found = 0;
        for (size_t i = 0; i < NCASES; i++)
            found |= !strcmp(cases[i].key, k);
        if (!found)
            fail_msg("key %s has no test case", k);
    }
    assert_int_equal(n, NCASES);
    assert_null(rill__conf_key(n));
}

static void every_key_default_good_bad(void **state) {
    (void)state;
    char err[512];
    for (size_t i = 0; i < NCASES; i++) {
        rill_conf_t *c = rill_conf_new();
        assert_non_null(c);
        /* The default string form is accepted again and changes nothing. */
        const char *def = rill_conf_get(c, cases[i].key);
        assert_non_null(def);
        char *defcopy = strdup(def);
        assert_non_null(defcopy);
        if (*defcopy || !strcmp(cases[i].key, "debug") || !strcmp(cases[i].key, "group.id") ||
            !strcmp(cases[i].key, "group.instance.id") || !strcmp(cases[i].key, "client.rack")) {
            if (rill_conf_set(c, cases[i].key, defcopy, err, sizeof(err)) != RILL_CONF_OK)
                fail_msg("default of %s rejected: %s", cases[i].key, err);
            assert_string_equal(rill_conf_get(c, cases[i].key), defcopy);
        }
        free(defcopy);
        /* A valid value is accepted and read back in its normalized form. */
        if (rill_conf_set(c, cases[i].key, cases[i].good, err, sizeof(err)) != RILL_CONF_OK)
            fail_msg("%s=%s rejected: %s", cases[i].key, cases[i].good, err);
        assert_string_equal(rill_conf_get(c, cases[i].key), cases[i].good_get);
        assert_true(rill__conf_is_set(c, cases[i].key));
        /* A bad value is rejected, names the key, and leaves the previous value. */
        if (cases[i].bad) {
            err[0] = '\0';
            if (rill_conf_set(c, cases[i].key, cases[i].bad, err, sizeof(err)) != RILL_CONF_INVALID)
                fail_msg("%s=%s accepted", cases[i].key, cases[i].bad);
            char quoted[128];
            snprintf(quoted, sizeof(quoted), "\"%s\"", cases[i].key);
            if (!strstr(err, quoted))
                fail_msg("error for %s does not name it: %s", cases[i].key, err);
            assert_string_equal(rill_conf_get(c, cases[i].key), cases[i].good_get);
        }
        rill_conf_destroy(c);
    }
}

static void defaults(void **state) {
    (void)state;
    rill_conf_t *c = rill_conf_new();
    assert_string_equal(c->bootstrap_servers, "localhost:9092");
    assert_string_equal(c->client_id, "rill");
    assert_int_equal(c->acks, -1);
    assert_true(c->linger_ms == 5.0);
    assert_int_equal(c->batch_size, 1000000);
    assert_int_equal(c->batch_num_messages, 10000);
    assert_int_equal(c->compression, 0);
    assert_int_equal(c->compression_level, -1);
    assert_int_equal(c->enable_idempotence, 1);
    assert_int_equal(c->max_in_flight, 5);
    assert_int_equal(c->retries, INT32_MAX);
    assert_int_equal(c->retry_backoff_ms, 100);
    assert_int_equal(c->retry_backoff_max_ms, 1000);
    assert_int_equal(c->request_timeout_ms, 30000);
    assert_int_equal(c->delivery_timeout_ms, 300000);
    assert_int_equal(c->message_max_bytes, 1000000);
    assert_int_equal(c->queue_buffering_max_messages, 100000);
    assert_int_equal(c->queue_buffering_max_kbytes, 1048576);
    assert_int_equal(c->partitioner, RILL_PARTITIONER_MURMUR2_RANDOM);
    assert_int_equal(c->sticky_partitioning_linger_ms, 10);
    assert_int_equal(c->log_level, 6);
    assert_null(c->debug);
    assert_int_equal(c->debug_flags, 0);
    assert_int_equal(c->statistics_interval_ms, 0);
    assert_int_equal(c->reconnect_backoff_ms, 100);
    assert_int_equal(c->reconnect_backoff_max_ms, 10000);
    assert_int_equal(c->socket_connection_setup_timeout_ms, 30000);
    assert_int_equal(c->metadata_max_age_ms, 900000);
    assert_int_equal(c->topic_metadata_refresh_interval_ms, 300000);
    assert_int_equal(c->api_version_request_timeout_ms, 10000);
    assert_int_equal(c->security_protocol, RILL_SECURITY_PLAINTEXT);
    assert_null(c->group_id);
    assert_null(c->group_instance_id);
    assert_int_equal(c->auto_offset_reset, RILL_OFFSET_RESET_LATEST);
    assert_int_equal(c->enable_auto_commit, 1);
    assert_int_equal(c->auto_commit_interval_ms, 5000);
    assert_int_equal(c->session_timeout_ms, 45000);
    assert_int_equal(c->heartbeat_interval_ms, 3000);
    assert_int_equal(c->max_poll_interval_ms, 300000);
    assert_int_equal(c->fetch_min_bytes, 1);
    assert_int_equal(c->fetch_max_wait_ms, 500);
    assert_int_equal(c->fetch_max_bytes, 52428800);
    assert_int_equal(c->max_partition_fetch_bytes, 1048576);
    assert_int_equal(c->isolation_level, RILL_ISOLATION_READ_COMMITTED);
    assert_string_equal(c->partition_assignment_strategy, "range,roundrobin");
    assert_null(c->client_rack);
    assert_int_equal(c->enable_partition_eof, 0);
    assert_int_equal(c->check_crcs, 1); /* always checked; the key only reports it */
    assert_int_equal(c->queued_max_messages_kbytes, 65536);
    assert_null(c->opaque);
    assert_null(c->log_cb);
    assert_null(c->stats_cb);
    assert_null(c->dr_cb);
    /* Nothing was set explicitly; unset strings read back as "". */
    assert_false(rill__conf_is_set(c, "acks"));
    assert_string_equal(rill_conf_get(c, "acks"), "all");
    assert_string_equal(rill_conf_get(c, "group.id"), "");
    assert_string_equal(rill_conf_get(c, "retries"), "2147483647");
    rill_conf_destroy(c);
}

static void typed_values(void **state) {
    (void)state;
    char err[256];
    rill_conf_t *c = rill_conf_new();
    static const struct {
        const char *v;
        int acks;
    } acks[] = {{"all", -1}, {"ALL", -1}, {"-1", -1}, {"0", 0}, {"1", 1}};
    for (size_t i = 0; i < sizeof(acks) / sizeof(acks[0]); i++) {
        assert_int_equal(rill_conf_set(c, "acks", acks[i].v, err, sizeof(err)), RILL_CONF_OK);
        assert_int_equal(c->acks, acks[i].acks);
    }
    static const char *codecs[] = {"none", "gzip", "snappy", "lz4", "zstd"};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(rill_conf_set(c, "compression.type", codecs[i], err, sizeof(err)),
                         RILL_CONF_OK);
        assert_int_equal(c->compression, i);
    }
    static const char *parts[] = {"murmur2_random", "murmur2", "consistent_random",
                                  "consistent",     "random",  "fnv1a_random",
                                  "fnv1a"};
    static const int part_ids[] = {RILL_PARTITIONER_MURMUR2_RANDOM,
                                   RILL_PARTITIONER_MURMUR2,
                                   RILL_PARTITIONER_CONSISTENT_RANDOM,
                                   RILL_PARTITIONER_CONSISTENT,
                                   RILL_PARTITIONER_RANDOM,
                                   RILL_PARTITIONER_FNV1A_RANDOM,
                                   RILL_PARTITIONER_FNV1A};
    for (int i = 0; i < 7; i++) {
        assert_int_equal(rill_conf_set(c, "partitioner", parts[i], err, sizeof(err)), RILL_CONF_OK);
        assert_int_equal(c->partitioner, part_ids[i]);
        assert_string_equal(rill_conf_get(c, "partitioner"), parts[i]);
    }
    static const struct {
        const char *v;
        int r;
        const char *get;
    } resets[] = {{"earliest", RILL_OFFSET_RESET_EARLIEST, "earliest"},
                  {"beginning", RILL_OFFSET_RESET_EARLIEST, "earliest"},
                  {"latest", RILL_OFFSET_RESET_LATEST, "latest"},
                  {"largest", RILL_OFFSET_RESET_LATEST, "latest"},
                  {"end", RILL_OFFSET_RESET_LATEST, "latest"},
                  {"none", RILL_OFFSET_RESET_NONE, "none"}};
    for (size_t i = 0; i < sizeof(resets) / sizeof(resets[0]); i++) {
        assert_int_equal(rill_conf_set(c, "auto.offset.reset", resets[i].v, err, sizeof(err)),
                         RILL_CONF_OK);
        assert_int_equal(c->auto_offset_reset, resets[i].r);
        assert_string_equal(rill_conf_get(c, "auto.offset.reset"), resets[i].get);
    }
    assert_int_equal(rill_conf_set(c, "linger.ms", "0.25", err, sizeof(err)), RILL_CONF_OK);
    assert_true(c->linger_ms == 0.25);
    assert_int_equal(rill_conf_set(c, "linger.ms", "900000", err, sizeof(err)), RILL_CONF_OK);
    assert_int_equal(rill_conf_set(c, "linger.ms", "900000.5", err, sizeof(err)),
                     RILL_CONF_INVALID);
    assert_int_equal(rill_conf_set(c, "linger.ms", "inf", err, sizeof(err)), RILL_CONF_INVALID);
    assert_int_equal(rill_conf_set(c, "linger.ms", "0x10", err, sizeof(err)), RILL_CONF_INVALID);
    assert_int_equal(rill_conf_set(c, "queue.buffering.max.kbytes", "2147483647", err, sizeof(err)),
                     RILL_CONF_OK);
    assert_true(c->queue_buffering_max_kbytes == INT64_C(2147483647));
    assert_int_equal(rill_conf_set(c, "log_level", "warn", err, sizeof(err)), RILL_CONF_OK);
    assert_int_equal(c->log_level, 4);
    assert_int_equal(rill_conf_set(c, "log_level", "3", err, sizeof(err)), RILL_CONF_OK);
    assert_int_equal(c->log_level, 3);
    assert_int_equal(rill_conf_set(c, "enable.idempotence", "FALSE", err, sizeof(err)),
                     RILL_CONF_OK);
    assert_int_equal(c->enable_idempotence, 0);
    assert_int_equal(rill_conf_set(c, "isolation.level", "read_uncommitted", err, sizeof(err)),
                     RILL_CONF_OK);
    assert_int_equal(c->isolation_level, RILL_ISOLATION_READ_UNCOMMITTED);
    assert_int_equal(rill_conf_set(c, "retries", "99999999999999999999", err, sizeof(err)),
                     RILL_CONF_INVALID);
    assert_int_equal(c->retries, INT32_MAX);
    rill_conf_destroy(c);
}

static void lists(void **state) {
    (void)state;
    char err[512];
    rill_conf_t *c = rill_conf_new();
    assert_int_equal(rill_conf_set(c, "debug", "broker,msg", err, sizeof(err)), RILL_CONF_OK);
    assert_string_equal(c->debug, "broker,msg");
    assert_int_equal(c->debug_flags, RILL_DBG_BROKER | RILL_DBG_MSG);
    assert_int_equal(rill_conf_set(c, "debug", "all", err, sizeof(err)), RILL_CONF_OK);
    assert_int_equal(c->debug_flags, RILL_DBG_ALL);
    assert_int_equal(rill_conf_set(c, "debug", "protocol,metadata,producer,consumer,cgrp,fetch",
                                   err, sizeof(err)),
                     RILL_CONF_OK);
    assert_int_equal(c->debug_flags, RILL_DBG_PROTOCOL | RILL_DBG_METADATA | RILL_DBG_PRODUCER |
                                         RILL_DBG_CONSUMER | RILL_DBG_CGRP | RILL_DBG_FETCH);
    assert_int_equal(rill_conf_set(c, "debug", "broker,,msg", err, sizeof(err)), RILL_CONF_INVALID);
    assert_non_null(strstr(err, "unknown item \"\""));
    assert_int_equal(rill_conf_set(c, "debug", "broker,nope", err, sizeof(err)), RILL_CONF_INVALID);
    assert_non_null(strstr(err, "Invalid value \"broker,nope\" for \"debug\": unknown item "
                                "\"nope\"; expected a comma-separated list of all, generic"));
    /* Failed sets left the last good value. */
    assert_int_equal(c->debug_flags, RILL_DBG_PROTOCOL | RILL_DBG_METADATA | RILL_DBG_PRODUCER |
                                         RILL_DBG_CONSUMER | RILL_DBG_CGRP | RILL_DBG_FETCH);
    assert_int_equal(rill_conf_set(c, "debug", "", err, sizeof(err)), RILL_CONF_OK);
    assert_null(c->debug);
    assert_int_equal(c->debug_flags, 0);

    assert_int_equal(
        rill_conf_set(c, "partition.assignment.strategy", " roundrobin , range", err, sizeof(err)),
        RILL_CONF_OK);
    assert_string_equal(c->partition_assignment_strategy, "roundrobin,range");
    assert_int_equal(rill_conf_set(c, "partition.assignment.strategy", "", err, sizeof(err)),
                     RILL_CONF_INVALID);
    assert_int_equal(
        rill_conf_set(c, "partition.assignment.strategy", "roundrobin,sticky", err, sizeof(err)),
        RILL_CONF_INVALID);
    assert_int_equal(rill_conf_set(c, "partition.assignment.strategy", "cooperative-sticky,range",
                                   err, sizeof(err)),
                     RILL_CONF_INVALID);
    assert_non_null(strstr(err, "cannot be mixed"));
    assert_string_equal(c->partition_assignment_strategy, "roundrobin,range");
    rill_conf_destroy(c);
}

static void brokers(void **state) {
    (void)state;
    char err[256];
    static const char *good[] = {
        "localhost", "localhost:9092", "10.0.0.1:1,10.0.0.2:65535", "[::1]:9092",
        "[fe80::1]", "a:1 , b:2",      "kafka-1.example.com:9093"};
    static const char *bad[] = {"",        ",",      "a:1,", ":9092",    "a:0",
                                "a:65536", "a:x",    "a:",   "::1:9092", "PLAINTEXT://a:9092",
                                "[]:1",    "[::1]x", "a b:1"};
    rill_conf_t *c = rill_conf_new();
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (rill_conf_set(c, "bootstrap.servers", good[i], err, sizeof(err)) != RILL_CONF_OK)
            fail_msg("%s rejected: %s", good[i], err);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (rill_conf_set(c, "bootstrap.servers", bad[i], err, sizeof(err)) != RILL_CONF_INVALID)
            fail_msg("\"%s\" accepted", bad[i]);
        assert_non_null(strstr(err, "\"bootstrap.servers\""));
    }
    assert_string_equal(c->bootstrap_servers, "kafka-1.example.com:9093");
    rill_conf_destroy(c);
}

static void error_messages(void **state) {
    (void)state;
    char err[256];
    rill_conf_t *c = rill_conf_new();
    assert_int_equal(rill_conf_set(c, "acks", "x", err, sizeof(err)), RILL_CONF_INVALID);
    assert_string_equal(err, "Invalid value \"x\" for \"acks\": expected one of all, -1, 0, 1");
    assert_int_equal(rill_conf_set(c, "foo", "1", err, sizeof(err)), RILL_CONF_INVALID);
    assert_string_equal(err, "Unknown configuration key \"foo\"");
    assert_int_equal(rill_conf_set(c, "ack", "1", err, sizeof(err)), RILL_CONF_INVALID);
    assert_string_equal(err, "Unknown configuration key \"ack\" (did you mean \"acks\"?)");
    assert_int_equal(rill_conf_set(c, "batch.size", "0", err, sizeof(err)), RILL_CONF_INVALID);
    assert_string_equal(err, "Invalid value \"0\" for \"batch.size\": expected an integer from 1 "
                             "to 2147483647");
    assert_int_equal(rill_conf_set(c, "enable.idempotence", "2", err, sizeof(err)),
                     RILL_CONF_INVALID);
    assert_string_equal(err, "Invalid value \"2\" for \"enable.idempotence\": expected true or "
                             "false");
    assert_int_equal(rill_conf_set(c, "compression.type", "brotli", err, sizeof(err)),
                     RILL_CONF_INVALID);
    assert_string_equal(err, "Invalid value \"brotli\" for \"compression.type\": expected one of "
                             "none, gzip, snappy, lz4, zstd");
    assert_int_equal(rill_conf_set(c, "security.protocol", "sasl_ssl", err, sizeof(err)),
                     RILL_CONF_INVALID);
    assert_string_equal(err, "Invalid value \"sasl_ssl\" for \"security.protocol\": not supported "
                             "yet (only plaintext is)");
    assert_int_equal(rill_conf_set(c, "client.id", "", err, sizeof(err)), RILL_CONF_OK);
    assert_int_equal(rill_conf_set(c, "bootstrap.servers", "", err, sizeof(err)),
                     RILL_CONF_INVALID);
    assert_string_equal(err, "Invalid value \"\" for \"bootstrap.servers\": expected a non-empty "
                             "value");
    /* A tiny or absent error buffer is never overrun. */
    char tiny[8];
    memset(tiny, 'z', sizeof(tiny));
    assert_int_equal(rill_conf_set(c, "acks", "x", tiny, sizeof(tiny)), RILL_CONF_INVALID);
    assert_string_equal(tiny, "Invalid");
    assert_int_equal(rill_conf_set(c, "acks", "x", NULL, 0), RILL_CONF_INVALID);
    assert_int_equal(rill_conf_set(c, NULL, "x", err, sizeof(err)), RILL_CONF_INVALID);
    assert_null(rill_conf_get(c, "foo"));
    rill_conf_destroy(c);
}

static void aliases(void **state) {
    (void)state;
    char err[256];
    static const struct {
        const char *alias, *name, *value;
    } a[] = {
        {"metadata.broker.list", "bootstrap.servers", "h:1"},
        {"request.required.acks", "acks", "1"},
        {"queue.buffering.max.ms", "linger.ms", "20"},
        {"compression.codec", "compression.type", "zstd"},
        {"max.in.flight", "max.in.flight.requests.per.connection", "3"},
        {"message.send.max.retries", "retries", "7"},
        {"message.timeout.ms", "delivery.timeout.ms", "1234"},
        {"fetch.wait.max.ms", "fetch.max.wait.ms", "250"},
        {"fetch.message.max.bytes", "max.partition.fetch.bytes", "4096"},
    };
    rill_conf_t *c = rill_conf_new();
    for (size_t i = 0; i < sizeof(a) / sizeof(a[0]); i++) {
        assert_int_equal(rill_conf_set(c, a[i].alias, a[i].value, err, sizeof(err)), RILL_CONF_OK);
        assert_string_equal(rill_conf_get(c, a[i].name), a[i].value);
        assert_string_equal(rill_conf_get(c, a[i].alias), a[i].value);
        assert_true(rill__conf_is_set(c, a[i].name));
    }
    assert_string_equal(c->bootstrap_servers, "h:1");
    assert_int_equal(c->acks, 1);
    assert_true(c->linger_ms == 20.0);
    assert_int_equal(c->compression, 4);
    assert_int_equal(c->max_in_flight, 3);
    assert_int_equal(c->retries, 7);
    assert_int_equal(c->delivery_timeout_ms, 1234);
    assert_int_equal(c->fetch_max_wait_ms, 250);
    assert_int_equal(c->max_partition_fetch_bytes, 4096);
    /* Errors name the key as the caller spelled it. */
    assert_int_equal(rill_conf_set(c, "compression.codec", "x", err, sizeof(err)),
                     RILL_CONF_INVALID);
    assert_non_null(strstr(err, "\"compression.type\""));
    rill_conf_destroy(c);
}

static void dup_and_reset(void **state) {
    (void)state;
    char err[256];
    rill_conf_t *c = rill_conf_new();
    int token;
    assert_int_equal(rill_conf_set(c, "bootstrap.servers", "x:1", err, sizeof(err)), RILL_CONF_OK);
    assert_int_equal(rill_conf_set(c, "group.id", "grp", err, sizeof(err)), RILL_CONF_OK);
    assert_int_equal(rill_conf_set(c, "debug", "msg", err, sizeof(err)), RILL_CONF_OK);
    assert_int_equal(rill_conf_set(c, "acks", "1", err, sizeof(err)), RILL_CONF_OK);
    rill_conf_set_opaque(c, &token);
    rill_conf_t *d = rill_conf_dup(c);
    assert_non_null(d);
    assert_ptr_not_equal(d->bootstrap_servers, c->bootstrap_servers);
    assert_ptr_not_equal(d->group_id, c->group_id);
    assert_ptr_not_equal(d->partition_assignment_strategy, c->partition_assignment_strategy);
    assert_string_equal(d->group_id, "grp");
    assert_string_equal(d->debug, "msg");
    assert_int_equal(d->debug_flags, RILL_DBG_MSG);
    assert_ptr_equal(d->opaque, &token);
    assert_true(rill__conf_is_set(d, "acks"));
    /* Changing or destroying the original leaves the copy alone. */
    assert_int_equal(rill_conf_set(c, "group.id", "other", err, sizeof(err)), RILL_CONF_OK);
    rill_conf_destroy(c);
    assert_string_equal(d->group_id, "grp");
    assert_string_equal(rill_conf_get(d, "bootstrap.servers"), "x:1");
    assert_int_equal(d->acks, 1);

    /* NULL resets to the default. */
    assert_int_equal(rill_conf_set(d, "acks", NULL, err, sizeof(err)), RILL_CONF_OK);
    assert_int_equal(d->acks, -1);
    assert_false(rill__conf_is_set(d, "acks"));
    assert_int_equal(rill_conf_set(d, "group.id", NULL, err, sizeof(err)), RILL_CONF_OK);
    assert_null(d->group_id);
    assert_int_equal(rill_conf_set(d, "debug", NULL, err, sizeof(err)), RILL_CONF_OK);
    assert_null(d->debug);
    assert_int_equal(d->debug_flags, 0);
    assert_int_equal(rill_conf_set(d, "bootstrap.servers", NULL, err, sizeof(err)), RILL_CONF_OK);
    assert_string_equal(d->bootstrap_servers, "localhost:9092");
    assert_null(rill_conf_dup(NULL));
    rill_conf_destroy(d);
    rill_conf_destroy(NULL);
}

static void dr(rill_producer_t *p, const rill_delivery_t *d, void *o) { (void)p, (void)d, (void)o; }
static void logcb(void *o, int level, const char *fac, const char *msg) {
    (void)o, (void)level, (void)fac, (void)msg;
}
static void statscb(void *o, const char *json, size_t len) { (void)o, (void)json, (void)len; }

static void callbacks_and_logger(void **state) {
    (void)state;
    char err[64];
    rill_conf_t *c = rill_conf_new();
    int token;
    rill_conf_set_opaque(c, &token);
    rill_conf_set_dr_cb(c, dr);
    rill_conf_set_log_cb(c, logcb);
    rill_conf_set_stats_cb(c, statscb);
    assert_ptr_equal(c->dr_cb, dr);
    assert_ptr_equal(c->stats_cb, statscb);
    rill_logger lg;
    rill__conf_logger(c, &lg);
    assert_int_equal(lg.level, 6);
    assert_ptr_equal(lg.sink, logcb);
    assert_ptr_equal(lg.opaque, &token);
    assert_string_equal(lg.name, "rill");
    assert_int_equal(rill_conf_set(c, "debug", "broker", err, sizeof(err)), RILL_CONF_OK);
    rill__conf_logger(c, &lg);
    assert_int_equal(lg.level, RILL_LOG_DEBUG);
    rill_conf_destroy(c);
}

static rill_conf_t *conf_with(const char *const *kv) {
    char err[256];
    rill_conf_t *c = rill_conf_new();
    for (; kv && kv[0]; kv += 2)
        if (rill_conf_set(c, kv[0], kv[1], err, sizeof(err)) != RILL_CONF_OK)
            fail_msg("%s", err);
    return c;
}

static void producer_checks(void **state) {
    (void)state;
    char err[256];
    /* Defaults: idempotent, fine. */
    rill_conf_t *c = conf_with(NULL);
    assert_int_equal(rill__conf_check_producer(c, err, sizeof(err)), 0);
    assert_int_equal(c->enable_idempotence, 1);
    rill_conf_destroy(c);
    /* Idempotence only by default: acks=1 turns it off. */
    c = conf_with((const char *[]){"acks", "1", NULL});
    assert_int_equal(rill__conf_check_producer(c, err, sizeof(err)), 0);
    assert_int_equal(c->enable_idempotence, 0);
    rill_conf_destroy(c);
    c = conf_with((const char *[]){"max.in.flight", "10", NULL});
    assert_int_equal(rill__conf_check_producer(c, err, sizeof(err)), 0);
    assert_int_equal(c->enable_idempotence, 0);
    rill_conf_destroy(c);
    /* Explicitly on: conflicts are errors that name the keys. */
    c = conf_with((const char *[]){"enable.idempotence", "true", "acks", "1", NULL});
    assert_int_equal(rill__conf_check_producer(c, err, sizeof(err)), -1);
    assert_string_equal(err, "\"enable.idempotence\"=true requires \"acks\"=all (got 1)");
    rill_conf_destroy(c);
    c = conf_with((const char *[]){"enable.idempotence", "true",
                                   "max.in.flight.requests.per."
                                   "connection",
                                   "6", NULL});
    assert_int_equal(rill__conf_check_producer(c, err, sizeof(err)), -1);
    assert_string_equal(err, "\"enable.idempotence\"=true requires "
                             "\"max.in.flight.requests.per.connection\" <= 5 (got 6)");
    rill_conf_destroy(c);
    c = conf_with((const char *[]){"enable.idempotence", "true", "retries", "0", NULL});
    assert_int_equal(rill__conf_check_producer(c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "\"retries\""));
    rill_conf_destroy(c);
    c = conf_with((const char *[]){"enable.idempotence", "true", "max.in.flight", "5", NULL});
    assert_int_equal(rill__conf_check_producer(c, err, sizeof(err)), 0);
    assert_int_equal(c->enable_idempotence, 1);
    rill_conf_destroy(c);
    /* Off explicitly: anything goes. */
    c = conf_with(
        (const char *[]){"enable.idempotence", "false", "acks", "0", "max.in.flight", "100", NULL});
    assert_int_equal(rill__conf_check_producer(c, err, sizeof(err)), 0);
    rill_conf_destroy(c);
    c = conf_with((const char *[]){"retry.backoff.ms", "500", "retry.backoff.max.ms", "400", NULL});
    assert_int_equal(rill__conf_check_producer(c, err, sizeof(err)), -1);
    assert_string_equal(err, "\"retry.backoff.max.ms\" (400) must be at least "
                             "\"retry.backoff.ms\" (500)");
    rill_conf_destroy(c);
    c = conf_with(
        (const char *[]){"reconnect.backoff.ms", "500", "reconnect.backoff.max.ms", "400", NULL});
    assert_int_equal(rill__conf_check_producer(c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "\"reconnect.backoff.max.ms\""));
    rill_conf_destroy(c);
}

static void consumer_checks(void **state) {
    (void)state;
    char err[256];
    rill_conf_t *c = conf_with(NULL);
    assert_int_equal(rill__conf_check_consumer(c, err, sizeof(err)), 0);
    rill_conf_destroy(c);
    c = conf_with((const char *[]){"session.timeout.ms", "3000", NULL});
    assert_int_equal(rill__conf_check_consumer(c, err, sizeof(err)), -1);
    assert_string_equal(err, "\"heartbeat.interval.ms\" (3000) must be lower than "
                             "\"session.timeout.ms\" (3000)");
    rill_conf_destroy(c);
    c = conf_with((const char *[]){"group.instance.id", "i", NULL});
    assert_int_equal(rill__conf_check_consumer(c, err, sizeof(err)), -1);
    assert_string_equal(err, "\"group.instance.id\" requires \"group.id\"");
    rill_conf_destroy(c);
    c = conf_with((const char *[]){"group.instance.id", "i", "group.id", "g", NULL});
    assert_int_equal(rill__conf_check_consumer(c, err, sizeof(err)), 0);
    rill_conf_destroy(c);
}

static void print_keys(void **state) {
    (void)state;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    rill__conf_print_keys(f);
    fclose(f);
    size_t lines = 0;
    for (size_t i = 0; i < len; i++)
        lines += buf[i] == '\n';
    assert_int_equal(lines, NCASES);
    assert_non_null(strstr(buf, "compression.type"));
    assert_non_null(strstr(buf, "(alias compression.codec)"));
    assert_non_null(strstr(buf, "[all, -1, 0, 1]"));
    free(buf);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_key_is_covered),
        cmocka_unit_test(every_key_default_good_bad),
        cmocka_unit_test(defaults),
        cmocka_unit_test(typed_values),
        cmocka_unit_test(lists),
        cmocka_unit_test(brokers),
        cmocka_unit_test(error_messages),
        cmocka_unit_test(aliases),
        cmocka_unit_test(dup_and_reset),
        cmocka_unit_test(callbacks_and_logger),
        cmocka_unit_test(producer_checks),
        cmocka_unit_test(consumer_checks),
        cmocka_unit_test(print_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
