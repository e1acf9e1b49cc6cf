/*
 * buf.c -- growable byte buffer (see buf.h).
 */
#include "common/buf.h"

#include <stdlib.h>

void rill__buf_init(rill_buf *b, size_t max) {
    memset(b, 0, sizeof(*b));
    b->max = max ? max : SIZE_MAX;
}

void rill__buf_free(rill_buf *b) {
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int rill__buf_grow(rill_buf *b, size_t n) {
    if (b->err)
        return -1;
    size_t need = b->len + n;
    if (need < b->len || need > b->max) {
        b->err = 1;
        return -1;
    }
    if (need <= b->cap)
        return 0;
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < need)
        ncap = ncap > SIZE_MAX / 2 ? SIZE_MAX : ncap * 2;
    if (ncap > b->max)
        ncap = b->max;
    uint8_t *p = realloc(b->data, ncap);
    if (!p) {
        b->err = 1;
        return -1;
    }
    b->data = p;
    b->cap = ncap;
    return 0;
}

void rill__buf_consume(rill_buf *b, size_t n) {
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}
