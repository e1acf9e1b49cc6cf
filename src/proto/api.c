/*
 * api.c -- API names, flexible-version table and headers (see api.h).
 */
#include "proto/api.h"

#include "proto/writer.h"

static const struct {
    const char *name;
    int16_t first_flexible;
} apis[RILL_API__COUNT] = {
    [0] = {"Produce", 9},
    [1] = {"Fetch", 12},
    [2] = {"ListOffsets", 6},
    [3] = {"Metadata", 9},
    [4] = {"LeaderAndIsr", 4},
    [5] = {"StopReplica", 2},
    [6] = {"UpdateMetadata", 6},
    [7] = {"ControlledShutdown", 3},
    [8] = {"OffsetCommit", 8},
    [9] = {"OffsetFetch", 6},
    [10] = {"FindCoordinator", 3},
    [11] = {"JoinGroup", 6},
    [12] = {"Heartbeat", 4},
    [13] = {"LeaveGroup", 4},
    [14] = {"SyncGroup", 4},
    [15] = {"DescribeGroups", 5},
    [16] = {"ListGroups", 3},
    [17] = {"SaslHandshake", -1},
    [18] = {"ApiVersions", 3},
    [19] = {"CreateTopics", 5},
    [20] = {"DeleteTopics", 4},
    [21] = {"DeleteRecords", 2},
    [22] = {"InitProducerId", 2},
    [23] = {"OffsetForLeaderEpoch", 4},
    [24] = {"AddPartitionsToTxn", 3},
    [25] = {"AddOffsetsToTxn", 3},
    [26] = {"EndTxn", 3},
    [27] = {"WriteTxnMarkers", 1},
    [28] = {"TxnOffsetCommit", 3},
    [29] = {"DescribeAcls", 2},
    [30] = {"CreateAcls", 2},
    [31] = {"DeleteAcls", 2},
    [32] = {"DescribeConfigs", 4},
    [33] = {"AlterConfigs", 2},
    [34] = {"AlterReplicaLogDirs", 2},
    [35] = {"DescribeLogDirs", 2},
    [36] = {"SaslAuthenticate", 2},
    [37] = {"CreatePartitions", 2},
    [38] = {"CreateDelegationToken", 2},
    [39] = {"RenewDelegationToken", 2},
    [40] = {"ExpireDelegationToken", 2},
    [41] = {"DescribeDelegationToken", 2},
    [42] = {"DeleteGroups", 2},
    [43] = {"ElectLeaders", 2},
    [44] = {"IncrementalAlterConfigs", 1},
    [45] = {"AlterPartitionReassignments", 0},
    [46] = {"ListPartitionReassignments", 0},
    [47] = {"OffsetDelete", -1},
    [48] = {"DescribeClientQuotas", 1},
    [49] = {"AlterClientQuotas", 1},
    [50] = {"DescribeUserScramCredentials", 0},
    [51] = {"AlterUserScramCredentials", 0},
    [52] = {"Vote", 0},
    [53] = {"BeginQuorumEpoch", 1},
    [54] = {"EndQuorumEpoch", 1},
    [55] = {"DescribeQuorum", 0},
    [56] = {"AlterPartition", 0},
    [57] = {"UpdateFeatures", 0},
    [58] = {"Envelope", 0},
    [59] = {"FetchSnapshot", 0},
    [60] = {"DescribeCluster", 0},
    [61] = {"DescribeProducers", 0},
    [62] = {"BrokerRegistration", 0},
    [63] = {"BrokerHeartbeat", 0},
    [64] = {"UnregisterBroker", 0},
    [65] = {"DescribeTransactions", 0},
    [66] = {"ListTransactions", 0},
    [67] = {"AllocateProducerIds", 0},
    [68] = {"ConsumerGroupHeartbeat", 0},
    [69] = {"ConsumerGroupDescribe", 0},
    [70] = {"ControllerRegistration", 0},
    [71] = {"GetTelemetrySubscriptions", 0},
    [72] = {"PushTelemetry", 0},
    [73] = {"AssignReplicasToDirs", 0},
    [74] = {"ListClientMetricsResources", 0},
    [75] = {"DescribeTopicPartitions", 0},
    [76] = {"ShareGroupHeartbeat", 0},
    [77] = {"ShareGroupDescribe", 0},
    [78] = {"ShareFetch", 0},
    [79] = {"ShareAcknowledge", 0},
    [80] = {"AddRaftVoter", 0},
    [81] = {"RemoveRaftVoter", 0},
    [82] = {"UpdateRaftVoter", 0},
    [83] = {"InitializeShareGroupState", 0},
    [84] = {"ReadShareGroupState", 0},
    [85] = {"WriteShareGroupState", 0},
    [86] = {"DeleteShareGroupState", 0},
    [87] = {"ReadShareGroupStateSummary", 0},
};

const char *rill__api_name(int16_t k) {
    if (k < 0 || k >= RILL_API__COUNT || !apis[k].name)
        return "Unknown";
    return apis[k].name;
}

int16_t rill__api_first_flexible(int16_t k) {
    if (k < 0 || k >= RILL_API__COUNT || !apis[k].name)
        return -1;
    return apis[k].first_flexible;
}

bool rill__api_flexible(int16_t k, int16_t v) {
    int16_t f = rill__api_first_flexible(k);
    return f >= 0 && v >= f;
}

bool rill__api_resp_header_flexible(int16_t k, int16_t v) {
    if (k == RILL_API_API_VERSIONS)
        return false;
    return rill__api_flexible(k, v);
}

void rill__req_header_write(rill_buf *b, int16_t api_key, int16_t api_version,
                            int32_t correlation_id, const char *client_id) {
    rill__wr_i16(b, api_key);
    rill__wr_i16(b, api_version);
    rill__wr_i32(b, correlation_id);
    rill__wr_cstr(b, false, client_id);
    rill__wr_tags(b, rill__api_flexible(api_key, api_version));
}

void rill__req_header_read(rill_rd *r, rill_req_header *h) {
    h->api_key = rill__rd_i16(r);
    h->api_version = rill__rd_i16(r);
    h->correlation_id = rill__rd_i32(r);
    h->client_id = rill__rd_str(r, false);
    if (rill__api_flexible(h->api_key, h->api_version))
        rill__rd_tags(r);
}

void rill__resp_header_write(rill_buf *b, int32_t correlation_id, bool flexible) {
    rill__wr_i32(b, correlation_id);
    rill__wr_tags(b, flexible);
}

int32_t rill__resp_header_read(rill_rd *r, bool flexible) {
    int32_t id = rill__rd_i32(r);
    if (flexible)
        rill__rd_tags(r);
    return id;
}
