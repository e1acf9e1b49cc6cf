/*
 * producer.c -- the C twin of the first Python program a Kafka user writes:
 *
 *     producer = KafkaProducer(bootstrap_servers='localhost:9092')
 *     producer.send('test', b'message')
 *     producer.close()
 *
 * It creates a producer, makes sure topic "test" exists, sends "message"
 * and waits for the broker to acknowledge it before closing.
 *
 * Usage: producer [BOOTSTRAP [TOPIC [MESSAGE...]]]   (default localhost:9092 test message)
 */
#include <stdio.h>
#include <string.h>

#include "rill.h"

static int failed;

/* Runs inside rill_poll/rill_flush: one call per message. */
static void on_delivery(rill_producer_t *p, const rill_delivery_t *dr, void *opaque) {
    (void)p;
    (void)opaque;
    if (dr->err) {
        fprintf(stderr, "delivery failed: %s\n", rill_err_str(dr->err));
        failed++;
        return;
    }
    printf("delivered to %s [%d] at offset %lld\n", dr->topic, dr->partition,
           (long long)dr->offset);
}

int main(int argc, char **argv) {
    const char *bootstrap = argc > 1 ? argv[1] : "localhost:9092";
    const char *topic = argc > 2 ? argv[2] : "test";
    char errstr[512];

    rill_conf_t *conf = rill_conf_new();
    if (rill_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr)) !=
        RILL_CONF_OK) {
        fprintf(stderr, "%s\n", errstr);
        return 2;
    }
    rill_conf_set_dr_cb(conf, on_delivery);

    /* Define the topic (an existing one is fine). */
    rill_admin_t *admin = rill_admin_new(conf, errstr, sizeof(errstr));
    if (!admin) {
        fprintf(stderr, "admin: %s\n", errstr);
        return 1;
    }
    rill_new_topic_t nt = {.name = topic, .num_partitions = -1, .replication_factor = -1};
    rill_topic_result_t res;
    rill_err_t err = rill_admin_create_topics(admin, &nt, 1, 10000, &res);
    if (err == 0 && res.err == RILL_ERR_TOPIC_ALREADY_EXISTS)
        printf("topic %s exists\n", topic);
    else if (err == 0 && res.err == 0)
        printf("created topic %s\n", topic);
    else
        fprintf(stderr, "create topic %s: %s\n", topic, err ? rill_err_str(err) : res.errstr);
    rill_admin_destroy(admin);

    rill_producer_t *p = rill_producer_new(conf, errstr, sizeof(errstr));
    rill_conf_destroy(conf); /* the producer keeps its own copy */
    if (!p) {
        fprintf(stderr, "producer: %s\n", errstr);
        return 1;
    }
    int n = 0;
    for (int i = 3; i < argc || (argc <= 3 && i == 3); i++) {
        const char *msg = i < argc ? argv[i] : "message";
        err =
            rill_produce(p, topic, RILL_PARTITION_ANY, NULL, 0, msg, strlen(msg), NULL, 0, 0, NULL);
        if (err) {
            fprintf(stderr, "produce: %s\n", rill_err_str(err));
            failed++;
        } else {
            n++;
        }
    }
    /* close(): wait for the acknowledgements, then release everything. */
    if (rill_flush(p, 30000) != 0)
        fprintf(stderr, "flush: timed out with %d message(s) outstanding\n", rill_outq_len(p));
    rill_producer_destroy(p);
    printf("sent %d message(s), %d failed\n", n, failed);
    return failed ? 1 : 0;
}
