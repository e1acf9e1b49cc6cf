/*
 * admin_configs.c -- describe the configs of topics and brokers
 * (DescribeConfigs).
 *
 * A broker's own configs can only be described by that broker, so each
 * broker resource goes to the broker it names; topic resources go to any
 * broker.  One request per resource keeps retries per resource simple (a
 * resource answered with a retriable error, or lost with its connection,
 * is asked again in the next round).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/admin_int.h"
#include "proto/api_configs.h"
#include "proto/fields.h"

typedef struct cfg_call {
    const rill_config_resource_t *what;
    rill_resource_configs_t *res;
    rill_arena *ar; /* the result's */
} cfg_call;

static int enc_describe(rill_buf *b, int16_t ver, const rill_aop *op) {
    const cfg_call *c = op->ctx;
    const rill_config_resource_t *w = &c->what[op->idx];
    rill_describe_configs_resource r = {(int8_t)w->type, rill__str(w->name), NULL, -1};
    rill_describe_configs_req req = {&r, 1, false, false};
    return rill__describe_configs_req_encode(b, ver, &req);
}

/* The broker id a broker resource names, or -1. */
static int32_t broker_id(const char *name) {
    char *end;
    errno = 0;
    long v = strtol(name, &end, 10);
    if (!*name || *end || errno || v < 0 || v > INT32_MAX)
        return -1;
    return (int32_t)v;
}

/* Copies one answered resource; false when out of memory. */
static bool copy_result(cfg_call *c, size_t i, int16_t ver, const rill_describe_configs_result *m) {
    rill_resource_configs_t *r = &c->res[i];
    r->err = m->error_code;
    r->errstr = m->error_code
                    ? (m->error_message.len > 0 ? rill__admin_strdup(c->ar, m->error_message)
                                                : rill_err_str(m->error_code))
                    : "";
    if (m->nconfigs > 0) {
        rill_config_entry_t *es = rill__arena_calloc(c->ar, (size_t)m->nconfigs, sizeof(*es));
        if (!es)
            return false;
        for (int32_t k = 0; k < m->nconfigs; k++) {
            const rill_describe_configs_entry *e = &m->configs[k];
            int source = ver >= 1 ? e->config_source : RILL_CONFIG_SOURCE_UNKNOWN;
            es[k] = (rill_config_entry_t){
                .name = rill__admin_strdup(c->ar, e->name),
                .value = rill__admin_strdup(c->ar, e->value),
                .read_only = e->read_only,
                .is_default = ver >= 1 ? source == RILL_CONFIG_SOURCE_DEFAULT : e->is_default,
                .is_sensitive = e->is_sensitive,
                .source = source,
            };
        }
        r->entries = es;
        r->entry_cnt = (size_t)m->nconfigs;
    }
    return !c->ar->err;
}

/* Reads the answer for resource op->idx: 0 done, RILL__ADMIN_RETRY, or an error for the call. */
static int read_answer(rill_admin_t *a, cfg_call *c, rill_aop *op) {
    size_t i = op->idx;
    if (op->err)
        return rill__admin_retriable(op->err) ? RILL__ADMIN_RETRY : op->err;
    rill_arena ar;
    rill__arena_init(&ar, 0);
    rill_describe_configs_resp m;
    rill_rd r;
    rill__aop_reader(op, &r);
    int rc = RILL__ADMIN_RETRY;
    if (rill__describe_configs_resp_decode(&r, op->ver, &m, &ar) != 0 || rill__rd_remain(&r) ||
        m.nresults != 1 || m.results[0].resource_type != c->what[i].type ||
        !rill__str_eq(m.results[0].resource_name, c->what[i].name)) {
        rill__aop_bad_msg(a, op);
    } else if (!rill__admin_retriable(m.results[0].error_code)) {
        rc = copy_result(c, i, op->ver, &m.results[0]) ? 0 : RILL_ERR_NO_MEMORY;
    }
    rill__arena_free(&ar);
    return rc;
}

/* One round: asks every pending resource; returns how many are still pending. */
static size_t round_trip(rill_admin_t *a, cfg_call *c, size_t n, bool *pending, rill_aop *ops,
                         int64_t deadline) {
    bool brokers = false;
    for (size_t i = 0; i < n; i++)
        brokers |= pending[i] && c->what[i].type == RILL_RESOURCE_BROKER;
    rill_admin_md md;
    rill_err_t mderr = brokers ? rill__admin_metadata(a, NULL, 0, deadline, &md) : 0;
    rill_cbroker *any = rill__admin_any_broker(a, deadline);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!pending[i])
            continue;
        rill_cbroker *b = any;
        if (c->what[i].type == RILL_RESOURCE_BROKER) {
            b = mderr ? NULL : rill__admin_md_broker(a, &md, broker_id(c->what[i].name));
            if (!b && !mderr) {
                c->res[i].err = RILL_ERR_BROKER_NOT_AVAILABLE;
                c->res[i].errstr = "no such broker in the cluster's metadata";
                pending[i] = false;
                continue;
            }
        }
        ops[k++] = (rill_aop){.broker = b,
                              .api = RILL_API_DESCRIBE_CONFIGS,
                              .vmax = RILL_DESCRIBE_CONFIGS_MAX_VER,
                              .enc = enc_describe,
                              .ctx = c,
                              .idx = i};
    }
    if (brokers)
        rill__admin_md_free(&md);
    rill__admin_run(a, ops, k, deadline);
    size_t left = 0;
    for (size_t j = 0; j < k; j++) {
        size_t i = ops[j].idx;
        int rc = read_answer(a, c, &ops[j]);
        rill__aop_reset(&ops[j]);
        if (rc == RILL__ADMIN_RETRY) {
            left++;
            continue;
        }
        if (rc) {
            c->res[i].err = rc;
            c->res[i].errstr = rill_err_str(rc);
        }
        pending[i] = false;
    }
    return left;
}

rill_err_t rill_admin_describe_configs(rill_admin_t *a, const rill_config_resource_t *what,
                                       size_t n, int timeout_ms, rill_configs_t **out) {
    if (out)
        *out = NULL;
    if (!a || !out || timeout_ms <= 0 || (n && !what))
        return RILL_ERR_INVALID_ARG;
    for (size_t i = 0; i < n; i++)
        if (!what[i].name ||
            (what[i].type != RILL_RESOURCE_TOPIC &&
             (what[i].type != RILL_RESOURCE_BROKER || broker_id(what[i].name) < 0)))
            return RILL_ERR_INVALID_ARG;
    int64_t deadline = rill__admin_deadline(timeout_ms);
    rill_configs_t *cfg = rill__admin_res_new(sizeof(*cfg));
    cfg_call c = {what, NULL, cfg ? rill__admin_res_arena(cfg) : NULL};
    rill_aop *ops = calloc(n ? n : 1, sizeof(*ops));
    bool *pending = calloc(n ? n : 1, sizeof(*pending));
    if (cfg)
        c.res = rill__arena_calloc(c.ar, n ? n : 1, sizeof(*c.res));
    if (!cfg || !ops || !pending || !c.res) {
        free(ops);
        free(pending);
        rill__admin_res_free(cfg);
        return RILL_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < n; i++) {
        c.res[i] = (rill_resource_configs_t){what[i].type,
                                             rill__admin_cstrdup(c.ar, what[i].name),
                                             RILL_ERR_TIMED_OUT,
                                             rill_err_str(RILL_ERR_TIMED_OUT),
                                             NULL,
                                             0};
        pending[i] = true;
    }
    size_t left = n;
    while (left) {
        left = round_trip(a, &c, n, pending, ops, deadline);
        if (left && !rill__admin_backoff(a, deadline))
            break;
    }
    free(ops);
    free(pending);
    if (c.ar->err) {
        rill__admin_res_free(cfg);
        return RILL_ERR_NO_MEMORY;
    }
    cfg->resources = c.res;
    cfg->resource_cnt = n;
    *out = cfg;
    if (left)
        return RILL_ERR_TIMED_OUT;
    for (size_t i = 0; i < n; i++)
        if (c.res[i].err <= RILL_ERR__BEGIN) /* a local error: not an answer */
            return c.res[i].err;
    return 0;
}

void rill_configs_free(rill_configs_t *configs) { rill__admin_res_free(configs); }
