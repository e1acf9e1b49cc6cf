/*
 * assignor_codec.c -- between the assignors and the "consumer" embedded
 * protocol (consumer_protocol.h): a member's assignment bytes for
 * SyncGroup, this client's subscription bytes for JoinGroup, and an
 * assignor member filled from a decoded subscription.
 */
#include <string.h>

#include "client/assignor_int.h"
#include "common/endian.h"
#include "proto/fields.h"

int rill__asg_assignment_encode(rill_buf *b, int16_t ver, const rill_asg_member_result *mr) {
    rill_consumer_assignment a = {ver, mr->topics, mr->ntopics, {NULL, -1}};
    return rill__consumer_assignment_encode(b, ver, &a);
}

static rill_str view(const char *s) { return (rill_str){s, (int32_t)strlen(s)}; }

int rill__asg_subscription_encode(rill_buf *b, int16_t ver, const char *protocol,
                                  const char *const *topics, int32_t ntopics,
                                  const rill_asg_tp *owned, int32_t nowned, int32_t generation,
                                  const char *rack) {
    if (ntopics < 0 || nowned < 0)
        return rill__enc_fail(b);
    rill_arena a;
    rill__arena_init(&a, 0);
    rill_consumer_subscription s;
    memset(&s, 0, sizeof(s));
    s.version = ver;
    s.topics = rill__arena_calloc(&a, (size_t)ntopics + 1, sizeof(*s.topics));
    s.owned = rill__arena_calloc(&a, (size_t)nowned + 1, sizeof(*s.owned));
    int32_t *parts = rill__arena_calloc(&a, (size_t)nowned + 1, sizeof(*parts));
    if (!s.topics || !s.owned || !parts) {
        rill__arena_free(&a);
        return rill__enc_fail(b);
    }
    s.ntopics = ntopics;
    for (int32_t i = 0; i < ntopics; i++)
        s.topics[i] = view(topics[i]);
    /* Owned partitions grouped by topic, topics in order of first appearance. */
    int32_t k = 0;
    for (int32_t i = 0; i < nowned; i++) {
        int32_t t = 0;
        while (t < s.nowned && strcmp(s.owned[t].topic.ptr, owned[i].topic))
            t++;
        if (t < s.nowned)
            continue;
        rill_cp_topic_partitions *tp = &s.owned[s.nowned++];
        tp->topic = view(owned[i].topic);
        tp->partitions = parts + k;
        for (int32_t j = i; j < nowned; j++)
            if (!strcmp(owned[j].topic, owned[i].topic))
                tp->partitions[tp->npartitions++] = owned[j].partition;
        k += tp->npartitions;
    }
    /* CooperativeStickyAssignor's user data: {generation int32}. */
    uint8_t gen[4];
    rill__st32(gen, (uint32_t)generation);
    s.user_data =
        rill__asg_protocol_cooperative(protocol) ? (rill_bytes){gen, 4} : (rill_bytes){NULL, -1};
    s.generation_id = generation;
    s.rack_id = rack ? view(rack) : rill__str_null();
    int rc = rill__consumer_subscription_encode(b, ver, &s);
    rill__arena_free(&a);
    return rc;
}

static char *copy_str(rill_arena *a, const char *p, int32_t len) {
    return rill__asg_strndup(a, p, len > 0 ? (size_t)len : 0);
}

int rill__asg_member_from_subscription(rill_asg_member *m, rill_str member_id,
                                       rill_str group_instance_id,
                                       const rill_consumer_subscription *s, rill_arena *a) {
    memset(m, 0, sizeof(*m));
    int32_t nowned = 0;
    for (int32_t i = 0; i < s->nowned; i++)
        nowned += s->owned[i].npartitions;
    const char **topics = rill__arena_calloc(a, (size_t)s->ntopics + 1, sizeof(*topics));
    rill_asg_tp *owned = rill__arena_calloc(a, (size_t)nowned + 1, sizeof(*owned));
    m->member_id = copy_str(a, member_id.ptr, member_id.len);
    if (!topics || !owned || !m->member_id)
        return -1;
    if (group_instance_id.len >= 0 &&
        !(m->group_instance_id = copy_str(a, group_instance_id.ptr, group_instance_id.len)))
        return -1;
    for (int32_t i = 0; i < s->ntopics; i++)
        if (!(topics[i] = copy_str(a, s->topics[i].ptr, s->topics[i].len)))
            return -1;
    m->topics = topics;
    m->ntopics = s->ntopics > 0 ? s->ntopics : 0;
    for (int32_t i = 0; i < s->nowned; i++) {
        const rill_cp_topic_partitions *tp = &s->owned[i];
        const char *name = copy_str(a, tp->topic.ptr, tp->topic.len);
        if (!name)
            return -1;
        for (int32_t j = 0; j < tp->npartitions; j++)
            owned[m->nowned++] = (rill_asg_tp){name, tp->partitions[j]};
    }
    m->owned = owned;
    /* Java: a negative generation id is "absent". */
    m->generation = s->generation_id >= 0 ? s->generation_id : -1;
    m->user_data_len = -1;
    if (s->user_data.len >= 0) {
        uint8_t *ud = rill__arena_alloc(a, (size_t)s->user_data.len + 1);
        if (!ud)
            return -1;
        if (s->user_data.len)
            memcpy(ud, s->user_data.ptr, (size_t)s->user_data.len);
        m->user_data = ud;
        m->user_data_len = s->user_data.len;
    }
    if (s->rack_id.len > 0 && !(m->rack = copy_str(a, s->rack_id.ptr, s->rack_id.len)))
        return -1;
    return 0;
}
