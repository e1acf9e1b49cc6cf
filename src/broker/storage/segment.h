/*
 * segment.h -- one log segment: `<20-digit base offset>.log` plus its `.index` and
 * `.timeindex`, and a batch iterator over the .log.
 *
 * A segment's .log holds record batches back to back, exactly in the v2 wire format with
 * baseOffset already assigned; batch i+1 starts where batch i ends and its base offset is
 * batch i's last offset + 1.  The in-memory fields below are derived from the file and
 * are rebuilt by a scan whenever the file cannot be trusted (recovery.c).
 *
 * Lifetime: a segment is reference counted, because a fetch hands its fd to the server
 * (sendfile) and a flush may be fdatasync'ing it on another thread while retention deletes
 * it.  Deleting unlinks the files at once; the fd and mappings go with the last reference.
 * Everything except the fd use by a reference holder is single-threaded (the log's owner).
 */
#ifndef RILL_STORAGE_SEGMENT_H
#define RILL_STORAGE_SEGMENT_H

#include <stddef.h>
#include <stdint.h>

#include "broker/storage/batch_hdr.h"
#include "broker/storage/index.h"

typedef struct rill_segment {
    int64_t base;          /* offset of its first record; the file name */
    int fd;                /* the .log, read-write */
    int64_t size;          /* bytes of whole, valid batches (appends go here) */
    int64_t next_offset;   /* offset after its last batch (== base when empty) */
    int64_t max_ts;        /* largest batch maxTimestamp, -1 when none */
    int64_t max_ts_offset; /* base offset of the first batch that reached max_ts */
    int64_t roll_ts;       /* first batch's maxTimestamp if >= 0, else creation (segment.ms) */
    int64_t bytes_since_index;
    int64_t synced_size; /* bytes known to be on stable storage (fdatasync'd) */
    int64_t reserved;    /* file blocks allocated ahead of appends up to here (fallocate) */
    rill_index oidx;
    rill_index tidx;
    int refs;
    unsigned unsynced : 1;   /* written since its last fdatasync */
    unsigned sealed : 1;     /* no longer the active segment */
    unsigned removed : 1;    /* files unlinked */
    unsigned no_reserve : 1; /* the file system cannot preallocate: appends just write */
    char path[];             /* "<dir>/<20-digit base>", no suffix */
} rill_segment;

/*
 * Creates an empty segment at `base` in `dir` (an existing file of that name is
 * truncated: it can only be a leftover of a crashed roll).  Returns NULL on error.
 */
rill_segment *rill__segment_create(const char *dir, int64_t base, int64_t now_ms, size_t oidx_max,
                                   size_t tidx_max);
/* Opens an existing segment; size is the file size, indexes are empty (load or rebuild)
 * with room for an entry per batch whatever segment.index.bytes says now. */
rill_segment *rill__segment_open(const char *dir, int64_t base, size_t oidx_max, size_t tidx_max);
void rill__segment_ref(rill_segment *s);
/* Drops a reference; the last one closes the fd, unmaps the indexes and frees. */
void rill__segment_unref(rill_segment *s);

/* "<path><suffix>" into out; -1 when it does not fit. */
int rill__segment_file(const rill_segment *s, const char *suffix, char *out, size_t cap);

/*
 * Accounts for a batch at file position `pos` that is now part of the segment (appended or
 * scanned): index entries every `interval` bytes, max timestamp, size, next offset.  An
 * index out of room (appends roll before that happens; a segment written under a larger
 * segment.index.bytes than today's can get there on recovery) or out of memory just gets
 * no entry: the index is sparse, lookups walk batch headers from the entry before, so
 * this never loses a batch.
 */
void rill__segment_note_batch(rill_segment *s, const rill_batch_hdr *h, int64_t pos,
                              int64_t interval);
/* Empties the in-memory state so a scan can rebuild it. */
void rill__segment_reset(rill_segment *s);
/* True when the segment cannot take another index entry. */
int rill__segment_index_full(const rill_segment *s);
/*
 * Adds the final time-index entry (the true max timestamp, as Kafka does on roll) and
 * writes both index files.  With `seal` (roll: the segment stops being the active one) the
 * indexes become read-only mmaps; without (clean close of the active segment) they stay
 * writable heap arrays.
 */
int rill__segment_write_indexes(rill_segment *s, int seal);
/*
 * Makes sure the .log's blocks up to `end` are allocated, in steps of a few MiB but never
 * past `limit` (the segment size), without changing the file size (appends then skip the
 * file system's per-page block allocation).  Best effort: failure only costs that saving.
 */
void rill__segment_reserve(rill_segment *s, int64_t end, int64_t limit);
/* Gives back the blocks reserved past the end of the data (the segment stops growing). */
void rill__segment_unreserve(rill_segment *s);
/* Truncates the .log to `size` bytes and forgets the indexes (recovery rebuilds them). */
int rill__segment_truncate(rill_segment *s, int64_t size);
/* Unlinks the segment's files and drops the caller's reference. */
void rill__segment_remove(rill_segment *s);

/*
 * Batch iterator over [start, end) of a .log through a caller buffer.  Each step reads the
 * header and (with validate) the whole batch for its CRC-32C, and checks that the batch
 * ends before `end`.  Reads are sequential and chunked, so scanning a segment costs one
 * pread per buffer, not one per batch.
 */
typedef struct rill_seg_iter {
    int fd;
    int64_t pos; /* file position of the next batch */
    int64_t end;
    uint8_t *buf;
    size_t cap; /* >= RILL_BATCH_HDR_LEN */
    int64_t buf_off;
    size_t buf_len;
} rill_seg_iter;

enum {
    RILL_ITER_BATCH = 1, /* *h and *pos describe the next batch */
    RILL_ITER_END = 0,   /* reached end exactly */
    RILL_ITER_BAD = -1,  /* bytes at it->pos are not a valid batch (torn, garbage, zeros) */
    RILL_ITER_IO = -2,   /* read error (errno) */
};

void rill__seg_iter_init(rill_seg_iter *it, int fd, int64_t start, int64_t end, uint8_t *buf,
                         size_t cap);
int rill__seg_iter_next(rill_seg_iter *it, rill_batch_hdr *h, int64_t *pos, int validate);
/*
 * Pointer to `n` bytes at file position `pos` through the iterator's buffer (n <= cap),
 * or NULL on a read error or when the range passes `end`.
 */
const uint8_t *rill__seg_iter_peek(rill_seg_iter *it, int64_t pos, size_t n);

#endif
