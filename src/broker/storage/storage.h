/*
 * storage.h -- everything rill-broker keeps on disk, behind one handle.
 *
 * Layout of --data-dir:
 *   .lock                      flock()ed while a broker uses the directory (holds its pid)
 *   .meta/topics/<name>.topic  topic registry (topics.h)
 *   .meta/offsets.log          committed group offsets (offsets.h)
 *   .meta/clean_shutdown       present only between a clean close and the next open
 *   .meta/trash/               partition directories being deleted
 *   <topic>-<partition>/       one partition log (log.h)
 *
 * The server holds one rill_storage, looks partition logs up with rill__storage_log(),
 * appends / reads / flushes them directly (log.h documents group commit), and calls
 * rill__storage_tick() from its event loop (once a second or so) for the periodic work:
 * flush policy (flush.messages / flush.ms) and syncing rolled segments (unless
 * flush_in_tick is 0), recovery-point checkpoints, retention, producer-id expiry, offsets
 * compaction.
 *
 * Ownership: rill_log pointers returned stay valid until that topic is deleted, or its
 * partitions change, or the storage is closed.  Not thread-safe (one event loop thread);
 * see log.h for the parts a flusher thread may run.
 */
#ifndef RILL_STORAGE_STORAGE_H
#define RILL_STORAGE_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "broker/storage/log.h"
#include "broker/storage/log_config.h"
#include "broker/storage/offsets.h"
#include "broker/storage/topics.h"
#include "common/log.h"
#include "rill.h"

typedef struct rill_storage rill_storage;

typedef struct rill_storage_config {
    const char *data_dir;
    rill_log_config log_defaults;        /* broker-level log.* settings */
    int64_t retention_check_interval_ms; /* log.retention.check.interval.ms: 300000 */
    int64_t checkpoint_interval_ms;      /* log.flush.offset.checkpoint.interval.ms: 60000 */
    int64_t producer_id_expiration_ms;   /* producer.id.expiration.ms: 86400000 */
    int strict_unknown_producer;         /* see producer_state.h; default 0 */
    /*
     * 1 (default): rill__storage_tick() applies flush.messages / flush.ms and syncs rolled
     * segments itself, with synchronous fsyncs on the calling thread.  A server that runs
     * its own flusher thread (log.h flush_begin/run/end) sets 0 and does both there.
     */
    int flush_in_tick;
    const rill_logger *logger; /* also used by every log unless set there */
} rill_storage_config;

void rill__storage_config_defaults(rill_storage_config *cfg);

/*
 * Opens data_dir (created if missing): takes the lock, reads the topics, opens every
 * partition (recovering them after an unclean shutdown), removes partition directories
 * no topic claims, and loads committed offsets.  A directory locked by another process
 * fails with RILL_ERR_STATE and a message like "data directory /x is in use by another
 * rill-broker (pid 123)"; other failures return RILL_ERR_KAFKA_STORAGE_ERROR with the
 * reason in err.
 */
rill_err_t rill__storage_open(const rill_storage_config *cfg, rill_storage **out, char *err,
                              size_t errlen);
/*
 * Closes every log cleanly, syncs the offsets, and when all of that succeeded writes the
 * clean-shutdown marker (the next open then skips recovery).  Releases the lock.
 */
rill_err_t rill__storage_close(rill_storage *st);

rill_topics *rill__storage_topics(rill_storage *st);
rill_offsets *rill__storage_offsets(rill_storage *st);
const char *rill__storage_dir(const rill_storage *st);
/* True when the previous shutdown was clean (for logs and tests). */
int rill__storage_was_clean(const rill_storage *st);

/* The log of topic/partition, or NULL when either does not exist. */
rill_log *rill__storage_log(rill_storage *st, const char *topic, int32_t partition);

/*
 * CreateTopics: registers the topic and creates its partition logs.  Errors as
 * rill__topics_create.  validate_only checks without creating.
 */
rill_err_t rill__storage_create_topic(rill_storage *st, const char *name, int32_t partitions,
                                      const rill_topic_kv *configs, size_t nconfigs, int64_t now_ms,
                                      int validate_only, char *err, size_t errlen);
/* DeleteTopics: removes metadata, logs, their directories and the topic's group offsets. */
rill_err_t rill__storage_delete_topic(rill_storage *st, const char *name);
/* CreatePartitions: grows the topic to count partitions. */
rill_err_t rill__storage_add_partitions(rill_storage *st, const char *name, int32_t count,
                                        char *err, size_t errlen);
/*
 * (Incremental)AlterConfigs on a topic: value NULL removes the override.  The topic's
 * logs get the new effective config at once.
 */
rill_err_t rill__storage_set_topic_config(rill_storage *st, const char *name, const char *key,
                                          const char *value, char *err, size_t errlen);
rill_err_t rill__storage_replace_topic_configs(rill_storage *st, const char *name,
                                               const rill_topic_kv *configs, size_t nconfigs,
                                               char *err, size_t errlen);
/* The effective log config of a topic (broker defaults + overrides). */
void rill__storage_topic_log_config(const rill_storage *st, const rill_topic *tp,
                                    rill_log_config *out);

/*
 * Group commit across partitions: flushes every log with unflushed data and syncs the
 * offsets store.  Returns the first error (each log reports its own flushed offset).
 */
rill_err_t rill__storage_flush_all(rill_storage *st);

/* Periodic work (see the top).  now_ms is the wall clock. */
void rill__storage_tick(rill_storage *st, int64_t now_ms);

#endif
