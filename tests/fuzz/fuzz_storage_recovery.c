/*
 * fuzz_storage_recovery.c -- crash recovery over arbitrary segment bytes.
 *
 * The input becomes the only .log of a partition directory, which is then opened as after
 * an unclean shutdown.  Whatever the bytes, opening must succeed, the file must be cut to
 * whole valid batches, and every offset below the log end must be readable as batches
 * that pass their CRC: recovery never leaves a batch it did not validate.
 * The directory lives on /dev/shm when there is one: recovery fsyncs, and thousands of
 * inputs on a real disk would take minutes.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/storage/batch_hdr.h"
#include "broker/storage/fsutil.h"
#include "broker/storage/log.h"

static char dir[256], logdir[300], seg[400];

static void cleanup(void) { rill__fs_rmrf(dir); }

static void check_read(rill_log *log, int64_t off) {
    rill_log_read r;
    if (rill__log_read(log, off, 1 << 20, &r) != 0 || r.len <= 0)
        abort();
    uint8_t *p = malloc((size_t)r.len);
    if (!p || rill__fs_pread_all(r.fd, p, (size_t)r.len, r.pos) != 0)
        abort();
    int64_t next = r.first_offset;
    for (int64_t at = 0; at < r.len;) {
        rill_batch_hdr h;
        if (r.len - at < RILL_BATCH_HDR_LEN || rill__batch_hdr_get(p + at, &h) != 0 ||
            h.size > r.len - at || !rill__batch_crc_ok(p + at, (size_t)h.size) ||
            h.base_offset != next)
            abort();
        next = h.base_offset + h.last_delta + 1;
        at += h.size;
    }
    if (r.first_offset > off || next <= off)
        abort();
    free(p);
    rill__log_read_done(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    if (!dir[0]) {
        snprintf(dir, sizeof(dir), "%s/rill_fuzz_recovery_%ld",
                 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (long)getpid());
        snprintf(logdir, sizeof(logdir), "%s/t-0", dir);
        snprintf(seg, sizeof(seg), "%s/00000000000000000000.log", logdir);
        atexit(cleanup);
    }
    rill__fs_rmrf(dir);
    if (rill__fs_mkdirs(logdir) != 0)
        abort();
    int fd = open(seg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || rill__fs_write_all(fd, d, n) != 0)
        abort();
    close(fd);
    rill_log_config cfg;
    rill__log_config_defaults(&cfg);
    cfg.index_interval_bytes = 64;
    rill_log *log = NULL;
    if (rill__log_open(logdir, &cfg, 0, &log) != 0)
        abort();
    int64_t leo = rill__log_end_offset(log);
    if (leo < 0 || rill__log_size_bytes(log) > (int64_t)n)
        abort();
    int64_t step = leo > 64 ? leo / 64 : 1;
    for (int64_t off = 0; off < leo; off += step)
        check_read(log, off);
    if (leo > 0)
        check_read(log, leo - 1);
    int64_t o, ts;
    rill__log_offset_for_time(log, 0, &o, &ts);
    rill__log_offset_for_time(log, RILL_LIST_MAX_TIMESTAMP, &o, &ts);
    if (o >= leo)
        abort();
    rill__log_abandon(log);
    return 0;
}
