/*
 * consumer.c -- read messages from a topic as a member of a consumer group,
 * the fourth step of the first-run tour (create a producer, define a topic,
 * send messages, read them back).
 *
 * Usage: consumer [BOOTSTRAP [TOPIC [GROUP [COUNT]]]]
 *        (default localhost:9092 test rill-example 1)
 * Reads from the beginning when the group has no committed offset, prints
 * each message, commits, and exits after COUNT messages (or 30 s).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rill.h"

static void on_rebalance(rill_consumer_t *c, int event, const rill_topic_partition_t *parts,
                         size_t n, void *opaque) {
    (void)c;
    (void)opaque;
    const char *what = event == RILL_REBALANCE_ASSIGN   ? "assigned"
                       : event == RILL_REBALANCE_REVOKE ? "revoked"
                                                        : "lost";
    for (size_t i = 0; i < n; i++)
        printf("%s %s [%d]\n", what, parts[i].topic, parts[i].partition);
}

int main(int argc, char **argv) {
    const char *bootstrap = argc > 1 ? argv[1] : "localhost:9092";
    const char *topic = argc > 2 ? argv[2] : "test";
    const char *group = argc > 3 ? argv[3] : "rill-example";
    long want = argc > 4 ? atol(argv[4]) : 1;
    char errstr[512];

    rill_conf_t *conf = rill_conf_new();
    if (rill_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr)) ||
        rill_conf_set(conf, "group.id", group, errstr, sizeof(errstr)) ||
        rill_conf_set(conf, "auto.offset.reset", "earliest", errstr, sizeof(errstr))) {
        fprintf(stderr, "%s\n", errstr);
        return 2;
    }
    rill_conf_set_rebalance_cb(conf, on_rebalance);
    rill_consumer_t *c = rill_consumer_new(conf, errstr, sizeof(errstr));
    rill_conf_destroy(conf);
    if (!c) {
        fprintf(stderr, "consumer: %s\n", errstr);
        return 1;
    }
    const char *topics[] = {topic};
    rill_err_t err = rill_subscribe(c, topics, 1);
    if (err) {
        fprintf(stderr, "subscribe: %s\n", rill_err_str(err));
        rill_consumer_destroy(c);
        return 1;
    }
    long got = 0;
    time_t start = time(NULL);
    while (got < want && time(NULL) - start < 30) {
        rill_message_t *m = rill_consumer_poll(c, 500);
        if (!m)
            continue;
        if (rill_message_err(m)) {
            fprintf(stderr, "error: %s\n", rill_message_errstr(m));
        } else {
            size_t len;
            const char *v = rill_message_value(m, &len);
            printf("%s [%d] offset %lld: %.*s\n", rill_message_topic(m), rill_message_partition(m),
                   (long long)rill_message_offset(m), (int)len, v ? v : "");
            got++;
        }
        rill_message_destroy(m);
    }
    err = rill_commit(c, NULL, 0, 0); /* positions: the next offset to read */
    if (err)
        fprintf(stderr, "commit: %s\n", rill_err_str(err));
    rill_consumer_close(c, 10000);
    rill_consumer_destroy(c);
    printf("read %ld message(s)\n", got);
    return got >= want ? 0 : 1;
}
