/*
 * fuzz_resp_produce.c -- Produce response decoder, which the client runs, every version; see
 * api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_produce.h"

API_FUZZ_TARGET(produce_resp, rill_produce_resp, RILL_PRODUCE_MIN_VER, RILL_PRODUCE_MAX_VER)
