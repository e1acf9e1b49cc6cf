/*
 * api_alter_configs.c -- AlterConfigs and IncrementalAlterConfigs codecs (see
 * api_alter_configs.h).  One body serves both: they differ only in the ConfigOperation
 * byte, in their version ranges and in where flexible versions start.
 */
#include "proto/api_alter_configs.h"

#include "proto/api.h"
#include "proto/fields.h"

/* Which of the two: the version range, flexibility and whether configs carry an op. */
typedef struct which {
    int16_t key, min, max;
    bool incremental;
} which;

static const which ALTER = {RILL_API_ALTER_CONFIGS, RILL_ALTER_CONFIGS_MIN_VER,
                            RILL_ALTER_CONFIGS_MAX_VER, false};
static const which INCREMENTAL = {RILL_API_INCREMENTAL_ALTER_CONFIGS,
                                  RILL_INCREMENTAL_ALTER_CONFIGS_MIN_VER,
                                  RILL_INCREMENTAL_ALTER_CONFIGS_MAX_VER, true};

static bool ver_ok(const which *w, int16_t ver) { return ver >= w->min && ver <= w->max; }

static int req_encode(const which *w, rill_buf *b, int16_t ver, const rill_alter_configs_req *m) {
    if (!ver_ok(w, ver))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(w->key, ver);
    rill__wr_array_n(b, fx, false, m->nresources);
    for (int32_t i = 0; i < m->nresources; i++) {
        const rill_alter_configs_resource *res = &m->resources[i];
        rill__wr_i8(b, res->resource_type);
        rill__wr_str(b, fx, false, res->resource_name);
        rill__wr_array_n(b, fx, false, res->nconfigs);
        for (int32_t k = 0; k < res->nconfigs; k++) {
            rill__wr_str(b, fx, false, res->configs[k].name);
            if (w->incremental)
                rill__wr_i8(b, res->configs[k].op);
            rill__wr_str(b, fx, true, res->configs[k].value);
            rill__wr_tags(b, fx);
        }
        rill__wr_tags(b, fx);
    }
    rill__wr_bool(b, m->validate_only);
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

static int req_decode(const which *w, rill_rd *r, int16_t ver, rill_alter_configs_req *m,
                      rill_arena *a) {
    if (!ver_ok(w, ver))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(w->key, ver);
    memset(m, 0, sizeof(*m));
    size_t min_res = 1 + rill__min_str(fx) + rill__min_arr(fx) + rill__min_tags(fx);
    size_t min_cfg = 2 * rill__min_str(fx) + (w->incremental ? 1 : 0) + rill__min_tags(fx);
    RILL_RD_ARRAY(r, fx, false, min_res, a, m->resources, m->nresources);
    for (int32_t i = 0; i < m->nresources && !r->err; i++) {
        rill_alter_configs_resource *res = &m->resources[i];
        res->resource_type = rill__rd_i8(r);
        res->resource_name = rill__rd_str_nn(r, fx);
        RILL_RD_ARRAY(r, fx, false, min_cfg, a, res->configs, res->nconfigs);
        for (int32_t k = 0; k < res->nconfigs && !r->err; k++) {
            res->configs[k].name = rill__rd_str_nn(r, fx);
            res->configs[k].op = w->incremental ? rill__rd_i8(r) : RILL_CONFIG_OP_SET;
            res->configs[k].value = rill__rd_str(r, fx);
            rill__rd_tags_fx(r, fx);
        }
        rill__rd_tags_fx(r, fx);
    }
    m->validate_only = rill__rd_bool(r);
    rill__rd_tags_fx(r, fx);
    return r->err ? -1 : 0;
}

static int resp_encode(const which *w, rill_buf *b, int16_t ver, const rill_alter_configs_resp *m) {
    if (!ver_ok(w, ver))
        return rill__enc_fail(b);
    bool fx = rill__api_flexible(w->key, ver);
    rill__wr_i32(b, m->throttle_time_ms);
    rill__wr_array_n(b, fx, false, m->nresults);
    for (int32_t i = 0; i < m->nresults; i++) {
        const rill_alter_configs_result *res = &m->results[i];
        rill__wr_i16(b, res->error_code);
        rill__wr_str(b, fx, true, res->error_message);
        rill__wr_i8(b, res->resource_type);
        rill__wr_str(b, fx, false, res->resource_name);
        rill__wr_tags(b, fx);
    }
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

static int resp_decode(const which *w, rill_rd *r, int16_t ver, rill_alter_configs_resp *m,
                       rill_arena *a) {
    if (!ver_ok(w, ver))
        return rill__dec_fail(r);
    bool fx = rill__api_flexible(w->key, ver);
    memset(m, 0, sizeof(*m));
    m->throttle_time_ms = rill__rd_i32(r);
    size_t min = 2 + 2 * rill__min_str(fx) + 1 + rill__min_tags(fx);
    RILL_RD_ARRAY(r, fx, false, min, a, m->results, m->nresults);
    for (int32_t i = 0; i < m->nresults && !r->err; i++) {
        rill_alter_configs_result *res = &m->results[i];
        res->error_code = rill__rd_i16(r);
        res->error_message = rill__rd_str(r, fx);
        res->resource_type = rill__rd_i8(r);
        res->resource_name = rill__rd_str_nn(r, fx);
        rill__rd_tags_fx(r, fx);
    }
    rill__rd_tags_fx(r, fx);
    return r->err ? -1 : 0;
}

/* The public names of both APIs, over the shared bodies above. */
#define CODEC(api, w)                                                                              \
    int rill__##api##_req_encode(rill_buf *b, int16_t ver, const rill_alter_configs_req *m) {      \
        return req_encode(&(w), b, ver, m);                                                        \
    }                                                                                              \
    int rill__##api##_req_decode(rill_rd *r, int16_t ver, rill_alter_configs_req *m,               \
                                 rill_arena *a) {                                                  \
        return req_decode(&(w), r, ver, m, a);                                                     \
    }                                                                                              \
    int rill__##api##_resp_encode(rill_buf *b, int16_t ver, const rill_alter_configs_resp *m) {    \
        return resp_encode(&(w), b, ver, m);                                                       \
    }                                                                                              \
    int rill__##api##_resp_decode(rill_rd *r, int16_t ver, rill_alter_configs_resp *m,             \
                                  rill_arena *a) {                                                 \
        return resp_decode(&(w), r, ver, m, a);                                                    \
    }

CODEC(alter_configs, ALTER)
CODEC(incremental_alter_configs, INCREMENTAL)
