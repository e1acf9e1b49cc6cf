/*
 * produce_probe -- drives librill's producer (include/rill.h) from a script on
 * stdin, for the interop tests that the CLI cannot express: null keys and
 * values, binary keys/values/headers, 1 MiB values, and delivery reports
 * checked message by message, with the test acting between flushes (moving
 * leaders, injecting errors) while the producer stays up.
 *
 * usage: produce_probe -b BOOTSTRAP -t TOPIC [-w FINAL_FLUSH_MS] [-X key=value]...
 *
 * stdin, binary-safe: a sequence of items, each starting with a text line.
 *   M PARTITION KLEN VLEN NHDR\n     a message: PARTITION is a number or -1
 *                                    (RILL_PARTITION_ANY); then NHDR headers,
 *                                    each "NLEN HVLEN\n" + NLEN name bytes +
 *                                    HVLEN value bytes (-1: null value);
 *                                    then KLEN key bytes, VLEN value bytes
 *                                    (-1: null key / null value)
 *   F TIMEOUT_MS\n                   rill_flush; answers "FLUSHED <err name>"
 *   P TIMEOUT_MS\n                   rill_poll once; answers "POLLED <n>"
 * stdout, one line per event, flushed at once:
 *   DR <seq> <OK|ERR_NAME> <partition> <offset>   a delivery report; seq
 *                                    counts M items from 0
 *   PRODUCE_ERR <seq> <ERR_NAME>     rill_produce refused message seq (no
 *                                    report will follow)
 * At end of input: flush (up to FINAL_FLUSH_MS, default 30000), destroy, print
 *   DONE produced=N delivered=D failed=F
 * and exit 0 only if every message was delivered.  Exit 2: bad arguments or
 * input.  Every error is also reported on stderr.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rill.h"

#define MAX_HEADERS 64
#define MAX_FIELD (64 * 1024 * 1024)

static unsigned long delivered, failed;

static const char *err_word(rill_err_t err) { return err ? rill_err_name(err) : "OK"; }

/* Runs inside rill_poll/rill_flush on this thread. */
static void on_delivery(rill_producer_t *p, const rill_delivery_t *dr, void *opaque) {
    (void)p;
    (void)opaque;
    if (dr->err)
        failed++;
    else
        delivered++;
    printf("DR %lu %s %d %lld\n", (unsigned long)(uintptr_t)dr->msg_opaque, err_word(dr->err),
           (int)dr->partition, (long long)dr->offset);
    fflush(stdout);
}

/* Reads exactly n bytes (n == -1: null) into a fresh buffer; returns 0 or -1. */
static int read_field(long n, char **out) {
    *out = NULL;
    if (n < 0)
        return n == -1 ? 0 : -1;
    if (n > MAX_FIELD)
        return -1;
    *out = malloc((size_t)n + 1);
    if (!*out)
        return -1;
    if (n && fread(*out, 1, (size_t)n, stdin) != (size_t)n)
        return -1;
    return 0;
}

typedef struct msg {
    long part, klen, vlen, nhdr;
    char *key, *value;
    rill_header_t hdrs[MAX_HEADERS];
    char *hbufs[2 * MAX_HEADERS];
} msg_t;

static void msg_free(msg_t *m) {
    free(m->key);
    free(m->value);
    for (size_t i = 0; i < 2 * MAX_HEADERS; i++)
        free(m->hbufs[i]);
}

/* Reads the body of an M item after its line; returns 0 or -1 on bad input. */
static int read_msg(msg_t *m) {
    if (m->nhdr < 0 || m->nhdr > MAX_HEADERS)
        return -1;
    for (long i = 0; i < m->nhdr; i++) {
        long nlen, hvlen;
        if (scanf("%ld %ld", &nlen, &hvlen) != 2 || getchar() != '\n' || nlen < 0)
            return -1;
        if (read_field(nlen, &m->hbufs[2 * i]) || read_field(hvlen, &m->hbufs[2 * i + 1]))
            return -1;
        m->hbufs[2 * i][nlen] = '\0'; /* header names are C strings in rill.h */
        m->hdrs[i].name = m->hbufs[2 * i];
        m->hdrs[i].value = m->hbufs[2 * i + 1];
        m->hdrs[i].value_len = hvlen < 0 ? 0 : (size_t)hvlen;
    }
    return read_field(m->klen, &m->key) || read_field(m->vlen, &m->value) ? -1 : 0;
}

static int produce_one(rill_producer_t *p, const char *topic, unsigned long seq, msg_t *m) {
    for (;;) {
        rill_err_t err =
            rill_produce(p, topic, (int32_t)m->part, m->key, m->klen < 0 ? 0 : (size_t)m->klen,
                         m->value, m->vlen < 0 ? 0 : (size_t)m->vlen, m->nhdr ? m->hdrs : NULL,
                         (size_t)m->nhdr, 0, (void *)(uintptr_t)seq);
        if (err == RILL_ERR_QUEUE_FULL) {
            rill_poll(p, 10);
            continue;
        }
        if (err) {
            failed++;
            printf("PRODUCE_ERR %lu %s\n", seq, rill_err_name(err));
            fprintf(stderr, "produce_probe: message %lu: %s\n", seq, rill_err_str(err));
            fflush(stdout);
        }
        rill_poll(p, 0);
        return 0;
    }
}

static int usage(void) {
    fprintf(stderr,
            "usage: produce_probe -b BOOTSTRAP -t TOPIC [-w FINAL_FLUSH_MS] [-X key=value]... "
            "< script\n");
    return 2;
}

int main(int argc, char **argv) {
    const char *topic = NULL;
    int final_flush_ms = 30000;
    char errstr[512];
    rill_conf_t *conf = rill_conf_new();
    rill_conf_set_dr_cb(conf, on_delivery);
    for (int i = 1; i < argc; i++) {
        const char *key = NULL, *val = NULL;
        char *kv = NULL;
        if (i + 1 >= argc)
            return usage();
        if (!strcmp(argv[i], "-b")) {
            key = "bootstrap.servers";
            val = argv[++i];
        } else if (!strcmp(argv[i], "-t")) {
            topic = argv[++i];
            continue;
        } else if (!strcmp(argv[i], "-w")) {
            final_flush_ms = atoi(argv[++i]);
            continue;
        } else if (!strcmp(argv[i], "-X")) {
            kv = argv[++i];
            char *eq = strchr(kv, '=');
            if (!eq)
                return usage();
            *eq = '\0';
            key = kv;
            val = eq + 1;
        } else {
            return usage();
        }
        if (rill_conf_set(conf, key, val, errstr, sizeof errstr) != RILL_CONF_OK) {
            fprintf(stderr, "produce_probe: %s\n", errstr);
            rill_conf_destroy(conf);
            return 2;
        }
    }
    if (!topic)
        return usage();
    rill_producer_t *p = rill_producer_new(conf, errstr, sizeof errstr);
    rill_conf_destroy(conf);
    if (!p) {
        fprintf(stderr, "produce_probe: %s\n", errstr);
        return 2;
    }

    unsigned long seq = 0;
    int rc = 0;
    char kind[2];
    while (scanf("%1s", kind) == 1) {
        long a;
        if (kind[0] == 'M') {
            msg_t m;
            memset(&m, 0, sizeof m);
            if (scanf("%ld %ld %ld %ld", &m.part, &m.klen, &m.vlen, &m.nhdr) != 4 ||
                getchar() != '\n' || read_msg(&m)) {
                fprintf(stderr, "produce_probe: bad M item (message %lu)\n", seq);
                msg_free(&m);
                rc = 2;
                break;
            }
            produce_one(p, topic, seq++, &m);
            msg_free(&m);
        } else if ((kind[0] == 'F' || kind[0] == 'P') && scanf("%ld", &a) == 1) {
            if (kind[0] == 'F')
                printf("FLUSHED %s\n", err_word(rill_flush(p, (int)a)));
            else
                printf("POLLED %d\n", rill_poll(p, (int)a));
            fflush(stdout);
        } else {
            fprintf(stderr, "produce_probe: bad item '%s'\n", kind);
            rc = 2;
            break;
        }
    }
    if (rill_flush(p, final_flush_ms))
        fprintf(stderr, "produce_probe: final flush timed out\n");
    rill_producer_destroy(p); /* serves the reports of anything left */
    printf("DONE produced=%lu delivered=%lu failed=%lu\n", seq, delivered, failed);
    fflush(stdout);
    if (rc)
        return rc;
    return failed || delivered != seq ? 1 : 0;
}
