/*
 * api_offsets.c -- OffsetCommit and OffsetFetch codecs (see api_offsets.h).
 */
#include "proto/api_offsets.h"

#include "proto/api.h"
#include "proto/fields.h"

/* Least bytes a string, an array length and a tag section take. */
#define STR_MIN(fx) ((fx) ? 1u : 2u)
#define LEN_MIN(fx) ((fx) ? 1u : 4u)
#define TAG_MIN(fx) ((fx) ? 1u : 0u)

static bool commit_ver_ok(int16_t ver) {
    return ver >= RILL_OFFSET_COMMIT_MIN_VER && ver <= RILL_OFFSET_COMMIT_MAX_VER;
}

static bool fetch_ver_ok(int16_t ver) {
    return ver >= RILL_OFFSET_FETCH_MIN_VER && ver <= RILL_OFFSET_FETCH_MAX_VER;
}

static void rd_tags(rill_rd *r, bool fx) {
    if (fx)
        rill__rd_tags(r);
}

/* ---- OffsetCommit ---- */

int rill__offset_commit_req_encode(rill_buf *b, int16_t ver, const rill_offset_commit_req *m) {
    if (!commit_ver_ok(ver))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_OFFSET_COMMIT, ver);
    rill__wr_str(b, fx, false, m->group_id);
    if (ver >= 1) {
        rill__wr_i32(b, m->generation_id);
        rill__wr_str(b, fx, false, m->member_id);
    }
    if (ver >= 7)
        rill__wr_str(b, fx, true, m->group_instance_id);
    else if (!rill__str_is_null(m->group_instance_id))
        return rill__enc_fail(b); /* static membership needs v7 */
    if (ver >= 2 && ver <= 4)
        rill__wr_i64(b, m->retention_time_ms);
    rill__wr_array_n(b, fx, false, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++) {
        const rill_offset_commit_req_topic *t = &m->topics[i];
        rill__wr_str(b, fx, false, t->name);
        rill__wr_array_n(b, fx, false, t->npartitions);
        for (int32_t j = 0; j < t->npartitions; j++) {
            const rill_offset_commit_req_partition *p = &t->partitions[j];
            rill__wr_i32(b, p->partition);
            rill__wr_i64(b, p->committed_offset);
            if (ver >= 6)
                rill__wr_i32(b, p->committed_leader_epoch);
            if (ver == 1)
                rill__wr_i64(b, p->commit_timestamp);
            rill__wr_str(b, fx, true, p->committed_metadata);
            rill__wr_tags(b, fx);
        }
        rill__wr_tags(b, fx);
    }
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

static void rd_commit_partitions(rill_rd *r, int16_t ver, bool fx, rill_offset_commit_req_topic *t,
                                 rill_arena *a) {
    size_t min = 12 + (ver >= 6 ? 4 : 0) + (ver == 1 ? 8 : 0) + STR_MIN(fx) + TAG_MIN(fx);
    RILL_RD_ARRAY(r, fx, false, min, a, t->partitions, t->npartitions);
    for (int32_t j = 0; j < t->npartitions && !r->err; j++) {
        rill_offset_commit_req_partition *p = &t->partitions[j];
        p->partition = rill__rd_i32(r);
        p->committed_offset = rill__rd_i64(r);
        p->committed_leader_epoch = ver >= 6 ? rill__rd_i32(r) : -1;
        p->commit_timestamp = ver == 1 ? rill__rd_i64(r) : -1;
        p->committed_metadata = rill__rd_str(r, fx);
        rd_tags(r, fx);
    }
}

int rill__offset_commit_req_decode(rill_rd *r, int16_t ver, rill_offset_commit_req *m,
                                   rill_arena *a) {
    memset(m, 0, sizeof(*m));
    m->generation_id = -1;
    m->group_instance_id = rill__str_null();
    m->retention_time_ms = -1;
    if (!commit_ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_OFFSET_COMMIT, ver);
    m->group_id = rill__rd_str_nn(r, fx);
    if (ver >= 1) {
        m->generation_id = rill__rd_i32(r);
        m->member_id = rill__rd_str_nn(r, fx);
    }
    if (ver >= 7)
        m->group_instance_id = rill__rd_str(r, fx);
    if (ver >= 2 && ver <= 4)
        m->retention_time_ms = rill__rd_i64(r);
    RILL_RD_ARRAY(r, fx, false, STR_MIN(fx) + LEN_MIN(fx) + TAG_MIN(fx), a, m->topics, m->ntopics);
    for (int32_t i = 0; i < m->ntopics && !r->err; i++) {
        m->topics[i].name = rill__rd_str_nn(r, fx);
        rd_commit_partitions(r, ver, fx, &m->topics[i], a);
        rd_tags(r, fx);
    }
    rd_tags(r, fx);
    return r->err ? -1 : 0;
}

int rill__offset_commit_resp_encode(rill_buf *b, int16_t ver, const rill_offset_commit_resp *m) {
    if (!commit_ver_ok(ver))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_OFFSET_COMMIT, ver);
    if (ver >= 3)
        rill__wr_i32(b, m->throttle_time_ms);
    rill__wr_array_n(b, fx, false, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++) {
        const rill_offset_commit_resp_topic *t = &m->topics[i];
        rill__wr_str(b, fx, false, t->name);
        rill__wr_array_n(b, fx, false, t->npartitions);
        for (int32_t j = 0; j < t->npartitions; j++) {
            rill__wr_i32(b, t->partitions[j].partition);
            rill__wr_i16(b, t->partitions[j].error_code);
            rill__wr_tags(b, fx);
        }
        rill__wr_tags(b, fx);
    }
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

int rill__offset_commit_resp_decode(rill_rd *r, int16_t ver, rill_offset_commit_resp *m,
                                    rill_arena *a) {
    memset(m, 0, sizeof(*m));
    if (!commit_ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_OFFSET_COMMIT, ver);
    if (ver >= 3)
        m->throttle_time_ms = rill__rd_i32(r);
    RILL_RD_ARRAY(r, fx, false, STR_MIN(fx) + LEN_MIN(fx) + TAG_MIN(fx), a, m->topics, m->ntopics);
    for (int32_t i = 0; i < m->ntopics && !r->err; i++) {
        rill_offset_commit_resp_topic *t = &m->topics[i];
        t->name = rill__rd_str_nn(r, fx);
        RILL_RD_ARRAY(r, fx, false, 6 + TAG_MIN(fx), a, t->partitions, t->npartitions);
        for (int32_t j = 0; j < t->npartitions && !r->err; j++) {
            t->partitions[j].partition = rill__rd_i32(r);
            t->partitions[j].error_code = rill__rd_i16(r);
            rd_tags(r, fx);
        }
        rd_tags(r, fx);
    }
    rd_tags(r, fx);
    return r->err ? -1 : 0;
}

/* ---- OffsetFetch ---- */

/* Topics of one group: nullable from v2 on (null = every topic). */
static void wr_fetch_req_topics(rill_buf *b, int16_t ver, bool fx,
                                const rill_offset_fetch_req_group *g) {
    rill__wr_array_n(b, fx, ver >= 2, g->ntopics);
    for (int32_t i = 0; i < g->ntopics; i++) {
        rill__wr_str(b, fx, false, g->topics[i].name);
        rill__wr_i32_array(b, fx, false, g->topics[i].partitions, g->topics[i].npartitions);
        rill__wr_tags(b, fx);
    }
}

int rill__offset_fetch_req_encode(rill_buf *b, int16_t ver, const rill_offset_fetch_req *m) {
    if (!fetch_ver_ok(ver))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_OFFSET_FETCH, ver);
    if (ver < 8) {
        if (m->ngroups != 1)
            return rill__enc_fail(b);
        rill__wr_str(b, fx, false, m->groups[0].group_id);
        wr_fetch_req_topics(b, ver, fx, &m->groups[0]);
    } else {
        rill__wr_array_n(b, fx, false, m->ngroups);
        for (int32_t i = 0; i < m->ngroups; i++) {
            const rill_offset_fetch_req_group *g = &m->groups[i];
            rill__wr_str(b, fx, false, g->group_id);
            if (ver >= 9) {
                rill__wr_str(b, fx, true, g->member_id);
                rill__wr_i32(b, g->member_epoch);
            }
            wr_fetch_req_topics(b, ver, fx, g);
            rill__wr_tags(b, fx);
        }
    }
    if (ver >= 7)
        rill__wr_bool(b, m->require_stable);
    else if (m->require_stable)
        return rill__enc_fail(b); /* the answer would not honour it */
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

static void rd_fetch_req_group(rill_rd *r, int16_t ver, bool fx, rill_offset_fetch_req_group *g,
                               rill_arena *a) {
    g->group_id = rill__rd_str_nn(r, fx);
    g->member_id = ver >= 9 ? rill__rd_str(r, fx) : rill__str_null();
    g->member_epoch = ver >= 9 ? rill__rd_i32(r) : -1;
    RILL_RD_ARRAY(r, fx, ver >= 2, STR_MIN(fx) + LEN_MIN(fx) + TAG_MIN(fx), a, g->topics,
                  g->ntopics);
    for (int32_t i = 0; i < g->ntopics && !r->err; i++) {
        g->topics[i].name = rill__rd_str_nn(r, fx);
        g->topics[i].partitions = rill__rd_i32_array(r, fx, false, a, &g->topics[i].npartitions);
        rd_tags(r, fx);
    }
}

int rill__offset_fetch_req_decode(rill_rd *r, int16_t ver, rill_offset_fetch_req *m,
                                  rill_arena *a) {
    memset(m, 0, sizeof(*m));
    if (!fetch_ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_OFFSET_FETCH, ver);
    if (ver < 8) {
        m->groups = rill__arena_calloc(a, 1, sizeof(*m->groups));
        if (!m->groups)
            return rill__dec_fail(r);
        m->ngroups = 1;
        rd_fetch_req_group(r, ver, fx, &m->groups[0], a);
    } else {
        size_t min = STR_MIN(fx) + (ver >= 9 ? STR_MIN(fx) + 4 : 0) + LEN_MIN(fx) + TAG_MIN(fx);
        RILL_RD_ARRAY(r, fx, false, min, a, m->groups, m->ngroups);
        for (int32_t i = 0; i < m->ngroups && !r->err; i++) {
            rd_fetch_req_group(r, ver, fx, &m->groups[i], a);
            rd_tags(r, fx);
        }
    }
    if (ver >= 7)
        m->require_stable = rill__rd_bool(r);
    rd_tags(r, fx);
    return r->err ? -1 : 0;
}

static void wr_fetch_resp_topics(rill_buf *b, int16_t ver, bool fx,
                                 const rill_offset_fetch_resp_group *g) {
    rill__wr_array_n(b, fx, false, g->ntopics);
    for (int32_t i = 0; i < g->ntopics; i++) {
        const rill_offset_fetch_resp_topic *t = &g->topics[i];
        rill__wr_str(b, fx, false, t->name);
        rill__wr_array_n(b, fx, false, t->npartitions);
        for (int32_t j = 0; j < t->npartitions; j++) {
            const rill_offset_fetch_resp_partition *p = &t->partitions[j];
            rill__wr_i32(b, p->partition);
            rill__wr_i64(b, p->committed_offset);
            if (ver >= 5)
                rill__wr_i32(b, p->committed_leader_epoch);
            rill__wr_str(b, fx, true, p->metadata);
            rill__wr_i16(b, p->error_code);
            rill__wr_tags(b, fx);
        }
        rill__wr_tags(b, fx);
    }
}

int rill__offset_fetch_resp_encode(rill_buf *b, int16_t ver, const rill_offset_fetch_resp *m) {
    if (!fetch_ver_ok(ver))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_OFFSET_FETCH, ver);
    if (ver >= 3)
        rill__wr_i32(b, m->throttle_time_ms);
    if (ver < 8) {
        if (m->ngroups != 1)
            return rill__enc_fail(b);
        wr_fetch_resp_topics(b, ver, fx, &m->groups[0]);
        if (ver >= 2)
            rill__wr_i16(b, m->groups[0].error_code);
    } else {
        rill__wr_array_n(b, fx, false, m->ngroups);
        for (int32_t i = 0; i < m->ngroups; i++) {
            rill__wr_str(b, fx, false, m->groups[i].group_id);
            wr_fetch_resp_topics(b, ver, fx, &m->groups[i]);
            rill__wr_i16(b, m->groups[i].error_code);
            rill__wr_tags(b, fx);
        }
    }
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

static void rd_fetch_resp_topics(rill_rd *r, int16_t ver, bool fx, rill_offset_fetch_resp_group *g,
                                 rill_arena *a) {
    RILL_RD_ARRAY(r, fx, false, STR_MIN(fx) + LEN_MIN(fx) + TAG_MIN(fx), a, g->topics, g->ntopics);
    for (int32_t i = 0; i < g->ntopics && !r->err; i++) {
        rill_offset_fetch_resp_topic *t = &g->topics[i];
        t->name = rill__rd_str_nn(r, fx);
        size_t min = 14 + (ver >= 5 ? 4 : 0) + STR_MIN(fx) + TAG_MIN(fx);
        RILL_RD_ARRAY(r, fx, false, min, a, t->partitions, t->npartitions);
        for (int32_t j = 0; j < t->npartitions && !r->err; j++) {
            rill_offset_fetch_resp_partition *p = &t->partitions[j];
            p->partition = rill__rd_i32(r);
            p->committed_offset = rill__rd_i64(r);
            p->committed_leader_epoch = ver >= 5 ? rill__rd_i32(r) : -1;
            p->metadata = rill__rd_str(r, fx);
            p->error_code = rill__rd_i16(r);
            rd_tags(r, fx);
        }
        rd_tags(r, fx);
    }
}

int rill__offset_fetch_resp_decode(rill_rd *r, int16_t ver, rill_offset_fetch_resp *m,
                                   rill_arena *a) {
    memset(m, 0, sizeof(*m));
    if (!fetch_ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_OFFSET_FETCH, ver);
    if (ver >= 3)
        m->throttle_time_ms = rill__rd_i32(r);
    if (ver < 8) {
        m->groups = rill__arena_calloc(a, 1, sizeof(*m->groups));
        if (!m->groups)
            return rill__dec_fail(r);
        m->ngroups = 1;
        rd_fetch_resp_topics(r, ver, fx, &m->groups[0], a);
        if (ver >= 2)
            m->groups[0].error_code = rill__rd_i16(r);
    } else {
        size_t min = STR_MIN(fx) + LEN_MIN(fx) + 2 + TAG_MIN(fx);
        RILL_RD_ARRAY(r, fx, false, min, a, m->groups, m->ngroups);
        for (int32_t i = 0; i < m->ngroups && !r->err; i++) {
            m->groups[i].group_id = rill__rd_str_nn(r, fx);
            rd_fetch_resp_topics(r, ver, fx, &m->groups[i], a);
            m->groups[i].error_code = rill__rd_i16(r);
            rd_tags(r, fx);
        }
    }
    rd_tags(r, fx);
    return r->err ? -1 : 0;
}
