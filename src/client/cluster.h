/*
 * cluster.h -- what a client knows about the cluster, and how it talks to it.
 *
 * Shared by the producer, the admin client and (later) the consumer.  A
 * rill_cluster owns the broker connections (bootstrap brokers first, then
 * the brokers that Metadata names), runs the ApiVersions handshake on each
 * connection, picks per request the highest version both sides implement,
 * and keeps the metadata cache (topics -> partitions -> leaders).
 *
 * Everything here runs on the client's I/O thread only: the owner calls
 * rill__cluster_tick() from its loop, and learns about changes through the
 * hooks (metadata updated, broker up).
 */
#ifndef RILL_CLIENT_CLUSTER_H
#define RILL_CLIENT_CLUSTER_H

#include <stdbool.h>
#include <stdint.h>

#include "client/conf.h"
#include "common/log.h"
#include "net/conn.h"
#include "net/loop.h"
#include "proto/api.h"

typedef struct rill_cluster rill_cluster;
typedef struct rill_cbroker rill_cbroker;

typedef enum {
    RILL_CB_DOWN = 0,
    RILL_CB_CONNECTING,
    RILL_CB_HANDSHAKE, /* connected, ApiVersions in flight */
    RILL_CB_UP,
} rill_cb_state;

/* Encodes a request body for version `ver`; 0 or -1. */
typedef int(rill__enc_fn)(rill_buf *b, int16_t ver, void *opaque);

typedef struct rill_deferred rill_deferred;

struct rill_cbroker {
    rill_cluster *cl;
    int32_t id; /* node id; bootstrap entries are -1, -2, ... */
    char host[256];
    int port;
    char name[300]; /* "host:port/id" for logs */
    rill_conn *conn;
    rill_cb_state state;
    int16_t api_min[RILL_API__COUNT], api_max[RILL_API__COUNT]; /* -1: not offered */
    int16_t apiver_try;      /* ApiVersions version for the next handshake */
    int64_t next_connect_us; /* reconnect backoff */
    int backoff_ms;
    int fails;        /* consecutive failed connects */
    bool in_metadata; /* named by the latest Metadata response */
    int64_t last_used_us;
    rill_deferred *dq_head, *dq_tail; /* requests waiting for the handshake */
    /* stats */
    uint64_t req_cnt, rtt_cnt;
    int64_t rtt_sum_us, rtt_max_us;
};

/* A cached partition. */
typedef struct rill_mpart {
    int32_t leader; /* -1 unknown */
    int32_t leader_epoch;
    int16_t err;
} rill_mpart;

typedef struct rill_mtopic {
    char *name;
    int16_t err;   /* topic-level error of the last Metadata answer */
    int32_t npart; /* 0 while unknown */
    rill_mpart *parts;
    int64_t updated_us;
} rill_mtopic;

typedef struct rill_cluster_hooks {
    /* The metadata cache changed (a response was processed). */
    void (*on_metadata)(void *owner, rill_cluster *cl);
    /* A broker finished its handshake and takes requests. */
    void (*on_broker_up)(void *owner, rill_cbroker *b);
    /* A broker connection went down. */
    void (*on_broker_down)(void *owner, rill_cbroker *b);
    void *owner;
} rill_cluster_hooks;

struct rill_cluster {
    const rill_conf_t *conf;
    const rill_logger *log;
    rill_loop *loop;
    rill_cluster_hooks hooks;
    rill_cbroker **brokers;
    int nbrokers;
    int rr; /* round robin for "any broker" */

    rill_mtopic *topics; /* topics of interest, with their metadata */
    int ntopics, captopics;
    bool want_all_topics;   /* ask Metadata for every topic (admin list) */
    bool allow_auto_create; /* Metadata v4+ AllowAutoTopicCreation */
    int32_t controller_id;
    char cluster_id[128];
    bool have_metadata; /* at least one answer processed */

    bool md_inflight;
    bool md_wanted;
    int64_t md_next_us;    /* earliest time for the next Metadata request */
    int64_t md_last_ok_us; /* last successful answer */
    int md_fast_ms;        /* backoff between urgent refreshes */
    char md_reason[128];
};

int rill__cluster_init(rill_cluster *cl, const rill_conf_t *conf, const rill_logger *log,
                       rill_loop *loop, const rill_cluster_hooks *hooks, char *errstr,
                       size_t errstr_size);
void rill__cluster_destroy(rill_cluster *cl);
/* Fails every outstanding request now (closing connections that carry one),
 * so no callback can run later: for callers whose state is on their stack. */
void rill__cluster_abort_all(rill_cluster *cl, int err, const char *reason);

/* Parses "host:port,[v6]:port,host" (default port 9092).  -1 on error. */
int rill__parse_bootstrap(const char *s, void (*add)(void *ctx, const char *host, int port),
                          void *ctx, char *errstr, size_t errstr_size);

/* Connects, reconnects, times out requests, sends due Metadata requests. */
void rill__cluster_tick(rill_cluster *cl, int64_t now_us);
/* Microseconds until the cluster needs a tick (capped). */
int64_t rill__cluster_next_wakeup(const rill_cluster *cl, int64_t now_us);

/* Adds a topic to those Metadata asks for; returns its cache entry. */
rill_mtopic *rill__cluster_topic(rill_cluster *cl, const char *name);
rill_mtopic *rill__cluster_topic_find(rill_cluster *cl, const char *name);
/* Asks for a Metadata refresh soon (urgent: within md_fast_ms). */
void rill__cluster_md_refresh(rill_cluster *cl, const char *reason, bool urgent);

rill_cbroker *rill__cluster_broker(rill_cluster *cl, int32_t id);
/* The broker with this id, added with host:port if metadata has not named it
 * yet (a coordinator from FindCoordinator). */
rill_cbroker *rill__cluster_broker_ensure(rill_cluster *cl, int32_t id, const char *host, int port);
/* An UP broker for control requests (least recently used), or NULL; starts a
 * connection when none is up. */
rill_cbroker *rill__cluster_any_broker(rill_cluster *cl, bool connect);
/* Makes sure a connection to b is being established (respecting backoff). */
void rill__cluster_want(rill_cluster *cl, rill_cbroker *b);

/*
 * Sends a request to b with the highest version in [vmin, vmax] that both
 * sides implement.  If b is not up yet, the request waits for the handshake
 * (and times out with the request).  cb is always called exactly once;
 * with RILL_ERR_UNSUPPORTED_FEATURE when no common version exists.
 */
void rill__cluster_request(rill_cluster *cl, rill_cbroker *b, int16_t api, int16_t vmin,
                           int16_t vmax, rill__enc_fn *enc, rill__resp_cb *cb, void *opaque,
                           int timeout_ms);
/* Version the broker would use for api within [vmin,vmax], or -1. */
int16_t rill__cbroker_pick(const rill_cbroker *b, int16_t api, int16_t vmin, int16_t vmax);

#endif
