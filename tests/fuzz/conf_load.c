/* conf_load.c — libFuzzer target: any configuration file text loads or fails with a clean
 * EX_CONFIG error; lookups on what loaded never crash. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	struct conf c;
	struct err e;
	size_t i;
	int fd;

	if (path[0] == '\0')
		snprintf(path, sizeof path, "/tmp/conf_load_fuzz.%ld", (long)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return 0;
	if (io_write_all(fd, data, size) != 0) {
		close(fd);
		return 0;
	}
	close(fd);
	conf_init(&c);
	if (conf_load(&c, path, 0, &e) == 0) {
		(void)conf_get(&c, NULL, "server");
		for (i = 1; i < c.n; i++) {
			(void)conf_get(&c, c.s[i].name, "server");
			(void)conf_line(&c, c.s[i].name, "user");
		}
		if (c.default_account != NULL && conf_account(&c, c.default_account) == NULL)
			abort();	/* conf_load promised the default account exists */
	} else if (e.code != EX_CONFIG && e.code != EX_OSERR) {
		abort();
	}
	conf_free(&c);
	return 0;
}
