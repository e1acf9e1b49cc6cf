/*
 * arena.c -- chunked bump allocator for decoded messages (see arena.h).
 */
#include "proto/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct rill_arena_chunk {
    rill_arena_chunk *next;
    size_t cap;  /* usable bytes in data */
    size_t used; /* bytes handed out */
    max_align_t data[];
};

#define ALIGN (_Alignof(max_align_t))

void rill__arena_init(rill_arena *a, size_t max) {
    a->head = NULL;
    a->held = 0;
    a->max = max ? max : RILL_ARENA_DEFAULT_MAX;
    a->err = 0;
}

static rill_arena_chunk *add_chunk(rill_arena *a, size_t need) {
    size_t cap = RILL_ARENA_CHUNK_MIN;
    /* Geometric growth keeps the number of chunks logarithmic. */
    if (a->head && a->head->cap <= SIZE_MAX / 2 && a->head->cap * 2 > cap)
        cap = a->head->cap * 2;
    if (cap < need)
        cap = need;
    if (cap > a->max - a->held)
        cap = a->max - a->held;
    if (cap < need)
        return NULL;
    rill_arena_chunk *c = malloc(sizeof(*c) + cap);
    if (!c)
        return NULL;
    c->cap = cap;
    c->used = 0;
    c->next = a->head;
    a->head = c;
    a->held += cap;
    return c;
}

void *rill__arena_alloc(rill_arena *a, size_t n) {
    if (a->err)
        return NULL;
    if (n == 0)
        n = 1;
    if (n > SIZE_MAX - ALIGN) {
        a->err = 1;
        return NULL;
    }
    n = (n + ALIGN - 1) & ~(ALIGN - 1);
    rill_arena_chunk *c = a->head;
    if (!c || c->cap - c->used < n) {
        c = add_chunk(a, n);
        if (!c) {
            a->err = 1;
            return NULL;
        }
    }
    void *p = (unsigned char *)c->data + c->used;
    c->used += n;
    return p;
}

void *rill__arena_calloc(rill_arena *a, size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) {
        a->err = 1;
        return NULL;
    }
    void *p = rill__arena_alloc(a, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

static void free_chain(rill_arena_chunk *c) {
    while (c) {
        rill_arena_chunk *next = c->next;
        free(c);
        c = next;
    }
}

void rill__arena_reset(rill_arena *a) {
    if (a->head) {
        free_chain(a->head->next);
        a->head->next = NULL;
        a->head->used = 0;
        a->held = a->head->cap;
    }
    a->err = 0;
}

void rill__arena_free(rill_arena *a) {
    free_chain(a->head);
    a->head = NULL;
    a->held = 0;
    a->err = 0;
}
