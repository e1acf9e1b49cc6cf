/*
 * handlers.h -- the request handlers of rill-broker, one per API (dispatch.c's table).
 *
 * Each takes the request context of server_int.h, decodes the body with the API's codec
 * from src/proto (the only codec: nothing here parses Kafka messages by hand), does the
 * work against storage, and ends the request as server_int.h describes.  A return of -1
 * means the body was malformed: the connection is closed, as Kafka does.
 */
#ifndef RILL_BROKER_HANDLERS_H
#define RILL_BROKER_HANDLERS_H

#include <string.h>

#include "broker/server/server_int.h"
#include "proto/fields.h"

/* Strings for responses and for storage, copied into the request arena (NULL: no memory). */
static inline char *rill__arena_strdup(rill_arena *a, const char *s) {
    size_t n = strlen(s) + 1;
    char *p = rill__arena_alloc(a, n);
    if (p)
        memcpy(p, s, n);
    return p;
}
/* A NUL-terminated copy of a view; NULL for a null view (or no memory). */
static inline char *rill__arena_cstr(rill_arena *a, rill_str s) {
    if (s.len < 0)
        return NULL;
    char *p = rill__arena_alloc(a, (size_t)s.len + 1);
    if (p) {
        if (s.len)
            memcpy(p, s.ptr, (size_t)s.len);
        p[s.len] = '\0';
    }
    return p;
}
/* An error message for a response; a null string when out of memory. */
static inline rill_str rill__arena_msg(rill_arena *a, const char *msg) {
    char *p = rill__arena_strdup(a, msg);
    return p ? rill__str(p) : rill__str_null();
}

int rill__h_api_versions(rill_req *q);      /* dispatch.c */
int rill__h_metadata(rill_req *q);          /* h_metadata.c */
int rill__h_produce(rill_req *q);           /* h_produce.c */
int rill__h_fetch(rill_req *q);             /* fetch.c */
int rill__h_list_offsets(rill_req *q);      /* h_list_offsets.c */
int rill__h_create_topics(rill_req *q);     /* h_topics.c */
int rill__h_delete_topics(rill_req *q);     /* h_topics.c */
int rill__h_create_partitions(rill_req *q); /* h_topics.c */
int rill__h_describe_configs(rill_req *q);  /* h_configs.c */
int rill__h_alter_configs(rill_req *q);     /* h_alter_configs.c */
int rill__h_incremental_alter_configs(rill_req *q);
int rill__h_init_producer_id(rill_req *q); /* h_misc.c */
int rill__h_find_coordinator(rill_req *q); /* h_misc.c */
int rill__h_join_group(rill_req *q);       /* h_group.c */
int rill__h_sync_group(rill_req *q);
int rill__h_heartbeat(rill_req *q);
int rill__h_leave_group(rill_req *q);
int rill__h_offset_commit(rill_req *q);
int rill__h_offset_fetch(rill_req *q);
int rill__h_list_groups(rill_req *q);
int rill__h_describe_groups(rill_req *q);
int rill__h_delete_groups(rill_req *q);

/* Decodes the body with the API's codec; false when malformed or not used up exactly. */
#define RILL_REQ_DECODE(q, api, req)                                                               \
    (rill__##api##_req_decode(&(q)->r, (q)->h.api_version, (req), &(q)->srv->arena) == 0 &&        \
     rill__rd_remain(&(q)->r) == 0)

/* Encodes the response body and finishes the request: a handler's usual last step. */
#define RILL_REQ_REPLY(q, api, msg)                                                                \
    (rill__##api##_resp_encode(&(q)->resp->buf, (q)->h.api_version, (msg)) == 0                    \
         ? (rill__req_finish(q), 0)                                                                \
         : -1)

/* ptr = n zeroed elements from the request arena (none when n <= 0); false when out of
 * memory. */
#define RILL_REQ_ARRAY(q, ptr, n)                                                                  \
    (((ptr) = rill__arena_calloc(&(q)->srv->arena, (size_t)((n) > 0 ? (n) : 0),                    \
                                 sizeof(*(ptr)))) != NULL ||                                       \
     (n) <= 0)

/* Counts an error code put in the response (metrics). */
static inline void rill__req_error(rill_req *q, int16_t code) {
    if (code)
        q->nerrors++;
}

/*
 * Storage's ts_finder hook (log_config.h): the first record with timestamp >= ts in one
 * whole (possibly compressed) batch.  opaque is a rill_batch_reader.
 */
int rill__list_offsets_ts_finder(void *opaque, const uint8_t *batch, size_t len, int64_t ts,
                                 int32_t *offset_delta, int64_t *found_ts);

/* One configuration entry as DescribeConfigs / CreateTopics report it. */
typedef struct rill_cfg_synonym {
    const char *name;
    char *value;
    int8_t source;
} rill_cfg_synonym;

typedef struct rill_cfg_entry {
    const char *name;
    char *value;   /* NULL: no value (sensitive or unset) */
    int8_t source; /* Kafka's ConfigSource: 1 topic, 4 static broker, 5 default */
    int8_t type;   /* Kafka's ConfigType: 1 boolean, 2 string, 3 int, 5 long, 7 list */
    bool read_only;
    const char *doc; /* NULL: none */
    /* Where the value could come from, in precedence order, the entry's own first (Kafka's
     * synonyms: the topic override, the broker's setting, the default). */
    rill_cfg_synonym syn[3];
    int32_t nsyn;
} rill_cfg_entry;

#define RILL_CFG_SOURCE_TOPIC 1
#define RILL_CFG_SOURCE_STATIC_BROKER 4
#define RILL_CFG_SOURCE_DEFAULT 5

/* Every topic-level config of tp with its effective value, from the arena (h_configs.c). */
int rill__topic_configs(rill_server *srv, const rill_topic *tp, rill_arena *a, rill_cfg_entry **out,
                        int32_t *n);

/*
 * Makes sure a topic exists for a request that may create it (Metadata auto-creation).
 * Returns the topic or NULL with *err set (UNKNOWN_TOPIC_OR_PARTITION,
 * INVALID_TOPIC_EXCEPTION, or a storage error).
 */
const rill_topic *rill__auto_create_topic(rill_server *srv, const char *name, int create,
                                          int16_t *err);

#endif
