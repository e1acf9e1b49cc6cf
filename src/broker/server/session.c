/*
 * session.c -- one client connection: non-blocking reads cut into int32-framed requests,
 * processed in order; responses queued in request order and written with writev/sendfile;
 * back-pressure; closing.  See server_int.h for the life of a request.
 *
 * Memory: an idle session is this struct and nothing else.  Bytes are read into the
 * server's scratch buffer and requests are processed straight from there; only the tail of
 * a request that has not fully arrived is copied into the session's own buffer, which is
 * freed again once it empties (a slow client sending one byte a second costs the bytes it
 * sent, and never blocks the loop).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "broker/server/group_coordinator.h"
#include "broker/server/server_int.h"
#include "common/clock.h"
#include "common/endian.h"

/* Back-pressure: stop reading a connection with this much queued, resume below half. */
#define OUT_MEM_HIGH (4u << 20)
#define OUT_RESP_HIGH 4096u
/*
 * Responses are recycled (no malloc per request) in a pool of at most RESP_POOL_MAX whose
 * buffers are at most RESP_KEEP_MAX: 4 MiB at worst stays allocated after a burst.
 */
#define RESP_KEEP_MAX (16u << 10)
#define RESP_POOL_MAX 256
/* Requests up to this size get their whole buffer as soon as their size is known. */
#define IN_WHOLE_MAX (4u << 20)
/* Minimum request: api key, version, correlation id. */
#define FRAME_MIN 8

static void on_io(rill_io *io, uint32_t events);

rill_session *rill__session_new(rill_server *srv, int fd, const char *peer) {
    rill_session *s = calloc(1, sizeof(*s));
    if (!s) {
        close(fd);
        return NULL;
    }
    s->srv = srv;
    s->io.fd = fd;
    s->io.cb = on_io;
    s->io.ctx = s;
    s->held_idx = -1;
    /* Holds at most one request plus what one read brings after it. */
    rill__buf_init(&s->in, (size_t)srv->cfg->socket_request_max + 4 + srv->scratch_cap);
    s->id = ++srv->next_session_id;
    s->last_active_ms = srv->mono_ms;
    snprintf(s->peer, sizeof(s->peer), "%s", peer);
    if (rill__loop_add(srv->loop, &s->io, EPOLLIN) != 0) {
        close(fd);
        free(s);
        return NULL;
    }
    s->next = srv->sessions;
    if (srv->sessions)
        srv->sessions->prev = s;
    srv->sessions = s;
    srv->nsessions++;
    srv->metrics.conn_accepted++;
    return s;
}

/* ---- responses ---------------------------------------------------------------------- */

rill_resp *rill__resp_get(rill_server *srv) {
    rill_resp *r = srv->free_resps;
    if (r) {
        srv->free_resps = r->next;
        srv->nfree_resps--;
        rill_buf keep = r->buf;
        rill_splice *sp = r->sp;
        uint32_t capsp = r->capsp;
        memset(r, 0, sizeof(*r));
        r->buf = keep;
        rill__buf_reset(&r->buf);
        r->sp = sp;
        r->capsp = capsp;
    } else {
        r = calloc(1, sizeof(*r));
        if (!r)
            return NULL;
        rill__buf_init(&r->buf, 0);
    }
    return r;
}

static void resp_release_splices(rill_resp *r) {
    for (uint32_t i = r->cursp; i < r->nsp; i++)
        rill__log_read_done(&r->sp[i].rd);
    r->nsp = r->cursp = 0;
}

void rill__resp_put(rill_server *srv, rill_resp *r) {
    if (!r)
        return;
    resp_release_splices(r);
    if (srv->nfree_resps >= RESP_POOL_MAX || r->buf.cap > RESP_KEEP_MAX) {
        rill__buf_free(&r->buf);
        free(r->sp);
        free(r);
        return;
    }
    r->next = srv->free_resps;
    srv->free_resps = r;
    srv->nfree_resps++;
}

int rill__resp_splice(rill_resp *r, rill_log_read *rd) {
    if (r->nsp == r->capsp) {
        uint32_t cap = r->capsp ? r->capsp * 2 : 8;
        rill_splice *sp = realloc(r->sp, cap * sizeof(*sp));
        if (!sp) {
            rill__log_read_done(rd);
            return -1;
        }
        r->sp = sp;
        r->capsp = cap;
    }
    r->sp[r->nsp].at = r->buf.len;
    r->sp[r->nsp].rd = *rd;
    r->nsp++;
    rd->seg = NULL;
    rd->fd = -1;
    return 0;
}

int rill__resp_seal(rill_resp *r) {
    if (r->buf.err || r->buf.len < 4)
        return -1;
    int64_t total = (int64_t)r->buf.len - 4;
    for (uint32_t i = 0; i < r->nsp; i++)
        total += r->sp[i].rd.len;
    if (total > INT32_MAX)
        return -1;
    rill__st32(r->buf.data, (uint32_t)total);
    return 0;
}

/* ---- the output queue ------------------------------------------------------------------- */

static int resp_writable(const rill_server *srv, const rill_resp *r) {
    return !r->pending && r->hold_seq <= srv->flusher.durable_seq;
}

/* End of the memory bytes before the next splice (or of the buffer). */
static size_t mem_limit(const rill_resp *r) {
    return r->cursp < r->nsp ? r->sp[r->cursp].at : r->buf.len;
}

static void pop_head(rill_session *s) {
    rill_resp *r = s->out_head;
    s->out_head = r->next;
    if (!s->out_head)
        s->out_tail = NULL;
    s->out_mem -= r->counted;
    s->nresp--;
    rill__resp_put(s->srv, r);
}

static int head_done(const rill_resp *r) { return r->sent == r->buf.len && r->cursp == r->nsp; }

/* Accounts n memory bytes written from the head on. */
static void advance_mem(rill_session *s, size_t n) {
    while (n && s->out_head) {
        rill_resp *r = s->out_head;
        size_t lim = mem_limit(r), take = lim - r->sent < n ? lim - r->sent : n;
        r->sent += take;
        n -= take;
        if (head_done(r))
            pop_head(s);
        else if (take == 0)
            break; /* at a splice: cannot happen with a correct gather */
    }
}

static void set_events(rill_session *s) {
    if (s->dead)
        return;
    uint32_t ev = (s->paused ? 0 : EPOLLIN) | (s->want_write ? EPOLLOUT : 0);
    rill__loop_mod(s->srv->loop, &s->io, ev);
}

static void process_input(rill_session *s);

/* After a failed write: 1 to wait for EPOLLOUT, 0 to retry (EINTR), -1 when closed. */
static int write_failed(rill_session *s) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
        s->want_write = 1;
        return 1;
    }
    if (errno == EINTR)
        return 0;
    rill__session_close(s, RILL_LOG_DEBUG, strerror(errno));
    return -1;
}

/* Writes as much of the queue as the socket takes.  0, or -1 when the session closed. */
static int write_out(rill_session *s) {
    rill_server *srv = s->srv;
    s->want_write = 0;
    while (s->out_head && resp_writable(srv, s->out_head)) {
        struct iovec iov[64];
        int niov = 0, more = 0;
        for (rill_resp *r = s->out_head; r && niov < 64 && resp_writable(srv, r); r = r->next) {
            size_t lim = mem_limit(r);
            if (lim > r->sent) {
                iov[niov].iov_base = r->buf.data + r->sent;
                iov[niov].iov_len = lim - r->sent;
                niov++;
            }
            if (r->cursp < r->nsp) {
                more = 1; /* file bytes follow: let the kernel merge them in */
                break;
            }
        }
        rill_resp *r = s->out_head;
        rill_splice *sp = NULL;
        size_t left = 0;
        ssize_t n;
        if (niov > 0) {
            struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)niov};
            n = sendmsg(s->io.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT | (more ? MSG_MORE : 0));
        } else {
            /* The head is at a splice. */
            sp = &r->sp[r->cursp];
            off_t pos = (off_t)(sp->rd.pos + r->sp_sent);
            left = (size_t)(sp->rd.len - r->sp_sent);
            n = left ? sendfile(s->io.fd, sp->rd.fd, &pos, left) : 0;
        }
        if (n < 0) {
            int w = write_failed(s);
            if (w < 0)
                return -1;
            if (w)
                break;
            continue;
        }
        if (!sp) {
            advance_mem(s, (size_t)n);
            continue;
        }
        if (n == 0 && left) {
            /* The file is shorter than the index said: never send a short frame. */
            rill__session_close(s, RILL_LOG_ERR, "segment file shorter than expected");
            return -1;
        }
        r->sp_sent += n;
        if (r->sp_sent == sp->rd.len) {
            rill__log_read_done(&sp->rd);
            r->cursp++;
            r->sp_sent = 0;
            if (head_done(r))
                pop_head(s);
        }
    }
    if (!s->out_head && s->close_when_done) {
        rill__session_close(s, RILL_LOG_DEBUG, "closing after an acks=0 error");
        return -1;
    }
    return 0;
}

static int over_limits(const rill_session *s) {
    return s->out_mem > OUT_MEM_HIGH || s->nresp > OUT_RESP_HIGH;
}

void rill__session_flush(rill_session *s) {
    if (s->dead)
        return;
    if (write_out(s) != 0)
        return;
    if (s->paused && !s->blocked && s->out_mem <= OUT_MEM_HIGH / 2 &&
        s->nresp <= OUT_RESP_HIGH / 2) {
        s->paused = 0;
        process_input(s); /* requests that arrived before the pause */
        if (s->dead)
            return;
        /* Their answers: nothing else would write them before the next event. */
        if (s->out_head && !s->want_write && write_out(s) != 0)
            return;
    }
    set_events(s);
}

static void enqueue(rill_session *s, rill_resp *r) {
    r->s = s;
    r->next = NULL;
    if (s->out_tail)
        s->out_tail->next = r;
    else
        s->out_head = r;
    s->out_tail = r;
    r->counted = r->buf.len;
    s->out_mem += r->counted;
    s->nresp++;
    if (over_limits(s))
        s->paused = 1;
}

static void record_metrics(rill_server *srv, const rill_resp *r, int nerrors) {
    rill__metrics_request(&srv->metrics, r->api_key, rill__mono_us() - r->start_us, nerrors);
}

void rill__req_finish(rill_req *q) {
    rill_resp *r = q->resp;
    q->resp = NULL;
    if (rill__resp_seal(r) != 0) {
        rill__resp_put(q->srv, r);
        rill__session_close(q->s, RILL_LOG_ERR, "cannot encode a response");
        return;
    }
    record_metrics(q->srv, r, q->nerrors);
    enqueue(q->s, r);
}

void rill__req_hold(rill_req *q, uint64_t seq) {
    rill_resp *r = q->resp;
    rill__req_finish(q);
    if (q->s->dead || seq <= q->srv->flusher.durable_seq)
        return;
    r->hold_seq = seq;
    q->s->nheld++;
    rill__server_add_held(q->srv, q->s);
}

void rill__req_park(rill_req *q) {
    rill_resp *r = q->resp;
    q->resp = NULL;
    r->pending = 1;
    enqueue(q->s, r);
}

rill_resp *rill__req_park_blocking(rill_req *q) {
    rill_resp *r = q->resp;
    r->api_version = q->h.api_version;
    rill__req_park(q);
    q->s->blocked = 1;
    q->s->paused = 1;
    return r;
}

void rill__req_no_response(rill_req *q) {
    record_metrics(q->srv, q->resp, q->nerrors);
    rill__resp_put(q->srv, q->resp);
    q->resp = NULL;
}

/* A pending response got its body: the queue's byte count follows. */
static void recount(rill_session *s, rill_resp *r) {
    s->out_mem = s->out_mem - r->counted + r->buf.len;
    r->counted = r->buf.len;
}

void rill__resp_complete(rill_server *srv, rill_resp *r, int nerrors) {
    rill_session *s = r->s;
    r->pending = 0;
    r->parked = NULL;
    recount(s, r);
    if (rill__resp_seal(r) != 0) {
        rill__session_close(s, RILL_LOG_ERR, "cannot encode a response");
        return;
    }
    record_metrics(srv, r, nerrors);
    rill__session_write(s);
}

void rill__resp_ready(rill_server *srv, rill_resp *r, int encoded, int nerrors) {
    rill_session *s = r->s;
    r->pending = 0;
    r->parked = NULL;
    recount(s, r);
    if (!encoded || rill__resp_seal(r) != 0)
        s->broken = 1;
    else
        record_metrics(srv, r, nerrors);
    /*
     * The connection's next request may start, but it stays paused: requests that arrived
     * behind this one are already read into s->in, and no EPOLLIN will announce them.
     * rill__session_flush, from the kick list, unpauses it and runs them.
     */
    s->blocked = 0;
    if (s->kicked)
        return;
    if (srv->nkick == srv->capkick) {
        size_t cap = srv->capkick ? srv->capkick * 2 : 64;
        rill_session **k = realloc(srv->kick, cap * sizeof(*k));
        if (!k) {
            s->broken = 1; /* cannot even remember to write it: the client reconnects */
            return;
        }
        srv->kick = k;
        srv->capkick = cap;
    }
    s->kicked = 1;
    srv->kick[srv->nkick++] = s;
}

void rill__server_kick_sessions(rill_server *srv) {
    /* Flushing may process buffered requests, which may queue more sessions: by index. */
    for (size_t i = 0; i < srv->nkick; i++) {
        rill_session *s = srv->kick[i];
        s->kicked = 0;
        if (s->dead)
            continue;
        if (s->broken)
            rill__session_close(s, RILL_LOG_ERR, "cannot encode a response");
        else
            rill__session_flush(s);
    }
    srv->nkick = 0;
}

void rill__session_write(rill_session *s) {
    if (s->dead || s->want_write)
        return; /* EPOLLOUT will come */
    if (write_out(s) != 0)
        return;
    /*
     * This may run inside another request's handler, where reading and processing this
     * session's input would nest dispatches: a paused session instead asks for EPOLLOUT,
     * which fires at once on a writable socket and resumes it from on_io.
     */
    if (s->paused)
        s->want_write = 1;
    set_events(s);
}

/* ---- reading ---------------------------------------------------------------------------- */

/* A request size below the smallest header or above socket.request.max.bytes: closed. */
static int bad_size(rill_session *s, uint32_t size) {
    rill_server *srv = s->srv;
    if (size >= FRAME_MIN && size <= (uint64_t)srv->cfg->socket_request_max)
        return 0;
    srv->metrics.bad_frames++;
    char why[96];
    snprintf(why, sizeof(why), "invalid request size %" PRIu32 " (limit %" PRId64 ")", size,
             srv->cfg->socket_request_max);
    rill__session_close(s, RILL_LOG_WARNING, why);
    return 1;
}

/*
 * Processes the complete requests in p[0..n); returns the bytes consumed.  Stops at a
 * partial request, when the session closes, or when back-pressure pauses it.
 */
static size_t process_frames(rill_session *s, uint8_t *p, size_t n) {
    rill_server *srv = s->srv;
    size_t off = 0;
    while (!s->dead && !s->paused && n - off >= 4) {
        uint32_t size = rill__ld32(p + off);
        if (bad_size(s, size))
            break;
        if (n - off - 4 < size)
            break;
        if (rill__dispatch(srv, s, p + off + 4, size) != 0)
            break;
        off += 4 + (size_t)size;
    }
    return off;
}

/* Requests kept in s->in (a partial one, or whole ones left by a pause). */
static void process_input(rill_session *s) {
    if (s->in.len == 0)
        return;
    size_t used = process_frames(s, s->in.data, s->in.len);
    if (s->dead)
        return;
    rill__buf_consume(&s->in, used);
    if (s->in.len == 0)
        rill__buf_free(&s->in); /* an idle connection keeps no buffer */
}

/* Checks the size of a partial request early, so a bad size never makes us allocate. */
static int check_partial(rill_session *s) {
    return s->in.len >= 4 && bad_size(s, rill__ld32(s->in.data)) ? -1 : 0;
}

static void read_in(rill_session *s) {
    rill_server *srv = s->srv;
    ssize_t n;
    /* The loop may have slept: LogAppendTime, segment age and long-poll deadlines want now. */
    srv->now_ms = rill__wall_ms();
    srv->mono_ms = rill__mono_ms();
    if (s->in.len == 0) {
        n = read(s->io.fd, srv->scratch, srv->scratch_cap);
        if (n > 0) {
            s->last_active_ms = srv->mono_ms;
            size_t used = process_frames(s, srv->scratch, (size_t)n);
            if (s->dead)
                return;
            if (used < (size_t)n) {
                size_t left = (size_t)n - used;
                if (left >= 4) {
                    size_t total = 4 + (size_t)rill__ld32(srv->scratch + used);
                    if (total > left && total <= IN_WHOLE_MAX &&
                        total - 4 <= (uint64_t)srv->cfg->socket_request_max)
                        rill__buf_grow(&s->in, total); /* failure is caught below */
                }
                if (rill__buf_append(&s->in, srv->scratch + used, left) != 0) {
                    rill__session_close(s, RILL_LOG_ERR, "out of memory");
                    return;
                }
                check_partial(s);
            }
            return;
        }
    } else {
        /*
         * Room for the rest of the request, known once its size is in: all of it at once
         * when it is of an ordinary size (a producer's 1 MiB batch is then copied once),
         * in steps of the scratch size beyond, so that a size claimed in four bytes cannot
         * make us allocate much before the bytes arrive.
         */
        size_t want = 16384;
        if (s->in.len >= 4) {
            size_t total = 4 + (size_t)rill__ld32(s->in.data);
            if (total > s->in.len)
                want = total - s->in.len;
            if (total > IN_WHOLE_MAX && want > srv->scratch_cap)
                want = srv->scratch_cap;
        }
        if (s->in.cap - s->in.len < want && rill__buf_grow(&s->in, want) != 0) {
            rill__session_close(s, RILL_LOG_ERR, "out of memory");
            return;
        }
        n = read(s->io.fd, s->in.data + s->in.len, s->in.cap - s->in.len);
        if (n > 0) {
            s->last_active_ms = srv->mono_ms;
            s->in.len += (size_t)n;
            if (check_partial(s) != 0)
                return;
            process_input(s);
            return;
        }
    }
    if (n == 0) {
        rill__session_close(s, RILL_LOG_DEBUG, "closed by the client");
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        rill__session_close(s, RILL_LOG_DEBUG, strerror(errno));
    }
}

static void on_io(rill_io *io, uint32_t events) {
    rill_session *s = io->ctx;
    if (s->dead)
        return;
    if ((events & (EPOLLHUP | EPOLLERR)) && s->paused) {
        /*
         * epoll reports these even to a session that is not reading (a request waiting in
         * the group coordinator, back-pressure): the peer is gone for good, and leaving the
         * socket open would make every loop step return at once.
         */
        rill__session_close(s, RILL_LOG_DEBUG, events & EPOLLERR ? "socket error" : "hung up");
        return;
    }
    if (events & EPOLLOUT) {
        if (write_out(s) != 0)
            return;
        if (!s->want_write && s->paused) {
            rill__session_flush(s);
            if (s->dead)
                return;
        }
    }
    if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && !s->paused) {
        read_in(s);
        if (s->dead)
            return;
    }
    /* Responses produced by this read go out now, in one write where possible. */
    if (s->out_head && !s->want_write) {
        if (write_out(s) != 0)
            return;
    }
    set_events(s);
}

/* ---- closing ---------------------------------------------------------------------------- */

void rill__session_close(rill_session *s, int level, const char *why) {
    if (s->dead)
        return;
    rill_server *srv = s->srv;
    RILL_LOG(srv->lg, level, "server", "connection %s closed: %s", s->peer, why);
    s->dead = 1;
    rill__loop_del(srv->loop, &s->io);
    close(s->io.fd);
    s->io.fd = -1;
    for (rill_resp *r = s->out_head; r; r = r->next)
        if (r->parked) {
            rill__fetch_cancel(srv, r->parked);
            r->parked = NULL;
        }
    if (srv->gc)
        rill__gc_cancel(srv->gc, s); /* its pending group requests: nothing to answer */
    if (s->held_idx >= 0)
        rill__server_remove_held(srv, s);
    if (s->prev)
        s->prev->next = s->next;
    else
        srv->sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    srv->nsessions--;
    srv->metrics.conn_closed++;
    s->prev = NULL;
    s->next = srv->dead;
    srv->dead = s;
}

void rill__session_free(rill_session *s) {
    rill_server *srv = s->srv;
    while (s->out_head)
        pop_head(s);
    rill__buf_free(&s->in);
    free(s);
    (void)srv;
}
