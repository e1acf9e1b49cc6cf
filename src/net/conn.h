/*
 * conn.h -- one client connection to a Kafka broker.
 *
 * Non-blocking TCP with Kafka framing (int32 size + payload) and a FIFO of
 * in-flight requests: Kafka answers requests on one connection in order,
 * so each response must carry the correlation id at the head of the queue;
 * anything else is a protocol error and the connection is dropped.
 *
 * Requests are encoded straight into the connection's output buffer:
 *
 *     rill_buf *b = rill__conn_req_begin(c, api, ver);
 *     ... encode the body into b ...
 *     rill__conn_req_end(c, cb, opaque, timeout_ms, expect_response);
 *
 * or, for bulk bytes the caller already holds (a producer's record batches),
 * queued by reference and written with one gather write, never copied:
 *
 *     ... encode up to them into b ...
 *     rill__conn_req_ref(c, records, len);
 *     ... encode the rest into b ...
 *
 * Every request's callback runs exactly once: with the response body, or
 * with an error when the connection fails or the request times out; never
 * inside rill__conn_req_end (a write that fails there closes the connection
 * from the loop), so the caller may use its request after queuing it.
 * Plain TCP only: the reads and writes are recv(2)/sendmsg(2) on the socket
 * (TLS, when it comes, has to sit in do_read and try_write).
 */
#ifndef RILL_NET_CONN_H
#define RILL_NET_CONN_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/log.h"
#include "net/loop.h"
#include "proto/reader.h"

typedef struct rill_conn rill_conn;

typedef enum rill_conn_state {
    RILL_CONN_DOWN = 0,
    RILL_CONN_CONNECTING,
    RILL_CONN_UP,
} rill_conn_state;

/*
 * Response callback.  err is 0 with `body` positioned after the response
 * header, or a local error (RILL_ERR_TRANSPORT, RILL_ERR_TIMED_OUT,
 * RILL_ERR_BAD_MSG, RILL_ERR_DESTROYED) with body NULL.  api_version is
 * the version the request was sent with.  If the callback
 * finds the body malformed it returns -1 and the connection is dropped.
 */
typedef int(rill__resp_cb)(rill_conn *c, int err, int16_t api_version, rill_rd *body, void *opaque);

/* Owner callbacks: the connection came up, or went down (with a reason). */
typedef struct rill_conn_handler {
    void (*on_up)(rill_conn *c, void *ctx);
    void (*on_down)(rill_conn *c, void *ctx, int err, const char *reason);
    void *ctx;
} rill_conn_handler;

rill_conn *rill__conn_new(rill_loop *loop, const rill_logger *log, const char *name,
                          const rill_conn_handler *h, const char *client_id, int32_t max_frame);
void rill__conn_destroy(rill_conn *c);

/* Starts connecting to host:port (resolution is synchronous). 0 or -1. */
int rill__conn_connect(rill_conn *c, const char *host, int port);
/* Closes the socket, failing every in-flight request with `err`. */
void rill__conn_close(rill_conn *c, int err, const char *reason);
rill_conn_state rill__conn_state(const rill_conn *c);

/* Begins a request frame; returns the buffer to encode the body into. */
rill_buf *rill__conn_req_begin(rill_conn *c, int16_t api_key, int16_t api_version);
/* Ends it: patches the size, queues it.  Returns 0, or -1 if it could not
 * be encoded (the callback is not called then). */
int rill__conn_req_end(rill_conn *c, rill__resp_cb *cb, void *opaque, int timeout_ms,
                       bool expect_response);
/*
 * Queues `len` bytes at `data` as the next part of the request being
 * encoded, without copying them: they must stay unchanged until the
 * request's callback runs (the connection writes them before the response
 * can come, and drops them before failing the request).  Only for requests
 * that expect a response.  0, or -1 (no memory: rill__conn_req_end fails).
 */
int rill__conn_req_ref(rill_conn *c, const void *data, size_t len);
/* Abandons the request being encoded. */
void rill__conn_req_abort(rill_conn *c);

/*
 * From inside a response callback: swaps the receive buffer that holds the
 * response for `spare` (malloc'd, spare_size bytes, the connection's from
 * now on), so that views into `body` outlive the callback -- no copy of a
 * large answer.  Returns the old buffer, the caller's now (free() it), with
 * its size in *size.  Bytes read past this response move to the spare.
 * NULL, and nothing changes, outside a callback, after a swap in the same
 * callback, or when spare is NULL or too small for those bytes and 64 KiB.
 */
uint8_t *rill__conn_swap_rbuf(rill_conn *c, uint8_t *spare, size_t spare_size, size_t *size);
/* Size of the receive buffer: what a swap would keep alive. */
size_t rill__conn_rbuf_size(const rill_conn *c);

/* In-flight requests that expect a response. */
int rill__conn_inflight(const rill_conn *c);
/* Bytes queued for writing. */
size_t rill__conn_outq_bytes(const rill_conn *c);
/* Drops the connection if the oldest request is past its deadline. */
void rill__conn_check_timeouts(rill_conn *c, int64_t now_us);
/* Earliest deadline of an in-flight request, or INT64_MAX. */
int64_t rill__conn_next_deadline(const rill_conn *c);
/* Round-trip time of the last answered request, in microseconds. */
int64_t rill__conn_last_rtt_us(const rill_conn *c);
const char *rill__conn_name(const rill_conn *c);

#endif
