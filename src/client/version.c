/*
 * version.c -- library version.
 */
#include "rill.h"

const char *rill_version_str(void) { return RILL_VERSION_STR; }
