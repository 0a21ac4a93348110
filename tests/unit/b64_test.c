/* b64_test.c — base64 codec: RFC 4648 vectors, every length 0..300 through each kernel and
 * streaming split points, against a deliberately naive reference encoder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "b64.h"
#include "tap.h"

#if defined(__x86_64__) || defined(__i386__)
/* The AVX-512 kernel's source once more, over SIMDe's portable intrinsics (kernel
 * "avx512-simde"): its logic runs through every case below on any x86 CPU, AVX-512 or not.
 * On a CPU with AVX-512 VBMI the native build ("avx512") runs them too. */
#define B64_AVX512_SIMDE
#include "b64_avx512.c"
#endif

/* A kernel by name: the library's, or the SIMDe build of the AVX-512 one. */
static const struct b64_kernel *
kernel_named(const char *name)
{
#if defined(B64_AVX512_SIMDE)
	if (strcmp(name, "avx512-simde") == 0)
		return &b64_kernel_avx512_simde;
#endif
	return b64_kernel_by_name(name);
}

static const char ref_alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Bit-by-bit reference: independent of the library's table and kernels. */
static size_t
ref_encode(const unsigned char *in, size_t n, char *out, int url, unsigned wrap)
{
	size_t bits = n * 8, i, o = 0, col = 0, nchars = (n + 2) / 3 * 4;

	for (i = 0; i < nchars; i++) {
		unsigned v = 0, b;
		char c;

		for (b = 0; b < 6; b++) {
			size_t bit = i * 6 + b;

			v <<= 1;
			if (bit < bits)
				v |= (in[bit / 8] >> (7 - bit % 8)) & 1;
		}
		if (i * 6 >= bits)
			c = '=';
		else
			c = ref_alpha[v];
		if (url && c == '+')
			c = '-';
		if (url && c == '/')
			c = '_';
		out[o++] = c;
		if (wrap && ++col == wrap) {
			out[o++] = '\n';
			col = 0;
		}
	}
	if (wrap && col)
		out[o++] = '\n';
	return o;
}

static size_t
stream_encode(const char *kernel, const unsigned char *in, size_t n, char *out, int flags,
    unsigned wrap, unsigned seed)
{
	struct b64_enc *x = malloc(sizeof *x);
	size_t o = 0, i = 0, step;

	b64_enc_init(x, flags, wrap);
	x->k = kernel_named(kernel);
	srand(seed);
	while (i < n) {
		unsigned char *chunk;

		/* Small random chunks, or now and then all at once (the kernels' long paths),
		 * each in a block of its own size: under ASan a kernel reading past it fails. */
		step = seed % 4 == 0 ? n : (size_t)rand() % 97 + 1;
		if (step > n - i)
			step = n - i;
		chunk = malloc(step);
		memcpy(chunk, in + i, step);
		o += b64_enc_update(x, chunk, step, out + o);
		free(chunk);
		i += step;
	}
	o += b64_enc_final(x, out + o);
	free(x);
	return o;
}

static long long
stream_decode(const char *kernel, const char *in, size_t n, unsigned char *out, int flags,
    unsigned seed, char *msg)
{
	struct b64_dec x;
	size_t o = 0, i = 0, step, got;

	b64_dec_init(&x, flags);
	x.k = kernel_named(kernel);
	srand(seed);
	while (i < n) {
		char *chunk;
		int r;

		/* As in stream_encode. */
		step = seed % 4 == 0 ? n : (size_t)rand() % 131 + 1;
		if (step > n - i)
			step = n - i;
		chunk = malloc(step);
		memcpy(chunk, in + i, step);
		r = b64_dec_update(&x, chunk, step, out + o, &got);
		free(chunk);
		if (r != 0) {
			strcpy(msg, x.msg);
			return -1;
		}
		o += got;
		i += step;
	}
	if (b64_dec_final(&x, out + o, &got) != 0) {
		strcpy(msg, x.msg);
		return -1;
	}
	return (long long)(o + got);
}

static void
vectors(void)
{
	/* RFC 4648 §10 */
	static const char *v[][2] = {
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" }, { "foo", "Zm9v" },
		{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	char out[64];
	unsigned char dec[64];
	size_t i, n;
	long long d;

	for (i = 0; i < sizeof v / sizeof v[0]; i++) {
		n = b64_encode(v[i][0], strlen(v[i][0]), out, 0);
		out[n] = '\0';
		is_str(out, v[i][1], "RFC 4648 vector encode \"%s\"", v[i][0]);
		d = b64_decode(v[i][1], strlen(v[i][1]), dec, 0);
		ok(d == (long long)strlen(v[i][0]) && memcmp(dec, v[i][0], (size_t)d) == 0,
		    "RFC 4648 vector decode \"%s\"", v[i][1]);
	}
	n = b64_encode("\xfb\xff", 2, out, B64_URL);
	out[n] = '\0';
	is_str(out, "-_8=", "base64url uses - and _");
	d = b64_decode("-_8", 3, dec, B64_URL);
	ok(d == 2 && dec[0] == 0xfb && dec[1] == 0xff, "base64url decodes without padding");
	ok(b64_decode("-_8", 3, dec, 0) < 0, "standard alphabet rejects - and _");
	ok(b64_decode("+/8", 3, dec, 0) < 0, "standard alphabet requires padding");
}

static void
lengths(const char *kernel)
{
	static unsigned char in[4096], dec[8192];
	static char ref[8192], got[8192];
	unsigned wraps[] = { 0, 76, 64, 4, 5, 1 };
	int bad_enc = 0, bad_dec = 0, bad_url = 0;
	char msg[200];
	size_t n, w, rn, gn;
	long long d;

	srand(42);
	for (n = 0; n < sizeof in; n++)
		in[n] = (unsigned char)rand();
	for (n = 0; n <= 300; n++) {
		for (w = 0; w < sizeof wraps / sizeof wraps[0]; w++) {
			rn = ref_encode(in, n, ref, 0, wraps[w]);
			gn = stream_encode(kernel, in, n, got, 0, wraps[w], (unsigned)(n * 7 + w));
			if (rn != gn || memcmp(ref, got, rn) != 0)
				bad_enc++;
			d = stream_decode(kernel, got, gn, dec, 0, (unsigned)n, msg);
			if (d != (long long)n || memcmp(dec, in, n) != 0)
				bad_dec++;
		}
		rn = ref_encode(in, n, ref, 1, 0);
		gn = stream_encode(kernel, in, n, got, B64_URL, 0, (unsigned)n);
		d = stream_decode(kernel, got, gn, dec, B64_URL, (unsigned)n + 1, msg);
		if (rn != gn || memcmp(ref, got, rn) != 0 || d != (long long)n || memcmp(dec, in, n) != 0)
			bad_url++;
	}
	ok(bad_enc == 0, "%s: encode of every length 0..300 at six wraps matches the reference (%d bad)",
	    kernel, bad_enc);
	ok(bad_dec == 0, "%s: decode round-trips every length 0..300 (%d bad)", kernel, bad_dec);
	ok(bad_url == 0, "%s: base64url round-trips every length 0..300 (%d bad)", kernel, bad_url);

	/* Large, unwrapped and wrapped, with CRLF line ends on decode. */
	n = sizeof in;
	rn = ref_encode(in, n, ref, 0, 76);
	gn = stream_encode(kernel, in, n, got, 0, 76, 9);
	ok(rn == gn && memcmp(ref, got, rn) == 0, "%s: 4096 bytes wrapped at 76 match", kernel);
	{
		static char crlf[8192];
		size_t i, c = 0;

		for (i = 0; i < gn; i++) {
			if (got[i] == '\n')
				crlf[c++] = '\r';
			crlf[c++] = got[i];
		}
		d = stream_decode(kernel, crlf, c, dec, 0, 3, msg);
		ok(d == (long long)n && memcmp(dec, in, n) == 0, "%s: CRLF-wrapped input decodes", kernel);
	}
}

static void
errors(const char *kernel)
{
	static const struct { const char *in; const char *msg; int flags; } bad[] = {
		{ "Zm9v!mFy", "invalid character at offset 4 (byte 0x21)", 0 },
		{ "Zm9vYmFy\n Zm9v\x80", "invalid character at offset 14 (byte 0x80)", 0 },
		{ "Zg==Zg==", "data after padding at offset 4 (byte 0x5a)", 0 },
		{ "Z===", "bad padding at offset 1 (byte 0x3d)", 0 },
		{ "Zm=v", "bad padding: data inside padding at offset 3 (byte 0x76)", 0 },
		{ "Zm9vY", "truncated input: incomplete final group at offset 5", 0 },
		{ "Zm9vYm", "truncated input: incomplete final group at offset 6", 0 },
		{ "=", "bad padding at offset 0 (byte 0x3d)", 0 },
		{ "Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFy*m9v", "invalid character at offset 40 (byte 0x2a)", 0 },
	};
	unsigned char out[256];
	char msg[200];
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		msg[0] = '\0';
		ok(stream_decode(kernel, bad[i].in, strlen(bad[i].in), out, bad[i].flags, 1, msg) < 0,
		    "%s: rejects input %zu", kernel, i);
		is_str(msg, bad[i].msg, "%s: message for input %zu names the offset", kernel, i);
	}
	ok(stream_decode(kernel, "Zm9v!Y*mFy\n", 11, out, B64_IGNORE_GARBAGE, 1, msg) == 6
	    && memcmp(out, "foobar", 6) == 0, "%s: ignore-garbage skips non-alphabet bytes", kernel);
	ok(stream_decode(kernel, " Zm 9v\tYm\r\nFy \n", 15, out, 0, 1, msg) == 6
	    && memcmp(out, "foobar", 6) == 0, "%s: white space anywhere is skipped", kernel);
	ok(stream_decode(kernel, "Zg=\n=\n", 6, out, 0, 1, msg) == 1 && out[0] == 'f',
	    "%s: padding may be split by a line break", kernel);
	{
		/* White space filling whole vector blocks (seed 4: one update, the kernel's
		 * long paths); under UBSan a count of trailing zeros of 0 would show. */
		char ws[300];

		memset(ws, ' ', sizeof ws);
		memcpy(ws, "Zm9vYmFy", 8);
		memcpy(ws + 140, "Zm9v", 4);
		memcpy(ws + sizeof ws - 4, "YmFy", 4);
		ok(stream_decode(kernel, ws, sizeof ws, out, 0, 4, msg) == 12
		    && memcmp(out, "foobarfoobar", 12) == 0, "%s: runs of 128 spaces between quads",
		    kernel);
	}
}

/* Every byte value at places inside and across the vector blocks of clean text, in each
 * mode: the same verdict, message and bytes as the scalar kernel (a byte a lookup table lets
 * through, or one with its top bit set that a 7-bit index folds onto a letter, shows here). */
static void
every_byte(const char *kernel)
{
	static const size_t where[] = { 0, 1, 3, 31, 32, 63, 64, 66, 127, 200, 255, 299 };
	static const int modes[] = { 0, B64_URL, B64_IGNORE_GARBAGE, B64_URL | B64_IGNORE_GARBAGE };
	static unsigned char raw[225], d1[400], d2[400];
	static char text[300], t2[300], m1[200], m2[200];
	size_t i, w, m;
	int differ = 0, c;
	long long r1, r2;

	for (i = 0; i < sizeof raw; i++)
		raw[i] = (unsigned char)(i * 37 + 11);
	for (m = 0; m < sizeof modes / sizeof modes[0]; m++) {
		b64_encode(raw, sizeof raw, text, modes[m] & B64_URL);
		for (c = 0; c < 256; c++)
			for (w = 0; w < sizeof where / sizeof where[0]; w++) {
				memcpy(t2, text, sizeof t2);
				t2[where[w]] = (char)c;
				r1 = stream_decode("scalar", t2, sizeof t2, d1, modes[m], 4, m1);
				r2 = stream_decode(kernel, t2, sizeof t2, d2, modes[m], 4, m2);
				if (r1 != r2 || (r1 < 0 && strcmp(m1, m2) != 0)
				    || (r1 > 0 && memcmp(d1, d2, (size_t)r1) != 0))
					differ++;
			}
	}
	ok(differ == 0, "%s: every byte value at 12 places in 300 characters, 4 modes: as scalar "
	    "(%d differ)", kernel, differ);
}

/* Six lines of every width the line loop takes (multiples of 4 from 32 to 128), LF and CRLF,
 * with one byte replaced anywhere in the third and fourth lines or their ends (the first lines
 * the kernels decode as a known width, one by one or two at a time): the same verdict,
 * message and bytes as the scalar kernel. */
static void
line_widths(const char *kernel)
{
	static unsigned char raw[1200], d1[1700], d2[1700];
	static char enc[1700], text[2000], t2[2000], m1[200], m2[200];
	static const char repl[] = "*=\x80 \nA";
	size_t width, eol, i, tn, en, pos, r, tries = 0;
	int differ = 0;
	long long r1, r2;

	for (i = 0; i < sizeof raw; i++)
		raw[i] = (unsigned char)(i * 13 + i / 7);
	en = b64_encode(raw, sizeof raw, enc, 0);
	for (width = 32; width <= 128; width += 4)
		for (eol = 1; eol <= 2; eol++) {
			for (i = 0, tn = 0; i < 6 * width && i < en; i++) {
				text[tn++] = enc[i];
				if ((i + 1) % width == 0) {
					if (eol == 2)
						text[tn++] = '\r';
					text[tn++] = '\n';
				}
			}
			for (pos = 2 * (width + eol); pos < 4 * (width + eol) + 4; pos++)
				for (r = 0; r < sizeof repl - 1; r++) {
					memcpy(t2, text, tn);
					t2[pos] = repl[r];
					r1 = stream_decode("scalar", t2, tn, d1, 0, 4, m1);
					r2 = stream_decode(kernel, t2, tn, d2, 0, 4, m2);
					if (r1 != r2 || (r1 < 0 && strcmp(m1, m2) != 0)
					    || (r1 > 0 && memcmp(d1, d2, (size_t)r1) != 0))
						differ++;
					tries++;
				}
		}
	ok(differ == 0, "%s: lines of 32..128 (LF, CRLF), a byte replaced in lines 3 and 4: as "
	    "scalar (%d of %zu differ)", kernel, differ, tries);
}

/* Naive reference: drop white space, then decode quads; NULL-free strict RFC 4648 only. */
static long long
ref_decode(const char *in, size_t n, unsigned char *out)
{
	unsigned v = 0, bits = 0, pad = 0;
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		const char *a = strchr(ref_alpha, in[i]);

		if (in[i] == ' ' || (in[i] >= '\t' && in[i] <= '\r'))
			continue;
		if (in[i] == '=') {
			pad++;
			continue;
		}
		if (in[i] == '\0' || a == NULL || pad > 0)
			return -1;
		v = v << 6 | (unsigned)(a - ref_alpha);
		bits += 6;
		if (bits >= 8) {
			out[o++] = (unsigned char)(v >> (bits - 8));
			bits -= 8;
		}
	}
	return o;
}

/* Random layouts (white space between and inside quads, runs of it, line widths of every
 * size, now and then garbage or padding), in both alphabets, decoded through every kernel in
 * random chunks: kernels agree with each other on status, message and bytes, and with the
 * reference on what they accept (standard alphabet). */
static void
differential(void)
{
	static const char ws[] = " \t\r\n\v\f";
	static const char *vec[] = { "avx2", "avx512", "avx512-simde", "neon" };
	static unsigned char raw[3000], d1[4096], d2[4096], d3[4096];
	static char text[12000], m1[200], m2[200];
	int disagree[sizeof vec / sizeof vec[0]] = { 0 }, wrong = 0, accepted = 0, round;
	size_t v;

	srand(7);
	for (round = 0; round < 3000; round++) {
		size_t n = (size_t)rand() % sizeof raw, tn = 0, en, i, width = 4 + (size_t)rand() % 120;
		int style = rand() % 4, hostile = rand() % 3 == 0, flags = round % 4 == 3 ? B64_URL : 0;
		long long r1, r2, r3;
		char *enc = malloc(n / 3 * 4 + 8);

		for (i = 0; i < n; i++)
			raw[i] = (unsigned char)rand();
		en = b64_encode(raw, n, enc, flags);
		for (i = 0; i < en; i++) {
			text[tn++] = enc[i];
			if (style == 0 && (i + 1) % width == 0)
				text[tn++] = '\n';
			else if (style == 1 && (i + 1) % width == 0) {
				text[tn++] = '\r';
				text[tn++] = '\n';
			} else if (style == 2 && rand() % 5 == 0) {
				int run = 1 + rand() % 6;

				while (run-- > 0)
					text[tn++] = ws[rand() % 6];
			}
		}
		if (hostile && tn > 0)	/* one hostile byte somewhere, any layout */
			text[rand() % tn] = "=*\0\x80-_A/+\xff\xc1~\n"[rand() % 13];
		r1 = stream_decode("scalar", text, tn, d1, flags, (unsigned)round, m1);
		for (v = 0; v < sizeof vec / sizeof vec[0]; v++) {
			if (kernel_named(vec[v]) == NULL)
				continue;
			r2 = stream_decode(vec[v], text, tn, d2, flags, (unsigned)round + 1, m2);
			if (r1 != r2 || (r1 < 0 && strcmp(m1, m2) != 0)
			    || (r1 > 0 && memcmp(d1, d2, (size_t)r1) != 0))
				disagree[v]++;
		}
		if (flags == 0) {
			r3 = ref_decode(text, tn, d3);
			if (r1 >= 0) {
				accepted++;
				if (r3 != r1 || memcmp(d1, d3, (size_t)r1) != 0)
					wrong++;
			} else if (!hostile)
				wrong++;
		} else if (r1 < 0 && !hostile)
			wrong++;
		free(enc);
	}
	for (v = 0; v < sizeof vec / sizeof vec[0]; v++) {
		if (kernel_named(vec[v]) == NULL)
			printf("# kernel %s not supported here: not in the random layouts\n", vec[v]);
		else
			ok(disagree[v] == 0, "3000 random layouts: scalar and %s kernels agree (%d differ)",
			    vec[v], disagree[v]);
	}
	ok(wrong == 0 && accepted > 1400, "3000 random layouts: accepted input decodes as the "
	    "reference does, clean input is accepted (%d wrong, %d accepted)", wrong, accepted);
}

/* SECMAIL_B64_KERNEL names a kernel; one the CPU lacks (avx512 here, most likely) gives the
 * best one it has, never none, and the codec works through it. */
static void
forced(void)
{
	static const char *pref[] = { "avx512", "avx2", "neon", "scalar" };
	static unsigned char raw[5000], dec[8000];
	static char enc[8000], ref[8000];
	const struct b64_kernel *want = NULL, *k;
	struct b64_enc *x = malloc(sizeof *x);
	struct b64_dec y;
	size_t i, en, dn;

	for (i = 0; want == NULL; i++)
		want = b64_kernel_by_name(pref[i]);
	unsetenv("SECMAIL_B64_KERNEL");
	ok(b64_kernel() == want, "the default kernel is %s, the first of avx512, avx2, neon, scalar "
	    "the CPU has", want->name);
	setenv("SECMAIL_B64_KERNEL", "avx512", 1);
	k = b64_kernel();
	ok(k == want, "SECMAIL_B64_KERNEL=avx512 gives %s (%s)", k->name,
	    b64_kernel_by_name("avx512") != NULL ? "the CPU has AVX-512 VBMI"
	    : "the CPU lacks AVX-512 VBMI: the best kernel it has");
	for (i = 0; i < sizeof raw; i++)
		raw[i] = (unsigned char)(i * 7 + i / 251);
	b64_enc_init(x, 0, 76);
	en = b64_enc_update(x, raw, sizeof raw, enc);
	en += b64_enc_final(x, enc + en);
	b64_dec_init(&y, 0);
	ok(x->k == k && y.k == k && ref_encode(raw, sizeof raw, ref, 0, 76) == en
	    && memcmp(enc, ref, en) == 0 && b64_dec_update(&y, enc, en, dec, &dn) == 0
	    && dn == sizeof raw && memcmp(dec, raw, dn) == 0,
	    "SECMAIL_B64_KERNEL=avx512: encoder and decoder run on %s and round-trip", k->name);
	unsetenv("SECMAIL_B64_KERNEL");
	free(x);
}

#if defined(__linux__) && (defined(__x86_64__) || defined(__i386__))
/* Our feature test (glibc's record, or the compiler's without glibc) against Linux's view (/proc/cpuinfo lists a feature
 * only when the CPU has it and the kernel enabled its register state). */
static int
cpuinfo_has(const char *const *flags, size_t n)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	char line[8192];
	size_t i, found = 0;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof line, f) != NULL) {
		if (strncmp(line, "flags", 5) != 0)
			continue;
		for (i = 0; i < n; i++) {
			char want[64];

			snprintf(want, sizeof want, " %s", flags[i]);
			if (strstr(line, want) != NULL
			    && strchr(" \n", strstr(line, want)[strlen(want)]) != NULL)
				found++;
		}
		break;
	}
	fclose(f);
	return found == n;
}

static void
cpu_detection(void)
{
	static const char *avx2[] = { "avx2" }, *avx512[] = { "avx512f", "avx512bw", "avx512vbmi" };
	int h2 = cpuinfo_has(avx2, 1), h512 = cpuinfo_has(avx512, 3);

	ok(h2 >= 0 && h2 == (b64_kernel_by_name("avx2") != NULL),
	    "avx2 kernel usable exactly when /proc/cpuinfo lists avx2 (%s)", h2 ? "listed" : "not listed");
	ok(h512 >= 0 && h512 == (b64_kernel_by_name("avx512") != NULL),
	    "avx512 kernel usable exactly when /proc/cpuinfo lists avx512f, avx512bw and avx512vbmi (%s)",
	    h512 ? "listed" : "not listed");
}
#endif

int
main(void)
{
	const char *kernels[] = { "scalar", "avx2", "avx512", "avx512-simde", "neon" };
	size_t i;

	vectors();
	differential();
	forced();
#if defined(__linux__) && (defined(__x86_64__) || defined(__i386__))
	cpu_detection();
#endif
	for (i = 0; i < sizeof kernels / sizeof kernels[0]; i++) {
		if (kernel_named(kernels[i]) == NULL) {
			printf("# kernel %s not supported by this CPU: not tested here\n", kernels[i]);
			continue;
		}
		lengths(kernels[i]);
		errors(kernels[i]);
		if (strcmp(kernels[i], "scalar") != 0)
			every_byte(kernels[i]);
		if (strcmp(kernels[i], "scalar") != 0)
			line_widths(kernels[i]);
	}
	return tap_done();
}
