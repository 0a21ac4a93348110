/* unpack_name.c — libFuzzer target: any decoded file name yields a safe one (no '/', no
 * leading '.', no control characters, no format characters such as the bidi controls, no
 * characters drawn as slashes, valid UTF-8, bounded length) or a clean error. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unictype.h>
#include <unistr.h>

#include "charset.h"
#include "unpack.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e;
	char *in, *out;
	size_t i, n;
	ucs4_t uc;
	int k;

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
		for (i = 0; i < n; i += (size_t)k) {
			k = u8_mbtouc(&uc, (const uint8_t *)out + i, n - i);
			if (k <= 0 || uc < 0x20 || uc == 0x7f || (uc >= 0x80 && uc < 0xa0) ||
			    uc == 0x2028 || uc == 0x2029 || uc == '\\' || uc == 0x2044 ||
			    uc == 0x2215 || uc == 0x2216 || uc == 0x29f5 || uc == 0x29f8 ||
			    uc == 0x29f9 || uc == 0xfe68 || uc == 0xff0f || uc == 0xff3c ||
			    uc_is_general_category(uc, UC_CATEGORY_Cf))
				abort();
		}
	}
	free(out);
	free(in);
	return 0;
}
