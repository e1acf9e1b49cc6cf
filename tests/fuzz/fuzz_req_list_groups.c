/*
 * fuzz_req_list_groups.c -- ListGroups request decoder (the broker's side), every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_group.h"

API_FUZZ_TARGET(list_groups_req, rill_list_groups_req, RILL_LIST_GROUPS_MIN_VER,
                RILL_LIST_GROUPS_MAX_VER)
