/*
 * reader.c -- the out-of-line parts of the bounds-checked reader.
 */
#include "proto/reader.h"

#include <string.h>

rill_str rill__rd_str(rill_rd *r, bool flexible) {
    rill_str s = {NULL, -1};
    int64_t len;
    if (flexible)
        len = (int64_t)rill__rd_uvarint(r) - 1;
    else
        len = rill__rd_i16(r);
    if (r->err)
        return s;
    if (len < 0) {
        if (len < -1)
            r->err = 1;
        return s;
    }
    if (len > INT32_MAX) {
        r->err = 1;
        return s;
    }
    const uint8_t *q = rill__rd_take(r, (size_t)len);
    if (!q)
        return s;
    s.ptr = (const char *)q;
    s.len = (int32_t)len;
    return s;
}

rill_bytes rill__rd_bytes(rill_rd *r, bool flexible) {
    rill_bytes b = {NULL, -1};
    int64_t len;
    if (flexible)
        len = (int64_t)rill__rd_uvarint(r) - 1;
    else
        len = rill__rd_i32(r);
    if (r->err)
        return b;
    if (len < 0) {
        if (len < -1)
            r->err = 1;
        return b;
    }
    const uint8_t *q = rill__rd_take(r, (size_t)len);
    if (!q)
        return b;
    b.ptr = q;
    b.len = (int32_t)len;
    return b;
}

int32_t rill__rd_array(rill_rd *r, bool flexible, size_t min_elem) {
    int64_t n;
    if (flexible)
        n = (int64_t)rill__rd_uvarint(r) - 1;
    else
        n = rill__rd_i32(r);
    if (r->err)
        return 0;
    if (n < -1 || n > INT32_MAX) {
        r->err = 1;
        return 0;
    }
    if (n > 0 && min_elem && (uint64_t)n > rill__rd_remain(r) / min_elem) {
        r->err = 1;
        return 0;
    }
    return (int32_t)n;
}

void rill__rd_tags(rill_rd *r) {
    uint32_t n = rill__rd_uvarint(r);
    for (uint32_t i = 0; i < n && !r->err; i++) {
        (void)rill__rd_uvarint(r); /* tag */
        uint32_t sz = rill__rd_uvarint(r);
        rill__rd_skip(r, sz);
    }
}

void rill__rd_uuid(rill_rd *r, uint8_t out[16]) {
    const uint8_t *q = rill__rd_take(r, 16);
    if (q)
        memcpy(out, q, 16);
    else
        memset(out, 0, 16);
}

bool rill__str_eq(rill_str s, const char *c) {
    if (s.len < 0)
        return c == NULL;
    if (!c)
        return false;
    size_t n = strlen(c);
    return n == (size_t)s.len && memcmp(s.ptr, c, n) == 0;
}
