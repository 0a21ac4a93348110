/* smtpd_session.c — libFuzzer target: whatever a -bs client sends (commands, parameters,
 * paths, pipelined groups, data with or without its end, over-long lines, NULs), the session
 * answers and ends cleanly, and every message it hands over is well formed. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "io.h"
#include "smtpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
submit(void *ctx, struct smtpd_msg *m, char *reply, size_t cap, struct err *e)
{
	size_t i;

	(void)ctx;
	(void)e;
	if (m->from == NULL || m->rcpt.n == 0 || m->fd < 0)
		abort();
	for (i = 0; i < m->rcpt.n; i++)
		if (m->rcpt.v[i][0] == '\0' || strpbrk(m->rcpt.v[i], " \r\n<>") != NULL)
			abort();
	if (strpbrk(m->from, " \r\n<>") != NULL)
		abort();
	snprintf(reply, cap, "250 2.0.0 Ok");
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e;
	int in, out;

	if (size > 65536 || (in = io_spool(&e)) < 0)
		return 0;
	if (io_write_all(in, data, size) != 0 || lseek(in, 0, SEEK_SET) != 0 ||
	    (out = open("/dev/null", O_WRONLY)) < 0) {
		close(in);
		return 0;
	}
	(void)smtpd_session(in, out, "fuzz.example", submit, NULL, &e);
	close(in);
	close(out);
	return 0;
}
