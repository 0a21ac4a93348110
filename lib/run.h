/* run.h — run another program as one step of a filter chain: its standard input from one
 * file, its standard output into another, its standard error kept for the caller's one-line
 * report (secmail-gateway runs the S/MIME tools and sendmail this way). */
#ifndef SECMAIL_RUN_H
#define SECMAIL_RUN_H

#include "err.h"

struct run_result {
	int status;		/* exit status 0..255, or 128 + signal number */
	int signaled;		/* it was killed by a signal */
	char msg[400];		/* the last non-empty line it wrote on standard error (control
				 * characters replaced), or "" */
};

/*
 * Run argv[0] (a path, not searched in PATH) with argv, standard input reading infd from its
 * current offset and standard output writing to outfd (-1: /dev/null); no other descriptor
 * is inherited, SIGPIPE is back to its default. Returns 0 when the program ran, whatever its
 * status (see r); -1 with e set (EX_OSERR) when it could not be started. A program that
 * cannot be executed exits 127 with the reason in r->msg.
 */
int run_filter(char *const argv[], int infd, int outfd, struct run_result *r, struct err *e);

#endif
