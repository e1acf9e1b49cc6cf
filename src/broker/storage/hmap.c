/*
 * hmap.c -- chained hash map with a per-process seed (see hmap.h).
 */
#include "broker/storage/hmap.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* Set once, on first use, from any thread (a racing second writer stores an equally good
 * value, and atomics keep that defined). */
static _Atomic uint64_t seed;

static uint64_t mix(uint64_t h) {
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static uint64_t hash_bytes(const uint8_t *p, size_t n) {
    uint64_t sd = atomic_load_explicit(&seed, memory_order_relaxed);
    if (!sd) {
        uint64_t s = 0;
        if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s))
            s = (uint64_t)(uintptr_t)&seed ^ 0x9e3779b97f4a7c15ull;
        uint64_t expect = 0;
        atomic_compare_exchange_strong(&seed, &expect, s | 1);
        sd = atomic_load(&seed);
    }
    uint64_t h = sd ^ (n * 0x9e3779b97f4a7c15ull);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = mix(h ^ w) * 0x9e3779b97f4a7c15ull;
        p += 8;
        n -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, n);
    return mix(h ^ w ^ ((uint64_t)n << 56));
}

void rill__hmap_init(rill_hmap *m) { memset(m, 0, sizeof(*m)); }

void rill__hmap_free(rill_hmap *m, void (*free_val)(void *)) {
    for (size_t i = 0; i < m->nb; i++) {
        rill_hmap_node *n = m->b[i];
        while (n) {
            rill_hmap_node *next = n->next;
            if (free_val)
                free_val(n->val);
            free(n);
            n = next;
        }
    }
    free(m->b);
    memset(m, 0, sizeof(*m));
}

static rill_hmap_node **find(const rill_hmap *m, const void *key, size_t klen, uint64_t h) {
    if (!m->nb)
        return NULL;
    rill_hmap_node **pp = &m->b[h & (m->nb - 1)];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->hash == h && (*pp)->klen == klen && memcmp((*pp)->key, key, klen) == 0)
            return pp;
    return NULL;
}

void *rill__hmap_get(const rill_hmap *m, const void *key, size_t klen) {
    rill_hmap_node **pp = find(m, key, klen, hash_bytes(key, klen));
    return pp ? (*pp)->val : NULL;
}

static int grow(rill_hmap *m) {
    size_t nb = m->nb ? m->nb * 2 : 16;
    rill_hmap_node **b = calloc(nb, sizeof(*b));
    if (!b)
        return -1;
    for (size_t i = 0; i < m->nb; i++) {
        rill_hmap_node *n = m->b[i];
        while (n) {
            rill_hmap_node *next = n->next;
            n->next = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
            n = next;
        }
    }
    free(m->b);
    m->b = b;
    m->nb = nb;
    return 0;
}

int rill__hmap_put(rill_hmap *m, const void *key, size_t klen, void *val) {
    uint64_t h = hash_bytes(key, klen);
    rill_hmap_node **pp = find(m, key, klen, h);
    if (pp) {
        (*pp)->val = val;
        return 0;
    }
    if (m->n + 1 > m->nb - m->nb / 4 && grow(m) != 0 && !m->nb)
        return -1;
    rill_hmap_node *n = malloc(sizeof(*n) + klen);
    if (!n)
        return -1;
    n->hash = h;
    n->val = val;
    n->klen = klen;
    if (klen)
        memcpy(n->key, key, klen);
    n->next = m->b[h & (m->nb - 1)];
    m->b[h & (m->nb - 1)] = n;
    m->n++;
    return 0;
}

void *rill__hmap_del(rill_hmap *m, const void *key, size_t klen) {
    rill_hmap_node **pp = find(m, key, klen, hash_bytes(key, klen));
    if (!pp)
        return NULL;
    rill_hmap_node *n = *pp;
    void *val = n->val;
    *pp = n->next;
    free(n);
    m->n--;
    return val;
}

void rill__hmap_iter_init(rill_hmap_iter *it, const rill_hmap *m) {
    it->m = m;
    it->bucket = 0;
    it->next = NULL;
}

rill_hmap_node *rill__hmap_iter_next(rill_hmap_iter *it) {
    while (!it->next) {
        if (it->bucket >= it->m->nb)
            return NULL;
        it->next = it->m->b[it->bucket++];
    }
    rill_hmap_node *n = it->next;
    it->next = n->next;
    return n;
}
