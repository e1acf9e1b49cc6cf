/*
 * test_api_produce.c -- Produce codec, v3-11: the streaming request writer
 * (and its misuse checks), request and response round trips per version
 * (records as opaque bytes, several batches in one partition, v10+ tagged
 * leader hints), and golden v3 / v9 request frames.
 */
#include "api_test.h"

#include "proto/api_produce.h"

API_CODEC(produce_req, rill_produce_req)
API_CODEC(produce_resp, rill_produce_resp)

static const uint8_t blob[] = {0xde, 0xad, 0xbe, 0xef};
/* Two "batches" back to back: the codec does not look inside. */
static const uint8_t two_batches[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};

static void request_all_versions(void **state) {
    (void)state;
    rill_produce_req_partition p1[3] = {
        {0, {blob, sizeof(blob)}},
        {7, {two_batches, sizeof(two_batches)}},
        {8, {NULL, -1}},
    };
    rill_produce_req_partition p2[1] = {{2, {blob, 0}}};
    rill_produce_req_topic topics[2] = {{rill__str("orders"), p1, 3}, {rill__str("audit"), p2, 1}};
    for (int16_t v = RILL_PRODUCE_MIN_VER; v <= RILL_PRODUCE_MAX_VER; v++) {
        for (int txn = 0; txn < 2; txn++) {
            rill_produce_req m = {txn ? rill__str("txn-1") : rill__str_null(), -1, 30000, topics,
                                  2};
            rt t;
            rill_produce_req d;
            rt_check(&t, enc_produce_req, dec_produce_req, v, &m, &d, sizeof(d));
            assert_str_eq(d.transactional_id, m.transactional_id);
            assert_int_equal(d.acks, -1);
            assert_int_equal(d.timeout_ms, 30000);
            assert_int_equal(d.ntopics, 2);
            assert_cstr(d.topics[0].name, "orders");
            assert_int_equal(d.topics[0].npartitions, 3);
            for (int k = 0; k < 3; k++) {
                assert_int_equal(d.topics[0].partitions[k].index, p1[k].index);
                assert_int_equal(d.topics[0].partitions[k].records.len, p1[k].records.len);
                if (p1[k].records.len > 0)
                    assert_memory_equal(d.topics[0].partitions[k].records.ptr, p1[k].records.ptr,
                                        (size_t)p1[k].records.len);
            }
            assert_cstr(d.topics[1].name, "audit");
            assert_int_equal(d.topics[1].partitions[0].index, 2);
            assert_int_equal(d.topics[1].partitions[0].records.len, 0);
            rt_free(&t);
        }
    }
    rill_produce_req empty = {rill__str_null(), 1, 0, NULL, 0};
    rt t;
    rill_produce_req d;
    rt_check(&t, enc_produce_req, dec_produce_req, 9, &empty, &d, sizeof(d));
    assert_int_equal(d.ntopics, 0);
    rt_free(&t);
    enc_refused(enc_produce_req, 2, &empty);
    enc_refused(enc_produce_req, 12, &empty);
}

/* The struct encoder gives exactly `got`'s bytes for m at version v. */
static void assert_encodes_as(const rill_produce_req *m, int16_t v, const rill_buf *got) {
    rill_buf e;
    rill__buf_init(&e, 0);
    assert_int_equal(rill__produce_req_encode(&e, v, m), 0);
    assert_int_equal(e.len, got->len);
    assert_memory_equal(e.data, got->data, e.len);
    rill__buf_free(&e);
}

/* The streaming writer produces exactly what the struct encoder does. */
static void writer_matches_struct(void **state) {
    (void)state;
    for (int16_t v = RILL_PRODUCE_MIN_VER; v <= RILL_PRODUCE_MAX_VER; v++) {
        rill_buf s;
        rill__buf_init(&s, 0);
        rill_produce_writer w;
        rill__produce_req_begin(&w, &s, v, rill__str("tx"), 1, 500, 2);
        rill__produce_req_topic(&w, rill__str("a"), 2);
        rill__produce_req_partition(&w, 0, blob, sizeof(blob));
        /* A partition whose two batches are appended separately. */
        rill__produce_req_partition_begin(&w, 1, (int32_t)sizeof(two_batches));
        rill__wr_raw(&s, two_batches, 5);
        rill__wr_raw(&s, two_batches + 5, sizeof(two_batches) - 5);
        rill__produce_req_partition_end(&w);
        rill__produce_req_topic(&w, rill__str("b"), 1);
        rill__produce_req_partition(&w, 4, blob, 2);
        assert_int_equal(rill__produce_req_end(&w), 0);

        rill_produce_req_partition pa[2] = {{0, {blob, 4}}, {1, {two_batches, 13}}};
        rill_produce_req_partition pb[1] = {{4, {blob, 2}}};
        rill_produce_req_topic tp[2] = {{rill__str("a"), pa, 2}, {rill__str("b"), pb, 1}};
        rill_produce_req m = {rill__str("tx"), 1, 500, tp, 2};
        assert_encodes_as(&m, v, &s);
        rill__buf_free(&s);
    }
}

/* Records that go out apart from the buffer (a gather write): the buffer
 * holds everything else, and splicing them back in gives the struct's bytes. */
static void writer_records_apart(void **state) {
    (void)state;
    for (int16_t v = RILL_PRODUCE_MIN_VER; v <= RILL_PRODUCE_MAX_VER; v++) {
        rill_buf s;
        rill__buf_init(&s, 0);
        rill_produce_writer w;
        rill__produce_req_begin(&w, &s, v, rill__str_null(), -1, 500, 1);
        rill__produce_req_topic(&w, rill__str("a"), 2);
        rill__produce_req_partition_begin(&w, 0, (int32_t)sizeof(two_batches));
        size_t at0 = s.len;
        rill__produce_req_partition_apart(&w, sizeof(two_batches));
        rill__produce_req_partition_end(&w);
        rill__produce_req_partition_begin(&w, 1, 4);
        size_t at1 = s.len;
        rill__produce_req_partition_apart(&w, 4);
        rill__produce_req_partition_end(&w);
        assert_int_equal(rill__produce_req_end(&w), 0);

        rill_buf spliced;
        rill__buf_init(&spliced, 0);
        rill__wr_raw(&spliced, s.data, at0);
        rill__wr_raw(&spliced, two_batches, sizeof(two_batches));
        rill__wr_raw(&spliced, s.data + at0, at1 - at0);
        rill__wr_raw(&spliced, blob, 4);
        rill__wr_raw(&spliced, s.data + at1, s.len - at1);

        rill_produce_req_partition pa[2] = {{0, {two_batches, 13}}, {1, {blob, 4}}};
        rill_produce_req_topic tp[1] = {{rill__str("a"), pa, 2}};
        rill_produce_req m = {rill__str_null(), -1, 500, tp, 1};
        assert_encodes_as(&m, v, &spliced);
        rill__buf_free(&spliced);
        rill__buf_free(&s);
    }
    /* More apart than the partition has: misuse. */
    rill_buf b;
    rill_produce_writer w;
    rill__buf_init(&b, 0);
    rill__produce_req_begin(&w, &b, 9, rill__str_null(), 1, 0, 1);
    rill__produce_req_topic(&w, rill__str("a"), 1);
    rill__produce_req_partition_begin(&w, 0, 4);
    rill__produce_req_partition_apart(&w, 5);
    rill__produce_req_partition_end(&w);
    assert_int_equal(rill__produce_req_end(&w), -1);
    rill__buf_free(&b);
}

static void writer_misuse(void **state) {
    (void)state;
    rill_buf b;
    rill_produce_writer w;
    /* Fewer partitions than announced. */
    rill__buf_init(&b, 0);
    rill__produce_req_begin(&w, &b, 9, rill__str_null(), 1, 0, 1);
    rill__produce_req_topic(&w, rill__str("a"), 2);
    rill__produce_req_partition(&w, 0, blob, 4);
    assert_int_equal(rill__produce_req_end(&w), -1);
    rill__buf_free(&b);
    /* More topics than announced. */
    rill__buf_init(&b, 0);
    rill__produce_req_begin(&w, &b, 3, rill__str_null(), 1, 0, 1);
    rill__produce_req_topic(&w, rill__str("a"), 0);
    rill__produce_req_topic(&w, rill__str("b"), 0);
    assert_int_equal(rill__produce_req_end(&w), -1);
    rill__buf_free(&b);
    /* Fewer topics than announced. */
    rill__buf_init(&b, 0);
    rill__produce_req_begin(&w, &b, 3, rill__str_null(), 1, 0, 2);
    rill__produce_req_topic(&w, rill__str("a"), 0);
    assert_int_equal(rill__produce_req_end(&w), -1);
    rill__buf_free(&b);
    /* A partition before any topic. */
    rill__buf_init(&b, 0);
    rill__produce_req_begin(&w, &b, 3, rill__str_null(), 1, 0, 1);
    rill__produce_req_partition(&w, 0, blob, 4);
    assert_int_equal(rill__produce_req_end(&w), -1);
    rill__buf_free(&b);
    /* Appended bytes that do not match the announced length. */
    rill__buf_init(&b, 0);
    rill__produce_req_begin(&w, &b, 11, rill__str_null(), 1, 0, 1);
    rill__produce_req_topic(&w, rill__str("a"), 1);
    rill__produce_req_partition_begin(&w, 0, 10);
    rill__wr_raw(&b, blob, 4);
    rill__produce_req_partition_end(&w);
    assert_int_equal(rill__produce_req_end(&w), -1);
    rill__buf_free(&b);
    /* A partition left open. */
    rill__buf_init(&b, 0);
    rill__produce_req_begin(&w, &b, 11, rill__str_null(), 1, 0, 1);
    rill__produce_req_topic(&w, rill__str("a"), 1);
    rill__produce_req_partition_begin(&w, 0, 0);
    assert_int_equal(rill__produce_req_end(&w), -1);
    rill__buf_free(&b);
    /* A version out of range. */
    rill__buf_init(&b, 0);
    rill__produce_req_begin(&w, &b, 2, rill__str_null(), 1, 0, 0);
    assert_int_equal(rill__produce_req_end(&w), -1);
    rill__buf_free(&b);
    /* A full buffer is reported too. */
    rill__buf_init(&b, 16);
    rill__produce_req_begin(&w, &b, 3, rill__str_null(), 1, 0, 1);
    rill__produce_req_topic(&w, rill__str("a"), 1);
    rill__produce_req_partition(&w, 0, two_batches, sizeof(two_batches));
    assert_int_equal(rill__produce_req_end(&w), -1);
    rill__buf_free(&b);
}

static void response_all_versions(void **state) {
    (void)state;
    rill_produce_record_error rec_errs[2] = {{3, rill__str("bad key")}, {5, {NULL, -1}}};
    rill_produce_resp_partition parts[2] = {
        {0, 0, 1000, 1700000000000LL, 10, NULL, 0, {NULL, -1}, true, 2, 9},
        {1, 87, -1, -1, -1, rec_errs, 2, rill__str("invalid record"), false, -1, -1},
    };
    rill_produce_resp_topic topics[1] = {{rill__str("orders"), parts, 2}};
    rill_produce_node_endpoint eps[1] = {{2, rill__str("b2.local"), 9094, rill__str("r2")}};
    rill_produce_resp m = {topics, 1, 40, eps, 1};
    for (int16_t v = RILL_PRODUCE_MIN_VER; v <= RILL_PRODUCE_MAX_VER; v++) {
        rt t;
        rill_produce_resp d;
        rt_check(&t, enc_produce_resp, dec_produce_resp, v, &m, &d, sizeof(d));
        assert_int_equal(d.throttle_time_ms, 40);
        assert_int_equal(d.ntopics, 1);
        assert_cstr(d.topics[0].name, "orders");
        assert_int_equal(d.topics[0].npartitions, 2);
        const rill_produce_resp_partition *p = &d.topics[0].partitions[0];
        assert_int_equal(p->index, 0);
        assert_int_equal(p->error_code, 0);
        assert_true(p->base_offset == 1000);
        assert_true(p->log_append_time_ms == 1700000000000LL);
        assert_true(p->log_start_offset == (v >= 5 ? 10 : -1));
        assert_int_equal(p->nrecord_errors, 0);
        assert_str_null(p->error_message);
        assert_int_equal(p->has_current_leader, v >= 10);
        assert_int_equal(p->current_leader_id, v >= 10 ? 2 : -1);
        assert_int_equal(p->current_leader_epoch, v >= 10 ? 9 : -1);
        p = &d.topics[0].partitions[1];
        assert_int_equal(p->error_code, 87);
        assert_false(p->has_current_leader);
        assert_int_equal(p->current_leader_id, -1);
        if (v >= 8) {
            assert_int_equal(p->nrecord_errors, 2);
            assert_int_equal(p->record_errors[0].batch_index, 3);
            assert_cstr(p->record_errors[0].message, "bad key");
            assert_int_equal(p->record_errors[1].batch_index, 5);
            assert_str_null(p->record_errors[1].message);
            assert_cstr(p->error_message, "invalid record");
        } else {
            assert_int_equal(p->nrecord_errors, 0);
            assert_str_null(p->error_message);
        }
        if (v >= 10) {
            assert_int_equal(d.nnode_endpoints, 1);
            assert_int_equal(d.node_endpoints[0].node_id, 2);
            assert_cstr(d.node_endpoints[0].host, "b2.local");
            assert_int_equal(d.node_endpoints[0].port, 9094);
            assert_cstr(d.node_endpoints[0].rack, "r2");
        } else {
            assert_int_equal(d.nnode_endpoints, 0);
        }
        rt_free(&t);
    }
}

/* v10 tagged fields: exact bytes of a partition's CurrentLeader, unknown tags skipped. */
static void response_tagged_bytes(void **state) {
    (void)state;
    rill_produce_resp_partition part = {1, 6, -1, -1, -1, NULL, 0, {NULL, -1}, true, 3, 7};
    rill_produce_resp_topic topic = {rill__str("t"), &part, 1};
    rill_produce_resp m = {&topic, 1, 0, NULL, 0};
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(rill__produce_resp_encode(&b, 10, &m), 0);
    static const uint8_t expect[] = {
        0x02, 0x02, 't',  0x02,                         /* 1 topic "t", 1 partition */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x06,             /* index, error 6 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* base offset */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log append time */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* log start offset */
        0x01, 0x00,                                     /* no record errors, null msg */
        0x01, 0x00, 0x09, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x07, 0x00, /* tag 0 */
        0x00,                                                                   /* topic tags */
        0x00, 0x00, 0x00, 0x00,                                                 /* throttle */
        0x00, /* no NodeEndpoints */
    };
    assert_bytes(&b, expect);
    /* In v9 tag 0 does not exist yet: the same bytes decode with the hint skipped. */
    rill_arena a;
    rill_produce_resp d;
    decode_whole(dec_produce_resp, 9, b.data, b.len, &d, &a);
    assert_false(d.topics[0].partitions[0].has_current_leader);
    assert_int_equal(d.topics[0].partitions[0].error_code, 6);
    rill__arena_free(&a);
    rill__buf_free(&b);
}

/* One topic "t", one partition 0 with the 4-byte blob, through the streaming writer. */
static void writer_frame(rill_buf *b, int16_t ver, int32_t corr) {
    size_t at;
    rill_produce_writer w;
    frame_begin(b, RILL_API_PRODUCE, ver, corr, "rill", &at);
    rill__produce_req_begin(&w, b, ver, rill__str_null(), -1, 30000, 1);
    rill__produce_req_topic(&w, rill__str("t"), 1);
    rill__produce_req_partition(&w, 0, blob, sizeof(blob));
    assert_int_equal(rill__produce_req_end(&w), 0);
    frame_end(b, at);
}

static void golden_requests(void **state) {
    (void)state;
    rill_buf b;
    writer_frame(&b, 3, 9);
    static const uint8_t v3[] = {
        0x00, 0x00, 0x00, 0x2d,                         /* size 45 */
        0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x09, /* Produce v3, correlation 9 */
        0x00, 0x04, 'r',  'i',  'l',  'l',              /* client id */
        0xff, 0xff,                                     /* transactional id: null */
        0xff, 0xff,                                     /* acks -1 */
        0x00, 0x00, 0x75, 0x30,                         /* timeout 30000 */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',        /* one topic "t" */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* one partition, index 0 */
        0x00, 0x00, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef, /* records */
    };
    assert_bytes(&b, v3);
    rill__buf_free(&b);

    writer_frame(&b, 9, 10);
    static const uint8_t v9[] = {
        0x00, 0x00, 0x00, 0x26,                         /* size 38 */
        0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x0a, /* Produce v9, correlation 10 */
        0x00, 0x04, 'r',  'i',  'l',  'l',  0x00,       /* client id, header tags */
        0x00,                                           /* transactional id: null */
        0xff, 0xff,                                     /* acks -1 */
        0x00, 0x00, 0x75, 0x30,                         /* timeout 30000 */
        0x02, 0x02, 't',                                /* one topic "t" */
        0x02, 0x00, 0x00, 0x00, 0x00,                   /* one partition, index 0 */
        0x05, 0xde, 0xad, 0xbe, 0xef,                   /* compact records */
        0x00, 0x00, 0x00,                               /* partition, topic, body tags */
    };
    assert_bytes(&b, v9);
    rill__buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(request_all_versions), cmocka_unit_test(writer_matches_struct),
        cmocka_unit_test(writer_misuse),        cmocka_unit_test(response_all_versions),
        cmocka_unit_test(writer_records_apart), cmocka_unit_test(response_tagged_bytes),
        cmocka_unit_test(golden_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
