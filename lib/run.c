/* run.c — a child process as a filter step, its standard error kept for one line of report. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "io.h"
#include "run.h"

/* The last non-empty line of the captured standard error, made printable. */
static void
last_line(int fd, struct run_result *r)
{
	char buf[4096];
	off_t end = lseek(fd, 0, SEEK_END), at;
	ssize_t n;
	size_t i, s, len;

	r->msg[0] = '\0';
	if (end <= 0)
		return;
	at = end > (off_t)sizeof buf - 1 ? end - ((off_t)sizeof buf - 1) : 0;
	if (lseek(fd, at, SEEK_SET) < 0 || (n = io_read_full(fd, buf, sizeof buf - 1)) <= 0)
		return;
	len = (size_t)n;
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	for (s = len; s > 0 && buf[s - 1] != '\n'; s--)
		;
	len -= s;
	if (len >= sizeof r->msg)
		len = sizeof r->msg - 1;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[s + i];

		r->msg[i] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	r->msg[len] = '\0';
}

int
run_filter(char *const argv[], int infd, int outfd, struct run_result *r, struct err *e)
{
	int errfd, status;
	pid_t pid;

	memset(r, 0, sizeof *r);
	if ((errfd = io_spool(e)) < 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(errfd);
		return err_sys(e, EX_OSERR, "cannot start %s: fork", argv[0]);
	}
	if (pid == 0) {
		int nul = -1;

		signal(SIGPIPE, SIG_DFL);
		if (outfd < 0 && (nul = open("/dev/null", O_WRONLY)) < 0)
			_exit(127);
		if (dup2(infd, STDIN_FILENO) < 0 || dup2(outfd < 0 ? nul : outfd, STDOUT_FILENO) < 0
		    || dup2(errfd, STDERR_FILENO) < 0)
			_exit(127);
		closefrom(3);
		execv(argv[0], argv);
		dprintf(STDERR_FILENO, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			close(errfd);
			return err_sys(e, EX_OSERR, "waiting for %s", argv[0]);
		}
	if (WIFSIGNALED(status)) {
		r->signaled = 1;
		r->status = 128 + WTERMSIG(status);
	} else {
		r->status = WEXITSTATUS(status);
	}
	last_line(errfd, r);
	close(errfd);
	return 0;
}
