/*
 * api_configs.c -- DescribeConfigs codec (see api_configs.h).
 */
#include "proto/api_configs.h"

#include "proto/api.h"
#include "proto/fields.h"

static bool ver_ok(int16_t ver) {
    return ver >= RILL_DESCRIBE_CONFIGS_MIN_VER && ver <= RILL_DESCRIBE_CONFIGS_MAX_VER;
}

static bool flex(int16_t ver) { return rill__api_flexible(RILL_API_DESCRIBE_CONFIGS, ver); }

int rill__describe_configs_req_encode(rill_buf *b, int16_t ver,
                                      const rill_describe_configs_req *m) {
    if (!ver_ok(ver) || (ver < 1 && m->include_synonyms) || (ver < 3 && m->include_documentation))
        return rill__enc_fail(b);
    bool fx = flex(ver);
    rill__wr_array_n(b, fx, false, m->nresources);
    for (int32_t i = 0; i < m->nresources; i++) {
        const rill_describe_configs_resource *res = &m->resources[i];
        rill__wr_i8(b, res->resource_type);
        rill__wr_str(b, fx, false, res->resource_name);
        rill__wr_str_array(b, fx, true, res->configuration_keys, res->nconfiguration_keys);
        rill__wr_tags(b, fx);
    }
    if (ver >= 1)
        rill__wr_bool(b, m->include_synonyms);
    if (ver >= 3)
        rill__wr_bool(b, m->include_documentation);
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

int rill__describe_configs_req_decode(rill_rd *r, int16_t ver, rill_describe_configs_req *m,
                                      rill_arena *a) {
    if (!ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = flex(ver);
    memset(m, 0, sizeof(*m));
    size_t min = 1 + rill__min_str(fx) + rill__min_arr(fx) + rill__min_tags(fx);
    RILL_RD_ARRAY(r, fx, false, min, a, m->resources, m->nresources);
    for (int32_t i = 0; i < m->nresources && !r->err; i++) {
        rill_describe_configs_resource *res = &m->resources[i];
        res->resource_type = rill__rd_i8(r);
        res->resource_name = rill__rd_str_nn(r, fx);
        res->configuration_keys = rill__rd_str_array(r, fx, true, a, &res->nconfiguration_keys);
        rill__rd_tags_fx(r, fx);
    }
    if (ver >= 1)
        m->include_synonyms = rill__rd_bool(r);
    if (ver >= 3)
        m->include_documentation = rill__rd_bool(r);
    rill__rd_tags_fx(r, fx);
    return r->err ? -1 : 0;
}

static void wr_entry(rill_buf *b, int16_t ver, bool fx, const rill_describe_configs_entry *c) {
    rill__wr_str(b, fx, false, c->name);
    rill__wr_str(b, fx, true, c->value);
    rill__wr_bool(b, c->read_only);
    if (ver == 0)
        rill__wr_bool(b, c->is_default);
    if (ver >= 1)
        rill__wr_i8(b, c->config_source);
    rill__wr_bool(b, c->is_sensitive);
    if (ver >= 1) {
        rill__wr_array_n(b, fx, false, c->nsynonyms);
        for (int32_t i = 0; i < c->nsynonyms; i++) {
            rill__wr_str(b, fx, false, c->synonyms[i].name);
            rill__wr_str(b, fx, true, c->synonyms[i].value);
            rill__wr_i8(b, c->synonyms[i].source);
            rill__wr_tags(b, fx);
        }
    }
    if (ver >= 3) {
        rill__wr_i8(b, c->config_type);
        rill__wr_str(b, fx, true, c->documentation);
    }
    rill__wr_tags(b, fx);
}

int rill__describe_configs_resp_encode(rill_buf *b, int16_t ver,
                                       const rill_describe_configs_resp *m) {
    if (!ver_ok(ver))
        return rill__enc_fail(b);
    bool fx = flex(ver);
    rill__wr_i32(b, m->throttle_time_ms);
    rill__wr_array_n(b, fx, false, m->nresults);
    for (int32_t i = 0; i < m->nresults; i++) {
        const rill_describe_configs_result *res = &m->results[i];
        rill__wr_i16(b, res->error_code);
        rill__wr_str(b, fx, true, res->error_message);
        rill__wr_i8(b, res->resource_type);
        rill__wr_str(b, fx, false, res->resource_name);
        rill__wr_array_n(b, fx, false, res->nconfigs);
        for (int32_t k = 0; k < res->nconfigs; k++)
            wr_entry(b, ver, fx, &res->configs[k]);
        rill__wr_tags(b, fx);
    }
    rill__wr_tags(b, fx);
    return b->err ? -1 : 0;
}

static void rd_entry(rill_rd *r, int16_t ver, bool fx, rill_describe_configs_entry *c,
                     rill_arena *a) {
    c->name = rill__rd_str_nn(r, fx);
    c->value = rill__rd_str(r, fx);
    c->read_only = rill__rd_bool(r);
    if (ver == 0)
        c->is_default = rill__rd_bool(r);
    c->config_source = ver >= 1 ? rill__rd_i8(r) : -1;
    c->is_sensitive = rill__rd_bool(r);
    if (ver >= 1) {
        size_t min = 2 * rill__min_str(fx) + 1 + rill__min_tags(fx);
        RILL_RD_ARRAY(r, fx, false, min, a, c->synonyms, c->nsynonyms);
        for (int32_t i = 0; i < c->nsynonyms && !r->err; i++) {
            c->synonyms[i].name = rill__rd_str_nn(r, fx);
            c->synonyms[i].value = rill__rd_str(r, fx);
            c->synonyms[i].source = rill__rd_i8(r);
            rill__rd_tags_fx(r, fx);
        }
    }
    c->documentation = rill__str_null();
    if (ver >= 3) {
        c->config_type = rill__rd_i8(r);
        c->documentation = rill__rd_str(r, fx);
    }
    rill__rd_tags_fx(r, fx);
}

int rill__describe_configs_resp_decode(rill_rd *r, int16_t ver, rill_describe_configs_resp *m,
                                       rill_arena *a) {
    if (!ver_ok(ver))
        return rill__dec_fail(r);
    bool fx = flex(ver);
    memset(m, 0, sizeof(*m));
    m->throttle_time_ms = rill__rd_i32(r);
    size_t min_res = 2 + 2 * rill__min_str(fx) + 1 + rill__min_arr(fx) + rill__min_tags(fx);
    size_t min_entry = 2 * rill__min_str(fx) + 3 + (ver >= 1 ? rill__min_arr(fx) : 0) +
                       (ver >= 3 ? 1 + rill__min_str(fx) : 0) + rill__min_tags(fx);
    RILL_RD_ARRAY(r, fx, false, min_res, a, m->results, m->nresults);
    for (int32_t i = 0; i < m->nresults && !r->err; i++) {
        rill_describe_configs_result *res = &m->results[i];
        res->error_code = rill__rd_i16(r);
        res->error_message = rill__rd_str(r, fx);
        res->resource_type = rill__rd_i8(r);
        res->resource_name = rill__rd_str_nn(r, fx);
        RILL_RD_ARRAY(r, fx, false, min_entry, a, res->configs, res->nconfigs);
        for (int32_t k = 0; k < res->nconfigs && !r->err; k++)
            rd_entry(r, ver, fx, &res->configs[k], a);
        rill__rd_tags_fx(r, fx);
    }
    rill__rd_tags_fx(r, fx);
    return r->err ? -1 : 0;
}
