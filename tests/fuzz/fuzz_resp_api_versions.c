/*
 * fuzz_resp_api_versions.c -- ApiVersions response decoder, which the client runs, every version;
 * see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_versions.h"

API_FUZZ_TARGET(api_versions_resp, rill_api_versions_resp, RILL_API_VERSIONS_MIN_VER,
                RILL_API_VERSIONS_MAX_VER)
