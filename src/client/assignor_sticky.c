/*
 * assignor_sticky.c -- the "cooperative-sticky" assignor, as Java's
 * CooperativeStickyAssignor over AbstractStickyAssignor (Kafka 3.5+).
 *
 * Sticky: the assignment is as balanced as possible (member counts differ
 * by at most one when subscriptions are equal) while moving as few
 * partitions as possible away from the members that own them.  Each
 * member's owned partitions come from its subscription (v1+), its
 * generation from the subscription (v2+) or from the assignor's user data
 * (an int32, for older subscriptions).  When two members claim one
 * partition the higher generation keeps it; claims in the same generation
 * are both dropped and the partition is assigned afresh.
 *
 * Cooperative (KIP-429): a partition that moves to a member other than its
 * current owner is left out of this assignment.  The owner sees it missing,
 * revokes it and rejoins, and the next rebalance hands it to the new member,
 * so no partition is ever consumed by two members at once.
 *
 * Java runs one of two algorithms: a fast "constrained" one when every
 * member has the same subscription (here), and a general one otherwise
 * (assignor_sticky_general.c).  Where Java iterates a HashMap of members the
 * order is reproduced (asg_ctx.by_hash), so ties go the same way.
 */
#include <stdlib.h>
#include <string.h>

#include "client/assignor_sticky_int.h"
#include "common/endian.h"
#include "rill.h"

bool rill__sticky_racks_mismatch(const sticky *s, int32_t mi, int32_t p) {
    int32_t rack = s->rack_aware ? s->c->mrack[mi] : -1;
    return rack >= 0 && !rill__asg_prack_has(s->c, p, rack);
}

/* CooperativeStickyAssignor.memberData: the generation a member reports. */
static int32_t member_generation(const rill_asg_member *m) {
    if (m->generation >= 0)
        return m->generation;
    if (m->user_data_len < 0)
        return -1;
    /* Java reads an int32 struct; a short buffer throws and counts as -1. */
    return m->user_data_len >= 4 ? (int32_t)rill__ld32(m->user_data) : -1;
}

static bool same_topics(const asg_ctx *c, int32_t a, int32_t b) {
    if (c->nrawsubs[a] != c->nrawsubs[b])
        return false;
    for (int32_t i = 0; i < c->nrawsubs[a]; i++)
        if (strcmp(c->rawsubs[a][i], c->rawsubs[b][i]))
            return false;
    return true;
}

/*
 * allSubscriptionsEqual: whether every member subscribes to the same topics,
 * and (as a side effect, as in Java) each member's valid owned partitions.
 *
 * Deliberate difference: Java takes the first non-empty subscription in
 * HashMap order as the reference, so members with an empty subscription (a
 * pattern matching nothing) seen before it count as equal, and the
 * constrained algorithm then hands them partitions they did not subscribe
 * to.  Here an empty subscription differs from a non-empty one and such a
 * member gets nothing.
 */
static int subscriptions_equal(sticky *s, bool *equal) {
    asg_ctx *c = s->c;
    int32_t *holder = rill__asg_alloc(c, (size_t)c->np, sizeof(int32_t));
    if (!holder)
        return -1;
    for (int32_t p = 0; p < c->np; p++)
        holder[p] = -1;
    *equal = true;
    s->maxgen = -1;
    for (int32_t k = 0; k < c->nm; k++) {
        int32_t mi = c->by_hash[k];
        if (*equal && !same_topics(c, c->by_hash[0], mi))
            *equal = false;
        int32_t gen = s->mgen[mi];
        if (gen > s->maxgen)
            s->maxgen = gen;
        for (int32_t j = 0; j < c->owned[mi].n; j++) {
            int32_t p = c->owned[mi].v[j], other = holder[p];
            if (other < 0) {
                if (rill__asg_list_push(c, &s->owned[mi], p))
                    return -1;
                holder[p] = mi;
                continue;
            }
            /* Java compares with the other's subscription field, not its MemberData. */
            int32_t ogen = s->sgen[other];
            if (gen == ogen) {
                s->multi[p] = 1;
                rill__asg_list_remove(&s->owned[other], p);
                holder[p] = mi;
            } else if (gen > ogen) {
                if (rill__asg_list_push(c, &s->owned[mi], p))
                    return -1;
                rill__asg_list_remove(&s->owned[other], p);
                holder[p] = mi;
            }
        }
    }
    return 0;
}

/* RackInfo: whether rack-aware assignment applies, and consumers per partition. */
static int rack_info(sticky *s) {
    asg_ctx *c = s->c;
    if (!c->any_rack)
        return 0;
    int32_t *per_rack = rill__asg_alloc(c, (size_t)c->nracks, sizeof(int32_t));
    uint8_t *crack = rill__asg_alloc(c, (size_t)c->nracks, 1);
    uint8_t *scratch = rill__asg_alloc(c, (size_t)c->nracks, 1);
    s->nconsp = rill__asg_alloc(c, (size_t)c->np, sizeof(int32_t));
    if (c->oom)
        return -1;
    for (int32_t i = 0; i < c->nm; i++)
        if (c->mrack[i] >= 0) {
            per_rack[c->mrack[i]]++;
            crack[c->mrack[i]] = 1;
        }
    s->rack_aware = rill__asg_use_rack_aware(c, crack, 0, c->np, scratch);
    for (int32_t p = 0; p < c->np; p++) {
        int32_t n;
        const int32_t *r = rill__asg_pracks(c, p, &n);
        for (int32_t i = 0; i < n; i++)
            s->nconsp[p] += per_rack[r[i]];
    }
    return 0;
}

/* ---- ConstrainedAssignmentBuilder ---- */

typedef struct constrained {
    sticky *s;
    asg_ctx *c;
    int32_t minq, maxq;
    int32_t expected; /* members that get maxq (0 when minq == maxq) */
    int32_t current;
    uint8_t *revoked; /* allRevokedPartitions */
    asg_list under;   /* unfilledMembersWithUnderMinQuotaPartitions */
    asg_list exact;   /* unfilledMembersWithExactlyMinQuotaPartitions */
    asg_list un;      /* unassigned partitions */
} constrained;

/* Owned partitions are taken in (partition, topic) order. */
static int cmp_part_topic(int32_t a, int32_t b, void *arg) {
    const asg_ctx *c = arg;
    int32_t pa = a - c->tbase[c->ptopic[a]], pb = b - c->tbase[c->ptopic[b]];
    if (pa != pb)
        return pa < pb ? -1 : 1;
    return a < b ? -1 : a > b;
}

static int cmp_id(int32_t a, int32_t b, void *arg) {
    const asg_ctx *c = arg;
    return c->id_rank[a] - c->id_rank[b];
}

static int cmp_nconsp(int32_t a, int32_t b, void *arg) {
    const int32_t *n = arg;
    return n[a] < n[b] ? -1 : n[a] > n[b];
}

/* assignNewPartition: returns the member's new count, or -1 when out of memory. */
static int32_t assign_new(constrained *k, int32_t p, int32_t mi) {
    if (rill__asg_list_push(k->c, &k->c->asg[mi], p))
        return -1;
    if (k->revoked[p] || k->s->multi[p])
        k->s->transfer[p] = mi;
    return k->c->asg[mi].n;
}

static int keep_owned(constrained *k, asg_list *o, uint8_t *assigned) {
    asg_ctx *c = k->c;
    for (int32_t mi_pos = 0; mi_pos < c->nm; mi_pos++) {
        int32_t mi = c->by_hash[mi_pos];
        o->n = 0;
        for (int32_t j = 0; j < k->s->owned[mi].n; j++) {
            int32_t p = k->s->owned[mi].v[j];
            if (!rill__sticky_racks_mismatch(k->s, mi, p) && !k->s->multi[p] &&
                rill__asg_list_push(c, o, p))
                return -1;
        }
        if (rill__asg_sort(c, o->v, o->n, cmp_part_topic, c))
            return -1;
        int32_t keep;
        if (o->n < k->minq) {
            keep = o->n;
            if (rill__asg_list_push(c, &k->under, mi))
                return -1;
        } else if (o->n >= k->maxq && k->current < k->expected) {
            if (++k->current == k->expected)
                k->exact.n = 0;
            keep = k->maxq;
        } else {
            keep = k->minq;
            if (k->current < k->expected && rill__asg_list_push(c, &k->exact, mi))
                return -1;
        }
        for (int32_t j = 0; j < o->n; j++) {
            if (j < keep) {
                assigned[o->v[j]] = 1;
                if (rill__asg_list_push(c, &c->asg[mi], o->v[j]))
                    return -1;
            } else {
                k->revoked[o->v[j]] = 1;
            }
        }
    }
    return 0;
}

/* RackInfo.nextRackConsumer: from `first`, cycling, a member on one of p's racks. */
static int32_t next_rack_consumer(const constrained *k, int32_t p, const asg_list *l,
                                  int32_t first) {
    int32_t n;
    rill__asg_pracks(k->c, p, &n);
    if (!n)
        return -1;
    for (int32_t i = 0; i < l->n; i++) {
        int32_t idx = (first + i) % l->n, rack = k->c->mrack[l->v[idx]];
        if (rack >= 0 && rill__asg_prack_has(k->c, p, rack))
            return idx;
    }
    return -1;
}

/*
 * assignRackAwareRoundRobin: fill quotas with partitions on the member's rack.
 *
 * Deliberate difference: Java lets a member at minQuota take a rack-matching
 * partition up to maxQuota without counting it among the members over
 * minQuota, even when enough members already are; another member then ends
 * short and Java throws IllegalStateException ("doesn't reach minQuota").
 * Counting it, and only while members over minQuota are still missing,
 * changes nothing where Java succeeds and gives a valid assignment where it
 * would throw.
 */
static int rack_round_robin(constrained *k) {
    int32_t next = 0, w = 0;
    for (int32_t i = 0; i < k->un.n; i++) {
        int32_t p = k->un.v[i], mi = -1;
        int32_t idx = next_rack_consumer(k, p, &k->under, next);
        if (idx >= 0) {
            mi = k->under.v[idx];
            int32_t count = k->c->asg[mi].n + 1;
            if (count >= k->minq) {
                rill__asg_list_remove_at(&k->under, idx);
                if (count < k->maxq && rill__asg_list_push(k->c, &k->exact, mi))
                    return -1;
            } else {
                idx++;
            }
            next = k->under.n ? idx % k->under.n : 0;
        } else if (k->exact.n && k->current < k->expected) {
            int32_t first = next_rack_consumer(k, p, &k->exact, 0);
            if (first >= 0) {
                mi = k->exact.v[first];
                if (k->c->asg[mi].n + 1 == k->maxq) {
                    rill__asg_list_remove_at(&k->exact, first);
                    k->current++;
                }
            }
        }
        if (mi < 0)
            k->un.v[w++] = p;
        else if (assign_new(k, p, mi) < 0)
            return -1;
    }
    k->un.n = w;
    return 0;
}

/* assignRoundRobin: members under quota in id order, then those that may take one more. */
static int round_robin(constrained *k) {
    int32_t it = 0; /* the Java iterator over `under` */
    for (int32_t i = 0; i < k->un.n; i++) {
        int32_t mi;
        bool from_under = true;
        if (it < k->under.n) {
            mi = k->under.v[it++];
        } else if (!k->under.n && !k->exact.n) {
            return rill__asg_fail(k->c, RILL_ERR_STATE, "sticky: no more unfilled consumers");
        } else if (!k->under.n) {
            mi = k->exact.v[0];
            rill__asg_list_remove_at(&k->exact, 0);
            from_under = false;
        } else {
            it = 0;
            mi = k->under.v[it++];
        }
        int32_t count = assign_new(k, k->un.v[i], mi);
        if (count < 0)
            return RILL_ERR_NO_MEMORY;
        if (count == k->minq && from_under) {
            rill__asg_list_remove_at(&k->under, --it);
            if (rill__asg_list_push(k->c, &k->exact, mi))
                return RILL_ERR_NO_MEMORY;
        } else if (count == k->maxq) {
            k->current++;
        }
    }
    return 0;
}

static int verify_unfilled(constrained *k) {
    if (!k->under.n)
        return 0;
    if (k->current != k->expected)
        return rill__asg_fail(k->c, RILL_ERR_STATE,
                              "sticky: too few members over the minimum quota");
    for (int32_t i = 0; i < k->under.n; i++)
        if (k->c->asg[k->under.v[i]].n != k->minq)
            return rill__asg_fail(k->c, RILL_ERR_STATE, "sticky: member %s under its quota",
                                  k->c->m[k->under.v[i]].member_id);
    return 0;
}

static int constrained_run(constrained *k) {
    asg_ctx *c = k->c;
    asg_list o = {0};
    uint8_t *assigned = rill__asg_alloc(c, (size_t)c->np, 1);
    k->revoked = rill__asg_alloc(c, (size_t)c->np, 1);
    if (c->oom)
        return RILL_ERR_NO_MEMORY;
    int rc = keep_owned(k, &o, assigned);
    free(o.v);
    if (rc)
        return RILL_ERR_NO_MEMORY;
    for (int32_t p = 0; p < c->np; p++)
        if (!assigned[p] && rill__asg_list_push(c, &k->un, p))
            return RILL_ERR_NO_MEMORY;
    if (rill__asg_sort(c, k->under.v, k->under.n, cmp_id, c) ||
        rill__asg_sort(c, k->exact.v, k->exact.n, cmp_id, c) ||
        (k->s->nconsp && rill__asg_sort(c, k->un.v, k->un.n, cmp_nconsp, k->s->nconsp)))
        return RILL_ERR_NO_MEMORY;
    if (k->s->rack_aware && rack_round_robin(k))
        return RILL_ERR_NO_MEMORY;
    if ((rc = round_robin(k)))
        return rc;
    return verify_unfilled(k);
}

static int constrained_assign(sticky *s) {
    asg_ctx *c = s->c;
    constrained k;
    memset(&k, 0, sizeof(k));
    k.s = s;
    k.c = c;
    k.minq = c->np / c->nm;
    k.maxq = (c->np + c->nm - 1) / c->nm;
    k.expected = c->np % c->nm;
    int rc = constrained_run(&k);
    free(k.under.v);
    free(k.exact.v);
    free(k.un.v);
    return rc;
}

/* ---- the cooperative rule ---- */

/* Constrained: the algorithm recorded which partitions change owner. */
static void withhold_recorded(sticky *s) {
    asg_ctx *c = s->c;
    for (int32_t p = 0; p < c->np; p++)
        if (s->transfer[p] >= 0 && rill__asg_list_remove(&c->asg[s->transfer[p]], p))
            c->nwithheld++;
}

/*
 * General: computePartitionsTransferringOwnership.  A partition given to a
 * member that did not claim it, while another member did (in its raw owned
 * list, whatever its generation), moves: leave it out this time.
 */
static int withhold_computed(sticky *s) {
    asg_ctx *c = s->c;
    int32_t *claims = rill__asg_alloc(c, (size_t)c->np, sizeof(int32_t));
    int32_t *mine = rill__asg_alloc(c, (size_t)c->np, sizeof(int32_t));
    if (c->oom)
        return -1;
    for (int32_t mi = 0; mi < c->nm; mi++)
        for (int32_t j = 0; j < c->owned[mi].n; j++)
            claims[c->owned[mi].v[j]]++;
    for (int32_t mi = 0; mi < c->nm; mi++) {
        for (int32_t j = 0; j < c->owned[mi].n; j++)
            mine[c->owned[mi].v[j]] = mi + 1;
        asg_list *l = &c->asg[mi];
        int32_t w = 0;
        for (int32_t j = 0; j < l->n; j++) {
            int32_t p = l->v[j];
            if (mine[p] != mi + 1 && claims[p] > 0)
                c->nwithheld++;
            else
                l->v[w++] = p;
        }
        l->n = w;
    }
    return 0;
}

static int sticky_run(sticky *s) {
    asg_ctx *c = s->c;
    s->mgen = rill__asg_alloc(c, (size_t)c->nm, sizeof(int32_t));
    s->sgen = rill__asg_alloc(c, (size_t)c->nm, sizeof(int32_t));
    s->multi = rill__asg_alloc(c, (size_t)c->np, 1);
    s->transfer = rill__asg_alloc(c, (size_t)c->np, sizeof(int32_t));
    s->owned = calloc((size_t)c->nm + 1, sizeof(*s->owned));
    if (c->oom || !s->owned)
        return RILL_ERR_NO_MEMORY;
    for (int32_t i = 0; i < c->nm; i++) {
        s->mgen[i] = member_generation(&c->m[i]);
        s->sgen[i] = c->m[i].generation >= 0 ? c->m[i].generation : -1;
    }
    for (int32_t p = 0; p < c->np; p++)
        s->transfer[p] = -1;
    bool equal;
    if (subscriptions_equal(s, &equal) || rack_info(s))
        return RILL_ERR_NO_MEMORY;
    int rc;
    if (equal) {
        if ((rc = constrained_assign(s)))
            return rc;
        withhold_recorded(s);
    } else {
        if ((rc = rill__sticky_general(s)))
            return rc;
        if (withhold_computed(s))
            return RILL_ERR_NO_MEMORY;
    }
    return 0;
}

int rill__asg_cooperative_sticky(asg_ctx *c) {
    if (c->nm == 0)
        return 0;
    sticky s;
    memset(&s, 0, sizeof(s));
    s.c = c;
    int rc = sticky_run(&s);
    for (int32_t i = 0; s.owned && i < c->nm; i++)
        free(s.owned[i].v);
    free(s.owned);
    return rc;
}
