/*
 * fuzz_req_metadata.c -- Metadata request decoder, which the broker runs, every version; see
 * api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_metadata.h"

API_FUZZ_TARGET(metadata_req, rill_metadata_req, RILL_METADATA_MIN_VER, RILL_METADATA_MAX_VER)
