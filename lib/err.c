/* err.c — filling struct err, including OpenSSL's error queue. */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

void
err_clear(struct err *e)
{
	e->code = 0;
	e->sys = 0;
	e->msg[0] = '\0';
}

static void
vset(struct err *e, int code, const char *fmt, va_list ap)
{
	e->code = code;
	e->sys = 0;
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
}

static void
append(struct err *e, const char *s)
{
	size_t n = strlen(e->msg);

	if (n < sizeof e->msg - 1)
		snprintf(e->msg + n, sizeof e->msg - n, "%s", s);
}

int
err_set(struct err *e, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vset(e, code, fmt, ap);
	va_end(ap);
	return -1;
}

int
err_sys(struct err *e, int code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vset(e, code, fmt, ap);
	va_end(ap);
	append(e, ": ");
	append(e, strerror(saved));
	e->sys = saved;
	errno = saved;
	return -1;
}

int
err_ssl(struct err *e, int code, const char *fmt, ...)
{
	char buf[256];
	unsigned long ec;
	const char *sep = ": ";
	va_list ap;

	va_start(ap, fmt);
	vset(e, code, fmt, ap);
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

int
err_wrap(struct err *e, const char *fmt, ...)
{
	char old[sizeof e->msg];
	va_list ap;

	memcpy(old, e->msg, sizeof old);
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	append(e, ": ");
	append(e, old);
	return -1;
}
