/*
 * fuzz_req_leave_group.c -- LeaveGroup request decoder (the broker's side), every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_group.h"

API_FUZZ_TARGET(leave_group_req, rill_leave_group_req, RILL_LEAVE_GROUP_MIN_VER,
                RILL_LEAVE_GROUP_MAX_VER)
