/*
 * cli.h -- shared pieces of the `rill` command-line tool: exit codes, the
 * options every subcommand accepts (-b, -X), usage texts, and the
 * subcommand entry points (one file each under tools/cli/).
 *
 * Each subcommand gets a configuration already holding whatever global
 * options came before it, and argv starting at its own name; it returns
 * the process exit code.
 */
#ifndef RILL_CLI_H
#define RILL_CLI_H

#include <stdint.h>

#include "rill.h"

enum {
    CLI_OK = 0,    /* everything done and acknowledged */
    CLI_FAIL = 1,  /* ran, but something failed (messages, broker errors) */
    CLI_USAGE = 2, /* bad usage or configuration: nothing was started */
};

/* Options every subcommand takes, for getopt strings and usage texts. */
#define CLI_COMMON_OPTS "b:X:h"
#define CLI_COMMON_USAGE                                                                           \
    "  -b HOST:PORT[,...]  bootstrap brokers (default localhost:9092)\n"                           \
    "  -X KEY=VALUE        any librill configuration key (repeatable); -X list shows them\n"       \
    "  -h                  this help\n"

/*
 * Handles one of the common options (c is 'b' or 'X').  Returns -1 when the
 * option was applied, or an exit code to return now: CLI_OK after -X list,
 * CLI_USAGE (error printed as "rill <who>: ...", or "rill: ..." when who is "")
 * for a bad key or value.
 */
int cli_common_option(rill_conf_t *conf, const char *who, int c, const char *arg);

/*
 * Reports a usage error on stderr: "rill <who>: <message>", the synopsis
 * lines of `usage` and a pointer to -h; returns CLI_USAGE.  fmt may be NULL.
 */
int cli_usage_error(const char *who, const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The message for a getopt failure ('?' or ':', from an optstring that
 * starts with ':') and the usage; returns CLI_USAGE.
 */
int cli_getopt_error(const char *who, const char *usage, int c, int optopt, const char *arg);

/* Parses a whole decimal integer within [min, max]; 0 on success, -1 otherwise. */
int cli_parse_int(const char *s, int64_t min, int64_t max, int64_t *out);

/* A configuration value as an integer (e.g. "delivery.timeout.ms"), or def when unreadable. */
int64_t cli_conf_int(const rill_conf_t *conf, const char *key, int64_t def);

/* Monotonic seconds. */
double cli_now(void);

/* Subcommands (argv[0] is the subcommand's name). */
int cli_produce(rill_conf_t *conf, int argc, char **argv);
int cli_topic(rill_conf_t *conf, int argc, char **argv);
int cli_perf(rill_conf_t *conf, int argc, char **argv);

extern const char cli_produce_usage[];
extern const char cli_topic_usage[];
extern const char cli_perf_usage[];

#endif
