/*
 * clock.h -- monotonic and wall clocks in milliseconds / microseconds.
 *
 * Timeouts use the monotonic clock (immune to wall clock steps); record
 * timestamps use the wall clock, as Kafka's CreateTime is epoch milliseconds.
 */
#ifndef RILL_COMMON_CLOCK_H
#define RILL_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t rill__mono_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
static inline int64_t rill__mono_ms(void) { return rill__mono_us() / 1000; }
/*
 * The monotonic clock as of the last timer tick: behind rill__mono_us() by
 * less than a tick (a few ms), and a fraction of its cost, for stamps taken
 * once per message that only long timeouts are checked against.
 */
static inline int64_t rill__mono_coarse_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
static inline int64_t rill__wall_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
