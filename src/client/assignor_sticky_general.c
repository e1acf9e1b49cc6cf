/*
 * assignor_sticky_general.c -- the sticky assignor when members subscribe
 * to different topics: Java's AbstractStickyAssignor.GeneralAssignmentBuilder.
 *
 * 1. Keep every owned partition the member still subscribes to (and, when
 *    rack-aware, that has a replica on its rack).
 * 2. Give each unassigned partition to the least loaded member that may take
 *    it (rack-matching first when rack-aware), in the order Java sorts them:
 *    topics with fewer possible members first.
 * 3. Move partitions from loaded to lighter members until no move improves
 *    the balance, preferring to move a partition back to its owner of an
 *    older generation, and undoing a move the other way in this same pass
 *    instead of moving a second partition (PartitionMovements).
 * 4. Keep the result only if it is more balanced than before step 3 (sum of
 *    count differences over all pairs), unless nothing was owned before.
 *
 * Members are ordered as Java's TreeSet orders them (count, then member
 * id).  Where Java takes "the first" partition of a HashSet, the element
 * java.util.HashSet would yield first is computed from TopicPartition's
 * hashCode, so the same partition moves.
 *
 * Two deliberate differences, in cases where Java would hand out a partition
 * the member is not subscribed to or fail on a missing map entry: a
 * partition is moved back to its previous-generation owner only if that
 * member still takes part and still subscribes to the topic.
 */
#include <stdlib.h>
#include <string.h>

#include "client/assignor_sticky_int.h"
#include "rill.h"

/* The HashSet of partitions moved from src to dst, for one topic. */
typedef struct mvset {
    int32_t t, src, dst;
    int32_t size;
    uint32_t cap; /* table size, as java.util.HashMap grows it */
} mvset;

typedef struct general {
    sticky *s;
    asg_ctx *c;
    asg_list *cur;  /* currentAssignment */
    int32_t *owner; /* currentPartitionConsumer */
    int32_t *ss;    /* sortedCurrentSubscriptions: by (count, member id) */
    int32_t nss;
    uint8_t *fixed;   /* members set aside because they cannot change */
    int32_t *maxsize; /* getMaxAssignmentSize */
    int32_t *tcoff;   /* topic2AllPotentialConsumers, flat with offsets */
    int32_t *tcflat;
    asg_list all;             /* sortedAllPartitions */
    asg_list un;              /* unassignedPartitions */
    int32_t *prev_m, *prev_g; /* prevAssignment */
    bool revocation_required;
    /* PartitionMovements */
    int32_t *mv_src, *mv_dst;
    int64_t *mv_seq;
    int64_t seq;
    int32_t *tmoves;
    int32_t *thash;
    mvset *sets;
    int32_t nsets, capsets;
} general;

/* ---- sortedCurrentSubscriptions ---- */

static int ss_cmp(const general *g, int32_t a, int32_t b) {
    if (g->cur[a].n != g->cur[b].n)
        return g->cur[a].n < g->cur[b].n ? -1 : 1;
    return g->c->id_rank[a] - g->c->id_rank[b];
}

static int32_t ss_lower(const general *g, int32_t mi) {
    int32_t lo = 0, hi = g->nss;
    while (lo < hi) {
        int32_t mid = (lo + hi) / 2;
        if (ss_cmp(g, g->ss[mid], mi) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void ss_add(general *g, int32_t mi) {
    int32_t at = ss_lower(g, mi);
    memmove(g->ss + at + 1, g->ss + at, (size_t)(g->nss - at) * sizeof(int32_t));
    g->ss[at] = mi;
    g->nss++;
}

static void ss_remove(general *g, int32_t mi) {
    int32_t at = ss_lower(g, mi);
    if (at < g->nss && g->ss[at] == mi) {
        memmove(g->ss + at, g->ss + at + 1, (size_t)(g->nss - at - 1) * sizeof(int32_t));
        g->nss--;
    }
}

/* ---- PartitionMovements ---- */

static mvset *mv_find(general *g, int32_t t, int32_t src, int32_t dst) {
    for (int32_t i = 0; i < g->nsets; i++)
        if (g->sets[i].t == t && g->sets[i].src == src && g->sets[i].dst == dst)
            return &g->sets[i];
    return NULL;
}

static int mv_add(general *g, int32_t p, int32_t src, int32_t dst) {
    int32_t t = g->c->ptopic[p];
    mvset *set = mv_find(g, t, src, dst);
    if (!set) {
        if (g->nsets == g->capsets) {
            int32_t ncap = g->capsets ? g->capsets * 2 : 16;
            mvset *v = realloc(g->sets, (size_t)ncap * sizeof(*v));
            if (!v)
                return -1;
            g->sets = v;
            g->capsets = ncap;
        }
        set = &g->sets[g->nsets++];
        *set = (mvset){t, src, dst, 0, 16};
    }
    if (++set->size > (int32_t)(set->cap / 4 * 3))
        set->cap *= 2;
    g->mv_src[p] = src;
    g->mv_dst[p] = dst;
    g->mv_seq[p] = g->seq++;
    g->tmoves[t]++;
    return 0;
}

static void mv_remove(general *g, int32_t p) {
    int32_t t = g->c->ptopic[p];
    mvset *set = mv_find(g, t, g->mv_src[p], g->mv_dst[p]);
    if (set && --set->size == 0)
        *set = g->sets[--g->nsets];
    g->mv_src[p] = g->mv_dst[p] = -1;
    g->tmoves[t]--;
}

/* movePartition */
static int mv_move(general *g, int32_t p, int32_t old, int32_t nu) {
    if (g->mv_src[p] < 0)
        return mv_add(g, p, old, nu);
    int32_t src = g->mv_src[p];
    mv_remove(g, p);
    return src != nu ? mv_add(g, p, src, nu) : 0;
}

/* TopicPartition.hashCode */
static int32_t tp_hash(const general *g, int32_t p) {
    int32_t t = g->c->ptopic[p];
    uint32_t h = 31u + (uint32_t)(p - g->c->tbase[t]);
    return (int32_t)(31u * h + (uint32_t)g->thash[t]);
}

/* getTheActualPartitionToBeMoved */
static int32_t mv_actual(general *g, int32_t p, int32_t old, int32_t nu) {
    int32_t t = g->c->ptopic[p];
    if (!g->tmoves[t])
        return p;
    if (g->mv_src[p] >= 0)
        old = g->mv_src[p];
    const mvset *set = mv_find(g, t, nu, old);
    if (!set)
        return p;
    /* The HashSet's first element: lowest bucket, then first inserted. */
    int32_t best = p;
    uint32_t bb = UINT32_MAX;
    int64_t bs = INT64_MAX;
    for (int32_t q = g->c->tbase[t]; q < g->c->tbase[t + 1]; q++) {
        if (g->mv_src[q] != nu || g->mv_dst[q] != old)
            continue;
        uint32_t b = rill__asg_bucket(tp_hash(g, q), set->cap);
        if (b < bb || (b == bb && g->mv_seq[q] < bs)) {
            best = q;
            bb = b;
            bs = g->mv_seq[q];
        }
    }
    return best;
}

/* processPartitionMovement */
static int move(general *g, int32_t p, int32_t nu) {
    int32_t old = g->owner[p];
    ss_remove(g, old);
    ss_remove(g, nu);
    if (mv_move(g, p, old, nu))
        return -1;
    rill__asg_list_remove(&g->cur[old], p);
    if (rill__asg_list_push(g->c, &g->cur[nu], p))
        return -1;
    g->owner[p] = nu;
    ss_add(g, nu);
    ss_add(g, old);
    return 0;
}

static int reassign_to(general *g, int32_t p, int32_t nu) {
    return move(g, mv_actual(g, p, g->owner[p], nu), nu);
}

/* reassignPartition(partition): to the least loaded member subscribed to the topic. */
static int reassign(general *g, int32_t p) {
    int32_t t = g->c->ptopic[p];
    for (int32_t i = 0; i < g->nss; i++)
        if (rill__asg_subscribed(g->c, g->ss[i], t))
            return reassign_to(g, p, g->ss[i]);
    return 0;
}

/* ---- balance ---- */

static bool is_balanced(const general *g) {
    const asg_ctx *c = g->c;
    if (!g->nss || g->cur[g->ss[0]].n >= g->cur[g->ss[g->nss - 1]].n - 1)
        return true;
    for (int32_t i = 0; i < g->nss; i++) {
        int32_t mi = g->ss[i], n = g->cur[mi].n;
        if (n == g->maxsize[mi])
            continue;
        for (int32_t k = 0; k < c->subs[mi].n; k++) {
            int32_t t = c->subs[mi].v[k];
            for (int32_t p = c->tbase[t]; p < c->tbase[t + 1]; p++) {
                int32_t o = g->owner[p];
                if (o != mi && o >= 0 && !g->fixed[o] && n + 1 < g->cur[o].n)
                    return false;
            }
        }
    }
    return true;
}

static bool can_participate(const general *g, int32_t mi) {
    if (g->cur[mi].n < g->maxsize[mi])
        return true;
    for (int32_t j = 0; j < g->cur[mi].n; j++)
        if (g->c->tcons[g->c->ptopic[g->cur[mi].v[j]]] >= 2)
            return true;
    return false;
}

static int64_t balance_score(const general *g) {
    int64_t score = 0;
    for (int32_t i = 0; i < g->c->nm; i++)
        for (int32_t j = i + 1; j < g->c->nm; j++)
            if (!g->fixed[i] && !g->fixed[j]) {
                int64_t d = (int64_t)g->cur[i].n - g->cur[j].n;
                score += d < 0 ? -d : d;
            }
    return score;
}

/* maybeAssignPartition: to the least loaded member that may take it. */
static int assign_one(general *g, int32_t p, bool rack, bool *done) {
    int32_t t = g->c->ptopic[p];
    *done = false;
    for (int32_t i = 0; i < g->nss; i++) {
        int32_t mi = g->ss[i];
        if (!rill__asg_subscribed(g->c, mi, t) ||
            (rack && rill__sticky_racks_mismatch(g->s, mi, p)))
            continue;
        ss_remove(g, mi);
        if (rill__asg_list_push(g->c, &g->cur[mi], p))
            return -1;
        g->owner[p] = mi;
        ss_add(g, mi);
        *done = true;
        return 0;
    }
    return 0;
}

static int maybe_assign(general *g, asg_list *l, bool rack, bool remove) {
    int32_t w = 0;
    for (int32_t i = 0; i < l->n; i++) {
        bool done;
        if (assign_one(g, l->v[i], rack, &done))
            return -1;
        if (!(done && remove))
            l->v[w++] = l->v[i];
    }
    l->n = w;
    return 0;
}

static bool rack_has_member(const general *g, int32_t p, int32_t mi) {
    int32_t rack = g->s->rack_aware ? g->c->mrack[mi] : -1;
    return rack >= 0 && rill__asg_prack_has(g->c, p, rack);
}

/* One partition of performReassignments: 1 when moved, 0 when not, -1 on error. */
static int reassign_step(general *g, int32_t p) {
    const asg_ctx *c = g->c;
    int32_t mi = g->owner[p], t = c->ptopic[p], pm = g->prev_m[p];
    if (pm >= 0 && !g->fixed[pm] && rill__asg_subscribed(c, pm, t) &&
        g->cur[mi].n > g->cur[pm].n + 1)
        return reassign_to(g, p, pm) ? -1 : 1;
    const int32_t *others = g->tcflat + g->tcoff[t];
    int32_t nothers = g->tcoff[t + 1] - g->tcoff[t];
    /* A member on one of the partition's racks, if its owner is on one. */
    if (rack_has_member(g, p, mi))
        for (int32_t k = 0; k < nothers; k++)
            if (rack_has_member(g, p, others[k]) && g->cur[mi].n > g->cur[others[k]].n + 1)
                return reassign(g, p) ? -1 : 1;
    for (int32_t k = 0; k < nothers; k++)
        if (g->cur[mi].n > g->cur[others[k]].n + 1)
            return reassign(g, p) ? -1 : 1;
    return 0;
}

/* performReassignments: returns 1 when something moved, 0 when not, -1 on error. */
static int perform_reassignments(general *g, const asg_list *l) {
    int performed = 0, modified;
    do {
        modified = 0;
        for (int32_t i = 0; i < l->n && !is_balanced(g); i++) {
            int rc = reassign_step(g, l->v[i]);
            if (rc < 0)
                return -1;
            performed |= rc;
            modified |= rc;
        }
    } while (modified);
    return performed;
}

static int copy_lists(asg_ctx *c, asg_list *dst, const asg_list *src, const uint8_t *fixed) {
    for (int32_t i = 0; i < c->nm; i++) {
        if (fixed[i])
            continue;
        dst[i].n = 0;
        for (int32_t j = 0; j < src[i].n; j++)
            if (rill__asg_list_push(c, &dst[i], src[i].v[j]))
                return -1;
    }
    return 0;
}

static void drop_fixed(asg_list *l, const asg_ctx *c) {
    int32_t w = 0;
    for (int32_t i = 0; i < l->n; i++)
        if (c->tcons[c->ptopic[l->v[i]]] >= 2)
            l->v[w++] = l->v[i];
    l->n = w;
}

static int balance(general *g, asg_list *pre) {
    asg_ctx *c = g->c;
    bool initializing = !g->nss || g->cur[g->ss[g->nss - 1]].n == 0;
    if (g->s->rack_aware) {
        /* Rack-matching first, then the rest; un itself stays whole for later. */
        asg_list rest = {0};
        int rc = 0;
        for (int32_t i = 0; i < g->un.n && !rc; i++)
            rc = rill__asg_list_push(c, &rest, g->un.v[i]);
        if (!rc)
            rc = maybe_assign(g, &rest, true, true) || maybe_assign(g, &rest, false, false);
        free(rest.v);
        if (rc)
            return -1;
    } else if (maybe_assign(g, &g->un, false, false)) {
        return -1;
    }
    /* Only partitions of topics two or more members share can move. */
    drop_fixed(&g->all, c);
    drop_fixed(&g->un, c);
    for (int32_t mi = 0; mi < c->nm; mi++)
        if (!can_participate(g, mi)) {
            ss_remove(g, mi);
            g->fixed[mi] = 1;
        }
    int32_t *pre_owner = rill__asg_alloc(c, (size_t)c->np, sizeof(int32_t));
    if (!pre_owner || copy_lists(c, pre, g->cur, g->fixed))
        return -1;
    memcpy(pre_owner, g->owner, (size_t)c->np * sizeof(int32_t));
    int64_t pre_score = balance_score(g);
    if (!g->revocation_required && perform_reassignments(g, &g->un) < 0)
        return -1;
    int performed = perform_reassignments(g, &g->all);
    if (performed < 0)
        return -1;
    if (!initializing && performed && balance_score(g) >= pre_score) {
        if (copy_lists(c, g->cur, pre, g->fixed))
            return -1;
        memcpy(g->owner, pre_owner, (size_t)c->np * sizeof(int32_t));
    }
    return 0;
}

/* ---- setting up ---- */

/* TopicComparator: fewer potential members first, then name. */
static int cmp_topic(int32_t a, int32_t b, void *arg) {
    const asg_ctx *c = arg;
    if (c->tcons[a] != c->tcons[b])
        return c->tcons[a] < c->tcons[b] ? -1 : 1;
    return a < b ? -1 : a > b;
}

/*
 * prevAssignment: owners from older generations, the newest of them per
 * partition.  (Java keeps the highest generation in a field of the assignor
 * that no rebalance resets; it matters only if generations went backwards,
 * as when a group is deleted and recreated under the same leader.)
 */
static void prev_assignment(general *g) {
    const asg_ctx *c = g->c;
    const sticky *s = g->s;
    for (int32_t p = 0; p < c->np; p++)
        g->prev_m[p] = -1;
    for (int32_t k = 0; k < c->nm; k++) {
        int32_t mi = c->by_hash[k], gen = s->mgen[mi];
        if (gen >= s->maxgen)
            continue;
        for (int32_t j = 0; j < c->owned[mi].n; j++) {
            int32_t p = c->owned[mi].v[j];
            if (g->prev_m[p] < 0 || gen > g->prev_g[p]) {
                g->prev_m[p] = mi;
                g->prev_g[p] = gen;
            }
        }
    }
}

static int setup(general *g) {
    asg_ctx *c = g->c;
    size_t np = (size_t)c->np, nm = (size_t)c->nm;
    g->owner = rill__asg_alloc(c, np, sizeof(int32_t));
    g->ss = rill__asg_alloc(c, nm, sizeof(int32_t));
    g->fixed = rill__asg_alloc(c, nm, 1);
    g->maxsize = rill__asg_alloc(c, nm, sizeof(int32_t));
    g->tcoff = rill__asg_alloc(c, (size_t)c->nt + 1, sizeof(int32_t));
    g->prev_m = rill__asg_alloc(c, np, sizeof(int32_t));
    g->prev_g = rill__asg_alloc(c, np, sizeof(int32_t));
    g->mv_src = rill__asg_alloc(c, np, sizeof(int32_t));
    g->mv_dst = rill__asg_alloc(c, np, sizeof(int32_t));
    g->mv_seq = rill__asg_alloc(c, np, sizeof(int64_t));
    g->tmoves = rill__asg_alloc(c, (size_t)c->nt, sizeof(int32_t));
    g->thash = rill__asg_alloc(c, (size_t)c->nt, sizeof(int32_t));
    int32_t *topics = rill__asg_alloc(c, (size_t)c->nt, sizeof(int32_t));
    uint8_t *kept = rill__asg_alloc(c, np, 1);
    if (c->oom)
        return -1;
    for (int32_t t = 0; t < c->nt; t++) {
        g->tcoff[t + 1] = g->tcoff[t] + c->tcons[t];
        g->thash[t] = rill__asg_jhash(c->tname[t]);
        topics[t] = t;
    }
    g->tcflat = rill__asg_alloc(c, (size_t)g->tcoff[c->nt], sizeof(int32_t));
    int32_t *fill = rill__asg_alloc(c, (size_t)c->nt, sizeof(int32_t));
    if (c->oom)
        return -1;
    for (int32_t mi = 0; mi < c->nm; mi++)
        for (int32_t k = 0; k < c->subs[mi].n; k++) {
            int32_t t = c->subs[mi].v[k];
            g->tcflat[g->tcoff[t] + fill[t]++] = mi;
            g->maxsize[mi] += c->tnp[t];
        }
    for (int32_t p = 0; p < c->np; p++)
        g->owner[p] = g->mv_src[p] = g->mv_dst[p] = -1;
    for (int32_t mi = 0; mi < c->nm; mi++)
        for (int32_t j = 0; j < g->cur[mi].n; j++)
            g->owner[g->cur[mi].v[j]] = mi;
    /* sortedAllPartitions */
    if (rill__asg_sort(c, topics, c->nt, cmp_topic, c))
        return -1;
    for (int32_t i = 0; i < c->nt; i++)
        for (int32_t p = c->tbase[topics[i]]; p < c->tbase[topics[i] + 1]; p++)
            if (rill__asg_list_push(c, &g->all, p))
                return -1;
    prev_assignment(g);
    /* assignOwnedPartitions: drop what the member no longer subscribes to. */
    for (int32_t mi = 0; mi < c->nm; mi++) {
        asg_list *l = &g->cur[mi];
        int32_t w = 0;
        for (int32_t j = 0; j < l->n; j++) {
            int32_t p = l->v[j];
            if (!rill__asg_subscribed(c, mi, c->ptopic[p]) ||
                rill__sticky_racks_mismatch(g->s, mi, p)) {
                g->revocation_required = true;
            } else {
                kept[p] = 1;
                l->v[w++] = p;
            }
        }
        l->n = w;
    }
    for (int32_t i = 0; i < g->all.n; i++)
        if (!kept[g->all.v[i]] && rill__asg_list_push(c, &g->un, g->all.v[i]))
            return -1;
    for (int32_t mi = 0; mi < c->nm; mi++)
        ss_add(g, mi);
    return 0;
}

int rill__sticky_general(sticky *s) {
    asg_ctx *c = s->c;
    general g;
    memset(&g, 0, sizeof(g));
    g.s = s;
    g.c = c;
    g.cur = s->owned;
    asg_list *pre = calloc((size_t)c->nm + 1, sizeof(*pre));
    int rc = !pre || setup(&g) || balance(&g, pre) ? RILL_ERR_NO_MEMORY : 0;
    /* The result is currentAssignment. */
    for (int32_t mi = 0; !rc && mi < c->nm; mi++) {
        asg_list tmp = c->asg[mi];
        c->asg[mi] = g.cur[mi];
        g.cur[mi] = tmp;
    }
    for (int32_t mi = 0; pre && mi < c->nm; mi++)
        free(pre[mi].v);
    free(pre);
    free(g.all.v);
    free(g.un.v);
    free(g.sets);
    return rc;
}
