/* qp.h — streaming quoted-printable (RFC 2045 §6.7) encoder and decoder. Like b64.h: the
 * caller feeds chunks of any size and provides output space given by the *_bound functions. */
#ifndef SECMAIL_QP_H
#define SECMAIL_QP_H

#include <stddef.h>

enum {
	QP_BINARY = 1 << 0,	/* encoder: CR and LF are data, written =0D =0A; no hard breaks */
	QP_CRLF = 1 << 1,	/* line ends written as CRLF (default LF): the encoder's hard and
				 * soft breaks, the decoder's hard breaks */
	QP_TERMINATE = 1 << 2,	/* encoder: if the data does not end with a line break, end the
				 * output with a soft break so it ends with a line end */
};

#define QP_LINE_MAX 76		/* §6.7 rule 5: encoded lines at most 76 characters */
#define QP_DEC_WS_MAX 256	/* decoder: white space held to see whether it is trailing */

/*
 * Encoder. Text mode (default): a line break in the input (LF or CRLF) becomes a hard line
 * break; a bare CR is data (=0D). Encoded: '=', bytes outside 33..126 other than space and
 * tab, space and tab before a line break or at the end of the data (§6.7 rule 3), and, for
 * transport safety (RFC 2049 §3 points 7-8), an 'F' starting "From " at the start of an
 * output line (=46rom) and a '.' at the start of an output line that would otherwise be a
 * line of its own (=2E). Soft breaks (rule 5) keep every line within QP_LINE_MAX including
 * the '='.
 */
struct qp_enc {
	int flags;
	unsigned col;		/* characters on the current output line */
	unsigned char hold[8];	/* input awaiting look-ahead (at most 5: "From ") */
	unsigned nhold;
};

void qp_enc_init(struct qp_enc *x, int flags);
/* Output space qp_enc_update needs for n input bytes; qp_enc_final needs qp_enc_bound(0). */
size_t qp_enc_bound(size_t n);
size_t qp_enc_update(struct qp_enc *x, const void *in, size_t n, char *out);
size_t qp_enc_final(struct qp_enc *x, char *out);

/*
 * Decoder. Never fails: "=XX" (upper- or lower-case hex) is an octet; '=' at the end of a
 * line (after optional white space) is a soft break; white space at the end of a line is
 * removed (§6.7 rule 3: added by transports); a malformed '=' sequence ("=G1", "=4" + line
 * end, "= x") is passed through literally, as §6.7's note suggests; a bare CR is data.
 * Line breaks (LF or CRLF) become LF, or CRLF with QP_CRLF. A run of more than QP_DEC_WS_MAX
 * white space characters is passed through without waiting for its end (malformed input:
 * encoded lines are at most 76 characters).
 */
struct qp_dec {
	int flags;
	int state;
	int cr;			/* a CR awaits its LF */
	unsigned char hex1;
	unsigned char ws[QP_DEC_WS_MAX];
	size_t nws;
};

void qp_dec_init(struct qp_dec *x, int flags);
/* Output space qp_dec_update needs for n input bytes; qp_dec_final needs qp_dec_bound(0). */
size_t qp_dec_bound(size_t n);
size_t qp_dec_update(struct qp_dec *x, const void *in, size_t n, unsigned char *out);
size_t qp_dec_final(struct qp_dec *x, unsigned char *out);

#endif
