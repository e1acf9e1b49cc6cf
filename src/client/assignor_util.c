/*
 * assignor_util.c -- helpers the assignors share (assignor_int.h): Java's
 * String order and hash, the size of a java.util.HashMap table, int lists,
 * a stable sort, rack checks.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/assignor_int.h"
#include "rill.h"

/*
 * Walks a UTF-8 string as the UTF-16 code units Java's String holds after
 * decoding it.  Malformed bytes decode to U+FFFD one byte at a time (close
 * to what Java's decoder does; member ids and topic names are UTF-8).
 */
typedef struct u16it {
    const uint8_t *p;
    uint16_t low; /* pending low surrogate, 0 if none */
} u16it;

static int u16_next(u16it *it) {
    if (it->low) {
        int u = it->low;
        it->low = 0;
        return u;
    }
    const uint8_t *p = it->p;
    if (!*p)
        return -1;
    uint32_t cp;
    int n;
    if (p[0] < 0x80) {
        it->p++;
        return p[0];
    } else if (p[0] >= 0xC2 && p[0] <= 0xDF) {
        cp = p[0] & 0x1F;
        n = 1;
    } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
        cp = p[0] & 0x0F;
        n = 2;
    } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
        cp = p[0] & 0x07;
        n = 3;
    } else {
        it->p++;
        return 0xFFFD;
    }
    for (int i = 1; i <= n; i++) {
        if ((p[i] & 0xC0) != 0x80) {
            it->p++;
            return 0xFFFD;
        }
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    /* Overlong forms, surrogates and values past U+10FFFF are malformed. */
    if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (n == 3 && (cp < 0x10000 || cp > 0x10FFFF))) {
        it->p++;
        return 0xFFFD;
    }
    it->p += n + 1;
    if (cp >= 0x10000) {
        cp -= 0x10000;
        it->low = (uint16_t)(0xDC00 | (cp & 0x3FF));
        return (int)(0xD800 | (cp >> 10));
    }
    return (int)cp;
}

int rill__asg_jcmp(const char *a, const char *b) {
    /* Equal bytes decode to equal units, so skip the common ASCII prefix first. */
    while (*a && *a == *b && (unsigned char)*a < 0x80) {
        a++;
        b++;
    }
    u16it x = {(const uint8_t *)a, 0}, y = {(const uint8_t *)b, 0};
    for (;;) {
        int u = u16_next(&x), v = u16_next(&y);
        if (u != v)
            return u < 0 ? -1 : v < 0 ? 1 : u - v;
        if (u < 0)
            return 0;
    }
}

int32_t rill__asg_jhash(const char *s) {
    u16it it = {(const uint8_t *)s, 0};
    uint32_t h = 0;
    for (int u; (u = u16_next(&it)) >= 0;)
        h = 31 * h + (uint32_t)u;
    return (int32_t)h;
}

uint32_t rill__asg_hashmap_cap(int64_t n) {
    /* 16 slots on the first put; doubled whenever the size passes 3/4 of them. */
    uint32_t cap = 16;
    while (n > (int64_t)cap / 4 * 3)
        cap *= 2;
    return cap;
}

int rill__asg_list_push(asg_ctx *c, asg_list *l, int32_t x) {
    if (l->n == l->cap) {
        int32_t ncap = l->cap ? l->cap * 2 : 8;
        int32_t *v = realloc(l->v, (size_t)ncap * sizeof(*v));
        if (!v) {
            c->oom = 1;
            return -1;
        }
        l->v = v;
        l->cap = ncap;
    }
    l->v[l->n++] = x;
    return 0;
}

void rill__asg_list_remove_at(asg_list *l, int32_t i) {
    memmove(l->v + i, l->v + i + 1, (size_t)(l->n - i - 1) * sizeof(*l->v));
    l->n--;
}

bool rill__asg_list_remove(asg_list *l, int32_t x) {
    for (int32_t i = 0; i < l->n; i++)
        if (l->v[i] == x) {
            rill__asg_list_remove_at(l, i);
            return true;
        }
    return false;
}

bool rill__asg_list_has(const asg_list *l, int32_t x) {
    for (int32_t i = 0; i < l->n; i++)
        if (l->v[i] == x)
            return true;
    return false;
}

void *rill__asg_alloc(asg_ctx *c, size_t n, size_t size) {
    void *p = rill__arena_calloc(&c->a, n ? n : 1, size);
    if (!p)
        c->oom = 1;
    return p;
}

char *rill__asg_strndup(rill_arena *a, const char *p, size_t len) {
    char *d = rill__arena_alloc(a, len + 1);
    if (d) {
        if (len)
            memcpy(d, p, len);
        d[len] = '\0';
    }
    return d;
}

int rill__asg_fail(asg_ctx *c, int err, const char *fmt, ...) {
    if (c->errstr && c->errsize) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->errstr, c->errsize, fmt, ap);
        va_end(ap);
    }
    return err;
}

static void merge(int32_t *v, int32_t *tmp, int32_t n, int (*cmp)(int32_t, int32_t, void *),
                  void *arg) {
    if (n < 2)
        return;
    int32_t h = n / 2;
    merge(v, tmp, h, cmp, arg);
    merge(v + h, tmp, n - h, cmp, arg);
    if (cmp(v[h - 1], v[h], arg) <= 0)
        return;
    memcpy(tmp, v, (size_t)h * sizeof(*v));
    int32_t i = 0, j = h, k = 0;
    while (i < h && j < n)
        v[k++] = cmp(v[j], tmp[i], arg) < 0 ? v[j++] : tmp[i++];
    while (i < h)
        v[k++] = tmp[i++];
}

int rill__asg_sort(asg_ctx *c, int32_t *v, int32_t n, int (*cmp)(int32_t, int32_t, void *),
                   void *arg) {
    if (n < 2)
        return 0;
    int32_t *tmp = malloc((size_t)(n / 2 + 1) * sizeof(*tmp));
    if (!tmp) {
        c->oom = 1;
        return -1;
    }
    merge(v, tmp, n, cmp, arg);
    free(tmp);
    return 0;
}

bool rill__asg_subscribed(const asg_ctx *c, int32_t mi, int32_t t) {
    const asg_list *s = &c->subs[mi];
    int32_t lo = 0, hi = s->n;
    while (lo < hi) {
        int32_t mid = (lo + hi) / 2;
        if (s->v[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < s->n && s->v[lo] == t;
}

bool rill__asg_prack_has(const asg_ctx *c, int32_t p, int32_t rack) {
    int32_t n;
    const int32_t *r = rill__asg_pracks(c, p, &n);
    for (int32_t i = 0; i < n; i++)
        if (r[i] == rack)
            return true;
    return false;
}

bool rill__asg_use_rack_aware(const asg_ctx *c, const uint8_t *consumer_racks, int32_t p0,
                              int32_t p1, uint8_t *scratch) {
    memset(scratch, 0, (size_t)c->nracks);
    int32_t nall = 0;
    bool overlap = false;
    for (int32_t p = p0; p < p1; p++) {
        int32_t n;
        const int32_t *r = rill__asg_pracks(c, p, &n);
        for (int32_t i = 0; i < n; i++)
            if (!scratch[r[i]]) {
                scratch[r[i]] = 1;
                nall++;
                overlap |= consumer_racks[r[i]] != 0;
            }
    }
    if (!overlap)
        return false;
    /* A partition's racks are a subset of all of them: equal when as many. */
    for (int32_t p = p0; p < p1; p++)
        if (c->prack_off[p + 1] - c->prack_off[p] != nall)
            return true;
    return false;
}
