/*
 * sender.c -- the producer's I/O thread: closes batches when they are full
 * or their linger.ms has passed, compresses them, groups them by partition
 * leader into Produce requests, and turns responses into delivery reports,
 * retries or metadata refreshes.
 *
 * Idempotence follows the Java client, with one batch in flight per
 * partition so that order never depends on the broker.  Each partition keeps its
 * unacknowledged batches in one queue in send order.  With idempotence a
 * batch gets its sequence numbers when it is first sent and keeps them
 * across retries, so the broker can drop duplicates; when a batch must be
 * resent, the partition first waits for its other in-flight batches to come
 * back, then resends from the front of the queue, in order.  When the
 * broker has lost the producer's state (UNKNOWN_PRODUCER_ID, or an
 * OUT_OF_ORDER_SEQUENCE_NUMBER on the first unacknowledged batch) or a sent
 * batch expires, the producer gets a new epoch (InitProducerId) and the
 * unacknowledged batches are renumbered from zero.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/producer_int.h"
#include "common/clock.h"
#include "proto/api_init_producer_id.h"
#include "proto/api_produce.h"
#include "proto/fields.h"

#define MAX_REQUEST_BYTES (32 * 1024 * 1024)

typedef struct preq {
    rill_producer_t *p;
    rill_cbroker *broker;
    int16_t acks;
    int n;
    pbatch *b[];
} preq;

static void q_push(ppart *pp, pbatch *b) {
    b->next = NULL;
    if (pp->q_tail)
        pp->q_tail->next = b;
    else
        pp->q_head = b;
    pp->q_tail = b;
}

static void q_remove(ppart *pp, pbatch *b) {
    pbatch **pp_next = &pp->q_head, *prev = NULL;
    while (*pp_next && *pp_next != b) {
        prev = *pp_next;
        pp_next = &(*pp_next)->next;
    }
    if (!*pp_next)
        return;
    *pp_next = b->next;
    if (pp->q_tail == b)
        pp->q_tail = prev;
    b->next = NULL;
}

static ppart *part_of(pbatch *b) { return &b->t->parts[b->partition]; }

/* ---- unassigned messages -------------------------------------------------- */

/* Replays the messages that waited for the topic's partition count. */
static void ua_drain_locked(rill_producer_t *p, ptopic *t, int64_t now, bool fail, int err) {
    rill_rd r;
    rill__rd_init(&r, t->ua.data, t->ua.len);
    int32_t done = 0;
    size_t consumed = 0;
    static __thread ua_msg m; /* large: keep it off the I/O thread's stack */
    for (; done < t->ua_cnt; done++) {
        if (rill__ua_next(&r, &m) != 0)
            break;
        int32_t part = m.part, klen = m.klen;
        const uint8_t *key = m.key;
        uint64_t bytes = (uint64_t)(klen > 0 ? klen : 0) + (uint64_t)(m.vlen > 0 ? m.vlen : 0);
        bool expired = p->conf->delivery_timeout_ms > 0 &&
                       now - m.enq_us >= (int64_t)p->conf->delivery_timeout_ms * 1000;
        int e = 0;
        if (fail)
            e = err;
        else if (expired)
            e = RILL_ERR_TIMED_OUT;
        else if (t->npart == 0)
            break; /* keep waiting, in order */
        if (!e) {
            int32_t pt = part == RILL_PARTITION_ANY
                             ? rill__partition_pick(p, t, key, klen > 0 ? (size_t)klen : 0, now)
                             : part;
            if (pt < 0 || pt >= t->npart)
                e = RILL_ERR_UNKNOWN_PARTITION;
            else
                e = rill__producer_append_locked(p, t, pt, key, klen, m.val, m.vlen, m.hs,
                                                 (size_t)m.nkept, m.ts, m.opaque, now);
            part = pt;
        }
        if (e)
            rill__producer_report_one(p, t, part, m.ts, m.opaque, bytes, e);
        consumed = (size_t)(r.p - t->ua.data);
    }
    rill__buf_consume(&t->ua, consumed);
    t->ua_cnt -= done;
    if (!t->ua_cnt)
        rill__buf_reset(&t->ua);
}

/* ---- metadata ----------------------------------------------------------- */

void rill__sender_on_metadata(void *owner, rill_cluster *cl) {
    rill_producer_t *p = owner;
    int64_t now = rill__mono_us();
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->ntopics; i++) {
        ptopic *t = p->topics[i];
        rill_mtopic *mt = rill__cluster_topic_find(cl, t->name);
        if (!mt || !mt->updated_us)
            continue;
        t->md_err = mt->err;
        if (mt->npart > t->npart) {
            ppart *np = realloc(t->parts, sizeof(*np) * (size_t)mt->npart);
            if (np) {
                for (int32_t k = t->npart; k < mt->npart; k++) {
                    memset(&np[k], 0, sizeof(np[k]));
                    np[k].id = k;
                    np[k].leader = -1;
                }
                /* Batches point at their topic, not their partition struct,
                 * so moving the array is safe. */
                t->parts = np;
                t->npart = mt->npart;
            }
        }
        for (int32_t k = 0; k < t->npart && k < mt->npart; k++)
            t->parts[k].leader = mt->parts[k].leader;
        if (mt->npart > 0)
            t->unknown_since_us = 0;
        else if (mt->err && !t->unknown_since_us)
            t->unknown_since_us = now;
        if (mt->err == RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION ||
            mt->err == RILL_ERR_LEADER_NOT_AVAILABLE)
            rill__cluster_md_refresh(cl, "topic not ready", false);
        if (t->ua_cnt) {
            bool fail = false;
            int err = 0;
            if (mt->err == RILL_ERR_TOPIC_AUTHORIZATION_FAILED ||
                mt->err == RILL_ERR_INVALID_TOPIC_EXCEPTION) {
                fail = true;
                err = mt->err;
            }
            ua_drain_locked(p, t, now, fail, err);
        }
    }
    pthread_mutex_unlock(&p->lock);
}

void rill__sender_on_broker_up(void *owner, rill_cbroker *b) {
    (void)owner;
    (void)b;
}

/* ---- collecting batches ----------------------------------------------------- */

static int64_t collect(rill_producer_t *p, int64_t now) {
    int64_t next = INT64_MAX;
    bool flush = atomic_load(&p->flush_req) > 0 || atomic_load(&p->stop);
    pthread_mutex_lock(&p->lock);
    for (int i = 0; i < p->ntopics; i++) {
        ptopic *t = p->topics[i];
        if (t->ua_cnt)
            ua_drain_locked(p, t, now, false, 0);
        if (t->npart == 0 && !rill__cluster_topic_find(&p->cl, t->name)) {
            rill__cluster_topic(&p->cl, t->name);
        }
        for (int32_t k = 0; k < t->npart; k++) {
            ppart *pp = &t->parts[k];
            pbatch *b = pp->open;
            if (!b)
                continue;
            int64_t due = b->first_us + p->linger_us;
            if (flush || due <= now) {
                pp->open = NULL;
                if (p->closed_tail)
                    p->closed_tail->next = b;
                else
                    p->closed_head = b;
                p->closed_tail = b;
            } else if (due < next) {
                next = due;
            }
        }
    }
    pbatch *list = p->closed_head;
    p->closed_head = p->closed_tail = NULL;
    pthread_mutex_unlock(&p->lock);

    while (list) {
        pbatch *b = list;
        list = b->next;
        int rc = rill__batch_finish(&b->bb, p->conf->compression, p->conf->compression_level,
                                    &p->codecs, &p->scratch);
        if (rc != 0) {
            RILL_LOG(&p->log, RILL_LOG_ERR, "producer", "%s [%d]: cannot finish batch: %s",
                     b->t->name, b->partition, rill_err_name(rc));
            rill__producer_report(p, b, rc);
            continue;
        }
        b->finished = true;
        q_push(part_of(b), b);
    }
    return next;
}

/* ---- expiry -------------------------------------------------------------- */

static void expire(rill_producer_t *p, int64_t now) {
    for (int i = 0; i < p->ntopics; i++) {
        ptopic *t = p->topics[i];
        for (int32_t k = 0; k < t->npart; k++) {
            ppart *pp = &t->parts[k];
            pbatch *b = pp->q_head;
            while (b) {
                pbatch *n = b->next;
                if (b->state == PB_WAITING && b->expire_us <= now) {
                    if (b->base_seq >= 0 && p->idemp == IDEMP_ASSIGNED) {
                        /* A sent batch is given up: the broker may hold part
                         * of the sequence, so start a new epoch. */
                        p->idemp = IDEMP_NEED_PID;
                    }
                    q_remove(pp, b);
                    RILL_LOG(&p->log, RILL_LOG_DEBUG, "producer",
                             "%s [%d]: %d message(s) timed out", t->name, k, b->cnt);
                    rill__producer_report(p, b, RILL_ERR_TIMED_OUT);
                }
                b = n;
            }
        }
    }
}

/* ---- idempotence ---------------------------------------------------------- */

static int enc_init_pid(rill_buf *b, int16_t ver, void *opaque) {
    rill_producer_t *p = opaque;
    rill_init_producer_id_req req = {rill__str_null(), -1, -1, -1};
    req.transaction_timeout_ms = 60000;
    if (ver >= 3 && p->pid >= 0) {
        /* KIP-360: bump the epoch of our own producer id. */
        req.producer_id = p->pid;
        req.producer_epoch = p->epoch;
    }
    return rill__init_producer_id_req_encode(b, ver, &req);
}

static void reset_sequences(rill_producer_t *p) {
    for (int i = 0; i < p->ntopics; i++) {
        ptopic *t = p->topics[i];
        for (int32_t k = 0; k < t->npart; k++) {
            ppart *pp = &t->parts[k];
            pp->next_seq = 0;
            pp->retrying = false;
            for (pbatch *b = pp->q_head; b; b = b->next)
                b->base_seq = -1;
        }
    }
}

static int on_init_pid(rill_conn *c, int err, int16_t ver, rill_rd *body, void *opaque) {
    rill_producer_t *p = opaque;
    (void)c;
    if (err) {
        p->idemp = IDEMP_NEED_PID;
        p->idemp_retry_us = rill__mono_us() + (int64_t)p->conf->retry_backoff_ms * 1000;
        return 0;
    }
    rill__arena_reset(&p->arena);
    rill_init_producer_id_resp m;
    if (rill__init_producer_id_resp_decode(body, ver, &m, &p->arena) != 0) {
        p->idemp = IDEMP_NEED_PID;
        return -1;
    }
    if (m.error_code) {
        RILL_LOG(&p->log, RILL_LOG_WARNING, "eos", "InitProducerId failed: %s",
                 rill_err_name(m.error_code));
        if (p->pid >= 0 && !rill_err_is_retriable(m.error_code)) {
            /* The broker would not bump our epoch (e.g. an older broker, or
             * INVALID_PRODUCER_ID_MAPPING): ask for a fresh producer id. */
            p->pid = -1;
            p->epoch = -1;
            p->idemp = IDEMP_NEED_PID;
            return 0;
        }
        if (!rill_err_is_retriable(m.error_code) &&
            m.error_code != RILL_ERR_COORDINATOR_LOAD_IN_PROGRESS &&
            m.error_code != RILL_ERR_NOT_COORDINATOR &&
            m.error_code != RILL_ERR_INVALID_PRODUCER_EPOCH &&
            m.error_code != RILL_ERR_PRODUCER_FENCED) {
            p->idemp = IDEMP_FATAL;
            p->fatal = true;
            snprintf(p->fatal_reason, sizeof(p->fatal_reason), "InitProducerId: %s",
                     rill_err_name(m.error_code));
            return 0;
        }
        if (m.error_code == RILL_ERR_INVALID_PRODUCER_EPOCH ||
            m.error_code == RILL_ERR_PRODUCER_FENCED)
            p->pid = -1; /* ask for a fresh id */
        p->idemp = IDEMP_NEED_PID;
        p->idemp_retry_us = rill__mono_us() + (int64_t)p->conf->retry_backoff_ms * 1000;
        return 0;
    }
    RILL_LOG(&p->log, RILL_LOG_DEBUG, "eos", "producer id %" PRId64 " epoch %d", m.producer_id,
             m.producer_epoch);
    p->pid = m.producer_id;
    p->epoch = m.producer_epoch;
    p->idemp = IDEMP_ASSIGNED;
    reset_sequences(p);
    return 0;
}

static void idempotence_step(rill_producer_t *p, int64_t now) {
    if (p->idemp != IDEMP_NEED_PID || now < p->idemp_retry_us)
        return;
    if (p->inflight_reqs > 0)
        return; /* drain first: responses may still move sequences */
    rill_cbroker *b = rill__cluster_any_broker(&p->cl, true);
    if (!b)
        return;
    p->idemp = IDEMP_REQUESTING;
    rill__cluster_request(&p->cl, b, RILL_API_INIT_PRODUCER_ID, 0, RILL_INIT_PRODUCER_ID_MAX_VER,
                          enc_init_pid, on_init_pid, p, p->conf->request_timeout_ms);
}

/* ---- responses ------------------------------------------------------------ */

static void retry_batch(rill_producer_t *p, pbatch *b, int err, int64_t now) {
    ppart *pp = part_of(b);
    b->state = PB_WAITING;
    b->attempts++;
    atomic_fetch_add(&p->st_retries, 1);
    int64_t backoff = (int64_t)p->conf->retry_backoff_ms
                      << (b->attempts > 10 ? 10 : b->attempts - 1);
    if (backoff > p->conf->retry_backoff_max_ms)
        backoff = p->conf->retry_backoff_max_ms;
    b->retry_at_us = now + backoff * 1000;
    if (p->idemp != IDEMP_OFF)
        pp->retrying = true;
    RILL_LOG(&p->log, RILL_LOG_DEBUG, "producer",
             "%s [%d]: retrying %d message(s) (attempt %d): %s", b->t->name, b->partition, b->cnt,
             b->attempts + 1, rill_err_name(err));
}

static void batch_done(rill_producer_t *p, pbatch *b, int err) {
    ppart *pp = part_of(b);
    q_remove(pp, b);
    rill__producer_report(p, b, err);
}

/* Is b the first unacknowledged batch of its partition? */
static bool is_first(pbatch *b) { return part_of(b)->q_head == b; }

static void handle_partition(rill_producer_t *p, pbatch *b, int err, int64_t base_offset,
                             int64_t append_time, const char *msg, int64_t now) {
    ppart *pp = part_of(b);
    pp->inflight--;
    if (b->state != PB_INFLIGHT)
        return;
    if (err == 0 || err == RILL_ERR_DUPLICATE_SEQUENCE_NUMBER) {
        b->base_offset = err ? -1 : base_offset;
        b->append_time = append_time;
        batch_done(p, b, 0);
        return;
    }
    bool can_retry = p->conf->retries > b->attempts && now < b->expire_us;
    switch (err) {
    case RILL_ERR_UNKNOWN_PRODUCER_ID:
    case RILL_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER:
        if (p->idemp == IDEMP_OFF)
            break;
        if (err == RILL_ERR_UNKNOWN_PRODUCER_ID || is_first(b)) {
            /* The broker has lost (or never had) our sequence state. */
            RILL_LOG(&p->log, RILL_LOG_WARNING, "eos", "%s [%d]: %s: starting a new producer epoch",
                     b->t->name, b->partition, rill_err_name(err));
            if (p->idemp == IDEMP_ASSIGNED)
                p->idemp = IDEMP_NEED_PID;
        }
        if (now < b->expire_us) {
            retry_batch(p, b, err, now);
            return;
        }
        break;
    case RILL_ERR_INVALID_PRODUCER_EPOCH:
    case RILL_ERR_PRODUCER_FENCED:
        if (p->idemp != IDEMP_OFF && now < b->expire_us) {
            if (p->idemp == IDEMP_ASSIGNED)
                p->idemp = IDEMP_NEED_PID;
            retry_batch(p, b, err, now);
            return;
        }
        break;
    case RILL_ERR_NOT_LEADER_OR_FOLLOWER:
    case RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION:
    case RILL_ERR_LEADER_NOT_AVAILABLE:
    case RILL_ERR_FENCED_LEADER_EPOCH:
    case RILL_ERR_UNKNOWN_LEADER_EPOCH:
    case RILL_ERR_NOT_ENOUGH_REPLICAS:
    case RILL_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case RILL_ERR_KAFKA_STORAGE_ERROR:
        rill__cluster_md_refresh(&p->cl, rill_err_name(err), true);
        /* fall through */
    default:
        if (err < RILL_ERR__BEGIN || rill_err_is_retriable(err)) {
            if (can_retry) {
                retry_batch(p, b, err, now);
                return;
            }
            if (now >= b->expire_us)
                err = RILL_ERR_TIMED_OUT == err ? err : err;
        }
        break;
    }
    if (b->base_seq >= 0 && p->idemp == IDEMP_ASSIGNED) {
        if (err > 0) {
            /* The broker answered with an error: the batch was not appended,
             * so the batches behind it take over its sequence numbers (as the
             * Java client adjusts them); with one batch in flight per
             * partition none of them has been sent yet. */
            ppart *pp = part_of(b);
            pp->next_seq = b->base_seq;
            for (pbatch *x = pp->q_head; x; x = x->next)
                if (x != b)
                    x->base_seq = -1;
        } else {
            /* Unknown outcome (timeout, lost connection): the broker may hold
             * the sequence, so start a new epoch. */
            p->idemp = IDEMP_NEED_PID;
        }
    }
    RILL_LOG(&p->log, RILL_LOG_WARNING, "producer", "%s [%d]: %d message(s) failed: %s%s%s",
             b->t->name, b->partition, b->cnt, rill_err_name(err), msg ? ": " : "", msg ? msg : "");
    batch_done(p, b, err);
}

static int on_produce(rill_conn *c, int err, int16_t ver, rill_rd *body, void *opaque) {
    preq *rq = opaque;
    rill_producer_t *p = rq->p;
    int64_t now = rill__mono_us();
    (void)c;
    p->inflight_reqs--;
    if (!err && rq->broker) {
        int64_t rtt = rill__conn_last_rtt_us(rq->broker->conn);
        rq->broker->rtt_cnt++;
        rq->broker->rtt_sum_us += rtt;
        if (rtt > rq->broker->rtt_max_us)
            rq->broker->rtt_max_us = rtt;
    }
    int rc = 0;
    rill_produce_resp m;
    bool ok = false;
    if (!err) {
        rill__arena_reset(&p->arena);
        ok = rill__produce_resp_decode(body, ver, &m, &p->arena) == 0 && rill__rd_remain(body) == 0;
        if (!ok) {
            rc = -1;
            err = RILL_ERR_BAD_MSG;
        }
    }
    for (int i = 0; i < rq->n; i++) {
        pbatch *b = rq->b[i];
        int perr = err;
        int64_t off = -1, at = -1;
        const char *msg = NULL;
        char msgbuf[256];
        if (ok) {
            perr = RILL_ERR_BAD_MSG; /* unless the response names the partition */
            for (int32_t ti = 0; ti < m.ntopics; ti++) {
                if (!rill__str_eq(m.topics[ti].name, b->t->name))
                    continue;
                for (int32_t pi = 0; pi < m.topics[ti].npartitions; pi++) {
                    rill_produce_resp_partition *rp = &m.topics[ti].partitions[pi];
                    if (rp->index != b->partition)
                        continue;
                    perr = rp->error_code;
                    off = rp->base_offset;
                    at = rp->log_append_time_ms;
                    if (rp->error_message.len > 0) {
                        snprintf(msgbuf, sizeof(msgbuf), "%.*s", (int)rp->error_message.len,
                                 rp->error_message.ptr);
                        msg = msgbuf;
                    }
                }
            }
        }
        handle_partition(p, b, perr, off, at, msg, now);
    }
    free(rq);
    rill__loop_wakeup(p->loop);
    return rc;
}

/* ---- sending -------------------------------------------------------------- */

/* The next batch of a partition that may be sent now, or NULL. */
static pbatch *sendable(rill_producer_t *p, ppart *pp, int32_t broker, int64_t now) {
    if (p->idemp != IDEMP_OFF && p->idemp != IDEMP_ASSIGNED)
        return NULL;
    /* After a leader move, let the old leader answer first: a batch sent to
     * the new leader could otherwise overtake one the old leader rejects. */
    if (pp->inflight > 0 && pp->inflight_to != broker)
        return NULL;
    if (pp->retrying) {
        if (pp->inflight > 0)
            return NULL; /* wait for every in-flight batch to come back */
        pp->retrying = false;
    }
    /*
     * With idempotence a partition has one batch in flight at a time, so a
     * batch that must be retried can never be overtaken, whether or not the
     * broker checks sequence numbers (librdkafka's mock cluster does not for
     * non-transactional producers).  It costs little: a partition still
     * moves batch.size bytes per round trip, and other partitions fill the
     * connection's max.in.flight requests.  Without idempotence, up to
     * max.in.flight batches per partition, as the Java client (which may
     * reorder on retry, as documented for that setting).
     */
    int limit = p->idemp != IDEMP_OFF ? 1 : p->conf->max_in_flight;
    if (pp->inflight >= limit)
        return NULL;
    for (pbatch *b = pp->q_head; b; b = b->next) {
        if (b->state == PB_INFLIGHT)
            continue;
        if (b->retry_at_us > now)
            return NULL; /* keep order: nothing behind it goes first */
        return b;
    }
    return NULL;
}

static void send_to_broker(rill_producer_t *p, rill_cbroker *br, int64_t now) {
    int16_t ver = rill__cbroker_pick(br, RILL_API_PRODUCE, 3, RILL_PRODUCE_MAX_VER);
    if (ver < 0) {
        RILL_LOG(&p->log, RILL_LOG_ERR, "producer",
                 "%s: broker does not support Produce v3+ (record batch v2)", br->name);
        return;
    }
    while (rill__conn_inflight(br->conn) < p->conf->max_in_flight) {
        /* Gather one batch per partition led by this broker. */
        int cap = 16, n = 0;
        preq *rq = malloc(sizeof(*rq) + sizeof(pbatch *) * (size_t)cap);
        if (!rq)
            return;
        size_t total = 0;
        int ntopics = 0;
        for (int i = 0; i < p->ntopics; i++) {
            ptopic *t = p->topics[i];
            bool any = false;
            for (int32_t k = 0; k < t->npart; k++) {
                ppart *pp = &t->parts[k];
                if (pp->leader != br->id || !pp->q_head)
                    continue;
                pbatch *b = sendable(p, pp, br->id, now);
                if (!b)
                    continue;
                if (n > 0 && total + b->bb.buf.len > MAX_REQUEST_BYTES)
                    break;
                if (n == cap) {
                    cap *= 2;
                    preq *nr = realloc(rq, sizeof(*rq) + sizeof(pbatch *) * (size_t)cap);
                    if (!nr)
                        break;
                    rq = nr;
                }
                rq->b[n++] = b;
                total += b->bb.buf.len;
                any = true;
            }
            ntopics += any;
        }
        if (!n) {
            free(rq);
            return;
        }
        /* Stamp producer id and sequences on first send (or after a reset). */
        for (int i = 0; i < n; i++) {
            pbatch *b = rq->b[i];
            ppart *pp = part_of(b);
            if (p->idemp == IDEMP_ASSIGNED) {
                if (b->base_seq < 0) {
                    b->base_seq = pp->next_seq;
                    pp->next_seq = (int32_t)(((int64_t)pp->next_seq + b->cnt) & INT32_MAX);
                }
                rill__batch_builder_set_producer(&b->bb, p->pid, p->epoch, b->base_seq);
            }
        }
        rq->p = p;
        rq->broker = br;
        rq->acks = (int16_t)p->conf->acks;
        rq->n = n;
        /* acks=0 gets no response, so its batches are done once queued: copied. */
        bool expect = rq->acks != 0;
        rill_buf *buf = rill__conn_req_begin(br->conn, RILL_API_PRODUCE, ver);
        rill_produce_writer w;
        rill__produce_req_begin(&w, buf, ver, rill__str_null(), rq->acks,
                                p->conf->request_timeout_ms, ntopics);
        /* Batches were gathered topic by topic, so each topic's run is contiguous. */
        for (int i = 0; i < n;) {
            int j = i;
            while (j < n && rq->b[j]->t == rq->b[i]->t)
                j++;
            rill__produce_req_topic(&w, rill__str(rq->b[i]->t->name), j - i);
            for (int k = i; k < j; k++) {
                const rill_buf *bb = &rq->b[k]->bb.buf;
                if (!expect) {
                    rill__produce_req_partition(&w, rq->b[k]->partition, bb->data,
                                                (int32_t)bb->len);
                    continue;
                }
                /* The batch stays put until on_produce: no copy into the request. */
                rill__produce_req_partition_begin(&w, rq->b[k]->partition, (int32_t)bb->len);
                if (rill__conn_req_ref(br->conn, bb->data, bb->len) == 0)
                    rill__produce_req_partition_apart(&w, bb->len);
                rill__produce_req_partition_end(&w);
            }
            i = j;
        }
        if (rill__produce_req_end(&w) != 0 ||
            rill__conn_req_end(br->conn, on_produce, rq, p->conf->request_timeout_ms + 5000,
                               expect) != 0) {
            rill__conn_req_abort(br->conn);
            RILL_LOG(&p->log, RILL_LOG_ERR, "producer", "%s: cannot encode Produce request",
                     br->name);
            for (int i = 0; i < n; i++)
                batch_done(p, rq->b[i], RILL_ERR_INVALID_ARG);
            free(rq);
            return;
        }
        br->req_cnt++;
        atomic_fetch_add(&p->st_requests_sent, 1);
        atomic_fetch_add(&p->st_batches_sent, (uint64_t)n);
        for (int i = 0; i < n; i++) {
            pbatch *b = rq->b[i];
            atomic_fetch_add(&p->st_msgs_sent, (uint64_t)b->cnt);
            atomic_fetch_add(&p->st_bytes_sent, b->bytes);
            b->state = PB_INFLIGHT;
            part_of(b)->inflight++;
            part_of(b)->inflight_to = br->id;
        }
        if (expect) {
            p->inflight_reqs++;
        } else {
            /* acks=0: written is all we will ever know. */
            for (int i = 0; i < n; i++) {
                part_of(rq->b[i])->inflight--;
                batch_done(p, rq->b[i], 0);
            }
            free(rq);
        }
        if (rill__conn_state(br->conn) != RILL_CONN_UP)
            return;
    }
}

static void send_all(rill_producer_t *p, int64_t now) {
    /* Make sure the leaders of partitions with data are connected. */
    for (int i = 0; i < p->ntopics; i++) {
        ptopic *t = p->topics[i];
        for (int32_t k = 0; k < t->npart; k++) {
            ppart *pp = &t->parts[k];
            if (!pp->q_head)
                continue;
            if (pp->leader < 0) {
                rill__cluster_md_refresh(&p->cl, "partition without leader", false);
                continue;
            }
            rill_cbroker *b = rill__cluster_broker(&p->cl, pp->leader);
            if (!b)
                rill__cluster_md_refresh(&p->cl, "unknown leader", true);
            else if (b->state == RILL_CB_DOWN)
                rill__cluster_want(&p->cl, b);
        }
    }
    for (int i = 0; i < p->cl.nbrokers; i++) {
        rill_cbroker *b = p->cl.brokers[i];
        if (b->state == RILL_CB_UP && b->id >= 0)
            send_to_broker(p, b, now);
    }
}

static void publish_broker_stats(rill_producer_t *p, int64_t now) {
    if (now < p->broker_stats_next_us)
        return;
    p->broker_stats_next_us = now + 1000000;
    char tmp[sizeof(p->broker_stats)];
    size_t n = 0;
    for (int i = 0; i < p->cl.nbrokers && n < sizeof(tmp); i++) {
        rill_cbroker *b = p->cl.brokers[i];
        int w = snprintf(tmp + n, sizeof(tmp) - n,
                         "%s{\"name\":\"%s\",\"nodeid\":%d,\"state\":%d,\"requests\":%" PRIu64
                         ",\"rtt_avg_us\":%lld,\"rtt_max_us\":%lld}",
                         n ? "," : "", b->name, b->id, (int)b->state, b->req_cnt,
                         (long long)(b->rtt_cnt ? b->rtt_sum_us / (int64_t)b->rtt_cnt : 0),
                         (long long)b->rtt_max_us);
        if (w < 0 || (size_t)w >= sizeof(tmp) - n)
            break;
        n += (size_t)w;
    }
    tmp[n] = 0;
    pthread_mutex_lock(&p->lock);
    memcpy(p->broker_stats, tmp, n + 1);
    pthread_mutex_unlock(&p->lock);
}

static bool has_pending(rill_producer_t *p) {
    for (int i = 0; i < p->ntopics; i++) {
        ptopic *t = p->topics[i];
        for (int32_t k = 0; k < t->npart; k++)
            if (t->parts[k].q_head)
                return true;
    }
    return false;
}

void *rill__sender_main(void *arg) {
    rill_producer_t *p = arg;
    while (!atomic_load(&p->stop)) {
        int64_t now = rill__mono_us();
        int64_t next = collect(p, now);
        expire(p, now);
        idempotence_step(p, now);
        send_all(p, now);
        rill__cluster_tick(&p->cl, now);
        publish_broker_stats(p, now);

        int64_t cw = rill__cluster_next_wakeup(&p->cl, now);
        if (cw < next)
            next = cw;
        if (has_pending(p) && next > now + 10000)
            next = now + 10000; /* retries and backoffs: re-check soon */
        int64_t wait_us = next - now;
        if (wait_us < 0)
            wait_us = 0;
        if (wait_us > 1000000)
            wait_us = 1000000;
        rill__loop_step(p->loop, (int)((wait_us + 999) / 1000));
    }
    return NULL;
}
