/*
 * compress.c -- gzip, snappy, lz4 and zstd for record batches (see compress.h).
 *
 * The libraries do the work; this file only chooses the containers Kafka
 * clients agree on and bounds every output.  Decompression grows its output
 * in steps and allows itself one byte more than max_out: producing that byte
 * proves the payload is too large without trusting any size it declares.
 *
 * Snappy, which container to write: the Java client wraps snappy in
 * snappy-java's SnappyOutputStream (xerial framing).  librdkafka 2.0.2
 * writes *raw* snappy: src/rdkafka_msgset_writer.c,
 * rd_kafka_msgset_writer_compress_snappy() calls rd_kafka_snappy_compress_iov()
 * on the whole records region with no xerial header (checked in
 * confluentinc/librdkafka with the code search); its reader, like
 * kafka-python's snappy_decode and snappy-java's SnappyInputStream, looks for
 * the xerial magic and falls back to raw snappy.  We write what the Java
 * client writes, which every reader accepts, and read both.
 */
#include "proto/compress.h"

#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <lz4frame.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "common/endian.h"
#include "rill.h"

/* Largest input any codec accepts: a record batch is bounded by int32. */
#define RILL_MAX_CODEC_INPUT ((size_t)INT32_MAX)
/* Growth step cap for streaming decoders (avail_out of zlib is 32-bit). */
#define RILL_MAX_CODEC_STEP ((size_t)1 << 30)

static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};
#define XERIAL_HEADER 16
#define XERIAL_BLOCK (32 * 1024) /* snappy-java's default block size */

void rill__codec_ctx_init(rill_codec_ctx *ctx) { memset(ctx, 0, sizeof(*ctx)); }

void rill__codec_ctx_clear(rill_codec_ctx *ctx) {
    if (ctx->gz_def) {
        deflateEnd(ctx->gz_def);
        free(ctx->gz_def);
    }
    if (ctx->gz_inf) {
        inflateEnd(ctx->gz_inf);
        free(ctx->gz_inf);
    }
    ZSTD_freeCCtx(ctx->zstd_c);
    ZSTD_freeDCtx(ctx->zstd_d);
    if (ctx->lz4_c)
        LZ4F_freeCompressionContext(ctx->lz4_c);
    if (ctx->lz4_d)
        LZ4F_freeDecompressionContext(ctx->lz4_d);
    memset(ctx, 0, sizeof(*ctx));
}

/* Room for `total` bytes after the length `base` the output had on entry. */
static int reserve(rill_buf *out, size_t base, size_t total) {
    return rill__buf_grow(out, base - out->len + total) == 0 ? 0 : RILL_ERR_NO_MEMORY;
}

static int clamp(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* ---- gzip ---- */

static int gzip_compress(rill_codec_ctx *ctx, int level, const uint8_t *in, size_t n,
                         rill_buf *out) {
    level = level == RILL_LEVEL_DEFAULT ? Z_DEFAULT_COMPRESSION : clamp(level, 0, 9);
    z_stream *s = ctx->gz_def;
    if (s && ctx->gz_level != level) {
        deflateEnd(s);
        free(s);
        s = ctx->gz_def = NULL;
    }
    if (!s) {
        s = calloc(1, sizeof(*s));
        /* windowBits 16 + 15: the gzip container, as Kafka clients write. */
        if (!s || deflateInit2(s, level, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            free(s);
            return RILL_ERR_NO_MEMORY;
        }
        ctx->gz_def = s;
        ctx->gz_level = level;
    } else if (deflateReset(s) != Z_OK) {
        return RILL_ERR_NO_MEMORY;
    }
    size_t base = out->len, bound = deflateBound(s, (uLong)n);
    if (reserve(out, base, bound))
        return RILL_ERR_NO_MEMORY;
    s->next_in = (Bytef *)(uintptr_t)in;
    s->avail_in = (uInt)n;
    s->next_out = out->data + base;
    s->avail_out = (uInt)bound;
    int r = deflate(s, Z_FINISH);
    if (r != Z_STREAM_END)
        return RILL_ERR_NO_MEMORY; /* deflateBound was too small: cannot happen */
    out->len = base + s->total_out;
    return 0;
}

static int gzip_decompress(rill_codec_ctx *ctx, const uint8_t *in, size_t n, rill_buf *out,
                           size_t limit) {
    z_stream *s = ctx->gz_inf;
    if (!s) {
        s = calloc(1, sizeof(*s));
        /* 32 + 15: gzip or zlib header, detected; Kafka's is gzip. */
        if (!s || inflateInit2(s, 32 + 15) != Z_OK) {
            free(s);
            return RILL_ERR_NO_MEMORY;
        }
        ctx->gz_inf = s;
    } else if (inflateReset(s) != Z_OK) {
        return RILL_ERR_NO_MEMORY;
    }
    size_t base = out->len, produced = 0, step = n < 4096 ? 4096 : n * 4;
    s->next_in = (Bytef *)(uintptr_t)in;
    s->avail_in = (uInt)n;
    for (;;) {
        if (produced == limit)
            return RILL_ERR_MESSAGE_TOO_LARGE;
        size_t want = limit - produced < step ? limit : produced + step;
        if (reserve(out, base, want))
            return RILL_ERR_NO_MEMORY;
        s->next_out = out->data + base + produced;
        s->avail_out = (uInt)(want - produced);
        int r = inflate(s, Z_NO_FLUSH);
        produced = want - s->avail_out;
        if (r == Z_STREAM_END) {
            /*
             * Another gzip member follows: read it too (GZIPInputStream
             * does).  Other trailing bytes are ignored, as it does.
             */
            if (s->avail_in >= 2 && s->next_in[0] == 0x1f && s->next_in[1] == 0x8b) {
                const Bytef *next = s->next_in;
                uInt left = s->avail_in;
                if (inflateReset(s) != Z_OK)
                    return RILL_ERR_NO_MEMORY;
                s->next_in = (Bytef *)(uintptr_t)next;
                s->avail_in = left;
                continue;
            }
            break;
        }
        if (r == Z_MEM_ERROR)
            return RILL_ERR_NO_MEMORY;
        if (r == Z_BUF_ERROR && s->avail_out != 0)
            return RILL_ERR_CORRUPT_MESSAGE; /* input ended inside the stream */
        if (r != Z_OK && r != Z_BUF_ERROR)
            return RILL_ERR_CORRUPT_MESSAGE;
        if (s->avail_out == 0 && step < RILL_MAX_CODEC_STEP)
            step *= 2;
    }
    if (produced == limit)
        return RILL_ERR_MESSAGE_TOO_LARGE;
    out->len = base + produced;
    return 0;
}

/* ---- snappy ---- */

static int snappy_xerial_compress(rill_codec_ctx *ctx, int level, const uint8_t *in, size_t n,
                                  rill_buf *out) {
    size_t base = out->len;
    size_t blocks = (n + XERIAL_BLOCK - 1) / XERIAL_BLOCK;
    size_t bound = XERIAL_HEADER + blocks * (4 + snappy_max_compressed_length(XERIAL_BLOCK));
    if (reserve(out, base, bound))
        return RILL_ERR_NO_MEMORY;
    uint8_t *p = out->data + base;
    memcpy(p, xerial_magic, 8);
    rill__st32(p + 8, 1);  /* version */
    rill__st32(p + 12, 1); /* minimum compatible version */
    size_t at = XERIAL_HEADER;
    for (size_t off = 0; off < n; off += XERIAL_BLOCK) {
        size_t len = n - off < XERIAL_BLOCK ? n - off : XERIAL_BLOCK;
        size_t clen = bound - at - 4;
        if (snappy_compress((const char *)in + off, len, (char *)p + at + 4, &clen) != SNAPPY_OK)
            return RILL_ERR_NO_MEMORY;
        rill__st32(p + at, (uint32_t)clen);
        at += 4 + clen;
    }
    out->len = base + at;
    return 0;
}

/* One raw snappy block appended at base + *produced. */
static int snappy_raw_block(const uint8_t *in, size_t n, rill_buf *out, size_t base,
                            size_t *produced, size_t limit) {
    size_t ulen;
    if (snappy_uncompressed_length((const char *)in, n, &ulen) != SNAPPY_OK)
        return RILL_ERR_CORRUPT_MESSAGE;
    if (ulen >= limit - *produced)
        return RILL_ERR_MESSAGE_TOO_LARGE;
    if (reserve(out, base, *produced + ulen))
        return RILL_ERR_NO_MEMORY;
    char none; /* an empty block still gets a valid output pointer */
    char *dst = ulen ? (char *)out->data + base + *produced : &none;
    size_t got = ulen;
    if (snappy_uncompress((const char *)in, n, dst, &got) != SNAPPY_OK || got != ulen)
        return RILL_ERR_CORRUPT_MESSAGE;
    *produced += ulen;
    return 0;
}

static int snappy_decompress(rill_codec_ctx *ctx, const uint8_t *in, size_t n, rill_buf *out,
                             size_t limit) {
    size_t base = out->len, produced = 0;
    int err;
    if (n < XERIAL_HEADER || memcmp(in, xerial_magic, 8) != 0) {
        if ((err = snappy_raw_block(in, n, out, base, &produced, limit)))
            return err;
        out->len = base + produced;
        return 0;
    }
    size_t at = 0;
    while (at < n) {
        /* A header, at the start or where two streams were concatenated. */
        if (n - at >= XERIAL_HEADER && memcmp(in + at, xerial_magic, 8) == 0) {
            at += XERIAL_HEADER;
            continue;
        }
        if (n - at < 4)
            return RILL_ERR_CORRUPT_MESSAGE;
        size_t blen = rill__ld32(in + at);
        at += 4;
        if (blen > n - at)
            return RILL_ERR_CORRUPT_MESSAGE;
        if ((err = snappy_raw_block(in + at, blen, out, base, &produced, limit)))
            return err;
        at += blen;
    }
    out->len = base + produced;
    return 0;
}

/* ---- lz4 frame ---- */

static int lz4_compress(rill_codec_ctx *ctx, int level, const uint8_t *in, size_t n,
                        rill_buf *out) {
    if (!ctx->lz4_c &&
        LZ4F_isError(LZ4F_createCompressionContext((LZ4F_cctx **)&ctx->lz4_c, LZ4F_VERSION)))
        return RILL_ERR_NO_MEMORY;
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof(prefs));
    /* Independent 64 KiB blocks, no content size: what Java's reader takes. */
    prefs.frameInfo.blockSizeID = LZ4F_max64KB;
    prefs.frameInfo.blockMode = LZ4F_blockIndependent;
    prefs.compressionLevel = level == RILL_LEVEL_DEFAULT ? 0 : clamp(level, 0, 12);
    size_t base = out->len, bound = LZ4F_compressFrameBound(n, &prefs);
    if (reserve(out, base, bound))
        return RILL_ERR_NO_MEMORY;
    uint8_t *p = out->data + base;
    size_t at = LZ4F_compressBegin(ctx->lz4_c, p, bound, &prefs);
    if (LZ4F_isError(at))
        return RILL_ERR_NO_MEMORY;
    size_t r = LZ4F_compressUpdate(ctx->lz4_c, p + at, bound - at, in, n, NULL);
    if (LZ4F_isError(r))
        return RILL_ERR_NO_MEMORY;
    at += r;
    r = LZ4F_compressEnd(ctx->lz4_c, p + at, bound - at, NULL);
    if (LZ4F_isError(r))
        return RILL_ERR_NO_MEMORY;
    out->len = base + at + r;
    return 0;
}

static int lz4_decompress(rill_codec_ctx *ctx, const uint8_t *in, size_t n, rill_buf *out,
                          size_t limit) {
    if (!ctx->lz4_d) {
        if (LZ4F_isError(LZ4F_createDecompressionContext((LZ4F_dctx **)&ctx->lz4_d, LZ4F_VERSION)))
            return RILL_ERR_NO_MEMORY;
    } else {
        LZ4F_resetDecompressionContext(ctx->lz4_d);
    }
    size_t base = out->len, produced = 0, at = 0, hint = 1, step = n < 4096 ? 4096 : n * 4;
    int full = 0;
    while (at < n || full) {
        if (produced == limit)
            return RILL_ERR_MESSAGE_TOO_LARGE;
        size_t want = limit - produced < step ? limit : produced + step;
        if (reserve(out, base, want))
            return RILL_ERR_NO_MEMORY;
        size_t dlen = want - produced, slen = n - at;
        size_t h =
            LZ4F_decompress(ctx->lz4_d, out->data + base + produced, &dlen, in + at, &slen, NULL);
        if (LZ4F_isError(h)) {
            LZ4F_resetDecompressionContext(ctx->lz4_d);
            return RILL_ERR_CORRUPT_MESSAGE;
        }
        /* A call that only probed for more output says nothing of the frame. */
        if (slen || dlen)
            hint = h;
        at += slen;
        produced += dlen;
        full = produced == want;
        if (full && step < RILL_MAX_CODEC_STEP)
            step *= 2;
        if (!slen && !dlen && !full)
            break; /* no progress: the input ended inside a frame */
    }
    if (produced == limit)
        return RILL_ERR_MESSAGE_TOO_LARGE;
    if (hint != 0) { /* the last frame is incomplete */
        LZ4F_resetDecompressionContext(ctx->lz4_d);
        return RILL_ERR_CORRUPT_MESSAGE;
    }
    out->len = base + produced;
    return 0;
}

/* ---- zstd ---- */

static int zstd_compress(rill_codec_ctx *ctx, int level, const uint8_t *in, size_t n,
                         rill_buf *out) {
    if (!ctx->zstd_c && !(ctx->zstd_c = ZSTD_createCCtx()))
        return RILL_ERR_NO_MEMORY;
    level = level == RILL_LEVEL_DEFAULT ? ZSTD_CLEVEL_DEFAULT : clamp(level, 1, ZSTD_maxCLevel());
    size_t base = out->len, bound = ZSTD_compressBound(n);
    if (reserve(out, base, bound))
        return RILL_ERR_NO_MEMORY;
    size_t r = ZSTD_compressCCtx(ctx->zstd_c, out->data + base, bound, in, n, level);
    if (ZSTD_isError(r))
        return RILL_ERR_NO_MEMORY;
    out->len = base + r;
    return 0;
}

static int zstd_decompress(rill_codec_ctx *ctx, const uint8_t *in, size_t n, rill_buf *out,
                           size_t limit) {
    if (!ctx->zstd_d && !(ctx->zstd_d = ZSTD_createDCtx()))
        return RILL_ERR_NO_MEMORY;
    ZSTD_DCtx *d = ctx->zstd_d;
    ZSTD_DCtx_reset(d, ZSTD_reset_session_only);
    /*
     * A frame declares its window, and the decoder allocates it: cap it
     * near the output bound (2^23 at least, what streaming compression at
     * normal levels uses even for small inputs; zstd's default cap 2^27 at
     * most), so a tiny hostile frame cannot claim 128 MiB.
     */
    int wlog = 23;
    while (wlog < 27 && ((size_t)1 << wlog) < limit)
        wlog++;
    ZSTD_DCtx_setParameter(d, ZSTD_d_windowLogMax, wlog);
    ZSTD_inBuffer ib = {in, n, 0};
    size_t base = out->len, produced = 0, last = 1, step = n < 4096 ? 4096 : n * 4;
    int full = 0;
    while (ib.pos < ib.size || full) {
        if (produced == limit)
            return RILL_ERR_MESSAGE_TOO_LARGE;
        size_t want = limit - produced < step ? limit : produced + step;
        if (reserve(out, base, want))
            return RILL_ERR_NO_MEMORY;
        ZSTD_outBuffer ob = {out->data + base, want, produced};
        size_t before_in = ib.pos;
        size_t r = ZSTD_decompressStream(d, &ob, &ib);
        if (ZSTD_isError(r)) {
            ZSTD_ErrorCode code = ZSTD_getErrorCode(r);
            if (code == ZSTD_error_memory_allocation)
                return RILL_ERR_NO_MEMORY;
            if (code == ZSTD_error_frameParameter_windowTooLarge)
                return RILL_ERR_MESSAGE_TOO_LARGE;
            return RILL_ERR_CORRUPT_MESSAGE;
        }
        full = ob.pos == ob.size;
        if (ib.pos == before_in && ob.pos == produced) {
            if (!full)
                break; /* no progress */
        } else {
            last = r; /* a probe for more output says nothing of the frame */
        }
        produced = ob.pos;
        if (full && step < RILL_MAX_CODEC_STEP)
            step *= 2;
    }
    if (produced == limit)
        return RILL_ERR_MESSAGE_TOO_LARGE;
    if (last != 0) /* the last frame is incomplete */
        return RILL_ERR_CORRUPT_MESSAGE;
    out->len = base + produced;
    return 0;
}

/* ---- dispatch ---- */

static int none_compress(rill_codec_ctx *ctx, int level, const uint8_t *in, size_t n,
                         rill_buf *out) {
    return rill__buf_append(out, in, n) ? RILL_ERR_NO_MEMORY : 0;
}

static int none_decompress(rill_codec_ctx *ctx, const uint8_t *in, size_t n, rill_buf *out,
                           size_t limit) {
    return n >= limit ? RILL_ERR_MESSAGE_TOO_LARGE : none_compress(ctx, 0, in, n, out);
}

typedef int compress_fn(rill_codec_ctx *, int, const uint8_t *, size_t, rill_buf *);
typedef int decompress_fn(rill_codec_ctx *, const uint8_t *, size_t, rill_buf *, size_t);

/* Indexed by codec id. */
static compress_fn *const compressors[RILL_CODEC_MAX + 1] = {
    none_compress, gzip_compress, snappy_xerial_compress, lz4_compress, zstd_compress};
static decompress_fn *const decompressors[RILL_CODEC_MAX + 1] = {
    none_decompress, gzip_decompress, snappy_decompress, lz4_decompress, zstd_decompress};

int rill__compress_ctx(rill_codec_ctx *ctx, int codec, int level, const void *in, size_t n,
                       rill_buf *out) {
    if (codec < RILL_CODEC_NONE || codec > RILL_CODEC_MAX)
        return RILL_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    if (n > RILL_MAX_CODEC_INPUT || out->err)
        return RILL_ERR_NO_MEMORY;
    rill_codec_ctx tmp;
    if (!ctx)
        rill__codec_ctx_init(ctx = &tmp);
    size_t base = out->len;
    int err = compressors[codec](ctx, level, in, n, out);
    if (err)
        out->len = base;
    if (ctx == &tmp)
        rill__codec_ctx_clear(&tmp);
    return err;
}

int rill__decompress_ctx(rill_codec_ctx *ctx, int codec, const void *in, size_t n, rill_buf *out,
                         size_t max_out) {
    if (codec < RILL_CODEC_NONE || codec > RILL_CODEC_MAX)
        return RILL_ERR_UNSUPPORTED_COMPRESSION_TYPE;
    if (n > RILL_MAX_CODEC_INPUT)
        return RILL_ERR_CORRUPT_MESSAGE;
    if (out->err)
        return RILL_ERR_NO_MEMORY;
    rill_codec_ctx tmp;
    if (!ctx)
        rill__codec_ctx_init(ctx = &tmp);
    size_t base = out->len;
    /* One byte of slack over max_out: producing it proves "too large". */
    size_t limit = max_out == SIZE_MAX ? SIZE_MAX : max_out + 1;
    int err = decompressors[codec](ctx, in, n, out, limit);
    if (err)
        out->len = base;
    if (ctx == &tmp)
        rill__codec_ctx_clear(&tmp);
    return err;
}

int rill__compress(int codec, const void *in, size_t n, rill_buf *out) {
    return rill__compress_ctx(NULL, codec, RILL_LEVEL_DEFAULT, in, n, out);
}

int rill__decompress(int codec, const void *in, size_t n, rill_buf *out, size_t max_out) {
    return rill__decompress_ctx(NULL, codec, in, n, out, max_out);
}

static const char *const names[] = {"none", "gzip", "snappy", "lz4", "zstd"};

int rill__codec_parse(const char *name) {
    if (!name)
        return -1;
    for (int i = 0; i <= RILL_CODEC_MAX; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return -1;
}

const char *rill__codec_name(int codec) {
    return codec >= 0 && codec <= RILL_CODEC_MAX ? names[codec] : "unknown";
}
