/* sasl_test — SASL client messages against the published test vectors: RFC 7677 §3
 * (SCRAM-SHA-256), RFC 7628 §4.1 (OAUTHBEARER's form), and the checks on what servers send. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sasl.h"
#include "tap.h"

int
main(void)
{
	struct sasl_scram x;
	struct err e;
	char out[1200];
	unsigned char cb[SASL_CBIND_LEN];
	size_t len;
	char *p;

	/* RFC 7677 §3: user "user", password "pencil". */
	ok(sasl_scram_first(&x, "user", "rOprNGfwEbeRWgbNEkqO", NULL, 0, out, sizeof out, &e) == 0,
	    "client-first");
	is_str(out, "n,,n=user,r=rOprNGfwEbeRWgbNEkqO", "client-first as in RFC 7677");
	ok(sasl_scram_final(&x, "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", "pencil", out, sizeof out, &e) == 0,
	    "client-final");
	is_str(out, "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	    "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "client proof as in RFC 7677");
	ok(sasl_scram_verify(&x, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", &e) == 0,
	    "the server signature of RFC 7677 verifies");
	ok(sasl_scram_verify(&x, "v=6rrjTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", &e) == -1 &&
	    e.code == EX_PROTOCOL, "a changed signature does not");
	ok(sasl_scram_verify(&x, "", &e) == -1 && e.code == EX_PROTOCOL, "nor a missing one");
	ok(sasl_scram_verify(&x, "e=invalid-proof", &e) == -1 && e.code == EX_NOPERM &&
	    strstr(e.msg, "invalid-proof") != NULL, "e= is the server's refusal");

	ok(sasl_scram_first(&x, "user", "abc", NULL, 0, out, sizeof out, &e) == 0 &&
	    sasl_scram_final(&x, "r=abd,s=QUJD,i=4096", "p", out, sizeof out, &e) == -1 &&
	    strstr(e.msg, "does not extend") != NULL, "a server nonce that does not extend ours");
	ok(sasl_scram_first(&x, "user", "abc", NULL, 0, out, sizeof out, &e) == 0 &&
	    sasl_scram_final(&x, "r=abc", "p", out, sizeof out, &e) == -1, "missing s= and i=");
	ok(sasl_scram_first(&x, "user", "abc", NULL, 0, out, sizeof out, &e) == 0 &&
	    sasl_scram_final(&x, "r=abcd,s=QUJD,i=4095", "p", out, sizeof out, &e) == -1 &&
	    strstr(e.msg, "iteration") != NULL, "fewer than 4096 iterations (RFC 7677 §4)");
	ok(sasl_scram_first(&x, "user", "abc", NULL, 0, out, sizeof out, &e) == 0 &&
	    sasl_scram_final(&x, "r=abcd,s=QUJD,i=99999999999", "p", out, sizeof out, &e) == -1,
	    "an iteration count that would make us spin");
	ok(sasl_scram_first(&x, "user", "abc", NULL, 0, out, sizeof out, &e) == 0 &&
	    sasl_scram_final(&x, "m=ext,r=abcd,s=QUJD,i=4096", "p", out, sizeof out, &e) == -1,
	    "a mandatory extension (m=) is refused");

	ok(sasl_scram_first(&x, "a,b=c", NULL, NULL, 0, out, sizeof out, &e) == 0 &&
	    strncmp(out, "n,,n=a=2Cb=3Dc,r=", 17) == 0 && strlen(out) == 17 + 32,
	    "saslname escaping; a random nonce of 24 octets");
	ok(sasl_scram_first(&x, "a\nb", NULL, NULL, 0, out, sizeof out, &e) == -1,
	    "a user name with a line break is refused");

	/* PLUS: the GS2 header and the binding data go into c= (RFC 5802 §7, RFC 9266). */
	memset(cb, 0xab, sizeof cb);
	ok(sasl_scram_first(&x, "user", "abc", cb, 1, out, sizeof out, &e) == 0, "PLUS first");
	is_str(out, "p=tls-exporter,,n=user,r=abc", "the GS2 header names tls-exporter");
	ok(sasl_scram_final(&x, "r=abcd,s=QUJD,i=4096", "p", out, sizeof out, &e) == 0 &&
	    strncmp(out, "c=cD10bHMtZXhwb3J0ZXIsLKurq6urq6urq6urq6urq6urq6urq6urq6urq6urq6ur,r=abcd,",
	    71) == 0, "c= is base64 of 'p=tls-exporter,,' and the 32 octets");
	ok(sasl_scram_first(&x, "user", "abc", NULL, 1, out, sizeof out, &e) == 0 &&
	    strncmp(out, "n,,", 3) == 0, "server offers PLUS but we cannot bind: 'n'");

	p = sasl_xoauth2("someuser@example.com", "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg",
	    &len, &e);
	ok(p != NULL && len == strlen(p) && strcmp(p, "user=someuser@example.com\001auth=Bearer "
	    "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\001\001") == 0, "XOAUTH2 as Google "
	    "documents it");
	free(p);
	p = sasl_oauthbearer("user@example.com", "server.example.com", "143", "vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==",
	    &len, &e);
	ok(p != NULL && strcmp(p, "n,a=user@example.com,\001host=server.example.com\001port=143\001"
	    "auth=Bearer vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==\001\001") == 0,
	    "OAUTHBEARER as RFC 7628 §4.1");
	free(p);
	p = sasl_oauthbearer("a,b", "h", "1", "t", &len, &e);
	ok(p != NULL && strncmp(p, "n,a=a=2Cb,", 10) == 0, "a comma in the user is escaped");
	free(p);
	ok(sasl_xoauth2("u", "tok\001en", &len, &e) == NULL && e.code == EX_CONFIG,
	    "a token with a control character is refused");
	ok(sasl_xoauth2("u", "tok en", &len, &e) == NULL, "a token with a space is refused");
	ok(sasl_oauthbearer("u", "h", "1", "", &len, &e) == NULL, "an empty token is refused");
	return tap_done();
}
