/*
 * fuzz_consumer_protocol.c -- the "consumer" embedded protocol decoders
 * (consumer_protocol.h), which read bytes that other group members wrote.
 *
 * The harness of api_fuzz.h, with its "version" byte picking the structure
 * instead (0: subscription, 1: assignment); the structure's own version is
 * in its bytes.  A decoded version newer than the codec knows is encoded
 * again at the newest known one.
 */
#include "api_fuzz.h"

#include "proto/consumer_protocol.h"

static int16_t clamp(int16_t ver, int16_t max) { return ver > max ? max : ver; }

static int enc(rill_buf *b, int16_t which, const void *m) {
    if (which == 0) {
        const rill_consumer_subscription *s = m;
        return rill__consumer_subscription_encode(
            b, clamp(s->version, RILL_CONSUMER_SUBSCRIPTION_MAX_VER), s);
    }
    const rill_consumer_assignment *s = m;
    return rill__consumer_assignment_encode(b, clamp(s->version, RILL_CONSUMER_ASSIGNMENT_MAX_VER),
                                            s);
}

static int dec(rill_rd *r, int16_t which, void *m, rill_arena *a) {
    if (which == 0)
        return rill__consumer_subscription_decode(r, m, a);
    return rill__consumer_assignment_decode(r, m, a);
}

/* Storage for either structure. */
typedef union {
    rill_consumer_subscription sub;
    rill_consumer_assignment asg;
} either;

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);
int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    fuzz_api(d, n, 0, 1, enc, dec, sizeof(either));
    return 0;
}
