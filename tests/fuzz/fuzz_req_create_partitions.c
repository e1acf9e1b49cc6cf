/*
 * fuzz_req_create_partitions.c -- CreatePartitions request decoder, which the broker runs, every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_topics.h"

API_FUZZ_TARGET(create_partitions_req, rill_create_partitions_req, RILL_CREATE_PARTITIONS_MIN_VER,
                RILL_CREATE_PARTITIONS_MAX_VER)
