/*
 * offsets.c -- committed offsets: hash tables in memory, an append-only record file on
 * disk, replay on open, compaction.
 *
 * Record: length u32 (of what follows) | CRC-32C u32 (of the body) | body, where body is
 *   type i8 = 1 commit:       group str | topic str | partition i32 | offset i64 |
 *                             leader_epoch i32 | metadata nullable str | commit_ts i64
 *   type i8 = 2 delete:       group str | topic str | partition i32
 *   type i8 = 3 delete group: group str
 *   type i8 = 4 delete topic: topic str
 * (strings are Kafka STRING: int16 length, -1 = null).
 */
#include "broker/storage/offsets.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/storage/fsutil.h"
#include "broker/storage/hmap.h"
#include "broker/storage/topics.h"
#include "common/crc32c.h"
#include "common/endian.h"
#include "proto/reader.h"
#include "proto/writer.h"

#define FILE_MAX ((size_t)1 << 30)
#define REC_MAX (1 << 20)

enum { REC_COMMIT = 1, REC_DELETE = 2, REC_DELETE_GROUP = 3, REC_DELETE_TOPIC = 4 };

typedef struct part {
    rill_offset_entry e;
    int32_t partition;
    char topic[]; /* NUL-terminated */
} part;

typedef struct grp {
    rill_hmap parts; /* topic '\0' partition(4 bytes BE) -> part* */
    char name[];
} grp;

struct rill_offsets {
    char *path;
    char *dir;
    int fd; /* -1 for a memory-only store */
    const rill_logger *lg;
    rill_hmap groups; /* name -> group* */
    size_t live;      /* committed offsets held */
    size_t records;   /* records in the file */
    int64_t file_size;
    rill_buf pending; /* records not yet written */
    int unsynced;

    /*
     * The background sync job (rill__offsets_sync_begin/run/end).  io_mu orders every
     * write to fd and guards inflight, file_size and the job_* fields: the job's thread and
     * a synchronous rill__offsets_sync on the owner's thread may both want the file.
     */
    pthread_mutex_t io_mu;
    rill_buf inflight; /* records handed to the job, written before any later ones */
    int job_active;    /* owner's thread: between begin and end */
    int job_covered;   /* a synchronous sync wrote and synced the job's records */
    rill_err_t job_err;
};

/* ---- in-memory table ----------------------------------------------------------------- */

static size_t part_key(uint8_t *key, size_t cap, const char *topic, int32_t partition) {
    size_t n = strlen(topic);
    if (n + 5 > cap)
        return 0;
    memcpy(key, topic, n + 1);
    rill__st32(key + n + 1, (uint32_t)partition);
    return n + 5;
}

static void part_free(void *p) {
    part *x = p;
    if (x)
        free(x->e.metadata);
    free(x);
}

static void group_free(void *p) {
    grp *g = p;
    if (g)
        rill__hmap_free(&g->parts, part_free);
    free(g);
}

static grp *group_get(const rill_offsets *o, const char *name) {
    return rill__hmap_get(&o->groups, name, strlen(name));
}

static int apply_commit(rill_offsets *o, const char *gname, const char *topic, int32_t partition,
                        const rill_offset_entry *e) {
    grp *g = group_get(o, gname);
    if (!g) {
        size_t n = strlen(gname);
        g = calloc(1, sizeof(*g) + n + 1);
        if (!g)
            return -1;
        memcpy(g->name, gname, n + 1);
        rill__hmap_init(&g->parts);
        if (rill__hmap_put(&o->groups, g->name, n, g) != 0) {
            free(g);
            return -1;
        }
    }
    uint8_t key[512];
    size_t klen = part_key(key, sizeof(key), topic, partition);
    size_t tn = strlen(topic);
    part *p = calloc(1, sizeof(*p) + tn + 1);
    char *meta = e->metadata ? strdup(e->metadata) : NULL;
    if (!klen || !p || (e->metadata && !meta)) {
        free(p);
        free(meta);
        return -1;
    }
    p->e = *e;
    p->e.metadata = meta;
    p->partition = partition;
    memcpy(p->topic, topic, tn + 1);
    part *old = rill__hmap_get(&g->parts, key, klen);
    if (rill__hmap_put(&g->parts, key, klen, p) != 0) {
        part_free(p);
        return -1;
    }
    if (old)
        part_free(old);
    else
        o->live++;
    return 0;
}

static void apply_delete(rill_offsets *o, const char *gname, const char *topic, int32_t partition) {
    grp *g = group_get(o, gname);
    uint8_t key[512];
    size_t klen = part_key(key, sizeof(key), topic, partition);
    if (!g || !klen)
        return;
    part *p = rill__hmap_del(&g->parts, key, klen);
    if (p) {
        part_free(p);
        o->live--;
    }
    if (g->parts.n == 0)
        group_free(rill__hmap_del(&o->groups, gname, strlen(gname)));
}

static void apply_delete_group(rill_offsets *o, const char *gname) {
    grp *g = rill__hmap_del(&o->groups, gname, strlen(gname));
    if (g)
        o->live -= g->parts.n;
    group_free(g);
}

static void apply_delete_topic(rill_offsets *o, const char *topic) {
    rill_hmap_iter gi;
    rill_hmap_node *gn;
    rill__hmap_iter_init(&gi, &o->groups);
    while ((gn = rill__hmap_iter_next(&gi))) {
        grp *g = gn->val;
        rill_hmap_iter pi;
        rill_hmap_node *pn;
        rill__hmap_iter_init(&pi, &g->parts);
        while ((pn = rill__hmap_iter_next(&pi))) {
            part *p = pn->val;
            if (strcmp(p->topic, topic) == 0) {
                part_free(rill__hmap_del(&g->parts, pn->key, pn->klen));
                o->live--;
            }
        }
        if (g->parts.n == 0)
            group_free(rill__hmap_del(&o->groups, g->name, strlen(g->name)));
    }
}

/* ---- records ------------------------------------------------------------------------- */

static size_t rec_begin(rill_buf *b, int8_t type) {
    size_t start = b->len;
    rill__wr_i32(b, 0);
    rill__wr_u32(b, 0);
    rill__wr_i8(b, type);
    return start;
}

static int rec_end(rill_buf *b, size_t start) {
    if (b->err)
        return -1;
    uint8_t *p = b->data + start;
    size_t body = b->len - start - 8;
    rill__st32(p, (uint32_t)(body + 4));
    rill__st32(p + 4, rill__crc32c(0, p + 8, body));
    return 0;
}

static void enc_commit(rill_buf *b, const char *group, const char *topic, int32_t partition,
                       const rill_offset_entry *e) {
    size_t s = rec_begin(b, REC_COMMIT);
    rill__wr_cstr(b, false, group);
    rill__wr_cstr(b, false, topic);
    rill__wr_i32(b, partition);
    rill__wr_i64(b, e->offset);
    rill__wr_i32(b, e->leader_epoch);
    rill__wr_cstr(b, false, e->metadata);
    rill__wr_i64(b, e->commit_ts);
    rec_end(b, s);
}

/* A string view as a C string in buf, rejecting nulls and embedded NULs. */
static const char *cstr(rill_str s, char *buf, size_t cap, int allow_null) {
    if (s.len < 0)
        return allow_null ? "" : NULL;
    if ((size_t)s.len >= cap || memchr(s.ptr, '\0', (size_t)s.len))
        return NULL;
    memcpy(buf, s.ptr, (size_t)s.len);
    buf[s.len] = '\0';
    return buf;
}

/* Applies one record body; 0 or -1 (malformed). */
static int apply_record(rill_offsets *o, const uint8_t *body, size_t len) {
    rill_rd r;
    rill__rd_init(&r, body, len);
    int8_t type = rill__rd_i8(&r);
    char g[32768], t[32768];
    static char m[RILL_OFFSETS_METADATA_MAX + 1];
    const char *gs = NULL, *ts = NULL;
    if (type != REC_DELETE_TOPIC)
        gs = cstr(rill__rd_str(&r, false), g, sizeof(g), 0);
    if (type != REC_DELETE_GROUP)
        ts = cstr(rill__rd_str(&r, false), t, sizeof(t), 0);
    if (r.err)
        return -1;
    switch (type) {
    case REC_COMMIT: {
        rill_offset_entry e;
        int32_t partition = rill__rd_i32(&r);
        e.offset = rill__rd_i64(&r);
        e.leader_epoch = rill__rd_i32(&r);
        rill_str ms = rill__rd_str(&r, false);
        const char *mc = cstr(ms, m, sizeof(m), 1);
        e.metadata = ms.len < 0 ? NULL : (char *)mc;
        e.commit_ts = rill__rd_i64(&r);
        if (r.err || !gs || !ts || !mc || partition < 0 || rill__rd_remain(&r))
            return -1;
        return apply_commit(o, gs, ts, partition, &e);
    }
    case REC_DELETE: {
        int32_t partition = rill__rd_i32(&r);
        if (r.err || !gs || !ts || partition < 0 || rill__rd_remain(&r))
            return -1;
        apply_delete(o, gs, ts, partition);
        return 0;
    }
    case REC_DELETE_GROUP:
        if (!gs || rill__rd_remain(&r))
            return -1;
        apply_delete_group(o, gs);
        return 0;
    case REC_DELETE_TOPIC:
        if (!ts || rill__rd_remain(&r))
            return -1;
        apply_delete_topic(o, ts);
        return 0;
    default:
        return -1;
    }
}

size_t rill__offsets_replay(rill_offsets *o, const uint8_t *data, size_t len) {
    size_t off = 0;
    while (len - off >= 8) {
        uint32_t n = rill__ld32(data + off);
        if (n < 5 || n > REC_MAX || n > len - off - 4)
            break;
        const uint8_t *body = data + off + 8;
        size_t blen = n - 4;
        if (rill__crc32c(0, body, blen) != rill__ld32(data + off + 4) ||
            apply_record(o, body, blen) != 0)
            break;
        off += 4 + n;
        o->records++;
    }
    return off;
}

/* ---- file ------------------------------------------------------------------------------ */

static rill_offsets *alloc_store(void) {
    rill_offsets *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    o->fd = -1;
    rill__hmap_init(&o->groups);
    rill__buf_init(&o->pending, 0);
    rill__buf_init(&o->inflight, 0);
    pthread_mutex_init(&o->io_mu, NULL);
    return o;
}

rill_offsets *rill__offsets_new_memory(void) { return alloc_store(); }

static void store_free(rill_offsets *o) {
    if (o->fd >= 0)
        close(o->fd);
    rill__hmap_free(&o->groups, group_free);
    rill__buf_free(&o->pending);
    rill__buf_free(&o->inflight);
    pthread_mutex_destroy(&o->io_mu);
    free(o->path);
    free(o->dir);
    free(o);
}

rill_err_t rill__offsets_open(const char *path, const rill_logger *lg, rill_offsets **out) {
    *out = NULL;
    rill_offsets *o = alloc_store();
    if (!o)
        return RILL_ERR_NO_MEMORY;
    o->lg = lg;
    o->path = strdup(path);
    o->dir = strdup(path);
    char *slash = o->dir ? strrchr(o->dir, '/') : NULL;
    if (!o->path || !o->dir) {
        store_free(o);
        return RILL_ERR_NO_MEMORY;
    }
    if (slash)
        *slash = '\0';
    else
        strcpy(o->dir, ".");
    uint8_t *data = NULL;
    size_t len = 0;
    o->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (o->fd < 0 || rill__fs_read_file(path, FILE_MAX, &data, &len) != 0) {
        RILL_LOG(lg, RILL_LOG_ERR, "storage", "%s: %s", path, strerror(errno));
        free(data);
        store_free(o);
        return RILL_ERR_KAFKA_STORAGE_ERROR;
    }
    size_t good = rill__offsets_replay(o, data, len);
    free(data);
    if (good < len) {
        RILL_LOG(lg, RILL_LOG_WARNING, "storage",
                 "%s: dropping %zu bytes of torn or invalid records after %zu good ones", path,
                 len - good, o->records);
        if (ftruncate(o->fd, (off_t)good) != 0 || fdatasync(o->fd) != 0) {
            store_free(o);
            return RILL_ERR_KAFKA_STORAGE_ERROR;
        }
    }
    o->file_size = (int64_t)good;
    if (lseek(o->fd, 0, SEEK_END) < 0) {
        store_free(o);
        return RILL_ERR_KAFKA_STORAGE_ERROR;
    }
    if (rill__fs_fsync_dir(o->dir) != 0) { /* the file itself may be new */
        store_free(o);
        return RILL_ERR_KAFKA_STORAGE_ERROR;
    }
    *out = o;
    return RILL_ERR_NO_ERROR;
}

rill_err_t rill__offsets_close(rill_offsets *o) {
    if (!o)
        return RILL_ERR_NO_ERROR;
    rill_err_t err = rill__offsets_sync(o);
    store_free(o);
    return err;
}

/* Queues the record just encoded in pending. */
static rill_err_t queued(rill_offsets *o) {
    if (o->pending.err) {
        rill__buf_reset(&o->pending);
        return RILL_ERR_KAFKA_STORAGE_ERROR;
    }
    o->records++;
    o->unsynced = 1;
    return RILL_ERR_NO_ERROR;
}

rill_err_t rill__offsets_commit(rill_offsets *o, const char *group, const char *topic,
                                int32_t partition, int64_t offset, int32_t leader_epoch,
                                const char *metadata, int64_t commit_ts) {
    if (!group || !*group || strlen(group) > 32767)
        return RILL_ERR_INVALID_GROUP_ID;
    if (!topic || !*topic || strlen(topic) > RILL_TOPIC_NAME_MAX || partition < 0)
        return RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    if (metadata && strlen(metadata) > RILL_OFFSETS_METADATA_MAX)
        return RILL_ERR_OFFSET_METADATA_TOO_LARGE;
    rill_offset_entry e = {offset, leader_epoch, (char *)metadata, commit_ts};
    size_t mark = o->pending.len;
    enc_commit(&o->pending, group, topic, partition, &e);
    if (o->pending.err || apply_commit(o, group, topic, partition, &e) != 0) {
        o->pending.len = mark;
        o->pending.err = 0;
        return RILL_ERR_KAFKA_STORAGE_ERROR;
    }
    return queued(o);
}

const rill_offset_entry *rill__offsets_get(const rill_offsets *o, const char *group,
                                           const char *topic, int32_t partition) {
    grp *g = group_get(o, group);
    uint8_t key[512];
    size_t klen = part_key(key, sizeof(key), topic, partition);
    part *p = g && klen ? rill__hmap_get(&g->parts, key, klen) : NULL;
    return p ? &p->e : NULL;
}

size_t rill__offsets_foreach(const rill_offsets *o, const char *group, rill_offsets_cb *cb,
                             void *opaque) {
    grp *g = group_get(o, group);
    if (!g)
        return 0;
    rill_hmap_iter it;
    rill_hmap_node *n;
    size_t count = 0;
    rill__hmap_iter_init(&it, &g->parts);
    while ((n = rill__hmap_iter_next(&it))) {
        part *p = n->val;
        cb(opaque, p->topic, p->partition, &p->e);
        count++;
    }
    return count;
}

int rill__offsets_has_group(const rill_offsets *o, const char *group) {
    return group_get(o, group) != NULL;
}

size_t rill__offsets_groups(const rill_offsets *o, void (*cb)(void *opaque, const char *group),
                            void *opaque) {
    rill_hmap_iter it;
    rill_hmap_node *n;
    size_t count = 0;
    rill__hmap_iter_init(&it, &o->groups);
    while ((n = rill__hmap_iter_next(&it))) {
        cb(opaque, ((grp *)n->val)->name);
        count++;
    }
    return count;
}

rill_err_t rill__offsets_delete(rill_offsets *o, const char *group, const char *topic,
                                int32_t partition) {
    if (!rill__offsets_get(o, group, topic, partition))
        return RILL_ERR_NO_ERROR;
    size_t s = rec_begin(&o->pending, REC_DELETE);
    rill__wr_cstr(&o->pending, false, group);
    rill__wr_cstr(&o->pending, false, topic);
    rill__wr_i32(&o->pending, partition);
    rec_end(&o->pending, s);
    apply_delete(o, group, topic, partition);
    return queued(o);
}

rill_err_t rill__offsets_delete_group(rill_offsets *o, const char *group) {
    if (!group_get(o, group))
        return RILL_ERR_GROUP_ID_NOT_FOUND;
    size_t s = rec_begin(&o->pending, REC_DELETE_GROUP);
    rill__wr_cstr(&o->pending, false, group);
    rec_end(&o->pending, s);
    apply_delete_group(o, group);
    return queued(o);
}

rill_err_t rill__offsets_delete_topic(rill_offsets *o, const char *topic) {
    size_t before = o->live;
    apply_delete_topic(o, topic);
    if (o->live == before)
        return RILL_ERR_NO_ERROR;
    size_t s = rec_begin(&o->pending, REC_DELETE_TOPIC);
    rill__wr_cstr(&o->pending, false, topic);
    rec_end(&o->pending, s);
    return queued(o);
}

int rill__offsets_dirty(const rill_offsets *o) { return o->unsynced; }

int64_t rill__offsets_file_size(const rill_offsets *o) {
    return o->file_size + (int64_t)o->pending.len;
}

/* Appends b to the file (io_mu held).  A failed write is cut off and b kept for a retry. */
static int append_locked(rill_offsets *o, rill_buf *b) {
    if (!b->len)
        return 0;
    if (rill__fs_write_all(o->fd, b->data, b->len) != 0) {
        RILL_LOG(o->lg, RILL_LOG_ERR, "storage", "%s: write: %s", o->path, strerror(errno));
        if (ftruncate(o->fd, (off_t)o->file_size) != 0 || lseek(o->fd, 0, SEEK_END) < 0)
            RILL_LOG(o->lg, RILL_LOG_ERR, "storage", "%s: %s", o->path, strerror(errno));
        return -1;
    }
    o->file_size += (int64_t)b->len;
    rill__buf_reset(b);
    return 0;
}

static int datasync_locked(rill_offsets *o) {
    if (fdatasync(o->fd) == 0)
        return 0;
    RILL_LOG(o->lg, RILL_LOG_ERR, "storage", "%s: fdatasync: %s", o->path, strerror(errno));
    return -1;
}

rill_err_t rill__offsets_sync(rill_offsets *o) {
    if (o->fd < 0)
        return RILL_ERR_NO_ERROR;
    pthread_mutex_lock(&o->io_mu);
    rill_err_t err = RILL_ERR_NO_ERROR;
    int job_left = o->job_active && o->inflight.len;
    if (o->unsynced || o->inflight.len) {
        /* The job's records are older than the pending ones: they go first. */
        if (append_locked(o, &o->inflight) != 0 || append_locked(o, &o->pending) != 0 ||
            datasync_locked(o) != 0) {
            err = RILL_ERR_KAFKA_STORAGE_ERROR;
        } else {
            o->unsynced = 0;
            if (job_left)
                o->job_covered = 1;
        }
    }
    pthread_mutex_unlock(&o->io_mu);
    return err;
}

int rill__offsets_busy(const rill_offsets *o) { return o->job_active; }

int rill__offsets_sync_begin(rill_offsets *o) {
    if (o->job_active || !o->unsynced || o->fd < 0)
        return 0;
    if (o->inflight.len)
        return -1; /* a failed job's records could not be re-queued (no memory) */
    pthread_mutex_lock(&o->io_mu);
    rill_buf t = o->inflight; /* empty: the last job ended */
    o->inflight = o->pending;
    o->pending = t;
    o->unsynced = 0;
    o->job_active = 1;
    o->job_covered = 0;
    o->job_err = RILL_ERR_NO_ERROR;
    pthread_mutex_unlock(&o->io_mu);
    return 1;
}

void rill__offsets_sync_run(rill_offsets *o) {
    pthread_mutex_lock(&o->io_mu);
    if (!o->job_covered && (append_locked(o, &o->inflight) != 0 || datasync_locked(o) != 0))
        o->job_err = RILL_ERR_KAFKA_STORAGE_ERROR;
    pthread_mutex_unlock(&o->io_mu);
}

rill_err_t rill__offsets_sync_end(rill_offsets *o) {
    if (!o->job_active)
        return RILL_ERR_NO_ERROR;
    pthread_mutex_lock(&o->io_mu);
    rill_err_t err = o->job_covered ? RILL_ERR_NO_ERROR : o->job_err;
    if (err) {
        /* Queued again, ahead of what came since: the next sync retries them in order. */
        if (o->inflight.len &&
            rill__buf_append(&o->inflight, o->pending.data, o->pending.len) == 0) {
            rill_buf t = o->pending;
            o->pending = o->inflight;
            o->inflight = t;
            rill__buf_reset(&o->inflight);
        }
        o->inflight.err = 0; /* else they stay in inflight, which any later sync writes first */
        o->unsynced = 1;
    } else {
        rill__buf_reset(&o->inflight);
    }
    o->job_active = 0;
    pthread_mutex_unlock(&o->io_mu);
    return err;
}

typedef struct enc_ctx {
    rill_buf *b;
    const char *group;
} enc_ctx;

static void enc_all(void *opaque, const char *topic, int32_t partition,
                    const rill_offset_entry *e) {
    enc_ctx *c = opaque;
    enc_commit(c->b, c->group, topic, partition, e);
}

rill_err_t rill__offsets_compact(rill_offsets *o, int force) {
    if (o->fd < 0 || o->job_active) /* the job owns the file until its end */
        return RILL_ERR_NO_ERROR;
    if (!force && o->records < 2 * o->live + 4096)
        return RILL_ERR_NO_ERROR;
    rill_buf b;
    rill__buf_init(&b, 0);
    rill_hmap_iter it;
    rill_hmap_node *n;
    rill__hmap_iter_init(&it, &o->groups);
    while ((n = rill__hmap_iter_next(&it))) {
        enc_ctx c = {&b, ((grp *)n->val)->name};
        rill__offsets_foreach(o, c.group, enc_all, &c);
    }
    const char *base = strrchr(o->path, '/');
    base = base ? base + 1 : o->path;
    int fd = -1;
    if (b.err || rill__fs_write_atomic(o->dir, base, b.data, b.len, 1) != 0 ||
        (fd = open(o->path, O_RDWR | O_APPEND | O_CLOEXEC)) < 0) {
        RILL_LOG(o->lg, RILL_LOG_ERR, "storage", "%s: compaction: %s", o->path, strerror(errno));
        rill__buf_free(&b);
        return RILL_ERR_KAFKA_STORAGE_ERROR;
    }
    /* The new file holds every live entry, including the pending ones. */
    close(o->fd);
    o->fd = fd;
    o->file_size = (int64_t)b.len;
    o->records = o->live;
    rill__buf_reset(&o->pending);
    o->unsynced = 0;
    rill__buf_free(&b);
    return RILL_ERR_NO_ERROR;
}
