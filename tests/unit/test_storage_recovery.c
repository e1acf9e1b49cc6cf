/*
 * test_storage_recovery.c -- reopening a log after a crash: garbage appended, a batch cut
 * in the middle, a zero-filled tail, a bad CRC, an empty segment, missing or garbage index
 * files, damage in an older unflushed segment, an index setting lowered since.  After each, the log
 * must end at the last good batch, serve every offset through its indexes, and continue at the
 * right offset.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/storage/batch_hdr.h"
#include "broker/storage/index.h"
#include "broker/storage/log.h"
#include "test_storage_util.h"

typedef log_fx fx;
#define open_log log_fx_open

/* Size of the 3-record batches used throughout. */
static int64_t bsize(void) {
    tb_opts o = tb_defaults();
    return tb_size(3, &o);
}

static int setup(void **state) {
    log_fx_setup(state);
    fx *f = *state;
    f->cfg.index_interval_bytes = 1; /* an index entry per batch: exercise the indexes */
    return 0;
}
#define teardown log_fx_teardown

/* Appends n batches of 3 records with timestamps 1000 + 10*batch. */
static void append_batches(fx *f, int n) {
    for (int i = 0; i < n; i++) {
        tb_opts o = tb_defaults();
        int64_t first = rill__log_end_offset(f->log);
        o.base_ts = 1000 + 10 * (first / 3);
        rill_buf b;
        rill__buf_init(&b, 0);
        tb_batch(&b, 3, &o);
        rill_log_append_info info;
        assert_int_equal(rill__log_append(f->log, b.data, b.len, 0, &info), 0);
        assert_int_equal(info.base_offset, first);
        rill__buf_free(&b);
    }
}

/* The crash: drop the log without any clean-close work. */
static void crash(fx *f) {
    rill__log_abandon(f->log);
    f->log = NULL;
}

static void seg_path(fx *f, int64_t base, const char *sfx, char *out, size_t cap) {
    snprintf(out, cap, "%s/%020lld%s", f->logdir, (long long)base, sfx);
}

static void append_bytes(fx *f, int64_t base, const void *p, size_t n) {
    char path[600];
    seg_path(f, base, ".log", path, sizeof(path));
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
}

static void flip_byte(fx *f, int64_t base, int64_t pos) {
    char path[600];
    seg_path(f, base, ".log", path, sizeof(path));
    int fd = open(path, O_RDWR);
    uint8_t c;
    assert_int_equal(pread(fd, &c, 1, pos), 1);
    c ^= 0x5a;
    assert_int_equal(pwrite(fd, &c, 1, pos), 1);
    close(fd);
}

/*
 * Checks the whole log: LEO, every offset readable with the batch containing it, every
 * returned batch CRC-valid, and that the next append gets the LEO.
 */
static void verify(fx *f, int64_t leo) {
    assert_int_equal(rill__log_end_offset(f->log), leo);
    assert_int_equal(rill__log_high_watermark(f->log), leo);
    for (int64_t off = rill__log_start_offset(f->log); off < leo; off++) {
        rill_log_read r;
        assert_int_equal(rill__log_read(f->log, off, 1, &r), 0);
        assert_int_equal(r.first_offset, off - off % 3);
        assert_int_equal(r.len, bsize());
        uint8_t *p = malloc((size_t)r.len);
        assert_int_equal(rill__fs_pread_all(r.fd, p, (size_t)r.len, r.pos), 0);
        rill_batch_hdr h;
        assert_int_equal(rill__batch_hdr_get(p, &h), 0);
        assert_int_equal(h.base_offset, off - off % 3);
        assert_true(rill__batch_crc_ok(p, (size_t)r.len));
        free(p);
        rill__log_read_done(&r);
        /* the time index agrees */
        int64_t o2, ts;
        assert_int_equal(rill__log_offset_for_time(f->log, 1000 + 10 * (off / 3), &o2, &ts), 0);
        assert_int_equal(o2, off - off % 3);
    }
    rill_log_read r;
    assert_int_equal(rill__log_read(f->log, leo, 100, &r), 0);
    assert_int_equal(r.len, 0);
    append_batches(f, 1);
    assert_int_equal(rill__log_end_offset(f->log), leo + 3);
}

static void garbage_appended(void **state) {
    fx *f = *state;
    open_log(f, 0);
    append_batches(f, 5);
    crash(f);
    uint8_t junk[777];
    for (size_t i = 0; i < sizeof(junk); i++)
        junk[i] = (uint8_t)(i * 37 + 11);
    append_bytes(f, 0, junk, sizeof(junk));
    open_log(f, 0);
    char p[600];
    seg_path(f, 0, ".log", p, sizeof(p));
    assert_int_equal(tfile_size(p), bsize() * 5);
    verify(f, 15);
}

static void garbage_that_looks_like_a_header(void **state) {
    fx *f = *state;
    open_log(f, 0);
    append_batches(f, 3);
    crash(f);
    /* A plausible header (right offset, magic 2) whose CRC does not match. */
    tb_opts o = tb_defaults();
    rill_buf b;
    rill__buf_init(&b, 0);
    tb_batch(&b, 3, &o);
    rill__st64(b.data, 9);
    b.data[b.len - 1] ^= 1;
    append_bytes(f, 0, b.data, b.len);
    rill__buf_free(&b);
    open_log(f, 0);
    verify(f, 9);
}

static void cut_mid_batch(void **state) {
    fx *f = *state;
    open_log(f, 0);
    append_batches(f, 4);
    crash(f);
    char p[600];
    seg_path(f, 0, ".log", p, sizeof(p));
    for (int64_t cut = bsize() * 3 + 1; cut < bsize() * 4; cut += 17) {
        assert_int_equal(truncate(p, cut), 0);
        open_log(f, 0);
        assert_int_equal(tfile_size(p), bsize() * 3);
        assert_int_equal(rill__log_end_offset(f->log), 9);
        append_batches(f, 1); /* back to 4 batches for the next cut */
        crash(f);
    }
    open_log(f, 0);
    verify(f, 12);
}

static void zero_tail(void **state) {
    fx *f = *state;
    open_log(f, 0);
    append_batches(f, 2);
    crash(f);
    uint8_t zeros[8192] = {0};
    append_bytes(f, 0, zeros, sizeof(zeros));
    open_log(f, 0);
    char p[600];
    seg_path(f, 0, ".log", p, sizeof(p));
    assert_int_equal(tfile_size(p), bsize() * 2);
    verify(f, 6);
}

static void bad_crc_in_the_middle(void **state) {
    fx *f = *state;
    open_log(f, 0);
    append_batches(f, 6);
    crash(f);
    flip_byte(f, 0, bsize() * 2 + RILL_BATCH_HDR_LEN + 3); /* a record byte of batch 3 */
    open_log(f, 0);
    verify(f, 6); /* batches 3..6 are gone: nothing after a bad byte is trusted */
}

static void empty_and_missing(void **state) {
    fx *f = *state;
    /* A log directory whose only segment is empty. */
    open_log(f, 0);
    crash(f);
    open_log(f, 0);
    assert_int_equal(rill__log_end_offset(f->log), 0);
    append_batches(f, 2);
    crash(f);
    /* An empty newer segment (a roll interrupted by the crash) becomes the active one. */
    char p[600];
    seg_path(f, 6, ".log", p, sizeof(p));
    int fd = open(p, O_CREAT | O_WRONLY, 0644);
    close(fd);
    open_log(f, 0);
    assert_int_equal(rill__log_segment_count(f->log), 2);
    verify(f, 6);
    assert_int_equal(rill__log_segment_base(f->log, 1), 6);
}

static void missing_and_garbage_indexes(void **state) {
    fx *f = *state;
    f->cfg.segment_bytes = bsize() * 3;
    open_log(f, 0);
    append_batches(f, 8); /* segments 0 (0-8), 9 (9-17), 18 (18-23) */
    assert_int_equal(rill__log_segment_count(f->log), 3);
    assert_int_equal(rill__log_close(f->log), 0);
    f->log = NULL;
    char p[600];
    seg_path(f, 0, ".index", p, sizeof(p));
    assert_true(tfile_size(p) > 0);
    assert_int_equal(unlink(p), 0);
    seg_path(f, 18, ".timeindex", p, sizeof(p));
    assert_int_equal(unlink(p), 0);
    /* Zeros that pass a size check but not the entry checks. */
    seg_path(f, 9, ".index", p, sizeof(p));
    int fd = open(p, O_WRONLY | O_TRUNC);
    uint8_t zeros[16] = {0};
    assert_int_equal(write(fd, zeros, sizeof(zeros)), 16);
    close(fd);
    open_log(f, RILL_LOG_OPEN_CLEAN);
    verify(f, 24);
    seg_path(f, 0, ".index", p, sizeof(p));
    assert_true(tfile_size(p) > 0); /* rebuilt and written again */
}

static void damage_in_older_unflushed_segment(void **state) {
    fx *f = *state;
    f->cfg.segment_bytes = bsize() * 2;
    open_log(f, 0);
    append_batches(f, 6); /* segments 0, 6, 12; nothing flushed: recovery point 0 */
    crash(f);
    flip_byte(f, 6, bsize() + 30); /* second batch of segment 6 */
    open_log(f, 0);
    assert_int_equal(rill__log_segment_count(f->log), 2);
    char p[600];
    seg_path(f, 12, ".log", p, sizeof(p));
    assert_int_equal(tfile_size(p), -1); /* later segments deleted */
    verify(f, 9);
}

static void recovery_point_bounds_the_scan(void **state) {
    fx *f = *state;
    f->cfg.segment_bytes = bsize() * 2;
    open_log(f, 0);
    append_batches(f, 4); /* segments 0, 6 */
    int64_t flushed;
    assert_int_equal(rill__log_flush(f->log, &flushed), 0);
    assert_int_equal(flushed, 12);
    assert_int_equal(rill__log_checkpoint(f->log, 0), 0);
    append_batches(f, 2); /* segment 12: after the recovery point */
    crash(f);
    /* Damage a record byte in segment 0: it is below the recovery point, so it is trusted
     * (Kafka does not rescan flushed segments either).  Damage in segment 12 is found. */
    flip_byte(f, 0, RILL_BATCH_HDR_LEN + 5);
    flip_byte(f, 12, bsize() + 30);
    open_log(f, 0);
    assert_int_equal(rill__log_segment_count(f->log), 3);
    assert_int_equal(rill__log_end_offset(f->log), 15);
}

/*
 * segment.index.bytes lowered between runs: the segment's rebuilt index fills up before
 * its end.  That only makes the index sparser; it once truncated the log there as if the
 * batch were corrupt, after a crash and after a clean close alike.
 */
static void smaller_index_setting_loses_nothing(void **state) {
    fx *f = *state;
    for (int clean = 0; clean < 2; clean++) {
        f->cfg.segment_index_bytes = 10 * 1024 * 1024;
        open_log(f, 0);
        int64_t leo0 = rill__log_end_offset(f->log);
        append_batches(f, 40); /* an index entry per batch (setup) */
        if (clean) {
            assert_int_equal(rill__log_close(f->log), 0);
            f->log = NULL;
        } else {
            crash(f);
        }
        f->cfg.segment_index_bytes = 10 * RILL_OIDX_ENTRY; /* room for 10 entries */
        open_log(f, clean ? RILL_LOG_OPEN_CLEAN : 0);
        assert_int_equal(rill__log_end_offset(f->log), leo0 + 120);
        verify(f, leo0 + 120); /* every offset, through the sparse indexes; appends roll */
        assert_int_equal(rill__log_close(f->log), 0);
        f->log = NULL;
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(garbage_appended, setup, teardown),
        cmocka_unit_test_setup_teardown(garbage_that_looks_like_a_header, setup, teardown),
        cmocka_unit_test_setup_teardown(cut_mid_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(zero_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_crc_in_the_middle, setup, teardown),
        cmocka_unit_test_setup_teardown(empty_and_missing, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_and_garbage_indexes, setup, teardown),
        cmocka_unit_test_setup_teardown(damage_in_older_unflushed_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(recovery_point_bounds_the_scan, setup, teardown),
        cmocka_unit_test_setup_teardown(smaller_index_setting_loses_nothing, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
