/*
 * fuzz_record_batch.c -- record batch v2 decoding over arbitrary bytes.
 *
 * The input is read three ways: as a RECORDS blob (walk every entry, check
 * its CRC, validate it under both rule sets, inflate and iterate records
 * and headers whatever the CRC says, so mutated seeds reach the record
 * parser), as a bare records region, and as compressed data for the codec
 * named by its first byte; then once more with every batch's CRC
 * recomputed, so that mutated seeds get past the CRC check into full
 * validation.  Nothing may read outside the input, leak, or allocate past
 * the bounds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/compress.h"
#include "proto/msgset_legacy.h"
#include "proto/record_batch.h"

#define BOUND (1 << 20)

static void iterate(const uint8_t *recs, size_t len, const rill_batch_header *h) {
    rill_record_iter it;
    rill_record r;
    rill__record_iter_init(&it, recs, len, h);
    while (rill__record_iter_next(&it, &r) == 1) {
        /* Touch the views' last bytes: ASan checks they lie inside the buffers. */
        volatile uint8_t sink = 0;
        if (r.key.len > 0)
            sink ^= r.key.ptr[r.key.len - 1];
        if (r.value.len > 0)
            sink ^= r.value.ptr[r.value.len - 1];
        (void)sink;
        rill_header_iter hi;
        rill_str name;
        rill_bytes value;
        rill__header_iter_init(&hi, &r);
        while (rill__header_iter_next(&hi, &name, &value) == 1)
            ;
        (void)rill__control_record_type(&r);
    }
}

static void walk(rill_batch_reader *rd, const uint8_t *d, size_t n) {
    rill_batch_walk w;
    const uint8_t *e;
    size_t len;
    rill_batch_header h;
    int kind;
    rill__batch_walk_init(&w, d, n);
    while ((kind = rill__batch_walk_next(&w, &e, &len, &h)) == RILL_WALK_BATCH ||
           kind == RILL_WALK_LEGACY) {
        if (kind == RILL_WALK_LEGACY) {
            rill_legacy_iter li;
            rill_record r;
            rill__legacy_iter_init(&li, rd, e, len);
            while (rill__legacy_iter_next(&li, &r) == 1)
                ;
            continue;
        }
        (void)rill__batch_verify_crc(e, &h);
        rill_batch_header v;
        (void)rill__batch_validate(rd, e, len, 0, &v);
        (void)rill__batch_validate(rd, e, len, RILL_VALIDATE_PRODUCE, &v);
        const uint8_t *recs;
        size_t rlen;
        if (rill__batch_records(rd, e, &h, &recs, &rlen) == 0)
            iterate(recs, rlen, &h);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    rill_batch_reader rd;
    rill__batch_reader_init(&rd, BOUND);
    walk(&rd, d, n);

    rill_batch_header h;
    (void)rill__batch_validate(&rd, d, n, RILL_VALIDATE_PRODUCE, &h);

    if (n > 0) {
        /* A bare records region; the first byte is the promised count. */
        memset(&h, 0, sizeof(h));
        h.record_count = d[0];
        h.last_offset_delta = d[0];
        iterate(d + 1, n - 1, &h);
        /* The codecs on their own. */
        rill__buf_reset(&rd.scratch);
        (void)rill__decompress_ctx(&rd.codecs, d[0] % 8, d + 1, n - 1, &rd.scratch, BOUND);
    }

    uint8_t *copy = malloc(n ? n : 1);
    if (copy) {
        /*
         * Mutations almost always break the CRC, which validation checks
         * first: re-seal every batch of a copy so the deeper checks run too.
         */
        memcpy(copy, d, n);
        rill_batch_walk w;
        const uint8_t *e;
        size_t len;
        rill__batch_walk_init(&w, copy, n);
        while (rill__batch_walk_next(&w, &e, &len, &h) == RILL_WALK_BATCH) {
            uint8_t *b = copy + (e - copy);
            if (rill__batch_set_producer(b, len, h.producer_id, h.producer_epoch,
                                         h.base_sequence) == 0) {
                rill_batch_header v;
                (void)rill__batch_validate(&rd, b, len, 0, &v);
                (void)rill__batch_validate(&rd, b, len, RILL_VALIDATE_PRODUCE, &v);
            }
        }
        /* Rewriting producer fields of whatever this is must stay in bounds. */
        memcpy(copy, d, n);
        if (rill__batch_set_producer(copy, n, 1, 2, 3) == 0)
            (void)rill__batch_set_log_append_time(copy, n, 4);
        free(copy);
    }
    rill__batch_reader_free(&rd);
    return 0;
}
