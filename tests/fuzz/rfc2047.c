/* rfc2047.c — libFuzzer target: decoding any header text must not crash and must give valid
 * UTF-8; encoding that text (every context) must give well-sized encoded-words, and for
 * unstructured text decode back to the same string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"
#include "rfc2047.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_words(const char *s)
{
	const char *p = s;

	while ((p = strstr(p, "=?utf-8?")) != NULL) {
		const char *end = strstr(p + 10, "?=");

		if (end == NULL || end + 2 - p > RFC2047_WORD_MAX)
			abort();
		p = end + 2;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct err e;
	char *s, *d, *d2;
	int c;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	err_clear(&e);
	if ((d = rfc2047_decode(s, &e)) == NULL)
		abort();
	if (!charset_utf8_valid(d, strlen(d)))
		abort();
	for (c = RFC2047_TEXT; c <= RFC2047_COMMENT; c++) {
		struct buf b = BUF_INIT;

		if (rfc2047_encode(&b, d, (enum rfc2047_ctx)c, size % 80, &e) != 0
		    || buf_check(&b, &e) != 0)
			abort();
		check_words(b.p ? b.p : "");
		if (c == RFC2047_TEXT) {
			if ((d2 = rfc2047_decode(b.p ? b.p : "", &e)) == NULL || strcmp(d, d2) != 0)
				abort();
			free(d2);
		}
		buf_free(&b);
	}
	free(d);
	free(s);
	return 0;
}
