/*
 * api_list_offsets.h -- ListOffsets (key 2) request and response, v0-8.
 *
 * v0 asks for up to max_num_offsets offsets before a timestamp and gets a
 * list back (old_style_offsets); v1+ gets one {timestamp, offset}.  v2+
 * isolation level; v4+ leader epochs; v6+ flexible; v7 adds the max-
 * timestamp query (-3) and v8 the local-log-start query (-4), which change
 * no field.
 */
#ifndef RILL_PROTO_API_LIST_OFFSETS_H
#define RILL_PROTO_API_LIST_OFFSETS_H

#include <stdint.h>

#include "common/buf.h"
#include "proto/arena.h"
#include "proto/reader.h"

#define RILL_LIST_OFFSETS_MIN_VER 0
#define RILL_LIST_OFFSETS_MAX_VER 8

/* Special timestamps in a request. */
#define RILL_LIST_OFFSETS_LATEST (-1)
#define RILL_LIST_OFFSETS_EARLIEST (-2)
#define RILL_LIST_OFFSETS_MAX_TIMESTAMP (-3)  /* v7+ */
#define RILL_LIST_OFFSETS_EARLIEST_LOCAL (-4) /* v8+ */

typedef struct rill_list_offsets_req_partition {
    int32_t partition_index;
    int32_t current_leader_epoch; /* v4+, default -1 */
    int64_t timestamp;
    int32_t max_num_offsets; /* v0 only, default 1; ignored otherwise */
} rill_list_offsets_req_partition;

typedef struct rill_list_offsets_req_topic {
    rill_str name;
    rill_list_offsets_req_partition *partitions;
    int32_t npartitions;
} rill_list_offsets_req_topic;

typedef struct rill_list_offsets_req {
    int32_t replica_id;     /* -1 for a client */
    int8_t isolation_level; /* v2+: 0 read_uncommitted, 1 read_committed (an error before v2) */
    rill_list_offsets_req_topic *topics;
    int32_t ntopics;
} rill_list_offsets_req;

typedef struct rill_list_offsets_resp_partition {
    int32_t partition_index;
    int16_t error_code;
    int64_t *old_style_offsets; /* v0 only */
    int32_t nold_style_offsets;
    int64_t timestamp;    /* v1+, default -1 */
    int64_t offset;       /* v1+, default -1 */
    int32_t leader_epoch; /* v4+, default -1 */
} rill_list_offsets_resp_partition;

typedef struct rill_list_offsets_resp_topic {
    rill_str name;
    rill_list_offsets_resp_partition *partitions;
    int32_t npartitions;
} rill_list_offsets_resp_topic;

typedef struct rill_list_offsets_resp {
    int32_t throttle_time_ms; /* v2+ */
    rill_list_offsets_resp_topic *topics;
    int32_t ntopics;
} rill_list_offsets_resp;

int rill__list_offsets_req_encode(rill_buf *b, int16_t ver, const rill_list_offsets_req *m);
int rill__list_offsets_req_decode(rill_rd *r, int16_t ver, rill_list_offsets_req *m, rill_arena *a);
int rill__list_offsets_resp_encode(rill_buf *b, int16_t ver, const rill_list_offsets_resp *m);
int rill__list_offsets_resp_decode(rill_rd *r, int16_t ver, rill_list_offsets_resp *m,
                                   rill_arena *a);

#endif
