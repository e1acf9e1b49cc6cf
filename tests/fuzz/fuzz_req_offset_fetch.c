/*
 * fuzz_req_offset_fetch.c -- OffsetFetch request decoder (the broker's side), every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_offsets.h"

API_FUZZ_TARGET(offset_fetch_req, rill_offset_fetch_req, RILL_OFFSET_FETCH_MIN_VER,
                RILL_OFFSET_FETCH_MAX_VER)
