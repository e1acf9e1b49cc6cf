/*
 * fuzz_resp_offset_commit.c -- OffsetCommit response decoder (the client's side), every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_offsets.h"

API_FUZZ_TARGET(offset_commit_resp, rill_offset_commit_resp, RILL_OFFSET_COMMIT_MIN_VER,
                RILL_OFFSET_COMMIT_MAX_VER)
