/*
 * test_storage_log.c -- the partition log: offsets, reads for fetch, index lookups, rolls,
 * retention, ListOffsets, flush and the high watermark, with real v2 batch bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/storage/batch_hdr.h"
#include "broker/storage/log.h"
#include "test_storage_util.h"

typedef log_fx fx;
#define setup log_fx_setup
#define teardown log_fx_teardown
#define open_log log_fx_open

/* Appends one batch of n records; returns its base offset. */
static int64_t append_n(fx *f, int n, const tb_opts *o, int64_t now) {
    rill_buf b;
    rill__buf_init(&b, 0);
    tb_batch(&b, n, o);
    rill_log_append_info info;
    assert_int_equal(rill__log_append(f->log, b.data, b.len, now, &info), 0);
    assert_int_equal(info.last_offset - info.base_offset + 1, n);
    rill__buf_free(&b);
    return info.base_offset;
}

/* Reads [pos, pos+len) of the fd in a read result. */
static uint8_t *read_range(const rill_log_read *r) {
    uint8_t *p = malloc((size_t)r->len + 1);
    assert_int_equal(rill__fs_pread_all(r->fd, p, (size_t)r->len, r->pos), 0);
    return p;
}

/* Counts whole, CRC-valid batches in a buffer and checks their offsets follow. */
static int check_batches(const uint8_t *p, int64_t len, int64_t first_offset) {
    int n = 0;
    int64_t next = first_offset;
    for (int64_t off = 0; off < len;) {
        rill_batch_hdr h;
        assert_true(len - off >= RILL_BATCH_HDR_LEN);
        assert_int_equal(rill__batch_hdr_get(p + off, &h), 0);
        assert_true(h.size <= len - off);
        assert_true(rill__batch_crc_ok(p + off, (size_t)h.size));
        assert_int_equal(h.base_offset, next);
        next = h.base_offset + h.last_delta + 1;
        off += h.size;
        n++;
    }
    return n;
}

static void round_trip(void **state) {
    fx *f = *state;
    open_log(f, 0);
    tb_opts o = tb_defaults();
    rill_buf all;
    rill__buf_init(&all, 0);
    int sizes[] = {1, 3, 5};
    int64_t expect = 0;
    for (int i = 0; i < 3; i++) {
        rill_buf b;
        rill__buf_init(&b, 0);
        tb_batch(&b, sizes[i], &o);
        rill_log_append_info info;
        assert_int_equal(rill__log_append(f->log, b.data, b.len, 5000, &info), 0);
        assert_int_equal(info.base_offset, expect);
        assert_int_equal(info.last_offset, expect + sizes[i] - 1);
        assert_int_equal(info.batches, 1);
        assert_int_equal(info.duplicate, 0);
        /* The caller's buffer now holds the stored bytes: baseOffset patched, CRC intact. */
        assert_int_equal((int64_t)rill__ld64(b.data), expect);
        assert_true(rill__batch_crc_ok(b.data, b.len));
        rill__buf_append(&all, b.data, b.len);
        rill__buf_free(&b);
        expect += sizes[i];
    }
    assert_int_equal(rill__log_end_offset(f->log), 9);
    assert_int_equal(rill__log_high_watermark(f->log), 9);
    assert_int_equal(rill__log_start_offset(f->log), 0);

    rill_log_read r;
    assert_int_equal(rill__log_read(f->log, 0, 1 << 20, &r), 0);
    assert_int_equal(r.pos, 0);
    assert_int_equal(r.len, (int64_t)all.len);
    assert_int_equal(r.first_offset, 0);
    assert_int_equal(r.next_offset, 9);
    assert_int_equal(r.high_watermark, 9);
    uint8_t *p = read_range(&r);
    assert_memory_equal(p, all.data, all.len);
    assert_int_equal(check_batches(p, r.len, 0), 3);
    free(p);
    rill__log_read_done(&r);
    rill__buf_free(&all);

    /* At the log end: nothing, no error.  Past it or below the start: out of range. */
    assert_int_equal(rill__log_read(f->log, 9, 100, &r), 0);
    assert_int_equal(r.len, 0);
    assert_int_equal(r.next_offset, -1);
    assert_int_equal(rill__log_read(f->log, 10, 100, &r), RILL_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(r.high_watermark, 9);
    assert_int_equal(rill__log_read(f->log, -1, 100, &r), RILL_ERR_OFFSET_OUT_OF_RANGE);
}

static void read_mid_batch_and_max_bytes(void **state) {
    fx *f = *state;
    open_log(f, 0);
    tb_opts o = tb_defaults();
    append_n(f, 4, &o, 0); /* 0..3 */
    append_n(f, 4, &o, 0); /* 4..7 */
    append_n(f, 4, &o, 0); /* 8..11 */
    rill_log_read r;
    assert_int_equal(rill__log_read(f->log, 0, 1 << 20, &r), 0);
    int64_t total = r.len, bsize = total / 3;
    rill__log_read_done(&r);
    assert_int_equal(bsize * 3, total);

    /* A fetch inside a batch gets that whole batch. */
    for (int64_t off = 4; off < 8; off++) {
        assert_int_equal(rill__log_read(f->log, off, 1 << 20, &r), 0);
        assert_int_equal(r.first_offset, 4);
        assert_int_equal(r.pos, bsize);
        assert_int_equal(r.len, 2 * bsize);
        rill__log_read_done(&r);
    }
    /* max_bytes: whole batches only, but at least one even when it is larger (KIP-74). */
    assert_int_equal(rill__log_read(f->log, 0, 1, &r), 0);
    assert_int_equal(r.len, bsize);
    assert_int_equal(r.next_offset, 4);
    rill__log_read_done(&r);
    assert_int_equal(rill__log_read(f->log, 0, 0, &r), 0);
    assert_int_equal(r.len, bsize);
    rill__log_read_done(&r);
    assert_int_equal(rill__log_read(f->log, 0, 2 * bsize - 1, &r), 0);
    assert_int_equal(r.len, bsize);
    rill__log_read_done(&r);
    assert_int_equal(rill__log_read(f->log, 0, 2 * bsize, &r), 0);
    assert_int_equal(r.len, 2 * bsize);
    assert_int_equal(r.next_offset, 8);
    rill__log_read_done(&r);
    assert_int_equal(rill__log_read(f->log, 5, 2 * bsize + 7, &r), 0);
    assert_int_equal(r.len, 2 * bsize);
    assert_int_equal(r.first_offset, 4);
    assert_int_equal(r.next_offset, 12);
    rill__log_read_done(&r);
}

/* With a tiny index interval, every offset of every batch is found through the index. */
static void index_lookup_every_offset(void **state) {
    fx *f = *state;
    f->cfg.index_interval_bytes = 100;
    open_log(f, 0);
    tb_opts o = tb_defaults();
    int64_t bases[64], sizes[64], positions[64];
    int nb = 0;
    int64_t pos = 0;
    for (int i = 0; i < 60; i++) {
        o.value_len = (size_t)(i % 7) * 5;
        int n = 1 + i % 5;
        rill_buf b;
        rill__buf_init(&b, 0);
        tb_batch(&b, n, &o);
        rill_log_append_info info;
        assert_int_equal(rill__log_append(f->log, b.data, b.len, 0, &info), 0);
        bases[nb] = info.base_offset;
        sizes[nb] = (int64_t)b.len;
        positions[nb++] = pos;
        pos += (int64_t)b.len;
        rill__buf_free(&b);
    }
    int64_t leo = rill__log_end_offset(f->log);
    for (int pass = 0; pass < 2; pass++) {
        for (int64_t off = 0; off < leo; off++) {
            int k = nb - 1;
            while (bases[k] > off)
                k--;
            rill_log_read r;
            assert_int_equal(rill__log_read(f->log, off, 1, &r), 0);
            assert_int_equal(r.first_offset, bases[k]);
            assert_int_equal(r.pos, positions[k]);
            assert_int_equal(r.len, sizes[k]);
            assert_int_equal(r.next_offset, k + 1 < nb ? bases[k + 1] : leo);
            rill__log_read_done(&r);
            /* max_bytes spanning several batches ends on a batch boundary (found through
             * the index, then batch headers); next_offset is the offset after it. */
            assert_int_equal(rill__log_read(f->log, off, 350, &r), 0);
            int64_t want = sizes[k];
            int j = k + 1;
            for (; j < nb && want + sizes[j] <= 350; j++)
                want += sizes[j];
            assert_int_equal(r.len, want);
            assert_int_equal(r.next_offset, j < nb ? bases[j] : leo);
            rill__log_read_done(&r);
        }
        /* Second pass: after a clean reopen the indexes come from the files. */
        assert_int_equal(rill__log_close(f->log), 0);
        f->log = NULL;
        open_log(f, RILL_LOG_OPEN_CLEAN);
        assert_int_equal(rill__log_end_offset(f->log), leo);
    }
}

static void roll_by_size(void **state) {
    fx *f = *state;
    tb_opts o = tb_defaults();
    int64_t bs = tb_size(2, &o);
    f->cfg.segment_bytes = bs * 3; /* three batches per segment */
    open_log(f, 0);
    for (int i = 0; i < 10; i++)
        assert_int_equal(append_n(f, 2, &o, 0), 2 * i);
    assert_int_equal(rill__log_segment_count(f->log), 4);
    assert_int_equal(rill__log_segment_base(f->log, 0), 0);
    assert_int_equal(rill__log_segment_base(f->log, 1), 6);
    assert_int_equal(rill__log_segment_base(f->log, 2), 12);
    assert_int_equal(rill__log_segment_base(f->log, 3), 18);
    char p[600];
    snprintf(p, sizeof(p), "%s/00000000000000000006.log", f->logdir);
    assert_int_equal(tfile_size(p), (long long)bs * 3);
    snprintf(p, sizeof(p), "%s/00000000000000000006.index", f->logdir);
    assert_true(tfile_size(p) >= 0); /* written on roll */
    snprintf(p, sizeof(p), "%s/00000000000000000018.log", f->logdir);
    assert_int_equal(tfile_size(p), (long long)bs);
    /* A read stays inside one segment. */
    rill_log_read r;
    assert_int_equal(rill__log_read(f->log, 7, 1 << 20, &r), 0);
    assert_int_equal(r.first_offset, 6);
    assert_int_equal(r.len, bs * 3);
    rill__log_read_done(&r);
    assert_int_equal(rill__log_read(f->log, 19, 1 << 20, &r), 0);
    assert_int_equal(r.first_offset, 18);
    assert_int_equal(r.len, bs);
    rill__log_read_done(&r);
    /* A batch larger than a segment cannot be stored. */
    rill_buf b;
    rill__buf_init(&b, 0);
    o.value_len = 1000;
    tb_batch(&b, 3, &o);
    rill_log_append_info info;
    assert_int_equal(rill__log_append(f->log, b.data, b.len, 0, &info),
                     RILL_ERR_RECORD_LIST_TOO_LARGE);
    rill__buf_free(&b);
    assert_int_equal(rill__log_end_offset(f->log), 20);
}

/* Bytes of disk a file holds (its allocated blocks), -1 when it cannot be stat'ed. */
static long long tfile_blocks_bytes(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (long long)st.st_blocks * 512 : -1;
}

/*
 * With preallocate, the active segment's blocks are reserved ahead of the appends (fallocate, file
 * size unchanged) and given back when it rolls and when the log closes; what is stored and read
 * back is the same either way.  On a file system without fallocate nothing is reserved and only the
 * "given back" half can be seen.
 */
static void reserve_ahead_and_give_back(void **state) {
    fx *f = *state;
    tb_opts o = tb_defaults();
    o.value_len = 1000;
    int64_t bs = tb_size(100, &o);
    f->cfg.segment_bytes = bs * 40;
    f->cfg.preallocate = 1;
    open_log(f, 0);
    for (int i = 0; i < 50; i++)
        assert_int_equal(append_n(f, 100, &o, 0), 100 * i);
    assert_int_equal(rill__log_segment_count(f->log), 2);
    char sealed[600], active[600];
    snprintf(sealed, sizeof(sealed), "%s/00000000000000000000.log", f->logdir);
    snprintf(active, sizeof(active), "%s/00000000000000004000.log", f->logdir);
    assert_int_equal(tfile_size(sealed), (long long)bs * 40);
    assert_int_equal(tfile_size(active), (long long)bs * 10);
    /* Rolled: nothing past the data (block rounding aside). */
    assert_true(tfile_blocks_bytes(sealed) < bs * 40 + 4096 * 2);
    long long held = tfile_blocks_bytes(active);
    if (held > bs * 10 + 4096 * 2)
        assert_true(held <= bs * 40); /* reserved, never past the segment size */
    rill_log_read r;
    assert_int_equal(rill__log_read(f->log, 4000, 1 << 30, &r), 0);
    uint8_t *p = read_range(&r);
    assert_int_equal(check_batches(p, r.len, 4000), 10);
    free(p);
    rill__log_read_done(&r);
    assert_int_equal(rill__log_close(f->log), 0);
    f->log = NULL;
    assert_int_equal(tfile_size(active), (long long)bs * 10);
    assert_true(tfile_blocks_bytes(active) < bs * 10 + 4096 * 2);
    open_log(f, RILL_LOG_OPEN_CLEAN);
    assert_int_equal(rill__log_end_offset(f->log), 5000);
}

static void roll_by_age(void **state) {
    fx *f = *state;
    f->cfg.segment_ms = 1000;
    open_log(f, 0);
    tb_opts o = tb_defaults();
    o.base_ts = 50000;
    append_n(f, 1, &o, 50000);
    append_n(f, 1, &o, 50900); /* first batch's timestamp is 50000 */
    assert_int_equal(rill__log_segment_count(f->log), 1);
    append_n(f, 1, &o, 51000); /* exactly segment.ms: not yet */
    assert_int_equal(rill__log_segment_count(f->log), 1);
    append_n(f, 1, &o, 51001);
    assert_int_equal(rill__log_segment_count(f->log), 2);
    assert_int_equal(rill__log_segment_base(f->log, 1), 3);
    /* The new segment's age runs from its own first batch. */
    o.base_ts = 60000;
    append_n(f, 1, &o, 60000);
    assert_int_equal(rill__log_segment_count(f->log), 3);
    append_n(f, 1, &o, 60500);
    assert_int_equal(rill__log_segment_count(f->log), 3);
    /* Without timestamps (-1) the age runs from the segment's creation, here the roll. */
    o.base_ts = -1;
    o.ts_step = 0;
    append_n(f, 1, &o, 70000); /* rolls (60000 is old): new segment created at 70000 */
    assert_int_equal(rill__log_segment_count(f->log), 4);
    append_n(f, 1, &o, 71000);
    assert_int_equal(rill__log_segment_count(f->log), 4);
    append_n(f, 1, &o, 71001);
    assert_int_equal(rill__log_segment_count(f->log), 5);
}

static void retention_by_size(void **state) {
    fx *f = *state;
    tb_opts o = tb_defaults();
    int64_t bs = tb_size(1, &o);
    f->cfg.segment_bytes = bs * 2;
    f->cfg.retention_bytes = bs * 5;
    f->cfg.retention_ms = -1;
    open_log(f, 0);
    for (int i = 0; i < 11; i++)
        append_n(f, 1, &o, 0);
    /* segments: [0,1] [2,3] [4,5] [6,7] [8,9] [10] = 11 batches */
    assert_int_equal(rill__log_segment_count(f->log), 6);
    /* Deleting whole segments from the oldest while the rest still holds >= 5 batches. */
    assert_int_equal(rill__log_retain(f->log, 0), 3);
    assert_int_equal(rill__log_segment_count(f->log), 3);
    assert_int_equal(rill__log_start_offset(f->log), 6);
    assert_int_equal(rill__log_size_bytes(f->log), bs * 5);
    char p[600];
    snprintf(p, sizeof(p), "%s/00000000000000000000.log", f->logdir);
    assert_int_equal(tfile_size(p), -1);
    snprintf(p, sizeof(p), "%s/00000000000000000004.index", f->logdir);
    assert_int_equal(tfile_size(p), -1);
    rill_log_read r;
    assert_int_equal(rill__log_read(f->log, 5, 100, &r), RILL_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(r.log_start_offset, 6);
    assert_int_equal(rill__log_read(f->log, 6, 100, &r), 0);
    assert_int_equal(r.first_offset, 6);
    rill__log_read_done(&r);
    assert_int_equal(rill__log_retain(f->log, 0), 0);
    int64_t off, ts;
    assert_int_equal(rill__log_offset_for_time(f->log, RILL_LIST_EARLIEST, &off, &ts), 0);
    assert_int_equal(off, 6);
    /* The start offset survives a reopen. */
    assert_int_equal(rill__log_close(f->log), 0);
    f->log = NULL;
    open_log(f, RILL_LOG_OPEN_CLEAN);
    assert_int_equal(rill__log_start_offset(f->log), 6);
    assert_int_equal(rill__log_end_offset(f->log), 11);
}

static void retention_by_time(void **state) {
    fx *f = *state;
    tb_opts o = tb_defaults();
    int64_t bs = tb_size(1, &o);
    f->cfg.segment_bytes = bs * 2;
    f->cfg.retention_ms = 10000;
    open_log(f, 0);
    /* Two segments with old records, one recent, and the active one. */
    int64_t ts[] = {1000, 2000, 3000, 4000, 50000, 51000, 52000};
    for (int i = 0; i < 7; i++) {
        o.base_ts = ts[i];
        append_n(f, 1, &o, ts[i]);
    }
    assert_int_equal(rill__log_segment_count(f->log), 4);
    /* now=14500: segment [0,1] (max 2000) expired; [2,3] (max 4000) not (10500 < 10000?) */
    assert_int_equal(rill__log_retain(f->log, 12001), 1);
    assert_int_equal(rill__log_start_offset(f->log), 2);
    assert_int_equal(rill__log_retain(f->log, 14000), 0);
    assert_int_equal(rill__log_retain(f->log, 14001), 1);
    assert_int_equal(rill__log_start_offset(f->log), 4);
    /* Everything expired: the active segment is rolled away too, the LEO stays. */
    assert_int_equal(rill__log_retain(f->log, 100000), 2);
    assert_int_equal(rill__log_segment_count(f->log), 1);
    assert_int_equal(rill__log_start_offset(f->log), 7);
    assert_int_equal(rill__log_end_offset(f->log), 7);
    assert_int_equal(rill__log_segment_base(f->log, 0), 7);
    rill_log_read r;
    assert_int_equal(rill__log_read(f->log, 7, 100, &r), 0);
    assert_int_equal(r.len, 0);
    /* An empty active segment is never deleted; appends continue at the LEO. */
    assert_int_equal(rill__log_retain(f->log, 200000), 0);
    o.base_ts = 200000;
    assert_int_equal(append_n(f, 2, &o, 200000), 7);
}

/*
 * cleanup.policy=compact (alone): retention by time and size deletes nothing (there is no
 * log cleaner: the topic is kept whole); compact,delete deletes as delete does; DeleteRecords
 * still moves the start of a compacted log.
 */
static void compacted_topics_are_kept(void **state) {
    fx *f = *state;
    tb_opts o = tb_defaults();
    int64_t bs = tb_size(1, &o);
    char err[128];
    f->cfg.segment_bytes = bs * 2;
    f->cfg.retention_bytes = bs;
    f->cfg.retention_ms = 1000;
    assert_int_equal(rill__log_config_set(&f->cfg, "cleanup.policy", "compact", err, sizeof(err)),
                     0);
    open_log(f, 0);
    for (int i = 0; i < 7; i++) {
        o.base_ts = 1000 + i;
        append_n(f, 1, &o, 1000 + i);
    }
    assert_int_equal(rill__log_retain(f->log, 1000000), 0);
    assert_int_equal(rill__log_start_offset(f->log), 0);
    assert_int_equal(rill__log_segment_count(f->log), 4);
    int64_t low;
    assert_int_equal(rill__log_delete_records(f->log, 3, &low), 0);
    assert_int_equal(low, 3);
    assert_int_equal(rill__log_segment_count(f->log), 3); /* [0,1] was wholly below */
    rill_log_config c = *rill__log_config(f->log);
    assert_int_equal(rill__log_config_set(&c, "cleanup.policy", "compact, delete", err, 128), 0);
    rill__log_set_config(f->log, &c);
    assert_int_equal(rill__log_retain(f->log, 1000000), 3); /* everything, active rolled */
    assert_int_equal(rill__log_start_offset(f->log), 7);
    char v[32];
    assert_int_equal(rill__log_config_get(&c, "cleanup.policy", v, sizeof(v)), 0);
    assert_string_equal(v, "compact,delete");
    assert_int_equal(rill__log_config_set(&c, "log.cleanup.policy", "delete", err, 128), 0);
    assert_int_equal(rill__log_config_get(&c, "cleanup.policy", v, sizeof(v)), 0);
    assert_string_equal(v, "delete");
    assert_int_equal(rill__log_config_set(&c, "cleanup.policy", "compact,shred", err, 128),
                     RILL_ERR_INVALID_CONFIG);
    assert_int_equal(rill__log_config_set(&c, "cleanup.policy", "", err, 128),
                     RILL_ERR_INVALID_CONFIG);
}

static void list_offsets_by_time(void **state) {
    fx *f = *state;
    f->cfg.index_interval_bytes = 1;
    f->cfg.retention_ms = -1;
    open_log(f, 0);
    tb_opts o = tb_defaults();
    /* batches: offsets 0-2 ts 100,110,120; 3-5 ts 200,210,220; 6-8 ts 150,160,170 */
    o.ts_step = 10;
    o.base_ts = 100;
    append_n(f, 3, &o, 0);
    o.base_ts = 200;
    append_n(f, 3, &o, 0);
    o.base_ts = 150;
    append_n(f, 3, &o, 0);
    int64_t off, ts;
    struct {
        int64_t q, off, ts;
    } cases[] = {
        {0, 0, 100},   {100, 0, 100}, {101, 1, 110}, {120, 2, 120}, {121, 3, 200},
        {155, 3, 200}, {200, 3, 200}, {205, 4, 210}, {220, 5, 220}, {221, -1, -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        assert_int_equal(rill__log_offset_for_time(f->log, cases[i].q, &off, &ts), 0);
        assert_int_equal(off, cases[i].off);
        assert_int_equal(ts, cases[i].ts);
    }
    assert_int_equal(rill__log_offset_for_time(f->log, RILL_LIST_EARLIEST, &off, &ts), 0);
    assert_int_equal(off, 0);
    assert_int_equal(ts, -1);
    assert_int_equal(rill__log_offset_for_time(f->log, RILL_LIST_LATEST, &off, &ts), 0);
    assert_int_equal(off, 9);
    assert_int_equal(rill__log_offset_for_time(f->log, RILL_LIST_MAX_TIMESTAMP, &off, &ts), 0);
    assert_int_equal(off, 5);
    assert_int_equal(ts, 220);
    /* Across segments and after reopen (time index from the files). */
    assert_int_equal(rill__log_close(f->log), 0);
    f->log = NULL;
    f->cfg.segment_bytes = 150; /* one 3-record batch per segment */
    open_log(f, RILL_LOG_OPEN_CLEAN);
    o.base_ts = 300;
    append_n(f, 3, &o, 0); /* 9-11 in a new segment */
    append_n(f, 1, &o, 0); /* 12 */
    assert_int_equal(rill__log_segment_count(f->log), 3);
    assert_int_equal(rill__log_offset_for_time(f->log, 305, &off, &ts), 0);
    assert_int_equal(off, 10);
    assert_int_equal(ts, 310);
    assert_int_equal(rill__log_offset_for_time(f->log, 211, &off, &ts), 0);
    assert_int_equal(off, 5);
    assert_int_equal(rill__log_offset_for_time(f->log, 221, &off, &ts), 0);
    assert_int_equal(off, 9);
}

static void log_append_time(void **state) {
    fx *f = *state;
    f->cfg.timestamp_type = RILL_TS_LOG_APPEND_TIME;
    open_log(f, 0);
    tb_opts o = tb_defaults();
    rill_buf b;
    rill__buf_init(&b, 0);
    tb_batch(&b, 3, &o);
    rill_log_append_info info;
    assert_int_equal(rill__log_append(f->log, b.data, b.len, 777777, &info), 0);
    assert_int_equal(info.log_append_time, 777777);
    rill_batch_hdr h;
    assert_int_equal(rill__batch_hdr_get(b.data, &h), 0);
    assert_int_equal(h.max_ts, 777777);
    assert_true(h.attrs & RILL_BATCH_ATTR_LOG_APPEND_TIME);
    assert_true(rill__batch_crc_ok(b.data, b.len)); /* recomputed */
    rill__buf_free(&b);
    int64_t off, ts;
    assert_int_equal(rill__log_offset_for_time(f->log, 5000, &off, &ts), 0);
    assert_int_equal(off, 0);
    assert_int_equal(ts, 777777);
}

static void bad_input(void **state) {
    fx *f = *state;
    f->cfg.max_message_bytes = 200;
    open_log(f, 0);
    tb_opts o = tb_defaults();
    rill_buf b;
    rill__buf_init(&b, 0);
    size_t n = tb_batch(&b, 1, &o);
    rill_log_append_info info;
    assert_int_equal(rill__log_append(f->log, b.data, n - 1, 0, &info), RILL_ERR_CORRUPT_MESSAGE);
    assert_int_equal(rill__log_append(f->log, b.data, 0, 0, &info), RILL_ERR_CORRUPT_MESSAGE);
    b.data[16] = 1; /* magic */
    assert_int_equal(rill__log_append(f->log, b.data, n, 0, &info), RILL_ERR_CORRUPT_MESSAGE);
    rill__buf_reset(&b);
    o.value_len = 300;
    tb_batch(&b, 1, &o);
    assert_int_equal(rill__log_append(f->log, b.data, b.len, 0, &info), RILL_ERR_MESSAGE_TOO_LARGE);
    rill__buf_free(&b);
    assert_int_equal(rill__log_end_offset(f->log), 0);
    /* Two batches in one call are fine when not idempotent. */
    rill__buf_init(&b, 0);
    o.value_len = 5;
    tb_batch(&b, 2, &o);
    tb_batch(&b, 3, &o);
    assert_int_equal(rill__log_append(f->log, b.data, b.len, 0, &info), 0);
    assert_int_equal(info.base_offset, 0);
    assert_int_equal(info.last_offset, 4);
    assert_int_equal(info.batches, 2);
    assert_int_equal((int64_t)rill__ld64(b.data + (b.len / 2 > 0 ? 0 : 0)), 0);
    rill__buf_free(&b);
    /* ... but not when one is idempotent (Kafka: one batch per partition in v2). */
    rill__buf_init(&b, 0);
    tb_batch(&b, 1, &o);
    o.pid = 5;
    o.epoch = 0;
    o.seq = 0;
    tb_batch(&b, 1, &o);
    assert_int_equal(rill__log_append(f->log, b.data, b.len, 0, &info), RILL_ERR_INVALID_RECORD);
    rill__buf_free(&b);
    /* An idempotent batch must carry a sequence. */
    rill__buf_init(&b, 0);
    o.seq = -1;
    tb_batch(&b, 1, &o);
    assert_int_equal(rill__log_append(f->log, b.data, b.len, 0, &info), RILL_ERR_INVALID_RECORD);
    rill__buf_free(&b);
    assert_int_equal(rill__log_end_offset(f->log), 5);
}

static void delete_records(void **state) {
    fx *f = *state;
    tb_opts o = tb_defaults();
    int64_t bs = tb_size(2, &o);
    f->cfg.segment_bytes = bs * 2;
    open_log(f, 0);
    for (int i = 0; i < 5; i++)
        append_n(f, 2, &o, 0); /* [0-3] [4-7] [8-9] */
    int64_t low;
    assert_int_equal(rill__log_delete_records(f->log, 11, &low), RILL_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(rill__log_delete_records(f->log, 5, &low), 0);
    assert_int_equal(low, 5);
    assert_int_equal(rill__log_segment_count(f->log), 2);
    rill_log_read r;
    assert_int_equal(rill__log_read(f->log, 4, 100, &r), RILL_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(rill__log_read(f->log, 5, 100, &r), 0);
    assert_int_equal(r.first_offset, 4); /* the batch containing 5 */
    rill__log_read_done(&r);
    assert_int_equal(rill__log_delete_records(f->log, 3, &low), 0);
    assert_int_equal(low, 5);
    /* Persisted at once: an unclean reopen keeps it. */
    rill__log_abandon(f->log);
    f->log = NULL;
    open_log(f, 0);
    assert_int_equal(rill__log_start_offset(f->log), 5);
    assert_int_equal(rill__log_delete_records(f->log, -1, &low), 0);
    assert_int_equal(low, 10);
    assert_int_equal(rill__log_end_offset(f->log), 10);
    assert_int_equal(append_n(f, 1, &o, 0), 10);
}

static void flush_and_high_watermark(void **state) {
    fx *f = *state;
    f->cfg.hw_flushed = 1;
    f->cfg.flush_messages = 5;
    f->cfg.flush_ms = 1000;
    open_log(f, 0);
    tb_opts o = tb_defaults();
    append_n(f, 2, &o, 100);
    assert_int_equal(rill__log_end_offset(f->log), 2);
    assert_int_equal(rill__log_flushed_offset(f->log), 0);
    assert_int_equal(rill__log_high_watermark(f->log), 0);
    /* Not flushed yet: invisible to fetches in this mode. */
    rill_log_read r;
    assert_int_equal(rill__log_read(f->log, 0, 100, &r), 0);
    assert_int_equal(r.len, 0);
    assert_int_equal(r.high_watermark, 0);
    assert_false(rill__log_flush_due(f->log, 200, 0));
    assert_true(rill__log_flush_due(f->log, 1100, 0)); /* flush.ms */
    append_n(f, 3, &o, 150);
    assert_true(rill__log_flush_due(f->log, 200, 0)); /* flush.messages */
    int64_t flushed;
    assert_int_equal(rill__log_flush(f->log, &flushed), 0);
    assert_int_equal(flushed, 5);
    assert_int_equal(rill__log_high_watermark(f->log), 5);
    assert_false(rill__log_flush_due(f->log, 5000, 0));
    assert_int_equal(rill__log_read(f->log, 0, 1 << 20, &r), 0);
    assert_int_equal(r.first_offset, 0);
    int64_t visible = r.len;
    rill__log_read_done(&r);

    /* Split flush: appends made while the fsync runs are not covered by it. */
    append_n(f, 1, &o, 300);
    rill_log_flush_job job;
    assert_int_equal(rill__log_flush_begin(f->log, 0, &job), 0);
    append_n(f, 1, &o, 310);
    assert_int_equal(rill__log_flush_run(&job), 0);
    assert_int_equal(rill__log_flush_end(f->log, &job, &flushed), 0);
    assert_int_equal(flushed, 6);
    assert_int_equal(rill__log_end_offset(f->log), 7);
    assert_int_equal(rill__log_read(f->log, 0, 1 << 20, &r), 0);
    assert_true(r.len > visible);
    uint8_t *p = read_range(&r);
    assert_int_equal(check_batches(p, r.len, 0), 3); /* the 4th batch is not visible yet */
    free(p);
    rill__log_read_done(&r);
    assert_int_equal(rill__log_offset_for_time(f->log, RILL_LIST_LATEST, &flushed, &visible), 0);
    assert_int_equal(flushed, 6);
    assert_true(rill__log_flush_due(f->log, 310 + 1000, 0));
    assert_int_equal(rill__log_flush(f->log, &flushed), 0);
    assert_int_equal(flushed, 7);
}

/* A fetch's fd stays usable after retention deletes its segment. */
static void read_survives_deletion(void **state) {
    fx *f = *state;
    tb_opts o = tb_defaults();
    f->cfg.segment_bytes = tb_size(3, &o);
    f->cfg.retention_bytes = 0;
    open_log(f, 0);
    append_n(f, 3, &o, 0);
    append_n(f, 3, &o, 0);
    rill_log_read r;
    assert_int_equal(rill__log_read(f->log, 0, 1 << 20, &r), 0);
    assert_int_equal(rill__log_retain(f->log, 0), 2);
    assert_int_equal(rill__log_start_offset(f->log), 6);
    uint8_t *p = read_range(&r);
    assert_int_equal(check_batches(p, r.len, 0), 1);
    free(p);
    rill__log_read_done(&r);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(read_mid_batch_and_max_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(index_lookup_every_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(roll_by_size, setup, teardown),
        cmocka_unit_test_setup_teardown(reserve_ahead_and_give_back, setup, teardown),
        cmocka_unit_test_setup_teardown(roll_by_age, setup, teardown),
        cmocka_unit_test_setup_teardown(retention_by_size, setup, teardown),
        cmocka_unit_test_setup_teardown(retention_by_time, setup, teardown),
        cmocka_unit_test_setup_teardown(compacted_topics_are_kept, setup, teardown),
        cmocka_unit_test_setup_teardown(list_offsets_by_time, setup, teardown),
        cmocka_unit_test_setup_teardown(log_append_time, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_records, setup, teardown),
        cmocka_unit_test_setup_teardown(flush_and_high_watermark, setup, teardown),
        cmocka_unit_test_setup_teardown(read_survives_deletion, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
