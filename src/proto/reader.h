/*
 * reader.h -- bounds-checked decoding of Kafka primitives.
 *
 * A rill_rd walks a byte range.  Every read checks the remaining length;
 * on a short or malformed input it sets the sticky `err` flag and returns a
 * zero value, and every later read does the same.  Decoders therefore read
 * a whole structure and check `r->err` once (plus before they act on a
 * count), and can never read past `end`, whatever the bytes.
 *
 * Strings and byte arrays come back as views into the input, never copies:
 * the caller copies what it keeps.
 */
#ifndef RILL_PROTO_READER_H
#define RILL_PROTO_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/endian.h"
#include "common/varint.h"

typedef struct rill_rd {
    const uint8_t *p;
    const uint8_t *end;
    int err;
} rill_rd;

/* A view of a string or bytes; len == -1 means null. */
typedef struct rill_str {
    const char *ptr;
    int32_t len;
} rill_str;

typedef struct rill_bytes {
    const uint8_t *ptr;
    int32_t len;
} rill_bytes;

static inline void rill__rd_init(rill_rd *r, const void *p, size_t len) {
    r->p = p;
    r->end = r->p + len;
    r->err = 0;
}

static inline size_t rill__rd_remain(const rill_rd *r) {
    return r->err ? 0 : (size_t)(r->end - r->p);
}

/* Returns a pointer to n bytes and advances, or NULL (and sets err). */
static inline const uint8_t *rill__rd_take(rill_rd *r, size_t n) {
    if (r->err || (size_t)(r->end - r->p) < n) {
        r->err = 1;
        return NULL;
    }
    const uint8_t *q = r->p;
    r->p += n;
    return q;
}

static inline void rill__rd_skip(rill_rd *r, size_t n) { (void)rill__rd_take(r, n); }

static inline int8_t rill__rd_i8(rill_rd *r) {
    const uint8_t *q = rill__rd_take(r, 1);
    return q ? (int8_t)q[0] : 0;
}
static inline bool rill__rd_bool(rill_rd *r) { return rill__rd_i8(r) != 0; }
static inline int16_t rill__rd_i16(rill_rd *r) {
    const uint8_t *q = rill__rd_take(r, 2);
    return q ? (int16_t)rill__ld16(q) : 0;
}
static inline int32_t rill__rd_i32(rill_rd *r) {
    const uint8_t *q = rill__rd_take(r, 4);
    return q ? (int32_t)rill__ld32(q) : 0;
}
static inline uint32_t rill__rd_u32(rill_rd *r) {
    const uint8_t *q = rill__rd_take(r, 4);
    return q ? rill__ld32(q) : 0;
}
static inline int64_t rill__rd_i64(rill_rd *r) {
    const uint8_t *q = rill__rd_take(r, 8);
    return q ? (int64_t)rill__ld64(q) : 0;
}

/* Unsigned varint of at most 32 bits (compact lengths, tags). */
static inline uint32_t rill__rd_uvarint(rill_rd *r) {
    uint64_t v = 0;
    size_t n = r->err ? 0 : rill__uvarint_get(r->p, r->end, 5, &v);
    if (!n || v > UINT32_MAX) {
        r->err = 1;
        return 0;
    }
    r->p += n;
    return (uint32_t)v;
}
/* Zig-zag signed varint (32-bit) and varlong (64-bit), used in records. */
static inline int32_t rill__rd_varint(rill_rd *r) {
    uint64_t v = 0;
    size_t n = r->err ? 0 : rill__uvarint_get(r->p, r->end, 5, &v);
    if (!n || v > UINT32_MAX) {
        r->err = 1;
        return 0;
    }
    r->p += n;
    return (int32_t)rill__unzigzag64(v);
}
static inline int64_t rill__rd_varlong(rill_rd *r) {
    uint64_t v = 0;
    size_t n = r->err ? 0 : rill__uvarint_get(r->p, r->end, 10, &v);
    if (!n) {
        r->err = 1;
        return 0;
    }
    r->p += n;
    return rill__unzigzag64(v);
}

/* STRING / NULLABLE_STRING (int16 length) or COMPACT_(NULLABLE_)STRING. */
rill_str rill__rd_str(rill_rd *r, bool flexible);
/* BYTES / NULLABLE_BYTES (int32 length) or COMPACT_(NULLABLE_)BYTES. */
rill_bytes rill__rd_bytes(rill_rd *r, bool flexible);
/*
 * ARRAY length (int32) or COMPACT_ARRAY (uvarint N+1).  Returns -1 for a
 * null array.  A count that could not fit in the remaining input, given
 * that each element takes at least `min_elem` bytes, is an error: this is
 * what keeps a hostile count from driving a huge allocation.
 */
int32_t rill__rd_array(rill_rd *r, bool flexible, size_t min_elem);
/* Skips a tagged-field section (flexible versions only). */
void rill__rd_tags(rill_rd *r);
/* 16-byte UUID. */
void rill__rd_uuid(rill_rd *r, uint8_t out[16]);

/* Compares a view with a C string. */
bool rill__str_eq(rill_str s, const char *c);

#endif
