/*
 * api_metadata.c -- Metadata request/response codec (see api_metadata.h).
 */
#include "proto/api_metadata.h"

#include "proto/api.h"
#include "proto/fields.h"

static bool ver_ok(int16_t ver) {
    return ver >= RILL_METADATA_MIN_VER && ver <= RILL_METADATA_MAX_VER;
}

static bool flex(int16_t ver) { return rill__api_flexible(RILL_API_METADATA, ver); }

int rill__metadata_req_encode(rill_buf *b, int16_t ver, const rill_metadata_req *m) {
    if (!ver_ok(ver))
        return rill__enc_fail(b);
    /* Non-ignorable fields a version cannot carry: refuse rather than drop. */
    if ((ver < 4 && !m->allow_auto_topic_creation) ||
        ((ver < 8 || ver > 10) && m->include_cluster_authorized_operations) ||
        (ver < 8 && m->include_topic_authorized_operations))
        return rill__enc_fail(b);
    bool fx = flex(ver);
    int32_t n = m->ntopics;
    if (ver == 0 && n < 0)
        n = 0; /* v0: empty means all */
    else if (ver == 0 && n == 0)
        return rill__enc_fail(b); /* "no topics" cannot be said in v0 */
    rill__wr_array_n(b, fx, true, n);
    for (int32_t i = 0; i < n; i++) {
        const rill_metadata_req_topic *t = &m->topics[i];
        if (ver >= 10)
            rill__wr_uuid(b, t->topic_id);
        rill__wr_str(b, fx, ver >= 10, t->name);
        rill__wr_tags(b, fx);
    }
    if (ver >= 4)
        rill__wr_bool(b, m->allow_auto_topic_creation);
    if (ver >= 8 && ver <= 10)
        rill__wr_bool(b, m->include_cluster_authorized_operations);
    if (ver >= 8)
        rill__wr_bool(b, m->include_topic_authorized_operations);
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

int rill__metadata_req_decode(rill_rd *r, int16_t ver, rill_metadata_req *m, rill_arena *a) {
    if (!ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = flex(ver);
    memset(m, 0, sizeof(*m));
    m->allow_auto_topic_creation = true;
    size_t min = (ver >= 10 ? 16 : 0) + rill__min_str(fx) + rill__min_tags(fx);
    RILL_RD_ARRAY(r, fx, ver >= 1, min, a, m->topics, m->ntopics);
    for (int32_t i = 0; i < m->ntopics && !r->err; i++) {
        rill_metadata_req_topic *t = &m->topics[i];
        if (ver >= 10)
            rill__rd_uuid(r, t->topic_id);
        t->name = ver >= 10 ? rill__rd_str(r, fx) : rill__rd_str_nn(r, fx);
        rill__rd_tags_fx(r, fx);
    }
    if (ver == 0 && m->ntopics == 0)
        m->ntopics = -1;
    if (ver >= 4)
        m->allow_auto_topic_creation = rill__rd_bool(r);
    if (ver >= 8 && ver <= 10)
        m->include_cluster_authorized_operations = rill__rd_bool(r);
    if (ver >= 8)
        m->include_topic_authorized_operations = rill__rd_bool(r);
    rill__rd_tags_fx(r, fx);
    return r->err ? -1 : 0;
}

static void wr_partition(rill_buf *b, int16_t ver, bool fx, const rill_metadata_partition *p) {
    rill__wr_i16(b, p->error_code);
    rill__wr_i32(b, p->partition_index);
    rill__wr_i32(b, p->leader_id);
    if (ver >= 7)
        rill__wr_i32(b, p->leader_epoch);
    rill__wr_i32_array(b, fx, false, p->replica_nodes, p->nreplica_nodes);
    rill__wr_i32_array(b, fx, false, p->isr_nodes, p->nisr_nodes);
    if (ver >= 5)
        rill__wr_i32_array(b, fx, false, p->offline_replicas, p->noffline_replicas);
    rill__wr_tags(b, fx);
}

static void wr_topic(rill_buf *b, int16_t ver, bool fx, const rill_metadata_topic *t) {
    rill__wr_i16(b, t->error_code);
    rill__wr_str(b, fx, ver >= 12, t->name);
    if (ver >= 10)
        rill__wr_uuid(b, t->topic_id);
    if (ver >= 1)
        rill__wr_bool(b, t->is_internal);
    rill__wr_array_n(b, fx, false, t->npartitions);
    for (int32_t i = 0; i < t->npartitions; i++)
        wr_partition(b, ver, fx, &t->partitions[i]);
    if (ver >= 8)
        rill__wr_i32(b, t->topic_authorized_operations);
    rill__wr_tags(b, fx);
}

int rill__metadata_resp_encode(rill_buf *b, int16_t ver, const rill_metadata_resp *m) {
    if (!ver_ok(ver))
        return rill__enc_fail(b);
    bool fx = flex(ver);
    if (ver >= 3)
        rill__wr_i32(b, m->throttle_time_ms);
    rill__wr_array_n(b, fx, false, m->nbrokers);
    for (int32_t i = 0; i < m->nbrokers; i++) {
        const rill_metadata_broker *br = &m->brokers[i];
        rill__wr_i32(b, br->node_id);
        rill__wr_str(b, fx, false, br->host);
        rill__wr_i32(b, br->port);
        if (ver >= 1)
            rill__wr_str(b, fx, true, br->rack);
        rill__wr_tags(b, fx);
    }
    if (ver >= 2)
        rill__wr_str(b, fx, true, m->cluster_id);
    if (ver >= 1)
        rill__wr_i32(b, m->controller_id);
    rill__wr_array_n(b, fx, false, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++)
        wr_topic(b, ver, fx, &m->topics[i]);
    if (ver >= 8 && ver <= 10)
        rill__wr_i32(b, m->cluster_authorized_operations);
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

static void rd_partition(rill_rd *r, int16_t ver, bool fx, rill_metadata_partition *p,
                         rill_arena *a) {
    p->error_code = rill__rd_i16(r);
    p->partition_index = rill__rd_i32(r);
    p->leader_id = rill__rd_i32(r);
    p->leader_epoch = ver >= 7 ? rill__rd_i32(r) : -1;
    p->replica_nodes = rill__rd_i32_array(r, fx, false, a, &p->nreplica_nodes);
    p->isr_nodes = rill__rd_i32_array(r, fx, false, a, &p->nisr_nodes);
    if (ver >= 5)
        p->offline_replicas = rill__rd_i32_array(r, fx, false, a, &p->noffline_replicas);
    rill__rd_tags_fx(r, fx);
}

static void rd_topic(rill_rd *r, int16_t ver, bool fx, rill_metadata_topic *t, rill_arena *a) {
    t->error_code = rill__rd_i16(r);
    t->name = ver >= 12 ? rill__rd_str(r, fx) : rill__rd_str_nn(r, fx);
    if (ver >= 10)
        rill__rd_uuid(r, t->topic_id);
    if (ver >= 1)
        t->is_internal = rill__rd_bool(r);
    size_t min =
        10 + (ver >= 7 ? 4 : 0) + (2 + (ver >= 5)) * rill__min_arr(fx) + rill__min_tags(fx);
    RILL_RD_ARRAY(r, fx, false, min, a, t->partitions, t->npartitions);
    for (int32_t i = 0; i < t->npartitions && !r->err; i++)
        rd_partition(r, ver, fx, &t->partitions[i], a);
    t->topic_authorized_operations = ver >= 8 ? rill__rd_i32(r) : RILL_AUTHORIZED_OPS_UNKNOWN;
    rill__rd_tags_fx(r, fx);
}

int rill__metadata_resp_decode(rill_rd *r, int16_t ver, rill_metadata_resp *m, rill_arena *a) {
    if (!ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = flex(ver);
    memset(m, 0, sizeof(*m));
    if (ver >= 3)
        m->throttle_time_ms = rill__rd_i32(r);
    size_t min = 8 + rill__min_str(fx) * (1 + (ver >= 1)) + rill__min_tags(fx);
    RILL_RD_ARRAY(r, fx, false, min, a, m->brokers, m->nbrokers);
    for (int32_t i = 0; i < m->nbrokers && !r->err; i++) {
        rill_metadata_broker *br = &m->brokers[i];
        br->node_id = rill__rd_i32(r);
        br->host = rill__rd_str_nn(r, fx);
        br->port = rill__rd_i32(r);
        br->rack = ver >= 1 ? rill__rd_str(r, fx) : rill__str_null();
        rill__rd_tags_fx(r, fx);
    }
    m->cluster_id = ver >= 2 ? rill__rd_str(r, fx) : rill__str_null();
    m->controller_id = ver >= 1 ? rill__rd_i32(r) : -1;
    min = 2 + rill__min_str(fx) + (ver >= 10 ? 16 : 0) + (ver >= 1) + rill__min_arr(fx) +
          (ver >= 8 ? 4 : 0) + rill__min_tags(fx);
    RILL_RD_ARRAY(r, fx, false, min, a, m->topics, m->ntopics);
    for (int32_t i = 0; i < m->ntopics && !r->err; i++)
        rd_topic(r, ver, fx, &m->topics[i], a);
    m->cluster_authorized_operations =
        (ver >= 8 && ver <= 10) ? rill__rd_i32(r) : RILL_AUTHORIZED_OPS_UNKNOWN;
    rill__rd_tags_fx(r, fx);
    return r->err ? -1 : 0;
}
