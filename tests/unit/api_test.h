/*
 * api_test.h -- shared checks for the API codec unit tests (test_api_*.c).
 *
 * rt_check() is the core: encode a message at a version, decode it, demand
 * that the decoder used the whole body, that encoding the decoded message
 * gives the same bytes again, and that every truncation of the body fails
 * cleanly (each prefix is copied into an exact-size heap block, so ASan
 * sees any read past it), and that an arena too small fails cleanly.  The test then compares fields
 * itself, with the decoded views pointing into rt.buf, which stays alive until rt_free().
 */
#ifndef RILL_TESTS_API_TEST_H
#define RILL_TESTS_API_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "proto/api.h"
#include "proto/arena.h"
#include "proto/fields.h"
#include "proto/reader.h"

typedef int (*enc_fn)(rill_buf *, int16_t, const void *);
typedef int (*dec_fn)(rill_rd *, int16_t, void *, rill_arena *);

/* Typed wrappers enc_<name> / dec_<name> for rill__<name>_encode/_decode. */
#define API_CODEC(name, type)                                                                      \
    static int enc_##name(rill_buf *b, int16_t v, const void *m) {                                 \
        return rill__##name##_encode(b, v, (const type *)m);                                       \
    }                                                                                              \
    static int dec_##name(rill_rd *r, int16_t v, void *m, rill_arena *a) {                         \
        return rill__##name##_decode(r, v, (type *)m, a);                                          \
    }

typedef struct rt {
    rill_buf buf;     /* the encoded body */
    rill_arena arena; /* owns the decoded message's arrays */
} rt;

static inline void rt_free(rt *t) {
    rill__buf_free(&t->buf);
    rill__arena_free(&t->arena);
}

/* Every strict prefix of data[0..len) must fail to decode. */
static inline void rt_truncations(dec_fn dec, int16_t ver, const uint8_t *data, size_t len,
                                  size_t out_size) {
    void *out = malloc(out_size);
    assert_non_null(out);
    for (size_t k = 0; k < len; k++) {
        uint8_t *copy = malloc(k ? k : 1);
        assert_non_null(copy);
        memcpy(copy, data, k);
        rill_arena a;
        rill__arena_init(&a, 0);
        rill_rd r;
        rill__rd_init(&r, copy, k);
        int rc = dec(&r, ver, out, &a);
        if (rc != -1 || !r.err)
            fail_msg("a %zu-byte prefix of a %zu-byte body decoded (version %d)", k, len, ver);
        rill__arena_free(&a);
        free(copy);
    }
    free(out);
}

/*
 * The arena-exhaustion loop (curl's "fail the Nth malloc", for arenas):
 * with every cap from 16 bytes up, the decode either fails cleanly or
 * succeeds and re-encodes to the same bytes.
 */
static inline void rt_arena_limits(enc_fn enc, dec_fn dec, int16_t ver, const rill_buf *body,
                                   size_t out_size) {
    void *out = malloc(out_size);
    assert_non_null(out);
    int ok = 0;
    for (size_t cap = 16; cap <= 2 * RILL_ARENA_CHUNK_MIN && !ok; cap += 16) {
        rill_arena a;
        rill__arena_init(&a, cap);
        rill_rd r;
        rill__rd_init(&r, body->data, body->len);
        if (dec(&r, ver, out, &a) == 0) {
            rill_buf again;
            rill__buf_init(&again, 0);
            assert_int_equal(enc(&again, ver, out), 0);
            assert_int_equal(again.len, body->len);
            assert_memory_equal(again.data, body->data, body->len);
            rill__buf_free(&again);
            ok = 1;
        } else {
            assert_int_not_equal(r.err, 0);
        }
        rill__arena_free(&a);
    }
    assert_true(ok);
    free(out);
}

/* Round trip at `ver`; `out` (out_size bytes) receives the decoded message. */
static inline void rt_check(rt *t, enc_fn enc, dec_fn dec, int16_t ver, const void *m, void *out,
                            size_t out_size) {
    rill__buf_init(&t->buf, 0);
    rill__arena_init(&t->arena, 0);
    assert_int_equal(enc(&t->buf, ver, m), 0);
    assert_int_equal(t->buf.err, 0);

    rill_rd r;
    rill__rd_init(&r, t->buf.data, t->buf.len);
    assert_int_equal(dec(&r, ver, out, &t->arena), 0);
    assert_int_equal(r.err, 0);
    assert_int_equal(rill__rd_remain(&r), 0);

    rill_buf again;
    rill__buf_init(&again, 0);
    assert_int_equal(enc(&again, ver, out), 0);
    assert_int_equal(again.len, t->buf.len);
    assert_memory_equal(again.data, t->buf.data, t->buf.len);
    rill__buf_free(&again);

    rt_truncations(dec, ver, t->buf.data, t->buf.len, out_size);
    rt_arena_limits(enc, dec, ver, &t->buf, out_size);
}

/* Encoding must be refused (a value this version cannot carry). */
static inline void enc_refused(enc_fn enc, int16_t ver, const void *m) {
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(enc(&b, ver, m), -1);
    assert_int_not_equal(b.err, 0);
    rill__buf_free(&b);
}

/* Views: both null, or the same bytes. */
#define assert_str_eq(a, b)                                                                        \
    do {                                                                                           \
        rill_str a_ = (a), b_ = (b);                                                               \
        assert_int_equal(a_.len < 0, b_.len < 0);                                                  \
        if (a_.len >= 0) {                                                                         \
            assert_int_equal(a_.len, b_.len);                                                      \
            if (a_.len)                                                                            \
                assert_memory_equal(a_.ptr, b_.ptr, (size_t)a_.len);                               \
        }                                                                                          \
    } while (0)
#define assert_str_null(a) assert_true((a).len < 0)
#define assert_cstr(a, c) assert_true(rill__str_eq((a), (c)))

/* A whole request frame: size, header (api.h) and body, for golden bytes. */
static inline void frame_begin(rill_buf *b, int16_t key, int16_t ver, int32_t corr,
                               const char *client_id, size_t *at) {
    rill__buf_init(b, 0);
    *at = rill__wr_reserve32(b);
    rill__req_header_write(b, key, ver, corr, client_id);
}
static inline void frame_end(rill_buf *b, size_t at) {
    rill__wr_patch32(b, at, (int32_t)(b->len - at - 4));
}
/* Frames m as request (api_key, ver), correlation corr, client "rill"; compares bytes. */
static inline void assert_request_frame(enc_fn enc, int16_t key, int16_t ver, int32_t corr,
                                        const void *m, const uint8_t *expect, size_t n) {
    rill_buf b;
    size_t at;
    frame_begin(&b, key, ver, corr, "rill", &at);
    assert_int_equal(enc(&b, ver, m), 0);
    frame_end(&b, at);
    assert_int_equal(b.len, n);
    assert_memory_equal(b.data, expect, n);
    rill__buf_free(&b);
}

/* Decodes exactly data[0..len) at ver into out; `a` is initialised here, freed by the caller. */
static inline void decode_whole(dec_fn dec, int16_t ver, const uint8_t *data, size_t len, void *out,
                                rill_arena *a) {
    rill_rd r;
    rill__arena_init(a, 0);
    rill__rd_init(&r, data, len);
    assert_int_equal(dec(&r, ver, out, a), 0);
    assert_int_equal(r.err, 0);
    assert_int_equal(rill__rd_remain(&r), 0);
}

#define assert_bytes(buf, expect)                                                                  \
    do {                                                                                           \
        assert_int_equal((buf)->len, sizeof(expect));                                              \
        assert_memory_equal((buf)->data, (expect), sizeof(expect));                                \
    } while (0)

#endif
