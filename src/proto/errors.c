/*
 * errors.c -- names, descriptions and retriability of rill_err_t values.
 *
 * Kafka's codes keep Kafka's numbers and names (Errors.java); which ones are
 * retriable follows the Java client (the RetriableException subclasses).
 */
#include <stddef.h>

#include "rill.h"

typedef struct {
    const char *name;
    const char *desc;
    int retriable;
} errinfo;

static const errinfo local[] = {
    [RILL_ERR__BEGIN - RILL_ERR_QUEUE_FULL] = {"QUEUE_FULL", "Local: producer queue is full", 0},
    [RILL_ERR__BEGIN - RILL_ERR_TIMED_OUT] = {"TIMED_OUT", "Local: timed out", 0},
    [RILL_ERR__BEGIN -
        RILL_ERR_MSG_SIZE_TOO_LARGE] = {"MSG_SIZE_TOO_LARGE",
                                        "Local: message larger than message.max.bytes", 0},
    [RILL_ERR__BEGIN - RILL_ERR_INVALID_ARG] = {"INVALID_ARG", "Local: invalid argument", 0},
    [RILL_ERR__BEGIN -
        RILL_ERR_DESTROYED] = {"DESTROYED", "Local: handle destroyed before delivery", 0},
    [RILL_ERR__BEGIN - RILL_ERR_TRANSPORT] = {"TRANSPORT", "Local: broker transport failure", 1},
    [RILL_ERR__BEGIN - RILL_ERR_BAD_MSG] = {"BAD_MSG", "Local: malformed response from broker", 1},
    [RILL_ERR__BEGIN - RILL_ERR_NO_MEMORY] = {"NO_MEMORY", "Local: out of memory", 0},
    [RILL_ERR__BEGIN -
        RILL_ERR_UNKNOWN_PARTITION] = {"UNKNOWN_PARTITION", "Local: unknown partition", 0},
    [RILL_ERR__BEGIN - RILL_ERR_UNKNOWN_TOPIC] = {"UNKNOWN_TOPIC", "Local: unknown topic", 0},
    [RILL_ERR__BEGIN - RILL_ERR_FATAL] = {"FATAL", "Local: fatal error", 0},
    [RILL_ERR__BEGIN -
        RILL_ERR_UNSUPPORTED_FEATURE] = {"UNSUPPORTED_FEATURE",
                                         "Local: broker does not support a required API version",
                                         0},
    [RILL_ERR__BEGIN -
        RILL_ERR_ALL_BROKERS_DOWN] = {"ALL_BROKERS_DOWN", "Local: all brokers are down", 1},
    [RILL_ERR__BEGIN - RILL_ERR_CONFIG] = {"CONFIG", "Local: invalid configuration", 0},
    [RILL_ERR__BEGIN - RILL_ERR_PURGED] = {"PURGED", "Local: message purged from queue", 0},
    [RILL_ERR__BEGIN - RILL_ERR_STATE] = {"STATE", "Local: operation not valid in this state", 0},
    [RILL_ERR__BEGIN -
        RILL_ERR_PARTITION_EOF] = {"PARTITION_EOF", "Local: reached end of partition", 0},
};

static const errinfo kafka[] = {
    [0] = {"NO_ERROR", "Success", 0},
    [1] = {"OFFSET_OUT_OF_RANGE", "Broker: offset out of range", 0},
    [2] = {"CORRUPT_MESSAGE", "Broker: corrupt message", 1},
    [3] = {"UNKNOWN_TOPIC_OR_PARTITION", "Broker: unknown topic or partition", 1},
    [4] = {"INVALID_FETCH_SIZE", "Broker: invalid fetch size", 0},
    [5] = {"LEADER_NOT_AVAILABLE", "Broker: leader not available", 1},
    [6] = {"NOT_LEADER_OR_FOLLOWER", "Broker: not leader or follower", 1},
    [7] = {"REQUEST_TIMED_OUT", "Broker: request timed out", 1},
    [8] = {"BROKER_NOT_AVAILABLE", "Broker: broker not available", 0},
    [9] = {"REPLICA_NOT_AVAILABLE", "Broker: replica not available", 1},
    [10] = {"MESSAGE_TOO_LARGE", "Broker: message too large", 0},
    [11] = {"STALE_CONTROLLER_EPOCH", "Broker: stale controller epoch", 0},
    [12] = {"OFFSET_METADATA_TOO_LARGE", "Broker: offset metadata too large", 0},
    [13] = {"NETWORK_EXCEPTION", "Broker: network exception", 1},
    [14] = {"COORDINATOR_LOAD_IN_PROGRESS", "Broker: coordinator load in progress", 1},
    [15] = {"COORDINATOR_NOT_AVAILABLE", "Broker: coordinator not available", 1},
    [16] = {"NOT_COORDINATOR", "Broker: not coordinator", 1},
    [17] = {"INVALID_TOPIC_EXCEPTION", "Broker: invalid topic exception", 0},
    [18] = {"RECORD_LIST_TOO_LARGE", "Broker: record list too large", 0},
    [19] = {"NOT_ENOUGH_REPLICAS", "Broker: not enough replicas", 1},
    [20] = {"NOT_ENOUGH_REPLICAS_AFTER_APPEND", "Broker: not enough replicas after append", 1},
    [21] = {"INVALID_REQUIRED_ACKS", "Broker: invalid required acks", 0},
    [22] = {"ILLEGAL_GENERATION", "Broker: illegal generation", 0},
    [23] = {"INCONSISTENT_GROUP_PROTOCOL", "Broker: inconsistent group protocol", 0},
    [24] = {"INVALID_GROUP_ID", "Broker: invalid group id", 0},
    [25] = {"UNKNOWN_MEMBER_ID", "Broker: unknown member id", 0},
    [26] = {"INVALID_SESSION_TIMEOUT", "Broker: invalid session timeout", 0},
    [27] = {"REBALANCE_IN_PROGRESS", "Broker: rebalance in progress", 0},
    [28] = {"INVALID_COMMIT_OFFSET_SIZE", "Broker: invalid commit offset size", 0},
    [29] = {"TOPIC_AUTHORIZATION_FAILED", "Broker: topic authorization failed", 0},
    [30] = {"GROUP_AUTHORIZATION_FAILED", "Broker: group authorization failed", 0},
    [31] = {"CLUSTER_AUTHORIZATION_FAILED", "Broker: cluster authorization failed", 0},
    [32] = {"INVALID_TIMESTAMP", "Broker: invalid timestamp", 0},
    [33] = {"UNSUPPORTED_SASL_MECHANISM", "Broker: unsupported sasl mechanism", 0},
    [34] = {"ILLEGAL_SASL_STATE", "Broker: illegal sasl state", 0},
    [35] = {"UNSUPPORTED_VERSION", "Broker: unsupported version", 0},
    [36] = {"TOPIC_ALREADY_EXISTS", "Broker: topic already exists", 0},
    [37] = {"INVALID_PARTITIONS", "Broker: invalid partitions", 0},
    [38] = {"INVALID_REPLICATION_FACTOR", "Broker: invalid replication factor", 0},
    [39] = {"INVALID_REPLICA_ASSIGNMENT", "Broker: invalid replica assignment", 0},
    [40] = {"INVALID_CONFIG", "Broker: invalid config", 0},
    [41] = {"NOT_CONTROLLER", "Broker: not controller", 0},
    [42] = {"INVALID_REQUEST", "Broker: invalid request", 0},
    [43] = {"UNSUPPORTED_FOR_MESSAGE_FORMAT", "Broker: unsupported for message format", 0},
    [44] = {"POLICY_VIOLATION", "Broker: policy violation", 0},
    [45] = {"OUT_OF_ORDER_SEQUENCE_NUMBER", "Broker: out of order sequence number", 0},
    [46] = {"DUPLICATE_SEQUENCE_NUMBER", "Broker: duplicate sequence number", 0},
    [47] = {"INVALID_PRODUCER_EPOCH", "Broker: invalid producer epoch", 0},
    [48] = {"INVALID_TXN_STATE", "Broker: invalid txn state", 0},
    [49] = {"INVALID_PRODUCER_ID_MAPPING", "Broker: invalid producer id mapping", 0},
    [50] = {"INVALID_TRANSACTION_TIMEOUT", "Broker: invalid transaction timeout", 0},
    [51] = {"CONCURRENT_TRANSACTIONS", "Broker: concurrent transactions", 1},
    [52] = {"TRANSACTION_COORDINATOR_FENCED", "Broker: transaction coordinator fenced", 0},
    [53] = {"TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
            "Broker: transactional id authorization failed", 0},
    [54] = {"SECURITY_DISABLED", "Broker: security disabled", 0},
    [55] = {"OPERATION_NOT_ATTEMPTED", "Broker: operation not attempted", 0},
    [56] = {"KAFKA_STORAGE_ERROR", "Broker: kafka storage error", 1},
    [57] = {"LOG_DIR_NOT_FOUND", "Broker: log dir not found", 0},
    [58] = {"SASL_AUTHENTICATION_FAILED", "Broker: sasl authentication failed", 0},
    [59] = {"UNKNOWN_PRODUCER_ID", "Broker: unknown producer id", 0},
    [60] = {"REASSIGNMENT_IN_PROGRESS", "Broker: reassignment in progress", 0},
    [61] = {"DELEGATION_TOKEN_AUTH_DISABLED", "Broker: delegation token auth disabled", 0},
    [62] = {"DELEGATION_TOKEN_NOT_FOUND", "Broker: delegation token not found", 0},
    [63] = {"DELEGATION_TOKEN_OWNER_MISMATCH", "Broker: delegation token owner mismatch", 0},
    [64] = {"DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", "Broker: delegation token request not allowed",
            0},
    [65] = {"DELEGATION_TOKEN_AUTHORIZATION_FAILED",
            "Broker: delegation token authorization failed", 0},
    [66] = {"DELEGATION_TOKEN_EXPIRED", "Broker: delegation token expired", 0},
    [67] = {"INVALID_PRINCIPAL_TYPE", "Broker: invalid principal type", 0},
    [68] = {"NON_EMPTY_GROUP", "Broker: non empty group", 0},
    [69] = {"GROUP_ID_NOT_FOUND", "Broker: group id not found", 0},
    [70] = {"FETCH_SESSION_ID_NOT_FOUND", "Broker: fetch session id not found", 1},
    [71] = {"INVALID_FETCH_SESSION_EPOCH", "Broker: invalid fetch session epoch", 1},
    [72] = {"LISTENER_NOT_FOUND", "Broker: listener not found", 0},
    [73] = {"TOPIC_DELETION_DISABLED", "Broker: topic deletion disabled", 0},
    [74] = {"FENCED_LEADER_EPOCH", "Broker: fenced leader epoch", 1},
    [75] = {"UNKNOWN_LEADER_EPOCH", "Broker: unknown leader epoch", 1},
    [76] = {"UNSUPPORTED_COMPRESSION_TYPE", "Broker: unsupported compression type", 0},
    [77] = {"STALE_BROKER_EPOCH", "Broker: stale broker epoch", 0},
    [78] = {"OFFSET_NOT_AVAILABLE", "Broker: offset not available", 1},
    [79] = {"MEMBER_ID_REQUIRED", "Broker: member id required", 0},
    [80] = {"PREFERRED_LEADER_NOT_AVAILABLE", "Broker: preferred leader not available", 1},
    [81] = {"GROUP_MAX_SIZE_REACHED", "Broker: group max size reached", 0},
    [82] = {"FENCED_INSTANCE_ID", "Broker: fenced instance id", 0},
    [83] = {"ELIGIBLE_LEADERS_NOT_AVAILABLE", "Broker: eligible leaders not available", 1},
    [84] = {"ELECTION_NOT_NEEDED", "Broker: election not needed", 0},
    [85] = {"NO_REASSIGNMENT_IN_PROGRESS", "Broker: no reassignment in progress", 0},
    [86] = {"GROUP_SUBSCRIBED_TO_TOPIC", "Broker: group subscribed to topic", 0},
    [87] = {"INVALID_RECORD", "Broker: invalid record", 0},
    [88] = {"UNSTABLE_OFFSET_COMMIT", "Broker: unstable offset commit", 1},
    [89] = {"THROTTLING_QUOTA_EXCEEDED", "Broker: throttling quota exceeded", 1},
    [90] = {"PRODUCER_FENCED", "Broker: producer fenced", 0},
    [91] = {"RESOURCE_NOT_FOUND", "Broker: resource not found", 0},
    [92] = {"DUPLICATE_RESOURCE", "Broker: duplicate resource", 0},
    [93] = {"UNACCEPTABLE_CREDENTIAL", "Broker: unacceptable credential", 0},
    [94] = {"INCONSISTENT_VOTER_SET", "Broker: inconsistent voter set", 0},
    [95] = {"INVALID_UPDATE_VERSION", "Broker: invalid update version", 0},
    [96] = {"FEATURE_UPDATE_FAILED", "Broker: feature update failed", 0},
    [97] = {"PRINCIPAL_DESERIALIZATION_FAILURE", "Broker: principal deserialization failure", 0},
    [98] = {"SNAPSHOT_NOT_FOUND", "Broker: snapshot not found", 0},
    [99] = {"POSITION_OUT_OF_RANGE", "Broker: position out of range", 0},
    [100] = {"UNKNOWN_TOPIC_ID", "Broker: unknown topic id", 1},
    [101] = {"DUPLICATE_BROKER_REGISTRATION", "Broker: duplicate broker registration", 0},
    [102] = {"BROKER_ID_NOT_REGISTERED", "Broker: broker id not registered", 0},
    [103] = {"INCONSISTENT_TOPIC_ID", "Broker: inconsistent topic id", 1},
    [104] = {"INCONSISTENT_CLUSTER_ID", "Broker: inconsistent cluster id", 0},
    [105] = {"TRANSACTIONAL_ID_NOT_FOUND", "Broker: transactional id not found", 0},
    [106] = {"FETCH_SESSION_TOPIC_ID_ERROR", "Broker: fetch session topic id error", 1},
    [107] = {"INELIGIBLE_REPLICA", "Broker: ineligible replica", 0},
    [108] = {"NEW_LEADER_ELECTED", "Broker: new leader elected", 1},
    [109] = {"OFFSET_MOVED_TO_TIERED_STORAGE", "Broker: offset moved to tiered storage", 0},
    [110] = {"FENCED_MEMBER_EPOCH", "Broker: fenced member epoch", 0},
    [111] = {"UNRELEASED_INSTANCE_ID", "Broker: unreleased instance id", 0},
    [112] = {"UNSUPPORTED_ASSIGNOR", "Broker: unsupported assignor", 0},
    [113] = {"STALE_MEMBER_EPOCH", "Broker: stale member epoch", 0},
    [114] = {"MISMATCHED_ENDPOINT_TYPE", "Broker: mismatched endpoint type", 0},
    [115] = {"UNSUPPORTED_ENDPOINT_TYPE", "Broker: unsupported endpoint type", 0},
    [116] = {"UNKNOWN_CONTROLLER_ID", "Broker: unknown controller id", 0},
    [117] = {"UNKNOWN_SUBSCRIPTION_ID", "Broker: unknown subscription id", 0},
    [118] = {"TELEMETRY_TOO_LARGE", "Broker: telemetry too large", 0},
    [119] = {"INVALID_REGISTRATION", "Broker: invalid registration", 0},
};

static const errinfo *lookup(rill_err_t err) {
    if (err == RILL_ERR_UNKNOWN_SERVER_ERROR) {
        static const errinfo e = {"UNKNOWN_SERVER_ERROR", "Broker: unknown server error", 0};
        return &e;
    }
    if (err >= 0 && (size_t)err < sizeof(kafka) / sizeof(kafka[0]) && kafka[err].name)
        return &kafka[err];
    if (err < RILL_ERR__BEGIN) {
        size_t i = (size_t)(RILL_ERR__BEGIN - (int)err);
        if (i < sizeof(local) / sizeof(local[0]) && local[i].name)
            return &local[i];
    }
    return NULL;
}

const char *rill_err_name(rill_err_t err) {
    const errinfo *e = lookup(err);
    return e ? e->name : "UNKNOWN_ERROR_CODE";
}

const char *rill_err_str(rill_err_t err) {
    const errinfo *e = lookup(err);
    return e ? e->desc : "Unknown error code";
}

int rill_err_is_retriable(rill_err_t err) {
    const errinfo *e = lookup(err);
    return e ? e->retriable : 0;
}
