/*
 * api_versions.h -- ApiVersions (key 18) request and response, v0-4.
 *
 * The first request on every connection.  v3+ is flexible and the request
 * names the client software; the response always travels under response
 * header v0 (api.h).  KIP-511: a broker that does not know the request's
 * version answers with a v0 body, error UNSUPPORTED_VERSION (35) and its
 * ApiKeys list, so that the client can retry with a version both know;
 * rill__api_versions_resp_version() says which body to write, and the
 * response decoder reads such a v0 body whatever version it was asked for.
 *
 * The response's tagged SupportedFeatures / FinalizedFeatures (v3+) are not
 * kept: skipped on decode, not written on encode.
 */
#ifndef RILL_PROTO_API_VERSIONS_H
#define RILL_PROTO_API_VERSIONS_H

#include <stdint.h>

#include "common/buf.h"
#include "proto/arena.h"
#include "proto/reader.h"

#define RILL_API_VERSIONS_MIN_VER 0
#define RILL_API_VERSIONS_MAX_VER 4

typedef struct rill_api_versions_req {
    rill_str client_software_name;    /* v3+, default "" */
    rill_str client_software_version; /* v3+, default "" */
} rill_api_versions_req;

typedef struct rill_api_versions_key {
    int16_t api_key;
    int16_t min_version;
    int16_t max_version;
} rill_api_versions_key;

typedef struct rill_api_versions_resp {
    int16_t error_code;
    rill_api_versions_key *api_keys;
    int32_t napi_keys;
    int32_t throttle_time_ms; /* v1+ */
} rill_api_versions_resp;

int rill__api_versions_req_encode(rill_buf *b, int16_t ver, const rill_api_versions_req *m);
int rill__api_versions_req_decode(rill_rd *r, int16_t ver, rill_api_versions_req *m, rill_arena *a);
int rill__api_versions_resp_encode(rill_buf *b, int16_t ver, const rill_api_versions_resp *m);
/*
 * Reads a response to a request of version `ver`.  A body whose error is
 * UNSUPPORTED_VERSION (35) is read as the KIP-511 v0 body if it parses
 * whole as one (throttle_time_ms is then 0), else as version `ver`; if it
 * is neither, the answer is still accepted with just its error and no keys
 * (librdkafka 2.0.2's mock broker, for one, answers a v3 request with a
 * body that is neither), so the client always learns to retry lower.  In
 * this case, the body is used up whole.
 */
int rill__api_versions_resp_decode(rill_rd *r, int16_t ver, rill_api_versions_resp *m,
                                   rill_arena *a);

/* Body version a broker answers a request of version req_ver with (KIP-511). */
int16_t rill__api_versions_resp_version(int16_t req_ver);

#endif
