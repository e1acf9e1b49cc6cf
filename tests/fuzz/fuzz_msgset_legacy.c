/*
 * fuzz_msgset_legacy.c -- MessageSet v0/v1 reading over arbitrary bytes:
 * plain and compressed (wrapper) messages, with a decompression bound.
 * The input is read as is, then with every top-level message's CRC
 * recomputed so that mutated seeds reach the wrapper and inner-set code.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "common/endian.h"
#include "proto/msgset_legacy.h"

static void read_all(rill_batch_reader *rd, const uint8_t *d, size_t n) {
    rill_legacy_iter it;
    rill_record r;
    rill__legacy_iter_init(&it, rd, d, n);
    while (rill__legacy_iter_next(&it, &r) == 1) {
        /* Touch the views: ASan checks they lie inside the input or scratch. */
        volatile uint8_t sink = 0;
        if (r.key.len > 0)
            sink ^= r.key.ptr[r.key.len - 1];
        if (r.value.len > 0)
            sink ^= r.value.ptr[r.value.len - 1];
        (void)sink;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    rill_batch_reader rd;
    rill__batch_reader_init(&rd, 1 << 20);
    read_all(&rd, d, n);
    uint8_t *copy = malloc(n ? n : 1);
    if (copy) {
        memcpy(copy, d, n);
        rill_batch_walk w;
        const uint8_t *e;
        size_t len;
        rill_batch_header h;
        rill__batch_walk_init(&w, copy, n);
        while (rill__batch_walk_next(&w, &e, &len, &h) == RILL_WALK_LEGACY) {
            uint8_t *m = copy + (e - copy) + 12; /* crc, then magic.. */
            if (len >= 16)
                rill__st32(m, (uint32_t)crc32(0, m + 4, (uInt)(len - 16)));
        }
        read_all(&rd, copy, n);
        free(copy);
    }
    rill__batch_reader_free(&rd);
    return 0;
}
