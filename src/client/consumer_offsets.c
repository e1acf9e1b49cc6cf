/*
 * consumer_offsets.c -- the consumer's offsets on the group coordinator (I/O
 * thread): OffsetCommit (rill_commit, auto commit, the commit before a
 * revoke or a close) and OffsetFetch (rill_committed, and where a newly
 * assigned partition starts).
 *
 * Offsets follow the Java convention: a committed offset is the next offset
 * to read.  Positions are committed every auto.commit.interval.ms, before a
 * revoke, and on close.
 *
 * The commit before an eager revoke is sent with the generation that owned
 * the partitions, before the JoinGroup.  Kafka accepts it while the group
 * prepares the rebalance (it refuses commits only between the JoinGroup
 * and the SyncGroup answers, with REBALANCE_IN_PROGRESS).  When it does not
 * land, two things keep the member from reading again what it read:
 *   - after a retriable error (coordinator moved or loading, a timeout, a
 *     lost connection) it is sent again before the JoinGroup, while the
 *     generation is unchanged, for up to the rebalance timeout
 *     (max.poll.interval.ms), as the Java consumer does in onJoinPrepare;
 *   - its positions are kept, and a partition that the very next generation
 *     gives back to this member resumes there instead of at the older
 *     committed offset.  No one else can have read or committed it in
 *     between: it was this member's in generation N and is again in N + 1.
 *     (librdkafka's mock coordinator refuses every commit from the moment a
 *     member leaves until the group is up again, so there this is the case
 *     that matters.)  A partition that moves to another member is read again
 *     from the last commit that landed: at-least-once, as in every client.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/consumer_int.h"
#include "common/clock.h"
#include "proto/api_offsets.h"
#include "proto/fields.h"

/* Versions used (flexible versions above these add nothing we need). */
#define COMMIT_MAX_VER 7
#define OFETCH_MAX_VER 7

/* ---- offset commit ------------------------------------------------------------- */

typedef struct commit_req {
    rill_consumer_t *c;
    cmd *k;             /* NULL for auto commits */
    int32_t generation; /* the generation it was sent for */
    bool revoke;        /* the commit before an eager revoke */
    int n;
    struct {
        ctp *tp;
        int64_t offset;
    } p[];
} commit_req;

static int enc_commit(rill_buf *b, int16_t ver, void *opaque) {
    commit_req *rq = opaque;
    rill_consumer_t *c = rq->c;
    rill_offset_commit_req_topic *ts = calloc((size_t)rq->n, sizeof(*ts));
    rill_offset_commit_req_partition *ps = calloc((size_t)rq->n, sizeof(*ps));
    if (!ts || !ps) {
        free(ts);
        free(ps);
        return -1;
    }
    int nt = 0;
    for (int i = 0; i < rq->n; i++) {
        int t;
        for (t = 0; t < nt; t++)
            if (rill__str_eq(ts[t].name, rq->p[i].tp->topic))
                break;
        if (t == nt) {
            ts[nt].name = rill__str(rq->p[i].tp->topic);
            ts[nt].partitions = &ps[i]; /* filled below in order */
            nt++;
        }
    }
    /* Lay partitions out topic by topic. */
    int k = 0;
    for (int t = 0; t < nt; t++) {
        ts[t].partitions = &ps[k];
        for (int i = 0; i < rq->n; i++) {
            if (!rill__str_eq(ts[t].name, rq->p[i].tp->topic))
                continue;
            ps[k].partition = rq->p[i].tp->partition;
            ps[k].committed_offset = rq->p[i].offset;
            ps[k].committed_leader_epoch = -1;
            ps[k].commit_timestamp = -1;
            ps[k].committed_metadata = rill__str("");
            k++;
            ts[t].npartitions++;
        }
    }
    bool member = c->subscribed && c->generation >= 0;
    rill_offset_commit_req req = {0};
    req.group_id = rill__str(c->conf->group_id);
    req.generation_id = member ? c->generation : -1;
    req.member_id = rill__str(member && c->member_id ? c->member_id : "");
    req.group_instance_id =
        ver >= 7 && member ? rill__str(c->conf->group_instance_id) : rill__str_null();
    req.retention_time_ms = -1;
    req.topics = ts;
    req.ntopics = nt;
    int rc = rill__offset_commit_req_encode(b, ver, &req);
    free(ts);
    free(ps);
    return rc;
}

static bool retriable_commit_error(rill_err_t err) {
    return err == RILL_ERR_TIMED_OUT || rill_err_is_retriable(err);
}

/* One partition's commit result: what the partition remembers of it. */
static void commit_done(rill_consumer_t *c, commit_req *rq, int i, rill_err_t perr) {
    ctp *tp = rq->p[i].tp;
    if (!perr) {
        tp->committed = rq->p[i].offset;
        /* A commit sent after the revoke landed: the committed offset is right again. */
        tp->revoked_pos = -1;
        tp->revoked_retry = false;
        return;
    }
    /* The revoke commit failed while this member still has the generation that owned
     * the partition (the JoinGroup waits for it): keep the position. */
    if (!rq->revoke || !c->subscribed || rq->generation < 0 || rq->generation != c->generation)
        return;
    tp->revoked_pos = rq->p[i].offset;
    tp->revoked_gen = rq->generation;
    tp->revoked_retry = retriable_commit_error(perr);
}

static int on_commit(rill_conn *conn, int err, int16_t ver, rill_rd *body, void *opaque) {
    commit_req *rq = opaque;
    rill_consumer_t *c = rq->c;
    (void)conn;
    c->commits_inflight--;
    int rc = 0;
    rill_err_t first = err;
    ctp **tps = calloc((size_t)rq->n, sizeof(*tps));
    int64_t *offs = calloc((size_t)rq->n, sizeof(*offs));
    rill_err_t *errs = calloc((size_t)rq->n, sizeof(*errs));
    for (int i = 0; tps && offs && errs && i < rq->n; i++) {
        tps[i] = rq->p[i].tp;
        offs[i] = rq->p[i].offset;
    }
    rill_offset_commit_resp m = {0};
    if (!err) {
        rill__arena_reset(&c->arena);
        if (rill__offset_commit_resp_decode(body, ver, &m, &c->arena) != 0) {
            rc = -1;
            first = RILL_ERR_BAD_MSG;
        }
    }
    rill_err_t whole = first; /* the request failed as a whole */
    for (int i = 0; i < rq->n; i++) {
        rill_err_t perr = whole;
        if (!whole) {
            perr = RILL_ERR_BAD_MSG; /* not in the answer */
            for (int32_t t = 0; t < m.ntopics; t++) {
                if (!rill__str_eq(m.topics[t].name, rq->p[i].tp->topic))
                    continue;
                for (int32_t p = 0; p < m.topics[t].npartitions; p++)
                    if (m.topics[t].partitions[p].partition == rq->p[i].tp->partition)
                        perr = m.topics[t].partitions[p].error_code;
            }
        }
        commit_done(c, rq, i, perr);
        if (errs)
            errs[i] = perr;
        if (!first)
            first = perr;
    }
    if (first) {
        RILL_LOG(&c->log, RILL_LOG_WARNING, "cgrp", "group %s: offset commit%s failed: %s",
                 c->conf->group_id, rq->revoke ? " before the revoke" : "", rill_err_name(first));
        if (first == RILL_ERR_NOT_COORDINATOR || first == RILL_ERR_COORDINATOR_NOT_AVAILABLE ||
            first == RILL_ERR_TRANSPORT)
            rill__group_coord_lost(c, rill_err_name(first));
        /* Only a commit of the current generation says this member must rejoin: one
         * sent for an earlier generation failing is old news (it would rejoin for ever). */
        if ((first == RILL_ERR_REBALANCE_IN_PROGRESS || first == RILL_ERR_ILLEGAL_GENERATION ||
             first == RILL_ERR_UNKNOWN_MEMBER_ID) &&
            rq->generation == c->generation && c->cg == CG_STABLE)
            c->rejoin = true;
        /* A revoke commit to send again waits retry.backoff.ms (or the coordinator). */
        if (rq->revoke && retriable_commit_error(first)) {
            int64_t next = rill__mono_us() + (int64_t)c->conf->retry_backoff_ms * 1000;
            if (c->cg_next_us < next)
                c->cg_next_us = next;
        }
    }
    if ((!rq->k || rq->k->async) && tps && offs && errs)
        rill__consumer_commit_event(c, first, tps, offs, errs, rq->n);
    free(tps);
    free(offs);
    free(errs);
    if (rq->k)
        rill__cmd_finish(c, rq->k, first);
    free(rq);
    return rc;
}

static commit_req *commit_req_new(rill_consumer_t *c, cmd *k, int cap) {
    commit_req *rq = calloc(1, sizeof(*rq) + sizeof(rq->p[0]) * (size_t)(cap > 0 ? cap : 1));
    if (!rq) {
        if (k)
            rill__cmd_finish(c, k, RILL_ERR_NO_MEMORY);
        return NULL;
    }
    rq->c = c;
    rq->k = k;
    rq->generation = c->generation;
    return rq;
}

/* Adds every assigned partition's position (only those that moved when only_changed). */
/* The positions of the assigned partitions (of `only` when it is not NULL). */
static void add_positions(rill_consumer_t *c, commit_req *rq, bool only_changed, ctp **only,
                          int nonly) {
    pthread_mutex_lock(&c->lock);
    int n = only ? nonly : c->ntps;
    for (int i = 0; i < n; i++) {
        ctp *tp = only ? only[i] : c->tps[i];
        if (!tp->assigned || tp->app_pos < 0)
            continue;
        if (only_changed && tp->app_pos == tp->committed)
            continue;
        rq->p[rq->n].tp = tp;
        rq->p[rq->n].offset = tp->app_pos;
        rq->n++;
    }
    pthread_mutex_unlock(&c->lock);
}

/* Sends rq, or finishes it here (false) when it is empty or there is no coordinator:
 * a revoke commit then counts as failed with COORDINATOR_NOT_AVAILABLE, to be sent
 * again once the coordinator is back. */
static bool send_commit(rill_consumer_t *c, commit_req *rq) {
    rill_cbroker *b = rill__group_coordinator(c);
    if (!rq->n || !b) {
        for (int i = 0; i < rq->n; i++)
            commit_done(c, rq, i, RILL_ERR_COORDINATOR_NOT_AVAILABLE);
        if (rq->k)
            rill__cmd_finish(c, rq->k, rq->n ? RILL_ERR_COORDINATOR_NOT_AVAILABLE : 0);
        free(rq);
        return false;
    }
    c->commits_inflight++;
    rill__cluster_request(&c->cl, b, RILL_API_OFFSET_COMMIT, 2, COMMIT_MAX_VER, enc_commit,
                          on_commit, rq, c->conf->request_timeout_ms);
    return true;
}

/* Commits the given offsets (k's) or every assigned partition's position. */
bool rill__group_send_commit(rill_consumer_t *c, cmd *k, bool only_changed) {
    commit_req *rq = commit_req_new(c, k, k && k->n ? (int)k->n : c->ntps);
    if (!rq)
        return false;
    if (k && k->n) {
        for (size_t i = 0; i < k->n; i++) {
            ctp *tp = rill__ctp_get(c, k->parts[i].topic, k->parts[i].partition);
            if (!tp || k->parts[i].offset < 0)
                continue;
            rq->p[rq->n].tp = tp;
            rq->p[rq->n].offset = k->parts[i].offset;
            rq->n++;
        }
    } else {
        add_positions(c, rq, only_changed, NULL, 0);
    }
    return send_commit(c, rq);
}

bool rill__group_commit_revoke(rill_consumer_t *c, ctp **only, int nonly) {
    c->revoke_deadline_us = rill__mono_us() + (int64_t)c->conf->max_poll_interval_ms * 1000;
    commit_req *rq = commit_req_new(c, NULL, c->ntps);
    if (!rq)
        return false;
    rq->revoke = true;
    add_positions(c, rq, true, only, nonly);
    return send_commit(c, rq);
}

bool rill__group_retry_revoke(rill_consumer_t *c, int64_t now) {
    commit_req *rq = NULL;
    for (int i = 0; i < c->ntps; i++) {
        ctp *tp = c->tps[i];
        if (tp->revoked_pos < 0 || !tp->revoked_retry)
            continue;
        tp->revoked_retry = false;
        if (tp->revoked_gen != c->generation)
            continue;
        if (now >= c->revoke_deadline_us) {
            RILL_LOG(&c->log, RILL_LOG_WARNING, "cgrp",
                     "group %s: %s [%d]: no more tries to commit offset %" PRId64
                     " before rejoining (max.poll.interval.ms passed)",
                     c->conf->group_id, tp->topic, tp->partition, tp->revoked_pos);
            continue;
        }
        if (!rq && !(rq = commit_req_new(c, NULL, c->ntps)))
            return false;
        rq->p[rq->n].tp = tp;
        rq->p[rq->n].offset = tp->revoked_pos;
        rq->n++;
    }
    if (!rq)
        return false;
    rq->revoke = true;
    RILL_LOG(&c->log, RILL_LOG_INFO, "cgrp",
             "group %s: committing %d revoked partition(s) again before rejoining",
             c->conf->group_id, rq->n);
    return send_commit(c, rq);
}

void rill__group_forget_revoked(rill_consumer_t *c) {
    for (int i = 0; i < c->ntps; i++) {
        c->tps[i]->revoked_pos = -1;
        c->tps[i]->revoked_gen = -1;
        c->tps[i]->revoked_retry = false;
    }
}

/*
 * A command that needs the coordinator waits for it (assign mode finds it on
 * demand): requeued for the next round, or failed at its deadline.  Returns
 * true when the command was requeued or finished.
 */
static bool await_coordinator(rill_consumer_t *c, cmd *k) {
    if (rill__group_coordinator(c))
        return false;
    if (c->cg == CG_NONE)
        c->cg = CG_FIND_COORD;
    if (!k->deadline_us)
        k->deadline_us = rill__mono_us() + (int64_t)c->conf->request_timeout_ms * 1000;
    if (rill__mono_us() > k->deadline_us) {
        rill__cmd_finish(c, k, RILL_ERR_COORDINATOR_NOT_AVAILABLE);
        return true;
    }
    pthread_mutex_lock(&c->lock);
    k->next = c->cmd_head;
    c->cmd_head = k;
    if (!c->cmd_tail)
        c->cmd_tail = k;
    pthread_mutex_unlock(&c->lock);
    return true;
}

void rill__group_commit(rill_consumer_t *c, cmd *k) {
    if (!await_coordinator(c, k))
        rill__group_send_commit(c, k, false);
}

/* ---- committed offsets (OffsetFetch) -------------------------------------------- */

typedef struct ofetch_req {
    rill_consumer_t *c;
    cmd *k; /* rill_committed, or NULL for position initialisation */
    int n;
    ctp *tps[];
} ofetch_req;

static int enc_ofetch(rill_buf *b, int16_t ver, void *opaque) {
    ofetch_req *rq = opaque;
    rill_consumer_t *c = rq->c;
    rill_offset_fetch_req_topic *ts = calloc((size_t)rq->n, sizeof(*ts));
    int32_t *ps = calloc((size_t)rq->n, sizeof(*ps));
    if (!ts || !ps) {
        free(ts);
        free(ps);
        return -1;
    }
    int nt = 0, k = 0;
    for (int i = 0; i < rq->n; i++) {
        int t;
        for (t = 0; t < nt; t++)
            if (rill__str_eq(ts[t].name, rq->tps[i]->topic))
                break;
        if (t == nt)
            ts[nt++].name = rill__str(rq->tps[i]->topic);
    }
    for (int t = 0; t < nt; t++) {
        ts[t].partitions = &ps[k];
        for (int i = 0; i < rq->n; i++)
            if (rill__str_eq(ts[t].name, rq->tps[i]->topic)) {
                ps[k++] = rq->tps[i]->partition;
                ts[t].npartitions++;
            }
    }
    rill_offset_fetch_req_group g = {rill__str(c->conf->group_id), rill__str_null(), -1, ts, nt};
    rill_offset_fetch_req req = {&g, 1, false};
    if (ver >= 7)
        req.require_stable = c->conf->isolation_level == RILL_ISOLATION_READ_COMMITTED;
    int rc = rill__offset_fetch_req_encode(b, ver, &req);
    free(ts);
    free(ps);
    return rc;
}

static int on_ofetch(rill_conn *conn, int err, int16_t ver, rill_rd *body, void *opaque) {
    ofetch_req *rq = opaque;
    rill_consumer_t *c = rq->c;
    (void)conn;
    int rc = 0;
    rill_offset_fetch_resp m;
    bool ok = false;
    if (!err) {
        rill__arena_reset(&c->arena);
        ok = rill__offset_fetch_resp_decode(body, ver, &m, &c->arena) == 0 && m.ngroups >= 1;
        if (!ok) {
            rc = -1;
            err = RILL_ERR_BAD_MSG;
        } else if (m.groups[0].error_code) {
            err = m.groups[0].error_code;
            ok = false;
        }
    }
    if (err == RILL_ERR_NOT_COORDINATOR || err == RILL_ERR_COORDINATOR_NOT_AVAILABLE ||
        err == RILL_ERR_TRANSPORT)
        rill__group_coord_lost(c, rill_err_name(err));
    for (int i = 0; i < rq->n; i++) {
        ctp *tp = rq->tps[i];
        if (!rq->k)
            tp->op_inflight = false;
        int16_t perr = err ? (int16_t)err : RILL_ERR_BAD_MSG;
        int64_t off = -1;
        for (int32_t t = 0; ok && t < m.groups[0].ntopics; t++) {
            rill_offset_fetch_resp_topic *rt = &m.groups[0].topics[t];
            if (!rill__str_eq(rt->name, tp->topic))
                continue;
            for (int32_t p = 0; p < rt->npartitions; p++)
                if (rt->partitions[p].partition == tp->partition) {
                    perr = rt->partitions[p].error_code;
                    off = rt->partitions[p].committed_offset;
                }
        }
        if (rq->k) {
            rq->k->parts[i].err = perr;
            rq->k->parts[i].offset = !perr && off >= 0 ? off : RILL_OFFSET_INVALID;
            continue;
        }
        if (tp->state != TP_NEED_COMMITTED || !tp->assigned)
            continue;
        if (perr) {
            rill__tp_backoff(c, tp, rill__mono_us());
            continue;
        }
        if (off >= 0) {
            tp->committed = off;
            RILL_LOG(&c->log, RILL_LOG_DEBUG, "cgrp",
                     "%s [%d]: resuming at committed offset %" PRId64, tp->topic, tp->partition,
                     off);
            rill__tp_start(c, tp, off);
        } else {
            switch (c->conf->auto_offset_reset) {
            case RILL_OFFSET_RESET_EARLIEST:
                rill__tp_start(c, tp, RILL_OFFSET_BEGINNING);
                break;
            case RILL_OFFSET_RESET_LATEST:
                rill__tp_start(c, tp, RILL_OFFSET_END);
                break;
            default:
                tp->state = TP_ERROR;
                rill__consumer_event(c, tp, RILL_ERR_OFFSET_OUT_OF_RANGE,
                                     "%s [%d]: no committed offset and auto.offset.reset is none",
                                     tp->topic, tp->partition);
            }
        }
    }
    if (rq->k)
        rill__cmd_finish(c, rq->k, err);
    free(rq);
    return rc;
}

void rill__group_committed(rill_consumer_t *c, cmd *k) {
    if (await_coordinator(c, k))
        return;
    rill_cbroker *b = rill__group_coordinator(c);
    ofetch_req *rq = calloc(1, sizeof(*rq) + sizeof(ctp *) * (k->n ? k->n : 1));
    if (!rq) {
        rill__cmd_finish(c, k, RILL_ERR_NO_MEMORY);
        return;
    }
    rq->c = c;
    rq->k = k;
    for (size_t i = 0; i < k->n; i++)
        rq->tps[rq->n++] = rill__ctp_get(c, k->parts[i].topic, k->parts[i].partition);
    int64_t left = (k->deadline_us - rill__mono_us()) / 1000;
    rill__cluster_request(&c->cl, b, RILL_API_OFFSET_FETCH, 1, OFETCH_MAX_VER, enc_ofetch,
                          on_ofetch, rq, left > 0 ? (int)left : 1);
}

/* Looks up committed offsets for partitions that start from them. */
void rill__group_init_positions(rill_consumer_t *c, int64_t now) {
    ofetch_req *rq = NULL;
    for (int i = 0; i < c->ntps; i++) {
        ctp *tp = c->tps[i];
        if (!tp->assigned || tp->state != TP_NEED_COMMITTED || tp->op_inflight ||
            tp->backoff_until_us > now)
            continue;
        if (!c->conf->group_id || !*c->conf->group_id) {
            rill__tp_start(c, tp,
                           c->conf->auto_offset_reset == RILL_OFFSET_RESET_EARLIEST
                               ? RILL_OFFSET_BEGINNING
                               : RILL_OFFSET_END);
            continue;
        }
        if (!rill__group_coordinator(c)) {
            if (c->cg == CG_NONE)
                c->cg = CG_FIND_COORD;
            return;
        }
        if (!rq) {
            rq = calloc(1, sizeof(*rq) + sizeof(ctp *) * (size_t)c->ntps);
            if (!rq)
                return;
            rq->c = c;
        }
        rq->tps[rq->n++] = tp;
        tp->op_inflight = true;
    }
    if (rq)
        rill__cluster_request(&c->cl, rill__group_coordinator(c), RILL_API_OFFSET_FETCH, 1,
                              OFETCH_MAX_VER, enc_ofetch, on_ofetch, rq,
                              c->conf->request_timeout_ms);
}
