/*
 * api_sasl.h -- SaslHandshake (17) v0-1 and SaslAuthenticate (36) v0-2.
 *
 * SaslHandshake names the mechanism ("PLAIN", "SCRAM-SHA-256", ...); the
 * broker answers with the mechanisms it enables.  With handshake v0 the
 * SASL tokens then travel as raw int32-length frames outside the Kafka
 * protocol; with v1 they travel inside SaslAuthenticate requests, which
 * is what this codec is for (the raw frames are the transport's job).
 *
 * Conventions are those of fields.h.  The auth bytes are views into the
 * input: they hold credentials, so a caller that copies them should wipe
 * its copy when done.
 */
#ifndef RILL_PROTO_API_SASL_H
#define RILL_PROTO_API_SASL_H

#include <stdint.h>

#include "common/buf.h"
#include "proto/arena.h"
#include "proto/reader.h"

#define RILL_SASL_HANDSHAKE_MIN_VER 0
#define RILL_SASL_HANDSHAKE_MAX_VER 1
#define RILL_SASL_AUTHENTICATE_MIN_VER 0
#define RILL_SASL_AUTHENTICATE_MAX_VER 2

typedef struct rill_sasl_handshake_req {
    rill_str mechanism;
} rill_sasl_handshake_req;

typedef struct rill_sasl_handshake_resp {
    int16_t error_code;
    rill_str *mechanisms;
    int32_t nmechanisms;
} rill_sasl_handshake_resp;

typedef struct rill_sasl_authenticate_req {
    rill_bytes auth_bytes;
} rill_sasl_authenticate_req;

typedef struct rill_sasl_authenticate_resp {
    int16_t error_code;
    rill_str error_message; /* nullable */
    rill_bytes auth_bytes;
    int64_t session_lifetime_ms; /* v1+, 0: no re-authentication needed */
} rill_sasl_authenticate_resp;

int rill__sasl_handshake_req_encode(rill_buf *b, int16_t ver, const rill_sasl_handshake_req *m);
int rill__sasl_handshake_req_decode(rill_rd *r, int16_t ver, rill_sasl_handshake_req *m,
                                    rill_arena *a);
int rill__sasl_handshake_resp_encode(rill_buf *b, int16_t ver, const rill_sasl_handshake_resp *m);
int rill__sasl_handshake_resp_decode(rill_rd *r, int16_t ver, rill_sasl_handshake_resp *m,
                                     rill_arena *a);

int rill__sasl_authenticate_req_encode(rill_buf *b, int16_t ver,
                                       const rill_sasl_authenticate_req *m);
int rill__sasl_authenticate_req_decode(rill_rd *r, int16_t ver, rill_sasl_authenticate_req *m,
                                       rill_arena *a);
int rill__sasl_authenticate_resp_encode(rill_buf *b, int16_t ver,
                                        const rill_sasl_authenticate_resp *m);
int rill__sasl_authenticate_resp_decode(rill_rd *r, int16_t ver, rill_sasl_authenticate_resp *m,
                                        rill_arena *a);

#endif
