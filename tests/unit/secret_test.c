/* secret_test.c — passphrase sources: first line only, line ends stripped, errors named. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "secret.h"
#include "tap.h"

int
main(void)
{
	char path[] = "/tmp/secret_test.XXXXXX";
	struct secret s;
	struct err e;
	int fd, p[2];

	fd = mkstemp(path);
	ok(fd >= 0 && write(fd, "hunter2\r\nsecond line\n", 21) == 21, "fixture written");
	close(fd);
	ok(secret_from_file(&s, path, &e) == 0, "from a file");
	is_str(s.p, "hunter2", "first line, CR LF stripped");
	ok(s.len == 7, "length excludes the line end");
	secret_free(&s);
	ok(s.p == NULL, "freed");
	unlink(path);
	ok(secret_from_file(&s, path, &e) < 0 && e.code == EX_NOINPUT, "a missing file is EX_NOINPUT");
	ok(strstr(e.msg, path) != NULL, "the message names the file");

	ok(pipe(p) == 0 && write(p[1], "from-fd", 7) == 7, "pipe fixture");
	close(p[1]);
	ok(secret_from_fd(&s, p[0], &e) == 0, "from a descriptor");
	is_str(s.p, "from-fd", "without a final newline too");
	secret_free(&s);
	close(p[0]);

	setenv("SECRET_TEST_VAR", "env pass\n", 1);
	ok(secret_from_env(&s, "SECRET_TEST_VAR", &e) == 0, "from the environment");
	is_str(s.p, "env pass", "spaces kept, newline dropped");
	secret_free(&s);
	unsetenv("SECRET_TEST_VAR");
	ok(secret_from_env(&s, "SECRET_TEST_VAR", &e) < 0, "an unset variable fails");
	ok(strstr(e.msg, "SECRET_TEST_VAR") != NULL, "the message names the variable");

	ok(secret_from_command(&s, "printf 'cmd-pass\\nignored\\n'", &e) == 0, "from a command");
	is_str(s.p, "cmd-pass", "the command's first line");
	secret_free(&s);
	ok(secret_from_command(&s, "echo leaked; exit 3", &e) < 0 && e.code == EX_CONFIG,
	    "a failing command is an error");
	ok(strstr(e.msg, "leaked") == NULL, "the error does not echo the output");
	return tap_done();
}
