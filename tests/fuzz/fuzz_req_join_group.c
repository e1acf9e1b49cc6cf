/*
 * fuzz_req_join_group.c -- JoinGroup request decoder (the broker's side), every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_group.h"

API_FUZZ_TARGET(join_group_req, rill_join_group_req, RILL_JOIN_GROUP_MIN_VER,
                RILL_JOIN_GROUP_MAX_VER)
