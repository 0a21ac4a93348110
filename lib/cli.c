/* cli.c — program name, error reporting and exits shared by the commands. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "io.h"

/* The one piece of process-wide state: set once by cli_init, read by the reporters. */
static const char *progname = "secmail";
/* ... and, in batch mode, the input being worked on (cli_set_subject). */
static const char *subject;

void
cli_init(int argc, char **argv)
{
	struct sigaction sa;
	const char *p;

	if (argc > 0 && argv[0] != NULL && argv[0][0] != '\0') {
		p = strrchr(argv[0], '/');
		progname = p != NULL ? p + 1 : argv[0];
	}
	/* Writes to a closed pipe fail with EPIPE instead of killing us mid-buffer; cli_die_err
	 * turns that into a quiet SIGPIPE exit after cleanup. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
}

void
cli_set_subject(const char *s)
{
	subject = s;
}

const char *
cli_progname(void)
{
	return progname;
}

/* One line on stderr. The message may quote the input (a header value, a file name): it is
 * written through buf_add_printable, so no control or bidi character reaches the terminal
 * or a log. */
static void
vwarn(const char *fmt, va_list ap)
{
	struct buf b = BUF_INIT;
	char msg[1024];
	int n;

	n = vsnprintf(msg, sizeof msg, fmt, ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof msg)
		n = (int)sizeof msg - 1;
	buf_adds(&b, progname);
	buf_adds(&b, ": ");
	if (subject != NULL) {
		buf_add_printable(&b, subject, strlen(subject));
		buf_adds(&b, ": ");
	}
	buf_add_printable(&b, msg, (size_t)n);
	buf_addc(&b, '\n');
	if (!b.oom)
		(void)io_write_all(STDERR_FILENO, b.p, b.len);
	buf_free(&b);
}

void
cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
}

void
cli_die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(fmt, ap);
	va_end(ap);
	exit(code);
}

static _Noreturn void
die_sigpipe(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
	raise(SIGPIPE);
	_exit(128 + SIGPIPE);
}

void
cli_die_err(const struct err *e)
{
	if (e->sys == EPIPE)
		die_sigpipe();
	cli_die(e->code ? e->code : EX_SOFTWARE, "%s", e->msg);
}

void
cli_close_stdout(void)
{
	struct err e;

	/* Everything the commands write goes through io_out on fd 1; closing it catches errors
	 * that only show at close (NFS, quota). */
	if (close(STDOUT_FILENO) != 0 && errno != EBADF) {
		err_sys(&e, EX_IOERR, "write error: standard output");
		cli_die_err(&e);
	}
}

void
cli_help(const char *usage)
{
	struct err e;

	if (io_write_all(STDOUT_FILENO, usage, strlen(usage)) != 0) {
		err_sys(&e, EX_IOERR, "write error: standard output");
		cli_die_err(&e);
	}
	exit(EX_OK);
}

void
cli_usage(const char *usage, const char *fmt, ...)
{
	const char *end;
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vwarn(fmt, ap);
		va_end(ap);
	}
	/* Only the synopsis lines (up to the first blank line) on errors. */
	end = strstr(usage, "\n\n");
	(void)io_write_all(STDERR_FILENO, usage, end ? (size_t)(end - usage) + 1 : strlen(usage));
	fprintf(stderr, "Try '%s --help' for more information.\n", progname);
	exit(EX_USAGE);
}

void
cli_version(void)
{
	char buf[128];
	struct err e;
	int n;

	n = snprintf(buf, sizeof buf, "%s (secmail) %s\n", progname, SECMAIL_VERSION);
	if (io_write_all(STDOUT_FILENO, buf, (size_t)n) != 0) {
		err_sys(&e, EX_IOERR, "write error: standard output");
		cli_die_err(&e);
	}
	exit(EX_OK);
}

long long
cli_number(const char *s, long long max)
{
	long long v = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}
