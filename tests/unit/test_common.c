/*
 * test_common.c -- CRC32C vectors, Java murmur2 vectors, varints, buffers,
 * and the bounds-checked reader/writer primitives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/crc32c.h"
#include "common/murmur2.h"
#include "common/varint.h"
#include "proto/api.h"
#include "proto/reader.h"
#include "proto/writer.h"
#include "rill.h"

static void crc32c_vectors(void **state) {
    (void)state;
    assert_int_equal(rill__crc32c(0, "123456789", 9), 0xe3069283u);
    assert_int_equal(rill__crc32c_sw(0, "123456789", 9), 0xe3069283u);
    uint8_t zeros[32] = {0};
    assert_int_equal(rill__crc32c(0, zeros, 32), 0x8a9136aau); /* RFC 3720 B.4 */
    uint8_t ones[32];
    memset(ones, 0xff, sizeof(ones));
    assert_int_equal(rill__crc32c(0, ones, 32), 0x62a8ab43u);
    uint8_t inc[32];
    for (int i = 0; i < 32; i++)
        inc[i] = (uint8_t)i;
    assert_int_equal(rill__crc32c(0, inc, 32), 0x46dd794eu);
    /* Incremental == one-shot, hardware == software, all lengths/alignments. */
    uint8_t big[1031];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)(i * 31 + 7);
    for (size_t off = 0; off < 8; off++)
        for (size_t len = 0; len + off <= sizeof(big); len += 97) {
            uint32_t a = rill__crc32c(0, big + off, len);
            assert_int_equal(a, rill__crc32c_sw(0, big + off, len));
            uint32_t b = rill__crc32c(rill__crc32c(0, big + off, len / 2), big + off + len / 2,
                                      len - len / 2);
            assert_int_equal(a, b);
        }
    /* Long inputs take the three-lane path: every lane boundary and remainder. */
    static uint8_t huge[3 * 8192 * 2 + 3 * 256 * 2 + 64];
    for (size_t i = 0; i < sizeof(huge); i++)
        huge[i] = (uint8_t)(i * 131 + (i >> 9));
    static const size_t lens[] = {767,
                                  768,
                                  769,
                                  3 * 8192 - 1,
                                  3 * 8192,
                                  3 * 8192 + 1,
                                  3 * 8192 + 3 * 256 + 7,
                                  6 * 8192,
                                  sizeof(huge) - 3,
                                  sizeof(huge)};
    for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        size_t off = i % 3, len = lens[i] - off;
        uint32_t a = rill__crc32c(0, huge + off, len);
        assert_int_equal(a, rill__crc32c_sw(0, huge + off, len));
        assert_int_equal(rill__crc32c(rill__crc32c(0, huge + off, 5), huge + off + 5, len - 5), a);
    }
}

/* Inputs long enough for the three-way hardware path (parts of 8 KiB and
 * 256 B, joined by table): every split point around the part boundaries,
 * against the portable path. */
static void crc32c_long_inputs(void **state) {
    (void)state;
    size_t n = 3 * 8192 * 3 + 3 * 256 + 64;
    uint8_t *big = malloc(n);
    assert_non_null(big);
    uint32_t x = 2463534242u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5; /* xorshift: no pattern to hide behind */
        big[i] = (uint8_t)x;
    }
    size_t lens[] = {767,          768,      769,          3 * 256 + 8,
                     3 * 8192 - 1, 3 * 8192, 3 * 8192 + 1, 3 * 8192 + 3 * 256 + 7,
                     2 * 3 * 8192, n - 3};
    for (size_t off = 0; off < 3; off++)
        for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
            size_t len = lens[k];
            uint32_t a = rill__crc32c(0, big + off, len);
            assert_int_equal(a, rill__crc32c_sw(0, big + off, len));
            /* Continuing from a non-zero CRC joins the same way. */
            uint32_t b = rill__crc32c(rill__crc32c(0, big + off, 5), big + off + 5, len - 5);
            assert_int_equal(a, b);
        }
    free(big);
}

/* The CRC of a||b from the CRCs of the parts, for split points from 0 to
 * the whole (the producer joins a batch's header CRC to its records'). */
static void crc32c_combine_parts(void **state) {
    (void)state;
    size_t n = 70000;
    uint8_t *big = malloc(n);
    assert_non_null(big);
    uint32_t x = 88172645u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        big[i] = (uint8_t)x;
    }
    uint32_t whole = rill__crc32c(0, big, n);
    size_t cuts[] = {0, 1, 7, 8, 40, 61, 255, 256, 4096, 65537, n - 1, n};
    for (size_t k = 0; k < sizeof(cuts) / sizeof(cuts[0]); k++) {
        size_t a = cuts[k];
        uint32_t ca = rill__crc32c(0, big, a), cb = rill__crc32c(0, big + a, n - a);
        assert_int_equal(rill__crc32c_combine(ca, cb, n - a), whole);
    }
    /* The check string, cut in two. */
    assert_int_equal(
        rill__crc32c_combine(rill__crc32c(0, "1234", 4), rill__crc32c(0, "56789", 5), 5),
        0xe3069283u);
    free(big);
}

static void murmur2_java_vectors(void **state) {
    (void)state;
    static const struct {
        const char *s;
        uint32_t h;
    } v[] = {
        {"kafka", 0xd067cf64},
        {"giberish123456789", 0x8f552b0c},
        {"1234", 0x9fc97b14},
        {"234", 0xe7c009ca},
        {"34", 0x873930da},
        {"4", 0x5a4b5ca1},
        {"PreAmbleWillBeRemoved,ThePrePartThatIs", 0x78424f1c},
        {"reAmbleWillBeRemoved,ThePrePartThatIs", 0x4a62b377},
        {"eAmbleWillBeRemoved,ThePrePartThatIs", 0xe0e4e09e},
        {"AmbleWillBeRemoved,ThePrePartThatIs", 0x62b8b43f},
        {"", 0x106e08d9},
    };
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        assert_int_equal(rill__murmur2(v[i].s, strlen(v[i].s)), v[i].h);
}

static void varint_edges(void **state) {
    (void)state;
    static const int64_t vals[] = {0,         1,         -1,        63,        -64, 64,  -65,
                                   INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN, 300, -300};
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        uint8_t b[RILL_VARINT_MAX];
        size_t n = rill__varint_put(b, vals[i]);
        assert_int_equal(n, rill__varint_len(vals[i]));
        rill_rd r;
        rill__rd_init(&r, b, n);
        assert_true(rill__rd_varlong(&r) == vals[i]);
        assert_int_equal(r.err, 0);
        assert_int_equal(rill__rd_remain(&r), 0);
        /* Every truncation fails cleanly. */
        for (size_t k = 0; k < n; k++) {
            rill__rd_init(&r, b, k);
            (void)rill__rd_varlong(&r);
            assert_int_equal(r.err, 1);
        }
    }
    /* Known encodings: 300 zigzag = 600 = 0xd8 0x04; -1 = 0x01. */
    uint8_t b[10];
    assert_int_equal(rill__varint_put(b, 300), 2);
    assert_int_equal(b[0], 0xd8);
    assert_int_equal(b[1], 0x04);
    assert_int_equal(rill__varint_put(b, -1), 1);
    assert_int_equal(b[0], 0x01);
    /* 32-bit varint: 6-byte encoding is rejected. */
    uint8_t too_long[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x01};
    rill_rd r;
    rill__rd_init(&r, too_long, sizeof(too_long));
    (void)rill__rd_varint(&r);
    assert_int_equal(r.err, 1);
    /* 11-byte varlong is rejected. */
    uint8_t eleven[11];
    memset(eleven, 0x80, 10);
    eleven[10] = 0;
    rill__rd_init(&r, eleven, sizeof(eleven));
    (void)rill__rd_varlong(&r);
    assert_int_equal(r.err, 1);
}

static void buf_limits(void **state) {
    (void)state;
    rill_buf b;
    rill__buf_init(&b, 10);
    assert_int_equal(rill__buf_append(&b, "12345", 5), 0);
    assert_int_equal(rill__buf_append(&b, "12345", 5), 0);
    assert_int_equal(rill__buf_append(&b, "1", 1), -1);
    assert_int_equal(b.err, 1);
    assert_int_equal(b.len, 10);
    /* Sticky: a small append after the failure also fails. */
    rill__buf_consume(&b, 5);
    assert_int_equal(rill__buf_append(&b, "1", 1), -1);
    rill__buf_reset(&b);
    assert_int_equal(rill__buf_append(&b, "abc", 3), 0);
    rill__buf_consume(&b, 1);
    assert_memory_equal(b.data, "bc", 2);
    rill__buf_free(&b);
}

static void primitives_roundtrip(void **state) {
    (void)state;
    for (int flex = 0; flex < 2; flex++) {
        rill_buf b;
        rill__buf_init(&b, 0);
        rill__wr_i8(&b, -5);
        rill__wr_i16(&b, -2);
        rill__wr_i32(&b, 0x12345678);
        rill__wr_i64(&b, -1234567890123LL);
        rill__wr_cstr(&b, flex, "topic");
        rill__wr_cstr(&b, flex, NULL);
        rill__wr_cstr(&b, flex, "");
        rill__wr_bytes(&b, flex, "\x00\x01", 2);
        rill__wr_bytes(&b, flex, NULL, -1);
        rill__wr_array(&b, flex, 3);
        rill__wr_array(&b, flex, -1);
        rill__wr_tags(&b, flex);
        assert_int_equal(b.err, 0);

        rill_rd r;
        rill__rd_init(&r, b.data, b.len);
        assert_int_equal(rill__rd_i8(&r), -5);
        assert_int_equal(rill__rd_i16(&r), -2);
        assert_int_equal(rill__rd_i32(&r), 0x12345678);
        assert_true(rill__rd_i64(&r) == -1234567890123LL);
        assert_true(rill__str_eq(rill__rd_str(&r, flex), "topic"));
        assert_int_equal(rill__rd_str(&r, flex).len, -1);
        rill_str e = rill__rd_str(&r, flex);
        assert_int_equal(e.len, 0);
        rill_bytes by = rill__rd_bytes(&r, flex);
        assert_int_equal(by.len, 2);
        assert_memory_equal(by.ptr, "\x00\x01", 2);
        assert_int_equal(rill__rd_bytes(&r, flex).len, -1);
        assert_int_equal(rill__rd_array(&r, flex, 0), 3);
        assert_int_equal(rill__rd_array(&r, flex, 0), -1);
        if (flex)
            rill__rd_tags(&r);
        assert_int_equal(r.err, 0);
        assert_int_equal(rill__rd_remain(&r), 0);
        /* Reading past the end sets the sticky error and returns zeros. */
        assert_int_equal(rill__rd_i32(&r), 0);
        assert_int_equal(r.err, 1);
        rill__buf_free(&b);
    }
}

static void hostile_counts(void **state) {
    (void)state;
    /* An array claiming 2^31-1 elements of >= 4 bytes in 8 bytes of input. */
    uint8_t a[] = {0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    rill_rd r;
    rill__rd_init(&r, a, sizeof(a));
    (void)rill__rd_array(&r, false, 4);
    assert_int_equal(r.err, 1);
    /* A string longer than the input. */
    uint8_t s[] = {0x00, 0x10, 'a', 'b'};
    rill__rd_init(&r, s, sizeof(s));
    assert_int_equal(rill__rd_str(&r, false).len, -1);
    assert_int_equal(r.err, 1);
    /* A length of -2 is malformed, not null. */
    uint8_t n2[] = {0xff, 0xfe};
    rill__rd_init(&r, n2, sizeof(n2));
    (void)rill__rd_str(&r, false);
    assert_int_equal(r.err, 1);
    /* Tagged fields whose size runs past the end. */
    uint8_t t[] = {0x01, 0x00, 0x7f, 0x00};
    rill__rd_init(&r, t, sizeof(t));
    rill__rd_tags(&r);
    assert_int_equal(r.err, 1);
}

static void headers_and_api_table(void **state) {
    (void)state;
    assert_true(rill__api_flexible(RILL_API_PRODUCE, 9));
    assert_false(rill__api_flexible(RILL_API_PRODUCE, 8));
    assert_true(rill__api_flexible(RILL_API_API_VERSIONS, 3));
    assert_false(rill__api_resp_header_flexible(RILL_API_API_VERSIONS, 3));
    assert_true(rill__api_resp_header_flexible(RILL_API_METADATA, 9));
    assert_string_equal(rill__api_name(RILL_API_FETCH), "Fetch");
    assert_string_equal(rill__api_name(9999), "Unknown");
    /* Exact bytes of a Metadata v9 request header (header v2). */
    rill_buf b;
    rill__buf_init(&b, 0);
    rill__req_header_write(&b, RILL_API_METADATA, 9, 7, "c");
    static const uint8_t want[] = {0, 3, 0, 9, 0, 0, 0, 7, 0, 1, 'c', 0};
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    rill_rd r;
    rill__rd_init(&r, b.data, b.len);
    rill_req_header h;
    rill__req_header_read(&r, &h);
    assert_int_equal(r.err, 0);
    assert_int_equal(h.api_key, 3);
    assert_int_equal(h.api_version, 9);
    assert_int_equal(h.correlation_id, 7);
    assert_true(rill__str_eq(h.client_id, "c"));
    rill__buf_free(&b);
}

static void error_names(void **state) {
    (void)state;
    assert_string_equal(rill_err_name(RILL_ERR_NOT_LEADER_OR_FOLLOWER), "NOT_LEADER_OR_FOLLOWER");
    assert_string_equal(rill_err_name(RILL_ERR_QUEUE_FULL), "QUEUE_FULL");
    assert_string_equal(rill_err_name(RILL_ERR_UNKNOWN_SERVER_ERROR), "UNKNOWN_SERVER_ERROR");
    assert_string_equal(rill_err_name(RILL_ERR_PARTITION_EOF), "PARTITION_EOF");
    assert_string_equal(rill_err_name(12345), "UNKNOWN_ERROR_CODE");
    assert_true(rill_err_is_retriable(RILL_ERR_NOT_LEADER_OR_FOLLOWER));
    assert_false(rill_err_is_retriable(RILL_ERR_MESSAGE_TOO_LARGE));
    for (int e = -120; e < 130; e++)
        assert_non_null(rill_err_str((rill_err_t)e));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crc32c_vectors),        cmocka_unit_test(crc32c_long_inputs),
        cmocka_unit_test(crc32c_combine_parts),  cmocka_unit_test(murmur2_java_vectors),
        cmocka_unit_test(varint_edges),          cmocka_unit_test(buf_limits),
        cmocka_unit_test(primitives_roundtrip),  cmocka_unit_test(hostile_counts),
        cmocka_unit_test(headers_and_api_table), cmocka_unit_test(error_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
