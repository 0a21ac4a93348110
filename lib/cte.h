/* cte.h — Content-Transfer-Encoding (RFC 2045 §6): parsing the field, scanning content to
 * choose an encoding, and one streaming encoder/decoder facade over identity, quoted-printable
 * (qp.h) and base64 (b64.h) that writes to a sink, so every tool encodes and decodes MIME
 * parts through the same code path. */
#ifndef SECMAIL_CTE_H
#define SECMAIL_CTE_H

#include <stddef.h>
#include <stdint.h>

#include "b64.h"
#include "canon.h"
#include "err.h"
#include "io.h"
#include "qp.h"

enum cte {
	CTE_7BIT,
	CTE_8BIT,
	CTE_BINARY,
	CTE_QP,		/* quoted-printable */
	CTE_BASE64,
	CTE_UNKNOWN,	/* RFC 2045 §6.4: an encoding we do not know; treat the body as opaque */
};

/* Parse a Content-Transfer-Encoding field value: case-insensitive, white space and RFC 822
 * comments allowed. NULL (no field) is 7bit (§6.1). Anything unrecognised ("x-uuencode",
 * junk, two tokens) is CTE_UNKNOWN. */
enum cte cte_parse(const char *value);
/* The canonical lower-case name ("7bit", "quoted-printable", ...); "unknown" for CTE_UNKNOWN. */
const char *cte_name(enum cte c);

/* Statistics over content, gathered in a stream. A line ends at LF (with or without CR). */
struct cte_stats {
	uint64_t bytes;
	uint64_t lines;		/* line ends seen */
	uint64_t nul;		/* NUL bytes */
	uint64_t nonascii;	/* bytes >= 0x80 */
	uint64_t ctl;		/* control bytes other than TAB, LF, CR, FF and ESC, and DEL */
	uint64_t bare_cr;	/* CR not followed by LF */
	uint64_t bare_lf;	/* LF not preceded by CR */
	uint64_t longest;	/* longest line in octets, line end excluded */
	uint64_t from_lines;	/* lines starting "From " */
	uint64_t ws_lines;	/* lines ending in space or tab (transports may strip it) */
	uint64_t dot_lines;	/* lines that are a lone "." */
	uint64_t utf8_bad;	/* ill-formed UTF-8 sequences */
	int ends_nl;		/* the content ends with a line end (or is empty) */
	/* scanner state */
	uint64_t cur;
	int cr;
	unsigned char head[5];
	unsigned nhead;
	unsigned char last;
	unsigned need;
	unsigned char lo, hi;
};

void cte_scan_init(struct cte_stats *s);
/* cte_scan takes runs of plain bytes a vector (or word) at a time; cte_scan_ref is the same
 * scanner byte by byte, the reference the tests compare it with. */
void cte_scan(struct cte_stats *s, const void *p, size_t n);
void cte_scan_ref(struct cte_stats *s, const void *p, size_t n);
void cte_scan_final(struct cte_stats *s);
/* Text rather than binary: no NUL, no bare CR, no control bytes (see ctl). */
int cte_stats_is_text(const struct cte_stats *s);

enum {
	CTE_ALLOW_8BIT = 1 << 0,	/* the transport takes 8bit (8BITMIME) */
	CTE_ALLOW_BINARY = 1 << 1,	/* the transport takes binary (BINARYMIME) */
	CTE_SIGNED = 1 << 2,		/* the part will be signed: nothing a transport might
					 * alter (RFC 8551 §3.1.3, RFC 3156 §3): 7bit only when
					 * no line starts "From " or ends in white space */
};

/*
 * Choose the encoding (documented policy):
 * - binary content (NUL, bare CR, control bytes): binary if CTE_ALLOW_BINARY (and not
 *   CTE_SIGNED), else base64;
 * - 7bit when all bytes are ASCII, no line is longer than 78 octets (RFC 5322 §2.1.1's
 *   SHOULD; longer lines are legal up to 998 but are where transports rewrap), and, with
 *   CTE_SIGNED, no line starts "From ", ends in white space or is a lone ".";
 * - 8bit when CTE_ALLOW_8BIT, not CTE_SIGNED, and lines are at most 998 octets;
 * - otherwise quoted-printable when it is no larger than base64 would be (bytes needing
 *   escapes at most about 1/6 of the content: mostly-ASCII text), else base64.
 */
enum cte cte_choose(const struct cte_stats *s, int flags);

/* Facade flags. */
enum {
	CTE_TEXT = 1 << 0,	/* the content is text: line ends (LF, CRLF, bare CR) are line
				 * breaks; encoding puts text in canonical CRLF form first (for
				 * base64, RFC 2045 §6.8 / RFC 2049 §4) or makes them QP hard
				 * breaks; decoding writes them as LF, or CRLF with CTE_CRLF */
	CTE_CRLF = 1 << 1,	/* encoded lines (encoder) / decoded text lines (decoder) end in
				 * CRLF instead of LF */
	CTE_STRICT = 1 << 2,	/* decoder: base64 characters outside the alphabet, data after
				 * the padding and a truncated last group are errors (default:
				 * ignored / decoded as far as possible, RFC 2045 §6.8) */
	CTE_TERMINATE = 1 << 3,	/* encoder, quoted-printable: end with a line end (soft break) */
};

#define CTE_STEP (16 * 1024)		/* input bytes processed per round */
#define CTE_BUFSIZE (8 * CTE_STEP + 4096)	/* staging buffer: bounds every stage of a round */

struct cte_enc {
	enum cte cte;
	int flags;
	struct canon canon;
	struct qp_enc qp;
	struct b64_enc *b64;
	char *buf1, *buf2;	/* staging, CTE_BUFSIZE each */
	uint64_t col;		/* identity: current line length, for the 998 check */
	int last_eol;		/* the output so far ends with a line end (or is empty) */
};

/*
 * Encoder. 7bit, 8bit and binary are identity (with CTE_TEXT, line ends normalised to CRLF
 * or LF). 7bit and 8bit check what they pass: a NUL, 8-bit data in 7bit, or a line over 998
 * octets is an EX_DATAERR error (the chooser and the data disagree: never write a wrong
 * label). Quoted-printable: qp.h in text mode (after canonicalisation) for CTE_TEXT, binary
 * mode otherwise. Base64: lines of 76, the last one ended. CTE_UNKNOWN cannot be encoded
 * (EX_SOFTWARE). x->last_eol tells whether the output so far ends with a line end, so a MIME
 * writer knows whether the last line is complete (the CRLF before a boundary belongs to the
 * boundary, RFC 2046 §5.1.1).
 */
int cte_enc_init(struct cte_enc *x, enum cte c, int flags, struct err *e);
/* As cte_enc_init, for an encoder initialised before and not freed, that has finished (or
 * failed): its buffers are kept, so a writer of many parts allocates them once. After an
 * error the encoder still needs cte_enc_free. */
int cte_enc_reinit(struct cte_enc *x, enum cte c, int flags, struct err *e);
int cte_enc_write(struct cte_enc *x, const struct sink *s, const void *p, size_t n,
    struct err *e);
int cte_enc_finish(struct cte_enc *x, const struct sink *s, struct err *e);
void cte_enc_free(struct cte_enc *x);

struct cte_dec {
	enum cte cte;
	int flags;
	struct canon canon;
	struct qp_dec qp;
	struct b64_dec b64;
	int done;		/* base64 padding seen (lenient): the rest is ignored */
	char *buf1, *buf2;
};

/*
 * Decoder. Identity encodings and CTE_UNKNOWN pass bytes through (text: line ends
 * normalised). Quoted-printable never fails (qp.h). Base64 errors are EX_DATAERR naming the
 * offset. Decoded text (CTE_TEXT) has its line ends normalised to LF or CRLF.
 */
int cte_dec_init(struct cte_dec *x, enum cte c, int flags, struct err *e);
int cte_dec_write(struct cte_dec *x, const struct sink *s, const void *p, size_t n,
    struct err *e);
int cte_dec_finish(struct cte_dec *x, const struct sink *s, struct err *e);
void cte_dec_free(struct cte_dec *x);

#endif
