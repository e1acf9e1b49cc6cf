/*
 * test_storage_topics.c -- the data directory: topic registry persistence, name rules,
 * configs, partitions, deletion; the lock; clean and unclean restarts; the tick.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/storage/storage.h"
#include "broker/storage/topics.h"
#include "test_storage_util.h"

static void name_rules(void **state) {
    (void)state;
    char err[128];
    assert_int_equal(rill__topic_name_check("orders.v1_x-Y9", err, sizeof(err)), 0);
    char longest[250];
    memset(longest, 'a', 249);
    longest[249] = '\0';
    assert_int_equal(rill__topic_name_check(longest, err, sizeof(err)), 0);
    char toolong[251];
    memset(toolong, 'a', 250);
    toolong[250] = '\0';
    const char *bad[] = {"", ".", "..", "a b", "a/b", "é", "a:b", "a\n", toolong};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err[0] = '\0';
        assert_int_equal(rill__topic_name_check(bad[i], err, sizeof(err)),
                         RILL_ERR_INVALID_TOPIC_EXCEPTION);
        assert_true(strlen(err) > 0);
    }
    assert_int_equal(rill__topic_name_check("...", err, sizeof(err)), 0);
}

static void topic_file_round_trip(void **state) {
    (void)state;
    rill_topic tp = {0};
    tp.name = "t1";
    memset(tp.id, 0xab, 16);
    tp.partitions = 12;
    tp.created_ms = 1234567;
    rill_topic_kv kv[] = {{"retention.ms", "1000"}, {"segment.bytes", "65536"}};
    tp.configs = kv;
    tp.nconfigs = 2;
    rill_buf b;
    rill__buf_init(&b, 0);
    assert_int_equal(rill__topic_encode(&tp, &b), 0);
    rill_topic *back = rill__topic_decode(b.data, b.len);
    assert_non_null(back);
    assert_string_equal(back->name, "t1");
    assert_memory_equal(back->id, tp.id, 16);
    assert_int_equal(back->partitions, 12);
    assert_int_equal(back->created_ms, 1234567);
    assert_int_equal(back->nconfigs, 2);
    assert_string_equal(rill__topic_config(back, "segment.bytes"), "65536");
    rill__topic_free(back);
    for (size_t i = 0; i < b.len; i++) {
        b.data[i] ^= 1;
        assert_null(rill__topic_decode(b.data, b.len));
        b.data[i] ^= 1;
    }
    assert_null(rill__topic_decode(b.data, b.len - 1));
    rill__buf_free(&b);
}

typedef struct fx {
    char *dir;
    rill_storage_config cfg;
    rill_storage *st;
} fx;

static int setup(void **state) {
    fx *f = calloc(1, sizeof(*f));
    f->dir = tdir_new();
    assert_non_null(f->dir);
    rill__storage_config_defaults(&f->cfg);
    f->cfg.data_dir = f->dir;
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx *f = *state;
    rill__storage_close(f->st);
    tdir_rm(f->dir);
    free(f);
    return 0;
}

static void st_open(fx *f) {
    char err[256];
    assert_int_equal(rill__storage_open(&f->cfg, &f->st, err, sizeof(err)), 0);
}

static void st_reopen(fx *f) {
    assert_int_equal(rill__storage_close(f->st), 0);
    f->st = NULL;
    st_open(f);
}

static int dir_exists(fx *f, const char *name) {
    char p[600];
    snprintf(p, sizeof(p), "%s/%s", f->dir, name);
    struct stat sb;
    return stat(p, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int64_t produce(rill_log *log, int n) {
    tb_opts o = tb_defaults();
    rill_buf b;
    rill__buf_init(&b, 0);
    tb_batch(&b, n, &o);
    rill_log_append_info info;
    assert_int_equal(rill__log_append(log, b.data, b.len, 0, &info), 0);
    rill__buf_free(&b);
    return info.base_offset;
}

static void registry_persists(void **state) {
    fx *f = *state;
    st_open(f);
    char err[256];
    rill_topic_kv kv[] = {{"retention.ms", "5000"}, {"cleanup.policy", "delete"}};
    assert_int_equal(
        rill__storage_create_topic(f->st, "orders", 3, kv, 2, 111, 0, err, sizeof(err)), 0);
    assert_int_equal(rill__storage_create_topic(f->st, "a.b", 1, NULL, 0, 222, 0, err, sizeof(err)),
                     0);
    /* The longest legal name still fits the file system's name limit (255). */
    char longest[250];
    memset(longest, 'z', 249);
    longest[249] = '\0';
    assert_int_equal(rill__storage_create_topic(f->st, longest, 1, NULL, 0, 0, 0, err, sizeof(err)),
                     0);
    /* errors */
    assert_int_equal(
        rill__storage_create_topic(f->st, "orders", 3, NULL, 0, 0, 0, err, sizeof(err)),
        RILL_ERR_TOPIC_ALREADY_EXISTS);
    assert_int_equal(rill__storage_create_topic(f->st, "x", 0, NULL, 0, 0, 0, err, sizeof(err)),
                     RILL_ERR_INVALID_PARTITIONS);
    assert_int_equal(
        rill__storage_create_topic(f->st, "bad name", 1, NULL, 0, 0, 0, err, sizeof(err)),
        RILL_ERR_INVALID_TOPIC_EXCEPTION);
    rill_topic_kv badkv[] = {{"retention.ms", "soon"}};
    assert_int_equal(rill__storage_create_topic(f->st, "x", 1, badkv, 1, 0, 0, err, sizeof(err)),
                     RILL_ERR_INVALID_CONFIG);
    assert_non_null(strstr(err, "retention.ms"));
    rill_topic_kv unk[] = {{"log.retention.ms", "1"}};
    assert_int_equal(rill__storage_create_topic(f->st, "x", 1, unk, 1, 0, 0, err, sizeof(err)),
                     RILL_ERR_INVALID_CONFIG);
    assert_int_equal(rill__storage_create_topic(f->st, "v", 2, NULL, 0, 0, 1, err, sizeof(err)),
                     0); /* validate only */
    assert_null(rill__topics_find(rill__storage_topics(f->st), "v"));
    assert_false(dir_exists(f, "v-0"));
    assert_true(dir_exists(f, "orders-2"));

    const rill_topic *tp = rill__topics_find(rill__storage_topics(f->st), "orders");
    uint8_t id[16];
    memcpy(id, tp->id, 16);
    assert_int_equal(produce(rill__storage_log(f->st, "orders", 1), 4), 0);
    assert_int_equal(produce(rill__storage_log(f->st, "orders", 1), 2), 4);
    assert_null(rill__storage_log(f->st, "orders", 3));
    assert_null(rill__storage_log(f->st, "nope", 0));
    rill_log_config lc;
    rill__storage_topic_log_config(f->st, tp, &lc);
    assert_int_equal(lc.retention_ms, 5000);
    assert_int_equal(rill__log_config(rill__storage_log(f->st, "orders", 0))->retention_ms, 5000);

    st_reopen(f);
    assert_true(rill__storage_was_clean(f->st));
    rill_topics *t = rill__storage_topics(f->st);
    assert_int_equal(rill__topics_count(t), 3);
    assert_string_equal(rill__topics_at(t, 0)->name, "a.b");
    assert_int_equal(strlen(rill__topics_at(t, 2)->name), 249);
    tp = rill__topics_at(t, 1);
    assert_string_equal(tp->name, "orders");
    assert_memory_equal(tp->id, id, 16);
    assert_ptr_equal(rill__topics_find_id(t, id), tp);
    assert_int_equal(tp->partitions, 3);
    assert_int_equal(tp->created_ms, 111);
    assert_string_equal(rill__topic_config(tp, "retention.ms"), "5000");
    assert_int_equal(rill__log_end_offset(rill__storage_log(f->st, "orders", 1)), 6);

    /* configs: set, remove, replace; logs follow */
    assert_int_equal(
        rill__storage_set_topic_config(f->st, "orders", "retention.ms", "9000", err, sizeof(err)),
        0);
    assert_int_equal(rill__log_config(rill__storage_log(f->st, "orders", 2))->retention_ms, 9000);
    assert_int_equal(
        rill__storage_set_topic_config(f->st, "orders", "retention.ms", NULL, err, sizeof(err)), 0);
    assert_int_equal(rill__log_config(rill__storage_log(f->st, "orders", 2))->retention_ms,
                     7LL * 24 * 3600 * 1000);
    rill_topic_kv rep[] = {{"segment.bytes", "100000"}};
    assert_int_equal(rill__storage_replace_topic_configs(f->st, "orders", rep, 1, err, sizeof(err)),
                     0);
    tp = rill__topics_find(rill__storage_topics(f->st), "orders");
    assert_int_equal(tp->nconfigs, 1);
    assert_null(rill__topic_config(tp, "cleanup.policy"));

    /* partitions only grow */
    assert_int_equal(rill__storage_add_partitions(f->st, "orders", 3, err, sizeof(err)),
                     RILL_ERR_INVALID_PARTITIONS);
    assert_int_equal(rill__storage_add_partitions(f->st, "orders", 5, err, sizeof(err)), 0);
    assert_non_null(rill__storage_log(f->st, "orders", 4));
    assert_true(dir_exists(f, "orders-4"));
    st_reopen(f);
    tp = rill__topics_find(rill__storage_topics(f->st), "orders");
    assert_int_equal(tp->partitions, 5);
    assert_string_equal(rill__topic_config(tp, "segment.bytes"), "100000");
    assert_int_equal(rill__log_config(rill__storage_log(f->st, "orders", 4))->segment_bytes,
                     100000);
}

static void delete_topic(void **state) {
    fx *f = *state;
    st_open(f);
    char err[256];
    assert_int_equal(rill__storage_create_topic(f->st, "gone", 2, NULL, 0, 0, 0, err, sizeof(err)),
                     0);
    assert_int_equal(rill__storage_create_topic(f->st, "gone2", 1, NULL, 0, 0, 0, err, sizeof(err)),
                     0);
    produce(rill__storage_log(f->st, "gone", 0), 3);
    rill_offsets *o = rill__storage_offsets(f->st);
    assert_int_equal(rill__offsets_commit(o, "g", "gone", 0, 3, -1, NULL, 0), 0);
    assert_int_equal(rill__offsets_commit(o, "g", "gone2", 0, 1, -1, NULL, 0), 0);
    assert_int_equal(rill__storage_delete_topic(f->st, "gone"), 0);
    assert_int_equal(rill__storage_delete_topic(f->st, "gone"),
                     RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION);
    assert_false(dir_exists(f, "gone-0"));
    assert_false(dir_exists(f, "gone-1"));
    assert_true(dir_exists(f, "gone2-0"));
    assert_null(rill__storage_log(f->st, "gone", 0));
    assert_null(rill__offsets_get(o, "g", "gone", 0));
    assert_non_null(rill__offsets_get(o, "g", "gone2", 0));
    /* Recreated under the same name: a new, empty topic with a new id. */
    assert_int_equal(rill__storage_create_topic(f->st, "gone", 1, NULL, 0, 0, 0, err, sizeof(err)),
                     0);
    assert_int_equal(rill__log_end_offset(rill__storage_log(f->st, "gone", 0)), 0);
    st_reopen(f);
    assert_int_equal(rill__topics_count(rill__storage_topics(f->st)), 2);
    assert_null(rill__offsets_get(rill__storage_offsets(f->st), "g", "gone", 0));
}

/* Directories no topic claims (a deletion cut short by a crash) are removed at open. */
static void stray_directories(void **state) {
    fx *f = *state;
    st_open(f);
    char err[256];
    assert_int_equal(rill__storage_create_topic(f->st, "keep", 1, NULL, 0, 0, 0, err, sizeof(err)),
                     0);
    assert_int_equal(rill__storage_close(f->st), 0);
    f->st = NULL;
    char p[600];
    const char *strays[] = {"orphan-0", "keep-1"};
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof(p), "%s/%s", f->dir, strays[i]);
        assert_int_equal(mkdir(p, 0755), 0);
        snprintf(p, sizeof(p), "%s/%s/00000000000000000000.log", f->dir, strays[i]);
        close(open(p, O_CREAT | O_WRONLY, 0644));
    }
    snprintf(p, sizeof(p), "%s/not-a-partition", f->dir); /* not <topic>-<n>: left alone */
    assert_int_equal(mkdir(p, 0755), 0);
    st_open(f);
    assert_false(dir_exists(f, "orphan-0"));
    assert_false(dir_exists(f, "keep-1"));
    assert_true(dir_exists(f, "keep-0"));
    assert_true(dir_exists(f, "not-a-partition"));
}

/* Writes text into name (relative to the data dir), replacing it. */
static void put_file(fx *f, const char *name, const char *text) {
    char p[600];
    snprintf(p, sizeof(p), "%s/%s", f->dir, name);
    int fd = open(p, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static int file_exists(fx *f, const char *name) {
    char p[600];
    snprintf(p, sizeof(p), "%s/%s", f->dir, name);
    return access(p, F_OK) == 0;
}

/*
 * Topics whose names look like temporary files survive restarts (".tmpdata" once lost its
 * metadata file to the temp-file sweep, and then its partitions as strays); real leftovers
 * of an interrupted atomic write, old and new style, are still swept.
 */
static void tmp_like_topic_names(void **state) {
    fx *f = *state;
    st_open(f);
    char err[256];
    const char *names[] = {".tmpdata", ".tmp", ".tmpab", "x.tmp"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(
            rill__storage_create_topic(f->st, names[i], 1, NULL, 0, 0, 0, err, sizeof(err)), 0);
        assert_int_equal(produce(rill__storage_log(f->st, names[i], 0), 3), 0);
    }
    assert_int_equal(rill__storage_close(f->st), 0);
    f->st = NULL;
    put_file(f, ".meta/topics/~tmpAb12Cd", "junk");
    put_file(f, ".meta/topics/.tmpQw34Er", "junk");
    st_open(f);
    for (int i = 0; i < 4; i++) {
        rill_log *log = rill__storage_log(f->st, names[i], 0);
        assert_non_null(log);
        assert_int_equal(rill__log_end_offset(log), 3);
    }
    assert_false(file_exists(f, ".meta/topics/~tmpAb12Cd"));
    assert_false(file_exists(f, ".meta/topics/.tmpQw34Er"));
    assert_true(dir_exists(f, ".tmpdata-0"));
}

/*
 * A topic file that cannot be decoded stops the broker from starting, naming the file;
 * the topic's partitions are not touched (they used to be deleted as strays).
 */
static void unreadable_topic_file_refuses_to_start(void **state) {
    fx *f = *state;
    st_open(f);
    char err[512] = "";
    assert_int_equal(rill__storage_create_topic(f->st, "orders", 2, NULL, 0, 0, 0, err, 256), 0);
    assert_int_equal(produce(rill__storage_log(f->st, "orders", 1), 5), 0);
    assert_int_equal(rill__storage_close(f->st), 0);
    f->st = NULL;
    put_file(f, ".meta/topics/orders.topic", "definitely not a topic file");
    err[0] = '\0';
    assert_int_equal(rill__storage_open(&f->cfg, &f->st, err, sizeof(err)),
                     RILL_ERR_KAFKA_STORAGE_ERROR);
    assert_null(f->st);
    assert_non_null(strstr(err, "orders.topic"));
    assert_non_null(strstr(err, "unreadable topic metadata"));
    assert_true(dir_exists(f, "orders-0"));
    assert_true(dir_exists(f, "orders-1"));
    assert_true(file_exists(f, "orders-1/00000000000000000000.log"));
}

/*
 * A crash inside DeleteTopics after the topic's metadata went and before its committed
 * offsets did: the next start drops those offsets, so a topic created again under the name
 * does not resume from them.  Offsets of live topics stay.
 */
static void offsets_of_deleted_topics_purged(void **state) {
    fx *f = *state;
    st_open(f);
    char err[256];
    const char *names[] = {"ta", "tb"};
    rill_offsets *o = rill__storage_offsets(f->st);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(
            rill__storage_create_topic(f->st, names[i], 1, NULL, 0, 0, 0, err, sizeof(err)), 0);
        assert_int_equal(rill__offsets_commit(o, "g", names[i], 0, 500, -1, "", 1), 0);
    }
    assert_int_equal(rill__offsets_sync(o), 0);
    assert_int_equal(rill__storage_close(f->st), 0);
    f->st = NULL;
    char p[600];
    snprintf(p, sizeof(p), "%s/.meta/topics/ta.topic", f->dir); /* the crash point */
    assert_int_equal(unlink(p), 0);
    st_open(f);
    o = rill__storage_offsets(f->st);
    assert_null(rill__offsets_get(o, "g", "ta", 0));
    assert_non_null(rill__offsets_get(o, "g", "tb", 0));
    assert_int_equal(rill__offsets_get(o, "g", "tb", 0)->offset, 500);
    st_reopen(f); /* and it was durable */
    assert_null(rill__offsets_get(rill__storage_offsets(f->st), "g", "ta", 0));
}

/* Kafka's create-time refusals: '.' / '_' collisions, the reserved metadata topic. */
static void colliding_and_reserved_names(void **state) {
    fx *f = *state;
    st_open(f);
    char err[256] = "";
    assert_int_equal(rill__storage_create_topic(f->st, "col.lide", 1, NULL, 0, 0, 0, err, 256), 0);
    assert_int_equal(rill__storage_create_topic(f->st, "col_lide", 1, NULL, 0, 0, 0, err, 256),
                     RILL_ERR_INVALID_TOPIC_EXCEPTION);
    assert_string_equal(err, "Topic 'col_lide' collides with existing topic: col.lide");
    assert_int_equal(rill__storage_create_topic(f->st, "col_lide", 1, NULL, 0, 0, 1, err, 256),
                     RILL_ERR_INVALID_TOPIC_EXCEPTION); /* validate_only says so too */
    assert_int_equal(rill__storage_create_topic(f->st, "col.lide", 1, NULL, 0, 0, 0, err, 256),
                     RILL_ERR_TOPIC_ALREADY_EXISTS);
    assert_int_equal(rill__storage_create_topic(f->st, "col_lid", 1, NULL, 0, 0, 0, err, 256), 0);
    assert_int_equal(rill__storage_create_topic(f->st, "colxlide", 1, NULL, 0, 0, 0, err, 256), 0);
    assert_int_equal(
        rill__storage_create_topic(f->st, "__cluster_metadata", 1, NULL, 0, 0, 0, err, 256),
        RILL_ERR_INVALID_REQUEST);
    assert_null(rill__storage_log(f->st, "col_lide", 0));
}

static void lock_refuses_second_broker(void **state) {
    fx *f = *state;
    st_open(f);
    rill_storage *second = NULL;
    char err[256] = "";
    assert_int_equal(rill__storage_open(&f->cfg, &second, err, sizeof(err)), RILL_ERR_STATE);
    assert_null(second);
    assert_non_null(strstr(err, "in use by another rill-broker"));
    char pid[32];
    snprintf(pid, sizeof(pid), "pid %ld", (long)getpid());
    assert_non_null(strstr(err, pid));
    /* Released on close. */
    assert_int_equal(rill__storage_close(f->st), 0);
    f->st = NULL;
    st_open(f);
}

static void unclean_restart_recovers(void **state) {
    fx *f = *state;
    st_open(f);
    assert_false(rill__storage_was_clean(f->st)); /* a new directory has no marker */
    char err[256];
    assert_int_equal(rill__storage_create_topic(f->st, "t", 1, NULL, 0, 0, 0, err, sizeof(err)), 0);
    rill_log *log = rill__storage_log(f->st, "t", 0);
    produce(log, 3);
    produce(log, 3);
    assert_int_equal(rill__storage_flush_all(f->st), 0);
    assert_int_equal(rill__log_flushed_offset(log), 6);
    /* Crash: what a kill -9 leaves (the lock dies with the process: simulate by closing
     * the storage without the marker, then tearing the tail). */
    assert_int_equal(rill__storage_close(f->st), 0);
    f->st = NULL;
    char p[600];
    snprintf(p, sizeof(p), "%s/.meta/clean_shutdown", f->dir);
    assert_int_equal(unlink(p), 0);
    snprintf(p, sizeof(p), "%s/t-0/00000000000000000000.log", f->dir);
    int fd = open(p, O_WRONLY | O_APPEND);
    assert_int_equal(write(fd, "garbage!", 8), 8);
    close(fd);
    st_open(f);
    assert_false(rill__storage_was_clean(f->st));
    log = rill__storage_log(f->st, "t", 0);
    assert_int_equal(rill__log_end_offset(log), 6);
    assert_int_equal(produce(log, 1), 6);
}

static void tick_applies_policies(void **state) {
    fx *f = *state;
    f->cfg.retention_check_interval_ms = 1000;
    f->cfg.checkpoint_interval_ms = 1000;
    st_open(f);
    char err[256];
    tb_opts o = tb_defaults();
    char seg[32];
    snprintf(seg, sizeof(seg), "%lld", (long long)tb_size(1, &o));
    rill_topic_kv kv[] = {{"segment.bytes", seg}, {"retention.ms", "10000"}, {"flush.ms", "50"}};
    assert_int_equal(rill__storage_create_topic(f->st, "t", 1, kv, 3, 0, 0, err, sizeof(err)), 0);
    rill_log *log = rill__storage_log(f->st, "t", 0);
    int64_t now = 1000000;
    for (int i = 0; i < 3; i++) {
        rill_buf b;
        rill__buf_init(&b, 0);
        o.base_ts = now;
        tb_batch(&b, 1, &o);
        rill_log_append_info info;
        assert_int_equal(rill__log_append(log, b.data, b.len, now, &info), 0);
        rill__buf_free(&b);
    }
    assert_int_equal(rill__log_segment_count(log), 3);
    assert_int_equal(rill__log_flushed_offset(log), 0);
    rill__storage_tick(f->st, now + 10);                /* first tick: flush.ms not reached */
    assert_int_equal(rill__log_flushed_offset(log), 2); /* but rolled segments are synced */
    rill__storage_tick(f->st, now + 60);
    assert_int_equal(rill__log_flushed_offset(log), 3);
    rill__storage_tick(f->st, now + 5000); /* retention pass: nothing old enough */
    assert_int_equal(rill__log_segment_count(log), 3);
    rill__storage_tick(f->st, now + 20000);
    assert_int_equal(rill__log_start_offset(log), 3);
    assert_int_equal(rill__log_end_offset(log), 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(name_rules),
        cmocka_unit_test(topic_file_round_trip),
        cmocka_unit_test_setup_teardown(registry_persists, setup, teardown),
        cmocka_unit_test_setup_teardown(delete_topic, setup, teardown),
        cmocka_unit_test_setup_teardown(stray_directories, setup, teardown),
        cmocka_unit_test_setup_teardown(tmp_like_topic_names, setup, teardown),
        cmocka_unit_test_setup_teardown(unreadable_topic_file_refuses_to_start, setup, teardown),
        cmocka_unit_test_setup_teardown(offsets_of_deleted_topics_purged, setup, teardown),
        cmocka_unit_test_setup_teardown(colliding_and_reserved_names, setup, teardown),
        cmocka_unit_test_setup_teardown(lock_refuses_second_broker, setup, teardown),
        cmocka_unit_test_setup_teardown(unclean_restart_recovers, setup, teardown),
        cmocka_unit_test_setup_teardown(tick_applies_policies, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
