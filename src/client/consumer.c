/*
 * consumer.c -- the application side of the consumer: rill_consumer_poll
 * hands out messages from the delivery queue and runs the callbacks;
 * commands (assign, subscribe, seek, commit...) are passed to the I/O
 * thread and, when synchronous, waited for.  Message accessors live here
 * too.  See consumer_int.h for the threading rules.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/consumer_int.h"
#include "common/clock.h"
#include "proto/record_batch.h"

static void *io_main(void *arg);

/* ---- partitions ---------------------------------------------------------- */

ctp *rill__ctp_find(rill_consumer_t *c, const char *topic, int32_t partition) {
    for (int i = 0; i < c->ntps; i++)
        if (c->tps[i]->partition == partition && !strcmp(c->tps[i]->topic, topic))
            return c->tps[i];
    return NULL;
}

ctp *rill__ctp_get(rill_consumer_t *c, const char *topic, int32_t partition) {
    ctp *tp = rill__ctp_find(c, topic, partition);
    if (tp)
        return tp;
    if (c->ntps == c->captps) {
        int ncap = c->captps ? c->captps * 2 : 16;
        ctp **n = realloc(c->tps, sizeof(*n) * (size_t)ncap);
        if (!n)
            return NULL;
        c->tps = n;
        c->captps = ncap;
    }
    tp = calloc(1, sizeof(*tp));
    if (!tp || !(tp->topic = strdup(topic))) {
        free(tp);
        return NULL;
    }
    tp->partition = partition;
    tp->app_pos = -1;
    tp->fetch_pos = -1;
    tp->hwm = -1;
    tp->revoked_pos = -1;
    tp->revoked_gen = -1;
    c->tps[c->ntps++] = tp;
    return tp;
}

/* ---- delivery queue --------------------------------------------------------- */

void rill__consumer_enqueue(rill_consumer_t *c, chunk *ch) {
    ch->next = NULL;
    pthread_mutex_lock(&c->lock);
    if (c->q_tail)
        c->q_tail->next = ch;
    else
        c->q_head = ch;
    c->q_tail = ch;
    c->q_bytes += ch->bytes;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
}

static chunk *event_chunk(ctp *tp, rill_err_t err, const char *msg) {
    chunk *ch = calloc(1, sizeof(*ch) + sizeof(rill_message_t));
    if (!ch)
        return NULL;
    atomic_init(&ch->refs, 1);
    ch->n = 1;
    rill_message_t *m = &ch->msgs[0];
    m->ch = ch;
    m->tp = tp;
    m->version = tp ? tp->version : 0;
    m->topic = tp ? tp->topic : "";
    m->partition = tp ? tp->partition : -1;
    m->offset = tp ? tp->fetch_pos : -1;
    m->klen = m->vlen = -1;
    m->err = err;
    m->errstr = strdup(msg ? msg : rill_err_str(err));
    return ch;
}

void rill__consumer_event(rill_consumer_t *c, ctp *tp, rill_err_t err, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    RILL_LOG(&c->log, err == RILL_ERR_PARTITION_EOF ? RILL_LOG_DEBUG : RILL_LOG_WARNING, "consumer",
             "%s", msg);
    chunk *ch = event_chunk(tp, err, msg);
    if (ch) {
        ch->msgs[0].version = -1; /* events are never stale */
        rill__consumer_enqueue(c, ch);
    }
}

/* A rebalance notification travels as an event whose errstr is unused. */
typedef struct rebalance_ev {
    int event;
    rill_topic_partition_t *parts;
    size_t n;
} rebalance_ev;

#define EV_REBALANCE (-999)
#define EV_COMMIT (-998)

/* A commit result for the commit callback (async and auto commits). */
typedef struct commit_ev {
    rill_err_t err;
    rill_topic_partition_t *parts;
    size_t n;
} commit_ev;

void rill__consumer_commit_event(rill_consumer_t *c, rill_err_t err, ctp **tps,
                                 const int64_t *offsets, const rill_err_t *errs, int n) {
    if (!c->conf->commit_cb)
        return;
    chunk *ch = event_chunk(NULL, (rill_err_t)EV_COMMIT, "");
    commit_ev *ev = calloc(1, sizeof(*ev));
    if (!ch || !ev) {
        free(ev);
        if (ch) {
            free(ch->msgs[0].errstr);
            free(ch);
        }
        return;
    }
    ev->err = err;
    ev->n = (size_t)n;
    ev->parts = calloc((size_t)(n ? n : 1), sizeof(*ev->parts));
    for (int i = 0; ev->parts && i < n; i++) {
        ev->parts[i].topic = tps[i]->topic;
        ev->parts[i].partition = tps[i]->partition;
        ev->parts[i].offset = offsets[i];
        ev->parts[i].err = errs[i];
    }
    free(ch->msgs[0].errstr);
    ch->msgs[0].errstr = (char *)ev;
    ch->msgs[0].version = -1;
    rill__consumer_enqueue(c, ch);
}

void rill__consumer_rebalance_event(rill_consumer_t *c, int event, ctp **tps, int n) {
    if (!c->conf->rebalance_cb)
        return;
    chunk *ch = event_chunk(NULL, (rill_err_t)EV_REBALANCE, "");
    rebalance_ev *ev = calloc(1, sizeof(*ev));
    if (!ch || !ev) {
        free(ev);
        if (ch) {
            free(ch->msgs[0].errstr);
            free(ch);
        }
        return;
    }
    ev->event = event;
    ev->n = (size_t)n;
    ev->parts = calloc((size_t)(n ? n : 1), sizeof(*ev->parts));
    for (int i = 0; ev->parts && i < n; i++) {
        ev->parts[i].topic = tps[i]->topic; /* ctp names live until destroy */
        ev->parts[i].partition = tps[i]->partition;
        ev->parts[i].offset = RILL_OFFSET_INVALID;
    }
    free(ch->msgs[0].errstr);
    ch->msgs[0].errstr = (char *)ev;
    ch->msgs[0].version = -1;
    rill__consumer_enqueue(c, ch);
}

static void pool_unref(rill_rbuf_pool *pool) {
    if (pool && atomic_fetch_sub(&pool->refs, 1) == 1)
        free(pool);
}

void rill__rbuf_free(rill_rbuf *rb) {
    if (!rb)
        return;
    rill_rbuf_pool *pool = rb->pool;
    if (rb->data != rb->own)
        free(rb->data);
    free(rb);
    pool_unref(pool);
}

/* Parks rb in a free slot of its pool; false if none (or the pool closed). */
static bool pool_park(rill_rbuf_pool *pool, rill_rbuf *rb) {
    if (atomic_load(&pool->closed))
        return false;
    for (int i = 0; i < RILL_RBUF_SPARES; i++) {
        rill_rbuf *none = NULL;
        if (!atomic_compare_exchange_strong(&pool->spare[i], &none, rb))
            continue;
        /* The consumer may have emptied the slots just before: if it closed
         * meanwhile, take rb back out unless it already did. */
        rill_rbuf *self = rb;
        if (atomic_load(&pool->closed) &&
            atomic_compare_exchange_strong(&pool->spare[i], &self, NULL))
            return false;
        return true;
    }
    return false;
}

void rill__rbuf_release(rill_rbuf *rb) {
    if (!rb || atomic_fetch_sub(&rb->refs, 1) != 1)
        return;
    if (rb->pool && rb->data && pool_park(rb->pool, rb))
        return;
    rill__rbuf_free(rb);
}

rill_rbuf *rill__rbuf_get(rill_consumer_t *c, size_t size) {
    rill_rbuf *rb = NULL;
    for (int i = 0; !rb && i < RILL_RBUF_SPARES; i++) {
        rb = atomic_exchange(&c->rpool->spare[i], NULL);
        if (rb && rb->size < size) {
            rill__rbuf_free(rb); /* answers grew: make room for a larger one */
            rb = NULL;
        }
    }
    if (!rb) {
        rb = calloc(1, sizeof(*rb));
        if (!rb)
            return NULL;
        rb->pool = c->rpool;
        atomic_fetch_add(&c->rpool->refs, 1);
    }
    atomic_init(&rb->refs, 1);
    return rb;
}

static void pool_close(rill_rbuf_pool *pool) {
    if (!pool)
        return;
    atomic_store(&pool->closed, true);
    for (int i = 0; i < RILL_RBUF_SPARES; i++)
        rill__rbuf_free(atomic_exchange(&pool->spare[i], NULL));
    pool_unref(pool);
}

static void chunk_release(chunk *ch) {
    if (atomic_fetch_sub(&ch->refs, 1) != 1)
        return;
    for (int32_t i = 0; i < ch->n; i++)
        if (ch->msgs[i].err && ch->msgs[i].err != (rill_err_t)EV_REBALANCE &&
            ch->msgs[i].err != (rill_err_t)EV_COMMIT)
            free(ch->msgs[i].errstr);
    for (int i = 0; i < ch->nextra; i++)
        free(ch->extra[i]);
    free(ch->extra);
    rill__rbuf_release(ch->rb);
    free(ch);
}

void rill_message_destroy(rill_message_t *m) {
    if (m)
        chunk_release(m->ch);
}

/* Takes the next deliverable message (lock held); NULL when none. */
static rill_message_t *dequeue_locked(rill_consumer_t *c) {
    while (c->q_head) {
        chunk *ch = c->q_head;
        while (ch->next_i < ch->n) {
            rill_message_t *m = &ch->msgs[ch->next_i++];
            if (m->version >= 0 && (!m->tp || m->version != m->tp->version))
                continue; /* seeked or revoked since it was fetched */
            if (m->tp && !m->err)
                m->tp->app_pos = m->offset + 1;
            atomic_fetch_add(&ch->refs, 1);
            if (ch->next_i == ch->n) {
                c->q_head = ch->next;
                if (!c->q_head)
                    c->q_tail = NULL;
                c->q_bytes -= ch->bytes;
                if (m->tp)
                    m->tp->queued_bytes -= ch->bytes;
                chunk_release(ch);
            }
            return m;
        }
        c->q_head = ch->next;
        if (!c->q_head)
            c->q_tail = NULL;
        c->q_bytes -= ch->bytes;
        if (ch->n && ch->msgs[0].tp)
            ch->msgs[0].tp->queued_bytes -= ch->bytes;
        chunk_release(ch);
    }
    return NULL;
}

static void push_cmd(rill_consumer_t *c, cmd *k) {
    k->next = NULL;
    pthread_mutex_lock(&c->lock);
    if (c->cmd_tail)
        c->cmd_tail->next = k;
    else
        c->cmd_head = k;
    c->cmd_tail = k;
    pthread_mutex_unlock(&c->lock);
    rill__loop_wakeup(c->loop);
}

void rill__cmd_finish(rill_consumer_t *c, cmd *k, rill_err_t err) {
    pthread_mutex_lock(&c->lock);
    k->err = err;
    k->done = true;
    bool waited = k->waited;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    if (!waited) {
        for (size_t i = 0; i < k->n; i++)
            free((char *)k->parts[i].topic);
        free(k->parts);
        for (size_t i = 0; i < k->ntopics; i++)
            free(k->topics[i]);
        free(k->topics);
        free(k);
    }
}

static void cmd_free(cmd *k) {
    for (size_t i = 0; i < k->n; i++)
        free((char *)k->parts[i].topic);
    free(k->parts);
    for (size_t i = 0; i < k->ntopics; i++)
        free(k->topics[i]);
    free(k->topics);
    free(k);
}

/* Runs a command on the I/O thread and waits for it (up to timeout_ms). */
static rill_err_t run_cmd(rill_consumer_t *c, cmd *k, int timeout_ms) {
    k->waited = true;
    push_cmd(c, k);
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : rill__mono_ms() + timeout_ms;
    pthread_mutex_lock(&c->lock);
    while (!k->done) {
        int64_t left = deadline - rill__mono_ms();
        if (left <= 0)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t w = left > 100 ? 100 : left;
        ts.tv_nsec += (long)(w * 1000000);
        ts.tv_sec += ts.tv_nsec / 1000000000;
        ts.tv_nsec %= 1000000000;
        pthread_cond_timedwait(&c->cond, &c->lock, &ts);
    }
    bool done = k->done;
    rill_err_t err = k->err;
    if (!done)
        k->waited = false; /* the I/O thread frees it when it finishes */
    pthread_mutex_unlock(&c->lock);
    if (done) {
        cmd_free(k);
        return err;
    }
    return RILL_ERR_TIMED_OUT;
}

static cmd *cmd_new(cmd_type type, const rill_topic_partition_t *parts, size_t n) {
    cmd *k = calloc(1, sizeof(*k));
    if (!k)
        return NULL;
    k->type = type;
    if (n) {
        k->parts = calloc(n, sizeof(*k->parts));
        if (!k->parts) {
            free(k);
            return NULL;
        }
        for (size_t i = 0; i < n; i++) {
            k->parts[i] = parts[i];
            k->parts[i].topic = strdup(parts[i].topic ? parts[i].topic : "");
        }
        k->n = n;
    }
    return k;
}

/* ---- public API ------------------------------------------------------------ */

rill_consumer_t *rill_consumer_new(const rill_conf_t *conf, char *errstr, size_t errstr_size) {
    char dummy[8];
    if (!errstr) {
        errstr = dummy;
        errstr_size = sizeof(dummy);
    }
    if (!conf) {
        snprintf(errstr, errstr_size, "conf is NULL");
        return NULL;
    }
    rill_consumer_t *c = calloc(1, sizeof(*c));
    if (!c || !(c->conf = rill_conf_dup(conf))) {
        free(c);
        snprintf(errstr, errstr_size, "out of memory");
        return NULL;
    }
    if (rill__conf_check_consumer(c->conf, errstr, errstr_size) != 0) {
        rill_conf_destroy(c->conf);
        free(c);
        return NULL;
    }
    rill__conf_logger(c->conf, &c->log);
    c->loop = rill__loop_new();
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &ca);
    pthread_condattr_destroy(&ca);
    rill__arena_init(&c->arena, 0);
    c->rpool = calloc(1, sizeof(*c->rpool));
    if (c->rpool)
        atomic_init(&c->rpool->refs, 1);
    rill__batch_reader_init(&c->reader, (size_t)c->conf->fetch_max_bytes * 4 + (64u << 20));
    c->coord_id = -1;
    c->generation = -1;
    c->last_poll_us = rill__mono_us();
    rill_cluster_hooks hooks = {NULL, NULL, NULL, c};
    if (!c->loop || !c->rpool ||
        rill__cluster_init(&c->cl, c->conf, &c->log, c->loop, &hooks, errstr, errstr_size) != 0) {
        if (!c->loop)
            snprintf(errstr, errstr_size, "cannot create event loop");
        else if (!c->rpool)
            snprintf(errstr, errstr_size, "out of memory");
        free(c->rpool);
        rill__loop_destroy(c->loop);
        rill__batch_reader_free(&c->reader);
        rill_conf_destroy(c->conf);
        free(c);
        return NULL;
    }
    c->cl.allow_auto_create = false; /* as the Java consumer's allow.auto.create.topics */
    if (pthread_create(&c->thread, NULL, io_main, c) != 0) {
        snprintf(errstr, errstr_size, "cannot start I/O thread");
        free(c->rpool);
        rill__cluster_destroy(&c->cl);
        rill__loop_destroy(c->loop);
        rill__batch_reader_free(&c->reader);
        rill_conf_destroy(c->conf);
        free(c);
        return NULL;
    }
    return c;
}

rill_err_t rill_subscribe(rill_consumer_t *c, const char *const *topics, size_t n) {
    if (!c || (n && !topics))
        return RILL_ERR_INVALID_ARG;
    if (!c->conf->group_id || !*c->conf->group_id)
        return RILL_ERR_INVALID_ARG; /* subscribe needs group.id */
    cmd *k = cmd_new(CMD_SUBSCRIBE, NULL, 0);
    if (!k)
        return RILL_ERR_NO_MEMORY;
    k->topics = calloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        if (!topics[i] || !*topics[i]) {
            cmd_free(k);
            return RILL_ERR_INVALID_ARG;
        }
        k->topics[i] = strdup(topics[i]);
    }
    k->ntopics = n;
    return run_cmd(c, k, 10000);
}

rill_err_t rill_unsubscribe(rill_consumer_t *c) { return rill_subscribe(c, NULL, 0); }

rill_err_t rill_assign(rill_consumer_t *c, const rill_topic_partition_t *parts, size_t n) {
    if (!c || (n && !parts))
        return RILL_ERR_INVALID_ARG;
    for (size_t i = 0; i < n; i++)
        if (!parts[i].topic || parts[i].partition < 0)
            return RILL_ERR_INVALID_ARG;
    cmd *k = cmd_new(CMD_ASSIGN, parts, n);
    if (!k)
        return RILL_ERR_NO_MEMORY;
    return run_cmd(c, k, 10000);
}

rill_err_t rill_seek(rill_consumer_t *c, const char *topic, int32_t partition, int64_t offset) {
    if (!c || !topic || partition < 0)
        return RILL_ERR_INVALID_ARG;
    rill_topic_partition_t tp = {topic, partition, offset, 0};
    cmd *k = cmd_new(CMD_SEEK, &tp, 1);
    if (!k)
        return RILL_ERR_NO_MEMORY;
    return run_cmd(c, k, 10000);
}

static rill_err_t set_paused(rill_consumer_t *c, const rill_topic_partition_t *parts, size_t n,
                             bool paused) {
    if (!c || (n && !parts))
        return RILL_ERR_INVALID_ARG;
    rill_err_t rc = 0;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < n; i++) {
        ctp *tp = parts[i].topic ? rill__ctp_find(c, parts[i].topic, parts[i].partition) : NULL;
        if (!tp || !tp->assigned) {
            rc = RILL_ERR_UNKNOWN_PARTITION;
            continue;
        }
        tp->paused = paused;
    }
    pthread_mutex_unlock(&c->lock);
    rill__loop_wakeup(c->loop);
    return rc;
}

rill_err_t rill_pause(rill_consumer_t *c, const rill_topic_partition_t *parts, size_t n) {
    return set_paused(c, parts, n, true);
}

rill_err_t rill_resume(rill_consumer_t *c, const rill_topic_partition_t *parts, size_t n) {
    return set_paused(c, parts, n, false);
}

rill_err_t rill_position(rill_consumer_t *c, rill_topic_partition_t *parts, size_t n) {
    if (!c || (n && !parts))
        return RILL_ERR_INVALID_ARG;
    pthread_mutex_lock(&c->lock);
    for (size_t i = 0; i < n; i++) {
        ctp *tp = parts[i].topic ? rill__ctp_find(c, parts[i].topic, parts[i].partition) : NULL;
        parts[i].offset = tp && tp->app_pos >= 0 ? tp->app_pos : RILL_OFFSET_INVALID;
        parts[i].err = tp && tp->assigned ? 0 : RILL_ERR_UNKNOWN_PARTITION;
    }
    pthread_mutex_unlock(&c->lock);
    return 0;
}

rill_err_t rill_assignment(rill_consumer_t *c, rill_topic_partition_t **parts, size_t *n) {
    if (!c || !parts || !n)
        return RILL_ERR_INVALID_ARG;
    pthread_mutex_lock(&c->lock);
    size_t k = 0;
    for (int i = 0; i < c->ntps; i++)
        k += c->tps[i]->assigned;
    rill_topic_partition_t *out = calloc(k ? k : 1, sizeof(*out));
    size_t j = 0;
    for (int i = 0; out && i < c->ntps; i++) {
        if (!c->tps[i]->assigned)
            continue;
        out[j].topic = strdup(c->tps[i]->topic);
        out[j].partition = c->tps[i]->partition;
        out[j].offset = c->tps[i]->app_pos >= 0 ? c->tps[i]->app_pos : RILL_OFFSET_INVALID;
        j++;
    }
    pthread_mutex_unlock(&c->lock);
    if (!out)
        return RILL_ERR_NO_MEMORY;
    *parts = out;
    *n = j;
    return 0;
}

void rill_topic_partitions_free(rill_topic_partition_t *parts, size_t n) {
    for (size_t i = 0; parts && i < n; i++)
        free((char *)parts[i].topic);
    free(parts);
}

rill_err_t rill_commit(rill_consumer_t *c, const rill_topic_partition_t *offsets, size_t n,
                       int async) {
    if (!c || (n && !offsets))
        return RILL_ERR_INVALID_ARG;
    if (!c->conf->group_id || !*c->conf->group_id)
        return RILL_ERR_INVALID_ARG;
    cmd *k = cmd_new(CMD_COMMIT, offsets, offsets ? n : 0);
    if (!k)
        return RILL_ERR_NO_MEMORY;
    k->async = async != 0;
    k->timeout_ms = c->conf->request_timeout_ms;
    if (async) {
        push_cmd(c, k);
        return 0;
    }
    return run_cmd(c, k, c->conf->request_timeout_ms + 1000);
}

rill_err_t rill_committed(rill_consumer_t *c, rill_topic_partition_t *parts, size_t n,
                          int timeout_ms) {
    if (!c || (n && !parts) || !c->conf->group_id || !*c->conf->group_id)
        return RILL_ERR_INVALID_ARG;
    cmd *k = cmd_new(CMD_COMMITTED, parts, n);
    if (!k)
        return RILL_ERR_NO_MEMORY;
    k->timeout_ms = timeout_ms;
    k->deadline_us = rill__mono_us() + (int64_t)timeout_ms * 1000;
    k->waited = true;
    push_cmd(c, k);
    /* Wait here (not run_cmd) because the results are copied back. */
    int64_t deadline = rill__mono_ms() + timeout_ms;
    pthread_mutex_lock(&c->lock);
    while (!k->done && rill__mono_ms() < deadline) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 50 * 1000000;
        ts.tv_sec += ts.tv_nsec / 1000000000;
        ts.tv_nsec %= 1000000000;
        pthread_cond_timedwait(&c->cond, &c->lock, &ts);
    }
    bool done = k->done;
    if (!done)
        k->waited = false;
    pthread_mutex_unlock(&c->lock);
    if (!done)
        return RILL_ERR_TIMED_OUT;
    for (size_t i = 0; i < n; i++) {
        parts[i].offset = k->parts[i].offset;
        parts[i].err = k->parts[i].err;
    }
    rill_err_t err = k->err;
    cmd_free(k);
    return err;
}

static void serve_commit(rill_consumer_t *c, rill_message_t *m) {
    commit_ev *ev = (commit_ev *)m->errstr;
    c->conf->commit_cb(c, ev->err, ev->parts, ev->n, c->conf->opaque);
    free(ev->parts);
    free(ev);
    m->errstr = NULL;
}

static void serve_rebalance(rill_consumer_t *c, rill_message_t *m) {
    rebalance_ev *ev = (rebalance_ev *)m->errstr;
    c->conf->rebalance_cb(c, ev->event, ev->parts, ev->n, c->conf->opaque);
    free(ev->parts);
    free(ev);
    m->errstr = NULL;
    cmd *k = cmd_new(CMD_REBALANCE_DONE, NULL, 0);
    if (k)
        push_cmd(c, k);
}

rill_message_t *rill_consumer_poll(rill_consumer_t *c, int timeout_ms) {
    if (!c)
        return NULL;
    /* Set before the first wait or callback: a poll that finds a message
     * right away needs no clock. */
    int64_t deadline = -1;
    pthread_mutex_lock(&c->lock);
    /* Only max.poll.interval.ms is checked against this stamp, so the coarse
     * clock does: a precise read per message cost more than the dequeue. */
    c->last_poll_us = rill__mono_coarse_us();
    for (;;) {
        rill_message_t *m = dequeue_locked(c);
        if (m && (m->err == (rill_err_t)EV_REBALANCE || m->err == (rill_err_t)EV_COMMIT)) {
            pthread_mutex_unlock(&c->lock);
            if (deadline < 0) /* the callback's time counts against the timeout */
                deadline =
                    timeout_ms < 0 ? INT64_MAX : rill__mono_us() + (int64_t)timeout_ms * 1000;
            if (m->err == (rill_err_t)EV_COMMIT)
                serve_commit(c, m);
            else
                serve_rebalance(c, m);
            rill_message_destroy(m);
            pthread_mutex_lock(&c->lock);
            continue;
        }
        if (m) {
            pthread_mutex_unlock(&c->lock);
            rill__loop_wakeup(c->loop); /* room in the prefetch budget */
            return m;
        }
        int64_t now = rill__mono_us();
        if (deadline < 0)
            deadline = timeout_ms < 0 ? INT64_MAX : now + (int64_t)timeout_ms * 1000;
        if (now >= deadline)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        int64_t w = deadline - now;
        if (w > 100000)
            w = 100000;
        ts.tv_nsec += (long)(w * 1000);
        ts.tv_sec += ts.tv_nsec / 1000000000;
        ts.tv_nsec %= 1000000000;
        pthread_cond_timedwait(&c->cond, &c->lock, &ts);
        c->last_poll_us = rill__mono_us();
    }
    pthread_mutex_unlock(&c->lock);
    return NULL;
}

rill_err_t rill_consumer_close(rill_consumer_t *c, int timeout_ms) {
    if (!c)
        return RILL_ERR_INVALID_ARG;
    if (c->closed)
        return 0;
    cmd *k = cmd_new(CMD_CLOSE, NULL, 0);
    if (!k)
        return RILL_ERR_NO_MEMORY;
    k->timeout_ms = timeout_ms;
    k->deadline_us = rill__mono_us() + (int64_t)timeout_ms * 1000;
    rill_err_t err = run_cmd(c, k, timeout_ms + 500);
    /* Serve what the close produced (the revoke callback). */
    rill_message_t *m;
    while ((m = rill_consumer_poll(c, 0)))
        rill_message_destroy(m);
    c->closed = true;
    return err;
}

void rill_consumer_destroy(rill_consumer_t *c) {
    if (!c)
        return;
    if (!c->closed)
        rill_consumer_close(c, 10000);
    atomic_store(&c->stop, true);
    rill__loop_wakeup(c->loop);
    pthread_join(c->thread, NULL);
    /* Commands nobody will run. */
    while (c->cmd_head) {
        cmd *k = c->cmd_head;
        c->cmd_head = k->next;
        if (k->waited) {
            k->done = true;
            k->err = RILL_ERR_DESTROYED;
        } else {
            cmd_free(k);
        }
    }
    while (c->q_head) {
        chunk *ch = c->q_head;
        c->q_head = ch->next;
        for (int32_t i = ch->next_i; i < ch->n; i++) {
            if (ch->msgs[i].err == (rill_err_t)EV_REBALANCE && ch->msgs[i].errstr) {
                rebalance_ev *ev = (rebalance_ev *)ch->msgs[i].errstr;
                free(ev->parts);
                free(ev);
                ch->msgs[i].errstr = NULL;
            } else if (ch->msgs[i].err == (rill_err_t)EV_COMMIT && ch->msgs[i].errstr) {
                commit_ev *ev = (commit_ev *)ch->msgs[i].errstr;
                free(ev->parts);
                free(ev);
                ch->msgs[i].errstr = NULL;
            }
        }
        chunk_release(ch);
    }
    rill__group_free(c);
    rill__cluster_destroy(&c->cl);
    for (int i = 0; i < c->ntps; i++) {
        free(c->tps[i]->topic);
        free(c->tps[i]);
    }
    free(c->tps);
    free(c->build);
    pool_close(c->rpool);
    free(c->scratch_extra);
    free(c->fetch_inflight);
    rill__arena_free(&c->arena);
    rill__batch_reader_free(&c->reader);
    rill__loop_destroy(c->loop);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    rill_conf_destroy(c->conf);
    free(c);
}

/* ---- the I/O thread's command handling ---------------------------------------- */

static void do_assign(rill_consumer_t *c, cmd *k) {
    if (c->subscribed) {
        rill__cmd_finish(c, k, RILL_ERR_STATE);
        return;
    }
    /* Stop what is no longer assigned, start the rest. */
    for (int i = 0; i < c->ntps; i++) {
        ctp *tp = c->tps[i];
        bool keep = false;
        for (size_t j = 0; j < k->n; j++)
            if (tp->partition == k->parts[j].partition && !strcmp(tp->topic, k->parts[j].topic))
                keep = true;
        if (tp->assigned && !keep)
            rill__tp_stop(c, tp);
    }
    for (size_t j = 0; j < k->n; j++) {
        ctp *tp = rill__ctp_get(c, k->parts[j].topic, k->parts[j].partition);
        if (!tp)
            continue;
        rill__cluster_topic(&c->cl, tp->topic);
        rill__tp_start(c, tp, k->parts[j].offset);
    }
    rill__cmd_finish(c, k, 0);
}

static void do_seek(rill_consumer_t *c, cmd *k) {
    ctp *tp = rill__ctp_find(c, k->parts[0].topic, k->parts[0].partition);
    if (!tp || !tp->assigned) {
        rill__cmd_finish(c, k, RILL_ERR_UNKNOWN_PARTITION);
        return;
    }
    rill__tp_start(c, tp, k->parts[0].offset);
    rill__cmd_finish(c, k, 0);
}

static void run_cmds(rill_consumer_t *c) {
    pthread_mutex_lock(&c->lock);
    cmd *list = c->cmd_head;
    c->cmd_head = c->cmd_tail = NULL;
    pthread_mutex_unlock(&c->lock);
    while (list) {
        cmd *k = list;
        list = k->next;
        switch (k->type) {
        case CMD_ASSIGN:
            do_assign(c, k);
            break;
        case CMD_SUBSCRIBE:
            rill__group_subscribe(c, k->topics, k->ntopics);
            rill__cmd_finish(c, k, 0);
            break;
        case CMD_SEEK:
            do_seek(c, k);
            break;
        case CMD_COMMIT:
            rill__group_commit(c, k);
            break;
        case CMD_COMMITTED:
            rill__group_committed(c, k);
            break;
        case CMD_CLOSE:
            rill__group_leave(c, k);
            break;
        case CMD_REBALANCE_DONE:
            rill__group_rebalance_done(c);
            rill__cmd_finish(c, k, 0);
            break;
        }
    }
}

static void *io_main(void *arg) {
    rill_consumer_t *c = arg;
    while (!atomic_load(&c->stop)) {
        int64_t now = rill__mono_us();
        run_cmds(c);
        rill__group_step(c, now);
        rill__fetch_step(c, now);
        rill__cluster_tick(&c->cl, now);
        int64_t next = rill__cluster_next_wakeup(&c->cl, now);
        int64_t wait = next - now;
        if (wait > 100000)
            wait = 100000; /* group timers and backoffs */
        if (wait < 0)
            wait = 0;
        rill__loop_step(c->loop, (int)((wait + 999) / 1000));
    }
    /* Fail what is still in flight while the state is alive. */
    rill__cluster_abort_all(&c->cl, RILL_ERR_DESTROYED, "consumer destroyed");
    return NULL;
}

/* ---- message accessors ---------------------------------------------------------- */

rill_err_t rill_message_err(const rill_message_t *m) { return m ? m->err : RILL_ERR_INVALID_ARG; }
const char *rill_message_errstr(const rill_message_t *m) {
    return m && m->err && m->errstr ? m->errstr : "";
}
const char *rill_message_topic(const rill_message_t *m) { return m ? m->topic : NULL; }
int32_t rill_message_partition(const rill_message_t *m) { return m ? m->partition : -1; }
int64_t rill_message_offset(const rill_message_t *m) { return m ? m->offset : -1; }
int64_t rill_message_timestamp(const rill_message_t *m, int *log_append_time) {
    if (log_append_time)
        *log_append_time = m ? m->log_append_time : 0;
    return m ? m->timestamp : -1;
}
const void *rill_message_key(const rill_message_t *m, size_t *len) {
    if (len)
        *len = m && m->klen > 0 ? (size_t)m->klen : 0;
    return m && m->klen >= 0 ? (const void *)(m->key ? m->key : (const uint8_t *)"") : NULL;
}
const void *rill_message_value(const rill_message_t *m, size_t *len) {
    if (len)
        *len = m && m->vlen > 0 ? (size_t)m->vlen : 0;
    return m && m->vlen >= 0 ? (const void *)(m->val ? m->val : (const uint8_t *)"") : NULL;
}
size_t rill_message_header_count(const rill_message_t *m) {
    return m && m->nhdrs > 0 ? (size_t)m->nhdrs : 0;
}
int rill_message_header(const rill_message_t *m, size_t i, const char **name, size_t *name_len,
                        const void **value, size_t *value_len) {
    if (!m || i >= rill_message_header_count(m))
        return -1;
    rill_record rec;
    memset(&rec, 0, sizeof(rec));
    rec.header_count = m->nhdrs;
    rec.headers = m->hdrs;
    rec.headers_len = m->hdrs_len;
    rill_header_iter hi;
    rill__header_iter_init(&hi, &rec);
    rill_str hn;
    rill_bytes hv;
    for (size_t k = 0; k <= i; k++)
        if (rill__header_iter_next(&hi, &hn, &hv) != 1)
            return -1;
    if (name)
        *name = hn.ptr;
    if (name_len)
        *name_len = hn.len > 0 ? (size_t)hn.len : 0;
    if (value)
        *value = hv.len >= 0 ? (const void *)(hv.ptr ? hv.ptr : (const uint8_t *)"") : NULL;
    if (value_len)
        *value_len = hv.len > 0 ? (size_t)hv.len : 0;
    return 0;
}
