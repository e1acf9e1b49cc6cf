/*
 * log_config.h -- the settings of a partition log, by Kafka's names.
 *
 * Every field has a topic-level name (CreateTopics / AlterConfigs: `segment.bytes`) and a
 * broker-level default name (server.properties: `log.segment.bytes`); rill__log_config_set
 * accepts both.  Defaults are Kafka's (broker_anchors.md §2.1), except where a field says
 * "rill".  The broker builds one config per topic: broker defaults, then the topic's
 * stored overrides applied on top.
 */
#ifndef RILL_STORAGE_LOG_CONFIG_H
#define RILL_STORAGE_LOG_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "common/log.h"
#include "rill.h"

enum { RILL_TS_CREATE_TIME = 0, RILL_TS_LOG_APPEND_TIME = 1 };
/* cleanup.policy, a set. */
enum { RILL_CLEANUP_DELETE = 1, RILL_CLEANUP_COMPACT = 2 };

/*
 * Optional hook for ListOffsets by timestamp on compressed batches, which storage cannot
 * look into: given one whole batch, find the first record with timestamp >= ts and return
 * 1 with its offset delta and timestamp, 0 when none, -1 on a decode error.  Without it,
 * a compressed batch answers with its base offset (never skipping a matching record).
 */
typedef int(rill_log_ts_finder)(void *opaque, const uint8_t *batch, size_t len, int64_t ts,
                                int32_t *offset_delta, int64_t *found_ts);

typedef struct rill_log_config {
    int64_t segment_bytes;        /* segment.bytes / log.segment.bytes: 1 GiB (<= INT32_MAX) */
    int64_t segment_ms;           /* segment.ms / log.roll.ms (log.roll.hours): 7 days */
    int64_t retention_ms;         /* retention.ms / log.retention.{ms,minutes,hours}: 7 d; -1 */
    int64_t retention_bytes;      /* retention.bytes / log.retention.bytes: -1 (no limit) */
    int64_t index_interval_bytes; /* index.interval.bytes / log.index.interval.bytes: 4096 */
    int64_t segment_index_bytes;  /* segment.index.bytes / log.index.size.max.bytes: 10 MiB */
    int64_t flush_messages;       /* flush.messages / log.flush.interval.messages: never */
    int64_t flush_ms;             /* flush.ms / log.flush.interval.ms: never */
    int64_t max_message_bytes;    /* max.message.bytes / message.max.bytes: 1048588 */
    int timestamp_type;           /* message.timestamp.type: CreateTime */
    int preallocate;              /* preallocate / log.preallocate: false (see segment.c) */
    /*
     * cleanup.policy / log.cleanup.policy: delete.  Retention deletes segments by time and
     * size only when the set holds delete.  compact alone keeps everything: rill has no log
     * cleaner yet, so a compacted topic is served whole (every record, not only the latest
     * per key -- consumers of compacted topics handle that already) and never shrinks.
     */
    int cleanup_policy;
    /*
     * rill: when set, the high watermark is the flushed (fsynced) end offset instead of
     * the log end offset, so consumers never see records a power loss could take back
     * (broker_anchors.md §4.3 point 3).  Default 0, as Kafka.
     */
    int hw_flushed;
    rill_log_ts_finder *ts_finder; /* see above; NULL by default */
    void *ts_finder_opaque;
    const rill_logger *logger; /* NULL: no logging */
} rill_log_config;

void rill__log_config_defaults(rill_log_config *c);

/*
 * Applies one setting by its topic-level or broker-level name.  Returns 0, or
 * RILL_ERR_INVALID_CONFIG with a message naming the key and the accepted values in err.
 * Topic-level keys that Kafka defines but storage does not act on (cleanup.policy,
 * compression.type, min.insync.replicas, ...) are accepted when well formed and ignored.
 */
rill_err_t rill__log_config_set(rill_log_config *c, const char *key, const char *value, char *err,
                                size_t errlen);
/* Prints the value of a key rill__log_config_set knows (either name); -1 for others. */
int rill__log_config_get(const rill_log_config *c, const char *key, char *out, size_t cap);

/* True when key is a topic-level config name Kafka defines (TopicConfig). */
int rill__topic_config_known(const char *key);

#endif
