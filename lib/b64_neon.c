/* b64_neon.c — AArch64 NEON base64 kernel: 48 bytes <-> 64 characters per step, with the
 * structure loads and stores (vld3/vst4, vld4/vst3) doing the (de)interleaving and 64-entry
 * table lookups (tbl) doing the mapping. NEON is part of every AArch64 CPU, so the kernel is
 * always usable there. Blocks holding anything but alphabet characters (line breaks, '=',
 * garbage) go through the scalar code for a few quads, then the vector loop resumes. */
#include "b64.h"

#if defined(__aarch64__)
#include <arm_neon.h>

size_t b64_enc_scalar(const unsigned char *in, size_t n, char *out, int url);
size_t b64_dec_scalar(const char *in, size_t n, unsigned char *out, size_t *outn, int url);

static const char alpha_std[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char alpha_url[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static size_t
enc_neon(const unsigned char *in, size_t n, char *out, int url)
{
	const uint8_t *a = (const uint8_t *)(url ? alpha_url : alpha_std);
	const uint8x16x4_t tbl = { { vld1q_u8(a), vld1q_u8(a + 16), vld1q_u8(a + 32),
		vld1q_u8(a + 48) } };
	const uint8x16_t m3 = vdupq_n_u8(3), m15 = vdupq_n_u8(15), m63 = vdupq_n_u8(63);
	size_t i = 0;
	char *o = out;

	for (; n - i >= 48; i += 48, o += 64) {
		uint8x16x3_t b = vld3q_u8(in + i);
		uint8x16x4_t s;

		s.val[0] = vshrq_n_u8(b.val[0], 2);
		s.val[1] = vorrq_u8(vshlq_n_u8(vandq_u8(b.val[0], m3), 4), vshrq_n_u8(b.val[1], 4));
		s.val[2] = vorrq_u8(vshlq_n_u8(vandq_u8(b.val[1], m15), 2), vshrq_n_u8(b.val[2], 6));
		s.val[3] = vandq_u8(b.val[2], m63);
		s.val[0] = vqtbl4q_u8(tbl, s.val[0]);
		s.val[1] = vqtbl4q_u8(tbl, s.val[1]);
		s.val[2] = vqtbl4q_u8(tbl, s.val[2]);
		s.val[3] = vqtbl4q_u8(tbl, s.val[3]);
		vst4q_u8((uint8_t *)o, s);
	}
	return (size_t)(o - out) + b64_enc_scalar(in + i, n - i, o, url);
}

/* Character -> sextet + 1 for 0..127 (0: not in the alphabet), as two 64-entry tables. */
static void
dec_table(uint8_t t[128], int url)
{
	const char *a = url ? alpha_url : alpha_std;
	int k;

	for (k = 0; k < 128; k++)
		t[k] = 0;
	for (k = 0; k < 64; k++)
		t[(unsigned char)a[k]] = (uint8_t)(k + 1);
}

static size_t
dec_neon(const char *in, size_t n, unsigned char *out, size_t *outn, int url)
{
	const uint8_t *p = (const uint8_t *)in;
	uint8_t t[128];
	uint8x16x4_t lo, hi;
	const uint8x16_t c64 = vdupq_n_u8(64), one = vdupq_n_u8(1);
	unsigned char *o = out;
	size_t i = 0, k, got;
	int j;

	dec_table(t, url);
	for (j = 0; j < 4; j++) {
		lo.val[j] = vld1q_u8(t + 16 * j);
		hi.val[j] = vld1q_u8(t + 64 + 16 * j);
	}
	while (n - i >= 64) {
		uint8x16x4_t c = vld4q_u8(p + i), v;
		uint8x16x3_t b;
		uint8x16_t bad = vdupq_n_u8(0xff);

		for (j = 0; j < 4; j++) {
			/* tbl gives 0 for an index past 63: c < 64 hits lo, 64..127 hits hi,
			 * 128..255 neither. */
			v.val[j] = vorrq_u8(vqtbl4q_u8(lo, c.val[j]),
			    vqtbl4q_u8(hi, vsubq_u8(c.val[j], c64)));
			bad = vminq_u8(bad, v.val[j]);
			v.val[j] = vsubq_u8(v.val[j], one);
		}
		if (vminvq_u8(bad) == 0) {
			/* A line break, padding or garbage: a few quads the scalar way (it skips
			 * white space and stops where the byte-wise path must take over). */
			k = b64_dec_scalar(in + i, n - i < 16 ? n - i : 16, o, &got, url);
			if (k == 0)
				break;
			i += k;
			o += got;
			continue;
		}
		b.val[0] = vorrq_u8(vshlq_n_u8(v.val[0], 2), vshrq_n_u8(v.val[1], 4));
		b.val[1] = vorrq_u8(vshlq_n_u8(v.val[1], 4), vshrq_n_u8(v.val[2], 2));
		b.val[2] = vorrq_u8(vshlq_n_u8(v.val[2], 6), v.val[3]);
		vst3q_u8(o, b);
		i += 64;
		o += 48;
	}
	if (n - i < 64) {
		i += b64_dec_scalar(in + i, n - i, o, &got, url);
		o += got;
	}
	*outn = (size_t)(o - out);
	return i;
}

const struct b64_kernel b64_kernel_neon = { "neon", enc_neon, dec_neon };
#else
/* ISO C wants a translation unit to declare something. */
typedef int b64_neon_unused;
#endif
