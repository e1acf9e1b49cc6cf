/*
 * broker_config.c -- rill-broker's settings: defaults and key=value parsing (see
 * broker_config.h).
 */
#include "broker/server/broker_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker/storage/fsutil.h"

void rill__broker_config_defaults(rill_broker_config *c) {
    memset(c, 0, sizeof(*c));
    snprintf(c->data_dir, sizeof(c->data_dir), "%s", "./rill-data");
    c->node_id = 0;
    c->num_partitions = 1;
    c->auto_create_topics = 1;
    c->socket_request_max = 100 * 1024 * 1024;
    c->connections_max_idle_ms = 600000;
    c->flush_policy = RILL_FLUSH_ACKS_ALL;
    c->delete_topic_enable = 1;
    c->group_initial_rebalance_delay_ms = 3000;
    c->group_min_session_timeout_ms = 6000;
    c->group_max_session_timeout_ms = 1800000;
    c->offsets_retention_ms = 7LL * 24 * 3600 * 1000;
    c->offsets_retention_check_ms = 600000;
    rill__storage_config_defaults(&c->storage);
    c->log_level = 6; /* RILL_LOG_INFO */
}

static rill_err_t fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static rill_err_t fail(char *err, size_t errlen, const char *fmt, ...) {
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return RILL_ERR_INVALID_CONFIG;
}

static int parse_int(const char *s, int64_t min, int64_t max, int64_t *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || isspace((unsigned char)*s) || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static int parse_bool(const char *s, int *out) {
    if (!strcasecmp(s, "true")) {
        *out = 1;
        return 0;
    }
    if (!strcasecmp(s, "false")) {
        *out = 0;
        return 0;
    }
    return -1;
}

int rill__hostport_parse(const char *s, rill_hostport *out) {
    memset(out, 0, sizeof(*out));
    if (!s)
        return -1;
    const char *scheme = strstr(s, "://");
    if (scheme) {
        /* Kafka's listener syntax; rill has one plain-text listener type. */
        if ((size_t)(scheme - s) != 9 || strncasecmp(s, "PLAINTEXT", 9) != 0)
            return -1;
        s = scheme + 3;
    }
    const char *port;
    size_t hlen;
    if (*s == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return -1;
        s++;
        hlen = (size_t)(close - s);
        port = close + 2;
    } else {
        const char *colon = strrchr(s, ':');
        if (!colon) {
            hlen = 0;
            port = s; /* just a port */
        } else {
            if (memchr(s, ':', (size_t)(colon - s)))
                return -1; /* a bare IPv6 address needs brackets */
            hlen = (size_t)(colon - s);
            port = colon + 1;
        }
    }
    int64_t p;
    if (hlen >= sizeof(out->host) || parse_int(port, 0, 65535, &p) != 0)
        return -1;
    memcpy(out->host, s, hlen);
    out->host[hlen] = '\0';
    out->port = (int)p;
    return 0;
}

void rill__hostport_format(const rill_hostport *hp, char *out, size_t cap) {
    if (strchr(hp->host, ':'))
        snprintf(out, cap, "[%s]:%d", hp->host, hp->port);
    else
        snprintf(out, cap, "%s:%d", hp->host, hp->port);
}

const char *rill__flush_policy_name(rill_flush_policy p) {
    switch (p) {
    case RILL_FLUSH_SYNC:
        return "sync";
    case RILL_FLUSH_OS:
        return "os";
    default:
        return "acks-all";
    }
}

/* Integer settings of this file: name, field, range, multiplier. */
typedef struct int_key {
    const char *name;
    size_t off;
    int width; /* 4 or 8 */
    int64_t min, max, mul;
} int_key;

#define BC_OFF(f) offsetof(rill_broker_config, f)
static const int_key int_keys[] = {
    {"node.id", BC_OFF(node_id), 4, 0, INT32_MAX, 1},
    {"broker.id", BC_OFF(node_id), 4, 0, INT32_MAX, 1},
    {"num.partitions", BC_OFF(num_partitions), 4, 1, 1000000, 1},
    {"socket.request.max.bytes", BC_OFF(socket_request_max), 8, 64, INT32_MAX, 1},
    {"connections.max.idle.ms", BC_OFF(connections_max_idle_ms), 8, -1, INT64_MAX, 1},
    {"group.initial.rebalance.delay.ms", BC_OFF(group_initial_rebalance_delay_ms), 8, 0, INT32_MAX,
     1},
    {"group.min.session.timeout.ms", BC_OFF(group_min_session_timeout_ms), 8, 0, INT32_MAX, 1},
    {"group.max.session.timeout.ms", BC_OFF(group_max_session_timeout_ms), 8, 0, INT32_MAX, 1},
    {"offsets.retention.minutes", BC_OFF(offsets_retention_ms), 8, 1, INT64_MAX / 60000, 60000},
    {"offsets.retention.check.interval.ms", BC_OFF(offsets_retention_check_ms), 8, 1, INT64_MAX, 1},
    {"log.retention.check.interval.ms", BC_OFF(storage.retention_check_interval_ms), 8, 1,
     INT64_MAX, 1},
    {"log.flush.offset.checkpoint.interval.ms", BC_OFF(storage.checkpoint_interval_ms), 8, 1,
     INT64_MAX, 1},
    {"producer.id.expiration.ms", BC_OFF(storage.producer_id_expiration_ms), 8, 1, INT64_MAX, 1},
};

/*
 * Kafka keys that only make sense with several nodes: accepted at the one value a single
 * node can honour, so a server.properties written for a one-broker Kafka works unchanged.
 */
static const char *const must_be_one[] = {
    "default.replication.factor",
    "offsets.topic.replication.factor",
    "transaction.state.log.replication.factor",
    "transaction.state.log.min.isr",
    "min.insync.replicas",
};

static rill_err_t set_hostport(rill_hostport *hp, int *flag, const char *key, const char *value,
                               char *err, size_t errlen) {
    if (rill__hostport_parse(value, hp) != 0)
        return fail(err, errlen, "%s: '%s' is not HOST:PORT", key, value);
    if (flag)
        *flag = 1;
    return RILL_ERR_NO_ERROR;
}

rill_err_t rill__broker_config_set(rill_broker_config *c, const char *key, const char *value,
                                   char *err, size_t errlen) {
    if (!key || !*key)
        return fail(err, errlen, "empty configuration key");
    if (!value)
        return fail(err, errlen, "%s: missing value", key);
    for (size_t i = 0; i < sizeof(int_keys) / sizeof(int_keys[0]); i++) {
        const int_key *k = &int_keys[i];
        if (strcmp(key, k->name) != 0)
            continue;
        int64_t v;
        if (parse_int(value, k->min, k->max, &v) != 0)
            return fail(err, errlen, "%s: '%s' is not an integer in [%lld, %lld]", key, value,
                        (long long)k->min, (long long)k->max);
        if (v > 0)
            v *= k->mul;
        char *field = (char *)c + k->off;
        if (k->width == 4) {
            int32_t v32 = (int32_t)v;
            memcpy(field, &v32, 4);
        } else {
            memcpy(field, &v, 8);
        }
        return RILL_ERR_NO_ERROR;
    }
    for (size_t i = 0; i < sizeof(must_be_one) / sizeof(must_be_one[0]); i++)
        if (strcmp(key, must_be_one[i]) == 0) {
            if (strcmp(value, "1") != 0)
                return fail(err, errlen,
                            "%s: '%s' is not possible: rill-broker is one node "
                            "(the only accepted value is 1)",
                            key, value);
            return RILL_ERR_NO_ERROR;
        }
    if (!strcmp(key, "auto.create.topics.enable") || !strcmp(key, "delete.topic.enable")) {
        int *f = key[0] == 'a' ? &c->auto_create_topics : &c->delete_topic_enable;
        if (parse_bool(value, f) != 0)
            return fail(err, errlen, "%s: '%s' is not true or false", key, value);
        return RILL_ERR_NO_ERROR;
    }
    if (!strcmp(key, "log.flush.policy")) {
        if (!strcmp(value, "acks-all"))
            c->flush_policy = RILL_FLUSH_ACKS_ALL;
        else if (!strcmp(value, "sync"))
            c->flush_policy = RILL_FLUSH_SYNC;
        else if (!strcmp(value, "os"))
            c->flush_policy = RILL_FLUSH_OS;
        else
            return fail(err, errlen, "%s: '%s' is not acks-all, sync or os", key, value);
        return RILL_ERR_NO_ERROR;
    }
    if (!strcmp(key, "log.dir") || !strcmp(key, "log.dirs")) {
        if (!*value || strchr(value, ',') || strlen(value) >= sizeof(c->data_dir))
            return fail(err, errlen, "%s: '%s' must be one directory", key, value);
        snprintf(c->data_dir, sizeof(c->data_dir), "%s", value);
        return RILL_ERR_NO_ERROR;
    }
    if (!strcmp(key, "listeners")) {
        /* Comma-separated, as Kafka writes them; replaces earlier listeners. */
        char tmp[1024];
        if (strlen(value) >= sizeof(tmp))
            return fail(err, errlen, "%s: value too long", key);
        snprintf(tmp, sizeof(tmp), "%s", value);
        int n = 0;
        char *save = NULL;
        for (char *t = strtok_r(tmp, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            while (isspace((unsigned char)*t))
                t++;
            if (n >= RILL_BROKER_MAX_LISTENERS)
                return fail(err, errlen, "%s: at most %d listeners", key,
                            RILL_BROKER_MAX_LISTENERS);
            if (rill__hostport_parse(t, &c->listeners[n]) != 0)
                return fail(err, errlen, "%s: '%s' is not HOST:PORT", key, t);
            n++;
        }
        if (n == 0)
            return fail(err, errlen, "%s: no listener given", key);
        c->nlisteners = n;
        return RILL_ERR_NO_ERROR;
    }
    if (!strcmp(key, "advertised.listeners"))
        return set_hostport(&c->advertise, &c->has_advertise, key, value, err, errlen);
    if (!strncmp(key, "log.", 4) || !strcmp(key, "message.max.bytes")) {
        char e2[256];
        rill_err_t e = rill__log_config_set(&c->storage.log_defaults, key, value, e2, sizeof(e2));
        if (e)
            return fail(err, errlen, "%s", e2);
        return RILL_ERR_NO_ERROR;
    }
    return fail(err, errlen, "%s: unknown configuration key", key);
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

rill_err_t rill__broker_config_set_kv(rill_broker_config *c, const char *kv, char *err,
                                      size_t errlen) {
    const char *eq = strchr(kv, '=');
    if (!eq)
        return fail(err, errlen, "'%s' is not key=value", kv);
    char key[256], value[4096];
    size_t klen = (size_t)(eq - kv);
    if (klen >= sizeof(key) || strlen(eq + 1) >= sizeof(value))
        return fail(err, errlen, "'%.60s...' is too long", kv);
    memcpy(key, kv, klen);
    key[klen] = '\0';
    snprintf(value, sizeof(value), "%s", eq + 1);
    return rill__broker_config_set(c, trim(key), trim(value), err, errlen);
}

rill_err_t rill__broker_config_parse(rill_broker_config *c, const char *text, size_t len,
                                     const char *name, char *err, size_t errlen) {
    size_t pos = 0;
    int lineno = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        lineno++;
        char line[4400];
        if (n >= sizeof(line))
            return fail(err, errlen, "%s:%d: line too long", name, lineno);
        memcpy(line, text + pos, n);
        line[n] = '\0';
        pos += n + (nl ? 1 : 0);
        char *t = trim(line);
        if (!*t || *t == '#' || *t == '!')
            continue;
        char e2[512];
        if (rill__broker_config_set_kv(c, t, e2, sizeof(e2)) != 0)
            return fail(err, errlen, "%s:%d: %s", name, lineno, e2);
    }
    return RILL_ERR_NO_ERROR;
}

rill_err_t rill__broker_config_load(rill_broker_config *c, const char *path, char *err,
                                    size_t errlen) {
    uint8_t *data;
    size_t len;
    if (rill__fs_read_file(path, 1 << 20, &data, &len) != 0) {
        if (err && errlen)
            snprintf(err, errlen, "cannot read config file %s: %s", path, strerror(errno));
        return RILL_ERR_CONFIG;
    }
    rill_err_t e = rill__broker_config_parse(c, (const char *)data, len, path, err, errlen);
    free(data);
    return e;
}
