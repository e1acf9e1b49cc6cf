/*
 * fuzz_resp_fetch.c -- Fetch response decoder (the client's side), every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_fetch.h"

API_FUZZ_TARGET(fetch_resp, rill_fetch_resp, RILL_FETCH_MIN_VER, RILL_FETCH_MAX_VER)
