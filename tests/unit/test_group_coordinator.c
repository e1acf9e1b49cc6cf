/*
 * test_group_coordinator.c -- the group coordinator driven through its API with a fake
 * clock, no sockets: join/sync generations and the leader's assignment passed through
 * byte for byte, rebalances when members come, go, or stop heartbeating, KIP-394's
 * MEMBER_ID_REQUIRED, protocol selection, static membership, LeaveGroup, offsets (also
 * across a restart on a real store), admin APIs, cancellation.  Every response is also
 * encoded with the codec at the version asked, so it must be well-formed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "broker/server/group_coordinator.h"
#include "proto/fields.h"
#include "test_storage_util.h"

static int64_t now;

static int64_t clk(void *opaque) {
    (void)opaque;
    return now;
}

static rill_gc_config test_cfg(void) {
    rill_gc_config c;
    rill__gc_config_defaults(&c);
    c.min_session_timeout_ms = 10;
    c.initial_rebalance_delay_ms = 100;
    c.clock = clk;
    return c;
}

static rill_gc *new_gc(void) {
    now = 1000000;
    rill_gc_config c = test_cfg();
    rill_gc *gc = rill__gc_new(&c);
    assert_non_null(gc);
    return gc;
}

static void tick(rill_gc *gc, int64_t to) {
    now = to;
    rill__gc_tick(gc, now);
}

/* Encodes with the codec at ver; the coordinator's answers must always be encodable. */
#define ASSERT_ENCODES(fn, ver, resp)                                                              \
    do {                                                                                           \
        rill_buf b_;                                                                               \
        rill__buf_init(&b_, 0);                                                                    \
        assert_int_equal(fn(&b_, (ver), (resp)), 0);                                               \
        assert_int_equal(b_.err, 0);                                                               \
        rill__buf_free(&b_);                                                                       \
    } while (0)

/* In a capture callback: counts a cancellation (resp NULL) and returns, or checks that the
   answer encodes and counts it. */
#define CAPTURE(c, resp, encode)                                                                   \
    do {                                                                                           \
        if (!(resp)) {                                                                             \
            (c)->cancelled++;                                                                      \
            return;                                                                                \
        }                                                                                          \
        ASSERT_ENCODES(encode, (c)->ver, resp);                                                    \
        (c)->calls++;                                                                              \
        (c)->err = (resp)->error_code;                                                             \
    } while (0)

static void cpy(char *dst, size_t cap, rill_str s) {
    size_t n = s.len > 0 ? (size_t)s.len : 0;
    assert_true(n < cap);
    if (n)
        memcpy(dst, s.ptr, n);
    dst[n] = 0;
}

/* ---- captured responses ---- */

typedef struct jres {
    int16_t ver;
    int calls, cancelled;
    int16_t err;
    int32_t gen;
    char member_id[160], leader[160], proto[64], ptype[64];
    bool skip;
    int32_t nmembers;
    char mids[8][160];
    uint8_t meta[8][64];
    int32_t metalen[8];
} jres;

static void on_join(void *ctx, const rill_join_group_resp *r) {
    jres *j = ctx;
    CAPTURE(j, r, rill__join_group_resp_encode);
    j->gen = r->generation_id;
    cpy(j->member_id, sizeof(j->member_id), r->member_id);
    cpy(j->leader, sizeof(j->leader), r->leader);
    cpy(j->proto, sizeof(j->proto), r->protocol_name);
    cpy(j->ptype, sizeof(j->ptype), r->protocol_type);
    j->skip = r->skip_assignment;
    j->nmembers = r->nmembers;
    assert_true(r->nmembers <= 8);
    for (int32_t i = 0; i < r->nmembers; i++) {
        cpy(j->mids[i], sizeof(j->mids[i]), r->members[i].member_id);
        assert_true(r->members[i].metadata.len <= 64);
        j->metalen[i] = r->members[i].metadata.len;
        if (j->metalen[i])
            memcpy(j->meta[i], r->members[i].metadata.ptr, (size_t)j->metalen[i]);
    }
}

typedef struct sres {
    int16_t ver;
    int calls, cancelled;
    int16_t err;
    uint8_t asg[64];
    int32_t len;
    char pname[64];
} sres;

static void on_sync(void *ctx, const rill_sync_group_resp *r) {
    sres *s = ctx;
    CAPTURE(s, r, rill__sync_group_resp_encode);
    assert_true(r->assignment.len >= 0 && r->assignment.len <= 64);
    s->len = r->assignment.len;
    if (s->len)
        memcpy(s->asg, r->assignment.ptr, (size_t)s->len);
    cpy(s->pname, sizeof(s->pname), r->protocol_name);
}

typedef struct proto_spec {
    const char *name;
    const char *meta;
    int32_t len;
} proto_spec;

/* Consumer-protocol metadata is opaque to the coordinator: NUL and 0xff bytes included. */
static const proto_spec RANGE_A[] = {{"range", "\x00\x01meta-A\xff", 9}};
static const proto_spec RANGE_B[] = {{"range", "\x00\x01meta-B\x00", 9}};
static const proto_spec RANGE_C[] = {{"range", "meta-C", 6}};
static const proto_spec BOTH[] = {{"range", "sr", 2}, {"roundrobin", "srr", 3}};
static const proto_spec BOTH_RR_FIRST[] = {{"roundrobin", "srr", 3}, {"range", "sr", 2}};

typedef struct jopt {
    int16_t ver;
    const char *group, *mid, *inst, *client;
    int32_t session, rebalance;
    const char *ptype;
    const proto_spec *protos;
    int nprotos;
    const void *conn;
} jopt;

static jopt jo(const char *mid, const proto_spec *protos, int nprotos) {
    jopt o = {5, "g", mid, NULL, "cli", 10000, 5000, "consumer", protos, nprotos, NULL};
    return o;
}

static void join(rill_gc *gc, const jopt *o, jres *out) {
    rill_join_group_protocol p[8];
    for (int i = 0; i < o->nprotos; i++) {
        p[i].name = rill__str(o->protos[i].name);
        p[i].metadata.ptr = (const uint8_t *)o->protos[i].meta;
        p[i].metadata.len = o->protos[i].len;
    }
    rill_join_group_req req = {0};
    req.group_id = rill__str(o->group);
    req.session_timeout_ms = o->session;
    req.rebalance_timeout_ms = o->rebalance;
    req.member_id = rill__str(o->mid);
    req.group_instance_id = rill__str(o->inst);
    req.protocol_type = rill__str(o->ptype);
    req.protocols = p;
    req.nprotocols = o->nprotos;
    req.reason = rill__str_null();
    rill_gc_client cl = {o->conn, rill__str(o->client), rill__str("/127.0.0.1")};
    memset(out, 0, sizeof(*out));
    out->ver = o->ver;
    rill__gc_join(gc, &cl, o->ver, &req, on_join, out);
}

/* A v3 JoinGroup to "g" (no MEMBER_ID_REQUIRED round trip) with one protocol. */
static void join3(rill_gc *gc, const char *mid, const proto_spec *p, jres *out) {
    jopt o = jo(mid, p, 1);
    o.ver = 3;
    join(gc, &o, out);
}

typedef struct asg_spec {
    const char *member;
    const char *bytes;
    int32_t len;
} asg_spec;

static void sync_(rill_gc *gc, int16_t ver, const char *mid, const char *inst, int32_t gen,
                  const asg_spec *a, int n, const void *conn, sres *out) {
    rill_sync_group_assignment as[8];
    for (int i = 0; i < n; i++) {
        as[i].member_id = rill__str(a[i].member);
        as[i].assignment.ptr = (const uint8_t *)a[i].bytes;
        as[i].assignment.len = a[i].len;
    }
    rill_sync_group_req req = {0};
    req.group_id = rill__str("g");
    req.generation_id = gen;
    req.member_id = rill__str(mid);
    req.group_instance_id = rill__str(inst);
    req.protocol_type = rill__str_null();
    req.protocol_name = rill__str_null();
    req.assignments = as;
    req.nassignments = n;
    rill_gc_client cl = {conn, rill__str("cli"), rill__str("/127.0.0.1")};
    memset(out, 0, sizeof(*out));
    out->ver = ver;
    rill__gc_sync(gc, &cl, ver, &req, on_sync, out);
}

static void on_hb(void *ctx, const rill_heartbeat_resp *r) {
    ASSERT_ENCODES(rill__heartbeat_resp_encode, 4, r);
    *(int *)ctx = r->error_code;
}

static int hb_inst(rill_gc *gc, const char *mid, const char *inst, int32_t gen) {
    rill_heartbeat_req req = {rill__str("g"), gen, rill__str(mid), rill__str(inst)};
    int err = -1000;
    rill__gc_heartbeat(gc, NULL, 4, &req, on_hb, &err);
    assert_int_not_equal(err, -1000);
    return err;
}

static int hb(rill_gc *gc, const char *mid, int32_t gen) { return hb_inst(gc, mid, NULL, gen); }

typedef struct lres {
    int16_t ver;
    int16_t err;
    int32_t n;
    int16_t errs[8];
} lres;

static void on_leave(void *ctx, const rill_leave_group_resp *r) {
    lres *l = ctx;
    ASSERT_ENCODES(rill__leave_group_resp_encode, l->ver, r);
    l->err = r->error_code;
    l->n = r->nmembers;
    for (int32_t i = 0; i < r->nmembers && i < 8; i++)
        l->errs[i] = r->members[i].error_code;
}

static lres leave(rill_gc *gc, int16_t ver, const char *const *mids, const char *const *insts,
                  int n) {
    rill_leave_group_member m[8];
    for (int i = 0; i < n; i++) {
        m[i].member_id = rill__str(mids[i]);
        m[i].group_instance_id = rill__str(insts ? insts[i] : NULL);
        m[i].reason = rill__str_null();
    }
    rill_leave_group_req req = {rill__str("g"), m, n};
    lres l = {.ver = ver, .err = -1000};
    rill__gc_leave(gc, NULL, ver, &req, on_leave, &l);
    assert_int_not_equal(l.err, -1000);
    return l;
}

static const char *state(rill_gc *gc) {
    const char *s = rill__gc_group_state(gc, "g");
    return s ? s : "(none)";
}

/*
 * Brings group "g" to Stable with members A (leader, client "A") and B (client "B"), both
 * supporting "range".  ida/idb receive the member ids.  Returns the generation.
 */
static int32_t stable_pair(rill_gc *gc, char *ida, char *idb, int32_t session_b) {
    jres ja, jb;
    jopt o = jo("", RANGE_A, 1);
    o.ver = 3; /* no MEMBER_ID_REQUIRED round trip */
    o.client = "A";
    join(gc, &o, &ja);
    o = jo("", RANGE_B, 1);
    o.ver = 3;
    o.client = "B";
    o.session = session_b;
    join(gc, &o, &jb);
    assert_int_equal(ja.calls + jb.calls, 0);
    tick(gc, now + 100); /* initial delay, extended once: B arrived during it */
    assert_int_equal(ja.calls, 0);
    tick(gc, now + 100);
    assert_int_equal(ja.calls, 1);
    assert_int_equal(jb.calls, 1);
    strcpy(ida, ja.member_id);
    strcpy(idb, jb.member_id);
    sres sa, sb;
    asg_spec a[] = {{ida, "asg-A", 5}, {idb, "asg-B", 5}};
    sync_(gc, 3, idb, NULL, jb.gen, NULL, 0, NULL, &sb);
    sync_(gc, 3, ida, NULL, ja.gen, a, 2, NULL, &sa);
    assert_int_equal(sa.calls + sb.calls, 2);
    assert_string_equal(state(gc), "Stable");
    return ja.gen;
}

/* ---- tests ---- */

static void two_members_join_and_sync(void **st) {
    (void)st;
    rill_gc *gc = new_gc();
    jres ja, jb;
    /* A, v5: KIP-394 handshake first. */
    jopt oa = jo("", RANGE_A, 1);
    oa.client = "client-A";
    join(gc, &oa, &ja);
    assert_int_equal(ja.calls, 1);
    assert_int_equal(ja.err, RILL_ERR_MEMBER_ID_REQUIRED);
    assert_int_equal(strncmp(ja.member_id, "client-A-", 9), 0);
    assert_int_equal(strlen(ja.member_id), 9 + 36);
    assert_int_equal(ja.member_id[9 + 14], '4'); /* uuid version 4 */
    char ida[160];
    strcpy(ida, ja.member_id);
    assert_string_equal(state(gc), "Empty");

    oa.mid = ida;
    join(gc, &oa, &ja);
    assert_int_equal(ja.calls, 0); /* waits for the join phase */
    assert_string_equal(state(gc), "PreparingRebalance");

    /* B, v3: given its id directly, joins the same phase. */
    jopt ob = jo("", RANGE_B, 1);
    ob.ver = 3;
    ob.client = "client-B";
    now += 50;
    join(gc, &ob, &jb);
    assert_int_equal(jb.calls, 0);

    /* Everyone is in, but a new group waits out its initial delay, and again since a
       member arrived during it. */
    tick(gc, 1000100);
    assert_int_equal(ja.calls + jb.calls, 0);
    assert_int_equal(rill__gc_next_timeout(gc), 1000200);
    tick(gc, 1000200);
    assert_int_equal(ja.calls, 1);
    assert_int_equal(jb.calls, 1);
    assert_int_equal(ja.err, 0);
    assert_int_equal(jb.err, 0);
    assert_int_equal(ja.gen, 1);
    assert_int_equal(jb.gen, 1);
    assert_string_equal(ja.leader, ida);
    assert_string_equal(jb.leader, ida);
    assert_string_equal(ja.proto, "range");
    assert_string_equal(ja.ptype, "consumer");
    assert_int_equal(strncmp(jb.member_id, "client-B-", 9), 0);
    /* The leader gets every member's metadata, exactly; the follower none. */
    assert_int_equal(ja.nmembers, 2);
    assert_int_equal(jb.nmembers, 0);
    assert_string_equal(ja.mids[0], ida);
    assert_string_equal(ja.mids[1], jb.member_id);
    assert_int_equal(ja.metalen[0], 9);
    assert_memory_equal(ja.meta[0], "\x00\x01meta-A\xff", 9);
    assert_int_equal(ja.metalen[1], 9);
    assert_memory_equal(ja.meta[1], "\x00\x01meta-B\x00", 9);
    assert_string_equal(state(gc), "CompletingRebalance");

    /* Follower syncs first and waits; heartbeats are fine meanwhile. */
    char idb[160];
    strcpy(idb, jb.member_id);
    sres sa, sb;
    sync_(gc, 3, idb, NULL, 1, NULL, 0, NULL, &sb);
    assert_int_equal(sb.calls, 0);
    assert_int_equal(hb(gc, ida, 1), 0);
    /* The leader's assignment reaches each member untouched. */
    static const char asg_a[] = "\x00\x03\x00\x00\x00\x01t\xff\x00";
    static const char asg_b[] = "\x01\x00\x00\x02zz";
    asg_spec a[] = {{ida, asg_a, 9}, {idb, asg_b, 6}, {"stranger", "x", 1}};
    sync_(gc, 5, ida, NULL, 1, a, 3, NULL, &sa);
    assert_int_equal(sa.calls, 1);
    assert_int_equal(sb.calls, 1);
    assert_int_equal(sa.err, 0);
    assert_int_equal(sb.err, 0);
    assert_int_equal(sa.len, 9);
    assert_memory_equal(sa.asg, asg_a, 9);
    assert_int_equal(sb.len, 6);
    assert_memory_equal(sb.asg, asg_b, 6);
    assert_string_equal(sa.pname, "range");
    assert_string_equal(state(gc), "Stable");

    /* Heartbeat errors as Kafka's. */
    assert_int_equal(hb(gc, ida, 1), 0);
    assert_int_equal(hb(gc, idb, 1), 0);
    assert_int_equal(hb(gc, ida, 0), RILL_ERR_ILLEGAL_GENERATION);
    assert_int_equal(hb(gc, "nobody", 1), RILL_ERR_UNKNOWN_MEMBER_ID);
    rill_heartbeat_req bad = {rill__str(""), 1, rill__str(ida), rill__str_null()};
    int err = 0;
    rill__gc_heartbeat(gc, NULL, 1, &bad, on_hb, &err);
    assert_int_equal(err, RILL_ERR_INVALID_GROUP_ID);

    /* A Stable member's late SyncGroup gets its assignment again. */
    sync_(gc, 1, idb, NULL, 1, NULL, 0, NULL, &sb);
    assert_int_equal(sb.calls, 1);
    assert_memory_equal(sb.asg, asg_b, 6);
    /* A wrong protocol name (v5) is INCONSISTENT_GROUP_PROTOCOL. */
    rill_sync_group_req sr = {0};
    sr.group_id = rill__str("g");
    sr.generation_id = 1;
    sr.member_id = rill__str(idb);
    sr.group_instance_id = rill__str_null();
    sr.protocol_type = rill__str("consumer");
    sr.protocol_name = rill__str("roundrobin");
    memset(&sb, 0, sizeof(sb));
    sb.ver = 5;
    rill__gc_sync(gc, NULL, 5, &sr, on_sync, &sb);
    assert_int_equal(sb.err, RILL_ERR_INCONSISTENT_GROUP_PROTOCOL);
    rill__gc_destroy(gc);
}

typedef struct dres {
    int calls;
    char state[32], ptype[32], proto[32];
    int16_t err;
    int32_t n;
    char mids[4][160], cids[4][32], hosts[4][32];
    int32_t metalen[4], asglen[4];
    uint8_t asg[4][16];
} dres;

static void on_describe(void *ctx, const rill_describe_groups_resp *r) {
    dres *d = ctx;
    ASSERT_ENCODES(rill__describe_groups_resp_encode, 5, r);
    d->calls++;
    assert_int_equal(r->ngroups, 1);
    const rill_described_group *g = &r->groups[0];
    d->err = g->error_code;
    cpy(d->state, sizeof(d->state), g->group_state);
    cpy(d->ptype, sizeof(d->ptype), g->protocol_type);
    cpy(d->proto, sizeof(d->proto), g->protocol_data);
    d->n = g->nmembers;
    for (int32_t i = 0; i < g->nmembers && i < 4; i++) {
        cpy(d->mids[i], sizeof(d->mids[i]), g->members[i].member_id);
        cpy(d->cids[i], sizeof(d->cids[i]), g->members[i].client_id);
        cpy(d->hosts[i], sizeof(d->hosts[i]), g->members[i].client_host);
        d->metalen[i] = g->members[i].member_metadata.len;
        d->asglen[i] = g->members[i].member_assignment.len;
        if (d->asglen[i] > 0)
            memcpy(d->asg[i], g->members[i].member_assignment.ptr, (size_t)d->asglen[i]);
    }
}

static dres describe(rill_gc *gc, const char *group) {
    rill_str ids[1] = {rill__str(group)};
    rill_describe_groups_req req = {ids, 1, false};
    dres d;
    memset(&d, 0, sizeof(d));
    rill__gc_describe(gc, NULL, 5, &req, on_describe, &d);
    assert_int_equal(d.calls, 1);
    return d;
}

static void describe_groups(void **st) {
    (void)st;
    rill_gc *gc = new_gc();
    char ida[160], idb[160];
    stable_pair(gc, ida, idb, 10000);
    dres d = describe(gc, "g");
    assert_int_equal(d.err, 0);
    assert_string_equal(d.state, "Stable");
    assert_string_equal(d.ptype, "consumer");
    assert_string_equal(d.proto, "range");
    assert_int_equal(d.n, 2);
    assert_string_equal(d.mids[0], ida);
    assert_string_equal(d.cids[0], "A");
    assert_string_equal(d.hosts[0], "/127.0.0.1");
    assert_int_equal(d.metalen[0], 9);
    assert_int_equal(d.asglen[1], 5);
    assert_memory_equal(d.asg[1], "asg-B", 5);
    /* While rebalancing the metadata and assignments are not shown. */
    jres jc;
    join3(gc, "", RANGE_C, &jc);
    d = describe(gc, "g");
    assert_string_equal(d.state, "PreparingRebalance");
    assert_string_equal(d.proto, "");
    assert_int_equal(d.n, 3);
    assert_int_equal(d.metalen[0], 0);
    assert_int_equal(d.asglen[1], 0);
    /* Unknown groups are Dead with no error (v0-5). */
    d = describe(gc, "other");
    assert_int_equal(d.err, 0);
    assert_string_equal(d.state, "Dead");
    assert_int_equal(d.n, 0);
    rill__gc_destroy(gc);
}

static void third_member_rebalances(void **st) {
    (void)st;
    rill_gc *gc = new_gc();
    char ida[160], idb[160];
    int32_t gen = stable_pair(gc, ida, idb, 10000);
    jres ja, jb, jc;
    jopt oc = jo("", RANGE_C, 1);
    oc.ver = 3;
    oc.client = "C";
    join(gc, &oc, &jc);
    assert_int_equal(jc.calls, 0);
    assert_string_equal(state(gc), "PreparingRebalance");
    /* The others learn it from their heartbeats... */
    assert_int_equal(hb(gc, ida, gen), RILL_ERR_REBALANCE_IN_PROGRESS);
    assert_int_equal(hb(gc, idb, gen), RILL_ERR_REBALANCE_IN_PROGRESS);
    /* ...commits still work in PreparingRebalance (checked in offsets tests), and a
       SyncGroup now is refused. */
    sres s;
    sync_(gc, 3, idb, NULL, gen, NULL, 0, NULL, &s);
    assert_int_equal(s.err, RILL_ERR_REBALANCE_IN_PROGRESS);
    /* ...and rejoin; the phase ends as soon as all have (no initial delay any more). */
    join3(gc, ida, RANGE_A, &ja);
    assert_int_equal(ja.calls, 0);
    join3(gc, idb, RANGE_B, &jb);
    assert_int_equal(ja.calls, 1);
    assert_int_equal(jb.calls, 1);
    assert_int_equal(jc.calls, 1);
    assert_int_equal(ja.gen, gen + 1);
    assert_int_equal(jc.gen, gen + 1);
    assert_string_equal(jc.leader, ida); /* the leader keeps its role */
    assert_int_equal(ja.nmembers, 3);
    assert_string_equal(ja.mids[2], jc.member_id);
    assert_memory_equal(ja.meta[2], "meta-C", 6);
    /* The old generation is now illegal. */
    assert_int_equal(hb(gc, ida, gen), RILL_ERR_ILLEGAL_GENERATION);
    assert_int_equal(hb(gc, jc.member_id, gen + 1), 0);
    rill__gc_destroy(gc);
}

static void session_timeout_expels(void **st) {
    (void)st;
    rill_gc *gc = new_gc();
    char ida[160], idb[160];
    int32_t gen = stable_pair(gc, ida, idb, 3000);
    int64_t t0 = now;
    /* B's session (3000) is the next deadline; A (10000) keeps heartbeating, B does not. */
    assert_int_equal(rill__gc_next_timeout(gc), t0 + 3000);
    for (int i = 1; i <= 4; i++) {
        tick(gc, t0 + i * 1000 - 1);
        assert_int_equal(hb(gc, ida, gen), i <= 3 ? 0 : RILL_ERR_REBALANCE_IN_PROGRESS);
        if (i == 2)
            assert_string_equal(state(gc), "Stable");
        tick(gc, t0 + i * 1000);
    }
    /* B was expelled at t0+3000 and a rebalance started. */
    assert_string_equal(state(gc), "PreparingRebalance");
    assert_int_equal(hb(gc, idb, gen), RILL_ERR_UNKNOWN_MEMBER_ID);
    jres ja;
    join3(gc, ida, RANGE_A, &ja);
    assert_int_equal(ja.calls, 1);
    assert_int_equal(ja.gen, gen + 1);
    assert_int_equal(ja.nmembers, 1);
    assert_string_equal(state(gc), "CompletingRebalance");
    rill__gc_destroy(gc);
}

static void rebalance_timeout_removes_laggards(void **st) {
    (void)st;
    rill_gc *gc = new_gc();
    char ida[160], idb[160];
    int32_t gen = stable_pair(gc, ida, idb, 10000);
    int64_t t0 = now;
    /* The leader rejoining forces a rebalance; B heartbeats but never rejoins. */
    jres ja;
    join3(gc, ida, RANGE_A, &ja);
    assert_string_equal(state(gc), "PreparingRebalance");
    tick(gc, t0 + 4999);
    assert_int_equal(hb(gc, idb, gen), RILL_ERR_REBALANCE_IN_PROGRESS);
    assert_int_equal(ja.calls, 0);
    tick(gc, t0 + 5000); /* the rebalance timeout */
    assert_int_equal(ja.calls, 1);
    assert_int_equal(ja.gen, gen + 1);
    assert_int_equal(ja.nmembers, 1);
    assert_int_equal(hb(gc, idb, gen), RILL_ERR_UNKNOWN_MEMBER_ID);

    /* The leader never sends SyncGroup: removed after the rebalance timeout. */
    tick(gc, t0 + 10000);
    assert_int_equal(hb(gc, ida, gen + 1), RILL_ERR_UNKNOWN_MEMBER_ID);
    assert_string_equal(state(gc), "Empty");
    rill__gc_destroy(gc);
}

static void member_id_required(void **st) {
    (void)st;
    rill_gc *gc = new_gc();
    jres j;
    /* A member id the coordinator never gave, for a group it does not know. */
    jopt o = jo("made-up", RANGE_A, 1);
    join(gc, &o, &j);
    assert_int_equal(j.err, RILL_ERR_UNKNOWN_MEMBER_ID);
    assert_string_equal(j.member_id, "made-up");
    assert_null(rill__gc_group_state(gc, "g"));

    /* v4+: error 79 with an id to come back with; nothing joined yet. */
    o = jo("", RANGE_A, 1);
    o.ver = 4;
    join(gc, &o, &j);
    assert_int_equal(j.err, RILL_ERR_MEMBER_ID_REQUIRED);
    assert_int_equal(j.gen, -1);
    char id1[160];
    strcpy(id1, j.member_id);
    assert_int_equal(strncmp(id1, "cli-", 4), 0);
    assert_string_equal(state(gc), "Empty");
    o.mid = id1;
    join(gc, &o, &j);
    assert_int_equal(j.calls, 0);
    tick(gc, now + 100); /* the initial delay */
    assert_int_equal(j.calls, 1);
    assert_int_equal(j.err, 0);
    assert_string_equal(j.member_id, id1);
    sres s;
    sync_(gc, 4, id1, NULL, 1, NULL, 0, NULL, &s);
    assert_string_equal(state(gc), "Stable");

    /* Another handshake hands out id2 (pending for its session timeout, 2000); a
       rebalance then waits for it, as it may be about to join... */
    jres j2;
    o = jo("", RANGE_B, 1);
    o.session = 2000;
    int64_t t0 = now;
    join(gc, &o, &j2);
    assert_int_equal(j2.err, RILL_ERR_MEMBER_ID_REQUIRED);
    char id2[160];
    strcpy(id2, j2.member_id);
    assert_string_not_equal(id2, id1);
    assert_string_equal(state(gc), "Stable");
    o = jo(id1, RANGE_A, 1);
    join(gc, &o, &j); /* the leader rejoins: rebalance */
    assert_string_equal(state(gc), "PreparingRebalance");
    tick(gc, t0 + 1999);
    assert_int_equal(j.calls, 0);
    /* ...until the pending id expires. */
    assert_int_equal(rill__gc_next_timeout(gc), t0 + 2000);
    tick(gc, t0 + 2000);
    assert_int_equal(j.calls, 1);
    assert_int_equal(j.gen, 2);
    assert_int_equal(j.nmembers, 1);
    o = jo(id2, RANGE_B, 1);
    join(gc, &o, &j2);
    assert_int_equal(j2.err, RILL_ERR_UNKNOWN_MEMBER_ID);

    /* v0-3 get an id directly; a bad session timeout is refused first. */
    o = jo("", RANGE_B, 1);
    o.ver = 0;
    o.rebalance = -1;
    o.session = 5;
    join(gc, &o, &j);
    assert_int_equal(j.err, RILL_ERR_INVALID_SESSION_TIMEOUT);
    o.session = 4000000;
    join(gc, &o, &j);
    assert_int_equal(j.err, RILL_ERR_INVALID_SESSION_TIMEOUT);
    o.session = 3000;
    join(gc, &o, &j);
    assert_int_equal(j.calls, 0); /* joined; a rebalance started */
    assert_string_equal(state(gc), "PreparingRebalance");
    /* An empty group id is INVALID_GROUP_ID. */
    jres je;
    o.group = "";
    join(gc, &o, &je);
    assert_int_equal(je.err, RILL_ERR_INVALID_GROUP_ID);
    rill__gc_destroy(gc);
    /* Destroying answers the pending join as cancelled. */
    assert_int_equal(j.cancelled, 1);
}

static const proto_spec RR_RANGE[] = {{"roundrobin", "rr", 2}, {"range", "r", 1}};
static const proto_spec RANGE_RR[] = {{"range", "r", 1}, {"roundrobin", "rr", 2}};
static const proto_spec ONLY_RANGE[] = {{"range", "r", 1}};
static const proto_spec ONLY_STICKY[] = {{"cooperative-sticky", "s", 1}};

/* Joins members with the given protocol lists (v3) and returns the chosen protocol. */
static void vote(const proto_spec *const *lists, const int *lens, int n, char *chosen) {
    rill_gc *gc = new_gc();
    jres j[4];
    for (int i = 0; i < n; i++) {
        jopt o = jo("", lists[i], lens[i]);
        o.ver = 3;
        join(gc, &o, &j[i]);
        assert_int_equal(j[i].calls, 0);
    }
    tick(gc, now + 100);
    tick(gc, now + 100);
    tick(gc, now + 100);
    assert_int_equal(j[0].calls, 1);
    assert_int_equal(j[0].err, 0);
    strcpy(chosen, j[0].proto);
    for (int i = 1; i < n; i++)
        assert_string_equal(j[i].proto, chosen);
    /* The leader sees each member's metadata for the chosen protocol only. */
    for (int i = 0; i < n; i++)
        for (int k = 0; k < lens[i]; k++)
            if (strcmp(lists[i][k].name, chosen) == 0)
                assert_memory_equal(j[0].meta[i], lists[i][k].meta, (size_t)lists[i][k].len);
    rill__gc_destroy(gc);
}

static void protocol_selection(void **st) {
    (void)st;
    char chosen[64];
    /* Only "range" is common to all. */
    const proto_spec *l1[] = {RR_RANGE, RANGE_RR, ONLY_RANGE};
    int n1[] = {2, 2, 1};
    vote(l1, n1, 3, chosen);
    assert_string_equal(chosen, "range");
    /* Both common; the first choices vote 2:1 for roundrobin. */
    const proto_spec *l2[] = {RR_RANGE, RR_RANGE, RANGE_RR};
    int n2[] = {2, 2, 2};
    vote(l2, n2, 3, chosen);
    assert_string_equal(chosen, "roundrobin");
    const proto_spec *l3[] = {RANGE_RR, RR_RANGE, RANGE_RR};
    vote(l3, n2, 3, chosen);
    assert_string_equal(chosen, "range");

    /* Nothing in common with the members: INCONSISTENT_GROUP_PROTOCOL. */
    rill_gc *gc = new_gc();
    char ida[160], idb[160];
    stable_pair(gc, ida, idb, 10000);
    jres j;
    jopt o = jo("", ONLY_STICKY, 1);
    join(gc, &o, &j);
    assert_int_equal(j.err, RILL_ERR_INCONSISTENT_GROUP_PROTOCOL);
    assert_string_equal(j.member_id, "");
    /* Another protocol type. */
    o = jo("", ONLY_RANGE, 1);
    o.ptype = "connect";
    join(gc, &o, &j);
    assert_int_equal(j.err, RILL_ERR_INCONSISTENT_GROUP_PROTOCOL);
    /* A member switching to a protocol nobody else has. */
    o = jo(idb, ONLY_STICKY, 1);
    join(gc, &o, &j);
    assert_int_equal(j.err, RILL_ERR_INCONSISTENT_GROUP_PROTOCOL);
    assert_string_equal(state(gc), "Stable");
    /* An empty group needs a type and at least one protocol. */
    o = jo("", ONLY_RANGE, 0);
    o.group = "h";
    join(gc, &o, &j);
    assert_int_equal(j.err, RILL_ERR_INCONSISTENT_GROUP_PROTOCOL);
    o = jo("", ONLY_RANGE, 1);
    o.group = "h";
    o.ptype = "";
    join(gc, &o, &j);
    assert_int_equal(j.err, RILL_ERR_INCONSISTENT_GROUP_PROTOCOL);
    rill__gc_destroy(gc);
}

/* Static members "ia" (leader) and "ib", Stable. */
static int32_t static_pair(rill_gc *gc, char *ida, char *idb) {
    jres ja, jb;
    jopt o = jo("", BOTH, 2);
    o.inst = "ia";
    join(gc, &o, &ja); /* v5 static: no MEMBER_ID_REQUIRED */
    assert_int_equal(ja.calls, 0);
    o = jo("", BOTH, 2);
    o.inst = "ib";
    join(gc, &o, &jb);
    tick(gc, now + 100);
    tick(gc, now + 100);
    assert_int_equal(ja.calls + jb.calls, 2);
    assert_int_equal(strncmp(ja.member_id, "ia-", 3), 0); /* Kafka prefixes the instance id */
    strcpy(ida, ja.member_id);
    strcpy(idb, jb.member_id);
    sres sa, sb;
    asg_spec a[] = {{ida, "asg-A", 5}, {idb, "asg-B", 5}};
    sync_(gc, 3, idb, "ib", ja.gen, NULL, 0, NULL, &sb);
    sync_(gc, 3, ida, "ia", ja.gen, a, 2, NULL, &sa);
    assert_string_equal(state(gc), "Stable");
    return ja.gen;
}

static void static_member_rejoin(void **st) {
    (void)st;
    rill_gc *gc = new_gc();
    char ida[160], idb[160];
    int32_t gen = static_pair(gc, ida, idb);
    /* A restarts: it rejoins without its member id; no rebalance. */
    jres j;
    jopt o = jo("", BOTH, 2);
    o.inst = "ia";
    join(gc, &o, &j);
    assert_int_equal(j.calls, 1);
    assert_int_equal(j.err, 0);
    assert_int_equal(j.gen, gen);
    assert_string_not_equal(j.member_id, ida);
    /* Before v9 it is told the old leader id, so it does not reassign. */
    assert_string_equal(j.leader, ida);
    assert_int_equal(j.nmembers, 0);
    assert_string_equal(state(gc), "Stable");
    char ida2[160];
    strcpy(ida2, j.member_id);
    /* The old incarnation is fenced; the new one is the member. */
    assert_int_equal(hb_inst(gc, ida, "ia", gen), RILL_ERR_FENCED_INSTANCE_ID);
    assert_int_equal(hb_inst(gc, ida2, "ia", gen), 0);
    assert_int_equal(hb_inst(gc, ida2, NULL, gen), 0);
    assert_int_equal(hb_inst(gc, idb, "ib", gen), 0);
    assert_int_equal(hb_inst(gc, ida2, "nope", gen), RILL_ERR_UNKNOWN_MEMBER_ID);
    /* It keeps its assignment. */
    sres s;
    sync_(gc, 3, ida2, "ia", gen, NULL, 0, NULL, &s);
    assert_int_equal(s.err, 0);
    assert_memory_equal(s.asg, "asg-A", 5);
    jres jf;
    o = jo(ida, BOTH, 2);
    o.inst = "ia";
    join(gc, &o, &jf);
    assert_int_equal(jf.err, RILL_ERR_FENCED_INSTANCE_ID);

    /* v9: the leader learns it leads, but skips the assignment. */
    o = jo("", BOTH, 2);
    o.inst = "ia";
    o.ver = 9;
    join(gc, &o, &j);
    assert_int_equal(j.err, 0);
    assert_string_equal(j.leader, j.member_id);
    assert_true(j.skip);
    assert_int_equal(j.nmembers, 2);
    assert_string_equal(state(gc), "Stable");

    /* B restarts preferring roundrobin: the vote ties, range stays: no rebalance. */
    o = jo("", BOTH_RR_FIRST, 2);
    o.inst = "ib";
    join(gc, &o, &j);
    assert_int_equal(j.calls, 1);
    assert_string_equal(state(gc), "Stable");
    /* A too: roundrobin would now win, so the group rebalances. */
    o = jo("", BOTH_RR_FIRST, 2);
    o.inst = "ia";
    join(gc, &o, &j);
    assert_int_equal(j.calls, 0);
    assert_string_equal(state(gc), "PreparingRebalance");
    rill__gc_destroy(gc);
    assert_int_equal(j.cancelled, 1);
}

static void leave_group(void **st) {
    (void)st;
    rill_gc *gc = new_gc();
    char ida[160], idb[160];
    int32_t gen = stable_pair(gc, ida, idb, 10000);
    /* v1: B leaves; the group rebalances. */
    const char *mb[] = {idb};
    lres l = leave(gc, 1, mb, NULL, 1);
    assert_int_equal(l.err, 0);
    assert_string_equal(state(gc), "PreparingRebalance");
    assert_int_equal(hb(gc, ida, gen), RILL_ERR_REBALANCE_IN_PROGRESS);
    /* v0: an unknown member's error is the top-level one. */
    l = leave(gc, 0, mb, NULL, 1);
    assert_int_equal(l.err, RILL_ERR_UNKNOWN_MEMBER_ID);
    jres ja;
    join3(gc, ida, RANGE_A, &ja);
    assert_int_equal(ja.calls, 1);
    assert_int_equal(ja.gen, gen + 1);
    assert_int_equal(ja.nmembers, 1);
    /* v3 batch: per-member errors, top-level none; the group empties. */
    const char *batch[] = {ida, "ghost"};
    l = leave(gc, 3, batch, NULL, 2);
    assert_int_equal(l.err, 0);
    assert_int_equal(l.n, 2);
    assert_int_equal(l.errs[0], 0);
    assert_int_equal(l.errs[1], RILL_ERR_UNKNOWN_MEMBER_ID);
    assert_string_equal(state(gc), "Empty");
    rill__gc_destroy(gc);

    /* Static members: removal by group.instance.id alone; a stale member id is fenced. */
    gc = new_gc();
    static_pair(gc, ida, idb);
    const char *ids[] = {"", "stale"};
    const char *insts[] = {"ib", "ia"};
    l = leave(gc, 4, ids, insts, 2);
    assert_int_equal(l.err, 0);
    assert_int_equal(l.errs[0], 0);
    assert_int_equal(l.errs[1], RILL_ERR_FENCED_INSTANCE_ID);
    assert_string_equal(state(gc), "PreparingRebalance");
    rill__gc_destroy(gc);
}

/* ---- offsets ---- */

typedef struct cres {
    int calls, cancelled;
    int32_t n;
    int16_t errs[8];
} cres;

static void on_commit(void *ctx, const rill_offset_commit_resp *r) {
    cres *c = ctx;
    if (!r) {
        c->cancelled++;
        return;
    }
    ASSERT_ENCODES(rill__offset_commit_resp_encode, 8, r);
    c->calls++;
    c->n = 0;
    for (int32_t i = 0; i < r->ntopics; i++)
        for (int32_t k = 0; k < r->topics[i].npartitions && c->n < 8; k++)
            c->errs[c->n++] = r->topics[i].partitions[k].error_code;
}

static void commit(rill_gc *gc, const char *group, int32_t gen, const char *mid, const char *topic,
                   int32_t partition, int64_t offset, const char *meta, cres *out) {
    rill_offset_commit_req_partition p = {partition, offset, 7, -1, rill__str(meta)};
    rill_offset_commit_req_topic t = {rill__str(topic), &p, 1};
    rill_offset_commit_req req = {0};
    req.group_id = rill__str(group);
    req.generation_id = gen;
    req.member_id = rill__str(mid);
    req.group_instance_id = rill__str_null();
    req.retention_time_ms = -1;
    req.topics = &t;
    req.ntopics = 1;
    memset(out, 0, sizeof(*out));
    rill__gc_offset_commit(gc, NULL, 8, &req, on_commit, out);
}

typedef struct fres {
    int calls;
    int16_t err;
    int32_t n;
    char topics[8][32];
    int32_t parts[8];
    int64_t offs[8];
    int32_t epochs[8];
    char metas[8][32];
} fres;

static void on_fetch(void *ctx, const rill_offset_fetch_resp *r) {
    fres *f = ctx;
    ASSERT_ENCODES(rill__offset_fetch_resp_encode, 7, r);
    f->calls++;
    assert_int_equal(r->ngroups, 1);
    f->err = r->groups[0].error_code;
    f->n = 0;
    for (int32_t i = 0; i < r->groups[0].ntopics; i++) {
        const rill_offset_fetch_resp_topic *t = &r->groups[0].topics[i];
        for (int32_t k = 0; k < t->npartitions && f->n < 8; k++) {
            cpy(f->topics[f->n], 32, t->name);
            f->parts[f->n] = t->partitions[k].partition;
            f->offs[f->n] = t->partitions[k].committed_offset;
            f->epochs[f->n] = t->partitions[k].committed_leader_epoch;
            cpy(f->metas[f->n], 32, t->partitions[k].metadata);
            f->n++;
        }
    }
}

/* topic NULL: every committed offset (a null topic list); else partitions 0..nparts-1. */
static fres fetch(rill_gc *gc, const char *group, const char *topic, int32_t nparts) {
    int32_t parts[8];
    for (int32_t i = 0; i < nparts; i++)
        parts[i] = i;
    rill_offset_fetch_req_topic t = {rill__str(topic), parts, nparts};
    rill_offset_fetch_req_group g = {rill__str(group), rill__str_null(), -1, topic ? &t : NULL,
                                     topic ? 1 : -1};
    rill_offset_fetch_req req = {&g, 1, false};
    fres f;
    memset(&f, 0, sizeof(f));
    rill__gc_offset_fetch(gc, NULL, 7, &req, on_fetch, &f);
    assert_int_equal(f.calls, 1);
    return f;
}

static int only_topic_t(void *opaque, const char *topic, int32_t partition) {
    (void)opaque;
    return (strcmp(topic, "t") == 0 || strcmp(topic, "s") == 0) && partition < 4;
}

/* A config on a file-backed offsets store (path, in a new directory *dir) opened in *o. */
static rill_gc_config store_cfg(char **dir, char path[512], rill_offsets **o) {
    *dir = tdir_new();
    assert_non_null(*dir);
    snprintf(path, 512, "%s/offsets.log", *dir);
    assert_int_equal(rill__offsets_open(path, NULL, o), 0);
    rill_gc_config c = test_cfg();
    c.offsets = *o;
    c.partition_exists = only_topic_t;
    now = 5000;
    return c;
}

/*
 * External sync (rill-broker's flusher thread): held commits are tagged with the number of
 * the sync that covers them and answered when it is done, in order; a failed sync answers
 * NOT_COORDINATOR (retriable).  The coordinator's own tick and timeout leave them alone.
 */
static void offsets_external_sync(void **st) {
    (void)st;
    char *dir, path[512];
    rill_offsets *o;
    rill_gc_config c = store_cfg(&dir, path, &o);
    c.external_sync = 1;
    rill_gc *gc = rill__gc_new(&c);

    cres a, b, d;
    commit(gc, "ext", -1, "", "t", 0, 1, NULL, &a);
    assert_int_equal(rill__gc_commits_waiting(gc), 1);
    assert_true(rill__gc_next_timeout(gc) > now); /* nothing for the loop to spin on */
    rill__gc_tick(gc, now);
    assert_int_equal(a.calls, 0);
    rill__gc_commits_tag(gc, 1);
    assert_int_equal(rill__gc_commits_waiting(gc), 0);
    commit(gc, "ext", -1, "", "t", 1, 2, NULL, &b);
    assert_int_equal(rill__gc_commits_waiting(gc), 1);
    rill__gc_commits_tag(gc, 2);

    rill__gc_commits_release(gc, 0, RILL_ERR_NO_ERROR);
    assert_int_equal(a.calls + b.calls, 0);
    rill__gc_commits_release(gc, 1, RILL_ERR_NO_ERROR);
    assert_int_equal(a.calls, 1);
    assert_int_equal(a.errs[0], 0);
    assert_int_equal(b.calls, 0);
    rill__gc_commits_release(gc, 2, RILL_ERR_KAFKA_STORAGE_ERROR);
    assert_int_equal(b.calls, 1);
    assert_int_equal(b.errs[0], RILL_ERR_NOT_COORDINATOR);

    /* Not yet tagged: no release answers it; the coordinator's end cancels it. */
    commit(gc, "ext", -1, "", "t", 2, 3, NULL, &d);
    rill__gc_commits_release(gc, 99, RILL_ERR_NO_ERROR);
    assert_int_equal(d.calls, 0);
    rill__gc_destroy(gc);
    assert_int_equal(d.cancelled, 1);
    rill__offsets_close(o);
    tdir_rm(dir);
}

static void offsets_commit_fetch_restart(void **st) {
    (void)st;
    char *dir, path[512];
    rill_offsets *o;
    rill_gc_config c = store_cfg(&dir, path, &o);
    rill_gc *gc = rill__gc_new(&c);

    /* A consumer with manual assignment (generation -1) commits to a new group; the answer
       waits for the sync. */
    cres cr, cr2;
    commit(gc, "simple", -1, "", "t", 1, 42, "hello", &cr);
    assert_int_equal(cr.calls, 0);
    assert_int_equal(rill__gc_commits_waiting(gc), 1);
    commit(gc, "simple", -1, "", "t", 0, 7, NULL, &cr2);
    assert_int_equal(rill__gc_commits_waiting(gc), 2);
    assert_int_equal(rill__gc_next_timeout(gc), now);
    assert_int_equal(rill__offsets_dirty(o), 1);
    assert_int_equal(rill__gc_flush(gc), 0);
    assert_int_equal(rill__gc_commits_waiting(gc), 0);
    assert_int_equal(cr.calls, 1);
    assert_int_equal(cr.errs[0], 0);
    assert_int_equal(cr2.calls, 1);
    assert_int_equal(cr2.errs[0], 0);
    assert_int_equal(rill__offsets_dirty(o), 0);
    assert_string_equal(rill__gc_group_state(gc, "simple"), "Empty");

    /* Unknown partitions, oversized metadata, and nothing written: answered at once. */
    commit(gc, "simple", -1, "", "nope", 0, 1, NULL, &cr);
    assert_int_equal(cr.calls, 1);
    assert_int_equal(cr.errs[0], RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    char big[RILL_OFFSETS_METADATA_MAX + 2];
    memset(big, 'm', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    commit(gc, "simple", -1, "", "t", 2, 1, big, &cr);
    assert_int_equal(cr.calls, 1);
    assert_int_equal(cr.errs[0], RILL_ERR_OFFSET_METADATA_TOO_LARGE);
    commit(gc, "", -1, "", "t", 2, 1, NULL, &cr);
    assert_int_equal(cr.errs[0], RILL_ERR_INVALID_GROUP_ID);
    /* A generation for a group the coordinator does not know. */
    commit(gc, "unknown", 3, "m", "t", 0, 1, NULL, &cr);
    assert_int_equal(cr.errs[0], RILL_ERR_ILLEGAL_GENERATION);

    fres f = fetch(gc, "simple", "t", 3);
    assert_int_equal(f.err, 0);
    assert_int_equal(f.n, 3);
    assert_int_equal(f.offs[0], 7);
    assert_string_equal(f.metas[0], ""); /* null metadata is stored as "" */
    assert_int_equal(f.offs[1], 42);
    assert_int_equal(f.epochs[1], 7);
    assert_string_equal(f.metas[1], "hello");
    assert_int_equal(f.offs[2], -1); /* never committed */
    assert_int_equal(f.epochs[2], -1);
    f = fetch(gc, "nobody", "t", 1);
    assert_int_equal(f.err, 0);
    assert_int_equal(f.offs[0], -1);

    /* Members of a group commit with their generation. */
    char ida[160], idb[160];
    int32_t gen = stable_pair(gc, ida, idb, 10000);
    commit(gc, "g", gen, ida, "t", 3, 100, NULL, &cr);
    assert_int_equal(cr.calls, 0);
    rill__gc_tick(gc, now); /* the tick flushes too */
    assert_int_equal(cr.calls, 1);
    assert_int_equal(cr.errs[0], 0);
    commit(gc, "g", gen + 1, ida, "t", 3, 101, NULL, &cr);
    assert_int_equal(cr.errs[0], RILL_ERR_ILLEGAL_GENERATION);
    commit(gc, "g", gen, "ghost", "t", 3, 101, NULL, &cr);
    assert_int_equal(cr.errs[0], RILL_ERR_UNKNOWN_MEMBER_ID);
    commit(gc, "g", -1, "", "t", 3, 101, NULL, &cr);
    assert_int_equal(cr.errs[0], RILL_ERR_UNKNOWN_MEMBER_ID);
    /* PreparingRebalance still accepts commits; CompletingRebalance does not. */
    jres jc, ja, jb;
    join3(gc, "", RANGE_C, &jc);
    commit(gc, "g", gen, idb, "t", 2, 55, NULL, &cr);
    rill__gc_flush(gc);
    assert_int_equal(cr.calls, 1);
    assert_int_equal(cr.errs[0], 0);
    join3(gc, ida, RANGE_A, &ja);
    join3(gc, idb, RANGE_B, &jb);
    assert_string_equal(state(gc), "CompletingRebalance");
    commit(gc, "g", gen + 1, ida, "t", 3, 102, NULL, &cr);
    assert_int_equal(cr.errs[0], RILL_ERR_REBALANCE_IN_PROGRESS);
    rill__gc_flush(gc);

    /* Every offset of a group (v2+ null topics), sorted. */
    commit(gc, "simple", -1, "", "s", 0, 9, NULL, &cr);
    rill__gc_flush(gc);
    f = fetch(gc, "simple", NULL, 0);
    assert_int_equal(f.n, 3);
    assert_string_equal(f.topics[0], "s");
    assert_string_equal(f.topics[1], "t");
    assert_int_equal(f.parts[1], 0);
    assert_int_equal(f.parts[2], 1);
    assert_int_equal(f.offs[2], 42);
    assert_int_equal(f.offs[0], 9);
    rill__gc_destroy(gc);
    assert_int_equal(rill__offsets_close(o), 0);

    /* Restart: the groups come back Empty with their offsets. */
    assert_int_equal(rill__offsets_open(path, NULL, &o), 0);
    c.offsets = o;
    gc = rill__gc_new(&c);
    assert_string_equal(rill__gc_group_state(gc, "simple"), "Empty");
    assert_string_equal(rill__gc_group_state(gc, "g"), "Empty");
    f = fetch(gc, "simple", "t", 2);
    assert_int_equal(f.offs[0], 7);
    assert_int_equal(f.offs[1], 42);
    assert_string_equal(f.metas[1], "hello");
    f = fetch(gc, "g", "t", 4);
    assert_int_equal(f.offs[2], 55);
    assert_int_equal(f.offs[3], 100);
    rill__gc_destroy(gc);
    assert_int_equal(rill__offsets_close(o), 0);
    tdir_rm(dir);
}

/* ---- admin ---- */

typedef struct delres {
    int16_t errs[4];
} delres;

static void on_delete(void *ctx, const rill_delete_groups_resp *r) {
    ASSERT_ENCODES(rill__delete_groups_resp_encode, 2, r);
    for (int32_t i = 0; i < r->nresults && i < 4; i++)
        ((delres *)ctx)->errs[i] = r->results[i].error_code;
}

static delres del(rill_gc *gc, const char *a, const char *b) {
    rill_str ids[2] = {rill__str(a), rill__str(b)};
    rill_delete_groups_req req = {ids, b ? 2 : 1};
    delres d;
    memset(&d, 0xff, sizeof(d));
    rill__gc_delete(gc, NULL, 2, &req, on_delete, &d);
    return d;
}

typedef struct listres {
    int32_t n;
    char ids[4][32];
    char states[4][32];
} listres;

static void on_list(void *ctx, const rill_list_groups_resp *r) {
    listres *l = ctx;
    ASSERT_ENCODES(rill__list_groups_resp_encode, 5, r);
    assert_int_equal(r->error_code, 0);
    l->n = r->ngroups;
    for (int32_t i = 0; i < r->ngroups && i < 4; i++) {
        cpy(l->ids[i], 32, r->groups[i].group_id);
        cpy(l->states[i], 32, r->groups[i].group_state);
    }
}

static listres list(rill_gc *gc, const char *state_f, const char *type_f) {
    rill_str s = rill__str(state_f), t = rill__str(type_f);
    rill_list_groups_req req = {state_f ? &s : NULL, state_f ? 1 : 0, type_f ? &t : NULL,
                                type_f ? 1 : 0};
    listres l;
    memset(&l, 0, sizeof(l));
    rill__gc_list(gc, NULL, 5, &req, on_list, &l);
    return l;
}

static void delete_and_list_groups(void **st) {
    (void)st;
    rill_gc *gc = new_gc();
    char ida[160], idb[160];
    stable_pair(gc, ida, idb, 10000);
    cres cr;
    commit(gc, "h", -1, "", "t", 0, 5, NULL, &cr);
    rill__gc_flush(gc);

    listres l = list(gc, NULL, NULL);
    assert_int_equal(l.n, 2);
    l = list(gc, "STABLE", NULL); /* states match without case */
    assert_int_equal(l.n, 1);
    assert_string_equal(l.ids[0], "g");
    assert_string_equal(l.states[0], "Stable");
    l = list(gc, NULL, "consumer"); /* KIP-848 groups: none here */
    assert_int_equal(l.n, 0);
    l = list(gc, "Empty", "classic");
    assert_int_equal(l.n, 1);
    assert_string_equal(l.ids[0], "h");

    delres d = del(gc, "g", "nope");
    assert_int_equal(d.errs[0], RILL_ERR_NON_EMPTY_GROUP);
    assert_int_equal(d.errs[1], RILL_ERR_GROUP_ID_NOT_FOUND);
    d = del(gc, "h", NULL);
    assert_int_equal(d.errs[0], 0);
    assert_null(rill__gc_group_state(gc, "h"));
    fres f = fetch(gc, "h", "t", 1);
    assert_int_equal(f.offs[0], -1); /* its offsets went with it */
    d = del(gc, "h", NULL);
    assert_int_equal(d.errs[0], RILL_ERR_GROUP_ID_NOT_FOUND);

    /* Once its members have left, g can go too. */
    const char *both[] = {ida, idb};
    leave(gc, 3, both, NULL, 2);
    assert_string_equal(state(gc), "Empty");
    d = del(gc, "g", NULL);
    assert_int_equal(d.errs[0], 0);
    assert_int_equal(rill__gc_group_count(gc), 0);
    rill__gc_destroy(gc);
}

static void cleanup_forgets_empty_groups(void **st) {
    (void)st;
    rill_gc *gc = new_gc();
    char ida[160], idb[160];
    stable_pair(gc, ida, idb, 10000);
    const char *both[] = {ida, idb};
    leave(gc, 3, both, NULL, 2);
    cres cr;
    commit(gc, "kept", -1, "", "t", 0, 1, NULL, &cr);
    rill__gc_flush(gc);
    assert_int_equal(rill__gc_group_count(gc), 2);
    tick(gc, 1000000 + 600000);
    /* g had no offsets: forgotten; "kept" stays. */
    assert_null(rill__gc_group_state(gc, "g"));
    assert_string_equal(rill__gc_group_state(gc, "kept"), "Empty");
    rill__gc_destroy(gc);
}

static int64_t wall;

static int64_t wall_clk(void *opaque) {
    (void)opaque;
    return wall;
}

/*
 * offsets.retention.minutes (KIP-211): a standalone committer's offsets expire by their
 * commit time; a group with members keeps its offsets however old; once Empty, they expire
 * that long after it became Empty; the group is then forgotten.
 */
static void offsets_expire(void **st) {
    (void)st;
    char *dir, path[512];
    rill_offsets *o;
    rill_gc_config c = store_cfg(&dir, path, &o);
    c.wall_clock = wall_clk;
    c.offsets_retention_ms = 100000;
    c.cleanup_interval_ms = 1;
    wall = 1700000000000;
    rill_gc *gc = rill__gc_new(&c);
    cres cr;
    commit(gc, "solo", -1, "", "t", 0, 5, NULL, &cr);
    assert_int_equal(rill__gc_flush(gc), 0);
    char ida[160], idb[160];
    int32_t gen = stable_pair(gc, ida, idb, 10000);
    commit(gc, "g", gen, ida, "t", 0, 7, NULL, &cr);
    assert_int_equal(rill__gc_flush(gc), 0);
    assert_int_equal(cr.errs[0], 0);

    wall += 99999; /* not yet */
    tick(gc, now + 1);
    assert_non_null(rill__offsets_get(o, "solo", "t", 0));
    wall += 1;
    tick(gc, now + 1);
    assert_null(rill__offsets_get(o, "solo", "t", 0));
    assert_null(rill__gc_group_state(gc, "solo"));      /* nothing left: forgotten */
    assert_non_null(rill__offsets_get(o, "g", "t", 0)); /* its members use it */

    const char *both[] = {ida, idb};
    leave(gc, 3, both, NULL, 2);
    assert_string_equal(rill__gc_group_state(gc, "g"), "Empty");
    wall += 99999; /* the commit is 200 s old, but the group has been Empty only this long */
    tick(gc, now + 1);
    assert_non_null(rill__offsets_get(o, "g", "t", 0));
    wall += 1;
    tick(gc, now + 1);
    assert_null(rill__offsets_get(o, "g", "t", 0));
    assert_null(rill__gc_group_state(gc, "g"));
    rill__gc_destroy(gc);
    assert_int_equal(rill__offsets_close(o), 0);
    tdir_rm(dir);
}

/* ---- cancellation ---- */

static void cancel_connection(void **st) {
    (void)st;
    rill_gc *gc = new_gc();
    char ida[160], idb[160];
    int32_t gen = stable_pair(gc, ida, idb, 10000);
    int conn_a, conn_b;
    /* A rejoins on connection conn_a, which then closes: its join is cancelled but A still
       counts as joined, so B's rejoin completes the phase (as in Kafka). */
    jres ja, jb;
    jopt oa = jo(ida, RANGE_A, 1);
    oa.conn = &conn_a;
    join(gc, &oa, &ja);
    rill__gc_cancel(gc, &conn_a);
    assert_int_equal(ja.cancelled, 1);
    assert_int_equal(ja.calls, 0);
    jopt ob = jo(idb, RANGE_B, 1);
    ob.conn = &conn_b;
    join(gc, &ob, &jb);
    assert_int_equal(jb.calls, 1);
    assert_int_equal(jb.gen, gen + 1);
    assert_int_equal(ja.calls, 0);
    /* B's SyncGroup waits; its connection closes; nothing is called twice. */
    sres sb;
    sync_(gc, 3, idb, NULL, gen + 1, NULL, 0, &conn_b, &sb);
    rill__gc_cancel(gc, &conn_b);
    assert_int_equal(sb.cancelled, 1);
    rill__gc_cancel(gc, &conn_b);
    assert_int_equal(sb.cancelled, 1);
    /* A retried join from the same member replaces the older one, which is answered. */
    jres j1;
    jopt o1 = jo("", RANGE_C, 1);
    o1.ver = 3;
    o1.group = "x";
    join(gc, &o1, &j1);
    assert_int_equal(j1.calls, 0);
    /* A held commit on a closing connection is cancelled too. */
    cres cr;
    rill_offset_commit_req_partition p = {0, 1, -1, -1, rill__str_null()};
    rill_offset_commit_req_topic t = {rill__str("t"), &p, 1};
    rill_offset_commit_req req = {rill__str("z"), -1, rill__str(""), rill__str_null(), -1, &t, 1};
    memset(&cr, 0, sizeof(cr));
    rill_gc_client cl = {&conn_a, rill__str("c"), rill__str("h")};
    rill__gc_offset_commit(gc, &cl, 8, &req, on_commit, &cr);
    assert_int_equal(rill__gc_commits_waiting(gc), 1);
    rill__gc_cancel(gc, &conn_a);
    assert_int_equal(cr.cancelled, 1);
    assert_int_equal(rill__gc_commits_waiting(gc), 0);
    rill__gc_destroy(gc);
    assert_int_equal(j1.cancelled, 1);
}

static void retried_join_answers_the_old_one(void **st) {
    (void)st;
    rill_gc *gc = new_gc();
    char ida[160], idb[160];
    int32_t gen = stable_pair(gc, ida, idb, 10000);
    jres j1, j2, jb;
    jopt oa = jo(ida, RANGE_A, 1);
    join(gc, &oa, &j1);
    join(gc, &oa, &j2);
    assert_int_equal(j1.calls, 1);
    assert_int_equal(j1.err, RILL_ERR_REBALANCE_IN_PROGRESS);
    assert_int_equal(j2.calls, 0);
    jopt ob = jo(idb, RANGE_B, 1);
    join(gc, &ob, &jb);
    assert_int_equal(j2.calls, 1);
    assert_int_equal(j2.gen, gen + 1);
    assert_int_equal(j1.calls, 1);
    rill__gc_destroy(gc);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(two_members_join_and_sync),
        cmocka_unit_test(describe_groups),
        cmocka_unit_test(third_member_rebalances),
        cmocka_unit_test(session_timeout_expels),
        cmocka_unit_test(rebalance_timeout_removes_laggards),
        cmocka_unit_test(member_id_required),
        cmocka_unit_test(protocol_selection),
        cmocka_unit_test(static_member_rejoin),
        cmocka_unit_test(leave_group),
        cmocka_unit_test(offsets_commit_fetch_restart),
        cmocka_unit_test(offsets_external_sync),
        cmocka_unit_test(delete_and_list_groups),
        cmocka_unit_test(cleanup_forgets_empty_groups),
        cmocka_unit_test(offsets_expire),
        cmocka_unit_test(cancel_connection),
        cmocka_unit_test(retried_join_answers_the_old_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
