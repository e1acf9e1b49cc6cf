/*
 * api_produce.h -- Produce (key 0) request and response, v3-11.
 *
 * v3+ carries record batches (magic 2) and a transactional id; v8+ adds
 * per-record errors to the response; v9+ is flexible; v10+ responses may
 * carry the new leader of a partition and its endpoint as tagged fields.
 * The records of a partition are opaque bytes here (one or more batches
 * back to back): the record batch code parses them.
 *
 * The producer writes requests with the streaming writer below, straight
 * from its finished batches, without building a message struct:
 *
 *     rill_produce_writer w;
 *     rill__produce_req_begin(&w, b, ver, txn_id, acks, timeout_ms, ntopics);
 *     for each topic:      rill__produce_req_topic(&w, name, npartitions);
 *       for each partition: rill__produce_req_partition(&w, index, batch, len);
 *                     (or: _partition_begin(&w, index, total); append the
 *                      batches with rill__wr_raw(b, ...); _partition_end(&w);)
 *     if (rill__produce_req_end(&w) != 0) ...
 *
 * The writer checks that the counts given match what was written.  The
 * struct encoder rill__produce_req_encode (tests, tools) goes through it.
 */
#ifndef RILL_PROTO_API_PRODUCE_H
#define RILL_PROTO_API_PRODUCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "proto/arena.h"
#include "proto/reader.h"

#define RILL_PRODUCE_MIN_VER 3
#define RILL_PRODUCE_MAX_VER 11

typedef struct rill_produce_req_partition {
    int32_t index;
    rill_bytes records; /* nullable */
} rill_produce_req_partition;

typedef struct rill_produce_req_topic {
    rill_str name;
    rill_produce_req_partition *partitions;
    int32_t npartitions;
} rill_produce_req_topic;

typedef struct rill_produce_req {
    rill_str transactional_id; /* nullable */
    int16_t acks;
    int32_t timeout_ms;
    rill_produce_req_topic *topics;
    int32_t ntopics;
} rill_produce_req;

/* Streaming request writer (see the top of this file). */
typedef struct rill_produce_writer {
    rill_buf *b;
    int16_t ver;
    bool flexible;
    int32_t topics_left; /* topics announced but not begun */
    int32_t parts_left;  /* partitions of the current topic not begun */
    bool topic_open;     /* a topic's tags are still to be written */
    size_t part_end;     /* where the current partition's records must end */
    bool part_open;
    bool bad; /* misuse: counts or lengths did not match */
} rill_produce_writer;

void rill__produce_req_begin(rill_produce_writer *w, rill_buf *b, int16_t ver,
                             rill_str transactional_id, int16_t acks, int32_t timeout_ms,
                             int32_t ntopics);
void rill__produce_req_topic(rill_produce_writer *w, rill_str name, int32_t npartitions);
/* One partition whose records are `len` contiguous bytes (len -1: null). */
void rill__produce_req_partition(rill_produce_writer *w, int32_t index, const void *records,
                                 int32_t len);
/* One partition whose `total` bytes of records the caller appends itself. */
void rill__produce_req_partition_begin(rill_produce_writer *w, int32_t index, int32_t total);
void rill__produce_req_partition_end(rill_produce_writer *w);
/* Between those two: `n` of the records' bytes went out apart from the
 * buffer (a gather write), so the buffer holds that many fewer. */
void rill__produce_req_partition_apart(rill_produce_writer *w, size_t n);
/* 0, or -1 if the buffer failed or the counts/lengths did not match. */
int rill__produce_req_end(rill_produce_writer *w);

int rill__produce_req_encode(rill_buf *b, int16_t ver, const rill_produce_req *m);
int rill__produce_req_decode(rill_rd *r, int16_t ver, rill_produce_req *m, rill_arena *a);

typedef struct rill_produce_record_error {
    int32_t batch_index;
    rill_str message; /* nullable */
} rill_produce_record_error;

typedef struct rill_produce_resp_partition {
    int32_t index;
    int16_t error_code;
    int64_t base_offset;
    int64_t log_append_time_ms;               /* default -1 */
    int64_t log_start_offset;                 /* v5+, default -1 */
    rill_produce_record_error *record_errors; /* v8+ */
    int32_t nrecord_errors;
    rill_str error_message; /* v8+, nullable, default null */
    /* v10+, tagged field 0: the partition's current leader, when known. */
    bool has_current_leader;
    int32_t current_leader_id;
    int32_t current_leader_epoch;
} rill_produce_resp_partition;

typedef struct rill_produce_resp_topic {
    rill_str name;
    rill_produce_resp_partition *partitions;
    int32_t npartitions;
} rill_produce_resp_topic;

typedef struct rill_produce_node_endpoint {
    int32_t node_id;
    rill_str host;
    int32_t port;
    rill_str rack; /* nullable */
} rill_produce_node_endpoint;

typedef struct rill_produce_resp {
    rill_produce_resp_topic *topics;
    int32_t ntopics;
    int32_t throttle_time_ms;
    /* v10+, tagged field 0, written only when nnode_endpoints > 0. */
    rill_produce_node_endpoint *node_endpoints;
    int32_t nnode_endpoints;
} rill_produce_resp;

int rill__produce_resp_encode(rill_buf *b, int16_t ver, const rill_produce_resp *m);
int rill__produce_resp_decode(rill_rd *r, int16_t ver, rill_produce_resp *m, rill_arena *a);

#endif
