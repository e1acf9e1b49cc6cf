/*
 * assignor_roundrobin.c -- the "roundrobin" assignor, as Java's
 * RoundRobinAssignor.
 *
 * Every partition of every subscribed topic, sorted by topic then
 * partition, goes to the next member in MemberInfo order (static members
 * first by group.instance.id, then by member id), cycling; members not
 * subscribed to the partition's topic are skipped, and the cycle carries on
 * from topic to topic.  With different subscriptions the result can be
 * unbalanced, as in Java: C0 [t0], C1 [t0 t1], C2 [t0 t1 t2] over 1, 2 and
 * 3 partitions give C0 [t0p0], C1 [t1p0], C2 [t1p1 t2p0 t2p1 t2p2].
 */
#include "client/assignor_int.h"
#include "rill.h"

int rill__asg_roundrobin(asg_ctx *c) {
    int32_t at = 0;
    /* Global partition order is topic (Java String order), then partition. */
    for (int32_t p = 0; p < c->np && c->nm > 0; p++) {
        int32_t t = c->ptopic[p];
        /* The topic is in the context only because some member subscribes to it. */
        while (!rill__asg_subscribed(c, c->by_info[at], t))
            at = (at + 1) % c->nm;
        if (rill__asg_list_push(c, &c->asg[c->by_info[at]], p))
            return RILL_ERR_NO_MEMORY;
        at = (at + 1) % c->nm;
    }
    return 0;
}
