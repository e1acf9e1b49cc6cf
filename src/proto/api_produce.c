/*
 * api_produce.c -- Produce request writer and request/response codec
 * (see api_produce.h).
 */
#include "proto/api_produce.h"

#include "proto/api.h"
#include "proto/fields.h"

static bool ver_ok(int16_t ver) {
    return ver >= RILL_PRODUCE_MIN_VER && ver <= RILL_PRODUCE_MAX_VER;
}

static bool flex(int16_t ver) { return rill__api_flexible(RILL_API_PRODUCE, ver); }

static void misuse(rill_produce_writer *w) {
    w->bad = true;
    w->b->err = 1;
}

void rill__produce_req_begin(rill_produce_writer *w, rill_buf *b, int16_t ver,
                             rill_str transactional_id, int16_t acks, int32_t timeout_ms,
                             int32_t ntopics) {
    memset(w, 0, sizeof(*w));
    w->b = b;
    w->ver = ver;
    w->flexible = flex(ver);
    w->topics_left = ntopics;
    if (!ver_ok(ver) || ntopics < 0)
        misuse(w);
    rill__wr_str(b, w->flexible, true, transactional_id);
    rill__wr_i16(b, acks);
    rill__wr_i32(b, timeout_ms);
    rill__wr_array_n(b, w->flexible, false, ntopics);
}

/* Writes the tagged fields that close the current topic, if one is open. */
static void close_topic(rill_produce_writer *w) {
    if (!w->topic_open)
        return;
    if (w->parts_left != 0 || w->part_open)
        misuse(w);
    rill__wr_tags(w->b, w->flexible);
    w->topic_open = false;
}

void rill__produce_req_topic(rill_produce_writer *w, rill_str name, int32_t npartitions) {
    close_topic(w);
    if (w->topics_left <= 0 || npartitions < 0) {
        misuse(w);
        return;
    }
    w->topics_left--;
    rill__wr_str(w->b, w->flexible, false, name);
    rill__wr_array_n(w->b, w->flexible, false, npartitions);
    w->parts_left = npartitions;
    w->topic_open = true;
}

void rill__produce_req_partition_begin(rill_produce_writer *w, int32_t index, int32_t total) {
    if (!w->topic_open || w->part_open || w->parts_left <= 0) {
        misuse(w);
        return;
    }
    w->parts_left--;
    rill_buf *b = w->b;
    rill__wr_i32(b, index);
    /* The RECORDS length prefix alone: the caller appends the bytes. */
    if (w->flexible)
        rill__wr_uvarint(b, total < 0 ? 0 : (uint64_t)total + 1);
    else
        rill__wr_i32(b, total < 0 ? -1 : total);
    w->part_end = b->len + (total > 0 ? (size_t)total : 0);
    w->part_open = true;
}

void rill__produce_req_partition_end(rill_produce_writer *w) {
    if (!w->part_open || (!w->b->err && w->b->len != w->part_end)) {
        misuse(w);
        return;
    }
    rill__wr_tags(w->b, w->flexible);
    w->part_open = false;
}

void rill__produce_req_partition_apart(rill_produce_writer *w, size_t n) {
    if (!w->part_open || w->part_end < w->b->len + n) {
        misuse(w);
        return;
    }
    w->part_end -= n;
}

void rill__produce_req_partition(rill_produce_writer *w, int32_t index, const void *records,
                                 int32_t len) {
    if (!records && len > 0) {
        misuse(w);
        return;
    }
    rill__produce_req_partition_begin(w, index, len);
    if (len > 0)
        rill__wr_raw(w->b, records, (size_t)len);
    rill__produce_req_partition_end(w);
}

int rill__produce_req_end(rill_produce_writer *w) {
    if (w->part_open)
        misuse(w);
    close_topic(w);
    if (w->topics_left != 0)
        misuse(w);
    rill__wr_tags(w->b, w->flexible);
    return (w->b->err || w->bad) ? -1 : 0;
}

int rill__produce_req_encode(rill_buf *b, int16_t ver, const rill_produce_req *m) {
    rill_produce_writer w;
    rill__produce_req_begin(&w, b, ver, m->transactional_id, m->acks, m->timeout_ms, m->ntopics);
    for (int32_t i = 0; i < m->ntopics && !w.bad; i++) {
        const rill_produce_req_topic *t = &m->topics[i];
        rill__produce_req_topic(&w, t->name, t->npartitions);
        for (int32_t k = 0; k < t->npartitions && !w.bad; k++) {
            const rill_produce_req_partition *p = &t->partitions[k];
            rill__produce_req_partition(&w, p->index, p->records.ptr, p->records.len);
        }
    }
    return rill__produce_req_end(&w);
}

int rill__produce_req_decode(rill_rd *r, int16_t ver, rill_produce_req *m, rill_arena *a) {
    if (!ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = flex(ver);
    memset(m, 0, sizeof(*m));
    m->transactional_id = rill__rd_str(r, fx);
    m->acks = rill__rd_i16(r);
    m->timeout_ms = rill__rd_i32(r);
    size_t min_topic = rill__min_str(fx) + rill__min_arr(fx) + rill__min_tags(fx);
    size_t min_part = 4 + (fx ? 1 : 4) + rill__min_tags(fx);
    RILL_RD_ARRAY(r, fx, false, min_topic, a, m->topics, m->ntopics);
    for (int32_t i = 0; i < m->ntopics && !r->err; i++) {
        rill_produce_req_topic *t = &m->topics[i];
        t->name = rill__rd_str_nn(r, fx);
        RILL_RD_ARRAY(r, fx, false, min_part, a, t->partitions, t->npartitions);
        for (int32_t k = 0; k < t->npartitions && !r->err; k++) {
            t->partitions[k].index = rill__rd_i32(r);
            t->partitions[k].records = rill__rd_bytes(r, fx);
            rill__rd_tags_fx(r, fx);
        }
        rill__rd_tags_fx(r, fx);
    }
    rill__rd_tags_fx(r, fx);
    return r->err ? -1 : 0;
}

static void wr_partition(rill_buf *b, int16_t ver, bool fx, const rill_produce_resp_partition *p) {
    rill__wr_i32(b, p->index);
    rill__wr_i16(b, p->error_code);
    rill__wr_i64(b, p->base_offset);
    rill__wr_i64(b, p->log_append_time_ms);
    if (ver >= 5)
        rill__wr_i64(b, p->log_start_offset);
    if (ver >= 8) {
        rill__wr_array_n(b, fx, false, p->nrecord_errors);
        for (int32_t i = 0; i < p->nrecord_errors; i++) {
            rill__wr_i32(b, p->record_errors[i].batch_index);
            rill__wr_str(b, fx, true, p->record_errors[i].message);
            rill__wr_tags(b, fx);
        }
        rill__wr_str(b, fx, true, p->error_message);
    }
    if (ver >= 10 && p->has_current_leader) {
        rill__wr_uvarint(b, 1);
        size_t at = rill__wr_tag_begin(b, 0);
        rill__wr_i32(b, p->current_leader_id);
        rill__wr_i32(b, p->current_leader_epoch);
        rill__wr_tags(b, fx);
        rill__wr_tag_end(b, at);
    } else {
        rill__wr_tags(b, fx);
    }
}

int rill__produce_resp_encode(rill_buf *b, int16_t ver, const rill_produce_resp *m) {
    if (!ver_ok(ver))
        return rill__enc_fail(b);
    bool fx = flex(ver);
    rill__wr_array_n(b, fx, false, m->ntopics);
    for (int32_t i = 0; i < m->ntopics; i++) {
        const rill_produce_resp_topic *t = &m->topics[i];
        rill__wr_str(b, fx, false, t->name);
        rill__wr_array_n(b, fx, false, t->npartitions);
        for (int32_t k = 0; k < t->npartitions; k++)
            wr_partition(b, ver, fx, &t->partitions[k]);
        rill__wr_tags(b, fx);
    }
    rill__wr_i32(b, m->throttle_time_ms);
    if (ver >= 10 && m->nnode_endpoints > 0) {
        rill__wr_uvarint(b, 1);
        size_t at = rill__wr_tag_begin(b, 0);
        rill__wr_array_n(b, fx, false, m->nnode_endpoints);
        for (int32_t i = 0; i < m->nnode_endpoints; i++) {
            const rill_produce_node_endpoint *e = &m->node_endpoints[i];
            rill__wr_i32(b, e->node_id);
            rill__wr_str(b, fx, false, e->host);
            rill__wr_i32(b, e->port);
            rill__wr_str(b, fx, true, e->rack);
            rill__wr_tags(b, fx);
        }
        rill__wr_tag_end(b, at);
    } else {
        rill__wr_tags(b, fx);
    }
    return b->err ? -1 : 0;
}

static void rd_partition_tags(rill_rd *r, int16_t ver, rill_produce_resp_partition *p) {
    uint32_t left = rill__rd_uvarint(r), tag;
    rill_rd f;
    while (rill__rd_tag_next(r, &left, &tag, &f)) {
        if (ver >= 10 && tag == 0) {
            p->has_current_leader = true;
            p->current_leader_id = rill__rd_i32(&f);
            p->current_leader_epoch = rill__rd_i32(&f);
            rill__rd_tags(&f);
            rill__rd_tag_done(r, &f);
        }
    }
}

static void rd_partition(rill_rd *r, int16_t ver, bool fx, rill_produce_resp_partition *p,
                         rill_arena *a) {
    p->index = rill__rd_i32(r);
    p->error_code = rill__rd_i16(r);
    p->base_offset = rill__rd_i64(r);
    p->log_append_time_ms = rill__rd_i64(r);
    p->log_start_offset = ver >= 5 ? rill__rd_i64(r) : -1;
    p->error_message = rill__str_null();
    p->current_leader_id = -1;
    p->current_leader_epoch = -1;
    if (ver >= 8) {
        size_t min = 4 + rill__min_str(fx) + rill__min_tags(fx);
        RILL_RD_ARRAY(r, fx, false, min, a, p->record_errors, p->nrecord_errors);
        for (int32_t i = 0; i < p->nrecord_errors && !r->err; i++) {
            p->record_errors[i].batch_index = rill__rd_i32(r);
            p->record_errors[i].message = rill__rd_str(r, fx);
            rill__rd_tags_fx(r, fx);
        }
        p->error_message = rill__rd_str(r, fx);
    }
    if (fx)
        rd_partition_tags(r, ver, p);
}

static void rd_endpoints(rill_rd *f, rill_produce_resp *m, rill_arena *a) {
    size_t min = 4 + 1 + 4 + 1 + 1;
    RILL_RD_ARRAY(f, true, false, min, a, m->node_endpoints, m->nnode_endpoints);
    for (int32_t i = 0; i < m->nnode_endpoints && !f->err; i++) {
        rill_produce_node_endpoint *e = &m->node_endpoints[i];
        e->node_id = rill__rd_i32(f);
        e->host = rill__rd_str_nn(f, true);
        e->port = rill__rd_i32(f);
        e->rack = rill__rd_str(f, true);
        rill__rd_tags(f);
    }
}

int rill__produce_resp_decode(rill_rd *r, int16_t ver, rill_produce_resp *m, rill_arena *a) {
    if (!ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = flex(ver);
    memset(m, 0, sizeof(*m));
    size_t min_topic = rill__min_str(fx) + rill__min_arr(fx) + rill__min_tags(fx);
    size_t min_part = 4 + 2 + 8 + 8 + (ver >= 5 ? 8 : 0) +
                      (ver >= 8 ? rill__min_arr(fx) + rill__min_str(fx) : 0) + rill__min_tags(fx);
    RILL_RD_ARRAY(r, fx, false, min_topic, a, m->topics, m->ntopics);
    for (int32_t i = 0; i < m->ntopics && !r->err; i++) {
        rill_produce_resp_topic *t = &m->topics[i];
        t->name = rill__rd_str_nn(r, fx);
        RILL_RD_ARRAY(r, fx, false, min_part, a, t->partitions, t->npartitions);
        for (int32_t k = 0; k < t->npartitions && !r->err; k++)
            rd_partition(r, ver, fx, &t->partitions[k], a);
        rill__rd_tags_fx(r, fx);
    }
    m->throttle_time_ms = rill__rd_i32(r);
    if (fx) {
        uint32_t left = rill__rd_uvarint(r), tag;
        rill_rd f;
        while (rill__rd_tag_next(r, &left, &tag, &f)) {
            if (ver >= 10 && tag == 0) {
                rd_endpoints(&f, m, a);
                rill__rd_tag_done(r, &f);
            }
        }
    }
    return r->err ? -1 : 0;
}
