/*
 * fuzz_req_delete_topics.c -- DeleteTopics request decoder, which the broker runs, every version;
 * see api_fuzz.h for the input format and the checks.
 */
#include "api_fuzz.h"

#include "proto/api_topics.h"

API_FUZZ_TARGET(delete_topics_req, rill_delete_topics_req, RILL_DELETE_TOPICS_MIN_VER,
                RILL_DELETE_TOPICS_MAX_VER)
