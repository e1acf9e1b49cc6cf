/*
 * test_compress.c -- the batch codecs: round trips, container bytes that
 * other Kafka clients expect, hand-made frames, truncation, and the
 * decompression bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "common/buf.h"
#include "proto/compress.h"
#include "rill.h"

static const int codecs[] = {RILL_CODEC_NONE, RILL_CODEC_GZIP, RILL_CODEC_SNAPPY, RILL_CODEC_LZ4,
                             RILL_CODEC_ZSTD};
#define NCODECS (sizeof(codecs) / sizeof(codecs[0]))

/* Half text-like (compressible), half pseudo-random (not). */
static uint8_t *make_payload(size_t n) {
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        if ((i / 4096) % 2 == 0) {
            p[i] = (uint8_t)("the quick brown fox jumps "[i % 26]);
        } else {
            x = x * 1103515245u + 12345u;
            p[i] = (uint8_t)(x >> 16);
        }
    }
    return p;
}

static void round_trip(rill_codec_ctx *ctx, int codec, int level, const uint8_t *in, size_t n) {
    rill_buf c, d;
    rill__buf_init(&c, 0);
    rill__buf_init(&d, 0);
    /* Something already in the buffers: codecs append. */
    rill__buf_append(&c, "pre", 3);
    rill__buf_append(&d, "xy", 2);
    assert_int_equal(rill__compress_ctx(ctx, codec, level, in, n, &c), 0);
    assert_memory_equal(c.data, "pre", 3);
    assert_int_equal(rill__decompress_ctx(ctx, codec, c.data + 3, c.len - 3, &d, n), 0);
    assert_int_equal(d.len, n + 2);
    assert_memory_equal(d.data, "xy", 2);
    if (n)
        assert_memory_equal(d.data + 2, in, n);
    rill__buf_free(&c);
    rill__buf_free(&d);
}

static void round_trips(void **state) {
    (void)state;
    static const size_t sizes[] = {0, 1, 11, 4096, 32 * 1024, 32 * 1024 + 1, 65537, 1 << 20};
    uint8_t *big = make_payload(1 << 20);
    rill_codec_ctx ctx;
    rill__codec_ctx_init(&ctx);
    for (size_t c = 0; c < NCODECS; c++)
        for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
            round_trip(NULL, codecs[c], RILL_LEVEL_DEFAULT, big, sizes[s]);
            round_trip(&ctx, codecs[c], RILL_LEVEL_DEFAULT, big, sizes[s]); /* ctx reused */
        }
    /* Levels, including out-of-range ones (clamped), with one ctx. */
    static const int levels[] = {0, 1, 5, 9, 12, 100, -7};
    for (size_t c = 0; c < NCODECS; c++)
        for (size_t l = 0; l < sizeof(levels) / sizeof(levels[0]); l++)
            round_trip(&ctx, codecs[c], levels[l], big, 100000);
    rill__codec_ctx_clear(&ctx);
    free(big);
}

static void compresses(void **state) {
    (void)state;
    uint8_t *p = calloc(1, 1 << 20);
    for (size_t c = 1; c < NCODECS; c++) {
        rill_buf b;
        rill__buf_init(&b, 0);
        assert_int_equal(rill__compress(codecs[c], p, 1 << 20, &b), 0);
        assert_true(b.len < 1 << 16); /* 1 MiB of zeros shrinks a lot */
        rill__buf_free(&b);
    }
    free(p);
}

/* The containers other clients look for. */
static void container_bytes(void **state) {
    (void)state;
    const char *msg = "hello kafka";
    rill_buf b;
    rill__buf_init(&b, 0);

    assert_int_equal(rill__compress(RILL_CODEC_GZIP, msg, 11, &b), 0);
    assert_true(b.len > 18);
    assert_int_equal(b.data[0], 0x1f); /* gzip magic, deflate */
    assert_int_equal(b.data[1], 0x8b);
    assert_int_equal(b.data[2], 8);
    /* The trailer is CRC32 and ISIZE, little-endian. */
    uint32_t crc = (uint32_t)crc32(0, (const Bytef *)msg, 11);
    assert_int_equal(b.data[b.len - 8] | b.data[b.len - 7] << 8 | b.data[b.len - 6] << 16 |
                         (uint32_t)b.data[b.len - 5] << 24,
                     crc);
    assert_int_equal(b.data[b.len - 4], 11);

    rill__buf_reset(&b);
    assert_int_equal(rill__compress(RILL_CODEC_LZ4, msg, 11, &b), 0);
    /* Frame magic, FLG = version 01 + block independence, BD = 64 KiB, HC. */
    static const uint8_t lz4_hdr[] = {0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82};
    assert_memory_equal(b.data, lz4_hdr, sizeof(lz4_hdr));
    assert_memory_equal(b.data + b.len - 4, "\0\0\0\0", 4); /* end mark, no checksum */

    rill__buf_reset(&b);
    assert_int_equal(rill__compress(RILL_CODEC_ZSTD, msg, 11, &b), 0);
    static const uint8_t zstd_magic[] = {0x28, 0xb5, 0x2f, 0xfd};
    assert_memory_equal(b.data, zstd_magic, 4);

    rill__buf_reset(&b);
    assert_int_equal(rill__compress(RILL_CODEC_SNAPPY, msg, 11, &b), 0);
    /* xerial header, then one block: int32 length + raw snappy. */
    static const uint8_t xerial[] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
    assert_memory_equal(b.data, xerial, 16);
    uint32_t blen = (uint32_t)b.data[16] << 24 | b.data[17] << 16 | b.data[18] << 8 | b.data[19];
    assert_int_equal(blen, b.len - 20);
    char raw[64];
    size_t rawlen = sizeof(raw);
    assert_int_equal(snappy_uncompress((const char *)b.data + 20, blen, raw, &rawlen), SNAPPY_OK);
    assert_int_equal(rawlen, 11);
    assert_memory_equal(raw, msg, 11);

    /* Blocks of 32 KiB input each, as snappy-java writes. */
    uint8_t *p = make_payload(100000);
    rill__buf_reset(&b);
    assert_int_equal(rill__compress(RILL_CODEC_SNAPPY, p, 100000, &b), 0);
    size_t at = 16, blocks = 0;
    while (at < b.len) {
        uint32_t l = (uint32_t)b.data[at] << 24 | b.data[at + 1] << 16 | b.data[at + 2] << 8 |
                     b.data[at + 3];
        size_t ul;
        assert_int_equal(snappy_uncompressed_length((const char *)b.data + at + 4, l, &ul),
                         SNAPPY_OK);
        assert_int_equal(ul, blocks < 3 ? 32768 : 100000 - 3 * 32768);
        at += 4 + l;
        blocks++;
    }
    assert_int_equal(at, b.len);
    assert_int_equal(blocks, 4);
    free(p);
    rill__buf_free(&b);
}

static void check_decodes(int codec, const uint8_t *in, size_t n, const char *want) {
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(rill__decompress(codec, in, n, &b, 1000), 0);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    rill__buf_free(&b);
}

/* Inputs built by hand from the format specs, or by other implementations. */
static void known_inputs(void **state) {
    (void)state;
    /* Python's gzip.compress(b"hello kafka", mtime=0). */
    static const uint8_t gz[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xcb,
                                 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0xc8, 0x4e, 0x4c, 0xcb, 0x4e, 0x04,
                                 0x00, 0xd1, 0x75, 0x81, 0x6c, 0x0b, 0x00, 0x00, 0x00};
    check_decodes(RILL_CODEC_GZIP, gz, sizeof(gz), "hello kafka");
    /* Two gzip members back to back read as one stream. */
    uint8_t gz2[2 * sizeof(gz)];
    memcpy(gz2, gz, sizeof(gz));
    memcpy(gz2 + sizeof(gz), gz, sizeof(gz));
    check_decodes(RILL_CODEC_GZIP, gz2, sizeof(gz2), "hello kafkahello kafka");
    /* zlib container (zlib.compress) is read too. */
    static const uint8_t zl[] = {0x78, 0x9c, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0x57, 0xc8, 0x4e,
                                 0x4c, 0xcb, 0x4e, 0x04, 0x00, 0x19, 0x6e, 0x04, 0x33};
    check_decodes(RILL_CODEC_GZIP, zl, sizeof(zl), "hello kafka");

    /* Raw snappy (what librdkafka writes): uvarint length, literal tag. */
    static const uint8_t sn[] = {0x0b, 0x28, 'h', 'e', 'l', 'l', 'o', ' ', 'k', 'a', 'f', 'k', 'a'};
    check_decodes(RILL_CODEC_SNAPPY, sn, sizeof(sn), "hello kafka");
    /* The same block in xerial framing, and two xerial streams concatenated. */
    uint8_t xs[2 * (16 + 4 + sizeof(sn))];
    static const uint8_t xh[] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1};
    for (int i = 0; i < 2; i++) {
        uint8_t *q = xs + i * (20 + sizeof(sn));
        memcpy(q, xh, 16);
        memcpy(q + 16, "\0\0\0\x0d", 4);
        memcpy(q + 20, sn, sizeof(sn));
    }
    check_decodes(RILL_CODEC_SNAPPY, xs, 20 + sizeof(sn), "hello kafka");
    check_decodes(RILL_CODEC_SNAPPY, xs, sizeof(xs), "hello kafkahello kafka");
    check_decodes(RILL_CODEC_SNAPPY, xs, 16, ""); /* header only */
    /* Empty blocks, raw and framed, into an empty buffer (fuzz find: no output pointer). */
    static const uint8_t sn_empty[] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0,
                                       1,    0,   0,   0,   1,   0,   0,   0, 1, 0};
    check_decodes(RILL_CODEC_SNAPPY, sn_empty + 20, 1, "");
    check_decodes(RILL_CODEC_SNAPPY, sn_empty, sizeof(sn_empty), "");

    /* LZ4 frame with one stored (uncompressed) block: high bit of size. */
    static const uint8_t lz[] = {0x04, 0x22, 0x4d, 0x18, 0x60, 0x40, 0x82, 0x0b, 0x00,
                                 0x00, 0x80, 'h',  'e',  'l',  'l',  'o',  ' ',  'k',
                                 'a',  'f',  'k',  'a',  0x00, 0x00, 0x00, 0x00};
    check_decodes(RILL_CODEC_LZ4, lz, sizeof(lz), "hello kafka");
    /* A wrong header checksum is refused. */
    uint8_t badlz[sizeof(lz)];
    memcpy(badlz, lz, sizeof(lz));
    badlz[6] ^= 1;
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(rill__decompress(RILL_CODEC_LZ4, badlz, sizeof(badlz), &b, 1000),
                     RILL_ERR_CORRUPT_MESSAGE);
    assert_int_equal(b.len, 0);

    /*
     * zstd raw-block frames.  With a content size: FHD 0x20 (single
     * segment, 1-byte size).  Without: FHD 0x00 + window descriptor 0x00
     * (1 KiB), the shape of a streaming frame.  Block header 0x59 0 0 =
     * last, raw, 11 bytes.
     */
    static const uint8_t zs[] = {0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x0b, 0x59, 0x00, 0x00, 'h',
                                 'e',  'l',  'l',  'o',  ' ',  'k',  'a',  'f',  'k',  'a'};
    check_decodes(RILL_CODEC_ZSTD, zs, sizeof(zs), "hello kafka");
    static const uint8_t zn[] = {0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00, 0x59, 0x00, 0x00, 'h',
                                 'e',  'l',  'l',  'o',  ' ',  'k',  'a',  'f',  'k',  'a'};
    assert_int_equal(ZSTD_getFrameContentSize(zn, sizeof(zn)), ZSTD_CONTENTSIZE_UNKNOWN);
    check_decodes(RILL_CODEC_ZSTD, zn, sizeof(zn), "hello kafka");
    rill__buf_free(&b);
}

/* A larger streaming zstd frame (no content size), as the Java client writes. */
static void zstd_streaming_frame(void **state) {
    (void)state;
    size_t n = 300000;
    uint8_t *p = make_payload(n);
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    size_t cap = ZSTD_compressBound(n);
    uint8_t *c = malloc(cap);
    ZSTD_outBuffer ob = {c, cap, 0};
    for (size_t off = 0; off < n; off += 10000) {
        ZSTD_inBuffer ib = {p + off, 10000, 0};
        while (ib.pos < ib.size)
            assert_false(ZSTD_isError(ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_continue)));
    }
    ZSTD_inBuffer ib = {NULL, 0, 0};
    assert_int_equal(ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_end), 0);
    assert_int_equal(ZSTD_getFrameContentSize(c, ob.pos), ZSTD_CONTENTSIZE_UNKNOWN);
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(rill__decompress(RILL_CODEC_ZSTD, c, ob.pos, &b, n), 0);
    assert_int_equal(b.len, n);
    assert_memory_equal(b.data, p, n);
    rill__buf_reset(&b);
    assert_int_equal(rill__decompress(RILL_CODEC_ZSTD, c, ob.pos, &b, n - 1),
                     RILL_ERR_MESSAGE_TOO_LARGE);
    rill__buf_free(&b);
    ZSTD_freeCCtx(cc);
    free(c);
    free(p);
}

/* The decompression bound: exactly max_out is fine, one byte less is not. */
static void bound(void **state) {
    (void)state;
    size_t n = 1 << 20;
    uint8_t *zeros = calloc(1, n);
    rill_codec_ctx ctx;
    rill__codec_ctx_init(&ctx);
    for (size_t c = 0; c < NCODECS; c++) {
        rill_buf z, out;
        rill__buf_init(&z, 0);
        rill__buf_init(&out, 0);
        assert_int_equal(rill__compress(codecs[c], zeros, n, &z), 0);
        assert_int_equal(rill__decompress_ctx(&ctx, codecs[c], z.data, z.len, &out, n), 0);
        assert_int_equal(out.len, n);
        rill__buf_reset(&out);
        assert_int_equal(rill__decompress_ctx(&ctx, codecs[c], z.data, z.len, &out, n - 1),
                         RILL_ERR_MESSAGE_TOO_LARGE);
        assert_int_equal(out.len, 0);
        /* A small bound never allocates much more than itself. */
        rill_buf fresh;
        rill__buf_init(&fresh, 0);
        assert_int_equal(rill__decompress_ctx(&ctx, codecs[c], z.data, z.len, &fresh, 1000),
                         RILL_ERR_MESSAGE_TOO_LARGE);
        assert_int_equal(rill__decompress_ctx(&ctx, codecs[c], z.data, z.len, &fresh, 0),
                         RILL_ERR_MESSAGE_TOO_LARGE);
        assert_int_equal(fresh.len, 0);
        assert_true(fresh.cap <= 1024);
        rill__buf_free(&fresh);
        /* And the ctx still works after the refusals. */
        assert_int_equal(rill__decompress_ctx(&ctx, codecs[c], z.data, z.len, &out, n), 0);
        assert_int_equal(out.len, n);
        rill__buf_free(&z);
        rill__buf_free(&out);
    }
    rill__codec_ctx_clear(&ctx);
    free(zeros);
}

/* Every strict prefix of a compressed payload is refused (or, for xerial
 * snappy cut at a block boundary, decodes to less); nothing is appended. */
static void truncations(void **state) {
    (void)state;
    size_t n = 70000;
    uint8_t *p = make_payload(n);
    rill_codec_ctx ctx;
    rill__codec_ctx_init(&ctx);
    for (size_t c = 1; c < NCODECS; c++) {
        rill_buf z, out;
        rill__buf_init(&z, 0);
        rill__buf_init(&out, 0);
        assert_int_equal(rill__compress(codecs[c], p, n, &z), 0);
        for (size_t len = 0; len < z.len; len += len < 64 ? 1 : 37) {
            rill__buf_reset(&out);
            uint8_t *copy = malloc(len ? len : 1); /* exact size: ASan sees overreads */
            memcpy(copy, z.data, len);
            int err = rill__decompress_ctx(&ctx, codecs[c], copy, len, &out, n);
            if (codecs[c] == RILL_CODEC_SNAPPY && err == 0)
                assert_true(out.len < n);
            else
                assert_int_equal(err, RILL_ERR_CORRUPT_MESSAGE);
            if (err)
                assert_int_equal(out.len, 0);
            free(copy);
        }
        rill__buf_free(&z);
        rill__buf_free(&out);
    }
    rill__codec_ctx_clear(&ctx);
    free(p);
}

static void garbage_and_unknown(void **state) {
    (void)state;
    /* For raw snappy: length 9, then a copy from before the start. */
    static const uint8_t junk[] = {0x09, 0x01, 0x00, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04};
    rill_buf b;
    rill__buf_init(&b, 0);
    for (size_t c = 1; c < NCODECS; c++) {
        assert_int_equal(rill__decompress(codecs[c], junk, sizeof(junk), &b, 1 << 20),
                         RILL_ERR_CORRUPT_MESSAGE);
        assert_int_equal(rill__decompress(codecs[c], junk, 0, &b, 1 << 20),
                         RILL_ERR_CORRUPT_MESSAGE);
    }
    /* Raw snappy declaring 2^31 bytes: refused by the bound, not allocated. */
    static const uint8_t sbig[] = {0x80, 0x80, 0x80, 0x80, 0x08, 0x00};
    assert_int_equal(rill__decompress(RILL_CODEC_SNAPPY, sbig, sizeof(sbig), &b, 1 << 20),
                     RILL_ERR_MESSAGE_TOO_LARGE);
    assert_int_equal(rill__compress(5, "x", 1, &b), RILL_ERR_UNSUPPORTED_COMPRESSION_TYPE);
    assert_int_equal(rill__decompress(7, "x", 1, &b, 10), RILL_ERR_UNSUPPORTED_COMPRESSION_TYPE);
    assert_int_equal(rill__decompress(-1, "x", 1, &b, 10), RILL_ERR_UNSUPPORTED_COMPRESSION_TYPE);
    assert_int_equal(b.len, 0);
    /* An output buffer with a small maximum: NO_MEMORY, not an overflow. */
    rill_buf small;
    rill__buf_init(&small, 100);
    uint8_t *p = make_payload(50000);
    assert_int_equal(rill__compress(RILL_CODEC_GZIP, p, 50000, &small), RILL_ERR_NO_MEMORY);
    assert_int_equal(small.len, 0);
    free(p);
    rill__buf_free(&small);
    rill__buf_free(&b);
}

static void names(void **state) {
    (void)state;
    static const char *const n[] = {"none", "gzip", "snappy", "lz4", "zstd"};
    for (int i = 0; i < 5; i++) {
        assert_int_equal(rill__codec_parse(n[i]), i);
        assert_string_equal(rill__codec_name(i), n[i]);
    }
    assert_int_equal(rill__codec_parse("GZIP"), -1);
    assert_int_equal(rill__codec_parse("lz4 "), -1);
    assert_int_equal(rill__codec_parse(""), -1);
    assert_int_equal(rill__codec_parse(NULL), -1);
    assert_string_equal(rill__codec_name(5), "unknown");
    assert_string_equal(rill__codec_name(-1), "unknown");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trips),
        cmocka_unit_test(compresses),
        cmocka_unit_test(container_bytes),
        cmocka_unit_test(known_inputs),
        cmocka_unit_test(zstd_streaming_frame),
        cmocka_unit_test(bound),
        cmocka_unit_test(truncations),
        cmocka_unit_test(garbage_and_unknown),
        cmocka_unit_test(names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
