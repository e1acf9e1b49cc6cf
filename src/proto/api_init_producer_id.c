/*
 * api_init_producer_id.c -- InitProducerId codec (see api_init_producer_id.h).
 */
#include "proto/api_init_producer_id.h"

#include "proto/api.h"
#include "proto/fields.h"

static bool ver_ok(int16_t ver) {
    return ver >= RILL_INIT_PRODUCER_ID_MIN_VER && ver <= RILL_INIT_PRODUCER_ID_MAX_VER;
}

static bool flex(int16_t ver) { return rill__api_flexible(RILL_API_INIT_PRODUCER_ID, ver); }

int rill__init_producer_id_req_encode(rill_buf *b, int16_t ver,
                                      const rill_init_producer_id_req *m) {
    if (!ver_ok(ver) || (ver < 3 && (m->producer_id != -1 || m->producer_epoch != -1)))
        return rill__enc_fail(b);
    bool fx = flex(ver);
    rill__wr_str(b, fx, true, m->transactional_id);
    rill__wr_i32(b, m->transaction_timeout_ms);
    if (ver >= 3) {
        rill__wr_i64(b, m->producer_id);
        rill__wr_i16(b, m->producer_epoch);
    }
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

int rill__init_producer_id_req_decode(rill_rd *r, int16_t ver, rill_init_producer_id_req *m,
                                      rill_arena *a) {
    (void)a;
    if (!ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = flex(ver);
    m->transactional_id = rill__rd_str(r, fx);
    m->transaction_timeout_ms = rill__rd_i32(r);
    m->producer_id = ver >= 3 ? rill__rd_i64(r) : -1;
    m->producer_epoch = ver >= 3 ? rill__rd_i16(r) : -1;
    rill__rd_tags_fx(r, fx);
    return r->err ? -1 : 0;
}

int rill__init_producer_id_resp_encode(rill_buf *b, int16_t ver,
                                       const rill_init_producer_id_resp *m) {
    if (!ver_ok(ver))
        return rill__enc_fail(b);
    rill__wr_i32(b, m->throttle_time_ms);
    rill__wr_i16(b, m->error_code);
    rill__wr_i64(b, m->producer_id);
    rill__wr_i16(b, m->producer_epoch);
    rill__wr_tags(b, flex(ver));
    return b->err ? -1 : 0;
}

int rill__init_producer_id_resp_decode(rill_rd *r, int16_t ver, rill_init_producer_id_resp *m,
                                       rill_arena *a) {
    (void)a;
    if (!ver_ok(ver))
        return rill__dec_fail(r);
    m->throttle_time_ms = rill__rd_i32(r);
    m->error_code = rill__rd_i16(r);
    m->producer_id = rill__rd_i64(r);
    m->producer_epoch = rill__rd_i16(r);
    rill__rd_tags_fx(r, flex(ver));
    return r->err ? -1 : 0;
}
