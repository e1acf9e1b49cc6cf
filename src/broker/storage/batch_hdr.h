/*
 * batch_hdr.h -- the fixed 61-byte header of a record batch v2, as storage reads it.
 *
 * Storage never decodes records: it stores batches exactly as producers sent them
 * (broker_anchors.md §1.5) and only needs the fixed header fields to assign offsets,
 * index, validate during recovery and track idempotent producers.  The byte offsets are
 * Kafka's DefaultRecordBatch constants.  The full record batch codec lives in
 * src/proto; this header deliberately duplicates none of it beyond these fields.
 */
#ifndef RILL_STORAGE_BATCH_HDR_H
#define RILL_STORAGE_BATCH_HDR_H

#include <stddef.h>
#include <stdint.h>

#include "common/crc32c.h"
#include "common/endian.h"

enum {
    RILL_BATCH_BASE_OFFSET = 0,
    RILL_BATCH_LENGTH = 8,
    RILL_BATCH_LEADER_EPOCH = 12,
    RILL_BATCH_MAGIC = 16,
    RILL_BATCH_CRC = 17,
    RILL_BATCH_ATTRS = 21,
    RILL_BATCH_LAST_DELTA = 23,
    RILL_BATCH_BASE_TS = 27,
    RILL_BATCH_MAX_TS = 35,
    RILL_BATCH_PID = 43,
    RILL_BATCH_EPOCH = 51,
    RILL_BATCH_BASE_SEQ = 53,
    RILL_BATCH_COUNT = 57,
    RILL_BATCH_HDR_LEN = 61,      /* RECORDS_OFFSET: first record byte */
    RILL_BATCH_LOG_OVERHEAD = 12, /* baseOffset + batchLength */
};

/* Attribute bits (DefaultRecordBatch masks). */
#define RILL_BATCH_ATTR_COMPRESSION 0x07
#define RILL_BATCH_ATTR_LOG_APPEND_TIME 0x08
#define RILL_BATCH_ATTR_TRANSACTIONAL 0x10
#define RILL_BATCH_ATTR_CONTROL 0x20

typedef struct rill_batch_hdr {
    int64_t base_offset;
    int64_t size; /* whole batch in bytes: 12 + batchLength */
    int32_t leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attrs;
    int32_t last_delta; /* lastOffsetDelta: the batch spans base_offset..base_offset+last_delta */
    int64_t base_ts;
    int64_t max_ts;
    int64_t pid; /* producerId, -1 when not idempotent */
    int16_t epoch;
    int32_t base_seq;
    int32_t count;
} rill_batch_hdr;

/*
 * Decodes the header at p (RILL_BATCH_HDR_LEN readable bytes) and checks the framing that
 * storage depends on: batchLength covers at least the header, magic is 2, lastOffsetDelta
 * is not negative.  Returns 0, or -1 when these bytes cannot be a v2 batch.  The CRC is
 * checked separately (rill__batch_crc_ok) because it needs the whole batch.
 */
static inline int rill__batch_hdr_get(const uint8_t *p, rill_batch_hdr *h) {
    int32_t blen = (int32_t)rill__ld32(p + RILL_BATCH_LENGTH);
    h->base_offset = (int64_t)rill__ld64(p + RILL_BATCH_BASE_OFFSET);
    h->size = (int64_t)RILL_BATCH_LOG_OVERHEAD + blen;
    h->leader_epoch = (int32_t)rill__ld32(p + RILL_BATCH_LEADER_EPOCH);
    h->magic = (int8_t)p[RILL_BATCH_MAGIC];
    h->crc = rill__ld32(p + RILL_BATCH_CRC);
    h->attrs = (int16_t)rill__ld16(p + RILL_BATCH_ATTRS);
    h->last_delta = (int32_t)rill__ld32(p + RILL_BATCH_LAST_DELTA);
    h->base_ts = (int64_t)rill__ld64(p + RILL_BATCH_BASE_TS);
    h->max_ts = (int64_t)rill__ld64(p + RILL_BATCH_MAX_TS);
    h->pid = (int64_t)rill__ld64(p + RILL_BATCH_PID);
    h->epoch = (int16_t)rill__ld16(p + RILL_BATCH_EPOCH);
    h->base_seq = (int32_t)rill__ld32(p + RILL_BATCH_BASE_SEQ);
    h->count = (int32_t)rill__ld32(p + RILL_BATCH_COUNT);
    if (blen < RILL_BATCH_HDR_LEN - RILL_BATCH_LOG_OVERHEAD || h->magic != 2 || h->last_delta < 0)
        return -1;
    return 0;
}

/* The CRC-32C covers attributes..end of batch; `b` holds the whole batch of `size` bytes. */
static inline int rill__batch_crc_ok(const uint8_t *b, size_t size) {
    return size >= RILL_BATCH_HDR_LEN &&
           rill__crc32c(0, b + RILL_BATCH_ATTRS, size - RILL_BATCH_ATTRS) ==
               rill__ld32(b + RILL_BATCH_CRC);
}

/* Last sequence number of a batch: base + delta, wrapping past INT32_MAX to 0 as Kafka does. */
static inline int32_t rill__batch_last_seq(int32_t base_seq, int32_t last_delta) {
    if (base_seq < 0)
        return base_seq;
    int64_t s = (int64_t)base_seq + last_delta;
    return (int32_t)(s > INT32_MAX ? s - INT32_MAX - 1 : s);
}

static inline int rill__batch_is_idempotent(const rill_batch_hdr *h) {
    return h->pid >= 0 && !(h->attrs & RILL_BATCH_ATTR_CONTROL);
}

#endif
