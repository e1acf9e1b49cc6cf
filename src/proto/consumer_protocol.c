/*
 * consumer_protocol.c -- ConsumerProtocolSubscription / Assignment codec
 * (see consumer_protocol.h).
 */
#include "proto/consumer_protocol.h"

#include "proto/fields.h"

/* The embedded protocol is never flexible. */
#define FX false

static void wr_topic_partitions(rill_buf *b, const rill_cp_topic_partitions *tp, int32_t n) {
    rill__wr_array_n(b, FX, false, n);
    for (int32_t i = 0; i < n; i++) {
        rill__wr_str(b, FX, false, tp[i].topic);
        rill__wr_i32_array(b, FX, false, tp[i].partitions, tp[i].npartitions);
    }
}

static rill_cp_topic_partitions *rd_topic_partitions(rill_rd *r, rill_arena *a, int32_t *n) {
    rill_cp_topic_partitions *tp;
    /* A topic name (int16 length) and a partition count (int32). */
    RILL_RD_ARRAY(r, FX, false, 6, a, tp, *n);
    for (int32_t i = 0; i < *n && !r->err; i++) {
        tp[i].topic = rill__rd_str_nn(r, FX);
        tp[i].partitions = rill__rd_i32_array(r, FX, false, a, &tp[i].npartitions);
    }
    return tp;
}

int rill__consumer_subscription_encode(rill_buf *b, int16_t ver,
                                       const rill_consumer_subscription *m) {
    if (ver < RILL_CONSUMER_SUBSCRIPTION_MIN_VER || ver > RILL_CONSUMER_SUBSCRIPTION_MAX_VER)
        return rill__enc_fail(b);
    rill__wr_i16(b, ver);
    rill__wr_str_array(b, FX, false, m->topics, m->ntopics);
    rill__wr_bytes(b, FX, m->user_data.ptr, m->user_data.len);
    if (ver >= 1)
        wr_topic_partitions(b, m->owned, m->nowned);
    if (ver >= 2)
        rill__wr_i32(b, m->generation_id);
    if (ver >= 3)
        rill__wr_str(b, FX, true, m->rack_id);
    return b->err ? -1 : 0;
}

int rill__consumer_subscription_decode(rill_rd *r, rill_consumer_subscription *m, rill_arena *a) {
    m->version = rill__rd_i16(r);
    m->topics = NULL;
    m->ntopics = 0;
    m->user_data = (rill_bytes){NULL, -1};
    m->owned = NULL;
    m->nowned = 0;
    m->generation_id = -1;
    m->rack_id = rill__str_null();
    if (r->err || m->version < 0)
        return rill__dec_fail(r);
    m->topics = rill__rd_str_array(r, FX, false, a, &m->ntopics);
    m->user_data = rill__rd_bytes(r, FX);
    if (m->version >= 1)
        m->owned = rd_topic_partitions(r, a, &m->nowned);
    if (m->version >= 2)
        m->generation_id = rill__rd_i32(r);
    if (m->version >= 3)
        m->rack_id = rill__rd_str(r, FX);
    return r->err ? -1 : 0;
}

int rill__consumer_assignment_encode(rill_buf *b, int16_t ver, const rill_consumer_assignment *m) {
    if (ver < RILL_CONSUMER_ASSIGNMENT_MIN_VER || ver > RILL_CONSUMER_ASSIGNMENT_MAX_VER)
        return rill__enc_fail(b);
    rill__wr_i16(b, ver);
    wr_topic_partitions(b, m->assigned, m->nassigned);
    rill__wr_bytes(b, FX, m->user_data.ptr, m->user_data.len);
    return b->err ? -1 : 0;
}

int rill__consumer_assignment_decode(rill_rd *r, rill_consumer_assignment *m, rill_arena *a) {
    m->assigned = NULL;
    m->nassigned = 0;
    m->user_data = (rill_bytes){NULL, -1};
    m->version = 0;
    if (rill__rd_remain(r) == 0 && !r->err)
        return 0;
    m->version = rill__rd_i16(r);
    if (r->err || m->version < 0)
        return rill__dec_fail(r);
    m->assigned = rd_topic_partitions(r, a, &m->nassigned);
    m->user_data = rill__rd_bytes(r, FX);
    return r->err ? -1 : 0;
}
