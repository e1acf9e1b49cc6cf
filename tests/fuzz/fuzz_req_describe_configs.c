/*
 * fuzz_req_describe_configs.c -- DescribeConfigs request decoder, which the broker runs, every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_configs.h"

API_FUZZ_TARGET(describe_configs_req, rill_describe_configs_req, RILL_DESCRIBE_CONFIGS_MIN_VER,
                RILL_DESCRIBE_CONFIGS_MAX_VER)
