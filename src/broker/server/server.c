/*
 * server.c -- the broker's event loop: listeners and accept, the per-iteration work
 * (group commit kick, parked fetches, storage maintenance, idle connections), graceful
 * shutdown.  Sessions are in session.c, requests in dispatch.c and the handlers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "broker/server/group_coordinator.h"
#include "broker/server/handlers.h"
#include "broker/server/server_int.h"
#include "common/clock.h"

#define SCRATCH_SIZE (256u << 10)
/* Storage maintenance and the accept back-off run this often. */
#define TICK_MS 250
#define IDLE_SWEEP_MS 5000
/* How long a graceful shutdown may spend writing what clients are owed. */
#define SHUTDOWN_DRAIN_MS 5000

/* ---- small shared helpers ------------------------------------------------------------- */

int rill__topic_cstr(rill_str name, char *out, size_t cap) {
    if (name.len <= 0 || name.len > RILL_TOPIC_NAME_MAX || (size_t)name.len >= cap ||
        memchr(name.ptr, '\0', (size_t)name.len))
        return -1;
    memcpy(out, name.ptr, (size_t)name.len);
    out[name.len] = '\0';
    return 0;
}

rill_topic_stats *rill__topic_stats(rill_server *srv, const char *topic) {
    size_t n = strlen(topic);
    rill_topic_stats *ts = rill__hmap_get(&srv->topic_stats, topic, n);
    if (ts)
        return ts;
    ts = calloc(1, sizeof(*ts));
    if (ts && rill__hmap_put(&srv->topic_stats, topic, n, ts) != 0) {
        free(ts);
        ts = NULL;
    }
    return ts;
}

void rill__topic_stats_drop(rill_server *srv, const char *topic) {
    free(rill__hmap_del(&srv->topic_stats, topic, strlen(topic)));
}

/* ---- held responses (acks=all waiting for a flush round) ------------------------------ */

void rill__server_add_held(rill_server *srv, rill_session *s) {
    if (s->held_idx >= 0)
        return;
    if (srv->nheld == srv->capheld) {
        size_t cap = srv->capheld ? srv->capheld * 2 : 64;
        rill_session **a = realloc(srv->held, cap * sizeof(*a));
        if (!a) {
            rill__session_close(s, RILL_LOG_ERR, "out of memory");
            return;
        }
        srv->held = a;
        srv->capheld = cap;
    }
    s->held_idx = (int32_t)srv->nheld;
    srv->held[srv->nheld++] = s;
}

void rill__server_remove_held(rill_server *srv, rill_session *s) {
    size_t i = (size_t)s->held_idx;
    srv->held[i] = srv->held[--srv->nheld];
    srv->held[i]->held_idx = (int32_t)i;
    s->held_idx = -1;
}

void rill__server_release_held(rill_server *srv, uint64_t durable_seq, uint64_t failed_seq,
                               int top_level) {
    size_t n = srv->nheld;
    if (!n)
        return;
    /* Flushing a session can process its buffered requests, which changes srv->held. */
    rill_session **snap = malloc(n * sizeof(*snap));
    if (!snap)
        return;
    memcpy(snap, srv->held, n * sizeof(*snap));
    for (size_t i = 0; i < n; i++) {
        rill_session *s = snap[i];
        if (s->dead)
            continue;
        uint32_t still = 0;
        int failed = 0;
        for (rill_resp *r = s->out_head; r; r = r->next) {
            if (failed_seq && r->hold_seq == failed_seq)
                failed = 1;
            if (r->hold_seq > durable_seq)
                still++;
        }
        if (failed) {
            /* Never acknowledge what may not be on disk; the client retries. */
            rill__session_close(s, RILL_LOG_ERR, "fsync failed: acks=all responses withheld");
            continue;
        }
        s->nheld = still;
        if (!still && s->held_idx >= 0)
            rill__server_remove_held(srv, s);
        if (top_level)
            rill__session_flush(s);
        else
            rill__session_write(s);
    }
    free(snap);
}

/* ---- listeners ------------------------------------------------------------------------- */

static void peer_name(const struct sockaddr_storage *ss, char *out, size_t cap) {
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
        port = ntohs(a->sin_port);
        snprintf(out, cap, "%s:%d", host, port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
        port = ntohs(a->sin6_port);
        snprintf(out, cap, "[%s]:%d", host, port);
    } else {
        snprintf(out, cap, "?");
    }
}

static void on_accept(rill_io *io, uint32_t events) {
    rill_server *srv = io->ctx;
    (void)events;
    for (int i = 0; i < 64 && !atomic_load(&srv->stop); i++) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        int fd = accept4(io->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
                /* Out of descriptors: mute the listeners until the next tick. */
                RILL_LOG(srv->lg, RILL_LOG_WARNING, "server", "accept: %s (pausing accepts)",
                         strerror(errno));
                for (int l = 0; l < srv->nlisteners; l++)
                    rill__loop_mod(srv->loop, &srv->listeners[l], 0);
                srv->accept_paused = 1;
            }
            return;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        char peer[64];
        peer_name(&ss, peer, sizeof(peer));
        rill_session *s = rill__session_new(srv, fd, peer);
        if (s)
            RILL_LOG(srv->lg, RILL_LOG_DEBUG, "server", "connection %s accepted", peer);
    }
}

/* Binds hp; returns the fd (and the bound port) or -1 with a message. */
static int listen_on(const rill_hostport *hp, int *port, char *err, size_t errlen) {
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", hp->port);
    int rc = getaddrinfo(hp->host[0] ? hp->host : NULL, ps, &hints, &res);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", hp->host, gai_strerror(rc));
        return -1;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
            break;
        snprintf(err, errlen, "cannot listen on %s:%d: %s", hp->host, hp->port, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0)
        return -1;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                           : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
}

/* "host:port" for the log line: as given, or the bound wildcard address when no host was. */
static void listen_name(int fd, const rill_hostport *hp, int port, char *out, size_t cap) {
    if (hp->host[0]) {
        rill_hostport shown = *hp;
        shown.port = port;
        rill__hostport_format(&shown, out, cap);
        return;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0)
        peer_name(&ss, out, cap);
    else
        snprintf(out, cap, "0.0.0.0:%d", port);
}

/* Raises the descriptor limit: thousands of idle clients are expected to be fine. */
static void raise_nofile(const rill_logger *lg) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
        return;
    rlim_t old = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
        RILL_LOG(lg, RILL_LOG_DEBUG, "server", "open files limit raised from %llu to %llu",
                 (unsigned long long)old, (unsigned long long)rl.rlim_max);
}

static void free_dead_sessions(rill_server *srv) {
    while (srv->dead) {
        rill_session *s = srv->dead;
        srv->dead = s->next;
        rill__session_free(s);
    }
}

/* ---- lifecycle ------------------------------------------------------------------------- */

/*
 * Frees everything, in dependency order: connections (their responses hold segment
 * references, their group requests are cancelled), the fsync thread (a running round
 * holds log pointers), the group coordinator (it borrows the offsets store), then the
 * storage (a clean close: flush and the clean-shutdown marker).  Returns -1 when the
 * storage could not close cleanly.
 */
static int server_free(rill_server *srv) {
    while (srv->sessions)
        rill__session_close(srv->sessions, RILL_LOG_DEBUG, "broker shutting down");
    free_dead_sessions(srv);
    rill__flusher_destroy(&srv->flusher);
    if (srv->gc)
        rill__gc_destroy(srv->gc);
    srv->gc = NULL;
    rill_err_t e = srv->st ? rill__storage_close(srv->st) : RILL_ERR_NO_ERROR;
    srv->st = NULL;
    rill__metrics_close_all(srv);
    for (int i = 0; i < srv->nlisteners; i++)
        if (srv->listeners[i].fd >= 0) {
            rill__loop_del(srv->loop, &srv->listeners[i]);
            close(srv->listeners[i].fd);
        }
    if (srv->metrics_io.fd >= 0) {
        rill__loop_del(srv->loop, &srv->metrics_io);
        close(srv->metrics_io.fd);
    }
    while (srv->free_resps) {
        rill_resp *r = srv->free_resps;
        srv->free_resps = r->next;
        rill__buf_free(&r->buf);
        free(r->sp);
        free(r);
    }
    rill__fetch_free_dead(srv);
    free(srv->held);
    free(srv->kick);
    free(srv->parked);
    free(srv->scratch);
    rill__arena_free(&srv->arena);
    rill__batch_reader_free(&srv->ts_reader);
    rill__hmap_free(&srv->topic_stats, free);
    rill__loop_destroy(srv->loop);
    free(srv);
    return e ? -1 : 0;
}

static void choose_advertised(rill_server *srv) {
    const rill_broker_config *c = srv->cfg;
    const rill_hostport *first = c->nlisteners ? &c->listeners[0] : NULL;
    snprintf(srv->adv_host, sizeof(srv->adv_host), "%s",
             c->has_advertise && c->advertise.host[0] ? c->advertise.host
             : first && first->host[0]                ? first->host
                                                      : "");
    srv->adv_port = c->has_advertise && c->advertise.port ? c->advertise.port : srv->ports[0];
    if (!srv->adv_host[0] || !strcmp(srv->adv_host, "0.0.0.0") || !strcmp(srv->adv_host, "::")) {
        /* A wildcard address cannot be connected to: advertise the host name, as Kafka. */
        if (gethostname(srv->adv_host, sizeof(srv->adv_host)) != 0)
            snprintf(srv->adv_host, sizeof(srv->adv_host), "localhost");
    }
}

rill_err_t rill__server_new(const rill_broker_config *cfg, const rill_logger *lg, rill_server **out,
                            char *err, size_t errlen) {
    *out = NULL;
    rill_server *srv = calloc(1, sizeof(*srv));
    if (!srv) {
        snprintf(err, errlen, "out of memory");
        return RILL_ERR_NO_MEMORY;
    }
    srv->cfg = cfg;
    srv->lg = lg;
    srv->metrics_io.fd = -1;
    srv->metrics_port = -1;
    rill__hmap_init(&srv->topic_stats);
    rill__arena_init(&srv->arena, 0);
    /* Bounded like a consumer's: a batch inflating past it answers with its first record. */
    rill__batch_reader_init(&srv->ts_reader, 64u << 20);
    srv->now_ms = rill__wall_ms();
    srv->mono_ms = rill__mono_ms();
    srv->scratch_cap = SCRATCH_SIZE;
    srv->scratch = malloc(SCRATCH_SIZE);
    srv->loop = rill__loop_new();
    if (!srv->scratch || !srv->loop) {
        snprintf(err, errlen, "out of memory");
        free(srv->scratch);
        rill__loop_destroy(srv->loop);
        rill__batch_reader_free(&srv->ts_reader);
        free(srv);
        return RILL_ERR_NO_MEMORY;
    }
    if (rill__flusher_init(&srv->flusher, srv, srv->loop) != 0) {
        snprintf(err, errlen, "cannot start the fsync thread: %s", strerror(errno));
        server_free(srv);
        return RILL_ERR_FATAL;
    }
    raise_nofile(lg);

    rill_storage_config sc = cfg->storage;
    sc.data_dir = cfg->data_dir;
    sc.logger = lg;
    if (!sc.log_defaults.logger)
        sc.log_defaults.logger = lg;
    sc.flush_in_tick = 0; /* the flush policy's fsyncs go to our flusher thread (tick) */
    sc.log_defaults.ts_finder = rill__list_offsets_ts_finder;
    sc.log_defaults.ts_finder_opaque = &srv->ts_reader;
    rill_err_t e = rill__storage_open(&sc, &srv->st, err, errlen);
    if (e) {
        server_free(srv);
        return e;
    }
    if (rill__broker_meta_load(srv, err, errlen) != 0) {
        server_free(srv);
        return RILL_ERR_KAFKA_STORAGE_ERROR;
    }
    if (rill__server_gc_open(srv) != 0) {
        snprintf(err, errlen, "cannot start the group coordinator: out of memory");
        server_free(srv);
        return RILL_ERR_NO_MEMORY;
    }

    rill_hostport def = {"127.0.0.1", RILL_BROKER_DEFAULT_PORT};
    int n = cfg->nlisteners ? cfg->nlisteners : 1;
    for (int i = 0; i < n; i++) {
        const rill_hostport *hp = cfg->nlisteners ? &cfg->listeners[i] : &def;
        int fd = listen_on(hp, &srv->ports[i], err, errlen);
        if (fd < 0) {
            server_free(srv);
            return RILL_ERR_TRANSPORT;
        }
        srv->listeners[i] = (rill_io){.fd = fd, .cb = on_accept, .ctx = srv};
        srv->nlisteners = i + 1;
        rill__loop_add(srv->loop, &srv->listeners[i], EPOLLIN);
    }
    if (cfg->has_metrics) {
        int fd = listen_on(&cfg->metrics, &srv->metrics_port, err, errlen);
        if (fd < 0) {
            server_free(srv);
            return RILL_ERR_TRANSPORT;
        }
        srv->metrics_io = (rill_io){.fd = fd, .cb = rill__metrics_on_accept, .ctx = srv};
        rill__loop_add(srv->loop, &srv->metrics_io, EPOLLIN);
    }
    choose_advertised(srv);
    /* Before "listening on": whoever waits for that line knows this one too. */
    if (srv->metrics_port >= 0) {
        char addr[300];
        listen_name(srv->metrics_io.fd, &cfg->metrics, srv->metrics_port, addr, sizeof(addr));
        rill__log(lg, RILL_LOG_NOTICE, "server", "metrics on http://%s/metrics", addr);
    }
    for (int i = 0; i < srv->nlisteners; i++) {
        char addr[300];
        listen_name(srv->listeners[i].fd, cfg->nlisteners ? &cfg->listeners[i] : &def,
                    srv->ports[i], addr, sizeof(addr));
        /* Printed whatever the log level: scripts wait for this line. */
        rill__log(lg, RILL_LOG_NOTICE, "server", "listening on %s", addr);
    }
    RILL_LOG(lg, RILL_LOG_INFO, "server",
             "node %d, cluster %s, advertised as %s:%d, data in %s, flush policy %s",
             (int)cfg->node_id, srv->cluster_id, srv->adv_host, srv->adv_port, cfg->data_dir,
             rill__flush_policy_name(cfg->flush_policy));
    *out = srv;
    return RILL_ERR_NO_ERROR;
}

int rill__server_port(const rill_server *srv, int i) {
    return i >= 0 && i < srv->nlisteners ? srv->ports[i] : -1;
}

int rill__server_metrics_port(const rill_server *srv) { return srv->metrics_port; }

void rill__server_stop(rill_server *srv) {
    atomic_store(&srv->stop, 1);
    rill__loop_wakeup(srv->loop);
}

/* ---- the loop ------------------------------------------------------------------------- */

static void sweep_idle(rill_server *srv) {
    int64_t max_idle = srv->cfg->connections_max_idle_ms;
    if (max_idle < 0)
        return;
    for (rill_session *s = srv->sessions, *next; s; s = next) {
        next = s->next;
        if (!s->out_head && s->in.len == 0 && srv->mono_ms - s->last_active_ms > max_idle)
            rill__session_close(s, RILL_LOG_DEBUG, "idle longer than connections.max.idle.ms");
    }
}

/*
 * log.flush.interval.messages / .ms, and rolled segments not yet synced (Kafka flushes a
 * segment when it rolls): such logs join the flusher's next round, off the loop thread.
 */
static void note_due_flushes(rill_server *srv) {
    rill_topics *topics = rill__storage_topics(srv->st);
    for (size_t i = 0; i < rill__topics_count(topics); i++) {
        const rill_topic *tp = rill__topics_at(topics, i);
        for (int32_t p = 0; p < tp->partitions; p++) {
            rill_log *log = rill__storage_log(srv->st, tp->name, p);
            if (log && (rill__log_flush_due(log, srv->now_ms, 0) ||
                        rill__log_flush_due(log, srv->now_ms, 1)))
                rill__flusher_note(&srv->flusher, log);
        }
    }
}

static void tick(rill_server *srv) {
    if (srv->mono_ms - srv->last_tick_ms < TICK_MS)
        return;
    srv->last_tick_ms = srv->mono_ms;
    rill__storage_tick(srv->st, srv->now_ms);
    note_due_flushes(srv);
    if (srv->accept_paused) {
        srv->accept_paused = 0;
        for (int l = 0; l < srv->nlisteners; l++)
            rill__loop_mod(srv->loop, &srv->listeners[l], EPOLLIN);
    }
    if (srv->mono_ms - srv->last_idle_sweep_ms >= IDLE_SWEEP_MS) {
        srv->last_idle_sweep_ms = srv->mono_ms;
        sweep_idle(srv);
    }
}

/* What runs after every batch of events. */
static void after_events(rill_server *srv) {
    srv->now_ms = rill__wall_ms();
    srv->mono_ms = rill__mono_ms();
    rill__fetch_check_parked(srv, 0);
    rill__server_gc_step(srv);
    rill__server_kick_sessions(srv);
    tick(srv);
    rill__flusher_kick(&srv->flusher);
    free_dead_sessions(srv);
}

static int next_timeout(rill_server *srv) {
    int64_t t = TICK_MS;
    int64_t f = rill__fetch_next_deadline(srv);
    if (f >= 0 && f < t)
        t = f;
    int64_t g = rill__server_gc_timeout(srv);
    if (g >= 0 && g < t)
        t = g;
    return (int)t;
}

int rill__server_step(rill_server *srv, int timeout_ms) {
    int t = next_timeout(srv);
    if (timeout_ms >= 0 && timeout_ms < t)
        t = timeout_ms;
    int n = rill__loop_step(srv->loop, t);
    after_events(srv);
    return n;
}

/* Graceful stop: answer what is owed, then let the clients go. */
static void shutdown_drain(rill_server *srv) {
    for (int i = 0; i < srv->nlisteners; i++) {
        rill__loop_del(srv->loop, &srv->listeners[i]);
        close(srv->listeners[i].fd);
        srv->listeners[i].fd = -1;
    }
    RILL_LOG(srv->lg, RILL_LOG_INFO, "server", "shutting down: %zu connections", srv->nsessions);
    rill__fetch_check_parked(srv, 1); /* answer every long poll now */
    rill__flusher_drain(&srv->flusher);
    int64_t deadline = rill__mono_ms() + SHUTDOWN_DRAIN_MS;
    for (;;) {
        int owed = 0;
        for (rill_session *s = srv->sessions; s; s = s->next) {
            /* Stop reading new requests; finish writing. */
            s->paused = 1;
            /* A group request still waiting for its rebalance is not waited for. */
            if (s->out_head && !(s->blocked && s->out_head->pending))
                owed = 1;
        }
        if (!owed || rill__mono_ms() >= deadline)
            break;
        for (rill_session *s = srv->sessions; s; s = s->next)
            if (s->out_head && !s->want_write)
                rill__session_write(s);
        rill__loop_step(srv->loop, 50);
        srv->now_ms = rill__wall_ms();
        srv->mono_ms = rill__mono_ms();
        rill__fetch_check_parked(srv, 1);
        rill__server_gc_step(srv);
        rill__server_kick_sessions(srv);
        rill__flusher_kick(&srv->flusher);
        free_dead_sessions(srv);
    }
}

int rill__server_run(rill_server *srv) {
    int rc = 0;
    while (!atomic_load(&srv->stop)) {
        if (rill__server_step(srv, -1) < 0) {
            RILL_LOG(srv->lg, RILL_LOG_CRIT, "server", "event loop: %s", strerror(errno));
            rc = -1;
            break;
        }
    }
    shutdown_drain(srv);
    return rc;
}

int rill__server_destroy(rill_server *srv) {
    if (!srv)
        return 0;
    rill__flusher_drain(&srv->flusher);
    return server_free(srv);
}
