/*
 * group_coordinator.h -- rill-broker's consumer-group coordinator (Kafka's classic group
 * protocol): membership, generations, rebalances, and committed offsets.  A state machine
 * with no sockets: the server decodes a request, calls the matching rill__gc_* function,
 * and encodes the response it is handed.
 *
 * Behaviour follows Apache Kafka's GroupCoordinator (3.x, classic protocol):
 *   - states Empty -> PreparingRebalance -> CompletingRebalance -> Stable (-> Dead when
 *     deleted); each completed join phase starts a new generation;
 *   - the leader is the first member of a group, kept across generations while it rejoins;
 *     the protocol type must match the group's, and the protocol is chosen among those all
 *     members support by a vote in each member's preference order;
 *   - the leader gets every member's metadata; its SyncGroup assignment is handed to each
 *     member untouched (so any client-side assignor works);
 *   - JoinGroup v4+ without a member id is answered MEMBER_ID_REQUIRED (79) with a
 *     generated id "<client.id>-<uuid>" (KIP-394); v0-3 are given the id directly;
 *   - members that stop heartbeating are expelled after session.timeout.ms; the join phase
 *     ends when every member has rejoined or the rebalance timeout passes (members that did
 *     not rejoin are removed); a new group waits group.initial.rebalance.delay.ms for more
 *     members first; members that do not send SyncGroup within the rebalance timeout are
 *     removed;
 *   - static members (group.instance.id, KIP-345) that restart rejoin with a new member id
 *     and no rebalance; requests carrying a replaced member id get FENCED_INSTANCE_ID;
 *   - OffsetCommit is accepted from members of the current generation, or with generation
 *     -1 while the group is Empty (consumers with manual assignment); offsets live in the
 *     storage offsets store (offsets.h), so they survive restarts.
 *
 * Completions.  Every request function takes a callback `done` and its `ctx`, and calls
 * done exactly once per request:
 *   - with the response -- at once for most requests; later for JoinGroup (the join phase
 *     must end first), SyncGroup from a follower (waits for the leader's assignment) and
 *     OffsetCommit (waits for rill__gc_flush when sync_commits is on).  A later call comes
 *     from rill__gc_tick, rill__gc_flush, or another member's request;
 *   - with resp == NULL when the request was cancelled (rill__gc_cancel for its connection,
 *     or rill__gc_destroy): nothing is to be sent; free ctx.
 * The response, and every string and array it points to, is valid only during the call:
 * encode (or copy) it there.  throttle_time_ms is 0.  done must not call any rill__gc_*
 * function of the same coordinator.  Request structs are only read during the call (their
 * strings and bytes are copied when kept), so the receive buffer may be reused after it.
 *
 * A JoinGroup or SyncGroup that is replaced by a newer one from the same member (a client
 * retry) is answered REBALANCE_IN_PROGRESS, so no connection waits for an answer that
 * Kafka would never send.  Because Kafka answers a connection's requests in order, the
 * server should not start the next request of a connection while one is pending here.
 *
 * Time: deadlines use the monotonic clock of the config (rill__mono_ms by default).  Call
 * rill__gc_tick when rill__gc_next_timeout() passes (or simply every 100 ms or so).
 *
 * Not thread-safe: one event-loop thread.
 */
#ifndef RILL_SERVER_GROUP_COORDINATOR_H
#define RILL_SERVER_GROUP_COORDINATOR_H

#include <stdint.h>

#include "broker/storage/offsets.h"
#include "common/log.h"
#include "proto/api_group.h"
#include "proto/api_offsets.h"
#include "rill.h"

typedef struct rill_gc rill_gc;

typedef struct rill_gc_config {
    int32_t min_session_timeout_ms;     /* group.min.session.timeout.ms: 6000 */
    int32_t max_session_timeout_ms;     /* group.max.session.timeout.ms: 1800000 */
    int32_t initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms: 3000 */
    int32_t max_group_size;             /* group.max.size: INT32_MAX */
    int32_t new_member_join_timeout_ms; /* Kafka's fixed 300000: a new member's pending join */
    int64_t cleanup_interval_ms;        /* offsets.retention.check.interval.ms: 600000; expires
                                           offsets, forgets Empty groups without committed offsets */
    /*
     * offsets.retention.minutes: 7 days (Kafka >= 2.1, KIP-211).  A group with members keeps
     * its offsets; an Empty group's expire this long after it became Empty or after their
     * commit, whichever is later; a group that never had members here (standalone
     * committers, or loaded at start) expires each offset this long after its commit.
     * <= 0: never.
     */
    int64_t offsets_retention_ms;
    int sync_commits;      /* 1 (default): OffsetCommit is answered after rill__gc_flush() synced
                              the offsets store; 0: as soon as the commit is written */
    int external_sync;     /* with sync_commits: the owner syncs the store off the loop
                              (rill__gc_commits_tag/_release); rill__gc_tick leaves held
                              commits alone */
    rill_offsets *offsets; /* borrowed (e.g. rill__storage_offsets()); NULL: an in-memory store
                              owned by the coordinator (tests) */
    int64_t (*clock)(void *opaque);      /* monotonic ms; NULL: rill__mono_ms */
    int64_t (*wall_clock)(void *opaque); /* wall ms (clock_opaque); NULL: rill__wall_ms */
    void *clock_opaque;
    /* When set, OffsetCommit to a partition for which it returns 0 gets
       UNKNOWN_TOPIC_OR_PARTITION, as Kafka checks its metadata cache. */
    int (*partition_exists)(void *opaque, const char *topic, int32_t partition);
    void *partition_exists_opaque;
    const rill_logger *logger; /* may be NULL */
} rill_gc_config;

void rill__gc_config_defaults(rill_gc_config *cfg);

/* Who sent a request: what DescribeGroups shows, and the connection for cancellation. */
typedef struct rill_gc_client {
    const void *conn;     /* identity of the connection (any pointer); may be NULL */
    rill_str client_id;   /* the request header's client.id; null is taken as "" */
    rill_str client_host; /* as Kafka shows it, e.g. "/127.0.0.1"; null is taken as "" */
} rill_gc_client;

typedef void(rill_gc_join_cb)(void *ctx, const rill_join_group_resp *resp);
typedef void(rill_gc_sync_cb)(void *ctx, const rill_sync_group_resp *resp);
typedef void(rill_gc_heartbeat_cb)(void *ctx, const rill_heartbeat_resp *resp);
typedef void(rill_gc_leave_cb)(void *ctx, const rill_leave_group_resp *resp);
typedef void(rill_gc_commit_cb)(void *ctx, const rill_offset_commit_resp *resp);
typedef void(rill_gc_fetch_cb)(void *ctx, const rill_offset_fetch_resp *resp);
typedef void(rill_gc_list_cb)(void *ctx, const rill_list_groups_resp *resp);
typedef void(rill_gc_describe_cb)(void *ctx, const rill_describe_groups_resp *resp);
typedef void(rill_gc_delete_cb)(void *ctx, const rill_delete_groups_resp *resp);

/*
 * Creates a coordinator.  Groups with committed offsets in the store are loaded as Empty
 * groups (as Kafka loads them from __consumer_offsets).  Returns NULL when out of memory.
 */
rill_gc *rill__gc_new(const rill_gc_config *cfg);
/* Cancels every pending completion (done(ctx, NULL)), syncs nothing, frees. */
void rill__gc_destroy(rill_gc *gc);

/* JoinGroup (11), any version 0-9.  May complete later. */
void rill__gc_join(rill_gc *gc, const rill_gc_client *cl, int16_t ver,
                   const rill_join_group_req *req, rill_gc_join_cb *done, void *ctx);
/* SyncGroup (14), 0-5.  A follower's completes when the leader's assignment arrives. */
void rill__gc_sync(rill_gc *gc, const rill_gc_client *cl, int16_t ver,
                   const rill_sync_group_req *req, rill_gc_sync_cb *done, void *ctx);
/* Heartbeat (12), 0-4.  Completes at once. */
void rill__gc_heartbeat(rill_gc *gc, const rill_gc_client *cl, int16_t ver,
                        const rill_heartbeat_req *req, rill_gc_heartbeat_cb *done, void *ctx);
/*
 * LeaveGroup (13), 0-5.  Completes at once.  v0-2 carry one member (members[0]); their
 * response's top-level error_code is that member's error, as Kafka answers them.
 */
void rill__gc_leave(rill_gc *gc, const rill_gc_client *cl, int16_t ver,
                    const rill_leave_group_req *req, rill_gc_leave_cb *done, void *ctx);
/* OffsetCommit (8), 0-9.  With sync_commits, completes at the next rill__gc_flush. */
void rill__gc_offset_commit(rill_gc *gc, const rill_gc_client *cl, int16_t ver,
                            const rill_offset_commit_req *req, rill_gc_commit_cb *done, void *ctx);
/*
 * OffsetFetch (9), 0-9 (v8+ several groups).  Completes at once.  Partitions without a
 * commit get offset -1 and metadata ""; a null topic list (v2+) returns every commit.
 */
void rill__gc_offset_fetch(rill_gc *gc, const rill_gc_client *cl, int16_t ver,
                           const rill_offset_fetch_req *req, rill_gc_fetch_cb *done, void *ctx);
/* ListGroups (16), 0-5 (state filter v4+, type filter v5+).  Completes at once. */
void rill__gc_list(rill_gc *gc, const rill_gc_client *cl, int16_t ver,
                   const rill_list_groups_req *req, rill_gc_list_cb *done, void *ctx);
/*
 * DescribeGroups (15), 0-5.  Completes at once.  A Stable group shows each member's
 * metadata (for the chosen protocol) and assignment; other states show them empty; an
 * unknown group is "Dead" with error 0, as Kafka answers v0-5.
 */
void rill__gc_describe(rill_gc *gc, const rill_gc_client *cl, int16_t ver,
                       const rill_describe_groups_req *req, rill_gc_describe_cb *done, void *ctx);
/*
 * DeleteGroups (42), 0-2.  Completes at once.  Only Empty groups are deleted (with their
 * offsets); NON_EMPTY_GROUP when members exist, GROUP_ID_NOT_FOUND when unknown.
 */
void rill__gc_delete(rill_gc *gc, const rill_gc_client *cl, int16_t ver,
                     const rill_delete_groups_req *req, rill_gc_delete_cb *done, void *ctx);

/*
 * The connection conn closed: its pending completions are called with resp == NULL.  The
 * members stay in their groups (Kafka cannot tell either); their sessions expire.
 */
void rill__gc_cancel(rill_gc *gc, const void *conn);

/*
 * Timers: session expiry, pending-member expiry, the end of join phases and of sync
 * phases, and the periodic cleanup.  now_ms is the same monotonic clock as the config's.
 * Also flushes held OffsetCommit responses (as rill__gc_flush).
 */
void rill__gc_tick(rill_gc *gc, int64_t now_ms);
/* The earliest deadline (monotonic ms) at which rill__gc_tick has work; INT64_MAX: none. */
int64_t rill__gc_next_timeout(const rill_gc *gc);

/*
 * Group commit for offsets: syncs the offsets store once and answers every OffsetCommit
 * written before it (NOT_COORDINATOR, which clients retry, if the sync failed).  Call it
 * once per event-loop iteration while rill__gc_commits_waiting() is non-zero.  Returns the
 * sync's result.
 */
rill_err_t rill__gc_flush(rill_gc *gc);
/* OffsetCommit responses held for the next flush (external sync: not yet tagged). */
int rill__gc_commits_waiting(const rill_gc *gc);
/*
 * External sync (the broker's flusher thread, so that a slow fsync never stalls the event
 * loop): tag gives every held commit not yet tagged the number of the sync that will cover
 * it (numbers grow); release answers, in order, those whose sync numbered <= durable_seq
 * has finished, with NOT_COORDINATOR on their partitions when err says it failed.
 */
void rill__gc_commits_tag(rill_gc *gc, uint64_t seq);
void rill__gc_commits_release(rill_gc *gc, uint64_t durable_seq, rill_err_t err);

/* Kafka's name of a group's state ("Stable", ...), or NULL when the group is unknown. */
const char *rill__gc_group_state(const rill_gc *gc, const char *group_id);
/* Number of groups the coordinator knows (any state but Dead). */
int rill__gc_group_count(const rill_gc *gc);

#endif
