/*
 * test_api_versions.c -- ApiVersions codec: every version both ways, the
 * KIP-511 fallback, golden request and response bytes, and the table of
 * supported APIs.
 */
#include "api_test.h"

#include "proto/api_versions.h"
#include "proto/apis_supported.h"
#include "rill.h"

API_CODEC(api_versions_req, rill_api_versions_req)
API_CODEC(api_versions_resp, rill_api_versions_resp)

static void request_all_versions(void **state) {
    (void)state;
    rill_api_versions_req m = {rill__str("rill"), rill__str("0.1.0")};
    for (int16_t v = RILL_API_VERSIONS_MIN_VER; v <= RILL_API_VERSIONS_MAX_VER; v++) {
        rt t;
        rill_api_versions_req d;
        rt_check(&t, enc_api_versions_req, dec_api_versions_req, v, &m, &d, sizeof(d));
        if (v >= 3) {
            assert_cstr(d.client_software_name, "rill");
            assert_cstr(d.client_software_version, "0.1.0");
        } else {
            assert_int_equal(t.buf.len, 0); /* v0-2 have an empty body */
            assert_cstr(d.client_software_name, "");
            assert_cstr(d.client_software_version, "");
        }
        rt_free(&t);
    }
    /* The names are not nullable. */
    rill_api_versions_req bad = {rill__str_null(), rill__str("1")};
    enc_refused(enc_api_versions_req, 3, &bad);
    enc_refused(enc_api_versions_req, 5, &m);
    enc_refused(enc_api_versions_req, -1, &m);
}

static void response_all_versions(void **state) {
    (void)state;
    rill_api_versions_key keys[] = {{0, 3, 11}, {3, 0, 12}, {18, 0, 4}};
    rill_api_versions_resp m = {0, keys, 3, 250};
    for (int16_t v = RILL_API_VERSIONS_MIN_VER; v <= RILL_API_VERSIONS_MAX_VER; v++) {
        rt t;
        rill_api_versions_resp d;
        rt_check(&t, enc_api_versions_resp, dec_api_versions_resp, v, &m, &d, sizeof(d));
        assert_int_equal(d.error_code, 0);
        assert_int_equal(d.napi_keys, 3);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(d.api_keys[i].api_key, keys[i].api_key);
            assert_int_equal(d.api_keys[i].min_version, keys[i].min_version);
            assert_int_equal(d.api_keys[i].max_version, keys[i].max_version);
        }
        assert_int_equal(d.throttle_time_ms, v >= 1 ? 250 : 0);
        rt_free(&t);
    }
    /* An empty list is fine; a null one is not. */
    rill_api_versions_resp empty = {RILL_ERR_INVALID_REQUEST, NULL, 0, 0};
    rt t;
    rill_api_versions_resp d;
    rt_check(&t, enc_api_versions_resp, dec_api_versions_resp, 3, &empty, &d, sizeof(d));
    assert_int_equal(d.napi_keys, 0);
    assert_int_equal(d.error_code, RILL_ERR_INVALID_REQUEST);
    rt_free(&t);
    rill_api_versions_resp null_keys = {0, NULL, -1, 0};
    enc_refused(enc_api_versions_resp, 0, &null_keys);
}

/* A flexible response carrying SupportedFeatures etc. as tagged fields. */
static void response_skips_tagged_features(void **state) {
    (void)state;
    static const uint8_t body[] = {
        0x00, 0x00,                         /* error */
        0x02,                               /* 1 key */
        0x00, 0x12, 0x00, 0x00, 0x00, 0x04, /* ApiVersions 0-4 */
        0x01, 0x07, 0x02, 0xaa, 0xbb,       /* a key-level tag 7 of 2 bytes */
        0x00, 0x00, 0x00, 0x00,             /* throttle */
        0x02,                               /* two top-level tags */
        0x00, 0x0a, 0x02, 0x04, 'k',  'r',  'a',  0x00, 0x00, 0x00,
        0x01, 0x00,                                                 /* SupportedFeatures */
        0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, /* FinalizedFeaturesEpoch */
    };
    rill_arena a;
    rill_api_versions_resp d;
    decode_whole(dec_api_versions_resp, 3, body, sizeof(body), &d, &a);
    assert_int_equal(d.napi_keys, 1);
    assert_int_equal(d.api_keys[0].api_key, 18);
    assert_int_equal(d.api_keys[0].max_version, 4);
    rill__arena_free(&a);
}

/* KIP-511: a v3 request answered with a v0 body, error 35 and key 18. */
static void unsupported_version_fallback(void **state) {
    (void)state;
    assert_int_equal(rill__api_versions_resp_version(7), 0);
    assert_int_equal(rill__api_versions_resp_version(-1), 0);
    assert_int_equal(rill__api_versions_resp_version(3), 3);

    rill_api_versions_key k18 = {18, 0, 2};
    rill_api_versions_resp m = {RILL_ERR_UNSUPPORTED_VERSION, &k18, 1, 0};
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(rill__api_versions_resp_encode(&b, rill__api_versions_resp_version(9), &m), 0);
    static const uint8_t v0[] = {0x00, 0x23, 0x00, 0x00, 0x00, 0x01,
                                 0x00, 0x12, 0x00, 0x00, 0x00, 0x02};
    assert_bytes(&b, v0);
    for (int16_t asked = 0; asked <= RILL_API_VERSIONS_MAX_VER; asked++) {
        rill_arena a;
        rill_api_versions_resp d;
        decode_whole(dec_api_versions_resp, asked, b.data, b.len, &d, &a);
        assert_int_equal(d.error_code, 35);
        assert_int_equal(d.napi_keys, 1);
        assert_int_equal(d.api_keys[0].api_key, 18);
        assert_int_equal(d.api_keys[0].max_version, 2);
        rill__arena_free(&a);
    }
    rill__buf_free(&b);
}

/*
 * An UNSUPPORTED_VERSION body that is neither v0 nor the asked version is
 * still an answer: the error, no keys, body used up.  These are the bytes
 * librdkafka 2.0.2's mock broker sends to an ApiVersions v3 request.
 */
static void unsupported_version_odd_body(void **state) {
    (void)state;
    static const uint8_t mock[] = {0x00, 0x23, 0x01, 0x00, 0x12, 0x00, 0x00,
                                   0x00, 0x02, 0x00, 0x00, 0x00, 0x00};
    for (int16_t asked = 0; asked <= RILL_API_VERSIONS_MAX_VER; asked++) {
        rill_arena a;
        rill_api_versions_resp d;
        decode_whole(dec_api_versions_resp, asked, mock, sizeof(mock), &d, &a);
        assert_int_equal(d.error_code, RILL_ERR_UNSUPPORTED_VERSION);
        assert_int_equal(d.napi_keys, 0);
        rill__arena_free(&a);
    }
    /* Any other error keeps the strict reading. */
    static const uint8_t other[] = {0x00, 0x2a, 0x01, 0x00, 0x12, 0x00, 0x00,
                                    0x00, 0x02, 0x00, 0x00, 0x00, 0x00};
    rill_rd r;
    rill_arena a;
    rill__arena_init(&a, 0);
    rill__rd_init(&r, other, sizeof(other));
    rill_api_versions_resp d;
    assert_true(rill__api_versions_resp_decode(&r, 3, &d, &a) != 0 || rill__rd_remain(&r) != 0);
    rill__arena_free(&a);
    /* Too short to hold an error code: still malformed. */
    rill__arena_init(&a, 0);
    rill__rd_init(&r, mock, 1);
    assert_int_equal(rill__api_versions_resp_decode(&r, 3, &d, &a), -1);
    rill__arena_free(&a);
}

static void golden_requests(void **state) {
    (void)state;
    /* v0: header v1 (key 18, version 0, correlation 1, client "rill"), empty body. */
    rill_api_versions_req m = {rill__str("rill"), rill__str("0.1.0")};
    static const uint8_t v0[] = {0x00, 0x00, 0x00, 0x0e, 0x00, 0x12, 0x00, 0x00, 0x00,
                                 0x00, 0x00, 0x01, 0x00, 0x04, 'r',  'i',  'l',  'l'};
    assert_request_frame(enc_api_versions_req, RILL_API_API_VERSIONS, 0, 1, &m, v0, sizeof(v0));

    /* v3: header v2 (client id keeps its int16 length, then no tags); compact strings. */
    static const uint8_t v3[] = {
        0x00, 0x00, 0x00, 0x1b,                         /* size 27 */
        0x00, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 0x02, /* key, version, correlation */
        0x00, 0x04, 'r',  'i',  'l',  'l',  0x00,       /* client id, header tags */
        0x05, 'r',  'i',  'l',  'l',                    /* ClientSoftwareName */
        0x06, '0',  '.',  '1',  '.',  '0',              /* ClientSoftwareVersion */
        0x00,                                           /* body tags */
    };
    assert_request_frame(enc_api_versions_req, RILL_API_API_VERSIONS, 3, 2, &m, v3, sizeof(v3));
}

static void golden_response_v0(void **state) {
    (void)state;
    rill_api_versions_key keys[] = {{0, 3, 11}, {18, 0, 4}};
    rill_api_versions_resp m = {0, keys, 2, 0};
    rill_buf b;
    rill__buf_init(&b, 0);
    size_t at = rill__wr_reserve32(&b);
    rill__resp_header_write(&b, 1, rill__api_resp_header_flexible(RILL_API_API_VERSIONS, 0));
    assert_int_equal(rill__api_versions_resp_encode(&b, 0, &m), 0);
    rill__wr_patch32(&b, at, (int32_t)(b.len - 4));
    static const uint8_t expect[] = {
        0x00, 0x00, 0x00, 0x16,             /* size 22 */
        0x00, 0x00, 0x00, 0x01,             /* correlation id */
        0x00, 0x00,                         /* error */
        0x00, 0x00, 0x00, 0x02,             /* two keys */
        0x00, 0x00, 0x00, 0x03, 0x00, 0x0b, /* Produce 3-11 */
        0x00, 0x12, 0x00, 0x00, 0x00, 0x04, /* ApiVersions 0-4 */
    };
    assert_bytes(&b, expect);
    rill__buf_free(&b);
}

static void supported_table(void **state) {
    (void)state;
    int16_t lo, hi;
    assert_true(rill__api_supported_range(RILL_API_API_VERSIONS, &lo, &hi));
    assert_int_equal(lo, 0);
    assert_int_equal(hi, 4);
    assert_true(rill__api_supported_range(RILL_API_PRODUCE, &lo, &hi));
    assert_int_equal(lo, 3);
    assert_int_equal(hi, 11);
    assert_false(rill__api_supported_range(RILL_API_LEADER_AND_ISR, &lo, &hi));

    rill_api_versions_key rows[128];
    size_t n = rill__api_supported_list(rows, 128);
    assert_true(n >= 9 && n <= 128);
    for (size_t i = 0; i < n; i++) {
        assert_true(rows[i].min_version <= rows[i].max_version);
        if (i)
            assert_true(rows[i - 1].api_key < rows[i].api_key);
    }
    assert_int_equal(rill__api_supported_list(rows, 2), n); /* total, even when cut */

    /* Highest common version, or -1. */
    assert_int_equal(rill__api_pick_version(RILL_API_PRODUCE, 0, 7), 7);
    assert_int_equal(rill__api_pick_version(RILL_API_PRODUCE, 0, 2), -1);
    assert_int_equal(rill__api_pick_version(RILL_API_PRODUCE, 5, 20), 11);
    assert_int_equal(rill__api_pick_version(RILL_API_METADATA, 0, 12), 12);
    assert_int_equal(rill__api_pick_version(RILL_API_LEADER_AND_ISR, 0, 7), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_all_versions),
        cmocka_unit_test(response_all_versions),
        cmocka_unit_test(response_skips_tagged_features),
        cmocka_unit_test(unsupported_version_fallback),
        cmocka_unit_test(unsupported_version_odd_body),
        cmocka_unit_test(golden_requests),
        cmocka_unit_test(golden_response_v0),
        cmocka_unit_test(supported_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
