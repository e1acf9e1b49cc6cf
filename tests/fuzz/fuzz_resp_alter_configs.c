/*
 * fuzz_resp_alter_configs.c -- AlterConfigs response decoder, which a client runs, every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_alter_configs.h"

API_FUZZ_TARGET(alter_configs_resp, rill_alter_configs_resp, RILL_ALTER_CONFIGS_MIN_VER,
                RILL_ALTER_CONFIGS_MAX_VER)
