/*
 * fuzz_resp_create_partitions.c -- CreatePartitions response decoder, which the client runs, every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_topics.h"

API_FUZZ_TARGET(create_partitions_resp, rill_create_partitions_resp, RILL_CREATE_PARTITIONS_MIN_VER,
                RILL_CREATE_PARTITIONS_MAX_VER)
