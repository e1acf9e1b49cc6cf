/*
 * metafile.h -- the frame of storage's small binary metadata files and records:
 *
 *   magic (4 bytes) | CRC-32C u32 of everything after it | payload
 *
 * Topic metadata, producer snapshots and the checkpoint are each one frame; a torn or
 * bit-flipped file fails the CRC and is treated as absent.  Payloads are big-endian and
 * decoded with the bounds-checked rill_rd.
 */
#ifndef RILL_STORAGE_METAFILE_H
#define RILL_STORAGE_METAFILE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"
#include "common/crc32c.h"
#include "common/endian.h"
#include "proto/reader.h"

#define RILL_META_HDR 8

/* Starts a frame at b->len; returns its start for rill__meta_end. */
static inline size_t rill__meta_begin(rill_buf *b, const char magic[4]) {
    size_t start = b->len;
    uint8_t hdr[RILL_META_HDR] = {0};
    memcpy(hdr, magic, 4);
    rill__buf_append(b, hdr, sizeof(hdr));
    return start;
}

/* Seals the frame started at `start`: the CRC of the payload.  Returns 0 or -1 (b->err). */
static inline int rill__meta_end(rill_buf *b, size_t start) {
    if (b->err)
        return -1;
    uint8_t *p = b->data + start;
    rill__st32(p + 4, rill__crc32c(0, p + RILL_META_HDR, b->len - start - RILL_META_HDR));
    return 0;
}

/* Checks magic and CRC of a whole frame; on success r reads the payload.  0 or -1. */
static inline int rill__meta_open(const uint8_t *d, size_t len, const char magic[4], rill_rd *r) {
    if (len < RILL_META_HDR || memcmp(d, magic, 4) != 0 ||
        rill__ld32(d + 4) != rill__crc32c(0, d + RILL_META_HDR, len - RILL_META_HDR))
        return -1;
    rill__rd_init(r, d + RILL_META_HDR, len - RILL_META_HDR);
    return 0;
}

#endif
