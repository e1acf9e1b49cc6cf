/*
 * api_sasl.c -- SaslHandshake and SaslAuthenticate codecs (see api_sasl.h).
 */
#include "proto/api_sasl.h"

#include "proto/api.h"
#include "proto/fields.h"

static bool hs_ver_ok(int16_t ver) {
    return ver >= RILL_SASL_HANDSHAKE_MIN_VER && ver <= RILL_SASL_HANDSHAKE_MAX_VER;
}

static bool auth_ver_ok(int16_t ver) {
    return ver >= RILL_SASL_AUTHENTICATE_MIN_VER && ver <= RILL_SASL_AUTHENTICATE_MAX_VER;
}

/* SaslHandshake has no flexible version: v0 and v1 are the same bytes. */

int rill__sasl_handshake_req_encode(rill_buf *b, int16_t ver, const rill_sasl_handshake_req *m) {
    if (!hs_ver_ok(ver))
        return rill__enc_fail(b);
    rill__wr_str(b, false, false, m->mechanism);
    return b->err ? -1 : 0;
}

int rill__sasl_handshake_req_decode(rill_rd *r, int16_t ver, rill_sasl_handshake_req *m,
                                    rill_arena *a) {
    m->mechanism = rill__str("");
    if (!hs_ver_ok(ver))
        return rill__dec_fail(r);
    m->mechanism = rill__rd_str_nn(r, false);
    return r->err ? -1 : 0;
}

int rill__sasl_handshake_resp_encode(rill_buf *b, int16_t ver, const rill_sasl_handshake_resp *m) {
    if (!hs_ver_ok(ver))
        return rill__enc_fail(b);
    rill__wr_i16(b, m->error_code);
    rill__wr_str_array(b, false, false, m->mechanisms, m->nmechanisms);
    return b->err ? -1 : 0;
}

int rill__sasl_handshake_resp_decode(rill_rd *r, int16_t ver, rill_sasl_handshake_resp *m,
                                     rill_arena *a) {
    m->error_code = 0;
    m->mechanisms = NULL;
    m->nmechanisms = 0;
    if (!hs_ver_ok(ver))
        return rill__dec_fail(r);
    m->error_code = rill__rd_i16(r);
    m->mechanisms = rill__rd_str_array(r, false, false, a, &m->nmechanisms);
    return r->err ? -1 : 0;
}

int rill__sasl_authenticate_req_encode(rill_buf *b, int16_t ver,
                                       const rill_sasl_authenticate_req *m) {
    if (!auth_ver_ok(ver))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_SASL_AUTHENTICATE, ver);
    if (m->auth_bytes.len < 0)
        return rill__enc_fail(b); /* not nullable */
    rill__wr_bytes(b, fx, m->auth_bytes.ptr, m->auth_bytes.len);
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

int rill__sasl_authenticate_req_decode(rill_rd *r, int16_t ver, rill_sasl_authenticate_req *m,
                                       rill_arena *a) {
    m->auth_bytes = (rill_bytes){NULL, 0};
    if (!auth_ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_SASL_AUTHENTICATE, ver);
    m->auth_bytes = rill__rd_bytes(r, fx);
    if (m->auth_bytes.len < 0)
        r->err = 1;
    if (fx)
        rill__rd_tags(r);
    return r->err ? -1 : 0;
}

int rill__sasl_authenticate_resp_encode(rill_buf *b, int16_t ver,
                                        const rill_sasl_authenticate_resp *m) {
    if (!auth_ver_ok(ver))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_SASL_AUTHENTICATE, ver);
    if (m->auth_bytes.len < 0)
        return rill__enc_fail(b);
    rill__wr_i16(b, m->error_code);
    rill__wr_str(b, fx, true, m->error_message);
    rill__wr_bytes(b, fx, m->auth_bytes.ptr, m->auth_bytes.len);
    if (ver >= 1)
        rill__wr_i64(b, m->session_lifetime_ms);
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

int rill__sasl_authenticate_resp_decode(rill_rd *r, int16_t ver, rill_sasl_authenticate_resp *m,
                                        rill_arena *a) {
    m->error_code = 0;
    m->error_message = rill__str_null();
    m->auth_bytes = (rill_bytes){NULL, 0};
    m->session_lifetime_ms = 0;
    if (!auth_ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_SASL_AUTHENTICATE, ver);
    m->error_code = rill__rd_i16(r);
    m->error_message = rill__rd_str(r, fx);
    m->auth_bytes = rill__rd_bytes(r, fx);
    if (m->auth_bytes.len < 0)
        r->err = 1;
    if (ver >= 1)
        m->session_lifetime_ms = rill__rd_i64(r);
    if (fx)
        rill__rd_tags(r);
    return r->err ? -1 : 0;
}
