/* err.h — error values that library functions fill and commands report once. */
#ifndef SECMAIL_ERR_H
#define SECMAIL_ERR_H

#include <sysexits.h>

/*
 * A library call that fails returns -1 (or NULL) and fills a struct err: a sysexits.h code the
 * command can exit with, the errno behind it (0 if none) and a one-line message without the
 * program name. Library code never prints or exits.
 */
struct err {
	int code;		/* EX_* */
	int sys;		/* errno, or 0 */
	char msg[512];
};

#if defined(__GNUC__)
#define ERR_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define ERR_PRINTF(a, b)
#endif

void err_clear(struct err *e);
/* Set the message; returns -1 so callers can `return err_set(...)`. */
int err_set(struct err *e, int code, const char *fmt, ...) ERR_PRINTF(3, 4);
/* As err_set, then ": strerror(errno)"; records errno in e->sys. */
int err_sys(struct err *e, int code, const char *fmt, ...) ERR_PRINTF(3, 4);
/* As err_set, then ": " and the drained OpenSSL error queue. */
int err_ssl(struct err *e, int code, const char *fmt, ...) ERR_PRINTF(3, 4);
/* Prefix an existing message with more context: "ctx: old message". */
int err_wrap(struct err *e, const char *fmt, ...) ERR_PRINTF(2, 3);

#endif
