/*
 * arena.h -- bump allocator that owns the arrays of one decoded message.
 *
 * A decoded Kafka message is a tree of small arrays (topics, partitions,
 * replica lists).  Allocating each one with malloc would cost one call per
 * element on hot paths and make freeing a tree walk; instead the decoder
 * carves them out of chunks owned by a rill_arena and the caller frees the
 * whole message at once.  Strings are not copied: they stay views into the
 * input buffer, so the input must outlive the decoded message.
 *
 * Every arena has a maximum size (like rill_buf), so hostile input cannot
 * make a decoder allocate without bound; counts are also bounded against
 * the remaining input before anything is allocated (see fields.h).
 * Errors are sticky in `err`.
 */
#ifndef RILL_PROTO_ARENA_H
#define RILL_PROTO_ARENA_H

#include <stddef.h>

/* Smallest chunk, and the default cap when rill__arena_init gets max 0. */
#define RILL_ARENA_CHUNK_MIN 4096
#define RILL_ARENA_DEFAULT_MAX (64u << 20)

typedef struct rill_arena_chunk rill_arena_chunk;

typedef struct rill_arena {
    rill_arena_chunk *head; /* newest (and largest) chunk first */
    size_t held;            /* bytes of all chunks together */
    size_t max;             /* limit on `held` */
    int err;                /* non-zero after a failed allocation */
} rill_arena;

/* max 0 means RILL_ARENA_DEFAULT_MAX.  Allocates nothing until first use. */
void rill__arena_init(rill_arena *a, size_t max);
/* Memory aligned for any type; NULL (and err set) when over max or OOM. */
void *rill__arena_alloc(rill_arena *a, size_t n);
/* count * size zeroed bytes, with the multiplication checked. */
void *rill__arena_calloc(rill_arena *a, size_t count, size_t size);
/*
 * Forgets every allocation but keeps the newest chunk, so a connection that
 * decodes one response after another reaches a steady state without malloc.
 */
void rill__arena_reset(rill_arena *a);
/* Frees every chunk; the arena can be used again after rill__arena_init. */
void rill__arena_free(rill_arena *a);

#endif
