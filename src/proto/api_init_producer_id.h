/*
 * api_init_producer_id.h -- InitProducerId (key 22) request and response, v0-5.
 *
 * Gets a producer id and epoch for the idempotent or transactional
 * producer.  v2+ is flexible; v3+ lets a producer pass its current id and
 * epoch to have the epoch bumped instead of getting a new id.
 */
#ifndef RILL_PROTO_API_INIT_PRODUCER_ID_H
#define RILL_PROTO_API_INIT_PRODUCER_ID_H

#include <stdint.h>

#include "common/buf.h"
#include "proto/arena.h"
#include "proto/reader.h"

#define RILL_INIT_PRODUCER_ID_MIN_VER 0
#define RILL_INIT_PRODUCER_ID_MAX_VER 5

typedef struct rill_init_producer_id_req {
    rill_str transactional_id; /* nullable */
    int32_t transaction_timeout_ms;
    /* v3+, default -1 (set both to -1 for "none": other values are an error before v3). */
    int64_t producer_id;
    int16_t producer_epoch;
} rill_init_producer_id_req;

typedef struct rill_init_producer_id_resp {
    int32_t throttle_time_ms;
    int16_t error_code;
    int64_t producer_id;
    int16_t producer_epoch;
} rill_init_producer_id_resp;

int rill__init_producer_id_req_encode(rill_buf *b, int16_t ver, const rill_init_producer_id_req *m);
int rill__init_producer_id_req_decode(rill_rd *r, int16_t ver, rill_init_producer_id_req *m,
                                      rill_arena *a);
int rill__init_producer_id_resp_encode(rill_buf *b, int16_t ver,
                                       const rill_init_producer_id_resp *m);
int rill__init_producer_id_resp_decode(rill_rd *r, int16_t ver, rill_init_producer_id_resp *m,
                                       rill_arena *a);

#endif
