/*
 * fuzz_storage_meta.c -- the decoders of storage's own on-disk metadata: topic files,
 * partition checkpoints, producer-state snapshots, the committed-offsets record log.
 * The first input byte picks the decoder (low bits) and whether to repair the CRCs first
 * (bit 7), so that mutations reach the payload decoders instead of stopping at the
 * checksum.  A file that decodes must re-encode to bytes that decode to the same thing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/storage/log_internal.h"
#include "broker/storage/offsets.h"
#include "broker/storage/producer_state.h"
#include "broker/storage/topics.h"
#include "common/crc32c.h"
#include "common/endian.h"

/* Recomputes the CRC of a metafile.h frame. */
static void fix_frame(uint8_t *d, size_t n) {
    if (n >= 8)
        rill__st32(d + 4, rill__crc32c(0, d + 8, n - 8));
}

/* Recomputes the CRC of every offsets record whose length fits. */
static void fix_records(uint8_t *d, size_t n) {
    for (size_t off = 0; n - off >= 8;) {
        uint32_t len = rill__ld32(d + off);
        if (len < 4 || len > n - off - 4)
            return;
        rill__st32(d + off + 4, rill__crc32c(0, d + off + 8, len - 4));
        off += 4 + len;
    }
}

static void topic(const uint8_t *d, size_t n) {
    rill_topic *tp = rill__topic_decode(d, n);
    if (!tp)
        return;
    rill_buf b;
    rill__buf_init(&b, 0);
    if (rill__topic_encode(tp, &b) != 0)
        abort();
    rill_topic *again = rill__topic_decode(b.data, b.len);
    if (!again || strcmp(again->name, tp->name) != 0 || again->partitions != tp->partitions ||
        again->nconfigs != tp->nconfigs || memcmp(again->id, tp->id, 16) != 0)
        abort();
    rill__topic_free(again);
    rill__topic_free(tp);
    rill__buf_free(&b);
}

static void checkpoint(const uint8_t *d, size_t n) {
    int64_t rp, start;
    if (rill__checkpoint_decode(d, n, &rp, &start) != 0)
        return;
    uint8_t b[RILL_CHECKPOINT_LEN];
    rill__checkpoint_encode(b, rp, start);
    if (memcmp(b, d, sizeof(b)) != 0)
        abort();
}

static void snapshot(const uint8_t *d, size_t n) {
    rill_pstate ps, back;
    rill__pstate_init(&ps);
    rill__pstate_init(&back);
    int64_t off;
    if (rill__pstate_decode(&ps, d, n, &off) == 0) {
        rill_buf b;
        rill__buf_init(&b, 0);
        int64_t off2;
        if (rill__pstate_encode(&ps, off, &b) != 0 ||
            rill__pstate_decode(&back, b.data, b.len, &off2) != 0 || off2 != off ||
            back.map.n != ps.map.n)
            abort();
        rill__buf_free(&b);
    }
    rill__pstate_free(&ps);
    rill__pstate_free(&back);
}

static void offsets(const uint8_t *d, size_t n) {
    rill_offsets *o = rill__offsets_new_memory();
    if (!o)
        return;
    size_t good = rill__offsets_replay(o, d, n);
    if (good > n)
        abort();
    rill__offsets_close(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    if (n < 1)
        return 0;
    uint8_t *p = malloc(n);
    if (!p)
        return 0;
    memcpy(p, d + 1, n - 1);
    int kind = d[0] % 4, fix = d[0] & 0x80;
    if (fix)
        (kind == 3 ? fix_records : fix_frame)(p, n - 1);
    switch (kind) {
    case 0:
        topic(p, n - 1);
        break;
    case 1:
        checkpoint(p, n - 1);
        break;
    case 2:
        snapshot(p, n - 1);
        break;
    default:
        offsets(p, n - 1);
        break;
    }
    free(p);
    return 0;
}
