/*
 * fuzz_req_delete_groups.c -- DeleteGroups request decoder (the broker's side), every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_group.h"

API_FUZZ_TARGET(delete_groups_req, rill_delete_groups_req, RILL_DELETE_GROUPS_MIN_VER,
                RILL_DELETE_GROUPS_MAX_VER)
