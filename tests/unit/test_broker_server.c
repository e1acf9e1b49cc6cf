/*
 * test_broker_server.c -- a rill-broker server embedded in the test, on 127.0.0.1:0 with
 * a throw-away data directory, driven one loop step at a time from this thread while a
 * plain socket plays the client.  Requests are encoded and responses decoded with the
 * codecs of src/proto, so the bytes on the wire are those of the protocol.
 *
 * Covers: ApiVersions (and the KIP-511 answer to an unknown version), pipelined requests
 * answered in order, Metadata auto-creation, Produce with acks 1 / -1 (held until the
 * group-commit fsync) / 0, CRC and framing errors, Fetch of whole batches through
 * sendfile, long poll, unknown API keys and oversized frames closing the connection,
 * graceful destroy, metrics.  Run under ASan too: every path here must free what it takes.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/server/metrics.h"
#include "broker/server/server.h"
#include "broker/server/server_int.h"
#include "broker/storage/fsutil.h"
#include "common/clock.h"
#include "common/endian.h"
#include "proto/api.h"
#include "proto/api_alter_configs.h"
#include "proto/api_configs.h"
#include "proto/api_fetch.h"
#include "proto/api_group.h"
#include "proto/api_metadata.h"
#include "proto/api_produce.h"
#include "proto/api_topics.h"
#include "proto/api_versions.h"
#include "proto/fields.h"
#include "proto/record_batch.h"
#include "proto/writer.h"

typedef struct fx {
    char dir[64];
    rill_broker_config cfg;
    rill_logger lg;
    rill_server *srv;
    int fd;
    int32_t corr;
    rill_arena arena;
} fx;

static int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int rc = connect(fd, (struct sockaddr *)&a, sizeof(a));
    assert_true(rc == 0 || errno == EINPROGRESS);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static int setup(void **state) {
    fx *f = calloc(1, sizeof(*f));
    snprintf(f->dir, sizeof(f->dir), "/tmp/rill-test-srv-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    rill__broker_config_defaults(&f->cfg);
    snprintf(f->cfg.data_dir, sizeof(f->cfg.data_dir), "%s", f->dir);
    f->cfg.nlisteners = 1;
    snprintf(f->cfg.listeners[0].host, sizeof(f->cfg.listeners[0].host), "127.0.0.1");
    f->cfg.listeners[0].port = 0;
    f->cfg.has_metrics = 1;
    snprintf(f->cfg.metrics.host, sizeof(f->cfg.metrics.host), "127.0.0.1");
    f->lg.level = RILL_LOG_WARNING;
    char err[256];
    assert_int_equal(rill__server_new(&f->cfg, &f->lg, &f->srv, err, sizeof(err)), 0);
    assert_true(rill__server_port(f->srv, 0) > 0);
    assert_true(rill__server_metrics_port(f->srv) > 0);
    f->fd = connect_to(rill__server_port(f->srv, 0));
    rill__arena_init(&f->arena, 0);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx *f = *state;
    if (f->fd >= 0)
        close(f->fd);
    rill__arena_free(&f->arena);
    assert_int_equal(rill__server_destroy(f->srv), 0);
    rill__fs_rmrf(f->dir);
    free(f);
    return 0;
}

/* ---- client side --------------------------------------------------------------------- */

/* Starts a request frame: size placeholder, header. */
static void req_begin(fx *f, rill_buf *b, int16_t key, int16_t ver) {
    rill__buf_init(b, 0);
    rill__wr_reserve32(b);
    rill__req_header_write(b, key, ver, ++f->corr, "unit-test");
}

static void req_end(rill_buf *b) {
    assert_int_equal(b->err, 0);
    rill__wr_patch32(b, 0, (int32_t)(b->len - 4));
}

static void send_all(fx *f, const void *p, size_t n) {
    const uint8_t *c = p;
    while (n) {
        ssize_t w = send(f->fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINPROGRESS || errno == ENOTCONN)) {
            rill__server_step(f->srv, 1);
            continue;
        }
        assert_true(w > 0);
        c += w;
        n -= (size_t)w;
    }
}

/*
 * Steps the server until one whole response arrived; returns it (size prefix removed,
 * malloc'd) or NULL when the server closed the connection.  Fails after max_ms.
 */
static uint8_t *recv_frame(fx *f, size_t *len, int max_ms) {
    rill_buf in;
    rill__buf_init(&in, 0);
    int64_t deadline = rill__mono_ms() + max_ms;
    for (;;) {
        uint8_t tmp[65536];
        ssize_t n = recv(f->fd, tmp, sizeof(tmp), MSG_PEEK);
        if (n == 0) {
            rill__buf_free(&in);
            return NULL;
        }
        if (n >= 4) {
            uint32_t size = rill__ld32(tmp);
            rill__buf_grow(&in, 4 + size);
            if (recv(f->fd, in.data, 4 + size, MSG_PEEK) == (ssize_t)(4 + size)) {
                assert_int_equal(recv(f->fd, in.data, 4 + size, 0), (ssize_t)(4 + size));
                uint8_t *out = malloc(size ? size : 1);
                memcpy(out, in.data + 4, size);
                *len = size;
                rill__buf_free(&in);
                return out;
            }
        }
        if (rill__mono_ms() > deadline)
            fail_msg("no response within %d ms", max_ms);
        rill__server_step(f->srv, 1);
    }
}

/* A response frame: checks the correlation id (header v0) and returns a reader of the body. */
static rill_rd body_of(const uint8_t *frame, size_t len, int32_t corr, bool flexible) {
    rill_rd r;
    rill__rd_init(&r, frame, len);
    assert_int_equal(rill__resp_header_read(&r, flexible), corr);
    return r;
}

/* Sends the request being built in b (freed), returns a reader of its response's body. */
static rill_rd roundtrip(fx *f, rill_buf *b, uint8_t **frame) {
    req_end(b);
    int32_t corr = f->corr;
    send_all(f, b->data, b->len);
    rill__buf_free(b);
    size_t len;
    *frame = recv_frame(f, &len, 10000);
    assert_non_null(*frame);
    rill__arena_reset(&f->arena);
    return body_of(*frame, len, corr, false);
}

static rill_buf batch_of(const char *const *values, int n, int corrupt) {
    /* Current timestamps: an old one would make the log roll a segment per batch
     * (segment.ms counts from the first record's timestamp, as in Kafka). */
    int64_t now = rill__wall_ms();
    rill_batch_builder bb;
    rill__batch_builder_init(&bb, 0);
    assert_int_equal(rill__batch_begin(&bb, now, -1, -1, -1, 0), 0);
    for (int i = 0; i < n; i++)
        assert_int_equal(rill__batch_append(&bb, now + i, NULL, -1, values[i],
                                            (int32_t)strlen(values[i]), NULL, 0),
                         0);
    assert_int_equal(rill__batch_finish(&bb, RILL_CODEC_NONE, 0, NULL, NULL), 0);
    if (corrupt)
        bb.buf.data[bb.buf.len - 2] ^= 0x10;
    return bb.buf; /* the builder's buffer is the batch; the caller frees it */
}

/* Produce v7 of one batch to topic/0; returns the partition's error and base offset. */
/* Produce (version ver) of one batch to topic/0; returns the partition's error and base. */
static int16_t produce_v(fx *f, int16_t ver, const char *topic, const rill_buf *batch, int16_t acks,
                         int64_t *base) {
    rill_buf b;
    req_begin(f, &b, RILL_API_PRODUCE, ver);
    rill_produce_writer w;
    rill__produce_req_begin(&w, &b, ver, rill__str_null(), acks, 5000, 1);
    rill__produce_req_topic(&w, rill__str(topic), 1);
    rill__produce_req_partition(&w, 0, batch->data, (int32_t)batch->len);
    assert_int_equal(rill__produce_req_end(&w), 0);
    if (acks == 0) {
        req_end(&b);
        send_all(f, b.data, b.len);
        rill__buf_free(&b);
        return 0;
    }
    uint8_t *frame;
    rill_rd r = roundtrip(f, &b, &frame);
    if (rill__api_flexible(RILL_API_PRODUCE, ver))
        rill__rd_tags(&r); /* response header v1 */
    rill_produce_resp m;
    assert_int_equal(rill__produce_resp_decode(&r, ver, &m, &f->arena), 0);
    assert_int_equal(rill__rd_remain(&r), 0);
    assert_int_equal(m.ntopics, 1);
    assert_int_equal(m.topics[0].npartitions, 1);
    int16_t err = m.topics[0].partitions[0].error_code;
    if (base)
        *base = m.topics[0].partitions[0].base_offset;
    if (ver >= 5 && !err)
        assert_int_equal(m.topics[0].partitions[0].log_start_offset, 0);
    free(frame);
    return err;
}

static int16_t produce(fx *f, const char *topic, const rill_buf *batch, int16_t acks,
                       int64_t *base) {
    return produce_v(f, 7, topic, batch, acks, base);
}

static void create_topic(fx *f, const char *topic) {
    rill_buf b;
    req_begin(f, &b, RILL_API_METADATA, 1);
    rill_metadata_req_topic t = {{0}, rill__str(topic)};
    rill_metadata_req m = {&t, 1, true, false, false};
    assert_int_equal(rill__metadata_req_encode(&b, 1, &m), 0);
    uint8_t *frame;
    rill_rd r = roundtrip(f, &b, &frame);
    rill_metadata_resp resp;
    assert_int_equal(rill__metadata_resp_decode(&r, 1, &resp, &f->arena), 0);
    assert_int_equal(resp.ntopics, 1);
    assert_int_equal(resp.topics[0].error_code, 0);
    assert_int_equal(resp.topics[0].npartitions, 1);
    assert_int_equal(resp.nbrokers, 1);
    assert_int_equal(resp.brokers[0].port, rill__server_port(f->srv, 0));
    assert_int_equal(resp.controller_id, 0);
    free(frame);
}

/* Fetch's response-level max_bytes for the next fetch_request (0: 50 MiB). */
static int32_t fetch_max_bytes;

/* Writes a Fetch request of topic/0 (by name, or by id from v13: topic_id non-NULL). */
static void fetch_request(fx *f, rill_buf *b, int16_t ver, const char *topic,
                          const uint8_t *topic_id, int64_t offset, int32_t max_wait,
                          int32_t min_bytes) {
    req_begin(f, b, RILL_API_FETCH, ver);
    rill_fetch_req_partition p = {0, -1, offset, -1, -1, 1 << 20, {0}};
    rill_fetch_req_topic t;
    memset(&t, 0, sizeof(t));
    t.topic = rill__str(topic);
    if (topic_id)
        memcpy(t.topic_id, topic_id, 16);
    t.partitions = &p;
    t.npartitions = 1;
    rill_fetch_req m;
    memset(&m, 0, sizeof(m));
    m.cluster_id = rill__str_null();
    m.replica_id = -1;
    m.replica_epoch = -1;
    m.max_wait_ms = max_wait;
    m.min_bytes = min_bytes;
    m.max_bytes = fetch_max_bytes ? fetch_max_bytes : 50 << 20;
    m.session_epoch = -1;
    m.topics = &t;
    m.ntopics = 1;
    m.rack_id = rill__str("");
    assert_int_equal(rill__fetch_req_encode(b, ver, &m), 0);
}

static rill_fetch_resp_partition fetch_v(fx *f, int16_t ver, const char *topic,
                                         const uint8_t *topic_id, int64_t offset, int32_t max_wait,
                                         int32_t min_bytes, uint8_t **frame_out) {
    rill_buf b;
    fetch_request(f, &b, ver, topic, topic_id, offset, max_wait, min_bytes);
    uint8_t *frame;
    rill_rd r = roundtrip(f, &b, &frame);
    if (ver >= 12) {
        /* Flexible: response header v1 carries tagged fields after the correlation id. */
        rill__rd_tags(&r);
    }
    rill_fetch_resp resp;
    assert_int_equal(rill__fetch_resp_decode(&r, ver, &resp, &f->arena), 0);
    assert_int_equal(resp.error_code, 0);
    assert_int_equal(resp.session_id, 0);
    assert_int_equal(resp.ntopics, 1);
    assert_int_equal(resp.topics[0].npartitions, 1);
    *frame_out = frame;
    return resp.topics[0].partitions[0];
}

static rill_fetch_resp_partition fetch(fx *f, const char *topic, int64_t offset, int32_t max_wait,
                                       int32_t min_bytes, uint8_t **frame_out) {
    return fetch_v(f, 11, topic, NULL, offset, max_wait, min_bytes, frame_out);
}

/* Values of every record in a RECORDS blob, in order, joined by ',' into out. */
static void record_values(rill_bytes rec, char *out, size_t cap, int64_t *first_base) {
    rill_batch_walk w;
    rill__batch_walk_init(&w, rec.ptr, (size_t)rec.len);
    const uint8_t *e;
    size_t n;
    rill_batch_header h;
    out[0] = '\0';
    *first_base = -1;
    while (rill__batch_walk_next(&w, &e, &n, &h) == RILL_WALK_BATCH) {
        assert_true(rill__batch_verify_crc(e, &h));
        if (*first_base < 0)
            *first_base = h.base_offset;
        rill_record_iter it;
        rill__record_iter_init(&it, e + RILL_BATCH_HEADER_SIZE, n - RILL_BATCH_HEADER_SIZE, &h);
        rill_record r;
        while (rill__record_iter_next(&it, &r) == 1) {
            size_t l = strlen(out);
            snprintf(out + l, cap - l, "%s%.*s@%lld", l ? "," : "", (int)r.value.len,
                     (const char *)r.value.ptr, (long long)r.offset);
        }
    }
}

/* ---- tests ------------------------------------------------------------------------- */

static void api_versions(void **state) {
    fx *f = *state;
    rill_buf b;
    req_begin(f, &b, RILL_API_API_VERSIONS, 3);
    rill_api_versions_req q = {rill__str("unit"), rill__str("1.0")};
    assert_int_equal(rill__api_versions_req_encode(&b, 3, &q), 0);
    uint8_t *frame;
    rill_rd r = roundtrip(f, &b, &frame); /* ApiVersions: always response header v0 */
    rill_api_versions_resp m;
    assert_int_equal(rill__api_versions_resp_decode(&r, 3, &m, &f->arena), 0);
    assert_int_equal(m.error_code, 0);
    int seen = 0;
    for (int32_t i = 0; i < m.napi_keys; i++) {
        const rill_api_versions_key *k = &m.api_keys[i];
        if (k->api_key == RILL_API_PRODUCE)
            seen |= 1, assert_true(k->min_version == 0 && k->max_version >= 9); /* see dispatch.c */
        if (k->api_key == RILL_API_FETCH)
            seen |= 2, assert_true(k->min_version == 4 && k->max_version >= 12);
        if (k->api_key == RILL_API_API_VERSIONS)
            seen |= 4, assert_true(k->min_version == 0 && k->max_version == 4);
        if (k->api_key == RILL_API_JOIN_GROUP)
            seen |= 8;
        assert_true(k->api_key != RILL_API_SASL_HANDSHAKE);
    }
    assert_int_equal(seen, 15);
    free(frame);
}

static void api_versions_unknown_version(void **state) {
    fx *f = *state;
    /* v42 with a body nobody can parse: v0 body, UNSUPPORTED_VERSION, our ranges. */
    uint8_t frame[] = {0, 0, 0, 15, 0, 18, 0, 42, 0, 0, 0, 9, 0xff, 0xff, 1, 2, 3, 4, 5};
    send_all(f, frame, sizeof(frame));
    size_t len;
    uint8_t *resp = recv_frame(f, &len, 5000);
    rill_rd r = body_of(resp, len, 9, false);
    rill_api_versions_resp m;
    assert_int_equal(rill__api_versions_resp_decode(&r, 0, &m, &f->arena), 0);
    assert_int_equal(m.error_code, RILL_ERR_UNSUPPORTED_VERSION);
    assert_true(m.napi_keys > 10);
    assert_int_equal(rill__rd_remain(&r), 0);
    free(resp);
}

static void pipelined_in_order(void **state) {
    fx *f = *state;
    rill_buf all;
    rill__buf_init(&all, 0);
    int32_t first = f->corr + 1;
    for (int i = 0; i < 20; i++) {
        rill_buf b;
        req_begin(f, &b, i % 2 ? RILL_API_METADATA : RILL_API_API_VERSIONS, 0);
        if (i % 2)
            rill__wr_i32(&b, 0); /* Metadata v0: all topics */
        req_end(&b);
        rill__buf_append(&all, b.data, b.len);
        rill__buf_free(&b);
    }
    send_all(f, all.data, all.len);
    rill__buf_free(&all);
    for (int i = 0; i < 20; i++) {
        size_t len;
        uint8_t *frame = recv_frame(f, &len, 5000);
        assert_int_equal((int32_t)rill__ld32(frame), first + i);
        free(frame);
    }
}

static void produce_and_fetch(void **state) {
    fx *f = *state;
    create_topic(f, "orders");
    const char *v1[] = {"a", "b", "c"}, *v2[] = {"d", "e"}, *v3[] = {"f"};
    rill_buf b1 = batch_of(v1, 3, 0), b2 = batch_of(v2, 2, 0), b3 = batch_of(v3, 1, 0);
    int64_t base;
    assert_int_equal(produce(f, "orders", &b1, 1, &base), 0);
    assert_int_equal(base, 0);
    uint64_t rounds = f->srv->flusher.rounds;
    assert_int_equal(produce(f, "orders", &b2, -1, &base), 0); /* answered after the fsync */
    assert_int_equal(base, 3);
    assert_true(f->srv->flusher.rounds > rounds);
    assert_true(f->srv->flusher.durable_seq >= 1);
    assert_int_equal(produce(f, "orders", &b3, 0, NULL), 0); /* no response */
    assert_int_equal(produce(f, "orders", &b3, 1, &base), 0);
    assert_int_equal(base, 6);

    uint8_t *frame;
    rill_fetch_resp_partition p = fetch(f, "orders", 4, 0, 0, &frame);
    assert_int_equal(p.error_code, 0);
    assert_int_equal(p.high_watermark, 7);
    assert_int_equal(p.last_stable_offset, 7);
    assert_int_equal(p.log_start_offset, 0);
    char vals[256];
    int64_t first;
    record_values(p.records, vals, sizeof(vals), &first);
    /* Starts with the whole batch that holds offset 4 (offsets 3 and 4). */
    assert_int_equal(first, 3);
    assert_string_equal(vals, "d@3,e@4,f@5,f@6");
    free(frame);

    p = fetch(f, "orders", 8, 0, 0, &frame);
    assert_int_equal(p.error_code, RILL_ERR_OFFSET_OUT_OF_RANGE);
    assert_int_equal(p.high_watermark, 7);
    free(frame);
    p = fetch(f, "nope", 0, 0, 0, &frame);
    assert_int_equal(p.error_code, RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    free(frame);
    rill__buf_free(&b1);
    rill__buf_free(&b2);
    rill__buf_free(&b3);
}

/*
 * The response's max_bytes bounds the first partition too (it once applied only after some
 * data was in the response): whole batches up to it, at least one batch (KIP-74).
 */
static void fetch_max_bytes_bounds_the_first_partition(void **state) {
    fx *f = *state;
    create_topic(f, "capped");
    const char *v[] = {"a", "b", "c"};
    rill_buf b = batch_of(v, 3, 0);
    int64_t base;
    for (int i = 0; i < 5; i++)
        assert_int_equal(produce(f, "capped", &b, 1, &base), 0);
    int32_t bs = (int32_t)b.len;
    int32_t caps[] = {bs * 2 + bs / 2, 10};
    const char *want[] = {"a@0,b@1,c@2,a@3,b@4,c@5", "a@0,b@1,c@2"};
    for (int i = 0; i < 2; i++) {
        fetch_max_bytes = caps[i];
        uint8_t *frame;
        rill_fetch_resp_partition p = fetch(f, "capped", 0, 0, 0, &frame);
        fetch_max_bytes = 0;
        assert_int_equal(p.error_code, 0);
        char vals[256];
        int64_t first;
        record_values(p.records, vals, sizeof(vals), &first);
        assert_string_equal(vals, want[i]);
        free(frame);
    }
    rill__buf_free(&b);
}

/* CreateTopics v5+ validate_only: answers the configs the topic would get, creates nothing. */
static void create_topics_validate_only_configs(void **state) {
    fx *f = *state;
    rill_buf b;
    req_begin(f, &b, RILL_API_CREATE_TOPICS, 7);
    rill_create_topics_config c = {rill__str("retention.ms"), rill__str("1234")};
    rill_create_topics_topic t = {rill__str("dry"), 3, -1, NULL, 0, &c, 1};
    rill_create_topics_req m = {&t, 1, 1000, true};
    assert_int_equal(rill__create_topics_req_encode(&b, 7, &m), 0);
    uint8_t *frame;
    rill_rd r = roundtrip(f, &b, &frame);
    rill__rd_tags(&r);
    rill_create_topics_resp resp;
    assert_int_equal(rill__create_topics_resp_decode(&r, 7, &resp, &f->arena), 0);
    assert_int_equal(resp.ntopics, 1);
    const rill_create_topics_result *res = &resp.topics[0];
    assert_int_equal(res->error_code, 0);
    assert_int_equal(res->num_partitions, 3);
    assert_true(res->nconfigs > 5);
    int seen = 0;
    for (int32_t i = 0; i < res->nconfigs; i++)
        if (rill__str_eq(res->configs[i].name, "retention.ms")) {
            assert_true(rill__str_eq(res->configs[i].value, "1234"));
            assert_int_equal(res->configs[i].config_source, 1); /* DYNAMIC_TOPIC_CONFIG */
            seen = 1;
        }
    assert_true(seen);
    static const uint8_t zero[16];
    assert_memory_equal(res->topic_id, zero, 16);
    assert_null(rill__storage_log(f->srv->st, "dry", 0)); /* nothing created */
    free(frame);
}

/* One IncrementalAlterConfigs v1 on topic `topic`; returns the resource's error code. */
static int16_t incremental_alter(fx *f, const char *topic, rill_alter_config *c, int32_t n,
                                 bool validate_only) {
    rill_buf b;
    req_begin(f, &b, RILL_API_INCREMENTAL_ALTER_CONFIGS, 1);
    rill_alter_configs_resource res = {RILL_CONFIG_RESOURCE_TOPIC, rill__str(topic), c, n};
    rill_alter_configs_req m = {&res, 1, validate_only};
    assert_int_equal(rill__incremental_alter_configs_req_encode(&b, 1, &m), 0);
    uint8_t *frame;
    rill_rd r = roundtrip(f, &b, &frame);
    rill__rd_tags(&r);
    rill_alter_configs_resp resp;
    assert_int_equal(rill__incremental_alter_configs_resp_decode(&r, 1, &resp, &f->arena), 0);
    assert_int_equal(resp.nresults, 1);
    int16_t err = resp.results[0].error_code;
    free(frame);
    return err;
}

static const char *override_of(fx *f, const char *topic, const char *key) {
    const rill_topic *tp = rill__topics_find(rill__storage_topics(f->srv->st), topic);
    assert_non_null(tp);
    return rill__topic_config(tp, key);
}

/* IncrementalAlterConfigs: SET, DELETE, APPEND/SUBTRACT on the list key, validate_only, and
 * Kafka's refusals; the topic's logs take the new settings. */
static void incremental_alter_configs(void **state) {
    fx *f = *state;
    create_topic(f, "alt");
    rill_alter_config set[] = {
        {rill__str("retention.ms"), RILL_CONFIG_OP_SET, rill__str("5000")},
        {rill__str("segment.bytes"), RILL_CONFIG_OP_SET, rill__str("1048576")}};
    assert_int_equal(incremental_alter(f, "alt", set, 2, true), 0); /* validate only */
    assert_null(override_of(f, "alt", "retention.ms"));
    assert_int_equal(incremental_alter(f, "alt", set, 2, false), 0);
    assert_string_equal(override_of(f, "alt", "retention.ms"), "5000");
    assert_int_equal(rill__log_config(rill__storage_log(f->srv->st, "alt", 0))->segment_bytes,
                     1048576);
    rill_alter_config app = {rill__str("cleanup.policy"), RILL_CONFIG_OP_APPEND,
                             rill__str("compact")};
    assert_int_equal(incremental_alter(f, "alt", &app, 1, false), 0);
    assert_string_equal(override_of(f, "alt", "cleanup.policy"), "delete,compact");
    rill_alter_config sub = {rill__str("cleanup.policy"), RILL_CONFIG_OP_SUBTRACT,
                             rill__str("delete")};
    assert_int_equal(incremental_alter(f, "alt", &sub, 1, false), 0);
    assert_string_equal(override_of(f, "alt", "cleanup.policy"), "compact");
    assert_int_equal(rill__log_config(rill__storage_log(f->srv->st, "alt", 0))->cleanup_policy,
                     RILL_CLEANUP_COMPACT);
    rill_alter_config del = {rill__str("retention.ms"), RILL_CONFIG_OP_DELETE, rill__str_null()};
    assert_int_equal(incremental_alter(f, "alt", &del, 1, false), 0);
    assert_null(override_of(f, "alt", "retention.ms"));
    assert_string_equal(override_of(f, "alt", "segment.bytes"), "1048576"); /* untouched */
    /* refusals, nothing changed */
    rill_alter_config bad[] = {
        {rill__str("retention.ms"), RILL_CONFIG_OP_SET, rill__str("soon")},
        {rill__str("no.such.key"), RILL_CONFIG_OP_SET, rill__str("1")},
        {rill__str("retention.ms"), RILL_CONFIG_OP_APPEND, rill__str("1")},
        {rill__str("retention.ms"), 9, rill__str("1")},
    };
    int16_t want[] = {RILL_ERR_INVALID_CONFIG, RILL_ERR_INVALID_CONFIG, RILL_ERR_INVALID_CONFIG,
                      RILL_ERR_INVALID_REQUEST};
    for (int i = 0; i < 4; i++)
        assert_int_equal(incremental_alter(f, "alt", &bad[i], 1, false), want[i]);
    rill_alter_config dup[] = {set[0], set[0]};
    assert_int_equal(incremental_alter(f, "alt", dup, 2, false), RILL_ERR_INVALID_REQUEST);
    assert_int_equal(incremental_alter(f, "nope", set, 1, false),
                     RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_null(override_of(f, "alt", "retention.ms"));
}

/* DescribeConfigs v4 with synonyms and documentation: where each value comes from. */
static void describe_configs_synonyms(void **state) {
    fx *f = *state;
    create_topic(f, "syn");
    rill_alter_config set = {rill__str("retention.ms"), RILL_CONFIG_OP_SET, rill__str("5000")};
    assert_int_equal(incremental_alter(f, "syn", &set, 1, false), 0);
    rill_buf b;
    req_begin(f, &b, RILL_API_DESCRIBE_CONFIGS, 4);
    rill_str keys[] = {rill__str("retention.ms"), rill__str("segment.bytes")};
    rill_describe_configs_resource res = {RILL_CONFIG_RESOURCE_TOPIC, rill__str("syn"), keys, 2};
    rill_describe_configs_req m = {&res, 1, true, true};
    assert_int_equal(rill__describe_configs_req_encode(&b, 4, &m), 0);
    uint8_t *frame;
    rill_rd r = roundtrip(f, &b, &frame);
    rill__rd_tags(&r);
    rill_describe_configs_resp resp;
    assert_int_equal(rill__describe_configs_resp_decode(&r, 4, &resp, &f->arena), 0);
    assert_int_equal(resp.nresults, 1);
    assert_int_equal(resp.results[0].nconfigs, 2);
    for (int32_t i = 0; i < 2; i++) {
        const rill_describe_configs_entry *c = &resp.results[0].configs[i];
        assert_false(rill__str_is_null(c->documentation));
        if (rill__str_eq(c->name, "retention.ms")) {
            assert_int_equal(c->config_source, RILL_CONFIG_SOURCE_TOPIC);
            assert_int_equal(c->nsynonyms, 2);
            assert_true(rill__str_eq(c->synonyms[0].name, "retention.ms"));
            assert_true(rill__str_eq(c->synonyms[0].value, "5000"));
            assert_int_equal(c->synonyms[0].source, RILL_CONFIG_SOURCE_TOPIC);
            assert_true(rill__str_eq(c->synonyms[1].name, "log.retention.ms"));
            assert_true(rill__str_eq(c->synonyms[1].value, "604800000"));
            assert_int_equal(c->synonyms[1].source, RILL_CONFIG_SOURCE_DEFAULT);
        } else {
            assert_true(rill__str_eq(c->name, "segment.bytes"));
            assert_int_equal(c->nsynonyms, 1);
            assert_true(rill__str_eq(c->synonyms[0].name, "log.segment.bytes"));
            assert_int_equal(c->synonyms[0].source, c->config_source);
        }
    }
    free(frame);
}

/* FindCoordinator: groups here; transactions not available; other key types invalid. */
static void find_coordinator_key_types(void **state) {
    fx *f = *state;
    int8_t types[] = {RILL_COORDINATOR_GROUP, RILL_COORDINATOR_TRANSACTION, 7};
    int16_t want[] = {0, RILL_ERR_COORDINATOR_NOT_AVAILABLE, RILL_ERR_INVALID_REQUEST};
    for (int i = 0; i < 3; i++) {
        rill_buf b;
        req_begin(f, &b, RILL_API_FIND_COORDINATOR, 4);
        rill_str key = rill__str("g1");
        rill_find_coordinator_req m = {types[i], &key, 1};
        assert_int_equal(rill__find_coordinator_req_encode(&b, 4, &m), 0);
        uint8_t *frame;
        rill_rd r = roundtrip(f, &b, &frame);
        rill__rd_tags(&r); /* v4 is flexible: response header v1 */
        rill_find_coordinator_resp resp;
        assert_int_equal(rill__find_coordinator_resp_decode(&r, 4, &resp, &f->arena), 0);
        assert_int_equal(resp.ncoordinators, 1);
        assert_int_equal(resp.coordinators[0].error_code, want[i]);
        assert_int_equal(resp.coordinators[0].node_id, i == 0 ? f->srv->cfg->node_id : -1);
        free(frame);
    }
}

/* Every Produce, Fetch (by name) and Metadata version advertised, flexible ones included. */
static void produce_every_version(void **state) {
    fx *f = *state;
    create_topic(f, "versions");
    const char *v[] = {"x", "y"};
    rill_buf b = batch_of(v, 2, 0);
    int64_t base, want = 0;
    for (int16_t ver = RILL_PRODUCE_MIN_VER; ver <= RILL_PRODUCE_MAX_VER; ver++) {
        assert_int_equal(produce_v(f, ver, "versions", &b, ver % 2 ? -1 : 1, &base), 0);
        assert_int_equal(base, want);
        want += 2;
    }
    for (int16_t ver = 4; ver <= 17; ver++) {
        uint8_t *frame;
        rill_fetch_resp_partition p = fetch_v(f, ver, "versions", NULL, 0, 0, 0, &frame);
        if (ver >= 13) {
            free(frame);
            continue; /* by id: fetch_by_topic_id */
        }
        assert_int_equal(p.error_code, 0);
        assert_int_equal(p.high_watermark, want);
        free(frame);
    }
    for (int16_t ver = RILL_METADATA_MIN_VER; ver <= RILL_METADATA_MAX_VER; ver++) {
        rill_buf mb;
        req_begin(f, &mb, RILL_API_METADATA, ver);
        rill_metadata_req_topic t = {{0}, rill__str("versions")};
        rill_metadata_req m = {&t, 1, true, false, false};
        assert_int_equal(rill__metadata_req_encode(&mb, ver, &m), 0);
        uint8_t *frame;
        rill_rd r = roundtrip(f, &mb, &frame);
        if (rill__api_flexible(RILL_API_METADATA, ver))
            rill__rd_tags(&r);
        rill_metadata_resp resp;
        assert_int_equal(rill__metadata_resp_decode(&r, ver, &resp, &f->arena), 0);
        assert_int_equal(rill__rd_remain(&r), 0);
        assert_int_equal(resp.ntopics, 1);
        assert_int_equal(resp.topics[0].error_code, 0);
        assert_int_equal(resp.topics[0].partitions[0].leader_id, 0);
        free(frame);
    }
    rill__buf_free(&b);
}

static void bad_batches_not_stored(void **state) {
    fx *f = *state;
    create_topic(f, "t");
    const char *v[] = {"x"};
    rill_buf good = batch_of(v, 1, 0), bad = batch_of(v, 1, 1);
    int64_t base;
    assert_int_equal(produce(f, "t", &bad, 1, &base), RILL_ERR_CORRUPT_MESSAGE);
    assert_int_equal(base, -1);
    rill_buf two;
    rill__buf_init(&two, 0);
    rill__buf_append(&two, good.data, good.len);
    rill__buf_append(&two, good.data, good.len);
    assert_int_equal(produce(f, "t", &two, 1, &base), RILL_ERR_INVALID_RECORD);
    assert_int_equal(produce(f, "t", &good, 5, &base), RILL_ERR_INVALID_REQUIRED_ACKS);
    assert_int_equal(produce(f, "t", &good, 1, &base), 0);
    assert_int_equal(base, 0); /* nothing before it was appended */
    /* acks=0 with an error: the connection is closed so the producer notices. */
    assert_int_equal(produce(f, "t", &bad, 0, NULL), 0);
    size_t len;
    assert_null(recv_frame(f, &len, 5000));
    rill__buf_free(&good);
    rill__buf_free(&bad);
    rill__buf_free(&two);
}

static void long_poll(void **state) {
    fx *f = *state;
    create_topic(f, "lp");
    int64_t t0 = rill__mono_ms();
    uint8_t *frame;
    rill_fetch_resp_partition p = fetch(f, "lp", 0, 300, 1, &frame);
    int64_t took = rill__mono_ms() - t0;
    assert_int_equal(p.error_code, 0);
    assert_int_equal(p.records.len, 0);
    assert_true(took >= 250);
    free(frame);
    assert_int_equal(f->srv->nparked, 0);
}

static void bad_frames_close(void **state) {
    fx *f = *state;
    uint8_t unknown_key[] = {0, 0, 0, 10, 0x03, 0xe8, 0, 0, 0, 0, 0, 1, 0xff, 0xff};
    send_all(f, unknown_key, sizeof(unknown_key));
    size_t len;
    assert_null(recv_frame(f, &len, 5000));
    close(f->fd);
    f->fd = connect_to(rill__server_port(f->srv, 0));
    uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff, 1, 2, 3};
    send_all(f, huge, sizeof(huge));
    assert_null(recv_frame(f, &len, 5000));
    assert_int_equal(f->srv->metrics.bad_frames, 2);
    close(f->fd);
    /* The server still serves. */
    f->fd = connect_to(rill__server_port(f->srv, 0));
    create_topic(f, "still-ok");
}

/* Metadata v12 (flexible, topic ids) for every topic; returns the id of `topic`. */
static void topic_id_of(fx *f, const char *topic, uint8_t id[16]) {
    rill_buf b;
    req_begin(f, &b, RILL_API_METADATA, 12);
    rill_metadata_req m = {NULL, -1, true, false, false};
    assert_int_equal(rill__metadata_req_encode(&b, 12, &m), 0);
    uint8_t *frame;
    rill_rd r = roundtrip(f, &b, &frame);
    rill__rd_tags(&r); /* response header v1 */
    rill_metadata_resp resp;
    assert_int_equal(rill__metadata_resp_decode(&r, 12, &resp, &f->arena), 0);
    int found = 0;
    for (int32_t i = 0; i < resp.ntopics; i++)
        if (rill__str_eq(resp.topics[i].name, topic)) {
            memcpy(id, resp.topics[i].topic_id, 16);
            found = 1;
        }
    assert_true(found);
    static const uint8_t zero[16];
    assert_memory_not_equal(id, zero, 16);
    free(frame);
}

static void fetch_by_topic_id(void **state) {
    fx *f = *state;
    create_topic(f, "by-id");
    uint8_t id[16];
    topic_id_of(f, "by-id", id);
    const char *v[] = {"one", "two"};
    rill_buf b = batch_of(v, 2, 0);
    assert_int_equal(produce(f, "by-id", &b, 1, NULL), 0);
    uint8_t *frame;
    rill_fetch_resp_partition p = fetch_v(f, 13, "", id, 0, 0, 0, &frame);
    assert_int_equal(p.error_code, 0);
    char vals[64];
    int64_t first;
    record_values(p.records, vals, sizeof(vals), &first);
    assert_string_equal(vals, "one@0,two@1");
    free(frame);
    id[0] ^= 0xff;
    p = fetch_v(f, 17, "", id, 0, 0, 0, &frame);
    assert_int_equal(p.error_code, RILL_ERR_UNKNOWN_TOPIC_ID);
    free(frame);
    rill__buf_free(&b);
}

/*
 * DeleteTopics while a fetch on the topic is parked and an acks=all produce to it is
 * waiting for its fsync: the produce is answered (the flush completes first), the parked
 * fetch is answered at its deadline with UNKNOWN_TOPIC_OR_PARTITION, nothing dangles.
 */
static void delete_topic_under_load(void **state) {
    fx *f = *state;
    create_topic(f, "doomed");
    int other = f->fd;
    f->fd = connect_to(rill__server_port(f->srv, 0));
    create_topic(f, "doomed");

    /* Connection A: a long poll at the end of the topic. */
    int a = other;
    int32_t fetch_corr;
    {
        int saved = f->fd;
        f->fd = a;
        rill_buf b;
        /* min_bytes more than will ever come: it waits for its deadline. */
        fetch_request(f, &b, 4, "doomed", NULL, 0, 600, 1 << 20);
        req_end(&b);
        fetch_corr = f->corr;
        send_all(f, b.data, b.len);
        rill__buf_free(&b);
        f->fd = saved;
    }
    for (int i = 0; i < 20; i++)
        rill__server_step(f->srv, 1);
    assert_int_equal(f->srv->nparked, 1);

    /* Connection B: an acks=all produce, then DeleteTopics right behind it. */
    const char *v[] = {"bye"};
    rill_buf batch = batch_of(v, 1, 0);
    int64_t base;
    assert_int_equal(produce(f, "doomed", &batch, -1, &base), 0);
    assert_int_equal(base, 0);
    rill_buf b;
    req_begin(f, &b, RILL_API_DELETE_TOPICS, 1);
    rill_delete_topics_req_topic dt;
    memset(&dt, 0, sizeof(dt));
    dt.name = rill__str("doomed");
    rill_delete_topics_req dm = {&dt, 1, 5000};
    assert_int_equal(rill__delete_topics_req_encode(&b, 1, &dm), 0);
    uint8_t *frame;
    rill_rd r = roundtrip(f, &b, &frame);
    rill_delete_topics_resp dres;
    assert_int_equal(rill__delete_topics_resp_decode(&r, 1, &dres, &f->arena), 0);
    assert_int_equal(dres.nresponses, 1);
    assert_int_equal(dres.responses[0].error_code, 0);
    free(frame);

    /* The long poll ends with the topic gone. */
    int saved = f->fd;
    f->fd = a;
    size_t len;
    frame = recv_frame(f, &len, 5000);
    assert_non_null(frame);
    r = body_of(frame, len, fetch_corr, false);
    rill_fetch_resp fres;
    rill__arena_reset(&f->arena);
    assert_int_equal(rill__fetch_resp_decode(&r, 4, &fres, &f->arena), 0);
    assert_int_equal(fres.topics[0].partitions[0].error_code, RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    free(frame);
    close(a);
    f->fd = saved;
    rill__buf_free(&batch);
}

static void histogram_buckets(void **state) {
    (void)state;
    rill_histogram h;
    memset(&h, 0, sizeof(h));
    rill__histogram_add(&h, 100);     /* 0.0001 s: the first bucket (le is inclusive) */
    rill__histogram_add(&h, 101);     /* just above: the second */
    rill__histogram_add(&h, 1000);    /* 0.001 */
    rill__histogram_add(&h, 9000000); /* above the last bound: +Inf */
    assert_int_equal(h.buckets[0], 1);
    assert_int_equal(h.buckets[1], 1);
    assert_int_equal(h.buckets[3], 1);
    assert_int_equal(h.buckets[RILL_METRICS_NBUCKETS], 1);
    assert_int_equal(h.count, 4);
    assert_true(h.sum_s > 9.0011 && h.sum_s < 9.0013);
}

static void metrics_text(void **state) {
    fx *f = *state;
    create_topic(f, "m");
    const char *v[] = {"hello"};
    rill_buf b = batch_of(v, 1, 0);
    assert_int_equal(produce(f, "m", &b, 1, NULL), 0);
    rill_buf out;
    rill__buf_init(&out, 0);
    rill__metrics_render(f->srv, &out);
    rill__buf_append(&out, "", 1);
    const char *t = (const char *)out.data;
    assert_non_null(strstr(t, "rill_requests_total{api=\"Produce\"} 1\n"));
    assert_non_null(strstr(t, "rill_requests_total{api=\"Metadata\"} 1\n"));
    assert_non_null(strstr(t, "rill_topic_messages_in_total{topic=\"m\"} 1\n"));
    char want[128];
    snprintf(want, sizeof(want), "rill_topic_bytes_in_total{topic=\"m\"} %zu\n", b.len);
    assert_non_null(strstr(t, want));
    snprintf(want, sizeof(want), "rill_log_size_bytes{topic=\"m\",partition=\"0\"} %zu\n", b.len);
    assert_non_null(strstr(t, want));
    assert_non_null(strstr(t, "rill_log_end_offset{topic=\"m\",partition=\"0\"} 1\n"));
    assert_non_null(strstr(t, "rill_connections 1\n"));
    assert_non_null(strstr(t, "rill_request_duration_seconds_count{api=\"Produce\"} 1\n"));
    assert_non_null(strstr(t, "# TYPE rill_fsync_duration_seconds histogram\n"));
    rill__buf_free(&out);
    rill__buf_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(api_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(api_versions_unknown_version, setup, teardown),
        cmocka_unit_test_setup_teardown(pipelined_in_order, setup, teardown),
        cmocka_unit_test_setup_teardown(produce_and_fetch, setup, teardown),
        cmocka_unit_test_setup_teardown(produce_every_version, setup, teardown),
        cmocka_unit_test_setup_teardown(find_coordinator_key_types, setup, teardown),
        cmocka_unit_test_setup_teardown(incremental_alter_configs, setup, teardown),
        cmocka_unit_test_setup_teardown(describe_configs_synonyms, setup, teardown),
        cmocka_unit_test_setup_teardown(create_topics_validate_only_configs, setup, teardown),
        cmocka_unit_test_setup_teardown(fetch_max_bytes_bounds_the_first_partition, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(bad_batches_not_stored, setup, teardown),
        cmocka_unit_test_setup_teardown(long_poll, setup, teardown),
        cmocka_unit_test_setup_teardown(bad_frames_close, setup, teardown),
        cmocka_unit_test_setup_teardown(fetch_by_topic_id, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_topic_under_load, setup, teardown),
        cmocka_unit_test(histogram_buckets),
        cmocka_unit_test_setup_teardown(metrics_text, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
