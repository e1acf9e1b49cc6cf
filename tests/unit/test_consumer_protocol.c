/*
 * test_consumer_protocol.c -- the "consumer" embedded protocol
 * (consumer_protocol.h): golden v0 bytes as every client writes them,
 * round trips of subscription and assignment v0-3, forward compatibility
 * with newer versions, and malformed input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proto/consumer_protocol.h"
#include "proto/fields.h"

#define S(x) rill__str(x)
#define NUL rill__str_null()

static void assert_str_same(rill_str a, rill_str b) {
    assert_int_equal(a.len < 0, b.len < 0);
    if (a.len > 0) {
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.ptr, b.ptr, (size_t)a.len);
    } else {
        assert_int_equal(a.len, b.len);
    }
}

static void assert_tps_same(const rill_cp_topic_partitions *a, const rill_cp_topic_partitions *b,
                            int32_t n) {
    for (int32_t i = 0; i < n; i++) {
        assert_str_same(a[i].topic, b[i].topic);
        assert_int_equal(a[i].npartitions, b[i].npartitions);
        for (int32_t j = 0; j < a[i].npartitions; j++)
            assert_int_equal(a[i].partitions[j], b[i].partitions[j]);
    }
}

/* Decoding every strict prefix must fail (each in an exact-size block for ASan). */
static void sub_truncations(const uint8_t *d, size_t n) {
    for (size_t k = 0; k < n; k++) {
        uint8_t *copy = malloc(k ? k : 1);
        memcpy(copy, d, k);
        rill_arena a;
        rill__arena_init(&a, 0);
        rill_rd r;
        rill__rd_init(&r, copy, k);
        rill_consumer_subscription s;
        assert_int_equal(rill__consumer_subscription_decode(&r, &s, &a), -1);
        rill__arena_free(&a);
        free(copy);
    }
}

static void asg_truncations(const uint8_t *d, size_t n) {
    /* The empty input is the one prefix that decodes (as "no assignment"). */
    for (size_t k = 1; k < n; k++) {
        uint8_t *copy = malloc(k);
        memcpy(copy, d, k);
        rill_arena a;
        rill__arena_init(&a, 0);
        rill_rd r;
        rill__rd_init(&r, copy, k);
        rill_consumer_assignment s;
        assert_int_equal(rill__consumer_assignment_decode(&r, &s, &a), -1);
        rill__arena_free(&a);
        free(copy);
    }
}

/* Subscription v0: topics ["a", "b"], null user data. */
static void subscription_golden_v0(void **state) {
    (void)state;
    rill_str topics[] = {S("a"), S("b")};
    rill_consumer_subscription m = {0, topics, 2, {NULL, -1}, NULL, 0, -1, NUL};
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(rill__consumer_subscription_encode(&b, 0, &m), 0);
    static const uint8_t expect[] = {
        0x00, 0x00,             /* version 0 */
        0x00, 0x00, 0x00, 0x02, /* two topics */
        0x00, 0x01, 'a',        /* "a" */
        0x00, 0x01, 'b',        /* "b" */
        0xff, 0xff, 0xff, 0xff, /* user data null */
    };
    assert_int_equal(b.len, sizeof(expect));
    assert_memory_equal(b.data, expect, sizeof(expect));

    rill_arena a;
    rill__arena_init(&a, 0);
    rill_rd r;
    rill__rd_init(&r, expect, sizeof(expect));
    rill_consumer_subscription d;
    assert_int_equal(rill__consumer_subscription_decode(&r, &d, &a), 0);
    assert_int_equal(rill__rd_remain(&r), 0);
    assert_int_equal(d.version, 0);
    assert_int_equal(d.ntopics, 2);
    assert_true(rill__str_eq(d.topics[0], "a"));
    assert_true(rill__str_eq(d.topics[1], "b"));
    assert_int_equal(d.user_data.len, -1);
    assert_int_equal(d.nowned, 0);
    assert_int_equal(d.generation_id, -1);
    assert_true(d.rack_id.len < 0);
    rill__arena_free(&a);
    rill__buf_free(&b);
    sub_truncations(expect, sizeof(expect));
}

/* Assignment v0: t -> [0, 1], null user data. */
static void assignment_golden_v0(void **state) {
    (void)state;
    int32_t parts[] = {0, 1};
    rill_cp_topic_partitions tp = {S("t"), parts, 2};
    rill_consumer_assignment m = {0, &tp, 1, {NULL, -1}};
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(rill__consumer_assignment_encode(&b, 0, &m), 0);
    static const uint8_t expect[] = {
        0x00, 0x00,             /* version 0 */
        0x00, 0x00, 0x00, 0x01, /* one topic */
        0x00, 0x01, 't',        /* "t" */
        0x00, 0x00, 0x00, 0x02, /* two partitions */
        0x00, 0x00, 0x00, 0x00, /* 0 */
        0x00, 0x00, 0x00, 0x01, /* 1 */
        0xff, 0xff, 0xff, 0xff, /* user data null */
    };
    assert_int_equal(b.len, sizeof(expect));
    assert_memory_equal(b.data, expect, sizeof(expect));

    rill_arena a;
    rill__arena_init(&a, 0);
    rill_rd r;
    rill__rd_init(&r, expect, sizeof(expect));
    rill_consumer_assignment d;
    assert_int_equal(rill__consumer_assignment_decode(&r, &d, &a), 0);
    assert_int_equal(rill__rd_remain(&r), 0);
    assert_int_equal(d.nassigned, 1);
    assert_tps_same(d.assigned, &tp, 1);
    assert_int_equal(d.user_data.len, -1);
    rill__arena_free(&a);
    rill__buf_free(&b);
    asg_truncations(expect, sizeof(expect));
}

static void subscription_all_versions(void **state) {
    (void)state;
    rill_str topics[] = {S("orders"), S("payments"), S("audit")};
    int32_t p0[] = {0, 2, 4}, p1[] = {7};
    rill_cp_topic_partitions owned[] = {{S("orders"), p0, 3}, {S("payments"), p1, 1}};
    static const uint8_t ud[] = {1, 2, 3};
    for (int16_t v = RILL_CONSUMER_SUBSCRIPTION_MIN_VER; v <= RILL_CONSUMER_SUBSCRIPTION_MAX_VER;
         v++) {
        rill_consumer_subscription m = {v,
                                        topics,
                                        3,
                                        {ud, 3},
                                        v >= 1 ? owned : NULL,
                                        v >= 1 ? 2 : 0,
                                        v >= 2 ? 42 : -1,
                                        v >= 3 ? S("rack-1") : NUL};
        rill_buf b;
        rill__buf_init(&b, 0);
        assert_int_equal(rill__consumer_subscription_encode(&b, v, &m), 0);
        rill_arena a;
        rill__arena_init(&a, 0);
        rill_rd r;
        rill__rd_init(&r, b.data, b.len);
        rill_consumer_subscription d;
        assert_int_equal(rill__consumer_subscription_decode(&r, &d, &a), 0);
        assert_int_equal(rill__rd_remain(&r), 0);
        assert_int_equal(d.version, v);
        assert_int_equal(d.ntopics, 3);
        for (int i = 0; i < 3; i++)
            assert_str_same(d.topics[i], topics[i]);
        assert_int_equal(d.user_data.len, 3);
        assert_memory_equal(d.user_data.ptr, ud, 3);
        assert_int_equal(d.nowned, m.nowned);
        assert_tps_same(d.owned, owned, d.nowned);
        assert_int_equal(d.generation_id, m.generation_id);
        assert_str_same(d.rack_id, m.rack_id);
        sub_truncations(b.data, b.len);
        rill__arena_free(&a);
        rill__buf_free(&b);
    }
    /* Versions out of range are refused; topics are never null. */
    rill_consumer_subscription m = {0, NULL, -1, {NULL, -1}, NULL, 0, -1, NUL};
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(rill__consumer_subscription_encode(&b, 0, &m), -1);
    rill__buf_reset(&b);
    m.ntopics = 0;
    assert_int_equal(rill__consumer_subscription_encode(&b, 4, &m), -1);
    rill__buf_free(&b);
}

static void assignment_all_versions(void **state) {
    (void)state;
    int32_t p0[] = {0, 1, 2};
    rill_cp_topic_partitions tps[] = {{S("orders"), p0, 3}, {S("empty"), NULL, 0}};
    for (int16_t v = RILL_CONSUMER_ASSIGNMENT_MIN_VER; v <= RILL_CONSUMER_ASSIGNMENT_MAX_VER; v++) {
        rill_consumer_assignment m = {v, tps, 2, {(const uint8_t *)"", 0}};
        rill_buf b;
        rill__buf_init(&b, 0);
        assert_int_equal(rill__consumer_assignment_encode(&b, v, &m), 0);
        assert_int_equal(rill__ld16(b.data), (uint16_t)v);
        rill_arena a;
        rill__arena_init(&a, 0);
        rill_rd r;
        rill__rd_init(&r, b.data, b.len);
        rill_consumer_assignment d;
        assert_int_equal(rill__consumer_assignment_decode(&r, &d, &a), 0);
        assert_int_equal(rill__rd_remain(&r), 0);
        assert_int_equal(d.version, v);
        assert_int_equal(d.nassigned, 2);
        assert_tps_same(d.assigned, tps, 2);
        assert_int_equal(d.user_data.len, 0);
        asg_truncations(b.data, b.len);
        rill__arena_free(&a);
        rill__buf_free(&b);
    }
}

/* A v5 subscription from some future client: read as v3, the rest ignored. */
static void newer_versions_read_as_newest_known(void **state) {
    (void)state;
    static const uint8_t v5[] = {
        0x00, 0x05,                              /* version 5 */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 'x', /* topics ["x"] */
        0x00, 0x00, 0x00, 0x00,                  /* user data "" */
        0x00, 0x00, 0x00, 0x00,                  /* owned [] */
        0x00, 0x00, 0x00, 0x09,                  /* generation 9 */
        0x00, 0x02, 'r',  '1',                   /* rack "r1" */
        0xde, 0xad, 0xbe, 0xef,                  /* a field of v4/v5 */
    };
    rill_arena a;
    rill__arena_init(&a, 0);
    rill_rd r;
    rill__rd_init(&r, v5, sizeof(v5));
    rill_consumer_subscription d;
    assert_int_equal(rill__consumer_subscription_decode(&r, &d, &a), 0);
    assert_int_equal(d.version, 5);
    assert_int_equal(d.ntopics, 1);
    assert_int_equal(d.generation_id, 9);
    assert_true(rill__str_eq(d.rack_id, "r1"));
    assert_int_equal(rill__rd_remain(&r), 4); /* left for the caller to ignore */
    rill__arena_free(&a);
}

static void malformed(void **state) {
    (void)state;
    rill_arena a;
    rill__arena_init(&a, 0);
    rill_rd r;
    rill_consumer_assignment as;
    rill_consumer_subscription sub;
    /* The empty assignment some clients send to a member with nothing. */
    rill__rd_init(&r, "", 0);
    assert_int_equal(rill__consumer_assignment_decode(&r, &as, &a), 0);
    assert_int_equal(as.nassigned, 0);
    /* ...but an empty subscription is malformed. */
    rill__rd_init(&r, "", 0);
    assert_int_equal(rill__consumer_subscription_decode(&r, &sub, &a), -1);
    /* A negative version. */
    static const uint8_t neg[] = {0xff, 0xff, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
    rill__rd_init(&r, neg, sizeof(neg));
    assert_int_equal(rill__consumer_assignment_decode(&r, &as, &a), -1);
    rill__rd_init(&r, neg, sizeof(neg));
    assert_int_equal(rill__consumer_subscription_decode(&r, &sub, &a), -1);
    /* A partition count far beyond the input. */
    static const uint8_t huge[] = {0, 0, 0, 0, 0, 1, 0, 1, 't', 0x10, 0, 0, 0, 0, 0, 0, 0};
    rill__rd_init(&r, huge, sizeof(huge));
    assert_int_equal(rill__consumer_assignment_decode(&r, &as, &a), -1);
    /* A null topic name. */
    static const uint8_t null_topic[] = {0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    rill__rd_init(&r, null_topic, sizeof(null_topic));
    assert_int_equal(rill__consumer_subscription_decode(&r, &sub, &a), -1);
    rill__arena_free(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(subscription_golden_v0),
        cmocka_unit_test(assignment_golden_v0),
        cmocka_unit_test(subscription_all_versions),
        cmocka_unit_test(assignment_all_versions),
        cmocka_unit_test(newer_versions_read_as_newest_known),
        cmocka_unit_test(malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
