/*
 * test_conn.c -- the client connection (src/net/conn.c) against a real local TCP peer:
 * when the write of a new request fails at once (the broker reset the connection),
 * no request callback runs inside rill__conn_req_end -- the caller still holds its
 * request there -- and the close comes from the loop, failing every request once.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/clock.h"
#include "net/conn.h"
#include "net/loop.h"
#include "rill.h"

typedef struct calls {
    int n, err, in_req_end;
} calls;

static int g_in_req_end;

static int on_resp(rill_conn *c, int err, int16_t ver, rill_rd *body, void *opaque) {
    (void)c, (void)ver, (void)body;
    calls *k = opaque;
    k->n++;
    k->err = err;
    k->in_req_end += g_in_req_end;
    return 0;
}

static int up;
static void on_up(rill_conn *c, void *ctx) {
    (void)c, (void)ctx;
    up = 1;
}

static int listener(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 1), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

/* Queues one small request (ApiVersions v0, empty body). */
static int queue_request(rill_conn *c, calls *k) {
    rill_buf *b = rill__conn_req_begin(c, 18, 0);
    assert_non_null(b);
    g_in_req_end = 1;
    int rc = rill__conn_req_end(c, on_resp, k, 5000, true);
    g_in_req_end = 0;
    return rc;
}

static void failed_write_closes_from_the_loop(void **state) {
    (void)state;
    int port, lfd = listener(&port);
    rill_loop *loop = rill__loop_new();
    rill_conn_handler h = {on_up, NULL, NULL};
    rill_conn *c = rill__conn_new(loop, NULL, "peer", &h, "test", 1 << 20);
    assert_int_equal(rill__conn_connect(c, "127.0.0.1", port), 0);
    int64_t end = rill__mono_us() + 5000000;
    while (!up && rill__mono_us() < end)
        rill__loop_step(loop, 50);
    assert_true(up);
    int sfd = accept(lfd, NULL, NULL);
    assert_true(sfd >= 0);

    calls first = {0}, second = {0};
    assert_int_equal(queue_request(c, &first), 0);
    /* The broker resets the connection (linger 0 sends RST); the loop does not run. */
    struct linger lg = {1, 0};
    assert_int_equal(setsockopt(sfd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    close(sfd);
    usleep(50000);
    /* A request big enough that its write must reach the dead socket. */
    rill_buf *b = rill__conn_req_begin(c, 18, 0);
    static uint8_t pad[1 << 16];
    rill__buf_append(b, pad, sizeof(pad));
    g_in_req_end = 1;
    assert_int_equal(rill__conn_req_end(c, on_resp, &second, 5000, true), 0);
    g_in_req_end = 0;
    assert_int_equal(first.in_req_end + second.in_req_end, 0);
    assert_int_equal(second.n, 0);
    assert_true(rill__conn_next_deadline(c) <= rill__mono_us());

    /* The loop (or the owner's tick) closes it: each request fails exactly once. */
    end = rill__mono_us() + 5000000;
    while ((first.n == 0 || second.n == 0) && rill__mono_us() < end) {
        rill__loop_step(loop, 50);
        rill__conn_check_timeouts(c, rill__mono_us());
    }
    assert_int_equal(first.n, 1);
    assert_int_equal(second.n, 1);
    assert_int_equal(second.err, RILL_ERR_TRANSPORT);
    assert_int_equal(rill__conn_state(c), RILL_CONN_DOWN);
    rill__conn_destroy(c);
    rill__loop_destroy(loop);
    close(lfd);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(failed_write_closes_from_the_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
