/*
 * api_topics.h -- topic admin APIs: CreateTopics (key 19, v0-7),
 * DeleteTopics (key 20, v0-6) and CreatePartitions (key 37, v0-3).
 *
 * CreateTopics: v1+ validate_only; v5+ flexible, and the response then
 * echoes the topic's partition count, replication factor and configs (and
 * may carry a tagged TopicConfigErrorCode); v7+ topic ids.
 * DeleteTopics: v0-5 send a list of names, v6+ a list of {name, id}; the
 * request struct uses the v6 shape for every version (before v6, each entry
 * must have a name and a zero id).  v4+ flexible.
 * CreatePartitions: v2+ flexible.
 */
#ifndef RILL_PROTO_API_TOPICS_H
#define RILL_PROTO_API_TOPICS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "proto/arena.h"
#include "proto/reader.h"

#define RILL_CREATE_TOPICS_MIN_VER 0
#define RILL_CREATE_TOPICS_MAX_VER 7
#define RILL_DELETE_TOPICS_MIN_VER 0
#define RILL_DELETE_TOPICS_MAX_VER 6
#define RILL_CREATE_PARTITIONS_MIN_VER 0
#define RILL_CREATE_PARTITIONS_MAX_VER 3

/* ---- CreateTopics ---- */

typedef struct rill_create_topics_assignment {
    int32_t partition_index;
    int32_t *broker_ids;
    int32_t nbroker_ids;
} rill_create_topics_assignment;

typedef struct rill_create_topics_config {
    rill_str name;
    rill_str value; /* nullable */
} rill_create_topics_config;

typedef struct rill_create_topics_topic {
    rill_str name;
    int32_t num_partitions;     /* -1: broker default / manual assignment */
    int16_t replication_factor; /* -1: broker default / manual assignment */
    rill_create_topics_assignment *assignments;
    int32_t nassignments;
    rill_create_topics_config *configs;
    int32_t nconfigs;
} rill_create_topics_topic;

typedef struct rill_create_topics_req {
    rill_create_topics_topic *topics;
    int32_t ntopics;
    int32_t timeout_ms;
    bool validate_only; /* v1+; true is an error for v0 (it would create the topics) */
} rill_create_topics_req;

typedef struct rill_create_topics_result_config {
    rill_str name;
    rill_str value; /* nullable */
    bool read_only;
    int8_t config_source; /* default -1 */
    bool is_sensitive;
} rill_create_topics_result_config;

typedef struct rill_create_topics_result {
    rill_str name;
    uint8_t topic_id[16]; /* v7+ */
    int16_t error_code;
    rill_str error_message; /* v1+, nullable */
    /* v5+, tagged field 0. */
    bool has_topic_config_error_code;
    int16_t topic_config_error_code;
    int32_t num_partitions;                    /* v5+, default -1 */
    int16_t replication_factor;                /* v5+, default -1 */
    rill_create_topics_result_config *configs; /* v5+, nullable */
    int32_t nconfigs;
} rill_create_topics_result;

typedef struct rill_create_topics_resp {
    int32_t throttle_time_ms; /* v2+ */
    rill_create_topics_result *topics;
    int32_t ntopics;
} rill_create_topics_resp;

int rill__create_topics_req_encode(rill_buf *b, int16_t ver, const rill_create_topics_req *m);
int rill__create_topics_req_decode(rill_rd *r, int16_t ver, rill_create_topics_req *m,
                                   rill_arena *a);
int rill__create_topics_resp_encode(rill_buf *b, int16_t ver, const rill_create_topics_resp *m);
int rill__create_topics_resp_decode(rill_rd *r, int16_t ver, rill_create_topics_resp *m,
                                    rill_arena *a);

/* ---- DeleteTopics ---- */

typedef struct rill_delete_topics_req_topic {
    rill_str name;        /* null allowed from v6 (delete by id) */
    uint8_t topic_id[16]; /* v6+; must be zero before */
} rill_delete_topics_req_topic;

typedef struct rill_delete_topics_req {
    rill_delete_topics_req_topic *topics;
    int32_t ntopics;
    int32_t timeout_ms;
} rill_delete_topics_req;

typedef struct rill_delete_topics_result {
    rill_str name;        /* null allowed from v6 */
    uint8_t topic_id[16]; /* v6+ */
    int16_t error_code;
    rill_str error_message; /* v5+, nullable, default null */
} rill_delete_topics_result;

typedef struct rill_delete_topics_resp {
    int32_t throttle_time_ms; /* v1+ */
    rill_delete_topics_result *responses;
    int32_t nresponses;
} rill_delete_topics_resp;

int rill__delete_topics_req_encode(rill_buf *b, int16_t ver, const rill_delete_topics_req *m);
int rill__delete_topics_req_decode(rill_rd *r, int16_t ver, rill_delete_topics_req *m,
                                   rill_arena *a);
int rill__delete_topics_resp_encode(rill_buf *b, int16_t ver, const rill_delete_topics_resp *m);
int rill__delete_topics_resp_decode(rill_rd *r, int16_t ver, rill_delete_topics_resp *m,
                                    rill_arena *a);

/* ---- CreatePartitions ---- */

typedef struct rill_create_partitions_assignment {
    int32_t *broker_ids;
    int32_t nbroker_ids;
} rill_create_partitions_assignment;

typedef struct rill_create_partitions_topic {
    rill_str name;
    int32_t count;                                  /* the new total number of partitions */
    rill_create_partitions_assignment *assignments; /* nullable */
    int32_t nassignments;
} rill_create_partitions_topic;

typedef struct rill_create_partitions_req {
    rill_create_partitions_topic *topics;
    int32_t ntopics;
    int32_t timeout_ms;
    bool validate_only;
} rill_create_partitions_req;

typedef struct rill_create_partitions_result {
    rill_str name;
    int16_t error_code;
    rill_str error_message; /* nullable */
} rill_create_partitions_result;

typedef struct rill_create_partitions_resp {
    int32_t throttle_time_ms;
    rill_create_partitions_result *results;
    int32_t nresults;
} rill_create_partitions_resp;

int rill__create_partitions_req_encode(rill_buf *b, int16_t ver,
                                       const rill_create_partitions_req *m);
int rill__create_partitions_req_decode(rill_rd *r, int16_t ver, rill_create_partitions_req *m,
                                       rill_arena *a);
int rill__create_partitions_resp_encode(rill_buf *b, int16_t ver,
                                        const rill_create_partitions_resp *m);
int rill__create_partitions_resp_decode(rill_rd *r, int16_t ver, rill_create_partitions_resp *m,
                                        rill_arena *a);

#endif
