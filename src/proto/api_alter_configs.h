/*
 * api_alter_configs.h -- AlterConfigs (key 33, v0-2) and IncrementalAlterConfigs (key 44,
 * v0-1), requests and responses.
 *
 * The two share their shape: resources, each a type, a name and configs to change, and
 * ValidateOnly; the answer is an error per resource.  AlterConfigs replaces a resource's
 * whole set of overrides with the one given (a key left out goes back to its default);
 * IncrementalAlterConfigs changes only the keys named, each with an operation.  AlterConfigs
 * v2 and IncrementalAlterConfigs v1 are flexible.
 */
#ifndef RILL_PROTO_API_ALTER_CONFIGS_H
#define RILL_PROTO_API_ALTER_CONFIGS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "proto/arena.h"
#include "proto/reader.h"

#define RILL_ALTER_CONFIGS_MIN_VER 0
#define RILL_ALTER_CONFIGS_MAX_VER 2
#define RILL_INCREMENTAL_ALTER_CONFIGS_MIN_VER 0
#define RILL_INCREMENTAL_ALTER_CONFIGS_MAX_VER 1

/* IncrementalAlterConfigs ConfigOperation values (Kafka's AlterConfigOp.OpType). */
#define RILL_CONFIG_OP_SET 0
#define RILL_CONFIG_OP_DELETE 1
#define RILL_CONFIG_OP_APPEND 2
#define RILL_CONFIG_OP_SUBTRACT 3

typedef struct rill_alter_config {
    rill_str name;
    int8_t op;      /* IncrementalAlterConfigs only; AlterConfigs leaves it 0 (set) */
    rill_str value; /* nullable */
} rill_alter_config;

typedef struct rill_alter_configs_resource {
    int8_t resource_type; /* RILL_CONFIG_RESOURCE_* (api_configs.h) */
    rill_str resource_name;
    rill_alter_config *configs;
    int32_t nconfigs;
} rill_alter_configs_resource;

typedef struct rill_alter_configs_req {
    rill_alter_configs_resource *resources;
    int32_t nresources;
    bool validate_only;
} rill_alter_configs_req;

typedef struct rill_alter_configs_result {
    int16_t error_code;
    rill_str error_message; /* nullable */
    int8_t resource_type;
    rill_str resource_name;
} rill_alter_configs_result;

typedef struct rill_alter_configs_resp {
    int32_t throttle_time_ms;
    rill_alter_configs_result *results;
    int32_t nresults;
} rill_alter_configs_resp;

int rill__alter_configs_req_encode(rill_buf *b, int16_t ver, const rill_alter_configs_req *m);
int rill__alter_configs_req_decode(rill_rd *r, int16_t ver, rill_alter_configs_req *m,
                                   rill_arena *a);
int rill__alter_configs_resp_encode(rill_buf *b, int16_t ver, const rill_alter_configs_resp *m);
int rill__alter_configs_resp_decode(rill_rd *r, int16_t ver, rill_alter_configs_resp *m,
                                    rill_arena *a);

/* IncrementalAlterConfigs: the same structs (each config's op is on the wire). */
int rill__incremental_alter_configs_req_encode(rill_buf *b, int16_t ver,
                                               const rill_alter_configs_req *m);
int rill__incremental_alter_configs_req_decode(rill_rd *r, int16_t ver, rill_alter_configs_req *m,
                                               rill_arena *a);
int rill__incremental_alter_configs_resp_encode(rill_buf *b, int16_t ver,
                                                const rill_alter_configs_resp *m);
int rill__incremental_alter_configs_resp_decode(rill_rd *r, int16_t ver, rill_alter_configs_resp *m,
                                                rill_arena *a);

#endif
