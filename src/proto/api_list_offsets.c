/*
 * api_list_offsets.c -- ListOffsets codec (see api_list_offsets.h).
 */
#include "proto/api_list_offsets.h"

#include "proto/api.h"
#include "proto/fields.h"

static bool ver_ok(int16_t ver) {
    return ver >= RILL_LIST_OFFSETS_MIN_VER && ver <= RILL_LIST_OFFSETS_MAX_VER;
}

static bool flex(int16_t ver) { return rill__api_flexible(RILL_API_LIST_OFFSETS, ver); }

int rill__list_offsets_req_encode(rill_buf *b, int16_t ver, const rill_list_offsets_req *m) {
    if (!ver_ok(ver) || (ver < 2 && m->isolation_level != 0))
        return rill__enc_fail(b);
    bool fx = flex(ver);
    rill__wr_i32(b, m->replica_id);
    if (ver >= 2)
        rill__wr_i8(b, m->isolation_level);
    rill__wr_array_n(b, fx, false, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++) {
        const rill_list_offsets_req_topic *t = &m->topics[i];
        rill__wr_str(b, fx, false, t->name);
        rill__wr_array_n(b, fx, false, t->npartitions);
        for (int32_t k = 0; k < t->npartitions; k++) {
            const rill_list_offsets_req_partition *p = &t->partitions[k];
            rill__wr_i32(b, p->partition_index);
            if (ver >= 4)
                rill__wr_i32(b, p->current_leader_epoch);
            rill__wr_i64(b, p->timestamp);
            if (ver == 0)
                rill__wr_i32(b, p->max_num_offsets);
            rill__wr_tags(b, fx);
        }
        rill__wr_tags(b, fx);
    }
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

int rill__list_offsets_req_decode(rill_rd *r, int16_t ver, rill_list_offsets_req *m,
                                  rill_arena *a) {
    if (!ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = flex(ver);
    memset(m, 0, sizeof(*m));
    m->replica_id = rill__rd_i32(r);
    if (ver >= 2)
        m->isolation_level = rill__rd_i8(r);
    size_t min_topic = rill__min_str(fx) + rill__min_arr(fx) + rill__min_tags(fx);
    size_t min_part = 12 + (ver >= 4 ? 4 : 0) + (ver == 0 ? 4 : 0) + rill__min_tags(fx);
    RILL_RD_ARRAY(r, fx, false, min_topic, a, m->topics, m->ntopics);
    for (int32_t i = 0; i < m->ntopics && !r->err; i++) {
        rill_list_offsets_req_topic *t = &m->topics[i];
        t->name = rill__rd_str_nn(r, fx);
        RILL_RD_ARRAY(r, fx, false, min_part, a, t->partitions, t->npartitions);
        for (int32_t k = 0; k < t->npartitions && !r->err; k++) {
            rill_list_offsets_req_partition *p = &t->partitions[k];
            p->partition_index = rill__rd_i32(r);
            p->current_leader_epoch = ver >= 4 ? rill__rd_i32(r) : -1;
            p->timestamp = rill__rd_i64(r);
            p->max_num_offsets = ver == 0 ? rill__rd_i32(r) : 1;
            rill__rd_tags_fx(r, fx);
        }
        rill__rd_tags_fx(r, fx);
    }
    rill__rd_tags_fx(r, fx);
    return r->err ? -1 : 0;
}

int rill__list_offsets_resp_encode(rill_buf *b, int16_t ver, const rill_list_offsets_resp *m) {
    if (!ver_ok(ver))
        return rill__enc_fail(b);
    bool fx = flex(ver);
    if (ver >= 2)
        rill__wr_i32(b, m->throttle_time_ms);
    rill__wr_array_n(b, fx, false, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++) {
        const rill_list_offsets_resp_topic *t = &m->topics[i];
        rill__wr_str(b, fx, false, t->name);
        rill__wr_array_n(b, fx, false, t->npartitions);
        for (int32_t k = 0; k < t->npartitions; k++) {
            const rill_list_offsets_resp_partition *p = &t->partitions[k];
            rill__wr_i32(b, p->partition_index);
            rill__wr_i16(b, p->error_code);
            if (ver == 0) {
                rill__wr_array_n(b, fx, false, p->nold_style_offsets);
                for (int32_t j = 0; j < p->nold_style_offsets; j++)
                    rill__wr_i64(b, p->old_style_offsets[j]);
            } else {
                rill__wr_i64(b, p->timestamp);
                rill__wr_i64(b, p->offset);
            }
            if (ver >= 4)
                rill__wr_i32(b, p->leader_epoch);
            rill__wr_tags(b, fx);
        }
        rill__wr_tags(b, fx);
    }
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

static void rd_partition(rill_rd *r, int16_t ver, bool fx, rill_list_offsets_resp_partition *p,
                         rill_arena *a) {
    p->partition_index = rill__rd_i32(r);
    p->error_code = rill__rd_i16(r);
    p->timestamp = -1;
    p->offset = -1;
    if (ver == 0) {
        RILL_RD_ARRAY(r, fx, false, 8, a, p->old_style_offsets, p->nold_style_offsets);
        for (int32_t j = 0; j < p->nold_style_offsets && !r->err; j++)
            p->old_style_offsets[j] = rill__rd_i64(r);
    } else {
        p->timestamp = rill__rd_i64(r);
        p->offset = rill__rd_i64(r);
    }
    p->leader_epoch = ver >= 4 ? rill__rd_i32(r) : -1;
    rill__rd_tags_fx(r, fx);
}

int rill__list_offsets_resp_decode(rill_rd *r, int16_t ver, rill_list_offsets_resp *m,
                                   rill_arena *a) {
    if (!ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = flex(ver);
    memset(m, 0, sizeof(*m));
    if (ver >= 2)
        m->throttle_time_ms = rill__rd_i32(r);
    size_t min_topic = rill__min_str(fx) + rill__min_arr(fx) + rill__min_tags(fx);
    size_t min_part =
        6 + (ver == 0 ? rill__min_arr(fx) : 16) + (ver >= 4 ? 4 : 0) + rill__min_tags(fx);
    RILL_RD_ARRAY(r, fx, false, min_topic, a, m->topics, m->ntopics);
    for (int32_t i = 0; i < m->ntopics && !r->err; i++) {
        rill_list_offsets_resp_topic *t = &m->topics[i];
        t->name = rill__rd_str_nn(r, fx);
        RILL_RD_ARRAY(r, fx, false, min_part, a, t->partitions, t->npartitions);
        for (int32_t k = 0; k < t->npartitions && !r->err; k++)
            rd_partition(r, ver, fx, &t->partitions[k], a);
        rill__rd_tags_fx(r, fx);
    }
    rill__rd_tags_fx(r, fx);
    return r->err ? -1 : 0;
}
