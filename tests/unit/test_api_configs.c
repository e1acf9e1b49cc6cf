/*
 * test_api_configs.c -- DescribeConfigs codec, v0-4 both ways: v0's
 * IsDefault vs v1+ ConfigSource and synonyms, v3+ type and documentation,
 * null key lists, refusals, and a golden v0 request body.
 */
#include "api_test.h"

#include "proto/api_configs.h"

API_CODEC(describe_configs_req, rill_describe_configs_req)
API_CODEC(describe_configs_resp, rill_describe_configs_resp)

static void request_all_versions(void **state) {
    (void)state;
    rill_str keys[2] = {rill__str("retention.ms"), rill__str("cleanup.policy")};
    rill_describe_configs_resource res[2] = {
        {RILL_CONFIG_RESOURCE_TOPIC, rill__str("orders"), keys, 2},
        {RILL_CONFIG_RESOURCE_BROKER, rill__str("1"), NULL, -1},
    };
    for (int16_t v = RILL_DESCRIBE_CONFIGS_MIN_VER; v <= RILL_DESCRIBE_CONFIGS_MAX_VER; v++) {
        rill_describe_configs_req m = {res, 2, v >= 1, v >= 3};
        rt t;
        rill_describe_configs_req d;
        rt_check(&t, enc_describe_configs_req, dec_describe_configs_req, v, &m, &d, sizeof(d));
        assert_int_equal(d.nresources, 2);
        assert_int_equal(d.resources[0].resource_type, RILL_CONFIG_RESOURCE_TOPIC);
        assert_cstr(d.resources[0].resource_name, "orders");
        assert_int_equal(d.resources[0].nconfiguration_keys, 2);
        assert_cstr(d.resources[0].configuration_keys[1], "cleanup.policy");
        assert_int_equal(d.resources[1].resource_type, RILL_CONFIG_RESOURCE_BROKER);
        assert_int_equal(d.resources[1].nconfiguration_keys, -1);
        assert_null(d.resources[1].configuration_keys);
        assert_int_equal(d.include_synonyms, v >= 1);
        assert_int_equal(d.include_documentation, v >= 3);
        rt_free(&t);
    }
    rill_describe_configs_req syn = {res, 1, true, false};
    enc_refused(enc_describe_configs_req, 0, &syn);
    rill_describe_configs_req doc = {res, 1, true, true};
    enc_refused(enc_describe_configs_req, 2, &doc);
    enc_refused(enc_describe_configs_req, 5, &doc);
}

static void response_all_versions(void **state) {
    (void)state;
    rill_describe_configs_synonym syns[2] = {
        {rill__str("retention.ms"), rill__str("1000"), 1},
        {rill__str("log.retention.ms"), {NULL, -1}, 5},
    };
    rill_describe_configs_entry entries[2] = {
        {rill__str("retention.ms"), rill__str("1000"), false, true, 1, false, syns, 2, 5,
         rill__str("How long to keep data.")},
        {rill__str("ssl.key.password"), {NULL, -1}, true, false, 4, true, NULL, 0, 9, {NULL, -1}},
    };
    rill_describe_configs_result results[2] = {
        {0, {NULL, -1}, RILL_CONFIG_RESOURCE_TOPIC, rill__str("orders"), entries, 2},
        {3, rill__str("no such topic"), RILL_CONFIG_RESOURCE_TOPIC, rill__str("x"), NULL, 0},
    };
    rill_describe_configs_resp m = {20, results, 2};
    for (int16_t v = RILL_DESCRIBE_CONFIGS_MIN_VER; v <= RILL_DESCRIBE_CONFIGS_MAX_VER; v++) {
        rt t;
        rill_describe_configs_resp d;
        rt_check(&t, enc_describe_configs_resp, dec_describe_configs_resp, v, &m, &d, sizeof(d));
        assert_int_equal(d.throttle_time_ms, 20);
        assert_int_equal(d.nresults, 2);
        const rill_describe_configs_result *r0 = &d.results[0];
        assert_int_equal(r0->error_code, 0);
        assert_str_null(r0->error_message);
        assert_int_equal(r0->resource_type, RILL_CONFIG_RESOURCE_TOPIC);
        assert_cstr(r0->resource_name, "orders");
        assert_int_equal(r0->nconfigs, 2);
        const rill_describe_configs_entry *c = &r0->configs[0];
        assert_cstr(c->name, "retention.ms");
        assert_cstr(c->value, "1000");
        assert_false(c->read_only);
        assert_int_equal(c->is_default, v == 0);
        assert_int_equal(c->config_source, v >= 1 ? 1 : -1);
        assert_false(c->is_sensitive);
        if (v >= 1) {
            assert_int_equal(c->nsynonyms, 2);
            assert_cstr(c->synonyms[0].value, "1000");
            assert_int_equal(c->synonyms[0].source, 1);
            assert_cstr(c->synonyms[1].name, "log.retention.ms");
            assert_str_null(c->synonyms[1].value);
            assert_int_equal(c->synonyms[1].source, 5);
        } else {
            assert_int_equal(c->nsynonyms, 0);
        }
        assert_int_equal(c->config_type, v >= 3 ? 5 : 0);
        if (v >= 3)
            assert_cstr(c->documentation, "How long to keep data.");
        else
            assert_str_null(c->documentation);
        c = &r0->configs[1];
        assert_str_null(c->value);
        assert_true(c->read_only);
        assert_true(c->is_sensitive);
        assert_str_null(c->documentation);
        assert_int_equal(d.results[1].error_code, 3);
        assert_cstr(d.results[1].error_message, "no such topic");
        assert_int_equal(d.results[1].nconfigs, 0);
        rt_free(&t);
    }
}

static void golden_v0_request(void **state) {
    (void)state;
    rill_describe_configs_resource res = {RILL_CONFIG_RESOURCE_TOPIC, rill__str("t"), NULL, -1};
    rill_describe_configs_req m = {&res, 1, false, false};
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(rill__describe_configs_req_encode(&b, 0, &m), 0);
    static const uint8_t v0[] = {
        0x00, 0x00, 0x00, 0x01, /* one resource */
        0x02,                   /* topic */
        0x00, 0x01, 't',        /* name */
        0xff, 0xff, 0xff, 0xff, /* all keys */
    };
    assert_bytes(&b, v0);
    rill__buf_reset(&b);
    assert_int_equal(rill__describe_configs_req_encode(&b, 4, &m), 0);
    static const uint8_t v4[] = {0x02, 0x02, 0x02, 't', 0x00, 0x00, 0x00, 0x00, 0x00};
    assert_bytes(&b, v4);
    rill__buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_all_versions),
        cmocka_unit_test(response_all_versions),
        cmocka_unit_test(golden_v0_request),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
