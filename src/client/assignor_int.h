/*
 * assignor_int.h -- what the assignors share: the input indexed for
 * computation (assignor.c builds it), Java's string order and hashing, and
 * small int lists.
 *
 * Topics are indexed in Java String order of their names and partitions get
 * global indexes topic by topic, so "sorted by topic, then partition" (the
 * order Java's TreeSets and sorted lists use) is plain ascending order of
 * global indexes.  Members keep their input index (JoinGroup order).
 */
#ifndef RILL_CLIENT_ASSIGNOR_INT_H
#define RILL_CLIENT_ASSIGNOR_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/assignor.h"

/* A growable list of int32 (member or partition indexes). */
typedef struct asg_list {
    int32_t *v;
    int32_t n;
    int32_t cap;
} asg_list;

typedef struct asg_ctx {
    rill_arena a; /* scratch: everything below except the lists' storage */
    int oom;      /* an allocation failed */

    /* Topics with partitions that at least one member subscribes to. */
    int32_t nt;
    const char **tname;
    int32_t *tnp;    /* partition count */
    int32_t *tbase;  /* global index of partition 0 */
    int32_t *tcons;  /* number of members subscribed */
    int32_t np;      /* partitions over all topics */
    int32_t *ptopic; /* topic of each global partition */

    /* Members, in input order. */
    int32_t nm;
    const rill_asg_member *m;
    asg_list *subs;        /* subscribed topic indexes, ascending, no duplicates */
    const char ***rawsubs; /* every subscribed name (also without metadata), sorted, unique */
    int32_t *nrawsubs;
    asg_list *owned;  /* owned partitions that exist, in the member's order, no duplicates */
    int32_t *by_info; /* members in Java MemberInfo order (instance id, then member id) */
    int32_t *by_id;   /* members in Java String order of member ids */
    int32_t *id_rank; /* position of each member in by_id */
    int32_t *by_hash; /* members in Java HashMap<memberId, ...> iteration order */

    /* Racks (only when some member has one): interned names, ids are indexes. */
    bool any_rack;
    int32_t nracks;
    const char **racks;
    int32_t *mrack;     /* member's rack id, -1: none */
    int32_t *prack_off; /* np + 1 offsets into prack */
    int32_t *prack;     /* each partition's replica racks, ascending ids, unique */

    /* The result: assigned partitions of each member. */
    asg_list *asg;
    int32_t nwithheld;

    char *errstr;
    size_t errsize;
} asg_ctx;

/* Java String.compareTo / hashCode on UTF-8 input (compared as UTF-16 units). */
int rill__asg_jcmp(const char *a, const char *b);
int32_t rill__asg_jhash(const char *s);
/* Bucket of a HashMap key: Java's hash spreading masked to the table size. */
static inline uint32_t rill__asg_bucket(int32_t h, uint32_t cap) {
    uint32_t u = (uint32_t)h;
    return (u ^ (u >> 16)) & (cap - 1);
}
/* Table size of a java.util.HashMap after n puts into a default-constructed one. */
uint32_t rill__asg_hashmap_cap(int64_t n);

int rill__asg_list_push(asg_ctx *c, asg_list *l, int32_t x);
/* Removes the first x; returns whether it was there. */
bool rill__asg_list_remove(asg_list *l, int32_t x);
void rill__asg_list_remove_at(asg_list *l, int32_t i);
bool rill__asg_list_has(const asg_list *l, int32_t x);
void *rill__asg_alloc(asg_ctx *c, size_t n, size_t size); /* zeroed, from the scratch arena */
/* A NUL-terminated copy of len bytes in the arena (NULL when it is full). */
char *rill__asg_strndup(rill_arena *a, const char *p, size_t len);
int rill__asg_fail(asg_ctx *c, int err, const char *fmt, ...);

/* Stable sort of n ints by cmp(a, b, arg). */
int rill__asg_sort(asg_ctx *c, int32_t *v, int32_t n, int (*cmp)(int32_t, int32_t, void *),
                   void *arg);

/* Member mi subscribes to topic t (which has metadata). */
bool rill__asg_subscribed(const asg_ctx *c, int32_t mi, int32_t t);
/* The racks of global partition p, as ascending ids. */
static inline const int32_t *rill__asg_pracks(const asg_ctx *c, int32_t p, int32_t *n) {
    *n = c->prack_off[p + 1] - c->prack_off[p];
    return c->prack + c->prack_off[p];
}
bool rill__asg_prack_has(const asg_ctx *c, int32_t p, int32_t rack);

/*
 * Java's AbstractPartitionAssignor.useRackAwareAssignment over the
 * partitions [p0, p1): some consumer rack (flags in consumer_racks, one per
 * rack id) hosts a replica, and not every partition has replicas on all the
 * racks that host any.  `scratch` holds nracks bytes.
 */
bool rill__asg_use_rack_aware(const asg_ctx *c, const uint8_t *consumer_racks, int32_t p0,
                              int32_t p1, uint8_t *scratch);

int rill__asg_range(asg_ctx *c);
int rill__asg_roundrobin(asg_ctx *c);
int rill__asg_cooperative_sticky(asg_ctx *c);

#endif
