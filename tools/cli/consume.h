/*
 * consume.h -- the consuming side of the `rill` tool: `rill consume`, the
 * kcat-like output format it prints with, and the partition lookup that
 * `rill consume` and `rill perf consume` need to read a whole topic
 * without a group.
 */
#ifndef RILL_CLI_CONSUME_H
#define RILL_CLI_CONSUME_H

#include <stdint.h>
#include <stdio.h>

#include "rill.h"

int cli_consume(rill_conf_t *conf, int argc, char **argv);
extern const char cli_consume_usage[];

/*
 * The partition ids of `topic`, from a Metadata request to the cluster that
 * conf names.  Returns 0 with *parts (free()) and *n set, or a Kafka or
 * local error with a message in errstr (unknown topic, no broker within
 * timeout_ms).
 */
rill_err_t cli_topic_partitions(const rill_conf_t *conf, const char *topic, int timeout_ms,
                                int32_t **parts, int32_t *n, char *errstr, size_t errstr_size);

/*
 * A compiled output format (kcat's -f): literal text with \n \r \t \\ \xHH
 * escapes and the tokens
 *   %t topic  %p partition  %o offset  %T timestamp (ms, -1 if none)
 *   %k key  %K key length (-1 for null)  %s or %v value  %S value length
 *   %R value length as a 4-byte big-endian integer  %h headers as
 *   name=value,... (a null header value prints as NULL, as kcat does)  %% a '%'
 */
typedef struct cli_fmt cli_fmt;

/* NULL on a bad format, with the reason in errstr. */
cli_fmt *cli_fmt_new(const char *spec, char *errstr, size_t errstr_size);
void cli_fmt_destroy(cli_fmt *f);
/* Writes one message; returns 0, or -1 when the stream failed. */
int cli_fmt_print(const cli_fmt *f, const rill_message_t *m, FILE *out);

#endif
