/*
 * api_group.h -- the classic consumer-group APIs: FindCoordinator (10),
 * JoinGroup (11), Heartbeat (12), LeaveGroup (13), SyncGroup (14),
 * DescribeGroups (15), ListGroups (16), DeleteGroups (42).
 *
 * Conventions are those of fields.h: one struct per message, arrays as
 * pointer + count (-1 for a null array), strings and bytes as views into
 * the input, arrays from the caller's arena; encoders write the body only.
 *
 * Where a later version replaced a single field with a batch, the struct
 * has the batch shape only, so callers handle one shape for all versions:
 *   - FindCoordinator v0-3 carry one key and one answer; they are encoded
 *     from, and decoded into, a one-element `keys` / `coordinators` array
 *     (the v0-3 answer's key is then the empty string).  Encoding v0-3
 *     needs exactly one element.
 *   - LeaveGroup v0-2 carry one member id; it is `members[0].member_id`
 *     (exactly one member, without instance id, to encode v0-2).
 * The group protocol's own bytes (JoinGroup metadata, SyncGroup
 * assignments) are opaque here; consumer_protocol.h reads and writes the
 * ones of protocol type "consumer".
 */
#ifndef RILL_PROTO_API_GROUP_H
#define RILL_PROTO_API_GROUP_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "proto/arena.h"
#include "proto/reader.h"

#define RILL_FIND_COORDINATOR_MIN_VER 0
#define RILL_FIND_COORDINATOR_MAX_VER 4
#define RILL_JOIN_GROUP_MIN_VER 0
#define RILL_JOIN_GROUP_MAX_VER 9
#define RILL_HEARTBEAT_MIN_VER 0
#define RILL_HEARTBEAT_MAX_VER 4
#define RILL_LEAVE_GROUP_MIN_VER 0
#define RILL_LEAVE_GROUP_MAX_VER 5
#define RILL_SYNC_GROUP_MIN_VER 0
#define RILL_SYNC_GROUP_MAX_VER 5
#define RILL_DESCRIBE_GROUPS_MIN_VER 0
#define RILL_DESCRIBE_GROUPS_MAX_VER 5
#define RILL_LIST_GROUPS_MIN_VER 0
#define RILL_LIST_GROUPS_MAX_VER 5
#define RILL_DELETE_GROUPS_MIN_VER 0
#define RILL_DELETE_GROUPS_MAX_VER 2

/* FindCoordinator KeyType values. */
#define RILL_COORDINATOR_GROUP 0
#define RILL_COORDINATOR_TRANSACTION 1

/* ---- FindCoordinator (10) ---- */

typedef struct rill_find_coordinator_req {
    int8_t key_type; /* v1+ (v0: group only) */
    rill_str *keys;  /* v0-3: exactly one (the Key field) */
    int32_t nkeys;
} rill_find_coordinator_req;

typedef struct rill_find_coordinator {
    rill_str key; /* v4+; "" when decoded from v0-3 */
    int32_t node_id;
    rill_str host;
    int32_t port;
    int16_t error_code;
    rill_str error_message; /* v1+, nullable */
} rill_find_coordinator;

typedef struct rill_find_coordinator_resp {
    int32_t throttle_time_ms;            /* v1+ */
    rill_find_coordinator *coordinators; /* v0-3: exactly one */
    int32_t ncoordinators;
} rill_find_coordinator_resp;

int rill__find_coordinator_req_encode(rill_buf *b, int16_t ver, const rill_find_coordinator_req *m);
int rill__find_coordinator_req_decode(rill_rd *r, int16_t ver, rill_find_coordinator_req *m,
                                      rill_arena *a);
int rill__find_coordinator_resp_encode(rill_buf *b, int16_t ver,
                                       const rill_find_coordinator_resp *m);
int rill__find_coordinator_resp_decode(rill_rd *r, int16_t ver, rill_find_coordinator_resp *m,
                                       rill_arena *a);

/* ---- JoinGroup (11) ---- */

typedef struct rill_join_group_protocol {
    rill_str name;
    rill_bytes metadata;
} rill_join_group_protocol;

typedef struct rill_join_group_req {
    rill_str group_id;
    int32_t session_timeout_ms;
    int32_t rebalance_timeout_ms; /* v1+; -1 when absent (use the session timeout) */
    rill_str member_id;           /* "" on the first join */
    rill_str group_instance_id;   /* v5+, nullable (static membership) */
    rill_str protocol_type;
    rill_join_group_protocol *protocols;
    int32_t nprotocols;
    rill_str reason; /* v8+, nullable */
} rill_join_group_req;

typedef struct rill_join_group_member {
    rill_str member_id;
    rill_str group_instance_id; /* v5+, nullable */
    rill_bytes metadata;
} rill_join_group_member;

typedef struct rill_join_group_resp {
    int32_t throttle_time_ms; /* v2+ */
    int16_t error_code;
    int32_t generation_id;
    rill_str protocol_type; /* v7+, nullable */
    rill_str protocol_name; /* nullable in v7+ */
    rill_str leader;
    bool skip_assignment; /* v9+ */
    rill_str member_id;
    rill_join_group_member *members; /* filled for the leader only */
    int32_t nmembers;
} rill_join_group_resp;

int rill__join_group_req_encode(rill_buf *b, int16_t ver, const rill_join_group_req *m);
int rill__join_group_req_decode(rill_rd *r, int16_t ver, rill_join_group_req *m, rill_arena *a);
int rill__join_group_resp_encode(rill_buf *b, int16_t ver, const rill_join_group_resp *m);
int rill__join_group_resp_decode(rill_rd *r, int16_t ver, rill_join_group_resp *m, rill_arena *a);

/* ---- Heartbeat (12) ---- */

typedef struct rill_heartbeat_req {
    rill_str group_id;
    int32_t generation_id;
    rill_str member_id;
    rill_str group_instance_id; /* v3+, nullable */
} rill_heartbeat_req;

typedef struct rill_heartbeat_resp {
    int32_t throttle_time_ms; /* v1+ */
    int16_t error_code;
} rill_heartbeat_resp;

int rill__heartbeat_req_encode(rill_buf *b, int16_t ver, const rill_heartbeat_req *m);
int rill__heartbeat_req_decode(rill_rd *r, int16_t ver, rill_heartbeat_req *m, rill_arena *a);
int rill__heartbeat_resp_encode(rill_buf *b, int16_t ver, const rill_heartbeat_resp *m);
int rill__heartbeat_resp_decode(rill_rd *r, int16_t ver, rill_heartbeat_resp *m, rill_arena *a);

/* ---- LeaveGroup (13) ---- */

typedef struct rill_leave_group_member {
    rill_str member_id;
    rill_str group_instance_id; /* v3+, nullable */
    rill_str reason;            /* v5+, nullable */
} rill_leave_group_member;

typedef struct rill_leave_group_req {
    rill_str group_id;
    rill_leave_group_member *members; /* v0-2: exactly one (the MemberId field) */
    int32_t nmembers;
} rill_leave_group_req;

typedef struct rill_leave_group_member_resp {
    rill_str member_id;
    rill_str group_instance_id; /* nullable */
    int16_t error_code;
} rill_leave_group_member_resp;

typedef struct rill_leave_group_resp {
    int32_t throttle_time_ms; /* v1+ */
    int16_t error_code;
    rill_leave_group_member_resp *members; /* v3+ */
    int32_t nmembers;
} rill_leave_group_resp;

int rill__leave_group_req_encode(rill_buf *b, int16_t ver, const rill_leave_group_req *m);
int rill__leave_group_req_decode(rill_rd *r, int16_t ver, rill_leave_group_req *m, rill_arena *a);
int rill__leave_group_resp_encode(rill_buf *b, int16_t ver, const rill_leave_group_resp *m);
int rill__leave_group_resp_decode(rill_rd *r, int16_t ver, rill_leave_group_resp *m, rill_arena *a);

/* ---- SyncGroup (14) ---- */

typedef struct rill_sync_group_assignment {
    rill_str member_id;
    rill_bytes assignment;
} rill_sync_group_assignment;

typedef struct rill_sync_group_req {
    rill_str group_id;
    int32_t generation_id;
    rill_str member_id;
    rill_str group_instance_id;              /* v3+, nullable */
    rill_str protocol_type;                  /* v5+, nullable */
    rill_str protocol_name;                  /* v5+, nullable */
    rill_sync_group_assignment *assignments; /* the leader's; empty from followers */
    int32_t nassignments;
} rill_sync_group_req;

typedef struct rill_sync_group_resp {
    int32_t throttle_time_ms; /* v1+ */
    int16_t error_code;
    rill_str protocol_type; /* v5+, nullable */
    rill_str protocol_name; /* v5+, nullable */
    rill_bytes assignment;
} rill_sync_group_resp;

int rill__sync_group_req_encode(rill_buf *b, int16_t ver, const rill_sync_group_req *m);
int rill__sync_group_req_decode(rill_rd *r, int16_t ver, rill_sync_group_req *m, rill_arena *a);
int rill__sync_group_resp_encode(rill_buf *b, int16_t ver, const rill_sync_group_resp *m);
int rill__sync_group_resp_decode(rill_rd *r, int16_t ver, rill_sync_group_resp *m, rill_arena *a);

/* ---- DescribeGroups (15) ---- */

typedef struct rill_describe_groups_req {
    rill_str *groups;
    int32_t ngroups;
    bool include_authorized_operations; /* v3+ */
} rill_describe_groups_req;

typedef struct rill_described_member {
    rill_str member_id;
    rill_str group_instance_id; /* v4+, nullable */
    rill_str client_id;
    rill_str client_host;
    rill_bytes member_metadata;
    rill_bytes member_assignment;
} rill_described_member;

typedef struct rill_described_group {
    int16_t error_code;
    rill_str group_id;
    rill_str group_state; /* "Stable", "PreparingRebalance", "Empty", "Dead", ... */
    rill_str protocol_type;
    rill_str protocol_data; /* the chosen protocol, e.g. "range" */
    rill_described_member *members;
    int32_t nmembers;
    int32_t authorized_operations; /* v3+; INT32_MIN when absent */
} rill_described_group;

typedef struct rill_describe_groups_resp {
    int32_t throttle_time_ms; /* v1+ */
    rill_described_group *groups;
    int32_t ngroups;
} rill_describe_groups_resp;

int rill__describe_groups_req_encode(rill_buf *b, int16_t ver, const rill_describe_groups_req *m);
int rill__describe_groups_req_decode(rill_rd *r, int16_t ver, rill_describe_groups_req *m,
                                     rill_arena *a);
int rill__describe_groups_resp_encode(rill_buf *b, int16_t ver, const rill_describe_groups_resp *m);
int rill__describe_groups_resp_decode(rill_rd *r, int16_t ver, rill_describe_groups_resp *m,
                                      rill_arena *a);

/* ---- ListGroups (16) ---- */

typedef struct rill_list_groups_req {
    rill_str *states_filter; /* v4+ */
    int32_t nstates_filter;
    rill_str *types_filter; /* v5+ */
    int32_t ntypes_filter;
} rill_list_groups_req;

typedef struct rill_listed_group {
    rill_str group_id;
    rill_str protocol_type;
    rill_str group_state; /* v4+, "" when absent */
    rill_str group_type;  /* v5+, "" when absent */
} rill_listed_group;

typedef struct rill_list_groups_resp {
    int32_t throttle_time_ms; /* v1+ */
    int16_t error_code;
    rill_listed_group *groups;
    int32_t ngroups;
} rill_list_groups_resp;

int rill__list_groups_req_encode(rill_buf *b, int16_t ver, const rill_list_groups_req *m);
int rill__list_groups_req_decode(rill_rd *r, int16_t ver, rill_list_groups_req *m, rill_arena *a);
int rill__list_groups_resp_encode(rill_buf *b, int16_t ver, const rill_list_groups_resp *m);
int rill__list_groups_resp_decode(rill_rd *r, int16_t ver, rill_list_groups_resp *m, rill_arena *a);

/* ---- DeleteGroups (42) ---- */

typedef struct rill_delete_groups_req {
    rill_str *groups;
    int32_t ngroups;
} rill_delete_groups_req;

typedef struct rill_delete_groups_result {
    rill_str group_id;
    int16_t error_code;
} rill_delete_groups_result;

typedef struct rill_delete_groups_resp {
    int32_t throttle_time_ms;
    rill_delete_groups_result *results;
    int32_t nresults;
} rill_delete_groups_resp;

int rill__delete_groups_req_encode(rill_buf *b, int16_t ver, const rill_delete_groups_req *m);
int rill__delete_groups_req_decode(rill_rd *r, int16_t ver, rill_delete_groups_req *m,
                                   rill_arena *a);
int rill__delete_groups_resp_encode(rill_buf *b, int16_t ver, const rill_delete_groups_resp *m);
int rill__delete_groups_resp_decode(rill_rd *r, int16_t ver, rill_delete_groups_resp *m,
                                    rill_arena *a);

#endif
