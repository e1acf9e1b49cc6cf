/*
 * consumer_group.c -- consumer group membership and offsets (I/O thread).
 *
 * The classic group protocol as the Java consumer speaks it: find the
 * coordinator, JoinGroup (with the KIP-394 MEMBER_ID_REQUIRED round trip),
 * SyncGroup (the leader computes every member's assignment with the chosen
 * assignor, from the members' "consumer" protocol subscriptions), then
 * heartbeats.  With the eager assignors (range, roundrobin) every
 * rebalance first revokes the whole assignment, committing positions when
 * enable.auto.commit is on; with cooperative-sticky only partitions that
 * move are revoked, and a follow-up rebalance hands them to their new
 * owner, so the rest keep being consumed throughout.
 *
 * The commit before an eager revoke goes out before the JoinGroup, with the
 * generation that owned the partitions; when it does not land, the member
 * tries again or keeps its positions for the next generation (see
 * consumer_offsets.c).
 *
 * Offset commits and committed-offset lookups are in consumer_offsets.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/assignor.h"
#include "client/consumer_int.h"
#include "common/clock.h"
#include "proto/api_group.h"
#include "proto/consumer_protocol.h"
#include "proto/fields.h"

/* Versions used (flexible versions above these add nothing we need). */
#define JOIN_MAX_VER 7
#define SYNC_MAX_VER 5
#define HB_MAX_VER 4
#define LEAVE_MAX_VER 4
#define FINDC_MAX_VER 3

typedef struct gmember {
    char *member_id;
    char *instance_id;
    uint8_t *meta;
    int32_t meta_len;
} gmember;

static bool cooperative(rill_consumer_t *c) {
    return c->conf->partition_assignment_strategy &&
           strstr(c->conf->partition_assignment_strategy, "cooperative-sticky") != NULL;
}

rill_cbroker *rill__group_coordinator(rill_consumer_t *c) {
    return c->coord_id >= 0 ? rill__cluster_broker(&c->cl, c->coord_id) : NULL;
}

static void free_members(rill_consumer_t *c) {
    for (int i = 0; i < c->nmembers; i++) {
        free(c->members[i].member_id);
        free(c->members[i].instance_id);
        free(c->members[i].meta);
    }
    free(c->members);
    c->members = NULL;
    c->nmembers = 0;
}

void rill__group_free(rill_consumer_t *c) {
    free_members(c);
    for (size_t i = 0; i < c->nsub; i++)
        free(c->sub_topics[i]);
    free(c->sub_topics);
    free(c->member_id);
    free(c->protocol);
    c->sub_topics = NULL;
    c->member_id = NULL;
    c->protocol = NULL;
}

static void set_member_id(rill_consumer_t *c, rill_str id) {
    free(c->member_id);
    c->member_id = id.len > 0 ? strndup(id.ptr, (size_t)id.len) : NULL;
}

/* Waits before the next group request: retry.backoff.ms doubling with each
 * consecutive failure up to reconnect.backoff.max.ms, so a coordinator that
 * keeps failing is not hammered and the log is not flooded. */
static void group_backoff(rill_consumer_t *c) {
    int64_t ms = (int64_t)c->conf->retry_backoff_ms << (c->cg_fails < 12 ? c->cg_fails : 12);
    if (ms > c->conf->reconnect_backoff_max_ms)
        ms = c->conf->reconnect_backoff_max_ms;
    c->cg_fails++;
    c->cg_next_us = rill__mono_us() + ms * 1000;
}

void rill__group_coord_lost(rill_consumer_t *c, const char *why) {
    RILL_LOG(&c->log, c->cg_fails ? RILL_LOG_DEBUG : RILL_LOG_INFO, "cgrp",
             "group %s: coordinator lost: %s", c->conf->group_id, why);
    c->coord_id = -1;
    if (c->cg != CG_NONE && c->cg != CG_LEAVING)
        c->cg = CG_FIND_COORD;
    group_backoff(c);
}

/* Partitions currently assigned. */
static int owned(rill_consumer_t *c, ctp **out) {
    int n = 0;
    for (int i = 0; i < c->ntps; i++)
        if (c->tps[i]->assigned)
            out[n++] = c->tps[i];
    return n;
}

/* ---- FindCoordinator ------------------------------------------------------------ */

static int enc_findc(rill_buf *b, int16_t ver, void *opaque) {
    rill_consumer_t *c = opaque;
    rill_str key = rill__str(c->conf->group_id);
    rill_find_coordinator_req req = {RILL_COORDINATOR_GROUP, &key, 1};
    return rill__find_coordinator_req_encode(b, ver, &req);
}

static int on_findc(rill_conn *conn, int err, int16_t ver, rill_rd *body, void *opaque) {
    rill_consumer_t *c = opaque;
    (void)conn;
    c->coord_inflight = false;
    int64_t now = rill__mono_us();
    if (err) {
        c->cg_next_us = now + (int64_t)c->conf->retry_backoff_ms * 1000;
        return 0;
    }
    rill__arena_reset(&c->arena);
    rill_find_coordinator_resp m;
    if (rill__find_coordinator_resp_decode(body, ver, &m, &c->arena) != 0 || m.ncoordinators < 1) {
        c->cg_next_us = now + (int64_t)c->conf->retry_backoff_ms * 1000;
        return -1;
    }
    rill_find_coordinator *fc = &m.coordinators[0];
    if (fc->error_code) {
        RILL_LOG(&c->log, RILL_LOG_DEBUG, "cgrp", "group %s: FindCoordinator: %s",
                 c->conf->group_id, rill_err_name(fc->error_code));
        c->cg_next_us = now + (int64_t)c->conf->retry_backoff_ms * 1000;
        if (fc->error_code == RILL_ERR_GROUP_AUTHORIZATION_FAILED)
            rill__consumer_event(c, NULL, fc->error_code, "group %s: %s", c->conf->group_id,
                                 rill_err_str(fc->error_code));
        return 0;
    }
    char host[256];
    snprintf(host, sizeof(host), "%.*s", fc->host.len > 0 ? (int)fc->host.len : 0,
             fc->host.ptr ? fc->host.ptr : "");
    /*
     * The coordinator gets a connection of its own, as the Java client gives
     * it (node id INT32_MAX - id): Kafka answers a connection's requests in
     * order, so a JoinGroup held for a rebalance or a long-poll Fetch would
     * otherwise delay heartbeats and commits past the session timeout.
     */
    int32_t conn_id = INT32_MAX - fc->node_id;
    if (!rill__cluster_broker_ensure(&c->cl, conn_id, host, fc->port))
        return 0;
    c->coord_id = conn_id;
    RILL_LOG(&c->log, RILL_LOG_DEBUG, "cgrp", "group %s: coordinator is %s:%d/%d",
             c->conf->group_id, host, fc->port, fc->node_id);
    if (c->cg == CG_FIND_COORD)
        c->cg = c->subscribed ? CG_JOIN : CG_NONE;
    c->cg_next_us = 0;
    return 0;
}

/* ---- JoinGroup --------------------------------------------------------------------- */

/* The strategies in preference order, e.g. {"range","roundrobin"}. */
static int strategies(rill_consumer_t *c, char names[][32], int max) {
    const char *s = c->conf->partition_assignment_strategy ? c->conf->partition_assignment_strategy
                                                           : "range,roundrobin";
    int n = 0;
    while (*s && n < max) {
        const char *e = strchr(s, ',');
        size_t len = e ? (size_t)(e - s) : strlen(s);
        if (len && len < 32) {
            memcpy(names[n], s, len);
            names[n][len] = 0;
            n++;
        }
        s = e ? e + 1 : s + len;
    }
    return n;
}

static int enc_join(rill_buf *b, int16_t ver, void *opaque) {
    rill_consumer_t *c = opaque;
    char names[4][32];
    int ns = strategies(c, names, 4);
    rill_join_group_protocol protos[4];
    rill_buf meta[4];
    ctp **own = calloc((size_t)c->ntps + 1, sizeof(*own));
    rill_asg_tp *ot = calloc((size_t)c->ntps + 1, sizeof(*ot));
    int rc = -1;
    if (!own || !ot)
        goto out;
    int no = owned(c, own);
    for (int i = 0; i < no; i++) {
        ot[i].topic = own[i]->topic;
        ot[i].partition = own[i]->partition;
    }
    for (int i = 0; i < ns; i++) {
        rill__buf_init(&meta[i], 0);
        /* v0 for the eager assignors (every client reads it), v1+ with the
         * owned partitions for cooperative-sticky. */
        bool coop = rill__asg_protocol_cooperative(names[i]);
        rill__asg_subscription_encode(&meta[i], coop ? 2 : 0, names[i],
                                      (const char *const *)c->sub_topics, (int32_t)c->nsub, ot,
                                      coop ? no : 0, c->generation, NULL);
        protos[i].name = rill__str(names[i]);
        protos[i].metadata.ptr = meta[i].data;
        protos[i].metadata.len = (int32_t)meta[i].len;
    }
    rill_join_group_req req = {0};
    req.group_id = rill__str(c->conf->group_id);
    req.session_timeout_ms = c->conf->session_timeout_ms;
    req.rebalance_timeout_ms = c->conf->max_poll_interval_ms;
    req.member_id = rill__str(c->member_id ? c->member_id : "");
    req.group_instance_id = ver >= 5 ? rill__str(c->conf->group_instance_id) : rill__str_null();
    req.protocol_type = rill__str(RILL_CONSUMER_PROTOCOL_TYPE);
    req.protocols = protos;
    req.nprotocols = ns;
    req.reason = rill__str_null();
    rc = rill__join_group_req_encode(b, ver, &req);
    for (int i = 0; i < ns; i++) {
        if (meta[i].err)
            rc = -1;
        rill__buf_free(&meta[i]);
    }
out:
    free(own);
    free(ot);
    return rc;
}

static void apply_assignment(rill_consumer_t *c, const uint8_t *data, int32_t len);

static int on_join(rill_conn *conn, int err, int16_t ver, rill_rd *body, void *opaque) {
    rill_consumer_t *c = opaque;
    (void)conn;
    int64_t now = rill__mono_us();
    c->join_deadline_us = 0;
    if (c->cg != CG_JOIN)
        return 0;
    if (err == RILL_ERR_UNSUPPORTED_FEATURE) {
        if (!c->cg_fails)
            rill__consumer_event(c, NULL, err,
                                 "group %s: the coordinator does not support JoinGroup: consumer "
                                 "groups need a broker with group support",
                                 c->conf->group_id);
        group_backoff(c);
        return 0;
    }
    if (err) {
        rill__group_coord_lost(c, rill_err_name(err));
        return 0;
    }
    rill__arena_reset(&c->arena);
    rill_join_group_resp m;
    if (rill__join_group_resp_decode(body, ver, &m, &c->arena) != 0) {
        c->cg_next_us = now + (int64_t)c->conf->retry_backoff_ms * 1000;
        return -1;
    }
    switch (m.error_code) {
    case 0:
        break;
    case RILL_ERR_MEMBER_ID_REQUIRED: /* KIP-394: rejoin with the id we were given */
        set_member_id(c, m.member_id);
        c->cg_next_us = 0;
        return 0;
    case RILL_ERR_UNKNOWN_MEMBER_ID:
        free(c->member_id);
        c->member_id = NULL;
        rill__group_forget_revoked(c);
        c->cg_next_us = 0;
        return 0;
    case RILL_ERR_NOT_COORDINATOR:
    case RILL_ERR_COORDINATOR_NOT_AVAILABLE:
        rill__group_coord_lost(c, rill_err_name(m.error_code));
        return 0;
    case RILL_ERR_COORDINATOR_LOAD_IN_PROGRESS:
    case RILL_ERR_REBALANCE_IN_PROGRESS:
        c->cg_next_us = now + (int64_t)c->conf->retry_backoff_ms * 1000;
        return 0;
    default:
        rill__consumer_event(c, NULL, m.error_code, "group %s: JoinGroup failed: %s",
                             c->conf->group_id, rill_err_name(m.error_code));
        c->cg_next_us = now + 1000000;
        return 0;
    }
    set_member_id(c, m.member_id);
    c->cg_fails = 0;
    c->generation = m.generation_id;
    free(c->protocol);
    c->protocol = m.protocol_name.len > 0
                      ? strndup(m.protocol_name.ptr, (size_t)m.protocol_name.len)
                      : strdup("range");
    c->is_leader = rill__str_eq(m.leader, c->member_id);
    free_members(c);
    if (c->is_leader && m.nmembers > 0) {
        c->members = calloc((size_t)m.nmembers, sizeof(*c->members));
        if (c->members) {
            c->nmembers = m.nmembers;
            for (int32_t i = 0; i < m.nmembers; i++) {
                gmember *g = &c->members[i];
                g->member_id = strndup(
                    m.members[i].member_id.ptr ? m.members[i].member_id.ptr : "",
                    m.members[i].member_id.len > 0 ? (size_t)m.members[i].member_id.len : 0);
                if (m.members[i].group_instance_id.len >= 0)
                    g->instance_id = strndup(m.members[i].group_instance_id.ptr,
                                             (size_t)m.members[i].group_instance_id.len);
                g->meta_len = m.members[i].metadata.len > 0 ? m.members[i].metadata.len : 0;
                g->meta = malloc((size_t)g->meta_len + 1);
                if (g->meta && g->meta_len)
                    memcpy(g->meta, m.members[i].metadata.ptr, (size_t)g->meta_len);
            }
        }
    }
    RILL_LOG(&c->log, RILL_LOG_INFO, "cgrp",
             "group %s: joined generation %d as %s (%s, protocol %s, %d member(s))",
             c->conf->group_id, c->generation, c->member_id ? c->member_id : "?",
             c->is_leader ? "leader" : "follower", c->protocol, c->nmembers);
    c->cg = CG_SYNC;
    c->cg_next_us = 0;
    return 0;
}

/* ---- SyncGroup ----------------------------------------------------------------------- */

typedef struct sync_ctx {
    rill_consumer_t *c;
    rill_sync_group_assignment *as;
    int nas;
    rill_buf *bufs;
} sync_ctx;

static int enc_sync(rill_buf *b, int16_t ver, void *opaque) {
    sync_ctx *sc = opaque;
    rill_consumer_t *c = sc->c;
    rill_sync_group_req req = {0};
    req.group_id = rill__str(c->conf->group_id);
    req.generation_id = c->generation;
    req.member_id = rill__str(c->member_id ? c->member_id : "");
    req.group_instance_id = ver >= 3 ? rill__str(c->conf->group_instance_id) : rill__str_null();
    req.protocol_type = ver >= 5 ? rill__str(RILL_CONSUMER_PROTOCOL_TYPE) : rill__str_null();
    req.protocol_name = ver >= 5 ? rill__str(c->protocol) : rill__str_null();
    req.assignments = sc->as;
    req.nassignments = sc->nas;
    return rill__sync_group_req_encode(b, ver, &req);
}

static void sync_ctx_free(sync_ctx *sc) {
    for (int i = 0; i < sc->nas; i++)
        rill__buf_free(&sc->bufs[i]);
    free(sc->bufs);
    free(sc->as);
    free(sc);
}

static int on_sync(rill_conn *conn, int err, int16_t ver, rill_rd *body, void *opaque) {
    sync_ctx *sc = opaque;
    rill_consumer_t *c = sc->c;
    (void)conn;
    sync_ctx_free(sc);
    int64_t now = rill__mono_us();
    c->join_deadline_us = 0;
    if (c->cg != CG_SYNC)
        return 0;
    if (err) {
        rill__group_coord_lost(c, rill_err_name(err));
        return 0;
    }
    rill__arena_reset(&c->arena);
    rill_sync_group_resp m;
    if (rill__sync_group_resp_decode(body, ver, &m, &c->arena) != 0) {
        c->cg = CG_JOIN;
        return -1;
    }
    switch (m.error_code) {
    case 0:
        break;
    case RILL_ERR_NOT_COORDINATOR:
    case RILL_ERR_COORDINATOR_NOT_AVAILABLE:
        rill__group_coord_lost(c, rill_err_name(m.error_code));
        return 0;
    case RILL_ERR_UNKNOWN_MEMBER_ID:
        free(c->member_id);
        c->member_id = NULL;
        rill__group_forget_revoked(c);
        /* fall through */
    default: /* REBALANCE_IN_PROGRESS, ILLEGAL_GENERATION, ...: join again */
        RILL_LOG(&c->log, RILL_LOG_INFO, "cgrp", "group %s: SyncGroup: %s, rejoining",
                 c->conf->group_id, rill_err_name(m.error_code));
        c->cg = CG_JOIN;
        c->cg_next_us = now + (int64_t)c->conf->retry_backoff_ms * 1000;
        return 0;
    }
    c->cg = CG_STABLE;
    c->next_heartbeat_us = now + (int64_t)c->conf->heartbeat_interval_ms * 1000;
    c->session_lost_us = 0;
    apply_assignment(c, m.assignment.ptr, m.assignment.len);
    return 0;
}

/* The leader's part: every member's assignment from their subscriptions.
 * Returns NULL with *wait_metadata set while topic metadata is missing. */
static sync_ctx *leader_assign(rill_consumer_t *c, bool *wait_metadata) {
    *wait_metadata = false;
    sync_ctx *sc = calloc(1, sizeof(*sc));
    if (!sc)
        return NULL;
    sc->c = c;
    if (!c->is_leader || !c->nmembers)
        return sc;
    int nm = c->nmembers;
    rill_arena a;
    rill__arena_init(&a, 0);
    rill_asg_member *mem = calloc((size_t)nm, sizeof(*mem));
    rill_asg_topic *topics = NULL;
    int ntopics = 0, captopics = 0;
    rill_asg_result res;
    bool have_res = false, ok = mem != NULL;
    for (int i = 0; ok && i < nm; i++) {
        rill_consumer_subscription sub;
        rill_rd r;
        rill__rd_init(&r, c->members[i].meta, (size_t)c->members[i].meta_len);
        if (rill__consumer_subscription_decode(&r, &sub, &a) != 0) {
            RILL_LOG(&c->log, RILL_LOG_WARNING, "cgrp", "member %s: bad subscription metadata",
                     c->members[i].member_id);
            memset(&sub, 0, sizeof(sub));
            sub.user_data.len = -1;
            sub.generation_id = -1;
        }
        if (rill__asg_member_from_subscription(&mem[i], rill__str(c->members[i].member_id),
                                               rill__str(c->members[i].instance_id), &sub,
                                               &a) != 0) {
            ok = false;
            break;
        }
        /* Every topic any member wants must be in the metadata. */
        for (int32_t t = 0; t < mem[i].ntopics; t++) {
            const char *name = mem[i].topics[t];
            int k;
            for (k = 0; k < ntopics; k++)
                if (!strcmp(topics[k].name, name))
                    break;
            if (k < ntopics)
                continue;
            rill_mtopic *mt = rill__cluster_topic_find(&c->cl, name);
            if (!mt || !mt->updated_us) {
                if (!mt)
                    rill__cluster_topic(&c->cl, name);
                *wait_metadata = true;
                continue;
            }
            if (ntopics == captopics) {
                captopics = captopics ? captopics * 2 : 8;
                rill_asg_topic *nt = realloc(topics, sizeof(*nt) * (size_t)captopics);
                if (!nt) {
                    ok = false;
                    break;
                }
                topics = nt;
            }
            memset(&topics[ntopics], 0, sizeof(topics[ntopics]));
            topics[ntopics].name = name;
            topics[ntopics].npartitions = mt->npart; /* 0: no such topic, skipped */
            ntopics++;
        }
    }
    if (*wait_metadata || !ok)
        goto fail;
    char err[256] = "";
    if (rill__assign(c->protocol, mem, nm, topics, ntopics, &res, err, sizeof(err)) != 0) {
        rill__consumer_event(c, NULL, RILL_ERR_INCONSISTENT_GROUP_PROTOCOL,
                             "group %s: assignor %s failed: %s", c->conf->group_id, c->protocol,
                             err);
        goto fail;
    }
    have_res = true;
    sc->as = calloc((size_t)nm, sizeof(*sc->as));
    sc->bufs = calloc((size_t)nm, sizeof(*sc->bufs));
    if (!sc->as || !sc->bufs)
        goto fail;
    for (int i = 0; i < nm; i++) {
        rill__buf_init(&sc->bufs[i], 0);
        sc->nas++;
        if (rill__asg_assignment_encode(&sc->bufs[i], 0, &res.members[i]) != 0)
            goto fail;
        sc->as[i].member_id = rill__str(c->members[i].member_id);
        sc->as[i].assignment.ptr = sc->bufs[i].data;
        sc->as[i].assignment.len = (int32_t)sc->bufs[i].len;
        RILL_LOG(&c->log, RILL_LOG_DEBUG, "cgrp", "group %s: member %s gets %d partition(s)",
                 c->conf->group_id, c->members[i].member_id, res.members[i].npartitions);
    }
    if (res.nwithheld)
        RILL_LOG(&c->log, RILL_LOG_INFO, "cgrp",
                 "group %s: %d partition(s) withheld until their owners revoke them",
                 c->conf->group_id, res.nwithheld);
    rill__asg_result_free(&res);
    free(mem);
    free(topics);
    rill__arena_free(&a);
    return sc;
fail:
    if (have_res)
        rill__asg_result_free(&res);
    free(mem);
    free(topics);
    rill__arena_free(&a);
    sync_ctx_free(sc);
    return NULL;
}

/*
 * Where a newly assigned partition starts: its committed offset, unless this
 * member owned it in the previous generation and the commit of its position
 * at the revoke did not land.  Then no one else can have read it since (it
 * was ours in generation N and is ours again in N + 1), and that position is
 * where the application stopped: resume there, and the next auto commit
 * stores it.
 */
static int64_t start_offset(rill_consumer_t *c, ctp *tp) {
    if (tp->revoked_pos < 0 || tp->revoked_gen < 0 || c->generation != tp->revoked_gen + 1)
        return RILL_OFFSET_STORED;
    RILL_LOG(&c->log, RILL_LOG_INFO, "cgrp",
             "%s [%d]: resuming at offset %" PRId64
             ", the position revoked in generation %d (its commit did not land)",
             tp->topic, tp->partition, tp->revoked_pos, tp->revoked_gen);
    return tp->revoked_pos;
}

/* Applies the assignment bytes from SyncGroup. */
static void apply_assignment(rill_consumer_t *c, const uint8_t *data, int32_t len) {
    rill_arena a;
    rill__arena_init(&a, 0);
    rill_consumer_assignment as = {0};
    if (len > 0) {
        rill_rd r;
        rill__rd_init(&r, data, (size_t)len);
        if (rill__consumer_assignment_decode(&r, &as, &a) != 0) {
            rill__consumer_event(c, NULL, RILL_ERR_BAD_MSG, "group %s: malformed assignment",
                                 c->conf->group_id);
            memset(&as, 0, sizeof(as));
        }
    }
    /* New set. */
    ctp **fresh = calloc((size_t)c->ntps + 1024, sizeof(*fresh));
    int nfresh = 0, capf = c->ntps + 1024;
    for (int32_t t = 0; fresh && t < as.nassigned; t++) {
        char name[256];
        snprintf(name, sizeof(name), "%.*s", (int)as.assigned[t].topic.len,
                 as.assigned[t].topic.ptr ? as.assigned[t].topic.ptr : "");
        rill__cluster_topic(&c->cl, name);
        for (int32_t p = 0; p < as.assigned[t].npartitions; p++) {
            ctp *tp = rill__ctp_get(c, name, as.assigned[t].partitions[p]);
            if (!tp)
                continue;
            if (nfresh == capf) {
                capf *= 2;
                ctp **nf = realloc(fresh, sizeof(*nf) * (size_t)capf);
                if (!nf)
                    break;
                fresh = nf;
            }
            fresh[nfresh++] = tp;
        }
    }
    rill__arena_free(&a);
    if (!fresh)
        return;
    /* What is revoked (cooperative: owned but not in the new set). */
    ctp **revoked = calloc((size_t)c->ntps + 1, sizeof(*revoked));
    ctp **added = calloc((size_t)c->ntps + 1, sizeof(*added));
    int nrev = 0, nadd = 0;
    for (int i = 0; revoked && added && i < c->ntps; i++) {
        ctp *tp = c->tps[i];
        bool in_new = false;
        for (int k = 0; k < nfresh; k++)
            in_new |= fresh[k] == tp;
        if (tp->assigned && !in_new)
            revoked[nrev++] = tp;
        else if (!tp->assigned && in_new)
            added[nadd++] = tp;
    }
    if (nrev) {
        /*
         * Cooperative: give up what moved, then rejoin so it can be reassigned.  The
         * commit is a revoke commit, as the eager one: a retriable failure is sent again
         * before the JoinGroup, and a partition that comes back to us in the next
         * generation resumes from the position kept here rather than the stale commit.
         */
        if (c->conf->enable_auto_commit)
            rill__group_commit_revoke(c, revoked, nrev);
        for (int i = 0; i < nrev; i++)
            rill__tp_stop(c, revoked[i]);
        rill__consumer_rebalance_event(c, RILL_REBALANCE_REVOKE, revoked, nrev);
        c->rejoin = true;
    }
    for (int i = 0; i < nadd; i++)
        rill__tp_start(c, added[i], start_offset(c, added[i]));
    rill__group_forget_revoked(c); /* only ever good for the generation after the revoke */
    RILL_LOG(&c->log, RILL_LOG_INFO, "cgrp",
             "group %s: generation %d: %d partition(s) assigned (%d new, %d revoked)",
             c->conf->group_id, c->generation, nfresh, nadd, nrev);
    if (nadd || !cooperative(c))
        rill__consumer_rebalance_event(c, RILL_REBALANCE_ASSIGN, added, nadd);
    free(fresh);
    free(revoked);
    free(added);
}

/* ---- Heartbeat ------------------------------------------------------------------------ */

static int enc_hb(rill_buf *b, int16_t ver, void *opaque) {
    rill_consumer_t *c = opaque;
    rill_heartbeat_req req = {rill__str(c->conf->group_id), c->generation,
                              rill__str(c->member_id ? c->member_id : ""),
                              ver >= 3 ? rill__str(c->conf->group_instance_id) : rill__str_null()};
    return rill__heartbeat_req_encode(b, ver, &req);
}

/* Our partitions are gone without a revoke (generation fenced, session lost). */
static void lose_partitions(rill_consumer_t *c, const char *why) {
    ctp **own = calloc((size_t)c->ntps + 1, sizeof(*own));
    if (!own)
        return;
    int n = owned(c, own);
    for (int i = 0; i < n; i++)
        rill__tp_stop(c, own[i]);
    if (n) {
        RILL_LOG(&c->log, RILL_LOG_WARNING, "cgrp", "group %s: %d partition(s) lost: %s",
                 c->conf->group_id, n, why);
        rill__consumer_rebalance_event(c, RILL_REBALANCE_LOST, own, n);
    }
    free(own);
    c->generation = -1;
    rill__group_forget_revoked(c);
}

static int on_hb(rill_conn *conn, int err, int16_t ver, rill_rd *body, void *opaque) {
    rill_consumer_t *c = opaque;
    (void)conn;
    c->hb_inflight = false;
    int64_t now = rill__mono_us();
    if (err) {
        if (!c->session_lost_us)
            c->session_lost_us = now;
        rill__group_coord_lost(c, rill_err_name(err));
        return 0;
    }
    rill__arena_reset(&c->arena);
    rill_heartbeat_resp m;
    if (rill__heartbeat_resp_decode(body, ver, &m, &c->arena) != 0)
        return -1;
    if (c->cg != CG_STABLE)
        return 0;
    switch (m.error_code) {
    case 0:
        c->session_lost_us = 0;
        break;
    case RILL_ERR_REBALANCE_IN_PROGRESS:
        RILL_LOG(&c->log, RILL_LOG_INFO, "cgrp", "group %s: rebalance in progress",
                 c->conf->group_id);
        c->rejoin = true;
        break;
    case RILL_ERR_UNKNOWN_MEMBER_ID:
        free(c->member_id);
        c->member_id = NULL;
        /* fall through */
    case RILL_ERR_ILLEGAL_GENERATION:
    case RILL_ERR_FENCED_INSTANCE_ID:
        lose_partitions(c, rill_err_name(m.error_code));
        c->cg = CG_JOIN;
        c->cg_next_us = 0;
        break;
    case RILL_ERR_NOT_COORDINATOR:
    case RILL_ERR_COORDINATOR_NOT_AVAILABLE:
        rill__group_coord_lost(c, rill_err_name(m.error_code));
        break;
    default:
        RILL_LOG(&c->log, RILL_LOG_WARNING, "cgrp", "group %s: heartbeat: %s", c->conf->group_id,
                 rill_err_name(m.error_code));
    }
    return 0;
}

/* ---- LeaveGroup -------------------------------------------------------------------------- */

static int enc_leave(rill_buf *b, int16_t ver, void *opaque) {
    rill_consumer_t *c = opaque;
    rill_leave_group_member mem = {rill__str(c->member_id ? c->member_id : ""),
                                   rill__str(c->conf->group_instance_id), rill__str_null()};
    rill_leave_group_req req = {rill__str(c->conf->group_id), &mem, 1};
    return rill__leave_group_req_encode(b, ver, &req);
}

static int on_leave(rill_conn *conn, int err, int16_t ver, rill_rd *body, void *opaque) {
    rill_consumer_t *c = opaque;
    (void)conn;
    int16_t ec = (int16_t)err;
    if (!err) {
        rill__arena_reset(&c->arena);
        rill_leave_group_resp m;
        if (rill__leave_group_resp_decode(body, ver, &m, &c->arena) == 0)
            ec = m.error_code;
    }
    RILL_LOG(&c->log, RILL_LOG_DEBUG, "cgrp", "group %s: left: %s", c->conf->group_id,
             rill_err_name(ec));
    c->generation = -1;
    c->cg = CG_NONE;
    rill__group_forget_revoked(c);
    if (c->closing) {
        cmd *k = c->closing;
        c->closing = NULL;
        rill__cmd_finish(c, k, 0);
    }
    return 0;
}

/* Revokes everything (eager rebalance, unsubscribe, close). */
static void revoke_all(rill_consumer_t *c, bool commit) {
    ctp **own = calloc((size_t)c->ntps + 1, sizeof(*own));
    if (!own)
        return;
    int n = owned(c, own);
    if (n && commit && c->conf->enable_auto_commit)
        rill__group_commit_revoke(c, NULL, 0);
    for (int i = 0; i < n; i++)
        rill__tp_stop(c, own[i]);
    if (n) {
        rill__consumer_rebalance_event(c, RILL_REBALANCE_REVOKE, own, n);
        if (c->conf->rebalance_cb)
            c->rebalance_pending_ack = true;
    }
    free(own);
}

void rill__group_leave(rill_consumer_t *c, cmd *k) {
    /* Stop fetching; commit; revoke; leave (static members do not). */
    bool member = c->subscribed && c->member_id && c->generation >= 0;
    if (c->subscribed || c->conf->enable_auto_commit) {
        if (c->conf->enable_auto_commit && rill__group_coordinator(c))
            rill__group_send_commit(c, NULL, true);
    }
    ctp **own = calloc((size_t)c->ntps + 1, sizeof(*own));
    if (own) {
        int n = owned(c, own);
        for (int i = 0; i < n; i++)
            rill__tp_stop(c, own[i]);
        if (n && c->subscribed)
            rill__consumer_rebalance_event(c, RILL_REBALANCE_REVOKE, own, n);
        free(own);
    }
    c->subscribed = false;
    rill__group_forget_revoked(c);
    rill_cbroker *b = rill__group_coordinator(c);
    RILL_LOG(&c->log, RILL_LOG_DEBUG, "cgrp", "group %s: leaving (member %s, generation %d)",
             c->conf->group_id ? c->conf->group_id : "", c->member_id ? c->member_id : "-",
             c->generation);
    if (member && b && !c->conf->group_instance_id) {
        c->closing = k;
        c->cg = CG_LEAVING;
        int64_t left = (k->deadline_us - rill__mono_us()) / 1000;
        rill__cluster_request(&c->cl, b, RILL_API_LEAVE_GROUP, 0, LEAVE_MAX_VER, enc_leave,
                              on_leave, c, left > 100 ? (int)left : 100);
        return;
    }
    c->cg = CG_NONE;
    /* Let the commit, if any, go out before reporting. */
    if (c->commits_inflight) {
        c->closing = k;
        return;
    }
    rill__cmd_finish(c, k, 0);
}

/* ---- subscription and the state machine ------------------------------------------------------ */

void rill__group_subscribe(rill_consumer_t *c, char **topics, size_t n) {
    for (size_t i = 0; i < c->nsub; i++)
        free(c->sub_topics[i]);
    free(c->sub_topics);
    c->sub_topics = calloc(n ? n : 1, sizeof(char *));
    c->nsub = 0;
    for (size_t i = 0; c->sub_topics && i < n; i++) {
        c->sub_topics[c->nsub++] = strdup(topics[i]);
        rill__cluster_topic(&c->cl, topics[i]);
    }
    if (!n) {
        revoke_all(c, true);
        c->subscribed = false;
        rill__group_forget_revoked(c);
        c->cg = CG_NONE;
        return;
    }
    c->subscribed = true;
    if (c->cg == CG_NONE)
        c->cg = CG_FIND_COORD;
    else
        c->rejoin = true;
    c->cg_next_us = 0;
}

void rill__group_rebalance_done(rill_consumer_t *c) { c->rebalance_pending_ack = false; }

void rill__group_step(rill_consumer_t *c, int64_t now) {
    /* Close waits for its commits. */
    if (c->closing && c->cg == CG_NONE && !c->commits_inflight) {
        cmd *k = c->closing;
        c->closing = NULL;
        rill__cmd_finish(c, k, 0);
    }
    if (c->closing && now > c->closing->deadline_us) {
        cmd *k = c->closing;
        c->closing = NULL;
        rill__cmd_finish(c, k, RILL_ERR_TIMED_OUT);
    }
    rill__group_init_positions(c, now);

    /* Auto commit. */
    if (c->conf->enable_auto_commit && c->conf->group_id && *c->conf->group_id &&
        now >= c->next_autocommit_us) {
        c->next_autocommit_us = now + (int64_t)c->conf->auto_commit_interval_ms * 1000;
        if (rill__group_coordinator(c) && (c->cg == CG_STABLE || !c->subscribed))
            rill__group_send_commit(c, NULL, true);
    }

    if (!c->subscribed && c->cg != CG_FIND_COORD)
        return;
    if (now < c->cg_next_us)
        return;

    /* max.poll.interval.ms: a member that stopped polling leaves the group. */
    pthread_mutex_lock(&c->lock);
    int64_t last_poll = c->last_poll_us;
    pthread_mutex_unlock(&c->lock);
    if (c->subscribed && c->cg == CG_STABLE &&
        now - last_poll > (int64_t)c->conf->max_poll_interval_ms * 1000) {
        RILL_LOG(&c->log, RILL_LOG_WARNING, "cgrp",
                 "group %s: no poll for max.poll.interval.ms (%d ms): leaving the group",
                 c->conf->group_id, c->conf->max_poll_interval_ms);
        rill_cbroker *b = rill__group_coordinator(c);
        if (b && !c->conf->group_instance_id)
            rill__cluster_request(&c->cl, b, RILL_API_LEAVE_GROUP, 0, LEAVE_MAX_VER, enc_leave,
                                  on_leave, c, c->conf->request_timeout_ms);
        lose_partitions(c, "max.poll.interval.ms exceeded");
        free(c->member_id);
        c->member_id = NULL;
        c->poll_expired = true;
        c->cg = CG_JOIN;
        return;
    }
    if (c->poll_expired) {
        if (now - last_poll > (int64_t)c->conf->max_poll_interval_ms * 1000)
            return; /* rejoin only once the application polls again */
        c->poll_expired = false;
    }

    switch (c->cg) {
    case CG_NONE:
    case CG_LEAVING:
        return;
    case CG_FIND_COORD: {
        if (rill__group_coordinator(c)) {
            c->cg = c->subscribed ? CG_JOIN : CG_NONE;
            return;
        }
        if (c->coord_inflight)
            return;
        rill_cbroker *b = rill__cluster_any_broker(&c->cl, true);
        if (!b)
            return;
        c->coord_inflight = true;
        rill__cluster_request(&c->cl, b, RILL_API_FIND_COORDINATOR, 0, FINDC_MAX_VER, enc_findc,
                              on_findc, c, c->conf->request_timeout_ms);
        return;
    }
    case CG_WAIT_REVOKE:
        if (c->rebalance_pending_ack &&
            now - last_poll < (int64_t)c->conf->max_poll_interval_ms * 1000)
            return;
        c->rebalance_pending_ack = false;
        c->cg = CG_JOIN;
        /* fall through */
    case CG_JOIN: {
        if (c->join_deadline_us)
            return; /* in flight */
        rill_cbroker *b = rill__group_coordinator(c);
        if (!b) {
            c->cg = CG_FIND_COORD;
            return;
        }
        if (c->commits_inflight)
            return; /* let the pre-rebalance commit land with our generation */
        if (rill__group_retry_revoke(c, now))
            return; /* it failed with a retriable error: again, before joining */
        c->rejoin = false;
        c->join_deadline_us = now + (int64_t)(c->conf->max_poll_interval_ms + 5000) * 1000;
        rill__cluster_request(&c->cl, b, RILL_API_JOIN_GROUP, 0, JOIN_MAX_VER, enc_join, on_join, c,
                              c->conf->max_poll_interval_ms + 5000);
        return;
    }
    case CG_SYNC: {
        if (c->join_deadline_us)
            return;
        rill_cbroker *b = rill__group_coordinator(c);
        if (!b) {
            c->cg = CG_FIND_COORD;
            return;
        }
        bool wait_md = false;
        sync_ctx *sc = leader_assign(c, &wait_md);
        if (!sc) {
            if (wait_md)
                rill__cluster_md_refresh(&c->cl, "leader needs topic metadata", true);
            c->cg_next_us = now + 50000;
            return;
        }
        c->join_deadline_us = now + (int64_t)(c->conf->max_poll_interval_ms + 5000) * 1000;
        rill__cluster_request(&c->cl, b, RILL_API_SYNC_GROUP, 0, SYNC_MAX_VER, enc_sync, on_sync,
                              sc, c->conf->max_poll_interval_ms + 5000);
        return;
    }
    case CG_STABLE: {
        if (c->rejoin) {
            if (!cooperative(c)) {
                revoke_all(c, true);
                c->cg = CG_WAIT_REVOKE;
            } else {
                c->cg = CG_JOIN;
            }
            c->cg_next_us = 0;
            return;
        }
        /* The leader watches partition counts of subscribed topics. */
        if (c->session_lost_us &&
            now - c->session_lost_us > (int64_t)c->conf->session_timeout_ms * 1000) {
            lose_partitions(c, "session timed out");
            c->cg = CG_JOIN;
            return;
        }
        if (now >= c->next_heartbeat_us && !c->hb_inflight) {
            rill_cbroker *b = rill__group_coordinator(c);
            if (!b) {
                c->cg = CG_FIND_COORD;
                return;
            }
            c->hb_inflight = true;
            c->next_heartbeat_us = now + (int64_t)c->conf->heartbeat_interval_ms * 1000;
            rill__cluster_request(&c->cl, b, RILL_API_HEARTBEAT, 0, HB_MAX_VER, enc_hb, on_hb, c,
                                  c->conf->session_timeout_ms);
        }
        return;
    }
    }
}
