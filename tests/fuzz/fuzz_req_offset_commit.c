/*
 * fuzz_req_offset_commit.c -- OffsetCommit request decoder (the broker's side), every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_offsets.h"

API_FUZZ_TARGET(offset_commit_req, rill_offset_commit_req, RILL_OFFSET_COMMIT_MIN_VER,
                RILL_OFFSET_COMMIT_MAX_VER)
