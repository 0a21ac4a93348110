/* cli.h — what every command shares: program name, reporting, --help/--version, exits. */
#ifndef SECMAIL_CLI_H
#define SECMAIL_CLI_H

#include "err.h"

/* Call first in main(). Records the program name for messages and makes a closed pipe show up
 * as EPIPE from write(2), so output can be flushed and reported in one place. */
void cli_init(int argc, char **argv);
const char *cli_progname(void);

/* Messages from now on are about subject: "progname: subject: message" (NULL: none). Batch
 * mode names each input so; the name is escaped like the message. */
void cli_set_subject(const char *subject);

/* "progname: message" on stderr. */
void cli_warn(const char *fmt, ...) ERR_PRINTF(1, 2);
_Noreturn void cli_die(int code, const char *fmt, ...) ERR_PRINTF(2, 3);
/* Report a library error and exit with its code. A closed downstream pipe (EPIPE) ends quietly,
 * by SIGPIPE, as a pipeline expects: never with status 0. */
_Noreturn void cli_die_err(const struct err *e);

/* --help: usage text to stdout, exit 0 (or EX_IOERR if stdout cannot be written). */
_Noreturn void cli_help(const char *usage);
/* Bad usage: one line on stderr, then the usage synopsis, exit EX_USAGE. */
_Noreturn void cli_usage(const char *usage, const char *fmt, ...) ERR_PRINTF(2, 3);
_Noreturn void cli_version(void);
/* Flush and close stdout, exiting EX_IOERR (or quietly on EPIPE) if anything failed. */
void cli_close_stdout(void);

/* Parse a non-negative decimal number; -1 if it is not one or exceeds max. */
long long cli_number(const char *s, long long max);

#endif
