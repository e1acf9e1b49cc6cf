/*
 * fsutil.c -- whole reads/writes, directory fsync, atomic small-file replacement, rm -rf.
 */
#include "broker/storage/fsutil.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int rill__fs_write_all(int fd, const void *p, size_t n) {
    const uint8_t *q = p;
    while (n) {
        ssize_t w = write(fd, q, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        q += w;
        n -= (size_t)w;
    }
    return 0;
}

int rill__fs_pread_all(int fd, void *p, size_t n, int64_t off) {
    uint8_t *q = p;
    while (n) {
        ssize_t r = pread(fd, q, n, (off_t)off);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (r == 0) {
            errno = EIO;
            return -1;
        }
        q += r;
        n -= (size_t)r;
        off += r;
    }
    return 0;
}

int rill__fs_fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

int rill__fs_mkdirs(const char *path) {
    char tmp[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(tmp, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (tmp[i] != '/' && tmp[i] != '\0')
            continue;
        char c = tmp[i];
        tmp[i] = '\0';
        if (mkdir(tmp, 0755) == 0) {
            /* The new entry lives in the parent: sync it there, or a power loss can take
             * the directory -- and every fsynced file in it -- away. */
            char *slash = strrchr(tmp, '/');
            int rc;
            if (!slash) {
                rc = rill__fs_fsync_dir(".");
            } else if (slash == tmp) {
                rc = rill__fs_fsync_dir("/");
            } else {
                *slash = '\0';
                rc = rill__fs_fsync_dir(tmp);
                *slash = '/';
            }
            if (rc != 0)
                return -1;
        } else if (errno != EEXIST) {
            return -1;
        }
        tmp[i] = c;
    }
    struct stat st;
    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

int rill__fs_path(char *out, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return 0;
}

int rill__fs_write_atomic(const char *dir, const char *name, const void *data, size_t len,
                          int durable) {
    char tmp[4096], dst[4096];
    /* A short temporary name: "<name>.tmp" would pass NAME_MAX for 249-character topics. */
    if (rill__fs_path(tmp, sizeof(tmp), "%s/" RILL_FS_TMP_PREFIX "XXXXXX", dir) != 0 ||
        rill__fs_path(dst, sizeof(dst), "%s/%s", dir, name) != 0)
        return -1;
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fchmod(fd, 0644) != 0) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
        return -1;
    }
    if (rill__fs_write_all(fd, data, len) != 0 || (durable && fsync(fd) != 0)) {
        int e = errno;
        close(fd);
        unlink(tmp);
        errno = e;
        return -1;
    }
    if (close(fd) != 0 || rename(tmp, dst) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return durable ? rill__fs_fsync_dir(dir) : 0;
}

int rill__fs_is_tmp(const char *name) {
    size_t n = strlen(name);
    if (strncmp(name, RILL_FS_TMP_PREFIX, strlen(RILL_FS_TMP_PREFIX)) == 0 ||
        (n > 4 && strcmp(name + n - 4, ".tmp") == 0))
        return 1;
    /* mkostemp's six characters are letters and digits; topic files hold a '.' there
     * (".tmp.topic", ".tmpab.topic") and partition directories a '-'. */
    if (n != 10 || strncmp(name, ".tmp", 4) != 0)
        return 0;
    for (size_t i = 4; i < n; i++)
        if (!isalnum((unsigned char)name[i]))
            return 0;
    return 1;
}

int rill__fs_read_file(const char *path, size_t max, uint8_t **out, size_t *len) {
    *out = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return -1;
    }
    if ((uint64_t)st.st_size > max) {
        close(fd);
        errno = EFBIG;
        return -1;
    }
    size_t n = (size_t)st.st_size;
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf || (n && rill__fs_pread_all(fd, buf, n, 0) != 0)) {
        int e = buf ? errno : ENOMEM;
        free(buf);
        close(fd);
        errno = e;
        return -1;
    }
    close(fd);
    *out = buf;
    *len = n;
    return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st;
    (void)ftw;
    int rc = (flag == FTW_DP) ? rmdir(path) : unlink(path);
    return rc != 0 && errno != ENOENT ? -1 : 0;
}

int rill__fs_rmrf(const char *path) {
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(st.st_mode))
        return unlink(path);
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
