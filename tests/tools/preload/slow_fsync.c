/*
 * slow_fsync.c -- an LD_PRELOAD shim for interop tests: makes fdatasync(2) on chosen files
 * slow, as on a disk busy with other writers, so that tests can check what a slow sync
 * holds up and what it must not.
 *
 *   RILL_SLOW_FSYNC_MATCH  a substring of the file's path (from /proc/self/fd)
 *   RILL_SLOW_FSYNC_MS     how long each matching fdatasync sleeps before syncing
 *
 * Without both variables it only forwards to the real fdatasync.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef int (*fdatasync_fn)(int);

static void maybe_sleep(int fd) {
    const char *match = getenv("RILL_SLOW_FSYNC_MATCH");
    const char *ms = getenv("RILL_SLOW_FSYNC_MS");
    if (!match || !ms)
        return;
    char link[64], path[4096];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof(path) - 1);
    if (n <= 0)
        return;
    path[n] = '\0';
    if (!strstr(path, match))
        return;
    long v = strtol(ms, NULL, 10);
    struct timespec ts = {v / 1000, (v % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0)
        ;
}

__attribute__((visibility("default"))) int fdatasync(int fd) {
    /* Each thread may look it up; every lookup gives the same pointer. */
    fdatasync_fn real = (fdatasync_fn)dlsym(RTLD_NEXT, "fdatasync");
    maybe_sleep(fd);
    return real ? real(fd) : -1;
}
