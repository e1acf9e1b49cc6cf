/*
 * test_api_topics.c -- CreateTopics (v0-7), DeleteTopics (v0-6) and
 * CreatePartitions (v0-3) codecs: every version both ways, per-version
 * fields and defaults, the tagged TopicConfigErrorCode, the DeleteTopics
 * names-vs-ids shapes, nullable arrays, and refused encodings.
 */
#include "api_test.h"

#include "proto/api_topics.h"

API_CODEC(create_topics_req, rill_create_topics_req)
API_CODEC(create_topics_resp, rill_create_topics_resp)
API_CODEC(delete_topics_req, rill_delete_topics_req)
API_CODEC(delete_topics_resp, rill_delete_topics_resp)
API_CODEC(create_partitions_req, rill_create_partitions_req)
API_CODEC(create_partitions_resp, rill_create_partitions_resp)

static const uint8_t id_a[16] = {0xa0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t id_zero[16];
static int32_t brokers_a[] = {1, 2};
static int32_t brokers_b[] = {3};

static void create_topics_request(void **state) {
    (void)state;
    rill_create_topics_assignment as[2] = {{0, brokers_a, 2}, {1, brokers_b, 1}};
    rill_create_topics_config cfg[2] = {{rill__str("cleanup.policy"), rill__str("compact")},
                                        {rill__str("retention.ms"), {NULL, -1}}};
    rill_create_topics_topic topics[2] = {
        {rill__str("manual"), -1, -1, as, 2, cfg, 2},
        {rill__str("auto"), 6, 1, NULL, 0, NULL, 0},
    };
    for (int16_t v = RILL_CREATE_TOPICS_MIN_VER; v <= RILL_CREATE_TOPICS_MAX_VER; v++) {
        rill_create_topics_req m = {topics, 2, 15000, v >= 1};
        rt t;
        rill_create_topics_req d;
        rt_check(&t, enc_create_topics_req, dec_create_topics_req, v, &m, &d, sizeof(d));
        assert_int_equal(d.ntopics, 2);
        assert_int_equal(d.timeout_ms, 15000);
        assert_int_equal(d.validate_only, v >= 1);
        const rill_create_topics_topic *x = &d.topics[0];
        assert_cstr(x->name, "manual");
        assert_int_equal(x->num_partitions, -1);
        assert_int_equal(x->replication_factor, -1);
        assert_int_equal(x->nassignments, 2);
        assert_int_equal(x->assignments[0].partition_index, 0);
        assert_int_equal(x->assignments[0].nbroker_ids, 2);
        assert_int_equal(x->assignments[0].broker_ids[1], 2);
        assert_int_equal(x->assignments[1].partition_index, 1);
        assert_int_equal(x->assignments[1].broker_ids[0], 3);
        assert_int_equal(x->nconfigs, 2);
        assert_cstr(x->configs[0].name, "cleanup.policy");
        assert_cstr(x->configs[0].value, "compact");
        assert_cstr(x->configs[1].name, "retention.ms");
        assert_str_null(x->configs[1].value);
        x = &d.topics[1];
        assert_cstr(x->name, "auto");
        assert_int_equal(x->num_partitions, 6);
        assert_int_equal(x->replication_factor, 1);
        assert_int_equal(x->nassignments, 0);
        assert_int_equal(x->nconfigs, 0);
        rt_free(&t);
    }
    rill_create_topics_req validate = {topics, 1, 0, true};
    enc_refused(enc_create_topics_req, 0, &validate); /* v0 would really create it */
    enc_refused(enc_create_topics_req, 8, &validate);
}

static void create_topics_response(void **state) {
    (void)state;
    rill_create_topics_result_config cfg[2] = {
        {rill__str("cleanup.policy"), rill__str("delete"), false, 5, false},
        {rill__str("sasl.password"), {NULL, -1}, true, 4, true},
    };
    rill_create_topics_result res[3] = {
        {rill__str("a"), {0}, 0, {NULL, -1}, false, 0, 3, 1, cfg, 2},
        {rill__str("b"), {0}, 36, rill__str("exists"), true, 29, -1, -1, NULL, -1},
        {rill__str("c"), {0}, 0, {NULL, -1}, false, 0, 1, 1, NULL, 0},
    };
    memcpy(res[0].topic_id, id_a, 16);
    rill_create_topics_resp m = {12, res, 3};
    for (int16_t v = RILL_CREATE_TOPICS_MIN_VER; v <= RILL_CREATE_TOPICS_MAX_VER; v++) {
        rt t;
        rill_create_topics_resp d;
        rt_check(&t, enc_create_topics_resp, dec_create_topics_resp, v, &m, &d, sizeof(d));
        assert_int_equal(d.throttle_time_ms, v >= 2 ? 12 : 0);
        assert_int_equal(d.ntopics, 3);
        const rill_create_topics_result *x = &d.topics[0];
        assert_cstr(x->name, "a");
        assert_memory_equal(x->topic_id, v >= 7 ? id_a : id_zero, 16);
        assert_int_equal(x->error_code, 0);
        assert_str_null(x->error_message);
        assert_false(x->has_topic_config_error_code);
        assert_int_equal(x->num_partitions, v >= 5 ? 3 : -1);
        assert_int_equal(x->replication_factor, v >= 5 ? 1 : -1);
        if (v >= 5) {
            assert_int_equal(x->nconfigs, 2);
            assert_cstr(x->configs[0].name, "cleanup.policy");
            assert_cstr(x->configs[0].value, "delete");
            assert_false(x->configs[0].read_only);
            assert_int_equal(x->configs[0].config_source, 5);
            assert_false(x->configs[0].is_sensitive);
            assert_str_null(x->configs[1].value);
            assert_true(x->configs[1].read_only);
            assert_int_equal(x->configs[1].config_source, 4);
            assert_true(x->configs[1].is_sensitive);
        } else {
            assert_int_equal(x->nconfigs, 0);
        }
        x = &d.topics[1];
        assert_int_equal(x->error_code, 36);
        if (v >= 1)
            assert_cstr(x->error_message, "exists");
        else
            assert_str_null(x->error_message);
        assert_int_equal(x->has_topic_config_error_code, v >= 5);
        assert_int_equal(x->topic_config_error_code, v >= 5 ? 29 : 0);
        assert_int_equal(x->nconfigs, v >= 5 ? -1 : 0); /* null configs, v5+ */
        assert_int_equal(d.topics[2].nconfigs, 0);
        rt_free(&t);
    }
}

static void delete_topics(void **state) {
    (void)state;
    rill_delete_topics_req_topic named[2] = {{rill__str("a"), {0}}, {rill__str("bb"), {0}}};
    for (int16_t v = RILL_DELETE_TOPICS_MIN_VER; v <= RILL_DELETE_TOPICS_MAX_VER; v++) {
        rill_delete_topics_req m = {named, 2, 5000};
        rt t;
        rill_delete_topics_req d;
        rt_check(&t, enc_delete_topics_req, dec_delete_topics_req, v, &m, &d, sizeof(d));
        assert_int_equal(d.ntopics, 2);
        assert_cstr(d.topics[0].name, "a");
        assert_cstr(d.topics[1].name, "bb");
        assert_memory_equal(d.topics[1].topic_id, id_zero, 16);
        assert_int_equal(d.timeout_ms, 5000);
        /* Names only before v6: 2-byte or compact strings, no per-topic tags. */
        if (v < 4)
            assert_int_equal(t.buf.len, 4 + 3 + 4 + 4);
        else if (v < 6)
            assert_int_equal(t.buf.len, 1 + 2 + 3 + 4 + 1);
        rt_free(&t);

        rill_delete_topics_req_topic by_id = {{NULL, -1}, {0}};
        memcpy(by_id.topic_id, id_a, 16);
        rill_delete_topics_req idm = {&by_id, 1, 100};
        if (v < 6) {
            enc_refused(enc_delete_topics_req, v, &idm);
        } else {
            rt_check(&t, enc_delete_topics_req, dec_delete_topics_req, v, &idm, &d, sizeof(d));
            assert_str_null(d.topics[0].name);
            assert_memory_equal(d.topics[0].topic_id, id_a, 16);
            rt_free(&t);
        }
        /* A named topic with an id cannot go to v0-5 either. */
        rill_delete_topics_req_topic both = {rill__str("a"), {0}};
        memcpy(both.topic_id, id_a, 16);
        rill_delete_topics_req bm = {&both, 1, 100};
        if (v < 6)
            enc_refused(enc_delete_topics_req, v, &bm);
    }

    rill_delete_topics_result res[2] = {{rill__str("a"), {0}, 0, {NULL, -1}},
                                        {rill__str("zz"), {0}, 3, rill__str("unknown")}};
    memcpy(res[0].topic_id, id_a, 16);
    rill_delete_topics_resp m = {8, res, 2};
    for (int16_t v = RILL_DELETE_TOPICS_MIN_VER; v <= RILL_DELETE_TOPICS_MAX_VER; v++) {
        rt t;
        rill_delete_topics_resp d;
        rt_check(&t, enc_delete_topics_resp, dec_delete_topics_resp, v, &m, &d, sizeof(d));
        assert_int_equal(d.throttle_time_ms, v >= 1 ? 8 : 0);
        assert_int_equal(d.nresponses, 2);
        assert_cstr(d.responses[0].name, "a");
        assert_memory_equal(d.responses[0].topic_id, v >= 6 ? id_a : id_zero, 16);
        assert_int_equal(d.responses[0].error_code, 0);
        assert_str_null(d.responses[0].error_message);
        assert_int_equal(d.responses[1].error_code, 3);
        if (v >= 5)
            assert_cstr(d.responses[1].error_message, "unknown");
        else
            assert_str_null(d.responses[1].error_message);
        rt_free(&t);
    }
    rill_delete_topics_result noname = {{NULL, -1}, {0}, 100, {NULL, -1}};
    rill_delete_topics_resp nm = {0, &noname, 1};
    enc_refused(enc_delete_topics_resp, 5, &nm);
}

static void create_partitions(void **state) {
    (void)state;
    rill_create_partitions_assignment as[2] = {{brokers_a, 2}, {brokers_b, 1}};
    rill_create_partitions_topic topics[2] = {{rill__str("grow"), 5, as, 2},
                                              {rill__str("auto"), 3, NULL, -1}};
    rill_create_partitions_result res[2] = {{rill__str("grow"), 0, {NULL, -1}},
                                            {rill__str("auto"), 37, rill__str("too few")}};
    for (int16_t v = RILL_CREATE_PARTITIONS_MIN_VER; v <= RILL_CREATE_PARTITIONS_MAX_VER; v++) {
        rill_create_partitions_req m = {topics, 2, 3000, true};
        rt t;
        rill_create_partitions_req d;
        rt_check(&t, enc_create_partitions_req, dec_create_partitions_req, v, &m, &d, sizeof(d));
        assert_int_equal(d.ntopics, 2);
        assert_cstr(d.topics[0].name, "grow");
        assert_int_equal(d.topics[0].count, 5);
        assert_int_equal(d.topics[0].nassignments, 2);
        assert_int_equal(d.topics[0].assignments[0].nbroker_ids, 2);
        assert_int_equal(d.topics[0].assignments[0].broker_ids[0], 1);
        assert_int_equal(d.topics[0].assignments[1].broker_ids[0], 3);
        assert_int_equal(d.topics[1].nassignments, -1);
        assert_int_equal(d.timeout_ms, 3000);
        assert_true(d.validate_only);
        rt_free(&t);

        rill_create_partitions_resp r = {4, res, 2};
        rill_create_partitions_resp dr;
        rt_check(&t, enc_create_partitions_resp, dec_create_partitions_resp, v, &r, &dr,
                 sizeof(dr));
        assert_int_equal(dr.throttle_time_ms, 4);
        assert_int_equal(dr.nresults, 2);
        assert_cstr(dr.results[0].name, "grow");
        assert_str_null(dr.results[0].error_message);
        assert_int_equal(dr.results[1].error_code, 37);
        assert_cstr(dr.results[1].error_message, "too few");
        rt_free(&t);
    }
    /* An assignment's broker list is not nullable. */
    rill_create_partitions_assignment bad_as = {NULL, -1};
    rill_create_partitions_topic bad_t = {rill__str("x"), 2, &bad_as, 1};
    rill_create_partitions_req bad = {&bad_t, 1, 0, false};
    enc_refused(enc_create_partitions_req, 0, &bad);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_topics_request),
        cmocka_unit_test(create_topics_response),
        cmocka_unit_test(delete_topics),
        cmocka_unit_test(create_partitions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
