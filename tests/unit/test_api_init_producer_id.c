/*
 * test_api_init_producer_id.c -- InitProducerId codec, v0-5 both ways,
 * the v3+ producer id/epoch (defaults and refusals), and golden bytes for
 * a classic and a flexible request.
 */
#include "api_test.h"

#include "proto/api_init_producer_id.h"

API_CODEC(init_producer_id_req, rill_init_producer_id_req)
API_CODEC(init_producer_id_resp, rill_init_producer_id_resp)

static void request_all_versions(void **state) {
    (void)state;
    for (int16_t v = RILL_INIT_PRODUCER_ID_MIN_VER; v <= RILL_INIT_PRODUCER_ID_MAX_VER; v++) {
        /* Idempotent producer: no transactional id, no current id. */
        rill_init_producer_id_req m = {rill__str_null(), 60000, -1, -1};
        rt t;
        rill_init_producer_id_req d;
        rt_check(&t, enc_init_producer_id_req, dec_init_producer_id_req, v, &m, &d, sizeof(d));
        assert_str_null(d.transactional_id);
        assert_int_equal(d.transaction_timeout_ms, 60000);
        assert_true(d.producer_id == -1);
        assert_int_equal(d.producer_epoch, -1);
        rt_free(&t);

        /* Transactional, resuming an id (v3+ only). */
        rill_init_producer_id_req resume = {rill__str("txn-a"), 1000, 4000, 3};
        if (v < 3) {
            enc_refused(enc_init_producer_id_req, v, &resume);
            continue;
        }
        rt_check(&t, enc_init_producer_id_req, dec_init_producer_id_req, v, &resume, &d, sizeof(d));
        assert_cstr(d.transactional_id, "txn-a");
        assert_true(d.producer_id == 4000);
        assert_int_equal(d.producer_epoch, 3);
        rt_free(&t);
    }
    rill_init_producer_id_req m = {rill__str_null(), 0, -1, -1};
    enc_refused(enc_init_producer_id_req, 6, &m);
}

static void response_all_versions(void **state) {
    (void)state;
    rill_init_producer_id_resp m = {5, 0, 123456789012LL, 7};
    for (int16_t v = RILL_INIT_PRODUCER_ID_MIN_VER; v <= RILL_INIT_PRODUCER_ID_MAX_VER; v++) {
        rt t;
        rill_init_producer_id_resp d;
        rt_check(&t, enc_init_producer_id_resp, dec_init_producer_id_resp, v, &m, &d, sizeof(d));
        assert_int_equal(d.throttle_time_ms, 5);
        assert_int_equal(d.error_code, 0);
        assert_true(d.producer_id == 123456789012LL);
        assert_int_equal(d.producer_epoch, 7);
        assert_int_equal(t.buf.len, 16 + (v >= 2));
        rt_free(&t);
    }
}

static void golden_bodies(void **state) {
    (void)state;
    rill_init_producer_id_req m = {rill__str("tx"), 60000, 9, 1};
    rill_buf b;
    rill__buf_init(&b, 0);
    m.producer_id = -1;
    m.producer_epoch = -1;
    assert_int_equal(rill__init_producer_id_req_encode(&b, 1, &m), 0);
    static const uint8_t v1[] = {0x00, 0x02, 't', 'x', 0x00, 0x00, 0xea, 0x60};
    assert_bytes(&b, v1);
    rill__buf_reset(&b);
    m.producer_id = 9;
    m.producer_epoch = 1;
    assert_int_equal(rill__init_producer_id_req_encode(&b, 4, &m), 0);
    static const uint8_t v4[] = {0x03, 't',  'x',  0x00, 0x00, 0xea, 0x60, 0x00, 0x00,
                                 0x00, 0x00, 0x00, 0x00, 0x00, 0x09, 0x00, 0x01, 0x00};
    assert_bytes(&b, v4);
    rill__buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_all_versions),
        cmocka_unit_test(response_all_versions),
        cmocka_unit_test(golden_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
