/* queue_entry.c — libFuzzer target: a queue file of any content (a crash, a disk error, an
 * older or newer version) is read or refused cleanly, and a bounce can be made from what
 * reads. Input after a line "--state--" becomes the entry's state file. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io.h"
#include "queue.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct queue q;

static void
cleanup(void)
{
	static const char *subs[] = { "new/1", "state/1", "new", "tmp", "state", "failed", "" };
	char p[4200];
	size_t i;

	for (i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		snprintf(p, sizeof p, "%s/%s", q.dir, subs[i]);
		if (unlink(p) != 0)
			rmdir(p);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
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
		atexit(cleanup);
		ready = 1;
	}
	{
		static const char mark[] = "\n--state--\n";
		const uint8_t *st = NULL;
		size_t i, n = size;

		for (i = 0; i + sizeof mark - 1 <= size; i++)
			if (memcmp(data + i, mark, sizeof mark - 1) == 0) {
				n = i + 1;
				st = data + i + sizeof mark - 1;
				break;
			}
		snprintf(path, sizeof path, "%s/state/1", q.dir);
		unlink(path);
		if (st != NULL) {
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
			if (fd < 0 || io_write_all(fd, st, size - (size_t)(st - data)) != 0) {
				if (fd >= 0)
					close(fd);
				return 0;
			}
			close(fd);
		}
		snprintf(path, sizeof path, "%s/new/1", q.dir);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd < 0)
			return 0;
		if (io_write_all(fd, data, n) != 0) {
			close(fd);
			return 0;
		}
		close(fd);
	}
	if (queue_peek(&q, "1", &it, &e) == 0) {
		int out = io_spool(&e);
		size_t i;

		if (it.env.nrcpt == 0 || it.env.from == NULL)
			abort();
		for (i = 0; i < it.env.nrcpt; i++)
			(void)queue_is_done(&it.st, it.env.rcpt[i]);
		for (i = 1; i < it.st.ndone; i++)	/* sorted, without repeats */
			if (strcmp(it.st.done[i - 1], it.st.done[i]) >= 0)
				abort();
		if (out >= 0) {
			(void)queue_bounce(&it, &r, 1, "MAILER-DAEMON@example.org", "example.org", 0, out, &e);
			close(out);
		}
		queue_item_free(&it);
	}
	return 0;
}
