/*
 * msgset_legacy.h -- reading old MessageSets (magic 0 and 1, Kafka < 0.11).
 *
 * A consumer may still meet data written before record batches existed
 * (an old topic on a broker that never rewrote it).  Layout (Kafka docs,
 * "Message sets", the pre-0.11 format):
 *
 *   MessageSet => [offset int64, message_size int32, Message]
 *   Message    => crc uint32 (zlib CRC-32 of magic..end, not CRC-32C),
 *                 magic int8, attributes int8 (bits 0-2 codec: 0 none,
 *                 1 gzip, 2 snappy, 3 lz4; bit 3 LogAppendTime, magic 1),
 *                 timestamp int64 (magic 1 only), key bytes, value bytes
 *                 (int32 lengths, -1 null)
 *
 * A compressed message is a wrapper whose value is a compressed inner
 * MessageSet.  Under magic 1 the inner offsets are relative (0..n-1) and
 * the wrapper carries the absolute offset of the last inner message; under
 * magic 0 the inner offsets are absolute.  Under LogAppendTime the
 * wrapper's timestamp applies to every inner message.  Kafka 0.8/0.9 (magic
 * 0) wrote LZ4 frames with a wrong header checksum (KAFKA-3160), which is
 * repaired before decoding.
 *
 * The iterator yields the same rill_record views as record batches
 * (no headers; timestamp -1 under magic 0), so a consumer needs one
 * delivery path.  Only reading is supported: rill never writes magic 0/1.
 */
#ifndef RILL_PROTO_MSGSET_LEGACY_H
#define RILL_PROTO_MSGSET_LEGACY_H

#include <stddef.h>
#include <stdint.h>

#include "proto/record_batch.h"

typedef struct rill_legacy_iter {
    rill_batch_walk outer; /* the caller's bytes */
    rill_batch_reader *rd; /* inflates wrappers into rd->scratch */
    rill_batch_walk inner; /* the current wrapper's inner set (in rd->scratch) */
    int in_wrapper;
    int8_t wrapper_magic;
    int wrapper_log_append_time;
    int64_t wrapper_timestamp;
    int64_t inner_base; /* added to inner offsets: 0 under magic 0 */
    int partial;        /* the input ended inside an entry (normal in a fetch) */
    int err;            /* after -1: why (a rill_err_t) */
} rill_legacy_iter;

/*
 * Iterates the MessageSet entries in data[0..len) (for instance one
 * RILL_WALK_LEGACY entry, or a whole v0/v1 RECORDS blob).  rd supplies the
 * decompression buffer and its bound.
 */
void rill__legacy_iter_init(rill_legacy_iter *it, rill_batch_reader *rd, const uint8_t *data,
                            size_t len);

/*
 * Next message: 1 and *rec filled (views into the input or into
 * rd->scratch, valid until the next call), 0 at the end (it->partial says
 * whether the input ended inside an entry), or -1 with it->err set to
 * RILL_ERR_CORRUPT_MESSAGE (CRC, framing, a magic-2 entry, nested
 * compression), RILL_ERR_UNSUPPORTED_COMPRESSION_TYPE,
 * RILL_ERR_MESSAGE_TOO_LARGE (inflates past rd's bound) or
 * RILL_ERR_NO_MEMORY.  After an error every call returns -1.
 */
int rill__legacy_iter_next(rill_legacy_iter *it, rill_record *rec);

#endif
