/*
 * fuzz_resp_create_topics.c -- CreateTopics response decoder, which the client runs, every version;
 * see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_topics.h"

API_FUZZ_TARGET(create_topics_resp, rill_create_topics_resp, RILL_CREATE_TOPICS_MIN_VER,
                RILL_CREATE_TOPICS_MAX_VER)
