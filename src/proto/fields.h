/*
 * fields.h -- field helpers shared by every API codec (api_*.c).
 *
 * reader.h and writer.h know the primitives; this file knows the rules the
 * message schemas add on top of them, so each codec states them in one
 * call: non-nullable strings and arrays (null is malformed, both ways),
 * arrays whose storage comes from the message's arena after the count has
 * been bounded by the input left, and tagged fields (read: iterate and
 * skip unknown tags; write: a length prefix patched in after the value).
 *
 * Conventions the codecs follow (the group/fetch codecs do too):
 *   - int rill__<api>_req_encode(rill_buf *, int16_t ver, const rill_<api>_req *)
 *     writes the body only; 0, or -1 with b->err set (also for a version out
 *     of range, or a value the version cannot carry).
 *   - int rill__<api>_req_decode(rill_rd *, int16_t ver, rill_<api>_req *, rill_arena *)
 *     fills every field (schema defaults for fields the version lacks) and
 *     returns 0, or -1 with r->err set.  It does not check that the body is
 *     used up: the caller checks rill__rd_remain(r) == 0.
 *   - the same pair for _resp_.
 *   - arrays are `T *xs; int32_t nxs;` with nxs == -1 for a null array;
 *     strings are rill_str views (len -1 = null).
 */
#ifndef RILL_PROTO_FIELDS_H
#define RILL_PROTO_FIELDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/buf.h"
#include "proto/arena.h"
#include "proto/reader.h"
#include "proto/writer.h"

/* A view of a C string (NULL gives a null string). */
static inline rill_str rill__str(const char *s) {
    rill_str v = {s, s ? (int32_t)strlen(s) : -1};
    return v;
}
static inline rill_str rill__str_null(void) {
    rill_str v = {NULL, -1};
    return v;
}
static inline bool rill__str_is_null(rill_str s) { return s.len < 0; }

/* The tagged-field section that ends every struct of a flexible version. */
static inline void rill__rd_tags_fx(rill_rd *r, bool flexible) {
    if (flexible)
        rill__rd_tags(r);
}

/* Marks a failed encode and returns -1 (for `return rill__enc_fail(b);`). */
static inline int rill__enc_fail(rill_buf *b) {
    b->err = 1;
    return -1;
}
static inline int rill__dec_fail(rill_rd *r) {
    r->err = 1;
    return -1;
}

/* STRING that must not be null. */
rill_str rill__rd_str_nn(rill_rd *r, bool flexible);
/* `nullable` false: a null string is an encoding error.  {NULL, 0} is "". */
void rill__wr_str(rill_buf *b, bool flexible, bool nullable, rill_str s);

/*
 * Reads an array count and returns zeroed storage for it from the arena
 * (NULL for a null or empty array, or on error).  `min_elem` is the least
 * number of bytes one element takes in this version: a count that could not
 * fit in the input left is rejected before anything is allocated.
 */
void *rill__rd_array_alloc(rill_rd *r, bool flexible, bool nullable, size_t min_elem,
                           size_t elem_size, rill_arena *a, int32_t *count);
#define RILL_RD_ARRAY(r, flexible, nullable, min_elem, a, ptr, count)                              \
    ((ptr) = rill__rd_array_alloc((r), (flexible), (nullable), (min_elem), sizeof(*(ptr)), (a),    \
                                  &(count)))
/* The least bytes a string, an array and a tag section take, for min_elem sums. */
static inline size_t rill__min_str(bool flexible) { return flexible ? 1 : 2; }
static inline size_t rill__min_arr(bool flexible) { return flexible ? 1 : 4; }
static inline size_t rill__min_tags(bool flexible) { return flexible ? 1 : 0; }

/* Array count; a negative n where the array is not nullable is an error. */
void rill__wr_array_n(rill_buf *b, bool flexible, bool nullable, int32_t n);

/* []int32 and []string. */
int32_t *rill__rd_i32_array(rill_rd *r, bool flexible, bool nullable, rill_arena *a,
                            int32_t *count);
void rill__wr_i32_array(rill_buf *b, bool flexible, bool nullable, const int32_t *v, int32_t n);
rill_str *rill__rd_str_array(rill_rd *r, bool flexible, bool nullable, rill_arena *a,
                             int32_t *count);
void rill__wr_str_array(rill_buf *b, bool flexible, bool nullable, const rill_str *v, int32_t n);

/*
 * Tagged fields, reading:
 *     uint32_t left = rill__rd_uvarint(r), tag;
 *     rill_rd f;
 *     while (rill__rd_tag_next(r, &left, &tag, &f))
 *         if (tag == 0) { ...read from &f...; rill__rd_tag_done(r, &f); }
 * Unknown tags are skipped (their bytes are taken from r either way).
 */
bool rill__rd_tag_next(rill_rd *r, uint32_t *left, uint32_t *tag, rill_rd *field);
/* A known tag's value must be well formed and used up exactly. */
static inline void rill__rd_tag_done(rill_rd *r, const rill_rd *field) {
    if (field->err || field->p != field->end)
        r->err = 1;
}
/*
 * Tagged fields, writing: the caller writes the number of tags, then per
 * tag: at = rill__wr_tag_begin(b, tag); ...value...; rill__wr_tag_end(b, at);
 * which inserts the value's length in front of it.
 */
size_t rill__wr_tag_begin(rill_buf *b, uint32_t tag);
void rill__wr_tag_end(rill_buf *b, size_t at);

#endif
