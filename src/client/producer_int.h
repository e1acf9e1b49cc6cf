/*
 * producer_int.h -- the producer's internal state, shared by producer.c
 * (application side: rill_produce, rill_poll, rill_flush), sender.c (I/O
 * thread: batches -> Produce requests -> delivery reports) and
 * partitioner.c.
 *
 * Ownership and locking.  `lock` guards what the application threads
 * touch: the topic table, each partition's open batch, the list of closed
 * batches, and the unassigned-message buffers.  The send queues of each
 * partition (q_head..), the cluster and the idempotence state belong to the
 * I/O thread alone.  Finished batches travel to the application through the
 * report queue (dr_lock), where rill_poll turns them into one delivery
 * report per message.  No allocation happens per message: records are
 * encoded straight into the open batch, and the per-message opaque and
 * timestamp go into arrays that grow geometrically with the batch.
 */
#ifndef RILL_CLIENT_PRODUCER_INT_H
#define RILL_CLIENT_PRODUCER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "client/cluster.h"
#include "client/conf.h"
#include "common/buf.h"
#include "common/log.h"
#include "net/loop.h"
#include "proto/arena.h"
#include "proto/compress.h"
#include "proto/record_batch.h"
#include "rill.h"

typedef struct ptopic ptopic;

typedef enum { PB_WAITING = 0, PB_INFLIGHT } pb_state;

typedef struct pbatch {
    struct pbatch *next;
    ptopic *t;
    int32_t partition;
    rill_batch_builder bb; /* the records, then the finished batch */
    bool finished;
    int32_t cnt;
    uint64_t bytes; /* key + value bytes, for stats and queue limits */
    void **opaques; /* NULL while every message's opaque is NULL */
    int32_t *tsd;   /* timestamp - base_ts per message (4 bytes, not 8) */
    int64_t base_ts;
    int32_t cap, ocap;
    int64_t first_us;  /* first record appended (linger) */
    int64_t expire_us; /* delivery.timeout.ms after the first record */
    /* sender state */
    pb_state state;
    int32_t base_seq; /* -1 until first sent with idempotence */
    int attempts;
    int64_t retry_at_us;
    /* outcome */
    int err;
    int64_t base_offset;
    int64_t append_time; /* LogAppendTime, or -1 */
} pbatch;

typedef struct ppart {
    int32_t id;
    pbatch *open; /* (lock) batch records are appended to */
    /* I/O thread only: */
    int32_t leader;
    pbatch *q_head, *q_tail; /* unacknowledged batches, in send order */
    int inflight;
    int32_t inflight_to; /* broker the in-flight batches went to */
    bool retrying;       /* a batch must be resent: drain in-flight first */
    int32_t next_seq;
} ppart;

struct ptopic {
    char *name;
    uint32_t hash;
    int32_t npart; /* (lock) 0 while unknown */
    ppart *parts;  /* (lock) realloc'd by the I/O thread under the lock */
    rill_buf ua;   /* (lock) messages waiting for the partition count */
    int32_t ua_cnt;
    int16_t md_err;
    int64_t unknown_since_us;
    int32_t sticky;
    int64_t sticky_until_us;
};

typedef enum {
    IDEMP_OFF = 0,
    IDEMP_NEED_PID, /* must (re)acquire a producer id before sending */
    IDEMP_REQUESTING,
    IDEMP_ASSIGNED,
    IDEMP_FATAL,
} idemp_state;

struct rill_producer {
    rill_conf_t *conf;
    rill_logger log;
    rill_loop *loop;
    pthread_t thread;
    atomic_bool stop;
    atomic_int flush_req; /* >0: send open batches now, ignoring linger */

    pthread_mutex_t lock;
    ptopic **topics;
    int ntopics, captopics;
    ptopic **tindex; /* open-addressing hash of topics */
    int tindex_cap;
    ptopic *last_topic;
    pbatch *closed_head, *closed_tail; /* full batches for the sender */
    pbatch *free_batches;              /* recycled batch shells */
    int nfree;
    int64_t linger_us;
    uint64_t rng;

    /* I/O thread */
    rill_cluster cl;
    rill_arena arena; /* reused for decoding responses */
    rill_codec_ctx codecs;
    rill_buf scratch;
    idemp_state idemp;
    int64_t pid;
    int16_t epoch;
    int64_t idemp_retry_us;
    int inflight_reqs;
    bool destroying;

    /* reports */
    pthread_mutex_t dr_lock;
    pthread_cond_t dr_cond;
    pbatch *dr_head, *dr_tail;
    int64_t stats_next_us;

    /* counters */
    atomic_int_fast64_t out_msgs, out_bytes;
    atomic_uint_fast64_t st_msgs_queued, st_bytes_queued, st_msgs_sent, st_bytes_sent,
        st_msgs_acked, st_bytes_acked, st_msgs_failed, st_batches_sent, st_requests_sent,
        st_retries;
    bool fatal;
    char fatal_reason[256];
    char broker_stats[4096]; /* (lock) JSON array body, published by the I/O thread */
    int64_t broker_stats_next_us;
};

/* partitioner.c */
int32_t rill__partition_pick(rill_producer_t *p, ptopic *t, const void *key, size_t klen,
                             int64_t now_us);

/* producer.c: append one message under the lock (used for unassigned ones too). */
rill_err_t rill__producer_append_locked(rill_producer_t *p, ptopic *t, int32_t partition,
                                        const void *key, int32_t klen, const void *value,
                                        int32_t vlen, const rill_header_t *hdrs, size_t nhdrs,
                                        int64_t ts, void *opaque, int64_t now_us);
/* One message kept in a topic's unassigned buffer (views into it). */
typedef struct ua_msg {
    int64_t enq_us, ts;
    int32_t part, klen, vlen, nh;
    void *opaque;
    const uint8_t *key, *val; /* "" for empty, NULL for null */
    rill_header_t hs[64];     /* the first 64 headers with names of < 256 bytes */
    char names[64][256];
    int32_t nkept;
} ua_msg;
/* Reads the next unassigned message; 0, or -1 at the end / on damage. */
int rill__ua_next(rill_rd *r, ua_msg *m);

/* Puts a finished batch on the report queue. */
void rill__producer_report(rill_producer_t *p, pbatch *b, int err);
/* A one-message report for a message that never got into a batch. */
void rill__producer_report_one(rill_producer_t *p, ptopic *t, int32_t partition, int64_t ts,
                               void *opaque, uint64_t bytes, int err);
void rill__pbatch_free(rill_producer_t *p, pbatch *b);

/* sender.c: the I/O thread. */
void *rill__sender_main(void *arg);
void rill__sender_on_metadata(void *owner, rill_cluster *cl);
void rill__sender_on_broker_up(void *owner, rill_cbroker *b);

#endif
