/*
 * fuzz_req_find_coordinator.c -- FindCoordinator request decoder (the broker's side), every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_group.h"

API_FUZZ_TARGET(find_coordinator_req, rill_find_coordinator_req, RILL_FIND_COORDINATOR_MIN_VER,
                RILL_FIND_COORDINATOR_MAX_VER)
