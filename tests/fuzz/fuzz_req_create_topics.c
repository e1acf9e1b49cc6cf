/*
 * fuzz_req_create_topics.c -- CreateTopics request decoder, which the broker runs, every version;
 * see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_topics.h"

API_FUZZ_TARGET(create_topics_req, rill_create_topics_req, RILL_CREATE_TOPICS_MIN_VER,
                RILL_CREATE_TOPICS_MAX_VER)
