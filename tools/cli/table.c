/*
 * table.c -- plain-text tables for the admin subcommands (see admin.h):
 * collected cell by cell, then printed with every column as wide as its
 * widest cell, like kafka-consumer-groups and kubectl print theirs.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "cli.h"

struct cli_table {
    size_t ncols;
    char **cells; /* row-major, header row first */
    size_t n, cap;
};

static void push(cli_table *t, char *s) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        char **v = realloc(t->cells, cap * sizeof(*v));
        if (!v) {
            free(s);
            return;
        }
        t->cells = v;
        t->cap = cap;
    }
    t->cells[t->n++] = s;
}

cli_table *cli_table_new(size_t ncols, const char *const *headers) {
    cli_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->ncols = ncols;
    for (size_t i = 0; i < ncols; i++)
        push(t, strdup(headers[i]));
    return t;
}

void cli_table_cell(cli_table *t, const char *fmt, ...) {
    if (!t)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    push(t, s);
}

size_t cli_table_rows(const cli_table *t) {
    return t && t->n > t->ncols ? (t->n - t->ncols + t->ncols - 1) / t->ncols : 0;
}

static const char *cell(const cli_table *t, size_t i) {
    return i < t->n && t->cells[i] ? t->cells[i] : "";
}

void cli_table_print(const cli_table *t, FILE *out) {
    if (!t || !t->ncols)
        return;
    size_t rows = (t->n + t->ncols - 1) / t->ncols;
    size_t *w = calloc(t->ncols, sizeof(*w));
    if (!w)
        return;
    for (size_t i = 0; i < rows * t->ncols; i++) {
        size_t len = strlen(cell(t, i));
        if (len > w[i % t->ncols])
            w[i % t->ncols] = len;
    }
    for (size_t r = 0; r < rows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            const char *s = cell(t, r * t->ncols + c);
            if (c + 1 < t->ncols)
                fprintf(out, "%-*s  ", (int)w[c], s);
            else
                fprintf(out, "%s\n", s);
        }
    }
    free(w);
}

void cli_table_free(cli_table *t) {
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

const char *cli_ids(char *buf, size_t size, const int32_t *ids, size_t n) {
    size_t len = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && len < size; i++) {
        int k = snprintf(buf + len, size - len, "%s%d", i ? "," : "", ids[i]);
        if (k < 0)
            break;
        len += (size_t)k;
    }
    return buf;
}

rill_admin_t *cli_admin_open(const rill_conf_t *conf, const char *who, int *timeout_ms) {
    char err[512];
    rill_admin_t *adm = rill_admin_new(conf, err, sizeof(err));
    if (!adm)
        fprintf(stderr, "rill %s: %s\n", who, err);
    *timeout_ms = (int)cli_conf_int(conf, "request.timeout.ms", 30000);
    return adm;
}
