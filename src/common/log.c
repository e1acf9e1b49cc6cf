/*
 * log.c -- leveled logging (see log.h).
 */
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

static const char *names[] = {"emerg", "alert", "crit", "error", "warn", "notice", "info", "debug"};

const char *rill__log_level_name(int level) {
    if (level < 0)
        level = 0;
    if (level > 7)
        level = 7;
    return names[level];
}

int rill__log_level_parse(const char *s) {
    if (!s || !*s)
        return -1;
    char *end;
    long v = strtol(s, &end, 10);
    if (*end == '\0')
        return v >= 0 && v <= 7 ? (int)v : -1;
    for (int i = 0; i < 8; i++)
        if (!strcasecmp(s, names[i]))
            return i;
    if (!strcasecmp(s, "err"))
        return RILL_LOG_ERR;
    if (!strcasecmp(s, "warning"))
        return RILL_LOG_WARNING;
    return -1;
}

void rill__vlog(const rill_logger *lg, int level, const char *component, const char *fmt,
                va_list ap) {
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (lg && lg->sink) {
        lg->sink(lg->opaque, level, component, msg);
        return;
    }
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[32];
    strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
    fprintf(stderr, "%s.%03dZ %-5s %s%s%s: %s\n", ts, (int)(tv.tv_usec / 1000),
            rill__log_level_name(level), lg && lg->name ? lg->name : "", lg && lg->name ? " " : "",
            component, msg);
}

void rill__log(const rill_logger *lg, int level, const char *component, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    rill__vlog(lg, level, component, fmt, ap);
    va_end(ap);
}
