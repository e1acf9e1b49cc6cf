/*
 * common.c -- what every `rill` subcommand shares: the -b and -X options,
 * usage errors (exit 2), number parsing and a clock.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client/conf.h"

/* "rill produce: " for a subcommand, "rill: " for the global options (who ""). */
static void prefix(const char *who) { fprintf(stderr, "rill%s%s: ", *who ? " " : "", who); }

int cli_common_option(rill_conf_t *conf, const char *who, int c, const char *arg) {
    char err[512];
    if (c == 'b') {
        if (rill_conf_set(conf, "bootstrap.servers", arg, err, sizeof(err)) != RILL_CONF_OK) {
            prefix(who);
            fprintf(stderr, "-b: %s\n", err);
            return CLI_USAGE;
        }
        return -1;
    }
    /* -X key=value */
    if (!strcmp(arg, "list") || !strcmp(arg, "help")) {
        rill__conf_print_keys(stdout);
        return CLI_OK;
    }
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) {
        prefix(who);
        fprintf(stderr, "-X expects KEY=VALUE, got \"%s\" (-X list shows the keys)\n", arg);
        return CLI_USAGE;
    }
    char *key = strndup(arg, (size_t)(eq - arg));
    if (!key) {
        prefix(who);
        fputs("out of memory\n", stderr);
        return CLI_FAIL;
    }
    rill_conf_res_t r = rill_conf_set(conf, key, eq + 1, err, sizeof(err));
    free(key);
    if (r != RILL_CONF_OK) {
        prefix(who);
        fprintf(stderr, "%s\n", err);
        return CLI_USAGE;
    }
    return -1;
}

int cli_usage_error(const char *who, const char *usage, const char *fmt, ...) {
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        prefix(who);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
    }
    /* Only the synopsis (lines starting "usage:" or indented 7+ spaces), then a pointer to -h. */
    for (const char *line = usage; *line;) {
        size_t len = strcspn(line, "\n");
        if (strncmp(line, "usage:", 6) && strncmp(line, "       ", 7))
            break;
        fprintf(stderr, "%.*s\n", (int)len, line);
        line += len + (line[len] == '\n');
    }
    fprintf(stderr, "Run \"rill%s%s -h\" for the options.\n", *who ? " " : "", who);
    return CLI_USAGE;
}

int cli_getopt_error(const char *who, const char *usage, int c, int optopt, const char *arg) {
    if (c == ':')
        return cli_usage_error(who, usage, "option -%c needs a value", optopt);
    if (optopt && isprint(optopt))
        return cli_usage_error(who, usage, "unknown option -%c", optopt);
    return cli_usage_error(who, usage, "unknown option %s", arg ? arg : "");
}

int cli_parse_int(const char *s, int64_t min, int64_t max, int64_t *out) {
    if (!s || !*s || isspace((unsigned char)*s))
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end || errno == ERANGE || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int64_t cli_conf_int(const rill_conf_t *conf, const char *key, int64_t def) {
    int64_t v;
    const char *s = rill_conf_get(conf, key);
    return cli_parse_int(s, INT64_MIN, INT64_MAX, &v) == 0 ? v : def;
}

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
