/*
 * assignor.h -- consumer group partition assignors: range, roundrobin and
 * cooperative-sticky, computed by the group leader for every member.
 *
 * A consumer group may mix librill, Java, librdkafka and kafka-python
 * members, and whichever is elected leader assigns partitions for all of
 * them.  For the group to behave the same whoever leads, these functions
 * compute what the Java client's RangeAssignor, RoundRobinAssignor and
 * CooperativeStickyAssignor compute for the same input, including their
 * static-membership ordering (KIP-345), their rack-aware variants (KIP-881)
 * and the cooperative rule of KIP-429 (a partition moving between members is
 * withheld for one rebalance, until its old owner has revoked it).  Where
 * Java's result depends on HashMap iteration order, the order is
 * reproduced from Java's String.hashCode.  The few deliberate differences,
 * all in cases where Java would throw or hand a member a partition it cannot
 * take, are noted where they are made (assignor.c, assignor_sticky*.c).
 *
 * Everything here is pure computation: no I/O, no clock, no globals.  The
 * input is only read; the result owns copies of every string it holds.
 */
#ifndef RILL_CLIENT_ASSIGNOR_H
#define RILL_CLIENT_ASSIGNOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "proto/arena.h"
#include "proto/consumer_protocol.h"

/* The protocol names the assignors register under in JoinGroup. */
#define RILL_ASSIGNOR_RANGE "range"
#define RILL_ASSIGNOR_ROUNDROBIN "roundrobin"
#define RILL_ASSIGNOR_COOPERATIVE_STICKY "cooperative-sticky"

/* Upper bound on the partitions of one assignment (all topics together). */
#define RILL_ASSIGNOR_MAX_PARTITIONS (1 << 24)

/* One partition of one topic. */
typedef struct rill_asg_tp {
    const char *topic;
    int32_t partition;
} rill_asg_tp;

/* The racks of one partition's replicas (from Metadata); NULL entries are skipped. */
typedef struct rill_asg_racks {
    const char *const *racks;
    int32_t nracks;
} rill_asg_racks;

/* A topic as the leader's metadata knows it. */
typedef struct rill_asg_topic {
    const char *name;
    int32_t npartitions; /* topics with 0 partitions are skipped, as Java does */
    /*
     * NULL, or `npartitions` entries: the replica racks of each partition.
     * Only used when some member has a rack (rack-aware assignment).
     */
    const rill_asg_racks *partition_racks;
} rill_asg_topic;

/*
 * One group member, from the JoinGroup response (member id, group instance
 * id) and its decoded subscription (rill__asg_member_from_subscription
 * fills one from the decoded bytes).
 */
typedef struct rill_asg_member {
    const char *member_id;
    const char *group_instance_id; /* NULL: a dynamic member */
    const char *const *topics;     /* the subscription */
    int32_t ntopics;
    const rill_asg_tp *owned; /* owned partitions (subscription v1+) */
    int32_t nowned;
    int32_t generation; /* subscription v2+ generation id; -1 when absent */
    /*
     * The subscription's user data (len -1: null).  cooperative-sticky reads
     * the generation from it when `generation` is -1, as Java does for
     * subscriptions older than v2.
     */
    const uint8_t *user_data;
    int32_t user_data_len;
    const char *rack; /* subscription v3 rack id; NULL or "" when none */
} rill_asg_member;

/* What one member gets.  Topics ascending (Java String order), partitions ascending. */
typedef struct rill_asg_member_result {
    const char *member_id;
    rill_cp_topic_partitions *topics; /* topic views are NUL-terminated copies */
    int32_t ntopics;
    int32_t npartitions; /* over all topics */
} rill_asg_member_result;

typedef struct rill_asg_result {
    rill_asg_member_result *members; /* one per input member, in input order */
    int32_t nmembers;
    /*
     * cooperative-sticky: partitions left out of this assignment because they
     * move between members and their old owner must revoke them first.  The
     * old owners rejoin once they have, and the next rebalance assigns them.
     */
    int32_t nwithheld;
    rill_arena arena; /* owns all of the above */
} rill_asg_result;

/* True for the protocol names above. */
bool rill__asg_protocol_known(const char *protocol);
/* True when the protocol supports the cooperative rebalance protocol (KIP-429). */
bool rill__asg_protocol_cooperative(const char *protocol);

/*
 * Computes the assignment of `topics` to `members` with the named protocol.
 * Pass the members in the order of the JoinGroup response: Java's leader
 * fills a HashMap from it, and where its assignors iterate that map, ties
 * between equal buckets follow this order.  Subscribed topics missing from
 * `topics` (no metadata yet) are skipped, as Java does.  Returns 0 and fills `out` (release it with
 * rill__asg_result_free), or a negative rill_err_t with a message in
 * errstr: RILL_ERR_INVALID_ARG for an unknown protocol or malformed input
 * (duplicate member ids or topics, NULL names, counts out of range),
 * RILL_ERR_NO_MEMORY, or RILL_ERR_STATE if an internal invariant failed
 * (where Java's assignor would throw).  On error `out` needs no free.
 */
int rill__assign(const char *protocol, const rill_asg_member *members, int32_t nmembers,
                 const rill_asg_topic *topics, int32_t ntopics, rill_asg_result *out, char *errstr,
                 size_t errstr_size);
void rill__asg_result_free(rill_asg_result *r);

/*
 * Appends one member's ConsumerProtocolAssignment (`ver`, 0..3; Java writes
 * 3, and every client reads every version) with null user data, for its
 * entry in the SyncGroup request.  0, or -1 with b->err set.
 */
int rill__asg_assignment_encode(rill_buf *b, int16_t ver, const rill_asg_member_result *mr);

/*
 * Appends this client's ConsumerProtocolSubscription (`ver`, 0..3) for the
 * JoinGroup protocol `protocol`: topics, owned partitions (v1+, grouped by
 * topic), generation (v2+) and rack (v3, NULL for none).  For
 * cooperative-sticky the user data carries the generation as an int32, as
 * Java's CooperativeStickyAssignor writes it for leaders that read
 * subscriptions older than v2; the other protocols send null user data.
 * 0, or -1 with b->err set.
 */
int rill__asg_subscription_encode(rill_buf *b, int16_t ver, const char *protocol,
                                  const char *const *topics, int32_t ntopics,
                                  const rill_asg_tp *owned, int32_t nowned, int32_t generation,
                                  const char *rack);

/*
 * Fills `m` from a member of the JoinGroup response: its member id, group
 * instance id (null view: none) and decoded subscription.  Every string and
 * array is copied into `a` (NUL-terminated), so `m` stays valid as long as
 * the arena, whatever happens to the response buffer.  0, or -1 when the
 * arena is full.
 */
int rill__asg_member_from_subscription(rill_asg_member *m, rill_str member_id,
                                       rill_str group_instance_id,
                                       const rill_consumer_subscription *s, rill_arena *a);

#endif
