/*
 * group_coordinator.c -- the group coordinator's lifecycle (loading groups from the
 * offsets store), its timers and cancellation, and the group admin APIs: ListGroups,
 * DescribeGroups, DeleteGroups.  Membership is in group_join.c, offsets in
 * group_offsets.c.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker/server/group_internal.h"
#include "proto/fields.h"

#define LOG(gc, lvl, ...) RILL_LOG((gc)->cfg.logger, (lvl), "group", __VA_ARGS__)

/* Kafka's group ACL operations READ (3), DELETE (6), DESCRIBE (8): all allowed here. */
#define GROUP_OPERATIONS ((1 << 3) | (1 << 6) | (1 << 8))

void rill__gc_config_defaults(rill_gc_config *cfg) {
    memset(cfg, 0, sizeof(*cfg));
    cfg->min_session_timeout_ms = 6000;
    cfg->max_session_timeout_ms = 1800000;
    cfg->initial_rebalance_delay_ms = 3000;
    cfg->max_group_size = INT32_MAX;
    cfg->new_member_join_timeout_ms = 300000;
    cfg->cleanup_interval_ms = 600000;
    cfg->offsets_retention_ms = 7LL * 24 * 3600 * 1000;
    cfg->sync_commits = 1;
}

static void load_group(void *opaque, const char *group) {
    rill_gc *gc = opaque;
    if (!rill__gc_get_or_create(gc, group))
        LOG(gc, RILL_LOG_ERR, "out of memory loading group %s", group);
}

rill_gc *rill__gc_new(const rill_gc_config *cfg) {
    rill_gc *gc = calloc(1, sizeof(*gc));
    if (!gc)
        return NULL;
    gc->cfg = *cfg;
    gc->offsets = cfg->offsets;
    if (!gc->offsets) {
        gc->offsets = rill__offsets_new_memory();
        gc->own_offsets = true;
        if (!gc->offsets) {
            free(gc);
            return NULL;
        }
    }
    rill__hmap_init(&gc->groups);
    rill__arena_init(&gc->scratch, 0);
    rill__arena_init(&gc->reply, 0);
    gc->commits_tail = &gc->commits;
    /* Groups known only by their offsets are Empty groups, as Kafka loads them. */
    rill__offsets_groups(gc->offsets, load_group, gc);
    gc->next_cleanup = rill__gc_now(gc) + gc->cfg.cleanup_interval_ms;
    return gc;
}

/* Every group, in an array, so callers may drop groups while walking it. */
static gc_group **group_list(const rill_gc *gc, size_t *n) {
    gc_group **v = malloc((gc->groups.n ? gc->groups.n : 1) * sizeof(*v));
    *n = 0;
    if (!v)
        return NULL;
    rill_hmap_iter it;
    rill_hmap_node *node;
    rill__hmap_iter_init(&it, &gc->groups);
    while ((node = rill__hmap_iter_next(&it)))
        v[(*n)++] = node->val;
    return v;
}

void rill__gc_destroy(rill_gc *gc) {
    if (!gc)
        return;
    rill__gc_commits_cancel(gc, NULL, true);
    rill_hmap_iter it;
    rill_hmap_node *node;
    rill__hmap_iter_init(&it, &gc->groups);
    while ((node = rill__hmap_iter_next(&it)))
        rill__gc_group_cancel(node->val, NULL, true);
    rill__hmap_iter_init(&it, &gc->groups);
    while ((node = rill__hmap_iter_next(&it)))
        rill__gc_group_drop(gc, node->val);
    rill__hmap_free(&gc->groups, NULL);
    if (gc->own_offsets)
        rill__offsets_close(gc->offsets);
    rill__arena_free(&gc->scratch);
    rill__arena_free(&gc->reply);
    free(gc);
}

void rill__gc_cancel(rill_gc *gc, const void *conn) {
    rill_hmap_iter it;
    rill_hmap_node *node;
    rill__hmap_iter_init(&it, &gc->groups);
    while ((node = rill__hmap_iter_next(&it)))
        rill__gc_group_cancel(node->val, conn, false);
    rill__gc_commits_cancel(gc, conn, false);
}

typedef struct expiry {
    rill_gc *gc;
    int64_t floor; /* the group's Empty time, or -1 */
    int64_t now;
    struct {
        char *topic;
        int32_t partition;
    } * gone;
    size_t n, cap;
} expiry;

static void expire_one(void *opaque, const char *topic, int32_t partition,
                       const rill_offset_entry *e) {
    expiry *x = opaque;
    int64_t base = e->commit_ts > x->floor ? e->commit_ts : x->floor;
    if (x->now - base < x->gc->cfg.offsets_retention_ms)
        return;
    if (x->n == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 16;
        void *a = realloc(x->gone, cap * sizeof(*x->gone));
        if (!a)
            return; /* out of memory: expires at a later pass */
        x->gone = a;
        x->cap = cap;
    }
    if ((x->gone[x->n].topic = strdup(topic)) != NULL)
        x->gone[x->n++].partition = partition;
}

/*
 * offsets.retention.minutes for one Empty group (see rill_gc_config.offsets_retention_ms).
 * Every group with committed offsets is in gc->groups: loaded from the store at start,
 * created by its first commit.
 */
static void expire_offsets(rill_gc *gc, gc_group *g, int64_t now) {
    expiry x = {gc, g->empty_since, now, NULL, 0, 0};
    rill__offsets_foreach(gc->offsets, g->id, expire_one, &x);
    for (size_t k = 0; k < x.n; k++) {
        rill__offsets_delete(gc->offsets, g->id, x.gone[k].topic, x.gone[k].partition);
        free(x.gone[k].topic);
    }
    if (x.n)
        LOG(gc, RILL_LOG_INFO, "group %s: %zu committed offset(s) expired", g->id, x.n);
    free(x.gone);
}

/*
 * Kafka's periodic cleanup: expires the committed offsets of Empty groups (a group with
 * members keeps them), then forgets Empty groups that have no committed offsets (after a
 * DeleteGroups, after their offsets expired, or groups whose members all left without
 * committing).
 */
static void cleanup(rill_gc *gc) {
    size_t n;
    gc_group **v = group_list(gc, &n);
    int64_t now = rill__gc_wall(gc);
    for (size_t i = 0; v && i < n; i++) {
        gc_group *g = v[i];
        if (g->state != GC_EMPTY)
            continue;
        if (gc->cfg.offsets_retention_ms > 0)
            expire_offsets(gc, g, now);
        if (g->npending == 0 && !rill__offsets_has_group(gc->offsets, g->id))
            rill__gc_group_drop(gc, g);
    }
    free(v);
}

void rill__gc_tick(rill_gc *gc, int64_t now_ms) {
    gc->now = now_ms;
    rill_hmap_iter it;
    rill_hmap_node *node;
    rill__hmap_iter_init(&it, &gc->groups);
    while ((node = rill__hmap_iter_next(&it)))
        rill__gc_group_timers(gc, node->val);
    if (gc->commits && !gc->cfg.external_sync)
        rill__gc_flush(gc);
    if (now_ms >= gc->next_cleanup) {
        cleanup(gc);
        gc->next_cleanup = now_ms + gc->cfg.cleanup_interval_ms;
    }
}

int64_t rill__gc_next_timeout(const rill_gc *gc) {
    if (gc->commits && !gc->cfg.external_sync)
        return gc->now;
    int64_t t = gc->next_cleanup;
    rill_hmap_iter it;
    rill_hmap_node *node;
    rill__hmap_iter_init(&it, &gc->groups);
    while ((node = rill__hmap_iter_next(&it))) {
        int64_t gt = rill__gc_group_next_timeout(node->val);
        if (gt < t)
            t = gt;
    }
    return t;
}

const char *rill__gc_group_state(const rill_gc *gc, const char *group_id) {
    const gc_group *g = rill__gc_find_c(gc, group_id);
    return g ? rill__gc_state_name(g->state) : NULL;
}

int rill__gc_group_count(const rill_gc *gc) { return (int)gc->groups.n; }

/* ---- ListGroups ---- */

static bool str_in(rill_str s, const rill_str *set, int32_t n) {
    for (int32_t i = 0; i < n; i++)
        if (set[i].len == s.len && strncasecmp(set[i].ptr, s.ptr, (size_t)s.len) == 0)
            return true;
    return false;
}

void rill__gc_list(rill_gc *gc, const rill_gc_client *cl, int16_t ver,
                   const rill_list_groups_req *req, rill_gc_list_cb *done, void *ctx) {
    rill__gc_now(gc);
    rill_list_groups_resp r;
    memset(&r, 0, sizeof(r));
    int32_t nstates = ver >= 4 && req->nstates_filter > 0 ? req->nstates_filter : 0;
    int32_t ntypes = ver >= 5 && req->ntypes_filter > 0 ? req->ntypes_filter : 0;
    /* Every group here is a "classic" one (KIP-848 names the other kind "consumer"). */
    bool types_ok = ntypes == 0 || str_in(rill__str("classic"), req->types_filter, ntypes);
    size_t n;
    gc_group **v = group_list(gc, &n);
    r.groups = rill__gc_reply_array(gc, (int32_t)n, sizeof(*r.groups));
    if (!v || !r.groups) {
        r.error_code = RILL_ERR_COORDINATOR_NOT_AVAILABLE;
        n = 0;
    }
    for (size_t i = 0; types_ok && i < n; i++) {
        const gc_group *g = v[i];
        rill_str state = rill__str(rill__gc_state_name(g->state));
        if (g->state == GC_DEAD || (nstates && !str_in(state, req->states_filter, nstates)))
            continue;
        rill_listed_group *o = &r.groups[r.ngroups++];
        o->group_id = rill__str(g->id);
        o->protocol_type = rill__str(g->protocol_type ? g->protocol_type : "");
        o->group_state = state;
        o->group_type = rill__str("classic");
    }
    free(v);
    (void)cl;
    done(ctx, &r);
    rill__arena_reset(&gc->reply);
}

/* ---- DescribeGroups ---- */

static int describe_one(rill_gc *gc, rill_str id, bool ops, rill_described_group *o) {
    o->group_id = id.len < 0 ? rill__str("") : id;
    o->authorized_operations = ops ? GROUP_OPERATIONS : INT32_MIN;
    o->protocol_type = rill__str("");
    o->protocol_data = rill__str("");
    if (id.len < 0) {
        o->error_code = RILL_ERR_INVALID_GROUP_ID;
        o->group_state = rill__str("");
        return 0;
    }
    const gc_group *g = rill__gc_find(gc, id);
    o->group_state = rill__str(rill__gc_state_name(g ? g->state : GC_DEAD));
    if (!g)
        return 0;
    bool stable = g->state == GC_STABLE;
    o->protocol_type = rill__str(g->protocol_type ? g->protocol_type : "");
    if (stable && g->protocol_name)
        o->protocol_data = rill__str(g->protocol_name);
    o->members = rill__gc_reply_array(gc, g->nmembers, sizeof(*o->members));
    if (!o->members)
        return -1;
    o->nmembers = g->nmembers;
    for (int32_t i = 0; i < g->nmembers; i++) {
        const gc_member *m = g->members[i];
        rill_described_member *d = &o->members[i];
        d->member_id = rill__str(m->id);
        d->group_instance_id = rill__str(m->instance_id);
        d->client_id = rill__str(m->client_id);
        d->client_host = rill__str(m->client_host);
        /* Metadata and assignment are only shown once the group is Stable. */
        const gc_proto *p = stable ? rill__gc_member_proto(m, g->protocol_name) : NULL;
        d->member_metadata.ptr = p ? p->meta : NULL;
        d->member_metadata.len = p ? p->meta_len : 0;
        d->member_assignment.ptr = stable ? m->assignment : NULL;
        d->member_assignment.len = stable ? m->assignment_len : 0;
    }
    return 0;
}

void rill__gc_describe(rill_gc *gc, const rill_gc_client *cl, int16_t ver,
                       const rill_describe_groups_req *req, rill_gc_describe_cb *done, void *ctx) {
    rill__gc_now(gc);
    rill_describe_groups_resp r;
    memset(&r, 0, sizeof(r));
    int32_t n = req->ngroups > 0 ? req->ngroups : 0;
    r.groups = rill__gc_reply_array(gc, n, sizeof(*r.groups));
    if (r.groups) {
        r.ngroups = n;
        for (int32_t i = 0; i < n; i++) {
            if (describe_one(gc, req->groups[i], req->include_authorized_operations,
                             &r.groups[i]) != 0)
                r.groups[i].error_code = RILL_ERR_COORDINATOR_NOT_AVAILABLE;
        }
    }
    (void)cl;
    (void)ver;
    done(ctx, &r);
    rill__arena_reset(&gc->reply);
}

/* ---- DeleteGroups ---- */

static int16_t delete_one(rill_gc *gc, rill_str id, bool *deleted) {
    if (id.len < 0)
        return RILL_ERR_INVALID_GROUP_ID;
    gc_group *g = rill__gc_find(gc, id);
    if (!g || g->state == GC_DEAD)
        return RILL_ERR_GROUP_ID_NOT_FOUND;
    if (g->state != GC_EMPTY)
        return RILL_ERR_NON_EMPTY_GROUP;
    rill_err_t e = RILL_ERR_NO_ERROR;
    if (rill__offsets_has_group(gc->offsets, g->id))
        e = rill__offsets_delete_group(gc->offsets, g->id);
    if (e != RILL_ERR_NO_ERROR)
        return RILL_ERR_NOT_COORDINATOR;
    LOG(gc, RILL_LOG_INFO, "group %s deleted", g->id);
    rill__gc_group_drop(gc, g);
    *deleted = true;
    return 0;
}

void rill__gc_delete(rill_gc *gc, const rill_gc_client *cl, int16_t ver,
                     const rill_delete_groups_req *req, rill_gc_delete_cb *done, void *ctx) {
    rill__gc_now(gc);
    rill_delete_groups_resp r;
    memset(&r, 0, sizeof(r));
    int32_t n = req->ngroups > 0 ? req->ngroups : 0;
    bool deleted = false;
    r.results = rill__gc_reply_array(gc, n, sizeof(*r.results));
    if (r.results) {
        r.nresults = n;
        for (int32_t i = 0; i < n; i++) {
            r.results[i].group_id = req->groups[i].len < 0 ? rill__str("") : req->groups[i];
            r.results[i].error_code = delete_one(gc, req->groups[i], &deleted);
        }
    }
    /* Deleting is rare: make it durable before answering. */
    if (deleted && rill__offsets_sync(gc->offsets) != RILL_ERR_NO_ERROR)
        LOG(gc, RILL_LOG_ERR, "syncing the offsets store after DeleteGroups failed");
    (void)cl;
    (void)ver;
    done(ctx, &r);
    rill__arena_reset(&gc->reply);
}
