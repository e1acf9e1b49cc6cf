/*
 * offsets.h -- committed consumer-group offsets, durable across restarts.
 *
 * Kafka keeps these in the compacted topic __consumer_offsets; a single node needs less:
 * one append-only file, `<data-dir>/.meta/offsets.log`, of CRC-framed records (commit,
 * delete one partition's offset, delete a group), replayed into a hash table on open and
 * rewritten with only the live entries when it has grown to several times their size
 * (compaction: write tmp, fsync, rename, fsync dir).  A torn last record (crash during a
 * write) fails its CRC and is cut off.
 *
 * Durability follows the log's group commit: commit/delete queue a record and mark the
 * store dirty; rill__offsets_sync() writes the queued records with one write(2) and
 * fdatasyncs once for all of them.  The
 * server answers OffsetCommit after the sync that covers it (Kafka answers after the
 * offsets topic is replicated, broker_anchors.md §4.3 point 5).
 *
 * Strings passed in are copied.  Entry pointers returned stay valid until the next call
 * that modifies the store.  Not thread-safe, except that rill__offsets_sync_run may run on
 * another thread while the owner goes on.
 */
#ifndef RILL_STORAGE_OFFSETS_H
#define RILL_STORAGE_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/log.h"
#include "rill.h"

/* Kafka's offset.metadata.max.bytes default. */
#define RILL_OFFSETS_METADATA_MAX 4096

typedef struct rill_offsets rill_offsets;

typedef struct rill_offset_entry {
    int64_t offset;
    int32_t leader_epoch; /* -1 when unknown */
    char *metadata;       /* NULL for a null metadata string */
    int64_t commit_ts;    /* ms */
} rill_offset_entry;

/* Opens (creating) the store file at path and replays it. */
rill_err_t rill__offsets_open(const char *path, const rill_logger *lg, rill_offsets **out);
/* Syncs and frees.  Returns RILL_ERR_KAFKA_STORAGE_ERROR when the final sync failed. */
rill_err_t rill__offsets_close(rill_offsets *o);

/*
 * Records a commit (queued in memory; written and fdatasync'd by rill__offsets_sync).
 * Errors: RILL_ERR_OFFSET_METADATA_TOO_LARGE, RILL_ERR_INVALID_GROUP_ID (empty group),
 * RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION (empty or over-long topic name, negative partition),
 * RILL_ERR_KAFKA_STORAGE_ERROR.
 */
rill_err_t rill__offsets_commit(rill_offsets *o, const char *group, const char *topic,
                                int32_t partition, int64_t offset, int32_t leader_epoch,
                                const char *metadata, int64_t commit_ts);
/* The committed offset, or NULL. */
const rill_offset_entry *rill__offsets_get(const rill_offsets *o, const char *group,
                                           const char *topic, int32_t partition);

typedef void(rill_offsets_cb)(void *opaque, const char *topic, int32_t partition,
                              const rill_offset_entry *e);
/* Calls cb for every committed offset of group (unspecified order); returns the count. */
size_t rill__offsets_foreach(const rill_offsets *o, const char *group, rill_offsets_cb *cb,
                             void *opaque);
/* True when the group has committed offsets. */
int rill__offsets_has_group(const rill_offsets *o, const char *group);
/* Calls cb for every group with committed offsets; returns the count. */
size_t rill__offsets_groups(const rill_offsets *o, void (*cb)(void *opaque, const char *group),
                            void *opaque);

/* OffsetDelete for one partition; a missing entry is not an error. */
rill_err_t rill__offsets_delete(rill_offsets *o, const char *group, const char *topic,
                                int32_t partition);
/* DeleteGroups: RILL_ERR_GROUP_ID_NOT_FOUND when it has no offsets. */
rill_err_t rill__offsets_delete_group(rill_offsets *o, const char *group);
/* A deleted topic's offsets go with it, in every group. */
rill_err_t rill__offsets_delete_topic(rill_offsets *o, const char *topic);

/*
 * Writes the queued records and fdatasyncs, when anything was queued since the last sync.
 * Safe while a background job is out (below): it writes the job's records first, keeping
 * the file in commit order, and waits for the job's thread if that is writing.
 */
rill_err_t rill__offsets_sync(rill_offsets *o);
/*
 * The same sync in three steps, so that a background thread does the slow part (the
 * broker's flusher) while the owner's thread goes on queuing records:
 *   begin (owner's thread): hands the queued records to the job.  1 when a job started,
 *         0 when nothing is queued (or a job is already out), -1 when the owner must call
 *         rill__offsets_sync instead (records of a failed job could not be re-queued).
 *   run (any thread): writes them and fdatasyncs.
 *   end (owner's thread, after run): the job's result.  On failure its records are queued
 *         again ahead of the newer ones, for the next sync to retry.
 * Compaction is skipped while a job is out.
 */
int rill__offsets_sync_begin(rill_offsets *o);
/* True between begin and end. */
int rill__offsets_busy(const rill_offsets *o);
void rill__offsets_sync_run(rill_offsets *o);
rill_err_t rill__offsets_sync_end(rill_offsets *o);
int rill__offsets_dirty(const rill_offsets *o);
/* Rewrites the file with live entries only when it is worth it (or always with force). */
rill_err_t rill__offsets_compact(rill_offsets *o, int force);
/* Current file size in bytes (tests, stats). */
int64_t rill__offsets_file_size(const rill_offsets *o);

/*
 * The record format, exposed for the fuzz target: decodes the records in data and applies
 * them to o (in memory only).  Returns the length of the valid prefix.
 */
size_t rill__offsets_replay(rill_offsets *o, const uint8_t *data, size_t len);
/* An in-memory store without a file (fuzzing). */
rill_offsets *rill__offsets_new_memory(void);

#endif
