/*
 * fuzz_req_fetch.c -- Fetch request decoder (the broker's side), every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_fetch.h"

API_FUZZ_TARGET(fetch_req, rill_fetch_req, RILL_FETCH_MIN_VER, RILL_FETCH_MAX_VER)
