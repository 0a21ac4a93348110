/* err.c — filling struct err. OpenSSL's error queue is drained in err_ssl.c, so that tools
 * which do no cryptography (b64) do not load libcrypto. */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
