/*
 * dispatch.c -- from a framed request to its handler: the ApiKey -> handler table with
 * the version ranges rill-broker advertises, request/response headers, and ApiVersions.
 *
 * What Kafka does with requests it cannot serve, and so what we do:
 *   - an API key it does not know: the connection is closed (kafka-python 2.0.2's version
 *     probe relies on exactly that, broker_anchors.md §3.1);
 *   - a version of ApiVersions it does not know: a v0 body with UNSUPPORTED_VERSION and
 *     the broker's ranges, under response header v0, without parsing the request
 *     (KIP-511; RequestContext.java);
 *   - a version of any other API it does not advertise: the request cannot be parsed, the
 *     connection is closed (Kafka's SocketServer drops it with "Unsupported version").
 *
 * The version ranges are those of the codecs in src/proto (their RILL_*_MIN/MAX_VER),
 * which cover the union of broker_anchors.md §3.5 including the flexible versions.  The
 * group APIs go to the group coordinator (h_group.c).  SASL is not served: without it
 * advertised, clients configured for SASL say so at once instead of failing half-way.
 */
#include <stdio.h>
#include <string.h>

#include "broker/server/handlers.h"
#include "common/clock.h"
#include "common/endian.h"
#include "proto/api_alter_configs.h"
#include "proto/api_configs.h"
#include "proto/api_fetch.h"
#include "proto/api_group.h"
#include "proto/api_init_producer_id.h"
#include "proto/api_list_offsets.h"
#include "proto/api_metadata.h"
#include "proto/api_offsets.h"
#include "proto/api_produce.h"
#include "proto/api_topics.h"
#include "proto/api_versions.h"
#include "proto/writer.h"

static const rill_api_entry table[RILL_API__COUNT] = {
    [RILL_API_PRODUCE] = {RILL_PRODUCE_MIN_VER, RILL_PRODUCE_MAX_VER, rill__h_produce},
    [RILL_API_FETCH] = {RILL_FETCH_MIN_VER, RILL_FETCH_MAX_VER, rill__h_fetch},
    [RILL_API_LIST_OFFSETS] = {RILL_LIST_OFFSETS_MIN_VER, RILL_LIST_OFFSETS_MAX_VER,
                               rill__h_list_offsets},
    [RILL_API_METADATA] = {RILL_METADATA_MIN_VER, RILL_METADATA_MAX_VER, rill__h_metadata},
    [RILL_API_FIND_COORDINATOR] = {RILL_FIND_COORDINATOR_MIN_VER, RILL_FIND_COORDINATOR_MAX_VER,
                                   rill__h_find_coordinator},
    [RILL_API_API_VERSIONS] = {RILL_API_VERSIONS_MIN_VER, RILL_API_VERSIONS_MAX_VER,
                               rill__h_api_versions},
    [RILL_API_CREATE_TOPICS] = {RILL_CREATE_TOPICS_MIN_VER, RILL_CREATE_TOPICS_MAX_VER,
                                rill__h_create_topics},
    [RILL_API_DELETE_TOPICS] = {RILL_DELETE_TOPICS_MIN_VER, RILL_DELETE_TOPICS_MAX_VER,
                                rill__h_delete_topics},
    [RILL_API_INIT_PRODUCER_ID] = {RILL_INIT_PRODUCER_ID_MIN_VER, RILL_INIT_PRODUCER_ID_MAX_VER,
                                   rill__h_init_producer_id},
    [RILL_API_DESCRIBE_CONFIGS] = {RILL_DESCRIBE_CONFIGS_MIN_VER, RILL_DESCRIBE_CONFIGS_MAX_VER,
                                   rill__h_describe_configs},
    [RILL_API_ALTER_CONFIGS] = {RILL_ALTER_CONFIGS_MIN_VER, RILL_ALTER_CONFIGS_MAX_VER,
                                rill__h_alter_configs},
    [RILL_API_INCREMENTAL_ALTER_CONFIGS] = {RILL_INCREMENTAL_ALTER_CONFIGS_MIN_VER,
                                            RILL_INCREMENTAL_ALTER_CONFIGS_MAX_VER,
                                            rill__h_incremental_alter_configs},
    [RILL_API_CREATE_PARTITIONS] = {RILL_CREATE_PARTITIONS_MIN_VER, RILL_CREATE_PARTITIONS_MAX_VER,
                                    rill__h_create_partitions},
    [RILL_API_OFFSET_COMMIT] = {RILL_OFFSET_COMMIT_MIN_VER, RILL_OFFSET_COMMIT_MAX_VER,
                                rill__h_offset_commit},
    [RILL_API_OFFSET_FETCH] = {RILL_OFFSET_FETCH_MIN_VER, RILL_OFFSET_FETCH_MAX_VER,
                               rill__h_offset_fetch},
    [RILL_API_JOIN_GROUP] = {RILL_JOIN_GROUP_MIN_VER, RILL_JOIN_GROUP_MAX_VER, rill__h_join_group},
    [RILL_API_HEARTBEAT] = {RILL_HEARTBEAT_MIN_VER, RILL_HEARTBEAT_MAX_VER, rill__h_heartbeat},
    [RILL_API_LEAVE_GROUP] = {RILL_LEAVE_GROUP_MIN_VER, RILL_LEAVE_GROUP_MAX_VER,
                              rill__h_leave_group},
    [RILL_API_SYNC_GROUP] = {RILL_SYNC_GROUP_MIN_VER, RILL_SYNC_GROUP_MAX_VER, rill__h_sync_group},
    [RILL_API_DESCRIBE_GROUPS] = {RILL_DESCRIBE_GROUPS_MIN_VER, RILL_DESCRIBE_GROUPS_MAX_VER,
                                  rill__h_describe_groups},
    [RILL_API_LIST_GROUPS] = {RILL_LIST_GROUPS_MIN_VER, RILL_LIST_GROUPS_MAX_VER,
                              rill__h_list_groups},
    [RILL_API_DELETE_GROUPS] = {RILL_DELETE_GROUPS_MIN_VER, RILL_DELETE_GROUPS_MAX_VER,
                                rill__h_delete_groups},
};

const rill_api_entry *rill__api_entry(int16_t key) {
    if (key < 0 || key >= RILL_API__COUNT || !table[key].fn)
        return NULL;
    return &table[key];
}

/*
 * Produce v0-v2 are advertised but not served (a v0-v2 request still closes the
 * connection, as any version outside the table's range).  librdkafka up to 2.8 only
 * compresses a batch when the broker advertises Produce v0 (its compression check asks
 * for version 0 exactly, confluentinc/librdkafka#4956): advertising 3 made every lz4,
 * gzip and snappy producer built on it send uncompressed batches to us.  Kafka 4.0
 * answers the same way for the same reason (KAFKA-18659).  Clients pick the highest
 * version both sides know, so none picks v0-v2.
 */
#define PRODUCE_ADVERTISED_MIN 0

/* Our rows for an ApiVersions response, from the arena. */
static rill_api_versions_key *our_keys(rill_arena *a, int32_t *n) {
    int32_t count = 0;
    for (int k = 0; k < RILL_API__COUNT; k++)
        count += table[k].fn != NULL;
    rill_api_versions_key *keys = rill__arena_calloc(a, (size_t)count, sizeof(*keys));
    if (!keys)
        return NULL;
    int32_t i = 0;
    for (int k = 0; k < RILL_API__COUNT; k++)
        if (table[k].fn) {
            keys[i].api_key = (int16_t)k;
            keys[i].min_version = k == RILL_API_PRODUCE ? PRODUCE_ADVERTISED_MIN : table[k].min;
            keys[i].max_version = table[k].max;
            i++;
        }
    *n = count;
    return keys;
}

static int api_versions_answer(rill_req *q, int16_t body_ver, int16_t error) {
    rill_api_versions_resp m = {0};
    m.error_code = error;
    m.api_keys = our_keys(&q->srv->arena, &m.napi_keys);
    if (!m.api_keys)
        return -1;
    rill__req_error(q, error);
    if (rill__api_versions_resp_encode(&q->resp->buf, body_ver, &m) != 0)
        return -1;
    rill__req_finish(q);
    return 0;
}

int rill__h_api_versions(rill_req *q) {
    rill_api_versions_req m;
    if (rill__api_versions_req_decode(&q->r, q->h.api_version, &m, &q->srv->arena) != 0 ||
        rill__rd_remain(&q->r) != 0)
        return -1;
    return api_versions_answer(q, q->h.api_version, 0);
}

/* Prepares q->resp: size placeholder, response header. */
static int start_response(rill_req *q, bool flexible_header) {
    rill_resp *r = rill__resp_get(q->srv);
    if (!r)
        return -1;
    r->api_key = q->h.api_key;
    r->start_us = rill__mono_us();
    rill__wr_reserve32(&r->buf);
    rill__resp_header_write(&r->buf, q->h.correlation_id, flexible_header);
    r->hdr_len = r->buf.len;
    q->resp = r;
    return 0;
}

static int reject(rill_server *srv, rill_session *s, const char *fmt, int16_t key, int16_t ver) {
    char why[160];
    snprintf(why, sizeof(why), fmt, rill__api_name(key), (int)key, (int)ver);
    srv->metrics.bad_frames++;
    rill__session_close(s, RILL_LOG_WARNING, why);
    return -1;
}

int rill__dispatch(rill_server *srv, rill_session *s, uint8_t *frame, size_t len) {
    rill_req q;
    memset(&q, 0, sizeof(q));
    q.srv = srv;
    q.s = s;
    q.frame = frame;
    q.len = len;
    int16_t key = (int16_t)rill__ld16(frame), ver = (int16_t)rill__ld16(frame + 2);
    const rill_api_entry *e = rill__api_entry(key);
    if (!e)
        return reject(srv, s, "request for an API this broker does not serve: %s (key %d) v%d", key,
                      ver);
    rill__rd_init(&q.r, frame, len);
    if (key == RILL_API_API_VERSIONS && (ver < e->min || ver > e->max)) {
        /* KIP-511: header v0 fields only, body not parsed, v0 answer. */
        q.h.api_key = key;
        q.h.api_version = ver;
        q.h.correlation_id = (int32_t)rill__ld32(frame + 4);
        if (start_response(&q, false) != 0 ||
            api_versions_answer(&q, rill__api_versions_resp_version(ver),
                                RILL_ERR_UNSUPPORTED_VERSION) != 0) {
            rill__resp_put(srv, q.resp);
            rill__arena_reset(&srv->arena);
            rill__session_close(s, RILL_LOG_ERR, "cannot encode ApiVersions");
            return -1;
        }
        rill__arena_reset(&srv->arena);
        return s->dead ? -1 : 0;
    }
    if (ver < e->min || ver > e->max)
        return reject(srv, s, "unsupported version: %s (key %d) v%d", key, ver);
    rill__req_header_read(&q.r, &q.h);
    if (q.r.err)
        return reject(srv, s, "malformed request header: %s (key %d) v%d", key, ver);
    q.flexible = rill__api_flexible(key, ver);
    RILL_LOG(srv->lg, RILL_LOG_DEBUG, "request", "%s: %s v%d correlation id %d", s->peer,
             rill__api_name(key), (int)ver, (int)q.h.correlation_id);
    if (start_response(&q, rill__api_resp_header_flexible(key, ver)) != 0) {
        rill__session_close(s, RILL_LOG_ERR, "out of memory");
        return -1;
    }
    int rc = e->fn(&q);
    rill__arena_reset(&srv->arena);
    if (q.resp) {
        /* The handler failed before ending the request. */
        rill__resp_put(srv, q.resp);
        q.resp = NULL;
        if (rc == 0)
            rc = -1;
    }
    if (rc != 0) {
        if (!s->dead)
            reject(srv, s, "malformed request body: %s (key %d) v%d", key, ver);
        return -1;
    }
    return s->dead ? -1 : 0;
}
