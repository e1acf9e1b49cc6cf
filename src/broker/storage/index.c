/*
 * index.c -- sparse offset and time indexes: heap arrays while active, read-only mmaps
 * once sealed, checked entry by entry when loaded (see index.h for why).
 */
#include "broker/storage/index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/storage/fsutil.h"
#include "common/endian.h"

void rill__index_init(rill_index *ix, size_t entry_size, size_t max_entries) {
    memset(ix, 0, sizeof(*ix));
    ix->entry_size = (uint8_t)entry_size;
    ix->max = max_entries < 2 ? 2 : max_entries;
}

static void release(rill_index *ix) {
    if (ix->mapped) {
        if (ix->data)
            munmap(ix->data, ix->map_len);
    } else {
        free(ix->data);
    }
    ix->data = NULL;
    ix->n = ix->cap = ix->map_len = 0;
    ix->mapped = 0;
}

void rill__index_free(rill_index *ix) { release(ix); }

void rill__index_reset(rill_index *ix) { release(ix); }

int rill__index_full(const rill_index *ix) { return ix->n + 2 > ix->max; }

static int reserve(rill_index *ix) {
    if (ix->mapped) {
        /* A sealed index is immutable; copy it back to the heap (recovery only). */
        size_t n = ix->n;
        uint8_t *d = malloc((n ? n : 1) * ix->entry_size);
        if (!d)
            return -1;
        if (n)
            memcpy(d, ix->data, n * ix->entry_size);
        munmap(ix->data, ix->map_len);
        ix->data = d;
        ix->cap = n ? n : 1;
        ix->mapped = 0;
        ix->map_len = 0;
    }
    if (ix->n < ix->cap)
        return 0;
    if (ix->n >= ix->max)
        return -1;
    size_t cap = ix->cap ? ix->cap * 2 : 64;
    if (cap > ix->max)
        cap = ix->max;
    uint8_t *d = realloc(ix->data, cap * ix->entry_size);
    if (!d)
        return -1;
    ix->data = d;
    ix->cap = cap;
    return 0;
}

int32_t rill__oidx_rel(const rill_index *ix, size_t i) {
    return (int32_t)rill__ld32(ix->data + i * RILL_OIDX_ENTRY);
}
int32_t rill__oidx_pos(const rill_index *ix, size_t i) {
    return (int32_t)rill__ld32(ix->data + i * RILL_OIDX_ENTRY + 4);
}
int64_t rill__tidx_ts(const rill_index *ix, size_t i) {
    return (int64_t)rill__ld64(ix->data + i * RILL_TIDX_ENTRY);
}
int32_t rill__tidx_rel(const rill_index *ix, size_t i) {
    return (int32_t)rill__ld32(ix->data + i * RILL_TIDX_ENTRY + 8);
}

int rill__oidx_append(rill_index *ix, int32_t rel, int32_t pos) {
    if (ix->n && (rel <= rill__oidx_rel(ix, ix->n - 1) || pos <= rill__oidx_pos(ix, ix->n - 1)))
        return -1;
    if (reserve(ix) != 0)
        return -1;
    uint8_t *e = ix->data + ix->n * RILL_OIDX_ENTRY;
    rill__st32(e, (uint32_t)rel);
    rill__st32(e + 4, (uint32_t)pos);
    ix->n++;
    return 0;
}

int rill__tidx_maybe_append(rill_index *ix, int64_t ts, int32_t rel) {
    if (ix->n && ts <= rill__tidx_ts(ix, ix->n - 1))
        return 0;
    if (reserve(ix) != 0)
        return -1;
    uint8_t *e = ix->data + ix->n * RILL_TIDX_ENTRY;
    rill__st64(e, (uint64_t)ts);
    rill__st32(e + 8, (uint32_t)rel);
    ix->n++;
    return 0;
}

int64_t rill__oidx_lookup(const rill_index *ix, int64_t rel) {
    size_t lo = 0, hi = ix->n; /* first entry with rel > target */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rill__oidx_rel(ix, mid) <= rel)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? rill__oidx_pos(ix, lo - 1) : 0;
}

int64_t rill__oidx_floor_pos(const rill_index *ix, int64_t pos) {
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rill__oidx_pos(ix, mid) <= pos)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? rill__oidx_pos(ix, lo - 1) : -1;
}

int32_t rill__tidx_lookup(const rill_index *ix, int64_t ts) {
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rill__tidx_ts(ix, mid) <= ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? rill__tidx_rel(ix, lo - 1) : 0;
}

int rill__index_save(const rill_index *ix, const char *path) {
    char tmp[4096];
    if (rill__fs_path(tmp, sizeof(tmp), "%s.tmp", path) != 0)
        return -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    /* Synced: a sealed segment's max timestamp is read back from its time index, so a
     * short file after a power loss would make the segment look older than it is. */
    if (rill__fs_write_all(fd, ix->data, ix->n * ix->entry_size) != 0 || fsync(fd) != 0 ||
        close(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
        return -1;
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

/* Replaces the entries with a read-only mapping of `len` bytes of fd (len may be 0). */
static int map_file(rill_index *ix, int fd, size_t len) {
    void *p = NULL;
    if (len) {
        p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED)
            return -1;
    }
    release(ix);
    ix->data = p;
    ix->n = len / ix->entry_size;
    ix->map_len = len;
    ix->mapped = 1;
    return 0;
}

int rill__index_seal(rill_index *ix, const char *path) {
    if (ix->mapped)
        return 0;
    if (rill__index_save(ix, path) != 0)
        return -1;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = map_file(ix, fd, ix->n * ix->entry_size);
    close(fd);
    return rc;
}

/* Opens and maps or copies the file; the caller checks the entries. */
static int load(rill_index *ix, const char *path, int map) {
    release(ix);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size % ix->entry_size != 0 ||
        (uint64_t)st.st_size / ix->entry_size > ix->max) {
        close(fd);
        return -1;
    }
    size_t len = (size_t)st.st_size;
    int rc;
    if (map) {
        rc = map_file(ix, fd, len);
    } else {
        size_t n = len / ix->entry_size;
        ix->data = malloc((n ? n : 1) * ix->entry_size);
        rc = ix->data && (!len || rill__fs_pread_all(fd, ix->data, len, 0) == 0) ? 0 : -1;
        ix->n = rc == 0 ? n : 0;
        ix->cap = n ? n : 1;
    }
    close(fd);
    return rc;
}

int rill__oidx_load(rill_index *ix, const char *path, int64_t log_size, int64_t rel_limit,
                    int map) {
    if (load(ix, path, map) != 0) {
        release(ix);
        return -1;
    }
    int64_t prev_rel = -1, prev_pos = -1;
    for (size_t i = 0; i < ix->n; i++) {
        int64_t rel = rill__oidx_rel(ix, i), pos = rill__oidx_pos(ix, i);
        if (rel <= prev_rel || pos <= prev_pos || rel >= rel_limit || pos >= log_size) {
            release(ix);
            return -1;
        }
        prev_rel = rel;
        prev_pos = pos;
    }
    return 0;
}

int rill__tidx_load(rill_index *ix, const char *path, int64_t rel_limit, int map) {
    if (load(ix, path, map) != 0) {
        release(ix);
        return -1;
    }
    int64_t prev_rel = 0;
    for (size_t i = 0; i < ix->n; i++) {
        int64_t rel = rill__tidx_rel(ix, i);
        if ((i && rill__tidx_ts(ix, i) <= rill__tidx_ts(ix, i - 1)) || rel < prev_rel ||
            rel >= rel_limit) {
            release(ix);
            return -1;
        }
        prev_rel = rel;
    }
    return 0;
}
