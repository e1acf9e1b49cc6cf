/*
 * metrics.h -- rill-broker's counters and their Prometheus text endpoint (--metrics).
 *
 * Counters are plain integers bumped on the loop thread (no atomics needed: one thread);
 * the endpoint is a minimal HTTP/1.0 server on its own listening socket in the same loop,
 * answering `GET /metrics` with the text exposition format (version 0.0.4) and closing.
 *
 * Exposed series (all prefixed rill_):
 *   requests_total{api}, request_errors_total{api}       per API key
 *   request_duration_seconds{api} histogram              arrival -> response ready
 *   connections (gauge), connections_accepted_total, connections_closed_total,
 *   bad_frames_total
 *   fsync_total, fsync_failures_total, fsync_duration_seconds histogram (group commit rounds)
 *   topic_bytes_in_total{topic}, topic_messages_in_total{topic},
 *   topic_bytes_out_total{topic}
 *   log_size_bytes{topic,partition}, log_start_offset{...}, log_end_offset{...} (gauges)
 *   parked_fetches (gauge)
 */
#ifndef RILL_BROKER_METRICS_H
#define RILL_BROKER_METRICS_H

#include <stdint.h>

#include "common/buf.h"
#include "net/loop.h"
#include "proto/api.h"

/* Upper bounds in seconds; the last bucket is +Inf. */
#define RILL_METRICS_NBUCKETS 15

typedef struct rill_histogram {
    uint64_t buckets[RILL_METRICS_NBUCKETS + 1]; /* non-cumulative; [N] = above the last */
    uint64_t count;
    double sum_s;
} rill_histogram;

typedef struct rill_api_metrics {
    uint64_t requests, errors;
    rill_histogram latency;
} rill_api_metrics;

typedef struct rill_metrics_http rill_metrics_http;

typedef struct rill_metrics {
    rill_api_metrics api[RILL_API__COUNT];
    uint64_t conn_accepted, conn_closed, bad_frames;
    uint64_t fsyncs, fsync_failures;
    rill_histogram fsync;
    rill_metrics_http *http; /* open endpoint connections */
} rill_metrics;

struct rill_server;

void rill__histogram_add(rill_histogram *h, int64_t us);
/* The bucket upper bounds, in seconds (RILL_METRICS_NBUCKETS of them). */
extern const double rill__metrics_bounds[RILL_METRICS_NBUCKETS];

void rill__metrics_request(rill_metrics *m, int16_t api_key, int64_t latency_us, int nerrors);

/* The whole exposition text, appended to out. */
void rill__metrics_render(struct rill_server *srv, rill_buf *out);

/* The metrics listener's accept callback (server.c registers it). */
void rill__metrics_on_accept(rill_io *io, uint32_t events);
/* Closes open endpoint connections. */
void rill__metrics_close_all(struct rill_server *srv);

#endif
