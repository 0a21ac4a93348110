/* b64_avx512.c — AVX-512 VBMI base64 kernel: 48 bytes <-> 64 characters per step, after the
 * method Muła and Lemire published (vpmultishiftqb and vpermb to encode, a 128-entry vpermi2b
 * lookup that also validates to decode). Compiled with -mavx512f -mavx512bw -mavx512vbmi and
 * only called after b64_kernel() has seen the CPU and the system support it. The decoder
 * follows the AVX2 kernel's contract step for step: line breaks are skipped in the vector
 * loop, anything else it cannot take and tails shorter than a vector go to the scalar code.
 *
 * Built with -DB64_AVX512_SIMDE the same source runs over SIMDe's portable intrinsics as
 * b64_kernel_avx512_simde (name "avx512-simde"): the tests use it to run this logic on CPUs
 * without AVX-512. The product never builds it that way. */
#include "b64.h"

#if defined(B64_AVX512_SIMDE)
/* 512-bit vectors passed by value without -mavx512f: clang warns about the ABI (GCC's note
 * needs -Wno-psabi on its command line); nothing crosses a library boundary here. */
#pragma GCC diagnostic ignored "-Wpsabi"
#define SIMDE_ENABLE_NATIVE_ALIASES
#include <simde/x86/avx512.h>
/* SIMDe 0.7.4 aliases _mm512_madd_epi16 with the four arguments of its masked form. */
#undef _mm512_madd_epi16
#define _mm512_madd_epi16(a, b) simde_mm512_madd_epi16(a, b)
#define B64_AVX512_KERNEL b64_kernel_avx512_simde
#define B64_AVX512_NAME "avx512-simde"
#elif defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define B64_AVX512_KERNEL b64_kernel_avx512
#define B64_AVX512_NAME "avx512"
#endif

#if defined(B64_AVX512_KERNEL)
#include <stdint.h>
#include <string.h>

size_t b64_enc_scalar(const unsigned char *in, size_t n, char *out, int url);
size_t b64_dec_scalar(const char *in, size_t n, unsigned char *out, size_t *outn, int url);
size_t b64_dec_split_quad(const char *in, size_t n, unsigned char *out, int url);
extern const struct b64_kernel B64_AVX512_KERNEL;

static const char enc_std[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char enc_url[64] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* Per 32-bit lane k, input bytes 3k..3k+2 (b0 b1 b2) laid out as b1 b0 b2 b1: the low 16 bits
 * hold b0b1, the high 16 bits b1b2, as in the AVX2 kernel. */
static const unsigned char enc_spread[64] = {
	1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10,
	13, 12, 14, 13, 16, 15, 17, 16, 19, 18, 20, 19, 22, 21, 23, 22,
	25, 24, 26, 25, 28, 27, 29, 28, 31, 30, 32, 31, 34, 33, 35, 34,
	37, 36, 38, 37, 40, 39, 41, 40, 43, 42, 44, 43, 46, 45, 47, 46,
};

/* Bit offsets of the four sextets in such a lane (b0's top six at 10, then 4, 22, 16), for
 * both lanes of each 64-bit word: vpmultishiftqb moves each into its own byte (the top two
 * bits of each byte are left over; vpermb looks at the low six only). */
#define ENC_SHIFTS 0x3036242a1016040aLL

static size_t
enc_avx512(const unsigned char *in, size_t n, char *out, int url)
{
	const __m512i spread = _mm512_loadu_si512((const void *)enc_spread);
	const __m512i shifts = _mm512_set1_epi64(ENC_SHIFTS);
	const __m512i alpha = _mm512_loadu_si512((const void *)(url ? enc_url : enc_std));
	unsigned char last[64];
	size_t i = 0;
	char *o = out;

	for (; n - i >= 48; i += 48, o += 64) {
		const unsigned char *src = in + i;
		__m512i v;

		/* A step reads 64 bytes for its 48; the last one, without 16 more to read,
		 * works on a copy (masked loads would do, but SIMDe 0.7.4 has none). */
		if (n - i < 64) {
			memcpy(last, src, 48);
			memset(last + 48, 0, 16);
			src = last;
		}
		v = _mm512_loadu_si512((const void *)src);
		v = _mm512_permutexvar_epi8(spread, v);
		v = _mm512_multishift_epi64_epi8(shifts, v);
		v = _mm512_permutexvar_epi8(v, alpha);
		_mm512_storeu_si512((void *)o, v);
	}
	return (size_t)(o - out) + b64_enc_scalar(in + i, n - i, o, url);
}

/* Character -> sextet for 0..127, BAD (0x80) outside the alphabet. vpermi2b indexes with the
 * low seven bits, so bytes 128..255 would land on an entry: they are caught by their own top
 * bit instead (the lookup result is ORed with the character before the sign bits are read). */
#define BAD 0x80
static const unsigned char dec_std[128] = {
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,  62, BAD, BAD, BAD,  63,
	 52,  53,  54,  55,  56,  57,  58,  59,  60,  61, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
	 15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, BAD, BAD, BAD, BAD, BAD,
	BAD,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
	 41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, BAD, BAD, BAD, BAD, BAD,
};
static const unsigned char dec_url[128] = {
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD, BAD,  62, BAD, BAD,
	 52,  53,  54,  55,  56,  57,  58,  59,  60,  61, BAD, BAD, BAD, BAD, BAD, BAD,
	BAD,   0,   1,   2,   3,   4,   5,   6,   7,   8,   9,  10,  11,  12,  13,  14,
	 15,  16,  17,  18,  19,  20,  21,  22,  23,  24,  25, BAD, BAD, BAD, BAD,  63,
	BAD,  26,  27,  28,  29,  30,  31,  32,  33,  34,  35,  36,  37,  38,  39,  40,
	 41,  42,  43,  44,  45,  46,  47,  48,  49,  50,  51, BAD, BAD, BAD, BAD, BAD,
};
#undef BAD

/* After the multiplies each 32-bit lane holds 24 bits, least significant byte first: take
 * bytes 2, 1, 0 of every lane into 48 output bytes (the last 16 are don't-care). */
static const unsigned char dec_gather[64] = {
	2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, 18, 17, 16, 22,
	21, 20, 26, 25, 24, 30, 29, 28, 34, 33, 32, 38, 37, 36, 42, 41,
	40, 46, 45, 44, 50, 49, 48, 54, 53, 52, 58, 57, 56, 62, 61, 60,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

struct dec_consts {
	__m512i lut_lo, lut_hi, pack1, pack2, gather, sp, tab, cr;
};

static void
dec_consts_init(struct dec_consts *k, int url)
{
	const unsigned char *t = url ? dec_url : dec_std;

	k->lut_lo = _mm512_loadu_si512((const void *)t);
	k->lut_hi = _mm512_loadu_si512((const void *)(t + 64));
	k->pack1 = _mm512_set1_epi32(0x01400140);	/* a<<6|b per 16 bits */
	k->pack2 = _mm512_set1_epi32(0x00011000);	/* ab<<12|cd per 32 bits */
	k->gather = _mm512_loadu_si512((const void *)dec_gather);
	k->sp = _mm512_set1_epi8(' ');
	k->tab = _mm512_set1_epi8('\t');
	k->cr = _mm512_set1_epi8('\r');
}

/* Decode the 64 characters at in into 48 bytes at out (64 bytes stored); returns the mask of
 * characters outside the alphabet (their output bytes are garbage). */
static inline uint64_t
dec64(const struct dec_consts *k, const unsigned char *in, unsigned char *out, __m512i *chars)
{
	__m512i c = _mm512_loadu_si512((const void *)in);
	__m512i v = _mm512_permutex2var_epi8(k->lut_lo, c, k->lut_hi);
	uint64_t bad = (uint64_t)_mm512_movepi8_mask(_mm512_or_si512(v, c));

	v = _mm512_madd_epi16(_mm512_maddubs_epi16(v, k->pack1), k->pack2);
	v = _mm512_permutexvar_epi8(k->gather, v);
	_mm512_storeu_si512((void *)out, v);
	*chars = c;
	return bad;
}

/* White space among the 64 characters: ' ', and '\t'..'\r'. Two compares, not the
 * subtraction the AVX2 kernel uses: SIMDe computes 8-bit wrap-around with signed
 * arithmetic, which UBSan rightly reports. */
static inline uint64_t
ws64(const struct dec_consts *k, __m512i c)
{
	return (uint64_t)_mm512_cmpeq_epi8_mask(c, k->sp)
	    | ((uint64_t)_mm512_cmpge_epu8_mask(c, k->tab)
	    & (uint64_t)_mm512_cmple_epu8_mask(c, k->cr));
}

/*
 * Lines of a fixed width, as in the AVX2 kernel: once two line breaks have shown the width (a
 * multiple of 4, at least 32), each following line is decoded as whole blocks, the last one
 * overlapping the one before it (a line shorter than a block is one block, its bytes past the
 * line ignored), and the line end is checked with one load. The first line that does not fit
 * is left to the general loop. Returns the input consumed.
 */
static size_t
dec_lines(const struct dec_consts *k, const unsigned char *p, size_t n, size_t width,
    size_t eol, unsigned char **out)
{
	const uint64_t line_mask = width < 64 ? ((uint64_t)1 << width) - 1 : ~(uint64_t)0;
	const size_t need = width + eol > 64 ? width + eol : 64;
	unsigned char *o = *out;
	size_t i = 0, j;
	__m512i c;

	/* MIME's 76 (RFC 2045 §6.8) with LF, unrolled: two lines per step, four independent
	 * blocks. Each store must land after the one before it (a block's last 16 bytes are
	 * garbage the next block overwrites), hence one statement each. */
	if (width == 76 && eol == 1)
		while (n - i >= 2 * 77) {
			uint64_t bad;

			if (p[i + 76] != '\n' || p[i + 153] != '\n')
				break;
			bad = dec64(k, p + i, o, &c);
			bad |= dec64(k, p + i + 12, o + 9, &c);
			bad |= dec64(k, p + i + 77, o + 57, &c);
			bad |= dec64(k, p + i + 89, o + 66, &c);
			if (bad != 0)
				break;
			i += 2 * 77;
			o += 2 * 57;
		}
	while (n - i >= need) {
		uint64_t bad = 0;

		if (p[i + width + eol - 1] != '\n' || (eol == 2 && p[i + width] != '\r'))
			break;
		for (j = 0; j + 64 <= width; j += 64)
			bad |= dec64(k, p + i + j, o + j / 4 * 3, &c);
		if (j < width)
			bad |= dec64(k, p + i + (width < 64 ? 0 : width - 64),
			    o + (width < 64 ? 0 : (width - 64) / 4 * 3), &c) & line_mask;
		if (bad != 0)
			break;
		i += width + eol;
		o += width / 4 * 3;
	}
	*out = o;
	return i;
}

static size_t
dec_avx512(const char *in, size_t n, unsigned char *out, size_t *outn, int url)
{
	const unsigned char *p = (const unsigned char *)in;
	unsigned char *o = out;
	size_t i = 0, got, line = SIZE_MAX, width, eol;
	struct dec_consts k;

	dec_consts_init(&k, url);
	while (n - i >= 64) {
		__m512i c;
		uint64_t bad = dec64(&k, p + i, o, &c), ws;
		unsigned j;

		if (bad == 0) {
			i += 64;
			o += 48;
			continue;
		}
		/* Keep the whole quads before the first stranger. If it starts a quad and begins
		 * a run of white space (a line break), skip the run and go on after it. */
		j = (unsigned)__builtin_ctzll(bad);
		i += j / 4 * 4;
		o += j / 4 * 3;
		if (j % 4 != 0) {
			/* A line break inside a quad (lines of 75, say). */
			if ((got = b64_dec_split_quad(in + i, n - i, o, url)) == 0)
				goto done;
			i += got;
			o += 3;
			line = SIZE_MAX;
			continue;
		}
		ws = ws64(&k, c) >> j;
		if ((ws & 1) == 0)
			goto done;
		/* The run's length in this block (all 64 when the whole block is white space:
		 * ctz of 0 is undefined). */
		eol = ws == ~(uint64_t)0 ? 64 : (unsigned)__builtin_ctzll(~ws);
		/* A line of a width seen before ended in LF or CRLF: the next lines likely
		 * share it. */
		width = line != SIZE_MAX ? i - line : 0;
		i += eol;
		line = i;
		if (width >= 32 && width % 4 == 0 && p[i - 1] == '\n'
		    && (eol == 1 || (eol == 2 && p[i - 2] == '\r')))
			i += dec_lines(&k, p + i, n - i, width, eol, &o);
	}
	i += b64_dec_scalar(in + i, n - i, o, &got, url);
	o += got;
done:
	*outn = (size_t)(o - out);
	return i;
}

const struct b64_kernel B64_AVX512_KERNEL = { B64_AVX512_NAME, enc_avx512, dec_avx512 };
#else
/* ISO C wants a translation unit to declare something. */
typedef int b64_avx512_unused;
#endif
