/* b64_avx2.c — AVX2 base64 kernel: 24 bytes <-> 32 characters per step. Compiled with -mavx2
 * and only called after b64_kernel() has seen the CPU support it. Tails go to the scalar code. */
#include "b64.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

size_t b64_enc_scalar(const unsigned char *in, size_t n, char *out, int url);
size_t b64_dec_scalar(const char *in, size_t n, unsigned char *out, int url);

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
static size_t
dec_avx2(const char *in, size_t n, unsigned char *out, int url)
{
	const __m256i hi_bits = url
	    ? _mm256_setr_epi8(X2(0, 0, 1, 2, 4, 8 | 16, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0))
	    : _mm256_setr_epi8(X2(0, 0, 1, 2, 4, 8, 4, 8, 0, 0, 0, 0, 0, 0, 0, 0));
	const __m256i lo_bits = url
	    ? _mm256_setr_epi8(X2(2 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8,
	        2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 4 | 8, 4, 4, 1 | 4, 4, 4 | 16))
	    : _mm256_setr_epi8(X2(2 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8,
	        2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 2 | 4 | 8, 4 | 8, 1 | 4, 4, 4, 4, 1 | 4));
	/* '+' -> 62 (offset 19) / '-' -> 62 (17); digits +4; upper -65; lower -71. */
	const __m256i offset = url
	    ? _mm256_setr_epi8(X2(0, 0, 17, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0))
	    : _mm256_setr_epi8(X2(0, 0, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0));
	/* '/' -> 63 needs 16, not 19: -3. '_' -> 63 needs -32, not -65: +33. */
	const __m256i odd_char = _mm256_set1_epi8(url ? '_' : '/');
	const __m256i odd_fix = _mm256_set1_epi8(url ? 33 : -3);
	const __m256i nib = _mm256_set1_epi8(0x0f), zero = _mm256_setzero_si256();
	const __m256i pack1 = _mm256_set1_epi32(0x01400140), pack2 = _mm256_set1_epi32(0x00011000);
	const __m256i order = _mm256_setr_epi8(X2(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1));
	const __m256i gather = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);
	unsigned char *o = out;
	size_t i = 0;

	for (; n - i >= 32; i += 32, o += 24) {
		__m256i c = _mm256_loadu_si256((const __m256i *)(in + i));
		__m256i hi = _mm256_and_si256(_mm256_srli_epi16(c, 4), nib);
		__m256i lo = _mm256_and_si256(c, nib);
		__m256i cls = _mm256_and_si256(_mm256_shuffle_epi8(hi_bits, hi),
		    _mm256_shuffle_epi8(lo_bits, lo));
		__m256i v;

		if (_mm256_movemask_epi8(_mm256_cmpeq_epi8(cls, zero)) != 0)
			break;
		v = _mm256_add_epi8(c, _mm256_shuffle_epi8(offset, hi));
		v = _mm256_add_epi8(v, _mm256_and_si256(_mm256_cmpeq_epi8(c, odd_char), odd_fix));
		/* (a<<6|b) per 16 bits, then (ab<<12|cd) per 32 bits: 24 bits, big-endian bytes. */
		v = _mm256_madd_epi16(_mm256_maddubs_epi16(v, pack1), pack2);
		v = _mm256_shuffle_epi8(v, order);
		v = _mm256_permutevar8x32_epi32(v, gather);
		_mm256_storeu_si256((__m256i *)o, v);
	}
	return i + b64_dec_scalar(in + i, n - i, o, url);
}

const struct b64_kernel b64_kernel_avx2 = { "avx2", enc_avx2, dec_avx2 };
#endif
