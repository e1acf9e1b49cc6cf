/*
 * partitioner.c -- which partition a message without an explicit one goes to.
 *
 * Keyed messages hash the key, so that one key always lands in one
 * partition.  murmur2 is the Java client's (and librdkafka's murmur2 /
 * murmur2_random): murmur2(key) & 0x7fffffff % partitions, so rill, Java
 * and librdkafka producers agree.  consistent* use CRC-32 (zlib), as
 * librdkafka does.  Messages without a key (and, for *_random, with an
 * empty key under consistent_random) stick to one randomly chosen
 * partition with a leader for sticky.partitioning.linger.ms, then move on
 * (KIP-480): fewer, fuller batches than per-message random choice.
 */
#include <zlib.h>

#include "client/producer_int.h"
#include "common/murmur2.h"

static uint32_t xorshift(rill_producer_t *p) {
    uint64_t x = p->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    p->rng = x;
    return (uint32_t)(x >> 11);
}

static int32_t sticky(rill_producer_t *p, ptopic *t, int64_t now_us) {
    if (t->sticky >= 0 && t->sticky < t->npart && now_us < t->sticky_until_us)
        return t->sticky;
    /* Prefer partitions whose leader is known. */
    int32_t n = t->npart, pick = (int32_t)(xorshift(p) % (uint32_t)n);
    for (int32_t i = 0; i < n; i++) {
        int32_t c = (pick + i) % n;
        if (t->parts[c].leader >= 0) {
            pick = c;
            break;
        }
    }
    t->sticky = pick;
    t->sticky_until_us = now_us + (int64_t)p->conf->sticky_partitioning_linger_ms * 1000;
    return pick;
}

static uint32_t fnv1a(const uint8_t *d, size_t n) {
    uint32_t h = 0x811c9dc5u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ d[i]) * 0x01000193u;
    return h;
}

int32_t rill__partition_pick(rill_producer_t *p, ptopic *t, const void *key, size_t klen,
                             int64_t now_us) {
    uint32_t n = (uint32_t)t->npart;
    if (!n)
        return -1;
    switch (p->conf->partitioner) {
    case RILL_PARTITIONER_MURMUR2:
        return (int32_t)((rill__murmur2(key ? key : "", key ? klen : 0) & 0x7fffffff) % n);
    case RILL_PARTITIONER_CONSISTENT:
        return (int32_t)(crc32(0, key, key ? (uInt)klen : 0) % n);
    case RILL_PARTITIONER_CONSISTENT_RANDOM:
        if (!key || !klen)
            return sticky(p, t, now_us);
        return (int32_t)(crc32(0, key, (uInt)klen) % n);
    case RILL_PARTITIONER_RANDOM:
        return sticky(p, t, now_us);
    case RILL_PARTITIONER_FNV1A:
        return (int32_t)((fnv1a(key, key ? klen : 0) & 0x7fffffff) % n);
    case RILL_PARTITIONER_FNV1A_RANDOM:
        if (!key)
            return sticky(p, t, now_us);
        return (int32_t)((fnv1a(key, klen) & 0x7fffffff) % n);
    case RILL_PARTITIONER_MURMUR2_RANDOM:
    default:
        if (!key)
            return sticky(p, t, now_us);
        return (int32_t)((rill__murmur2(key, klen) & 0x7fffffff) % n);
    }
}
