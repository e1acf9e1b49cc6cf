/*
 * admin_groups.c -- consumer group admin calls: list groups (ListGroups to
 * every broker, merged, as the Java AdminClient does: each broker only
 * knows the groups it coordinates), describe groups (DescribeGroups to each
 * group's coordinator, with the members' assignments decoded from the
 * "consumer" embedded protocol) and delete groups (DeleteGroups to the
 * coordinator).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/admin_int.h"
#include "proto/api_group.h"
#include "proto/consumer_protocol.h"
#include "proto/fields.h"

/* ---- ListGroups --------------------------------------------------------------- */

static int enc_list(rill_buf *b, int16_t ver, const rill_aop *op) {
    (void)op;
    rill_list_groups_req req = {NULL, 0, NULL, 0}; /* no filter: every group */
    return rill__list_groups_req_encode(b, ver, &req);
}

typedef struct listing {
    rill_group_listing_t *v;
    size_t n, cap;
    rill_arena *ar;
} listing;

static bool listing_add(listing *l, const rill_listed_group *g, int32_t coordinator) {
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        rill_group_listing_t *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return false;
        l->v = v;
        l->cap = cap;
    }
    rill_group_listing_t *d = &l->v[l->n++];
    d->group_id = rill__admin_strdup(l->ar, g->group_id);
    d->protocol_type = rill__admin_strdup(l->ar, g->protocol_type);
    d->state = rill__admin_strdup(l->ar, g->group_state.len >= 0 ? g->group_state : rill__str(""));
    d->coordinator = coordinator;
    return !l->ar->err && d->group_id && d->protocol_type && d->state;
}

/* Reads one broker's answer: 0 (groups added), RILL__ADMIN_RETRY, or its error. */
static int read_list(rill_admin_t *a, listing *l, rill_aop *op) {
    if (op->err)
        return rill__admin_retriable(op->err) ? RILL__ADMIN_RETRY : op->err;
    rill_arena ar;
    rill__arena_init(&ar, 0);
    rill_list_groups_resp m;
    rill_rd r;
    rill__aop_reader(op, &r);
    int rc = 0;
    if (rill__list_groups_resp_decode(&r, op->ver, &m, &ar) != 0 || rill__rd_remain(&r)) {
        rill__aop_bad_msg(a, op);
        rc = RILL__ADMIN_RETRY;
    } else if (m.error_code) {
        rc = rill__admin_retriable(m.error_code) ? RILL__ADMIN_RETRY : m.error_code;
    } else {
        for (int32_t i = 0; i < m.ngroups && !rc; i++)
            if (!listing_add(l, &m.groups[i], op->broker->id))
                rc = RILL_ERR_NO_MEMORY;
    }
    rill__arena_free(&ar);
    return rc;
}

static int cmp_listing(const void *x, const void *y) {
    const rill_group_listing_t *p = x, *q = y;
    int c = strcmp(p->group_id, q->group_id);
    return c ? c : (p->coordinator > q->coordinator) - (p->coordinator < q->coordinator);
}

/* Sorts, drops the duplicates a coordinator move can cause, and moves l into list. */
static rill_err_t finish_listing(listing *l, rill_group_list_t *list) {
    if (l->n)
        qsort(l->v, l->n, sizeof(*l->v), cmp_listing);
    size_t k = 0;
    for (size_t i = 0; i < l->n; i++)
        if (!k || strcmp(l->v[k - 1].group_id, l->v[i].group_id))
            l->v[k++] = l->v[i];
    rill_group_listing_t *v = rill__arena_alloc(l->ar, (k ? k : 1) * sizeof(*v));
    if (!v)
        return RILL_ERR_NO_MEMORY;
    if (k)
        memcpy(v, l->v, k * sizeof(*v));
    list->groups = v;
    list->group_cnt = k;
    return 0;
}

rill_err_t rill_admin_list_groups(rill_admin_t *a, int timeout_ms, rill_group_list_t **out) {
    if (out)
        *out = NULL;
    if (!a || !out || timeout_ms <= 0)
        return RILL_ERR_INVALID_ARG;
    int64_t deadline = rill__admin_deadline(timeout_ms);
    rill_group_list_t *list = rill__admin_res_new(sizeof(*list));
    if (!list)
        return RILL_ERR_NO_MEMORY;
    listing l = {NULL, 0, 0, rill__admin_res_arena(list)};
    rill_admin_md md;
    rill_err_t err = rill__admin_metadata(a, NULL, 0, deadline, &md);
    size_t nb = !err && md.m.nbrokers > 0 ? (size_t)md.m.nbrokers : 0;
    rill_aop *ops = calloc(nb ? nb : 1, sizeof(*ops));
    rill_err_t *berr = calloc(nb ? nb : 1, sizeof(*berr));
    if (!ops || !berr)
        err = RILL_ERR_NO_MEMORY;
    for (size_t i = 0; i < nb; i++)
        berr[i] = RILL__ADMIN_RETRY; /* still to ask */
    size_t left = err ? 0 : nb;
    while (left) {
        size_t k = 0;
        for (size_t i = 0; i < nb; i++)
            if (berr[i] == RILL__ADMIN_RETRY)
                ops[k++] =
                    (rill_aop){.broker = rill__admin_md_broker(a, &md, md.m.brokers[i].node_id),
                               .api = RILL_API_LIST_GROUPS,
                               .vmax = RILL_LIST_GROUPS_MAX_VER,
                               .enc = enc_list,
                               .idx = i};
        rill__admin_run(a, ops, k, deadline);
        for (size_t j = 0; j < k; j++) {
            int rc = read_list(a, &l, &ops[j]);
            rill__aop_reset(&ops[j]);
            if (rc != RILL__ADMIN_RETRY) {
                berr[ops[j].idx] = rc;
                left--;
            }
        }
        if (left && !rill__admin_backoff(a, deadline))
            break;
    }
    /* The call's error: the first broker's that failed (timed out if unanswered). */
    for (size_t i = 0; i < nb && !err; i++)
        err = berr[i] == RILL__ADMIN_RETRY ? RILL_ERR_TIMED_OUT : berr[i];
    rill__admin_md_free(&md);
    free(ops);
    free(berr);
    if (err != RILL_ERR_NO_MEMORY && (finish_listing(&l, list) || l.ar->err))
        err = RILL_ERR_NO_MEMORY;
    free(l.v);
    if (err == RILL_ERR_NO_MEMORY) {
        rill__admin_res_free(list);
        return err;
    }
    *out = list;
    return err;
}

void rill_group_list_free(rill_group_list_t *list) { rill__admin_res_free(list); }

/* ---- DescribeGroups -------------------------------------------------------------- */

typedef struct describe_call {
    const char *const *groups;
    rill_group_info_t *res;
    rill_arena *ar;
} describe_call;

static int enc_describe(rill_buf *b, int16_t ver, const rill_aop *op) {
    const describe_call *c = op->ctx;
    rill_str g = rill__str(c->groups[op->idx]);
    rill_describe_groups_req req = {&g, 1, false};
    return rill__describe_groups_req_encode(b, ver, &req);
}

/* The partitions of a "consumer" protocol assignment (none if it does not decode). */
static void copy_assignment(rill_arena *ar, rill_member_info_t *m, rill_bytes bytes) {
    if (bytes.len <= 0)
        return;
    rill_arena tmp;
    rill__arena_init(&tmp, 0);
    rill_rd r;
    rill__rd_init(&r, bytes.ptr, (size_t)bytes.len);
    rill_consumer_assignment as;
    if (rill__consumer_assignment_decode(&r, &as, &tmp) == 0) {
        size_t cnt = 0;
        for (int32_t t = 0; t < as.nassigned; t++)
            cnt += as.assigned[t].npartitions > 0 ? (size_t)as.assigned[t].npartitions : 0;
        rill_topic_partition_t *tp = cnt ? rill__arena_calloc(ar, cnt, sizeof(*tp)) : NULL;
        size_t k = 0;
        for (int32_t t = 0; tp && t < as.nassigned; t++) {
            const char *topic = rill__admin_strdup(ar, as.assigned[t].topic);
            for (int32_t p = 0; p < as.assigned[t].npartitions; p++)
                tp[k++] = (rill_topic_partition_t){topic, as.assigned[t].partitions[p],
                                                   RILL_OFFSET_INVALID, 0};
        }
        m->assignment = tp;
        m->assignment_cnt = tp ? cnt : 0;
    }
    rill__arena_free(&tmp);
}

static void copy_group(rill_arena *ar, rill_group_info_t *g, const rill_described_group *dg) {
    g->err = dg->error_code;
    g->state = rill__admin_strdup(ar, dg->group_state);
    g->protocol_type = rill__admin_strdup(ar, dg->protocol_type);
    g->protocol = rill__admin_strdup(ar, dg->protocol_data);
    if (dg->nmembers <= 0)
        return;
    rill_member_info_t *ms = rill__arena_calloc(ar, (size_t)dg->nmembers, sizeof(*ms));
    if (!ms)
        return;
    bool consumer = rill__str_eq(dg->protocol_type, RILL_CONSUMER_PROTOCOL_TYPE);
    for (int32_t i = 0; i < dg->nmembers; i++) {
        const rill_described_member *dm = &dg->members[i];
        ms[i].member_id = rill__admin_strdup(ar, dm->member_id);
        ms[i].group_instance_id = rill__admin_strdup(ar, dm->group_instance_id);
        ms[i].client_id = rill__admin_strdup(ar, dm->client_id);
        ms[i].host = rill__admin_strdup(ar, dm->client_host);
        if (consumer)
            copy_assignment(ar, &ms[i], dm->member_assignment);
    }
    g->members = ms;
    g->member_cnt = (size_t)dg->nmembers;
}

static int read_describe(rill_admin_t *a, void *ctx, size_t i, rill_aop *op) {
    describe_call *c = ctx;
    rill_arena ar;
    rill__arena_init(&ar, 0);
    rill_describe_groups_resp m;
    rill_rd r;
    rill__aop_reader(op, &r);
    int rc;
    if (rill__describe_groups_resp_decode(&r, op->ver, &m, &ar) != 0 || rill__rd_remain(&r) ||
        m.ngroups != 1 || !rill__str_eq(m.groups[0].group_id, c->groups[i])) {
        rill__aop_bad_msg(a, op);
        rc = RILL__ADMIN_RETRY;
    } else if (rill__admin_retriable(m.groups[0].error_code)) {
        rc = RILL__ADMIN_RETRY; /* coordinator moved or still loading */
    } else {
        copy_group(c->ar, &c->res[i], &m.groups[0]);
        rc = c->ar->err ? RILL_ERR_NO_MEMORY : m.groups[0].error_code;
    }
    rill__arena_free(&ar);
    return rc;
}

static bool valid_groups(const char *const *groups, size_t n) {
    if (n && !groups)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!groups[i])
            return false;
    return true;
}

rill_err_t rill_admin_describe_groups(rill_admin_t *a, const char *const *groups, size_t n,
                                      int timeout_ms, rill_group_descriptions_t **out) {
    if (out)
        *out = NULL;
    if (!a || !out || timeout_ms <= 0 || !valid_groups(groups, n))
        return RILL_ERR_INVALID_ARG;
    rill_group_descriptions_t *d = rill__admin_res_new(sizeof(*d));
    rill_arena *ar = d ? rill__admin_res_arena(d) : NULL;
    rill_group_info_t *res = d ? rill__arena_calloc(ar, n ? n : 1, sizeof(*res)) : NULL;
    rill_err_t *errs = calloc(n ? n : 1, sizeof(*errs));
    int32_t *coord = calloc(n ? n : 1, sizeof(*coord));
    describe_call c = {groups, res, ar};
    rill_group_call gc = {groups,
                          n,
                          RILL_API_DESCRIBE_GROUPS,
                          0,
                          RILL_DESCRIBE_GROUPS_MAX_VER,
                          enc_describe,
                          &c,
                          read_describe,
                          errs,
                          coord};
    rill_err_t err = !res || !errs || !coord
                         ? RILL_ERR_NO_MEMORY
                         : rill__admin_group_call(a, &gc, rill__admin_deadline(timeout_ms));
    for (size_t i = 0; !err && i < n; i++) {
        res[i].group_id = rill__admin_cstrdup(ar, groups[i]);
        res[i].err = errs[i];
        res[i].coordinator = coord[i];
        if (!res[i].state) /* not answered */
            res[i].state = res[i].protocol_type = res[i].protocol = "";
    }
    free(errs);
    free(coord);
    if (err || ar->err) {
        rill__admin_res_free(d);
        return RILL_ERR_NO_MEMORY;
    }
    d->groups = res;
    d->group_cnt = n;
    *out = d;
    for (size_t i = 0; i < n; i++)
        if (res[i].err <= RILL_ERR__BEGIN) /* a local error: not an answer */
            return res[i].err;
    return 0;
}

void rill_group_descriptions_free(rill_group_descriptions_t *d) { rill__admin_res_free(d); }

/* ---- DeleteGroups ------------------------------------------------------------------ */

typedef struct delete_call {
    const char *const *groups;
    rill_topic_result_t *results;
} delete_call;

static int enc_delete(rill_buf *b, int16_t ver, const rill_aop *op) {
    const delete_call *c = op->ctx;
    rill_str g = rill__str(c->groups[op->idx]);
    rill_delete_groups_req req = {&g, 1};
    return rill__delete_groups_req_encode(b, ver, &req);
}

static int read_delete(rill_admin_t *a, void *ctx, size_t i, rill_aop *op) {
    delete_call *c = ctx;
    rill_arena ar;
    rill__arena_init(&ar, 0);
    rill_delete_groups_resp m;
    rill_rd r;
    rill__aop_reader(op, &r);
    int rc;
    if (rill__delete_groups_resp_decode(&r, op->ver, &m, &ar) != 0 || rill__rd_remain(&r) ||
        m.nresults != 1 || !rill__str_eq(m.results[0].group_id, c->groups[i])) {
        rill__aop_bad_msg(a, op);
        rc = RILL__ADMIN_RETRY;
    } else {
        rc = m.results[0].error_code;
    }
    rill__arena_free(&ar);
    return rc;
}

rill_err_t rill_admin_delete_groups(rill_admin_t *a, const char *const *groups, size_t n,
                                    int timeout_ms, rill_topic_result_t *results) {
    if (!a || (n && !results) || timeout_ms <= 0 || !valid_groups(groups, n))
        return RILL_ERR_INVALID_ARG;
    rill_err_t *errs = calloc(n ? n : 1, sizeof(*errs));
    if (!errs)
        return RILL_ERR_NO_MEMORY;
    delete_call c = {groups, results};
    rill_group_call gc = {groups,
                          n,
                          RILL_API_DELETE_GROUPS,
                          0,
                          RILL_DELETE_GROUPS_MAX_VER,
                          enc_delete,
                          &c,
                          read_delete,
                          errs,
                          NULL};
    rill_err_t err = rill__admin_group_call(a, &gc, rill__admin_deadline(timeout_ms));
    for (size_t i = 0; !err && i < n; i++)
        rill__admin_set_result(&results[i], rill__str(groups[i]), errs[i], rill__str_null());
    for (size_t i = 0; !err && i < n; i++)
        if (errs[i] <= RILL_ERR__BEGIN)
            err = errs[i];
    free(errs);
    return err;
}
