/*
 * loop.h -- a small epoll event loop.
 *
 * One loop per client handle (run by its I/O thread) or per broker.  Each
 * watched fd has a rill_io record that the owner embeds in its own struct;
 * the loop calls io->cb(io, events) when the fd is ready.  A wakeup eventfd
 * lets other threads interrupt a blocking step, e.g. when rill_produce
 * opens a new batch that needs a linger timer.
 *
 * The loop is a plain function, rill__loop_step(timeout): the background
 * thread calls it in a loop today, and an application could call it from
 * its own event loop later (watching rill__loop_fd()).
 */
#ifndef RILL_NET_LOOP_H
#define RILL_NET_LOOP_H

#include <stdint.h>

typedef struct rill_loop rill_loop;
typedef struct rill_io rill_io;

typedef void(rill__io_cb)(rill_io *io, uint32_t events);

struct rill_io {
    int fd;
    uint32_t events; /* EPOLLIN / EPOLLOUT currently watched */
    rill__io_cb *cb;
    void *ctx;
};

rill_loop *rill__loop_new(void);
void rill__loop_destroy(rill_loop *l);
/* Watches io->fd for `events` (EPOLLIN|EPOLLOUT); 0 or -1 (errno set). */
int rill__loop_add(rill_loop *l, rill_io *io, uint32_t events);
int rill__loop_mod(rill_loop *l, rill_io *io, uint32_t events);
void rill__loop_del(rill_loop *l, rill_io *io);
/*
 * Waits up to timeout_ms (-1 forever, 0 poll) and dispatches ready fds.
 * Returns the number of events handled, or -1 on error.
 */
int rill__loop_step(rill_loop *l, int timeout_ms);
/* Thread-safe: makes a blocked or the next step return promptly. */
void rill__loop_wakeup(rill_loop *l);
/* The epoll fd, for embedding in another loop. */
int rill__loop_fd(const rill_loop *l);

#endif
