/*
 * h_group.c -- the consumer-group APIs wired to the group coordinator
 * (group_coordinator.h): JoinGroup (11), SyncGroup (14), Heartbeat (12), LeaveGroup (13),
 * OffsetCommit (8), OffsetFetch (9), ListGroups (16), DescribeGroups (15),
 * DeleteGroups (42).
 *
 * Each handler decodes the request, parks its response slot and hands the request to the
 * coordinator with a completion callback.  The connection's later requests wait until the
 * completion comes (Kafka processes one request per connection at a time, and the
 * coordinator relies on it: a Heartbeat must not overtake the JoinGroup before it).  The
 * completion may come during the call (most APIs), or later from another member's request,
 * a timer or the offsets flush; it encodes the response into the parked slot and marks it
 * ready without doing I/O (rill__resp_ready), since the coordinator must not be reentered
 * from its callbacks.  A cancelled completion (the connection closed) has nothing to do:
 * the slot goes with the session.
 */
#include <string.h>

#include "broker/server/group_coordinator.h"
#include "broker/server/handlers.h"

/* Kafka's client host form, "/127.0.0.1", from the session's "ip:port". */
static rill_str client_host(rill_req *q) {
    const char *peer = q->s->peer;
    const char *colon = strrchr(peer, ':');
    size_t n = colon ? (size_t)(colon - peer) : strlen(peer);
    if (n >= 2 && peer[0] == '[' && peer[n - 1] == ']') {
        peer++;
        n -= 2;
    }
    char *h = rill__arena_alloc(&q->srv->arena, n + 2);
    if (!h)
        return rill__str("");
    h[0] = '/';
    memcpy(h + 1, peer, n);
    h[n + 1] = '\0';
    return rill__str(h);
}

static rill_gc_client client_of(rill_req *q) {
    rill_gc_client cl = {q->s, q->h.client_id, client_host(q)};
    return cl;
}

/*
 * One completion callback and one handler per API.  DONE(api, T, errexpr) defines
 * <api>_done(ctx, resp): encode with the API's codec at the parked request's version.
 */
#define DONE(api, T, errexpr)                                                                      \
    static void api##_done(void *ctx, const T *m) {                                                \
        rill_resp *r = ctx;                                                                        \
        if (!m)                                                                                    \
            return; /* cancelled: the connection is gone */                                        \
        int ok = rill__##api##_resp_encode(&r->buf, r->api_version, m) == 0;                       \
        rill__resp_ready(r->s->srv, r, ok, (errexpr) != 0);                                        \
    }

#define HANDLER(name, api, T, gcfn)                                                                \
    int rill__h_##name(rill_req *q) {                                                              \
        T req;                                                                                     \
        if (!q->srv->gc || !RILL_REQ_DECODE(q, api, &req))                                         \
            return -1;                                                                             \
        rill_gc_client cl = client_of(q);                                                          \
        int16_t ver = q->h.api_version;                                                            \
        rill_resp *r = rill__req_park_blocking(q);                                                 \
        gcfn(q->srv->gc, &cl, ver, &req, api##_done, r);                                           \
        return 0;                                                                                  \
    }

DONE(join_group, rill_join_group_resp, m->error_code)
DONE(sync_group, rill_sync_group_resp, m->error_code)
DONE(heartbeat, rill_heartbeat_resp, m->error_code)
DONE(leave_group, rill_leave_group_resp, m->error_code)
DONE(offset_commit, rill_offset_commit_resp, 0)
DONE(offset_fetch, rill_offset_fetch_resp, 0)
DONE(list_groups, rill_list_groups_resp, m->error_code)
DONE(describe_groups, rill_describe_groups_resp, 0)
DONE(delete_groups, rill_delete_groups_resp, 0)

HANDLER(join_group, join_group, rill_join_group_req, rill__gc_join)
HANDLER(sync_group, sync_group, rill_sync_group_req, rill__gc_sync)
HANDLER(heartbeat, heartbeat, rill_heartbeat_req, rill__gc_heartbeat)
HANDLER(leave_group, leave_group, rill_leave_group_req, rill__gc_leave)
HANDLER(offset_commit, offset_commit, rill_offset_commit_req, rill__gc_offset_commit)
HANDLER(offset_fetch, offset_fetch, rill_offset_fetch_req, rill__gc_offset_fetch)
HANDLER(list_groups, list_groups, rill_list_groups_req, rill__gc_list)
HANDLER(describe_groups, describe_groups, rill_describe_groups_req, rill__gc_describe)
HANDLER(delete_groups, delete_groups, rill_delete_groups_req, rill__gc_delete)

/* ---- the coordinator's life in the server ------------------------------------------- */

static int partition_exists(void *opaque, const char *topic, int32_t partition) {
    rill_server *srv = opaque;
    return rill__storage_log(srv->st, topic, partition) != NULL;
}

int rill__server_gc_open(rill_server *srv) {
    rill_gc_config gcfg;
    rill__gc_config_defaults(&gcfg);
    const rill_broker_config *c = srv->cfg;
    gcfg.min_session_timeout_ms = (int32_t)c->group_min_session_timeout_ms;
    gcfg.max_session_timeout_ms = (int32_t)c->group_max_session_timeout_ms;
    gcfg.initial_rebalance_delay_ms = (int32_t)c->group_initial_rebalance_delay_ms;
    gcfg.offsets_retention_ms = c->offsets_retention_ms;
    gcfg.cleanup_interval_ms = c->offsets_retention_check_ms;
    gcfg.offsets = rill__storage_offsets(srv->st);
    gcfg.external_sync = 1; /* on the flusher thread, answered at its round's end */
    srv->flusher.offsets = gcfg.offsets;
    gcfg.partition_exists = partition_exists;
    gcfg.partition_exists_opaque = srv;
    gcfg.logger = srv->lg;
    srv->gc = rill__gc_new(&gcfg);
    return srv->gc ? 0 : -1;
}

void rill__server_gc_step(rill_server *srv) {
    if (!srv->gc)
        return;
    if (rill__gc_next_timeout(srv->gc) <= srv->mono_ms)
        rill__gc_tick(srv->gc, srv->mono_ms);
    /* One offsets fsync, off the loop, for every commit of this iteration (and those that
       come while the running round lasts). */
    if (rill__gc_commits_waiting(srv->gc))
        rill__gc_commits_tag(srv->gc, rill__flusher_note_offsets(&srv->flusher));
}

int64_t rill__server_gc_timeout(rill_server *srv) {
    if (!srv->gc)
        return -1;
    int64_t t = rill__gc_next_timeout(srv->gc);
    if (t == INT64_MAX)
        return -1;
    return t > srv->mono_ms ? t - srv->mono_ms : 0;
}
