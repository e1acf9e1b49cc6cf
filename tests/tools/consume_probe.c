/*
 * consume_probe.c -- reads messages with librill's consumer and prints each
 * one as a line of hex fields, so the interop tests can compare what librill
 * read with what another client wrote, byte for byte.
 *
 * Usage: consume_probe BOOTSTRAP TOPIC COUNT [-g GROUP] [-p P,P,...] [-i IDLE_S] [-X key=value]...
 *   Without -g: assigns the listed partitions (default 0) from the beginning.
 *   With -g: subscribes as a member of GROUP.
 * Output, one line per message:
 *   MSG <partition> <offset> <timestamp> <key hex|-> <value hex|-> <nheaders> [<name hex>=<value
 * hex|->]... then "DONE <count>"; error events as "ERR <name> <text>" on stderr. Exits 0 when COUNT
 * messages were read, 1 on timeout (30 s without progress).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rill.h"

static void hex(const void *p, size_t n) {
    const unsigned char *b = p;
    if (!p) {
        fputs("-", stdout);
        return;
    }
    if (!n)
        fputs("\"\"", stdout);
    for (size_t i = 0; i < n; i++)
        printf("%02x", b[i]);
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: consume_probe BOOTSTRAP TOPIC COUNT [-g GROUP] [-p P,...] "
                        "[-X key=value]...\n");
        return 2;
    }
    const char *topic = argv[2];
    long want = atol(argv[3]);
    const char *group = NULL, *parts = "0";
    int idle = 30;
    char err[512];
    rill_conf_t *conf = rill_conf_new();
    rill_conf_set(conf, "bootstrap.servers", argv[1], err, sizeof(err));
    rill_conf_set(conf, "auto.offset.reset", "earliest", err, sizeof(err));
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "-g") && i + 1 < argc) {
            group = argv[++i];
        } else if (!strcmp(argv[i], "-p") && i + 1 < argc) {
            parts = argv[++i];
        } else if (!strcmp(argv[i], "-i") && i + 1 < argc) {
            idle = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "-X") && i + 1 < argc) {
            char *kv = argv[++i], *eq = strchr(kv, '=');
            if (!eq) {
                fprintf(stderr, "bad -X %s\n", kv);
                return 2;
            }
            *eq = 0;
            if (rill_conf_set(conf, kv, eq + 1, err, sizeof(err)) != RILL_CONF_OK) {
                fprintf(stderr, "%s\n", err);
                return 2;
            }
        } else {
            fprintf(stderr, "unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    if (group && rill_conf_set(conf, "group.id", group, err, sizeof(err)) != RILL_CONF_OK) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    rill_consumer_t *c = rill_consumer_new(conf, err, sizeof(err));
    rill_conf_destroy(conf);
    if (!c) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    rill_err_t rc;
    if (group) {
        const char *t[] = {topic};
        rc = rill_subscribe(c, t, 1);
    } else {
        rill_topic_partition_t tp[256];
        size_t n = 0;
        char *dup = strdup(parts);
        for (char *s = strtok(dup, ","); s && n < 256; s = strtok(NULL, ",")) {
            tp[n].topic = topic;
            tp[n].partition = atoi(s);
            tp[n].offset = RILL_OFFSET_BEGINNING;
            n++;
        }
        free(dup);
        rc = rill_assign(c, tp, n);
    }
    if (rc) {
        fprintf(stderr, "ERR %s subscribe/assign\n", rill_err_name(rc));
        return 1;
    }
    long got = 0;
    time_t last = time(NULL);
    while (got < want && time(NULL) - last < idle) {
        rill_message_t *m = rill_consumer_poll(c, 200);
        if (!m)
            continue;
        if (rill_message_err(m)) {
            fprintf(stderr, "ERR %s %s\n", rill_err_name(rill_message_err(m)),
                    rill_message_errstr(m));
            rill_message_destroy(m);
            continue;
        }
        size_t kl, vl;
        const void *k = rill_message_key(m, &kl), *v = rill_message_value(m, &vl);
        printf("MSG %d %lld %lld ", rill_message_partition(m), (long long)rill_message_offset(m),
               (long long)rill_message_timestamp(m, NULL));
        hex(k, kl);
        putchar(' ');
        hex(v, vl);
        size_t nh = rill_message_header_count(m);
        printf(" %zu", nh);
        for (size_t i = 0; i < nh; i++) {
            const char *hn;
            size_t hnl, hvl;
            const void *hv;
            rill_message_header(m, i, &hn, &hnl, &hv, &hvl);
            putchar(' ');
            hex(hn, hnl);
            putchar('=');
            hex(hv, hvl);
        }
        putchar('\n');
        rill_message_destroy(m);
        got++;
        last = time(NULL);
    }
    printf("DONE %ld\n", got);
    fflush(stdout);
    if (group)
        rill_commit(c, NULL, 0, 0);
    rill_consumer_close(c, 5000);
    rill_consumer_destroy(c);
    return got >= want ? 0 : 1;
}
