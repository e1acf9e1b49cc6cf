/*
 * producer_state.h -- idempotent-producer bookkeeping of one partition.
 *
 * Per producer id: the current epoch and the last RILL_PSTATE_BATCHES (5) appended batches
 * (sequence range and offsets).  Kafka keeps five because a producer has at most five
 * requests in flight per partition, so a retry of any of them can be recognised and
 * answered with the offsets it got the first time instead of being appended again.
 *
 * The decision rules follow Kafka's ProducerAppendInfo / ProducerStateEntry:
 *   - same epoch and the exact sequence range of a remembered batch: DUPLICATE, with the
 *     original offsets;
 *   - epoch below the current one: INVALID_PRODUCER_EPOCH;
 *   - new (higher) epoch: the first sequence must be 0, else OUT_OF_ORDER_SEQUENCE_NUMBER;
 *   - same epoch: the first sequence must be last + 1 (0 after INT32_MAX), else
 *     OUT_OF_ORDER_SEQUENCE_NUMBER;
 *   - unknown producer id: Kafka since KIP-360 accepts any sequence (the producer's
 *     records may have been removed by retention).  With `strict_unknown` set a non-zero
 *     first sequence gets UNKNOWN_PRODUCER_ID instead, as Kafka 2.x brokers answered.
 *
 * The state is derived from the log: on open it is rebuilt by replaying the batch headers
 * after the newest usable snapshot (`<20-digit offset>.snapshot`, written on segment roll
 * and clean close).  A snapshot is a cache: it is CRC-checked and simply ignored when bad
 * or when it claims an offset beyond the recovered log end.
 */
#ifndef RILL_STORAGE_PRODUCER_STATE_H
#define RILL_STORAGE_PRODUCER_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "broker/storage/hmap.h"
#include "common/buf.h"
#include "rill.h"

#define RILL_PSTATE_BATCHES 5

typedef struct rill_pstate_batch {
    int32_t first_seq, last_seq;
    int64_t first_offset, last_offset;
} rill_pstate_batch;

typedef struct rill_pstate_entry {
    int64_t pid;
    int16_t epoch;
    uint8_t n;    /* remembered batches, <= RILL_PSTATE_BATCHES */
    uint8_t head; /* ring index of the newest */
    int64_t last_ts;
    rill_pstate_batch b[RILL_PSTATE_BATCHES];
} rill_pstate_entry;

typedef struct rill_pstate {
    rill_hmap map; /* pid (8 bytes, host order) -> rill_pstate_entry* */
    int strict_unknown;
} rill_pstate;

void rill__pstate_init(rill_pstate *ps);
void rill__pstate_free(rill_pstate *ps);
void rill__pstate_clear(rill_pstate *ps);

/* The entry of pid, or NULL. */
const rill_pstate_entry *rill__pstate_get(const rill_pstate *ps, int64_t pid);
/* The newest remembered batch of an entry. */
const rill_pstate_batch *rill__pstate_last(const rill_pstate_entry *e);

typedef enum rill_pstate_verdict {
    RILL_PSTATE_APPEND = 0,
    RILL_PSTATE_DUPLICATE = 1,
} rill_pstate_verdict;

/*
 * Decides what to do with a batch (pid, epoch, first_seq .. last_seq).  Returns
 * RILL_ERR_NO_ERROR with *verdict APPEND or DUPLICATE (then *dup holds the original
 * batch), or the Kafka error: RILL_ERR_INVALID_PRODUCER_EPOCH,
 * RILL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, RILL_ERR_UNKNOWN_PRODUCER_ID.  Changes nothing.
 */
rill_err_t rill__pstate_check(const rill_pstate *ps, int64_t pid, int16_t epoch, int32_t first_seq,
                              int32_t last_seq, rill_pstate_verdict *verdict,
                              rill_pstate_batch *dup);

/*
 * Records an appended batch (after a check, or while replaying the log): a new epoch
 * forgets the old epoch's batches; the oldest of five is dropped.  Returns 0 or -1 (out
 * of memory: the producer is then unknown, which only weakens duplicate detection).
 */
int rill__pstate_update(rill_pstate *ps, int64_t pid, int16_t epoch, int32_t first_seq,
                        int32_t last_seq, int64_t first_offset, int64_t last_offset, int64_t ts);

/* Forgets producers whose last batch timestamp is older than now - expiration_ms. */
size_t rill__pstate_expire(rill_pstate *ps, int64_t now_ms, int64_t expiration_ms);

/* Snapshot bytes for the state as of log offset `offset` (appended to out). */
int rill__pstate_encode(const rill_pstate *ps, int64_t offset, rill_buf *out);
/*
 * Replaces the state with a decoded snapshot; returns 0 and the snapshot's offset, or -1
 * when the bytes are not a valid snapshot (the state is then left empty).
 */
int rill__pstate_decode(rill_pstate *ps, const uint8_t *data, size_t len, int64_t *offset);

#endif
