/*
 * fuzz_resp_heartbeat.c -- Heartbeat response decoder (the client's side), every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_group.h"

API_FUZZ_TARGET(heartbeat_resp, rill_heartbeat_resp, RILL_HEARTBEAT_MIN_VER, RILL_HEARTBEAT_MAX_VER)
