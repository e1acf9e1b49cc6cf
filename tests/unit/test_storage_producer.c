/*
 * test_storage_producer.c -- idempotent producer state: Kafka's duplicate / out-of-order /
 * epoch decisions, the five-batch window, sequence wrap, snapshots, and the rebuild from
 * the log after clean and unclean restarts.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/storage/log.h"
#include "broker/storage/producer_state.h"
#include "test_storage_util.h"

static rill_err_t check(const rill_pstate *ps, int64_t pid, int16_t epoch, int32_t first,
                        int32_t last, rill_pstate_verdict *v, rill_pstate_batch *dup) {
    return rill__pstate_check(ps, pid, epoch, first, last, v, dup);
}

static void decisions(void **state) {
    (void)state;
    rill_pstate ps;
    rill__pstate_init(&ps);
    rill_pstate_verdict v;
    rill_pstate_batch dup;
    /* Unknown producer: any sequence (Kafka >= 2.5), or only 0 when strict (Kafka 2.x). */
    assert_int_equal(check(&ps, 7, 0, 0, 4, &v, &dup), 0);
    assert_int_equal(v, RILL_PSTATE_APPEND);
    assert_int_equal(check(&ps, 7, 0, 5, 9, &v, &dup), 0);
    ps.strict_unknown = 1;
    assert_int_equal(check(&ps, 7, 0, 5, 9, &v, &dup), RILL_ERR_UNKNOWN_PRODUCER_ID);
    assert_int_equal(check(&ps, 7, 0, 0, 9, &v, &dup), 0);
    ps.strict_unknown = 0;

    assert_int_equal(rill__pstate_update(&ps, 7, 0, 0, 4, 100, 104, 1), 0);
    /* exact retry */
    assert_int_equal(check(&ps, 7, 0, 0, 4, &v, &dup), 0);
    assert_int_equal(v, RILL_PSTATE_DUPLICATE);
    assert_int_equal(dup.first_offset, 100);
    assert_int_equal(dup.last_offset, 104);
    /* next in sequence */
    assert_int_equal(check(&ps, 7, 0, 5, 7, &v, &dup), 0);
    assert_int_equal(v, RILL_PSTATE_APPEND);
    /* a gap, an overlap that is not a known batch, a retry with another range */
    assert_int_equal(check(&ps, 7, 0, 6, 7, &v, &dup), RILL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(check(&ps, 7, 0, 3, 7, &v, &dup), RILL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(check(&ps, 7, 0, 0, 3, &v, &dup), RILL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    /* fenced: an older epoch, even for a batch that would be a duplicate */
    assert_int_equal(rill__pstate_update(&ps, 8, 3, 0, 0, 200, 200, 1), 0);
    assert_int_equal(check(&ps, 8, 2, 0, 0, &v, &dup), RILL_ERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(check(&ps, 8, 2, 1, 1, &v, &dup), RILL_ERR_INVALID_PRODUCER_EPOCH);
    /* a new epoch must start at sequence 0 */
    assert_int_equal(check(&ps, 8, 4, 1, 1, &v, &dup), RILL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(check(&ps, 8, 4, 0, 1, &v, &dup), 0);
    assert_int_equal(v, RILL_PSTATE_APPEND);
    /* and forgets the old epoch's batches */
    assert_int_equal(rill__pstate_update(&ps, 8, 4, 0, 1, 201, 202, 1), 0);
    assert_int_equal(check(&ps, 8, 4, 0, 1, &v, &dup), 0);
    assert_int_equal(v, RILL_PSTATE_DUPLICATE);
    assert_int_equal(dup.first_offset, 201);
    assert_int_equal(check(&ps, 8, 3, 0, 0, &v, &dup), RILL_ERR_INVALID_PRODUCER_EPOCH);
    /* sequence numbers wrap after INT32_MAX */
    assert_int_equal(rill__pstate_update(&ps, 9, 0, INT32_MAX - 2, INT32_MAX, 300, 302, 1), 0);
    assert_int_equal(check(&ps, 9, 0, 0, 5, &v, &dup), 0);
    assert_int_equal(v, RILL_PSTATE_APPEND);
    assert_int_equal(check(&ps, 9, 0, 1, 5, &v, &dup), RILL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    rill__pstate_free(&ps);
}

static void five_batch_window(void **state) {
    (void)state;
    rill_pstate ps;
    rill__pstate_init(&ps);
    rill_pstate_verdict v;
    rill_pstate_batch dup;
    for (int i = 0; i < 7; i++)
        assert_int_equal(
            rill__pstate_update(&ps, 1, 0, i * 10, i * 10 + 9, i * 100, i * 100 + 9, i), 0);
    /* batches 2..6 are remembered, 0 and 1 are not */
    for (int i = 0; i < 7; i++) {
        rill_err_t err = check(&ps, 1, 0, i * 10, i * 10 + 9, &v, &dup);
        if (i < 2) {
            assert_int_equal(err, RILL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
        } else {
            assert_int_equal(err, 0);
            assert_int_equal(v, RILL_PSTATE_DUPLICATE);
            assert_int_equal(dup.first_offset, i * 100);
            assert_int_equal(dup.last_offset, i * 100 + 9);
        }
    }
    const rill_pstate_entry *e = rill__pstate_get(&ps, 1);
    assert_non_null(e);
    assert_int_equal(rill__pstate_last(e)->last_seq, 69);
    /* expiry by last timestamp */
    assert_int_equal(rill__pstate_update(&ps, 2, 0, 0, 0, 1000, 1000, 5000), 0);
    assert_int_equal(rill__pstate_expire(&ps, 5005, 10), 1);
    assert_null(rill__pstate_get(&ps, 1));
    assert_non_null(rill__pstate_get(&ps, 2));
    rill__pstate_free(&ps);
}

static void snapshot_round_trip(void **state) {
    (void)state;
    rill_pstate ps, back;
    rill__pstate_init(&ps);
    rill__pstate_init(&back);
    for (int p = 0; p < 20; p++)
        for (int i = 0; i < p % 7 + 1; i++)
            rill__pstate_update(&ps, 1000 + p, (int16_t)(p % 3), i * 2, i * 2 + 1, p * 100 + i * 2,
                                p * 100 + i * 2 + 1, 77 + p);
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(rill__pstate_encode(&ps, 5000, &b), 0);
    int64_t off = -1;
    assert_int_equal(rill__pstate_decode(&back, b.data, b.len, &off), 0);
    assert_int_equal(off, 5000);
    assert_int_equal(back.map.n, 20);
    for (int p = 0; p < 20; p++) {
        const rill_pstate_entry *x = rill__pstate_get(&ps, 1000 + p),
                                *y = rill__pstate_get(&back, 1000 + p);
        assert_non_null(y);
        assert_int_equal(x->epoch, y->epoch);
        assert_int_equal(x->n, y->n);
        assert_int_equal(x->last_ts, y->last_ts);
        assert_memory_equal(rill__pstate_last(x), rill__pstate_last(y), sizeof(rill_pstate_batch));
        rill_pstate_verdict v;
        rill_pstate_batch d;
        /* every remembered batch is still a duplicate */
        for (int i = 0; i < x->n; i++) {
            int k = (p % 7 + 1) - x->n + i;
            assert_int_equal(check(&back, 1000 + p, (int16_t)(p % 3), k * 2, k * 2 + 1, &v, &d), 0);
            assert_int_equal(v, RILL_PSTATE_DUPLICATE);
            assert_int_equal(d.first_offset, p * 100 + k * 2);
        }
    }
    /* Any flipped byte is caught by the CRC; truncation too. */
    for (size_t i = 0; i < b.len; i += 7) {
        b.data[i] ^= 0x10;
        assert_int_equal(rill__pstate_decode(&back, b.data, b.len, &off), -1);
        assert_int_equal(back.map.n, 0);
        b.data[i] ^= 0x10;
    }
    assert_int_equal(rill__pstate_decode(&back, b.data, b.len - 1, &off), -1);
    rill__buf_free(&b);
    rill__pstate_free(&ps);
    rill__pstate_free(&back);
}

/* ---- through the log ------------------------------------------------------------------ */

typedef log_fx fx;
#define setup log_fx_setup
#define teardown log_fx_teardown

static rill_err_t produce(fx *f, int64_t pid, int16_t epoch, int32_t seq, int n,
                          rill_log_append_info *info) {
    tb_opts o = tb_defaults();
    o.pid = pid;
    o.epoch = epoch;
    o.seq = seq;
    rill_buf b;
    rill__buf_init(&b, 0);
    tb_batch(&b, n, &o);
    rill_err_t err = rill__log_append(f->log, b.data, b.len, 0, info);
    rill__buf_free(&b);
    return err;
}

/* The checks every restart must preserve: retries of the last batches are duplicates. */
static void expect_state(fx *f) {
    rill_log_append_info info;
    int64_t leo = rill__log_end_offset(f->log);
    assert_int_equal(produce(f, 42, 1, 6, 2, &info), 0); /* retry of the batch at 6..7 */
    assert_true(info.duplicate);
    assert_int_equal(info.base_offset, 6);
    assert_int_equal(info.last_offset, 7);
    assert_int_equal(produce(f, 42, 1, 3, 3, &info), 0); /* retry of 3..5 */
    assert_true(info.duplicate);
    assert_int_equal(info.base_offset, 3);
    assert_int_equal(produce(f, 42, 1, 9, 1, &info), RILL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER);
    assert_int_equal(produce(f, 42, 0, 8, 1, &info), RILL_ERR_INVALID_PRODUCER_EPOCH);
    assert_int_equal(produce(f, 43, 0, 1, 1, &info), 0); /* the other producer: next is 1 */
    assert_false(info.duplicate);
    assert_int_equal(info.base_offset, leo);
    assert_int_equal(produce(f, 43, 0, 1, 1, &info), 0);
    assert_true(info.duplicate);
    assert_int_equal(info.base_offset, leo);
    assert_int_equal(rill__log_end_offset(f->log), leo + 1);
}

static void dedup_in_log(void **state) {
    fx *f = *state;
    assert_int_equal(rill__log_open(f->logdir, &f->cfg, 0, &f->log), 0);
    rill_log_append_info info;
    assert_int_equal(produce(f, 42, 1, 0, 3, &info), 0); /* 0..2 */
    assert_int_equal(produce(f, 42, 1, 3, 3, &info), 0); /* 3..5 */
    assert_int_equal(produce(f, 42, 1, 6, 2, &info), 0); /* 6..7 */
    assert_int_equal(produce(f, 43, 0, 0, 1, &info), 0); /* 8 */
    assert_int_equal(info.base_offset, 8);
    assert_int_equal(produce(f, 42, 1, 3, 3, &info), 0);
    assert_true(info.duplicate);
    assert_int_equal(info.base_offset, 3);
    assert_int_equal(info.batches, 0);
    assert_int_equal(rill__log_end_offset(f->log), 9);
    expect_state(f);
}

static void rebuild_after_restarts(void **state) {
    fx *f = *state;
    for (int mode = 0; mode < 3; mode++) {
        /* 0: crash, no snapshot at all; 1: clean close (snapshot at LEO);
         * 2: roll (snapshot at the new segment) then more appends, then crash. */
        rill__log_abandon(f->log);
        f->log = NULL;
        rill__fs_rmrf(f->logdir);
        rill_log_config cfg = f->cfg;
        if (mode == 2) {
            tb_opts o = tb_defaults();
            o.pid = 42;
            cfg.segment_bytes = tb_size(3, &o) * 2;
        }
        assert_int_equal(rill__log_open(f->logdir, &cfg, 0, &f->log), 0);
        rill_log_append_info info;
        assert_int_equal(produce(f, 42, 1, 0, 3, &info), 0);
        assert_int_equal(produce(f, 42, 1, 3, 3, &info), 0);
        assert_int_equal(produce(f, 42, 1, 6, 2, &info), 0);
        assert_int_equal(produce(f, 43, 0, 0, 1, &info), 0);
        assert_int_equal(info.base_offset, 8);
        if (mode == 2)
            assert_true(rill__log_segment_count(f->log) >= 2);
        if (mode == 1) {
            assert_int_equal(rill__log_close(f->log), 0);
        } else {
            rill__log_abandon(f->log);
        }
        f->log = NULL;
        char snap[600];
        snprintf(snap, sizeof(snap), "%s/00000000000000000009.snapshot", f->logdir);
        assert_int_equal(tfile_size(snap) > 0, mode == 1);
        assert_int_equal(
            rill__log_open(f->logdir, &cfg, mode == 1 ? RILL_LOG_OPEN_CLEAN : 0, &f->log), 0);
        assert_int_equal(rill__log_end_offset(f->log), 9);
        const rill_pstate_entry *e = rill__pstate_get(rill__log_producers(f->log), 42);
        assert_non_null(e);
        assert_int_equal(e->epoch, 1);
        assert_int_equal(e->n, 3);
        expect_state(f);
    }
}

/* A snapshot newer than the recovered log end (its data was lost) must not be used. */
static void snapshot_from_the_future(void **state) {
    fx *f = *state;
    assert_int_equal(rill__log_open(f->logdir, &f->cfg, 0, &f->log), 0);
    rill_log_append_info info;
    assert_int_equal(produce(f, 42, 1, 0, 3, &info), 0);
    assert_int_equal(produce(f, 42, 1, 3, 3, &info), 0);
    int64_t keep = 0;
    {
        rill_log_read r;
        assert_int_equal(rill__log_read(f->log, 0, 1, &r), 0);
        keep = r.len;
        rill__log_read_done(&r);
    }
    assert_int_equal(rill__log_close(f->log), 0); /* snapshot at 6: knows seq 3..5 */
    f->log = NULL;
    char p[600];
    snprintf(p, sizeof(p), "%s/00000000000000000000.log", f->logdir);
    assert_int_equal(truncate(p, keep + 10), 0); /* lose most of the second batch */
    assert_int_equal(rill__log_open(f->logdir, &f->cfg, 0, &f->log), 0);
    assert_int_equal(rill__log_end_offset(f->log), 3);
    snprintf(p, sizeof(p), "%s/00000000000000000006.snapshot", f->logdir);
    assert_int_equal(tfile_size(p), -1);
    /* Seq 3..5 was lost with its data: it is new again, not a duplicate. */
    assert_int_equal(produce(f, 42, 1, 3, 3, &info), 0);
    assert_false(info.duplicate);
    assert_int_equal(info.base_offset, 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(decisions),
        cmocka_unit_test(five_batch_window),
        cmocka_unit_test(snapshot_round_trip),
        cmocka_unit_test_setup_teardown(dedup_in_log, setup, teardown),
        cmocka_unit_test_setup_teardown(rebuild_after_restarts, setup, teardown),
        cmocka_unit_test_setup_teardown(snapshot_from_the_future, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
