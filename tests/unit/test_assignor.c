/*
 * test_assignor.c -- the group assignors (client/assignor.h) against
 * results worked out by hand from the Java client's algorithms
 * (RangeAssignor, RoundRobinAssignor, CooperativeStickyAssignor over
 * AbstractStickyAssignor), each case naming the Java behaviour it pins;
 * invariants over random groups; input errors; and the embedded-protocol
 * bytes (assignment and subscription) decoding back with
 * consumer_protocol.h.
 *
 * Results are written "member=topic:partitions;topic:partitions member=..."
 * with members in input order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/assignor.h"
#include "client/assignor_int.h"
#include "proto/fields.h"
#include "rill.h"

/* ---- building input from short specs ---- */

typedef struct mspec {
    const char *id;
    const char *subs;  /* "t0 t1" */
    const char *owned; /* "t0:0,1 t1:2" */
    int32_t gen;       /* subscription generation; -1 none */
    const char *inst;  /* group.instance.id */
    const char *rack;
} mspec;

typedef struct tspec {
    const char *name;
    int32_t np;
    const char *racks; /* per partition, '|' between partitions, ',' between racks */
} tspec;

/* Everything the specs expand to, freed at once. */
typedef struct pool {
    void *p[4096];
    int n;
} pool;

static void *pool_add(pool *pl, void *p) {
    assert_non_null(p);
    assert_true(pl->n < 4096);
    pl->p[pl->n++] = p;
    return p;
}

static void pool_free(pool *pl) {
    for (int i = 0; i < pl->n; i++)
        free(pl->p[i]);
    pl->n = 0;
}

/* Splits s at any of seps into a NULL-terminated list of copies. */
static char **split(pool *pl, const char *s, const char *seps, int *n) {
    char **v = pool_add(pl, calloc(strlen(s ? s : "") + 2, sizeof(char *)));
    *n = 0;
    for (const char *p = s; p && *p;) {
        size_t k = strcspn(p, seps);
        if (k)
            v[(*n)++] = pool_add(pl, strndup(p, k));
        p += k;
        if (*p)
            p++;
    }
    return v;
}

static rill_asg_member *members_of(pool *pl, const mspec *ms, int nm) {
    rill_asg_member *m = pool_add(pl, calloc((size_t)nm + 1, sizeof(*m)));
    for (int i = 0; i < nm; i++) {
        int n;
        m[i].member_id = ms[i].id;
        m[i].group_instance_id = ms[i].inst;
        m[i].topics = (const char *const *)split(pl, ms[i].subs, " ", &n);
        m[i].ntopics = n;
        m[i].generation = ms[i].gen;
        m[i].user_data_len = -1;
        m[i].rack = ms[i].rack;
        char **tps = split(pl, ms[i].owned, " ", &n);
        rill_asg_tp *o = pool_add(pl, calloc(64, sizeof(*o)));
        int k = 0;
        for (int j = 0; j < n; j++) {
            char *colon = strchr(tps[j], ':');
            *colon = '\0';
            int np;
            char **parts = split(pl, colon + 1, ",", &np);
            for (int q = 0; q < np; q++)
                o[k++] = (rill_asg_tp){tps[j], atoi(parts[q])};
        }
        m[i].owned = o;
        m[i].nowned = k;
    }
    return m;
}

static rill_asg_topic *topics_of(pool *pl, const tspec *ts, int nt) {
    rill_asg_topic *t = pool_add(pl, calloc((size_t)nt + 1, sizeof(*t)));
    for (int i = 0; i < nt; i++) {
        t[i].name = ts[i].name;
        t[i].npartitions = ts[i].np;
        if (!ts[i].racks)
            continue;
        int np;
        char **per = split(pl, ts[i].racks, "|", &np);
        assert_int_equal(np, ts[i].np);
        rill_asg_racks *r = pool_add(pl, calloc((size_t)np + 1, sizeof(*r)));
        for (int p = 0; p < np; p++) {
            int n;
            r[p].racks = (const char *const *)split(pl, per[p], ",", &n);
            r[p].nracks = n;
        }
        t[i].partition_racks = r;
    }
    return t;
}

/* "C0=t0:0,1;t1:2 C1=" */
static void format(const rill_asg_result *r, char *out, size_t size) {
    size_t o = 0;
    out[0] = '\0';
    for (int32_t i = 0; i < r->nmembers; i++) {
        const rill_asg_member_result *m = &r->members[i];
        o += (size_t)snprintf(out + o, size - o, "%s%s=", i ? " " : "", m->member_id);
        int32_t total = 0;
        for (int32_t j = 0; j < m->ntopics; j++) {
            const rill_cp_topic_partitions *tp = &m->topics[j];
            assert_int_equal(strlen(tp->topic.ptr), (size_t)tp->topic.len);
            o += (size_t)snprintf(out + o, size - o, "%s%s:", j ? ";" : "", tp->topic.ptr);
            for (int32_t k = 0; k < tp->npartitions; k++)
                o += (size_t)snprintf(out + o, size - o, "%s%d", k ? "," : "", tp->partitions[k]);
            total += tp->npartitions;
        }
        assert_int_equal(total, m->npartitions);
        assert_true(o < size);
    }
}

static int run(const char *proto, const mspec *ms, int nm, const tspec *ts, int nt, char *out,
               size_t size, int32_t *withheld) {
    pool pl = {.n = 0};
    rill_asg_member *m = members_of(&pl, ms, nm);
    rill_asg_topic *t = topics_of(&pl, ts, nt);
    rill_asg_result r;
    char err[256];
    int rc = rill__assign(proto, m, nm, t, nt, &r, err, sizeof(err));
    if (rc == 0) {
        format(&r, out, size);
        *withheld = r.nwithheld;
        rill__asg_result_free(&r);
    } else {
        snprintf(out, size, "error %d: %s", rc, err);
    }
    pool_free(&pl);
    return rc;
}

/* ---- the table ---- */

#define NOGEN -1

typedef struct acase {
    const char *why; /* the Java behaviour this pins */
    const char *proto;
    mspec m[6];
    int nm;
    tspec t[4];
    int nt;
    const char *expect;
    int32_t withheld;
} acase;

static const acase cases[] = {
    /* ---------------- range ---------------- */
    {"RangeAssignor javadoc: per topic, contiguous runs, first members get the extra",
     "range",
     {{"C0", "t0 t1", NULL, NOGEN, NULL, NULL}, {"C1", "t0 t1", NULL, NOGEN, NULL, NULL}},
     2,
     {{"t0", 3, NULL}, {"t1", 3, NULL}},
     2,
     "C0=t0:0,1;t1:0,1 C1=t0:2;t1:2",
     0},
    {"range, uneven: 7/3 gives 3,2,2; 2/3 gives 1,1,0 (first n % m members get one extra)",
     "range",
     {{"C2", "t0 t1", NULL, NOGEN, NULL, NULL},
      {"C0", "t1 t0", NULL, NOGEN, NULL, NULL},
      {"C1", "t0 t1", NULL, NOGEN, NULL, NULL}},
     3,
     {{"t0", 7, NULL}, {"t1", 2, NULL}},
     2,
     "C2=t0:5,6 C0=t0:0,1,2;t1:0 C1=t0:3,4;t1:1",
     0},
    {"range, different subscriptions: each topic split among its own subscribers only; "
     "subscribed topics without metadata or without partitions are skipped",
     "range",
     {{"C0", "t0", NULL, NOGEN, NULL, NULL},
      {"C1", "t0 t1", NULL, NOGEN, NULL, NULL},
      {"C2", "t1 missing empty", NULL, NOGEN, NULL, NULL}},
     3,
     {{"t0", 3, NULL}, {"t1", 4, NULL}, {"empty", 0, NULL}, {"unsubscribed", 5, NULL}},
     4,
     "C0=t0:0,1 C1=t0:2;t1:0,1 C2=t1:2,3",
     0},
    {"range orders member ids as Java Strings: \"C10\" < \"C2\"",
     "range",
     {{"C2", "t0", NULL, NOGEN, NULL, NULL}, {"C10", "t0", NULL, NOGEN, NULL, NULL}},
     2,
     {{"t0", 3, NULL}},
     1,
     "C2=t0:2 C10=t0:0,1",
     0},
    {"range with static members (KIP-345 MemberInfo order): instance ids first, sorted by "
     "instance id, then dynamic members by member id",
     "range",
     {{"A", "t0", NULL, NOGEN, NULL, NULL},
      {"Z", "t0", NULL, NOGEN, "i1", NULL},
      {"Y", "t0", NULL, NOGEN, "i2", NULL}},
     3,
     {{"t0", 5, NULL}},
     1,
     "A=t0:4 Z=t0:0,1 Y=t0:2,3",
     0},
    {"range rack-aware (KIP-881): each member first takes its quota of partitions with a "
     "replica on its rack",
     "range",
     {{"A", "t0", NULL, NOGEN, NULL, "r1"}, {"B", "t0", NULL, NOGEN, NULL, "r2"}},
     2,
     {{"t0", 4, "r2|r1|r2|r1"}},
     1,
     "A=t0:1,3 B=t0:0,2",
     0},
    {"range rack-aware keeps co-partitioning: topics with the same members and partition "
     "count give partition N of each to one member",
     "range",
     {{"A", "t0 t1", NULL, NOGEN, NULL, "r1"}, {"B", "t0 t1", NULL, NOGEN, NULL, "r2"}},
     2,
     {{"t0", 2, "r2|r1"}, {"t1", 2, "r1,r2|r1"}},
     2,
     "A=t0:1;t1:1 B=t0:0;t1:0",
     0},
    {"range: racks that change nothing (every partition on every rack) leave the plain order",
     "range",
     {{"A", "t0", NULL, NOGEN, NULL, "r2"}, {"B", "t0", NULL, NOGEN, NULL, "r1"}},
     2,
     {{"t0", 2, "r1,r2|r2,r1"}},
     1,
     "A=t0:0 B=t0:1",
     0},

    /* ---------------- roundrobin ---------------- */
    {"RoundRobinAssignor javadoc: one cycle over all partitions sorted by topic, partition",
     "roundrobin",
     {{"C0", "t0 t1", NULL, NOGEN, NULL, NULL}, {"C1", "t1 t0", NULL, NOGEN, NULL, NULL}},
     2,
     {{"t0", 3, NULL}, {"t1", 3, NULL}},
     2,
     "C0=t0:0,2;t1:1 C1=t0:1;t1:0,2",
     0},
    {"RoundRobinAssignor javadoc, different subscriptions: unsubscribed members are skipped "
     "and the cycle continues across topics",
     "roundrobin",
     {{"C2", "t0 t1 t2", NULL, NOGEN, NULL, NULL},
      {"C1", "t0 t1", NULL, NOGEN, NULL, NULL},
      {"C0", "t0", NULL, NOGEN, NULL, NULL}},
     3,
     {{"t2", 3, NULL}, {"t1", 2, NULL}, {"t0", 1, NULL}},
     3,
     "C2=t1:1;t2:0,1,2 C1=t1:0 C0=t0:0",
     0},
    {"RoundRobinAssignor javadoc, static members: order by group.instance.id, so renamed "
     "members (C5,C3,C4 after a bounce) keep I0,I1,I2's partitions",
     "roundrobin",
     {{"C3", "t0 t1", NULL, NOGEN, "I1", NULL},
      {"C4", "t0 t1", NULL, NOGEN, "I2", NULL},
      {"C5", "t0 t1", NULL, NOGEN, "I0", NULL}},
     3,
     {{"t0", 3, NULL}, {"t1", 3, NULL}},
     2,
     "C3=t0:1;t1:1 C4=t0:2;t1:2 C5=t0:0;t1:0",
     0},

    /* ---------------- cooperative-sticky ---------------- */
    {"sticky, first assignment (constrained: equal subscriptions): members in id order take "
     "one each up to minQuota, then the first takes the maxQuota extra",
     "cooperative-sticky",
     {{"C0", "t0 t1", NULL, NOGEN, NULL, NULL},
      {"C1", "t0 t1", NULL, NOGEN, NULL, NULL},
      {"C2", "t1 t0", NULL, NOGEN, NULL, NULL}},
     3,
     {{"t0", 3, NULL}, {"t1", 4, NULL}},
     2,
     "C0=t0:0;t1:0,3 C1=t0:1;t1:1 C2=t0:2;t1:2",
     0},
    {"sticky, a member leaves (C2 of the previous case): the others keep theirs, its "
     "partitions fill them up; free partitions move at once",
     "cooperative-sticky",
     {{"C0", "t0 t1", "t0:0 t1:0,3", 5, NULL, NULL}, {"C1", "t0 t1", "t0:1 t1:1", 5, NULL, NULL}},
     2,
     {{"t0", 3, NULL}, {"t1", 4, NULL}},
     2,
     "C0=t0:0;t1:0,2,3 C1=t0:1,2;t1:1",
     0},
    {"sticky, a member joins (cooperative): C0 is over the new maxQuota and revokes t1p3; "
     "it moves to C3 only in the next rebalance, so this round withholds it",
     "cooperative-sticky",
     {{"C0", "t0 t1", "t0:0 t1:0,3", 1, NULL, NULL},
      {"C1", "t0 t1", "t0:1 t1:1", 1, NULL, NULL},
      {"C2", "t0 t1", "t0:2 t1:2", 1, NULL, NULL},
      {"C3", "t0 t1", NULL, NOGEN, NULL, NULL}},
     4,
     {{"t0", 3, NULL}, {"t1", 4, NULL}},
     2,
     "C0=t0:0;t1:0 C1=t0:1;t1:1 C2=t0:2;t1:2 C3=",
     1},
    {"sticky, the rebalance after: C0 no longer owns t1p3, so C3 gets it",
     "cooperative-sticky",
     {{"C0", "t0 t1", "t0:0 t1:0", 2, NULL, NULL},
      {"C1", "t0 t1", "t0:1 t1:1", 2, NULL, NULL},
      {"C2", "t0 t1", "t0:2 t1:2", 2, NULL, NULL},
      {"C3", "t0 t1", NULL, 2, NULL, NULL}},
     4,
     {{"t0", 3, NULL}, {"t1", 4, NULL}},
     2,
     "C0=t0:0;t1:0 C1=t0:1;t1:1 C2=t0:2;t1:2 C3=t1:3",
     0},
    {"sticky, one partition claimed by two members: the higher generation keeps it",
     "cooperative-sticky",
     {{"C0", "t0", "t0:0", 2, NULL, NULL}, {"C1", "t0", "t0:0", 3, NULL, NULL}},
     2,
     {{"t0", 2, NULL}},
     1,
     "C0=t0:1 C1=t0:0",
     0},
    {"sticky, claimed by two members: the higher generation keeps it (other order); the stale "
     "claim on t0p1 stands since nobody else claims it",
     "cooperative-sticky",
     {{"C0", "t0", "t0:0", 3, NULL, NULL}, {"C1", "t0", "t0:0,1", 2, NULL, NULL}},
     2,
     {{"t0", 2, NULL}},
     1,
     "C0=t0:0 C1=t0:1",
     0},
    {"sticky, claimed by two members of the same generation: both claims are void and the "
     "partition is treated as moving (withheld this round)",
     "cooperative-sticky",
     {{"C0", "t0", "t0:0", 3, NULL, NULL}, {"C1", "t0", "t0:0", 3, NULL, NULL}},
     2,
     {{"t0", 2, NULL}},
     1,
     "C0= C1=t0:1",
     1},
    {"sticky: which over-full member keeps maxQuota follows Java's HashMap order of member ids "
     "(b, c, Z by String.hashCode buckets), not id order; Z revokes t0p2 for c",
     "cooperative-sticky",
     {{"Z", "t0", "t0:0,1,2", 1, NULL, NULL},
      {"b", "t0", "t0:3,4,5", 1, NULL, NULL},
      {"c", "t0", "t0:6", 1, NULL, NULL}},
     3,
     {{"t0", 7, NULL}},
     1,
     "Z=t0:0,1 b=t0:3,4,5 c=t0:6",
     1},
    {"sticky, general case (different subscriptions), first assignment: topics with fewer "
     "possible members first, each partition to the least loaded member",
     "cooperative-sticky",
     {{"C0", "t0", NULL, NOGEN, NULL, NULL}, {"C1", "t0 t1", NULL, NOGEN, NULL, NULL}},
     2,
     {{"t0", 3, NULL}, {"t1", 1, NULL}},
     2,
     "C0=t0:0,1 C1=t0:2;t1:0",
     0},
    {"sticky, general case, a member leaves: the rest keep theirs and take its partitions",
     "cooperative-sticky",
     {{"C0", "t0 t1", "t0:0 t1:0", 4, NULL, NULL}, {"C1", "t0", "t0:1", 4, NULL, NULL}},
     2,
     {{"t0", 4, NULL}, {"t1", 2, NULL}},
     2,
     "C0=t0:0;t1:0,1 C1=t0:1,2,3",
     0},
    {"sticky, general case, C1 subscribes to t0 too: rebalancing moves t0p0 from C0 to C1, "
     "withheld until C0 has revoked it (computePartitionsTransferringOwnership)",
     "cooperative-sticky",
     {{"C0", "t0", "t0:0,1,2,3", 2, NULL, NULL}, {"C1", "t0 t1", "t1:0", 2, NULL, NULL}},
     2,
     {{"t0", 4, NULL}, {"t1", 1, NULL}},
     2,
     "C0=t0:1,2,3 C1=t1:0",
     1},
    {"sticky, general case, PartitionMovements: when a0 should go from m1 to m0, Java moves "
     "back a partition that went m0->m1 earlier in this pass instead: the first of that "
     "HashSet, a1 (TopicPartition hash bucket 1) before a3 (bucket 15); b0, b1 and a3 go to "
     "members that did not own them while m0 did, so they are withheld",
     "cooperative-sticky",
     {{"m0", "a b", "a:1 b:1 b:2 a:5 a:3 b:3 b:0", 1, NULL, NULL},
      {"m1", "a b", "b:1 b:3", 0, NULL, NULL},
      {"m2", "b", NULL, 1, NULL, NULL}},
     3,
     {{"a", 6, NULL}, {"b", 5, NULL}},
     2,
     "m0=a:1,5;b:2,3 m1=a:0,2,4 m2=b:4",
     3},
    {"sticky, general case, prevAssignment: a0 leaves loaded m2 for its owner of an older "
     "generation (m1) rather than the least loaded m0; m1 still lists a0, so it is not withheld "
     "(computePartitionsTransferringOwnership reads the raw owned lists)",
     "cooperative-sticky",
     {{"m0", "a", NULL, 2, NULL, NULL},
      {"m1", "a", "a:0 b:1 b:0", 1, NULL, NULL},
      {"m2", "a b", "a:0", 2, NULL, NULL}},
     3,
     {{"a", 1, NULL}, {"b", 2, NULL}},
     2,
     "m0= m1=a:0 m2=",
     2},
    {"sticky rack-aware (constrained): partitions go round robin among members on their rack",
     "cooperative-sticky",
     {{"A", "t0", NULL, NOGEN, NULL, "r1"}, {"B", "t0", NULL, NOGEN, NULL, "r2"}},
     2,
     {{"t0", 4, "r1|r1|r2|r2"}},
     1,
     "A=t0:0,1 B=t0:2,3",
     0},
    {"sticky rack-aware, general case: unassigned partitions first go to the least loaded "
     "member on a rack with a replica (without racks A would get t0p0 and t0p1)",
     "cooperative-sticky",
     {{"A", "t0", NULL, NOGEN, NULL, "r1"}, {"B", "t0 t1", NULL, NOGEN, NULL, "r2"}},
     2,
     {{"t0", 2, "r2|r1"}, {"t1", 1, "r1"}},
     2,
     "A=t0:1 B=t0:0;t1:0",
     0},
    {"sticky rack-aware: an owned partition without a replica on the member's rack is not "
     "kept; Java gives it to B at once (it never counted as revoked)",
     "cooperative-sticky",
     {{"A", "t0", "t0:0,2", 1, NULL, "r1"}, {"B", "t0", "t0:3", 1, NULL, "r2"}},
     2,
     {{"t0", 4, "r1|r1|r2|r2"}},
     1,
     "A=t0:0,1 B=t0:2,3",
     0},
};

static void table(void **state) {
    (void)state;
    char got[1024];
    int bad = 0;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const acase *k = &cases[i];
        int32_t withheld = -1;
        int rc = run(k->proto, k->m, k->nm, k->t, k->nt, got, sizeof(got), &withheld);
        if (rc || strcmp(got, k->expect) || withheld != k->withheld) {
            print_message("case %zu (%s) %s\n  want %s (withheld %d)\n  got  %s (withheld %d)\n", i,
                          k->proto, k->why, k->expect, k->withheld, got, withheld);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* Java's CooperativeStickyAssignor reads the generation from user data before v2. */
static void sticky_generation_from_user_data(void **state) {
    (void)state;
    pool pl = {.n = 0};
    const mspec ms[] = {{"C0", "t0", "t0:0", NOGEN, NULL, NULL},
                        {"C1", "t0", "t0:0", NOGEN, NULL, NULL}};
    const tspec ts[] = {{"t0", 2, NULL}};
    rill_asg_member *m = members_of(&pl, ms, 2);
    rill_asg_topic *t = topics_of(&pl, ts, 1);
    static const uint8_t gen3[] = {0, 0, 0, 3}, gen2[] = {0, 0, 0, 2, 0xff};
    rill_asg_result r;
    char got[256];

    /*
     * v1 subscriptions: each member's own generation comes from its user
     * data, but Java compares it with the other member's *subscription*
     * generation (absent: -1).  So the later member in HashMap order (C1,
     * generation 2) takes the partition from C0 (generation 3): Java's
     * result, reproduced.
     */
    m[0].user_data = gen3;
    m[0].user_data_len = 4;
    m[1].user_data = gen2;
    m[1].user_data_len = 5; /* trailing bytes are ignored */
    assert_int_equal(rill__assign("cooperative-sticky", m, 2, t, 1, &r, NULL, 0), 0);
    format(&r, got, sizeof(got));
    assert_string_equal(got, "C0=t0:1 C1=t0:0");
    rill__asg_result_free(&r);

    /* With v2 subscriptions (generation fields) the higher generation wins. */
    m[0].generation = 3;
    m[1].generation = 2;
    assert_int_equal(rill__assign("cooperative-sticky", m, 2, t, 1, &r, NULL, 0), 0);
    format(&r, got, sizeof(got));
    assert_string_equal(got, "C0=t0:0 C1=t0:1");
    rill__asg_result_free(&r);

    /* User data too short for an int32 is generation -1 for Java. */
    m[0].generation = m[1].generation = -1;
    m[0].user_data_len = 2;
    m[1].user_data = NULL;
    m[1].user_data_len = -1;
    assert_int_equal(rill__assign("cooperative-sticky", m, 2, t, 1, &r, NULL, 0), 0);
    format(&r, got, sizeof(got));
    assert_string_equal(got, "C0= C1=t0:1");
    assert_int_equal(r.nwithheld, 1);
    rill__asg_result_free(&r);
    pool_free(&pl);
}

static void bad_input(void **state) {
    (void)state;
    pool pl = {.n = 0};
    const mspec ms[] = {{"C0", "t0", NULL, NOGEN, NULL, NULL},
                        {"C0", "t0", NULL, NOGEN, NULL, NULL}};
    const tspec ts[] = {{"t0", 2, NULL}, {"t0", 3, NULL}};
    rill_asg_member *m = members_of(&pl, ms, 2);
    rill_asg_topic *t = topics_of(&pl, ts, 2);
    rill_asg_result r;
    char err[128];
    assert_int_equal(rill__assign("sticky", m, 1, t, 1, &r, err, sizeof(err)),
                     RILL_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "sticky"));
    assert_int_equal(rill__assign(NULL, m, 1, t, 1, &r, err, sizeof(err)), RILL_ERR_INVALID_ARG);
    assert_int_equal(rill__assign("range", m, 2, t, 1, &r, err, sizeof(err)), RILL_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "duplicate member"));
    assert_int_equal(rill__assign("range", m, 1, t, 2, &r, err, sizeof(err)), RILL_ERR_INVALID_ARG);
    assert_non_null(strstr(err, "duplicate topic"));
    t[1].name = "t1";
    t[1].npartitions = -1;
    assert_int_equal(rill__assign("roundrobin", m, 1, t, 2, &r, err, sizeof(err)),
                     RILL_ERR_INVALID_ARG);
    t[1].npartitions = RILL_ASSIGNOR_MAX_PARTITIONS;
    m[0].topics = (const char *const[]){"t0", "t1"};
    m[0].ntopics = 2;
    assert_int_equal(rill__assign("roundrobin", m, 1, t, 2, &r, err, sizeof(err)),
                     RILL_ERR_INVALID_ARG);
    m[1].member_id = NULL;
    assert_int_equal(rill__assign("range", m, 2, t, 1, &r, err, sizeof(err)), RILL_ERR_INVALID_ARG);
    /* No members: an empty result. */
    assert_int_equal(rill__assign("cooperative-sticky", m, 0, t, 1, &r, err, sizeof(err)), 0);
    assert_int_equal(r.nmembers, 0);
    rill__asg_result_free(&r);
    assert_true(rill__asg_protocol_known("roundrobin"));
    assert_false(rill__asg_protocol_known("sticky"));
    assert_true(rill__asg_protocol_cooperative("cooperative-sticky"));
    assert_false(rill__asg_protocol_cooperative("range"));
    pool_free(&pl);
}

/* ---- Java String order and hash ---- */

static void java_strings(void **state) {
    (void)state;
    /* Values of "...".hashCode() in Java. */
    assert_int_equal(rill__asg_jhash(""), 0);
    assert_int_equal(rill__asg_jhash("C0"), 2125);
    assert_int_equal(rill__asg_jhash("hello"), 99162322);
    /* Overflow wraps as Java int: "polygenelubricants".hashCode() == Integer.MIN_VALUE. */
    assert_int_equal(rill__asg_jhash("polygenelubricants"), INT32_MIN);
    /* Non-ASCII hashes UTF-16 units: "é" is 0xE9, "😀" is the pair D83D DE00. */
    assert_int_equal(rill__asg_jhash("\xc3\xa9"), 0xE9);
    assert_int_equal(rill__asg_jhash("\xf0\x9f\x98\x80"), 0xD83D * 31 + 0xDE00);
    assert_true(rill__asg_jcmp("C10", "C2") < 0);
    assert_true(rill__asg_jcmp("a", "ab") < 0);
    assert_true(rill__asg_jcmp("ab", "ab") == 0);
    assert_true(rill__asg_jcmp("Z", "a") < 0);
    /* UTF-16 order: U+FF5E sorts after a surrogate pair's D83D, unlike in UTF-8. */
    assert_true(rill__asg_jcmp("\xef\xbd\x9e", "\xf0\x9f\x98\x80") > 0);
    assert_true(strcmp("\xef\xbd\x9e", "\xf0\x9f\x98\x80") < 0);
}

/* ---- invariants over random groups ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(uint32_t n) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16) % n;
}

/* A failing random group, in the table's notation. */
static void dump(const char *proto, const char *err, const rill_asg_member *m, int nm,
                 const rill_asg_topic *t, int nt) {
    print_message("%s: %s\n", proto, err);
    for (int i = 0; i < nm; i++) {
        print_message("  {\"%s\", \"", m[i].member_id);
        for (int k = 0; k < m[i].ntopics; k++)
            print_message("%s%s", k ? " " : "", m[i].topics[k]);
        print_message("\", \"");
        for (int k = 0; k < m[i].nowned; k++)
            print_message("%s%s:%d", k ? " " : "", m[i].owned[k].topic, m[i].owned[k].partition);
        print_message("\", %d, %s, %s}\n", m[i].generation,
                      m[i].group_instance_id ? "inst" : "NULL", m[i].rack ? m[i].rack : "NULL");
    }
    for (int i = 0; i < nt; i++) {
        print_message("  {\"%s\", %d, \"", t[i].name, t[i].npartitions);
        for (int p = 0; t[i].partition_racks && p < t[i].npartitions; p++) {
            print_message("%s", p ? "|" : "");
            for (int k = 0; k < t[i].partition_racks[p].nracks; k++)
                print_message("%s%s", k ? "," : "", t[i].partition_racks[p].racks[k]);
        }
        print_message("\"}\n");
    }
}

static bool owns(const rill_asg_member *m, const char *topic, int32_t p) {
    for (int32_t q = 0; q < m->nowned; q++)
        if (!strcmp(m->owned[q].topic, topic) && m->owned[q].partition == p)
            return true;
    return false;
}

static void random_groups(void **state) {
    (void)state;
    static const char *names[] = {"a", "b", "c", "d", "e"};
    static const char *racks[] = {"r0", "r1", "r2"};
    const char *protos[] = {"range", "roundrobin", "cooperative-sticky"};
    /* RILL_ASSIGNOR_ITERS=N (and RILL_ASSIGNOR_SEED) for longer local runs. */
    const char *env = getenv("RILL_ASSIGNOR_ITERS");
    int iters = env ? atoi(env) : 3000;
    if ((env = getenv("RILL_ASSIGNOR_SEED")))
        rng = strtoull(env, NULL, 0) | 1;
    for (int iter = 0; iter < iters; iter++) {
        int nm = 1 + (int)rnd(6), nt = 1 + (int)rnd(5);
        rill_asg_topic t[5];
        rill_asg_racks pr[5][8];
        const char *prl[5][8][2];
        bool with_racks = rnd(3) == 0;
        for (int i = 0; i < nt; i++) {
            t[i] = (rill_asg_topic){names[i], (int32_t)rnd(9), NULL};
            for (int p = 0; p < t[i].npartitions; p++) {
                prl[i][p][0] = racks[rnd(3)];
                prl[i][p][1] = racks[rnd(3)];
                pr[i][p] = (rill_asg_racks){prl[i][p], (int32_t)rnd(3)};
            }
            if (with_racks)
                t[i].partition_racks = pr[i];
        }
        rill_asg_member m[6];
        const char *subs[6][5];
        rill_asg_tp owned[6][12];
        char ids[6][8];
        bool equal = rnd(2);
        for (int i = 0; i < nm; i++) {
            snprintf(ids[i], sizeof(ids[i]), "m%u", rnd(1000) * 10 + (unsigned)i);
            int ns = 0;
            for (int k = 0; k < 5; k++)
                if (equal ? k < 3 : rnd(2))
                    subs[i][ns++] = names[k];
            int no = (int)rnd(12);
            for (int k = 0; k < no; k++)
                owned[i][k] = (rill_asg_tp){names[rnd(5)], (int32_t)rnd(9)};
            m[i] = (rill_asg_member){ids[i],
                                     rnd(4) ? NULL : ids[i],
                                     subs[i],
                                     ns,
                                     owned[i],
                                     no,
                                     (int32_t)rnd(4) - 1,
                                     NULL,
                                     -1,
                                     with_racks && rnd(2) ? racks[rnd(3)] : NULL};
        }
        for (int pi = 0; pi < 3; pi++) {
            rill_asg_result r;
            char err[128];
            int rc = rill__assign(protos[pi], m, nm, t, nt, &r, err, sizeof(err));
            if (rc)
                dump(protos[pi], err, m, nm, t, nt);
            assert_int_equal(rc, 0);
            /* Every partition of a subscribed topic at most once, only to subscribers. */
            int seen[5][9] = {{0}}, total = 0;
            for (int i = 0; i < nm; i++) {
                const rill_asg_member_result *mr = &r.members[i];
                assert_string_equal(mr->member_id, m[i].member_id);
                for (int32_t j = 0; j < mr->ntopics; j++) {
                    int ti = 0;
                    while (ti < nt && strcmp(t[ti].name, mr->topics[j].topic.ptr))
                        ti++;
                    assert_true(ti < nt);
                    bool sub = false;
                    for (int k = 0; k < m[i].ntopics; k++)
                        sub |= !strcmp(m[i].topics[k], t[ti].name);
                    assert_true(sub);
                    for (int32_t k = 0; k < mr->topics[j].npartitions; k++) {
                        int32_t p = mr->topics[j].partitions[k];
                        assert_true(p >= 0 && p < t[ti].npartitions);
                        assert_true(k == 0 || p > mr->topics[j].partitions[k - 1]);
                        assert_int_equal(seen[ti][p]++, 0);
                        total++;
                        /*
                         * Cooperative: a partition new to a member is one no
                         * other member owns (without racks: with them Java
                         * moves partitions off mismatched racks at once).
                         */
                        if (pi == 2 && !with_racks && !owns(&m[i], t[ti].name, p))
                            for (int o = 0; o < nm; o++)
                                assert_false(o != i && owns(&m[o], t[ti].name, p));
                    }
                }
            }
            int subscribed = 0;
            for (int ti = 0; ti < nt; ti++) {
                bool any = false;
                for (int i = 0; i < nm; i++)
                    for (int k = 0; k < m[i].ntopics; k++)
                        any |= !strcmp(m[i].topics[k], t[ti].name);
                subscribed += any ? t[ti].npartitions : 0;
            }
            /* All of them, except what cooperative-sticky withholds for a round. */
            assert_int_equal(total + r.nwithheld, subscribed);
            if (pi < 2)
                assert_int_equal(r.nwithheld, 0);
            rill__asg_result_free(&r);
        }
    }
}

/* The first sticky assignment with equal subscriptions is balanced to within one. */
static void sticky_balanced(void **state) {
    (void)state;
    for (int nm = 1; nm <= 7; nm++)
        for (int np = 0; np <= 20; np++) {
            rill_asg_member m[7];
            char ids[7][4];
            const char *subs[] = {"x", "y"};
            for (int i = 0; i < nm; i++) {
                snprintf(ids[i], sizeof(ids[i]), "%c", 'A' + i * 5);
                m[i] = (rill_asg_member){ids[i], NULL, subs, 2, NULL, 0, -1, NULL, -1, NULL};
            }
            rill_asg_topic t[] = {{"x", np, NULL}, {"y", np / 3, NULL}};
            rill_asg_result r;
            assert_int_equal(rill__assign("cooperative-sticky", m, nm, t, 2, &r, NULL, 0), 0);
            int32_t lo = INT32_MAX, hi = 0, total = 0;
            for (int i = 0; i < nm; i++) {
                int32_t n = r.members[i].npartitions;
                lo = n < lo ? n : lo;
                hi = n > hi ? n : hi;
                total += n;
            }
            assert_true(hi - lo <= 1);
            assert_int_equal(total, np + np / 3);
            rill__asg_result_free(&r);
        }
}

/* ---- the embedded protocol bytes ---- */

static void assignment_bytes(void **state) {
    (void)state;
    const mspec ms[] = {{"C0", "t0 t1", NULL, NOGEN, NULL, NULL},
                        {"C1", "t0 t1", NULL, NOGEN, NULL, NULL}};
    const tspec ts[] = {{"t0", 3, NULL}, {"t1", 1, NULL}};
    pool pl = {.n = 0};
    rill_asg_member *m = members_of(&pl, ms, 2);
    rill_asg_topic *t = topics_of(&pl, ts, 2);
    rill_asg_result r;
    assert_int_equal(rill__assign("roundrobin", m, 2, t, 2, &r, NULL, 0), 0);
    /* C0 gets t0p0, t0p2; C1 gets t0p1, t1p0. */
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(rill__asg_assignment_encode(&b, 0, &r.members[0]), 0);
    static const uint8_t want[] = {0x00, 0x00,             /* version 0 */
                                   0x00, 0x00, 0x00, 0x01, /* one topic */
                                   0x00, 0x02, 't',  '0',  /* "t0" */
                                   0x00, 0x00, 0x00, 0x02, /* two partitions */
                                   0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                   0x00, 0x02, 0xff, 0xff, 0xff, 0xff}; /* null user data */
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    /* Every version decodes back to the same partitions. */
    for (int16_t ver = 0; ver <= RILL_CONSUMER_ASSIGNMENT_MAX_VER; ver++)
        for (int i = 0; i < 2; i++) {
            rill__buf_reset(&b);
            assert_int_equal(rill__asg_assignment_encode(&b, ver, &r.members[i]), 0);
            rill_arena a;
            rill__arena_init(&a, 0);
            rill_rd rd;
            rill__rd_init(&rd, b.data, b.len);
            rill_consumer_assignment d;
            assert_int_equal(rill__consumer_assignment_decode(&rd, &d, &a), 0);
            assert_int_equal(rill__rd_remain(&rd), 0);
            assert_int_equal(d.version, ver);
            assert_int_equal(d.nassigned, r.members[i].ntopics);
            assert_int_equal(d.user_data.len, -1);
            for (int32_t j = 0; j < d.nassigned; j++) {
                assert_true(rill__str_eq(d.assigned[j].topic, r.members[i].topics[j].topic.ptr));
                assert_int_equal(d.assigned[j].npartitions, r.members[i].topics[j].npartitions);
                assert_memory_equal(d.assigned[j].partitions, r.members[i].topics[j].partitions,
                                    (size_t)d.assigned[j].npartitions * 4);
            }
            rill__arena_free(&a);
        }
    rill__buf_free(&b);
    rill__asg_result_free(&r);
    pool_free(&pl);
}

static void subscription_bytes(void **state) {
    (void)state;
    const char *topics[] = {"orders", "audit"};
    const rill_asg_tp owned[] = {{"orders", 0}, {"audit", 2}, {"orders", 3}};
    rill_buf b;
    rill__buf_init(&b, 0);

    /* v0 for range: topics and null user data, nothing else. */
    assert_int_equal(rill__asg_subscription_encode(&b, 0, "range", topics, 1, NULL, 0, -1, NULL),
                     0);
    static const uint8_t v0[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 'o',
                                 'r',  'd',  'e',  'r',  's',  0xff, 0xff, 0xff, 0xff};
    assert_int_equal(b.len, sizeof(v0));
    assert_memory_equal(b.data, v0, sizeof(v0));

    /* v3 for cooperative-sticky, decoded and turned into an assignor member. */
    rill__buf_reset(&b);
    assert_int_equal(rill__asg_subscription_encode(&b, 3, "cooperative-sticky", topics, 2, owned, 3,
                                                   7, "rack-a"),
                     0);
    rill_arena a;
    rill__arena_init(&a, 0);
    rill_rd rd;
    rill__rd_init(&rd, b.data, b.len);
    rill_consumer_subscription s;
    assert_int_equal(rill__consumer_subscription_decode(&rd, &s, &a), 0);
    assert_int_equal(rill__rd_remain(&rd), 0);
    assert_int_equal(s.version, 3);
    assert_int_equal(s.ntopics, 2);
    assert_int_equal(s.generation_id, 7);
    assert_true(rill__str_eq(s.rack_id, "rack-a"));
    /* Java's CooperativeStickyAssignor user data: the generation as an int32. */
    assert_int_equal(s.user_data.len, 4);
    assert_memory_equal(s.user_data.ptr, "\x00\x00\x00\x07", 4);
    /* Owned partitions grouped by topic in first-seen order. */
    assert_int_equal(s.nowned, 2);
    assert_true(rill__str_eq(s.owned[0].topic, "orders"));
    assert_int_equal(s.owned[0].npartitions, 2);
    assert_int_equal(s.owned[0].partitions[1], 3);
    assert_true(rill__str_eq(s.owned[1].topic, "audit"));

    rill_asg_member m;
    assert_int_equal(
        rill__asg_member_from_subscription(&m, rill__str("member-1"), rill__str("inst-1"), &s, &a),
        0);
    /* The member holds copies: wipe the encoded bytes to prove it. */
    memset(b.data, 0xAA, b.len);
    assert_string_equal(m.member_id, "member-1");
    assert_string_equal(m.group_instance_id, "inst-1");
    assert_int_equal(m.ntopics, 2);
    assert_string_equal(m.topics[1], "audit");
    assert_int_equal(m.nowned, 3);
    assert_string_equal(m.owned[2].topic, "audit");
    assert_int_equal(m.owned[2].partition, 2);
    assert_int_equal(m.generation, 7);
    assert_int_equal(m.user_data_len, 4);
    assert_int_equal(m.user_data[3], 7);
    assert_string_equal(m.rack, "rack-a");

    /* It assigns: the member keeps the partitions it owns. */
    rill_asg_topic t[] = {{"orders", 4, NULL}, {"audit", 3, NULL}};
    rill_asg_result r;
    assert_int_equal(rill__assign("cooperative-sticky", &m, 1, t, 2, &r, NULL, 0), 0);
    assert_int_equal(r.members[0].npartitions, 7);
    rill__asg_result_free(&r);

    /* A v0 subscription of a dynamic member: no owned, generation -1, no rack. */
    rill__buf_reset(&b);
    assert_int_equal(rill__asg_subscription_encode(&b, 0, "cooperative-sticky", topics, 2, owned, 3,
                                                   7, "rack-a"),
                     0);
    rill__rd_init(&rd, b.data, b.len);
    assert_int_equal(rill__consumer_subscription_decode(&rd, &s, &a), 0);
    assert_int_equal(
        rill__asg_member_from_subscription(&m, rill__str("m2"), rill__str_null(), &s, &a), 0);
    assert_null(m.group_instance_id);
    assert_int_equal(m.nowned, 0);
    assert_int_equal(m.generation, -1);
    assert_null(m.rack);
    assert_int_equal(m.user_data_len, 4); /* v0 still carries the generation for old leaders */

    assert_int_equal(rill__asg_subscription_encode(&b, 4, "range", topics, 1, NULL, 0, -1, NULL),
                     -1);
    rill__arena_free(&a);
    rill__buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table),
        cmocka_unit_test(sticky_generation_from_user_data),
        cmocka_unit_test(bad_input),
        cmocka_unit_test(java_strings),
        cmocka_unit_test(random_groups),
        cmocka_unit_test(sticky_balanced),
        cmocka_unit_test(assignment_bytes),
        cmocka_unit_test(subscription_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
