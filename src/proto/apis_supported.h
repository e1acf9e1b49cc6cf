/*
 * apis_supported.h -- which APIs, at which versions, this code base speaks.
 *
 * One table, built from the RILL_<API>_MIN_VER/MAX_VER constants of the
 * codec headers, and only for APIs that have a codec.  The broker
 * advertises it in its ApiVersions response; the client intersects it with
 * the broker's answer and uses the highest common version per API.
 */
#ifndef RILL_PROTO_APIS_SUPPORTED_H
#define RILL_PROTO_APIS_SUPPORTED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/api_versions.h"

/* The codec's version range for an API; false if it has no codec. */
bool rill__api_supported_range(int16_t api_key, int16_t *min_ver, int16_t *max_ver);
/* Copies up to `cap` rows (ascending key order); returns how many there are in all. */
size_t rill__api_supported_list(rill_api_versions_key *out, size_t cap);
/*
 * Highest version in both our range and the peer's [peer_min, peer_max],
 * or -1 when the ranges do not meet (or the API has no codec).
 */
int16_t rill__api_pick_version(int16_t api_key, int16_t peer_min, int16_t peer_max);

#endif
