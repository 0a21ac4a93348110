/* unpack_name.c — libFuzzer target: any decoded file name yields a safe one (no '/', no
 * leading '.', no control characters, valid UTF-8, bounded length) or a clean error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "unpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e;
	char *in, *out;
	size_t i, n;

	if ((in = malloc(size + 1)) == NULL)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	out = unpack_safe_name(in, "part-1", &e);
	if (out != NULL) {
		n = strlen(out);
		if (n == 0 || n > UNPACK_NAME_MAX || out[0] == '.' || strchr(out, '/') != NULL ||
		    !charset_utf8_valid(out, n))
			abort();
		for (i = 0; i < n; i++)
			if ((unsigned char)out[i] < 0x20 || out[i] == 0x7f)
				abort();
	}
	free(out);
	free(in);
	return 0;
}
