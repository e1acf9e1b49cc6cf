/*
 * api_topics.c -- CreateTopics, DeleteTopics and CreatePartitions codecs
 * (see api_topics.h).
 */
#include "proto/api_topics.h"

#include "proto/api.h"
#include "proto/fields.h"

static const uint8_t zero_id[16];

/* ---- CreateTopics ---- */

static bool ct_ver_ok(int16_t ver) {
    return ver >= RILL_CREATE_TOPICS_MIN_VER && ver <= RILL_CREATE_TOPICS_MAX_VER;
}

static void ct_wr_topic(rill_buf *b, bool fx, const rill_create_topics_topic *t) {
    rill__wr_str(b, fx, false, t->name);
    rill__wr_i32(b, t->num_partitions);
    rill__wr_i16(b, t->replication_factor);
    rill__wr_array_n(b, fx, false, t->nassignments);
    for (int32_t i = 0; i < t->nassignments; i++) {
        const rill_create_topics_assignment *as = &t->assignments[i];
        rill__wr_i32(b, as->partition_index);
        rill__wr_i32_array(b, fx, false, as->broker_ids, as->nbroker_ids);
        rill__wr_tags(b, fx);
    }
    rill__wr_array_n(b, fx, false, t->nconfigs);
    for (int32_t i = 0; i < t->nconfigs; i++) {
        rill__wr_str(b, fx, false, t->configs[i].name);
        rill__wr_str(b, fx, true, t->configs[i].value);
        rill__wr_tags(b, fx);
    }
    rill__wr_tags(b, fx);
}

int rill__create_topics_req_encode(rill_buf *b, int16_t ver, const rill_create_topics_req *m) {
    if (!ct_ver_ok(ver) || (ver < 1 && m->validate_only))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_CREATE_TOPICS, ver);
    rill__wr_array_n(b, fx, false, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++)
        ct_wr_topic(b, fx, &m->topics[i]);
    rill__wr_i32(b, m->timeout_ms);
    if (ver >= 1)
        rill__wr_bool(b, m->validate_only);
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

static void ct_rd_topic(rill_rd *r, bool fx, rill_create_topics_topic *t, rill_arena *a) {
    t->name = rill__rd_str_nn(r, fx);
    t->num_partitions = rill__rd_i32(r);
    t->replication_factor = rill__rd_i16(r);
    size_t min = 4 + rill__min_arr(fx) + rill__min_tags(fx);
    RILL_RD_ARRAY(r, fx, false, min, a, t->assignments, t->nassignments);
    for (int32_t i = 0; i < t->nassignments && !r->err; i++) {
        rill_create_topics_assignment *as = &t->assignments[i];
        as->partition_index = rill__rd_i32(r);
        as->broker_ids = rill__rd_i32_array(r, fx, false, a, &as->nbroker_ids);
        rill__rd_tags_fx(r, fx);
    }
    min = 2 * rill__min_str(fx) + rill__min_tags(fx);
    RILL_RD_ARRAY(r, fx, false, min, a, t->configs, t->nconfigs);
    for (int32_t i = 0; i < t->nconfigs && !r->err; i++) {
        t->configs[i].name = rill__rd_str_nn(r, fx);
        t->configs[i].value = rill__rd_str(r, fx);
        rill__rd_tags_fx(r, fx);
    }
    rill__rd_tags_fx(r, fx);
}

int rill__create_topics_req_decode(rill_rd *r, int16_t ver, rill_create_topics_req *m,
                                   rill_arena *a) {
    if (!ct_ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_CREATE_TOPICS, ver);
    memset(m, 0, sizeof(*m));
    size_t min = rill__min_str(fx) + 6 + 2 * rill__min_arr(fx) + rill__min_tags(fx);
    RILL_RD_ARRAY(r, fx, false, min, a, m->topics, m->ntopics);
    for (int32_t i = 0; i < m->ntopics && !r->err; i++)
        ct_rd_topic(r, fx, &m->topics[i], a);
    m->timeout_ms = rill__rd_i32(r);
    if (ver >= 1)
        m->validate_only = rill__rd_bool(r);
    rill__rd_tags_fx(r, fx);
    return r->err ? -1 : 0;
}

static void ct_wr_result(rill_buf *b, int16_t ver, bool fx, const rill_create_topics_result *t) {
    rill__wr_str(b, fx, false, t->name);
    if (ver >= 7)
        rill__wr_uuid(b, t->topic_id);
    rill__wr_i16(b, t->error_code);
    if (ver >= 1)
        rill__wr_str(b, fx, true, t->error_message);
    if (ver >= 5) {
        rill__wr_i32(b, t->num_partitions);
        rill__wr_i16(b, t->replication_factor);
        rill__wr_array_n(b, fx, true, t->nconfigs);
        for (int32_t i = 0; i < t->nconfigs; i++) {
            const rill_create_topics_result_config *c = &t->configs[i];
            rill__wr_str(b, fx, false, c->name);
            rill__wr_str(b, fx, true, c->value);
            rill__wr_bool(b, c->read_only);
            rill__wr_i8(b, c->config_source);
            rill__wr_bool(b, c->is_sensitive);
            rill__wr_tags(b, fx);
        }
    }
    if (ver >= 5 && t->has_topic_config_error_code) {
        rill__wr_uvarint(b, 1);
        size_t at = rill__wr_tag_begin(b, 0);
        rill__wr_i16(b, t->topic_config_error_code);
        rill__wr_tag_end(b, at);
    } else {
        rill__wr_tags(b, fx);
    }
}

int rill__create_topics_resp_encode(rill_buf *b, int16_t ver, const rill_create_topics_resp *m) {
    if (!ct_ver_ok(ver))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_CREATE_TOPICS, ver);
    if (ver >= 2)
        rill__wr_i32(b, m->throttle_time_ms);
    rill__wr_array_n(b, fx, false, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++)
        ct_wr_result(b, ver, fx, &m->topics[i]);
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

static void ct_rd_result(rill_rd *r, int16_t ver, bool fx, rill_create_topics_result *t,
                         rill_arena *a) {
    t->name = rill__rd_str_nn(r, fx);
    if (ver >= 7)
        rill__rd_uuid(r, t->topic_id);
    t->error_code = rill__rd_i16(r);
    t->error_message = ver >= 1 ? rill__rd_str(r, fx) : rill__str_null();
    t->num_partitions = -1;
    t->replication_factor = -1;
    if (ver >= 5) {
        t->num_partitions = rill__rd_i32(r);
        t->replication_factor = rill__rd_i16(r);
        size_t min = 2 * rill__min_str(fx) + 3 + rill__min_tags(fx);
        RILL_RD_ARRAY(r, fx, true, min, a, t->configs, t->nconfigs);
        for (int32_t i = 0; i < t->nconfigs && !r->err; i++) {
            rill_create_topics_result_config *c = &t->configs[i];
            c->name = rill__rd_str_nn(r, fx);
            c->value = rill__rd_str(r, fx);
            c->read_only = rill__rd_bool(r);
            c->config_source = rill__rd_i8(r);
            c->is_sensitive = rill__rd_bool(r);
            rill__rd_tags_fx(r, fx);
        }
    }
    if (fx) {
        uint32_t left = rill__rd_uvarint(r), tag;
        rill_rd f;
        while (rill__rd_tag_next(r, &left, &tag, &f)) {
            if (ver >= 5 && tag == 0) {
                t->has_topic_config_error_code = true;
                t->topic_config_error_code = rill__rd_i16(&f);
                rill__rd_tag_done(r, &f);
            }
        }
    }
}

int rill__create_topics_resp_decode(rill_rd *r, int16_t ver, rill_create_topics_resp *m,
                                    rill_arena *a) {
    if (!ct_ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_CREATE_TOPICS, ver);
    memset(m, 0, sizeof(*m));
    if (ver >= 2)
        m->throttle_time_ms = rill__rd_i32(r);
    size_t min = rill__min_str(fx) + (ver >= 7 ? 16 : 0) + 2 + (ver >= 1 ? rill__min_str(fx) : 0) +
                 (ver >= 5 ? 6 + rill__min_arr(fx) : 0) + rill__min_tags(fx);
    RILL_RD_ARRAY(r, fx, false, min, a, m->topics, m->ntopics);
    for (int32_t i = 0; i < m->ntopics && !r->err; i++)
        ct_rd_result(r, ver, fx, &m->topics[i], a);
    rill__rd_tags_fx(r, fx);
    return r->err ? -1 : 0;
}

/* ---- DeleteTopics ---- */

static bool dt_ver_ok(int16_t ver) {
    return ver >= RILL_DELETE_TOPICS_MIN_VER && ver <= RILL_DELETE_TOPICS_MAX_VER;
}

int rill__delete_topics_req_encode(rill_buf *b, int16_t ver, const rill_delete_topics_req *m) {
    if (!dt_ver_ok(ver))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_DELETE_TOPICS, ver);
    rill__wr_array_n(b, fx, false, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++) {
        const rill_delete_topics_req_topic *t = &m->topics[i];
        if (ver >= 6) {
            rill__wr_str(b, fx, true, t->name);
            rill__wr_uuid(b, t->topic_id);
            rill__wr_tags(b, fx);
        } else if (memcmp(t->topic_id, zero_id, 16) != 0) {
            return rill__enc_fail(b); /* ids need v6 */
        } else {
            rill__wr_str(b, fx, false, t->name);
        }
    }
    rill__wr_i32(b, m->timeout_ms);
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

int rill__delete_topics_req_decode(rill_rd *r, int16_t ver, rill_delete_topics_req *m,
                                   rill_arena *a) {
    if (!dt_ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_DELETE_TOPICS, ver);
    memset(m, 0, sizeof(*m));
    size_t min = rill__min_str(fx) + (ver >= 6 ? 16 + rill__min_tags(fx) : 0);
    RILL_RD_ARRAY(r, fx, false, min, a, m->topics, m->ntopics);
    for (int32_t i = 0; i < m->ntopics && !r->err; i++) {
        rill_delete_topics_req_topic *t = &m->topics[i];
        if (ver >= 6) {
            t->name = rill__rd_str(r, fx);
            rill__rd_uuid(r, t->topic_id);
            rill__rd_tags_fx(r, fx);
        } else {
            t->name = rill__rd_str_nn(r, fx);
        }
    }
    m->timeout_ms = rill__rd_i32(r);
    rill__rd_tags_fx(r, fx);
    return r->err ? -1 : 0;
}

int rill__delete_topics_resp_encode(rill_buf *b, int16_t ver, const rill_delete_topics_resp *m) {
    if (!dt_ver_ok(ver))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_DELETE_TOPICS, ver);
    if (ver >= 1)
        rill__wr_i32(b, m->throttle_time_ms);
    rill__wr_array_n(b, fx, false, m->nresponses);
    for (int32_t i = 0; i < m->nresponses; i++) {
        const rill_delete_topics_result *t = &m->responses[i];
        rill__wr_str(b, fx, ver >= 6, t->name);
        if (ver >= 6)
            rill__wr_uuid(b, t->topic_id);
        rill__wr_i16(b, t->error_code);
        if (ver >= 5)
            rill__wr_str(b, fx, true, t->error_message);
        rill__wr_tags(b, fx);
    }
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

int rill__delete_topics_resp_decode(rill_rd *r, int16_t ver, rill_delete_topics_resp *m,
                                    rill_arena *a) {
    if (!dt_ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_DELETE_TOPICS, ver);
    memset(m, 0, sizeof(*m));
    if (ver >= 1)
        m->throttle_time_ms = rill__rd_i32(r);
    size_t min = rill__min_str(fx) + (ver >= 6 ? 16 : 0) + 2 + (ver >= 5 ? rill__min_str(fx) : 0) +
                 rill__min_tags(fx);
    RILL_RD_ARRAY(r, fx, false, min, a, m->responses, m->nresponses);
    for (int32_t i = 0; i < m->nresponses && !r->err; i++) {
        rill_delete_topics_result *t = &m->responses[i];
        t->name = ver >= 6 ? rill__rd_str(r, fx) : rill__rd_str_nn(r, fx);
        if (ver >= 6)
            rill__rd_uuid(r, t->topic_id);
        t->error_code = rill__rd_i16(r);
        t->error_message = ver >= 5 ? rill__rd_str(r, fx) : rill__str_null();
        rill__rd_tags_fx(r, fx);
    }
    rill__rd_tags_fx(r, fx);
    return r->err ? -1 : 0;
}

/* ---- CreatePartitions ---- */

static bool cp_ver_ok(int16_t ver) {
    return ver >= RILL_CREATE_PARTITIONS_MIN_VER && ver <= RILL_CREATE_PARTITIONS_MAX_VER;
}

int rill__create_partitions_req_encode(rill_buf *b, int16_t ver,
                                       const rill_create_partitions_req *m) {
    if (!cp_ver_ok(ver))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_CREATE_PARTITIONS, ver);
    rill__wr_array_n(b, fx, false, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++) {
        const rill_create_partitions_topic *t = &m->topics[i];
        rill__wr_str(b, fx, false, t->name);
        rill__wr_i32(b, t->count);
        rill__wr_array_n(b, fx, true, t->nassignments);
        for (int32_t k = 0; k < t->nassignments; k++) {
            const rill_create_partitions_assignment *as = &t->assignments[k];
            rill__wr_i32_array(b, fx, false, as->broker_ids, as->nbroker_ids);
            rill__wr_tags(b, fx);
        }
        rill__wr_tags(b, fx);
    }
    rill__wr_i32(b, m->timeout_ms);
    rill__wr_bool(b, m->validate_only);
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

int rill__create_partitions_req_decode(rill_rd *r, int16_t ver, rill_create_partitions_req *m,
                                       rill_arena *a) {
    if (!cp_ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_CREATE_PARTITIONS, ver);
    memset(m, 0, sizeof(*m));
    size_t min = rill__min_str(fx) + 4 + rill__min_arr(fx) + rill__min_tags(fx);
    RILL_RD_ARRAY(r, fx, false, min, a, m->topics, m->ntopics);
    for (int32_t i = 0; i < m->ntopics && !r->err; i++) {
        rill_create_partitions_topic *t = &m->topics[i];
        t->name = rill__rd_str_nn(r, fx);
        t->count = rill__rd_i32(r);
        min = rill__min_arr(fx) + rill__min_tags(fx);
        RILL_RD_ARRAY(r, fx, true, min, a, t->assignments, t->nassignments);
        for (int32_t k = 0; k < t->nassignments && !r->err; k++) {
            rill_create_partitions_assignment *as = &t->assignments[k];
            as->broker_ids = rill__rd_i32_array(r, fx, false, a, &as->nbroker_ids);
            rill__rd_tags_fx(r, fx);
        }
        rill__rd_tags_fx(r, fx);
    }
    m->timeout_ms = rill__rd_i32(r);
    m->validate_only = rill__rd_bool(r);
    rill__rd_tags_fx(r, fx);
    return r->err ? -1 : 0;
}

int rill__create_partitions_resp_encode(rill_buf *b, int16_t ver,
                                        const rill_create_partitions_resp *m) {
    if (!cp_ver_ok(ver))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_CREATE_PARTITIONS, ver);
    rill__wr_i32(b, m->throttle_time_ms);
    rill__wr_array_n(b, fx, false, m->nresults);
    for (int32_t i = 0; i < m->nresults; i++) {
        rill__wr_str(b, fx, false, m->results[i].name);
        rill__wr_i16(b, m->results[i].error_code);
        rill__wr_str(b, fx, true, m->results[i].error_message);
        rill__wr_tags(b, fx);
    }
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

int rill__create_partitions_resp_decode(rill_rd *r, int16_t ver, rill_create_partitions_resp *m,
                                        rill_arena *a) {
    if (!cp_ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_CREATE_PARTITIONS, ver);
    memset(m, 0, sizeof(*m));
    m->throttle_time_ms = rill__rd_i32(r);
    size_t min = 2 * rill__min_str(fx) + 2 + rill__min_tags(fx);
    RILL_RD_ARRAY(r, fx, false, min, a, m->results, m->nresults);
    for (int32_t i = 0; i < m->nresults && !r->err; i++) {
        m->results[i].name = rill__rd_str_nn(r, fx);
        m->results[i].error_code = rill__rd_i16(r);
        m->results[i].error_message = rill__rd_str(r, fx);
        rill__rd_tags_fx(r, fx);
    }
    rill__rd_tags_fx(r, fx);
    return r->err ? -1 : 0;
}
