/*
 * consumer_protocol.h -- the "consumer" embedded protocol of consumer groups.
 *
 * JoinGroup carries each member's subscription as opaque protocol metadata,
 * and SyncGroup carries the leader's assignment for each member as opaque
 * bytes.  For protocol type "consumer", every Kafka client (Java,
 * librdkafka, kafka-python, ...) fills those bytes with the structures
 * below, each preceded by an int16 version, so that members of different
 * clients can share one group and one may assign for the others.
 *
 * Subscription v0: topics, user data; v1 adds owned partitions; v2 the
 * generation id; v3 the rack id.  Assignment v0-3 are all the same on the
 * wire (assigned partitions, user data).  Both are never flexible.
 *
 * Like the API codecs, decoded strings and bytes are views into the input
 * and arrays come from the caller's arena.  A version newer than the ones
 * known here is read as the newest known one with any trailing bytes
 * ignored, as the Java client does: later versions only append fields.
 */
#ifndef RILL_PROTO_CONSUMER_PROTOCOL_H
#define RILL_PROTO_CONSUMER_PROTOCOL_H

#include <stdint.h>

#include "common/buf.h"
#include "proto/arena.h"
#include "proto/reader.h"

#define RILL_CONSUMER_SUBSCRIPTION_MIN_VER 0
#define RILL_CONSUMER_SUBSCRIPTION_MAX_VER 3
#define RILL_CONSUMER_ASSIGNMENT_MIN_VER 0
#define RILL_CONSUMER_ASSIGNMENT_MAX_VER 3

/* The protocol type string of consumer groups, as in JoinGroup. */
#define RILL_CONSUMER_PROTOCOL_TYPE "consumer"

/* A topic and some of its partitions. */
typedef struct rill_cp_topic_partitions {
    rill_str topic;
    int32_t *partitions;
    int32_t npartitions;
} rill_cp_topic_partitions;

typedef struct rill_consumer_subscription {
    int16_t version; /* decoded: the version on the wire (may exceed MAX_VER) */
    rill_str *topics;
    int32_t ntopics;
    rill_bytes user_data;            /* len -1: null */
    rill_cp_topic_partitions *owned; /* v1+ */
    int32_t nowned;
    int32_t generation_id; /* v2+, default -1 */
    rill_str rack_id;      /* v3+, default null */
} rill_consumer_subscription;

typedef struct rill_consumer_assignment {
    int16_t version;
    rill_cp_topic_partitions *assigned;
    int32_t nassigned;
    rill_bytes user_data; /* len -1: null */
} rill_consumer_assignment;

/*
 * Encoders append the int16 version and then the structure, as written by
 * `ver` (fields the version lacks are left out).  They return 0, or -1 if
 * the buffer failed or the version is not one of 0..MAX_VER.
 */
int rill__consumer_subscription_encode(rill_buf *b, int16_t ver,
                                       const rill_consumer_subscription *m);
int rill__consumer_assignment_encode(rill_buf *b, int16_t ver, const rill_consumer_assignment *m);

/*
 * Decoders read the version and the structure from `r`; fields the version
 * lacks get their defaults.  Return 0, or -1 on malformed input or a
 * negative version.  An empty input is an assignment with no partitions (a
 * member the leader gave nothing sends zero bytes in some clients).
 */
int rill__consumer_subscription_decode(rill_rd *r, rill_consumer_subscription *m, rill_arena *a);
int rill__consumer_assignment_decode(rill_rd *r, rill_consumer_assignment *m, rill_arena *a);

#endif
