/*
 * varint.h -- Protocol Buffers style varints, as Kafka uses them.
 *
 * Unsigned varints carry compact lengths and tagged fields; signed ones use
 * zig-zag encoding and appear inside records (lengths, deltas).  Encoders
 * write at most RILL_VARINT_MAX (10) bytes; decoders never read past `end`
 * and reject encodings longer than the type allows.
 */
#ifndef RILL_COMMON_VARINT_H
#define RILL_COMMON_VARINT_H

#include <stddef.h>
#include <stdint.h>

#define RILL_VARINT_MAX 10

static inline uint64_t rill__zigzag64(int64_t v) {
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static inline int64_t rill__unzigzag64(uint64_t v) { return (int64_t)(v >> 1) ^ -(int64_t)(v & 1); }

/* Writes v at p; returns the number of bytes written (1..10). */
static inline size_t rill__uvarint_put(uint8_t *p, uint64_t v) {
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (uint8_t)v;
    return n;
}

static inline size_t rill__varint_put(uint8_t *p, int64_t v) {
    return rill__uvarint_put(p, rill__zigzag64(v));
}

/* Size of the encoding, without writing it. */
static inline size_t rill__uvarint_len(uint64_t v) {
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}
static inline size_t rill__varint_len(int64_t v) { return rill__uvarint_len(rill__zigzag64(v)); }

/*
 * Reads an unsigned varint of at most `maxbytes` bytes (5 for 32-bit, 10 for
 * 64-bit values).  Returns the number of bytes consumed, or 0 when the input
 * is truncated or the encoding is too long.
 */
static inline size_t rill__uvarint_get(const uint8_t *p, const uint8_t *end, size_t maxbytes,
                                       uint64_t *out) {
    uint64_t v = 0;
    unsigned shift = 0;
    for (size_t i = 0; i < maxbytes && p + i < end; i++) {
        uint8_t b = p[i];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return i + 1;
        }
        shift += 7;
    }
    return 0;
}

#endif
