/*
 * assignor_sticky_int.h -- state shared by the two halves of the sticky
 * assignor: assignor_sticky.c (member data, previous owners, rack info, the
 * constrained algorithm for equal subscriptions, the cooperative rule) and
 * assignor_sticky_general.c (the general algorithm).
 */
#ifndef RILL_CLIENT_ASSIGNOR_STICKY_INT_H
#define RILL_CLIENT_ASSIGNOR_STICKY_INT_H

#include "client/assignor_int.h"

typedef struct sticky {
    asg_ctx *c;
    int32_t *mgen;  /* MemberData generation (-1: none) */
    int32_t *sgen;  /* the subscription's own generation field (-1: none) */
    int32_t maxgen; /* highest MemberData generation */
    /*
     * consumerToOwnedPartitions: each member's previously owned partitions
     * that are still valid after claims by several members are settled.
     */
    asg_list *owned;
    uint8_t *multi; /* partitionsWithMultiplePreviousOwners */
    /* RackInfo */
    bool rack_aware; /* rack-aware assignment in use (consumerRacks not empty) */
    int32_t *nconsp; /* numConsumersByPartition; NULL when no member has a rack */
    /*
     * partitionsTransferringOwnership: the member receiving each partition
     * that must first be revoked from another (-1: none).  Only the
     * constrained algorithm tracks it; the general one leaves it NULL and the
     * cooperative rule works it out from the owned partitions, as Java does.
     */
    int32_t *transfer;
} sticky;

/* RackInfo.racksMismatch: rack-aware, the member has a rack, no replica there. */
bool rill__sticky_racks_mismatch(const sticky *s, int32_t mi, int32_t p);
/* GeneralAssignmentBuilder: fills s->c->asg. */
int rill__sticky_general(sticky *s);

#endif
