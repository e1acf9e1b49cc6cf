/*
 * consumer_fetch.c -- the consumer's fetcher (I/O thread).
 *
 * One Fetch request at a time per broker, covering every active, unpaused
 * partition it leads whose prefetched bytes are under the bound; the
 * broker holds it up to fetch.wait.max.ms until fetch.min.bytes arrive.
 * Each partition's records are copied once into a chunk, decoded into
 * message structs that point into it, and queued for the application.
 * Every batch's CRC is checked: a corrupt batch becomes an error event and
 * the partition stops until the application seeks, so nothing is silently
 * delivered or skipped.  Control batches are skipped; under read_committed
 * the batches of aborted transactions are dropped, using the response's
 * aborted-transaction list as the Java consumer does.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/consumer_int.h"
#include "common/clock.h"
#include "proto/api_fetch.h"
#include "proto/api_list_offsets.h"
#include "proto/fields.h"
#include "proto/msgset_legacy.h"

/* Highest Fetch version used: v13+ names topics by id, which needs ids. */
#define FETCH_MAX_VER 12
/*
 * Highest ListOffsets version used.  v4+ adds leader epochs, which this
 * consumer does not use for fencing yet; librdkafka's mock cluster (2.0.2)
 * also writes the v4+ LeaderEpoch as an int64, which no conforming decoder
 * can read.
 */
#define LIST_OFFSETS_MAX_VER 3

/* ---- partition start / stop ------------------------------------------------ */

/* Backs a partition off after a failed request: retry.backoff.ms doubling up
 * to retry.backoff.max.ms, so a broken peer is not hammered. */
void rill__tp_backoff(rill_consumer_t *c, ctp *tp, int64_t now) {
    int64_t ms = (int64_t)c->conf->retry_backoff_ms << (tp->fails < 10 ? tp->fails : 10);
    if (ms > c->conf->retry_backoff_max_ms)
        ms = c->conf->retry_backoff_max_ms;
    tp->fails++;
    tp->backoff_until_us = now + ms * 1000;
}

void rill__tp_start(rill_consumer_t *c, ctp *tp, int64_t offset) {
    pthread_mutex_lock(&c->lock);
    tp->version++;
    tp->assigned = true;
    tp->paused = false;
    if (offset >= 0)
        tp->app_pos = offset;
    pthread_mutex_unlock(&c->lock);
    tp->eof_sent = false;
    tp->backoff_until_us = 0;
    tp->fails = 0;
    if (offset >= 0) {
        tp->fetch_pos = offset;
        tp->state = TP_ACTIVE;
    } else if (offset == RILL_OFFSET_BEGINNING || offset == RILL_OFFSET_END) {
        tp->reset_to = offset;
        tp->state = TP_NEED_RESET;
    } else {
        tp->state = TP_NEED_COMMITTED;
    }
    rill__loop_wakeup(c->loop);
}

void rill__tp_stop(rill_consumer_t *c, ctp *tp) {
    pthread_mutex_lock(&c->lock);
    tp->version++;
    tp->assigned = false;
    pthread_mutex_unlock(&c->lock);
}

static void reset_offset(rill_consumer_t *c, ctp *tp, const char *why) {
    switch (c->conf->auto_offset_reset) {
    case RILL_OFFSET_RESET_EARLIEST:
        tp->reset_to = RILL_OFFSET_BEGINNING;
        tp->state = TP_NEED_RESET;
        break;
    case RILL_OFFSET_RESET_LATEST:
        tp->reset_to = RILL_OFFSET_END;
        tp->state = TP_NEED_RESET;
        break;
    default:
        tp->state = TP_ERROR;
        rill__consumer_event(c, tp, RILL_ERR_OFFSET_OUT_OF_RANGE,
                             "%s [%d]: %s and auto.offset.reset is none", tp->topic, tp->partition,
                             why);
    }
}

/* ---- ListOffsets (resets) ------------------------------------------------------- */

typedef struct lo_req {
    rill_consumer_t *c;
    int n;
    ctp *tps[];
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
        ts[i].name = rill__str(rq->tps[i]->topic);
        ts[i].partitions = &ps[i];
        ts[i].npartitions = 1;
        ps[i].partition_index = rq->tps[i]->partition;
        ps[i].current_leader_epoch = -1;
        ps[i].timestamp = rq->tps[i]->reset_to == RILL_OFFSET_BEGINNING ? RILL_LIST_OFFSETS_EARLIEST
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
    for (int i = 0; i < rq->n; i++) {
        ctp *tp = rq->tps[i];
        tp->op_inflight = false;
        if (tp->state != TP_NEED_RESET)
            continue;
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
        if (!perr && off >= 0) {
            rill__tp_start(c, tp, off);
            RILL_LOG(&c->log, RILL_LOG_DEBUG, "fetch", "%s [%d]: reset to offset %" PRId64,
                     tp->topic, tp->partition, off);
            continue;
        }
        rill__tp_backoff(c, tp, now);
        if (perr > 0 && !rill_err_is_retriable(perr))
            rill__consumer_event(c, tp, perr, "%s [%d]: ListOffsets: %s", tp->topic, tp->partition,
                                 rill_err_name(perr));
        rill__cluster_md_refresh(&c->cl, "ListOffsets failed", false);
    }
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

/* Makes room for one more message in the scratch array. */
static rill_message_t *scratch_msg(rill_consumer_t *c, int n) {
    if (n == c->scratch_cap) {
        int ncap = c->scratch_cap ? c->scratch_cap * 2 : 1024;
        rill_message_t *nm = realloc(c->scratch_msgs, sizeof(*nm) * (size_t)ncap);
        if (!nm)
            return NULL;
        c->scratch_msgs = nm;
        c->scratch_cap = ncap;
    }
    return &c->scratch_msgs[n];
}

static int keep_extra(rill_consumer_t *c, int *nextra, uint8_t *p) {
    if (*nextra == c->scratch_extra_cap) {
        int ncap = c->scratch_extra_cap ? c->scratch_extra_cap * 2 : 16;
        uint8_t **ne = realloc(c->scratch_extra, sizeof(*ne) * (size_t)ncap);
        if (!ne)
            return -1;
        c->scratch_extra = ne;
        c->scratch_extra_cap = ncap;
    }
    c->scratch_extra[(*nextra)++] = p;
    return 0;
}

static void fill_msg(rill_message_t *m, ctp *tp, const rill_record *rec, int lat) {
    memset(m, 0, sizeof(*m));
    m->tp = tp;
    m->version = tp->version;
    m->topic = tp->topic;
    m->partition = tp->partition;
    m->offset = rec->offset;
    m->timestamp = rec->timestamp;
    m->log_append_time = (int8_t)lat;
    m->klen = rec->key.len;
    m->key = rec->key.ptr;
    m->vlen = rec->value.len;
    m->val = rec->value.ptr;
    m->hdrs = rec->headers;
    m->hdrs_len = (uint32_t)rec->headers_len;
    m->nhdrs = rec->header_count;
}

/* Is producer pid's data at `offset` part of an aborted transaction? */
typedef struct aborted_set {
    const rill_fetch_aborted_txn *list;
    int32_t n, next;    /* list sorted by first_offset; next not yet active */
    int64_t active[64]; /* producer ids whose transaction is being aborted */
    int nactive;
} aborted_set;

static void aborted_advance(aborted_set *a, int64_t offset) {
    while (a->next < a->n && a->list[a->next].first_offset <= offset) {
        if (a->nactive < 64)
            a->active[a->nactive++] = a->list[a->next].producer_id;
        a->next++;
    }
}

static bool aborted_has(aborted_set *a, int64_t pid) {
    for (int i = 0; i < a->nactive; i++)
        if (a->active[i] == pid)
            return true;
    return false;
}

static void aborted_end(aborted_set *a, int64_t pid) {
    for (int i = 0; i < a->nactive; i++)
        if (a->active[i] == pid) {
            a->active[i] = a->active[--a->nactive];
            return;
        }
}

static int cmp_aborted(const void *x, const void *y) {
    const rill_fetch_aborted_txn *a = x, *b = y;
    return a->first_offset < b->first_offset ? -1 : a->first_offset > b->first_offset;
}

/*
 * Decodes one partition's records into a chunk and queues it.  Returns the
 * next fetch position.
 */
static void take_records(rill_consumer_t *c, ctp *tp, const rill_fetch_resp_partition *rp) {
    const uint8_t *src = rp->records.ptr;
    size_t len = rp->records.len > 0 ? (size_t)rp->records.len : 0;
    tp->hwm = rp->high_watermark;
    if (!len) {
        if (c->conf->enable_partition_eof && !tp->eof_sent && tp->fetch_pos >= tp->hwm &&
            tp->hwm >= 0) {
            tp->eof_sent = true;
            rill__consumer_event(c, tp, RILL_ERR_PARTITION_EOF,
                                 "%s [%d]: reached end at offset %" PRId64, tp->topic,
                                 tp->partition, tp->fetch_pos);
        }
        return;
    }
    uint8_t *raw = malloc(len);
    if (!raw)
        return;
    memcpy(raw, src, len);

    aborted_set ab = {0};
    rill_fetch_aborted_txn *sorted = NULL;
    bool rc_mode = c->conf->isolation_level == RILL_ISOLATION_READ_COMMITTED && rp->naborted > 0;
    if (rc_mode) {
        sorted = malloc(sizeof(*sorted) * (size_t)rp->naborted);
        if (sorted) {
            memcpy(sorted, rp->aborted, sizeof(*sorted) * (size_t)rp->naborted);
            qsort(sorted, (size_t)rp->naborted, sizeof(*sorted), cmp_aborted);
            ab.list = sorted;
            ab.n = rp->naborted;
        }
    }

    int n = 0, nextra = 0;
    int64_t pos = tp->fetch_pos;
    rill_err_t fail = 0;
    char why[256] = "";
    rill_batch_walk w;
    rill__batch_walk_init(&w, raw, len);
    for (;;) {
        const uint8_t *e;
        size_t elen;
        rill_batch_header h;
        int k = rill__batch_walk_next(&w, &e, &elen, &h);
        if (k == RILL_WALK_END || k == RILL_WALK_PARTIAL)
            break;
        if (k == RILL_WALK_CORRUPT) {
            fail = RILL_ERR_CORRUPT_MESSAGE;
            snprintf(why, sizeof(why), "malformed batch framing at offset %" PRId64, pos);
            break;
        }
        if (k == RILL_WALK_LEGACY) {
            rill_legacy_iter it;
            rill__legacy_iter_init(&it, &c->reader, e, elen);
            rill_record rec;
            int r;
            while ((r = rill__legacy_iter_next(&it, &rec)) == 1) {
                if (rec.offset < pos)
                    continue;
                /* Legacy records may live in the reader's scratch: copy. */
                size_t need = (size_t)(rec.key.len > 0 ? rec.key.len : 0) +
                              (size_t)(rec.value.len > 0 ? rec.value.len : 0) + 1;
                uint8_t *cp = malloc(need);
                if (!cp || keep_extra(c, &nextra, cp) != 0) {
                    free(cp);
                    fail = RILL_ERR_NO_MEMORY;
                    break;
                }
                size_t o = 0;
                if (rec.key.len > 0) {
                    memcpy(cp, rec.key.ptr, (size_t)rec.key.len);
                    rec.key.ptr = cp;
                    o = (size_t)rec.key.len;
                }
                if (rec.value.len > 0) {
                    memcpy(cp + o, rec.value.ptr, (size_t)rec.value.len);
                    rec.value.ptr = cp + o;
                }
                rec.header_count = 0;
                rec.headers = NULL;
                rec.headers_len = 0;
                rill_message_t *m = scratch_msg(c, n);
                if (!m) {
                    fail = RILL_ERR_NO_MEMORY;
                    break;
                }
                fill_msg(m, tp, &rec, 0);
                n++;
                pos = rec.offset + 1;
            }
            if (r < 0) {
                fail = it.err;
                snprintf(why, sizeof(why), "bad legacy message set at offset %" PRId64 ": %s", pos,
                         rill_err_name(it.err));
            }
            if (fail)
                break;
            continue;
        }
        /* A magic-2 batch. */
        int64_t last = rill__batch_last_offset(&h);
        if (last < pos)
            continue; /* all of it was read before */
        if (!rill__batch_verify_crc(e, &h)) {
            fail = RILL_ERR_CORRUPT_MESSAGE;
            snprintf(why, sizeof(why), "batch at offset %" PRId64 " fails its CRC check",
                     h.base_offset);
            break;
        }
        if (rc_mode)
            aborted_advance(&ab, h.base_offset);
        if (rill__batch_is_control(&h)) {
            if (rc_mode && rill__batch_is_transactional(&h))
                aborted_end(&ab, h.producer_id);
            pos = last + 1;
            continue;
        }
        if (rc_mode && rill__batch_is_transactional(&h) && aborted_has(&ab, h.producer_id)) {
            pos = last + 1;
            continue;
        }
        const uint8_t *recs;
        size_t rlen;
        int rr = rill__batch_records(&c->reader, e, &h, &recs, &rlen);
        if (rr != 0) {
            fail = rr;
            snprintf(why, sizeof(why), "batch at offset %" PRId64 ": %s", h.base_offset,
                     rill_err_name(rr));
            break;
        }
        if (rill__batch_codec(&h)) {
            /* Inflated into the reader's scratch: keep a copy with the chunk. */
            uint8_t *cp = malloc(rlen ? rlen : 1);
            if (!cp || keep_extra(c, &nextra, cp) != 0) {
                free(cp);
                fail = RILL_ERR_NO_MEMORY;
                break;
            }
            memcpy(cp, recs, rlen);
            recs = cp;
        }
        rill_record_iter it;
        rill__record_iter_init(&it, recs, rlen, &h);
        rill_record rec;
        int r;
        int lat = (h.attributes & RILL_BATCH_ATTR_LOG_APPEND_TIME) != 0;
        while ((r = rill__record_iter_next(&it, &rec)) == 1) {
            if (rec.offset < pos)
                continue;
            rill_message_t *m = scratch_msg(c, n);
            if (!m) {
                fail = RILL_ERR_NO_MEMORY;
                break;
            }
            fill_msg(m, tp, &rec, lat);
            n++;
        }
        if (r < 0) {
            fail = RILL_ERR_CORRUPT_MESSAGE;
            snprintf(why, sizeof(why), "malformed record in batch at offset %" PRId64,
                     h.base_offset);
            break;
        }
        if (fail)
            break;
        pos = last + 1;
    }
    free(sorted);

    if (n > 0) {
        chunk *ch = malloc(sizeof(*ch) + sizeof(rill_message_t) * (size_t)n);
        uint8_t **extra = nextra ? malloc(sizeof(*extra) * (size_t)nextra) : NULL;
        if (!ch || (nextra && !extra)) {
            free(ch);
            free(extra);
            for (int i = 0; i < nextra; i++)
                free(c->scratch_extra[i]);
            free(raw);
            return; /* out of memory: fetch again later from the same place */
        }
        memset(ch, 0, sizeof(*ch));
        atomic_init(&ch->refs, 1);
        ch->n = n;
        ch->raw = raw;
        ch->extra = extra;
        ch->nextra = nextra;
        if (nextra)
            memcpy(extra, c->scratch_extra, sizeof(*extra) * (size_t)nextra);
        memcpy(ch->msgs, c->scratch_msgs, sizeof(rill_message_t) * (size_t)n);
        for (int i = 0; i < n; i++)
            ch->msgs[i].ch = ch;
        ch->bytes = len;
        pthread_mutex_lock(&c->lock);
        tp->queued_bytes += len;
        pthread_mutex_unlock(&c->lock);
        rill__consumer_enqueue(c, ch);
        raw = NULL;
    } else {
        for (int i = 0; i < nextra; i++)
            free(c->scratch_extra[i]);
    }
    free(raw);
    tp->fetch_pos = pos;
    if (fail) {
        tp->state = TP_ERROR;
        rill__consumer_event(c, tp, fail, "%s [%d]: %s; fetching stopped until seek", tp->topic,
                             tp->partition, why);
        return;
    }
    if (c->conf->enable_partition_eof && !tp->eof_sent && tp->fetch_pos >= tp->hwm) {
        tp->eof_sent = true;
        rill__consumer_event(c, tp, RILL_ERR_PARTITION_EOF,
                             "%s [%d]: reached end at offset %" PRId64, tp->topic, tp->partition,
                             tp->fetch_pos);
    } else if (tp->fetch_pos < tp->hwm) {
        tp->eof_sent = false;
    }
}

static int on_fetch(rill_conn *conn, int err, int16_t ver, rill_rd *body, void *opaque) {
    f_req *rq = opaque;
    rill_consumer_t *c = rq->c;
    (void)conn;
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
    for (int i = 0; i < rq->n; i++) {
        ctp *tp = rq->p[i].tp;
        if (!tp->assigned || tp->state != TP_ACTIVE || tp->version != rq->p[i].version ||
            tp->fetch_pos != rq->p[i].offset)
            continue; /* seeked or revoked meanwhile: drop */
        if (!ok) {
            rill__tp_backoff(c, tp, now);
            continue;
        }
        const rill_fetch_resp_partition *rp = NULL;
        for (int32_t t = 0; t < m.ntopics && !rp; t++) {
            if (!rill__str_eq(m.topics[t].topic, tp->topic))
                continue;
            for (int32_t p = 0; p < m.topics[t].npartitions; p++)
                if (m.topics[t].partitions[p].partition == tp->partition)
                    rp = &m.topics[t].partitions[p];
        }
        if (!rp)
            continue;
        switch (rp->error_code) {
        case 0:
            tp->fails = 0;
            take_records(c, tp, rp);
            break;
        case RILL_ERR_OFFSET_OUT_OF_RANGE:
            RILL_LOG(&c->log, RILL_LOG_INFO, "fetch", "%s [%d]: offset %" PRId64 " out of range",
                     tp->topic, tp->partition, tp->fetch_pos);
            reset_offset(c, tp, "fetch offset out of range");
            break;
        case RILL_ERR_NOT_LEADER_OR_FOLLOWER:
        case RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION:
        case RILL_ERR_LEADER_NOT_AVAILABLE:
        case RILL_ERR_FENCED_LEADER_EPOCH:
        case RILL_ERR_UNKNOWN_LEADER_EPOCH:
        case RILL_ERR_KAFKA_STORAGE_ERROR:
        case RILL_ERR_REPLICA_NOT_AVAILABLE:
        case RILL_ERR_OFFSET_NOT_AVAILABLE:
            rill__cluster_md_refresh(&c->cl, rill_err_name(rp->error_code), true);
            rill__tp_backoff(c, tp, now);
            break;
        default:
            tp->backoff_until_us = now + 1000000;
            rill__consumer_event(c, tp, rp->error_code, "%s [%d]: fetch: %s", tp->topic,
                                 tp->partition, rill_err_name(rp->error_code));
        }
    }
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
    size_t max_q = (size_t)c->conf->queued_max_messages_kbytes * 1024;
    pthread_mutex_lock(&c->lock);
    size_t q_bytes = c->q_bytes;
    pthread_mutex_unlock(&c->lock);

    /* Offset lookups that need a leader: one ListOffsets per broker. */
    for (int bi = 0; bi < c->cl.nbrokers; bi++) {
        rill_cbroker *b = c->cl.brokers[bi];
        if (b->id < 0)
            continue;
        lo_req *lr = NULL;
        f_req *fr = NULL;
        for (int i = 0; i < c->ntps; i++) {
            ctp *tp = c->tps[i];
            if (!tp->assigned || tp->op_inflight || tp->backoff_until_us > now)
                continue;
            if (tp->state != TP_NEED_RESET && tp->state != TP_ACTIVE)
                continue;
            int32_t leader = leader_of(c, tp);
            if (leader < 0) {
                rill__cluster_topic(&c->cl, tp->topic);
                rill__cluster_md_refresh(&c->cl, "no leader for assigned partition", false);
                continue;
            }
            if (leader != b->id)
                continue;
            if (tp->state == TP_NEED_RESET) {
                if (!lr) {
                    lr = calloc(1, sizeof(*lr) + sizeof(ctp *) * (size_t)c->ntps);
                    if (!lr)
                        continue;
                    lr->c = c;
                }
                lr->tps[lr->n++] = tp;
                tp->op_inflight = true;
                continue;
            }
            if (tp->paused || c->fetch_inflight[bi])
                continue;
            if (q_bytes >= max_q)
                continue;
            if (!fr) {
                fr = calloc(1, sizeof(*fr) + sizeof(fr->p[0]) * (size_t)c->ntps);
                if (!fr)
                    continue;
                fr->c = c;
                fr->bidx = bi;
            }
            /* Group a topic's partitions together. */
            int at = fr->n;
            for (int k = 0; k < fr->n; k++)
                if (!strcmp(fr->p[k].tp->topic, tp->topic))
                    at = k + 1;
            memmove(&fr->p[at + 1], &fr->p[at], sizeof(fr->p[0]) * (size_t)(fr->n - at));
            fr->p[at].tp = tp;
            fr->p[at].version = tp->version;
            fr->p[at].offset = tp->fetch_pos;
            fr->n++;
        }
        if (lr)
            rill__cluster_request(&c->cl, b, RILL_API_LIST_OFFSETS, 1, LIST_OFFSETS_MAX_VER,
                                  enc_list_offsets, on_list_offsets, lr,
                                  c->conf->request_timeout_ms);
        if (fr) {
            for (int k = 0; k < fr->n; k++)
                fr->p[k].tp->op_inflight = true;
            c->fetch_inflight[bi] = true;
            rill__cluster_request(&c->cl, b, RILL_API_FETCH, 4, FETCH_MAX_VER, enc_fetch, on_fetch,
                                  fr, c->conf->request_timeout_ms + c->conf->fetch_max_wait_ms);
        }
    }
}
