/*
 * fetch_pos.c -- each partition's fetch position and what answers do to it
 * (I/O thread; see fetch_pos.h for the states).
 *
 * The records of a fetch answer are scanned batch by batch: every magic-2
 * batch's CRC is checked before anything of it is delivered, and the
 * position moves past a batch only once all of it was taken, so a corrupt
 * batch stops the partition at itself (an error event; the application
 * seeks past it if it wants) and nothing is silently skipped.  Control
 * batches are passed over; under read_committed the batches of aborted
 * transactions are dropped, using the answer's aborted-transaction list as
 * the Java consumer does.  The messages of one partition's records go out as
 * one chunk built in place, pointing into the answer's bytes.
 */
#include "client/fetch_pos.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "proto/msgset_legacy.h"

/* ---- starting, stopping, backing off -------------------------------------------- */

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

rill_fpos_op rill__fpos_want(const ctp *tp, int64_t now) {
    if (!tp->assigned || tp->op_inflight || tp->backoff_until_us > now)
        return RILL_FPOS_IDLE;
    if (tp->state == TP_NEED_RESET)
        return RILL_FPOS_LIST_OFFSETS;
    if (tp->state == TP_ACTIVE && !tp->paused)
        return RILL_FPOS_FETCH;
    return RILL_FPOS_IDLE;
}

void rill__fpos_reset(rill_consumer_t *c, ctp *tp, const char *why) {
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

int rill__fpos_reset_answer(rill_consumer_t *c, ctp *tp, int32_t version, int16_t err,
                            int64_t offset, int64_t now) {
    /* Revoked or seeked meanwhile: the answer is for a lookup nobody wants. */
    if (!tp->assigned || tp->state != TP_NEED_RESET || tp->version != version)
        return 0;
    if (!err && offset >= 0) {
        rill__tp_start(c, tp, offset);
        RILL_LOG(&c->log, RILL_LOG_DEBUG, "fetch", "%s [%d]: reset to offset %" PRId64, tp->topic,
                 tp->partition, offset);
        return 0;
    }
    rill__tp_backoff(c, tp, now);
    if (err > 0 && !rill_err_is_retriable(err))
        rill__consumer_event(c, tp, err, "%s [%d]: ListOffsets: %s", tp->topic, tp->partition,
                             rill_err_name(err));
    return RILL_FPOS_REFRESH;
}

bool rill__fpos_current(const ctp *tp, int32_t version, int64_t offset) {
    return tp->assigned && tp->state == TP_ACTIVE && tp->version == version &&
           tp->fetch_pos == offset;
}

int64_t rill__fpos_records_end(const uint8_t *p, size_t len, int64_t pos) {
    rill_batch_walk w;
    rill__batch_walk_init(&w, p, len);
    const uint8_t *e;
    size_t elen;
    rill_batch_header h;
    int64_t end = pos;
    int k;
    while ((k = rill__batch_walk_next(&w, &e, &elen, &h)) == RILL_WALK_BATCH) {
        int64_t last = rill__batch_last_offset(&h);
        if (last >= end)
            end = rill__add64_wrap(last, 1);
    }
    /* Legacy offsets are per message; broken framing stops the scan there. */
    return k == RILL_WALK_END || k == RILL_WALK_PARTIAL ? end : -1;
}

/* ---- building a chunk ------------------------------------------------------------- */

/* Room for message n of the chunk being built, which grows by doubling. */
static rill_message_t *build_msg(rill_consumer_t *c, int n) {
    if (!c->build || n == c->build_cap) {
        int ncap = c->build ? c->build_cap * 2 : (c->build_cap > 64 ? c->build_cap : 64);
        if (ncap <= n || ncap > INT_MAX / 2)
            return NULL;
        chunk *nb = realloc(c->build, sizeof(*nb) + sizeof(rill_message_t) * (size_t)ncap);
        if (!nb)
            return NULL;
        c->build = nb;
        c->build_cap = ncap;
    }
    return &c->build->msgs[n];
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

/* ---- read_committed -------------------------------------------------------------- */

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

/* ---- taking records ------------------------------------------------------------------ */

static void send_eof(rill_consumer_t *c, ctp *tp) {
    tp->eof_sent = true;
    rill__consumer_event(c, tp, RILL_ERR_PARTITION_EOF, "%s [%d]: reached end at offset %" PRId64,
                         tp->topic, tp->partition, tp->fetch_pos);
}

/*
 * Delivers one partition's records as a chunk and moves its position past
 * the batches taken (see the top of the file).  The messages point into
 * `shared` when given (rp's records lie in it), else into a copy.
 */
static void take_records(rill_consumer_t *c, ctp *tp, const rill_fetch_resp_partition *rp,
                         rill_rbuf *shared) {
    const uint8_t *src = rp->records.ptr;
    size_t len = rp->records.len > 0 ? (size_t)rp->records.len : 0;
    tp->hwm = rp->high_watermark;
    if (!len) {
        if (c->conf->enable_partition_eof && !tp->eof_sent && tp->fetch_pos >= tp->hwm &&
            tp->hwm >= 0)
            send_eof(c, tp);
        return;
    }
    rill_rbuf *rb = shared;
    if (rb) {
        atomic_fetch_add(&rb->refs, 1);
    } else {
        rb = malloc(sizeof(*rb) + len);
        if (!rb)
            return; /* out of memory: fetch again later from the same place */
        atomic_init(&rb->refs, 1);
        rb->pool = NULL;
        rb->size = len;
        rb->data = rb->own;
        memcpy(rb->own, src, len);
        src = rb->own;
    }

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
    bool uses_rb = false; /* some message points into rb */
    int64_t pos = tp->fetch_pos;
    rill_err_t fail = 0;
    char why[256] = "";
    rill_batch_walk w;
    rill__batch_walk_init(&w, src, len);
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
                rill_message_t *m = build_msg(c, n);
                if (!m) {
                    fail = RILL_ERR_NO_MEMORY;
                    break;
                }
                fill_msg(m, tp, &rec, 0);
                n++;
                pos = rill__add64_wrap(rec.offset, 1);
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
            pos = rill__add64_wrap(last, 1);
            continue;
        }
        if (rc_mode && rill__batch_is_transactional(&h) && aborted_has(&ab, h.producer_id)) {
            pos = rill__add64_wrap(last, 1);
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
        } else {
            uses_rb = true;
        }
        rill_record_iter it;
        rill__record_iter_init(&it, recs, rlen, &h);
        rill_record rec;
        int r;
        int lat = (h.attributes & RILL_BATCH_ATTR_LOG_APPEND_TIME) != 0;
        int batch_first = n; /* nothing of a batch that fails is delivered */
        while ((r = rill__record_iter_next(&it, &rec)) == 1) {
            if (rec.offset < pos)
                continue;
            rill_message_t *m = build_msg(c, n);
            if (!m) {
                fail = RILL_ERR_NO_MEMORY;
                break;
            }
            fill_msg(m, tp, &rec, lat);
            n++;
        }
        if (r < 0) {
            n = batch_first;
            fail = RILL_ERR_CORRUPT_MESSAGE;
            snprintf(why, sizeof(why), "malformed record in batch at offset %" PRId64,
                     h.base_offset);
            break;
        }
        if (fail) {
            n = batch_first;
            break;
        }
        pos = rill__add64_wrap(last, 1);
    }
    free(sorted);

    if (n > 0) {
        uint8_t **extra = nextra ? malloc(sizeof(*extra) * (size_t)nextra) : NULL;
        if (nextra && !extra) {
            for (int i = 0; i < nextra; i++)
                free(c->scratch_extra[i]);
            rill__rbuf_release(rb);
            return; /* out of memory: fetch again later from the same place */
        }
        chunk *ch = c->build;
        c->build = NULL;
        /* Give back what a much larger answer before made room for. */
        if (n < c->build_cap / 2) {
            chunk *small = realloc(ch, sizeof(*ch) + sizeof(rill_message_t) * (size_t)n);
            if (small)
                ch = small;
        }
        memset(ch, 0, sizeof(*ch));
        atomic_init(&ch->refs, 1);
        ch->n = n;
        ch->extra = extra;
        ch->nextra = nextra;
        if (nextra)
            memcpy(extra, c->scratch_extra, sizeof(*extra) * (size_t)nextra);
        for (int i = 0; i < n; i++)
            ch->msgs[i].ch = ch;
        if (uses_rb) {
            ch->rb = rb;
        } else {
            rill__rbuf_release(rb);
        }
        ch->bytes = len;
        pthread_mutex_lock(&c->lock);
        tp->queued_bytes += len;
        pthread_mutex_unlock(&c->lock);
        rill__consumer_enqueue(c, ch);
        /* The next answer is likely the size of this one. */
        c->build_cap = n + n / 4;
    } else {
        for (int i = 0; i < nextra; i++)
            free(c->scratch_extra[i]);
        rill__rbuf_release(rb);
    }
    tp->fetch_pos = pos;
    if (fail) {
        tp->state = TP_ERROR;
        rill__consumer_event(c, tp, fail, "%s [%d]: %s; fetching stopped until seek", tp->topic,
                             tp->partition, why);
        return;
    }
    if (c->conf->enable_partition_eof && !tp->eof_sent && tp->fetch_pos >= tp->hwm)
        send_eof(c, tp);
    else if (tp->fetch_pos < tp->hwm)
        tp->eof_sent = false;
}

int rill__fpos_fetch_answer(rill_consumer_t *c, ctp *tp, int32_t version, int64_t offset,
                            const rill_fetch_resp_partition *rp, rill_rbuf *rb, int64_t now) {
    if (!rill__fpos_current(tp, version, offset))
        return 0; /* seeked or revoked meanwhile: drop */
    if (!rp) {
        rill__tp_backoff(c, tp, now);
        return 0;
    }
    switch (rp->error_code) {
    case 0:
        tp->fails = 0;
        take_records(c, tp, rp, rb);
        return 0;
    case RILL_ERR_OFFSET_OUT_OF_RANGE:
        RILL_LOG(&c->log, RILL_LOG_INFO, "fetch", "%s [%d]: offset %" PRId64 " out of range",
                 tp->topic, tp->partition, tp->fetch_pos);
        rill__fpos_reset(c, tp, "fetch offset out of range");
        return 0;
    case RILL_ERR_NOT_LEADER_OR_FOLLOWER:
    case RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION:
    case RILL_ERR_LEADER_NOT_AVAILABLE:
    case RILL_ERR_FENCED_LEADER_EPOCH:
    case RILL_ERR_UNKNOWN_LEADER_EPOCH:
    case RILL_ERR_KAFKA_STORAGE_ERROR:
    case RILL_ERR_REPLICA_NOT_AVAILABLE:
    case RILL_ERR_OFFSET_NOT_AVAILABLE:
        rill__tp_backoff(c, tp, now);
        return RILL_FPOS_REFRESH;
    default:
        tp->backoff_until_us = now + 1000000;
        rill__consumer_event(c, tp, rp->error_code, "%s [%d]: fetch: %s", tp->topic, tp->partition,
                             rill_err_name(rp->error_code));
        return 0;
    }
}
