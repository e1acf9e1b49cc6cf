/*
 * consume_partitions.c -- the partitions of a topic, for `rill consume` and
 * `rill perf consume` reading a whole topic without a group (assign mode
 * needs the partition ids up front), from the admin client's topic listing.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "consume.h"

/* How long an unknown topic is asked for again: a cluster can lag behind a creation. */
#define UNKNOWN_GRACE_S 1.0

rill_err_t cli_topic_partitions(const rill_conf_t *conf, const char *topic, int timeout_ms,
                                int32_t **parts, int32_t *n, char *errstr, size_t errstr_size) {
    rill_admin_t *a = rill_admin_new(conf, errstr, errstr_size);
    if (!a)
        return RILL_ERR_CONFIG;
    const char *names[] = {topic};
    double start = cli_now(), deadline = start + timeout_ms / 1000.0;
    rill_err_t err;
    for (;;) {
        rill_topic_list_t *list = NULL;
        int left = (int)((deadline - cli_now()) * 1000);
        err = rill_admin_list_topics(a, names, 1, left > 0 ? left : 1, &list);
        if (err) {
            rill_topic_list_free(list); /* set (empty) after a timeout too: rill.h */
            snprintf(errstr, errstr_size,
                     "no metadata for topic %s within %d ms (%s; is a "
                     "broker reachable?)",
                     topic, timeout_ms, rill_err_str(err));
            break;
        }
        const rill_topic_info_t *t = list->topic_cnt ? &list->topics[0] : NULL;
        if (t && t->partition_cnt > 0) {
            /* Partitions without a leader yet are the consumer's to wait for. */
            *parts = malloc(sizeof(**parts) * t->partition_cnt);
            if (!*parts) {
                err = RILL_ERR_NO_MEMORY;
                snprintf(errstr, errstr_size, "out of memory");
            } else {
                for (size_t i = 0; i < t->partition_cnt; i++)
                    (*parts)[i] = t->partitions[i].partition;
                *n = (int32_t)t->partition_cnt;
            }
            rill_topic_list_free(list);
            break;
        }
        err = t && t->err ? t->err : RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        rill_topic_list_free(list);
        bool retry =
            err == RILL_ERR_LEADER_NOT_AVAILABLE ||
            (err == RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION && cli_now() - start < UNKNOWN_GRACE_S);
        if (!retry || cli_now() >= deadline) {
            snprintf(errstr, errstr_size, "topic %s: %s", topic, rill_err_str(err));
            break;
        }
        nanosleep(&(struct timespec){0, 100 * 1000 * 1000}, NULL);
    }
    rill_admin_destroy(a);
    return err;
}
