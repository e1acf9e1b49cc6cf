/*
 * msgset_legacy.c -- MessageSet v0/v1 reader (see msgset_legacy.h).
 *
 * Not a hot path: old data is rare, so clarity wins over speed here (the
 * LZ4 repair copies the frame; every message's CRC is checked).
 */
#include "proto/msgset_legacy.h"

#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "common/endian.h"
#include "proto/reader.h"

#define ATTR_CODEC 0x07
#define ATTR_LOG_APPEND_TIME 0x08
/* crc, magic, attributes, key length, value length. */
#define MIN_MESSAGE_V0 14

typedef struct {
    int64_t offset;
    int8_t magic;
    int8_t attributes;
    int64_t timestamp; /* -1 under magic 0 */
    rill_bytes key, value;
} legacy_msg;

/* One entry (offset, size, message) filling exactly p[0..n), CRC checked. */
static int parse_entry(const uint8_t *p, size_t n, legacy_msg *m) {
    if (n < RILL_RECORDS_LOG_OVERHEAD + MIN_MESSAGE_V0)
        return RILL_ERR_CORRUPT_MESSAGE;
    m->offset = (int64_t)rill__ld64(p);
    const uint8_t *msg = p + RILL_RECORDS_LOG_OVERHEAD;
    size_t mlen = n - RILL_RECORDS_LOG_OVERHEAD;
    rill_rd r;
    rill__rd_init(&r, msg, mlen);
    uint32_t crc = rill__rd_u32(&r);
    m->magic = rill__rd_i8(&r);
    m->attributes = rill__rd_i8(&r);
    m->timestamp = m->magic == 1 ? rill__rd_i64(&r) : -1;
    m->key = rill__rd_bytes(&r, false);
    m->value = rill__rd_bytes(&r, false);
    if (r.err || r.p != r.end || m->magic < 0 || m->magic > 1)
        return RILL_ERR_CORRUPT_MESSAGE;
    if ((uint32_t)crc32(0, msg + 4, (uInt)(mlen - 4)) != crc)
        return RILL_ERR_CORRUPT_MESSAGE;
    return 0;
}

/*
 * XXH32 of fewer than 16 bytes (seed 0): all an LZ4 frame descriptor
 * needs.  liblz4 does not export its xxhash, and this is the only use.
 */
static uint32_t rotl32(uint32_t x, int r) { return x << r | x >> (32 - r); }

static uint32_t xxh32_short(const uint8_t *p, size_t n) {
    const uint32_t P1 = 0x9E3779B1u, P2 = 0x85EBCA77u, P3 = 0xC2B2AE3Du, P4 = 0x27D4EB2Fu,
                   P5 = 0x165667B1u;
    uint32_t h = P5 + (uint32_t)n;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        uint32_t w = (uint32_t)p[i] | (uint32_t)p[i + 1] << 8 | (uint32_t)p[i + 2] << 16 |
                     (uint32_t)p[i + 3] << 24;
        h = rotl32(h + w * P3, 17) * P4;
    }
    for (; i < n; i++)
        h = rotl32(h + p[i] * P5, 11) * P1;
    h ^= h >> 15;
    h *= P2;
    h ^= h >> 13;
    h *= P3;
    h ^= h >> 16;
    return h;
}

/*
 * Kafka 0.8/0.9 computed the LZ4 frame header checksum over the magic
 * number too (KAFKA-3160); Java readers of magic 0 skip the check.  Writes
 * the correct checksum into frame (a copy) so liblz4 accepts it.
 */
static void lz4_fix_header_checksum(uint8_t *frame, size_t n) {
    if (n < 7 || rill__ld32(frame) != 0x04224d18u)
        return;
    uint8_t flg = frame[4];
    size_t desc = 2 + (flg & 0x08 ? 8 : 0) + (flg & 0x01 ? 4 : 0);
    if (4 + desc >= n)
        return;
    frame[4 + desc] = (uint8_t)(xxh32_short(frame + 4, desc) >> 8);
}

static int inflate_wrapper(rill_legacy_iter *it, const legacy_msg *m) {
    int codec = m->attributes & ATTR_CODEC;
    if (codec > RILL_CODEC_LZ4)
        return RILL_ERR_UNSUPPORTED_COMPRESSION_TYPE; /* zstd came with magic 2 */
    if (m->value.len < 0)
        return RILL_ERR_CORRUPT_MESSAGE;
    rill_batch_reader *rd = it->rd;
    rill__buf_reset(&rd->scratch);
    const uint8_t *in = m->value.ptr;
    uint8_t *copy = NULL;
    if (codec == RILL_CODEC_LZ4 && m->magic == 0) {
        if (!(copy = malloc((size_t)m->value.len + 1)))
            return RILL_ERR_NO_MEMORY;
        memcpy(copy, in, (size_t)m->value.len);
        lz4_fix_header_checksum(copy, (size_t)m->value.len);
        in = copy;
    }
    int err = rill__decompress_ctx(&rd->codecs, codec, in, (size_t)m->value.len, &rd->scratch,
                                   rd->max_uncompressed);
    free(copy);
    if (err)
        return err;
    /* Inflating to nothing leaves no buffer; the walk still needs a pointer. */
    rill__batch_walk_init(&it->inner, rd->scratch.data ? rd->scratch.data : (const uint8_t *)"",
                          rd->scratch.len);
    it->inner_base = 0;
    if (m->magic >= 1) {
        /* Inner offsets are relative; the wrapper holds the last one's absolute offset. */
        rill_batch_walk w = it->inner;
        const uint8_t *e;
        size_t len;
        rill_batch_header h;
        int64_t last = -1;
        int r;
        while ((r = rill__batch_walk_next(&w, &e, &len, &h)) == RILL_WALK_LEGACY)
            last = h.base_offset;
        if (r != RILL_WALK_END || last < 0)
            return RILL_ERR_CORRUPT_MESSAGE;
        it->inner_base = rill__sub64_wrap(m->offset, last);
    }
    it->in_wrapper = 1;
    it->wrapper_magic = m->magic;
    it->wrapper_log_append_time = (m->attributes & ATTR_LOG_APPEND_TIME) != 0;
    it->wrapper_timestamp = m->timestamp;
    return 0;
}

void rill__legacy_iter_init(rill_legacy_iter *it, rill_batch_reader *rd, const uint8_t *data,
                            size_t len) {
    memset(it, 0, sizeof(*it));
    rill__batch_walk_init(&it->outer, data, len);
    it->rd = rd;
}

static void fill(rill_record *rec, const legacy_msg *m, int64_t offset, int64_t timestamp) {
    memset(rec, 0, sizeof(*rec));
    rec->offset = offset;
    rec->timestamp = timestamp;
    rec->attributes = m->attributes;
    rec->key = m->key;
    rec->value = m->value;
}

static int fail(rill_legacy_iter *it, int err) {
    it->outer.p = it->outer.end;
    it->in_wrapper = 0;
    it->err = err;
    return -1;
}

int rill__legacy_iter_next(rill_legacy_iter *it, rill_record *rec) {
    const uint8_t *e;
    size_t len;
    rill_batch_header h;
    legacy_msg m;
    int r, err;
    if (it->err)
        return -1;
    for (;;) {
        if (it->in_wrapper) {
            r = rill__batch_walk_next(&it->inner, &e, &len, &h);
            if (r == RILL_WALK_END) {
                it->in_wrapper = 0;
                continue;
            }
            if (r != RILL_WALK_LEGACY)
                return fail(it, RILL_ERR_CORRUPT_MESSAGE);
            if ((err = parse_entry(e, len, &m)))
                return fail(it, err);
            if (m.attributes & ATTR_CODEC)
                return fail(it, RILL_ERR_CORRUPT_MESSAGE); /* compression inside compression */
            int64_t ts = it->wrapper_log_append_time ? it->wrapper_timestamp : m.timestamp;
            fill(rec, &m, rill__add64_wrap(it->inner_base, m.offset), ts);
            return 1;
        }
        r = rill__batch_walk_next(&it->outer, &e, &len, &h);
        if (r == RILL_WALK_END)
            return 0;
        if (r == RILL_WALK_PARTIAL) {
            it->partial = 1;
            return 0;
        }
        if (r != RILL_WALK_LEGACY)
            return fail(it, RILL_ERR_CORRUPT_MESSAGE);
        if ((err = parse_entry(e, len, &m)))
            return fail(it, err);
        if (!(m.attributes & ATTR_CODEC)) {
            fill(rec, &m, m.offset, m.timestamp);
            return 1;
        }
        if ((err = inflate_wrapper(it, &m)))
            return fail(it, err);
    }
}
