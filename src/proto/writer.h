/*
 * writer.h -- encoding of Kafka primitives into a rill_buf.
 *
 * Errors are sticky in the buffer (see common/buf.h): an encoder writes the
 * whole message and checks `b->err` once.  `flexible` selects the compact
 * encodings of flexible API versions.
 */
#ifndef RILL_PROTO_WRITER_H
#define RILL_PROTO_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/endian.h"
#include "common/varint.h"

static inline void rill__wr_i8(rill_buf *b, int8_t v) {
    uint8_t x = (uint8_t)v;
    rill__buf_append(b, &x, 1);
}
static inline void rill__wr_bool(rill_buf *b, bool v) { rill__wr_i8(b, v ? 1 : 0); }
static inline void rill__wr_i16(rill_buf *b, int16_t v) {
    uint8_t x[2];
    rill__st16(x, (uint16_t)v);
    rill__buf_append(b, x, 2);
}
static inline void rill__wr_i32(rill_buf *b, int32_t v) {
    uint8_t x[4];
    rill__st32(x, (uint32_t)v);
    rill__buf_append(b, x, 4);
}
static inline void rill__wr_u32(rill_buf *b, uint32_t v) {
    uint8_t x[4];
    rill__st32(x, v);
    rill__buf_append(b, x, 4);
}
static inline void rill__wr_i64(rill_buf *b, int64_t v) {
    uint8_t x[8];
    rill__st64(x, (uint64_t)v);
    rill__buf_append(b, x, 8);
}
static inline void rill__wr_uvarint(rill_buf *b, uint64_t v) {
    uint8_t x[RILL_VARINT_MAX];
    rill__buf_append(b, x, rill__uvarint_put(x, v));
}
static inline void rill__wr_varint(rill_buf *b, int64_t v) {
    uint8_t x[RILL_VARINT_MAX];
    rill__buf_append(b, x, rill__varint_put(x, v));
}
static inline void rill__wr_raw(rill_buf *b, const void *p, size_t n) { rill__buf_append(b, p, n); }

/* String of `len` bytes (len < 0: null).  Use rill__wr_cstr for C strings. */
void rill__wr_strn(rill_buf *b, bool flexible, const char *s, int32_t len);
/* NUL-terminated string; NULL encodes a null string. */
void rill__wr_cstr(rill_buf *b, bool flexible, const char *s);
/* Bytes; NULL with len < 0 encodes null. */
void rill__wr_bytes(rill_buf *b, bool flexible, const void *p, int32_t len);
/* Array length (n < 0: null array). */
void rill__wr_array(rill_buf *b, bool flexible, int32_t n);
/* An empty tagged-field section, when flexible (nothing otherwise). */
static inline void rill__wr_tags(rill_buf *b, bool flexible) {
    if (flexible)
        rill__wr_uvarint(b, 0);
}
void rill__wr_uuid(rill_buf *b, const uint8_t uuid[16]);

/* Reserves an int32 and returns its offset, to be patched later. */
static inline size_t rill__wr_reserve32(rill_buf *b) {
    size_t at = b->len;
    rill__wr_i32(b, 0);
    return at;
}
static inline void rill__wr_patch32(rill_buf *b, size_t at, int32_t v) {
    if (!b->err && at + 4 <= b->len)
        rill__st32(b->data + at, (uint32_t)v);
}

#endif
