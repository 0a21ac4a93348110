/* aliases_load.c — libFuzzer target: any aliases file loads or fails with a clean EX_CONFIG
 * error naming the file; expanding every name it defines (and one it does not) ends, within
 * the depth bound, with addresses or a clean error. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aliases.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aliases a;
	struct err e;
	const char *path;
	size_t i;

	if ((path = fuzz_file("aliases", data, size)) == NULL)
		return 0;
	aliases_init(&a);
	if (aliases_load(&a, path, &e) == 0) {
		for (i = 0; i <= a.n && i < 64; i++) {
			struct rcptset s = RCPTSET_INIT;
			char *h;

			/* a name no alias defines stands for itself: one address */
			if (aliases_expand(&a, i < a.n ? a.v[i].name : "nobody-here", "d.example", &s,
			    &e) == 0 && s.n == 0 && i == a.n)
				abort();
			rcptset_free(&s);
			h = aliases_header(&a, i < a.n ? a.v[i].name : "nobody-here", "d.example", &e);
			free(h);
		}
	} else if (e.code != EX_CONFIG && e.code != EX_OSERR) {
		abort();
	}
	aliases_free(&a);
	return 0;
}
