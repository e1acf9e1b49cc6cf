/*
 * storeprobe.c -- what keeping bytes costs on this machine, for bench/RESULTS.md.
 *
 * A broker that keeps what it acknowledges copies every byte into memory it
 * has not used before (the page cache of a new segment); librdkafka's mock
 * cluster keeps at most 5 MiB per partition and reuses the same memory.  On
 * a VM that hands freed memory back to its host, first touch is the cost
 * that separates the two, so the bench measures it next to the runs:
 *
 *   fresh   1 MiB pwrites into a new file (new page-cache pages)
 *   warm    the same bytes written again over the cached pages
 *   direct  1 MiB O_DIRECT writes into a new file (no page cache: the disk)
 *   anon    first touch of new anonymous memory (what a malloc'd store pays)
 *
 * usage: storeprobe DIR [MIB]   (default 1024 MiB; the files are removed)
 * Prints one line:
 *   storeprobe: MIB MiB: fresh_gbs=F fresh_cpu_s=C warm_gbs=W direct_gbs=D anon_gbs=A
 * Exit 1 if a write fails (direct_gbs=0 when the filesystem refuses O_DIRECT).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (1u << 20)

static double now_s(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Writes mib chunks of buf to fd from offset 0; 0 or -1. */
static int write_all(int fd, const char *buf, size_t mib) {
    for (size_t i = 0; i < mib; i++) {
        size_t done = 0;
        while (done < CHUNK) {
            ssize_t w = pwrite(fd, buf + done, CHUNK - done, (off_t)(i * CHUNK + done));
            if (w <= 0)
                return -1;
            done += (size_t)w;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: storeprobe DIR [MIB]\n");
        return 2;
    }
    size_t mib = argc > 2 ? (size_t)atol(argv[2]) : 1024;
    if (mib == 0)
        return 2;
    double gb = (double)mib * CHUNK / 1e9;
    char path[4096];
    snprintf(path, sizeof(path), "%s/storeprobe.%d", argv[1], (int)getpid());
    char *buf = NULL;
    if (posix_memalign((void **)&buf, 4096, CHUNK) != 0)
        return 1;
    memset(buf, 'x', CHUNK);

    /* fresh, then warm over the same file */
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0644);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    double t0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
    int rc = write_all(fd, buf, mib);
    double fresh_s = now_s(CLOCK_MONOTONIC) - t0;
    double fresh_cpu = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    t0 = now_s(CLOCK_MONOTONIC);
    rc |= write_all(fd, buf, mib);
    double warm_s = now_s(CLOCK_MONOTONIC) - t0;
    close(fd);
    unlink(path);

    /* direct */
    double direct_gbs = 0;
    fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | O_DIRECT, 0644);
    if (fd >= 0) {
        t0 = now_s(CLOCK_MONOTONIC);
        if (write_all(fd, buf, mib) == 0)
            direct_gbs = gb / (now_s(CLOCK_MONOTONIC) - t0);
        close(fd);
        unlink(path);
    }

    /* anon: a fresh mapping, every page touched by the copy */
    double anon_gbs = 0;
    char *m = mmap(NULL, mib * CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED) {
        t0 = now_s(CLOCK_MONOTONIC);
        for (size_t i = 0; i < mib; i++)
            memcpy(m + i * CHUNK, buf, CHUNK);
        anon_gbs = gb / (now_s(CLOCK_MONOTONIC) - t0);
        munmap(m, mib * CHUNK);
    }
    free(buf);
    if (rc) {
        fprintf(stderr, "storeprobe: write failed\n");
        return 1;
    }
    printf("storeprobe: %zu MiB: fresh_gbs=%.2f fresh_cpu_s=%.2f warm_gbs=%.2f direct_gbs=%.2f "
           "anon_gbs=%.2f\n",
           mib, gb / fresh_s, fresh_cpu, gb / warm_s, direct_gbs, anon_gbs);
    return 0;
}
