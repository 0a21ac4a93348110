/* conf_load.c — libFuzzer target: any configuration file text loads or fails with a clean
 * EX_CONFIG error; lookups on what loaded never crash. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c;
	struct err e;
	const char *path;
	size_t i;

	if ((path = fuzz_file("conf_load", data, size)) == NULL)
		return 0;
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
