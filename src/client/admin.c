/*
 * admin.c -- the admin client: topic creation and deletion.
 *
 * Admin calls are synchronous and bounded by their timeout, so the admin
 * handle needs no thread of its own: each call drives the handle's event
 * loop on the caller's thread until the answer arrives or time runs out.
 * Requests go to the controller (from Metadata), and are retried on
 * NOT_CONTROLLER after a metadata refresh, as the Java AdminClient does.
 * A handle is not thread-safe: use it from one thread at a time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/cluster.h"
#include "client/conf.h"
#include "common/clock.h"
#include "proto/api_topics.h"
#include "proto/arena.h"
#include "proto/fields.h"
#include "rill.h"

struct rill_admin {
    rill_conf_t *conf;
    rill_logger log;
    rill_loop *loop;
    rill_cluster cl;
};

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

/* Runs the loop until *done or the deadline. */
static void run_until(rill_admin_t *a, const bool *done, int64_t deadline_us) {
    while (!*done) {
        int64_t now = rill__mono_us();
        if (now >= deadline_us)
            return;
        rill__cluster_tick(&a->cl, now);
        if (*done)
            return;
        int64_t next = rill__cluster_next_wakeup(&a->cl, now);
        if (next > deadline_us)
            next = deadline_us;
        int64_t ms = (next - now + 999) / 1000;
        rill__loop_step(a->loop, ms > 100 ? 100 : (int)ms);
    }
}

/* The controller, once metadata names one, or NULL by the deadline. */
static rill_cbroker *controller(rill_admin_t *a, int64_t deadline_us, bool refresh) {
    if (refresh || !a->cl.have_metadata) {
        a->cl.md_next_us = 0;
        rill__cluster_md_refresh(&a->cl, "admin", true);
        int64_t since = a->cl.md_last_ok_us;
        while (a->cl.md_last_ok_us == since) {
            int64_t now = rill__mono_us();
            if (now >= deadline_us)
                return NULL;
            rill__cluster_tick(&a->cl, now);
            rill__loop_step(a->loop, 20);
        }
    }
    rill_cbroker *b = NULL;
    if (a->cl.controller_id >= 0)
        b = rill__cluster_broker(&a->cl, a->cl.controller_id);
    if (!b) /* Metadata v0 has no controller: any broker will forward or answer. */
        b = rill__cluster_any_broker(&a->cl, false);
    return b;
}

typedef struct call {
    rill_admin_t *a;
    bool done;
    int err; /* transport-level */
    const void *topics;
    size_t n;
    int timeout_ms;
    rill_topic_result_t *results;
    bool not_controller;
} call;

static void set_result(rill_topic_result_t *r, rill_str name, int err, rill_str msg) {
    snprintf(r->name, sizeof(r->name), "%.*s", name.len > 0 ? (int)name.len : 0,
             name.ptr ? name.ptr : "");
    r->err = err;
    if (msg.len > 0)
        snprintf(r->errstr, sizeof(r->errstr), "%.*s", (int)msg.len, msg.ptr);
    else
        snprintf(r->errstr, sizeof(r->errstr), "%s", err ? rill_err_str(err) : "");
}

static int enc_create(rill_buf *b, int16_t ver, void *opaque) {
    call *c = opaque;
    const rill_new_topic_t *nt = c->topics;
    rill_create_topics_topic *ts = calloc(c->n ? c->n : 1, sizeof(*ts));
    size_t ncfg = 0;
    for (size_t i = 0; i < c->n; i++)
        ncfg += nt[i].config_cnt;
    rill_create_topics_config *cf = calloc(ncfg ? ncfg : 1, sizeof(*cf));
    if (!ts || !cf) {
        free(ts);
        free(cf);
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++) {
        ts[i].name = rill__str(nt[i].name);
        ts[i].num_partitions = nt[i].num_partitions;
        ts[i].replication_factor = nt[i].replication_factor;
        /* Before v4 the broker has no default: use 1 and 1, as kafka-topics did. */
        if (ver < 4 && ts[i].num_partitions < 0)
            ts[i].num_partitions = 1;
        if (ver < 4 && ts[i].replication_factor < 0)
            ts[i].replication_factor = 1;
        ts[i].configs = &cf[k];
        ts[i].nconfigs = (int32_t)nt[i].config_cnt;
        for (size_t j = 0; j < nt[i].config_cnt; j++, k++) {
            cf[k].name = rill__str(nt[i].configs[j].name);
            cf[k].value = rill__str(nt[i].configs[j].value);
        }
    }
    rill_create_topics_req req = {ts, (int32_t)c->n, c->timeout_ms, false};
    int rc = rill__create_topics_req_encode(b, ver, &req);
    free(ts);
    free(cf);
    return rc;
}

static int on_create(rill_conn *conn, int err, int16_t ver, rill_rd *body, void *opaque) {
    call *c = opaque;
    (void)conn;
    c->done = true;
    if (err) {
        c->err = err;
        return 0;
    }
    rill_arena ar;
    rill__arena_init(&ar, 0);
    rill_create_topics_resp m;
    if (rill__create_topics_resp_decode(body, ver, &m, &ar) != 0) {
        rill__arena_free(&ar);
        c->err = RILL_ERR_BAD_MSG;
        return -1;
    }
    const rill_new_topic_t *nt = c->topics;
    for (size_t i = 0; i < c->n; i++) {
        for (int32_t j = 0; j < m.ntopics; j++) {
            if (!rill__str_eq(m.topics[j].name, nt[i].name))
                continue;
            if (m.topics[j].error_code == RILL_ERR_NOT_CONTROLLER)
                c->not_controller = true;
            set_result(&c->results[i], m.topics[j].name, m.topics[j].error_code,
                       m.topics[j].error_message);
        }
    }
    rill__arena_free(&ar);
    return 0;
}

static int enc_delete(rill_buf *b, int16_t ver, void *opaque) {
    call *c = opaque;
    const char *const *names = c->topics;
    rill_delete_topics_req_topic *ts = calloc(c->n ? c->n : 1, sizeof(*ts));
    if (!ts)
        return -1;
    for (size_t i = 0; i < c->n; i++)
        ts[i].name = rill__str(names[i]);
    rill_delete_topics_req req = {ts, (int32_t)c->n, c->timeout_ms};
    int rc = rill__delete_topics_req_encode(b, ver, &req);
    free(ts);
    return rc;
}

static int on_delete(rill_conn *conn, int err, int16_t ver, rill_rd *body, void *opaque) {
    call *c = opaque;
    (void)conn;
    c->done = true;
    if (err) {
        c->err = err;
        return 0;
    }
    rill_arena ar;
    rill__arena_init(&ar, 0);
    rill_delete_topics_resp m;
    if (rill__delete_topics_resp_decode(body, ver, &m, &ar) != 0) {
        rill__arena_free(&ar);
        c->err = RILL_ERR_BAD_MSG;
        return -1;
    }
    const char *const *names = c->topics;
    for (size_t i = 0; i < c->n; i++) {
        for (int32_t j = 0; j < m.nresponses; j++) {
            if (!rill__str_eq(m.responses[j].name, names[i]))
                continue;
            if (m.responses[j].error_code == RILL_ERR_NOT_CONTROLLER)
                c->not_controller = true;
            set_result(&c->results[i], m.responses[j].name, m.responses[j].error_code,
                       m.responses[j].error_message);
        }
    }
    rill__arena_free(&ar);
    return 0;
}

static rill_err_t run_call(rill_admin_t *a, int16_t api, int16_t vmax, rill__enc_fn *enc,
                           rill__resp_cb *cb, call *c, const char *const *names) {
    int64_t deadline = rill__mono_us() + (int64_t)c->timeout_ms * 1000;
    for (size_t i = 0; i < c->n; i++) {
        /* Until the broker names the topic, the call has not been answered. */
        set_result(&c->results[i], rill__str(names[i]), RILL_ERR_TIMED_OUT, rill__str_null());
    }
    bool refresh = false;
    for (int attempt = 0;; attempt++) {
        rill_cbroker *b = controller(a, deadline, refresh);
        if (!b) {
            /* No metadata yet: connect to something and try again. */
            rill__cluster_any_broker(&a->cl, true);
            if (rill__mono_us() >= deadline)
                break;
            refresh = true;
            continue;
        }
        c->done = false;
        c->err = 0;
        c->not_controller = false;
        int64_t left = (deadline - rill__mono_us()) / 1000;
        if (left <= 0)
            break;
        rill__cluster_request(&a->cl, b, api, 0, vmax, enc, cb, c, (int)left);
        run_until(a, &c->done, deadline);
        if (!c->done) {
            rill__cluster_abort_all(&a->cl, RILL_ERR_TIMED_OUT, "admin call timed out");
            break;
        }
        if (c->err == RILL_ERR_TRANSPORT || c->not_controller) {
            refresh = true;
            if (rill__mono_us() + 100000 < deadline) {
                bool never = false;
                run_until(a, &never, rill__mono_us() + 100000); /* brief backoff */
                continue;
            }
            break;
        }
        if (c->err) {
            for (size_t i = 0; i < c->n; i++)
                set_result(&c->results[i], rill__str(names[i]), c->err, rill__str_null());
            return c->err;
        }
        return 0;
    }
    for (size_t i = 0; i < c->n; i++)
        if (c->results[i].err == RILL_ERR_TIMED_OUT || c->results[i].err == RILL_ERR_NOT_CONTROLLER)
            set_result(&c->results[i], rill__str(names[i]), RILL_ERR_TIMED_OUT, rill__str_null());
    return RILL_ERR_TIMED_OUT;
}

rill_err_t rill_admin_create_topics(rill_admin_t *a, const rill_new_topic_t *topics, size_t n,
                                    int timeout_ms, rill_topic_result_t *results) {
    if (!a || (n && (!topics || !results)) || timeout_ms <= 0)
        return RILL_ERR_INVALID_ARG;
    const char **names = calloc(n ? n : 1, sizeof(*names));
    if (!names)
        return RILL_ERR_NO_MEMORY;
    for (size_t i = 0; i < n; i++) {
        if (!topics[i].name) {
            free(names);
            return RILL_ERR_INVALID_ARG;
        }
        names[i] = topics[i].name;
    }
    call c = {.a = a, .topics = topics, .n = n, .timeout_ms = timeout_ms, .results = results};
    rill_err_t rc = run_call(a, RILL_API_CREATE_TOPICS, RILL_CREATE_TOPICS_MAX_VER, enc_create,
                             on_create, &c, names);
    free(names);
    return rc;
}

rill_err_t rill_admin_delete_topics(rill_admin_t *a, const char *const *topics, size_t n,
                                    int timeout_ms, rill_topic_result_t *results) {
    if (!a || (n && (!topics || !results)) || timeout_ms <= 0)
        return RILL_ERR_INVALID_ARG;
    for (size_t i = 0; i < n; i++)
        if (!topics[i])
            return RILL_ERR_INVALID_ARG;
    call c = {.a = a, .topics = topics, .n = n, .timeout_ms = timeout_ms, .results = results};
    return run_call(a, RILL_API_DELETE_TOPICS, RILL_DELETE_TOPICS_MAX_VER, enc_delete, on_delete,
                    &c, topics);
}
