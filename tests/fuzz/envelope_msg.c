/* envelope_msg.c — libFuzzer target for smime-decrypt's message path: the header spooled as it
 * came and read (or, when msg.c refuses it, copied with forged verdict fields removed), the
 * Content-Type classification, the search for an encrypted part inside a multipart (the MIME
 * walker, the CMS content-type peek), the strict base64 body source with its tee, the
 * envelope decoder, and the writer of a decrypted entity (with the outer header: the fields
 * left out of it, envmsg_inner_dup). Never a crash; a failed decryption
 * writes nothing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "ar.h"
#include "envelope.h"
#include "envmsg.h"
#include "io.h"
#include "msg.h"
#include "param.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
null_fd(void)
{
	struct err e;

	return io_spool(&e);
}

/* Decrypt what in holds (n octets), teeing the raw bytes; then write any plaintext out the
 * way smime-decrypt does. */
static void
decrypt(struct io_in *in, enum cte cte, uint64_t n, EVP_PKEY *key, int out,
    const struct msg_header *outer)
{
	struct envmsg_bodysrc bs;
	struct env_info info;
	struct ber_src src;
	struct io_out o;
	struct err e;
	int tee = null_fd(), pfd = -1, bare;

	if (envmsg_bodysrc_init(&bs, in, cte == CTE_BASE64, &e) == 0) {
		bs.tee = tee;
		bs.limit = n;
		src = envmsg_bodysrc_src(&bs);
		if (env_decrypt_spool(&src, key, NULL, &pfd, &info, &e) == 0) {
			if (io_out_init(&o, out, "fuzz", &e) == 0) {
				(void)envmsg_write_decrypted(pfd, 0, "mx.example.org", 0, outer, &o,
				    &bare, &e);
				io_out_free(&o);
			}
			close(pfd);
		} else if (pfd != -1) {
			abort();	/* a failure handed out plaintext */
		}
	}
	envmsg_bodysrc_free(&bs);
	if (tee >= 0)
		close(tee);
}

static void
run(int fd, EVP_PKEY *key)
{
	struct msg_header h;
	struct io_in in, hin, pin;
	struct io_out o;
	struct envmsg_part part;
	struct mime_type t;
	const struct msg_field *ct, *cte;
	struct err e;
	uint64_t hlen;
	int hsp = -1, out = null_fd(), body = -1;
	enum envmsg_kind kind = ENVMSG_PLAIN;

	msg_header_init(&h);
	if (out < 0 || io_in_init(&in, fd, "fuzz", &e) != 0)
		goto done;
	if (envmsg_spool_header(&in, &hsp, &hlen, &e) != 0 || io_in_init(&hin, hsp, "h", &e) != 0)
		goto out;
	if (msg_header_read(&hin, &h, &e) != 0) {
		io_in_free(&hin);
		if (io_out_init(&o, out, "fuzz", &e) == 0) {
			(void)envmsg_header_strip_raw(hsp, hlen, "mx.example.org", &o, &e);
			(void)io_out_finish(&o);
		}
		goto out;
	}
	io_in_free(&hin);
	ar_strip(&h, "mx.example.org");
	if ((ct = msg_header_get(&h, "Content-Type")) != NULL
	    && mime_type_parse(ct->value, 0, &t, &e) == 0) {
		kind = envmsg_kind(&t, &h);
		mime_type_free(&t);
	}
	cte = msg_header_get(&h, "Content-Transfer-Encoding");
	if (kind == ENVMSG_MULTIPART) {
		struct io_out so;
		struct sink s;

		if ((body = null_fd()) < 0 || io_out_init(&so, body, "b", &e) != 0)
			goto out;
		s = io_out_sink(&so);
		if (envmsg_copy_in(&in, &s, &e) != 0 || io_out_finish(&so) != 0)
			goto out;
		if (envmsg_find_enveloped(body, &h, &part, &e) == 1
		    && lseek(body, (off_t)part.body_offset, SEEK_SET) >= 0
		    && io_in_init(&pin, body, "p", &e) == 0) {
			decrypt(&pin, part.cte, part.body_end - part.body_offset, key, out, &h);
			io_in_free(&pin);
		}
	} else if (kind != ENVMSG_PLAIN) {
		decrypt(&in, cte_parse(cte != NULL ? cte->value : NULL), UINT64_MAX, key, out, &h);
	}
out:
	io_in_free(&in);
done:
	if (hsp >= 0)
		close(hsp);
	if (body >= 0)
		close(body);
	if (out >= 0)
		close(out);
	msg_header_free(&h);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static EVP_PKEY *key;
	struct err e;
	int fd;

	if (key == NULL && (key = EVP_RSA_gen(1024)) == NULL)
		abort();
	if ((fd = io_spool(&e)) < 0)
		abort();
	if (io_write_all(fd, data, size) != 0 || lseek(fd, 0, SEEK_SET) != 0)
		abort();
	run(fd, key);
	close(fd);
	return 0;
}
