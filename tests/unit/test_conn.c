/*
 * test_conn.c -- the client connection (src/net/conn.c) against a real local TCP peer:
 * when the write of a new request fails at once (the broker reset the connection),
 * no request callback runs inside rill__conn_req_end -- the caller still holds its
 * request there -- and the close comes from the loop, failing every request once;
 * bytes queued by reference (rill__conn_req_ref) go out in order with the owned
 * ones, an abandoned request leaves nothing behind, and a response that comes
 * before its request was written closes the connection before its owner could
 * free what is still queued.
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
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

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

/* A connection to a local peer, up, with the peer's end accepted. */
typedef struct tconn {
    rill_loop *loop;
    rill_conn *c;
    int lfd, sfd;
} tconn;

static int tconn_open(void **state) {
    tconn *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    int port;
    t->lfd = listener(&port);
    t->loop = rill__loop_new();
    rill_conn_handler h = {on_up, NULL, NULL};
    t->c = rill__conn_new(t->loop, NULL, "peer", &h, "test", 64 << 20);
    up = 0;
    assert_int_equal(rill__conn_connect(t->c, "127.0.0.1", port), 0);
    int64_t end = rill__mono_us() + 5000000;
    while (!up && rill__mono_us() < end)
        rill__loop_step(t->loop, 50);
    assert_true(up);
    t->sfd = accept(t->lfd, NULL, NULL);
    assert_true(t->sfd >= 0);
    *state = t;
    return 0;
}

static int tconn_close(void **state) {
    tconn *t = *state;
    rill__conn_destroy(t->c);
    rill__loop_destroy(t->loop);
    if (t->sfd >= 0)
        close(t->sfd);
    close(t->lfd);
    free(t);
    return 0;
}

static void failed_write_closes_from_the_loop(void **state) {
    tconn *t = *state;
    rill_loop *loop = t->loop;
    rill_conn *c = t->c;
    int sfd = t->sfd;
    t->sfd = -1; /* closed here */

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
    int64_t end = rill__mono_us() + 5000000;
    while ((first.n == 0 || second.n == 0) && rill__mono_us() < end) {
        rill__loop_step(loop, 50);
        rill__conn_check_timeouts(c, rill__mono_us());
    }
    assert_int_equal(first.n, 1);
    assert_int_equal(second.n, 1);
    assert_int_equal(second.err, RILL_ERR_TRANSPORT);
    assert_int_equal(rill__conn_state(c), RILL_CONN_DOWN);
}

/* A peer's view of the stream: what it has read so far. */
typedef struct peer_in {
    uint8_t *data;
    size_t len, cap;
} peer_in;

static void peer_read(int fd, peer_in *in) {
    for (;;) {
        if (in->cap - in->len < 65536) {
            in->cap = in->cap ? in->cap * 2 : 1 << 20;
            in->data = realloc(in->data, in->cap);
            assert_non_null(in->data);
        }
        ssize_t n = recv(fd, in->data + in->len, in->cap - in->len, MSG_DONTWAIT);
        if (n <= 0)
            return;
        in->len += (size_t)n;
    }
}

/* Header v1 of an ApiVersions v0 request from client "test": 14 bytes. */
#define REQ_HDR 14

static void referenced_bytes_go_out_in_order(void **state) {
    tconn *t = *state;
    rill_loop *loop = t->loop;
    rill_conn *c = t->c;
    int sfd = t->sfd;

    size_t big_len = 3u << 20; /* far more than the socket buffers hold */
    uint8_t *big = malloc(big_len);
    assert_non_null(big);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (uint8_t)(i * 7 + 1);
    calls ka = {0}, kb = {0}, kc = {0};
    /* A: owned bytes only. */
    rill_buf *b = rill__conn_req_begin(c, 18, 0);
    rill__buf_append(b, "abc", 3);
    assert_int_equal(rill__conn_req_end(c, on_resp, &ka, 5000, true), 0);
    /* An abandoned request, reference and all: nothing of it may go out. */
    b = rill__conn_req_begin(c, 18, 0);
    rill__buf_append(b, "XX", 2);
    assert_int_equal(rill__conn_req_ref(c, "YYYY", 4), 0);
    rill__buf_append(b, "ZZ", 2);
    rill__conn_req_abort(c);
    /* B: owned, referenced, owned, referenced. */
    b = rill__conn_req_begin(c, 18, 0);
    rill__buf_append(b, "<", 1);
    assert_int_equal(rill__conn_req_ref(c, big, big_len), 0);
    rill__buf_append(b, ">", 1);
    assert_int_equal(rill__conn_req_ref(c, "tail", 4), 0);
    assert_int_equal(rill__conn_req_end(c, on_resp, &kb, 5000, true), 0);
    /* C: owned again. */
    b = rill__conn_req_begin(c, 18, 0);
    rill__buf_append(b, "end", 3);
    assert_int_equal(rill__conn_req_end(c, on_resp, &kc, 5000, true), 0);

    size_t want = (4 + REQ_HDR + 3) + (4 + REQ_HDR + 1 + big_len + 1 + 4) + (4 + REQ_HDR + 3);
    peer_in in = {0};
    int64_t end = rill__mono_us() + 10000000;
    while (in.len < want && rill__mono_us() < end) {
        rill__loop_step(loop, 1);
        peer_read(sfd, &in);
    }
    assert_int_equal(in.len, want);
    assert_int_equal(rill__conn_outq_bytes(c), 0);
    /* Frame by frame: size, correlation id (1, 2, 3: the abandoned one took none), body. */
    const uint8_t *q = in.data;
    const char *bodies[] = {"abc", NULL, "end"};
    for (int i = 0; i < 3; i++) {
        uint32_t size, corr;
        memcpy(&size, q, 4);
        memcpy(&corr, q + 8, 4);
        size = ntohl(size);
        corr = ntohl(corr);
        assert_int_equal(corr, i + 1);
        const uint8_t *body = q + 4 + REQ_HDR;
        if (bodies[i]) {
            assert_int_equal(size, REQ_HDR + 3);
            assert_memory_equal(body, bodies[i], 3);
        } else {
            assert_int_equal(size, REQ_HDR + 1 + big_len + 1 + 4);
            assert_int_equal(body[0], '<');
            assert_memory_equal(body + 1, big, big_len);
            assert_int_equal(body[1 + big_len], '>');
            assert_memory_equal(body + 2 + big_len, "tail", 4);
        }
        q += 4 + size;
    }
    /* The answers, in order: each callback once, without error. */
    for (uint32_t corr = 1; corr <= 3; corr++) {
        uint32_t frame[2] = {htonl(4), htonl(corr)};
        assert_int_equal(send(sfd, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
    }
    end = rill__mono_us() + 5000000;
    while (kc.n == 0 && rill__mono_us() < end)
        rill__loop_step(loop, 10);
    assert_int_equal(ka.n + kb.n + kc.n, 3);
    assert_int_equal(ka.err + kb.err + kc.err, 0);
    assert_int_equal(rill__conn_state(c), RILL_CONN_UP);
    free(in.data);
    free(big);
}

/* Frees the referenced bytes, as the producer frees a batch when its request ends. */
static uint8_t *g_big;
static int on_resp_free(rill_conn *c, int err, int16_t ver, rill_rd *body, void *opaque) {
    on_resp(c, err, ver, body, opaque);
    free(g_big);
    g_big = NULL;
    return 0;
}

static void early_response_closes_before_the_owner_frees(void **state) {
    tconn *t = *state;
    rill_loop *loop = t->loop;
    rill_conn *c = t->c;
    int sfd = t->sfd;
    size_t big_len = 16u << 20; /* cannot all be written while the peer reads nothing */
    g_big = calloc(1, big_len);
    assert_non_null(g_big);
    calls k = {0};
    rill__conn_req_begin(c, 18, 0);
    assert_int_equal(rill__conn_req_ref(c, g_big, big_len), 0);
    assert_int_equal(rill__conn_req_end(c, on_resp_free, &k, 5000, true), 0);
    assert_true(rill__conn_outq_bytes(c) > 0);
    /* The peer answers at once, having read nothing. */
    uint32_t frame[2] = {htonl(4), htonl(1)};
    assert_int_equal(send(sfd, frame, sizeof(frame), 0), (ssize_t)sizeof(frame));
    int64_t end = rill__mono_us() + 5000000;
    while (k.n == 0 && rill__mono_us() < end)
        rill__loop_step(loop, 10);
    /* Failed, not answered, and nothing more is written from the freed bytes
     * (ASan would see it). */
    assert_int_equal(k.n, 1);
    assert_int_equal(k.err, RILL_ERR_BAD_MSG);
    assert_int_equal(rill__conn_state(c), RILL_CONN_DOWN);
    assert_int_equal(rill__conn_outq_bytes(c), 0);
    for (int i = 0; i < 20; i++)
        rill__loop_step(loop, 1);
    assert_int_equal(k.n, 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(failed_write_closes_from_the_loop, tconn_open, tconn_close),
        cmocka_unit_test_setup_teardown(referenced_bytes_go_out_in_order, tconn_open, tconn_close),
        cmocka_unit_test_setup_teardown(early_response_closes_before_the_owner_frees, tconn_open,
                                        tconn_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
