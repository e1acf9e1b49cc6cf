/*
 * assignor_range.c -- the "range" assignor, as Java's RangeAssignor.
 *
 * Per topic, the members subscribed to it in MemberInfo order (static
 * members first by group.instance.id, then by member id) take contiguous
 * runs of partitions; the first (partitions % members) take one extra.  So
 * C0 and C1 on t0 and t1 with 3 partitions each get C0 [t0p0 t0p1 t1p0
 * t1p1], C1 [t0p2 t1p2].
 *
 * Rack-aware (KIP-881, Java 3.5+): when members have racks and some
 * partitions have replicas on a subset of the racks, Java first hands out
 * partitions whose replicas share the member's rack, within the same
 * per-member quota, and only then fills the quotas in order.  Topics with
 * the same subscribers and partition count are assigned together there,
 * so partition N of each lands on one member (co-partitioning).
 */
#include <string.h>

#include "client/assignor_int.h"
#include "rill.h"

/* Java's RangeAssignor.TopicAssignmentState. */
typedef struct rstate {
    int32_t t;
    const int32_t *cons; /* subscribed members, MemberInfo order */
    int32_t ncons;
    int32_t *nassigned; /* per consumer position */
    uint8_t *taken;     /* per partition of the topic */
    int32_t nleft;
    int32_t per;    /* numPartitionsPerConsumer */
    int32_t extra;  /* remainingConsumersWithExtraPartition */
    bool has_racks; /* some subscriber has a rack (Java: partitionRacks not empty) */
    bool needs_rack;
} rstate;

static int32_t max_assignable(const rstate *s, int32_t ci) {
    int32_t n = s->per + (s->extra > 0 ? 1 : 0) - s->nassigned[ci];
    return n > 0 ? n : 0;
}

static bool racks_match(const asg_ctx *c, const rstate *s, int32_t ci, int32_t p) {
    int32_t rack = c->any_rack ? c->mrack[s->cons[ci]] : -1;
    return rack < 0 || (s->has_racks && rill__asg_prack_has(c, c->tbase[s->t] + p, rack));
}

/* onAssigned, for `n` partitions given to consumer position ci. */
static int give(asg_ctx *c, rstate *s, int32_t ci, const int32_t *parts, int32_t n) {
    s->nassigned[ci] += n;
    if (s->nassigned[ci] > s->per)
        s->extra--;
    for (int32_t i = 0; i < n; i++) {
        s->taken[parts[i]] = 1;
        s->nleft--;
        if (rill__asg_list_push(c, &c->asg[s->cons[ci]], c->tbase[s->t] + parts[i]))
            return -1;
    }
    return 0;
}

/* assignRanges: each consumer in order takes its quota of the first free (matching) partitions. */
static int assign_ranges(asg_ctx *c, rstate *s, bool rack_match, int32_t *buf) {
    for (int32_t ci = 0; ci < s->ncons && s->nleft > 0; ci++) {
        int32_t lim = max_assignable(s, ci), n = 0;
        for (int32_t p = 0; p < c->tnp[s->t] && n < lim; p++)
            if (!s->taken[p] && (!rack_match || racks_match(c, s, ci, p)))
                buf[n++] = p;
        if (n && give(c, s, ci, buf, n))
            return -1;
    }
    return 0;
}

/* assignCoPartitionedWithRackMatching over the states g[0..ng). */
static int assign_copartitioned(asg_ctx *c, rstate **g, int32_t ng, int32_t nparts, uint8_t *gone) {
    int32_t ncons = g[0]->ncons, remaining = ncons;
    memset(gone, 0, (size_t)ncons);
    for (int32_t p = 0; p < nparts && remaining > 0; p++) {
        int32_t ci = 0;
        for (; ci < ncons; ci++) {
            if (gone[ci])
                continue;
            bool ok = true;
            for (int32_t k = 0; k < ng && ok; k++)
                ok = racks_match(c, g[k], ci, p) && max_assignable(g[k], ci) > 0;
            if (ok)
                break;
        }
        if (ci == ncons)
            continue;
        bool more = false;
        for (int32_t k = 0; k < ng; k++) {
            if (give(c, g[k], ci, &p, 1))
                return -1;
        }
        for (int32_t k = 0; k < ng; k++)
            more |= max_assignable(g[k], ci) > 0;
        if (!more) {
            gone[ci] = 1;
            remaining--;
        }
    }
    return 0;
}

/*
 * Java groups topics by their consumers (with racks, which follow from the
 * members) and then by the size of partitionRacks; this orders by the first.
 */
static int cmp_group(int32_t a, int32_t b, void *arg) {
    const rstate *s = arg;
    const rstate *x = &s[a], *y = &s[b];
    if (x->ncons != y->ncons)
        return x->ncons < y->ncons ? -1 : 1;
    return memcmp(x->cons, y->cons, (size_t)x->ncons * sizeof(int32_t));
}

static int32_t group_parts(const asg_ctx *c, const rstate *s) {
    return s->has_racks ? c->tnp[s->t] : 0;
}

static int rack_pass(asg_ctx *c, rstate *st, int32_t *buf) {
    int32_t *order = rill__asg_alloc(c, (size_t)c->nt, sizeof(int32_t));
    rstate **g = rill__asg_alloc(c, (size_t)c->nt, sizeof(*g));
    uint8_t *gone = rill__asg_alloc(c, (size_t)c->nm, 1);
    if (c->oom)
        return -1;
    for (int32_t t = 0; t < c->nt; t++)
        order[t] = t;
    if (rill__asg_sort(c, order, c->nt, cmp_group, st))
        return -1;
    /* Within each run of equal consumers, group again by partition count. */
    uint8_t *done = rill__asg_alloc(c, (size_t)c->nt, 1);
    if (!done)
        return -1;
    for (int32_t i = 0; i < c->nt; i++) {
        if (done[order[i]])
            continue;
        rstate *s = &st[order[i]];
        int32_t ng = 0, np = group_parts(c, s);
        for (int32_t j = i; j < c->nt && !cmp_group(order[i], order[j], st); j++)
            if (!done[order[j]] && group_parts(c, &st[order[j]]) == np) {
                done[order[j]] = 1;
                g[ng++] = &st[order[j]];
            }
        if (ng > 1) {
            if (assign_copartitioned(c, g, ng, np, gone))
                return -1;
        } else if (s->needs_rack && assign_ranges(c, s, true, buf)) {
            return -1;
        }
    }
    return 0;
}

int rill__asg_range(asg_ctx *c) {
    rstate *st = rill__asg_alloc(c, (size_t)c->nt, sizeof(*st));
    int32_t *off = rill__asg_alloc(c, (size_t)c->nt + 1, sizeof(int32_t));
    int32_t *flat = NULL, total = 0;
    for (int32_t t = 0; t < c->nt && off; t++) {
        off[t] = total;
        total += c->tcons[t];
    }
    flat = rill__asg_alloc(c, (size_t)total, sizeof(int32_t));
    int32_t *buf = rill__asg_alloc(c, (size_t)c->np, sizeof(int32_t));
    uint8_t *crack = rill__asg_alloc(c, (size_t)c->nracks, 1);
    uint8_t *scratch = rill__asg_alloc(c, (size_t)c->nracks, 1);
    if (c->oom)
        return RILL_ERR_NO_MEMORY;
    /* Consumers per topic, in MemberInfo order. */
    for (int32_t i = 0; i < c->nm; i++) {
        int32_t mi = c->by_info[i];
        for (int32_t k = 0; k < c->subs[mi].n; k++) {
            int32_t t = c->subs[mi].v[k];
            flat[off[t] + st[t].ncons++] = mi;
        }
    }
    bool rack_aware = false;
    for (int32_t t = 0; t < c->nt; t++) {
        rstate *s = &st[t];
        s->t = t;
        s->cons = flat + off[t];
        s->nassigned = rill__asg_alloc(c, (size_t)s->ncons, sizeof(int32_t));
        s->taken = rill__asg_alloc(c, (size_t)c->tnp[t], 1);
        if (c->oom)
            return RILL_ERR_NO_MEMORY;
        s->nleft = c->tnp[t];
        s->per = c->tnp[t] / s->ncons;
        s->extra = c->tnp[t] % s->ncons;
        if (!c->any_rack)
            continue;
        memset(crack, 0, (size_t)c->nracks);
        for (int32_t ci = 0; ci < s->ncons; ci++)
            if (c->mrack[s->cons[ci]] >= 0) {
                crack[c->mrack[s->cons[ci]]] = 1;
                s->has_racks = true;
            }
        s->needs_rack = s->has_racks &&
                        rill__asg_use_rack_aware(c, crack, c->tbase[t], c->tbase[t + 1], scratch);
        rack_aware |= s->needs_rack;
    }
    if (rack_aware && rack_pass(c, st, buf))
        return RILL_ERR_NO_MEMORY;
    for (int32_t t = 0; t < c->nt; t++)
        if (assign_ranges(c, &st[t], false, buf))
            return RILL_ERR_NO_MEMORY;
    return 0;
}
