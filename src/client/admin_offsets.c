/*
 * admin_offsets.c -- offsets admin calls: list offsets (ListOffsets to each
 * partition's leader: earliest, latest, or by timestamp) and a consumer
 * group's lag (its committed offsets, from OffsetFetch to the coordinator,
 * against the partitions' log end offsets).
 *
 * ListOffsets is capped at v3: librdkafka's mock cluster (2.0.2) writes the
 * v4+ response's LeaderEpoch as an int64, and v4+ adds nothing an admin
 * query needs.  v0 (a list of offsets before a time) is left out: every
 * broker since Kafka 0.10.1 answers v1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/admin_int.h"
#include "proto/api_list_offsets.h"
#include "proto/api_offsets.h"
#include "proto/fields.h"

#define LIST_OFFSETS_MAX_VER 3

/* ---- ListOffsets ---------------------------------------------------------------- */

/*
 * A pending query with its leader this round.  A request must not name a
 * partition twice (Kafka refuses it, and the answers could not be told
 * apart), so the n-th query of the same partition goes in the leader's
 * n-th request: `wave`.
 */
typedef struct placed {
    rill_cbroker *leader;
    size_t wave;
    const char *topic;
    int32_t partition;
    size_t i; /* index of the query */
} placed;

/* The queries one request to one leader carries. */
typedef struct leader_batch {
    rill_offset_query_t *q;
    const placed *p;
    size_t cnt;
    int read_committed;
} leader_batch;

static int enc_list_offsets(rill_buf *b, int16_t ver, const rill_aop *op) {
    const leader_batch *lb = op->ctx;
    /* The indices are sorted by topic: one topic entry per run of equal names. */
    rill_list_offsets_req_topic *ts = calloc(lb->cnt, sizeof(*ts));
    rill_list_offsets_req_partition *ps = calloc(lb->cnt, sizeof(*ps));
    if (!ts || !ps) {
        free(ts);
        free(ps);
        return -1;
    }
    int32_t nt = 0;
    for (size_t k = 0; k < lb->cnt; k++) {
        const rill_offset_query_t *q = &lb->q[lb->p[k].i];
        if (!nt || strcmp(q->topic, lb->p[k - 1].topic)) {
            ts[nt].name = rill__str(q->topic);
            ts[nt].partitions = &ps[k];
            nt++;
        }
        ps[k] = (rill_list_offsets_req_partition){q->partition, -1, q->spec, 1};
        ts[nt - 1].npartitions++;
    }
    rill_list_offsets_req req = {-1, (int8_t)(ver >= 2 ? lb->read_committed : 0), ts, nt};
    int rc = rill__list_offsets_req_encode(b, ver, &req);
    free(ts);
    free(ps);
    return rc;
}

static const rill_list_offsets_resp_partition *find_answer(const rill_list_offsets_resp *m,
                                                           const rill_offset_query_t *q) {
    for (int32_t t = 0; t < m->ntopics; t++) {
        if (!rill__str_eq(m->topics[t].name, q->topic))
            continue;
        for (int32_t p = 0; p < m->topics[t].npartitions; p++)
            if (m->topics[t].partitions[p].partition_index == q->partition)
                return &m->topics[t].partitions[p];
    }
    return NULL;
}

/* Fills the answered queries of one batch; the others stay pending. */
static void read_list_offsets(rill_admin_t *a, rill_aop *op, bool *pending) {
    const leader_batch *lb = op->ctx;
    if (op->err) {
        if (!rill__admin_retriable(op->err))
            for (size_t k = 0; k < lb->cnt; k++) {
                lb->q[lb->p[k].i].err = op->err;
                pending[lb->p[k].i] = false;
            }
        return;
    }
    rill_arena ar;
    rill__arena_init(&ar, 0);
    rill_list_offsets_resp m;
    rill_rd r;
    rill__aop_reader(op, &r);
    if (rill__list_offsets_resp_decode(&r, op->ver, &m, &ar) != 0 || rill__rd_remain(&r)) {
        rill__aop_bad_msg(a, op);
        rill__arena_free(&ar);
        return;
    }
    for (size_t k = 0; k < lb->cnt; k++) {
        rill_offset_query_t *q = &lb->q[lb->p[k].i];
        const rill_list_offsets_resp_partition *p = find_answer(&m, q);
        if (!p || rill__admin_retriable(p->error_code))
            continue; /* e.g. NOT_LEADER_OR_FOLLOWER: ask the new leader */
        q->err = p->error_code;
        if (!p->error_code) {
            q->offset = p->offset;
            q->timestamp = q->spec >= 0 ? p->timestamp : -1;
        }
        pending[lb->p[k].i] = false;
    }
    rill__arena_free(&ar);
}

typedef struct lo_round {
    rill_offset_query_t *q;
    size_t n;
    bool *pending;
    placed *order; /* the pending queries placed this round */
    leader_batch *lbs;
    rill_aop *ops;
    int read_committed;
} lo_round;

/* By leader, wave, topic, partition (the order requests are cut in). */
static int cmp_placed(const void *x, const void *y) {
    const placed *p = x, *q = y;
    uintptr_t lp = (uintptr_t)p->leader, lq = (uintptr_t)q->leader;
    if (lp != lq)
        return lp < lq ? -1 : 1;
    if (p->wave != q->wave)
        return p->wave < q->wave ? -1 : 1;
    int c = strcmp(p->topic, q->topic);
    if (c)
        return c;
    if (p->partition != q->partition)
        return p->partition < q->partition ? -1 : 1;
    return (p->i > q->i) - (p->i < q->i);
}

/* Sorts the placed queries into requests: runs of equal leader and wave. */
static void sort_placed(placed *v, size_t k) {
    qsort(v, k, sizeof(*v), cmp_placed); /* every wave is 0 here */
    for (size_t j = 1; j < k; j++)
        if (v[j].leader == v[j - 1].leader && v[j].partition == v[j - 1].partition &&
            !strcmp(v[j].topic, v[j - 1].topic))
            v[j].wave = v[j - 1].wave + 1;
    qsort(v, k, sizeof(*v), cmp_placed);
}

/* Finds each pending query's leader; settles the ones that cannot have one. */
static size_t place(rill_admin_t *a, lo_round *lr, const rill_admin_md *md) {
    size_t k = 0;
    for (size_t i = 0; i < lr->n; i++) {
        if (!lr->pending[i])
            continue;
        rill_offset_query_t *q = &lr->q[i];
        const rill_metadata_topic *mt = rill__admin_md_topic(md, q->topic);
        int err = !mt ? RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION : mt->error_code;
        const rill_metadata_partition *mp = NULL;
        for (int32_t p = 0; !err && p < mt->npartitions; p++)
            if (mt->partitions[p].partition_index == q->partition)
                mp = &mt->partitions[p];
        if (!err && !mp)
            err = RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        if (err && !rill__admin_retriable(err)) {
            q->err = err;
            lr->pending[i] = false;
            continue;
        }
        rill_cbroker *b = err ? NULL : rill__admin_md_broker(a, md, mp->leader_id);
        if (!b)
            continue; /* no leader yet: next round */
        lr->order[k++] = (placed){b, 0, q->topic, q->partition, i};
    }
    return k;
}

/* One round: metadata, then one request per leader.  Returns the queries still pending. */
static size_t lo_round_trip(rill_admin_t *a, lo_round *lr, int64_t deadline) {
    const char **topics = calloc(lr->n, sizeof(*topics));
    if (!topics)
        return 0;
    size_t nt = 0;
    for (size_t i = 0; i < lr->n; i++)
        if (lr->pending[i])
            topics[nt++] = lr->q[i].topic; /* repeats are harmless */
    rill_admin_md md;
    rill_err_t err = rill__admin_metadata(a, topics, nt, deadline, &md);
    size_t k = err ? 0 : place(a, lr, &md);
    rill__admin_md_free(&md);
    free(topics);
    sort_placed(lr->order, k);
    size_t nops = 0;
    for (size_t s = 0; s < k;) {
        size_t e = s;
        while (e < k && lr->order[e].leader == lr->order[s].leader &&
               lr->order[e].wave == lr->order[s].wave)
            e++;
        lr->lbs[nops] = (leader_batch){lr->q, &lr->order[s], e - s, lr->read_committed};
        lr->ops[nops] = (rill_aop){.broker = lr->order[s].leader,
                                   .api = RILL_API_LIST_OFFSETS,
                                   .vmin = 1,
                                   .vmax = LIST_OFFSETS_MAX_VER,
                                   .enc = enc_list_offsets,
                                   .ctx = &lr->lbs[nops]};
        nops++;
        s = e;
    }
    rill__admin_run(a, lr->ops, nops, deadline);
    for (size_t j = 0; j < nops; j++) {
        read_list_offsets(a, &lr->ops[j], lr->pending);
        rill__aop_reset(&lr->ops[j]);
    }
    size_t left = 0;
    for (size_t i = 0; i < lr->n; i++)
        left += lr->pending[i];
    return left;
}

/* rill_admin_list_offsets with a deadline, for group lag too. */
static rill_err_t list_offsets(rill_admin_t *a, rill_offset_query_t *q, size_t n,
                               int read_committed, int64_t deadline) {
    for (size_t i = 0; i < n; i++) {
        q[i].err = RILL_ERR_TIMED_OUT;
        q[i].offset = -1;
        q[i].timestamp = -1;
    }
    if (!n)
        return 0;
    lo_round lr = {q,
                   n,
                   calloc(n, sizeof(bool)),
                   calloc(n, sizeof(placed)),
                   calloc(n, sizeof(leader_batch)),
                   calloc(n, sizeof(rill_aop)),
                   read_committed};
    rill_err_t rc = 0;
    if (!lr.pending || !lr.order || !lr.lbs || !lr.ops) {
        rc = RILL_ERR_NO_MEMORY;
    } else {
        for (size_t i = 0; i < n; i++)
            lr.pending[i] = true;
        size_t left = n;
        while (left) {
            left = lo_round_trip(a, &lr, deadline);
            if (left && !rill__admin_backoff(a, deadline))
                break;
        }
        rc = left ? RILL_ERR_TIMED_OUT : 0;
        for (size_t i = 0; !rc && i < n; i++)
            if (q[i].err <= RILL_ERR__BEGIN) /* a local error: not an answer */
                rc = q[i].err;
    }
    free(lr.pending);
    free(lr.order);
    free(lr.lbs);
    free(lr.ops);
    return rc;
}

rill_err_t rill_admin_list_offsets(rill_admin_t *a, rill_offset_query_t *queries, size_t n,
                                   int read_committed, int timeout_ms) {
    if (!a || (n && !queries) || timeout_ms <= 0)
        return RILL_ERR_INVALID_ARG;
    for (size_t i = 0; i < n; i++)
        if (!queries[i].topic || queries[i].partition < 0 ||
            queries[i].spec < RILL_OFFSET_BEGINNING)
            return RILL_ERR_INVALID_ARG;
    return list_offsets(a, queries, n, read_committed ? 1 : 0, rill__admin_deadline(timeout_ms));
}

/* ---- consumer group lag ------------------------------------------------------------ */

typedef struct lag_row {
    const char *topic; /* in the result's arena */
    int32_t partition;
    int64_t committed;
    rill_err_t err;
    const char *member_id;
} lag_row;

typedef struct lag_call {
    const char *group;
    const rill_topic_partition_t *parts; /* NULL: every committed or assigned partition */
    size_t nparts;
    rill_arena *ar; /* the result's */
    lag_row *rows;
    size_t n, cap;
} lag_call;

static bool add_row(lag_call *c, lag_row r) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        lag_row *v = realloc(c->rows, cap * sizeof(*v));
        if (!v)
            return false;
        c->rows = v;
        c->cap = cap;
    }
    c->rows[c->n++] = r;
    return r.topic != NULL;
}

static int cmp_tp(const void *x, const void *y) {
    const rill_topic_partition_t *p = x, *q = y;
    int c = strcmp(p->topic, q->topic);
    return c ? c : (p->partition > q->partition) - (p->partition < q->partition);
}

static int enc_offset_fetch(rill_buf *b, int16_t ver, const rill_aop *op) {
    const lag_call *c = op->ctx;
    rill_offset_fetch_req_group g = {rill__str(c->group), rill__str_null(), -1, NULL, -1};
    rill_offset_fetch_req req = {&g, 1, false};
    if (!c->parts)
        return rill__offset_fetch_req_encode(b, ver, &req);
    /* One topic entry per topic: sort a copy, then cut it into runs. */
    size_t n = c->nparts;
    rill_topic_partition_t *tp = malloc((n ? n : 1) * sizeof(*tp));
    rill_offset_fetch_req_topic *ts = calloc(n ? n : 1, sizeof(*ts));
    int32_t *ps = malloc((n ? n : 1) * sizeof(*ps));
    int rc = -1;
    if (tp && ts && ps) {
        memcpy(tp, c->parts, n * sizeof(*tp));
        qsort(tp, n, sizeof(*tp), cmp_tp);
        int32_t nt = 0;
        for (size_t k = 0; k < n; k++) {
            if (!nt || strcmp(tp[k].topic, tp[k - 1].topic)) {
                ts[nt].name = rill__str(tp[k].topic);
                ts[nt++].partitions = &ps[k];
            }
            ps[k] = tp[k].partition;
            ts[nt - 1].npartitions++;
        }
        g.topics = ts;
        g.ntopics = nt;
        rc = rill__offset_fetch_req_encode(b, ver, &req);
    }
    free(tp);
    free(ts);
    free(ps);
    return rc;
}

static int read_offset_fetch(rill_admin_t *a, void *ctx, size_t i, rill_aop *op) {
    lag_call *c = ctx;
    (void)i;
    rill_arena ar;
    rill__arena_init(&ar, 0);
    rill_offset_fetch_resp m;
    rill_rd r;
    rill__aop_reader(op, &r);
    int rc = 0;
    if (rill__offset_fetch_resp_decode(&r, op->ver, &m, &ar) != 0 || rill__rd_remain(&r) ||
        m.ngroups != 1 || (op->ver >= 8 && !rill__str_eq(m.groups[0].group_id, c->group))) {
        rill__aop_bad_msg(a, op);
        rc = RILL__ADMIN_RETRY;
    } else if (m.groups[0].error_code) {
        rc = m.groups[0].error_code; /* retriable ones are retried by the group call */
    } else {
        c->n = 0; /* a retried round starts over */
        const rill_offset_fetch_resp_group *g = &m.groups[0];
        for (int32_t t = 0; t < g->ntopics && !rc; t++) {
            const char *topic = rill__admin_strdup(c->ar, g->topics[t].name);
            for (int32_t p = 0; p < g->topics[t].npartitions && !rc; p++) {
                const rill_offset_fetch_resp_partition *fp = &g->topics[t].partitions[p];
                int64_t off =
                    fp->committed_offset >= 0 ? fp->committed_offset : RILL_OFFSET_INVALID;
                if (!add_row(c, (lag_row){topic, fp->partition, off, fp->error_code, NULL}))
                    rc = RILL_ERR_NO_MEMORY;
            }
        }
    }
    rill__arena_free(&ar);
    return rc;
}

/* Adds the partitions assigned to the group's members (DescribeGroups, where offered). */
static rill_err_t add_assigned(rill_admin_t *a, lag_call *c, int64_t deadline) {
    int64_t left_ms = (deadline - rill__mono_us()) / 1000;
    if (left_ms <= 0)
        return 0;
    rill_group_descriptions_t *d = NULL;
    rill_err_t err = rill_admin_describe_groups(a, &c->group, 1, (int)left_ms, &d);
    if (err == RILL_ERR_NO_MEMORY)
        return err;
    /* Without DescribeGroups (librdkafka's mock) the committed offsets stand alone. */
    if (d && d->group_cnt == 1 && !d->groups[0].err) {
        const rill_group_info_t *g = &d->groups[0];
        for (size_t m = 0; m < g->member_cnt; m++) {
            const char *member = rill__admin_cstrdup(c->ar, g->members[m].member_id);
            for (size_t k = 0; k < g->members[m].assignment_cnt; k++) {
                const rill_topic_partition_t *tp = &g->members[m].assignment[k];
                if (!add_row(c, (lag_row){rill__admin_cstrdup(c->ar, tp->topic), tp->partition,
                                          RILL_OFFSET_INVALID, 0, member})) {
                    err = RILL_ERR_NO_MEMORY;
                    break;
                }
            }
        }
    }
    rill_group_descriptions_free(d);
    return err == RILL_ERR_NO_MEMORY ? err : 0;
}

static int cmp_row(const void *x, const void *y) {
    const lag_row *p = x, *q = y;
    int c = strcmp(p->topic, q->topic);
    if (c)
        return c;
    if (p->partition != q->partition)
        return p->partition < q->partition ? -1 : 1;
    /* A committed row (from OffsetFetch) before an assigned one. */
    return (p->member_id != NULL) - (q->member_id != NULL);
}

/* Sorts the rows and merges each partition's committed and assigned rows into one. */
static void merge_rows(lag_call *c) {
    if (c->n)
        qsort(c->rows, c->n, sizeof(*c->rows), cmp_row);
    size_t k = 0;
    for (size_t i = 0; i < c->n; i++) {
        lag_row r = c->rows[i];
        if (k && !strcmp(c->rows[k - 1].topic, r.topic) &&
            c->rows[k - 1].partition == r.partition) {
            if (!c->rows[k - 1].member_id)
                c->rows[k - 1].member_id = r.member_id;
            continue;
        }
        if (c->parts && r.member_id)
            continue; /* assigned, but not asked for */
        c->rows[k++] = r;
    }
    c->n = k;
}

static rill_err_t build_lag(rill_admin_t *a, lag_call *c, rill_group_lag_t *lag, int64_t deadline) {
    rill_partition_lag_t *ps = rill__arena_calloc(c->ar, c->n ? c->n : 1, sizeof(*ps));
    rill_offset_query_t *q = calloc(c->n ? c->n : 1, sizeof(*q));
    if (!ps || !q) {
        free(q);
        return RILL_ERR_NO_MEMORY;
    }
    for (size_t i = 0; i < c->n; i++)
        q[i] = (rill_offset_query_t){
            .topic = c->rows[i].topic, .partition = c->rows[i].partition, .spec = RILL_OFFSET_END};
    rill_err_t err = list_offsets(a, q, c->n, 0, deadline);
    for (size_t i = 0; i < c->n; i++) {
        const lag_row *r = &c->rows[i];
        int64_t end = q[i].err ? -1 : q[i].offset;
        ps[i] = (rill_partition_lag_t){
            .topic = r->topic,
            .partition = r->partition,
            .err = r->err ? r->err : q[i].err,
            .committed = r->committed,
            .end_offset = end,
            .lag = end >= 0 && r->committed >= 0 ? end - r->committed : -1,
            .member_id = r->member_id,
        };
    }
    free(q);
    lag->partitions = ps;
    lag->partition_cnt = c->n;
    return err == RILL_ERR_NO_MEMORY ? err : 0;
}

rill_err_t rill_admin_group_lag(rill_admin_t *a, const char *group,
                                const rill_topic_partition_t *parts, size_t n, int timeout_ms,
                                rill_group_lag_t **out) {
    if (out)
        *out = NULL;
    if (!a || !group || !out || timeout_ms <= 0 || (n && !parts) || n > INT32_MAX)
        return RILL_ERR_INVALID_ARG;
    for (size_t i = 0; i < n; i++)
        if (!parts[i].topic || parts[i].partition < 0)
            return RILL_ERR_INVALID_ARG;
    int64_t deadline = rill__admin_deadline(timeout_ms);
    rill_group_lag_t *lag = rill__admin_res_new(sizeof(*lag));
    if (!lag)
        return RILL_ERR_NO_MEMORY;
    lag_call c = {group, parts, n, rill__admin_res_arena(lag), NULL, 0, 0};
    lag->group_id = rill__admin_cstrdup(c.ar, group);
    rill_err_t gerr = RILL_ERR_TIMED_OUT;
    /* v2+ can ask for every partition the group committed (a null topic
     * list); v0 would read offsets kept in ZooKeeper. */
    rill_group_call gc = {
        &c.group,         1,  RILL_API_OFFSET_FETCH, parts ? 1 : 2, RILL_OFFSET_FETCH_MAX_VER,
        enc_offset_fetch, &c, read_offset_fetch,     &gerr,         NULL};
    rill_err_t err = rill__admin_group_call(a, &gc, deadline);
    if (!err)
        err = gerr;
    if (!err)
        err = add_assigned(a, &c, deadline);
    if (!err) {
        merge_rows(&c);
        err = build_lag(a, &c, lag, deadline);
    }
    free(c.rows);
    if (err == RILL_ERR_NO_MEMORY || c.ar->err) {
        rill__admin_res_free(lag);
        return RILL_ERR_NO_MEMORY;
    }
    *out = lag;
    return err;
}

void rill_group_lag_free(rill_group_lag_t *lag) { rill__admin_res_free(lag); }
