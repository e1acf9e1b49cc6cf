/*
 * h_alter_configs.c -- AlterConfigs (key 33) and IncrementalAlterConfigs (key 44) for
 * topics: the way `kafka-configs --alter`, AdminClient.incrementalAlterConfigs and the
 * like change a topic's retention, segment size or cleanup policy after creation.
 *
 * AlterConfigs replaces the topic's whole set of overrides with the one sent (a key left
 * out goes back to the broker default); IncrementalAlterConfigs applies SET, DELETE, and
 * for list-valued keys (cleanup.policy) APPEND and SUBTRACT, to the current set.  The new
 * set is checked whole, then stored atomically and pushed to the topic's logs (storage).
 * Broker resources are refused: rill-broker's own settings come from its config file and
 * are not dynamic.
 */
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include "broker/server/handlers.h"
#include "proto/api_alter_configs.h"
#include "proto/api_configs.h"

/* A topic's new set of overrides, built in the request arena. */
typedef struct kvset {
    rill_topic_kv *kv;
    size_t n, cap;
} kvset;

static ssize_t kv_find(const kvset *s, const char *key) {
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->kv[i].key, key) == 0)
            return (ssize_t)i;
    return -1;
}

/* Sets key (value NULL: removes it); -1 when out of memory. */
static int kv_put(rill_arena *a, kvset *s, const char *key, const char *value) {
    ssize_t i = kv_find(s, key);
    if (!value) {
        if (i >= 0)
            s->kv[i] = s->kv[--s->n];
        return 0;
    }
    if (i >= 0) {
        s->kv[i].value = (char *)value;
        return 0;
    }
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        rill_topic_kv *kv = rill__arena_alloc(a, cap * sizeof(*kv));
        if (!kv)
            return -1;
        if (s->n)
            memcpy(kv, s->kv, s->n * sizeof(*kv));
        s->kv = kv;
        s->cap = cap;
    }
    s->kv[s->n].key = (char *)key;
    s->kv[s->n++].value = (char *)value;
    return 0;
}

/* Does the comma-separated list hold item? */
static int list_has(const char *list, const char *item) {
    size_t n = strlen(item);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > p && t[-1] == ' ')
            t--;
        if ((size_t)(t - p) == n && strncmp(p, item, n) == 0)
            return 1;
        p = e;
    }
    return 0;
}

/* APPEND / SUBTRACT on a list value (Kafka: list-typed keys only). */
static char *list_op(rill_arena *a, const char *cur, const char *item, int8_t op) {
    size_t cap = strlen(cur) + strlen(item) + 2;
    char *out = rill__arena_alloc(a, cap);
    if (!out)
        return NULL;
    if (op == RILL_CONFIG_OP_APPEND) {
        if (list_has(cur, item) || !cur[0])
            snprintf(out, cap, "%s", cur[0] ? cur : item);
        else
            snprintf(out, cap, "%s,%s", cur, item);
        return out;
    }
    out[0] = '\0';
    for (const char *p = cur; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        const char *e = p;
        while (*e && *e != ',')
            e++;
        size_t n = (size_t)(e - p);
        if (n && !(n == strlen(item) && strncmp(p, item, n) == 0)) {
            size_t len = strlen(out);
            snprintf(out + len, cap - len, "%s%.*s", len ? "," : "", (int)n, p);
        }
        p = e;
    }
    return out;
}

/* One topic resource.  Returns a Kafka error (message in msg) or 0; -1: out of memory. */
static int alter_topic(rill_server *srv, const rill_alter_configs_resource *rr, int incremental,
                       bool validate_only, char *msg, size_t cap) {
    rill_arena *a = &srv->arena;
    char name[RILL_TOPIC_NAME_MAX + 1];
    const rill_topic *tp = rill__topic_cstr(rr->resource_name, name, sizeof(name)) == 0
                               ? rill__topics_find(rill__storage_topics(srv->st), name)
                               : NULL;
    if (!tp) {
        snprintf(msg, cap, "Topic '%.*s' does not exist.",
                 (int)(rr->resource_name.len > 0 ? rr->resource_name.len : 0),
                 rr->resource_name.ptr ? rr->resource_name.ptr : "");
        return RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    kvset s = {0};
    if (incremental)
        for (size_t i = 0; i < tp->nconfigs; i++)
            if (kv_put(a, &s, tp->configs[i].key, tp->configs[i].value) != 0)
                return -1;
    for (int32_t k = 0; k < rr->nconfigs; k++) {
        const rill_alter_config *c = &rr->configs[k];
        char *key = rill__arena_cstr(a, c->name), *value = rill__arena_cstr(a, c->value);
        if (!key || (!value && c->value.len >= 0))
            return -1;
        for (int32_t j = 0; j < k; j++)
            if (rill__str_eq(rr->configs[j].name, key)) {
                snprintf(msg, cap, "Error due to duplicate config keys");
                return RILL_ERR_INVALID_REQUEST;
            }
        if (!rill__topic_config_known(key)) {
            snprintf(msg, cap, "Unknown topic config name: %s", key);
            return RILL_ERR_INVALID_CONFIG;
        }
        int8_t op = incremental ? c->op : RILL_CONFIG_OP_SET;
        if (op == RILL_CONFIG_OP_DELETE) {
            value = NULL;
        } else if (op == RILL_CONFIG_OP_APPEND || op == RILL_CONFIG_OP_SUBTRACT) {
            if (strcmp(key, "cleanup.policy") != 0) {
                snprintf(msg, cap, "Config value append is not allowed for config key: %s", key);
                return RILL_ERR_INVALID_CONFIG;
            }
            if (!value) {
                snprintf(msg, cap, "Null value not supported for : %s", key);
                return RILL_ERR_INVALID_REQUEST;
            }
            ssize_t i = kv_find(&s, key);
            value = list_op(a, i >= 0 ? s.kv[i].value : "delete", value, op);
            if (!value)
                return -1;
            if (!value[0]) {
                snprintf(msg, cap, "%s: the list cannot become empty", key);
                return RILL_ERR_INVALID_CONFIG;
            }
        } else if (op != RILL_CONFIG_OP_SET) {
            snprintf(msg, cap, "Unknown config operation %d", (int)op);
            return RILL_ERR_INVALID_REQUEST;
        } else if (!value) {
            snprintf(msg, cap, "Null value not supported for : %s", key);
            return RILL_ERR_INVALID_REQUEST;
        }
        if (kv_put(a, &s, key, value) != 0)
            return -1;
    }
    msg[0] = '\0';
    rill_err_t e = validate_only
                       ? rill__topics_check_configs(s.kv, s.n, msg, cap)
                       : rill__storage_replace_topic_configs(srv->st, name, s.kv, s.n, msg, cap);
    if (!e && !validate_only)
        RILL_LOG(srv->lg, RILL_LOG_INFO, "server", "topic %s: configs altered", name);
    return e > 0 ? (int)e : e ? RILL_ERR_KAFKA_STORAGE_ERROR : 0;
}

static int handle(rill_req *q, rill_alter_configs_req *req, rill_alter_configs_resp *m,
                  int incremental) {
    rill_server *srv = q->srv;
    memset(m, 0, sizeof(*m));
    m->nresults = req->nresources;
    if (!RILL_REQ_ARRAY(q, m->results, req->nresources))
        return -1;
    for (int32_t i = 0; i < req->nresources; i++) {
        const rill_alter_configs_resource *rr = &req->resources[i];
        rill_alter_configs_result *res = &m->results[i];
        res->resource_type = rr->resource_type;
        res->resource_name = rr->resource_name;
        res->error_message = rill__str_null();
        char msg[320] = "";
        int err;
        if (rr->resource_type == RILL_CONFIG_RESOURCE_TOPIC) {
            err = alter_topic(srv, rr, incremental, req->validate_only, msg, sizeof(msg));
            if (err < 0)
                return -1;
        } else if (rr->resource_type == RILL_CONFIG_RESOURCE_BROKER ||
                   rr->resource_type == RILL_CONFIG_RESOURCE_BROKER_LOGGER) {
            err = RILL_ERR_INVALID_REQUEST;
            snprintf(msg, sizeof(msg),
                     "rill-broker's settings are not dynamic: set them in its config file");
        } else {
            err = RILL_ERR_INVALID_REQUEST;
            snprintf(msg, sizeof(msg), "Unsupported resource type %d", (int)rr->resource_type);
        }
        res->error_code = (int16_t)err;
        if (err) {
            rill__req_error(q, res->error_code);
            if (msg[0])
                res->error_message = rill__arena_msg(&srv->arena, msg);
        }
    }
    return 0;
}

int rill__h_alter_configs(rill_req *q) {
    rill_alter_configs_req req;
    rill_alter_configs_resp m;
    if (!RILL_REQ_DECODE(q, alter_configs, &req) || handle(q, &req, &m, 0) != 0)
        return -1;
    return RILL_REQ_REPLY(q, alter_configs, &m);
}

int rill__h_incremental_alter_configs(rill_req *q) {
    rill_alter_configs_req req;
    rill_alter_configs_resp m;
    if (!RILL_REQ_DECODE(q, incremental_alter_configs, &req) || handle(q, &req, &m, 1) != 0)
        return -1;
    return RILL_REQ_REPLY(q, incremental_alter_configs, &m);
}
