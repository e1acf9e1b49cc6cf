/*
 * fuzz_req_produce.c -- Produce request decoder, which the broker runs, every version; see
 * api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_produce.h"

API_FUZZ_TARGET(produce_req, rill_produce_req, RILL_PRODUCE_MIN_VER, RILL_PRODUCE_MAX_VER)
