/* queue_entry.c — libFuzzer target: a queue file of any content (a crash, a disk error, an
 * older or newer version) is read or refused cleanly, and a bounce can be made from what
 * reads. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "io.h"
#include "queue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct queue q;
	static int ready;
	struct queue_item it;
	struct queue_dsn_rcpt r = { "x@example.org", "5.0.0", "fuzz" };
	struct err e;
	char path[4200];
	int fd;

	if (!ready) {
		char dir[64];

		snprintf(dir, sizeof dir, "/tmp/queue_entry_fuzz.%ld", (long)getpid());
		if (queue_open(&q, dir, &e) != 0)
			abort();
		ready = 1;
	}
	snprintf(path, sizeof path, "%s/new/1", q.dir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return 0;
	if (io_write_all(fd, data, size) != 0) {
		close(fd);
		return 0;
	}
	close(fd);
	if (queue_peek(&q, "1", &it, &e) == 0) {
		int out = io_spool(&e);

		if (it.env.nrcpt == 0 || it.env.from == NULL)
			abort();
		if (out >= 0) {
			(void)queue_bounce(&it, &r, 1, "MAILER-DAEMON@example.org", "example.org", 0, out, &e);
			close(out);
		}
		queue_item_free(&it);
	}
	return 0;
}
