/*
 * api_fetch.c -- Fetch request/response codec (see api_fetch.h).
 *
 * Fetch is flexible from v12 on; RILL_FETCH_MIN_VER is 4, so the fields of
 * v1-v4 (throttle time, max bytes, isolation level, last stable offset,
 * aborted transactions) are always present here.
 */
#include "proto/api_fetch.h"

#include "proto/api.h"
#include "proto/fields.h"

#define FIRST_TOPIC_ID_VER 13

static bool ver_ok(int16_t ver) { return ver >= RILL_FETCH_MIN_VER && ver <= RILL_FETCH_MAX_VER; }

static bool uuid_is_zero(const uint8_t u[16]) {
    for (int i = 0; i < 16; i++)
        if (u[i])
            return false;
    return true;
}

/* A topic is named up to v12 and identified by its uuid from v13 on. */
static void wr_topic_ref(rill_buf *b, int16_t ver, bool fx, rill_str name, const uint8_t id[16]) {
    if (ver >= FIRST_TOPIC_ID_VER)
        rill__wr_uuid(b, id);
    else
        rill__wr_str(b, fx, false, name);
}

static void rd_topic_ref(rill_rd *r, int16_t ver, bool fx, rill_str *name, uint8_t id[16]) {
    if (ver >= FIRST_TOPIC_ID_VER) {
        *name = rill__str("");
        rill__rd_uuid(r, id);
    } else {
        *name = rill__rd_str_nn(r, fx);
        memset(id, 0, 16);
    }
}

/* Least bytes a topic reference takes. */
static size_t topic_ref_min(int16_t ver, bool fx) {
    return ver >= FIRST_TOPIC_ID_VER ? 16 : fx ? 1 : 2;
}

/* ---- Request ---- */

static void wr_req_partition(rill_buf *b, int16_t ver, bool fx, const rill_fetch_req_partition *p) {
    rill__wr_i32(b, p->partition);
    if (ver >= 9)
        rill__wr_i32(b, p->current_leader_epoch);
    rill__wr_i64(b, p->fetch_offset);
    if (ver >= 12)
        rill__wr_i32(b, p->last_fetched_epoch);
    if (ver >= 5)
        rill__wr_i64(b, p->log_start_offset);
    rill__wr_i32(b, p->partition_max_bytes);
    if (!fx)
        return;
    if (ver >= 17 && !uuid_is_zero(p->replica_directory_id)) {
        rill__wr_uvarint(b, 1);
        size_t at = rill__wr_tag_begin(b, 0);
        rill__wr_uuid(b, p->replica_directory_id);
        rill__wr_tag_end(b, at);
    } else {
        rill__wr_tags(b, fx);
    }
}

/* Top-level tags: ClusterId (0, v12+) and ReplicaState (1, v15+). */
static void wr_req_tags(rill_buf *b, int16_t ver, const rill_fetch_req *m) {
    bool cluster = !rill__str_is_null(m->cluster_id);
    bool replica = ver >= 15 && (m->replica_id != -1 || m->replica_epoch != -1);
    rill__wr_uvarint(b, (uint64_t)cluster + replica);
    if (cluster) {
        size_t at = rill__wr_tag_begin(b, 0);
        rill__wr_str(b, true, true, m->cluster_id);
        rill__wr_tag_end(b, at);
    }
    if (replica) {
        size_t at = rill__wr_tag_begin(b, 1);
        rill__wr_i32(b, m->replica_id);
        rill__wr_i64(b, m->replica_epoch);
        rill__wr_tags(b, true);
        rill__wr_tag_end(b, at);
    }
}

int rill__fetch_req_encode(rill_buf *b, int16_t ver, const rill_fetch_req *m) {
    if (!ver_ok(ver))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_FETCH, ver);
    if (ver <= 14)
        rill__wr_i32(b, m->replica_id);
    rill__wr_i32(b, m->max_wait_ms);
    rill__wr_i32(b, m->min_bytes);
    rill__wr_i32(b, m->max_bytes);
    rill__wr_i8(b, m->isolation_level);
    if (ver >= 7) {
        rill__wr_i32(b, m->session_id);
        rill__wr_i32(b, m->session_epoch);
    } else if (m->session_id != 0 || (m->session_epoch != -1 && m->session_epoch != 0)) {
        return rill__enc_fail(b); /* sessions need v7 */
    }
    rill__wr_array_n(b, fx, false, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++) {
        const rill_fetch_req_topic *t = &m->topics[i];
        wr_topic_ref(b, ver, fx, t->topic, t->topic_id);
        rill__wr_array_n(b, fx, false, t->npartitions);
        for (int32_t j = 0; j < t->npartitions; j++)
            wr_req_partition(b, ver, fx, &t->partitions[j]);
        rill__wr_tags(b, fx);
    }
    if (ver >= 7) {
        rill__wr_array_n(b, fx, false, m->nforgotten);
        for (int32_t i = 0; i < m->nforgotten; i++) {
            const rill_fetch_forgotten_topic *t = &m->forgotten[i];
            wr_topic_ref(b, ver, fx, t->topic, t->topic_id);
            rill__wr_i32_array(b, fx, false, t->partitions, t->npartitions);
            rill__wr_tags(b, fx);
        }
    } else if (m->nforgotten > 0) {
        return rill__enc_fail(b);
    }
    if (ver >= 11)
        rill__wr_str(b, fx, false, m->rack_id);
    if (fx)
        wr_req_tags(b, ver, m);
    return b->err ? -1 : 0;
}

static void rd_req_partition(rill_rd *r, int16_t ver, bool fx, rill_fetch_req_partition *p) {
    p->partition = rill__rd_i32(r);
    p->current_leader_epoch = ver >= 9 ? rill__rd_i32(r) : -1;
    p->fetch_offset = rill__rd_i64(r);
    p->last_fetched_epoch = ver >= 12 ? rill__rd_i32(r) : -1;
    p->log_start_offset = ver >= 5 ? rill__rd_i64(r) : -1;
    p->partition_max_bytes = rill__rd_i32(r);
    memset(p->replica_directory_id, 0, 16);
    if (!fx)
        return;
    uint32_t left = rill__rd_uvarint(r), tag;
    rill_rd f;
    while (rill__rd_tag_next(r, &left, &tag, &f)) {
        if (tag == 0 && ver >= 17) {
            rill__rd_uuid(&f, p->replica_directory_id);
            rill__rd_tag_done(r, &f);
        }
    }
}

static void rd_req_tags(rill_rd *r, int16_t ver, rill_fetch_req *m) {
    uint32_t left = rill__rd_uvarint(r), tag;
    rill_rd f;
    while (rill__rd_tag_next(r, &left, &tag, &f)) {
        if (tag == 0) {
            m->cluster_id = rill__rd_str(&f, true);
            rill__rd_tag_done(r, &f);
        } else if (tag == 1 && ver >= 15) {
            m->replica_id = rill__rd_i32(&f);
            m->replica_epoch = rill__rd_i64(&f);
            rill__rd_tags(&f);
            rill__rd_tag_done(r, &f);
        }
    }
}

static void rd_req_topics(rill_rd *r, int16_t ver, bool fx, rill_fetch_req *m, rill_arena *a) {
    size_t tag_min = fx ? 1 : 0;
    size_t len_min = fx ? 1 : 4;
    size_t part_min =
        4 + (ver >= 9 ? 4 : 0) + 8 + (ver >= 12 ? 4 : 0) + (ver >= 5 ? 8 : 0) + 4 + tag_min;
    RILL_RD_ARRAY(r, fx, false, topic_ref_min(ver, fx) + len_min + tag_min, a, m->topics,
                  m->ntopics);
    for (int32_t i = 0; i < m->ntopics && !r->err; i++) {
        rill_fetch_req_topic *t = &m->topics[i];
        rd_topic_ref(r, ver, fx, &t->topic, t->topic_id);
        RILL_RD_ARRAY(r, fx, false, part_min, a, t->partitions, t->npartitions);
        for (int32_t j = 0; j < t->npartitions && !r->err; j++)
            rd_req_partition(r, ver, fx, &t->partitions[j]);
        if (fx)
            rill__rd_tags(r);
    }
}

int rill__fetch_req_decode(rill_rd *r, int16_t ver, rill_fetch_req *m, rill_arena *a) {
    memset(m, 0, sizeof(*m));
    m->cluster_id = rill__str_null();
    m->replica_id = -1;
    m->replica_epoch = -1;
    m->session_epoch = -1;
    if (!ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_FETCH, ver);
    if (ver <= 14)
        m->replica_id = rill__rd_i32(r);
    m->max_wait_ms = rill__rd_i32(r);
    m->min_bytes = rill__rd_i32(r);
    m->max_bytes = rill__rd_i32(r);
    m->isolation_level = rill__rd_i8(r);
    if (ver >= 7) {
        m->session_id = rill__rd_i32(r);
        m->session_epoch = rill__rd_i32(r);
    }
    rd_req_topics(r, ver, fx, m, a);
    if (ver >= 7) {
        size_t min = topic_ref_min(ver, fx) + (fx ? 2 : 4);
        RILL_RD_ARRAY(r, fx, false, min, a, m->forgotten, m->nforgotten);
        for (int32_t i = 0; i < m->nforgotten && !r->err; i++) {
            rill_fetch_forgotten_topic *t = &m->forgotten[i];
            rd_topic_ref(r, ver, fx, &t->topic, t->topic_id);
            t->partitions = rill__rd_i32_array(r, fx, false, a, &t->npartitions);
            if (fx)
                rill__rd_tags(r);
        }
    }
    if (ver >= 11)
        m->rack_id = rill__rd_str_nn(r, fx);
    if (fx)
        rd_req_tags(r, ver, m);
    return r->err ? -1 : 0;
}

/* ---- Response ---- */

void rill__fetch_resp_partition_init(rill_fetch_resp_partition *p, int32_t partition) {
    memset(p, 0, sizeof(*p));
    p->partition = partition;
    p->last_stable_offset = -1;
    p->log_start_offset = -1;
    p->diverging_epoch = -1;
    p->diverging_end_offset = -1;
    p->current_leader_id = -1;
    p->current_leader_epoch = -1;
    p->snapshot_end_offset = -1;
    p->snapshot_epoch = -1;
    p->naborted = -1; /* null: what a read_uncommitted fetch gets */
    p->preferred_read_replica = -1;
    p->records = (rill_bytes){NULL, -1};
}

int rill__fetch_resp_begin(rill_buf *b, int16_t ver, const rill_fetch_resp *head, int32_t ntopics) {
    if (!ver_ok(ver))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_FETCH, ver);
    rill__wr_i32(b, head->throttle_time_ms);
    if (ver >= 7) {
        rill__wr_i16(b, head->error_code);
        rill__wr_i32(b, head->session_id);
    }
    rill__wr_array_n(b, fx, false, ntopics);
    return b->err ? -1 : 0;
}

void rill__fetch_resp_topic_begin(rill_buf *b, int16_t ver, const rill_fetch_resp_topic *t,
                                  int32_t npartitions) {
    bool fx = rill__api_flexible(RILL_API_FETCH, ver);
    wr_topic_ref(b, ver, fx, t->topic, t->topic_id);
    rill__wr_array_n(b, fx, false, npartitions);
}

void rill__fetch_resp_partition_header(rill_buf *b, int16_t ver, const rill_fetch_resp_partition *p,
                                       int32_t records_len) {
    bool fx = rill__api_flexible(RILL_API_FETCH, ver);
    rill__wr_i32(b, p->partition);
    rill__wr_i16(b, p->error_code);
    rill__wr_i64(b, p->high_watermark);
    rill__wr_i64(b, p->last_stable_offset);
    if (ver >= 5)
        rill__wr_i64(b, p->log_start_offset);
    rill__wr_array_n(b, fx, true, p->naborted);
    for (int32_t i = 0; i < p->naborted; i++) {
        rill__wr_i64(b, p->aborted[i].producer_id);
        rill__wr_i64(b, p->aborted[i].first_offset);
        rill__wr_tags(b, fx);
    }
    if (ver >= 11)
        rill__wr_i32(b, p->preferred_read_replica);
    /* The RECORDS length only: the caller supplies the bytes. */
    if (fx)
        rill__wr_uvarint(b, records_len < 0 ? 0 : (uint64_t)records_len + 1);
    else
        rill__wr_i32(b, records_len < 0 ? -1 : records_len);
}

void rill__fetch_resp_partition_end(rill_buf *b, int16_t ver, const rill_fetch_resp_partition *p) {
    if (!rill__api_flexible(RILL_API_FETCH, ver))
        return;
    bool diverging = p->diverging_epoch != -1 || p->diverging_end_offset != -1;
    bool leader = p->current_leader_id != -1 || p->current_leader_epoch != -1;
    bool snapshot = p->snapshot_end_offset != -1 || p->snapshot_epoch != -1;
    rill__wr_uvarint(b, (uint64_t)diverging + leader + snapshot);
    size_t at;
    if (diverging) {
        at = rill__wr_tag_begin(b, 0);
        rill__wr_i32(b, p->diverging_epoch);
        rill__wr_i64(b, p->diverging_end_offset);
        rill__wr_tags(b, true);
        rill__wr_tag_end(b, at);
    }
    if (leader) {
        at = rill__wr_tag_begin(b, 1);
        rill__wr_i32(b, p->current_leader_id);
        rill__wr_i32(b, p->current_leader_epoch);
        rill__wr_tags(b, true);
        rill__wr_tag_end(b, at);
    }
    if (snapshot) {
        at = rill__wr_tag_begin(b, 2);
        rill__wr_i64(b, p->snapshot_end_offset);
        rill__wr_i32(b, p->snapshot_epoch);
        rill__wr_tags(b, true);
        rill__wr_tag_end(b, at);
    }
}

void rill__fetch_resp_topic_end(rill_buf *b, int16_t ver) {
    rill__wr_tags(b, rill__api_flexible(RILL_API_FETCH, ver));
}

int rill__fetch_resp_end(rill_buf *b, int16_t ver, const rill_fetch_resp *head) {
    if (!ver_ok(ver))
        return rill__enc_fail(b);
    if (!rill__api_flexible(RILL_API_FETCH, ver))
        return b->err ? -1 : 0;
    bool nodes = ver >= 16 && head->nnode_endpoints > 0;
    rill__wr_uvarint(b, nodes ? 1 : 0);
    if (nodes) {
        size_t at = rill__wr_tag_begin(b, 0);
        rill__wr_array_n(b, true, false, head->nnode_endpoints);
        for (int32_t i = 0; i < head->nnode_endpoints; i++) {
            const rill_fetch_node_endpoint *n = &head->node_endpoints[i];
            rill__wr_i32(b, n->node_id);
            rill__wr_str(b, true, false, n->host);
            rill__wr_i32(b, n->port);
            rill__wr_str(b, true, true, n->rack);
            rill__wr_tags(b, true);
        }
        rill__wr_tag_end(b, at);
    }
    return b->err ? -1 : 0;
}

int rill__fetch_resp_encode(rill_buf *b, int16_t ver, const rill_fetch_resp *m) {
    if (rill__fetch_resp_begin(b, ver, m, m->ntopics) != 0)
        return -1;
    for (int32_t i = 0; i < m->ntopics; i++) {
        const rill_fetch_resp_topic *t = &m->topics[i];
        rill__fetch_resp_topic_begin(b, ver, t, t->npartitions);
        for (int32_t j = 0; j < t->npartitions; j++) {
            const rill_fetch_resp_partition *p = &t->partitions[j];
            int32_t len =
                p->records.len < 0 || (!p->records.ptr && p->records.len) ? -1 : p->records.len;
            rill__fetch_resp_partition_header(b, ver, p, len);
            if (len > 0)
                rill__wr_raw(b, p->records.ptr, (size_t)len);
            rill__fetch_resp_partition_end(b, ver, p);
        }
        rill__fetch_resp_topic_end(b, ver);
    }
    return rill__fetch_resp_end(b, ver, m);
}

static void rd_resp_partition_tags(rill_rd *r, rill_fetch_resp_partition *p) {
    uint32_t left = rill__rd_uvarint(r), tag;
    rill_rd f;
    while (rill__rd_tag_next(r, &left, &tag, &f)) {
        if (tag == 0) {
            p->diverging_epoch = rill__rd_i32(&f);
            p->diverging_end_offset = rill__rd_i64(&f);
        } else if (tag == 1) {
            p->current_leader_id = rill__rd_i32(&f);
            p->current_leader_epoch = rill__rd_i32(&f);
        } else if (tag == 2) {
            p->snapshot_end_offset = rill__rd_i64(&f);
            p->snapshot_epoch = rill__rd_i32(&f);
        } else {
            continue;
        }
        rill__rd_tags(&f);
        rill__rd_tag_done(r, &f);
    }
}

static void rd_resp_partition(rill_rd *r, int16_t ver, bool fx, rill_fetch_resp_partition *p,
                              rill_arena *a) {
    rill__fetch_resp_partition_init(p, rill__rd_i32(r));
    p->error_code = rill__rd_i16(r);
    p->high_watermark = rill__rd_i64(r);
    p->last_stable_offset = rill__rd_i64(r);
    if (ver >= 5)
        p->log_start_offset = rill__rd_i64(r);
    RILL_RD_ARRAY(r, fx, true, 16 + (fx ? 1 : 0), a, p->aborted, p->naborted);
    for (int32_t i = 0; i < p->naborted && !r->err; i++) {
        p->aborted[i].producer_id = rill__rd_i64(r);
        p->aborted[i].first_offset = rill__rd_i64(r);
        if (fx)
            rill__rd_tags(r);
    }
    if (ver >= 11)
        p->preferred_read_replica = rill__rd_i32(r);
    p->records = rill__rd_bytes(r, fx);
    if (fx)
        rd_resp_partition_tags(r, p);
}

static void rd_node_endpoints(rill_rd *f, rill_fetch_resp *m, rill_arena *a) {
    /* node id, host, port, rack, tags */
    RILL_RD_ARRAY(f, true, false, 4 + 1 + 4 + 1 + 1, a, m->node_endpoints, m->nnode_endpoints);
    for (int32_t i = 0; i < m->nnode_endpoints && !f->err; i++) {
        rill_fetch_node_endpoint *n = &m->node_endpoints[i];
        n->node_id = rill__rd_i32(f);
        n->host = rill__rd_str_nn(f, true);
        n->port = rill__rd_i32(f);
        n->rack = rill__rd_str(f, true);
        rill__rd_tags(f);
    }
}

int rill__fetch_resp_decode(rill_rd *r, int16_t ver, rill_fetch_resp *m, rill_arena *a) {
    memset(m, 0, sizeof(*m));
    if (!ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_FETCH, ver);
    m->throttle_time_ms = rill__rd_i32(r);
    if (ver >= 7) {
        m->error_code = rill__rd_i16(r);
        m->session_id = rill__rd_i32(r);
    }
    size_t tag_min = fx ? 1 : 0;
    /* partition, error, high watermark, LSO, aborted, records, tags */
    size_t part_min = 4 + 2 + 8 + 8 + (ver >= 5 ? 8 : 0) + (fx ? 1 : 4) + (ver >= 11 ? 4 : 0) +
                      (fx ? 1 : 4) + tag_min;
    RILL_RD_ARRAY(r, fx, false, topic_ref_min(ver, fx) + (fx ? 1 : 4) + tag_min, a, m->topics,
                  m->ntopics);
    for (int32_t i = 0; i < m->ntopics && !r->err; i++) {
        rill_fetch_resp_topic *t = &m->topics[i];
        rd_topic_ref(r, ver, fx, &t->topic, t->topic_id);
        RILL_RD_ARRAY(r, fx, false, part_min, a, t->partitions, t->npartitions);
        for (int32_t j = 0; j < t->npartitions && !r->err; j++)
            rd_resp_partition(r, ver, fx, &t->partitions[j], a);
        if (fx)
            rill__rd_tags(r);
    }
    if (fx) {
        uint32_t left = rill__rd_uvarint(r), tag;
        rill_rd f;
        while (rill__rd_tag_next(r, &left, &tag, &f)) {
            if (tag == 0 && ver >= 16) {
                rd_node_endpoints(&f, m, a);
                rill__rd_tag_done(r, &f);
            }
        }
    }
    return r->err ? -1 : 0;
}
