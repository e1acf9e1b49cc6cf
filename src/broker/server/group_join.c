/*
 * group_join.c -- the rebalance state machine: JoinGroup, SyncGroup, Heartbeat and
 * LeaveGroup, and the timers that end join phases, sync phases and sessions.  The rules
 * and their order are those of Kafka's GroupCoordinator (classic protocol, 3.x); the
 * comments say where rill differs and why.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/server/group_internal.h"
#include "proto/fields.h"

#define LOG(gc, lvl, ...) RILL_LOG((gc)->cfg.logger, (lvl), "group", __VA_ARGS__)

static rill_str nn(rill_str s) { return s.len < 0 ? rill__str("") : s; }

/* Group ids for membership APIs must be non-empty; ids with a NUL byte cannot be stored. */
static bool valid_group_id(rill_str id) { return id.len > 0 && !memchr(id.ptr, 0, (size_t)id.len); }

void rill__gc_heartbeat_reset(rill_gc *gc, gc_member *m) {
    m->hb_deadline = gc->now + m->session_timeout_ms;
}

/* Kafka's validateCurrentMember: the instance id (when given) must map to member_id. */
static int16_t validate_member(const gc_group *g, rill_str member_id, rill_str instance_id) {
    if (instance_id.len >= 0) {
        const gc_member *s = rill__gc_static_member(g, instance_id);
        if (!s)
            return RILL_ERR_UNKNOWN_MEMBER_ID;
        if (!rill__gc_eq(s->id, member_id))
            return RILL_ERR_FENCED_INSTANCE_ID;
    }
    return rill__gc_member(g, member_id) ? 0 : RILL_ERR_UNKNOWN_MEMBER_ID;
}

int16_t rill__gc_validate_member(const gc_group *g, rill_str member_id, rill_str instance_id) {
    return validate_member(g, member_id, instance_id);
}

static void clear_pending_sync(gc_group *g) {
    g->sync_deadline = GC_NEVER;
    for (int32_t i = 0; i < g->nmembers; i++)
        g->members[i]->pending_sync = false;
}

static void sync_received(gc_group *g, gc_member *m) {
    m->pending_sync = false;
    for (int32_t i = 0; i < g->nmembers; i++)
        if (g->members[i]->pending_sync)
            return;
    g->sync_deadline = GC_NEVER;
}

/* ---- join responses ---- */

/* A successful JoinGroup answer for m; the leader list is allocated from a. */
static void join_ok(const gc_group *g, const gc_member *m, bool with_members, rill_arena *a,
                    rill_join_group_resp *r) {
    memset(r, 0, sizeof(*r));
    r->generation_id = g->generation;
    r->protocol_type = rill__str(g->protocol_type);
    r->protocol_name = rill__str(g->protocol_name);
    r->leader = rill__str(g->leader ? g->leader->id : "");
    r->member_id = rill__str(m->id);
    if (!with_members)
        return;
    r->members = rill__arena_calloc(a, (size_t)g->nmembers, sizeof(*r->members));
    if (!r->members) {
        /* Out of memory: an error the client retries by rejoining. */
        r->error_code = RILL_ERR_COORDINATOR_NOT_AVAILABLE;
        return;
    }
    r->nmembers = g->nmembers;
    for (int32_t i = 0; i < g->nmembers; i++) {
        const gc_member *o = g->members[i];
        const gc_proto *p = rill__gc_member_proto(o, g->protocol_name);
        r->members[i].member_id = rill__str(o->id);
        r->members[i].group_instance_id = rill__str(o->instance_id);
        r->members[i].metadata.ptr = p ? p->meta : NULL;
        r->members[i].metadata.len = p ? p->meta_len : 0;
    }
}

static void join_reply_error(rill_gc_join_cb *done, void *ctx, rill_str member_id, int16_t err) {
    rill_join_group_resp r;
    rill__gc_join_error(&r, member_id, err);
    done(ctx, &r);
}

/* Makes (done, ctx) m's outstanding JoinGroup; an older one is answered first. */
static void set_join_waiter(rill_gc *gc, gc_group *g, gc_member *m, const rill_gc_client *cl,
                            rill_gc_join_cb *done, void *ctx) {
    rill__gc_fail_join(gc, g, m, m->id, RILL_ERR_REBALANCE_IN_PROGRESS);
    m->awaiting_join = true;
    g->nawaiting_join++;
    m->join_cb = done;
    m->join_ctx = ctx;
    m->join_conn = cl ? cl->conn : NULL;
}

static void set_sync_waiter(rill_gc *gc, gc_member *m, const rill_gc_client *cl,
                            rill_gc_sync_cb *done, void *ctx) {
    rill__gc_fail_sync(gc, m, RILL_ERR_REBALANCE_IN_PROGRESS);
    m->awaiting_sync = true;
    m->sync_cb = done;
    m->sync_ctx = ctx;
    m->sync_conn = cl ? cl->conn : NULL;
}

/* ---- the rebalance ---- */

static bool all_joined(const gc_group *g) {
    return g->nmembers == g->nawaiting_join && g->npending == 0;
}

/* Kafka's resetAndPropagateAssignmentError: members waiting in SyncGroup get err. */
static void reset_assignments(rill_gc *gc, gc_group *g, int16_t err) {
    for (int32_t i = 0; i < g->nmembers; i++) {
        gc_member *m = g->members[i];
        free(m->assignment);
        m->assignment = NULL;
        m->assignment_len = 0;
        if (m->awaiting_sync) {
            rill__gc_fail_sync(gc, m, err);
            rill__gc_heartbeat_reset(gc, m);
        }
    }
}

static void try_complete_join(rill_gc *gc, gc_group *g);

static void prepare_rebalance(rill_gc *gc, gc_group *g, const char *reason) {
    if (g->state == GC_COMPLETING)
        reset_assignments(gc, g, RILL_ERR_REBALANCE_IN_PROGRESS);
    clear_pending_sync(g);
    int32_t rt = rill__gc_rebalance_timeout(g);
    if (g->state == GC_EMPTY) {
        int32_t d = gc->cfg.initial_rebalance_delay_ms;
        g->initial_join = true;
        g->new_member_added = false;
        g->initial_remaining_ms = rt > d ? rt - d : 0;
        g->join_deadline = gc->now + d;
    } else {
        g->initial_join = false;
        g->join_deadline = gc->now + rt;
    }
    LOG(gc, RILL_LOG_INFO,
        "preparing to rebalance group %s in state %s with old generation %d (%s)", g->id,
        rill__gc_state_name(g->state), g->generation, reason);
    g->state = GC_PREPARING;
    try_complete_join(gc, g);
}

static void maybe_prepare_rebalance(rill_gc *gc, gc_group *g, const char *reason) {
    if (g->state == GC_STABLE || g->state == GC_COMPLETING || g->state == GC_EMPTY)
        prepare_rebalance(gc, g, reason);
}

/* Kafka's maybeElectNewJoinedLeader. */
static bool elect_joined_leader(gc_group *g) {
    if (!g->leader)
        return false;
    if (g->leader->awaiting_join)
        return true;
    for (int32_t i = 0; i < g->nmembers; i++) {
        if (g->members[i]->awaiting_join) {
            g->leader = g->members[i];
            return true;
        }
    }
    return false;
}

/* Kafka's onCompleteJoin: the join phase is over; start the next generation. */
static void complete_join(rill_gc *gc, gc_group *g) {
    g->join_deadline = GC_NEVER;
    g->initial_join = false;
    /* Dynamic members that did not rejoin are out; static ones keep their place until
       their session expires. */
    for (int32_t i = g->nmembers - 1; i >= 0; i--) {
        gc_member *m = g->members[i];
        if (!m->awaiting_join && !m->instance_id) {
            LOG(gc, RILL_LOG_INFO, "group %s: member %s did not rejoin, removed", g->id, m->id);
            rill__gc_member_remove(gc, g, m, RILL_ERR_UNKNOWN_MEMBER_ID);
        }
    }
    if (!elect_joined_leader(g) && g->nmembers > 0) {
        LOG(gc, RILL_LOG_ERR, "group %s could not complete rebalance because no members rejoined",
            g->id);
        g->join_deadline = gc->now + rill__gc_rebalance_timeout(g);
        return;
    }
    g->generation++;
    free(g->protocol_name);
    g->protocol_name = NULL;
    clear_pending_sync(g);
    if (g->nmembers == 0) {
        g->state = GC_EMPTY;
        g->empty_since = rill__gc_wall(gc);
        LOG(gc, RILL_LOG_INFO, "group %s with generation %d is now empty", g->id, g->generation);
        return;
    }
    const char *proto = rill__gc_select_protocol(g);
    g->protocol_name = strdup(proto ? proto : "");
    g->state = GC_COMPLETING;
    LOG(gc, RILL_LOG_INFO, "stabilized group %s generation %d (protocol %s) with %d members", g->id,
        g->generation, g->protocol_name ? g->protocol_name : "?", g->nmembers);
    for (int32_t i = 0; i < g->nmembers; i++) {
        gc_member *m = g->members[i];
        rill_join_group_resp r;
        join_ok(g, m, m == g->leader, &gc->scratch, &r);
        rill__gc_answer_join(gc, g, m, &r);
        rill__gc_heartbeat_reset(gc, m);
        m->is_new = false;
        m->pending_sync = true;
    }
    g->sync_deadline = gc->now + rill__gc_rebalance_timeout(g);
}

/* The join phase ends early once every member has rejoined (not for a new group's
   initial delay, which always runs out). */
static void try_complete_join(rill_gc *gc, gc_group *g) {
    if (g->state == GC_PREPARING && !g->initial_join && all_joined(g))
        complete_join(gc, g);
}

/* Kafka's removeMemberAndUpdateGroup. */
static void remove_member_and_update(rill_gc *gc, gc_group *g, gc_member *m, const char *reason) {
    rill__gc_member_remove(gc, g, m, RILL_ERR_UNKNOWN_MEMBER_ID);
    if (g->state == GC_STABLE || g->state == GC_COMPLETING)
        maybe_prepare_rebalance(gc, g, reason);
    else if (g->state == GC_PREPARING)
        try_complete_join(gc, g);
}

/* ---- JoinGroup ---- */

static void update_member(gc_member *m, const rill_join_group_req *req) {
    m->session_timeout_ms = req->session_timeout_ms;
    m->rebalance_timeout_ms =
        req->rebalance_timeout_ms >= 0 ? req->rebalance_timeout_ms : req->session_timeout_ms;
}

static void add_member_and_rebalance(rill_gc *gc, gc_group *g, const rill_gc_client *cl,
                                     const rill_join_group_req *req, char *id,
                                     rill_gc_join_cb *done, void *ctx) {
    gc_member *m = calloc(1, sizeof(*m));
    if (m) {
        m->id = id;
        id = NULL;
        m->instance_id =
            req->group_instance_id.len >= 0 ? rill__gc_dup(req->group_instance_id) : NULL;
        m->client_id = rill__gc_dup(cl ? cl->client_id : rill__str_null());
        m->client_host = rill__gc_dup(cl ? cl->client_host : rill__str_null());
    }
    if (!m || !m->client_id || !m->client_host ||
        (req->group_instance_id.len >= 0 && !m->instance_id) ||
        rill__gc_set_protos(m, req->protocols, req->nprotocols) != 0 ||
        rill__gc_member_add(g, m, req->protocol_type) != 0) {
        free(id);
        rill__gc_member_free(m);
        join_reply_error(done, ctx, rill__str(""), RILL_ERR_COORDINATOR_NOT_AVAILABLE);
        return;
    }
    update_member(m, req);
    m->is_new = true;
    m->awaiting_join = true;
    g->nawaiting_join++;
    m->join_cb = done;
    m->join_ctx = ctx;
    m->join_conn = cl ? cl->conn : NULL;
    m->hb_deadline = gc->now + gc->cfg.new_member_join_timeout_ms;
    if (g->state == GC_PREPARING && g->generation == 0)
        g->new_member_added = true;
    int32_t pi = rill__gc_pending_find(g, rill__str(m->id));
    if (pi >= 0)
        rill__gc_pending_remove(g, pi);
    LOG(gc, RILL_LOG_INFO, "group %s: member %s joins (%d members)", g->id, m->id, g->nmembers);
    maybe_prepare_rebalance(gc, g, "adding new member");
}

static void update_member_and_rebalance(rill_gc *gc, gc_group *g, gc_member *m,
                                        const rill_gc_client *cl, const rill_join_group_req *req,
                                        rill_gc_join_cb *done, void *ctx, const char *reason) {
    if (rill__gc_set_protos(m, req->protocols, req->nprotocols) != 0) {
        join_reply_error(done, ctx, req->member_id, RILL_ERR_COORDINATOR_NOT_AVAILABLE);
        return;
    }
    update_member(m, req);
    set_join_waiter(gc, g, m, cl, done, ctx);
    maybe_prepare_rebalance(gc, g, reason);
}

/*
 * A static member rejoined without its member id (it restarted): it takes over the old
 * member's place under new_id (Kafka's updateStaticMemberAndRebalance).  In a Stable group
 * whose protocol stays the same this is answered at once with no rebalance.
 */
static void static_rejoin(rill_gc *gc, gc_group *g, gc_member *m, const rill_gc_client *cl,
                          int16_t ver, const rill_join_group_req *req, char *new_id,
                          rill_gc_join_cb *done, void *ctx) {
    char *old_leader = strdup(g->leader ? g->leader->id : "");
    if (!old_leader || rill__gc_set_protos(m, req->protocols, req->nprotocols) != 0) {
        free(old_leader);
        free(new_id);
        join_reply_error(done, ctx, rill__str(""), RILL_ERR_COORDINATOR_NOT_AVAILABLE);
        return;
    }
    /* The old incarnation is fenced at once if it still waits for an answer. */
    rill__gc_fail_join(gc, g, m, m->id, RILL_ERR_FENCED_INSTANCE_ID);
    rill__gc_fail_sync(gc, m, RILL_ERR_FENCED_INSTANCE_ID);
    LOG(gc, RILL_LOG_INFO, "group %s: static member %s rejoins as %s, replacing %s", g->id,
        m->instance_id, new_id, m->id);
    free(m->id);
    m->id = new_id;
    char *cid = rill__gc_dup(cl ? cl->client_id : rill__str_null());
    char *host = rill__gc_dup(cl ? cl->client_host : rill__str_null());
    if (cid && host) {
        free(m->client_id);
        free(m->client_host);
        m->client_id = cid;
        m->client_host = host;
    } else {
        free(cid);
        free(host);
    }
    rill__gc_heartbeat_reset(gc, m);
    update_member(m, req);
    set_join_waiter(gc, g, m, cl, done, ctx);
    if (g->state == GC_STABLE) {
        const char *sel = rill__gc_select_protocol(g);
        if (g->protocol_name && sel && strcmp(sel, g->protocol_name) == 0) {
            rill_join_group_resp r;
            bool leader = g->leader == m;
            if (ver >= 9) {
                /* v9+: the leader learns it leads but skips the assignment (KIP-814). */
                join_ok(g, m, leader, &gc->scratch, &r);
                r.skip_assignment = leader;
            } else {
                /* Older clients are told the old leader id, so a restarted leader does not
                   compute an assignment that a Stable group would not hand out. */
                join_ok(g, m, false, &gc->scratch, &r);
                r.leader = rill__str(old_leader);
            }
            rill__gc_answer_join(gc, g, m, &r);
        } else {
            maybe_prepare_rebalance(gc, g, "static member changed the group's protocol");
        }
    } else if (g->state == GC_COMPLETING) {
        /* The leader may already be assigning to the old member id. */
        prepare_rebalance(gc, g, "static member rejoined during CompletingRebalance");
    }
    free(old_leader);
}

static void new_member_join(rill_gc *gc, gc_group *g, const rill_gc_client *cl, int16_t ver,
                            const rill_join_group_req *req, rill_gc_join_cb *done, void *ctx) {
    if (g->state == GC_DEAD) {
        join_reply_error(done, ctx, rill__str(""), RILL_ERR_COORDINATOR_NOT_AVAILABLE);
        return;
    }
    if (!rill__gc_supports(g, req->protocol_type, req->protocols, req->nprotocols)) {
        join_reply_error(done, ctx, rill__str(""), RILL_ERR_INCONSISTENT_GROUP_PROTOCOL);
        return;
    }
    bool is_static = req->group_instance_id.len >= 0;
    char *id = rill__gc_new_member_id(is_static ? req->group_instance_id
                                                : (cl ? cl->client_id : rill__str_null()));
    if (!id) {
        join_reply_error(done, ctx, rill__str(""), RILL_ERR_COORDINATOR_NOT_AVAILABLE);
        return;
    }
    if (is_static) {
        gc_member *old = rill__gc_static_member(g, req->group_instance_id);
        if (old)
            static_rejoin(gc, g, old, cl, ver, req, id, done, ctx);
        else
            add_member_and_rebalance(gc, g, cl, req, id, done, ctx);
    } else if (ver >= 4) {
        /* KIP-394: the member must come back with this id, so a client that times out and
           retries does not leave defunct members behind. */
        if (g->npending == g->pcap) {
            int32_t cap = g->pcap ? g->pcap * 2 : 4;
            gc_pending *np = realloc(g->pending, (size_t)cap * sizeof(*np));
            if (!np) {
                free(id);
                join_reply_error(done, ctx, rill__str(""), RILL_ERR_COORDINATOR_NOT_AVAILABLE);
                return;
            }
            g->pending = np;
            g->pcap = cap;
        }
        g->pending[g->npending].id = id;
        g->pending[g->npending].deadline = gc->now + req->session_timeout_ms;
        g->npending++;
        join_reply_error(done, ctx, rill__str(id), RILL_ERR_MEMBER_ID_REQUIRED);
    } else {
        add_member_and_rebalance(gc, g, cl, req, id, done, ctx);
    }
}

static void current_member_join(rill_gc *gc, gc_group *g, const rill_gc_client *cl,
                                const rill_join_group_req *req, rill_gc_join_cb *done, void *ctx) {
    rill_str mid = req->member_id;
    if (g->state == GC_DEAD) {
        join_reply_error(done, ctx, mid, RILL_ERR_COORDINATOR_NOT_AVAILABLE);
        return;
    }
    if (!rill__gc_supports(g, req->protocol_type, req->protocols, req->nprotocols)) {
        join_reply_error(done, ctx, mid, RILL_ERR_INCONSISTENT_GROUP_PROTOCOL);
        return;
    }
    int32_t pi = rill__gc_pending_find(g, mid);
    if (pi >= 0) {
        /* A pending id is never a static member's (Kafka treats that as a bug). */
        char *id = req->group_instance_id.len < 0 ? strdup(g->pending[pi].id) : NULL;
        if (!id) {
            join_reply_error(done, ctx, mid, RILL_ERR_UNKNOWN_MEMBER_ID);
            return;
        }
        add_member_and_rebalance(gc, g, cl, req, id, done, ctx);
        return;
    }
    int16_t err = validate_member(g, mid, req->group_instance_id);
    if (err) {
        join_reply_error(done, ctx, mid, err);
        return;
    }
    gc_member *m = rill__gc_member(g, mid);
    switch (g->state) {
    case GC_PREPARING:
        update_member_and_rebalance(gc, g, m, cl, req, done, ctx, "member rejoins");
        return;
    case GC_COMPLETING:
    case GC_STABLE:
        if ((g->state == GC_STABLE && m == g->leader) ||
            !rill__gc_protos_match(m, req->protocols, req->nprotocols)) {
            /* A changed subscription, or the leader asking for a rebalance (it saw a
               metadata change the members' metadata does not show). */
            update_member_and_rebalance(gc, g, m, cl, req, done, ctx,
                                        m == g->leader ? "leader rejoins"
                                                       : "member metadata changed");
        } else {
            /* The same member again (it lost the answer): the current generation. */
            rill_join_group_resp r;
            join_ok(g, m, g->state == GC_COMPLETING && m == g->leader, &gc->reply, &r);
            done(ctx, &r);
            rill__arena_reset(&gc->reply);
        }
        return;
    case GC_EMPTY:
    case GC_DEAD:
        break;
    }
    join_reply_error(done, ctx, mid, RILL_ERR_UNKNOWN_MEMBER_ID);
}

/* Kafka's acceptJoiningMember (group.max.size). */
static bool accept_joining(const rill_gc *gc, const gc_group *g, rill_str mid) {
    const gc_member *m = rill__gc_member(g, mid);
    switch (g->state) {
    case GC_PREPARING:
        return (m && m->awaiting_join) || g->nawaiting_join < gc->cfg.max_group_size;
    case GC_COMPLETING:
    case GC_STABLE:
        return m || g->nmembers < gc->cfg.max_group_size;
    default:
        return true;
    }
}

void rill__gc_join(rill_gc *gc, const rill_gc_client *cl, int16_t ver,
                   const rill_join_group_req *req, rill_gc_join_cb *done, void *ctx) {
    rill__gc_now(gc);
    rill_str mid = nn(req->member_id);
    if (!valid_group_id(req->group_id)) {
        join_reply_error(done, ctx, mid, RILL_ERR_INVALID_GROUP_ID);
        return;
    }
    if (req->session_timeout_ms < gc->cfg.min_session_timeout_ms ||
        req->session_timeout_ms > gc->cfg.max_session_timeout_ms) {
        join_reply_error(done, ctx, mid, RILL_ERR_INVALID_SESSION_TIMEOUT);
        return;
    }
    bool unknown = mid.len == 0;
    gc_group *g = rill__gc_find(gc, req->group_id);
    if (!g) {
        if (!unknown) {
            join_reply_error(done, ctx, mid, RILL_ERR_UNKNOWN_MEMBER_ID);
            return;
        }
        char *id = rill__gc_dup(req->group_id);
        g = id ? rill__gc_get_or_create(gc, id) : NULL;
        free(id);
        if (!g) {
            join_reply_error(done, ctx, mid, RILL_ERR_COORDINATOR_NOT_AVAILABLE);
            return;
        }
    }
    if (!accept_joining(gc, g, mid)) {
        gc_member *m = rill__gc_member(g, mid);
        if (m)
            rill__gc_member_remove(gc, g, m, RILL_ERR_GROUP_MAX_SIZE_REACHED);
        join_reply_error(done, ctx, rill__str(""), RILL_ERR_GROUP_MAX_SIZE_REACHED);
    } else if (unknown) {
        new_member_join(gc, g, cl, ver, req, done, ctx);
    } else {
        current_member_join(gc, g, cl, req, done, ctx);
    }
    if (g->state == GC_PREPARING)
        try_complete_join(gc, g);
}

/* ---- SyncGroup ---- */

static void sync_reply(rill_gc_sync_cb *done, void *ctx, int16_t err) {
    rill_sync_group_resp r;
    memset(&r, 0, sizeof(r));
    r.error_code = err;
    r.protocol_type = rill__str_null();
    r.protocol_name = rill__str_null();
    done(ctx, &r);
}

static void sync_ok(const gc_group *g, const gc_member *m, rill_sync_group_resp *r) {
    memset(r, 0, sizeof(*r));
    r->protocol_type = rill__str(g->protocol_type);
    r->protocol_name = rill__str(g->protocol_name);
    r->assignment.ptr = m->assignment;
    r->assignment.len = m->assignment_len;
}

/* The leader's assignment: copied per member, untouched; missing members get none. */
static int store_assignment(gc_group *g, const rill_sync_group_req *req) {
    for (int32_t i = 0; i < g->nmembers; i++) {
        gc_member *m = g->members[i];
        const rill_sync_group_assignment *a = NULL;
        for (int32_t k = 0; k < req->nassignments; k++)
            if (rill__gc_eq(m->id, req->assignments[k].member_id))
                a = &req->assignments[k];
        int32_t len = a && a->assignment.len > 0 ? a->assignment.len : 0;
        uint8_t *p = malloc(len ? (size_t)len : 1);
        if (!p)
            return -1;
        if (len)
            memcpy(p, a->assignment.ptr, (size_t)len);
        free(m->assignment);
        m->assignment = p;
        m->assignment_len = len;
    }
    return 0;
}

void rill__gc_sync(rill_gc *gc, const rill_gc_client *cl, int16_t ver,
                   const rill_sync_group_req *req, rill_gc_sync_cb *done, void *ctx) {
    rill__gc_now(gc);
    if (!valid_group_id(req->group_id)) {
        sync_reply(done, ctx, RILL_ERR_INVALID_GROUP_ID);
        return;
    }
    gc_group *g = rill__gc_find(gc, req->group_id);
    int16_t err = 0;
    if (!g)
        err = RILL_ERR_UNKNOWN_MEMBER_ID;
    else if (g->state == GC_DEAD)
        err = RILL_ERR_COORDINATOR_NOT_AVAILABLE;
    else if ((err = validate_member(g, req->member_id, req->group_instance_id)))
        ;
    else if (req->generation_id != g->generation)
        err = RILL_ERR_ILLEGAL_GENERATION;
    else if ((req->protocol_type.len >= 0 && !rill__gc_eq(g->protocol_type, req->protocol_type)) ||
             (req->protocol_name.len >= 0 && !rill__gc_eq(g->protocol_name, req->protocol_name)))
        err = RILL_ERR_INCONSISTENT_GROUP_PROTOCOL;
    else if (g->state == GC_EMPTY)
        err = RILL_ERR_UNKNOWN_MEMBER_ID;
    else if (g->state == GC_PREPARING)
        err = RILL_ERR_REBALANCE_IN_PROGRESS;
    if (err) {
        sync_reply(done, ctx, err);
        return;
    }
    gc_member *m = rill__gc_member(g, req->member_id);
    if (g->state == GC_STABLE) {
        sync_received(g, m);
        rill_sync_group_resp r;
        sync_ok(g, m, &r);
        done(ctx, &r);
        rill__gc_heartbeat_reset(gc, m);
        return;
    }
    /* CompletingRebalance: wait for the leader's assignment (or deliver it). */
    set_sync_waiter(gc, m, cl, done, ctx);
    sync_received(g, m);
    if (m != g->leader)
        return;
    LOG(gc, RILL_LOG_INFO, "group %s: assignment received from leader %s for generation %d", g->id,
        m->id, g->generation);
    if (store_assignment(g, req) != 0) {
        reset_assignments(gc, g, RILL_ERR_COORDINATOR_NOT_AVAILABLE);
        maybe_prepare_rebalance(gc, g, "out of memory storing the assignment");
        return;
    }
    for (int32_t i = 0; i < g->nmembers; i++) {
        gc_member *o = g->members[i];
        if (!o->awaiting_sync)
            continue;
        rill_sync_group_resp r;
        sync_ok(g, o, &r);
        rill__gc_answer_sync(gc, o, &r);
        rill__gc_heartbeat_reset(gc, o);
    }
    g->state = GC_STABLE;
    (void)ver;
}

/* ---- Heartbeat ---- */

void rill__gc_heartbeat(rill_gc *gc, const rill_gc_client *cl, int16_t ver,
                        const rill_heartbeat_req *req, rill_gc_heartbeat_cb *done, void *ctx) {
    rill__gc_now(gc);
    rill_heartbeat_resp r;
    memset(&r, 0, sizeof(r));
    gc_group *g = valid_group_id(req->group_id) ? rill__gc_find(gc, req->group_id) : NULL;
    if (!valid_group_id(req->group_id))
        r.error_code = RILL_ERR_INVALID_GROUP_ID;
    else if (!g)
        r.error_code = RILL_ERR_UNKNOWN_MEMBER_ID;
    else if (g->state == GC_DEAD)
        r.error_code = RILL_ERR_COORDINATOR_NOT_AVAILABLE;
    else if ((r.error_code = validate_member(g, req->member_id, req->group_instance_id)))
        ;
    else if (req->generation_id != g->generation)
        r.error_code = RILL_ERR_ILLEGAL_GENERATION;
    else if (g->state == GC_EMPTY)
        r.error_code = RILL_ERR_UNKNOWN_MEMBER_ID;
    else {
        /* CompletingRebalance counts as alive too: clients may heartbeat between their
           JoinGroup answer and their SyncGroup. */
        rill__gc_heartbeat_reset(gc, rill__gc_member(g, req->member_id));
        if (g->state == GC_PREPARING)
            r.error_code = RILL_ERR_REBALANCE_IN_PROGRESS;
    }
    (void)cl;
    (void)ver;
    done(ctx, &r);
}

/* ---- LeaveGroup ---- */

static int16_t leave_one(rill_gc *gc, gc_group *g, const rill_leave_group_member *lm) {
    rill_str mid = nn(lm->member_id);
    gc_member *m;
    if (mid.len == 0) {
        /* Administrative removal by group.instance.id (KIP-345). */
        m = rill__gc_static_member(g, lm->group_instance_id);
        if (!m)
            return RILL_ERR_UNKNOWN_MEMBER_ID;
    } else {
        int32_t pi = rill__gc_pending_find(g, mid);
        if (pi >= 0) {
            rill__gc_pending_remove(g, pi);
            if (g->state == GC_PREPARING)
                try_complete_join(gc, g);
            return 0;
        }
        int16_t err = validate_member(g, mid, lm->group_instance_id);
        if (err)
            return err;
        m = rill__gc_member(g, mid);
    }
    LOG(gc, RILL_LOG_INFO, "group %s: member %s leaves (reason: %.*s)", g->id, m->id,
        lm->reason.len > 0 ? (int)lm->reason.len : 12,
        lm->reason.len > 0 ? lm->reason.ptr : "not provided");
    remove_member_and_update(gc, g, m, "member left");
    return 0;
}

void rill__gc_leave(rill_gc *gc, const rill_gc_client *cl, int16_t ver,
                    const rill_leave_group_req *req, rill_gc_leave_cb *done, void *ctx) {
    rill__gc_now(gc);
    rill_leave_group_resp r;
    memset(&r, 0, sizeof(r));
    int32_t n = req->nmembers > 0 ? req->nmembers : 0;
    gc_group *g = valid_group_id(req->group_id) ? rill__gc_find(gc, req->group_id) : NULL;
    r.members = rill__gc_reply_array(gc, n, sizeof(*r.members));
    if (!valid_group_id(req->group_id)) {
        r.error_code = RILL_ERR_INVALID_GROUP_ID;
    } else if (g && g->state == GC_DEAD) {
        r.error_code = RILL_ERR_COORDINATOR_NOT_AVAILABLE;
    } else if (!r.members) {
        r.error_code = RILL_ERR_COORDINATOR_NOT_AVAILABLE;
    } else {
        r.nmembers = n;
        for (int32_t i = 0; i < n; i++) {
            const rill_leave_group_member *lm = &req->members[i];
            r.members[i].member_id = nn(lm->member_id);
            r.members[i].group_instance_id = lm->group_instance_id;
            r.members[i].error_code = g ? leave_one(gc, g, lm) : RILL_ERR_UNKNOWN_MEMBER_ID;
        }
    }
    /* v0-2 have no member list: the member's error is the answer. */
    for (int32_t i = 0; ver <= 2 && !r.error_code && i < r.nmembers; i++)
        r.error_code = r.members[i].error_code;
    (void)cl;
    done(ctx, &r);
    rill__arena_reset(&gc->reply);
}

/* ---- timers and cancellation ---- */

static bool any_pending_sync(const gc_group *g) {
    for (int32_t i = 0; i < g->nmembers; i++)
        if (g->members[i]->pending_sync)
            return true;
    return false;
}

/* One expired session, if any: true when a member was removed (the group changed). */
static bool expire_one_session(rill_gc *gc, gc_group *g) {
    for (int32_t i = 0; i < g->nmembers; i++) {
        gc_member *m = g->members[i];
        if (m->hb_deadline > gc->now)
            continue;
        if (!m->is_new && (m->awaiting_join || m->awaiting_sync)) {
            /* Waiting in a rebalance counts as alive; the next expiry is scheduled when
               that rebalance step ends. */
            m->hb_deadline = GC_NEVER;
            continue;
        }
        LOG(gc, RILL_LOG_INFO, "group %s: member %s session expired, removing it", g->id, m->id);
        remove_member_and_update(gc, g, m, "member session expired");
        return true;
    }
    return false;
}

void rill__gc_group_timers(rill_gc *gc, gc_group *g) {
    bool removed = false;
    for (int32_t i = g->npending - 1; i >= 0; i--) {
        if (g->pending[i].deadline <= gc->now) {
            LOG(gc, RILL_LOG_INFO, "group %s: pending member %s expired", g->id, g->pending[i].id);
            rill__gc_pending_remove(g, i);
            removed = true;
        }
    }
    if (removed && g->state == GC_PREPARING)
        try_complete_join(gc, g);
    while (expire_one_session(gc, g))
        ;
    if (g->state == GC_PREPARING && g->join_deadline <= gc->now) {
        if (g->initial_join && g->new_member_added && g->initial_remaining_ms > 0) {
            /* Members keep arriving: wait another delay, within the rebalance timeout. */
            int32_t d = gc->cfg.initial_rebalance_delay_ms;
            if (d > g->initial_remaining_ms)
                d = g->initial_remaining_ms;
            g->new_member_added = false;
            g->initial_remaining_ms -= d;
            g->join_deadline = gc->now + d;
        } else {
            complete_join(gc, g);
        }
    }
    if (g->sync_deadline <= gc->now) {
        g->sync_deadline = GC_NEVER;
        if ((g->state == GC_COMPLETING || g->state == GC_STABLE) && any_pending_sync(g)) {
            for (int32_t i = g->nmembers - 1; i >= 0; i--) {
                gc_member *m = g->members[i];
                if (!m->pending_sync)
                    continue;
                LOG(gc, RILL_LOG_INFO, "group %s: member %s sent no SyncGroup, removing it", g->id,
                    m->id);
                rill__gc_member_remove(gc, g, m, RILL_ERR_UNKNOWN_MEMBER_ID);
            }
            prepare_rebalance(gc, g, "members did not sync in time");
        }
    }
}

int64_t rill__gc_group_next_timeout(const gc_group *g) {
    int64_t t = g->sync_deadline;
    if (g->state == GC_PREPARING && g->join_deadline < t)
        t = g->join_deadline;
    for (int32_t i = 0; i < g->npending; i++)
        if (g->pending[i].deadline < t)
            t = g->pending[i].deadline;
    for (int32_t i = 0; i < g->nmembers; i++)
        if (g->members[i]->hb_deadline < t)
            t = g->members[i]->hb_deadline;
    return t;
}

void rill__gc_group_cancel(gc_group *g, const void *conn, bool all) {
    for (int32_t i = 0; i < g->nmembers; i++) {
        gc_member *m = g->members[i];
        if (m->join_cb && (all || m->join_conn == conn)) {
            rill_gc_join_cb *cb = m->join_cb;
            m->join_cb = NULL;
            cb(m->join_ctx, NULL);
        }
        if (m->sync_cb && (all || m->sync_conn == conn)) {
            rill_gc_sync_cb *cb = m->sync_cb;
            m->sync_cb = NULL;
            cb(m->sync_ctx, NULL);
        }
    }
}
