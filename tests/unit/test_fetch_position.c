/*
 * test_fetch_position.c -- the consumer's per-partition fetch position
 * (src/client/fetch_pos.c): how assign / seek, ListOffsets and Fetch answers
 * move a partition between NEED_COMMITTED, NEED_RESET, ACTIVE and ERROR, and
 * how far the records of an answer move its position.
 *
 * The functions run on a consumer that has no I/O thread and no broker:
 * answers are built by hand (record batches from the real builder), and what
 * the application would see is read with the public rill_consumer_poll.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client/fetch_pos.h"
#include "common/clock.h"
#include "common/crc32c.h"
#include "common/endian.h"
#include "proto/record_batch.h"

/* ---- a consumer without I/O -------------------------------------------------------- */

/* kv: NULL-terminated key, value pairs of configuration. */
static rill_consumer_t *consumer_new(const char *const *kv) {
    rill_consumer_t *c = calloc(1, sizeof(*c));
    assert_non_null(c);
    c->conf = rill_conf_new();
    assert_non_null(c->conf);
    char err[256];
    for (; kv && kv[0]; kv += 2)
        assert_int_equal(rill_conf_set(c->conf, kv[0], kv[1], err, sizeof(err)), RILL_CONF_OK);
    c->loop = rill__loop_new();
    assert_non_null(c->loop);
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->cond, NULL);
    rill__arena_init(&c->arena, 0);
    rill__batch_reader_init(&c->reader, 64u << 20);
    return c;
}

static void consumer_free(rill_consumer_t *c) {
    rill_message_t *m;
    while ((m = rill_consumer_poll(c, 0)))
        rill_message_destroy(m);
    for (int i = 0; i < c->ntps; i++) {
        free(c->tps[i]->topic);
        free(c->tps[i]);
    }
    free(c->tps);
    free(c->build);
    free(c->scratch_extra);
    rill__batch_reader_free(&c->reader);
    rill__arena_free(&c->arena);
    rill__loop_destroy(c->loop);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    rill_conf_destroy(c->conf);
    free(c);
}

/* What poll hands out right now: message offsets, and the error events. */
typedef struct seen {
    int n;
    int64_t offsets[64];
    char values[64][16];
    size_t vlens[64];
    int nerr;
    rill_err_t errs[8];
    char errstr[8][256];
} seen;

static void drain(rill_consumer_t *c, seen *s) {
    memset(s, 0, sizeof(*s));
    rill_message_t *m;
    while ((m = rill_consumer_poll(c, 0))) {
        rill_err_t e = rill_message_err(m);
        if (e) {
            assert_true(s->nerr < 8);
            s->errs[s->nerr] = e;
            snprintf(s->errstr[s->nerr++], 256, "%s", rill_message_errstr(m));
        } else {
            assert_true(s->n < 64);
            size_t vlen;
            const void *v = rill_message_value(m, &vlen);
            snprintf(s->values[s->n], 16, "%s", (const char *)v); /* up to the NUL */
            s->vlens[s->n] = vlen;
            s->offsets[s->n++] = rill_message_offset(m);
        }
        rill_message_destroy(m);
    }
}

static ctp *partition(rill_consumer_t *c) {
    ctp *tp = rill__ctp_get(c, "t", 0);
    assert_non_null(tp);
    return tp;
}

/* ---- answers ---------------------------------------------------------------------------- */

/* Records of an answer: batches appended one after the other. */
typedef struct blob {
    uint8_t data[256 * 1024];
    size_t len;
} blob;

/* Appends a batch of n records "v<offset>" at base; flags as below. */
#define B_CONTROL 1       /* a control batch (a commit marker) */
#define B_TRANSACTIONAL 2 /* producer id 7, transactional */
#define B_BAD_CRC 4       /* one record byte flipped after the CRC was set */
#define B_TRUNCATED 8     /* only the first half of the batch, as at a fetch's end */
#define B_BIG 16          /* values padded to 900 bytes, for batches past the CRC window */
#define B_BAD_MIDDLE 32   /* a byte flipped halfway through, after the CRC was set */
#define B_BAD_COUNT 64    /* claims one record more than it holds; the CRC matches */
static void add_batch(blob *b, int64_t base, int n, int flags) {
    rill_batch_builder bb;
    rill__batch_builder_init(&bb, 0);
    bool txn = flags & (B_TRANSACTIONAL | B_CONTROL);
    assert_int_equal(rill__batch_begin(&bb, 1000, txn ? 7 : -1, txn ? 0 : -1, txn ? 0 : -1, txn),
                     0);
    for (int i = 0; i < n; i++) {
        char v[900];
        int vlen = snprintf(v, sizeof(v), "v%lld", (long long)(base + i));
        if (flags & B_BIG) {
            memset(v + vlen + 1, 'x', sizeof(v) - (size_t)vlen - 1); /* after the NUL */
            vlen = (int)sizeof(v);
        }
        if (flags & B_CONTROL) {
            static const uint8_t commit_key[4] = {0, 0, 0, 1}; /* version 0, COMMIT */
            assert_int_equal(rill__batch_append(&bb, 1000, commit_key, 4, v, vlen, NULL, 0), 0);
        } else {
            assert_int_equal(rill__batch_append(&bb, 1000 + i, NULL, -1, v, vlen, NULL, 0), 0);
        }
    }
    assert_int_equal(rill__batch_finish(&bb, RILL_CODEC_NONE, 0, NULL, NULL), 0);
    uint8_t *p = bb.buf.data;
    size_t len = bb.buf.len;
    rill__batch_set_base_offset(p, base);
    /* The builder makes good data batches: change them, then set the CRC. */
    if (flags & B_CONTROL)
        p[RILL_BATCH_OFF_ATTRIBUTES + 1] |= RILL_BATCH_ATTR_CONTROL;
    if (flags & B_BAD_COUNT)
        rill__st32(p + RILL_BATCH_OFF_RECORDS_COUNT, (uint32_t)n + 1);
    rill__st32(p + RILL_BATCH_OFF_CRC,
               rill__crc32c(0, p + RILL_BATCH_OFF_ATTRIBUTES, len - RILL_BATCH_OFF_ATTRIBUTES));
    if (flags & B_BAD_CRC)
        p[len - 3] ^= 0x40;
    if (flags & B_BAD_MIDDLE)
        p[len / 2] ^= 0x01;
    if (flags & B_TRUNCATED)
        len /= 2;
    assert_true(b->len + len <= sizeof(b->data));
    memcpy(b->data + b->len, p, len);
    b->len += len;
    rill__batch_builder_free(&bb);
}

static rill_fetch_resp_partition answer(const blob *b, int64_t hwm) {
    rill_fetch_resp_partition rp;
    rill__fetch_resp_partition_init(&rp, 0);
    rp.high_watermark = hwm;
    rp.records = (rill_bytes){b->data, (int32_t)b->len};
    return rp;
}

static rill_fetch_resp_partition error_answer(int16_t err) {
    rill_fetch_resp_partition rp;
    rill__fetch_resp_partition_init(&rp, 0);
    rp.error_code = err;
    return rp;
}

/* A fetch "sent" now for tp, answered with rp. */
static int fetch(rill_consumer_t *c, ctp *tp, const rill_fetch_resp_partition *rp) {
    assert_int_equal(rill__fpos_want(tp, rill__mono_us()), RILL_FPOS_FETCH);
    return rill__fpos_fetch_answer(c, tp, tp->version, tp->fetch_pos, rp, NULL, rill__mono_us());
}

/* One partition "t" [0] of a consumer, its next answer's records, and what
 * the application saw last. */
typedef struct fx {
    rill_consumer_t *c;
    ctp *tp;
    blob b;
    seen s;
} fx;

/* kv as for consumer_new; start: the partition's first rill__tp_start. */
static fx *fx_new(const char *const *kv, int64_t start) {
    fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->c = consumer_new(kv);
    f->tp = partition(f->c);
    rill__tp_start(f->c, f->tp, start);
    return f;
}

static void fx_free(fx *f) {
    consumer_free(f->c);
    free(f);
}

/* Fetches from the partition's position; the answer holds f->b's records
 * (then emptied) and a high watermark; returns the answer's actions, with
 * what the application sees after it in f->s. */
static int fx_fetch(fx *f, int64_t hwm) {
    rill_fetch_resp_partition rp = answer(&f->b, hwm);
    int a = fetch(f->c, f->tp, &rp);
    f->b.len = 0;
    drain(f->c, &f->s);
    return a;
}

/* ---- starting ---------------------------------------------------------------------------- */

static void start_picks_the_state_from_the_offset(void **state) {
    (void)state;
    rill_consumer_t *c = consumer_new(NULL);
    ctp *tp = partition(c);
    int64_t now = rill__mono_us();

    rill__tp_start(c, tp, 42);
    assert_true(tp->assigned);
    assert_int_equal(tp->state, TP_ACTIVE);
    assert_int_equal(tp->fetch_pos, 42);
    assert_int_equal(tp->app_pos, 42);
    assert_int_equal(rill__fpos_want(tp, now), RILL_FPOS_FETCH);

    int32_t v = tp->version;
    rill__tp_start(c, tp, RILL_OFFSET_BEGINNING);
    assert_int_equal(tp->version, v + 1);
    assert_int_equal(tp->state, TP_NEED_RESET);
    assert_int_equal(tp->reset_to, RILL_OFFSET_BEGINNING);
    assert_int_equal(rill__fpos_want(tp, now), RILL_FPOS_LIST_OFFSETS);

    rill__tp_start(c, tp, RILL_OFFSET_END);
    assert_int_equal(tp->state, TP_NEED_RESET);
    assert_int_equal(tp->reset_to, RILL_OFFSET_END);

    rill__tp_start(c, tp, RILL_OFFSET_STORED);
    assert_int_equal(tp->state, TP_NEED_COMMITTED);
    /* The group's OffsetFetch (consumer_offsets.c) moves it on, not the fetcher. */
    assert_int_equal(rill__fpos_want(tp, now), RILL_FPOS_IDLE);
    rill__tp_start(c, tp, RILL_OFFSET_INVALID);
    assert_int_equal(tp->state, TP_NEED_COMMITTED);

    rill__tp_stop(c, tp);
    assert_false(tp->assigned);
    assert_int_equal(rill__fpos_want(tp, now), RILL_FPOS_IDLE);
    consumer_free(c);
}

/* Without a group there is no committed offset: auto.offset.reset decides
 * (consumer_offsets.c), then a ListOffsets answer starts the fetching. */
static void committed_lookup_then_reset_then_fetching(void **state) {
    (void)state;
    const char *kv[] = {"auto.offset.reset", "earliest", NULL};
    rill_consumer_t *c = consumer_new(kv);
    ctp *tp = partition(c);
    rill__tp_start(c, tp, RILL_OFFSET_STORED);
    assert_int_equal(tp->state, TP_NEED_COMMITTED);
    rill__group_init_positions(c, rill__mono_us());
    assert_int_equal(tp->state, TP_NEED_RESET);
    assert_int_equal(tp->reset_to, RILL_OFFSET_BEGINNING);

    int32_t v = tp->version;
    assert_int_equal(rill__fpos_reset_answer(c, tp, v, 0, 17, rill__mono_us()), 0);
    assert_int_equal(tp->state, TP_ACTIVE);
    assert_int_equal(tp->fetch_pos, 17);
    assert_int_equal(tp->app_pos, 17);
    assert_int_equal(rill__fpos_want(tp, rill__mono_us()), RILL_FPOS_FETCH);
    consumer_free(c);
}

static void list_offsets_errors_back_off(void **state) {
    (void)state;
    rill_consumer_t *c = consumer_new(NULL);
    ctp *tp = partition(c);
    rill__tp_start(c, tp, RILL_OFFSET_END);
    int64_t now = rill__mono_us();

    /* Retriable: a quiet backoff and a metadata refresh. */
    int a = rill__fpos_reset_answer(c, tp, tp->version, RILL_ERR_NOT_LEADER_OR_FOLLOWER, -1, now);
    assert_int_equal(a, RILL_FPOS_REFRESH);
    assert_int_equal(tp->state, TP_NEED_RESET);
    assert_true(tp->backoff_until_us > now);
    assert_int_equal(rill__fpos_want(tp, now), RILL_FPOS_IDLE);
    assert_int_equal(rill__fpos_want(tp, tp->backoff_until_us), RILL_FPOS_LIST_OFFSETS);
    seen s;
    drain(c, &s);
    assert_int_equal(s.nerr, 0);

    /* Not retriable: the application hears of it too. */
    int64_t first_backoff = tp->backoff_until_us - now;
    rill__fpos_reset_answer(c, tp, tp->version, RILL_ERR_TOPIC_AUTHORIZATION_FAILED, -1, now);
    assert_true(tp->backoff_until_us - now > first_backoff); /* doubled */
    drain(c, &s);
    assert_int_equal(s.nerr, 1);
    assert_int_equal(s.errs[0], RILL_ERR_TOPIC_AUTHORIZATION_FAILED);
    consumer_free(c);
}

/* A ListOffsets answer for a lookup a seek or revoke replaced changes nothing. */
static void stale_list_offsets_answer_is_dropped(void **state) {
    (void)state;
    rill_consumer_t *c = consumer_new(NULL);
    ctp *tp = partition(c);
    rill__tp_start(c, tp, RILL_OFFSET_BEGINNING);
    int32_t asked = tp->version;
    rill__tp_start(c, tp, RILL_OFFSET_END); /* seek while the lookup is out */
    rill__fpos_reset_answer(c, tp, asked, 0, 0, rill__mono_us());
    assert_int_equal(tp->state, TP_NEED_RESET);
    assert_int_equal(tp->reset_to, RILL_OFFSET_END);

    asked = tp->version;
    rill__tp_stop(c, tp); /* revoked while the lookup is out */
    rill__fpos_reset_answer(c, tp, asked, 0, 99, rill__mono_us());
    assert_false(tp->assigned);
    assert_int_not_equal(tp->state, TP_ACTIVE);
    consumer_free(c);
}

/* ---- fetch errors ------------------------------------------------------------------------- */

static void out_of_range_resets_per_policy(void **state) {
    (void)state;
    static const struct {
        const char *policy;
        tp_state state;
        int64_t reset_to;
    } cases[] = {
        {"earliest", TP_NEED_RESET, RILL_OFFSET_BEGINNING},
        {"latest", TP_NEED_RESET, RILL_OFFSET_END},
        {"none", TP_ERROR, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *kv[] = {"auto.offset.reset", cases[i].policy, NULL};
        fx *f = fx_new(kv, 500);
        rill_fetch_resp_partition rp = error_answer(RILL_ERR_OFFSET_OUT_OF_RANGE);
        assert_int_equal(fetch(f->c, f->tp, &rp), 0);
        assert_int_equal(f->tp->state, cases[i].state);
        drain(f->c, &f->s);
        if (cases[i].state == TP_NEED_RESET) {
            assert_int_equal(f->tp->reset_to, cases[i].reset_to);
            assert_int_equal(rill__fpos_want(f->tp, rill__mono_us()), RILL_FPOS_LIST_OFFSETS);
            assert_int_equal(f->s.nerr, 0);
        } else {
            assert_int_equal(rill__fpos_want(f->tp, rill__mono_us()), RILL_FPOS_IDLE);
            assert_int_equal(f->s.nerr, 1);
            assert_int_equal(f->s.errs[0], RILL_ERR_OFFSET_OUT_OF_RANGE);
            assert_non_null(strstr(f->s.errstr[0], "auto.offset.reset is none"));
            /* A seek starts it again. */
            rill__tp_start(f->c, f->tp, 0);
            assert_int_equal(rill__fpos_want(f->tp, rill__mono_us()), RILL_FPOS_FETCH);
        }
        fx_free(f);
    }
}

static void leader_errors_and_failures_back_off(void **state) {
    (void)state;
    fx *f = fx_new(NULL, 5);
    ctp *tp = f->tp;
    int64_t now = rill__mono_us();
    rill_fetch_resp_partition rp = error_answer(RILL_ERR_NOT_LEADER_OR_FOLLOWER);
    assert_int_equal(fetch(f->c, tp, &rp), RILL_FPOS_REFRESH);
    assert_int_equal(tp->state, TP_ACTIVE);
    assert_int_equal(tp->fetch_pos, 5);
    assert_true(tp->backoff_until_us > now);
    assert_int_equal(rill__fpos_want(tp, now), RILL_FPOS_IDLE);

    /* A request that failed as a whole (rp NULL): backoff, same position. */
    tp->backoff_until_us = 0;
    int fails = tp->fails;
    assert_int_equal(rill__fpos_fetch_answer(f->c, tp, tp->version, 5, NULL, NULL, now), 0);
    assert_int_equal(tp->fails, fails + 1);
    assert_int_equal(tp->fetch_pos, 5);
    assert_int_equal(rill__fpos_want(tp, tp->backoff_until_us), RILL_FPOS_FETCH);
    drain(f->c, &f->s);
    assert_int_equal(f->s.nerr, 0);
    fx_free(f);
}

/* ---- records ------------------------------------------------------------------------------- */

static void records_advance_the_position(void **state) {
    (void)state;
    fx *f = fx_new(NULL, 0);
    add_batch(&f->b, 0, 3, 0);
    add_batch(&f->b, 3, 2, 0);
    assert_int_equal(rill__fpos_records_end(f->b.data, f->b.len, 0), 5);
    assert_int_equal(fx_fetch(f, 5), 0);
    assert_int_equal(f->tp->fetch_pos, 5);
    assert_int_equal(f->tp->state, TP_ACTIVE);
    assert_int_equal(f->s.n, 5);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(f->s.offsets[i], i);
        char v[16];
        snprintf(v, sizeof(v), "v%d", i);
        assert_string_equal(f->s.values[i], v);
    }
    assert_int_equal(f->s.nerr, 0);
    assert_int_equal(f->tp->app_pos, 5);
    fx_free(f);
}

/* An answer starts at the batch holding the position: the records before it
 * are not delivered again. */
static void answer_starting_inside_a_batch(void **state) {
    (void)state;
    fx *f = fx_new(NULL, 13);
    add_batch(&f->b, 0, 10, 0); /* wholly before the position */
    add_batch(&f->b, 10, 10, 0);
    assert_int_equal(rill__fpos_records_end(f->b.data, f->b.len, 13), 20);
    fx_fetch(f, 20);
    assert_int_equal(f->tp->fetch_pos, 20);
    assert_int_equal(f->s.n, 7);
    assert_int_equal(f->s.offsets[0], 13);
    assert_int_equal(f->s.offsets[6], 19);
    fx_free(f);
}

static void control_batches_are_passed_over(void **state) {
    (void)state;
    fx *f = fx_new(NULL, 0);
    add_batch(&f->b, 0, 2, B_TRANSACTIONAL);
    add_batch(&f->b, 2, 1, B_CONTROL);
    add_batch(&f->b, 3, 2, 0);
    fx_fetch(f, 5);
    assert_int_equal(f->tp->fetch_pos, 5);
    assert_int_equal(f->s.n, 4);
    static const int64_t want[] = {0, 1, 3, 4};
    for (int i = 0; i < 4; i++)
        assert_int_equal(f->s.offsets[i], want[i]);

    /* An answer of nothing but a marker still moves the position on. */
    add_batch(&f->b, 5, 1, B_CONTROL);
    fx_fetch(f, 6);
    assert_int_equal(f->tp->fetch_pos, 6);
    assert_int_equal(f->s.n, 0);
    assert_int_equal(f->s.nerr, 0);
    fx_free(f);
}

/* read_committed drops the batches of aborted transactions, using the
 * answer's aborted list; read_uncommitted delivers them. */
static void read_committed_drops_aborted_batches(void **state) {
    (void)state;
    static const char *const levels[] = {"read_committed", "read_uncommitted"};
    for (int l = 0; l < 2; l++) {
        const char *kv[] = {"isolation.level", levels[l], NULL};
        fx *f = fx_new(kv, 0);
        add_batch(&f->b, 0, 3, B_TRANSACTIONAL); /* aborted below */
        add_batch(&f->b, 3, 1, B_CONTROL);       /* its marker */
        add_batch(&f->b, 4, 2, 0);
        rill_fetch_aborted_txn aborted[] = {{7, 0}};
        rill_fetch_resp_partition rp = answer(&f->b, 6);
        rp.aborted = aborted;
        rp.naborted = 1;
        fetch(f->c, f->tp, &rp);
        assert_int_equal(f->tp->fetch_pos, 6);
        drain(f->c, &f->s);
        assert_int_equal(f->s.n, l == 0 ? 2 : 5);
        assert_int_equal(f->s.offsets[0], l == 0 ? 4 : 0);
        fx_free(f);
    }
}

/* A batch that fails its CRC is an error event; the position stays on it,
 * and nothing of it or after it is delivered, until a seek. */
static void crc_failure_stops_at_the_bad_batch(void **state) {
    (void)state;
    fx *f = fx_new(NULL, 0);
    add_batch(&f->b, 0, 5, 0);
    add_batch(&f->b, 5, 5, B_BAD_CRC);
    add_batch(&f->b, 10, 5, 0);
    /* The headers alone cannot tell: the early fetch asks from 15, and its
     * answer will be stale. */
    assert_int_equal(rill__fpos_records_end(f->b.data, f->b.len, 0), 15);
    fx_fetch(f, 15);
    assert_int_equal(f->tp->fetch_pos, 5);
    assert_int_equal(f->tp->state, TP_ERROR);
    assert_false(rill__fpos_current(f->tp, f->tp->version, 15));
    assert_int_equal(rill__fpos_want(f->tp, rill__mono_us()), RILL_FPOS_IDLE);
    assert_int_equal(f->s.n, 5);
    assert_int_equal(f->s.offsets[4], 4);
    assert_int_equal(f->s.nerr, 1);
    assert_int_equal(f->s.errs[0], RILL_ERR_CORRUPT_MESSAGE);
    assert_non_null(strstr(f->s.errstr[0], "CRC"));
    assert_int_equal(f->tp->app_pos, 5);

    /* The application seeks past it. */
    rill__tp_start(f->c, f->tp, 10);
    add_batch(&f->b, 10, 5, 0);
    fx_fetch(f, 15);
    assert_int_equal(f->tp->fetch_pos, 15);
    assert_int_equal(f->s.n, 5);
    assert_int_equal(f->s.offsets[0], 10);

    /* A bad first batch: no message at all, the position does not move. */
    rill__tp_start(f->c, f->tp, 20);
    add_batch(&f->b, 20, 3, B_BAD_CRC);
    fx_fetch(f, 23);
    assert_int_equal(f->tp->fetch_pos, 20);
    assert_int_equal(f->tp->state, TP_ERROR);
    assert_int_equal(f->s.n, 0);
    assert_int_equal(f->s.nerr, 1);
    fx_free(f);
}

/* Batches large enough for every path of the CRC: all of a good one,
 * nothing of one with a bad byte in the middle. */
static void crc_of_large_batches(void **state) {
    (void)state;
    fx *f = fx_new(NULL, 0);
    add_batch(&f->b, 0, 60, B_BIG); /* ~54 KB */
    add_batch(&f->b, 60, 60, B_BIG | B_BAD_MIDDLE);
    fx_fetch(f, 120);
    assert_int_equal(f->s.n, 60);
    assert_int_equal(f->s.offsets[59], 59);
    assert_string_equal(f->s.values[59], "v59");
    assert_int_equal(f->s.vlens[59], 900);
    assert_int_equal(f->s.nerr, 1);
    assert_int_equal(f->s.errs[0], RILL_ERR_CORRUPT_MESSAGE);
    assert_non_null(strstr(f->s.errstr[0], "CRC"));
    assert_int_equal(f->tp->fetch_pos, 60);
    assert_int_equal(f->tp->state, TP_ERROR);
    fx_free(f);
}

/* A batch whose CRC matches but whose records do not add up: an error
 * event, and none of its records, not even those read before the fault. */
static void malformed_batch_delivers_none_of_its_records(void **state) {
    (void)state;
    fx *f = fx_new(NULL, 0);
    add_batch(&f->b, 0, 2, 0);
    add_batch(&f->b, 2, 3, B_BAD_COUNT);
    fx_fetch(f, 5);
    assert_int_equal(f->s.n, 2);
    assert_int_equal(f->s.nerr, 1);
    assert_int_equal(f->s.errs[0], RILL_ERR_CORRUPT_MESSAGE);
    assert_non_null(strstr(f->s.errstr[0], "malformed record"));
    assert_int_equal(f->tp->fetch_pos, 2);
    assert_int_equal(f->tp->state, TP_ERROR);
    fx_free(f);
}

/* A fetch ends where max bytes cut it, often inside a batch: the whole
 * batches are taken and the partial one is fetched again. */
static void partial_batch_at_the_end_is_left_for_the_next_fetch(void **state) {
    (void)state;
    fx *f = fx_new(NULL, 0);
    add_batch(&f->b, 0, 4, 0);
    add_batch(&f->b, 4, 4, B_TRUNCATED);
    assert_int_equal(rill__fpos_records_end(f->b.data, f->b.len, 0), 4);
    fx_fetch(f, 8);
    assert_int_equal(f->tp->fetch_pos, 4);
    assert_int_equal(f->tp->state, TP_ACTIVE);
    assert_int_equal(f->s.n, 4);
    assert_int_equal(f->s.nerr, 0);

    /* Broken framing: the headers cannot say where the records end. */
    uint8_t junk[80];
    memset(junk, 0, sizeof(junk));
    rill__st32(junk + RILL_BATCH_OFF_LENGTH, 3); /* shorter than a header */
    assert_int_equal(rill__fpos_records_end(junk, sizeof(junk), 0), -1);
    fx_free(f);
}

/* A seek while a fetch is out: its answer is dropped (the position stays
 * where the seek put it), and messages queued before the seek are not
 * handed out. */
static void seek_while_a_fetch_is_in_flight(void **state) {
    (void)state;
    fx *f = fx_new(NULL, 0);
    int32_t sent_version = f->tp->version;
    int64_t sent_offset = f->tp->fetch_pos;
    rill__tp_start(f->c, f->tp, 100); /* the seek */
    add_batch(&f->b, 0, 5, 0);
    rill_fetch_resp_partition rp = answer(&f->b, 200);
    assert_false(rill__fpos_current(f->tp, sent_version, sent_offset));
    rill__fpos_fetch_answer(f->c, f->tp, sent_version, sent_offset, &rp, NULL, rill__mono_us());
    assert_int_equal(f->tp->fetch_pos, 100);
    assert_int_equal(f->tp->state, TP_ACTIVE);
    drain(f->c, &f->s);
    assert_int_equal(f->s.n, 0);

    /* Messages already queued when the seek came. */
    rill__tp_start(f->c, f->tp, 0);
    fetch(f->c, f->tp, &rp);
    rill__tp_start(f->c, f->tp, 3);
    drain(f->c, &f->s);
    assert_int_equal(f->s.n, 0);
    assert_int_equal(f->tp->app_pos, 3);
    fx_free(f);
}

static void pause_and_resume(void **state) {
    (void)state;
    fx *f = fx_new(NULL, 7);
    rill_topic_partition_t part = {"t", 0, 0, 0};
    assert_int_equal(rill_pause(f->c, &part, 1), 0);
    assert_int_equal(rill__fpos_want(f->tp, rill__mono_us()), RILL_FPOS_IDLE);
    assert_int_equal(f->tp->state, TP_ACTIVE);
    assert_int_equal(f->tp->fetch_pos, 7);
    assert_int_equal(rill_resume(f->c, &part, 1), 0);
    assert_int_equal(rill__fpos_want(f->tp, rill__mono_us()), RILL_FPOS_FETCH);

    rill_topic_partition_t other = {"t", 1, 0, 0};
    assert_int_equal(rill_pause(f->c, &other, 1), RILL_ERR_UNKNOWN_PARTITION);
    /* A seek resumes, as an assign does. */
    rill_pause(f->c, &part, 1);
    rill__tp_start(f->c, f->tp, 9);
    assert_int_equal(rill__fpos_want(f->tp, rill__mono_us()), RILL_FPOS_FETCH);
    fx_free(f);
}

static void end_of_partition_event_once(void **state) {
    (void)state;
    const char *kv[] = {"enable.partition.eof", "true", NULL};
    fx *f = fx_new(kv, 0);
    add_batch(&f->b, 0, 2, 0);
    fx_fetch(f, 2);
    assert_int_equal(f->s.n, 2);
    assert_int_equal(f->s.nerr, 1);
    assert_int_equal(f->s.errs[0], RILL_ERR_PARTITION_EOF);
    fx_fetch(f, 2); /* nothing new */
    assert_int_equal(f->s.nerr, 0);
    fx_free(f);
}

/* Records that stay in the answer's receive buffer: the messages point into
 * it, and the last one done with it lets it go. */
static void messages_point_into_a_kept_receive_buffer(void **state) {
    (void)state;
    fx *f = fx_new(NULL, 0);
    add_batch(&f->b, 0, 3, 0);
    rill_rbuf *rb = calloc(1, sizeof(*rb));
    assert_non_null(rb);
    atomic_init(&rb->refs, 1);
    rb->data = malloc(f->b.len);
    assert_non_null(rb->data);
    rb->size = f->b.len;
    memcpy(rb->data, f->b.data, f->b.len);
    rill_fetch_resp_partition rp = answer(&f->b, 3);
    rp.records.ptr = rb->data;
    rill__fpos_fetch_answer(f->c, f->tp, f->tp->version, 0, &rp, rb, rill__mono_us());
    assert_int_equal(atomic_load(&rb->refs), 2); /* ours and the chunk's */
    rill_message_t *m = rill_consumer_poll(f->c, 0);
    assert_non_null(m);
    size_t vlen;
    const uint8_t *v = rill_message_value(m, &vlen);
    assert_true(v >= rb->data && v + vlen <= rb->data + rb->size);
    rill_message_t *rest[2] = {rill_consumer_poll(f->c, 0), rill_consumer_poll(f->c, 0)};
    assert_non_null(rest[1]);
    assert_null(rill_consumer_poll(f->c, 0));
    rill_message_destroy(rest[0]);
    rill_message_destroy(rest[1]);
    assert_int_equal(atomic_load(&rb->refs), 2); /* m still holds the chunk */
    rill_message_destroy(m);
    assert_int_equal(atomic_load(&rb->refs), 1);
    rill__rbuf_release(rb); /* frees it (no pool) */
    fx_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(start_picks_the_state_from_the_offset),
        cmocka_unit_test(committed_lookup_then_reset_then_fetching),
        cmocka_unit_test(list_offsets_errors_back_off),
        cmocka_unit_test(stale_list_offsets_answer_is_dropped),
        cmocka_unit_test(out_of_range_resets_per_policy),
        cmocka_unit_test(leader_errors_and_failures_back_off),
        cmocka_unit_test(records_advance_the_position),
        cmocka_unit_test(answer_starting_inside_a_batch),
        cmocka_unit_test(control_batches_are_passed_over),
        cmocka_unit_test(read_committed_drops_aborted_batches),
        cmocka_unit_test(crc_failure_stops_at_the_bad_batch),
        cmocka_unit_test(crc_of_large_batches),
        cmocka_unit_test(malformed_batch_delivers_none_of_its_records),
        cmocka_unit_test(partial_batch_at_the_end_is_left_for_the_next_fetch),
        cmocka_unit_test(seek_while_a_fetch_is_in_flight),
        cmocka_unit_test(pause_and_resume),
        cmocka_unit_test(end_of_partition_event_once),
        cmocka_unit_test(messages_point_into_a_kept_receive_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
