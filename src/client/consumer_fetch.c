/*
 * consumer_fetch.c -- the consumer's fetcher (I/O thread): the ListOffsets
 * and Fetch requests, their encoding and their answers.  What an answer does
 * to a partition's position is fetch_pos.c's business.
 *
 * One Fetch request at a time per broker, covering every active, unpaused
 * partition it leads, while the prefetched bytes are under the bound; the
 * broker holds it up to fetch.wait.max.ms until fetch.min.bytes arrive.
 *
 * The next Fetch goes out as soon as an answer arrives, before its records
 * are checked and decoded: the batch headers say where the records end
 * (rill__fpos_records_end), so the broker reads and sends the next records
 * while this thread checks the CRCs of these.  If the records then stop
 * short of that (a corrupt batch, no memory), the position differs from
 * what the early request asked for and its answer is dropped as stale, as
 * after a seek.
 *
 * An answer whose records fill most of its receive buffer keeps that buffer
 * (rill__conn_take_rbuf) and its messages point into it: no copy of the
 * records.  Smaller answers are copied, so a small answer never pins a large
 * buffer.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/consumer_int.h"
#include "client/fetch_pos.h"
#include "common/clock.h"
#include "proto/api_fetch.h"
#include "proto/api_list_offsets.h"
#include "proto/fields.h"

/* Highest Fetch version used: v13+ names topics by id, which needs ids. */
#define FETCH_MAX_VER 12
/*
 * Highest ListOffsets version used.  v4+ adds leader epochs, which this
 * consumer does not use for fencing yet; librdkafka's mock cluster (2.0.2)
 * also writes the v4+ LeaderEpoch as an int64, which no conforming decoder
 * can read.
 */
#define LIST_OFFSETS_MAX_VER 3

/* An answer keeps its receive buffer when its records are at least this
 * large and fill at least half of it; smaller ones are cheaper to copy. */
#define TAKE_RBUF_MIN (64 * 1024)

/* ---- ListOffsets (resets) ------------------------------------------------------- */

typedef struct lo_req {
    rill_consumer_t *c;
    int n;
    struct {
        ctp *tp;
        int32_t version;  /* tp->version when asked: a seek makes the answer stale */
        int64_t reset_to; /* RILL_OFFSET_BEGINNING / END */
    } p[];
} lo_req;

static int enc_list_offsets(rill_buf *b, int16_t ver, void *opaque) {
    lo_req *rq = opaque;
    rill_list_offsets_req_topic *ts = calloc((size_t)rq->n, sizeof(*ts));
    rill_list_offsets_req_partition *ps = calloc((size_t)rq->n, sizeof(*ps));
    if (!ts || !ps) {
        free(ts);
        free(ps);
        return -1;
    }
    for (int i = 0; i < rq->n; i++) {
        ts[i].name = rill__str(rq->p[i].tp->topic);
        ts[i].partitions = &ps[i];
        ts[i].npartitions = 1;
        ps[i].partition_index = rq->p[i].tp->partition;
        ps[i].current_leader_epoch = -1;
        ps[i].timestamp = rq->p[i].reset_to == RILL_OFFSET_BEGINNING ? RILL_LIST_OFFSETS_EARLIEST
                                                                     : RILL_LIST_OFFSETS_LATEST;
        ps[i].max_num_offsets = 1;
    }
    rill_list_offsets_req req = {-1, 0, ts, rq->n};
    if (ver >= 2)
        req.isolation_level = (int8_t)rq->c->conf->isolation_level;
    int rc = rill__list_offsets_req_encode(b, ver, &req);
    free(ts);
    free(ps);
    return rc;
}

static int on_list_offsets(rill_conn *conn, int err, int16_t ver, rill_rd *body, void *opaque) {
    lo_req *rq = opaque;
    rill_consumer_t *c = rq->c;
    (void)conn;
    int rc = 0;
    rill_list_offsets_resp m;
    bool ok = false;
    if (!err) {
        rill__arena_reset(&c->arena);
        ok = rill__list_offsets_resp_decode(body, ver, &m, &c->arena) == 0;
        if (!ok)
            rc = -1;
    }
    int64_t now = rill__mono_us();
    int actions = 0;
    for (int i = 0; i < rq->n; i++) {
        ctp *tp = rq->p[i].tp;
        tp->op_inflight = false;
        int16_t perr = err ? RILL_ERR_TRANSPORT : RILL_ERR_BAD_MSG;
        int64_t off = -1;
        for (int32_t t = 0; ok && t < m.ntopics; t++) {
            if (!rill__str_eq(m.topics[t].name, tp->topic))
                continue;
            for (int32_t p = 0; p < m.topics[t].npartitions; p++) {
                rill_list_offsets_resp_partition *rp = &m.topics[t].partitions[p];
                if (rp->partition_index != tp->partition)
                    continue;
                perr = rp->error_code;
                off = ver == 0 ? (rp->nold_style_offsets > 0 ? rp->old_style_offsets[0] : -1)
                               : rp->offset;
            }
        }
        actions |= rill__fpos_reset_answer(c, tp, rq->p[i].version, perr, off, now);
    }
    if (actions & RILL_FPOS_REFRESH)
        rill__cluster_md_refresh(&c->cl, "ListOffsets failed", false);
    free(rq);
    return rc;
}

/* ---- Fetch ---------------------------------------------------------------------- */

typedef struct f_req {
    rill_consumer_t *c;
    int bidx;
    int n;
    struct {
        ctp *tp;
        int32_t version;
        int64_t offset;
        int64_t next; /* (answer) where its records end; -1: fetch it after the answer */
        const rill_fetch_resp_partition *rp;
    } p[];
} f_req;

static int enc_fetch(rill_buf *b, int16_t ver, void *opaque) {
    f_req *rq = opaque;
    rill_consumer_t *c = rq->c;
    rill_fetch_req_topic *ts = calloc((size_t)rq->n, sizeof(*ts));
    rill_fetch_req_partition *ps = calloc((size_t)rq->n, sizeof(*ps));
    if (!ts || !ps) {
        free(ts);
        free(ps);
        return -1;
    }
    int nt = 0;
    for (int i = 0; i < rq->n; i++) {
        /* Partitions of one topic were gathered next to each other. */
        if (!nt || strcmp(ts[nt - 1].topic.ptr, rq->p[i].tp->topic) != 0) {
            ts[nt].topic = rill__str(rq->p[i].tp->topic);
            ts[nt].partitions = &ps[i];
            nt++;
        }
        ts[nt - 1].npartitions++;
        ps[i].partition = rq->p[i].tp->partition;
        ps[i].current_leader_epoch = -1;
        ps[i].fetch_offset = rq->p[i].offset;
        ps[i].last_fetched_epoch = -1;
        ps[i].log_start_offset = -1;
        ps[i].partition_max_bytes = c->conf->max_partition_fetch_bytes;
    }
    rill_fetch_req req = {0};
    req.cluster_id = rill__str_null();
    req.replica_id = -1;
    req.replica_epoch = -1;
    req.max_wait_ms = c->conf->fetch_max_wait_ms;
    req.min_bytes = c->conf->fetch_min_bytes;
    req.max_bytes = c->conf->fetch_max_bytes;
    req.isolation_level = (int8_t)c->conf->isolation_level;
    req.session_id = 0;
    req.session_epoch = -1; /* no fetch session: full requests */
    req.topics = ts;
    req.ntopics = nt;
    req.rack_id = rill__str(c->conf->client_rack ? c->conf->client_rack : "");
    int rc = rill__fetch_req_encode(b, ver, &req);
    free(ts);
    free(ps);
    return rc;
}

static void fetch_broker(rill_consumer_t *c, int bi, int64_t now, size_t q_bytes,
                         const f_req *answered);

static const rill_fetch_resp_partition *find_partition(const rill_fetch_resp *m, const ctp *tp) {
    for (int32_t t = 0; t < m->ntopics; t++) {
        if (!rill__str_eq(m->topics[t].topic, tp->topic))
            continue;
        for (int32_t p = 0; p < m->topics[t].npartitions; p++)
            if (m->topics[t].partitions[p].partition == tp->partition)
                return &m->topics[t].partitions[p];
    }
    return NULL;
}

static int on_fetch(rill_conn *conn, int err, int16_t ver, rill_rd *body, void *opaque) {
    f_req *rq = opaque;
    rill_consumer_t *c = rq->c;
    if (rq->bidx < c->fetch_inflight_n)
        c->fetch_inflight[rq->bidx] = false;
    for (int i = 0; i < rq->n; i++)
        rq->p[i].tp->op_inflight = false;
    int rc = 0;
    rill_fetch_resp m;
    bool ok = false;
    if (!err) {
        rill__arena_reset(&c->arena);
        ok = rill__fetch_resp_decode(body, ver, &m, &c->arena) == 0;
        if (!ok)
            rc = -1;
    }
    int64_t now = rill__mono_us();
    if (ok && m.error_code) {
        RILL_LOG(&c->log, RILL_LOG_WARNING, "fetch", "Fetch failed: %s",
                 rill_err_name(m.error_code));
        ok = false;
    }

    /* Where each partition will be once this answer is taken, and how many
     * bytes of records it brings. */
    bool early = false;
    size_t rec_bytes = 0;
    for (int i = 0; i < rq->n; i++) {
        ctp *tp = rq->p[i].tp;
        rq->p[i].next = -1;
        rq->p[i].rp = NULL;
        if (!ok)
            continue;
        if (!rill__fpos_current(tp, rq->p[i].version, rq->p[i].offset)) {
            rq->p[i].next = tp->fetch_pos; /* the answer leaves it as it is */
            continue;
        }
        const rill_fetch_resp_partition *rp = find_partition(&m, tp);
        rq->p[i].rp = rp;
        if (!rp) {
            rq->p[i].next = tp->fetch_pos;
            continue;
        }
        if (rp->error_code)
            continue; /* the error may change its state: fetch it after */
        size_t len = rp->records.len > 0 ? (size_t)rp->records.len : 0;
        rq->p[i].next = rill__fpos_records_end(rp->records.ptr, len, rq->p[i].offset);
        rec_bytes += len;
        early = true;
    }

    /* Ask for what follows now, so the broker works while we decode. */
    if (early && rq->bidx < c->cl.nbrokers && rq->bidx < c->fetch_inflight_n) {
        pthread_mutex_lock(&c->lock);
        size_t q_bytes = c->q_bytes;
        pthread_mutex_unlock(&c->lock);
        fetch_broker(c, rq->bidx, now, q_bytes + rec_bytes, rq);
    }

    /* Keep the receive buffer rather than copy records that fill most of it. */
    rill_rbuf *rb = NULL;
    size_t cap = rill__conn_rbuf_size(conn);
    if (rec_bytes >= TAKE_RBUF_MIN && rec_bytes >= cap / 2 && (rb = rill__rbuf_get(c, cap))) {
        if (!rb->data && (rb->data = malloc(cap)) != NULL)
            rb->size = cap;
        size_t size;
        uint8_t *taken = rill__conn_swap_rbuf(conn, rb->data, rb->size, &size);
        if (taken) { /* rb now holds the answer; the connection, rb's old buffer */
            rb->data = taken;
            rb->size = size;
        } else {
            rill__rbuf_free(rb);
            rb = NULL;
        }
    }

    int actions = 0;
    for (int i = 0; i < rq->n; i++) {
        ctp *tp = rq->p[i].tp;
        if (ok && !rq->p[i].rp)
            continue; /* stale, or not in the answer */
        actions |= rill__fpos_fetch_answer(c, tp, rq->p[i].version, rq->p[i].offset,
                                           ok ? rq->p[i].rp : NULL, rb, now);
    }
    rill__rbuf_release(rb);
    if (actions & RILL_FPOS_REFRESH)
        rill__cluster_md_refresh(&c->cl, "fetch error", true);
    free(rq);
    rill__loop_wakeup(c->loop);
    return rc;
}

void rill__fetch_broker_down(rill_consumer_t *c, rill_cbroker *b) {
    (void)c;
    (void)b;
}

static int32_t leader_of(rill_consumer_t *c, ctp *tp) {
    rill_mtopic *mt = rill__cluster_topic_find(&c->cl, tp->topic);
    if (!mt || tp->partition >= mt->npart)
        return -1;
    return mt->parts[tp->partition].leader;
}

/* tp's entry in the request being answered, or -1. */
static int answered_index(const f_req *a, const ctp *tp) {
    for (int k = 0; k < a->n; k++)
        if (a->p[k].tp == tp)
            return k;
    return -1;
}

/*
 * Broker bi's requests: one ListOffsets for its partitions that need a
 * reset, and one Fetch for its active ones unless a Fetch is in flight or
 * the prefetched bytes (q_bytes) reached the bound.  `answered` is the
 * request whose answer is being handled, when called from on_fetch: its
 * partitions are fetched from where that answer leaves them, and those for
 * which that is not known yet wait for the next round.
 */
static void fetch_broker(rill_consumer_t *c, int bi, int64_t now, size_t q_bytes,
                         const f_req *answered) {
    rill_cbroker *b = c->cl.brokers[bi];
    if (b->id < 0)
        return;
    size_t max_q = (size_t)c->conf->queued_max_messages_kbytes * 1024;
    lo_req *lr = NULL;
    f_req *fr = NULL;
    for (int i = 0; i < c->ntps; i++) {
        ctp *tp = c->tps[i];
        rill_fpos_op op = rill__fpos_want(tp, now);
        if (op == RILL_FPOS_IDLE)
            continue;
        int32_t leader = leader_of(c, tp);
        if (leader < 0) {
            rill__cluster_topic(&c->cl, tp->topic);
            rill__cluster_md_refresh(&c->cl, "no leader for assigned partition", false);
            continue;
        }
        if (leader != b->id)
            continue;
        if (op == RILL_FPOS_LIST_OFFSETS) {
            if (!lr) {
                lr = calloc(1, sizeof(*lr) + sizeof(lr->p[0]) * (size_t)c->ntps);
                if (!lr)
                    continue;
                lr->c = c;
            }
            lr->p[lr->n].tp = tp;
            lr->p[lr->n].version = tp->version;
            lr->p[lr->n].reset_to = tp->reset_to;
            lr->n++;
            tp->op_inflight = true;
            continue;
        }
        if (c->fetch_inflight[bi] || q_bytes >= max_q)
            continue;
        int64_t offset = tp->fetch_pos;
        int k = answered ? answered_index(answered, tp) : -1;
        if (k >= 0) {
            if (answered->p[k].next < 0)
                continue;
            offset = answered->p[k].next;
        }
        if (!fr) {
            fr = calloc(1, sizeof(*fr) + sizeof(fr->p[0]) * (size_t)c->ntps);
            if (!fr)
                continue;
            fr->c = c;
            fr->bidx = bi;
        }
        /* Group a topic's partitions together. */
        int at = fr->n;
        for (int j = 0; j < fr->n; j++)
            if (!strcmp(fr->p[j].tp->topic, tp->topic))
                at = j + 1;
        memmove(&fr->p[at + 1], &fr->p[at], sizeof(fr->p[0]) * (size_t)(fr->n - at));
        fr->p[at].tp = tp;
        fr->p[at].version = tp->version;
        fr->p[at].offset = offset;
        fr->n++;
    }
    if (lr)
        rill__cluster_request(&c->cl, b, RILL_API_LIST_OFFSETS, 1, LIST_OFFSETS_MAX_VER,
                              enc_list_offsets, on_list_offsets, lr, c->conf->request_timeout_ms);
    if (fr) {
        for (int j = 0; j < fr->n; j++)
            fr->p[j].tp->op_inflight = true;
        c->fetch_inflight[bi] = true;
        rill__cluster_request(&c->cl, b, RILL_API_FETCH, 4, FETCH_MAX_VER, enc_fetch, on_fetch, fr,
                              c->conf->request_timeout_ms + c->conf->fetch_max_wait_ms);
    }
}

void rill__fetch_step(rill_consumer_t *c, int64_t now) {
    if (c->fetch_inflight_n < c->cl.nbrokers) {
        bool *n = realloc(c->fetch_inflight, sizeof(*n) * (size_t)c->cl.nbrokers);
        if (!n)
            return;
        for (int i = c->fetch_inflight_n; i < c->cl.nbrokers; i++)
            n[i] = false;
        c->fetch_inflight = n;
        c->fetch_inflight_n = c->cl.nbrokers;
    }
    pthread_mutex_lock(&c->lock);
    size_t q_bytes = c->q_bytes;
    pthread_mutex_unlock(&c->lock);
    for (int bi = 0; bi < c->cl.nbrokers; bi++)
        fetch_broker(c, bi, now, q_bytes, NULL);
}
