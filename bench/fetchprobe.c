/*
 * fetchprobe -- how fast a broker serves Fetch, without a consumer's decoding in the way.
 *
 * usage: fetchprobe HOST:PORT TOPIC PARTITION COUNT [PARTITION_MAX_BYTES]
 *
 * Speaks Fetch v4 itself on one connection (plain sockets, no client library):
 * one request in flight, as a consumer has per broker, each asking for up to
 * PARTITION_MAX_BYTES (default 1 MiB, the consumers' max.partition.fetch.bytes)
 * from the offset after the last whole batch of the previous answer.  Answers
 * are read into one buffer and only the record batches' 61-byte headers are
 * looked at; records are neither checked nor decompressed.  So the figure is
 * the broker's Fetch path plus the loopback copy into a reader, which is what
 * a consumer could get at best; bench/rdconsume.c and `rill perf consume` show
 * what real consumers get.  Stops at COUNT records (or at the high watermark)
 * and prints one line in the shape of the other probes:
 *
 *   fetchprobe: N msgs x S B in T s: R msgs/s M MB/s cpu=C s (X ns/msg)
 *   maxrss=K KiB delivered=N failed=0
 *
 * where S is the mean record batch bytes per record and MB/s counts batch bytes.
 * The clock starts before the first request (connection set-up excluded).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint32_t ld32(const uint8_t *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static uint64_t ld64(const uint8_t *p) { return (uint64_t)ld32(p) << 32 | ld32(p + 4); }
static uint8_t *st16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}
static uint8_t *st32(uint8_t *p, uint32_t v) {
    p = st16(p, (uint16_t)(v >> 16));
    return st16(p, (uint16_t)v);
}
static uint8_t *st64(uint8_t *p, uint64_t v) {
    p = st32(p, (uint32_t)(v >> 32));
    return st32(p, (uint32_t)v);
}

static int read_full(int fd, uint8_t *p, size_t n) {
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const uint8_t *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void die(const char *what) {
    fprintf(stderr, "fetchprobe: %s\n", what);
    exit(1);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr,
                "usage: fetchprobe HOST:PORT TOPIC PARTITION COUNT [PARTITION_MAX_BYTES]\n");
        return 2;
    }
    char host[256];
    snprintf(host, sizeof(host), "%s", argv[1]);
    char *colon = strrchr(host, ':');
    if (!colon)
        die("expected HOST:PORT");
    *colon = '\0';
    const char *topic = argv[2];
    int32_t partition = atoi(argv[3]);
    long want = atol(argv[4]);
    int32_t pmax = argc > 5 ? atoi(argv[5]) : 1 << 20;
    size_t tlen = strlen(topic);
    if (want <= 0 || pmax <= 0 || tlen > 249)
        die("bad arguments");

    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        die("HOST must be an IPv4 address");
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
        die("cannot connect");

    size_t cap = (size_t)pmax + (1u << 20);
    uint8_t *resp = malloc(cap), req[512];
    if (!resp)
        die("out of memory");
    long got = 0;
    int64_t offset = 0, bytes = 0, hw = -1;
    int32_t corr = 0;
    struct rusage ru0, ru1;
    getrusage(RUSAGE_SELF, &ru0);
    double t0 = now_s();
    while (got < want && (hw < 0 || offset < hw)) {
        /* Fetch v4: header v1, replica -1, max wait 500 ms, min 1 byte, read uncommitted. */
        uint8_t *p = req + 4;
        p = st16(p, 1);
        p = st16(p, 4);
        p = st32(p, (uint32_t)++corr);
        p = st16(p, 10);
        memcpy(p, "fetchprobe", 10);
        p += 10;
        p = st32(p, (uint32_t)-1);
        p = st32(p, 500);
        p = st32(p, 1);
        p = st32(p, (uint32_t)pmax);
        *p++ = 0;
        p = st32(p, 1);
        p = st16(p, (uint16_t)tlen);
        memcpy(p, topic, tlen);
        p += tlen;
        p = st32(p, 1);
        p = st32(p, (uint32_t)partition);
        p = st64(p, (uint64_t)offset);
        p = st32(p, (uint32_t)pmax);
        st32(req, (uint32_t)(p - req - 4));
        if (write_full(fd, req, (size_t)(p - req)) != 0)
            die("write failed");

        uint8_t sz[4];
        if (read_full(fd, sz, 4) != 0)
            die("connection closed");
        size_t n = ld32(sz);
        if (n > cap || n < 4 + 4 + 4 + 2 + tlen + 4 + 4 + 2 + 8 + 8 + 4 + 4)
            die("unexpected response size");
        if (read_full(fd, resp, n) != 0)
            die("connection closed");
        /* corr, throttle, [topics]=1, topic, [partitions]=1, partition, error, hw, lso */
        const uint8_t *q = resp + 4 + 4 + 4 + 2 + tlen + 4 + 4;
        int16_t err = (int16_t)((q[0] << 8) | q[1]);
        if (err)
            die("the partition answered an error");
        hw = (int64_t)ld64(q + 2);
        q += 2 + 8 + 8;
        int32_t naborted = (int32_t)ld32(q);
        q += 4 + (naborted > 0 ? (size_t)naborted * 16 : 0);
        int32_t rlen = (int32_t)ld32(q);
        q += 4;
        if (rlen < 0 || q + rlen > resp + n)
            die("bad records length");
        /* Whole batches only: a partial last batch is fetched again next time. */
        for (const uint8_t *b = q, *end = q + rlen; end - b >= 61;) {
            int64_t base = (int64_t)ld64(b);
            uint32_t blen = ld32(b + 8);
            if ((size_t)(end - b) < 12 + (size_t)blen)
                break;
            int32_t last_delta = (int32_t)ld32(b + 23);
            int32_t count = (int32_t)ld32(b + 57);
            if (base + last_delta >= offset) {
                got += count;
                offset = base + last_delta + 1;
            }
            bytes += 12 + (int64_t)blen;
            b += 12 + blen;
        }
    }
    double dt = now_s() - t0;
    getrusage(RUSAGE_SELF, &ru1);
    double cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec) +
                 (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec) / 1e6 +
                 (double)(ru1.ru_stime.tv_sec - ru0.ru_stime.tv_sec) +
                 (double)(ru1.ru_stime.tv_usec - ru0.ru_stime.tv_usec) / 1e6;
    printf(
        "fetchprobe: %ld msgs x %.0f B in %.3f s: %.0f msgs/s %.1f MB/s cpu=%.3f s (%.0f ns/msg) "
        "maxrss=%ld KiB delivered=%ld failed=0\n",
        got, got ? (double)bytes / (double)got : 0.0, dt, (double)got / dt,
        (double)bytes / dt / 1e6, cpu, cpu / (double)(got ? got : 1) * 1e9, ru1.ru_maxrss, got);
    close(fd);
    free(resp);
    return got >= want ? 0 : 1;
}
