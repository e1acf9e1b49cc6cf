/*
 * fuzz_resp_find_coordinator.c -- FindCoordinator response decoder (the client's side), every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_group.h"

API_FUZZ_TARGET(find_coordinator_resp, rill_find_coordinator_resp, RILL_FIND_COORDINATOR_MIN_VER,
                RILL_FIND_COORDINATOR_MAX_VER)
