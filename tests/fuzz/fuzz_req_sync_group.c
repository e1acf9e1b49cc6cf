/*
 * fuzz_req_sync_group.c -- SyncGroup request decoder (the broker's side), every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_group.h"

API_FUZZ_TARGET(sync_group_req, rill_sync_group_req, RILL_SYNC_GROUP_MIN_VER,
                RILL_SYNC_GROUP_MAX_VER)
