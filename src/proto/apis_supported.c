/*
 * apis_supported.c -- the table of APIs with a codec (see apis_supported.h).
 *
 * To add an API: include its codec header and add one row, keeping the rows
 * in ascending key order.
 */
#include "proto/apis_supported.h"

#include "proto/api.h"
#include "proto/api_alter_configs.h"
#include "proto/api_configs.h"
#include "proto/api_fetch.h"
#include "proto/api_group.h"
#include "proto/api_init_producer_id.h"
#include "proto/api_list_offsets.h"
#include "proto/api_metadata.h"
#include "proto/api_offsets.h"
#include "proto/api_produce.h"
#include "proto/api_sasl.h"
#include "proto/api_topics.h"

static const struct {
    int16_t key, min, max;
} rows[] = {
    {RILL_API_PRODUCE, RILL_PRODUCE_MIN_VER, RILL_PRODUCE_MAX_VER},
    {RILL_API_FETCH, RILL_FETCH_MIN_VER, RILL_FETCH_MAX_VER},
    {RILL_API_LIST_OFFSETS, RILL_LIST_OFFSETS_MIN_VER, RILL_LIST_OFFSETS_MAX_VER},
    {RILL_API_METADATA, RILL_METADATA_MIN_VER, RILL_METADATA_MAX_VER},
    {RILL_API_OFFSET_COMMIT, RILL_OFFSET_COMMIT_MIN_VER, RILL_OFFSET_COMMIT_MAX_VER},
    {RILL_API_OFFSET_FETCH, RILL_OFFSET_FETCH_MIN_VER, RILL_OFFSET_FETCH_MAX_VER},
    {RILL_API_FIND_COORDINATOR, RILL_FIND_COORDINATOR_MIN_VER, RILL_FIND_COORDINATOR_MAX_VER},
    {RILL_API_JOIN_GROUP, RILL_JOIN_GROUP_MIN_VER, RILL_JOIN_GROUP_MAX_VER},
    {RILL_API_HEARTBEAT, RILL_HEARTBEAT_MIN_VER, RILL_HEARTBEAT_MAX_VER},
    {RILL_API_LEAVE_GROUP, RILL_LEAVE_GROUP_MIN_VER, RILL_LEAVE_GROUP_MAX_VER},
    {RILL_API_SYNC_GROUP, RILL_SYNC_GROUP_MIN_VER, RILL_SYNC_GROUP_MAX_VER},
    {RILL_API_DESCRIBE_GROUPS, RILL_DESCRIBE_GROUPS_MIN_VER, RILL_DESCRIBE_GROUPS_MAX_VER},
    {RILL_API_LIST_GROUPS, RILL_LIST_GROUPS_MIN_VER, RILL_LIST_GROUPS_MAX_VER},
    {RILL_API_SASL_HANDSHAKE, RILL_SASL_HANDSHAKE_MIN_VER, RILL_SASL_HANDSHAKE_MAX_VER},
    {RILL_API_API_VERSIONS, RILL_API_VERSIONS_MIN_VER, RILL_API_VERSIONS_MAX_VER},
    {RILL_API_CREATE_TOPICS, RILL_CREATE_TOPICS_MIN_VER, RILL_CREATE_TOPICS_MAX_VER},
    {RILL_API_DELETE_TOPICS, RILL_DELETE_TOPICS_MIN_VER, RILL_DELETE_TOPICS_MAX_VER},
    {RILL_API_INIT_PRODUCER_ID, RILL_INIT_PRODUCER_ID_MIN_VER, RILL_INIT_PRODUCER_ID_MAX_VER},
    {RILL_API_DESCRIBE_CONFIGS, RILL_DESCRIBE_CONFIGS_MIN_VER, RILL_DESCRIBE_CONFIGS_MAX_VER},
    {RILL_API_ALTER_CONFIGS, RILL_ALTER_CONFIGS_MIN_VER, RILL_ALTER_CONFIGS_MAX_VER},
    {RILL_API_SASL_AUTHENTICATE, RILL_SASL_AUTHENTICATE_MIN_VER, RILL_SASL_AUTHENTICATE_MAX_VER},
    {RILL_API_CREATE_PARTITIONS, RILL_CREATE_PARTITIONS_MIN_VER, RILL_CREATE_PARTITIONS_MAX_VER},
    {RILL_API_DELETE_GROUPS, RILL_DELETE_GROUPS_MIN_VER, RILL_DELETE_GROUPS_MAX_VER},
    {RILL_API_INCREMENTAL_ALTER_CONFIGS, RILL_INCREMENTAL_ALTER_CONFIGS_MIN_VER,
     RILL_INCREMENTAL_ALTER_CONFIGS_MAX_VER},
};

#define NROWS (sizeof(rows) / sizeof(rows[0]))

bool rill__api_supported_range(int16_t api_key, int16_t *min_ver, int16_t *max_ver) {
    for (size_t i = 0; i < NROWS; i++) {
        if (rows[i].key == api_key) {
            *min_ver = rows[i].min;
            *max_ver = rows[i].max;
            return true;
        }
    }
    return false;
}

size_t rill__api_supported_list(rill_api_versions_key *out, size_t cap) {
    for (size_t i = 0; i < NROWS && i < cap; i++) {
        out[i].api_key = rows[i].key;
        out[i].min_version = rows[i].min;
        out[i].max_version = rows[i].max;
    }
    return NROWS;
}

int16_t rill__api_pick_version(int16_t api_key, int16_t peer_min, int16_t peer_max) {
    int16_t lo, hi;
    if (!rill__api_supported_range(api_key, &lo, &hi))
        return -1;
    if (peer_max < hi)
        hi = peer_max;
    if (peer_min > lo)
        lo = peer_min;
    return lo <= hi ? hi : -1;
}
