/*
 * fuzz_resp_sasl_authenticate.c -- SaslAuthenticate response decoder (the client's side), every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_sasl.h"

API_FUZZ_TARGET(sasl_authenticate_resp, rill_sasl_authenticate_resp, RILL_SASL_AUTHENTICATE_MIN_VER,
                RILL_SASL_AUTHENTICATE_MAX_VER)
