/*
 * log.c -- a partition log at run time: append with offset assignment and roll, fetch
 * ranges for sendfile, ListOffsets, flush (group commit), checkpoint, retention.
 * Opening and crash recovery are in recovery.c.
 */
#include "broker/storage/log_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/storage/fsutil.h"
#include "common/crc32c.h"
#include "common/endian.h"
#include "common/varint.h"

#define SNAPSHOTS_KEPT 2

/* ---- segment list --------------------------------------------------------------------- */

size_t rill__log_seg_index(const rill_log *log, int64_t offset) {
    size_t lo = 0, hi = log->nseg; /* first segment with base > offset */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (log->segs[mid]->base <= offset)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? lo - 1 : 0;
}

int rill__log_push_segment(rill_log *log, rill_segment *s) {
    if (log->nseg == log->capseg) {
        size_t cap = log->capseg ? log->capseg * 2 : 8;
        rill_segment **a = realloc(log->segs, cap * sizeof(*a));
        if (!a)
            return -1;
        log->segs = a;
        log->capseg = cap;
    }
    log->segs[log->nseg++] = s;
    return 0;
}

void rill__log_drop_tail(rill_log *log, size_t from) {
    while (log->nseg > from)
        rill__segment_remove(log->segs[--log->nseg]);
    log->dir_unsynced = 1;
}

/* Removes the n oldest segments (retention). */
static void drop_head(rill_log *log, size_t n) {
    for (size_t i = 0; i < n; i++) {
        RILL_LOG(log->cfg.logger, RILL_LOG_INFO, "storage", "%s.log: deleted by retention",
                 log->segs[i]->path);
        rill__segment_remove(log->segs[i]);
    }
    memmove(log->segs, log->segs + n, (log->nseg - n) * sizeof(*log->segs));
    log->nseg -= n;
    log->dir_unsynced = 1;
    if (log->log_start < log->segs[0]->base)
        log->log_start = log->segs[0]->base;
}

size_t rill__log_oidx_max(const rill_log_config *cfg) {
    return (size_t)(cfg->segment_index_bytes / RILL_OIDX_ENTRY);
}
size_t rill__log_tidx_max(const rill_log_config *cfg) {
    return (size_t)(cfg->segment_index_bytes / RILL_TIDX_ENTRY);
}

/* ---- open / close --------------------------------------------------------------------- */

rill_err_t rill__log_open(const char *dir, const rill_log_config *cfg, int flags, rill_log **out) {
    *out = NULL;
    rill_log *log = calloc(1, sizeof(*log));
    if (!log)
        return RILL_ERR_NO_MEMORY;
    log->cfg = *cfg;
    log->dirfd = -1;
    log->first_unflushed_ms = -1;
    log->since_begin_ms = -1;
    rill__pstate_init(&log->ps);
    log->dir = strdup(dir);
    if (!log->dir || rill__fs_mkdirs(dir) != 0 ||
        (log->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
        RILL_LOG(cfg->logger, RILL_LOG_ERR, "storage", "%s: %s", dir, strerror(errno));
        rill__log_abandon(log);
        return RILL_ERR_KAFKA_STORAGE_ERROR;
    }
    rill_err_t err = rill__log_load(log, flags);
    if (err) {
        rill__log_abandon(log);
        return err;
    }
    *out = log;
    return RILL_ERR_NO_ERROR;
}

void rill__log_abandon(rill_log *log) {
    if (!log)
        return;
    for (size_t i = 0; i < log->nseg; i++)
        rill__segment_unref(log->segs[i]);
    free(log->segs);
    if (log->dirfd >= 0)
        close(log->dirfd);
    rill__pstate_free(&log->ps);
    free(log->dir);
    free(log);
}

rill_err_t rill__log_close(rill_log *log) {
    if (!log)
        return RILL_ERR_NO_ERROR;
    rill_err_t err = RILL_ERR_KAFKA_STORAGE_ERROR;
    int64_t flushed;
    rill__segment_unreserve(rill__log_active(log));
    if (!log->failed && rill__log_flush(log, &flushed) == 0 &&
        rill__segment_write_indexes(rill__log_active(log), 0) == 0 &&
        rill__log_write_snapshot(log) == 0 && fsync(log->dirfd) == 0 &&
        rill__log_checkpoint(log, 1) == 0)
        err = RILL_ERR_NO_ERROR;
    if (err)
        RILL_LOG(log->cfg.logger, RILL_LOG_ERR, "storage", "%s: unclean close: %s", log->dir,
                 strerror(errno));
    rill__log_abandon(log);
    return err;
}

void rill__log_set_config(rill_log *log, const rill_log_config *cfg) {
    /* Index capacity of existing segments stays; new segments get the new size. */
    log->cfg = *cfg;
}
const rill_log_config *rill__log_config(const rill_log *log) { return &log->cfg; }
const char *rill__log_dir(const rill_log *log) { return log->dir; }

int64_t rill__log_start_offset(const rill_log *log) { return log->log_start; }
int64_t rill__log_end_offset(const rill_log *log) { return log->leo; }
int64_t rill__log_flushed_offset(const rill_log *log) { return log->flushed; }
int64_t rill__log_high_watermark(const rill_log *log) {
    return log->cfg.hw_flushed ? log->flushed : log->leo;
}
int64_t rill__log_size_bytes(const rill_log *log) {
    int64_t n = 0;
    for (size_t i = 0; i < log->nseg; i++)
        n += log->segs[i]->size;
    return n;
}
size_t rill__log_segment_count(const rill_log *log) { return log->nseg; }
int64_t rill__log_segment_base(const rill_log *log, size_t i) {
    return i < log->nseg ? log->segs[i]->base : -1;
}
const rill_pstate *rill__log_producers(const rill_log *log) { return &log->ps; }
rill_pstate *rill__log_producers_mut(rill_log *log) { return &log->ps; }

/* ---- snapshots and checkpoint ----------------------------------------------------- */

int rill__log_write_snapshot(rill_log *log) {
    rill_buf b;
    rill__buf_init(&b, 0);
    char name[64];
    snprintf(name, sizeof(name), "%020" PRId64 ".snapshot", log->leo);
    int rc = rill__pstate_encode(&log->ps, log->leo, &b) == 0 &&
                     rill__fs_write_atomic(log->dir, name, b.data, b.len, 0) == 0
                 ? 0
                 : -1;
    rill__buf_free(&b);
    if (rc != 0)
        return -1;
    log->dir_unsynced = 1;
    /* Keep the newest SNAPSHOTS_KEPT: an older one is the fallback if the newest is bad. */
    DIR *d = opendir(log->dir);
    if (!d)
        return 0;
    int64_t keep[SNAPSHOTS_KEPT];
    size_t nkeep = 0;
    struct dirent *e;
    for (int pass = 0; pass < 2; pass++) {
        rewinddir(d);
        while ((e = readdir(d))) {
            size_t n = strlen(e->d_name);
            if (n != 29 || strcmp(e->d_name + 20, ".snapshot") != 0)
                continue;
            int64_t off = strtoll(e->d_name, NULL, 10);
            if (pass == 0) {
                /* collect the SNAPSHOTS_KEPT largest offsets */
                if (nkeep < SNAPSHOTS_KEPT) {
                    keep[nkeep++] = off;
                } else {
                    size_t min = 0;
                    for (size_t k = 1; k < nkeep; k++)
                        if (keep[k] < keep[min])
                            min = k;
                    if (off > keep[min])
                        keep[min] = off;
                }
            } else {
                int kept = 0;
                for (size_t k = 0; k < nkeep; k++)
                    kept |= keep[k] == off;
                if (!kept)
                    unlinkat(log->dirfd, e->d_name, 0);
            }
        }
    }
    closedir(d);
    return 0;
}

rill_err_t rill__log_checkpoint(rill_log *log, int durable) {
    if (log->ckpt_rp == log->flushed && log->ckpt_start == log->log_start)
        return RILL_ERR_NO_ERROR;
    /* A log start inside the first segment (DeleteRecords) exists only in this file. */
    if (log->log_start > log->segs[0]->base)
        durable = 1;
    uint8_t b[RILL_CHECKPOINT_LEN];
    rill__checkpoint_encode(b, log->flushed, log->log_start);
    if (rill__fs_write_atomic(log->dir, RILL_CHECKPOINT_FILE, b, sizeof(b), durable) != 0) {
        RILL_LOG(log->cfg.logger, RILL_LOG_ERR, "storage", "%s: checkpoint: %s", log->dir,
                 strerror(errno));
        return RILL_ERR_KAFKA_STORAGE_ERROR;
    }
    log->ckpt_rp = log->flushed;
    log->ckpt_start = log->log_start;
    return RILL_ERR_NO_ERROR;
}

/* ---- append ----------------------------------------------------------------------- */

static rill_err_t roll(rill_log *log, int64_t now_ms) {
    rill_segment *old = rill__log_active(log);
    rill__segment_unreserve(old);
    if (rill__segment_write_indexes(old, 1) != 0)
        RILL_LOG(log->cfg.logger, RILL_LOG_WARNING, "storage",
                 "%s: cannot write indexes (%s); they will be rebuilt", old->path, strerror(errno));
    rill_segment *s = rill__segment_create(
        log->dir, log->leo, now_ms, rill__log_oidx_max(&log->cfg), rill__log_tidx_max(&log->cfg));
    if (!s || rill__log_push_segment(log, s) != 0) {
        RILL_LOG(log->cfg.logger, RILL_LOG_ERR, "storage", "%s: cannot roll to %020" PRId64 ": %s",
                 log->dir, log->leo, strerror(errno));
        rill__segment_unref(s);
        /* The old segment stays the active one: this append fails, a later one retries the
         * roll.  Its now-mapped indexes go back to the heap on the next entry (index.c). */
        old->sealed = 0;
        return RILL_ERR_KAFKA_STORAGE_ERROR;
    }
    log->dir_unsynced = 1;
    /* A snapshot per segment bounds the producer-state replay after a crash. */
    if (rill__log_write_snapshot(log) != 0)
        RILL_LOG(log->cfg.logger, RILL_LOG_WARNING, "storage", "%s: producer snapshot: %s",
                 log->dir, strerror(errno));
    RILL_LOG(log->cfg.logger, RILL_LOG_DEBUG, "storage", "%s: rolled to segment %020" PRId64,
             log->dir, log->leo);
    return RILL_ERR_NO_ERROR;
}

static int should_roll(const rill_log *log, int64_t bytes, int64_t records, int64_t now_ms) {
    const rill_segment *s = rill__log_active(log);
    if (s->size == 0)
        return 0;
    return s->size + bytes > log->cfg.segment_bytes ||
           (s->roll_ts >= 0 && now_ms - s->roll_ts > log->cfg.segment_ms) ||
           rill__segment_index_full(s) || log->leo + records - 1 - s->base > INT32_MAX;
}

rill_err_t rill__log_append(rill_log *log, uint8_t *batches, size_t len, int64_t now_ms,
                            rill_log_append_info *info) {
    memset(info, 0, sizeof(*info));
    info->base_offset = info->last_offset = -1;
    info->log_append_time = -1;
    info->log_start_offset = log->log_start;
    if (log->failed)
        return RILL_ERR_KAFKA_STORAGE_ERROR;

    /* Pass 1: framing, sizes, producer checks; nothing is modified. */
    rill_batch_hdr h, first = {0};
    int32_t nbatch = 0, idem = 0;
    int64_t records = 0;
    for (size_t off = 0; off < len; off += (size_t)h.size) {
        if (len - off < RILL_BATCH_HDR_LEN || rill__batch_hdr_get(batches + off, &h) != 0 ||
            (uint64_t)h.size > len - off)
            return RILL_ERR_CORRUPT_MESSAGE;
        if (h.size > log->cfg.max_message_bytes)
            return RILL_ERR_MESSAGE_TOO_LARGE;
        if (h.size > log->cfg.segment_bytes)
            return RILL_ERR_RECORD_LIST_TOO_LARGE;
        /* An idempotent batch without a sequence could never be told from its retry. */
        if (rill__batch_is_idempotent(&h) && h.base_seq < 0)
            return RILL_ERR_INVALID_RECORD;
        if (!nbatch)
            first = h;
        nbatch++;
        idem |= rill__batch_is_idempotent(&h);
        records += (int64_t)h.last_delta + 1;
    }
    if (nbatch == 0)
        return RILL_ERR_CORRUPT_MESSAGE;
    if (idem && nbatch > 1)
        return RILL_ERR_INVALID_RECORD;
    int32_t first_last_seq = rill__batch_last_seq(first.base_seq, first.last_delta);
    if (idem) {
        rill_pstate_verdict v;
        rill_pstate_batch dup;
        rill_err_t err = rill__pstate_check(&log->ps, first.pid, first.epoch, first.base_seq,
                                            first_last_seq, &v, &dup);
        if (err)
            return err;
        if (v == RILL_PSTATE_DUPLICATE) {
            info->duplicate = 1;
            info->base_offset = dup.first_offset;
            info->last_offset = dup.last_offset;
            return RILL_ERR_NO_ERROR;
        }
    }
    if ((int64_t)len > log->cfg.segment_bytes)
        return RILL_ERR_RECORD_LIST_TOO_LARGE;

    if (should_roll(log, (int64_t)len, records, now_ms)) {
        rill_err_t err = roll(log, now_ms);
        if (err)
            return err;
    }
    rill_segment *s = rill__log_active(log);

    /* Pass 2: assign offsets in place (baseOffset and leader epoch are outside the CRC). */
    int64_t next = log->leo;
    int log_append = log->cfg.timestamp_type == RILL_TS_LOG_APPEND_TIME;
    for (size_t off = 0; off < len; off += (size_t)h.size) {
        uint8_t *b = batches + off;
        rill__batch_hdr_get(b, &h);
        rill__st64(b + RILL_BATCH_BASE_OFFSET, (uint64_t)next);
        rill__st32(b + RILL_BATCH_LEADER_EPOCH, 0);
        if (log_append && !(h.attrs & RILL_BATCH_ATTR_CONTROL)) {
            rill__st16(b + RILL_BATCH_ATTRS, (uint16_t)(h.attrs | RILL_BATCH_ATTR_LOG_APPEND_TIME));
            rill__st64(b + RILL_BATCH_MAX_TS, (uint64_t)now_ms);
            rill__st32(b + RILL_BATCH_CRC,
                       rill__crc32c(0, b + RILL_BATCH_ATTRS, (size_t)h.size - RILL_BATCH_ATTRS));
            info->log_append_time = now_ms;
        }
        next += (int64_t)h.last_delta + 1;
    }

    int64_t pos0 = s->size;
    if (log->cfg.preallocate)
        rill__segment_reserve(s, pos0 + (int64_t)len, log->cfg.segment_bytes);
    size_t done = 0;
    while (done < len) {
        ssize_t w = pwrite(s->fd, batches + done, len - done, (off_t)(pos0 + (int64_t)done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            RILL_LOG(log->cfg.logger, RILL_LOG_ERR, "storage", "%s.log: write: %s", s->path,
                     strerror(e));
            /* Cut the partial write off so the file stays a sequence of whole batches. */
            if (ftruncate(s->fd, (off_t)pos0) != 0)
                log->failed = 1;
            errno = e;
            return RILL_ERR_KAFKA_STORAGE_ERROR;
        }
        done += (size_t)w;
    }
    s->unsynced = 1;

    /* Pass 3: indexes, producer state, offsets. */
    for (size_t off = 0; off < len; off += (size_t)h.size) {
        rill__batch_hdr_get(batches + off, &h);
        rill__segment_note_batch(s, &h, pos0 + (int64_t)off, log->cfg.index_interval_bytes);
        if (rill__batch_is_idempotent(&h))
            rill__pstate_update(&log->ps, h.pid, h.epoch, h.base_seq, first_last_seq, h.base_offset,
                                h.base_offset + h.last_delta, h.max_ts);
    }
    info->base_offset = log->leo;
    info->last_offset = next - 1;
    info->batches = nbatch;
    log->leo = next;
    if (log->first_unflushed_ms < 0)
        log->first_unflushed_ms = now_ms;
    if (log->flushing && log->since_begin_ms < 0)
        log->since_begin_ms = now_ms;
    return RILL_ERR_NO_ERROR;
}

/* ---- read ------------------------------------------------------------------------- */

static int64_t visible_end(const rill_log *log, const rill_segment *s) {
    return log->cfg.hw_flushed ? s->synced_size : s->size;
}

void rill__log_read_done(rill_log_read *res) {
    if (res->seg)
        rill__segment_unref(res->seg);
    res->seg = NULL;
    res->fd = -1;
}

/*
 * Finds the batch containing `offset` in segment s, at or after the indexed position.
 * Returns 1 with *h and *pos, 0 when the segment has none, -1 on error.
 */
static int find_batch(rill_log *log, rill_segment *s, int64_t offset, int64_t limit,
                      rill_seg_iter *it, rill_batch_hdr *h, int64_t *pos) {
    int64_t start = offset > s->base ? rill__oidx_lookup(&s->oidx, offset - s->base) : 0;
    if (start > limit)
        start = 0;
    rill__seg_iter_init(it, s->fd, start, limit, log->scratch, sizeof(log->scratch));
    int r;
    while ((r = rill__seg_iter_next(it, h, pos, 0)) == RILL_ITER_BATCH)
        if (h->base_offset + h->last_delta >= offset)
            return 1;
    return r == RILL_ITER_END ? 0 : -1;
}

rill_err_t rill__log_read(rill_log *log, int64_t fetch_offset, int64_t max_bytes,
                          rill_log_read *res) {
    memset(res, 0, sizeof(*res));
    res->fd = -1;
    res->first_offset = -1;
    res->next_offset = -1;
    res->high_watermark = rill__log_high_watermark(log);
    res->log_start_offset = log->log_start;
    if (fetch_offset < log->log_start || fetch_offset > log->leo)
        return RILL_ERR_OFFSET_OUT_OF_RANGE;
    if (fetch_offset >= res->high_watermark)
        return RILL_ERR_NO_ERROR;
    for (size_t i = rill__log_seg_index(log, fetch_offset); i < log->nseg; i++) {
        rill_segment *s = log->segs[i];
        int64_t limit = visible_end(log, s);
        if (fetch_offset >= s->next_offset || limit == 0)
            continue;
        rill_seg_iter it;
        rill_batch_hdr h;
        int64_t start;
        int r = find_batch(log, s, fetch_offset, limit, &it, &h, &start);
        if (r < 0) {
            RILL_LOG(log->cfg.logger, RILL_LOG_ERR, "storage", "%s.log: unreadable at %" PRId64,
                     s->path, it.pos);
            return RILL_ERR_KAFKA_STORAGE_ERROR;
        }
        if (r == 0)
            continue;
        res->first_offset = h.base_offset;
        int64_t end = start + h.size;
        /* The offset after the data sent (for the messages-out metric): known from the
         * last batch header read, or from the segment when the read runs to its end. */
        int64_t next = h.base_offset + h.last_delta + 1;
        if (max_bytes < 0)
            max_bytes = 0;
        if (limit - start <= max_bytes) {
            end = limit;
            next = s->next_offset < res->high_watermark ? s->next_offset : res->high_watermark;
        } else if (end - start < max_bytes) {
            /* Jump close to start + max_bytes with the index, then walk batch headers. */
            int64_t target = start + max_bytes;
            int64_t from = rill__oidx_floor_pos(&s->oidx, target);
            if (from < end)
                from = end;
            if (from > end) {
                end = from;
                next = -1; /* the base offset of the batch at `from`, read below */
            }
            rill_batch_hdr g;
            int64_t gpos;
            rill__seg_iter_init(&it, s->fd, from, limit, log->scratch, sizeof(log->scratch));
            while (rill__seg_iter_next(&it, &g, &gpos, 0) == RILL_ITER_BATCH) {
                if (gpos == end)
                    next = g.base_offset;
                if (gpos + g.size > target)
                    break;
                end = gpos + g.size;
                next = g.base_offset + g.last_delta + 1;
            }
        }
        res->next_offset = next;
        rill__segment_ref(s);
        res->seg = s;
        res->fd = s->fd;
        res->pos = start;
        res->len = end - start;
        return RILL_ERR_NO_ERROR;
    }
    return RILL_ERR_NO_ERROR;
}

/* ---- ListOffsets -------------------------------------------------------------------- */

/*
 * First record with timestamp >= ts in the batch at pos (header h).  Returns 1 with the
 * offset and timestamp, 0 when none, -1 on error.
 */
static int record_at_time(rill_log *log, rill_segment *s, const rill_batch_hdr *h, int64_t pos,
                          int64_t ts, int64_t *offset, int64_t *found) {
    if (h->max_ts < ts)
        return 0;
    if (h->attrs & RILL_BATCH_ATTR_LOG_APPEND_TIME) {
        *offset = h->base_offset; /* every record carries the batch's maxTimestamp */
        *found = h->max_ts;
        return 1;
    }
    uint8_t *b = malloc((size_t)h->size);
    if (!b)
        return -1;
    int rc = -1;
    if (rill__fs_pread_all(s->fd, b, (size_t)h->size, pos) != 0)
        goto out;
    if (h->attrs & RILL_BATCH_ATTR_COMPRESSION) {
        int32_t delta = 0;
        int64_t t = h->max_ts;
        rc = 1;
        if (log->cfg.ts_finder) {
            rc = log->cfg.ts_finder(log->cfg.ts_finder_opaque, b, (size_t)h->size, ts, &delta, &t);
            if (rc < 0) /* undecodable: answer conservatively with the whole batch */
                rc = 1, delta = 0, t = h->max_ts;
        }
        *offset = h->base_offset + delta;
        *found = t;
        goto out;
    }
    /* Uncompressed: walk the records (length, attributes, timestampDelta, offsetDelta). */
    const uint8_t *p = b + RILL_BATCH_HDR_LEN, *end = b + h->size;
    rc = 0;
    for (int32_t i = 0; i < h->count && p < end; i++) {
        uint64_t u;
        size_t n = rill__uvarint_get(p, end, 5, &u);
        int64_t rlen = rill__unzigzag64(u);
        if (!n || rlen < 0 || rlen > end - p - (int64_t)n)
            break;
        const uint8_t *r = p + n, *rend = r + rlen;
        p = rend;
        if (rlen < 1)
            break;
        r++; /* attributes */
        uint64_t tsd, od;
        size_t a = rill__uvarint_get(r, rend, 10, &tsd);
        size_t c = a ? rill__uvarint_get(r + a, rend, 5, &od) : 0;
        if (!c)
            break;
        int64_t t = h->base_ts + rill__unzigzag64(tsd);
        if (t >= ts) {
            *offset = h->base_offset + rill__unzigzag64(od);
            *found = t;
            rc = 1;
            break;
        }
    }
out:
    free(b);
    return rc;
}

rill_err_t rill__log_offset_for_time(rill_log *log, int64_t ts, int64_t *offset,
                                     int64_t *found_ts) {
    int64_t hw = rill__log_high_watermark(log);
    *offset = -1;
    *found_ts = -1;
    if (ts == RILL_LIST_EARLIEST) {
        *offset = log->log_start;
        return RILL_ERR_NO_ERROR;
    }
    if (ts == RILL_LIST_LATEST) {
        *offset = hw;
        return RILL_ERR_NO_ERROR;
    }
    size_t first = rill__log_seg_index(log, log->log_start);
    if (ts == RILL_LIST_MAX_TIMESTAMP) {
        int64_t best = -1;
        size_t at = log->nseg;
        for (size_t i = first; i < log->nseg; i++)
            if (log->segs[i]->max_ts > best && log->segs[i]->max_ts_offset >= log->log_start &&
                log->segs[i]->max_ts_offset < hw) {
                best = log->segs[i]->max_ts;
                at = i;
            }
        if (at == log->nseg)
            return RILL_ERR_NO_ERROR;
        first = at;
        ts = best;
    } else if (ts < 0) {
        return RILL_ERR_INVALID_REQUEST;
    }
    for (size_t i = first; i < log->nseg; i++) {
        rill_segment *s = log->segs[i];
        if (s->max_ts < ts)
            continue;
        int64_t from = s->base + rill__tidx_lookup(&s->tidx, ts);
        if (from < log->log_start)
            from = log->log_start;
        rill_seg_iter it;
        rill_batch_hdr h;
        int64_t pos;
        int r = find_batch(log, s, from, visible_end(log, s), &it, &h, &pos);
        while (r == 1) {
            int64_t off, t;
            int k = record_at_time(log, s, &h, pos, ts, &off, &t);
            if (k < 0)
                return RILL_ERR_KAFKA_STORAGE_ERROR;
            if (k == 1 && off >= log->log_start) {
                if (off < hw) {
                    *offset = off;
                    *found_ts = t;
                }
                return RILL_ERR_NO_ERROR;
            }
            r = rill__seg_iter_next(&it, &h, &pos, 0);
        }
        if (r < 0)
            return RILL_ERR_KAFKA_STORAGE_ERROR;
    }
    return RILL_ERR_NO_ERROR;
}

/* ---- flush ------------------------------------------------------------------------ */

int rill__log_flush_due(const rill_log *log, int64_t now_ms, int sealed) {
    if (log->failed || log->flushing)
        return 0;
    int64_t unflushed = log->leo - log->flushed;
    if (unflushed > 0 && unflushed >= log->cfg.flush_messages)
        return 1;
    if (unflushed > 0 && log->first_unflushed_ms >= 0 &&
        now_ms - log->first_unflushed_ms >= log->cfg.flush_ms)
        return 1;
    if (sealed)
        for (size_t i = 0; i + 1 < log->nseg; i++)
            if (log->segs[i]->unsynced)
                return 1;
    return 0;
}

rill_err_t rill__log_flush_begin(rill_log *log, int sealed_only, rill_log_flush_job *job) {
    memset(job, 0, sizeof(*job));
    job->dirfd = -1;
    if (log->failed || log->flushing)
        return RILL_ERR_KAFKA_STORAGE_ERROR;
    size_t upto = sealed_only ? log->nseg - 1 : log->nseg, n = 0;
    for (size_t i = 0; i < upto; i++)
        n += log->segs[i]->unsynced;
    job->segs = n ? malloc(n * sizeof(*job->segs)) : NULL;
    job->sizes = n ? malloc(n * sizeof(*job->sizes)) : NULL;
    if (n && (!job->segs || !job->sizes)) {
        free(job->segs);
        free(job->sizes);
        memset(job, 0, sizeof(*job));
        job->dirfd = -1;
        return RILL_ERR_KAFKA_STORAGE_ERROR;
    }
    for (size_t i = 0; i < upto; i++) {
        rill_segment *s = log->segs[i];
        if (!s->unsynced)
            continue;
        s->unsynced = 0;
        rill__segment_ref(s);
        job->segs[job->nseg] = s;
        job->sizes[job->nseg++] = s->size;
    }
    if (log->dir_unsynced) {
        job->dirfd = dup(log->dirfd);
        if (job->dirfd < 0) {
            for (size_t i = 0; i < job->nseg; i++) {
                job->segs[i]->unsynced = 1;
                rill__segment_unref(job->segs[i]);
            }
            free(job->segs);
            free(job->sizes);
            memset(job, 0, sizeof(*job));
            job->dirfd = -1;
            return RILL_ERR_KAFKA_STORAGE_ERROR;
        }
        log->dir_unsynced = 0;
    }
    job->upto = sealed_only ? rill__log_active(log)->base : log->leo;
    if (job->upto < log->flushed)
        job->upto = log->flushed;
    log->flushing = 1;
    log->since_begin_ms = -1;
    return RILL_ERR_NO_ERROR;
}

int rill__log_flush_run(rill_log_flush_job *job) {
    job->run_rc = 0;
    for (size_t i = 0; i < job->nseg && job->run_rc == 0; i++)
        if (fdatasync(job->segs[i]->fd) != 0)
            job->run_rc = -1;
    if (job->run_rc == 0 && job->dirfd >= 0 && fsync(job->dirfd) != 0)
        job->run_rc = -1;
    return job->run_rc;
}

rill_err_t rill__log_flush_end(rill_log *log, rill_log_flush_job *job, int64_t *flushed) {
    rill_err_t err = RILL_ERR_NO_ERROR;
    if (job->run_rc != 0) {
        RILL_LOG(log->cfg.logger, RILL_LOG_CRIT, "storage",
                 "%s: fsync failed (%s): the log refuses writes until restarted", log->dir,
                 strerror(errno));
        log->failed = 1;
        err = RILL_ERR_KAFKA_STORAGE_ERROR;
    } else {
        for (size_t i = 0; i < job->nseg; i++)
            if (job->segs[i]->synced_size < job->sizes[i])
                job->segs[i]->synced_size = job->sizes[i];
        if (job->upto > log->flushed)
            log->flushed = job->upto;
    }
    for (size_t i = 0; i < job->nseg; i++)
        rill__segment_unref(job->segs[i]);
    if (job->dirfd >= 0)
        close(job->dirfd);
    free(job->segs);
    free(job->sizes);
    memset(job, 0, sizeof(*job));
    job->dirfd = -1;
    log->flushing = 0;
    log->first_unflushed_ms = log->leo > log->flushed ? log->since_begin_ms : -1;
    if (log->leo > log->flushed && log->first_unflushed_ms < 0)
        log->first_unflushed_ms = 0; /* unknown age: due at the next check */
    if (flushed)
        *flushed = log->flushed;
    return err;
}

rill_err_t rill__log_flush(rill_log *log, int64_t *flushed) {
    rill_log_flush_job job;
    rill_err_t err = rill__log_flush_begin(log, 0, &job);
    if (err)
        return err;
    rill__log_flush_run(&job);
    return rill__log_flush_end(log, &job, flushed);
}

/* ---- retention -------------------------------------------------------------------- */

static int64_t largest_ts(const rill_segment *s) {
    if (s->max_ts >= 0)
        return s->max_ts;
    struct stat st;
    if (fstat(s->fd, &st) != 0)
        return INT64_MAX;
    return (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
}

size_t rill__log_retain(rill_log *log, int64_t now_ms) {
    const rill_log_config *c = &log->cfg;
    int64_t hw = rill__log_high_watermark(log);
    int64_t excess = c->retention_bytes >= 0 ? rill__log_size_bytes(log) - c->retention_bytes : 0;
    size_t n = 0;
    /* Oldest first, stopping at the first segment to keep (Kafka's deletableSegments). */
    while (n < log->nseg) {
        rill_segment *s = log->segs[n];
        int last = n + 1 == log->nseg;
        int64_t upper = last ? log->leo : log->segs[n + 1]->base;
        if (upper > hw || (last && s->size == 0))
            break;
        int below_start = !last && upper <= log->log_start;
        /* Time and size delete only under cleanup.policy delete (compact alone keeps all). */
        int deletes = c->cleanup_policy & RILL_CLEANUP_DELETE;
        int by_time = deletes && c->retention_ms >= 0 && now_ms - largest_ts(s) > c->retention_ms;
        int by_size = deletes && c->retention_bytes >= 0 && excess - s->size >= 0;
        if (!below_start && !by_time && !by_size)
            break;
        excess -= s->size;
        n++;
    }
    /* Deleting the active segment too: roll first, a log always has one segment. */
    if (n && n == log->nseg && (log->failed || roll(log, now_ms) != RILL_ERR_NO_ERROR))
        n--;
    if (n)
        drop_head(log, n);
    return n;
}

rill_err_t rill__log_delete_records(rill_log *log, int64_t offset, int64_t *low_watermark) {
    int64_t hw = rill__log_high_watermark(log);
    if (offset == -1)
        offset = hw;
    if (low_watermark)
        *low_watermark = log->log_start;
    if (offset < 0 || offset > hw)
        return RILL_ERR_OFFSET_OUT_OF_RANGE;
    if (offset <= log->log_start)
        return RILL_ERR_NO_ERROR;
    log->log_start = offset;
    size_t n = 0;
    while (n + 1 < log->nseg && log->segs[n + 1]->base <= offset)
        n++;
    if (n)
        drop_head(log, n);
    if (low_watermark)
        *low_watermark = log->log_start;
    /* The new log start must survive a restart before the caller reports it. */
    if (log->dir_unsynced && fsync(log->dirfd) == 0)
        log->dir_unsynced = 0;
    return rill__log_checkpoint(log, 1);
}
