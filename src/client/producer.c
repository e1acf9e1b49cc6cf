/*
 * producer.c -- the application side of the producer: rill_produce encodes
 * a record straight into its partition's open batch; rill_poll serves the
 * delivery reports; rill_flush and rill_producer_destroy bound how long
 * they wait.  The I/O side is in sender.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/producer_int.h"
#include "common/clock.h"

/* Recycled batch shells, bounded so an idle producer gives memory back. */
#define MAX_FREE_BATCHES 8

static uint32_t name_hash(const char *s) {
    uint32_t h = 2166136261u;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

static ptopic *topic_find(rill_producer_t *p, const char *name, uint32_t h) {
    if (p->last_topic && p->last_topic->hash == h && !strcmp(p->last_topic->name, name))
        return p->last_topic;
    if (!p->tindex_cap)
        return NULL;
    for (int i = (int)(h & (uint32_t)(p->tindex_cap - 1));; i = (i + 1) & (p->tindex_cap - 1)) {
        ptopic *t = p->tindex[i];
        if (!t)
            return NULL;
        if (t->hash == h && !strcmp(t->name, name))
            return p->last_topic = t;
    }
}

static int tindex_put(rill_producer_t *p, ptopic *t) {
    if ((p->ntopics + 1) * 2 > p->tindex_cap) {
        int ncap = p->tindex_cap ? p->tindex_cap * 2 : 16;
        ptopic **ni = calloc((size_t)ncap, sizeof(*ni));
        if (!ni)
            return -1;
        for (int k = 0; k < p->ntopics; k++) {
            ptopic *x = p->topics[k];
            int i = (int)(x->hash & (uint32_t)(ncap - 1));
            while (ni[i])
                i = (i + 1) & (ncap - 1);
            ni[i] = x;
        }
        free(p->tindex);
        p->tindex = ni;
        p->tindex_cap = ncap;
    }
    int i = (int)(t->hash & (uint32_t)(p->tindex_cap - 1));
    while (p->tindex[i])
        i = (i + 1) & (p->tindex_cap - 1);
    p->tindex[i] = t;
    return 0;
}

/* New topic entry (under the lock); the I/O thread will ask for its metadata. */
static ptopic *topic_add(rill_producer_t *p, const char *name, uint32_t h) {
    if (p->ntopics == p->captopics) {
        int ncap = p->captopics ? p->captopics * 2 : 8;
        ptopic **nt = realloc(p->topics, sizeof(*nt) * (size_t)ncap);
        if (!nt)
            return NULL;
        p->topics = nt;
        p->captopics = ncap;
    }
    ptopic *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->name = strdup(name);
    if (!t->name) {
        free(t);
        return NULL;
    }
    t->hash = h;
    t->sticky = -1;
    rill__buf_init(&t->ua, 0);
    if (tindex_put(p, t) != 0) {
        free(t->name);
        free(t);
        return NULL;
    }
    p->topics[p->ntopics++] = t;
    return t;
}

static pbatch *batch_new(rill_producer_t *p, ptopic *t, int32_t partition, int64_t now_us) {
    pbatch *b = p->free_batches;
    if (b) {
        p->free_batches = b->next;
        p->nfree--;
    } else {
        b = calloc(1, sizeof(*b));
        if (!b)
            return NULL;
        rill__batch_builder_init(&b->bb, 0);
    }
    b->next = NULL;
    b->t = t;
    b->partition = partition;
    b->finished = false;
    b->cnt = 0;
    b->bytes = 0;
    b->first_us = now_us;
    b->expire_us = p->conf->delivery_timeout_ms > 0
                       ? now_us + (int64_t)p->conf->delivery_timeout_ms * 1000
                       : INT64_MAX;
    b->state = PB_WAITING;
    b->base_seq = -1;
    b->attempts = 0;
    b->retry_at_us = 0;
    b->err = 0;
    b->base_offset = -1;
    b->append_time = -1;
    return b;
}

void rill__pbatch_free(rill_producer_t *p, pbatch *b) {
    pthread_mutex_lock(&p->lock);
    if (p->nfree < MAX_FREE_BATCHES && b->bb.buf.cap <= 4u * (size_t)p->conf->batch_size) {
        b->next = p->free_batches;
        p->free_batches = b;
        p->nfree++;
        b = NULL;
    }
    pthread_mutex_unlock(&p->lock);
    if (b) {
        rill__batch_builder_free(&b->bb);
        free(b->opaques);
        free(b->tsd);
        free(b);
    }
}

/* Moves the open batch of a partition to the closed list (under the lock). */
static void close_open(rill_producer_t *p, ppart *pp) {
    pbatch *b = pp->open;
    if (!b)
        return;
    pp->open = NULL;
    if (p->closed_tail)
        p->closed_tail->next = b;
    else
        p->closed_head = b;
    p->closed_tail = b;
}

rill_err_t rill__producer_append_locked(rill_producer_t *p, ptopic *t, int32_t partition,
                                        const void *key, int32_t klen, const void *value,
                                        int32_t vlen, const rill_header_t *hdrs, size_t nhdrs,
                                        int64_t ts, void *opaque, int64_t now_us) {
    ppart *pp = &t->parts[partition];
    pbatch *b = pp->open;
    bool wake = false;
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!b) {
            b = batch_new(p, t, partition, now_us);
            if (!b)
                return RILL_ERR_NO_MEMORY;
            if (rill__batch_begin(&b->bb, ts, -1, -1, -1, 0) != 0) {
                b->next = p->free_batches;
                p->free_batches = b;
                p->nfree++;
                return RILL_ERR_NO_MEMORY;
            }
            /* Uncompressed, the records' CRC is taken here, record by record
             * while each is in cache: the I/O thread then seals the batch from
             * its header alone. */
            b->bb.crc_on_append = p->conf->compression == RILL_CODEC_NONE;
            pp->open = b;
            wake = true; /* the sender must arm a linger timer for it */
        }
        if (b->cnt > 0) {
            size_t need = rill__batch_record_size(&b->bb, ts, klen, vlen, hdrs, nhdrs);
            if (rill__batch_size(&b->bb) + need > (size_t)p->conf->batch_size ||
                b->cnt >= p->conf->batch_num_messages) {
                close_open(p, pp);
                b = NULL;
                continue;
            }
        }
        if (b->cnt == b->cap) {
            int32_t ncap = b->cap ? b->cap * 2 : 64;
            int32_t *nts = realloc(b->tsd, sizeof(*nts) * (size_t)ncap);
            if (!nts)
                return RILL_ERR_NO_MEMORY;
            b->tsd = nts;
            b->cap = ncap;
        }
        if (b->cnt == 0)
            b->base_ts = ts;
        /* Opaques are kept only once one is not NULL. */
        if ((opaque || b->opaques) && b->cnt >= b->ocap) {
            int32_t ncap = b->cap;
            void **no = realloc(b->opaques, sizeof(*no) * (size_t)ncap);
            if (!no)
                return RILL_ERR_NO_MEMORY;
            memset(no + b->ocap, 0, sizeof(*no) * (size_t)(ncap - b->ocap));
            b->opaques = no;
            b->ocap = ncap;
        }
        int rc = rill__batch_append(&b->bb, ts, key, klen, value, vlen, hdrs, nhdrs);
        if (rc != 0)
            return rc;
        if (b->opaques)
            b->opaques[b->cnt] = opaque;
        int64_t d = ts - b->base_ts;
        b->tsd[b->cnt] = d > INT32_MAX ? INT32_MAX : d < INT32_MIN ? INT32_MIN : (int32_t)d;
        b->cnt++;
        b->bytes += (uint64_t)(klen > 0 ? klen : 0) + (uint64_t)(vlen > 0 ? vlen : 0);
        if (b->cnt >= p->conf->batch_num_messages ||
            rill__batch_size(&b->bb) >= (size_t)p->conf->batch_size) {
            close_open(p, pp);
            wake = true;
        }
        if (wake)
            rill__loop_wakeup(p->loop);
        return 0;
    }
    return RILL_ERR_MSG_SIZE_TOO_LARGE;
}

int rill__ua_next(rill_rd *r, ua_msg *m) {
    const uint8_t *q;
#define TAKE(x) (q = rill__rd_take(r, sizeof(x)), q ? (void)memcpy(&(x), q, sizeof(x)) : (void)0)
    memset(m, 0, offsetof(ua_msg, hs));
    m->nkept = 0;
    TAKE(m->enq_us);
    TAKE(m->part);
    TAKE(m->ts);
    TAKE(m->opaque);
    TAKE(m->klen);
    m->key = m->klen > 0    ? rill__rd_take(r, (size_t)m->klen)
             : m->klen == 0 ? (const uint8_t *)""
                            : NULL;
    TAKE(m->vlen);
    m->val = m->vlen > 0    ? rill__rd_take(r, (size_t)m->vlen)
             : m->vlen == 0 ? (const uint8_t *)""
                            : NULL;
    TAKE(m->nh);
    for (int32_t k = 0; k < m->nh && !r->err; k++) {
        int32_t nl = 0, vl = -1;
        TAKE(nl);
        const uint8_t *nm = rill__rd_take(r, nl > 0 ? (size_t)nl : 0);
        TAKE(vl);
        const uint8_t *hv = vl > 0 ? rill__rd_take(r, (size_t)vl) : NULL;
        if (m->nkept < 64 && nm && nl < 256) {
            memcpy(m->names[m->nkept], nm, (size_t)nl);
            m->names[m->nkept][nl] = 0;
            m->hs[m->nkept].name = m->names[m->nkept];
            m->hs[m->nkept].value = vl >= 0 ? (hv ? (const void *)hv : "") : NULL;
            m->hs[m->nkept].value_len = vl > 0 ? (size_t)vl : 0;
            m->nkept++;
        }
    }
#undef TAKE
    return r->err ? -1 : 0;
}

/* Keeps a message whose topic's partitions are not known yet. */
static rill_err_t ua_put(rill_producer_t *p, ptopic *t, int32_t partition, const void *key,
                         int32_t klen, const void *value, int32_t vlen, const rill_header_t *hdrs,
                         size_t nhdrs, int64_t ts, void *opaque, int64_t now_us) {
    rill_buf *u = &t->ua;
    size_t before = u->len;
    int32_t nh = (int32_t)nhdrs;
    rill__buf_append(u, &now_us, sizeof(now_us));
    rill__buf_append(u, &partition, sizeof(partition));
    rill__buf_append(u, &ts, sizeof(ts));
    rill__buf_append(u, &opaque, sizeof(opaque));
    rill__buf_append(u, &klen, sizeof(klen));
    if (klen > 0)
        rill__buf_append(u, key, (size_t)klen);
    rill__buf_append(u, &vlen, sizeof(vlen));
    if (vlen > 0)
        rill__buf_append(u, value, (size_t)vlen);
    rill__buf_append(u, &nh, sizeof(nh));
    for (size_t i = 0; i < nhdrs; i++) {
        int32_t nl = (int32_t)strlen(hdrs[i].name);
        int32_t vl = hdrs[i].value ? (int32_t)hdrs[i].value_len : -1;
        rill__buf_append(u, &nl, sizeof(nl));
        rill__buf_append(u, hdrs[i].name, (size_t)nl);
        rill__buf_append(u, &vl, sizeof(vl));
        if (vl > 0)
            rill__buf_append(u, hdrs[i].value, (size_t)vl);
    }
    if (u->err) {
        u->len = before;
        u->err = 0;
        return RILL_ERR_NO_MEMORY;
    }
    t->ua_cnt++;
    rill__loop_wakeup(p->loop);
    return 0;
}

rill_err_t rill_produce(rill_producer_t *p, const char *topic, int32_t partition, const void *key,
                        size_t key_len, const void *value, size_t value_len,
                        const rill_header_t *headers, size_t header_cnt, int64_t timestamp,
                        void *msg_opaque) {
    if (!p || !topic || !*topic || partition < RILL_PARTITION_ANY || (header_cnt && !headers))
        return RILL_ERR_INVALID_ARG;
    if (key_len > INT32_MAX || value_len > INT32_MAX)
        return RILL_ERR_MSG_SIZE_TOO_LARGE;
    int32_t klen = key ? (int32_t)key_len : -1;
    int32_t vlen = value ? (int32_t)value_len : -1;
    size_t hbytes = 0;
    for (size_t i = 0; i < header_cnt; i++) {
        if (!headers[i].name)
            return RILL_ERR_INVALID_ARG;
        hbytes += strlen(headers[i].name) + headers[i].value_len + 10;
    }
    /* What the record takes in a batch of its own: the broker's limit. */
    size_t approx = key_len + value_len + hbytes + 61 + 32;
    if (approx > (size_t)p->conf->message_max_bytes)
        return RILL_ERR_MSG_SIZE_TOO_LARGE;
    if (atomic_load(&p->stop) && !p->destroying)
        return RILL_ERR_STATE;
    if (p->fatal)
        return RILL_ERR_FATAL;

    uint64_t bytes = key_len + value_len;
    int64_t maxm = p->conf->queue_buffering_max_messages;
    int64_t maxb = p->conf->queue_buffering_max_kbytes * 1024;
    int64_t om = atomic_fetch_add(&p->out_msgs, 1);
    int64_t ob = atomic_fetch_add(&p->out_bytes, (int64_t)bytes);
    if ((maxm > 0 && om + 1 > maxm) || (maxb > 0 && om > 0 && ob + (int64_t)bytes > maxb)) {
        atomic_fetch_sub(&p->out_msgs, 1);
        atomic_fetch_sub(&p->out_bytes, (int64_t)bytes);
        return RILL_ERR_QUEUE_FULL;
    }
    int64_t now = rill__mono_us();
    if (timestamp <= 0)
        timestamp = rill__wall_ms();

    uint32_t h = name_hash(topic);
    rill_err_t rc;
    pthread_mutex_lock(&p->lock);
    ptopic *t = topic_find(p, topic, h);
    if (!t) {
        t = topic_add(p, topic, h);
        if (t)
            rill__loop_wakeup(p->loop);
    }
    if (!t) {
        rc = RILL_ERR_NO_MEMORY;
    } else if (t->npart == 0) {
        rc = ua_put(p, t, partition, key, klen, value, vlen, headers, header_cnt, timestamp,
                    msg_opaque, now);
    } else {
        int32_t part = partition;
        if (part == RILL_PARTITION_ANY)
            part = rill__partition_pick(p, t, key, key_len, now);
        if (part < 0 || part >= t->npart)
            rc = RILL_ERR_UNKNOWN_PARTITION;
        else
            rc = rill__producer_append_locked(p, t, part, key, klen, value, vlen, headers,
                                              header_cnt, timestamp, msg_opaque, now);
    }
    pthread_mutex_unlock(&p->lock);
    if (rc != 0) {
        atomic_fetch_sub(&p->out_msgs, 1);
        atomic_fetch_sub(&p->out_bytes, (int64_t)bytes);
        return rc;
    }
    atomic_fetch_add(&p->st_msgs_queued, 1);
    atomic_fetch_add(&p->st_bytes_queued, bytes);
    return 0;
}

/* ---- reports ------------------------------------------------------------- */

void rill__producer_report(rill_producer_t *p, pbatch *b, int err) {
    b->err = err;
    b->next = NULL;
    if (err)
        atomic_fetch_add(&p->st_msgs_failed, (uint64_t)b->cnt);
    else {
        atomic_fetch_add(&p->st_msgs_acked, (uint64_t)b->cnt);
        atomic_fetch_add(&p->st_bytes_acked, b->bytes);
    }
    pthread_mutex_lock(&p->dr_lock);
    if (p->dr_tail)
        p->dr_tail->next = b;
    else
        p->dr_head = b;
    p->dr_tail = b;
    pthread_cond_signal(&p->dr_cond);
    pthread_mutex_unlock(&p->dr_lock);
}

void rill__producer_report_one(rill_producer_t *p, ptopic *t, int32_t partition, int64_t ts,
                               void *opaque, uint64_t bytes, int err) {
    pbatch *b = calloc(1, sizeof(*b));
    void **o = malloc(sizeof(*o));
    int32_t *tsa = malloc(sizeof(*tsa));
    if (!b || !o || !tsa) {
        /* Cannot even report: account for it so flush does not wait forever. */
        free(b);
        free(o);
        free(tsa);
        atomic_fetch_sub(&p->out_msgs, 1);
        atomic_fetch_sub(&p->out_bytes, (int64_t)bytes);
        return;
    }
    o[0] = opaque;
    tsa[0] = 0;
    b->base_ts = ts;
    b->t = t;
    b->partition = partition;
    b->cnt = 1;
    b->cap = 1;
    b->ocap = 1;
    b->bytes = bytes;
    b->opaques = o;
    b->tsd = tsa;
    b->base_offset = -1;
    b->append_time = -1;
    rill__producer_report(p, b, err);
}

static void emit_stats(rill_producer_t *p, int64_t now) {
    if (!p->conf->stats_cb || p->conf->statistics_interval_ms <= 0)
        return;
    if (now < p->stats_next_us)
        return;
    p->stats_next_us = now + (int64_t)p->conf->statistics_interval_ms * 1000;
    char buf[8192];
    size_t n = rill_producer_stats_json(p, buf, sizeof(buf));
    if (n < sizeof(buf))
        p->conf->stats_cb(p->conf->opaque, buf, n);
}

static int serve_reports(rill_producer_t *p, pbatch *list) {
    int served = 0;
    while (list) {
        pbatch *b = list;
        list = b->next;
        rill_delivery_t dr = {.err = b->err, .topic = b->t->name, .partition = b->partition};
        for (int32_t i = 0; i < b->cnt; i++) {
            dr.offset = b->err || b->base_offset < 0 ? -1 : b->base_offset + i;
            dr.timestamp = b->append_time >= 0 ? b->append_time : b->base_ts + b->tsd[i];
            dr.msg_opaque = b->opaques ? b->opaques[i] : NULL;
            if (p->conf->dr_cb)
                p->conf->dr_cb(p, &dr, p->conf->opaque);
        }
        served += b->cnt;
        atomic_fetch_sub(&p->out_msgs, b->cnt);
        atomic_fetch_sub(&p->out_bytes, (int64_t)b->bytes);
        if (b->bb.buf.data || b->cap > 1)
            rill__pbatch_free(p, b);
        else {
            free(b->opaques);
            free(b->tsd);
            free(b);
        }
    }
    return served;
}

int rill_poll(rill_producer_t *p, int timeout_ms) {
    if (!p)
        return 0;
    pthread_mutex_lock(&p->dr_lock);
    if (!p->dr_head && timeout_ms != 0) {
        if (timeout_ms < 0) {
            while (!p->dr_head)
                pthread_cond_wait(&p->dr_cond, &p->dr_lock);
        } else {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_sec += timeout_ms / 1000;
            ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
            if (ts.tv_nsec >= 1000000000) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000;
            }
            while (!p->dr_head) {
                if (pthread_cond_timedwait(&p->dr_cond, &p->dr_lock, &ts) == ETIMEDOUT)
                    break;
            }
        }
    }
    pbatch *list = p->dr_head;
    p->dr_head = p->dr_tail = NULL;
    pthread_mutex_unlock(&p->dr_lock);
    int n = serve_reports(p, list);
    emit_stats(p, rill__mono_us());
    return n;
}

int rill_outq_len(rill_producer_t *p) { return p ? (int)atomic_load(&p->out_msgs) : 0; }

rill_err_t rill_flush(rill_producer_t *p, int timeout_ms) {
    if (!p)
        return RILL_ERR_INVALID_ARG;
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : rill__mono_ms() + timeout_ms;
    atomic_fetch_add(&p->flush_req, 1);
    rill__loop_wakeup(p->loop);
    rill_err_t rc = 0;
    for (;;) {
        rill_poll(p, 0);
        if (atomic_load(&p->out_msgs) <= 0)
            break;
        int64_t left = deadline - rill__mono_ms();
        if (left <= 0) {
            rc = RILL_ERR_TIMED_OUT;
            break;
        }
        rill_poll(p, left > 100 ? 100 : (int)left);
    }
    atomic_fetch_sub(&p->flush_req, 1);
    return rc;
}

/* ---- lifecycle ----------------------------------------------------------- */

rill_producer_t *rill_producer_new(const rill_conf_t *conf, char *errstr, size_t errstr_size) {
    char dummy[8];
    if (!errstr) {
        errstr = dummy;
        errstr_size = sizeof(dummy);
    }
    if (!conf) {
        snprintf(errstr, errstr_size, "conf is NULL");
        return NULL;
    }
    rill_producer_t *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    p->conf = rill_conf_dup(conf);
    if (!p->conf || rill__conf_check_producer(p->conf, errstr, errstr_size) != 0) {
        if (p->conf) {
            rill_conf_destroy(p->conf);
        } else {
            snprintf(errstr, errstr_size, "out of memory");
        }
        free(p);
        return NULL;
    }
    rill__conf_logger(p->conf, &p->log);
    p->linger_us = (int64_t)(p->conf->linger_ms * 1000.0);
    p->rng = (uint64_t)rill__mono_us() ^ (uint64_t)(uintptr_t)p;
    p->loop = rill__loop_new();
    pthread_mutex_init(&p->lock, NULL);
    pthread_mutex_init(&p->dr_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&p->dr_cond, &ca);
    pthread_condattr_destroy(&ca);
    rill__arena_init(&p->arena, 0);
    rill__codec_ctx_init(&p->codecs);
    rill__buf_init(&p->scratch, 0);
    p->idemp = p->conf->enable_idempotence ? IDEMP_NEED_PID : IDEMP_OFF;
    p->pid = -1;
    p->epoch = -1;
    rill_cluster_hooks hooks = {rill__sender_on_metadata, rill__sender_on_broker_up, NULL, p};
    if (!p->loop ||
        rill__cluster_init(&p->cl, p->conf, &p->log, p->loop, &hooks, errstr, errstr_size) != 0) {
        if (!p->loop)
            snprintf(errstr, errstr_size, "cannot create event loop");
        rill__loop_destroy(p->loop);
        rill_conf_destroy(p->conf);
        free(p);
        return NULL;
    }
    if (pthread_create(&p->thread, NULL, rill__sender_main, p) != 0) {
        snprintf(errstr, errstr_size, "cannot start I/O thread");
        rill__cluster_destroy(&p->cl);
        rill__loop_destroy(p->loop);
        rill_conf_destroy(p->conf);
        free(p);
        return NULL;
    }
    return p;
}

static void fail_list(rill_producer_t *p, pbatch *b, int err) {
    while (b) {
        pbatch *n = b->next;
        rill__producer_report(p, b, err);
        b = n;
    }
}

void rill_producer_destroy(rill_producer_t *p) {
    if (!p)
        return;
    p->destroying = true;
    atomic_store(&p->stop, true);
    rill__loop_wakeup(p->loop);
    pthread_join(p->thread, NULL);

    /* The connections go first: their in-flight Produce requests fail now,
     * through on_produce, while their batches are still alive (failing the
     * queues first freed those batches and on_produce then read them). */
    rill__cluster_destroy(&p->cl);

    /* Whatever was not delivered is failed, and its reports served here. */
    for (int i = 0; i < p->ntopics; i++) {
        ptopic *t = p->topics[i];
        for (int32_t k = 0; k < t->npart; k++) {
            ppart *pp = &t->parts[k];
            if (pp->open) {
                fail_list(p, pp->open, RILL_ERR_DESTROYED);
                pp->open = NULL;
            }
            fail_list(p, pp->q_head, RILL_ERR_DESTROYED);
            pp->q_head = pp->q_tail = NULL;
        }
        /* Unassigned messages. */
        rill_rd r;
        rill__rd_init(&r, t->ua.data, t->ua.len);
        static ua_msg m; /* large; destroy is not reentrant per handle */
        for (int32_t k = 0; k < t->ua_cnt && rill__ua_next(&r, &m) == 0; k++)
            rill__producer_report_one(p, t, m.part, m.ts, m.opaque,
                                      (uint64_t)(m.klen > 0 ? m.klen : 0) +
                                          (uint64_t)(m.vlen > 0 ? m.vlen : 0),
                                      RILL_ERR_DESTROYED);
        t->ua_cnt = 0;
    }
    fail_list(p, p->closed_head, RILL_ERR_DESTROYED);
    p->closed_head = p->closed_tail = NULL;
    rill_poll(p, 0);

    for (int i = 0; i < p->ntopics; i++) {
        ptopic *t = p->topics[i];
        free(t->name);
        free(t->parts);
        rill__buf_free(&t->ua);
        free(t);
    }
    free(p->topics);
    free(p->tindex);
    while (p->free_batches) {
        pbatch *b = p->free_batches;
        p->free_batches = b->next;
        rill__batch_builder_free(&b->bb);
        free(b->opaques);
        free(b->tsd);
        free(b);
    }
    rill__arena_free(&p->arena);
    rill__codec_ctx_clear(&p->codecs);
    rill__buf_free(&p->scratch);
    rill__loop_destroy(p->loop);
    pthread_mutex_destroy(&p->lock);
    pthread_mutex_destroy(&p->dr_lock);
    pthread_cond_destroy(&p->dr_cond);
    rill_conf_destroy(p->conf);
    free(p);
}

/* ---- statistics ---------------------------------------------------------- */

void rill_producer_stats(rill_producer_t *p, rill_producer_stats_t *o) {
    memset(o, 0, sizeof(*o));
    if (!p)
        return;
    o->msgs_queued = atomic_load(&p->st_msgs_queued);
    o->bytes_queued = atomic_load(&p->st_bytes_queued);
    o->msgs_sent = atomic_load(&p->st_msgs_sent);
    o->bytes_sent = atomic_load(&p->st_bytes_sent);
    o->msgs_acked = atomic_load(&p->st_msgs_acked);
    o->bytes_acked = atomic_load(&p->st_bytes_acked);
    o->msgs_failed = atomic_load(&p->st_msgs_failed);
    o->batches_sent = atomic_load(&p->st_batches_sent);
    o->requests_sent = atomic_load(&p->st_requests_sent);
    o->retries = atomic_load(&p->st_retries);
    int64_t om = atomic_load(&p->out_msgs), ob = atomic_load(&p->out_bytes);
    o->outq_msgs = om > 0 ? (uint64_t)om : 0;
    o->outq_bytes = ob > 0 ? (uint64_t)ob : 0;
}

size_t rill_producer_stats_json(rill_producer_t *p, char *buf, size_t size) {
    rill_producer_stats_t s;
    rill_producer_stats(p, &s);
    char tmp[8192];
    int n = snprintf(
        tmp, sizeof(tmp),
        "{\"client_id\":\"%s\",\"type\":\"producer\",\"ts_ms\":%lld,"
        "\"msgs_queued\":%" PRIu64 ",\"bytes_queued\":%" PRIu64 ",\"msgs_sent\":%" PRIu64
        ",\"bytes_sent\":%" PRIu64 ",\"msgs_acked\":%" PRIu64 ",\"bytes_acked\":%" PRIu64
        ",\"msgs_failed\":%" PRIu64 ",\"batches_sent\":%" PRIu64 ",\"requests_sent\":%" PRIu64
        ",\"retries\":%" PRIu64 ",\"outq_msgs\":%" PRIu64 ",\"outq_bytes\":%" PRIu64
        ",\"brokers\":[",
        p->conf->client_id ? p->conf->client_id : "", (long long)rill__wall_ms(), s.msgs_queued,
        s.bytes_queued, s.msgs_sent, s.bytes_sent, s.msgs_acked, s.bytes_acked, s.msgs_failed,
        s.batches_sent, s.requests_sent, s.retries, s.outq_msgs, s.outq_bytes);
    /* Per-broker figures belong to the I/O thread, which publishes them
     * here under the lock once a second. */
    pthread_mutex_lock(&p->lock);
    if (n > 0 && (size_t)n < sizeof(tmp))
        n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, "%s", p->broker_stats);
    pthread_mutex_unlock(&p->lock);
    if (n > 0 && (size_t)n < sizeof(tmp))
        n += snprintf(tmp + n, sizeof(tmp) - (size_t)n, "]}");
    if (n < 0)
        return 0;
    if ((size_t)n < size)
        memcpy(buf, tmp, (size_t)n + 1);
    return (size_t)n;
}
