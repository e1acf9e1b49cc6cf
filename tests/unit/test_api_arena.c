/*
 * test_api_arena.c -- the decoded-message arena and the field helpers the
 * API codecs share (fields.h): limits, hostile counts, nullability, and
 * tagged fields both ways.
 */
#include "api_test.h"

static void arena_basics(void **state) {
    (void)state;
    rill_arena a;
    rill__arena_init(&a, 0);
    assert_int_equal(a.max, RILL_ARENA_DEFAULT_MAX);
    uint8_t *p = rill__arena_alloc(&a, 3);
    uint8_t *q = rill__arena_alloc(&a, 5);
    assert_non_null(p);
    assert_non_null(q);
    assert_int_equal((uintptr_t)p % _Alignof(max_align_t), 0);
    assert_int_equal((uintptr_t)q % _Alignof(max_align_t), 0);
    assert_true(q >= p + 3);
    memset(p, 0xaa, 3);
    memset(q, 0xbb, 5);
    int64_t *z = rill__arena_calloc(&a, 100, sizeof(int64_t));
    for (int i = 0; i < 100; i++)
        assert_true(z[i] == 0);
    /* Growth past the first chunk keeps earlier memory valid. */
    uint8_t *big = rill__arena_alloc(&a, 3 * RILL_ARENA_CHUNK_MIN);
    assert_non_null(big);
    memset(big, 1, 3 * RILL_ARENA_CHUNK_MIN);
    assert_int_equal(p[2], 0xaa);
    assert_int_equal(q[4], 0xbb);
    /* Reset keeps one chunk: the same allocations need no new memory. */
    rill__arena_reset(&a);
    size_t held = a.held;
    assert_true(held >= 3 * RILL_ARENA_CHUNK_MIN);
    assert_non_null(rill__arena_alloc(&a, 100));
    assert_non_null(rill__arena_alloc(&a, 2 * RILL_ARENA_CHUNK_MIN));
    assert_int_equal(a.held, held);
    rill__arena_free(&a);
    assert_int_equal(a.held, 0);
    assert_null(a.head);
}

static void arena_limits(void **state) {
    (void)state;
    rill_arena a;
    rill__arena_init(&a, 8192);
    assert_non_null(rill__arena_alloc(&a, 5000));
    assert_null(rill__arena_alloc(&a, 5000)); /* would pass max */
    assert_int_not_equal(a.err, 0);
    assert_null(rill__arena_alloc(&a, 1)); /* sticky */
    assert_true(a.held <= 8192);
    rill__arena_reset(&a);
    assert_int_equal(a.err, 0);
    assert_non_null(rill__arena_alloc(&a, 16));
    /* count * size overflow is an error, not a small allocation. */
    assert_null(rill__arena_calloc(&a, SIZE_MAX / 2, 4));
    assert_int_not_equal(a.err, 0);
    rill__arena_free(&a);
    rill__arena_init(&a, 100);
    assert_null(rill__arena_alloc(&a, 101));
    rill__arena_free(&a);
}

static void arrays_bounded_and_nullable(void **state) {
    (void)state;
    rill_arena a;
    rill__arena_init(&a, 0);
    rill_rd r;
    int32_t n;
    /* 1000 elements of >= 4 bytes announced in 8 bytes: refused, nothing allocated. */
    static const uint8_t hostile[] = {0x00, 0x00, 0x03, 0xe8, 0, 0, 0, 0, 0, 0, 0, 0};
    rill__rd_init(&r, hostile, sizeof(hostile));
    assert_null(rill__rd_array_alloc(&r, false, false, 4, 64, &a, &n));
    assert_int_equal(r.err, 1);
    assert_int_equal(n, 0);
    assert_null(a.head);
    /* Even at one byte each, 1000 elements cannot fit in 8 bytes. */
    rill__rd_init(&r, hostile, sizeof(hostile));
    assert_null(rill__rd_array_alloc(&r, false, false, 1, 64, &a, &n));
    assert_int_equal(r.err, 1);
    /* A null array: -1 where nullable, an error where not. */
    static const uint8_t null_arr[] = {0xff, 0xff, 0xff, 0xff};
    rill__rd_init(&r, null_arr, 4);
    assert_null(rill__rd_array_alloc(&r, false, true, 4, 4, &a, &n));
    assert_int_equal(r.err, 0);
    assert_int_equal(n, -1);
    rill__rd_init(&r, null_arr, 4);
    assert_null(rill__rd_array_alloc(&r, false, false, 4, 4, &a, &n));
    assert_int_equal(r.err, 1);
    static const uint8_t compact_null[] = {0x00};
    rill__rd_init(&r, compact_null, 1);
    assert_null(rill__rd_array_alloc(&r, true, true, 1, 4, &a, &n));
    assert_int_equal(n, -1);
    assert_int_equal(r.err, 0);
    /* An arena at its limit turns into a decode error. */
    rill_arena small;
    rill__arena_init(&small, 64);
    static const uint8_t three[] = {0x04, 1, 2, 3};
    rill__rd_init(&r, three, sizeof(three));
    assert_null(rill__rd_array_alloc(&r, true, false, 1, 100, &small, &n));
    assert_int_equal(r.err, 1);
    rill__arena_free(&small);
    /* []int32 round trip, both encodings. */
    for (int fx = 0; fx < 2; fx++) {
        int32_t v[] = {1, -2, 300000};
        rill_buf b;
        rill__buf_init(&b, 0);
        rill__wr_i32_array(&b, fx, false, v, 3);
        rill__wr_i32_array(&b, fx, true, NULL, -1);
        rill__rd_init(&r, b.data, b.len);
        int32_t *d = rill__rd_i32_array(&r, fx, false, &a, &n);
        assert_int_equal(n, 3);
        assert_memory_equal(d, v, sizeof(v));
        assert_null(rill__rd_i32_array(&r, fx, true, &a, &n));
        assert_int_equal(n, -1);
        assert_int_equal(rill__rd_remain(&r), 0);
        assert_int_equal(r.err, 0);
        rill__buf_free(&b);
    }
    rill__arena_free(&a);
}

static void strings_nullability(void **state) {
    (void)state;
    for (int fx = 0; fx < 2; fx++) {
        rill_buf b;
        rill__buf_init(&b, 0);
        rill_str zero = {NULL, 0};
        rill__wr_str(&b, fx, false, zero); /* {NULL, 0} is "" */
        rill__wr_str(&b, fx, true, rill__str_null());
        rill__wr_str(&b, fx, false, rill__str("ab"));
        assert_int_equal(b.err, 0);
        rill_rd r;
        rill__rd_init(&r, b.data, b.len);
        rill_str s = rill__rd_str_nn(&r, fx);
        assert_int_equal(s.len, 0);
        assert_non_null(s.ptr);
        assert_int_equal(r.err, 0);
        (void)rill__rd_str_nn(&r, fx); /* null where not nullable */
        assert_int_equal(r.err, 1);
        rill__wr_str(&b, fx, false, rill__str_null());
        assert_int_equal(b.err, 1);
        rill__buf_free(&b);

        /* []string: a null element is malformed. */
        rill__buf_init(&b, 0);
        rill__wr_array(&b, fx, 2);
        rill__wr_cstr(&b, fx, "x");
        rill__wr_cstr(&b, fx, NULL);
        rill_arena a;
        rill__arena_init(&a, 0);
        int32_t n;
        rill__rd_init(&r, b.data, b.len);
        (void)rill__rd_str_array(&r, fx, false, &a, &n);
        assert_int_equal(r.err, 1);
        rill__arena_free(&a);
        rill__buf_free(&b);
    }
}

static void tagged_fields(void **state) {
    (void)state;
    rill_buf b;
    rill__buf_init(&b, 0);
    rill__wr_uvarint(&b, 3);
    size_t at = rill__wr_tag_begin(&b, 0);
    rill__wr_i32(&b, 7);
    rill__wr_tag_end(&b, at);
    at = rill__wr_tag_begin(&b, 5); /* unknown to the reader below */
    for (int i = 0; i < 200; i++)   /* 200 bytes: a two-byte length */
        rill__wr_i8(&b, (int8_t)i);
    rill__wr_tag_end(&b, at);
    at = rill__wr_tag_begin(&b, 300);
    rill__wr_i16(&b, -3);
    rill__wr_tag_end(&b, at);
    rill__wr_i8(&b, 0x55); /* what follows the section */
    assert_int_equal(b.err, 0);
    static const uint8_t head[] = {0x03, 0x00, 0x04, 0x00, 0x00, 0x00, 0x07, 0x05, 0xc8, 0x01};
    assert_memory_equal(b.data, head, sizeof(head));
    assert_int_equal(b.len, sizeof(head) + 200 + 2 + 1 + 2 + 1);

    rill_rd r, f;
    rill__rd_init(&r, b.data, b.len);
    uint32_t left = rill__rd_uvarint(&r), tag;
    int32_t v0 = 0;
    int16_t v300 = 0;
    int seen = 0;
    while (rill__rd_tag_next(&r, &left, &tag, &f)) {
        seen++;
        if (tag == 0) {
            v0 = rill__rd_i32(&f);
            rill__rd_tag_done(&r, &f);
        } else if (tag == 300) {
            v300 = rill__rd_i16(&f);
            rill__rd_tag_done(&r, &f);
        }
    }
    assert_int_equal(seen, 3);
    assert_int_equal(v0, 7);
    assert_int_equal(v300, -3);
    assert_int_equal(r.err, 0);
    assert_int_equal(rill__rd_i8(&r), 0x55);

    /* A known tag whose value is longer than what its reader takes is malformed. */
    rill__rd_init(&r, b.data, b.len);
    left = rill__rd_uvarint(&r);
    assert_true(rill__rd_tag_next(&r, &left, &tag, &f));
    (void)rill__rd_i16(&f);
    rill__rd_tag_done(&r, &f);
    assert_int_equal(r.err, 1);
    /* A size past the end stops the iteration with an error. */
    static const uint8_t cut[] = {0x01, 0x00, 0x09, 0x00};
    rill__rd_init(&r, cut, sizeof(cut));
    left = rill__rd_uvarint(&r);
    assert_false(rill__rd_tag_next(&r, &left, &tag, &f));
    assert_int_equal(r.err, 1);
    rill__buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(arena_basics),
        cmocka_unit_test(arena_limits),
        cmocka_unit_test(arrays_bounded_and_nullable),
        cmocka_unit_test(strings_nullability),
        cmocka_unit_test(tagged_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
