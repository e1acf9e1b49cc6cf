/*
 * murmur2.h -- the Java client's murmur2 hash, used by the key partitioner.
 *
 * Must match org.apache.kafka.common.utils.Utils.murmur2 bit for bit: the
 * partition of a keyed message is murmur2(key) & 0x7fffffff % partitions,
 * and users rely on the same key landing in the same partition whichever
 * client produced it.
 */
#ifndef RILL_COMMON_MURMUR2_H
#define RILL_COMMON_MURMUR2_H

#include <stddef.h>
#include <stdint.h>

uint32_t rill__murmur2(const void *key, size_t len);

#endif
