/*
 * buf.h -- growable byte buffer with a hard maximum size.
 *
 * Every encoder in rill writes into a rill_buf.  Growth is geometric and
 * capped by `max` (curl's habit: no buffer grows without bound).  Errors are
 * sticky: once an append fails, `err` stays set and further appends are
 * no-ops, so an encoder checks once at the end instead of after every call.
 */
#ifndef RILL_COMMON_BUF_H
#define RILL_COMMON_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct rill_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max; /* 0 means SIZE_MAX */
    int err;    /* non-zero after an allocation failure or overflow of max */
} rill_buf;

void rill__buf_init(rill_buf *b, size_t max);
void rill__buf_free(rill_buf *b);
/* Make room for `n` more bytes; returns 0 or -1 (and sets err). */
int rill__buf_grow(rill_buf *b, size_t n);
/* Drop the first `n` bytes (consumed input), keeping the rest. */
void rill__buf_consume(rill_buf *b, size_t n);

static inline void rill__buf_reset(rill_buf *b) {
    b->len = 0;
    b->err = 0;
}

static inline int rill__buf_append(rill_buf *b, const void *p, size_t n) {
    if (b->err || (b->cap - b->len < n && rill__buf_grow(b, n) != 0))
        return -1;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

#endif
