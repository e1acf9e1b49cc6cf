/*
 * record_batch.c -- record batch v2 builder, validator and readers
 * (see record_batch.h for the layout).
 *
 * The builder is on the producer's hot path: an append computes the
 * record's size from lengths alone, makes room once, and writes the varints
 * and bytes with plain stores -- no allocation beyond the batch buffer's
 * geometric growth, no function pointers.  The readers never trust a length
 * and never read past the bytes they were given.
 */
#include "proto/record_batch.h"

#include <string.h>

#include "common/crc32c.h"
#include "common/endian.h"
#include "common/varint.h"

/* Smallest record body: attributes, and one byte each for timestampDelta,
 * offsetDelta, keyLength, valueLength, headerCount. */
#define MIN_RECORD_BODY 6

/* ---------------------------------------------------------------- building */

void rill__batch_builder_init(rill_batch_builder *bb, size_t max_size) {
    memset(bb, 0, sizeof(*bb));
    rill__buf_init(&bb->buf, max_size);
}

void rill__batch_builder_free(rill_batch_builder *bb) { rill__buf_free(&bb->buf); }

int rill__batch_begin(rill_batch_builder *bb, int64_t base_timestamp, int64_t producer_id,
                      int16_t producer_epoch, int32_t base_sequence, int transactional) {
    rill__buf_reset(&bb->buf);
    bb->base_timestamp = bb->max_timestamp = base_timestamp;
    bb->producer_id = producer_id;
    bb->producer_epoch = producer_epoch;
    bb->base_sequence = base_sequence;
    bb->count = 0;
    bb->attributes = transactional ? RILL_BATCH_ATTR_TRANSACTIONAL : 0;
    bb->rec_crc = 0;
    bb->rec_crc_len = 0;
    if (rill__buf_grow(&bb->buf, RILL_BATCH_HEADER_SIZE))
        return RILL_ERR_NO_MEMORY;
    bb->buf.len = RILL_BATCH_HEADER_SIZE; /* filled by finish */
    return 0;
}

/*
 * Zig-zag varints, as records use them.  A length comes from the highest
 * set bit (7 payload bits per byte) rather than a loop, and each value is
 * zig-zagged once: the builder sizes every record before writing it, and
 * that sizing is half the work of an append.
 */
static inline size_t uv_len(uint64_t z) {
    unsigned log2 = 63u ^ (unsigned)__builtin_clzll(z | 1);
    return (log2 * 9 + 73) >> 6; /* = log2 / 7 + 1, without a division */
}

static inline uint8_t *uv_put(uint8_t *p, uint64_t z) {
    while (z >= 0x80) {
        *p++ = (uint8_t)(z | 0x80);
        z >>= 7;
    }
    *p++ = (uint8_t)z;
    return p;
}

static inline size_t zz_len(int64_t v) { return uv_len(rill__zigzag64(v)); }

/* A length's varint plus the bytes (-1, null, has none). */
static inline size_t field_size(int64_t len) { return zz_len(len) + (len > 0 ? (size_t)len : 0); }

static inline int64_t header_value_len(const rill_header_t *h) {
    return h->value ? (int64_t)h->value_len : -1;
}

/* Encoded size of a record's headers, count excluded (kept out of the common path). */
static size_t headers_size(const rill_header_t *headers, size_t nheaders) {
    size_t n = 0;
    for (size_t i = 0; i < nheaders; i++) {
        size_t nl = headers[i].name ? strlen(headers[i].name) : 0;
        n += field_size((int64_t)nl) + field_size(header_value_len(&headers[i]));
    }
    return n;
}

/* The varint fields of one record, zig-zagged, and the body size they imply. */
typedef struct {
    uint64_t ts_delta, offset_delta, klen, vlen, nheaders;
    size_t body; /* everything after the length varint */
} record_shape;

static inline __attribute__((always_inline)) void
shape_record(record_shape *s, const rill_batch_builder *bb, int64_t timestamp, int32_t klen,
             int32_t vlen, const rill_header_t *headers, size_t nheaders) {
    s->ts_delta = rill__zigzag64(rill__sub64_wrap(timestamp, bb->base_timestamp));
    s->offset_delta = rill__zigzag64(bb->count);
    s->klen = rill__zigzag64(klen);
    s->vlen = rill__zigzag64(vlen);
    s->nheaders = rill__zigzag64((int64_t)nheaders);
    s->body = 1 + uv_len(s->ts_delta) + uv_len(s->offset_delta) + uv_len(s->klen) +
              (klen > 0 ? (size_t)klen : 0) + uv_len(s->vlen) + (vlen > 0 ? (size_t)vlen : 0) +
              uv_len(s->nheaders);
    if (nheaders)
        s->body += headers_size(headers, nheaders);
}

size_t rill__batch_record_size(const rill_batch_builder *bb, int64_t timestamp, int32_t klen,
                               int32_t vlen, const rill_header_t *headers, size_t nheaders) {
    record_shape s;
    shape_record(&s, bb, timestamp, klen, vlen, headers, nheaders);
    return uv_len(s.body << 1) + s.body;
}

static inline uint8_t *put_bytes(uint8_t *p, const void *data, int64_t len) {
    if (len > 0) {
        memcpy(p, data, (size_t)len);
        p += len;
    }
    return p;
}

int rill__batch_append(rill_batch_builder *bb, int64_t timestamp, const void *key, int32_t klen,
                       const void *value, int32_t vlen, const rill_header_t *headers,
                       size_t nheaders) {
    record_shape s;
    shape_record(&s, bb, timestamp, klen, vlen, headers, nheaders);
    rill_buf *b = &bb->buf;
    if (b->err || s.body > INT32_MAX)
        return RILL_ERR_NO_MEMORY;
    uint64_t zbody = (uint64_t)s.body << 1; /* zig-zag of a positive value */
    size_t total = uv_len(zbody) + s.body;
    if (total > b->max - b->len)
        return RILL_ERR_MSG_SIZE_TOO_LARGE;
    if (b->cap - b->len < total && rill__buf_grow(b, total))
        return RILL_ERR_NO_MEMORY;
    uint8_t *p = b->data + b->len;
    p = uv_put(p, zbody);
    *p++ = 0; /* record attributes: unused */
    p = uv_put(p, s.ts_delta);
    p = uv_put(p, s.offset_delta);
    p = put_bytes(uv_put(p, s.klen), key, klen);
    p = put_bytes(uv_put(p, s.vlen), value, vlen);
    p = uv_put(p, s.nheaders);
    for (size_t i = 0; i < nheaders; i++) {
        const char *name = headers[i].name ? headers[i].name : "";
        int64_t nl = (int64_t)strlen(name), hv = header_value_len(&headers[i]);
        p = put_bytes(uv_put(p, rill__zigzag64(nl)), name, nl);
        p = put_bytes(uv_put(p, rill__zigzag64(hv)), headers[i].value, hv);
    }
    if (bb->crc_on_append && bb->rec_crc_len == b->len - RILL_BATCH_HEADER_SIZE) {
        bb->rec_crc = rill__crc32c(bb->rec_crc, b->data + b->len, total);
        bb->rec_crc_len += total;
    }
    b->len += total;
    bb->count++;
    if (timestamp > bb->max_timestamp)
        bb->max_timestamp = timestamp;
    return 0;
}

/* The producer id, epoch and base sequence fields of a batch header (inside the CRC). */
static void put_producer(uint8_t *p, int64_t producer_id, int16_t epoch, int32_t base_sequence) {
    rill__st64(p + RILL_BATCH_OFF_PRODUCER_ID, (uint64_t)producer_id);
    rill__st16(p + RILL_BATCH_OFF_PRODUCER_EPOCH, (uint16_t)epoch);
    rill__st32(p + RILL_BATCH_OFF_BASE_SEQUENCE, (uint32_t)base_sequence);
}

/* CRC-32C of attributes..end, stored after the magic byte. */
static void seal(uint8_t *p, size_t len) {
    rill__st32(p + RILL_BATCH_OFF_CRC,
               rill__crc32c(0, p + RILL_BATCH_OFF_ATTRIBUTES, len - RILL_BATCH_OFF_ATTRIBUTES));
}

/* The same from the builder's records CRC: only the header's bytes are read. */
static void seal_builder(rill_batch_builder *bb) {
    uint8_t *p = bb->buf.data;
    size_t rlen = bb->buf.len - RILL_BATCH_HEADER_SIZE;
    if (bb->rec_crc_len != rlen) {
        bb->rec_crc = rill__crc32c(0, p + RILL_BATCH_HEADER_SIZE, rlen);
        bb->rec_crc_len = rlen;
    }
    uint32_t head = rill__crc32c(0, p + RILL_BATCH_OFF_ATTRIBUTES,
                                 RILL_BATCH_HEADER_SIZE - RILL_BATCH_OFF_ATTRIBUTES);
    rill__st32(p + RILL_BATCH_OFF_CRC, rill__crc32c_combine(head, bb->rec_crc, rlen));
}

int rill__batch_finish(rill_batch_builder *bb, int codec, int level, rill_codec_ctx *cctx,
                       rill_buf *scratch) {
    if (bb->count == 0 || bb->buf.err || bb->buf.len < RILL_BATCH_HEADER_SIZE)
        return RILL_ERR_INVALID_ARG;
    if (codec != RILL_CODEC_NONE) {
        if (codec < 0 || codec > RILL_CODEC_MAX)
            return RILL_ERR_UNSUPPORTED_COMPRESSION_TYPE;
        rill__buf_reset(scratch);
        if (rill__buf_grow(scratch, RILL_BATCH_HEADER_SIZE))
            return RILL_ERR_NO_MEMORY;
        scratch->len = RILL_BATCH_HEADER_SIZE;
        int err = rill__compress_ctx(cctx, codec, level, bb->buf.data + RILL_BATCH_HEADER_SIZE,
                                     bb->buf.len - RILL_BATCH_HEADER_SIZE, scratch);
        if (err)
            return err;
        rill_buf t = bb->buf;
        bb->buf = *scratch;
        *scratch = t;
        bb->rec_crc_len = 0; /* the records are now the compressed bytes */
    }
    size_t len = bb->buf.len;
    if (len - RILL_RECORDS_LOG_OVERHEAD > INT32_MAX)
        return RILL_ERR_NO_MEMORY;
    uint8_t *p = bb->buf.data;
    rill__st64(p + RILL_BATCH_OFF_BASE_OFFSET, 0);
    rill__st32(p + RILL_BATCH_OFF_LENGTH, (uint32_t)(len - RILL_RECORDS_LOG_OVERHEAD));
    rill__st32(p + RILL_BATCH_OFF_LEADER_EPOCH, (uint32_t)-1);
    p[RILL_BATCH_OFF_MAGIC] = RILL_BATCH_MAGIC_V2;
    rill__st16(p + RILL_BATCH_OFF_ATTRIBUTES, (uint16_t)(bb->attributes | codec));
    rill__st32(p + RILL_BATCH_OFF_LAST_OFFSET_DELTA, (uint32_t)(bb->count - 1));
    rill__st64(p + RILL_BATCH_OFF_BASE_TIMESTAMP, (uint64_t)bb->base_timestamp);
    rill__st64(p + RILL_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)bb->max_timestamp);
    put_producer(p, bb->producer_id, bb->producer_epoch, bb->base_sequence);
    rill__st32(p + RILL_BATCH_OFF_RECORDS_COUNT, (uint32_t)bb->count);
    seal_builder(bb);
    return 0;
}

/* ---------------------------------------------------- rewriting a batch */

/* The batch's own length if data/len holds a magic-2 batch, else 0. */
static size_t batch_span(const uint8_t *data, size_t len) {
    if (!data || len < RILL_BATCH_HEADER_SIZE || data[RILL_BATCH_OFF_MAGIC] != RILL_BATCH_MAGIC_V2)
        return 0;
    uint32_t bl = rill__ld32(data + RILL_BATCH_OFF_LENGTH);
    size_t span = (size_t)bl + RILL_RECORDS_LOG_OVERHEAD;
    if (bl > INT32_MAX || span < RILL_BATCH_HEADER_SIZE || span > len)
        return 0;
    return span;
}

int rill__batch_set_producer(uint8_t *data, size_t len, int64_t producer_id, int16_t epoch,
                             int32_t base_sequence) {
    size_t span = batch_span(data, len);
    if (!span)
        return RILL_ERR_INVALID_ARG;
    put_producer(data, producer_id, epoch, base_sequence);
    seal(data, span);
    return 0;
}

int rill__batch_builder_set_producer(rill_batch_builder *bb, int64_t producer_id, int16_t epoch,
                                     int32_t base_sequence) {
    uint8_t *data = bb->buf.data;
    if (batch_span(data, bb->buf.len) != bb->buf.len)
        return RILL_ERR_INVALID_ARG;
    put_producer(data, producer_id, epoch, base_sequence);
    seal_builder(bb);
    return 0;
}

void rill__batch_set_base_offset(uint8_t *data, int64_t base_offset) {
    rill__st64(data + RILL_BATCH_OFF_BASE_OFFSET, (uint64_t)base_offset);
}

void rill__batch_set_leader_epoch(uint8_t *data, int32_t epoch) {
    rill__st32(data + RILL_BATCH_OFF_LEADER_EPOCH, (uint32_t)epoch);
}

int rill__batch_set_log_append_time(uint8_t *data, size_t len, int64_t timestamp) {
    size_t span = batch_span(data, len);
    if (!span)
        return RILL_ERR_INVALID_ARG;
    uint16_t attrs = rill__ld16(data + RILL_BATCH_OFF_ATTRIBUTES);
    rill__st16(data + RILL_BATCH_OFF_ATTRIBUTES, attrs | RILL_BATCH_ATTR_LOG_APPEND_TIME);
    rill__st64(data + RILL_BATCH_OFF_MAX_TIMESTAMP, (uint64_t)timestamp);
    seal(data, span);
    return 0;
}

/* ---------------------------------------------------------------- reading */

int rill__batch_header_parse(const uint8_t *p, size_t n, rill_batch_header *h) {
    memset(h, 0, sizeof(*h));
    if (n < RILL_RECORDS_LOG_OVERHEAD)
        return RILL_BATCH_NEED_MORE;
    h->base_offset = (int64_t)rill__ld64(p + RILL_BATCH_OFF_BASE_OFFSET);
    h->batch_length = (int32_t)rill__ld32(p + RILL_BATCH_OFF_LENGTH);
    if (h->batch_length < 0)
        return RILL_BATCH_CORRUPT;
    h->size = (size_t)h->batch_length + RILL_RECORDS_LOG_OVERHEAD;
    if (n <= RILL_BATCH_OFF_MAGIC)
        return RILL_BATCH_NEED_MORE;
    h->magic = (int8_t)p[RILL_BATCH_OFF_MAGIC];
    if (h->magic == 0 || h->magic == 1)
        return RILL_BATCH_OLD_MAGIC;
    if (h->magic != RILL_BATCH_MAGIC_V2 || h->size < RILL_BATCH_HEADER_SIZE)
        return RILL_BATCH_CORRUPT;
    if (n < RILL_BATCH_HEADER_SIZE)
        return RILL_BATCH_NEED_MORE;
    h->partition_leader_epoch = (int32_t)rill__ld32(p + RILL_BATCH_OFF_LEADER_EPOCH);
    h->crc = rill__ld32(p + RILL_BATCH_OFF_CRC);
    h->attributes = (int16_t)rill__ld16(p + RILL_BATCH_OFF_ATTRIBUTES);
    h->last_offset_delta = (int32_t)rill__ld32(p + RILL_BATCH_OFF_LAST_OFFSET_DELTA);
    h->base_timestamp = (int64_t)rill__ld64(p + RILL_BATCH_OFF_BASE_TIMESTAMP);
    h->max_timestamp = (int64_t)rill__ld64(p + RILL_BATCH_OFF_MAX_TIMESTAMP);
    h->producer_id = (int64_t)rill__ld64(p + RILL_BATCH_OFF_PRODUCER_ID);
    h->producer_epoch = (int16_t)rill__ld16(p + RILL_BATCH_OFF_PRODUCER_EPOCH);
    h->base_sequence = (int32_t)rill__ld32(p + RILL_BATCH_OFF_BASE_SEQUENCE);
    h->record_count = (int32_t)rill__ld32(p + RILL_BATCH_OFF_RECORDS_COUNT);
    if (h->record_count < 0)
        return RILL_BATCH_CORRUPT;
    return RILL_BATCH_OK;
}

int rill__batch_verify_crc(const uint8_t *p, const rill_batch_header *h) {
    return rill__crc32c(0, p + RILL_BATCH_OFF_ATTRIBUTES, h->size - RILL_BATCH_OFF_ATTRIBUTES) ==
           h->crc;
}

void rill__batch_reader_init(rill_batch_reader *r, size_t max_uncompressed) {
    rill__buf_init(&r->scratch, 0);
    rill__codec_ctx_init(&r->codecs);
    r->max_uncompressed = max_uncompressed;
}

void rill__batch_reader_free(rill_batch_reader *r) {
    rill__buf_free(&r->scratch);
    rill__codec_ctx_clear(&r->codecs);
}

int rill__batch_records(rill_batch_reader *r, const uint8_t *p, const rill_batch_header *h,
                        const uint8_t **records, size_t *len) {
    const uint8_t *rec = p + RILL_BATCH_HEADER_SIZE;
    size_t n = h->size - RILL_BATCH_HEADER_SIZE;
    int codec = rill__batch_codec(h);
    if (codec == RILL_CODEC_NONE) {
        *records = rec;
        *len = n;
        return 0;
    }
    if (codec > RILL_CODEC_MAX)
        return RILL_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    rill__buf_reset(&r->scratch);
    int err = rill__decompress_ctx(&r->codecs, codec, rec, n, &r->scratch, r->max_uncompressed);
    if (err)
        return err;
    /* Inflating to nothing leaves no buffer; a view still needs a pointer. */
    *records = r->scratch.data ? r->scratch.data : (const uint8_t *)"";
    *len = r->scratch.len;
    return 0;
}

int rill__batch_validate(rill_batch_reader *r, const uint8_t *p, size_t n, int flags,
                         rill_batch_header *h) {
    switch (rill__batch_header_parse(p, n, h)) {
    case RILL_BATCH_OK:
        break;
    case RILL_BATCH_OLD_MAGIC:
        return RILL_ERR_INVALID_RECORD; /* produce v3+ carries magic 2 only */
    default:
        return RILL_ERR_CORRUPT_MESSAGE;
    }
    if (h->size > n)
        return RILL_ERR_CORRUPT_MESSAGE;
    if (h->size < n)
        return RILL_ERR_INVALID_RECORD; /* more than one batch, or trailing bytes */
    if (!rill__batch_verify_crc(p, h))
        return RILL_ERR_CORRUPT_MESSAGE;
    if (rill__batch_codec(h) > RILL_CODEC_MAX)
        return RILL_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    /* Compaction may leave fewer records than the offset range, never more. */
    if (h->last_offset_delta < 0 ? h->record_count != 0
                                 : h->record_count > (int64_t)h->last_offset_delta + 1)
        return RILL_ERR_INVALID_RECORD;
    int produce = flags & RILL_VALIDATE_PRODUCE;
    if (produce) {
        if (h->record_count == 0 || h->record_count != (int64_t)h->last_offset_delta + 1 ||
            rill__batch_is_control(h))
            return RILL_ERR_INVALID_RECORD;
        if (h->producer_id >= 0 && h->base_sequence < 0)
            return RILL_ERR_INVALID_RECORD;
        if (rill__batch_is_transactional(h) && h->producer_id < 0)
            return RILL_ERR_INVALID_RECORD;
    }
    const uint8_t *rec;
    size_t len;
    int err = rill__batch_records(r, p, h, &rec, &len);
    if (err)
        return err;
    rill_record_iter it;
    rill_record x;
    rill__record_iter_init(&it, rec, len, h);
    int64_t prev = -1;
    int more;
    while ((more = rill__record_iter_next(&it, &x)) == 1) {
        /* Offset deltas rise within the batch's range (and are 0, 1, 2... from a producer). */
        if (x.offset_delta <= prev || x.offset_delta > h->last_offset_delta ||
            (produce && x.offset_delta != prev + 1))
            return RILL_ERR_INVALID_RECORD;
        prev = x.offset_delta;
    }
    return more < 0 ? it.err : 0;
}

/* A length-prefixed (varint) field of a record: -1 null, else the bytes. */
static rill_bytes take_field(rill_rd *r, int32_t min_len) {
    rill_bytes b = {NULL, -1};
    int32_t len = rill__rd_varint(r);
    if (len < min_len) {
        r->err = 1;
        return b;
    }
    if (len >= 0) {
        b.ptr = rill__rd_take(r, (size_t)len);
        b.len = r->err ? -1 : len;
    }
    return b;
}

void rill__record_iter_init(rill_record_iter *it, const uint8_t *records, size_t len,
                            const rill_batch_header *h) {
    it->p = records;
    it->end = records + len;
    it->left = h->record_count;
    it->base_offset = h->base_offset;
    it->base_timestamp = h->base_timestamp;
    it->log_append_time = (h->attributes & RILL_BATCH_ATTR_LOG_APPEND_TIME) != 0;
    it->max_timestamp = h->max_timestamp;
    it->err = 0;
}

static int corrupt(rill_record_iter *it) {
    it->err = RILL_ERR_CORRUPT_MESSAGE;
    it->left = 0;
    it->p = NULL; /* stays failed */
    return -1;
}

int rill__record_iter_next(rill_record_iter *it, rill_record *rec) {
    if (it->err)
        return -1;
    if (it->left <= 0)
        return it->p == it->end ? 0 : corrupt(it);
    rill_rd r;
    rill__rd_init(&r, it->p, (size_t)(it->end - it->p));
    int32_t len = rill__rd_varint(&r);
    if (r.err || len < MIN_RECORD_BODY || (size_t)len > rill__rd_remain(&r))
        return corrupt(it);
    const uint8_t *rend = r.p + len;
    r.end = rend; /* nothing of this record may lie outside its length */
    rec->attributes = rill__rd_i8(&r);
    rec->timestamp_delta = rill__rd_varlong(&r);
    rec->offset_delta = rill__rd_varint(&r);
    rec->key = take_field(&r, -1);
    rec->value = take_field(&r, -1);
    rec->header_count = rill__rd_varint(&r);
    /* Each header takes at least two bytes: bounds the count before looping. */
    if (r.err || rec->header_count < 0 || (size_t)rec->header_count > rill__rd_remain(&r) / 2)
        return corrupt(it);
    rec->headers = r.p;
    for (int32_t i = 0; i < rec->header_count && !r.err; i++) {
        take_field(&r, 0); /* a header's key is never null */
        take_field(&r, -1);
    }
    if (r.err || r.p != rend)
        return corrupt(it);
    rec->headers_len = (size_t)(rend - rec->headers);
    rec->offset = rill__add64_wrap(it->base_offset, rec->offset_delta);
    rec->timestamp = it->log_append_time
                         ? it->max_timestamp
                         : rill__add64_wrap(it->base_timestamp, rec->timestamp_delta);
    it->p = rend;
    it->left--;
    return 1;
}

void rill__header_iter_init(rill_header_iter *hi, const rill_record *rec) {
    rill__rd_init(&hi->r, rec->headers, rec->headers_len);
    hi->left = rec->header_count;
}

int rill__header_iter_next(rill_header_iter *hi, rill_str *name, rill_bytes *value) {
    if (hi->left <= 0)
        return 0;
    rill_bytes k = take_field(&hi->r, 0);
    rill_bytes v = take_field(&hi->r, -1);
    if (hi->r.err)
        return 0; /* cannot happen after rill__record_iter_next checked the record */
    hi->left--;
    name->ptr = (const char *)k.ptr;
    name->len = k.len;
    *value = v;
    return 1;
}

int rill__control_record_type(const rill_record *rec) {
    if (rec->key.len < 4)
        return -1;
    int16_t version = (int16_t)rill__ld16(rec->key.ptr);
    int16_t type = (int16_t)rill__ld16(rec->key.ptr + 2);
    if (version < 0 || (type != 0 && type != 1))
        return -1;
    return type;
}

/* ----------------------------------------- walking a RECORDS blob */

int rill__batch_walk_next(rill_batch_walk *w, const uint8_t **entry, size_t *len,
                          rill_batch_header *h) {
    size_t left = (size_t)(w->end - w->p);
    if (!left)
        return RILL_WALK_END;
    int r = rill__batch_header_parse(w->p, left, h);
    if (r == RILL_BATCH_CORRUPT)
        return RILL_WALK_CORRUPT;
    if (r == RILL_BATCH_NEED_MORE || h->size > left)
        return RILL_WALK_PARTIAL;
    *entry = w->p;
    *len = h->size;
    w->p += h->size;
    return r == RILL_BATCH_OLD_MAGIC ? RILL_WALK_LEGACY : RILL_WALK_BATCH;
}
