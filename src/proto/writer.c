/*
 * writer.c -- the out-of-line parts of the primitive encoder.
 */
#include "proto/writer.h"

#include <string.h>

void rill__wr_strn(rill_buf *b, bool flexible, const char *s, int32_t len) {
    if (!s || len < 0) {
        if (flexible)
            rill__wr_uvarint(b, 0);
        else
            rill__wr_i16(b, -1);
        return;
    }
    if (flexible) {
        rill__wr_uvarint(b, (uint64_t)len + 1);
    } else {
        if (len > INT16_MAX) {
            b->err = 1;
            return;
        }
        rill__wr_i16(b, (int16_t)len);
    }
    rill__buf_append(b, s, (size_t)len);
}

void rill__wr_cstr(rill_buf *b, bool flexible, const char *s) {
    rill__wr_strn(b, flexible, s, s ? (int32_t)strlen(s) : -1);
}

void rill__wr_bytes(rill_buf *b, bool flexible, const void *p, int32_t len) {
    if (!p && len <= 0 && len != 0) {
        len = -1;
    }
    if (len < 0) {
        if (flexible)
            rill__wr_uvarint(b, 0);
        else
            rill__wr_i32(b, -1);
        return;
    }
    if (flexible)
        rill__wr_uvarint(b, (uint64_t)len + 1);
    else
        rill__wr_i32(b, len);
    rill__buf_append(b, p, (size_t)len);
}

void rill__wr_array(rill_buf *b, bool flexible, int32_t n) {
    if (flexible)
        rill__wr_uvarint(b, n < 0 ? 0 : (uint64_t)n + 1);
    else
        rill__wr_i32(b, n);
}

void rill__wr_uuid(rill_buf *b, const uint8_t uuid[16]) {
    static const uint8_t zero[16];
    rill__buf_append(b, uuid ? uuid : zero, 16);
}
