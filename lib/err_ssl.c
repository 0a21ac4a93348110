/* err_ssl.c — err_ssl: a message followed by OpenSSL's drained error queue. Apart from
 * err.c so that only the tools that use OpenSSL link libcrypto. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

static void
append(struct err *e, const char *s)
{
	size_t n = strlen(e->msg);

	if (n < sizeof e->msg - 1)
		snprintf(e->msg + n, sizeof e->msg - n, "%s", s);
}

int
err_ssl(struct err *e, int code, const char *fmt, ...)
{
	char buf[256];
	unsigned long ec;
	const char *sep = ": ";
	va_list ap;

	va_start(ap, fmt);
	e->code = code;
	e->sys = 0;
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	/* Oldest error first: it is usually the cause, the later ones the consequences. */
	while ((ec = ERR_get_error()) != 0) {
		ERR_error_string_n(ec, buf, sizeof buf);
		append(e, sep);
		append(e, buf);
		sep = "; ";
	}
	return -1;
}
