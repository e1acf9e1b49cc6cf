/*
 * test_record_batch.c -- record batch v2: exact bytes (by hand from the
 * spec, and as kafka-python 2.0.2 builds them), round trips through every
 * codec, producer-field rewrites, truncation and corruption, the record
 * and header iterators, control records, the RECORDS walker, and the
 * legacy (magic 0/1) MessageSet reader.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "common/crc32c.h"
#include "common/endian.h"
#include "proto/msgset_legacy.h"
#include "proto/record_batch.h"

/*
 * Golden batches from kafka-python 2.0.2 (Debian's python3-kafka), made with
 * kafka.record.default_records.DefaultRecordBatchBuilder, an independent
 * implementation (with its own pure-Python CRC-32C).  It writes 0 as the
 * partition leader epoch where Java (and rill) write -1; that field is
 * outside the CRC, so comparisons skip bytes 12..15.
 *
 * kp_simple: 1 record, ts 1700000000000, key "k", value "hello".
 */
static const uint8_t kp_simple[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3e, 0x00, 0x00, 0x00,
    0x00, 0x02, 0x36, 0xff, 0x4d, 0xc3, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x8b, 0xcf, 0xe5, 0x68, 0x00, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00,
    0x01, 0x18, 0x00, 0x00, 0x00, 0x02, 0x6b, 0x0a, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
};

/*
 * kp_features: producer id 4242, epoch 3, base sequence 17; records
 *   0: ts +500, key null, value "v0"
 *   1: ts +0 (delta -500), key "", value null, headers h1="x", empty="", nullv=null
 *   2: ts +1000, key "key2", value ""
 */
static const uint8_t kp_features[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x61, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x24, 0x62, 0xb0, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x01, 0x8b, 0xcf,
    0xe5, 0x69, 0xf4, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x6b, 0xe8, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x10, 0x92, 0x00, 0x03, 0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, 0x03, 0x10, 0x00, 0x00,
    0x00, 0x01, 0x04, 0x76, 0x30, 0x00, 0x34, 0x00, 0xe7, 0x07, 0x02, 0x00, 0x01, 0x06, 0x04, 0x68,
    0x31, 0x02, 0x78, 0x0a, 0x65, 0x6d, 0x70, 0x74, 0x79, 0x00, 0x0a, 0x6e, 0x75, 0x6c, 0x6c, 0x76,
    0x01, 0x16, 0x00, 0xe8, 0x07, 0x04, 0x08, 0x6b, 0x65, 0x79, 0x32, 0x00, 0x00,
};

/* kp_txn: transactional, producer id 77, epoch 0, sequence 0, key "a", value "b". */
static const uint8_t kp_txn[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x00, 0x00,
    0x00, 0x00, 0x02, 0x77, 0xf6, 0xa7, 0x12, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x4d, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x01, 0x10, 0x00, 0x00, 0x00, 0x02, 0x61, 0x02, 0x62, 0x00,
};

/*
 * kp_gzip: gzip; 10 records, ts 1700000000000 + i, key null, value
 * "abcdefgh" x 8, one header n = "<i>".
 */
static const uint8_t kp_gzip[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9f, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x7d, 0xa1, 0x75, 0xc1, 0x00, 0x01, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x01, 0x8b, 0xcf,
    0xe5, 0x68, 0x00, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x09, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x0a, 0x1f, 0x8b, 0x08,
    0x00, 0x1e, 0x5e, 0x07, 0x6b, 0x02, 0xff, 0xad, 0xcc, 0xc9, 0x09, 0xc0, 0x20, 0x10, 0x05, 0xd0,
    0x99, 0x41, 0x44, 0x44, 0x44, 0xac, 0x24, 0xfb, 0x52, 0x4e, 0xf6, 0x9c, 0x52, 0x43, 0xaa, 0xb0,
    0xde, 0x4c, 0x0d, 0xe1, 0x9f, 0xde, 0xed, 0x15, 0x26, 0x22, 0x7e, 0x79, 0x59, 0xb7, 0xfd, 0x38,
    0xaf, 0xfb, 0xaf, 0x22, 0x8f, 0x54, 0x85, 0x49, 0x04, 0x94, 0xd5, 0x9a, 0x19, 0x03, 0xca, 0x1a,
    0xcd, 0xac, 0x05, 0x65, 0xad, 0x66, 0xce, 0x81, 0xb2, 0x4e, 0x33, 0xef, 0x41, 0x59, 0xaf, 0x59,
    0x08, 0xa0, 0x6c, 0xd0, 0x2c, 0x46, 0x50, 0x36, 0x6a, 0x96, 0x12, 0x28, 0x9b, 0x34, 0xcb, 0x19,
    0x94, 0xcd, 0x1f, 0xe1, 0x33, 0xd0, 0x4c, 0x02, 0x03, 0x00, 0x00,
};

#define TS0 1700000000000LL

static const int codecs[] = {RILL_CODEC_NONE, RILL_CODEC_GZIP, RILL_CODEC_SNAPPY, RILL_CODEC_LZ4,
                             RILL_CODEC_ZSTD};
#define NCODECS (sizeof(codecs) / sizeof(codecs[0]))

/* Bytes equal except the partition leader epoch (12..15). */
static void assert_batch_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen) {
    assert_int_equal(alen, blen);
    assert_memory_equal(a, b, 12);
    assert_memory_equal(a + 16, b + 16, alen - 16);
}

static uint8_t *dup_exact(const void *p, size_t n) {
    uint8_t *q = malloc(n ? n : 1);
    assert_non_null(q);
    if (n)
        memcpy(q, p, n);
    return q;
}

/* What most tests need: a builder, its compression scratch, a reader. */
typedef struct {
    rill_batch_builder bb;
    rill_buf scratch;
    rill_codec_ctx cctx;
    rill_batch_reader rd;
} fx;

static int fx_setup(void **state) {
    fx *f = calloc(1, sizeof(*f));
    if (!f)
        return -1;
    rill__batch_builder_init(&f->bb, 0);
    rill__buf_init(&f->scratch, 0);
    rill__codec_ctx_init(&f->cctx);
    rill__batch_reader_init(&f->rd, 8 << 20);
    *state = f;
    return 0;
}

static int fx_teardown(void **state) {
    fx *f = *state;
    rill__batch_reader_free(&f->rd);
    rill__codec_ctx_clear(&f->cctx);
    rill__buf_free(&f->scratch);
    rill__batch_builder_free(&f->bb);
    free(f);
    return 0;
}

/* ------------------------------------------------------------ exact bytes */

static void hand_built_bytes(void **state) {
    fx *f = *state;
    /* The batch of kp_simple, written field by field from the spec. */
    static const uint8_t want[] = {
        0, 0, 0, 0, 0, 0, 0, 0,                         /* 0  baseOffset 0 */
        0, 0, 0, 62,                                    /* 8  batchLength: 74 - 12 */
        0xff, 0xff, 0xff, 0xff,                         /* 12 partitionLeaderEpoch -1 */
        2,                                              /* 16 magic */
        0x36, 0xff, 0x4d, 0xc3,                         /* 17 CRC-32C of bytes 21..73 */
        0, 0,                                           /* 21 attributes: none, CreateTime */
        0, 0, 0, 0,                                     /* 23 lastOffsetDelta 0 */
        0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,       /* 27 baseTimestamp 1700000000000 */
        0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,       /* 35 maxTimestamp */
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* 43 producerId -1 */
        0xff, 0xff,                                     /* 51 producerEpoch -1 */
        0xff, 0xff, 0xff, 0xff,                         /* 53 baseSequence -1 */
        0, 0, 0, 1,                                     /* 57 recordsCount 1 */
        /* 61 record: length 12 (zigzag 24), attributes, tsDelta 0, offsetDelta 0,
         * key len 1 (2) "k", value len 5 (10) "hello", 0 headers */
        24, 0, 0, 0, 2, 'k', 10, 'h', 'e', 'l', 'l', 'o', 0};
    assert_int_equal(sizeof(want), 74);
    /* The CRC is what the spec says it is over these bytes. */
    assert_int_equal(rill__crc32c_sw(0, want + 21, sizeof(want) - 21), 0x36ff4dc3u);

    assert_int_equal(rill__batch_begin(&f->bb, TS0, -1, -1, -1, 0), 0);
    assert_int_equal(rill__batch_record_size(&f->bb, TS0, 1, 5, NULL, 0), 13);
    assert_int_equal(rill__batch_append(&f->bb, TS0, "k", 1, "hello", 5, NULL, 0), 0);
    assert_int_equal(rill__batch_finish(&f->bb, RILL_CODEC_NONE, RILL_LEVEL_DEFAULT, NULL, NULL),
                     0);
    assert_int_equal(f->bb.buf.len, sizeof(want));
    assert_memory_equal(f->bb.buf.data, want, sizeof(want));
    assert_batch_equal(f->bb.buf.data, f->bb.buf.len, kp_simple, sizeof(kp_simple));
}

static void matches_kafka_python(void **state) {
    fx *f = *state;
    rill_header_t hs[] = {{"h1", "x", 1}, {"empty", "", 0}, {"nullv", NULL, 0}};
    assert_int_equal(rill__batch_begin(&f->bb, TS0 + 500, 4242, 3, 17, 0), 0);
    assert_int_equal(rill__batch_append(&f->bb, TS0 + 500, NULL, -1, "v0", 2, NULL, 0), 0);
    assert_int_equal(rill__batch_append(&f->bb, TS0, "", 0, NULL, -1, hs, 3), 0);
    assert_int_equal(rill__batch_append(&f->bb, TS0 + 1000, "key2", 4, "", 0, NULL, 0), 0);
    assert_int_equal(rill__batch_count(&f->bb), 3);
    assert_int_equal(rill__batch_finish(&f->bb, RILL_CODEC_NONE, RILL_LEVEL_DEFAULT, NULL, NULL),
                     0);
    assert_batch_equal(f->bb.buf.data, f->bb.buf.len, kp_features, sizeof(kp_features));

    assert_int_equal(rill__batch_begin(&f->bb, TS0, 77, 0, 0, 1), 0);
    assert_int_equal(rill__batch_append(&f->bb, TS0, "a", 1, "b", 1, NULL, 0), 0);
    assert_int_equal(rill__batch_finish(&f->bb, RILL_CODEC_NONE, RILL_LEVEL_DEFAULT, NULL, NULL),
                     0);
    assert_batch_equal(f->bb.buf.data, f->bb.buf.len, kp_txn, sizeof(kp_txn));
}

/* ------------------------------------------------------------ decoding */

static void expect_bytes(rill_bytes b, const char *s) {
    if (!s) {
        assert_int_equal(b.len, -1);
        return;
    }
    assert_int_equal(b.len, (int32_t)strlen(s));
    assert_memory_equal(b.ptr, s, b.len);
}

static void decode_kafka_python(void **state) {
    fx *f = *state;
    rill_batch_header h;
    uint8_t *b = dup_exact(kp_features, sizeof(kp_features));
    assert_int_equal(
        rill__batch_validate(&f->rd, b, sizeof(kp_features), RILL_VALIDATE_PRODUCE, &h), 0);
    assert_int_equal(h.base_offset, 0);
    assert_int_equal(h.size, sizeof(kp_features));
    assert_int_equal(h.magic, 2);
    assert_int_equal(h.producer_id, 4242);
    assert_int_equal(h.producer_epoch, 3);
    assert_int_equal(h.base_sequence, 17);
    assert_int_equal(h.record_count, 3);
    assert_int_equal(h.last_offset_delta, 2);
    assert_int_equal(h.base_timestamp, TS0 + 500);
    assert_int_equal(h.max_timestamp, TS0 + 1000);
    assert_false(rill__batch_is_control(&h));
    assert_false(rill__batch_is_transactional(&h));

    rill__batch_set_base_offset(b, 1000); /* as the broker does; CRC unaffected */
    assert_int_equal(rill__batch_validate(&f->rd, b, sizeof(kp_features), 0, &h), 0);
    const uint8_t *recs;
    size_t len;
    assert_int_equal(rill__batch_records(&f->rd, b, &h, &recs, &len), 0);
    assert_ptr_equal(recs, b + 61); /* uncompressed: a view, no copy */
    rill_record_iter it;
    rill_record r;
    rill__record_iter_init(&it, recs, len, &h);

    assert_int_equal(rill__record_iter_next(&it, &r), 1);
    assert_int_equal(r.offset, 1000);
    assert_int_equal(r.timestamp, TS0 + 500);
    expect_bytes(r.key, NULL);
    expect_bytes(r.value, "v0");
    assert_int_equal(r.header_count, 0);

    assert_int_equal(rill__record_iter_next(&it, &r), 1);
    assert_int_equal(r.offset, 1001);
    assert_int_equal(r.timestamp_delta, -500);
    assert_int_equal(r.timestamp, TS0);
    expect_bytes(r.key, ""); /* empty, not null */
    expect_bytes(r.value, NULL);
    assert_int_equal(r.header_count, 3);
    rill_header_iter hi;
    rill_str hn;
    rill_bytes hv;
    rill__header_iter_init(&hi, &r);
    static const char *const names[] = {"h1", "empty", "nullv"};
    static const char *const vals[] = {"x", "", NULL};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rill__header_iter_next(&hi, &hn, &hv), 1);
        assert_true(rill__str_eq(hn, names[i]));
        expect_bytes(hv, vals[i]);
    }
    assert_int_equal(rill__header_iter_next(&hi, &hn, &hv), 0);

    assert_int_equal(rill__record_iter_next(&it, &r), 1);
    assert_int_equal(r.offset, 1002);
    assert_int_equal(r.timestamp, TS0 + 1000);
    expect_bytes(r.key, "key2");
    expect_bytes(r.value, "");
    assert_int_equal(rill__record_iter_next(&it, &r), 0);
    assert_int_equal(rill__record_iter_next(&it, &r), 0); /* stays at the end */
    free(b);

    /* gzip from kafka-python: inflated into the reader's f->scratch. */
    b = dup_exact(kp_gzip, sizeof(kp_gzip));
    assert_int_equal(rill__batch_validate(&f->rd, b, sizeof(kp_gzip), RILL_VALIDATE_PRODUCE, &h),
                     0);
    assert_int_equal(rill__batch_codec(&h), RILL_CODEC_GZIP);
    assert_int_equal(rill__batch_records(&f->rd, b, &h, &recs, &len), 0);
    assert_ptr_equal(recs, f->rd.scratch.data);
    rill__record_iter_init(&it, recs, len, &h);
    int n = 0;
    while (rill__record_iter_next(&it, &r) == 1) {
        assert_int_equal(r.offset, n);
        assert_int_equal(r.timestamp, TS0 + n);
        expect_bytes(r.key, NULL);
        assert_int_equal(r.value.len, 64);
        assert_memory_equal(r.value.ptr, "abcdefghabcdefgh", 16);
        rill__header_iter_init(&hi, &r);
        assert_int_equal(rill__header_iter_next(&hi, &hn, &hv), 1);
        assert_true(rill__str_eq(hn, "n"));
        assert_int_equal(hv.len, 1);
        assert_int_equal(hv.ptr[0], '0' + n);
        n++;
    }
    assert_int_equal(n, 10);
    free(b);

    b = dup_exact(kp_txn, sizeof(kp_txn));
    assert_int_equal(rill__batch_validate(&f->rd, b, sizeof(kp_txn), RILL_VALIDATE_PRODUCE, &h), 0);
    assert_true(rill__batch_is_transactional(&h));
    assert_int_equal(h.producer_id, 77);
    free(b);
}

/* ------------------------------------------------------------ round trips */

typedef struct {
    char key[32];
    int32_t klen;
    uint8_t *value;
    int32_t vlen;
    int64_t ts;
    rill_header_t hdrs[3];
    size_t nh;
} test_rec;

static uint32_t rng = 2463534242u;
static uint32_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static void make_records(test_rec *r, size_t n, size_t vmax) {
    for (size_t i = 0; i < n; i++) {
        memset(&r[i], 0, sizeof(r[i]));
        int kind = (int)(i % 4);
        r[i].klen = kind == 0 ? -1 : snprintf(r[i].key, sizeof(r[i].key), "key-%zu", i);
        if (kind == 1)
            r[i].klen = 0;
        r[i].vlen = kind == 2 ? -1 : (int32_t)(next_rand() % (vmax + 1));
        if (r[i].vlen >= 0) {
            r[i].value = malloc((size_t)r[i].vlen + 1);
            for (int32_t k = 0; k < r[i].vlen; k++)
                r[i].value[k] = k % 7 == 0 ? (uint8_t)next_rand() : (uint8_t)('a' + k % 13);
        }
        /* Timestamps move both ways around the base; some far apart. */
        r[i].ts = TS0 + (int64_t)(next_rand() % 100000) - 50000 + (i % 97 == 0 ? 1LL << 40 : 0);
        r[i].nh = i % 3;
        static const char *const hn[] = {"trace-id", "", "content-type"};
        for (size_t k = 0; k < r[i].nh; k++) {
            r[i].hdrs[k].name = hn[(i + k) % 3];
            r[i].hdrs[k].value = k == 1 ? NULL : r[i].key;
            r[i].hdrs[k].value_len = k == 1 ? 0 : strlen(r[i].key);
        }
    }
}

static void free_records(test_rec *r, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(r[i].value);
}

static void check_records(rill_batch_reader *rd, const uint8_t *b, size_t blen, test_rec *tr,
                          size_t n, int64_t base_offset) {
    rill_batch_header h;
    assert_int_equal(rill__batch_validate(rd, b, blen, RILL_VALIDATE_PRODUCE, &h), 0);
    assert_int_equal(h.record_count, (int32_t)n);
    int64_t maxts = INT64_MIN;
    for (size_t i = 0; i < n; i++)
        maxts = tr[i].ts > maxts ? tr[i].ts : maxts;
    assert_int_equal(h.max_timestamp, maxts);
    assert_int_equal(h.base_timestamp, tr[0].ts);
    const uint8_t *recs;
    size_t len;
    assert_int_equal(rill__batch_records(rd, b, &h, &recs, &len), 0);
    rill_record_iter it;
    rill_record r;
    rill__record_iter_init(&it, recs, len, &h);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(rill__record_iter_next(&it, &r), 1);
        assert_int_equal(r.offset, base_offset + (int64_t)i);
        assert_int_equal(r.timestamp, tr[i].ts);
        assert_int_equal(r.key.len, tr[i].klen);
        if (tr[i].klen > 0)
            assert_memory_equal(r.key.ptr, tr[i].key, tr[i].klen);
        assert_int_equal(r.value.len, tr[i].vlen);
        if (tr[i].vlen > 0)
            assert_memory_equal(r.value.ptr, tr[i].value, tr[i].vlen);
        assert_int_equal(r.header_count, (int32_t)tr[i].nh);
        rill_header_iter hi;
        rill_str hn;
        rill_bytes hv;
        rill__header_iter_init(&hi, &r);
        for (size_t k = 0; k < tr[i].nh; k++) {
            assert_int_equal(rill__header_iter_next(&hi, &hn, &hv), 1);
            assert_true(rill__str_eq(hn, tr[i].hdrs[k].name));
            if (!tr[i].hdrs[k].value)
                assert_int_equal(hv.len, -1);
            else
                assert_int_equal(hv.len, (int32_t)tr[i].hdrs[k].value_len);
        }
        assert_int_equal(rill__header_iter_next(&hi, &hn, &hv), 0);
    }
    assert_int_equal(rill__record_iter_next(&it, &r), 0);
}

/* Appends recs and checks rill__batch_record_size predicted each growth. */
static void append_all(rill_batch_builder *bb, test_rec *tr, size_t n) {
    for (size_t i = 0; i < n; i++) {
        size_t before = rill__batch_size(bb);
        size_t pred =
            rill__batch_record_size(bb, tr[i].ts, tr[i].klen, tr[i].vlen, tr[i].hdrs, tr[i].nh);
        assert_int_equal(rill__batch_append(bb, tr[i].ts, tr[i].klen < 0 ? NULL : tr[i].key,
                                            tr[i].klen, tr[i].value, tr[i].vlen, tr[i].hdrs,
                                            tr[i].nh),
                         0);
        assert_int_equal(rill__batch_size(bb) - before, pred);
    }
}

static void round_trip_codecs(void **state) {
    fx *f = *state;
    static const struct {
        size_t n, vmax;
    } shapes[] = {{1, 0}, {1, 10}, {7, 200}, {1000, 100}, {3000, 700}}; /* last: ~1 MiB */
    for (size_t s = 0; s < sizeof(shapes) / sizeof(shapes[0]); s++) {
        size_t n = shapes[s].n;
        test_rec *tr = calloc(n, sizeof(*tr));
        make_records(tr, n, shapes[s].vmax);
        for (size_t c = 0; c < NCODECS; c++) {
            assert_int_equal(rill__batch_begin(&f->bb, tr[0].ts, 9, 1, 100, 0), 0);
            append_all(&f->bb, tr, n);
            size_t plain = rill__batch_size(&f->bb);
            assert_int_equal(
                rill__batch_finish(&f->bb, codecs[c], RILL_LEVEL_DEFAULT, &f->cctx, &f->scratch),
                0);
            if (codecs[c] != RILL_CODEC_NONE)
                assert_int_equal(f->scratch.len, plain); /* the plain buffer came back */
            rill_batch_header h;
            assert_int_equal(rill__batch_header_parse(f->bb.buf.data, f->bb.buf.len, &h),
                             RILL_BATCH_OK);
            assert_int_equal(rill__batch_codec(&h), codecs[c]); /* kept, even if larger */
            assert_int_equal(h.producer_id, 9);
            assert_int_equal(h.producer_epoch, 1);
            assert_int_equal(h.base_sequence, 100);
            assert_int_equal(h.partition_leader_epoch, -1);
            check_records(&f->rd, f->bb.buf.data, f->bb.buf.len, tr, n, 0);
        }
        free_records(tr, n);
        free(tr);
    }
}

static void many_records(void **state) {
    fx *f = *state;
    size_t n = 20000;
    test_rec *tr = calloc(n, sizeof(*tr));
    make_records(tr, n, 20);
    assert_int_equal(rill__batch_begin(&f->bb, tr[0].ts, -1, -1, -1, 0), 0);
    append_all(&f->bb, tr, n);
    assert_int_equal(rill__batch_finish(&f->bb, RILL_CODEC_NONE, 0, NULL, NULL), 0);
    rill__batch_set_base_offset(f->bb.buf.data, (int64_t)1 << 33);
    check_records(&f->rd, f->bb.buf.data, f->bb.buf.len, tr, n, (int64_t)1 << 33);
    free_records(tr, n);
    free(tr);
}

/* ------------------------------------------------------------ rewrites */

static void rewrite_producer(void **state) {
    fx *f = *state;
    rill_batch_header h;
    for (size_t c = 0; c < NCODECS; c++) {
        assert_int_equal(rill__batch_begin(&f->bb, TS0, -1, -1, -1, 0), 0);
        for (int i = 0; i < 5; i++)
            assert_int_equal(rill__batch_append(&f->bb, TS0 + i, "k", 1, "v", 1, NULL, 0), 0);
        assert_int_equal(rill__batch_finish(&f->bb, codecs[c], 0, NULL, &f->scratch), 0);
        uint32_t crc0 = rill__ld32(f->bb.buf.data + 17);
        assert_int_equal(
            rill__batch_set_producer(f->bb.buf.data, f->bb.buf.len, 123456789012LL, 7, 42), 0);
        assert_int_not_equal(rill__ld32(f->bb.buf.data + 17), crc0);
        assert_int_equal(
            rill__batch_validate(&f->rd, f->bb.buf.data, f->bb.buf.len, RILL_VALIDATE_PRODUCE, &h),
            0);
        assert_int_equal(h.producer_id, 123456789012LL);
        assert_int_equal(h.producer_epoch, 7);
        assert_int_equal(h.base_sequence, 42);
        /* Back to the original fields: the original CRC. */
        assert_int_equal(rill__batch_set_producer(f->bb.buf.data, f->bb.buf.len, -1, -1, -1), 0);
        assert_int_equal(rill__ld32(f->bb.buf.data + 17), crc0);
        /* Outside the CRC. */
        rill__batch_set_base_offset(f->bb.buf.data, 555);
        rill__batch_set_leader_epoch(f->bb.buf.data, 9);
        assert_int_equal(rill__batch_validate(&f->rd, f->bb.buf.data, f->bb.buf.len, 0, &h), 0);
        assert_int_equal(h.base_offset, 555);
        assert_int_equal(h.partition_leader_epoch, 9);
        assert_int_equal(rill__batch_last_offset(&h), 559);
        /* LogAppendTime: every record then carries the batch's max timestamp. */
        assert_int_equal(
            rill__batch_set_log_append_time(f->bb.buf.data, f->bb.buf.len, TS0 + 99999), 0);
        assert_int_equal(rill__batch_validate(&f->rd, f->bb.buf.data, f->bb.buf.len, 0, &h), 0);
        assert_int_equal(rill__batch_codec(&h), codecs[c]);
        const uint8_t *recs;
        size_t len;
        assert_int_equal(rill__batch_records(&f->rd, f->bb.buf.data, &h, &recs, &len), 0);
        rill_record_iter it;
        rill_record r;
        rill__record_iter_init(&it, recs, len, &h);
        int n = 0;
        while (rill__record_iter_next(&it, &r) == 1) {
            assert_int_equal(r.timestamp, TS0 + 99999);
            assert_int_equal(r.timestamp_delta, n++);
        }
        assert_int_equal(n, 5);
    }
    /* Not a batch: refused, nothing written. */
    uint8_t junk[80] = {0};
    assert_int_equal(rill__batch_set_producer(junk, sizeof(junk), 1, 1, 1), RILL_ERR_INVALID_ARG);
    junk[16] = 2;
    rill__st32(junk + 8, 1000); /* longer than the buffer */
    assert_int_equal(rill__batch_set_producer(junk, sizeof(junk), 1, 1, 1), RILL_ERR_INVALID_ARG);
    assert_int_equal(rill__batch_set_log_append_time(junk, 60, 1), RILL_ERR_INVALID_ARG);
    for (size_t i = 17; i < sizeof(junk); i++)
        assert_int_equal(junk[i], 0);
}

/*
 * The builder's records CRC (taken on append, or by finish) and the re-seal
 * from it: the same bytes as a CRC over the whole batch, for every codec,
 * with the CRC taken on append, by finish, or switched on halfway (finish
 * must then not trust it).
 */
static void crc_kept_by_the_builder(void **state) {
    fx *f = *state;
    size_t n = 3000;
    test_rec *tr = calloc(n, sizeof(*tr));
    make_records(tr, n, 700);
    rill_batch_header h;
    for (size_t c = 0; c < NCODECS; c++) {
        uint8_t *ref = NULL;
        size_t ref_len = 0;
        for (int mode = 0; mode < 3; mode++) {
            f->bb.crc_on_append = mode == 1;
            assert_int_equal(rill__batch_begin(&f->bb, tr[0].ts, -1, -1, -1, 0), 0);
            append_all(&f->bb, tr, n / 2);
            if (mode == 2)
                f->bb.crc_on_append = true;
            append_all(&f->bb, tr + n / 2, n - n / 2);
            if (mode == 1)
                assert_int_equal(f->bb.rec_crc_len, f->bb.buf.len - RILL_BATCH_HEADER_SIZE);
            assert_int_equal(
                rill__batch_finish(&f->bb, codecs[c], RILL_LEVEL_DEFAULT, &f->cctx, &f->scratch),
                0);
            assert_int_equal(rill__batch_validate(&f->rd, f->bb.buf.data, f->bb.buf.len, 0, &h), 0);
            if (!ref) {
                ref_len = f->bb.buf.len;
                ref = malloc(ref_len);
                memcpy(ref, f->bb.buf.data, ref_len);
            } else if (codecs[c] == RILL_CODEC_NONE) {
                assert_int_equal(f->bb.buf.len, ref_len);
                assert_memory_equal(f->bb.buf.data, ref, ref_len);
            }
            /* Re-sealed from the kept CRC == re-sealed by reading it all. */
            uint8_t *copy = malloc(f->bb.buf.len);
            memcpy(copy, f->bb.buf.data, f->bb.buf.len);
            assert_int_equal(rill__batch_builder_set_producer(&f->bb, 77, 3, 1000), 0);
            assert_int_equal(rill__batch_set_producer(copy, f->bb.buf.len, 77, 3, 1000), 0);
            assert_memory_equal(f->bb.buf.data, copy, f->bb.buf.len);
            assert_int_equal(rill__batch_validate(&f->rd, f->bb.buf.data, f->bb.buf.len, 0, &h), 0);
            assert_int_equal(h.producer_id, 77);
            assert_int_equal(h.base_sequence, 1000);
            check_records(&f->rd, f->bb.buf.data, f->bb.buf.len, tr, n, 0);
            free(copy);
        }
        free(ref);
    }
    f->bb.crc_on_append = false;
    free_records(tr, n);
    free(tr);
}

/* ------------------------------------------------------------ bad input */

/* Every strict prefix: "need more" / partial, never a read past the end. */
static void truncations(void **state) {
    fx *f = *state;
    const struct {
        const uint8_t *p;
        size_t n;
    } in[] = {{kp_features, sizeof(kp_features)}, {kp_gzip, sizeof(kp_gzip)}};
    for (size_t k = 0; k < 2; k++) {
        for (size_t len = 0; len < in[k].n; len++) {
            uint8_t *b = dup_exact(in[k].p, len);
            rill_batch_header h;
            int r = rill__batch_header_parse(b, len, &h);
            if (len < 61)
                assert_int_equal(r, RILL_BATCH_NEED_MORE);
            else
                assert_true(r == RILL_BATCH_OK && h.size > len);
            assert_int_equal(rill__batch_validate(&f->rd, b, len, 0, &h), RILL_ERR_CORRUPT_MESSAGE);
            rill_batch_walk w;
            const uint8_t *e;
            size_t elen;
            rill__batch_walk_init(&w, b, len);
            assert_int_equal(rill__batch_walk_next(&w, &e, &elen, &h),
                             len ? RILL_WALK_PARTIAL : RILL_WALK_END);
            assert_ptr_equal(w.p, b);
            free(b);
        }
    }
    /* The records region cut short, with the header patched to match. */
    for (size_t len = 61; len < sizeof(kp_features); len++) {
        uint8_t *b = dup_exact(kp_features, len);
        rill__st32(b + 8, (uint32_t)(len - 12));
        rill__st32(b + 17, rill__crc32c(0, b + 21, len - 21));
        rill_batch_header h;
        assert_int_equal(rill__batch_validate(&f->rd, b, len, 0, &h), RILL_ERR_CORRUPT_MESSAGE);
        free(b);
    }
}

static void corruptions(void **state) {
    fx *f = *state;
    rill_batch_header h;
    size_t n = sizeof(kp_features);
    for (size_t i = 0; i < n; i++) {
        uint8_t *b = dup_exact(kp_features, n);
        b[i] ^= 0x10;
        int err = rill__batch_validate(&f->rd, b, n, 0, &h);
        if (i < 8 || (i >= 12 && i < 16))
            assert_int_equal(err, 0); /* baseOffset, leader epoch: outside the CRC */
        else if (i >= 8 && i < 12)
            assert_true(err == RILL_ERR_CORRUPT_MESSAGE || err == RILL_ERR_INVALID_RECORD);
        else
            assert_int_equal(err, RILL_ERR_CORRUPT_MESSAGE); /* magic or CRC */
        free(b);
    }
    /* Magic 0/1 where magic 2 is required. */
    uint8_t *b = dup_exact(kp_features, n);
    b[16] = 1;
    assert_int_equal(rill__batch_validate(&f->rd, b, n, 0, &h), RILL_ERR_INVALID_RECORD);
    free(b);
    /* Two batches, or trailing bytes, where one batch must be. */
    b = malloc(2 * n);
    memcpy(b, kp_features, n);
    memcpy(b + n, kp_features, n);
    assert_int_equal(rill__batch_validate(&f->rd, b, 2 * n, 0, &h), RILL_ERR_INVALID_RECORD);
    assert_int_equal(rill__batch_validate(&f->rd, b, n + 1, 0, &h), RILL_ERR_INVALID_RECORD);
    free(b);
}

/*
 * A batch around a hand-written records region, with a correct CRC, so
 * the record-level checks are what is tested.
 */
static size_t make_batch(uint8_t *out, const uint8_t *recs, size_t rlen, int32_t count,
                         int32_t last_delta, int16_t attrs, int64_t pid, int32_t seq) {
    memset(out, 0, 61);
    rill__st32(out + 8, (uint32_t)(61 - 12 + rlen));
    rill__st32(out + 12, (uint32_t)-1);
    out[16] = 2;
    rill__st16(out + 21, (uint16_t)attrs);
    rill__st32(out + 23, (uint32_t)last_delta);
    rill__st64(out + 27, (uint64_t)TS0);
    rill__st64(out + 35, (uint64_t)TS0);
    rill__st64(out + 43, (uint64_t)pid);
    rill__st16(out + 51, (uint16_t)-1);
    rill__st32(out + 53, (uint32_t)seq);
    rill__st32(out + 57, (uint32_t)count);
    if (rlen)
        memcpy(out + 61, recs, rlen);
    rill__st32(out + 17, rill__crc32c(0, out + 21, 61 + rlen - 21));
    return 61 + rlen;
}

static int validate_records(const uint8_t *recs, size_t rlen, int32_t count, int32_t last_delta,
                            int flags) {
    uint8_t *b = malloc(61 + rlen);
    assert_non_null(b);
    size_t n = make_batch(b, recs, rlen, count, last_delta, 0, -1, -1);
    rill_batch_reader rd;
    rill__batch_reader_init(&rd, 1 << 20);
    rill_batch_header h;
    int err = rill__batch_validate(&rd, b, n, flags, &h);
    rill__batch_reader_free(&rd);
    free(b);
    return err;
}

static void bad_records(void **state) {
    (void)state;
    /* Length 6 (zigzag 12): attributes, tsDelta 0, offsetDelta 0, key null, value null, 0 headers.
     */
    static const uint8_t good[] = {12, 0, 0, 0, 1, 1, 0};
    assert_int_equal(validate_records(good, 7, 1, 0, 0), 0);
    assert_int_equal(validate_records(good, 7, 1, 0, RILL_VALIDATE_PRODUCE), 0);
    /* Count says 2, one record present. */
    assert_int_equal(validate_records(good, 7, 2, 1, 0), RILL_ERR_CORRUPT_MESSAGE);
    /* Count says 1, a second record left over. */
    static const uint8_t two[] = {12, 0, 0, 0, 1, 1, 0, 12, 0, 0, 2, 1, 1, 0};
    assert_int_equal(validate_records(two, sizeof(two), 1, 0, 0), RILL_ERR_CORRUPT_MESSAGE);
    assert_int_equal(validate_records(two, sizeof(two), 2, 1, RILL_VALIDATE_PRODUCE), 0);
    /* The iterator itself: the record, then -1 with the error, and -1 from then on. */
    rill_batch_header h = {.record_count = 1, .last_offset_delta = 0};
    rill_record_iter it;
    rill_record r;
    rill__record_iter_init(&it, two, sizeof(two), &h);
    assert_int_equal(rill__record_iter_next(&it, &r), 1);
    assert_int_equal(rill__record_iter_next(&it, &r), -1);
    assert_int_equal(it.err, RILL_ERR_CORRUPT_MESSAGE);
    assert_int_equal(rill__record_iter_next(&it, &r), -1);
    /* Count larger than the offset range. */
    assert_int_equal(validate_records(two, sizeof(two), 2, 0, 0), RILL_ERR_INVALID_RECORD);
    /* Compaction-like gap (2 records in a range of 5): fine, but not from a producer. */
    assert_int_equal(validate_records(two, sizeof(two), 2, 4, 0), 0);
    assert_int_equal(validate_records(two, sizeof(two), 2, 4, RILL_VALIDATE_PRODUCE),
                     RILL_ERR_INVALID_RECORD);
    /* Offset deltas not rising; first delta not 0 from a producer. */
    static const uint8_t same[] = {12, 0, 0, 2, 1, 1, 0, 12, 0, 0, 2, 1, 1, 0};
    assert_int_equal(validate_records(same, sizeof(same), 2, 1, 0), RILL_ERR_INVALID_RECORD);
    assert_int_equal(validate_records(same, 7, 1, 1, 0), 0);
    assert_int_equal(validate_records(same, 7, 1, 0, 0), RILL_ERR_INVALID_RECORD);
    /* Record length beyond the region, negative, too small for the fields. */
    static const uint8_t longlen[] = {14, 0, 0, 0, 1, 1, 0};
    assert_int_equal(validate_records(longlen, 7, 1, 0, 0), RILL_ERR_CORRUPT_MESSAGE);
    static const uint8_t neglen[] = {13, 0, 0, 0, 1, 1, 0};
    assert_int_equal(validate_records(neglen, 7, 1, 0, 0), RILL_ERR_CORRUPT_MESSAGE);
    static const uint8_t shortlen[] = {10, 0, 0, 0, 1, 1};
    assert_int_equal(validate_records(shortlen, 6, 1, 0, 0), RILL_ERR_CORRUPT_MESSAGE);
    /* The value ("ab") runs past the record's length (6). */
    static const uint8_t cut[] = {12, 0, 0, 0, 1, 4, 'a', 'b', 0};
    assert_int_equal(validate_records(cut, sizeof(cut), 1, 0, 0), RILL_ERR_CORRUPT_MESSAGE);
    /* Key length -2; key longer than the record. */
    static const uint8_t key2[] = {12, 0, 0, 0, 3, 1, 0};
    assert_int_equal(validate_records(key2, 7, 1, 0, 0), RILL_ERR_CORRUPT_MESSAGE);
    static const uint8_t keybig[] = {12, 0, 0, 0, 20, 1, 0};
    assert_int_equal(validate_records(keybig, 7, 1, 0, 0), RILL_ERR_CORRUPT_MESSAGE);
    /* One header: null key (refused), empty key + null value (fine). */
    static const uint8_t hnull[] = {16, 0, 0, 0, 1, 1, 2, 1, 1};
    assert_int_equal(validate_records(hnull, 9, 1, 0, 0), RILL_ERR_CORRUPT_MESSAGE);
    static const uint8_t hok[] = {16, 0, 0, 0, 1, 1, 2, 0, 1};
    assert_int_equal(validate_records(hok, 9, 1, 0, 0), 0);
    /* Header count -1; header count 2^31-1. */
    static const uint8_t hneg[] = {12, 0, 0, 0, 1, 1, 1};
    assert_int_equal(validate_records(hneg, 7, 1, 0, 0), RILL_ERR_CORRUPT_MESSAGE);
    static const uint8_t hhuge[] = {20, 0, 0, 0, 1, 1, 0xfe, 0xff, 0xff, 0xff, 0x0f};
    assert_int_equal(validate_records(hhuge, sizeof(hhuge), 1, 0, 0), RILL_ERR_CORRUPT_MESSAGE);
    /* A varint that never ends. */
    static const uint8_t endless[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_int_equal(validate_records(endless, 6, 1, 0, 0), RILL_ERR_CORRUPT_MESSAGE);
    /* Empty batch (count 0, last delta -1): fine in a log, not from a producer. */
    assert_int_equal(validate_records(NULL, 0, 0, -1, 0), 0);
    assert_int_equal(validate_records(NULL, 0, 0, -1, RILL_VALIDATE_PRODUCE),
                     RILL_ERR_INVALID_RECORD);
}

static void header_rules(void **state) {
    fx *f = *state;
    static const uint8_t rec[] = {12, 0, 0, 0, 1, 1, 0};
    uint8_t b[128];
    rill_batch_header h;
    size_t n;
    /* Unknown codec 5..7 with a correct CRC. */
    n = make_batch(b, rec, sizeof(rec), 1, 0, 5, -1, -1);
    assert_int_equal(rill__batch_validate(&f->rd, b, n, 0, &h),
                     RILL_ERR_UNSUPPORTED_COMPRESSION_TYPE);
    /* Control batch: readable, not producible. */
    n = make_batch(b, rec, sizeof(rec), 1, 0,
                   RILL_BATCH_ATTR_CONTROL | RILL_BATCH_ATTR_TRANSACTIONAL, 5, 0);
    assert_int_equal(rill__batch_validate(&f->rd, b, n, 0, &h), 0);
    assert_true(rill__batch_is_control(&h));
    assert_int_equal(rill__batch_validate(&f->rd, b, n, RILL_VALIDATE_PRODUCE, &h),
                     RILL_ERR_INVALID_RECORD);
    /* A producer id without a sequence; transactional without producer id. */
    n = make_batch(b, rec, sizeof(rec), 1, 0, 0, 5, -1);
    assert_int_equal(rill__batch_validate(&f->rd, b, n, RILL_VALIDATE_PRODUCE, &h),
                     RILL_ERR_INVALID_RECORD);
    n = make_batch(b, rec, sizeof(rec), 1, 0, RILL_BATCH_ATTR_TRANSACTIONAL, -1, -1);
    assert_int_equal(rill__batch_validate(&f->rd, b, n, RILL_VALIDATE_PRODUCE, &h),
                     RILL_ERR_INVALID_RECORD);
    /* Compressed records that inflate to nothing: an empty batch, a valid view. */
    rill__buf_reset(&f->scratch);
    assert_int_equal(rill__compress(RILL_CODEC_GZIP, "", 0, &f->scratch), 0);
    assert_true(61 + f->scratch.len <= sizeof(b));
    n = make_batch(b, f->scratch.data, f->scratch.len, 0, -1, RILL_CODEC_GZIP, -1, -1);
    rill__buf_free(&f->rd.scratch); /* no buffer yet: inflating to nothing leaves none */
    assert_int_equal(rill__batch_validate(&f->rd, b, n, 0, &h), 0);
    const uint8_t *recs;
    size_t len;
    assert_int_equal(rill__batch_records(&f->rd, b, &h, &recs, &len), 0);
    assert_non_null(recs);
    assert_int_equal(len, 0);
    /* Negative record count / batch length too small for a header. */
    n = make_batch(b, rec, sizeof(rec), -1, 0, 0, -1, -1);
    assert_int_equal(rill__batch_header_parse(b, n, &h), RILL_BATCH_CORRUPT);
    assert_int_equal(rill__batch_validate(&f->rd, b, n, 0, &h), RILL_ERR_CORRUPT_MESSAGE);
    n = make_batch(b, rec, sizeof(rec), 1, 0, 0, -1, -1);
    rill__st32(b + 8, 48);
    assert_int_equal(rill__batch_header_parse(b, n, &h), RILL_BATCH_CORRUPT);
    rill__st32(b + 8, (uint32_t)-5);
    assert_int_equal(rill__batch_header_parse(b, n, &h), RILL_BATCH_CORRUPT);
    b[16] = 3;
    rill__st32(b + 8, (uint32_t)(n - 12));
    assert_int_equal(rill__batch_header_parse(b, n, &h), RILL_BATCH_CORRUPT);
}

static void control_records(void **state) {
    fx *f = *state;
    /* Commit marker: key version 0, type 1; value version 0, coordinator epoch 3. */
    static const uint8_t rec[] = {
        32, 0, 0, 0, 8, 0, 0, 0, 1, 12, 0, 0, 0, 0, 0, 3, 0,
    };
    uint8_t b[61 + sizeof(rec)];
    size_t n = make_batch(b, rec, sizeof(rec), 1, 0,
                          RILL_BATCH_ATTR_CONTROL | RILL_BATCH_ATTR_TRANSACTIONAL, 5, 0);
    rill_batch_header h;
    assert_int_equal(rill__batch_validate(&f->rd, b, n, 0, &h), 0);
    assert_true(rill__batch_is_control(&h));
    const uint8_t *recs;
    size_t len;
    assert_int_equal(rill__batch_records(&f->rd, b, &h, &recs, &len), 0);
    rill_record_iter it;
    rill_record r;
    rill__record_iter_init(&it, recs, len, &h);
    assert_int_equal(rill__record_iter_next(&it, &r), 1);
    assert_int_equal(rill__control_record_type(&r), 1);
    uint8_t abort_key[4] = {0, 0, 0, 0};
    r.key.ptr = abort_key;
    assert_int_equal(rill__control_record_type(&r), 0);
    abort_key[3] = 7;
    assert_int_equal(rill__control_record_type(&r), -1);
    r.key.len = 2;
    assert_int_equal(rill__control_record_type(&r), -1);
    r.key.len = -1;
    assert_int_equal(rill__control_record_type(&r), -1);
}

static void decompression_bound(void **state) {
    fx *f = *state;
    uint8_t *zeros = calloc(1, 1 << 20);
    for (size_t c = 1; c < NCODECS; c++) {
        assert_int_equal(rill__batch_begin(&f->bb, TS0, -1, -1, -1, 0), 0);
        assert_int_equal(rill__batch_append(&f->bb, TS0, NULL, -1, zeros, 1 << 20, NULL, 0), 0);
        assert_int_equal(
            rill__batch_finish(&f->bb, codecs[c], RILL_LEVEL_DEFAULT, NULL, &f->scratch), 0);
        assert_true(f->bb.buf.len < 100000);
        rill_batch_header h;
        rill__buf_free(&f->rd.scratch);
        f->rd.max_uncompressed = 64 * 1024;
        assert_int_equal(rill__batch_validate(&f->rd, f->bb.buf.data, f->bb.buf.len, 0, &h),
                         RILL_ERR_MESSAGE_TOO_LARGE);
        assert_true(f->rd.scratch.cap <= 128 * 1024); /* the bound held memory down too */
        f->rd.max_uncompressed = 2 << 20;
        assert_int_equal(rill__batch_validate(&f->rd, f->bb.buf.data, f->bb.buf.len, 0, &h), 0);
    }
    free(zeros);
}

static void builder_limits(void **state) {
    fx *f = *state;
    f->bb.buf.max = 200;
    assert_int_equal(rill__batch_begin(&f->bb, TS0, -1, -1, -1, 0), 0);
    /* Nothing appended: nothing to finish. */
    assert_int_equal(rill__batch_finish(&f->bb, RILL_CODEC_NONE, 0, NULL, NULL),
                     RILL_ERR_INVALID_ARG);
    char v[100];
    memset(v, 'v', sizeof(v));
    assert_int_equal(rill__batch_append(&f->bb, TS0, NULL, -1, v, 100, NULL, 0), 0);
    size_t before = rill__batch_size(&f->bb);
    /* The next one would pass the 200-byte bound: refused, builder unchanged. */
    assert_int_equal(rill__batch_append(&f->bb, TS0, NULL, -1, v, 100, NULL, 0),
                     RILL_ERR_MSG_SIZE_TOO_LARGE);
    assert_int_equal(rill__batch_size(&f->bb), before);
    assert_int_equal(rill__batch_count(&f->bb), 1);
    assert_int_equal(rill__batch_append(&f->bb, TS0, NULL, -1, v, 10, NULL, 0), 0);
    /* Unknown codec: refused, the plain records stay. */
    assert_int_equal(rill__batch_finish(&f->bb, 6, 0, NULL, &f->scratch),
                     RILL_ERR_UNSUPPORTED_COMPRESSION_TYPE);
    assert_int_equal(rill__batch_finish(&f->bb, RILL_CODEC_NONE, 0, NULL, NULL), 0);
    rill_batch_header h;
    assert_int_equal(
        rill__batch_validate(&f->rd, f->bb.buf.data, f->bb.buf.len, RILL_VALIDATE_PRODUCE, &h), 0);
    assert_int_equal(h.record_count, 2);
    /* Reuse: the buffer's memory is kept across batches. */
    uint8_t *mem = f->bb.buf.data;
    assert_int_equal(rill__batch_begin(&f->bb, TS0, -1, -1, -1, 0), 0);
    assert_ptr_equal(f->bb.buf.data, mem);
    assert_int_equal(rill__batch_size(&f->bb), 61);
    assert_int_equal(rill__batch_count(&f->bb), 0);
}

/* ------------------------------------------------------------ walking */

static void walk_records_blob(void **state) {
    (void)state;
    /* Three batches, a legacy v1 entry, then a batch cut short. */
    static const uint8_t legacy[] = {
        0,    0,    0,    0,    0, 0, 0, 9, /* offset 9 */
        0,    0,    0,    22,               /* message size */
        0,    0,    0,    0,                /* crc (not checked by the walker) */
        1,                                  /* magic 1 */
        0,                                  /* attributes */
        0,    0,    0,    0,    0, 0, 0, 0, /* timestamp */
        0xff, 0xff, 0xff, 0xff,             /* key null */
        0xff, 0xff, 0xff, 0xff,             /* value null */
    };
    size_t total = 3 * sizeof(kp_features) + sizeof(legacy) + 30;
    uint8_t *blob = malloc(total), *p = blob;
    for (int i = 0; i < 3; i++) {
        memcpy(p, kp_features, sizeof(kp_features));
        rill__batch_set_base_offset(p, i * 3);
        p += sizeof(kp_features);
    }
    memcpy(p, legacy, sizeof(legacy));
    p += sizeof(legacy);
    memcpy(p, kp_gzip, 30);
    rill_batch_walk w;
    rill__batch_walk_init(&w, blob, total);
    const uint8_t *e;
    size_t len;
    rill_batch_header h;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rill__batch_walk_next(&w, &e, &len, &h), RILL_WALK_BATCH);
        assert_ptr_equal(e, blob + i * sizeof(kp_features));
        assert_int_equal(len, sizeof(kp_features));
        assert_int_equal(h.base_offset, i * 3);
        assert_true(rill__batch_verify_crc(e, &h));
    }
    assert_int_equal(rill__batch_walk_next(&w, &e, &len, &h), RILL_WALK_LEGACY);
    assert_int_equal(len, sizeof(legacy));
    assert_int_equal(h.base_offset, 9);
    assert_int_equal(h.magic, 1);
    assert_int_equal(rill__batch_walk_next(&w, &e, &len, &h), RILL_WALK_PARTIAL);
    assert_ptr_equal(w.p, blob + total - 30);
    assert_int_equal(rill__batch_walk_next(&w, &e, &len, &h), RILL_WALK_PARTIAL);
    /* A corrupt header stops the walk where it is. */
    blob[3 * sizeof(kp_features) + sizeof(legacy) + 16] = 9; /* magic 9 */
    rill__batch_walk_init(&w, blob + 3 * sizeof(kp_features) + sizeof(legacy), 30);
    assert_int_equal(rill__batch_walk_next(&w, &e, &len, &h), RILL_WALK_CORRUPT);
    rill__batch_walk_init(&w, blob, 0);
    assert_int_equal(rill__batch_walk_next(&w, &e, &len, &h), RILL_WALK_END);
    free(blob);
}

/* ------------------------------------------------------------ legacy */

/*
 * From kafka-python 2.0.2's LegacyRecordBatchBuilder, like the golden
 * batches above.  kp_v0: (5, key "k0", value "v0"), (6, key null, value "").
 * kp_v1: (7, ts TS0, key "k", value null), (8, ts TS0+1, key "", value
 * "hello").  kp_v1_gzip: a wrapper of 3 messages with relative offsets 0..2,
 * ts TS0+i, value "abcdefgh" x 4.  kp_v0_gzip: a wrapper of 3 messages with
 * absolute offsets 40..42, key "key".
 */
static const uint8_t kp_v0[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x12, 0x86, 0x97,
    0x72, 0x4c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x6b, 0x30, 0x00, 0x00, 0x00, 0x02,
    0x76, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0x00, 0x00, 0x00, 0x0e,
    0x79, 0x57, 0x48, 0xe0, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
};

static const uint8_t kp_v1[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x17, 0x83, 0xe9, 0x91,
    0xc6, 0x01, 0x00, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00, 0x00, 0x00, 0x00, 0x01,
    0x6b, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00,
    0x00, 0x1b, 0xe3, 0x67, 0x53, 0xb1, 0x01, 0x00, 0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68,
    0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
};

static const uint8_t kp_v1_gzip[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x66, 0xd5, 0x4b, 0x1a,
    0x77, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
    0x00, 0x00, 0x00, 0x50, 0x1f, 0x8b, 0x08, 0x00, 0xa4, 0x60, 0x07, 0x6b, 0x02, 0xff, 0x63,
    0x60, 0x80, 0x03, 0xb3, 0xac, 0x7b, 0xad, 0x2b, 0x19, 0x81, 0x0c, 0xc6, 0xee, 0xf3, 0x4f,
    0x33, 0x18, 0xfe, 0x03, 0x01, 0x90, 0xa3, 0x90, 0x98, 0x94, 0x9c, 0x92, 0x9a, 0x96, 0x9e,
    0x81, 0x8b, 0x86, 0xea, 0x06, 0x69, 0x34, 0x6b, 0x3a, 0x29, 0xca, 0x01, 0x37, 0x81, 0x91,
    0x44, 0x13, 0x98, 0x40, 0x26, 0x24, 0x36, 0x2c, 0x5a, 0x05, 0x37, 0x81, 0x89, 0x58, 0x13,
    0x00, 0xdc, 0xa4, 0x5b, 0xff, 0xc6, 0x00, 0x00, 0x00,
};

static const uint8_t kp_v0_gzip[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x49, 0x89, 0xbc, 0x26,
    0xd6, 0x00, 0x01, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x3b, 0x1f, 0x8b, 0x08, 0x00,
    0xa4, 0x60, 0x07, 0x6b, 0x02, 0xff, 0x63, 0x60, 0x00, 0x03, 0x0d, 0x20, 0x36, 0xdc, 0xf2,
    0x75, 0x26, 0x1f, 0x98, 0xc7, 0x9c, 0x9d, 0x5a, 0x09, 0xa4, 0x14, 0x12, 0x93, 0x92, 0x53,
    0x52, 0xd3, 0xd2, 0x33, 0x70, 0xd1, 0x10, 0xbd, 0x0c, 0x9a, 0x94, 0x68, 0xd6, 0x22, 0x4b,
    0x33, 0x00, 0x82, 0xa0, 0x2e, 0x6b, 0xb7, 0x00, 0x00, 0x00,
};

/* Writes one legacy entry (offset, size, message with zlib CRC-32); returns its size. */
static size_t put_msg(uint8_t *out, int64_t off, int8_t magic, int8_t attrs, int64_t ts,
                      const void *key, int32_t klen, const void *val, int32_t vlen) {
    uint8_t *p = out + 16; /* after offset, size, crc */
    *p++ = (uint8_t)magic;
    *p++ = (uint8_t)attrs;
    if (magic == 1) {
        rill__st64(p, (uint64_t)ts);
        p += 8;
    }
    rill__st32(p, (uint32_t)klen);
    p += 4;
    if (klen > 0) {
        memcpy(p, key, (size_t)klen);
        p += klen;
    }
    rill__st32(p, (uint32_t)vlen);
    p += 4;
    if (vlen > 0) {
        memcpy(p, val, (size_t)vlen);
        p += vlen;
    }
    size_t mlen = (size_t)(p - (out + 12));
    rill__st64(out, (uint64_t)off);
    rill__st32(out + 8, (uint32_t)mlen);
    rill__st32(out + 12, (uint32_t)crc32(0, out + 16, (uInt)(mlen - 4)));
    return 12 + mlen;
}

/*
 * Reads every message of data[0..n) from an exact-size copy (so ASan sees
 * any overread); returns how many, or -(the error).  Offsets and
 * timestamps land in offs/tss.
 */
static int read_legacy(rill_batch_reader *rd, const uint8_t *data, size_t n, int64_t *offs,
                       int64_t *tss, int max, int *partial) {
    uint8_t *copy = dup_exact(data, n);
    rill_legacy_iter it;
    rill__legacy_iter_init(&it, rd, copy, n);
    int count = 0, r;
    rill_record rec;
    while ((r = rill__legacy_iter_next(&it, &rec)) == 1) {
        if (count < max) {
            offs[count] = rec.offset;
            tss[count] = rec.timestamp;
        }
        count++;
    }
    if (r < 0)
        assert_int_equal(rill__legacy_iter_next(&it, &rec), -1); /* stays failed */
    if (partial)
        *partial = it.partial;
    free(copy);
    return r < 0 ? -it.err : count;
}

static void legacy_kafka_python(void **state) {
    fx *f = *state;
    rill_legacy_iter it;
    rill_record r;
    rill__legacy_iter_init(&it, &f->rd, kp_v0, sizeof(kp_v0));
    assert_int_equal(rill__legacy_iter_next(&it, &r), 1);
    assert_int_equal(r.offset, 5);
    assert_int_equal(r.timestamp, -1);
    expect_bytes(r.key, "k0");
    expect_bytes(r.value, "v0");
    assert_int_equal(r.header_count, 0);
    assert_int_equal(rill__legacy_iter_next(&it, &r), 1);
    assert_int_equal(r.offset, 6);
    expect_bytes(r.key, NULL);
    expect_bytes(r.value, "");
    assert_int_equal(rill__legacy_iter_next(&it, &r), 0);
    assert_false(it.partial);

    rill__legacy_iter_init(&it, &f->rd, kp_v1, sizeof(kp_v1));
    assert_int_equal(rill__legacy_iter_next(&it, &r), 1);
    assert_int_equal(r.offset, 7);
    assert_int_equal(r.timestamp, TS0);
    expect_bytes(r.key, "k");
    expect_bytes(r.value, NULL);
    assert_int_equal(rill__legacy_iter_next(&it, &r), 1);
    assert_int_equal(r.offset, 8);
    assert_int_equal(r.timestamp, TS0 + 1);
    expect_bytes(r.key, "");
    expect_bytes(r.value, "hello");
    assert_int_equal(rill__legacy_iter_next(&it, &r), 0);

    /* v1 wrapper: the broker set its offset to the last inner one's (102). */
    uint8_t g1[sizeof(kp_v1_gzip)];
    memcpy(g1, kp_v1_gzip, sizeof(g1));
    rill__st64(g1, 102); /* the offset is outside the message CRC */
    rill__legacy_iter_init(&it, &f->rd, g1, sizeof(g1));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rill__legacy_iter_next(&it, &r), 1);
        assert_int_equal(r.offset, 100 + i);
        assert_int_equal(r.timestamp, TS0 + i);
        expect_bytes(r.key, NULL);
        expect_bytes(r.value, "abcdefghabcdefghabcdefghabcdefgh");
    }
    assert_int_equal(rill__legacy_iter_next(&it, &r), 0);

    /* LogAppendTime on the wrapper: its timestamp for every inner message. */
    g1[17] |= 0x08;
    rill__st64(g1 + 18, (uint64_t)(TS0 + 777));
    rill__st32(g1 + 12, (uint32_t)crc32(0, g1 + 16, (uInt)(sizeof(g1) - 16)));
    rill__legacy_iter_init(&it, &f->rd, g1, sizeof(g1));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rill__legacy_iter_next(&it, &r), 1);
        assert_int_equal(r.offset, 100 + i);
        assert_int_equal(r.timestamp, TS0 + 777);
    }

    /* v0 wrapper: inner offsets are absolute. */
    rill__legacy_iter_init(&it, &f->rd, kp_v0_gzip, sizeof(kp_v0_gzip));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(rill__legacy_iter_next(&it, &r), 1);
        assert_int_equal(r.offset, 40 + i);
        assert_int_equal(r.timestamp, -1);
        expect_bytes(r.key, "key");
    }
    assert_int_equal(rill__legacy_iter_next(&it, &r), 0);

    /* The RECORDS walker hands these out as legacy entries. */
    rill_batch_walk w;
    const uint8_t *e;
    size_t len;
    rill_batch_header h;
    rill__batch_walk_init(&w, kp_v1, sizeof(kp_v1));
    assert_int_equal(rill__batch_walk_next(&w, &e, &len, &h), RILL_WALK_LEGACY);
    assert_int_equal(h.base_offset, 7);
    assert_int_equal(rill__batch_walk_next(&w, &e, &len, &h), RILL_WALK_LEGACY);
    assert_int_equal(h.base_offset, 8);
    assert_int_equal(rill__batch_walk_next(&w, &e, &len, &h), RILL_WALK_END);
}

/* A wrapper (offset wrapper_off) around n inner messages compressed with codec. */
static size_t make_wrapper(uint8_t *out, int8_t magic, int codec, int64_t wrapper_off, int n,
                           rill_buf *tmp) {
    uint8_t inner[4096];
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        char v[16];
        int vl = snprintf(v, sizeof(v), "value-%d", i);
        int64_t off = magic == 1 ? i : wrapper_off - n + 1 + i;
        at += put_msg(inner + at, off, magic, 0, TS0 + i, NULL, -1, v, vl);
    }
    rill__buf_reset(tmp);
    assert_int_equal(rill__compress(codec, inner, at, tmp), 0);
    return put_msg(out, wrapper_off, magic, (int8_t)codec, TS0, NULL, -1, tmp->data,
                   (int32_t)tmp->len);
}

static void legacy_codecs(void **state) {
    fx *f = *state;
    uint8_t w[8192];
    int64_t offs[8], tss[8];
    for (int magic = 0; magic <= 1; magic++) {
        for (int codec = 1; codec <= 3; codec++) {
            size_t n = make_wrapper(w, (int8_t)magic, codec, 1000, 5, &f->scratch);
            assert_int_equal(read_legacy(&f->rd, w, n, offs, tss, 8, NULL), 5);
            for (int i = 0; i < 5; i++) {
                assert_int_equal(offs[i], 996 + i);
                assert_int_equal(tss[i], magic ? TS0 + i : -1);
            }
        }
        /* Raw snappy (no xerial framing) inside a wrapper: one literal. */
        uint8_t inner[64], raw[80];
        size_t il = put_msg(inner, magic ? 0 : 50, (int8_t)magic, 0, TS0, "k", 1, "v", 1);
        assert_true(il <= 60);
        raw[0] = (uint8_t)il;              /* uvarint uncompressed length */
        raw[1] = (uint8_t)((il - 1) << 2); /* literal tag */
        memcpy(raw + 2, inner, il);
        size_t n =
            put_msg(w, 50, (int8_t)magic, RILL_CODEC_SNAPPY, TS0, NULL, -1, raw, (int32_t)il + 2);
        assert_int_equal(read_legacy(&f->rd, w, n, offs, tss, 8, NULL), 1);
        assert_int_equal(offs[0], 50);
    }

    /* LZ4 with a wrong frame header checksum: Kafka 0.8/0.9 wrote that under magic 0. */
    for (int magic = 0; magic <= 1; magic++) {
        size_t n = make_wrapper(w, (int8_t)magic, RILL_CODEC_LZ4, 10, 3, &f->scratch);
        size_t frame = 12 + 4 + 2 + (magic ? 8 : 0) + 4 + 4; /* where the value starts */
        assert_int_equal(rill__ld32(w + frame), 0x04224d18u);
        w[frame + 6] ^= 0x5a; /* HC: after magic, FLG, BD */
        rill__st32(w + 12, (uint32_t)crc32(0, w + 16, (uInt)(n - 16)));
        assert_int_equal(read_legacy(&f->rd, w, n, offs, tss, 8, NULL),
                         magic == 0 ? 3 : -RILL_ERR_CORRUPT_MESSAGE);
    }
}

static void legacy_bad_input(void **state) {
    fx *f = *state;
    int64_t offs[8], tss[8];
    int partial;
    /* Every truncation: the whole messages before the cut, then "partial". */
    for (size_t len = 0; len < sizeof(kp_v1); len++) {
        int got = read_legacy(&f->rd, kp_v1, len, offs, tss, 8, &partial);
        assert_int_equal(got, len < 35 ? 0 : 1);
        assert_int_equal(partial, len > 0 && len != 35);
    }
    /* A truncated wrapper yields nothing, and no error: the fetch ended there. */
    for (size_t len = 0; len < sizeof(kp_v1_gzip); len++) {
        assert_int_equal(read_legacy(&f->rd, kp_v1_gzip, len, offs, tss, 8, &partial), 0);
        assert_int_equal(partial, len > 0);
    }
    /* Any flipped bit in a message: a CRC or framing error, or (in the size) "partial". */
    for (size_t i = 8; i < sizeof(kp_v1); i++) {
        uint8_t b[sizeof(kp_v1)];
        memcpy(b, kp_v1, sizeof(b));
        b[i] ^= 0x01;
        int got = read_legacy(&f->rd, b, sizeof(b), offs, tss, 8, &partial);
        if (i >= 35 && i < 43) /* the second entry's offset: outside any CRC */
            assert_true(got == 2 && offs[1] != 8);
        else
            assert_true(got == -RILL_ERR_CORRUPT_MESSAGE || (got <= 1 && partial));
    }
    uint8_t w[8192], inner[256];
    /* Compression inside compression. */
    size_t il = make_wrapper(inner, 1, RILL_CODEC_GZIP, 3, 2, &f->scratch);
    rill_buf c;
    rill__buf_init(&c, 0);
    assert_int_equal(rill__compress(RILL_CODEC_GZIP, inner, il, &c), 0);
    size_t n = put_msg(w, 3, 1, RILL_CODEC_GZIP, TS0, NULL, -1, c.data, (int32_t)c.len);
    assert_int_equal(read_legacy(&f->rd, w, n, offs, tss, 8, NULL), -RILL_ERR_CORRUPT_MESSAGE);
    /* zstd (codec 4) and above never existed for magic 0/1. */
    n = put_msg(w, 3, 1, 4, TS0, NULL, -1, c.data, (int32_t)c.len);
    assert_int_equal(read_legacy(&f->rd, w, n, offs, tss, 8, NULL),
                     -RILL_ERR_UNSUPPORTED_COMPRESSION_TYPE);
    /* A wrapper with a null value; a wrapper whose inner bytes are not messages. */
    n = put_msg(w, 3, 1, RILL_CODEC_GZIP, TS0, NULL, -1, NULL, -1);
    assert_int_equal(read_legacy(&f->rd, w, n, offs, tss, 8, NULL), -RILL_ERR_CORRUPT_MESSAGE);
    rill__buf_reset(&c);
    assert_int_equal(rill__compress(RILL_CODEC_GZIP, "not a message set at all", 24, &c), 0);
    n = put_msg(w, 3, 1, RILL_CODEC_GZIP, TS0, NULL, -1, c.data, (int32_t)c.len);
    assert_int_equal(read_legacy(&f->rd, w, n, offs, tss, 8, NULL), -RILL_ERR_CORRUPT_MESSAGE);
    /* A magic-2 batch among legacy entries. */
    assert_int_equal(read_legacy(&f->rd, kp_simple, sizeof(kp_simple), offs, tss, 8, NULL),
                     -RILL_ERR_CORRUPT_MESSAGE);
    /* The decompression bound holds for wrappers too. */
    static uint8_t big[200000];
    size_t bl = put_msg(big, 0, 1, 0, TS0, NULL, -1, big + 100000, 90000);
    rill__buf_reset(&c);
    assert_int_equal(rill__compress(RILL_CODEC_GZIP, big, bl, &c), 0);
    n = put_msg(w, 0, 1, RILL_CODEC_GZIP, TS0, NULL, -1, c.data, (int32_t)c.len);
    f->rd.max_uncompressed = 50000;
    assert_int_equal(read_legacy(&f->rd, w, n, offs, tss, 8, NULL), -RILL_ERR_MESSAGE_TOO_LARGE);
    f->rd.max_uncompressed = 200000;
    assert_int_equal(read_legacy(&f->rd, w, n, offs, tss, 8, NULL), 1);
    rill__buf_free(&c);
}

/* Hostile extremes wrap (two's complement) instead of being undefined (fuzz find). */
static void extreme_values(void **state) {
    fx *f = *state;
    assert_int_equal(rill__batch_begin(&f->bb, INT64_MAX, -1, -1, -1, 0), 0);
    assert_int_equal(rill__batch_append(&f->bb, INT64_MAX, "a", 1, NULL, -1, NULL, 0), 0);
    assert_int_equal(rill__batch_append(&f->bb, INT64_MIN, "b", 1, NULL, -1, NULL, 0), 0);
    assert_int_equal(rill__batch_finish(&f->bb, RILL_CODEC_NONE, 0, NULL, NULL), 0);
    rill__batch_set_base_offset(f->bb.buf.data, INT64_MAX);
    rill_batch_header h;
    assert_int_equal(rill__batch_validate(&f->rd, f->bb.buf.data, f->bb.buf.len, 0, &h), 0);
    assert_int_equal(rill__batch_last_offset(&h), INT64_MIN);
    rill_record_iter it;
    rill_record r;
    rill__record_iter_init(&it, f->bb.buf.data + 61, f->bb.buf.len - 61, &h);
    assert_int_equal(rill__record_iter_next(&it, &r), 1);
    assert_int_equal(r.offset, INT64_MAX);
    assert_int_equal(r.timestamp, INT64_MAX);
    assert_int_equal(rill__record_iter_next(&it, &r), 1);
    assert_int_equal(r.offset, INT64_MIN);
    assert_int_equal(r.timestamp, INT64_MIN); /* delta 1 wrapped there and back */
    assert_int_equal(r.timestamp_delta, 1);

    /* A legacy v1 wrapper at offset INT64_MIN whose last relative offset is 2. */
    uint8_t inner[256], w[512];
    size_t at = 0;
    for (int i = 0; i < 3; i++)
        at += put_msg(inner + at, i, 1, 0, TS0, NULL, -1, "v", 1);
    rill__buf_reset(&f->scratch);
    assert_int_equal(rill__compress(RILL_CODEC_GZIP, inner, at, &f->scratch), 0);
    size_t n = put_msg(w, INT64_MIN, 1, RILL_CODEC_GZIP, TS0, NULL, -1, f->scratch.data,
                       (int32_t)f->scratch.len);
    int64_t offs[4], tss[4];
    assert_int_equal(read_legacy(&f->rd, w, n, offs, tss, 4, NULL), 3);
    assert_int_equal(offs[0], INT64_MAX - 1);
    assert_int_equal(offs[2], INT64_MIN);
}

#define FX_TEST(t) cmocka_unit_test_setup_teardown(t, fx_setup, fx_teardown)

int main(void) {
    const struct CMUnitTest tests[] = {
        FX_TEST(hand_built_bytes),
        FX_TEST(matches_kafka_python),
        FX_TEST(decode_kafka_python),
        FX_TEST(round_trip_codecs),
        FX_TEST(many_records),
        FX_TEST(rewrite_producer),
        FX_TEST(truncations),
        FX_TEST(corruptions),
        cmocka_unit_test(bad_records),
        FX_TEST(header_rules),
        FX_TEST(control_records),
        FX_TEST(decompression_bound),
        FX_TEST(builder_limits),
        cmocka_unit_test(walk_records_blob),
        FX_TEST(legacy_kafka_python),
        FX_TEST(legacy_codecs),
        FX_TEST(legacy_bad_input),
        FX_TEST(extreme_values),
        FX_TEST(crc_kept_by_the_builder),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
