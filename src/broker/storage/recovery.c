/*
 * recovery.c -- opening a partition log: what to trust, what to rescan, what to cut.
 *
 * Kafka's model (broker_anchors.md §2.1, §4.3): a log can be damaged by a crash in two
 * ways -- an unwritten block lost (the file is cut short, or its tail is zeros because
 * the size reached the disk before the data) and a nonsense block added (garbage after
 * the last good batch).  Everything below the recovery point was fsynced before the
 * checkpoint recording it was written, so only segments from the one containing the
 * recovery point onward need a scan; after a clean shutdown none do.
 *
 * The scan (recover_segment) reads every batch sequentially and accepts it only when
 *   - the 61-byte header is complete, batchLength covers at least the header and the
 *     batch ends inside the file,
 *   - magic is 2 and lastOffsetDelta >= 0,
 *   - CRC-32C over attributes..end matches,
 *   - its base offset is exactly the previous batch's last offset + 1 (the segment base
 *     for the first batch);
 * at the first failure the file is truncated there and every later segment is deleted
 * (their offsets would no longer follow), as Kafka does.  The scan rebuilds the offset and
 * time indexes as it goes; the recovered segment is then fdatasync'd, so "flushed" really
 * means on stable storage even when the crash was of the process only.
 *
 * Segments that are trusted still get their index files checked (index.c); a missing or
 * bad index makes that segment go through the same scan.  For the active segment of a
 * clean log, the log end is found by walking batch headers from its last index entry.
 *
 * Finally the producer state is rebuilt: newest usable snapshot, then the headers of the
 * batches after it.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/storage/fsutil.h"
#include "broker/storage/log_internal.h"
#include "broker/storage/metafile.h"
#include "common/clock.h"
#include "common/crc32c.h"
#include "common/endian.h"

#define SCAN_BUF (1024 * 1024)
#define SNAPSHOT_MAX (64 * 1024 * 1024)

void rill__checkpoint_encode(uint8_t out[RILL_CHECKPOINT_LEN], int64_t rp, int64_t start) {
    memcpy(out, "RCP1", 4);
    rill__st64(out + RILL_META_HDR, (uint64_t)rp);
    rill__st64(out + RILL_META_HDR + 8, (uint64_t)start);
    rill__st32(out + 4, rill__crc32c(0, out + RILL_META_HDR, RILL_CHECKPOINT_LEN - RILL_META_HDR));
}

int rill__checkpoint_decode(const uint8_t *p, size_t len, int64_t *rp, int64_t *start) {
    rill_rd r;
    if (len != RILL_CHECKPOINT_LEN || rill__meta_open(p, len, "RCP1", &r) != 0)
        return -1;
    int64_t a = rill__rd_i64(&r), b = rill__rd_i64(&r);
    if (r.err || a < 0 || b < 0)
        return -1;
    *rp = a;
    *start = b;
    return 0;
}

/* "<20 digits><suffix>" -> base offset, or -1. */
static int64_t parse_name(const char *name, const char *suffix) {
    size_t n = strlen(name), sl = strlen(suffix);
    if (n != 20 + sl || strcmp(name + 20, suffix) != 0)
        return -1;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9' || v > (INT64_MAX - 9) / 10)
            return -1;
        v = v * 10 + (name[i] - '0');
    }
    return v;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

typedef struct listing {
    int64_t *logs, *snaps;
    size_t nlogs, nsnaps;
} listing;

static int push(int64_t **arr, size_t *n, int64_t v) {
    int64_t *a = realloc(*arr, (*n + 1) * sizeof(**arr));
    if (!a)
        return -1;
    a[(*n)++] = v;
    *arr = a;
    return 0;
}

static int has(const int64_t *a, size_t n, int64_t v) {
    for (size_t i = 0; i < n; i++)
        if (a[i] == v)
            return 1;
    return 0;
}

/* Lists segments and snapshots; removes leftovers (tmp files, orphan indexes). */
static int list_dir(rill_log *log, listing *l) {
    DIR *d = opendir(log->dir);
    if (!d)
        return -1;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(d))) {
        int64_t b;
        if ((b = parse_name(e->d_name, ".log")) >= 0)
            rc |= push(&l->logs, &l->nlogs, b);
        else if ((b = parse_name(e->d_name, ".snapshot")) >= 0)
            rc |= push(&l->snaps, &l->nsnaps, b);
    }
    rewinddir(d);
    while ((e = readdir(d))) {
        int64_t b = parse_name(e->d_name, ".index");
        if (b < 0)
            b = parse_name(e->d_name, ".timeindex");
        int orphan = b >= 0 && !has(l->logs, l->nlogs, b);
        if (orphan || rill__fs_is_tmp(e->d_name)) {
            unlinkat(dirfd(d), e->d_name, 0);
            log->dir_unsynced = 1;
        }
    }
    closedir(d);
    if (l->nlogs)
        qsort(l->logs, l->nlogs, sizeof(int64_t), cmp_i64);
    if (l->nsnaps)
        qsort(l->snaps, l->nsnaps, sizeof(int64_t), cmp_i64);
    return rc;
}

/*
 * Validating scan of segment s from its start (see the top of the file).  Returns 0 when
 * the whole file was good, 1 when it was truncated, -1 on an I/O error.
 */
static int recover_segment(rill_log *log, rill_segment *s, uint8_t *buf) {
    int64_t file_size = s->size;
    rill__segment_reset(s);
    rill_seg_iter it;
    rill__seg_iter_init(&it, s->fd, 0, file_size, buf, SCAN_BUF);
    rill_batch_hdr h;
    int64_t pos = 0;
    int r;
    int64_t batches = 0;
    while ((r = rill__seg_iter_next(&it, &h, &pos, 1)) == RILL_ITER_BATCH) {
        /* Offsets relative to the segment base are int32 (as the append's roll check). */
        if (h.base_offset != s->next_offset || h.base_offset + h.last_delta - s->base > INT32_MAX) {
            r = RILL_ITER_BAD;
            break;
        }
        /* A full index (segment.index.bytes lowered since) only makes it sparser. */
        rill__segment_note_batch(s, &h, pos, log->cfg.index_interval_bytes);
        batches++;
    }
    if (r == RILL_ITER_IO)
        return -1;
    int64_t good = s->size;
    if (r == RILL_ITER_END && good == file_size) {
        RILL_LOG(log->cfg.logger, RILL_LOG_INFO, "storage",
                 "%s: recovered %" PRId64 " batches, %" PRId64 " bytes, next offset %" PRId64,
                 s->path, batches, good, s->next_offset);
        return 0;
    }
    RILL_LOG(log->cfg.logger, RILL_LOG_WARNING, "storage",
             "%s.log: invalid batch at position %" PRId64 " (offset %" PRId64
             "); truncating %" PRId64 " bytes after %" PRId64 " good batches",
             s->path, good, s->next_offset, file_size - good, batches);
    if (rill__segment_truncate(s, good) != 0)
        return -1;
    return 1;
}

/*
 * Trusted load of segment i: index files checked; for the last segment the end is found
 * by walking headers after the last index entry.  Returns 0, or -1 when the segment must
 * be scanned instead.
 */
static int load_segment(rill_log *log, size_t i, uint8_t *buf, size_t cap) {
    rill_segment *s = log->segs[i];
    int last = i + 1 == log->nseg;
    int64_t rel_limit = last ? (int64_t)INT32_MAX + 1 : log->segs[i + 1]->base - s->base;
    char p[4096];
    if (rel_limit <= 0 || (s->size == 0 && !last))
        return -1;
    if (rill__segment_file(s, ".index", p, sizeof(p)) != 0 ||
        rill__oidx_load(&s->oidx, p, s->size, rel_limit, !last) != 0)
        return -1;
    if (rill__segment_file(s, ".timeindex", p, sizeof(p)) != 0 ||
        rill__tidx_load(&s->tidx, p, rel_limit, !last) != 0)
        return -1;
    if (s->tidx.n) {
        s->max_ts = rill__tidx_ts(&s->tidx, s->tidx.n - 1);
        s->max_ts_offset = s->base + rill__tidx_rel(&s->tidx, s->tidx.n - 1);
    }
    if (!last) {
        s->next_offset = log->segs[i + 1]->base;
        s->sealed = 1;
        s->synced_size = s->size;
        return 0;
    }
    /* Active segment: walk from the last indexed batch to the end of the file. */
    int64_t file_size = s->size;
    int64_t start = s->oidx.n ? rill__oidx_pos(&s->oidx, s->oidx.n - 1) : 0;
    rill_seg_iter it;
    rill__seg_iter_init(&it, s->fd, 0, file_size, buf, cap);
    rill_batch_hdr h;
    int64_t pos;
    if (file_size > 0) {
        const uint8_t *q = rill__seg_iter_peek(&it, 0, RILL_BATCH_HDR_LEN);
        if (!q || rill__batch_hdr_get(q, &h) != 0 || h.base_offset != s->base)
            return -1;
        if (h.max_ts >= 0)
            s->roll_ts = h.max_ts;
    }
    it.pos = start;
    int r, first = 1;
    s->next_offset = s->base;
    while ((r = rill__seg_iter_next(&it, &h, &pos, 0)) == RILL_ITER_BATCH) {
        int64_t expect = first ? s->base + (s->oidx.n ? rill__oidx_rel(&s->oidx, s->oidx.n - 1) : 0)
                               : s->next_offset;
        if (h.base_offset != expect)
            return -1;
        first = 0;
        if (h.max_ts > s->max_ts) {
            s->max_ts = h.max_ts;
            s->max_ts_offset = h.base_offset;
        }
        s->bytes_since_index += h.size;
        s->next_offset = h.base_offset + h.last_delta + 1;
    }
    if (r != RILL_ITER_END)
        return -1;
    if (s->tidx.n && rill__tidx_rel(&s->tidx, s->tidx.n - 1) >= s->next_offset - s->base)
        return -1;
    s->size = file_size;
    s->synced_size = file_size;
    return 0;
}

/* Rebuilds producer state: newest snapshot at or below the LEO, then later batches. */
static void load_producers(rill_log *log, listing *l, uint8_t *buf) {
    int64_t from = log->segs[0]->base;
    char p[4096];
    for (size_t k = l->nsnaps; k-- > 0;) {
        int64_t off = l->snaps[k];
        if (rill__fs_path(p, sizeof(p), "%s/%020" PRId64 ".snapshot", log->dir, off) != 0)
            continue;
        uint8_t *data = NULL;
        size_t len = 0;
        int64_t got = -1;
        if (off <= log->leo && off >= log->segs[0]->base &&
            rill__fs_read_file(p, SNAPSHOT_MAX, &data, &len) == 0 &&
            rill__pstate_decode(&log->ps, data, len, &got) == 0 && got == off) {
            free(data);
            from = off;
            break;
        }
        free(data);
        rill__pstate_clear(&log->ps);
        RILL_LOG(log->cfg.logger, RILL_LOG_INFO, "storage", "%s: dropping producer snapshot %s",
                 log->dir, p);
        unlink(p);
        log->dir_unsynced = 1;
    }
    for (size_t i = rill__log_seg_index(log, from); i < log->nseg; i++) {
        rill_segment *s = log->segs[i];
        int64_t start = from > s->base ? rill__oidx_lookup(&s->oidx, from - s->base) : 0;
        rill_seg_iter it;
        rill__seg_iter_init(&it, s->fd, start, s->size, buf, SCAN_BUF);
        rill_batch_hdr h;
        int64_t pos;
        while (rill__seg_iter_next(&it, &h, &pos, 0) == RILL_ITER_BATCH) {
            int64_t last = h.base_offset + h.last_delta;
            if (last < from || !rill__batch_is_idempotent(&h))
                continue;
            rill__pstate_update(&log->ps, h.pid, h.epoch, h.base_seq,
                                rill__batch_last_seq(h.base_seq, h.last_delta), h.base_offset, last,
                                h.max_ts);
        }
    }
}

rill_err_t rill__log_load(rill_log *log, int flags) {
    rill_err_t err = RILL_ERR_KAFKA_STORAGE_ERROR;
    listing l = {0};
    uint8_t *buf = NULL;
    char p[4096];
    int64_t rp = -1, start = 0;
    int clean = flags & RILL_LOG_OPEN_CLEAN;

    if (rill__fs_path(p, sizeof(p), "%s/%s", log->dir, RILL_CHECKPOINT_FILE) == 0) {
        uint8_t *data = NULL;
        size_t len = 0;
        if (rill__fs_read_file(p, 4096, &data, &len) == 0 &&
            rill__checkpoint_decode(data, len, &rp, &start) != 0) {
            RILL_LOG(log->cfg.logger, RILL_LOG_WARNING, "storage",
                     "%s: unreadable checkpoint, recovering every segment", log->dir);
            rp = -1;
            start = 0;
            clean = 0;
        }
        free(data);
    }
    log->ckpt_rp = rp;
    log->ckpt_start = start;
    buf = malloc(SCAN_BUF);
    if (!buf || list_dir(log, &l) != 0)
        goto out;

    for (size_t i = 0; i < l.nlogs; i++) {
        rill_segment *s = rill__segment_open(log->dir, l.logs[i], rill__log_oidx_max(&log->cfg),
                                             rill__log_tidx_max(&log->cfg));
        if (!s || rill__log_push_segment(log, s) != 0) {
            RILL_LOG(log->cfg.logger, RILL_LOG_ERR, "storage",
                     "%s: cannot open segment %020" PRId64 ": %s", log->dir, l.logs[i],
                     strerror(errno));
            rill__segment_unref(s);
            goto out;
        }
    }
    if (log->nseg == 0) {
        rill_segment *s =
            rill__segment_create(log->dir, start, rill__wall_ms(), rill__log_oidx_max(&log->cfg),
                                 rill__log_tidx_max(&log->cfg));
        if (!s || rill__log_push_segment(log, s) != 0) {
            rill__segment_unref(s);
            goto out;
        }
        log->dir_unsynced = 1;
    }

    /* Segments from first_scan on are scanned; before it they are trusted. */
    size_t first_scan = clean ? log->nseg : rp < 0 ? 0 : rill__log_seg_index(log, rp);
    for (size_t i = 0; i < log->nseg; i++) {
        rill_segment *s = log->segs[i];
        int last = i + 1 == log->nseg;
        if (i < first_scan && load_segment(log, i, buf, SCAN_BUF) == 0)
            continue;
        if (i < first_scan)
            RILL_LOG(log->cfg.logger, RILL_LOG_INFO, "storage",
                     "%s: missing or inconsistent index, rebuilding from the log", s->path);
        int r = recover_segment(log, s, buf);
        if (r < 0)
            goto out;
        if (!last && (r == 1 || s->next_offset != log->segs[i + 1]->base)) {
            RILL_LOG(log->cfg.logger, RILL_LOG_WARNING, "storage",
                     "%s: deleting %zu segment(s) after the truncated one", log->dir,
                     log->nseg - i - 1);
            rill__log_drop_tail(log, i + 1);
            last = 1;
        }
        if (fdatasync(s->fd) != 0)
            goto out;
        s->synced_size = s->size;
        if (!last && rill__segment_write_indexes(s, 1) != 0)
            goto out;
        if (r == 1)
            log->dir_unsynced = 1;
    }

    rill_segment *a = rill__log_active(log);
    a->sealed = 0;
    log->leo = a->next_offset;
    log->flushed = log->leo;
    log->log_start = start < log->segs[0]->base ? log->segs[0]->base : start;
    if (log->log_start > log->leo)
        log->log_start = log->leo;

    load_producers(log, &l, buf);

    if (log->dir_unsynced && fsync(log->dirfd) != 0)
        goto out;
    log->dir_unsynced = 0;
    if (!clean || rp != log->leo || start != log->log_start) {
        if (rill__log_checkpoint(log, 1) != 0)
            goto out;
    }
    err = RILL_ERR_NO_ERROR;
out:
    if (err)
        RILL_LOG(log->cfg.logger, RILL_LOG_ERR, "storage", "%s: cannot open log: %s", log->dir,
                 strerror(errno));
    free(buf);
    free(l.logs);
    free(l.snaps);
    return err;
}
