/*
 * admin_topics.c -- topic admin calls: create and delete topics, create
 * partitions (each sent to the controller, retried on NOT_CONTROLLER after
 * a metadata refresh, as the Java AdminClient does), and list topics with
 * their partitions (from Metadata).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/admin_int.h"
#include "proto/api_topics.h"
#include "proto/fields.h"

/* ---- calls to the controller with one result per topic --------------------- */

/* One topic's answer, whichever API it came from. */
typedef struct topic_answer {
    rill_str name;
    int16_t code;
    rill_str msg;
} topic_answer;

typedef struct topic_call {
    const void *items; /* the API's input array, for its encoder */
    const char *const *names;
    size_t n;
    int timeout_ms;
    rill_topic_result_t *results;
    /* Decodes the response into answers (from ar); 0 or -1 (malformed). */
    int (*read)(rill_rd *r, int16_t ver, rill_arena *ar, topic_answer **ans, int32_t *nans);
} topic_call;

/*
 * Reads a response whose results array `arr` (count `narr`) has name,
 * error_code and error_message into answers; 0 or -1 (malformed).  The
 * three APIs differ only in their types, hence a macro.
 */
#define READ_ANSWERS(fn, resp_t, decode, arr, narr)                                                \
    static int fn(rill_rd *r, int16_t ver, rill_arena *ar, topic_answer **ans, int32_t *nans) {    \
        resp_t m;                                                                                  \
        if (decode(r, ver, &m, ar) != 0)                                                           \
            return -1;                                                                             \
        *ans = rill__arena_calloc(ar, m.narr > 0 ? (size_t)m.narr : 1, sizeof(**ans));             \
        if (!*ans)                                                                                 \
            return -1;                                                                             \
        for (int32_t i = 0; i < m.narr; i++)                                                       \
            (*ans)[i] =                                                                            \
                (topic_answer){m.arr[i].name, m.arr[i].error_code, m.arr[i].error_message};        \
        *nans = m.narr;                                                                            \
        return 0;                                                                                  \
    }

READ_ANSWERS(read_create, rill_create_topics_resp, rill__create_topics_resp_decode, topics, ntopics)
READ_ANSWERS(read_delete, rill_delete_topics_resp, rill__delete_topics_resp_decode, responses,
             nresponses)
READ_ANSWERS(read_partitions, rill_create_partitions_resp, rill__create_partitions_resp_decode,
             results, nresults)

static int judge_topics(rill_admin_t *a, void *ctx, rill_aop *op) {
    topic_call *c = ctx;
    rill_arena ar;
    rill__arena_init(&ar, 0);
    topic_answer *ans = NULL;
    int32_t nans = 0;
    rill_rd r;
    rill__aop_reader(op, &r);
    if (c->read(&r, op->ver, &ar, &ans, &nans) != 0 || rill__rd_remain(&r)) {
        rill__arena_free(&ar);
        rill__aop_bad_msg(a, op);
        return RILL__ADMIN_RETRY;
    }
    bool moved = false;
    for (size_t i = 0; i < c->n; i++) {
        for (int32_t j = 0; j < nans; j++) {
            if (!rill__str_eq(ans[j].name, c->names[i]))
                continue;
            moved |= ans[j].code == RILL_ERR_NOT_CONTROLLER;
            rill__admin_set_result(&c->results[i], ans[j].name, ans[j].code, ans[j].msg);
        }
    }
    rill__arena_free(&ar);
    return moved ? RILL__ADMIN_RETRY : 0;
}

static rill_err_t run_topic_call(rill_admin_t *a, int16_t api, int16_t vmax, rill__aop_enc_fn *enc,
                                 topic_call *c) {
    int64_t deadline = rill__admin_deadline(c->timeout_ms);
    for (size_t i = 0; i < c->n; i++) {
        /* Until the broker names the topic, the call has not been answered. */
        rill__admin_set_result(&c->results[i], rill__str(c->names[i]), RILL_ERR_TIMED_OUT,
                               rill__str_null());
    }
    rill_aop op = {.api = api, .vmax = vmax, .enc = enc, .ctx = c};
    rill_err_t err =
        rill__admin_call(a, &op, rill__admin_target_controller, judge_topics, c, deadline);
    rill__aop_reset(&op);
    if (!err)
        return 0;
    for (size_t i = 0; i < c->n; i++) {
        int e = c->results[i].err;
        if (err != RILL_ERR_TIMED_OUT || e == RILL_ERR_TIMED_OUT || e == RILL_ERR_NOT_CONTROLLER)
            rill__admin_set_result(&c->results[i], rill__str(c->names[i]), err, rill__str_null());
    }
    return err;
}

static bool valid_names(const char *const *names, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (!names[i])
            return false;
    return n <= INT32_MAX;
}

/* ---- CreateTopics -------------------------------------------------------------- */

static int enc_create(rill_buf *b, int16_t ver, const rill_aop *op) {
    const topic_call *c = op->ctx;
    const rill_new_topic_t *nt = c->items;
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

rill_err_t rill_admin_create_topics(rill_admin_t *a, const rill_new_topic_t *topics, size_t n,
                                    int timeout_ms, rill_topic_result_t *results) {
    if (!a || (n && (!topics || !results)) || timeout_ms <= 0 || n > INT32_MAX)
        return RILL_ERR_INVALID_ARG;
    const char **names = calloc(n ? n : 1, sizeof(*names));
    if (!names)
        return RILL_ERR_NO_MEMORY;
    for (size_t i = 0; i < n; i++)
        names[i] = topics[i].name;
    rill_err_t rc = RILL_ERR_INVALID_ARG;
    if (valid_names(names, n)) {
        topic_call c = {topics, names, n, timeout_ms, results, read_create};
        rc = run_topic_call(a, RILL_API_CREATE_TOPICS, RILL_CREATE_TOPICS_MAX_VER, enc_create, &c);
    }
    free(names);
    return rc;
}

/* ---- DeleteTopics ---------------------------------------------------------------- */

static int enc_delete(rill_buf *b, int16_t ver, const rill_aop *op) {
    const topic_call *c = op->ctx;
    rill_delete_topics_req_topic *ts = calloc(c->n ? c->n : 1, sizeof(*ts));
    if (!ts)
        return -1;
    for (size_t i = 0; i < c->n; i++)
        ts[i].name = rill__str(c->names[i]);
    rill_delete_topics_req req = {ts, (int32_t)c->n, c->timeout_ms};
    int rc = rill__delete_topics_req_encode(b, ver, &req);
    free(ts);
    return rc;
}

rill_err_t rill_admin_delete_topics(rill_admin_t *a, const char *const *topics, size_t n,
                                    int timeout_ms, rill_topic_result_t *results) {
    if (!a || (n && (!topics || !results)) || timeout_ms <= 0 || !valid_names(topics, n))
        return RILL_ERR_INVALID_ARG;
    topic_call c = {NULL, topics, n, timeout_ms, results, read_delete};
    return run_topic_call(a, RILL_API_DELETE_TOPICS, RILL_DELETE_TOPICS_MAX_VER, enc_delete, &c);
}

/* ---- CreatePartitions -------------------------------------------------------------- */

static int enc_partitions(rill_buf *b, int16_t ver, const rill_aop *op) {
    const topic_call *c = op->ctx;
    const rill_new_partitions_t *np = c->items;
    rill_create_partitions_topic *ts = calloc(c->n ? c->n : 1, sizeof(*ts));
    if (!ts)
        return -1;
    for (size_t i = 0; i < c->n; i++) {
        ts[i].name = rill__str(np[i].topic);
        ts[i].count = np[i].total_count;
        ts[i].nassignments = -1; /* the broker places the new partitions */
    }
    rill_create_partitions_req req = {ts, (int32_t)c->n, c->timeout_ms, false};
    int rc = rill__create_partitions_req_encode(b, ver, &req);
    free(ts);
    return rc;
}

rill_err_t rill_admin_create_partitions(rill_admin_t *a, const rill_new_partitions_t *parts,
                                        size_t n, int timeout_ms, rill_topic_result_t *results) {
    if (!a || (n && (!parts || !results)) || timeout_ms <= 0 || n > INT32_MAX)
        return RILL_ERR_INVALID_ARG;
    const char **names = calloc(n ? n : 1, sizeof(*names));
    if (!names)
        return RILL_ERR_NO_MEMORY;
    bool ok = true;
    for (size_t i = 0; i < n; i++) {
        names[i] = parts[i].topic;
        ok &= parts[i].total_count > 0;
    }
    rill_err_t rc = RILL_ERR_INVALID_ARG;
    if (ok && valid_names(names, n)) {
        topic_call c = {parts, names, n, timeout_ms, results, read_partitions};
        rc = run_topic_call(a, RILL_API_CREATE_PARTITIONS, RILL_CREATE_PARTITIONS_MAX_VER,
                            enc_partitions, &c);
    }
    free(names);
    return rc;
}

/* ---- list topics (Metadata) ----------------------------------------------------------- */

static int cmp_part(const void *x, const void *y) {
    const rill_partition_info_t *p = x, *q = y;
    return (p->partition > q->partition) - (p->partition < q->partition);
}

static int cmp_topic(const void *x, const void *y) {
    const rill_topic_info_t *p = x, *q = y;
    return strcmp(p->name, q->name);
}

static int cmp_broker(const void *x, const void *y) {
    const rill_broker_info_t *p = x, *q = y;
    return (p->id > q->id) - (p->id < q->id);
}

static const int32_t *dup_ids(rill_arena *ar, const int32_t *v, int32_t n) {
    if (n <= 0)
        return NULL;
    int32_t *d = rill__arena_alloc(ar, (size_t)n * sizeof(*d));
    if (d)
        memcpy(d, v, (size_t)n * sizeof(*d));
    return d;
}

/* Copies one Metadata topic (mt NULL: not in the answer) into t. */
static void copy_topic(rill_arena *ar, rill_topic_info_t *t, rill_str name,
                       const rill_metadata_topic *mt) {
    t->name = rill__admin_strdup(ar, name);
    if (!mt) {
        t->err = RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        return;
    }
    t->err = mt->error_code;
    t->internal = mt->is_internal;
    if (mt->npartitions <= 0)
        return;
    rill_partition_info_t *ps = rill__arena_calloc(ar, (size_t)mt->npartitions, sizeof(*ps));
    if (!ps)
        return;
    for (int32_t i = 0; i < mt->npartitions; i++) {
        const rill_metadata_partition *mp = &mt->partitions[i];
        ps[i] = (rill_partition_info_t){
            .partition = mp->partition_index,
            .err = mp->error_code,
            .leader = mp->leader_id,
            .replicas = dup_ids(ar, mp->replica_nodes, mp->nreplica_nodes),
            .replica_cnt = mp->nreplica_nodes > 0 ? (size_t)mp->nreplica_nodes : 0,
            .isr = dup_ids(ar, mp->isr_nodes, mp->nisr_nodes),
            .isr_cnt = mp->nisr_nodes > 0 ? (size_t)mp->nisr_nodes : 0,
        };
    }
    qsort(ps, (size_t)mt->npartitions, sizeof(*ps), cmp_part);
    t->partitions = ps;
    t->partition_cnt = (size_t)mt->npartitions;
}

static rill_err_t build_topic_list(const rill_admin_md *md, const char *const *topics, size_t n,
                                   rill_topic_list_t *l) {
    rill_arena *ar = rill__admin_res_arena(l);
    const rill_metadata_resp *m = &md->m;
    l->cluster_id = rill__admin_strdup(ar, m->cluster_id);
    l->controller_id = m->controller_id;
    rill_broker_info_t *bs =
        rill__arena_calloc(ar, m->nbrokers > 0 ? (size_t)m->nbrokers : 1, sizeof(*bs));
    if (!bs)
        return RILL_ERR_NO_MEMORY;
    for (int32_t i = 0; i < m->nbrokers; i++)
        bs[i] =
            (rill_broker_info_t){m->brokers[i].node_id, rill__admin_strdup(ar, m->brokers[i].host),
                                 m->brokers[i].port, rill__admin_strdup(ar, m->brokers[i].rack)};
    l->broker_cnt = m->nbrokers > 0 ? (size_t)m->nbrokers : 0;
    qsort(bs, l->broker_cnt, sizeof(*bs), cmp_broker);
    l->brokers = bs;

    size_t cnt = topics ? n : (m->ntopics > 0 ? (size_t)m->ntopics : 0);
    rill_topic_info_t *ts = rill__arena_calloc(ar, cnt ? cnt : 1, sizeof(*ts));
    if (!ts)
        return RILL_ERR_NO_MEMORY;
    size_t k = 0;
    if (topics) {
        for (size_t i = 0; i < n; i++)
            copy_topic(ar, &ts[k++], rill__str(topics[i]), rill__admin_md_topic(md, topics[i]));
    } else {
        for (int32_t i = 0; i < m->ntopics; i++) {
            const rill_metadata_topic *mt = &m->topics[i];
            if (mt->name.len < 0)
                continue; /* v12 may name a topic by id only */
            copy_topic(ar, &ts[k++], mt->name, mt);
        }
        qsort(ts, k, sizeof(*ts), cmp_topic);
    }
    l->topics = ts;
    l->topic_cnt = k;
    return ar->err ? RILL_ERR_NO_MEMORY : 0;
}

rill_err_t rill_admin_list_topics(rill_admin_t *a, const char *const *topics, size_t n,
                                  int timeout_ms, rill_topic_list_t **out) {
    if (out)
        *out = NULL;
    if (!a || !out || timeout_ms <= 0 || (n && !topics) || (topics && !valid_names(topics, n)))
        return RILL_ERR_INVALID_ARG;
    rill_admin_md md;
    rill_err_t err = rill__admin_metadata(a, topics, topics ? n : SIZE_MAX,
                                          rill__admin_deadline(timeout_ms), &md);
    rill_topic_list_t *l = rill__admin_res_new(sizeof(*l));
    if (!l) {
        err = RILL_ERR_NO_MEMORY;
    } else if (!err) {
        err = build_topic_list(&md, topics, n, l);
    } else {
        l->controller_id = -1;
    }
    rill__admin_md_free(&md);
    if (err == RILL_ERR_NO_MEMORY) {
        rill__admin_res_free(l);
        l = NULL;
    }
    *out = l;
    return err;
}

void rill_topic_list_free(rill_topic_list_t *list) { rill__admin_res_free(list); }
