/*
 * test_storage_offsets.c -- committed group offsets: commit/fetch, survival across
 * reopen, torn last record, deletes, compaction, and the sync split for a background thread.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "broker/storage/offsets.h"
#include "test_storage_util.h"

typedef struct fx {
    char *dir;
    char path[512];
    rill_offsets *o;
} fx;

static int setup(void **state) {
    fx *f = calloc(1, sizeof(*f));
    f->dir = tdir_new();
    assert_non_null(f->dir);
    snprintf(f->path, sizeof(f->path), "%s/offsets.log", f->dir);
    assert_int_equal(rill__offsets_open(f->path, NULL, &f->o), 0);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fx *f = *state;
    rill__offsets_close(f->o);
    tdir_rm(f->dir);
    free(f);
    return 0;
}

static void reopen(fx *f) {
    assert_int_equal(rill__offsets_close(f->o), 0);
    f->o = NULL;
    assert_int_equal(rill__offsets_open(f->path, NULL, &f->o), 0);
}

static void count_cb(void *opaque, const char *topic, int32_t partition,
                     const rill_offset_entry *e) {
    int64_t *sum = opaque;
    *sum += e->offset + partition + (int64_t)strlen(topic);
}

static void group_cb(void *opaque, const char *group) {
    (void)group;
    (*(int *)opaque)++;
}

static void commit_fetch_reopen(void **state) {
    fx *f = *state;
    rill_offsets *o = f->o;
    assert_int_equal(rill__offsets_commit(o, "g1", "t", 0, 10, 3, "meta", 1000), 0);
    assert_int_equal(rill__offsets_commit(o, "g1", "t", 1, 20, -1, NULL, 1001), 0);
    assert_int_equal(rill__offsets_commit(o, "g1", "u", 0, 30, -1, "", 1002), 0);
    assert_int_equal(rill__offsets_commit(o, "g2", "t", 0, 40, -1, NULL, 1003), 0);
    assert_int_equal(rill__offsets_commit(o, "g1", "t", 0, 11, 4, "meta2", 1004), 0); /* update */
    assert_true(rill__offsets_dirty(o));
    assert_int_equal(rill__offsets_sync(o), 0);
    assert_false(rill__offsets_dirty(o));
    /* errors */
    assert_int_equal(rill__offsets_commit(o, "", "t", 0, 1, -1, NULL, 0),
                     RILL_ERR_INVALID_GROUP_ID);
    char big[RILL_OFFSETS_METADATA_MAX + 2];
    memset(big, 'm', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(rill__offsets_commit(o, "g1", "t", 0, 1, -1, big, 0),
                     RILL_ERR_OFFSET_METADATA_TOO_LARGE);

    for (int pass = 0; pass < 2; pass++) {
        o = f->o;
        const rill_offset_entry *e = rill__offsets_get(o, "g1", "t", 0);
        assert_non_null(e);
        assert_int_equal(e->offset, 11);
        assert_int_equal(e->leader_epoch, 4);
        assert_string_equal(e->metadata, "meta2");
        assert_int_equal(e->commit_ts, 1004);
        e = rill__offsets_get(o, "g1", "t", 1);
        assert_null(e->metadata);
        e = rill__offsets_get(o, "g1", "u", 0);
        assert_string_equal(e->metadata, "");
        assert_null(rill__offsets_get(o, "g1", "t", 2));
        assert_null(rill__offsets_get(o, "g3", "t", 0));
        int64_t sum = 0;
        assert_int_equal(rill__offsets_foreach(o, "g1", count_cb, &sum), 3);
        assert_int_equal(sum, (11 + 0 + 1) + (20 + 1 + 1) + (30 + 0 + 1));
        int groups = 0;
        assert_int_equal(rill__offsets_groups(o, group_cb, &groups), 2);
        assert_int_equal(groups, 2);
        assert_true(rill__offsets_has_group(o, "g2"));
        reopen(f);
    }
}

static void torn_tail(void **state) {
    fx *f = *state;
    for (int i = 0; i < 10; i++)
        assert_int_equal(rill__offsets_commit(f->o, "g", "t", i, i * 100, -1, "x", i), 0);
    assert_int_equal(rill__offsets_sync(f->o), 0);
    int64_t size = rill__offsets_file_size(f->o);
    assert_int_equal(rill__offsets_close(f->o), 0);
    f->o = NULL;
    /* Cut the last record in half, then add junk. */
    assert_int_equal(truncate(f->path, size - 9), 0);
    int fd = open(f->path, O_WRONLY | O_APPEND);
    assert_int_equal(write(fd, "\0\0\0\x20junkjunk", 12), 12);
    close(fd);
    assert_int_equal(rill__offsets_open(f->path, NULL, &f->o), 0);
    assert_null(rill__offsets_get(f->o, "g", "t", 9));
    assert_int_equal(rill__offsets_get(f->o, "g", "t", 8)->offset, 800);
    assert_true(rill__offsets_file_size(f->o) < size);
    assert_int_equal(tfile_size(f->path), rill__offsets_file_size(f->o));
    /* Appending after the cut works and survives. */
    assert_int_equal(rill__offsets_commit(f->o, "g", "t", 9, 901, -1, NULL, 0), 0);
    reopen(f);
    assert_int_equal(rill__offsets_get(f->o, "g", "t", 9)->offset, 901);
}

static void deletes(void **state) {
    fx *f = *state;
    rill_offsets *o = f->o;
    assert_int_equal(rill__offsets_commit(o, "a", "t", 0, 1, -1, NULL, 0), 0);
    assert_int_equal(rill__offsets_commit(o, "a", "u", 0, 2, -1, NULL, 0), 0);
    assert_int_equal(rill__offsets_commit(o, "b", "t", 0, 3, -1, NULL, 0), 0);
    assert_int_equal(rill__offsets_commit(o, "c", "u", 5, 4, -1, NULL, 0), 0);
    assert_int_equal(rill__offsets_delete(o, "a", "u", 0), 0);
    assert_int_equal(rill__offsets_delete(o, "a", "u", 7), 0); /* absent: fine */
    assert_int_equal(rill__offsets_delete_group(o, "b"), 0);
    assert_int_equal(rill__offsets_delete_group(o, "b"), RILL_ERR_GROUP_ID_NOT_FOUND);
    assert_int_equal(rill__offsets_delete_topic(o, "u"), 0);
    assert_false(rill__offsets_has_group(o, "c")); /* its only offset was on u */
    reopen(f);
    o = f->o;
    assert_non_null(rill__offsets_get(o, "a", "t", 0));
    assert_null(rill__offsets_get(o, "a", "u", 0));
    assert_false(rill__offsets_has_group(o, "b"));
    assert_false(rill__offsets_has_group(o, "c"));
    int groups = 0;
    assert_int_equal(rill__offsets_groups(o, group_cb, &groups), 1);
}

static void compaction(void **state) {
    fx *f = *state;
    for (int round = 0; round < 2000; round++)
        for (int p = 0; p < 4; p++)
            assert_int_equal(rill__offsets_commit(f->o, "g", "t", p, round, -1, "m", round), 0);
    assert_int_equal(rill__offsets_sync(f->o), 0);
    int64_t before = rill__offsets_file_size(f->o);
    assert_int_equal(rill__offsets_compact(f->o, 0), 0);
    int64_t after = rill__offsets_file_size(f->o);
    assert_true(after * 1000 < before);
    assert_int_equal(tfile_size(f->path), after);
    /* Not due again right away. */
    assert_int_equal(rill__offsets_compact(f->o, 0), 0);
    assert_int_equal(rill__offsets_file_size(f->o), after);
    assert_int_equal(rill__offsets_commit(f->o, "g", "t", 0, 5000, -1, NULL, 0), 0);
    reopen(f);
    assert_int_equal(rill__offsets_get(f->o, "g", "t", 0)->offset, 5000);
    assert_int_equal(rill__offsets_get(f->o, "g", "t", 3)->offset, 1999);
    assert_string_equal(rill__offsets_get(f->o, "g", "t", 3)->metadata, "m");
}

static void *run_job(void *o) {
    rill__offsets_sync_run(o);
    return NULL;
}

static int64_t committed(rill_offsets *o, const char *group, int32_t partition) {
    const rill_offset_entry *e = rill__offsets_get(o, group, "t", partition);
    return e ? e->offset : -1;
}

/*
 * The flusher's way: begin hands the queued records to a job run on another thread; what
 * is committed meanwhile waits for the next sync and lands after them, so the newer
 * offset wins on replay.  Compaction keeps off the file while the job is out.
 */
static void background_job(void **state) {
    fx *f = *state;
    assert_int_equal(rill__offsets_sync_begin(f->o), 0); /* nothing queued */
    assert_int_equal(rill__offsets_commit(f->o, "g", "t", 0, 10, -1, NULL, 1), 0);
    long long empty = tfile_size(f->path);
    assert_int_equal(rill__offsets_sync_begin(f->o), 1);
    assert_true(rill__offsets_busy(f->o));
    assert_false(rill__offsets_dirty(f->o));             /* the job has the records */
    assert_int_equal(rill__offsets_sync_begin(f->o), 0); /* one job at a time */
    assert_int_equal(rill__offsets_commit(f->o, "g", "t", 0, 20, -1, NULL, 2), 0);
    assert_true(rill__offsets_dirty(f->o));
    assert_int_equal(rill__offsets_compact(f->o, 1), 0); /* skipped: the job owns the file */
    assert_int_equal(tfile_size(f->path), empty);

    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, run_job, f->o), 0);
    pthread_join(th, NULL);
    long long one = tfile_size(f->path);
    assert_true(one > empty); /* the first record only */
    assert_int_equal(rill__offsets_sync_end(f->o), 0);
    assert_false(rill__offsets_busy(f->o));
    assert_true(rill__offsets_dirty(f->o)); /* the second is still queued */

    assert_int_equal(rill__offsets_sync_begin(f->o), 1);
    run_job(f->o);
    assert_int_equal(rill__offsets_sync_end(f->o), 0);
    assert_int_equal(tfile_size(f->path), empty + 2 * (one - empty));
    assert_int_equal(rill__offsets_file_size(f->o), tfile_size(f->path));
    reopen(f);
    assert_int_equal(committed(f->o, "g", 0), 20);
}

/* Commits 10 to g/t/partition, hands it to a job, commits 20; returns the empty file's size. */
static long long job_and_newer(fx *f, int32_t partition) {
    long long empty = tfile_size(f->path);
    assert_int_equal(rill__offsets_commit(f->o, "g", "t", partition, 10, -1, NULL, 1), 0);
    assert_int_equal(rill__offsets_sync_begin(f->o), 1);
    assert_int_equal(rill__offsets_commit(f->o, "g", "t", partition, 20, -1, NULL, 2), 0);
    return empty;
}

/*
 * A synchronous sync (DeleteGroups, shutdown) while a job is out and not yet run: it writes
 * the job's older records before the newer ones, and the job then has nothing to write.
 */
static void sync_while_job_out(void **state) {
    fx *f = *state;
    long long empty = job_and_newer(f, 1);
    assert_int_equal(rill__offsets_sync(f->o), 0);
    long long both = tfile_size(f->path);
    run_job(f->o);
    assert_int_equal(rill__offsets_sync_end(f->o), 0);
    assert_int_equal(tfile_size(f->path), both); /* not written twice */
    assert_false(rill__offsets_dirty(f->o));
    assert_true(both > empty);
    reopen(f);
    assert_int_equal(committed(f->o, "g", 1), 20);
}

/*
 * A job whose write fails (the file may not grow: RLIMIT_FSIZE, a real EFBIG): its records
 * go back to the queue ahead of the newer ones, the torn write is cut off, and the next
 * sync writes them all, oldest first.
 */
static void failed_job_requeues(void **state) {
    fx *f = *state;
    long long empty = job_and_newer(f, 2);

    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)empty;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    run_job(f->o);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);

    assert_int_equal(rill__offsets_sync_end(f->o), RILL_ERR_KAFKA_STORAGE_ERROR);
    assert_true(rill__offsets_dirty(f->o));
    assert_int_equal(tfile_size(f->path), empty);
    assert_int_equal(rill__offsets_sync_begin(f->o), 1);
    run_job(f->o);
    assert_int_equal(rill__offsets_sync_end(f->o), 0);
    assert_true(tfile_size(f->path) > empty);
    reopen(f);
    assert_int_equal(committed(f->o, "g", 2), 20);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(commit_fetch_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(torn_tail, setup, teardown),
        cmocka_unit_test_setup_teardown(deletes, setup, teardown),
        cmocka_unit_test_setup_teardown(compaction, setup, teardown),
        cmocka_unit_test_setup_teardown(background_job, setup, teardown),
        cmocka_unit_test_setup_teardown(sync_while_job_out, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_job_requeues, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
