/* smtp_reply.c — libFuzzer target: whatever a server sends (greeting, EHLO extensions,
 * multi-line and garbled replies, AUTH challenges (also for a response sent after an empty
 * 334), early close), the client must end in a clean error or a
 * completed transaction, never crash, hang or over-read. The same bytes also end the message
 * sent, so the scan and the line-end normalisation of the body see any input too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"
#include "smtp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char msg[] = "From: a@example.org\nTo: b@example.org\n\n.dot\nbody\n";
	struct smtp_opts o;
	struct smtp s;
	struct smtp_scan sc;
	struct smtp_result res;
	struct smtp_rcpt r[2];
	struct smtp_env env;
	struct err e;
	int sv[2], mfd;

	if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
		return 0;
	{
		int big = 1 << 20;

		setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
		setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &big, sizeof big);
		setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
	}
	if (io_write_all(sv[0], data, size) != 0) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	shutdown(sv[0], SHUT_WR);	/* the "server" says everything, then EOF */
	memset(&o, 0, sizeof o);
	o.host = "fuzz.example";
	o.tls = SMTP_TLS_NONE;
	o.helo = "client.example";
	o.timeout = 1;
	/* Half the inputs also run AUTH, chosen by the length: the first octet of a session
	 * that gets anywhere is always '2'. */
	if (size & 1) {
		o.user = "fuzz";
		o.auth_in_clear = 1;
		if (size & 2) {	/* XOAUTH2 with a token too long for the AUTH line */
			static char tok[700];
			static struct secret pw = { tok, sizeof tok - 1, sizeof tok };

			memset(tok, 'T', sizeof tok - 1);
			o.auth = "xoauth2";
			o.pass = &pw;
		}
	}
	if (smtp_open_fd(&s, sv[1], &o, &e) == 0) {
		mfd = io_spool(&e);
		if (mfd >= 0) {
			if (io_write_all(mfd, msg, sizeof msg - 1) == 0 && io_write_all(mfd, data, size) == 0 &&
			    lseek(mfd, 0, SEEK_SET) == 0 &&
			    smtp_scan(mfd, &sc, &e) == 0) {
				memset(r, 0, sizeof r);
				r[0].addr = "b@example.org";
				r[1].addr = "c@example.org";
				memset(&env, 0, sizeof env);
				env.from = "a@example.org";
				env.rcpt = r;
				env.nrcpt = 2;
				env.notify = "SUCCESS";
				(void)smtp_send_all(&s, &env, mfd, &sc, &res, &e);
			}
			close(mfd);
		}
	}
	smtp_close(&s);
	close(sv[0]);
	return 0;
}
