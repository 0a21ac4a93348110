/* b64.h — streaming base64 (RFC 4648 §4) and base64url (§5) encoder and decoder.
 * The bulk work is done by a kernel chosen at run time (AVX-512 VBMI, else AVX2, when the CPU
 * has it, NEON on AArch64, a portable scalar one otherwise);
 * SECMAIL_B64_KERNEL=scalar|avx2|avx512|neon forces one (for tests). */
#ifndef SECMAIL_B64_H
#define SECMAIL_B64_H

#include <stddef.h>
#include <stdint.h>

enum {
	B64_URL = 1 << 0,		/* RFC 4648 §5 alphabet */
	B64_CRLF = 1 << 1,		/* encoder: end lines with CRLF */
	B64_IGNORE_GARBAGE = 1 << 2,	/* decoder: skip bytes outside the alphabet */
};

/* A kernel: bulk conversion of whole groups. enc converts n bytes (n % 3 == 0) and returns the
 * characters written (n / 3 * 4). dec converts whole quads of alphabet characters read
 * straight from the input, skipping white space (SP, HT, LF, VT, FF, CR) between and inside
 * quads, so wrapped lines of any width decode in one call; it stops before '=', garbage, or a
 * partial quad at the end. It returns the input characters consumed, sets *outn to the bytes
 * written, and may write up to B64_DEC_SLACK bytes past them. */
#define B64_DEC_SLACK 64
struct b64_kernel {
	const char *name;
	size_t (*enc)(const unsigned char *in, size_t n, char *out, int url);
	size_t (*dec)(const char *in, size_t n, unsigned char *out, size_t *outn, int url);
};

/* The kernel to use: SECMAIL_B64_KERNEL if set and usable, else the best the CPU supports. */
const struct b64_kernel *b64_kernel(void);
const struct b64_kernel *b64_kernel_by_name(const char *name);	/* NULL if unknown/unusable */

#define B64_ENC_SCRATCH 49152	/* raw characters encoded per round before wrapping */

struct b64_enc {
	const struct b64_kernel *k;
	int flags;
	unsigned wrap;		/* characters per line, 0 = one line, no newline */
	unsigned col;		/* characters on the current line */
	unsigned char carry[3];
	unsigned ncarry;
	int any;		/* output started */
	char scratch[B64_ENC_SCRATCH + 16];	/* + room for 16-byte line copies */
};

void b64_enc_init(struct b64_enc *x, int flags, unsigned wrap);
/* Output space b64_enc_update needs for n input bytes (final needs at most 8); it includes
 * 16 bytes the line copies may write past the output. */
size_t b64_enc_bound(const struct b64_enc *x, size_t n);
size_t b64_enc_update(struct b64_enc *x, const void *in, size_t n, char *out);
/* Padding and the final line end (when wrapping and anything was written). */
size_t b64_enc_final(struct b64_enc *x, char *out);

struct b64_dec {
	const struct b64_kernel *k;
	int flags;
	unsigned char q[4];	/* sextets of the quad in progress */
	unsigned nq;
	unsigned npad;		/* '=' seen in the quad in progress */
	int ended;		/* a padded quad ended the data: only white space may follow */
	uint64_t off;		/* input offset of the next byte */
	char msg[160];		/* why the last call failed */
};

void b64_dec_init(struct b64_dec *x, int flags);
/* Output space b64_dec_update needs for n input bytes. */
size_t b64_dec_bound(size_t n);
/* 0, or -1 with x->msg naming the byte offset of the problem. */
int b64_dec_update(struct b64_dec *x, const void *in, size_t n, unsigned char *out, size_t *outn);
int b64_dec_final(struct b64_dec *x, unsigned char *out, size_t *outn);

/* One-shot helpers for short strings (header words, parameters). */
size_t b64_encode(const void *in, size_t n, char *out, int flags);	/* out: 4*((n+2)/3) */
/* Returns decoded length or -1; white space is skipped. out needs b64_dec_bound(n). */
long long b64_decode(const char *in, size_t n, unsigned char *out, int flags);

/* Kernels, for tests and benchmarks. */
extern const struct b64_kernel b64_kernel_scalar;
#if defined(__x86_64__) || defined(__i386__)
extern const struct b64_kernel b64_kernel_avx2;
extern const struct b64_kernel b64_kernel_avx512;
#endif
#if defined(__aarch64__)
extern const struct b64_kernel b64_kernel_neon;
#endif

#endif
