/*
 * flusher.c -- group commit on a background fsync thread (see flusher.h).
 */
#include "broker/server/flusher.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "broker/server/group_coordinator.h"
#include "broker/server/server_int.h"
#include "common/clock.h"

static void *thread_main(void *arg) {
    rill_flusher *f = arg;
    pthread_mutex_lock(&f->mu);
    for (;;) {
        while (!f->job_set && !f->stop)
            pthread_cond_wait(&f->cv, &f->mu);
        if (!f->job_set)
            break; /* stopping, nothing left to do */
        size_t n = f->nround;
        rill_log_flush_job *jobs = f->jobs;
        rill_offsets *offsets = f->round_offsets ? f->offsets : NULL;
        pthread_mutex_unlock(&f->mu);
        /* The slow part, off the loop thread: fdatasync of each noted segment. */
        for (size_t i = 0; i < n; i++)
            if (jobs[i].run_rc == 0)
                rill__log_flush_run(&jobs[i]);
        if (offsets)
            rill__offsets_sync_run(offsets);
        pthread_mutex_lock(&f->mu);
        f->job_set = 0;
        f->job_done = 1;
        pthread_cond_broadcast(&f->cv);
        uint64_t one = 1;
        ssize_t w = write(f->io.fd, &one, sizeof(one));
        (void)w;
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

/*
 * The round's fsyncs are done: publish the flushed offsets, release the held responses.
 * top_level: called from the loop (sessions may then process buffered requests).
 */
static void complete_round(rill_flusher *f, int top_level) {
    int failed = 0;
    for (size_t i = 0; i < f->nround; i++) {
        if (f->jobs[i].run_rc == -2) {
            failed = 1; /* flush_begin refused: the log had failed before */
            continue;
        }
        int64_t flushed;
        if (rill__log_flush_end(f->round_logs[i], &f->jobs[i], &flushed) != 0)
            failed = 1;
    }
    rill_err_t oerr = f->round_offsets ? rill__offsets_sync_end(f->offsets) : f->offsets_err;
    f->round_offsets = 0;
    f->offsets_err = RILL_ERR_NO_ERROR;
    f->nround = 0;
    f->running = 0;
    f->durable_seq = f->round_seq;
    rill_server *srv = f->srv;
    if (srv->gc)
        rill__gc_commits_release(srv->gc, f->durable_seq, oerr);
    srv->metrics.fsyncs++;
    rill__histogram_add(&srv->metrics.fsync, rill__mono_us() - f->round_start_us);
    if (failed) {
        f->failures++;
        srv->metrics.fsync_failures++;
        RILL_LOG(srv->lg, RILL_LOG_CRIT, "flusher",
                 "fsync failed in round %llu: its acks=all responses are withheld",
                 (unsigned long long)f->round_seq);
    }
    /* With log.hw.flushed the high watermark moved: parked fetches may have data. */
    srv->append_gen++;
    rill__server_release_held(srv, f->durable_seq, failed ? f->round_seq : 0, top_level);
}

static void on_done(rill_io *io, uint32_t events) {
    rill_flusher *f = io->ctx;
    uint64_t v;
    (void)events;
    while (read(io->fd, &v, sizeof(v)) == sizeof(v))
        ;
    pthread_mutex_lock(&f->mu);
    int done = f->job_done;
    f->job_done = 0;
    pthread_mutex_unlock(&f->mu);
    if (!done || !f->running)
        return;
    complete_round(f, 1);
    rill__flusher_kick(f); /* what was noted meanwhile: the next group */
}

int rill__flusher_init(rill_flusher *f, struct rill_server *srv, rill_loop *loop) {
    memset(f, 0, sizeof(*f));
    f->srv = srv;
    f->loop = loop;
    f->next_seq = 1;
    rill__hmap_init(&f->noted);
    f->io.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (f->io.fd < 0)
        return -1;
    f->io.cb = on_done;
    f->io.ctx = f;
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
    if (rill__loop_add(loop, &f->io, EPOLLIN) != 0 ||
        pthread_create(&f->thread, NULL, thread_main, f) != 0) {
        close(f->io.fd);
        f->io.fd = -1;
        return -1;
    }
    f->started = 1;
    return 0;
}

/* Waits for the thread to finish the running round. */
static void wait_round(rill_flusher *f) {
    pthread_mutex_lock(&f->mu);
    while (!f->job_done)
        pthread_cond_wait(&f->cv, &f->mu);
    f->job_done = 0;
    pthread_mutex_unlock(&f->mu);
}

void rill__flusher_destroy(rill_flusher *f) {
    if (!f->started) {
        rill__hmap_free(&f->noted, NULL);
        return;
    }
    if (f->running) {
        wait_round(f);
        for (size_t i = 0; i < f->nround; i++)
            if (f->jobs[i].run_rc != -2)
                rill__log_flush_end(f->round_logs[i], &f->jobs[i], NULL);
        if (f->round_offsets)
            rill__offsets_sync_end(f->offsets); /* its commits were cancelled with sessions */
        f->round_offsets = 0;
        f->running = 0;
    }
    pthread_mutex_lock(&f->mu);
    f->stop = 1;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->thread, NULL);
    rill__loop_del(f->loop, &f->io);
    close(f->io.fd);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    rill__hmap_free(&f->noted, NULL);
    free(f->round_logs);
    free(f->jobs);
    f->started = 0;
}

uint64_t rill__flusher_note(rill_flusher *f, rill_log *log) {
    if (!rill__hmap_get(&f->noted, &log, sizeof(log)) &&
        rill__hmap_put(&f->noted, &log, sizeof(log), log) != 0) {
        /*
         * Out of memory: flush this log right here rather than acknowledge early -- after
         * the running round, which may hold the log's flush (a second one is refused).
         */
        rill__flusher_drain(f);
        int64_t flushed;
        if (rill__log_flush(log, &flushed) != 0)
            return RILL_FLUSHER_FAILED;
        return f->durable_seq;
    }
    return f->next_seq;
}

uint64_t rill__flusher_note_offsets(rill_flusher *f) {
    f->offsets_noted = 1;
    return f->next_seq;
}

void rill__flusher_kick(rill_flusher *f) {
    if (f->running || (f->noted.n == 0 && !f->offsets_noted) || !f->started)
        return;
    size_t n = f->noted.n;
    if (n > f->capround) {
        rill_log **l = realloc(f->round_logs, n * sizeof(*l));
        if (l)
            f->round_logs = l;
        rill_log_flush_job *j = l ? realloc(f->jobs, n * sizeof(*j)) : NULL;
        if (!j)
            return; /* retried at the next iteration */
        f->jobs = j;
        f->capround = n;
    }
    rill_hmap_iter it;
    rill_hmap_node *node;
    size_t i = 0;
    rill__hmap_iter_init(&it, &f->noted);
    while ((node = rill__hmap_iter_next(&it))) {
        rill_log *log = node->val;
        f->round_logs[i] = log;
        if (rill__log_flush_begin(log, 0, &f->jobs[i]) != 0)
            f->jobs[i].run_rc = -2;
        i++;
    }
    rill__hmap_free(&f->noted, NULL);
    rill__hmap_init(&f->noted);
    if (f->offsets_noted && f->offsets) {
        int rc = rill__offsets_sync_begin(f->offsets);
        f->round_offsets = rc > 0;
        if (rc < 0) /* rare (see offsets.h): done here, still answered at the round's end */
            f->offsets_err = rill__offsets_sync(f->offsets);
    }
    f->offsets_noted = 0;
    f->nround = n;
    f->round_seq = f->next_seq++;
    f->running = 1;
    f->round_start_us = rill__mono_us();
    f->rounds++;
    pthread_mutex_lock(&f->mu);
    f->job_set = 1;
    pthread_cond_signal(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

void rill__flusher_drain(rill_flusher *f) {
    if (!f->started)
        return;
    for (int pass = 0; pass < 2; pass++) {
        if (!f->running)
            rill__flusher_kick(f);
        if (!f->running)
            return;
        wait_round(f);
        complete_round(f, 0);
    }
}
