/*
 * topics.c -- topic registry persisted as one atomically replaced file per topic.
 *
 * File payload (metafile.h frame "RTP1"): name string | id 16 bytes | partitions i32 |
 * created_ms i64 | config count i32 | count x (key string, value string).
 */
#include "broker/storage/topics.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "broker/storage/fsutil.h"
#include "broker/storage/hmap.h"
#include "broker/storage/metafile.h"
#include "proto/reader.h"
#include "proto/writer.h"

#define TOPIC_FILE_MAX (1024 * 1024)

struct rill_topics {
    char *dir;
    const rill_logger *lg;
    rill_hmap by_name;
    rill_topic **sorted; /* by name */
    size_t n, cap;
};

rill_err_t rill__topic_name_check(const char *name, char *err, size_t errlen) {
    size_t n = name ? strlen(name) : 0;
    const char *why = NULL;
    if (n == 0)
        why = "topic name is empty";
    else if (n > RILL_TOPIC_NAME_MAX)
        why = "topic name is longer than 249 characters";
    else if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        why = "topic name cannot be \".\" or \"..\"";
    for (size_t i = 0; !why && i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            why = "topic name may contain only ASCII alphanumerics, '.', '_' and '-'";
    }
    if (!why)
        return RILL_ERR_NO_ERROR;
    if (err && errlen)
        snprintf(err, errlen, "%s", why);
    return RILL_ERR_INVALID_TOPIC_EXCEPTION;
}

void rill__topic_free(rill_topic *tp) {
    if (!tp)
        return;
    for (size_t i = 0; i < tp->nconfigs; i++) {
        free(tp->configs[i].key);
        free(tp->configs[i].value);
    }
    free(tp->configs);
    free(tp->name);
    free(tp);
}

static int cmp_kv(const void *a, const void *b) {
    return strcmp(((const rill_topic_kv *)a)->key, ((const rill_topic_kv *)b)->key);
}

/* Sets key=value in tp (value NULL removes); keeps configs sorted.  0 or -1 (memory). */
static int kv_set(rill_topic *tp, const char *key, const char *value) {
    for (size_t i = 0; i < tp->nconfigs; i++) {
        if (strcmp(tp->configs[i].key, key) != 0)
            continue;
        if (!value) {
            free(tp->configs[i].key);
            free(tp->configs[i].value);
            memmove(&tp->configs[i], &tp->configs[i + 1],
                    (tp->nconfigs - i - 1) * sizeof(*tp->configs));
            tp->nconfigs--;
            return 0;
        }
        char *v = strdup(value);
        if (!v)
            return -1;
        free(tp->configs[i].value);
        tp->configs[i].value = v;
        return 0;
    }
    if (!value)
        return 0;
    rill_topic_kv *a = realloc(tp->configs, (tp->nconfigs + 1) * sizeof(*a));
    if (!a)
        return -1;
    tp->configs = a;
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return -1;
    }
    a[tp->nconfigs].key = k;
    a[tp->nconfigs].value = v;
    tp->nconfigs++;
    qsort(tp->configs, tp->nconfigs, sizeof(*tp->configs), cmp_kv);
    return 0;
}

static rill_topic *topic_copy(const rill_topic *src) {
    rill_topic *tp = calloc(1, sizeof(*tp));
    if (!tp || !(tp->name = strdup(src->name))) {
        free(tp);
        return NULL;
    }
    memcpy(tp->id, src->id, sizeof(tp->id));
    tp->partitions = src->partitions;
    tp->created_ms = src->created_ms;
    for (size_t i = 0; i < src->nconfigs; i++)
        if (kv_set(tp, src->configs[i].key, src->configs[i].value) != 0) {
            rill__topic_free(tp);
            return NULL;
        }
    return tp;
}

int rill__topic_encode(const rill_topic *tp, rill_buf *out) {
    size_t start = rill__meta_begin(out, "RTP1");
    rill__wr_cstr(out, false, tp->name);
    rill__wr_raw(out, tp->id, sizeof(tp->id));
    rill__wr_i32(out, tp->partitions);
    rill__wr_i64(out, tp->created_ms);
    rill__wr_i32(out, (int32_t)tp->nconfigs);
    for (size_t i = 0; i < tp->nconfigs; i++) {
        rill__wr_cstr(out, false, tp->configs[i].key);
        rill__wr_cstr(out, false, tp->configs[i].value);
    }
    return rill__meta_end(out, start);
}

static char *str_dup(rill_str s) {
    if (s.len < 0)
        return NULL;
    char *p = malloc((size_t)s.len + 1);
    if (p) {
        memcpy(p, s.ptr, (size_t)s.len);
        p[s.len] = '\0';
    }
    return p;
}

rill_topic *rill__topic_decode(const uint8_t *data, size_t len) {
    rill_rd r;
    if (rill__meta_open(data, len, "RTP1", &r) != 0)
        return NULL;
    rill_topic *tp = calloc(1, sizeof(*tp));
    if (!tp)
        return NULL;
    rill_str name = rill__rd_str(&r, false);
    const uint8_t *id = rill__rd_take(&r, 16);
    tp->partitions = rill__rd_i32(&r);
    tp->created_ms = rill__rd_i64(&r);
    int32_t n = rill__rd_array(&r, false, 4);
    if (r.err || name.len < 0 || n < 0 || tp->partitions < 1 || !(tp->name = str_dup(name)) ||
        memchr(tp->name, '\0', (size_t)name.len) || rill__topic_name_check(tp->name, NULL, 0) != 0)
        goto bad;
    memcpy(tp->id, id, 16);
    for (int32_t i = 0; i < n; i++) {
        rill_str k = rill__rd_str(&r, false), v = rill__rd_str(&r, false);
        if (r.err || k.len <= 0 || v.len < 0)
            goto bad;
        char *ks = str_dup(k), *vs = str_dup(v);
        int rc = ks && vs && !memchr(ks, '\0', (size_t)k.len) && !memchr(vs, '\0', (size_t)v.len)
                     ? kv_set(tp, ks, vs)
                     : -1;
        free(ks);
        free(vs);
        if (rc != 0)
            goto bad;
    }
    if (rill__rd_remain(&r) != 0)
        goto bad;
    return tp;
bad:
    rill__topic_free(tp);
    return NULL;
}

/* ---- registry ------------------------------------------------------------------------ */

static int save(rill_topics *t, const rill_topic *tp) {
    rill_buf b;
    rill__buf_init(&b, 0);
    char name[RILL_TOPIC_NAME_MAX + 8];
    snprintf(name, sizeof(name), "%s.topic", tp->name);
    int rc = rill__topic_encode(tp, &b) == 0 &&
                     rill__fs_write_atomic(t->dir, name, b.data, b.len, 1) == 0
                 ? 0
                 : -1;
    rill__buf_free(&b);
    if (rc != 0)
        RILL_LOG(t->lg, RILL_LOG_ERR, "storage", "%s/%s: %s", t->dir, name, strerror(errno));
    return rc;
}

static size_t lower_bound(const rill_topics *t, const char *name) {
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(t->sorted[mid]->name, name) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Puts tp in the registry, replacing (and freeing) a topic of the same name. */
static int insert(rill_topics *t, rill_topic *tp) {
    size_t i = lower_bound(t, tp->name);
    if (i < t->n && strcmp(t->sorted[i]->name, tp->name) == 0) {
        if (rill__hmap_put(&t->by_name, tp->name, strlen(tp->name), tp) != 0)
            return -1;
        rill__topic_free(t->sorted[i]);
        t->sorted[i] = tp;
        return 0;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 16;
        rill_topic **a = realloc(t->sorted, cap * sizeof(*a));
        if (!a)
            return -1;
        t->sorted = a;
        t->cap = cap;
    }
    if (rill__hmap_put(&t->by_name, tp->name, strlen(tp->name), tp) != 0)
        return -1;
    memmove(&t->sorted[i + 1], &t->sorted[i], (t->n - i) * sizeof(*t->sorted));
    t->sorted[i] = tp;
    t->n++;
    return 0;
}

rill_err_t rill__topics_open(const char *meta_dir, const rill_logger *lg, rill_topics **out,
                             char *err, size_t errlen) {
    *out = NULL;
    rill_topics *t = calloc(1, sizeof(*t));
    if (!t || !(t->dir = strdup(meta_dir))) {
        free(t);
        return RILL_ERR_NO_MEMORY;
    }
    t->lg = lg;
    rill__hmap_init(&t->by_name);
    DIR *d = NULL;
    if (rill__fs_mkdirs(meta_dir) != 0 || !(d = opendir(meta_dir))) {
        RILL_LOG(lg, RILL_LOG_ERR, "storage", "%s: %s", meta_dir, strerror(errno));
        rill__topics_close(t);
        return RILL_ERR_KAFKA_STORAGE_ERROR;
    }
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        char path[4096];
        if (rill__fs_is_tmp(e->d_name)) {
            unlinkat(dirfd(d), e->d_name, 0);
            continue;
        }
        if (n <= 6 || strcmp(e->d_name + n - 6, ".topic") != 0 ||
            rill__fs_path(path, sizeof(path), "%s/%s", meta_dir, e->d_name) != 0)
            continue;
        uint8_t *data = NULL;
        size_t len = 0;
        rill_topic *tp = NULL;
        const char *why = "it does not decode";
        if (rill__fs_read_file(path, TOPIC_FILE_MAX, &data, &len) == 0)
            tp = rill__topic_decode(data, len);
        else
            why = strerror(errno);
        if (tp && (strlen(tp->name) != n - 6 || strncmp(tp->name, e->d_name, n - 6) != 0))
            why = "its topic name is not the file's";
        free(data);
        if (!tp || strlen(tp->name) != n - 6 || strncmp(tp->name, e->d_name, n - 6) != 0 ||
            rill__topics_find(t, tp->name)) {
            /* Never go on without it: its partitions would then be deleted as strays. */
            snprintf(err, errlen,
                     "%s: unreadable topic metadata (%s); restore the file, or move it away "
                     "together with the topic's partition directories to drop the topic",
                     path, why);
            RILL_LOG(lg, RILL_LOG_CRIT, "storage", "%s", err);
            rill__topic_free(tp);
            closedir(d);
            rill__topics_close(t);
            return RILL_ERR_KAFKA_STORAGE_ERROR;
        }
        if (insert(t, tp) != 0) {
            rill__topic_free(tp);
            closedir(d);
            rill__topics_close(t);
            return RILL_ERR_NO_MEMORY;
        }
    }
    closedir(d);
    *out = t;
    return RILL_ERR_NO_ERROR;
}

void rill__topics_close(rill_topics *t) {
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        rill__topic_free(t->sorted[i]);
    free(t->sorted);
    rill__hmap_free(&t->by_name, NULL);
    free(t->dir);
    free(t);
}

const rill_topic *rill__topics_find(const rill_topics *t, const char *name) {
    return name ? rill__hmap_get(&t->by_name, name, strlen(name)) : NULL;
}

const rill_topic *rill__topics_find_id(const rill_topics *t, const uint8_t id[16]) {
    for (size_t i = 0; i < t->n; i++)
        if (memcmp(t->sorted[i]->id, id, 16) == 0)
            return t->sorted[i];
    return NULL;
}

size_t rill__topics_count(const rill_topics *t) { return t->n; }

const rill_topic *rill__topics_at(const rill_topics *t, size_t i) {
    return i < t->n ? t->sorted[i] : NULL;
}

const char *rill__topic_config(const rill_topic *tp, const char *key) {
    for (size_t i = 0; i < tp->nconfigs; i++)
        if (strcmp(tp->configs[i].key, key) == 0)
            return tp->configs[i].value;
    return NULL;
}

void rill__topic_log_config(const rill_topic *tp, const rill_log_config *defaults,
                            rill_log_config *out) {
    *out = *defaults;
    for (size_t i = 0; i < tp->nconfigs; i++)
        rill__log_config_set(out, tp->configs[i].key, tp->configs[i].value, NULL, 0);
}

/* Topic-level keys only: broker-level names are not topic configs. */
static rill_err_t check_config(const char *key, const char *value, char *err, size_t errlen) {
    if (!key || !rill__topic_config_known(key)) {
        if (err && errlen)
            snprintf(err, errlen, "unknown topic config name: %s", key ? key : "(null)");
        return RILL_ERR_INVALID_CONFIG;
    }
    if (!value)
        return RILL_ERR_NO_ERROR;
    rill_log_config scratch;
    rill__log_config_defaults(&scratch);
    return rill__log_config_set(&scratch, key, value, err, errlen);
}

static int random_id(uint8_t id[16]) {
    for (int tries = 0; tries < 4; tries++) {
        if (getrandom(id, 16, 0) != 16)
            return -1;
        static const uint8_t zero[16];
        if (memcmp(id, zero, 16) != 0)
            return 0;
    }
    return -1;
}

static rill_err_t set_err(char *err, size_t errlen, rill_err_t code, const char *msg) {
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
    return code;
}

/* Persists a changed copy and swaps it in. */
static rill_err_t commit(rill_topics *t, rill_topic *tp, char *err, size_t errlen) {
    if (save(t, tp) != 0) {
        rill__topic_free(tp);
        return set_err(err, errlen, RILL_ERR_KAFKA_STORAGE_ERROR, "cannot write topic metadata");
    }
    if (insert(t, tp) != 0) {
        rill__topic_free(tp);
        return set_err(err, errlen, RILL_ERR_NO_MEMORY, "out of memory");
    }
    return RILL_ERR_NO_ERROR;
}

/* Same length and equal once every '.' is read as '_' (Kafka's Topic.unifyCollisionChars). */
static int collide(const char *a, const char *b) {
    for (; *a && *b; a++, b++) {
        char x = *a == '.' ? '_' : *a, y = *b == '.' ? '_' : *b;
        if (x != y)
            return 0;
    }
    return *a == *b;
}

rill_err_t rill__topics_create(rill_topics *t, const char *name, int32_t partitions,
                               const rill_topic_kv *configs, size_t nconfigs, int64_t now_ms,
                               int validate_only, char *err, size_t errlen) {
    rill_err_t e = rill__topic_name_check(name, err, errlen);
    if (e)
        return e;
    if (rill__topics_find(t, name))
        return set_err(err, errlen, RILL_ERR_TOPIC_ALREADY_EXISTS, "topic already exists");
    /* Kafka's reserved metadata topic. */
    if (strcmp(name, "__cluster_metadata") == 0)
        return set_err(err, errlen, RILL_ERR_INVALID_REQUEST,
                       "Creation of internal topic __cluster_metadata is prohibited.");
    /*
     * Kafka refuses names that differ from an existing one only in '.' versus '_': metric
     * names replace '.' with '_', so the two would report as one topic.
     */
    if (strchr(name, '.') || strchr(name, '_'))
        for (size_t i = 0; i < t->n; i++)
            if (collide(name, t->sorted[i]->name)) {
                if (err && errlen)
                    snprintf(err, errlen, "Topic '%s' collides with existing topic: %s", name,
                             t->sorted[i]->name);
                return RILL_ERR_INVALID_TOPIC_EXCEPTION;
            }
    if (partitions < 1)
        return set_err(err, errlen, RILL_ERR_INVALID_PARTITIONS,
                       "number of partitions must be larger than 0");
    for (size_t i = 0; i < nconfigs; i++)
        if ((e = check_config(configs[i].key, configs[i].value, err, errlen)) != 0)
            return e;
    if (validate_only)
        return RILL_ERR_NO_ERROR;
    rill_topic *tp = calloc(1, sizeof(*tp));
    if (!tp || !(tp->name = strdup(name)) || random_id(tp->id) != 0) {
        rill__topic_free(tp);
        return set_err(err, errlen, RILL_ERR_NO_MEMORY, "out of memory");
    }
    tp->partitions = partitions;
    tp->created_ms = now_ms;
    for (size_t i = 0; i < nconfigs; i++)
        if (configs[i].value && kv_set(tp, configs[i].key, configs[i].value) != 0) {
            rill__topic_free(tp);
            return set_err(err, errlen, RILL_ERR_NO_MEMORY, "out of memory");
        }
    return commit(t, tp, err, errlen);
}

rill_err_t rill__topics_delete(rill_topics *t, const char *name) {
    rill_topic *tp = name ? rill__hmap_get(&t->by_name, name, strlen(name)) : NULL;
    if (!tp)
        return RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION;
    char path[4096];
    if (rill__fs_path(path, sizeof(path), "%s/%s.topic", t->dir, name) != 0 ||
        (unlink(path) != 0 && errno != ENOENT) || rill__fs_fsync_dir(t->dir) != 0) {
        RILL_LOG(t->lg, RILL_LOG_ERR, "storage", "%s: %s", path, strerror(errno));
        return RILL_ERR_KAFKA_STORAGE_ERROR;
    }
    size_t i = lower_bound(t, name);
    memmove(&t->sorted[i], &t->sorted[i + 1], (t->n - i - 1) * sizeof(*t->sorted));
    t->n--;
    rill__hmap_del(&t->by_name, name, strlen(name));
    rill__topic_free(tp);
    return RILL_ERR_NO_ERROR;
}

/* A modifiable copy of an existing topic, or NULL with *e set. */
static rill_topic *copy_of(rill_topics *t, const char *name, rill_err_t *e, char *err,
                           size_t errlen) {
    const rill_topic *cur = rill__topics_find(t, name);
    if (!cur) {
        *e = set_err(err, errlen, RILL_ERR_UNKNOWN_TOPIC_OR_PARTITION, "unknown topic");
        return NULL;
    }
    rill_topic *tp = topic_copy(cur);
    if (!tp)
        *e = set_err(err, errlen, RILL_ERR_NO_MEMORY, "out of memory");
    return tp;
}

rill_err_t rill__topics_set_partitions(rill_topics *t, const char *name, int32_t count, char *err,
                                       size_t errlen) {
    const rill_topic *cur = rill__topics_find(t, name);
    if (cur && count <= cur->partitions) {
        char msg[128];
        snprintf(msg, sizeof(msg), "topic currently has %d partitions, %d would not be an increase",
                 (int)cur->partitions, (int)count);
        return set_err(err, errlen, RILL_ERR_INVALID_PARTITIONS, msg);
    }
    rill_err_t e = RILL_ERR_NO_ERROR;
    rill_topic *tp = copy_of(t, name, &e, err, errlen);
    if (!tp)
        return e;
    tp->partitions = count;
    return commit(t, tp, err, errlen);
}

rill_err_t rill__topics_set_config(rill_topics *t, const char *name, const char *key,
                                   const char *value, char *err, size_t errlen) {
    rill_err_t e = check_config(key, value, err, errlen);
    if (e)
        return e;
    rill_topic *tp = copy_of(t, name, &e, err, errlen);
    if (!tp)
        return e;
    if (kv_set(tp, key, value) != 0) {
        rill__topic_free(tp);
        return set_err(err, errlen, RILL_ERR_NO_MEMORY, "out of memory");
    }
    return commit(t, tp, err, errlen);
}

rill_err_t rill__topics_check_configs(const rill_topic_kv *configs, size_t nconfigs, char *err,
                                      size_t errlen) {
    rill_err_t e;
    for (size_t i = 0; i < nconfigs; i++)
        if ((e = check_config(configs[i].key, configs[i].value, err, errlen)) != 0)
            return e;
    return RILL_ERR_NO_ERROR;
}

rill_err_t rill__topics_replace_configs(rill_topics *t, const char *name,
                                        const rill_topic_kv *configs, size_t nconfigs, char *err,
                                        size_t errlen) {
    rill_err_t e;
    for (size_t i = 0; i < nconfigs; i++)
        if ((e = check_config(configs[i].key, configs[i].value, err, errlen)) != 0)
            return e;
    rill_topic *tp = copy_of(t, name, &e, err, errlen);
    if (!tp)
        return e;
    while (tp->nconfigs)
        kv_set(tp, tp->configs[0].key, NULL);
    for (size_t i = 0; i < nconfigs; i++)
        if (configs[i].value && kv_set(tp, configs[i].key, configs[i].value) != 0) {
            rill__topic_free(tp);
            return set_err(err, errlen, RILL_ERR_NO_MEMORY, "out of memory");
        }
    return commit(t, tp, err, errlen);
}
