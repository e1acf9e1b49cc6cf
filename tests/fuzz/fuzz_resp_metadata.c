/*
 * fuzz_resp_metadata.c -- Metadata response decoder, which the client runs, every version; see
 * api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_metadata.h"

API_FUZZ_TARGET(metadata_resp, rill_metadata_resp, RILL_METADATA_MIN_VER, RILL_METADATA_MAX_VER)
