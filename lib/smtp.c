/* smtp.c — the SMTP submission client: connection, TLS, AUTH, replies and one transaction
 * at a time, every step bounded by a timeout. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "b64.h"
#include "io.h"
#include "sasl.h"
#include "smtp.h"

/* RFC 5321 §4.5.3.2 timeouts, in seconds. */
#define T_CONNECT	300
#define T_GREETING	300	/* §4.5.3.2.1 initial 220 */
#define T_MAIL		300	/* §4.5.3.2.2 */
#define T_RCPT		300	/* §4.5.3.2.3 */
#define T_DATA_INIT	120	/* §4.5.3.2.4 */
#define T_DATA_BLOCK	180	/* §4.5.3.2.5 */
#define T_DATA_END	600	/* §4.5.3.2.6 */
#define T_CMD		300	/* EHLO, STARTTLS, AUTH, RSET, QUIT */

#define REPLY_LINES_MAX	1000
/* RFC 4954 §4: a command line is at most 512 octets with its CRLF, but a SASL response line
 * may be 12288. MAIL and RCPT lines with their parameters (RFC 5321 §4.5.3.1.4 lets
 * extensions lengthen them) are kept under SMTP_CMD_MAX. */
#define SMTP_CMD_LINE	512
#define SMTP_CMD_MAX	2048
#define SMTP_AUTH_LINE	12288

/* No CR, LF or other control octet: nothing that could end an SMTP command early. */
static int
clean_param(const char *p)
{
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static int
tmo(const struct smtp *s, int rfc)
{
	return s->timeout > 0 ? s->timeout : rfc;
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for fd to be ready; 0, or -1 with e set on timeout or error. */
static int
wait_fd(struct smtp *s, short ev, long long deadline, const char *what, struct err *e)
{
	struct pollfd p = { .fd = s->fd, .events = ev };
	long long left;
	int n;

	for (;;) {
		left = deadline - now_ms();
		if (left <= 0) {
			s->broken = 1;
			return err_set(e, EX_TEMPFAIL, "%s: timed out", what);
		}
		n = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR) {
			s->broken = 1;
			return err_sys(e, EX_TEMPFAIL, "%s: poll", what);
		}
	}
}

/* Drain OpenSSL's queue and set a TLS I/O error. */
static int
ssl_io_err(struct smtp *s, int rc, const char *what, struct err *e)
{
	int se = SSL_get_error(s->ssl, rc);

	s->broken = 1;
	if (se == SSL_ERROR_ZERO_RETURN || (se == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 &&
	    errno == 0))
		return err_set(e, EX_TEMPFAIL, "%s: connection closed by server", what);
	if (se == SSL_ERROR_SYSCALL && ERR_peek_error() == 0)
		return err_sys(e, EX_TEMPFAIL, "%s", what);
	return err_ssl(e, EX_TEMPFAIL, "%s: TLS error", what);
}

static int
raw_write(struct smtp *s, const unsigned char *p, size_t n, int t, struct err *e)
{
	long long deadline = now_ms() + (long long)t * 1000;

	while (n > 0) {
		ssize_t w;

		if (s->ssl != NULL) {
			int rc;

			ERR_clear_error();
			errno = 0;
			rc = SSL_write(s->ssl, p, n > 1 << 30 ? 1 << 30 : (int)n);
			if (rc > 0) {
				w = rc;
			} else {
				int se = SSL_get_error(s->ssl, rc);

				if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE) {
					if (wait_fd(s, se == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
					    deadline, "sending to server", e) != 0)
						return -1;
					continue;
				}
				return ssl_io_err(s, rc, "sending to server", e);
			}
		} else {
			w = send(s->fd, p, n, MSG_NOSIGNAL);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				if (errno == EAGAIN || errno == EWOULDBLOCK) {
					if (wait_fd(s, POLLOUT, deadline, "sending to server", e) != 0)
						return -1;
					continue;
				}
				s->broken = 1;
				return err_sys(e, EX_TEMPFAIL, "sending to server");
			}
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
flush_out(struct smtp *s, int t, struct err *e)
{
	int rc = 0;

	if (s->wlen > 0)
		rc = raw_write(s, s->wbuf, s->wlen, t, e);
	OPENSSL_cleanse(s->wbuf, s->wlen);	/* it may have held AUTH data */
	s->wlen = 0;
	return rc;
}

static int
put(struct smtp *s, const void *p, size_t n, int t, struct err *e)
{
	const unsigned char *c = p;

	while (n > 0) {
		size_t k = sizeof s->wbuf - s->wlen;

		if (k == 0) {
			if (flush_out(s, t, e) != 0)
				return -1;
			continue;
		}
		if (k > n)
			k = n;
		memcpy(s->wbuf + s->wlen, c, k);
		s->wlen += k;
		c += k;
		n -= k;
	}
	return 0;
}

/* Queue a line of at most max octets with the CRLF added. */
static int
vline(struct smtp *s, size_t max, struct err *e, const char *fmt, va_list ap) ERR_PRINTF(4, 0);
static int
vline(struct smtp *s, size_t max, struct err *e, const char *fmt, va_list ap)
{
	char line[SMTP_AUTH_LINE + 1];
	int n, rc;

	n = vsnprintf(line, sizeof line, fmt, ap);
	if (n < 0 || (size_t)n + 2 > max) {
		OPENSSL_cleanse(line, sizeof line);	/* it may hold AUTH data */
		return err_set(e, EX_DATAERR, "SMTP command too long");
	}
	memcpy(line + n, "\r\n", 2);
	rc = put(s, line, (size_t)n + 2, tmo(s, T_CMD), e);
	OPENSSL_cleanse(line, (size_t)n + 2);
	return rc;
}

/* Queue a command line (CRLF added). */
static int
cmd(struct smtp *s, struct err *e, const char *fmt, ...) ERR_PRINTF(3, 4);
static int
cmd(struct smtp *s, struct err *e, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vline(s, SMTP_CMD_MAX, e, fmt, ap);
	va_end(ap);
	return rc;
}

/* Queue a SASL response line (RFC 4954 §4: up to 12288 octets). */
static int
sasl_line(struct smtp *s, struct err *e, const char *fmt, ...) ERR_PRINTF(3, 4);
static int
sasl_line(struct smtp *s, struct err *e, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = vline(s, SMTP_AUTH_LINE, e, fmt, ap);
	va_end(ap);
	return rc;
}

/* Fill the read buffer; 0, or -1 on timeout, error or end of stream. */
static int
fill(struct smtp *s, long long deadline, const char *what, struct err *e)
{
	if (s->rpos > 0) {
		memmove(s->rbuf, s->rbuf + s->rpos, s->rlen - s->rpos);
		s->rlen -= s->rpos;
		s->rpos = 0;
	}
	for (;;) {
		size_t room = sizeof s->rbuf - s->rlen;
		ssize_t n;

		if (s->ssl != NULL) {
			int rc;

			ERR_clear_error();
			errno = 0;
			rc = SSL_read(s->ssl, s->rbuf + s->rlen, (int)room);
			if (rc > 0) {
				s->rlen += (size_t)rc;
				return 0;
			}
			{
				int se = SSL_get_error(s->ssl, rc);

				if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE) {
					if (wait_fd(s, se == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
					    deadline, what, e) != 0)
						return -1;
					continue;
				}
			}
			return ssl_io_err(s, rc, what, e);
		}
		n = recv(s->fd, s->rbuf + s->rlen, room, 0);
		if (n > 0) {
			s->rlen += (size_t)n;
			return 0;
		}
		if (n == 0) {
			s->broken = 1;
			return err_set(e, EX_TEMPFAIL, "%s: connection closed by server", what);
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(s, POLLIN, deadline, what, e) != 0)
				return -1;
			continue;
		}
		s->broken = 1;
		return err_sys(e, EX_TEMPFAIL, "%s", what);
	}
}

/* One reply line without CRLF into line (NUL-terminated). */
static int
read_line(struct smtp *s, char *line, size_t cap, long long deadline, const char *what,
    struct err *e)
{
	for (;;) {
		unsigned char *nl = memchr(s->rbuf + s->rpos, '\n', s->rlen - s->rpos);

		if (nl != NULL) {
			size_t n = (size_t)(nl - (s->rbuf + s->rpos));
			size_t k = n;

			if (k > 0 && s->rbuf[s->rpos + k - 1] == '\r')
				k--;
			if (k >= cap) {
				s->broken = 1;
				return err_set(e, EX_PROTOCOL, "%s: reply line too long", what);
			}
			memcpy(line, s->rbuf + s->rpos, k);
			line[k] = '\0';
			s->rpos += n + 1;
			return 0;
		}
		if (s->rlen - s->rpos >= SMTP_LINE_MAX) {
			s->broken = 1;
			return err_set(e, EX_PROTOCOL, "%s: reply line too long (over %d octets)",
			    what, SMTP_LINE_MAX);
		}
		if (fill(s, deadline, what, e) != 0)
			return -1;
	}
}

static void
printable(char *p)
{
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
}

/*
 * Read one reply (RFC 5321 §4.2: "NNN-text" lines then "NNN text"). Sets s->code and
 * s->reply (last line). When ehlo is set, records the extensions of each line.
 */
static int
reply(struct smtp *s, int t, int ehlo, const char *what, struct err *e)
{
	long long deadline = now_ms() + (long long)t * 1000;
	char line[SMTP_LINE_MAX + 1];
	int code = -1, nlines;

	if (flush_out(s, t, e) != 0)
		return -1;
	for (nlines = 0; nlines < REPLY_LINES_MAX; nlines++) {
		int c;

		if (read_line(s, line, sizeof line, deadline, what, e) != 0)
			return -1;
		printable(line);
		if (strlen(line) < 3 || line[0] < '2' || line[0] > '5' || line[1] < '0' ||
		    line[1] > '5' || line[2] < '0' || line[2] > '9' ||
		    (line[3] != '\0' && line[3] != ' ' && line[3] != '-')) {
			s->broken = 1;
			snprintf(s->reply, sizeof s->reply, "%s", line);
			return err_set(e, EX_PROTOCOL, "%s: garbled reply from server: %.80s",
			    what, line);
		}
		c = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
		if (code != -1 && c != code) {
			s->broken = 1;
			return err_set(e, EX_PROTOCOL, "%s: reply codes differ across lines", what);
		}
		code = c;
		if (ehlo && nlines > 0) {
			const char *k = line + 4;

			if (strcasecmp(k, "PIPELINING") == 0)
				s->ext |= SMTP_EXT_PIPELINING;
			else if (strncasecmp(k, "SIZE", 4) == 0 && (k[4] == '\0' || k[4] == ' ')) {
				s->ext |= SMTP_EXT_SIZE;
				s->maxsize = k[4] ? strtoull(k + 5, NULL, 10) : 0;
			} else if (strcasecmp(k, "8BITMIME") == 0)
				s->ext |= SMTP_EXT_8BITMIME;
			else if (strcasecmp(k, "SMTPUTF8") == 0)
				s->ext |= SMTP_EXT_SMTPUTF8;
			else if (strcasecmp(k, "DSN") == 0)
				s->ext |= SMTP_EXT_DSN;
			else if (strcasecmp(k, "STARTTLS") == 0)
				s->ext |= SMTP_EXT_STARTTLS;
			else if (strcasecmp(k, "ENHANCEDSTATUSCODES") == 0)
				s->ext |= SMTP_EXT_ENHANCED;
			else if (strncasecmp(k, "AUTH", 4) == 0 && (k[4] == ' ' || k[4] == '=')) {
				char mechs[SMTP_LINE_MAX], *tok, *sp;

				snprintf(mechs, sizeof mechs, "%s", k + 5);
				for (tok = strtok_r(mechs, " ", &sp); tok; tok = strtok_r(NULL, " ", &sp)) {
					if (strcasecmp(tok, "PLAIN") == 0)
						s->ext |= SMTP_EXT_AUTH_PLAIN;
					else if (strcasecmp(tok, "LOGIN") == 0)
						s->ext |= SMTP_EXT_AUTH_LOGIN;
					else if (strcasecmp(tok, "SCRAM-SHA-256") == 0)
						s->ext |= SMTP_EXT_AUTH_SCRAM;
					else if (strcasecmp(tok, "SCRAM-SHA-256-PLUS") == 0)
						s->ext |= SMTP_EXT_AUTH_SCRAM_PLUS;
					else if (strcasecmp(tok, "EXTERNAL") == 0)
						s->ext |= SMTP_EXT_AUTH_EXTERNAL;
					else if (strcasecmp(tok, "XOAUTH2") == 0)
						s->ext |= SMTP_EXT_AUTH_XOAUTH2;
					else if (strcasecmp(tok, "OAUTHBEARER") == 0)
						s->ext |= SMTP_EXT_AUTH_OAUTHBEARER;
				}
			}
		}
		if (line[3] != '-') {
			s->code = code;
			snprintf(s->reply, sizeof s->reply, "%s", line);
			return 0;
		}
	}
	s->broken = 1;
	return err_set(e, EX_PROTOCOL, "%s: reply of more than %d lines", what, REPLY_LINES_MAX);
}

int
smtp_code_exit(int code)
{
	if (code >= 200 && code < 400)
		return 0;
	if (code >= 400 && code < 500)
		return EX_TEMPFAIL;
	return EX_UNAVAILABLE;
}

/* Set e from an unwanted reply. */
static int
reply_err(struct smtp *s, int code, const char *what, struct err *e)
{
	return err_set(e, code ? code : smtp_code_exit(s->code), "%s: server said: %s", what,
	    s->reply);
}

static int
connect_tcp(struct smtp *s, const char *host, const char *port, struct err *e)
{
	struct addrinfo hints, *res, *ai;
	int rc, saved = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0)
		return err_set(e, rc == EAI_AGAIN ? EX_TEMPFAIL : EX_NOHOST, "%s port %s: %s",
		    host, port, gai_strerror(rc));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		long long deadline = now_ms() + (long long)tmo(s, T_CONNECT) * 1000;
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    ai->ai_protocol);
		socklen_t len = sizeof saved;

		if (fd < 0) {
			saved = errno;
			continue;
		}
		s->fd = fd;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		if (errno == EINPROGRESS) {
			struct err we;

			if (wait_fd(s, POLLOUT, deadline, "connect", &we) == 0 &&
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &saved, &len) == 0 && saved == 0)
				break;
			if (saved == 0)
				saved = ETIMEDOUT;
		} else {
			saved = errno;
		}
		close(fd);
		s->fd = -1;
	}
	freeaddrinfo(res);
	s->broken = 0;
	if (s->fd < 0) {
		errno = saved;
		return err_sys(e, EX_TEMPFAIL, "cannot connect to %s port %s", host, port);
	}
	return 0;
}

static int
is_ip(const char *h)
{
	unsigned char b[16];

	return inet_pton(AF_INET, h, b) == 1 || inet_pton(AF_INET6, h, b) == 1;
}

/* Normalise a hex fingerprint: lower case, no colons; "" if malformed. */
static void
fpr_norm(const char *in, char *out, size_t cap)
{
	size_t n = 0;

	for (; *in && n + 1 < cap; in++) {
		if (*in == ':')
			continue;
		if (!((*in >= '0' && *in <= '9') || (*in >= 'a' && *in <= 'f') ||
		    (*in >= 'A' && *in <= 'F'))) {
			n = 0;
			break;
		}
		out[n++] = (char)(*in | 0x20);
	}
	out[n] = '\0';
}

/*
 * The client certificate (chain) and its key, for servers that log clients in by
 * certificate (AUTH EXTERNAL, or Postfix's permit_tls_clientcerts). The key file must be
 * private like every secret (io_file_private) and not encrypted: there is no one to ask for
 * a passphrase.
 */
static int
client_cert(SSL_CTX *ctx, const struct smtp_opts *o, struct err *e)
{
	const char *kf = o->key_file ? o->key_file : o->cert_file;
	EVP_PKEY *k = NULL;
	BIO *b;
	int fd, rc;

	if (SSL_CTX_use_certificate_chain_file(ctx, o->cert_file) != 1)
		return err_ssl(e, EX_CONFIG, "cannot load the client certificate %s", o->cert_file);
	if ((fd = open(kf, O_RDONLY | O_CLOEXEC)) < 0)
		return err_sys(e, EX_CONFIG, "cannot open the client key %s", kf);
	if (io_file_private(fd, kf, 1, e) != 0) {
		close(fd);
		return -1;
	}
	if ((b = BIO_new_fd(fd, BIO_CLOSE)) == NULL) {
		close(fd);
		return err_ssl(e, EX_SOFTWARE, "BIO");
	}
	k = PEM_read_bio_PrivateKey(b, NULL, NULL, (void *)"");
	BIO_free(b);
	if (k == NULL)
		return err_ssl(e, EX_CONFIG, "cannot read the client key %s (an encrypted key is "
		    "not supported)", kf);
	rc = SSL_CTX_use_PrivateKey(ctx, k);
	EVP_PKEY_free(k);
	if (rc != 1 || SSL_CTX_check_private_key(ctx) != 1)
		return err_ssl(e, EX_CONFIG, "the client key %s does not match %s", kf,
		    o->cert_file);
	return 0;
}

static int
tls_start(struct smtp *s, const struct smtp_opts *o, struct err *e)
{
	SSL_CTX *ctx;
	SSL *ssl;
	long long deadline = now_ms() + (long long)tmo(s, T_CMD) * 1000;
	X509 *cert;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	int rc;

	ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL)
		return err_ssl(e, EX_SOFTWARE, "TLS setup");
	s->ssl_ctx = ctx;
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		return err_ssl(e, EX_SOFTWARE, "TLS setup");
	if (o->fingerprint != NULL) {
		/* Pinning replaces CA and name checks; the pin is compared after the handshake. */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	} else {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (o->trust_file != NULL) {
			if (SSL_CTX_load_verify_locations(ctx, o->trust_file, NULL) != 1)
				return err_ssl(e, EX_CONFIG, "cannot load trust file %s",
				    o->trust_file);
		} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
			return err_ssl(e, EX_CONFIG, "cannot load the system trust store");
		}
	}
	if (o->cert_file != NULL && client_cert(ctx, o, e) != 0)
		return -1;
	ssl = SSL_new(ctx);
	if (ssl == NULL)
		return err_ssl(e, EX_SOFTWARE, "TLS setup");
	s->ssl = ssl;
	if (SSL_set_fd(ssl, s->fd) != 1)
		return err_ssl(e, EX_SOFTWARE, "TLS setup");
	if (o->fingerprint == NULL) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);

		if (is_ip(o->host)) {
			if (X509_VERIFY_PARAM_set1_ip_asc(vp, o->host) != 1)
				return err_ssl(e, EX_SOFTWARE, "TLS setup");
		} else {
			X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			if (SSL_set1_host(ssl, o->host) != 1)
				return err_ssl(e, EX_SOFTWARE, "TLS setup");
		}
	}
	if (!is_ip(o->host) && SSL_set_tlsext_host_name(ssl, o->host) != 1)
		return err_ssl(e, EX_SOFTWARE, "TLS setup");
	for (;;) {
		int se;

		ERR_clear_error();
		errno = 0;
		rc = SSL_connect(ssl);
		if (rc == 1)
			break;
		se = SSL_get_error(ssl, rc);
		if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE) {
			if (wait_fd(s, se == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline,
			    "TLS handshake", e) != 0)
				return -1;
			continue;
		}
		s->broken = 1;
		if (SSL_get_verify_result(ssl) != X509_V_OK) {
			long v = SSL_get_verify_result(ssl);

			ERR_clear_error();
			/* A certificate we cannot trust is a policy refusal: retrying won't help. */
			return err_set(e, EX_PROTOCOL, "TLS: server certificate not trusted: %s",
			    X509_verify_cert_error_string(v));
		}
		return ssl_io_err(s, rc, "TLS handshake", e);
	}
	cert = SSL_get1_peer_certificate(ssl);
	if (cert == NULL) {
		s->broken = 1;
		return err_set(e, EX_PROTOCOL, "TLS: server sent no certificate");
	}
	rc = X509_digest(cert, EVP_sha256(), md, &mdlen);
	X509_free(cert);
	if (rc != 1)
		return err_ssl(e, EX_SOFTWARE, "certificate digest");
	{
		char *p = s->fpr;

		for (i = 0; i < mdlen; i++)
			p += sprintf(p, i ? ":%02X" : "%02X", md[i]);
	}
	snprintf(s->tls_version, sizeof s->tls_version, "%s", SSL_get_version(ssl));
	if (o->fingerprint != NULL) {
		char want[200], got[200];

		fpr_norm(o->fingerprint, want, sizeof want);
		fpr_norm(s->fpr, got, sizeof got);
		if (strlen(want) != 64) {
			s->broken = 1;
			return err_set(e, EX_CONFIG, "TLS fingerprint must be 64 hex digits (SHA-256)");
		}
		if (strcmp(want, got) != 0) {
			s->broken = 1;
			return err_set(e, EX_PROTOCOL,
			    "TLS: server certificate fingerprint %s does not match the pinned one",
			    s->fpr);
		}
	}
	return 0;
}

static int
ehlo(struct smtp *s, const char *name, struct err *e)
{
	s->ext = 0;
	s->maxsize = 0;
	if (cmd(s, e, "EHLO %s", name) != 0 || reply(s, tmo(s, T_CMD), 1, "EHLO", e) != 0)
		return -1;
	if (s->code == 250)
		return 0;
	/* RFC 5321 §3.2: a server that does not know EHLO gets HELO. */
	if (s->code >= 500 && s->code <= 504) {
		if (cmd(s, e, "HELO %s", name) != 0 || reply(s, tmo(s, T_CMD), 0, "HELO", e) != 0)
			return -1;
		if (s->code == 250)
			return 0;
		return reply_err(s, 0, "HELO", e);
	}
	return reply_err(s, 0, "EHLO", e);
}

static int
auth_send_b64(struct smtp *s, const void *p, size_t n, struct err *e)
{
	char *out = malloc(4 * ((n + 2) / 3) + 1);
	int rc;

	if (out == NULL)
		return err_set(e, EX_OSERR, "out of memory");
	out[b64_encode(p, n, out, 0)] = '\0';
	rc = sasl_line(s, e, "%s", out);
	OPENSSL_cleanse(out, strlen(out));
	free(out);
	return rc;
}

/* Read a 334 challenge and base64-decode it into out (NUL-terminated; cap > 3). */
static int
challenge(struct smtp *s, const char *mech, char *out, size_t cap, struct err *e)
{
	const char *b;
	long long n;

	if (reply(s, tmo(s, T_CMD), 0, "AUTH", e) != 0)
		return -1;
	if (s->code != 334)
		return reply_err(s, s->code >= 500 ? EX_NOPERM : EX_TEMPFAIL,
		    "authentication failed", e);
	b = s->reply + (strlen(s->reply) > 4 ? 4 : strlen(s->reply));
	if (strlen(b) / 4 * 3 + 3 >= cap)
		return err_set(e, EX_PROTOCOL, "AUTH %s: challenge too long", mech);
	n = b64_decode(b, strlen(b), (unsigned char *)out, 0);
	if (n < 0)
		return err_set(e, EX_PROTOCOL, "AUTH %s: challenge is not base64", mech);
	out[n] = '\0';
	if (memchr(out, '\0', (size_t)n) != NULL)
		return err_set(e, EX_PROTOCOL, "AUTH %s: NUL in challenge", mech);
	return 0;
}

/*
 * RFC 9266: the tls-exporter channel binding of this connection, when it is safe: TLS 1.3,
 * or TLS 1.2 with the extended master secret (RFC 7627), without which the exporter does
 * not identify the connection. 1 with cb filled, 0 when not available.
 */
static int
tls_exporter(struct smtp *s, unsigned char *cb)
{
	static const char label[] = "EXPORTER-Channel-Binding";
	SSL *ssl = s->ssl;

	if (ssl == NULL)
		return 0;
	if (SSL_version(ssl) < TLS1_3_VERSION && SSL_get_extms_support(ssl) != 1)
		return 0;
	return SSL_export_keying_material(ssl, cb, SASL_CBIND_LEN, label, sizeof label - 1, NULL,
	    0, 0) == 1;
}

/* RFC 5802 with SHA-256 (RFC 7677), and its -PLUS form with tls-exporter (RFC 9266). */
static int
auth_scram(struct smtp *s, const char *user, const char *pw, int plus, struct err *e)
{
	struct sasl_scram x;
	unsigned char cb[SASL_CBIND_LEN];
	char m[1200], srv[1200];
	int rc = -1, bound = plus && tls_exporter(s, cb);

	if (plus && !bound)
		return err_set(e, EX_PROTOCOL, "AUTH SCRAM-SHA-256-PLUS: this TLS connection has no "
		    "usable tls-exporter binding (TLS 1.3, or TLS 1.2 with extended master secret)");
	if (sasl_scram_first(&x, user, NULL, bound ? cb : NULL,
	    (s->ext & SMTP_EXT_AUTH_SCRAM_PLUS) != 0, m, sizeof m, e) != 0)
		return -1;
	if (cmd(s, e, "AUTH %s", x.mech) != 0 || reply(s, tmo(s, T_CMD), 0, "AUTH", e) != 0)
		goto out;
	if (s->code != 334) {
		reply_err(s, s->code >= 500 ? EX_NOPERM : 0, "AUTH SCRAM-SHA-256", e);
		goto out;
	}
	if (auth_send_b64(s, m, strlen(m), e) != 0 || challenge(s, x.mech, srv, sizeof srv, e) != 0)
		goto out;
	if (sasl_scram_final(&x, srv, pw, m, sizeof m, e) != 0) {
		(void)cmd(s, e, "*");	/* RFC 4954 §4: cancel the exchange */
		s->broken = 1;
		goto out;
	}
	if (auth_send_b64(s, m, strlen(m), e) != 0 || reply(s, tmo(s, T_CMD), 0, "AUTH", e) != 0)
		goto out;
	if (s->code == 334) {
		/* RFC 4954 §4: the server-final-message comes as a challenge; verify it before
		 * answering, so a server that does not know the password is not believed. */
		const char *b = s->reply + (strlen(s->reply) > 4 ? 4 : strlen(s->reply));
		long long n;

		if (strlen(b) / 4 * 3 + 3 >= sizeof srv ||
		    (n = b64_decode(b, strlen(b), (unsigned char *)srv, 0)) < 0) {
			err_set(e, EX_PROTOCOL, "AUTH %s: bad server-final-message", x.mech);
			goto out;
		}
		srv[n] = '\0';
		if (sasl_scram_verify(&x, srv, e) != 0) {
			struct err ce;

			(void)cmd(s, &ce, "*");
			s->broken = 1;
			goto out;
		}
		if (cmd(s, e, "%s", "") != 0 || reply(s, tmo(s, T_CMD), 0, "AUTH", e) != 0)
			goto out;
	} else if (s->code == 235) {
		/* RFC 5802 §5: the client authenticates the server by its signature, and SMTP
		 * carries it only as a 334 challenge (RFC 4954 §4: no "additional data with
		 * success"). A 235 straight away comes from a server that never showed it knows
		 * the password: one that would take any proof, in the middle. */
		s->broken = 1;
		err_set(e, EX_PROTOCOL, "AUTH %s: the server accepted without proving it knows "
		    "the password (no server signature)", x.mech);
		goto out;
	}
	if (s->code != 235) {
		reply_err(s, s->code >= 500 ? EX_NOPERM : EX_TEMPFAIL, "authentication failed", e);
		goto out;
	}
	rc = 0;
out:
	sasl_scram_clear(&x);
	OPENSSL_cleanse(m, sizeof m);
	return rc;
}

/*
 * RFC 4954 §4: AUTH with an initial response, unless that would make the line longer than
 * SMTP allows (an OAuth token of Microsoft 365 is thousands of octets): then AUTH alone and
 * the response after the server's empty 334. 0: sent, the reply is to be read; 1: the
 * server answered AUTH with something else, in s->code; -1: error.
 */
static int
auth_start(struct smtp *s, const char *mech, const char *b64, struct err *e)
{
	if (strlen("AUTH ") + strlen(mech) + 1 + strlen(b64) + 2 <= SMTP_CMD_LINE)
		return cmd(s, e, "AUTH %s %s", mech, b64);
	if (cmd(s, e, "AUTH %s", mech) != 0 || reply(s, tmo(s, T_CMD), 0, "AUTH", e) != 0)
		return -1;
	if (s->code != 334)
		return 1;
	return sasl_line(s, e, "%s", b64);
}

/*
 * XOAUTH2 and OAUTHBEARER (RFC 7628): the access token as initial response (RFC 4954 §4).
 * A refusal comes as a 334 challenge carrying the server's JSON error; the client answers
 * it (an empty line for XOAUTH2, ^A for OAUTHBEARER, RFC 7628 §3.2.3) and the final reply
 * is the 535.
 */
static int
auth_oauth(struct smtp *s, const struct smtp_opts *o, const char *token, int bearer,
    struct err *e)
{
	const char *mech = bearer ? "OAUTHBEARER" : "XOAUTH2";
	char port[16], *m;
	size_t len;
	int rc;

	snprintf(port, sizeof port, "%s", o->port ? o->port : o->tls == SMTP_TLS_IMPLICIT ? "465" :
	    "587");
	m = bearer ? sasl_oauthbearer(o->user ? o->user : "", o->host, port, token, &len, e) :
	    sasl_xoauth2(o->user ? o->user : "", token, &len, e);
	if (m == NULL)
		return -1;
	{
		char *b = malloc(4 * ((len + 2) / 3) + 1);

		if (b == NULL) {
			OPENSSL_cleanse(m, len);
			free(m);
			return err_set(e, EX_OSERR, "out of memory");
		}
		b[b64_encode(m, len, b, 0)] = '\0';
		rc = auth_start(s, mech, b, e);
		OPENSSL_cleanse(b, strlen(b));
		free(b);
		OPENSSL_cleanse(m, len);
		free(m);
	}
	if (rc < 0 || (rc == 0 && reply(s, tmo(s, T_CMD), 0, "AUTH", e) != 0))
		return -1;
	if (s->code == 334) {
		char why[SMTP_REPLY_MAX];

		snprintf(why, sizeof why, "%s", s->reply);
		if ((bearer ? cmd(s, e, "AQ==") : cmd(s, e, "%s", "")) != 0 ||
		    reply(s, tmo(s, T_CMD), 0, "AUTH", e) != 0)
			return -1;
		return err_set(e, EX_NOPERM, "AUTH %s: token refused: %s (then %s)", mech, why,
		    s->reply);
	}
	if (s->code == 235)
		return 0;
	return reply_err(s, s->code >= 500 ? EX_NOPERM : EX_TEMPFAIL, "authentication failed", e);
}

/* RFC 4422 appendix A: EXTERNAL, the identity being the TLS client certificate's; "=" is an
 * empty initial response (no authorisation identity asked for). */
static int
auth_external(struct smtp *s, const struct smtp_opts *o, struct err *e)
{
	if (s->ssl == NULL || o->cert_file == NULL)
		return err_set(e, EX_CONFIG, "AUTH EXTERNAL needs TLS and a client certificate "
		    "(tls_cert_file, tls_key_file)");
	if (cmd(s, e, "AUTH EXTERNAL =") != 0 || reply(s, tmo(s, T_CMD), 0, "AUTH", e) != 0)
		return -1;
	if (s->code == 235)
		return 0;
	return reply_err(s, s->code >= 500 ? EX_NOPERM : EX_TEMPFAIL, "AUTH EXTERNAL", e);
}

/* RFC 4616 PLAIN or the LOGIN mechanism. */
static int
auth_password(struct smtp *s, const char *user, const char *pw, int plain, struct err *e)
{
	size_t ul = strlen(user), pl = strlen(pw);

	if (plain) {
		/* RFC 4616 §2: authzid NUL authcid NUL passwd */
		unsigned char *m = malloc(ul + pl + 2);
		int rc;

		if (m == NULL)
			return err_set(e, EX_OSERR, "out of memory");
		m[0] = '\0';
		memcpy(m + 1, user, ul);
		m[1 + ul] = '\0';
		memcpy(m + 2 + ul, pw, pl);
		rc = cmd(s, e, "AUTH PLAIN") != 0 || reply(s, tmo(s, T_CMD), 0, "AUTH", e) != 0;
		if (!rc && s->code != 334) {
			OPENSSL_cleanse(m, ul + pl + 2);
			free(m);
			return reply_err(s, s->code >= 500 ? EX_NOPERM : 0, "AUTH PLAIN", e);
		}
		if (!rc)
			rc = auth_send_b64(s, m, ul + pl + 2, e) != 0;
		OPENSSL_cleanse(m, ul + pl + 2);
		free(m);
		if (rc)
			return -1;
	} else {
		if (cmd(s, e, "AUTH LOGIN") != 0 || reply(s, tmo(s, T_CMD), 0, "AUTH", e) != 0)
			return -1;
		if (s->code != 334)
			return reply_err(s, s->code >= 500 ? EX_NOPERM : 0, "AUTH LOGIN", e);
		if (auth_send_b64(s, user, ul, e) != 0 ||
		    reply(s, tmo(s, T_CMD), 0, "AUTH", e) != 0)
			return -1;
		if (s->code != 334)
			return reply_err(s, s->code >= 500 ? EX_NOPERM : 0, "AUTH LOGIN", e);
		if (auth_send_b64(s, pw, pl, e) != 0)
			return -1;
	}
	if (reply(s, tmo(s, T_CMD), 0, "AUTH", e) != 0)
		return -1;
	if (s->code == 235)
		return 0;
	return reply_err(s, s->code >= 500 ? EX_NOPERM : EX_TEMPFAIL, "authentication failed", e);
}

enum mech { M_NONE, M_SCRAM_PLUS, M_SCRAM, M_PLAIN, M_LOGIN, M_EXTERNAL, M_XOAUTH2, M_OAUTHBEARER };

static const struct {
	const char *name;
	enum mech m;
	int ext;
} mechs[] = {
	{ "scram-sha-256-plus", M_SCRAM_PLUS, SMTP_EXT_AUTH_SCRAM_PLUS },
	{ "scram-sha-256", M_SCRAM, SMTP_EXT_AUTH_SCRAM },
	{ "plain", M_PLAIN, SMTP_EXT_AUTH_PLAIN },
	{ "login", M_LOGIN, SMTP_EXT_AUTH_LOGIN },
	{ "external", M_EXTERNAL, SMTP_EXT_AUTH_EXTERNAL },
	{ "xoauth2", M_XOAUTH2, SMTP_EXT_AUTH_XOAUTH2 },
	{ "oauthbearer", M_OAUTHBEARER, SMTP_EXT_AUTH_OAUTHBEARER },
};

int
smtp_auth_known(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof mechs / sizeof mechs[0]; i++)
		if (strcasecmp(name, mechs[i].name) == 0)
			return 1;
	return 0;
}

/* Which mechanism: the one configured, else the strongest the server offers of those that
 * use a password (SCRAM-SHA-256-PLUS when the connection can be bound, SCRAM-SHA-256, PLAIN,
 * LOGIN), or EXTERNAL when a client certificate and no user are given. */
static enum mech
choose(struct smtp *s, const struct smtp_opts *o, struct err *e)
{
	unsigned char cb[SASL_CBIND_LEN];
	size_t i;

	if (o->auth != NULL) {
		for (i = 0; i < sizeof mechs / sizeof mechs[0]; i++)
			if (strcasecmp(o->auth, mechs[i].name) == 0)
				return mechs[i].m;
		err_set(e, EX_CONFIG, "unknown AUTH mechanism %s (scram-sha-256-plus, scram-sha-256, "
		    "plain, login, external, xoauth2 or oauthbearer)", o->auth);
		return M_NONE;
	}
	if (o->user == NULL)
		return (s->ext & SMTP_EXT_AUTH_EXTERNAL) ? M_EXTERNAL : M_NONE;
	if ((s->ext & SMTP_EXT_AUTH_SCRAM_PLUS) && tls_exporter(s, cb))
		return M_SCRAM_PLUS;
	if (s->ext & SMTP_EXT_AUTH_SCRAM)
		return M_SCRAM;
	if (s->ext & SMTP_EXT_AUTH_PLAIN)
		return M_PLAIN;
	if (s->ext & SMTP_EXT_AUTH_LOGIN)
		return M_LOGIN;
	err_set(e, EX_UNAVAILABLE, "server offers none of AUTH SCRAM-SHA-256-PLUS, SCRAM-SHA-256, "
	    "PLAIN or LOGIN");
	return M_NONE;
}

/* Is AUTH wanted at all: a user, a mechanism, or a client certificate with a server that
 * offers EXTERNAL. */
static int
auth_wanted(const struct smtp *s, const struct smtp_opts *o)
{
	return o->user != NULL || o->auth != NULL ||
	    (o->cert_file != NULL && (s->ext & SMTP_EXT_AUTH_EXTERNAL));
}

/* RFC 4954. */
static int
auth(struct smtp *s, const struct smtp_opts *o, struct err *e)
{
	const char *pw = o->pass != NULL && o->pass->p != NULL ? o->pass->p : "";
	enum mech m;
	size_t i;

	err_clear(e);
	m = choose(s, o, e);
	if (m == M_NONE)
		return e->code ? -1 : 0;
	if (m != M_EXTERNAL && s->ssl == NULL && !o->auth_in_clear)
		return err_set(e, EX_NOPERM,
		    "refusing to send the password without TLS (see --tls and auth_in_clear)");
	for (i = 0; i < sizeof mechs / sizeof mechs[0]; i++)
		if (mechs[i].m == m && o->auth != NULL && !(s->ext & mechs[i].ext))
			return err_set(e, EX_UNAVAILABLE, "server does not offer AUTH %s", o->auth);
	if (m != M_EXTERNAL && o->user == NULL && m != M_XOAUTH2 && m != M_OAUTHBEARER)
		return err_set(e, EX_CONFIG, "AUTH %s needs a user (--user)", o->auth);
	switch (m) {
	case M_SCRAM_PLUS:
	case M_SCRAM:
		return auth_scram(s, o->user, pw, m == M_SCRAM_PLUS, e);
	case M_PLAIN:
	case M_LOGIN:
		return auth_password(s, o->user, pw, m == M_PLAIN, e);
	case M_EXTERNAL:
		return auth_external(s, o, e);
	case M_XOAUTH2:
	case M_OAUTHBEARER:
		return auth_oauth(s, o, pw, m == M_OAUTHBEARER, e);
	default:
		return 0;
	}
}

static int session(struct smtp *s, const struct smtp_opts *o, struct err *e);

int
smtp_open(struct smtp *s, const struct smtp_opts *o, struct err *e)
{
	const char *port = o->port;

	memset(s, 0, sizeof *s);
	s->fd = -1;
	s->timeout = o->timeout;
	snprintf(s->host, sizeof s->host, "%s", o->host);
	if (port == NULL)
		port = o->tls == SMTP_TLS_IMPLICIT ? "465" : "587";
	if (connect_tcp(s, o->host, port, e) != 0)
		return -1;
	return session(s, o, e);
}

int
smtp_open_fd(struct smtp *s, int fd, const struct smtp_opts *o, struct err *e)
{
	int fl;

	memset(s, 0, sizeof *s);
	s->fd = fd;
	s->timeout = o->timeout;
	snprintf(s->host, sizeof s->host, "%s", o->host);
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) != 0)
		return err_sys(e, EX_OSERR, "cannot make the socket non-blocking");
	return session(s, o, e);
}

/* Greeting, EHLO, TLS, AUTH on a connected socket. */
static int
session(struct smtp *s, const struct smtp_opts *o, struct err *e)
{
	char name[256];

	if (o->tls == SMTP_TLS_IMPLICIT && tls_start(s, o, e) != 0)
		return err_wrap(e, "%s", o->host);
	if (reply(s, tmo(s, T_GREETING), 0, "greeting", e) != 0)
		return err_wrap(e, "%s", o->host);
	if (s->code != 220)
		return reply_err(s, 0, "greeting", e), err_wrap(e, "%s", o->host);
	if (o->helo != NULL)
		snprintf(name, sizeof name, "%s", o->helo);
	else if (gethostname(name, sizeof name) != 0 || name[0] == '\0')
		snprintf(name, sizeof name, "localhost");
	name[sizeof name - 1] = '\0';
	if (!clean_param(name) || strchr(name, ' ') != NULL)
		return err_set(e, EX_USAGE, "bad EHLO name");
	if (ehlo(s, name, e) != 0)
		return err_wrap(e, "%s", o->host);
	if (o->tls == SMTP_TLS_STARTTLS) {
		/* RFC 3207 §4: never continue in clear when TLS was asked for. */
		if (!(s->ext & SMTP_EXT_STARTTLS))
			return err_set(e, EX_PROTOCOL,
			    "%s: server does not offer STARTTLS; refusing to send in clear", o->host);
		if (cmd(s, e, "STARTTLS") != 0 || reply(s, tmo(s, T_CMD), 0, "STARTTLS", e) != 0)
			return err_wrap(e, "%s", o->host);
		if (s->code != 220)
			return reply_err(s, EX_PROTOCOL, "STARTTLS refused", e),
			    err_wrap(e, "%s", o->host);
		/* Anything already buffered was sent in clear before TLS: an injection attempt
		 * (CVE-2011-0411 class), never to be read as a reply. */
		if (s->rpos != s->rlen) {
			s->broken = 1;
			return err_set(e, EX_PROTOCOL, "%s: data after the STARTTLS reply", o->host);
		}
		if (tls_start(s, o, e) != 0)
			return err_wrap(e, "%s", o->host);
		/* RFC 3207 §4.2: forget everything learnt before TLS. */
		if (ehlo(s, name, e) != 0)
			return err_wrap(e, "%s", o->host);
	}
	if (auth_wanted(s, o) && auth(s, o, e) != 0)
		return err_wrap(e, "%s", o->host);
	return 0;
}

/*
 * RFC 5321 §2.3.8: on the wire CR and LF appear only together, as the line end. Every bare
 * LF and every bare CR of the message is taken as a line end and sent as CRLF, so that no
 * "<CR>.<CR><LF>" or "<LF>.<LF>" can reach a server that reads it as the end of the data (the
 * 2023 SMTP smuggling attacks): after normalising, the dot it carries is an ordinary line's,
 * and dot-stuffed. smtp_scan and send_body share this reading of line ends.
 */
int
smtp_scan(int fd, struct smtp_scan *sc, struct err *e)
{
	unsigned char buf[65536];
	off_t start = lseek(fd, 0, SEEK_CUR);
	unsigned long long line = 0, lineno = 1;
	int prev_cr = 0;
	ssize_t n;

	memset(sc, 0, sizeof *sc);
	if (start < 0)
		return err_sys(e, EX_IOERR, "cannot seek message");
	while ((n = io_read(fd, buf, sizeof buf)) > 0) {
		ssize_t i;

		for (i = 0; i < n; i++) {
			unsigned char c = buf[i];

			if (c == '\n') {
				if (!prev_cr) {	/* a bare LF: a line end, sent as CRLF */
					sc->size += 2;
					lineno++;
				}
				line = 0;
				prev_cr = 0;
				continue;
			}
			if (c == '\r') {	/* CR, alone or before LF: a line end */
				sc->size += 2;
				lineno++;
				line = 0;
				prev_cr = 1;
				continue;
			}
			prev_cr = 0;
			sc->size++;
			if (c & 0x80)
				sc->eightbit = 1;
			if (c == '\0')
				return err_set(e, EX_DATAERR, "message line %llu: NUL octet", lineno);
			if (++line > 998)	/* RFC 5321 §4.5.3.1.6: 1000 octets with CRLF */
				return err_set(e, EX_DATAERR,
				    "message line %llu is longer than 998 octets", lineno);
		}
	}
	if (n < 0)
		return err_sys(e, EX_IOERR, "cannot read message");
	if (line > 0)
		sc->size += 2;
	if (lseek(fd, start, SEEK_SET) < 0)
		return err_sys(e, EX_IOERR, "cannot seek message");
	return 0;
}

static int
is_ascii(const char *p)
{
	for (; *p; p++)
		if ((unsigned char)*p & 0x80)
			return 0;
	return 1;
}

/* RFC 3461 §4: xtext. */
static void
xtext(char *out, size_t cap, const char *in)
{
	size_t n = 0;

	for (; *in && n + 4 < cap; in++) {
		unsigned char c = (unsigned char)*in;

		if (c < 33 || c > 126 || c == '+' || c == '=')
			n += (size_t)snprintf(out + n, cap - n, "+%02X", c);
		else
			out[n++] = (char)c;
	}
	out[n] = '\0';
}

/* RFC 6533 §3: utf-8-addr-xtext for ORCPT=utf-8;... — UTF-8 passes as is, the ASCII
 * controls, space, '+', '=' and '\\' become \x{HEX}. */
static void
utf8_xtext(char *out, size_t cap, const char *in)
{
	size_t n = 0;

	for (; *in && n + 8 < cap; in++) {
		unsigned char c = (unsigned char)*in;

		if (c < 0x80 && (c < 33 || c > 126 || c == '+' || c == '=' || c == '\\'))
			n += (size_t)snprintf(out + n, cap - n, "\\x{%02X}", c);
		else
			out[n++] = (char)c;
	}
	out[n] = '\0';
}

/* Send one normalised line's bytes (no line end) and count and hash them. */
static int
body_bytes(struct smtp *s, EVP_MD_CTX *md, const unsigned char *p, size_t n, int t,
    struct smtp_result *r, struct err *e)
{
	if (n == 0)
		return 0;
	if (EVP_DigestUpdate(md, p, n) != 1)
		return err_ssl(e, EX_SOFTWARE, "SHA-256");
	r->size += n;
	return put(s, p, n, t, e);
}

/*
 * Send the message body: every line end (CRLF, bare LF or bare CR, see smtp_scan) as CRLF,
 * dot-stuffing (RFC 5321 §4.5.2), then ".". The SHA-256 is of the message as sent, before
 * dot-stuffing.
 */
static int
send_body(struct smtp *s, int fd, struct smtp_result *r, struct err *e)
{
	unsigned char *buf = malloc(IO_BUFSIZE);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hl = 0, i;
	int t = tmo(s, T_DATA_BLOCK), rc = -1, bol = 1, prev_cr = 0;
	ssize_t n;

	if (buf == NULL) {
		EVP_MD_CTX_free(md);
		return err_set(e, EX_OSERR, "out of memory");
	}
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		err_ssl(e, EX_SOFTWARE, "SHA-256");
		goto out;
	}
	while ((n = io_read(fd, buf, IO_BUFSIZE)) > 0) {
		size_t k = 0, run;

		while (k < (size_t)n) {
			unsigned char c = buf[k];

			if (c == '\n' && prev_cr) {	/* the LF of a CRLF already sent */
				prev_cr = 0;
				k++;
				continue;
			}
			prev_cr = 0;
			if (c == '\r' || c == '\n') {
				if (body_bytes(s, md, (const unsigned char *)"\r\n", 2, t, r, e) != 0)
					goto out;
				prev_cr = c == '\r';
				bol = 1;
				k++;
				continue;
			}
			if (bol && c == '.' && put(s, ".", 1, t, e) != 0)
				goto out;
			bol = 0;
			for (run = k; run < (size_t)n && buf[run] != '\r' && buf[run] != '\n'; run++)
				;
			if (body_bytes(s, md, buf + k, run - k, t, r, e) != 0)
				goto out;
			k = run;
		}
	}
	if (n < 0) {
		err_sys(e, EX_IOERR, "cannot read the message");
		s->broken = 1;	/* half a message went out: the connection is unusable */
		goto out;
	}
	if (!bol && body_bytes(s, md, (const unsigned char *)"\r\n", 2, t, r, e) != 0)
		goto out;
	if (put(s, ".\r\n", 3, t, e) != 0 || flush_out(s, t, e) != 0)
		goto out;
	if (EVP_DigestFinal_ex(md, h, &hl) != 1) {
		err_ssl(e, EX_SOFTWARE, "SHA-256");
		goto out;
	}
	for (i = 0; i < hl; i++)
		sprintf(r->sha256 + 2 * i, "%02x", h[i]);
	rc = 0;
out:
	free(buf);
	EVP_MD_CTX_free(md);
	return rc;
}

static void
rset(struct smtp *s)
{
	struct err e;

	if (s->broken)
		return;
	if (cmd(s, &e, "RSET") != 0 || reply(s, tmo(s, T_CMD), 0, "RSET", &e) != 0 ||
	    s->code != 250)
		s->broken = 1;
}

/*
 * RFC 2920 §3.2: a client that pipelines must not fill the network in both directions at
 * once, or the server, blocked writing replies nobody reads, stops reading commands and both
 * wait for ever. RCPT commands go out in groups of PIPE_GROUP; the replies of a group are read
 * before the next is sent.
 */
#define PIPE_GROUP 100

struct pipeline {
	size_t sent, nread;	/* RCPT commands sent, and their replies read */
	int mail_read, mail_ok;
	struct err mail_err;	/* why MAIL was refused */
};

/* Read the outstanding replies: MAIL's (the first time), then the RCPTs sent so far. */
static int
pipe_read(struct smtp *s, const struct smtp_env *env, struct pipeline *pl, struct err *e)
{
	if (!pl->mail_read) {
		if (reply(s, tmo(s, T_MAIL), 0, "MAIL", e) != 0)
			return -1;
		pl->mail_read = 1;
		pl->mail_ok = s->code == 250;
		if (!pl->mail_ok)
			reply_err(s, 0, "MAIL FROM", &pl->mail_err);
	}
	for (; pl->nread < pl->sent; pl->nread++) {
		struct smtp_rcpt *rc = &env->rcpt[pl->nread];

		if (reply(s, tmo(s, T_RCPT), 0, "RCPT", e) != 0)
			return -1;
		rc->code = pl->mail_ok ? s->code : 0;
		snprintf(rc->reply, sizeof rc->reply, "%.255s", s->reply);
	}
	return 0;
}

/* The parameters of RCPT TO for recipient i (RFC 3461 §4.1, §4.2: NOTIFY, ORCPT). */
static void
rcpt_params(const struct smtp_env *env, size_t i, int dsn, int utf8, char *params, size_t cap,
    char *x, size_t xcap)
{
	params[0] = '\0';
	if (!dsn)
		return;
	if (utf8)
		utf8_xtext(x, xcap, env->rcpt[i].addr);
	else
		xtext(x, xcap, env->rcpt[i].addr);
	snprintf(params, cap, "%s%s ORCPT=%s;%s", env->notify ? " NOTIFY=" : "",
	    env->notify ? env->notify : "", utf8 ? "utf-8" : "rfc822", x);
}

int
smtp_send(struct smtp *s, const struct smtp_env *env, int fd, const struct smtp_scan *sc,
    struct smtp_result *r, struct err *e)
{
	char params[1024], x[600];
	size_t i, n = 0, temp = 0;
	int utf8 = !is_ascii(env->from), dsn;
	struct pipeline pl;

	memset(r, 0, sizeof *r);
	memset(&pl, 0, sizeof pl);
	if (s->broken)
		return err_set(e, EX_TEMPFAIL, "%s: connection lost", s->host);
	if (!clean_param(env->from) || strchr(env->from, '<') || strchr(env->from, '>'))
		return err_set(e, EX_DATAERR, "control character or angle bracket in the sender address");
	for (i = 0; i < env->nrcpt; i++)
		if (!clean_param(env->rcpt[i].addr) || env->rcpt[i].addr[0] == '\0' ||
		    strchr(env->rcpt[i].addr, '<') || strchr(env->rcpt[i].addr, '>'))
			return err_set(e, EX_DATAERR,
			    "control character or angle bracket in a recipient address");
	if ((env->notify != NULL && !clean_param(env->notify)) ||
	    (env->ret != NULL && !clean_param(env->ret)))
		return err_set(e, EX_DATAERR, "control character in a DSN parameter");
	for (i = 0; i < env->nrcpt; i++) {
		env->rcpt[i].code = 0;
		env->rcpt[i].reply[0] = '\0';
		if (!is_ascii(env->rcpt[i].addr))
			utf8 = 1;
	}
	/* RFC 1870 §6.1: refuse early what the server says it cannot take. */
	if ((s->ext & SMTP_EXT_SIZE) && s->maxsize > 0 && sc->size > s->maxsize)
		return err_set(e, EX_UNAVAILABLE,
		    "%s: message of %llu octets exceeds the server's limit of %llu", s->host,
		    sc->size, s->maxsize);
	if (sc->eightbit && !(s->ext & SMTP_EXT_8BITMIME))
		return err_set(e, EX_DATAERR,
		    "%s: message has 8-bit content and the server does not offer 8BITMIME", s->host);
	if (utf8 && !(s->ext & SMTP_EXT_SMTPUTF8))
		return err_set(e, EX_UNAVAILABLE,
		    "%s: non-ASCII address and the server does not offer SMTPUTF8", s->host);
	dsn = env->notify != NULL || env->ret != NULL || env->envid != NULL;
	if (dsn && !(s->ext & SMTP_EXT_DSN)) {
		r->dsn_ignored = 1;
		dsn = 0;
	}
	params[0] = '\0';
	if (s->ext & SMTP_EXT_SIZE)
		n += (size_t)snprintf(params + n, sizeof params - n, " SIZE=%llu", sc->size);
	if (sc->eightbit)
		n += (size_t)snprintf(params + n, sizeof params - n, " BODY=8BITMIME");
	if (utf8)
		n += (size_t)snprintf(params + n, sizeof params - n, " SMTPUTF8");
	if (dsn && env->ret != NULL)
		n += (size_t)snprintf(params + n, sizeof params - n, " RET=%s", env->ret);
	if (dsn && env->envid != NULL) {
		xtext(x, sizeof x, env->envid);
		n += (size_t)snprintf(params + n, sizeof params - n, " ENVID=%s", x);
	}
	(void)n;
	if (cmd(s, e, "MAIL FROM:<%s>%s", env->from, params) != 0)
		goto fail;
	if (!(s->ext & SMTP_EXT_PIPELINING)) {
		if (reply(s, tmo(s, T_MAIL), 0, "MAIL", e) != 0)
			goto fail;
		if (s->code != 250) {
			reply_err(s, 0, "MAIL FROM", e);
			rset(s);
			return -1;
		}
	}
	for (i = 0; i < env->nrcpt; i++) {
		if (pl.mail_read && !pl.mail_ok)
			break;		/* MAIL refused: the rest would only get 503 */
		rcpt_params(env, i, dsn, utf8, params, sizeof params, x, sizeof x);
		if (cmd(s, e, "RCPT TO:<%s>%s", env->rcpt[i].addr, params) != 0)
			goto fail;
		if (!(s->ext & SMTP_EXT_PIPELINING)) {
			if (reply(s, tmo(s, T_RCPT), 0, "RCPT", e) != 0)
				goto fail;
			env->rcpt[i].code = s->code;
			snprintf(env->rcpt[i].reply, sizeof env->rcpt[i].reply, "%.255s", s->reply);
		} else if (++pl.sent - pl.nread >= PIPE_GROUP && pipe_read(s, env, &pl, e) != 0) {
			goto fail;
		}
	}
	if (s->ext & SMTP_EXT_PIPELINING) {
		/* RFC 2920 §3.1: DATA may end the group; read all replies in order. */
		if (pl.mail_read && !pl.mail_ok) {
			*e = pl.mail_err;
			if (pipe_read(s, env, &pl, e) != 0)
				goto fail;
			*e = pl.mail_err;
			rset(s);
			return -1;
		}
		if (cmd(s, e, "DATA") != 0 || pipe_read(s, env, &pl, e) != 0)
			goto fail;
		for (i = 0; i < env->nrcpt; i++)
			if (env->rcpt[i].code >= 200 && env->rcpt[i].code < 300)
				r->accepted++;
		{
			struct err de;

			if (reply(s, tmo(s, T_DATA_INIT), 0, "DATA", &de) != 0) {
				*e = de;
				goto fail;
			}
		}
		if (!pl.mail_ok) {
			if (s->code == 354) {	/* must not happen; end the data at once */
				s->broken = 1;
			}
			r->accepted = 0;
			*e = pl.mail_err;
			rset(s);
			return -1;
		}
		if (r->accepted == 0) {
			if (s->code == 354)
				s->broken = 1;
			goto norcpt;
		}
		if (s->code != 354) {
			reply_err(s, 0, "DATA", e);
			r->accepted = 0;	/* RCPT accepted, the message not */
			rset(s);
			return -1;
		}
	} else {
		for (i = 0; i < env->nrcpt; i++)
			if (env->rcpt[i].code >= 200 && env->rcpt[i].code < 300)
				r->accepted++;
		if (r->accepted == 0)
			goto norcpt;
		if (cmd(s, e, "DATA") != 0 || reply(s, tmo(s, T_DATA_INIT), 0, "DATA", e) != 0)
			goto fail;
		if (s->code != 354) {
			reply_err(s, 0, "DATA", e);
			r->accepted = 0;	/* RCPT accepted, the message not */
			rset(s);
			return -1;
		}
	}
	if (send_body(s, fd, r, e) != 0)
		goto fail;
	if (reply(s, tmo(s, T_DATA_END), 0, "end of data", e) != 0)
		goto fail;
	snprintf(r->reply, sizeof r->reply, "%s", s->reply);
	if (s->code != 250) {
		reply_err(s, 0, "message refused", e);
		r->accepted = 0;
		rset(s);
		return -1;
	}
	return 0;
norcpt:
	/* Every recipient refused: say so, permanent if any refusal was. */
	for (i = 0; i < env->nrcpt; i++)
		if (env->rcpt[i].code >= 400 && env->rcpt[i].code < 500)
			temp++;
	{
		char list[400];
		size_t k = 0;

		list[0] = '\0';
		for (i = 0; i < env->nrcpt && k < sizeof list; i++)
			k += (size_t)snprintf(list + k, sizeof list - k, "%s<%s> (%s)", i ? ", " : "",
			    env->rcpt[i].addr, env->rcpt[i].reply);
		err_set(e, temp == env->nrcpt ? EX_TEMPFAIL : EX_NOUSER,
		    "%s: no recipient accepted: %s", s->host, list);
	}
	rset(s);
	return -1;
fail:
	r->accepted = 0;	/* whatever RCPT said, the message did not get through */
	if (!s->broken)
		rset(s);
	return err_wrap(e, "%s", s->host);
}

int
smtp_send_all(struct smtp *s, const struct smtp_env *env, int fd, const struct smtp_scan *sc,
    struct smtp_result *r, struct err *e)
{
	off_t start = lseek(fd, 0, SEEK_CUR);
	struct smtp_rcpt *more = NULL;
	size_t *ix = NULL, i, k;
	int rc = smtp_send(s, env, fd, sc, r, e);

	if (start < 0)
		return rc;
	while (rc == 0 && !s->broken) {
		struct smtp_env next = *env;
		struct smtp_result r2;
		struct err e2;

		for (i = 0, k = 0; i < env->nrcpt; i++)
			k += env->rcpt[i].code == 452;
		if (k == 0)
			break;
		free(more);
		free(ix);
		more = calloc(k, sizeof *more);
		ix = calloc(k, sizeof *ix);
		if (more == NULL || ix == NULL)
			break;		/* they stay 452: queued, as any deferred recipient */
		for (i = 0, k = 0; i < env->nrcpt; i++)
			if (env->rcpt[i].code == 452) {
				more[k].addr = env->rcpt[i].addr;
				ix[k++] = i;
			}
		next.rcpt = more;
		next.nrcpt = k;
		if (lseek(fd, start, SEEK_SET) < 0)
			break;
		if (smtp_send(s, &next, fd, sc, &r2, &e2) == 0) {
			r->accepted += r2.accepted;
		} else {
			/* The transaction failed (DATA refused, the connection lost, the data
			 * refused): none of its recipients has the message, even those whose RCPT
			 * was accepted. They wait, deferred; the refused keep their 5xx. */
			for (i = 0; i < k; i++)
				if (more[i].code < 400) {
					more[i].code = 451;
					snprintf(more[i].reply, sizeof more[i].reply, "451 %.240s", e2.msg);
				}
			r2.accepted = 0;
		}
		for (i = 0; i < k; i++) {
			env->rcpt[ix[i]].code = more[i].code;
			memcpy(env->rcpt[ix[i]].reply, more[i].reply, sizeof more[i].reply);
		}
		if (r2.accepted == 0)
			break;		/* no progress: what is left is deferred */
	}
	free(more);
	free(ix);
	return rc;
}

void
smtp_close(struct smtp *s)
{
	if (s->fd >= 0 && !s->broken) {
		struct err e;

		if (cmd(s, &e, "QUIT") == 0)
			(void)reply(s, s->timeout > 0 ? s->timeout : 10, 0, "QUIT", &e);
	}
	if (s->ssl != NULL) {
		if (!s->broken)
			(void)SSL_shutdown(s->ssl);
		SSL_free(s->ssl);
	}
	if (s->ssl_ctx != NULL)
		SSL_CTX_free(s->ssl_ctx);
	if (s->fd >= 0)
		close(s->fd);
	ERR_clear_error();
	s->ssl = NULL;
	s->ssl_ctx = NULL;
	s->fd = -1;
}

int
smtp_write_receipt(const char *path, const struct smtp *s, const char *srv, const char *from,
    const struct smtp_rcpt *r, size_t n, const struct smtp_result *res, long long now,
    struct err *e)
{
	struct io_atomic a;
	struct io_out o;
	char date[64];
	time_t t = (time_t)now;
	struct tm tm;
	size_t i;

	gmtime_r(&t, &tm);
	strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", &tm);
	if (io_atomic_open(&a, path, 0600, e) != 0)
		return -1;
	if (io_out_init(&o, a.fd, path, e) != 0) {
		io_atomic_abort(&a);
		return -1;
	}
	io_out_puts(&o, "date: ");
	io_out_puts(&o, date);
	io_out_puts(&o, "\nserver: ");
	io_out_puts(&o, srv);
	io_out_puts(&o, "\ntls: ");
	io_out_puts(&o, s->tls_version[0] ? s->tls_version : "none");
	io_out_puts(&o, "\ncertificate-sha256: ");
	io_out_puts(&o, s->fpr[0] ? s->fpr : "none");
	io_out_puts(&o, "\nfrom: <");
	io_out_puts(&o, from);
	io_out_puts(&o, ">\n");
	for (i = 0; i < n; i++) {
		io_out_puts(&o, r[i].code >= 200 && r[i].code < 300 ? "accepted: <" : "refused: <");
		io_out_puts(&o, r[i].addr);
		io_out_puts(&o, "> ");
		io_out_puts(&o, r[i].reply);
		io_out_puts(&o, "\n");
	}
	snprintf(date, sizeof date, "%llu", res->size);
	io_out_puts(&o, "size: ");
	io_out_puts(&o, date);
	io_out_puts(&o, "\nsha256: ");
	io_out_puts(&o, res->sha256);
	io_out_puts(&o, "\nreply: ");
	io_out_puts(&o, res->reply);
	io_out_puts(&o, "\n");
	if (io_out_finish(&o) != 0) {
		*e = o.e;
		io_atomic_abort(&a);
		return -1;
	}
	return io_atomic_commit(&a, e);
}
