/*
 * broker_config.h -- rill-broker's settings: defaults, Kafka-style key=value parsing.
 *
 * One struct holds everything the daemon can be told, from three sources applied in
 * order: built-in defaults (Kafka's, broker_anchors.md §2.1), the --config file (Java
 * properties style `key=value` lines, `#`/`!` comments), then each -X key=value.  Unknown
 * keys are refused with a message naming the key, so a typo never runs silently with a
 * default.  Log settings (`log.*`, `message.max.bytes`) are handed to storage's
 * rill__log_config_set, which owns their names and ranges.
 *
 * rill's own durability knob is `log.flush.policy` (see rill_flush_policy).
 */
#ifndef RILL_BROKER_CONFIG_H
#define RILL_BROKER_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "broker/storage/storage.h"
#include "rill.h"

#define RILL_BROKER_MAX_LISTENERS 8
#define RILL_BROKER_DEFAULT_PORT 9092

/* A host and port as given ("127.0.0.1:9092", "[::1]:9092", ":9092" = all addresses). */
typedef struct rill_hostport {
    char host[256]; /* "" = every address */
    int port;
} rill_hostport;

/*
 * When a produce is acknowledged (DESIGN.md "Durability"):
 *   ACKS_ALL (default): acks=all (-1) after fsync (group commit); acks=1 after write(2).
 *   SYNC:               acks=1 and acks=all both after fsync.
 *   OS:                 both after write(2), as Apache Kafka's defaults do; data reaches the
 *                       disk by log.flush.interval.* or the OS (survives a process crash,
 *                       not a power loss).
 */
typedef enum rill_flush_policy {
    RILL_FLUSH_ACKS_ALL = 0,
    RILL_FLUSH_SYNC = 1,
    RILL_FLUSH_OS = 2,
} rill_flush_policy;

typedef struct rill_broker_config {
    rill_hostport listeners[RILL_BROKER_MAX_LISTENERS];
    int nlisteners;          /* 0: the default 127.0.0.1:9092 */
    rill_hostport advertise; /* port 0: derived from the first listener */
    int has_advertise;
    rill_hostport metrics;
    int has_metrics;
    char data_dir[4096];

    int32_t node_id;                 /* node.id / broker.id: 0 */
    int32_t num_partitions;          /* num.partitions: 1 */
    int auto_create_topics;          /* auto.create.topics.enable: true */
    int64_t socket_request_max;      /* socket.request.max.bytes: 100 MiB */
    int64_t connections_max_idle_ms; /* connections.max.idle.ms: 600000 (-1: never) */
    rill_flush_policy flush_policy;  /* log.flush.policy: acks-all */
    int delete_topic_enable;         /* delete.topic.enable: true */

    /* Handed to the group coordinator. */
    int64_t group_initial_rebalance_delay_ms; /* group.initial.rebalance.delay.ms: 3000 */
    int64_t group_min_session_timeout_ms;     /* group.min.session.timeout.ms: 6000 */
    int64_t group_max_session_timeout_ms;     /* group.max.session.timeout.ms: 1800000 */
    int64_t offsets_retention_ms;             /* offsets.retention.minutes: 7 days */
    int64_t offsets_retention_check_ms;       /* offsets.retention.check.interval.ms: 600000 */

    rill_storage_config storage; /* log defaults and storage periods (data_dir set at open) */
    int log_level;               /* --log-level: info */
} rill_broker_config;

void rill__broker_config_defaults(rill_broker_config *c);

/*
 * Applies one key=value.  Returns 0, or RILL_ERR_INVALID_CONFIG with a message naming the
 * key (and the accepted values) in err.
 */
rill_err_t rill__broker_config_set(rill_broker_config *c, const char *key, const char *value,
                                   char *err, size_t errlen);
/* Applies "key=value" (surrounding blanks trimmed). */
rill_err_t rill__broker_config_set_kv(rill_broker_config *c, const char *kv, char *err,
                                      size_t errlen);
/*
 * Applies every line of a properties file; the message names the file and line.
 * Returns 0, RILL_ERR_INVALID_CONFIG, or RILL_ERR_CONFIG when the file cannot be read.
 */
rill_err_t rill__broker_config_load(rill_broker_config *c, const char *path, char *err,
                                    size_t errlen);
/*
 * Applies the text of a properties file (lines separated by \n); `name` labels messages.
 */
rill_err_t rill__broker_config_parse(rill_broker_config *c, const char *text, size_t len,
                                     const char *name, char *err, size_t errlen);

/*
 * Parses "HOST:PORT", "[V6ADDR]:PORT", ":PORT" or "PORT" (an optional "PLAINTEXT://"
 * prefix is accepted, as Kafka's `listeners` are written).  0 or -1.
 */
int rill__hostport_parse(const char *s, rill_hostport *out);
/* "host:port" / "[v6]:port" into out. */
void rill__hostport_format(const rill_hostport *hp, char *out, size_t cap);

const char *rill__flush_policy_name(rill_flush_policy p);

#endif
