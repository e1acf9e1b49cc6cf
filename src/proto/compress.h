/*
 * compress.h -- the compression codecs of Kafka record batches.
 *
 * Codec ids are the ones in bits 0-2 of a batch's attributes.  Each codec
 * writes and reads the container every Kafka client uses:
 *   gzip    the gzip container (RFC 1952), read also as zlib; concatenated
 *           members are read as one stream, as Java's GZIPInputStream does.
 *   snappy  written in the xerial snappy-java framing the Java client uses
 *           (magic "\x82SNAPPY\0", version 1, compat 1, then [int32 length,
 *           raw snappy block] per 32 KiB of input); read both that framing
 *           and plain raw snappy (librdkafka writes raw snappy, see
 *           compress.c).
 *   lz4     the LZ4 *frame* format with independent 64 KiB blocks and a
 *           correct header checksum (Kafka >= 0.10 semantics; the Java
 *           client refuses linked blocks).
 *   zstd    a standard zstd frame; reading streams, so frames without a
 *           content size are fine.
 *
 * Output is appended to a rill_buf.  Decompression takes `max_out`, a hard
 * bound on the bytes it may produce: a payload that inflates beyond it is an
 * error (decompression bombs), not an allocation.
 *
 * A rill_codec_ctx keeps the libraries' contexts between calls (zlib and
 * zstd allocate hundreds of KiB per context), so a producer or consumer
 * compresses batch after batch without that allocation.  It is not
 * thread-safe: keep one per thread.  Every function that takes one also
 * accepts NULL and then uses a temporary context.
 */
#ifndef RILL_PROTO_COMPRESS_H
#define RILL_PROTO_COMPRESS_H

#include <stddef.h>

#include "common/buf.h"

enum {
    RILL_CODEC_NONE = 0,
    RILL_CODEC_GZIP = 1,
    RILL_CODEC_SNAPPY = 2,
    RILL_CODEC_LZ4 = 3,
    RILL_CODEC_ZSTD = 4,
    RILL_CODEC_MAX = 4,
};

/* The codec's own default level (compression.level = -1, as librdkafka). */
#define RILL_LEVEL_DEFAULT (-1)

/* Library contexts kept between calls; all lazily created. */
typedef struct rill_codec_ctx {
    void *gz_def; /* z_stream for deflate */
    int gz_level; /* level gz_def was set up with */
    void *gz_inf; /* z_stream for inflate */
    void *zstd_c; /* ZSTD_CCtx */
    void *zstd_d; /* ZSTD_DCtx */
    void *lz4_c;  /* LZ4F_cctx */
    void *lz4_d;  /* LZ4F_dctx */
} rill_codec_ctx;

/* A ctx may also live on the stack: zero it (init) and clear it when done. */
void rill__codec_ctx_init(rill_codec_ctx *ctx);
void rill__codec_ctx_clear(rill_codec_ctx *ctx);

/*
 * Compresses n bytes at `in`, appending the result to `out`.  level is
 * RILL_LEVEL_DEFAULT or the codec's own level (clamped to its range; snappy
 * has none).  Returns 0, RILL_ERR_UNSUPPORTED_COMPRESSION_TYPE for an
 * unknown codec, or RILL_ERR_NO_MEMORY (allocation failed or `out` reached
 * its maximum).  On error out->len is as it was before the call.
 */
int rill__compress_ctx(rill_codec_ctx *ctx, int codec, int level, const void *in, size_t n,
                       rill_buf *out);

/*
 * Decompresses n bytes at `in`, appending at most max_out bytes to `out`.
 * Returns 0, RILL_ERR_CORRUPT_MESSAGE (malformed or truncated input),
 * RILL_ERR_MESSAGE_TOO_LARGE (the output would exceed max_out),
 * RILL_ERR_UNSUPPORTED_COMPRESSION_TYPE or RILL_ERR_NO_MEMORY.  On error
 * out->len is as it was before the call.
 */
int rill__decompress_ctx(rill_codec_ctx *ctx, int codec, const void *in, size_t n, rill_buf *out,
                         size_t max_out);

/* The same with a temporary context and the default level. */
int rill__compress(int codec, const void *in, size_t n, rill_buf *out);
int rill__decompress(int codec, const void *in, size_t n, rill_buf *out, size_t max_out);

/* "none", "gzip", "snappy", "lz4", "zstd" -> codec id, or -1. */
int rill__codec_parse(const char *name);
/* Codec id -> name; "unknown" for anything else. */
const char *rill__codec_name(int codec);

#endif
