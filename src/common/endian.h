/*
 * endian.h -- big-endian loads and stores: Kafka's wire is network order.
 */
#ifndef RILL_COMMON_ENDIAN_H
#define RILL_COMMON_ENDIAN_H

#include <stdint.h>
#include <string.h>

static inline uint16_t rill__ld16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
static inline uint32_t rill__ld32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t rill__ld64(const uint8_t *p) {
    return (uint64_t)rill__ld32(p) << 32 | rill__ld32(p + 4);
}
static inline void rill__st16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}
static inline void rill__st32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}
static inline void rill__st64(uint8_t *p, uint64_t v) {
    rill__st32(p, (uint32_t)(v >> 32));
    rill__st32(p + 4, (uint32_t)v);
}

#endif
