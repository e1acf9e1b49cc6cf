/*
 * h_metadata.c -- Metadata (key 3): this one node as the whole cluster, leader of every
 * partition, controller, and creator of topics on first mention.
 *
 * Auto-creation (Kafka's auto.create.topics.enable): a requested topic that does not
 * exist is created with num.partitions when the broker allows it and the request does
 * (AllowAutoTopicCreation, v4+; always for v0-3).  Kafka answers LEADER_NOT_AVAILABLE
 * until the new partitions have leaders; here creation is synchronous and durable, so the
 * topic is answered at once with its partitions.
 */
#include <stdio.h>
#include <string.h>

#include "broker/server/handlers.h"
#include "proto/api_metadata.h"

/* AclOperation bits a single node without an authorizer allows (Kafka's codes). */
/* READ WRITE CREATE DELETE ALTER DESCRIBE DESCRIBE_CONFIGS ALTER_CONFIGS */
#define TOPIC_OPS 0xDF8
#define CLUSTER_OPS 0x7FA0 /* CREATE ALTER DESCRIBE CLUSTER_ACTION DESCRIBE/ALTER_CONFIGS ... */

const rill_topic *rill__auto_create_topic(rill_server *srv, const char *name, int create,
                                          int16_t *err) {
    rill_topics *topics = rill__storage_topics(srv->st);
    const rill_topic *tp = rill__topics_find(topics, name);
    *err = 0;
    if (tp)
        return tp;
    if (rill__topic_name_check(name, NULL, 0) != 0) {
        *err = RILL_ERR_INVALID_TOPIC_EXCEPTION;
        return NULL;
    }
    if (!create || !srv->cfg->auto_create_topics) {
        *err = RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
        return NULL;
    }
    char msg[256];
    rill_err_t e = rill__storage_create_topic(srv->st, name, srv->cfg->num_partitions, NULL, 0,
                                              srv->now_ms, 0, msg, sizeof(msg));
    if (e) {
        RILL_LOG(srv->lg, RILL_LOG_ERR, "server", "auto-creating topic %s: %s", name, msg);
        *err = e > 0 ? (int16_t)e : RILL_ERR_KAFKA_STORAGE_ERROR;
        return NULL;
    }
    RILL_LOG(srv->lg, RILL_LOG_INFO, "server", "topic %s created with %d partitions (auto)", name,
             (int)srv->cfg->num_partitions);
    return rill__topics_find(topics, name);
}

/* Fills one topic's entry: its partitions, all led by this node. */
static int fill_topic(rill_req *q, rill_metadata_topic *t, const rill_topic *tp,
                      const int32_t *self, bool ops) {
    t->name = rill__str(tp->name);
    memcpy(t->topic_id, tp->id, 16);
    t->topic_authorized_operations = ops ? TOPIC_OPS : RILL_AUTHORIZED_OPS_UNKNOWN;
    t->npartitions = tp->partitions;
    t->partitions =
        rill__arena_calloc(&q->srv->arena, (size_t)tp->partitions, sizeof(*t->partitions));
    if (!t->partitions && tp->partitions)
        return -1;
    for (int32_t p = 0; p < tp->partitions; p++) {
        rill_metadata_partition *mp = &t->partitions[p];
        mp->partition_index = p;
        mp->leader_id = *self;
        mp->leader_epoch = 0;
        mp->replica_nodes = (int32_t *)self;
        mp->nreplica_nodes = 1;
        mp->isr_nodes = (int32_t *)self;
        mp->nisr_nodes = 1;
        mp->noffline_replicas = 0;
    }
    return 0;
}

int rill__h_metadata(rill_req *q) {
    rill_server *srv = q->srv;
    rill_arena *a = &srv->arena;
    rill_metadata_req req;
    if (!RILL_REQ_DECODE(q, metadata, &req))
        return -1;

    int32_t *self = rill__arena_alloc(a, sizeof(*self));
    rill_metadata_broker *b = rill__arena_calloc(a, 1, sizeof(*b));
    if (!self || !b)
        return -1;
    *self = srv->cfg->node_id;
    b->node_id = *self;
    b->host = rill__str(srv->adv_host);
    b->port = srv->adv_port;
    b->rack = rill__str_null();

    rill_metadata_resp m;
    memset(&m, 0, sizeof(m));
    m.brokers = b;
    m.nbrokers = 1;
    m.cluster_id = rill__str(srv->cluster_id);
    m.controller_id = *self;
    m.cluster_authorized_operations =
        req.include_cluster_authorized_operations ? CLUSTER_OPS : RILL_AUTHORIZED_OPS_UNKNOWN;

    rill_topics *topics = rill__storage_topics(srv->st);
    bool ops = req.include_topic_authorized_operations;
    if (req.ntopics < 0) {
        size_t n = rill__topics_count(topics);
        m.topics = rill__arena_calloc(a, n, sizeof(*m.topics));
        if (!m.topics && n)
            return -1;
        for (size_t i = 0; i < n; i++)
            if (fill_topic(q, &m.topics[i], rill__topics_at(topics, i), self, ops) != 0)
                return -1;
        m.ntopics = (int32_t)n;
    } else {
        m.topics = rill__arena_calloc(a, (size_t)req.ntopics, sizeof(*m.topics));
        if (!m.topics && req.ntopics)
            return -1;
        m.ntopics = req.ntopics;
        for (int32_t i = 0; i < req.ntopics; i++) {
            rill_metadata_topic *t = &m.topics[i];
            const rill_metadata_req_topic *rt = &req.topics[i];
            t->name = rt->name;
            memcpy(t->topic_id, rt->topic_id, 16);
            t->topic_authorized_operations = RILL_AUTHORIZED_OPS_UNKNOWN;
            const rill_topic *tp = NULL;
            char name[RILL_TOPIC_NAME_MAX + 1];
            if (rill__str_is_null(rt->name)) {
                tp = rill__topics_find_id(topics, rt->topic_id);
                if (!tp)
                    t->error_code = RILL_ERR_UNKNOWN_TOPIC_ID;
            } else if (rill__topic_cstr(rt->name, name, sizeof(name)) != 0) {
                t->error_code = RILL_ERR_INVALID_TOPIC_EXCEPTION;
            } else {
                tp = rill__auto_create_topic(srv, name, req.allow_auto_topic_creation,
                                             &t->error_code);
            }
            if (tp && fill_topic(q, t, tp, self, ops) != 0)
                return -1;
            rill__req_error(q, t->error_code);
        }
    }
    return RILL_REQ_REPLY(q, metadata, &m);
}
