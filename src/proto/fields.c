/*
 * fields.c -- field helpers shared by the API codecs (see fields.h).
 */
#include "proto/fields.h"

rill_str rill__rd_str_nn(rill_rd *r, bool flexible) {
    rill_str s = rill__rd_str(r, flexible);
    if (s.len < 0)
        r->err = 1;
    return s;
}

void rill__wr_str(rill_buf *b, bool flexible, bool nullable, rill_str s) {
    if (s.len < 0 || (!s.ptr && s.len > 0)) {
        if (!nullable) {
            b->err = 1;
            return;
        }
        rill__wr_strn(b, flexible, NULL, -1);
        return;
    }
    rill__wr_strn(b, flexible, s.ptr ? s.ptr : "", s.len);
}

void *rill__rd_array_alloc(rill_rd *r, bool flexible, bool nullable, size_t min_elem,
                           size_t elem_size, rill_arena *a, int32_t *count) {
    int32_t n = rill__rd_array(r, flexible, min_elem ? min_elem : 1);
    *count = 0;
    if (r->err)
        return NULL;
    if (n < 0) {
        if (!nullable)
            r->err = 1;
        else
            *count = -1;
        return NULL;
    }
    if (n == 0)
        return NULL;
    void *p = rill__arena_calloc(a, (size_t)n, elem_size);
    if (!p) {
        r->err = 1;
        return NULL;
    }
    *count = n;
    return p;
}

void rill__wr_array_n(rill_buf *b, bool flexible, bool nullable, int32_t n) {
    if (n < 0 && !nullable) {
        b->err = 1;
        return;
    }
    rill__wr_array(b, flexible, n < 0 ? -1 : n);
}

int32_t *rill__rd_i32_array(rill_rd *r, bool flexible, bool nullable, rill_arena *a,
                            int32_t *count) {
    int32_t *v;
    RILL_RD_ARRAY(r, flexible, nullable, 4, a, v, *count);
    for (int32_t i = 0; i < *count && !r->err; i++)
        v[i] = rill__rd_i32(r);
    return v;
}

void rill__wr_i32_array(rill_buf *b, bool flexible, bool nullable, const int32_t *v, int32_t n) {
    rill__wr_array_n(b, flexible, nullable, n);
    for (int32_t i = 0; i < n; i++)
        rill__wr_i32(b, v[i]);
}

rill_str *rill__rd_str_array(rill_rd *r, bool flexible, bool nullable, rill_arena *a,
                             int32_t *count) {
    rill_str *v;
    RILL_RD_ARRAY(r, flexible, nullable, flexible ? 1 : 2, a, v, *count);
    for (int32_t i = 0; i < *count && !r->err; i++)
        v[i] = rill__rd_str_nn(r, flexible);
    return v;
}

void rill__wr_str_array(rill_buf *b, bool flexible, bool nullable, const rill_str *v, int32_t n) {
    rill__wr_array_n(b, flexible, nullable, n);
    for (int32_t i = 0; i < n; i++)
        rill__wr_str(b, flexible, false, v[i]);
}

bool rill__rd_tag_next(rill_rd *r, uint32_t *left, uint32_t *tag, rill_rd *field) {
    if (r->err || *left == 0)
        return false;
    (*left)--;
    *tag = rill__rd_uvarint(r);
    uint32_t size = rill__rd_uvarint(r);
    const uint8_t *p = rill__rd_take(r, size);
    if (!p)
        return false;
    rill__rd_init(field, p, size);
    return true;
}

size_t rill__wr_tag_begin(rill_buf *b, uint32_t tag) {
    rill__wr_uvarint(b, tag);
    return b->len;
}

void rill__wr_tag_end(rill_buf *b, size_t at) {
    if (b->err || at > b->len)
        return;
    size_t len = b->len - at;
    uint8_t pre[RILL_VARINT_MAX];
    size_t n = rill__uvarint_put(pre, len);
    if (rill__buf_grow(b, n) != 0)
        return;
    memmove(b->data + at + n, b->data + at, len);
    memcpy(b->data + at, pre, n);
    b->len += n;
}
