/*
 * h_configs.c -- DescribeConfigs (key 32) for topics and for this broker, and the topic
 * config list CreateTopics v5+ echoes.
 *
 * Topic resources list every topic-level setting storage knows, with its effective value
 * (broker default, or the topic's override) and where it came from: the topic's own
 * override (DYNAMIC_TOPIC_CONFIG), a value the broker was started with
 * (STATIC_BROKER_CONFIG) or the built-in default (DEFAULT_CONFIG), as Kafka reports them.
 * Broker resources ("" or this node's id) list the broker settings of broker_config.h;
 * they are read-only: nothing changes them at run time.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/server/handlers.h"
#include "proto/api_configs.h"

enum { T_BOOL = 1, T_STRING = 2, T_INT = 3, T_LONG = 5, T_LIST = 7 };

/*
 * Topic-level settings: storage prints those it acts on (cleanup.policy included); the
 * others have a fixed value.  broker: the broker-level name that sets its default (the
 * synonym DescribeConfigs reports).
 */
static const struct {
    const char *name;
    const char *fixed; /* for settings a single node does not act on; NULL: storage's */
    int8_t type;
    const char *broker;
    const char *doc;
} topic_keys[] = {
    {"cleanup.policy", NULL, T_LIST, "log.cleanup.policy",
     "delete: old segments go by retention.ms and retention.bytes; compact: kept whole (rill has "
     "no log cleaner); compact,delete: deleted by retention"},
    {"compression.type", "producer", T_STRING, "compression.type",
     "Batches are stored as the producer compressed them"},
    {"flush.messages", NULL, T_LONG, "log.flush.interval.messages",
     "Fsync the log after this many messages"},
    {"flush.ms", NULL, T_LONG, "log.flush.interval.ms",
     "Fsync the log when unflushed data is this old (ms)"},
    {"index.interval.bytes", NULL, T_INT, "log.index.interval.bytes",
     "Bytes of log between two offset index entries"},
    {"max.message.bytes", NULL, T_INT, "message.max.bytes", "Largest record batch accepted"},
    {"message.timestamp.type", NULL, T_STRING, "log.message.timestamp.type",
     "CreateTime: the producer's timestamps; LogAppendTime: the broker's"},
    {"min.insync.replicas", "1", T_INT, "min.insync.replicas", "Always 1: one replica"},
    {"preallocate", NULL, T_BOOL, "log.preallocate",
     "Reserve disk blocks ahead of appends to the active segment"},
    {"retention.bytes", NULL, T_LONG, "log.retention.bytes",
     "Delete the oldest segments while a partition holds more than this; -1: no limit"},
    {"retention.ms", NULL, T_LONG, "log.retention.ms",
     "Delete segments whose newest record is older than this (ms); -1: keep forever"},
    {"segment.bytes", NULL, T_INT, "log.segment.bytes", "Roll to a new segment at this size"},
    {"segment.index.bytes", NULL, T_INT, "log.index.size.max.bytes",
     "Largest offset index of a segment; a segment rolls when it is full"},
    {"segment.ms", NULL, T_LONG, "log.roll.ms",
     "Roll to a new segment when the first record of the active one is this old (ms)"},
    {"unclean.leader.election.enable", "false", T_BOOL, "unclean.leader.election.enable",
     "Always false: one replica"},
};
#define NTOPIC_KEYS (int32_t)(sizeof(topic_keys) / sizeof(topic_keys[0]))

int rill__topic_configs(rill_server *srv, const rill_topic *tp, rill_arena *a, rill_cfg_entry **out,
                        int32_t *n) {
    rill_log_config eff, builtin;
    rill__storage_topic_log_config(srv->st, tp, &eff);
    rill__log_config_defaults(&builtin);
    const rill_log_config *broker = &srv->cfg->storage.log_defaults;
    /* The known keys, plus overrides of keys outside that list. */
    int32_t extra = 0;
    for (size_t i = 0; i < tp->nconfigs; i++) {
        int known = 0;
        for (int32_t k = 0; k < NTOPIC_KEYS && !known; k++)
            known = !strcmp(tp->configs[i].key, topic_keys[k].name);
        extra += !known;
    }
    rill_cfg_entry *e = rill__arena_calloc(a, (size_t)(NTOPIC_KEYS + extra), sizeof(*e));
    if (!e)
        return -1;
    int32_t m = 0;
    for (int32_t k = 0; k < NTOPIC_KEYS; k++, m++) {
        char v[64], b[64], d[64];
        const char *over = rill__topic_config(tp, topic_keys[k].name);
        e[m].name = topic_keys[k].name;
        e[m].type = topic_keys[k].type;
        e[m].doc = topic_keys[k].doc;
        if (topic_keys[k].fixed) {
            snprintf(v, sizeof(v), "%s", over ? over : topic_keys[k].fixed);
            snprintf(b, sizeof(b), "%s", topic_keys[k].fixed);
            snprintf(d, sizeof(d), "%s", topic_keys[k].fixed);
        } else {
            rill__log_config_get(&eff, topic_keys[k].name, v, sizeof(v));
            rill__log_config_get(broker, topic_keys[k].name, b, sizeof(b));
            rill__log_config_get(&builtin, topic_keys[k].name, d, sizeof(d));
        }
        e[m].source = over                ? RILL_CFG_SOURCE_TOPIC
                      : strcmp(b, d) != 0 ? RILL_CFG_SOURCE_STATIC_BROKER
                                          : RILL_CFG_SOURCE_DEFAULT;
        if (!(e[m].value = rill__arena_strdup(a, v)))
            return -1;
        if (over)
            e[m].syn[e[m].nsyn++] =
                (rill_cfg_synonym){e[m].name, e[m].value, RILL_CFG_SOURCE_TOPIC};
        if (strcmp(b, d) != 0) {
            char *bv = rill__arena_strdup(a, b);
            if (!bv)
                return -1;
            e[m].syn[e[m].nsyn++] =
                (rill_cfg_synonym){topic_keys[k].broker, bv, RILL_CFG_SOURCE_STATIC_BROKER};
        }
        char *dv = rill__arena_strdup(a, d);
        if (!dv)
            return -1;
        e[m].syn[e[m].nsyn++] =
            (rill_cfg_synonym){topic_keys[k].broker, dv, RILL_CFG_SOURCE_DEFAULT};
    }
    for (size_t i = 0; i < tp->nconfigs; i++) {
        int known = 0;
        for (int32_t k = 0; k < NTOPIC_KEYS && !known; k++)
            known = !strcmp(tp->configs[i].key, topic_keys[k].name);
        if (known)
            continue;
        e[m].name = tp->configs[i].key;
        e[m].value = tp->configs[i].value;
        e[m].type = T_STRING;
        e[m].source = RILL_CFG_SOURCE_TOPIC;
        e[m].syn[e[m].nsyn++] = (rill_cfg_synonym){e[m].name, e[m].value, RILL_CFG_SOURCE_TOPIC};
        m++;
    }
    *out = e;
    *n = m;
    return 0;
}

/* A list of entries being filled from the arena. */
typedef struct cfg_list {
    rill_cfg_entry *e;
    int32_t n, cap;
    rill_arena *a;
    int err;
} cfg_list;

/* A read-only broker entry; its source is "static" when it differs from the default. */
static void add(cfg_list *l, const char *name, int8_t type, const char *v, const char *dv) {
    if (l->n >= l->cap) {
        l->err = 1;
        return;
    }
    rill_cfg_entry *e = &l->e[l->n++];
    e->name = name;
    e->type = type;
    e->read_only = true;
    e->source = strcmp(v, dv) != 0 ? RILL_CFG_SOURCE_STATIC_BROKER : RILL_CFG_SOURCE_DEFAULT;
    if (!(e->value = rill__arena_strdup(l->a, v))) {
        l->err = 1;
        return;
    }
    e->syn[e->nsyn++] = (rill_cfg_synonym){name, e->value, e->source};
    if (e->source == RILL_CFG_SOURCE_STATIC_BROKER) {
        char *d = rill__arena_strdup(l->a, dv);
        if (!d)
            l->err = 1;
        else
            e->syn[e->nsyn++] = (rill_cfg_synonym){name, d, RILL_CFG_SOURCE_DEFAULT};
    }
}

static void add_int(cfg_list *l, const char *name, int8_t type, int64_t v, int64_t dv) {
    char a[32], b[32];
    snprintf(a, sizeof(a), "%" PRId64, v);
    snprintf(b, sizeof(b), "%" PRId64, dv);
    add(l, name, type, a, b);
}

static void add_bool(cfg_list *l, const char *name, int v, int dv) {
    add(l, name, T_BOOL, v ? "true" : "false", dv ? "true" : "false");
}

static void add_log(cfg_list *l, const char *name, int8_t type, const rill_log_config *c,
                    const rill_log_config *d) {
    char a[64], b[64];
    rill__log_config_get(c, name, a, sizeof(a));
    rill__log_config_get(d, name, b, sizeof(b));
    add(l, name, type, a, b);
}

/* The broker's settings (broker_config.h) with their values. */
static int broker_configs(rill_server *srv, rill_arena *a, rill_cfg_entry **out, int32_t *n) {
    const rill_broker_config *c = srv->cfg;
    rill_broker_config d;
    rill__broker_config_defaults(&d);
    cfg_list l = {NULL, 0, 40, a, 0};
    if (!(l.e = rill__arena_calloc(a, (size_t)l.cap, sizeof(*l.e))))
        return -1;
    char listeners[700] = "", adv[300], advl[320];
    for (int i = 0; i < srv->nlisteners; i++) {
        rill_hostport hp = c->nlisteners ? c->listeners[i] : (rill_hostport){"127.0.0.1", 0};
        hp.port = srv->ports[i];
        char one[300];
        rill__hostport_format(&hp, one, sizeof(one));
        size_t len = strlen(listeners);
        snprintf(listeners + len, sizeof(listeners) - len, "%sPLAINTEXT://%s", i ? "," : "", one);
    }
    rill_hostport ap = {"", srv->adv_port};
    snprintf(ap.host, sizeof(ap.host), "%s", srv->adv_host);
    rill__hostport_format(&ap, adv, sizeof(adv));
    snprintf(advl, sizeof(advl), "PLAINTEXT://%s", adv);
    const rill_log_config *lc = &c->storage.log_defaults, *ld = &d.storage.log_defaults;

    add_int(&l, "node.id", T_INT, c->node_id, d.node_id);
    add_int(&l, "broker.id", T_INT, c->node_id, d.node_id);
    add_int(&l, "num.partitions", T_INT, c->num_partitions, d.num_partitions);
    add_bool(&l, "auto.create.topics.enable", c->auto_create_topics, d.auto_create_topics);
    add_bool(&l, "delete.topic.enable", c->delete_topic_enable, d.delete_topic_enable);
    add(&l, "default.replication.factor", T_INT, "1", "1");
    add(&l, "offsets.topic.replication.factor", 4 /* SHORT */, "1", "1");
    add(&l, "min.insync.replicas", T_INT, "1", "1");
    add_int(&l, "socket.request.max.bytes", T_INT, c->socket_request_max, d.socket_request_max);
    add_int(&l, "connections.max.idle.ms", T_LONG, c->connections_max_idle_ms,
            d.connections_max_idle_ms);
    add(&l, "log.dirs", T_STRING, c->data_dir, d.data_dir);
    add(&l, "log.flush.policy", T_STRING, rill__flush_policy_name(c->flush_policy),
        rill__flush_policy_name(d.flush_policy));
    add(&l, "listeners", T_STRING, listeners, c->nlisteners ? "" : listeners);
    add(&l, "advertised.listeners", T_STRING, advl, c->has_advertise ? "" : advl);
    add_log(&l, "message.max.bytes", T_INT, lc, ld);
    add_log(&l, "log.segment.bytes", T_INT, lc, ld);
    add_log(&l, "log.roll.ms", T_LONG, lc, ld);
    add_log(&l, "log.retention.ms", T_LONG, lc, ld);
    add_log(&l, "log.retention.bytes", T_LONG, lc, ld);
    add_log(&l, "log.index.interval.bytes", T_INT, lc, ld);
    add_log(&l, "log.index.size.max.bytes", T_INT, lc, ld);
    add_log(&l, "log.flush.interval.messages", T_LONG, lc, ld);
    add_log(&l, "log.flush.interval.ms", T_LONG, lc, ld);
    add_log(&l, "log.message.timestamp.type", T_STRING, lc, ld);
    add_int(&l, "log.retention.check.interval.ms", T_LONG, c->storage.retention_check_interval_ms,
            d.storage.retention_check_interval_ms);
    add_int(&l, "group.initial.rebalance.delay.ms", T_INT, c->group_initial_rebalance_delay_ms,
            d.group_initial_rebalance_delay_ms);
    add_int(&l, "group.min.session.timeout.ms", T_INT, c->group_min_session_timeout_ms,
            d.group_min_session_timeout_ms);
    add_int(&l, "group.max.session.timeout.ms", T_INT, c->group_max_session_timeout_ms,
            d.group_max_session_timeout_ms);
    if (l.err)
        return -1;
    *out = l.e;
    *n = l.n;
    return 0;
}

static int wanted(const rill_describe_configs_resource *r, const char *name) {
    if (r->nconfiguration_keys < 0)
        return 1;
    for (int32_t i = 0; i < r->nconfiguration_keys; i++)
        if (rill__str_eq(r->configuration_keys[i], name))
            return 1;
    return 0;
}

int rill__h_describe_configs(rill_req *q) {
    rill_server *srv = q->srv;
    rill_arena *a = &srv->arena;
    rill_describe_configs_req req;
    if (!RILL_REQ_DECODE(q, describe_configs, &req))
        return -1;
    rill_describe_configs_resp m;
    memset(&m, 0, sizeof(m));
    m.nresults = req.nresources;
    if (!RILL_REQ_ARRAY(q, m.results, req.nresources))
        return -1;
    char self[16];
    snprintf(self, sizeof(self), "%d", (int)srv->cfg->node_id);
    for (int32_t i = 0; i < req.nresources; i++) {
        const rill_describe_configs_resource *rr = &req.resources[i];
        rill_describe_configs_result *res = &m.results[i];
        res->resource_type = rr->resource_type;
        res->resource_name = rr->resource_name;
        res->error_message = rill__str_null();
        rill_cfg_entry *e = NULL;
        int32_t n = 0;
        char msg[320];
        if (rr->resource_type == RILL_CONFIG_RESOURCE_TOPIC) {
            char name[RILL_TOPIC_NAME_MAX + 1];
            const rill_topic *tp = rill__topic_cstr(rr->resource_name, name, sizeof(name)) == 0
                                       ? rill__topics_find(rill__storage_topics(srv->st), name)
                                       : NULL;
            if (!tp) {
                res->error_code = RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
                snprintf(msg, sizeof(msg), "Topic '%.*s' does not exist.",
                         (int)(rr->resource_name.len > 0 ? rr->resource_name.len : 0),
                         rr->resource_name.ptr ? rr->resource_name.ptr : "");
            } else if (rill__topic_configs(srv, tp, a, &e, &n) != 0) {
                return -1;
            }
        } else if (rr->resource_type == RILL_CONFIG_RESOURCE_BROKER) {
            if (rr->resource_name.len > 0 && !rill__str_eq(rr->resource_name, self)) {
                res->error_code = RILL_ERR_INVALID_REQUEST;
                snprintf(msg, sizeof(msg), "Unexpected broker id, expected %s", self);
            } else if (broker_configs(srv, a, &e, &n) != 0) {
                return -1;
            }
        } else if (rr->resource_type != RILL_CONFIG_RESOURCE_BROKER_LOGGER) {
            res->error_code = RILL_ERR_INVALID_REQUEST;
            snprintf(msg, sizeof(msg), "Unsupported resource type %d", (int)rr->resource_type);
        }
        if (res->error_code) {
            rill__req_error(q, res->error_code);
            res->error_message = rill__arena_msg(a, msg);
            continue;
        }
        if (!RILL_REQ_ARRAY(q, res->configs, n))
            return -1;
        int32_t k = 0;
        for (int32_t j = 0; j < n; j++) {
            if (!wanted(rr, e[j].name))
                continue;
            rill_describe_configs_entry *ce = &res->configs[k++];
            ce->name = rill__str(e[j].name);
            ce->value = rill__str(e[j].value);
            ce->read_only = e[j].read_only;
            ce->is_default = e[j].source == RILL_CFG_SOURCE_DEFAULT;
            ce->config_source = e[j].source;
            ce->config_type = e[j].type;
            ce->documentation =
                req.include_documentation && e[j].doc ? rill__str(e[j].doc) : rill__str_null();
            if (req.include_synonyms && e[j].nsyn > 0) {
                ce->synonyms = rill__arena_calloc(a, (size_t)e[j].nsyn, sizeof(*ce->synonyms));
                if (!ce->synonyms)
                    return -1;
                for (int32_t y = 0; y < e[j].nsyn; y++) {
                    ce->synonyms[y].name = rill__str(e[j].syn[y].name);
                    ce->synonyms[y].value = rill__str(e[j].syn[y].value);
                    ce->synonyms[y].source = e[j].syn[y].source;
                }
                ce->nsynonyms = e[j].nsyn;
            }
        }
        res->nconfigs = k;
    }
    return RILL_REQ_REPLY(q, describe_configs, &m);
}
