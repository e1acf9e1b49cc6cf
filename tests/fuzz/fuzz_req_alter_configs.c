/*
 * fuzz_req_alter_configs.c -- AlterConfigs request decoder, which the broker runs, every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_alter_configs.h"

API_FUZZ_TARGET(alter_configs_req, rill_alter_configs_req, RILL_ALTER_CONFIGS_MIN_VER,
                RILL_ALTER_CONFIGS_MAX_VER)
