/*
 * test_api_offsets.c -- OffsetCommit and OffsetFetch codecs
 * (api_offsets.h): every version both ways (round trip, field by field,
 * every truncation), the one-group shape of OffsetFetch v0-7, null topic
 * lists, values a version cannot carry, and golden bytes.
 */
#include "api_test.h"

#include "proto/api_offsets.h"
#include "rill.h"

API_CODEC(offset_commit_req, rill_offset_commit_req)
API_CODEC(offset_commit_resp, rill_offset_commit_resp)
API_CODEC(offset_fetch_req, rill_offset_fetch_req)
API_CODEC(offset_fetch_resp, rill_offset_fetch_resp)

#define S(x) rill__str(x)
#define NUL rill__str_null()

/* ---- OffsetCommit ---- */

static void offset_commit_request(void **state) {
    (void)state;
    for (int16_t v = RILL_OFFSET_COMMIT_MIN_VER; v <= RILL_OFFSET_COMMIT_MAX_VER; v++) {
        rill_offset_commit_req_partition p0[] = {
            {0, 1234, v >= 6 ? 3 : -1, v == 1 ? 1700000000000 : -1, S("")},
            {1, 0, v >= 6 ? 3 : -1, -1, NUL},
        };
        rill_offset_commit_req_partition p1[] = {
            {5, INT64_MAX - 1, -1, -1, S("checkpoint 7")},
        };
        rill_offset_commit_req_topic ts[] = {{S("orders"), p0, 2}, {S("audit"), p1, 1}};
        rill_offset_commit_req m = {
            .group_id = S("orders-app"),
            .generation_id = v >= 1 ? 9 : -1,
            .member_id = v >= 1 ? S("m-1") : S(""),
            .group_instance_id = v >= 7 ? S("host-a") : NUL,
            .retention_time_ms = v >= 2 && v <= 4 ? 86400000 : -1,
            .topics = ts,
            .ntopics = 2,
        };
        rt t;
        rill_offset_commit_req d;
        rt_check(&t, enc_offset_commit_req, dec_offset_commit_req, v, &m, &d, sizeof(d));
        assert_str_eq(d.group_id, m.group_id);
        assert_int_equal(d.generation_id, m.generation_id);
        assert_str_eq(d.member_id, m.member_id);
        assert_str_eq(d.group_instance_id, m.group_instance_id);
        assert_int_equal(d.retention_time_ms, m.retention_time_ms);
        assert_int_equal(d.ntopics, 2);
        for (int i = 0; i < 2; i++) {
            assert_str_eq(d.topics[i].name, ts[i].name);
            assert_int_equal(d.topics[i].npartitions, ts[i].npartitions);
            for (int j = 0; j < ts[i].npartitions; j++) {
                const rill_offset_commit_req_partition *a = &d.topics[i].partitions[j];
                const rill_offset_commit_req_partition *e = &ts[i].partitions[j];
                assert_int_equal(a->partition, e->partition);
                assert_int_equal(a->committed_offset, e->committed_offset);
                assert_int_equal(a->committed_leader_epoch, e->committed_leader_epoch);
                assert_int_equal(a->commit_timestamp, e->commit_timestamp);
                assert_str_eq(a->committed_metadata, e->committed_metadata);
            }
        }
        rt_free(&t);
    }
    rill_offset_commit_req stat = {S("g"), 1, S("m"), S("inst"), -1, NULL, 0};
    enc_refused(enc_offset_commit_req, 6, &stat);
    rill_offset_commit_req null_topics = {S("g"), 1, S("m"), NUL, -1, NULL, -1};
    enc_refused(enc_offset_commit_req, 8, &null_topics);
    enc_refused(enc_offset_commit_req, 10, &stat);
}

static void offset_commit_response(void **state) {
    (void)state;
    rill_offset_commit_resp_partition ps[] = {{0, 0}, {1, RILL_ERR_OFFSET_METADATA_TOO_LARGE}};
    rill_offset_commit_resp_topic ts[] = {{S("orders"), ps, 2}, {S("empty"), NULL, 0}};
    for (int16_t v = RILL_OFFSET_COMMIT_MIN_VER; v <= RILL_OFFSET_COMMIT_MAX_VER; v++) {
        rill_offset_commit_resp m = {v >= 3 ? 11 : 0, ts, 2};
        rt t;
        rill_offset_commit_resp d;
        rt_check(&t, enc_offset_commit_resp, dec_offset_commit_resp, v, &m, &d, sizeof(d));
        assert_int_equal(d.throttle_time_ms, m.throttle_time_ms);
        assert_int_equal(d.ntopics, 2);
        assert_cstr(d.topics[0].name, "orders");
        assert_int_equal(d.topics[0].npartitions, 2);
        assert_int_equal(d.topics[0].partitions[1].partition, 1);
        assert_int_equal(d.topics[0].partitions[1].error_code, RILL_ERR_OFFSET_METADATA_TOO_LARGE);
        assert_cstr(d.topics[1].name, "empty");
        assert_int_equal(d.topics[1].npartitions, 0);
        rt_free(&t);
    }
}

/* OffsetCommit v2 as kafka-python sends it, and v8 (flexible), by hand. */
static void offset_commit_golden(void **state) {
    (void)state;
    rill_offset_commit_req_partition p = {3, 42, -1, -1, S("")};
    rill_offset_commit_req_topic tp = {S("t"), &p, 1};
    rill_offset_commit_req m = {S("g"), 5, S("m"), NUL, -1, &tp, 1};
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(rill__offset_commit_req_encode(&b, 2, &m), 0);
    static const uint8_t v2[] = {
        0x00, 0x01, 'g',                                /* GroupId */
        0x00, 0x00, 0x00, 0x05,                         /* GenerationId */
        0x00, 0x01, 'm',                                /* MemberId */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* RetentionTimeMs -1 */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',        /* topics: "t" */
        0x00, 0x00, 0x00, 0x01,                         /* one partition */
        0x00, 0x00, 0x00, 0x03,                         /* PartitionIndex */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, /* CommittedOffset */
        0x00, 0x00,                                     /* CommittedMetadata "" */
    };
    assert_bytes(&b, v2);
    rill__buf_reset(&b);
    assert_int_equal(rill__offset_commit_req_encode(&b, 8, &m), 0);
    static const uint8_t v8[] = {
        0x02, 'g',  0x00, 0x00, 0x00, 0x05, 0x02, 'm',  /* group, generation, member */
        0x00,                                           /* GroupInstanceId null */
        0x02, 0x02, 't',                                /* one topic "t" */
        0x02,                                           /* one partition */
        0x00, 0x00, 0x00, 0x03,                         /* PartitionIndex */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, /* CommittedOffset */
        0xff, 0xff, 0xff, 0xff,                         /* CommittedLeaderEpoch -1 */
        0x01,                                           /* CommittedMetadata "" */
        0x00, 0x00, 0x00,                               /* partition, topic, body tags */
    };
    assert_bytes(&b, v8);
    rill__buf_free(&b);
}

/* ---- OffsetFetch ---- */

static void offset_fetch_request(void **state) {
    (void)state;
    int32_t p0[] = {0, 1, 2};
    rill_offset_fetch_req_topic ts[] = {{S("orders"), p0, 3}, {S("audit"), NULL, 0}};
    for (int16_t v = RILL_OFFSET_FETCH_MIN_VER; v <= RILL_OFFSET_FETCH_MAX_VER; v++) {
        rill_offset_fetch_req_group gs[] = {
            {S("orders-app"), v >= 9 ? S("m-1") : NUL, v >= 9 ? 4 : -1, ts, 2},
            {S("all-of-them"), NUL, -1, NULL, -1}, /* null topics: every topic */
        };
        rill_offset_fetch_req m = {gs, v >= 8 ? 2 : 1, v >= 7};
        rt t;
        rill_offset_fetch_req d;
        rt_check(&t, enc_offset_fetch_req, dec_offset_fetch_req, v, &m, &d, sizeof(d));
        assert_int_equal(d.ngroups, m.ngroups);
        assert_int_equal(d.require_stable, v >= 7);
        for (int i = 0; i < d.ngroups; i++) {
            assert_str_eq(d.groups[i].group_id, gs[i].group_id);
            assert_str_eq(d.groups[i].member_id, gs[i].member_id);
            assert_int_equal(d.groups[i].member_epoch, gs[i].member_epoch);
            assert_int_equal(d.groups[i].ntopics, gs[i].ntopics);
        }
        assert_cstr(d.groups[0].topics[0].name, "orders");
        assert_int_equal(d.groups[0].topics[0].npartitions, 3);
        assert_int_equal(d.groups[0].topics[0].partitions[2], 2);
        assert_cstr(d.groups[0].topics[1].name, "audit");
        assert_int_equal(d.groups[0].topics[1].npartitions, 0);
        rt_free(&t);

        /* From v2 a single group may ask for all its topics with a null list. */
        if (v >= 2 && v < 8) {
            rill_offset_fetch_req all = {&gs[1], 1, false};
            rt_check(&t, enc_offset_fetch_req, dec_offset_fetch_req, v, &all, &d, sizeof(d));
            assert_int_equal(d.groups[0].ntopics, -1);
            assert_null(d.groups[0].topics);
            rt_free(&t);
        } else if (v < 2) {
            rill_offset_fetch_req all = {&gs[1], 1, false};
            enc_refused(enc_offset_fetch_req, v, &all);
        }
    }
    rill_offset_fetch_req_group g = {S("g"), NUL, -1, NULL, 0};
    rill_offset_fetch_req two = {(rill_offset_fetch_req_group[]){g, g}, 2, false};
    enc_refused(enc_offset_fetch_req, 7, &two);
    rill_offset_fetch_req stable = {&g, 1, true};
    enc_refused(enc_offset_fetch_req, 6, &stable);
}

static void offset_fetch_response(void **state) {
    (void)state;
    for (int16_t v = RILL_OFFSET_FETCH_MIN_VER; v <= RILL_OFFSET_FETCH_MAX_VER; v++) {
        rill_offset_fetch_resp_partition ps[] = {
            {0, 1234, v >= 5 ? 2 : -1, S("meta"), 0},
            {1, -1, -1, NUL, 0}, /* nothing committed */
            {2, -1, -1, S(""), v >= 7 ? RILL_ERR_UNSTABLE_OFFSET_COMMIT : 0},
        };
        rill_offset_fetch_resp_topic ts[] = {{S("orders"), ps, 3}};
        rill_offset_fetch_resp_group gs[] = {
            {v >= 8 ? S("orders-app") : S(""), ts, 1, v >= 2 ? RILL_ERR_NOT_COORDINATOR : 0},
            {S("other"), NULL, 0, RILL_ERR_GROUP_AUTHORIZATION_FAILED},
        };
        rill_offset_fetch_resp m = {v >= 3 ? 8 : 0, gs, v >= 8 ? 2 : 1};
        rt t;
        rill_offset_fetch_resp d;
        rt_check(&t, enc_offset_fetch_resp, dec_offset_fetch_resp, v, &m, &d, sizeof(d));
        assert_int_equal(d.throttle_time_ms, m.throttle_time_ms);
        assert_int_equal(d.ngroups, m.ngroups);
        for (int i = 0; i < d.ngroups; i++) {
            assert_str_eq(d.groups[i].group_id, gs[i].group_id);
            assert_int_equal(d.groups[i].error_code, gs[i].error_code);
            assert_int_equal(d.groups[i].ntopics, gs[i].ntopics);
        }
        const rill_offset_fetch_resp_topic *dt = &d.groups[0].topics[0];
        assert_cstr(dt->name, "orders");
        assert_int_equal(dt->npartitions, 3);
        for (int j = 0; j < 3; j++) {
            assert_int_equal(dt->partitions[j].partition, ps[j].partition);
            assert_int_equal(dt->partitions[j].committed_offset, ps[j].committed_offset);
            assert_int_equal(dt->partitions[j].committed_leader_epoch,
                             ps[j].committed_leader_epoch);
            assert_str_eq(dt->partitions[j].metadata, ps[j].metadata);
            assert_int_equal(dt->partitions[j].error_code, ps[j].error_code);
        }
        rt_free(&t);
    }
    rill_offset_fetch_resp none = {0, NULL, 0};
    enc_refused(enc_offset_fetch_resp, 5, &none);
}

/* OffsetFetch v1 request (kafka-python) and v0 response, by hand. */
static void offset_fetch_golden(void **state) {
    (void)state;
    int32_t parts[] = {0};
    rill_offset_fetch_req_topic tp = {S("t"), parts, 1};
    rill_offset_fetch_req_group g = {S("g"), NUL, -1, &tp, 1};
    rill_offset_fetch_req m = {&g, 1, false};
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(rill__offset_fetch_req_encode(&b, 1, &m), 0);
    static const uint8_t req1[] = {0x00, 0x01, 'g',  0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
                                   't',  0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00};
    assert_bytes(&b, req1);
    rill__buf_free(&b);

    static const uint8_t resp0[] = {
        0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',        /* one topic "t" */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* one partition, 0 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* CommittedOffset -1 */
        0x00, 0x00,                                     /* Metadata "" */
        0x00, 0x00,                                     /* ErrorCode */
    };
    rill_arena a;
    rill__arena_init(&a, 0);
    rill_rd r;
    rill__rd_init(&r, resp0, sizeof(resp0));
    rill_offset_fetch_resp d;
    assert_int_equal(rill__offset_fetch_resp_decode(&r, 0, &d, &a), 0);
    assert_int_equal(rill__rd_remain(&r), 0);
    assert_int_equal(d.ngroups, 1);
    assert_int_equal(d.groups[0].error_code, 0);
    assert_int_equal(d.groups[0].topics[0].partitions[0].committed_offset, -1);
    assert_int_equal(d.groups[0].topics[0].partitions[0].committed_leader_epoch, -1);
    rill__arena_free(&a);
}

static void malformed_inputs(void **state) {
    (void)state;
    rill_arena a;
    rill__arena_init(&a, 0);
    rill_rd r;
    rill_offset_fetch_req d;
    /* v1 topics may not be null (v2+ may). */
    static const uint8_t null_topics[] = {0x00, 0x01, 'g', 0xff, 0xff, 0xff, 0xff};
    rill__rd_init(&r, null_topics, sizeof(null_topics));
    assert_int_equal(rill__offset_fetch_req_decode(&r, 1, &d, &a), -1);
    rill__rd_init(&r, null_topics, sizeof(null_topics));
    assert_int_equal(rill__offset_fetch_req_decode(&r, 2, &d, &a), 0);
    assert_int_equal(d.groups[0].ntopics, -1);
    /* A partition count that cannot fit. */
    static const uint8_t huge[] = {0x00, 0x01, 'g',  0x00, 0x00, 0x00, 0x01, 0x00,
                                   0x01, 't',  0x40, 0x00, 0x00, 0x00, 0x00, 0x00};
    rill__rd_init(&r, huge, sizeof(huge));
    assert_int_equal(rill__offset_fetch_req_decode(&r, 1, &d, &a), -1);
    /* Flexible v8: a compact group count of 2^32-1. */
    static const uint8_t huge8[] = {0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 0x00};
    rill__rd_init(&r, huge8, sizeof(huge8));
    assert_int_equal(rill__offset_fetch_req_decode(&r, 8, &d, &a), -1);
    rill__arena_free(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(offset_commit_request), cmocka_unit_test(offset_commit_response),
        cmocka_unit_test(offset_commit_golden),  cmocka_unit_test(offset_fetch_request),
        cmocka_unit_test(offset_fetch_response), cmocka_unit_test(offset_fetch_golden),
        cmocka_unit_test(malformed_inputs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
