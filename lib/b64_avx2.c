/* b64_avx2.c — AVX2 base64 kernel: 24 bytes <-> 32 characters per step. Compiled with -mavx2
 * and only called after b64_kernel() has seen the CPU support it. The decoder works around
 * line breaks in the vector loop; tails shorter than a vector go to the scalar code. */
#include "b64.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#include <stdint.h>

size_t b64_enc_scalar(const unsigned char *in, size_t n, char *out, int url);
size_t b64_dec_scalar(const char *in, size_t n, unsigned char *out, size_t *outn, int url);
size_t b64_dec_split_quad(const char *in, size_t n, unsigned char *out, int url);

static size_t
enc_avx2(const unsigned char *in, size_t n, char *out, int url)
{
	/* Per 32-bit lane, bytes (b0 b1 b2) are laid out as b1 b0 b2 b1, so that the low 16-bit
	 * half holds b0b1 and the high half b1b2; the multiplies below then move each sextet
	 * into its own byte. */
	const __m256i shuf = _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10,
	    1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
	const __m256i m_hi = _mm256_set1_epi32(0x0fc0fc00), mul_hi = _mm256_set1_epi32(0x04000040);
	const __m256i m_lo = _mm256_set1_epi32(0x003f03f0), mul_lo = _mm256_set1_epi32(0x01000010);
	/* Sextet -> ASCII as an offset chosen by class: 0 for 26..51, 1..10 digits, 11 and 12 the
	 * two specials, 13 for 0..25. */
	const __m256i lut = url
	    ? _mm256_setr_epi8(71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -17, 32, 65, 0, 0,
	        71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -17, 32, 65, 0, 0)
	    : _mm256_setr_epi8(71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0,
	        71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0);
	const __m256i c51 = _mm256_set1_epi8(51), c26 = _mm256_set1_epi8(26),
	    c13 = _mm256_set1_epi8(13);
	size_t i = 0;
	char *o = out;

	for (; n - i >= 32; i += 24, o += 32) {
		__m128i lo = _mm_loadu_si128((const __m128i *)(in + i));
		__m128i hi = _mm_loadu_si128((const __m128i *)(in + i + 12));
		__m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
		__m256i idx, cls;

		v = _mm256_shuffle_epi8(v, shuf);
		idx = _mm256_or_si256(
		    _mm256_mulhi_epu16(_mm256_and_si256(v, m_hi), mul_hi),
		    _mm256_mullo_epi16(_mm256_and_si256(v, m_lo), mul_lo));
		cls = _mm256_subs_epu8(idx, c51);
		cls = _mm256_or_si256(cls, _mm256_and_si256(_mm256_cmpgt_epi8(c26, idx), c13));
		v = _mm256_add_epi8(idx, _mm256_shuffle_epi8(lut, cls));
		_mm256_storeu_si256((__m256i *)o, v);
	}
	return (size_t)(o - out) + b64_enc_scalar(in + i, n - i, o, url);
}

#define X2(...) __VA_ARGS__, __VA_ARGS__

/*
 * Decoding classifies each character by its two nibbles. A character is in the alphabet iff
 * hi_bits[high nibble] & lo_bits[low nibble] != 0, with one bit per run of the alphabet:
 *   bit 0: 0x2_ row  ('+' 0x2B and '/' 0x2F; base64url: '-' 0x2D)
 *   bit 1: 0x3_ row, low nibble 0..9      ('0'..'9')
 *   bit 2: 0x4_/0x6_ rows, low nibble 1..F ('A'..'O', 'a'..'o')
 *   bit 3: 0x5_/0x7_ rows, low nibble 0..A ('P'..'Z', 'p'..'z')
 *   bit 4: 0x5_ row, low nibble F         (base64url '_' 0x5F)
 * The sextet is then c + offset[high nibble], corrected for the one character of its row
 * whose offset differs ('/' in the 0x2_ row, '_' in the 0x5_ row).
 */
struct dec_consts {
	__m256i hi_bits, lo_bits, offset, odd_char, odd_fix, nib, zero, pack1, pack2, order, gather;
};

static void
dec_consts_init(struct dec_consts *k, int url)
{
	k->hi_bits = url
	    ? _mm256_setr_epi8(X2(0, 0, 1, 2, 4, 8 | 16, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0))
	    : _mm256_setr_epi8(X2(0, 0, 1, 2, 4, 8, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0));
	k->lo_bits = url
	    ? _mm256_setr_epi8(X2(2 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8,
	        2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 4 | 8, 4, 4, 1 | 4, 4, 4 | 16))
	    : _mm256_setr_epi8(X2(2 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8,
	        2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 4 | 8, 1 | 4, 4, 4, 4, 1 | 4));
	/* '+' -> 62 (offset 19) / '-' -> 62 (17); digits +4; upper -65; lower -71. */
	k->offset = url
	    ? _mm256_setr_epi8(X2(0, 0, 17, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0))
	    : _mm256_setr_epi8(X2(0, 0, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0));
	/* '/' -> 63 needs 16, not 19: -3. '_' -> 63 needs -32, not -65: +33. */
	k->odd_char = _mm256_set1_epi8(url ? '_' : '/');
	k->odd_fix = _mm256_set1_epi8(url ? 33 : -3);
	k->nib = _mm256_set1_epi8(0x0f);
	k->zero = _mm256_setzero_si256();
	k->pack1 = _mm256_set1_epi32(0x01400140);
	k->pack2 = _mm256_set1_epi32(0x00011000);
	k->order = _mm256_setr_epi8(X2(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1));
	k->gather = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);
}

/* Decode the 32 characters at in into 24 bytes at out (32 bytes stored); returns the mask of
 * characters outside the alphabet (their output bytes are garbage). */
static inline unsigned
dec32(const struct dec_consts *k, const unsigned char *in, unsigned char *out, __m256i *chars)
{
	__m256i c = _mm256_loadu_si256((const __m256i *)in);
	__m256i hi = _mm256_and_si256(_mm256_srli_epi16(c, 4), k->nib);
	__m256i lo = _mm256_and_si256(c, k->nib);
	__m256i cls = _mm256_and_si256(_mm256_shuffle_epi8(k->hi_bits, hi),
	    _mm256_shuffle_epi8(k->lo_bits, lo));
	__m256i v;

	v = _mm256_add_epi8(c, _mm256_shuffle_epi8(k->offset, hi));
	v = _mm256_add_epi8(v, _mm256_and_si256(_mm256_cmpeq_epi8(c, k->odd_char), k->odd_fix));
	/* (a<<6|b) per 16 bits, then (ab<<12|cd) per 32 bits: 24 bits, big-endian bytes. */
	v = _mm256_madd_epi16(_mm256_maddubs_epi16(v, k->pack1), k->pack2);
	v = _mm256_shuffle_epi8(v, k->order);
	v = _mm256_permutevar8x32_epi32(v, k->gather);
	_mm256_storeu_si256((__m256i *)out, v);
	*chars = c;
	return (unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(cls, k->zero));
}

/*
 * Lines of a fixed width: once two line breaks have shown the width (a multiple of 4, at
 * least 32), each following line is decoded as whole blocks, the last one overlapping the
 * one before it, and the line end is checked with one load. Nothing here depends on where
 * the previous block stopped, so the loads run ahead. The first line that does not fit
 * (another width, white space elsewhere, '=', garbage, too little input) is left to the
 * general loop. Returns the input consumed.
 */
static size_t
dec_lines(const struct dec_consts *k, const unsigned char *p, size_t n, size_t width,
    size_t eol, unsigned char **out)
{
	unsigned char *o = *out;
	size_t i = 0, j;
	__m256i c;

	/* MIME's 76 (RFC 2045 §6.8) with LF, unrolled: two lines per step, six independent
	 * blocks. */
	if (width == 76 && eol == 1)
		while (n - i >= 2 * 77) {
			unsigned bad;

			if (p[i + 76] != '\n' || p[i + 153] != '\n')
				break;
			/* One statement each: the operands of | are not ordered, and a block's
			 * last 8 bytes are garbage the next (overlapping) block must overwrite. */
			bad = dec32(k, p + i, o, &c);
			bad |= dec32(k, p + i + 32, o + 24, &c);
			bad |= dec32(k, p + i + 44, o + 33, &c);
			bad |= dec32(k, p + i + 77, o + 57, &c);
			bad |= dec32(k, p + i + 109, o + 81, &c);
			bad |= dec32(k, p + i + 121, o + 90, &c);
			if (bad != 0)
				break;
			i += 2 * 77;
			o += 2 * 57;
		}
	while (n - i >= width + eol) {
		unsigned bad = 0;

		if (p[i + width + eol - 1] != '\n' || (eol == 2 && p[i + width] != '\r'))
			break;
		for (j = 0; j + 32 <= width; j += 32)
			bad |= dec32(k, p + i + j, o + j / 4 * 3, &c);
		if (j < width)
			bad |= dec32(k, p + i + width - 32, o + (width - 32) / 4 * 3, &c);
		if (bad != 0)
			break;
		i += width + eol;
		o += width / 4 * 3;
	}
	*out = o;
	return i;
}

static size_t
dec_avx2(const char *in, size_t n, unsigned char *out, size_t *outn, int url)
{
	/* White space: ' ', and '\t'..'\r' (c - 9 <= 4 unsigned). */
	const __m256i sp = _mm256_set1_epi8(' '), tab = _mm256_set1_epi8('\t'),
	    four = _mm256_set1_epi8(4);
	const unsigned char *p = (const unsigned char *)in;
	unsigned char *o = out;
	size_t i = 0, got, line = SIZE_MAX, width, eol;
	struct dec_consts k;

	dec_consts_init(&k, url);
	while (n - i >= 32) {
		__m256i c;
		unsigned bad = dec32(&k, p + i, o, &c), j, ws;

		if (bad == 0) {
			i += 32;
			o += 24;
			continue;
		}
		/* Keep the whole quads before the first stranger. If it starts a quad and begins
		 * a run of white space (a line break), skip the run and go on after it. */
		j = (unsigned)__builtin_ctz(bad);
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
		ws = (unsigned)_mm256_movemask_epi8(_mm256_or_si256(_mm256_cmpeq_epi8(c, sp),
		    _mm256_cmpeq_epi8(_mm256_min_epu8(_mm256_sub_epi8(c, tab), four),
		    _mm256_sub_epi8(c, tab)))) >> j;
		if ((ws & 1) == 0)
			goto done;
		/* The run's length in this block (all 32 when the whole block is white space:
		 * ctz of 0 is undefined). */
		eol = ws == 0xffffffffu ? 32 : (unsigned)__builtin_ctz(~ws);
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

const struct b64_kernel b64_kernel_avx2 = { "avx2", enc_avx2, dec_avx2 };
#endif
