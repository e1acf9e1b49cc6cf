/*
 * test_broker_config.c -- rill-broker's settings: defaults, HOST:PORT parsing, key=value
 * setting with the errors naming the key, properties files with comments and line
 * numbers, the keys handed to storage's log config.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/server/broker_config.h"

static void defaults(void **state) {
    (void)state;
    rill_broker_config c;
    rill__broker_config_defaults(&c);
    assert_string_equal(c.data_dir, "./rill-data");
    assert_int_equal(c.nlisteners, 0);
    assert_int_equal(c.node_id, 0);
    assert_int_equal(c.num_partitions, 1);
    assert_int_equal(c.auto_create_topics, 1);
    assert_int_equal(c.socket_request_max, 100 * 1024 * 1024);
    assert_int_equal(c.flush_policy, RILL_FLUSH_ACKS_ALL);
    /* Kafka's log defaults, from storage. */
    assert_int_equal(c.storage.log_defaults.segment_bytes, 1024 * 1024 * 1024);
    assert_int_equal(c.storage.log_defaults.retention_ms, 7LL * 24 * 3600 * 1000);
    assert_int_equal(c.storage.log_defaults.retention_bytes, -1);
    assert_int_equal(c.storage.log_defaults.max_message_bytes, 1024 * 1024 + 12);
    assert_int_equal(c.storage.log_defaults.preallocate, 0);
}

static void hostport(void **state) {
    (void)state;
    rill_hostport hp;
    assert_int_equal(rill__hostport_parse("127.0.0.1:9092", &hp), 0);
    assert_string_equal(hp.host, "127.0.0.1");
    assert_int_equal(hp.port, 9092);
    assert_int_equal(rill__hostport_parse("[::1]:0", &hp), 0);
    assert_string_equal(hp.host, "::1");
    assert_int_equal(hp.port, 0);
    assert_int_equal(rill__hostport_parse(":9093", &hp), 0);
    assert_string_equal(hp.host, "");
    assert_int_equal(hp.port, 9093);
    assert_int_equal(rill__hostport_parse("9094", &hp), 0);
    assert_string_equal(hp.host, "");
    assert_int_equal(hp.port, 9094);
    assert_int_equal(rill__hostport_parse("PLAINTEXT://broker.example:29092", &hp), 0);
    assert_string_equal(hp.host, "broker.example");
    assert_int_equal(hp.port, 29092);
    const char *bad[] = {"",         "host:",     "host:65536", "host:-1", "host:12x",
                         "::1:9092", "[::1]9092", "SSL://h:1",  "h: 1",    NULL};
    for (int i = 0; bad[i]; i++)
        assert_int_equal(rill__hostport_parse(bad[i], &hp), -1);

    char out[300];
    rill_hostport v6 = {"fe80::1", 7};
    rill__hostport_format(&v6, out, sizeof(out));
    assert_string_equal(out, "[fe80::1]:7");
    rill_hostport v4 = {"10.0.0.1", 9092};
    rill__hostport_format(&v4, out, sizeof(out));
    assert_string_equal(out, "10.0.0.1:9092");
}

static void set_keys(void **state) {
    (void)state;
    rill_broker_config c;
    rill__broker_config_defaults(&c);
    char err[256];
    assert_int_equal(rill__broker_config_set(&c, "num.partitions", "4", err, sizeof(err)), 0);
    assert_int_equal(c.num_partitions, 4);
    assert_int_equal(rill__broker_config_set(&c, "broker.id", "3", err, sizeof(err)), 0);
    assert_int_equal(c.node_id, 3);
    assert_int_equal(
        rill__broker_config_set(&c, "auto.create.topics.enable", "FALSE", err, sizeof(err)), 0);
    assert_int_equal(c.auto_create_topics, 0);
    assert_int_equal(rill__broker_config_set(&c, "log.flush.policy", "sync", err, sizeof(err)), 0);
    assert_int_equal(c.flush_policy, RILL_FLUSH_SYNC);
    assert_string_equal(rill__flush_policy_name(c.flush_policy), "sync");
    assert_int_equal(
        rill__broker_config_set(&c, "offsets.retention.minutes", "2", err, sizeof(err)), 0);
    assert_int_equal(c.offsets_retention_ms, 120000);
    assert_int_equal(c.offsets_retention_check_ms, 600000);
    assert_int_equal(rill__broker_config_set(&c, "offsets.retention.check.interval.ms", "1000", err,
                                             sizeof(err)),
                     0);
    assert_int_equal(c.offsets_retention_check_ms, 1000);
    assert_int_equal(
        rill__broker_config_set(&c, "log.retention.check.interval.ms", "5000", err, sizeof(err)),
        0);
    assert_int_equal(c.storage.retention_check_interval_ms, 5000);
    /* Broker-level log keys go to storage's parser (hours multiply, both names work). */
    assert_int_equal(rill__broker_config_set(&c, "log.retention.hours", "2", err, sizeof(err)), 0);
    assert_int_equal(c.storage.log_defaults.retention_ms, 2 * 3600 * 1000);
    assert_int_equal(rill__broker_config_set(&c, "message.max.bytes", "5000", err, sizeof(err)), 0);
    assert_int_equal(c.storage.log_defaults.max_message_bytes, 5000);
    assert_int_equal(rill__broker_config_set(&c, "log.preallocate", "true", err, sizeof(err)), 0);
    assert_int_equal(c.storage.log_defaults.preallocate, 1);
    assert_int_equal(rill__broker_config_set(&c, "log.dirs", "/var/lib/rill", err, sizeof(err)), 0);
    assert_string_equal(c.data_dir, "/var/lib/rill");
    assert_int_equal(rill__broker_config_set(&c, "listeners",
                                             "PLAINTEXT://127.0.0.1:9092, PLAINTEXT://:9093", err,
                                             sizeof(err)),
                     0);
    assert_int_equal(c.nlisteners, 2);
    assert_string_equal(c.listeners[1].host, "");
    assert_int_equal(c.listeners[1].port, 9093);
    assert_int_equal(
        rill__broker_config_set(&c, "advertised.listeners", "PLAINTEXT://h:1", err, sizeof(err)),
        0);
    assert_true(c.has_advertise);
    assert_string_equal(c.advertise.host, "h");
    /* Single-node settings at the only possible value. */
    assert_int_equal(
        rill__broker_config_set(&c, "default.replication.factor", "1", err, sizeof(err)), 0);
}

static void expect_error(rill_broker_config *c, const char *key, const char *value,
                         const char *needle) {
    char err[256] = "";
    assert_int_equal(rill__broker_config_set(c, key, value, err, sizeof(err)),
                     RILL_ERR_INVALID_CONFIG);
    if (!strstr(err, needle))
        fail_msg("error for %s=%s is '%s', expected it to contain '%s'", key, value, err, needle);
}

static void errors_name_the_key(void **state) {
    (void)state;
    rill_broker_config c, before;
    rill__broker_config_defaults(&c);
    before = c;
    expect_error(&c, "log.retentoin.ms", "5", "log.retentoin.ms: unknown config");
    expect_error(&c, "segment.bytes", "5", "segment.bytes: unknown configuration key");
    expect_error(&c, "num.partitions", "0", "num.partitions: '0' is not an integer in [1,");
    expect_error(&c, "num.partitions", "2x", "num.partitions");
    expect_error(&c, "num.partitions", " 2", "num.partitions");
    expect_error(&c, "node.id", "-1", "node.id");
    expect_error(&c, "auto.create.topics.enable", "yes", "is not true or false");
    expect_error(&c, "log.flush.policy", "always", "is not acks-all, sync or os");
    expect_error(&c, "default.replication.factor", "3", "rill-broker is one node");
    expect_error(&c, "log.segment.bytes", "abc", "log.segment.bytes");
    expect_error(&c, "log.preallocate", "yes", "log.preallocate: 'yes' is not true or false");
    expect_error(&c, "log.dirs", "/a,/b", "must be one directory");
    expect_error(&c, "listeners", "SSL://h:1", "listeners: 'SSL://h:1' is not HOST:PORT");
    expect_error(&c, "", "1", "empty configuration key");
    /* Nothing changed by the refused settings. */
    assert_memory_equal(&c, &before, sizeof(c));
    char err[256];
    assert_int_equal(rill__broker_config_set_kv(&c, "novalue", err, sizeof(err)),
                     RILL_ERR_INVALID_CONFIG);
    assert_non_null(strstr(err, "'novalue' is not key=value"));
    assert_int_equal(rill__broker_config_set_kv(&c, "  num.partitions =  7 ", err, sizeof(err)), 0);
    assert_int_equal(c.num_partitions, 7);
}

static void properties_file(void **state) {
    (void)state;
    rill_broker_config c;
    rill__broker_config_defaults(&c);
    char err[512];
    const char *text = "# Kafka server.properties\n"
                       "! old-style comment\n"
                       "\n"
                       "   \t\n"
                       "node.id=2\r\n"
                       "num.partitions = 6\n"
                       "log.segment.bytes=1048576";
    assert_int_equal(rill__broker_config_parse(&c, text, strlen(text), "s.props", err, sizeof(err)),
                     0);
    assert_int_equal(c.node_id, 2);
    assert_int_equal(c.num_partitions, 6);
    assert_int_equal(c.storage.log_defaults.segment_bytes, 1048576);

    const char *bad = "num.partitions=2\n# fine\nlog.retention.ms=100\nzookeeper.connect=x:2181\n";
    assert_int_equal(rill__broker_config_parse(&c, bad, strlen(bad), "s.props", err, sizeof(err)),
                     RILL_ERR_INVALID_CONFIG);
    assert_string_equal(err, "s.props:4: zookeeper.connect: unknown configuration key");

    /* From a file, and a missing file. */
    char path[] = "/tmp/rill-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *f = "log.flush.policy=os\n";
    assert_int_equal(write(fd, f, strlen(f)), (ssize_t)strlen(f));
    close(fd);
    assert_int_equal(rill__broker_config_load(&c, path, err, sizeof(err)), 0);
    assert_int_equal(c.flush_policy, RILL_FLUSH_OS);
    unlink(path);
    assert_int_equal(rill__broker_config_load(&c, path, err, sizeof(err)), RILL_ERR_CONFIG);
    assert_non_null(strstr(err, "cannot read config file"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults),        cmocka_unit_test(hostport),
        cmocka_unit_test(set_keys),        cmocka_unit_test(errors_name_the_key),
        cmocka_unit_test(properties_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
