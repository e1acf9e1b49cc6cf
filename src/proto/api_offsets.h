/*
 * api_offsets.h -- committed offsets of consumer groups: OffsetCommit (8)
 * and OffsetFetch (9).
 *
 * Conventions are those of fields.h (structs, arrays as pointer + count,
 * views into the input, arrays from the caller's arena, body only).
 *
 * OffsetFetch v8 batched several groups in one request; the structs have
 * that shape for every version, so client and broker code see one shape:
 * v0-7 requests and responses are encoded from, and decoded into, a
 * one-element `groups` array (the v0-7 response's group id is then "",
 * and its top-level error code, v2-7, is that group's error code).
 * Encoding v0-7 needs exactly one group.
 */
#ifndef RILL_PROTO_API_OFFSETS_H
#define RILL_PROTO_API_OFFSETS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "proto/arena.h"
#include "proto/reader.h"

#define RILL_OFFSET_COMMIT_MIN_VER 0
#define RILL_OFFSET_COMMIT_MAX_VER 9
#define RILL_OFFSET_FETCH_MIN_VER 0
#define RILL_OFFSET_FETCH_MAX_VER 9

/* ---- OffsetCommit (8) ---- */

typedef struct rill_offset_commit_req_partition {
    int32_t partition;
    int64_t committed_offset;
    int32_t committed_leader_epoch; /* v6+, -1 when absent */
    int64_t commit_timestamp;       /* v1 only, -1 when absent */
    rill_str committed_metadata;    /* nullable */
} rill_offset_commit_req_partition;

typedef struct rill_offset_commit_req_topic {
    rill_str name;
    rill_offset_commit_req_partition *partitions;
    int32_t npartitions;
} rill_offset_commit_req_topic;

typedef struct rill_offset_commit_req {
    rill_str group_id;
    int32_t generation_id;      /* v1+ (GenerationIdOrMemberEpoch), -1 when absent */
    rill_str member_id;         /* v1+, "" when absent */
    rill_str group_instance_id; /* v7+, nullable */
    int64_t retention_time_ms;  /* v2-4, -1 when absent (broker default) */
    rill_offset_commit_req_topic *topics;
    int32_t ntopics;
} rill_offset_commit_req;

typedef struct rill_offset_commit_resp_partition {
    int32_t partition;
    int16_t error_code;
} rill_offset_commit_resp_partition;

typedef struct rill_offset_commit_resp_topic {
    rill_str name;
    rill_offset_commit_resp_partition *partitions;
    int32_t npartitions;
} rill_offset_commit_resp_topic;

typedef struct rill_offset_commit_resp {
    int32_t throttle_time_ms; /* v3+ */
    rill_offset_commit_resp_topic *topics;
    int32_t ntopics;
} rill_offset_commit_resp;

int rill__offset_commit_req_encode(rill_buf *b, int16_t ver, const rill_offset_commit_req *m);
int rill__offset_commit_req_decode(rill_rd *r, int16_t ver, rill_offset_commit_req *m,
                                   rill_arena *a);
int rill__offset_commit_resp_encode(rill_buf *b, int16_t ver, const rill_offset_commit_resp *m);
int rill__offset_commit_resp_decode(rill_rd *r, int16_t ver, rill_offset_commit_resp *m,
                                    rill_arena *a);

/* ---- OffsetFetch (9) ---- */

typedef struct rill_offset_fetch_req_topic {
    rill_str name;
    int32_t *partitions;
    int32_t npartitions;
} rill_offset_fetch_req_topic;

typedef struct rill_offset_fetch_req_group {
    rill_str group_id;
    rill_str member_id;                  /* v9+, nullable */
    int32_t member_epoch;                /* v9+, -1 when absent */
    rill_offset_fetch_req_topic *topics; /* null (ntopics -1): all topics, v2+ */
    int32_t ntopics;
} rill_offset_fetch_req_group;

typedef struct rill_offset_fetch_req {
    rill_offset_fetch_req_group *groups; /* v0-7: exactly one */
    int32_t ngroups;
    bool require_stable; /* v7+ */
} rill_offset_fetch_req;

typedef struct rill_offset_fetch_resp_partition {
    int32_t partition;
    int64_t committed_offset;       /* -1: none committed */
    int32_t committed_leader_epoch; /* v5+, -1 when absent */
    rill_str metadata;              /* nullable */
    int16_t error_code;
} rill_offset_fetch_resp_partition;

typedef struct rill_offset_fetch_resp_topic {
    rill_str name;
    rill_offset_fetch_resp_partition *partitions;
    int32_t npartitions;
} rill_offset_fetch_resp_topic;

typedef struct rill_offset_fetch_resp_group {
    rill_str group_id; /* v8+; "" when decoded from v0-7 */
    rill_offset_fetch_resp_topic *topics;
    int32_t ntopics;
    int16_t error_code; /* v2+ */
} rill_offset_fetch_resp_group;

typedef struct rill_offset_fetch_resp {
    int32_t throttle_time_ms;             /* v3+ */
    rill_offset_fetch_resp_group *groups; /* v0-7: exactly one */
    int32_t ngroups;
} rill_offset_fetch_resp;

int rill__offset_fetch_req_encode(rill_buf *b, int16_t ver, const rill_offset_fetch_req *m);
int rill__offset_fetch_req_decode(rill_rd *r, int16_t ver, rill_offset_fetch_req *m, rill_arena *a);
int rill__offset_fetch_resp_encode(rill_buf *b, int16_t ver, const rill_offset_fetch_resp *m);
int rill__offset_fetch_resp_decode(rill_rd *r, int16_t ver, rill_offset_fetch_resp *m,
                                   rill_arena *a);

#endif
