/* smtpd.c — an SMTP session served on standard input and output (see smtpd.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "io.h"
#include "smtpd.h"

struct sess {
	struct io_in in;
	struct io_out out;
	struct smtpd_msg m;
	int helo, mail;
	smtpd_submit submit;
	void *ctx;
};

static int
say(struct sess *s, const char *line)
{
	if (io_out_puts(&s->out, line) != 0 || io_out_puts(&s->out, "\r\n") != 0)
		return -1;
	return 0;
}

static void
msg_reset(struct smtpd_msg *m)
{
	free(m->from);
	free(m->notify);
	free(m->ret);
	free(m->envid);
	rcptset_free(&m->rcpt);
	if (m->fd >= 0)
		close(m->fd);
	memset(m, 0, sizeof *m);
	m->fd = -1;
}

/* RFC 3461 §4 xtext: "+HH" for octets outside 33..126 and '+', '='. NULL if malformed. */
static char *
xtext_decode(const char *v)
{
	char *out = malloc(strlen(v) + 1), *o = out;

	if (out == NULL)
		return NULL;
	for (; *v; v++) {
		unsigned hi, lo;

		if (*v != '+') {
			*o++ = *v;
			continue;
		}
		if (sscanf(v + 1, "%1x%1x", &hi, &lo) != 2 || hi * 16 + lo < 1) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi * 16 + lo);
		v += 2;
	}
	*o = '\0';
	return out;
}

/*
 * "<path> params": the path without brackets into *path (empty for "<>"), the rest stays in
 * *rest. A path with white space, control characters or a second '<' is refused; a source
 * route ("<@a,@b:x@y>") is dropped, as RFC 5321 §4.1.1.3 allows.
 */
static int
parse_path(char *p, char **path, char **rest)
{
	char *end, *q;

	while (*p == ' ')
		p++;
	if (*p != '<')
		return -1;
	p++;
	if ((end = strchr(p, '>')) == NULL)
		return -1;
	*end = '\0';
	if (*p == '@' && (q = strchr(p, ':')) != NULL)
		p = q + 1;
	for (q = p; *q; q++)
		if ((unsigned char)*q <= ' ' || *q == 0x7f || *q == '<')
			return -1;
	*path = p;
	*rest = end + 1;
	return 0;
}

/* Set *slot once from KEY=VALUE (xtext-decoded when asked). */
static int
param(char **slot, const char *v, int xtext)
{
	if (*slot != NULL)
		return -1;
	*slot = xtext ? xtext_decode(v) : strdup(v);
	return *slot == NULL ? -1 : 0;
}

static int
mail_params(struct sess *s, char *rest)
{
	char *tok, *sp;

	for (tok = strtok_r(rest, " ", &sp); tok; tok = strtok_r(NULL, " ", &sp)) {
		if (strncasecmp(tok, "BODY=", 5) == 0 || strncasecmp(tok, "SIZE=", 5) == 0 ||
		    strcasecmp(tok, "SMTPUTF8") == 0 || strncasecmp(tok, "AUTH=", 5) == 0)
			continue;	/* we scan the message ourselves */
		if (strncasecmp(tok, "RET=", 4) == 0) {
			if ((strcasecmp(tok + 4, "FULL") != 0 && strcasecmp(tok + 4, "HDRS") != 0) ||
			    param(&s->m.ret, tok + 4, 0) != 0)
				return -1;
		} else if (strncasecmp(tok, "ENVID=", 6) == 0) {
			if (param(&s->m.envid, tok + 6, 1) != 0)
				return -1;
		} else {
			return -1;
		}
	}
	return 0;
}

/* RFC 3461 §4.1: NEVER, or a list of SUCCESS, FAILURE, DELAY. */
static int
good_notify(const char *v)
{
	char buf[64], *tok, *sp;

	if (strcasecmp(v, "NEVER") == 0)
		return 1;
	if (snprintf(buf, sizeof buf, "%s", v) >= (int)sizeof buf)
		return 0;
	for (tok = strtok_r(buf, ",", &sp); tok; tok = strtok_r(NULL, ",", &sp))
		if (strcasecmp(tok, "SUCCESS") != 0 && strcasecmp(tok, "FAILURE") != 0 &&
		    strcasecmp(tok, "DELAY") != 0)
			return 0;
	return buf[0] != '\0';
}

static int
rcpt_params(struct sess *s, char *rest)
{
	char *tok, *sp;

	for (tok = strtok_r(rest, " ", &sp); tok; tok = strtok_r(NULL, " ", &sp)) {
		if (strncasecmp(tok, "ORCPT=", 6) == 0)
			continue;
		if (strncasecmp(tok, "NOTIFY=", 7) != 0 || !good_notify(tok + 7))
			return -1;
		/* One NOTIFY for the message: mailsend's envelope has one (--notify). */
		if (s->m.notify == NULL && (s->m.notify = strdup(tok + 7)) == NULL)
			return -1;
	}
	return 0;
}

/* Read the data up to the "." line, dot-unstuffed, into a spool. 1 on a clean end, 0 when
 * the input ended first, -1 on error. */
static int
read_data(struct sess *s, struct err *e)
{
	const unsigned char *p;
	int bol = 1, complete;
	ssize_t n;
	struct io_out o;

	if ((s->m.fd = io_spool(e)) < 0 || io_out_init(&o, s->m.fd, "spool", e) != 0)
		return -1;
	while ((n = io_in_piece(&s->in, &p, &complete)) > 0) {
		size_t k = (size_t)n;
		unsigned char last = p[k - 1];

		if (bol && p[0] == '.') {
			/* A piece holds a whole line when it fits the buffer: the end line does. */
			if ((k == 2 && p[1] == '\n') || (k == 3 && p[1] == '\r' && p[2] == '\n') ||
			    (k == 1 && s->in.eof)) {
				if (io_out_finish(&o) != 0) {
					*e = o.e;
					return -1;
				}
				if (lseek(s->m.fd, 0, SEEK_SET) != 0)
					return err_sys(e, EX_IOERR, "cannot rewind the spool");
				return 1;
			}
			p++;	/* RFC 5321 §4.5.2: the first dot of a line is stuffing */
			k--;
		}
		if (k > 0 && io_out_write(&o, p, k) != 0) {
			*e = o.e;
			io_out_free(&o);
			return -1;
		}
		bol = last == '\n';
		(void)complete;
	}
	io_out_free(&o);
	if (n < 0) {
		*e = s->in.e;
		return -1;
	}
	return 0;
}

static int
command(struct sess *s, char *l, const char *host, int *quit, struct err *e)
{
	char reply[1100], *path, *rest;

	if (strncasecmp(l, "EHLO", 4) == 0 && (l[4] == ' ' || l[4] == '\0')) {
		msg_reset(&s->m);
		s->helo = 1;
		s->mail = 0;
		snprintf(reply, sizeof reply, "250-%s\r\n250-PIPELINING\r\n250-8BITMIME\r\n"
		    "250-SMTPUTF8\r\n250-DSN\r\n250 ENHANCEDSTATUSCODES", host);
		return say(s, reply);
	}
	if (strncasecmp(l, "HELO", 4) == 0 && (l[4] == ' ' || l[4] == '\0')) {
		msg_reset(&s->m);
		s->helo = 1;
		s->mail = 0;
		snprintf(reply, sizeof reply, "250 %s", host);
		return say(s, reply);
	}
	if (strncasecmp(l, "MAIL FROM:", 10) == 0) {
		if (!s->helo)
			return say(s, "503 5.5.1 EHLO or HELO first");
		if (s->mail)
			return say(s, "503 5.5.1 nested MAIL command");
		if (parse_path(l + 10, &path, &rest) != 0)
			return say(s, "501 5.1.7 bad sender address syntax");
		msg_reset(&s->m);
		if ((s->m.from = strdup(path)) == NULL)
			return err_set(e, EX_OSERR, "out of memory");
		if (mail_params(s, rest) != 0) {
			msg_reset(&s->m);
			return say(s, "555 5.5.4 unsupported or bad MAIL parameter");
		}
		s->mail = 1;
		return say(s, "250 2.1.0 Ok");
	}
	if (strncasecmp(l, "RCPT TO:", 8) == 0) {
		struct err re;

		if (!s->mail)
			return say(s, "503 5.5.1 MAIL first");
		if (parse_path(l + 8, &path, &rest) != 0 || path[0] == '\0')
			return say(s, "501 5.1.3 bad recipient address syntax");
		if (rcpt_params(s, rest) != 0)
			return say(s, "555 5.5.4 unsupported or bad RCPT parameter");
		if (rcptset_add(&s->m.rcpt, path, &re) != 0)
			return say(s, re.code == EX_OSERR ? "451 4.3.0 out of memory" :
			    "452 4.5.3 too many recipients");
		return say(s, "250 2.1.5 Ok");
	}
	if (strcasecmp(l, "DATA") == 0) {
		int rc;

		if (!s->mail)
			return say(s, "503 5.5.1 MAIL first");
		if (s->m.rcpt.n == 0)
			return say(s, "554 5.5.1 no valid recipients");
		if (say(s, "354 End data with <CR><LF>.<CR><LF>") != 0 || io_out_flush(&s->out) != 0)
			return -1;
		rc = read_data(s, e);
		if (rc <= 0) {
			msg_reset(&s->m);
			*quit = 1;	/* input ended inside the data: nothing is submitted */
			return rc;
		}
		if (s->submit(s->ctx, &s->m, reply, sizeof reply, e) != 0)
			return -1;
		msg_reset(&s->m);
		s->mail = 0;
		return say(s, reply);
	}
	if (strcasecmp(l, "RSET") == 0) {
		msg_reset(&s->m);
		s->mail = 0;
		return say(s, "250 2.0.0 Ok");
	}
	if (strncasecmp(l, "NOOP", 4) == 0 && (l[4] == ' ' || l[4] == '\0'))
		return say(s, "250 2.0.0 Ok");
	if (strncasecmp(l, "VRFY", 4) == 0 && (l[4] == ' ' || l[4] == '\0'))
		return say(s, "252 2.5.2 cannot verify, but will try to send");	/* §3.5.3 */
	if (strcasecmp(l, "QUIT") == 0) {
		*quit = 1;
		snprintf(reply, sizeof reply, "221 2.0.0 %s closing", host);
		return say(s, reply);
	}
	return say(s, "502 5.5.2 command not recognised");
}

int
smtpd_session(int in, int out, const char *host, smtpd_submit submit, void *ctx,
    struct err *e)
{
	struct sess s;
	char greet[400], l[SMTPD_CMD_MAX + 1];
	int quit = 0, rc = -1;

	memset(&s, 0, sizeof s);
	s.m.fd = -1;
	s.submit = submit;
	s.ctx = ctx;
	if (io_in_init(&s.in, in, "standard input", e) != 0)
		return -1;
	if (io_out_init(&s.out, out, "standard output", e) != 0) {
		io_in_free(&s.in);
		return -1;
	}
	snprintf(greet, sizeof greet, "220 %s ESMTP mailsend", host);
	if (say(&s, greet) != 0)
		goto io;
	while (!quit) {
		const unsigned char *p;
		ssize_t n;
		size_t k;

		/* Replies go out when the client waits for them (RFC 2920: it may pipeline). */
		if (s.in.pos == s.in.len && io_out_flush(&s.out) != 0)
			goto io;
		n = io_in_line(&s.in, SMTPD_CMD_MAX, &p);
		if (n < 0) {
			if (s.in.e.code != EX_DATAERR) {
				*e = s.in.e;
				goto out;
			}
			/* Too long: refuse it and skip the rest of that line. */
			if (say(&s, "500 5.5.2 line too long") != 0)
				goto io;
			for (;;) {
				int complete;

				n = io_in_piece(&s.in, &p, &complete);
				if (n <= 0 || p[n - 1] == '\n')
					break;
			}
			if (n < 0) {
				*e = s.in.e;
				goto out;
			}
			continue;
		}
		if (n == 0)
			break;	/* the client left without QUIT */
		k = (size_t)n;
		while (k > 0 && (p[k - 1] == '\n' || p[k - 1] == '\r'))
			k--;
		if (memchr(p, '\0', k) != NULL) {
			if (say(&s, "500 5.5.2 NUL in command") != 0)
				goto io;
			continue;
		}
		memcpy(l, p, k);
		l[k] = '\0';
		if (command(&s, l, host, &quit, e) != 0)
			goto check;
	}
	rc = 0;
	goto flush;
check:
	if (s.out.failed)
		goto io;
	goto out;
flush:
	if (io_out_flush(&s.out) == 0)
		goto out;
io:
	*e = s.out.e;
	rc = -1;
out:
	msg_reset(&s.m);
	io_out_free(&s.out);
	io_in_free(&s.in);
	return rc;
}
