/*
 * assignor.c -- rill__assign: checks the input, indexes it (assignor_int.h),
 * runs the named assignor and copies its result out.
 */
#include <stdlib.h>
#include <string.h>

#include "client/assignor_int.h"
#include "rill.h"

/* Scratch and result arenas: far above what any real group needs, but bounded. */
#define ASG_ARENA_MAX ((size_t)1 << 30)

bool rill__asg_protocol_known(const char *protocol) {
    return protocol &&
           (!strcmp(protocol, RILL_ASSIGNOR_RANGE) || !strcmp(protocol, RILL_ASSIGNOR_ROUNDROBIN) ||
            !strcmp(protocol, RILL_ASSIGNOR_COOPERATIVE_STICKY));
}

bool rill__asg_protocol_cooperative(const char *protocol) {
    return protocol && !strcmp(protocol, RILL_ASSIGNOR_COOPERATIVE_STICKY);
}

/* ---- input checks ---- */

static int check_input(asg_ctx *c, const rill_asg_member *ms, int32_t nm, const rill_asg_topic *ts,
                       int32_t nt) {
    if (nm < 0 || nt < 0 || (nm && !ms) || (nt && !ts))
        return rill__asg_fail(c, RILL_ERR_INVALID_ARG, "negative count or NULL array");
    for (int32_t i = 0; i < nm; i++) {
        const rill_asg_member *m = &ms[i];
        if (!m->member_id)
            return rill__asg_fail(c, RILL_ERR_INVALID_ARG, "member %d has no member id", i);
        if (m->ntopics < 0 || (m->ntopics && !m->topics) || m->nowned < 0 ||
            (m->nowned && !m->owned) || m->user_data_len < -1 ||
            (m->user_data_len > 0 && !m->user_data))
            return rill__asg_fail(c, RILL_ERR_INVALID_ARG, "member %s: bad counts", m->member_id);
        for (int32_t j = 0; j < m->ntopics; j++)
            if (!m->topics[j])
                return rill__asg_fail(c, RILL_ERR_INVALID_ARG, "member %s: NULL topic",
                                      m->member_id);
        for (int32_t j = 0; j < m->nowned; j++)
            if (!m->owned[j].topic)
                return rill__asg_fail(c, RILL_ERR_INVALID_ARG, "member %s: NULL owned topic",
                                      m->member_id);
    }
    for (int32_t i = 0; i < nt; i++) {
        const rill_asg_topic *t = &ts[i];
        if (!t->name || t->npartitions < 0)
            return rill__asg_fail(c, RILL_ERR_INVALID_ARG, "topic %d: no name or negative count",
                                  i);
        for (int32_t p = 0; t->partition_racks && p < t->npartitions; p++)
            if (t->partition_racks[p].nracks < 0 ||
                (t->partition_racks[p].nracks && !t->partition_racks[p].racks))
                return rill__asg_fail(c, RILL_ERR_INVALID_ARG, "topic %s: bad rack list", t->name);
    }
    return 0;
}

/* ---- sort comparators (on indexes) ---- */

static int cmp_member_id_raw(int32_t a, int32_t b, void *arg) {
    const rill_asg_member *ms = arg;
    return strcmp(ms[a].member_id, ms[b].member_id);
}

static int cmp_topic_raw(int32_t a, int32_t b, void *arg) {
    const rill_asg_topic *ts = arg;
    return strcmp(ts[a].name, ts[b].name);
}

static int cmp_member_jid(int32_t a, int32_t b, void *arg) {
    const asg_ctx *c = arg;
    return rill__asg_jcmp(c->m[a].member_id, c->m[b].member_id);
}

/* Java's AbstractPartitionAssignor.MemberInfo order: static members first, by instance id. */
static int cmp_member_info(int32_t a, int32_t b, void *arg) {
    const asg_ctx *c = arg;
    const char *ia = c->m[a].group_instance_id, *ib = c->m[b].group_instance_id;
    if (ia && ib)
        return rill__asg_jcmp(ia, ib);
    if (ia || ib)
        return ia ? -1 : 1;
    return rill__asg_jcmp(c->m[a].member_id, c->m[b].member_id);
}

typedef struct bucket_arg {
    uint32_t *bucket;
} bucket_arg;

static int cmp_bucket(int32_t a, int32_t b, void *arg) {
    const bucket_arg *x = arg;
    return x->bucket[a] < x->bucket[b] ? -1 : x->bucket[a] > x->bucket[b];
}

static int cmp_str_ptr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_ctx_topic(int32_t a, int32_t b, void *arg) {
    const rill_asg_topic *ts = arg;
    return rill__asg_jcmp(ts[a].name, ts[b].name);
}

static int cmp_int(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return x < y ? -1 : x > y;
}

/* An empty list has no storage yet: qsort must not see its NULL. */
static void sort_ints(asg_list *l) {
    if (l->n > 1)
        qsort(l->v, (size_t)l->n, sizeof(int32_t), cmp_int);
}

/* ---- building the context ---- */

typedef struct raw_index {
    const rill_asg_topic *ts;
    int32_t *sorted; /* input topic indexes by strcmp of name */
    int32_t nt;
    int32_t *ctx_of; /* input topic -> context topic, -1 if not in the context */
    int32_t *raw_of; /* context topic -> input topic */
} raw_index;

static int32_t find_raw(const raw_index *x, const char *name) {
    int32_t lo = 0, hi = x->nt;
    while (lo < hi) {
        int32_t mid = (lo + hi) / 2;
        int d = strcmp(x->ts[x->sorted[mid]].name, name);
        if (d == 0)
            return x->sorted[mid];
        if (d < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int32_t *iota(asg_ctx *c, int32_t n) {
    int32_t *v = rill__asg_alloc(c, (size_t)n, sizeof(*v));
    for (int32_t i = 0; v && i < n; i++)
        v[i] = i;
    return v;
}

/* Members: unique ids, raw subscriptions as sorted unique name lists. */
static int index_members(asg_ctx *c) {
    int32_t *ids = iota(c, c->nm);
    if (!ids || rill__asg_sort(c, ids, c->nm, cmp_member_id_raw, (void *)c->m))
        return RILL_ERR_NO_MEMORY;
    for (int32_t i = 1; i < c->nm; i++)
        if (!strcmp(c->m[ids[i - 1]].member_id, c->m[ids[i]].member_id))
            return rill__asg_fail(c, RILL_ERR_INVALID_ARG, "duplicate member id %s",
                                  c->m[ids[i]].member_id);
    c->rawsubs = rill__asg_alloc(c, (size_t)c->nm, sizeof(*c->rawsubs));
    c->nrawsubs = rill__asg_alloc(c, (size_t)c->nm, sizeof(*c->nrawsubs));
    if (c->oom)
        return RILL_ERR_NO_MEMORY;
    for (int32_t i = 0; i < c->nm; i++) {
        const rill_asg_member *m = &c->m[i];
        const char **v = rill__asg_alloc(c, (size_t)m->ntopics, sizeof(*v));
        if (!v)
            return RILL_ERR_NO_MEMORY;
        if (m->ntopics) {
            memcpy(v, m->topics, (size_t)m->ntopics * sizeof(*v));
            qsort(v, (size_t)m->ntopics, sizeof(*v), cmp_str_ptr);
        }
        int32_t n = 0;
        for (int32_t j = 0; j < m->ntopics; j++)
            if (!n || strcmp(v[n - 1], v[j]))
                v[n++] = v[j];
        c->rawsubs[i] = v;
        c->nrawsubs[i] = n;
    }
    return 0;
}

/* Context topics: subscribed, with partitions, in Java String order. */
static int index_topics(asg_ctx *c, raw_index *x) {
    x->sorted = iota(c, x->nt);
    x->ctx_of = rill__asg_alloc(c, (size_t)x->nt, sizeof(*x->ctx_of));
    uint8_t *used = rill__asg_alloc(c, (size_t)x->nt, 1);
    if (c->oom || rill__asg_sort(c, x->sorted, x->nt, cmp_topic_raw, (void *)x->ts))
        return RILL_ERR_NO_MEMORY;
    for (int32_t i = 1; i < x->nt; i++)
        if (!strcmp(x->ts[x->sorted[i - 1]].name, x->ts[x->sorted[i]].name))
            return rill__asg_fail(c, RILL_ERR_INVALID_ARG, "duplicate topic %s",
                                  x->ts[x->sorted[i]].name);
    for (int32_t i = 0; i < c->nm; i++)
        for (int32_t j = 0; j < c->nrawsubs[i]; j++) {
            int32_t r = find_raw(x, c->rawsubs[i][j]);
            if (r >= 0 && x->ts[r].npartitions > 0)
                used[r] = 1;
        }
    int32_t *order = rill__asg_alloc(c, (size_t)x->nt, sizeof(*order));
    if (!order)
        return RILL_ERR_NO_MEMORY;
    int32_t nt = 0;
    for (int32_t r = 0; r < x->nt; r++)
        if (used[r])
            order[nt++] = r;
    if (rill__asg_sort(c, order, nt, cmp_ctx_topic, (void *)x->ts))
        return RILL_ERR_NO_MEMORY;
    c->nt = nt;
    x->raw_of = order;
    c->tname = rill__asg_alloc(c, (size_t)nt, sizeof(*c->tname));
    c->tnp = rill__asg_alloc(c, (size_t)nt, sizeof(*c->tnp));
    c->tbase = rill__asg_alloc(c, (size_t)nt + 1, sizeof(*c->tbase));
    c->tcons = rill__asg_alloc(c, (size_t)nt, sizeof(*c->tcons));
    if (c->oom)
        return RILL_ERR_NO_MEMORY;
    for (int32_t r = 0; r < x->nt; r++)
        x->ctx_of[r] = -1;
    int64_t np = 0;
    for (int32_t t = 0; t < nt; t++) {
        const rill_asg_topic *tp = &x->ts[order[t]];
        x->ctx_of[order[t]] = t;
        c->tname[t] = tp->name;
        c->tnp[t] = tp->npartitions;
        c->tbase[t] = (int32_t)np;
        np += tp->npartitions;
        if (np > RILL_ASSIGNOR_MAX_PARTITIONS)
            return rill__asg_fail(c, RILL_ERR_INVALID_ARG, "more than %d partitions",
                                  RILL_ASSIGNOR_MAX_PARTITIONS);
    }
    c->np = (int32_t)np;
    c->tbase[nt] = c->np;
    c->ptopic = rill__asg_alloc(c, (size_t)c->np, sizeof(*c->ptopic));
    if (!c->ptopic)
        return RILL_ERR_NO_MEMORY;
    for (int32_t t = 0; t < nt; t++)
        for (int32_t p = 0; p < c->tnp[t]; p++)
            c->ptopic[c->tbase[t] + p] = t;
    return 0;
}

/* Per member: subscribed context topics and owned partitions that exist. */
static int index_subscriptions(asg_ctx *c, const raw_index *x) {
    c->subs = calloc((size_t)c->nm + 1, sizeof(*c->subs));
    c->owned = calloc((size_t)c->nm + 1, sizeof(*c->owned));
    c->asg = calloc((size_t)c->nm + 1, sizeof(*c->asg));
    int32_t *stamp = rill__asg_alloc(c, (size_t)c->np, sizeof(*stamp));
    if (!c->subs || !c->owned || !c->asg || !stamp)
        return RILL_ERR_NO_MEMORY;
    for (int32_t i = 0; i < c->nm; i++) {
        for (int32_t j = 0; j < c->nrawsubs[i]; j++) {
            int32_t r = find_raw(x, c->rawsubs[i][j]);
            if (r >= 0 && x->ctx_of[r] >= 0) {
                if (rill__asg_list_push(c, &c->subs[i], x->ctx_of[r]))
                    return RILL_ERR_NO_MEMORY;
                c->tcons[x->ctx_of[r]]++;
            }
        }
        sort_ints(&c->subs[i]);
        /*
         * Java keeps owned partitions of any topic in the assignment (the
         * topic filter uses all subscriptions, not the member's own).  A
         * partition past the topic's current count (stale metadata) cannot
         * be assigned and is dropped here; Java would hand it out.
         */
        const rill_asg_member *m = &c->m[i];
        for (int32_t j = 0; j < m->nowned; j++) {
            int32_t r = find_raw(x, m->owned[j].topic);
            int32_t t = r >= 0 ? x->ctx_of[r] : -1;
            int32_t p = m->owned[j].partition;
            if (t < 0 || p < 0 || p >= c->tnp[t] || stamp[c->tbase[t] + p] == i + 1)
                continue;
            stamp[c->tbase[t] + p] = i + 1;
            if (rill__asg_list_push(c, &c->owned[i], c->tbase[t] + p))
                return RILL_ERR_NO_MEMORY;
        }
    }
    return 0;
}

/* The member orders Java's collections produce. */
static int index_orders(asg_ctx *c) {
    c->by_hash = iota(c, c->nm);
    c->by_id = iota(c, c->nm);
    c->by_info = rill__asg_alloc(c, (size_t)c->nm, sizeof(int32_t));
    c->id_rank = rill__asg_alloc(c, (size_t)c->nm, sizeof(int32_t));
    uint32_t *bucket = rill__asg_alloc(c, (size_t)c->nm, sizeof(uint32_t));
    if (c->oom)
        return RILL_ERR_NO_MEMORY;
    /*
     * Java's leader puts the JoinGroup members into a HashMap keyed by
     * member id, and the assignors iterate it: bucket order, ties in
     * insertion (JoinGroup) order.
     */
    uint32_t cap = rill__asg_hashmap_cap(c->nm);
    for (int32_t i = 0; i < c->nm; i++)
        bucket[i] = rill__asg_bucket(rill__asg_jhash(c->m[i].member_id), cap);
    bucket_arg ba = {bucket};
    if (rill__asg_sort(c, c->by_hash, c->nm, cmp_bucket, &ba) ||
        rill__asg_sort(c, c->by_id, c->nm, cmp_member_jid, c))
        return RILL_ERR_NO_MEMORY;
    /* Collections.sort is stable: equal MemberInfos keep the HashMap order. */
    memcpy(c->by_info, c->by_hash, (size_t)c->nm * sizeof(int32_t));
    if (rill__asg_sort(c, c->by_info, c->nm, cmp_member_info, c))
        return RILL_ERR_NO_MEMORY;
    for (int32_t i = 0; i < c->nm; i++)
        c->id_rank[c->by_id[i]] = i;
    return 0;
}

static int32_t find_rack(const asg_ctx *c, const char *r) {
    const char **hit = bsearch(&r, c->racks, (size_t)c->nracks, sizeof(*c->racks), cmp_str_ptr);
    return hit ? (int32_t)(hit - c->racks) : -1;
}

/* The replica racks of context partition p of context topic t (NULL: unknown). */
static const rill_asg_racks *raw_racks(const raw_index *x, int32_t t, int32_t p) {
    const rill_asg_topic *tp = &x->ts[x->raw_of[t]];
    return tp->partition_racks ? &tp->partition_racks[p] : NULL;
}

/* Rack ids for members and partitions, only when some member has a rack. */
static int index_racks(asg_ctx *c, const raw_index *x) {
    for (int32_t i = 0; i < c->nm; i++)
        if (c->m[i].rack && c->m[i].rack[0])
            c->any_rack = true;
    c->prack_off = rill__asg_alloc(c, (size_t)c->np + 1, sizeof(int32_t));
    if (!c->prack_off)
        return RILL_ERR_NO_MEMORY;
    if (!c->any_rack)
        return 0;
    /* Gather every name, then sort and deduplicate: the ids. */
    int64_t n = c->nm;
    for (int32_t t = 0; t < c->nt; t++)
        for (int32_t p = 0; p < c->tnp[t]; p++)
            n += raw_racks(x, t, p) ? raw_racks(x, t, p)->nracks : 0;
    if (n > INT32_MAX / 2)
        return rill__asg_fail(c, RILL_ERR_INVALID_ARG, "too many racks");
    const char **all = rill__asg_alloc(c, (size_t)n, sizeof(*all));
    c->mrack = rill__asg_alloc(c, (size_t)c->nm, sizeof(int32_t));
    c->prack = rill__asg_alloc(c, (size_t)n, sizeof(int32_t));
    if (c->oom)
        return RILL_ERR_NO_MEMORY;
    int32_t k = 0;
    for (int32_t i = 0; i < c->nm; i++)
        if (c->m[i].rack && c->m[i].rack[0])
            all[k++] = c->m[i].rack;
    for (int32_t t = 0; t < c->nt; t++)
        for (int32_t p = 0; p < c->tnp[t]; p++)
            for (int32_t j = 0; raw_racks(x, t, p) && j < raw_racks(x, t, p)->nracks; j++)
                if (raw_racks(x, t, p)->racks[j])
                    all[k++] = raw_racks(x, t, p)->racks[j];
    qsort(all, (size_t)k, sizeof(*all), cmp_str_ptr);
    int32_t u = 0;
    for (int32_t i = 0; i < k; i++)
        if (!u || strcmp(all[u - 1], all[i]))
            all[u++] = all[i];
    c->racks = all;
    c->nracks = u;
    for (int32_t i = 0; i < c->nm; i++)
        c->mrack[i] = c->m[i].rack && c->m[i].rack[0] ? find_rack(c, c->m[i].rack) : -1;
    /* Each partition's racks as ascending unique ids, in global partition order. */
    int32_t off = 0;
    for (int32_t t = 0; t < c->nt; t++)
        for (int32_t p = 0; p < c->tnp[t]; p++) {
            const rill_asg_racks *pr = raw_racks(x, t, p);
            int32_t start = off;
            c->prack_off[c->tbase[t] + p] = start;
            for (int32_t j = 0; pr && j < pr->nracks; j++)
                if (pr->racks[j])
                    c->prack[off++] = find_rack(c, pr->racks[j]);
            qsort(c->prack + start, (size_t)(off - start), sizeof(int32_t), cmp_int);
            int32_t w = start;
            for (int32_t i = start; i < off; i++)
                if (w == start || c->prack[w - 1] != c->prack[i])
                    c->prack[w++] = c->prack[i];
            off = w;
        }
    c->prack_off[c->np] = off;
    return 0;
}

/* ---- the result ---- */

static int build_result(asg_ctx *c, rill_asg_result *out) {
    rill_arena *a = &out->arena;
    out->nmembers = c->nm;
    out->nwithheld = c->nwithheld;
    out->members = rill__arena_calloc(a, (size_t)c->nm + 1, sizeof(*out->members));
    const char **tcopy = rill__arena_calloc(a, (size_t)c->nt + 1, sizeof(*tcopy));
    if (!out->members || !tcopy)
        return RILL_ERR_NO_MEMORY;
    for (int32_t i = 0; i < c->nm; i++) {
        rill_asg_member_result *mr = &out->members[i];
        asg_list *l = &c->asg[i];
        sort_ints(l);
        mr->member_id = rill__asg_strndup(a, c->m[i].member_id, strlen(c->m[i].member_id));
        mr->npartitions = l->n;
        int32_t nt = 0;
        for (int32_t j = 0; j < l->n; j++)
            nt += !j || c->ptopic[l->v[j]] != c->ptopic[l->v[j - 1]];
        mr->topics = rill__arena_calloc(a, (size_t)nt + 1, sizeof(*mr->topics));
        int32_t *parts = rill__arena_calloc(a, (size_t)l->n + 1, sizeof(int32_t));
        if (!mr->member_id || !mr->topics || !parts)
            return RILL_ERR_NO_MEMORY;
        for (int32_t j = 0; j < l->n; j++) {
            int32_t t = c->ptopic[l->v[j]];
            if (!j || t != c->ptopic[l->v[j - 1]]) {
                if (!tcopy[t] &&
                    !(tcopy[t] = rill__asg_strndup(a, c->tname[t], strlen(c->tname[t]))))
                    return RILL_ERR_NO_MEMORY;
                rill_cp_topic_partitions *tp = &mr->topics[mr->ntopics++];
                tp->topic = (rill_str){tcopy[t], (int32_t)strlen(tcopy[t])};
                tp->partitions = parts + j;
            }
            mr->topics[mr->ntopics - 1].partitions[mr->topics[mr->ntopics - 1].npartitions++] =
                l->v[j] - c->tbase[t];
        }
    }
    return 0;
}

static void ctx_free(asg_ctx *c) {
    for (int32_t i = 0; i < c->nm; i++) {
        if (c->subs)
            free(c->subs[i].v);
        if (c->owned)
            free(c->owned[i].v);
        if (c->asg)
            free(c->asg[i].v);
    }
    free(c->subs);
    free(c->owned);
    free(c->asg);
    rill__arena_free(&c->a);
}

int rill__assign(const char *protocol, const rill_asg_member *members, int32_t nmembers,
                 const rill_asg_topic *topics, int32_t ntopics, rill_asg_result *out, char *errstr,
                 size_t errstr_size) {
    asg_ctx c;
    memset(&c, 0, sizeof(c));
    memset(out, 0, sizeof(*out));
    rill__arena_init(&c.a, ASG_ARENA_MAX);
    c.errstr = errstr;
    c.errsize = errstr_size;
    if (errstr && errstr_size)
        errstr[0] = '\0';
    c.m = members;
    c.nm = nmembers;
    raw_index x = {topics, NULL, ntopics, NULL, NULL};
    int err;
    if (!rill__asg_protocol_known(protocol))
        err = rill__asg_fail(&c, RILL_ERR_INVALID_ARG, "unknown assignor \"%s\"",
                             protocol ? protocol : "(null)");
    else if (!(err = check_input(&c, members, nmembers, topics, ntopics)) &&
             !(err = index_members(&c)) && !(err = index_topics(&c, &x)) &&
             !(err = index_subscriptions(&c, &x)) && !(err = index_orders(&c)) &&
             !(err = index_racks(&c, &x))) {
        if (!strcmp(protocol, RILL_ASSIGNOR_RANGE))
            err = rill__asg_range(&c);
        else if (!strcmp(protocol, RILL_ASSIGNOR_ROUNDROBIN))
            err = rill__asg_roundrobin(&c);
        else
            err = rill__asg_cooperative_sticky(&c);
        if (!err && c.oom)
            err = RILL_ERR_NO_MEMORY;
        if (!err) {
            rill__arena_init(&out->arena, ASG_ARENA_MAX);
            err = build_result(&c, out);
            if (err)
                rill__asg_result_free(out);
        }
    }
    if (err == RILL_ERR_NO_MEMORY)
        rill__asg_fail(&c, err, "out of memory");
    ctx_free(&c);
    return err;
}

void rill__asg_result_free(rill_asg_result *r) {
    rill__arena_free(&r->arena);
    memset(r, 0, sizeof(*r));
}
