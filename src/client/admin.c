/*
 * admin.c -- the admin client handle and the machinery every admin call
 * uses (admin_int.h): requests run to an answer or a deadline, retry
 * rounds, metadata snapshots, coordinator lookup, and allocated results.
 *
 * Admin calls are synchronous and bounded by their timeout, so the admin
 * handle needs no thread of its own: each call drives the handle's event
 * loop on the caller's thread until the answer arrives or time runs out.
 * The calls themselves live in admin_topics.c, admin_configs.c,
 * admin_groups.c and admin_offsets.c.  A handle is not thread-safe: use it
 * from one thread at a time.
 */
#include <stdalign.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/admin_int.h"
#include "common/clock.h"
#include "proto/api_group.h"
#include "proto/fields.h"

rill_admin_t *rill_admin_new(const rill_conf_t *conf, char *errstr, size_t errstr_size) {
    char dummy[8];
    if (!errstr) {
        errstr = dummy;
        errstr_size = sizeof(dummy);
    }
    if (!conf) {
        snprintf(errstr, errstr_size, "conf is NULL");
        return NULL;
    }
    rill_admin_t *a = calloc(1, sizeof(*a));
    if (!a || !(a->conf = rill_conf_dup(conf))) {
        free(a);
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    rill__conf_logger(a->conf, &a->log);
    a->loop = rill__loop_new();
    if (!a->loop ||
        rill__cluster_init(&a->cl, a->conf, &a->log, a->loop, NULL, errstr, errstr_size) != 0) {
        if (!a->loop)
            snprintf(errstr, errstr_size, "cannot create event loop");
        rill__loop_destroy(a->loop);
        rill_conf_destroy(a->conf);
        free(a);
        return NULL;
    }
    a->cl.allow_auto_create = false;
    return a;
}

void rill_admin_destroy(rill_admin_t *a) {
    if (!a)
        return;
    rill__cluster_destroy(&a->cl);
    rill__loop_destroy(a->loop);
    rill_conf_destroy(a->conf);
    free(a);
}

/* ---- running requests ------------------------------------------------------ */

void rill__aop_reset(rill_aop *op) {
    free(op->body);
    op->body = NULL;
    op->len = 0;
    op->done = false;
    op->err = 0;
    op->ver = -1;
}

void rill__aop_bad_msg(rill_admin_t *a, rill_aop *op) {
    RILL_LOG(&a->log, RILL_LOG_WARNING, "admin", "%s: malformed %s response (v%d)",
             op->broker ? op->broker->name : "?", rill__api_name(op->api), op->ver);
    op->err = RILL_ERR_BAD_MSG;
    if (op->broker)
        rill__conn_close(op->broker->conn, RILL_ERR_BAD_MSG, "malformed response");
}

static int aop_enc(rill_buf *b, int16_t ver, void *opaque) {
    const rill_aop *op = opaque;
    return op->enc(b, ver, op);
}

/* Keeps a copy of the body: the receive buffer is reused once this returns. */
static int aop_answer(rill_conn *c, int err, int16_t ver, rill_rd *body, void *opaque) {
    rill_aop *op = opaque;
    (void)c;
    op->done = true;
    op->ver = ver;
    op->err = err;
    if (err)
        return 0;
    size_t len = rill__rd_remain(body);
    op->body = malloc(len ? len : 1);
    if (!op->body) {
        op->err = RILL_ERR_NO_MEMORY;
        return 0;
    }
    memcpy(op->body, body->p, len);
    op->len = len;
    return 0;
}

/* One turn of the loop: timers, then I/O for at most until the deadline (or 100 ms). */
static void step(rill_admin_t *a, int64_t deadline_us) {
    int64_t now = rill__mono_us();
    rill__cluster_tick(&a->cl, now);
    int64_t next = rill__cluster_next_wakeup(&a->cl, now);
    if (next > deadline_us)
        next = deadline_us;
    int64_t ms = (next - now + 999) / 1000;
    rill__loop_step(a->loop, ms > 100 ? 100 : ms < 0 ? 0 : (int)ms);
}

static bool all_done(const rill_aop *ops, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!ops[i].done)
            return false;
    return true;
}

void rill__admin_run(rill_admin_t *a, rill_aop *ops, size_t n, int64_t deadline_us) {
    for (size_t i = 0; i < n; i++) {
        rill__aop_reset(&ops[i]);
        int64_t left = (deadline_us - rill__mono_us()) / 1000;
        if (left <= 0 || !ops[i].broker) {
            ops[i].done = true;
            ops[i].err = left <= 0 ? RILL_ERR_TIMED_OUT : RILL_ERR_TRANSPORT;
            continue;
        }
        if (left > a->conf->request_timeout_ms)
            left = a->conf->request_timeout_ms;
        rill__cluster_request(&a->cl, ops[i].broker, ops[i].api, ops[i].vmin, ops[i].vmax, aop_enc,
                              aop_answer, &ops[i], (int)left);
    }
    while (!all_done(ops, n) && rill__mono_us() < deadline_us)
        step(a, deadline_us);
    if (all_done(ops, n))
        return;
    /* The ops live on the caller's stack: no callback may run after we return. */
    rill__cluster_abort_all(&a->cl, RILL_ERR_TIMED_OUT, "admin call timed out");
    for (size_t i = 0; i < n; i++) {
        if (!ops[i].done) {
            ops[i].done = true;
            ops[i].err = RILL_ERR_TIMED_OUT;
        }
    }
}

void rill__admin_sleep(rill_admin_t *a, int64_t until_us) {
    while (rill__mono_us() < until_us)
        step(a, until_us);
}

bool rill__admin_backoff(rill_admin_t *a, int64_t deadline_us) {
    int64_t until = rill__mono_us() + (int64_t)a->conf->retry_backoff_ms * 1000;
    if (until >= deadline_us)
        return false;
    rill__admin_sleep(a, until);
    return true;
}

bool rill__admin_retriable(int err) {
    switch (err) {
    case RILL_ERR_TIMED_OUT: /* one request's request.timeout.ms, not the call's */
    case RILL_ERR_NOT_CONTROLLER:
        return true;
    case RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION: /* an admin call reports it at once */
    case RILL_ERR_CORRUPT_MESSAGE:
        return false;
    default:
        return err != 0 && rill_err_is_retriable((rill_err_t)err);
    }
}

rill_cbroker *rill__admin_any_broker(rill_admin_t *a, int64_t deadline_us) {
    for (;;) {
        rill_cbroker *b = rill__cluster_any_broker(&a->cl, true);
        if (b || rill__mono_us() >= deadline_us)
            return b;
        step(a, deadline_us);
    }
}

rill_err_t rill__admin_call(rill_admin_t *a, rill_aop *op, rill__admin_target_fn *target,
                            rill__admin_judge_fn *judge, void *ctx, int64_t deadline_us) {
    bool garbled = false; /* the last answer was malformed */
    for (;;) {
        rill_err_t terr = 0;
        garbled = false;
        rill_cbroker *b = target(a, ctx, deadline_us, &terr);
        if (b) {
            op->broker = b;
            rill__admin_run(a, op, 1, deadline_us);
            if (!op->err) {
                int j = judge(a, ctx, op);
                if (j != RILL__ADMIN_RETRY)
                    return (rill_err_t)j;
                garbled = op->err == RILL_ERR_BAD_MSG;
            } else if (!rill__admin_retriable(op->err)) {
                return (rill_err_t)op->err;
            }
        } else if (terr && !rill__admin_retriable(terr)) {
            return terr;
        }
        if (!rill__admin_backoff(a, deadline_us))
            return garbled ? RILL_ERR_BAD_MSG : RILL_ERR_TIMED_OUT;
    }
}

rill_cbroker *rill__admin_target_any(rill_admin_t *a, void *ctx, int64_t deadline_us,
                                     rill_err_t *err) {
    (void)ctx;
    (void)err;
    return rill__admin_any_broker(a, deadline_us);
}

rill_cbroker *rill__admin_target_controller(rill_admin_t *a, void *ctx, int64_t deadline_us,
                                            rill_err_t *err) {
    (void)ctx;
    rill_admin_md md;
    *err = rill__admin_metadata(a, NULL, 0, deadline_us, &md);
    rill_cbroker *b = NULL;
    if (!*err) {
        b = rill__admin_md_broker(a, &md, md.m.controller_id);
        /* No controller among the brokers (librdkafka's mock names none): any
         * broker answers, forwards, or says NOT_CONTROLLER. */
        if (!b)
            b = md.op.broker;
    }
    rill__admin_md_free(&md);
    return b;
}

/* ---- metadata -------------------------------------------------------------- */

typedef struct md_ask {
    const char *const *topics;
    size_t n; /* SIZE_MAX: all */
} md_ask;

static int enc_metadata(rill_buf *b, int16_t ver, const rill_aop *op) {
    const md_ask *q = op->ctx;
    rill_metadata_req req = {0};
    rill_metadata_req_topic *ts = NULL;
    /* Before v4 naming a topic may create it (auto.create.topics.enable):
     * ask for all of them instead and pick. */
    if (q->n == SIZE_MAX || (q->n > 0 && ver < 4)) {
        req.ntopics = -1;
    } else if (q->n > 0) {
        if (q->n > INT32_MAX || !(ts = calloc(q->n, sizeof(*ts))))
            return -1;
        for (size_t i = 0; i < q->n; i++)
            ts[i].name = rill__str(q->topics[i]);
        req.topics = ts;
        req.ntopics = (int32_t)q->n;
    }
    req.allow_auto_topic_creation = ver < 4;
    int rc = rill__metadata_req_encode(b, ver, &req);
    free(ts);
    return rc;
}

static int judge_metadata(rill_admin_t *a, void *ctx, rill_aop *op) {
    rill_admin_md *md = ctx;
    rill__arena_free(&md->ar);
    rill__arena_init(&md->ar, 0);
    rill_rd r;
    rill__aop_reader(op, &r);
    if (rill__metadata_resp_decode(&r, op->ver, &md->m, &md->ar) != 0 || rill__rd_remain(&r)) {
        rill__aop_bad_msg(a, op);
        return RILL__ADMIN_RETRY;
    }
    for (int32_t i = 0; i < md->m.nbrokers; i++)
        rill__admin_md_broker(a, md, md->m.brokers[i].node_id);
    return 0;
}

rill_err_t rill__admin_metadata(rill_admin_t *a, const char *const *topics, size_t n,
                                int64_t deadline_us, rill_admin_md *md) {
    memset(md, 0, sizeof(*md));
    rill__arena_init(&md->ar, 0);
    md_ask q = {topics, n};
    md->op = (rill_aop){.api = RILL_API_METADATA,
                        .vmin = 1, /* v0 cannot ask for no topic */
                        .vmax = RILL_METADATA_MAX_VER,
                        .enc = enc_metadata,
                        .ctx = &q};
    rill_err_t err =
        rill__admin_call(a, &md->op, rill__admin_target_any, judge_metadata, md, deadline_us);
    md->op.ctx = NULL;
    return err;
}

void rill__admin_md_free(rill_admin_md *md) {
    rill__aop_reset(&md->op);
    rill__arena_free(&md->ar);
}

const rill_metadata_topic *rill__admin_md_topic(const rill_admin_md *md, const char *name) {
    for (int32_t i = 0; i < md->m.ntopics; i++)
        if (rill__str_eq(md->m.topics[i].name, name))
            return &md->m.topics[i];
    return NULL;
}

rill_cbroker *rill__admin_md_broker(rill_admin_t *a, const rill_admin_md *md, int32_t id) {
    for (int32_t i = 0; i < md->m.nbrokers; i++) {
        const rill_metadata_broker *mb = &md->m.brokers[i];
        if (mb->node_id != id || mb->host.len <= 0)
            continue;
        char host[256];
        snprintf(host, sizeof(host), "%.*s", (int)mb->host.len, mb->host.ptr);
        return rill__cluster_broker_ensure(&a->cl, id, host, mb->port);
    }
    return NULL;
}

/* ---- group coordinators ------------------------------------------------------ */

static int enc_find_coordinator(rill_buf *b, int16_t ver, const rill_aop *op) {
    const char *const *groups = op->ctx;
    rill_str key = rill__str(groups[op->idx]);
    rill_find_coordinator_req req = {RILL_COORDINATOR_GROUP, &key, 1};
    return rill__find_coordinator_req_encode(b, ver, &req);
}

/* Reads op's FindCoordinator answer: 0 (out set), RILL__ADMIN_RETRY, or a Kafka error. */
static int read_coordinator(rill_admin_t *a, rill_aop *op, rill_cbroker **out) {
    if (op->err)
        return rill__admin_retriable(op->err) ? RILL__ADMIN_RETRY : op->err;
    rill_arena ar;
    rill__arena_init(&ar, 0);
    rill_find_coordinator_resp m;
    rill_rd r;
    rill__aop_reader(op, &r);
    int rc;
    if (rill__find_coordinator_resp_decode(&r, op->ver, &m, &ar) != 0 || rill__rd_remain(&r) ||
        m.ncoordinators != 1) {
        rill__aop_bad_msg(a, op);
        rc = RILL__ADMIN_RETRY;
    } else if (m.coordinators[0].error_code) {
        rc = m.coordinators[0].error_code;
        if (rill__admin_retriable(rc))
            rc = RILL__ADMIN_RETRY;
    } else {
        const rill_find_coordinator *fc = &m.coordinators[0];
        char host[256];
        snprintf(host, sizeof(host), "%.*s", fc->host.len > 0 ? (int)fc->host.len : 0,
                 fc->host.ptr ? fc->host.ptr : "");
        *out = rill__cluster_broker_ensure(&a->cl, fc->node_id, host, fc->port);
        rc = *out ? 0 : RILL_ERR_NO_MEMORY;
    }
    rill__arena_free(&ar);
    return rc;
}

void rill__admin_coordinators(rill_admin_t *a, const char *const *groups, size_t n,
                              int64_t deadline_us, rill_cbroker **out, rill_err_t *errs) {
    rill_aop *ops = calloc(n ? n : 1, sizeof(*ops));
    bool *pending = calloc(n ? n : 1, sizeof(*pending));
    for (size_t i = 0; i < n; i++) {
        out[i] = NULL;
        errs[i] = ops && pending ? RILL_ERR_TIMED_OUT : RILL_ERR_NO_MEMORY;
        if (pending)
            pending[i] = true;
    }
    size_t left = ops && pending ? n : 0;
    while (left) {
        rill_cbroker *b = rill__admin_any_broker(a, deadline_us);
        if (!b)
            break;
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (pending[i])
                ops[k++] = (rill_aop){.broker = b,
                                      .api = RILL_API_FIND_COORDINATOR,
                                      .vmax = RILL_FIND_COORDINATOR_MAX_VER,
                                      .enc = enc_find_coordinator,
                                      .ctx = (void *)groups,
                                      .idx = i};
        rill__admin_run(a, ops, k, deadline_us);
        for (size_t j = 0; j < k; j++) {
            size_t i = ops[j].idx;
            int rc = read_coordinator(a, &ops[j], &out[i]);
            rill__aop_reset(&ops[j]);
            if (rc == RILL__ADMIN_RETRY)
                continue;
            errs[i] = rc;
            pending[i] = false;
            left--;
        }
        if (left && !rill__admin_backoff(a, deadline_us))
            break;
    }
    free(ops);
    free(pending);
}

rill_err_t rill__admin_group_call(rill_admin_t *a, rill_group_call *gc, int64_t deadline_us) {
    size_t n = gc->n;
    rill_aop *ops = calloc(n ? n : 1, sizeof(*ops));
    rill_cbroker **coord = calloc(n ? n : 1, sizeof(*coord));
    rill_err_t *cerr = calloc(n ? n : 1, sizeof(*cerr));
    const char **pend = calloc(n ? n : 1, sizeof(*pend));
    size_t *pidx = calloc(n ? n : 1, sizeof(*pidx));
    bool *pending = calloc(n ? n : 1, sizeof(*pending));
    rill_err_t rc = 0;
    if (!ops || !coord || !cerr || !pend || !pidx || !pending) {
        rc = RILL_ERR_NO_MEMORY;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        gc->errs[i] = RILL_ERR_TIMED_OUT;
        if (gc->coordinators)
            gc->coordinators[i] = -1;
        pending[i] = true;
    }
    size_t left = n;
    while (left) {
        /* Coordinators of the groups still pending, looked up afresh each round. */
        size_t np = 0;
        for (size_t i = 0; i < n; i++)
            if (pending[i]) {
                pidx[np] = i;
                pend[np++] = gc->groups[i];
            }
        rill__admin_coordinators(a, pend, np, deadline_us, coord, cerr);
        size_t k = 0;
        for (size_t j = 0; j < np; j++) {
            size_t i = pidx[j];
            if (!coord[j]) {
                if (cerr[j] != RILL_ERR_TIMED_OUT) { /* e.g. GROUP_AUTHORIZATION_FAILED */
                    gc->errs[i] = cerr[j];
                    pending[i] = false;
                    left--;
                }
                continue;
            }
            if (gc->coordinators)
                gc->coordinators[i] = coord[j]->id;
            ops[k++] = (rill_aop){.broker = coord[j],
                                  .api = gc->api,
                                  .vmin = gc->vmin,
                                  .vmax = gc->vmax,
                                  .enc = gc->enc,
                                  .ctx = gc->ctx,
                                  .idx = i};
        }
        rill__admin_run(a, ops, k, deadline_us);
        for (size_t j = 0; j < k; j++) {
            size_t i = ops[j].idx;
            int r = ops[j].err
                        ? (rill__admin_retriable(ops[j].err) ? RILL__ADMIN_RETRY : ops[j].err)
                        : gc->read(a, gc->ctx, i, &ops[j]);
            /* Should time run out, a malformed last answer says more than TIMED_OUT. */
            gc->errs[i] = ops[j].err == RILL_ERR_BAD_MSG ? RILL_ERR_BAD_MSG : RILL_ERR_TIMED_OUT;
            rill__aop_reset(&ops[j]);
            if (r == RILL__ADMIN_RETRY || rill__admin_retriable(r))
                continue;
            gc->errs[i] = r;
            pending[i] = false;
            left--;
        }
        if (left && !rill__admin_backoff(a, deadline_us))
            break;
    }
out:
    free(ops);
    free(coord);
    free(cerr);
    free(pend);
    free(pidx);
    free(pending);
    return rc;
}

/* ---- results ----------------------------------------------------------------- */

/* The arena sits in front of the public struct, aligned for anything. */
#define RES_HDR                                                                                    \
    ((sizeof(rill_arena) + alignof(max_align_t) - 1) / alignof(max_align_t) * alignof(max_align_t))

void *rill__admin_res_new(size_t size) {
    char *p = calloc(1, RES_HDR + size);
    if (!p)
        return NULL;
    rill__arena_init((rill_arena *)p, 0);
    return p + RES_HDR;
}

rill_arena *rill__admin_res_arena(void *res) { return (rill_arena *)((char *)res - RES_HDR); }

void rill__admin_res_free(void *res) {
    if (!res)
        return;
    rill__arena_free(rill__admin_res_arena(res));
    free((char *)res - RES_HDR);
}

const char *rill__admin_strdup(rill_arena *ar, rill_str s) {
    if (s.len < 0)
        return NULL;
    char *d = rill__arena_alloc(ar, (size_t)s.len + 1);
    if (!d)
        return NULL;
    if (s.len)
        memcpy(d, s.ptr, (size_t)s.len);
    d[s.len] = '\0';
    return d;
}

const char *rill__admin_cstrdup(rill_arena *ar, const char *s) {
    return rill__admin_strdup(ar, rill__str(s));
}

void rill__admin_set_result(rill_topic_result_t *r, rill_str name, int err, rill_str msg) {
    snprintf(r->name, sizeof(r->name), "%.*s", name.len > 0 ? (int)name.len : 0,
             name.ptr ? name.ptr : "");
    r->err = err;
    if (msg.len > 0)
        snprintf(r->errstr, sizeof(r->errstr), "%.*s", (int)msg.len, msg.ptr);
    else
        snprintf(r->errstr, sizeof(r->errstr), "%s", err ? rill_err_str(err) : "");
}
