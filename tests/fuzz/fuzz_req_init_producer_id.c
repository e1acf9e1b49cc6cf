/*
 * fuzz_req_init_producer_id.c -- InitProducerId request decoder, which the broker runs, every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_init_producer_id.h"

API_FUZZ_TARGET(init_producer_id_req, rill_init_producer_id_req, RILL_INIT_PRODUCER_ID_MIN_VER,
                RILL_INIT_PRODUCER_ID_MAX_VER)
