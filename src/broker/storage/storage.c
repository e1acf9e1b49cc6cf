/*
 * storage.c -- the data directory: lock, clean-shutdown marker, topics with their
 * partition logs, committed offsets, periodic maintenance (see storage.h).
 */
#include "broker/storage/storage.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/storage/fsutil.h"
#include "broker/storage/hmap.h"

#define CLEAN_MARKER "clean_shutdown"

typedef struct st_topic {
    rill_log **logs;
    int32_t n;
} st_topic;

struct rill_storage {
    rill_storage_config cfg;
    char *dir;
    char meta[4096], topics_dir[4096], trash[4096];
    int lock_fd;
    int was_clean;
    rill_topics *topics;
    rill_offsets *offsets;
    rill_hmap logs; /* topic name -> st_topic* */
    int64_t last_retention, last_checkpoint;
    int ticked;
    unsigned trash_seq;
};

void rill__storage_config_defaults(rill_storage_config *cfg) {
    memset(cfg, 0, sizeof(*cfg));
    rill__log_config_defaults(&cfg->log_defaults);
    cfg->retention_check_interval_ms = 300000;
    cfg->checkpoint_interval_ms = 60000;
    cfg->producer_id_expiration_ms = 86400000;
    cfg->flush_in_tick = 1;
}

static void set_msg(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_msg(char *err, size_t errlen, const char *fmt, ...) {
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

rill_topics *rill__storage_topics(rill_storage *st) { return st->topics; }
rill_offsets *rill__storage_offsets(rill_storage *st) { return st->offsets; }
const char *rill__storage_dir(const rill_storage *st) { return st->dir; }
int rill__storage_was_clean(const rill_storage *st) { return st->was_clean; }

void rill__storage_topic_log_config(const rill_storage *st, const rill_topic *tp,
                                    rill_log_config *out) {
    rill__topic_log_config(tp, &st->cfg.log_defaults, out);
    if (!out->logger)
        out->logger = st->cfg.logger;
}

static st_topic *st_find(const rill_storage *st, const char *name) {
    return name ? rill__hmap_get(&st->logs, name, strlen(name)) : NULL;
}

rill_log *rill__storage_log(rill_storage *st, const char *topic, int32_t partition) {
    st_topic *t = st_find(st, topic);
    return t && partition >= 0 && partition < t->n ? t->logs[partition] : NULL;
}

static void st_topic_abandon(st_topic *t) {
    if (!t)
        return;
    for (int32_t i = 0; i < t->n; i++)
        rill__log_abandon(t->logs[i]);
    free(t->logs);
    free(t);
}

/* Opens partitions [t->n, count) of topic tp. */
static rill_err_t open_partitions(rill_storage *st, const rill_topic *tp, st_topic *t,
                                  int32_t count, int flags) {
    rill_log **a = realloc(t->logs, (size_t)count * sizeof(*a));
    if (!a)
        return RILL_ERR_NO_MEMORY;
    t->logs = a;
    rill_log_config cfg;
    rill__storage_topic_log_config(st, tp, &cfg);
    while (t->n < count) {
        char dir[4096];
        if (rill__fs_path(dir, sizeof(dir), "%s/%s-%d", st->dir, tp->name, (int)t->n) != 0)
            return RILL_ERR_KAFKA_STORAGE_ERROR;
        rill_err_t err = rill__log_open(dir, &cfg, flags, &t->logs[t->n]);
        if (err)
            return err;
        rill__log_producers_mut(t->logs[t->n])->strict_unknown = st->cfg.strict_unknown_producer;
        t->n++;
    }
    return RILL_ERR_NO_ERROR;
}

/* Moves a directory entry of the data dir to the trash and removes it. */
static int trash_dir(rill_storage *st, const char *name) {
    char from[4096], to[4096];
    if (rill__fs_path(from, sizeof(from), "%s/%s", st->dir, name) != 0 ||
        rill__fs_path(to, sizeof(to), "%s/%u-%s", st->trash, st->trash_seq++, name) != 0)
        return -1;
    if (rename(from, to) != 0)
        return errno == ENOENT ? 0 : -1;
    return rill__fs_rmrf(to);
}

/* "<topic>-<n>" -> topic (in out) and n; -1 when the name is not of that form. */
static int32_t parse_partition_dir(const char *name, char *out, size_t cap) {
    const char *dash = strrchr(name, '-');
    if (!dash || dash == name || !dash[1] || (size_t)(dash - name) >= cap)
        return -1;
    int64_t n = 0;
    for (const char *p = dash + 1; *p; p++) {
        if (*p < '0' || *p > '9' || n > INT32_MAX / 10)
            return -1;
        n = n * 10 + (*p - '0');
    }
    memcpy(out, name, (size_t)(dash - name));
    out[dash - name] = '\0';
    return rill__topic_name_check(out, NULL, 0) == 0 ? (int32_t)n : -1;
}

/* Partition directories that no topic claims: leftovers of a deletion or a failed create. */
static void remove_strays(rill_storage *st) {
    DIR *d = opendir(st->dir);
    if (!d)
        return;
    struct dirent *e;
    char topic[RILL_TOPIC_NAME_MAX + 1];
    int removed = 0;
    while ((e = readdir(d))) {
        struct stat sb;
        int32_t p = parse_partition_dir(e->d_name, topic, sizeof(topic));
        if (p < 0 || fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
            !S_ISDIR(sb.st_mode))
            continue;
        const rill_topic *tp = rill__topics_find(st->topics, topic);
        if (tp && p < tp->partitions)
            continue;
        RILL_LOG(st->cfg.logger, RILL_LOG_WARNING, "storage",
                 "%s/%s: no such topic partition, removing the directory", st->dir, e->d_name);
        if (trash_dir(st, e->d_name) != 0)
            RILL_LOG(st->cfg.logger, RILL_LOG_ERR, "storage", "%s/%s: %s", st->dir, e->d_name,
                     strerror(errno));
        removed = 1;
    }
    closedir(d);
    if (removed)
        rill__fs_fsync_dir(st->dir);
}

/* Temporary files of an atomic write a crash interrupted. */
static void remove_tmp_files(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (rill__fs_is_tmp(e->d_name))
            unlinkat(dirfd(d), e->d_name, 0);
    if (d)
        closedir(d);
}

typedef struct purge_ctx {
    rill_storage *st;
    rill_hmap gone; /* topic name with its NUL -> ctx */
} purge_ctx;

static void purge_entry(void *opaque, const char *topic, int32_t partition,
                        const rill_offset_entry *e) {
    purge_ctx *c = opaque;
    (void)partition;
    (void)e;
    size_t k = strlen(topic) + 1;
    /* Out of memory: this topic's offsets stay until the next start. */
    if (!rill__topics_find(c->st->topics, topic) && !rill__hmap_get(&c->gone, topic, k))
        (void)rill__hmap_put(&c->gone, topic, k, c);
}

static void purge_group(void *opaque, const char *group) {
    purge_ctx *c = opaque;
    rill__offsets_foreach(c->st->offsets, group, purge_entry, c);
}

/*
 * Committed offsets of topics that do not exist: DeleteTopics removes the topic's metadata
 * first and its offsets last, so a crash in between leaves them, and a topic created again
 * under the name would resume from them.  Kafka drops a deleted topic's offsets; so do we,
 * here.  Returns 0, or -1 when the sync failed.
 */
static int purge_deleted_topics(rill_storage *st) {
    purge_ctx c = {.st = st};
    rill__hmap_init(&c.gone);
    rill__offsets_groups(st->offsets, purge_group, &c);
    rill_hmap_iter it;
    rill_hmap_node *n;
    rill__hmap_iter_init(&it, &c.gone);
    while ((n = rill__hmap_iter_next(&it))) {
        RILL_LOG(st->cfg.logger, RILL_LOG_WARNING, "storage",
                 "committed offsets of deleted topic %s: removed", (const char *)n->key);
        rill__offsets_delete_topic(st->offsets, (const char *)n->key);
    }
    int rc = c.gone.n && rill__offsets_sync(st->offsets) != 0 ? -1 : 0;
    rill__hmap_free(&c.gone, NULL);
    return rc;
}

static rill_err_t take_lock(rill_storage *st, char *err, size_t errlen) {
    char path[4096];
    if (rill__fs_path(path, sizeof(path), "%s/.lock", st->dir) != 0 ||
        (st->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0) {
        set_msg(err, errlen, "cannot open %s/.lock: %s", st->dir, strerror(errno));
        return RILL_ERR_KAFKA_STORAGE_ERROR;
    }
    if (flock(st->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) {
            set_msg(err, errlen, "cannot lock %s: %s", path, strerror(errno));
            return RILL_ERR_KAFKA_STORAGE_ERROR;
        }
        char pid[32] = {0};
        ssize_t n = pread(st->lock_fd, pid, sizeof(pid) - 1, 0);
        while (n > 0 && (pid[n - 1] == '\n' || pid[n - 1] == ' '))
            pid[--n] = '\0';
        set_msg(err, errlen, "data directory %s is in use by another rill-broker (pid %s)", st->dir,
                n > 0 ? pid : "unknown");
        return RILL_ERR_STATE;
    }
    char pid[32];
    int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
    if (ftruncate(st->lock_fd, 0) != 0 || pwrite(st->lock_fd, pid, (size_t)n, 0) != n) {
        set_msg(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return RILL_ERR_KAFKA_STORAGE_ERROR;
    }
    return RILL_ERR_NO_ERROR;
}

static void storage_free(rill_storage *st) {
    rill_hmap_iter it;
    rill_hmap_node *n;
    rill__hmap_iter_init(&it, &st->logs);
    while ((n = rill__hmap_iter_next(&it)))
        st_topic_abandon(n->val);
    rill__hmap_free(&st->logs, NULL);
    rill__topics_close(st->topics);
    if (st->offsets)
        rill__offsets_close(st->offsets);
    if (st->lock_fd >= 0)
        close(st->lock_fd); /* releases the flock */
    free(st->dir);
    free(st);
}

rill_err_t rill__storage_open(const rill_storage_config *cfg, rill_storage **out, char *err,
                              size_t errlen) {
    *out = NULL;
    set_msg(err, errlen, "%s", "");
    rill_storage *st = calloc(1, sizeof(*st));
    if (!st)
        return RILL_ERR_NO_MEMORY;
    st->cfg = *cfg;
    st->lock_fd = -1;
    rill__hmap_init(&st->logs);
    rill_err_t e = RILL_ERR_KAFKA_STORAGE_ERROR;
    char path[4096];
    if (!cfg->data_dir || !*cfg->data_dir) {
        set_msg(err, errlen, "no data directory given");
        e = RILL_ERR_INVALID_ARG;
        goto fail;
    }
    st->dir = strdup(cfg->data_dir);
    st->cfg.data_dir = st->dir;
    if (!st->dir || rill__fs_path(st->meta, sizeof(st->meta), "%s/.meta", st->dir) != 0 ||
        rill__fs_path(st->topics_dir, sizeof(st->topics_dir), "%s/topics", st->meta) != 0 ||
        rill__fs_path(st->trash, sizeof(st->trash), "%s/trash", st->meta) != 0) {
        set_msg(err, errlen, "data directory path too long");
        goto fail;
    }
    if (rill__fs_mkdirs(st->dir) != 0) {
        set_msg(err, errlen, "cannot create data directory %s: %s", st->dir, strerror(errno));
        goto fail;
    }
    if ((e = take_lock(st, err, errlen)) != 0)
        goto fail;
    e = RILL_ERR_KAFKA_STORAGE_ERROR;
    /* Only to word the log line: a data directory used before has its topics folder. */
    bool fresh = access(st->topics_dir, F_OK) != 0;
    if (rill__fs_mkdirs(st->topics_dir) != 0 || rill__fs_mkdirs(st->trash) != 0 ||
        rill__fs_path(path, sizeof(path), "%s/%s", st->meta, CLEAN_MARKER) != 0) {
        set_msg(err, errlen, "cannot create %s: %s", st->meta, strerror(errno));
        goto fail;
    }
    /* The marker is consumed: from now on, a crash must look unclean. */
    st->was_clean = access(path, F_OK) == 0;
    if (st->was_clean && (unlink(path) != 0 || rill__fs_fsync_dir(st->meta) != 0)) {
        set_msg(err, errlen, "cannot remove %s: %s", path, strerror(errno));
        goto fail;
    }
    RILL_LOG(cfg->logger, RILL_LOG_INFO, "storage", "opening %s (%s)", st->dir,
             fresh           ? "new data directory"
             : st->was_clean ? "previous shutdown clean"
                             : "previous shutdown unclean: recovering logs");
    rill__fs_rmrf(st->trash);
    remove_tmp_files(st->meta);
    if (rill__fs_mkdirs(st->trash) != 0 ||
        rill__topics_open(st->topics_dir, cfg->logger, &st->topics, err, errlen) != 0) {
        if (!err || !err[0])
            set_msg(err, errlen, "cannot read topics in %s", st->topics_dir);
        goto fail;
    }
    remove_strays(st);
    for (size_t i = 0; i < rill__topics_count(st->topics); i++) {
        const rill_topic *tp = rill__topics_at(st->topics, i);
        st_topic *t = calloc(1, sizeof(*t));
        if (!t || rill__hmap_put(&st->logs, tp->name, strlen(tp->name), t) != 0) {
            free(t);
            set_msg(err, errlen, "out of memory");
            goto fail;
        }
        if (open_partitions(st, tp, t, tp->partitions, st->was_clean ? RILL_LOG_OPEN_CLEAN : 0)) {
            set_msg(err, errlen, "cannot open the logs of topic %s (see the log)", tp->name);
            goto fail;
        }
    }
    if (rill__fs_path(path, sizeof(path), "%s/offsets.log", st->meta) != 0 ||
        rill__offsets_open(path, cfg->logger, &st->offsets) != 0) {
        set_msg(err, errlen, "cannot read committed offsets %s", path);
        goto fail;
    }
    if (purge_deleted_topics(st) != 0) {
        set_msg(err, errlen, "cannot sync committed offsets %s", path);
        goto fail;
    }
    *out = st;
    return RILL_ERR_NO_ERROR;
fail:
    storage_free(st);
    return e;
}

/* fn gets the slot so that it may close the log and clear it. */
typedef void(log_fn)(rill_storage *st, rill_log **slot, void *ctx);

static void for_each_log(rill_storage *st, log_fn *fn, void *ctx) {
    rill_hmap_iter it;
    rill_hmap_node *n;
    rill__hmap_iter_init(&it, &st->logs);
    while ((n = rill__hmap_iter_next(&it))) {
        st_topic *t = n->val;
        for (int32_t i = 0; i < t->n; i++)
            fn(st, &t->logs[i], ctx);
    }
}

static void close_one(rill_storage *st, rill_log **slot, void *ctx) {
    (void)st;
    *(int *)ctx &= rill__log_close(*slot) == RILL_ERR_NO_ERROR;
    *slot = NULL;
}

rill_err_t rill__storage_close(rill_storage *st) {
    if (!st)
        return RILL_ERR_NO_ERROR;
    int ok = 1;
    for_each_log(st, close_one, &ok);
    ok &= rill__offsets_close(st->offsets) == RILL_ERR_NO_ERROR;
    st->offsets = NULL;
    if (ok) {
        ok = rill__fs_write_atomic(st->meta, CLEAN_MARKER, "", 0, 1) == 0;
    }
    if (!ok)
        RILL_LOG(st->cfg.logger, RILL_LOG_ERR, "storage",
                 "%s: shutdown was not clean; the next start will recover the logs", st->dir);
    storage_free(st);
    return ok ? RILL_ERR_NO_ERROR : RILL_ERR_KAFKA_STORAGE_ERROR;
}

/* ---- topic administration ---------------------------------------------------------- */

static void remove_partition_dirs(rill_storage *st, const char *name, int32_t from, int32_t to) {
    for (int32_t p = from; p < to; p++) {
        char dname[RILL_TOPIC_NAME_MAX + 16];
        snprintf(dname, sizeof(dname), "%s-%d", name, (int)p);
        if (trash_dir(st, dname) != 0)
            RILL_LOG(st->cfg.logger, RILL_LOG_ERR, "storage", "%s/%s: cannot remove: %s", st->dir,
                     dname, strerror(errno));
    }
    rill__fs_fsync_dir(st->dir);
}

rill_err_t rill__storage_create_topic(rill_storage *st, const char *name, int32_t partitions,
                                      const rill_topic_kv *configs, size_t nconfigs, int64_t now_ms,
                                      int validate_only, char *err, size_t errlen) {
    rill_err_t e = rill__topics_create(st->topics, name, partitions, configs, nconfigs, now_ms,
                                       validate_only, err, errlen);
    if (e || validate_only)
        return e;
    const rill_topic *tp = rill__topics_find(st->topics, name);
    st_topic *t = calloc(1, sizeof(*t));
    if (t && rill__hmap_put(&st->logs, name, strlen(name), t) != 0) {
        free(t);
        t = NULL;
    }
    if (!t || (e = open_partitions(st, tp, t, partitions, 0)) != 0) {
        /* Undo: the metadata is the commit point, remove it and what was created. */
        if (t)
            rill__hmap_del(&st->logs, name, strlen(name));
        st_topic_abandon(t);
        rill__topics_delete(st->topics, name);
        remove_partition_dirs(st, name, 0, partitions);
        set_msg(err, errlen, "cannot create the partition logs (see the broker log)");
        return RILL_ERR_KAFKA_STORAGE_ERROR;
    }
    return RILL_ERR_NO_ERROR;
}

rill_err_t rill__storage_delete_topic(rill_storage *st, const char *name) {
    st_topic *t = st_find(st, name);
    if (!t)
        return RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    rill_err_t e = rill__topics_delete(st->topics, name);
    if (e)
        return e;
    int32_t n = t->n;
    rill__hmap_del(&st->logs, name, strlen(name));
    st_topic_abandon(t); /* no flush: the data is going away */
    remove_partition_dirs(st, name, 0, n);
    rill__offsets_delete_topic(st->offsets, name);
    return rill__offsets_sync(st->offsets);
}

rill_err_t rill__storage_add_partitions(rill_storage *st, const char *name, int32_t count,
                                        char *err, size_t errlen) {
    st_topic *t = st_find(st, name);
    if (!t) {
        set_msg(err, errlen, "unknown topic");
        return RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    rill_err_t e = rill__topics_set_partitions(st->topics, name, count, err, errlen);
    if (e)
        return e;
    if ((e = open_partitions(st, rill__topics_find(st->topics, name), t, count, 0)) != 0)
        set_msg(err, errlen, "cannot create the partition logs (see the broker log)");
    return e;
}

/* Pushes a topic's effective config to its open logs. */
static void refresh_config(rill_storage *st, const char *name) {
    st_topic *t = st_find(st, name);
    const rill_topic *tp = rill__topics_find(st->topics, name);
    if (!t || !tp)
        return;
    rill_log_config cfg;
    rill__storage_topic_log_config(st, tp, &cfg);
    for (int32_t i = 0; i < t->n; i++)
        rill__log_set_config(t->logs[i], &cfg);
}

rill_err_t rill__storage_set_topic_config(rill_storage *st, const char *name, const char *key,
                                          const char *value, char *err, size_t errlen) {
    rill_err_t e = rill__topics_set_config(st->topics, name, key, value, err, errlen);
    if (!e)
        refresh_config(st, name);
    return e;
}

rill_err_t rill__storage_replace_topic_configs(rill_storage *st, const char *name,
                                               const rill_topic_kv *configs, size_t nconfigs,
                                               char *err, size_t errlen) {
    rill_err_t e = rill__topics_replace_configs(st->topics, name, configs, nconfigs, err, errlen);
    if (!e)
        refresh_config(st, name);
    return e;
}

/* ---- maintenance ------------------------------------------------------------------- */

static void flush_one(rill_storage *st, rill_log **slot, void *ctx) {
    rill_err_t *first = ctx;
    int64_t flushed;
    rill_err_t e = rill__log_flush(*slot, &flushed);
    if (e && !*first)
        *first = e;
    (void)st;
}

rill_err_t rill__storage_flush_all(rill_storage *st) {
    rill_err_t first = RILL_ERR_NO_ERROR;
    for_each_log(st, flush_one, &first);
    rill_err_t e = rill__offsets_sync(st->offsets);
    return first ? first : e;
}

typedef struct tick_ctx {
    int64_t now;
    int checkpoint, retention;
} tick_ctx;

static void tick_one(rill_storage *st, rill_log **slot, void *ctx) {
    tick_ctx *c = ctx;
    rill_log *log = *slot;
    int64_t flushed;
    if (!st->cfg.flush_in_tick) {
        /* the owner's flusher does it */
    } else if (rill__log_flush_due(log, c->now, 0)) {
        rill__log_flush(log, &flushed);
    } else if (rill__log_flush_due(log, c->now, 1)) {
        rill_log_flush_job job;
        if (rill__log_flush_begin(log, 1, &job) == 0) {
            rill__log_flush_run(&job);
            rill__log_flush_end(log, &job, &flushed);
        }
    }
    if (c->retention)
        rill__log_retain(log, c->now);
    if (c->checkpoint) {
        rill__log_checkpoint(log, 0);
        rill__pstate_expire(rill__log_producers_mut(log), c->now,
                            st->cfg.producer_id_expiration_ms);
    }
}

void rill__storage_tick(rill_storage *st, int64_t now_ms) {
    if (!st->ticked) {
        /* The first periodic passes come one interval after start (as in Kafka). */
        st->ticked = 1;
        st->last_retention = st->last_checkpoint = now_ms;
    }
    tick_ctx c = {now_ms, 0, 0};
    if (now_ms - st->last_retention >= st->cfg.retention_check_interval_ms) {
        c.retention = 1;
        st->last_retention = now_ms;
    }
    if (now_ms - st->last_checkpoint >= st->cfg.checkpoint_interval_ms) {
        c.checkpoint = 1;
        st->last_checkpoint = now_ms;
    }
    for_each_log(st, tick_one, &c);
    /* A backstop for records no commit synced (deletes); never wait for the flusher's job. */
    if (c.checkpoint && !rill__offsets_busy(st->offsets)) {
        rill__offsets_sync(st->offsets);
        rill__offsets_compact(st->offsets, 0);
    }
}
