/*
 * conn.c -- client connection with framing and in-flight queue (see conn.h).
 */
#include "net/conn.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/clock.h"
#include "proto/api.h"
#include "proto/writer.h"
#include "rill.h"

/* An output buffer larger than this is freed once drained. */
#define OUT_KEEP_MAX (4u << 20)
/* Room the receive buffer has for each read, when a frame does not need less. */
#define RBUF_MIN_ROOM (64u * 1024)
/* Output runs handed to one sendmsg. */
#define IOV_BATCH 64

/*
 * A run of queued output: bytes of `out` (ext NULL, at out.data + off; an
 * offset, since `out` may move when it grows) or bytes the owner of a
 * request keeps alive until its callback (rill__conn_req_ref).
 */
typedef struct oseg {
    const uint8_t *ext;
    size_t off, len;
} oseg;

typedef struct slot {
    int32_t corr;
    int16_t api_key, api_version;
    rill__resp_cb *cb;
    void *opaque;
    int64_t sent_us;
    int64_t deadline_us;
    uint64_t end_pos; /* q_bytes once the request was queued */
} slot;

struct rill_conn {
    rill_io io;
    rill_loop *loop;
    const rill_logger *log;
    rill_conn_handler h;
    char name[128];
    char *client_id;
    int32_t max_frame;
    rill_conn_state state;

    rill_buf out; /* the bytes of queued frames that the connection owns */
    oseg *seg;    /* queued output in order: runs of `out` and callers' bytes */
    int nseg, segcap, seg_head;
    size_t seg_off;     /* bytes of seg[seg_head] already written */
    size_t own_mark;    /* bytes of `out` from here on are in no run yet */
    uint64_t q_bytes;   /* bytes queued since the connection came up */
    uint64_t w_bytes;   /* ... and written */
    size_t req_start;   /* offset of the frame being encoded */
    int req_seg0;       /* nseg when it began */
    size_t req_seglen0; /* length of the run before it, which it may extend */
    size_t req_ext;     /* its bytes queued by reference */
    int16_t req_api, req_ver;
    rill_buf in;      /* bytes read, not yet a whole frame */
    size_t frame_end; /* in a callback: where the frame being handled ends in `in` */
    bool in_taken;    /* the callback took `in` (rill__conn_swap_rbuf) */
    int32_t next_corr;

    slot *q; /* ring of in-flight requests */
    int qcap, qhead, qlen;
    int64_t last_rtt_us;
    int in_callback; /* guards close() from inside a response callback */
    /*
     * A write failed inside rill__conn_req_end: closing there would run request
     * callbacks (the new one's too) inside the caller, which still holds its request.
     * The close waits for the loop (on_io, or the owner's rill__conn_check_timeouts,
     * which rill__conn_next_deadline makes come at once).
     */
    int pending_err;
    char pending_why[160];
};

rill_conn *rill__conn_new(rill_loop *loop, const rill_logger *log, const char *name,
                          const rill_conn_handler *h, const char *client_id, int32_t max_frame) {
    rill_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->io.fd = -1;
    c->loop = loop;
    c->log = log;
    c->h = *h;
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->client_id = client_id ? strdup(client_id) : NULL;
    c->max_frame = max_frame > 0 ? max_frame : 100 * 1024 * 1024;
    rill__buf_init(&c->out, 0);
    rill__buf_init(&c->in, (size_t)c->max_frame + 4);
    c->next_corr = 1;
    return c;
}

void rill__conn_destroy(rill_conn *c) {
    if (!c)
        return;
    rill__conn_close(c, RILL_ERR_DESTROYED, NULL);
    rill__buf_free(&c->out);
    rill__buf_free(&c->in);
    free(c->seg);
    free(c->q);
    free(c->client_id);
    free(c);
}

rill_conn_state rill__conn_state(const rill_conn *c) { return c->state; }
const char *rill__conn_name(const rill_conn *c) { return c->name; }
int rill__conn_inflight(const rill_conn *c) { return c->qlen; }
size_t rill__conn_outq_bytes(const rill_conn *c) { return (size_t)(c->q_bytes - c->w_bytes); }
int64_t rill__conn_last_rtt_us(const rill_conn *c) { return c->last_rtt_us; }

/* Forgets every queued byte (all written, or the connection is gone). */
static void out_reset(rill_conn *c) {
    c->nseg = c->seg_head = 0;
    c->seg_off = c->own_mark = 0;
    c->out.len = 0;
    c->out.err = 0;
    if (c->out.cap > OUT_KEEP_MAX) {
        /* A large request grew the buffer: give the memory back. */
        rill__buf_free(&c->out);
        rill__buf_init(&c->out, 0);
    }
}

/* Appends a run to the output queue, joining it to the last when contiguous. */
static int seg_push(rill_conn *c, const uint8_t *ext, size_t off, size_t len) {
    if (!len)
        return 0;
    if (!ext && c->nseg > c->seg_head) {
        oseg *l = &c->seg[c->nseg - 1];
        if (!l->ext && l->off + l->len == off) {
            l->len += len;
            return 0;
        }
    }
    if (c->nseg == c->segcap) {
        int ncap = c->segcap ? c->segcap * 2 : 16;
        oseg *ns = realloc(c->seg, sizeof(*ns) * (size_t)ncap);
        if (!ns)
            return -1;
        c->seg = ns;
        c->segcap = ncap;
    }
    c->seg[c->nseg++] = (oseg){ext, off, len};
    return 0;
}

/* Closes the run of `out` bytes encoded since the last run. */
static int own_flush(rill_conn *c) {
    size_t len = c->out.len - c->own_mark;
    if (seg_push(c, NULL, c->own_mark, len) != 0)
        return -1;
    c->own_mark = c->out.len;
    return 0;
}

static void fail_all(rill_conn *c, int err) {
    /* Pop before calling: a callback may queue new requests. */
    while (c->qlen) {
        slot s = c->q[c->qhead];
        c->qhead = (c->qhead + 1) % c->qcap;
        c->qlen--;
        s.cb(c, err, s.api_version, NULL, s.opaque);
    }
}

void rill__conn_close(rill_conn *c, int err, const char *reason) {
    if (c->state == RILL_CONN_DOWN && c->io.fd < 0 && !c->qlen)
        return;
    bool was = c->state != RILL_CONN_DOWN;
    if (c->io.fd >= 0) {
        rill__loop_del(c->loop, &c->io);
        close(c->io.fd);
        c->io.fd = -1;
    }
    c->state = RILL_CONN_DOWN;
    c->pending_err = 0;
    /* Output is dropped before any callback runs: the bytes queued by
     * reference may be freed by the callbacks. */
    out_reset(c);
    c->q_bytes = c->w_bytes = 0;
    rill__buf_reset(&c->in);
    fail_all(c, err);
    if (was && c->h.on_down)
        c->h.on_down(c, c->h.ctx, err, reason ? reason : rill_err_str(err));
}

static void on_io(rill_io *io, uint32_t events);

/* Carries out a close deferred by rill__conn_req_end; true if it did. */
static bool close_pending(rill_conn *c) {
    if (!c->pending_err)
        return false;
    char why[sizeof(c->pending_why)];
    memcpy(why, c->pending_why, sizeof(why));
    rill__conn_close(c, c->pending_err, why);
    return true;
}

int rill__conn_connect(rill_conn *c, const char *host, int port) {
    if (c->state != RILL_CONN_DOWN)
        return 0;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", port);
    int gai = getaddrinfo(host, ps, &hints, &res);
    if (gai != 0 || !res) {
        RILL_LOG(c->log, RILL_LOG_WARNING, "broker", "%s: resolve %s failed: %s", c->name, host,
                 gai_strerror(gai));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        RILL_LOG(c->log, RILL_LOG_WARNING, "broker", "%s: connect failed: %s", c->name,
                 strerror(errno));
        return -1;
    }
    c->io.fd = fd;
    c->io.cb = on_io;
    c->io.ctx = c;
    c->state = RILL_CONN_CONNECTING;
    rill__loop_add(c->loop, &c->io, EPOLLOUT | EPOLLIN);
    return 0;
}

rill_buf *rill__conn_req_begin(rill_conn *c, int16_t api_key, int16_t api_version) {
    c->req_start = c->out.len;
    c->req_seg0 = c->nseg;
    c->req_seglen0 = c->nseg > c->seg_head ? c->seg[c->nseg - 1].len : 0;
    c->req_ext = 0;
    c->req_api = api_key;
    c->req_ver = api_version;
    rill__wr_i32(&c->out, 0); /* size, patched at end */
    rill__req_header_write(&c->out, api_key, api_version, c->next_corr, c->client_id);
    return &c->out;
}

int rill__conn_req_ref(rill_conn *c, const void *data, size_t len) {
    if (c->out.err || own_flush(c) != 0 || seg_push(c, data, 0, len) != 0) {
        c->out.err = 1;
        return -1;
    }
    c->req_ext += len;
    return 0;
}

void rill__conn_req_abort(rill_conn *c) {
    c->out.len = c->req_start;
    c->out.err = 0;
    c->own_mark = c->req_start;
    c->nseg = c->req_seg0;
    if (c->nseg > c->seg_head)
        c->seg[c->nseg - 1].len = c->req_seglen0;
}

static int push_slot(rill_conn *c, const slot *s) {
    if (c->qlen == c->qcap) {
        int ncap = c->qcap ? c->qcap * 2 : 16;
        slot *nq = malloc(sizeof(*nq) * (size_t)ncap);
        if (!nq)
            return -1;
        for (int i = 0; i < c->qlen; i++)
            nq[i] = c->q[(c->qhead + i) % c->qcap];
        free(c->q);
        c->q = nq;
        c->qcap = ncap;
        c->qhead = 0;
    }
    c->q[(c->qhead + c->qlen) % c->qcap] = *s;
    c->qlen++;
    return 0;
}

static void try_write(rill_conn *c, bool can_close);

int rill__conn_req_end(rill_conn *c, rill__resp_cb *cb, void *opaque, int timeout_ms,
                       bool expect_response) {
    size_t flen = c->out.len - c->req_start - 4 + c->req_ext;
    if (c->out.err || flen > (size_t)c->max_frame) {
        rill__conn_req_abort(c);
        return -1;
    }
    rill__wr_patch32(&c->out, c->req_start, (int32_t)flen);
    if (own_flush(c) != 0) {
        rill__conn_req_abort(c);
        return -1;
    }
    int64_t now = rill__mono_us();
    slot s = {.corr = c->next_corr++,
              .api_key = c->req_api,
              .api_version = c->req_ver,
              .cb = cb,
              .opaque = opaque,
              .sent_us = now,
              .deadline_us = now + (int64_t)timeout_ms * 1000,
              .end_pos = c->q_bytes + flen + 4};
    if (c->next_corr == INT32_MAX)
        c->next_corr = 1;
    if (expect_response && push_slot(c, &s) != 0) {
        rill__conn_req_abort(c);
        return -1;
    }
    c->q_bytes += flen + 4;
    if (c->state == RILL_CONN_UP && !c->pending_err)
        try_write(c, false);
    return 0;
}

static void try_write(rill_conn *c, bool can_close) {
    while (c->seg_head < c->nseg) {
        struct iovec iov[IOV_BATCH];
        int k = 0;
        for (int i = c->seg_head; i < c->nseg && k < IOV_BATCH; i++, k++) {
            const oseg *g = &c->seg[i];
            const uint8_t *base = g->ext ? g->ext : c->out.data + g->off;
            size_t skip = i == c->seg_head ? c->seg_off : 0;
            iov[k].iov_base = (void *)(base + skip);
            iov[k].iov_len = g->len - skip;
        }
        struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)k};
        ssize_t n = sendmsg(c->io.fd, &mh, MSG_NOSIGNAL);
        if (n > 0) {
            c->w_bytes += (uint64_t)n;
            size_t left = (size_t)n;
            while (left) {
                size_t rem = c->seg[c->seg_head].len - c->seg_off;
                if (left < rem) {
                    c->seg_off += left;
                    break;
                }
                left -= rem;
                c->seg_head++;
                c->seg_off = 0;
            }
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0 && errno == EINTR)
            continue;
        if (!can_close) {
            c->pending_err = RILL_ERR_TRANSPORT;
            snprintf(c->pending_why, sizeof(c->pending_why), "send failed: %s", strerror(errno));
            return;
        }
        char why[160];
        snprintf(why, sizeof(why), "send failed: %s", strerror(errno));
        rill__conn_close(c, RILL_ERR_TRANSPORT, why);
        return;
    }
    if (c->seg_head == c->nseg)
        out_reset(c); /* drained: start over at the front, no memmove per partial write */
    rill__loop_mod(c->loop, &c->io, EPOLLIN | (c->seg_head < c->nseg ? EPOLLOUT : 0));
}

/* Handles one whole frame; returns -1 if the connection was closed. */
static int handle_frame(rill_conn *c, const uint8_t *p, size_t n) {
    if (!c->qlen) {
        rill__conn_close(c, RILL_ERR_BAD_MSG, "response with no request outstanding");
        return -1;
    }
    slot s = c->q[c->qhead];
    if (s.end_pos > c->w_bytes) {
        /* Kafka answers a request once it has all of it.  Running the callback
         * now would let its owner free bytes still queued by reference. */
        char why[160];
        snprintf(why, sizeof(why), "response to %s v%d before the request was sent",
                 rill__api_name(s.api_key), s.api_version);
        rill__conn_close(c, RILL_ERR_BAD_MSG, why);
        return -1;
    }
    rill_rd r;
    rill__rd_init(&r, p, n);
    int32_t corr =
        rill__resp_header_read(&r, rill__api_resp_header_flexible(s.api_key, s.api_version));
    if (r.err || corr != s.corr) {
        char why[160];
        snprintf(why, sizeof(why), "response correlation id %d, expected %d (%s v%d)", corr, s.corr,
                 rill__api_name(s.api_key), s.api_version);
        rill__conn_close(c, RILL_ERR_BAD_MSG, why);
        return -1;
    }
    c->qhead = (c->qhead + 1) % c->qcap;
    c->qlen--;
    c->last_rtt_us = rill__mono_us() - s.sent_us;
    c->in_callback++;
    int rc = s.cb(c, 0, s.api_version, &r, s.opaque);
    c->in_callback--;
    if (rc != 0) {
        char why[160];
        snprintf(why, sizeof(why), "malformed %s v%d response", rill__api_name(s.api_key),
                 s.api_version);
        rill__conn_close(c, RILL_ERR_BAD_MSG, why);
        return -1;
    }
    return c->state == RILL_CONN_DOWN ? -1 : 0;
}

size_t rill__conn_rbuf_size(const rill_conn *c) { return c->in.cap; }

uint8_t *rill__conn_swap_rbuf(rill_conn *c, uint8_t *spare, size_t spare_size, size_t *size) {
    if (!c->in_callback || c->in_taken || c->frame_end > c->in.len || !spare)
        return NULL;
    /* Bytes after this frame (the start of the next) move to the spare. */
    size_t tail = c->in.len - c->frame_end;
    if (spare_size < tail + RBUF_MIN_ROOM || spare_size > c->in.max)
        return NULL;
    memcpy(spare, c->in.data + c->frame_end, tail);
    uint8_t *p = c->in.data;
    *size = c->in.cap;
    c->in.data = spare;
    c->in.cap = spare_size;
    c->in.len = tail;
    c->in_taken = true;
    return p;
}

/*
 * Room to read into: RBUF_MIN_ROOM, or less when the frame being read needs
 * less to be complete -- asking for more would double a buffer that has
 * room for the whole frame (and copy it in the realloc).
 */
static size_t read_room(const rill_conn *c) {
    size_t room = RBUF_MIN_ROOM;
    if (c->in.len >= 4) {
        size_t whole = (size_t)(uint32_t)rill__ld32(c->in.data) + 4;
        if (whole > c->in.len && whole - c->in.len < room)
            room = whole - c->in.len;
    }
    return room;
}

static void do_read(rill_conn *c) {
    for (;;) {
        if (rill__buf_grow(&c->in, read_room(c)) != 0 && c->in.cap == c->in.len) {
            rill__conn_close(c, RILL_ERR_BAD_MSG, "receive buffer limit");
            return;
        }
        ssize_t n = recv(c->io.fd, c->in.data + c->in.len, c->in.cap - c->in.len, 0);
        if (n == 0) {
            rill__conn_close(c, RILL_ERR_TRANSPORT, "connection closed by broker");
            return;
        }
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR)
                continue;
            char why[160];
            snprintf(why, sizeof(why), "recv failed: %s", strerror(errno));
            rill__conn_close(c, RILL_ERR_TRANSPORT, why);
            return;
        }
        c->in.len += (size_t)n;
        size_t off = 0;
        while (c->in.len - off >= 4) {
            int32_t flen = (int32_t)rill__ld32(c->in.data + off);
            if (flen < 4 || flen > c->max_frame) {
                rill__conn_close(c, RILL_ERR_BAD_MSG, "invalid response frame size");
                return;
            }
            if (c->in.len - off - 4 < (size_t)flen) {
                /* Make sure the whole frame will fit. */
                if (rill__buf_grow(&c->in, (size_t)flen + 4 - (c->in.len - off)) != 0) {
                    rill__conn_close(c, RILL_ERR_BAD_MSG, "receive buffer limit");
                    return;
                }
                break;
            }
            c->frame_end = off + 4 + (size_t)flen;
            c->in_taken = false;
            if (handle_frame(c, c->in.data + off + 4, (size_t)flen) != 0)
                return;
            /* A taken buffer left the rest of the bytes at the new one's start. */
            off = c->in_taken ? 0 : c->frame_end;
            c->in_taken = false;
        }
        rill__buf_consume(&c->in, off);
        if (!c->in.len && c->in.cap > OUT_KEEP_MAX) {
            /* A large response grew the buffer: give the memory back. */
            size_t max = c->in.max;
            rill__buf_free(&c->in);
            rill__buf_init(&c->in, max);
        }
        if ((size_t)n < 16 * 1024)
            return; /* likely drained; epoll will tell us about more */
    }
}

static void on_io(rill_io *io, uint32_t events) {
    rill_conn *c = io->ctx;
    if (c->io.fd < 0)
        return;
    if (c->state == RILL_CONN_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(c->io.fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err || (events & (EPOLLERR | EPOLLHUP))) {
            char why[160];
            snprintf(why, sizeof(why), "connect failed: %s", strerror(err ? err : ECONNREFUSED));
            c->state = RILL_CONN_UP; /* so that on_down fires for the attempt */
            rill__conn_close(c, RILL_ERR_TRANSPORT, why);
            return;
        }
        c->state = RILL_CONN_UP;
        if (c->h.on_up)
            c->h.on_up(c, c->h.ctx);
        if (c->state != RILL_CONN_UP)
            return;
        try_write(c, true);
        return;
    }
    if (close_pending(c))
        return;
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        do_read(c);
        if (c->state != RILL_CONN_UP)
            return;
    }
    if ((events & EPOLLOUT) || c->seg_head < c->nseg)
        try_write(c, true);
}

void rill__conn_check_timeouts(rill_conn *c, int64_t now_us) {
    if (close_pending(c))
        return;
    for (int i = 0; i < c->qlen; i++) {
        slot *s = &c->q[(c->qhead + i) % c->qcap];
        if (s->deadline_us > now_us)
            continue;
        char why[160];
        snprintf(why, sizeof(why), "%s v%d request timed out after %lld ms",
                 rill__api_name(s->api_key), s->api_version,
                 (long long)((now_us - s->sent_us) / 1000));
        rill__conn_close(c, RILL_ERR_TIMED_OUT, why);
        return;
    }
}

int64_t rill__conn_next_deadline(const rill_conn *c) {
    if (c->pending_err)
        return 0; /* the deferred close is due now */
    int64_t d = INT64_MAX;
    for (int i = 0; i < c->qlen; i++) {
        int64_t x = c->q[(c->qhead + i) % c->qcap].deadline_us;
        if (x < d)
            d = x;
    }
    return d;
}
