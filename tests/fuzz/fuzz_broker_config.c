/*
 * fuzz_broker_config.c -- rill-broker's configuration parser (broker_config.h) on
 * arbitrary text: a --config file is user input, and no line of it may make the parser
 * read out of bounds, whatever it holds (long lines, NULs, CRs, odd HOST:PORT forms).
 * Whatever the verdict, the config must stay self-consistent (listener count in range,
 * strings terminated).
 */
#include <stdint.h>
#include <string.h>

#include "broker/server/broker_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) {
    rill_broker_config c;
    rill__broker_config_defaults(&c);
    char err[512];
    rill__broker_config_parse(&c, (const char *)d, n, "fuzz", err, sizeof(err));
    if (c.nlisteners < 0 || c.nlisteners > RILL_BROKER_MAX_LISTENERS ||
        memchr(c.data_dir, '\0', sizeof(c.data_dir)) == NULL ||
        memchr(err, '\0', sizeof(err)) == NULL)
        __builtin_trap();
    for (int i = 0; i < c.nlisteners; i++)
        if (memchr(c.listeners[i].host, '\0', sizeof(c.listeners[i].host)) == NULL ||
            c.listeners[i].port < 0 || c.listeners[i].port > 65535)
            __builtin_trap();
    /* The same bytes as one -X argument (NUL-terminated copy, bounded). */
    char kv[600];
    size_t k = n < sizeof(kv) - 1 ? n : sizeof(kv) - 1;
    memcpy(kv, d, k);
    kv[k] = '\0';
    rill__broker_config_set_kv(&c, kv, err, sizeof(err));
    rill_hostport hp;
    if (rill__hostport_parse(kv, &hp) == 0 && (hp.port < 0 || hp.port > 65535))
        __builtin_trap();
    return 0;
}
