/*
 * group_internal.h -- the group coordinator's data structures, shared by its files:
 *   group_coordinator.c  lifecycle, timers, cancellation, List/Describe/DeleteGroups
 *   group_state.c        groups and members: allocation, lookup, protocols, removal
 *   group_join.c         JoinGroup, SyncGroup, Heartbeat, LeaveGroup and the rebalance
 *                        state machine
 *   group_offsets.c      OffsetCommit, OffsetFetch, the held commits and their flush
 */
#ifndef RILL_SERVER_GROUP_INTERNAL_H
#define RILL_SERVER_GROUP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/server/group_coordinator.h"
#include "broker/storage/hmap.h"
#include "proto/arena.h"

#define GC_NEVER INT64_MAX

typedef enum gc_state {
    GC_EMPTY,
    GC_PREPARING,  /* PreparingRebalance: the join phase */
    GC_COMPLETING, /* CompletingRebalance: waiting for the leader's SyncGroup */
    GC_STABLE,
    GC_DEAD,
} gc_state;

typedef struct gc_proto {
    char *name;
    uint8_t *meta;
    int32_t meta_len;
} gc_proto;

typedef struct gc_member {
    char *id;
    char *instance_id; /* group.instance.id; NULL for a dynamic member */
    char *client_id;
    char *client_host;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms;
    gc_proto *protos; /* in the member's order of preference */
    int32_t nprotos;
    uint8_t *assignment;
    int32_t assignment_len;
    /* A JoinGroup is outstanding in this join phase.  The callback can be NULL while the
       flag is set: the connection closed, and Kafka still counts the member as joined. */
    bool awaiting_join;
    rill_gc_join_cb *join_cb;
    void *join_ctx;
    const void *join_conn;
    bool awaiting_sync;
    rill_gc_sync_cb *sync_cb;
    void *sync_ctx;
    const void *sync_conn;
    bool is_new;         /* joined in the current join phase, not yet through it */
    bool pending_sync;   /* has not sent SyncGroup for the current generation */
    int64_t hb_deadline; /* session expiry; GC_NEVER while none is scheduled */
} gc_member;

/* A member id handed out with MEMBER_ID_REQUIRED, waiting for its JoinGroup. */
typedef struct gc_pending {
    char *id;
    int64_t deadline;
} gc_pending;

typedef struct gc_group {
    char *id;
    gc_state state;
    int32_t generation;
    char *protocol_type; /* NULL until the first member joins */
    char *protocol_name; /* chosen for the generation; NULL when Empty */
    gc_member **members; /* in join order */
    int32_t nmembers, cap;
    gc_member *leader;
    int32_t nawaiting_join;
    gc_pending *pending;
    int32_t npending, pcap;
    /* The join phase's end: Kafka's DelayedJoin, or its InitialDelayedJoin for new groups,
       which waits the initial delay, again while members keep arriving, up to the
       rebalance timeout. */
    int64_t join_deadline;
    bool initial_join;
    bool new_member_added;
    int32_t initial_remaining_ms;
    int64_t sync_deadline; /* members that have not synced are removed then */
    int64_t empty_since;   /* wall ms when its last member left; -1: never had one here */
} gc_group;

/* An OffsetCommit response held until the offsets store is synced. */
typedef struct gc_commit {
    struct gc_commit *next;
    rill_gc_commit_cb *done;
    void *ctx;
    const void *conn;
    uint64_t seq;     /* external sync: the owner's sync that covers it; 0 before tagging */
    rill_arena arena; /* owns resp's arrays and names */
    rill_offset_commit_resp resp;
} gc_commit;

struct rill_gc {
    rill_gc_config cfg;
    rill_offsets *offsets;
    bool own_offsets;
    rill_hmap groups;   /* id -> gc_group */
    rill_arena scratch; /* delayed answers being delivered; reset after each */
    rill_arena reply;   /* the answer of the request being handled; reset after it */
    int64_t now;
    int64_t next_cleanup;
    gc_commit *commits, **commits_tail; /* tagged ones first, in seq order */
    int ncommits;
    int nuntagged;
};

/* ---- group_state.c ---- */

int64_t rill__gc_now(rill_gc *gc);
/* Wall-clock ms (commit timestamps are wall clock). */
int64_t rill__gc_wall(rill_gc *gc);
const char *rill__gc_state_name(gc_state s);
char *rill__gc_dup(rill_str s);                   /* NUL-terminated copy; null gives "" */
char *rill__gc_dup_in(rill_arena *a, rill_str s); /* the same in a (NULL: malloc) */
/* A zeroed array of n (at least 1) elements for the answer being built. */
void *rill__gc_reply_array(rill_gc *gc, int32_t n, size_t size);
/* A JoinGroup error answer (generation -1, no leader, no protocol). */
void rill__gc_join_error(rill_join_group_resp *r, rill_str member_id, int16_t err);
bool rill__gc_eq(const char *c, rill_str s);
/* The group, or NULL. */
gc_group *rill__gc_find(const rill_gc *gc, rill_str id);
gc_group *rill__gc_find_c(const rill_gc *gc, const char *id);
/* Finds or creates an Empty group; NULL when out of memory. */
gc_group *rill__gc_get_or_create(rill_gc *gc, const char *id);
/* Removes the group from the map and frees it (its members must be gone). */
void rill__gc_group_drop(rill_gc *gc, gc_group *g);
void rill__gc_group_free(rill_gc *gc, gc_group *g);

gc_member *rill__gc_member(const gc_group *g, rill_str id);
gc_member *rill__gc_static_member(const gc_group *g, rill_str instance_id);
int32_t rill__gc_pending_find(const gc_group *g, rill_str id);
void rill__gc_pending_remove(gc_group *g, int32_t i);
/* Replaces a member's protocols with copies of the request's; -1 when out of memory. */
int rill__gc_set_protos(gc_member *m, const rill_join_group_protocol *p, int32_t n);
bool rill__gc_protos_match(const gc_member *m, const rill_join_group_protocol *p, int32_t n);
/* Kafka's GroupMetadata.supportsProtocols. */
bool rill__gc_supports(const gc_group *g, rill_str type, const rill_join_group_protocol *p,
                       int32_t n);
/* The protocol all members support that wins their vote; NULL when none. */
const char *rill__gc_select_protocol(const gc_group *g);
const gc_proto *rill__gc_member_proto(const gc_member *m, const char *name);
int32_t rill__gc_rebalance_timeout(const gc_group *g);
/* Appends a member (the first one sets protocol type and leader); -1 on OOM. */
int rill__gc_member_add(gc_group *g, gc_member *m, rill_str protocol_type);
/*
 * Takes m out of the group (and the leader role to the first remaining member) and frees
 * it; a pending join or sync is answered with error err.
 */
void rill__gc_member_remove(rill_gc *gc, gc_group *g, gc_member *m, int16_t err);
void rill__gc_member_free(gc_member *m);
/* Fails m's pending JoinGroup / SyncGroup with err (no-op when none). */
void rill__gc_fail_join(rill_gc *gc, gc_group *g, gc_member *m, const char *member_id, int16_t err);
void rill__gc_fail_sync(rill_gc *gc, gc_member *m, int16_t err);
/* Delivers resp to m's pending JoinGroup (when there is one) and resets the scratch arena. */
void rill__gc_answer_join(rill_gc *gc, gc_group *g, gc_member *m, const rill_join_group_resp *resp);
void rill__gc_answer_sync(rill_gc *gc, gc_member *m, const rill_sync_group_resp *resp);
/* A fresh member id: "<prefix>-<uuid v4>"; NULL when out of memory. */
char *rill__gc_new_member_id(rill_str prefix);

/* ---- group_join.c ---- */

/* Session, pending-member, join-phase and sync-phase timers of one group. */
void rill__gc_group_timers(rill_gc *gc, gc_group *g);
int64_t rill__gc_group_next_timeout(const gc_group *g);
/* Kafka's completeAndScheduleNextHeartbeatExpiration. */
void rill__gc_heartbeat_reset(rill_gc *gc, gc_member *m);
/* Cancels the pending completions of conn (of every connection with all) in g. */
void rill__gc_group_cancel(gc_group *g, const void *conn, bool all);
/* Kafka's validateCurrentMember: 0, UNKNOWN_MEMBER_ID or FENCED_INSTANCE_ID. */
int16_t rill__gc_validate_member(const gc_group *g, rill_str member_id, rill_str instance_id);

/* ---- group_offsets.c ---- */

/* Cancels the held OffsetCommit answers of conn (of every connection with all). */
void rill__gc_commits_cancel(rill_gc *gc, const void *conn, bool all);

#endif
