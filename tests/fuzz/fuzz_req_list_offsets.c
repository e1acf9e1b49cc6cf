/*
 * fuzz_req_list_offsets.c -- ListOffsets request decoder, which the broker runs, every version; see
 * api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_list_offsets.h"

API_FUZZ_TARGET(list_offsets_req, rill_list_offsets_req, RILL_LIST_OFFSETS_MIN_VER,
                RILL_LIST_OFFSETS_MAX_VER)
