/*
 * log_internal.h -- the partition log's state, shared by log.c (runtime) and recovery.c
 * (open-time loading and crash recovery).  Nothing outside storage includes this.
 */
#ifndef RILL_STORAGE_LOG_INTERNAL_H
#define RILL_STORAGE_LOG_INTERNAL_H

#include "broker/storage/log.h"
#include "broker/storage/segment.h"

struct rill_log {
    char *dir;
    int dirfd;
    rill_log_config cfg;
    rill_segment **segs; /* by base offset; the last is the active segment; never empty */
    size_t nseg, capseg;
    int64_t log_start;
    int64_t leo;
    int64_t flushed;
    int64_t ckpt_rp, ckpt_start; /* what the checkpoint file holds */
    int64_t first_unflushed_ms;  /* now_ms of the oldest append not yet flushed, -1 */
    int64_t since_begin_ms;      /* first append after the running flush began, -1 */
    int flushing;                /* a flush job is between begin and end */
    int dir_unsynced;            /* entries created/removed since the last dir fsync */
    int failed;                  /* an unrecoverable I/O error: no more appends */
    rill_pstate ps;
    uint8_t scratch[16384]; /* header scans on the read path */
};

#define RILL_CHECKPOINT_FILE "checkpoint"
#define RILL_CHECKPOINT_LEN 24

static inline rill_segment *rill__log_active(const rill_log *log) {
    return log->segs[log->nseg - 1];
}

/* Index of the last segment whose base is <= offset (0 when offset is below them all). */
size_t rill__log_seg_index(const rill_log *log, int64_t offset);
int rill__log_push_segment(rill_log *log, rill_segment *s);
/* Drops segments [from, nseg) from the list, unlinking their files (recovery). */
void rill__log_drop_tail(rill_log *log, size_t from);
size_t rill__log_oidx_max(const rill_log_config *cfg);
size_t rill__log_tidx_max(const rill_log_config *cfg);
/* Writes `<leo>.snapshot` (not fsynced) and keeps only the newest two. */
int rill__log_write_snapshot(rill_log *log);

/* checkpoint file, one metafile.h frame "RCP1": recovery point i64 | log start i64 */
void rill__checkpoint_encode(uint8_t out[RILL_CHECKPOINT_LEN], int64_t rp, int64_t start);
int rill__checkpoint_decode(const uint8_t *p, size_t len, int64_t *rp, int64_t *start);

/* recovery.c: fills a freshly allocated log from its directory. */
rill_err_t rill__log_load(rill_log *log, int flags);

#endif
