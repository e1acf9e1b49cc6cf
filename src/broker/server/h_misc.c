/*
 * h_misc.c -- the small APIs: InitProducerId (22) and FindCoordinator (10).
 *
 * InitProducerId: without a transactional id Kafka hands out a fresh producer id with
 * epoch 0 every time, whatever id and epoch the producer passes (v3+), and the
 * idempotent producer needs nothing more (KafkaApis.handleInitProducerIdRequest).  Ids
 * come from broker_meta.c, durable across restarts.  Transactions are not supported:
 * they need a transaction coordinator, which this broker does not have, so a
 * transactional id gets COORDINATOR_NOT_AVAILABLE.
 *
 * FindCoordinator: this node coordinates every group (key type 0).  Transaction
 * coordinators (key type 1) do not exist here: COORDINATOR_NOT_AVAILABLE.
 */
#include <string.h>

#include "broker/server/handlers.h"
#include "proto/api_group.h"
#include "proto/api_init_producer_id.h"

int rill__h_init_producer_id(rill_req *q) {
    rill_server *srv = q->srv;
    rill_init_producer_id_req req;
    if (!RILL_REQ_DECODE(q, init_producer_id, &req))
        return -1;
    rill_init_producer_id_resp m;
    memset(&m, 0, sizeof(m));
    m.producer_id = -1;
    m.producer_epoch = -1;
    if (req.transactional_id.len >= 0) {
        m.error_code = RILL_ERR_COORDINATOR_NOT_AVAILABLE;
    } else {
        int64_t pid = rill__broker_next_pid(srv);
        if (pid < 0) {
            m.error_code = RILL_ERR_KAFKA_STORAGE_ERROR;
        } else {
            m.producer_id = pid;
            m.producer_epoch = 0;
        }
    }
    rill__req_error(q, m.error_code);
    return RILL_REQ_REPLY(q, init_producer_id, &m);
}

int rill__h_find_coordinator(rill_req *q) {
    rill_server *srv = q->srv;
    int16_t ver = q->h.api_version;
    rill_find_coordinator_req req;
    if (!RILL_REQ_DECODE(q, find_coordinator, &req))
        return -1;
    rill_find_coordinator_resp m;
    memset(&m, 0, sizeof(m));
    int32_t n = req.nkeys > 0 ? req.nkeys : 0;
    if (!RILL_REQ_ARRAY(q, m.coordinators, n))
        return -1;
    m.ncoordinators = n;
    for (int32_t i = 0; i < n; i++) {
        rill_find_coordinator *c = &m.coordinators[i];
        c->key = ver >= 4 ? req.keys[i] : rill__str("");
        c->error_message = rill__str_null();
        if (req.key_type == RILL_COORDINATOR_GROUP) {
            c->node_id = srv->cfg->node_id;
            c->host = rill__str(srv->adv_host);
            c->port = srv->adv_port;
        } else {
            /* 1: transactions, which rill-broker does not coordinate; anything else is not a
             * coordinator type at all (Kafka: INVALID_REQUEST). */
            int txn = req.key_type == RILL_COORDINATOR_TRANSACTION;
            c->node_id = -1;
            c->host = rill__str("");
            c->port = -1;
            c->error_code = txn ? RILL_ERR_COORDINATOR_NOT_AVAILABLE : RILL_ERR_INVALID_REQUEST;
            c->error_message = rill__str(txn ? "rill-broker has no transaction coordinator"
                                             : "unknown coordinator type");
            rill__req_error(q, c->error_code);
        }
    }
    return RILL_REQ_REPLY(q, find_coordinator, &m);
}
