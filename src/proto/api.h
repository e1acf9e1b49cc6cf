/*
 * api.h -- Kafka API keys, request/response headers and flexible versions.
 *
 * One place knows which version of which API uses the flexible (compact +
 * tagged fields) encoding, and therefore which header version goes with it.
 * The first flexible version per API is taken from Apache Kafka's message
 * schemas (flexibleVersions).
 */
#ifndef RILL_PROTO_API_H
#define RILL_PROTO_API_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "proto/reader.h"

typedef enum rill_api_key {
    RILL_API_PRODUCE = 0,
    RILL_API_FETCH = 1,
    RILL_API_LIST_OFFSETS = 2,
    RILL_API_METADATA = 3,
    RILL_API_LEADER_AND_ISR = 4,
    RILL_API_STOP_REPLICA = 5,
    RILL_API_UPDATE_METADATA = 6,
    RILL_API_CONTROLLED_SHUTDOWN = 7,
    RILL_API_OFFSET_COMMIT = 8,
    RILL_API_OFFSET_FETCH = 9,
    RILL_API_FIND_COORDINATOR = 10,
    RILL_API_JOIN_GROUP = 11,
    RILL_API_HEARTBEAT = 12,
    RILL_API_LEAVE_GROUP = 13,
    RILL_API_SYNC_GROUP = 14,
    RILL_API_DESCRIBE_GROUPS = 15,
    RILL_API_LIST_GROUPS = 16,
    RILL_API_SASL_HANDSHAKE = 17,
    RILL_API_API_VERSIONS = 18,
    RILL_API_CREATE_TOPICS = 19,
    RILL_API_DELETE_TOPICS = 20,
    RILL_API_DELETE_RECORDS = 21,
    RILL_API_INIT_PRODUCER_ID = 22,
    RILL_API_OFFSET_FOR_LEADER_EPOCH = 23,
    RILL_API_ADD_PARTITIONS_TO_TXN = 24,
    RILL_API_ADD_OFFSETS_TO_TXN = 25,
    RILL_API_END_TXN = 26,
    RILL_API_WRITE_TXN_MARKERS = 27,
    RILL_API_TXN_OFFSET_COMMIT = 28,
    RILL_API_DESCRIBE_ACLS = 29,
    RILL_API_CREATE_ACLS = 30,
    RILL_API_DELETE_ACLS = 31,
    RILL_API_DESCRIBE_CONFIGS = 32,
    RILL_API_ALTER_CONFIGS = 33,
    RILL_API_ALTER_REPLICA_LOG_DIRS = 34,
    RILL_API_DESCRIBE_LOG_DIRS = 35,
    RILL_API_SASL_AUTHENTICATE = 36,
    RILL_API_CREATE_PARTITIONS = 37,
    RILL_API_CREATE_DELEGATION_TOKEN = 38,
    RILL_API_RENEW_DELEGATION_TOKEN = 39,
    RILL_API_EXPIRE_DELEGATION_TOKEN = 40,
    RILL_API_DESCRIBE_DELEGATION_TOKEN = 41,
    RILL_API_DELETE_GROUPS = 42,
    RILL_API_ELECT_LEADERS = 43,
    RILL_API_INCREMENTAL_ALTER_CONFIGS = 44,
    RILL_API_ALTER_PARTITION_REASSIGNMENTS = 45,
    RILL_API_LIST_PARTITION_REASSIGNMENTS = 46,
    RILL_API_OFFSET_DELETE = 47,
    RILL_API_DESCRIBE_CLIENT_QUOTAS = 48,
    RILL_API_ALTER_CLIENT_QUOTAS = 49,
    RILL_API_DESCRIBE_USER_SCRAM_CREDENTIALS = 50,
    RILL_API_ALTER_USER_SCRAM_CREDENTIALS = 51,
    RILL_API_VOTE = 52,
    RILL_API_BEGIN_QUORUM_EPOCH = 53,
    RILL_API_END_QUORUM_EPOCH = 54,
    RILL_API_DESCRIBE_QUORUM = 55,
    RILL_API_ALTER_PARTITION = 56,
    RILL_API_UPDATE_FEATURES = 57,
    RILL_API_ENVELOPE = 58,
    RILL_API_FETCH_SNAPSHOT = 59,
    RILL_API_DESCRIBE_CLUSTER = 60,
    RILL_API_DESCRIBE_PRODUCERS = 61,
    RILL_API_BROKER_REGISTRATION = 62,
    RILL_API_BROKER_HEARTBEAT = 63,
    RILL_API_UNREGISTER_BROKER = 64,
    RILL_API_DESCRIBE_TRANSACTIONS = 65,
    RILL_API_LIST_TRANSACTIONS = 66,
    RILL_API_ALLOCATE_PRODUCER_IDS = 67,
    RILL_API_CONSUMER_GROUP_HEARTBEAT = 68,
    RILL_API_CONSUMER_GROUP_DESCRIBE = 69,
    RILL_API_CONTROLLER_REGISTRATION = 70,
    RILL_API_GET_TELEMETRY_SUBSCRIPTIONS = 71,
    RILL_API_PUSH_TELEMETRY = 72,
    RILL_API_ASSIGN_REPLICAS_TO_DIRS = 73,
    RILL_API_LIST_CLIENT_METRICS_RESOURCES = 74,
    RILL_API_DESCRIBE_TOPIC_PARTITIONS = 75,
    RILL_API_SHARE_GROUP_HEARTBEAT = 76,
    RILL_API_SHARE_GROUP_DESCRIBE = 77,
    RILL_API_SHARE_FETCH = 78,
    RILL_API_SHARE_ACKNOWLEDGE = 79,
    RILL_API_ADD_RAFT_VOTER = 80,
    RILL_API_REMOVE_RAFT_VOTER = 81,
    RILL_API_UPDATE_RAFT_VOTER = 82,
    RILL_API_INITIALIZE_SHARE_GROUP_STATE = 83,
    RILL_API_READ_SHARE_GROUP_STATE = 84,
    RILL_API_WRITE_SHARE_GROUP_STATE = 85,
    RILL_API_DELETE_SHARE_GROUP_STATE = 86,
    RILL_API_READ_SHARE_GROUP_STATE_SUMMARY = 87,
    RILL_API__COUNT = 88,
} rill_api_key;

/* Name of an API ("Produce"), or "Unknown". */
const char *rill__api_name(int16_t api_key);
/* First flexible version of an API, or -1 if none / unknown key. */
int16_t rill__api_first_flexible(int16_t api_key);
/* Whether the body of (api_key, version) uses flexible encodings. */
bool rill__api_flexible(int16_t api_key, int16_t version);
/*
 * Request header v2 (tagged fields) iff the body is flexible; response
 * header v1 iff flexible -- except ApiVersions responses, which always use
 * header v0 so that an old client can read the error (KIP-511).
 */
bool rill__api_resp_header_flexible(int16_t api_key, int16_t version);

/* Writes a request header.  The caller wrote the int32 size placeholder. */
void rill__req_header_write(rill_buf *b, int16_t api_key, int16_t api_version,
                            int32_t correlation_id, const char *client_id);

/* A decoded request header (broker side). */
typedef struct rill_req_header {
    int16_t api_key;
    int16_t api_version;
    int32_t correlation_id;
    rill_str client_id;
} rill_req_header;

/*
 * Reads a request header.  The client id is always an int16-length string,
 * even in header v2 (so that any broker can read an ApiVersions header).
 * For an API/version this codec does not know as flexible, the tagged
 * fields are not read: the caller decides what to do with the body.
 */
void rill__req_header_read(rill_rd *r, rill_req_header *h);

/* Response header: correlation id, plus tagged fields when flexible. */
void rill__resp_header_write(rill_buf *b, int32_t correlation_id, bool flexible);
int32_t rill__resp_header_read(rill_rd *r, bool flexible);

#endif
