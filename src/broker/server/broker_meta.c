/*
 * broker_meta.c -- the few facts about the broker itself that must survive restarts:
 *
 *   <data-dir>/meta.properties  cluster.id (random, made on first start), node.id and a
 *                               format version, as Kafka writes it; a data directory
 *                               made by another node id is refused, as Kafka refuses it.
 *   <data-dir>/producer_ids     the end of the last block of producer ids handed out.
 *
 * Producer ids (InitProducerId) are taken in blocks of PID_BLOCK: the block's end is
 * written durably before any id of it is given out, and a restart continues after it, so
 * an id is never given twice even after a crash (ids of a partly used block are skipped).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "broker/server/server_int.h"
#include "broker/storage/fsutil.h"

#define PID_BLOCK 1000

/* Kafka's cluster ids: a random UUID in URL-safe base64 without padding (22 characters). */
static void new_cluster_id(char out[23]) {
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t u[16];
    if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u)) {
        /* No entropy source: time and pid still make collisions unlikely enough. */
        uint64_t a = (uint64_t)time(NULL) * 6364136223846793005ULL + (uint64_t)getpid();
        for (int i = 0; i < 16; i++) {
            a = a * 6364136223846793005ULL + 1442695040888963407ULL;
            u[i] = (uint8_t)(a >> 56);
        }
    }
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    int o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (int i = 0; i < 16; i++) {
        acc = acc << 8 | u[i];
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out[o++] = b64[(acc >> bits) & 63];
        }
    }
    if (bits)
        out[o++] = b64[(acc << (6 - bits)) & 63];
    out[o] = '\0';
}

/* Finds "key=value" in a properties text; copies value into out.  0 or -1. */
static int prop_get(const char *text, const char *key, char *out, size_t cap) {
    size_t klen = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, key, klen) == 0 && p[klen] == '=') {
            const char *v = p + klen + 1;
            size_t n = strcspn(v, "\r\n");
            if (n >= cap)
                return -1;
            memcpy(out, v, n);
            out[n] = '\0';
            return 0;
        }
    }
    return -1;
}

int rill__broker_meta_load(rill_server *srv, char *err, size_t errlen) {
    const char *dir = srv->cfg->data_dir;
    char path[4200];
    snprintf(path, sizeof(path), "%s/meta.properties", dir);
    uint8_t *data = NULL;
    size_t len = 0;
    if (rill__fs_read_file(path, 65536, &data, &len) == 0) {
        char *text = malloc(len + 1);
        if (!text) {
            free(data);
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        memcpy(text, data, len);
        text[len] = '\0';
        free(data);
        char node[32];
        int ok = prop_get(text, "cluster.id", srv->cluster_id, sizeof(srv->cluster_id)) == 0;
        if (ok && prop_get(text, "node.id", node, sizeof(node)) == 0 &&
            strtol(node, NULL, 10) != srv->cfg->node_id) {
            snprintf(err, errlen,
                     "%s was written by node.id %s, but this broker is node.id %d: use the "
                     "node.id the data was made with, or another --data-dir",
                     path, node, (int)srv->cfg->node_id);
            free(text);
            return -1;
        }
        free(text);
        if (!ok || !srv->cluster_id[0]) {
            snprintf(err, errlen, "%s has no cluster.id", path);
            return -1;
        }
    } else if (errno == ENOENT) {
        new_cluster_id(srv->cluster_id);
        char text[256];
        int n = snprintf(text, sizeof(text),
                         "# rill-broker: do not edit\nversion=1\ncluster.id=%s\nnode.id=%d\n",
                         srv->cluster_id, (int)srv->cfg->node_id);
        if (rill__fs_write_atomic(dir, "meta.properties", text, (size_t)n, 1) != 0) {
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
            return -1;
        }
    } else {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }

    snprintf(path, sizeof(path), "%s/producer_ids", dir);
    srv->next_pid = srv->pid_block_end = 0;
    if (rill__fs_read_file(path, 64, &data, &len) == 0) {
        char num[65];
        memcpy(num, data, len);
        num[len] = '\0';
        free(data);
        char *end;
        long long v = strtoll(num, &end, 10);
        if (end == num || v < 0) {
            snprintf(err, errlen, "%s is damaged (expected a number)", path);
            return -1;
        }
        srv->next_pid = srv->pid_block_end = v;
    } else if (errno != ENOENT) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int64_t rill__broker_next_pid(rill_server *srv) {
    if (srv->next_pid >= srv->pid_block_end) {
        int64_t end = srv->next_pid + PID_BLOCK;
        char text[32];
        int n = snprintf(text, sizeof(text), "%" PRId64 "\n", end);
        if (rill__fs_write_atomic(srv->cfg->data_dir, "producer_ids", text, (size_t)n, 1) != 0) {
            RILL_LOG(srv->lg, RILL_LOG_ERR, "server", "cannot persist producer ids: %s",
                     strerror(errno));
            return -1;
        }
        srv->pid_block_end = end;
    }
    return srv->next_pid++;
}
