/*
 * log_config.c -- Kafka's log settings: defaults, names, value checks.
 */
#include "broker/storage/log_config.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rill__log_config_defaults(rill_log_config *c) {
    memset(c, 0, sizeof(*c));
    c->segment_bytes = 1024 * 1024 * 1024;
    c->segment_ms = 7LL * 24 * 3600 * 1000;
    c->retention_ms = 7LL * 24 * 3600 * 1000;
    c->retention_bytes = -1;
    c->index_interval_bytes = 4096;
    c->segment_index_bytes = 10 * 1024 * 1024;
    c->flush_messages = INT64_MAX;
    c->flush_ms = INT64_MAX;
    c->max_message_bytes = 1024 * 1024 + 12;
    c->timestamp_type = RILL_TS_CREATE_TIME;
    c->cleanup_policy = RILL_CLEANUP_DELETE;
}

/* Topic-level names from Kafka's TopicConfig. */
static const char *const topic_keys[] = {
    "cleanup.policy",
    "compression.type",
    "delete.retention.ms",
    "file.delete.delay.ms",
    "flush.messages",
    "flush.ms",
    "follower.replication.throttled.replicas",
    "index.interval.bytes",
    "leader.replication.throttled.replicas",
    "local.retention.bytes",
    "local.retention.ms",
    "max.compaction.lag.ms",
    "max.message.bytes",
    "message.downconversion.enable",
    "message.format.version",
    "message.timestamp.after.max.ms",
    "message.timestamp.before.max.ms",
    "message.timestamp.difference.max.ms",
    "message.timestamp.type",
    "min.cleanable.dirty.ratio",
    "min.compaction.lag.ms",
    "min.insync.replicas",
    "preallocate",
    "remote.storage.enable",
    "retention.bytes",
    "retention.ms",
    "segment.bytes",
    "segment.index.bytes",
    "segment.jitter.ms",
    "segment.ms",
    "unclean.leader.election.enable",
};

int rill__topic_config_known(const char *key) {
    for (size_t i = 0; i < sizeof(topic_keys) / sizeof(topic_keys[0]); i++)
        if (strcmp(key, topic_keys[i]) == 0)
            return 1;
    return 0;
}

/* An integer field's place in rill_log_config; the two non-integer settings. */
#define F(member) offsetof(rill_log_config, member)
#define F_TS_TYPE ((size_t)-1)
#define F_PREALLOCATE ((size_t)-2)
#define F_CLEANUP ((size_t)-3)

/* name, field, multiplier (hours/minutes variants), minimum, maximum */
static const struct {
    const char *name;
    size_t field;
    int64_t mul, min, max;
} keys[] = {
    {"segment.bytes", F(segment_bytes), 1, 14, INT32_MAX},
    {"log.segment.bytes", F(segment_bytes), 1, 14, INT32_MAX},
    {"segment.ms", F(segment_ms), 1, 1, INT64_MAX},
    {"log.roll.ms", F(segment_ms), 1, 1, INT64_MAX},
    {"log.roll.hours", F(segment_ms), 3600000, 1, INT64_MAX / 3600000},
    {"retention.ms", F(retention_ms), 1, -1, INT64_MAX},
    {"log.retention.ms", F(retention_ms), 1, -1, INT64_MAX},
    {"log.retention.minutes", F(retention_ms), 60000, -1, INT64_MAX / 60000},
    {"log.retention.hours", F(retention_ms), 3600000, -1, INT64_MAX / 3600000},
    {"retention.bytes", F(retention_bytes), 1, -1, INT64_MAX},
    {"log.retention.bytes", F(retention_bytes), 1, -1, INT64_MAX},
    {"index.interval.bytes", F(index_interval_bytes), 1, 0, INT32_MAX},
    {"log.index.interval.bytes", F(index_interval_bytes), 1, 0, INT32_MAX},
    {"segment.index.bytes", F(segment_index_bytes), 1, 4, INT32_MAX},
    {"log.index.size.max.bytes", F(segment_index_bytes), 1, 4, INT32_MAX},
    {"flush.messages", F(flush_messages), 1, 1, INT64_MAX},
    {"log.flush.interval.messages", F(flush_messages), 1, 1, INT64_MAX},
    {"flush.ms", F(flush_ms), 1, 0, INT64_MAX},
    {"log.flush.interval.ms", F(flush_ms), 1, 0, INT64_MAX},
    {"max.message.bytes", F(max_message_bytes), 1, 0, INT32_MAX},
    {"message.max.bytes", F(max_message_bytes), 1, 0, INT32_MAX},
    {"message.timestamp.type", F_TS_TYPE, 0, 0, 0},
    {"log.message.timestamp.type", F_TS_TYPE, 0, 0, 0},
    {"preallocate", F_PREALLOCATE, 0, 0, 0},
    {"log.preallocate", F_PREALLOCATE, 0, 0, 0},
    {"cleanup.policy", F_CLEANUP, 0, 0, 0},
    {"log.cleanup.policy", F_CLEANUP, 0, 0, 0},
};

static int parse_i64(const char *s, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || *s == ' ' || *s == '+')
        return -1;
    *out = v;
    return 0;
}

static rill_err_t bad(char *err, size_t errlen, const char *fmt, const char *key,
                      const char *value) {
    if (err && errlen)
        snprintf(err, errlen, fmt, key, value);
    return RILL_ERR_INVALID_CONFIG;
}

/* cleanup.policy: a comma-separated set of delete and compact.  -1 when malformed. */
static int parse_cleanup(const char *value) {
    char tmp[64];
    if (strlen(value) >= sizeof(tmp))
        return -1;
    strcpy(tmp, value);
    int set = 0;
    char *save = NULL;
    for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        while (*t == ' ')
            t++;
        size_t n = strlen(t);
        while (n && t[n - 1] == ' ')
            t[--n] = '\0';
        if (strcmp(t, "delete") == 0)
            set |= RILL_CLEANUP_DELETE;
        else if (strcmp(t, "compact") == 0)
            set |= RILL_CLEANUP_COMPACT;
        else
            return -1;
    }
    return set ? set : -1;
}

/* Kafka-defined topic keys storage does not act on: only the obvious shapes are checked. */
static rill_err_t check_other(const char *key, const char *value, char *err, size_t errlen) {
    if (strcmp(key, "compression.type") == 0) {
        static const char *const v[] = {"uncompressed", "producer", "gzip",
                                        "snappy",       "lz4",      "zstd"};
        for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
            if (strcmp(value, v[i]) == 0)
                return RILL_ERR_NO_ERROR;
        return bad(err, errlen,
                   "%s: '%s' is not one of uncompressed, producer, gzip, snappy, lz4, zstd", key,
                   value);
    }
    if (strcmp(key, "min.insync.replicas") == 0) {
        int64_t v;
        if (parse_i64(value, &v) != 0 || v < 1)
            return bad(err, errlen, "%s: '%s' is not an integer >= 1", key, value);
    }
    return RILL_ERR_NO_ERROR;
}

int rill__log_config_get(const rill_log_config *c, const char *key, char *out, size_t cap) {
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strcmp(key, keys[i].name) != 0)
            continue;
        if (keys[i].field == F_TS_TYPE)
            snprintf(out, cap, "%s",
                     c->timestamp_type == RILL_TS_LOG_APPEND_TIME ? "LogAppendTime" : "CreateTime");
        else if (keys[i].field == F_PREALLOCATE)
            snprintf(out, cap, "%s", c->preallocate ? "true" : "false");
        else if (keys[i].field == F_CLEANUP)
            snprintf(out, cap, "%s",
                     c->cleanup_policy == RILL_CLEANUP_COMPACT  ? "compact"
                     : c->cleanup_policy & RILL_CLEANUP_COMPACT ? "compact,delete"
                                                                : "delete");
        else
            snprintf(out, cap, "%" PRId64,
                     *(const int64_t *)(const void *)((const char *)c + keys[i].field));
        return 0;
    }
    return -1;
}

rill_err_t rill__log_config_set(rill_log_config *c, const char *key, const char *value, char *err,
                                size_t errlen) {
    if (!key || !value)
        return bad(err, errlen, "%s%s: missing key or value", key ? key : "", "");
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strcmp(key, keys[i].name) != 0)
            continue;
        if (keys[i].field == F_TS_TYPE) {
            if (strcmp(value, "CreateTime") == 0)
                c->timestamp_type = RILL_TS_CREATE_TIME;
            else if (strcmp(value, "LogAppendTime") == 0)
                c->timestamp_type = RILL_TS_LOG_APPEND_TIME;
            else
                return bad(err, errlen, "%s: '%s' is not CreateTime or LogAppendTime", key, value);
            return RILL_ERR_NO_ERROR;
        }
        if (keys[i].field == F_PREALLOCATE) {
            if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
                return bad(err, errlen, "%s: '%s' is not true or false", key, value);
            c->preallocate = value[0] == 't';
            return RILL_ERR_NO_ERROR;
        }
        if (keys[i].field == F_CLEANUP) {
            int set = parse_cleanup(value);
            if (set < 0)
                return bad(err, errlen, "%s: '%s' is not delete, compact or compact,delete", key,
                           value);
            c->cleanup_policy = set;
            return RILL_ERR_NO_ERROR;
        }
        int64_t v;
        if (parse_i64(value, &v) != 0 || v < keys[i].min || v > keys[i].max) {
            if (err && errlen)
                snprintf(err, errlen, "%s: '%s' is not an integer in [%lld, %lld]", key, value,
                         (long long)keys[i].min, (long long)keys[i].max);
            return RILL_ERR_INVALID_CONFIG;
        }
        if (v > 0)
            v *= keys[i].mul;
        *(int64_t *)(void *)((char *)c + keys[i].field) = v;
        return RILL_ERR_NO_ERROR;
    }
    if (rill__topic_config_known(key))
        return check_other(key, value, err, errlen);
    return bad(err, errlen, "%s: unknown config%s", key, "");
}
