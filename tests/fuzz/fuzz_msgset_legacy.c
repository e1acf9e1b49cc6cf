/*
 * fuzz_msgset_legacy.c -- MessageSet v0/v1 reading over arbitrary bytes:
 * plain and compressed (wrapper) messages, with a decompression bound.
 */
#include <stddef.h>
#include <stdint.h>

#include "proto/msgset_legacy.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    rill_batch_reader rd;
    rill__batch_reader_init(&rd, 1 << 20);
    rill_legacy_iter it;
    rill_record r;
    rill__legacy_iter_init(&it, &rd, d, n);
    while (rill__legacy_iter_next(&it, &r) == 1) {
        /* Touch the views: ASan checks they lie inside the input or scratch. */
        volatile uint8_t sink = 0;
        if (r.key.len > 0)
            sink ^= r.key.ptr[r.key.len - 1];
        if (r.value.len > 0)
            sink ^= r.value.ptr[r.value.len - 1];
        (void)sink;
    }
    rill__batch_reader_free(&rd);
    return 0;
}
