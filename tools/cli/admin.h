/*
 * admin.h -- the admin side of the `rill` tool: `rill group` (group.c),
 * the admin handle every admin subcommand opens, and the plain-text tables
 * that `rill topic list|describe` and `rill group list|describe` print.
 */
#ifndef RILL_CLI_ADMIN_H
#define RILL_CLI_ADMIN_H

#include <stddef.h>
#include <stdio.h>

#include "rill.h"

int cli_group(rill_conf_t *conf, int argc, char **argv);
extern const char cli_group_usage[];

/*
 * An admin handle for subcommand `who`, or NULL after printing why (then
 * the exit code is CLI_USAGE: nothing was started).  *timeout_ms gets the
 * call timeout: request.timeout.ms.
 */
rill_admin_t *cli_admin_open(const rill_conf_t *conf, const char *who, int *timeout_ms);

/*
 * A table printed with each column as wide as its widest cell, two spaces
 * apart, header row first; the last column is not padded.  Cells are
 * copied.  Out of memory makes cells empty rather than failing.
 */
typedef struct cli_table cli_table;

cli_table *cli_table_new(size_t ncols, const char *const *headers);
/* Appends one cell (printf format) to the current row; a row ends after ncols cells. */
void cli_table_cell(cli_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Rows added so far. */
size_t cli_table_rows(const cli_table *t);
void cli_table_print(const cli_table *t, FILE *out);
void cli_table_free(cli_table *t);

/* "1,2,3" for a list of broker ids into buf (truncated to fit). */
const char *cli_ids(char *buf, size_t size, const int32_t *ids, size_t n);

#endif
