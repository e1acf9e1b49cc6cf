/*
 * fuzz_req_sasl_authenticate.c -- SaslAuthenticate request decoder (the broker's side), every
 * version; see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_sasl.h"

API_FUZZ_TARGET(sasl_authenticate_req, rill_sasl_authenticate_req, RILL_SASL_AUTHENTICATE_MIN_VER,
                RILL_SASL_AUTHENTICATE_MAX_VER)
