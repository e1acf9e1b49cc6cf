/*
 * api_fuzz.h -- the body of every API decoder fuzz target (fuzz_req_*.c,
 * fuzz_resp_*.c).
 *
 * Input: one byte that picks the version (min + byte % number of
 * versions), then the message body.  The decoder must never read outside
 * the input (ASan) nor allocate without bound (the arena has a 1 MiB cap).
 * When a body decodes whole, encoding the result must succeed, decode
 * again, and encode to the same bytes: the codec is its own oracle.
 * Any violation aborts, which libFuzzer and the replay program report.
 */
#ifndef RILL_TESTS_API_FUZZ_H
#define RILL_TESTS_API_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "proto/arena.h"
#include "proto/reader.h"

#define FUZZ_ARENA_MAX (1u << 20)

typedef int (*fuzz_enc_fn)(rill_buf *, int16_t, const void *);
typedef int (*fuzz_dec_fn)(rill_rd *, int16_t, void *, rill_arena *);

/* Decodes a whole body; 0 on success. */
static int fuzz_decode(fuzz_dec_fn dec, int16_t ver, const uint8_t *p, size_t n, void *out,
                       rill_arena *a) {
    static const uint8_t none[1];
    rill_rd r;
    rill__rd_init(&r, p ? p : none, n);
    int rc = dec(&r, ver, out, a);
    if (rc == 0 && r.err)
        abort(); /* success must mean no error */
    if (rc != 0 && !r.err)
        abort(); /* failure must leave the sticky error set */
    return rc == 0 && rill__rd_remain(&r) == 0 ? 0 : -1;
}

static void fuzz_api(const uint8_t *d, size_t n, int16_t min, int16_t max, fuzz_enc_fn enc,
                     fuzz_dec_fn dec, size_t msg_size) {
    if (n < 1)
        return;
    int16_t ver = (int16_t)(min + d[0] % (max - min + 1));
    void *m1 = calloc(1, msg_size), *m2 = calloc(1, msg_size);
    rill_arena a1, a2;
    rill__arena_init(&a1, FUZZ_ARENA_MAX);
    rill__arena_init(&a2, FUZZ_ARENA_MAX);
    rill_buf b1, b2;
    rill__buf_init(&b1, 0);
    rill__buf_init(&b2, 0);
    if (!m1 || !m2)
        abort();
    if (fuzz_decode(dec, ver, d + 1, n - 1, m1, &a1) == 0) {
        if (enc(&b1, ver, m1) != 0)
            abort();
        if (fuzz_decode(dec, ver, b1.data, b1.len, m2, &a2) != 0)
            abort();
        if (enc(&b2, ver, m2) != 0 || b2.len != b1.len ||
            (b1.len && memcmp(b1.data, b2.data, b1.len) != 0))
            abort();
    }
    rill__buf_free(&b1);
    rill__buf_free(&b2);
    rill__arena_free(&a1);
    rill__arena_free(&a2);
    free(m1);
    free(m2);
}

/* Defines the fuzz entry point for rill__<name>_encode/_decode over <type>. */
#define API_FUZZ_TARGET(name, type, min, max)                                                      \
    static int fz_enc(rill_buf *b, int16_t v, const void *m) {                                     \
        return rill__##name##_encode(b, v, (const type *)m);                                       \
    }                                                                                              \
    static int fz_dec(rill_rd *r, int16_t v, void *m, rill_arena *a) {                             \
        return rill__##name##_decode(r, v, (type *)m, a);                                          \
    }                                                                                              \
    int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);                                        \
    int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {                                       \
        fuzz_api(d, n, (min), (max), fz_enc, fz_dec, sizeof(type));                                \
        return 0;                                                                                  \
    }

#endif
