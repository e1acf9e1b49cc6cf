/*
 * group_offsets.c -- OffsetCommit and OffsetFetch for the group coordinator, on top of
 * the storage offsets store, and the group commit of their durability: a commit's answer
 * is held until rill__gc_flush (or the owner's external sync) has synced the store (Kafka answers
 * after the offsets topic has the write, broker_anchors.md §4.3 point 5).
 */
#include <stdlib.h>
#include <string.h>

#include "broker/server/group_internal.h"
#include "common/clock.h"
#include "proto/fields.h"

/* A NUL-terminated copy in a; NULL when s holds a NUL byte (it could not be stored). */
static char *arena_cstr(rill_arena *a, rill_str s) {
    if (s.len > 0 && memchr(s.ptr, 0, (size_t)s.len))
        return NULL;
    return rill__gc_dup_in(a, s);
}

/*
 * Kafka's validateOffsetCommit and the state check of doCommitOffsets.  Generation -1
 * with no member id is a consumer that assigns partitions itself: allowed while the group
 * has no members.
 */
static int16_t commit_check(rill_gc *gc, gc_group *g, const rill_offset_commit_req *req) {
    rill_str mid = req->member_id.len < 0 ? rill__str("") : req->member_id;
    if (g->state == GC_DEAD)
        return RILL_ERR_COORDINATOR_NOT_AVAILABLE;
    if (req->generation_id < 0 && g->state == GC_EMPTY)
        return 0;
    if (req->generation_id >= 0 || mid.len > 0 || req->group_instance_id.len >= 0) {
        int16_t err = rill__gc_validate_member(g, mid, req->group_instance_id);
        if (err)
            return err;
        if (req->generation_id != g->generation)
            return RILL_ERR_ILLEGAL_GENERATION;
    } else if (g->state != GC_EMPTY) {
        return RILL_ERR_UNKNOWN_MEMBER_ID;
    }
    switch (g->state) {
    case GC_STABLE:
    case GC_PREPARING:
        /* A commit shows the member is alive; the rebalance reaches it by heartbeat. */
        rill__gc_heartbeat_reset(gc, rill__gc_member(g, mid));
        return 0;
    case GC_COMPLETING:
        return RILL_ERR_REBALANCE_IN_PROGRESS;
    default:
        return 0;
    }
}

/* Kafka's maybeConvertOffsetCommitError for a failed write: a retriable error. */
static int16_t store_error(rill_err_t e) {
    return e == RILL_ERR_KAFKA_STORAGE_ERROR ? RILL_ERR_NOT_COORDINATOR : (int16_t)e;
}

/* Commits the partitions of one topic; returns how many were written. */
static int commit_topic(rill_gc *gc, gc_commit *c, const char *group, int16_t ver,
                        const rill_offset_commit_req_topic *t, rill_offset_commit_resp_topic *out,
                        int16_t err) {
    int written = 0;
    int32_t n = t->npartitions > 0 ? t->npartitions : 0;
    const char *topic = arena_cstr(&c->arena, t->name);
    /*
     * The answer is a copy: a commit waiting for the offsets sync outlives the request
     * bytes (they sit in the server's shared read buffer, reused by the next read).
     */
    out->name = rill__str("");
    if (t->name.len > 0) {
        const char *name = rill__gc_dup_in(&c->arena, t->name);
        if (name)
            out->name = (rill_str){name, t->name.len};
        else
            err = -1;
    }
    out->partitions = rill__arena_calloc(&c->arena, n ? (size_t)n : 1, sizeof(*out->partitions));
    if (!out->partitions || (!topic && !err))
        err = out->partitions ? RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION : -1;
    if (!out->partitions)
        return 0;
    out->npartitions = n;
    for (int32_t i = 0; i < n; i++) {
        const rill_offset_commit_req_partition *p = &t->partitions[i];
        rill_offset_commit_resp_partition *o = &out->partitions[i];
        o->partition = p->partition;
        o->error_code = err;
        if (err)
            continue;
        if (gc->cfg.partition_exists &&
            !gc->cfg.partition_exists(gc->cfg.partition_exists_opaque, topic, p->partition)) {
            o->error_code = RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            continue;
        }
        const char *meta = "";
        if (p->committed_metadata.len > 0) {
            meta = arena_cstr(&c->arena, p->committed_metadata);
            if (!meta) {
                o->error_code = RILL_ERR_INVALID_REQUEST;
                continue;
            }
        }
        int64_t ts = ver == 1 && p->commit_timestamp >= 0 ? p->commit_timestamp : rill__gc_wall(gc);
        rill_err_t e =
            rill__offsets_commit(gc->offsets, group, topic, p->partition, p->committed_offset,
                                 p->committed_leader_epoch, meta, ts);
        o->error_code = store_error(e);
        written += e == RILL_ERR_NO_ERROR;
    }
    return written;
}

static void commit_free(gc_commit *c) {
    rill__arena_free(&c->arena);
    free(c);
}

void rill__gc_offset_commit(rill_gc *gc, const rill_gc_client *cl, int16_t ver,
                            const rill_offset_commit_req *req, rill_gc_commit_cb *done, void *ctx) {
    rill__gc_now(gc);
    gc_commit *c = calloc(1, sizeof(*c));
    if (!c) {
        rill_offset_commit_resp r;
        memset(&r, 0, sizeof(r));
        done(ctx, &r); /* cannot even say which partitions failed */
        return;
    }
    rill__arena_init(&c->arena, 0);
    c->done = done;
    c->ctx = ctx;
    c->conn = cl ? cl->conn : NULL;

    int16_t err = 0;
    const char *group = arena_cstr(&c->arena, req->group_id);
    gc_group *g = NULL;
    if (!group || !*group) {
        /* Kafka accepts "" here for old clients, but it cannot be stored. */
        err = RILL_ERR_INVALID_GROUP_ID;
    } else if (!(g = rill__gc_find_c(gc, group))) {
        if (req->generation_id >= 0)
            err = RILL_ERR_ILLEGAL_GENERATION; /* a member of a generation we do not know */
        else if (!(g = rill__gc_get_or_create(gc, group)))
            err = RILL_ERR_COORDINATOR_NOT_AVAILABLE;
    }
    if (g && !err)
        err = commit_check(gc, g, req);

    int32_t nt = req->ntopics > 0 ? req->ntopics : 0;
    int written = 0;
    c->resp.topics = rill__arena_calloc(&c->arena, nt ? (size_t)nt : 1, sizeof(*c->resp.topics));
    if (c->resp.topics) {
        c->resp.ntopics = nt;
        for (int32_t i = 0; i < nt; i++)
            written += commit_topic(gc, c, group, ver, &req->topics[i], &c->resp.topics[i], err);
    }
    if (written && gc->cfg.sync_commits) {
        *gc->commits_tail = c;
        gc->commits_tail = &c->next;
        gc->ncommits++;
        gc->nuntagged++;
        return;
    }
    done(ctx, &c->resp);
    commit_free(c);
}

/* Answers a held commit and frees it; err (a failed sync) fails its written partitions. */
static void answer(gc_commit *c, rill_err_t err) {
    for (int32_t i = 0; err && i < c->resp.ntopics; i++)
        for (int32_t k = 0; k < c->resp.topics[i].npartitions; k++)
            if (c->resp.topics[i].partitions[k].error_code == 0)
                c->resp.topics[i].partitions[k].error_code = store_error(err);
    c->done(c->ctx, &c->resp);
    commit_free(c);
}

rill_err_t rill__gc_flush(rill_gc *gc) {
    rill_err_t err = rill__offsets_sync(gc->offsets);
    gc_commit *c = gc->commits;
    gc->commits = NULL;
    gc->commits_tail = &gc->commits;
    gc->ncommits = gc->nuntagged = 0;
    while (c) {
        gc_commit *next = c->next;
        answer(c, err);
        c = next;
    }
    return err;
}

int rill__gc_commits_waiting(const rill_gc *gc) {
    return gc->cfg.external_sync ? gc->nuntagged : gc->ncommits;
}

void rill__gc_commits_tag(rill_gc *gc, uint64_t seq) {
    for (gc_commit *c = gc->commits; c && gc->nuntagged; c = c->next)
        if (!c->seq) {
            c->seq = seq;
            gc->nuntagged--;
        }
}

void rill__gc_commits_release(rill_gc *gc, uint64_t durable_seq, rill_err_t err) {
    while (gc->commits && gc->commits->seq && gc->commits->seq <= durable_seq) {
        gc_commit *c = gc->commits;
        gc->commits = c->next;
        if (!gc->commits)
            gc->commits_tail = &gc->commits;
        gc->ncommits--;
        answer(c, err);
    }
}

void rill__gc_commits_cancel(rill_gc *gc, const void *conn, bool all) {
    gc_commit **pp = &gc->commits;
    while (*pp) {
        gc_commit *c = *pp;
        if (!all && c->conn != conn) {
            pp = &c->next;
            continue;
        }
        *pp = c->next;
        gc->ncommits--;
        gc->nuntagged -= c->seq == 0;
        c->done(c->ctx, NULL);
        commit_free(c);
    }
    gc->commits_tail = pp;
}

/* ---- OffsetFetch ---- */

typedef struct fetch_row {
    const char *topic;
    int32_t partition;
    const rill_offset_entry *e;
} fetch_row;

typedef struct fetch_rows {
    fetch_row *v;
    size_t n, cap;
    int oom;
} fetch_rows;

static void collect(void *opaque, const char *topic, int32_t partition,
                    const rill_offset_entry *e) {
    fetch_rows *rows = opaque;
    if (rows->n == rows->cap) {
        size_t cap = rows->cap ? rows->cap * 2 : 64;
        fetch_row *nv = realloc(rows->v, cap * sizeof(*nv));
        if (!nv) {
            rows->oom = 1;
            return;
        }
        rows->v = nv;
        rows->cap = cap;
    }
    rows->v[rows->n++] = (fetch_row){topic, partition, e};
}

static int row_cmp(const void *a, const void *b) {
    const fetch_row *x = a, *y = b;
    int c = strcmp(x->topic, y->topic);
    return c ? c : (x->partition > y->partition) - (x->partition < y->partition);
}

static void fill_partition(rill_offset_fetch_resp_partition *o, int32_t partition,
                           const rill_offset_entry *e) {
    o->partition = partition;
    o->committed_offset = e ? e->offset : -1;
    o->committed_leader_epoch = e ? e->leader_epoch : -1;
    o->metadata = rill__str(e && e->metadata ? e->metadata : "");
    o->error_code = 0;
}

/* Every committed offset of the group (a null topic list), sorted by topic and partition. */
static int fetch_all(rill_gc *gc, const char *group, rill_offset_fetch_resp_group *out) {
    fetch_rows rows = {0};
    if (group)
        rill__offsets_foreach(gc->offsets, group, collect, &rows);
    if (rows.oom) {
        free(rows.v);
        return -1;
    }
    if (rows.n) /* qsort with a NULL base is undefined, even for 0 elements */
        qsort(rows.v, rows.n, sizeof(*rows.v), row_cmp);
    int32_t nt = 0;
    for (size_t i = 0; i < rows.n; i++)
        nt += i == 0 || strcmp(rows.v[i].topic, rows.v[i - 1].topic) != 0;
    out->topics = rill__gc_reply_array(gc, nt, sizeof(*out->topics));
    rill_offset_fetch_resp_partition *parts =
        rill__gc_reply_array(gc, (int32_t)rows.n, sizeof(*parts));
    if (!out->topics || !parts) {
        free(rows.v);
        return -1;
    }
    int32_t t = -1;
    for (size_t i = 0; i < rows.n; i++) {
        if (i == 0 || strcmp(rows.v[i].topic, rows.v[i - 1].topic) != 0) {
            t++;
            out->topics[t].name = rill__str(rows.v[i].topic);
            out->topics[t].partitions = &parts[i];
        }
        out->topics[t].npartitions++;
        fill_partition(&parts[i], rows.v[i].partition, rows.v[i].e);
    }
    out->ntopics = nt;
    free(rows.v);
    return 0;
}

static int fetch_listed(rill_gc *gc, const char *group, const rill_offset_fetch_req_group *rg,
                        rill_offset_fetch_resp_group *out) {
    out->topics = rill__gc_reply_array(gc, rg->ntopics, sizeof(*out->topics));
    if (!out->topics)
        return -1;
    out->ntopics = rg->ntopics;
    for (int32_t i = 0; i < rg->ntopics; i++) {
        const rill_offset_fetch_req_topic *t = &rg->topics[i];
        rill_offset_fetch_resp_topic *o = &out->topics[i];
        int32_t np = t->npartitions > 0 ? t->npartitions : 0;
        const char *topic = arena_cstr(&gc->reply, t->name);
        o->name = t->name.len < 0 ? rill__str("") : t->name;
        o->partitions = rill__gc_reply_array(gc, np, sizeof(*o->partitions));
        if (!o->partitions)
            return -1;
        o->npartitions = np;
        for (int32_t k = 0; k < np; k++) {
            const rill_offset_entry *e =
                group && topic ? rill__offsets_get(gc->offsets, group, topic, t->partitions[k])
                               : NULL;
            fill_partition(&o->partitions[k], t->partitions[k], e);
        }
    }
    return 0;
}

void rill__gc_offset_fetch(rill_gc *gc, const rill_gc_client *cl, int16_t ver,
                           const rill_offset_fetch_req *req, rill_gc_fetch_cb *done, void *ctx) {
    rill__gc_now(gc);
    rill_offset_fetch_resp r;
    memset(&r, 0, sizeof(r));
    int32_t ng = req->ngroups > 0 ? req->ngroups : 0;
    r.groups = rill__gc_reply_array(gc, ng, sizeof(*r.groups));
    if (r.groups) {
        r.ngroups = ng;
        for (int32_t i = 0; i < ng; i++) {
            const rill_offset_fetch_req_group *rg = &req->groups[i];
            rill_offset_fetch_resp_group *out = &r.groups[i];
            out->group_id = rg->group_id.len < 0 ? rill__str("") : rg->group_id;
            if (rg->group_id.len < 0) {
                out->error_code = RILL_ERR_INVALID_GROUP_ID;
                continue;
            }
            /* Offsets are returned whatever the group's state: simple consumers commit
               without membership.  An id with a NUL byte has no offsets. */
            const char *group = arena_cstr(&gc->reply, rg->group_id);
            int rc = rg->ntopics < 0 ? fetch_all(gc, group, out) : fetch_listed(gc, group, rg, out);
            if (rc != 0) {
                out->ntopics = 0;
                out->error_code = RILL_ERR_COORDINATOR_NOT_AVAILABLE;
            }
        }
    }
    (void)cl;
    (void)ver;
    done(ctx, &r);
    rill__arena_reset(&gc->reply);
}
