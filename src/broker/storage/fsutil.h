/*
 * fsutil.h -- the file-system steps storage repeats: whole reads and writes that survive
 * short counts and EINTR, directory fsync, atomic replacement of small files, recursive
 * removal.
 *
 * Atomic replacement is the classic sequence: write a temporary file (`.tmp` + random
 * suffix, in the same directory), fsync it, rename over
 * `<name>`, fsync the directory.  After a crash the file is either the old or the new
 * version, never a mix.  The `durable` flag skips both fsyncs for files whose loss is
 * harmless because they are checked (CRC) and rebuilt (index files, producer snapshots).
 *
 * All functions return 0 on success and -1 with errno set on failure.
 */
#ifndef RILL_STORAGE_FSUTIL_H
#define RILL_STORAGE_FSUTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

int rill__fs_write_all(int fd, const void *p, size_t n);
/* Reads exactly n bytes at off; a short file is an error (errno EIO). */
int rill__fs_pread_all(int fd, void *p, size_t n, int64_t off);
int rill__fs_fsync_dir(const char *dir);
/* mkdir -p; existing directories are fine; each one created is fsynced into its parent. */
int rill__fs_mkdirs(const char *path);
/* '~' is not a topic name character, so no topic's files or directories start with it. */
#define RILL_FS_TMP_PREFIX "~tmp"

/*
 * True for names of temporary files a crash may leave behind (safe to delete at open):
 * RILL_FS_TMP_PREFIX + 6 characters, "<file>.tmp", and ".tmp" + 6 letters or digits (the
 * prefix of earlier versions, told apart from a topic named ".tmp..." by having no '.' or '-').
 */
int rill__fs_is_tmp(const char *name);
/* Atomically replaces dir/name with data (see above). */
int rill__fs_write_atomic(const char *dir, const char *name, const void *data, size_t len,
                          int durable);
/*
 * Reads a whole file of at most max bytes into a malloc'd buffer (*out, caller frees).
 * Returns 0, or -1 (errno ENOENT when missing, EFBIG when larger than max).
 */
int rill__fs_read_file(const char *path, size_t max, uint8_t **out, size_t *len);
/* rm -rf; a missing path is success. */
int rill__fs_rmrf(const char *path);
/* snprintf into a fixed buffer; -1 (ENAMETOOLONG) when it does not fit. */
int rill__fs_path(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
