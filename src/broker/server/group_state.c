/*
 * group_state.c -- the group coordinator's groups and members: allocation, lookup,
 * protocol bookkeeping (Kafka's GroupMetadata / MemberMetadata), and delivery of the
 * delayed JoinGroup / SyncGroup answers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "broker/server/group_internal.h"
#include "common/clock.h"
#include "proto/fields.h"

int64_t rill__gc_now(rill_gc *gc) {
    gc->now = gc->cfg.clock ? gc->cfg.clock(gc->cfg.clock_opaque) : rill__mono_ms();
    return gc->now;
}

int64_t rill__gc_wall(rill_gc *gc) {
    return gc->cfg.wall_clock ? gc->cfg.wall_clock(gc->cfg.clock_opaque) : rill__wall_ms();
}

const char *rill__gc_state_name(gc_state s) {
    switch (s) {
    case GC_EMPTY:
        return "Empty";
    case GC_PREPARING:
        return "PreparingRebalance";
    case GC_COMPLETING:
        return "CompletingRebalance";
    case GC_STABLE:
        return "Stable";
    case GC_DEAD:
        break;
    }
    return "Dead";
}

char *rill__gc_dup_in(rill_arena *a, rill_str s) {
    size_t n = s.len > 0 ? (size_t)s.len : 0;
    char *c = a ? rill__arena_alloc(a, n + 1) : malloc(n + 1);
    if (!c)
        return NULL;
    if (n)
        memcpy(c, s.ptr, n);
    c[n] = 0;
    return c;
}

char *rill__gc_dup(rill_str s) { return rill__gc_dup_in(NULL, s); }

void *rill__gc_reply_array(rill_gc *gc, int32_t n, size_t size) {
    return rill__arena_calloc(&gc->reply, n > 0 ? (size_t)n : 1, size);
}

bool rill__gc_eq(const char *c, rill_str s) {
    size_t n = s.len > 0 ? (size_t)s.len : 0;
    return c && strlen(c) == n && (n == 0 || memcmp(c, s.ptr, n) == 0);
}

gc_group *rill__gc_find(const rill_gc *gc, rill_str id) {
    if (id.len < 0)
        return NULL;
    return rill__hmap_get(&gc->groups, id.ptr, (size_t)id.len);
}

gc_group *rill__gc_find_c(const rill_gc *gc, const char *id) {
    return rill__hmap_get(&gc->groups, id, strlen(id));
}

gc_group *rill__gc_get_or_create(rill_gc *gc, const char *id) {
    gc_group *g = rill__gc_find_c(gc, id);
    if (g)
        return g;
    g = calloc(1, sizeof(*g));
    if (!g || !(g->id = strdup(id))) {
        free(g);
        return NULL;
    }
    g->state = GC_EMPTY;
    g->join_deadline = GC_NEVER;
    g->sync_deadline = GC_NEVER;
    g->empty_since = -1;
    if (rill__hmap_put(&gc->groups, id, strlen(id), g) != 0) {
        free(g->id);
        free(g);
        return NULL;
    }
    return g;
}

void rill__gc_group_free(rill_gc *gc, gc_group *g) {
    while (g->nmembers > 0)
        rill__gc_member_remove(gc, g, g->members[g->nmembers - 1],
                               RILL_ERR_COORDINATOR_NOT_AVAILABLE);
    for (int32_t i = 0; i < g->npending; i++)
        free(g->pending[i].id);
    free(g->pending);
    free(g->members);
    free(g->protocol_type);
    free(g->protocol_name);
    free(g->id);
    free(g);
}

void rill__gc_group_drop(rill_gc *gc, gc_group *g) {
    rill__hmap_del(&gc->groups, g->id, strlen(g->id));
    g->state = GC_DEAD;
    rill__gc_group_free(gc, g);
}

gc_member *rill__gc_member(const gc_group *g, rill_str id) {
    for (int32_t i = 0; i < g->nmembers; i++)
        if (rill__gc_eq(g->members[i]->id, id))
            return g->members[i];
    return NULL;
}

gc_member *rill__gc_static_member(const gc_group *g, rill_str instance_id) {
    if (instance_id.len < 0)
        return NULL;
    for (int32_t i = 0; i < g->nmembers; i++)
        if (g->members[i]->instance_id && rill__gc_eq(g->members[i]->instance_id, instance_id))
            return g->members[i];
    return NULL;
}

int32_t rill__gc_pending_find(const gc_group *g, rill_str id) {
    for (int32_t i = 0; i < g->npending; i++)
        if (rill__gc_eq(g->pending[i].id, id))
            return i;
    return -1;
}

void rill__gc_pending_remove(gc_group *g, int32_t i) {
    free(g->pending[i].id);
    g->pending[i] = g->pending[--g->npending];
}

static void protos_free(gc_proto *p, int32_t n) {
    for (int32_t i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].meta);
    }
    free(p);
}

int rill__gc_set_protos(gc_member *m, const rill_join_group_protocol *p, int32_t n) {
    gc_proto *np = calloc(n > 0 ? (size_t)n : 1, sizeof(*np));
    if (!np)
        return -1;
    for (int32_t i = 0; i < n; i++) {
        int32_t len = p[i].metadata.len > 0 ? p[i].metadata.len : 0;
        np[i].name = rill__gc_dup(p[i].name);
        np[i].meta = malloc(len > 0 ? (size_t)len : 1);
        np[i].meta_len = len;
        if (!np[i].name || !np[i].meta) {
            protos_free(np, i + 1);
            return -1;
        }
        if (len)
            memcpy(np[i].meta, p[i].metadata.ptr, (size_t)len);
    }
    protos_free(m->protos, m->nprotos);
    m->protos = np;
    m->nprotos = n > 0 ? n : 0;
    return 0;
}

bool rill__gc_protos_match(const gc_member *m, const rill_join_group_protocol *p, int32_t n) {
    if ((n > 0 ? n : 0) != m->nprotos)
        return false;
    for (int32_t i = 0; i < m->nprotos; i++) {
        int32_t len = p[i].metadata.len > 0 ? p[i].metadata.len : 0;
        if (!rill__gc_eq(m->protos[i].name, p[i].name) || len != m->protos[i].meta_len ||
            (len && memcmp(m->protos[i].meta, p[i].metadata.ptr, (size_t)len) != 0))
            return false;
    }
    return true;
}

static bool member_supports(const gc_member *m, const char *name, size_t len) {
    for (int32_t i = 0; i < m->nprotos; i++)
        if (strlen(m->protos[i].name) == len && memcmp(m->protos[i].name, name, len) == 0)
            return true;
    return false;
}

/* How many members support the protocol (Kafka's supportedProtocols counter). */
static int32_t support_count(const gc_group *g, const char *name, size_t len) {
    int32_t n = 0;
    for (int32_t i = 0; i < g->nmembers; i++)
        n += member_supports(g->members[i], name, len);
    return n;
}

bool rill__gc_supports(const gc_group *g, rill_str type, const rill_join_group_protocol *p,
                       int32_t n) {
    if (g->nmembers == 0)
        return type.len > 0 && n > 0;
    if (!rill__gc_eq(g->protocol_type, type))
        return false;
    for (int32_t i = 0; i < n; i++)
        if (p[i].name.len >= 0 &&
            support_count(g, p[i].name.ptr, (size_t)p[i].name.len) == g->nmembers)
            return true;
    return false;
}

const char *rill__gc_select_protocol(const gc_group *g) {
    if (g->nmembers == 0)
        return NULL;
    /* Candidates are the protocols every member supports, in the first member's order;
       each member votes for its own first candidate; the most votes win, and a tie goes
       to the earlier candidate. */
    const gc_member *first = g->members[0];
    int32_t best = -1, best_votes = 0;
    for (int32_t c = 0; c < first->nprotos; c++) {
        const char *name = first->protos[c].name;
        if (support_count(g, name, strlen(name)) != g->nmembers)
            continue;
        int32_t votes = 0;
        for (int32_t i = 0; i < g->nmembers; i++) {
            const gc_member *m = g->members[i];
            for (int32_t k = 0; k < m->nprotos; k++) {
                const char *pn = m->protos[k].name;
                if (support_count(g, pn, strlen(pn)) != g->nmembers)
                    continue;
                votes += strcmp(pn, name) == 0;
                break;
            }
        }
        if (best < 0 || votes > best_votes) {
            best = c;
            best_votes = votes;
        }
    }
    return best >= 0 ? first->protos[best].name : NULL;
}

const gc_proto *rill__gc_member_proto(const gc_member *m, const char *name) {
    for (int32_t i = 0; name && i < m->nprotos; i++)
        if (strcmp(m->protos[i].name, name) == 0)
            return &m->protos[i];
    return NULL;
}

int32_t rill__gc_rebalance_timeout(const gc_group *g) {
    int32_t t = 0;
    for (int32_t i = 0; i < g->nmembers; i++)
        if (g->members[i]->rebalance_timeout_ms > t)
            t = g->members[i]->rebalance_timeout_ms;
    return t;
}

int rill__gc_member_add(gc_group *g, gc_member *m, rill_str protocol_type) {
    if (g->nmembers == g->cap) {
        int32_t cap = g->cap ? g->cap * 2 : 4;
        gc_member **nm = realloc(g->members, (size_t)cap * sizeof(*nm));
        if (!nm)
            return -1;
        g->members = nm;
        g->cap = cap;
    }
    if (g->nmembers == 0) {
        char *t = rill__gc_dup(protocol_type);
        if (!t)
            return -1;
        free(g->protocol_type);
        g->protocol_type = t;
    }
    g->members[g->nmembers++] = m;
    if (!g->leader)
        g->leader = m;
    if (m->awaiting_join)
        g->nawaiting_join++;
    return 0;
}

void rill__gc_member_free(gc_member *m) {
    if (!m)
        return;
    protos_free(m->protos, m->nprotos);
    free(m->assignment);
    free(m->id);
    free(m->instance_id);
    free(m->client_id);
    free(m->client_host);
    free(m);
}

void rill__gc_answer_join(rill_gc *gc, gc_group *g, gc_member *m,
                          const rill_join_group_resp *resp) {
    if (!m->awaiting_join)
        return;
    rill_gc_join_cb *cb = m->join_cb;
    void *ctx = m->join_ctx;
    m->awaiting_join = false;
    m->join_cb = NULL;
    m->join_ctx = NULL;
    m->join_conn = NULL;
    g->nawaiting_join--;
    if (cb)
        cb(ctx, resp);
    rill__arena_reset(&gc->scratch);
}

void rill__gc_answer_sync(rill_gc *gc, gc_member *m, const rill_sync_group_resp *resp) {
    if (!m->awaiting_sync)
        return;
    rill_gc_sync_cb *cb = m->sync_cb;
    void *ctx = m->sync_ctx;
    m->awaiting_sync = false;
    m->sync_cb = NULL;
    m->sync_ctx = NULL;
    m->sync_conn = NULL;
    if (cb)
        cb(ctx, resp);
    rill__arena_reset(&gc->scratch);
}

void rill__gc_join_error(rill_join_group_resp *r, rill_str member_id, int16_t err) {
    memset(r, 0, sizeof(*r));
    r->error_code = err;
    r->generation_id = -1;
    r->protocol_type = rill__str_null();
    r->protocol_name = rill__str_null();
    r->leader = rill__str("");
    r->member_id = member_id.len < 0 ? rill__str("") : member_id;
}

void rill__gc_fail_join(rill_gc *gc, gc_group *g, gc_member *m, const char *member_id,
                        int16_t err) {
    rill_join_group_resp r;
    rill__gc_join_error(&r, rill__str(member_id), err);
    rill__gc_answer_join(gc, g, m, &r);
}

void rill__gc_fail_sync(rill_gc *gc, gc_member *m, int16_t err) {
    rill_sync_group_resp r;
    memset(&r, 0, sizeof(r));
    r.error_code = err;
    r.protocol_type = rill__str_null();
    r.protocol_name = rill__str_null();
    rill__gc_answer_sync(gc, m, &r);
}

void rill__gc_member_remove(rill_gc *gc, gc_group *g, gc_member *m, int16_t err) {
    rill__gc_fail_join(gc, g, m, "", err);
    rill__gc_fail_sync(gc, m, err);
    int32_t i = 0;
    while (i < g->nmembers && g->members[i] != m)
        i++;
    if (i == g->nmembers)
        return;
    memmove(&g->members[i], &g->members[i + 1], (size_t)(g->nmembers - i - 1) * sizeof(m));
    g->nmembers--;
    if (g->leader == m)
        g->leader = g->nmembers ? g->members[0] : NULL;
    rill__gc_member_free(m);
}

char *rill__gc_new_member_id(rill_str prefix) {
    uint8_t u[16];
    if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u)) {
        /* Never short for 16 bytes once the pool is ready; fall back to the clock. */
        int64_t t = rill__mono_us();
        for (size_t i = 0; i < sizeof(u); i++)
            u[i] = (uint8_t)(t >> (8 * (i % 8))) ^ (uint8_t)(i * 151u);
    }
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
    size_t plen = prefix.len > 0 ? (size_t)prefix.len : 0;
    char *id = malloc(plen + 1 + 36 + 1);
    if (!id)
        return NULL;
    if (plen)
        memcpy(id, prefix.ptr, plen);
    char *p = id + plen;
    *p++ = '-';
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        p += sprintf(p, "%02x", u[i]);
    }
    return id;
}
