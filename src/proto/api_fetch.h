/*
 * api_fetch.h -- Fetch (key 1) request and response, v4-17.
 *
 * v4 is the first version that carries record batches (magic 2), the
 * isolation level and aborted transactions, so it is the floor here;
 * v5 log start offset; v7 incremental fetch sessions (KIP-227); v9 current
 * leader epoch (KIP-320); v11 rack id (KIP-392); v12 flexible, with
 * tagged fields (cluster id, diverging epoch, current leader, snapshot id);
 * v13 topic ids instead of names; v15 the replica id moves into a tagged
 * ReplicaState; v16 tagged node endpoints (KIP-951); v17 tagged replica
 * directory id.
 *
 * Conventions are those of fields.h.  The RECORDS field is an opaque view:
 * a fetch response may end a partition's records with a partial batch
 * (the broker cuts at max bytes), which is normal and for the record batch
 * reader to handle, not this codec.
 *
 * Tagged fields are written only when they differ from their defaults, as
 * the Java client does, and read whatever the order; unknown tags are
 * skipped.
 *
 * Zero-copy responses.  A broker that sends records with sendfile(2) from
 * its segment files encodes a response in pieces, around the records:
 *
 *     rill__fetch_resp_begin(b, ver, &resp_head, ntopics);
 *     for each topic:
 *         rill__fetch_resp_topic_begin(b, ver, &topic, npartitions);
 *         for each partition:
 *             rill__fetch_resp_partition_header(b, ver, &part, records_len);
 *             -- the caller notes b->len here; exactly records_len bytes
 *                of records go on the wire at this point (not into b) --
 *             rill__fetch_resp_partition_end(b, ver, &part);
 *         rill__fetch_resp_topic_end(b, ver);
 *     rill__fetch_resp_end(b, ver, &resp_head);
 *
 * The body is then b's bytes with each partition's records spliced in at
 * the noted offsets; its size is b->len plus the sum of the records_len.
 * rill__fetch_resp_encode does the same with the records copied into b.
 */
#ifndef RILL_PROTO_API_FETCH_H
#define RILL_PROTO_API_FETCH_H

#include <stdint.h>

#include "common/buf.h"
#include "proto/arena.h"
#include "proto/reader.h"

#define RILL_FETCH_MIN_VER 4
#define RILL_FETCH_MAX_VER 17

/* IsolationLevel values. */
#define RILL_READ_UNCOMMITTED 0
#define RILL_READ_COMMITTED 1

/* ---- Request ---- */

typedef struct rill_fetch_req_partition {
    int32_t partition;
    int32_t current_leader_epoch; /* v9+, -1: unknown / absent */
    int64_t fetch_offset;
    int32_t last_fetched_epoch; /* v12+, -1 */
    int64_t log_start_offset;   /* v5+, -1 (set by followers only) */
    int32_t partition_max_bytes;
    uint8_t replica_directory_id[16]; /* v17+ tagged; zero when absent */
} rill_fetch_req_partition;

typedef struct rill_fetch_req_topic {
    rill_str topic;       /* v4-12 ("" when decoded from v13+) */
    uint8_t topic_id[16]; /* v13+ (zero when decoded from v4-12) */
    rill_fetch_req_partition *partitions;
    int32_t npartitions;
} rill_fetch_req_topic;

/* An incremental fetch's partitions to drop from the session (v7+). */
typedef struct rill_fetch_forgotten_topic {
    rill_str topic;       /* v7-12 */
    uint8_t topic_id[16]; /* v13+ */
    int32_t *partitions;
    int32_t npartitions;
} rill_fetch_forgotten_topic;

typedef struct rill_fetch_req {
    rill_str cluster_id;   /* v12+ tagged, nullable (default null) */
    int32_t replica_id;    /* -1 for consumers; v15+ inside the tagged ReplicaState */
    int64_t replica_epoch; /* v15+ tagged ReplicaState, -1 */
    int32_t max_wait_ms;
    int32_t min_bytes;
    int32_t max_bytes;
    int8_t isolation_level;
    int32_t session_id;    /* v7+, 0: no session */
    int32_t session_epoch; /* v7+, -1: full fetch, no session */
    rill_fetch_req_topic *topics;
    int32_t ntopics;
    rill_fetch_forgotten_topic *forgotten; /* v7+ */
    int32_t nforgotten;
    rill_str rack_id; /* v11+, "" when absent */
} rill_fetch_req;

int rill__fetch_req_encode(rill_buf *b, int16_t ver, const rill_fetch_req *m);
int rill__fetch_req_decode(rill_rd *r, int16_t ver, rill_fetch_req *m, rill_arena *a);

/* ---- Response ---- */

typedef struct rill_fetch_aborted_txn {
    int64_t producer_id;
    int64_t first_offset;
} rill_fetch_aborted_txn;

typedef struct rill_fetch_resp_partition {
    int32_t partition;
    int16_t error_code;
    int64_t high_watermark;
    int64_t last_stable_offset; /* -1: unknown */
    int64_t log_start_offset;   /* v5+, -1 */
    /* v12+ tagged; each group is sent only when not all -1. */
    int32_t diverging_epoch;         /* DivergingEpoch.Epoch */
    int64_t diverging_end_offset;    /* DivergingEpoch.EndOffset */
    int32_t current_leader_id;       /* CurrentLeader.LeaderId */
    int32_t current_leader_epoch;    /* CurrentLeader.LeaderEpoch */
    int64_t snapshot_end_offset;     /* SnapshotId.EndOffset */
    int32_t snapshot_epoch;          /* SnapshotId.Epoch */
    rill_fetch_aborted_txn *aborted; /* nullable: naborted -1 */
    int32_t naborted;
    int32_t preferred_read_replica; /* v11+, -1 */
    rill_bytes records;             /* nullable; may end with a partial batch */
} rill_fetch_resp_partition;

typedef struct rill_fetch_resp_topic {
    rill_str topic;       /* v4-12 */
    uint8_t topic_id[16]; /* v13+ */
    rill_fetch_resp_partition *partitions;
    int32_t npartitions;
} rill_fetch_resp_topic;

/* Where a new leader lives (v16+, with NOT_LEADER_OR_FOLLOWER errors). */
typedef struct rill_fetch_node_endpoint {
    int32_t node_id;
    rill_str host;
    int32_t port;
    rill_str rack; /* nullable */
} rill_fetch_node_endpoint;

typedef struct rill_fetch_resp {
    int32_t throttle_time_ms;
    int16_t error_code; /* v7+ */
    int32_t session_id; /* v7+ */
    rill_fetch_resp_topic *topics;
    int32_t ntopics;
    rill_fetch_node_endpoint *node_endpoints; /* v16+ tagged */
    int32_t nnode_endpoints;
} rill_fetch_resp;

/* A partition with every field at its default (callers then set a few). */
void rill__fetch_resp_partition_init(rill_fetch_resp_partition *p, int32_t partition);

int rill__fetch_resp_encode(rill_buf *b, int16_t ver, const rill_fetch_resp *m);
int rill__fetch_resp_decode(rill_rd *r, int16_t ver, rill_fetch_resp *m, rill_arena *a);

/*
 * The pieces of rill__fetch_resp_encode (see the top of this file).  Only
 * the fields named are read: `head`'s throttle time, error code and session
 * id in _begin, its node endpoints in _end; `t`'s name / id (not its
 * partitions); `p`'s fields but not its records.  records_len -1 writes
 * null records.  Errors are sticky in b; _begin returns -1 for a version out
 * of range, _end returns 0 or -1 for the whole sequence.
 */
int rill__fetch_resp_begin(rill_buf *b, int16_t ver, const rill_fetch_resp *head, int32_t ntopics);
void rill__fetch_resp_topic_begin(rill_buf *b, int16_t ver, const rill_fetch_resp_topic *t,
                                  int32_t npartitions);
void rill__fetch_resp_partition_header(rill_buf *b, int16_t ver, const rill_fetch_resp_partition *p,
                                       int32_t records_len);
void rill__fetch_resp_partition_end(rill_buf *b, int16_t ver, const rill_fetch_resp_partition *p);
void rill__fetch_resp_topic_end(rill_buf *b, int16_t ver);
int rill__fetch_resp_end(rill_buf *b, int16_t ver, const rill_fetch_resp *head);

#endif
