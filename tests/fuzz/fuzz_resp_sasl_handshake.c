/*
 * fuzz_resp_sasl_handshake.c -- SaslHandshake response decoder (the client's side), every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_sasl.h"

API_FUZZ_TARGET(sasl_handshake_resp, rill_sasl_handshake_resp, RILL_SASL_HANDSHAKE_MIN_VER,
                RILL_SASL_HANDSHAKE_MAX_VER)
