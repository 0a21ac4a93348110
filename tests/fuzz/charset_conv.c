/* charset_conv.c — libFuzzer target: the streaming converter to UTF-8 fed in chunks of any
 * size must agree with the one-shot charset_to_utf8 (same success, same bytes), never crash
 * and never hold more than its fixed buffers. Byte 0 picks the charset, byte 1 the chunk
 * size. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "charset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct acc {
	char *p;
	size_t n, cap;
};

static int
acc_write(void *ctx, const void *p, size_t n, struct err *e)
{
	struct acc *a = ctx;

	if (n > a->cap - a->n)
		return err_set(e, EX_SOFTWARE, "fuzz sink full");
	memcpy(a->p + a->n, p, n);
	a->n += n;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const cs[] = { "ISO-8859-1", "Shift_JIS", "EUC-JP", "UTF-16",
		"ISO-2022-JP", "GB18030", "BIG5", "KOI8-R", "CP1252", "UTF-16LE", "EUC-KR" };
	struct charset_conv x;
	struct acc a;
	struct sink s = { acc_write, &a };
	struct err e;
	const char *from;
	char *one;
	size_t chunk, i, n1 = 0, k;
	int r = 0;

	if (size < 2)
		return 0;
	from = cs[data[0] % (sizeof cs / sizeof cs[0])];
	chunk = (size_t)data[1] + 1;
	data += 2;
	size -= 2;
	a.cap = size * 4 + 64;	/* UTF-8 is at most 4 bytes a character */
	a.n = 0;
	if ((a.p = malloc(a.cap)) == NULL)
		return 0;
	err_clear(&e);
	if (charset_conv_init(&x, from, &e) != 0)
		abort();
	for (i = 0; i < size && r == 0; i += k) {
		k = size - i < chunk ? size - i : chunk;
		r = charset_conv_write(&x, &s, data + i, k, &e);
	}
	if (r == 0)
		r = charset_conv_finish(&x, &s, &e);
	charset_conv_free(&x);
	if (r != 0 && e.code != EX_DATAERR)
		abort();
	err_clear(&e);
	one = charset_to_utf8(from, data, size, &n1, &e);
	if ((one == NULL) != (r != 0))
		abort();
	if (one != NULL && (n1 != a.n || memcmp(one, a.p, n1) != 0))
		abort();
	free(one);
	free(a.p);
	return 0;
}
