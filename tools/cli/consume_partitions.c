/*
 * consume_partitions.c -- the partitions of a topic, for `rill consume` and
 * `rill perf consume` reading a whole topic without a group (assign mode
 * needs the partition ids up front).
 *
 * librill has no public metadata call yet, so this drives the client's own
 * cluster layer (src/client/cluster.h) on the caller's thread for one
 * Metadata round trip, as the admin client does.  When the admin API gains a
 * topic listing this file becomes a thin wrapper around it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cluster.h"
#include "common/clock.h"
#include "consume.h"

/* Runs the cluster until a Metadata answer newer than `since` arrives, or the deadline. */
static bool await_metadata(rill_cluster *cl, rill_loop *loop, int64_t since, int64_t deadline) {
    while (cl->md_last_ok_us == since) {
        int64_t now = rill__mono_us();
        if (now >= deadline)
            return false;
        rill__cluster_tick(cl, now);
        int64_t next = rill__cluster_next_wakeup(cl, now);
        int64_t ms = (next - now + 999) / 1000;
        rill__loop_step(loop, ms > 50 ? 50 : ms < 0 ? 0 : (int)ms);
    }
    return true;
}

rill_err_t cli_topic_partitions(const rill_conf_t *conf, const char *topic, int timeout_ms,
                                int32_t **parts, int32_t *n, char *errstr, size_t errstr_size) {
    rill_logger log;
    rill_cluster cl;
    rill__conf_logger(conf, &log);
    rill_loop *loop = rill__loop_new();
    if (!loop) {
        snprintf(errstr, errstr_size, "cannot create an event loop");
        return RILL_ERR_NO_MEMORY;
    }
    if (rill__cluster_init(&cl, conf, &log, loop, NULL, errstr, errstr_size) != 0) {
        rill__loop_destroy(loop);
        return RILL_ERR_CONFIG;
    }
    cl.allow_auto_create = false; /* reading must not create topics */
    rill_err_t err = 0;
    int64_t deadline = rill__mono_us() + (int64_t)timeout_ms * 1000;
    int64_t first_unknown_us = 0;
    rill_mtopic *t = rill__cluster_topic(&cl, topic);
    for (;;) {
        if (!t) {
            err = RILL_ERR_NO_MEMORY;
            snprintf(errstr, errstr_size, "out of memory");
            break;
        }
        if (!await_metadata(&cl, loop, cl.md_last_ok_us, deadline)) {
            err = RILL_ERR_TIMED_OUT;
            snprintf(errstr, errstr_size, "no metadata for topic %s within %d ms (is a broker "
                     "reachable?)", topic, timeout_ms);
            break;
        }
        t = rill__cluster_topic_find(&cl, topic);
        if (t && t->npart > 0)
            break; /* partitions without a leader yet are the consumer's to wait for */
        /* Unknown topic: a cluster can lag briefly behind a creation, so give it a second. */
        if (t && t->err == RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION && !first_unknown_us)
            first_unknown_us = rill__mono_us();
        if (t && t->err &&
            (!rill_err_is_retriable(t->err) ||
             (first_unknown_us && rill__mono_us() - first_unknown_us > 1000000))) {
            err = t->err;
            snprintf(errstr, errstr_size, "topic %s: %s", topic, rill_err_str(t->err));
            break;
        }
        /* A topic being created: its leaders appear shortly. */
        rill__cluster_md_refresh(&cl, "topic partitions", true);
    }
    if (!err) {
        *parts = malloc(sizeof(**parts) * (size_t)t->npart);
        if (!*parts) {
            err = RILL_ERR_NO_MEMORY;
            snprintf(errstr, errstr_size, "out of memory");
        } else {
            for (int32_t i = 0; i < t->npart; i++)
                (*parts)[i] = i;
            *n = t->npart;
        }
    }
    rill__cluster_abort_all(&cl, RILL_ERR_DESTROYED, "lookup done");
    rill__cluster_destroy(&cl);
    rill__loop_destroy(loop);
    return err;
}
