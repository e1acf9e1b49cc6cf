/*
 * test_api_fetch.c -- Fetch codec (api_fetch.h): every version 4-17 of
 * request and response both ways (round trip, field by field, every
 * truncation), tagged fields in and out, topic ids, records as opaque views
 * (null, empty, ending in a partial batch), the piecewise response encoder
 * used for zero-copy sends, and golden bytes written by hand.
 */
#include "api_test.h"

#include "proto/api_fetch.h"
#include "rill.h"

API_CODEC(fetch_req, rill_fetch_req)
API_CODEC(fetch_resp, rill_fetch_resp)

#define S(x) rill__str(x)
#define NUL rill__str_null()

static const uint8_t ID_ORDERS[16] = {0x6b, 0x1a, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, 0x71,
                                      0x82, 0x93, 0xa4, 0xb5, 0xc6, 0xd7, 0xe8, 0xf9};
static const uint8_t ID_AUDIT[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};

/* ---- Request ---- */

static void fetch_request_all_versions(void **state) {
    (void)state;
    for (int16_t v = RILL_FETCH_MIN_VER; v <= RILL_FETCH_MAX_VER; v++) {
        bool ids = v >= 13;
        rill_fetch_req_partition p0[] = {
            {0, v >= 9 ? 5 : -1, 1000, v >= 12 ? 4 : -1, v >= 5 ? 10 : -1, 1048576, {0}},
            {3, v >= 9 ? 5 : -1, 0, -1, -1, 65536, {0}},
        };
        if (v >= 17)
            memset(p0[1].replica_directory_id, 0xd1, 16);
        rill_fetch_req_partition p1[] = {{7, -1, INT64_MAX, -1, -1, 1, {0}}};
        rill_fetch_req_topic ts[] = {
            {ids ? S("") : S("orders"), {0}, p0, 2},
            {ids ? S("") : S("audit"), {0}, p1, 1},
        };
        if (ids) {
            memcpy(ts[0].topic_id, ID_ORDERS, 16);
            memcpy(ts[1].topic_id, ID_AUDIT, 16);
        }
        int32_t gone[] = {2, 9};
        rill_fetch_forgotten_topic fg[] = {{ids ? S("") : S("old"), {0}, gone, 2}};
        if (ids)
            memset(fg[0].topic_id, 0x77, 16);
        rill_fetch_req m = {
            .cluster_id = v >= 12 ? S("MkU3OEVBNTcwNTJENDM2Qk") : NUL,
            .replica_id = v >= 15 ? 2 : -1, /* a follower, to exercise ReplicaState */
            .replica_epoch = v >= 15 ? 17 : -1,
            .max_wait_ms = 500,
            .min_bytes = 1,
            .max_bytes = 52428800,
            .isolation_level = RILL_READ_COMMITTED,
            .session_id = v >= 7 ? 1234 : 0,
            .session_epoch = v >= 7 ? 3 : -1,
            .topics = ts,
            .ntopics = 2,
            .forgotten = fg,
            .nforgotten = v >= 7 ? 1 : 0,
            .rack_id = v >= 11 ? S("us-east-1a") : S(""),
        };
        rt t;
        rill_fetch_req d;
        rt_check(&t, enc_fetch_req, dec_fetch_req, v, &m, &d, sizeof(d));
        assert_str_eq(d.cluster_id, m.cluster_id);
        assert_int_equal(d.replica_id, m.replica_id);
        assert_int_equal(d.replica_epoch, m.replica_epoch);
        assert_int_equal(d.max_wait_ms, 500);
        assert_int_equal(d.min_bytes, 1);
        assert_int_equal(d.max_bytes, 52428800);
        assert_int_equal(d.isolation_level, RILL_READ_COMMITTED);
        assert_int_equal(d.session_id, m.session_id);
        assert_int_equal(d.session_epoch, m.session_epoch);
        assert_str_eq(d.rack_id, m.rack_id);
        assert_int_equal(d.ntopics, 2);
        for (int i = 0; i < 2; i++) {
            assert_str_eq(d.topics[i].topic, ts[i].topic);
            assert_memory_equal(d.topics[i].topic_id, ts[i].topic_id, 16);
            assert_int_equal(d.topics[i].npartitions, ts[i].npartitions);
            for (int j = 0; j < ts[i].npartitions; j++) {
                const rill_fetch_req_partition *a = &d.topics[i].partitions[j];
                const rill_fetch_req_partition *e = &ts[i].partitions[j];
                assert_int_equal(a->partition, e->partition);
                assert_int_equal(a->current_leader_epoch, e->current_leader_epoch);
                assert_int_equal(a->fetch_offset, e->fetch_offset);
                assert_int_equal(a->last_fetched_epoch, e->last_fetched_epoch);
                assert_int_equal(a->log_start_offset, e->log_start_offset);
                assert_int_equal(a->partition_max_bytes, e->partition_max_bytes);
                assert_memory_equal(a->replica_directory_id, e->replica_directory_id, 16);
            }
        }
        assert_int_equal(d.nforgotten, m.nforgotten);
        if (d.nforgotten) {
            assert_str_eq(d.forgotten[0].topic, fg[0].topic);
            assert_memory_equal(d.forgotten[0].topic_id, fg[0].topic_id, 16);
            assert_int_equal(d.forgotten[0].npartitions, 2);
            assert_int_equal(d.forgotten[0].partitions[1], 9);
        }
        rt_free(&t);

        /* A consumer's plain fetch: no tags, no topics, no forgotten data. */
        rill_fetch_req c = {.cluster_id = NUL,
                            .replica_id = -1,
                            .replica_epoch = -1,
                            .max_wait_ms = 100,
                            .session_epoch = -1,
                            .rack_id = S("")};
        rt_check(&t, enc_fetch_req, dec_fetch_req, v, &c, &d, sizeof(d));
        assert_int_equal(d.ntopics, 0);
        assert_int_equal(d.nforgotten, 0);
        assert_int_equal(d.replica_id, -1);
        assert_str_null(d.cluster_id);
        rt_free(&t);
    }
    /* Sessions need v7; forgotten topics too; versions out of range. */
    rill_fetch_req s = {.cluster_id = NUL, .replica_id = -1, .session_id = 5, .rack_id = S("")};
    enc_refused(enc_fetch_req, 6, &s);
    enc_refused(enc_fetch_req, 3, &s);
    enc_refused(enc_fetch_req, 18, &s);
    rill_fetch_forgotten_topic fg = {S("x"), {0}, NULL, 0};
    rill_fetch_req f = {.cluster_id = NUL,
                        .replica_id = -1,
                        .session_epoch = -1,
                        .forgotten = &fg,
                        .nforgotten = 1,
                        .rack_id = S("")};
    enc_refused(enc_fetch_req, 6, &f);
}

/* Fetch v4 as kafka-python 2.0.2 sends it: one topic, one partition. */
static void fetch_request_golden_v4(void **state) {
    (void)state;
    rill_fetch_req_partition p = {0, -1, 5, -1, -1, 1048576, {0}};
    rill_fetch_req_topic tp = {S("t"), {0}, &p, 1};
    rill_fetch_req m = {.cluster_id = NUL,
                        .replica_id = -1,
                        .replica_epoch = -1,
                        .max_wait_ms = 500,
                        .min_bytes = 1,
                        .max_bytes = 52428800,
                        .isolation_level = 0,
                        .session_epoch = -1,
                        .topics = &tp,
                        .ntopics = 1,
                        .rack_id = S("")};
    rill_buf b;
    size_t at;
    frame_begin(&b, RILL_API_FETCH, 4, 3, "kp", &at);
    assert_int_equal(rill__fetch_req_encode(&b, 4, &m), 0);
    frame_end(&b, at);
    static const uint8_t expect[] = {
        0x00, 0x00, 0x00, 0x38,                         /* size 56 */
        0x00, 0x01, 0x00, 0x04, 0x00, 0x00, 0x00, 0x03, /* Fetch v4, correlation 3 */
        0x00, 0x02, 'k',  'p',                          /* client id */
        0xff, 0xff, 0xff, 0xff,                         /* ReplicaId -1 */
        0x00, 0x00, 0x01, 0xf4,                         /* MaxWaitMs 500 */
        0x00, 0x00, 0x00, 0x01,                         /* MinBytes 1 */
        0x03, 0x20, 0x00, 0x00,                         /* MaxBytes 50 MiB */
        0x00,                                           /* IsolationLevel */
        0x00, 0x00, 0x00, 0x01,                         /* one topic */
        0x00, 0x01, 't',                                /* "t" */
        0x00, 0x00, 0x00, 0x01,                         /* one partition */
        0x00, 0x00, 0x00, 0x00,                         /* Partition 0 */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, /* FetchOffset 5 */
        0x00, 0x10, 0x00, 0x00,                         /* PartitionMaxBytes 1 MiB */
    };
    assert_bytes(&b, expect);
    rill__buf_free(&b);
}

/* Fetch v12: compact encodings, LastFetchedEpoch, tagged ClusterId. */
static void fetch_request_golden_v12(void **state) {
    (void)state;
    rill_fetch_req_partition p = {1, 2, 5, -1, -1, 100, {0}};
    rill_fetch_req_topic tp = {S("t"), {0}, &p, 1};
    rill_fetch_req m = {.cluster_id = S("c"),
                        .replica_id = -1,
                        .replica_epoch = -1,
                        .max_wait_ms = 1,
                        .min_bytes = 1,
                        .max_bytes = 2,
                        .isolation_level = 1,
                        .session_id = 0,
                        .session_epoch = -1,
                        .topics = &tp,
                        .ntopics = 1,
                        .rack_id = S("")};
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(rill__fetch_req_encode(&b, 12, &m), 0);
    static const uint8_t expect[] = {
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, /* ReplicaId, MaxWaitMs */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, /* MinBytes, MaxBytes */
        0x01,                                           /* READ_COMMITTED */
        0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, /* SessionId 0, SessionEpoch -1 */
        0x02, 0x02, 't',                                /* one topic "t" */
        0x02,                                           /* one partition */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, /* Partition, CurrentLeaderEpoch */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, /* FetchOffset */
        0xff, 0xff, 0xff, 0xff,                         /* LastFetchedEpoch */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* LogStartOffset */
        0x00, 0x00, 0x00, 0x64, 0x00,                   /* PartitionMaxBytes, tags */
        0x00,                                           /* topic tags */
        0x01,                                           /* no forgotten topics */
        0x01,                                           /* RackId "" */
        0x01, 0x00, 0x02, 0x02, 'c',                    /* tag 0 ClusterId "c" */
    };
    assert_bytes(&b, expect);
    rill__buf_free(&b);
}

/* ---- Response ---- */

/* Two record batches' worth of opaque bytes, the second cut short. */
static const uint8_t RECORDS[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x08,
    0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0x11, 0x22, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x01, 0x00, 0x99, /* a partial batch: claims 256 bytes, has
                                                             1 */
};

static void fetch_response_all_versions(void **state) {
    (void)state;
    for (int16_t v = RILL_FETCH_MIN_VER; v <= RILL_FETCH_MAX_VER; v++) {
        bool ids = v >= 13, flex = v >= 12;
        rill_fetch_aborted_txn ab[] = {{4000, 11}, {4001, 19}};
        rill_fetch_resp_partition ps[3];
        rill__fetch_resp_partition_init(&ps[0], 0);
        ps[0].high_watermark = 20;
        ps[0].last_stable_offset = 11;
        ps[0].log_start_offset = v >= 5 ? 0 : -1;
        ps[0].aborted = ab;
        ps[0].naborted = 2;
        ps[0].preferred_read_replica = v >= 11 ? 1 : -1;
        ps[0].records = (rill_bytes){RECORDS, sizeof(RECORDS)};
        rill__fetch_resp_partition_init(&ps[1], 1);
        ps[1].error_code = RILL_ERR_NOT_LEADER_OR_FOLLOWER;
        if (flex) {
            ps[1].current_leader_id = 3;
            ps[1].current_leader_epoch = 8;
            ps[1].diverging_epoch = 6;
            ps[1].diverging_end_offset = 900;
            ps[1].snapshot_end_offset = 1000;
            ps[1].snapshot_epoch = 5;
        }
        rill__fetch_resp_partition_init(&ps[2], 2);
        ps[2].error_code = RILL_ERR_OFFSET_OUT_OF_RANGE;
        ps[2].high_watermark = 7;
        ps[2].naborted = 0; /* empty, not null */
        ps[2].records = (rill_bytes){(const uint8_t *)"", 0};
        rill_fetch_resp_topic ts[] = {{ids ? S("") : S("orders"), {0}, ps, 3},
                                      {ids ? S("") : S("audit"), {0}, NULL, 0}};
        if (ids) {
            memcpy(ts[0].topic_id, ID_ORDERS, 16);
            memcpy(ts[1].topic_id, ID_AUDIT, 16);
        }
        rill_fetch_node_endpoint nodes[] = {{3, S("broker-3"), 9092, S("r1")},
                                            {4, S("broker-4"), 9093, NUL}};
        rill_fetch_resp m = {25,
                             v >= 7 ? RILL_ERR_FETCH_SESSION_ID_NOT_FOUND : 0,
                             v >= 7 ? 1234 : 0,
                             ts,
                             2,
                             v >= 16 ? nodes : NULL,
                             v >= 16 ? 2 : 0};
        /* ps[1] carries null aborted transactions and null records by init. */
        rt t;
        rill_fetch_resp d;
        rt_check(&t, enc_fetch_resp, dec_fetch_resp, v, &m, &d, sizeof(d));
        assert_int_equal(d.throttle_time_ms, 25);
        assert_int_equal(d.error_code, m.error_code);
        assert_int_equal(d.session_id, m.session_id);
        assert_int_equal(d.ntopics, 2);
        assert_str_eq(d.topics[0].topic, ts[0].topic);
        assert_memory_equal(d.topics[0].topic_id, ts[0].topic_id, 16);
        assert_str_eq(d.topics[1].topic, ts[1].topic);
        assert_memory_equal(d.topics[1].topic_id, ts[1].topic_id, 16);
        assert_int_equal(d.topics[1].npartitions, 0);
        assert_int_equal(d.topics[0].npartitions, 3);
        for (int j = 0; j < 3; j++) {
            const rill_fetch_resp_partition *a = &d.topics[0].partitions[j], *e = &ps[j];
            assert_int_equal(a->partition, e->partition);
            assert_int_equal(a->error_code, e->error_code);
            assert_int_equal(a->high_watermark, e->high_watermark);
            assert_int_equal(a->last_stable_offset, e->last_stable_offset);
            assert_int_equal(a->log_start_offset, e->log_start_offset);
            assert_int_equal(a->diverging_epoch, e->diverging_epoch);
            assert_int_equal(a->diverging_end_offset, e->diverging_end_offset);
            assert_int_equal(a->current_leader_id, e->current_leader_id);
            assert_int_equal(a->current_leader_epoch, e->current_leader_epoch);
            assert_int_equal(a->snapshot_end_offset, e->snapshot_end_offset);
            assert_int_equal(a->snapshot_epoch, e->snapshot_epoch);
            assert_int_equal(a->naborted, e->naborted);
            for (int k = 0; k < a->naborted; k++) {
                assert_int_equal(a->aborted[k].producer_id, e->aborted[k].producer_id);
                assert_int_equal(a->aborted[k].first_offset, e->aborted[k].first_offset);
            }
            assert_int_equal(a->preferred_read_replica, e->preferred_read_replica);
            assert_int_equal(a->records.len, e->records.len);
            if (a->records.len > 0)
                assert_memory_equal(a->records.ptr, e->records.ptr, (size_t)a->records.len);
        }
        assert_int_equal(d.topics[0].partitions[1].naborted, -1);
        assert_int_equal(d.topics[0].partitions[1].records.len, -1);
        /* Records are a view into the body, never a copy. */
        const uint8_t *rp = d.topics[0].partitions[0].records.ptr;
        assert_true(rp > t.buf.data && rp < t.buf.data + t.buf.len);
        assert_int_equal(d.nnode_endpoints, m.nnode_endpoints);
        for (int i = 0; i < d.nnode_endpoints; i++) {
            assert_int_equal(d.node_endpoints[i].node_id, nodes[i].node_id);
            assert_str_eq(d.node_endpoints[i].host, nodes[i].host);
            assert_int_equal(d.node_endpoints[i].port, nodes[i].port);
            assert_str_eq(d.node_endpoints[i].rack, nodes[i].rack);
        }
        rt_free(&t);
    }
}

/* The pieces, with records spliced in by the caller, give the same bytes. */
static void fetch_response_pieces_match(void **state) {
    (void)state;
    for (int16_t v = RILL_FETCH_MIN_VER; v <= RILL_FETCH_MAX_VER; v++) {
        rill_fetch_resp_partition ps[2];
        rill__fetch_resp_partition_init(&ps[0], 0);
        ps[0].high_watermark = 10;
        ps[0].records = (rill_bytes){RECORDS, sizeof(RECORDS)};
        rill__fetch_resp_partition_init(&ps[1], 1);
        ps[1].current_leader_id = v >= 12 ? 1 : -1;
        ps[1].current_leader_epoch = v >= 12 ? 0 : -1;
        ps[1].records = (rill_bytes){RECORDS, 12};
        rill_fetch_resp_topic tp = {S("t"), {0}, ps, 2};
        memcpy(tp.topic_id, ID_AUDIT, 16);
        rill_fetch_resp m = {0, 0, 0, &tp, 1, NULL, 0};

        rill_buf whole;
        rill__buf_init(&whole, 0);
        assert_int_equal(rill__fetch_resp_encode(&whole, v, &m), 0);

        /* Headers only; note where each partition's records belong. */
        rill_buf hdr;
        rill__buf_init(&hdr, 0);
        size_t at[2];
        assert_int_equal(rill__fetch_resp_begin(&hdr, v, &m, 1), 0);
        rill__fetch_resp_topic_begin(&hdr, v, &tp, 2);
        for (int j = 0; j < 2; j++) {
            rill__fetch_resp_partition_header(&hdr, v, &ps[j], ps[j].records.len);
            at[j] = hdr.len;
            rill__fetch_resp_partition_end(&hdr, v, &ps[j]);
        }
        rill__fetch_resp_topic_end(&hdr, v);
        assert_int_equal(rill__fetch_resp_end(&hdr, v, &m), 0);
        assert_int_equal(hdr.len + sizeof(RECORDS) + 12, whole.len);

        /* Splice as a sendfile-ing broker would, and compare. */
        rill_buf spliced;
        rill__buf_init(&spliced, 0);
        size_t from = 0;
        for (int j = 0; j < 2; j++) {
            rill__wr_raw(&spliced, hdr.data + from, at[j] - from);
            rill__wr_raw(&spliced, ps[j].records.ptr, (size_t)ps[j].records.len);
            from = at[j];
        }
        rill__wr_raw(&spliced, hdr.data + from, hdr.len - from);
        assert_int_equal(spliced.len, whole.len);
        assert_memory_equal(spliced.data, whole.data, whole.len);
        rill__buf_free(&spliced);
        rill__buf_free(&hdr);
        rill__buf_free(&whole);
    }
    /* A bad version poisons the whole sequence. */
    rill_buf b;
    rill__buf_init(&b, 0);
    rill_fetch_resp m = {0};
    assert_int_equal(rill__fetch_resp_begin(&b, 3, &m, 0), -1);
    rill__fetch_resp_topic_end(&b, 3);
    assert_int_equal(rill__fetch_resp_end(&b, 3, &m), -1);
    rill__buf_free(&b);
}

/* Fetch v4 response: one partition of 3 record bytes, null aborted list. */
static void fetch_response_golden_v4(void **state) {
    (void)state;
    rill_fetch_resp_partition p;
    rill__fetch_resp_partition_init(&p, 0);
    p.high_watermark = 10;
    p.last_stable_offset = 10;
    p.records = (rill_bytes){(const uint8_t *)"\x01\x02\x03", 3};
    rill_fetch_resp_topic tp = {S("t"), {0}, &p, 1};
    rill_fetch_resp m = {0, 0, 0, &tp, 1, NULL, 0};
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(rill__fetch_resp_encode(&b, 4, &m), 0);
    static const uint8_t expect[] = {
        0x00, 0x00, 0x00, 0x00,                         /* ThrottleTimeMs */
        0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',        /* one topic "t" */
        0x00, 0x00, 0x00, 0x01,                         /* one partition */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00,             /* PartitionIndex, ErrorCode */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, /* HighWatermark */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, /* LastStableOffset */
        0xff, 0xff, 0xff, 0xff,                         /* AbortedTransactions null */
        0x00, 0x00, 0x00, 0x03, 0x01, 0x02, 0x03,       /* Records */
    };
    assert_bytes(&b, expect);
    rill__buf_free(&b);
}

/* Fetch v12 response: a NOT_LEADER partition with a tagged CurrentLeader. */
static void fetch_response_golden_v12(void **state) {
    (void)state;
    static const uint8_t body[] = {
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* throttle, error, session */
        0x02, 0x02, 't',                                            /* one topic "t" */
        0x02,                                                       /* one partition */
        0x00, 0x00, 0x00, 0x00, 0x00, 0x06,                         /* partition 0, error 6 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,             /* HighWatermark -1 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,             /* LastStableOffset -1 */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,             /* LogStartOffset -1 */
        0x00,                                                       /* aborted: null */
        0xff, 0xff, 0xff, 0xff,                                     /* PreferredReadReplica */
        0x00,                                                       /* Records null */
        0x01, 0x01, 0x09,                                           /* 1 tag: CurrentLeader, 9 B */
        0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x07, 0x00,       /* leader 2, epoch 7, tags */
        0x00,                                                       /* topic tags */
        0x00,                                                       /* body tags */
    };
    rill_fetch_resp_partition p;
    rill__fetch_resp_partition_init(&p, 0);
    p.error_code = RILL_ERR_NOT_LEADER_OR_FOLLOWER;
    p.high_watermark = -1;
    p.current_leader_id = 2;
    p.current_leader_epoch = 7;
    rill_fetch_resp_topic tp = {S("t"), {0}, &p, 1};
    rill_fetch_resp m = {0, 0, 0, &tp, 1, NULL, 0};
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(rill__fetch_resp_encode(&b, 12, &m), 0);
    assert_bytes(&b, body);
    rill__buf_free(&b);

    rill_arena a;
    rill__arena_init(&a, 0);
    rill_rd r;
    rill__rd_init(&r, body, sizeof(body));
    rill_fetch_resp d;
    assert_int_equal(rill__fetch_resp_decode(&r, 12, &d, &a), 0);
    assert_int_equal(rill__rd_remain(&r), 0);
    const rill_fetch_resp_partition *dp = &d.topics[0].partitions[0];
    assert_int_equal(dp->error_code, RILL_ERR_NOT_LEADER_OR_FOLLOWER);
    assert_int_equal(dp->current_leader_id, 2);
    assert_int_equal(dp->current_leader_epoch, 7);
    assert_int_equal(dp->diverging_epoch, -1);
    assert_int_equal(dp->naborted, -1);
    assert_int_equal(dp->records.len, -1);
    rill__arena_free(&a);
}

/* Decodes an empty v`ver` response whose body tag section is `tags`. */
static int decode_with_body_tags(int16_t ver, const uint8_t *tags, size_t n, rill_fetch_resp *d,
                                 rill_arena *a, rill_buf *b) {
    rill_fetch_resp_topic tp = {S("t"), {0}, NULL, 0};
    rill_fetch_resp m = {0, 0, 0, &tp, 1, NULL, 0};
    rill__buf_reset(b);
    assert_int_equal(rill__fetch_resp_encode(b, ver, &m), 0);
    assert_int_equal(b->data[b->len - 1], 0x00); /* the empty tag section */
    b->len--;
    rill__wr_raw(b, tags, n);
    rill_rd r;
    rill__rd_init(&r, b->data, b->len);
    int rc = rill__fetch_resp_decode(&r, ver, d, a);
    if (rc == 0)
        assert_int_equal(rill__rd_remain(&r), 0);
    return rc;
}

/* Unknown tags are skipped; a known tag whose value does not fill its size is an error. */
static void fetch_unknown_and_bad_tags(void **state) {
    (void)state;
    rill_arena a;
    rill__arena_init(&a, 0);
    rill_buf b;
    rill__buf_init(&b, 0);
    rill_fetch_resp d;
    /* Tag 9 (3 bytes) and tag 10 (1 byte): unknown in every version. */
    static const uint8_t unknown[] = {0x02, 0x09, 0x03, 0xaa, 0xbb, 0xcc, 0x0a, 0x01, 0x00};
    for (int16_t v = 12; v <= RILL_FETCH_MAX_VER; v++)
        assert_int_equal(decode_with_body_tags(v, unknown, sizeof(unknown), &d, &a, &b), 0);
    /* Tag 0 holding an empty array and a stray byte: NodeEndpoints from v16 on. */
    static const uint8_t bad[] = {0x01, 0x00, 0x02, 0x01, 0x00};
    assert_int_equal(decode_with_body_tags(15, bad, sizeof(bad), &d, &a, &b), 0);
    assert_int_equal(decode_with_body_tags(16, bad, sizeof(bad), &d, &a, &b), -1);
    /* The same without the stray byte is fine. */
    static const uint8_t good[] = {0x01, 0x00, 0x01, 0x01};
    assert_int_equal(decode_with_body_tags(16, good, sizeof(good), &d, &a, &b), 0);
    assert_int_equal(d.nnode_endpoints, 0);
    /* A tag whose size runs past the end. */
    static const uint8_t past[] = {0x01, 0x09, 0x05, 0x00};
    assert_int_equal(decode_with_body_tags(12, past, sizeof(past), &d, &a, &b), -1);
    rill__buf_free(&b);
    rill__arena_free(&a);
}

static void fetch_malformed(void **state) {
    (void)state;
    rill_arena a;
    rill__arena_init(&a, 0);
    rill_rd r;
    rill_fetch_resp d;
    /* v4: a topic count of 2^31-1. */
    static const uint8_t huge[] = {0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 0};
    rill__rd_init(&r, huge, sizeof(huge));
    assert_int_equal(rill__fetch_resp_decode(&r, 4, &d, &a), -1);
    /* v4: records claiming more bytes than there are. */
    static const uint8_t short_rec[] = {
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 't',  0x00,
        0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x0a, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x04, 0x01, 0x02, 0x03,
    };
    rill__rd_init(&r, short_rec, sizeof(short_rec));
    assert_int_equal(rill__fetch_resp_decode(&r, 4, &d, &a), -1);
    /* Records length -2 is not null, it is malformed. */
    uint8_t neg[sizeof(short_rec)];
    memcpy(neg, short_rec, sizeof(neg));
    memset(neg + sizeof(neg) - 7, 0xff, 4);
    neg[sizeof(neg) - 4] = 0xfe;
    rill__rd_init(&r, neg, sizeof(neg) - 3);
    assert_int_equal(rill__fetch_resp_decode(&r, 4, &d, &a), -1);
    rill__arena_free(&a);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fetch_request_all_versions),
        cmocka_unit_test(fetch_request_golden_v4),
        cmocka_unit_test(fetch_request_golden_v12),
        cmocka_unit_test(fetch_response_all_versions),
        cmocka_unit_test(fetch_response_pieces_match),
        cmocka_unit_test(fetch_response_golden_v4),
        cmocka_unit_test(fetch_response_golden_v12),
        cmocka_unit_test(fetch_unknown_and_bad_tags),
        cmocka_unit_test(fetch_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
