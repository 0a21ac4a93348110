/* secret.c — reading passphrases without leaving copies behind. */
#include "secret.h"

#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "io.h"

void
secret_no_core(void)
{
	struct rlimit rl = { 0, 0 };

	(void)setrlimit(RLIMIT_CORE, &rl);	/* can only lower: never fails for 0 */
}

/* Read up to SECRET_MAX bytes from fd, keep the first line. */
static int
read_line(struct secret *s, int fd, const char *what, struct err *e)
{
	char *buf;
	ssize_t r;
	size_t n = 0;

	s->p = NULL;
	s->len = 0;
	s->size = 0;
	secret_no_core();
	buf = malloc(SECRET_MAX + 1);
	if (buf == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	while (n < SECRET_MAX) {
		r = io_read(fd, buf + n, SECRET_MAX - n);
		if (r < 0) {
			err_sys(e, EX_IOERR, "cannot read %s", what);
			OPENSSL_cleanse(buf, SECRET_MAX + 1);
			free(buf);
			return -1;
		}
		if (r == 0)
			break;
		if (memchr(buf + n, '\n', (size_t)r) != NULL) {
			n += (size_t)r;
			break;
		}
		n += (size_t)r;
	}
	buf[n] = '\0';
	s->len = strcspn(buf, "\r\n");
	buf[s->len] = '\0';
	s->p = buf;
	s->size = SECRET_MAX + 1;
	return 0;
}

int
secret_from_file(struct secret *s, const char *path, struct err *e)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0) {
		s->p = NULL;
		return err_sys(e, EX_NOINPUT, "cannot open %s", path);
	}
	if (io_file_private(fd, path, 1, e) != 0) {
		s->p = NULL;
		close(fd);
		return -1;
	}
	r = read_line(s, fd, path, e);
	close(fd);
	return r;
}

int
secret_from_fd(struct secret *s, int fd, struct err *e)
{
	char what[32];

	snprintf(what, sizeof what, "file descriptor %d", fd);
	return read_line(s, fd, what, e);
}

int
secret_from_env(struct secret *s, const char *var, struct err *e)
{
	const char *v = getenv(var);

	s->p = NULL;
	s->len = 0;
	if (v == NULL)
		return err_set(e, EX_USAGE, "environment variable %s is not set", var);
	s->len = strcspn(v, "\r\n");
	s->p = malloc(s->len + 1);
	if (s->p == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	s->size = s->len + 1;
	memcpy(s->p, v, s->len);
	s->p[s->len] = '\0';
	return 0;
}

int
secret_from_command(struct secret *s, const char *cmd, struct err *e)
{
	int fds[2], status, r;
	pid_t pid;

	s->p = NULL;
	if (pipe(fds) != 0)
		return err_sys(e, EX_OSERR, "pipe");
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return err_sys(e, EX_OSERR, "fork");
	}
	if (pid == 0) {
		close(fds[0]);
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		close(fds[1]);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	r = read_line(s, fds[0], "password command output", e);
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			secret_free(s);
			return err_sys(e, EX_OSERR, "waitpid");
		}
	if (r != 0)
		return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		secret_free(s);
		return err_set(e, EX_CONFIG, "password command failed (status %d)",
		    WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	}
	return 0;
}

void
secret_free(struct secret *s)
{
	if (s->p != NULL) {
		OPENSSL_cleanse(s->p, s->size);
		free(s->p);
	}
	s->p = NULL;
	s->len = 0;
	s->size = 0;
}
