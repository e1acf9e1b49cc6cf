/*
 * server.h -- rill-broker's network side: the one event-loop thread that accepts Kafka
 * connections, reads framed requests, dispatches them to the handlers and writes the
 * responses (the Redis model, DESIGN.md "Threading").
 *
 * The daemon (tools/rill-broker.c) only parses arguments into a rill_broker_config and
 * calls:
 *
 *     rill_server *srv;
 *     if (rill__server_new(&cfg, &logger, &srv, err, sizeof(err)) != 0) exit(1);
 *     rill__server_run(srv);           -- until rill__server_stop()
 *     rill__server_destroy(srv);       -- clean storage shutdown
 *
 * rill__server_new opens the data directory (lock, recovery), binds every listener and
 * logs "listening on HOST:PORT" for each with the real port.  Tests embed a server the
 * same way and drive it with rill__server_step() from their own thread.
 */
#ifndef RILL_BROKER_SERVER_H
#define RILL_BROKER_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "broker/server/broker_config.h"
#include "common/log.h"
#include "rill.h"

typedef struct rill_server rill_server;

/*
 * Opens storage and binds the listeners.  The config and logger must outlive the server.
 * Returns 0; RILL_ERR_STATE when the data directory is used by another broker; other
 * errors with a message in err.
 */
rill_err_t rill__server_new(const rill_broker_config *cfg, const rill_logger *lg, rill_server **out,
                            char *err, size_t errlen);
/*
 * Runs the loop until rill__server_stop(), then shuts down gracefully: stops accepting,
 * answers what is in flight (parked fetches now, held produce acks after their fsync),
 * writes out queued responses (bounded by a few seconds), closes the connections.
 * Returns 0, or -1 when the loop failed.
 */
int rill__server_run(rill_server *srv);
/* One loop iteration of at most timeout_ms (tests). */
int rill__server_step(rill_server *srv, int timeout_ms);
/* Async-signal-safe and thread-safe: asks rill__server_run to return. */
void rill__server_stop(rill_server *srv);
/* Closes every connection and the storage (flush, clean-shutdown marker).  0 or -1. */
int rill__server_destroy(rill_server *srv);

/* The bound port of listener i (tests use port 0), or -1. */
int rill__server_port(const rill_server *srv, int i);
/* The bound port of the metrics listener, or -1. */
int rill__server_metrics_port(const rill_server *srv);

#endif
