/*
 * api_versions.c -- ApiVersions request/response codec (see api_versions.h).
 */
#include "proto/api_versions.h"

#include "proto/api.h"
#include "proto/fields.h"
#include "rill.h"

static bool ver_ok(int16_t ver) {
    return ver >= RILL_API_VERSIONS_MIN_VER && ver <= RILL_API_VERSIONS_MAX_VER;
}

int rill__api_versions_req_encode(rill_buf *b, int16_t ver, const rill_api_versions_req *m) {
    if (!ver_ok(ver))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_API_VERSIONS, ver);
    if (ver >= 3) {
        rill__wr_str(b, fx, false, m->client_software_name);
        rill__wr_str(b, fx, false, m->client_software_version);
    }
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

int rill__api_versions_req_decode(rill_rd *r, int16_t ver, rill_api_versions_req *m,
                                  rill_arena *a) {
    (void)a;
    if (!ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(RILL_API_API_VERSIONS, ver);
    m->client_software_name = rill__str("");
    m->client_software_version = rill__str("");
    if (ver >= 3) {
        m->client_software_name = rill__rd_str_nn(r, fx);
        m->client_software_version = rill__rd_str_nn(r, fx);
    }
    rill__rd_tags_fx(r, fx);
    return r->err ? -1 : 0;
}

int rill__api_versions_resp_encode(rill_buf *b, int16_t ver, const rill_api_versions_resp *m) {
    if (!ver_ok(ver))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(RILL_API_API_VERSIONS, ver);
    rill__wr_i16(b, m->error_code);
    rill__wr_array_n(b, fx, false, m->napi_keys);
    for (int32_t i = 0; i < m->napi_keys; i++) {
        const rill_api_versions_key *k = &m->api_keys[i];
        rill__wr_i16(b, k->api_key);
        rill__wr_i16(b, k->min_version);
        rill__wr_i16(b, k->max_version);
        rill__wr_tags(b, fx);
    }
    if (ver >= 1)
        rill__wr_i32(b, m->throttle_time_ms);
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

static int resp_decode(rill_rd *r, int16_t ver, rill_api_versions_resp *m, rill_arena *a) {
    bool fx = rill__api_flexible(RILL_API_API_VERSIONS, ver);
    m->throttle_time_ms = 0;
    m->error_code = rill__rd_i16(r);
    RILL_RD_ARRAY(r, fx, false, fx ? 7 : 6, a, m->api_keys, m->napi_keys);
    for (int32_t i = 0; i < m->napi_keys && !r->err; i++) {
        rill_api_versions_key *k = &m->api_keys[i];
        k->api_key = rill__rd_i16(r);
        k->min_version = rill__rd_i16(r);
        k->max_version = rill__rd_i16(r);
        rill__rd_tags_fx(r, fx);
    }
    if (ver >= 1)
        m->throttle_time_ms = rill__rd_i32(r);
    rill__rd_tags_fx(r, fx);
    return r->err ? -1 : 0;
}

int rill__api_versions_resp_decode(rill_rd *r, int16_t ver, rill_api_versions_resp *m,
                                   rill_arena *a) {
    if (!ver_ok(ver))
        return rill__dec_fail(r);
    if (rill__rd_remain(r) < 2 || (int16_t)rill__ld16(r->p) != RILL_ERR_UNSUPPORTED_VERSION)
        return resp_decode(r, ver, m, a);
    /* UNSUPPORTED_VERSION: the KIP-511 v0 body, else the asked version, else just the error. */
    for (int16_t try_ver = 0;; try_ver = ver) {
        rill_rd t = *r;
        if (resp_decode(&t, try_ver, m, a) == 0 && rill__rd_remain(&t) == 0) {
            *r = t;
            return 0;
        }
        if (try_ver == ver)
            break;
    }
    memset(m, 0, sizeof(*m));
    m->error_code = RILL_ERR_UNSUPPORTED_VERSION;
    r->p = r->end;
    return 0;
}

int16_t rill__api_versions_resp_version(int16_t req_ver) { return ver_ok(req_ver) ? req_ver : 0; }
