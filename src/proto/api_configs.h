/*
 * api_configs.h -- DescribeConfigs (key 32) request and response, v0-4.
 *
 * v1+ can ask for synonyms and reports each config's source (v0 has an
 * IsDefault flag instead); v3+ can ask for documentation and reports the
 * config's type; v4+ is flexible.
 */
#ifndef RILL_PROTO_API_CONFIGS_H
#define RILL_PROTO_API_CONFIGS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "proto/arena.h"
#include "proto/reader.h"

#define RILL_DESCRIBE_CONFIGS_MIN_VER 0
#define RILL_DESCRIBE_CONFIGS_MAX_VER 4

/* Resource types (Kafka's ConfigResource.Type). */
#define RILL_CONFIG_RESOURCE_TOPIC 2
#define RILL_CONFIG_RESOURCE_BROKER 4
#define RILL_CONFIG_RESOURCE_BROKER_LOGGER 8

typedef struct rill_describe_configs_resource {
    int8_t resource_type;
    rill_str resource_name;
    rill_str *configuration_keys; /* nullable: null lists every key */
    int32_t nconfiguration_keys;
} rill_describe_configs_resource;

typedef struct rill_describe_configs_req {
    rill_describe_configs_resource *resources;
    int32_t nresources;
    bool include_synonyms;      /* v1+; true is an error for v0 */
    bool include_documentation; /* v3+; true is an error before */
} rill_describe_configs_req;

typedef struct rill_describe_configs_synonym {
    rill_str name;
    rill_str value; /* nullable */
    int8_t source;
} rill_describe_configs_synonym;

typedef struct rill_describe_configs_entry {
    rill_str name;
    rill_str value; /* nullable */
    bool read_only;
    bool is_default;      /* v0 only */
    int8_t config_source; /* v1+, default -1 */
    bool is_sensitive;
    rill_describe_configs_synonym *synonyms; /* v1+ */
    int32_t nsynonyms;
    int8_t config_type;     /* v3+, default 0 */
    rill_str documentation; /* v3+, nullable, default null */
} rill_describe_configs_entry;

typedef struct rill_describe_configs_result {
    int16_t error_code;
    rill_str error_message; /* nullable */
    int8_t resource_type;
    rill_str resource_name;
    rill_describe_configs_entry *configs;
    int32_t nconfigs;
} rill_describe_configs_result;

typedef struct rill_describe_configs_resp {
    int32_t throttle_time_ms;
    rill_describe_configs_result *results;
    int32_t nresults;
} rill_describe_configs_resp;

int rill__describe_configs_req_encode(rill_buf *b, int16_t ver, const rill_describe_configs_req *m);
int rill__describe_configs_req_decode(rill_rd *r, int16_t ver, rill_describe_configs_req *m,
                                      rill_arena *a);
int rill__describe_configs_resp_encode(rill_buf *b, int16_t ver,
                                       const rill_describe_configs_resp *m);
int rill__describe_configs_resp_decode(rill_rd *r, int16_t ver, rill_describe_configs_resp *m,
                                       rill_arena *a);

#endif
