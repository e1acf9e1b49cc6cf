/*
 * fuzz_req_describe_groups.c -- DescribeGroups request decoder (the broker's side), every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_group.h"

API_FUZZ_TARGET(describe_groups_req, rill_describe_groups_req, RILL_DESCRIBE_GROUPS_MIN_VER,
                RILL_DESCRIBE_GROUPS_MAX_VER)
