/*
 * fuzz_resp_list_groups.c -- ListGroups response decoder (the client's side), every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_group.h"

API_FUZZ_TARGET(list_groups_resp, rill_list_groups_resp, RILL_LIST_GROUPS_MIN_VER,
                RILL_LIST_GROUPS_MAX_VER)
