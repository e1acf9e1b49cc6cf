/*
 * server_int.h -- what the files of src/broker/server share: the server, its sessions
 * (one per client connection), responses and their output queue, and the request context
 * a handler gets.
 *
 * Life of a request.  session.c reads bytes (into a server-wide scratch buffer first, so an
 * idle connection holds no buffer), cuts int32-framed requests and hands each to
 * rill__dispatch (dispatch.c), which reads the header, finds the handler and prepares a
 * rill_resp with the size placeholder and response header already written.  The handler
 * decodes the body with the codec of src/proto, does the work, encodes the body into
 * q->resp->buf and ends with exactly one of:
 *
 *   rill__req_finish(q)        the response is complete: queue it;
 *   rill__req_hold(q, seq)     complete, but not to be written before flush round `seq`
 *                              is durable (acks=all, flusher.h);
 *   rill__req_park(q)          the body comes later (long-poll Fetch): queue a pending
 *                              placeholder, keep the rill_resp, fill it, then
 *                              rill__resp_complete();
 *   rill__req_no_response(q)   nothing goes back (acks=0).
 *
 * or returns -1 to have the connection closed (malformed request).  Responses leave in
 * request order whatever order they complete in: the writer stops at the first pending
 * or held response.  A response is one buffer plus "splices": ranges of segment files
 * that go on the wire between its bytes, with sendfile(2) (Fetch).
 *
 * Everything here runs on the loop thread, except the flusher's fsync thread.
 */
#ifndef RILL_BROKER_SERVER_INT_H
#define RILL_BROKER_SERVER_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/server/broker_config.h"
#include "broker/server/flusher.h"
#include "broker/server/metrics.h"
#include "broker/server/server.h"
#include "broker/storage/hmap.h"
#include "broker/storage/storage.h"
#include "common/buf.h"
#include "common/log.h"
#include "net/loop.h"
#include "proto/api.h"
#include "proto/arena.h"
#include "proto/reader.h"
#include "proto/record_batch.h"

typedef struct rill_session rill_session;
typedef struct rill_parked rill_parked;

/* File bytes that go on the wire at buf offset `at` (sendfile). */
typedef struct rill_splice {
    size_t at;
    rill_log_read rd; /* fd, pos, len; holds the segment open until sent */
} rill_splice;

typedef struct rill_resp {
    struct rill_resp *next;
    rill_session *s;
    rill_buf buf;   /* size prefix + header + body, without the spliced bytes */
    size_t hdr_len; /* size prefix + response header */
    size_t sent;    /* bytes of buf written */
    size_t counted; /* bytes of buf in the session's out_mem */
    rill_splice *sp;
    uint32_t nsp, capsp;
    uint32_t cursp;    /* next splice to send */
    int64_t sp_sent;   /* bytes of sp[cursp] sent */
    uint8_t pending;   /* the body is not there yet */
    uint64_t hold_seq; /* 0, or the flush round that must be durable before writing */
    int16_t api_key;
    int16_t api_version;
    int64_t start_us;    /* when the request arrived (latency metric) */
    rill_parked *parked; /* the long-poll record while pending */
} rill_resp;

struct rill_session {
    rill_io io;
    rill_server *srv;
    rill_session *prev, *next; /* srv->sessions */
    rill_buf in;               /* unprocessed bytes; allocated only while needed */
    rill_resp *out_head, *out_tail;
    size_t out_mem;   /* buffer bytes queued (back-pressure) */
    uint32_t nresp;   /* responses queued, pending and held included */
    uint32_t nheld;   /* held for a flush round */
    int32_t held_idx; /* index in srv->held, -1 when not there */
    int64_t last_active_ms;
    uint64_t id;
    uint8_t dead;            /* closed; freed at the end of the loop iteration */
    uint8_t paused;          /* not reading: too much output queued */
    uint8_t want_write;      /* the socket said EAGAIN */
    uint8_t close_when_done; /* close once the queue is written (acks=0 error) */
    uint8_t blocked;         /* a group request is pending: later requests wait (as Kafka) */
    uint8_t kicked;          /* in srv->kick */
    uint8_t broken;          /* a late response could not be encoded: close at the next kick */
    char peer[64];
};

/* The handler's view of one request (see the top of this file). */
typedef struct rill_req {
    rill_server *srv;
    rill_session *s;
    rill_req_header h;
    bool flexible;  /* body (and headers) use the flexible encodings */
    rill_rd r;      /* the body */
    uint8_t *frame; /* the whole request after the size: writable (Produce assigns offsets
                     * in place) and valid only during the call */
    size_t len;
    rill_resp *resp; /* size placeholder and response header already written */
    int nerrors;     /* error codes the handler put in the response (metrics) */
} rill_req;

typedef int(rill_handler)(rill_req *q);

typedef struct rill_api_entry {
    int16_t min, max;
    rill_handler *fn;
} rill_api_entry;

/* Per-topic traffic counters (metrics). */
typedef struct rill_topic_stats {
    uint64_t bytes_in, msgs_in, bytes_out, msgs_out, fetch_requests, produce_requests;
} rill_topic_stats;

#define RILL_LISTENER_MAX RILL_BROKER_MAX_LISTENERS

struct rill_server {
    const rill_broker_config *cfg;
    const rill_logger *lg;
    rill_loop *loop;
    rill_storage *st;
    atomic_int stop;

    rill_io listeners[RILL_LISTENER_MAX];
    int ports[RILL_LISTENER_MAX];
    int nlisteners;
    int accept_paused; /* EMFILE: listeners muted until the next tick */
    rill_io metrics_io;
    int metrics_port;

    char adv_host[256];
    int adv_port;
    char cluster_id[32];
    int64_t next_pid, pid_block_end; /* InitProducerId (broker_meta.c) */

    rill_session *sessions;
    size_t nsessions;
    rill_session *dead; /* closed, to free (linked by next) */
    uint64_t next_session_id;

    rill_session **held; /* sessions with held responses */
    size_t nheld, capheld;
    rill_session **kick; /* sessions with responses completed outside their I/O callback */
    size_t nkick, capkick;
    struct rill_gc *gc; /* the group coordinator */

    rill_parked **parked; /* long-poll fetches: a min-heap on deadline */
    size_t nparked, capparked;
    rill_parked *parked_dead;        /* answered or cancelled, freed after the check pass */
    uint64_t append_gen, parked_gen; /* appends seen / when parked were last checked */

    rill_resp *free_resps;
    size_t nfree_resps;

    uint8_t *scratch;
    size_t scratch_cap;
    rill_arena arena;            /* decoded requests; reset after each */
    rill_batch_reader ts_reader; /* ListOffsets by time inside compressed batches */

    rill_flusher flusher;
    rill_metrics metrics;
    rill_hmap topic_stats; /* name -> rill_topic_stats* */

    int64_t now_ms; /* wall clock, refreshed each iteration */
    int64_t mono_ms;
    int64_t last_tick_ms, last_idle_sweep_ms;
};

/* ---- session.c ---------------------------------------------------------------------- */

/* Accepted socket fd -> a session in the loop; NULL (fd closed) on failure. */
rill_session *rill__session_new(rill_server *srv, int fd, const char *peer);
/* Marks the session closed (logged at `level` with `why`), cancels its parked requests. */
void rill__session_close(rill_session *s, int level, const char *why);
/* Frees a closed session (end of the loop iteration). */
void rill__session_free(rill_session *s);
/*
 * Writes what can be written now and, when the queue drained below the back-pressure
 * marks, resumes reading and processes buffered requests.  Only from the top of the loop
 * (an I/O callback or the end of an iteration), never inside a handler.
 */
void rill__session_flush(rill_session *s);
/* Writes what can be written now; safe anywhere (inside handlers too). */
void rill__session_write(rill_session *s);

rill_resp *rill__resp_get(rill_server *srv);
void rill__resp_put(rill_server *srv, rill_resp *r);
/* Adds file bytes at the current end of r->buf; takes over rd (its segment reference). */
int rill__resp_splice(rill_resp *r, rill_log_read *rd);
/* Patches the size prefix (buffer + splices); -1 when the buffer failed. */
int rill__resp_seal(rill_resp *r);
/* A parked response got its body: seal, record metrics, write. */
void rill__resp_complete(rill_server *srv, rill_resp *r, int nerrors);
/*
 * Like rill__resp_complete, but with no I/O at all (so nothing can close a session or
 * reenter the caller): the session is written at the end of the loop iteration.  For
 * completions that come from the group coordinator's callbacks.  encoded: the body was
 * written into r->buf successfully (else the session is closed then).
 */
void rill__resp_ready(rill_server *srv, rill_resp *r, int encoded, int nerrors);
/* Writes (and resumes) the sessions rill__resp_ready queued.  Top of the loop only. */
void rill__server_kick_sessions(rill_server *srv);

void rill__req_finish(rill_req *q);
void rill__req_hold(rill_req *q, uint64_t seq);
void rill__req_park(rill_req *q);
/*
 * Parks the request and holds back the connection's later requests until its response is
 * ready (rill__resp_ready): Kafka processes one request per connection at a time, and the
 * group coordinator relies on it.  Returns the response to fill.
 */
rill_resp *rill__req_park_blocking(rill_req *q);
void rill__req_no_response(rill_req *q);

/* ---- dispatch.c --------------------------------------------------------------------- */

/* One framed request (after the size).  Returns 0, or -1 when the session was closed. */
int rill__dispatch(rill_server *srv, rill_session *s, uint8_t *frame, size_t len);
/* The advertised entry of an API, or NULL. */
const rill_api_entry *rill__api_entry(int16_t key);

/* ---- server.c ----------------------------------------------------------------------- */

/* Topic name view -> NUL-terminated copy in out (cap >= RILL_TOPIC_NAME_MAX + 1); -1 if it
 * cannot be a topic name (null, empty or too long). */
int rill__topic_cstr(rill_str name, char *out, size_t cap);
/* Counters of a topic, created on first use (NULL when out of memory). */
rill_topic_stats *rill__topic_stats(rill_server *srv, const char *topic);
void rill__topic_stats_drop(rill_server *srv, const char *topic);
/*
 * After a flush round: sessions whose held responses are now durable get written; those
 * holding responses of a failed round (failed_seq) are closed.  top_level: called from
 * the loop itself, not inside a handler (sessions may then resume reading).
 */
void rill__server_release_held(rill_server *srv, uint64_t durable_seq, uint64_t failed_seq,
                               int top_level);
void rill__server_add_held(rill_server *srv, rill_session *s);
void rill__server_remove_held(rill_server *srv, rill_session *s);

/* ---- h_group.c: the group coordinator in the loop ---------------------------------- */

int rill__server_gc_open(rill_server *srv);
/* Timers and the offsets group commit; once per iteration. */
void rill__server_gc_step(rill_server *srv);
/* Milliseconds until the coordinator's next deadline, or -1. */
int64_t rill__server_gc_timeout(rill_server *srv);

/* ---- broker_meta.c ------------------------------------------------------------------ */

/* Reads or creates <data-dir>/meta.properties (cluster.id, node.id).  0 or -1 (err). */
int rill__broker_meta_load(rill_server *srv, char *err, size_t errlen);
/* A new producer id (persisted in blocks); -1 on an I/O error. */
int64_t rill__broker_next_pid(rill_server *srv);

/* ---- fetch.c ------------------------------------------------------------------------ */

/* Parked fetches whose partitions got data or whose time is up are answered. */
void rill__fetch_check_parked(rill_server *srv, int all_due);
/* Milliseconds until the next parked fetch is due, or -1. */
int64_t rill__fetch_next_deadline(rill_server *srv);
/* Drops a parked fetch (its session closed); the response is freed by the caller. */
void rill__fetch_cancel(rill_server *srv, rill_parked *p);
/* Frees the records of answered and cancelled parked fetches. */
void rill__fetch_free_dead(rill_server *srv);

#endif
