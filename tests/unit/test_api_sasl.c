/*
 * test_api_sasl.c -- SaslHandshake v0-1 and SaslAuthenticate v0-2 codecs
 * (api_sasl.h): round trips of every version, golden bytes of a PLAIN
 * exchange, and the fields that may not be null.
 */
#include "api_test.h"

#include "proto/api_sasl.h"
#include "rill.h"

API_CODEC(sasl_handshake_req, rill_sasl_handshake_req)
API_CODEC(sasl_handshake_resp, rill_sasl_handshake_resp)
API_CODEC(sasl_authenticate_req, rill_sasl_authenticate_req)
API_CODEC(sasl_authenticate_resp, rill_sasl_authenticate_resp)

#define S(x) rill__str(x)
#define PLAIN_TOKEN "\0alice\0secret"

static void handshake_both(void **state) {
    (void)state;
    rill_str mechs[] = {S("PLAIN"), S("SCRAM-SHA-256"), S("SCRAM-SHA-512")};
    for (int16_t v = RILL_SASL_HANDSHAKE_MIN_VER; v <= RILL_SASL_HANDSHAKE_MAX_VER; v++) {
        rill_sasl_handshake_req m = {S("SCRAM-SHA-256")};
        rt t;
        rill_sasl_handshake_req d;
        rt_check(&t, enc_sasl_handshake_req, dec_sasl_handshake_req, v, &m, &d, sizeof(d));
        assert_cstr(d.mechanism, "SCRAM-SHA-256");
        rt_free(&t);

        rill_sasl_handshake_resp rm = {RILL_ERR_UNSUPPORTED_SASL_MECHANISM, mechs, 3};
        rill_sasl_handshake_resp rd;
        rt_check(&t, enc_sasl_handshake_resp, dec_sasl_handshake_resp, v, &rm, &rd, sizeof(rd));
        assert_int_equal(rd.error_code, RILL_ERR_UNSUPPORTED_SASL_MECHANISM);
        assert_int_equal(rd.nmechanisms, 3);
        for (int i = 0; i < 3; i++)
            assert_str_eq(rd.mechanisms[i], mechs[i]);
        rt_free(&t);
    }
    rill_sasl_handshake_req null_mech = {rill__str_null()};
    enc_refused(enc_sasl_handshake_req, 1, &null_mech);
    rill_sasl_handshake_req ok = {S("PLAIN")};
    enc_refused(enc_sasl_handshake_req, 2, &ok);
}

static void authenticate_both(void **state) {
    (void)state;
    rill_bytes token = {(const uint8_t *)PLAIN_TOKEN, (int32_t)sizeof(PLAIN_TOKEN) - 1};
    for (int16_t v = RILL_SASL_AUTHENTICATE_MIN_VER; v <= RILL_SASL_AUTHENTICATE_MAX_VER; v++) {
        rill_sasl_authenticate_req m = {token};
        rt t;
        rill_sasl_authenticate_req d;
        rt_check(&t, enc_sasl_authenticate_req, dec_sasl_authenticate_req, v, &m, &d, sizeof(d));
        assert_int_equal(d.auth_bytes.len, token.len);
        assert_memory_equal(d.auth_bytes.ptr, token.ptr, (size_t)token.len);
        rt_free(&t);

        rill_sasl_authenticate_resp ok = {
            0, rill__str_null(), {(const uint8_t *)"", 0}, v >= 1 ? 3600000 : 0};
        rill_sasl_authenticate_resp rd;
        rt_check(&t, enc_sasl_authenticate_resp, dec_sasl_authenticate_resp, v, &ok, &rd,
                 sizeof(rd));
        assert_int_equal(rd.error_code, 0);
        assert_str_null(rd.error_message);
        assert_int_equal(rd.auth_bytes.len, 0);
        assert_int_equal(rd.session_lifetime_ms, ok.session_lifetime_ms);
        rt_free(&t);

        rill_sasl_authenticate_resp bad = {RILL_ERR_SASL_AUTHENTICATION_FAILED,
                                           S("Authentication failed: invalid credentials"),
                                           {(const uint8_t *)"", 0},
                                           0};
        rt_check(&t, enc_sasl_authenticate_resp, dec_sasl_authenticate_resp, v, &bad, &rd,
                 sizeof(rd));
        assert_int_equal(rd.error_code, RILL_ERR_SASL_AUTHENTICATION_FAILED);
        assert_str_eq(rd.error_message, bad.error_message);
        rt_free(&t);
    }
    rill_sasl_authenticate_req null_bytes = {{NULL, -1}};
    enc_refused(enc_sasl_authenticate_req, 0, &null_bytes);
}

/* A PLAIN token in SaslAuthenticate v0 (int32 bytes) and v2 (compact + tags). */
static void authenticate_golden(void **state) {
    (void)state;
    rill_sasl_authenticate_req m = {{(const uint8_t *)"\0u\0p", 4}};
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(rill__sasl_authenticate_req_encode(&b, 0, &m), 0);
    static const uint8_t v0[] = {0x00, 0x00, 0x00, 0x04, 0x00, 'u', 0x00, 'p'};
    assert_bytes(&b, v0);
    rill__buf_reset(&b);
    assert_int_equal(rill__sasl_authenticate_req_encode(&b, 2, &m), 0);
    static const uint8_t v2[] = {0x05, 0x00, 'u', 0x00, 'p', 0x00};
    assert_bytes(&b, v2);
    rill__buf_free(&b);

    /* Handshake v1 response: no error, ["PLAIN"]. */
    static const uint8_t hs[] = {0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
                                 0x05, 'P',  'L',  'A',  'I',  'N'};
    rill_arena a;
    rill__arena_init(&a, 0);
    rill_rd r;
    rill__rd_init(&r, hs, sizeof(hs));
    rill_sasl_handshake_resp d;
    assert_int_equal(rill__sasl_handshake_resp_decode(&r, 1, &d, &a), 0);
    assert_int_equal(rill__rd_remain(&r), 0);
    assert_int_equal(d.nmechanisms, 1);
    assert_cstr(d.mechanisms[0], "PLAIN");
    rill__arena_free(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(handshake_both),
        cmocka_unit_test(authenticate_both),
        cmocka_unit_test(authenticate_golden),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
