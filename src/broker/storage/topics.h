/*
 * topics.h -- the registry of topics: name, topic id, partition count, config overrides.
 *
 * One file per topic, `<meta-dir>/<name>.topic` (a metafile.h frame "RTP1"), replaced
 * atomically (write tmp, fsync, rename, fsync dir) on every change, so after a crash a
 * topic is either fully created/changed or not at all.  The metadata file is the commit
 * point: partition directories are created before it is written and removed after it is
 * deleted (rill_storage cleans up directories no topic claims).
 *
 * The registry knows nothing of logs; rill_storage opens the partitions.  Not
 * thread-safe.  Pointers to rill_topic stay valid until that topic is deleted or changed
 * (create/delete/add_partitions/set_config replace the struct) or the registry is closed.
 */
#ifndef RILL_STORAGE_TOPICS_H
#define RILL_STORAGE_TOPICS_H

#include <stddef.h>
#include <stdint.h>

#include "broker/storage/log_config.h"
#include "common/buf.h"
#include "common/log.h"
#include "rill.h"

#define RILL_TOPIC_NAME_MAX 249

typedef struct rill_topic_kv {
    char *key;
    char *value;
} rill_topic_kv;

typedef struct rill_topic {
    char *name;
    uint8_t id[16]; /* random, never all zero (Metadata v10+, Fetch v13+) */
    int32_t partitions;
    int64_t created_ms;
    size_t nconfigs;
    rill_topic_kv *configs; /* overrides only, sorted by key */
} rill_topic;

typedef struct rill_topics rill_topics;

/*
 * Kafka's topic name rules: 1..249 characters of [a-zA-Z0-9._-], not "." or "..".
 * Returns 0 or RILL_ERR_INVALID_TOPIC_EXCEPTION with a message in err.
 */
rill_err_t rill__topic_name_check(const char *name, char *err, size_t errlen);

/*
 * Loads every `*.topic` in meta_dir (created if missing).  A file that cannot be read or
 * decoded fails the open (RILL_ERR_KAFKA_STORAGE_ERROR, the path in err): carrying on
 * without the topic would make its partition directories look like leftovers to delete.
 */
rill_err_t rill__topics_open(const char *meta_dir, const rill_logger *lg, rill_topics **out,
                             char *err, size_t errlen);
void rill__topics_close(rill_topics *t);

/*
 * Creates and persists a topic.  Configs are validated as topic-level settings
 * (log_config.h).  Errors: RILL_ERR_INVALID_TOPIC_EXCEPTION, RILL_ERR_INVALID_PARTITIONS
 * (< 1), RILL_ERR_INVALID_CONFIG, RILL_ERR_TOPIC_ALREADY_EXISTS,
 * RILL_ERR_KAFKA_STORAGE_ERROR; err gets a message for the response.  With validate_only
 * nothing is written (CreateTopics validateOnly).
 */
rill_err_t rill__topics_create(rill_topics *t, const char *name, int32_t partitions,
                               const rill_topic_kv *configs, size_t nconfigs, int64_t now_ms,
                               int validate_only, char *err, size_t errlen);
/* Removes the metadata (durably).  RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION when absent. */
rill_err_t rill__topics_delete(rill_topics *t, const char *name);
/* CreatePartitions: count must grow (else RILL_ERR_INVALID_PARTITIONS). */
rill_err_t rill__topics_set_partitions(rill_topics *t, const char *name, int32_t count, char *err,
                                       size_t errlen);
/*
 * IncrementalAlterConfigs: sets (value != NULL) or removes (value == NULL) one override
 * after validating it.  replace_configs is the legacy AlterConfigs: the given set replaces
 * every override.
 */
rill_err_t rill__topics_set_config(rill_topics *t, const char *name, const char *key,
                                   const char *value, char *err, size_t errlen);
/* The checks replace_configs makes, without changing anything (validate_only). */
rill_err_t rill__topics_check_configs(const rill_topic_kv *configs, size_t nconfigs, char *err,
                                      size_t errlen);
rill_err_t rill__topics_replace_configs(rill_topics *t, const char *name,
                                        const rill_topic_kv *configs, size_t nconfigs, char *err,
                                        size_t errlen);

const rill_topic *rill__topics_find(const rill_topics *t, const char *name);
const rill_topic *rill__topics_find_id(const rill_topics *t, const uint8_t id[16]);
size_t rill__topics_count(const rill_topics *t);
/* Topic i in name order (0 <= i < count). */
const rill_topic *rill__topics_at(const rill_topics *t, size_t i);

/* The value of an override, or NULL. */
const char *rill__topic_config(const rill_topic *tp, const char *key);
/* defaults with the topic's overrides applied (they were validated when stored). */
void rill__topic_log_config(const rill_topic *tp, const rill_log_config *defaults,
                            rill_log_config *out);

/* The file format, exposed for the fuzz target: encode appends a frame, decode returns a
 * new topic (free with rill__topic_free) or NULL. */
int rill__topic_encode(const rill_topic *tp, rill_buf *out);
rill_topic *rill__topic_decode(const uint8_t *data, size_t len);
void rill__topic_free(rill_topic *tp);

#endif
