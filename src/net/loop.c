/*
 * loop.c -- epoll event loop (see loop.h).
 */
#include "net/loop.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MAX_EVENTS 64

struct rill_loop {
    int epfd;
    rill_io wake;
    atomic_int wake_pending; /* coalesces wakeups into one eventfd write */
};

static void on_wake(rill_io *io, uint32_t events) {
    rill_loop *l = io->ctx;
    uint64_t v;
    (void)events;
    atomic_store(&l->wake_pending, 0);
    while (read(io->fd, &v, sizeof(v)) == sizeof(v))
        ;
}

rill_loop *rill__loop_new(void) {
    rill_loop *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->wake.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->epfd < 0 || l->wake.fd < 0) {
        if (l->epfd >= 0)
            close(l->epfd);
        if (l->wake.fd >= 0)
            close(l->wake.fd);
        free(l);
        return NULL;
    }
    l->wake.cb = on_wake;
    l->wake.ctx = l;
    rill__loop_add(l, &l->wake, EPOLLIN);
    return l;
}

void rill__loop_destroy(rill_loop *l) {
    if (!l)
        return;
    close(l->wake.fd);
    close(l->epfd);
    free(l);
}

int rill__loop_add(rill_loop *l, rill_io *io, uint32_t events) {
    struct epoll_event ev = {.events = events, .data.ptr = io};
    io->events = events;
    return epoll_ctl(l->epfd, EPOLL_CTL_ADD, io->fd, &ev);
}

int rill__loop_mod(rill_loop *l, rill_io *io, uint32_t events) {
    if (io->events == events)
        return 0;
    struct epoll_event ev = {.events = events, .data.ptr = io};
    io->events = events;
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev);
}

void rill__loop_del(rill_loop *l, rill_io *io) {
    if (io->fd >= 0)
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
    io->events = 0;
}

int rill__loop_step(rill_loop *l, int timeout_ms) {
    struct epoll_event evs[MAX_EVENTS];
    int n = epoll_wait(l->epfd, evs, MAX_EVENTS, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        rill_io *io = evs[i].data.ptr;
        io->cb(io, evs[i].events);
    }
    return n;
}

void rill__loop_wakeup(rill_loop *l) {
    if (atomic_exchange(&l->wake_pending, 1))
        return;
    uint64_t one = 1;
    ssize_t r = write(l->wake.fd, &one, sizeof(one));
    (void)r;
}

int rill__loop_fd(const rill_loop *l) { return l->epfd; }
