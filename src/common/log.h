/*
 * log.h -- leveled logging shared by librill and rill-broker.
 *
 * A logger is a level threshold plus a sink callback.  The default sink
 * writes one line to stderr: time, level, component, message.  Callers use
 * the RILL_LOG macro so that the message is only formatted when the level
 * is enabled.
 */
#ifndef RILL_COMMON_LOG_H
#define RILL_COMMON_LOG_H

#include <stdarg.h>

/* Syslog-style numbers, as librdkafka's log_level uses them. */
enum {
    RILL_LOG_EMERG = 0,
    RILL_LOG_ALERT = 1,
    RILL_LOG_CRIT = 2,
    RILL_LOG_ERR = 3,
    RILL_LOG_WARNING = 4,
    RILL_LOG_NOTICE = 5,
    RILL_LOG_INFO = 6,
    RILL_LOG_DEBUG = 7,
};

typedef void(rill__log_sink)(void *opaque, int level, const char *component, const char *msg);

typedef struct rill_logger {
    int level;
    rill__log_sink *sink; /* NULL means stderr */
    void *opaque;
    const char *name; /* prefix, e.g. client.id; may be NULL */
} rill_logger;

void rill__log(const rill_logger *lg, int level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void rill__vlog(const rill_logger *lg, int level, const char *component, const char *fmt,
                va_list ap);
/* "error", "warn", "info", "debug" ... or a number; -1 when unknown. */
int rill__log_level_parse(const char *s);
const char *rill__log_level_name(int level);

#define RILL_LOG(lg, lvl, comp, ...)                                                               \
    do {                                                                                           \
        if ((lg) && (lvl) <= (lg)->level)                                                          \
            rill__log((lg), (lvl), (comp), __VA_ARGS__);                                           \
    } while (0)

#endif
