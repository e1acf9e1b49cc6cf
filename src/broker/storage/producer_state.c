/*
 * producer_state.c -- idempotence checks and the producer-state snapshot format.
 *
 * Snapshot layout (big-endian):
 *   "RPS1" | crc32c u32 (of everything after it) | offset i64 | count i32 |
 *   count x { pid i64 | epoch i16 | last_ts i64 | n i8 |
 *             n x { first_seq i32 | last_seq i32 | first_offset i64 | last_offset i64 } }
 * Batches are listed oldest first.
 */
#include "broker/storage/producer_state.h"

#include <stdlib.h>
#include <string.h>

#include "broker/storage/metafile.h"
#include "proto/reader.h"
#include "proto/writer.h"

void rill__pstate_init(rill_pstate *ps) {
    memset(ps, 0, sizeof(*ps));
    rill__hmap_init(&ps->map);
}

void rill__pstate_free(rill_pstate *ps) { rill__hmap_free(&ps->map, free); }

void rill__pstate_clear(rill_pstate *ps) {
    rill__hmap_free(&ps->map, free);
    rill__hmap_init(&ps->map);
}

const rill_pstate_entry *rill__pstate_get(const rill_pstate *ps, int64_t pid) {
    return rill__hmap_get(&ps->map, &pid, sizeof(pid));
}

const rill_pstate_batch *rill__pstate_last(const rill_pstate_entry *e) {
    return e->n ? &e->b[e->head] : NULL;
}

static int in_sequence(int32_t last, int32_t next) {
    return (int64_t)next == (int64_t)last + 1 || (next == 0 && last == INT32_MAX);
}

rill_err_t rill__pstate_check(const rill_pstate *ps, int64_t pid, int16_t epoch, int32_t first_seq,
                              int32_t last_seq, rill_pstate_verdict *verdict,
                              rill_pstate_batch *dup) {
    *verdict = RILL_PSTATE_APPEND;
    const rill_pstate_entry *e = rill__pstate_get(ps, pid);
    if (!e) {
        if (first_seq != 0 && ps->strict_unknown)
            return RILL_ERR_UNKNOWN_PRODUCER_ID;
        return RILL_ERR_NO_ERROR;
    }
    if (epoch == e->epoch) {
        for (unsigned i = 0; i < e->n; i++) {
            const rill_pstate_batch *b = &e->b[i];
            if (b->first_seq == first_seq && b->last_seq == last_seq) {
                *verdict = RILL_PSTATE_DUPLICATE;
                if (dup)
                    *dup = *b;
                return RILL_ERR_NO_ERROR;
            }
        }
    }
    if (epoch < e->epoch)
        return RILL_ERR_INVALID_PRODUCER_EPOCH;
    if (epoch != e->epoch)
        return first_seq == 0 ? RILL_ERR_NO_ERROR : RILL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    const rill_pstate_batch *last = rill__pstate_last(e);
    if (last && !in_sequence(last->last_seq, first_seq))
        return RILL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
    return RILL_ERR_NO_ERROR;
}

static void add_batch(rill_pstate_entry *e, const rill_pstate_batch *b) {
    if (e->n < RILL_PSTATE_BATCHES) {
        e->head = e->n ? (uint8_t)((e->head + 1) % RILL_PSTATE_BATCHES) : 0;
        e->n++;
    } else {
        e->head = (uint8_t)((e->head + 1) % RILL_PSTATE_BATCHES);
    }
    e->b[e->head] = *b;
}

int rill__pstate_update(rill_pstate *ps, int64_t pid, int16_t epoch, int32_t first_seq,
                        int32_t last_seq, int64_t first_offset, int64_t last_offset, int64_t ts) {
    rill_pstate_entry *e = rill__hmap_get(&ps->map, &pid, sizeof(pid));
    if (!e) {
        e = calloc(1, sizeof(*e));
        if (!e)
            return -1;
        e->pid = pid;
        e->epoch = epoch;
        if (rill__hmap_put(&ps->map, &pid, sizeof(pid), e) != 0) {
            free(e);
            return -1;
        }
    }
    if (epoch != e->epoch) {
        e->epoch = epoch;
        e->n = 0;
        e->head = 0;
    }
    rill_pstate_batch b = {first_seq, last_seq, first_offset, last_offset};
    add_batch(e, &b);
    e->last_ts = ts;
    return 0;
}

size_t rill__pstate_expire(rill_pstate *ps, int64_t now_ms, int64_t expiration_ms) {
    size_t n = 0;
    rill_hmap_iter it;
    rill_hmap_node *node;
    rill__hmap_iter_init(&it, &ps->map);
    while ((node = rill__hmap_iter_next(&it))) {
        rill_pstate_entry *e = node->val;
        if (now_ms - e->last_ts >= expiration_ms) {
            free(rill__hmap_del(&ps->map, &e->pid, sizeof(e->pid)));
            n++;
        }
    }
    return n;
}

int rill__pstate_encode(const rill_pstate *ps, int64_t offset, rill_buf *out) {
    size_t start = rill__meta_begin(out, "RPS1");
    rill__wr_i64(out, offset);
    rill__wr_i32(out, (int32_t)ps->map.n);
    rill_hmap_iter it;
    rill_hmap_node *node;
    rill__hmap_iter_init(&it, &ps->map);
    while ((node = rill__hmap_iter_next(&it))) {
        const rill_pstate_entry *e = node->val;
        rill__wr_i64(out, e->pid);
        rill__wr_i16(out, e->epoch);
        rill__wr_i64(out, e->last_ts);
        rill__wr_i8(out, (int8_t)e->n);
        for (unsigned k = 0; k < e->n; k++) {
            /* oldest first: head is the newest */
            const rill_pstate_batch *b =
                &e->b[(e->head + RILL_PSTATE_BATCHES - (e->n - 1) + k) % RILL_PSTATE_BATCHES];
            rill__wr_i32(out, b->first_seq);
            rill__wr_i32(out, b->last_seq);
            rill__wr_i64(out, b->first_offset);
            rill__wr_i64(out, b->last_offset);
        }
    }
    return rill__meta_end(out, start);
}

int rill__pstate_decode(rill_pstate *ps, const uint8_t *data, size_t len, int64_t *offset) {
    rill__pstate_clear(ps);
    rill_rd r;
    if (rill__meta_open(data, len, "RPS1", &r) != 0)
        return -1;
    int64_t off = rill__rd_i64(&r);
    int32_t count = rill__rd_i32(&r);
    /* An entry takes at least 19 bytes: a count that cannot fit is corrupt. */
    if (r.err || count < 0 || (size_t)count > rill__rd_remain(&r) / 19 || off < 0)
        return -1;
    for (int32_t i = 0; i < count; i++) {
        int64_t pid = rill__rd_i64(&r);
        int16_t epoch = rill__rd_i16(&r);
        int64_t last_ts = rill__rd_i64(&r);
        int8_t n = rill__rd_i8(&r);
        if (r.err || pid < 0 || n < 0 || n > RILL_PSTATE_BATCHES)
            goto bad;
        for (int8_t k = 0; k < n; k++) {
            int32_t fs = rill__rd_i32(&r), ls = rill__rd_i32(&r);
            int64_t fo = rill__rd_i64(&r), lo = rill__rd_i64(&r);
            if (r.err || fo < 0 || lo < fo || lo >= off)
                goto bad;
            if (rill__pstate_update(ps, pid, epoch, fs, ls, fo, lo, last_ts) != 0)
                goto bad;
        }
        if (n == 0)
            goto bad; /* entries always remember at least one batch */
    }
    if (rill__rd_remain(&r) != 0)
        goto bad;
    *offset = off;
    return 0;
bad:
    rill__pstate_clear(ps);
    return -1;
}
