/*
 * flusher.h -- group commit: one background thread fsyncs the partition logs so that every
 * acks=all produce that arrived while the previous fsync ran is acknowledged by the next.
 *
 * The loop thread appends, then calls rill__flusher_note(log) and holds the response until
 * the returned round is durable.  After each loop iteration rill__flusher_kick() starts a
 * round when none is running: rill__log_flush_begin() on every noted log (loop thread),
 * the fdatasync calls on the flusher thread (rill__log_flush_run), then, woken through an
 * eventfd in the loop, rill__log_flush_end() and the release of the held responses.
 * Rounds are numbered 1, 2, ...: notes made while round n runs belong to round n + 1.
 *
 * The group coordinator's offsets store rides the same rounds: rill__flusher_note_offsets()
 * returns the round whose completion has synced the OffsetCommits queued so far, and the
 * round's end answers them (rill__gc_commits_release), so a slow disk never stalls the loop.
 *
 * When an fsync fails, storage marks that log failed (it refuses writes from then on) and
 * the sessions holding responses of the round are closed, so nothing is acknowledged that
 * may not be on disk; clients retry and get KAFKA_STORAGE_ERROR.
 */
#ifndef RILL_BROKER_FLUSHER_H
#define RILL_BROKER_FLUSHER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/storage/hmap.h"
#include "broker/storage/log.h"
#include "broker/storage/offsets.h"
#include "net/loop.h"

struct rill_server;

typedef struct rill_flusher {
    struct rill_server *srv;
    rill_loop *loop;
    rill_io io; /* eventfd: a round finished */
    pthread_t thread;
    int started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;     /* guarded by mu */
    int job_set;  /* guarded by mu: a round is handed to the thread */
    int job_done; /* guarded by mu */

    rill_offsets *offsets; /* the group offsets store, borrowed; NULL: none */
    int round_offsets;     /* the running round has an offsets job (read by the thread) */

    /* Loop thread only. */
    int offsets_noted;      /* the next round syncs the offsets store */
    rill_err_t offsets_err; /* a round without an offsets job: the result of a sync done inline */
    rill_hmap noted;        /* log pointer -> log: to flush in the next round */
    rill_log **round_logs;  /* the running round */
    rill_log_flush_job *jobs;
    size_t nround, capround;
    int running;
    uint64_t next_seq;    /* the round that notes made now belong to */
    uint64_t durable_seq; /* every round <= this one is durable (or failed) */
    uint64_t round_seq;
    int64_t round_start_us;
    uint64_t rounds, failures;
} rill_flusher;

int rill__flusher_init(rill_flusher *f, struct rill_server *srv, rill_loop *loop);
/* Finishes the running round, stops the thread, frees. */
void rill__flusher_destroy(rill_flusher *f);
/*
 * log must be made durable; returns the round whose completion covers it, or
 * RILL_FLUSHER_FAILED when that could not be arranged (out of memory, and the synchronous
 * flush done instead failed): the append must then not be acknowledged.
 */
uint64_t rill__flusher_note(rill_flusher *f, rill_log *log);
#define RILL_FLUSHER_FAILED UINT64_MAX
/* The offsets store must be synced; returns the round whose completion covers it. */
uint64_t rill__flusher_note_offsets(rill_flusher *f);
/* Starts a round if logs are noted and none is running. */
void rill__flusher_kick(rill_flusher *f);
/*
 * Blocks until every noted log is durable (used before deleting logs and at shutdown):
 * waits for the running round, then runs the next one synchronously.
 */
void rill__flusher_drain(rill_flusher *f);

#endif
