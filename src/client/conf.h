/*
 * conf.h -- the configuration object behind rill_conf_t.
 *
 * One table in conf.c lists every key (type, range or allowed names,
 * default, description); rill_conf_set validates a value against its row
 * and stores both the typed value (in the fields below, which the producer,
 * consumer and admin code read directly) and the string form (which
 * rill_conf_get returns).  A client takes its own copy with rill_conf_dup at
 * _new, runs the cross-key checks on that copy, and reads fields from it for
 * its whole life; nothing here is thread-safe, and nothing needs to be once
 * the copy is taken.
 */
#ifndef RILL_CLIENT_CONF_H
#define RILL_CLIENT_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/log.h"
#include "rill.h"

/* partitioner: how a message with RILL_PARTITION_ANY picks its partition. */
enum rill_partitioner {
    RILL_PARTITIONER_MURMUR2_RANDOM = 0, /* Java's: murmur2(key); null key: random/sticky */
    RILL_PARTITIONER_MURMUR2,            /* murmur2(key); null key: one fixed partition */
    RILL_PARTITIONER_CONSISTENT_RANDOM,  /* crc32(key); null or empty key: random/sticky */
    RILL_PARTITIONER_CONSISTENT,         /* crc32(key); null or empty key: fixed partition */
    RILL_PARTITIONER_RANDOM,             /* random/sticky for every message */
    RILL_PARTITIONER_FNV1A_RANDOM,       /* fnv1a(key); null key: random/sticky */
    RILL_PARTITIONER_FNV1A,              /* fnv1a(key); null key: fixed partition */
};

/* security.protocol; only plaintext is accepted by rill_conf_set for now. */
enum rill_security_protocol {
    RILL_SECURITY_PLAINTEXT = 0,
    RILL_SECURITY_SSL,
    RILL_SECURITY_SASL_PLAINTEXT,
    RILL_SECURITY_SASL_SSL,
};

/* auto.offset.reset */
enum rill_offset_reset {
    RILL_OFFSET_RESET_LATEST = 0, /* latest, largest, end (default) */
    RILL_OFFSET_RESET_EARLIEST,   /* earliest, smallest, beginning */
    RILL_OFFSET_RESET_NONE,       /* none, error: report an error event */
};

/* isolation.level, numbered as the Fetch request's IsolationLevel field. */
enum rill_isolation_level {
    RILL_ISOLATION_READ_UNCOMMITTED = 0,
    RILL_ISOLATION_READ_COMMITTED = 1,
};

/* debug contexts, as bits in debug_flags ("all" sets every bit). */
enum {
    RILL_DBG_GENERIC = 1 << 0,
    RILL_DBG_BROKER = 1 << 1,
    RILL_DBG_TOPIC = 1 << 2,
    RILL_DBG_METADATA = 1 << 3,
    RILL_DBG_PRODUCER = 1 << 4,
    RILL_DBG_QUEUE = 1 << 5,
    RILL_DBG_MSG = 1 << 6,
    RILL_DBG_PROTOCOL = 1 << 7,
    RILL_DBG_CONSUMER = 1 << 8,
    RILL_DBG_CGRP = 1 << 9,
    RILL_DBG_FETCH = 1 << 10,
    RILL_DBG_ADMIN = 1 << 11,
    RILL_DBG_EOS = 1 << 12,
    RILL_DBG_SECURITY = 1 << 13,
    RILL_DBG_ASSIGNOR = 1 << 14,
    RILL_DBG_CONF = 1 << 15,
    RILL_DBG_ALL = (1 << 16) - 1,
};

/* Room for the string form of every key (a static assert in conf.c checks it). */
#define RILL__CONF_MAX_KEYS 96

struct rill_conf {
    /* connection */
    char *bootstrap_servers;                /* "localhost:9092"; alias metadata.broker.list */
    char *client_id;                        /* "rill" */
    int security_protocol;                  /* enum rill_security_protocol */
    int request_timeout_ms;                 /* 30000 */
    int reconnect_backoff_ms;               /* 100 */
    int reconnect_backoff_max_ms;           /* 10000 */
    int socket_connection_setup_timeout_ms; /* 30000 */
    int metadata_max_age_ms;                /* 900000 */
    int topic_metadata_refresh_interval_ms; /* 300000; -1 disables the periodic refresh */
    int api_version_request_timeout_ms;     /* 10000 */
    int retry_backoff_ms;                   /* 100 */
    int retry_backoff_max_ms;               /* 1000 */
    int message_max_bytes;                  /* 1000000 */

    /* producer */
    int acks;                           /* -1 (all, default), 0, 1 */
    double linger_ms;                   /* 5; fractional allowed */
    int batch_size;                     /* 1000000: max bytes per batch */
    int batch_num_messages;             /* 10000 */
    int compression;                    /* 0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd */
    int compression_level;              /* -1 = codec default */
    int enable_idempotence;             /* 1 */
    int max_in_flight;                  /* 5 */
    int retries;                        /* INT32_MAX */
    int delivery_timeout_ms;            /* 300000; 0 = no limit */
    int queue_buffering_max_messages;   /* 100000; 0 = no limit */
    int64_t queue_buffering_max_kbytes; /* 1048576 */
    int partitioner;                    /* enum rill_partitioner */
    int sticky_partitioning_linger_ms;  /* 10: how long a null-key message sticks */

    /* logging and statistics */
    int log_level;              /* 6; syslog levels 0..7 */
    char *debug;                /* NULL or a normalized list, e.g. "broker,msg" */
    int debug_flags;            /* RILL_DBG_* bits of debug */
    int statistics_interval_ms; /* 0 = off */

    /* consumer (issue 4) */
    char *group_id;                      /* NULL unless set */
    char *group_instance_id;             /* NULL unless set */
    int auto_offset_reset;               /* enum rill_offset_reset */
    int enable_auto_commit;              /* 1 */
    int auto_commit_interval_ms;         /* 5000 */
    int session_timeout_ms;              /* 45000 */
    int heartbeat_interval_ms;           /* 3000 */
    int max_poll_interval_ms;            /* 300000 */
    int fetch_min_bytes;                 /* 1 */
    int fetch_max_wait_ms;               /* 500 */
    int fetch_max_bytes;                 /* 52428800 */
    int max_partition_fetch_bytes;       /* 1048576 */
    int isolation_level;                 /* enum rill_isolation_level; read_committed */
    char *partition_assignment_strategy; /* "range,roundrobin" (normalized, no spaces) */
    char *client_rack;                   /* NULL unless set */
    int enable_partition_eof;            /* 0 */
    int check_crcs;                      /* 1; not read: CRCs are always checked */
    int queued_max_messages_kbytes;      /* 65536 */

    /* callbacks */
    void *opaque;
    rill_log_cb_t *log_cb;
    rill_stats_cb_t *stats_cb;
    rill_dr_cb_t *dr_cb;
    rill_rebalance_cb_t *rebalance_cb;
    rill_commit_cb_t *commit_cb;

    /* String form of each key that was set explicitly (NULL: default). */
    char *strs[RILL__CONF_MAX_KEYS];
};

/* Frees what the fields own (not the struct itself); the fields are left dangling. */
void rill__conf_free_fields(rill_conf_t *conf);

/* Name of the i-th key in the table, NULL past the last (for tests and listings). */
const char *rill__conf_key(size_t i);

/* Whether `key` (or one of its aliases) was set with rill_conf_set, not left at its default. */
int rill__conf_is_set(const rill_conf_t *conf, const char *key);

/*
 * Cross-key checks for a producer, run by rill_producer_new on its own copy
 * of the configuration.  Follows the Java client: when enable.idempotence
 * was set to true explicitly, acks must be all, max.in.flight.requests.per.
 * connection at most 5 and retries above 0, else an error; when idempotence
 * is only on by default, a conflicting explicit setting turns it off (so
 * `acks=1` alone works).  Also checks retry.backoff.max.ms >= retry.backoff.ms
 * and reconnect.backoff.max.ms >= reconnect.backoff.ms.
 * Returns 0, or -1 with errstr filled.
 */
int rill__conf_check_producer(rill_conf_t *conf, char *errstr, size_t errstr_size);

/*
 * Cross-key checks for a consumer: heartbeat.interval.ms below
 * session.timeout.ms, group.instance.id only with group.id.
 * Returns 0, or -1 with errstr filled.
 */
int rill__conf_check_consumer(const rill_conf_t *conf, char *errstr, size_t errstr_size);

/*
 * The logger a client uses: log_level (raised to debug when `debug` is set),
 * the log callback (NULL: stderr), opaque, and client.id as the name.  The
 * logger points into conf, so it lives as long as the conf copy does.
 */
void rill__conf_logger(const rill_conf_t *conf, rill_logger *lg);

/* Prints every key with its default, aliases and description (for `rill -X list`). */
void rill__conf_print_keys(FILE *out);

#endif
