/*
 * fetch_pos.h -- the consumer's per-partition fetch position: the states a
 * partition goes through (tp_state, consumer_int.h), the decisions that move
 * it, and the scan of a fetch answer's records that says how far it moves.
 *
 *   assign / seek / committed lookup: rill__tp_start(offset)
 *       offset >= 0 ........................ ACTIVE at offset
 *       BEGINNING / END .................... NEED_RESET (a ListOffsets)
 *       STORED / INVALID ................... NEED_COMMITTED (an OffsetFetch,
 *                                            consumer_offsets.c)
 *   NEED_RESET, ListOffsets answer ......... ACTIVE at its offset; an error
 *                                            backs off and retries
 *   ACTIVE, Fetch answer
 *       records ............................ ACTIVE past the last whole batch
 *                                            taken: records before the position
 *                                            are skipped, control batches (and
 *                                            under read_committed, aborted ones)
 *                                            are passed over, not delivered
 *       CRC or framing failure ............. ERROR at the bad batch, with an
 *                                            error event: none of its records
 *                                            delivered, and never skipped
 *       OFFSET_OUT_OF_RANGE ................ auto.offset.reset: earliest or
 *                                            latest -> NEED_RESET; none -> ERROR
 *                                            with an error event
 *       leader / epoch errors .............. backoff and a metadata refresh
 *   ERROR .................................. until a seek starts it again
 *
 * Every start bumps tp->version, and an answer applies only to the version
 * and offset it was asked for: the answer to a fetch sent before a seek is
 * dropped, as are messages queued before it (consumer.c).  A paused
 * partition keeps its state and position and is left out of fetches.
 *
 * Nothing here sends or receives: consumer_fetch.c sends the requests and
 * does what the returned actions say, so that tests/unit/test_fetch_position.c
 * can drive these functions on a consumer without an I/O thread.  Called on
 * the I/O thread only.
 */
#ifndef RILL_CLIENT_FETCH_POS_H
#define RILL_CLIENT_FETCH_POS_H

#include <stdbool.h>
#include <stdint.h>

#include "client/consumer_int.h"
#include "proto/api_fetch.h"

/* What the fetcher should send for a partition now. */
typedef enum {
    RILL_FPOS_IDLE = 0,     /* nothing: unassigned, busy, backing off, paused, stopped */
    RILL_FPOS_LIST_OFFSETS, /* NEED_RESET: ask the leader where earliest/latest is */
    RILL_FPOS_FETCH,        /* ACTIVE: fetch from tp->fetch_pos */
} rill_fpos_op;

rill_fpos_op rill__fpos_want(const ctp *tp, int64_t now);

/* Actions an answer leaves to the caller (bit flags). */
#define RILL_FPOS_REFRESH 1 /* refresh metadata: the leader moved or is unknown */

/*
 * Applies auto.offset.reset after `why` (fetch offset out of range):
 * earliest / latest -> NEED_RESET, none -> ERROR with an error event.
 */
void rill__fpos_reset(rill_consumer_t *c, ctp *tp, const char *why);

/*
 * One partition's ListOffsets answer, for a lookup sent at `version` (err:
 * its error code, or a local error when the request failed).  Starts tp at
 * offset, or backs it off (with an error event when the error is not
 * retriable).  Ignored unless tp is still assigned, NEED_RESET and at that
 * version: a seek or revoke meanwhile made the answer stale.  Returns
 * actions.
 */
int rill__fpos_reset_answer(rill_consumer_t *c, ctp *tp, int32_t version, int16_t err,
                            int64_t offset, int64_t now);

/* Does the answer to a fetch of tp sent at (version, offset) still apply? */
bool rill__fpos_current(const ctp *tp, int32_t version, int64_t offset);

/*
 * tp's part of a Fetch answer, for a fetch sent at (version, offset).  rp
 * NULL means the request failed (backoff).  Records are delivered as one
 * chunk of messages: when rb is given they point into it (the answer's
 * receive buffer, shared, taken from the connection), otherwise they are
 * copied.  Dropped whole when the answer is stale (rill__fpos_current).
 * Returns actions.
 */
int rill__fpos_fetch_answer(rill_consumer_t *c, ctp *tp, int32_t version, int64_t offset,
                            const rill_fetch_resp_partition *rp, rill_rbuf *rb, int64_t now);

/*
 * Where the records p[0..len) take a partition fetching from pos if every
 * batch in them passes its checks: one past the last whole batch, or pos
 * when none ends past it.  Reads batch headers only, so the fetcher can ask
 * for the next records before these are checked and decoded.  -1 when the
 * headers cannot tell (v0/v1 message sets, broken framing).
 */
int64_t rill__fpos_records_end(const uint8_t *p, size_t len, int64_t pos);

#endif
