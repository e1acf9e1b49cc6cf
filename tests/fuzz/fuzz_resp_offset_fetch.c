/*
 * fuzz_resp_offset_fetch.c -- OffsetFetch response decoder (the client's side), every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_offsets.h"

API_FUZZ_TARGET(offset_fetch_resp, rill_offset_fetch_resp, RILL_OFFSET_FETCH_MIN_VER,
                RILL_OFFSET_FETCH_MAX_VER)
