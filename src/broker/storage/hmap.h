/*
 * hmap.h -- a small chained hash map from byte-string keys to pointers.
 *
 * Storage keeps several keyed tables (topics by name, committed offsets by group and
 * partition, producer state by producer id) and none is on the produce hot path, so one
 * simple structure serves all of them.  Keys are copied into the node; values are owned
 * by the caller (rill__hmap_free takes a destructor for them).  The hash is seeded per
 * process so client-chosen names (group ids) cannot be crafted to collide.
 *
 * Not thread-safe; iteration order is unspecified; deleting the node the iterator is on
 * is allowed (the iterator has already stepped past it).
 */
#ifndef RILL_STORAGE_HMAP_H
#define RILL_STORAGE_HMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct rill_hmap_node {
    struct rill_hmap_node *next;
    uint64_t hash;
    void *val;
    size_t klen;
    uint8_t key[];
} rill_hmap_node;

typedef struct rill_hmap {
    rill_hmap_node **b;
    size_t nb; /* buckets, a power of two (0 before the first insert) */
    size_t n;  /* entries */
} rill_hmap;

typedef struct rill_hmap_iter {
    const rill_hmap *m;
    size_t bucket;
    rill_hmap_node *next;
} rill_hmap_iter;

void rill__hmap_init(rill_hmap *m);
/* Frees every node, calling free_val (if not NULL) on each value. */
void rill__hmap_free(rill_hmap *m, void (*free_val)(void *));
/* The value stored under key, or NULL. */
void *rill__hmap_get(const rill_hmap *m, const void *key, size_t klen);
/* Inserts or replaces; returns 0, or -1 when out of memory (the map is unchanged). */
int rill__hmap_put(rill_hmap *m, const void *key, size_t klen, void *val);
/* Removes key; returns its value (NULL when absent). */
void *rill__hmap_del(rill_hmap *m, const void *key, size_t klen);

void rill__hmap_iter_init(rill_hmap_iter *it, const rill_hmap *m);
/* The next node, or NULL at the end. */
rill_hmap_node *rill__hmap_iter_next(rill_hmap_iter *it);

#endif
