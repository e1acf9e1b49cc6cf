/*
 * crc32c.h -- CRC-32C (Castagnoli), the checksum of Kafka record batches v2.
 *
 * Uses the SSE4.2 crc32 instruction when the CPU has it (checked once at
 * run time) and a slicing-by-8 table otherwise.
 */
#ifndef RILL_COMMON_CRC32C_H
#define RILL_COMMON_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues a CRC: pass 0 to start.  crc32c("123456789") == 0xe3069283. */
uint32_t rill__crc32c(uint32_t crc, const void *data, size_t len);
/* The portable path, exposed so tests can compare both implementations. */
uint32_t rill__crc32c_sw(uint32_t crc, const void *data, size_t len);
int rill__crc32c_hw_available(void);
/* The CRC of a||b from the CRCs of a and of b (each started from 0) and
 * b's length: O(log len_b), no pass over the bytes. */
uint32_t rill__crc32c_combine(uint32_t crc_a, uint32_t crc_b, size_t len_b);

#endif
