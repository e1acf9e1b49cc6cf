/*
 * crc32c.c -- CRC-32C with an SSE4.2 fast path (see crc32c.h).
 *
 * The tables are built once, lazily, under pthread_once so that concurrent
 * first calls are safe.  The hardware path is selected per process.
 *
 * The crc32 instruction has a latency of three cycles but can start one per
 * cycle: a single dependent chain runs at a third of its speed.  Long inputs
 * are therefore cut into three lanes computed side by side, and the lanes'
 * CRCs joined with a "shift by n zero bytes" operator (the linear algebra of
 * zlib's crc32_combine, precomputed into byte tables for two lane lengths).
 * The broker checks the CRC of every batch it is sent, so this is on its
 * produce path: a single chain cost 12% of its CPU at 1 KiB records.
 */
#include "common/crc32c.h"

#include <pthread.h>
#include <string.h>

#define POLY 0x82f63b78u /* reversed Castagnoli polynomial */

static uint32_t table[8][256];
static int hw;

/* Lane lengths of the hardware path: LONG for the bulk, SHORT for what is left. */
#define LANE_LONG 8192
#define LANE_SHORT 256
/* shift_long[k][b]: the register after LANE_LONG zero bytes, for byte k of it being b. */
static uint32_t shift_long[4][256], shift_short[4][256];

/* GF(2) matrix (32 columns, one bit each) times a vector. */
static uint32_t gf2_times(const uint32_t *mat, uint32_t vec) {
    uint32_t sum = 0;
    for (; vec; vec >>= 1, mat++)
        if (vec & 1)
            sum ^= *mat;
    return sum;
}

static void gf2_square(uint32_t *sq, const uint32_t *mat) {
    for (int n = 0; n < 32; n++)
        sq[n] = gf2_times(mat, mat[n]);
}

/* The tables that advance a CRC register over len zero bytes (len a power of two). */
static void build_shift(uint32_t out[4][256], size_t len) {
    uint32_t op[32], tmp[32];
    /* One zero bit: the register shifts right, the polynomial folds in the low bit. */
    op[0] = POLY;
    for (int n = 1; n < 32; n++)
        op[n] = 1u << (n - 1);
    /* Square three times for one zero byte, then once per doubling of the length. */
    for (size_t bits = 1; bits < 8 * len; bits *= 2) {
        gf2_square(tmp, op);
        memcpy(op, tmp, sizeof(op));
    }
    for (uint32_t b = 0; b < 256; b++)
        for (int k = 0; k < 4; k++)
            out[k][b] = gf2_times(op, b << (8 * k));
}

static uint32_t shift(uint32_t t[4][256], uint32_t crc) {
    return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
}
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? (c >> 1) ^ POLY : c >> 1;
        table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++)
        for (int t = 1; t < 8; t++)
            table[t][n] = (table[t - 1][n] >> 8) ^ table[0][table[t - 1][n] & 0xff];
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    hw = __builtin_cpu_supports("sse4.2");
#endif
    if (hw) {
        build_shift(shift_long, LANE_LONG);
        build_shift(shift_short, LANE_SHORT);
    }
}

uint32_t rill__crc32c_sw(uint32_t crc, const void *data, size_t len) {
    pthread_once(&once, init);
    const uint8_t *p = data;
    crc = ~crc;
    while (len >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        lo = __builtin_bswap32(lo);
        hi = __builtin_bswap32(hi);
#endif
        lo ^= crc;
        crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
              table[4][lo >> 24] ^ table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
              table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
    return ~crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const void *data,
                                                         size_t len) {
    const uint8_t *p = data;
    uint64_t c = ~crc;
    /* Three independent lanes; lanes 1 and 2 start from a zero register. */
    for (size_t lane = LANE_LONG; lane >= LANE_SHORT; lane = lane == LANE_LONG ? LANE_SHORT : 0) {
        uint32_t(*t)[256] = lane == LANE_LONG ? shift_long : shift_short;
        while (len >= 3 * lane) {
            uint64_t c1 = 0, c2 = 0;
            for (const uint8_t *end = p + lane; p < end; p += 8) {
                uint64_t v0, v1, v2;
                memcpy(&v0, p, 8);
                memcpy(&v1, p + lane, 8);
                memcpy(&v2, p + 2 * lane, 8);
                c = __builtin_ia32_crc32di(c, v0);
                c1 = __builtin_ia32_crc32di(c1, v1);
                c2 = __builtin_ia32_crc32di(c2, v2);
            }
            c = shift(t, (uint32_t)c) ^ (uint32_t)c1;
            c = shift(t, (uint32_t)c) ^ (uint32_t)c2;
            p += 2 * lane;
            len -= 3 * lane;
        }
    }
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c = __builtin_ia32_crc32di(c, v);
        p += 8;
        len -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (len--)
        c32 = __builtin_ia32_crc32qi(c32, *p++);
    return ~c32;
}
#endif

int rill__crc32c_hw_available(void) {
    pthread_once(&once, init);
    return hw;
}

uint32_t rill__crc32c(uint32_t crc, const void *data, size_t len) {
    pthread_once(&once, init);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (hw)
        return crc_hw(crc, data, len);
#endif
    return rill__crc32c_sw(crc, data, len);
}
