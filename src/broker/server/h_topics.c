/*
 * h_topics.c -- topic administration: CreateTopics (19), DeleteTopics (20),
 * CreatePartitions (37).
 *
 * A single node can only be the one replica of every partition: replication factor -1
 * (the broker default) or 1 is accepted, anything larger gets INVALID_REPLICATION_FACTOR
 * with Kafka's message; manual assignments must name this node once per partition.
 * Storage makes every change durable before it is answered (topics.h).
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "broker/server/handlers.h"
#include "proto/api_topics.h"

static int same_name(rill_str a, rill_str b) {
    return a.len == b.len && a.len >= 0 && memcmp(a.ptr, b.ptr, (size_t)a.len) == 0;
}

/*
 * True when entry i's name appears elsewhere in the list too (Kafka rejects every copy).
 * The name is the first field of the entries (checked below).
 */
static int duplicate_in(const void *entries, size_t stride, int32_t n, int32_t i) {
    const rill_str *mine = (const rill_str *)((const char *)entries + (size_t)i * stride);
    for (int32_t j = 0; j < n; j++) {
        const rill_str *other = (const rill_str *)((const char *)entries + (size_t)j * stride);
        if (j != i && same_name(*mine, *other))
            return 1;
    }
    return 0;
}
_Static_assert(offsetof(rill_create_topics_topic, name) == 0, "name first");
_Static_assert(offsetof(rill_create_partitions_topic, name) == 0, "name first");

/* Assignments must each be exactly this node. */
static int assignment_ok(const int32_t *ids, int32_t n, int32_t self) {
    return n == 1 && ids[0] == self;
}

static int16_t replication_check(int16_t rf, char *msg, size_t cap) {
    if (rf == -1 || rf == 1)
        return 0;
    if (rf > 1)
        snprintf(msg, cap, "Replication factor: %d larger than available brokers: 1.", (int)rf);
    else
        snprintf(msg, cap, "Replication factor must be larger than 0, or -1 to use the default.");
    return RILL_ERR_INVALID_REPLICATION_FACTOR;
}

/* Validates one CreateTopics entry; returns the partition count or sets *err and msg. */
static int32_t create_partitions_count(rill_server *srv, const rill_create_topics_topic *t,
                                       int16_t *err, char *msg, size_t cap) {
    int32_t self = srv->cfg->node_id;
    if (t->nassignments > 0) {
        if (t->num_partitions != -1 || t->replication_factor != -1) {
            snprintf(msg, cap,
                     "Both numPartitions or replicationFactor and replicasAssignments "
                     "were set. Both cannot be used at the same time.");
            *err = RILL_ERR_INVALID_REQUEST;
            return -1;
        }
        for (int32_t i = 0; i < t->nassignments; i++) {
            const rill_create_topics_assignment *as = &t->assignments[i];
            if (as->partition_index != i || !assignment_ok(as->broker_ids, as->nbroker_ids, self)) {
                snprintf(msg, cap,
                         "Partition %d must be assigned to broker %d only "
                         "(partitions numbered from 0).",
                         (int)as->partition_index, (int)self);
                *err = RILL_ERR_INVALID_REPLICA_ASSIGNMENT;
                return -1;
            }
        }
        return t->nassignments;
    }
    if ((*err = replication_check(t->replication_factor, msg, cap)) != 0)
        return -1;
    int32_t n = t->num_partitions == -1 ? srv->cfg->num_partitions : t->num_partitions;
    if (n <= 0) {
        snprintf(msg, cap, "Number of partitions must be larger than 0.");
        *err = RILL_ERR_INVALID_PARTITIONS;
        return -1;
    }
    return n;
}

/* The topic's configs in a CreateTopics v5+ result. */
static int result_configs(rill_server *srv, rill_create_topics_result *res, const rill_topic *tp) {
    rill_cfg_entry *e;
    int32_t n;
    if (rill__topic_configs(srv, tp, &srv->arena, &e, &n) != 0)
        return -1;
    res->configs = rill__arena_calloc(&srv->arena, (size_t)n, sizeof(*res->configs));
    if (!res->configs && n)
        return -1;
    res->nconfigs = n;
    for (int32_t i = 0; i < n; i++) {
        res->configs[i].name = rill__str(e[i].name);
        res->configs[i].value = rill__str(e[i].value);
        res->configs[i].read_only = e[i].read_only;
        res->configs[i].config_source = e[i].source;
        res->configs[i].is_sensitive = false;
    }
    return 0;
}

int rill__h_create_topics(rill_req *q) {
    rill_server *srv = q->srv;
    rill_arena *a = &srv->arena;
    int16_t ver = q->h.api_version;
    rill_create_topics_req req;
    if (!RILL_REQ_DECODE(q, create_topics, &req))
        return -1;
    rill_create_topics_resp m;
    memset(&m, 0, sizeof(m));
    m.ntopics = req.ntopics;
    if (!RILL_REQ_ARRAY(q, m.topics, req.ntopics))
        return -1;
    for (int32_t i = 0; i < req.ntopics; i++) {
        const rill_create_topics_topic *t = &req.topics[i];
        rill_create_topics_result *res = &m.topics[i];
        res->name = t->name;
        res->error_message = rill__str_null();
        res->num_partitions = -1;
        res->replication_factor = -1;
        res->nconfigs = -1;
        char msg[300] = "";
        char name[RILL_TOPIC_NAME_MAX + 1];
        int32_t parts = -1;
        if (duplicate_in(req.topics, sizeof(*req.topics), req.ntopics, i)) {
            res->error_code = RILL_ERR_INVALID_REQUEST;
            snprintf(msg, sizeof(msg),
                     "Create topics request from client contains a "
                     "duplicate topic name");
        } else if (rill__topic_cstr(t->name, name, sizeof(name)) != 0) {
            res->error_code = RILL_ERR_INVALID_TOPIC_EXCEPTION;
            snprintf(msg, sizeof(msg), "Topic name is illegal");
        } else {
            parts = create_partitions_count(srv, t, &res->error_code, msg, sizeof(msg));
        }
        rill_topic_kv *kv = NULL;
        int32_t k = 0;
        if (!res->error_code) {
            int32_t nkv = t->nconfigs > 0 ? t->nconfigs : 0;
            kv = rill__arena_calloc(a, (size_t)nkv, sizeof(*kv));
            if (!kv && nkv)
                return -1;
            for (int32_t c = 0; c < nkv; c++) {
                if (rill__str_is_null(t->configs[c].value))
                    continue; /* null: leave the default */
                kv[k].key = rill__arena_cstr(a, t->configs[c].name);
                kv[k].value = rill__arena_cstr(a, t->configs[c].value);
                if (!kv[k].key || !kv[k].value)
                    return -1;
                k++;
            }
            rill_err_t e =
                rill__storage_create_topic(srv->st, name, parts, kv, (size_t)k, srv->now_ms,
                                           req.validate_only, msg, sizeof(msg));
            res->error_code = e > 0 ? (int16_t)e : e ? RILL_ERR_KAFKA_STORAGE_ERROR : 0;
            if (!e && !req.validate_only)
                RILL_LOG(srv->lg, RILL_LOG_INFO, "server", "topic %s created with %d partitions",
                         name, (int)parts);
        }
        if (res->error_code) {
            rill__req_error(q, res->error_code);
            if (ver >= 1 && msg[0])
                res->error_message = rill__arena_msg(a, msg);
            continue;
        }
        res->num_partitions = parts;
        res->replication_factor = 1;
        const rill_topic *tp = rill__topics_find(rill__storage_topics(srv->st), name);
        if (tp) {
            memcpy(res->topic_id, tp->id, 16);
            if (ver >= 5 && result_configs(srv, res, tp) != 0)
                return -1;
        } else if (req.validate_only && ver >= 5) {
            /* The configs the topic would get (Kafka answers them; its id stays zero). */
            rill_topic would = {.name = name, .partitions = parts, .configs = kv};
            would.nconfigs = (size_t)k;
            if (result_configs(srv, res, &would) != 0)
                return -1;
        }
    }
    return RILL_REQ_REPLY(q, create_topics, &m);
}

int rill__h_delete_topics(rill_req *q) {
    rill_server *srv = q->srv;
    rill_arena *a = &srv->arena;
    rill_delete_topics_req req;
    if (!RILL_REQ_DECODE(q, delete_topics, &req))
        return -1;
    rill_delete_topics_resp m;
    memset(&m, 0, sizeof(m));
    m.nresponses = req.ntopics;
    if (!RILL_REQ_ARRAY(q, m.responses, req.ntopics))
        return -1;
    rill_topics *topics = rill__storage_topics(srv->st);
    int drained = 0;
    for (int32_t i = 0; i < req.ntopics; i++) {
        const rill_delete_topics_req_topic *t = &req.topics[i];
        rill_delete_topics_result *res = &m.responses[i];
        res->name = t->name;
        memcpy(res->topic_id, t->topic_id, 16);
        res->error_message = rill__str_null();
        char name[RILL_TOPIC_NAME_MAX + 1];
        const rill_topic *tp = NULL;
        if (rill__str_is_null(t->name)) {
            tp = rill__topics_find_id(topics, t->topic_id);
            if (!tp)
                res->error_code = RILL_ERR_UNKNOWN_TOPIC_ID;
        } else if (rill__topic_cstr(t->name, name, sizeof(name)) != 0 ||
                   !(tp = rill__topics_find(topics, name))) {
            res->error_code = RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        }
        if (tp && !srv->cfg->delete_topic_enable)
            res->error_code = RILL_ERR_TOPIC_DELETION_DISABLED;
        if (!res->error_code) {
            snprintf(name, sizeof(name), "%s", tp->name);
            res->name = rill__arena_msg(a, name);
            memcpy(res->topic_id, tp->id, 16);
            if (!drained) {
                /* No fsync may be running or pending on a log about to be freed. */
                rill__flusher_drain(&srv->flusher);
                drained = 1;
            }
            rill_err_t e = rill__storage_delete_topic(srv->st, name);
            res->error_code = e > 0 ? (int16_t)e : e ? RILL_ERR_KAFKA_STORAGE_ERROR : 0;
            if (!e) {
                rill__topic_stats_drop(srv, name);
                RILL_LOG(srv->lg, RILL_LOG_INFO, "server", "topic %s deleted", name);
            }
        }
        rill__req_error(q, res->error_code);
    }
    return RILL_REQ_REPLY(q, delete_topics, &m);
}

int rill__h_create_partitions(rill_req *q) {
    rill_server *srv = q->srv;
    rill_arena *a = &srv->arena;
    rill_create_partitions_req req;
    if (!RILL_REQ_DECODE(q, create_partitions, &req))
        return -1;
    rill_create_partitions_resp m;
    memset(&m, 0, sizeof(m));
    m.nresults = req.ntopics;
    if (!RILL_REQ_ARRAY(q, m.results, req.ntopics))
        return -1;
    rill_topics *topics = rill__storage_topics(srv->st);
    for (int32_t i = 0; i < req.ntopics; i++) {
        const rill_create_partitions_topic *t = &req.topics[i];
        rill_create_partitions_result *res = &m.results[i];
        res->name = t->name;
        res->error_message = rill__str_null();
        char msg[300] = "", name[RILL_TOPIC_NAME_MAX + 1];
        const rill_topic *tp = NULL;
        if (duplicate_in(req.topics, sizeof(*req.topics), req.ntopics, i)) {
            res->error_code = RILL_ERR_INVALID_REQUEST;
            snprintf(msg, sizeof(msg), "Duplicate topic in request.");
        } else if (rill__topic_cstr(t->name, name, sizeof(name)) != 0 ||
                   !(tp = rill__topics_find(topics, name))) {
            res->error_code = RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
            snprintf(msg, sizeof(msg), "The topic does not exist.");
        } else if (t->count <= tp->partitions) {
            res->error_code = RILL_ERR_INVALID_PARTITIONS;
            snprintf(msg, sizeof(msg),
                     "Topic currently has %d partitions, which is higher than "
                     "or equal to the requested %d.",
                     (int)tp->partitions, (int)t->count);
        } else if (t->nassignments >= 0) {
            if (t->nassignments != t->count - tp->partitions) {
                res->error_code = RILL_ERR_INVALID_REPLICA_ASSIGNMENT;
                snprintf(msg, sizeof(msg),
                         "Increasing the number of partitions by %d but %d "
                         "assignments provided.",
                         (int)(t->count - tp->partitions), (int)t->nassignments);
            }
            for (int32_t k = 0; k < t->nassignments && !res->error_code; k++)
                if (!assignment_ok(t->assignments[k].broker_ids, t->assignments[k].nbroker_ids,
                                   srv->cfg->node_id)) {
                    res->error_code = RILL_ERR_INVALID_REPLICA_ASSIGNMENT;
                    snprintf(msg, sizeof(msg),
                             "New partitions must be assigned to broker %d "
                             "only.",
                             (int)srv->cfg->node_id);
                }
        }
        if (!res->error_code && !req.validate_only) {
            rill_err_t e = rill__storage_add_partitions(srv->st, name, t->count, msg, sizeof(msg));
            res->error_code = e > 0 ? (int16_t)e : e ? RILL_ERR_KAFKA_STORAGE_ERROR : 0;
            if (!e)
                RILL_LOG(srv->lg, RILL_LOG_INFO, "server", "topic %s now has %d partitions", name,
                         (int)t->count);
        }
        if (res->error_code) {
            rill__req_error(q, res->error_code);
            if (msg[0])
                res->error_message = rill__arena_msg(a, msg);
        }
    }
    return RILL_REQ_REPLY(q, create_partitions, &m);
}
