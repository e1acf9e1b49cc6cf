/*
 * log.h -- one partition's log: append, fetch, ListOffsets, roll, retention, flush.
 *
 * On disk a log is a directory `<data-dir>/<topic>-<partition>/` holding segments named by
 * base offset (segment.h, index.h), producer-state snapshots (producer_state.h) and a
 * `checkpoint` file (recovery point + log start offset).  Record batches are stored
 * exactly as producers sent them, with baseOffset rewritten to the assigned offset.
 *
 * Offsets:
 *   log start offset <= high watermark <= log end offset (LEO)
 *   - LEO: the offset the next appended record gets.
 *   - flushed offset: everything below it is on stable storage (fdatasync'd).
 *   - high watermark (HW): what fetches and ListOffsets may expose.  With one replica it
 *     is the LEO (Kafka); with config.hw_flushed it is the flushed offset, so a consumer
 *     never sees a record that a power loss could take back.
 *
 * Durability model (group commit).  rill__log_append() writes to the OS (write(2)); the
 * data then survives a crash of the process but not of the machine.  rill__log_flush()
 * makes everything appended so far durable and returns the flushed offset: a server
 * appends many produce requests, calls flush once, and acknowledges every acks=all
 * request whose last offset is below the flushed offset.  The flush can also be split
 * (flush_begin / flush_run / flush_end) so the fdatasync runs on another thread while the
 * event loop keeps appending; only flush_run may be called off the log's thread.
 * `flush.messages` / `flush.ms` are a policy the owner applies with rill__log_flush_due().
 *
 * Crash safety: see recovery.c.  A log opened after an unclean shutdown validates (length,
 * magic, CRC-32C, offset continuity) every batch from the recovery point on, truncates at
 * the first bad byte and rebuilds indexes and producer state, so it never serves a batch
 * that was not validated.
 *
 * Threading: a rill_log is used from one thread (the broker's event loop), except
 * rill__log_flush_run() and the fd in a rill_log_read, which are safe elsewhere while
 * their references are held.
 */
#ifndef RILL_STORAGE_LOG_H
#define RILL_STORAGE_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "broker/storage/log_config.h"
#include "broker/storage/producer_state.h"
#include "rill.h"

typedef struct rill_log rill_log;
struct rill_segment;

/* rill__log_open flags. */
enum {
    /*
     * The previous shutdown was clean (rill_storage knows from its marker file): index
     * files and the log end are trusted after sanity checks, and no segment is rescanned.
     */
    RILL_LOG_OPEN_CLEAN = 1,
};

/*
 * Opens (creating it if needed) the partition log in `dir`, recovering as described above.
 * cfg is copied.  Returns 0 and *out, or RILL_ERR_KAFKA_STORAGE_ERROR (details logged to
 * cfg->logger).
 */
rill_err_t rill__log_open(const char *dir, const rill_log_config *cfg, int flags, rill_log **out);
/*
 * Clean close: flushes, writes the active segment's indexes, a producer snapshot and the
 * checkpoint, then frees.  Returns 0 when all of that reached stable storage, else
 * RILL_ERR_KAFKA_STORAGE_ERROR (the log is freed either way; the next open must then not
 * be told the shutdown was clean).
 */
rill_err_t rill__log_close(rill_log *log);
/* Frees without any of the clean-close work: what a crash leaves behind (tests). */
void rill__log_abandon(rill_log *log);
/* Replaces the config (AlterConfigs); takes effect on the next append/retention pass. */
void rill__log_set_config(rill_log *log, const rill_log_config *cfg);
const rill_log_config *rill__log_config(const rill_log *log);
const char *rill__log_dir(const rill_log *log);

/* ---- append ----------------------------------------------------------------------- */

typedef struct rill_log_append_info {
    int64_t base_offset;     /* offset of the first record appended (or of the original) */
    int64_t last_offset;     /* offset of the last record */
    int64_t log_append_time; /* the time written when LogAppendTime applies, else -1 */
    int64_t log_start_offset;
    int32_t batches; /* batches appended (0 for a duplicate) */
    int duplicate;   /* an idempotent retry: nothing was written, offsets are the
                      * original ones; answer the producer with success */
} rill_log_append_info;

/*
 * Appends `len` bytes of one or more whole v2 record batches that the caller has already
 * validated (framing and CRC-32C).  Storage assigns offsets by rewriting each baseOffset
 * in place in `batches` (and partitionLeaderEpoch to 0; neither is covered by the CRC),
 * with LogAppendTime also rewrites maxTimestamp and the timestamp-type attribute and
 * recomputes the CRC, then writes everything with one write(2).
 *
 * Checks (errors leave the log unchanged): a batch that is not v2-framed or that overruns
 * `len` -> RILL_ERR_CORRUPT_MESSAGE; a batch larger than max.message.bytes ->
 * RILL_ERR_MESSAGE_TOO_LARGE; larger than segment.bytes -> RILL_ERR_RECORD_LIST_TOO_LARGE;
 * idempotent batches (producerId >= 0): rill__pstate_check's verdict (duplicates succeed
 * with info->duplicate), a negative baseSequence or more than one batch per call when any
 * is idempotent -> RILL_ERR_INVALID_RECORD (Kafka allows one batch per partition in a v2
 * produce); a
 * previous unrecoverable I/O error -> RILL_ERR_KAFKA_STORAGE_ERROR.
 *
 * The segment rolls first when the batches would not fit in segment.bytes, the segment's
 * first batch is older than segment.ms (by its maxTimestamp, as Kafka), or an index is
 * full.  now_ms is the wall clock (LogAppendTime, segment age, flush.ms).
 */
rill_err_t rill__log_append(rill_log *log, uint8_t *batches, size_t len, int64_t now_ms,
                            rill_log_append_info *info);

/* ---- read ------------------------------------------------------------------------- */

typedef struct rill_log_read {
    int fd;               /* segment file to sendfile() from; -1 when len == 0 */
    int64_t pos;          /* file position of the first byte */
    int64_t len;          /* bytes: whole batches only */
    int64_t first_offset; /* base offset of the first batch (may be below fetch_offset) */
    int64_t next_offset;  /* offset after the last batch read; -1 when len is 0 or unknown */
    int64_t high_watermark;
    int64_t log_start_offset;
    struct rill_segment *seg; /* the reference that keeps fd open: rill__log_read_done() */
} rill_log_read;

/*
 * Where to read for a fetch at fetch_offset: whole batches starting with the batch that
 * contains fetch_offset (the client skips the records before it), as many as fit in
 * max_bytes but always at least one (KIP-74: a batch larger than max_bytes is returned
 * whole so the consumer can make progress; a server filling a multi-partition response
 * may skip a partition whose len exceeds what it has left).  Data comes from one segment
 * only and stops at the high watermark.  fetch_offset == HW (or between HW and LEO)
 * gives len 0.  fetch_offset below the log start or above the LEO ->
 * RILL_ERR_OFFSET_OUT_OF_RANGE (res still has the HW and log start for the response).
 * The fd stays valid, even if retention deletes the segment, until rill__log_read_done().
 */
rill_err_t rill__log_read(rill_log *log, int64_t fetch_offset, int64_t max_bytes,
                          rill_log_read *res);
void rill__log_read_done(rill_log_read *res);

int64_t rill__log_start_offset(const rill_log *log);
int64_t rill__log_end_offset(const rill_log *log);
int64_t rill__log_high_watermark(const rill_log *log);
int64_t rill__log_flushed_offset(const rill_log *log);
/* Bytes in all segments (DescribeLogDirs, retention.bytes). */
int64_t rill__log_size_bytes(const rill_log *log);
size_t rill__log_segment_count(const rill_log *log);
/* Base offset of segment i (0 = oldest), for tests and admin tools. */
int64_t rill__log_segment_base(const rill_log *log, size_t i);

/* ListOffsets special timestamps (ListOffsetsRequest.json). */
#define RILL_LIST_LATEST (-1)
#define RILL_LIST_EARLIEST (-2)
#define RILL_LIST_MAX_TIMESTAMP (-3)

/*
 * ListOffsets.  ts RILL_LIST_EARLIEST -> log start offset, RILL_LIST_LATEST -> high
 * watermark (both with *found_ts -1), RILL_LIST_MAX_TIMESTAMP -> the first record with the
 * largest timestamp (KIP-734), ts >= 0 -> the first record (in offset order) with
 * timestamp >= ts, found through the time index.  When no record qualifies, *offset and
 * *found_ts are -1 (Kafka's UNKNOWN_OFFSET).  Only offsets below the HW are returned.
 */
rill_err_t rill__log_offset_for_time(rill_log *log, int64_t ts, int64_t *offset, int64_t *found_ts);

/* ---- durability ------------------------------------------------------------------- */

/*
 * Makes everything appended so far durable: fdatasync of every segment written since its
 * last sync (normally just the active one) and fsync of the directory when segments were
 * created or deleted.  Returns 0 and the flushed offset (== LEO at the call), or
 * RILL_ERR_KAFKA_STORAGE_ERROR: after a failed fsync the page cache state is unknown, so
 * the log refuses further appends (Kafka takes the log dir offline likewise).
 */
rill_err_t rill__log_flush(rill_log *log, int64_t *flushed);

/*
 * True when the flush policy asks for a flush now: LEO - flushed >= flush.messages, or
 * unflushed data older than flush.ms, or (with `sealed` non-zero) rolled segments still
 * unsynced -- the latter is what the storage tick flushes even without a policy, as Kafka
 * flushes a segment after rolling it, so that the recovery point keeps advancing.
 */
int rill__log_flush_due(const rill_log *log, int64_t now_ms, int sealed);

/* A flush split in three for a flusher thread (see the top of this file). */
typedef struct rill_log_flush_job {
    struct rill_segment **segs;
    size_t nseg;
    int dirfd;      /* >= 0 when the directory needs an fsync */
    int64_t upto;   /* offset made durable when the job succeeds */
    int64_t *sizes; /* per segment: bytes covered */
    int run_rc;     /* result of flush_run */
} rill_log_flush_job;

/*
 * Log thread: collects what needs syncing.  With sealed_only, only rolled segments are
 * synced (upto = the active segment's base).  Returns 0 (job->nseg may be 0 and dirfd -1:
 * nothing to do, but flush_end must still be called) or RILL_ERR_KAFKA_STORAGE_ERROR.
 */
rill_err_t rill__log_flush_begin(rill_log *log, int sealed_only, rill_log_flush_job *job);
/* Any thread: the fdatasync / fsync calls.  Returns 0 or -1 (errno); also in job->run_rc. */
int rill__log_flush_run(rill_log_flush_job *job);
/* Log thread: publishes the flushed offset (or marks the log failed) and frees the job. */
rill_err_t rill__log_flush_end(rill_log *log, rill_log_flush_job *job, int64_t *flushed);

/*
 * Writes the `checkpoint` file (recovery point = flushed offset, log start offset) when it
 * changed since the last write, atomically (tmp + rename).  Only ever-durable offsets are
 * recorded, so any version of the file that survives a crash is safe to use: an older one
 * just makes recovery scan more, a lost one makes it scan everything.  So the periodic
 * call (storage tick, Kafka: every 60 s) passes durable 0 and costs no fsync; delete
 * records, recovery and clean close pass 1 (fsync file and directory), and so does any
 * call while the log start offset lies inside the first segment, where only this file
 * knows it.
 */
rill_err_t rill__log_checkpoint(rill_log *log, int durable);

/* ---- retention -------------------------------------------------------------------- */

/*
 * Applies retention.ms (by each segment's largest timestamp, or its file time when it has
 * none) and retention.bytes when cleanup.policy holds delete, deleting whole segments from
 * the oldest and advancing the log start offset; also deletes segments wholly below the log
 * start offset (whatever the policy: DeleteRecords moved it).  The active
 * segment is never deleted: when it alone is expired by time and not empty, the log rolls
 * first (as Kafka), so the log may become empty while keeping its LEO.  Segments holding
 * offsets at or above the HW are kept.  Returns the number of segments deleted.
 */
size_t rill__log_retain(rill_log *log, int64_t now_ms);

/*
 * DeleteRecords: moves the log start offset up to `offset` (-1 = the high watermark),
 * deleting segments wholly below it, and persists it in the checkpoint.  Returns the new
 * log start offset in *low_watermark; RILL_ERR_OFFSET_OUT_OF_RANGE when offset is above
 * the HW.  A lower offset than the current log start is a no-op.
 */
rill_err_t rill__log_delete_records(rill_log *log, int64_t offset, int64_t *low_watermark);

/* ---- producer state --------------------------------------------------------------- */

const rill_pstate *rill__log_producers(const rill_log *log);
rill_pstate *rill__log_producers_mut(rill_log *log);

#endif
