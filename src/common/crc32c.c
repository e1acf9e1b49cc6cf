/*
 * crc32c.c -- CRC-32C with an SSE4.2 fast path (see crc32c.h).
 *
 * The tables are built once, lazily, under pthread_once so that concurrent
 * first calls are safe.  The hardware path is selected per process.
 *
 * The crc32 instruction takes three cycles, but a new one can start every
 * cycle: one stream of data leaves two thirds of it idle, which made the
 * check of every fetched batch the consumer's largest cost.  Long inputs
 * are therefore cut into three parts whose CRCs are computed side by side
 * and then joined.  Joining uses the linearity of the CRC: the CRC of a||b
 * is the CRC of a advanced over len(b) zero bytes, xor the CRC of b started
 * from zero; advancing over a fixed number of zero bytes is a 32x32 bit
 * matrix, tabulated once per part length (Mark Adler's method, the one
 * behind zlib's crc32_combine).
 */
#include "common/crc32c.h"

#include <pthread.h>
#include <string.h>

#define POLY 0x82f63b78u /* reversed Castagnoli polynomial */

static uint32_t table[8][256];
static int hw;
static pthread_once_t once = PTHREAD_ONCE_INIT;

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
/* Part lengths for the three-way hardware path (bytes, powers of two). */
#define LONG 8192
#define SHORT 256

/* Advance a CRC register over LONG / SHORT zero bytes, byte by byte of it. */
static uint32_t crc_long[4][256], crc_short[4][256];

/* mat (32 columns, column n the image of bit n) times vec, over GF(2). */
static uint32_t gf2_times(const uint32_t *mat, uint32_t vec) {
    uint32_t sum = 0;
    for (; vec; vec >>= 1, mat++)
        if (vec & 1)
            sum ^= *mat;
    return sum;
}

static void gf2_square(uint32_t *square, const uint32_t *mat) {
    for (int n = 0; n < 32; n++)
        square[n] = gf2_times(mat, mat[n]);
}

/* The matrix advancing a CRC register over len zero bytes (len a power of
 * two): square the one-zero-bit operator until it covers len bytes. */
static void zeros_op(uint32_t *even, size_t len) {
    uint32_t odd[32];
    odd[0] = POLY; /* one zero bit: shift right, xor POLY when bit 0 was set */
    for (int n = 1; n < 32; n++)
        odd[n] = 1u << (n - 1);
    gf2_square(even, odd); /* two bits */
    gf2_square(odd, even); /* four bits */
    /* Each square doubles: even gets one byte, odd two, even four... */
    for (;;) {
        gf2_square(even, odd);
        len >>= 1;
        if (!len)
            return;
        gf2_square(odd, even);
        len >>= 1;
        if (!len)
            break;
    }
    memcpy(even, odd, sizeof(odd));
}

static void zeros_table(uint32_t t[4][256], size_t len) {
    uint32_t op[32];
    zeros_op(op, len);
    for (uint32_t n = 0; n < 256; n++)
        for (int k = 0; k < 4; k++)
            t[k][n] = gf2_times(op, n << (8 * k));
}

static uint32_t zeros_shift(uint32_t t[4][256], uint32_t crc) {
    return t[0][crc & 0xff] ^ t[1][(crc >> 8) & 0xff] ^ t[2][(crc >> 16) & 0xff] ^ t[3][crc >> 24];
}
#endif

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
    if (hw) {
        zeros_table(crc_long, LONG);
        zeros_table(crc_short, SHORT);
    }
#endif
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
/* While three parts of `part` bytes fit: their CRCs side by side, joined
 * with `zeros` (see the top).  Returns the register; moves *pp and *lenp. */
__attribute__((target("sse4.2"))) static uint64_t
crc_3way(uint64_t c, const uint8_t **pp, size_t *lenp, size_t part, uint32_t zeros[4][256]) {
    const uint8_t *p = *pp;
    size_t len = *lenp;
    while (len >= 3 * part) {
        uint64_t c1 = 0, c2 = 0;
        const uint8_t *end = p + part;
        do {
            uint64_t v0, v1, v2;
            memcpy(&v0, p, 8);
            memcpy(&v1, p + part, 8);
            memcpy(&v2, p + 2 * part, 8);
            c = __builtin_ia32_crc32di(c, v0);
            c1 = __builtin_ia32_crc32di(c1, v1);
            c2 = __builtin_ia32_crc32di(c2, v2);
            p += 8;
        } while (p < end);
        c = zeros_shift(zeros, (uint32_t)c) ^ (uint32_t)c1;
        c = zeros_shift(zeros, (uint32_t)c) ^ (uint32_t)c2;
        p += 2 * part;
        len -= 3 * part;
    }
    *pp = p;
    *lenp = len;
    return c;
}

__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const void *data,
                                                         size_t len) {
    const uint8_t *p = data;
    uint64_t c = ~crc;
    c = crc_3way(c, &p, &len, LONG, crc_long);
    c = crc_3way(c, &p, &len, SHORT, crc_short);
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

/*
 * Combining two CRCs (zlib's crc32_combine, for this polynomial): in the
 * reflected representation bit 31 is x^0.  a times b modulo the polynomial.
 */
static uint32_t mult_mod(uint32_t a, uint32_t b) {
    uint32_t m = 1u << 31, p = 0;
    for (;;) {
        if (a & m) {
            p ^= b;
            if ((a & (m - 1)) == 0)
                break;
        }
        m >>= 1;
        b = b & 1 ? (b >> 1) ^ POLY : b >> 1;
    }
    return p;
}

/* x^(2^k) modulo the polynomial, k = 0..63: every bit of a 64-bit bit count. */
static uint32_t x2n[64];
static pthread_once_t x2n_once = PTHREAD_ONCE_INIT;

static void x2n_init(void) {
    uint32_t p = 1u << 30; /* x^1 */
    x2n[0] = p;
    for (int k = 1; k < 64; k++)
        x2n[k] = p = mult_mod(p, p);
}

uint32_t rill__crc32c_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b) {
    pthread_once(&x2n_once, x2n_init);
    /* crc_a advanced over len_b zero bytes: times x^(8 len_b). */
    uint32_t p = 1u << 31; /* x^0 */
    uint64_t n = len_b;
    for (int k = 3; n && k < 64; n >>= 1, k++)
        if (n & 1)
            p = mult_mod(x2n[k], p);
    return mult_mod(p, crc_a) ^ crc_b;
}

uint32_t rill__crc32c(uint32_t crc, const void *data, size_t len) {
    pthread_once(&once, init);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (hw)
        return crc_hw(crc, data, len);
#endif
    return rill__crc32c_sw(crc, data, len);
}
