/*
 * fuzz_req_heartbeat.c -- Heartbeat request decoder (the broker's side), every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_group.h"

API_FUZZ_TARGET(heartbeat_req, rill_heartbeat_req, RILL_HEARTBEAT_MIN_VER, RILL_HEARTBEAT_MAX_VER)
