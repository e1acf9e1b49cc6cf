/*
 * test_api_metadata.c -- Metadata codec, v0-12 both ways: every field per
 * version (defaults where a version lacks one), the v0 "empty = all"
 * rule, refused encodings, unknown tagged fields at every level, and
 * golden v1 / v9 request frames.
 */
#include "api_test.h"

#include "proto/api_metadata.h"

API_CODEC(metadata_req, rill_metadata_req)
API_CODEC(metadata_resp, rill_metadata_resp)

static const uint8_t id_a[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
static const uint8_t id_zero[16];

static void request_all_versions(void **state) {
    (void)state;
    rill_metadata_req_topic topics[2] = {{{0}, rill__str("orders")}, {{0}, rill__str("")}};
    memcpy(topics[0].topic_id, id_a, 16);
    for (int16_t v = RILL_METADATA_MIN_VER; v <= RILL_METADATA_MAX_VER; v++) {
        rill_metadata_req m = {topics, 2, true, v >= 8 && v <= 10, v >= 8};
        if (v >= 4)
            m.allow_auto_topic_creation = (v % 2) == 0;
        rt t;
        rill_metadata_req d;
        rt_check(&t, enc_metadata_req, dec_metadata_req, v, &m, &d, sizeof(d));
        assert_int_equal(d.ntopics, 2);
        assert_cstr(d.topics[0].name, "orders");
        assert_cstr(d.topics[1].name, "");
        assert_memory_equal(d.topics[0].topic_id, v >= 10 ? id_a : id_zero, 16);
        assert_int_equal(d.allow_auto_topic_creation, m.allow_auto_topic_creation);
        assert_int_equal(d.include_cluster_authorized_operations, v >= 8 && v <= 10);
        assert_int_equal(d.include_topic_authorized_operations, v >= 8);
        rt_free(&t);

        /* All topics: null from v1, an empty array in v0; decodes to -1 either way. */
        rill_metadata_req all = {NULL, -1, true, false, false};
        rt_check(&t, enc_metadata_req, dec_metadata_req, v, &all, &d, sizeof(d));
        assert_int_equal(d.ntopics, -1);
        assert_null(d.topics);
        assert_true(d.allow_auto_topic_creation);
        rt_free(&t);

        /* No topics (v1+ only). */
        rill_metadata_req none = {NULL, 0, true, false, false};
        if (v == 0) {
            enc_refused(enc_metadata_req, v, &none);
        } else {
            rt_check(&t, enc_metadata_req, dec_metadata_req, v, &none, &d, sizeof(d));
            assert_int_equal(d.ntopics, 0);
            rt_free(&t);
        }
    }
}

static void request_refusals(void **state) {
    (void)state;
    rill_metadata_req_topic by_id = {{0}, {NULL, -1}};
    memcpy(by_id.topic_id, id_a, 16);
    rill_metadata_req m = {&by_id, 1, true, false, false};
    enc_refused(enc_metadata_req, 9, &m); /* a null name needs v10 */
    rill_metadata_req_topic named = {{0}, rill__str("x")};
    rill_metadata_req no_auto = {&named, 1, false, false, false};
    enc_refused(enc_metadata_req, 3, &no_auto);
    rill_metadata_req cluster_ops = {&named, 1, true, true, false};
    enc_refused(enc_metadata_req, 7, &cluster_ops);
    enc_refused(enc_metadata_req, 11, &cluster_ops);
    rill_metadata_req topic_ops = {&named, 1, true, false, true};
    enc_refused(enc_metadata_req, 7, &topic_ops);
    enc_refused(enc_metadata_req, 13, &named);

    /* A null topic array is malformed in v0, and a null name before v10. */
    static const uint8_t v0_null[] = {0xff, 0xff, 0xff, 0xff};
    rill_rd r;
    rill_arena a;
    rill__arena_init(&a, 0);
    rill_metadata_req d;
    rill__rd_init(&r, v0_null, sizeof(v0_null));
    assert_int_equal(rill__metadata_req_decode(&r, 0, &d, &a), -1);
    static const uint8_t v1_null_name[] = {0x00, 0x00, 0x00, 0x01, 0xff, 0xff};
    rill__rd_init(&r, v1_null_name, sizeof(v1_null_name));
    assert_int_equal(rill__metadata_req_decode(&r, 1, &d, &a), -1);
    /* A hostile topic count is refused before allocation. */
    rill__arena_free(&a);
    static const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff, 0x00, 0x01, 'x'};
    rill__rd_init(&r, huge, sizeof(huge));
    assert_int_equal(rill__metadata_req_decode(&r, 1, &d, &a), -1);
    assert_null(a.head);
    rill__arena_free(&a);
}

static int32_t replicas[] = {1, 2, 3};
static int32_t isr[] = {1, 3};
static int32_t offline[] = {2};

static void response_all_versions(void **state) {
    (void)state;
    rill_metadata_broker brokers[2] = {
        {1, rill__str("broker-1.local"), 9092, rill__str("rack-a")},
        {2, rill__str("broker-2.local"), 9093, {NULL, -1}},
    };
    rill_metadata_partition parts[2] = {
        {0, 0, 1, 17, replicas, 3, isr, 2, offline, 1},
        {9, 1, -1, 18, replicas, 1, isr, 0, NULL, 0},
    };
    rill_metadata_topic topics[2] = {
        {0, rill__str("orders"), {0}, true, parts, 2, 0x0ff8},
        {3, rill__str("missing"), {0}, false, NULL, 0, RILL_AUTHORIZED_OPS_UNKNOWN},
    };
    memcpy(topics[0].topic_id, id_a, 16);
    rill_metadata_resp m = {100, brokers, 2, rill__str("cluster-xyz"), 1, topics, 2, 0x0abc};
    for (int16_t v = RILL_METADATA_MIN_VER; v <= RILL_METADATA_MAX_VER; v++) {
        rt t;
        rill_metadata_resp d;
        rt_check(&t, enc_metadata_resp, dec_metadata_resp, v, &m, &d, sizeof(d));
        assert_int_equal(d.throttle_time_ms, v >= 3 ? 100 : 0);
        assert_int_equal(d.nbrokers, 2);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(d.brokers[i].node_id, brokers[i].node_id);
            assert_str_eq(d.brokers[i].host, brokers[i].host);
            assert_int_equal(d.brokers[i].port, brokers[i].port);
            if (v >= 1)
                assert_str_eq(d.brokers[i].rack, brokers[i].rack);
            else
                assert_str_null(d.brokers[i].rack);
        }
        if (v >= 2)
            assert_cstr(d.cluster_id, "cluster-xyz");
        else
            assert_str_null(d.cluster_id);
        assert_int_equal(d.controller_id, v >= 1 ? 1 : -1);
        assert_int_equal(d.ntopics, 2);
        const rill_metadata_topic *dt = &d.topics[0];
        assert_int_equal(dt->error_code, 0);
        assert_cstr(dt->name, "orders");
        assert_memory_equal(dt->topic_id, v >= 10 ? id_a : id_zero, 16);
        assert_int_equal(dt->is_internal, v >= 1);
        assert_int_equal(dt->topic_authorized_operations,
                         v >= 8 ? 0x0ff8 : RILL_AUTHORIZED_OPS_UNKNOWN);
        assert_int_equal(dt->npartitions, 2);
        for (int k = 0; k < 2; k++) {
            const rill_metadata_partition *p = &dt->partitions[k], *e = &parts[k];
            assert_int_equal(p->error_code, e->error_code);
            assert_int_equal(p->partition_index, e->partition_index);
            assert_int_equal(p->leader_id, e->leader_id);
            assert_int_equal(p->leader_epoch, v >= 7 ? e->leader_epoch : -1);
            assert_int_equal(p->nreplica_nodes, e->nreplica_nodes);
            assert_memory_equal(p->replica_nodes, e->replica_nodes, 4 * (size_t)e->nreplica_nodes);
            assert_int_equal(p->nisr_nodes, e->nisr_nodes);
            if (e->nisr_nodes)
                assert_memory_equal(p->isr_nodes, e->isr_nodes, 4 * (size_t)e->nisr_nodes);
            assert_int_equal(p->noffline_replicas, v >= 5 ? e->noffline_replicas : 0);
            if (v >= 5 && e->noffline_replicas)
                assert_int_equal(p->offline_replicas[0], 2);
        }
        assert_int_equal(d.topics[1].error_code, 3);
        assert_cstr(d.topics[1].name, "missing");
        assert_int_equal(d.topics[1].npartitions, 0);
        assert_int_equal(d.cluster_authorized_operations,
                         (v >= 8 && v <= 10) ? 0x0abc : RILL_AUTHORIZED_OPS_UNKNOWN);
        rt_free(&t);
    }
    /* A topic without a name: v12 only. */
    rill_metadata_topic by_id = {100, {NULL, -1}, {0}, false, NULL, 0, 0};
    rill_metadata_resp idm = {0, NULL, 0, {NULL, -1}, -1, &by_id, 1, 0};
    enc_refused(enc_metadata_resp, 11, &idm);
    rt t;
    rill_metadata_resp d;
    rt_check(&t, enc_metadata_resp, dec_metadata_resp, 12, &idm, &d, sizeof(d));
    assert_str_null(d.topics[0].name);
    assert_str_null(d.cluster_id);
    rt_free(&t);
}

/* v9 response with an unknown tag at every struct level. */
static void response_unknown_tags(void **state) {
    (void)state;
    static const uint8_t body[] = {
        0x00, 0x00, 0x00, 0x00,                                           /* throttle */
        0x02,                                                             /* 1 broker */
        0x00, 0x00, 0x00, 0x01, 0x02, 'h',  0x00, 0x00, 0x23, 0x84, 0x00, /* id, host, port, rack */
        0x01, 0x05, 0x01, 0xee,                                           /* broker tag 5 */
        0x00,                                                             /* cluster id null */
        0x00, 0x00, 0x00, 0x01,                                           /* controller */
        0x02,                                                             /* 1 topic */
        0x00, 0x00, 0x02, 't',  0x00,                               /* error, name, internal */
        0x02,                                                       /* 1 partition */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, /* error, index, leader */
        0x00, 0x00, 0x00, 0x04,                                     /* epoch */
        0x02, 0x00, 0x00, 0x00, 0x01,                               /* replicas [1] */
        0x02, 0x00, 0x00, 0x00, 0x01,                               /* isr [1] */
        0x01,                                                       /* offline [] */
        0x02, 0x01, 0x00, 0x02, 0x02, 0xaa, 0xbb,                   /* partition tags 1 and 2 */
        0x80, 0x00, 0x00, 0x00,                                     /* topic authorized ops */
        0x01, 0x09, 0x00,                                           /* topic tag 9, empty */
        0x80, 0x00, 0x00, 0x00,                                     /* cluster authorized ops */
        0x01, 0x00, 0x03, 0x01, 0x02, 0x03,                         /* top tag 0 */
    };
    rill_arena a;
    rill_metadata_resp d;
    decode_whole(dec_metadata_resp, 9, body, sizeof(body), &d, &a);
    assert_int_equal(d.nbrokers, 1);
    assert_int_equal(d.brokers[0].port, 9092);
    assert_str_null(d.brokers[0].rack);
    assert_int_equal(d.topics[0].partitions[0].leader_epoch, 4);
    assert_int_equal(d.topics[0].partitions[0].isr_nodes[0], 1);
    assert_int_equal(d.topics[0].topic_authorized_operations, INT32_MIN);
    rill__arena_free(&a);
    rt_truncations(dec_metadata_resp, 9, body, sizeof(body), sizeof(d));
}

static void golden_requests(void **state) {
    (void)state;
    rill_metadata_req_topic topic = {{0}, rill__str("events")};
    rill_metadata_req m = {&topic, 1, true, false, false};
    static const uint8_t v1[] = {
        0x00, 0x00, 0x00, 0x1a,                         /* size 26 */
        0x00, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x07, /* Metadata v1, correlation 7 */
        0x00, 0x04, 'r',  'i',  'l',  'l',              /* client id */
        0x00, 0x00, 0x00, 0x01,                         /* one topic */
        0x00, 0x06, 'e',  'v',  'e',  'n',  't',  's',
    };
    assert_request_frame(enc_metadata_req, RILL_API_METADATA, 1, 7, &m, v1, sizeof(v1));

    static const uint8_t v9[] = {
        0x00, 0x00, 0x00, 0x1c,                         /* size 28 */
        0x00, 0x03, 0x00, 0x09, 0x00, 0x00, 0x00, 0x08, /* Metadata v9, correlation 8 */
        0x00, 0x04, 'r',  'i',  'l',  'l',  0x00,       /* client id, header tags */
        0x02,                                           /* compact array: one topic */
        0x07, 'e',  'v',  'e',  'n',  't',  's',  0x00, /* compact name, topic tags */
        0x01,                                           /* allow auto creation */
        0x00,                                           /* cluster authorized ops */
        0x00,                                           /* topic authorized ops */
        0x00,                                           /* tags */
    };
    assert_request_frame(enc_metadata_req, RILL_API_METADATA, 9, 8, &m, v9, sizeof(v9));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_all_versions),  cmocka_unit_test(request_refusals),
        cmocka_unit_test(response_all_versions), cmocka_unit_test(response_unknown_tags),
        cmocka_unit_test(golden_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
