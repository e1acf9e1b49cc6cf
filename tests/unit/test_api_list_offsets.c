/*
 * test_api_list_offsets.c -- ListOffsets codec, v0-8 both ways: the v0
 * max_num_offsets / old-style offsets form, isolation level (v2+), leader
 * epochs (v4+), flexible v6+, refusals, and a golden v1 request body.
 */
#include "api_test.h"

#include "proto/api_list_offsets.h"

API_CODEC(list_offsets_req, rill_list_offsets_req)
API_CODEC(list_offsets_resp, rill_list_offsets_resp)

static void request_all_versions(void **state) {
    (void)state;
    rill_list_offsets_req_partition parts[2] = {
        {0, 5, RILL_LIST_OFFSETS_EARLIEST, 1},
        {3, 6, 1700000000000LL, 10},
    };
    rill_list_offsets_req_topic topics[2] = {{rill__str("orders"), parts, 2},
                                             {rill__str("empty"), NULL, 0}};
    for (int16_t v = RILL_LIST_OFFSETS_MIN_VER; v <= RILL_LIST_OFFSETS_MAX_VER; v++) {
        rill_list_offsets_req m = {-1, v >= 2 ? 1 : 0, topics, 2};
        rt t;
        rill_list_offsets_req d;
        rt_check(&t, enc_list_offsets_req, dec_list_offsets_req, v, &m, &d, sizeof(d));
        assert_int_equal(d.replica_id, -1);
        assert_int_equal(d.isolation_level, v >= 2 ? 1 : 0);
        assert_int_equal(d.ntopics, 2);
        assert_cstr(d.topics[0].name, "orders");
        assert_int_equal(d.topics[0].npartitions, 2);
        for (int k = 0; k < 2; k++) {
            const rill_list_offsets_req_partition *p = &d.topics[0].partitions[k];
            assert_int_equal(p->partition_index, parts[k].partition_index);
            assert_int_equal(p->current_leader_epoch, v >= 4 ? parts[k].current_leader_epoch : -1);
            assert_true(p->timestamp == parts[k].timestamp);
            assert_int_equal(p->max_num_offsets, v == 0 ? parts[k].max_num_offsets : 1);
        }
        assert_cstr(d.topics[1].name, "empty");
        assert_int_equal(d.topics[1].npartitions, 0);
        rt_free(&t);
    }
    rill_list_offsets_req committed = {-1, 1, topics, 1};
    enc_refused(enc_list_offsets_req, 1, &committed); /* read_committed needs v2 */
    enc_refused(enc_list_offsets_req, 9, &committed);
}

static void response_all_versions(void **state) {
    (void)state;
    int64_t old[3] = {500, 200, 0};
    rill_list_offsets_resp_partition parts[2] = {
        {0, 0, old, 3, 1700000000000LL, 500, 4},
        {3, 6, NULL, 0, -1, -1, -1},
    };
    rill_list_offsets_resp_topic topics[1] = {{rill__str("orders"), parts, 2}};
    rill_list_offsets_resp m = {9, topics, 1};
    for (int16_t v = RILL_LIST_OFFSETS_MIN_VER; v <= RILL_LIST_OFFSETS_MAX_VER; v++) {
        rt t;
        rill_list_offsets_resp d;
        rt_check(&t, enc_list_offsets_resp, dec_list_offsets_resp, v, &m, &d, sizeof(d));
        assert_int_equal(d.throttle_time_ms, v >= 2 ? 9 : 0);
        assert_int_equal(d.ntopics, 1);
        assert_cstr(d.topics[0].name, "orders");
        const rill_list_offsets_resp_partition *p = &d.topics[0].partitions[0];
        assert_int_equal(p->partition_index, 0);
        assert_int_equal(p->error_code, 0);
        if (v == 0) {
            assert_int_equal(p->nold_style_offsets, 3);
            assert_memory_equal(p->old_style_offsets, old, sizeof(old));
            assert_true(p->timestamp == -1 && p->offset == -1);
        } else {
            assert_int_equal(p->nold_style_offsets, 0);
            assert_true(p->timestamp == 1700000000000LL);
            assert_true(p->offset == 500);
        }
        assert_int_equal(p->leader_epoch, v >= 4 ? 4 : -1);
        p = &d.topics[0].partitions[1];
        assert_int_equal(p->error_code, 6);
        assert_int_equal(p->nold_style_offsets, 0);
        rt_free(&t);
    }
}

static void golden_v1_request(void **state) {
    (void)state;
    rill_list_offsets_req_partition part = {2, -1, RILL_LIST_OFFSETS_LATEST, 1};
    rill_list_offsets_req_topic topic = {rill__str("t"), &part, 1};
    rill_list_offsets_req m = {-1, 0, &topic, 1};
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(rill__list_offsets_req_encode(&b, 1, &m), 0);
    static const uint8_t v1[] = {
        0xff, 0xff, 0xff, 0xff,                         /* replica id -1 */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',        /* one topic "t" */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, /* one partition, index 2 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* timestamp -1 (latest) */
    };
    assert_bytes(&b, v1);
    rill__buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_all_versions),
        cmocka_unit_test(response_all_versions),
        cmocka_unit_test(golden_v1_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
