/* canon.h — streaming line-end conversion: text to canonical CRLF form (RFC 5322 §2.1,
 * RFC 2049 §4, RFC 8551 §3.1.1: what S/MIME signs), and CRLF back to LF for local delivery.
 * A CR LF pair split across chunks is handled. */
#ifndef SECMAIL_CANON_H
#define SECMAIL_CANON_H

#include <stddef.h>

#include "err.h"
#include "io.h"

enum canon_mode {
	CANON_CRLF,	/* LF -> CRLF, CRLF kept, a bare CR -> CRLF (it cannot stand alone in
			 * canonical text; old Macintosh files end lines with it) */
	CANON_LF,	/* CRLF -> LF; a bare CR is data and kept; LF kept */
	CANON_LF_TEXT,	/* CRLF -> LF and a bare CR -> LF: every line end of text as LF */
};

struct canon {
	enum canon_mode mode;
	int cr;		/* the last byte seen was a CR whose fate waits for the next byte */
};

void canon_init(struct canon *c, enum canon_mode mode);
/* Output space canon_update needs for n input bytes (canon_final needs at most 2). */
size_t canon_bound(size_t n);
size_t canon_update(struct canon *c, const void *in, size_t n, char *out);
/* The same, finding line ends byte by byte: the reference the tests compare with. */
size_t canon_update_ref(struct canon *c, const void *in, size_t n, char *out);
size_t canon_final(struct canon *c, char *out);

/* The same, writing to a sink in bounded steps (no allocation). */
int canon_write(struct canon *c, const struct sink *s, const void *p, size_t n, struct err *e);
int canon_finish(struct canon *c, const struct sink *s, struct err *e);

#endif
