/*
 * fetch.c -- Fetch (key 1): zero-copy reads from the segment files, and long polling.
 *
 * A partition's records are never copied into memory: storage says which byte range of
 * which segment file holds the whole batches from the one containing the fetch offset on
 * (the consumer skips the records before its offset), and the response carries that range
 * as a splice that the session writes with sendfile(2).  Limits follow KIP-74: the first
 * batch of the first non-empty partition is returned even when it is larger than
 * max_bytes / partition_max_bytes, so a consumer can always make progress; later
 * partitions get data only while the response stays under max_bytes.
 *
 * Long poll (Kafka's DelayedFetch): when the partitions together have fewer than
 * min_bytes and no partition has an error, the request is parked until an append gives it
 * enough, or max_wait_ms passes, and then answered with whatever is there.  A parked fetch
 * keeps a copy of its request body (the receive buffer is reused) and a pending response
 * slot in its session, so later requests on the connection are still answered in order.
 * Parked fetches are re-checked after the loop iterations in which something was appended;
 * their deadlines are a min-heap.
 *
 * Fetch sessions (KIP-227, v7+): none are created (session id 0 in every answer), which
 * every client handles by sending full fetches; an incremental fetch naming a session gets
 * FETCH_SESSION_ID_NOT_FOUND.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/server/handlers.h"
#include "proto/api_fetch.h"

struct rill_parked {
    rill_session *s;
    rill_resp *resp;
    uint8_t *body; /* copy of the request body */
    size_t len;
    int16_t ver;
    int64_t deadline; /* monotonic ms */
    size_t heap_idx;
    int cancelled;
    rill_parked *next_dead;
};

/* ---- the deadline heap ----------------------------------------------------------------- */

static void heap_swap(rill_server *srv, size_t i, size_t j) {
    rill_parked *t = srv->parked[i];
    srv->parked[i] = srv->parked[j];
    srv->parked[j] = t;
    srv->parked[i]->heap_idx = i;
    srv->parked[j]->heap_idx = j;
}

static void heap_up(rill_server *srv, size_t i) {
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (srv->parked[p]->deadline <= srv->parked[i]->deadline)
            break;
        heap_swap(srv, i, p);
        i = p;
    }
}

static void heap_down(rill_server *srv, size_t i) {
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < srv->nparked && srv->parked[l]->deadline < srv->parked[m]->deadline)
            m = l;
        if (r < srv->nparked && srv->parked[r]->deadline < srv->parked[m]->deadline)
            m = r;
        if (m == i)
            break;
        heap_swap(srv, i, m);
        i = m;
    }
}

static int heap_push(rill_server *srv, rill_parked *p) {
    if (srv->nparked == srv->capparked) {
        size_t cap = srv->capparked ? srv->capparked * 2 : 64;
        rill_parked **a = realloc(srv->parked, cap * sizeof(*a));
        if (!a)
            return -1;
        srv->parked = a;
        srv->capparked = cap;
    }
    p->heap_idx = srv->nparked;
    srv->parked[srv->nparked++] = p;
    heap_up(srv, p->heap_idx);
    return 0;
}

static void heap_remove(rill_server *srv, rill_parked *p) {
    size_t i = p->heap_idx;
    srv->nparked--;
    if (i != srv->nparked) {
        srv->parked[i] = srv->parked[srv->nparked];
        srv->parked[i]->heap_idx = i;
        heap_down(srv, i);
        heap_up(srv, i);
    }
}

/* Parked records are freed only after a check pass: a pass holds pointers to them. */
static void retire(rill_server *srv, rill_parked *p) {
    heap_remove(srv, p);
    p->cancelled = 1;
    p->next_dead = srv->parked_dead;
    srv->parked_dead = p;
}

void rill__fetch_free_dead(rill_server *srv) {
    while (srv->parked_dead) {
        rill_parked *p = srv->parked_dead;
        srv->parked_dead = p->next_dead;
        free(p->body);
        free(p);
    }
}

void rill__fetch_cancel(rill_server *srv, rill_parked *p) {
    if (!p->cancelled)
        retire(srv, p);
}

int64_t rill__fetch_next_deadline(rill_server *srv) {
    if (!srv->nparked)
        return -1;
    int64_t d = srv->parked[0]->deadline - srv->mono_ms;
    return d < 0 ? 0 : d;
}

/* ---- reading and encoding ------------------------------------------------------------- */

typedef struct part_read {
    int16_t error;
    rill_log_read rd;
} part_read;

typedef struct topic_res {
    const rill_topic *tp; /* NULL: unknown */
    part_read *parts;
} topic_res;

enum { FETCH_DONE = 0, FETCH_PARK = 1, FETCH_FAIL = -1 };

static void release_reads(topic_res *tr, const rill_fetch_req *req) {
    for (int32_t t = 0; t < req->ntopics; t++)
        for (int32_t i = 0; i < req->topics[t].npartitions; i++)
            rill__log_read_done(&tr[t].parts[i].rd);
}

/*
 * Reads every partition; with may_park, parks (returns FETCH_PARK, reads released) when
 * there is less than min_bytes and no error; otherwise encodes the body into r->buf.
 */
static int fetch_run(rill_server *srv, rill_resp *r, int16_t ver, const rill_fetch_req *req,
                     int may_park, int *nerrors) {
    rill_arena *a = &srv->arena;
    rill_topics *topics = rill__storage_topics(srv->st);
    int16_t top_error = 0;
    if (ver >= 7 && req->session_id != 0)
        top_error = RILL_ERR_FETCH_SESSION_ID_NOT_FOUND;
    else if (ver >= 7 && req->session_epoch > 0)
        top_error = RILL_ERR_INVALID_FETCH_SESSION_EPOCH;

    int32_t ntopics = top_error ? 0 : req->ntopics;
    topic_res *tr = rill__arena_calloc(a, (size_t)(ntopics > 0 ? ntopics : 0), sizeof(*tr));
    if (!tr && ntopics > 0)
        return FETCH_FAIL;
    int64_t remaining = req->max_bytes > 0 ? req->max_bytes : 0, total = 0;
    int any_error = 0, have_data = 0;
    for (int32_t t = 0; t < ntopics; t++) {
        const rill_fetch_req_topic *rt = &req->topics[t];
        tr[t].parts = rill__arena_calloc(a, (size_t)(rt->npartitions > 0 ? rt->npartitions : 0),
                                         sizeof(*tr[t].parts));
        if (!tr[t].parts && rt->npartitions > 0) {
            for (int32_t u = 0; u < t; u++)
                for (int32_t i = 0; i < req->topics[u].npartitions; i++)
                    rill__log_read_done(&tr[u].parts[i].rd);
            return FETCH_FAIL;
        }
        char name[RILL_TOPIC_NAME_MAX + 1];
        if (ver >= 13)
            tr[t].tp = rill__topics_find_id(topics, rt->topic_id);
        else if (rill__topic_cstr(rt->topic, name, sizeof(name)) == 0)
            tr[t].tp = rill__topics_find(topics, name);
        for (int32_t i = 0; i < rt->npartitions; i++) {
            const rill_fetch_req_partition *rp = &rt->partitions[i];
            part_read *pr = &tr[t].parts[i];
            pr->rd.fd = -1;
            pr->rd.high_watermark = pr->rd.log_start_offset = -1;
            rill_log *log =
                tr[t].tp ? rill__storage_log(srv->st, tr[t].tp->name, rp->partition) : NULL;
            if (!log) {
                pr->error = ver >= 13 && !tr[t].tp ? RILL_ERR_UNKNOWN_TOPIC_ID
                                                   : RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                any_error = 1;
                continue;
            }
            /* Kafka: min(partition_max_bytes, what the response has left); only the first
             * batch of the response may go over it (KIP-74), which rill__log_read gives. */
            int64_t limit = rp->partition_max_bytes > 0 ? rp->partition_max_bytes : 0;
            if (remaining < limit)
                limit = remaining;
            if (have_data && limit <= 0) {
                /* The response is full: report the offsets, no records. */
                pr->rd.high_watermark = rill__log_high_watermark(log);
                pr->rd.log_start_offset = rill__log_start_offset(log);
                continue;
            }
            rill_err_t e = rill__log_read(log, rp->fetch_offset, limit, &pr->rd);
            if (e) {
                pr->error = e > 0 ? (int16_t)e : RILL_ERR_KAFKA_STORAGE_ERROR;
                any_error = 1;
                rill__log_read_done(&pr->rd);
                pr->rd.len = 0;
                continue;
            }
            if (pr->rd.len > 0 && have_data && pr->rd.len > limit) {
                /* One batch bigger than what is left: it comes in a later fetch. */
                rill__log_read_done(&pr->rd);
                pr->rd.len = 0;
            }
            if (pr->rd.len > 0) {
                have_data = 1;
                total += pr->rd.len;
                remaining -= pr->rd.len;
            }
        }
    }
    if (may_park && !top_error && !any_error && total < req->min_bytes) {
        release_reads(tr, req);
        return FETCH_PARK;
    }

    rill_buf *b = &r->buf;
    rill_fetch_resp head;
    memset(&head, 0, sizeof(head));
    head.error_code = top_error;
    *nerrors += top_error != 0;
    rill__fetch_resp_begin(b, ver, &head, ntopics);
    for (int32_t t = 0; t < ntopics; t++) {
        const rill_fetch_req_topic *rt = &req->topics[t];
        rill_fetch_resp_topic ot;
        memset(&ot, 0, sizeof(ot));
        ot.topic = rt->topic;
        memcpy(ot.topic_id, rt->topic_id, 16);
        rill__fetch_resp_topic_begin(b, ver, &ot, rt->npartitions);
        rill_topic_stats *stats = tr[t].tp ? rill__topic_stats(srv, tr[t].tp->name) : NULL;
        for (int32_t i = 0; i < rt->npartitions; i++) {
            part_read *pr = &tr[t].parts[i];
            rill_fetch_resp_partition p;
            rill__fetch_resp_partition_init(&p, rt->partitions[i].partition);
            p.error_code = pr->error;
            *nerrors += pr->error != 0;
            p.high_watermark = pr->rd.high_watermark;
            p.last_stable_offset = pr->rd.high_watermark; /* no transactions */
            p.log_start_offset = pr->rd.log_start_offset;
            int64_t len = pr->rd.len > 0 ? pr->rd.len : 0;
            rill__fetch_resp_partition_header(b, ver, &p, (int32_t)len);
            if (len > 0) {
                if (stats) {
                    stats->bytes_out += (uint64_t)len;
                    /* Records from the fetch offset on: those before it in the first
                     * batch go out too, but the consumer skips them. */
                    int64_t from = rt->partitions[i].fetch_offset;
                    if (from < pr->rd.first_offset)
                        from = pr->rd.first_offset;
                    if (pr->rd.next_offset > from)
                        stats->msgs_out += (uint64_t)(pr->rd.next_offset - from);
                }
                if (rill__resp_splice(r, &pr->rd) != 0)
                    b->err = 1;
            }
            rill__fetch_resp_partition_end(b, ver, &p);
        }
        if (stats)
            stats->fetch_requests++;
        rill__fetch_resp_topic_end(b, ver);
    }
    int rc = rill__fetch_resp_end(b, ver, &head);
    /* Reads not handed to the response (errors, encode failure) are released here. */
    release_reads(tr, req);
    return rc == 0 && !b->err ? FETCH_DONE : FETCH_FAIL;
}

int rill__h_fetch(rill_req *q) {
    rill_server *srv = q->srv;
    int16_t ver = q->h.api_version;
    const uint8_t *body = q->r.p;
    size_t blen = rill__rd_remain(&q->r);
    rill_fetch_req req;
    if (rill__fetch_req_decode(&q->r, ver, &req, &srv->arena) != 0 || rill__rd_remain(&q->r) != 0)
        return -1;
    int may_park = req.max_wait_ms > 0 && req.min_bytes > 0 && !atomic_load(&srv->stop);
    int rc = fetch_run(srv, q->resp, ver, &req, may_park, &q->nerrors);
    if (rc == FETCH_FAIL)
        return -1;
    if (rc == FETCH_DONE) {
        rill__req_finish(q);
        return 0;
    }
    rill_parked *p = calloc(1, sizeof(*p));
    uint8_t *copy = malloc(blen ? blen : 1);
    if (!p || !copy) {
        free(p);
        free(copy);
        return -1;
    }
    memcpy(copy, body, blen);
    p->body = copy;
    p->len = blen;
    p->ver = ver;
    p->deadline = srv->mono_ms + req.max_wait_ms;
    if (heap_push(srv, p) != 0) {
        free(copy);
        free(p);
        return -1;
    }
    p->s = q->s;
    p->resp = q->resp;
    q->resp->parked = p;
    rill__req_park(q);
    return 0;
}

/* Re-runs a parked fetch; final: answer whatever there is.  1 when it was answered. */
static int try_complete(rill_server *srv, rill_parked *p, int final) {
    rill_fetch_req req;
    rill_rd r;
    rill__rd_init(&r, p->body, p->len);
    int rc = FETCH_FAIL, nerrors = 0;
    rill_resp *resp = p->resp;
    resp->buf.len = resp->hdr_len;
    for (uint32_t i = 0; i < resp->nsp; i++)
        rill__log_read_done(&resp->sp[i].rd);
    resp->nsp = 0;
    if (rill__fetch_req_decode(&r, p->ver, &req, &srv->arena) == 0)
        rc = fetch_run(srv, resp, p->ver, &req, !final, &nerrors);
    rill__arena_reset(&srv->arena);
    if (rc == FETCH_PARK)
        return 0;
    rill_session *s = p->s;
    retire(srv, p);
    if (rc == FETCH_FAIL) {
        resp->parked = NULL;
        rill__session_close(s, RILL_LOG_ERR, "cannot answer a parked fetch");
        return 1;
    }
    rill__resp_complete(srv, resp, nerrors);
    return 1;
}

void rill__fetch_check_parked(rill_server *srv, int all_due) {
    if (srv->nparked) {
        /* Expired ones first (and every one when shutting down). */
        while (srv->nparked && (all_due || srv->parked[0]->deadline <= srv->mono_ms))
            try_complete(srv, srv->parked[0], 1);
        if (srv->nparked && srv->append_gen != srv->parked_gen) {
            size_t n = srv->nparked;
            rill_parked **snap = malloc(n * sizeof(*snap));
            if (snap) {
                srv->parked_gen = srv->append_gen;
                memcpy(snap, srv->parked, n * sizeof(*snap));
                for (size_t i = 0; i < n; i++)
                    if (!snap[i]->cancelled)
                        try_complete(srv, snap[i], 0);
                free(snap);
            }
        }
    }
    srv->parked_gen = srv->append_gen;
    rill__fetch_free_dead(srv);
}
