/*
 * rill.h -- the public API of librill, a Kafka client library in C.
 *
 * librill produces to and (later) consumes from any Kafka-protocol cluster:
 * Apache Kafka 2.1+, Redpanda, rill-broker.  Everything here is prefixed
 * rill_; handles are opaque; every _new has a _destroy.  Unless a function
 * says otherwise, strings and buffers passed in are copied before the call
 * returns, and pointers handed to callbacks are valid only during the call.
 *
 * Thread-safety is stated per function.  Each client handle runs one
 * background I/O thread; callbacks never run on it: they run inside
 * rill_poll() (or rill_flush()) on the application's thread.
 */
#ifndef RILL_H
#define RILL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only the rill_ API is exported from librill.so. */
#pragma GCC visibility push(default)

#define RILL_VERSION_STR "0.1.0"
#define RILL_VERSION 0x000100

/*
 * Errors.  0 is success.  Positive values, and -1, are Kafka's own protocol
 * error codes with Kafka's numbers (Errors.java).  Values of -100 and below
 * are local errors raised by librill itself.
 */
typedef enum rill_err {
    /* Local errors. */
    RILL_ERR__BEGIN = -100,
    RILL_ERR_QUEUE_FULL = -101,          /* producer buffer limit reached: poll, retry */
    RILL_ERR_TIMED_OUT = -102,           /* delivery.timeout.ms or call timeout passed */
    RILL_ERR_MSG_SIZE_TOO_LARGE = -103,  /* record larger than message.max.bytes */
    RILL_ERR_INVALID_ARG = -104,         /* bad argument to an API call */
    RILL_ERR_DESTROYED = -105,           /* handle destroyed before delivery */
    RILL_ERR_TRANSPORT = -106,           /* connection failed or was lost */
    RILL_ERR_BAD_MSG = -107,             /* malformed response from the broker */
    RILL_ERR_NO_MEMORY = -108,           /* allocation failed */
    RILL_ERR_UNKNOWN_PARTITION = -109,   /* partition not in the topic */
    RILL_ERR_UNKNOWN_TOPIC = -110,       /* topic not in the cluster */
    RILL_ERR_FATAL = -111,               /* idempotent producer state lost; see log */
    RILL_ERR_UNSUPPORTED_FEATURE = -112, /* broker lacks a required API version */
    RILL_ERR_ALL_BROKERS_DOWN = -113,    /* no bootstrap broker reachable */
    RILL_ERR_CONFIG = -114,              /* invalid configuration */
    RILL_ERR_PURGED = -115,              /* message purged from the queue */
    RILL_ERR_STATE = -116,               /* operation not valid in this state */
    RILL_ERR_PARTITION_EOF = -117,       /* consumer reached the end of a partition */

    /* Kafka protocol errors. */
    RILL_ERR_UNKNOWN_SERVER_ERROR = -1,
    RILL_ERR_NO_ERROR = 0,
    RILL_ERR_OFFSET_OUT_OF_RANGE = 1,
    RILL_ERR_CORRUPT_MESSAGE = 2,
    RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION = 3,
    RILL_ERR_INVALID_FETCH_SIZE = 4,
    RILL_ERR_LEADER_NOT_AVAILABLE = 5,
    RILL_ERR_NOT_LEADER_OR_FOLLOWER = 6,
    RILL_ERR_REQUEST_TIMED_OUT = 7,
    RILL_ERR_BROKER_NOT_AVAILABLE = 8,
    RILL_ERR_REPLICA_NOT_AVAILABLE = 9,
    RILL_ERR_MESSAGE_TOO_LARGE = 10,
    RILL_ERR_STALE_CONTROLLER_EPOCH = 11,
    RILL_ERR_OFFSET_METADATA_TOO_LARGE = 12,
    RILL_ERR_NETWORK_EXCEPTION = 13,
    RILL_ERR_COORDINATOR_LOAD_IN_PROGRESS = 14,
    RILL_ERR_COORDINATOR_NOT_AVAILABLE = 15,
    RILL_ERR_NOT_COORDINATOR = 16,
    RILL_ERR_INVALID_TOPIC_EXCEPTION = 17,
    RILL_ERR_RECORD_LIST_TOO_LARGE = 18,
    RILL_ERR_NOT_ENOUGH_REPLICAS = 19,
    RILL_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20,
    RILL_ERR_INVALID_REQUIRED_ACKS = 21,
    RILL_ERR_ILLEGAL_GENERATION = 22,
    RILL_ERR_INCONSISTENT_GROUP_PROTOCOL = 23,
    RILL_ERR_INVALID_GROUP_ID = 24,
    RILL_ERR_UNKNOWN_MEMBER_ID = 25,
    RILL_ERR_INVALID_SESSION_TIMEOUT = 26,
    RILL_ERR_REBALANCE_IN_PROGRESS = 27,
    RILL_ERR_INVALID_COMMIT_OFFSET_SIZE = 28,
    RILL_ERR_TOPIC_AUTHORIZATION_FAILED = 29,
    RILL_ERR_GROUP_AUTHORIZATION_FAILED = 30,
    RILL_ERR_CLUSTER_AUTHORIZATION_FAILED = 31,
    RILL_ERR_INVALID_TIMESTAMP = 32,
    RILL_ERR_UNSUPPORTED_SASL_MECHANISM = 33,
    RILL_ERR_ILLEGAL_SASL_STATE = 34,
    RILL_ERR_UNSUPPORTED_VERSION = 35,
    RILL_ERR_TOPIC_ALREADY_EXISTS = 36,
    RILL_ERR_INVALID_PARTITIONS = 37,
    RILL_ERR_INVALID_REPLICATION_FACTOR = 38,
    RILL_ERR_INVALID_REPLICA_ASSIGNMENT = 39,
    RILL_ERR_INVALID_CONFIG = 40,
    RILL_ERR_NOT_CONTROLLER = 41,
    RILL_ERR_INVALID_REQUEST = 42,
    RILL_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT = 43,
    RILL_ERR_POLICY_VIOLATION = 44,
    RILL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER = 45,
    RILL_ERR_DUPLICATE_SEQUENCE_NUMBER = 46,
    RILL_ERR_INVALID_PRODUCER_EPOCH = 47,
    RILL_ERR_INVALID_TXN_STATE = 48,
    RILL_ERR_INVALID_PRODUCER_ID_MAPPING = 49,
    RILL_ERR_INVALID_TRANSACTION_TIMEOUT = 50,
    RILL_ERR_CONCURRENT_TRANSACTIONS = 51,
    RILL_ERR_TRANSACTION_COORDINATOR_FENCED = 52,
    RILL_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53,
    RILL_ERR_SECURITY_DISABLED = 54,
    RILL_ERR_OPERATION_NOT_ATTEMPTED = 55,
    RILL_ERR_KAFKA_STORAGE_ERROR = 56,
    RILL_ERR_LOG_DIR_NOT_FOUND = 57,
    RILL_ERR_SASL_AUTHENTICATION_FAILED = 58,
    RILL_ERR_UNKNOWN_PRODUCER_ID = 59,
    RILL_ERR_REASSIGNMENT_IN_PROGRESS = 60,
    RILL_ERR_DELEGATION_TOKEN_AUTH_DISABLED = 61,
    RILL_ERR_DELEGATION_TOKEN_NOT_FOUND = 62,
    RILL_ERR_DELEGATION_TOKEN_OWNER_MISMATCH = 63,
    RILL_ERR_DELEGATION_TOKEN_REQUEST_NOT_ALLOWED = 64,
    RILL_ERR_DELEGATION_TOKEN_AUTHORIZATION_FAILED = 65,
    RILL_ERR_DELEGATION_TOKEN_EXPIRED = 66,
    RILL_ERR_INVALID_PRINCIPAL_TYPE = 67,
    RILL_ERR_NON_EMPTY_GROUP = 68,
    RILL_ERR_GROUP_ID_NOT_FOUND = 69,
    RILL_ERR_FETCH_SESSION_ID_NOT_FOUND = 70,
    RILL_ERR_INVALID_FETCH_SESSION_EPOCH = 71,
    RILL_ERR_LISTENER_NOT_FOUND = 72,
    RILL_ERR_TOPIC_DELETION_DISABLED = 73,
    RILL_ERR_FENCED_LEADER_EPOCH = 74,
    RILL_ERR_UNKNOWN_LEADER_EPOCH = 75,
    RILL_ERR_UNSUPPORTED_COMPRESSION_TYPE = 76,
    RILL_ERR_STALE_BROKER_EPOCH = 77,
    RILL_ERR_OFFSET_NOT_AVAILABLE = 78,
    RILL_ERR_MEMBER_ID_REQUIRED = 79,
    RILL_ERR_PREFERRED_LEADER_NOT_AVAILABLE = 80,
    RILL_ERR_GROUP_MAX_SIZE_REACHED = 81,
    RILL_ERR_FENCED_INSTANCE_ID = 82,
    RILL_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE = 83,
    RILL_ERR_ELECTION_NOT_NEEDED = 84,
    RILL_ERR_NO_REASSIGNMENT_IN_PROGRESS = 85,
    RILL_ERR_GROUP_SUBSCRIBED_TO_TOPIC = 86,
    RILL_ERR_INVALID_RECORD = 87,
    RILL_ERR_UNSTABLE_OFFSET_COMMIT = 88,
    RILL_ERR_THROTTLING_QUOTA_EXCEEDED = 89,
    RILL_ERR_PRODUCER_FENCED = 90,
    RILL_ERR_RESOURCE_NOT_FOUND = 91,
    RILL_ERR_DUPLICATE_RESOURCE = 92,
    RILL_ERR_UNACCEPTABLE_CREDENTIAL = 93,
    RILL_ERR_INCONSISTENT_VOTER_SET = 94,
    RILL_ERR_INVALID_UPDATE_VERSION = 95,
    RILL_ERR_FEATURE_UPDATE_FAILED = 96,
    RILL_ERR_PRINCIPAL_DESERIALIZATION_FAILURE = 97,
    RILL_ERR_SNAPSHOT_NOT_FOUND = 98,
    RILL_ERR_POSITION_OUT_OF_RANGE = 99,
    RILL_ERR_UNKNOWN_TOPIC_ID = 100,
    RILL_ERR_DUPLICATE_BROKER_REGISTRATION = 101,
    RILL_ERR_BROKER_ID_NOT_REGISTERED = 102,
    RILL_ERR_INCONSISTENT_TOPIC_ID = 103,
    RILL_ERR_INCONSISTENT_CLUSTER_ID = 104,
    RILL_ERR_TRANSACTIONAL_ID_NOT_FOUND = 105,
    RILL_ERR_FETCH_SESSION_TOPIC_ID_ERROR = 106,
    RILL_ERR_INELIGIBLE_REPLICA = 107,
    RILL_ERR_NEW_LEADER_ELECTED = 108,
    RILL_ERR_OFFSET_MOVED_TO_TIERED_STORAGE = 109,
    RILL_ERR_FENCED_MEMBER_EPOCH = 110,
    RILL_ERR_UNRELEASED_INSTANCE_ID = 111,
    RILL_ERR_UNSUPPORTED_ASSIGNOR = 112,
    RILL_ERR_STALE_MEMBER_EPOCH = 113,
    RILL_ERR_MISMATCHED_ENDPOINT_TYPE = 114,
    RILL_ERR_UNSUPPORTED_ENDPOINT_TYPE = 115,
    RILL_ERR_UNKNOWN_CONTROLLER_ID = 116,
    RILL_ERR_UNKNOWN_SUBSCRIPTION_ID = 117,
    RILL_ERR_TELEMETRY_TOO_LARGE = 118,
    RILL_ERR_INVALID_REGISTRATION = 119,
} rill_err_t;

/* Short name of an error, e.g. "NOT_LEADER_OR_FOLLOWER"; never NULL. */
const char *rill_err_name(rill_err_t err);
/* Human-readable description; never NULL. */
const char *rill_err_str(rill_err_t err);
/* Whether Kafka documents the error as retriable. */
int rill_err_is_retriable(rill_err_t err);

/* Library version string. */
const char *rill_version_str(void);

/*
 * Configuration.
 *
 * Keys and defaults follow the Kafka ecosystem (librdkafka / Java client).
 * rill_conf_set validates the value at once; an unknown key or a bad value
 * returns RILL_CONF_INVALID with a message that names the key and what it
 * accepts.  A conf is not thread-safe; the client copies it at _new.
 */
typedef struct rill_conf rill_conf_t;

typedef enum rill_conf_res {
    RILL_CONF_OK = 0,
    RILL_CONF_INVALID = -1, /* unknown key or bad value; see errstr */
} rill_conf_res_t;

rill_conf_t *rill_conf_new(void);
rill_conf_t *rill_conf_dup(const rill_conf_t *conf);
void rill_conf_destroy(rill_conf_t *conf);
rill_conf_res_t rill_conf_set(rill_conf_t *conf, const char *key, const char *value, char *errstr,
                              size_t errstr_size);
/* Current value of a key as a string, or NULL for an unknown key. */
const char *rill_conf_get(const rill_conf_t *conf, const char *key);

/* Application pointer passed to every callback. */
void rill_conf_set_opaque(rill_conf_t *conf, void *opaque);

/*
 * Log callback: level is syslog-style (3 error .. 7 debug), facility names
 * the component ("broker", "producer", ...).  May be called from the I/O
 * thread: it must be thread-safe and must not call back into librill.
 * Default: one line on stderr.
 */
typedef void(rill_log_cb_t)(void *opaque, int level, const char *facility, const char *msg);
void rill_conf_set_log_cb(rill_conf_t *conf, rill_log_cb_t *cb);

/*
 * Statistics callback, called from rill_poll() every statistics.interval.ms
 * (0 = off, the default) with a JSON document.
 */
typedef void(rill_stats_cb_t)(void *opaque, const char *json, size_t json_len);
void rill_conf_set_stats_cb(rill_conf_t *conf, rill_stats_cb_t *cb);

/*
 * Producer.
 */
typedef struct rill_producer rill_producer_t;

#define RILL_PARTITION_ANY (-1)

/* A message header; value may be NULL (null header value). */
typedef struct rill_header {
    const char *name;
    const void *value;
    size_t value_len;
} rill_header_t;

/* What a delivery report says about one message. */
typedef struct rill_delivery {
    rill_err_t err; /* 0: acknowledged */
    const char *topic;
    int32_t partition; /* -1 if never assigned */
    int64_t offset;    /* -1 unless acknowledged (and acks != 0) */
    int64_t timestamp; /* CreateTime sent, or broker LogAppendTime */
    void *msg_opaque;  /* as passed to rill_produce */
} rill_delivery_t;

/* Delivery report callback: runs in rill_poll/rill_flush, once per message. */
typedef void(rill_dr_cb_t)(rill_producer_t *p, const rill_delivery_t *dr, void *opaque);
void rill_conf_set_dr_cb(rill_conf_t *conf, rill_dr_cb_t *cb);

/*
 * Creates a producer from a copy of `conf` (which the caller still owns and
 * destroys).  Returns NULL and fills errstr on a bad configuration.
 * Connecting happens in the background; errors reach the log and, after
 * delivery.timeout.ms, the delivery reports.
 */
rill_producer_t *rill_producer_new(const rill_conf_t *conf, char *errstr, size_t errstr_size);

/*
 * Queues one message.  Thread-safe, never blocks on the network.
 *   partition  a partition number, or RILL_PARTITION_ANY to use the partitioner
 *   key        NULL for a null key; value NULL for a null value (tombstone)
 *   headers    array of header_cnt headers, or NULL
 *   timestamp  CreateTime in epoch ms, or 0 for now
 * Returns 0 (a delivery report will follow), RILL_ERR_QUEUE_FULL when the
 * buffer limits are reached (poll, then retry), RILL_ERR_MSG_SIZE_TOO_LARGE,
 * RILL_ERR_UNKNOWN_PARTITION (partition known not to exist), RILL_ERR_INVALID_ARG,
 * or RILL_ERR_FATAL once the idempotent producer has failed fatally.
 * Key, value and headers are copied before it returns.
 */
rill_err_t rill_produce(rill_producer_t *p, const char *topic, int32_t partition, const void *key,
                        size_t key_len, const void *value, size_t value_len,
                        const rill_header_t *headers, size_t header_cnt, int64_t timestamp,
                        void *msg_opaque);

/*
 * Serves delivery reports (and stats) waiting for the application, waiting
 * up to timeout_ms (-1: forever) for the first one.  Returns how many
 * reports were served.  Call from one thread at a time.
 */
int rill_poll(rill_producer_t *p, int timeout_ms);

/*
 * Waits until every queued message has been delivered or failed and its
 * report served (it polls), or timeout_ms passes.  Returns 0 or
 * RILL_ERR_TIMED_OUT.
 */
rill_err_t rill_flush(rill_producer_t *p, int timeout_ms);

/* Messages queued or in flight, not yet reported. */
int rill_outq_len(rill_producer_t *p);

/*
 * Stops the producer.  Messages not yet delivered are failed with
 * RILL_ERR_DESTROYED and their reports served before it returns: call
 * rill_flush first to deliver them.  Returns within a bounded time.
 */
void rill_producer_destroy(rill_producer_t *p);

/* Counters since the producer started. */
typedef struct rill_producer_stats {
    uint64_t msgs_queued, bytes_queued; /* accepted by rill_produce */
    uint64_t msgs_sent, bytes_sent;     /* in Produce requests sent (with retries) */
    uint64_t msgs_acked, bytes_acked;   /* acknowledged */
    uint64_t msgs_failed;               /* failed delivery reports */
    uint64_t batches_sent, requests_sent, retries;
    uint64_t outq_msgs, outq_bytes; /* currently queued or in flight */
} rill_producer_stats_t;

void rill_producer_stats(rill_producer_t *p, rill_producer_stats_t *out);
/*
 * Writes a JSON statistics document (the one the stats callback gets, with
 * per-broker request latency) into buf; returns its length, or the length
 * needed when it does not fit.
 */
size_t rill_producer_stats_json(rill_producer_t *p, char *buf, size_t size);

/*
 * Consumer.
 *
 * A consumer reads partitions either as a member of a consumer group
 * (rill_subscribe: the group coordinator spreads the topics' partitions over
 * the members, and committed offsets say where to resume) or by explicit
 * assignment (rill_assign).  Fetching runs ahead in the background, bounded
 * by queued.max.messages.kbytes; messages are handed out by
 * rill_consumer_poll.  Offsets follow the Java convention: the committed
 * offset of a partition is the offset of the next message to read.
 *
 * Functions may be called from any one thread at a time, except
 * rill_message_* accessors and rill_message_destroy, which may be used
 * from any thread.
 */
typedef struct rill_consumer rill_consumer_t;
typedef struct rill_message rill_message_t;

/* Logical offsets. */
#define RILL_OFFSET_BEGINNING (-2) /* earliest available */
#define RILL_OFFSET_END (-1)       /* next offset to be produced */
#define RILL_OFFSET_STORED (-1000) /* committed offset, else auto.offset.reset */
#define RILL_OFFSET_INVALID (-1001)

/* A partition with an offset, as argument and result of many calls. */
typedef struct rill_topic_partition {
    const char *topic;
    int32_t partition;
    int64_t offset;
    rill_err_t err; /* per-partition result, where a call reports one */
} rill_topic_partition_t;

/* What the rebalance callback is told. */
#define RILL_REBALANCE_ASSIGN 1
#define RILL_REBALANCE_REVOKE 2
#define RILL_REBALANCE_LOST 3 /* revoked without a chance to commit (session lost) */

/*
 * Rebalance callback, run inside rill_consumer_poll: partitions were
 * assigned to, or are being taken from, this member.  With the eager
 * protocols (range, roundrobin) every rebalance revokes all and assigns the
 * new set; with cooperative-sticky only what moves is revoked or assigned.
 * The consumer applies the change itself after the callback returns.
 */
typedef void(rill_rebalance_cb_t)(rill_consumer_t *c, int event,
                                  const rill_topic_partition_t *parts, size_t n, void *opaque);
void rill_conf_set_rebalance_cb(rill_conf_t *conf, rill_rebalance_cb_t *cb);

/* Offset commit result callback (async and auto commits), run in poll. */
typedef void(rill_commit_cb_t)(rill_consumer_t *c, rill_err_t err,
                               const rill_topic_partition_t *offsets, size_t n, void *opaque);
void rill_conf_set_commit_cb(rill_conf_t *conf, rill_commit_cb_t *cb);

rill_consumer_t *rill_consumer_new(const rill_conf_t *conf, char *errstr, size_t errstr_size);

/* Joins group.id and follows the given topics (replacing any earlier list). */
rill_err_t rill_subscribe(rill_consumer_t *c, const char *const *topics, size_t n);
rill_err_t rill_unsubscribe(rill_consumer_t *c);
/*
 * Reads exactly these partitions, from each one's offset (a real offset,
 * or RILL_OFFSET_BEGINNING / END / STORED).  n == 0 stops reading.
 * Not with rill_subscribe at the same time.
 */
rill_err_t rill_assign(rill_consumer_t *c, const rill_topic_partition_t *parts, size_t n);

/*
 * The next message, or an error event (rill_message_err() != 0), or NULL
 * when none arrived within timeout_ms (-1: wait forever).  Serves the
 * rebalance and commit callbacks too.  Each message returned must be
 * released with rill_message_destroy.
 */
rill_message_t *rill_consumer_poll(rill_consumer_t *c, int timeout_ms);
void rill_message_destroy(rill_message_t *m);

rill_err_t rill_message_err(const rill_message_t *m);
/* Description of an error event ("" for a message). */
const char *rill_message_errstr(const rill_message_t *m);
const char *rill_message_topic(const rill_message_t *m);
int32_t rill_message_partition(const rill_message_t *m);
int64_t rill_message_offset(const rill_message_t *m);
/* Timestamp in epoch ms; *log_append_time (if not NULL) says whether the broker set it. */
int64_t rill_message_timestamp(const rill_message_t *m, int *log_append_time);
/* Key and value: NULL for null; *len set either way. */
const void *rill_message_key(const rill_message_t *m, size_t *len);
const void *rill_message_value(const rill_message_t *m, size_t *len);
size_t rill_message_header_count(const rill_message_t *m);
/* Header i: name (not NUL-terminated, name_len bytes) and value (NULL for null). */
int rill_message_header(const rill_message_t *m, size_t i, const char **name, size_t *name_len,
                        const void **value, size_t *value_len);

/*
 * Commits offsets to the group: `offsets` (each the next offset to read),
 * or, with offsets NULL, the current position of every assigned partition.
 * Synchronous unless async is set (then the commit callback reports).
 */
rill_err_t rill_commit(rill_consumer_t *c, const rill_topic_partition_t *offsets, size_t n,
                       int async);
/* Fills parts[i].offset with the committed offset (RILL_OFFSET_INVALID if none). */
rill_err_t rill_committed(rill_consumer_t *c, rill_topic_partition_t *parts, size_t n,
                          int timeout_ms);
/* Fills parts[i].offset with the position: the offset of the next message poll returns. */
rill_err_t rill_position(rill_consumer_t *c, rill_topic_partition_t *parts, size_t n);
/* Moves an assigned partition's position; the next message polled starts there. */
rill_err_t rill_seek(rill_consumer_t *c, const char *topic, int32_t partition, int64_t offset);
rill_err_t rill_pause(rill_consumer_t *c, const rill_topic_partition_t *parts, size_t n);
rill_err_t rill_resume(rill_consumer_t *c, const rill_topic_partition_t *parts, size_t n);
/*
 * The current assignment: *parts is allocated (free with
 * rill_topic_partitions_free) and *n set.
 */
rill_err_t rill_assignment(rill_consumer_t *c, rill_topic_partition_t **parts, size_t *n);
void rill_topic_partitions_free(rill_topic_partition_t *parts, size_t n);

/*
 * Leaves cleanly: commits the positions if enable.auto.commit, revokes the
 * assignment (rebalance callback), leaves the group.  Bounded by timeout_ms.
 * rill_consumer_destroy then frees the handle (it closes first if needed).
 */
rill_err_t rill_consumer_close(rill_consumer_t *c, int timeout_ms);
void rill_consumer_destroy(rill_consumer_t *c);

/*
 * Admin.
 */
typedef struct rill_admin rill_admin_t;

rill_admin_t *rill_admin_new(const rill_conf_t *conf, char *errstr, size_t errstr_size);
void rill_admin_destroy(rill_admin_t *a);

typedef struct rill_topic_config {
    const char *name;
    const char *value;
} rill_topic_config_t;

typedef struct rill_new_topic {
    const char *name;
    int32_t num_partitions;     /* -1: broker default */
    int16_t replication_factor; /* -1: broker default */
    const rill_topic_config_t *configs;
    size_t config_cnt;
} rill_new_topic_t;

/* Outcome for one topic of an admin call. */
typedef struct rill_topic_result {
    char name[256];
    rill_err_t err;
    char errstr[256]; /* broker's message or our description; "" on success */
} rill_topic_result_t;

/*
 * Creates topics; results[i] is filled for topics[i].  Returns 0 when the
 * request was answered (check each result), or a local error (timeout,
 * no broker) that then also stands in every result.
 */
rill_err_t rill_admin_create_topics(rill_admin_t *a, const rill_new_topic_t *topics, size_t n,
                                    int timeout_ms, rill_topic_result_t *results);
rill_err_t rill_admin_delete_topics(rill_admin_t *a, const char *const *topics, size_t n,
                                    int timeout_ms, rill_topic_result_t *results);

/*
 * Every admin call below is synchronous: it runs on the caller's thread
 * until the cluster has answered or timeout_ms has passed, retrying what
 * Kafka calls retriable (lost connections, a moved controller, leader or
 * group coordinator, a coordinator still loading) until then.  A handle is
 * used from one thread at a time.
 *
 * Calls that return allocated results set *out to a structure owned by the
 * caller, freed with the matching _free function (which accepts NULL).
 * *out is set whenever the call returns 0, an error from the cluster or a
 * timeout (then it holds what was learned, with per-item errors, possibly
 * nothing: free it all the same); it is NULL after RILL_ERR_INVALID_ARG or
 * RILL_ERR_NO_MEMORY.  Strings in results are
 * NUL-terminated copies that live as long as the result.
 */

/* Increase a topic's partitions to a new total (CreatePartitions). */
typedef struct rill_new_partitions {
    const char *topic;
    int32_t total_count; /* the new number of partitions, more than the current one */
} rill_new_partitions_t;

/*
 * Adds partitions to topics; results[i] is filled for parts[i].  Returns as
 * rill_admin_create_topics does.  Errors per topic include
 * INVALID_PARTITIONS (count not larger than the current one) and
 * UNKNOWN_TOPIC_OR_PARTITION.
 */
rill_err_t rill_admin_create_partitions(rill_admin_t *a, const rill_new_partitions_t *parts,
                                        size_t n, int timeout_ms, rill_topic_result_t *results);

/* A broker as Metadata names it. */
typedef struct rill_broker_info {
    int32_t id;
    const char *host;
    int port;
    const char *rack; /* NULL when the broker has none */
} rill_broker_info_t;

/* A partition as Metadata describes it. */
typedef struct rill_partition_info {
    int32_t partition;
    rill_err_t err; /* e.g. LEADER_NOT_AVAILABLE; 0 normally */
    int32_t leader; /* broker id, -1 when there is none */
    const int32_t *replicas;
    size_t replica_cnt;
    const int32_t *isr; /* in-sync replicas */
    size_t isr_cnt;
} rill_partition_info_t;

typedef struct rill_topic_info {
    const char *name;
    rill_err_t err; /* UNKNOWN_TOPIC_OR_PARTITION for a topic asked for that does not exist */
    int internal;   /* 1 for Kafka's own topics (__consumer_offsets, ...) */
    const rill_partition_info_t *partitions; /* sorted by partition */
    size_t partition_cnt;
} rill_topic_info_t;

typedef struct rill_topic_list {
    const char *cluster_id;            /* NULL when the cluster reports none */
    int32_t controller_id;             /* -1 when unknown */
    const rill_broker_info_t *brokers; /* sorted by id */
    size_t broker_cnt;
    const rill_topic_info_t *topics; /* sorted by name */
    size_t topic_cnt;
} rill_topic_list_t;

/*
 * Lists topics with their partitions (Metadata): every topic when topics
 * is NULL (n 0), else the n named ones in that order; naming a topic never
 * creates it (brokers too old to be asked not to are asked for every
 * topic).  Returns 0, or a local error (RILL_ERR_TIMED_OUT, ...) when no
 * broker answered; the list is then empty but still set, and still to be
 * freed (see above).  Free with rill_topic_list_free.
 */
rill_err_t rill_admin_list_topics(rill_admin_t *a, const char *const *topics, size_t n,
                                  int timeout_ms, rill_topic_list_t **out);
void rill_topic_list_free(rill_topic_list_t *list);

/* Resource types of DescribeConfigs (Kafka's ConfigResource.Type). */
#define RILL_RESOURCE_TOPIC 2
#define RILL_RESOURCE_BROKER 4 /* name: the broker id in decimal */

/* Where a config value comes from (Kafka's ConfigSource). */
typedef enum rill_config_source {
    RILL_CONFIG_SOURCE_UNKNOWN = 0, /* also every value from a DescribeConfigs v0 broker */
    RILL_CONFIG_SOURCE_TOPIC = 1,   /* set on the topic */
    RILL_CONFIG_SOURCE_DYNAMIC_BROKER = 2,
    RILL_CONFIG_SOURCE_DYNAMIC_DEFAULT_BROKER = 3,
    RILL_CONFIG_SOURCE_STATIC_BROKER = 4, /* the broker's configuration file */
    RILL_CONFIG_SOURCE_DEFAULT = 5,       /* Kafka's default */
} rill_config_source_t;

typedef struct rill_config_entry {
    const char *name;
    const char *value; /* NULL when unset or hidden (sensitive) */
    int read_only;
    int is_default; /* not set anywhere: Kafka's default value */
    int is_sensitive;
    int source; /* rill_config_source_t, or another number a newer broker sends */
} rill_config_entry_t;

/* Names a config resource to describe. */
typedef struct rill_config_resource {
    int type; /* RILL_RESOURCE_TOPIC or RILL_RESOURCE_BROKER */
    const char *name;
} rill_config_resource_t;

typedef struct rill_resource_configs {
    int type;
    const char *name;
    rill_err_t err;
    const char *errstr;                 /* broker's message or our description; "" on success */
    const rill_config_entry_t *entries; /* in the broker's order */
    size_t entry_cnt;
} rill_resource_configs_t;

typedef struct rill_configs {
    const rill_resource_configs_t *resources; /* resources[i] answers what[i] */
    size_t resource_cnt;
} rill_configs_t;

/*
 * Describes the configs of topics and brokers (DescribeConfigs): a broker
 * resource is asked of that broker, topics of any broker.  Returns 0 when
 * every resource was answered (check each err), else a local error that
 * then also stands in the unanswered resources.  Free with rill_configs_free.
 */
rill_err_t rill_admin_describe_configs(rill_admin_t *a, const rill_config_resource_t *what,
                                       size_t n, int timeout_ms, rill_configs_t **out);
void rill_configs_free(rill_configs_t *configs);

/* A group as ListGroups names it. */
typedef struct rill_group_listing {
    const char *group_id;
    const char *protocol_type; /* "consumer" for consumer groups; "" for bare offset storage */
    const char *state;         /* "Stable", "Empty", ...; "" from brokers before ListGroups v4 */
    int32_t coordinator;       /* id of the broker that listed it */
} rill_group_listing_t;

typedef struct rill_group_list {
    const rill_group_listing_t *groups; /* sorted by group id */
    size_t group_cnt;
} rill_group_list_t;

/*
 * Lists the groups of the cluster: ListGroups to every broker, merged, as
 * the Java AdminClient does.  Returns 0 when every broker answered, else
 * the first broker's error (the list then holds the groups of the brokers
 * that did answer).  Free with rill_group_list_free.
 */
rill_err_t rill_admin_list_groups(rill_admin_t *a, int timeout_ms, rill_group_list_t **out);
void rill_group_list_free(rill_group_list_t *list);

typedef struct rill_member_info {
    const char *member_id;
    const char *group_instance_id; /* NULL unless a static member */
    const char *client_id;
    const char *host;
    /*
     * The member's assignment, decoded when the group's protocol type is
     * "consumer" (offsets RILL_OFFSET_INVALID); empty otherwise, and while
     * the group rebalances.
     */
    const rill_topic_partition_t *assignment;
    size_t assignment_cnt;
} rill_member_info_t;

typedef struct rill_group_info {
    const char *group_id;
    rill_err_t err;
    /* "Stable", "PreparingRebalance", "CompletingRebalance", "Empty", "Dead" */
    const char *state;
    const char *protocol_type; /* "consumer" for consumer groups */
    const char *protocol;      /* the assignor in use, e.g. "range"; "" when none */
    int32_t coordinator;       /* broker id, -1 when not found */
    const rill_member_info_t *members;
    size_t member_cnt;
} rill_group_info_t;

typedef struct rill_group_descriptions {
    const rill_group_info_t *groups; /* groups[i] describes groups[i] asked for */
    size_t group_cnt;
} rill_group_descriptions_t;

/*
 * Describes groups (DescribeGroups to each group's coordinator, found with
 * FindCoordinator).  A group that does not exist is reported by Kafka as
 * state "Dead" with no members (or GROUP_ID_NOT_FOUND by newer brokers).
 * Returns 0 when every group was answered, else a local error that then
 * also stands in the unanswered groups.  Free with
 * rill_group_descriptions_free.
 */
rill_err_t rill_admin_describe_groups(rill_admin_t *a, const char *const *groups, size_t n,
                                      int timeout_ms, rill_group_descriptions_t **out);
void rill_group_descriptions_free(rill_group_descriptions_t *d);

/*
 * Deletes groups (DeleteGroups to each group's coordinator); results[i] is
 * filled for groups[i] (name is the group id).  Errors per group include
 * NON_EMPTY_GROUP (it still has members) and GROUP_ID_NOT_FOUND.  Returns
 * as rill_admin_create_topics does.
 */
rill_err_t rill_admin_delete_groups(rill_admin_t *a, const char *const *groups, size_t n,
                                    int timeout_ms, rill_topic_result_t *results);

/* One partition's offset query, answered in place by rill_admin_list_offsets. */
typedef struct rill_offset_query {
    const char *topic;
    int32_t partition;
    /*
     * RILL_OFFSET_BEGINNING: the earliest offset; RILL_OFFSET_END: the log
     * end offset (the next offset to be written); a timestamp in epoch ms
     * (>= 0): the first offset whose timestamp is at or after it.
     */
    int64_t spec;
    /* Answer: */
    rill_err_t err;
    int64_t offset;    /* -1 when no record is at or after the timestamp */
    int64_t timestamp; /* of that record, for a timestamp query; -1 otherwise */
} rill_offset_query_t;

/*
 * Looks up offsets (ListOffsets to each partition's leader), filling err,
 * offset and timestamp of every query.  read_committed: the end of a
 * partition is the last stable offset rather than the high watermark.
 * Returns 0 when every query was answered (check each err), else a local
 * error that then also stands in the unanswered queries.
 */
rill_err_t rill_admin_list_offsets(rill_admin_t *a, rill_offset_query_t *queries, size_t n,
                                   int read_committed, int timeout_ms);

/* A group's position on one partition. */
typedef struct rill_partition_lag {
    const char *topic;
    int32_t partition;
    rill_err_t err;        /* the first error met for this partition; 0 normally */
    int64_t committed;     /* the group's committed offset, RILL_OFFSET_INVALID if none */
    int64_t end_offset;    /* log end offset (high watermark), -1 when unknown */
    int64_t lag;           /* end_offset - committed; -1 when either is unknown */
    const char *member_id; /* member the partition is assigned to, NULL when none */
} rill_partition_lag_t;

typedef struct rill_group_lag {
    const char *group_id;
    const rill_partition_lag_t *partitions; /* sorted by topic, then partition */
    size_t partition_cnt;
} rill_group_lag_t;

/*
 * Consumer lag of a group: its committed offsets (OffsetFetch to the
 * coordinator) against the log end offsets (ListOffsets).  With parts NULL
 * (n 0): every partition the group has committed, or assigned to a member
 * (members are learned with DescribeGroups where the coordinator offers
 * it); else exactly the n partitions given (their offset field is
 * ignored).  Returns 0, a group-level error from the coordinator (e.g.
 * GROUP_AUTHORIZATION_FAILED), or a local error.  Free with
 * rill_group_lag_free.
 */
rill_err_t rill_admin_group_lag(rill_admin_t *a, const char *group,
                                const rill_topic_partition_t *parts, size_t n, int timeout_ms,
                                rill_group_lag_t **out);
void rill_group_lag_free(rill_group_lag_t *lag);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
