/*
 * replay_main.c -- runs a libFuzzer target without libFuzzer.
 *
 * Every file named on the command line (directories are walked one level)
 * is fed to LLVMFuzzerTestOneInput, then each is mutated a bounded number
 * of times with a fixed seed (bit flips, truncations, byte runs), so a
 * plain ctest run is a deterministic regression test of every decoder.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void run_one(const uint8_t *d, size_t n, int mutations) {
    LLVMFuzzerTestOneInput(d, n);
    uint8_t *m = malloc(n + 16);
    if (!m)
        return;
    for (int i = 0; i < mutations; i++) {
        size_t len = n;
        memcpy(m, d, n);
        switch (next() % 4) {
        case 0: /* flip a few bits */
            for (int k = 0; k < 4 && len; k++)
                m[next() % len] ^= (uint8_t)(1u << (next() % 8));
            break;
        case 1: /* truncate */
            len = len ? next() % len : 0;
            break;
        case 2: /* overwrite with 0xff (huge lengths, -1s) */
            if (len) {
                size_t at = next() % len;
                for (size_t k = at; k < len && k < at + 4; k++)
                    m[k] = 0xff;
            }
            break;
        default: /* random byte */
            if (len)
                m[next() % len] = (uint8_t)next();
        }
        LLVMFuzzerTestOneInput(m, len);
    }
    free(m);
}

static int run_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 4096;
            uint8_t *nb = realloc(buf, cap);
            if (!nb)
                break;
            buf = nb;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        if (!r)
            break;
        len += r;
    }
    fclose(f);
    run_one(buf ? buf : (const uint8_t *)"", len, 2000);
    free(buf);
    return 0;
}

int main(int argc, char **argv) {
    int files = 0;
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) != 0)
            continue;
        if (!S_ISDIR(st.st_mode)) {
            files += run_file(argv[i]) == 0;
            continue;
        }
        DIR *d = opendir(argv[i]);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char p[4096];
            snprintf(p, sizeof(p), "%s/%s", argv[i], e->d_name);
            files += run_file(p) == 0;
        }
        if (d)
            closedir(d);
    }
    /* Random inputs too, so a target with an empty corpus still runs. */
    uint8_t r[512];
    for (int i = 0; i < 2000; i++) {
        size_t n = next() % sizeof(r);
        for (size_t k = 0; k < n; k++)
            r[k] = (uint8_t)next();
        LLVMFuzzerTestOneInput(r, n);
    }
    printf("replayed %d corpus files (+ mutations and random inputs)\n", files);
    return 0;
}
