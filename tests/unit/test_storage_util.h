/*
 * test_storage_util.h -- helpers shared by the storage unit tests: real record batch v2
 * bytes (with a correct CRC-32C) and throw-away data directories under /tmp.
 */
#ifndef RILL_TEST_STORAGE_UTIL_H
#define RILL_TEST_STORAGE_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/storage/fsutil.h"
#include "broker/storage/log.h"
#include "common/buf.h"
#include "common/crc32c.h"
#include "common/endian.h"
#include "proto/writer.h"

typedef struct tb_opts {
    int64_t base_ts; /* first record's timestamp */
    int64_t ts_step; /* timestamp increase per record */
    int64_t pid;     /* -1: not idempotent */
    int16_t epoch;
    int32_t seq;
    int16_t attrs;
    size_t value_len;
} tb_opts;

static inline tb_opts tb_defaults(void) {
    tb_opts o = {1000, 1, -1, -1, -1, 0, 10};
    return o;
}

/*
 * Appends one v2 batch of n records (keys null, values value_len bytes of a pattern) to
 * out, with baseOffset 0 as a producer sends it.  Returns the batch's size.
 */
static inline size_t tb_batch(rill_buf *out, int n, const tb_opts *o) {
    size_t start = out->len;
    rill__wr_i64(out, 0);  /* baseOffset */
    rill__wr_i32(out, 0);  /* batchLength, patched */
    rill__wr_i32(out, -1); /* partitionLeaderEpoch */
    rill__wr_i8(out, 2);   /* magic */
    rill__wr_u32(out, 0);  /* crc, patched */
    rill__wr_i16(out, o->attrs);
    rill__wr_i32(out, n - 1);
    int64_t max_ts = o->base_ts + (n - 1) * o->ts_step;
    if (o->ts_step < 0)
        max_ts = o->base_ts;
    rill__wr_i64(out, o->base_ts);
    rill__wr_i64(out, max_ts);
    rill__wr_i64(out, o->pid);
    rill__wr_i16(out, o->epoch);
    rill__wr_i32(out, o->seq);
    rill__wr_i32(out, n);
    for (int i = 0; i < n; i++) {
        rill_buf r;
        rill__buf_init(&r, 0);
        rill__wr_i8(&r, 0);
        rill__wr_varint(&r, (int64_t)i * o->ts_step);
        rill__wr_varint(&r, i);
        rill__wr_varint(&r, -1); /* null key */
        rill__wr_varint(&r, (int64_t)o->value_len);
        for (size_t k = 0; k < o->value_len; k++)
            rill__wr_i8(&r, (int8_t)('a' + (i + k) % 26));
        rill__wr_varint(&r, 0); /* headers */
        rill__wr_varint(out, (int64_t)r.len);
        rill__buf_append(out, r.data, r.len);
        rill__buf_free(&r);
    }
    uint8_t *b = out->data + start;
    size_t size = out->len - start;
    rill__st32(b + 8, (uint32_t)(size - 12));
    rill__st32(b + 17, rill__crc32c(0, b + 21, size - 21));
    return size;
}

/* Size of a batch tb_batch would build. */
static inline int64_t tb_size(int n, const tb_opts *o) {
    rill_buf b;
    rill__buf_init(&b, 0);
    size_t size = tb_batch(&b, n, o);
    rill__buf_free(&b);
    return (int64_t)size;
}

/* A fresh empty directory under /tmp; remove it with tdir_rm. */
static inline char *tdir_new(void) {
    char *p = strdup("/tmp/rill_test_storage_XXXXXX");
    if (!p || !mkdtemp(p)) {
        free(p);
        return NULL;
    }
    return p;
}

static inline void tdir_rm(char *p) {
    if (p)
        rill__fs_rmrf(p);
    free(p);
}

/* Size of a file, -1 when missing. */
static inline long long tfile_size(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    fseek(f, 0, SEEK_END);
    long long n = ftell(f);
    fclose(f);
    return n;
}

/*
 * Fixture for log tests (include cmocka.h first): a temp data dir, a log directory
 * "<dir>/t-0" inside it, a default config to adjust before log_fx_open().
 */
typedef struct log_fx {
    char *dir;
    char logdir[512];
    rill_log_config cfg;
    rill_log *log;
} log_fx;

static inline int log_fx_setup(void **state) {
    log_fx *f = calloc(1, sizeof(*f));
    f->dir = tdir_new();
    assert_non_null(f->dir);
    snprintf(f->logdir, sizeof(f->logdir), "%s/t-0", f->dir);
    rill__log_config_defaults(&f->cfg);
    *state = f;
    return 0;
}

static inline int log_fx_teardown(void **state) {
    log_fx *f = *state;
    rill__log_abandon(f->log);
    tdir_rm(f->dir);
    free(f);
    return 0;
}

static inline void log_fx_open(log_fx *f, int flags) {
    assert_int_equal(rill__log_open(f->logdir, &f->cfg, flags, &f->log), 0);
}

#endif
