/* b64.c — base64 streaming encoder/decoder and the portable scalar kernel. */
#include "b64.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#if defined(__GLIBC__) && __has_include(<sys/platform/x86.h>)
#include <sys/platform/x86.h>
#endif
#endif

static const char alpha_std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char alpha_url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Character -> sextet, 255 for anything outside the alphabet. */
static const unsigned char dec_std[256] = {
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,  62, 255, 255, 255,  63,
	 52,  53,  54,  55,  56,  57,  58,  59,  60,  61, 255, 255, 255, 255, 255, 255,
	255,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
	 15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, 255, 255, 255, 255, 255,
	255,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
	 41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
};
static const unsigned char dec_url[256] = {
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,  62, 255, 255,
	 52,  53,  54,  55,  56,  57,  58,  59,  60,  61, 255, 255, 255, 255, 255, 255,
	255,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
	 15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, 255, 255, 255, 255,  63,
	255,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
	 41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
	255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
};

static size_t
enc_scalar(const unsigned char *in, size_t n, char *out, int url)
{
	const char *a = url ? alpha_url : alpha_std;
	char *o = out;
	size_t i;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];

		o[0] = a[v >> 18];
		o[1] = a[(v >> 12) & 63];
		o[2] = a[(v >> 6) & 63];
		o[3] = a[v & 63];
		o += 4;
	}
	return (size_t)(o - out);
}

/* White space as the decoder skips it: SP, HT, LF, VT, FF, CR. */
static inline int
is_space(unsigned char c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

/* One quad whose four characters are separated by white space only (a line break inside a
 * quad, as in lines of 75): the input consumed and 3 bytes written, or 0 when the input at p
 * is not that (the byte-wise path then reports or skips what is there). */
static size_t
split_quad(const unsigned char *p, size_t n, unsigned char *out, const unsigned char *t)
{
	unsigned q[4], k = 0;
	size_t i;

	for (i = 0; i < n && k < 4; i++) {
		if (t[p[i]] != 255)
			q[k++] = t[p[i]];
		else if (!is_space(p[i]))
			return 0;
	}
	if (k < 4)
		return 0;
	out[0] = (unsigned char)(q[0] << 2 | q[1] >> 4);
	out[1] = (unsigned char)(q[1] << 4 | q[2] >> 2);
	out[2] = (unsigned char)(q[2] << 6 | q[3]);
	return i;
}

/* Whole quads, skipping white space between them and inside them (the kernel contract in
 * b64.h). */
static size_t
dec_scalar(const char *in, size_t n, unsigned char *out, size_t *outn, int url)
{
	const unsigned char *t = url ? dec_url : dec_std;
	const unsigned char *p = (const unsigned char *)in;
	unsigned char *o = out;
	size_t i = 0;

	while (n - i >= 4) {
		unsigned a = t[p[i]], b = t[p[i + 1]], c = t[p[i + 2]], d = t[p[i + 3]];

		if ((a | b | c | d) & 0x80) {
			size_t k;

			if (is_space(p[i])) {
				i++;
				continue;
			}
			if ((k = split_quad(p + i, n - i, o, t)) == 0)
				break;	/* '=' or garbage */
			i += k;
			o += 3;
			continue;
		}
		o[0] = (unsigned char)(a << 2 | b >> 4);
		o[1] = (unsigned char)(b << 4 | c >> 2);
		o[2] = (unsigned char)(c << 6 | d);
		o += 3;
		i += 4;
	}
	*outn = (size_t)(o - out);
	return i;
}

const struct b64_kernel b64_kernel_scalar = { "scalar", enc_scalar, dec_scalar };

/* Shared by the SIMD kernels for their tails. */
size_t b64_enc_scalar(const unsigned char *in, size_t n, char *out, int url);
size_t b64_dec_scalar(const char *in, size_t n, unsigned char *out, size_t *outn, int url);
size_t b64_dec_split_quad(const char *in, size_t n, unsigned char *out, int url);

size_t
b64_enc_scalar(const unsigned char *in, size_t n, char *out, int url)
{
	return enc_scalar(in, n, out, url);
}

size_t
b64_dec_scalar(const char *in, size_t n, unsigned char *out, size_t *outn, int url)
{
	return dec_scalar(in, n, out, outn, url);
}

size_t
b64_dec_split_quad(const char *in, size_t n, unsigned char *out, int url)
{
	return split_quad((const unsigned char *)in, n, out, url ? dec_url : dec_std);
}

#if defined(__x86_64__) || defined(__i386__)
enum { CPU_AVX2 = 1 << 0, CPU_AVX512VBMI = 1 << 1, CPU_KNOWN = 1 << 31 };

#if defined(__GLIBC__) && __has_include(<sys/platform/x86.h>)
/* What the CPU has and the system saves the registers of, as the dynamic loader found it
 * before main (glibc 2.33's <sys/platform/x86.h>): "active" already weighs XCR0, so AVX2 needs
 * the YMM state and the AVX-512 features the opmask and ZMM state too. No CPUID of our own:
 * in a virtual machine each one is a trip to the hypervisor. Our four cost a small mime-pack
 * some 25 µs of CPU here, half its lead over makemime. */
static unsigned
cpu_features(void)
{
	unsigned f = 0;

	if (CPU_FEATURE_ACTIVE(AVX2))
		f |= CPU_AVX2;
	if (CPU_FEATURE_ACTIVE(AVX512F) && CPU_FEATURE_ACTIVE(AVX512BW)
	    && CPU_FEATURE_ACTIVE(AVX512_VBMI))
		f |= CPU_AVX512VBMI;
	return f;
}
#else
/* Elsewhere the compiler's run-time library asks the CPU (and XGETBV for the OS's part). */
static unsigned
cpu_features(void)
{
	unsigned f = 0;

	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx2"))
		f |= CPU_AVX2;
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
	    && __builtin_cpu_supports("avx512vbmi"))
		f |= CPU_AVX512VBMI;
	return f;
}
#endif
#endif

/* The kernel called name, if this build has it and the CPU runs it; cpu as cpu_features()
 * gives it. */
static const struct b64_kernel *
kernel_by_name(const char *name, unsigned cpu)
{
	(void)cpu;
	if (strcmp(name, "scalar") == 0)
		return &b64_kernel_scalar;
#if defined(__x86_64__) || defined(__i386__)
	if (strcmp(name, "avx2") == 0 && (cpu & CPU_AVX2))
		return &b64_kernel_avx2;
	if (strcmp(name, "avx512") == 0 && (cpu & CPU_AVX512VBMI))
		return &b64_kernel_avx512;
#endif
#if defined(__aarch64__)
	if (strcmp(name, "neon") == 0)
		return &b64_kernel_neon;	/* NEON is part of AArch64 */
#endif
	return NULL;
}

/* The CPU's features, asked once per process: a coder is set up per MIME part or per message
 * in batch mode, and where it costs CPUIDs (not with glibc) they are slow in a VM. The one
 * piece of process-wide state here: a fact about the hardware, written whole (atomically) by
 * whichever thread asks first, the same value by any other. */
static unsigned
cpu_now(void)
{
#if defined(__x86_64__) || defined(__i386__)
	static atomic_uint known;
	unsigned f = atomic_load_explicit(&known, memory_order_relaxed);

	if (f == 0) {
		f = cpu_features() | CPU_KNOWN;
		atomic_store_explicit(&known, f, memory_order_relaxed);
	}
	return f;
#else
	return 0;
#endif
}

const struct b64_kernel *
b64_kernel_by_name(const char *name)
{
	return kernel_by_name(name, cpu_now());
}

const struct b64_kernel *
b64_kernel(void)
{
	const char *force = getenv("SECMAIL_B64_KERNEL");
	const char *best[] = { "avx512", "avx2", "neon" };
	const struct b64_kernel *k;
	unsigned f = cpu_now();
	size_t i;

	if (force != NULL && *force != '\0' && (k = kernel_by_name(force, f)) != NULL)
		return k;
	for (i = 0; i < sizeof best / sizeof best[0]; i++)
		if ((k = kernel_by_name(best[i], f)) != NULL)
			return k;
	return &b64_kernel_scalar;
}

/* ---- encoder ---- */

void
b64_enc_init(struct b64_enc *x, int flags, unsigned wrap)
{
	x->k = b64_kernel();
	x->flags = flags;
	x->wrap = wrap;
	x->col = 0;
	x->ncarry = 0;
	x->any = 0;
}

size_t
b64_enc_bound(const struct b64_enc *x, size_t n)
{
	size_t chars = (n + x->ncarry + 2) / 3 * 4 + 4;

	if (x->wrap > 0)
		chars += (chars / x->wrap + 2) * 2 + 16;
	return chars;
}

/* Copy raw characters to out, breaking lines every x->wrap characters. */
static size_t
emit(struct b64_enc *x, const char *raw, size_t n, char *out)
{
	char *o = out;
	size_t room, take;

	if (n > 0)
		x->any = 1;
	if (x->wrap == 0) {
		if (raw != out)
			memcpy(o, raw, n);
		return n;
	}
	/* Whole lines: copied 16 bytes at a time (inline, no call per line); the last copy
	 * may run up to 15 bytes past the line, into the scratch slack on the read side and
	 * into what the next line or the bound's slack covers on the write side. */
	if (x->col == 0 && n >= x->wrap && x->wrap >= 16) {
		size_t w = x->wrap, eol = x->flags & B64_CRLF ? 2 : 1, k;

		while (n >= w) {
			for (k = 0; k < w; k += 16)
				memcpy(o + k, raw + k, 16);
			o[w] = '\r';
			o[w + eol - 1] = '\n';
			o += w + eol;
			raw += w;
			n -= w;
		}
	}
	while (n > 0) {
		room = x->wrap - x->col;
		take = n < room ? n : room;
		memcpy(o, raw, take);
		o += take;
		raw += take;
		n -= take;
		x->col += (unsigned)take;
		if (x->col == x->wrap) {
			if (x->flags & B64_CRLF)
				*o++ = '\r';
			*o++ = '\n';
			x->col = 0;
		}
	}
	return (size_t)(o - out);
}

size_t
b64_enc_update(struct b64_enc *x, const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	int url = x->flags & B64_URL;
	char *o = out, quad[4];
	size_t take, raw;

	if (x->ncarry > 0) {
		while (x->ncarry < 3 && n > 0) {
			x->carry[x->ncarry++] = *p++;
			n--;
		}
		if (x->ncarry < 3)
			return 0;
		enc_scalar(x->carry, 3, quad, url);
		o += emit(x, quad, 4, o);
		x->ncarry = 0;
	}
	while (n >= 3) {
		take = n / 3 * 3;
		if (x->wrap == 0) {
			o += x->k->enc(p, take, o, url);
			x->any = 1;
		} else {
			if (take > B64_ENC_SCRATCH / 4 * 3)
				take = B64_ENC_SCRATCH / 4 * 3;
			raw = x->k->enc(p, take, x->scratch, url);
			o += emit(x, x->scratch, raw, o);
		}
		p += take;
		n -= take;
	}
	while (n > 0) {
		x->carry[x->ncarry++] = *p++;
		n--;
	}
	return (size_t)(o - out);
}

size_t
b64_enc_final(struct b64_enc *x, char *out)
{
	const char *a = x->flags & B64_URL ? alpha_url : alpha_std;
	char quad[4];
	char *o = out;

	if (x->ncarry > 0) {
		uint32_t v = (uint32_t)x->carry[0] << 16;

		if (x->ncarry == 2)
			v |= (uint32_t)x->carry[1] << 8;
		quad[0] = a[v >> 18];
		quad[1] = a[(v >> 12) & 63];
		quad[2] = x->ncarry == 2 ? a[(v >> 6) & 63] : '=';
		quad[3] = '=';
		o += emit(x, quad, 4, o);
		x->ncarry = 0;
	}
	if (x->wrap > 0 && x->col > 0) {
		if (x->flags & B64_CRLF)
			*o++ = '\r';
		*o++ = '\n';
		x->col = 0;
	}
	return (size_t)(o - out);
}

size_t
b64_encode(const void *in, size_t n, char *out, int flags)
{
	const unsigned char *p = in;
	int url = flags & B64_URL;
	size_t whole = n / 3 * 3, o;
	struct b64_enc x;

	o = enc_scalar(p, whole, out, url);
	x.flags = flags;
	x.wrap = 0;
	x.col = 0;
	x.ncarry = 0;
	while (whole < n)
		x.carry[x.ncarry++] = p[whole++];
	return o + b64_enc_final(&x, out + o);
}

/* ---- decoder ---- */

void
b64_dec_init(struct b64_dec *x, int flags)
{
	x->k = b64_kernel();
	x->flags = flags;
	x->nq = 0;
	x->npad = 0;
	x->ended = 0;
	x->off = 0;
	x->msg[0] = '\0';
}

size_t
b64_dec_bound(size_t n)
{
	return n / 4 * 3 + 3 + B64_DEC_SLACK;
}

static int
fail(struct b64_dec *x, const char *what, unsigned char c)
{
	snprintf(x->msg, sizeof x->msg, "%s at offset %llu (byte 0x%02x)", what,
	    (unsigned long long)x->off, c);
	return -1;
}

/* Emit the bytes of a complete quad (3 bytes, or fewer when padded). */
static unsigned char *
flush_quad(struct b64_dec *x, unsigned char *o)
{
	unsigned a = x->q[0], b = x->q[1], c = x->nq > 2 ? x->q[2] : 0, d = x->nq > 3 ? x->q[3] : 0;

	*o++ = (unsigned char)(a << 2 | b >> 4);
	if (x->nq > 2)
		*o++ = (unsigned char)(b << 4 | c >> 2);
	if (x->nq > 3)
		*o++ = (unsigned char)(c << 6 | d);
	x->nq = 0;
	x->npad = 0;
	return o;
}

int
b64_dec_update(struct b64_dec *x, const void *in, size_t n, unsigned char *out, size_t *outn)
{
	const unsigned char *t = x->flags & B64_URL ? dec_url : dec_std;
	const unsigned char *p = in, *end = p + n;
	int url = x->flags & B64_URL;
	unsigned char *o = out;
	unsigned char c;

	*outn = 0;
	while (p < end) {
		/* The kernel takes whole quads straight from the input, line breaks and other
		 * white space between quads included, so it runs until '=', garbage or a quad
		 * split by white space; those go byte by byte below, and the kernel resumes at
		 * the next quad. Every byte is looked at a bounded number of times, whatever
		 * the layout (no copies, no rescans). */
		if (x->nq == 0 && !x->ended && t[*p] != 255) {
			size_t got, used = x->k->dec((const char *)p, (size_t)(end - p), o, &got, url);

			p += used;
			x->off += used;
			o += got;
			if (p == end)
				break;
		}
		/* One byte the kernel stopped at: white space, padding, a partial quad, garbage. */
		c = *p;
		if (t[c] != 255) {
			if (x->ended)
				return fail(x, "data after padding", c);
			if (x->npad > 0)
				return fail(x, "bad padding: data inside padding", c);
			x->q[x->nq++] = t[c];
			if (x->nq == 4)
				o = flush_quad(x, o);
		} else if (c == '=') {
			/* RFC 4648 §3.5: "xx==" or "xxx=" only. */
			if (x->ended || x->nq + x->npad < 2) {
				if (!(x->flags & B64_IGNORE_GARBAGE))
					return fail(x, "bad padding", c);
			} else {
				x->npad++;
				if (x->nq + x->npad == 4) {
					o = flush_quad(x, o);
					x->ended = 1;
				}
			}
		} else if (!is_space(c) && !(x->flags & B64_IGNORE_GARBAGE)) {
			return fail(x, "invalid character", c);
		}
		p++;
		x->off++;
	}
	*outn = (size_t)(o - out);
	return 0;
}

int
b64_dec_final(struct b64_dec *x, unsigned char *out, size_t *outn)
{
	*outn = 0;
	if (x->nq == 0)
		return 0;
	if (x->nq == 1 || x->npad > 0 || !(x->flags & B64_URL)) {
		snprintf(x->msg, sizeof x->msg, "truncated input: incomplete final group at offset %llu",
		    (unsigned long long)x->off);
		return -1;
	}
	/* base64url is often sent without padding (RFC 4648 §3.2, §5). */
	*outn = (size_t)(flush_quad(x, out) - out);
	return 0;
}

long long
b64_decode(const char *in, size_t n, unsigned char *out, int flags)
{
	struct b64_dec x;
	size_t a, b;

	b64_dec_init(&x, flags);
	x.k = &b64_kernel_scalar;
	if (b64_dec_update(&x, in, n, out, &a) != 0 || b64_dec_final(&x, out + a, &b) != 0)
		return -1;
	return (long long)(a + b);
}
