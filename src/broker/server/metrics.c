/*
 * metrics.c -- counters, histograms and the Prometheus text endpoint (see metrics.h).
 */
#include "broker/server/metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker/server/server_int.h"

const double rill__metrics_bounds[RILL_METRICS_NBUCKETS] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
};

void rill__histogram_add(rill_histogram *h, int64_t us) {
    double s = us > 0 ? (double)us / 1e6 : 0;
    int i = 0;
    while (i < RILL_METRICS_NBUCKETS && s > rill__metrics_bounds[i])
        i++;
    h->buckets[i]++;
    h->count++;
    h->sum_s += s;
}

void rill__metrics_request(rill_metrics *m, int16_t api_key, int64_t latency_us, int nerrors) {
    if (api_key < 0 || api_key >= RILL_API__COUNT)
        return;
    rill_api_metrics *a = &m->api[api_key];
    a->requests++;
    if (nerrors)
        a->errors++;
    rill__histogram_add(&a->latency, latency_us);
}

/* ---- rendering --------------------------------------------------------------------------- */

static void pf(rill_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void pf(rill_buf *b, const char *fmt, ...) {
    for (int pass = 0; pass < 2 && !b->err; pass++) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->len;
        int n = vsnprintf(room ? (char *)b->data + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->err = 1;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        if (rill__buf_grow(b, (size_t)n + 1) != 0)
            return;
    }
}

static void head(rill_buf *b, const char *name, const char *type, const char *help) {
    pf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void histogram(rill_buf *b, const char *name, const char *labels, const rill_histogram *h) {
    uint64_t cum = 0;
    const char *sep = labels[0] ? "," : "";
    for (int i = 0; i < RILL_METRICS_NBUCKETS; i++) {
        cum += h->buckets[i];
        pf(b, "%s_bucket{%s%sle=\"%g\"} %" PRIu64 "\n", name, labels, sep, rill__metrics_bounds[i],
           cum);
    }
    cum += h->buckets[RILL_METRICS_NBUCKETS];
    pf(b, "%s_bucket{%s%sle=\"+Inf\"} %" PRIu64 "\n", name, labels, sep, cum);
    const char *open = labels[0] ? "{" : "", *close = labels[0] ? "}" : "";
    pf(b, "%s_sum%s%s%s %.6f\n%s_count%s%s%s %" PRIu64 "\n", name, open, labels, close, h->sum_s,
       name, open, labels, close, h->count);
}

typedef enum { STAT_BYTES_IN, STAT_MSGS_IN, STAT_BYTES_OUT, STAT_MSGS_OUT } stat_kind;

static uint64_t stat_value(const rill_topic_stats *ts, stat_kind k) {
    switch (k) {
    case STAT_BYTES_IN:
        return ts->bytes_in;
    case STAT_MSGS_IN:
        return ts->msgs_in;
    case STAT_BYTES_OUT:
        return ts->bytes_out;
    default:
        return ts->msgs_out;
    }
}

static void topic_series(rill_buf *b, rill_server *srv, const char *name, const char *help,
                         stat_kind k) {
    head(b, name, "counter", help);
    rill_hmap_iter it;
    rill_hmap_node *n;
    rill__hmap_iter_init(&it, &srv->topic_stats);
    while ((n = rill__hmap_iter_next(&it))) {
        const rill_topic_stats *ts = n->val;
        pf(b, "%s{topic=\"%.*s\"} %" PRIu64 "\n", name, (int)n->klen, (const char *)n->key,
           stat_value(ts, k));
    }
}

typedef enum { LOG_SIZE, LOG_START, LOG_END } log_kind;

static void log_series(rill_buf *b, rill_server *srv, const char *name, const char *help,
                       log_kind k) {
    head(b, name, "gauge", help);
    rill_topics *topics = rill__storage_topics(srv->st);
    for (size_t i = 0; i < rill__topics_count(topics); i++) {
        const rill_topic *tp = rill__topics_at(topics, i);
        for (int32_t p = 0; p < tp->partitions; p++) {
            rill_log *log = rill__storage_log(srv->st, tp->name, p);
            if (!log)
                continue;
            int64_t v = k == LOG_SIZE    ? rill__log_size_bytes(log)
                        : k == LOG_START ? rill__log_start_offset(log)
                                         : rill__log_end_offset(log);
            pf(b, "%s{topic=\"%s\",partition=\"%d\"} %" PRId64 "\n", name, tp->name, (int)p, v);
        }
    }
}

void rill__metrics_render(rill_server *srv, rill_buf *b) {
    const rill_metrics *m = &srv->metrics;
    head(b, "rill_requests_total", "counter", "Requests received, by API.");
    for (int k = 0; k < RILL_API__COUNT; k++)
        if (rill__api_entry((int16_t)k))
            pf(b, "rill_requests_total{api=\"%s\"} %" PRIu64 "\n", rill__api_name((int16_t)k),
               m->api[k].requests);
    head(b, "rill_request_errors_total", "counter",
         "Responses that carried at least one error code, by API.");
    for (int k = 0; k < RILL_API__COUNT; k++)
        if (rill__api_entry((int16_t)k))
            pf(b, "rill_request_errors_total{api=\"%s\"} %" PRIu64 "\n", rill__api_name((int16_t)k),
               m->api[k].errors);
    head(b, "rill_request_duration_seconds", "histogram",
         "Time from a request's arrival until its response was ready, by API.");
    for (int k = 0; k < RILL_API__COUNT; k++)
        if (rill__api_entry((int16_t)k)) {
            char labels[64];
            snprintf(labels, sizeof(labels), "api=\"%s\"", rill__api_name((int16_t)k));
            histogram(b, "rill_request_duration_seconds", labels, &m->api[k].latency);
        }
    head(b, "rill_connections", "gauge", "Open client connections.");
    pf(b, "rill_connections %zu\n", srv->nsessions);
    head(b, "rill_connections_accepted_total", "counter", "Client connections accepted.");
    pf(b, "rill_connections_accepted_total %" PRIu64 "\n", m->conn_accepted);
    head(b, "rill_connections_closed_total", "counter", "Client connections closed.");
    pf(b, "rill_connections_closed_total %" PRIu64 "\n", m->conn_closed);
    head(b, "rill_bad_frames_total", "counter",
         "Connections closed for a malformed, oversized or unsupported request.");
    pf(b, "rill_bad_frames_total %" PRIu64 "\n", m->bad_frames);
    head(b, "rill_parked_fetches", "gauge", "Fetch requests waiting for data (long poll).");
    pf(b, "rill_parked_fetches %zu\n", srv->nparked);
    head(b, "rill_fsync_total", "counter", "Group-commit fsync rounds.");
    pf(b, "rill_fsync_total %" PRIu64 "\n", m->fsyncs);
    head(b, "rill_fsync_failures_total", "counter", "Group-commit rounds whose fsync failed.");
    pf(b, "rill_fsync_failures_total %" PRIu64 "\n", m->fsync_failures);
    head(b, "rill_fsync_duration_seconds", "histogram", "Duration of group-commit fsync rounds.");
    histogram(b, "rill_fsync_duration_seconds", "", &m->fsync);
    topic_series(b, srv, "rill_topic_bytes_in_total", "Record batch bytes appended, by topic.",
                 STAT_BYTES_IN);
    topic_series(b, srv, "rill_topic_messages_in_total", "Records appended, by topic.",
                 STAT_MSGS_IN);
    topic_series(b, srv, "rill_topic_bytes_out_total", "Record bytes sent to consumers, by topic.",
                 STAT_BYTES_OUT);
    topic_series(b, srv, "rill_topic_messages_out_total",
                 "Records sent to consumers from their fetch offsets on, by topic.", STAT_MSGS_OUT);
    log_series(b, srv, "rill_log_size_bytes", "Bytes in a partition's segments.", LOG_SIZE);
    log_series(b, srv, "rill_log_start_offset", "First offset of a partition.", LOG_START);
    log_series(b, srv, "rill_log_end_offset", "Offset the next record of a partition gets.",
               LOG_END);
}

/* ---- the HTTP endpoint ------------------------------------------------------------------ */

#define HTTP_REQ_MAX 4096

struct rill_metrics_http {
    rill_io io;
    rill_server *srv;
    rill_metrics_http *next;
    char req[HTTP_REQ_MAX];
    size_t rlen;
    rill_buf out;
    size_t sent;
    int responding;
};

static void http_close(rill_metrics_http *h) {
    rill_server *srv = h->srv;
    rill_metrics_http **pp = &srv->metrics.http;
    while (*pp && *pp != h)
        pp = &(*pp)->next;
    if (*pp)
        *pp = h->next;
    rill__loop_del(srv->loop, &h->io);
    close(h->io.fd);
    rill__buf_free(&h->out);
    free(h);
}

static void http_answer(rill_metrics_http *h) {
    rill_buf body;
    rill__buf_init(&body, 0);
    const char *status = "200 OK";
    if (!strncmp(h->req, "GET /metrics ", 13) || !strncmp(h->req, "GET /metrics?", 13)) {
        rill__metrics_render(h->srv, &body);
    } else if (!strncmp(h->req, "GET ", 4) || !strncmp(h->req, "HEAD ", 5)) {
        status = "404 Not Found";
        pf(&body, "rill-broker: metrics are at /metrics\n");
    } else {
        status = "405 Method Not Allowed";
        pf(&body, "only GET\n");
    }
    pf(&h->out,
       "HTTP/1.0 %s\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
       "Content-Length: %zu\r\nConnection: close\r\n\r\n",
       status, body.len);
    if (strncmp(h->req, "HEAD ", 5) != 0)
        rill__buf_append(&h->out, body.data, body.len);
    rill__buf_free(&body);
    h->responding = 1;
}

static void http_io(rill_io *io, uint32_t events) {
    rill_metrics_http *h = io->ctx;
    if (!h->responding && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
        ssize_t n = read(io->fd, h->req + h->rlen, sizeof(h->req) - 1 - h->rlen);
        if (n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EINTR))
                http_close(h);
            return;
        }
        h->rlen += (size_t)n;
        h->req[h->rlen] = '\0';
        if (strstr(h->req, "\r\n\r\n") || strstr(h->req, "\n\n")) {
            http_answer(h);
        } else if (h->rlen == sizeof(h->req) - 1) {
            http_close(h); /* a request header this large is not a scrape */
            return;
        }
    }
    if (h->responding) {
        while (h->sent < h->out.len) {
            ssize_t n = send(io->fd, h->out.data + h->sent, h->out.len - h->sent, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK) {
                    rill__loop_mod(h->srv->loop, io, EPOLLOUT);
                    return;
                }
                if (errno == EINTR)
                    continue;
                break;
            }
            h->sent += (size_t)n;
        }
        http_close(h);
    }
}

void rill__metrics_on_accept(rill_io *io, uint32_t events) {
    rill_server *srv = io->ctx;
    (void)events;
    for (int i = 0; i < 16; i++) {
        int fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        rill_metrics_http *h = calloc(1, sizeof(*h));
        if (!h) {
            close(fd);
            return;
        }
        h->srv = srv;
        h->io = (rill_io){.fd = fd, .cb = http_io, .ctx = h};
        rill__buf_init(&h->out, 0);
        if (rill__loop_add(srv->loop, &h->io, EPOLLIN) != 0) {
            close(fd);
            free(h);
            continue;
        }
        h->next = srv->metrics.http;
        srv->metrics.http = h;
    }
}

void rill__metrics_close_all(rill_server *srv) {
    while (srv->metrics.http)
        http_close(srv->metrics.http);
}
