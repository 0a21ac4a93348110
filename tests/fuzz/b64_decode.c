/* b64_decode.c — libFuzzer target: the streaming decoder must never crash, must give the same
 * verdict and bytes through every kernel and any chunking, and what it accepts must re-encode
 * to an equivalent string. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"

#if defined(__x86_64__) || defined(__i386__)
/* The AVX-512 kernel over SIMDe (as in tests/unit/b64_test.c): fuzzed on any x86 CPU. */
#define B64_AVX512_SIMDE
#include "b64_avx512.c"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long long
run(const char *kernel, const uint8_t *in, size_t n, size_t split, int flags, unsigned char *out)
{
	struct b64_dec x;
	size_t a = 0, b = 0, c = 0;

	b64_dec_init(&x, flags);
#if defined(B64_AVX512_SIMDE)
	x.k = strcmp(kernel, "avx512-simde") == 0 ? &b64_kernel_avx512_simde
	    : b64_kernel_by_name(kernel);
#else
	x.k = b64_kernel_by_name(kernel);
#endif
	if (x.k == NULL)
		return -2;
	if (split > n)
		split = n;
	if (b64_dec_update(&x, in, split, out, &a) != 0)
		return -1;
	if (b64_dec_update(&x, in + split, n - split, out + a, &b) != 0)
		return -1;
	if (b64_dec_final(&x, out + a + b, &c) != 0)
		return -1;
	return (long long)(a + b + c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *vec[] = { "avx2", "avx512", "avx512-simde", "neon" };
	unsigned char *o1, *o2;
	long long r1, r2;
	size_t split, v;
	int flags;

	if (size < 2)
		return 0;
	flags = data[0] & (B64_URL | B64_IGNORE_GARBAGE);
	split = data[1];
	data += 2;
	size -= 2;
	o1 = malloc(b64_dec_bound(size) + 64);
	o2 = malloc(b64_dec_bound(size) + 64);
	r1 = run("scalar", data, size, split, flags, o1);
	for (v = 0; v < sizeof vec / sizeof vec[0]; v++) {
		r2 = run(vec[v], data, size, size - split % (size + 1), flags, o2);
		if (r2 != -2 && (r1 != r2 || (r1 > 0 && memcmp(o1, o2, (size_t)r1) != 0)))
			abort();
	}
	if (r1 >= 0) {
		/* Re-encode and decode again: same bytes. */
		char *enc = malloc((size_t)r1 / 3 * 4 + 8);
		size_t en = b64_encode(o1, (size_t)r1, enc, flags & B64_URL);

		if (run("scalar", (const uint8_t *)enc, en, en / 2, flags & B64_URL, o2) != r1
		    || memcmp(o1, o2, (size_t)r1) != 0)
			abort();
		free(enc);
	}
	free(o1);
	free(o2);
	return 0;
}
