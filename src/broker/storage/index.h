/*
 * index.h -- the two sparse per-segment indexes, in Kafka's on-disk layout.
 *
 * Offset index (.index): 8-byte entries, relative offset int32 -> file position int32,
 * big-endian, strictly increasing in both.  An entry names the base offset of a batch and
 * where that batch starts; one is added every `index.interval.bytes` of log, so finding an
 * offset is a binary search plus a scan of at most that many bytes.
 *
 * Time index (.timeindex): 12-byte entries, timestamp int64 -> relative offset int32.  An
 * entry (T, R) says: every batch before relative offset R has a max timestamp below T, and
 * no batch up to the point the entry was written has one above T.  So the first record
 * with timestamp >= X is at or after the R of the last entry with T <= X.  Timestamps are
 * strictly increasing.
 *
 * How they are kept (a choice, made for these reasons):
 *   - The active segment's indexes are heap arrays that grow geometrically (bounded by
 *     `segment.index.bytes`), not a preallocated mmap as in Kafka.  Appending is a
 *     memcpy, nothing is written to disk per entry, and there is never a preallocated,
 *     zero-filled tail to trim or to misread after a crash.
 *   - When a segment is sealed (roll) or the log is closed cleanly, its indexes are
 *     written out whole and re-opened as read-only mmaps, so old segments cost page cache,
 *     not heap, and the kernel can drop them.
 *   - Index files are written whole (tmp + rename, fsynced: a sealed segment's max
 *     timestamp is read back from its last time entry) and never trusted blindly: loading
 *     checks the size and that every entry is in range and monotonic; anything else is
 *     rebuilt from the .log (Kafka likewise does not checksum indexes and rebuilds them
 *     after a crash).
 *   - After an unclean shutdown the active segment's indexes are rebuilt by recovery,
 *     which has to scan that segment anyway.
 */
#ifndef RILL_STORAGE_INDEX_H
#define RILL_STORAGE_INDEX_H

#include <stddef.h>
#include <stdint.h>

#define RILL_OIDX_ENTRY 8
#define RILL_TIDX_ENTRY 12

typedef struct rill_index {
    uint8_t *data;      /* n entries in file layout */
    size_t n;           /* entries */
    size_t cap;         /* entries allocated (heap) */
    size_t max;         /* entries allowed before the segment must roll */
    size_t map_len;     /* bytes mapped when mapped */
    uint8_t entry_size; /* RILL_OIDX_ENTRY or RILL_TIDX_ENTRY */
    uint8_t mapped;     /* data is a read-only mmap: no more appends */
} rill_index;

void rill__index_init(rill_index *ix, size_t entry_size, size_t max_entries);
void rill__index_free(rill_index *ix);
/* Drops all entries (rebuild), back to an empty heap index. */
void rill__index_reset(rill_index *ix);
/* True when one more entry (plus the final time entry written at roll) would not fit. */
int rill__index_full(const rill_index *ix);

/* Offset index. */
int rill__oidx_append(rill_index *ix, int32_t rel, int32_t pos);
int32_t rill__oidx_rel(const rill_index *ix, size_t i);
int32_t rill__oidx_pos(const rill_index *ix, size_t i);
/* File position of the last entry with relative offset <= rel; 0 when there is none. */
int64_t rill__oidx_lookup(const rill_index *ix, int64_t rel);
/* Position of the last entry whose position is <= pos, or -1 when there is none. */
int64_t rill__oidx_floor_pos(const rill_index *ix, int64_t pos);

/* Time index.  Appends only when ts is above the last entry's timestamp. */
int rill__tidx_maybe_append(rill_index *ix, int64_t ts, int32_t rel);
int64_t rill__tidx_ts(const rill_index *ix, size_t i);
int32_t rill__tidx_rel(const rill_index *ix, size_t i);
/* Relative offset from which to scan for the first timestamp >= ts (0 when no entry). */
int32_t rill__tidx_lookup(const rill_index *ix, int64_t ts);

/*
 * Writes the entries to `path` (via path.tmp, fsync, rename) and switches the index
 * to a read-only mmap of that file.  Returns 0 or -1 (the in-memory entries stay usable).
 */
int rill__index_seal(rill_index *ix, const char *path);
/* Writes the entries to `path` without sealing (clean shutdown of the active segment). */
int rill__index_save(const rill_index *ix, const char *path);

/*
 * Loads an index file written by seal/save and sanity-checks every entry: positions below
 * log_size (offset index), relative offsets below rel_limit, strictly increasing.  With
 * `map` the index becomes a read-only mmap (sealed segment), otherwise a heap copy that
 * can still be appended to (active segment).  Returns 0, or -1 when the file is missing or
 * fails the checks (the index is then left empty, to be rebuilt).
 */
int rill__oidx_load(rill_index *ix, const char *path, int64_t log_size, int64_t rel_limit, int map);
int rill__tidx_load(rill_index *ix, const char *path, int64_t rel_limit, int map);

#endif
