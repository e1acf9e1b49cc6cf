/*
 * consumer_int.h -- the consumer's internal state, shared by consumer.c
 * (application side: poll, messages, commands), consumer_fetch.c (the
 * fetcher's requests, on the I/O thread), fetch_pos.c (each partition's
 * fetch position and what answers do to it, on the I/O thread) and
 * consumer_group.c / consumer_offsets.c (group membership and offset
 * commits, on the I/O thread).
 *
 * Threads.  The I/O thread owns the cluster, the partitions' fetch state
 * and the group state.  The application thread talks to it through
 * commands (cmd queue, each waited for when the call is synchronous) and
 * receives messages and events through the delivery queue.  `lock` guards
 * both queues and the few partition fields both sides read
 * (app_pos, version, queued_bytes).
 *
 * Messages are not allocated one by one: a chunk carries the array of
 * rill_message structs of one partition's records in one fetch answer, and
 * the messages point into the answer's bytes (rill_rbuf): the receive
 * buffer itself when the records fill most of it, else a copy of the
 * records.  A chunk is freed when the queue is done with it and every
 * message handed out was destroyed; the bytes when no chunk needs them.
 */
#ifndef RILL_CLIENT_CONSUMER_INT_H
#define RILL_CLIENT_CONSUMER_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "client/cluster.h"
#include "client/conf.h"
#include "net/loop.h"
#include "proto/arena.h"
#include "proto/record_batch.h"
#include "rill.h"

typedef struct chunk chunk;
typedef struct ctp ctp;

typedef struct rill_rbuf rill_rbuf;

/*
 * Receive buffers that fetch answers kept (rill__conn_swap_rbuf) come back
 * here when their messages are done, for the next swap: a fresh buffer of a
 * MiB would be page-faulted in (and zeroed) on every fetch.  Lock-free
 * slots, as buffers come back on the application thread, possibly with the
 * consumer's lock held; refcounted, as a message may outlive its consumer.
 */
#define RILL_RBUF_SPARES 4
typedef struct rill_rbuf_pool {
    atomic_int refs;    /* the consumer's, and one per pooled rbuf alive */
    atomic_bool closed; /* the consumer is gone: free what comes back */
    _Atomic(rill_rbuf *) spare[RILL_RBUF_SPARES];
} rill_rbuf_pool;

/* Bytes of a fetch answer that messages point into, shared by its chunks. */
struct rill_rbuf {
    atomic_int refs;
    rill_rbuf_pool *pool; /* a receive buffer's way back; NULL for a copy in `own` */
    size_t size;          /* of data */
    uint8_t *data;        /* `own`, or a receive buffer */
    uint8_t own[];
};

struct rill_message {
    chunk *ch; /* NULL: an event allocated on its own */
    ctp *tp;
    int32_t version; /* tp->version when fetched: stale after a seek */
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp;
    int8_t log_append_time;
    int32_t klen, vlen; /* -1: null */
    const uint8_t *key, *val;
    const uint8_t *hdrs;
    uint32_t hdrs_len;
    int32_t nhdrs;
    rill_err_t err;
    char *errstr;
};

struct chunk {
    chunk *next;
    atomic_int refs;   /* the queue's reference + one per message handed out */
    int32_t n, next_i; /* messages, and the next one to hand out */
    size_t bytes;      /* counted against the prefetch bound */
    rill_rbuf *rb;     /* the records the messages point into; NULL if none */
    uint8_t **extra;   /* inflated records of compressed batches */
    int nextra;
    rill_message_t msgs[];
};

typedef enum {
    TP_NEED_COMMITTED = 0, /* ask the group for the committed offset */
    TP_NEED_RESET,         /* ListOffsets for reset_to (earliest/latest) */
    TP_ACTIVE,             /* fetching from fetch_pos */
    TP_ERROR,              /* stopped after an error event; a seek restarts it */
} tp_state;

struct ctp {
    char *topic; /* owned */
    int32_t partition;
    bool assigned;
    /* I/O thread */
    tp_state state;
    int64_t fetch_pos;
    int64_t reset_to; /* RILL_OFFSET_BEGINNING / END */
    bool op_inflight; /* fetch, ListOffsets or OffsetFetch in flight */
    int64_t backoff_until_us;
    int fails; /* consecutive failed requests, for the backoff */
    int64_t hwm;
    bool eof_sent;
    /* The commit sent before an eager revoke did not land: the position it
     * carried (-1: none), the generation the partition was owned in, and
     * whether the error was retriable (sent again before the JoinGroup).  If
     * the next generation gives the partition back, it resumes there. */
    int64_t revoked_pos;
    int32_t revoked_gen;
    bool revoked_retry;
    /* lock */
    int64_t app_pos;   /* next offset poll hands out; -1 unknown */
    int64_t committed; /* (I/O) last offset committed or fetched from the group */
    int32_t version;   /* bumped on seek / reassign: drops queued messages */
    size_t queued_bytes;
    bool paused;
};

typedef enum {
    CMD_ASSIGN = 1,
    CMD_SUBSCRIBE,
    CMD_SEEK,
    CMD_COMMIT,
    CMD_COMMITTED,
    CMD_CLOSE,
    CMD_REBALANCE_DONE,
} cmd_type;

typedef struct cmd {
    struct cmd *next;
    cmd_type type;
    rill_topic_partition_t *parts; /* owned copy */
    size_t n;
    char **topics; /* owned copy (subscribe) */
    size_t ntopics;
    bool async;
    int timeout_ms;
    int64_t deadline_us;
    /* result */
    bool waited; /* the caller blocks on it; otherwise freed by the I/O thread */
    bool done;
    rill_err_t err;
} cmd;

typedef enum {
    CG_NONE = 0,    /* no group (assign mode, or not subscribed) */
    CG_FIND_COORD,  /* FindCoordinator */
    CG_WAIT_REVOKE, /* application handling the revoke before joining */
    CG_JOIN,        /* JoinGroup in flight or to send */
    CG_SYNC,        /* SyncGroup in flight or to send */
    CG_STABLE,
    CG_LEAVING,
} cg_state;

struct rill_consumer {
    rill_conf_t *conf;
    rill_logger log;
    rill_loop *loop;
    pthread_t thread;
    atomic_bool stop;
    bool closed;

    pthread_mutex_t lock;
    pthread_cond_t cond; /* delivery queue grew, or a command finished */
    chunk *q_head, *q_tail;
    size_t q_bytes;
    cmd *cmd_head, *cmd_tail;
    int64_t last_poll_us;
    bool rebalance_pending_ack;

    /* partitions: every (topic, partition) ever used; freed at destroy */
    ctp **tps;
    int ntps, captps;

    /* I/O thread */
    rill_cluster cl;
    rill_arena arena;
    rill_batch_reader reader;
    rill_rbuf_pool *rpool;
    chunk *build;  /* the chunk being filled (fetch_pos.c), room for build_cap */
    int build_cap; /* kept between answers, so a chunk is rarely grown */
    uint8_t **scratch_extra;
    int scratch_extra_cap;
    bool *fetch_inflight; /* per broker index: one Fetch at a time */
    int fetch_inflight_n;

    /* group */
    bool subscribed;
    char **sub_topics;
    size_t nsub;
    cg_state cg;
    int32_t coord_id;
    bool coord_inflight;
    int64_t cg_next_us;
    int cg_fails; /* consecutive failed group requests, for the backoff */
    char *member_id;
    int32_t generation;
    char *protocol; /* chosen assignor */
    bool is_leader;
    rill_bytes leader_members_raw; /* unused: members are decoded in place */
    int64_t next_heartbeat_us;
    bool hb_inflight;
    bool rejoin;
    int64_t next_autocommit_us;
    int commits_inflight;
    struct gmember *members; /* the leader's copy of the members (JoinGroup) */
    int nmembers;
    int64_t session_lost_us; /* heartbeats failing since */
    bool poll_expired;       /* max.poll.interval.ms passed: left the group */
    cmd *closing;            /* the close command being carried out */
    int64_t join_deadline_us;
    int64_t revoke_deadline_us; /* retries of the revoke commit stop here */
};

/* consumer.c */
ctp *rill__ctp_get(rill_consumer_t *c, const char *topic, int32_t partition);
ctp *rill__ctp_find(rill_consumer_t *c, const char *topic, int32_t partition);
/* Queues a chunk of messages (or one event) for the application. */
void rill__consumer_enqueue(rill_consumer_t *c, chunk *ch);
/* Drops a reference to fetched bytes; the last frees them or pools them. */
void rill__rbuf_release(rill_rbuf *rb);
/* A pooled receive buffer of at least `size` bytes (data set), or a new
 * holder with data NULL for the caller to fill; NULL without memory. */
rill_rbuf *rill__rbuf_get(rill_consumer_t *c, size_t size);
/* Frees an rbuf outright (and its buffer), never pooling it. */
void rill__rbuf_free(rill_rbuf *rb);
/* An error event for the application (tp may be NULL). */
void rill__consumer_event(rill_consumer_t *c, ctp *tp, rill_err_t err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Rebalance notification for the application; waits for its ack if asked. */
void rill__consumer_rebalance_event(rill_consumer_t *c, int event, ctp **tps, int n);
void rill__cmd_finish(rill_consumer_t *c, cmd *k, rill_err_t err);
/* A commit result for the commit callback. */
void rill__consumer_commit_event(rill_consumer_t *c, rill_err_t err, ctp **tps,
                                 const int64_t *offsets, const rill_err_t *errs, int n);

/* consumer_fetch.c */
void rill__fetch_step(rill_consumer_t *c, int64_t now);
void rill__fetch_broker_down(rill_consumer_t *c, rill_cbroker *b);

/* fetch_pos.c (more in fetch_pos.h) */
/* Sets the partitions' new state after assign/seek (I/O thread). */
void rill__tp_start(rill_consumer_t *c, ctp *tp, int64_t offset);
void rill__tp_stop(rill_consumer_t *c, ctp *tp);
void rill__tp_backoff(rill_consumer_t *c, ctp *tp, int64_t now);

/* consumer_group.c */
/* The coordinator's connection, or NULL while it is not known. */
rill_cbroker *rill__group_coordinator(rill_consumer_t *c);
/* The coordinator went away: find it again after a backoff. */
void rill__group_coord_lost(rill_consumer_t *c, const char *why);

/* consumer_offsets.c */
/* Commits k's offsets, or every assigned position (only those that moved when
 * only_changed); k is finished when the answer comes.  false if nothing was sent. */
bool rill__group_send_commit(rill_consumer_t *c, cmd *k, bool only_changed);
/* The commit before a revoke: every assigned position that moved (eager), or those of
 * the `only` partitions given up (cooperative), remembered per partition when it does
 * not land (ctp.revoked_pos). */
bool rill__group_commit_revoke(rill_consumer_t *c, ctp **only, int nonly);
/* Sends again the revoke commit of partitions that failed with a retriable
 * error, while the generation is unchanged; false if nothing was sent. */
bool rill__group_retry_revoke(rill_consumer_t *c, int64_t now);
/* Forgets the positions kept from a revoke (the next generation is not the
 * one after the revoke, or this member left or lost its identity). */
void rill__group_forget_revoked(rill_consumer_t *c);
/* Asks the group where newly assigned partitions start. */
void rill__group_init_positions(rill_consumer_t *c, int64_t now);
void rill__group_commit(rill_consumer_t *c, cmd *k);
void rill__group_committed(rill_consumer_t *c, cmd *k);
void rill__group_step(rill_consumer_t *c, int64_t now);
void rill__group_subscribe(rill_consumer_t *c, char **topics, size_t n);
void rill__group_leave(rill_consumer_t *c, cmd *k);
void rill__group_rebalance_done(rill_consumer_t *c);
void rill__group_free(rill_consumer_t *c);

#endif
