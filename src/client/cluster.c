/*
 * cluster.c -- broker connections, ApiVersions handshake, metadata cache
 * (see cluster.h).
 */
#include "client/cluster.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/clock.h"
#include "proto/api_metadata.h"
#include "proto/api_versions.h"
#include "proto/apis_supported.h"
#include "proto/arena.h"
#include "proto/fields.h"
#include "rill.h"

struct rill_deferred {
    rill_deferred *next;
    int16_t api, vmin, vmax;
    rill__enc_fn *enc;
    rill__resp_cb *cb;
    void *opaque;
    int timeout_ms;
    int64_t expire_us;
};

#define APIVERSIONS_FIRST 3

static void broker_on_up(rill_conn *c, void *ctx);
static void broker_on_down(rill_conn *c, void *ctx, int err, const char *reason);

static rill_cbroker *broker_add(rill_cluster *cl, int32_t id, const char *host, int port) {
    rill_cbroker **nb = realloc(cl->brokers, sizeof(*nb) * (size_t)(cl->nbrokers + 1));
    if (!nb)
        return NULL;
    cl->brokers = nb;
    rill_cbroker *b = calloc(1, sizeof(*b));
    if (!b)
        return NULL;
    b->cl = cl;
    b->id = id;
    snprintf(b->host, sizeof(b->host), "%s", host);
    b->port = port;
    snprintf(b->name, sizeof(b->name), "%s:%d/%s%d", host, port, id < 0 ? "bootstrap" : "",
             id < 0 ? -id : id);
    b->apiver_try = APIVERSIONS_FIRST;
    b->backoff_ms = cl->conf->reconnect_backoff_ms;
    for (int i = 0; i < RILL_API__COUNT; i++)
        b->api_min[i] = b->api_max[i] = -1;
    rill_conn_handler h = {broker_on_up, broker_on_down, b};
    b->conn = rill__conn_new(cl->loop, cl->log, b->name, &h, cl->conf->client_id, 0);
    if (!b->conn) {
        free(b);
        return NULL;
    }
    cl->brokers[cl->nbrokers++] = b;
    return b;
}

static void fail_deferred(rill_cbroker *b, int err) {
    while (b->dq_head) {
        rill_deferred *d = b->dq_head;
        b->dq_head = d->next;
        if (!b->dq_head)
            b->dq_tail = NULL;
        d->cb(b->conn, err, -1, NULL, d->opaque);
        free(d);
    }
}

static void broker_free(rill_cbroker *b) {
    rill__conn_destroy(b->conn); /* fails in-flight requests */
    fail_deferred(b, RILL_ERR_DESTROYED);
    free(b);
}

struct bs_ctx {
    rill_cluster *cl;
    int n;
    int err;
};

static void bs_add(void *ctx, const char *host, int port) {
    struct bs_ctx *x = ctx;
    if (!broker_add(x->cl, -1 - x->n, host, port))
        x->err = 1;
    x->n++;
}

int rill__parse_bootstrap(const char *s, void (*add)(void *ctx, const char *host, int port),
                          void *ctx, char *errstr, size_t errstr_size) {
    int n = 0;
    const char *p = s;
    while (p && *p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        const char *e = p;
        while (*e && *e != ',' && *e != ' ')
            e++;
        char item[300];
        size_t len = (size_t)(e - p);
        if (len >= sizeof(item)) {
            snprintf(errstr, errstr_size, "bootstrap.servers: entry too long");
            return -1;
        }
        memcpy(item, p, len);
        item[len] = 0;
        /* Strip a scheme such as PLAINTEXT:// */
        char *h = strstr(item, "://");
        h = h ? h + 3 : item;
        char host[300];
        int port = 9092;
        char *colon;
        if (h[0] == '[') {
            char *rb = strchr(h, ']');
            if (!rb) {
                snprintf(errstr, errstr_size, "bootstrap.servers: bad address \"%s\"", item);
                return -1;
            }
            *rb = 0;
            snprintf(host, sizeof(host), "%s", h + 1);
            colon = rb[1] == ':' ? rb + 1 : NULL;
        } else {
            colon = strrchr(h, ':');
            if (colon)
                *colon = 0;
            snprintf(host, sizeof(host), "%s", h);
        }
        if (colon) {
            char *end;
            long v = strtol(colon + 1, &end, 10);
            if (*end || v <= 0 || v > 65535) {
                snprintf(errstr, errstr_size, "bootstrap.servers: bad port in \"%s\"", item);
                return -1;
            }
            port = (int)v;
        }
        if (!host[0]) {
            snprintf(errstr, errstr_size, "bootstrap.servers: empty host in \"%s\"", item);
            return -1;
        }
        add(ctx, host, port);
        n++;
        p = e;
    }
    if (!n) {
        snprintf(errstr, errstr_size, "bootstrap.servers: no broker address given");
        return -1;
    }
    return 0;
}

int rill__cluster_init(rill_cluster *cl, const rill_conf_t *conf, const rill_logger *log,
                       rill_loop *loop, const rill_cluster_hooks *hooks, char *errstr,
                       size_t errstr_size) {
    memset(cl, 0, sizeof(*cl));
    cl->conf = conf;
    cl->log = log;
    cl->loop = loop;
    if (hooks)
        cl->hooks = *hooks;
    cl->controller_id = -1;
    cl->md_fast_ms = 100;
    cl->allow_auto_create = true;
    struct bs_ctx x = {cl, 0, 0};
    if (rill__parse_bootstrap(conf->bootstrap_servers, bs_add, &x, errstr, errstr_size) != 0 ||
        x.err) {
        if (x.err)
            snprintf(errstr, errstr_size, "out of memory");
        rill__cluster_destroy(cl);
        return -1;
    }
    return 0;
}

void rill__cluster_abort_all(rill_cluster *cl, int err, const char *reason) {
    for (int i = 0; i < cl->nbrokers; i++) {
        rill_cbroker *b = cl->brokers[i];
        if (rill__conn_inflight(b->conn))
            rill__conn_close(b->conn, err, reason);
        fail_deferred(b, err);
    }
    cl->md_inflight = false;
}

void rill__cluster_destroy(rill_cluster *cl) {
    for (int i = 0; i < cl->nbrokers; i++)
        broker_free(cl->brokers[i]);
    free(cl->brokers);
    for (int i = 0; i < cl->ntopics; i++) {
        free(cl->topics[i].name);
        free(cl->topics[i].parts);
    }
    free(cl->topics);
    memset(cl, 0, sizeof(*cl));
}

rill_cbroker *rill__cluster_broker_ensure(rill_cluster *cl, int32_t id, const char *host,
                                          int port) {
    rill_cbroker *b = rill__cluster_broker(cl, id);
    if (b)
        return b;
    return broker_add(cl, id, host, port);
}

rill_cbroker *rill__cluster_broker(rill_cluster *cl, int32_t id) {
    for (int i = 0; i < cl->nbrokers; i++)
        if (cl->brokers[i]->id == id)
            return cl->brokers[i];
    return NULL;
}

rill_mtopic *rill__cluster_topic_find(rill_cluster *cl, const char *name) {
    for (int i = 0; i < cl->ntopics; i++)
        if (!strcmp(cl->topics[i].name, name))
            return &cl->topics[i];
    return NULL;
}

rill_mtopic *rill__cluster_topic(rill_cluster *cl, const char *name) {
    rill_mtopic *t = rill__cluster_topic_find(cl, name);
    if (t)
        return t;
    if (cl->ntopics == cl->captopics) {
        int ncap = cl->captopics ? cl->captopics * 2 : 8;
        rill_mtopic *nt = realloc(cl->topics, sizeof(*nt) * (size_t)ncap);
        if (!nt)
            return NULL;
        cl->topics = nt;
        cl->captopics = ncap;
    }
    t = &cl->topics[cl->ntopics];
    memset(t, 0, sizeof(*t));
    t->name = strdup(name);
    if (!t->name)
        return NULL;
    t->err = RILL_ERR_LEADER_NOT_AVAILABLE; /* unknown until the first answer */
    cl->ntopics++;
    rill__cluster_md_refresh(cl, "new topic", true);
    return t;
}

void rill__cluster_md_refresh(rill_cluster *cl, const char *reason, bool urgent) {
    if (!cl->md_wanted)
        snprintf(cl->md_reason, sizeof(cl->md_reason), "%s", reason);
    cl->md_wanted = true;
    if (!urgent && cl->md_next_us < rill__mono_us() + 1000000)
        cl->md_next_us = rill__mono_us() + 1000000;
}

/* ---- handshake ---------------------------------------------------------- */

static void broker_set_up(rill_cbroker *b) {
    rill_cluster *cl = b->cl;
    b->state = RILL_CB_UP;
    b->fails = 0;
    b->backoff_ms = cl->conf->reconnect_backoff_ms;
    RILL_LOG(cl->log, RILL_LOG_DEBUG, "broker", "%s: up (ApiVersions v%d)", b->name, b->apiver_try);
    /* Send what waited for the handshake, in order. */
    while (b->dq_head && b->state == RILL_CB_UP) {
        rill_deferred *d = b->dq_head;
        b->dq_head = d->next;
        if (!b->dq_head)
            b->dq_tail = NULL;
        int64_t left = (d->expire_us - rill__mono_us()) / 1000;
        rill__cluster_request(cl, b, d->api, d->vmin, d->vmax, d->enc, d->cb, d->opaque,
                              left > 0 ? (int)left : 1);
        free(d);
    }
    if (b->state == RILL_CB_UP && cl->hooks.on_broker_up)
        cl->hooks.on_broker_up(cl->hooks.owner, b);
}

static int send_api_versions(rill_cbroker *b);

static int on_api_versions(rill_conn *c, int err, int16_t ver, rill_rd *body, void *opaque) {
    rill_cbroker *b = opaque;
    if (err)
        return 0; /* on_down handles it */
    rill_arena a;
    rill__arena_init(&a, 0);
    rill_api_versions_resp m;
    if (rill__api_versions_resp_decode(body, ver, &m, &a) != 0) {
        rill__arena_free(&a);
        return -1;
    }
    if (m.error_code == RILL_ERR_UNSUPPORTED_VERSION) {
        /* KIP-511: retry with the highest ApiVersions version both know. */
        int16_t theirs = -1;
        for (int32_t i = 0; i < m.napi_keys; i++)
            if (m.api_keys[i].api_key == RILL_API_API_VERSIONS)
                theirs = m.api_keys[i].max_version;
        rill__arena_free(&a);
        int16_t next = theirs >= 0 && theirs < b->apiver_try ? theirs : 0;
        if (next == b->apiver_try)
            return -1;
        b->apiver_try = next;
        return send_api_versions(b);
    }
    if (m.error_code) {
        RILL_LOG(b->cl->log, RILL_LOG_WARNING, "broker", "%s: ApiVersions error %s", b->name,
                 rill_err_name(m.error_code));
        rill__arena_free(&a);
        return -1;
    }
    for (int i = 0; i < RILL_API__COUNT; i++)
        b->api_min[i] = b->api_max[i] = -1;
    for (int32_t i = 0; i < m.napi_keys; i++) {
        int16_t k = m.api_keys[i].api_key;
        if (k >= 0 && k < RILL_API__COUNT) {
            b->api_min[k] = m.api_keys[i].min_version;
            b->api_max[k] = m.api_keys[i].max_version;
        }
    }
    rill__arena_free(&a);
    broker_set_up(b);
    return 0;
}

static int enc_api_versions(rill_buf *buf, int16_t ver, void *opaque) {
    (void)opaque;
    rill_api_versions_req req = {rill__str("rill"), rill__str(RILL_VERSION_STR)};
    return rill__api_versions_req_encode(buf, ver, &req);
}

static int send_api_versions(rill_cbroker *b) {
    rill_buf *buf = rill__conn_req_begin(b->conn, RILL_API_API_VERSIONS, b->apiver_try);
    if (enc_api_versions(buf, b->apiver_try, NULL) != 0) {
        rill__conn_req_abort(b->conn);
        return -1;
    }
    return rill__conn_req_end(b->conn, on_api_versions, b,
                              b->cl->conf->api_version_request_timeout_ms, true);
}

static void broker_on_up(rill_conn *c, void *ctx) {
    rill_cbroker *b = ctx;
    b->state = RILL_CB_HANDSHAKE;
    if (send_api_versions(b) != 0)
        rill__conn_close(c, RILL_ERR_BAD_MSG, "cannot encode ApiVersions");
}

static void broker_on_down(rill_conn *c, void *ctx, int err, const char *reason) {
    rill_cbroker *b = ctx;
    rill_cluster *cl = b->cl;
    (void)c;
    bool was_up = b->state == RILL_CB_UP;
    if (b->state == RILL_CB_HANDSHAKE && b->apiver_try > 0 && err == RILL_ERR_TRANSPORT) {
        /* Some old brokers close the connection on an ApiVersions version they
         * do not know: fall back to v0 next time. */
        b->apiver_try = 0;
    }
    b->state = RILL_CB_DOWN;
    b->fails++;
    /* The first failure is news; the same failure again is not. */
    int lvl = was_up ? RILL_LOG_INFO : b->fails > 1 ? RILL_LOG_DEBUG : RILL_LOG_WARNING;
    if (err == RILL_ERR_DESTROYED)
        lvl = RILL_LOG_DEBUG;
    RILL_LOG(cl->log, lvl, "broker", "%s: disconnected: %s", b->name, reason);
    /* Exponential backoff with jitter, as Kafka's reconnect.backoff.ms. */
    int64_t base = b->backoff_ms;
    int64_t jitter = base / 5 ? rand() % (base / 5 * 2 + 1) - base / 5 : 0;
    b->next_connect_us = rill__mono_us() + (base + jitter) * 1000;
    b->backoff_ms = b->backoff_ms * 2 > cl->conf->reconnect_backoff_max_ms
                        ? cl->conf->reconnect_backoff_max_ms
                        : b->backoff_ms * 2;
    if (err != RILL_ERR_DESTROYED) {
        rill__cluster_md_refresh(cl, "broker down", false);
        if (cl->hooks.on_broker_down)
            cl->hooks.on_broker_down(cl->hooks.owner, b);
    }
}

void rill__cluster_want(rill_cluster *cl, rill_cbroker *b) {
    b->last_used_us = rill__mono_us();
    if (b->state != RILL_CB_DOWN)
        return;
    if (rill__mono_us() < b->next_connect_us)
        return;
    RILL_LOG(cl->log, RILL_LOG_DEBUG, "broker", "%s: connecting", b->name);
    if (rill__conn_connect(b->conn, b->host, b->port) != 0) {
        b->fails++;
        b->next_connect_us = rill__mono_us() + (int64_t)b->backoff_ms * 1000;
        b->backoff_ms = b->backoff_ms * 2 > cl->conf->reconnect_backoff_max_ms
                            ? cl->conf->reconnect_backoff_max_ms
                            : b->backoff_ms * 2;
        return;
    }
    b->state = RILL_CB_CONNECTING;
}

int16_t rill__cbroker_pick(const rill_cbroker *b, int16_t api, int16_t vmin, int16_t vmax) {
    if (api < 0 || api >= RILL_API__COUNT || b->api_max[api] < 0)
        return -1;
    int16_t v = rill__api_pick_version(api, b->api_min[api], b->api_max[api]);
    if (v < 0)
        return -1;
    if (v > vmax)
        v = vmax;
    if (v < vmin || v < b->api_min[api])
        return -1;
    return v;
}

void rill__cluster_request(rill_cluster *cl, rill_cbroker *b, int16_t api, int16_t vmin,
                           int16_t vmax, rill__enc_fn *enc, rill__resp_cb *cb, void *opaque,
                           int timeout_ms) {
    if (b->state != RILL_CB_UP) {
        rill_deferred *d = calloc(1, sizeof(*d));
        if (!d) {
            cb(b->conn, RILL_ERR_NO_MEMORY, -1, NULL, opaque);
            return;
        }
        *d = (rill_deferred){NULL,   api,        vmin,
                             vmax,   enc,        cb,
                             opaque, timeout_ms, rill__mono_us() + (int64_t)timeout_ms * 1000};
        if (b->dq_tail)
            b->dq_tail->next = d;
        else
            b->dq_head = d;
        b->dq_tail = d;
        rill__cluster_want(cl, b);
        return;
    }
    int16_t v = rill__cbroker_pick(b, api, vmin, vmax);
    if (v < 0) {
        RILL_LOG(cl->log, RILL_LOG_DEBUG, "broker", "%s: no common version of %s (want %d-%d)",
                 b->name, rill__api_name(api), vmin, vmax);
        cb(b->conn, RILL_ERR_UNSUPPORTED_FEATURE, -1, NULL, opaque);
        return;
    }
    rill_buf *buf = rill__conn_req_begin(b->conn, api, v);
    if (enc(buf, v, opaque) != 0 ||
        rill__conn_req_end(b->conn, cb, opaque, timeout_ms, true) != 0) {
        rill__conn_req_abort(b->conn);
        cb(b->conn, RILL_ERR_INVALID_ARG, v, NULL, opaque);
        return;
    }
    b->req_cnt++;
    b->last_used_us = rill__mono_us();
}

rill_cbroker *rill__cluster_any_broker(rill_cluster *cl, bool connect) {
    /* Prefer a broker named by metadata over a bootstrap entry. */
    rill_cbroker *best = NULL;
    for (int i = 0; i < cl->nbrokers; i++) {
        rill_cbroker *b = cl->brokers[i];
        if (b->state != RILL_CB_UP)
            continue;
        if (!best || (b->id >= 0 && best->id < 0))
            best = b;
    }
    if (best || !connect || !cl->nbrokers)
        return best;
    /* Nothing up: start the next candidate whose backoff has passed. */
    int64_t now = rill__mono_us();
    for (int k = 0; k < cl->nbrokers; k++) {
        rill_cbroker *b = cl->brokers[(cl->rr + k) % cl->nbrokers];
        if (b->state == RILL_CB_CONNECTING || b->state == RILL_CB_HANDSHAKE)
            return NULL; /* one attempt at a time */
    }
    for (int k = 0; k < cl->nbrokers; k++) {
        rill_cbroker *b = cl->brokers[cl->rr++ % cl->nbrokers];
        if (b->id >= 0 && !b->in_metadata)
            continue;
        if (b->state == RILL_CB_DOWN && now >= b->next_connect_us) {
            rill__cluster_want(cl, b);
            return NULL;
        }
    }
    return NULL;
}

/* ---- metadata ----------------------------------------------------------- */

static int enc_metadata(rill_buf *buf, int16_t ver, void *opaque) {
    rill_cluster *cl = opaque;
    rill_metadata_req req = {0};
    rill_metadata_req_topic *ts = NULL;
    if (cl->want_all_topics) {
        req.ntopics = -1;
    } else {
        ts = calloc((size_t)cl->ntopics + 1, sizeof(*ts));
        if (!ts)
            return -1;
        for (int i = 0; i < cl->ntopics; i++)
            ts[i].name = rill__str(cl->topics[i].name);
        req.topics = ts;
        req.ntopics = cl->ntopics;
    }
    req.allow_auto_topic_creation = ver >= 4 ? cl->allow_auto_create : true;
    int rc = rill__metadata_req_encode(buf, ver, &req);
    free(ts);
    return rc;
}

static void apply_metadata(rill_cluster *cl, const rill_metadata_resp *m) {
    int64_t now = rill__mono_us();
    for (int i = 0; i < cl->nbrokers; i++)
        cl->brokers[i]->in_metadata = false;
    for (int32_t i = 0; i < m->nbrokers; i++) {
        const rill_metadata_broker *mb = &m->brokers[i];
        char host[256];
        snprintf(host, sizeof(host), "%.*s", mb->host.len > 0 ? (int)mb->host.len : 0,
                 mb->host.ptr ? mb->host.ptr : "");
        rill_cbroker *b = rill__cluster_broker(cl, mb->node_id);
        if (b && (strcmp(b->host, host) || b->port != mb->port)) {
            RILL_LOG(cl->log, RILL_LOG_INFO, "metadata", "broker %d moved to %s:%d", mb->node_id,
                     host, mb->port);
            rill__conn_close(b->conn, RILL_ERR_TRANSPORT, "broker address changed");
            snprintf(b->host, sizeof(b->host), "%s", host);
            b->port = mb->port;
            snprintf(b->name, sizeof(b->name), "%s:%d/%d", host, mb->port, mb->node_id);
        }
        if (!b)
            b = broker_add(cl, mb->node_id, host, mb->port);
        if (b)
            b->in_metadata = true;
    }
    cl->controller_id = m->controller_id;
    if (m->cluster_id.len > 0)
        snprintf(cl->cluster_id, sizeof(cl->cluster_id), "%.*s", (int)m->cluster_id.len,
                 m->cluster_id.ptr);
    for (int32_t i = 0; i < m->ntopics; i++) {
        const rill_metadata_topic *mt = &m->topics[i];
        if (mt->name.len <= 0)
            continue;
        char name[256];
        snprintf(name, sizeof(name), "%.*s", (int)mt->name.len, mt->name.ptr);
        rill_mtopic *t = rill__cluster_topic_find(cl, name);
        if (!t && cl->want_all_topics) {
            bool w = cl->md_wanted;
            t = rill__cluster_topic(cl, name);
            cl->md_wanted = w;
        }
        if (!t)
            continue;
        t->err = mt->error_code;
        t->updated_us = now;
        if (mt->error_code && mt->npartitions <= 0)
            continue;
        int32_t np = 0;
        for (int32_t k = 0; k < mt->npartitions; k++)
            if (mt->partitions[k].partition_index + 1 > np)
                np = mt->partitions[k].partition_index + 1;
        if (np > 100000)
            continue;
        if (np != t->npart) {
            rill_mpart *nparts = realloc(t->parts, sizeof(*nparts) * (size_t)(np ? np : 1));
            if (!nparts)
                continue;
            t->parts = nparts;
            for (int32_t k = t->npart; k < np; k++)
                t->parts[k] = (rill_mpart){-1, -1, RILL_ERR_LEADER_NOT_AVAILABLE};
            t->npart = np;
        }
        for (int32_t k = 0; k < mt->npartitions; k++) {
            const rill_metadata_partition *mp = &mt->partitions[k];
            if (mp->partition_index < 0)
                continue;
            rill_mpart *p = &t->parts[mp->partition_index];
            p->leader = mp->error_code == RILL_ERR_LEADER_NOT_AVAILABLE ? -1 : mp->leader_id;
            p->leader_epoch = mp->leader_epoch;
            p->err = mp->error_code;
        }
    }
    cl->have_metadata = true;
}

static int on_metadata(rill_conn *c, int err, int16_t ver, rill_rd *body, void *opaque) {
    rill_cluster *cl = opaque;
    (void)c;
    cl->md_inflight = false;
    if (err) {
        if (err != RILL_ERR_DESTROYED) {
            cl->md_wanted = true;
            cl->md_next_us = rill__mono_us() + 250000;
        }
        return 0;
    }
    rill_arena a;
    rill__arena_init(&a, 0);
    rill_metadata_resp m;
    if (rill__metadata_resp_decode(body, ver, &m, &a) != 0 || rill__rd_remain(body) != 0) {
        rill__arena_free(&a);
        cl->md_wanted = true;
        return -1;
    }
    apply_metadata(cl, &m);
    rill__arena_free(&a);
    cl->md_last_ok_us = rill__mono_us();
    cl->md_next_us = cl->md_last_ok_us + (int64_t)cl->md_fast_ms * 1000;
    if (cl->hooks.on_metadata)
        cl->hooks.on_metadata(cl->hooks.owner, cl);
    return 0;
}

static void maybe_send_metadata(rill_cluster *cl, int64_t now) {
    if (cl->md_inflight)
        return;
    int refresh = cl->conf->topic_metadata_refresh_interval_ms;
    if (!cl->md_wanted && refresh > 0 && cl->md_last_ok_us &&
        now - cl->md_last_ok_us > (int64_t)refresh * 1000)
        rill__cluster_md_refresh(cl, "periodic refresh", false);
    if (!cl->md_wanted || now < cl->md_next_us)
        return;
    if (!cl->ntopics && !cl->want_all_topics && cl->have_metadata) {
        cl->md_wanted = false;
        return;
    }
    rill_cbroker *b = rill__cluster_any_broker(cl, true);
    if (!b)
        return;
    RILL_LOG(cl->log, RILL_LOG_DEBUG, "metadata", "requesting metadata from %s (%s)", b->name,
             cl->md_reason);
    cl->md_wanted = false;
    cl->md_inflight = true;
    rill__cluster_request(cl, b, RILL_API_METADATA, 1, RILL_METADATA_MAX_VER, enc_metadata,
                          on_metadata, cl, cl->conf->request_timeout_ms);
}

void rill__cluster_tick(rill_cluster *cl, int64_t now) {
    for (int i = 0; i < cl->nbrokers; i++) {
        rill_cbroker *b = cl->brokers[i];
        rill__conn_check_timeouts(b->conn, now);
        /* Requests waiting for a handshake time out too. */
        while (b->dq_head && b->dq_head->expire_us <= now) {
            rill_deferred *d = b->dq_head;
            b->dq_head = d->next;
            if (!b->dq_head)
                b->dq_tail = NULL;
            d->cb(b->conn, RILL_ERR_TIMED_OUT, -1, NULL, d->opaque);
            free(d);
        }
        if (b->dq_head)
            rill__cluster_want(cl, b);
        /* Connection setup timeout. */
        if ((b->state == RILL_CB_CONNECTING) && b->last_used_us &&
            now - b->last_used_us > (int64_t)cl->conf->socket_connection_setup_timeout_ms * 1000)
            rill__conn_close(b->conn, RILL_ERR_TIMED_OUT, "connection setup timed out");
    }
    maybe_send_metadata(cl, now);
}

int64_t rill__cluster_next_wakeup(const rill_cluster *cl, int64_t now) {
    int64_t next = now + 1000000;
    for (int i = 0; i < cl->nbrokers; i++) {
        const rill_cbroker *b = cl->brokers[i];
        int64_t d = rill__conn_next_deadline(b->conn);
        if (d < next)
            next = d;
        if (b->dq_head && b->dq_head->expire_us < next)
            next = b->dq_head->expire_us;
        if (b->state == RILL_CB_DOWN && b->dq_head && b->next_connect_us < next)
            next = b->next_connect_us;
    }
    if (cl->md_wanted && !cl->md_inflight) {
        int64_t t = cl->md_next_us;
        for (int i = 0; i < cl->nbrokers; i++)
            if (cl->brokers[i]->state == RILL_CB_DOWN && cl->brokers[i]->next_connect_us > t)
                t = cl->brokers[i]->next_connect_us < next ? cl->brokers[i]->next_connect_us : t;
        if (t < next)
            next = t;
    }
    return next < now ? now : next;
}
