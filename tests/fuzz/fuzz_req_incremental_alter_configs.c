/*
 * fuzz_req_incremental_alter_configs.c -- IncrementalAlterConfigs request decoder, which the broker
 * runs, every version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_alter_configs.h"

API_FUZZ_TARGET(incremental_alter_configs_req, rill_alter_configs_req,
                RILL_INCREMENTAL_ALTER_CONFIGS_MIN_VER, RILL_INCREMENTAL_ALTER_CONFIGS_MAX_VER)
