/*
 * record_batch.h -- Kafka record batches (magic 2): building, checking, reading.
 *
 * Layout (Kafka docs, "Record Batch"; DefaultRecordBatch.java offsets):
 *
 *   0  baseOffset int64          27 baseTimestamp int64
 *   8  batchLength int32         35 maxTimestamp int64
 *  12  partitionLeaderEpoch i32  43 producerId int64
 *  16  magic int8 (= 2)          51 producerEpoch int16
 *  17  crc uint32 (CRC-32C)      53 baseSequence int32
 *  21  attributes int16          57 recordsCount int32
 *  23  lastOffsetDelta int32     61 records...
 *
 * batchLength counts the bytes after itself; the CRC covers attributes to
 * the end, so baseOffset and partitionLeaderEpoch can be rewritten without
 * it.  When compressed, only the records region is, and the 61-byte header
 * stays plain.  Each record is
 *
 *   length varint, attributes int8, timestampDelta varlong, offsetDelta
 *   varint, keyLength varint (-1 null), key, valueLength varint (-1 null),
 *   value, headerCount varint, headers: [keyLength varint, key,
 *   valueLength varint (-1 null), value]
 *
 * The producer encodes each record straight into its partition's open
 * batch (rill_batch_builder) with no allocation per record.  The broker
 * validates a produced batch (rill__batch_validate) before appending it
 * as-is; consumers and recovery walk RECORDS blobs (rill_batch_walk) and
 * iterate records as views (rill_record_iter) into the input or into a
 * reusable decompression buffer (rill_batch_reader).
 */
#ifndef RILL_PROTO_RECORD_BATCH_H
#define RILL_PROTO_RECORD_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "proto/compress.h"
#include "proto/reader.h"
#include "rill.h"

#define RILL_BATCH_HEADER_SIZE 61
#define RILL_RECORDS_LOG_OVERHEAD 12 /* baseOffset + batchLength */
#define RILL_BATCH_MAGIC_V2 2

/* Byte offsets of the header fields. */
#define RILL_BATCH_OFF_BASE_OFFSET 0
#define RILL_BATCH_OFF_LENGTH 8
#define RILL_BATCH_OFF_LEADER_EPOCH 12
#define RILL_BATCH_OFF_MAGIC 16
#define RILL_BATCH_OFF_CRC 17
#define RILL_BATCH_OFF_ATTRIBUTES 21
#define RILL_BATCH_OFF_LAST_OFFSET_DELTA 23
#define RILL_BATCH_OFF_BASE_TIMESTAMP 27
#define RILL_BATCH_OFF_MAX_TIMESTAMP 35
#define RILL_BATCH_OFF_PRODUCER_ID 43
#define RILL_BATCH_OFF_PRODUCER_EPOCH 51
#define RILL_BATCH_OFF_BASE_SEQUENCE 53
#define RILL_BATCH_OFF_RECORDS_COUNT 57

/* Attribute bits. */
#define RILL_BATCH_ATTR_CODEC_MASK 0x07
#define RILL_BATCH_ATTR_LOG_APPEND_TIME 0x08
#define RILL_BATCH_ATTR_TRANSACTIONAL 0x10
#define RILL_BATCH_ATTR_CONTROL 0x20
#define RILL_BATCH_ATTR_DELETE_HORIZON 0x40

/*
 * Offsets and timestamps from the wire are added and subtracted with
 * two's-complement wrapping: hostile values must not be undefined behaviour.
 */
static inline int64_t rill__add64_wrap(int64_t a, int64_t b) {
    return (int64_t)((uint64_t)a + (uint64_t)b);
}
static inline int64_t rill__sub64_wrap(int64_t a, int64_t b) {
    return (int64_t)((uint64_t)a - (uint64_t)b);
}

/* ---------------------------------------------------------------- building */

typedef struct rill_batch_builder {
    rill_buf buf; /* header (61 bytes, filled by finish) + records */
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int32_t base_sequence;
    int32_t count; /* records appended */
    int16_t producer_epoch;
    int16_t attributes; /* transactional bit; codec added by finish */
    /*
     * CRC-32C of the first rec_crc_len bytes after the header, so that
     * sealing (and re-sealing for new sequence numbers) reads 40 header
     * bytes, not the batch.  With crc_on_append, each append extends it while
     * the record is still in cache -- on the application's thread in the
     * producer, not the I/O thread that finishes and sends; finish computes
     * it when it does not cover the records (or they were compressed).
     */
    uint32_t rec_crc;
    size_t rec_crc_len;
    bool crc_on_append;
} rill_batch_builder;

/* max_size bounds the batch in bytes (0: no bound beyond memory). */
void rill__batch_builder_init(rill_batch_builder *bb, size_t max_size);
void rill__batch_builder_free(rill_batch_builder *bb);

/*
 * Starts a batch, dropping whatever the builder held (its memory is kept).
 * base_timestamp is the first record's timestamp (deltas are relative to
 * it).  producer_id -1 / epoch -1 / base_sequence -1 for a plain producer.
 * Returns 0 or RILL_ERR_NO_MEMORY.
 */
int rill__batch_begin(rill_batch_builder *bb, int64_t base_timestamp, int64_t producer_id,
                      int16_t producer_epoch, int32_t base_sequence, int transactional);

/*
 * Bytes rill__batch_append would add for this record, so the caller can
 * check batch.size and message.max.bytes first.  klen / vlen -1 mean null.
 */
size_t rill__batch_record_size(const rill_batch_builder *bb, int64_t timestamp, int32_t klen,
                               int32_t vlen, const rill_header_t *headers, size_t nheaders);

/*
 * Appends one record.  key/value may be NULL only with length -1 (null);
 * a header with a NULL value has a null value.  Returns 0,
 * RILL_ERR_MSG_SIZE_TOO_LARGE when the batch would pass its max_size (the
 * builder is unchanged), or RILL_ERR_NO_MEMORY.
 */
int rill__batch_append(rill_batch_builder *bb, int64_t timestamp, const void *key, int32_t klen,
                       const void *value, int32_t vlen, const rill_header_t *headers,
                       size_t nheaders);

static inline int32_t rill__batch_count(const rill_batch_builder *bb) { return bb->count; }
/* Bytes of the batch so far (header included, uncompressed). */
static inline size_t rill__batch_size(const rill_batch_builder *bb) { return bb->buf.len; }

/*
 * Sets the producer id, epoch and base sequence of a finished batch and
 * re-seals it from the records' CRC kept by finish (no pass over the
 * records).  Returns 0, or RILL_ERR_INVALID_ARG if bb holds no finished batch.
 */
int rill__batch_builder_set_producer(rill_batch_builder *bb, int64_t producer_id, int16_t epoch,
                                     int32_t base_sequence);

/*
 * Completes the batch in bb->buf: compresses the records with `codec`
 * (level: RILL_LEVEL_DEFAULT or the codec's; cctx may be NULL), then fills
 * the header (baseOffset 0, partitionLeaderEpoch -1, magic 2, ...) and the
 * CRC.  The codec is kept even when compression does not shrink the
 * records, as Kafka clients do.  With a codec, `scratch` receives the
 * compressed batch and is then *exchanged* with bb->buf (no copy): after
 * the call bb->buf holds the batch and scratch holds the old plain buffer,
 * ready for reuse.  Returns 0, RILL_ERR_INVALID_ARG (no records),
 * RILL_ERR_UNSUPPORTED_COMPRESSION_TYPE or RILL_ERR_NO_MEMORY; on error
 * the builder still holds the plain records.
 */
int rill__batch_finish(rill_batch_builder *bb, int codec, int level, rill_codec_ctx *cctx,
                       rill_buf *scratch);

/* ---------------------------------------------------- rewriting a batch */

/*
 * Sets producer id, epoch and base sequence of a finished batch (the
 * producer assigns sequences at send time and may bump the epoch on a
 * retry), and recomputes the CRC.  Returns 0, or RILL_ERR_INVALID_ARG when
 * data/len is not a magic-2 batch.
 */
int rill__batch_set_producer(uint8_t *data, size_t len, int64_t producer_id, int16_t epoch,
                             int32_t base_sequence);
/* baseOffset and partitionLeaderEpoch are outside the CRC: no recompute. */
void rill__batch_set_base_offset(uint8_t *data, int64_t base_offset);
void rill__batch_set_leader_epoch(uint8_t *data, int32_t epoch);
/*
 * The broker's message.timestamp.type=LogAppendTime: sets the timestamp
 * type bit and maxTimestamp (which consumers then use for every record)
 * and recomputes the CRC.  Same returns as rill__batch_set_producer.
 */
int rill__batch_set_log_append_time(uint8_t *data, size_t len, int64_t timestamp);

/* ---------------------------------------------------------------- reading */

typedef struct rill_batch_header {
    int64_t base_offset;
    int32_t batch_length;
    int32_t partition_leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp;
    int64_t max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t record_count;
    size_t size; /* whole batch: 12 + batch_length */
} rill_batch_header;

static inline int rill__batch_codec(const rill_batch_header *h) {
    return h->attributes & RILL_BATCH_ATTR_CODEC_MASK;
}
static inline int rill__batch_is_control(const rill_batch_header *h) {
    return (h->attributes & RILL_BATCH_ATTR_CONTROL) != 0;
}
static inline int rill__batch_is_transactional(const rill_batch_header *h) {
    return (h->attributes & RILL_BATCH_ATTR_TRANSACTIONAL) != 0;
}
static inline int64_t rill__batch_last_offset(const rill_batch_header *h) {
    return rill__add64_wrap(h->base_offset, h->last_offset_delta);
}

/* Results of rill__batch_header_parse (not Kafka error codes). */
enum {
    RILL_BATCH_OK = 0,
    RILL_BATCH_NEED_MORE = 1, /* fewer bytes than the header: normal at a fetch's end */
    RILL_BATCH_OLD_MAGIC = 2, /* a v0/v1 message (msgset_legacy.h): base_offset, size, magic */
    RILL_BATCH_CORRUPT = -1,
};

/*
 * Parses the fixed header at p (n bytes available).  Checks what the
 * header alone can tell: batchLength large enough for a header, magic,
 * a non-negative record count.  It does not require the whole batch to be
 * present (h->size says how much that is) and does not check the CRC.
 */
int rill__batch_header_parse(const uint8_t *p, size_t n, rill_batch_header *h);

/* CRC-32C over attributes..end equals the header's crc (needs h->size bytes). */
int rill__batch_verify_crc(const uint8_t *p, const rill_batch_header *h);

/*
 * Reusable state for reading batches: decompression buffer and codec
 * contexts, and the bound on a compressed batch's inflated records (a
 * decompression bomb gets RILL_ERR_MESSAGE_TOO_LARGE, not memory).
 */
typedef struct rill_batch_reader {
    rill_buf scratch;
    rill_codec_ctx codecs;
    size_t max_uncompressed;
} rill_batch_reader;

void rill__batch_reader_init(rill_batch_reader *r, size_t max_uncompressed);
void rill__batch_reader_free(rill_batch_reader *r);

/*
 * The records region of the batch at p (h from rill__batch_header_parse,
 * h->size bytes present): a view into p when uncompressed, else the
 * records inflated into r->scratch (valid until the next call with r).
 * Returns 0, RILL_ERR_UNSUPPORTED_COMPRESSION_TYPE, RILL_ERR_CORRUPT_MESSAGE,
 * RILL_ERR_MESSAGE_TOO_LARGE or RILL_ERR_NO_MEMORY.
 */
int rill__batch_records(rill_batch_reader *r, const uint8_t *p, const rill_batch_header *h,
                        const uint8_t **records, size_t *len);

/* Flags for rill__batch_validate. */
#define RILL_VALIDATE_PRODUCE 1 /* the stricter rules for a batch a client produced */

/*
 * Full check of the one batch that must fill exactly p[0..n): what the
 * broker does before appending a produced batch, and recovery before
 * trusting one.  Checks magic 2, batchLength against n, the CRC, the codec,
 * record count against lastOffsetDelta, and every record's framing (inflating
 * compressed records into r->scratch, bounded).  With RILL_VALIDATE_PRODUCE
 * also: count == lastOffsetDelta + 1 > 0 and offset deltas 0, 1, 2...; no
 * control batch; a producer id comes with a sequence.  Returns 0 (h filled)
 * or a Kafka error: CORRUPT_MESSAGE (CRC, framing, truncation),
 * INVALID_RECORD (trailing bytes or a second batch, magic 0/1, inconsistent
 * counts, produce rules), UNSUPPORTED_COMPRESSION_TYPE, MESSAGE_TOO_LARGE
 * (inflates past the reader's bound), or RILL_ERR_NO_MEMORY.
 */
int rill__batch_validate(rill_batch_reader *r, const uint8_t *p, size_t n, int flags,
                         rill_batch_header *h);

/* One record, as views into the records region. */
typedef struct rill_record {
    int64_t offset;    /* base offset + offset delta */
    int64_t timestamp; /* base timestamp + delta; the batch's max under LogAppendTime */
    int64_t timestamp_delta;
    int32_t offset_delta;
    int8_t attributes;
    rill_bytes key;   /* len -1: null */
    rill_bytes value; /* len -1: null */
    int32_t header_count;
    const uint8_t *headers; /* header_count encoded headers (rill_header_iter) */
    size_t headers_len;
} rill_record;

typedef struct rill_record_iter {
    const uint8_t *p, *end;
    int32_t left; /* records the batch still promises */
    int64_t base_offset, base_timestamp;
    int log_append_time;
    int64_t max_timestamp;
    int err; /* after -1: RILL_ERR_CORRUPT_MESSAGE */
} rill_record_iter;

/* Iterates the records region (from rill__batch_records) of batch h. */
void rill__record_iter_init(rill_record_iter *it, const uint8_t *records, size_t len,
                            const rill_batch_header *h);
/*
 * Next record: 1 and *rec filled, 0 at the end (exactly recordsCount
 * records and no bytes left), or -1 with it->err = RILL_ERR_CORRUPT_MESSAGE
 * when a length does not fit, a record is malformed, or the count does not
 * match (and -1 again on every later call).  Every record is fully checked
 * (headers included) before it is returned.
 */
int rill__record_iter_next(rill_record_iter *it, rill_record *rec);

typedef struct rill_header_iter {
    rill_rd r;
    int32_t left;
} rill_header_iter;

void rill__header_iter_init(rill_header_iter *hi, const rill_record *rec);
/* 1 and the header (name never null; value len -1: null), or 0 at the end. */
int rill__header_iter_next(rill_header_iter *hi, rill_str *name, rill_bytes *value);

/*
 * A control record's type (key: version int16, type int16): 0 abort,
 * 1 commit, or -1 when the key is not a control key.
 */
int rill__control_record_type(const rill_record *rec);

/* ----------------------------------------- walking a RECORDS blob */

/* Results of rill__batch_walk_next. */
enum {
    RILL_WALK_END = 0,     /* no bytes left */
    RILL_WALK_BATCH = 1,   /* a whole magic-2 batch (CRC not checked) */
    RILL_WALK_LEGACY = 2,  /* a whole v0/v1 message entry: read it with msgset_legacy.h */
    RILL_WALK_PARTIAL = 3, /* the remaining bytes are an incomplete entry (normal in a fetch) */
    RILL_WALK_CORRUPT = -1,
};

/* Several concatenated entries, as a fetch response's RECORDS or a log segment. */
typedef struct rill_batch_walk {
    const uint8_t *p, *end;
} rill_batch_walk;

static inline void rill__batch_walk_init(rill_batch_walk *w, const uint8_t *data, size_t len) {
    w->p = data;
    w->end = data + len;
}
/*
 * Next entry: *entry and *len cover it whole and h is parsed (for a legacy
 * entry only base_offset, magic and size).  After PARTIAL or CORRUPT the
 * walk stays where it is (w->p is the first byte not consumed).
 */
int rill__batch_walk_next(rill_batch_walk *w, const uint8_t **entry, size_t *len,
                          rill_batch_header *h);

#endif
