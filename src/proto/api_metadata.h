/*
 * api_metadata.h -- Metadata (key 3) request and response, v0-12.
 *
 * Topic lists: in v0 an empty array means "all topics"; from v1 null means
 * all and empty means none.  The request struct uses the v1+ meaning for
 * every version: ntopics == -1 asks for all topics (written as an empty
 * array in v0), and a v0 request that asks for all decodes to ntopics -1.
 * v9+ is flexible; v10+ carries topic ids; v8-10 can ask for cluster
 * authorized operations and v8+ for topic authorized operations.
 */
#ifndef RILL_PROTO_API_METADATA_H
#define RILL_PROTO_API_METADATA_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "proto/arena.h"
#include "proto/reader.h"

#define RILL_METADATA_MIN_VER 0
#define RILL_METADATA_MAX_VER 12

/* "Not requested / not known" value of the authorized-operations bitfields. */
#define RILL_AUTHORIZED_OPS_UNKNOWN INT32_MIN

typedef struct rill_metadata_req_topic {
    uint8_t topic_id[16]; /* v10+ (dropped before) */
    rill_str name;        /* null allowed from v10 */
} rill_metadata_req_topic;

typedef struct rill_metadata_req {
    rill_metadata_req_topic *topics;
    int32_t ntopics; /* -1: all topics */
    /* v4+, default true.  Encoding false for v0-3 is an error: they always allow it. */
    bool allow_auto_topic_creation;
    bool include_cluster_authorized_operations; /* v8-10 only; true elsewhere is an error */
    bool include_topic_authorized_operations;   /* v8+; true before is an error */
} rill_metadata_req;

typedef struct rill_metadata_broker {
    int32_t node_id;
    rill_str host;
    int32_t port;
    rill_str rack; /* v1+, nullable, default null */
} rill_metadata_broker;

typedef struct rill_metadata_partition {
    int16_t error_code;
    int32_t partition_index;
    int32_t leader_id;
    int32_t leader_epoch; /* v7+, default -1 */
    int32_t *replica_nodes;
    int32_t nreplica_nodes;
    int32_t *isr_nodes;
    int32_t nisr_nodes;
    int32_t *offline_replicas; /* v5+ */
    int32_t noffline_replicas;
} rill_metadata_partition;

typedef struct rill_metadata_topic {
    int16_t error_code;
    rill_str name;        /* null allowed from v12 */
    uint8_t topic_id[16]; /* v10+ */
    bool is_internal;     /* v1+ */
    rill_metadata_partition *partitions;
    int32_t npartitions;
    int32_t topic_authorized_operations; /* v8+, default RILL_AUTHORIZED_OPS_UNKNOWN */
} rill_metadata_topic;

typedef struct rill_metadata_resp {
    int32_t throttle_time_ms; /* v3+ */
    rill_metadata_broker *brokers;
    int32_t nbrokers;
    rill_str cluster_id;   /* v2+, nullable, default null */
    int32_t controller_id; /* v1+, default -1 */
    rill_metadata_topic *topics;
    int32_t ntopics;
    int32_t cluster_authorized_operations; /* v8-10, default RILL_AUTHORIZED_OPS_UNKNOWN */
} rill_metadata_resp;

int rill__metadata_req_encode(rill_buf *b, int16_t ver, const rill_metadata_req *m);
int rill__metadata_req_decode(rill_rd *r, int16_t ver, rill_metadata_req *m, rill_arena *a);
int rill__metadata_resp_encode(rill_buf *b, int16_t ver, const rill_metadata_resp *m);
int rill__metadata_resp_decode(rill_rd *r, int16_t ver, rill_metadata_resp *m, rill_arena *a);

#endif
