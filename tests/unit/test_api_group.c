/*
 * test_api_group.c -- consumer-group API codecs (api_group.h): every
 * version of FindCoordinator, JoinGroup, Heartbeat, LeaveGroup, SyncGroup,
 * DescribeGroups, ListGroups and DeleteGroups both ways (round trip, field
 * by field, every truncation), values a version cannot carry, and golden
 * bytes written by hand from the schemas.
 */
#include "api_test.h"

#include "proto/api_group.h"
#include "rill.h"

API_CODEC(find_coordinator_req, rill_find_coordinator_req)
API_CODEC(find_coordinator_resp, rill_find_coordinator_resp)
API_CODEC(join_group_req, rill_join_group_req)
API_CODEC(join_group_resp, rill_join_group_resp)
API_CODEC(heartbeat_req, rill_heartbeat_req)
API_CODEC(heartbeat_resp, rill_heartbeat_resp)
API_CODEC(leave_group_req, rill_leave_group_req)
API_CODEC(leave_group_resp, rill_leave_group_resp)
API_CODEC(sync_group_req, rill_sync_group_req)
API_CODEC(sync_group_resp, rill_sync_group_resp)
API_CODEC(describe_groups_req, rill_describe_groups_req)
API_CODEC(describe_groups_resp, rill_describe_groups_resp)
API_CODEC(list_groups_req, rill_list_groups_req)
API_CODEC(list_groups_resp, rill_list_groups_resp)
API_CODEC(delete_groups_req, rill_delete_groups_req)
API_CODEC(delete_groups_resp, rill_delete_groups_resp)

#define S(x) rill__str(x)
#define NUL rill__str_null()
#define BYTES(x) ((rill_bytes){(const uint8_t *)(x), (int32_t)sizeof(x) - 1})

static void assert_bytes_eq(rill_bytes a, rill_bytes b) {
    assert_int_equal(a.len, b.len);
    if (a.len > 0)
        assert_memory_equal(a.ptr, b.ptr, (size_t)a.len);
}

/* ---- FindCoordinator ---- */

static void find_coordinator_request(void **state) {
    (void)state;
    rill_str one[] = {S("orders-consumers")};
    rill_str two[] = {S("g1"), S("txn-7")};
    for (int16_t v = RILL_FIND_COORDINATOR_MIN_VER; v <= RILL_FIND_COORDINATOR_MAX_VER; v++) {
        rill_find_coordinator_req m = {v >= 1 ? RILL_COORDINATOR_TRANSACTION : 0,
                                       v >= 4 ? two : one, v >= 4 ? 2 : 1};
        rt t;
        rill_find_coordinator_req d;
        rt_check(&t, enc_find_coordinator_req, dec_find_coordinator_req, v, &m, &d, sizeof(d));
        assert_int_equal(d.key_type, m.key_type);
        assert_int_equal(d.nkeys, m.nkeys);
        for (int i = 0; i < d.nkeys; i++)
            assert_str_eq(d.keys[i], m.keys[i]);
        rt_free(&t);
    }
    /* v4 with no keys at all is still well formed. */
    rill_find_coordinator_req none = {0, NULL, 0};
    rt t;
    rill_find_coordinator_req d;
    rt_check(&t, enc_find_coordinator_req, dec_find_coordinator_req, 4, &none, &d, sizeof(d));
    assert_int_equal(d.nkeys, 0);
    rt_free(&t);

    rill_find_coordinator_req txn_v0 = {RILL_COORDINATOR_TRANSACTION, one, 1};
    enc_refused(enc_find_coordinator_req, 0, &txn_v0);
    rill_find_coordinator_req two_v3 = {0, two, 2};
    enc_refused(enc_find_coordinator_req, 3, &two_v3);
    rill_find_coordinator_req null_keys = {0, NULL, -1};
    enc_refused(enc_find_coordinator_req, 4, &null_keys);
    rill_str null_key[] = {NUL};
    rill_find_coordinator_req null_key_v1 = {0, null_key, 1};
    enc_refused(enc_find_coordinator_req, 1, &null_key_v1);
    enc_refused(enc_find_coordinator_req, 5, &none);
}

static void find_coordinator_response(void **state) {
    (void)state;
    for (int16_t v = RILL_FIND_COORDINATOR_MIN_VER; v <= RILL_FIND_COORDINATOR_MAX_VER; v++) {
        rill_find_coordinator cs[] = {
            {v >= 4 ? S("g1") : S(""), 1, S("localhost"), 9092, 0, NUL},
            {S("txn-7"), -1, S(""), -1, RILL_ERR_COORDINATOR_NOT_AVAILABLE, S("loading")},
        };
        if (v >= 1 && v < 4) {
            cs[0].error_code = RILL_ERR_COORDINATOR_LOAD_IN_PROGRESS;
            cs[0].error_message = S("try later");
        }
        rill_find_coordinator_resp m = {v >= 1 ? 100 : 0, cs, v >= 4 ? 2 : 1};
        rt t;
        rill_find_coordinator_resp d;
        rt_check(&t, enc_find_coordinator_resp, dec_find_coordinator_resp, v, &m, &d, sizeof(d));
        assert_int_equal(d.throttle_time_ms, m.throttle_time_ms);
        assert_int_equal(d.ncoordinators, m.ncoordinators);
        for (int i = 0; i < d.ncoordinators; i++) {
            assert_str_eq(d.coordinators[i].key, cs[i].key);
            assert_int_equal(d.coordinators[i].node_id, cs[i].node_id);
            assert_str_eq(d.coordinators[i].host, cs[i].host);
            assert_int_equal(d.coordinators[i].port, cs[i].port);
            assert_int_equal(d.coordinators[i].error_code, cs[i].error_code);
            assert_str_eq(d.coordinators[i].error_message, cs[i].error_message);
        }
        rt_free(&t);
    }
    rill_find_coordinator c = {S(""), 1, S("h"), 1, 0, NUL};
    rill_find_coordinator_resp none = {0, &c, 0};
    enc_refused(enc_find_coordinator_resp, 2, &none);
}

/* v0 response: error, node id, host, port -- no throttle time, no message. */
static void find_coordinator_golden(void **state) {
    (void)state;
    rill_str key[] = {S("g")};
    rill_find_coordinator_req q = {0, key, 1};
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(rill__find_coordinator_req_encode(&b, 0, &q), 0);
    static const uint8_t req0[] = {0x00, 0x01, 'g'};
    assert_bytes(&b, req0);
    rill__buf_reset(&b);
    /* v4: KeyType, then a compact array of compact strings, then tags. */
    assert_int_equal(rill__find_coordinator_req_encode(&b, 4, &q), 0);
    static const uint8_t req4[] = {0x00, 0x02, 0x02, 'g', 0x00};
    assert_bytes(&b, req4);
    rill__buf_free(&b);

    static const uint8_t resp0[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00,
                                    0x02, 'h',  'x',  0x00, 0x00, 0x23, 0x84};
    rill_rd r;
    rill__rd_init(&r, resp0, sizeof(resp0));
    rill_arena a;
    rill__arena_init(&a, 0);
    rill_find_coordinator_resp d;
    assert_int_equal(rill__find_coordinator_resp_decode(&r, 0, &d, &a), 0);
    assert_int_equal(rill__rd_remain(&r), 0);
    assert_int_equal(d.ncoordinators, 1);
    assert_int_equal(d.coordinators[0].node_id, 3);
    assert_cstr(d.coordinators[0].host, "hx");
    assert_int_equal(d.coordinators[0].port, 9092);
    assert_str_null(d.coordinators[0].error_message);
    rill__arena_free(&a);
}

/* ---- JoinGroup ---- */

static void join_group_request(void **state) {
    (void)state;
    rill_join_group_protocol protos[] = {
        {S("range"), BYTES("\x00\x00\x00\x00\x00\x01\x00\x01t\xff\xff\xff\xff")},
        {S("roundrobin"), BYTES("")},
    };
    for (int16_t v = RILL_JOIN_GROUP_MIN_VER; v <= RILL_JOIN_GROUP_MAX_VER; v++) {
        rill_join_group_req m = {
            S("orders"),
            10000,
            v >= 1 ? 300000 : -1,
            v >= 4 ? S("rill-1-abc") : S(""),
            v >= 5 ? S("host-a") : NUL,
            S("consumer"),
            protos,
            2,
            v >= 8 ? S("rebalance needed") : NUL,
        };
        rt t;
        rill_join_group_req d;
        rt_check(&t, enc_join_group_req, dec_join_group_req, v, &m, &d, sizeof(d));
        assert_str_eq(d.group_id, m.group_id);
        assert_int_equal(d.session_timeout_ms, 10000);
        assert_int_equal(d.rebalance_timeout_ms, m.rebalance_timeout_ms);
        assert_str_eq(d.member_id, m.member_id);
        assert_str_eq(d.group_instance_id, m.group_instance_id);
        assert_str_eq(d.protocol_type, m.protocol_type);
        assert_int_equal(d.nprotocols, 2);
        for (int i = 0; i < 2; i++) {
            assert_str_eq(d.protocols[i].name, protos[i].name);
            assert_bytes_eq(d.protocols[i].metadata, protos[i].metadata);
        }
        assert_str_eq(d.reason, m.reason);
        rt_free(&t);
    }
    rill_join_group_req stat = {S("g"), 1, 1, S(""), S("inst"), S("consumer"), NULL, 0, NUL};
    enc_refused(enc_join_group_req, 4, &stat);
    rill_join_group_req null_group = {NUL, 1, 1, S(""), NUL, S("consumer"), NULL, 0, NUL};
    enc_refused(enc_join_group_req, 2, &null_group);
    enc_refused(enc_join_group_req, 10, &stat);
}

static void join_group_response(void **state) {
    (void)state;
    rill_join_group_member members[] = {
        {S("m-1"), S("host-a"), BYTES("\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff")},
        {S("m-2"), NUL, BYTES("")},
    };
    for (int16_t v = RILL_JOIN_GROUP_MIN_VER; v <= RILL_JOIN_GROUP_MAX_VER; v++) {
        if (v < 5)
            members[0].group_instance_id = NUL;
        else
            members[0].group_instance_id = S("host-a");
        rill_join_group_resp m = {v >= 2 ? 20 : 0, 0,        7,      v >= 7 ? S("consumer") : NUL,
                                  S("range"),      S("m-1"), v >= 9, S("m-1"),
                                  members,         2};
        rt t;
        rill_join_group_resp d;
        rt_check(&t, enc_join_group_resp, dec_join_group_resp, v, &m, &d, sizeof(d));
        assert_int_equal(d.throttle_time_ms, m.throttle_time_ms);
        assert_int_equal(d.error_code, 0);
        assert_int_equal(d.generation_id, 7);
        assert_str_eq(d.protocol_type, m.protocol_type);
        assert_cstr(d.protocol_name, "range");
        assert_cstr(d.leader, "m-1");
        assert_int_equal(d.skip_assignment, v >= 9);
        assert_cstr(d.member_id, "m-1");
        assert_int_equal(d.nmembers, 2);
        for (int i = 0; i < 2; i++) {
            assert_str_eq(d.members[i].member_id, members[i].member_id);
            assert_str_eq(d.members[i].group_instance_id, members[i].group_instance_id);
            assert_bytes_eq(d.members[i].metadata, members[i].metadata);
        }
        rt_free(&t);

        /* An error answer (MEMBER_ID_REQUIRED) from a follower's view. */
        rill_join_group_resp e = {
            0, RILL_ERR_MEMBER_ID_REQUIRED, -1, NUL, NUL, S(""), false, S("rill-2"), NULL, 0};
        rill_join_group_resp de;
        rt_check(&t, enc_join_group_resp, dec_join_group_resp, v, &e, &de, sizeof(de));
        assert_int_equal(de.error_code, RILL_ERR_MEMBER_ID_REQUIRED);
        assert_int_equal(de.generation_id, -1);
        /* A null protocol name goes out as "" before v7. */
        if (v < 7)
            assert_cstr(de.protocol_name, "");
        else
            assert_str_null(de.protocol_name);
        assert_int_equal(de.nmembers, 0);
        rt_free(&t);
    }
}

static void join_group_golden_v0(void **state) {
    (void)state;
    rill_join_group_protocol p = {S("range"), BYTES("\x00\x01\x02")};
    rill_join_group_req m = {S("g"), 30000, 99, S(""), NUL, S("consumer"), &p, 1, S("dropped")};
    rill_buf b;
    size_t at;
    frame_begin(&b, RILL_API_JOIN_GROUP, 0, 5, "c", &at);
    assert_int_equal(rill__join_group_req_encode(&b, 0, &m), 0);
    frame_end(&b, at);
    static const uint8_t expect[] = {
        0x00, 0x00, 0x00, 0x30,                                   /* size 48 */
        0x00, 0x0b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05,           /* JoinGroup v0, correlation 5 */
        0x00, 0x01, 'c',                                          /* client id */
        0x00, 0x01, 'g',                                          /* GroupId */
        0x00, 0x00, 0x75, 0x30,                                   /* SessionTimeoutMs 30000 */
        0x00, 0x00,                                               /* MemberId "" */
        0x00, 0x08, 'c',  'o',  'n',  's',  'u',  'm',  'e', 'r', /* ProtocolType */
        0x00, 0x00, 0x00, 0x01,                                   /* one protocol */
        0x00, 0x05, 'r',  'a',  'n',  'g',  'e',                  /* Name */
        0x00, 0x00, 0x00, 0x03, 0x00, 0x01, 0x02,                 /* Metadata */
    };
    assert_bytes(&b, expect);
    rill__buf_free(&b);
}

/* ---- Heartbeat ---- */

static void heartbeat_both(void **state) {
    (void)state;
    for (int16_t v = RILL_HEARTBEAT_MIN_VER; v <= RILL_HEARTBEAT_MAX_VER; v++) {
        rill_heartbeat_req m = {S("orders"), 12, S("m-1"), v >= 3 ? S("host-a") : NUL};
        rt t;
        rill_heartbeat_req d;
        rt_check(&t, enc_heartbeat_req, dec_heartbeat_req, v, &m, &d, sizeof(d));
        assert_str_eq(d.group_id, m.group_id);
        assert_int_equal(d.generation_id, 12);
        assert_str_eq(d.member_id, m.member_id);
        assert_str_eq(d.group_instance_id, m.group_instance_id);
        rt_free(&t);

        rill_heartbeat_resp rm = {v >= 1 ? 5 : 0, RILL_ERR_REBALANCE_IN_PROGRESS};
        rill_heartbeat_resp rd;
        rt_check(&t, enc_heartbeat_resp, dec_heartbeat_resp, v, &rm, &rd, sizeof(rd));
        assert_int_equal(rd.throttle_time_ms, rm.throttle_time_ms);
        assert_int_equal(rd.error_code, RILL_ERR_REBALANCE_IN_PROGRESS);
        rt_free(&t);
    }
    rill_heartbeat_req stat = {S("g"), 1, S("m"), S("i")};
    enc_refused(enc_heartbeat_req, 2, &stat);
}

/* Heartbeat v4: request header v2 and a flexible body, byte for byte. */
static void heartbeat_golden_v4(void **state) {
    (void)state;
    rill_heartbeat_req m = {S("g"), 3, S("m"), NUL};
    rill_buf b;
    size_t at;
    frame_begin(&b, RILL_API_HEARTBEAT, 4, 7, "rill", &at);
    assert_int_equal(rill__heartbeat_req_encode(&b, 4, &m), 0);
    frame_end(&b, at);
    static const uint8_t expect[] = {
        0x00, 0x00, 0x00, 0x19,                         /* size 25 */
        0x00, 0x0c, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07, /* Heartbeat v4, correlation 7 */
        0x00, 0x04, 'r',  'i',  'l',  'l',  0x00,       /* client id, header tags */
        0x02, 'g',                                      /* GroupId (compact) */
        0x00, 0x00, 0x00, 0x03,                         /* GenerationId */
        0x02, 'm',                                      /* MemberId */
        0x00,                                           /* GroupInstanceId null */
        0x00,                                           /* tags */
    };
    assert_bytes(&b, expect);
    rill__buf_free(&b);

    /* Response v4: throttle, error, tags -- with an unknown tag to skip. */
    static const uint8_t resp[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x1b,
                                   0x01, 0x05, 0x02, 0xab, 0xcd};
    rill_rd r;
    rill__rd_init(&r, resp, sizeof(resp));
    rill_heartbeat_resp d;
    assert_int_equal(rill__heartbeat_resp_decode(&r, 4, &d, NULL), 0);
    assert_int_equal(rill__rd_remain(&r), 0);
    assert_int_equal(d.error_code, RILL_ERR_REBALANCE_IN_PROGRESS);
}

/* ---- LeaveGroup ---- */

static void leave_group_request(void **state) {
    (void)state;
    for (int16_t v = RILL_LEAVE_GROUP_MIN_VER; v <= RILL_LEAVE_GROUP_MAX_VER; v++) {
        rill_leave_group_member ms[] = {
            {S("m-1"), v >= 3 ? S("host-a") : NUL, v >= 5 ? S("shutting down") : NUL},
            {S("m-2"), NUL, NUL},
        };
        rill_leave_group_req m = {S("orders"), ms, v >= 3 ? 2 : 1};
        rt t;
        rill_leave_group_req d;
        rt_check(&t, enc_leave_group_req, dec_leave_group_req, v, &m, &d, sizeof(d));
        assert_str_eq(d.group_id, m.group_id);
        assert_int_equal(d.nmembers, m.nmembers);
        for (int i = 0; i < d.nmembers; i++) {
            assert_str_eq(d.members[i].member_id, ms[i].member_id);
            assert_str_eq(d.members[i].group_instance_id, ms[i].group_instance_id);
            assert_str_eq(d.members[i].reason, ms[i].reason);
        }
        rt_free(&t);
    }
    rill_leave_group_member two[] = {{S("a"), NUL, NUL}, {S("b"), NUL, NUL}};
    rill_leave_group_req m2 = {S("g"), two, 2};
    enc_refused(enc_leave_group_req, 2, &m2);
    rill_leave_group_member st = {S("a"), S("inst"), NUL};
    rill_leave_group_req ms = {S("g"), &st, 1};
    enc_refused(enc_leave_group_req, 1, &ms);
}

static void leave_group_response(void **state) {
    (void)state;
    rill_leave_group_member_resp ms[] = {
        {S("m-1"), S("host-a"), 0},
        {S(""), S("host-b"), RILL_ERR_UNKNOWN_MEMBER_ID},
    };
    for (int16_t v = RILL_LEAVE_GROUP_MIN_VER; v <= RILL_LEAVE_GROUP_MAX_VER; v++) {
        rill_leave_group_resp m = {v >= 1 ? 1 : 0, 0, ms, v >= 3 ? 2 : 0};
        rt t;
        rill_leave_group_resp d;
        rt_check(&t, enc_leave_group_resp, dec_leave_group_resp, v, &m, &d, sizeof(d));
        assert_int_equal(d.throttle_time_ms, m.throttle_time_ms);
        assert_int_equal(d.error_code, 0);
        assert_int_equal(d.nmembers, m.nmembers);
        for (int i = 0; i < d.nmembers; i++) {
            assert_str_eq(d.members[i].member_id, ms[i].member_id);
            assert_str_eq(d.members[i].group_instance_id, ms[i].group_instance_id);
            assert_int_equal(d.members[i].error_code, ms[i].error_code);
        }
        rt_free(&t);
    }
}

/* ---- SyncGroup ---- */

static void sync_group_request(void **state) {
    (void)state;
    rill_sync_group_assignment as[] = {
        {S("m-1"), BYTES("\x00\x00\x00\x00\x00\x01\x00\x01t\x00\x00\x00\x01\x00\x00\x00\x00"
                         "\xff\xff\xff\xff")},
        {S("m-2"), BYTES("")},
    };
    for (int16_t v = RILL_SYNC_GROUP_MIN_VER; v <= RILL_SYNC_GROUP_MAX_VER; v++) {
        rill_sync_group_req m = {S("orders"),
                                 7,
                                 S("m-1"),
                                 v >= 3 ? S("host-a") : NUL,
                                 v >= 5 ? S("consumer") : NUL,
                                 v >= 5 ? S("range") : NUL,
                                 as,
                                 2};
        rt t;
        rill_sync_group_req d;
        rt_check(&t, enc_sync_group_req, dec_sync_group_req, v, &m, &d, sizeof(d));
        assert_str_eq(d.group_id, m.group_id);
        assert_int_equal(d.generation_id, 7);
        assert_str_eq(d.member_id, m.member_id);
        assert_str_eq(d.group_instance_id, m.group_instance_id);
        assert_str_eq(d.protocol_type, m.protocol_type);
        assert_str_eq(d.protocol_name, m.protocol_name);
        assert_int_equal(d.nassignments, 2);
        for (int i = 0; i < 2; i++) {
            assert_str_eq(d.assignments[i].member_id, as[i].member_id);
            assert_bytes_eq(d.assignments[i].assignment, as[i].assignment);
        }
        rt_free(&t);
        /* A follower sends no assignments. */
        m.nassignments = 0;
        rt_check(&t, enc_sync_group_req, dec_sync_group_req, v, &m, &d, sizeof(d));
        assert_int_equal(d.nassignments, 0);
        rt_free(&t);
    }
}

static void sync_group_response(void **state) {
    (void)state;
    for (int16_t v = RILL_SYNC_GROUP_MIN_VER; v <= RILL_SYNC_GROUP_MAX_VER; v++) {
        rill_sync_group_resp m = {v >= 1 ? 3 : 0, 0, v >= 5 ? S("consumer") : NUL,
                                  v >= 5 ? S("range") : NUL,
                                  BYTES("\x00\x00\x00\x00\x00\x00"
                                        "\xff\xff\xff\xff")};
        rt t;
        rill_sync_group_resp d;
        rt_check(&t, enc_sync_group_resp, dec_sync_group_resp, v, &m, &d, sizeof(d));
        assert_int_equal(d.throttle_time_ms, m.throttle_time_ms);
        assert_int_equal(d.error_code, 0);
        assert_str_eq(d.protocol_type, m.protocol_type);
        assert_str_eq(d.protocol_name, m.protocol_name);
        assert_bytes_eq(d.assignment, m.assignment);
        rt_free(&t);

        /* An error answer with null assignment bytes goes out as empty bytes. */
        rill_sync_group_resp e = {0, RILL_ERR_REBALANCE_IN_PROGRESS, NUL, NUL, {NULL, -1}};
        rt_check(&t, enc_sync_group_resp, dec_sync_group_resp, v, &e, &d, sizeof(d));
        assert_int_equal(d.error_code, RILL_ERR_REBALANCE_IN_PROGRESS);
        assert_int_equal(d.assignment.len, 0);
        rt_free(&t);
    }
}

/* Null assignment bytes: read as empty with an error (librdkafka's mock sends that),
 * malformed without one. */
static void sync_group_null_assignment(void **state) {
    (void)state;
    static const uint8_t with_error[] = {
        0x00, 0x00, 0x00, 0x00, /* throttle */
        0x00, 0x1b,             /* REBALANCE_IN_PROGRESS */
        0xff, 0xff, 0xff, 0xff, /* assignment null */
    };
    rill_sync_group_resp d;
    rill_arena a;
    decode_whole(dec_sync_group_resp, 3, with_error, sizeof(with_error), &d, &a);
    assert_int_equal(d.error_code, RILL_ERR_REBALANCE_IN_PROGRESS);
    assert_int_equal(d.assignment.len, 0);
    rill__arena_free(&a);

    uint8_t ok[sizeof(with_error)];
    memcpy(ok, with_error, sizeof(ok));
    ok[5] = 0; /* no error */
    rill_rd r;
    rill__arena_init(&a, 0);
    rill__rd_init(&r, ok, sizeof(ok));
    assert_int_not_equal(rill__sync_group_resp_decode(&r, 3, &d, &a), 0);
    rill__arena_free(&a);
}

/* SyncGroup v0 response carrying a ConsumerProtocolAssignment v0 for t[0,1]. */
static void sync_group_golden_v0(void **state) {
    (void)state;
    static const uint8_t assignment[] = {
        0x00, 0x00,             /* assignment version 0 */
        0x00, 0x00, 0x00, 0x01, /* one topic */
        0x00, 0x01, 't',        /* "t" */
        0x00, 0x00, 0x00, 0x02, /* two partitions */
        0x00, 0x00, 0x00, 0x00, /* 0 */
        0x00, 0x00, 0x00, 0x01, /* 1 */
        0xff, 0xff, 0xff, 0xff, /* user data null */
    };
    rill_sync_group_resp m = {0, 0, NUL, NUL, {assignment, sizeof(assignment)}};
    rill_buf b;
    rill__buf_init(&b, 0);
    size_t at = rill__wr_reserve32(&b);
    rill__resp_header_write(&b, 9, rill__api_resp_header_flexible(RILL_API_SYNC_GROUP, 0));
    assert_int_equal(rill__sync_group_resp_encode(&b, 0, &m), 0);
    rill__wr_patch32(&b, at, (int32_t)(b.len - 4));
    static const uint8_t expect[] = {
        0x00, 0x00, 0x00, 0x23, /* size 35 */
        0x00, 0x00, 0x00, 0x09, /* correlation id */
        0x00, 0x00,             /* ErrorCode */
        0x00, 0x00, 0x00, 0x19, /* Assignment: 25 bytes */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',  0x00, 0x00, 0x00, 0x02,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff,
    };
    assert_bytes(&b, expect);
    rill__buf_free(&b);
}

/* ---- DescribeGroups ---- */

static void describe_groups_both(void **state) {
    (void)state;
    rill_str names[] = {S("orders"), S("audit")};
    for (int16_t v = RILL_DESCRIBE_GROUPS_MIN_VER; v <= RILL_DESCRIBE_GROUPS_MAX_VER; v++) {
        rill_describe_groups_req m = {names, 2, v >= 3};
        rt t;
        rill_describe_groups_req d;
        rt_check(&t, enc_describe_groups_req, dec_describe_groups_req, v, &m, &d, sizeof(d));
        assert_int_equal(d.ngroups, 2);
        assert_str_eq(d.groups[0], names[0]);
        assert_str_eq(d.groups[1], names[1]);
        assert_int_equal(d.include_authorized_operations, v >= 3);
        rt_free(&t);

        rill_described_member mb[] = {
            {S("m-1"), v >= 4 ? S("host-a") : NUL, S("rill"), S("/127.0.0.1"),
             BYTES("\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff"),
             BYTES("\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff")},
        };
        rill_described_group gs[] = {
            {0, S("orders"), S("Stable"), S("consumer"), S("range"), mb, 1,
             v >= 3 ? 0x0f00 : INT32_MIN},
            {RILL_ERR_GROUP_ID_NOT_FOUND, S("audit"), S("Dead"), S(""), S(""), NULL, 0,
             v >= 3 ? -1 : INT32_MIN},
        };
        rill_describe_groups_resp rm = {v >= 1 ? 2 : 0, gs, 2};
        rill_describe_groups_resp rd;
        rt_check(&t, enc_describe_groups_resp, dec_describe_groups_resp, v, &rm, &rd, sizeof(rd));
        assert_int_equal(rd.throttle_time_ms, rm.throttle_time_ms);
        assert_int_equal(rd.ngroups, 2);
        for (int i = 0; i < 2; i++) {
            const rill_described_group *g = &rd.groups[i];
            assert_int_equal(g->error_code, gs[i].error_code);
            assert_str_eq(g->group_id, gs[i].group_id);
            assert_str_eq(g->group_state, gs[i].group_state);
            assert_str_eq(g->protocol_type, gs[i].protocol_type);
            assert_str_eq(g->protocol_data, gs[i].protocol_data);
            assert_int_equal(g->authorized_operations, gs[i].authorized_operations);
            assert_int_equal(g->nmembers, gs[i].nmembers);
        }
        const rill_described_member *dm = &rd.groups[0].members[0];
        assert_str_eq(dm->member_id, mb[0].member_id);
        assert_str_eq(dm->group_instance_id, mb[0].group_instance_id);
        assert_str_eq(dm->client_id, mb[0].client_id);
        assert_str_eq(dm->client_host, mb[0].client_host);
        assert_bytes_eq(dm->member_metadata, mb[0].member_metadata);
        assert_bytes_eq(dm->member_assignment, mb[0].member_assignment);
        rt_free(&t);
    }
}

/* ---- ListGroups ---- */

static void list_groups_both(void **state) {
    (void)state;
    rill_str states[] = {S("Stable"), S("Empty")};
    rill_str types[] = {S("classic")};
    for (int16_t v = RILL_LIST_GROUPS_MIN_VER; v <= RILL_LIST_GROUPS_MAX_VER; v++) {
        rill_list_groups_req m = {states, v >= 4 ? 2 : 0, types, v >= 5 ? 1 : 0};
        rt t;
        rill_list_groups_req d;
        rt_check(&t, enc_list_groups_req, dec_list_groups_req, v, &m, &d, sizeof(d));
        assert_int_equal(d.nstates_filter, m.nstates_filter);
        for (int i = 0; i < d.nstates_filter; i++)
            assert_str_eq(d.states_filter[i], states[i]);
        assert_int_equal(d.ntypes_filter, m.ntypes_filter);
        if (d.ntypes_filter)
            assert_cstr(d.types_filter[0], "classic");
        rt_free(&t);

        rill_listed_group gs[] = {
            {S("orders"), S("consumer"), v >= 4 ? S("Stable") : S(""),
             v >= 5 ? S("classic") : S("")},
            {S("connect-x"), S("connect"), v >= 4 ? S("Empty") : S(""), S("")},
        };
        rill_list_groups_resp rm = {v >= 1 ? 4 : 0, 0, gs, 2};
        rill_list_groups_resp rd;
        rt_check(&t, enc_list_groups_resp, dec_list_groups_resp, v, &rm, &rd, sizeof(rd));
        assert_int_equal(rd.throttle_time_ms, rm.throttle_time_ms);
        assert_int_equal(rd.ngroups, 2);
        for (int i = 0; i < 2; i++) {
            assert_str_eq(rd.groups[i].group_id, gs[i].group_id);
            assert_str_eq(rd.groups[i].protocol_type, gs[i].protocol_type);
            assert_str_eq(rd.groups[i].group_state, gs[i].group_state);
            assert_str_eq(rd.groups[i].group_type, gs[i].group_type);
        }
        rt_free(&t);
    }
    /* v0-2 requests have an empty body. */
    rill_list_groups_req empty = {NULL, 0, NULL, 0};
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(rill__list_groups_req_encode(&b, 2, &empty), 0);
    assert_int_equal(b.len, 0);
    assert_int_equal(rill__list_groups_req_encode(&b, 3, &empty), 0);
    assert_int_equal(b.len, 1); /* just the tags */
    rill__buf_free(&b);
}

/* ---- DeleteGroups ---- */

static void delete_groups_both(void **state) {
    (void)state;
    rill_str names[] = {S("orders"), S("audit")};
    rill_delete_groups_result res[] = {{S("orders"), 0}, {S("audit"), RILL_ERR_NON_EMPTY_GROUP}};
    for (int16_t v = RILL_DELETE_GROUPS_MIN_VER; v <= RILL_DELETE_GROUPS_MAX_VER; v++) {
        rill_delete_groups_req m = {names, 2};
        rt t;
        rill_delete_groups_req d;
        rt_check(&t, enc_delete_groups_req, dec_delete_groups_req, v, &m, &d, sizeof(d));
        assert_int_equal(d.ngroups, 2);
        assert_cstr(d.groups[1], "audit");
        rt_free(&t);

        rill_delete_groups_resp rm = {6, res, 2};
        rill_delete_groups_resp rd;
        rt_check(&t, enc_delete_groups_resp, dec_delete_groups_resp, v, &rm, &rd, sizeof(rd));
        assert_int_equal(rd.throttle_time_ms, 6);
        assert_int_equal(rd.nresults, 2);
        for (int i = 0; i < 2; i++) {
            assert_str_eq(rd.results[i].group_id, res[i].group_id);
            assert_int_equal(rd.results[i].error_code, res[i].error_code);
        }
        rt_free(&t);
    }
}

/* Hostile counts and nulls where the schema allows none. */
static void malformed_inputs(void **state) {
    (void)state;
    rill_arena a;
    rill__arena_init(&a, 0);
    rill_rd r;
    /* DescribeGroups v0 claiming 2^31-1 group names in 6 bytes. */
    static const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff, 0x00, 0x00};
    rill__rd_init(&r, huge, sizeof(huge));
    rill_describe_groups_req dg;
    assert_int_equal(rill__describe_groups_req_decode(&r, 0, &dg, &a), -1);
    /* A null group array (-1) is not allowed. */
    static const uint8_t null_arr[] = {0xff, 0xff, 0xff, 0xff};
    rill__rd_init(&r, null_arr, sizeof(null_arr));
    assert_int_equal(rill__describe_groups_req_decode(&r, 0, &dg, &a), -1);
    /* A null group id in a Heartbeat. */
    static const uint8_t null_gid[] = {0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00};
    rill__rd_init(&r, null_gid, sizeof(null_gid));
    rill_heartbeat_req hb;
    assert_int_equal(rill__heartbeat_req_decode(&r, 0, &hb, &a), -1);
    /* Null protocol metadata in a JoinGroup. */
    static const uint8_t null_meta[] = {0x00, 0x01, 'g',  0x00, 0x00, 0x00, 0x01, 0x00,
                                        0x00, 0x00, 0x01, 'c',  0x00, 0x00, 0x00, 0x01,
                                        0x00, 0x01, 'r',  0xff, 0xff, 0xff, 0xff};
    rill__rd_init(&r, null_meta, sizeof(null_meta));
    rill_join_group_req jg;
    assert_int_equal(rill__join_group_req_decode(&r, 0, &jg, &a), -1);
    /* The same with empty metadata is fine (a sanity check of the bytes above). */
    uint8_t ok[sizeof(null_meta)];
    memcpy(ok, null_meta, sizeof(ok));
    memset(ok + sizeof(ok) - 4, 0, 4);
    rill__rd_init(&r, ok, sizeof(ok));
    assert_int_equal(rill__join_group_req_decode(&r, 0, &jg, &a), 0);
    assert_int_equal(jg.nprotocols, 1);
    assert_int_equal(jg.protocols[0].metadata.len, 0);
    /* Versions out of range. */
    rill__rd_init(&r, ok, sizeof(ok));
    assert_int_equal(rill__join_group_req_decode(&r, 10, &jg, &a), -1);
    rill__rd_init(&r, ok, sizeof(ok));
    assert_int_equal(rill__join_group_req_decode(&r, -1, &jg, &a), -1);
    rill__arena_free(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(find_coordinator_request),
        cmocka_unit_test(find_coordinator_response),
        cmocka_unit_test(find_coordinator_golden),
        cmocka_unit_test(join_group_request),
        cmocka_unit_test(join_group_response),
        cmocka_unit_test(join_group_golden_v0),
        cmocka_unit_test(heartbeat_both),
        cmocka_unit_test(heartbeat_golden_v4),
        cmocka_unit_test(leave_group_request),
        cmocka_unit_test(leave_group_response),
        cmocka_unit_test(sync_group_request),
        cmocka_unit_test(sync_group_response),
        cmocka_unit_test(sync_group_null_assignment),
        cmocka_unit_test(sync_group_golden_v0),
        cmocka_unit_test(describe_groups_both),
        cmocka_unit_test(list_groups_both),
        cmocka_unit_test(delete_groups_both),
        cmocka_unit_test(malformed_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
